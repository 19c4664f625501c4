#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Seed 003's REST API built through the API Gateway control plane of a
//! running `iamgate serve` — once with the AWS CLI, once with the Rust SDK
//! (`aws-sdk-apigateway`) — and then invoked with SigV4-signed requests:
//! the cross-account user the resource policy names gets 200, the others
//! AWS's exact 403s. Only the accounts and users come from the world
//! file; the API, its method, integration, policy and stage are made by
//! the calls under test.

mod support;

use support::{
    AwsCli, Keys, Server, ServerOptions, http, python_with_botocore, sdk_config, sign_execute_api,
};

/// Seed 003's accounts and users. The identity policies allow Invoke on
/// `GET /` of stage `prod` of any API of the owner account, since the API
/// id is only known once the control plane has made it.
const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    root_access_key: { id: AKIAEXAMPLEAPIROOT01, secret: "exampleApiAccountRootSecretKey0000000001" }
    users:
      - name: api-exe-nonvalid
        access_keys: [{ id: AKIAEXAMPLENONVALID1, secret: "exampleApiExeNonvalidSecretKey0000000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [execute-api:Invoke]
                Resource: ["arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/"]
      - name: api-not-exe
        access_keys: [{ id: AKIAEXAMPLENOTEXE001, secret: "exampleApiNotExeSecretAccessKey000000001" }]
  - id: "098765432109"
    root_access_key: { id: AKIAEXAMPLEOTHROOT01, secret: "exampleOtherAccountRootSecretKey000000001" }
    users:
      - name: api-exe-valid
        access_keys: [{ id: AKIAEXAMPLEVALID0001, secret: "exampleApiExeValidSecretAccessKey0000001" }]
        policies:
          invoke:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [execute-api:Invoke]
                Resource: ["arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/"]
"#;

const MOCK_BODY: &str = r#"{"statusCode": 200, "message": "Hello from API Gateway!"}"#;

fn owner_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEAPIROOT01",
        "exampleApiAccountRootSecretKey0000000001",
    )
}
fn other_root() -> Keys {
    Keys::new(
        "AKIAEXAMPLEOTHROOT01",
        "exampleOtherAccountRootSecretKey000000001",
    )
}
fn valid() -> Keys {
    Keys::new(
        "AKIAEXAMPLEVALID0001",
        "exampleApiExeValidSecretAccessKey0000001",
    )
}
fn nonvalid() -> Keys {
    Keys::new(
        "AKIAEXAMPLENONVALID1",
        "exampleApiExeNonvalidSecretKey0000000001",
    )
}
fn not_exe() -> Keys {
    Keys::new(
        "AKIAEXAMPLENOTEXE001",
        "exampleApiNotExeSecretAccessKey000000001",
    )
}

/// The article's resource policy: Invoke on `GET /` of `prod` for
/// api-exe-valid of the other account.
fn resource_policy(api: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"}},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:{api}/prod/GET/"}}]}}"#
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

/// `GET /prod/` of `api`, signed with `keys`: status, `x-amzn-ErrorType`, body.
fn invoke(server: &Server, api: &str, keys: &Keys) -> (u16, Option<String>, String) {
    let host = format!("{api}.execute-api.us-east-1.amazonaws.com");
    let headers = sign_execute_api(keys, "GET", &host, "/prod/", &[]);
    let response = http(server.port, "GET", "/prod/", &headers, b"").unwrap();
    let kind = response.header("x-amzn-ErrorType").map(str::to_owned);
    (response.status, kind, response.body)
}

/// The masked resource of a denial, as API Gateway shows it.
fn shown_arn(api: &str) -> String {
    format!("arn:aws:execute-api:us-east-1:********9012:{api}/prod/GET/")
}

/// What the article reports once the policy is deployed: both users with
/// an identity Allow pass, the user without one gets AWS's 403.
fn assert_seed_003_answers(server: &Server, api: &str) {
    let (status, _, body) = invoke(server, api, &valid());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, MOCK_BODY);
    let (status, _, body) = invoke(server, api, &nonvalid());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, MOCK_BODY);
    let (status, kind, body) = invoke(server, api, &not_exe());
    assert_eq!(status, 403, "{body}");
    assert_eq!(kind.as_deref(), Some("AccessDeniedException"));
    assert_eq!(
        body,
        format!(
            r#"{{"Message":"User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: {} because no identity-based policy allows the execute-api:Invoke action"}}"#,
            shown_arn(api)
        )
    );
}

#[test]
fn seed_003_built_with_the_aws_cli_answers_as_the_article_reports() {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = owner_root();
    let run = |args: &[&str]| cli.run(&owner, args);

    let api = run(&[
        "apigateway",
        "create-rest-api",
        "--name",
        "seed-003",
        "--endpoint-configuration",
        "types=REGIONAL",
    ])
    .json();
    let id = api["id"].as_str().unwrap().to_owned();
    let resources = run(&["apigateway", "get-resources", "--rest-api-id", &id]).json();
    assert_eq!(resources["items"].as_array().unwrap().len(), 1);
    let root = resources["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(root, api["rootResourceId"].as_str().unwrap());
    let at = [
        "--rest-api-id",
        &id,
        "--resource-id",
        &root,
        "--http-method",
        "GET",
    ];
    let method = run(&[
        &["apigateway", "put-method"][..],
        &at,
        &["--authorization-type", "AWS_IAM"],
    ]
    .concat())
    .json();
    assert_eq!(method["authorizationType"], "AWS_IAM");
    run(&[
        &["apigateway", "put-integration"][..],
        &at,
        &[
            "--type",
            "MOCK",
            "--request-templates",
            r#"{"application/json": "{\"statusCode\": 200}"}"#,
        ],
    ]
    .concat())
    .json();
    run(&[
        &["apigateway", "put-method-response"][..],
        &at,
        &["--status-code", "200"],
    ]
    .concat())
    .json();
    let templates = serde_json::json!({ "application/json": MOCK_BODY }).to_string();
    run(&[
        &["apigateway", "put-integration-response"][..],
        &at,
        &[
            "--status-code",
            "200",
            "--selection-pattern",
            "",
            "--response-templates",
            &templates,
        ],
    ]
    .concat())
    .json();

    // Deployed before the resource policy: the other account is refused.
    let first = run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();
    assert!(first["id"].is_string());
    let cross_account_denial = format!(
        r#"{{"Message":"User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to perform: execute-api:Invoke on resource: {} because no resource-based policy allows the execute-api:Invoke action"}}"#,
        shown_arn(&id)
    );
    let (status, kind, body) = invoke(&server, &id, &valid());
    assert_eq!(status, 403, "{body}");
    assert_eq!(kind.as_deref(), Some("AccessDeniedException"));
    assert_eq!(body, cross_account_denial);
    assert_eq!(invoke(&server, &id, &nonvalid()).0, 200);

    // The policy is saved, but serves only once deployed.
    let patch =
        serde_json::json!([{"op": "replace", "path": "/policy", "value": resource_policy(&id)}])
            .to_string();
    let updated = run(&[
        "apigateway",
        "update-rest-api",
        "--rest-api-id",
        &id,
        "--patch-operations",
        &patch,
    ])
    .json();
    assert!(
        updated["policy"]
            .as_str()
            .unwrap()
            .contains("user\\/api-exe-valid")
    );
    assert_eq!(invoke(&server, &id, &valid()).2, cross_account_denial);
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();
    assert_seed_003_answers(&server, &id);

    let stage = run(&[
        "apigateway",
        "get-stage",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();
    assert_ne!(stage["deploymentId"], first["id"]);
    let deployments = run(&["apigateway", "get-deployments", "--rest-api-id", &id]).json();
    assert_eq!(deployments["items"].as_array().unwrap().len(), 2);

    // The other account cannot see or change the API.
    cli.run(
        &other_root(),
        &["apigateway", "get-rest-api", "--rest-api-id", &id],
    )
    .assert_error(
        "NotFoundException",
        &format!("Invalid API identifier specified 098765432109:{id}"),
    );
    run(&[
        "apigateway",
        "delete-deployment",
        "--rest-api-id",
        &id,
        "--deployment-id",
        stage["deploymentId"].as_str().unwrap(),
    ])
    .assert_error(
        "BadRequestException",
        "Active stages pointing to this deployment must be moved or deleted",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_003_built_with_the_rust_sdk_answers_as_the_article_reports() {
    use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType};

    let (server, _dir) = start();
    let client =
        aws_sdk_apigateway::Client::new(&sdk_config(&server.endpoint(), &owner_root()).await);

    let api = client
        .create_rest_api()
        .name("seed-003-sdk")
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap().to_owned();
    // The policy names the API, so it is set once the id is known.
    let policy = resource_policy(&id);
    let api = client
        .update_rest_api()
        .rest_api_id(&id)
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/policy")
                .value(&policy)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(api.policy().unwrap().contains("api-exe-valid"));

    let resources = client
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap();
    let root = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    let method = client
        .put_method()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .unwrap();
    assert_eq!(method.authorization_type(), Some("AWS_IAM"));
    client
        .put_integration()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
    client
        .put_method_response()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    client
        .put_integration_response()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", MOCK_BODY)
        .send()
        .await
        .unwrap();
    let integration = client
        .get_integration()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(integration.r#type(), Some(&IntegrationType::Mock));
    assert_eq!(
        integration.integration_responses().unwrap()["200"]
            .response_templates()
            .unwrap()["application/json"],
        MOCK_BODY
    );

    let deployment = client
        .create_deployment()
        .rest_api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert!(deployment.id().is_some());
    assert_seed_003_answers(&server, &id);

    let stages = client.get_stages().rest_api_id(&id).send().await.unwrap();
    let stage = &stages.item()[0];
    assert_eq!(stage.stage_name(), Some("prod"));
    assert_eq!(stage.deployment_id(), deployment.id());

    // AWS's errors reach the SDK as its typed errors.
    let missing = client
        .get_method()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("POST")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_not_found_exception(), "{missing:?}");
    assert_eq!(
        missing.meta().message(),
        Some("Invalid Method identifier specified")
    );
    let other =
        aws_sdk_apigateway::Client::new(&sdk_config(&server.endpoint(), &other_root()).await);
    let hidden = other
        .get_rest_api()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(hidden.is_not_found_exception(), "{hidden:?}");

    // Tags by ARN, as the SDK encodes it into the path.
    let arn = format!("arn:aws:apigateway:us-east-1::/restapis/{id}/stages/prod");
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags("team", "pets")
        .send()
        .await
        .unwrap();
    let tags = client.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap()["team"], "pets");
}

#[test]
fn openapi_documents_are_imported_with_the_aws_cli() {
    let (server, dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = owner_root();
    let document = dir.path().join("api.yaml");
    std::fs::write(
        &document,
        r#"openapi: 3.0.1
info: { title: imported }
paths:
  /:
    get:
      security: [{ sigv4: [] }]
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses:
          default:
            statusCode: "200"
            responseTemplates: { application/json: '{"statusCode": 200, "message": "Hello from API Gateway!"}' }
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
"#,
    )
    .unwrap();
    let body = format!("fileb://{}", document.display());
    let api = cli
        .run(
            &owner,
            &[
                "apigateway",
                "import-rest-api",
                "--parameters",
                "endpointConfigurationTypes=REGIONAL",
                "--body",
                &body,
            ],
        )
        .json();
    assert_eq!(api["name"], "imported");
    assert_eq!(api["endpointConfiguration"]["types"][0], "REGIONAL");
    let id = api["id"].as_str().unwrap().to_owned();
    let resources = cli
        .run(
            &owner,
            &[
                "apigateway",
                "get-resources",
                "--rest-api-id",
                &id,
                "--embed",
                "methods",
            ],
        )
        .json();
    assert_eq!(
        resources["items"][0]["resourceMethods"]["GET"]["authorizationType"],
        "AWS_IAM"
    );
    cli.run(
        &owner,
        &[
            "apigateway",
            "create-deployment",
            "--rest-api-id",
            &id,
            "--stage-name",
            "prod",
        ],
    )
    .json();
    // No resource policy in the document: same account only.
    let (status, _, body) = invoke(&server, &id, &nonvalid());
    assert_eq!((status, body.as_str()), (200, MOCK_BODY));
    assert_eq!(invoke(&server, &id, &valid()).0, 403);

    // A broken document is refused whole, with the importer's text.
    std::fs::write(
        &document,
        "openapi: 3.0.1\ninfo: { title: x }\npaths: { /a: { get: {} } }\n",
    )
    .unwrap();
    cli.run(
        &owner,
        &[
            "apigateway",
            "put-rest-api",
            "--rest-api-id",
            &id,
            "--mode",
            "overwrite",
            "--body",
            &body,
        ],
    )
    .assert_error("BadRequestException", "Errors found during import:");
    let after = cli
        .run(
            &owner,
            &["apigateway", "get-resources", "--rest-api-id", &id],
        )
        .json();
    assert_eq!(
        after["items"][0]["resourceMethods"]["GET"],
        serde_json::json!({})
    );
}

/// boto3 drives the REST API control plane and gets AWS's answers: the
/// shapes it reads (`ipAddressType`, `tags`, an escaped binary media type,
/// a MOCK integration without a URI), the lookup before the values, the
/// input model's `ValidationException`, a patch refusal that names what
/// is allowed, and UpdateDeployment.
#[test]
fn control_plane_answers_reach_boto3_as_aws_gives_them() {
    let (server, _dir) = start();
    let script = r#"
import json, sys
try:
    import boto3
    from botocore.exceptions import ClientError
except ImportError:
    print("SKIP")
    sys.exit(0)
client = boto3.client(
    "apigateway", region_name="us-east-1", endpoint_url=sys.argv[1],
    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])

def refusal(operation, **params):
    try:
        operation(**params)
    except ClientError as error:
        return [error.response["ResponseMetadata"]["HTTPStatusCode"],
                error.response["Error"]["Code"], error.response["Error"]["Message"]]
    return None

out = {}
api = client.create_rest_api(name="boto3-answers")
out["endpointConfiguration"] = api["endpointConfiguration"]
api_id, root = api["id"], api["rootResourceId"]
out["tags"] = client.get_rest_api(restApiId=api_id).get("tags")
patched = client.update_rest_api(restApiId=api_id, patchOperations=[
    {"op": "add", "path": "/binaryMediaTypes/image~1png"},
    {"op": "replace", "path": "/minimumCompressionSize", "value": "1024"}])
out["binaryMediaTypes"] = patched.get("binaryMediaTypes")
out["minimumCompressionSize"] = patched.get("minimumCompressionSize")
out["unknown_api"] = refusal(client.put_method, restApiId="nosuchapi0", resourceId="abc123",
                             httpMethod="FETCH", authorizationType="NONE")
out["authorizationType"] = client.put_method(
    restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="none")["authorizationType"]
out["bad_type"] = refusal(client.put_integration, restApiId=api_id, resourceId=root,
                          httpMethod="GET", type="LAMBDA")
mock = client.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                              uri="http://ignored.example",
                              requestTemplates={"application/json": '{"statusCode": 200}'})
out["mock"] = sorted(key for key in mock if key != "ResponseMetadata")
out["bad_path"] = refusal(client.update_resource, restApiId=api_id, resourceId=root,
                          patchOperations=[{"op": "replace", "path": "/path", "value": "x"}])
deployment = client.create_deployment(restApiId=api_id)
out["deployment"] = client.update_deployment(
    restApiId=api_id, deploymentId=deployment["id"],
    patchOperations=[{"op": "replace", "path": "/description", "value": "via boto3"}]).get("description")
print(json.dumps(out))
"#;
    let owner = owner_root();
    let output = match std::process::Command::new(python_with_botocore())
        .args(["-c", script, &server.endpoint(), &owner.id, &owner.secret])
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            eprintln!("SKIP: no python3 ({error})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.trim() == "SKIP" {
        eprintln!("SKIP: boto3 not installed");
        return;
    }
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "boto3 script failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    use serde_json::json;
    assert_eq!(
        out["endpointConfiguration"],
        json!({"types": ["EDGE"], "ipAddressType": "ipv4"})
    );
    assert_eq!(out["tags"], json!({}));
    assert_eq!(out["binaryMediaTypes"], json!(["image/png"]));
    assert_eq!(out["minimumCompressionSize"], 1024);
    assert_eq!(
        out["unknown_api"],
        json!([
            404,
            "NotFoundException",
            "Invalid Resource identifier specified"
        ])
    );
    assert_eq!(out["authorizationType"], "NONE");
    assert_eq!(
        out["bad_type"],
        json!([
            400,
            "ValidationException",
            "1 validation error detected: Value 'LAMBDA' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]"
        ])
    );
    assert_eq!(
        out["mock"],
        json!([
            "cacheKeyParameters",
            "cacheNamespace",
            "passthroughBehavior",
            "requestTemplates",
            "timeoutInMillis",
            "type"
        ])
    );
    assert_eq!(
        out["bad_path"],
        json!([
            400,
            "BadRequestException",
            "Invalid patch path  '/path' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"
        ])
    );
    assert_eq!(out["deployment"], "via boto3");
}

/// An unsigned request to stage `prod` of `api`: status, `x-amzn-ErrorType`, body.
fn call_unsigned(
    server: &Server,
    api: &str,
    method: &str,
    target: &str,
    content_type: &str,
    body: &str,
) -> (u16, Option<String>, String) {
    let headers = vec![
        (
            "Host".to_owned(),
            format!("{api}.execute-api.us-east-1.amazonaws.com"),
        ),
        ("Content-Type".to_owned(), content_type.to_owned()),
    ];
    let response = http(server.port, method, target, &headers, body.as_bytes()).unwrap();
    let kind = response.header("x-amzn-ErrorType").map(str::to_owned);
    (response.status, kind, response.body)
}

#[test]
fn a_validator_refuses_a_request_missing_a_required_querystring_or_with_a_body_off_its_model_before_the_integration()
 {
    let (server, _dir) = start();
    let Some(cli) = AwsCli::find(&server.endpoint()) else {
        return;
    };
    let owner = owner_root();
    let run = |args: &[&str]| cli.run(&owner, args);
    let api = run(&["apigateway", "create-rest-api", "--name", "validated"]).json();
    let id = api["id"].as_str().unwrap().to_owned();
    let root = api["rootResourceId"].as_str().unwrap().to_owned();

    // Models: checked when made, and found by name.
    let schema = r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1}}}"#;
    let model = run(&[
        "apigateway",
        "create-model",
        "--rest-api-id",
        &id,
        "--name",
        "Pet",
        "--content-type",
        "application/json",
        "--schema",
        schema,
    ])
    .json();
    assert_eq!(model["name"], "Pet");
    assert_eq!(model["schema"], schema);
    run(&[
        "apigateway", "create-model", "--rest-api-id", &id, "--name", "Bad",
        "--content-type", "application/json", "--schema", r#"{"type":"string","example":"x"}"#,
    ])
    .assert_error(
        "BadRequestException",
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
    );
    run(&[
        "apigateway",
        "get-model",
        "--rest-api-id",
        &id,
        "--model-name",
        "Cat",
    ])
    .assert_error("NotFoundException", "Invalid Model Name specified");
    let models = run(&["apigateway", "get-models", "--rest-api-id", &id]).json();
    let names: Vec<&str> = models["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Empty", "Error", "Pet"]);

    let validator = run(&[
        "apigateway",
        "create-request-validator",
        "--rest-api-id",
        &id,
        "--name",
        "all",
        "--validate-request-body",
        "--validate-request-parameters",
    ])
    .json();
    let validator_id = validator["id"].as_str().unwrap().to_owned();
    assert_eq!(validator["validateRequestBody"], true);
    run(&[
        "apigateway",
        "get-request-validator",
        "--rest-api-id",
        &id,
        "--request-validator-id",
        "nope00",
    ])
    .assert_error(
        "NotFoundException",
        "Invalid Request Validator identifier specified",
    );

    let pets = run(&[
        "apigateway",
        "create-resource",
        "--rest-api-id",
        &id,
        "--parent-id",
        &root,
        "--path-part",
        "pets",
    ])
    .json();
    let pets = pets["id"].as_str().unwrap().to_owned();
    let at = |verb: &'static str| {
        vec![
            "--rest-api-id".to_owned(),
            id.clone(),
            "--resource-id".to_owned(),
            pets.clone(),
            "--http-method".to_owned(),
            verb.to_owned(),
        ]
    };
    let with = |base: &[&str], verb: &'static str, rest: &[&str]| -> Vec<String> {
        base.iter()
            .map(|s| (*s).to_owned())
            .chain(at(verb))
            .chain(rest.iter().map(|s| (*s).to_owned()))
            .collect()
    };
    let run_owned = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.run(&owner, &args)
    };
    // An unknown validator or model is refused, as AWS does.
    run_owned(with(
        &["apigateway", "put-method"],
        "POST",
        &[
            "--authorization-type",
            "NONE",
            "--request-validator-id",
            "nope00",
        ],
    ))
    .assert_error(
        "BadRequestException",
        "Invalid Request Validator identifier specified",
    );
    run_owned(with(
        &["apigateway", "put-method"],
        "POST",
        &[
            "--authorization-type",
            "NONE",
            "--request-models",
            "application/json=Cat",
        ],
    ))
    .assert_error(
        "BadRequestException",
        "Invalid model identifier specified: Cat",
    );
    for (verb, authorization) in [("POST", "NONE"), ("GET", "AWS_IAM")] {
        let method = run_owned(with(
            &["apigateway", "put-method"],
            verb,
            &[
                "--authorization-type",
                authorization,
                "--request-validator-id",
                &validator_id,
                "--request-parameters",
                "method.request.querystring.q=true,method.request.header.x-opt=false",
                "--request-models",
                "application/json=Pet",
            ],
        ))
        .json();
        assert_eq!(method["requestValidatorId"], validator_id.as_str());
        run_owned(with(
            &["apigateway", "put-integration"],
            verb,
            &[
                "--type",
                "MOCK",
                "--request-templates",
                r#"{"application/json": "{\"statusCode\": 200}", "application/xml": "{\"statusCode\": 200}"}"#,
            ],
        ))
        .json();
        run_owned(with(
            &["apigateway", "put-method-response"],
            verb,
            &["--status-code", "200"],
        ))
        .json();
        run_owned(with(
            &["apigateway", "put-integration-response"],
            verb,
            &[
                "--status-code",
                "200",
                "--selection-pattern",
                "",
                "--response-templates",
                r#"{"application/json": "{\"ok\": true}"}"#,
            ],
        ))
        .json();
    }
    run(&[
        "apigateway",
        "delete-model",
        "--rest-api-id",
        &id,
        "--model-name",
        "Pet",
    ])
    .assert_error("BadRequestException", "Cannot delete model 'Pet'");
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();

    let json = "application/json";
    let missing = call_unsigned(&server, &id, "POST", "/prod/pets", json, "not json");
    assert_eq!(
        missing,
        (
            400,
            Some("BadRequestException".to_owned()),
            r#"{"message":"Missing required request parameters: [q]"}"#.to_owned()
        ),
        "parameters are checked before the body"
    );
    let blank = call_unsigned(
        &server,
        &id,
        "POST",
        "/prod/pets?q=",
        json,
        r#"{"name":"x"}"#,
    );
    assert_eq!(blank.0, 400, "a blank parameter is missing: {}", blank.2);
    let bad_body = call_unsigned(
        &server,
        &id,
        "POST",
        "/prod/pets?q=1",
        json,
        r#"{"name":""}"#,
    );
    assert_eq!(
        bad_body,
        (
            400,
            Some("BadRequestException".to_owned()),
            r#"{"message":"Invalid request body"}"#.to_owned()
        )
    );
    let good = call_unsigned(
        &server,
        &id,
        "POST",
        "/prod/pets?q=1",
        json,
        r#"{"name":"Rex"}"#,
    );
    assert_eq!((good.0, good.2.as_str()), (200, r#"{"ok": true}"#));
    // No model for this content type: the body is not checked.
    let xml = call_unsigned(
        &server,
        &id,
        "POST",
        "/prod/pets?q=1",
        "application/xml",
        "<pet/>",
    );
    assert_eq!(xml.0, 200, "{}", xml.2);
    // Validation comes after authorization: an unsigned call to the
    // AWS_IAM method is refused for that, whatever it lacks.
    let unsigned = call_unsigned(&server, &id, "GET", "/prod/pets", json, "");
    assert_eq!(
        (unsigned.0, unsigned.1.as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );

    // BAD_REQUEST_BODY is a gateway response the API may customize.
    run(&[
        "apigateway",
        "put-gateway-response",
        "--rest-api-id",
        &id,
        "--response-type",
        "BAD_REQUEST_BODY",
        "--status-code",
        "422",
        "--response-templates",
        r#"{"application/json": "{\"why\": \"$context.error.message\"}"}"#,
    ])
    .json();
    let patch = serde_json::json!([{"op": "replace", "path": "/validateRequestParameters", "value": "false"}]).to_string();
    let updated = run(&[
        "apigateway",
        "update-request-validator",
        "--rest-api-id",
        &id,
        "--request-validator-id",
        &validator_id,
        "--patch-operations",
        &patch,
    ])
    .json();
    assert_eq!(updated["validateRequestParameters"], false);
    run(&[
        "apigateway",
        "create-deployment",
        "--rest-api-id",
        &id,
        "--stage-name",
        "prod",
    ])
    .json();
    let customized = call_unsigned(&server, &id, "POST", "/prod/pets", json, "[]");
    assert_eq!(
        (customized.0, customized.2.as_str()),
        (422, r#"{"why": "Invalid request body"}"#),
        "parameters are no longer checked; the body's refusal is customized"
    );
}
