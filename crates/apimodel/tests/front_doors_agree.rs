#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! One rule, every front door: what the world file, the OpenAPI importer
//! and the control planes (through the same `fields` functions) accept or
//! refuse about an API must be the same, and must be AWS's.

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::fields;
use iamgate_apimodel::model::{Integration, PathPart};
use iamgate_apimodel::openapi::{ApiFlavour, ImportOptions, ImportedApi, import};

fn world(text: &str) -> Result<ApiRegistry, Vec<String>> {
    ApiRegistry::from_world_file(text)
}

fn rest_world(path: &str, integration: &str) -> String {
    format!(
        "apis:\n  - {{ id: r1b2c3d4e5, type: REST, account: \"111122223333\", region: us-east-1, stages: [prod],\n      methods: [{{ path: \"{path}\", method: GET, authorization: NONE, integration: {integration} }}] }}\n"
    )
}

fn http_world(key: &str, integration: &str) -> String {
    format!(
        "apis:\n  - {{ id: h1b2c3d4e5, type: HTTP, account: \"111122223333\", region: us-east-1,\n      routes: [{{ key: \"{key}\", authorization: NONE, integration: {integration} }}] }}\n"
    )
}

fn openapi(flavour: ApiFlavour, path: &str, integration: &str) -> Result<ImportedApi, String> {
    let text = format!(
        "openapi: 3.0.1\npaths:\n  \"{path}\":\n    get:\n      x-amazon-apigateway-integration: {integration}\n"
    );
    let options = ImportOptions {
        flavour: Some(flavour),
        lambda_endpoint: Some("http://127.0.0.1:3001".to_owned()),
    };
    import(&text, &options).map_err(|error| error.to_string())
}

const MOCK: &str = "{ type: MOCK }";
const GREEDY_NOT_LAST: &str = "/a/{proxy+}/b";

#[test]
fn a_greedy_segment_that_is_not_last_is_refused_by_every_front_door() {
    let rule = fields::path_template(ApiFlavour::Rest, "path", GREEDY_NOT_LAST)
        .unwrap_err()
        .0;
    assert!(rule.contains("{proxy+}"), "{rule}");
    let http_rule = fields::path_template(ApiFlavour::Http, "routeKey", GREEDY_NOT_LAST)
        .unwrap_err()
        .0;
    assert_eq!(rule, http_rule);

    let errors = world(&rest_world(GREEDY_NOT_LAST, MOCK)).unwrap_err();
    assert!(errors.iter().any(|e| e.contains(&rule)), "{errors:?}");
    let errors = world(&http_world(&format!("GET {GREEDY_NOT_LAST}"), MOCK)).unwrap_err();
    assert!(errors.iter().any(|e| e.contains(&rule)), "{errors:?}");

    let http_mock =
        "{ type: http_proxy, httpMethod: GET, uri: \"http://b/\", payloadFormatVersion: \"1.0\" }";
    for (flavour, integration) in [
        (ApiFlavour::Rest, "{ type: mock }"),
        (ApiFlavour::Http, http_mock),
    ] {
        let error = openapi(flavour, GREEDY_NOT_LAST, integration).unwrap_err();
        assert!(error.contains(&rule), "{flavour:?}: {error}");
    }

    // A greedy segment last is fine everywhere.
    assert!(world(&rest_world("/a/{proxy+}", MOCK)).is_ok());
    assert!(world(&http_world("GET /a/{proxy+}", MOCK)).is_ok());
    assert_eq!(
        fields::path_template(ApiFlavour::Rest, "path", "/a/{proxy+}").unwrap(),
        vec![
            PathPart::Literal("a".into()),
            PathPart::Greedy("proxy".into())
        ]
    );
}

#[test]
fn a_world_file_path_obeys_the_path_part_rule_of_create_resource() {
    // CreateResource refuses these path parts; so must the world file.
    for path in ["/a b", "/x{id}", "/a//b", "/{}", "/{a}{b}"] {
        assert!(
            fields::path_template(ApiFlavour::Rest, "path", path).is_err(),
            "{path}"
        );
        assert!(world(&rest_world(path, MOCK)).is_err(), "{path}");
        assert!(
            fields::path_part(path.trim_start_matches('/')).is_err() || path.contains("//"),
            "{path}"
        );
    }
}

fn http_proxy_timeout(integration: &Integration) -> u64 {
    match integration {
        Integration::HttpProxy { timeout_ms, .. } => *timeout_ms,
        other => panic!("not an HTTP proxy: {other:?}"),
    }
}

#[test]
fn an_http_api_integration_defaults_to_30_seconds_and_a_rest_one_to_29_from_every_front_door() {
    assert_eq!(fields::default_timeout_ms(ApiFlavour::Http), 30_000);
    assert_eq!(fields::default_timeout_ms(ApiFlavour::Rest), 29_000);

    let proxy = "{ type: HTTP_PROXY, uri: \"http://127.0.0.1:9/\" }";
    let registry = world(&http_world("GET /a", proxy)).unwrap();
    let route = &registry.http["h1b2c3d4e5"].stages["$default"].routes[0];
    assert_eq!(http_proxy_timeout(&route.integration), 30_000);
    let registry = world(&rest_world("/a", proxy)).unwrap();
    let method = &registry.rest["r1b2c3d4e5"].stages["prod"].root.children[0].methods[0];
    assert_eq!(http_proxy_timeout(&method.integration), 29_000);

    let imported = openapi(
        ApiFlavour::Http,
        "/a",
        "{ type: http_proxy, httpMethod: GET, uri: \"http://b/\", payloadFormatVersion: \"1.0\" }",
    )
    .unwrap();
    assert_eq!(http_proxy_timeout(&imported.routes[0].integration), 30_000);
    let imported = openapi(
        ApiFlavour::Rest,
        "/a",
        "{ type: http_proxy, httpMethod: GET, uri: \"http://b/\" }",
    )
    .unwrap();
    assert_eq!(http_proxy_timeout(&imported.methods[0].integration), 29_000);
}

#[test]
fn the_integration_timeout_bound_is_aws_per_api_type_at_every_front_door() {
    for (flavour, max) in [(ApiFlavour::Rest, 29_000), (ApiFlavour::Http, 30_000)] {
        assert!(fields::integration_timeout(flavour, 50).is_ok());
        assert!(fields::integration_timeout(flavour, max).is_ok());
        assert!(fields::integration_timeout(flavour, 49).is_err());
        let refused = fields::integration_timeout(flavour, max + 1).unwrap_err().0;
        assert!(refused.contains(&max.to_string()), "{refused}");

        let proxy = |ms: u64| {
            format!("{{ type: HTTP_PROXY, uri: \"http://127.0.0.1:9/\", timeout_ms: {ms} }}")
        };
        let file = |ms: u64| match flavour {
            ApiFlavour::Rest => rest_world("/a", &proxy(ms)),
            ApiFlavour::Http => http_world("GET /a", &proxy(ms)),
        };
        assert!(world(&file(max)).is_ok(), "{flavour:?} {max}");
        let errors = world(&file(max + 1)).unwrap_err();
        assert!(errors.iter().any(|e| e.contains(&refused)), "{errors:?}");

        let imported = |ms: u64| {
            openapi(
                flavour,
                "/a",
                &format!(
                    "{{ type: http_proxy, httpMethod: GET, uri: \"http://b/\", payloadFormatVersion: \"1.0\", timeoutInMillis: {ms} }}"
                ),
            )
        };
        assert!(imported(max).is_ok(), "{flavour:?} {max}");
        let error = imported(max + 1).unwrap_err();
        assert!(error.contains(&refused), "{error}");
    }
}

#[test]
fn a_lambda_uri_names_the_same_function_for_every_reader() {
    let apigateway = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:pets:live/invocations";
    let bare = "arn:aws:lambda:us-east-1:111122223333:function:pets:live";
    let via = fields::lambda_function(apigateway).unwrap();
    assert_eq!(via.invoked, bare);
    assert_eq!(via.name().as_deref(), Some("pets:live"));
    // A bare function ARN is an HTTP API's integration URI only.
    let direct = fields::lambda_function(bare).unwrap();
    assert!(!direct.via_apigateway && via.via_apigateway);
    assert_eq!(direct.name(), via.name());
    // The OpenAPI importer invokes what the shared parser names.
    let imported = openapi(
        ApiFlavour::Rest,
        "/a",
        &format!("{{ type: aws_proxy, httpMethod: POST, uri: \"{apigateway}\" }}"),
    )
    .unwrap();
    match &imported.methods[0].integration {
        Integration::LambdaProxy { function, .. } => {
            assert_eq!(Some(function.clone()), via.name());
        }
        other => panic!("{other:?}"),
    }
}
