#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

//! A world-file entry that imports an OpenAPI file is served as the file
//! says: the method it declares is the one the router finds. Here rather
//! than in the model crate because it needs the data plane's router.

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::model::{AuthorizationType, Integration, PayloadFormat};
use iamgate_gateway::routing::{RestMatch, route_rest};

const SPEC: &str = r#"
openapi: 3.0.1
x-amazon-apigateway-policy:
  Version: "2012-10-17"
  Statement:
    - { Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
security: [ { sigv4: [] } ]
paths:
  /pets/{id}:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:pets/invocations
"#;

fn files(name: &str) -> Result<String, String> {
    match name {
        "spec.yaml" => Ok(SPEC.to_owned()),
        "http.yaml" => Ok(SPEC.replace("x-amazon-apigateway-policy", "x-unused")),
        "http2.yaml" => Ok(SPEC
            .replace("x-amazon-apigateway-policy", "x-unused")
            .replace(
                "type: aws_proxy",
                "type: aws_proxy\n        payloadFormatVersion: \"2.0\"",
            )),
        other => Err(format!("cannot read {other}: no such file")),
    }
}

fn entry(extra: &str) -> String {
    format!(
        "apis:\n  - {{ id: o1b2c3d4e5, account: \"111122223333\", region: us-east-1, stages: [prod], {extra} }}\n"
    )
}

#[test]
fn an_openapi_entry_becomes_a_deployed_rest_api() {
    let text = entry("openapi: spec.yaml, lambda_endpoint: \"http://127.0.0.1:3001\"");
    let registry = ApiRegistry::from_world_file_with(&text, &files).unwrap();
    let api = &registry.rest["o1b2c3d4e5"];
    let stage = &api.stages["prod"];
    // The shorthand was expanded with this entry's id, account and region.
    assert!(stage.policy.is_some());
    let RestMatch::Method { method, .. } = route_rest(&stage.root, "GET", "/pets/7") else {
        panic!("GET /pets/7 is not routed");
    };
    assert_eq!(method.authorization, AuthorizationType::AwsIam);
    assert_eq!(
        method.integration,
        Integration::LambdaProxy {
            endpoint: "http://127.0.0.1:3001".into(),
            function: "pets".into(),
            payload_format: PayloadFormat::V1,
            timeout_ms: 29_000,
        }
    );
}
