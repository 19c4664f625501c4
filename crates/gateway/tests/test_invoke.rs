#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Test invoke (TestInvokeAuthorizer, TestInvokeMethod) on an API's
//! current definition, with a Lambda Invoke API started by the test on
//! loopback: a method runs without its authorization or API key, an
//! authorizer answers with its principal and policy (401 and 500 as a
//! request would get), and no log line holds a header's value or the body.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamgate_apimodel::authorizers::{AuthorizerInput, LambdaAuthorizer};
use iamgate_apimodel::model::ApiFlavour;
use iamgate_apimodel::stored::RestApiRecord;
use iamgate_gateway::dataplane::DataPlane;
use iamgate_gateway::test_invoke::TestRequest;
use serde_json::{Value, json};

const NOW: i64 = 1_795_277_521;
const SECRET_TOKEN: &str = "allow-secret-token-value";

/// A loopback Lambda Invoke API: `auth` answers a TOKEN event by its
/// token; `echo` is a proxy integration answering with its event.
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
                        let reply = match path.as_str() {
                            "/2015-03-31/functions/auth/invocations" => {
                                calls.fetch_add(1, Ordering::SeqCst);
                                let token = event["authorizationToken"].as_str().unwrap_or("");
                                if token.starts_with("allow") {
                                    json!({"principalId": "user-7",
                                        "policyDocument": {"Version": "2012-10-17", "Statement": [
                                            {"Effect": "Allow", "Action": "execute-api:Invoke",
                                             "Resource": event["methodArn"]}]}})
                                    .to_string()
                                } else {
                                    "not an answer".to_owned()
                                }
                            }
                            "/2015-03-31/functions/echo/invocations" => {
                                json!({"statusCode": 201, "headers": {"X-Echo": "yes"},
                                       "body": event.to_string()})
                                .to_string()
                            }
                            _ => "{}".to_owned(),
                        };
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(reply))))
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

fn token_authorizer(port: u16) -> LambdaAuthorizer {
    LambdaAuthorizer::new(
        ApiFlavour::Rest,
        AuthorizerInput {
            id: "au1234".into(),
            name: Some("tok".into()),
            kind: Some("TOKEN".into()),
            uri: Some(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations"
                    .into(),
            ),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            identity_sources: vec!["method.request.header.X-Token".into()],
            ..AuthorizerInput::default()
        },
    )
    .unwrap()
}

/// A REST API (never deployed) whose `GET /pets/{id}` needs the TOKEN
/// authorizer and an API key, integrated with the `echo` function, and
/// whose `POST /mock` is an `AWS_IAM` MOCK.
fn api(port: u16) -> RestApiRecord {
    let mut api: RestApiRecord = serde_json::from_value(json!({
        "id": "testapi001",
        "account": "111122223333",
        "region": "us-east-1",
        "name": "pets",
        "created_at": 0,
        "endpoint_type": "PRIVATE",
        "root_resource_id": "root01",
        "resources": {
            "root01": {"id": "root01", "path": "/"},
            "pets01": {"id": "pets01", "parent_id": "root01", "path_part": "pets", "path": "/pets"},
            "petid1": {"id": "petid1", "parent_id": "pets01", "path_part": "{id}", "path": "/pets/{id}",
                "methods": {"GET": {
                    "http_method": "GET", "authorization_type": "CUSTOM", "authorizer_id": "au1234",
                    "api_key_required": true,
                    "integration": {"integration_type": "AWS_PROXY", "timeout_ms": 29000,
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:echo/invocations",
                        "lambda_endpoint": format!("http://127.0.0.1:{port}")}
                }}},
            "mock01": {"id": "mock01", "parent_id": "root01", "path_part": "mock", "path": "/mock",
                "methods": {
                    "POST": {"http_method": "POST", "authorization_type": "AWS_IAM",
                        "integration": {"integration_type": "MOCK", "timeout_ms": 29000,
                            "request_templates": {"application/json": "{\"statusCode\": 200}"},
                            "integration_responses": {"200": {"status_code": "200",
                                "response_templates": {"application/json": "{\"mocked\": true}"}}}}},
                    "PUT": {"http_method": "PUT", "authorization_type": "NONE"}
                }}
        }
    }))
    .unwrap();
    api.authorizers
        .insert("au1234".into(), token_authorizer(port));
    api
}

fn request(path: &str, headers: &[(&str, &str)]) -> TestRequest {
    TestRequest {
        path: path.to_owned(),
        query: "q=1".to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: b"{\"secret-body\": 1}".to_vec(),
        stage_variables: vec![("env".to_owned(), "test".to_owned())],
        additional_context: Vec::new(),
    }
}

#[tokio::test]
async fn a_tested_method_runs_its_undeployed_integration_without_authorization_or_api_key() {
    let port = start_lambda(Arc::default()).await;
    let data = DataPlane::new("http://127.0.0.1:1");
    let api = api(port);
    let tested = data
        .test_method(
            &api,
            "petid1",
            "GET",
            &request("/pets/7", &[("X-Token", SECRET_TOKEN)]),
            "req-1",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(tested.status, 201, "{}", tested.log);
    assert!(
        tested
            .headers
            .contains(&("X-Echo".to_owned(), "yes".to_owned()))
    );
    let event: Value = serde_json::from_str(&tested.body).unwrap();
    assert_eq!(event["resource"], "/pets/{id}");
    assert_eq!(event["path"], "/pets/7");
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    assert_eq!(event["queryStringParameters"], json!({"q": "1"}));
    assert_eq!(event["stageVariables"], json!({"env": "test"}));
    assert_eq!(event["requestContext"]["stage"], "test-invoke-stage");
    // The log names the headers, never their values or the body.
    assert!(tested.log.contains("X-Token"), "{}", tested.log);
    assert!(!tested.log.contains(SECRET_TOKEN), "{}", tested.log);
    assert!(!tested.log.contains("secret-body"), "{}", tested.log);

    // An AWS_IAM method answers without a signature, through its mapping
    // templates.
    let mock = data
        .test_method(&api, "mock01", "POST", &request("/mock", &[]), "req-2", NOW)
        .await
        .unwrap();
    assert_eq!(
        (mock.status, mock.body.as_str()),
        (200, "{\"mocked\": true}")
    );
    // No such method, or no integration: nothing to run.
    assert!(
        data.test_method(&api, "mock01", "GET", &request("/mock", &[]), "r", NOW)
            .await
            .is_none()
    );
    assert!(
        data.test_method(&api, "mock01", "PUT", &request("/mock", &[]), "r", NOW)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_tested_authorizer_answers_its_principal_and_policy_and_refuses_as_a_request_would() {
    let calls = Arc::new(AtomicUsize::new(0));
    let port = start_lambda(calls.clone()).await;
    let data = DataPlane::new("http://127.0.0.1:1");
    let api = api(port);
    let authorizer = &api.authorizers["au1234"];

    let allowed = data
        .test_authorizer(
            &api,
            authorizer,
            &request("/pets/7", &[("X-Token", SECRET_TOKEN)]),
            "req-1",
            NOW,
        )
        .await;
    assert_eq!(allowed.client_status, 200, "{}", allowed.log);
    assert_eq!(allowed.principal_id.as_deref(), Some("user-7"));
    let policy: Value = serde_json::from_str(allowed.policy.as_deref().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        "arn:aws:execute-api:us-east-1:111122223333:testapi001/ESTestInvoke-stage/GET/pets/7"
    );
    assert!(!allowed.log.contains(SECRET_TOKEN), "{}", allowed.log);

    // Never cached: the same token calls the function again.
    data.test_authorizer(
        &api,
        authorizer,
        &request("/pets/7", &[("X-Token", SECRET_TOKEN)]),
        "req-2",
        NOW,
    )
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // No token: 401 without calling the function.
    let missing = data
        .test_authorizer(&api, authorizer, &request("/", &[]), "req-3", NOW)
        .await;
    assert_eq!(missing.client_status, 401);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!((missing.principal_id, missing.policy), (None, None));

    // An answer that is not an authorizer response: 500.
    let broken = data
        .test_authorizer(
            &api,
            authorizer,
            &request("/", &[("X-Token", "broken")]),
            "req-4",
            NOW,
        )
        .await;
    assert_eq!(broken.client_status, 500);
    assert!(broken.log.contains("configuration error"), "{}", broken.log);
}
