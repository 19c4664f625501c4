#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! A function's or a MOCK's framing headers never frame the response the
//! client reads: `iamgate serve` sends the body it has with its own
//! `Content-Length`, and the answer's values come back renamed
//! `x-amzn-Remapped-<name>`, as API Gateway does (issue 17). Read over a
//! raw socket, so the framing on the wire is what is checked.

mod support;

use std::io::{BufRead, BufReader, Read, Write};

use support::{Server, ServerOptions};

const BODY: &str = "a body much longer than five bytes";

/// A stand-in for the Lambda Invoke API whose function always answers with
/// a `Content-Length: 5` header, `Transfer-Encoding: chunked` and `BODY`.
fn start_lying_function() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let answer = serde_json::json!({
                "statusCode": 200,
                "headers": {
                    "Content-Length": "5",
                    "Transfer-Encoding": "chunked",
                    "content-type": "text/plain",
                },
                "body": BODY,
            })
            .to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    port
}

/// The raw response to `GET {path}` for `host`: status line and headers
/// (lower-cased names), and every byte after the head.
fn raw_get(port: u16, host: &str, path: &str) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    (status, headers, rest)
}

fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn a_lambda_answers_content_length_is_remapped_and_the_body_is_framed_by_its_length() {
    let function = start_lying_function();
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(
        &world,
        format!(
            r#"
accounts:
  - id: "123456789012"
apis:
  - id: r1b2c3d4e5
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    methods:
      - {{ path: /fn, method: GET, authorization: NONE, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{function}", function: liar }} }}
      - {{ path: /mock, method: GET, authorization: NONE, integration: {{ type: MOCK, status: 200, headers: {{ content-length: "1" }}, body: '{{"mocked":true}}' }} }}
  - id: h1b2c3d4e5
    type: HTTP
    account: "123456789012"
    region: us-east-1
    routes:
      - {{ key: "GET /fn", authorization: NONE, integration: {{ type: AWS_PROXY, endpoint: "http://127.0.0.1:{function}", function: liar }} }}
"#
        ),
    )
    .unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    for (host, path) in [
        ("r1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "/prod/fn"),
        ("h1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "/fn"),
    ] {
        let (status, headers, body) = raw_get(server.port, host, path);
        assert!(status.starts_with("HTTP/1.1 200"), "{status} {headers:?}");
        assert_eq!(String::from_utf8(body).unwrap(), BODY, "{host}");
        assert_eq!(
            values(&headers, "content-length"),
            vec![BODY.len().to_string().as_str()],
            "{host}: {headers:?}"
        );
        assert!(
            values(&headers, "transfer-encoding").is_empty(),
            "{headers:?}"
        );
        assert_eq!(
            values(&headers, "x-amzn-remapped-content-length"),
            vec!["5"],
            "{host}: {headers:?}"
        );
    }
    let (status, headers, body) = raw_get(
        server.port,
        "r1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "/prod/mock",
    );
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(body, br#"{"mocked":true}"#);
    assert_eq!(values(&headers, "content-length"), vec!["15"]);
    assert_eq!(
        values(&headers, "x-amzn-remapped-content-length"),
        vec!["1"]
    );
}
