#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The importer takes files users hand it: arbitrary text, and realistic
//! documents with any node replaced, removed or truncated, must give an
//! API or a non-empty list of problems — never a panic, and never an API
//! with a method the importer did not validate.

use iamgate_apimodel::model::{AuthorizationType, Integration, PathPart, parse_template};
use iamgate_apimodel::openapi::{ApiFlavour, ImportOptions, ImportedApi, import};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &[&str] = &[
    include_str!("fixtures/openapi/sam-rest.yaml"),
    include_str!("fixtures/openapi/cdk-spec.json"),
    include_str!("fixtures/openapi/sam-http.yaml"),
];

fn options(flavour: Option<ApiFlavour>) -> ImportOptions {
    ImportOptions {
        flavour,
        lambda_endpoint: Some("http://127.0.0.1:3001".to_owned()),
    }
}

/// What an imported API must satisfy whatever the input was.
fn check_outcome(text: &str, flavour: Option<ApiFlavour>) {
    match import(text, &options(flavour)) {
        Ok(api) => check_api(&api),
        Err(error) => {
            assert!(!error.problems.is_empty(), "an error without problems");
            assert!(error.to_string().starts_with("Errors found during import:"));
            for problem in &error.problems {
                assert!(problem.path.starts_with('$'), "{problem}");
            }
        }
    }
}

fn check_api(api: &ImportedApi) {
    match api.flavour {
        ApiFlavour::Rest => assert!(api.routes.is_empty()),
        ApiFlavour::Http => {
            assert!(api.methods.is_empty());
            assert!(api.policy.is_none(), "HTTP APIs never carry a policy");
        }
    }
    for method in &api.methods {
        let parts = parse_template(&method.resource_path);
        // A greedy part is always last.
        if let Some(position) = parts.iter().position(|p| matches!(p, PathPart::Greedy(_))) {
            assert_eq!(position + 1, parts.len(), "{}", method.resource_path);
        }
        check_integration(&method.integration);
        assert!(matches!(
            method.authorization,
            AuthorizationType::None | AuthorizationType::AwsIam
        ));
    }
    for route in &api.routes {
        check_integration(&route.integration);
        assert!(
            !matches!(
                route.integration,
                Integration::Mock { .. } | Integration::Mapped(_)
            ),
            "HTTP APIs have no mocks and no mapping templates"
        );
    }
}

fn check_integration(integration: &Integration) {
    match integration {
        Integration::Mock { status, .. } => assert!((100..=599).contains(status)),
        Integration::HttpProxy { uri, timeout_ms } => {
            assert!(uri.starts_with("http://"));
            assert!((50..=29_000).contains(timeout_ms));
        }
        Integration::LambdaProxy { function, .. } => {
            assert!(!function.is_empty() && !function.contains('/'));
        }
        Integration::Mapped(mapped) => {
            // Whatever was imported is what the one constructor accepts.
            let again = iamgate_apimodel::mapping::Mapped::from_record(&mapped.to_record());
            assert_eq!(again.as_ref(), Ok(mapped.as_ref()));
        }
    }
}

/// Every node of a document, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{token}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9_{}+/$:. -]{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("aws_proxy"),
            Just("HTTP_PROXY"),
            Just("mock"),
            Just("awsSigv4"),
            Just("/{proxy+}"),
            Just("/$default"),
            Just("#/components/x-amazon-apigateway-integrations/profile"),
            Just("arn:aws:lambda:us-east-1:123456789012:function:f"),
            Just("http://127.0.0.1:1/{proxy}"),
            Just("'*'"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z$/{}+-]{0,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn flavours() -> impl Strategy<Value = Option<ApiFlavour>> {
    prop_oneof![
        Just(None),
        Just(Some(ApiFlavour::Rest)),
        Just(Some(ApiFlavour::Http))
    ]
}

/// A fixture as a JSON value, to mutate node by node.
fn fixture_value(index: usize) -> Value {
    let text = FIXTURES[index % FIXTURES.len()];
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).unwrap()
    } else {
        serde_saphyr::from_str(text).unwrap()
    }
}

#[test]
fn fixtures_import_cleanly() {
    for (index, text) in FIXTURES.iter().enumerate() {
        let api = import(text, &options(None)).unwrap_or_else(|e| panic!("fixture {index}: {e}"));
        check_api(&api);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}", flavour in flavours()) {
        check_outcome(&text, flavour);
    }

    #[test]
    fn arbitrary_json_documents_never_panic(value in any_json(), flavour in flavours()) {
        check_outcome(&value.to_string(), flavour);
    }

    #[test]
    fn fixtures_with_a_node_replaced_never_panic(
        fixture in 0..FIXTURES.len(),
        pick in any::<prop::sample::Index>(),
        replacement in any_json(),
        flavour in flavours(),
    ) {
        let mut document = fixture_value(fixture);
        let mut all = Vec::new();
        pointers(&document, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        if pointer.is_empty() {
            document = replacement;
        } else if let Some(node) = document.pointer_mut(&pointer) {
            *node = replacement;
        }
        check_outcome(&document.to_string(), flavour);
    }

    #[test]
    fn fixtures_with_a_node_removed_never_panic(
        fixture in 0..FIXTURES.len(),
        pick in any::<prop::sample::Index>(),
        flavour in flavours(),
    ) {
        let mut document = fixture_value(fixture);
        let mut all = Vec::new();
        pointers(&document, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            let key = key.replace("~1", "/").replace("~0", "~");
            match document.pointer_mut(parent) {
                Some(Value::Object(map)) => { map.remove(&key); }
                Some(Value::Array(items)) => {
                    if let Ok(index) = key.parse::<usize>() && index < items.len() {
                        items.remove(index);
                    }
                }
                _ => {}
            }
        }
        check_outcome(&document.to_string(), flavour);
    }

    #[test]
    fn truncated_and_spliced_fixture_text_never_panics(
        fixture in 0..FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        insert in "\\PC{0,16}",
    ) {
        let text = FIXTURES[fixture];
        let boundaries: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
        let at = *cut.get(&boundaries);
        check_outcome(&text[..at], None);
        check_outcome(&format!("{}{insert}{}", &text[..at], &text[at..]), None);
    }
}
