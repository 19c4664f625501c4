#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Decision records through a real server: requests signed as the seed
//! articles' users make them, then `iamgate explain` (the binary, signing
//! with the reader's keys) says why each was answered as it was, to the
//! accounts it concerns and to nobody else. Also `--enforce soft|off`.

mod support;

use serde_json::Value;
use support::{Keys, Server, ServerOptions, explain, http, sign_execute_api, signed_post};

const OWNER: &str = "123456789012";
const OTHER: &str = "098765432109";
const HOST: &str = "apiid.execute-api.us-east-1.amazonaws.com";

/// Seed 003's world: `policy` is the API's resource policy (none: `~`).
fn seed_003(policy: &str) -> String {
    format!(
        r#"
accounts:
  - id: "{OWNER}"
    root_access_key: {{ id: AKIAEXAMPLEAPIROOT01, secret: "exampleApiAccountRootSecretKey0000000001" }}
    users:
      - name: api-exe-nonvalid
        access_keys: [{{ id: AKIAEXAMPLENONVALID1, secret: "exampleApiExeNonvalidSecretKey0000000001" }}]
        policies:
          invoke-apiid: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:{OWNER}:apiid/prod/GET/"]}}]}}'
      - name: api-not-exe
        access_keys: [{{ id: AKIAEXAMPLENOTEXE001, secret: "exampleApiNotExeSecretAccessKey000000001" }}]
  - id: "{OTHER}"
    root_access_key: {{ id: AKIAEXAMPLEOTHROOT01, secret: "exampleOtherAccountRootSecretKey000000001" }}
    users:
      - name: api-exe-valid
        access_keys: [{{ id: AKIAEXAMPLEVALID0001, secret: "exampleApiExeValidSecretAccessKey0000001" }}]
        policies:
          invoke-apiid: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:{OWNER}:apiid/prod/GET/"]}}]}}'
  - id: "333333333333"
    root_access_key: {{ id: AKIAEXAMPLEUNRELATED, secret: "exampleUnrelatedAccountRootSecretKey0001" }}
apis:
  - id: apiid
    type: REST
    account: "{OWNER}"
    region: us-east-1
    stages: [prod]
    policy: {policy}
    methods:
      - path: /
        method: GET
        authorization: AWS_IAM
        integration: {{ type: MOCK, status: 200, body: '{{"message": "Hello from API Gateway!"}}' }}
"#
    )
}

fn valid() -> Keys {
    Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    )
}
fn nonvalid() -> Keys {
    Keys::new(
        "AKIAEXAMPLENONVALID1",
        "exampleApiExeNonvalidSecretKey0000000001",
    )
}
fn not_exe() -> Keys {
    Keys::new(
        "AKIAEXAMPLENOTEXE001",
        "exampleApiNotExeSecretAccessKey000000001",
    )
}
fn owner_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAPIROOT01",
        "exampleApiAccountRootSecretKey0000000001",
    )
}
fn unrelated_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEUNRELATED",
        "exampleUnrelatedAccountRootSecretKey0001",
    )
}

fn start(world: &str, args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.yaml");
    std::fs::write(&path, world).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(path),
        data_dir: dir.path().join("data"),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..ServerOptions::default()
    });
    (server, dir)
}

/// `GET /prod/` on apiid as `keys`: status, body and request id.
fn invoke(server: &Server, keys: &Keys) -> (u16, String, String) {
    let headers = sign_execute_api(keys, "GET", HOST, "/prod/", &[]);
    let response = http(server.port, "GET", "/prod/", &headers, b"").unwrap();
    let id = response.header("x-amzn-RequestId").unwrap().to_owned();
    (response.status, response.body, id)
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn seed_003_before_the_resource_policy_explain_names_the_one_missing_side() {
    let (server, _dir) = start(&seed_003("~"), &[]);

    let (status, body, id) = invoke(&server, &valid());
    assert_eq!(status, 403);
    let message = format!(
        "User: arn:aws:iam::{OTHER}:user/api-exe-valid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no resource-based policy allows the execute-api:Invoke action"
    );
    assert_eq!(
        body,
        serde_json::json!({ "Message": message }).to_string(),
        "the client's answer stays AWS's"
    );
    let record = explain(&server, &valid(), &id).unwrap();
    assert_eq!(record["requestId"], id.as_str());
    assert_eq!(record["decision"], "implicit_deny");
    assert_eq!(
        record["principal"],
        format!("arn:aws:iam::{OTHER}:user/api-exe-valid")
    );
    assert_eq!(record["action"], "execute-api:Invoke");
    assert_eq!(
        record["resource"],
        format!("arn:aws:execute-api:us-east-1:{OWNER}:apiid/prod/GET/")
    );
    assert_eq!(strings(&record["missing"]), ["resource"]);
    assert_eq!(record["rule"], "cross_account_intersection");
    assert_eq!(record["decidingPolicyType"], "resource");
    let matched = &record["matchedStatements"][0];
    assert_eq!(matched["policy"], "inline:invoke-apiid");
    assert_eq!(matched["effect"], "Allow");
    assert_eq!(record["message"], message.as_str());

    // The API's owner reads the same record, without the caller's policy
    // names.
    let seen_by_owner = explain(&server, &owner_root(), &id).unwrap();
    assert_eq!(strings(&seen_by_owner["missing"]), ["resource"]);
    assert_eq!(seen_by_owner["matchedStatements"][0]["policy"], Value::Null);
    assert_eq!(seen_by_owner["matchedStatements"][0]["sid"], Value::Null);
    assert!(!seen_by_owner.to_string().contains("invoke-apiid"));

    let (status, _, id) = invoke(&server, &not_exe());
    assert_eq!(status, 403);
    let record = explain(&server, &not_exe(), &id).unwrap();
    assert_eq!(strings(&record["missing"]), ["identity"]);
    assert_eq!(record["decidingPolicyType"], "identity");
    assert_eq!(record["rule"], "same_account_union");

    let (status, _, id) = invoke(&server, &nonvalid());
    assert_eq!(status, 200);
    let record = explain(&server, &nonvalid(), &id).unwrap();
    assert_eq!(record["decision"], "allow");
    assert_eq!(strings(&record["missing"]), Vec::<&str>::new());
}

#[test]
fn a_record_is_read_by_nobody_but_the_accounts_it_concerns_and_unknown_ids_say_so() {
    let (server, _dir) = start(&seed_003("~"), &[]);
    let (_, _, id) = invoke(&server, &valid());

    let unrelated = explain(&server, &unrelated_root(), &id).unwrap_err();
    assert!(unrelated.contains("404"), "{unrelated}");
    assert!(unrelated.contains("No decision record"), "{unrelated}");
    assert!(!unrelated.contains("api-exe-valid"), "{unrelated}");

    let unknown = explain(
        &server,
        &owner_root(),
        "00000000-0000-0000-0000-000000000000",
    )
    .unwrap_err();
    assert!(unknown.contains("No decision record"), "{unknown}");
    // The same words as for a record the reader may not see: nothing tells
    // them apart.
    assert_eq!(
        unrelated
            .replace(&id, "ID")
            .replace("333333333333", "ACCOUNT"),
        unknown
            .replace("00000000-0000-0000-0000-000000000000", "ID")
            .replace(OWNER, "ACCOUNT")
    );

    // An unsigned read is refused.
    let path = format!("/_iamgate/decisions/{id}");
    let response = http(server.port, "GET", &path, &[], b"").unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert!(!response.body.contains("api-exe-valid"));
}

#[test]
fn an_evicted_record_gets_a_clear_error() {
    let (server, _dir) = start(&seed_003("~"), &["--decision-records", "16"]);
    let (_, _, first) = invoke(&server, &not_exe());
    for _ in 0..200 {
        invoke(&server, &not_exe());
    }
    let error = explain(&server, &not_exe(), &first).unwrap_err();
    assert!(error.contains("expired"), "{error}");
    assert!(error.contains("keeps the last 16 records"), "{error}");
}

#[test]
fn seed_003_not_principal_deny_is_explained_as_an_explicit_deny_naming_its_statement() {
    let arn = format!("arn:aws:execute-api:us-east-1:{OWNER}:apiid/prod/GET/");
    let valid_arn = format!("arn:aws:iam::{OTHER}:user/api-exe-valid");
    let policy = format!(
        r#"'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{valid_arn}"}},"Action":"execute-api:Invoke","Resource":"{arn}"}},{{"Sid":"OnlyApiExeValid","Effect":"Deny","NotPrincipal":{{"AWS":"{valid_arn}"}},"Action":"execute-api:Invoke","Resource":"{arn}"}}]}}'"#
    );
    let (server, _dir) = start(&seed_003(&policy), &[]);
    let (status, _, id) = invoke(&server, &nonvalid());
    assert_eq!(status, 403);
    let record = explain(&server, &nonvalid(), &id).unwrap();
    assert_eq!(record["decision"], "explicit_deny");
    assert_eq!(record["rule"], "not_principal_deny");
    assert_eq!(record["decidingPolicyType"], "resource");
    let statements = record["matchedStatements"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["sid"], "OnlyApiExeValid");
    assert_eq!(statements[0]["effect"], "Deny");
    assert_eq!(statements[0]["notPrincipal"], true);
    assert_eq!(statements[0]["index"], 1);
    assert_eq!(strings(&record["missing"]), Vec::<&str>::new());

    let (status, _, _) = invoke(&server, &valid());
    assert_eq!(status, 200);
}

/// Seed 002 as its article writes it: account A's API names B's role in
/// its resource policy; the role in B trusts account A (not B's user);
/// the calls are made with B's user's own keys.
const SEED_002: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIASEEDAROOT0000001, secret: "seed-002-account-a-root-secret-000000001" }
  - id: "222222222222"
    root_access_key: { id: AKIASEEDBROOT0000001, secret: "seed-002-account-b-root-secret-000000001" }
    users:
      - name: ApiInvokerUser
        access_keys: [{ id: AKIASEEDBUSER0000001, secret: "seed-002-account-b-user-secret-000000001" }]
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
      - path: /myapi
        method: GET
        authorization: AWS_IAM
        integration: { type: MOCK, status: 200, body: '{}' }
"#;

#[test]
fn seed_002_as_written_explain_says_why_the_users_call_and_its_assume_role_are_denied() {
    let (server, _dir) = start(SEED_002, &[]);
    let user = Keys::new(
        "AKIASEEDBUSER0000001",
        "seed-002-account-b-user-secret-000000001",
    );
    let user_arn = "arn:aws:iam::222222222222:user/ApiInvokerUser";

    // The call with the user's keys, as in Postman.
    let host = "abcd1234.execute-api.ap-northeast-1.amazonaws.com";
    let headers = support::sign_execute_api_in(&user, "GET", host, "/prod/myapi", "ap-northeast-1");
    let response = http(server.port, "GET", "/prod/myapi", &headers, b"").unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    let id = response.header("x-amzn-RequestId").unwrap();
    let record = explain(&server, &user, id).unwrap();
    assert_eq!(record["principal"], user_arn);
    assert_eq!(record["decision"], "implicit_deny");
    assert_eq!(record["rule"], "cross_account_intersection");
    // Neither the user's own policies nor the resource policy (which names
    // the role, not the user) allow it.
    assert_eq!(strings(&record["missing"]), ["identity", "resource"]);
    assert_eq!(record["matchedStatements"].as_array().unwrap().len(), 0);

    // Assuming the role: its trust policy names account A, so B's user is
    // not let in, whatever its own permissions.
    let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FAPIGatewayInvokerRole&RoleSessionName=postman";
    let response = signed_post(server.port, "sts", &user, body);
    assert_eq!(response.status, 403, "{}", response.body);
    let id = response.header("x-amzn-RequestId").unwrap();
    let record = explain(&server, &user, id).unwrap();
    assert_eq!(record["action"], "sts:AssumeRole");
    assert_eq!(record["rule"], "no_trust");
    assert_eq!(record["decidingPolicyType"], "trust");
    assert_eq!(strings(&record["missing"]), ["trust"]);
    assert_eq!(
        record["message"],
        format!(
            "User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/APIGatewayInvokerRole because no role trust policy allows the sts:AssumeRole action"
        )
    );
}

#[test]
fn iam_control_plane_denials_are_recorded_under_their_request_id() {
    let (server, _dir) = start(&seed_003("~"), &[]);
    let response = signed_post(
        server.port,
        "iam",
        &not_exe(),
        "Action=ListUsers&Version=2010-05-08",
    );
    assert_eq!(response.status, 403, "{}", response.body);
    let id = response.header("x-amzn-RequestId").unwrap();
    let record = explain(&server, &not_exe(), id).unwrap();
    assert_eq!(record["action"], "iam:ListUsers");
    assert_eq!(record["decision"], "implicit_deny");
    assert_eq!(strings(&record["missing"]), ["identity"]);
    assert_eq!(record["message"], response.xml("Message").unwrap());
}

#[test]
fn enforce_soft_lets_a_denial_through_and_records_it_as_would_deny() {
    let (server, _dir) = start(
        &seed_003("~"),
        &["--enforce", "soft", "--log-format", "json"],
    );
    let (status, body, id) = invoke(&server, &not_exe());
    assert_eq!(status, 200, "{body}");
    let record = explain(&server, &not_exe(), &id).unwrap();
    assert_eq!(record["decision"], "would_deny");
    assert_eq!(strings(&record["missing"]), ["identity"]);
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("because no identity-based policy allows")
    );
    let logs = server.stop();
    let access = support::json_log_events(&logs, "iamgate::access");
    assert!(
        access
            .iter()
            .any(|e| e["fields"]["decision"] == "would_deny"),
        "{logs}"
    );
}

#[test]
fn enforce_off_evaluates_no_policy_but_still_needs_a_valid_signature() {
    let (server, _dir) = start(&seed_003("~"), &["--enforce", "off"]);
    let (status, _, id) = invoke(&server, &not_exe());
    assert_eq!(status, 200);
    let record = explain(&server, &not_exe(), &id).unwrap();
    assert_eq!(record["decision"], "allow");
    assert_eq!(record["rule"], Value::Null);
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("--enforce off")
    );

    let unsigned = http(
        server.port,
        "GET",
        "/prod/",
        &[("host".into(), HOST.into())],
        b"",
    )
    .unwrap();
    assert_eq!(unsigned.status, 403);
    assert_eq!(
        unsigned.body,
        r#"{"message":"Missing Authentication Token"}"#
    );
    let wrong = Keys::new("AKIAEXAMPLENOTEXE001", "not-the-secret");
    let (status, _, _) = invoke(&server, &wrong);
    assert_eq!(status, 403);
}

/// `explain`, retried while the background writer may not have written
/// the record yet.
fn explain_eventually(server: &Server, keys: &Keys, id: &str) -> Result<Value, String> {
    let started = std::time::Instant::now();
    loop {
        match explain(server, keys, id) {
            Ok(record) => return Ok(record),
            Err(error) if started.elapsed() > std::time::Duration::from_secs(5) => {
                return Err(error);
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}

#[test]
fn persisted_records_outlive_the_ring_and_a_restart_and_keep_their_visibility() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.yaml");
    std::fs::write(&path, seed_003("~")).unwrap();
    let options = ServerOptions {
        config: Some(path),
        data_dir: dir.path().join("data"),
        args: ["--decision-records", "16", "--persist-decisions", "on"]
            .map(str::to_owned)
            .to_vec(),
        ..ServerOptions::default()
    };
    let server = Server::start(&options);
    let (status, _, first) = invoke(&server, &valid());
    assert_eq!(status, 403);
    explain_eventually(&server, &valid(), &first).unwrap();
    for _ in 0..100 {
        invoke(&server, &not_exe());
    }
    // Long gone from a ring of 16; read back from the store.
    let record = explain_eventually(&server, &valid(), &first).unwrap();
    assert_eq!(strings(&record["missing"]), ["resource"]);
    assert_eq!(
        record["matchedStatements"][0]["policy"],
        "inline:invoke-apiid"
    );
    server.stop();

    let server = Server::start(&options);
    let record = explain(&server, &valid(), &first).unwrap();
    assert_eq!(record["requestId"], first.as_str());
    assert_eq!(
        record["principal"],
        format!("arn:aws:iam::{OTHER}:user/api-exe-valid")
    );
    // The same view per account as from the ring: the owner does not see
    // the caller's policy names, an unrelated account sees nothing.
    let seen_by_owner = explain(&server, &owner_root(), &first).unwrap();
    assert_eq!(seen_by_owner["matchedStatements"][0]["policy"], Value::Null);
    assert!(!seen_by_owner.to_string().contains("invoke-apiid"));
    let unrelated = explain(&server, &unrelated_root(), &first).unwrap_err();
    assert!(unrelated.contains("No decision record"), "{unrelated}");
    assert!(!unrelated.contains("api-exe-valid"), "{unrelated}");
    // No secret of the caller's is in what was kept.
    assert!(!record.to_string().contains(&valid().secret));

    let metrics = http(server.port, "GET", "/_iamgate/metrics", &[], b"").unwrap();
    assert!(
        metrics
            .body
            .contains("iamgate_decision_records_dropped_total 0"),
        "{}",
        metrics.body
    );
}
