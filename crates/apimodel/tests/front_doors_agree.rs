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

fn timeout_of(integration: &Integration) -> u64 {
    match integration {
        Integration::HttpProxy { timeout_ms, .. } | Integration::LambdaProxy { timeout_ms, .. } => {
            *timeout_ms
        }
        other => panic!("no timeout: {other:?}"),
    }
}

/// The world file's and OpenAPI's forms of an HTTP proxy and a Lambda
/// proxy integration, with `extra` fields.
fn proxies(extra: &str) -> [(String, String); 2] {
    [
        (
            format!("{{ type: HTTP_PROXY, uri: \"http://127.0.0.1:9/\"{extra} }}"),
            "{ type: http_proxy, httpMethod: GET, uri: \"http://b/\", payloadFormatVersion: \"1.0\"".to_owned(),
        ),
        (
            format!("{{ type: AWS_PROXY, endpoint: \"http://127.0.0.1:3001\", function: f{extra} }}"),
            "{ type: aws_proxy, httpMethod: POST, uri: \"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:f/invocations\", payloadFormatVersion: \"1.0\"".to_owned(),
        ),
    ]
}

#[test]
fn an_http_api_integration_defaults_to_30_seconds_and_a_rest_one_to_29_from_every_front_door() {
    assert_eq!(fields::default_timeout_ms(ApiFlavour::Http), 30_000);
    assert_eq!(fields::default_timeout_ms(ApiFlavour::Rest), 29_000);

    for (world_form, openapi_form) in proxies("") {
        let registry = world(&http_world("GET /a", &world_form)).unwrap();
        let route = &registry.http["h1b2c3d4e5"].stages["$default"].routes[0];
        assert_eq!(timeout_of(&route.integration), 30_000, "{world_form}");
        let registry = world(&rest_world("/a", &world_form)).unwrap();
        let method = &registry.rest["r1b2c3d4e5"].stages["prod"].root.children[0].methods[0];
        assert_eq!(timeout_of(&method.integration), 29_000, "{world_form}");

        let imported = openapi(ApiFlavour::Http, "/a", &format!("{openapi_form} }}")).unwrap();
        assert_eq!(
            timeout_of(&imported.routes[0].integration),
            30_000,
            "{openapi_form}"
        );
        let imported = openapi(ApiFlavour::Rest, "/a", &format!("{openapi_form} }}")).unwrap();
        assert_eq!(
            timeout_of(&imported.methods[0].integration),
            29_000,
            "{openapi_form}"
        );
    }
}

#[test]
fn the_integration_timeout_bound_is_aws_per_api_type_at_every_front_door() {
    for (flavour, max) in [(ApiFlavour::Rest, 29_000), (ApiFlavour::Http, 30_000)] {
        assert!(fields::integration_timeout(flavour, 50).is_ok());
        assert!(fields::integration_timeout(flavour, max).is_ok());
        assert!(fields::integration_timeout(flavour, 49).is_err());
        let refused = fields::integration_timeout(flavour, max + 1).unwrap_err().0;
        assert!(refused.contains(&max.to_string()), "{refused}");

        for ms in [max, max + 1] {
            for (world_form, openapi_form) in proxies(&format!(", timeout_ms: {ms}")) {
                let file = match flavour {
                    ApiFlavour::Rest => rest_world("/a", &world_form),
                    ApiFlavour::Http => http_world("GET /a", &world_form),
                };
                let imported = openapi(
                    flavour,
                    "/a",
                    &format!("{openapi_form}, timeoutInMillis: {ms} }}"),
                );
                if ms == max {
                    let registry = world(&file).unwrap();
                    let integration = match flavour {
                        ApiFlavour::Rest => {
                            &registry.rest["r1b2c3d4e5"].stages["prod"].root.children[0].methods[0]
                                .integration
                        }
                        ApiFlavour::Http => {
                            &registry.http["h1b2c3d4e5"].stages["$default"].routes[0].integration
                        }
                    };
                    assert_eq!(timeout_of(integration), max, "{world_form}");
                    let imported = imported.unwrap();
                    let integration = match flavour {
                        ApiFlavour::Rest => &imported.methods[0].integration,
                        ApiFlavour::Http => &imported.routes[0].integration,
                    };
                    assert_eq!(timeout_of(integration), max, "{openapi_form}");
                } else {
                    let errors = world(&file).unwrap_err();
                    assert!(errors.iter().any(|e| e.contains(&refused)), "{errors:?}");
                    let error = imported.unwrap_err();
                    assert!(error.contains(&refused), "{error}");
                }
            }
        }
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
    // The world file and the control planes leave it in the same form.
    let world_form =
        format!("{{ type: AWS_PROXY, endpoint: \"http://127.0.0.1:3001\", function: \"{bare}\" }}");
    let registry = world(&rest_world("/a", &world_form)).unwrap();
    match &registry.rest["r1b2c3d4e5"].stages["prod"].root.children[0].methods[0].integration {
        Integration::LambdaProxy { function, .. } => assert_eq!(function, "pets:live"),
        other => panic!("{other:?}"),
    }
    let errors = world(&rest_world(
        "/a",
        "{ type: AWS_PROXY, endpoint: \"http://127.0.0.1:3001\", function: \"bad/name\" }",
    ))
    .unwrap_err();
    assert!(
        errors.iter().any(|e| e.contains("'bad/name'")),
        "{errors:?}"
    );
    for reference in [apigateway, bare, "pets:live"] {
        assert_eq!(
            fields::function_to_invoke(reference).as_deref(),
            Some("pets:live"),
            "{reference}"
        );
    }
    for bad in [
        "",
        "pets:live:1",
        "bad/name",
        "arn:aws:lambda:us-east-1:1:layer:x",
    ] {
        assert_eq!(fields::function_to_invoke(bad), None, "{bad}");
    }
}
