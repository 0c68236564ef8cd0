//! What the spec states of each operation (method, path, parameters, body format, security
//! requirements, responses), as the generated router writes it. The types are
//! `api-description`'s, which the generated client and the contract checks share; they are named
//! through this crate too so that generated server code depends on one runtime crate, and so
//! that an implementation authorizes by what the spec says rather than by a copy of it.

pub use api_description::{
    BodyFormat, Link, Operation, Parameter, ParameterLocation, Response, SchemeKind,
    SecurityRequirement, SecurityScheme,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_find_their_responses_and_parameters() {
        const PARAMETERS: &[Parameter] = &[
            Parameter {
                name: "id",
                location: ParameterLocation::Path,
                required: true,
                schema: "{}",
            },
            Parameter {
                name: "id",
                location: ParameterLocation::Query,
                required: false,
                schema: "{}",
            },
        ];
        const RESPONSES: &[Response] = &[
            Response {
                status: 200,
                schema: Some("A"),
                media_types: &[],
                links: &[],
                headers: &[],
                contract: "null",
            },
            Response {
                status: 404,
                schema: Some("B"),
                media_types: &[],
                links: &[],
                headers: &[],
                contract: "null",
            },
        ];
        let operation = Operation {
            operation_id: "op",
            method: "GET",
            path: "/x/{id}",
            parameters: PARAMETERS,
            request_schema: None,
            request_format: BodyFormat::Json,
            security: &[],
            responses: RESPONSES,
            contract: "null",
        };
        assert_eq!(operation.response(404).and_then(|r| r.schema), Some("B"));
        assert_eq!(operation.response(200).and_then(|r| r.schema), Some("A"));
        assert_eq!(operation.response(500), None);
        let query = operation.parameter(ParameterLocation::Query, "id").unwrap();
        assert!(!query.required);
        assert!(
            operation
                .parameter(ParameterLocation::Path, "id")
                .unwrap()
                .required
        );
        assert_eq!(operation.parameter(ParameterLocation::Path, "other"), None);
    }

    /// The media type each body format is read in, as the content-type check compares it.
    #[test]
    fn body_formats_name_their_media_type() {
        assert_eq!(BodyFormat::Json.media_type(), "application/json");
        assert_eq!(
            BodyFormat::Form.media_type(),
            "application/x-www-form-urlencoded"
        );
    }
}
