#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Random sequences of IAM and API Gateway writes, made through the control
//! planes, leave the writing node's snapshot — updated change by change —
//! equal to the snapshot a node builds by reading the whole store; and a
//! second node on the same store, following the change feed, agrees too.
//!
//! On SQLite always; on PostgreSQL too when `IAMGATE_TEST_POSTGRES_URL` is
//! set (a fresh schema, dropped afterwards).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use iamgate_control::{ControlPlane, ControlPlanes, Service};
use iamgate_store::{SecretCipher, Store};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{Call, Gateway, sign_call};

const A: &str = "111111111111";
const ROOT: (&str, &str) = ("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
"#;
const NAMES: [&str; 3] = ["a", "b", "c"];
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
const OTHER_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;

/// One control-plane write. Many fail (a user that does not exist, a
/// policy still attached): a refused write must change nothing either.
#[derive(Debug, Clone)]
enum Write {
    CreateUser(usize),
    DeleteUser(usize),
    CreateGroup(usize),
    AddUserToGroup(usize, usize),
    RemoveUserFromGroup(usize, usize),
    DeleteGroup(usize),
    PutUserPolicy(usize, bool),
    DeleteUserPolicy(usize),
    CreatePolicy(usize),
    CreatePolicyVersion(usize),
    DeletePolicy(usize),
    AttachUserPolicy(usize, usize),
    DetachUserPolicy(usize, usize),
    AttachGroupPolicy(usize, usize),
    DetachGroupPolicy(usize, usize),
    PutUserPermissionsBoundary(usize, usize),
    CreateAccessKey(usize),
    DeleteAccessKeys(usize),
    CreateRole(usize),
    AttachRolePolicy(usize, usize),
    DetachRolePolicy(usize, usize),
    DeleteRole(usize),
    CreateRestApi(usize),
    DeployRestApi(usize),
    DisableDefaultEndpoint(usize),
    DeleteRestApi(usize),
    CreateHttpApi(usize),
    DeleteHttpApi(usize),
}

fn write() -> impl Strategy<Value = Write> {
    let n = || 0..NAMES.len();
    prop_oneof![
        1 => n().prop_map(Write::CreateUser),
        1 => n().prop_map(Write::DeleteUser),
        1 => n().prop_map(Write::CreateGroup),
        1 => (n(), n()).prop_map(|(u, g)| Write::AddUserToGroup(u, g)),
        1 => (n(), n()).prop_map(|(u, g)| Write::RemoveUserFromGroup(u, g)),
        1 => n().prop_map(Write::DeleteGroup),
        1 => (n(), any::<bool>()).prop_map(|(u, deny)| Write::PutUserPolicy(u, deny)),
        1 => n().prop_map(Write::DeleteUserPolicy),
        1 => n().prop_map(Write::CreatePolicy),
        1 => n().prop_map(Write::CreatePolicyVersion),
        1 => n().prop_map(Write::DeletePolicy),
        1 => (n(), n()).prop_map(|(u, p)| Write::AttachUserPolicy(u, p)),
        1 => (n(), n()).prop_map(|(u, p)| Write::DetachUserPolicy(u, p)),
        1 => (n(), n()).prop_map(|(g, p)| Write::AttachGroupPolicy(g, p)),
        1 => (n(), n()).prop_map(|(g, p)| Write::DetachGroupPolicy(g, p)),
        1 => (n(), n()).prop_map(|(u, p)| Write::PutUserPermissionsBoundary(u, p)),
        1 => n().prop_map(Write::CreateAccessKey),
        1 => n().prop_map(Write::DeleteAccessKeys),
        1 => n().prop_map(Write::CreateRole),
        1 => (n(), n()).prop_map(|(r, p)| Write::AttachRolePolicy(r, p)),
        1 => (n(), n()).prop_map(|(r, p)| Write::DetachRolePolicy(r, p)),
        1 => n().prop_map(Write::DeleteRole),
        // APIs are fewer and their writes more frequent, so a case often
        // creates, deploys, changes and deletes the same API.
        4 => (0..2usize).prop_map(Write::CreateRestApi),
        4 => (0..2usize).prop_map(Write::DeployRestApi),
        2 => (0..2usize).prop_map(Write::DisableDefaultEndpoint),
        3 => (0..2usize).prop_map(Write::DeleteRestApi),
        3 => (0..2usize).prop_map(Write::CreateHttpApi),
        2 => (0..2usize).prop_map(Write::DeleteHttpApi),
    ]
}

fn policy_arn(p: usize) -> String {
    format!("arn:aws:iam::{A}:policy/{}", NAMES[p])
}

async fn iam(gw: &Gateway, action: &str, params: &[(&str, &str)]) -> support::Reply {
    gw.client(ROOT.0, ROOT.1).iam(action, params).await
}

async fn apigateway(gw: &Gateway, method: &str, target: &str, body: Value) -> (u16, Value) {
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
    let response = gw.planes.handle(Service::ApiGateway, &request).await;
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, json)
}

/// The API ids each named API got when created, to address it later.
#[derive(Default)]
struct Ids {
    rest: BTreeMap<usize, String>,
    http: BTreeMap<usize, String>,
}

async fn run(gw: &Gateway, ids: &mut Ids, write: &Write) {
    let name = |i: usize| NAMES[i];
    match *write {
        Write::CreateUser(u) => {
            iam(gw, "CreateUser", &[("UserName", name(u))]).await;
        }
        Write::DeleteUser(u) => {
            iam(gw, "DeleteUser", &[("UserName", name(u))]).await;
        }
        Write::CreateGroup(g) => {
            iam(gw, "CreateGroup", &[("GroupName", name(g))]).await;
        }
        Write::AddUserToGroup(u, g) => {
            let params = [("UserName", name(u)), ("GroupName", name(g))];
            iam(gw, "AddUserToGroup", &params).await;
        }
        Write::RemoveUserFromGroup(u, g) => {
            let params = [("UserName", name(u)), ("GroupName", name(g))];
            iam(gw, "RemoveUserFromGroup", &params).await;
        }
        Write::DeleteGroup(g) => {
            iam(gw, "DeleteGroup", &[("GroupName", name(g))]).await;
        }
        Write::PutUserPolicy(u, deny) => {
            let document = if deny { OTHER_POLICY } else { POLICY };
            let params = [
                ("UserName", name(u)),
                ("PolicyName", "inline"),
                ("PolicyDocument", document),
            ];
            iam(gw, "PutUserPolicy", &params).await;
        }
        Write::DeleteUserPolicy(u) => {
            let params = [("UserName", name(u)), ("PolicyName", "inline")];
            iam(gw, "DeleteUserPolicy", &params).await;
        }
        Write::CreatePolicy(p) => {
            let params = [("PolicyName", name(p)), ("PolicyDocument", POLICY)];
            iam(gw, "CreatePolicy", &params).await;
        }
        Write::CreatePolicyVersion(p) => {
            let arn = policy_arn(p);
            let params = [
                ("PolicyArn", arn.as_str()),
                ("PolicyDocument", OTHER_POLICY),
                ("SetAsDefault", "true"),
            ];
            iam(gw, "CreatePolicyVersion", &params).await;
        }
        Write::DeletePolicy(p) => {
            iam(gw, "DeletePolicy", &[("PolicyArn", &policy_arn(p))]).await;
        }
        Write::AttachUserPolicy(u, p) | Write::DetachUserPolicy(u, p) => {
            let action = if matches!(write, Write::AttachUserPolicy(..)) {
                "AttachUserPolicy"
            } else {
                "DetachUserPolicy"
            };
            let arn = policy_arn(p);
            iam(gw, action, &[("UserName", name(u)), ("PolicyArn", &arn)]).await;
        }
        Write::AttachGroupPolicy(g, p) | Write::DetachGroupPolicy(g, p) => {
            let action = if matches!(write, Write::AttachGroupPolicy(..)) {
                "AttachGroupPolicy"
            } else {
                "DetachGroupPolicy"
            };
            let arn = policy_arn(p);
            iam(gw, action, &[("GroupName", name(g)), ("PolicyArn", &arn)]).await;
        }
        Write::PutUserPermissionsBoundary(u, p) => {
            let arn = policy_arn(p);
            let params = [("UserName", name(u)), ("PermissionsBoundary", arn.as_str())];
            iam(gw, "PutUserPermissionsBoundary", &params).await;
        }
        Write::CreateAccessKey(u) => {
            iam(gw, "CreateAccessKey", &[("UserName", name(u))]).await;
        }
        Write::DeleteAccessKeys(u) => {
            let keys = iam(gw, "ListAccessKeys", &[("UserName", name(u))]).await;
            for id in keys.texts("AccessKeyId") {
                let params = [("UserName", name(u)), ("AccessKeyId", id.as_str())];
                iam(gw, "DeleteAccessKey", &params).await;
            }
        }
        Write::CreateRole(r) => {
            let params = [("RoleName", name(r)), ("AssumeRolePolicyDocument", TRUST)];
            iam(gw, "CreateRole", &params).await;
        }
        Write::AttachRolePolicy(r, p) | Write::DetachRolePolicy(r, p) => {
            let action = if matches!(write, Write::AttachRolePolicy(..)) {
                "AttachRolePolicy"
            } else {
                "DetachRolePolicy"
            };
            let arn = policy_arn(p);
            iam(gw, action, &[("RoleName", name(r)), ("PolicyArn", &arn)]).await;
        }
        Write::DeleteRole(r) => {
            iam(gw, "DeleteRole", &[("RoleName", name(r))]).await;
        }
        Write::CreateRestApi(i) => {
            let (status, body) =
                apigateway(gw, "POST", "/restapis", json!({ "name": name(i) })).await;
            if status == 201 {
                let id = body["id"].as_str().unwrap().to_owned();
                let root = apigateway(gw, "GET", &format!("/restapis/{id}/resources"), Value::Null)
                    .await
                    .1["item"][0]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let method = format!("/restapis/{id}/resources/{root}/methods/GET");
                apigateway(
                    gw,
                    "PUT",
                    &method,
                    json!({ "authorizationType": "AWS_IAM" }),
                )
                .await;
                let integration = format!("{method}/integration");
                apigateway(gw, "PUT", &integration, json!({ "type": "MOCK" })).await;
                ids.rest.insert(i, id);
            }
        }
        Write::DeployRestApi(i) => {
            if let Some(id) = ids.rest.get(&i) {
                let target = format!("/restapis/{id}/deployments");
                apigateway(gw, "POST", &target, json!({ "stageName": "prod" })).await;
            }
        }
        Write::DisableDefaultEndpoint(i) => {
            if let Some(id) = ids.rest.get(&i) {
                let patch = json!({ "patchOperations": [
                    { "op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true" }
                ]});
                apigateway(gw, "PATCH", &format!("/restapis/{id}"), patch).await;
            }
        }
        Write::DeleteRestApi(i) => {
            if let Some(id) = ids.rest.remove(&i) {
                apigateway(gw, "DELETE", &format!("/restapis/{id}"), Value::Null).await;
            }
        }
        Write::CreateHttpApi(i) => {
            let body = json!({ "name": name(i), "protocolType": "HTTP" });
            let (status, body) = apigateway(gw, "POST", "/v2/apis", body).await;
            if status == 201 {
                let id = body["apiId"].as_str().unwrap().to_owned();
                let stage = json!({ "stageName": "$default", "autoDeploy": true });
                apigateway(gw, "POST", &format!("/v2/apis/{id}/stages"), stage).await;
                ids.http.insert(i, id);
            }
        }
        Write::DeleteHttpApi(i) => {
            if let Some(id) = ids.http.remove(&i) {
                apigateway(gw, "DELETE", &format!("/v2/apis/{id}"), Value::Null).await;
            }
        }
    }
}

/// Everything a snapshot serves, in a canonical text form.
fn describe(plane: &ControlPlane) -> Vec<String> {
    let mut lines = plane.world().describe();
    let apis = plane.apis();
    for (id, api) in &apis.rest {
        lines.push(format!("rest {id} {api:?}"));
    }
    for (id, api) in &apis.http {
        lines.push(format!("http {id} {api:?}"));
    }
    for (name, domain) in &apis.domains {
        lines.push(format!("domain {name} {domain:?}"));
    }
    for id in &apis.default_endpoint_disabled {
        lines.push(format!("disabled {id}"));
    }
    lines.sort();
    lines
}

fn assert_same(updated: &[String], built: &[String], what: &str) {
    let only_updated: Vec<&String> = updated.iter().filter(|l| !built.contains(l)).collect();
    let only_built: Vec<&String> = built.iter().filter(|l| !updated.contains(l)).collect();
    assert!(
        only_updated.is_empty() && only_built.is_empty(),
        "{what}: only in the updated snapshot: {only_updated:#?}\nonly in the one read whole: {only_built:#?}"
    );
}

async fn check(url: String, writes: Vec<Write>) {
    let gw = Gateway::start_on(&url, WORLD, tempfile::tempdir().unwrap()).await;
    // A second node on the same store, following the change feed.
    let follower = Arc::new(open_plane(&url).await);
    let _follower_planes = ControlPlanes::new(follower.clone());
    let mut ids = Ids::default();
    for write in &writes {
        run(&gw, &mut ids, write).await;
        let updated = describe(&gw.planes.plane);
        let whole = open_plane(&url).await;
        assert_same(&updated, &describe(&whole), &format!("after {write:?}"));
    }
    follower.reload().await.unwrap();
    let whole = open_plane(&url).await;
    assert_same(
        &describe(&follower),
        &describe(&whole),
        "the second node, caught up",
    );
}

/// A node on the store at `url`.
async fn open_plane(url: &str) -> ControlPlane {
    ControlPlane::open(
        Store::open(url).await.unwrap(),
        SecretCipher::from_key(&[7; 32]),
    )
    .await
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn writes_applied_incrementally_give_the_snapshot_a_full_load_gives_on_sqlite(
        writes in proptest::collection::vec(write(), 1..30)
    ) {
        runtime().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
            check(url, writes).await;
        });
    }

    #[test]
    fn writes_applied_incrementally_give_the_snapshot_a_full_load_gives_on_postgres(
        writes in proptest::collection::vec(write(), 1..30)
    ) {
        if std::env::var("IAMGATE_TEST_POSTGRES_URL").is_err() {
            eprintln!("SKIP: IAMGATE_TEST_POSTGRES_URL not set");
            return Ok(());
        }
        runtime().block_on(support::on_postgres("incremental", |url| check(url, writes)));
    }
}

/// A node more changes behind than its snapshot has entities (here: a
/// world file of 6,000 users with a key each, 12,000 changes) reads the
/// store whole instead of the delta; both nodes end with the snapshot a
/// fresh load gives.
#[test]
fn a_node_far_behind_reads_the_store_whole_and_ends_with_the_same_snapshot() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        let open = || open_plane(&url);
        let writer = open().await;
        let follower = open().await;
        let mut text = String::from("accounts:\n  - id: \"111111111111\"\n    users:\n");
        for i in 0..6_000 {
            text.push_str(&format!(
                "      - {{ name: user{i}, access_keys: [{{ id: AKIAFAR{i:013}, secret: \"secret{i:034}\" }}] }}\n"
            ));
        }
        let config = iamgate_iam::config::WorldConfig::parse_with_sections(&text, &[]).unwrap();
        writer.apply_config(&config).await.unwrap();
        writer.reload().await.unwrap();
        follower.reload().await.unwrap();
        let whole = open().await;
        let expected = describe(&whole);
        assert!(expected.len() > 12_000, "{}", expected.len());
        assert_same(&describe(&writer), &expected, "the writing node");
        assert_same(&describe(&follower), &expected, "the node far behind");
    });
}

/// Every example world (users, roles with trust policies, groups, managed
/// policies, REST and HTTP APIs, OpenAPI imports, domain names) applied as
/// a world file: the writing node builds its snapshot from the batch it
/// wrote, without reading it back, and ends where a fresh load ends.
#[test]
fn a_world_file_applied_gives_the_writer_the_snapshot_a_full_load_gives() {
    runtime().block_on(async {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut applied = 0;
        for example in std::fs::read_dir(&examples).unwrap() {
            let dir = example.unwrap().path();
            let Ok(text) = std::fs::read_to_string(dir.join("world.yaml")) else {
                continue;
            };
            let world = iamgate_control::apply::WorldFile::parse(&text, &|file| {
                std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())
            })
            .unwrap();
            let data = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", data.path().join("iamgate.db").display());
            let open = || open_plane(&url);
            let writer = open().await;
            writer
                .apply_world_file(&world.iam, &world.apis, "digest")
                .await
                .unwrap();
            let expected = describe(&open().await);
            assert!(expected.len() > 3, "{}: {expected:?}", dir.display());
            assert_same(&describe(&writer), &expected, &dir.display().to_string());
            applied += 1;
        }
        assert!(applied >= 4, "{applied} example worlds");
    });
}

/// When another node wrote after the snapshot a world file is applied
/// on, the batch does not directly follow that snapshot: the writer then
/// reads what it missed from the store instead of swapping in the
/// snapshot built from its own batch alone.
#[test]
fn a_world_file_applied_after_another_nodes_write_keeps_that_write() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        let open = || open_plane(&url);
        let writer = open().await;
        let other = open().await;
        let parse =
            |text: &str| iamgate_iam::config::WorldConfig::parse_with_sections(text, &[]).unwrap();
        other
            .apply_config(&parse(
                "accounts:\n  - id: \"222222222222\"\n    users: [{ name: from-the-other-node }]\n",
            ))
            .await
            .unwrap();
        writer
            .apply_config(&parse(
                "accounts:\n  - id: \"111111111111\"\n    users: [{ name: from-the-writer }]\n",
            ))
            .await
            .unwrap();
        let seen = describe(&writer);
        assert!(
            seen.iter().any(|line| line.contains("from-the-other-node")),
            "{seen:#?}"
        );
        assert_same(&seen, &describe(&open().await), "the writer");
    });
}
