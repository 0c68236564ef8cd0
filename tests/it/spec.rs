//! The spec says what the Nexudus documentation says, and parses as OpenAPI 3.0.

use serde_json::{Value, json};

use crate::{spec_json, spec_text};

const PATH: &str = "/paths/~1api~1billing~1coworkertimepasses/post";

#[test]
fn parses_as_openapi_3_0() {
    let openapi: openapiv3::OpenAPI = serde_yaml_ng::from_str(&spec_text()).unwrap();
    assert!(openapi.openapi.starts_with("3.0."));
    let operation = openapi.paths.paths["/api/billing/coworkertimepasses"]
        .as_item()
        .unwrap()
        .post
        .as_ref()
        .unwrap();
    assert_eq!(
        operation.operation_id.as_deref(),
        Some("create_coworker_time_pass")
    );
    assert_eq!(
        operation.summary.as_deref(),
        Some("Create CoworkerTimePass")
    );
}

/// The member names of an object, in the document's order.
fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn request_schema_has_the_documented_fields() {
    let spec = spec_json();
    let schema = &spec["components"]["schemas"]["CoworkerTimePassCreate"];
    let properties = keys(&schema["properties"]);
    assert_eq!(
        properties,
        [
            "BusinessId",
            "CoworkerContractUniqueId",
            "CoworkerId",
            "CoworkerProductUniqueId",
            "CreateMultiple",
            "ExpireDate",
            "Free",
            "Notes",
            "Price",
            "PurchaseOrder",
            "TariffTimePassUniqueId",
            "TimePassId",
            "Used",
        ]
    );
    assert_eq!(
        schema["required"],
        json!(["CoworkerId", "BusinessId", "TimePassId", "CreateMultiple"])
    );
    let property = |name: &str| &schema["properties"][name];
    for id in ["CoworkerId", "BusinessId", "TimePassId"] {
        assert_eq!(property(id)["format"], "int64", "{id}");
    }
    assert_eq!(property("Price")["format"], "double");
    assert_eq!(property("Price")["minimum"], 0);
    assert_eq!(property("ExpireDate")["format"], "date-time");
    assert_eq!(property("CreateMultiple")["minimum"], 1);
    assert!(property("CreateMultiple")["maximum"].is_u64());
    for uuid in [
        "TariffTimePassUniqueId",
        "CoworkerProductUniqueId",
        "CoworkerContractUniqueId",
    ] {
        assert_eq!(property(uuid)["format"], "uuid", "{uuid}");
    }
    // Every constraint the documentation does not state is marked as this project's choice.
    for name in [
        "CoworkerId",
        "CreateMultiple",
        "Notes",
        "PurchaseOrder",
        "Price",
    ] {
        let description = property(name)["description"].as_str().unwrap();
        assert!(
            description.contains("this project's choice"),
            "{name}: {description}"
        );
    }
}

#[test]
fn success_envelope_requires_every_documented_key() {
    let spec = spec_json();
    let schema = &spec["components"]["schemas"]["CreateSuccess"];
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(
        required,
        [
            "Errors",
            "JavaScript",
            "Message",
            "OpenInDialog",
            "OpenInWindow",
            "RedirectURL",
            "Status",
            "UpdatedBy",
            "UpdatedOn",
            "Value",
            "WasSuccessful"
        ]
    );
    for nullable in ["RedirectURL", "JavaScript", "Errors"] {
        assert_eq!(
            schema["properties"][nullable]["nullable"], true,
            "{nullable}"
        );
    }
}

/// Each operation's responses, with `$ref`s to `components.responses` resolved.
fn responses(spec: &Value, pointer: &str) -> serde_json::Map<String, Value> {
    spec.pointer(&format!("{pointer}/responses"))
        .unwrap()
        .as_object()
        .unwrap()
        .iter()
        .map(|(status, response)| {
            let response = match response["$ref"].as_str() {
                Some(reference) => spec
                    .pointer(reference.trim_start_matches('#'))
                    .unwrap()
                    .clone(),
                None => response.clone(),
            };
            (status.clone(), response)
        })
        .collect()
}

/// (JSON pointer, operationId, role, documented statuses) of every operation, as Nexudus
/// documents the resource.
const OPERATIONS: [(&str, &str, &str, &[&str]); 5] = [
    (
        PATH,
        "create_coworker_time_pass",
        "CoworkerTimePass-Create",
        &["200", "400", "401", "408", "409", "413", "415", "500"],
    ),
    (
        "/paths/~1api~1billing~1coworkertimepasses/get",
        "list_coworker_time_passes",
        "CoworkerTimePass-List",
        &["200", "400", "401", "409", "500"],
    ),
    (
        "/paths/~1api~1billing~1coworkertimepasses/put",
        "update_coworker_time_pass",
        "CoworkerTimePass-Edit",
        &[
            "200", "400", "401", "404", "408", "409", "413", "415", "500",
        ],
    ),
    (
        "/paths/~1api~1billing~1coworkertimepasses~1{id}/get",
        "get_coworker_time_pass",
        "CoworkerTimePass-Read",
        &["200", "400", "401", "404", "409", "500"],
    ),
    (
        "/paths/~1api~1billing~1coworkertimepasses~1{id}/delete",
        "delete_coworker_time_pass",
        "CoworkerTimePass-Delete",
        &["200", "400", "401", "404", "409", "500"],
    ),
];

#[test]
fn every_operation_of_the_resource_with_its_role_and_statuses() {
    let spec = spec_json();
    for (pointer, id, role, statuses) in OPERATIONS {
        let operation = spec.pointer(pointer).unwrap_or_else(|| panic!("{pointer}"));
        assert_eq!(operation["operationId"], id);
        assert_eq!(
            operation["security"],
            json!([{"oauth2": [role]}, {"basic": []}]),
            "{id}"
        );
        assert!(
            spec["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["scopes"]
                .get(role)
                .is_some(),
            "{role}"
        );
        let responses = responses(&spec, pointer);
        let documented: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(documented, statuses, "{id}");
        for (status, response) in &responses {
            if status.starts_with('2') {
                continue;
            }
            if status == "409" {
                // Throttled, as Nexudus answers it: no body, the headers that say how long to
                // wait and keep it out of caches.
                assert_eq!(response.get("content"), None, "{id} 409");
                let headers = keys(&response["headers"]);
                assert_eq!(
                    headers,
                    ["Cache-Control", "Expires", "Pragma", "Retry-After"],
                    "{id} 409"
                );
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorEnvelope",
                "{id} {status}"
            );
        }
        // A storage failure is documented and marked as no client's doing.
        assert_eq!(responses["500"]["x-contract"]["reachable"], false, "{id}");
    }
}

#[test]
fn unknown_paths_and_wrong_methods_are_documented_at_the_root() {
    let spec = spec_json();
    let root = &spec["x-contract"];
    assert_eq!(
        root["unknown-path"],
        json!({"status": 404, "schema": "ErrorEnvelope"})
    );
    assert_eq!(
        root["wrong-method"],
        json!({"status": 405, "schema": "ErrorEnvelope", "headers": ["Allow"]})
    );
    let responses = &spec["components"]["responses"];
    for (name, status) in [("UnknownPath", 404), ("MethodNotAllowed", 405)] {
        let description = responses[name]["description"].as_str().unwrap();
        assert!(description.contains("x-contract"), "{name} ({status})");
    }
    assert!(responses["MethodNotAllowed"]["headers"]["Allow"].is_object());
    // A late body takes the server's own time: a contract run is not expected to produce it.
    assert_eq!(
        responses["RequestTimeout"]["x-contract"]["reachable"],
        false
    );
}

#[test]
fn the_create_links_to_read_update_and_delete_its_record() {
    let spec = spec_json();
    let links = &responses(&spec, PATH)["200"]["links"];
    let targets: Vec<(&str, &Value, &Value)> = links
        .as_object()
        .unwrap()
        .values()
        .map(|link| {
            (
                link["operationId"].as_str().unwrap(),
                &link["parameters"],
                &link["requestBody"],
            )
        })
        .collect();
    // By link name: Delete..., Get..., Update....
    assert_eq!(
        targets,
        [
            (
                "delete_coworker_time_pass",
                &json!({"id": "$response.body#/Value/Id"}),
                &Value::Null
            ),
            (
                "get_coworker_time_pass",
                &json!({"id": "$response.body#/Value/Id"}),
                &Value::Null
            ),
            (
                "update_coworker_time_pass",
                &Value::Null,
                &json!({"Id": "$response.body#/Value/Id"})
            ),
        ]
    );
}

#[test]
fn the_read_model_is_the_documented_one() {
    let spec = spec_json();
    let schema = &spec["components"]["schemas"]["CoworkerTimePass"];
    let mut properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    properties.sort();
    // Nexudus' documented read model (its API facts: the CoworkerTimePass record).
    let mut documented = vec![
        "CoworkerId",
        "BusinessId",
        "TimePassId",
        "TimePassName",
        "TimePassCurrencyCode",
        "Notes",
        "PurchaseOrder",
        "Used",
        "CheckedIn",
        "UsedDate",
        "RemainingUses",
        "TotalUses",
        "Free",
        "Price",
        "CreateMultiple",
        "ExpireDate",
        "Invoiced",
        "InvoiceDate",
        "IsFromTariff",
        "IsPayAsYouGo",
        "TariffTimePassUniqueId",
        "CoworkerProductUniqueId",
        "CoworkerContractUniqueId",
        "Id",
        "UniqueId",
        "CreatedOn",
        "UpdatedOn",
        "UpdatedBy",
        "IsNew",
        "SystemId",
    ];
    documented.sort();
    assert_eq!(properties, documented);
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, documented, "every key is always sent");
    let property = |name: &str| &schema["properties"][name];
    for read_only in [
        "CheckedIn",
        "Invoiced",
        "InvoiceDate",
        "IsFromTariff",
        "RemainingUses",
        "TotalUses",
        "UsedDate",
    ] {
        assert_eq!(property(read_only)["readOnly"], true, "{read_only}");
    }
    assert_eq!(property("UniqueId")["format"], "uuid");
    // A field the server may have no source for is nullable, and says when it is null.
    for unknown in [
        "TimePassName",
        "TimePassCurrencyCode",
        "CheckedIn",
        "SystemId",
    ] {
        assert_eq!(property(unknown)["nullable"], true, "{unknown}");
        assert!(
            property(unknown)["description"]
                .as_str()
                .unwrap()
                .contains("null"),
            "{unknown}"
        );
    }
}

#[test]
fn the_list_takes_paging_order_and_filters_and_answers_the_paging_envelope() {
    let spec = spec_json();
    let list = spec
        .pointer("/paths/~1api~1billing~1coworkertimepasses/get")
        .unwrap();
    let parameters: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|parameter| {
            assert_eq!(parameter["in"], "query");
            parameter["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        parameters,
        [
            "page",
            "size",
            "orderBy",
            "dir",
            "CoworkerTimePass_CoworkerId",
            "CoworkerTimePass_BusinessId",
            "CoworkerTimePass_TimePassId",
            "CoworkerTimePass_Used",
            "CoworkerTimePass_Free",
            "CoworkerTimePass_PurchaseOrder",
            "from_CoworkerTimePass_ExpireDate",
            "to_CoworkerTimePass_ExpireDate",
        ]
    );
    let schema = |name: &str| {
        list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    assert_eq!(
        schema("size"),
        json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000, "default": 25})
    );
    assert_eq!(schema("page")["minimum"], 1);
    assert_eq!(schema("dir")["enum"], json!([1, -1]));
    let envelope = &spec["components"]["schemas"]["CoworkerTimePassList"];
    let mut keys: Vec<&str> = envelope["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "CurrentOrderField",
            "CurrentPage",
            "CurrentPageSize",
            "CurrentSortDirection",
            "FirstItem",
            "HasNextPage",
            "HasPreviousPage",
            "LastItem",
            "Records",
            "TotalItems",
            "TotalPages",
        ]
    );
    // Every filter names a record property, every sort field is one.
    let record = &spec["components"]["schemas"]["CoworkerTimePass"]["properties"];
    for (_, filter) in list["x-contract"]["filters"].as_object().unwrap() {
        assert!(
            record.get(filter["property"].as_str().unwrap()).is_some(),
            "{filter}"
        );
    }
    for field in spec["components"]["schemas"]["CoworkerTimePassOrderField"]["enum"]
        .as_array()
        .unwrap()
    {
        assert!(record.get(field.as_str().unwrap()).is_some(), "{field}");
    }
}

#[test]
fn update_and_delete_answer_as_documented() {
    let spec = spec_json();
    let update = &spec["components"]["schemas"]["CoworkerTimePassUpdate"];
    assert_eq!(
        update["required"],
        json!([
            "Id",
            "CoworkerId",
            "BusinessId",
            "TimePassId",
            "CreateMultiple"
        ])
    );
    // The create's fields, with the same rules (descriptions aside).
    let create = &spec["components"]["schemas"]["CoworkerTimePassCreate"]["properties"];
    for (name, rules) in create.as_object().unwrap() {
        let mut rules = rules.clone();
        let mut same = update["properties"][name].clone();
        rules.as_object_mut().unwrap().remove("description");
        same.as_object_mut().unwrap().remove("description");
        assert_eq!(same, rules, "{name}");
    }
    let example = |pointer: &str| {
        responses(&spec, pointer)["200"]["content"]["application/json"]["example"].clone()
    };
    assert_eq!(
        example("/paths/~1api~1billing~1coworkertimepasses/put")["Message"],
        "CoworkerTimePass was successfully updated."
    );
    let deleted = example("/paths/~1api~1billing~1coworkertimepasses~1{id}/delete");
    assert_eq!(deleted["Message"], "The record was deleted successfully.");
    assert_eq!(deleted["Value"], Value::Null);
}

/// Bearer tokens from the password flow with the create role, or HTTP Basic (Nexudus accepts
/// both).
#[test]
fn security_is_oauth2_password_with_the_create_role_or_basic() {
    let spec = spec_json();
    let scheme = &spec["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/api/token");
    let basic = &spec["components"]["securitySchemes"]["basic"];
    assert_eq!(
        (&basic["type"], &basic["scheme"]),
        (&json!("http"), &json!("basic"))
    );
    assert_eq!(
        spec.pointer(&format!("{PATH}/security")).unwrap(),
        &json!([{"oauth2": ["CoworkerTimePass-Create"]}, {"basic": []}])
    );
}

/// Every example in the spec is checked against its own schema, so the examples cannot rot.
#[test]
fn examples_validate_against_their_schemas() {
    let spec_text = spec_text();
    let spec = spec_schema::Spec::from_yaml(&spec_text).unwrap();
    let definitions = spec.json_schema_definitions().unwrap();
    let document = spec.document();
    let validator = |name: &str| spec_schema::Validator::new(definitions.clone(), name).unwrap();

    let request = document
        .pointer(&format!("{PATH}/requestBody/content/application~1json"))
        .unwrap();
    let request_validator = validator("CoworkerTimePassCreate");
    let complete = &request["examples"]["complete"]["value"];
    assert_eq!(request_validator.violations(complete), []);
    // The documented curl body is a placeholder of zeros: the spec's minimums reject it.
    let documented = &request["examples"]["documented"]["value"];
    let rejected: Vec<String> = request_validator
        .violations(documented)
        .iter()
        .map(|v| v.property_name().unwrap())
        .collect();
    assert_eq!(
        rejected,
        ["BusinessId", "CoworkerId", "CreateMultiple", "TimePassId"]
    );

    let mut checked = 0;
    let every_response = OPERATIONS
        .iter()
        .flat_map(|(pointer, _, _, _)| responses(document, pointer));
    for (status, response) in every_response {
        let content = &response["content"]["application/json"];
        let Some(example) = content.get("example") else {
            continue;
        };
        let schema = content["schema"]["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        assert_eq!(
            validator(schema).violations(example),
            [],
            "example of {status}"
        );
        checked += 1;
    }
    assert_eq!(
        checked, 4,
        "the documented 200 and 400 examples of create, the 200s of update and delete"
    );
}

/// The examples the Nexudus reference documents (kept beside the tests, as published) are the
/// ones the spec carries.
#[test]
fn spec_examples_are_the_documented_ones() {
    let documented: Value = serde_json::from_str(include_str!(
        "documented/create-coworkertimepass.examples.json"
    ))
    .unwrap();
    let documented = documented["responses"].as_object().unwrap();
    assert_eq!(documented.len(), 2);
    let spec = spec_json();
    let responses = spec.pointer(&format!("{PATH}/responses")).unwrap();
    for (status, example) in documented {
        assert_eq!(
            example, &responses[status]["content"]["application/json"]["example"],
            "the {status} example"
        );
    }
}

/// The generated operation table names each response's media types as the spec's `content` does
/// (none for a response without a body): what the contract's content-type check holds answers to.
#[test]
fn the_operation_table_names_each_responses_media_types() {
    let spec = spec_json();
    for operation in nexudus_server_api::OPERATIONS {
        let pointer = format!(
            "/paths/{}/{}",
            operation.path.replace('~', "~0").replace('/', "~1"),
            operation.method.to_ascii_lowercase()
        );
        let responses = responses(&spec, &pointer);
        assert_eq!(responses.len(), operation.responses.len());
        for response in operation.responses {
            let documented: Vec<&str> = responses[&response.status.to_string()]["content"]
                .as_object()
                .into_iter()
                .flat_map(|content| content.keys().map(String::as_str))
                .collect();
            assert_eq!(
                response.media_types, documented,
                "{} {}",
                operation.operation_id, response.status
            );
            assert_eq!(
                documented.is_empty(),
                response.status == 409,
                "every response of this spec has a body but the throttled one"
            );
        }
    }
}
