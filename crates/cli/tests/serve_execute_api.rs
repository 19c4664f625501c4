#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The seeds' APIs served by `iamgate serve` and called by a real signing
//! client, curl `--aws-sigv4`: the REST API of seed 003 with its three users
//! and its resource policy, and the HTTP API of seeds 000/001 reached
//! across accounts only through AssumeRole.

mod support;

use std::process::Command;

use support::{Keys, Server, ServerOptions, example, signed_post};

/// curl, if it can sign SigV4 (7.75 and later).
fn curl() -> Option<&'static str> {
    let output = Command::new("curl")
        .arg("--help")
        .arg("all")
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .contains("--aws-sigv4")
        .then_some("curl")
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

/// `GET http://{host}{path}` sent to the server, signed by curl when `keys` are given.
fn get(curl: &str, server: &Server, host: &str, path: &str, keys: Option<&Keys>) -> Reply {
    let mut command = Command::new(curl);
    command
        .args(["-s", "-i", "--connect-to"])
        .arg(format!("{host}:80:127.0.0.1:{}", server.port));
    if let Some(keys) = keys {
        command
            .args(["--aws-sigv4", "aws:amz:us-east-1:execute-api", "--user"])
            .arg(format!("{}:{}", keys.id, keys.secret));
        if let Some(token) = &keys.token {
            command
                .arg("-H")
                .arg(format!("x-amz-security-token: {token}"));
        }
    }
    let output = command
        .arg(format!("http://{host}{path}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

fn start(world: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(example(world)),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

const REST_HOST: &str = "apiid.execute-api.us-east-1.amazonaws.com";

#[test]
fn seed_003_rest_api_answers_each_user_as_the_article_reports() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let (server, _dir) = start("rest-cross-account/world.yaml");

    let other_account = Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    );
    let reply = get(curl, &server, REST_HOST, "/prod/", Some(&other_account));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        r#"{"statusCode": 200, "message": "Hello from API Gateway!"}"#
    );

    let same_account = Keys::new(
        "AKIAEXAMPLENONVALID1",
        "exampleApiExeNonvalidSecretKey0000000001",
    );
    assert_eq!(
        get(curl, &server, REST_HOST, "/prod/", Some(&same_account)).status,
        200
    );

    let no_policy = Keys::new(
        "AKIAEXAMPLENOTEXE001",
        "exampleApiNotExeSecretAccessKey000000001",
    );
    let reply = get(curl, &server, REST_HOST, "/prod/", Some(&no_policy));
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .headers
            .contains("x-amzn-errortype: accessdeniedexception"),
        "{}",
        reply.headers
    );
    assert_eq!(
        reply.body,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no identity-based policy allows the execute-api:Invoke action"}"#
    );
}

/// The article's last step: a Deny with `NotPrincipal` naming the other
/// account's user alone, so that only that user gets in.
#[test]
fn seed_003_not_principal_deny_leaves_only_the_named_user() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("rest-cross-account/world.yaml")).unwrap();
    let allow_end = "          Resource: \"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/\"\n    methods:";
    assert!(text.contains(allow_end));
    let with_deny = text.replace(
        allow_end,
        "          Resource: \"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/\"
        - Effect: Deny
          NotPrincipal: { AWS: \"arn:aws:iam::098765432109:user/api-exe-valid\" }
          Action: execute-api:Invoke
          Resource: \"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/\"
    methods:",
    );
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, with_deny).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let valid = Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    );
    assert_eq!(
        get(curl, &server, REST_HOST, "/prod/", Some(&valid)).status,
        200
    );
    let same_account = Keys::new(
        "AKIAEXAMPLENONVALID1",
        "exampleApiExeNonvalidSecretKey0000000001",
    );
    let reply = get(curl, &server, REST_HOST, "/prod/", Some(&same_account));
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/api-exe-nonvalid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ with an explicit deny in a resource-based policy"}"#
    );
}

#[test]
fn a_custom_domain_serves_the_mapped_stage_under_its_base_path() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let (server, _dir) = start("rest-cross-account/world.yaml");
    let other_account = Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    );
    let reply = get(
        curl,
        &server,
        "api.example.com",
        "/hello/",
        Some(&other_account),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        r#"{"statusCode": 200, "message": "Hello from API Gateway!"}"#
    );
    // Authorized against the API's own ARN, as if called directly.
    let no_policy = Keys::new(
        "AKIAEXAMPLENOTEXE001",
        "exampleApiNotExeSecretAccessKey000000001",
    );
    let reply = get(
        curl,
        &server,
        "api.example.com",
        "/hello/",
        Some(&no_policy),
    );
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .body
            .contains("on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ "),
        "{}",
        reply.body
    );
    let reply = get(
        curl,
        &server,
        "api.example.com",
        "/elsewhere",
        Some(&other_account),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
}

#[test]
fn rest_api_refuses_unsigned_tampered_and_unrouted_requests_with_aws_errors() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let (server, _dir) = start("rest-cross-account/world.yaml");
    let reply = get(curl, &server, REST_HOST, "/prod/", None);
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    assert!(
        reply
            .headers
            .contains("x-amzn-errortype: missingauthenticationtokenexception")
    );

    let wrong_secret = Keys::new("AKIAEXAMPLEVALID0001", "not-the-secret");
    let reply = get(curl, &server, REST_HOST, "/prod/", Some(&wrong_secret));
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .headers
            .contains("x-amzn-errortype: invalidsignatureexception"),
        "{}",
        reply.headers
    );
    assert!(
        reply
            .body
            .starts_with(r#"{"message":"The request signature we calculated does not match"#)
    );

    let valid = Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    );
    let reply = get(curl, &server, REST_HOST, "/prod/nowhere", Some(&valid));
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    let reply = get(
        curl,
        &server,
        "unknown0id.execute-api.us-east-1.amazonaws.com",
        "/prod/",
        Some(&valid),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
}

const HTTP_HOST: &str = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

#[test]
fn seeds_000_001_http_api_is_reached_across_accounts_only_through_assume_role() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let (server, _dir) = start("http-api-cross-account/world.yaml");
    let user_b = Keys::new(
        "AKIAEXAMPLEUSERU0001",
        "exampleUserUSecretAccessKey00000000000001",
    );
    let reply = get(curl, &server, HTTP_HOST, "/pets", Some(&user_b));
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    assert!(!reply.headers.contains("x-amzn-errortype"));

    let assumed = signed_post(
        server.port,
        "sts",
        &user_b,
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FInvoker&RoleSessionName=role_session",
    );
    assert_eq!(assumed.status, 200, "{}", assumed.body);
    let session = Keys {
        id: assumed.xml("AccessKeyId").unwrap(),
        secret: assumed.xml("SecretAccessKey").unwrap(),
        token: assumed.xml("SessionToken"),
    };
    let reply = get(curl, &server, HTTP_HOST, "/pets", Some(&session));
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, r#"{"message":"hello from account A"}"#)
    );
    assert!(reply.headers.contains("apigw-requestid"));

    let reply = get(curl, &server, HTTP_HOST, "/pets", None);
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
}

/// `examples/openapi-sam`: the world file imports `openapi.yaml` from its
/// own directory, whatever the server's working directory is.
#[test]
fn openapi_sam_example_is_imported_relative_to_the_world_file() {
    let (server, _dir) = start("openapi-sam/world.yaml");
    let health = support::http(
        server.port,
        "GET",
        "/restapis/s4m0p3n4p1/Prod/_user_request_/health",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, r#"{"status":"ok"}"#)
    );
    let hello = support::http(
        server.port,
        "GET",
        "/restapis/s4m0p3n4p1/Prod/_user_request_/hello",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    // Signed by the developer, the request passes authorization and reaches
    // the Lambda endpoint (not running here, so not a 403).
    if let Some(curl) = curl() {
        let developer = Keys::new(
            "AKIAEXAMPLESAMDEV001",
            "exampleSamDeveloperSecretKey00000000001",
        );
        let reply = get(
            curl,
            &server,
            "s4m0p3n4p1.execute-api.us-east-1.amazonaws.com",
            "/Prod/hello",
            Some(&developer),
        );
        assert_ne!(reply.status, 403, "{}", reply.body);
    }
}

/// The Lambda Invoke API answering each invocation with the caller ARN
/// and path the event carried, as a payload-1.0 proxy result; the request
/// line of each invocation is sent to the receiver.
fn start_lambda_api() -> (u16, std::sync::mpsc::Receiver<String>) {
    let (seen, received) = std::sync::mpsc::channel();
    let seen = std::sync::Mutex::new(seen);
    let port = support::start_lambda_api(move |function, event| {
        seen.lock()
            .unwrap()
            .send(format!(
                "POST /2015-03-31/functions/{function}/invocations HTTP/1.1"
            ))
            .unwrap();
        let answer = serde_json::json!({
            "statusCode": 200,
            "headers": {"content-type": "text/plain"},
            "body": format!(
                "{} {}",
                event["requestContext"]["identity"]["userArn"].as_str().unwrap_or("anonymous"),
                event["path"].as_str().unwrap_or("")
            ),
        });
        (200, answer.to_string(), false)
    });
    (port, received)
}

#[test]
fn a_lambda_proxy_route_invokes_the_function_with_the_callers_identity() {
    let Some(curl) = curl() else {
        println!("SKIP: curl with --aws-sigv4 not found");
        return;
    };
    let (lambda_port, invocations) = start_lambda_api();
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(
        &world,
        format!(
            r#"
accounts:
  - id: "123456789012"
    users:
      - name: alice
        access_keys: [{{ id: AKIAALICEEXAMPLE0001, secret: "alice-secret-0000000000000000000000000" }}]
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}]}}'
apis:
  - id: l1b2c3d4e5
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    methods:
      - {{ path: "/hello/{{name}}", method: GET, authorization: AWS_IAM, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{lambda_port}", function: hello }} }}
"#
        ),
    )
    .unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let alice = Keys::new(
        "AKIAALICEEXAMPLE0001",
        "alice-secret-0000000000000000000000000",
    );
    let reply = get(
        curl,
        &server,
        "l1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "/prod/hello/world",
        Some(&alice),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        "arn:aws:iam::123456789012:user/alice /hello/world"
    );
    assert_eq!(
        invocations.recv().unwrap(),
        "POST /2015-03-31/functions/hello/invocations HTTP/1.1"
    );
}
