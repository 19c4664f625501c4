#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The API Gateway control planes in process: REST-JSON requests signed by
//! aws-sigv4 (service `apigateway`), AWS's shapes and errors, and what the
//! data plane serves afterwards.

mod support;

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

/// A signed REST-JSON call; status and JSON body (`Null` when empty).
async fn call(
    gw: &Gateway,
    key: (&str, &str),
    method: &str,
    target: &str,
    body: Value,
) -> (u16, Value, Vec<(String, String)>) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    call_raw(gw, key, method, target, body).await
}

/// A signed call whose body is sent as given.
async fn call_raw(
    gw: &Gateway,
    key: (&str, &str),
    method: &str,
    target: &str,
    body: String,
) -> (u16, Value, Vec<(String, String)>) {
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
    let json = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    (response.status, json, response.headers)
}

const ROOT_A: (&str, &str) = ("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
const ROOT_B: (&str, &str) = ("AKIAROOTBBBBBBBBBBBB", "root-secret-b");
const READER: (&str, &str) = ("AKIAREADERAAAAAAAAAA", "reader-secret");

#[tokio::test]
async fn a_rest_api_is_created_read_listed_patched_and_deleted_in_its_account_only() {
    let gw = Gateway::start(WORLD).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;
    let (status, api, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis",
        json!({"name": "pets", "endpointConfiguration": {"types": ["REGIONAL"]}, "policy": policy}),
    )
    .await;
    assert_eq!(status, 201, "{api}");
    let id = api["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 10);
    assert_eq!(
        api["endpointConfiguration"],
        json!({"types": ["REGIONAL"], "ipAddressType": "ipv4"})
    );
    assert_eq!(
        api["policy"],
        format!(
            r#"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"arn:aws:execute-api:us-east-1:111111111111:{id}\/*\"}}]}}"#
        )
    );

    let (status, listed, _) = call(&gw, READER, "GET", "/restapis", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(listed["item"][0]["id"], id.as_str());

    // Another account sees none of it.
    let (status, other, headers) =
        call(&gw, ROOT_B, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(status, 404);
    assert_eq!(
        other,
        json!({"message": format!("Invalid API identifier specified 222222222222:{id}")})
    );
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "x-amzn-ErrorType" && v == "NotFoundException")
    );

    // The reader may only GET.
    let (status, denied, _) = call(
        &gw,
        READER,
        "DELETE",
        &format!("/restapis/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        denied["message"],
        format!(
            "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/restapis/{id} because no identity-based policy allows the apigateway:DELETE action"
        )
    );

    // A bad patch changes nothing.
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{id}"),
        json!({"patchOperations": [{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "replace", "path": "/nope", "value": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    let (_, unchanged, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(unchanged["name"], "pets");

    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    let (status, _, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(status, 404);
}

/// The `x-amzn-ErrorType` of an answer.
fn error_type(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-ErrorType"))
        .map(|(_, v)| v.as_str())
}

/// Asserts AWS's REST-JSON error: status, `x-amzn-ErrorType` and exactly
/// `{"message": …}`.
fn assert_error(
    answer: &(u16, Value, Vec<(String, String)>),
    status: u16,
    kind: &str,
    message: &str,
) {
    let (got, body, headers) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(error_type(headers), Some(kind), "{body}");
    assert_eq!(body, &json!({ "message": message }));
}

const OPEN_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;
const B_ONLY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}"#;

/// Creates a REST API; its id and root resource id.
async fn create_api(gw: &Gateway, key: (&str, &str), body: Value) -> (String, String) {
    let (status, api, _) = call(gw, key, "POST", "/restapis", body).await;
    assert_eq!(status, 201, "{api}");
    (
        api["id"].as_str().unwrap().to_owned(),
        api["rootResourceId"].as_str().unwrap().to_owned(),
    )
}

/// `GET` on `resource`: AWS_IAM, a MOCK integration answering 200 `body`.
async fn mock_get(gw: &Gateway, api: &str, resource: &str, body: &str) {
    let base = format!("/restapis/{api}/resources/{resource}/methods/GET");
    let (status, method, _) = call(
        gw,
        ROOT_A,
        "PUT",
        &base,
        json!({"authorizationType": "AWS_IAM"}),
    )
    .await;
    assert_eq!(status, 201, "{method}");
    let (status, integration, _) = call(
        gw,
        ROOT_A,
        "PUT",
        &format!("{base}/integration"),
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    assert_eq!(status, 201, "{integration}");
    let (status, response, _) = call(
        gw,
        ROOT_A,
        "PUT",
        &format!("{base}/integration/responses/200"),
        json!({"selectionPattern": "", "responseTemplates": {"application/json": body}}),
    )
    .await;
    assert_eq!(status, 201, "{response}");
}

/// (path, method, mock body) of each served method: the template of its
/// first integration response.
type ServedMethods = Vec<(String, String, String)>;

/// What stage `stage` of `api` serves now: the deployed policy text and
/// the methods of its tree.
fn served(gw: &Gateway, api: &str, stage: &str) -> Option<(Option<String>, ServedMethods)> {
    use iamgate_apimodel::model::{Integration, Resource};
    fn walk(node: &Resource, out: &mut Vec<(String, String, String)>) {
        for m in &node.methods {
            let body = match &m.integration {
                Integration::Mock { body, .. } => body.clone(),
                Integration::Mapped(mapped) => mapped
                    .responses
                    .first()
                    .and_then(|r| r.templates.first())
                    .map(|(_, t)| t.source().to_owned())
                    .unwrap_or_default(),
                other => format!("{other:?}"),
            };
            out.push((m.resource_path.clone(), m.http_method.clone(), body));
        }
        for child in &node.children {
            walk(child, out);
        }
    }
    let apis = gw.planes.plane.apis();
    let stage = apis.rest.get(api)?.stages.get(stage)?.clone();
    let mut methods = Vec::new();
    walk(&stage.root, &mut methods);
    methods.sort();
    Some((stage.policy_text, methods))
}

#[tokio::test]
async fn a_deployment_freezes_the_tree_and_the_policy_until_the_next_one() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(
        &gw,
        ROOT_A,
        json!({"name": "pets", "endpointConfiguration": {"types": ["REGIONAL"]}, "policy": OPEN_POLICY}),
    )
    .await;

    let (status, pets, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/resources/{root}"),
        json!({"pathPart": "pets"}),
    )
    .await;
    assert_eq!(status, 201, "{pets}");
    let pets_id = pets["id"].as_str().unwrap().to_owned();
    assert_eq!(
        pets,
        json!({"id": pets_id, "parentId": root, "pathPart": "pets", "path": "/pets"})
    );
    mock_get(&gw, &api, &pets_id, "{\"pets\": 1}").await;

    // Nothing is served before a deployment.
    assert!(served(&gw, &api, "prod").is_none());

    let (status, deployment, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod", "description": "first"}),
    )
    .await;
    assert_eq!(status, 201, "{deployment}");
    let first = deployment["id"].as_str().unwrap().to_owned();
    assert_eq!(
        deployment,
        json!({"id": first, "description": "first", "createdDate": support::NOW})
    );
    let open_arn = format!("arn:aws:execute-api:us-east-1:111111111111:{api}/*");
    let (policy, methods) = served(&gw, &api, "prod").unwrap();
    assert!(policy.unwrap().contains(&open_arn));
    assert_eq!(
        methods,
        vec![(
            "/pets".to_owned(),
            "GET".to_owned(),
            "{\"pets\": 1}".to_owned()
        )]
    );

    // Edit the policy and the tree: the stage keeps serving the snapshot.
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}"),
        json!({"patchOperations": [{"op": "replace", "path": "/policy", "value": B_ONLY_POLICY}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/resources/{pets_id}/methods/GET"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    mock_get(&gw, &api, &root, "root").await;
    let (policy, methods) = served(&gw, &api, "prod").unwrap();
    assert!(
        policy.as_deref().unwrap().contains("\"Principal\":\"*\""),
        "{policy:?}"
    );
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].0, "/pets");

    // A second stage on the first deployment, then a redeploy of prod.
    let (status, stage, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/stages"),
        json!({"stageName": "old", "deploymentId": first, "variables": {"v": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{stage}");
    assert_eq!(stage["deploymentId"], first.as_str());
    assert_eq!(stage["variables"], json!({"v": "1"}));
    let (status, second, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    let second = second["id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let (policy, methods) = served(&gw, &api, "prod").unwrap();
    assert!(
        policy
            .as_deref()
            .unwrap()
            .contains("arn:aws:iam::222222222222:root")
    );
    assert_eq!(
        methods,
        vec![("/".to_owned(), "GET".to_owned(), "root".to_owned())]
    );
    let (old_policy, old_methods) = served(&gw, &api, "old").unwrap();
    assert!(old_policy.unwrap().contains("\"Principal\":\"*\""));
    assert_eq!(old_methods[0].0, "/pets");

    // Deployments and stages read back.
    let (status, list, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/deployments"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["item"].as_array().unwrap().len(), 2);
    let (status, stages, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/stages"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = stages["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stageName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["old", "prod"]);
    let (status, prod, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/stages/prod"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(prod["deploymentId"], second.as_str());
    assert_eq!(prod["createdDate"], support::NOW);

    // A deployment a stage uses cannot go; moving the stage frees it.
    let answer = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/deployments/{first}"),
        Value::Null,
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "Active stages pointing to this deployment must be moved or deleted",
    );
    let (status, moved, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}/stages/old"),
        json!({"patchOperations": [
            {"op": "replace", "path": "/deploymentId", "value": second},
            {"op": "replace", "path": "/variables/v", "value": "2"},
            {"op": "replace", "path": "/description", "value": "moved"}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["variables"], json!({"v": "2"}));
    assert_eq!(moved["description"], "moved");
    let (old_policy, _) = served(&gw, &api, "old").unwrap();
    assert!(old_policy.unwrap().contains("222222222222"));
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/deployments/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!((status, body), (202, Value::Null));
    let answer = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/deployments/{first}"),
        Value::Null,
    )
    .await;
    assert_error(
        &answer,
        404,
        "NotFoundException",
        "Invalid Deployment identifier specified",
    );

    // Deleting a stage stops serving it.
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/stages/old"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    assert!(served(&gw, &api, "old").is_none());
    let answer = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/stages/old"),
        Value::Null,
    )
    .await;
    assert_error(
        &answer,
        404,
        "NotFoundException",
        "Invalid Stage identifier specified",
    );
}

#[tokio::test]
async fn resources_form_a_tree_with_aws_naming_rules() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "tree"})).await;
    let create = |parent: String, part: &'static str| {
        let gw = &gw;
        let api = api.clone();
        async move {
            call(
                gw,
                ROOT_A,
                "POST",
                &format!("/restapis/{api}/resources/{parent}"),
                json!({ "pathPart": part }),
            )
            .await
        }
    };
    let (_, pets, _) = create(root.clone(), "pets").await;
    let pets = pets["id"].as_str().unwrap().to_owned();
    assert_eq!(pets.len(), 6);
    let (status, id, _) = create(pets.clone(), "{id}").await;
    assert_eq!(status, 201);
    assert_eq!(id["path"], "/pets/{id}");
    let id = id["id"].as_str().unwrap().to_owned();
    let (_, toys, _) = create(id.clone(), "toys").await;
    let toys = toys["id"].as_str().unwrap().to_owned();

    assert_error(
        &create(root.clone(), "pets").await,
        409,
        "ConflictException",
        "Another resource with the same parent already has this name: pets",
    );
    assert_error(
        &create(pets.clone(), "{petId}").await,
        400,
        "BadRequestException",
        "A sibling ({id}) of this resource already has a variable path part -- only one is allowed",
    );
    let (status, _, headers) = create(root.clone(), "bad part!").await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&headers), Some("BadRequestException"));
    let (_, proxy, _) = create(root.clone(), "{proxy+}").await;
    let proxy = proxy["id"].as_str().unwrap().to_owned();
    let (status, _, _) = create(proxy.clone(), "below").await;
    assert_eq!(status, 400, "nothing below a greedy resource");
    assert_error(
        &create("nosuch".to_owned(), "x").await,
        404,
        "NotFoundException",
        "Invalid Resource identifier specified",
    );

    // Renaming rewrites the paths below.
    let (status, renamed, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}/resources/{pets}"),
        json!({"patchOperations": [{"op": "replace", "path": "/pathPart", "value": "animals"}]}),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["path"], "/animals");
    let (_, below, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/resources/{toys}"),
        Value::Null,
    )
    .await;
    assert_eq!(below["path"], "/animals/{id}/toys");
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}/resources/{pets}"),
        json!({"patchOperations": [{"op": "replace", "path": "/pathPart", "value": "beasts"}, {"op": "replace", "path": "/parentId", "value": "x"}]}),
    )
    .await;
    // A move to a parent the API does not have changes nothing.
    assert_error(
        &answer,
        404,
        "NotFoundException",
        "Invalid Resource identifier specified",
    );

    // GetResources, plain and with methods embedded.
    mock_get(&gw, &api, &id, "{}").await;
    let (status, list, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/resources"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let items = list["item"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let mut paths: Vec<&str> = items.iter().map(|r| r["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/",
            "/animals",
            "/animals/{id}",
            "/animals/{id}/toys",
            "/{proxy+}"
        ]
    );
    let with_get = items.iter().find(|r| r["id"] == id.as_str()).unwrap();
    assert_eq!(with_get["resourceMethods"], json!({"GET": {}}));
    let (_, embedded, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/resources?embed=methods"),
        Value::Null,
    )
    .await;
    let with_get = embedded["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        with_get["resourceMethods"]["GET"]["authorizationType"],
        "AWS_IAM"
    );
    assert_eq!(
        with_get["resourceMethods"]["GET"]["methodIntegration"]["type"],
        "MOCK"
    );
    let (_, page, _) = call(
        &gw,
        READER,
        "GET",
        &format!("/restapis/{api}/resources?limit=2"),
        Value::Null,
    )
    .await;
    assert_eq!(page["item"].as_array().unwrap().len(), 2);
    assert!(page["position"].is_string());

    // Deleting a resource takes its subtree; the root stays.
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/resources/{pets}"),
        Value::Null,
    )
    .await;
    assert_eq!((status, body), (202, Value::Null));
    for gone in [&pets, &id, &toys] {
        let answer = call(
            &gw,
            ROOT_A,
            "GET",
            &format!("/restapis/{api}/resources/{gone}"),
            Value::Null,
        )
        .await;
        assert_error(
            &answer,
            404,
            "NotFoundException",
            "Invalid Resource identifier specified",
        );
    }
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("/restapis/{api}/resources/{root}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn methods_and_integrations_are_stored_as_given_but_only_servable_ones_deploy() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "m"})).await;
    let base = format!("/restapis/{api}/resources/{root}/methods");

    // No methods at all: nothing to deploy.
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "The REST API doesn't contain any methods",
    );

    // CUSTOM needs one of the API's authorizers (AWS's words).
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/GET"),
            json!({"authorizationType": "CUSTOM", "authorizerId": "nope00"}),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
    );
    // So does COGNITO_USER_POOLS: a user pool authorizer.
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/GET"),
            json!({"authorizationType": "COGNITO_USER_POOLS", "operationName": "list"}),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
    );
    let (status, method, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET"),
        json!({"authorizationType": "NONE", "operationName": "list"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        method,
        json!({"httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": false, "operationName": "list"})
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/GET"),
            json!({"authorizationType": "NONE"}),
        )
        .await,
        409,
        "ConflictException",
        "Method already exists for this resource",
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/FETCH"),
        json!({"authorizationType": "NONE"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/POST"),
        json!({"authorizationType": "MAGIC"}),
    )
    .await;
    assert_eq!(status, 400);

    // Without an integration the method cannot deploy.
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "No integration defined for method",
    );
    let answer = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{base}/GET/integration"),
        Value::Null,
    )
    .await;
    assert_error(
        &answer,
        404,
        "NotFoundException",
        "Invalid Integration identifier specified",
    );
    let (status, integration, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration"),
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await;
    assert_eq!(status, 201, "{integration}");
    assert_eq!(integration["type"], "MOCK");
    assert_eq!(integration["timeoutInMillis"], 29000);
    assert_eq!(integration["passthroughBehavior"], "WHEN_NO_MATCH");

    // A bad patch changes nothing; a good one makes the method deployable.
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{base}/GET"),
        json!({"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}, {"op": "replace", "path": "/nope", "value": "x"}]}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "Invalid patch path  '/nope' specified for op 'replace'. Must be one of: [/authorizationType, /authorizerId, /apiKeyRequired, /operationName, /requestParameters/{name}, /requestModels/{contentType}, /requestValidatorId]",
    );
    let (_, unchanged, _) = call(&gw, ROOT_A, "GET", &format!("{base}/GET"), Value::Null).await;
    assert_eq!(unchanged["authorizationType"], "NONE");
    let (status, patched, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{base}/GET"),
        json!({"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}, {"op": "add", "path": "/requestParameters/method.request.querystring.q", "value": "false"}]}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["authorizationType"], "AWS_IAM");
    assert_eq!(
        patched["requestParameters"],
        json!({"method.request.querystring.q": false})
    );
    assert_eq!(patched["methodIntegration"]["type"], "MOCK");

    // Method and integration responses.
    let (status, response, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/responses/200"),
        json!({"responseModels": {"application/json": "Empty"}}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        response,
        json!({"statusCode": "200", "responseModels": {"application/json": "Empty"}})
    );
    let (status, response, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration/responses/200"),
        json!({"responseTemplates": {"application/json": "{\"ok\": true}"}, "responseParameters": {"method.response.header.X-Mock": "'yes'"}}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(response["statusCode"], "200");
    let (status, got, _) = call(
        &gw,
        READER,
        "GET",
        &format!("{base}/GET/integration/responses/200"),
        Value::Null,
    )
    .await;
    assert_eq!((status, &got), (200, &response));
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/responses/99"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400);
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "GET",
            &format!("{base}/GET/responses/404"),
            Value::Null,
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Response status code specified",
    );

    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, methods) = served(&gw, &api, "prod").unwrap();
    assert_eq!(
        methods,
        vec![(
            "/".to_owned(),
            "GET".to_owned(),
            "{\"ok\": true}".to_owned()
        )]
    );

    // AWS service integrations are stored but not deployable (fail closed).
    let (status, http, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration"),
        json!({"type": "AWS", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:s3:path/b"}),
    )
    .await;
    assert_eq!(status, 201, "{http}");
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 400);
    let (_, methods) = served(&gw, &api, "prod").unwrap();
    assert_eq!(methods[0].2, "{\"ok\": true}", "prod still serves the MOCK");

    // Integrations API Gateway itself refuses.
    for bad in [
        json!({"type": "HTTP_PROXY", "httpMethod": "GET"}),
        json!({"type": "HTTP_PROXY", "uri": "https://example.com/"}),
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:s3:path/b"}),
        json!({"type": "MOCK", "timeoutInMillis": 30000}),
    ] {
        let (status, _, headers) = call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/GET/integration"),
            bad.clone(),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error_type(&headers), Some("BadRequestException"));
    }
    // A type outside the model is the input model's refusal.
    let (status, _, headers) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration"),
        json!({"type": "SOAP"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&headers), Some("ValidationException"));
    let (status, proxy, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{base}/GET/integration"),
        json!({"patchOperations": [{"op": "replace", "path": "/uri", "value": "not a url"}]}),
    )
    .await;
    assert_eq!(status, 400, "{proxy}");
    let (_, still, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{base}/GET/integration"),
        Value::Null,
    )
    .await;
    assert_eq!(still["uri"], "arn:aws:apigateway:us-east-1:s3:path/b");
    let (status, lambda, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration"),
        json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:f/invocations"}),
    )
    .await;
    assert_eq!(status, 201, "{lambda}");

    // Deletes.
    for (path, code) in [
        (format!("{base}/GET/integration/responses/200"), 404),
        (format!("{base}/GET/responses/200"), 204),
        (format!("{base}/GET/integration"), 204),
        (format!("{base}/GET"), 204),
    ] {
        let (status, _, _) = call(&gw, ROOT_A, "DELETE", &path, Value::Null).await;
        assert_eq!(status, code, "{path}");
    }
    assert_error(
        &call(&gw, ROOT_A, "GET", &format!("{base}/GET"), Value::Null).await,
        404,
        "NotFoundException",
        "Invalid Method identifier specified",
    );
}

#[tokio::test]
async fn a_private_api_needs_a_policy_to_deploy() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(
        &gw,
        ROOT_A,
        json!({"name": "private", "endpointConfiguration": {"types": ["PRIVATE"]}}),
    )
    .await;
    mock_get(&gw, &api, &root, "{}").await;
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "Private REST API doesn't have a resource policy attached to it",
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}"),
        json!({"patchOperations": [{"op": "replace", "path": "/policy", "value": OPEN_POLICY}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(served(&gw, &api, "prod").unwrap().0.is_some());
}

#[tokio::test]
async fn stages_refuse_unknown_deployments_duplicates_and_bad_patches() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "s"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let (_, deployment, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod", "stageDescription": "production"}),
    )
    .await;
    let deployment = deployment["id"].as_str().unwrap().to_owned();
    let (_, prod, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/stages/prod"),
        Value::Null,
    )
    .await;
    assert_eq!(prod["description"], "production");
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/{api}/stages"),
            json!({"stageName": "prod", "deploymentId": deployment}),
        )
        .await,
        409,
        "ConflictException",
        "Stage already exists",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/{api}/stages"),
            json!({"stageName": "dev", "deploymentId": "nosuch"}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Deployment identifier specified",
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/stages"),
        json!({"stageName": "bad name", "deploymentId": deployment}),
    )
    .await;
    assert_eq!(status, 400);
    for bad in [
        json!([{"op": "replace", "path": "/deploymentId", "value": "nosuch"}]),
        json!([{"op": "replace", "path": "/description", "value": "x"}, {"op": "replace", "path": "/cacheClusterSize", "value": "0.5"}]),
        json!([{"op": "remove", "path": "/variables/absent"}]),
    ] {
        let (status, _, _) = call(
            &gw,
            ROOT_A,
            "PATCH",
            &format!("/restapis/{api}/stages/prod"),
            json!({ "patchOperations": bad }),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    let (_, after, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/stages/prod"),
        Value::Null,
    )
    .await;
    assert_eq!(after, prod, "bad patches change nothing");
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PATCH",
            &format!("/restapis/{api}/stages/nosuch"),
            json!({"patchOperations": []}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Stage identifier specified",
    );
}

const PETS_OPENAPI: &str = r#"{
  "openapi": "3.0.1",
  "info": {"title": "imported-pets", "version": "1"},
  "x-amazon-apigateway-policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]},
  "paths": {
    "/pets": {"get": {
      "security": [{"sigv4": []}],
      "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "[]"}}}}}},
    "/pets/{id}": {"get": {
      "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{}"}}}}}}
  },
  "components": {"securitySchemes": {"sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}}}
}"#;

/// Sorted (path, methods) of an API's editable tree.
async fn tree_of(gw: &Gateway, key: (&str, &str), api: &str) -> Vec<(String, Vec<String>)> {
    let (status, list, _) = call(
        gw,
        key,
        "GET",
        &format!("/restapis/{api}/resources?embed=methods"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let mut tree: Vec<(String, Vec<String>)> = list["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let methods = r["resourceMethods"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}:{}", v["authorizationType"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            (r["path"].as_str().unwrap().to_owned(), methods)
        })
        .collect();
    tree.sort();
    tree
}

#[tokio::test]
async fn openapi_documents_are_imported_merged_and_overwritten_all_or_nothing() {
    let gw = Gateway::start(WORLD).await;
    let (status, api, _) = call_raw(
        &gw,
        ROOT_A,
        "POST",
        "/restapis?mode=import&endpointConfigurationTypes=REGIONAL",
        PETS_OPENAPI.to_owned(),
    )
    .await;
    assert_eq!(status, 201, "{api}");
    assert_eq!(api["name"], "imported-pets");
    assert_eq!(
        api["endpointConfiguration"],
        json!({"types": ["REGIONAL"], "ipAddressType": "ipv4"})
    );
    let id = api["id"].as_str().unwrap().to_owned();
    assert!(
        api["policy"]
            .as_str()
            .unwrap()
            .contains(&format!("111111111111:{id}\\/*"))
    );
    let imported = tree_of(&gw, ROOT_A, &id).await;
    assert_eq!(
        imported,
        vec![
            ("/".to_owned(), vec![]),
            ("/pets".to_owned(), vec!["GET:AWS_IAM".to_owned()]),
            ("/pets/{id}".to_owned(), vec!["GET:NONE".to_owned()]),
        ]
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{id}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, methods) = served(&gw, &id, "prod").unwrap();
    assert_eq!(methods.len(), 2);

    // An invalid document: the importer's text, nothing created or changed.
    let bad = r#"{"openapi": "3.0.1", "info": {"title": "x"}, "paths": {"/a": {"get": {}}}}"#;
    let (status, error, headers) =
        call_raw(&gw, ROOT_A, "POST", "/restapis?mode=import", bad.to_owned()).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error_type(&headers), Some("BadRequestException"));
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Errors found during import:\n\t$.paths['/a'].get"),
        "{message}"
    );
    let (_, apis, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    assert_eq!(apis["item"].as_array().unwrap().len(), 1);
    let (status, _, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}?mode=overwrite"),
        "not: [valid".to_owned(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(tree_of(&gw, ROOT_A, &id).await, imported);

    // Merge adds, overwrite replaces; the root keeps its id.
    let root_id = api["rootResourceId"].as_str().unwrap().to_owned();
    let extra = r#"{"openapi": "3.0.1", "info": {"title": "more"}, "paths": {"/toys": {"post": {"x-amazon-apigateway-integration": {"type": "mock"}}}}}"#;
    let (status, merged, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}?mode=merge"),
        extra.to_owned(),
    )
    .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["name"], "imported-pets");
    let tree = tree_of(&gw, ROOT_A, &id).await;
    assert_eq!(tree.len(), 4);
    assert!(tree.contains(&("/toys".to_owned(), vec!["POST:NONE".to_owned()])));
    let (status, overwritten, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}?mode=overwrite"),
        extra.to_owned(),
    )
    .await;
    assert_eq!(status, 200, "{overwritten}");
    assert_eq!(overwritten["name"], "more");
    assert_eq!(overwritten["rootResourceId"], root_id.as_str());
    assert_eq!(
        tree_of(&gw, ROOT_A, &id).await,
        vec![
            ("/".to_owned(), vec![]),
            ("/toys".to_owned(), vec!["POST:NONE".to_owned()]),
        ]
    );
    // The policy was kept (the document had none) and the stage still
    // serves its deployment.
    assert!(overwritten["policy"].is_string());
    assert_eq!(served(&gw, &id, "prod").unwrap().1.len(), 2);

    // A merge that would give /pets two variable children is refused whole.
    let (status, _, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}"),
        PETS_OPENAPI.to_owned(),
    )
    .await;
    assert_eq!(status, 200);
    let clash = r#"{"openapi": "3.0.1", "info": {"title": "c"}, "paths": {"/pets/{petId}": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}}}"#;
    let before = tree_of(&gw, ROOT_A, &id).await;
    let (status, error, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}?mode=merge"),
        clash.to_owned(),
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(tree_of(&gw, ROOT_A, &id).await, before);
    let (status, _, _) = call_raw(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{id}?mode=replace"),
        extra.to_owned(),
    )
    .await;
    assert_eq!(status, 400);
    // Another account cannot overwrite it.
    let answer = call_raw(
        &gw,
        ROOT_B,
        "PUT",
        &format!("/restapis/{id}?mode=overwrite"),
        extra.to_owned(),
    )
    .await;
    assert_error(
        &answer,
        404,
        "NotFoundException",
        &format!("Invalid API identifier specified 222222222222:{id}"),
    );
}

#[tokio::test]
async fn domain_names_and_base_path_mappings_are_stored_per_account() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "d"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);

    let (status, domain, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/domainnames",
        json!({"domainName": "API.example.com", "endpointConfiguration": {"types": ["REGIONAL"]}, "regionalCertificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/x"}),
    )
    .await;
    assert_eq!(status, 201, "{domain}");
    assert_eq!(domain["domainName"], "api.example.com");
    assert_eq!(
        domain["endpointConfiguration"],
        json!({"types": ["REGIONAL"]})
    );
    assert!(
        domain["regionalDomainName"]
            .as_str()
            .unwrap()
            .ends_with(".execute-api.us-east-1.amazonaws.com")
    );
    // The name is taken, for this account and for the other.
    for key in [ROOT_A, ROOT_B] {
        let answer = call(
            &gw,
            key,
            "POST",
            "/domainnames",
            json!({"domainName": "api.example.com"}),
        )
        .await;
        assert_error(
            &answer,
            400,
            "BadRequestException",
            "The domain name you provided already exists.",
        );
    }
    assert_eq!(
        gw.planes.plane.apis().domains["api.example.com"].account,
        "111111111111"
    );

    let mappings = "/domainnames/api.example.com/basepathmappings";
    let (status, mapping, _) = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"restApiId": api, "stage": "prod"}),
    )
    .await;
    assert_eq!(status, 201, "{mapping}");
    assert_eq!(
        mapping,
        json!({"basePath": "(none)", "restApiId": api, "stage": "prod"})
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"basePath": "v1", "restApiId": api, "stage": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            mappings,
            json!({"basePath": "v1", "restApiId": api, "stage": "prod"}),
        )
        .await,
        409,
        "ConflictException",
        "Base path already exists for this domain name",
    );
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"basePath": "v2", "restApiId": api, "stage": "nosuch"}),
    )
    .await;
    assert_eq!(status, 400);
    let stored = gw.planes.plane.apis().domains["api.example.com"].clone();
    assert_eq!(stored.mappings[""].api_id, api);
    assert_eq!(stored.mappings["v1"].stage, "prod");

    let (status, list, _) = call(&gw, READER, "GET", mappings, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(list["item"].as_array().unwrap().len(), 2);
    let (status, none, _) = call(
        &gw,
        READER,
        "GET",
        &format!("{mappings}/(none)"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(none["basePath"], "(none)");
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("{mappings}/v1"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    assert_error(
        &call(&gw, ROOT_A, "GET", &format!("{mappings}/v1"), Value::Null).await,
        404,
        "NotFoundException",
        "Invalid base path mapping identifier specified",
    );

    // The other account neither sees the domain nor maps A's API.
    assert_error(
        &call(
            &gw,
            ROOT_B,
            "GET",
            "/domainnames/api.example.com",
            Value::Null,
        )
        .await,
        404,
        "NotFoundException",
        "Invalid domain name identifier specified",
    );
    let (_, other, _) = call(&gw, ROOT_B, "GET", "/domainnames", Value::Null).await;
    assert_eq!(other["item"], json!([]));
    let (status, _, _) = call(
        &gw,
        ROOT_B,
        "POST",
        "/domainnames",
        json!({"domainName": "b.example.com"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = call(
        &gw,
        ROOT_B,
        "POST",
        "/domainnames/b.example.com/basepathmappings",
        json!({"restApiId": api, "stage": "prod"}),
    )
    .await;
    assert_eq!(status, 400, "B cannot map A's API");

    let (status, got, _) = call(&gw, READER, "GET", "/domainnames", Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(got["item"][0]["domainName"], "api.example.com");
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        "/domainnames/api.example.com",
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    assert!(
        !gw.planes
            .plane
            .apis()
            .domains
            .contains_key("api.example.com")
    );
}

/// `s` with every byte outside `A-Za-z0-9-_.~` percent-encoded, as SDKs
/// encode a URI label.
fn encode_label(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn tags_are_set_read_and_removed_on_apis_and_stages() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "t", "tags": {"team": "pets"}})).await;
    mock_get(&gw, &api, &root, "{}").await;
    call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    let api_arn = format!("arn:aws:apigateway:us-east-1::/restapis/{api}");
    let stage_arn = format!("{api_arn}/stages/prod");
    let tags = |arn: &str| format!("/tags/{}", encode_label(arn));

    let (status, got, _) = call(&gw, READER, "GET", &tags(&api_arn), Value::Null).await;
    assert_eq!((status, got), (200, json!({"tags": {"team": "pets"}})));
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &tags(&api_arn),
        json!({"tags": {"env": "prod"}}),
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &tags(&stage_arn),
        json!({"tags": {"tier": "gold", "x": "y"}}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, got, _) = call(&gw, ROOT_A, "GET", &tags(&api_arn), Value::Null).await;
    assert_eq!(got, json!({"tags": {"env": "prod", "team": "pets"}}));
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "DELETE",
        &format!("{}?tagKeys=x&tagKeys=absent", tags(&stage_arn)),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let (_, stage, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/stages/prod"),
        Value::Null,
    )
    .await;
    assert_eq!(stage["tags"], json!({"tier": "gold"}));

    // Another account's ARN names nothing this caller has.
    let (status, _, headers) = call(&gw, ROOT_B, "GET", &tags(&api_arn), Value::Null).await;
    assert_eq!(status, 404);
    assert_eq!(error_type(&headers), Some("NotFoundException"));
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &tags(&stage_arn),
        json!({"tags": {"aws:reserved": "no"}}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &tags("arn:aws:apigateway:eu-west-1::/restapis/x"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &tags(&format!("{api_arn}/stages/nosuch")),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn another_account_and_an_unauthorized_user_reach_nothing() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "iso"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let (_, deployment, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    let deployment = deployment["id"].as_str().unwrap().to_owned();
    let not_found = format!("Invalid API identifier specified 222222222222:{api}");
    for (method, path, body) in [
        ("GET", format!("/restapis/{api}/resources"), Value::Null),
        (
            "GET",
            format!("/restapis/{api}/resources/{root}"),
            Value::Null,
        ),
        (
            "POST",
            format!("/restapis/{api}/resources/{root}"),
            json!({"pathPart": "x"}),
        ),
        (
            "GET",
            format!("/restapis/{api}/resources/{root}/methods/GET"),
            Value::Null,
        ),
        (
            "DELETE",
            format!("/restapis/{api}/resources/{root}/methods/GET/integration"),
            Value::Null,
        ),
        (
            "POST",
            format!("/restapis/{api}/deployments"),
            json!({"stageName": "prod"}),
        ),
        (
            "DELETE",
            format!("/restapis/{api}/deployments/{deployment}"),
            Value::Null,
        ),
        ("GET", format!("/restapis/{api}/stages"), Value::Null),
        (
            "DELETE",
            format!("/restapis/{api}/stages/prod"),
            Value::Null,
        ),
    ] {
        let answer = call(&gw, ROOT_B, method, &path, body).await;
        // Below a resource, AWS reports an unknown API as an unknown
        // resource.
        let expected = if path.contains("/methods/") {
            "Invalid Resource identifier specified"
        } else {
            &not_found
        };
        assert_error(&answer, 404, "NotFoundException", expected);
    }
    // The reader may look but not change, with AWS's denial.
    let path = format!("/restapis/{api}/stages/prod");
    let answer = call(&gw, READER, "DELETE", &path, Value::Null).await;
    assert_error(
        &answer,
        403,
        "AccessDeniedException",
        &format!(
            "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::{path} because no identity-based policy allows the apigateway:DELETE action"
        ),
    );
    let (status, _, _) = call(&gw, READER, "GET", &path, Value::Null).await;
    assert_eq!(status, 200);
    assert!(served(&gw, &api, "prod").is_some());
}

/// The server side of the rest-json protocol tests
/// (`testdata/aws-models/protocol-tests/*/rest-json.json`, written for a
/// test service, so only their generic rules apply): an error is the
/// `x-amzn-ErrorType` header plus a JSON body with `message`
/// (RestJsonFooErrorUsingXAmznErrorType decodes exactly this); an empty
/// body where the input has body members reads as `{}`
/// (RestJsonHttpWithEmptyBody, RestJsonHttpPostWithNoModeledBody); an
/// operation without output answers its modeled status and no body
/// (RestJsonHttpResponseCodeWithNoPayload, RestJsonNoInputAndNoOutput);
/// percent-encoded labels are decoded (RestJsonHttpRequestLabelEscaping:
/// the tag ARNs in `tags_are_set_read_and_removed_on_apis_and_stages`).
/// A JSON body that does not parse is the service's
/// `BadRequestException`, not a server error.
#[tokio::test]
async fn errors_and_json_bodies_follow_the_rest_json_protocol() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "p"})).await;
    // An empty body is `{}`: CreateDeployment gets as far as the tree.
    let answer = call_raw(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        String::new(),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "The REST API doesn't contain any methods",
    );
    let (status, body, headers) = call_raw(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/resources/{root}"),
        "{\"pathPart\": ".to_owned(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&headers), Some("BadRequestException"));
    assert!(body["message"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    assert_eq!(content_type, Some("application/json"));
    // Members of the wrong JSON type are refused the same way.
    let (status, _, headers) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/restapis/{api}/resources/{root}/methods/GET"),
        json!({"authorizationType": 7}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&headers), Some("BadRequestException"));
    // A URI no operation has.
    let (status, _, headers) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/nothing"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error_type(&headers), Some("NotFoundException"));
    // Unknown members are ignored, as AWS's JSON parsers do.
    let (status, created, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/resources/{root}"),
        json!({"pathPart": "ok", "somethingNew": {"nested": [1]}}),
    )
    .await;
    assert_eq!(status, 201);
    // No output: the modeled status (202 here) and an empty body.
    let request = sign_call(
        Call {
            service: "apigateway",
            method: "DELETE",
            target: &format!(
                "/restapis/{api}/resources/{}",
                created["id"].as_str().unwrap()
            ),
            content_type: "application/json",
        },
        ROOT_A.0,
        ROOT_A.1,
        None,
        String::new(),
    );
    let response = gw.planes.handle(Service::ApiGateway, &request).await;
    assert_eq!(response.status, 202);
    assert!(response.body.is_empty());
}

/// Characters no HTTP header value may carry.
const UNSENDABLE: &[&str] = &["\n", "\r", "\0", "\u{1}", "\u{7f}"];

/// AWS's refusal of a mapping expression (as `PutIntegrationResponse`
/// answers it), control characters shown escaped.
fn invalid_mapping(expression: &str) -> String {
    let shown: String = expression
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {shown}]"
    )
}

#[tokio::test]
async fn a_header_no_http_response_can_carry_is_refused_where_it_would_be_stored() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "h"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let method = format!("/restapis/{api}/resources/{root}/methods/GET");
    let response = format!("{method}/integration/responses/200");
    let (_, stored_response, _) = call(&gw, ROOT_A, "GET", &response, Value::Null).await;
    let (_, stored_integration, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{method}/integration"),
        Value::Null,
    )
    .await;

    for bad in UNSENDABLE {
        let value = format!("'text/plain{bad}'");
        // PutIntegrationResponse: the static header value of a MOCK answer.
        let answer = call(
            &gw,
            ROOT_A,
            "PUT",
            &response,
            json!({"responseParameters": {"method.response.header.Content-Type": value}}),
        )
        .await;
        assert_error(
            &answer,
            400,
            "BadRequestException",
            &invalid_mapping(&value),
        );
        // PutIntegration and UpdateIntegration: a static request header.
        let answer = call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{method}/integration"),
            json!({"type": "MOCK", "requestParameters": {"integration.request.header.X-Id": value}}),
        )
        .await;
        assert_error(
            &answer,
            400,
            "BadRequestException",
            &invalid_mapping(&value),
        );
        let answer = call(
            &gw,
            ROOT_A,
            "PATCH",
            &format!("{method}/integration"),
            json!({"patchOperations": [{"op": "add", "path": "/requestParameters/integration.request.header.X-Id", "value": value}]}),
        )
        .await;
        assert_error(
            &answer,
            400,
            "BadRequestException",
            &invalid_mapping(&value),
        );
    }
    // A header name that is not a token, in either response map.
    let answer = call(
        &gw,
        ROOT_A,
        "PUT",
        &response,
        json!({"responseParameters": {"method.response.header.X Bad": "'v'"}}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        &invalid_mapping("method.response.header.X Bad"),
    );
    let answer = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{method}/responses/200"),
        json!({"responseParameters": {"method.response.header.X\nBad": true}}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        &invalid_mapping("method.response.header.X\nBad"),
    );

    // Nothing of it was stored.
    let (_, now_response, _) = call(&gw, ROOT_A, "GET", &response, Value::Null).await;
    assert_eq!(now_response, stored_response);
    let (_, now_integration, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{method}/integration"),
        Value::Null,
    )
    .await;
    assert_eq!(now_integration, stored_integration);
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{method}/responses/200"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404, "no method response was stored");

    // A header value that can be sent is stored, deployed and served.
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &response,
        json!({"responseParameters": {"method.response.header.Content-Type": "'text/plain'"}, "responseTemplates": {"application/json": "ok"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let apis = gw.planes.plane.apis();
    let served = &apis.rest[&api].stages["prod"].root.methods[0].integration;
    let iamgate_apimodel::model::Integration::Mapped(served) = served else {
        panic!("{served:?}")
    };
    assert_eq!(
        served.responses[0].parameters,
        [("Content-Type".to_owned(), "'text/plain'".to_owned())]
    );

    // ImportRestApi refuses the same value, and creates no API.
    let (_, before, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    let document = json!({
        "openapi": "3.0.1",
        "info": {"title": "imported"},
        "paths": {"/": {"get": {"x-amazon-apigateway-integration": {
            "type": "mock",
            "responses": {"default": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.Content-Type": "'text/plain\r\nX-Injected: 1'"}
            }}
        }}}}
    });
    let (status, body, headers) =
        call(&gw, ROOT_A, "POST", "/restapis?mode=import", document).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_type(&headers), Some("BadRequestException"));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&invalid_mapping("'text/plain\r\nX-Injected: 1'")),
        "{body}"
    );
    let (_, after, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    assert_eq!(after, before);
}

/// `/` and `length - 1` more characters.
fn path_of(length: usize) -> String {
    format!("/{}", "p".repeat(length - 1))
}

const TOO_LONG: &str =
    "failed to satisfy constraint: Member must have length less than or equal to";

/// Asserts a 400 `ValidationException` (the input model's wording) whose
/// message names the length limit.
fn assert_too_long(answer: &(u16, Value, Vec<(String, String)>), max: usize) {
    let (status, body, headers) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(error_type(headers), Some("ValidationException"), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&format!("{TOO_LONG} {max}")), "{message}");
}

#[tokio::test]
async fn rest_api_names_paths_and_uris_are_bounded_at_the_limits_and_nothing_is_half_stored() {
    let gw = Gateway::start(WORLD).await;
    // Name: 1024 characters (ours: no AWS number for REST APIs).
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "n".repeat(1024)})).await;
    let (_, listed, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis",
        json!({"name": "n".repeat(1025)}),
    )
    .await;
    assert_too_long(&answer, 1024);
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis",
        json!({"name": "d", "description": "d".repeat(1025)}),
    )
    .await;
    assert_too_long(&answer, 1024);
    let (_, still, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    assert_eq!(still, listed, "no API was created");
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("/restapis/{api}"),
        json!({"patchOperations": [{"op": "replace", "path": "/description", "value": "d"}, {"op": "replace", "path": "/name", "value": "n".repeat(1025)}]}),
    )
    .await;
    assert_too_long(&answer, 1024);
    let (_, got, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{api}"), Value::Null).await;
    assert_eq!(got["name"], "n".repeat(1024));
    assert!(got.get("description").is_none(), "{got}");

    // A resource's path: 1024 characters (ours; fits a 1600-byte method ARN).
    let resources = format!("/restapis/{api}/resources");
    let (status, long, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("{resources}/{root}"),
        json!({"pathPart": "p".repeat(1023)}),
    )
    .await;
    assert_eq!(status, 201, "{long}");
    assert_eq!(long["path"], path_of(1024));
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("{resources}/{root}"),
        json!({"pathPart": "q".repeat(1024)}),
    )
    .await;
    assert_too_long(&answer, 1024);
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("{resources}/{root}"),
        json!({"pathPart": "q".repeat(100_000)}),
    )
    .await;
    assert_too_long(&answer, 1024);
    // A rename is refused when a path below it would grow too long.
    let (_, a, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("{resources}/{root}"),
        json!({"pathPart": "a"}),
    )
    .await;
    let a = a["id"].as_str().unwrap().to_owned();
    let (_, b, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("{resources}/{a}"),
        json!({"pathPart": "b"}),
    )
    .await;
    let b = b["id"].as_str().unwrap().to_owned();
    let (_, tree, _) = call(&gw, ROOT_A, "GET", &resources, Value::Null).await;
    let rename = |length: usize| json!({"patchOperations": [{"op": "replace", "path": "/pathPart", "value": "a".repeat(length)}]});
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{resources}/{a}"),
        rename(1022),
    )
    .await;
    assert_too_long(&answer, 1024);
    let (_, unchanged, _) = call(&gw, ROOT_A, "GET", &resources, Value::Null).await;
    assert_eq!(unchanged, tree, "no path was rewritten");
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{resources}/{a}"),
        rename(1021),
    )
    .await;
    assert_eq!(status, 200);
    let (_, b, _) = call(&gw, ROOT_A, "GET", &format!("{resources}/{b}"), Value::Null).await;
    assert_eq!(b["path"], format!("/{}/b", "a".repeat(1021)));

    // An integration's URI: 2048 characters.
    let method = format!("{resources}/{root}/methods/GET");
    call(
        &gw,
        ROOT_A,
        "PUT",
        &method,
        json!({"authorizationType": "NONE"}),
    )
    .await;
    let uri = |length: usize| format!("http://h/{}", "u".repeat(length - 9));
    let integration =
        |length: usize| json!({"type": "HTTP_PROXY", "httpMethod": "ANY", "uri": uri(length)});
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{method}/integration"),
        integration(2048),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let answer = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{method}/integration"),
        integration(2049),
    )
    .await;
    assert_too_long(&answer, 2048);
    let (_, got, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{method}/integration"),
        Value::Null,
    )
    .await;
    assert_eq!(got["uri"], uri(2048));
}

#[tokio::test]
async fn rest_stage_names_variables_tags_and_base_paths_are_bounded_at_the_limits() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "s"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let deployments = format!("/restapis/{api}/deployments");
    let stages = format!("/restapis/{api}/stages");
    // Stage names: 1 to 128 of a-zA-Z0-9_- (documented).
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &deployments,
        json!({"stageName": "s".repeat(128)}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let deployment = body["id"].as_str().unwrap().to_owned();
    let (_, deployed, _) = call(&gw, ROOT_A, "GET", &deployments, Value::Null).await;
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        &deployments,
        json!({"stageName": "s".repeat(129)}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        &format!(
            "Invalid stage name '{}': stage names can only contain alphanumeric characters, hyphens, and underscores. Maximum length is 128 characters.",
            "s".repeat(129)
        ),
    );
    let (_, still, _) = call(&gw, ROOT_A, "GET", &deployments, Value::Null).await;
    assert_eq!(still, deployed, "no deployment was made");

    // Stage variables: at most 100, names up to 64, values up to 512.
    let variables = |count: usize, name: usize, value: usize| -> Value {
        (0..count)
            .map(|i| {
                (
                    format!("{i}{}", "v".repeat(name - i.to_string().len())),
                    json!("x".repeat(value)),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let stage = |name: &str, variables: Value, tags: Value| json!({"stageName": name, "deploymentId": deployment, "variables": variables, "tags": tags});
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &stages,
        stage("full", variables(100, 64, 512), json!({})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for (name, bad) in [
        ("many", variables(101, 3, 1)),
        ("longname", variables(1, 65, 1)),
        ("longvalue", variables(1, 3, 513)),
        ("badvalue", json!({"v": "a b"})),
    ] {
        let answer = call(&gw, ROOT_A, "POST", &stages, stage(name, bad, json!({}))).await;
        assert_eq!(answer.0, 400, "{name}: {}", answer.1);
        assert_eq!(error_type(&answer.2), Some("BadRequestException"));
    }
    let answer = call(
        &gw,
        ROOT_A,
        "PATCH",
        &format!("{stages}/full"),
        json!({"patchOperations": [{"op": "replace", "path": "/variables/extra", "value": "1"}]}),
    )
    .await;
    assert_eq!(answer.0, 400, "a 101st variable: {}", answer.1);

    // Tags: at most 50, keys up to 128, values up to 256, no aws: prefix.
    let tags = |count: usize, key: usize, value: usize| -> Value {
        (0..count)
            .map(|i| {
                (
                    format!("{i}{}", "k".repeat(key - i.to_string().len())),
                    json!("t".repeat(value)),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &stages,
        stage("tagged", json!({}), tags(50, 128, 256)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    for (name, bad) in [
        ("t1", tags(51, 3, 1)),
        ("t2", tags(1, 129, 1)),
        ("t3", tags(1, 3, 257)),
        ("t4", json!({"aws:x": "y"})),
    ] {
        let answer = call(&gw, ROOT_A, "POST", &stages, stage(name, json!({}), bad)).await;
        assert_eq!(answer.0, 400, "{name}: {}", answer.1);
    }
    let (_, listed, _) = call(&gw, ROOT_A, "GET", &stages, Value::Null).await;
    let names: Vec<&str> = listed["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stageName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "only the stages within the limits: {names:?}"
    );
    // TagResource counts the tags the stage already has.
    let arn = encode_label(&format!(
        "arn:aws:apigateway:us-east-1::/restapis/{api}/stages/tagged"
    ));
    let answer = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("/tags/{arn}"),
        json!({"tags": {"one": "more"}}),
    )
    .await;
    assert_error(
        &answer,
        400,
        "BadRequestException",
        "A resource can have at most 50 tags",
    );
    let (_, got, _) = call(&gw, ROOT_A, "GET", &format!("/tags/{arn}"), Value::Null).await;
    assert_eq!(got["tags"], tags(50, 128, 256));

    // A base path: 1024 characters (ours).
    let (status, body, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let mappings = "/domainnames/api.example.com/basepathmappings";
    let mapping =
        |length: usize| json!({"basePath": "b".repeat(length), "restApiId": api, "stage": "full"});
    let (status, body, _) = call(&gw, ROOT_A, "POST", mappings, mapping(1024)).await;
    assert_eq!(status, 201, "{body}");
    let answer = call(&gw, ROOT_A, "POST", mappings, mapping(1025)).await;
    assert_too_long(&answer, 1024);
    let (_, listed, _) = call(&gw, ROOT_A, "GET", mappings, Value::Null).await;
    assert_eq!(listed["item"].as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------
// The control plane's exact answers: operations, patch paths, shapes and the
// order and words of refusals.

/// A PATCH of `target` with `operations` as given.
async fn patch(
    gw: &Gateway,
    target: &str,
    operations: Value,
) -> (u16, Value, Vec<(String, String)>) {
    call(
        gw,
        ROOT_A,
        "PATCH",
        target,
        json!({ "patchOperations": operations }),
    )
    .await
}

#[tokio::test]
async fn put_method_on_an_unknown_api_is_not_found_even_with_a_bad_method() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "order"})).await;
    for target in [
        "/restapis/nosuchapi0/resources/abc123/methods/FETCH".to_owned(),
        format!("/restapis/{api}/resources/nosuch/methods/FETCH"),
    ] {
        assert_error(
            &call(
                &gw,
                ROOT_A,
                "PUT",
                &target,
                json!({"authorizationType": "NOPE"}),
            )
            .await,
            404,
            "NotFoundException",
            "Invalid Resource identifier specified",
        );
    }
    // The resource exists: now the method is looked at, in AWS's order.
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("/restapis/{api}/resources/{root}/methods/FETCH"),
            json!({"authorizationType": "NONE"}),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
    );
    // A missing required member is the input model's refusal, first.
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            "/restapis/nosuchapi0/resources/abc123/methods/GET",
            json!({}),
        )
        .await,
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'putMethodInput.authorizationType' failed to satisfy constraint: Member must not be null",
    );
}

#[tokio::test]
async fn put_method_takes_the_authorization_type_in_any_case() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "case"})).await;
    let base = format!("/restapis/{api}/resources/{root}/methods");
    let (status, method, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET"),
        json!({"authorizationType": "none"}),
    )
    .await;
    assert_eq!(status, 201, "{method}");
    assert_eq!(method["authorizationType"], "NONE");
    let (status, method, _) = patch(
        &gw,
        &format!("{base}/GET"),
        json!([{"op": "replace", "path": "/authorizationType", "value": "aws_iam"}]),
    )
    .await;
    assert_eq!(status, 200, "{method}");
    assert_eq!(method["authorizationType"], "AWS_IAM");
}

#[tokio::test]
async fn put_method_refuses_a_parameter_name_used_in_two_locations_and_an_unknown_validator() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "params"})).await;
    let target = format!("/restapis/{api}/resources/{root}/methods/GET");
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &target,
            json!({"authorizationType": "NONE", "requestParameters": {"method.request.querystring.id": true, "method.request.header.id": false}}),
        )
        .await,
        400,
        "BadRequestException",
        "Parameter names must be unique across querystring, header and path",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &target,
            json!({"authorizationType": "NONE", "requestValidatorId": "abc123"}),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid Request Validator identifier specified",
    );
    let (status, _, _) = call(&gw, ROOT_A, "GET", &target, Value::Null).await;
    assert_eq!(status, 404, "nothing was stored");
}

#[tokio::test]
async fn put_integration_refuses_a_type_outside_the_model_before_looking_up_the_api() {
    let gw = Gateway::start(WORLD).await;
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            "/restapis/nosuchapi0/resources/abc123/methods/GET/integration",
            json!({"type": "LAMBDA"}),
        )
        .await,
        400,
        "ValidationException",
        "1 validation error detected: Value 'LAMBDA' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            "/restapis/nosuchapi0/resources/abc123/methods/GET/integration",
            json!({"type": "MOCK"}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Resource identifier specified",
    );
}

#[tokio::test]
async fn a_status_code_outside_the_model_pattern_is_a_validation_error() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "codes"})).await;
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("/restapis/{api}/resources/{root}/methods/GET/responses/600"),
            json!({}),
        )
        .await,
        400,
        "ValidationException",
        r"1 validation error detected: Value '600' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\d\d",
    );
}

#[tokio::test]
async fn a_rest_api_shows_its_ip_address_type_and_empty_tags_when_read() {
    let gw = Gateway::start(WORLD).await;
    let (status, api, _) = call(&gw, ROOT_A, "POST", "/restapis", json!({"name": "shape"})).await;
    assert_eq!(status, 201, "{api}");
    assert_eq!(
        api["endpointConfiguration"],
        json!({"types": ["EDGE"], "ipAddressType": "ipv4"})
    );
    // Left out when created without tags; `{}` when read back.
    assert!(api.get("tags").is_none(), "{api}");
    let id = api["id"].as_str().unwrap();
    let (_, read, _) = call(&gw, ROOT_A, "GET", &format!("/restapis/{id}"), Value::Null).await;
    assert_eq!(read["tags"], json!({}));
    let mut without_tags = read.clone();
    without_tags.as_object_mut().unwrap().remove("tags");
    assert_eq!(without_tags, api);
    assert!(read.get("minimumCompressionSize").is_none());

    let (status, private, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis",
        json!({"name": "p", "endpointConfiguration": {"types": ["PRIVATE"]}, "minimumCompressionSize": 1024}),
    )
    .await;
    assert_eq!(status, 201, "{private}");
    assert_eq!(
        private["endpointConfiguration"],
        json!({"types": ["PRIVATE"], "ipAddressType": "dualstack"})
    );
    assert_eq!(private["minimumCompressionSize"], 1024);
}

#[tokio::test]
async fn create_rest_api_refuses_what_aws_refuses_in_its_words_and_stores_nothing() {
    let gw = Gateway::start(WORLD).await;
    let cases = [
        (
            json!({"name": "x", "description": ""}),
            "BadRequestException",
            "Description cannot be an empty string",
        ),
        (
            json!({"name": "x", "minimumCompressionSize": 10_485_761}),
            "BadRequestException",
            "Invalid minimum compression size, must be between 0 and 10485760",
        ),
        (
            json!({"name": "x", "minimumCompressionSize": -1}),
            "BadRequestException",
            "Invalid minimum compression size, must be between 0 and 10485760",
        ),
        (
            json!({"name": "x", "endpointConfiguration": {"types": ["PRIVATE"], "ipAddressType": "ipv4"}}),
            "BadRequestException",
            "Only dualstack ipAddressType is supported for Private APIs.",
        ),
        (
            json!({"name": "x", "endpointConfiguration": {"types": ["REGIONAL", "EDGE"]}}),
            "BadRequestException",
            "Cannot create an api with multiple Endpoint Types.",
        ),
        (
            json!({"name": "x", "endpointConfiguration": {"types": ["LOCAL"]}}),
            "ValidationException",
            "1 validation error detected: Value '[LOCAL]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]",
        ),
        (
            json!({"name": "x", "endpointConfiguration": {"ipAddressType": "ipv6"}}),
            "ValidationException",
            "1 validation error detected: Value 'ipv6' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]",
        ),
    ];
    for (body, kind, message) in cases {
        assert_error(
            &call(&gw, ROOT_A, "POST", "/restapis", body).await,
            400,
            kind,
            message,
        );
    }
    let (_, listed, _) = call(&gw, ROOT_A, "GET", "/restapis", Value::Null).await;
    assert_eq!(listed["item"], json!([]));
}

#[tokio::test]
async fn patch_binary_media_types_adds_an_escaped_type() {
    let gw = Gateway::start(WORLD).await;
    let (api, _) = create_api(&gw, ROOT_A, json!({"name": "bin"})).await;
    let target = format!("/restapis/{api}");
    let (status, body, _) = patch(
        &gw,
        &target,
        json!([
            {"op": "add", "path": "/binaryMediaTypes/image~1png"},
            {"op": "add", "path": "/binaryMediaTypes/application~1octet-stream"},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["binaryMediaTypes"],
        json!(["image/png", "application/octet-stream"])
    );
    // Replacing one removes it and appends the new one, as AWS does.
    let (_, body, _) = patch(
        &gw,
        &target,
        json!([{"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"}]),
    )
    .await;
    assert_eq!(
        body["binaryMediaTypes"],
        json!(["application/octet-stream", "image/gif"])
    );
    let (_, body, _) = patch(
        &gw,
        &target,
        json!([{"op": "remove", "path": "/binaryMediaTypes/application~1octet-stream"}]),
    )
    .await;
    assert_eq!(body["binaryMediaTypes"], json!(["image/gif"]));
}

#[tokio::test]
async fn patch_minimum_compression_size_sets_and_clears_it_within_bounds() {
    let gw = Gateway::start(WORLD).await;
    let (api, _) = create_api(&gw, ROOT_A, json!({"name": "gzip"})).await;
    let target = format!("/restapis/{api}");
    let (status, body, _) = patch(
        &gw,
        &target,
        json!([{"op": "replace", "path": "/minimumCompressionSize", "value": "0"}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["minimumCompressionSize"], 0);
    for value in ["10485761", "-1", "big"] {
        assert_error(
            &patch(
                &gw,
                &target,
                json!([{"op": "replace", "path": "/minimumCompressionSize", "value": value}]),
            )
            .await,
            400,
            "BadRequestException",
            "Invalid minimum compression size, must be between 0 and 10485760",
        );
    }
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "add", "path": "/minimumCompressionSize", "value": "5"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch operation specified. Must be one of: [replace]",
    );
    let (_, body, _) = patch(
        &gw,
        &target,
        json!([{"op": "replace", "path": "/minimumCompressionSize", "value": ""}]),
    )
    .await;
    assert!(body.get("minimumCompressionSize").is_none(), "{body}");
}

#[tokio::test]
async fn patch_endpoint_configuration_changes_type_and_ip_address_type() {
    let gw = Gateway::start(WORLD).await;
    let (api, _) = create_api(&gw, ROOT_A, json!({"name": "ep"})).await;
    let target = format!("/restapis/{api}");
    let (status, body, _) = patch(
        &gw,
        &target,
        json!([
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "REGIONAL"},
            {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["endpointConfiguration"],
        json!({"types": ["REGIONAL"], "ipAddressType": "dualstack"})
    );
    let (_, body, _) = patch(
        &gw,
        &target,
        json!([{"op": "replace", "path": "/endpointConfiguration/types/0", "value": "PRIVATE"}]),
    )
    .await;
    assert_eq!(
        body["endpointConfiguration"],
        json!({"types": ["PRIVATE"], "ipAddressType": "dualstack"})
    );
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Only dualstack ipAddressType is supported for Private APIs.",
    );
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "replace", "path": "/endpointConfiguration/types/0", "value": "LOCAL"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
    );
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv6"}]),
        )
        .await,
        400,
        "BadRequestException",
        "ipAddressType must be either ipv4 or dualstack.",
    );
}

#[tokio::test]
async fn an_unsupported_patch_is_refused_with_what_is_allowed() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "paths"})).await;
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/resources/{root}"),
            json!([{"op": "replace", "path": "/path", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/path' specified for op 'replace'. Must be one of: [/parentId, /pathPart]",
    );
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/resources/{root}"),
            json!([{"op": "add", "path": "/pathPart", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch operation specified. Must be one of: [replace]",
    );
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}"),
            json!([{"op": "copy", "path": "/name", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch operation specified. Must be one of: [replace]",
    );
    // An op outside the model is the input model's refusal, before the
    // API is looked up.
    assert_error(
        &patch(
            &gw,
            "/restapis/nosuchapi0",
            json!([{"op": "replace", "path": "/name", "value": "x"}, {"op": "put", "path": "/name", "value": "y"}]),
        )
        .await,
        400,
        "ValidationException",
        "1 validation error detected: Value 'put' at 'updateRestApiInput.patchOperations.2.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]",
    );
}

#[tokio::test]
async fn patch_resource_parent_id_moves_its_subtree() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "move"})).await;
    let create = |parent: String, part: &'static str| {
        let gw = &gw;
        let api = api.clone();
        async move {
            let (status, r, _) = call(
                gw,
                ROOT_A,
                "POST",
                &format!("/restapis/{api}/resources/{parent}"),
                json!({ "pathPart": part }),
            )
            .await;
            assert_eq!(status, 201, "{r}");
            r["id"].as_str().unwrap().to_owned()
        }
    };
    let pets = create(root.clone(), "pets").await;
    let toys = create(root.clone(), "toys").await;
    let id = create(toys.clone(), "{id}").await;
    let (status, moved, _) = patch(
        &gw,
        &format!("/restapis/{api}/resources/{toys}"),
        json!([{"op": "replace", "path": "/parentId", "value": pets}]),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["path"], "/pets/toys");
    assert_eq!(moved["parentId"], pets.as_str());
    let (_, below, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("/restapis/{api}/resources/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(below["path"], "/pets/toys/{id}");
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/resources/{pets}"),
            json!([{"op": "replace", "path": "/parentId", "value": id}]),
        )
        .await,
        400,
        "BadRequestException",
        "Resources cannot be cyclical.",
    );
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/resources/{pets}"),
            json!([{"op": "replace", "path": "/parentId", "value": "nosuch"}]),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Resource identifier specified",
    );
}

#[tokio::test]
async fn patch_method_request_models_and_authorizer_id() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "models"})).await;
    let target = format!("/restapis/{api}/resources/{root}/methods/POST");
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &target,
        json!({"authorizationType": "NONE"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, method, _) = patch(
        &gw,
        &target,
        json!([
            {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"},
            {"op": "replace", "path": "/authorizerId", "value": "abc123"},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{method}");
    assert_eq!(
        method["requestModels"],
        json!({"application/json": "Empty"})
    );
    // An authorizer stays only on a method that uses one, as on AWS.
    assert!(method.get("authorizerId").is_none(), "{method}");
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "add", "path": "/requestModels/text~1plain", "value": "Pet"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid model identifier specified: Pet",
    );
    let (_, method, _) = patch(
        &gw,
        &target,
        json!([{"op": "remove", "path": "/requestModels/application~1json"}]),
    )
    .await;
    assert!(method.get("requestModels").is_none(), "{method}");
}

#[tokio::test]
async fn a_mock_integration_keeps_no_uri_or_connection_type_and_other_integrations_keep_credentials()
 {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "shapes"})).await;
    let base = format!("/restapis/{api}/resources/{root}/methods");
    for method in ["GET", "POST"] {
        let (status, _, _) = call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/{method}"),
            json!({"authorizationType": "NONE"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, mock, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/GET/integration"),
        json!({"type": "MOCK", "uri": "http://ignored.example", "requestTemplates": {"application/json": null}}),
    )
    .await;
    assert_eq!(status, 201, "{mock}");
    assert_eq!(
        mock,
        json!({
            "type": "MOCK",
            "requestTemplates": {"application/json": ""},
            "passthroughBehavior": "WHEN_NO_MATCH",
            "timeoutInMillis": 29000,
            "cacheNamespace": root,
            "cacheKeyParameters": [],
        })
    );
    let role = "arn:aws:iam::111111111111:role/apigw";
    let (status, http, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/POST/integration"),
        json!({"type": "HTTP_PROXY", "httpMethod": "POST", "uri": "https://backend.example/x", "credentials": role}),
    )
    .await;
    assert_eq!(status, 201, "{http}");
    assert_eq!(http["connectionType"], "INTERNET");
    assert_eq!(http["credentials"], role);
    let (_, read, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{base}/POST/integration"),
        Value::Null,
    )
    .await;
    assert_eq!(read, http);
}

#[tokio::test]
async fn a_method_response_echoes_the_maps_it_was_given_even_empty() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "echo"})).await;
    let base = format!("/restapis/{api}/resources/{root}/methods/GET");
    call(
        &gw,
        ROOT_A,
        "PUT",
        &base,
        json!({"authorizationType": "NONE"}),
    )
    .await;
    let (status, given, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/responses/200"),
        json!({"responseParameters": {}, "responseModels": {}}),
    )
    .await;
    assert_eq!(status, 201, "{given}");
    assert_eq!(
        given,
        json!({"statusCode": "200", "responseParameters": {}, "responseModels": {}})
    );
    let (_, bare, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/responses/404"),
        json!({}),
    )
    .await;
    assert_eq!(bare, json!({"statusCode": "404"}));
    let (status, patched, _) = patch(
        &gw,
        &format!("{base}/responses/404"),
        json!([{"op": "add", "path": "/responseParameters/method.response.header.X-Id", "value": "true"}]),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched,
        json!({"statusCode": "404", "responseParameters": {"method.response.header.X-Id": true}})
    );
}

#[tokio::test]
async fn update_deployment_changes_only_its_description() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "dep"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let (status, deployment, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"description": "first"}),
    )
    .await;
    assert_eq!(status, 201, "{deployment}");
    let target = format!(
        "/restapis/{api}/deployments/{}",
        deployment["id"].as_str().unwrap()
    );
    let (status, updated, _) = patch(
        &gw,
        &target,
        json!([{"op": "replace", "path": "/description", "value": "renamed"}]),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["description"], "renamed");
    assert_eq!(updated["id"], deployment["id"]);
    assert_error(
        &patch(
            &gw,
            &target,
            json!([{"op": "replace", "path": "/id", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/id' specified for op 'replace'. Must be one of: [/description]",
    );
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/deployments/nosuch"),
            json!([{"op": "replace", "path": "/description", "value": "x"}]),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Deployment identifier specified",
    );
}

#[tokio::test]
async fn create_resource_looks_up_the_api_and_parent_before_the_path_part() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "lookup"})).await;
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/nosuchapi0/resources/{root}"),
            json!({"pathPart": "bad part!"}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid API identifier specified 111111111111:nosuchapi0",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/{api}/resources/nosuch"),
            json!({"pathPart": "bad part!"}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Resource identifier specified",
    );
    let (status, _, headers) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/resources/{root}"),
        json!({"pathPart": "bad part!"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_type(&headers), Some("BadRequestException"));
}

#[tokio::test]
async fn create_deployment_on_an_unknown_api_is_not_found_even_with_a_bad_stage_name() {
    let gw = Gateway::start(WORLD).await;
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            "/restapis/nosuchapi0/deployments",
            json!({"stageName": "bad name!"}),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid API identifier specified 111111111111:nosuchapi0",
    );
}

#[tokio::test]
async fn update_base_path_mapping_moves_a_mapping_and_names_the_paths_it_takes() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "mapped"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    for stage in ["prod", "beta"] {
        let (status, _, _) = call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/{api}/deployments"),
            json!({ "stageName": stage }),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/domainnames",
        json!({"domainName": "api.example.com"}),
    )
    .await;
    assert_eq!(status, 201);
    let mappings = "/domainnames/api.example.com/basepathmappings";
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        mappings,
        json!({"basePath": "v1", "restApiId": api, "stage": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, moved, _) = patch(
        &gw,
        &format!("{mappings}/v1"),
        json!([
            {"op": "replace", "path": "/basePath", "value": "v2"},
            {"op": "replace", "path": "/stage", "value": "beta"},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        moved,
        json!({"basePath": "v2", "restApiId": api, "stage": "beta"})
    );
    let stored = gw.planes.plane.apis().domains["api.example.com"].clone();
    assert!(!stored.mappings.contains_key("v1"));
    assert_eq!(stored.mappings["v2"].stage, "beta");
    assert_error(
        &patch(
            &gw,
            &format!("{mappings}/v2"),
            json!([{"op": "replace", "path": "/domainName", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/domainName' specified for op 'replace'. Must be one of: [/basePath, /restapiId, /stage]",
    );
    assert_error(
        &patch(
            &gw,
            &format!("{mappings}/v2"),
            json!([{"op": "replace", "path": "/stage", "value": "nosuch"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid stage identifier specified",
    );
}

#[tokio::test]
async fn integrations_and_their_responses_keep_content_handling_and_refuse_one_outside_the_model() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "binary"})).await;
    let base = format!("/restapis/{api}/resources/{root}/methods/GET");
    call(
        &gw,
        ROOT_A,
        "PUT",
        &base,
        json!({"authorizationType": "NONE"}),
    )
    .await;
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "PUT",
            &format!("{base}/integration"),
            json!({"type": "MOCK", "contentHandling": "CONVERT_TO_JSON"}),
        )
        .await,
        400,
        "ValidationException",
        "1 validation error detected: Value 'CONVERT_TO_JSON' at 'putIntegrationInput.contentHandling' failed to satisfy constraint: Member must satisfy enum value set: [CONVERT_TO_BINARY, CONVERT_TO_TEXT]",
    );
    let (status, integration, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/integration"),
        json!({"type": "MOCK", "contentHandling": "CONVERT_TO_TEXT"}),
    )
    .await;
    assert_eq!(status, 201, "{integration}");
    assert_eq!(integration["contentHandling"], "CONVERT_TO_TEXT");
    let (status, patched, _) = patch(
        &gw,
        &format!("{base}/integration"),
        json!([{"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_BINARY"}]),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["contentHandling"], "CONVERT_TO_BINARY");
    // An integration response keeps its own.
    let (status, response, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/integration/responses/200"),
        json!({"contentHandling": "CONVERT_TO_TEXT"}),
    )
    .await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(
        response,
        json!({"statusCode": "200", "contentHandling": "CONVERT_TO_TEXT"})
    );
    let (_, read, _) = call(
        &gw,
        ROOT_A,
        "GET",
        &format!("{base}/integration/responses/200"),
        Value::Null,
    )
    .await;
    assert_eq!(read, response);
}

#[tokio::test]
async fn models_are_made_read_listed_patched_and_deleted_and_refused_in_aws_words() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "models"})).await;
    let models = format!("/restapis/{api}/models");
    let schema = r#"{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}"#;
    let (status, pet, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &models,
        json!({"name": "Pet", "contentType": "application/json", "schema": schema, "description": "a pet"}),
    )
    .await;
    assert_eq!(status, 201, "{pet}");
    assert_eq!(pet["name"], "Pet");
    assert_eq!(pet["schema"], schema);
    assert_eq!(pet["contentType"], "application/json");
    assert_eq!(pet["id"].as_str().unwrap().len(), 6);
    // The input model first: no content type is a validation error.
    assert_error(
        &call(&gw, ROOT_A, "POST", &models, json!({"name": "Cat"})).await,
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'createModelInput.contentType' failed to satisfy constraint: Member must not be null",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &models,
            json!({"name": "Cat", "contentType": "application/json", "schema": r#"{"type":"object","example":{}}"#}),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &models,
            json!({"name": "Pet", "contentType": "application/json"}),
        )
        .await,
        409,
        "ConflictException",
        "Model name already exists for this REST API",
    );
    let (status, listed, _) = call(&gw, ROOT_A, "GET", &models, Value::Null).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Empty", "Error", "Pet"], "the built-in models too");
    assert_error(
        &call(&gw, ROOT_A, "GET", &format!("{models}/Cat"), Value::Null).await,
        404,
        "NotFoundException",
        "Invalid Model Name specified",
    );
    // A bad patch changes nothing; the paths are UpdateModel's.
    assert_error(
        &patch(
            &gw,
            &format!("{models}/Pet"),
            json!([{"op": "replace", "path": "/schema", "value": "{\"type\": 5}"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
    );
    assert_error(
        &patch(
            &gw,
            &format!("{models}/Pet"),
            json!([{"op": "replace", "path": "/name", "value": "Dog"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/schema, /description]",
    );
    let (status, patched, _) = patch(
        &gw,
        &format!("{models}/Pet"),
        json!([{"op": "replace", "path": "/description", "value": "still a pet"}]),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["description"], "still a pet");
    assert_eq!(patched["schema"], schema);

    // Validators.
    let validators = format!("/restapis/{api}/requestvalidators");
    let (status, validator, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &validators,
        json!({"name": "body", "validateRequestBody": true}),
    )
    .await;
    assert_eq!(status, 201, "{validator}");
    assert_eq!(
        validator,
        json!({"id": validator["id"], "name": "body", "validateRequestBody": true, "validateRequestParameters": false})
    );
    let validator_id = validator["id"].as_str().unwrap().to_owned();
    assert_error(
        &patch(
            &gw,
            &format!("{validators}/{validator_id}"),
            json!([{"op": "add", "path": "/name", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch operation specified. Must be one of: [replace]",
    );
    let (_, listed, _) = call(&gw, ROOT_A, "GET", &validators, Value::Null).await;
    assert_eq!(listed["item"].as_array().unwrap().len(), 1);

    // A method names both; what it names cannot be deleted.
    let method = format!("/restapis/{api}/resources/{root}/methods/POST");
    let (status, put, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &method,
        json!({"authorizationType": "NONE", "requestValidatorId": validator_id, "requestModels": {"application/json": "Pet"}}),
    )
    .await;
    assert_eq!(status, 201, "{put}");
    assert_eq!(put["requestValidatorId"], validator_id.as_str());
    assert_error(
        &call(&gw, ROOT_A, "DELETE", &format!("{models}/Pet"), Value::Null).await,
        400,
        "BadRequestException",
        "Cannot delete model 'Pet', is referenced in method request: //POST",
    );
    assert_error(
        &patch(
            &gw,
            &method,
            json!([{"op": "replace", "path": "/requestValidatorId", "value": "nope00"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid Request Validator identifier specified",
    );
    let (status, _, _) = patch(
        &gw,
        &method,
        json!([{"op": "replace", "path": "/requestValidatorId", "value": ""}, {"op": "remove", "path": "/requestModels/application~1json"}]),
    )
    .await;
    assert_eq!(status, 200);
    for target in [
        format!("{models}/Pet"),
        format!("{validators}/{validator_id}"),
    ] {
        let (status, _, _) = call(&gw, ROOT_A, "DELETE", &target, Value::Null).await;
        assert_eq!(status, 202, "{target}");
    }
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "GET",
            &format!("{validators}/{validator_id}"),
            Value::Null,
        )
        .await,
        404,
        "NotFoundException",
        "Invalid Request Validator identifier specified",
    );
}

#[tokio::test]
async fn a_deployment_freezes_what_a_validated_method_checks() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "frozen"})).await;
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/models"),
        json!({"name": "Pet", "contentType": "application/json", "schema": "{\"type\":\"object\",\"required\":[\"name\"]}"}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, validator, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/requestvalidators"),
        json!({"name": "all", "validateRequestBody": true, "validateRequestParameters": true}),
    )
    .await;
    mock_get(&gw, &api, &root, "{}").await;
    let method = format!("/restapis/{api}/resources/{root}/methods/GET");
    let (status, _, _) = patch(
        &gw,
        &method,
        json!([
            {"op": "replace", "path": "/requestValidatorId", "value": validator["id"]},
            {"op": "add", "path": "/requestModels/application~1json", "value": "Pet"},
            {"op": "add", "path": "/requestParameters/method.request.header.x-id", "value": "true"},
        ]),
    )
    .await;
    assert_eq!(status, 200);
    let (status, deployment, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201, "{deployment}");
    let deployed = gw.planes.plane.apis();
    let stage = &deployed.rest[&api].stages["prod"];
    let request = &stage.root.methods[0].request;
    assert_eq!(
        request.validator.as_ref().unwrap().name.as_deref(),
        Some("all")
    );
    assert_eq!(request.models["application/json"], "Pet");
    assert!(request.schemas.contains_key("Pet"));
    assert!(request.parameters["method.request.header.x-id"]);
}

#[tokio::test]
async fn an_integration_response_echoes_maps_given_empty_and_leaves_out_maps_never_given() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "empties"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let base = format!("/restapis/{api}/resources/{root}/methods/GET/integration/responses");
    let (status, given, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/400"),
        json!({"selectionPattern": "4\\d\\d", "responseParameters": {}, "responseTemplates": {}}),
    )
    .await;
    assert_eq!(status, 201, "{given}");
    assert_eq!(given["responseParameters"], json!({}));
    assert_eq!(given["responseTemplates"], json!({}));
    let (_, read, _) = call(&gw, ROOT_A, "GET", &format!("{base}/400"), Value::Null).await;
    assert_eq!(read["responseParameters"], json!({}), "{read}");
    let (status, omitted, _) = call(
        &gw,
        ROOT_A,
        "PUT",
        &format!("{base}/500"),
        json!({"selectionPattern": "5\\d\\d"}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(omitted.get("responseParameters").is_none(), "{omitted}");
    assert!(omitted.get("responseTemplates").is_none(), "{omitted}");
}

#[tokio::test]
async fn create_stage_looks_up_the_api_and_the_deployment_before_the_values() {
    let gw = Gateway::start(WORLD).await;
    let bad = json!({"stageName": "bad name!", "deploymentId": "nope00", "description": "x"});
    let answer = call(
        &gw,
        ROOT_A,
        "POST",
        "/restapis/a1b2c3d4e5/stages",
        bad.clone(),
    )
    .await;
    assert_eq!(answer.0, 404, "{}", answer.1);
    assert_eq!(error_type(&answer.2), Some("NotFoundException"));
    let (api, _) = create_api(&gw, ROOT_A, json!({"name": "stages"})).await;
    let answer = call(&gw, ROOT_A, "POST", &format!("/restapis/{api}/stages"), bad).await;
    assert_eq!(
        answer.0, 404,
        "an unknown deployment before a bad name: {}",
        answer.1
    );
    assert_error(
        &call(
            &gw,
            ROOT_A,
            "POST",
            &format!("/restapis/{api}/stages"),
            json!({"stageName": "prod"}),
        )
        .await,
        400,
        "ValidationException",
        "1 validation error detected: Value null at 'createStageInput.deploymentId' failed to satisfy constraint: Member must not be null",
    );
}

#[tokio::test]
async fn stage_authorizer_and_domain_name_patches_are_refused_with_what_is_allowed() {
    let gw = Gateway::start(WORLD).await;
    let (api, root) = create_api(&gw, ROOT_A, json!({"name": "patches"})).await;
    mock_get(&gw, &api, &root, "{}").await;
    let (status, _, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_error(
        &patch(
            &gw,
            &format!("/restapis/{api}/stages/prod"),
            json!([{"op": "replace", "path": "/stageName", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/stageName' specified for op 'replace'. Must be one of: [/description, /deploymentId, /variables/{variableName}, /*/*/throttling/burstLimit, /*/*/throttling/rateLimit]",
    );
    let (status, authorizer, _) = call(
        &gw,
        ROOT_A,
        "POST",
        &format!("/restapis/{api}/authorizers"),
        json!({"name": "tok", "type": "TOKEN", "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:auth/invocations", "identitySource": "method.request.header.Authorization"}),
    )
    .await;
    assert_eq!(status, 201, "{authorizer}");
    assert_error(
        &patch(
            &gw,
            &format!(
                "/restapis/{api}/authorizers/{}",
                authorizer["id"].as_str().unwrap()
            ),
            json!([{"op": "replace", "path": "/id", "value": "x"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/id' specified for op 'replace'. Must be one of: [/name, /type, /authorizerUri, /authorizerCredentials, /identitySource, /identityValidationExpression, /providerARNs, /authorizerResultTtlInSeconds]",
    );

    let (status, domain, _) = call(
        &gw,
        ROOT_A,
        "POST",
        "/domainnames",
        json!({"domainName": "api.example.com", "endpointConfiguration": {"types": ["EDGE"]}}),
    )
    .await;
    assert_eq!(status, 201, "{domain}");
    let (status, updated, _) = patch(
        &gw,
        "/domainnames/api.example.com",
        json!([
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "REGIONAL"},
            {"op": "replace", "path": "/regionalCertificateArn", "value": "arn:aws:acm:us-east-1:111111111111:certificate/x"},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["endpointConfiguration"]["types"],
        json!(["REGIONAL"])
    );
    assert!(updated["regionalDomainName"].is_string(), "{updated}");
    assert_error(
        &patch(
            &gw,
            "/domainnames/api.example.com",
            json!([{"op": "replace", "path": "/domainName", "value": "other.example.com"}]),
        )
        .await,
        400,
        "BadRequestException",
        "Invalid patch path  '/domainName' specified for op 'replace'. Must be one of: [/certificateName, /certificateArn, /regionalCertificateName, /regionalCertificateArn, /endpointConfiguration/types/0, /securityPolicy, /mutualTlsAuthentication/truststoreUri, /mutualTlsAuthentication/truststoreVersion, /ownershipVerificationCertificateArn]",
    );
    assert_error(
        &patch(
            &gw,
            "/domainnames/nothing.example.com",
            json!([{"op": "replace", "path": "/securityPolicy", "value": "TLS_1_2"}]),
        )
        .await,
        404,
        "NotFoundException",
        "Invalid domain name identifier specified",
    );
}
