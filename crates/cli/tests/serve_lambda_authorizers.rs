#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Lambda authorizers made with the AWS CLI through the control planes of
//! a running `iamgate serve` (`apigateway create-authorizer`, `put-method
//! --authorization-type CUSTOM`; `apigatewayv2 create-authorizer`,
//! `create-route`), with the authorizer function and the integration
//! served by a Lambda Invoke API on loopback (`--lambda-endpoint`); then
//! unsigned callers with and without a token get AWS's 200, 401 and 403,
//! and `iamgate explain` says the authorizer decided.

mod support;

use serde_json::{Value, json};
use support::{AwsCli, Keys, Server, ServerOptions, explain, http, start_lambda_api};

const WORLD: &str = r#"
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }
"#;

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    )
}

const AUTH_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations";
const ECHO_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:echo/invocations";

/// Invoked by name, as every front door leaves a function.
/// `auth` allows the token `allow` (any GET of any stage, by wildcard) and
/// denies everything else; `simple` authorizes the identity `yes`; `echo`
/// answers with the event it got.
fn functions(function: &str, event: &Value) -> (u16, String, bool) {
    let answer = match function {
        "auth" => {
            let token = event["authorizationToken"].as_str().unwrap_or_default();
            let effect = if token == "Bearer allow" {
                "Allow"
            } else {
                "Deny"
            };
            json!({
                "principalId": "user-7",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": effect, "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:us-east-1:111122223333:*/*/GET/*"}]},
                "context": {"tier": "gold"},
            })
        }
        "simple" => {
            json!({"isAuthorized": event["identitySource"][0] == "yes", "context": {"tier": "silver"}})
        }
        "echo" => {
            json!({"statusCode": 200, "body": event.to_string()})
        }
        _ => return (404, "{}".to_owned(), false),
    };
    (200, answer.to_string(), false)
}

fn start() -> (Server, tempfile::TempDir) {
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
    (server, dir)
}

/// An unsigned `GET path` of `api`, with `Authorization: token` if given:
/// status, `x-amzn-ErrorType`, request id and body.
fn call(
    server: &Server,
    api: &str,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>, String, String) {
    let mut headers = vec![(
        "host".to_owned(),
        format!("{api}.execute-api.us-east-1.amazonaws.com"),
    )];
    if let Some(token) = token {
        headers.push(("Authorization".to_owned(), token.to_owned()));
    }
    let response = http(server.port, "GET", path, &headers, b"").unwrap();
    let id = response
        .header("x-amzn-RequestId")
        .or_else(|| response.header("apigw-requestid"))
        .unwrap_or_default()
        .to_owned();
    let kind = response.header("x-amzn-ErrorType").map(str::to_owned);
    (response.status, kind, id, response.body)
}

#[test]
fn a_token_authorizer_made_with_the_aws_cli_guards_a_rest_method() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let run = |args: &[&str]| cli.run(&root(), args);
    let api = run(&["apigateway", "create-rest-api", "--name", "guarded"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root_resource = run(&["apigateway", "get-resources", "--rest-api-id", &id]).json()["items"]
        [0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = run(&[
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
        "--identity-validation-expression",
        "Bearer [a-z]+",
        "--authorizer-result-ttl-in-seconds",
        "0",
    ])
    .json();
    let authorizer = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["type"], "TOKEN");
    assert_eq!(
        created["identitySource"],
        "method.request.header.Authorization"
    );
    assert_eq!(created["authorizerResultTtlInSeconds"], 0);
    let listed = run(&["apigateway", "get-authorizers", "--rest-api-id", &id]).json();
    assert_eq!(listed["items"][0]["id"], authorizer.as_str());
    // A CUSTOM method needs an authorizer of its API.
    run(&[
        "apigateway",
        "put-method",
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_resource,
        "--http-method",
        "GET",
        "--authorization-type",
        "CUSTOM",
        "--authorizer-id",
        "nope00",
    ])
    .assert_error("BadRequestException", "Invalid authorizer ID specified");
    let method = run(&[
        "apigateway",
        "put-method",
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_resource,
        "--http-method",
        "GET",
        "--authorization-type",
        "CUSTOM",
        "--authorizer-id",
        &authorizer,
    ])
    .json();
    assert_eq!(method["authorizerId"], authorizer.as_str());
    run(&[
        "apigateway",
        "put-integration",
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_resource,
        "--http-method",
        "GET",
        "--type",
        "AWS_PROXY",
        "--integration-http-method",
        "POST",
        "--uri",
        ECHO_URI,
    ])
    .json();
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();

    let (status, _, _, body) = call(&server, &id, "/prod/", Some("Bearer allow"));
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"]["principalId"],
        "user-7"
    );
    assert_eq!(event["requestContext"]["authorizer"]["tier"], "gold");

    let (status, kind, _, body) = call(&server, &id, "/prod/", None);
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(kind.as_deref(), Some("UnauthorizedException"));
    let (status, _, _, _) = call(&server, &id, "/prod/", Some("Basic abc"));
    assert_eq!(status, 401, "the validation expression refuses it");

    let (status, kind, request_id, body) = call(&server, &id, "/prod/", Some("Bearer deny"));
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        )
    );
    assert_eq!(kind.as_deref(), Some("AccessDeniedException"));
    let record = explain(&server, &root(), &request_id).unwrap();
    let text = record.to_string();
    assert_eq!(record["rule"], "lambda_authorizer:tok:invoked", "{text}");
    assert!(
        text.contains("User is not authorized to access this resource with an explicit deny"),
        "{text}"
    );
    assert!(text.contains("explicit_deny"), "{text}");
    assert!(
        !text.contains("Bearer deny"),
        "the token is never recorded: {text}"
    );

    // In use, it cannot be deleted; updated, it takes effect on deployment.
    run(&[
        "apigateway",
        "delete-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        &authorizer,
    ])
    .assert_error("BadRequestException", "Cannot delete authorizer 'tok'");
    let updated = run(&[
        "apigateway",
        "update-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        &authorizer,
        "--patch-operations",
        r#"[{"op":"replace","path":"/identityValidationExpression","value":"Token [a-z]+"}]"#,
    ])
    .json();
    assert_eq!(updated["identityValidationExpression"], "Token [a-z]+");
    run(&[
        "apigateway",
        "update-authorizer",
        "--rest-api-id",
        &id,
        "--authorizer-id",
        &authorizer,
        "--patch-operations",
        "op=replace,path=/authorizerResultTtlInSeconds,value=4000",
    ])
    .assert_error("BadRequestException", "TTL");
}

#[test]
fn a_simple_response_authorizer_made_with_the_aws_cli_guards_an_http_route() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let run = |args: &[&str]| cli.run(&root(), args);
    let api = run(&[
        "apigatewayv2",
        "create-api",
        "--name",
        "guarded",
        "--protocol-type",
        "HTTP",
    ])
    .json();
    let id = api["ApiId"].as_str().unwrap().to_owned();
    let simple_uri = AUTH_URI.replace("function:auth", "function:simple");
    let authorizer = run(&[
        "apigatewayv2",
        "create-authorizer",
        "--api-id",
        &id,
        "--name",
        "simple",
        "--authorizer-type",
        "REQUEST",
        "--authorizer-uri",
        &simple_uri,
        "--identity-source",
        "$request.header.Authorization",
        "--authorizer-payload-format-version",
        "2.0",
        "--enable-simple-responses",
    ])
    .json();
    assert_eq!(authorizer["EnableSimpleResponses"], true);
    assert_eq!(
        authorizer["IdentitySource"],
        json!(["$request.header.Authorization"])
    );
    let authorizer_id = authorizer["AuthorizerId"].as_str().unwrap().to_owned();
    let integration = run(&[
        "apigatewayv2",
        "create-integration",
        "--api-id",
        &id,
        "--integration-type",
        "AWS_PROXY",
        "--integration-uri",
        "arn:aws:lambda:us-east-1:111122223333:function:echo",
        "--payload-format-version",
        "2.0",
    ])
    .json();
    let target = format!(
        "integrations/{}",
        integration["IntegrationId"].as_str().unwrap()
    );
    let route = run(&[
        "apigatewayv2",
        "create-route",
        "--api-id",
        &id,
        "--route-key",
        "GET /pets",
        "--authorization-type",
        "CUSTOM",
        "--authorizer-id",
        &authorizer_id,
        "--target",
        &target,
    ])
    .json();
    assert_eq!(route["AuthorizerId"], authorizer_id.as_str());
    run(&[
        "apigatewayv2",
        "create-stage",
        "--api-id",
        &id,
        "--stage-name",
        "$default",
        "--auto-deploy",
    ])
    .json();

    let (status, _, _, body) = call(&server, &id, "/pets", Some("yes"));
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"]["lambda"]["tier"],
        "silver"
    );
    let (status, _, _, body) = call(&server, &id, "/pets", Some("no"));
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (status, _, _, body) = call(&server, &id, "/pets", None);
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );

    run(&[
        "apigatewayv2",
        "delete-authorizer",
        "--api-id",
        &id,
        "--authorizer-id",
        &authorizer_id,
    ])
    .assert_error("BadRequestException", "attached to route GET /pets");
}
