#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Gateway responses customized with the AWS CLI on a running
//! `iamgate serve` (PutGatewayResponse, GetGatewayResponses,
//! UpdateGatewayResponse, DeleteGatewayResponse) and served at
//! execute-api after the next deployment: a custom ACCESS_DENIED to a
//! denied caller, DEFAULT_4XX standing in for MISSING_AUTHENTICATION_TOKEN,
//! and refused values leaving the stored API unchanged.

mod support;

use support::{AwsCli, Keys, Server, ServerOptions, explain, http, sign_execute_api};

/// One account: its root builds the API; `allowed` may invoke `GET /` of
/// stage `prod`, `denied` has no policy.
const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEGWROOT001, secret: "exampleGatewayResponsesRootSecretKey0001" }
    users:
      - name: allowed
        access_keys: [{ id: AKIAEXAMPLEGWALLOW01, secret: "exampleGatewayResponsesAllowedSecret0001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [execute-api:Invoke]
                Resource: ["arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/"]
      - name: denied
        access_keys: [{ id: AKIAEXAMPLEGWDENY001, secret: "exampleGatewayResponsesDeniedSecret00001" }]
"#;

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEGWROOT001",
        "exampleGatewayResponsesRootSecretKey0001",
    )
}
fn allowed() -> Keys {
    Keys::new(
        "AKIAEXAMPLEGWALLOW01",
        "exampleGatewayResponsesAllowedSecret0001",
    )
}
fn denied() -> Keys {
    Keys::new(
        "AKIAEXAMPLEGWDENY001",
        "exampleGatewayResponsesDeniedSecret00001",
    )
}

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

fn host(api: &str) -> String {
    format!("{api}.execute-api.us-east-1.amazonaws.com")
}

/// `GET /prod/` signed by `keys` with an `x-trace` header.
fn invoke_signed(server: &Server, api: &str, keys: &Keys) -> support::HttpResponse {
    let headers = sign_execute_api(keys, "GET", &host(api), "/prod/", &[("x-trace", "t-1")]);
    http(server.port, "GET", "/prod/", &headers, b"").unwrap()
}

/// `GET /prod/` with no signature.
fn invoke_unsigned(server: &Server, api: &str) -> support::HttpResponse {
    let headers = vec![("Host".to_owned(), host(api))];
    http(server.port, "GET", "/prod/", &headers, b"").unwrap()
}

#[test]
fn customized_gateway_responses_are_served_after_the_next_deployment() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = root();
    let run = |args: &[&str]| cli.run(&owner, args);

    let api = run(&["apigateway", "create-rest-api", "--name", "gw-responses"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    let at = [
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_id,
        "--http-method",
        "GET",
    ];
    run(&[
        &["apigateway", "put-method"][..],
        &at,
        &["--authorization-type", "AWS_IAM"],
    ]
    .concat())
    .json();
    cli.put_mock_200(&owner, &at, Some(r#"{"ok": true}"#));
    let deploy = || {
        run(&[
            "apigateway",
            "create-deployment",
            "--rest-api-id",
            &id,
            "--stage-name",
            "prod",
        ])
        .json()
    };
    deploy();
    let default_denial = invoke_signed(&server, &id, &denied());
    assert_eq!(default_denial.status, 403);
    assert!(
        default_denial.body.starts_with(
            r#"{"Message":"User: arn:aws:iam::123456789012:user/denied is not authorized"#
        ),
        "{}",
        default_denial.body
    );

    // Every type is listed, the uncustomized ones as AWS's defaults.
    let all = run(&["apigateway", "get-gateway-responses", "--rest-api-id", &id]).json();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 21);
    assert!(items.iter().all(|item| item["defaultResponse"] == true));
    let missing = items
        .iter()
        .find(|item| item["responseType"] == "MISSING_AUTHENTICATION_TOKEN")
        .unwrap();
    assert_eq!(missing["statusCode"], "403");
    assert_eq!(
        missing["responseTemplates"]["application/json"],
        r#"{"message":$context.error.messageString}"#
    );

    let template = r#"{"denied":"$context.error.message","type":"$context.error.responseType","request":"$context.requestId"}"#;
    let put = run(&[
        "apigateway",
        "put-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
        "--status-code",
        "401",
        "--response-parameters",
        &serde_json::json!({
            "gatewayresponse.header.X-Denied-By": "'iamgate'",
            "gatewayresponse.header.X-Trace": "method.request.header.x-trace",
        })
        .to_string(),
        "--response-templates",
        &serde_json::json!({ "application/json": template }).to_string(),
    ])
    .json();
    assert_eq!(put["responseType"], "ACCESS_DENIED");
    assert_eq!(put["statusCode"], "401");
    assert_eq!(put["defaultResponse"], false);
    assert_eq!(put["responseTemplates"]["application/json"], template);

    // Saved, but not served before the next deployment.
    assert_eq!(
        invoke_signed(&server, &id, &denied()).body,
        default_denial.body
    );
    deploy();
    let custom = invoke_signed(&server, &id, &denied());
    assert_eq!(custom.status, 401, "{}", custom.body);
    assert_eq!(custom.header("X-Denied-By"), Some("iamgate"));
    assert_eq!(custom.header("X-Trace"), Some("t-1"));
    assert_eq!(
        custom.header("x-amzn-ErrorType"),
        Some("AccessDeniedException")
    );
    let body: serde_json::Value = serde_json::from_str(&custom.body).unwrap();
    let message =
        serde_json::from_str::<serde_json::Value>(&default_denial.body).unwrap()["Message"].clone();
    assert_eq!(body["denied"], message);
    assert_eq!(body["type"], "ACCESS_DENIED");
    assert_eq!(body["request"].as_str(), custom.header("x-amzn-RequestId"));
    // The allowed caller is not touched.
    let ok = invoke_signed(&server, &id, &allowed());
    assert_eq!((ok.status, ok.body.as_str()), (200, r#"{"ok": true}"#));

    // DEFAULT_4XX stands in for the uncustomized MISSING_AUTHENTICATION_TOKEN.
    assert_eq!(
        invoke_unsigned(&server, &id).body,
        r#"{"message":"Missing Authentication Token"}"#
    );
    run(&[
        "apigateway",
        "put-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "DEFAULT_4XX",
        "--response-parameters",
        r#"{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}"#,
        "--response-templates",
        r#"{"application/json": "{\"error\":$context.error.messageString,\"type\":\"$context.error.responseType\"}"}"#,
    ])
    .json();
    deploy();
    let unsigned = invoke_unsigned(&server, &id);
    assert_eq!(unsigned.status, 403);
    assert_eq!(unsigned.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        unsigned.body,
        r#"{"error":"Missing Authentication Token","type":"MISSING_AUTHENTICATION_TOKEN"}"#
    );
    // The decision record keeps AWS's message, whatever the body shows.
    let request_id = unsigned.header("x-amzn-RequestId").unwrap();
    let record = explain(&server, &owner, request_id).unwrap();
    assert_eq!(record["message"], "Missing Authentication Token");
    let record = explain(
        &server,
        &denied(),
        custom.header("x-amzn-RequestId").unwrap(),
    )
    .unwrap();
    assert_eq!(record["message"], message);
    assert_eq!(
        invoke_signed(&server, &id, &denied()).status,
        401,
        "the specific type wins over DEFAULT_4XX"
    );

    // Refused values leave the stored customization as it was.
    let before = run(&[
        "apigateway",
        "get-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
    ])
    .json();
    run(&[
        "apigateway",
        "put-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
        "--response-templates",
        r##"{"application/json": "#if($context.error.message"}"##,
    ])
    .assert_error(
        "BadRequestException",
        "Invalid mapping template specified for content type 'application/json'",
    );
    run(&[
        "apigateway",
        "update-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
        "--patch-operations",
        r#"[{"op":"replace","path":"/statusCode","value":"402"},{"op":"replace","path":"/defaultResponse","value":"true"}]"#,
    ])
    .assert_error(
        "BadRequestException",
        "Invalid patch path  '/defaultResponse' specified for op 'replace'. Must be one of: [/statusCode, /responseParameters/{name}, /responseTemplates/{contentType}]",
    );
    run(&[
        "apigateway",
        "update-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
        "--patch-operations",
        r#"[{"op":"replace","path":"/statusCode","value":"600"}]"#,
    ])
    .assert_error(
        "ValidationException",
        "at 'statusCode' failed to satisfy constraint",
    );
    let after = run(&[
        "apigateway",
        "get-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
    ])
    .json();
    assert_eq!(after, before);

    // A good patch, then a delete: back to AWS's default once deployed.
    let patched = run(&[
        "apigateway",
        "update-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
        "--patch-operations",
        r#"[{"op":"replace","path":"/statusCode","value":"418"},{"op":"remove","path":"/responseParameters/gatewayresponse.header.X-Trace"}]"#,
    ])
    .json();
    assert_eq!(patched["statusCode"], "418");
    assert!(
        patched["responseParameters"]
            .get("gatewayresponse.header.X-Trace")
            .is_none()
    );
    run(&[
        "apigateway",
        "delete-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
    ]);
    let reset = run(&[
        "apigateway",
        "get-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "ACCESS_DENIED",
    ])
    .json();
    assert_eq!(reset["defaultResponse"], true);
    run(&[
        "apigateway",
        "delete-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "DEFAULT_4XX",
    ]);
    deploy();
    let back = invoke_signed(&server, &id, &denied());
    assert_eq!(
        (back.status, back.body.as_str()),
        (403, default_denial.body.as_str())
    );
    assert_eq!(back.header("X-Denied-By"), None);

    // An unknown type is AWS's enum refusal.
    run(&[
        "apigateway",
        "get-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "NOT_A_TYPE",
    ])
    .assert_error("ValidationException", "Member must satisfy enum value set");
}
