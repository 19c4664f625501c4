#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Service control policies end to end: a world file's `organization:`
//! section limits member accounts' callers of execute-api and STS, as AWS
//! does, and `iamgate explain` says an SCP decided.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{AwsCli, Keys, Server, ServerOptions, http, sign_execute_api};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIASCPROOT000000001, secret: "scpRootSecret000000000000000000000000001" }
    roles:
      - name: target
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","333333333333"]},"Action":"sts:AssumeRole"}]}'
  - id: "222222222222"
    root_access_key: { id: AKIASCPROOT000000002, secret: "scpRootSecret000000000000000000000000002" }
    users:
      - name: dev
        access_keys: [{ id: AKIASCPDEVUSER000001, secret: "scpDevSecret0000000000000000000000000001" }]
        policies:
          all: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke","sts:AssumeRole"],"Resource":"*"}]}'
  - id: "333333333333"
    root_access_key: { id: AKIASCPROOT000000003, secret: "scpRootSecret000000000000000000000000003" }
    users:
      - name: prod
        access_keys: [{ id: AKIASCPPRODUSER00001, secret: "scpProdSecret000000000000000000000000001" }]
        policies:
          all: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke","sts:AssumeRole"],"Resource":"*"}]}'
organization:
  management_account: "111111111111"
  organizational_units:
    - { name: Dev, accounts: ["222222222222"] }
    - { name: Prod, accounts: ["333333333333"] }
  service_control_policies:
    - name: FullAWSAccess
      targets: [root, Dev, "111111111111", "222222222222", "333333333333"]
    - name: OnlyStorage
      document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
      targets: [Prod]
    - name: NoSecrets
      document: '{"Version":"2012-10-17","Statement":[{"Sid":"NoSecretRoute","Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:scpapi0001/*/GET/secret"}]}'
      targets: [Dev]
apis:
  - id: scpapi0001
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","333333333333"]},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:scpapi0001/*"}]}'
    methods:
      - { path: /items, method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: items } }
      - { path: /secret, method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: secret } }
"#;

const DEV: (&str, &str) = (
    "AKIASCPDEVUSER000001",
    "scpDevSecret0000000000000000000000000001",
);
const PROD: (&str, &str) = (
    "AKIASCPPRODUSER00001",
    "scpProdSecret000000000000000000000000001",
);

fn explain(server: &Server, reader: &Keys, id: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args([
            "explain",
            id,
            "--json",
            "--endpoint-url",
            &server.endpoint(),
        ])
        .env("AWS_ACCESS_KEY_ID", &reader.id)
        .env("AWS_SECRET_ACCESS_KEY", &reader.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn an_scp_refuses_execute_api_and_sts_to_member_accounts_and_explain_says_scp() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let host = "scpapi0001.execute-api.us-east-1.amazonaws.com";
    let call = |keys: &Keys, path: &str| {
        let signed = sign_execute_api(keys, "GET", host, path, &[]);
        http(server.port, "GET", path, &signed, b"").unwrap()
    };
    let dev = Keys::new(DEV.0, DEV.1);
    let prod = Keys::new(PROD.0, PROD.1);

    // Dev keeps FullAWSAccess everywhere: its identity and the API's
    // resource policy allow.
    let ok = call(&dev, "/prod/items");
    assert_eq!((ok.status, ok.body.as_str()), (200, "items"));

    // Dev's own OU denies the secret route.
    let denied = call(&dev, "/prod/secret");
    assert_eq!(denied.status, 403, "{}", denied.body);
    let id = denied.header("x-amzn-RequestId").unwrap().to_owned();
    let record = explain(&server, &dev, &id);
    assert_eq!(record["decision"], "explicit_deny", "{record:#}");
    assert_eq!(record["decidingPolicyType"], "scp", "{record:#}");
    assert_eq!(record["rule"], "explicit_deny", "{record:#}");
    let statement = &record["matchedStatements"][0];
    assert_eq!(
        (
            &statement["policyType"],
            &statement["policy"],
            &statement["sid"]
        ),
        (
            &Value::from("scp"),
            &Value::from("NoSecrets"),
            &Value::from("NoSecretRoute")
        ),
        "{record:#}"
    );

    // Prod's OU allows only S3: no level-wide allow for execute-api.
    let limited = call(&prod, "/prod/items");
    assert_eq!(limited.status, 403, "{}", limited.body);
    let id = limited.header("x-amzn-RequestId").unwrap().to_owned();
    let record = explain(&server, &prod, &id);
    assert_eq!(record["decision"], "implicit_deny", "{record:#}");
    assert_eq!(record["decidingPolicyType"], "scp", "{record:#}");
    assert_eq!(record["rule"], "scp_limit", "{record:#}");
    assert!(
        record["missing"]
            .as_array()
            .unwrap()
            .contains(&Value::from("scp")),
        "{record:#}"
    );
    assert!(
        record["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["policyType"] == "scp" && p["policy"] == "OnlyStorage"),
        "{record:#}"
    );

    // STS sees the same SCPs: Prod may not assume a role, Dev may.
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let assume = [
        "sts",
        "assume-role",
        "--role-arn",
        "arn:aws:iam::111111111111:role/target",
        "--role-session-name",
        "scp-check",
    ];
    let assumed = cli.run(&dev, &assume).json();
    assert_eq!(
        assumed["AssumedRoleUser"]["Arn"],
        "arn:aws:sts::111111111111:assumed-role/target/scp-check"
    );
    cli.run(&prod, &assume)
        .assert_error("AccessDenied", "sts:AssumeRole");
}

/// `iamgate ARGS --world FILE --json`, parsed.
fn offline(world: &std::path::Path, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .arg("--world")
        .arg(world)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn who_can_and_what_can_leave_out_what_an_scp_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    let route = |path: &str| {
        format!("arn:aws:execute-api:us-east-1:111111111111:scpapi0001/prod/GET/{path}")
    };
    let principals = |path: &str| -> Vec<String> {
        let answer = offline(
            &world,
            &[
                "who-can",
                "--action",
                "execute-api:Invoke",
                "--resource",
                &route(path),
            ],
        );
        answer
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["principal"].as_str().unwrap().to_owned())
            .collect()
    };
    // Prod's principals are limited to S3; Dev's are denied the secret
    // route; the management account is not limited.
    assert_eq!(
        principals("items"),
        [
            "arn:aws:iam::111111111111:root",
            "arn:aws:iam::222222222222:root",
            "arn:aws:iam::222222222222:user/dev"
        ]
    );
    assert_eq!(principals("secret"), ["arn:aws:iam::111111111111:root"]);
    let prod = offline(&world, &["what-can", "arn:aws:iam::333333333333:user/prod"]);
    assert_eq!(prod, Value::Array(vec![]));
    let dev = offline(&world, &["what-can", "arn:aws:iam::222222222222:user/dev"]);
    let routes: Vec<&str> = dev
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["GET /items"]);
}
