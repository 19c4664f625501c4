//! Shared by the end-to-end tests: the real `iamgate serve` process on a
//! free loopback port (killed when its guard drops), a minimal HTTP/1.1
//! client, SigV4 signing with `aws-sigv4`, the AWS CLI and the Rust SDK,
//! `iamgate explain`, loopback stand-ins for backends and the Lambda
//! Invoke API; test certificates and a TLS client in [`pki`].

#![allow(dead_code)]

pub mod pki;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

pub const REGION: &str = "us-east-1";

/// Access key, secret and (for sessions) token.
#[derive(Clone, Debug)]
pub struct Keys {
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Keys {
    pub fn new(id: &str, secret: &str) -> Self {
        Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
            token: None,
        }
    }

    /// The `Credentials` object of an STS answer parsed from the AWS CLI's JSON.
    pub fn from_cli_json(credentials: &serde_json::Value) -> Self {
        Self {
            id: credentials["AccessKeyId"].as_str().unwrap().to_owned(),
            secret: credentials["SecretAccessKey"].as_str().unwrap().to_owned(),
            token: Some(credentials["SessionToken"].as_str().unwrap().to_owned()),
        }
    }
}

/// A port that was free a moment ago (the CLI cannot listen on port 0).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// How to start a server.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    pub config: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub store: Option<String>,
    pub env: Vec<(String, String)>,
    /// More `serve` arguments (`--log-format json`, `--trusted-proxy …`).
    pub args: Vec<String>,
    /// A command that runs the binary (`prlimit --nofile=256:256`); it
    /// must exec it, so that the process is the server.
    pub wrapper: Option<Vec<String>>,
}

/// A running `iamgate serve`; dropping it kills the process.
pub struct Server {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    /// Starts the binary and waits until `/_iamgate/ready` answers 200.
    pub fn start(options: &ServerOptions) -> Server {
        let mut last_error = String::new();
        std::fs::create_dir_all(&options.data_dir).unwrap();
        // A port picked this way can be taken by someone else before the
        // server binds it: try a few.
        for attempt in 0..3 {
            let port = free_port();
            let log = options
                .data_dir
                .join(format!("server-{port}-{attempt}.log"));
            let mut command = match options.wrapper.as_deref() {
                Some([program, args @ ..]) => {
                    let mut command = Command::new(program);
                    command.args(args).arg(env!("CARGO_BIN_EXE_iamgate"));
                    command
                }
                _ => Command::new(env!("CARGO_BIN_EXE_iamgate")),
            };
            command
                .arg("serve")
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data-dir")
                .arg(&options.data_dir)
                .env_remove("IAMGATE_SECRET_KEY")
                .env_remove("IAMGATE_DATA_DIR")
                .env(
                    "IAMGATE_LOG",
                    std::env::var("TEST_SERVER_LOG").unwrap_or_else(|_| "info".into()),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap());
            if let Some(config) = &options.config {
                command.arg("--config").arg(config);
            }
            if let Some(store) = &options.store {
                command.arg("--store").arg(store);
            }
            for (name, value) in &options.env {
                command.env(name, value);
            }
            command.args(&options.args);
            let child = command.spawn().unwrap();
            let mut server = Server { child, port, log };
            let tls = options.args.iter().any(|arg| arg == "--tls-cert");
            match server.wait_ready(Duration::from_secs(60), tls) {
                Ok(()) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("iamgate serve did not become ready: {last_error}");
    }

    /// Ready when `/_iamgate/ready` answers 200; over TLS (whose
    /// certificate only the test knows), when the port accepts: the
    /// server listens only once everything else is up.
    fn wait_ready(&mut self, limit: Duration, tls: bool) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("the server exited ({status}):\n{}", self.logs()));
            }
            if tls && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(response) = http(self.port, "GET", "/_iamgate/ready", &[], b"")
                && response.status == 200
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("not ready after {limit:?}:\n{}", self.logs()))
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (`HUP`, `TERM`) to the server.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits until the logs contain `text` `count` times; the logs.
    pub fn wait_for_log(&self, text: &str, count: usize, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let logs = self.logs();
            if logs.matches(text).count() >= count {
                return logs;
            }
            assert!(
                started.elapsed() < limit,
                "no {count}× '{text}' in the logs after {limit:?}:\n{logs}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (graceful), then SIGKILL if it lingers; returns the logs.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.logs()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response as read off the wire.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The text of `<tag>…</tag>`, first occurrence, unescaped.
    pub fn xml(&self, tag: &str) -> Option<String> {
        xml_text(&self.body, tag).map(|text| {
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
    }
}

pub fn xml_text<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&close)?;
    Some(&body[start..end])
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub fn http(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    // A server may answer (413) before reading the whole body: keep writing
    // on another thread and read the answer here.
    let writer = {
        let mut stream = stream.try_clone()?;
        let body = body.to_vec();
        std::thread::spawn(move || {
            let _ = stream.write_all(&body);
        })
    };
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    let _ = writer.join();
    if raw.is_empty() {
        read?;
    }
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = String::from_utf8_lossy(&raw[split + 4..]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Signs a Query request for `service` now with `aws-sigv4`, as the SDKs
/// do, and returns the headers to send (host and content type included).
pub fn sign_query(
    port: u16,
    service: &str,
    keys: &Keys,
    target: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(
        keys.id.clone(),
        keys.secret.clone(),
        keys.token.clone(),
        None,
        "e2e",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let host = format!("127.0.0.1:{port}");
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let base = [("host", host.as_str()), ("content-type", content_type)];
    let request = SignableRequest::new(
        "POST",
        format!("http://{host}{target}"),
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    headers.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    headers
}

/// Signs an execute-api request (`host` is the API's host, sent as is)
/// now with `aws-sigv4`; returns the headers to send, `extra` included
/// (and signed).
pub fn sign_execute_api(
    keys: &Keys,
    method: &str,
    host: &str,
    target: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    sign_execute_api_with(keys, method, host, target, extra, REGION)
}

/// [`sign_execute_api`] for an API in `region`.
#[allow(dead_code)]
pub fn sign_execute_api_in(
    keys: &Keys,
    method: &str,
    host: &str,
    target: &str,
    region: &str,
) -> Vec<(String, String)> {
    sign_execute_api_with(keys, method, host, target, &[], region)
}

fn sign_execute_api_with(
    keys: &Keys,
    method: &str,
    host: &str,
    target: &str,
    extra: &[(&str, &str)],
    region: &str,
) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(
        keys.id.clone(),
        keys.secret.clone(),
        keys.token.clone(),
        None,
        "e2e",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut base = vec![("host", host)];
    base.extend_from_slice(extra);
    let request = SignableRequest::new(
        method,
        format!("http://{host}{target}"),
        base.iter().copied(),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    headers.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    headers
}

/// The events of `target` in a `--log-format json` log, parsed.
pub fn json_log_events(logs: &str, target: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == target)
        .collect()
}

/// A signed `POST /` Query request with `body`.
pub fn signed_post(port: u16, service: &str, keys: &Keys, body: &str) -> HttpResponse {
    let headers = sign_query(port, service, keys, "/", body.as_bytes());
    http(port, "POST", "/", &headers, body.as_bytes()).unwrap()
}

/// The AWS CLI, when there is one: `IAMGATE_TEST_AWS_CLI` or `aws` on PATH.
pub struct AwsCli {
    exe: PathBuf,
    home: tempfile::TempDir,
    endpoint: String,
}

/// What one CLI run printed.
#[derive(Debug)]
pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "the AWS CLI failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap()
    }

    /// Asserts a failure whose stderr names `code` and contains `text`.
    pub fn assert_error(&self, code: &str, text: &str) {
        assert_ne!(
            self.code, 0,
            "expected {code}, got success: {}",
            self.stdout
        );
        assert!(
            self.stderr.contains(&format!("({code})")) && self.stderr.contains(text),
            "expected ({code}) … {text}, got: {}",
            self.stderr
        );
    }
}

/// The Python beside the AWS CLI (it has botocore), else `python3`.
pub fn python_with_botocore() -> PathBuf {
    std::env::var_os("IAMGATE_TEST_AWS_CLI")
        .map(PathBuf::from)
        .and_then(|cli| Some(cli.parent()?.join("python3")))
        .filter(|python| python.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

impl AwsCli {
    /// `None` after printing the SKIP line when no CLI is installed.
    pub fn find(endpoint: &str) -> Option<AwsCli> {
        let exe = match std::env::var_os("IAMGATE_TEST_AWS_CLI") {
            Some(path) => PathBuf::from(path),
            None => {
                let path = std::env::var_os("PATH").unwrap_or_default();
                match std::env::split_paths(&path)
                    .map(|dir| dir.join("aws"))
                    .find(|candidate| candidate.is_file())
                {
                    Some(exe) => exe,
                    None => {
                        eprintln!("SKIP: AWS CLI not found (set IAMGATE_TEST_AWS_CLI)");
                        return None;
                    }
                }
            }
        };
        assert!(
            exe.is_file(),
            "IAMGATE_TEST_AWS_CLI={} is not a file",
            exe.display()
        );
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        std::fs::write(home.path().join(".aws/config"), "[default]\n").unwrap();
        std::fs::write(home.path().join(".aws/credentials"), "").unwrap();
        Some(AwsCli {
            exe,
            home,
            endpoint: endpoint.to_owned(),
        })
    }

    pub fn with_endpoint(&self, endpoint: &str) -> AwsCli {
        AwsCli {
            exe: self.exe.clone(),
            home: tempfile::tempdir().unwrap(),
            endpoint: endpoint.to_owned(),
        }
    }

    /// A MOCK integration for the method `at` names (`--rest-api-id …
    /// --resource-id … --http-method …`) answering 200, with `body` as its
    /// response template when given.
    pub fn put_mock_200(&self, keys: &Keys, at: &[&str], body: Option<&str>) {
        let integration = ["--type", "MOCK", "--request-templates"];
        let request = r#"{"application/json": "{\"statusCode\": 200}"}"#;
        self.run(
            keys,
            &[
                &["apigateway", "put-integration"][..],
                at,
                &integration,
                &[request],
            ]
            .concat(),
        )
        .json();
        self.run(
            keys,
            &[
                &["apigateway", "put-method-response"][..],
                at,
                &["--status-code", "200"],
            ]
            .concat(),
        )
        .json();
        let templates =
            body.map(|body| serde_json::json!({ "application/json": body }).to_string());
        let mut response = vec!["--status-code", "200"];
        if let Some(templates) = &templates {
            response.extend(["--response-templates", templates.as_str()]);
        }
        self.run(
            keys,
            &[
                &["apigateway", "put-integration-response"][..],
                at,
                &response,
            ]
            .concat(),
        )
        .json();
    }

    /// `aws --endpoint-url … --output json ARGS` with `keys` in the environment.
    pub fn run(&self, keys: &Keys, args: &[&str]) -> CliRun {
        let home: &Path = self.home.path();
        let mut command = Command::new(&self.exe);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        command
            .env("HOME", home)
            .env("AWS_CONFIG_FILE", home.join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .arg("--endpoint-url")
            .arg(&self.endpoint)
            .arg("--output")
            .arg("json")
            .args(args)
            .stdin(Stdio::null());
        if let Some(token) = &keys.token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = command.output().unwrap();
        CliRun {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// An SDK configuration for `endpoint` with static `keys`: plain HTTP, no
/// TLS, no retries.
pub async fn sdk_config(endpoint: &str, keys: &Keys) -> aws_config::SdkConfig {
    let credentials = Credentials::new(
        keys.id.clone(),
        keys.secret.clone(),
        keys.token.clone(),
        None,
        "iamgate-e2e",
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

pub async fn sts_client(endpoint: &str, keys: &Keys) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(endpoint, keys).await)
}

/// Keys from an SDK `Credentials` answer.
pub fn keys_from_sdk(credentials: &aws_sdk_sts::types::Credentials) -> Keys {
    Keys {
        id: credentials.access_key_id().to_owned(),
        secret: credentials.secret_access_key().to_owned(),
        token: Some(credentials.session_token().to_owned()),
    }
}

/// The path of a file in the repository's `examples/`.
pub fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path)
}

/// A loopback HTTP backend answering `backend saw <method> <path>`.
pub fn start_backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut raw = Vec::new();
                let mut buffer = [0u8; 4096];
                // The head is enough: the test only sends GETs.
                while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => raw.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&raw).into_owned();
                let line = head.lines().next().unwrap_or_default();
                let mut parts = line.split(' ');
                let method = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                let body = format!("backend saw {method} {path}");
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    port
}

/// A loopback HTTP backend that answers what it received as JSON
/// (`method`, `target`, `contentType`, `body`), with `x-backend: echo`;
/// status 201 for a target under `/created`, else 200.
pub fn start_echo_backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut raw = Vec::new();
                let mut buffer = [0u8; 4096];
                let head_end = loop {
                    if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => raw.extend_from_slice(&buffer[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
                let header = |name: &str| {
                    head.lines().find_map(|line| {
                        let (n, v) = line.split_once(':')?;
                        n.trim()
                            .eq_ignore_ascii_case(name)
                            .then(|| v.trim().to_owned())
                    })
                };
                let length: usize = header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while raw.len() < head_end + length {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => raw.extend_from_slice(&buffer[..n]),
                    }
                }
                let mut parts = head.lines().next().unwrap_or_default().split(' ');
                let method = parts.next().unwrap_or_default();
                let target = parts.next().unwrap_or_default();
                let body = serde_json::json!({
                    "method": method,
                    "target": target,
                    "contentType": header("content-type"),
                    "body": String::from_utf8_lossy(&raw[head_end..head_end + length]),
                })
                .to_string();
                let status = if target.starts_with("/created") {
                    "201 Created"
                } else {
                    "200 OK"
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-backend: echo\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    port
}

/// `iamgate explain ID --json` against `server`, signed with `keys`: the
/// decision record, or the command's error text.
pub fn explain(server: &Server, keys: &Keys, id: &str) -> Result<serde_json::Value, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args([
            "explain",
            id,
            "--json",
            "--endpoint-url",
            &server.endpoint(),
        ])
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// A stand-in for the Lambda Invoke API (what `sam local start-lambda`
/// serves) on loopback: each `POST /2015-03-31/functions/{name}/invocations`
/// is answered by `answer(name, event)` with a status and a body; a
/// `true` third member adds `X-Amz-Function-Error: Unhandled`.
pub fn start_lambda_api(
    answer: impl Fn(&str, &serde_json::Value) -> (u16, String, bool) + Send + Sync + 'static,
) -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let path = request_line.split(' ').nth(1).unwrap_or_default();
                let function = path
                    .strip_prefix("/2015-03-31/functions/")
                    .and_then(|rest| rest.strip_suffix("/invocations"))
                    .unwrap_or_default();
                let (status, reply, failed) = answer(function, &event);
                let error = if failed {
                    "x-amz-function-error: Unhandled\r\n"
                } else {
                    ""
                };
                let reply = format!(
                    "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\n{error}content-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    port
}
