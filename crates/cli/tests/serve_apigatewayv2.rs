#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Seeds 000/001 built through the `apigatewayv2` control plane of a running
//! `iamgate serve`: an HTTP API in account A with an `AWS_IAM` route and a
//! role in A that account B's user assumes — the API made once with the
//! AWS CLI (skipped, saying so, when none is installed) and once with the
//! AWS SDK for Rust — then invoked with signed requests: 200 as the
//! assumed role, `403 {"message":"Forbidden"}` for everyone else.
//!
//! The backend is a real HTTP server on loopback (an `HTTP_PROXY`
//! integration), so a 200 means the request went through.

mod support;

use aws_sdk_apigatewayv2::error::ProvideErrorMetadata;
use aws_sdk_apigatewayv2::types::{AuthorizationType, ProtocolType};
use support::{
    AwsCli, Keys, Server, ServerOptions, http, keys_from_sdk, sdk_config, sign_execute_api,
    start_backend, sts_client,
};

const A: &str = "111122223333";

const WORLD: &str = r#"
accounts:
  - id: "111122223333"
    root_access_key: { id: AKIAEXAMPLEAROOT0001, secret: "exampleAccountARootSecretKey0000000000001" }
    roles:
      - name: Invoker
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "arn:aws:iam::444455556666:root" }
              Action: sts:AssumeRole
    users:
      - name: nobody
        access_keys: [{ id: AKIAEXAMPLENOBODY001, secret: "exampleNobodySecretAccessKey000000000001" }]
  - id: "444455556666"
    root_access_key: { id: AKIAEXAMPLEBROOT0001, secret: "exampleAccountBRootSecretKey0000000000001" }
    users:
      - name: u
        access_keys: [{ id: AKIAEXAMPLEUSERU0001, secret: "exampleUserUSecretAccessKey00000000000001" }]
        policies:
          assume-in-a:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: "arn:aws:iam::111122223333:role/Invoker"
"#;

fn root_a() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAROOT0001",
        "exampleAccountARootSecretKey0000000000001",
    )
}

fn root_b() -> Keys {
    Keys::new(
        "AKIAEXAMPLEBROOT0001",
        "exampleAccountBRootSecretKey0000000000001",
    )
}

fn user_u() -> Keys {
    Keys::new(
        "AKIAEXAMPLEUSERU0001",
        "exampleUserUSecretAccessKey00000000000001",
    )
}

/// A user of account A without any policy.
fn nobody() -> Keys {
    Keys::new(
        "AKIAEXAMPLENOBODY001",
        "exampleNobodySecretAccessKey000000000001",
    )
}

/// Step 1 of the seeds: invoke on the API's `$default` stage only.
fn invoke_policy(api: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:{A}:{api}/$default/*/*"]}}]}}"#
    )
}

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    (server, dir)
}

/// A GET of `path` on the API's default host, signed with `keys` (or not).
fn invoke(server: &Server, api: &str, path: &str, keys: Option<&Keys>) -> (u16, String) {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let headers = match keys {
        Some(keys) => sign_execute_api(keys, "GET", &host, path, &[]),
        None => vec![("host".to_owned(), host.clone())],
    };
    let response = http(server.port, "GET", path, &headers, b"").unwrap();
    (response.status, response.body)
}

const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

/// Everyone but the assumed role is refused with HTTP APIs' one answer.
fn assert_only_the_session_gets_in(server: &Server, api: &str, path: &str, session: &Keys) {
    let (status, body) = invoke(server, api, path, Some(session));
    assert_eq!(status, 200, "{body}\n{}", server.logs());
    assert!(body.starts_with("backend saw GET "), "{body}");
    for (who, keys) in [
        ("B's user directly", Some(user_u())),
        ("B's root", Some(root_b())),
        ("A's user without a policy", Some(nobody())),
        ("anonymous", None),
    ] {
        let (status, body) = invoke(server, api, path, keys.as_ref());
        assert_eq!((status, body.as_str()), (403, FORBIDDEN), "{who}");
    }
}

#[test]
fn aws_cli_builds_the_seed_http_api_and_only_the_assumed_role_invokes_it() {
    let backend = start_backend();
    let (server, _dir) = start();
    let Some(aws) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let root = root_a();

    let api = aws
        .run(
            &root,
            &[
                "apigatewayv2",
                "create-api",
                "--name",
                "seed-cli",
                "--protocol-type",
                "HTTP",
            ],
        )
        .json();
    let api_id = api["ApiId"].as_str().unwrap().to_owned();
    assert_eq!(api_id.len(), 10);
    assert_eq!(api["ProtocolType"], "HTTP");
    assert_eq!(
        api["ApiEndpoint"],
        format!("https://{api_id}.execute-api.us-east-1.amazonaws.com")
    );

    let integration = aws
        .run(
            &root,
            &[
                "apigatewayv2",
                "create-integration",
                "--api-id",
                &api_id,
                "--integration-type",
                "HTTP_PROXY",
                "--integration-uri",
                &format!("http://127.0.0.1:{backend}/pets"),
                "--integration-method",
                "GET",
                "--payload-format-version",
                "1.0",
            ],
        )
        .json();
    let integration_id = integration["IntegrationId"].as_str().unwrap().to_owned();
    assert_eq!(integration["IntegrationType"], "HTTP_PROXY");
    assert_eq!(integration["TimeoutInMillis"], 30000);

    let route = aws
        .run(
            &root,
            &[
                "apigatewayv2",
                "create-route",
                "--api-id",
                &api_id,
                "--route-key",
                "GET /pets",
                "--authorization-type",
                "AWS_IAM",
                "--target",
                &format!("integrations/{integration_id}"),
            ],
        )
        .json();
    assert_eq!(route["RouteKey"], "GET /pets");
    assert_eq!(route["AuthorizationType"], "AWS_IAM");

    let stage = aws
        .run(
            &root,
            &[
                "apigatewayv2",
                "create-stage",
                "--api-id",
                &api_id,
                "--stage-name",
                "$default",
                "--auto-deploy",
            ],
        )
        .json();
    assert_eq!(stage["StageName"], "$default");
    assert_eq!(stage["AutoDeploy"], true);
    assert!(stage["DeploymentId"].is_string(), "{stage}");

    let routes = aws
        .run(&root, &["apigatewayv2", "get-routes", "--api-id", &api_id])
        .json();
    assert_eq!(routes["Items"].as_array().unwrap().len(), 1);

    // The CLI's errors are the model's.
    aws.run(
        &root,
        &["apigatewayv2", "get-api", "--api-id", "nope000000"],
    )
    .assert_error(
        "NotFoundException",
        &format!("Invalid API identifier specified {A}:nope000000"),
    );
    aws.run(&root_b(), &["apigatewayv2", "get-api", "--api-id", &api_id])
        .assert_error("NotFoundException", "Invalid API identifier specified");
    aws.run(
        &root,
        &[
            "apigatewayv2",
            "create-route",
            "--api-id",
            &api_id,
            "--route-key",
            "GET /pets",
        ],
    )
    .assert_error("ConflictException", "GET /pets");

    // Seeds 1–3: the role may invoke this API's $default stage.
    let put = aws.run(
        &root,
        &[
            "iam",
            "put-role-policy",
            "--role-name",
            "Invoker",
            "--policy-name",
            "invoke-http-api",
            "--policy-document",
            &invoke_policy(&api_id),
        ],
    );
    assert_eq!(put.code, 0, "{}", put.stderr);

    // Seed 6: B's user assumes the role.
    let assumed = aws
        .run(
            &user_u(),
            &[
                "sts",
                "assume-role",
                "--role-arn",
                &format!("arn:aws:iam::{A}:role/Invoker"),
                "--role-session-name",
                "role_session",
            ],
        )
        .json();
    let session = Keys::from_cli_json(&assumed["Credentials"]);

    assert_only_the_session_gets_in(&server, &api_id, "/pets", &session);
    let (status, body) = invoke(&server, &api_id, "/cats", Some(&session));
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));

    // Deleting the API takes it off the data plane.
    let deleted = aws.run(&root, &["apigatewayv2", "delete-api", "--api-id", &api_id]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let (status, _) = invoke(&server, &api_id, "/pets", Some(&session));
    assert_ne!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_sdk_builds_the_seed_http_api_by_quick_create_and_only_the_assumed_role_invokes_it() {
    let backend = start_backend();
    let (server, _dir) = start();
    let endpoint = server.endpoint();
    let config = sdk_config(&endpoint, &root_a()).await;
    let v2 = aws_sdk_apigatewayv2::Client::new(&config);

    let api = v2
        .create_api()
        .name("seed-sdk")
        .protocol_type(ProtocolType::Http)
        .target(format!("http://127.0.0.1:{backend}/sdk"))
        .send()
        .await
        .unwrap();
    let api_id = api.api_id().unwrap().to_owned();
    assert_eq!(api.protocol_type(), Some(&ProtocolType::Http));
    assert!(api.created_date().is_some());

    // Quick create made an open `$default` route; make it AWS_IAM.
    let routes = v2.get_routes().api_id(&api_id).send().await.unwrap();
    let items = routes.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].route_key(), Some("$default"));
    assert_eq!(
        items[0].authorization_type(),
        Some(&AuthorizationType::None)
    );
    let route_id = items[0].route_id().unwrap().to_owned();

    // Open for a moment: anyone gets through.
    let (status, body) = invoke(&server, &api_id, "/anything", None);
    assert_eq!(status, 200, "{body}");

    let updated = v2
        .update_route()
        .api_id(&api_id)
        .route_id(&route_id)
        .authorization_type(AuthorizationType::AwsIam)
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.authorization_type(),
        Some(&AuthorizationType::AwsIam)
    );
    let stage = v2
        .get_stage()
        .api_id(&api_id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.auto_deploy(), Some(true));
    let deployment = stage.deployment_id().unwrap();
    let deployed = v2
        .get_deployment()
        .api_id(&api_id)
        .deployment_id(deployment)
        .send()
        .await
        .unwrap();
    assert_eq!(deployed.auto_deployed(), Some(true));

    let missing = v2
        .get_route()
        .api_id(&api_id)
        .route_id("zzzzzzz")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("NotFoundException"));

    let iam = aws_sdk_iam::Client::new(&config);
    iam.put_role_policy()
        .role_name("Invoker")
        .policy_name("invoke-http-api")
        .policy_document(invoke_policy(&api_id))
        .send()
        .await
        .unwrap();
    let sts = sts_client(&endpoint, &user_u()).await;
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{A}:role/Invoker"))
        .role_session_name("role_session")
        .send()
        .await
        .unwrap();
    let session = keys_from_sdk(assumed.credentials().unwrap());

    assert_only_the_session_gets_in(&server, &api_id, "/anything", &session);

    // Another account's SDK sees nothing of it.
    let other = aws_sdk_apigatewayv2::Client::new(&sdk_config(&endpoint, &root_b()).await);
    let apis = other.get_apis().send().await.unwrap();
    assert!(apis.items().is_empty());
    let error = other.delete_api().api_id(&api_id).send().await.unwrap_err();
    assert_eq!(error.code(), Some("NotFoundException"));
    let (status, _) = invoke(&server, &api_id, "/anything", Some(&session));
    assert_eq!(status, 200);
}
