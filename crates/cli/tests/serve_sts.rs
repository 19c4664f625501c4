#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `iamgate serve` end to end: the real binary on a loopback port, called by
//! the AWS CLI (skipped, saying so, when none is installed), the AWS SDK for
//! Rust and hand-signed HTTP requests, on the example worlds and a test
//! world with every AssumeRole outcome (STS API Reference, "AssumeRole").
//!
//! Not here: session expiry. The server's clock cannot be moved from
//! outside; expiry is covered at the unit level in `crates/iam` (sealed
//! session tokens) and `crates/sigv4` (`ExpiredToken`).

mod support;

use support::{
    AwsCli, Keys, Server, ServerOptions, example, http, keys_from_sdk, sign_query, signed_post,
    sts_client,
};

use aws_sdk_sts::error::ProvideErrorMetadata;

const A: &str = "111122223333";
const B: &str = "444455556666";

/// The seed world (examples/http-api-cross-account) plus the roles and
/// users every denial needs.
const TEST_WORLD: &str = r#"
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }
    managed_policies:
      - name: InvokeHttpApi
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: execute-api:Invoke
              Resource: "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/*/*"
    roles:
      - name: Invoker
        max_session_duration: 43200
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::444455556666:root" }
              Action: sts:AssumeRole
        managed_policies: [InvokeHttpApi]
      - name: Chained
        max_session_duration: 43200
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::111122223333:role/Invoker" }
              Action: sts:AssumeRole
      - name: Partner
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "444455556666" }
              Action: sts:AssumeRole
              Condition: { StringEquals: { "sts:ExternalId": "partner-7f3a" } }
      - name: Local
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::111122223333:root" }
              Action: sts:AssumeRole
      - name: Untrusted
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::999988887777:root" }
              Action: sts:AssumeRole

  - id: "444455556666"
    root_access_key: { id: AKIAEXAMPLEBROOT0001, secret: "exampleAccountBRootSecretKey0000000000001" }
    users:
      - name: u
        access_keys: [{ id: AKIAEXAMPLEUSERU0001, secret: "exampleUserUSecretAccessKey00000000000001" }]
        policies:
          assume-in-a:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: "arn:aws:iam::111122223333:role/*"
      - name: nobody
        access_keys: [{ id: AKIAEXAMPLENOBODY001, secret: "exampleNobodySecretAccessKey000000000001" }]
"#;

fn root_a() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    )
}

fn root_b() -> Keys {
    Keys::new(
        "AKIAEXAMPLEBROOT0001",
        "exampleAccountBRootSecretKey0000000000001",
    )
}

fn user_u() -> Keys {
    Keys::new(
        "AKIAEXAMPLEUSERU0001",
        "exampleUserUSecretAccessKey00000000000001",
    )
}

fn nobody() -> Keys {
    Keys::new(
        "AKIAEXAMPLENOBODY001",
        "exampleNobodySecretAccessKey000000000001",
    )
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

fn denied_text(caller: &str, role_name: &str) -> String {
    format!(
        "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {}",
        role(role_name)
    )
}

const CHAINING: &str = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";

/// A data directory with the test world in it.
fn test_world_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), TEST_WORLD).unwrap();
    dir
}

fn start_on(dir: &tempfile::TempDir) -> Server {
    Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    })
}

// ---------------------------------------------------------------- AWS CLI

/// Seeds 000/001 with the example world as shipped: the user of account B
/// assumes `Invoker` in account A, and the session is an A caller.
#[test]
fn aws_cli_http_api_cross_account_example() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(example("http-api-cross-account/world.yaml")),
        data_dir: dir.path().to_owned(),
        ..ServerOptions::default()
    });
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };

    let root = aws.run(&root_a(), &["sts", "get-caller-identity"]).json();
    assert_eq!(root["Arn"], format!("arn:aws:iam::{A}:root"));
    assert_eq!(root["UserId"], A);
    assert_eq!(root["Account"], A);

    let me = aws.run(&user_u(), &["sts", "get-caller-identity"]).json();
    assert_eq!(me["Arn"], format!("arn:aws:iam::{B}:user/u"));
    assert!(me["UserId"].as_str().unwrap().starts_with("AIDA"), "{me}");
    assert_eq!(me["Account"], B);

    let assumed = aws
        .run(
            &user_u(),
            &[
                "sts",
                "assume-role",
                "--role-arn",
                &role("Invoker"),
                "--role-session-name",
                "role_session",
            ],
        )
        .json();
    let user = &assumed["AssumedRoleUser"];
    assert_eq!(
        user["Arn"],
        format!("arn:aws:sts::{A}:assumed-role/Invoker/role_session")
    );
    let role_id = user["AssumedRoleId"].as_str().unwrap();
    assert!(
        role_id.starts_with("AROA") && role_id.ends_with(":role_session"),
        "{role_id}"
    );
    let credentials = &assumed["Credentials"];
    assert!(
        credentials["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    // ISO 8601 UTC: v1 prints it as sent (`…Z`), v2 as parsed (`…+00:00`).
    let expiration = credentials["Expiration"].as_str().unwrap();
    assert!(
        expiration.ends_with('Z') || expiration.ends_with("+00:00"),
        "{expiration}"
    );

    let session = Keys::from_cli_json(credentials);
    let who = aws.run(&session, &["sts", "get-caller-identity"]).json();
    assert_eq!(who["Arn"], user["Arn"]);
    assert_eq!(who["UserId"], role_id);
    assert_eq!(who["Account"], A);
}

/// Seed 003's world: each of the three users is who the article says.
#[test]
fn aws_cli_rest_cross_account_example() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(example("rest-cross-account/world.yaml")),
        data_dir: dir.path().to_owned(),
        ..ServerOptions::default()
    });
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    for (key, secret, arn) in [
        (
            "AKIAEXAMPLEVALID0001",
            "exampleApiExeValidSecretAccessKey0000001",
            "arn:aws:iam::098765432109:user/api-exe-valid",
        ),
        (
            "AKIAEXAMPLENONVALID1",
            "exampleApiExeNonvalidSecretKey0000000001",
            "arn:aws:iam::123456789012:user/api-exe-nonvalid",
        ),
        (
            "AKIAEXAMPLENOTEXE001",
            "exampleApiNotExeSecretAccessKey000000001",
            "arn:aws:iam::123456789012:user/api-not-exe",
        ),
    ] {
        let who = aws
            .run(&Keys::new(key, secret), &["sts", "get-caller-identity"])
            .json();
        assert_eq!(who["Arn"], arn);
    }
}

/// Every way AssumeRole is refused, and chaining, through the AWS CLI.
#[test]
fn aws_cli_assume_role_denials_and_limits() {
    let dir = test_world_dir();
    let server = start_on(&dir);
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let assume = |keys: &Keys, role_name: &str, extra: &[&str]| {
        let arn = role(role_name);
        let mut args = vec![
            "sts",
            "assume-role",
            "--role-arn",
            &arn,
            "--role-session-name",
            "e2e",
        ];
        args.extend_from_slice(extra);
        aws.run(keys, &args)
    };
    let u_arn = format!("arn:aws:iam::{B}:user/u");

    // The trust policy names another account.
    assume(&user_u(), "Untrusted", &[])
        .assert_error("AccessDenied", &denied_text(&u_arn, "Untrusted"));
    // The trust names account B, but this user of B has no permission of its own.
    assume(&nobody(), "Invoker", &[]).assert_error(
        "AccessDenied",
        &denied_text(&format!("arn:aws:iam::{B}:user/nobody"), "Invoker"),
    );
    // A role that does not exist reads like one the caller may not assume.
    assume(&user_u(), "Nope", &[]).assert_error("AccessDenied", &denied_text(&u_arn, "Nope"));
    // Roots cannot assume roles.
    assume(&root_b(), "Invoker", &[])
        .assert_error("AccessDenied", "Roles may not be assumed by root accounts.");
    // ExternalId: missing and wrong are denied, the right one is allowed.
    assume(&user_u(), "Partner", &[]).assert_error("AccessDenied", &denied_text(&u_arn, "Partner"));
    assume(&user_u(), "Partner", &["--external-id", "partner-0000"])
        .assert_error("AccessDenied", &denied_text(&u_arn, "Partner"));
    let partner = assume(&user_u(), "Partner", &["--external-id", "partner-7f3a"]).json();
    assert_eq!(
        partner["AssumedRoleUser"]["Arn"],
        format!("arn:aws:sts::{A}:assumed-role/Partner/e2e")
    );
    // Model constraints come first, in AWS's words.
    aws.run(
        &user_u(),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role("Invoker"),
            "--role-session-name",
            "bad/name",
        ],
    )
    .assert_error(
        "ValidationError",
        "1 validation error detected: Value 'bad/name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
    assume(
        &user_u(),
        "Partner",
        &[
            "--duration-seconds",
            "7200",
            "--external-id",
            "partner-7f3a",
        ],
    )
    .assert_error(
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );

    // Allowed, and longer than an hour: the role allows 12 hours.
    let invoker = assume(&user_u(), "Invoker", &["--duration-seconds", "7200"]).json();
    let session = Keys::from_cli_json(&invoker["Credentials"]);
    // Chaining: at most an hour, whatever the role allows.
    assume(&session, "Chained", &["--duration-seconds", "7200"])
        .assert_error("ValidationError", CHAINING);
    let chained = assume(&session, "Chained", &["--duration-seconds", "3600"]).json();
    let chained_keys = Keys::from_cli_json(&chained["Credentials"]);
    let who = aws
        .run(&chained_keys, &["sts", "get-caller-identity"])
        .json();
    assert_eq!(
        who["Arn"],
        format!("arn:aws:sts::{A}:assumed-role/Chained/e2e")
    );
    // A GetSessionToken session counts as chaining too.
    let token = aws.run(&user_u(), &["sts", "get-session-token"]).json();
    let user_session = Keys::from_cli_json(&token["Credentials"]);
    assume(&user_session, "Invoker", &["--duration-seconds", "7200"])
        .assert_error("ValidationError", CHAINING);
    let who = aws
        .run(&user_session, &["sts", "get-caller-identity"])
        .json();
    assert_eq!(who["Arn"], u_arn);

    // Credentials that do not check out.
    aws.run(
        &Keys::new("AKIAEXAMPLEUNKNOWN01", "whatever"),
        &["sts", "get-caller-identity"],
    )
    .assert_error(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    );
    aws.run(
        &Keys::new("AKIAEXAMPLEUSERU0001", "not-the-secret"),
        &["sts", "get-caller-identity"],
    )
    .assert_error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    );
    let mut forged = session.clone();
    forged.token = Some(format!("{}x", forged.token.unwrap()));
    let run = aws.run(&forged, &["sts", "get-caller-identity"]);
    run.assert_error(
        "InvalidClientTokenId",
        "The security token included in the request is invalid",
    );
}

/// An end-to-end flow through the CLI's `iam` commands: create a
/// user, give it a key, call as that user, grant AssumeRole, assume a role.
#[test]
fn aws_cli_iam_user_lifecycle_then_assume_role() {
    let dir = test_world_dir();
    let server = start_on(&dir);
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let created = aws
        .run(&root_a(), &["iam", "create-user", "--user-name", "carol"])
        .json();
    assert_eq!(
        created["User"]["Arn"],
        format!("arn:aws:iam::{A}:user/carol")
    );
    let key = aws
        .run(
            &root_a(),
            &["iam", "create-access-key", "--user-name", "carol"],
        )
        .json();
    let carol = Keys::new(
        key["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        key["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
    );
    assert!(carol.id.starts_with("AKIA"), "{key}");
    let who = aws.run(&carol, &["sts", "get-caller-identity"]).json();
    assert_eq!(who["Arn"], format!("arn:aws:iam::{A}:user/carol"));
    assert_eq!(who["UserId"], created["User"]["UserId"]);

    // The trust names the account: carol needs a permission of her own.
    let assume = [
        "sts",
        "assume-role",
        "--role-arn",
        &role("Local"),
        "--role-session-name",
        "carol",
    ];
    aws.run(&carol, &assume).assert_error(
        "AccessDenied",
        &denied_text(&format!("arn:aws:iam::{A}:user/carol"), "Local"),
    );
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{}"}}]}}"#,
        role("Local")
    );
    let put = aws.run(
        &root_a(),
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            "carol",
            "--policy-name",
            "assume-local",
            "--policy-document",
            &policy,
        ],
    );
    assert_eq!(put.code, 0, "{}", put.stderr);
    let assumed = aws.run(&carol, &assume).json();
    assert_eq!(
        assumed["AssumedRoleUser"]["Arn"],
        format!("arn:aws:sts::{A}:assumed-role/Local/carol")
    );
    let users = aws.run(&root_a(), &["iam", "list-users"]).json();
    assert!(
        users["Users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["UserName"] == "carol"),
        "{users}"
    );
    // A user of another account is not visible to, nor creatable by, B's user.
    aws.run(&user_u(), &["iam", "create-user", "--user-name", "mallory"])
        .assert_error("AccessDenied", "iam:CreateUser");
}

// ---------------------------------------------------------------- raw HTTP

/// What no SDK sends: broken bodies, unknown actions, missing parameters,
/// oversized and unsigned requests. Each gets AWS's error.
#[test]
fn query_protocol_errors_over_http() {
    let dir = test_world_dir();
    let server = start_on(&dir);
    let port = server.port;
    let post = |body: &str| signed_post(port, "sts", &user_u(), body);

    let response = post("Action=GetCallerIdentity&Version=2011-06-15");
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("text/xml"));
    assert!(response.header("x-amzn-requestid").is_some());
    assert_eq!(
        response.xml("Arn").as_deref(),
        Some(format!("arn:aws:iam::{B}:user/u").as_str())
    );

    let response = post("Action=GetCallerIdentity&Version=2011-06-15&Bad=%ZZ");
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("InvalidQueryParameter")
    );
    assert_eq!(response.xml("Type").as_deref(), Some("Sender"));

    let response = post("Action=Frobnicate&Version=2011-06-15");
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.xml("Code").as_deref(), Some("InvalidAction"));
    assert_eq!(
        response.xml("Message").as_deref(),
        Some("Could not find operation Frobnicate for version 2011-06-15")
    );

    let response = post("Action=GetCallerIdentity&Version=2010-05-08");
    assert_eq!(response.xml("Code").as_deref(), Some("InvalidAction"));

    let response = post("Version=2011-06-15");
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.xml("Code").as_deref(), Some("MissingAction"));
    assert_eq!(response.xml("Message").as_deref(), Some("Missing Action"));

    let response = post("Action=AssumeRole&Version=2011-06-15");
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.xml("Code").as_deref(), Some("ValidationError"));
    assert_eq!(
        response.xml("Message").as_deref(),
        Some(
            "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"
        )
    );

    let response = post(&format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=x&DurationSeconds=60",
        role("Invoker").replace(':', "%3A").replace('/', "%2F")
    ));
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(
        response.xml("Message").as_deref(),
        Some(
            "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        )
    );

    // No signature at all.
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let headers = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let response = http(port, "POST", "/", &headers, body).unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("MissingAuthenticationToken")
    );

    // A body changed after signing.
    let mut headers = sign_query(port, "sts", &user_u(), "/", body);
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
    let response = http(
        port,
        "POST",
        "/",
        &headers,
        b"Action=GetCallerIdentity&Version=2011-06-16",
    )
    .unwrap();
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );

    // Over the 10 MiB body limit: refused before anything else.
    let huge = vec![b'a'; 10 * 1024 * 1024 + 1];
    let response = http(port, "POST", "/", &headers, &huge).unwrap();
    assert_eq!(response.status, 413, "{}", response.body);

    // The server is still well after all that.
    let response = http(port, "GET", "/_iamgate/health", &[], b"").unwrap();
    assert_eq!(response.status, 200);
    let metrics = http(port, "GET", "/_iamgate/metrics", &[], b"").unwrap();
    assert_eq!(metrics.status, 200);
}

// ---------------------------------------------------------------- restart

/// Restarting on the same data directory with the same world file changes
/// nothing, and a session issued before the restart still works after it.
#[test]
fn restart_changes_nothing_and_sessions_survive() {
    let dir = test_world_dir();
    let first = start_on(&dir);
    let response = signed_post(
        first.port,
        "sts",
        &user_u(),
        &format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=before-restart",
            role("Invoker")
        ),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let session = Keys {
        id: response.xml("AccessKeyId").unwrap(),
        secret: response.xml("SecretAccessKey").unwrap(),
        token: Some(response.xml("SessionToken").unwrap()),
    };
    let user_id = |server: &Server, keys: &Keys| {
        let response = signed_post(
            server.port,
            "sts",
            keys,
            "Action=GetCallerIdentity&Version=2011-06-15",
        );
        assert_eq!(response.status, 200, "{}", response.body);
        response.xml("UserId").unwrap()
    };
    let user_before = user_id(&first, &user_u());
    let session_before = user_id(&first, &session);
    let logs = first.stop();
    assert!(logs.contains("world file applied"), "{logs}");
    assert!(!logs.contains("created=0"), "{logs}");

    // The same file again: recognised by its digest, not applied twice.
    let second = start_on(&dir);
    let logs = second.logs();
    assert!(
        logs.contains("world file unchanged since it was applied"),
        "{logs}"
    );
    assert!(!logs.contains("world file applied"), "{logs}");
    assert_eq!(user_id(&second, &user_u()), user_before);
    assert_eq!(user_id(&second, &session), session_before);
    assert!(session_before.starts_with("AROA") && session_before.ends_with(":before-restart"));
}

// ---------------------------------------------------------------- Rust SDK

fn sdk_code<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (
        error.code().unwrap_or_default().to_owned(),
        error.message().unwrap_or_default().to_owned(),
    )
}

/// The same flows through `aws-sdk-sts`: the SDK signs, parses the XML and
/// maps the errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_sts_flows() {
    let dir = test_world_dir();
    let server = start_on(&dir);
    let endpoint = server.endpoint();

    let root = sts_client(&endpoint, &root_a()).await;
    let who = root.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{A}:root").as_str()));
    assert_eq!(who.user_id(), Some(A));
    assert_eq!(who.account(), Some(A));

    let u = sts_client(&endpoint, &user_u()).await;
    let who = u.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{B}:user/u").as_str()));
    assert!(who.user_id().unwrap().starts_with("AIDA"));

    let error = u
        .assume_role()
        .role_arn(role("Untrusted"))
        .role_session_name("sdk")
        .send()
        .await
        .unwrap_err();
    let (code, message) = sdk_code(&error);
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        message,
        format!(
            "{} because no role trust policy allows the sts:AssumeRole action",
            denied_text(&format!("arn:aws:iam::{B}:user/u"), "Untrusted")
        )
    );
    let error = sts_client(&endpoint, &nobody())
        .await
        .assume_role()
        .role_arn(role("Invoker"))
        .role_session_name("sdk")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sdk_code(&error).0, "AccessDenied");
    let error = u
        .assume_role()
        .role_arn(role("Partner"))
        .role_session_name("sdk")
        .external_id("partner-wrong")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sdk_code(&error).0, "AccessDenied");

    let assumed = u
        .assume_role()
        .role_arn(role("Partner"))
        .role_session_name("sdk")
        .external_id("partner-7f3a")
        .send()
        .await
        .unwrap();
    let user = assumed.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{A}:assumed-role/Partner/sdk")
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    let session = keys_from_sdk(assumed.credentials().unwrap());
    assert!(session.id.starts_with("ASIA"));
    let as_role = sts_client(&endpoint, &session).await;
    let who = as_role.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(user.arn()));
    assert_eq!(who.user_id(), Some(user.assumed_role_id()));
    assert_eq!(who.account(), Some(A));

    let invoker = u
        .assume_role()
        .role_arn(role("Invoker"))
        .role_session_name("sdk")
        .send()
        .await
        .unwrap();
    let invoker = sts_client(&endpoint, &keys_from_sdk(invoker.credentials().unwrap())).await;
    let error = invoker
        .assume_role()
        .role_arn(role("Chained"))
        .role_session_name("sdk2")
        .duration_seconds(3601)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        sdk_code(&error),
        ("ValidationError".to_owned(), CHAINING.to_owned())
    );

    let error = sts_client(&endpoint, &Keys::new("AKIAEXAMPLEUNKNOWN01", "x"))
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sdk_code(&error).0, "InvalidClientTokenId");
    let error = sts_client(&endpoint, &Keys::new("AKIAEXAMPLEUSERU0001", "wrong"))
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(sdk_code(&error).0, "SignatureDoesNotMatch");

    let token = u.get_session_token().send().await.unwrap();
    let user_session = sts_client(&endpoint, &keys_from_sdk(token.credentials().unwrap())).await;
    let who = user_session.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{B}:user/u").as_str()));
}

/// Issue 13's IAM class through the AWS CLI: AWS-managed policies beyond
/// the first few attach, page and read back; CreateRole's answer has
/// AWS's members; unparsable and unknown policy ARNs get AWS's errors.
#[test]
fn aws_cli_attaches_reads_and_pages_through_aws_managed_policies() {
    let dir = test_world_dir();
    let server = start_on(&dir);
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let created = aws
        .run(
            &root_a(),
            &[
                "iam",
                "create-role",
                "--role-name",
                "lambda-exec",
                "--assume-role-policy-document",
                &trust,
            ],
        )
        .json();
    let created = created["Role"].as_object().unwrap();
    assert!(!created.contains_key("MaxSessionDuration"), "{created:?}");
    assert!(!created.contains_key("RoleLastUsed"), "{created:?}");
    for name in [
        "AWSLambdaExecute",
        "ReadOnlyAccess",
        "AmazonAPIGatewayInvokeFullAccess",
    ] {
        let arn = format!("arn:aws:iam::aws:policy/{name}");
        let run = aws.run(
            &root_a(),
            &[
                "iam",
                "attach-role-policy",
                "--role-name",
                "lambda-exec",
                "--policy-arn",
                &arn,
            ],
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    }
    let got = aws
        .run(
            &root_a(),
            &["iam", "get-role", "--role-name", "lambda-exec"],
        )
        .json();
    assert_eq!(got["Role"]["MaxSessionDuration"], 3600);

    let policy = aws
        .run(
            &root_a(),
            &[
                "iam",
                "get-policy",
                "--policy-arn",
                "arn:aws:iam::aws:policy/AWSLambdaExecute",
            ],
        )
        .json();
    let version = policy["Policy"]["DefaultVersionId"].as_str().unwrap();
    let document = aws
        .run(
            &root_a(),
            &[
                "iam",
                "get-policy-version",
                "--policy-arn",
                "arn:aws:iam::aws:policy/AWSLambdaExecute",
                "--version-id",
                version,
            ],
        )
        .json();
    let text = document["PolicyVersion"]["Document"].to_string();
    assert!(text.contains("logs:*"), "{text}");

    // The CLI pages through ListPolicies on its own.
    let listed = aws
        .run(&root_a(), &["iam", "list-policies", "--scope", "AWS"])
        .json();
    let policies = listed["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1582);

    aws.run(
        &root_a(),
        &[
            "iam",
            "attach-role-policy",
            "--role-name",
            "lambda-exec",
            "--policy-arn",
            "AWSLambdaExecute-is-not-an-arn",
        ],
    )
    .assert_error("ValidationError", "Invalid ARN:  Could not be parsed!");
    aws.run(
        &root_a(),
        &[
            "iam",
            "attach-role-policy",
            "--role-name",
            "lambda-exec",
            "--policy-arn",
            "arn:aws:iam::aws:policy/AWSLambdaFullAccess",
        ],
    )
    .assert_error(
        "NoSuchEntity",
        "Policy arn:aws:iam::aws:policy/AWSLambdaFullAccess does not exist or is not attachable.",
    );
}
