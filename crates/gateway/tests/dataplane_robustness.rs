#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Hostile execute-api requests through the whole data plane: any method,
//! path (bad percent-encoding, dot segments, doubled slashes, non-UTF-8
//! after decoding, huge), query and headers, signed or not, never panic and
//! always get one of AWS's answers: a JSON body, a request id header, and a
//! status the gateway can give.

mod support;

use iamgate_apimodel::config::ApiRegistry;
use iamgate_gateway::dataplane::{DataPlane, address};
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;
use proptest::prelude::*;
use support::request;

const NOW: i64 = 1_795_277_521;

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    users:
      - name: alice
        access_keys: [{ id: AKIAALICEEXAMPLE0001, secret: "alice-secret" }]
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}'
apis:
  - id: r1b2c3d4e5
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/DELETE/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}'
    methods:
      - { path: "/pets/{id}", method: GET, authorization: AWS_IAM, integration: { type: MOCK, body: pet } }
      - { path: "/files/{proxy+}", method: ANY, authorization: NONE, integration: { type: MOCK, body: file } }
      - { path: "/", method: ANY, authorization: AWS_IAM, integration: { type: MOCK, body: root } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "123456789012"
    region: us-east-1
    routes:
      - { key: "GET /pets/{id}", authorization: AWS_IAM, integration: { type: MOCK, body: pet } }
      - { key: "$default", authorization: NONE, integration: { type: MOCK, body: default } }
"#;

struct Setup {
    plane: DataPlane,
    apis: ApiRegistry,
    world: World,
    runtime: tokio::runtime::Runtime,
}

/// Built once: the property is about requests, not about set-up.
fn setup() -> &'static Setup {
    static SETUP: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    SETUP.get_or_init(build)
}

fn build() -> Setup {
    let config = WorldConfig::parse_with_sections(WORLD, &["apis"]).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    Setup {
        plane: DataPlane::default(),
        apis: ApiRegistry::from_world_file(WORLD).unwrap(),
        world: World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned())),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    }
}

/// Path pieces that have tripped routers and decoders elsewhere.
fn path_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("prod".to_owned()),
        Just("$default".to_owned()),
        Just("pets".to_owned()),
        Just("files".to_owned()),
        Just("{id}".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("%".to_owned()),
        Just("%zz".to_owned()),
        Just("%ff%fe".to_owned()),
        Just("%2F".to_owned()),
        Just("%00".to_owned()),
        Just("é".to_owned()),
        Just("a".repeat(5000)),
        "[ -~]{0,12}",
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_owned()),
        Just("DELETE".to_owned()),
        Just("ANY".to_owned()),
        Just("get".to_owned()),
        Just(String::new()),
        "[A-Z]{1,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_gets_an_aws_answer_and_never_a_panic(
        rest in any::<bool>(),
        method in method(),
        pieces in proptest::collection::vec(path_piece(), 0..6),
        query in "[ -~]{0,20}",
        signed in any::<bool>(),
        garbage_authorization in proptest::option::of("[ -~]{0,80}"),
        extra_header in proptest::option::of(("[a-zA-Z-]{1,12}", proptest::collection::vec(any::<u8>(), 0..20))),
    ) {
        let setup = setup();
        let api = if rest { "r1b2c3d4e5" } else { "h1b2c3d4e5" };
        let path = format!("/{}", pieces.join("/"));
        let target = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
        let key = signed.then_some(("AKIAALICEEXAMPLE0001", "alice-secret"));
        let method = if method.is_empty() { "GET".to_owned() } else { method };
        let mut request = request(&method, &target, &host, NOW, key);
        if let Some(value) = garbage_authorization {
            request.headers.push(("authorization".into(), value.into_bytes()));
        }
        if let Some((name, value)) = extra_header {
            request.headers.push((name, value));
        }
        let headers = request.refs();
        let view = HttpRequest::from_target(&request.method, &request.target, &headers, &request.body);
        let Some(addressed) = address(Some(&host), view.path) else {
            panic!("an execute-api host is always addressed");
        };
        let facts = RequestFacts { now: NOW, ..RequestFacts::default() };
        let response = setup.runtime.block_on(setup.plane.handle(
            &setup.apis,
            addressed.api_id,
            &addressed.path,
            &view,
            facts,
            &setup.world,
        ));
        prop_assert!(
            [200, 400, 403, 404, 413, 500, 502, 504].contains(&response.status),
            "{} {}", response.status, response.body
        );
        if response.status != 200 {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&response.body).is_ok(), "{}", response.body);
        }
        prop_assert!(
            response.header("x-amzn-RequestId").is_some() || response.header("apigw-requestid").is_some(),
            "{:?}", response.headers
        );
    }
}
