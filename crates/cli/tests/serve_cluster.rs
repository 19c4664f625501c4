#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Two `iamgate serve` nodes on one PostgreSQL schema (the database of
//! `IAMGATE_TEST_POSTGRES_URL`, a fresh schema per test, dropped at the
//! end; skipped, saying so, when the variable is unset). Both nodes share
//! the secret key, so a session sealed by one opens on the other.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use support::{
    Keys, Server, ServerOptions, example, keys_from_sdk, sdk_config, sign_execute_api, sts_client,
};

const POSTGRES_URL_ENV: &str = "IAMGATE_TEST_POSTGRES_URL";
const SECRET_KEY: &str = "8d3f0c5a1b2e4f6a7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";

/// A schema of its own, dropped when this drops.
struct Schema {
    admin_url: String,
    name: String,
}

impl Schema {
    async fn create(case: &str) -> Option<Schema> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
            eprintln!("SKIP: {POSTGRES_URL_ENV} not set");
            return None;
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("iamgate_e2e_{case}_{}_{nanos}", std::process::id());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Some(Schema { admin_url, name })
    }

    fn store_url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options[search_path]={}",
            self.admin_url, self.name
        )
    }

    async fn drop_now(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}

/// Two nodes on one fresh schema: node 1 applies the example world file,
/// node 2 only reads the shared store; decision records are not persisted
/// (the default), so each node asks the other for the records it holds.
struct Nodes {
    one: Server,
    two: Server,
    /// The shared store, to look into it.
    store_url: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Runs `case` on two new nodes, then drops the schema, whatever `case`
/// did; skipped without PostgreSQL.
async fn on_two_nodes<F, Fut>(name: &str, case: F)
where
    F: FnOnce(Nodes) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(schema) = Schema::create(name).await else {
        return;
    };
    let store_url = schema.store_url();
    let outcome = tokio::spawn(async move {
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let options = |dir: &tempfile::TempDir, config: bool| ServerOptions {
            config: config.then(|| example("http-api-cross-account/world.yaml")),
            data_dir: dir.path().to_owned(),
            store: Some(store_url.clone()),
            env: vec![("IAMGATE_SECRET_KEY".to_owned(), SECRET_KEY.to_owned())],
            ..ServerOptions::default()
        };
        let one = Server::start(&options(&dirs.0, true));
        let two = Server::start(&options(&dirs.1, false));
        case(Nodes {
            one,
            two,
            store_url,
            _dirs: dirs,
        })
        .await;
    })
    .await;
    schema.drop_now().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_issued_by_one_node_work_on_the_other() {
    on_two_nodes("two_nodes", two_nodes).await;
}

async fn two_nodes(Nodes { one, two, .. }: Nodes) {
    let user = Keys::new(
        "AKIAEXAMPLEUSERU0001",
        "exampleUserUSecretAccessKey00000000000001",
    );
    let assumed = sts_client(&one.endpoint(), &user)
        .await
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/Invoker")
        .role_session_name("node-one")
        .send()
        .await
        .unwrap();
    let session = keys_from_sdk(assumed.credentials().unwrap());
    let who = sts_client(&two.endpoint(), &session)
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/Invoker/node-one")
    );
    // And the other way round.
    let assumed = sts_client(&two.endpoint(), &user)
        .await
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/Invoker")
        .role_session_name("node-two")
        .send()
        .await
        .unwrap();
    let session = keys_from_sdk(assumed.credentials().unwrap());
    let who = sts_client(&one.endpoint(), &session)
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/Invoker/node-two")
    );

    // IAM: a user and key created through node 1 can call node 2 within a second.
    let root = Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    );
    let iam = aws_sdk_iam::Client::new(&sdk_config(&one.endpoint(), &root).await);
    iam.create_user().user_name("dave").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("dave")
        .send()
        .await
        .unwrap();
    let created = Instant::now();
    let key = key.access_key().unwrap();
    let dave = Keys::new(key.access_key_id(), key.secret_access_key());
    let on_two = sts_client(&two.endpoint(), &dave).await;
    let who = loop {
        match on_two.get_caller_identity().send().await {
            Ok(who) => break who,
            Err(error) => {
                assert!(
                    created.elapsed() < Duration::from_secs(1),
                    "node 2 still refuses dave after {:?}: {error:?}",
                    created.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    eprintln!(
        "node 2 accepted the new key {:?} after it was created",
        created.elapsed()
    );
    assert_eq!(who.arn(), Some("arn:aws:iam::111122223333:user/dave"));
    // And node 2 sees it through IAM too.
    let iam_two = aws_sdk_iam::Client::new(&sdk_config(&two.endpoint(), &root).await);
    let user = iam_two.get_user().user_name("dave").send().await.unwrap();
    assert_eq!(
        user.user().unwrap().arn(),
        "arn:aws:iam::111122223333:user/dave"
    );

    // API Gateway: a REST API built and deployed through node 1 is served
    // by node 2 within a second.
    let apigw = aws_sdk_apigateway::Client::new(&sdk_config(&one.endpoint(), &root).await);
    let api = apigw.create_rest_api().name("shared").send().await.unwrap();
    let api_id = api.id().unwrap().to_owned();
    let root_resource = api.root_resource_id().unwrap();
    apigw
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(root_resource)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&api_id)
        .resource_id(root_resource)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    apigw
        .put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(root_resource)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", "shared by both nodes")
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let deployed = Instant::now();
    let target = format!("/restapis/{api_id}/prod/_user_request_/");
    loop {
        let answer = support::http(two.port, "GET", &target, &[], b"").unwrap();
        if answer.status == 200 {
            assert_eq!(answer.body, "shared by both nodes");
            break;
        }
        assert!(
            deployed.elapsed() < Duration::from_secs(1),
            "node 2 still answers {} {} after {:?}",
            answer.status,
            answer.body,
            deployed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "node 2 served the new deployment {:?} after it was made",
        deployed.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_recorded_by_one_node_is_explained_by_the_other() {
    on_two_nodes("decisions", decision_on_the_other_node).await;
}

/// `iamgate explain ID --json` against `server` as `keys`, retried while
/// the serving node's writer may not have persisted the record yet.
async fn explain_eventually(server: &Server, keys: &Keys, id: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_iamgate"))
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
            return serde_json::from_slice(&output.stdout).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "node 2 has no record of {id}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn decision_on_the_other_node(
    Nodes {
        one,
        two,
        store_url,
        ..
    }: Nodes,
) {
    let user = Keys::new(
        "AKIAEXAMPLEUSERU0001",
        "exampleUserUSecretAccessKey00000000000001",
    );
    let owner = Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    );

    // Account B's user calls account A's HTTP API directly, on node 1.
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let headers = sign_execute_api(&user, "GET", host, "/hello", &[]);
    let answer = support::http(one.port, "GET", "/hello", &headers, b"").unwrap();
    assert_eq!(answer.status, 403, "{}", answer.body);
    let id = answer.header("apigw-requestid").unwrap().to_owned();
    let served_by_one = id.clone();

    // Node 2 never saw the request; it asks node 1 for the record and
    // shows it to each account as that account may see it.
    let record = explain_eventually(&two, &user, &id).await;
    assert_eq!(record["requestId"], id.as_str());
    assert_eq!(record["principal"], "arn:aws:iam::444455556666:user/u");
    assert_eq!(record["decision"], "implicit_deny");
    assert!(record.to_string().contains("assume-invoker"), "{record}");
    assert!(!record.to_string().contains(&user.secret));
    let seen_by_owner = explain_eventually(&two, &owner, &id).await;
    assert_eq!(seen_by_owner["requestId"], id.as_str());
    assert!(
        !seen_by_owner.to_string().contains("assume-invoker"),
        "the API's owner sees the caller's policies by type only: {seen_by_owner}"
    );

    // And the way that works: through the role, on node 2, read on node 1.
    let assumed = sts_client(&two.endpoint(), &user)
        .await
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/Invoker")
        .role_session_name("explained")
        .send()
        .await
        .unwrap();
    let session = keys_from_sdk(assumed.credentials().unwrap());
    let headers = sign_execute_api(&session, "GET", host, "/hello", &[]);
    let answer = support::http(two.port, "GET", "/hello", &headers, b"").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.header("apigw-requestid").unwrap().to_owned();
    let record = explain_eventually(&one, &owner, &id).await;
    assert_eq!(record["decision"], "allow");
    assert_eq!(
        record["principal"],
        "arn:aws:sts::111122223333:assumed-role/Invoker/explained"
    );
    let text = record.to_string();
    assert!(!text.contains(session.token.as_deref().unwrap()));
    assert!(!text.contains(&session.secret));

    // Nothing was written to the store on the requests' path: the
    // records came from the node that served each request.
    let mut db = PgConnection::connect(&store_url).await.unwrap();
    let persisted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decision_records")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(persisted, 0);
    let peers: Vec<String> = sqlx::query_scalar("SELECT address FROM peers ORDER BY address")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let mut expected = vec![one.endpoint(), two.endpoint()];
    expected.sort();
    assert_eq!(peers, expected);
    db.close().await.unwrap();

    // A node that stopped withdraws: its records are no longer found.
    one.stop();
    let gone = std::process::Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args([
            "explain",
            &served_by_one,
            "--json",
            "--endpoint-url",
            &two.endpoint(),
        ])
        .env("AWS_ACCESS_KEY_ID", &owner.id)
        .env("AWS_SECRET_ACCESS_KEY", &owner.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("No decision record"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}
