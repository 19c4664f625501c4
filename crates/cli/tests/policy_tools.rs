#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! `iamgate policy validate` and `iamgate simulate`, run as the built binary.

use std::path::PathBuf;
use std::process::{Command, Output};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn iamgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `text` to a file unique to this test process.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamgate-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_accepts_good_files_and_exits_zero() {
    let good = format!("{TESTDATA}/iam-cases/iam-rs/policies/1.json");
    let resource = format!("{TESTDATA}/iam-cases/iam-rs/policies/16.json");
    let out = iamgate(&["policy", "validate", &good, &resource]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1.json: ok (InlineIdentity)"));
}

#[test]
fn validate_prints_every_error_with_location_and_exits_one() {
    let bad = file(
        "bad.json",
        "{\"Version\":\"2012-10-17\",\n \"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"GetObject\",\n  \"Resource\":\"bucket\"}]}",
    );
    let good = format!("{TESTDATA}/iam-cases/iam-rs/policies/2.json");
    let out = iamgate(&["policy", "validate", good.as_str(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("bad.json:")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(
        "bad.json:3:14: MalformedPolicyDocument: Resource bucket must be in ARN format or \"*\". (not an ARN)"
    ));
    assert!(lines[1].contains(
        "bad.json:2:42: MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor"
    ));
    assert!(text.contains("2.json: ok"));
}

#[test]
fn validate_with_an_explicit_kind_applies_its_rules() {
    let identity_with_principal = file(
        "principal.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
    );
    let path = identity_with_principal.to_str().unwrap();
    assert_eq!(
        iamgate(&["policy", "validate", path]).status.code(),
        Some(0)
    );
    let out = iamgate(&["policy", "validate", "--kind", "managed", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("Policy document should not specify a principal."));
}

#[test]
fn simulate_explains_an_allow_and_a_deny() {
    let identity = file(
        "invoke.json",
        r#"{"Version":"2012-10-17","Statement":{"Sid":"Invoke","Effect":"Allow","Action":"execute-api:Invoke",
            "Resource":"arn:aws:execute-api:us-east-1:111111111111:api/*"}}"#,
    );
    let resource_policy = file(
        "rp.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke",
            "Resource":"arn:aws:execute-api:us-east-1:111111111111:api/*",
            "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#,
    );
    let base = [
        "simulate",
        "--principal",
        "arn:aws:iam::111111111111:user/alice",
        "--action",
        "execute-api:Invoke",
        "--resource",
        "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/pets",
        "--identity",
        identity.to_str().unwrap(),
        "--resource-policy",
        resource_policy.to_str().unwrap(),
    ];
    let inside = iamgate(&[&base[..], &["--context", "aws:SourceIp=10.1.2.3"]].concat());
    assert_eq!(inside.status.code(), Some(0));
    let text = stdout(&inside);
    assert!(
        text.starts_with("decision: ALLOW (granted by the identity-based policy)"),
        "{text}"
    );
    assert!(text.contains("(Sid Invoke)"));

    let outside = iamgate(
        &[
            &base[..],
            &["--context", "aws:SourceIp=192.0.2.1", "--json"],
        ]
        .concat(),
    );
    let json: serde_json::Value = serde_json::from_slice(&outside.stdout).unwrap();
    assert_eq!(json["outcome"], "ExplicitDeny");
    assert_eq!(json["deciding_policy_type"], "ResourceBased");
    assert_eq!(
        json["message"],
        "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: execute-api:Invoke on resource: \
         arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/pets with an explicit deny in a resource-based policy"
    );
}

#[test]
fn simulate_rejects_an_invalid_policy_file() {
    let bad = file("broken.json", "{\"Statement\":");
    let out = iamgate(&[
        "simulate",
        "--principal",
        "anonymous",
        "--action",
        "s3:GetObject",
        "--identity",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .contains("broken.json:1:14: MalformedPolicyDocument: Syntax errors in policy.")
    );
}

#[test]
fn simulate_matches_a_role_arn_with_path_given_by_role_arn() {
    let rp = file(
        "role-rp.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/svc/app"},
            "Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:api/*"}}"#,
    );
    let args = |extra: &[&str]| {
        let mut v = vec![
            "simulate",
            "--principal",
            "arn:aws:sts::111111111111:assumed-role/app/s1",
            "--action",
            "execute-api:Invoke",
            "--resource",
            "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/",
            "--resource-policy",
            rp.to_str().unwrap(),
            "--json",
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = iamgate(&refs);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(run(args(&[]))["outcome"], "ImplicitDeny");
    let with_path = run(args(&[
        "--role-arn",
        "arn:aws:iam::111111111111:role/svc/app",
    ]));
    assert_eq!(with_path["outcome"], "Allowed");
    assert_eq!(
        with_path["matched"][0]["principal_classes"][0],
        "RoleSession"
    );
}
