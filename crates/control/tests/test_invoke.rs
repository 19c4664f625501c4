#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! TestInvokeAuthorizer and TestInvokeMethod in the control plane: routed
//! by AWS's paths, the simulated request handed to the wired invoker as
//! the API is now (undeployed), AWS's response shapes, AWS's not-found
//! texts, and a method without an integration answered as AWS's
//! configuration error. (The invoker the binary wires runs the data
//! plane; `crates/gateway/tests/test_invoke.rs` tests that.)

mod support;

use std::sync::{Arc, Mutex};

use iamgate_apimodel::authorizers::LambdaAuthorizer;
use iamgate_apimodel::stored::RestApiRecord;
use iamgate_control::BoxFuture;
use iamgate_control::test_invoke::{AuthorizerTest, MethodTest, TestInvoker, TestRequest};
use iamgate_control::{ControlPlane, ControlPlanes, Service};
use iamgate_iam::WorldConfig;
use iamgate_store::{SecretCipher, Store};
use serde_json::{Value, json};
use support::{Call, NOW, sign_call};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
"#;
const ROOT: (&str, &str) = ("AKIAROOTAAAAAAAAAAAA", "root-secret-a");

/// Records what it was asked and answers fixed values.
#[derive(Default)]
struct Recorder {
    asked: Mutex<Vec<(String, TestRequest)>>,
}

impl TestInvoker for Recorder {
    fn invoke_authorizer<'a>(
        &'a self,
        api: &'a RestApiRecord,
        authorizer: &'a LambdaAuthorizer,
        request: &'a TestRequest,
        _request_id: &'a str,
        _now: i64,
    ) -> BoxFuture<'a, AuthorizerTest> {
        self.asked.lock().unwrap().push((
            format!("authorizer {} {}", api.id, authorizer.name),
            request.clone(),
        ));
        Box::pin(async {
            AuthorizerTest {
                client_status: 200,
                log: "ran\n".into(),
                latency_ms: 4,
                principal_id: Some("user-7".into()),
                policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
                claims: None,
            }
        })
    }

    fn invoke_method<'a>(
        &'a self,
        api: &'a RestApiRecord,
        resource_id: &'a str,
        http_method: &'a str,
        request: &'a TestRequest,
        _request_id: &'a str,
        _now: i64,
    ) -> BoxFuture<'a, MethodTest> {
        self.asked.lock().unwrap().push((
            format!("method {} {resource_id} {http_method}", api.id),
            request.clone(),
        ));
        Box::pin(async {
            MethodTest {
                status: 202,
                body: "{\"ok\":1}".into(),
                headers: vec![
                    ("Set-Cookie".into(), "a=1".into()),
                    ("Set-Cookie".into(), "b=2".into()),
                ],
                log: "ran\n".into(),
                latency_ms: 5,
            }
        })
    }
}

async fn start(dir: &tempfile::TempDir, invoker: Option<Arc<Recorder>>) -> ControlPlanes {
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url).await.unwrap();
    let mut plane = ControlPlane::open(store, SecretCipher::from_key(&[7; 32]))
        .await
        .unwrap()
        .with_clock(Arc::new(|| NOW));
    if let Some(invoker) = invoker {
        plane = plane.with_test_invoker(invoker);
    }
    plane
        .apply_config(&WorldConfig::parse(WORLD).unwrap())
        .await
        .unwrap();
    ControlPlanes::new(Arc::new(plane))
}

async fn call(planes: &ControlPlanes, method: &str, target: &str, body: Value) -> (u16, Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let request = sign_call(
        Call {
            service: "apigateway",
            method,
            target,
            content_type: "application/json",
        },
        ROOT.0,
        ROOT.1,
        None,
        body,
    );
    let response = planes.handle(Service::ApiGateway, &request).await;
    let json = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    (response.status, json)
}

/// An API with `GET /pets` (MOCK), `PUT /pets` (no integration) and a
/// TOKEN authorizer; never deployed.
async fn api(planes: &ControlPlanes) -> (String, String, String) {
    let (_, api) = call(planes, "POST", "/restapis", json!({"name": "pets"})).await;
    let id = api["id"].as_str().unwrap().to_owned();
    let root = api["rootResourceId"].as_str().unwrap().to_owned();
    let (_, pets) = call(
        planes,
        "POST",
        &format!("/restapis/{id}/resources/{root}"),
        json!({"pathPart": "pets"}),
    )
    .await;
    let pets = pets["id"].as_str().unwrap().to_owned();
    for verb in ["GET", "PUT"] {
        let (status, _) = call(
            planes,
            "PUT",
            &format!("/restapis/{id}/resources/{pets}/methods/{verb}"),
            json!({"authorizationType": "AWS_IAM"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, _) = call(
        planes,
        "PUT",
        &format!("/restapis/{id}/resources/{pets}/methods/GET/integration"),
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, authorizer) = call(
        planes,
        "POST",
        &format!("/restapis/{id}/authorizers"),
        json!({"name": "tok", "type": "TOKEN",
               "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:auth/invocations",
               "identitySource": "method.request.header.Authorization"}),
    )
    .await;
    assert_eq!(status, 201, "{authorizer}");
    (id, pets, authorizer["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn test_invoke_runs_the_undeployed_api_through_the_invoker_in_aws_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let planes = start(&dir, Some(recorder.clone())).await;
    let (id, pets, authorizer) = api(&planes).await;

    let (status, tested) = call(
        &planes,
        "POST",
        &format!("/restapis/{id}/authorizers/{authorizer}"),
        json!({"headers": {"Authorization": "allow"}, "pathWithQueryString": "/pets?x=1",
               "stageVariables": {"env": "t"}, "additionalContext": {"k": "v"}}),
    )
    .await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(
        tested,
        json!({"clientStatus": 200, "log": "ran\n", "latency": 4, "principalId": "user-7",
               "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"})
    );
    let (status, tested) = call(
        &planes,
        "POST",
        &format!("/restapis/{id}/resources/{pets}/methods/GET"),
        json!({"pathWithQueryString": "/pets?limit=2", "body": "{}",
               "headers": {"Accept": "application/json"},
               "multiValueHeaders": {"X-Many": ["1", "2"]}}),
    )
    .await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(
        tested,
        json!({"status": 202, "body": "{\"ok\":1}", "headers": {"Set-Cookie": "b=2"},
               "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "log": "ran\n", "latency": 5})
    );
    let asked = recorder.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[0].0, format!("authorizer {id} tok"));
    assert_eq!(asked[0].1.path, "/pets");
    assert_eq!(asked[0].1.query, "x=1");
    assert_eq!(asked[0].1.additional_context["k"], "v");
    assert_eq!(asked[1].0, format!("method {id} {pets} GET"));
    assert_eq!(asked[1].1.query, "limit=2");
    assert_eq!(
        asked[1].1.headers,
        [
            ("X-Many".to_owned(), "1".to_owned()),
            ("X-Many".to_owned(), "2".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ]
    );

    // A method without an integration: AWS's configuration error, the
    // invoker not asked.
    let (status, tested) = call(
        &planes,
        "POST",
        &format!("/restapis/{id}/resources/{pets}/methods/PUT"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tested["status"], 500);
    assert!(
        tested["log"]
            .as_str()
            .unwrap()
            .contains("No integration defined for method")
    );
    assert_eq!(recorder.asked.lock().unwrap().len(), 2);

    // Nothing of that name: AWS's texts.
    for (target, message) in [
        (
            format!("/restapis/{id}/authorizers/nosuch"),
            "Invalid Authorizer identifier specified",
        ),
        (
            format!("/restapis/{id}/resources/nosuch/methods/GET"),
            "Invalid Resource identifier specified",
        ),
        (
            format!("/restapis/{id}/resources/{pets}/methods/DELETE"),
            "Invalid Method identifier specified",
        ),
    ] {
        let (status, error) = call(&planes, "POST", &target, Value::Null).await;
        assert_eq!(status, 404, "{target}");
        assert_eq!(error["message"], message);
    }
}

#[tokio::test]
async fn without_an_invoker_test_invoke_is_refused_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let planes = start(&dir, None).await;
    let (id, pets, _) = api(&planes).await;
    let (status, error) = call(
        &planes,
        "POST",
        &format!("/restapis/{id}/resources/{pets}/methods/GET"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 503, "{error}");
}
