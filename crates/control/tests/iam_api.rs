#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The IAM API end to end in process: requests signed by aws-sigv4, a
//! temporary SQLite store, AWS's XML answers (IAM API Reference).

mod support;

use support::{Gateway, url_decode};

const A: &str = "111111111111";

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    users:
      - name: ops
        access_keys: [{ id: AKIAOPSAAAAAAAAAAAAA, secret: "ops-secret" }]
        policies:
          everything: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    roles:
      - name: deployer
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
        policies:
          everything: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
  - id: "222222222222"
    root_access_key: { id: AKIAROOTBBBBBBBBBBBB, secret: "root-secret-b" }
    users:
      - name: mallory
        access_keys: [{ id: AKIAMALLORYBBBBBBBBB, secret: "mallory-secret" }]
        policies:
          everything: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
"#;

const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;
const TRUST_A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#;

async fn gateway() -> Gateway {
    Gateway::start(WORLD).await
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{A}:policy/{name}")
}

#[tokio::test]
async fn root_creates_a_user_whose_new_key_is_authorized_by_the_attached_policy() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");

    let created = root.iam("CreateUser", &[("UserName", "bob")]).await;
    created.ok();
    assert!(
        created
            .body
            .contains("<CreateUserResult><User><Path>/</Path><UserName>bob</UserName>")
    );
    let id = created.get("UserId");
    assert!(id.starts_with("AIDA") && id.len() == 21, "{id}");
    assert_eq!(created.get("Arn"), format!("arn:aws:iam::{A}:user/bob"));
    assert!(created.get("CreateDate").starts_with("2025-06-15T"));

    root.iam(
        "CreatePolicy",
        &[
            ("PolicyName", "ListOnly"),
            ("PolicyDocument", LIST_USERS_ONLY),
        ],
    )
    .await
    .ok();
    root.iam(
        "AttachUserPolicy",
        &[("UserName", "bob"), ("PolicyArn", &policy_arn("ListOnly"))],
    )
    .await
    .ok();
    let key = root.iam("CreateAccessKey", &[("UserName", "bob")]).await;
    key.ok();
    let key_id = key.get("AccessKeyId");
    let secret = key.get("SecretAccessKey");
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20);
    assert_eq!(secret.len(), 40);
    assert_eq!(key.get("Status"), "Active");

    let bob = gw.client(&key_id, &secret);
    let users = bob.iam("ListUsers", &[]).await;
    users.ok();
    assert_eq!(users.texts("UserName"), ["bob", "ops"]);
    assert_eq!(users.get("IsTruncated"), "false");

    bob.iam("CreateUser", &[("UserName", "eve")]).await.assert_error(
        403,
        "AccessDenied",
        &format!(
            "User: arn:aws:iam::{A}:user/bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::{A}:user/eve because no identity-based policy allows the iam:CreateUser action"
        ),
    );
    // The secret is never shown again.
    let listed = root.iam("ListAccessKeys", &[("UserName", "bob")]).await;
    listed.ok();
    assert_eq!(listed.texts("AccessKeyId"), std::slice::from_ref(&key_id));
    assert!(!listed.body.contains(&secret));

    let who = bob.sts("GetCallerIdentity", &[]).await;
    assert_eq!(who.get("Arn"), format!("arn:aws:iam::{A}:user/bob"));
}

#[tokio::test]
async fn user_names_are_unique_case_insensitively_and_keep_their_case() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("CreateUser", &[("UserName", "Bob")]).await.ok();
    root.iam("CreateUser", &[("UserName", "bob")])
        .await
        .assert_error(
            409,
            "EntityAlreadyExists",
            "User with name bob already exists.",
        );
    let got = root.iam("GetUser", &[("UserName", "BOB")]).await;
    got.ok();
    assert_eq!(got.get("UserName"), "Bob");

    root.iam(
        "CreateRole",
        &[
            ("RoleName", "Deployer"),
            ("AssumeRolePolicyDocument", TRUST_A),
        ],
    )
    .await
    .assert_error(
        409,
        "EntityAlreadyExists",
        "Role with name Deployer already exists.",
    );
    root.iam("CreateGroup", &[("GroupName", "devs")]).await.ok();
    root.iam("CreateGroup", &[("GroupName", "DEVS")])
        .await
        .assert_error(
            409,
            "EntityAlreadyExists",
            "Group with name DEVS already exists.",
        );
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .ok();
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "P"), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .assert_error(
        409,
        "EntityAlreadyExists",
        "A policy called P already exists. Duplicate names are not allowed.",
    );
}

#[tokio::test]
async fn missing_entities_answer_no_such_entity_with_aws_texts() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("GetUser", &[("UserName", "nobody")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The user with name nobody cannot be found.",
        );
    root.iam("GetRole", &[("RoleName", "nothing")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The role with name nothing cannot be found.",
        );
    root.iam("GetGroup", &[("GroupName", "none")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The group with name none cannot be found.",
        );
    root.iam(
        "GetRolePolicy",
        &[("RoleName", "deployer"), ("PolicyName", "gone")],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        "The role policy with name gone cannot be found.",
    );
    root.iam(
        "DeleteUserPolicy",
        &[("UserName", "ops"), ("PolicyName", "gone")],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        "The user policy with name gone cannot be found.",
    );
    let missing = policy_arn("Missing");
    root.iam("GetPolicy", &[("PolicyArn", &missing)])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            &format!("Policy {missing} was not found."),
        );
    root.iam(
        "DeleteAccessKey",
        &[("UserName", "ops"), ("AccessKeyId", "AKIANOSUCHKEYAAAAAAA")],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        "The Access Key with id AKIANOSUCHKEYAAAAAAA cannot be found.",
    );
    root.iam(
        "AttachUserPolicy",
        &[("UserName", "ops"), ("PolicyArn", &missing)],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        &format!("Policy {missing} does not exist or is not attachable."),
    );
}

#[tokio::test]
async fn malformed_policy_documents_are_refused_and_nothing_is_stored() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let no_resource =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers"}]}"#;
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "Broken"), ("PolicyDocument", no_resource)],
    )
    .await
    .assert_error(
        400,
        "MalformedPolicyDocument",
        "Policy statement must contain resources.",
    );
    root.iam("GetPolicy", &[("PolicyArn", &policy_arn("Broken"))])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            &format!("Policy {} was not found.", policy_arn("Broken")),
        );

    root.iam(
        "PutUserPolicy",
        &[
            ("UserName", "ops"),
            ("PolicyName", "bad"),
            ("PolicyDocument", "{not json"),
        ],
    )
    .await
    .assert_error(400, "MalformedPolicyDocument", "Syntax errors in policy.");
    let names = root.iam("ListUserPolicies", &[("UserName", "ops")]).await;
    names.ok();
    assert_eq!(names.texts("member"), ["everything"]);

    root.iam(
        "CreateRole",
        &[("RoleName", "r"), ("AssumeRolePolicyDocument", "{not json")],
    )
    .await
    .assert_error(
        400,
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
    );
    root.iam("GetRole", &[("RoleName", "r")])
        .await
        .assert_error(404, "NoSuchEntity", "The role with name r cannot be found.");
}

#[tokio::test]
async fn quotas_answer_limit_exceeded_with_aws_texts() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("CreateUser", &[("UserName", "bob")]).await.ok();
    for _ in 0..2 {
        root.iam("CreateAccessKey", &[("UserName", "bob")])
            .await
            .ok();
    }
    root.iam("CreateAccessKey", &[("UserName", "bob")])
        .await
        .assert_error(
            409,
            "LimitExceeded",
            "Cannot exceed quota for AccessKeysPerUser: 2",
        );

    let actions: Vec<String> = (0..700).map(|i| format!("\"iam:GetUser{i:04}\"")).collect();
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "Huge"), ("PolicyDocument", &huge)],
    )
    .await
    .assert_error(
        409,
        "LimitExceeded",
        "Cannot exceed quota for PolicySize: 6144",
    );

    for i in 0..10 {
        let name = format!("p{i}");
        root.iam(
            "CreatePolicy",
            &[("PolicyName", &name), ("PolicyDocument", LIST_USERS_ONLY)],
        )
        .await
        .ok();
        root.iam(
            "AttachRolePolicy",
            &[("RoleName", "deployer"), ("PolicyArn", &policy_arn(&name))],
        )
        .await
        .ok();
    }
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "p10"), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .ok();
    root.iam(
        "AttachRolePolicy",
        &[("RoleName", "deployer"), ("PolicyArn", &policy_arn("p10"))],
    )
    .await
    .assert_error(
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    );

    for _ in 0..4 {
        root.iam(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", &policy_arn("p0")),
                ("PolicyDocument", LIST_USERS_ONLY),
            ],
        )
        .await
        .ok();
    }
    root.iam(
        "CreatePolicyVersion",
        &[("PolicyArn", &policy_arn("p0")), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .assert_error(
        409,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    );

    let big_actions: Vec<String> = (0..200).map(|i| format!("\"iam:GetRole{i:04}\"")).collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        big_actions.join(",")
    );
    for i in 0..2 {
        root.iam(
            "PutRolePolicy",
            &[
                ("RoleName", "deployer"),
                ("PolicyName", &format!("big{i}")),
                ("PolicyDocument", &big),
            ],
        )
        .await
        .ok();
    }
    root.iam(
        "PutRolePolicy",
        &[
            ("RoleName", "deployer"),
            ("PolicyName", "big2"),
            ("PolicyDocument", &big),
        ],
    )
    .await
    .assert_error(
        409,
        "LimitExceeded",
        "Maximum policy size of 10240 bytes exceeded for role deployer",
    );
}

#[tokio::test]
async fn deleting_entities_still_in_use_answers_delete_conflict() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("DeleteUser", &[("UserName", "ops")])
        .await
        .assert_error(
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete access keys first.",
        );
    root.iam("DeleteRole", &[("RoleName", "deployer")])
        .await
        .assert_error(
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        );
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .ok();
    root.iam(
        "AttachRolePolicy",
        &[("RoleName", "deployer"), ("PolicyArn", &policy_arn("p"))],
    )
    .await
    .ok();
    root.iam("DeleteRole", &[("RoleName", "deployer")])
        .await
        .assert_error(
            409,
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        );
    root.iam("DeletePolicy", &[("PolicyArn", &policy_arn("p"))])
        .await
        .assert_error(
            409,
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        );

    root.iam("CreateGroup", &[("GroupName", "devs")]).await.ok();
    root.iam(
        "AddUserToGroup",
        &[("GroupName", "devs"), ("UserName", "ops")],
    )
    .await
    .ok();
    root.iam("DeleteGroup", &[("GroupName", "devs")])
        .await
        .assert_error(
            409,
            "DeleteConflict",
            "Cannot delete entity, must remove users from group first.",
        );
    let group = root.iam("GetGroup", &[("GroupName", "devs")]).await;
    group.ok();
    assert_eq!(group.texts("UserName"), ["ops"]);

    // Cleaned up, the same deletes succeed.
    root.iam(
        "RemoveUserFromGroup",
        &[("GroupName", "devs"), ("UserName", "ops")],
    )
    .await
    .ok();
    root.iam("DeleteGroup", &[("GroupName", "devs")]).await.ok();
    root.iam(
        "DetachRolePolicy",
        &[("RoleName", "deployer"), ("PolicyArn", &policy_arn("p"))],
    )
    .await
    .ok();
    root.iam(
        "DeleteRolePolicy",
        &[("RoleName", "deployer"), ("PolicyName", "everything")],
    )
    .await
    .ok();
    root.iam("DeleteRole", &[("RoleName", "deployer")])
        .await
        .ok();
    root.iam("DeletePolicy", &[("PolicyArn", &policy_arn("p"))])
        .await
        .ok();
}

#[tokio::test]
async fn another_accounts_user_cannot_touch_this_accounts_entities() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam(
        "CreatePolicy",
        &[
            ("PolicyName", "Shared"),
            ("PolicyDocument", LIST_USERS_ONLY),
        ],
    )
    .await
    .ok();
    let mallory = gw.client("AKIAMALLORYBBBBBBBBB", "mallory-secret");

    // Names resolve in the caller's own account only.
    mallory
        .iam("GetUser", &[("UserName", "ops")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The user with name ops cannot be found.",
        );
    mallory
        .iam("DeleteRole", &[("RoleName", "deployer")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The role with name deployer cannot be found.",
        );
    let users = mallory.iam("ListUsers", &[]).await;
    users.ok();
    assert_eq!(users.texts("UserName"), ["mallory"]);
    // Account A's policy is neither readable nor attachable from B.
    let shared = policy_arn("Shared");
    let read = mallory.iam("GetPolicy", &[("PolicyArn", &shared)]).await;
    assert_eq!(
        read.text("Code").as_deref(),
        Some("AccessDenied"),
        "{}",
        read.body
    );
    mallory
        .iam(
            "AttachUserPolicy",
            &[("UserName", "mallory"), ("PolicyArn", &shared)],
        )
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            &format!("Policy {shared} does not exist or is not attachable."),
        );
    // Everything in A is still there.
    root.iam("GetRole", &[("RoleName", "deployer")]).await.ok();
    root.iam("GetPolicy", &[("PolicyArn", &shared)]).await.ok();
}

#[tokio::test]
async fn policy_documents_come_back_url_encoded() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let doc = LIST_USERS_ONLY;
    root.iam(
        "PutRolePolicy",
        &[
            ("RoleName", "deployer"),
            ("PolicyName", "list"),
            ("PolicyDocument", doc),
        ],
    )
    .await
    .ok();
    let got = root
        .iam(
            "GetRolePolicy",
            &[("RoleName", "deployer"), ("PolicyName", "list")],
        )
        .await;
    got.ok();
    let encoded = got.get("PolicyDocument");
    assert!(
        encoded.starts_with("%7B%22Version%22%3A%222012-10-17%22"),
        "{encoded}"
    );
    assert_eq!(url_decode(&encoded), doc);
    assert_eq!(got.get("RoleName"), "deployer");

    let role = root.iam("GetRole", &[("RoleName", "deployer")]).await;
    role.ok();
    assert_eq!(url_decode(&role.get("AssumeRolePolicyDocument")), TRUST_A);
    assert_eq!(role.get("MaxSessionDuration"), "3600");

    root.iam(
        "PutUserPolicy",
        &[
            ("UserName", "ops"),
            ("PolicyName", "list"),
            ("PolicyDocument", doc),
        ],
    )
    .await
    .ok();
    let user_policy = root
        .iam(
            "GetUserPolicy",
            &[("UserName", "ops"), ("PolicyName", "list")],
        )
        .await;
    assert_eq!(url_decode(&user_policy.get("PolicyDocument")), doc);

    root.iam("CreateGroup", &[("GroupName", "devs")]).await.ok();
    root.iam(
        "PutGroupPolicy",
        &[
            ("GroupName", "devs"),
            ("PolicyName", "list"),
            ("PolicyDocument", doc),
        ],
    )
    .await
    .ok();
    let group_policy = root
        .iam(
            "GetGroupPolicy",
            &[("GroupName", "devs"), ("PolicyName", "list")],
        )
        .await;
    assert_eq!(group_policy.get("GroupName"), "devs");
    assert_eq!(url_decode(&group_policy.get("PolicyDocument")), doc);

    root.iam(
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", doc)],
    )
    .await
    .ok();
    let version = root
        .iam(
            "GetPolicyVersion",
            &[("PolicyArn", &policy_arn("p")), ("VersionId", "v1")],
        )
        .await;
    version.ok();
    assert_eq!(url_decode(&version.get("Document")), doc);
    assert_eq!(version.get("IsDefaultVersion"), "true");
}

#[tokio::test]
async fn lists_paginate_with_marker_and_max_items() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    for name in ["u1", "u2", "u3", "u4"] {
        root.iam("CreateUser", &[("UserName", name)]).await.ok();
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("MaxItems", "2")];
        if let Some(m) = &marker {
            params.push(("Marker", m.as_str()));
        }
        let page = root.iam("ListUsers", &params).await;
        page.ok();
        pages += 1;
        seen.extend(page.texts("UserName"));
        if page.get("IsTruncated") == "false" {
            assert_eq!(page.text("Marker"), None);
            break;
        }
        marker = Some(page.get("Marker"));
    }
    assert_eq!(seen, ["ops", "u1", "u2", "u3", "u4"]);
    assert_eq!(pages, 3);

    root.iam("ListUsers", &[("MaxItems", "0")]).await.assert_error(
        400,
        "ValidationError",
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    let aws = root
        .iam("ListPolicies", &[("Scope", "AWS"), ("MaxItems", "3")])
        .await;
    aws.ok();
    let arns = aws.texts("Arn");
    assert_eq!(arns.len(), 3);
    assert!(
        arns.iter()
            .all(|a| a.starts_with("arn:aws:iam::aws:policy/"))
    );
    assert_eq!(aws.get("IsTruncated"), "true");
}

#[tokio::test]
async fn a_request_that_fails_midway_leaves_nothing_written() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("CreateUser", &[("UserName", "bob")]).await.ok();
    let key = root.iam("CreateAccessKey", &[("UserName", "bob")]).await;
    let key_id = key.get("AccessKeyId");

    // Renaming onto a taken name fails on the batch's last expectations:
    // neither the user nor its key moved.
    root.iam("UpdateUser", &[("UserName", "bob"), ("NewUserName", "ops")])
        .await
        .assert_error(
            409,
            "EntityAlreadyExists",
            "User with name ops already exists.",
        );
    root.iam("GetUser", &[("UserName", "bob")]).await.ok();
    let keys = root.iam("ListAccessKeys", &[("UserName", "bob")]).await;
    assert_eq!(keys.texts("AccessKeyId"), std::slice::from_ref(&key_id));
    let ops_keys = root.iam("ListAccessKeys", &[("UserName", "ops")]).await;
    assert_eq!(ops_keys.texts("AccessKeyId"), ["AKIAOPSAAAAAAAAAAAAA"]);
    let bob = gw.client(&key_id, &key.get("SecretAccessKey"));
    let who = bob.sts("GetCallerIdentity", &[]).await;
    assert_eq!(who.get("Arn"), format!("arn:aws:iam::{A}:user/bob"));

    // A rename that succeeds moves the key with the user.
    root.iam(
        "UpdateUser",
        &[
            ("UserName", "bob"),
            ("NewUserName", "robert"),
            ("NewPath", "/eng/"),
        ],
    )
    .await
    .ok();
    let who = bob.sts("GetCallerIdentity", &[]).await;
    assert_eq!(who.get("Arn"), format!("arn:aws:iam::{A}:user/eng/robert"));

    // A boundary that does not exist: no user is created.
    root.iam(
        "CreateUser",
        &[
            ("UserName", "carol"),
            ("PermissionsBoundary", &policy_arn("Nope")),
        ],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        &format!(
            "Scope ARN: {} does not exist or is not attachable.",
            policy_arn("Nope")
        ),
    );
    root.iam("GetUser", &[("UserName", "carol")])
        .await
        .assert_error(
            404,
            "NoSuchEntity",
            "The user with name carol cannot be found.",
        );
}

#[tokio::test]
async fn inactive_and_deleted_access_keys_stop_authenticating() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let ops = gw.client("AKIAOPSAAAAAAAAAAAAA", "ops-secret");
    ops.iam("GetUser", &[]).await.ok();
    root.iam(
        "UpdateAccessKey",
        &[
            ("UserName", "ops"),
            ("AccessKeyId", "AKIAOPSAAAAAAAAAAAAA"),
            ("Status", "Inactive"),
        ],
    )
    .await
    .ok();
    let refused = ops.iam("GetUser", &[]).await;
    assert_eq!(
        (refused.status, refused.text("Code").as_deref()),
        (403, Some("InvalidClientTokenId")),
        "{}",
        refused.body
    );
    let listed = root.iam("ListAccessKeys", &[("UserName", "ops")]).await;
    assert_eq!(listed.get("Status"), "Inactive");

    root.iam(
        "UpdateAccessKey",
        &[
            ("UserName", "ops"),
            ("AccessKeyId", "AKIAOPSAAAAAAAAAAAAA"),
            ("Status", "Active"),
        ],
    )
    .await
    .ok();
    let me = ops.iam("GetUser", &[]).await;
    me.ok();
    assert_eq!(me.get("UserName"), "ops");

    // The user deletes its own key: it stops working at once.
    ops.iam(
        "DeleteAccessKey",
        &[("AccessKeyId", "AKIAOPSAAAAAAAAAAAAA")],
    )
    .await
    .ok();
    let refused = ops.iam("GetUser", &[]).await;
    assert_eq!(
        refused.text("Code").as_deref(),
        Some("InvalidClientTokenId")
    );
}

#[tokio::test]
async fn session_credentials_are_limited_like_aws() {
    let gw = gateway().await;
    let ops = gw.client("AKIAOPSAAAAAAAAAAAAA", "ops-secret");

    // GetSessionToken credentials without MFA may not call IAM.
    let session = ops.sts("GetSessionToken", &[]).await;
    session.ok();
    let temp = gw
        .client(&session.get("AccessKeyId"), &session.get("SecretAccessKey"))
        .with_token(&session.get("SessionToken"));
    temp.iam("ListUsers", &[]).await.assert_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid",
    );

    // A role session must name the user.
    let assumed = ops
        .sts(
            "AssumeRole",
            &[
                ("RoleArn", &format!("arn:aws:iam::{A}:role/deployer")),
                ("RoleSessionName", "deploy"),
            ],
        )
        .await;
    assumed.ok();
    let role = gw
        .client(&assumed.get("AccessKeyId"), &assumed.get("SecretAccessKey"))
        .with_token(&assumed.get("SessionToken"));
    role.iam("GetUser", &[]).await.assert_error(
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
    );
    role.iam("CreateAccessKey", &[]).await.assert_error(
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
    );
    role.iam("GetUser", &[("UserName", "ops")]).await.ok();

    // The root is a user of its own kind.
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let me = root.iam("GetUser", &[]).await;
    me.ok();
    assert_eq!(me.get("UserId"), A);
    assert_eq!(me.get("Arn"), format!("arn:aws:iam::{A}:root"));
}

#[tokio::test]
async fn invalid_parameters_get_aws_validation_texts() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam("CreateUser", &[("UserName", "bad name!")]).await.assert_error(
        400,
        "ValidationError",
        "The specified value for userName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-",
    );
    let long = "x".repeat(65);
    root.iam("CreateUser", &[("UserName", &long)]).await.assert_error(
        400,
        "ValidationError",
        &format!(
            "1 validation error detected: Value '{long}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"
        ),
    );
    root.iam("CreateUser", &[]).await.assert_error(
        400,
        "ValidationError",
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null",
    );
    root.iam("CreateGroup", &[("GroupName", "g"), ("Path", "nope")]).await.assert_error(
        400,
        "ValidationError",
        r"1 validation error detected: Value 'nope' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
    );
    root.iam("Frobnicate", &[]).await.assert_error(
        400,
        "InvalidAction",
        "Could not find operation Frobnicate for version 2010-05-08",
    );
}

#[tokio::test]
async fn aws_managed_policies_are_attachable_but_not_modifiable() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    root.iam(
        "AttachUserPolicy",
        &[("UserName", "ops"), ("PolicyArn", read_only)],
    )
    .await
    .ok();
    let attached = root
        .iam("ListAttachedUserPolicies", &[("UserName", "ops")])
        .await;
    attached.ok();
    assert_eq!(attached.texts("PolicyName"), ["ReadOnlyAccess"]);
    assert_eq!(attached.texts("PolicyArn"), [read_only]);

    let got = root.iam("GetPolicy", &[("PolicyArn", read_only)]).await;
    got.ok();
    assert_eq!(got.get("AttachmentCount"), "1");
    let entities = root
        .iam("ListEntitiesForPolicy", &[("PolicyArn", read_only)])
        .await;
    entities.ok();
    assert_eq!(entities.texts("UserName"), ["ops"]);

    let edit = root
        .iam(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", read_only),
                ("PolicyDocument", LIST_USERS_ONLY),
            ],
        )
        .await;
    assert_eq!(
        (edit.status, edit.text("Code").as_deref()),
        (400, Some("UnmodifiableEntity"))
    );
    let attached_only = root.iam("ListPolicies", &[("OnlyAttached", "true")]).await;
    attached_only.ok();
    assert_eq!(attached_only.texts("Arn"), [read_only]);
}

#[tokio::test]
async fn policy_versions_can_be_listed_switched_and_deleted() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let arn = policy_arn("p");
    root.iam(
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", LIST_USERS_ONLY)],
    )
    .await
    .ok();
    let v2 = root
        .iam(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", &arn),
                ("PolicyDocument", LIST_USERS_ONLY),
                ("SetAsDefault", "true"),
            ],
        )
        .await;
    v2.ok();
    assert_eq!(v2.get("VersionId"), "v2");
    assert_eq!(v2.get("IsDefaultVersion"), "true");
    let versions = root.iam("ListPolicyVersions", &[("PolicyArn", &arn)]).await;
    assert_eq!(versions.texts("VersionId"), ["v2", "v1"]);
    root.iam(
        "DeletePolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v2")],
    )
    .await
    .assert_error(
        409,
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
    );
    root.iam(
        "SetDefaultPolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v1")],
    )
    .await
    .ok();
    root.iam(
        "DeletePolicyVersion",
        &[("PolicyArn", &arn), ("VersionId", "v2")],
    )
    .await
    .ok();
    let policy = root.iam("GetPolicy", &[("PolicyArn", &arn)]).await;
    assert_eq!(policy.get("DefaultVersionId"), "v1");
    root.iam("DeletePolicy", &[("PolicyArn", &arn)]).await.ok();
}

#[tokio::test]
async fn tags_are_set_listed_and_removed() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam(
        "CreateRole",
        &[
            ("RoleName", "tagged"),
            ("AssumeRolePolicyDocument", TRUST_A),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await
    .ok();
    root.iam(
        "TagRole",
        &[
            ("RoleName", "tagged"),
            ("Tags.member.1.Key", "env"),
            ("Tags.member.1.Value", "prod"),
        ],
    )
    .await
    .ok();
    let tags = root.iam("ListRoleTags", &[("RoleName", "tagged")]).await;
    assert_eq!(tags.texts("Key"), ["team", "env"]);
    root.iam(
        "UntagRole",
        &[("RoleName", "tagged"), ("TagKeys.member.1", "team")],
    )
    .await
    .ok();
    let tags = root.iam("ListRoleTags", &[("RoleName", "tagged")]).await;
    assert_eq!(tags.texts("Key"), ["env"]);
    root.iam(
        "TagUser",
        &[
            ("UserName", "ops"),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", "v"),
        ],
    )
    .await
    .ok();
    let user_tags = root.iam("ListUserTags", &[("UserName", "ops")]).await;
    assert_eq!(user_tags.texts("Value"), ["v"]);
}

#[tokio::test]
async fn concurrent_changes_to_one_user_are_all_kept() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let put = |name: &'static str| {
        let root = &root;
        async move {
            root.iam(
                "PutUserPolicy",
                &[
                    ("UserName", "ops"),
                    ("PolicyName", name),
                    ("PolicyDocument", LIST_USERS_ONLY),
                ],
            )
            .await
        }
    };
    let (a, b, c, d) = tokio::join!(put("a"), put("b"), put("c"), put("d"));
    for reply in [a, b, c, d] {
        reply.ok();
    }
    let names = root.iam("ListUserPolicies", &[("UserName", "ops")]).await;
    assert_eq!(names.texts("member"), ["a", "b", "c", "d", "everything"]);
}

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// Creates user `name` with a key and permission to assume any role.
async fn user_who_may_assume_roles(root: &support::Client<'_>, name: &str) -> (String, String) {
    root.iam("CreateUser", &[("UserName", name)]).await.ok();
    root.iam(
        "PutUserPolicy",
        &[
            ("UserName", name),
            ("PolicyName", "assume"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
            ),
        ],
    )
    .await
    .ok();
    let key = root.iam("CreateAccessKey", &[("UserName", name)]).await;
    (key.get("AccessKeyId"), key.get("SecretAccessKey"))
}

#[tokio::test]
async fn trust_policy_principals_are_kept_by_unique_id_and_name_only_existing_entities() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let alice_arn = format!("arn:aws:iam::{A}:user/alice");
    let (key, secret) = user_who_may_assume_roles(&root, "alice").await;
    let alice_id = root
        .iam("GetUser", &[("UserName", "alice")])
        .await
        .get("UserId");

    // A principal that names no user or role is refused, and nothing is made.
    let ghost = format!("arn:aws:iam::{A}:user/ghost");
    root.iam(
        "CreateRole",
        &[
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", &trust(&ghost)),
        ],
    )
    .await
    .assert_error(
        400,
        "MalformedPolicyDocument",
        &format!(r#"Invalid principal in policy: "AWS":"{ghost}""#),
    );
    root.iam("GetRole", &[("RoleName", "r")])
        .await
        .assert_error(404, "NoSuchEntity", "The role with name r cannot be found.");

    // Stored by unique id, shown as the ARN; it also works across accounts.
    let created = root
        .iam(
            "CreateRole",
            &[
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", &trust(&alice_arn)),
            ],
        )
        .await;
    created.ok();
    assert_eq!(
        url_decode(&created.get("AssumeRolePolicyDocument")),
        trust(&alice_arn)
    );
    let role_arn = created.get("Arn");
    let stored = gw.planes.plane.world();
    let stored = &stored.role(A, "r").unwrap().record.trust_policy;
    assert_eq!(stored, &trust(&alice_id));
    let mallory = "arn:aws:iam::222222222222:user/mallory";
    root.iam(
        "UpdateAssumeRolePolicy",
        &[("RoleName", "r"), ("PolicyDocument", &trust(mallory))],
    )
    .await
    .ok();
    root.iam(
        "UpdateAssumeRolePolicy",
        &[("RoleName", "r"), ("PolicyDocument", &trust(&ghost))],
    )
    .await
    .assert_error(
        400,
        "MalformedPolicyDocument",
        &format!(r#"Invalid principal in policy: "AWS":"{ghost}""#),
    );
    let shown = root.iam("GetRole", &[("RoleName", "r")]).await;
    assert_eq!(
        url_decode(&shown.get("AssumeRolePolicyDocument")),
        trust(mallory)
    );
    root.iam(
        "UpdateAssumeRolePolicy",
        &[("RoleName", "r"), ("PolicyDocument", &trust(&alice_arn))],
    )
    .await
    .ok();

    // The stored id matches alice...
    let alice = gw.client(&key, &secret);
    let assume = [("RoleArn", role_arn.as_str()), ("RoleSessionName", "s1")];
    alice.sts("AssumeRole", &assume).await.ok();

    // ...and only her: deleted, the policy shows her raw id, and a new
    // alice is a different principal.
    root.iam(
        "DeleteAccessKey",
        &[("UserName", "alice"), ("AccessKeyId", &key)],
    )
    .await
    .ok();
    root.iam(
        "DeleteUserPolicy",
        &[("UserName", "alice"), ("PolicyName", "assume")],
    )
    .await
    .ok();
    root.iam("DeleteUser", &[("UserName", "alice")]).await.ok();
    let shown = root.iam("GetRole", &[("RoleName", "r")]).await;
    assert_eq!(
        url_decode(&shown.get("AssumeRolePolicyDocument")),
        trust(&alice_id)
    );
    let details = root.iam("GetAccountAuthorizationDetails", &[]).await;
    assert!(details.body.contains(&alice_id), "{}", details.body);

    let (key, secret) = user_who_may_assume_roles(&root, "alice").await;
    let new_alice = gw.client(&key, &secret);
    let denied = new_alice.sts("AssumeRole", &assume).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(
        denied.body.contains("<Code>AccessDenied</Code>"),
        "{}",
        denied.body
    );
    let shown = root.iam("GetRole", &[("RoleName", "r")]).await;
    assert_eq!(
        url_decode(&shown.get("AssumeRolePolicyDocument")),
        trust(&alice_id)
    );
}

#[tokio::test]
async fn every_embedded_aws_managed_policy_is_attachable_readable_and_evaluated() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.iam(
        "CreateRole",
        &[
            ("RoleName", "lambda"),
            ("AssumeRolePolicyDocument", TRUST_A),
        ],
    )
    .await
    .ok();
    let wanted = [
        "arn:aws:iam::aws:policy/AWSLambdaExecute",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess",
    ];
    for arn in wanted {
        root.iam(
            "AttachRolePolicy",
            &[("RoleName", "lambda"), ("PolicyArn", arn)],
        )
        .await
        .ok();
    }
    let attached = root
        .iam("ListAttachedRolePolicies", &[("RoleName", "lambda")])
        .await;
    attached.ok();
    assert_eq!(attached.texts("PolicyArn"), wanted);

    let got = root
        .iam(
            "GetPolicy",
            &[("PolicyArn", "arn:aws:iam::aws:policy/AWSLambdaExecute")],
        )
        .await;
    got.ok();
    assert_eq!(got.get("PolicyName"), "AWSLambdaExecute");
    assert_eq!(got.get("Arn"), "arn:aws:iam::aws:policy/AWSLambdaExecute");
    assert_eq!(got.get("AttachmentCount"), "1");
    let id = got.get("PolicyId");
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");
    let version = got.get("DefaultVersionId");
    let document = root
        .iam(
            "GetPolicyVersion",
            &[
                ("PolicyArn", "arn:aws:iam::aws:policy/AWSLambdaExecute"),
                ("VersionId", &version),
            ],
        )
        .await;
    document.ok();
    let text = url_decode(&document.get("Document"));
    assert!(text.contains(r#""logs:*""#), "{text}");
    assert!(text.contains(r#""s3:GetObject""#), "{text}");

    // Evaluation uses the documents: a user with ReadOnlyAccess alone may
    // read IAM but not change it.
    root.iam("CreateUser", &[("UserName", "reader")]).await.ok();
    root.iam(
        "AttachUserPolicy",
        &[
            ("UserName", "reader"),
            ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ],
    )
    .await
    .ok();
    let key = root.iam("CreateAccessKey", &[("UserName", "reader")]).await;
    key.ok();
    let reader = gw.client(&key.get("AccessKeyId"), &key.get("SecretAccessKey"));
    reader.iam("GetRole", &[("RoleName", "lambda")]).await.ok();
    let denied = reader.iam("CreateUser", &[("UserName", "eve")]).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.text("Code").as_deref(), Some("AccessDenied"));
}

#[tokio::test]
async fn list_policies_with_scope_aws_pages_through_every_aws_managed_policy() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let mut names: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("Scope", "AWS".to_owned()), ("MaxItems", "500".to_owned())];
        if let Some(marker) = &marker {
            params.push(("Marker", marker.clone()));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = root.iam("ListPolicies", &params).await;
        page.ok();
        pages += 1;
        let arns = page.texts("Arn");
        assert!(
            arns.iter()
                .all(|a| a.starts_with("arn:aws:iam::aws:policy/"))
        );
        names.extend(page.texts("PolicyName"));
        if page.get("IsTruncated") == "false" {
            break;
        }
        marker = Some(page.get("Marker"));
        assert!(pages < 10, "too many pages");
    }
    assert_eq!(pages, 4);
    assert_eq!(names.len(), 1582);
    let mut unique = names.clone();
    unique.sort_by_key(|n| n.to_lowercase());
    unique.dedup();
    assert_eq!(unique, names, "pages are in name order without repeats");
    for name in ["AWSLambdaExecute", "ReadOnlyAccess", "AdministratorAccess"] {
        assert!(names.iter().any(|n| n == name), "{name}");
    }
}

#[tokio::test]
async fn an_unparsable_policy_arn_is_a_validation_error_in_aws_words() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let text = "Invalid ARN:  Could not be parsed!";
    root.iam(
        "AttachUserPolicy",
        &[
            ("UserName", "ops"),
            ("PolicyArn", "ReadOnlyAccess-not-an-arn"),
        ],
    )
    .await
    .assert_error(400, "ValidationError", text);
    root.iam(
        "GetPolicy",
        &[("PolicyArn", "arn:aws:iam::aws-ReadOnlyAccess")],
    )
    .await
    .assert_error(400, "ValidationError", text);
    root.iam(
        "PutUserPermissionsBoundary",
        &[
            ("UserName", "ops"),
            ("PermissionsBoundary", "policy/ReadOnlyAccess"),
        ],
    )
    .await
    .assert_error(400, "ValidationError", text);
    // An ARN that parses but names no policy is not valid, not unparsable.
    root.iam(
        "AttachUserPolicy",
        &[
            ("UserName", "ops"),
            ("PolicyArn", "arn:aws:s3:::some-bucket"),
        ],
    )
    .await
    .assert_error(
        400,
        "InvalidInput",
        "ARN arn:aws:s3:::some-bucket is not valid.",
    );
    let attached = root
        .iam("ListAttachedUserPolicies", &[("UserName", "ops")])
        .await;
    assert!(attached.texts("PolicyArn").is_empty());
}

#[tokio::test]
async fn attaching_a_missing_aws_policy_is_no_such_entity_and_a_service_role_policy_is_not_attachable()
 {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let missing = "arn:aws:iam::aws:policy/service-role/ConfigRole";
    root.iam(
        "AttachRolePolicy",
        &[("RoleName", "deployer"), ("PolicyArn", missing)],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        &format!("Policy {missing} does not exist or is not attachable."),
    );
    root.iam(
        "AttachRolePolicy",
        &[
            ("RoleName", "deployer"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy",
            ),
        ],
    )
    .await
    .assert_error(
        400,
        "PolicyNotAttachable",
        "Cannot attach a Service Role Policy to a Customer Role.",
    );
    root.iam(
        "PutRolePermissionsBoundary",
        &[("RoleName", "deployer"), ("PermissionsBoundary", missing)],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        &format!("Scope ARN: {missing} does not exist or is not attachable."),
    );
    let attached = root
        .iam("ListAttachedRolePolicies", &[("RoleName", "deployer")])
        .await;
    assert!(attached.texts("PolicyArn").is_empty());
}

#[tokio::test]
async fn each_role_operation_answers_with_the_members_aws_returns_for_it() {
    let gw = gateway().await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let created = root
        .iam(
            "CreateRole",
            &[
                ("RoleName", "shaped"),
                ("AssumeRolePolicyDocument", TRUST_A),
                ("Description", "shapes"),
                ("MaxSessionDuration", "7200"),
                ("PermissionsBoundary", boundary),
                ("Tags.member.1.Key", "team"),
                ("Tags.member.1.Value", "iam"),
            ],
        )
        .await;
    created.ok();
    // CreateRole: what was given, but neither MaxSessionDuration nor
    // RoleLastUsed.
    assert_eq!(created.get("Description"), "shapes");
    assert_eq!(created.get("PermissionsBoundaryArn"), boundary);
    assert_eq!(created.texts("Key"), ["team"]);
    assert!(
        !created.body.contains("MaxSessionDuration"),
        "{}",
        created.body
    );
    assert!(!created.body.contains("RoleLastUsed"), "{}", created.body);

    // GetRole: everything, RoleLastUsed empty for a role never used.
    let got = root.iam("GetRole", &[("RoleName", "shaped")]).await;
    got.ok();
    assert_eq!(got.get("MaxSessionDuration"), "7200");
    assert_eq!(got.get("PermissionsBoundaryArn"), boundary);
    assert_eq!(got.texts("Key"), ["team"]);
    assert!(
        got.body.contains("<RoleLastUsed/>") || got.body.contains("<RoleLastUsed></RoleLastUsed>"),
        "{}",
        got.body
    );

    // ListRoles: MaxSessionDuration, but no boundary, tags or RoleLastUsed.
    let listed = root
        .iam("ListRoles", &[("PathPrefix", "/"), ("MaxItems", "100")])
        .await;
    listed.ok();
    assert_eq!(listed.texts("RoleName"), ["deployer", "shaped"]);
    assert_eq!(listed.texts("MaxSessionDuration"), ["3600", "7200"]);
    for absent in ["PermissionsBoundary", "Tags", "RoleLastUsed"] {
        assert!(!listed.body.contains(absent), "{absent}: {}", listed.body);
    }
}
