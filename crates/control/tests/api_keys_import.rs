#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! ImportApiKeys is never half-written: a refusal on a later line — here a
//! plan association AWS refuses (a key in two plans of one stage) — leaves
//! every earlier line's key and plan association unwritten too.

mod support;

use std::sync::Arc;

use iamgate_apimodel::config::ApiRegistry;
use iamgate_control::apply::WorldFile;
use iamgate_control::{ControlPlane, ControlPlanes, Service};
use iamgate_store::{SecretCipher, Store};
use serde_json::Value;
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
  - { name: gold, account: "123456789012", api_stages: [{ api: keysapi001, stage: prod }], keys: [partner] }
  - { name: silver, account: "123456789012", api_stages: [{ api: keysapi001, stage: prod }] }
"#;

const ROOT: (&str, &str) = (
    "AKIAEXAMPLEKEYSROOT1",
    "exampleApiKeysRootSecretKey000000000001",
);

async fn start(dir: &tempfile::TempDir) -> ControlPlanes {
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let store = Store::open(&url).await.unwrap();
    let plane = ControlPlane::open(store, SecretCipher::from_key(&[7; 32]))
        .await
        .unwrap()
        .with_clock(Arc::new(|| NOW));
    let no_files = |_: &str| -> Result<String, String> { Err("no files".into()) };
    let world = WorldFile::parse(WORLD, &no_files).unwrap();
    let apis: ApiRegistry = world.apis;
    plane
        .apply_world_file(&world.iam, &apis, "digest")
        .await
        .unwrap();
    ControlPlanes::new(Arc::new(plane))
}

async fn call(planes: &ControlPlanes, method: &str, target: &str, body: String) -> (u16, Value) {
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

async fn key_names(planes: &ControlPlanes) -> Vec<String> {
    let (status, keys) = call(planes, "GET", "/apikeys", String::new()).await;
    assert_eq!(status, 200, "{keys}");
    let mut names: Vec<String> = keys["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn plan_key_count(planes: &ControlPlanes, plan: &str) -> usize {
    let (status, keys) = call(
        planes,
        "GET",
        &format!("/usageplans/{plan}/keys"),
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{keys}");
    keys["item"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_import_refused_on_a_later_line_writes_nothing_of_the_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let planes = start(&dir).await;
    let silver = iamgate_apimodel::usage_config::declared_plan_id("123456789012", "silver");
    let gold = iamgate_apimodel::usage_config::declared_plan_id("123456789012", "gold");
    assert_eq!(key_names(&planes).await, ["partner"]);

    // Line 1 is a new key for silver; line 2 puts the declared partner key
    // (in gold, on the same stage) into silver too, which AWS refuses.
    let csv = format!(
        "Name,Key,UsagePlanIds\nfresh,fresh-imported-key-0000000001,\"{silver}\"\nagain,declared-partner-key-000000000001,\"{silver}\"\n"
    );
    let (status, error) = call(&planes, "POST", "/apikeys?mode=import&format=csv", csv).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(
        error["message"],
        "Usage Plan cannot be added because API Key has been added to another Usage Plan on the same API Stage"
    );
    assert_eq!(key_names(&planes).await, ["partner"], "no key was written");
    assert_eq!(plan_key_count(&planes, &silver).await, 0);
    assert_eq!(plan_key_count(&planes, &gold).await, 1);

    // An unknown plan on a later line: the same.
    let csv = format!(
        "Name,Key,UsagePlanIds\nfresh,fresh-imported-key-0000000001,\"{silver}\"\nother,other-imported-key-0000000001,nosuchplan\n"
    );
    let (status, _) = call(&planes, "POST", "/apikeys?mode=import&format=csv", csv).await;
    assert_eq!(status, 404);
    assert_eq!(key_names(&planes).await, ["partner"]);

    // Without the refused line every key and association is written at
    // once; the partner key's line renames it (same value, same key), and
    // two lines with one value are one key.
    let csv = format!(
        "Name,Key,UsagePlanIds\nfresh,fresh-imported-key-0000000001,\"{silver}\"\nrenamed,declared-partner-key-000000000001,\"{gold}\"\nfresh2,fresh-imported-key-0000000001,\n"
    );
    let (status, imported) = call(&planes, "POST", "/apikeys?mode=import&format=csv", csv).await;
    assert_eq!(status, 201, "{imported}");
    let ids = imported["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[2], "one value, one key");
    assert_eq!(key_names(&planes).await, ["fresh2", "renamed"]);
    assert_eq!(plan_key_count(&planes, &silver).await, 1);
    assert_eq!(plan_key_count(&planes, &gold).await, 1);
}
