#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! What the world file and the OpenAPI importer store: a header no HTTP
//! response may carry is refused where it would be stored (issue 17: such
//! a value used to break its method for good), names, paths and stage
//! names are bounded at AWS's limits, and an answer that still cannot be
//! sent becomes AWS's 500, never a plain-text one.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::model::{
    AuthorizationType, EndpointType, Integration, Method, Resource, RestApi, RestStage,
    parse_template,
};
use iamgate_apimodel::openapi::{self, ApiFlavour, ImportOptions};
use iamgate_gateway::dataplane::DataPlane;
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use support::request;

const NOW: i64 = 1_795_277_521;

/// Characters no header value may hold, as YAML double-quoted escapes and
/// as Rust text.
const BAD_VALUES: &[(&str, &str)] = &[
    ("\\n", "\n"),
    ("\\r", "\r"),
    ("\\0", "\0"),
    ("\\x01", "\u{1}"),
    ("\\x7f", "\u{7f}"),
];

fn rest_entry(integration: &str, extra: &str) -> String {
    format!(
        "apis:\n  - {{ id: a1b2c3d4e5, type: REST, account: \"111122223333\", region: us-east-1, stages: [prod], {extra}methods: [{{ path: /, method: GET, authorization: NONE, integration: {integration} }}] }}\n"
    )
}

#[test]
fn a_world_file_mock_header_no_http_response_can_carry_is_refused() {
    for (escaped, _) in BAD_VALUES {
        let text = rest_entry(
            &format!("{{ type: MOCK, headers: {{ Content-Type: \"text/plain{escaped}\" }} }}"),
            "",
        );
        let errors = ApiRegistry::from_world_file(&text).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("MOCK headers: Invalid value for header Content-Type")),
            "{escaped}: {errors:?}"
        );
    }
    let text = rest_entry("{ type: MOCK, headers: { \"X Bad\": v } }", "");
    let errors = ApiRegistry::from_world_file(&text).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Invalid header name 'X Bad'")),
        "{errors:?}"
    );
    // HTTP APIs' MOCK routes go through the same rule.
    let http = "apis:\n  - { id: h1b2c3d4e5, type: HTTP, account: \"111122223333\", region: us-east-1, routes: [{ key: \"GET /\", authorization: NONE, integration: { type: MOCK, headers: { X-A: \"a\\nb\" } } }] }\n";
    assert!(ApiRegistry::from_world_file(http).is_err());
    // What a header may carry is still accepted.
    let fine = rest_entry(
        "{ type: MOCK, headers: { Content-Type: \"text/plain; charset=utf-8\" } }",
        "",
    );
    assert!(ApiRegistry::from_world_file(&fine).is_ok());
}

fn mock_document(value: &str) -> String {
    serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "t"},
        "paths": {"/": {"get": {"x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "responses": {"default": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.Content-Type": value}
            }}
        }}}}
    })
    .to_string()
}

#[test]
fn an_openapi_static_header_no_http_response_can_carry_is_refused_with_aws_words() {
    let options = ImportOptions {
        flavour: Some(ApiFlavour::Rest),
        lambda_endpoint: None,
    };
    for (escaped, raw) in BAD_VALUES {
        let error = openapi::import(&mock_document(&format!("'text/plain{raw}'")), &options)
            .unwrap_err()
            .to_string();
        let shown: String = raw.chars().flat_map(char::escape_default).collect();
        assert!(
            error.contains(&format!(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: 'text/plain{shown}']"
            )),
            "{escaped}: {error}"
        );
        assert!(!error.contains('\r') && !error.contains('\0'), "{error:?}");
    }
    let imported = openapi::import(&mock_document("'text/plain'"), &options).unwrap();
    let Integration::Mapped(mapped) = &imported.methods[0].integration else {
        panic!("a mock");
    };
    assert_eq!(
        mapped.responses[0].parameters,
        [("Content-Type".to_owned(), "'text/plain'".to_owned())]
    );
}

/// A REST API whose MOCK answers with `headers`, as a document stored
/// before the checks existed would deploy it.
fn registry_serving(headers: Vec<(String, String)>) -> ApiRegistry {
    let mut root = Resource::root();
    root.add(
        &parse_template("/"),
        Method {
            http_method: "GET".into(),
            resource_path: "/".into(),
            authorization: AuthorizationType::None,
            integration: Integration::Mock {
                status: 200,
                headers,
                body: "the secret body".into(),
            },
            api_key_required: false,
            request: Default::default(),
        },
    );
    let stage = RestStage {
        name: "prod".into(),
        root,
        policy: None,
        policy_text: None,
        variables: Vec::new(),
        gateway_responses: Default::default(),
    };
    let mut registry = ApiRegistry::default();
    registry.rest.insert(
        "a1b2c3d4e5".into(),
        Arc::new(RestApi {
            id: "a1b2c3d4e5".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            endpoint_type: EndpointType::Regional,
            stages: HashMap::from([("prod".to_owned(), stage)]),
        }),
    );
    registry
}

#[tokio::test]
async fn an_answer_that_cannot_be_sent_becomes_aws_500_never_plain_text() {
    let config = WorldConfig::parse("accounts: []\n").unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let world = World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()));
    let plane = DataPlane::default();
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let call = |registry: ApiRegistry| {
        let world = &world;
        let plane = &plane;
        async move {
            let signed = request("GET", "/prod/", host, NOW, None);
            let headers = signed.refs();
            let view =
                HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
            let facts = RequestFacts {
                now: NOW,
                ..RequestFacts::default()
            };
            plane
                .handle(&registry, "a1b2c3d4e5", "/prod/", &view, facts, world)
                .await
        }
    };
    for (_, raw) in BAD_VALUES {
        let answer = call(registry_serving(vec![(
            "Content-Type".into(),
            format!("text/plain{raw}"),
        )]))
        .await;
        assert!(!answer.is_sendable(), "{answer:?}");
        let sent = answer.sendable();
        assert_eq!(sent.status, 500);
        assert_eq!(sent.body, r#"{"message": "Internal server error"}"#);
        assert_eq!(
            sent.header("x-amzn-ErrorType"),
            Some("InternalServerErrorException")
        );
        assert!(
            sent.header("x-amzn-RequestId")
                .is_some_and(|id| !id.is_empty())
        );
        assert!(sent.is_sendable());
    }
    // A sendable answer goes out as it is.
    let fine = call(registry_serving(vec![(
        "Content-Type".into(),
        "text/plain".into(),
    )]))
    .await;
    assert_eq!(fine.clone().sendable(), fine);
    assert_eq!(fine.body, "the secret body");
}

#[test]
fn world_file_paths_route_keys_and_stage_names_are_bounded_at_the_limits() {
    let mock = "{ type: MOCK }";
    let path_of = |length: usize| format!("/{}", "p".repeat(length - 1));
    let with_path = |path: &str| {
        format!(
            "apis:\n  - {{ id: a1b2c3d4e5, type: REST, account: \"111122223333\", region: us-east-1, stages: [prod], methods: [{{ path: \"{path}\", method: GET, authorization: NONE, integration: {mock} }}] }}\n"
        )
    };
    assert!(ApiRegistry::from_world_file(&with_path(&path_of(1024))).is_ok());
    let errors = ApiRegistry::from_world_file(&with_path(&path_of(1025))).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Member must have length less than or equal to 1024")),
        "{errors:?}"
    );

    let with_key = |path: &str| {
        format!(
            "apis:\n  - {{ id: h1b2c3d4e5, type: HTTP, account: \"111122223333\", region: us-east-1, routes: [{{ key: \"GET {path}\", authorization: NONE, integration: {mock} }}] }}\n"
        )
    };
    assert!(ApiRegistry::from_world_file(&with_key(&path_of(1024))).is_ok());
    assert!(ApiRegistry::from_world_file(&with_key(&path_of(1025))).is_err());

    let with_stage = |stage: &str| rest_entry(mock, "").replace("[prod]", &format!("[{stage}]"));
    assert!(ApiRegistry::from_world_file(&with_stage(&"s".repeat(128))).is_ok());
    for bad in ["s".repeat(129), "a/b".to_owned(), "$default".to_owned()] {
        let errors = ApiRegistry::from_world_file(&with_stage(&format!("\"{bad}\""))).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("Invalid stage name")),
            "{bad}: {errors:?}"
        );
    }
}

#[test]
fn openapi_titles_and_paths_are_bounded_at_the_limits() {
    let document = |title: &str, path: &str| {
        serde_json::json!({
            "openapi": "3.0.1",
            "info": {"title": title},
            "paths": {path: {"get": {"x-amazon-apigateway-integration": {
                "type": "http_proxy", "uri": "http://127.0.0.1:9/", "payloadFormatVersion": "1.0"
            }}}}
        })
        .to_string()
    };
    let rest = ImportOptions {
        flavour: Some(ApiFlavour::Rest),
        lambda_endpoint: None,
    };
    let http = ImportOptions {
        flavour: Some(ApiFlavour::Http),
        lambda_endpoint: None,
    };
    let path_of = |length: usize| format!("/{}", "p".repeat(length - 1));
    assert!(openapi::import(&document(&"n".repeat(1024), "/"), &rest).is_ok());
    let error = openapi::import(&document(&"n".repeat(1025), "/"), &rest)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("$.info.title: 1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to 1024"),
        "{error}"
    );
    assert!(openapi::import(&document(&"n".repeat(128), "/"), &http).is_ok());
    assert!(openapi::import(&document(&"n".repeat(129), "/"), &http).is_err());
    for options in [&rest, &http] {
        assert!(openapi::import(&document("t", &path_of(1024)), options).is_ok());
        let error = openapi::import(&document("t", &path_of(1025)), options)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("Member must have length less than or equal to 1024"),
            "{error}"
        );
    }
}
