#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The `apigatewayv2` control plane in process: REST-JSON requests signed
//! by aws-sigv4 (service `apigateway`, paths under `/v2`), AWS's shapes and
//! errors, and what the data plane serves after each change.

mod support;

use iamgate_apimodel::model::{AuthorizationType, Integration, PayloadFormat};
use iamgate_control::{ControlPlanes, Service};
use serde_json::{Value, json};
use support::{Call, Gateway, sign_call};

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    users:
      - name: reader
        access_keys: [{ id: AKIAREADERAAAAAAAAAA, secret: "reader-secret" }]
        policies:
          get: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"apigateway:GET","Resource":"*"}]}'
  - id: "222222222222"
    root_access_key: { id: AKIAROOTBBBBBBBBBBBB, secret: "root-secret-b" }
"#;

const ROOT_A: (&str, &str) = ("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
const ROOT_B: (&str, &str) = ("AKIAROOTBBBBBBBBBBBB", "root-secret-b");
const READER: (&str, &str) = ("AKIAREADERAAAAAAAAAA", "reader-secret");

/// A signed call's status, JSON body (`Null` when empty) and headers.
struct Answer {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn error_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-ErrorType"))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts AWS's error: status, `x-amzn-ErrorType`, and (for
    /// NotFoundException) the `resourceType`.
    fn assert_error(&self, status: u16, code: &str, resource_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.error_type(), Some(code), "{}", self.body);
        assert!(self.body["message"].is_string(), "{}", self.body);
        if let Some(resource_type) = resource_type {
            assert_eq!(self.body["resourceType"], resource_type, "{}", self.body);
        }
    }
}

async fn call(gw: &Gateway, key: (&str, &str), method: &str, target: &str, body: Value) -> Answer {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let request = sign_call(
        Call {
            service: "apigateway",
            method,
            target,
            content_type: "application/json",
        },
        key.0,
        key.1,
        None,
        body,
    );
    assert_eq!(ControlPlanes::route(&request), Some(Service::ApiGateway));
    let response = gw.planes.handle(Service::ApiGateway, &request).await;
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    Answer {
        status: response.status,
        body,
        headers: response.headers,
    }
}

async fn get(gw: &Gateway, target: &str) -> Answer {
    call(gw, ROOT_A, "GET", target, Value::Null).await
}

/// Creates an HTTP API in account A (no quick create); its id.
async fn new_api(gw: &Gateway, name: &str) -> String {
    let created = call(
        gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": name, "protocolType": "HTTP"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["apiId"].as_str().unwrap().to_owned()
}

async fn new_integration(gw: &Gateway, api: &str, uri: &str) -> String {
    let created = call(
        gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/integrations"),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": uri, "integrationMethod": "ANY", "payloadFormatVersion": "1.0"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["integrationId"].as_str().unwrap().to_owned()
}

/// The route keys the data plane serves on `stage` of `api`, sorted.
fn served(gw: &Gateway, api: &str, stage: &str) -> Option<Vec<String>> {
    let apis = gw.planes.plane.apis();
    let stage = apis.http.get(api)?.stages.get(stage)?.clone();
    let mut keys: Vec<String> = stage.routes.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    Some(keys)
}

fn is_iso8601(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 20 && s.ends_with('Z') && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T'
    })
}

#[tokio::test]
async fn quick_create_makes_a_default_route_integration_and_auto_deployed_stage_served_at_once() {
    let gw = Gateway::start(WORLD).await;
    let created = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "quick", "protocolType": "HTTP", "target": "http://127.0.0.1:9/backend"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let api = created.body["apiId"].as_str().unwrap().to_owned();
    assert_eq!(api.len(), 10);
    assert!(
        api.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(created.body["protocolType"], "HTTP");
    assert_eq!(
        created.body["apiEndpoint"],
        format!("https://{api}.execute-api.us-east-1.amazonaws.com")
    );
    assert_eq!(
        created.body["routeSelectionExpression"],
        "${request.method} ${request.path}"
    );
    assert!(is_iso8601(&created.body["createdDate"]), "{}", created.body);

    // Served before any other call.
    let apis = gw.planes.plane.apis();
    let stage = &apis.http[&api].stages["$default"];
    assert_eq!(stage.routes.len(), 1);
    assert_eq!(stage.routes[0].key, "$default");
    assert_eq!(stage.routes[0].authorization, AuthorizationType::None);
    assert_eq!(
        stage.routes[0].integration,
        Integration::HttpProxy {
            uri: "http://127.0.0.1:9/backend".into(),
            timeout_ms: 30_000
        }
    );

    let routes = get(&gw, &format!("/v2/apis/{api}/routes")).await;
    assert_eq!(routes.status, 200);
    let items = routes.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["routeKey"], "$default");
    assert_eq!(items[0]["authorizationType"], "NONE");
    assert_eq!(items[0]["routeId"].as_str().unwrap().len(), 7);
    let target = items[0]["target"].as_str().unwrap();
    let integration_id = target.strip_prefix("integrations/").unwrap();
    let integration = get(
        &gw,
        &format!("/v2/apis/{api}/integrations/{integration_id}"),
    )
    .await;
    assert_eq!(integration.status, 200);
    assert_eq!(
        integration.body,
        json!({
            "connectionType": "INTERNET",
            "integrationId": integration_id,
            "integrationMethod": "ANY",
            "integrationType": "HTTP_PROXY",
            "integrationUri": "http://127.0.0.1:9/backend",
            "payloadFormatVersion": "1.0",
            "timeoutInMillis": 30000
        })
    );
    let stage = get(&gw, &format!("/v2/apis/{api}/stages/%24default")).await;
    assert_eq!(stage.status, 200, "{}", stage.body);
    assert_eq!(stage.body["stageName"], "$default");
    assert_eq!(stage.body["autoDeploy"], true);
    let deployment = stage.body["deploymentId"].as_str().unwrap();
    let deployed = get(&gw, &format!("/v2/apis/{api}/deployments/{deployment}")).await;
    assert_eq!(deployed.status, 200);
    assert_eq!(deployed.body["autoDeployed"], true);
    assert_eq!(deployed.body["deploymentStatus"], "DEPLOYED");

    // A Lambda ARN target is an AWS_PROXY integration with payload 2.0.
    let lambda = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "fn", "protocolType": "HTTP", "routeKey": "GET /hello", "target": "arn:aws:lambda:us-east-1:111111111111:function:hello"}),
    )
    .await;
    assert_eq!(lambda.status, 201, "{}", lambda.body);
    let lambda_api = lambda.body["apiId"].as_str().unwrap();
    let apis = gw.planes.plane.apis();
    let route = &apis.http[lambda_api].stages["$default"].routes[0];
    assert_eq!(route.key, "GET /hello");
    assert_eq!(
        route.integration,
        Integration::LambdaProxy {
            endpoint: String::new(),
            // Every front door leaves the function as the Invoke API takes it.
            function: "hello".into(),
            payload_format: PayloadFormat::V2,
            // HTTP APIs' default and longest: 30 seconds, not REST's 29.
            timeout_ms: 30_000,
        }
    );

    // A target that is neither stores nothing.
    let before = call(&gw, ROOT_A, "GET", "/v2/apis", Value::Null).await;
    let bad = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "bad", "protocolType": "HTTP", "target": "ftp://x"}),
    )
    .await;
    bad.assert_error(400, "BadRequestException", None);
    let routekey_only = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "bad", "protocolType": "HTTP", "routeKey": "GET /x"}),
    )
    .await;
    routekey_only.assert_error(400, "BadRequestException", None);
    let after = call(&gw, ROOT_A, "GET", "/v2/apis", Value::Null).await;
    assert_eq!(before.body, after.body);
    assert_eq!(after.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn auto_deploy_stages_follow_every_change_and_manual_stages_wait_for_a_deployment() {
    let gw = Gateway::start(WORLD).await;
    let api = new_api(&gw, "pets").await;
    let backend = new_integration(&gw, &api, "http://127.0.0.1:9/").await;

    let auto = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "$default", "autoDeploy": true}),
    )
    .await;
    assert_eq!(auto.status, 201, "{}", auto.body);
    assert_eq!(served(&gw, &api, "$default"), Some(vec![]));

    let route = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "GET /pets", "authorizationType": "AWS_IAM", "target": format!("integrations/{backend}")}),
    )
    .await;
    assert_eq!(route.status, 201, "{}", route.body);
    assert_eq!(
        route.body,
        json!({
            "apiKeyRequired": false,
            "authorizationType": "AWS_IAM",
            "routeId": route.body["routeId"],
            "routeKey": "GET /pets",
            "target": format!("integrations/{backend}")
        })
    );
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["GET /pets".into()])
    );

    // A manual stage serves nothing until it is deployed to.
    let manual = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(manual.status, 201, "{}", manual.body);
    assert_eq!(manual.body["autoDeploy"], false);
    assert!(manual.body.get("deploymentId").is_none());
    assert_eq!(served(&gw, &api, "prod"), None);
    let deployment = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/deployments"),
        json!({"stageName": "prod", "description": "first"}),
    )
    .await;
    assert_eq!(deployment.status, 201, "{}", deployment.body);
    assert_eq!(deployment.body["autoDeployed"], false);
    assert_eq!(deployment.body["description"], "first");
    let first = deployment.body["deploymentId"].as_str().unwrap().to_owned();
    assert_eq!(served(&gw, &api, "prod"), Some(vec!["GET /pets".into()]));

    // A new route: the automatic stage serves it, the manual one does not.
    let second = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "POST /pets", "authorizationType": "AWS_IAM", "target": format!("integrations/{backend}")}),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["GET /pets".into(), "POST /pets".into()])
    );
    assert_eq!(served(&gw, &api, "prod"), Some(vec!["GET /pets".into()]));

    // The deployment a stage serves cannot be deleted.
    let in_use = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/apis/{api}/deployments/{first}"),
        Value::Null,
    )
    .await;
    in_use.assert_error(400, "BadRequestException", None);

    let again = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(
        served(&gw, &api, "prod"),
        Some(vec!["GET /pets".into(), "POST /pets".into()])
    );
    let stage = get(&gw, &format!("/v2/apis/{api}/stages/prod")).await;
    assert_eq!(stage.body["deploymentId"], again.body["deploymentId"]);
    // Now the first deployment is free to go.
    let deleted = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/apis/{api}/deployments/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    get(&gw, &format!("/v2/apis/{api}/deployments/{first}"))
        .await
        .assert_error(404, "NotFoundException", Some("Deployment"));

    // Updating a route redeploys too; deleting one as well.
    let route_id = route.body["routeId"].as_str().unwrap();
    let updated = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{api}/routes/{route_id}"),
        json!({"routeKey": "GET /pets/{id}"}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["authorizationType"], "AWS_IAM");
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["GET /pets/{id}".into(), "POST /pets".into()])
    );
    let gone = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/apis/{api}/routes/{route_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["POST /pets".into()])
    );

    // Automatic deployments nobody serves are not kept.
    let deployments = get(&gw, &format!("/v2/apis/{api}/deployments")).await;
    let auto_count = deployments.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["autoDeployed"] == true)
        .count();
    assert_eq!(auto_count, 1, "{}", deployments.body);

    // Turning autoDeploy on deploys right away; off leaves it serving.
    let switched = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{api}/stages/prod"),
        json!({"autoDeploy": true, "description": "follows"}),
    )
    .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    assert_eq!(switched.body["description"], "follows");
    assert_eq!(served(&gw, &api, "prod"), Some(vec!["POST /pets".into()]));

    let deleted = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/apis/{api}/stages/prod"),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(served(&gw, &api, "prod"), None);
    get(&gw, &format!("/v2/apis/{api}/stages/prod"))
        .await
        .assert_error(404, "NotFoundException", Some("Stage"));
}

#[tokio::test]
async fn bad_input_is_refused_with_aws_errors_and_changes_nothing() {
    let gw = Gateway::start(WORLD).await;
    let api = new_api(&gw, "strict").await;
    let backend = new_integration(&gw, &api, "http://127.0.0.1:9/").await;
    let ok = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "GET /pets/{id}", "authorizationType": "AWS_IAM", "target": format!("integrations/{backend}")}),
    )
    .await;
    assert_eq!(ok.status, 201);
    let route_id = ok.body["routeId"].as_str().unwrap().to_owned();
    let snapshot = async || {
        let document = gw
            .planes
            .plane
            .store()
            .get("httpapi", "111111111111", &api)
            .await
            .unwrap()
            .unwrap();
        (document.body, document.version)
    };
    let before = snapshot().await;

    let routes = format!("/v2/apis/{api}/routes");
    for (body, status, code) in [
        (json!({"routeKey": "GET pets"}), 400, "BadRequestException"),
        (
            json!({"routeKey": "FETCH /pets"}),
            400,
            "BadRequestException",
        ),
        (
            json!({"routeKey": "GET /{proxy+}/x"}),
            400,
            "BadRequestException",
        ),
        (json!({}), 400, "BadRequestException"),
        (
            json!({"routeKey": "GET /pets/{id}"}),
            409,
            "ConflictException",
        ),
        (
            json!({"routeKey": "GET /a", "authorizationType": "JWT"}),
            400,
            "BadRequestException",
        ),
        (
            json!({"routeKey": "GET /a", "authorizationType": "CUSTOM", "authorizerId": "nope"}),
            400,
            "BadRequestException",
        ),
        (
            json!({"routeKey": "GET /a", "authorizationType": "OPEN"}),
            400,
            "BadRequestException",
        ),
        (
            json!({"routeKey": "GET /a", "apiKeyRequired": true}),
            400,
            "BadRequestException",
        ),
        (
            json!({"routeKey": "GET /a", "target": "integrations/nope123"}),
            400,
            "BadRequestException",
        ),
        (json!({"routeKey": 5}), 400, "BadRequestException"),
    ] {
        let answer = call(&gw, ROOT_A, "POST", &routes, body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert_eq!(answer.error_type(), Some(code), "{body}");
    }
    let integrations = format!("/v2/apis/{api}/integrations");
    for body in [
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://x/", "timeoutInMillis": 10}),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://x/", "timeoutInMillis": 30001}),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "not a url"}),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://x/", "payloadFormatVersion": "2.0"}),
        json!({"integrationType": "AWS_PROXY", "integrationUri": "arn:aws:lambda:us-east-1:1:function:f"}),
        json!({"integrationType": "AWS_PROXY", "integrationUri": "arn:aws:lambda:us-east-1:111111111111:function:f", "payloadFormatVersion": "3.0"}),
        json!({"integrationType": "AWS_PROXY", "integrationUri": "http://x/", "payloadFormatVersion": "2.0"}),
        json!({"integrationType": "MOCK"}),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://x/", "connectionType": "VPC_LINK"}),
        json!({"integrationType": "HTTP_PROXY", "integrationUri": "http://x/", "requestParameters": {"append:header.x": "y"}}),
        json!({"integrationUri": "http://x/"}),
    ] {
        let answer = call(&gw, ROOT_A, "POST", &integrations, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert_eq!(answer.error_type(), Some("BadRequestException"));
    }
    let route = format!("/v2/apis/{api}/routes/{route_id}");
    for body in [
        json!({"routeKey": "nope"}),
        json!({"authorizationType": "JWT"}),
        json!({"target": "integrations/unknown"}),
    ] {
        let answer = call(&gw, ROOT_A, "PATCH", &route, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
    }
    let integration = format!("/v2/apis/{api}/integrations/{backend}");
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &integration,
        json!({"timeoutInMillis": 5}),
    )
    .await;
    answer.assert_error(400, "BadRequestException", None);
    // The integration a route targets cannot be deleted.
    call(&gw, ROOT_A, "DELETE", &integration, Value::Null)
        .await
        .assert_error(409, "ConflictException", None);

    // Unknown ids: NotFoundException with the resource type.
    call(&gw, ROOT_A, "GET", "/v2/apis/nope000000", Value::Null)
        .await
        .assert_error(404, "NotFoundException", Some("Api"));
    let missing = get(&gw, "/v2/apis/nope000000").await;
    assert_eq!(
        missing.body["message"],
        "Invalid API identifier specified 111111111111:nope000000"
    );
    for (method, target, kind) in [
        ("GET", format!("/v2/apis/{api}/routes/zzzzzzz"), "Route"),
        ("PATCH", format!("/v2/apis/{api}/routes/zzzzzzz"), "Route"),
        ("DELETE", format!("/v2/apis/{api}/routes/zzzzzzz"), "Route"),
        (
            "GET",
            format!("/v2/apis/{api}/integrations/zzzzzzz"),
            "Integration",
        ),
        (
            "DELETE",
            format!("/v2/apis/{api}/integrations/zzzzzzz"),
            "Integration",
        ),
        ("GET", format!("/v2/apis/{api}/stages/nope"), "Stage"),
        ("PATCH", format!("/v2/apis/{api}/stages/nope"), "Stage"),
        ("DELETE", format!("/v2/apis/{api}/stages/nope"), "Stage"),
        (
            "GET",
            format!("/v2/apis/{api}/deployments/zzzzzz"),
            "Deployment",
        ),
        ("GET", "/v2/apis/nope000000/routes".to_owned(), "Api"),
        ("POST", "/v2/apis/nope000000/routes".to_owned(), "Api"),
        (
            "GET",
            "/v2/domainnames/nope.example.com".to_owned(),
            "DomainName",
        ),
    ] {
        let body = if method == "GET" || method == "DELETE" {
            Value::Null
        } else {
            json!({"routeKey": "GET /z"})
        };
        call(&gw, ROOT_A, method, &target, body).await.assert_error(
            404,
            "NotFoundException",
            Some(kind),
        );
    }
    let deploy_to_nowhere = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/deployments"),
        json!({"stageName": "nope"}),
    )
    .await;
    deploy_to_nowhere.assert_error(404, "NotFoundException", Some("Stage"));

    // An invalid OpenAPI document changes nothing either.
    for text in [
        "not: [valid",
        r#"{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"security":[{"jwt":[]}],"x-amazon-apigateway-integration":{"type":"http_proxy","uri":"http://127.0.0.1:9/","httpMethod":"GET","payloadFormatVersion":"1.0"}}}},"components":{"securitySchemes":{"jwt":{"type":"oauth2","flows":{}}}}}"#,
    ] {
        let reimport = call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("/v2/apis/{api}"),
            json!({ "body": text }),
        )
        .await;
        reimport.assert_error(400, "BadRequestException", None);
    }
    assert_eq!(snapshot().await, before, "nothing was written");
    assert_eq!(
        call(&gw, ROOT_A, "GET", "/v2/apis/x/y/z/w", Value::Null)
            .await
            .status,
        404
    );
}

const OPENAPI: &str = r#"
openapi: 3.0.1
info: { title: imported, version: "1" }
x-amazon-apigateway-importexport-version: "1.0"
paths:
  /pets:
    get:
      security: [{ sigv4: [] }]
      x-amazon-apigateway-integration:
        type: http_proxy
        uri: http://127.0.0.1:9/pets
        httpMethod: GET
        payloadFormatVersion: "1.0"
  /pets/{id}:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:lambda:us-east-1:111111111111:function:pet
        httpMethod: POST
        payloadFormatVersion: "2.0"
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
"#;

#[tokio::test]
async fn import_and_reimport_replace_the_definition_and_redeploy() {
    let gw = Gateway::start(WORLD).await;
    let imported = call(&gw, ROOT_A, "PUT", "/v2/apis", json!({ "body": OPENAPI })).await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    assert_eq!(imported.body["name"], "imported");
    let api = imported.body["apiId"].as_str().unwrap().to_owned();
    let routes = get(&gw, &format!("/v2/apis/{api}/routes")).await;
    let items = routes.body["items"].as_array().unwrap();
    let keys: Vec<(&str, &str)> = items
        .iter()
        .map(|r| {
            (
                r["routeKey"].as_str().unwrap(),
                r["authorizationType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![("GET /pets", "AWS_IAM"), ("GET /pets/{id}", "NONE")]
    );
    let integrations = get(&gw, &format!("/v2/apis/{api}/integrations")).await;
    let mut kinds: Vec<&str> = integrations.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["integrationType"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, vec!["AWS_PROXY", "HTTP_PROXY"]);

    let stage = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "$default", "autoDeploy": true}),
    )
    .await;
    assert_eq!(stage.status, 201);
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["GET /pets".into(), "GET /pets/{id}".into()])
    );

    let smaller = OPENAPI.replace("title: imported", "title: renamed");
    let smaller = &smaller[..smaller.find("  /pets/{id}:").unwrap()];
    let reimported = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/v2/apis/{api}"),
        json!({ "body": format!("{smaller}components:\n  securitySchemes:\n    sigv4: {{ type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }}\n") }),
    )
    .await;
    assert_eq!(reimported.status, 201, "{}", reimported.body);
    assert_eq!(reimported.body["apiId"], api.as_str());
    assert_eq!(reimported.body["name"], "renamed");
    assert_eq!(
        served(&gw, &api, "$default"),
        Some(vec!["GET /pets".into()])
    );

    // Reimport of an API of nobody's.
    call(
        &gw,
        ROOT_A,
        "PUT",
        "/v2/apis/nope000000",
        json!({ "body": OPENAPI }),
    )
    .await
    .assert_error(404, "NotFoundException", Some("Api"));
    call(&gw, ROOT_A, "PUT", "/v2/apis", json!({}))
        .await
        .assert_error(400, "BadRequestException", None);
}

#[tokio::test]
async fn apis_are_listed_paged_updated_deleted_and_seen_by_their_account_only() {
    let gw = Gateway::start(WORLD).await;
    let one = new_api(&gw, "one").await;
    let two = new_api(&gw, "two").await;

    let first = get(&gw, "/v2/apis?maxResults=1").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 1);
    let token = first.body["nextToken"].as_str().unwrap().to_owned();
    let rest = get(&gw, &format!("/v2/apis?maxResults=1&nextToken={token}")).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body.get("nextToken").is_none());
    let mut ids = vec![
        first.body["items"][0]["apiId"].as_str().unwrap().to_owned(),
        rest.body["items"][0]["apiId"].as_str().unwrap().to_owned(),
    ];
    ids.sort();
    let mut want = vec![one.clone(), two.clone()];
    want.sort();
    assert_eq!(ids, want);
    get(&gw, "/v2/apis?nextToken=garbage")
        .await
        .assert_error(400, "BadRequestException", None);

    let updated = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{one}"),
        json!({"name": "uno", "description": "first", "disableExecuteApiEndpoint": true}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "uno");
    assert_eq!(updated.body["description"], "first");
    assert_eq!(updated.body["disableExecuteApiEndpoint"], true);
    let read = get(&gw, &format!("/v2/apis/{one}")).await;
    assert_eq!(read.body, updated.body);
    call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{one}"),
        json!({"name": ""}),
    )
    .await
    .assert_error(400, "BadRequestException", None);

    // Account B sees and touches none of A's APIs.
    let theirs = call(&gw, ROOT_B, "GET", "/v2/apis", Value::Null).await;
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.body, json!({"items": []}));
    for (method, target, body) in [
        ("GET", format!("/v2/apis/{one}"), Value::Null),
        ("PATCH", format!("/v2/apis/{one}"), json!({"name": "mine"})),
        ("DELETE", format!("/v2/apis/{one}"), Value::Null),
        ("GET", format!("/v2/apis/{one}/routes"), Value::Null),
        (
            "POST",
            format!("/v2/apis/{one}/routes"),
            json!({"routeKey": "GET /x"}),
        ),
        (
            "POST",
            format!("/v2/apis/{one}/stages"),
            json!({"stageName": "x"}),
        ),
        ("POST", format!("/v2/apis/{one}/deployments"), json!({})),
    ] {
        let answer = call(&gw, ROOT_B, method, &target, body).await;
        answer.assert_error(404, "NotFoundException", Some("Api"));
        assert_eq!(
            answer.body["message"],
            format!("Invalid API identifier specified 222222222222:{one}")
        );
    }
    assert_eq!(
        get(&gw, &format!("/v2/apis/{one}")).await.body["name"],
        "uno"
    );

    // The reader may read but not write; the ARN has no /v2.
    assert_eq!(
        call(&gw, READER, "GET", &format!("/v2/apis/{one}"), Value::Null)
            .await
            .status,
        200
    );
    let denied = call(
        &gw,
        READER,
        "DELETE",
        &format!("/v2/apis/{one}"),
        Value::Null,
    )
    .await;
    denied.assert_error(403, "AccessDeniedException", None);
    assert_eq!(
        denied.body["message"],
        format!(
            "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/apis/{one} because no identity-based policy allows the apigateway:DELETE action"
        )
    );

    let deleted = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/apis/{one}"),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_null());
    get(&gw, &format!("/v2/apis/{one}"))
        .await
        .assert_error(404, "NotFoundException", Some("Api"));
    assert!(!gw.planes.plane.apis().http.contains_key(&one));
}

#[tokio::test]
async fn domain_names_and_api_mappings_are_stored_per_account_and_names_are_not_shared() {
    let gw = Gateway::start(WORLD).await;
    let quick = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "q", "protocolType": "HTTP", "target": "http://127.0.0.1:9/"}),
    )
    .await;
    let api = quick.body["apiId"].as_str().unwrap().to_owned();

    let domain = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "API.Example.com", "domainNameConfigurations": [{"endpointType": "REGIONAL", "certificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/x"}]}),
    )
    .await;
    assert_eq!(domain.status, 201, "{}", domain.body);
    assert_eq!(domain.body["domainName"], "api.example.com");
    assert_eq!(
        domain.body["domainNameConfigurations"][0]["endpointType"],
        "REGIONAL"
    );
    assert_eq!(
        domain.body["apiMappingSelectionExpression"],
        "$request.basepath"
    );
    let same = get(&gw, "/v2/domainnames/api.example.com").await;
    assert_eq!(same.body, domain.body);

    // The name is taken for everyone.
    call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await
    .assert_error(409, "ConflictException", None);
    call(
        &gw,
        ROOT_B,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await
    .assert_error(409, "ConflictException", None);
    call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "not a domain"}),
    )
    .await
    .assert_error(400, "BadRequestException", None);

    let mappings = "/v2/domainnames/api.example.com/apimappings";
    let root = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"apiId": api, "stage": "$default", "apiMappingKey": ""}),
    )
    .await;
    assert_eq!(root.status, 201, "{}", root.body);
    assert_eq!(root.body["apiMappingKey"], "");
    let v1 = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"apiId": api, "stage": "$default", "apiMappingKey": "v1/pets"}),
    )
    .await;
    assert_eq!(v1.status, 201, "{}", v1.body);
    let stored = gw.planes.plane.apis().domains["api.example.com"].clone();
    assert_eq!(stored.mappings[""].api_id, api);
    assert_eq!(stored.mappings["v1/pets"].stage, "$default");

    for (body, status, code) in [
        (
            json!({"apiId": api, "stage": "$default", "apiMappingKey": "v1/pets"}),
            409,
            "ConflictException",
        ),
        (
            json!({"apiId": api, "stage": "prod"}),
            404,
            "NotFoundException",
        ),
        (
            json!({"apiId": "nope000000", "stage": "$default"}),
            404,
            "NotFoundException",
        ),
        (
            json!({"apiId": api, "stage": "$default", "apiMappingKey": "/bad/"}),
            400,
            "BadRequestException",
        ),
        (json!({"stage": "$default"}), 400, "BadRequestException"),
    ] {
        let answer = call(&gw, ROOT_A, "POST", mappings, body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert_eq!(answer.error_type(), Some(code));
    }
    // B cannot map A's API under a domain of its own.
    let theirs = call(
        &gw,
        ROOT_B,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "b.example.com"}),
    )
    .await;
    assert_eq!(theirs.status, 201);
    call(
        &gw,
        ROOT_B,
        "POST",
        "/v2/domainnames/b.example.com/apimappings",
        json!({"apiId": api, "stage": "$default"}),
    )
    .await
    .assert_error(404, "NotFoundException", Some("Api"));
    call(
        &gw,
        ROOT_B,
        "GET",
        "/v2/domainnames/api.example.com",
        Value::Null,
    )
    .await
    .assert_error(404, "NotFoundException", Some("DomainName"));

    let listed = get(&gw, mappings).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let id = v1.body["apiMappingId"].as_str().unwrap();
    let one = get(&gw, &format!("{mappings}/{id}")).await;
    assert_eq!(one.body, v1.body);
    let deleted = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("{mappings}/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204);
    get(&gw, &format!("{mappings}/{id}")).await.assert_error(
        404,
        "NotFoundException",
        Some("ApiMapping"),
    );
    let names = get(&gw, "/v2/domainnames").await;
    assert_eq!(names.body["items"].as_array().unwrap().len(), 1);

    let deleted = call(
        &gw,
        ROOT_A,
        "DELETE",
        "/v2/domainnames/api.example.com",
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert!(
        !gw.planes
            .plane
            .apis()
            .domains
            .contains_key("api.example.com")
    );
}

#[tokio::test]
async fn tags_are_added_read_and_removed_by_arn() {
    let gw = Gateway::start(WORLD).await;
    let created = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "t", "protocolType": "HTTP", "tags": {"team": "a"}}),
    )
    .await;
    let api = created.body["apiId"].as_str().unwrap().to_owned();
    assert_eq!(created.body["tags"], json!({"team": "a"}));
    let arn = format!("arn:aws:apigateway:us-east-1::/apis/{api}");
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    let tagged = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/tags/{encoded}"),
        json!({"tags": {"env": "test"}}),
    )
    .await;
    assert_eq!(tagged.status, 201, "{}", tagged.body);
    let tags = get(&gw, &format!("/v2/tags/{encoded}")).await;
    assert_eq!(tags.status, 200);
    assert_eq!(tags.body, json!({"tags": {"env": "test", "team": "a"}}));
    let untagged = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/v2/tags/{encoded}?tagKeys=team"),
        Value::Null,
    )
    .await;
    assert_eq!(untagged.status, 204, "{}", untagged.body);
    assert_eq!(
        get(&gw, &format!("/v2/apis/{api}")).await.body["tags"],
        json!({"env": "test"})
    );
    // Another account's tags are not found.
    call(
        &gw,
        ROOT_B,
        "GET",
        &format!("/v2/tags/{encoded}"),
        Value::Null,
    )
    .await
    .assert_error(404, "NotFoundException", None);
}

/// Asserts a 400 `BadRequestException` that names the length limit `max`.
fn assert_too_long(answer: &Answer, max: usize) {
    answer.assert_error(400, "BadRequestException", None);
    let message = answer.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "failed to satisfy constraint: Member must have length less than or equal to {max}"
        )),
        "{message}"
    );
}

/// `count` members named `{i}` padded to `key` characters, each `value`
/// characters long.
fn members(count: usize, key: usize, value: usize) -> Value {
    (0..count)
        .map(|i| {
            let name = format!("{i}{}", "k".repeat(key - i.to_string().len()));
            (name, json!("v".repeat(value)))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[tokio::test]
async fn http_api_names_route_keys_stages_tags_and_mapping_keys_are_bounded_at_the_limits() {
    let gw = Gateway::start(WORLD).await;
    // Name: 1 to 128 characters (the apigatewayv2 model).
    let api = new_api(&gw, &"n".repeat(128)).await;
    let listed = get(&gw, "/v2/apis").await;
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "n".repeat(129), "protocolType": "HTTP"}),
    )
    .await;
    assert_too_long(&answer, 128);
    for bad in [
        json!({"name": "n", "protocolType": "HTTP", "version": "v".repeat(65)}),
        json!({"name": "n", "protocolType": "HTTP", "tags": members(51, 3, 1)}),
    ] {
        let answer = call(&gw, ROOT_A, "POST", "/v2/apis", bad).await;
        answer.assert_error(400, "BadRequestException", None);
    }
    assert_eq!(
        get(&gw, "/v2/apis").await.body,
        listed.body,
        "no API was created"
    );

    // A route key's path: 1024 characters (ours).
    let integration = new_integration(&gw, &api, "http://127.0.0.1:9/").await;
    let routes = format!("/v2/apis/{api}/routes");
    let route = |length: usize| json!({"routeKey": format!("GET /{}", "r".repeat(length - 1)), "target": format!("integrations/{integration}")});
    let created = call(&gw, ROOT_A, "POST", &routes, route(1024)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let answer = call(&gw, ROOT_A, "POST", &routes, route(1025)).await;
    assert_too_long(&answer, 1024);
    assert_eq!(
        get(&gw, &routes).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Stages: names up to 128, variables (100, 64, 512) and tags (50, 128, 256).
    let stages = format!("/v2/apis/{api}/stages");
    let stage = |name: String, variables: Value, tags: Value| json!({"stageName": name, "stageVariables": variables, "tags": tags});
    let created = call(
        &gw,
        ROOT_A,
        "POST",
        &stages,
        stage(
            "s".repeat(128),
            members(100, 64, 512),
            members(50, 128, 256),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    for bad in [
        stage("s".repeat(129), json!({}), json!({})),
        stage("b1".into(), members(101, 3, 1), json!({})),
        stage("b2".into(), members(1, 65, 1), json!({})),
        stage("b3".into(), members(1, 3, 513), json!({})),
        stage("b4".into(), json!({}), members(51, 3, 1)),
        stage("b5".into(), json!({}), members(1, 129, 1)),
        stage("b6".into(), json!({}), members(1, 3, 257)),
    ] {
        let answer = call(&gw, ROOT_A, "POST", &stages, bad.clone()).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }
    assert_eq!(
        get(&gw, &stages).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // TagResource counts the tags the API already has.
    let arn = format!("arn:aws:apigateway:us-east-1::/apis/{api}");
    let tagged = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/tags/{arn}"),
        json!({"tags": members(50, 3, 1)}),
    )
    .await;
    assert_eq!(tagged.status, 201, "{}", tagged.body);
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/tags/{arn}"),
        json!({"tags": {"one": "more"}}),
    )
    .await;
    answer.assert_error(400, "BadRequestException", None);
    let tags = get(&gw, &format!("/v2/tags/{arn}")).await;
    assert_eq!(tags.body["tags"], members(50, 3, 1));

    // An API mapping key: 1024 characters (ours).
    let domain = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await;
    assert_eq!(domain.status, 201, "{}", domain.body);
    let mappings = "/v2/domainnames/api.example.com/apimappings";
    let mapping = |length: usize| json!({"apiId": api, "stage": "s".repeat(128), "apiMappingKey": "m".repeat(length)});
    let created = call(&gw, ROOT_A, "POST", mappings, mapping(1024)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let answer = call(&gw, ROOT_A, "POST", mappings, mapping(1025)).await;
    assert_too_long(&answer, 1024);
    assert_eq!(
        get(&gw, mappings).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn update_deployment_changes_its_description() {
    let gw = Gateway::start(WORLD).await;
    let api = new_api(&gw, "dep").await;
    let deployment = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/deployments"),
        json!({"description": "first"}),
    )
    .await;
    assert_eq!(deployment.status, 201, "{}", deployment.body);
    let id = deployment.body["deploymentId"].as_str().unwrap();
    let updated = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{api}/deployments/{id}"),
        json!({"description": "second"}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["description"], "second");
    assert_eq!(updated.body["deploymentId"], id);
    assert_eq!(
        get(&gw, &format!("/v2/apis/{api}/deployments/{id}"))
            .await
            .body,
        updated.body
    );
    let missing = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{api}/deployments/nosuch"),
        json!({"description": "x"}),
    )
    .await;
    missing.assert_error(404, "NotFoundException", Some("Deployment"));
    assert_eq!(
        missing.body["message"],
        "Invalid Deployment identifier specified nosuch"
    );
}

#[tokio::test]
async fn create_route_on_an_unknown_api_is_not_found_even_with_a_bad_route_key() {
    let gw = Gateway::start(WORLD).await;
    let missing = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis/nosuchapi0/routes",
        json!({"routeKey": "FETCH pets"}),
    )
    .await;
    missing.assert_error(404, "NotFoundException", Some("Api"));
    assert_eq!(
        missing.body["message"],
        "Invalid API identifier specified 111111111111:nosuchapi0"
    );
    let api = new_api(&gw, "order").await;
    let bad = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "FETCH pets"}),
    )
    .await;
    bad.assert_error(400, "BadRequestException", None);
    let unknown_route = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/v2/apis/{api}/routes/nosuch"),
        json!({"routeKey": "FETCH pets"}),
    )
    .await;
    unknown_route.assert_error(404, "NotFoundException", Some("Route"));
}

#[tokio::test]
async fn update_api_mapping_moves_a_mapping_to_a_new_key_and_stage() {
    let gw = Gateway::start(WORLD).await;
    let quick = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/apis",
        json!({"name": "q", "protocolType": "HTTP", "target": "http://127.0.0.1:9/"}),
    )
    .await;
    let api = quick.body["apiId"].as_str().unwrap().to_owned();
    let staged = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "prod", "autoDeploy": true}),
    )
    .await;
    assert_eq!(staged.status, 201, "{}", staged.body);
    let domain = call(
        &gw,
        ROOT_A,
        "POST",
        "/v2/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await;
    assert_eq!(domain.status, 201, "{}", domain.body);
    let mappings = "/v2/domainnames/api.example.com/apimappings";
    let created = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"apiId": api, "stage": "$default", "apiMappingKey": "v1"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["apiMappingId"].as_str().unwrap().to_owned();
    let updated = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{mappings}/{id}"),
        json!({"apiId": api, "stage": "prod", "apiMappingKey": "v2"}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["apiMappingId"], id.as_str());
    assert_eq!(updated.body["apiMappingKey"], "v2");
    assert_eq!(updated.body["stage"], "prod");
    assert_eq!(
        get(&gw, &format!("{mappings}/{id}")).await.body,
        updated.body
    );
    let stored = gw.planes.plane.apis().domains["api.example.com"].clone();
    assert!(!stored.mappings.contains_key("v1"));
    assert_eq!(stored.mappings["v2"].stage, "prod");
    call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{mappings}/nosuch"),
        json!({"apiId": api}),
    )
    .await
    .assert_error(404, "NotFoundException", None);
}

/// The `apigatewayv2` model declares no `ValidationException` (its 400 is
/// `BadRequestException`, "One of the parameters in the request is
/// invalid"), unlike the REST control plane's input-model refusals: a
/// value outside the model is a `BadRequestException` here.
#[tokio::test]
async fn input_model_violations_on_http_apis_are_bad_request_exceptions() {
    let gw = Gateway::start(WORLD).await;
    for body in [
        json!({"protocolType": "HTTP"}),
        json!({"name": "x", "protocolType": "FOO"}),
        json!({"name": "x"}),
    ] {
        let answer = call(&gw, ROOT_A, "POST", "/v2/apis", body.clone()).await;
        answer.assert_error(400, "BadRequestException", None);
    }
    let api = new_api(&gw, "model").await;
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/routes"),
        json!({"routeKey": "GET /x", "authorizationType": "FOO"}),
    )
    .await;
    answer.assert_error(400, "BadRequestException", None);
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/v2/apis/{api}/stages"),
        json!({"stageName": "bad name!"}),
    )
    .await;
    answer.assert_error(400, "BadRequestException", None);
}
