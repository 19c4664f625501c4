#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `iamgate serve --tls-cert --tls-key` with real clients: curl, the AWS
//! CLI and botocore trusting the test's CA; HTTP/2 through ALPN; a custom
//! domain name's own certificate chosen by SNI; certificate files
//! rotated under a running server; mutual TLS as API Gateway does it. The
//! certificates are made here (rcgen), never committed.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::pki::{Ca, TlsConnection};
use support::{AwsCli, Keys, Server, ServerOptions, python_with_botocore};

const ROOT: (&str, &str) = (
    "AKIATLSROOT000000001",
    "tls-account-root-secret-0000000000000001",
);

/// A REST API behind two custom domain names, each with its own
/// certificate; `mtls.example.com` asks for client certificates.
const WORLD: &str = r#"
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIATLSROOT000000001, secret: "tls-account-root-secret-0000000000000001" }
apis:
  - id: tlsapi0001
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /hello, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: 'hello' } }
      - path: /whoami
        method: GET
        authorization: NONE
        integration:
          type: MOCK
          request_templates: { application/json: '{"statusCode": 200}' }
          responses:
            default:
              status: 200
              response_templates:
                application/json: 'subject=$context.identity.clientCert.subjectDN issuer=$context.identity.clientCert.issuerDN'
domain_names:
  - name: api.example.com
    account: "111122223333"
    region: us-east-1
    certificate: { cert: api.pem, key: api.key }
    mappings: [{ base_path: "", api: tlsapi0001, stage: prod }]
  - name: mtls.example.com
    account: "111122223333"
    region: us-east-1
    certificate: { cert: mtls.pem, key: mtls.key }
    truststore: clients-ca.pem
    mappings: [{ base_path: "", api: tlsapi0001, stage: prod }]
"#;

/// The certificates of one test: the server's (for `localhost`) from one
/// CA, the domain names' from another, client certificates from a third.
struct Pki {
    server_ca: Ca,
    domain_ca: Ca,
    client_ca: Ca,
    dir: tempfile::TempDir,
    server_cert: PathBuf,
    server_key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let server_ca = Ca::new("iamgate test server CA");
        let domain_ca = Ca::new("iamgate test domain CA");
        let client_ca = Ca::new("iamgate test client CA");
        let (server_cert, server_key) = server_ca
            .server(&["localhost", "127.0.0.1"])
            .write(dir.path(), "server");
        domain_ca
            .server(&["api.example.com"])
            .write(dir.path(), "api");
        domain_ca
            .server(&["mtls.example.com"])
            .write(dir.path(), "mtls");
        client_ca.write(dir.path(), "clients-ca");
        server_ca.write(dir.path(), "server-ca");
        domain_ca.write(dir.path(), "domain-ca");
        std::fs::write(dir.path().join("world.yaml"), WORLD).unwrap();
        Pki {
            server_ca,
            domain_ca,
            client_ca,
            dir,
            server_cert,
            server_key,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn start(&self, extra: &[&str]) -> Server {
        let mut args = vec![
            "--tls-cert".to_owned(),
            self.server_cert.display().to_string(),
            "--tls-key".to_owned(),
            self.server_key.display().to_string(),
        ];
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        Server::start(&ServerOptions {
            config: Some(self.path("world.yaml")),
            data_dir: self.path("data"),
            args,
            ..ServerOptions::default()
        })
    }
}

/// What one curl run printed, and its exit code.
struct Curl {
    code: i32,
    stdout: String,
    stderr: String,
}

fn curl(args: &[&str]) -> Curl {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    Curl {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `--resolve` for `host` on the server's port.
fn resolve(server: &Server, host: &str) -> String {
    format!("{host}:{}:127.0.0.1", server.port)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn tls_answers_curl_the_aws_cli_and_botocore_that_trust_its_ca() {
    let pki = Pki::new();
    let server = pki.start(&[]);
    let ca = pki.path("server-ca.pem");
    let url = format!("https://localhost:{}/_iamgate/health", server.port);

    let ok = curl(&["--cacert", path_str(&ca), &url]);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, "ok\n"), "{}", ok.stderr);
    // Another CA's client does not trust it, and cleartext gets no answer.
    let untrusted = curl(&["--cacert", path_str(&pki.path("domain-ca.pem")), &url]);
    assert_eq!(
        untrusted.code, 60,
        "certificate problem: {}",
        untrusted.stderr
    );
    let cleartext = curl(&[&format!("http://127.0.0.1:{}/_iamgate/health", server.port)]);
    assert_ne!(
        cleartext.code, 0,
        "cleartext on a TLS port: {}",
        cleartext.stdout
    );

    let endpoint = format!("https://localhost:{}", server.port);
    let root = Keys::new(ROOT.0, ROOT.1);
    if let Some(cli) = AwsCli::find(&endpoint) {
        let identity = cli
            .run(
                &root,
                &["--ca-bundle", path_str(&ca), "sts", "get-caller-identity"],
            )
            .json();
        assert_eq!(identity["Account"], "111122223333");
        assert_eq!(identity["Arn"], "arn:aws:iam::111122223333:root");
    }

    // botocore, the SDK under boto3 and the AWS CLI, with its own CA bundle.
    let script = r#"
import sys
try:
    import botocore.session
except ImportError:
    print("SKIP")
    sys.exit(0)
client = botocore.session.get_session().create_client(
    "sts", region_name="us-east-1", endpoint_url=sys.argv[1], verify=sys.argv[2],
    aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
print(client.get_caller_identity()["Account"])
"#;
    match Command::new(python_with_botocore())
        .args(["-c", script, &endpoint, path_str(&ca), ROOT.0, ROOT.1])
        .output()
    {
        Ok(output) if String::from_utf8_lossy(&output.stdout).trim() == "SKIP" => {
            eprintln!("SKIP: botocore not installed")
        }
        Ok(output) => assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "111122223333",
            "{}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => eprintln!("SKIP: no python3 ({error})"),
    }
}

#[test]
fn http2_is_negotiated_through_alpn_and_http1_still_served() {
    let pki = Pki::new();
    let server = pki.start(&[]);
    let ca = pki.path("server-ca.pem");
    let url = format!("https://localhost:{}/_iamgate/health", server.port);
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let run = curl(&[
            flag,
            "--cacert",
            path_str(&ca),
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_version} %{http_code}",
            &url,
        ]);
        assert_eq!(
            run.stdout,
            format!("{version} 200"),
            "{flag}: {}",
            run.stderr
        );
    }
}

#[test]
fn sni_picks_the_custom_domain_names_certificate() {
    let pki = Pki::new();
    let server = pki.start(&[]);
    let url = format!("https://api.example.com:{}/hello", server.port);
    let resolved = resolve(&server, "api.example.com");
    let through_domain = curl(&[
        "--resolve",
        &resolved,
        "--cacert",
        path_str(&pki.path("domain-ca.pem")),
        &url,
    ]);
    assert_eq!(
        (through_domain.code, through_domain.stdout.as_str()),
        (0, "hello"),
        "{}",
        through_domain.stderr
    );
    // The server's own certificate is not what api.example.com is served.
    let with_server_ca = curl(&[
        "--resolve",
        &resolved,
        "--cacert",
        path_str(&pki.path("server-ca.pem")),
        &url,
    ]);
    assert_eq!(with_server_ca.code, 60, "{}", with_server_ca.stderr);
    // A name with no certificate of its own gets the server's.
    let other = TlsConnection::open(server.port, "localhost", &[&pki.server_ca]).unwrap();
    let domain = TlsConnection::open(server.port, "api.example.com", &[&pki.domain_ca]).unwrap();
    assert_ne!(other.server_certificate(), domain.server_certificate());
}

#[test]
fn a_rotated_certificate_is_served_to_new_connections_while_open_ones_go_on() {
    let pki = Pki::new();
    let server = pki.start(&["--tls-reload-interval", "200ms"]);
    let mut open = TlsConnection::open(server.port, "localhost", &[&pki.server_ca]).unwrap();
    assert_eq!(open.get("/_iamgate/health").unwrap(), (200, "ok\n".into()));
    let first = open.server_certificate();

    // A broken file is not served: the previous certificate stays, and
    // the log says why without quoting the key.
    std::fs::write(&pki.server_key, "-----BEGIN PRIVATE KEY-----\nnot a key\n").unwrap();
    let logs = server.wait_for_log("TLS certificate not reloaded", 1, Duration::from_secs(10));
    assert!(logs.contains("server.key"), "names the file: {logs}");
    assert!(!logs.contains("not a key"), "never the key's text: {logs}");
    let during = TlsConnection::open(server.port, "localhost", &[&pki.server_ca]).unwrap();
    assert_eq!(during.server_certificate(), first);

    // A new certificate (from another CA) is served from the next handshake on.
    let renewed = pki.domain_ca.server(&["localhost"]);
    renewed.write(pki.dir.path(), "server");
    let started = Instant::now();
    let fresh = loop {
        if let Ok(connection) = TlsConnection::open(server.port, "localhost", &[&pki.domain_ca]) {
            break connection;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new certificate was never served:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(fresh.server_certificate(), renewed.der());
    server.wait_for_log("TLS certificate reloaded", 1, Duration::from_secs(5));

    // The connection opened before the rotation was never dropped.
    assert_eq!(open.get("/_iamgate/health").unwrap(), (200, "ok\n".into()));
    assert_eq!(open.server_certificate(), first);
}

#[test]
fn mutual_tls_refuses_clients_without_a_trusted_certificate_as_aws_does() {
    let pki = Pki::new();
    let server = pki.start(&[]);
    let url = format!("https://mtls.example.com:{}/hello", server.port);
    let resolved = resolve(&server, "mtls.example.com");
    let domain_ca = pki.path("domain-ca.pem");
    let base = ["--resolve", &resolved, "--cacert", path_str(&domain_ca)];

    let without = curl(&[&base[..], &["--include", &url]].concat());
    assert_eq!(
        without.code, 0,
        "the handshake completes: {}",
        without.stderr
    );
    assert!(
        without.stdout.starts_with("HTTP/2 403"),
        "{}",
        without.stdout
    );
    assert!(
        without
            .stdout
            .to_ascii_lowercase()
            .contains("x-amzn-errortype: forbiddenexception"),
        "{}",
        without.stdout
    );
    assert!(
        without.stdout.ends_with(r#"{"message":"Forbidden"}"#),
        "{}",
        without.stdout
    );

    // A certificate from a CA the truststore does not hold is refused the same way.
    let stranger = pki.server_ca.client("stranger", "Elsewhere");
    let (cert, key) = stranger.write(pki.dir.path(), "stranger");
    let untrusted = curl(
        &[
            &base[..],
            &[
                "--cert",
                path_str(&cert),
                "--key",
                path_str(&key),
                "--write-out",
                " %{http_code}",
                &url,
            ],
        ]
        .concat(),
    );
    assert_eq!(
        untrusted.stdout, r#"{"message":"Forbidden"} 403"#,
        "{}",
        untrusted.stderr
    );

    // A trusted one is let through.
    let client = pki.client_ca.client("client-one", "Example");
    let (cert, key) = client.write(pki.dir.path(), "client-one");
    let trusted = curl(
        &[
            &base[..],
            &["--cert", path_str(&cert), "--key", path_str(&key), &url],
        ]
        .concat(),
    );
    assert_eq!(trusted.stdout, "hello", "{}", trusted.stderr);

    let logs = server.logs();
    assert!(logs.contains("no client certificate"), "{logs}");
    assert!(
        logs.contains("Could not find issuer for certificate"),
        "{logs}"
    );
    assert!(logs.contains("mutual_tls_refused"), "access log: {logs}");
}

#[test]
fn mutual_tls_gives_templates_the_client_certificates_fields() {
    let pki = Pki::new();
    let server = pki.start(&[]);
    let client = pki.client_ca.client("client-one", "Example");
    let (cert, key) = client.write(pki.dir.path(), "client-one");
    let run = curl(&[
        "--resolve",
        &resolve(&server, "mtls.example.com"),
        "--cacert",
        path_str(&pki.path("domain-ca.pem")),
        "--cert",
        path_str(&cert),
        "--key",
        path_str(&key),
        &format!("https://mtls.example.com:{}/whoami", server.port),
    ]);
    assert_eq!(
        run.stdout, "subject=CN=client-one,O=Example issuer=CN=iamgate test client CA",
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_key_that_does_not_load_stops_the_start_naming_the_file_only() {
    let pki = Pki::new();
    std::fs::write(
        &pki.server_key,
        "-----BEGIN PRIVATE KEY-----\nsecret-looking text\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(pki.path("data"))
        .arg("--tls-cert")
        .arg(&pki.server_cert)
        .arg("--tls-key")
        .arg(&pki.server_key)
        .env_remove("IAMGATE_SECRET_KEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("TLS:") && stderr.contains("server.key"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-looking text"), "{stderr}");
}
