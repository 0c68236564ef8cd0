//! Schemas as the strategies read them ([`Node`]): which forms are supported, how deep they may
//! nest, and how integer bounds written as floats are read.

use serde_json::{Value, json};
use spec_strategies::Node;

fn parse(schema: Value, definitions: Value) -> Result<Node, String> {
    Node::parse(&schema, definitions.as_object().unwrap(), "S").map_err(|e| e.to_string())
}

/// How a schema is wrapped in one more level.
type Wrap = fn(Value) -> Value;

/// An integer schema wrapped `depth` times in `wrap`.
fn nested(depth: usize, wrap: Wrap) -> Value {
    (0..depth).fold(json!({"type": "integer"}), |inner, _| wrap(inner))
}

/// Schemas nest up to 16 levels, through arrays, properties, references and nullable
/// references alike; deeper or recursive ones are refused rather than overflowing the stack.
#[test]
fn schemas_nest_sixteen_deep_and_recursion_is_refused() {
    let wraps: [(&str, Wrap); 3] = [
        ("items", |inner| json!({"type": "array", "items": inner})),
        (
            "properties",
            |inner| json!({"type": "object", "properties": {"P": inner}}),
        ),
        (
            "nullable",
            |inner| json!({"anyOf": [{"type": "null"}, inner]}),
        ),
    ];
    for (how, wrap) in wraps {
        assert!(parse(nested(16, wrap), json!({})).is_ok(), "{how}");
        assert!(
            parse(nested(17, wrap), json!({})).unwrap_err().ends_with(
                "a schema nested more than 16 levels deep (or a recursive one) is not supported"
            ),
            "{how}"
        );
    }
    // Sixteen references, then the integer.
    let mut chain: serde_json::Map<String, Value> = (0..16)
        .map(|n| {
            (
                format!("R{n}"),
                json!({"$ref": format!("#/definitions/R{}", n + 1)}),
            )
        })
        .collect();
    chain.insert("R16".into(), json!({"type": "integer"}));
    let chain = Value::Object(chain);
    assert!(parse(json!({"$ref": "#/definitions/R1"}), chain.clone()).is_ok());
    assert!(parse(json!({"$ref": "#/definitions/R0"}), chain).is_err());
    for recursive in [
        json!({"$ref": "#/definitions/Loop"}),
        json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/Loop"}]}),
    ] {
        assert_eq!(
            parse(
                json!({"$ref": "#/definitions/Loop"}),
                json!({"Loop": recursive})
            )
            .unwrap_err(),
            "S: a schema nested more than 16 levels deep (or a recursive one) is not supported"
        );
    }
}

#[test]
fn schema_forms_parse_to_what_they_allow() {
    assert_eq!(parse(json!(true), json!({})), Ok(Node::Any));
    assert!(parse(json!(false), json!({})).is_err());
    let definitions = json!({"I": {"type": "integer"}});
    assert_eq!(
        parse(
            json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/I"}]}),
            definitions.clone()
        ),
        Ok(Node::Nullable(Box::new(Node::Integer {
            min: None,
            max: None
        })))
    );
    for other in [
        json!({"anyOf": [{"$ref": "#/definitions/I"}, {"type": "null"}]}),
        json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    ] {
        assert_eq!(
            parse(other, definitions.clone()).unwrap_err(),
            "S: `anyOf` other than a nullable reference is not supported"
        );
    }
    assert!(Node::Nullable(Box::new(Node::Boolean)).is_nullable());
    assert!(Node::Any.is_nullable());
    assert!(!Node::Boolean.is_nullable());
}

/// Integer bounds written as floats are read when whole and within what an `i128` holds
/// comfortably; a fractional or huge one is refused, not rounded.
#[test]
fn integer_bounds_written_as_floats() {
    let bounds = |minimum: Value| parse(json!({"type": "integer", "minimum": minimum}), json!({}));
    assert_eq!(
        bounds(json!(-5.0)),
        Ok(Node::Integer {
            min: Some(-5),
            max: None
        })
    );
    assert_eq!(
        bounds(json!(1e20)),
        Ok(Node::Integer {
            min: Some(100_000_000_000_000_000_000),
            max: None
        })
    );
    assert_eq!(
        bounds(json!(u64::MAX)),
        Ok(Node::Integer {
            min: Some(u64::MAX.into()),
            max: None
        })
    );
    for refused in [
        json!(1.5),
        json!(-0.5),
        json!(1e30),
        json!(-1e31),
        json!("1"),
    ] {
        assert!(
            bounds(refused.clone())
                .unwrap_err()
                .contains("the integer bound"),
            "{refused}"
        );
    }
}
