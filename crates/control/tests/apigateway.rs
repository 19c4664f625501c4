#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The API Gateway control planes in process: REST-JSON requests signed by
//! aws-sigv4 (service `apigateway`), AWS's shapes and errors, and what the
//! data plane serves afterwards.

mod support;

use iamgate_control::{ControlPlanes, Service};
use serde_json::{Value, json};
use support::{Call, Gateway, sign_call};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    users:
      - name: reader
        access_keys: [{ id: AKIAREADERAAAAAAAAAA, secret: "reader-secret" }]
        policies:
          get: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"apigateway:GET","Resource":"*"}]}'
  - id: "222222222222"
    root_access_key: { id: AKIAROOTBBBBBBBBBBBB, secret: "root-secret-b" }
"#;

/// A signed REST-JSON call; status and JSON body (`Null` when empty).
async fn call(
    gw: &Gateway,
    key: (&str, &str),
    method: &str,
    target: &str,
    body: Value,
) -> (u16, Value, Vec<(String, String)>) {
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
        key.0,
        key.1,
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
    (response.status, json, response.headers)
}

const ROOT_A: (&str, &str) = ("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
const ROOT_B: (&str, &str) = ("AKIAROOTBBBBBBBBBBBB", "root-secret-b");
const READER: (&str, &str) = ("AKIAREADERAAAAAAAAAA", "reader-secret");

#[tokio::test]
async fn a_rest_api_is_created_read_listed_patched_and_deleted_in_its_account_only() {
    let gw = Gateway::start(WORLD).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;
    let (status, api, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis",
        json!({"name": "pets", "endpointConfiguration": {"types": ["REGIONAL"]}, "policy": policy}),
    )
    .await;
    assert_eq!(status, 201, "{api}");
    let id = api["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 10);
    assert_eq!(api["endpointConfiguration"], json!({"types": ["REGIONAL"]}));
    assert_eq!(
        api["policy"],
        format!(
            r#"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"arn:aws:execute-api:us-east-1:111111111111:{id}\/*\"}}]}}"#
        )
    );

    let (status, listed, _) = call(&gw, READER, "GET", "/restapis", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(listed["item"][0]["id"], id.as_str());

    // Another account sees none of it.
    let (status, other, headers) =
        call(&gw, ROOT_B, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(status, 404);
    assert_eq!(
        other,
        json!({"message": format!("Invalid API identifier specified 222222222222:{id}")})
    );
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "x-amzn-ErrorType" && v == "NotFoundException")
    );

    // The reader may only GET.
    let (status, denied, _) = call(
        &gw,
        READER,
        "DELETE",
        &format!("/restapis/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        denied["message"],
        format!(
            "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/restapis/{id} because no identity-based policy allows the apigateway:DELETE action"
        )
    );

    // A bad patch changes nothing.
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{id}"),
        json!({"patchOperations": [{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "replace", "path": "/nope", "value": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    let (_, unchanged, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(unchanged["name"], "pets");

    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    let (status, _, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(status, 404);
}
