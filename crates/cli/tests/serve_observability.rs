#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! What an operator sees of execute-api traffic on a running `iamgate
//! serve`: one access-log event per request (JSON with `--log-format json`,
//! a readable line otherwise), request metrics by API, stage and status
//! with a latency histogram, and `aws:SourceIp` taken from
//! `X-Forwarded-For` only when the peer is a `--trusted-proxy`.

mod support;

use support::{
    HttpResponse, Keys, Server, ServerOptions, http, json_log_events, sign_execute_api, sign_query,
};

const ACCOUNT: &str = "111111111111";
const ALICE: (&str, &str) = (
    "AKIAEXAMPLEALICE0001",
    "aliceSecretAccessKeyExample0000000000001",
);
const BOB: (&str, &str) = (
    "AKIAEXAMPLEBOB000001",
    "bobSecretAccessKeyExample000000000000001",
);

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
          assume:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: "arn:aws:iam::111111111111:role/FromInside"
      - name: bob
        access_keys: [{ id: AKIAEXAMPLEBOB000001, secret: "bobSecretAccessKeyExample000000000000001" }]
    roles:
      - name: FromInside
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::111111111111:root" }
              Action: sts:AssumeRole
              Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }
apis:
  - id: petsapi001
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - path: "/pets/{petId}"
        method: GET
        authorization: AWS_IAM
        integration: { type: MOCK, status: 200, body: '{"pet":"yes"}' }
      - path: /open
        method: GET
        authorization: NONE
        integration: { type: MOCK, status: 200, body: '{"open":true}' }
  - id: ipapi00001
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
          Resource: "arn:aws:execute-api:us-east-1:111111111111:ipapi00001/*"
          Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } }
    methods:
      - path: /
        method: GET
        authorization: NONE
        integration: { type: MOCK, status: 200, body: '{"inside":true}' }
  - id: httpapi001
    type: HTTP
    account: "111111111111"
    region: us-east-1
    routes:
      - key: "GET /pets/{id}"
        authorization: AWS_IAM
        integration: { type: MOCK, status: 200, body: '{"http":true}' }
"#;

fn start(args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..ServerOptions::default()
    });
    (server, dir)
}

fn host(api: &str) -> String {
    format!("{api}.execute-api.us-east-1.amazonaws.com")
}

/// `method target` on `api`, signed with `key` when given, with `extra`
/// headers (signed too).
fn call(
    server: &Server,
    key: Option<(&str, &str)>,
    method: &str,
    api: &str,
    target: &str,
    extra: &[(&str, &str)],
) -> HttpResponse {
    let host = host(api);
    let headers = match key {
        Some((id, secret)) => {
            sign_execute_api(&Keys::new(id, secret), method, &host, target, extra)
        }
        None => std::iter::once(("host", host.as_str()))
            .chain(extra.iter().copied())
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
    };
    http(server.port, method, target, &headers, b"").unwrap()
}

/// The access events so far, in order.
fn access_events(server: &Server) -> Vec<serde_json::Value> {
    json_log_events(&server.logs(), "iamgate::access")
}

fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[test]
fn json_access_log_has_one_event_per_request_naming_caller_decision_and_deciding_policy_type() {
    let (server, _dir) = start(&["--log-format", "json"]);

    let allowed = call(
        &server,
        Some(ALICE),
        "GET",
        "petsapi001",
        "/prod/pets/42",
        &[],
    );
    assert_eq!(
        (allowed.status, allowed.body.as_str()),
        (200, r#"{"pet":"yes"}"#)
    );
    let denied = call(
        &server,
        Some(BOB),
        "GET",
        "petsapi001",
        "/prod/pets/42",
        &[],
    );
    assert_eq!(denied.status, 403, "{}", denied.body);
    let unsigned = call(
        &server,
        None,
        "GET",
        "petsapi001",
        "/prod/pets/42?secret=TOPSECRETQUERY",
        &[],
    );
    assert_eq!(unsigned.status, 403);
    let http_api = call(&server, Some(BOB), "GET", "httpapi001", "/pets/7", &[]);
    assert_eq!(
        (http_api.status, http_api.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    let nowhere = call(&server, None, "GET", "nosuchapi0", "/prod/", &[]);
    assert_eq!(nowhere.status, 403);

    let events = access_events(&server);
    assert_eq!(
        events.len(),
        5,
        "one access event per request:\n{}",
        server.logs()
    );
    for event in &events {
        assert_eq!(event["level"], "INFO");
        assert_eq!(event["fields"]["message"], "access");
    }

    let fields = &events[0]["fields"];
    assert_eq!(
        fields["request_id"],
        allowed.header("x-amzn-RequestId").unwrap()
    );
    assert_eq!(fields["api_id"], "petsapi001");
    assert_eq!(fields["stage"], "prod");
    assert_eq!(fields["route"], "/pets/{petId}");
    assert_eq!(
        fields["caller"],
        format!("arn:aws:iam::{ACCOUNT}:user/alice")
    );
    assert_eq!(fields["access_key_id"], ALICE.0);
    assert_eq!(fields["decision"], "allow");
    assert_eq!(fields["policy_type"], "identity");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["path"], "/prod/pets/42");
    assert_eq!(fields["source_ip"], "127.0.0.1");
    let latency = fields["latency_ms"].as_f64().unwrap();
    assert!((0.0..10_000.0).contains(&latency), "{latency}");

    let fields = &events[1]["fields"];
    assert_eq!(
        fields["request_id"],
        denied.header("x-amzn-RequestId").unwrap()
    );
    assert_eq!(fields["caller"], format!("arn:aws:iam::{ACCOUNT}:user/bob"));
    assert_eq!(fields["decision"], "implicit_deny");
    assert_eq!(fields["policy_type"], "identity");
    assert_eq!(fields["status"], 403);
    assert_eq!(fields["route"], "/pets/{petId}");

    let fields = &events[2]["fields"];
    assert_eq!(fields["caller"], "anonymous");
    assert_eq!(fields["decision"], "unauthenticated");
    assert!(fields.get("policy_type").is_none(), "{fields}");
    assert_eq!(fields["path"], "/prod/pets/42", "the query is never logged");

    let fields = &events[3]["fields"];
    assert_eq!(
        fields["request_id"],
        http_api.header("apigw-requestid").unwrap()
    );
    assert_eq!(fields["stage"], "$default");
    assert_eq!(fields["route"], "GET /pets/{id}");
    assert_eq!(fields["decision"], "implicit_deny");
    assert_eq!(fields["policy_type"], "identity");

    let fields = &events[4]["fields"];
    assert_eq!(fields["api_id"], "nosuchapi0");
    assert_eq!(fields["decision"], "not_found");
    assert!(fields.get("stage").is_none(), "{fields}");

    let logs = server.logs();
    for secret in [ALICE.1, BOB.1, "TOPSECRETQUERY"] {
        assert!(!logs.contains(secret), "{secret} leaked into the log");
    }
}

#[test]
fn text_access_log_is_one_readable_line_and_metrics_count_by_api_stage_and_status() {
    let (server, _dir) = start(&[]);
    for _ in 0..2 {
        assert_eq!(
            call(
                &server,
                Some(ALICE),
                "GET",
                "petsapi001",
                "/prod/pets/1",
                &[]
            )
            .status,
            200
        );
    }
    assert_eq!(
        call(&server, Some(BOB), "GET", "petsapi001", "/prod/pets/1", &[]).status,
        403
    );
    assert_eq!(
        call(&server, None, "GET", "petsapi001", "/prod/open", &[]).status,
        200
    );
    assert_eq!(
        call(&server, None, "GET", "madeup0001", "/prod/", &[]).status,
        403
    );
    // A Host header trying to forge a field of the text line.
    let forged = http(
        server.port,
        "GET",
        "/prod/",
        &[(
            "host".into(),
            r#"evil" status=200.execute-api.example"#.into(),
        )],
        b"",
    )
    .unwrap();
    assert_eq!(forged.status, 403);

    let logs = server.logs();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("iamgate::access"))
        .collect();
    assert_eq!(lines.len(), 6, "{logs}");
    assert!(
        lines[5].contains(r#"api_id="evil\" status=200""#) && lines[5].contains("status=403"),
        "{}",
        lines[5]
    );
    let bob = lines[2];
    for part in [
        "api_id=\"petsapi001\"",
        "stage=\"prod\"",
        "route=\"/pets/{petId}\"",
        "caller=\"arn:aws:iam::111111111111:user/bob\"",
        "decision=\"implicit_deny\"",
        "policy_type=\"identity\"",
        "status=403",
        "method=GET",
        "path=\"/prod/pets/1\"",
    ] {
        assert!(bob.contains(part), "{part} not in {bob}");
    }

    let metrics = http(server.port, "GET", "/_iamgate/metrics", &[], b"").unwrap();
    assert_eq!(metrics.status, 200);
    let text = &metrics.body;
    let count =
        |series: &str| metric(text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        count(r#"iamgate_execute_api_requests_total{api="petsapi001",stage="prod",status="200"}"#),
        3.0
    );
    assert_eq!(
        count(r#"iamgate_execute_api_requests_total{api="petsapi001",stage="prod",status="403"}"#),
        1.0
    );
    assert_eq!(
        count(r#"iamgate_execute_api_requests_total{api="(unknown)",stage="(none)",status="403"}"#),
        2.0
    );
    assert_eq!(
        count(
            r#"iamgate_execute_api_decisions_total{api="petsapi001",stage="prod",decision="implicit_deny",policy_type="identity"}"#
        ),
        1.0
    );
    assert_eq!(
        count(
            r#"iamgate_execute_api_decisions_total{api="petsapi001",stage="prod",decision="allow",policy_type=""}"#
        ),
        1.0,
        "the NONE method without a resource policy"
    );
    assert_eq!(
        count(
            r#"iamgate_execute_api_request_duration_seconds_count{api="petsapi001",stage="prod"}"#
        ),
        4.0
    );
    assert_eq!(
        count(
            r#"iamgate_execute_api_request_duration_seconds_bucket{api="petsapi001",stage="prod",le="+Inf"}"#
        ),
        4.0
    );
    assert!(text.contains("# TYPE iamgate_execute_api_request_duration_seconds histogram"));
    assert!(
        !text.contains("madeup0001"),
        "made-up API ids are not labels"
    );
}

#[test]
fn source_ip_comes_from_x_forwarded_for_only_through_a_trusted_proxy() {
    let (server, _dir) = start(&["--log-format", "json", "--trusted-proxy", "127.0.0.1/32"]);
    let denied_body = r#"{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:ipapi00001/prod/GET/ because no resource-based policy allows the execute-api:Invoke action"}"#;
    let get = |xff: Option<&str>| {
        let extra: Vec<(&str, &str)> = xff.map(|v| ("x-forwarded-for", v)).into_iter().collect();
        call(&server, None, "GET", "ipapi00001", "/prod/", &extra)
    };
    let inside = get(Some("10.1.2.3"));
    assert_eq!(
        (inside.status, inside.body.as_str()),
        (200, r#"{"inside":true}"#)
    );
    // Trusted hops on the right are skipped.
    assert_eq!(get(Some("10.1.2.3, 127.0.0.1")).status, 200);
    // The client's own (spoofed) entries left of the first untrusted hop
    // do not count.
    let outside = get(Some("10.9.9.9, 192.0.2.1"));
    assert_eq!((outside.status, outside.body.as_str()), (403, denied_body));
    // No header, or a chain that cannot be followed: the peer, 127.0.0.1.
    assert_eq!(get(None).status, 403);
    assert_eq!(get(Some("10.1.2.3, not-an-address")).status, 403);

    let sources: Vec<String> = access_events(&server)
        .iter()
        .map(|e| e["fields"]["source_ip"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        sources,
        [
            "10.1.2.3",
            "10.1.2.3",
            "192.0.2.1",
            "127.0.0.1",
            "127.0.0.1"
        ]
    );
    drop(server);

    // Without --trusted-proxy the header is anybody's word and ignored.
    let (untrusting, _dir) = start(&[]);
    let spoofed = call(
        &untrusting,
        None,
        "GET",
        "ipapi00001",
        "/prod/",
        &[("x-forwarded-for", "10.1.2.3")],
    );
    assert_eq!((spoofed.status, spoofed.body.as_str()), (403, denied_body));
}

#[test]
fn a_trusted_proxy_that_is_not_a_network_stops_the_server_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args([
            "serve",
            "--trusted-proxy",
            "proxy.internal",
            "--listen",
            "127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not an IP network"), "{stderr}");
}

/// `AssumeRole` of `FromInside` (trusted only from 10.0.0.0/8) by alice,
/// with `X-Forwarded-For` when given; the status.
fn assume_from_inside(server: &Server, forwarded_for: Option<&str>) -> u16 {
    let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FFromInside&RoleSessionName=inside";
    let mut headers = sign_query(
        server.port,
        "sts",
        &Keys::new(ALICE.0, ALICE.1),
        "/",
        body.as_bytes(),
    );
    if let Some(value) = forwarded_for {
        headers.push(("x-forwarded-for".into(), value.into()));
    }
    let reply = http(server.port, "POST", "/", &headers, body.as_bytes()).unwrap();
    if reply.status != 200 {
        assert!(reply.body.contains("AccessDenied"), "{}", reply.body);
    }
    reply.status
}

#[test]
fn sts_sees_the_same_source_ip_as_the_data_plane() {
    let (trusting, _dir) = start(&["--trusted-proxy", "127.0.0.0/8"]);
    assert_eq!(assume_from_inside(&trusting, Some("10.4.4.4")), 200);
    assert_eq!(assume_from_inside(&trusting, None), 403);
    drop(trusting);
    let (untrusting, _dir) = start(&[]);
    assert_eq!(assume_from_inside(&untrusting, Some("10.4.4.4")), 403);
}
