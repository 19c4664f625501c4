#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! REST MOCK and HTTP (non-proxy) integrations through the data plane:
//! request templates chosen by Content-Type or refused by the passthrough
//! behavior, the integration response chosen by its selection pattern,
//! response templates and header mappings, `$context.identity` of a signed
//! caller and the stage's variables. The HTTP backend is a loopback server
//! started by the test that echoes what it received.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::mapping::Mapped;
use iamgate_apimodel::model::{
    AuthorizationType, EndpointType, Integration, Method, Resource, RestApi, RestStage,
    parse_template,
};
use iamgate_apimodel::stored::{IntegrationRecord, IntegrationResponseRecord};
use iamgate_gateway::dataplane::DataPlane;
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use serde_json::{Value, json};
use support::{Signed, request};

const NOW: i64 = 1_795_277_521;
const API: &str = "m1b2c3d4e5";
const HOST: &str = "m1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
const ALICE: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-secret");

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    users:
      - name: alice
        access_keys: [{ id: AKIAALICEEXAMPLE0001, secret: "alice-secret" }]
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:*"}]}'
"#;

/// Answers with what it received as JSON, `x-backend: echo`, and status
/// 201 under `/created`, 503 under `/down`.
async fn start_backend() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let path = req.uri().path().to_owned();
                    let status = if path.starts_with("/created") {
                        201
                    } else if path.starts_with("/down") {
                        503
                    } else {
                        200
                    };
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .map(|v| v.to_str().unwrap().to_owned())
                    };
                    let echo = json!({
                        "method": req.method().as_str(),
                        "path": path,
                        "query": req.uri().query(),
                        "contentType": header("content-type"),
                        "mapped": header("x-mapped"),
                        "caller": header("x-caller"),
                    });
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let mut echo = echo;
                    echo["body"] = Value::String(String::from_utf8(body.to_vec()).unwrap());
                    let response = hyper::Response::builder()
                        .status(status)
                        .header("x-backend", "echo")
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(echo.to_string())))
                        .unwrap();
                    Ok::<_, Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn response(
    status: &str,
    pattern: Option<&str>,
    parameters: &[(&str, &str)],
    templates: &[(&str, &str)],
) -> (String, IntegrationResponseRecord) {
    (
        status.to_owned(),
        IntegrationResponseRecord {
            status_code: status.to_owned(),
            content_handling: None,
            selection_pattern: pattern.map(str::to_owned),
            response_parameters: parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            response_templates: templates
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            given_empty: Default::default(),
        },
    )
}

fn integration(
    kind: &str,
    uri: Option<String>,
    passthrough: &str,
    request_templates: &[(&str, &str)],
    request_parameters: &[(&str, &str)],
    responses: Vec<(String, IntegrationResponseRecord)>,
) -> Integration {
    let record = IntegrationRecord {
        integration_type: kind.to_owned(),
        http_method: Some("POST".to_owned()),
        uri,
        timeout_ms: 2_000,
        connection_type: None,
        credentials: None,
        cache_namespace: None,
        cache_key_parameters: Vec::new(),
        content_handling: None,
        passthrough_behavior: Some(passthrough.to_owned()),
        request_parameters: request_parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        request_templates: request_templates
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        integration_responses: responses.into_iter().collect::<BTreeMap<_, _>>(),
        lambda_endpoint: None,
    };
    Integration::Mapped(Box::new(Mapped::from_record(&record).unwrap()))
}

struct Setup {
    plane: DataPlane,
    apis: ApiRegistry,
    world: World,
}

async fn setup() -> Setup {
    let port = start_backend().await;
    let backend = |path: &str| Some(format!("http://127.0.0.1:{port}{path}"));
    let ok_default = || response("200", None, &[], &[]);
    let methods = vec![
        (
            "/pets/{id}",
            "GET",
            AuthorizationType::AwsIam,
            integration(
                "MOCK",
                None,
                "WHEN_NO_MATCH",
                &[("application/json", r#"{"statusCode": 200}"#)],
                &[],
                vec![response(
                    "200",
                    None,
                    &[("method.response.header.X-Pet", "'yes'")],
                    &[(
                        "application/json",
                        r#"{"id": $input.params().path.id, "caller": "$context.identity.userArn", "key": "$context.identity.accessKey", "stage": "$context.stage", "resource": "$context.resourcePath", "time": "$context.requestTime"}"#,
                    )],
                )],
            ),
        ),
        (
            "/status",
            "POST",
            AuthorizationType::None,
            integration(
                "MOCK",
                None,
                "NEVER",
                &[(
                    "application/json",
                    r#"{"statusCode": $input.json('$.want')}"#,
                )],
                &[],
                vec![
                    response(
                        "404",
                        Some("4\\d{2}"),
                        &[],
                        &[("application/json", r#"{"missing": true}"#)],
                    ),
                    response(
                        "200",
                        None,
                        &[],
                        &[("application/json", r#"{"fine": true}"#)],
                    ),
                ],
            ),
        ),
        (
            "/unmatched",
            "GET",
            AuthorizationType::None,
            integration(
                "MOCK",
                None,
                "WHEN_NO_MATCH",
                &[("application/json", r#"{"statusCode": 500}"#)],
                &[],
                vec![response("200", Some("2\\d\\d"), &[], &[])],
            ),
        ),
        (
            "/no-templates",
            "POST",
            AuthorizationType::None,
            integration(
                "MOCK",
                None,
                "WHEN_NO_TEMPLATES",
                &[],
                &[],
                vec![response("200", None, &[], &[("text/plain", "passed")])],
            ),
        ),
        (
            "/some-templates",
            "POST",
            AuthorizationType::None,
            integration(
                "MOCK",
                None,
                "WHEN_NO_TEMPLATES",
                &[("application/json", r#"{"statusCode": 200}"#)],
                &[],
                vec![ok_default()],
            ),
        ),
        (
            "/orders/{id}",
            "POST",
            AuthorizationType::None,
            integration(
                "HTTP",
                backend("/created/{id}"),
                "WHEN_NO_MATCH",
                &[(
                    "application/json",
                    r#"{"order": $input.json('$.order'), "stage": "$stageVariables.colour"}"#,
                )],
                &[
                    ("integration.request.path.id", "method.request.path.id"),
                    (
                        "integration.request.querystring.color",
                        "stageVariables.colour",
                    ),
                    ("integration.request.header.x-mapped", "'literal value'"),
                    // Framing stays the gateway's: never sent as mapped.
                    ("integration.request.header.Content-Length", "'1'"),
                ],
                vec![
                    response(
                        "201",
                        Some("201"),
                        &[
                            (
                                "method.response.header.X-Backend",
                                "integration.response.header.x-backend",
                            ),
                            (
                                "method.response.header.X-Path",
                                "integration.response.body.path",
                            ),
                        ],
                        &[(
                            "application/json",
                            r#"{"sent": $input.json('$.body'), "query": "$input.path('$.query')", "header": "$input.path('$.mapped')", "contentType": "$input.path('$.contentType')"}"#,
                        )],
                    ),
                    ok_default(),
                ],
            ),
        ),
        (
            "/down",
            "GET",
            AuthorizationType::None,
            integration(
                "HTTP",
                backend("/down"),
                "WHEN_NO_MATCH",
                &[],
                &[],
                vec![
                    response(
                        "502",
                        Some("5\\d\\d"),
                        &[],
                        &[("application/json", r#"{"backend": "down"}"#)],
                    ),
                    ok_default(),
                ],
            ),
        ),
        (
            "/broken",
            "POST",
            AuthorizationType::None,
            integration(
                "MOCK",
                None,
                "WHEN_NO_MATCH",
                &[("application/json", r#"{"statusCode": $input.json('$.a')}"#)],
                &[],
                vec![ok_default()],
            ),
        ),
    ];
    let mut root = Resource::root();
    for (path, method, authorization, integration) in methods {
        root.add(
            &parse_template(path),
            Method {
                http_method: method.into(),
                resource_path: path.into(),
                authorization,
                integration,
                api_key_required: false,
                request: Default::default(),
            },
        );
    }
    let stage = RestStage {
        name: "prod".into(),
        root,
        policy: None,
        policy_text: None,
        variables: vec![("colour".into(), "blue".into())],
        gateway_responses: Default::default(),
    };
    let mut apis = ApiRegistry::default();
    apis.rest.insert(
        API.into(),
        Arc::new(RestApi {
            id: API.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            endpoint_type: EndpointType::Regional,
            stages: HashMap::from([("prod".into(), stage)]),
        }),
    );
    let config = WorldConfig::parse(WORLD).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    Setup {
        plane: DataPlane::default(),
        apis,
        world: World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned())),
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("{}", self.body))
    }
}

async fn call(setup: &Setup, mut signed: Signed, content_type: Option<&str>, body: &str) -> Answer {
    if let Some(content_type) = content_type {
        signed
            .headers
            .push(("content-type".into(), content_type.as_bytes().to_vec()));
    }
    signed.body = body.as_bytes().to_vec();
    let stage_path = signed.target.split('?').next().unwrap().to_owned();
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
    let facts = RequestFacts {
        now: NOW,
        ..RequestFacts::default()
    };
    let response = setup
        .plane
        .handle(&setup.apis, API, &stage_path, &view, facts, &setup.world)
        .await;
    Answer {
        status: response.status,
        headers: response.headers,
        body: response.body,
    }
}

fn anonymous(method: &str, target: &str) -> Signed {
    request(method, target, HOST, NOW, None)
}

#[tokio::test]
async fn a_mock_response_template_reads_the_path_parameter_and_the_signed_callers_arn() {
    let setup = setup().await;
    let signed = request("GET", "/prod/pets/42", HOST, NOW, Some(ALICE));
    let answer = call(&setup, signed, None, "").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        r#"{"id": 42, "caller": "arn:aws:iam::123456789012:user/alice", "key": "AKIAALICEEXAMPLE0001", "stage": "prod", "resource": "/pets/{id}", "time": "21/Nov/2026:16:12:01 +0000"}"#
    );
    assert_eq!(answer.header("X-Pet"), Some("yes"));
    assert_eq!(answer.header("Content-Type"), Some("application/json"));
    assert!(answer.header("x-amzn-RequestId").is_some());
}

#[tokio::test]
async fn a_mock_request_templates_status_selects_the_integration_response_by_pattern() {
    let setup = setup().await;
    let answer = call(
        &setup,
        anonymous("POST", "/prod/status"),
        Some("application/json"),
        r#"{"want": 404}"#,
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (404, r#"{"missing": true}"#)
    );
    // No pattern matches 201: the default response answers, with its own status.
    let answer = call(
        &setup,
        anonymous("POST", "/prod/status"),
        Some("application/json; charset=utf-8"),
        r#"{"want": 201}"#,
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"fine": true}"#)
    );
}

#[tokio::test]
async fn a_status_no_integration_response_selects_is_aws_500() {
    let setup = setup().await;
    let answer = call(&setup, anonymous("GET", "/prod/unmatched"), None, "").await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(
        answer.header("x-amzn-ErrorType"),
        Some("InternalServerErrorException")
    );
}

#[tokio::test]
async fn a_content_type_without_template_is_415_unless_the_passthrough_behavior_allows_it() {
    let setup = setup().await;
    // NEVER.
    let answer = call(
        &setup,
        anonymous("POST", "/prod/status"),
        Some("text/plain"),
        "{}",
    )
    .await;
    assert_eq!(answer.status, 415);
    assert_eq!(answer.body, r#"{"message":"Unsupported Media Type"}"#);
    assert_eq!(
        answer.header("x-amzn-ErrorType"),
        Some("UnsupportedMediaTypeException")
    );
    // WHEN_NO_TEMPLATES with templates defined.
    let answer = call(
        &setup,
        anonymous("POST", "/prod/some-templates"),
        Some("text/plain"),
        "x",
    )
    .await;
    assert_eq!(answer.status, 415);
    // WHEN_NO_TEMPLATES with none: the body passes (an empty MOCK body is 200).
    let answer = call(
        &setup,
        anonymous("POST", "/prod/no-templates"),
        Some("text/plain"),
        "",
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "passed"));
    assert_eq!(answer.header("Content-Type"), Some("text/plain"));
}

#[tokio::test]
async fn an_http_integration_sends_the_rendered_request_whole_and_maps_the_backends_answer() {
    let setup = setup().await;
    let answer = call(
        &setup,
        anonymous("POST", "/prod/orders/7?ignored=1"),
        Some("application/json"),
        r#"{"order": {"item": "tea", "n": 2}}"#,
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let body = answer.json();
    // The request template's output, with the stage variable, is what the
    // backend received; the caller's own query string is not forwarded.
    assert_eq!(
        body["sent"],
        r#"{"order": {"item":"tea","n":2}, "stage": "blue"}"#
    );
    assert_eq!(body["query"], "color=blue");
    assert_eq!(body["header"], "literal value");
    assert_eq!(body["contentType"], "application/json");
    assert_eq!(answer.header("X-Backend"), Some("echo"));
    assert_eq!(answer.header("X-Path"), Some("/created/7"));
}

#[tokio::test]
async fn a_backend_error_status_selects_its_integration_response() {
    let setup = setup().await;
    let answer = call(&setup, anonymous("GET", "/prod/down"), None, "").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (502, r#"{"backend": "down"}"#)
    );
    // The backend's headers are not passed on by a non-proxy integration.
    assert_eq!(answer.header("x-backend"), None);
}

#[tokio::test]
async fn a_template_that_fails_to_render_is_aws_500_never_a_partial_body() {
    let setup = setup().await;
    let answer = call(
        &setup,
        anonymous("POST", "/prod/broken"),
        Some("application/json"),
        "this is not json",
    )
    .await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, r#"{"message": "Internal server error"}"#);
}
