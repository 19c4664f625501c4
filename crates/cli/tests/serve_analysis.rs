#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `iamgate who-can|what-can|plan --endpoint-url` against a real server:
//! the seed articles' questions asked live (the resource policy deployed
//! through the API Gateway control plane mid-test), the same answers as
//! offline on the same world, and the access rule — another account, an
//! unsigned request and an unknown question or route are refused.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{Keys, Server, ServerOptions, http, sdk_config};

const OWNER: &str = "123456789012";
const OTHER: &str = "098765432109";
const INVOKE: &str = r#"'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"]}]}'"#;

/// Seed 003 without the resource policy, plus seeds 000/001's HTTP API in
/// account A reached by B's user u through role Invoker, and an
/// unrelated account.
fn world() -> String {
    format!(
        r#"
accounts:
  - id: "{OWNER}"
    root_access_key: {{ id: AKIAEXAMPLEAPIROOT01, secret: "exampleApiAccountRootSecretKey0000000001" }}
    users:
      - name: api-exe-nonvalid
        policies:
          invoke-apiid: {INVOKE}
      - name: api-not-exe
  - id: "{OTHER}"
    root_access_key: {{ id: AKIAEXAMPLEOTHROOT01, secret: "exampleOtherAccountRootSecretKey000000001" }}
    users:
      - name: api-exe-valid
        policies:
          invoke-apiid: {INVOKE}
  - id: "111122223333"
    root_access_key: {{ id: AKIAEXAMPLEAAAROOT01, secret: "exampleAccountARootSecretAccessKey000001" }}
    roles:
      - name: Invoker
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::444455556666:root"}},"Action":"sts:AssumeRole"}}]}}'
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/*/*"}}]}}'
  - id: "444455556666"
    users:
      - name: u
        access_keys: [{{ id: AKIAEXAMPLEBBBUSER01, secret: "exampleAccountBUserSecretAccessKey000001" }}]
        policies:
          assume: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/Invoker"}}]}}'
  - id: "333333333333"
    root_access_key: {{ id: AKIAEXAMPLEUNRELATED, secret: "exampleUnrelatedAccountRootSecretKey0001" }}
apis:
  - id: apiid
    type: REST
    account: "{OWNER}"
    region: us-east-1
    stages: [prod]
    methods:
      - {{ path: /, method: GET, authorization: AWS_IAM, integration: {{ type: MOCK }} }}
  - id: a1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - {{ key: "ANY /{{proxy+}}", authorization: AWS_IAM, integration: {{ type: MOCK }} }}
"#
    )
}

fn owner_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAPIROOT01",
        "exampleApiAccountRootSecretKey0000000001",
    )
}
fn account_a_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAAAROOT01",
        "exampleAccountARootSecretAccessKey000001",
    )
}
fn user_u() -> Keys {
    Keys::new(
        "AKIAEXAMPLEBBBUSER01",
        "exampleAccountBUserSecretAccessKey000001",
    )
}
fn unrelated_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEUNRELATED",
        "exampleUnrelatedAccountRootSecretKey0001",
    )
}

const ROUTE: [&str; 6] = ["--api", "apiid", "--stage", "prod", "--route", "GET /"];
const HTTP_ROUTE: [&str; 6] = [
    "--api",
    "a1b2c3d4e5",
    "--stage",
    "$default",
    "--route",
    "GET /hello",
];

fn start(dir: &Path) -> Server {
    let path = dir.join("world.yaml");
    std::fs::write(&path, world()).unwrap();
    Server::start(&ServerOptions {
        config: Some(path),
        data_dir: dir.join("data"),
        ..ServerOptions::default()
    })
}

/// `iamgate ARGS --endpoint-url …` as `keys`.
fn live(server: &Server, keys: &Keys, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .args(["--endpoint-url", &server.endpoint()])
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

/// `iamgate ARGS --world` on the world file the server was started with.
fn offline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .arg("--world")
        .arg(dir.join("world.yaml"))
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn principals(json: &Value) -> Vec<String> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|a| a["principal"].as_str().unwrap().to_owned())
        .collect()
}

async fn deploy_resource_policy(server: &Server) {
    let apigw =
        aws_sdk_apigateway::Client::new(&sdk_config(&server.endpoint(), &owner_root()).await);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:user/api-exe-valid"}},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{OWNER}:apiid/prod/GET/"}}]}}"#
    );
    apigw
        .update_rest_api()
        .rest_api_id("apiid")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/policy")
                .value(policy)
                .build(),
        )
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id("apiid")
        .stage_name("prod")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_003_who_can_live_lists_the_other_account_user_only_once_the_policy_is_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mut args = vec!["who-can", "--json"];
    args.extend(ROUTE);

    let before = principals(&json(&live(&server, &owner_root(), &args)));
    let nonvalid = format!("arn:aws:iam::{OWNER}:user/api-exe-nonvalid");
    let valid = format!("arn:aws:iam::{OTHER}:user/api-exe-valid");
    assert!(before.contains(&nonvalid), "{before:?}");
    assert!(!before.contains(&format!("arn:aws:iam::{OWNER}:user/api-not-exe")));
    assert!(!before.contains(&valid), "{before:?}");

    deploy_resource_policy(&server).await;
    let after = json(&live(&server, &owner_root(), &args));
    assert!(principals(&after).contains(&valid), "{after}");
    assert!(!principals(&after).contains(&format!("arn:aws:iam::{OWNER}:user/api-not-exe")));
    // The other account's identity policy is named by its owner only.
    let entry = after
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principal"] == valid.as_str())
        .unwrap();
    let grants = entry["hops"][0]["grants"].to_string();
    assert!(
        grants.contains(&format!("identity policy of account {OTHER}")),
        "{grants}"
    );
    assert!(!grants.contains("invoke-apiid"), "{grants}");
}

#[test]
fn offline_and_live_answers_on_the_same_world_are_equal() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    // Every principal that reaches apiid is the owner's: nothing is
    // hidden from it, so the answers are equal byte for byte, in each form.
    for format in [
        &["--json"][..],
        &["--format", "dot"],
        &["--format", "mermaid"],
        &[],
    ] {
        let mut args = vec!["who-can"];
        args.extend(ROUTE);
        args.extend(format);
        let here = offline(dir.path(), &args);
        let there = live(&server, &owner_root(), &args);
        assert!(
            there.status.success(),
            "{}",
            String::from_utf8_lossy(&there.stderr)
        );
        assert_eq!(
            String::from_utf8(here.stdout).unwrap(),
            String::from_utf8(there.stdout).unwrap(),
            "{args:?}"
        );
    }
    let nonvalid = format!("arn:aws:iam::{OWNER}:user/api-exe-nonvalid");
    let args = ["what-can", &nonvalid, "--json"];
    assert_eq!(
        json(&offline(dir.path(), &args)),
        json(&live(&server, &owner_root(), &args))
    );
    let mut args = vec![
        "plan",
        "--principal",
        "arn:aws:iam::123456789012:user/api-not-exe",
        "--json",
    ];
    args.extend(ROUTE);
    let here = json(&offline(dir.path(), &args));
    assert!(!here.as_array().unwrap().is_empty());
    assert_eq!(here, json(&live(&server, &owner_root(), &args)));
}

#[test]
fn seeds_000_001_live_who_can_goes_through_the_role_and_plan_proposes_assuming_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mut args = vec!["who-can", "--json"];
    args.extend(HTTP_ROUTE);
    let found = json(&live(&server, &account_a_root(), &args));
    let u = found
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principal"] == "arn:aws:iam::444455556666:user/u")
        .unwrap_or_else(|| panic!("{found}"));
    assert_eq!(
        u["via"],
        serde_json::json!(["arn:aws:iam::111122223333:role/Invoker"])
    );
    assert_eq!(u["conditions"], serde_json::json!([]));
    // The same, as offline (principal, via and conditions).
    let strip = |v: &Value| -> Vec<(Value, Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["principal"].clone(),
                    a["via"].clone(),
                    a["conditions"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&found), strip(&json(&offline(dir.path(), &args))));

    // u asks what would let it call directly: through the role.
    let mut args = vec!["plan", "--principal", "arn:aws:iam::444455556666:user/u"];
    args.extend(HTTP_ROUTE);
    let text = live(&server, &user_u(), &args);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("call through role arn:aws:iam::111122223333:role/Invoker"),
        "{text}"
    );
    args.push("--json");
    let plan = json(&live(&server, &user_u(), &args));
    for change in plan
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a.as_array().unwrap())
    {
        assert_ne!(
            change["kind"], "resource",
            "HTTP APIs have no resource policy: {plan}"
        );
    }
    // what-can for u: the HTTP API through the role.
    let routes = json(&live(
        &server,
        &user_u(),
        &["what-can", "arn:aws:iam::444455556666:user/u", "--json"],
    ));
    assert!(routes.to_string().contains("a1b2c3d4e5"), "{routes}");
}

/// A refusal's text on stderr.
fn refused(output: &Output) -> String {
    assert!(!output.status.success());
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn another_account_asking_is_refused_alike_whether_or_not_the_target_exists() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mut args = vec!["who-can"];
    args.extend(ROUTE);
    let existing = refused(&live(&server, &unrelated_root(), &args));
    assert!(existing.contains("403"), "{existing}");
    assert!(
        existing.contains("is not authorized to perform: iamgate:WhoCan"),
        "{existing}"
    );
    let missing = refused(&live(
        &server,
        &unrelated_root(),
        &[
            "who-can",
            "--api",
            "nosuchapi",
            "--stage",
            "prod",
            "--route",
            "GET /",
        ],
    ));
    assert_eq!(
        existing.replace("apiid", "nosuchapi"),
        missing,
        "nothing tells an existing API from a missing one"
    );
    // A principal of another account, real or not.
    let real = refused(&live(
        &server,
        &unrelated_root(),
        &["what-can", "arn:aws:iam::444455556666:user/u"],
    ));
    let fake = refused(&live(
        &server,
        &unrelated_root(),
        &["what-can", "arn:aws:iam::444455556666:user/nobody"],
    ));
    assert_eq!(real.replace("user/u ", "user/nobody "), fake);
    // The resource owner may not plan for another account's principal.
    let mut args = vec![
        "plan",
        "--principal",
        "arn:aws:iam::098765432109:user/api-exe-valid",
    ];
    args.extend(ROUTE);
    assert!(refused(&live(&server, &owner_root(), &args)).contains("iamgate:Plan"));
}

#[test]
fn unsigned_badly_signed_and_unknown_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let path = "/_iamgate/analysis/who-can?api=apiid&stage=prod&route=GET%20%2F";
    let unsigned = http(server.port, "GET", path, &[], b"").unwrap();
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(
        unsigned.body.contains("MissingAuthenticationToken"),
        "{}",
        unsigned.body
    );

    let wrong = Keys::new("AKIAEXAMPLEAPIROOT01", "not-the-secret");
    let mut args = vec!["who-can"];
    args.extend(ROUTE);
    let bad = refused(&live(&server, &wrong, &args));
    assert!(bad.contains("403") && bad.contains("signature"), "{bad}");

    // An unknown route of the caller's own API: the analysis's own error.
    let unknown = refused(&live(
        &server,
        &owner_root(),
        &[
            "who-can",
            "--api",
            "apiid",
            "--stage",
            "prod",
            "--route",
            "DELETE /nope",
        ],
    ));
    assert!(unknown.contains("400"), "{unknown}");
    // An unknown question.
    let question = http(server.port, "GET", "/_iamgate/analysis/why-not", &[], b"").unwrap();
    assert_eq!(question.status, 403, "signature first: {}", question.body);
}

#[test]
fn explain_refuses_an_offline_world_and_says_why() {
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(["explain", "some-id", "--world", "world.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("decision records are kept by the server"),
        "{stderr}"
    );
}

#[test]
fn world_and_endpoint_url_are_mutually_exclusive() {
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args([
            "what-can",
            "arn:aws:iam::1:user/u",
            "--world",
            "w.yaml",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("cannot be used with")
    );
}

/// Seed 002 as its article writes it: account A (111111111111) hosts REST
/// API abcd1234 whose resource policy names B's role
/// APIGatewayInvokerRole; the role in B trusts account A, not B's user;
/// the user ApiInvokerUser calls with its own keys.
const SEED_002: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIASEEDAROOT0000001, secret: "seed-002-account-a-root-secret-000000001" }
  - id: "222222222222"
    root_access_key: { id: AKIASEEDBROOT0000001, secret: "seed-002-account-b-root-secret-000000001" }
    users:
      - name: ApiInvokerUser
    roles:
      - name: APIGatewayInvokerRole
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:ap-northeast-1:111111111111:abcd1234/*"}]}'
apis:
  - id: abcd1234
    type: REST
    account: "111111111111"
    region: ap-northeast-1
    stages: [prod]
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/APIGatewayInvokerRole"]},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:ap-northeast-1:111111111111:abcd1234/*"}]}'
    methods:
      - { path: /myapi, method: GET, authorization: AWS_IAM, integration: { type: MOCK } }
"#;

/// The standard output of a live command that must succeed.
fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn seed_002_live_who_can_and_what_can_draw_the_article_as_dot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.yaml");
    std::fs::write(&path, SEED_002).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(path),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let account_a = Keys::new(
        "AKIASEEDAROOT0000001",
        "seed-002-account-a-root-secret-000000001",
    );
    let account_b = Keys::new(
        "AKIASEEDBROOT0000001",
        "seed-002-account-b-root-secret-000000001",
    );

    // The API's owner asks who can call GET /myapi: its root and B's role,
    // and not B's user, whose keys the article calls with. B's policy is
    // shown by owner only.
    let graph = stdout(&live(
        &server,
        &account_a,
        &[
            "who-can",
            "--api",
            "abcd1234",
            "--stage",
            "prod",
            "--route",
            "GET /myapi",
            "--format",
            "dot",
        ],
    ));
    assert_eq!(
        graph,
        r#"digraph access {
  rankdir=LR;
  node [shape=box];
  subgraph cluster_0 {
    label="account 111111111111";
    n0 [label="abcd1234/prod/GET/myapi"];
    n1 [label="root"];
  }
  subgraph cluster_1 {
    label="account 222222222222";
    n2 [label="role/APIGatewayInvokerRole"];
  }
  n1 -> n0 [label="execute-api:Invoke"];
  n2 -> n0 [label="execute-api:Invoke\nidentity policy of account 222222222222\nresource policy resource policy #0"];
}
"#
    );
    assert!(!graph.contains("ApiInvokerUser"));

    // B asks what its role can do: the route, with its own policy named
    // and A's by owner only.
    let role = stdout(&live(
        &server,
        &account_b,
        &[
            "what-can",
            "arn:aws:iam::222222222222:role/APIGatewayInvokerRole",
            "--format",
            "dot",
        ],
    ));
    assert!(role.starts_with("digraph access {\n"), "{role}");
    assert!(
        role.contains(r#"[label="execute-api:Invoke\nidentity policy inline:invoke #0\nresource policy of account 111111111111"]"#),
        "{role}"
    );
    assert!(
        role.contains(r#"[label="abcd1234/prod/GET/myapi"]"#),
        "{role}"
    );

    // And what its user can do: nothing — the article's 403, drawn.
    let user = stdout(&live(
        &server,
        &account_b,
        &[
            "what-can",
            "arn:aws:iam::222222222222:user/ApiInvokerUser",
            "--format",
            "dot",
        ],
    ));
    assert_eq!(
        user,
        "digraph access {\n  rankdir=LR;\n  node [shape=box];\n}\n"
    );
}
