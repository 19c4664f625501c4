//! REST API stages and HTTP APIs as OpenAPI 3.0 documents with API
//! Gateway's extensions: what `GetExport` (`--export-type oas30
//! --parameters extensions='apigateway'`) and apigatewayv2's `ExportApi`
//! answer.
//!
//! Why the stage's deployment and not the editable tree: that is what AWS
//! exports, and what the stage serves. The document is written for the
//! gateway's own OpenAPI importer ([`crate::openapi`]) to read back into
//! the same routes, authorization, integrations and resource policy, so a
//! setup exported from one server and imported into another decides the
//! same (`iamgate import` relies on it): routes, `AWS_IAM` and Lambda
//! authorizers as security schemes, integrations, the resource policy and
//! the customized gateway responses. A plain MOCK answer becomes a MOCK
//! integration whose response template is the body.

use serde_json::{Map, Value, json};

use crate::authorizers::{IdentitySource, LambdaAuthorizer};
use crate::mapping::{Backend, Mapped, Passthrough};
use crate::model::{ApiFlavour, AuthorizationType, Integration, PathPart, PayloadFormat, Resource};
use crate::stored::{HttpApiRecord, RestApiRecord};
use crate::validation::{MethodRequest, RequestValidator};

/// The security scheme every `AWS_IAM` method names.
const SIGV4: &str = "sigv4";
/// The name exports give API Gateway's API key scheme.
const API_KEY: &str = "api_key";

/// The document of stage `stage`, or `None` when the API has no such
/// deployed stage. `now` is the export's `info.version`, as AWS dates it.
pub fn rest_stage(api: &RestApiRecord, stage: &str, now: &str) -> Option<Value> {
    let deployment = api
        .stages
        .get(stage)
        .and_then(|s| s.deployment_id.as_ref())
        .and_then(|id| api.deployments.get(id))?;
    let mut paths = Map::new();
    let mut schemes = Map::new();
    let mut models = Map::new();
    let mut validators = Map::new();
    walk(&deployment.root, "", &mut |path, resource| {
        if resource.methods.is_empty() {
            return;
        }
        let mut item = Map::new();
        for method in &resource.methods {
            let key = if method.http_method == "ANY" {
                "x-amazon-apigateway-any-method".to_owned()
            } else {
                method.http_method.to_ascii_lowercase()
            };
            for (name, model) in &method.request.schemas {
                let schema = model
                    .schema
                    .as_ref()
                    .and_then(|s| serde_json::from_str::<Value>(s.text()).ok())
                    .unwrap_or_else(|| json!({}));
                models.insert(name.clone(), schema);
            }
            if let Some(validator) = &method.request.validator {
                validators.insert(
                    validator_name(validator),
                    json!({
                        "validateRequestBody": validator.validate_request_body,
                        "validateRequestParameters": validator.validate_request_parameters,
                    }),
                );
            }
            let operation = Operation {
                path,
                responses: responses(&method.integration),
                authorization: &method.authorization,
                api_key: method.api_key_required,
                flavour: ApiFlavour::Rest,
                integration: integration(&method.integration, &api.region, &api.account),
                request: Some(&method.request),
            };
            item.insert(key, operation.into_json(&mut schemes));
        }
        paths.insert(path.to_owned(), Value::Object(item));
    });
    let head = Head {
        id: &api.id,
        name: &api.name,
        description: api.description.as_deref(),
        region: &api.region,
        base_path: stage,
        now,
    };
    let mut document = head.document(paths, schemes);
    if !models.is_empty() {
        let components = document.entry("components").or_insert_with(|| json!({}));
        if let Value::Object(components) = components {
            components.insert("schemas".into(), Value::Object(models));
        }
    }
    if !validators.is_empty() {
        document.insert(
            "x-amazon-apigateway-request-validators".into(),
            Value::Object(validators),
        );
    }
    if let Some(policy) = deployment
        .policy
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        document.insert("x-amazon-apigateway-policy".into(), policy);
    }
    let mut types = vec![Value::String(
        serde_json::to_value(api.endpoint_type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    )];
    types.retain(|t| t.as_str() != Some(""));
    let mut endpoint = Map::new();
    endpoint.insert("types".into(), Value::Array(types));
    if !api.vpc_endpoint_ids.is_empty() {
        endpoint.insert("vpcEndpointIds".into(), json!(api.vpc_endpoint_ids));
    }
    document.insert(
        "x-amazon-apigateway-endpoint-configuration".into(),
        Value::Object(endpoint),
    );
    if !deployment.gateway_responses.is_empty() {
        let responses: Map<String, Value> = deployment
            .gateway_responses
            .values()
            .map(|response| {
                let mut entry = Map::new();
                if let Some(status) = response.status_code {
                    entry.insert("statusCode".into(), json!(status.to_string()));
                }
                if !response.response_parameters.is_empty() {
                    entry.insert(
                        "responseParameters".into(),
                        json!(response.response_parameters),
                    );
                }
                if !response.response_templates.is_empty() {
                    entry.insert("responseTemplates".into(), json!(response.template_texts()));
                }
                (
                    response.response_type.name().to_owned(),
                    Value::Object(entry),
                )
            })
            .collect();
        document.insert(
            "x-amazon-apigateway-gateway-responses".into(),
            Value::Object(responses),
        );
    }
    if let Some(source) = &api.api_key_source {
        document.insert("x-amazon-apigateway-api-key-source".into(), json!(source));
    }
    if !api.binary_media_types.is_empty() {
        document.insert(
            "x-amazon-apigateway-binary-media-types".into(),
            json!(api.binary_media_types),
        );
    }
    Some(Value::Object(document))
}

/// An HTTP API as OpenAPI 3.0 with API Gateway's extensions: what
/// `ExportApi` answers. With a stage, the routes its deployment serves;
/// without, the API's current routes. `None`: no such stage, or routes
/// that cannot be deployed.
pub fn http_api(api: &HttpApiRecord, stage: Option<&str>, now: &str) -> Option<Value> {
    let routes = match stage {
        Some(name) => {
            let id = api.stages.get(name)?.deployment_id.as_ref()?;
            api.deployments.get(id)?.routes.clone()
        }
        None => api.deployable_routes().ok()?,
    };
    let mut paths = Map::new();
    let mut schemes = Map::new();
    for route in &routes {
        let path = match &route.path {
            None => "/$default".to_owned(),
            Some(parts) => format!(
                "/{}",
                parts.iter().map(segment).collect::<Vec<_>>().join("/")
            ),
        };
        let key = match &route.method {
            None => "x-amazon-apigateway-any-method".to_owned(),
            Some(method) => method.to_ascii_lowercase(),
        };
        let operation = Operation {
            path: &path,
            responses: json!({ "default": { "description": "Default response" } }),
            authorization: &route.authorization,
            api_key: false,
            flavour: ApiFlavour::Http,
            integration: integration(&route.integration, &api.region, &api.account),
            request: None,
        }
        .into_json(&mut schemes);
        let item = paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(key, operation);
        }
    }
    let head = Head {
        id: &api.id,
        name: &api.name,
        description: api.description.as_deref(),
        region: &api.region,
        // An HTTP API's `$default` stage has no base path.
        base_path: match stage {
            Some("$default") | None => "",
            Some(name) => name,
        },
        now,
    };
    let mut document = head.document(paths, schemes);
    document.insert(
        "x-amazon-apigateway-importexport-version".into(),
        json!("1.0"),
    );
    Some(Value::Object(document))
}

/// One operation of a path: its parameters, responses, security and
/// integration.
struct Operation<'a> {
    path: &'a str,
    responses: Value,
    authorization: &'a AuthorizationType,
    /// REST: `apiKeyRequired`, written as the `api_key` scheme beside the
    /// authorizer's.
    api_key: bool,
    flavour: ApiFlavour,
    integration: Value,
    /// REST: the method's parameters, models and validator.
    request: Option<&'a MethodRequest>,
}

impl Operation<'_> {
    /// The operation object; the security scheme it names is added to
    /// `schemes`.
    fn into_json(self, schemes: &mut Map<String, Value>) -> Value {
        let mut operation = Map::new();
        let mut parameters = path_parameters(self.path);
        if let Some(request) = self.request {
            parameters.extend(request_parameters(request));
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(request) = self.request.filter(|r| !r.models.is_empty()) {
            let content: Map<String, Value> = request
                .models
                .iter()
                .map(|(content_type, name)| {
                    (
                        content_type.clone(),
                        json!({ "schema": { "$ref": format!("#/components/schemas/{name}") } }),
                    )
                })
                .collect();
            operation.insert("requestBody".into(), json!({ "content": content }));
        }
        if let Some(validator) = self.request.and_then(|r| r.validator.as_ref()) {
            operation.insert(
                "x-amazon-apigateway-request-validator".into(),
                json!(validator_name(validator)),
            );
        }
        operation.insert("responses".into(), self.responses);
        let scheme = match self.authorization {
            AuthorizationType::None => None,
            AuthorizationType::AwsIam => Some((SIGV4.to_owned(), sigv4_scheme())),
            AuthorizationType::Custom(authorizer) => Some((
                authorizer.name.clone(),
                authorizer_scheme(authorizer, self.flavour),
            )),
            AuthorizationType::Token(token) => Some((
                token.authorizer.name.clone(),
                token_scheme(&token.authorizer, self.flavour),
            )),
        };
        let mut requirement = Map::new();
        if let Some((name, scheme)) = scheme {
            requirement.insert(name.clone(), json!(self.authorization.scopes()));
            schemes.insert(name, scheme);
        }
        if self.api_key {
            requirement.insert(API_KEY.into(), json!([]));
            schemes.insert(
                API_KEY.into(),
                json!({ "type": "apiKey", "name": "x-api-key", "in": "header" }),
            );
        }
        if !requirement.is_empty() {
            operation.insert("security".into(), json!([requirement]));
        }
        operation.insert("x-amazon-apigateway-integration".into(), self.integration);
        Value::Object(operation)
    }
}

/// What every export starts with: the version, the API's name, the
/// execute-api server with the stage as its base path.
struct Head<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    region: &'a str,
    base_path: &'a str,
    now: &'a str,
}

impl Head<'_> {
    fn document(
        &self,
        paths: Map<String, Value>,
        schemes: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut info = Map::new();
        info.insert("title".into(), json!(self.name));
        if let Some(description) = self.description {
            info.insert("description".into(), json!(description));
        }
        info.insert("version".into(), json!(self.now));
        let mut document = Map::new();
        document.insert("openapi".into(), json!("3.0.1"));
        document.insert("info".into(), Value::Object(info));
        document.insert(
            "servers".into(),
            json!([{
                "url": format!("https://{}.execute-api.{}.amazonaws.com/{{basePath}}", self.id, self.region),
                "variables": { "basePath": { "default": self.base_path } }
            }]),
        );
        document.insert("paths".into(), Value::Object(paths));
        if !schemes.is_empty() {
            document.insert("components".into(), json!({ "securitySchemes": schemes }));
        }
        document
    }
}

/// `document` without API Gateway's `x-amazon-apigateway-*` members, as
/// an export that does not ask for them.
pub fn strip_extensions(document: &mut Value) {
    match document {
        Value::Object(members) => {
            members.retain(|key, _| !key.starts_with("x-amazon-apigateway-"));
            members.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

fn segment(part: &PathPart) -> String {
    match part {
        PathPart::Literal(text) => text.clone(),
        PathPart::Param(name) => format!("{{{name}}}"),
        PathPart::Greedy(name) => format!("{{{name}+}}"),
    }
}

fn sigv4_scheme() -> Value {
    json!({
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4"
    })
}

/// A `COGNITO_USER_POOLS` or `JWT` authorizer as the security scheme that
/// names it, as API Gateway exports them (REST: an `apiKey` scheme with
/// `x-amazon-apigateway-authtype: cognito_user_pools`; HTTP: an `oauth2`
/// scheme with a `jwtConfiguration`). The local `jwks_url` is ours and not
/// exported.
fn token_scheme(authorizer: &LambdaAuthorizer, flavour: ApiFlavour) -> Value {
    let input = authorizer.input(flavour);
    match flavour {
        ApiFlavour::Rest => {
            let header = match authorizer.identity_sources.first() {
                Some(IdentitySource::Header(name)) => name.clone(),
                _ => "Authorization".to_owned(),
            };
            let mut config = Map::new();
            config.insert("type".into(), json!("cognito_user_pools"));
            config.insert("providerARNs".into(), json!(input.provider_arns));
            if let Some(expression) = &authorizer.validation_expression {
                config.insert("identityValidationExpression".into(), json!(expression));
            }
            json!({
                "type": "apiKey",
                "name": header,
                "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": Value::Object(config),
            })
        }
        ApiFlavour::Http => json!({
            "type": "oauth2",
            "flows": {},
            "x-amazon-apigateway-authorizer": {
                "type": "jwt",
                "identitySource": input.identity_sources.join(","),
                "jwtConfiguration": {
                    "issuer": input.issuer,
                    "audience": input.audience,
                },
            },
        }),
    }
}

/// A Lambda authorizer as the security scheme that names it.
fn authorizer_scheme(authorizer: &LambdaAuthorizer, flavour: ApiFlavour) -> Value {
    let input = authorizer.input(flavour);
    let mut config = Map::new();
    config.insert(
        "type".into(),
        json!(authorizer.kind.as_str().to_ascii_lowercase()),
    );
    config.insert("authorizerUri".into(), json!(authorizer.uri));
    if let Some(credentials) = &authorizer.credentials {
        config.insert("authorizerCredentials".into(), json!(credentials));
    }
    config.insert(
        "identitySource".into(),
        json!(input.identity_sources.join(",")),
    );
    if let Some(expression) = &authorizer.validation_expression {
        config.insert("identityValidationExpression".into(), json!(expression));
    }
    config.insert(
        "authorizerResultTtlInSeconds".into(),
        json!(authorizer.ttl_seconds),
    );
    if flavour == ApiFlavour::Http {
        config.insert(
            "authorizerPayloadFormatVersion".into(),
            json!(authorizer.payload_version()),
        );
        if authorizer.simple_responses {
            config.insert("enableSimpleResponses".into(), json!(true));
        }
    }
    json!({
        "type": "apiKey",
        "name": "Unused",
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": config,
    })
}

/// Calls `visit` with every resource's template path, parents first.
fn walk(resource: &Resource, parent: &str, visit: &mut impl FnMut(&str, &Resource)) {
    let path = match &resource.part {
        None => "/".to_owned(),
        Some(part) => format!("{}/{}", parent.trim_end_matches('/'), segment(part)),
    };
    visit(&path, resource);
    for child in &resource.children {
        walk(child, &path, visit);
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({ "name": name.trim_end_matches('+'), "in": "path", "required": true,
                    "schema": { "type": "string" } })
        })
        .collect()
}

/// A method's query string and header parameters (its path parameters
/// are the path's).
fn request_parameters(request: &MethodRequest) -> Vec<Value> {
    request
        .parameters
        .iter()
        .filter_map(|(key, required)| {
            let (location, name) = key.strip_prefix("method.request.")?.split_once('.')?;
            let location = match location {
                "querystring" => "query",
                "header" => "header",
                _ => return None,
            };
            Some(json!({ "name": name, "in": location, "required": required,
                         "schema": { "type": "string" } }))
        })
        .collect()
}

/// The name a validator is exported under (its id when it has none).
fn validator_name(validator: &RequestValidator) -> String {
    validator
        .name
        .clone()
        .unwrap_or_else(|| validator.id.clone())
}

/// The method responses: one per status the integration answers with.
fn responses(integration: &Integration) -> Value {
    let mut statuses: Vec<u16> = match integration {
        Integration::Mock { status, .. } => vec![*status],
        Integration::Mapped(mapped) => mapped.responses.iter().map(|r| r.status).collect(),
        _ => vec![200],
    };
    statuses.sort_unstable();
    statuses.dedup();
    Value::Object(
        statuses
            .into_iter()
            .map(|status| {
                (
                    status.to_string(),
                    json!({ "description": format!("{status} response"), "content": {} }),
                )
            })
            .collect(),
    )
}

/// A template whose output is `text` as written: a plain MOCK body may hold
/// `$` and `#`, which a mapping template would read as references,
/// directives or comments, so it goes in an unparsed `#[[ ]]#` block (a
/// `]]#` inside closes the block after its `]]` and opens the next with
/// its `#`).
fn literal_template(text: &str) -> String {
    if !text.contains(['$', '#', '\\']) {
        return text.to_owned();
    }
    format!("#[[{}]]#", text.replace("]]#", "]]]]##[[#"))
}

/// `region` and `account` complete a Lambda function given by name into
/// the ARN an export names.
fn integration(integration: &Integration, region: &str, account: &str) -> Value {
    match integration {
        Integration::Mock {
            status,
            headers,
            body,
        } => {
            let parameters: Map<String, Value> = headers
                .iter()
                .map(|(name, value)| {
                    (
                        format!("method.response.header.{name}"),
                        Value::String(format!("'{value}'")),
                    )
                })
                .collect();
            json!({
                "type": "mock",
                "requestTemplates": { "application/json": format!("{{\"statusCode\": {status}}}") },
                "passthroughBehavior": "when_no_match",
                "responses": { "default": {
                    "statusCode": status.to_string(),
                    "responseParameters": parameters,
                    "responseTemplates": { "application/json": literal_template(body) },
                }},
            })
        }
        Integration::HttpProxy { uri, timeout_ms } => json!({
            "type": "http_proxy",
            "httpMethod": "ANY",
            "uri": uri,
            "timeoutInMillis": timeout_ms,
            "passthroughBehavior": "when_no_match",
        }),
        Integration::LambdaProxy {
            function,
            payload_format,
            timeout_ms,
            ..
        } => json!({
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": format!(
                "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{}/invocations",
                if function.starts_with("arn:") {
                    function.clone()
                } else {
                    format!("arn:aws:lambda:{region}:{account}:function:{function}")
                }
            ),
            "timeoutInMillis": timeout_ms,
            "payloadFormatVersion": match payload_format { PayloadFormat::V1 => "1.0", PayloadFormat::V2 => "2.0" },
            "passthroughBehavior": "when_no_match",
        }),
        Integration::Mapped(mapped) => mapped_integration(mapped),
    }
}

fn mapped_integration(mapped: &Mapped) -> Value {
    let mut config = Map::new();
    match &mapped.backend {
        Backend::Mock => {
            config.insert("type".into(), json!("mock"));
        }
        Backend::Http {
            method,
            uri,
            timeout_ms,
        } => {
            config.insert("type".into(), json!("http"));
            config.insert("httpMethod".into(), json!(method));
            config.insert("uri".into(), json!(uri));
            config.insert("timeoutInMillis".into(), json!(timeout_ms));
        }
    }
    let passthrough = match mapped.passthrough {
        Passthrough::WhenNoMatch => "when_no_match",
        Passthrough::WhenNoTemplates => "when_no_templates",
        Passthrough::Never => "never",
    };
    config.insert("passthroughBehavior".into(), json!(passthrough));
    let pairs = |pairs: &[(String, String)]| -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    if !mapped.request_parameters.is_empty() {
        config.insert(
            "requestParameters".into(),
            pairs(&mapped.request_parameters),
        );
    }
    if !mapped.request_templates.is_empty() {
        let templates: Vec<(String, String)> = mapped
            .request_templates
            .iter()
            .map(|(kind, template)| (kind.clone(), template.source().to_owned()))
            .collect();
        config.insert("requestTemplates".into(), pairs(&templates));
    }
    let mut responses = Map::new();
    for response in &mapped.responses {
        let mut entry = Map::new();
        entry.insert("statusCode".into(), json!(response.status.to_string()));
        if !response.parameters.is_empty() {
            entry.insert("responseParameters".into(), pairs(&response.parameters));
        }
        if !response.templates.is_empty() {
            let templates: Vec<(String, String)> = response
                .templates
                .iter()
                .map(|(kind, template)| (kind.clone(), template.source().to_owned()))
                .collect();
            entry.insert("responseTemplates".into(), pairs(&templates));
        }
        let key = response
            .selection_pattern
            .as_ref()
            .map_or("default", |pattern| pattern.as_str());
        responses.insert(key.to_owned(), Value::Object(entry));
    }
    config.insert("responses".into(), Value::Object(responses));
    Value::Object(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::config::ApiRegistry;
    use crate::openapi::{ImportOptions, import};
    use crate::registry::declared_records;

    const WORLD: &str = r#"
apis:
  - id: exportapi1
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    api_key_source: AUTHORIZER
    authorizers:
      - name: tokens
        type: TOKEN
        function: arn:aws:lambda:us-east-1:111122223333:function:auth
        identity_source: method.request.header.Authorization
        ttl: 60
    gateway_responses:
      ACCESS_DENIED:
        status_code: 401
        response_parameters: { gatewayresponse.header.X-Why: "'denied'" }
        response_templates: { application/json: '{"why":"$context.error.message"}' }
    methods:
      - { path: /open, method: GET, authorization: NONE, api_key_required: true, integration: { type: MOCK, status: 200, headers: { x-a: b }, body: '{"ok": 1}' } }
      - { path: '/signed/{id}', method: ANY, authorization: AWS_IAM, integration: { type: HTTP_PROXY, uri: 'http://127.0.0.1:9/items/{id}' } }
      - { path: /guarded, method: POST, authorization: CUSTOM, authorizer: tokens, integration: { type: AWS_PROXY, function: arn:aws:lambda:us-east-1:111122223333:function:app, endpoint: 'http://127.0.0.1:3001' } }
"#;

    /// Every method of a tree, by path and verb.
    fn methods(root: &Resource) -> Vec<(String, crate::model::Method)> {
        let mut all = Vec::new();
        walk(root, "", &mut |path, resource| {
            for method in &resource.methods {
                all.push((format!("{} {path}", method.http_method), method.clone()));
            }
        });
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    #[test]
    fn a_plain_mock_body_renders_from_its_exported_template_as_written() {
        for body in [
            r#"{"ok": 1}"#,
            r##"{"cost": "$total", "n": "#set($a = 1)"}"##,
            "## not a comment, \\$escaped, #[[ and ]]# and ]]#]]#",
        ] {
            let template = literal_template(body);
            let rendered = iamgate_vtl::Template::parse(&template)
                .unwrap()
                .render(&iamgate_vtl::Inputs::default())
                .unwrap();
            assert_eq!(rendered.body, body, "{template}");
        }
        assert_eq!(literal_template(r#"{"ok": 1}"#), r#"{"ok": 1}"#);
    }

    #[test]
    fn an_exported_stage_imports_back_into_the_same_methods_authorizers_included() {
        let tree = iamgate_yaml::parse(WORLD).unwrap();
        let registry = ApiRegistry::from_tree(&tree, &|_| Err("no files".into())).unwrap();
        let (rest, _) = declared_records(&registry, |_, _, _| 0);
        let record = &rest[0];
        let document = rest_stage(record, "prod", "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            document["servers"][0]["variables"]["basePath"]["default"],
            "prod"
        );
        let imported = import(
            &document.to_string(),
            &ImportOptions {
                flavour: None,
                lambda_endpoint: Some("http://127.0.0.1:3001".into()),
            },
        )
        .unwrap();
        let mut back = Resource::root();
        for method in imported.methods {
            let path = crate::model::parse_template(&method.resource_path);
            back.add(&path, method);
        }
        let deployed = &record.deployments.values().next().unwrap().root;
        let (before, after) = (methods(deployed), methods(&back));
        assert_eq!(before.len(), 3);
        for ((key, was), (key_after, now)) in before.iter().zip(&after) {
            assert_eq!(key, key_after);
            assert_eq!(
                now.authorization.as_str(),
                was.authorization.as_str(),
                "{key}"
            );
            assert_eq!(now.api_key_required, was.api_key_required, "{key}");
            if let (AuthorizationType::Custom(was), AuthorizationType::Custom(now)) =
                (&was.authorization, &now.authorization)
            {
                assert_eq!(
                    (&now.function, now.ttl_seconds),
                    (&was.function, was.ttl_seconds)
                );
                assert_eq!(now.identity_sources, was.identity_sources);
            }
        }
        assert!(before.iter().any(|(_, method)| method.api_key_required));
        assert_eq!(record.api_key_source.as_deref(), Some("AUTHORIZER"));
        assert_eq!(imported.api_key_source, record.api_key_source);
        let deployment = record.deployments.values().next().unwrap();
        assert_eq!(imported.gateway_responses, deployment.gateway_responses);
        assert_eq!(imported.gateway_responses.len(), 1);
        assert!(rest_stage(record, "beta", "now").is_none());
    }

    const VALIDATED: &str = r##"
openapi: 3.0.1
info: { title: pets, version: "1" }
x-amazon-apigateway-request-validators:
  all: { validateRequestBody: true, validateRequestParameters: true }
  params: { validateRequestBody: false, validateRequestParameters: true }
x-amazon-apigateway-request-validator: params
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties: { name: { type: string }, owner: { $ref: "#/components/schemas/Owner" } }
    Owner: { type: string, minLength: 1 }
paths:
  /pets:
    parameters:
      - { name: x-tenant, in: header, required: true, schema: { type: string } }
    post:
      x-amazon-apigateway-request-validator: all
      parameters:
        - { name: dryRun, in: query, required: false, schema: { type: string } }
      requestBody:
        content:
          application/json: { schema: { $ref: "#/components/schemas/Pet" } }
      x-amazon-apigateway-integration: { type: mock, requestTemplates: { application/json: '{"statusCode": 200}' }, responses: { default: { statusCode: "200" } } }
    get:
      parameters:
        - { name: q, in: query, required: true, schema: { type: string } }
      x-amazon-apigateway-integration: { type: mock, requestTemplates: { application/json: '{"statusCode": 200}' }, responses: { default: { statusCode: "200" } } }
"##;

    #[test]
    fn models_and_request_validators_survive_the_world_file_an_export_and_an_import() {
        let world = r#"
apis:
  - { id: validated1, openapi: pets.yaml, account: "111122223333", region: us-east-1, stages: [prod] }
"#;
        let tree = iamgate_yaml::parse(world).unwrap();
        let registry = ApiRegistry::from_tree(&tree, &|_| Ok(VALIDATED.to_owned())).unwrap();
        let (rest, _) = declared_records(&registry, |_, _, _| 0);
        let record = &rest[0];
        assert_eq!(
            record.models.keys().collect::<Vec<_>>(),
            vec!["Owner", "Pet"],
            "the models the methods use, and those they refer to"
        );
        assert_eq!(record.request_validators.len(), 2);
        let deployed = &record.deployments.values().next().unwrap().root;
        let before = methods(deployed);
        let post = &before
            .iter()
            .find(|(k, _)| k == "POST /pets")
            .unwrap()
            .1
            .request;
        assert_eq!(
            post.validator.as_ref().unwrap().name.as_deref(),
            Some("all")
        );
        assert_eq!(post.models["application/json"], "Pet");
        assert!(post.parameters["method.request.header.x-tenant"]);
        assert!(!post.parameters["method.request.querystring.dryRun"]);
        let get = &before
            .iter()
            .find(|(k, _)| k == "GET /pets")
            .unwrap()
            .1
            .request;
        assert_eq!(
            get.validator.as_ref().unwrap().name.as_deref(),
            Some("params"),
            "the document's validator"
        );
        let document = rest_stage(record, "prod", "now").unwrap();
        assert_eq!(
            document["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(
            document["x-amazon-apigateway-request-validators"]["all"]["validateRequestBody"],
            true
        );
        let imported = import(&document.to_string(), &ImportOptions::default()).unwrap();
        let mut back = Resource::root();
        for method in imported.methods {
            let path = crate::model::parse_template(&method.resource_path);
            back.add(&path, method);
        }
        let after = methods(&back);
        assert_eq!(before.len(), after.len());
        for ((key, was), (_, now)) in before.iter().zip(&after) {
            assert_eq!(now.request, was.request, "{key}");
        }
    }

    #[test]
    fn an_exported_http_api_imports_back_into_the_same_routes() {
        let world = r#"
apis:
  - id: exporthttp
    type: HTTP
    account: "111122223333"
    region: eu-west-1
    authorizers:
      - { name: simple, type: REQUEST, function: auth, identity_source: [$request.header.Authorization], payload_format_version: "2.0", simple_responses: true }
    routes:
      - { key: "GET /pets/{id}", authorization: AWS_IAM, integration: { type: HTTP_PROXY, uri: "http://127.0.0.1:9/pets/{id}" } }
      - { key: "POST /pets", authorization: CUSTOM, authorizer: simple, integration: { type: AWS_PROXY, function: app, endpoint: "http://127.0.0.1:3001" } }
      - { key: "$default", authorization: NONE, integration: { type: HTTP_PROXY, uri: "http://127.0.0.1:9" } }
"#;
        let tree = iamgate_yaml::parse(world).unwrap();
        let registry = ApiRegistry::from_tree(&tree, &|_| Err("no files".into())).unwrap();
        let (_, http) = declared_records(&registry, |_, _, _| 0);
        let record = &http[0];
        let document = http_api(record, Some("$default"), "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            document["servers"][0]["variables"]["basePath"]["default"],
            ""
        );
        let imported = import(
            &document.to_string(),
            &ImportOptions {
                flavour: None,
                lambda_endpoint: Some("http://127.0.0.1:3001".into()),
            },
        )
        .unwrap();
        assert_eq!(imported.flavour, ApiFlavour::Http);
        let key = |route: &crate::model::Route| {
            (
                route.key.clone(),
                route.authorization.as_str(),
                route.integration.clone(),
            )
        };
        let mut before: Vec<_> = record
            .deployable_routes()
            .unwrap()
            .iter()
            .map(key)
            .collect();
        let mut after: Vec<_> = imported.routes.iter().map(key).collect();
        before.sort_by(|a, b| a.0.cmp(&b.0));
        after.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(after, before);
        assert!(http_api(record, Some("beta"), "now").is_none());
        let mut bare = document.clone();
        strip_extensions(&mut bare);
        assert!(!bare.to_string().contains("x-amazon-apigateway"));
    }

    #[test]
    fn user_pool_and_jwt_authorizers_export_and_import_back_with_their_scopes() {
        let world = r#"
apis:
  - id: exportpool
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    authorizers:
      - { name: pool, type: COGNITO_USER_POOLS, identity_source: method.request.header.Authorization,
          provider_arns: ["arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Pool1"],
          jwks_url: "http://127.0.0.1:9/keys" }
    methods:
      - { path: /pets, method: GET, authorization: COGNITO_USER_POOLS, authorizer: pool, scopes: [pets/read, pets/all],
          integration: { type: MOCK } }
  - id: exportjwt1
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - { name: jwt, type: JWT, identity_source: $request.header.Authorization,
          issuer: "https://issuer.example.com", audience: [client-a, client-b] }
    routes:
      - { key: "GET /pets", authorization: JWT, authorizer: jwt, scopes: [read],
          integration: { type: HTTP_PROXY, uri: "http://127.0.0.1:9" } }
"#;
        let tree = iamgate_yaml::parse(world).unwrap();
        let registry = ApiRegistry::from_tree(&tree, &|_| Err("no files".into())).unwrap();
        let (rest, http) = declared_records(&registry, |_, _, _| 0);
        let options = ImportOptions {
            flavour: None,
            lambda_endpoint: None,
        };
        let document = rest_stage(&rest[0], "prod", "2026-01-01T00:00:00Z").unwrap();
        let security = &document["paths"]["/pets"]["get"]["security"][0]["pool"];
        assert_eq!(security, &serde_json::json!(["pets/read", "pets/all"]));
        let imported = import(&document.to_string(), &options).unwrap();
        let token = imported.methods[0]
            .authorization
            .token_authorization()
            .unwrap();
        assert_eq!(token.scopes, vec!["pets/read", "pets/all"]);
        let tokens = token.authorizer.tokens.as_ref().unwrap();
        assert_eq!(
            tokens.provider_arns,
            vec!["arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Pool1"]
        );
        // The local override is iamgate's, not part of the API's definition.
        assert_eq!(tokens.jwks_url, None);

        let document = http_api(&http[0], Some("$default"), "2026-01-01T00:00:00Z").unwrap();
        let imported = import(&document.to_string(), &options).unwrap();
        let route = &imported.routes[0];
        assert_eq!(route.authorization.as_str(), "JWT");
        assert_eq!(route.authorization.scopes(), ["read"]);
        let tokens = route
            .authorization
            .any_authorizer()
            .and_then(|a| a.tokens.as_ref())
            .unwrap();
        assert_eq!(tokens.issuers, vec!["https://issuer.example.com"]);
        assert_eq!(tokens.audience, vec!["client-a", "client-b"]);
    }
}
