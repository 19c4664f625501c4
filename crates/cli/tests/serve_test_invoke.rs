#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `aws apigateway test-invoke-authorizer` and `test-invoke-method`
//! against a running `iamgate serve`, on an API never deployed: the
//! authorizer function and the integration are served by a Lambda Invoke
//! API on loopback (`--lambda-endpoint`). The authorizer answers its
//! principal and policy (401 without a token), the method runs without
//! its authorizer, and the token never reaches the server's log.

mod support;

use serde_json::{Value, json};
use support::{AwsCli, Keys, Server, ServerOptions, start_lambda_api};

const WORLD: &str = r#"
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }
"#;

const AUTH_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations";
const ECHO_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:echo/invocations";
const TOKEN: &str = "Bearer allow-secret-token";

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    )
}

/// `auth` allows its own method ARN for the token [`TOKEN`]; `echo`
/// answers with the event it got.
fn functions(function: &str, event: &Value) -> (u16, String, bool) {
    let answer = match function {
        "auth" if event["authorizationToken"] == TOKEN => json!({
            "principalId": "user-7",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": event["methodArn"]}]},
        }),
        "auth" => return (200, "{}".to_owned(), true),
        "echo" => {
            json!({"statusCode": 200, "headers": {"X-Echo": "yes"}, "body": event.to_string()})
        }
        _ => return (404, "{}".to_owned(), false),
    };
    (200, answer.to_string(), false)
}

#[test]
fn test_invoke_runs_an_undeployed_authorizer_and_method_with_the_aws_cli() {
    let lambda = start_lambda_api(functions);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        args: vec![
            "--lambda-endpoint".into(),
            format!("http://127.0.0.1:{lambda}"),
        ],
        ..ServerOptions::default()
    });
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let run = |args: &[&str]| cli.run(&root(), args);
    let api = run(&["apigateway", "create-rest-api", "--name", "tested"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    let pets = run(&[
        "apigateway",
        "create-resource",
        "--rest-api-id",
        &id,
        "--parent-id",
        &root_id,
        "--path-part",
        "{petId}",
    ])
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let authorizer = run(&[
        "apigateway",
        "create-authorizer",
        "--rest-api-id",
        &id,
        "--name",
        "tok",
        "--type",
        "TOKEN",
        "--authorizer-uri",
        AUTH_URI,
        "--identity-source",
        "method.request.header.Authorization",
    ])
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = [
        "--rest-api-id",
        &id,
        "--resource-id",
        &pets,
        "--http-method",
        "GET",
    ];
    run(&[
        &["apigateway", "put-method"][..],
        &at,
        &[
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &authorizer,
            "--api-key-required",
        ],
    ]
    .concat());
    run(&[
        &["apigateway", "put-integration"][..],
        &at,
        &[
            "--type",
            "AWS_PROXY",
            "--integration-http-method",
            "POST",
            "--uri",
            ECHO_URI,
        ],
    ]
    .concat());

    // The authorizer, with a token and without.
    let headers = json!({ "Authorization": TOKEN }).to_string();
    let tested = run(&[
        "apigateway",
        "test-invoke-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        &authorizer,
        "--headers",
        &headers,
        "--path-with-query-string",
        "/7",
    ])
    .json();
    assert_eq!(tested["clientStatus"], 200, "{tested}");
    assert_eq!(tested["principalId"], "user-7");
    let policy: Value = serde_json::from_str(tested["policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:execute-api:us-east-1:111122223333:{id}/ESTestInvoke-stage/GET/7")
    );
    assert!(tested["latency"].is_number());
    assert!(!tested["log"].as_str().unwrap().contains(TOKEN));
    let refused = run(&[
        "apigateway",
        "test-invoke-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        &authorizer,
    ])
    .json();
    assert_eq!(refused["clientStatus"], 401, "{refused}");
    assert!(refused.get("principalId").is_none());
    run(&[
        "apigateway",
        "test-invoke-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        "nope00",
    ])
    .assert_error(
        "NotFoundException",
        "Invalid Authorizer identifier specified",
    );

    // The method: no token and no API key, yet it runs (authorization is
    // skipped), on the test stage, with its path parameter.
    let tested = run(&[
        &["apigateway", "test-invoke-method"][..],
        &at,
        &[
            "--path-with-query-string",
            "/7?size=2",
            "--body",
            "{\"a\": 1}",
        ],
    ]
    .concat())
    .json();
    assert_eq!(tested["status"], 200, "{tested}");
    assert_eq!(tested["headers"]["X-Echo"], "yes");
    assert_eq!(tested["multiValueHeaders"]["X-Echo"], json!(["yes"]));
    let event: Value = serde_json::from_str(tested["body"].as_str().unwrap()).unwrap();
    assert_eq!(event["pathParameters"], json!({"petId": "7"}));
    assert_eq!(event["queryStringParameters"], json!({"size": "2"}));
    assert_eq!(event["body"], "{\"a\": 1}");
    assert_eq!(event["requestContext"]["stage"], "test-invoke-stage");
    assert!(tested["log"].as_str().unwrap().contains("skipped"));
    run(&[
        "apigateway",
        "test-invoke-method",
        "--rest-api-id",
        &id,
        "--resource-id",
        &pets,
        "--http-method",
        "DELETE",
    ])
    .assert_error("NotFoundException", "Invalid Method identifier specified");

    let logs = server.stop();
    assert!(!logs.contains("allow-secret-token"), "a token was logged");
}
