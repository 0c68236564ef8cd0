//! What the spec says each operation's answers must hold, read once from the generated operation
//! table (schemas, statuses, links) and its `x-contract` extension, and checked before any
//! request is sent: a spec the runner cannot follow stops the run with a message instead of
//! leaving an operation unchecked.

mod links;
mod promises;
mod schemas;

use std::collections::{BTreeMap, BTreeSet};

use api_description::{Api, Operation, ParameterLocation};
use serde_json::{Map, Value};
use spec_schema::Validator;
use spec_strategies::{Location, ParameterShape, RequestShape, Strategies};

use crate::{
    expression::Expression,
    extension::{self, OnResponse, Root},
    options::ContractError,
};

pub(crate) use crate::extension::{LastWrite, Match, Page};
pub(crate) use schemas::resolve;

/// The spec as the runner uses it.
pub(crate) struct Spec {
    /// The API.
    pub(crate) api: Api,
    /// The operations checked with generated requests (all but a token endpoint), in the
    /// table's order.
    pub(crate) operations: Vec<&'static Operation>,
    /// The OAuth 2.0 token endpoint, if the spec has one.
    pub(crate) token_endpoint: Option<&'static Operation>,
    /// The token endpoint's header parameter naming the client a grant is for
    /// (`x-contract.client-header`).
    pub(crate) client_header: Option<String>,
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
    /// Query and header parameters' schema defaults.
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
                                | Expression::RequestHeader(_)
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
            extension::parse::<OnResponse>(response.contract)
                .map_or(true, |contract| contract.reachable)
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

/// What `operation` can be called with besides a token: Basic credentials (an HTTP `basic`
/// scheme among its requirements), and whether a call needs no record made first (a `GET`
/// whose links need no set-up), so that the target's credentials can be tried on it.
pub(crate) fn basic_cases(api: &Api, plan: &Plan) -> (bool, bool) {
    let accepts = plan.operation.security.iter().any(|requirement| {
        requirement.kind(api.security_schemes) == api_description::SchemeKind::Basic
    });
    (
        accepts,
        accepts && plan.operation.method == "GET" && plan.setup.is_none(),
    )
}

/// The header parameter that `endpoint`'s `x-contract.client-header` names, checked to be one.
fn client_header(endpoint: &Operation) -> Result<Option<String>, ContractError> {
    let written: extension::OnOperation =
        extension::parse(endpoint.contract).map_err(|error| spec_error(endpoint, error))?;
    let Some(name) = written.client_header else {
        return Ok(None);
    };
    if endpoint
        .parameter(ParameterLocation::Header, &name)
        .is_none()
    {
        return Err(spec_error(
            endpoint,
            format!("x-contract.client-header names `{name}`, which is not a header parameter"),
        ));
    }
    Ok(Some(name))
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
        let token_endpoint = token_endpoint(api);
        Ok(Self {
            api: *api,
            token_endpoint,
            client_header: token_endpoint.map(client_header).transpose()?.flatten(),
            operations,
            strategies: Strategies::new(definitions.clone()),
            definitions,
            validators,
            plans,
            root: extension::parse::<Root>(api.contract).map_err(ContractError::Spec)?,
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

    /// The plan of the operation with `operation_id` (for tests, which name operations).
    #[cfg(test)]
    pub(crate) fn plan_of(&self, operation_id: &str) -> &Plan {
        self.plans
            .iter()
            .find(|plan| plan.operation.operation_id == operation_id)
            .expect("the spec has the operation")
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
        .filter(|parameter| parameter.location != Location::Path)
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
        .ok_or_else(|| spec_error(operation, "documents no 2xx response"))?;
    let promises =
        promises::Promises::of(operation).map_err(|message| spec_error(operation, message))?;
    let links = links::Links::of(operation, operations, success_status)?;
    let body = schemas::Body::of(operation, definitions);
    let success_schema = operation
        .response(success_status)
        .and_then(|response| definitions.get(response.schema?))
        .cloned();
    let record = promises
        .page
        .as_ref()
        .and_then(|page| schemas::record(operation, success_status, page, definitions));
    let record_formats = schemas::formats_of(
        record
            .and_then(|record| record.get("properties"))
            .and_then(Value::as_object),
        definitions,
    );
    Ok(Plan {
        operation,
        shape: RequestShape {
            parameters,
            body: operation.request_schema.map(str::to_owned),
        },
        success_status,
        success: promises.success,
        page: promises.page,
        order: promises.order,
        filters: promises.filters,
        setup: links.setup,
        reads: links.reads,
        read_after_delete: links.read_after_delete,
        defaults,
        write_only: body.write_only,
        formats: body.formats,
        record_formats,
        reachable: reachable(operation),
        creates: promises.creates,
        last_write: promises.last_write,
        left_out: body.left_out,
        plain_strings: body.plain_strings,
        record: record.cloned(),
        success_schema,
    })
}

/// Where the strategies put a parameter the description places at `location`.
pub(crate) fn location_of(location: ParameterLocation) -> Location {
    match location {
        ParameterLocation::Path => Location::Path,
        ParameterLocation::Query => Location::Query,
        ParameterLocation::Header => Location::Header,
    }
}

/// Where the description places a parameter the strategies put at `location`.
pub(crate) fn parameter_location(location: Location) -> ParameterLocation {
    match location {
        Location::Path => ParameterLocation::Path,
        Location::Query => ParameterLocation::Query,
        Location::Header => ParameterLocation::Header,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real spec's plans: every operation is planned, and each takes what its extension and
    /// links say.
    #[test]
    fn every_operation_of_the_spec_is_planned() {
        let spec = Spec::load(&nexudus_client::API).unwrap();
        let plan = |id: &str| spec.plan_of(id);
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
            "op: x-contract.colour: unknown field `colour`, expected one of `success`, `page`, \
             `order`, `filters`, `creates`, `last-write`, `client-header`"
        );
        assert_eq!(
            refused(
                r#"{"success": {"/Page": "$request.query.page"}}"#,
                RESPONSES
            ),
            "op: $request.query.page: no such parameter"
        );
        assert_eq!(
            refused(
                r#"{"success": {"/Trace": "$request.header.X-Trace"}}"#,
                RESPONSES
            ),
            "op: $request.header.X-Trace: no such parameter"
        );
        assert_eq!(
            refused(r#"{"client-header": "client_id"}"#, RESPONSES),
            "op: x-contract.client-header: only a token endpoint's grants are for a client"
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
            "op: x-contract.order: missing field `direction`"
        );
        assert_eq!(
            refused(
                r#"{"order": {"field": "by", "direction": "dir", "nulls": "last", "then": "Id"}}"#,
                RESPONSES
            ),
            "op: x-contract.order needs x-contract.page"
        );
        assert_eq!(
            refused(r#"{"last-write": {"by": "UpdatedBy"}}"#, RESPONSES),
            "op: x-contract.last-write.by is \"UpdatedBy\", not a JSON pointer"
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
