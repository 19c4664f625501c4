#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! OpenAPI files imported through the world file and served by the data
//! plane: a SAM-style REST API (Lambda proxy, SigV4 scheme named `AWS_IAM`,
//! a resource policy with `execute-api:/` shorthand and an explicit Deny),
//! a CDK-style Swagger 2.0 JSON file (HTTP proxy on `{proxy+}`, CORS mocks,
//! no resource policy) and a SAM-style HTTP API export (`$default` route,
//! shared Lambda integration). Requests are signed as real clients sign
//! them and go through routing, SigV4, IAM and the integration.

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::model::AuthorizationType;
use iamgate_gateway::dataplane::DataPlane;
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use serde_json::Value;
use support::{Signed, request};

const NOW: i64 = 1_795_277_521;

const ALICE: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-secret");
const NOBODY: (&str, &str) = ("AKIANOBODYEXAMPLE001", "nobody-secret");
const OUTSIDER: (&str, &str) = ("AKIAOUTSIDEREXAMPLE1", "outsider-secret");

/// Stands in for the Lambda Invoke API (echoing the event as the body) and
/// for the CDK API's HTTP backend (echoing method, path and query).
async fn start_backend() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let path = req.uri().path().to_owned();
                    let query = req.uri().query().unwrap_or("").to_owned();
                    let method = req.method().as_str().to_owned();
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let reply = match path
                        .strip_prefix("/2015-03-31/functions/")
                        .and_then(|p| p.strip_suffix("/invocations"))
                    {
                        Some(function) => {
                            let event = String::from_utf8(body.to_vec()).unwrap();
                            serde_json::json!({
                                "statusCode": 200,
                                "headers": {"x-function": function},
                                "body": event
                            })
                            .to_string()
                        }
                        None => format!("{method} {path} {query}"),
                    };
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(reply))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn world_file(port: u16) -> String {
    let invoke = r#"'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:*"}]}'"#;
    format!(
        r#"
accounts:
  - id: "123456789012"
    users:
      - name: alice
        access_keys: [{{ id: AKIAALICEEXAMPLE0001, secret: "alice-secret" }}]
        policies: {{ invoke: {invoke} }}
      - name: nobody
        access_keys: [{{ id: AKIANOBODYEXAMPLE001, secret: "nobody-secret" }}]
  - id: "098765432109"
    users:
      - name: outsider
        access_keys: [{{ id: AKIAOUTSIDEREXAMPLE1, secret: "outsider-secret" }}]
        policies: {{ invoke: {invoke} }}
apis:
  - id: r1b2c3d4e5
    openapi: fixtures/openapi/sam-rest.yaml
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    lambda_endpoint: "http://127.0.0.1:{port}"
  - id: c1b2c3d4e5
    openapi: fixtures/openapi/cdk-spec.json
    account: "123456789012"
    region: us-east-1
    stages: [prod]
  - id: h1b2c3d4e5
    openapi: fixtures/openapi/sam-http.yaml
    account: "123456789012"
    region: us-east-1
    lambda_endpoint: "http://127.0.0.1:{port}"
"#
    )
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../apimodel/tests")
}

struct Setup {
    plane: DataPlane,
    apis: ApiRegistry,
    world: World,
}

async fn setup() -> Setup {
    let port = start_backend().await;
    let text = world_file(port);
    let config = WorldConfig::parse_with_sections(&text, &["apis"]).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let world = World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()));
    // The fixtures are read from disk; the CDK file's backend address is
    // pointed at this test's loopback server.
    let read = |path: &str| {
        std::fs::read_to_string(tests_dir().join(path))
            .map(|text| text.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")))
            .map_err(|error| error.to_string())
    };
    let registry = ApiRegistry::from_world_file_with(&text, &read).unwrap();
    Setup {
        plane: DataPlane::default(),
        apis: registry,
        world,
    }
}

/// Calls `api` with `method target` (the stage path as the client sees it).
async fn call(
    setup: &Setup,
    api: &str,
    method: &str,
    target: &str,
    key: Option<(&str, &str)>,
) -> (u16, Vec<(String, String)>, String) {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let signed: Signed = request(method, target, &host, NOW, key);
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
    let facts = RequestFacts {
        now: NOW,
        ..RequestFacts::default()
    };
    let stage_path = target.split('?').next().unwrap();
    let response = setup
        .plane
        .handle(&setup.apis, api, stage_path, &view, facts, &setup.world)
        .await;
    (response.status, response.headers, response.body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn sam_rest_api_invokes_lambda_for_a_signed_caller_with_its_identity() {
    let setup = setup().await;
    let (status, headers, body) =
        call(&setup, "r1b2c3d4e5", "GET", "/prod/orders/42", Some(ALICE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "x-function"),
        Some("orders-api-OrdersFunction-Q1W2E3R4T5Y6")
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["resource"], "/orders/{orderId}");
    assert_eq!(event["pathParameters"]["orderId"], "42");
    assert_eq!(
        event["requestContext"]["identity"]["userArn"],
        "arn:aws:iam::123456789012:user/alice"
    );
}

#[tokio::test]
async fn sam_rest_api_methods_without_a_signature_are_missing_a_token() {
    let setup = setup().await;
    let (status, headers, body) = call(&setup, "r1b2c3d4e5", "GET", "/prod/orders", None).await;
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    assert_eq!(
        header(&headers, "x-amzn-ErrorType"),
        Some("MissingAuthenticationTokenException")
    );
}

#[tokio::test]
async fn sam_rest_api_resource_policy_shorthand_denies_deletes_explicitly() {
    let setup = setup().await;
    let (status, _, body) = call(
        &setup,
        "r1b2c3d4e5",
        "DELETE",
        "/prod/orders/42",
        Some(ALICE),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            r#"{"Message":"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:r1b2c3d4e5/prod/DELETE/orders/42 with an explicit deny in a resource-based policy"}"#
        )
    );
    // The policy's Allow "*" lets the other account in (Table B needs both sides).
    let (status, _, body) = call(&setup, "r1b2c3d4e5", "GET", "/prod/orders", Some(OUTSIDER)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn sam_rest_api_open_mock_answers_anonymous_callers() {
    let setup = setup().await;
    let (status, _, body) = call(&setup, "r1b2c3d4e5", "GET", "/prod/health", None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    // Not in the file: not routed.
    let (status, _, _) = call(&setup, "r1b2c3d4e5", "PUT", "/prod/health", None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn cdk_spec_api_proxies_the_greedy_path_for_signed_callers() {
    let setup = setup().await;
    let (status, _, body) = call(
        &setup,
        "c1b2c3d4e5",
        "PUT",
        "/prod/items/shelf/7?dry=1",
        Some(ALICE),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, "PUT /inventory/shelf/7 dry=1")
    );

    let (status, _, body) = call(&setup, "c1b2c3d4e5", "GET", "/prod/items/shelf", None).await;
    assert_eq!(
        (status, body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
}

#[tokio::test]
async fn cdk_spec_api_without_a_resource_policy_follows_tables_a_and_b() {
    let setup = setup().await;
    let (status, _, body) = call(&setup, "c1b2c3d4e5", "GET", "/prod/items/a", Some(NOBODY)).await;
    assert_eq!(status, 403);
    assert!(
        body.ends_with("because no identity-based policy allows the execute-api:Invoke action\"}"),
        "{body}"
    );
    let (status, _, body) =
        call(&setup, "c1b2c3d4e5", "GET", "/prod/items/a", Some(OUTSIDER)).await;
    assert_eq!(status, 403);
    assert!(
        body.ends_with("because no resource-based policy allows the execute-api:Invoke action\"}"),
        "{body}"
    );
}

#[tokio::test]
async fn cdk_spec_api_cors_and_root_mocks_need_no_signature() {
    let setup = setup().await;
    let (status, headers, body) =
        call(&setup, "c1b2c3d4e5", "OPTIONS", "/prod/items/a", None).await;
    assert_eq!((status, body.as_str()), (204, ""));
    assert_eq!(header(&headers, "Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        header(&headers, "Access-Control-Allow-Methods"),
        Some("OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD")
    );
    let (status, headers, body) = call(&setup, "c1b2c3d4e5", "GET", "/prod/", None).await;
    assert_eq!((status, body.as_str()), (200, "inventory service"));
    assert_eq!(header(&headers, "Content-Type"), Some("text/plain"));
}

#[tokio::test]
async fn sam_http_api_routes_sigv4_and_default_to_lambda_payload_2() {
    let setup = setup().await;
    let (status, headers, body) = call(&setup, "h1b2c3d4e5", "GET", "/me", Some(ALICE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "x-function"), Some("profile-fn:live"));
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /me");
    assert_eq!(
        event["requestContext"]["authorizer"]["iam"]["userArn"],
        "arn:aws:iam::123456789012:user/alice"
    );

    // Unsigned, and cross-account (HTTP APIs have no resource policy): Forbidden.
    for key in [None, Some(OUTSIDER)] {
        let (status, _, body) = call(&setup, "h1b2c3d4e5", "GET", "/me", key).await;
        assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    }

    // Everything else falls to the open $default route.
    let (status, _, body) = call(&setup, "h1b2c3d4e5", "POST", "/anything/else", None).await;
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["routeKey"], "$default");
    assert!(event["requestContext"].get("authorizer").is_none());
}

#[test]
fn openapi_paths_are_read_relative_to_the_world_files_directory() {
    let text = r#"
apis:
  - id: r1b2c3d4e5
    openapi: fixtures/openapi/sam-rest.yaml
    account: "123456789012"
    region: us-east-1
    stages: [prod, beta]
    lambda_endpoint: "http://127.0.0.1:3001"
"#;
    let registry = ApiRegistry::from_world_file_in(text, &tests_dir()).unwrap();
    let api = &registry.rest["r1b2c3d4e5"];
    assert_eq!(api.stages.len(), 2);
    let orders = api.stages["beta"]
        .root
        .children
        .iter()
        .find(|r| {
            r.part
                == Some(iamgate_apimodel::model::PathPart::Literal(
                    "orders".to_owned(),
                ))
        })
        .unwrap();
    assert_eq!(orders.methods[0].authorization, AuthorizationType::AwsIam);

    let errors = ApiRegistry::from_world_file_in(text, Path::new("/nonexistent")).unwrap_err();
    assert!(errors[0].contains("cannot read /nonexistent/fixtures/openapi/sam-rest.yaml"));
}

/// `examples/openapi-sam` as its README describes it, addressed path-style.
#[tokio::test]
async fn the_openapi_sam_example_imports_and_answers_as_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/openapi-sam");
    let text = std::fs::read_to_string(dir.join("world.yaml")).unwrap();
    let config = WorldConfig::parse_with_sections(&text, &["apis"]).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let setup = Setup {
        plane: DataPlane::default(),
        apis: ApiRegistry::from_world_file_in(&text, &dir).unwrap(),
        world: World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned())),
    };
    let answer = |target: &'static str| {
        let setup = &setup;
        async move {
            let signed = request("GET", target, "127.0.0.1:4566", NOW, None);
            let headers = signed.refs();
            let view =
                HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
            let address =
                iamgate_gateway::dataplane::address(Some("127.0.0.1:4566"), target).unwrap();
            let facts = RequestFacts {
                now: NOW,
                ..RequestFacts::default()
            };
            let response = setup
                .plane
                .handle(
                    &setup.apis,
                    address.api_id,
                    &address.path,
                    &view,
                    facts,
                    &setup.world,
                )
                .await;
            (response.status, response.body)
        }
    };
    assert_eq!(
        answer("/restapis/s4m0p3n4p1/Prod/_user_request_/health").await,
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(
        answer("/restapis/s4m0p3n4p1/Prod/_user_request_/hello").await,
        (
            403,
            r#"{"message":"Missing Authentication Token"}"#.to_owned()
        )
    );
}
