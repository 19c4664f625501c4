#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Seed 002 built only through the AWS APIs with the Rust SDK: account A
//! hosts a REST API whose resource policy lets account B's role
//! `APIGatewayInvokerRole` in; in B, that role trusts the developer `dev`
//! and may invoke A's API. `dev` calls it through the role and gets 200;
//! `dev` calling as itself gets AWS's 403.

mod support;

use support::{
    Keys, Server, ServerOptions, http, keys_from_sdk, sdk_config, sign_execute_api, sts_client,
};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIASEEDAROOT0000001, secret: "seed-002-account-a-root-secret-000000001" }
  - id: "222222222222"
    root_access_key: { id: AKIASEEDBROOT0000001, secret: "seed-002-account-b-root-secret-000000001" }
    users:
      - name: dev
        access_keys: [{ id: AKIASEEDBDEV00000001, secret: "seed-002-account-b-dev-secret-0000000001" }]
        policies:
          assume: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_account_b_invokes_account_a_api_through_its_own_role() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    let server = Server::start(&ServerOptions {
        config: Some(world),
        data_dir: dir.path().join("data"),
        ..ServerOptions::default()
    });
    let endpoint = server.endpoint();
    let root_a = Keys::new(
        "AKIASEEDAROOT0000001",
        "seed-002-account-a-root-secret-000000001",
    );
    let root_b = Keys::new(
        "AKIASEEDBROOT0000001",
        "seed-002-account-b-root-secret-000000001",
    );
    let dev = Keys::new(
        "AKIASEEDBDEV00000001",
        "seed-002-account-b-dev-secret-0000000001",
    );
    let role_arn = "arn:aws:iam::222222222222:role/APIGatewayInvokerRole";

    // Account B: the role dev may assume.
    let iam_b = aws_sdk_iam::Client::new(&sdk_config(&endpoint, &root_b).await);
    iam_b
        .create_role()
        .role_name("APIGatewayInvokerRole")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/dev"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();

    // Account A: the API, its resource policy naming B's role, deployed.
    let apigw = aws_sdk_apigateway::Client::new(&sdk_config(&endpoint, &root_a).await);
    let api = apigw
        .create_rest_api()
        .name("seed-002")
        .endpoint_configuration(
            aws_sdk_apigateway::types::EndpointConfiguration::builder()
                .types(aws_sdk_apigateway::types::EndpointType::Regional)
                .build(),
        )
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["{role_arn}"]}},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let api_id = api.id().unwrap().to_owned();
    let root = api.root_resource_id().unwrap();
    apigw
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(root)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&api_id)
        .resource_id(root)
        .http_method("GET")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    apigw
        .put_integration_response()
        .rest_api_id(&api_id)
        .resource_id(root)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", r#"{"data":"from account A"}"#)
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();

    // Account B: the role may invoke A's API.
    iam_b
        .put_role_policy()
        .role_name("APIGatewayInvokerRole")
        .policy_name("invoke-a")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:{api_id}/*"}}]}}"#
        ))
        .send()
        .await
        .unwrap();

    let host = format!("{api_id}.execute-api.us-east-1.amazonaws.com");
    let invoke = |keys: &Keys| {
        let headers = sign_execute_api(keys, "GET", &host, "/dev/", &[]);
        http(server.port, "GET", "/dev/", &headers, b"").unwrap()
    };
    let assumed = sts_client(&endpoint, &dev)
        .await
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("seed-002")
        .send()
        .await
        .unwrap();
    let session = keys_from_sdk(assumed.credentials().unwrap());
    let answer = invoke(&session);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, r#"{"data":"from account A"}"#);

    let answer = invoke(&dev);
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.body,
        format!(
            r#"{{"Message":"User: arn:aws:iam::222222222222:user/dev is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:{api_id}/dev/GET/ because no identity-based policy allows the execute-api:Invoke action"}}"#
        )
    );
}
