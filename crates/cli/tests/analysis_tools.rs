#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

//! `iamgate who-can`, `what-can` and `plan` on a world file, as a user runs
//! them: the seed-003 REST API and the seed-000 HTTP API reached through a
//! role, with the JSON shapes tests outside the repository rely on.

use std::process::Command;

use serde_json::Value;

/// Seed 003 (REST API `apiid`, three users; the resource policy lets the
/// other account's api-exe-valid in) and seed 000 (HTTP API `a1b2c3d4e5`
/// in account A, role Invoker trusting account B, user u in B).
const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    users:
      - name: api-exe-nonvalid
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'
      - name: api-not-exe
  - id: "098765432109"
    users:
      - name: api-exe-valid
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'
  - id: "111122223333"
    roles:
      - name: Invoker
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}'
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/*/*"}]}'
  - id: "444455556666"
    users:
      - name: u
        policies:
          assume: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/Invoker"}]}'
      - name: w
apis:
  - id: apiid
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'
    methods:
      - { path: /, method: GET, authorization: AWS_IAM, integration: { type: MOCK } }
  - id: a1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - { key: "ANY /{proxy+}", authorization: AWS_IAM, integration: { type: MOCK } }
"#;

fn iamgate(args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .arg("--world")
        .arg(&world)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn principals(json: &Value) -> Vec<&str> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|a| a["principal"].as_str().unwrap())
        .collect()
}

#[test]
fn who_can_json_lists_principals_with_via_and_conditions() {
    let (ok, out) = iamgate(&[
        "who-can", "--api", "apiid", "--stage", "prod", "--route", "GET /", "--json",
    ]);
    assert!(ok, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let names = principals(&json);
    assert!(names.contains(&"arn:aws:iam::123456789012:user/api-exe-nonvalid"));
    assert!(names.contains(&"arn:aws:iam::098765432109:user/api-exe-valid"));
    assert!(!names.contains(&"arn:aws:iam::123456789012:user/api-not-exe"));
    for access in json.as_array().unwrap() {
        assert_eq!(access["via"], Value::Array(vec![]));
        assert_eq!(access["conditions"], Value::Array(vec![]));
    }
}

#[test]
fn who_can_on_the_http_api_shows_account_b_user_through_the_role() {
    let (ok, out) = iamgate(&[
        "who-can",
        "--action",
        "execute-api:Invoke",
        "--resource",
        "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/GET/hello",
        "--json",
    ]);
    assert!(ok, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let u = json
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["principal"] == "arn:aws:iam::444455556666:user/u")
        .expect("u is listed");
    assert_eq!(u["via"][0], "arn:aws:iam::111122223333:role/Invoker");
}

#[test]
fn who_can_draws_the_graph_in_dot_and_mermaid() {
    let args = [
        "who-can",
        "--api",
        "a1b2c3d4e5",
        "--stage",
        "$default",
        "--route",
        "GET /x",
        "--format",
    ];
    let (ok, dot) = iamgate(&[&args[..], &["dot"]].concat());
    assert!(ok && dot.starts_with("digraph access {"), "{dot}");
    assert!(dot.contains("sts:AssumeRole"), "{dot}");
    let (ok, mermaid) = iamgate(&[&args[..], &["mermaid"]].concat());
    assert!(ok && mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert!(mermaid.contains("user/u"), "{mermaid}");
}

#[test]
fn what_can_lists_the_route_reached_through_the_role() {
    let (ok, out) = iamgate(&["what-can", "arn:aws:iam::444455556666:user/u", "--json"]);
    assert!(ok, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let routes = json.as_array().unwrap();
    assert_eq!(routes.len(), 1, "{out}");
    assert_eq!(routes[0]["api"], "a1b2c3d4e5");
    assert_eq!(
        routes[0]["via"][0],
        "arn:aws:iam::111122223333:role/Invoker"
    );
}

#[test]
fn plan_json_for_a_user_calling_the_http_api_from_another_account_is_an_assume_role_path() {
    let (ok, out) = iamgate(&[
        "plan",
        "--principal",
        "arn:aws:iam::444455556666:user/w",
        "--api",
        "a1b2c3d4e5",
        "--stage",
        "$default",
        "--route",
        "GET /x",
        "--json",
    ]);
    assert!(ok, "{out}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let first = json[0].as_array().unwrap();
    // w may not assume Invoker yet: its own sts:AssumeRole is what is missing
    // (the trust policy already names account B).
    assert_eq!(first.len(), 1, "{out}");
    assert_eq!(first[0]["kind"], "identity");
    assert_eq!(first[0]["account"], "444455556666");
    assert_eq!(first[0]["target"], "arn:aws:iam::444455556666:user/w");
    assert_eq!(first[0]["statement"]["Action"], "sts:AssumeRole");
    assert_eq!(
        first[0]["statement"]["Resource"],
        "arn:aws:iam::111122223333:role/Invoker"
    );
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a.as_array().unwrap())
            .all(|c| c["kind"] != "resource")
    );
}

#[test]
fn an_unknown_route_is_a_clear_error() {
    let (ok, _) = iamgate(&[
        "who-can",
        "--api",
        "apiid",
        "--stage",
        "prod",
        "--route",
        "GET /nope",
    ]);
    assert!(!ok);
}
