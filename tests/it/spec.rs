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

#[test]
fn request_schema_has_the_documented_fields() {
    let spec = spec_json();
    let schema = &spec["components"]["schemas"]["CoworkerTimePassCreate"];
    let properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
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

#[test]
fn every_error_status_shares_the_error_envelope() {
    let spec = spec_json();
    let responses = spec
        .pointer(&format!("{PATH}/responses"))
        .unwrap()
        .as_object()
        .unwrap();
    let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
    assert_eq!(statuses, ["200", "400", "401", "413", "415", "500"]);
    for status in ["400", "401", "413", "415", "500"] {
        assert_eq!(
            responses[status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorEnvelope",
            "{status}"
        );
    }
}

#[test]
fn security_is_oauth2_password_with_the_create_role() {
    let spec = spec_json();
    let scheme = &spec["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/api/token");
    assert_eq!(
        spec.pointer(&format!("{PATH}/security")).unwrap(),
        &json!([{"oauth2": ["CoworkerTimePass-Create"]}])
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
    for (status, response) in document
        .pointer(&format!("{PATH}/responses"))
        .unwrap()
        .as_object()
        .unwrap()
    {
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
    assert_eq!(checked, 2, "the documented 200 and 400 examples");
}

/// The documented examples in `../shared/reference` are the ones the spec carries.
#[test]
fn spec_examples_are_the_documented_ones() {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/create-coworkertimepass.api-reference.txt");
    let Ok(text) = std::fs::read_to_string(&reference) else {
        // The reference pages sit beside the workspace in development and CI only.
        eprintln!("skipped: {} not found", reference.display());
        return;
    };
    let documented: Vec<Value> = text
        .split("Example Response\n")
        .skip(1)
        .map(|rest| {
            let end = rest.find("\n}").unwrap() + 2;
            serde_json::from_str(&rest[..end]).unwrap()
        })
        .collect();
    let spec = spec_json();
    let responses = spec.pointer(&format!("{PATH}/responses")).unwrap();
    assert_eq!(
        documented[0],
        responses["200"]["content"]["application/json"]["example"]
    );
    assert_eq!(
        documented[1],
        responses["400"]["content"]["application/json"]["example"]
    );
}
