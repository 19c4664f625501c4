#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Custom domain names made through the API Gateway API (Rust SDK) and
//! served: a REST API with its default endpoint disabled answers only under
//! its domain name's base path.

mod support;

use support::{Keys, Server, ServerOptions, http, sdk_config, sign_execute_api};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIADOMAINROOT000001, secret: "custom-domain-account-root-secret-0000001" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_with_its_default_endpoint_disabled_answers_only_under_its_domain_name() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let root = Keys::new(
        "AKIADOMAINROOT000001",
        "custom-domain-account-root-secret-0000001",
    );
    let apigw = aws_sdk_apigateway::Client::new(&sdk_config(&server.endpoint(), &root).await);
    let api = apigw
        .create_rest_api()
        .name("behind-a-domain")
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .unwrap();
    let api_id = api.id().unwrap().to_owned();
    let resource = api.root_resource_id().unwrap();
    apigw
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(resource)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&api_id)
        .resource_id(resource)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    apigw
        .put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(resource)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", "through the domain")
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    apigw
        .create_domain_name()
        .domain_name("api.example.net")
        .send()
        .await
        .unwrap();
    apigw
        .create_base_path_mapping()
        .domain_name("api.example.net")
        .base_path("v1")
        .rest_api_id(&api_id)
        .stage("prod")
        .send()
        .await
        .unwrap();

    let get = |host: &str, target: &str| {
        let headers = sign_execute_api(&root, "GET", host, target, &[]);
        http(server.port, "GET", target, &headers, b"").unwrap()
    };
    let answer = get("api.example.net", "/v1/");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "through the domain")
    );
    let answer = get(
        &format!("{api_id}.execute-api.us-east-1.amazonaws.com"),
        "/prod/",
    );
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    let answer = get("api.example.net", "/v2/");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
}
