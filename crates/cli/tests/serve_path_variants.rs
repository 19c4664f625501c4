#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! An explicit Deny on an exact execute-api path holds for every spelling
//! of that path: a trailing slash, empty segments, dot segments and escaped
//! unreserved characters reach the same method and are authorized against
//! the same ARN — on REST and HTTP APIs, host-style, path-style and through
//! a custom domain name. And an HTTP proxy backend never sees a path that
//! climbs out of its base.

mod support;

use support::{HttpResponse, Keys, Server, ServerOptions, http, sign_execute_api, start_backend};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAPATHVARIANTROOT1, secret: "pathVariantRootSecretAccessKey0000000001" }
    users:
      # May invoke everything except, by its own policy, GET /private on
      # the REST API and GET /secret on the HTTP API.
      - name: caller
        access_keys: [{ id: AKIAPATHVARIANTCALL1, secret: "pathVariantCallerSecretAccessKey00000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: execute-api:Invoke
                Resource: "*"
              - Effect: Deny
                Action: execute-api:Invoke
                Resource:
                  - "arn:aws:execute-api:us-east-1:111111111111:restapi001/prod/GET/private"
                  - "arn:aws:execute-api:us-east-1:111111111111:httpapi001/$default/GET/secret"
apis:
  - id: restapi001
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    # Everyone may invoke anything but GET /secret.
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*"
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: "execute-api:/*/GET/secret"
    methods:
      - { path: /secret, method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: secret } }
      - { path: /private, method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: private } }
      - { path: "/{proxy+}", method: GET, authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: proxy } }
  - id: httpapi001
    type: HTTP
    account: "111111111111"
    region: us-east-1
    routes:
      - { key: "GET /secret", authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: secret } }
      - { key: "GET /{proxy+}", authorization: AWS_IAM, integration: { type: MOCK, status: 200, body: proxy } }
domain_names:
  - name: api.example.com
    account: "111111111111"
    region: us-east-1
    mappings:
      - { base_path: v1, api: restapi001, stage: prod }
"#;

/// Spellings of `/{name}` that a router, a browser or a backend takes for
/// the same path.
fn spellings(name: &str) -> Vec<String> {
    let escaped: String = name.chars().map(|c| format!("%{:02x}", c as u32)).collect();
    vec![
        format!("/{name}"),
        format!("/{name}/"),
        format!("//{name}"),
        format!("/{name}//"),
        format!("///{name}"),
        format!("/./{name}"),
        format!("/{name}/."),
        format!("/other/../{name}"),
        format!("/{escaped}"),
        format!("/%2e/{name}/"),
    ]
}

fn caller() -> Keys {
    Keys::new(
        "AKIAPATHVARIANTCALL1",
        "pathVariantCallerSecretAccessKey00000001",
    )
}

fn signed_get(server: &Server, keys: &Keys, host: &str, target: &str) -> HttpResponse {
    let headers = sign_execute_api(keys, "GET", host, target, &[]);
    http(server.port, "GET", target, &headers, b"").unwrap()
}

fn start(world: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), world).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

const REST_HOST: &str = "restapi001.execute-api.us-east-1.amazonaws.com";
const HTTP_HOST: &str = "httpapi001.execute-api.us-east-1.amazonaws.com";

/// `(host, target)` for `path` on the REST API's stage `prod`, every way
/// the API is addressed.
fn rest_addresses(path: &str) -> Vec<(&'static str, String)> {
    vec![
        (REST_HOST, format!("/prod{path}")),
        (
            "127.0.0.1",
            format!("/restapis/restapi001/prod/_user_request_{path}"),
        ),
        ("api.example.com", format!("/v1{path}")),
    ]
}

/// Every spelling of `GET /{name}`, every way the REST API is addressed,
/// is an explicit deny on the ARN of `/{name}`.
fn assert_rest_denied_however_spelled(server: &Server, keys: &Keys, name: &str) {
    let denied_arn = format!("restapi001/prod/GET/{name} with an explicit deny");
    for spelling in spellings(name) {
        for (host, target) in rest_addresses(&spelling) {
            let reply = signed_get(server, keys, host, &target);
            assert_eq!(reply.status, 403, "{host}{target}: {}", reply.body);
            assert!(
                reply.body.contains(&denied_arn),
                "{host}{target}: {}",
                reply.body
            );
        }
    }
}

#[test]
fn a_resource_policy_deny_on_a_rest_path_holds_for_every_spelling_of_it() {
    let (server, _dir) = start(WORLD);
    let keys = caller();
    assert_rest_denied_however_spelled(&server, &keys, "secret");
    // The same caller reaches the rest of the API, so the 403s above are
    // the Deny and not a broken setup.
    for (host, target) in rest_addresses("/public/") {
        let reply = signed_get(&server, &keys, host, &target);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "proxy"),
            "{host}{target}"
        );
    }
}

#[test]
fn an_identity_policy_deny_on_a_rest_path_holds_for_every_spelling_of_it() {
    let (server, _dir) = start(WORLD);
    let keys = caller();
    assert_rest_denied_however_spelled(&server, &keys, "private");
}

#[test]
fn an_identity_policy_deny_on_an_http_route_holds_for_every_spelling_of_it() {
    let (server, _dir) = start(WORLD);
    let keys = caller();
    for spelling in spellings("secret") {
        for (host, target) in [
            (HTTP_HOST, spelling.clone()),
            (
                "127.0.0.1",
                format!("/restapis/httpapi001/$default/_user_request_{spelling}"),
            ),
        ] {
            let reply = signed_get(&server, &keys, host, &target);
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (403, r#"{"message":"Forbidden"}"#),
                "{host}{target}"
            );
        }
    }
    let reply = signed_get(&server, &keys, HTTP_HOST, "/public");
    assert_eq!((reply.status, reply.body.as_str()), (200, "proxy"));
}

#[test]
fn an_http_proxy_backend_never_sees_dot_segments_that_leave_its_base() {
    let backend = start_backend();
    let world = format!(
        r#"
accounts:
  - id: "111111111111"
    root_access_key: {{ id: AKIAPATHVARIANTROOT1, secret: "pathVariantRootSecretAccessKey0000000001" }}
apis:
  - id: restapi002
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - path: "/g/{{proxy+}}"
        method: GET
        authorization: NONE
        integration: {{ type: HTTP_PROXY, uri: "http://127.0.0.1:{backend}/base/{{proxy}}" }}
"#
    );
    let (server, _dir) = start(&world);
    let host = "restapi002.execute-api.us-east-1.amazonaws.com";
    let get = |target: &str| {
        http(
            server.port,
            "GET",
            target,
            &[("host".into(), host.into())],
            b"",
        )
        .unwrap()
    };
    let reply = get("/prod/g/a/./b/../c");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "backend saw GET /base/a/c")
    );
    // Resolved first, `/g/a/../../admin` is `/admin`, which no method serves.
    let reply = get("/prod/g/a/../../admin");
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(
        reply.body.contains("Missing Authentication Token"),
        "{}",
        reply.body
    );
    let reply = get("/prod/g/a/%2e%2e/%2E%2E/admin");
    assert_eq!(reply.status, 403, "{}", reply.body);
}
