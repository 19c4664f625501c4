#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `JWT` (HTTP API) and `COGNITO_USER_POOLS` (REST API) authorizers against
//! a running `iamgate serve`, with a loopback issuer that serves the OpenID
//! discovery document and the key set of a test-only RSA key
//! (`testdata/jwt/`); tokens are signed here with that key. Callers get
//! AWS's 200, 401 (with `www-authenticate` on HTTP APIs) and 403; the
//! integration sees the claims; malformed tokens never crash the server;
//! the resource policy × Cognito user pool workflow answers as AWS
//! documents; `iamgate explain` says which authorizer decided and why, and
//! never shows the token.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{AwsCli, Keys, Server, ServerOptions, explain, http, start_lambda_api};

const SIGNING_KEY: &[u8] = include_bytes!("../../../testdata/jwt/signing-key.der");
const OTHER_KEY: &[u8] = include_bytes!("../../../testdata/jwt/other-key.der");
const JWKS: &str = include_str!("../../../testdata/jwt/jwks.json");
const POOL_ARN: &str = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Pool1";
const POOL_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1";

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    )
}

/// A loopback issuer at `http://127.0.0.1:{port}`: the discovery document
/// and `/keys`, counting the key set's fetches.
fn start_issuer() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fetches = Arc::new(AtomicUsize::new(0));
    let (own, counter) = (base.clone(), fetches.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buffer = [0u8; 4096];
            let n = stream.read(&mut buffer).unwrap_or(0);
            let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
            let body = if head.starts_with("GET /.well-known/openid-configuration ") {
                json!({"issuer": own, "jwks_uri": format!("{own}/keys")}).to_string()
            } else if head.starts_with("GET /keys ") {
                counter.fetch_add(1, Ordering::SeqCst);
                JWKS.to_owned()
            } else {
                String::new()
            };
            let status = if body.is_empty() {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (base, fetches)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign_with(der: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der)).unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(SIGNING_KEY, "test-key-1", claims)
}

/// An id token of the user pool for `cognito:username` alice.
fn pool_id_token() -> String {
    sign(
        &json!({"iss": POOL_ISSUER, "sub": "alice-sub", "cognito:username": "alice",
                 "token_use": "id", "aud": "app-client", "exp": now() + 600, "iat": now() - 5,
                 "cognito:groups": ["admins", "users"]}),
    )
}

fn pool_access_token(scope: &str) -> String {
    sign(
        &json!({"iss": POOL_ISSUER, "sub": "alice-sub", "token_use": "access",
                 "client_id": "app-client", "scope": scope, "exp": now() + 600}),
    )
}

fn rest_api(id: &str, policy: Option<&str>, jwks: &str, lambda: &str) -> String {
    let policy = policy
        .map(|statement| {
            format!("    policy: {{ Version: \"2012-10-17\", Statement: [{statement}] }}\n")
        })
        .unwrap_or_default();
    format!(
        r#"
  - id: {id}
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
{policy}    authorizers:
      - {{ name: pool, type: COGNITO_USER_POOLS, identity_source: method.request.header.Authorization,
          provider_arns: ["{POOL_ARN}"], jwks_url: "{jwks}/keys", ttl: 300 }}
    methods:
      - {{ path: /claims, method: GET, authorization: COGNITO_USER_POOLS, authorizer: pool,
          integration: {{ type: AWS_PROXY, function: "arn:aws:lambda:us-east-1:111122223333:function:echo", endpoint: "{lambda}" }} }}
      - {{ path: /scoped, method: GET, authorization: COGNITO_USER_POOLS, authorizer: pool, scopes: [pets/read],
          integration: {{ type: MOCK, status: 200, body: '{{"scoped":true}}' }} }}
"#
    )
}

fn world(issuer: &str, lambda: &str) -> String {
    let allow = r#"{ Effect: Allow, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" }"#;
    let deny = r#"{ Effect: Deny, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" }"#;
    let neither = r#"{ Effect: Allow, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*", Condition: { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } } }"#;
    format!(
        r#"
accounts:
  - id: "111122223333"
    root_access_key: {{ id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }}
apis:
  - id: jwthttp001
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - {{ name: oidc, type: JWT, identity_source: $request.header.Authorization,
          issuer: "{issuer}", audience: [client-a] }}
      - {{ name: query, type: JWT, identity_source: $request.querystring.access_token,
          issuer: "{issuer}", audience: [client-a] }}
    routes:
      - {{ key: GET /query, authorization: JWT, authorizer: query, integration: {{ type: MOCK, status: 200, body: ok }} }}
      - {{ key: GET /claims, authorization: JWT, authorizer: oidc,
          integration: {{ type: AWS_PROXY, function: "arn:aws:lambda:us-east-1:111122223333:function:echo", endpoint: "{lambda}" }} }}
      - {{ key: GET /v1claims, authorization: JWT, authorizer: oidc,
          integration: {{ type: AWS_PROXY, function: "arn:aws:lambda:us-east-1:111122223333:function:echo", endpoint: "{lambda}", payload_format_version: "1.0" }} }}
      - {{ key: GET /scoped, authorization: JWT, authorizer: oidc, scopes: [admin, write],
          integration: {{ type: MOCK, status: 200, body: ok }} }}
{pool}{open}{allowed}{denied}{neither}"#,
        pool = rest_api("cognito001", None, issuer, lambda),
        open = rest_api("cognito002", None, issuer, lambda),
        allowed = rest_api("cognito003", Some(allow), issuer, lambda),
        denied = rest_api("cognito004", Some(deny), issuer, lambda),
        neither = rest_api("cognito005", Some(neither), issuer, lambda),
    )
}

struct Setup {
    server: Server,
    fetches: Arc<AtomicUsize>,
    issuer: String,
    _dir: tempfile::TempDir,
}

fn start() -> Setup {
    let (issuer, fetches) = start_issuer();
    // Invoked by name, as every front door leaves a function.
    let lambda = start_lambda_api(|function, event| match function {
        "echo" => (
            200,
            json!({"statusCode": 200, "body": event.to_string()}).to_string(),
            false,
        ),
        _ => (404, "{}".to_owned(), false),
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(
        &config,
        world(&issuer, &format!("http://127.0.0.1:{lambda}")),
    )
    .unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        args: vec![
            "--lambda-endpoint".into(),
            format!("http://127.0.0.1:{lambda}"),
        ],
        ..ServerOptions::default()
    });
    Setup {
        server,
        fetches,
        issuer,
        _dir: dir,
    }
}

struct Answer {
    status: u16,
    body: String,
    www_authenticate: Option<String>,
    request_id: String,
}

fn call(server: &Server, api: &str, path: &str, authorization: Option<&str>) -> Answer {
    let mut headers = vec![(
        "host".to_owned(),
        format!("{api}.execute-api.us-east-1.amazonaws.com"),
    )];
    if let Some(value) = authorization {
        headers.push(("Authorization".to_owned(), value.to_owned()));
    }
    let response = http(server.port, "GET", path, &headers, b"").unwrap();
    Answer {
        status: response.status,
        www_authenticate: response.header("www-authenticate").map(str::to_owned),
        request_id: response
            .header("x-amzn-RequestId")
            .or_else(|| response.header("apigw-requestid"))
            .unwrap_or_default()
            .to_owned(),
        body: response.body,
    }
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

#[test]
fn an_http_jwt_authorizer_passes_valid_tokens_with_their_claims_and_refuses_the_rest_as_aws_does() {
    let setup = start();
    let (server, issuer) = (&setup.server, setup.issuer.as_str());
    let exp = now() + 600;
    let claims = |extra: Value| {
        let mut claims = json!({"iss": issuer, "aud": "client-a", "sub": "user-1",
                                "exp": exp, "iat": now() - 5, "scope": "read write",
                                "groups": ["a", "b"]});
        for (key, value) in extra.as_object().unwrap() {
            claims[key] = value.clone();
        }
        claims
    };
    let good = sign(&claims(json!({})));

    // Bearer prefix optional; the payload 2.0 event carries claims and scopes.
    for value in [format!("Bearer {good}"), good.clone()] {
        let answer = call(server, "jwthttp001", "/claims", Some(&value));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let event: Value = serde_json::from_str(&answer.body).unwrap();
        let jwt = &event["requestContext"]["authorizer"]["jwt"];
        assert_eq!(jwt["claims"]["sub"], "user-1");
        assert_eq!(jwt["claims"]["groups"], "[a b]");
        assert_eq!(jwt["claims"]["exp"], exp.to_string().as_str(), "{jwt}");
        assert_eq!(jwt["scopes"], json!(["read", "write"]));
    }
    // Payload 1.0: `requestContext.authorizer.claims` and `scopes`.
    let answer = call(server, "jwthttp001", "/v1claims", Some(&good));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let event: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"]["claims"]["sub"],
        "user-1"
    );
    assert_eq!(
        event["requestContext"]["authorizer"]["scopes"],
        json!(["read", "write"])
    );
    // The keys were fetched once, through discovery.
    assert_eq!(setup.fetches.load(Ordering::SeqCst), 1);

    // A JWT may come in a query string parameter instead.
    let answer = call(
        server,
        "jwthttp001",
        &format!("/query?access_token={good}"),
        None,
    );
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    let answer = call(server, "jwthttp001", "/query", Some(&good));
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));

    // No token: 401, without `www-authenticate`.
    let missing = call(server, "jwthttp001", "/claims", None);
    assert_eq!((missing.status, missing.body.as_str()), (401, UNAUTHORIZED));
    assert_eq!(missing.www_authenticate, None);

    // Each bad token: 401 and the reason in `www-authenticate`.
    for (token, reason) in [
        (sign(&claims(json!({"exp": now() - 1}))), "expired"),
        (sign(&claims(json!({"aud": "client-z"}))), "audience"),
        (
            sign(&claims(json!({"iss": "https://evil.example"}))),
            "issuer",
        ),
        (
            sign_with(OTHER_KEY, "test-key-1", &claims(json!({}))),
            "signature",
        ),
        (
            sign_with(OTHER_KEY, "no-such-kid", &claims(json!({}))),
            "key id",
        ),
    ] {
        let answer = call(server, "jwthttp001", "/claims", Some(&token));
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (401, UNAUTHORIZED),
            "{reason}"
        );
        let header = answer.www_authenticate.unwrap();
        assert!(header.starts_with("Bearer "), "{header}");
        assert!(header.contains(r#"error="invalid_token""#), "{header}");
        assert!(header.contains(reason), "{reason}: {header}");
    }
    // A missing scope: 403.
    let read_only = sign(&claims(json!({"scope": "read"})));
    let answer = call(server, "jwthttp001", "/scoped", Some(&read_only));
    assert_eq!((answer.status, answer.body.as_str()), (403, FORBIDDEN));
    let header = answer.www_authenticate.unwrap();
    assert!(header.contains(r#"error="insufficient_scope""#), "{header}");
    assert!(header.contains(r#"scope="admin write""#), "{header}");
    let answer = call(server, "jwthttp001", "/scoped", Some(&good));
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    // `scp` as a list counts too (Okta, Azure AD).
    let scp = sign(&claims(json!({"scope": null, "scp": ["admin"]})));
    assert_eq!(
        call(server, "jwthttp001", "/scoped", Some(&scp)).status,
        200
    );

    // The decision record names the authorizer, the reason and the
    // deciding scope, and never the token; `good` was checked on an
    // earlier call, so this one reused that check.
    let record = explain(server, &root(), &answer.request_id).unwrap();
    let text = record.to_string();
    assert!(
        text.contains("jwt_authorizer:oidc:cached:scope:write"),
        "{text}"
    );
    assert!(!text.contains(&good), "the token leaked into the record");
    let refused = call(
        server,
        "jwthttp001",
        "/claims",
        Some(&sign(&claims(json!({"exp": now() - 1})))),
    );
    let record = explain(server, &root(), &refused.request_id)
        .unwrap()
        .to_string();
    assert!(
        record.contains("jwt_authorizer:oidc:refused:expired"),
        "{record}"
    );
    assert!(record.contains("the token has expired"), "{record}");
    // Nor in the server's log lines.
    let logs = server.logs();
    assert!(!logs.is_empty());
    assert!(!logs.contains(&good), "the token leaked into the log");
}

#[test]
fn malformed_tokens_get_aws_401_and_never_crash_the_server() {
    let setup = start();
    let server = &setup.server;
    let b64 = |text: &str| {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
    };
    let payload =
        b64(&json!({"iss": setup.issuer, "aud": "client-a", "exp": now() + 600}).to_string());
    // HS256 "signed" with the issuer's public key set as the secret.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("test-key-1".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &json!({"iss": setup.issuer, "aud": "client-a", "exp": now() + 600}),
        &EncodingKey::from_secret(JWKS.as_bytes()),
    )
    .unwrap();
    // Large, but within API Gateway's 10,240 bytes of request line and
    // headers (a larger head is refused with 431 before any authorizer).
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(3000),
        "b".repeat(3000),
        "c".repeat(3000)
    );
    for token in [
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        "!!!.@@@.###".to_owned(),
        format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"test-key-1"}"#)),
        format!("{}.{payload}.c2ln", b64(r#"{"alg":"RS256"}"#)),
        format!("{}.%%%.c2ln", b64(r#"{"alg":"RS256","kid":"test-key-1"}"#)),
        confused,
        huge,
    ] {
        let answer = call(server, "jwthttp001", "/claims", Some(&token));
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (401, UNAUTHORIZED),
            "{token:.40}"
        );
        let answer = call(server, "cognito001", "/prod/claims", Some(&token));
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (401, UNAUTHORIZED),
            "{token:.40}"
        );
    }
    let oversized = "a".repeat(12_000);
    let answer = call(server, "cognito001", "/prod/claims", Some(&oversized));
    assert_eq!(answer.status, 431, "{}", answer.body);
    // Still serving.
    let good = pool_id_token();
    assert_eq!(
        call(server, "cognito001", "/prod/claims", Some(&good)).status,
        200
    );
}

#[test]
fn a_user_pool_authorizer_wants_id_tokens_or_scoped_access_tokens_and_passes_claims_on() {
    let setup = start();
    let server = &setup.server;
    let id_token = pool_id_token();
    let answer = call(server, "cognito001", "/prod/claims", Some(&id_token));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let event: Value = serde_json::from_str(&answer.body).unwrap();
    let claims = &event["requestContext"]["authorizer"]["claims"];
    assert_eq!(claims["sub"], "alice-sub");
    assert_eq!(claims["cognito:username"], "alice");
    assert_eq!(claims["cognito:groups"], "[admins users]");
    // `exp` and `iat` as a REST user pool passes them: dates in UTC
    // (`Fri Jul 29 18:52:53 UTC 2016`).
    for name in ["exp", "iat"] {
        let date = claims[name].as_str().unwrap();
        assert_eq!(date.len(), 28, "{date}");
        assert_eq!(&date[19..24], " UTC ", "{date}");
    }
    // The keys came from the local override URL, not the pool's issuer.
    assert_eq!(setup.fetches.load(Ordering::SeqCst), 1);

    // A second call with the same token is answered from the cache.
    let again = call(server, "cognito001", "/prod/claims", Some(&id_token));
    assert_eq!(again.status, 200);
    let record = explain(server, &root(), &again.request_id)
        .unwrap()
        .to_string();
    assert!(
        record.contains("cognito_authorizer:pool:cached"),
        "{record}"
    );
    assert!(
        !record.contains(&id_token),
        "the token leaked into the record"
    );

    // Without scopes an access token is refused; with them, an id token.
    let access = pool_access_token("pets/read openid");
    let answer = call(server, "cognito001", "/prod/claims", Some(&access));
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
    assert_eq!(
        answer.www_authenticate, None,
        "REST APIs send no www-authenticate"
    );
    let answer = call(server, "cognito001", "/prod/scoped", Some(&id_token));
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
    let answer = call(server, "cognito001", "/prod/scoped", Some(&access));
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"scoped":true}"#)
    );
    let answer = call(
        server,
        "cognito001",
        "/prod/scoped",
        Some(&pool_access_token("openid")),
    );
    assert_eq!((answer.status, answer.body.as_str()), (403, FORBIDDEN));
    let record = explain(server, &root(), &answer.request_id)
        .unwrap()
        .to_string();
    assert!(
        record.contains("cognito_authorizer:pool:refused:scope"),
        "{record}"
    );

    // Another pool's token, and no token at all.
    let other_pool = sign(
        &json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other",
                                  "sub": "x", "token_use": "id", "exp": now() + 600}),
    );
    let answer = call(server, "cognito001", "/prod/claims", Some(&other_pool));
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
    let answer = call(server, "cognito001", "/prod/claims", None);
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
}

/// AWS's workflow for a Cognito user pool authorizer with a resource
/// policy: the token is checked first (a bad one is a 401 whatever the
/// policy says); then the policy, evaluated on its own, must allow
/// explicitly — a deny, or neither allow nor deny, is a 403.
#[test]
fn the_resource_policy_with_a_user_pool_authorizer_answers_as_aws_documents() {
    let setup = start();
    let server = &setup.server;
    let good = pool_id_token();
    let expired =
        sign(&json!({"iss": POOL_ISSUER, "sub": "a", "token_use": "id", "exp": now() - 1}));
    for (api, policy, token, status) in [
        ("cognito002", "none", &good, 200),
        ("cognito003", "allow", &good, 200),
        ("cognito004", "deny", &good, 403),
        ("cognito005", "neither", &good, 403),
        ("cognito002", "none", &expired, 401),
        ("cognito003", "allow", &expired, 401),
        ("cognito004", "deny", &expired, 401),
    ] {
        let answer = call(server, api, "/prod/claims", Some(token));
        assert_eq!(answer.status, status, "{policy}: {}", answer.body);
        if status == 403 {
            assert!(
                answer
                    .body
                    .contains("is not authorized to perform: execute-api:Invoke"),
                "{policy}: {}",
                answer.body
            );
        }
    }
}

#[test]
fn a_jwt_authorizer_made_with_the_aws_cli_guards_an_http_route_with_scopes() {
    let setup = start();
    let server = &setup.server;
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let run = |args: &[&str]| cli.run(&root(), args);
    let api = run(&[
        "apigatewayv2",
        "create-api",
        "--name",
        "jwt-guarded",
        "--protocol-type",
        "HTTP",
    ])
    .json();
    let id = api["ApiId"].as_str().unwrap().to_owned();
    run(&[
        "apigatewayv2",
        "create-authorizer",
        "--api-id",
        &id,
        "--name",
        "oidc",
        "--authorizer-type",
        "JWT",
        "--identity-source",
        "$request.header.Authorization",
    ])
    .assert_error("BadRequestException", "Issuer must be specified");
    let authorizer = run(&[
        "apigatewayv2",
        "create-authorizer",
        "--api-id",
        &id,
        "--name",
        "oidc",
        "--authorizer-type",
        "JWT",
        "--identity-source",
        "$request.header.Authorization",
        "--jwt-configuration",
        &format!("Audience=client-a,Issuer={}", setup.issuer),
    ])
    .json();
    assert_eq!(authorizer["AuthorizerType"], "JWT");
    assert_eq!(
        authorizer["JwtConfiguration"],
        json!({"Audience": ["client-a"], "Issuer": setup.issuer})
    );
    let authorizer_id = authorizer["AuthorizerId"].as_str().unwrap().to_owned();
    let route = run(&[
        "apigatewayv2",
        "create-route",
        "--api-id",
        &id,
        "--route-key",
        "GET /pets",
        "--authorization-type",
        "JWT",
        "--authorizer-id",
        &authorizer_id,
        "--authorization-scopes",
        "pets/read",
        "pets/all",
    ])
    .json();
    assert_eq!(
        route["AuthorizationScopes"],
        json!(["pets/read", "pets/all"])
    );
    let integration = run(&[
        "apigatewayv2",
        "create-integration",
        "--api-id",
        &id,
        "--integration-type",
        "AWS_PROXY",
        "--integration-uri",
        "arn:aws:lambda:us-east-1:111122223333:function:echo",
        "--payload-format-version",
        "2.0",
    ])
    .json();
    run(&[
        "apigatewayv2",
        "update-route",
        "--api-id",
        &id,
        "--route-id",
        route["RouteId"].as_str().unwrap(),
        "--target",
        &format!(
            "integrations/{}",
            integration["IntegrationId"].as_str().unwrap()
        ),
    ])
    .json();
    run(&[
        "apigatewayv2",
        "create-stage",
        "--api-id",
        &id,
        "--stage-name",
        "$default",
        "--auto-deploy",
    ])
    .json();

    let claims = |scope: &str| json!({"iss": setup.issuer, "aud": "client-a", "sub": "u", "exp": now() + 600, "scope": scope});
    let answer = call(server, &id, "/pets", Some(&sign(&claims("pets/all"))));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let event: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["scopes"],
        json!(["pets/all"])
    );
    let answer = call(server, &id, "/pets", Some(&sign(&claims("openid"))));
    assert_eq!((answer.status, answer.body.as_str()), (403, FORBIDDEN));
    let answer = call(server, &id, "/pets", None);
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
}

#[test]
fn a_user_pool_authorizer_made_with_the_aws_cli_guards_a_rest_method() {
    let setup = start();
    let server = &setup.server;
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let run = |args: &[&str]| cli.run(&root(), args);
    let api = run(&["apigateway", "create-rest-api", "--name", "pool-guarded"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root_resource = run(&["apigateway", "get-resources", "--rest-api-id", &id]).json()["items"]
        [0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[
        "apigateway",
        "create-authorizer",
        "--rest-api-id",
        &id,
        "--name",
        "pool",
        "--type",
        "COGNITO_USER_POOLS",
        "--provider-arns",
        "arn:aws:cognito-idp:us-east-1:111122223333:userpool/not-a-pool",
        "--identity-source",
        "method.request.header.Authorization",
    ])
    .assert_error("BadRequestException", "Invalid provider ARN");
    let created = run(&[
        "apigateway",
        "create-authorizer",
        "--rest-api-id",
        &id,
        "--name",
        "pool",
        "--type",
        "COGNITO_USER_POOLS",
        "--provider-arns",
        POOL_ARN,
        "--identity-source",
        "method.request.header.Authorization",
    ])
    .json();
    assert_eq!(created["type"], "COGNITO_USER_POOLS");
    assert_eq!(created["providerARNs"], json!([POOL_ARN]));
    let authorizer = created["id"].as_str().unwrap().to_owned();
    let method = run(&[
        "apigateway",
        "put-method",
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_resource,
        "--http-method",
        "GET",
        "--authorization-type",
        "COGNITO_USER_POOLS",
        "--authorizer-id",
        &authorizer,
        "--authorization-scopes",
        "pets/read",
    ])
    .json();
    assert_eq!(method["authorizationScopes"], json!(["pets/read"]));
    assert_eq!(method["authorizerId"], authorizer.as_str());
}

/// An `https://localhost:{port}` issuer whose certificate `ca` signed,
/// serving the discovery document and the key set over TLS.
fn start_tls_issuer(ca: &support::pki::Ca) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let issued = ca.server(&["localhost"]);
    let chain = vec![CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let own = base.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, tcp);
            let mut buffer = [0u8; 4096];
            let Ok(n) = stream.read(&mut buffer) else {
                continue;
            };
            let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
            let body = if head.starts_with("GET /.well-known/openid-configuration ") {
                json!({"issuer": own, "jwks_uri": format!("{own}/keys")}).to_string()
            } else {
                JWKS.to_owned()
            };
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    });
    base
}

#[test]
fn an_https_issuer_is_trusted_through_aws_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let ca = support::pki::Ca::new("jwt issuer test CA");
    let issuer = start_tls_issuer(&ca);
    let bundle = ca.write(dir.path(), "ca");
    let world = format!(
        r#"
accounts:
  - id: "111122223333"
apis:
  - id: jwttls0001
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - {{ name: oidc, type: JWT, identity_source: $request.header.Authorization,
          issuer: "{issuer}", audience: [client-a] }}
    routes:
      - {{ key: GET /, authorization: JWT, authorizer: oidc, integration: {{ type: MOCK, status: 200, body: ok }} }}
"#
    );
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, world).unwrap();
    let token = sign(&json!({"iss": issuer, "aud": "client-a", "sub": "tls", "exp": now() + 600}));
    let start = |env: Vec<(String, String)>, data: &str| {
        Server::start(&ServerOptions {
            config: Some(config.clone()),
            data_dir: dir.path().join(data),
            env,
            ..ServerOptions::default()
        })
    };
    let trusting = start(
        vec![("AWS_CA_BUNDLE".into(), bundle.display().to_string())],
        "trusting",
    );
    let answer = call(&trusting, "jwttls0001", "/", Some(&token));
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    // A server that does not trust the issuer's CA fails closed.
    let other = support::pki::Ca::new("someone else's CA");
    let other_bundle = other.write(dir.path(), "other");
    let distrusting = start(
        vec![("AWS_CA_BUNDLE".into(), other_bundle.display().to_string())],
        "distrusting",
    );
    let answer = call(&distrusting, "jwttls0001", "/", Some(&token));
    assert_eq!((answer.status, answer.body.as_str()), (401, UNAUTHORIZED));
}
