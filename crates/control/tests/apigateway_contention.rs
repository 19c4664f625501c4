#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Many API Gateway writers on one REST API at once, in process: every
//! `CreateResource` and `PutMethod` succeeds and the API ends with every
//! change. API Gateway writes go through the same `ControlPlane::write`
//! as IAM's (one writer per node at a time, jittered retries across
//! nodes), so a lost optimistic race is planned again inside the server
//! rather than answered `409`.
//!
//! On SQLite always; on PostgreSQL too when `IAMGATE_TEST_POSTGRES_URL` is
//! set (a fresh schema, dropped afterwards).

mod support;

use std::sync::Arc;

use iamgate_control::{ControlPlanes, Service};
use serde_json::{Value, json};
use support::{Call, Gateway, sign_call};

/// Concurrent writers, each creating one resource and its method.
const WRITERS: usize = 16;

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
"#;

async fn call(gw: &Gateway, method: &str, target: &str, body: Value) -> (u16, Value) {
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
        "AKIAROOTAAAAAAAAAAAA",
        "root-secret-a",
        None,
        body,
    );
    assert_eq!(ControlPlanes::route(&request), Some(Service::ApiGateway));
    let response = gw.planes.handle(Service::ApiGateway, &request).await;
    let json = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    (response.status, json)
}

async fn contend(gw: Arc<Gateway>) {
    let (status, api) = call(&gw, "POST", "/restapis", json!({"name": "busy"})).await;
    assert_eq!(status, 201, "{api}");
    let id = api["id"].as_str().unwrap().to_owned();
    let root = api["rootResourceId"].as_str().unwrap().to_owned();

    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..WRITERS {
        let (gw, id, root) = (gw.clone(), id.clone(), root.clone());
        tasks.spawn(async move {
            let mut replies = Vec::new();
            let created = call(
                &gw,
                "POST",
                &format!("/restapis/{id}/resources/{root}"),
                json!({ "pathPart": format!("r{index}") }),
            )
            .await;
            let resource = created.1["id"].as_str().map(str::to_owned);
            replies.push(created);
            if let Some(resource) = resource {
                replies.push(
                    call(
                        &gw,
                        "PUT",
                        &format!("/restapis/{id}/resources/{resource}/methods/GET"),
                        json!({"authorizationType": "NONE"}),
                    )
                    .await,
                );
            }
            replies
        });
    }
    let mut failures = Vec::new();
    let mut total = 0;
    while let Some(replies) = tasks.join_next().await {
        for (status, body) in replies.unwrap() {
            total += 1;
            if status != 201 {
                failures.push(format!("{status} {body}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} concurrent writes failed, e.g. {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(total, 2 * WRITERS);

    let (status, resources) = call(
        &gw,
        "GET",
        &format!("/restapis/{id}/resources?embed=methods"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{resources}");
    let items = resources["item"].as_array().unwrap();
    let mut with_get: Vec<String> = items
        .iter()
        .filter(|r| r["resourceMethods"]["GET"].is_object())
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    with_get.sort();
    let mut expected: Vec<String> = (0..WRITERS).map(|i| format!("/r{i}")).collect();
    expected.sort();
    assert_eq!(with_get, expected);
    assert_eq!(items.len(), WRITERS + 1, "every resource and the root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_resource_and_put_method_on_one_rest_api_all_succeed_on_sqlite() {
    contend(Arc::new(Gateway::start(WORLD).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_resource_and_put_method_on_one_rest_api_all_succeed_on_postgres() {
    support::on_postgres("apigw_contention", |url| async move {
        let gw = Gateway::start_on(&url, WORLD, tempfile::tempdir().unwrap()).await;
        contend(Arc::new(gw)).await;
    })
    .await;
}
