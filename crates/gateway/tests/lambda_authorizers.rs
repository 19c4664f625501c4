#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Lambda authorizers through the data plane, with a Lambda Invoke API
//! started by the test on loopback: the function decides by the token it
//! is sent, and counts its calls so caching can be seen. AWS's answers for
//! a missing token (401), a denying policy (403), a broken, oversized or
//! too slow function (500);
//! the resource policy combined with the authorizer's policy as Table A of
//! "How API Gateway resource policies affect authorization workflow", one
//! test per row; the answer's `principalId` and `context` reaching mapping
//! templates and the Lambda proxy event.

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_gateway::dataplane::DataPlane;
use iamgate_iam::World;
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use serde_json::{Value, json};
use support::{Signed, request};

const NOW: i64 = 1_795_277_521;

fn policy(effect: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
    ]})
}

/// What the authorizer function answers for `token`.
fn authorizer_answer(token: &str) -> (u16, bool, String) {
    let allow_all = policy("Allow", "arn:aws:execute-api:us-east-1:*:*/*/GET/*");
    let answer = |policy: Value| {
        json!({"principalId": "user-7", "policyDocument": policy,
               "context": {"tier": "gold", "level": 3, "admin": false}})
        .to_string()
    };
    match token {
        "allow" => (200, false, answer(allow_all)),
        "deny" => (200, false, answer(policy("Deny", "*"))),
        // Allows another API only: nothing here is allowed.
        "silent" => (
            200,
            false,
            answer(policy("Allow", "arn:aws:execute-api:us-east-1:*:other/*")),
        ),
        // Allows one path only: a cached answer then denies the others.
        "one-path" => (
            200,
            false,
            answer(policy(
                "Allow",
                "arn:aws:execute-api:us-east-1:111122223333:*/prod/GET/pets/1",
            )),
        ),
        "broken" => (200, false, "not an answer".to_owned()),
        "crash" => (200, true, r#"{"errorMessage":"boom"}"#.to_owned()),
        "status" => (500, false, "{}".to_owned()),
        // A policy padded past any sensible size.
        "huge" => (
            200,
            false,
            answer(json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "x".repeat(200_000), "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
            ]})),
        ),
        _ => (200, false, answer(policy("Deny", "*"))),
    }
}

/// A loopback Lambda Invoke API: `auth` (TOKEN or REQUEST events),
/// `simple` (HTTP simple responses) and `echo` (a proxy integration that
/// answers with its event).
async fn start_lambda(calls: Arc<AtomicUsize>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let calls = calls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let calls = calls.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let event: Value = serde_json::from_slice(&body).unwrap_or_default();
                        let (status, failed, reply) = match path.as_str() {
                            "/2015-03-31/functions/auth/invocations" => {
                                calls.fetch_add(1, Ordering::SeqCst);
                                let token = event["authorizationToken"]
                                    .as_str()
                                    .or_else(|| event["headers"]["X-Token"].as_str())
                                    .unwrap_or_default()
                                    .to_owned();
                                if token == "slow" {
                                    // Past the authorizer timeout.
                                    tokio::time::sleep(
                                        iamgate_gateway::authorizers::AUTHORIZER_TIMEOUT
                                            + std::time::Duration::from_secs(1),
                                    )
                                    .await;
                                }
                                authorizer_answer(&token)
                            }
                            "/2015-03-31/functions/simple/invocations" => {
                                calls.fetch_add(1, Ordering::SeqCst);
                                let allowed = event["identitySource"][0] == "yes";
                                let answer = json!({"isAuthorized": allowed,
                                    "context": {"who": event["identitySource"][0], "routeArn": event["routeArn"]}});
                                (200, false, answer.to_string())
                            }
                            "/2015-03-31/functions/echo/invocations" => {
                                let reply = json!({"statusCode": 200, "body": event.to_string()});
                                (200, false, reply.to_string())
                            }
                            _ => (404, false, "{}".to_owned()),
                        };
                        let mut response = hyper::Response::new(Full::new(Bytes::from(reply)));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        if failed {
                            response
                                .headers_mut()
                                .insert("x-amz-function-error", "Unhandled".parse().unwrap());
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

/// A REST API `id` whose `GET /pets/{id}` is guarded by a TOKEN
/// authorizer reading `X-Token`, with the resource policy `policy`.
fn rest_api(id: &str, port: u16, ttl: u32, resource_policy: Option<&str>) -> String {
    let policy = resource_policy
        .map(|effect| {
            format!(
                "    policy: '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"{effect}\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"execute-api:/*\"}}]}}'\n"
            )
        })
        .unwrap_or_default();
    format!(
        r#"  - id: {id}
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
{policy}    authorizers:
      - {{ name: tok, type: TOKEN, function: auth, lambda_endpoint: "http://127.0.0.1:{port}",
          identity_source: method.request.header.X-Token, validation_expression: "[a-z-]+", ttl: {ttl} }}
      - {{ name: req, type: REQUEST, function: auth, lambda_endpoint: "http://127.0.0.1:{port}",
          identity_source: "method.request.header.X-Token,method.request.querystring.tenant", ttl: {ttl} }}
    methods:
      - {{ path: "/pets/{{id}}", method: GET, authorization: CUSTOM, authorizer: tok,
          integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
      - {{ path: "/by-request", method: GET, authorization: CUSTOM, authorizer: req,
          integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
      - {{ path: "/mapped", method: GET, authorization: CUSTOM, authorizer: tok,
          integration: {{ type: MOCK, request_templates: {{ application/json: '{{"statusCode": 200}}' }},
            responses: {{ default: {{ status: "200", response_templates: {{ application/json: '{{"p":"$context.authorizer.principalId","t":"$context.authorizer.tier","l":"$context.authorizer.level"}}' }} }} }} }} }}
"#
    )
}

struct Setup {
    plane: DataPlane,
    apis: ApiRegistry,
    world: World,
    calls: Arc<AtomicUsize>,
}

async fn setup() -> Setup {
    let calls = Arc::new(AtomicUsize::new(0));
    let port = start_lambda(calls.clone()).await;
    let mut text = String::from("apis:\n");
    text.push_str(&rest_api("rpnone0001", port, 0, None));
    text.push_str(&rest_api("rpallow001", port, 0, Some("Allow")));
    text.push_str(&rest_api("rpdeny0001", port, 0, Some("Deny")));
    text.push_str(&rest_api("cached0001", port, 300, None));
    text.push_str(&format!(
        r#"  - id: httpsimple
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - {{ name: simple, type: REQUEST, function: simple, lambda_endpoint: "http://127.0.0.1:{port}",
          identity_source: [$request.header.X-Token], payload_format_version: "2.0", simple_responses: true }}
      - {{ name: policy, type: REQUEST, function: auth, lambda_endpoint: "http://127.0.0.1:{port}",
          identity_source: [$request.header.X-Token], payload_format_version: "1.0" }}
    routes:
      - {{ key: "GET /simple", authorization: CUSTOM, authorizer: simple,
          integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
      - {{ key: "GET /policy", authorization: CUSTOM, authorizer: policy,
          integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{port}", function: echo }} }}
"#
    ));
    Setup {
        plane: DataPlane::default(),
        apis: ApiRegistry::from_world_file(&text).unwrap(),
        world: World::empty(),
        calls,
    }
}

struct Answer {
    status: u16,
    error_type: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn call(setup: &Setup, api: &str, target: &str, token: Option<&str>) -> Answer {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let mut signed: Signed = request("GET", target, &host, NOW, None);
    if let Some(token) = token {
        signed
            .headers
            .push(("X-Token".into(), token.as_bytes().to_vec()));
    }
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
    let facts = RequestFacts {
        now: NOW,
        ..RequestFacts::default()
    };
    let stage_path = target.split('?').next().unwrap_or(target);
    let response = setup
        .plane
        .handle(&setup.apis, api, stage_path, &view, facts, &setup.world)
        .await;
    Answer {
        status: response.status,
        error_type: response.header("x-amzn-ErrorType").map(str::to_owned),
        body: response.body,
    }
}

fn assert_denied(answer: &Answer, message: &str) {
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.json(), json!({ "message": message }));
}

const EXPLICIT: &str = "User is not authorized to access this resource with an explicit deny";
const IMPLICIT: &str = "User is not authorized to access this resource";

#[tokio::test]
async fn an_allowing_policy_reaches_the_integration_with_principal_and_context() {
    let setup = setup().await;
    let answer = call(&setup, "rpnone0001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let event = answer.json();
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "user-7");
    assert_eq!(authorizer["tier"], "gold");
    assert_eq!(authorizer["level"], 3);
}

#[tokio::test]
async fn the_context_reaches_mapping_templates() {
    let setup = setup().await;
    let answer = call(&setup, "rpnone0001", "/prod/mapped", Some("allow")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!({"p": "user-7", "t": "gold", "l": "3"}));
}

#[tokio::test]
async fn a_missing_or_invalid_token_is_401_without_calling_the_function() {
    let setup = setup().await;
    for token in [None, Some(""), Some("NOT VALID")] {
        let answer = call(&setup, "rpnone0001", "/prod/pets/1", token).await;
        assert_eq!(answer.status, 401, "{token:?}");
        assert_eq!(answer.json(), json!({"message": "Unauthorized"}));
        assert_eq!(answer.error_type.as_deref(), Some("UnauthorizedException"));
    }
    // A REQUEST authorizer needs every identity source.
    let answer = call(&setup, "rpnone0001", "/prod/by-request", Some("allow")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(setup.calls.load(Ordering::SeqCst), 0);
    let answer = call(
        &setup,
        "rpnone0001",
        "/prod/by-request?tenant=t1",
        Some("allow"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(setup.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_slow_oversized_or_nonsense_function_is_an_authorizer_configuration_error() {
    let setup = setup().await;
    for token in ["broken", "crash", "status", "huge", "slow"] {
        let answer = call(&setup, "rpnone0001", "/prod/pets/1", Some(token)).await;
        assert_eq!(answer.status, 500, "{token}");
        assert_eq!(answer.body, r#"{"message": null}"#, "{token}");
        assert_eq!(
            answer.error_type.as_deref(),
            Some("AuthorizerConfigurationException")
        );
    }
}

#[tokio::test]
async fn a_cached_answer_is_reused_for_its_ttl_and_evaluated_per_path() {
    let setup = setup().await;
    let first = call(&setup, "cached0001", "/prod/pets/1", Some("one-path")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = call(&setup, "cached0001", "/prod/pets/1", Some("one-path")).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        setup.calls.load(Ordering::SeqCst),
        1,
        "the second is cached"
    );
    // AWS's documented pitfall: the cached policy names one path only.
    let other = call(&setup, "cached0001", "/prod/pets/2", Some("one-path")).await;
    assert_denied(&other, IMPLICIT);
    assert_eq!(setup.calls.load(Ordering::SeqCst), 1);
    // Another token is another cache entry.
    call(&setup, "cached0001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(setup.calls.load(Ordering::SeqCst), 2);
    // Without a TTL, every request calls the function.
    call(&setup, "rpnone0001", "/prod/pets/1", Some("allow")).await;
    call(&setup, "rpnone0001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(setup.calls.load(Ordering::SeqCst), 4);
}

// Table A: the authorizer's policy (rows) × the resource policy (columns).

#[tokio::test]
async fn table_a_authorizer_allow_resource_policy_allow_is_allowed() {
    let setup = setup().await;
    let answer = call(&setup, "rpallow001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn table_a_authorizer_allow_no_resource_policy_is_allowed() {
    let setup = setup().await;
    let answer = call(&setup, "rpnone0001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn table_a_authorizer_allow_resource_policy_deny_is_denied_before_the_function() {
    let setup = setup().await;
    let answer = call(&setup, "rpdeny0001", "/prod/pets/1", Some("allow")).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(
        answer.json()["Message"],
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********3333:rpdeny0001/prod/GET/pets/1 with an explicit deny in a resource-based policy"
    );
    assert_eq!(setup.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn table_a_authorizer_silent_resource_policy_allow_is_allowed() {
    let setup = setup().await;
    let answer = call(&setup, "rpallow001", "/prod/pets/1", Some("silent")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn table_a_authorizer_silent_no_resource_policy_is_implicitly_denied() {
    let setup = setup().await;
    let answer = call(&setup, "rpnone0001", "/prod/pets/1", Some("silent")).await;
    assert_denied(&answer, IMPLICIT);
    assert_eq!(answer.error_type.as_deref(), Some("AccessDeniedException"));
}

#[tokio::test]
async fn table_a_authorizer_silent_resource_policy_deny_is_explicitly_denied() {
    let setup = setup().await;
    let answer = call(&setup, "rpdeny0001", "/prod/pets/1", Some("silent")).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.body.contains("with an explicit deny"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn table_a_authorizer_deny_resource_policy_allow_is_explicitly_denied() {
    let setup = setup().await;
    let answer = call(&setup, "rpallow001", "/prod/pets/1", Some("deny")).await;
    assert_denied(&answer, EXPLICIT);
}

#[tokio::test]
async fn table_a_authorizer_deny_no_resource_policy_is_explicitly_denied() {
    let setup = setup().await;
    let answer = call(&setup, "rpnone0001", "/prod/pets/1", Some("deny")).await;
    assert_denied(&answer, EXPLICIT);
}

#[tokio::test]
async fn table_a_authorizer_deny_resource_policy_deny_is_explicitly_denied() {
    let setup = setup().await;
    let answer = call(&setup, "rpdeny0001", "/prod/pets/1", Some("deny")).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.body.contains("with an explicit deny"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn http_simple_responses_decide_and_reach_the_v2_event() {
    let setup = setup().await;
    let answer = call(&setup, "httpsimple", "/simple", Some("yes")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let event = answer.json();
    assert_eq!(
        event["requestContext"]["authorizer"]["lambda"]["who"],
        "yes"
    );
    assert_eq!(
        event["requestContext"]["authorizer"]["lambda"]["routeArn"],
        "arn:aws:execute-api:us-east-1:111122223333:httpsimple/$default/GET/simple"
    );
    let denied = call(&setup, "httpsimple", "/simple", Some("no")).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json(), json!({"message": "Forbidden"}));
    let missing = call(&setup, "httpsimple", "/simple", None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json(), json!({"message": "Unauthorized"}));
}

#[tokio::test]
async fn http_policy_responses_are_evaluated_and_a_broken_function_is_a_500() {
    let setup = setup().await;
    let allowed = call(&setup, "httpsimple", "/policy", Some("allow")).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let denied = call(&setup, "httpsimple", "/policy", Some("deny")).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json(), json!({"message": "Forbidden"}));
    let broken = call(&setup, "httpsimple", "/policy", Some("broken")).await;
    assert_eq!(broken.status, 500);
    assert_eq!(broken.json(), json!({"message": "Internal Server Error"}));
}
