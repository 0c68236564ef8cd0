//! What the spec says each operation's answers must hold, read once from the generated operation
//! table (schemas, statuses, links) and its `x-contract` extension, and checked before any
//! request is sent: a spec the runner cannot follow stops the run with a message instead of
//! leaving an operation unchecked.

use std::collections::{BTreeMap, BTreeSet};

use api_description::{Api, Link, Operation, ParameterLocation};
use serde_json::{Map, Value};
use spec_schema::Validator;
use spec_strategies::{Location, ParameterShape, RequestShape, Strategies};

use crate::{expression::Expression, extension::Root, options::ContractError};

/// The spec as the runner uses it.
pub(crate) struct Spec {
    /// The API.
    pub(crate) api: Api,
    /// The operations checked with generated requests (all but a token endpoint), in the
    /// table's order.
    pub(crate) operations: Vec<&'static Operation>,
    /// The OAuth 2.0 token endpoint, if the spec has one.
    pub(crate) token_endpoint: Option<&'static Operation>,
    pub(crate) definitions: Map<String, Value>,
    pub(crate) strategies: Strategies,
    validators: BTreeMap<String, Validator>,
    /// One per operation, in the table's order.
    pub(crate) plans: Vec<Plan>,
    /// The root's `x-contract`: the answers to requests no operation documents.
    pub(crate) root: Root,
}

/// What one operation is checked by.
pub(crate) struct Plan {
    pub(crate) operation: &'static Operation,
    pub(crate) shape: RequestShape,
    /// The documented success status (the first 2xx).
    pub(crate) success_status: u16,
    /// `x-contract.success`: pointer into a success body, and what it must be.
    pub(crate) success: Vec<(String, Expression)>,
    /// `x-contract.page`.
    pub(crate) page: Option<Page>,
    /// `x-contract.order`.
    pub(crate) order: Option<Order>,
    /// `x-contract.filters`.
    pub(crate) filters: Vec<Filter>,
    /// How to make a resource for this operation to act on, when links say it needs one.
    pub(crate) setup: Option<Setup>,
    /// Links of the success response to operations that read back one record.
    pub(crate) reads: Vec<LinkPlan>,
    /// For a `DELETE`: the `GET` of the same path, which must then answer 404.
    pub(crate) read_after_delete: Option<&'static Operation>,
    /// Query parameters' schema defaults.
    pub(crate) defaults: BTreeMap<String, Value>,
    /// Body properties marked `writeOnly`: sent, but not read back.
    pub(crate) write_only: BTreeSet<String>,
    /// Body properties' `format`s, which say how a value read back compares with the one sent.
    pub(crate) formats: BTreeMap<String, String>,
    /// The `format`s of the properties of a list's records (for `x-contract.page`), which say
    /// how their values sort and filter.
    pub(crate) record_formats: BTreeMap<String, String>,
    /// Documented statuses a client can make the server answer.
    pub(crate) reachable: Vec<u16>,
    /// `x-contract.creates`: how many records a success adds.
    pub(crate) creates: Option<Expression>,
    /// `x-contract.last-write`.
    pub(crate) last_write: LastWrite,
    /// Each body property but the write-only ones, with the value it reads back as when it is
    /// left out: its schema's default, null when it is nullable, `None` when the spec says none.
    pub(crate) left_out: BTreeMap<String, Option<Value>>,
    /// The body properties that are plain strings (no format, enum or pattern), with their
    /// `maxLength`.
    pub(crate) plain_strings: BTreeMap<String, Option<u64>>,
    /// The schema of the records of a list (for `x-contract.page`), resolved.
    pub(crate) record: Option<Value>,
    /// The schema of the success body, resolved.
    pub(crate) success_schema: Option<Value>,
}

/// The record properties `x-contract.last-write` names, by JSON pointer.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastWrite {
    /// Who last wrote the record: the caller.
    pub(crate) by: Option<String>,
    /// When: never earlier than the time before.
    pub(crate) at: Option<String>,
}

impl Plan {
    /// The schema default of query parameter `name`.
    pub(crate) fn default(&self, name: &str) -> Option<Value> {
        self.defaults.get(name).cloned()
    }

    /// Whether a success makes a record the client names: an operation that needs no record
    /// made first, whose links lead to a read by what the request sent (an id in its path, say)
    /// rather than by what the answer gave.
    pub(crate) fn client_named(&self) -> bool {
        self.setup.is_none()
            && self.reads.iter().any(|link| {
                link.parameters
                    .iter()
                    .map(|(_, _, expression)| expression)
                    .chain(link.body.iter().map(|(_, expression)| expression))
                    .any(|expression| {
                        matches!(
                            expression,
                            Expression::RequestPath(_)
                                | Expression::RequestQuery(_)
                                | Expression::RequestBody(_)
                        )
                    })
            })
    }

    /// How many records a success of `request` adds (`x-contract.creates`, 1 without it).
    pub(crate) fn count(&self, request: &spec_strategies::Request) -> u64 {
        self.creates
            .as_ref()
            .and_then(|creates| creates.evaluate(request, None, &|name| self.default(name)))
            .and_then(|count| count.as_u64())
            .unwrap_or(1)
    }
}

/// The members of a paging envelope, by JSON pointer.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) records: String,
    pub(crate) number: String,
    pub(crate) size: String,
    pub(crate) total_items: String,
    pub(crate) total_pages: String,
    pub(crate) first_item: String,
    pub(crate) last_item: String,
    pub(crate) has_next: String,
    pub(crate) has_previous: String,
}

/// How a list's records are sorted.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    /// The query parameter naming the property.
    pub(crate) field: String,
    /// The query parameter giving the direction.
    pub(crate) direction: String,
    pub(crate) ascending: Value,
    pub(crate) descending: Value,
    /// Nulls sort first in ascending order (and last in descending order).
    pub(crate) nulls_first: bool,
    /// The property that breaks ties, in the same direction.
    pub(crate) then: String,
}

/// How a filter parameter selects records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Equal,
    From,
    To,
}

/// A query parameter that filters a list on a record property.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) parameter: String,
    pub(crate) property: String,
    pub(crate) matching: Match,
}

/// A link, resolved: what it sets in the target's request.
#[derive(Debug, Clone)]
pub(crate) struct LinkPlan {
    pub(crate) name: String,
    pub(crate) target: &'static Operation,
    /// (location, parameter, value).
    pub(crate) parameters: Vec<(Location, String, Expression)>,
    /// (pointer into the body, value); the pointer `""` sets the whole body.
    pub(crate) body: Vec<(String, Expression)>,
}

/// The operation to call first, and the link that carries its answer into this operation.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) source: &'static Operation,
    pub(crate) link: LinkPlan,
}

/// The statuses of `operation` a client can cause: all but those its `x-contract` marks
/// `reachable: false` (a response whose extension does not parse counts as reachable).
pub(crate) fn reachable(operation: &Operation) -> Vec<u16> {
    operation
        .responses
        .iter()
        .filter(|response| {
            serde_json::from_str::<Value>(response.contract).map_or(true, |contract| {
                contract.get("reachable") != Some(&Value::Bool(false))
            })
        })
        .map(|response| response.status)
        .collect()
}

/// The operations of `api` checked with generated requests: every operation of the spec but an
/// OAuth 2.0 token endpoint, which gets cases of its own.
pub(crate) fn checked_operations(api: &Api) -> Vec<&'static Operation> {
    api.operations
        .iter()
        .copied()
        .filter(|operation| !is_token_endpoint(api, operation))
        .collect()
}

/// Whether `operation` is the token endpoint of one of `api`'s password flows.
pub(crate) fn is_token_endpoint(api: &Api, operation: &Operation) -> bool {
    operation.method == "POST"
        && api
            .security_schemes
            .iter()
            .any(|scheme| scheme.password_token_url == Some(operation.path))
}

/// `api`'s token endpoint, if its spec has one.
pub(crate) fn token_endpoint(api: &Api) -> Option<&'static Operation> {
    api.operations
        .iter()
        .copied()
        .find(|operation| is_token_endpoint(api, operation))
}

fn spec_error(operation: &Operation, message: impl std::fmt::Display) -> ContractError {
    ContractError::Spec(format!("{}: {message}", operation.operation_id))
}

impl Spec {
    pub(crate) fn load(api: &Api) -> Result<Self, ContractError> {
        let operations = checked_operations(api);
        let definitions: Map<String, Value> =
            serde_json::from_str(api.schema_definitions).map_err(ContractError::spec)?;
        let validators = definitions
            .keys()
            .map(|name| {
                Validator::new(definitions.clone(), name)
                    .map(|validator| (name.clone(), validator))
                    .map_err(ContractError::spec)
            })
            .collect::<Result<_, _>>()?;
        let plans = operations
            .iter()
            .map(|operation| plan(operation, &operations, &definitions))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            api: *api,
            token_endpoint: token_endpoint(api),
            operations,
            strategies: Strategies::new(definitions.clone()),
            definitions,
            validators,
            plans,
            root: Root::parse(api.contract)?,
        })
    }

    /// The validator of the component schema `name`.
    pub(crate) fn validator(&self, name: &str) -> Option<&Validator> {
        self.validators.get(name)
    }

    /// The validator of the body documented for `status`.
    pub(crate) fn response_validator(
        &self,
        operation: &Operation,
        status: u16,
    ) -> Option<&Validator> {
        self.validators.get(operation.response(status)?.schema?)
    }

    pub(crate) fn plan(&self, operation: &Operation) -> &Plan {
        self.plans
            .iter()
            .find(|plan| plan.operation.operation_id == operation.operation_id)
            .expect("every operation of the table has a plan")
    }
}

fn plan(
    operation: &'static Operation,
    operations: &[&'static Operation],
    definitions: &Map<String, Value>,
) -> Result<Plan, ContractError> {
    let error = |message: String| spec_error(operation, message);
    let parameters = operation
        .parameters
        .iter()
        .map(|parameter| {
            Ok(ParameterShape {
                name: parameter.name.to_owned(),
                location: location_of(parameter.location),
                required: parameter.required,
                schema: serde_json::from_str(parameter.schema).map_err(ContractError::spec)?,
            })
        })
        .collect::<Result<Vec<_>, ContractError>>()?;
    let defaults = parameters
        .iter()
        .filter(|parameter| parameter.location == Location::Query)
        .filter_map(|parameter| {
            resolve(&parameter.schema, definitions)
                .get("default")
                .map(|default| (parameter.name.clone(), default.clone()))
        })
        .collect();
    let success_status = operation
        .responses
        .iter()
        .map(|response| response.status)
        .find(|status| (200..300).contains(status))
        .ok_or_else(|| error("documents no 2xx response".into()))?;
    let contract: Value = serde_json::from_str(operation.contract).map_err(ContractError::spec)?;
    let known = |key: &str| {
        [
            "success",
            "page",
            "order",
            "filters",
            "creates",
            "last-write",
        ]
        .contains(&key)
    };
    if let Some(unknown) = contract
        .as_object()
        .into_iter()
        .flat_map(Map::keys)
        .find(|key| !known(key))
    {
        return Err(error(format!(
            "x-contract.{unknown} is not part of the extension"
        )));
    }
    let success = contract
        .get("success")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(pointer, value)| {
            let expression = Expression::parse(value).map_err(&error)?;
            check_expression(operation, &expression).map_err(&error)?;
            if !pointer.starts_with('/') {
                return Err(error(format!(
                    "x-contract.success key `{pointer}` is not a JSON pointer"
                )));
            }
            Ok((pointer.clone(), expression))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let page = contract
        .get("page")
        .map(|page| {
            let member = |name: &str| {
                page.get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| error(format!("x-contract.page needs `{name}`")))
            };
            Ok::<_, ContractError>(Page {
                records: member("records")?,
                number: member("number")?,
                size: member("size")?,
                total_items: member("total-items")?,
                total_pages: member("total-pages")?,
                first_item: member("first-item")?,
                last_item: member("last-item")?,
                has_next: member("has-next")?,
                has_previous: member("has-previous")?,
            })
        })
        .transpose()?;
    let creates = contract
        .get("creates")
        .map(|value| {
            let expression = Expression::parse(value).map_err(&error)?;
            check_expression(operation, &expression).map_err(&error)?;
            Ok::<_, ContractError>(expression)
        })
        .transpose()?;
    let last_write = contract
        .get("last-write")
        .map(|last| {
            let pointer = |name: &str| match last.get(name) {
                None => Ok(None),
                Some(Value::String(pointer)) if pointer.starts_with('/') => {
                    Ok(Some(pointer.clone()))
                }
                Some(other) => Err(error(format!(
                    "x-contract.last-write.{name} is {other}, not a JSON pointer"
                ))),
            };
            Ok::<_, ContractError>(LastWrite {
                by: pointer("by")?,
                at: pointer("at")?,
            })
        })
        .transpose()?
        .unwrap_or_default();
    let query_parameter = |name: &str| {
        operation
            .parameter(ParameterLocation::Query, name)
            .map(|_| name.to_owned())
            .ok_or_else(|| {
                error(format!(
                    "x-contract names `{name}`, which is not a query parameter"
                ))
            })
    };
    let order = contract
        .get("order")
        .map(|order| {
            let text = |name: &str| {
                order
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| error(format!("x-contract.order needs `{name}`")))
            };
            if page.is_none() {
                return Err(error("x-contract.order needs x-contract.page".into()));
            }
            Ok(Order {
                field: query_parameter(&text("field")?)?,
                direction: query_parameter(&text("direction")?)?,
                ascending: order.get("ascending").cloned().unwrap_or(Value::Null),
                descending: order.get("descending").cloned().unwrap_or(Value::Null),
                nulls_first: match text("nulls")?.as_str() {
                    "first" => true,
                    "last" => false,
                    other => return Err(error(format!("x-contract.order.nulls `{other}`"))),
                },
                then: text("then")?,
            })
        })
        .transpose()?;
    let filters = contract
        .get("filters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(parameter, filter)| {
            let property = filter
                .get("property")
                .and_then(Value::as_str)
                .ok_or_else(|| error(format!("x-contract.filters.{parameter} needs `property`")))?;
            let matching = match filter.get("match").and_then(Value::as_str) {
                Some("equal") => Match::Equal,
                Some("from") => Match::From,
                Some("to") => Match::To,
                other => {
                    return Err(error(format!(
                        "x-contract.filters.{parameter}: match {} is not equal, from or to",
                        other.map_or("missing", |other| other)
                    )));
                }
            };
            if page.is_none() {
                return Err(error("x-contract.filters needs x-contract.page".into()));
            }
            Ok(Filter {
                parameter: query_parameter(parameter)?,
                property: property.to_owned(),
                matching,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Links into this operation, from operations that need nothing set up themselves.
    let incoming: Vec<(&'static Operation, &'static Link)> = operations
        .iter()
        .flat_map(|source| {
            source
                .responses
                .iter()
                .filter(|response| (200..300).contains(&response.status))
                .flat_map(move |response| response.links.iter().map(move |link| (*source, link)))
        })
        .filter(|(_, link)| link.operation_id == operation.operation_id)
        .collect();
    let is_root = |candidate: &Operation| {
        !operations.iter().any(|other| {
            other
                .responses
                .iter()
                .flat_map(|response| response.links)
                .any(|link| link.operation_id == candidate.operation_id)
        })
    };
    let setup = match incoming.iter().find(|(source, _)| is_root(source)) {
        Some((source, link)) => Some(Setup {
            source,
            link: link_plan(link, operations)?,
        }),
        None if incoming.is_empty() => None,
        None => {
            return Err(error(
                "every link into it comes from an operation that needs a link itself".into(),
            ));
        }
    };
    let reads = operation
        .response(success_status)
        .into_iter()
        .flat_map(|response| response.links)
        .map(|link| link_plan(link, operations))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|link| link.target.method == "GET" && !has_page(link.target))
        .collect();
    let read_after_delete = (operation.method == "DELETE")
        .then(|| {
            operations
                .iter()
                .find(|other| other.method == "GET" && other.path == operation.path)
                .copied()
        })
        .flatten();

    let body_schema = operation
        .request_schema
        .and_then(|name| definitions.get(name))
        .and_then(|schema| schema.get("properties"))
        .and_then(Value::as_object);
    let write_only: BTreeSet<String> = body_schema
        .into_iter()
        .flatten()
        .filter(|(_, schema)| schema.get("writeOnly") == Some(&Value::Bool(true)))
        .map(|(name, _)| name.clone())
        .collect();
    let formats = formats_of(body_schema, definitions);
    let left_out = body_schema
        .into_iter()
        .flatten()
        .filter(|(name, _)| !write_only.contains(name.as_str()))
        .map(|(name, schema)| {
            let schema = resolve(schema, definitions);
            let nullable = match schema.get("type") {
                Some(Value::Array(types)) => types.contains(&Value::from("null")),
                Some(Value::String(ty)) => ty == "null",
                _ => false,
            };
            let value = schema
                .get("default")
                .cloned()
                .or(nullable.then_some(Value::Null));
            (name.clone(), value)
        })
        .collect();
    let plain_strings = body_schema
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name, resolve(schema, definitions)))
        .filter(|(_, schema)| {
            let string = match schema.get("type") {
                Some(Value::Array(types)) => types.contains(&Value::from("string")),
                Some(Value::String(ty)) => ty == "string",
                _ => false,
            };
            string
                && ["format", "enum", "pattern"]
                    .iter()
                    .all(|key| schema.get(key).is_none())
        })
        .map(|(name, schema)| {
            (
                name.clone(),
                schema.get("maxLength").and_then(Value::as_u64),
            )
        })
        .collect();
    let success_schema = operation
        .response(success_status)
        .and_then(|response| definitions.get(response.schema?))
        .cloned();
    // The records of a page: the items of the array at `page.records` in the success schema.
    let record = page.as_ref().and_then(|page| {
        let mut schema = definitions.get(operation.response(success_status)?.schema?)?;
        for segment in page.records.split('/').skip(1) {
            schema = resolve(schema.get("properties")?.get(segment)?, definitions);
        }
        Some(resolve(schema.get("items")?, definitions))
    });
    let record_formats = formats_of(
        record
            .and_then(|record| record.get("properties"))
            .and_then(Value::as_object),
        definitions,
    );
    let record = record.cloned();
    let reachable = reachable(operation);
    Ok(Plan {
        operation,
        shape: RequestShape {
            parameters,
            body: operation.request_schema.map(str::to_owned),
        },
        success_status,
        success,
        page,
        order,
        filters,
        setup,
        reads,
        read_after_delete,
        defaults,
        write_only,
        formats,
        record_formats,
        reachable,
        creates,
        last_write,
        left_out,
        plain_strings,
        record,
        success_schema,
    })
}

/// The `format` of each property that has one.
fn formats_of(
    properties: Option<&Map<String, Value>>,
    definitions: &Map<String, Value>,
) -> BTreeMap<String, String> {
    properties
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            resolve(schema, definitions)
                .get("format")
                .and_then(Value::as_str)
                .map(|format| (name.clone(), format.to_owned()))
        })
        .collect()
}

fn has_page(operation: &Operation) -> bool {
    serde_json::from_str::<Value>(operation.contract)
        .ok()
        .is_some_and(|contract| contract.get("page").is_some())
}

/// `$request.path.X` and `$request.query.X` must name parameters of the operation, and
/// `$request.body` needs a body.
fn check_expression(operation: &Operation, expression: &Expression) -> Result<(), String> {
    let (location, name) = match expression {
        Expression::RequestPath(name) => (ParameterLocation::Path, name),
        Expression::RequestQuery(name) => (ParameterLocation::Query, name),
        Expression::RequestBody(_) if operation.request_schema.is_none() => {
            return Err(format!("{expression}: the operation takes no body"));
        }
        Expression::ResponseBody(_) => {
            return Err(format!(
                "{expression}: an expectation cannot name the response it checks"
            ));
        }
        _ => return Ok(()),
    };
    match operation.parameter(location, name) {
        Some(_) => Ok(()),
        None => Err(format!("{expression}: no such parameter")),
    }
}

fn link_plan(
    link: &'static Link,
    operations: &[&'static Operation],
) -> Result<LinkPlan, ContractError> {
    let target = operations
        .iter()
        .find(|operation| operation.operation_id == link.operation_id)
        .copied()
        .ok_or_else(|| {
            ContractError::Spec(format!(
                "link {}: no operation {}",
                link.name, link.operation_id
            ))
        })?;
    let error = |message: String| spec_error(target, format!("link {}: {message}", link.name));
    let parameters: Map<String, Value> =
        serde_json::from_str(link.parameters).map_err(ContractError::spec)?;
    let parameters = parameters
        .iter()
        .map(|(name, value)| {
            let (location, bare) = if let Some(bare) = name.strip_prefix("path.") {
                (ParameterLocation::Path, bare)
            } else if let Some(bare) = name.strip_prefix("query.") {
                (ParameterLocation::Query, bare)
            } else {
                let parameter = target
                    .parameters
                    .iter()
                    .find(|parameter| parameter.name == name)
                    .ok_or_else(|| error(format!("no parameter `{name}`")))?;
                (parameter.location, name.as_str())
            };
            Ok((
                location_of(location),
                bare.to_owned(),
                Expression::parse(value).map_err(&error)?,
            ))
        })
        .collect::<Result<Vec<_>, ContractError>>()?;
    let body: Value = serde_json::from_str(link.request_body).map_err(ContractError::spec)?;
    let body = match &body {
        Value::Null => Vec::new(),
        Value::Object(members) => members
            .iter()
            .map(|(name, value)| {
                Ok((
                    format!("/{}", name.replace('~', "~0").replace('/', "~1")),
                    Expression::parse(value).map_err(&error)?,
                ))
            })
            .collect::<Result<Vec<_>, ContractError>>()?,
        other => vec![(String::new(), Expression::parse(other).map_err(&error)?)],
    };
    Ok(LinkPlan {
        name: link.name.to_owned(),
        target,
        parameters,
        body,
    })
}

fn location_of(location: ParameterLocation) -> Location {
    match location {
        ParameterLocation::Path => Location::Path,
        ParameterLocation::Query => Location::Query,
    }
}

/// `schema`, or the definition its `$ref` names.
pub(crate) fn resolve<'a>(schema: &'a Value, definitions: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .and_then(|name| definitions.get(name))
        .unwrap_or(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real spec's plans: every operation is planned, and each takes what its extension and
    /// links say.
    #[test]
    fn every_operation_of_the_spec_is_planned() {
        let spec = Spec::load(&nexudus_client::API).unwrap();
        let plan = |id: &str| {
            spec.plans
                .iter()
                .find(|plan| plan.operation.operation_id == id)
                .unwrap()
        };
        assert_eq!(spec.plans.len(), spec.operations.len());
        let create = plan("create_coworker_time_pass");
        assert!(create.setup.is_none());
        assert!(
            !create.client_named(),
            "the server names the records it makes"
        );
        assert!(
            create
                .success
                .contains(&("/Value/Id".into(), Expression::Unique))
        );
        assert!(create.write_only.contains("CreateMultiple"));
        assert_eq!(create.formats["ExpireDate"], "date-time");
        assert_eq!(create.reachable, [200, 400, 401, 409, 413, 415]);
        let read = plan("get_coworker_time_pass");
        let setup = read.setup.as_ref().unwrap();
        assert_eq!(setup.source.operation_id, "create_coworker_time_pass");
        assert_eq!(setup.link.parameters[0].1, "id");
        let update = plan("update_coworker_time_pass");
        assert_eq!(update.setup.as_ref().unwrap().link.body[0].0, "/Id");
        assert_eq!(
            update.reads[0].target.operation_id,
            "get_coworker_time_pass"
        );
        let delete = plan("delete_coworker_time_pass");
        assert_eq!(
            delete.read_after_delete.unwrap().operation_id,
            "get_coworker_time_pass"
        );
        let list = plan("list_coworker_time_passes");
        assert!(list.page.is_some() && list.order.is_some());
        assert_eq!(list.filters.len(), 8);
        assert_eq!(list.default("size"), Some(Value::from(25)));
        assert_eq!(list.default("orderBy"), Some(Value::from("Id")));
        assert_eq!(list.record_formats["ExpireDate"], "date-time");
        assert_eq!(list.record_formats["UniqueId"], "uuid");
    }

    /// A spec the runner cannot follow is refused before anything is sent, with the operation
    /// and what is wrong.
    #[test]
    fn specs_the_runner_cannot_follow_are_refused() {
        const RESPONSES: &[api_description::Response] = &[api_description::Response {
            status: 200,
            schema: None,
            media_types: &[],
            links: &[],
            headers: &[],
            contract: "null",
        }];
        let refused = |contract: &'static str, responses| {
            let operation: &'static Operation = Box::leak(Box::new(Operation {
                operation_id: "op",
                method: "GET",
                path: "/things",
                parameters: &[],
                request_schema: None,
                request_format: api_description::BodyFormat::Json,
                security: &[],
                responses,
                contract,
            }));
            let operations: &'static [&'static Operation] = Box::leak(Box::new([operation]));
            let api = Api {
                operations,
                ..nexudus_client::API
            };
            match Spec::load(&api) {
                Err(ContractError::Spec(message)) => message,
                Err(other) => panic!("{other}"),
                Ok(_) => panic!("{contract} was accepted"),
            }
        };
        assert_eq!(
            refused(r#"{"colour": 1}"#, RESPONSES),
            "op: x-contract.colour is not part of the extension"
        );
        assert_eq!(
            refused(
                r#"{"success": {"/Page": "$request.query.page"}}"#,
                RESPONSES
            ),
            "op: $request.query.page: no such parameter"
        );
        assert_eq!(
            refused(r#"{"success": {"/Id": "$request.body#/Id"}}"#, RESPONSES),
            "op: $request.body#/Id: the operation takes no body"
        );
        assert_eq!(
            refused(r#"{"success": {"Id": 1}}"#, RESPONSES),
            "op: x-contract.success key `Id` is not a JSON pointer"
        );
        assert_eq!(
            refused(r#"{"order": {"field": "by"}}"#, RESPONSES),
            "op: x-contract.order needs x-contract.page"
        );
        assert_eq!(refused("null", &[]), "op: documents no 2xx response");

        // An operation whose every way in needs a record made first, by an operation that itself
        // needs one: no set-up can start.
        const LINK_TO_SELF: &[api_description::Response] = &[api_description::Response {
            status: 200,
            schema: None,
            media_types: &[],
            links: &[api_description::Link {
                name: "Again",
                operation_id: "op",
                parameters: "{}",
                request_body: "null",
            }],
            headers: &[],
            contract: "null",
        }];
        assert_eq!(
            refused("null", LINK_TO_SELF),
            "op: every link into it comes from an operation that needs a link itself"
        );
    }
}
