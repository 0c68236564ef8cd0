//! The search for a witness: values drawn with the project's strategies from the version whose
//! values are at stake, judged by both versions, the first that proves the break shrunk as
//! proptest shrinks a failing case.

use proptest::{
    strategy::{BoxedStrategy, Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use spec_strategies::{Location, ParameterShape, RequestShape, Strategies};

use crate::{
    diff::{Difference, Draw, Plan},
    document::{Version, reachable},
    findings::{Evidence, Place, Rejection, RequestWitness, ResponseWitness, Witness},
};

/// Draws per finding: the strategies lean on boundaries (each bound, absent and present
/// optionals, null), so a break that a value can show is shown within a few dozen.
const DRAWS: usize = 256;
/// Simplification steps for a witness found.
const SHRINK_STEPS: usize = 512;
/// The name the schema being drawn from takes among its definitions.
const DRAWN: &str = "$drawn";

pub(crate) fn search(
    released: &Version,
    current: &Version,
    plan: &Plan,
    difference: &Difference,
) -> Evidence {
    let seed = seed(difference.rule, &difference.pointer);
    let unlisted = unlisted_at(difference.rule, &plan.place);
    let unlisted = unlisted.as_deref();
    let outcome = match &plan.draw {
        Draw::Request {
            credentials,
            content_type,
            no_body,
        } => request_strategy(released, plan, content_type.as_deref()).map(
            |(strategy, content_type)| {
                let credentials = credentials.clone().unwrap_or_else(|| {
                    released
                        .operation(&plan.method, &plan.path)
                        .and_then(|operation| operation.security.into_iter().next())
                        .unwrap_or_default()
                });
                let build = |request: spec_strategies::Request| {
                    let mut request = RequestWitness {
                        method: plan.method.clone(),
                        path: plan.path.clone(),
                        credentials: credentials.clone(),
                        content_type: content_type.clone(),
                        request,
                    };
                    if *no_body {
                        request.request.body = None;
                        request.content_type = None;
                    }
                    if let (Some(path), Some(body)) = (unlisted, request.request.body.as_mut()) {
                        add_unlisted(body, path);
                    }
                    if request.request.body.is_none() {
                        request.content_type = None;
                    }
                    Witness::Request(request)
                };
                find(strategy, seed, |drawn| {
                    judge(released, current, plan, build(drawn))
                })
            },
        ),
        Draw::Response {
            status,
            content_type,
        } => response_strategy(current, plan, status, content_type.as_deref()).map(|strategy| {
            let build = |(mut body, headers): DrawnResponse| {
                if let (Some(path), Some(body)) = (unlisted, body.as_mut()) {
                    add_unlisted(body, path);
                }
                Witness::Response(ResponseWitness {
                    method: plan.method.clone(),
                    path: plan.path.clone(),
                    status: status.parse().unwrap_or(500),
                    content_type: body.as_ref().and(content_type.clone()),
                    headers,
                    body,
                })
            };
            find(strategy, seed, |drawn| {
                judge(released, current, plan, build(drawn))
            })
        }),
    };
    match outcome {
        Err(why) => Evidence::Missing(why),
        Ok(Some((witness, rejection))) => Evidence::Witness {
            witness: Box::new(witness),
            rejection,
        },
        Ok(None) => Evidence::Missing(format!(
            "none of {DRAWS} values drawn from the {} version was {}",
            match plan.draw {
                Draw::Request { .. } => "released",
                Draw::Response { .. } => "current",
            },
            match plan.draw {
                Draw::Request { .. } => "rejected by the current one at the place that changed",
                Draw::Response { .. } => "rejected by the released one at the place that changed",
            },
        )),
    }
}

/// The object path of a rule about properties a schema does not name: the strategies draw only
/// named properties, so its witness needs one added.
fn unlisted_at(rule: &str, place: &Place) -> Option<Vec<String>> {
    let Place::Body(path) = place else {
        return None;
    };
    let mut path = path.clone();
    (rule.starts_with("additional-properties-") && path.pop().as_deref() == Some("*"))
        .then_some(path)
}

/// The name a property no schema names takes in a witness.
const UNLISTED: &str = "UnlistedProperty";

/// Adds a property no schema names to every object at `path` (`*` for every item or value).
fn add_unlisted(value: &mut Value, path: &[String]) {
    match (path.split_first(), value) {
        (None, Value::Object(object)) => {
            object
                .entry(UNLISTED)
                .or_insert(Value::String(String::new()));
        }
        (Some((segment, rest)), Value::Object(object)) if segment == "*" => {
            object
                .values_mut()
                .for_each(|inner| add_unlisted(inner, rest));
        }
        (Some((segment, rest)), Value::Array(items)) if segment == "*" => {
            items.iter_mut().for_each(|inner| add_unlisted(inner, rest));
        }
        (Some((segment, rest)), Value::Object(object)) => {
            if let Some(inner) = object.get_mut(segment) {
                add_unlisted(inner, rest);
            }
        }
        _ => {}
    }
}

/// The witness and the fault that proves the break, when `witness` is one.
fn judge(
    released: &Version,
    current: &Version,
    plan: &Plan,
    witness: Witness,
) -> Option<(Witness, Rejection)> {
    let rejection = rejections(&witness, released, current)?
        .into_iter()
        .find(|rejection| plan.place.covers(&rejection.place))?;
    Some((witness, rejection))
}

/// The first drawn value that `judge` accepts, shrunk while it still does.
fn find<T: std::fmt::Debug, R>(
    strategy: BoxedStrategy<T>,
    seed: [u8; 32],
    judge: impl Fn(T) -> Option<R>,
) -> Option<R> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    for _ in 0..DRAWS {
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let Some(mut found) = judge(tree.current()) else {
            continue;
        };
        for _ in 0..SHRINK_STEPS {
            if !tree.simplify() {
                break;
            }
            match judge(tree.current()) {
                Some(smaller) => found = smaller,
                None => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
        return Some(found);
    }
    None
}

type RequestDraw = (BoxedStrategy<spec_strategies::Request>, Option<String>);

/// Requests of the released operation, with the body sent as `content_type` (or the first type
/// its body documents).
fn request_strategy(
    version: &Version,
    plan: &Plan,
    content_type: Option<&str>,
) -> Result<RequestDraw, String> {
    let operation = version
        .operation(&plan.method, &plan.path)
        .ok_or_else(|| format!("the operation {} {} is not found", plan.method, plan.path))?;
    let mut schemas = Vec::new();
    let mut parameters = Vec::new();
    for ((location, name), parameter) in &operation.parameters {
        let location = match location.as_str() {
            "path" => Location::Path,
            "query" => Location::Query,
            other => return Err(format!("{other} parameters are not drawn")),
        };
        let schema = converted(parameter.value.get("schema").unwrap_or(&json!({})))?;
        schemas.push(schema.clone());
        parameters.push(ParameterShape {
            name: name.clone(),
            location,
            required: location == Location::Path || parameter.value["required"] == true,
            schema,
        });
    }
    let media = operation.request_body.as_ref().and_then(|body| {
        let content = body.value.get("content")?.as_object()?;
        match content_type {
            Some(wanted) => content.get_key_value(wanted),
            None => content.iter().next(),
        }
    });
    let mut body = None;
    let mut sent_as = None;
    if let Some((media_type, media)) = media {
        sent_as = Some(media_type.clone());
        if let Some(schema) = media.get("schema") {
            schemas.push(converted(schema)?);
            body = Some(DRAWN.to_owned());
        }
    }
    let mut definitions = reachable(version.definitions(), &Value::Array(schemas.clone()));
    if body.is_some() {
        definitions.insert(DRAWN.into(), schemas.pop().unwrap_or_default());
    }
    let strategy = Strategies::new(definitions)
        .valid_request(&RequestShape { parameters, body })
        .map_err(|error| format!("the strategies cannot draw the request: {error}"))?;
    Ok((strategy, sent_as))
}

/// A response body (none when the status has none) and its headers.
type DrawnResponse = (Option<Value>, BTreeMap<String, String>);

/// Responses of the current operation's answer `status`: a body as `content_type` (none when it
/// has none) and a value of each header it documents as required.
fn response_strategy(
    version: &Version,
    plan: &Plan,
    status: &str,
    content_type: Option<&str>,
) -> Result<BoxedStrategy<DrawnResponse>, String> {
    let operation = version
        .operation(&plan.method, &plan.path)
        .ok_or_else(|| format!("the operation {} {} is not found", plan.method, plan.path))?;
    let response = operation.responses.get(status);
    let schema = response
        .zip(content_type)
        .and_then(|(response, content_type)| {
            response
                .value
                .get("content")?
                .get(content_type)?
                .get("schema")
        });
    let body = match schema {
        None => proptest::strategy::Just(None).boxed(),
        Some(schema) => drawn(version, schema, "response")?.prop_map(Some).boxed(),
    };
    let mut headers = Vec::new();
    for (name, header) in response
        .map(|response| version.response_headers(response))
        .unwrap_or_default()
    {
        if header.value["required"] != true {
            continue;
        }
        let schema = header.value.get("schema").cloned().unwrap_or(json!({}));
        headers.push(
            drawn(version, &schema, "header")?
                .prop_map(move |value| (name.clone(), spec_strategies::parameter_text(&value)))
                .boxed(),
        );
    }
    Ok((body, headers)
        .prop_map(|(body, headers)| (body, headers.into_iter().collect()))
        .boxed())
}

/// Values of an OpenAPI `schema` of `version`.
fn drawn(version: &Version, schema: &Value, what: &str) -> Result<BoxedStrategy<Value>, String> {
    let schema = converted(schema)?;
    let mut definitions: Map<String, Value> = reachable(version.definitions(), &schema);
    definitions.insert(DRAWN.into(), schema);
    Strategies::new(definitions)
        .valid(DRAWN)
        .map_err(|error| format!("the strategies cannot draw the {what}: {error}"))
}

fn converted(schema: &Value) -> Result<Value, String> {
    spec_schema::to_json_schema(schema).map_err(|error| error.to_string())
}

/// A seed from the finding, so that a report says the same thing every time it is made.
fn seed(rule: &str, pointer: &str) -> [u8; 32] {
    // FNV-1a, spread over the seed's words.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in rule.bytes().chain([0]).chain(pointer.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut seed = [0; 32];
    for (index, chunk) in seed.chunks_mut(8).enumerate() {
        let word = hash.rotate_left(index as u32 * 16) ^ (index as u64);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    seed
}

impl Witness {
    /// The faults the rejecting version finds, provided that the accepting version finds none
    /// (`None` when it does: then this is no witness at all).
    pub fn rejections(&self, released: &Version, current: &Version) -> Option<Vec<Rejection>> {
        rejections(self, released, current)
    }
}

/// [`Witness::rejections`].
fn rejections(witness: &Witness, released: &Version, current: &Version) -> Option<Vec<Rejection>> {
    let (accepted, rejected) = match witness {
        Witness::Request(request) => (
            released.check_request(request),
            current.check_request(request),
        ),
        Witness::Response(response) => (
            current.check_response(response),
            released.check_response(response),
        ),
    };
    accepted.is_empty().then_some(rejected)
}
