#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Integrations end to end through the data plane: a Lambda-API server and
//! an HTTP backend started by the test on loopback; the REST (1.0) and HTTP
//! (2.0) events carry the caller's identity; broken or slow backends get
//! AWS's 502/504.

mod support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_gateway::dataplane::DataPlane;
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use serde_json::Value;
use support::{Signed, request};

const NOW: i64 = 1_795_277_521;

/// A loopback server standing in for the Lambda Invoke API and an HTTP backend.
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
                    let reply = match path.as_str() {
                        "/2015-03-31/functions/echo/invocations" => {
                            let event = String::from_utf8(body.to_vec()).unwrap();
                            serde_json::json!({"statusCode": 200, "headers": {"x-from": "lambda"}, "body": event}).to_string()
                        }
                        "/2015-03-31/functions/plain/invocations" => r#"{"plain":true}"#.to_owned(),
                        "/2015-03-31/functions/broken/invocations" => "this is not json".to_owned(),
                        "/slow" | "/2015-03-31/functions/slow/invocations" => {
                            tokio::time::sleep(Duration::from_secs(2)).await;
                            "late".to_owned()
                        }
                        other => format!("{method} {other} {query}"),
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
    format!(
        r#"
accounts:
  - id: "123456789012"
    users:
      - name: alice
        access_keys: [{{ id: AKIAALICEEXAMPLE0001, secret: "alice-secret" }}]
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:*"}}]}}'
apis:
  - id: r1b2c3d4e5
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    methods:
      - {{ path: "/pets/{{id}}", method: GET, authorization: AWS_IAM, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
      - {{ path: /broken, method: GET, authorization: NONE, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: broken }} }}
      - {{ path: "/files/{{proxy+}}", method: ANY, authorization: NONE, integration: {{ type: HTTP_PROXY, uri: "http://127.0.0.1:{port}/backend/{{proxy}}" }} }}
      - {{ path: /slow, method: GET, authorization: NONE, integration: {{ type: HTTP_PROXY, uri: "http://127.0.0.1:{port}/slow", timeout_ms: 100 }} }}
      - {{ path: /slow-function, method: GET, authorization: NONE, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: slow, timeout_ms: 100 }} }}
  - id: h1b2c3d4e5
    type: HTTP
    account: "123456789012"
    region: us-east-1
    routes:
      - {{ key: "GET /pets", authorization: AWS_IAM, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
      - {{ key: "GET /plain", authorization: NONE, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: plain }} }}
"#
    )
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
    Setup {
        plane: DataPlane::default(),
        apis: ApiRegistry::from_world_file(&text).unwrap(),
        world,
    }
}

const ALICE: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-secret");

async fn call(
    setup: &Setup,
    api: &str,
    stage_path: &str,
    signed: &Signed,
) -> (u16, Vec<(String, String)>, String) {
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
    let facts = RequestFacts {
        now: NOW,
        ..RequestFacts::default()
    };
    let response = setup
        .plane
        .handle(&setup.apis, api, stage_path, &view, facts, &setup.world)
        .await;
    (response.status, response.headers, response.body)
}

#[tokio::test]
async fn lambda_proxy_payload_1_carries_the_callers_identity() {
    let setup = setup().await;
    let host = "r1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let signed = request("GET", "/prod/pets/42?color=brown", host, NOW, Some(ALICE));
    let (status, headers, body) = call(&setup, "r1b2c3d4e5", "/prod/pets/42", &signed).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.iter().any(|(n, v)| n == "x-from" && v == "lambda"));
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["resource"], "/pets/{id}");
    assert_eq!(event["path"], "/pets/42");
    assert_eq!(event["pathParameters"]["id"], "42");
    assert_eq!(event["queryStringParameters"]["color"], "brown");
    let identity = &event["requestContext"]["identity"];
    assert_eq!(identity["accessKey"], "AKIAALICEEXAMPLE0001");
    assert_eq!(identity["userArn"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(identity["accountId"], "123456789012");
    assert!(identity["caller"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(event["requestContext"]["accountId"], "123456789012");
    assert_eq!(event["requestContext"]["stage"], "prod");
}

#[tokio::test]
async fn lambda_proxy_payload_2_carries_authorizer_iam() {
    let setup = setup().await;
    let host = "h1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let signed = request("GET", "/pets", host, NOW, Some(ALICE));
    let (status, _, body) = call(&setup, "h1b2c3d4e5", "/pets", &signed).await;
    assert_eq!(status, 200, "{body}");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /pets");
    let iam = &event["requestContext"]["authorizer"]["iam"];
    assert_eq!(iam["userArn"], "arn:aws:iam::123456789012:user/alice");
    assert_eq!(iam["accessKey"], "AKIAALICEEXAMPLE0001");
    assert_eq!(iam["callerId"], iam["userId"]);

    let (status, _, body) = call(
        &setup,
        "h1b2c3d4e5",
        "/plain",
        &request("GET", "/plain", host, NOW, None),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"plain":true}"#));
}

#[tokio::test]
async fn malformed_function_output_is_a_502_internal_server_error() {
    let setup = setup().await;
    let signed = request(
        "GET",
        "/prod/broken",
        "r1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        NOW,
        None,
    );
    let (status, headers, body) = call(&setup, "r1b2c3d4e5", "/prod/broken", &signed).await;
    assert_eq!(
        (status, body.as_str()),
        (502, r#"{"message":"Internal server error"}"#)
    );
    assert!(headers.iter().any(|(n, _)| n == "x-amzn-RequestId"));
}

#[tokio::test]
async fn http_proxy_forwards_the_greedy_path_and_query() {
    let setup = setup().await;
    let signed = request(
        "DELETE",
        "/prod/files/a/b.txt?v=1",
        "r1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        NOW,
        None,
    );
    let (status, _, body) = call(&setup, "r1b2c3d4e5", "/prod/files/a/b.txt", &signed).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "DELETE /backend/a/b.txt v=1")
    );
}

#[tokio::test]
async fn a_backend_or_function_slower_than_its_timeout_is_a_504() {
    let setup = setup().await;
    // Each answers after 2 s; their integrations allow 100 ms.
    for path in ["/prod/slow", "/prod/slow-function"] {
        let signed = request(
            "GET",
            path,
            "r1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            NOW,
            None,
        );
        let (status, _, body) = call(&setup, "r1b2c3d4e5", path, &signed).await;
        assert_eq!(
            (status, body.as_str()),
            (504, r#"{"message":"Endpoint request timed out"}"#),
            "{path}"
        );
    }
}
