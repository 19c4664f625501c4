#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Many writers on one IAM entity at once, in process: every request
//! succeeds and the final state holds every change. A write that loses an
//! optimistic race is planned again inside the server instead of
//! answering `409 ConcurrentModification`, which AWS rarely surfaces
//! (issue 17: 81 of 240 attach/detach calls once lost on SQLite).
//!
//! On SQLite always; on PostgreSQL too when `IAMGATE_TEST_POSTGRES_URL` is
//! set (a fresh schema, dropped afterwards).

mod support;

use std::sync::Arc;

use support::Gateway;

const A: &str = "111111111111";
const ROOT_KEY: &str = "AKIAROOTAAAAAAAAAAAA";
const ROOT_SECRET: &str = "root-secret-a";
/// Writers per kind of change; 8 managed policies stay within the 10 a
/// user may have attached.
const WRITERS: usize = 8;
/// Attach/detach rounds per policy writer.
const ROUNDS: usize = 6;

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    users:
      - name: busy
    roles:
      - name: busy-role
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
"#;

fn document(index: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-{index}/*"}}]}}"#
    )
}

/// Calls IAM as the root and returns (status, body).
async fn call(gw: &Gateway, action: &str, params: &[(&str, &str)]) -> (u16, String) {
    let reply = gw.client(ROOT_KEY, ROOT_SECRET).iam(action, params).await;
    (reply.status, reply.body)
}

async fn contend(gw: Arc<Gateway>) {
    for index in 0..WRITERS {
        let name = format!("p{index}");
        let (status, body) = call(
            &gw,
            "CreatePolicy",
            &[("PolicyName", &name), ("PolicyDocument", &document(index))],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..WRITERS {
        // Attach and detach one policy over and over, ending attached.
        let writer = gw.clone();
        tasks.spawn(async move {
            let gw = writer;
            let arn = format!("arn:aws:iam::{A}:policy/p{index}");
            let params = [("UserName", "busy"), ("PolicyArn", arn.as_str())];
            let mut replies = Vec::new();
            for _ in 0..ROUNDS {
                replies.push(call(&gw, "AttachUserPolicy", &params).await);
                replies.push(call(&gw, "DetachUserPolicy", &params).await);
            }
            replies.push(call(&gw, "AttachUserPolicy", &params).await);
            replies
        });
        // Inline policies on one role.
        let writer = gw.clone();
        tasks.spawn(async move {
            let gw = writer;
            let name = format!("inline{index}");
            let params = [
                ("RoleName", "busy-role"),
                ("PolicyName", name.as_str()),
                ("PolicyDocument", &document(index)),
            ];
            vec![call(&gw, "PutRolePolicy", &params).await]
        });
        // Tags on the same user as the attachments.
        let writer = gw.clone();
        tasks.spawn(async move {
            let gw = writer;
            let key = format!("k{index}");
            let params = [
                ("UserName", "busy"),
                ("Tags.member.1.Key", key.as_str()),
                ("Tags.member.1.Value", "v"),
            ];
            vec![call(&gw, "TagUser", &params).await]
        });
    }
    let mut failures = Vec::new();
    let mut total = 0;
    while let Some(replies) = tasks.join_next().await {
        for (status, body) in replies.unwrap() {
            total += 1;
            if status != 200 {
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

    let root = gw.client(ROOT_KEY, ROOT_SECRET);
    let attached = root
        .iam("ListAttachedUserPolicies", &[("UserName", "busy")])
        .await;
    let mut names = attached.ok().texts("PolicyName");
    names.sort();
    let expected: Vec<String> = (0..WRITERS).map(|i| format!("p{i}")).collect();
    assert_eq!(names, expected);
    let inline = root
        .iam("ListRolePolicies", &[("RoleName", "busy-role")])
        .await;
    let expected: Vec<String> = (0..WRITERS).map(|i| format!("inline{i}")).collect();
    assert_eq!(inline.ok().texts("member"), expected);
    let tags = root.iam("ListUserTags", &[("UserName", "busy")]).await;
    let expected: Vec<String> = (0..WRITERS).map(|i| format!("k{i}")).collect();
    let mut keys = tags.ok().texts("Key");
    keys.sort();
    assert_eq!(keys, expected);
    // Every policy's attachment count agrees with the user's record.
    for index in 0..WRITERS {
        let arn = format!("arn:aws:iam::{A}:policy/p{index}");
        let policy = root.iam("GetPolicy", &[("PolicyArn", &arn)]).await;
        assert_eq!(policy.ok().get("AttachmentCount"), "1", "p{index}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attach_detach_put_role_policy_and_tag_user_all_succeed_on_sqlite() {
    contend(Arc::new(Gateway::start(WORLD).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attach_detach_put_role_policy_and_tag_user_all_succeed_on_postgres() {
    support::on_postgres("contention", |url| async move {
        let gw = Gateway::start_on(&url, WORLD, tempfile::tempdir().unwrap()).await;
        contend(Arc::new(gw)).await;
    })
    .await;
}
