//! One spec edit per row, applied to the real spec: the rule and side each must be reported with,
//! and for every break a witness that one version accepts and the other rejects at the place
//! that changed.

use serde_json::{Value, json};
use spec_compat::{Evidence, Finding, Side, Version, Witness, compare};

const SPEC: &str = include_str!("../../../openapi/nexudus-billing.yaml");
const CREATE_BODY: &str = "/components/schemas/CoworkerTimePassCreate";
const RECORD: &str = "/components/schemas/CoworkerTimePass";
const COLLECTION: &str = "/paths/~1api~1billing~1coworkertimepasses";
const ONE: &str = "/paths/~1api~1billing~1coworkertimepasses~1{id}";
const RETRY_AFTER: &str = "/components/responses/Throttled/headers/Retry-After";

struct Edit {
    name: &'static str,
    apply: fn(&mut Value),
    rule: &'static str,
    side: Side,
    pointer: String,
}

fn edit(
    name: &'static str,
    apply: fn(&mut Value),
    rule: &'static str,
    side: Side,
    pointer: impl Into<String>,
) -> Edit {
    Edit {
        name,
        apply,
        rule,
        side,
        pointer: pointer.into(),
    }
}

fn at<'a>(document: &'a mut Value, pointer: &str) -> &'a mut Value {
    document
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("the spec has no {pointer}"))
}

fn set(document: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    at(document, parent)
        .as_object_mut()
        .unwrap()
        .insert(key, value);
}

fn remove(document: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    at(document, parent).as_object_mut().unwrap().remove(&key);
}

fn require(document: &mut Value, schema: &str, name: &str) {
    at(document, &format!("{schema}/required"))
        .as_array_mut()
        .unwrap()
        .push(json!(name));
}

fn unrequire(document: &mut Value, schema: &str, name: &str) {
    at(document, &format!("{schema}/required"))
        .as_array_mut()
        .unwrap()
        .retain(|required| required != name);
}

fn edits() -> Vec<Edit> {
    use Side::{Neither, Requests, Responses, Unclassified};
    vec![
        edit(
            "a new required request property",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/Site"),
                    json!({"type": "string"}),
                );
                require(d, CREATE_BODY, "Site");
            },
            "property-added",
            Requests,
            format!("{CREATE_BODY}/properties/Site"),
        ),
        edit(
            "a new optional request property",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/Site"),
                    json!({"type": "string"}),
                )
            },
            "property-added",
            Neither,
            format!("{CREATE_BODY}/properties/Site"),
        ),
        edit(
            "a request property made required",
            |d| require(d, CREATE_BODY, "Notes"),
            "property-became-required",
            Requests,
            format!("{CREATE_BODY}/properties/Notes"),
        ),
        edit(
            "a required name without a property schema",
            |d| require(d, CREATE_BODY, "Site"),
            "property-became-required",
            Requests,
            format!("{CREATE_BODY}/required"),
        ),
        edit(
            "a request property made optional",
            |d| unrequire(d, CREATE_BODY, "BusinessId"),
            "property-became-optional",
            Neither,
            format!("{CREATE_BODY}/properties/BusinessId"),
        ),
        edit(
            "a tighter request maxLength",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/PurchaseOrder/maxLength"),
                    json!(100),
                )
            },
            "max-length-tightened",
            Requests,
            format!("{CREATE_BODY}/properties/PurchaseOrder/maxLength"),
        ),
        edit(
            "a looser request maxLength",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/PurchaseOrder/maxLength"),
                    json!(400),
                )
            },
            "max-length-loosened",
            Neither,
            format!("{CREATE_BODY}/properties/PurchaseOrder/maxLength"),
        ),
        edit(
            "a higher request minimum",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/CreateMultiple/minimum"),
                    json!(2),
                )
            },
            "minimum-tightened",
            Requests,
            format!("{CREATE_BODY}/properties/CreateMultiple/minimum"),
        ),
        edit(
            "a higher request maximum",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/CreateMultiple/maximum"),
                    json!(200),
                )
            },
            "maximum-loosened",
            Neither,
            format!("{CREATE_BODY}/properties/CreateMultiple/maximum"),
        ),
        edit(
            "a request property's type changed",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/Notes/type"),
                    json!("integer"),
                )
            },
            "type-changed",
            Requests,
            format!("{CREATE_BODY}/properties/Notes/type"),
        ),
        edit(
            "a request property no longer nullable",
            |d| remove(d, &format!("{CREATE_BODY}/properties/Notes/nullable")),
            "nullable-removed",
            Requests,
            format!("{CREATE_BODY}/properties/Notes/nullable"),
        ),
        edit(
            "a request property made nullable",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/CoworkerId/nullable"),
                    json!(true),
                )
            },
            "nullable-added",
            Neither,
            format!("{CREATE_BODY}/properties/CoworkerId/nullable"),
        ),
        edit(
            "a format on a free request string",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/PurchaseOrder/format"),
                    json!("uuid"),
                )
            },
            "format-added",
            Requests,
            format!("{CREATE_BODY}/properties/PurchaseOrder/format"),
        ),
        edit(
            "a pattern on a request string",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/PurchaseOrder/pattern"),
                    json!("^PO-"),
                )
            },
            "pattern-added",
            Requests,
            format!("{CREATE_BODY}/properties/PurchaseOrder/pattern"),
        ),
        edit(
            "an enum value a query parameter no longer takes",
            |d| {
                at(d, "/components/schemas/CoworkerTimePassOrderField/enum")
                    .as_array_mut()
                    .unwrap()
                    .retain(|value| value != "Price")
            },
            "enum-value-removed",
            Requests,
            "/components/schemas/CoworkerTimePassOrderField/enum",
        ),
        edit(
            "an enum value a query parameter now takes",
            |d| {
                at(d, "/components/schemas/CoworkerTimePassOrderField/enum")
                    .as_array_mut()
                    .unwrap()
                    .push(json!("Notes"))
            },
            "enum-value-added",
            Neither,
            "/components/schemas/CoworkerTimePassOrderField/enum",
        ),
        edit(
            "a required response property removed",
            |d| {
                remove(d, &format!("{RECORD}/properties/TimePassName"));
                unrequire(d, RECORD, "TimePassName");
            },
            "property-removed",
            Responses,
            format!("{RECORD}/properties/TimePassName"),
        ),
        edit(
            "a response property made nullable",
            |d| {
                set(
                    d,
                    &format!("{RECORD}/properties/CoworkerId/nullable"),
                    json!(true),
                )
            },
            "nullable-added",
            Responses,
            format!("{RECORD}/properties/CoworkerId/nullable"),
        ),
        edit(
            "a new response property",
            |d| {
                set(
                    d,
                    &format!("{RECORD}/properties/Site"),
                    json!({"type": "string"}),
                )
            },
            "property-added",
            Neither,
            format!("{RECORD}/properties/Site"),
        ),
        edit(
            "a lower response minimum",
            |d| {
                set(
                    d,
                    &format!("{RECORD}/properties/CoworkerId/minimum"),
                    json!(0),
                )
            },
            "minimum-loosened",
            Responses,
            format!("{RECORD}/properties/CoworkerId/minimum"),
        ),
        edit(
            "a higher response minimum",
            |d| {
                set(
                    d,
                    &format!("{RECORD}/properties/CoworkerId/minimum"),
                    json!(5),
                )
            },
            "minimum-tightened",
            Neither,
            format!("{RECORD}/properties/CoworkerId/minimum"),
        ),
        edit(
            "a response string's format dropped",
            |d| remove(d, &format!("{RECORD}/properties/UniqueId/format")),
            "format-removed",
            Responses,
            format!("{RECORD}/properties/UniqueId/format"),
        ),
        edit(
            "a new operation",
            |d| {
                let list = at(d, &format!("{COLLECTION}/get")).clone();
                set(d, "/paths/~1api~1billing~1archive", json!({"get": list}));
            },
            "operation-added",
            Neither,
            "/paths/~1api~1billing~1archive/get",
        ),
        edit(
            "an operation removed",
            |d| remove(d, &format!("{ONE}/delete")),
            "operation-removed",
            Requests,
            format!("{ONE}/delete"),
        ),
        edit(
            "a new reachable status",
            |d| {
                let error = at(d, &format!("{COLLECTION}/post/responses/400")).clone();
                set(d, &format!("{COLLECTION}/post/responses/422"), error);
            },
            "status-added",
            Responses,
            format!("{COLLECTION}/post/responses/422"),
        ),
        edit(
            "a new status documented as not reachable by clients",
            |d| {
                let mut error = at(d, &format!("{COLLECTION}/post/responses/400")).clone();
                error["x-contract"] = json!({"reachable": false});
                set(d, &format!("{COLLECTION}/post/responses/503"), error);
            },
            "status-added",
            Neither,
            format!("{COLLECTION}/post/responses/503"),
        ),
        edit(
            "a description",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/properties/Notes/description"),
                    json!("Notes."),
                )
            },
            "documentation-changed",
            Neither,
            format!("{CREATE_BODY}/properties/Notes/description"),
        ),
        edit(
            "a scope added to an operation's requirement",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/post/security"),
                    json!([
                        {"oauth2": ["CoworkerTimePass-Create", "Billing-Admin"]},
                        {"basic": []}
                    ]),
                )
            },
            "security-scope-added",
            Requests,
            format!("{COLLECTION}/post/security"),
        ),
        edit(
            "a scope dropped from an operation's requirement",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/post/security"),
                    json!([{"oauth2": []}, {"basic": []}]),
                )
            },
            "security-scope-removed",
            Neither,
            format!("{COLLECTION}/post/security"),
        ),
        edit(
            "a requirement added beside an operation's others",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/post/security"),
                    json!([
                        {"oauth2": ["CoworkerTimePass-Create"]},
                        {"basic": []},
                        {"apiKey": []}
                    ]),
                )
            },
            "security-requirement-added",
            Neither,
            format!("{COLLECTION}/post/security"),
        ),
        edit(
            "a security scheme added",
            |d| {
                set(
                    d,
                    "/components/securitySchemes/apiKey",
                    json!({"type": "apiKey", "in": "header", "name": "X-Api-Key"}),
                )
            },
            "security-scheme-added",
            Neither,
            "/components/securitySchemes/apiKey".to_owned(),
        ),
        edit(
            "a new required query parameter",
            |d| {
                at(d, &format!("{COLLECTION}/get/parameters"))
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "site", "in": "query", "required": true, "schema": {"type": "string"}}))
            },
            "parameter-added",
            Requests,
            format!("{COLLECTION}/get/parameters/12"),
        ),
        edit(
            "a new optional query parameter",
            |d| {
                at(d, &format!("{COLLECTION}/get/parameters"))
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "site", "in": "query", "schema": {"type": "string"}}))
            },
            "parameter-added",
            Neither,
            format!("{COLLECTION}/get/parameters/12"),
        ),
        edit(
            "a query parameter made required",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/get/parameters/0/required"),
                    json!(true),
                )
            },
            "parameter-became-required",
            Requests,
            format!("{COLLECTION}/get/parameters/0/required"),
        ),
        edit(
            "a tighter path parameter",
            |d| {
                set(
                    d,
                    &format!("{ONE}/parameters/0/schema/maximum"),
                    json!(1000),
                )
            },
            "maximum-tightened",
            Requests,
            format!("{ONE}/parameters/0/schema/maximum"),
        ),
        edit(
            "a path parameter renamed",
            |d| {
                let mut item = at(d, ONE).clone();
                item["parameters"][0]["name"] = json!("Id");
                remove(d, ONE);
                set(d, "/paths/~1api~1billing~1coworkertimepasses~1{Id}", item);
            },
            "path-parameter-renamed",
            Neither,
            "/paths/~1api~1billing~1coworkertimepasses~1{Id}",
        ),
        edit(
            "a request content type added",
            |d| {
                let json_type = at(
                    d,
                    &format!("{COLLECTION}/post/requestBody/content/application~1json"),
                )
                .clone();
                set(
                    d,
                    &format!("{COLLECTION}/post/requestBody/content/application~1xml"),
                    json_type,
                );
            },
            "request-content-type-added",
            Neither,
            format!("{COLLECTION}/post/requestBody/content/application~1xml"),
        ),
        edit(
            "a request content type removed",
            |d| {
                let content = at(d, &format!("{COLLECTION}/post/requestBody/content"));
                let json_type = content["application/json"].clone();
                *content = json!({"application/xml": json_type});
            },
            "request-content-type-removed",
            Requests,
            format!("{COLLECTION}/post/requestBody/content/application~1json"),
        ),
        edit(
            "a response content type added",
            |d| {
                let json_type = at(
                    d,
                    &format!("{ONE}/get/responses/200/content/application~1json"),
                )
                .clone();
                set(
                    d,
                    &format!("{ONE}/get/responses/200/content/text~1json"),
                    json_type,
                );
            },
            "response-content-type-added",
            Responses,
            format!("{ONE}/get/responses/200/content/text~1json"),
        ),
        edit(
            "a request body made optional",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/post/requestBody/required"),
                    json!(false),
                )
            },
            "request-body-became-optional",
            Neither,
            format!("{COLLECTION}/post/requestBody/required"),
        ),
        edit(
            "a request body closed to unnamed properties",
            |d| {
                set(
                    d,
                    &format!("{CREATE_BODY}/additionalProperties"),
                    json!(false),
                )
            },
            "additional-properties-restricted",
            Requests,
            format!("{CREATE_BODY}/additionalProperties"),
        ),
        edit(
            "a required response header removed",
            |d| remove(d, RETRY_AFTER),
            "response-header-removed",
            Responses,
            RETRY_AFTER,
        ),
        edit(
            "a response header made optional",
            |d| set(d, &format!("{RETRY_AFTER}/required"), json!(false)),
            "response-header-became-optional",
            Responses,
            format!("{RETRY_AFTER}/required"),
        ),
        edit(
            "a lower bound on a response header",
            |d| set(d, &format!("{RETRY_AFTER}/schema/minimum"), json!(0)),
            "minimum-loosened",
            Responses,
            format!("{RETRY_AFTER}/schema/minimum"),
        ),
        edit(
            "a new optional response header",
            |d| {
                set(
                    d,
                    "/components/responses/Throttled/headers/X-Request-Id",
                    json!({"schema": {"type": "string"}}),
                )
            },
            "response-header-added",
            Neither,
            "/components/responses/Throttled/headers/X-Request-Id",
        ),
        edit(
            "a response's body removed",
            |d| remove(d, &format!("{ONE}/get/responses/200/content")),
            "response-body-removed",
            Responses,
            format!("{ONE}/get/responses/200/content"),
        ),
        edit(
            "a keyword no rule knows",
            |d| set(d, &format!("{CREATE_BODY}/minProperties"), json!(2)),
            "unclassified",
            Unclassified,
            format!("{CREATE_BODY}/minProperties"),
        ),
        edit(
            "an x-contract expectation",
            |d| {
                set(
                    d,
                    &format!("{COLLECTION}/post/x-contract/creates"),
                    json!(1),
                )
            },
            "extension-changed",
            Neither,
            format!("{COLLECTION}/post/x-contract"),
        ),
    ]
}

/// The spec with one edit, as text.
fn edited_text(apply: fn(&mut Value)) -> String {
    let mut document: Value = serde_yaml_ng::from_str(SPEC).unwrap();
    apply(&mut document);
    serde_json::to_string(&document).unwrap()
}

fn edited(apply: fn(&mut Value)) -> Version {
    Version::parse(&edited_text(apply)).unwrap()
}

/// A judge independent of the comparison: the validator the server uses, on the create body's
/// component schema.
fn create_body_is_valid(document: &str, body: &Value) -> bool {
    let spec = spec_schema::Spec::from_yaml(document).unwrap();
    let definitions = spec.json_schema_definitions().unwrap();
    spec_schema::Validator::new(definitions, "CoworkerTimePassCreate")
        .unwrap()
        .is_valid(body)
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|finding| format!("{finding}\n"))
        .collect()
}

#[test]
fn the_spec_against_itself_differs_nowhere() {
    let released = Version::parse(SPEC).unwrap();
    let current = Version::parse(SPEC).unwrap();
    assert_eq!(compare(&released, &current), Vec::new());
}

#[test]
fn every_edit_is_reported_with_its_rule_and_side_and_every_break_has_a_witness() {
    let released = Version::parse(SPEC).unwrap();
    let edits = edits();
    assert!(edits.len() >= 25, "{} edits", edits.len());
    let mut failures = Vec::new();
    let mut shown = String::new();
    for row in edits {
        let current_text = edited_text(row.apply);
        let current = Version::parse(&current_text).unwrap();
        let findings = compare(&released, &current);
        let listed = show(&findings);
        shown.push_str(&format!("# {}\n{listed}", row.name));
        let Some(finding) = findings.iter().find(|finding| finding.rule == row.rule) else {
            failures.push(format!(
                "{}: no {} finding in\n{listed}",
                row.name, row.rule
            ));
            continue;
        };
        if (finding.side, finding.pointer.as_str()) != (row.side, row.pointer.as_str()) {
            failures.push(format!(
                "{}: expected {:?} at {}, got\n{listed}",
                row.name, row.side, row.pointer
            ));
            continue;
        }
        // An edit that breaks nothing must not be reported as breaking anywhere.
        if !row.side.breaks() && findings.iter().any(Finding::breaks) {
            failures.push(format!("{}: reported as breaking:\n{listed}", row.name));
            continue;
        }
        if row.side == Side::Unclassified {
            continue;
        }
        for finding in findings.iter().filter(|finding| finding.breaks()) {
            let Evidence::Witness { witness, rejection } = &finding.evidence else {
                failures.push(format!("{}: no witness:\n{listed}", row.name));
                continue;
            };
            // The judges again: the accepting version finds nothing wrong, the other faults the
            // place that changed.
            match witness.rejections(&released, &current) {
                Some(rejections) if rejections.contains(rejection) => {}
                other => failures.push(format!(
                    "{}: the witness does not hold ({other:?}):\n{listed}",
                    row.name
                )),
            }
            if let (Witness::Request(request), true) = (
                witness.as_ref(),
                finding.pointer.starts_with(&format!("{CREATE_BODY}/")),
            ) {
                let body = request.request.body.as_ref().expect("a create body");
                if !create_body_is_valid(SPEC, body) || create_body_is_valid(&current_text, body) {
                    failures.push(format!(
                        "{}: the server's validator does not split the witness:\n{listed}",
                        row.name
                    ));
                }
            }
            let expected_kind = match finding.side {
                Side::Requests => matches!(witness.as_ref(), Witness::Request(_)),
                _ => matches!(witness.as_ref(), Witness::Response(_)),
            };
            if !expected_kind {
                failures.push(format!(
                    "{}: a witness of the wrong side:\n{listed}",
                    row.name
                ));
            }
        }
    }
    if std::env::var_os("SHOW_FINDINGS").is_some() {
        eprintln!("{shown}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_break_no_value_can_show_is_possibly_breaking_and_says_why() {
    let released = Version::parse(SPEC).unwrap();
    // A pattern every string matches narrows nothing in fact, but a rule cannot know that: no
    // drawn value is rejected, so the finding stays breaking, labelled possibly, with the reason.
    let current = edited(|d| {
        set(
            d,
            &format!("{CREATE_BODY}/properties/Notes/pattern"),
            json!("^[\\s\\S]*$"),
        )
    });
    let findings = compare(&released, &current);
    let finding = findings
        .iter()
        .find(|finding| finding.rule == "pattern-added")
        .unwrap_or_else(|| panic!("{}", show(&findings)));
    assert_eq!(finding.side, Side::Requests);
    let Evidence::Missing(why) = &finding.evidence else {
        panic!("{finding}");
    };
    assert!(why.contains("none of 256 values"), "{why}");
    assert!(
        finding.to_string().contains("possibly breaking"),
        "{finding}"
    );
}
