//! Checks across requests, from the spec's links and HTTP's semantics: the record an operation
//! acts on is made first by the operation a link comes from; after a success, links to a read
//! are followed and the record must hold what was sent; after a `DELETE`, the record is gone.

use std::sync::atomic::{AtomicU64, Ordering};

use api_description::{Operation, ParameterLocation};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};

use crate::{
    expression::Expression,
    plan::{self, LinkPlan, Plan},
};

/// Whether `operation` gets a case for an id that does not exist: links into it say it acts on
/// an existing record, and it documents 404.
pub(crate) fn has_not_found_case(operation: &Operation, operations: &[&Operation]) -> bool {
    let linked = operations
        .iter()
        .flat_map(|source| source.responses)
        .flat_map(|response| response.links)
        .any(|link| link.operation_id == operation.operation_id);
    linked && operation.response(404).is_some()
}

/// `request` with what `link` sets, evaluated against the source's request and response body.
pub(crate) fn apply(
    link: &LinkPlan,
    mut request: Request,
    source_request: &Request,
    source_response: Option<&Value>,
    default: &dyn Fn(&str) -> Option<Value>,
) -> Result<Request, String> {
    let evaluate = |expression: &Expression| {
        expression
            .evaluate(source_request, source_response, default)
            .ok_or_else(|| format!("link {}: {expression} has no value", link.name))
    };
    for (location, name, expression) in &link.parameters {
        let value = evaluate(expression)?;
        request.at_mut(*location).insert(name.clone(), value);
    }
    for (pointer, expression) in &link.body {
        let value = evaluate(expression)?;
        set(&mut request.body, pointer, value);
    }
    Ok(request)
}

/// Sets the value at a top-level `pointer` (`""` for the whole body).
fn set(body: &mut Option<Value>, pointer: &str, value: Value) {
    if pointer.is_empty() {
        *body = Some(value);
        return;
    }
    let name = pointer
        .trim_start_matches('/')
        .replace("~1", "/")
        .replace("~0", "~");
    match body {
        Some(Value::Object(members)) => {
            members.insert(name, value);
        }
        _ => {
            let mut members = Map::new();
            members.insert(name, value);
            *body = Some(Value::Object(members));
        }
    }
}

/// `request` with every value the set-up link sets replaced by one no record has: the schema's
/// maximum for an integer (where ids count up from 1), the nil uuid for a uuid.
pub(crate) fn absent(
    plan: &Plan,
    mut request: Request,
    definitions: &Map<String, Value>,
    nth: u64,
) -> Result<Request, String> {
    let setup = plan
        .setup
        .as_ref()
        .ok_or("no link says which values name a record")?;
    for (location, name, _) in &setup.link.parameters {
        let parameter = plan
            .operation
            .parameter(crate::plan::parameter_location(*location), name)
            .ok_or_else(|| format!("no parameter {name}"))?;
        let schema: Value = serde_json::from_str(parameter.schema).map_err(|e| e.to_string())?;
        let value = absent_value(&schema, definitions, nth)
            .ok_or_else(|| format!("cannot choose a {name} that names no record"))?;
        request.at_mut(*location).insert(name.clone(), value);
    }
    for (pointer, _) in &setup.link.body {
        let schema = plan
            .operation
            .request_schema
            .and_then(|name| definitions.get(name))
            .and_then(|schema| schema.get("properties"))
            .and_then(|properties| properties.get(pointer.trim_start_matches('/')))
            .ok_or_else(|| format!("the body has no property at {pointer}"))?;
        let value = absent_value(schema, definitions, nth)
            .ok_or_else(|| format!("cannot choose a {pointer} that names no record"))?;
        set(&mut request.body, pointer, value);
    }
    Ok(request)
}

/// An invalid request with the values that name a record replaced by ones no record has, when
/// no violation is in them (nor in the body as a whole); `None` otherwise.
pub(crate) fn unlabelled_absent(
    plan: &Plan,
    case: &InvalidRequest,
    definitions: &Map<String, Value>,
    nth: u64,
) -> Option<Request> {
    if plan.setup.is_none() || violates_link(plan, case) {
        return None;
    }
    absent(plan, case.request.clone(), definitions, nth).ok()
}

/// Whether one of an invalid request's violations is in a value that the link into `plan` sets
/// (a parameter or a body property: the identifier of the record it acts on), or in the body as a
/// whole.
pub(crate) fn violates_link(plan: &Plan, case: &InvalidRequest) -> bool {
    plan.setup.as_ref().is_some_and(|setup| {
        setup
            .link
            .parameters
            .iter()
            .map(|(_, name, _)| name.as_str())
            .chain(
                setup
                    .link
                    .body
                    .iter()
                    .map(|(pointer, _)| pointer.trim_start_matches('/')),
            )
            .any(|name| violates(case, name))
    })
}

/// Whether one of an invalid request's violations is in `name` (a parameter, or a top-level
/// body property and what it holds), or in the body as a whole.
pub(crate) fn violates(case: &InvalidRequest, name: &str) -> bool {
    case.violations.iter().any(|violation| {
        violation
            .property
            .as_deref()
            .is_none_or(|property| property == name || property.starts_with(&format!("{name}.")))
    })
}

/// The `nth` value of `schema` meant to name no record: counting down from the schema's maximum
/// for an integer (ids count up from 1), from the nil uuid for a uuid.
fn absent_value(schema: &Value, definitions: &Map<String, Value>, nth: u64) -> Option<Value> {
    let schema = plan::resolve(schema, definitions);
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(ty)) => vec![ty],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"integer") {
        let maximum = schema
            .get("maximum")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        return Some(Value::from(maximum.checked_sub(i64::try_from(nth).ok()?)?));
    }
    if types.contains(&"string") && schema.get("format") == Some(&Value::from("uuid")) {
        return Some(Value::from(
            uuid::Uuid::from_u128(u128::from(nth)).to_string(),
        ));
    }
    None
}

/// Values for ids a client chooses: each one no other case of the run uses, so that cases in
/// flight at once each make a record of their own where the API lets the client name it.
pub(crate) struct Fresh {
    /// Where this run's values start (from the clock: another run starts elsewhere).
    base: u64,
    taken: AtomicU64,
}

impl Fresh {
    pub(crate) fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Self {
            base: nanos.rotate_left(17) ^ u64::from(std::process::id()),
            taken: AtomicU64::new(0),
        }
    }

    /// A value of `schema` no other call gave: an integer in the schema's range, a uuid; `None`
    /// for a schema of another kind.
    fn value(&self, schema: &Value, definitions: &Map<String, Value>) -> Option<Value> {
        let schema = plan::resolve(schema, definitions);
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(ty)) => vec![ty],
            Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let n = self.taken.fetch_add(1, Ordering::Relaxed);
        if types.contains(&"integer") {
            let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            let maximum = schema
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX);
            // One less than the maximum: the maximum is the id no record has (see [`absent`]).
            let span = u64::try_from(maximum.checked_sub(minimum)?).ok()?.max(1);
            let offset = self.base.wrapping_add(n) % span;
            return Some(Value::from(
                minimum.checked_add(i64::try_from(offset).ok()?)?,
            ));
        }
        if types.contains(&"string") && schema.get("format") == Some(&Value::from("uuid")) {
            return Some(Value::from(uuid::Uuid::new_v4().to_string()));
        }
        None
    }

    /// `source_request` with a fresh value for each of its parameters `link` carries into the
    /// next request (`$request.path.NAME`, `$request.query.NAME`): the record the source makes
    /// is then named by a value no other case uses.
    pub(crate) fn apply(
        &self,
        link: &LinkPlan,
        source: &Plan,
        source_request: &mut Request,
        definitions: &Map<String, Value>,
    ) {
        for (_, _, expression) in &link.parameters {
            let (location, name) = match expression {
                Expression::RequestPath(name) => (ParameterLocation::Path, name),
                Expression::RequestQuery(name) => (ParameterLocation::Query, name),
                Expression::RequestHeader(name) => (ParameterLocation::Header, name),
                _ => continue,
            };
            let Some(parameter) = source.operation.parameter(location, name) else {
                continue;
            };
            let Ok(schema) = serde_json::from_str::<Value>(parameter.schema) else {
                continue;
            };
            if let Some(value) = self.value(&schema, definitions) {
                source_request
                    .at_mut(crate::plan::location_of(location))
                    .insert(name.clone(), value);
            }
        }
    }
}

/// The request for a read that `link` leads to from a success.
pub(crate) fn read_request(
    link: &LinkPlan,
    sent: &Request,
    answer: Option<&Value>,
    default: &dyn Fn(&str) -> Option<Value>,
) -> Result<Request, String> {
    apply(link, Request::default(), sent, answer, default)
}

/// The request for the same path as `sent`: what a read after a delete sends.
pub(crate) fn same_path(sent: &Request) -> Request {
    Request {
        path: sent.path.clone(),
        ..Request::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::Spec;

    #[test]
    fn links_set_parameters_and_body_members() {
        let spec = Spec::load(&nexudus_client::API).unwrap();
        let plan = |id: &str| spec.plan_of(id);
        let created = json!({"Value": {"Id": 42}});
        let source = Request::default();
        let none = |_: &str| None;
        let update = plan("update_coworker_time_pass");
        let request = Request {
            body: Some(json!({"Id": 1, "CoworkerId": 5})),
            ..Request::default()
        };
        let linked = apply(
            &update.setup.as_ref().unwrap().link,
            request.clone(),
            &source,
            Some(&created),
            &none,
        )
        .unwrap();
        assert_eq!(linked.body, Some(json!({"Id": 42, "CoworkerId": 5})));
        let read = plan("get_coworker_time_pass");
        let linked = apply(
            &read.setup.as_ref().unwrap().link,
            Request::default(),
            &source,
            Some(&created),
            &none,
        )
        .unwrap();
        assert_eq!(linked.path["id"], 42);
        assert!(
            apply(
                &read.setup.as_ref().unwrap().link,
                Request::default(),
                &source,
                None,
                &none
            )
            .is_err()
        );

        let absent = absent(update, request, &spec.definitions, 0).unwrap();
        assert_eq!(absent.body.unwrap()["Id"], json!(9007199254740991i64));
        assert!(has_not_found_case(
            read.operation,
            nexudus_client::API.operations
        ));
        assert!(!has_not_found_case(
            plan("list_coworker_time_passes").operation,
            nexudus_client::API.operations
        ));
    }
}
