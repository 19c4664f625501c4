#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! PRIVATE REST APIs behind VPC-endpoint listeners (docs/private-apis.md),
//! live: `iamgate serve --vpc-endpoint ADDR=vpce-ID,vpc-ID` opens a
//! listener whose requests carry `aws:SourceVpce`, `aws:SourceVpc` and
//! `aws:VpcSourceIp` (and no `aws:SourceIp`); a PRIVATE API answers only
//! there, and its resource policy decides which endpoint or VPC may call.
//!
//! Listeners: the public one; `A` = vpce-0123456789abcdef0 in
//! vpc-0abc1234; `B` = another endpoint in the same VPC; `C` = an endpoint
//! in another VPC.

mod support;

use std::process::Command;

use support::{
    HttpResponse, Keys, Server, ServerOptions, example, free_port, http, json_log_events,
    sign_execute_api, signed_post,
};

const ALICE: (&str, &str) = (
    "AKIAEXAMPLEALICE0001",
    "aliceSecretAccessKeyExample0000000000001",
);
const VPCE_A: &str = "vpce-0123456789abcdef0";
const VPCE_B: &str = "vpce-0fedcba987654321f";
const VPCE_C: &str = "vpce-0aaaaaaaaaaaaaaaa";
const VPC: &str = "vpc-0abc1234";
const OTHER_VPC: &str = "vpc-0def5678";

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    users:
      - name: alice
        access_keys: [{ id: AKIAEXAMPLEALICE0001, secret: "aliceSecretAccessKeyExample0000000000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: execute-api:Invoke
                Resource: "arn:aws:execute-api:us-east-1:111111111111:*/*"
apis:
  # The typical private API: anyone, but only through endpoint A.
  - id: privvpce01
    type: REST
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
          Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } }
    methods:
      - { path: /, method: GET, authorization: AWS_IAM,
          integration: { type: MOCK, status: 200, body: '{"private":"iam"}' } }
      - { path: /open, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"private":"open"}' } }
  # Any endpoint of one VPC.
  - id: privvpc001
    type: REST
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
          Condition: { StringNotEquals: { "aws:SourceVpc": "vpc-0abc1234" } }
    methods:
      - { path: /, method: GET, authorization: AWS_IAM,
          integration: { type: MOCK, status: 200, body: '{"vpc":true}' } }
  # Allowed only when the client address is a VPC address and there is
  # no public one.
  - id: privaddr01
    type: REST
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
          Condition:
            IpAddress: { "aws:VpcSourceIp": "127.0.0.0/8" }
            "Null": { "aws:SourceIp": "true" }
    methods:
      - { path: /, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"address":"vpc"}' } }
  # Regional APIs answer on every listener.
  - id: regional01
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"regional":true}' } }
  # A regional API whose policy wants endpoint A: the public listener
  # carries no aws:SourceVpce, so nothing allows it there.
  - id: regvpce001
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
          Condition: { StringEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } }
    methods:
      - { path: /, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"regional":"vpce"}' } }
"#;

/// The running server and the ports of its three VPC-endpoint listeners.
struct Setup {
    server: Server,
    a: u16,
    b: u16,
    c: u16,
    _dir: tempfile::TempDir,
}

fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), WORLD).unwrap();
    let (a, b, c) = (free_port(), free_port(), free_port());
    let args = vec![
        "--log-format".to_owned(),
        "json".to_owned(),
        "--vpc-endpoint".to_owned(),
        format!("127.0.0.1:{a}={VPCE_A},{VPC}"),
        "--vpc-endpoint".to_owned(),
        format!("127.0.0.1:{b}={VPCE_B},{VPC}"),
        "--vpc-endpoint".to_owned(),
        format!("127.0.0.1:{c}={VPCE_C},{OTHER_VPC}"),
    ];
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        args,
        ..ServerOptions::default()
    });
    Setup {
        server,
        a,
        b,
        c,
        _dir: dir,
    }
}

/// `GET target` on `api` through the listener at `port`, signed by alice
/// when `signed`.
fn get(port: u16, signed: bool, api: &str, target: &str) -> HttpResponse {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let headers = if signed {
        sign_execute_api(&Keys::new(ALICE.0, ALICE.1), "GET", &host, target, &[])
    } else {
        vec![("host".to_owned(), host)]
    };
    http(port, "GET", target, &headers, b"").unwrap()
}

/// Status, `x-amzn-ErrorType` and body, with `Content-Length` checked
/// against the body.
fn answer(response: &HttpResponse) -> (u16, Option<&str>, &str) {
    assert_eq!(
        response.header("content-length"),
        Some(response.body.len().to_string().as_str())
    );
    (
        response.status,
        response.header("x-amzn-ErrorType"),
        response.body.as_str(),
    )
}

const FORBIDDEN: (u16, Option<&str>, &str) = (
    403,
    Some("ForbiddenException"),
    r#"{"message":"Forbidden"}"#,
);

fn explicit_deny(principal: &str, api: &str, tail: &str) -> String {
    format!(
        r#"{{"Message":"User: {principal} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:{api}/prod/{tail} with an explicit deny in a resource-based policy"}}"#
    )
}

const ALICE_ARN: &str = "arn:aws:iam::111111111111:user/alice";

#[test]
fn a_private_api_answers_through_its_vpc_endpoint_and_nowhere_else() {
    let setup = start();
    let Setup { server, a, b, .. } = &setup;

    let through_a = get(*a, true, "privvpce01", "/prod/");
    assert_eq!(answer(&through_a), (200, None, r#"{"private":"iam"}"#));

    // Another endpoint: the Deny on aws:SourceVpce matches.
    let through_b = get(*b, true, "privvpce01", "/prod/");
    let body = explicit_deny(ALICE_ARN, "privvpce01", "GET/");
    assert_eq!(
        answer(&through_b),
        (403, Some("AccessDeniedException"), body.as_str())
    );

    // The public listener: refused before anything is routed, so a stage
    // that does not exist gets the same answer as one that does, and a
    // path-style address is no way around it.
    let public = get(server.port, true, "privvpce01", "/prod/");
    assert_eq!(answer(&public), FORBIDDEN);
    assert_eq!(public.header("x-amzn-RequestId").map(str::len), Some(36));
    let no_stage = get(server.port, false, "privvpce01", "/nostage/");
    assert_eq!(answer(&no_stage), FORBIDDEN);
    let path_style = http(
        server.port,
        "GET",
        "/restapis/privvpce01/prod/_user_request_/open",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(answer(&path_style), FORBIDDEN);
    // Through the endpoint, an unknown stage is the usual R2.
    let no_stage_inside = get(*a, false, "privvpce01", "/nostage/");
    assert_eq!(
        answer(&no_stage_inside),
        (
            403,
            Some("MissingAuthenticationTokenException"),
            r#"{"message":"Missing Authentication Token"}"#
        )
    );
}

#[test]
fn a_none_method_on_a_private_api_evaluates_the_anonymous_caller_with_the_endpoint_keys() {
    let setup = start();
    let Setup { server, a, b, .. } = &setup;

    let through_a = get(*a, false, "privvpce01", "/prod/open");
    assert_eq!(answer(&through_a), (200, None, r#"{"private":"open"}"#));
    let through_b = get(*b, false, "privvpce01", "/prod/open");
    let body = explicit_deny("anonymous", "privvpce01", "GET/open");
    assert_eq!(
        answer(&through_b),
        (403, Some("AccessDeniedException"), body.as_str())
    );
    assert_eq!(
        answer(&get(server.port, false, "privvpce01", "/prod/open")),
        FORBIDDEN
    );
}

#[test]
fn a_source_vpc_condition_admits_every_endpoint_of_that_vpc() {
    let setup = start();
    let Setup { a, b, c, .. } = &setup;

    for port in [*a, *b] {
        let response = get(port, true, "privvpc001", "/prod/");
        assert_eq!(answer(&response), (200, None, r#"{"vpc":true}"#));
    }
    let other_vpc = get(*c, true, "privvpc001", "/prod/");
    let body = explicit_deny(ALICE_ARN, "privvpc001", "GET/");
    assert_eq!(
        answer(&other_vpc),
        (403, Some("AccessDeniedException"), body.as_str())
    );
}

#[test]
fn through_an_endpoint_the_address_is_vpc_source_ip_and_source_ip_is_absent() {
    let setup = start();
    let through_c = get(setup.c, false, "privaddr01", "/prod/");
    assert_eq!(answer(&through_c), (200, None, r#"{"address":"vpc"}"#));
}

#[test]
fn regional_apis_answer_on_every_listener_and_only_endpoint_traffic_has_vpc_keys() {
    let setup = start();
    let Setup {
        server, a, b, c, ..
    } = &setup;

    for port in [server.port, *a, *b, *c] {
        let response = get(port, false, "regional01", "/prod/");
        assert_eq!(answer(&response), (200, None, r#"{"regional":true}"#));
    }
    let through_a = get(*a, false, "regvpce001", "/prod/");
    assert_eq!(answer(&through_a), (200, None, r#"{"regional":"vpce"}"#));
    let public = get(server.port, false, "regvpce001", "/prod/");
    assert_eq!(
        answer(&public),
        (
            403,
            Some("AccessDeniedException"),
            r#"{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:regvpce001/prod/GET/ because no resource-based policy allows the execute-api:Invoke action"}"#
        )
    );
}

#[test]
fn the_access_log_names_the_endpoint_a_request_came_through() {
    let setup = start();
    let Setup { server, a, b, .. } = &setup;

    let allowed = get(*a, true, "privvpce01", "/prod/");
    assert_eq!(allowed.status, 200);
    let denied = get(*b, true, "privvpce01", "/prod/");
    assert_eq!(denied.status, 403);
    let outside = get(server.port, true, "privvpce01", "/prod/");
    assert_eq!(outside.status, 403);

    let events = json_log_events(&server.logs(), "iamgate::access");
    assert_eq!(events.len(), 3, "{}", server.logs());
    let fields = &events[0]["fields"];
    assert_eq!(fields["source_vpce"], VPCE_A);
    assert_eq!(fields["decision"], "allow");
    assert_eq!(fields["caller"], ALICE_ARN);
    assert_eq!(fields["source_ip"], "127.0.0.1");
    let fields = &events[1]["fields"];
    assert_eq!(fields["source_vpce"], VPCE_B);
    assert_eq!(fields["decision"], "explicit_deny");
    assert_eq!(fields["policy_type"], "resource");
    let fields = &events[2]["fields"];
    assert!(fields.get("source_vpce").is_none(), "{fields}");
    assert_eq!(fields["decision"], "outside_vpc_endpoint");
    assert!(fields.get("stage").is_none(), "{fields}");
    assert_eq!(fields["status"], 403);
}

#[test]
fn an_endpoint_listener_serves_execute_api_only() {
    let setup = start();
    let Setup { server, a, .. } = &setup;
    let keys = Keys::new(ALICE.0, ALICE.1);
    let body = "Action=GetCallerIdentity&Version=2011-06-15";

    let public = signed_post(server.port, "sts", &keys, body);
    assert_eq!(public.status, 200, "{}", public.body);
    let through_a = signed_post(*a, "sts", &keys, body);
    assert_eq!(through_a.status, 404, "{}", through_a.body);
    assert_eq!(
        through_a.body,
        r#"{"message":"this listener is a VPC endpoint for execute-api only"}"#
    );
    let health = http(*a, "GET", "/_iamgate/health", &[], b"").unwrap();
    assert_eq!(health.status, 200);
}

#[test]
fn a_malformed_vpc_endpoint_stops_the_server_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--vpc-endpoint", "127.0.0.1:0=vpce-123,vpc-0abc1234"])
        .env_remove("IAMGATE_SECRET_KEY")
        .env_remove("IAMGATE_DATA_DIR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'vpce-123' is not a VPC endpoint id"),
        "{stderr}"
    );
}

#[test]
fn the_private_api_example_does_what_its_comment_says() {
    let dir = tempfile::tempdir().unwrap();
    let (allowed, other) = (free_port(), free_port());
    let server = Server::start(&ServerOptions {
        config: Some(example("private-api/world.yaml")),
        data_dir: dir.path().join("data"),
        args: vec![
            "--vpc-endpoint".to_owned(),
            format!("127.0.0.1:{allowed}=vpce-0123456789abcdef0,vpc-0abc1234"),
            "--vpc-endpoint".to_owned(),
            format!("127.0.0.1:{other}=vpce-0fedcba987654321f,vpc-0abc1234"),
        ],
        ..ServerOptions::default()
    });
    let ok = get(allowed, true, "privapi001", "/prod/");
    assert_eq!(answer(&ok), (200, None, r#"{"private":true}"#));
    let health = get(allowed, false, "privapi001", "/prod/health");
    assert_eq!(answer(&health), (200, None, r#"{"ok":true}"#));
    let denied = get(other, true, "privapi001", "/prod/");
    let body = explicit_deny(ALICE_ARN, "privapi001", "GET/");
    assert_eq!(
        answer(&denied),
        (403, Some("AccessDeniedException"), body.as_str())
    );
    assert_eq!(
        answer(&get(server.port, true, "privapi001", "/prod/")),
        FORBIDDEN
    );
}

/// A private custom domain name: reachable only through a VPC endpoint,
/// and its ARN is the request's `execute-api:viaDomainArn`, so the API can
/// insist on being called through it.
#[test]
fn a_private_domain_name_is_served_through_vpc_endpoints_with_via_domain_arn() {
    let dir = tempfile::tempdir().unwrap();
    let world = format!(
        r#"
accounts:
  - id: "111111111111"
    users:
      - name: alice
        access_keys: [{{ id: {}, secret: "{}" }}]
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}]}}'
apis:
  - id: privdomain
    type: REST
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - {{ Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }}
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
          Condition: {{ StringNotLike: {{ "execute-api:viaDomainArn": "arn:aws:execute-api:us-east-1:111111111111:/domainnames/private.example.internal+*" }} }}
    methods:
      - {{ path: /, method: GET, authorization: AWS_IAM, integration: {{ type: MOCK, status: 200, body: '{{"via":"domain"}}' }} }}
domain_names:
  - name: private.example.internal
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    mappings:
      - {{ base_path: "", api: privdomain, stage: prod }}
"#,
        ALICE.0, ALICE.1
    );
    std::fs::write(dir.path().join("world.yaml"), world).unwrap();
    let endpoint = free_port();
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        args: vec![
            "--vpc-endpoint".to_owned(),
            format!("127.0.0.1:{endpoint}={VPCE_A},{VPC}"),
        ],
        ..ServerOptions::default()
    });
    let alice = Keys::new(ALICE.0, ALICE.1);
    let through = |port: u16, host: &str, target: &str| {
        let headers = sign_execute_api(&alice, "GET", host, target, &[]);
        http(port, "GET", target, &headers, b"").unwrap()
    };
    let domain = "private.example.internal";
    let reply = through(endpoint, domain, "/");
    assert_eq!(answer(&reply), (200, None, r#"{"via":"domain"}"#));
    // The API's own name, through the same endpoint: no viaDomainArn.
    let reply = through(
        endpoint,
        "privdomain.execute-api.us-east-1.amazonaws.com",
        "/prod/",
    );
    assert_eq!(
        answer(&reply),
        (
            403,
            Some("AccessDeniedException"),
            explicit_deny("arn:aws:iam::111111111111:user/alice", "privdomain", "GET/").as_str()
        )
    );
    // The domain outside any VPC endpoint.
    let reply = through(server.port, domain, "/");
    assert_eq!(answer(&reply), FORBIDDEN);
}
