#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! GetSessionToken sessions whose user is gone, in process: every API
//! answers them the same way (issue 17).

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
