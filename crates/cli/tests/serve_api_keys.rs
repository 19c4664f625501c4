#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! API keys, usage plans, throttles and quotas, configured with the AWS
//! CLI on a running `iamgate serve` and enforced at execute-api: a method
//! with `apiKeyRequired` refuses a request without a key, with an unknown
//! or disabled key, or with a key of no plan of the stage (403
//! `Forbidden`), lets a planned key through, answers 429 `Too Many
//! Requests` once the plan's burst is spent and lets the key through again
//! once the bucket refilled, answers 429 `Limit Exceeded` once the quota
//! is used up, and GetUsage counts what was let through.

mod support;

use std::time::Duration;

use support::{AwsCli, Keys, Server, ServerOptions, http};

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEKEYSROOT1, secret: "exampleApiKeysRootSecretKey000000000001" }
"#;

/// A key value the tests choose (AWS accepts 20 to 128 characters).
const THROTTLED_KEY: &str = "throttled-key-value-0000000000000001";
const QUOTA_KEY: &str = "quota-key-value-000000000000000000001";
const SPARE_KEY: &str = "spare-key-value-000000000000000000001";
const IMPORTED_KEY: &str = "imported-key-value-000000000000000001";

fn root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEKEYSROOT1",
        "exampleApiKeysRootSecretKey000000000001",
    )
}

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

/// `GET /{stage}/` of `api` with `x-api-key: key` when given.
fn invoke(server: &Server, api: &str, stage: &str, key: Option<&str>) -> support::HttpResponse {
    let mut headers = vec![(
        "Host".to_owned(),
        format!("{api}.execute-api.us-east-1.amazonaws.com"),
    )];
    if let Some(key) = key {
        headers.push(("x-api-key".to_owned(), key.to_owned()));
    }
    let path = format!("/{stage}/");
    http(server.port, "GET", &path, &headers, b"").unwrap()
}

fn assert_refused(response: &support::HttpResponse, status: u16, error_type: &str, body: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.body, body);
    assert_eq!(response.header("x-amzn-ErrorType"), Some(error_type));
    assert!(response.header("x-amzn-RequestId").is_some());
}

#[test]
fn api_keys_usage_plans_throttles_and_quotas_are_enforced_and_counted() {
    let (server, dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = root();
    let run = |args: &[&str]| cli.run(&owner, args);

    // An API whose `GET /` requires an API key, deployed to two stages.
    let api = run(&["apigateway", "create-rest-api", "--name", "keys"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    let at = [
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_id,
        "--http-method",
        "GET",
    ];
    let method = run(&[
        &["apigateway", "put-method"][..],
        &at,
        &["--authorization-type", "NONE", "--api-key-required"],
    ]
    .concat())
    .json();
    assert_eq!(method["apiKeyRequired"], true);
    cli.put_mock_200(&owner, &at, Some(r#"{"ok": true}"#));
    for stage in ["prod", "metered"] {
        run(&[
            "apigateway",
            "create-deployment",
            "--rest-api-id",
            &id,
            "--stage-name",
            stage,
        ])
        .json();
    }

    // Keys: a value the test chooses, and a generated one.
    let create_key = |name: &str, value: &str| {
        let key = run(&[
            "apigateway",
            "create-api-key",
            "--name",
            name,
            "--value",
            value,
            "--enabled",
        ])
        .json();
        assert_eq!(key["value"], value);
        assert_eq!(key["enabled"], true);
        key["id"].as_str().unwrap().to_owned()
    };
    let throttled_key = create_key("throttled", THROTTLED_KEY);
    let quota_key = create_key("quota", QUOTA_KEY);
    let spare_key = create_key("spare", SPARE_KEY);
    let generated = run(&["apigateway", "create-api-key", "--name", "generated"]).json();
    assert_eq!(generated["value"].as_str().unwrap().len(), 40);
    assert_eq!(generated["enabled"], false);
    run(&[
        "apigateway",
        "create-api-key",
        "--name",
        "short",
        "--value",
        "too-short",
    ])
    .assert_error(
        "BadRequestException",
        "API Key value should be at least 20 characters",
    );
    // The value is shown only when asked for.
    let read = run(&["apigateway", "get-api-key", "--api-key", &throttled_key]).json();
    assert!(read.get("value").is_none(), "{read}");
    let read = run(&[
        "apigateway",
        "get-api-key",
        "--api-key",
        &throttled_key,
        "--include-value",
    ])
    .json();
    assert_eq!(read["value"], THROTTLED_KEY);
    run(&["apigateway", "get-api-key", "--api-key", "nosuchkey0"])
        .assert_error("NotFoundException", "Invalid API Key identifier specified");

    // Plans: a burst of 2 at 1 request a second on `prod`; a quota of 3
    // a day on `metered`.
    let throttle_plan = run(&[
        "apigateway",
        "create-usage-plan",
        "--name",
        "throttled",
        "--api-stages",
        &format!("apiId={id},stage=prod"),
        "--throttle",
        "burstLimit=2,rateLimit=1",
    ])
    .json();
    assert_eq!(throttle_plan["throttle"]["burstLimit"], 2);
    let throttle_plan = throttle_plan["id"].as_str().unwrap().to_owned();
    let quota_plan = run(&[
        "apigateway",
        "create-usage-plan",
        "--name",
        "metered",
        "--api-stages",
        &format!("apiId={id},stage=metered"),
        "--quota",
        "limit=3,period=DAY,offset=0",
    ])
    .json();
    assert_eq!(quota_plan["quota"]["period"], "DAY");
    let quota_plan = quota_plan["id"].as_str().unwrap().to_owned();
    for (plan, key) in [(&throttle_plan, &throttled_key), (&quota_plan, &quota_key)] {
        let added = run(&[
            "apigateway",
            "create-usage-plan-key",
            "--usage-plan-id",
            plan,
            "--key-id",
            key,
            "--key-type",
            "API_KEY",
        ])
        .json();
        assert_eq!(added["type"], "API_KEY");
    }
    let plans_of_key = run(&["apigateway", "get-usage-plans", "--key-id", &quota_key]).json();
    assert_eq!(plans_of_key["items"].as_array().unwrap().len(), 1);
    assert_eq!(plans_of_key["items"][0]["id"], quota_plan.as_str());

    // Refusals: no key, an unknown key, a key of no plan of the stage, a
    // key of another stage's plan.
    let forbidden = r#"{"message":"Forbidden"}"#;
    assert_refused(
        &invoke(&server, &id, "prod", None),
        403,
        "ForbiddenException",
        forbidden,
    );
    assert_refused(
        &invoke(&server, &id, "prod", Some("not-a-key-of-anybody-00000")),
        403,
        "ForbiddenException",
        forbidden,
    );
    assert_refused(
        &invoke(&server, &id, "prod", Some(SPARE_KEY)),
        403,
        "ForbiddenException",
        forbidden,
    );
    assert_refused(
        &invoke(&server, &id, "prod", Some(QUOTA_KEY)),
        403,
        "ForbiddenException",
        forbidden,
    );

    // The burst, then 429 until the bucket refills.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = invoke(&server, &id, "prod", Some(THROTTLED_KEY));
        if response.status == 429 {
            assert_refused(
                &response,
                429,
                "TooManyRequestsException",
                r#"{"message":"Too Many Requests"}"#,
            );
        } else {
            assert_eq!(response.status, 200, "{}", response.body);
            assert_eq!(response.body, r#"{"ok": true}"#);
        }
        statuses.push(response.status);
    }
    assert_eq!(statuses[..2], [200, 200], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // A rate of 1 a second refills the bucket within two seconds.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        invoke(&server, &id, "prod", Some(THROTTLED_KEY)).status,
        200
    );

    // A disabled key is refused, enabled again it is let through.
    let set_enabled = |value: &str| {
        run(&[
            "apigateway",
            "update-api-key",
            "--api-key",
            &throttled_key,
            "--patch-operations",
            &format!("op=replace,path=/enabled,value={value}"),
        ])
        .json()
    };
    assert_eq!(set_enabled("false")["enabled"], false);
    assert_refused(
        &invoke(&server, &id, "prod", Some(THROTTLED_KEY)),
        403,
        "ForbiddenException",
        forbidden,
    );
    set_enabled("true");

    // A stage throttle (`methodSettings` `*/*`) of a burst of 1 that never
    // refills: one more request, then 429 whatever the plan allows.
    let stage = run(&[
        "apigateway",
        "update-stage",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
        "--patch-operations",
        "op=replace,path=/*/*/throttling/burstLimit,value=1",
        "op=replace,path=/*/*/throttling/rateLimit,value=0",
    ])
    .json();
    assert_eq!(
        stage["methodSettings"]["*/*"]["throttlingBurstLimit"], 1,
        "{stage}"
    );
    assert_eq!(stage["methodSettings"]["*/*"]["throttlingRateLimit"], 0.0);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        invoke(&server, &id, "prod", Some(THROTTLED_KEY)).status,
        200
    );
    assert_refused(
        &invoke(&server, &id, "prod", Some(THROTTLED_KEY)),
        429,
        "TooManyRequestsException",
        r#"{"message":"Too Many Requests"}"#,
    );

    // The quota: three requests, then `Limit Exceeded`.
    for _ in 0..3 {
        assert_eq!(invoke(&server, &id, "metered", Some(QUOTA_KEY)).status, 200);
    }
    assert_refused(
        &invoke(&server, &id, "metered", Some(QUOTA_KEY)),
        429,
        "LimitExceededException",
        r#"{"message":"Limit Exceeded"}"#,
    );

    // QUOTA_EXCEEDED is a gateway response type like any other: customized
    // and deployed, it answers instead of AWS's default.
    run(&[
        "apigateway",
        "put-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "QUOTA_EXCEEDED",
        "--status-code",
        "429",
        "--response-templates",
        r#"{"application/json": "{\"quota\":\"$context.error.responseType\"}"}"#,
    ])
    .json();
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "metered",
    ])
    .json();
    let customized = invoke(&server, &id, "metered", Some(QUOTA_KEY));
    assert_eq!(customized.status, 429);
    assert_eq!(customized.body, r#"{"quota":"QUOTA_EXCEEDED"}"#);

    // GetUsage: today's three requests, none left.
    let today = run_date();
    let usage = run(&[
        "apigateway",
        "get-usage",
        "--usage-plan-id",
        &quota_plan,
        "--start-date",
        &today,
        "--end-date",
        &today,
    ])
    .json();
    assert_eq!(usage["usagePlanId"], quota_plan.as_str());
    assert_eq!(
        usage["items"][&quota_key],
        serde_json::json!([[3, 0]]),
        "{usage}"
    );

    // UpdateUsage gives the key two more for today.
    run(&[
        "apigateway",
        "update-usage",
        "--usage-plan-id",
        &quota_plan,
        "--key-id",
        &quota_key,
        "--patch-operations",
        "op=replace,path=/remaining,value=2",
    ])
    .json();
    assert_eq!(invoke(&server, &id, "metered", Some(QUOTA_KEY)).status, 200);

    // Removing the key from its plan refuses it; deleting a key forgets it.
    run(&[
        "apigateway",
        "delete-usage-plan-key",
        "--usage-plan-id",
        &quota_plan,
        "--key-id",
        &quota_key,
    ]);
    assert_eq!(invoke(&server, &id, "metered", Some(QUOTA_KEY)).status, 403);
    run(&["apigateway", "delete-api-key", "--api-key", &throttled_key]);
    // A deleted key is in no plan any more.
    let plans = run(&["apigateway", "get-usage-plans", "--key-id", &throttled_key]).json();
    assert_eq!(plans["items"], serde_json::json!([]), "{plans}");
    assert_refused(
        &invoke(&server, &id, "prod", Some(THROTTLED_KEY)),
        403,
        "ForbiddenException",
        forbidden,
    );
    run(&["apigateway", "delete-api-key", "--api-key", &spare_key]);
    run(&["apigateway", "get-api-key", "--api-key", &spare_key])
        .assert_error("NotFoundException", "Invalid API Key identifier specified");

    // ImportApiKeys: AWS's CSV, plans in quotes; importing the same value
    // again is the same key.
    let csv_dir = tempfile::tempdir().unwrap();
    let file = csv_dir.path().join("keys.csv");
    std::fs::write(
        &file,
        format!("Name,key,UsagePlanIds\nimported,{IMPORTED_KEY},\"{quota_plan}\"\n"),
    )
    .unwrap();
    let body = format!("fileb://{}", file.display());
    let import = || {
        run(&[
            "apigateway",
            "import-api-keys",
            "--body",
            &body,
            "--format",
            "csv",
        ])
        .json()
    };
    let first = import();
    assert_eq!(first["ids"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(import()["ids"], first["ids"]);
    assert_eq!(
        invoke(&server, &id, "metered", Some(IMPORTED_KEY)).status,
        200
    );

    // Keys' values never reach the server's logs, and are sealed in the
    // store.
    let logs = server.stop();
    for value in [THROTTLED_KEY, QUOTA_KEY, SPARE_KEY, IMPORTED_KEY] {
        assert!(!logs.contains(value), "a key value was logged");
    }
    assert_not_stored(&dir.path().join("data"), &[QUOTA_KEY, IMPORTED_KEY]);
}

/// None of `values` is in any file of the store's directory.
fn assert_not_stored(data: &std::path::Path, values: &[&str]) {
    let mut files = 0;
    for entry in std::fs::read_dir(data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        for value in values {
            assert!(
                !bytes
                    .windows(value.len())
                    .any(|window| window == value.as_bytes()),
                "a key value is in the store as plain text"
            );
        }
    }
    assert!(files > 0, "no store files in {}", data.display());
}

/// Today (UTC) as `YYYY-MM-DD`, from the system's `date`.
fn run_date() -> String {
    let output = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A world file that declares the API, a key with a fixed value and a
/// plan with a quota of two a day.
const DECLARED: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEKEYSROOT1, secret: "exampleApiKeysRootSecretKey000000000001" }
apis:
  - id: keysapi001
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /, method: GET, authorization: NONE, api_key_required: true,
          integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
      - { path: /open, method: GET, authorization: NONE,
          integration: { type: MOCK, status: 200, body: '{"open":true}' } }
api_keys:
  - { name: partner, account: "123456789012", value: "declared-partner-key-000000000001" }
  - { name: off, account: "123456789012", value: "declared-disabled-key-00000000001", enabled: false }
usage_plans:
  - name: daily
    account: "123456789012"
    api_stages: [{ api: keysapi001, stage: prod }]
    quota: { limit: 2, period: DAY }
    keys: [partner, off]
"#;

#[test]
fn keys_and_plans_declared_in_the_world_file_are_enforced_and_recorded_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, DECLARED).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let api = "keysapi001";
    let partner = "declared-partner-key-000000000001";
    let forbidden = r#"{"message":"Forbidden"}"#;

    // A method without apiKeyRequired needs no key.
    let mut headers = vec![(
        "Host".to_owned(),
        format!("{api}.execute-api.us-east-1.amazonaws.com"),
    )];
    assert_eq!(
        http(server.port, "GET", "/prod/open", &headers, b"")
            .unwrap()
            .status,
        200
    );
    assert_refused(
        &invoke(&server, api, "prod", None),
        403,
        "ForbiddenException",
        forbidden,
    );
    assert_refused(
        &invoke(
            &server,
            api,
            "prod",
            Some("declared-disabled-key-00000000001"),
        ),
        403,
        "ForbiddenException",
        forbidden,
    );
    let first = invoke(&server, api, "prod", Some(partner));
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(invoke(&server, api, "prod", Some(partner)).status, 200);
    let exhausted = invoke(&server, api, "prod", Some(partner));
    assert_refused(
        &exhausted,
        429,
        "LimitExceededException",
        r#"{"message":"Limit Exceeded"}"#,
    );

    // The decision records name the key by id and say what was left.
    let key_id = iamgate_apimodel::usage_config::declared_key_id("123456789012", "partner");
    let plan_id = iamgate_apimodel::usage_config::declared_plan_id("123456789012", "daily");
    let allowed =
        support::explain(&server, &root(), first.header("x-amzn-RequestId").unwrap()).unwrap();
    assert_eq!(allowed["usage"]["apiKeyId"], key_id.as_str(), "{allowed}");
    assert_eq!(allowed["usage"]["usagePlanId"], plan_id.as_str());
    assert_eq!(allowed["usage"]["outcome"], "allowed");
    assert_eq!(allowed["usage"]["remainingQuota"], 1);
    let refused = support::explain(
        &server,
        &root(),
        exhausted.header("x-amzn-RequestId").unwrap(),
    )
    .unwrap();
    assert_eq!(refused["usage"]["outcome"], "quota_exceeded", "{refused}");
    assert_eq!(refused["decision"], "usage_refused");
    assert!(
        !refused.to_string().contains(partner),
        "a key value was recorded"
    );
    headers.clear();
    let logs = server.stop();
    assert!(!logs.contains(partner), "a key value was logged");
    assert_not_stored(&dir.path().join("data"), &[partner]);
}

const POSTGRES_URL_ENV: &str = "IAMGATE_TEST_POSTGRES_URL";
const SECRET_KEY: &str = "8d3f0c5a1b2e4f6a7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";

/// A schema of its own in the test database, dropped afterwards.
fn with_schema(case: &str, test: impl FnOnce(String)) {
    use sqlx::Connection;
    let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
        eprintln!("SKIP: {POSTGRES_URL_ENV} not set");
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = format!("iamgate_e2e_{case}_{}", std::process::id());
    let admin = || async {
        sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap()
    };
    runtime.block_on(async {
        let mut connection = admin().await;
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&mut connection)
            .await
            .unwrap();
    });
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let store_url = format!("{admin_url}{separator}options[search_path]={name}");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(store_url)));
    runtime.block_on(async {
        let mut connection = admin().await;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
            .execute(&mut connection)
            .await
            .unwrap();
    });
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_quota_holds_across_two_nodes_sharing_one_postgresql_store() {
    with_schema("api_keys_quota", |store_url| {
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let config = dirs.0.path().join("world.yaml");
        // The same declaration with a quota of four a day.
        std::fs::write(&config, DECLARED.replace("limit: 2", "limit: 4")).unwrap();
        let options = |dir: &tempfile::TempDir, config: Option<std::path::PathBuf>| ServerOptions {
            config,
            data_dir: dir.path().to_owned(),
            store: Some(store_url.clone()),
            env: vec![("IAMGATE_SECRET_KEY".to_owned(), SECRET_KEY.to_owned())],
            args: vec!["--usage-flush-interval".to_owned(), "100ms".to_owned()],
            ..ServerOptions::default()
        };
        let one = Server::start(&options(&dirs.0, Some(config)));
        let two = Server::start(&options(&dirs.1, None));
        let api = "keysapi001";
        let partner = "declared-partner-key-000000000001";
        // Node two serves the API once the shared store's change reached it.
        let mut served = false;
        for _ in 0..50 {
            if invoke(&two, api, "prod", None).status == 403 {
                served = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(served, "node two never served the declared API");
        for _ in 0..3 {
            assert_eq!(invoke(&one, api, "prod", Some(partner)).status, 200);
        }
        // Several flush intervals: node one adds its three, node two
        // learns them.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(invoke(&two, api, "prod", Some(partner)).status, 200);
        assert_refused(
            &invoke(&two, api, "prod", Some(partner)),
            429,
            "LimitExceededException",
            r#"{"message":"Limit Exceeded"}"#,
        );
    });
}

const HTTP_WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEKEYSROOT1, secret: "exampleApiKeysRootSecretKey000000000001" }
apis:
  - id: keyshttp01
    type: HTTP
    account: "123456789012"
    region: us-east-1
    routes:
      - { key: "GET /pets", authorization: NONE, integration: { type: MOCK, status: 200, body: '{"pets":[]}' } }
"#;

#[test]
fn an_http_api_stage_throttle_set_by_update_stage_answers_429_too_many_requests() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, HTTP_WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let get = || {
        let headers = vec![(
            "Host".to_owned(),
            "keyshttp01.execute-api.us-east-1.amazonaws.com".to_owned(),
        )];
        http(server.port, "GET", "/pets", &headers, b"").unwrap()
    };
    assert_eq!(get().status, 200);
    // A burst of one that never refills: one more request, then 429.
    let stage = cli
        .run(
            &root(),
            &[
                "apigatewayv2",
                "update-stage",
                "--api-id",
                "keyshttp01",
                "--stage-name",
                "$default",
                "--default-route-settings",
                "ThrottlingBurstLimit=1,ThrottlingRateLimit=0",
            ],
        )
        .json();
    assert_eq!(
        stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], 1,
        "{stage}"
    );
    assert_eq!(get().status, 200);
    let throttled = get();
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.body, r#"{"message":"Too Many Requests"}"#);
    assert!(throttled.header("apigw-requestid").is_some());
}

const AUTH_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:keyauth/invocations";
const AUTHORIZER_KEY: &str = "key-from-the-authorizer-00000000001";

/// `keyauth` allows every token and names the key `AUTHORIZER_KEY` as
/// the usage identifier for `Bearer planned`, another for anything else.
fn key_authorizer(_function: &str, event: &serde_json::Value) -> (u16, String, bool) {
    let token = event["authorizationToken"].as_str().unwrap_or_default();
    let key = if token == "Bearer planned" {
        AUTHORIZER_KEY
    } else {
        "a-key-nobody-has-000000000000001"
    };
    let answer = serde_json::json!({
        "principalId": "caller",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:us-east-1:123456789012:*"}]},
        "usageIdentifierKey": key,
    });
    (200, answer.to_string(), false)
}

#[test]
fn with_api_key_source_authorizer_the_key_is_the_lambda_authorizers_usage_identifier_key() {
    let lambda = support::start_lambda_api(key_authorizer);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("world.yaml");
    std::fs::write(&config, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(config),
        data_dir: dir.path().join("data"),
        args: vec![
            "--lambda-endpoint".into(),
            format!("http://127.0.0.1:{lambda}"),
        ],
        ..ServerOptions::default()
    });
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = root();
    let run = |args: &[&str]| cli.run(&owner, args);
    let api = run(&[
        "apigateway",
        "create-rest-api",
        "--name",
        "by-authorizer",
        "--api-key-source",
        "AUTHORIZER",
    ])
    .json();
    assert_eq!(api["apiKeySource"], "AUTHORIZER");
    let id = api["id"].as_str().unwrap().to_owned();
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    let authorizer = run(&[
        "apigateway",
        "create-authorizer",
        "--rest-api-id",
        &id,
        "--name",
        "keyauth",
        "--type",
        "TOKEN",
        "--authorizer-uri",
        AUTH_URI,
        "--identity-source",
        "method.request.header.Authorization",
        "--authorizer-result-ttl-in-seconds",
        "0",
    ])
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = [
        "--rest-api-id",
        &id,
        "--resource-id",
        &root_id,
        "--http-method",
        "GET",
    ];
    run(&[
        &["apigateway", "put-method"][..],
        &at,
        &[
            "--authorization-type",
            "CUSTOM",
            "--authorizer-id",
            &authorizer,
            "--api-key-required",
        ],
    ]
    .concat())
    .json();
    cli.put_mock_200(&owner, &at, None);
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();
    let key = run(&[
        "apigateway",
        "create-api-key",
        "--name",
        "from-authorizer",
        "--value",
        AUTHORIZER_KEY,
        "--enabled",
    ])
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = run(&[
        "apigateway",
        "create-usage-plan",
        "--name",
        "by-authorizer",
        "--api-stages",
        &format!("apiId={id},stage=prod"),
    ])
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[
        "apigateway",
        "create-usage-plan-key",
        "--usage-plan-id",
        &plan,
        "--key-id",
        &key,
        "--key-type",
        "API_KEY",
    ])
    .json();

    let call = |token: &str, header_key: Option<&str>| {
        let mut headers = vec![
            (
                "Host".to_owned(),
                format!("{id}.execute-api.us-east-1.amazonaws.com"),
            ),
            ("Authorization".to_owned(), token.to_owned()),
        ];
        if let Some(value) = header_key {
            headers.push(("x-api-key".to_owned(), value.to_owned()));
        }
        http(server.port, "GET", "/prod/", &headers, b"").unwrap()
    };
    assert_eq!(call("Bearer planned", None).status, 200);
    // The authorizer names a key nobody has: `x-api-key` does not count.
    assert_refused(
        &call("Bearer other", Some(AUTHORIZER_KEY)),
        403,
        "ForbiddenException",
        r#"{"message":"Forbidden"}"#,
    );
}
