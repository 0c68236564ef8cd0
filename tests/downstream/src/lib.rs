//! A crate that uses `nexudus-types` and `nexudus-client` the way a downstream crate would, with
//! no spec and no generator: this library builds requests and reads responses with the types
//! alone; `tests/client.rs` calls a server with the client, naming only what it exports.

use nexudus_types::{
    CoworkerTimePassCreate, CoworkerTimePassCreateNotes, CreateSuccess, ErrorEnvelope,
    error::ConversionError,
};

/// A request for `count` passes of `time_pass` for `coworker` at `business`, built with the
/// type's builder: the properties it does not set keep their defaults, so this keeps compiling
/// when the spec gains an optional property.
pub fn time_passes(
    coworker: u64,
    business: u64,
    time_pass: u64,
    count: u32,
) -> Result<CoworkerTimePassCreate, ConversionError> {
    CoworkerTimePassCreate::builder()
        .coworker_id(coworker)
        .business_id(business)
        .time_pass_id(time_pass)
        .create_multiple(count)
        .notes("issued by a downstream crate".parse::<CoworkerTimePassCreateNotes>()?)
        .free(false)
        .try_into()
}

/// One line about a response body: the new Id, or the errors joined.
pub fn summarize(body: &str) -> Result<String, serde_json::Error> {
    if let Ok(success) = serde_json::from_str::<CreateSuccess>(body) {
        return Ok(format!(
            "created {} by {}",
            success.value.id, success.updated_by
        ));
    }
    let error: ErrorEnvelope = serde_json::from_str(body)?;
    Ok(error
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.property_name, e.message))
        .collect::<Vec<_>>()
        .join("; "))
}

/// The README's example for downstream crates, compiled as a doctest: what it shows stays
/// true of the published surface.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct Readme;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_serialise_with_the_api_keys() {
        let request = time_passes(1, 2, 3, 4).unwrap();
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 4,
                "Notes": "issued by a downstream crate", "Free": false
            })
        );
        assert_eq!(
            time_passes(0, 2, 3, 4).unwrap_err().to_string(),
            "CoworkerId: out of range integral type conversion attempted",
            "ids are positive, and the error names the property"
        );
    }

    #[test]
    fn responses_are_read() {
        let ok = r#"{"Status":200,"Message":"m","Value":{"Id":7},"OpenInDialog":false,
            "OpenInWindow":false,"RedirectURL":null,"JavaScript":null,
            "UpdatedOn":"2025-01-15T10:30:00Z","UpdatedBy":"a@b.c","Errors":null,"WasSuccessful":true}"#;
        assert_eq!(summarize(ok).unwrap(), "created 7 by a@b.c");
        let error = r#"{"Message":"Name: is a required field","Value":null,"WasSuccessful":false,
            "Errors":[{"AttemptedValue":null,"Message":"is a required field","PropertyName":"Name"}]}"#;
        assert_eq!(summarize(error).unwrap(), "Name: is a required field");
        assert!(summarize("{}").is_err());
    }

    #[test]
    fn types_describe_themselves_as_json_schema() {
        let schema = nexudus_types::schemars::schema_for!(CoworkerTimePassCreate);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(
            json["required"],
            serde_json::json!(["BusinessId", "CoworkerId", "CreateMultiple", "TimePassId"])
        );
        assert_eq!(
            json["properties"]["Notes"]["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(json["properties"]["CoworkerId"]["format"], "uint64");
    }
}
