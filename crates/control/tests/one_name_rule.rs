#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! IAM and STS read names with one rule (`iamgate_iam::names`): AWS's
//! models give IAM names, role session names and source identities the
//! same `[\w+=,.@-]`, whose `\w` is ASCII. STS used to take any Unicode
//! letter in a session name while IAM refused it in a role name.

mod support;

use support::Gateway;

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    roles:
      - name: deployer
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
"#;

const ROLE: &str = "arn:aws:iam::111111111111:role/deployer";

#[tokio::test]
async fn role_session_names_with_non_ascii_letters_are_refused_with_awss_pattern_error() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    for name in ["café", "Ζεύς", "имя", "名前"] {
        root.sts(
            "AssumeRole",
            &[("RoleArn", ROLE), ("RoleSessionName", name)],
        )
        .await
        .assert_error(
            400,
            "ValidationError",
            &format!(
                r"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
            ),
        );
        root.sts(
            "AssumeRole",
            &[
                ("RoleArn", ROLE),
                ("RoleSessionName", "ok-session"),
                ("SourceIdentity", name),
            ],
        )
        .await
        .assert_error(
            400,
            "ValidationError",
            &format!(
                r"1 validation error detected: Value '{name}' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
            ),
        );
    }
}

#[tokio::test]
async fn iam_names_and_sts_session_names_accept_and_refuse_the_same_characters() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    for (index, name) in [
        "plain", "a_b", "a+b", "a=b", "a,b", "a.b", "a@b", "a-b", "café", "a b", "a/b", "a:b",
        "a*b", "x١",
    ]
    .into_iter()
    .enumerate()
    {
        // Role names must be unique; the suffix keeps the tested character.
        let role_name = format!("{name}{index}");
        let iam = root
            .iam(
                "CreateRole",
                &[
                    ("RoleName", &role_name),
                    (
                        "AssumeRolePolicyDocument",
                        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}"#,
                    ),
                ],
            )
            .await;
        let sts = root
            .sts(
                "AssumeRole",
                &[("RoleArn", ROLE), ("RoleSessionName", &role_name)],
            )
            .await;
        // Root may not assume roles, so a name STS accepts is refused
        // later, with AccessDenied; only the pattern check is compared.
        let sts_refused_name = sts.text("Code").as_deref() == Some("ValidationError");
        assert_eq!(
            iam.status != 200,
            sts_refused_name,
            "{name}: IAM {} / STS {}",
            iam.body,
            sts.body
        );
        if iam.status != 200 {
            assert_eq!(iam.text("Code").as_deref(), Some("ValidationError"));
        }
    }
}

#[tokio::test]
async fn session_tags_follow_iams_tag_character_rule() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    root.sts(
        "AssumeRole",
        &[
            ("RoleArn", ROLE),
            ("RoleSessionName", "tagged"),
            ("Tags.member.1.Key", "bad*key"),
            ("Tags.member.1.Value", "v"),
        ],
    )
    .await
    .assert_error(
        400,
        "ValidationError",
        r"1 validation error detected: Value 'bad*key' at 'tags.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
    );
}
