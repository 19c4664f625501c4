#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! What a slow, idle or malformed client can hold of a running server:
//! each is closed or answered within its bound, and other clients are
//! served meanwhile.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Server, ServerOptions, http};

fn start(args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&ServerOptions {
        data_dir: dir.path().join("data"),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..ServerOptions::default()
    });
    (server, dir)
}

const SHORT: &[&str] = &[
    "--header-read-timeout",
    "1s",
    "--body-read-timeout",
    "2s",
    "--idle-timeout",
    "2s",
];

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; what it sent, and when.
fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return (seen, Instant::now()),
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
}

fn healthy(server: &Server) -> bool {
    http(server.port, "GET", "/_iamgate/health", &[], b"").is_ok_and(|r| r.status == 200)
}

#[test]
fn a_client_sending_its_headers_slowly_is_closed_while_others_are_served() {
    let (server, _dir) = start(SHORT);
    let mut slow = connect(&server);
    let opened = Instant::now();
    let writer = {
        let mut slow = slow.try_clone().unwrap();
        std::thread::spawn(move || {
            for byte in b"GET /_iamgate/health HTTP/1.1\r\nhost: x\r\n" {
                if slow.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    assert!(healthy(&server), "another client is served meanwhile");
    let (_, closed) = read_until_closed(&mut slow);
    let held = closed - opened;
    assert!(held < Duration::from_secs(5), "held for {held:?}");
    let _ = writer.join();
}

#[test]
fn a_body_sent_slowly_is_answered_408_within_the_body_timeout() {
    let (server, _dir) = start(SHORT);
    let mut slow = connect(&server);
    let opened = Instant::now();
    slow.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nab")
        .unwrap();
    assert!(healthy(&server), "another client is served meanwhile");
    let (answer, closed) = read_until_closed(&mut slow);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"message":"Request Timeout"}"#),
        "{answer}"
    );
    assert!(closed - opened < Duration::from_secs(6));
}

#[test]
fn idle_connections_are_closed_fresh_and_after_a_keep_alive_request() {
    let (server, _dir) = start(SHORT);
    let mut fresh = connect(&server);
    let mut kept = connect(&server);
    let opened = Instant::now();
    kept.write_all(b"GET /_iamgate/health HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    for stream in [&mut fresh, &mut kept] {
        let (_, closed) = read_until_closed(stream);
        assert!(closed - opened < Duration::from_secs(5));
    }
}

#[test]
fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let (server, _dir) = start(SHORT);
    let mut stream = connect(&server);
    let opened = Instant::now();
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    let (seen, closed) = read_until_closed(&mut stream);
    assert!(!seen.is_empty(), "the server spoke HTTP/2 first");
    let held = closed - opened;
    assert!(
        held >= Duration::from_millis(1500) && held < Duration::from_secs(8),
        "held for {held:?}"
    );
}

#[test]
fn a_malformed_chunk_size_is_a_bad_request_not_too_large() {
    let (server, _dir) = start(SHORT);
    for size in ["zz", "ffffffffffffffffffff"] {
        let mut stream = connect(&server);
        stream
            .write_all(
                format!(
                    "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{size}\r\nab\r\n0\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        let (answer, _) = read_until_closed(&mut stream);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{size}: {answer}");
    }
}

#[test]
fn shutdown_does_not_wait_for_a_half_sent_request() {
    let (server, _dir) = start(&[]);
    let mut half = connect(&server);
    half.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nab")
        .unwrap();
    let mut head_only = connect(&server);
    head_only.write_all(b"GET / HTTP/1.1\r\nho").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    let logs = server.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "took {:?}",
        stopping.elapsed()
    );
    assert!(logs.contains("all connections closed"), "{logs}");
}

/// `prlimit`, to run the server with few file descriptors.
fn prlimit() -> Option<&'static str> {
    Command::new("prlimit")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "prlimit")
}

#[test]
fn out_of_file_descriptors_the_accept_loop_backs_off_and_recovers() {
    let Some(prlimit) = prlimit() else {
        println!("SKIP: prlimit is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions {
        data_dir: dir.path().join("data"),
        args: ["--idle-timeout", "20s", "--header-read-timeout", "20s"]
            .map(str::to_owned)
            .to_vec(),
        ..ServerOptions::default()
    };
    options.wrapper = Some(vec![prlimit.to_owned(), "--nofile=256:256".to_owned()]);
    let server = Server::start(&options);
    // A keep-alive connection opened before the flood.
    let mut kept = connect(&server);
    let health = b"GET /_iamgate/health HTTP/1.1\r\nHost: x\r\n\r\n";
    // Sends the request and reads one whole answer (head, then the body
    // its Content-Length announces); whether it was a 200.
    let answered = |kept: &mut TcpStream| {
        kept.write_all(health).unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            let text = String::from_utf8_lossy(&answer).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if answer.len() >= end + 4 + length {
                    return answer.starts_with(b"HTTP/1.1 200");
                }
            }
            match kept.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    eprintln!(
                        "DEBUG read {:?} after {:?}",
                        kept.read(&mut chunk),
                        String::from_utf8_lossy(&answer)
                    );
                    return false;
                }
                Ok(read) => answer.extend_from_slice(&chunk[..read]),
            }
        }
    };
    assert!(answered(&mut kept));
    let started = Instant::now();
    // Connections past the server's listen backlog wait in SYN retries;
    // a short connect timeout keeps the flood from taking longer than the
    // kept connection may stay idle.
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], server.port));
    let flood: Vec<TcpStream> = (0..400)
        .filter_map(|_| TcpStream::connect_timeout(&address, Duration::from_millis(200)).ok())
        .collect();
    assert!(
        flood.len() > 256,
        "the flood exceeds the server's descriptors"
    );
    std::thread::sleep(Duration::from_secs(2));
    let failures = server.logs().matches("accept failed").count();
    assert!(failures >= 1, "{}", server.logs());
    // At most one line a second, whatever the number of failures.
    let seconds = started.elapsed().as_secs();
    assert!(
        failures as u64 <= seconds + 2,
        "{failures} lines in {seconds} s"
    );

    // The connections it already has are still served while accepting
    // fails.
    assert!(
        answered(&mut kept),
        "a kept-alive connection is served at the descriptor limit: {}",
        server.logs()
    );

    drop(flood);
    let recovered = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        healthy(&server)
    });
    assert!(recovered, "{}", server.logs());
}

fn padded(bytes: usize) -> Vec<(String, String)> {
    vec![("x-pad".to_owned(), "a".repeat(bytes))]
}

#[test]
fn a_head_over_aws_10240_bytes_is_answered_431_and_the_server_goes_on() {
    let (server, _dir) = start(&[]);
    let within = http(server.port, "GET", "/_iamgate/health", &padded(9_900), b"").unwrap();
    assert_eq!(within.status, 200, "{}", within.body);
    let over = http(server.port, "GET", "/_iamgate/health", &padded(10_300), b"").unwrap();
    assert_eq!(over.status, 431);
    assert_eq!(
        over.body,
        r#"{"message":"Request Header Fields Too Large"}"#
    );
    assert!(healthy(&server));
}

#[test]
fn the_header_bound_and_the_field_count_are_configurable() {
    let (server, _dir) = start(&["--max-header-bytes", "2048", "--max-headers", "150"]);
    let over = http(server.port, "GET", "/_iamgate/health", &padded(2_100), b"").unwrap();
    assert_eq!(over.status, 431);
    let fields = |count: usize| -> Vec<(String, String)> {
        (0..count)
            .map(|i| (format!("x-{i}"), "v".to_owned()))
            .collect()
    };
    // `http` adds host, content-length and connection.
    let at_bound = http(server.port, "GET", "/_iamgate/health", &fields(147), b"").unwrap();
    assert_eq!(at_bound.status, 200, "150 fields, hyper's 100 raised");
    let over = http(server.port, "GET", "/_iamgate/health", &fields(148), b"").unwrap();
    assert_eq!(over.status, 431);
    assert_eq!(
        over.body,
        r#"{"message":"Request Header Fields Too Large"}"#
    );
}

#[test]
fn a_target_over_the_url_bound_is_answered_414() {
    let (server, _dir) = start(&["--max-url-bytes", "300"]);
    let target = |bytes: usize| format!("/_iamgate/health?{}", "q".repeat(bytes - 17));
    let within = http(server.port, "GET", &target(300), &[], b"").unwrap();
    assert_eq!(within.status, 200);
    let over = http(server.port, "GET", &target(301), &[], b"").unwrap();
    assert_eq!(over.status, 414);
    assert_eq!(over.body, r#"{"message":"Request URI too long"}"#);
}

#[test]
fn a_body_over_the_body_bound_is_answered_413_declared_or_chunked() {
    let (server, _dir) = start(&["--max-body-bytes", "1000"]);
    let signed_like = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let over = http(server.port, "POST", "/", &signed_like, &[b'a'; 1001]).unwrap();
    assert_eq!(over.status, 413);
    assert_eq!(over.body, r#"{"message":"Request Entity Too Large"}"#);
    let mut stream = connect(&server);
    let chunk = "b".repeat(600);
    stream
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let within = http(server.port, "POST", "/", &signed_like, &[b'a'; 1000]).unwrap();
    assert_ne!(within.status, 413, "{}", within.body);
}
