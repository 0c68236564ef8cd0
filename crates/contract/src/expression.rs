//! OpenAPI runtime expressions (`$request.path.id`, `$response.body#/Value/Id`, ...) and the two
//! this project's `x-contract` extension adds (`$unique`, `$caller`), evaluated against what a
//! case sent and got.

use serde_json::Value;
use spec_strategies::Request;

/// A value in a link or an `x-contract` expectation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expression {
    /// A JSON constant.
    Constant(Value),
    /// `$request.path.NAME`.
    RequestPath(String),
    /// `$request.query.NAME`.
    RequestQuery(String),
    /// `$request.header.NAME`, the name as the spec gives the parameter.
    RequestHeader(String),
    /// `$request.body#/POINTER` (`$request.body` alone is the whole body).
    RequestBody(String),
    /// `$response.body#/POINTER`.
    ResponseBody(String),
    /// `$unique`: a value no earlier answer of the operation had at this place.
    Unique,
    /// `$caller`: the email of the authenticated user.
    Caller,
}

impl Expression {
    /// Reads a JSON value: a string starting with `$` is an expression, anything else a constant.
    pub(crate) fn parse(value: &Value) -> Result<Self, String> {
        let Some(text) = value.as_str().filter(|text| text.starts_with('$')) else {
            return Ok(Self::Constant(value.clone()));
        };
        let pointer = |rest: &str| -> Result<String, String> {
            match rest {
                "" => Ok(String::new()),
                _ => rest
                    .strip_prefix('#')
                    .filter(|pointer| pointer.starts_with('/'))
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{text}`: a body is followed by `#/pointer`")),
            }
        };
        if let Some(name) = text.strip_prefix("$request.path.") {
            Ok(Self::RequestPath(name.to_owned()))
        } else if let Some(name) = text.strip_prefix("$request.query.") {
            Ok(Self::RequestQuery(name.to_owned()))
        } else if let Some(name) = text.strip_prefix("$request.header.") {
            Ok(Self::RequestHeader(name.to_owned()))
        } else if let Some(rest) = text.strip_prefix("$request.body") {
            Ok(Self::RequestBody(pointer(rest)?))
        } else if let Some(rest) = text.strip_prefix("$response.body") {
            Ok(Self::ResponseBody(pointer(rest)?))
        } else if text == "$unique" {
            Ok(Self::Unique)
        } else if text == "$caller" {
            Ok(Self::Caller)
        } else {
            Err(format!(
                "`{text}` is not an expression this runner evaluates"
            ))
        }
    }

    /// The value the expression names in an exchange; `default` gives a query or header
    /// parameter's schema default when it was not sent. `None` when there is no such value (or the expression is
    /// `$unique` or `$caller`, which only a check can judge).
    pub(crate) fn evaluate(
        &self,
        request: &Request,
        response: Option<&Value>,
        default: &dyn Fn(&str) -> Option<Value>,
    ) -> Option<Value> {
        match self {
            Self::Constant(value) => Some(value.clone()),
            Self::RequestPath(name) => request.path.get(name).cloned(),
            Self::RequestQuery(name) => request.query.get(name).cloned().or_else(|| default(name)),
            Self::RequestHeader(name) => {
                request.headers.get(name).cloned().or_else(|| default(name))
            }
            Self::RequestBody(pointer) => request.body.as_ref()?.pointer(pointer).cloned(),
            Self::ResponseBody(pointer) => response?.pointer(pointer).cloned(),
            Self::Unique | Self::Caller => None,
        }
    }
}

impl std::fmt::Display for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Constant(value) => write!(f, "{value}"),
            Self::RequestPath(name) => write!(f, "$request.path.{name}"),
            Self::RequestQuery(name) => write!(f, "$request.query.{name}"),
            Self::RequestHeader(name) => write!(f, "$request.header.{name}"),
            Self::RequestBody(pointer) => write!(f, "$request.body#{pointer}"),
            Self::ResponseBody(pointer) => write!(f, "$response.body#{pointer}"),
            Self::Unique => write!(f, "$unique"),
            Self::Caller => write!(f, "$caller"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expressions_are_read_and_evaluated() {
        let parse = |value: Value| Expression::parse(&value);
        let request = Request {
            path: json!({"id": 7}).as_object().unwrap().clone(),
            query: json!({"page": 2}).as_object().unwrap().clone(),
            headers: json!({"X-Trace": "t1"}).as_object().unwrap().clone(),
            body: Some(json!({"Id": 9, "A": {"B": "c"}})),
        };
        let response = json!({"Value": {"Id": 11}});
        let default = |name: &str| (name == "size").then(|| json!(25));
        let value = |text: &str| {
            parse(json!(text))
                .unwrap()
                .evaluate(&request, Some(&response), &default)
        };
        assert_eq!(value("$request.path.id"), Some(json!(7)));
        assert_eq!(value("$request.query.page"), Some(json!(2)));
        assert_eq!(value("$request.header.X-Trace"), Some(json!("t1")));
        assert_eq!(value("$request.header.X-Other"), None);
        assert_eq!(value("$request.query.size"), Some(json!(25)));
        assert_eq!(value("$request.query.dir"), None);
        assert_eq!(value("$request.body#/A/B"), Some(json!("c")));
        assert_eq!(value("$response.body#/Value/Id"), Some(json!(11)));
        assert_eq!(value("plain text"), Some(json!("plain text")));
        assert_eq!(
            parse(json!(null)).unwrap(),
            Expression::Constant(Value::Null)
        );
        assert_eq!(parse(json!("$unique")).unwrap(), Expression::Unique);
        assert_eq!(parse(json!("$caller")).unwrap(), Expression::Caller);
        assert!(parse(json!("$request.cookie.x")).is_err());
        assert!(parse(json!("$response.body/Id")).is_err());
        assert_eq!(
            parse(json!("$request.body#/Id")).unwrap().to_string(),
            "$request.body#/Id"
        );
    }
}
