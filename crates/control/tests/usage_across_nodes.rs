#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! UpdateUsage reaches every node: two control planes on one store (two
//! nodes), a key that used up its quota as node two counted it, then
//! `replace /remaining` answered by node one; node two lets the key
//! through again once it flushes, and GetUsage on either node agrees.

mod support;

use std::sync::Arc;

use iamgate_apimodel::usage_config::{declared_key_id, declared_plan_id};
use iamgate_control::apply::WorldFile;
use iamgate_control::{ControlPlane, ControlPlanes, Service};
use iamgate_store::{SecretCipher, Store};
use serde_json::{Value, json};
use support::{Call, NOW, sign_call};

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEKEYSROOT1, secret: "exampleApiKeysRootSecretKey000000000001" }
apis:
  - id: keysapi001
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /, method: GET, authorization: NONE, api_key_required: true,
          integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
api_keys:
  - { name: partner, account: "123456789012", value: "declared-partner-key-000000000001" }
usage_plans:
  - { name: daily, account: "123456789012", api_stages: [{ api: keysapi001, stage: prod }],
      quota: { limit: 3, period: DAY }, keys: [partner] }
"#;

async fn node(url: &str, apply: bool) -> Arc<ControlPlane> {
    let store = Store::open(url).await.unwrap();
    let plane = ControlPlane::open(store, SecretCipher::from_key(&[7; 32]))
        .await
        .unwrap()
        .with_clock(Arc::new(|| NOW));
    if apply {
        let no_files = |_: &str| -> Result<String, String> { Err("no files".into()) };
        let world = WorldFile::parse(WORLD, &no_files).unwrap();
        plane
            .apply_world_file(&world.iam, &world.apis, "digest")
            .await
            .unwrap();
    }
    Arc::new(plane)
}

async fn call(plane: &Arc<ControlPlane>, method: &str, target: &str, body: Value) -> (u16, Value) {
    let request = sign_call(
        Call {
            service: "apigateway",
            method,
            target,
            content_type: "application/json",
        },
        "AKIAEXAMPLEKEYSROOT1",
        "exampleApiKeysRootSecretKey000000000001",
        None,
        if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    );
    plane.reload().await.unwrap();
    let response = ControlPlanes::new(plane.clone())
        .handle(Service::ApiGateway, &request)
        .await;
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn remaining_set_by_update_usage_on_one_node_is_what_the_other_node_counts_from() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nodes.db").display());
    let one = node(&url, true).await;
    let two = node(&url, false).await;
    let plan = declared_plan_id("123456789012", "daily");
    let key = declared_key_id("123456789012", "partner");
    let day = NOW.div_euclid(86_400);

    // Node two lets the key through three times: the quota is used up.
    let ledger = two.usage_ledger();
    for _ in 0..3 {
        ledger.take(&plan, &key, day, day, Some(3)).unwrap();
    }
    assert!(ledger.take(&plan, &key, day, day, Some(3)).is_err());
    two.flush_usage().await.unwrap();

    // Node one gives it two more.
    let (status, usage) = call(
        &one,
        "PATCH",
        &format!("/usageplans/{plan}/keys/{key}/usage"),
        json!({"patchOperations": [{"op": "replace", "path": "/remaining", "value": "2"}]}),
    )
    .await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["values"][key.as_str()], json!([[1, 2]]));

    // Node two learns it at its next flush: two more, then refused.
    two.flush_usage().await.unwrap();
    assert_eq!(ledger.take(&plan, &key, day, day, Some(3)), Ok(Some(1)));
    assert_eq!(ledger.take(&plan, &key, day, day, Some(3)), Ok(Some(0)));
    assert!(ledger.take(&plan, &key, day, day, Some(3)).is_err());
    two.flush_usage().await.unwrap();

    // Both nodes report the same usage.
    let date = iamgate_sigv4::time::format_basic(NOW);
    let date = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..8]);
    let target = format!("/usageplans/{plan}/usage?startDate={date}&endDate={date}");
    let (_, from_one) = call(&one, "GET", &target, Value::Null).await;
    let (_, from_two) = call(&two, "GET", &target, Value::Null).await;
    assert_eq!(
        from_one["values"][key.as_str()],
        json!([[3, 0]]),
        "{from_one}"
    );
    assert_eq!(from_one["values"], from_two["values"]);
}
