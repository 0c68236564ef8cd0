//! What the generated types refuse names the property: a float field that is not finite fails to
//! serialise (serde_json alone would write `null` and lose the value), and a newtype's conversion
//! error and a builder's error start with the property they are about.

use fixture_api::types::{WidgetV2, WidgetV2Name};

fn widget(weight: Option<f64>) -> WidgetV2 {
    WidgetV2 {
        name: "bolt".parse().unwrap(),
        weight,
    }
}

#[test]
fn a_float_that_is_not_finite_is_refused_naming_its_property() {
    for weight in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = serde_json::to_string(&widget(Some(weight))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Weight: is not a finite number (JSON has no NaN or infinity)"
        );
    }
    assert_eq!(
        serde_json::to_string(&widget(Some(-0.5))).unwrap(),
        r#"{"Name":"bolt","Weight":-0.5}"#
    );
    assert_eq!(
        serde_json::to_string(&widget(None)).unwrap(),
        r#"{"Name":"bolt"}"#
    );
}

#[test]
fn a_conversion_error_names_its_property() {
    let error = "x".repeat(11).parse::<WidgetV2Name>().unwrap_err();
    assert_eq!(error.to_string(), "Name: longer than 10 characters");
    assert!("x".repeat(10).parse::<WidgetV2Name>().is_ok());
    // Deserialising goes through the same conversion, so serde's error says it too.
    let error = serde_json::from_str::<WidgetV2>(r#"{"Name":"xxxxxxxxxxx"}"#).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Name: longer than 10 characters"),
        "{error}"
    );
}

#[test]
fn a_builder_names_the_property_it_misses_or_refuses() {
    let error = WidgetV2::try_from(WidgetV2::builder().weight(1.5)).unwrap_err();
    assert_eq!(error.to_string(), "Name: no value supplied");
    // The newtype's own error already names the property: it is not named twice.
    let error = WidgetV2::try_from(WidgetV2::builder().name("x".repeat(11))).unwrap_err();
    assert_eq!(error.to_string(), "Name: longer than 10 characters");
    // What is left unset keeps its default: an optional property stays out of the JSON.
    let built = WidgetV2::try_from(WidgetV2::builder().name("bolt")).unwrap();
    assert_eq!(built, widget(None));
}
