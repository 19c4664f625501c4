#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `iamgate invoke` against a running server: signed with credentials found
//! as the AWS CLI finds them (environment, profiles, role chains with an
//! external id, `credential_process`), and a denial explained from the
//! server's decision record.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::pki::Ca;
use support::{Server, ServerOptions};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    users:
      - name: base
        access_keys: [{ id: AKIAINVOKEBASE000001, secret: "invokeBaseSecretKey000000000000000000001" }]
        policies:
          assume: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111111111111:role/invoker"}]}'
      - name: nobody
        access_keys: [{ id: AKIAINVOKENOBODY0001, secret: "invokeNobodySecretKey0000000000000000001" }]
    roles:
      - name: invoker
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/base"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}'
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:apiid/*"}]}'
apis:
  - id: apiid
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - path: /pets
        method: POST
        authorization: AWS_IAM
        integration:
          type: MOCK
          request_templates: { application/json: '{"statusCode": 200}' }
          responses:
            default:
              status: 200
              response_templates:
                application/json: '{"caller": "$context.identity.userArn", "method": "$context.httpMethod"}'
"#;

const URL: &str = "https://apiid.execute-api.us-east-1.amazonaws.com/prod/pets";

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(credentials: &str, config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        Home { dir }
    }

    /// `iamgate invoke ARGS` with this home and only `env` of the AWS_*
    /// variables.
    fn invoke(&self, server: &Server, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.invoke_at(&server.endpoint(), env, args)
    }

    fn invoke_at(&self, endpoint: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_iamgate"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        command
            .env("HOME", self.dir.path())
            .envs(env.iter().copied())
            .arg("invoke")
            .arg("--endpoint-url")
            .arg(endpoint)
            .args(args)
            .output()
            .unwrap()
    }
}

fn start(dir: &Path) -> Server {
    start_with(dir, Vec::new())
}

fn start_with(dir: &Path, args: Vec<String>) -> Server {
    let world = dir.join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.join("data"),
        args,
        ..ServerOptions::default()
    })
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_role_profile_with_an_external_id_signs_as_the_assumed_role() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let home = Home::new(
        "[base]\naws_access_key_id = AKIAINVOKEBASE000001\naws_secret_access_key = invokeBaseSecretKey000000000000000000001\n",
        "[profile deploy]\nrole_arn = arn:aws:iam::111111111111:role/invoker\nsource_profile = base\nexternal_id = xyz\nrole_session_name = cli\n\n[profile wrong-id]\nrole_arn = arn:aws:iam::111111111111:role/invoker\nsource_profile = base\nexternal_id = nope\n",
    );
    let output = home.invoke(
        &server,
        &[],
        &[
            "--profile",
            "deploy",
            "-d",
            r#"{"name": "rex"}"#,
            "-H",
            "content-type: application/json",
            URL,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        r#"{"caller": "arn:aws:sts::111111111111:assumed-role/invoker/cli", "method": "POST"}"#
    );
    // The trust policy's condition is the server's to enforce.
    let refused = home.invoke(&server, &[], &["--profile", "wrong-id", "-d", "{}", URL]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused)
            .contains("profile wrong-id: assuming arn:aws:iam::111111111111:role/invoker: 403"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_denied_call_prints_aws_answer_and_the_servers_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let home = Home::new("", "");
    let output = home.invoke(
        &server,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAINVOKENOBODY0001"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "invokeNobodySecretKey0000000000000000001",
            ),
        ],
        &["-i", "-X", "post", URL],
    );
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.starts_with("HTTP/1.1 403\n"), "{out}");
    assert!(
        out.ends_with(r#"{"Message":"User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:apiid/prod/POST/pets because no identity-based policy allows the execute-api:Invoke action"}"#),
        "{out}"
    );
    let explanation = stderr(&output);
    assert!(
        explanation.contains("decision  implicit_deny"),
        "{explanation}"
    );
    assert!(
        explanation.contains("caller    arn:aws:iam::111111111111:user/nobody"),
        "{explanation}"
    );
    assert!(!explanation.contains("invokeNobodySecret"));
    let quiet = home.invoke(
        &server,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAINVOKENOBODY0001"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "invokeNobodySecretKey0000000000000000001",
            ),
        ],
        &["--no-explain", "-X", "POST", URL],
    );
    assert_eq!(quiet.status.code(), Some(1));
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
}

#[test]
fn a_credential_process_profile_and_missing_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let home = Home::new(
        "",
        "[profile process]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAINVOKENOBODY0001\", \"SecretAccessKey\": \"invokeNobodySecretKey0000000000000000001\"}'\n",
    );
    // nobody may not invoke, but the answer proves who signed.
    let output = home.invoke(
        &server,
        &[],
        &["--profile", "process", "--no-explain", "-X", "POST", URL],
    );
    assert!(
        stdout(&output).contains("user/nobody is not authorized"),
        "{}",
        stdout(&output)
    );
    let none = home.invoke(&server, &[], &[URL]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("no credentials"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn an_https_server_is_called_trusting_the_ca_bundle_and_refused_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("iamgate invoke test CA");
    let (cert, key) = ca
        .server(&["localhost", "127.0.0.1"])
        .write(dir.path(), "server");
    let bundle = ca.write(dir.path(), "ca");
    let server = start_with(
        dir.path(),
        vec![
            "--tls-cert".into(),
            cert.display().to_string(),
            "--tls-key".into(),
            key.display().to_string(),
        ],
    );
    let home = Home::new("", "");
    let endpoint = format!("https://localhost:{}", server.port);
    let nobody = [
        ("AWS_ACCESS_KEY_ID", "AKIAINVOKENOBODY0001"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "invokeNobodySecretKey0000000000000000001",
        ),
    ];
    let mut trusted = nobody.to_vec();
    let bundle = bundle.display().to_string();
    trusted.push(("AWS_CA_BUNDLE", &bundle));
    let output = home.invoke_at(&endpoint, &trusted, &["-X", "POST", URL]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("user/nobody is not authorized"),
        "{}",
        stdout(&output)
    );
    // The explanation is read over the same TLS endpoint.
    assert!(
        stderr(&output).contains("decision  implicit_deny"),
        "{}",
        stderr(&output)
    );
    let untrusted = home.invoke_at(&endpoint, &nobody, &["-X", "POST", URL]);
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(
        stderr(&untrusted).contains("cannot reach"),
        "{}",
        stderr(&untrusted)
    );
}
