#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Model schemas are text users hand the control plane (CreateModel, an
//! OpenAPI document's schemas), and bodies are what any client sends: a
//! schema built of arbitrary keywords and values is kept or refused, and a
//! kept one checks arbitrary bodies, even when every model it names is
//! itself — never a panic, never a check that runs away.

use iamgate_apimodel::json_schema::Schema;
use proptest::prelude::*;
use serde_json::Value;

/// JSON values whose keys are mostly JSON Schema keywords, so that
/// generated schemas get past the first checks.
fn schema_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..1_000_000).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("object"),
            Just("array"),
            Just("string"),
            Just("integer"),
            Just("number"),
            Just("boolean"),
            Just("null"),
            Just("#"),
            Just("#/definitions/a"),
            Just("https://apigateway.amazonaws.com/restapis/a1/models/Pet"),
            Just("^[a-z]+$"),
            Just("(a|b)*c"),
            Just("date-time"),
            Just("email"),
            Just("http://json-schema.org/draft-04/schema#"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    let keyword = prop_oneof![
        Just("type"),
        Just("properties"),
        Just("items"),
        Just("required"),
        Just("enum"),
        Just("$ref"),
        Just("allOf"),
        Just("anyOf"),
        Just("oneOf"),
        Just("not"),
        Just("definitions"),
        Just("minimum"),
        Just("maximum"),
        Just("exclusiveMinimum"),
        Just("minLength"),
        Just("maxLength"),
        Just("pattern"),
        Just("format"),
        Just("minItems"),
        Just("uniqueItems"),
        Just("additionalProperties"),
        Just("patternProperties"),
        Just("multipleOf"),
        Just("$schema"),
        Just("title"),
        Just("a"),
    ]
    .prop_map(str::to_owned);
    leaf.prop_recursive(5, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keyword.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_body() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Parses `schema`; if kept, checks `body` with every named model being
/// the schema itself.
fn exercise(schema: &str, body: &Value) {
    let Ok(schema) = Schema::parse(schema) else {
        return;
    };
    let _ = schema.model_references();
    let again = schema.clone();
    let _ = schema.validates(body, &|_| Some(again.clone()));
}

#[test]
fn a_schema_whose_references_come_back_round_is_checked_to_an_end() {
    for text in [
        r##"{"$ref": "#"}"##,
        r##"{"allOf": [{"$ref": "#"}], "anyOf": [{"$ref": "#"}, {"not": {"$ref": "#"}}]}"##,
        r#"{"$ref": "https://apigateway.amazonaws.com/restapis/a1/models/Pet"}"#,
        r##"{"type": "object", "properties": {"a": {"$ref": "#"}}, "definitions": {"d": {"$ref": "#/definitions/d"}}}"##,
    ] {
        let deep = (0..200).fold(Value::Null, |inner, _| serde_json::json!({ "a": inner }));
        exercise(text, &deep);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_as_a_schema_never_panics(text in "\\PC{0,200}", body in any_body()) {
        exercise(&text, &body);
    }

    #[test]
    fn schema_like_documents_never_panic_and_check_any_body(
        schema in schema_like(),
        body in any_body(),
    ) {
        exercise(&schema.to_string(), &body);
    }
}

/// The generator is worth running only if a fair share of what it makes
/// is kept and so checks bodies.
#[test]
fn the_schema_like_generator_makes_schemas_that_are_kept() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = schema_like();
    let kept = (0..400)
        .filter(|_| {
            let schema = strategy.new_tree(&mut runner).unwrap().current();
            Schema::parse(&schema.to_string()).is_ok()
        })
        .count();
    assert!(kept >= 20, "only {kept} of 400 kept");
}
