#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The world file applied again under a running server: on SIGHUP, and
//! with `--watch` when its text changes. The next request is decided by
//! the new file; a file that does not validate changes nothing and is
//! logged with its line and column; requests in flight meanwhile are all
//! answered.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::{Keys, Server, ServerOptions, http, sign_execute_api};

const HOST: &str = "reload0001.execute-api.us-east-1.amazonaws.com";

/// An `AWS_IAM` MOCK API and a user whose identity policy allows the
/// route `resource` names.
fn world(resource: &str) -> String {
    format!(
        r#"
accounts:
  - id: "111122223333"
    users:
      - name: alice
        access_keys: [{{ id: AKIARELOADALICE00001, secret: "reload-alice-secret-00000000000000000001" }}]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: execute-api:Invoke
                Resource: "arn:aws:execute-api:us-east-1:111122223333:reload0001/prod/GET/{resource}"
apis:
  - id: reload0001
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    methods:
      - {{ path: /, method: GET, authorization: AWS_IAM,
          integration: {{ type: MOCK, status: 200, body: 'in' }} }}
"#
    )
}

/// The first world with a policy whose `Effect` AWS refuses.
fn broken_world() -> String {
    world("").replace("Effect: Allow", "Effect: Permit")
}

/// Whether `text` has `{prefix}{line}:{column}:` somewhere.
fn has_line_and_column(text: &str, prefix: &str) -> bool {
    text.match_indices(prefix).any(|(at, _)| {
        let rest = &text[at + prefix.len()..];
        let mut parts = rest.splitn(3, ':');
        let numeric = |part: Option<&str>| {
            part.is_some_and(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        };
        numeric(parts.next()) && numeric(parts.next()) && parts.next().is_some()
    })
}

fn alice() -> Keys {
    Keys::new(
        "AKIARELOADALICE00001",
        "reload-alice-secret-00000000000000000001",
    )
}

fn invoke(server: &Server) -> u16 {
    let headers = sign_execute_api(&alice(), "GET", HOST, "/prod/", &[]);
    http(server.port, "GET", "/prod/", &headers, b"")
        .unwrap()
        .status
}

fn start(dir: &Path, args: &[&str]) -> Server {
    std::fs::write(dir.join("world.yaml"), world("")).unwrap();
    Server::start(&ServerOptions {
        config: Some(dir.join("world.yaml")),
        data_dir: dir.join("data"),
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        ..ServerOptions::default()
    })
}

#[test]
fn sighup_applies_a_changed_policy_to_the_next_request_and_a_broken_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    assert_eq!(invoke(&server), 200);

    // Requests keep coming while the world changes: none may fail other
    // than by the policy.
    let stop = Arc::new(AtomicBool::new(false));
    let port = server.port;
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let headers = sign_execute_api(&alice(), "GET", HOST, "/prod/", &[]);
                statuses.push(http(port, "GET", "/prod/", &headers, b"").map(|r| r.status));
            }
            statuses
        })
    };

    let world_file = dir.path().join("world.yaml");
    std::fs::write(&world_file, world("elsewhere")).unwrap();
    server.signal("HUP");
    server.wait_for_log("world file applied", 2, Duration::from_secs(20));
    assert_eq!(
        invoke(&server),
        403,
        "the new policy allows only /elsewhere"
    );

    std::fs::write(&world_file, broken_world()).unwrap();
    server.signal("HUP");
    let logs = server.wait_for_log("the world file was not applied", 1, Duration::from_secs(20));
    assert!(
        has_line_and_column(&logs, "world.yaml:"),
        "the error names its line and column: {logs}"
    );
    assert!(logs.contains("Effect"), "{logs}");
    assert_eq!(invoke(&server), 403, "the broken file changed nothing");

    stop.store(true, Ordering::SeqCst);
    let statuses = load.join().unwrap();
    assert!(!statuses.is_empty());
    for status in &statuses {
        match status {
            Ok(200 | 403) => {}
            other => panic!("a request failed while the world changed: {other:?}"),
        }
    }
}

#[test]
fn watch_applies_the_file_when_its_text_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--watch"]);
    assert_eq!(invoke(&server), 200);
    std::fs::write(dir.path().join("world.yaml"), world("elsewhere")).unwrap();
    server.wait_for_log("world file applied", 2, Duration::from_secs(20));
    assert_eq!(invoke(&server), 403);
}
