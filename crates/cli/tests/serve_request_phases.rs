#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The execute-api request's phases on a running `iamgate serve`
//! (`iamgate_gateway::pipeline`): every request, however early it is
//! refused, leaves exactly one access-log record with its decision; and a
//! request the head already refuses is answered before its body is sent.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use support::{
    HttpResponse, Keys, REGION, Server, ServerOptions, free_port, http, json_log_events,
    sdk_config, sign_execute_api,
};

const ROOT: (&str, &str) = (
    "AKIAPHASESROOT000001",
    "phases-account-root-secret-000000000000001",
);
const ALICE: (&str, &str) = (
    "AKIAPHASESALICE00001",
    "phases-alice-secret-00000000000000000001",
);
const VPCE: &str = "vpce-0123456789abcdef0";

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAPHASESROOT000001, secret: "phases-account-root-secret-000000000000001" }
    users:
      - name: alice
        access_keys: [{ id: AKIAPHASESALICE00001, secret: "phases-alice-secret-00000000000000000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - { Effect: Allow, Action: execute-api:Invoke, Resource: "arn:aws:execute-api:us-east-1:111111111111:*/*" }
apis:
  - id: phasesapi1
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /, method: GET, authorization: AWS_IAM,
          integration: { type: MOCK, status: 200, body: '{"iam":true}' } }
      - { path: /, method: POST, authorization: AWS_IAM,
          integration: { type: MOCK, status: 200, body: '{"posted":true}' } }
      - { path: /open, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"open":true}' } }
  - id: phasepriv1
    type: REST
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }
    methods:
      - { path: /, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"private":true}' } }
  - id: phasehttp1
    type: HTTP
    account: "111111111111"
    region: us-east-1
    routes:
      - { key: "GET /pets", authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: '{"http":true}' } }
domain_names:
  - name: api.example.com
    account: "111111111111"
    region: us-east-1
    mappings:
      - { base_path: pets, api: phasesapi1, stage: prod }
  - name: private.example.internal
    account: "111111111111"
    region: us-east-1
    endpoint: PRIVATE
    mappings:
      - { base_path: "", api: phasepriv1, stage: prod }
"#;

fn start(extra: &[&str]) -> (Server, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), WORLD).unwrap();
    let endpoint = free_port();
    let mut args = vec![
        "--log-format".to_owned(),
        "json".to_owned(),
        "--vpc-endpoint".to_owned(),
        format!("127.0.0.1:{endpoint}={VPCE},vpc-0abc1234"),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        args,
        ..ServerOptions::default()
    });
    (server, endpoint, dir)
}

fn host(api: &str) -> String {
    format!("{api}.execute-api.us-east-1.amazonaws.com")
}

fn unsigned(port: u16, host: &str, target: &str) -> HttpResponse {
    http(
        port,
        "GET",
        target,
        &[("host".to_owned(), host.to_owned())],
        b"",
    )
    .unwrap()
}

fn signed(port: u16, keys: (&str, &str), host: &str, target: &str) -> HttpResponse {
    let headers = sign_execute_api(&Keys::new(keys.0, keys.1), "GET", host, target, &[]);
    http(port, "GET", target, &headers, b"").unwrap()
}

/// One request of the table and what it must answer and record.
struct Case {
    name: &'static str,
    response: HttpResponse,
    status: u16,
    error_type: Option<&'static str>,
    decision: &'static str,
    api_id: Option<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_early_refusal_writes_exactly_one_access_log_record_with_its_decision() {
    let (server, endpoint, _dir) = start(&[]);
    let root = Keys::new(ROOT.0, ROOT.1);
    let apigw = aws_sdk_apigateway::Client::new(&sdk_config(&server.endpoint(), &root).await);
    let closed = apigw
        .create_rest_api()
        .name("no-default-endpoint")
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .unwrap();
    let closed_id = closed.id().unwrap().to_owned();
    let port = server.port;
    let before = json_log_events(&server.logs(), "iamgate::access").len();
    assert_eq!(before, 0, "the control plane writes no access record");

    let missing_token = Some("MissingAuthenticationTokenException");
    let forbidden = Some("ForbiddenException");
    let cases = vec![
        Case {
            name: "a custom domain's base path that maps nothing",
            response: unsigned(port, "api.example.com", "/cats/1"),
            status: 403,
            error_type: missing_token,
            decision: "not_found",
            api_id: None,
        },
        Case {
            name: "a private domain name outside a VPC endpoint",
            response: unsigned(port, "private.example.internal", "/"),
            status: 403,
            error_type: forbidden,
            decision: "outside_vpc_endpoint",
            api_id: Some("phasepriv1"),
        },
        Case {
            name: "a private API outside a VPC endpoint",
            response: unsigned(port, &host("phasepriv1"), "/prod/"),
            status: 403,
            error_type: forbidden,
            decision: "outside_vpc_endpoint",
            api_id: Some("phasepriv1"),
        },
        Case {
            name: "a disabled default endpoint",
            response: signed(port, ROOT, &host(&closed_id), "/prod/"),
            status: 403,
            error_type: forbidden,
            decision: "default_endpoint_disabled",
            api_id: None,
        },
        Case {
            name: "an unknown API",
            response: unsigned(port, &host("nosuchapi1"), "/prod/"),
            status: 403,
            error_type: forbidden,
            decision: "not_found",
            api_id: Some("nosuchapi1"),
        },
        Case {
            name: "an unknown stage",
            response: unsigned(port, &host("phasesapi1"), "/nostage/"),
            status: 403,
            error_type: missing_token,
            decision: "not_found",
            api_id: Some("phasesapi1"),
        },
        Case {
            name: "an unrouted REST request",
            response: unsigned(port, &host("phasesapi1"), "/prod/nothing/here"),
            status: 403,
            error_type: missing_token,
            decision: "not_found",
            api_id: Some("phasesapi1"),
        },
        Case {
            name: "an unrouted REST request with an unknown key",
            response: signed(
                port,
                ("AKIAPHASESNOBODY0001", "x"),
                &host("phasesapi1"),
                "/prod/nothing",
            ),
            status: 403,
            error_type: Some("AccessDeniedException"),
            decision: "unauthenticated",
            api_id: Some("phasesapi1"),
        },
        Case {
            name: "an unrouted HTTP API request",
            response: unsigned(port, &host("phasehttp1"), "/cats"),
            status: 404,
            error_type: None,
            decision: "not_found",
            api_id: Some("phasehttp1"),
        },
        Case {
            name: "an AWS_IAM method without a signature",
            response: unsigned(port, &host("phasesapi1"), "/prod/"),
            status: 403,
            error_type: missing_token,
            decision: "unauthenticated",
            api_id: Some("phasesapi1"),
        },
        Case {
            name: "an AWS_IAM route with an unknown key",
            response: signed(
                port,
                ("AKIAPHASESNOBODY0001", "x"),
                &host("phasehttp1"),
                "/pets",
            ),
            status: 403,
            error_type: None,
            decision: "unauthenticated",
            api_id: Some("phasehttp1"),
        },
        Case {
            name: "the private API through its VPC endpoint",
            response: unsigned(endpoint, &host("phasepriv1"), "/prod/"),
            status: 200,
            error_type: None,
            decision: "allow",
            api_id: Some("phasepriv1"),
        },
        Case {
            name: "an allowed caller through a custom domain",
            response: signed(port, ALICE, "api.example.com", "/pets/"),
            status: 200,
            error_type: None,
            decision: "allow",
            api_id: Some("phasesapi1"),
        },
    ];

    let logs = server.logs();
    let events = json_log_events(&logs, "iamgate::access");
    assert_eq!(events.len(), cases.len(), "one record per request:\n{logs}");
    for (case, event) in cases.iter().zip(&events) {
        let name = case.name;
        let response = &case.response;
        assert_eq!(response.status, case.status, "{name}: {}", response.body);
        assert_eq!(
            response.header("x-amzn-ErrorType"),
            case.error_type,
            "{name}: {}",
            response.body
        );
        let fields = &event["fields"];
        assert_eq!(fields["decision"], case.decision, "{name}: {fields}");
        assert_eq!(fields["status"], case.status, "{name}: {fields}");
        let api_id = case
            .api_id
            .map(str::to_owned)
            .or_else(|| (case.decision == "default_endpoint_disabled").then(|| closed_id.clone()));
        assert_eq!(
            fields["api_id"].as_str(),
            api_id.as_deref(),
            "{name}: {fields}"
        );
        let answered_id = response
            .header("x-amzn-RequestId")
            .or_else(|| response.header("apigw-requestid"));
        if let Some(id) = answered_id {
            assert_eq!(fields["request_id"], id, "{name}: the answer's request id");
        }
    }
}

/// Writes `head` only, then reads one answer: its status line and body.
fn answer_to_head_only(port: u16, head: &str) -> (String, String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let sent = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if raw.len() >= end + 4 + length {
                let status = text.lines().next().unwrap_or("").to_owned();
                return (
                    status,
                    text[end + 4..end + 4 + length].to_owned(),
                    sent.elapsed(),
                );
            }
        }
        match stream.read(&mut buffer) {
            Ok(0) => panic!("closed without an answer: {text}"),
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(error) => panic!("no answer to the head alone ({error}): {text}"),
        }
    }
}

fn head_of(target: &str, headers: &[(String, String)], length: usize) -> String {
    let mut head = format!("POST {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    head
}

/// Signs a POST of `body` declaring its hash in `x-amz-content-sha256`.
fn sign_with_declared_hash(
    keys: (&str, &str),
    host: &str,
    target: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(keys.0, keys.1, None, None, "phases").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("execute-api")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let base = [("host", host)];
    let request = SignableRequest::new(
        "POST",
        format!("http://{host}{target}"),
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers = vec![("host".to_owned(), host.to_owned())];
    headers.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    headers
}

#[test]
fn an_unauthenticated_request_with_a_large_body_is_answered_before_the_body_is_sent() {
    // A body timeout far beyond the test's patience: an answer means the
    // server did not wait for the body.
    let (server, _, _dir) = start(&["--body-read-timeout", "60s"]);
    let api = host("phasesapi1");
    let large = 8 * 1024 * 1024;
    let missing = r#"{"message":"Missing Authentication Token"}"#;

    // No signature.
    let head = head_of("/prod/", &[("host".to_owned(), api.clone())], large);
    let (status, body, took) = answer_to_head_only(server.port, &head);
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert_eq!(body, missing);
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // An unknown access key: refused from the head.
    let headers = sign_execute_api(
        &Keys::new("AKIAPHASESNOBODY0001", "x"),
        "POST",
        &api,
        "/prod/",
        &[],
    );
    let (status, body, _) = answer_to_head_only(server.port, &head_of("/prod/", &headers, large));
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert_eq!(
        body,
        r#"{"message":"The security token included in the request is invalid."}"#
    );

    // A signature that does not cover the payload hash it declares: the
    // signature itself is checked before the body.
    let declared = sign_with_declared_hash(ALICE, &api, "/prod/", b"what was signed");
    let mut forged = declared.clone();
    for (name, value) in &mut forged {
        if name.eq_ignore_ascii_case("x-amz-content-sha256") {
            *value = "0".repeat(64);
        }
    }
    let (status, body, _) = answer_to_head_only(server.port, &head_of("/prod/", &forged, large));
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert!(
        body.contains("The request signature we calculated does not match"),
        "{body}"
    );

    // An unrouted request without a signature.
    let head = head_of("/prod/nothing", &[("host".to_owned(), api.clone())], large);
    let (status, body, _) = answer_to_head_only(server.port, &head);
    assert!(status.starts_with("HTTP/1.1 403"), "{status}");
    assert_eq!(body, missing);

    // The same answers when the body is sent whole.
    let whole = http(
        server.port,
        "POST",
        "/prod/",
        &[("host".to_owned(), api.clone())],
        &vec![b'x'; 1024 * 1024],
    )
    .unwrap();
    assert_eq!((whole.status, whole.body.as_str()), (403, missing));

    // The signed body the hash was declared for is let through; another
    // body under the same signature is a signature mismatch.
    let ok = http(server.port, "POST", "/prod/", &declared, b"what was signed").unwrap();
    assert_eq!((ok.status, ok.body.as_str()), (200, r#"{"posted":true}"#));
    let swapped = http(server.port, "POST", "/prod/", &declared, b"something else!").unwrap();
    assert_eq!(swapped.status, 403, "{}", swapped.body);
    assert_eq!(
        swapped.header("x-amzn-ErrorType"),
        Some("InvalidSignatureException")
    );

    let events = json_log_events(&server.logs(), "iamgate::access");
    assert_eq!(events.len(), 7, "{}", server.logs());
}
