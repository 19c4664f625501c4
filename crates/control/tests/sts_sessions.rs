#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! STS sessions in process: GetSessionToken sessions whose user is gone
//! (every API answers them the same way, issue 17); the transitive-tag
//! rules of role chaining.

mod support;

use support::Gateway;

const A: &str = "111111111111";

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    roles:
      - name: deployer
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
"#;

const EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

#[tokio::test]
async fn a_deleted_users_session_is_refused_by_every_api_including_get_caller_identity() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("CreateUser", &[("UserName", "temp")]).await.ok();
    root.iam(
        "PutUserPolicy",
        &[
            ("UserName", "temp"),
            ("PolicyName", "everything"),
            ("PolicyDocument", EVERYTHING),
        ],
    )
    .await
    .ok();
    let key = root.iam("CreateAccessKey", &[("UserName", "temp")]).await;
    key.ok();
    let user = gw.client(&key.get("AccessKeyId"), &key.get("SecretAccessKey"));
    let session = user.sts("GetSessionToken", &[]).await;
    session.ok();
    let temp = gw
        .client(&session.get("AccessKeyId"), &session.get("SecretAccessKey"))
        .with_token(&session.get("SessionToken"));
    let assume = [
        ("RoleArn", format!("arn:aws:iam::{A}:role/deployer")),
        ("RoleSessionName", "s".to_owned()),
    ];
    let assume: Vec<(&str, &str)> = assume.iter().map(|(n, v)| (*n, v.as_str())).collect();

    // While the user exists the session is the user.
    let me = temp.sts("GetCallerIdentity", &[]).await;
    me.ok();
    assert_eq!(me.get("Arn"), format!("arn:aws:iam::{A}:user/temp"));

    let key_id = key.get("AccessKeyId");
    for (action, params) in [
        (
            "DeleteAccessKey",
            vec![("UserName", "temp"), ("AccessKeyId", key_id.as_str())],
        ),
        (
            "DeleteUserPolicy",
            vec![("UserName", "temp"), ("PolicyName", "everything")],
        ),
        ("DeleteUser", vec![("UserName", "temp")]),
    ] {
        root.iam(action, &params).await.ok();
    }

    // Gone: no API answers the session as a caller, and all say the same.
    temp.sts("GetCallerIdentity", &[]).await.assert_error(
        403,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
    temp.sts("AssumeRole", &assume)
        .await
        .assert_error(403, "InvalidClientTokenId", INVALID_TOKEN);
    temp.iam("ListUsers", &[])
        .await
        .assert_error(403, "InvalidClientTokenId", INVALID_TOKEN);

    // A new user of the same name is another user (another id): the old
    // session does not come back to life as it.
    root.iam("CreateUser", &[("UserName", "temp")]).await.ok();
    temp.sts("GetCallerIdentity", &[]).await.assert_error(
        403,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
}

const CHAIN_WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    users:
      - name: ops
        access_keys: [{ id: AKIAOPSAAAAAAAAAAAAA, secret: "ops-secret" }]
        policies:
          everything: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    roles:
      - name: first
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}'
        policies:
          everything: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
      - name: second
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}'
"#;

#[tokio::test]
async fn transitive_tag_keys_must_be_passed_tags_and_chaining_cannot_override_them() {
    let gw = Gateway::start(CHAIN_WORLD).await;
    let ops = gw.client("AKIAOPSAAAAAAAAAAAAA", "ops-secret");
    let first = format!("arn:aws:iam::{A}:role/first");
    let second = format!("arn:aws:iam::{A}:role/second");

    // A transitive key that is not among the session tags.
    ops.sts(
        "AssumeRole",
        &[
            ("RoleArn", &first),
            ("RoleSessionName", "s1"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "project"),
        ],
    )
    .await
    .assert_error(
        400,
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    );

    // Named in another case, it is among them.
    let session = ops
        .sts(
            "AssumeRole",
            &[
                ("RoleArn", &first),
                ("RoleSessionName", "s1"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "blue"),
                ("Tags.member.2.Key", "project"),
                ("Tags.member.2.Value", "apollo"),
                ("TransitiveTagKeys.member.1", "Project"),
            ],
        )
        .await;
    session.ok();
    let chained = gw
        .client(&session.get("AccessKeyId"), &session.get("SecretAccessKey"))
        .with_token(&session.get("SessionToken"));

    // Chaining may not set the inherited transitive tag again, whatever
    // its case or value.
    chained
        .sts(
            "AssumeRole",
            &[
                ("RoleArn", &second),
                ("RoleSessionName", "s2"),
                ("Tags.member.1.Key", "PROJECT"),
                ("Tags.member.1.Value", "gemini"),
            ],
        )
        .await
        .assert_error(
            400,
            "InvalidParameterValue",
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
        );
    // A tag that was not transitive may be passed again.
    chained
        .sts(
            "AssumeRole",
            &[
                ("RoleArn", &second),
                ("RoleSessionName", "s2"),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "red"),
            ],
        )
        .await
        .ok();
}

#[tokio::test]
async fn assume_role_refuses_an_arn_of_something_else_as_invalid_and_a_non_arn_as_denied() {
    let gw = Gateway::start(CHAIN_WORLD).await;
    let ops = gw.client("AKIAOPSAAAAAAAAAAAAA", "ops-secret");
    // The mistakes AWS users report with this answer: an OIDC provider's
    // ARN, a certificate's, a user's.
    for arn in [
        format!("arn:aws:iam::{A}:oidc-provider/token.actions.githubusercontent.com"),
        "arn:aws:acm:us-east-1:111111111111:certificate/abc".to_owned(),
        format!("arn:aws:iam::{A}:user/ops"),
    ] {
        ops.sts(
            "AssumeRole",
            &[("RoleArn", &arn), ("RoleSessionName", "s1")],
        )
        .await
        .assert_error(400, "ValidationError", "Request ARN is invalid");
    }
    // Text that is no ARN (here a colon short) is answered like a role
    // that does not exist, as AWS does.
    let malformed = format!("arn:aws:iam:{A}:role/first");
    ops.sts(
        "AssumeRole",
        &[("RoleArn", &malformed), ("RoleSessionName", "s1")],
    )
    .await
    .assert_error(
        403,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{A}:user/ops is not authorized to perform: sts:AssumeRole on resource: {malformed}"
        ),
    );
}
