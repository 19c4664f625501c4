//! The `apis:` section of the world file: REST and HTTP APIs, declared
//! once and served as deployed.
//!
//! ```yaml
//! apis:
//!   - id: a1b2c3d4e5            # [a-z0-9], 10 characters on AWS
//!     type: REST                # or HTTP
//!     account: "123456789012"
//!     region: us-east-1
//!     endpoint: REGIONAL        # REST: REGIONAL | EDGE | PRIVATE
//!     stages: [prod]            # REST: stages deployed with this definition
//!     policy: { Version: "2012-10-17", Statement: [...] }   # REST only
//!     methods:                  # REST
//!       - { path: "/pets/{id}", method: GET, authorization: AWS_IAM,
//!           integration: { type: MOCK, status: 200, body: '{"ok":true}' } }
//!     routes:                   # HTTP ($default stage, auto-deployed)
//!       - { key: "GET /pets", authorization: AWS_IAM, integration: { type: MOCK } }
//! ```
//! A bad section is rejected whole, with every problem found. Resource
//! policies may use AWS's shorthand `execute-api:/stage/GET/path`, expanded
//! to full ARNs as API Gateway does on save.
//!
//! Instead of `methods:`/`routes:`/`policy:`, an entry may import an OpenAPI
//! file with API Gateway's extensions (see [`crate::openapi`]), relative to
//! the world file:
//!
//! ```yaml
//!   - id: s1b2c3d4e5
//!     openapi: api.yaml           # REST unless `type: HTTP` or the file is an HTTP API export
//!     account: "123456789012"
//!     region: us-east-1
//!     stages: [prod]
//!     lambda_endpoint: http://127.0.0.1:3001   # where aws_proxy functions are invoked
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use iamgate_policy::{CompiledPolicies, NamedPolicy, PolicyDocument, PolicyKind, ValidationError};
use serde::Deserialize;

use crate::fields;
use crate::model::{
    AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, Method, PayloadFormat,
    Resource, RestApi, RestStage, Route, parse_template,
};
use crate::openapi::{self, ApiFlavour, ImportOptions};

#[derive(Debug, Deserialize)]
struct WorldFile {
    #[serde(default)]
    apis: Vec<ApiConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiConfig {
    id: String,
    /// Required inline; with `openapi:` it chooses the flavour.
    #[serde(rename = "type", default)]
    kind: Option<ApiKind>,
    account: String,
    region: String,
    #[serde(default)]
    endpoint: Option<EndpointConfig>,
    #[serde(default)]
    stages: Vec<String>,
    #[serde(default)]
    policy: Option<serde_json::Value>,
    #[serde(default)]
    methods: Vec<MethodConfig>,
    #[serde(default)]
    routes: Vec<RouteConfig>,
    /// An OpenAPI file, relative to the world file, instead of the above.
    #[serde(default)]
    openapi: Option<String>,
    /// The Lambda Invoke API that the OpenAPI file's `aws_proxy`
    /// integrations call (inline ones name their own endpoint).
    #[serde(default)]
    lambda_endpoint: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "UPPERCASE")]
enum ApiKind {
    Rest,
    Http,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "UPPERCASE")]
enum EndpointConfig {
    Regional,
    Edge,
    Private,
}

#[derive(Debug, Deserialize, Clone, Copy)]
enum AuthorizationConfig {
    #[serde(rename = "NONE")]
    None,
    #[serde(rename = "AWS_IAM")]
    AwsIam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodConfig {
    path: String,
    method: String,
    authorization: AuthorizationConfig,
    integration: IntegrationConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteConfig {
    key: String,
    authorization: AuthorizationConfig,
    integration: IntegrationConfig,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum IntegrationConfig {
    #[serde(rename = "MOCK")]
    Mock {
        #[serde(default = "ok_status")]
        status: u16,
        #[serde(default)]
        headers: HashMap<String, String>,
        #[serde(default)]
        body: String,
    },
    /// Forward to `uri` (which may use `{param}` and `{proxy}` placeholders).
    #[serde(rename = "HTTP_PROXY")]
    HttpProxy {
        uri: String,
        /// The API type's default when left out ([`fields::default_timeout_ms`]).
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// Invoke `function` through the Lambda Invoke API at `endpoint`.
    #[serde(rename = "AWS_PROXY")]
    AwsProxy {
        endpoint: String,
        function: String,
        #[serde(default)]
        payload_format_version: Option<String>,
    },
}

/// The data plane's HTTP client speaks plain HTTP only; the URI's length
/// is bounded like every integration URI's ([`fields::uri`]).
pub(crate) fn check_http_uri(uri: &str) -> Result<(), String> {
    fields::uri(uri).map_err(|invalid| format!("HTTP_PROXY uri: {invalid}"))?;
    if uri.starts_with("http://") {
        Ok(())
    } else {
        Err(format!("HTTP_PROXY uri '{uri}' must be an http:// URL"))
    }
}

/// Reads a file an `apis:` entry names (as written, relative to the world file).
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// A built API of either flavour.
enum Built {
    Rest(RestApi),
    Http(HttpApi),
}

fn ok_status() -> u16 {
    200
}

/// The APIs the data plane serves, by id.
#[derive(Debug, Default)]
pub struct ApiRegistry {
    pub rest: HashMap<String, Arc<RestApi>>,
    pub http: HashMap<String, Arc<HttpApi>>,
    /// Custom domain names, by lower-cased name.
    pub domains: HashMap<String, Arc<crate::stored::DomainNameRecord>>,
    /// APIs whose default `execute-api` endpoint is disabled
    /// (`disableExecuteApiEndpoint`): reachable through custom domains only.
    pub default_endpoint_disabled: std::collections::HashSet<String>,
}

impl ApiRegistry {
    /// Reads the `apis:` section of a world file (other sections ignored).
    /// Without the file's location, `openapi:` entries cannot be read.
    pub fn from_world_file(text: &str) -> Result<ApiRegistry, Vec<String>> {
        Self::from_world_file_with(text, &|path| {
            Err(format!(
                "cannot read '{path}': the world file's directory is unknown"
            ))
        })
    }

    /// Reads the `apis:` section of the world file in `dir`; `openapi:`
    /// paths are relative to `dir`.
    pub fn from_world_file_in(text: &str, dir: &Path) -> Result<ApiRegistry, Vec<String>> {
        Self::from_world_file_with(text, &|path| {
            let full = dir.join(path);
            std::fs::read_to_string(&full)
                .map_err(|error| format!("cannot read {}: {error}", full.display()))
        })
    }

    /// Reads the `apis:` section, with `read` supplying `openapi:` files.
    pub fn from_world_file_with(text: &str, read: ReadFile) -> Result<ApiRegistry, Vec<String>> {
        let file: WorldFile =
            serde_saphyr::from_str(text).map_err(|error| vec![format!("apis: {error}")])?;
        let mut registry = ApiRegistry::default();
        let mut errors = Vec::new();
        for (index, api) in file.apis.iter().enumerate() {
            let at = format!("apis[{index}] ({})", api.id);
            if let Err(mut problems) = registry.add(api, read) {
                errors.extend(problems.drain(..).map(|p| format!("{at}: {p}")));
            }
        }
        match crate::domains::declared_domains(text) {
            Ok(domains) => {
                for domain in domains {
                    registry
                        .domains
                        .insert(domain.name.clone(), Arc::new(domain));
                }
            }
            Err(problems) => errors.extend(problems),
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    fn add(&mut self, api: &ApiConfig, read: ReadFile) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        // AWS's ids are 10 characters; shorter ones from tutorials (`apiid`)
        // are accepted so their examples can be followed as written.
        let id_ok = (1..=64).contains(&api.id.len())
            && api
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !id_ok {
            problems.push(format!(
                "API id '{}' must be 1 to 64 characters of a-z and 0-9",
                api.id
            ));
        }
        if api.account.len() != 12 || !api.account.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("account '{}' must be 12 digits", api.account));
        }
        if self.rest.contains_key(&api.id) || self.http.contains_key(&api.id) {
            problems.push(format!("API id '{}' is declared twice", api.id));
        }
        let built = match (&api.openapi, api.kind) {
            (Some(file), _) => imported_api(api, file, read),
            (None, Some(ApiKind::Rest)) => rest_api(api).map(Built::Rest),
            (None, Some(ApiKind::Http)) => http_api(api).map(Built::Http),
            (None, None) => Err(vec![
                "type (REST or HTTP) is required unless the API is imported with openapi:"
                    .to_owned(),
            ]),
        };
        match built {
            Ok(Built::Rest(rest)) if problems.is_empty() => {
                self.rest.insert(api.id.clone(), Arc::new(rest));
            }
            Ok(Built::Http(http)) if problems.is_empty() => {
                self.http.insert(api.id.clone(), Arc::new(http));
            }
            Ok(_) => {}
            Err(more) => problems.extend(more),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn authorization(config: AuthorizationConfig) -> AuthorizationType {
    match config {
        AuthorizationConfig::None => AuthorizationType::None,
        AuthorizationConfig::AwsIam => AuthorizationType::AwsIam,
    }
}

fn integration(config: &IntegrationConfig, flavour: ApiFlavour) -> Result<Integration, String> {
    let default_format = match flavour {
        ApiFlavour::Rest => PayloadFormat::V1,
        ApiFlavour::Http => PayloadFormat::V2,
    };
    Ok(match config {
        IntegrationConfig::Mock {
            status,
            headers,
            body,
        } => {
            let mut headers: Vec<(String, String)> = headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            headers.sort();
            fields::mock_headers(&headers).map_err(|invalid| format!("MOCK headers: {invalid}"))?;
            fields::template("the MOCK body", body)
                .map_err(|invalid| format!("MOCK body: {invalid}"))?;
            Integration::Mock {
                status: *status,
                headers,
                body: body.clone(),
            }
        }
        IntegrationConfig::HttpProxy { uri, timeout_ms } => {
            check_http_uri(uri)?;
            let timeout_ms = timeout_ms.unwrap_or_else(|| fields::default_timeout_ms(flavour));
            fields::integration_timeout(flavour, timeout_ms)
                .map_err(|invalid| format!("timeout_ms {timeout_ms}: {invalid}"))?;
            Integration::HttpProxy {
                uri: uri.clone(),
                timeout_ms,
            }
        }
        IntegrationConfig::AwsProxy {
            endpoint,
            function,
            payload_format_version,
        } => {
            if !endpoint.starts_with("http://") {
                return Err(format!(
                    "AWS_PROXY endpoint '{endpoint}' must be an http:// URL"
                ));
            }
            let payload_format = match payload_format_version.as_deref() {
                None => default_format,
                Some("1.0") => PayloadFormat::V1,
                Some("2.0") => PayloadFormat::V2,
                Some(other) => {
                    return Err(format!(
                        "payload_format_version '{other}' is not 1.0 or 2.0"
                    ));
                }
            };
            Integration::LambdaProxy {
                endpoint: endpoint.clone(),
                function: function.clone(),
                payload_format,
            }
        }
    })
}

fn endpoint_type(config: Option<EndpointConfig>) -> Option<EndpointType> {
    config.map(|config| match config {
        EndpointConfig::Regional => EndpointType::Regional,
        EndpointConfig::Edge => EndpointType::Edge,
        EndpointConfig::Private => EndpointType::Private,
    })
}

fn rest_api(api: &ApiConfig) -> Result<RestApi, Vec<String>> {
    let mut problems = Vec::new();
    if !api.routes.is_empty() {
        problems.push("a REST API has methods, not routes".to_owned());
    }
    if api.lambda_endpoint.is_some() {
        problems.push(
            "lambda_endpoint is for APIs imported with openapi: (inline AWS_PROXY integrations name their endpoint)"
                .to_owned(),
        );
    }
    let mut methods = Vec::new();
    for method in &api.methods {
        if let Err(invalid) = fields::path_template(ApiFlavour::Rest, "path", &method.path) {
            problems.push(format!("method {} path: {invalid}", method.method));
        }
        if !fields::METHODS.contains(&method.method.as_str()) {
            problems.push(format!(
                "method '{}' is not one of {}",
                method.method,
                fields::METHODS.join(", ")
            ));
        }
        match integration(&method.integration, ApiFlavour::Rest) {
            Ok(integration) => methods.push(Method {
                http_method: method.method.clone(),
                resource_path: method.path.clone(),
                authorization: authorization(method.authorization),
                integration,
            }),
            Err(problem) => problems.push(problem),
        }
    }
    let endpoint = endpoint_type(api.endpoint).unwrap_or(EndpointType::Regional);
    deploy_rest(
        api,
        endpoint,
        api.policy.as_ref(),
        "policy",
        methods,
        problems,
    )
}

/// Deploys `methods` and the resource policy to the entry's stages; the
/// one place both inline and imported REST APIs are assembled.
fn deploy_rest(
    api: &ApiConfig,
    endpoint_type: EndpointType,
    policy: Option<&serde_json::Value>,
    policy_at: &str,
    methods: Vec<Method>,
    mut problems: Vec<String>,
) -> Result<RestApi, Vec<String>> {
    if api.stages.is_empty() {
        problems.push("a REST API needs at least one stage to be served".to_owned());
    }
    for name in &api.stages {
        if let Err(invalid) = fields::stage_name(name, false) {
            problems.push(invalid.0);
        }
    }
    let mut policy_text = None;
    let policy = match policy {
        None => {
            if endpoint_type == EndpointType::Private {
                problems
                    .push("a PRIVATE API cannot be deployed without a resource policy".to_owned());
            }
            None
        }
        Some(value) => {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let expanded = expand_shorthand(&text, &api.region, &api.account, &api.id);
            let compiled = compile_resource_policy(&expanded);
            policy_text = Some(expanded);
            match compiled {
                Ok(compiled) => Some(compiled),
                Err(errors) => {
                    problems.extend(
                        errors
                            .iter()
                            .map(|e| format!("{policy_at} {}:{}: {}", e.line, e.column, e.message)),
                    );
                    None
                }
            }
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut root = Resource::root();
    for method in methods {
        let parts = parse_template(&method.resource_path);
        root.add(&parts, method);
    }
    let stages = api
        .stages
        .iter()
        .map(|name| {
            (
                name.clone(),
                RestStage {
                    name: name.clone(),
                    root: root.clone(),
                    policy: policy.clone(),
                    policy_text: policy_text.clone(),
                },
            )
        })
        .collect();
    Ok(RestApi {
        id: api.id.clone(),
        account: api.account.clone(),
        region: api.region.clone(),
        endpoint_type,
        stages,
    })
}

fn http_api(api: &ApiConfig) -> Result<HttpApi, Vec<String>> {
    let mut problems = Vec::new();
    if api.policy.is_some() {
        // AWS: resource policies aren't supported for HTTP APIs.
        problems.push("HTTP APIs do not support resource policies".to_owned());
    }
    if !api.methods.is_empty() {
        problems.push("an HTTP API has routes, not methods".to_owned());
    }
    if api.lambda_endpoint.is_some() {
        problems.push(
            "lambda_endpoint is for APIs imported with openapi: (inline AWS_PROXY integrations name their endpoint)"
                .to_owned(),
        );
    }
    let mut routes = Vec::new();
    for route in &api.routes {
        let integration = match integration(&route.integration, ApiFlavour::Http) {
            Ok(integration) => integration,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        match fields::route_key(&route.key) {
            Ok((method, path)) => routes.push(Route {
                key: route.key.clone(),
                method,
                path,
                authorization: authorization(route.authorization),
                integration,
            }),
            Err(invalid) => problems.push(format!("route key '{}': {invalid}", route.key)),
        }
    }
    deploy_http(api, routes, problems)
}

/// Deploys `routes` to the entry's stages (`$default` if none is named).
fn deploy_http(
    api: &ApiConfig,
    routes: Vec<Route>,
    mut problems: Vec<String>,
) -> Result<HttpApi, Vec<String>> {
    for name in &api.stages {
        if let Err(invalid) = fields::stage_name(name, true) {
            problems.push(invalid.0);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut names = api.stages.clone();
    if names.is_empty() {
        names.push("$default".to_owned());
    }
    let stages = names
        .iter()
        .map(|name| {
            (
                name.clone(),
                HttpStage {
                    name: name.clone(),
                    routes: routes.clone(),
                },
            )
        })
        .collect();
    Ok(HttpApi {
        id: api.id.clone(),
        account: api.account.clone(),
        region: api.region.clone(),
        stages,
    })
}

/// An entry with `openapi: FILE`: the file supplies methods or routes, the
/// resource policy and the endpoint type; the entry supplies the rest.
fn imported_api(api: &ApiConfig, file: &str, read: ReadFile) -> Result<Built, Vec<String>> {
    let mut problems = Vec::new();
    if !api.methods.is_empty() || !api.routes.is_empty() || api.policy.is_some() {
        problems.push(format!(
            "methods, routes and policy come from the OpenAPI file {file}, not the world file"
        ));
    }
    if let Some(endpoint) = &api.lambda_endpoint
        && !endpoint.starts_with("http://")
    {
        problems.push(format!(
            "lambda_endpoint '{endpoint}' must be an http:// URL"
        ));
    }
    let text = match read(file) {
        Ok(text) => text,
        Err(problem) => {
            problems.push(problem);
            return Err(problems);
        }
    };
    let options = ImportOptions {
        flavour: api.kind.map(|kind| match kind {
            ApiKind::Rest => ApiFlavour::Rest,
            ApiKind::Http => ApiFlavour::Http,
        }),
        lambda_endpoint: api.lambda_endpoint.clone(),
    };
    let imported = match openapi::import(&text, &options) {
        Ok(imported) => imported,
        Err(error) => {
            problems.extend(
                error
                    .problems
                    .iter()
                    .map(|problem| format!("openapi {file}: {problem}")),
            );
            return Err(problems);
        }
    };
    match imported.flavour {
        ApiFlavour::Rest => {
            let endpoint = match (endpoint_type(api.endpoint), imported.endpoint_type) {
                (Some(ours), Some(theirs)) if ours != theirs => {
                    problems.push(format!(
                        "endpoint {ours:?} differs from the OpenAPI file's {theirs:?}"
                    ));
                    ours
                }
                (Some(kind), _) | (None, Some(kind)) => kind,
                (None, None) => EndpointType::Regional,
            };
            let policy_at = format!("openapi {file}: $['x-amazon-apigateway-policy']");
            deploy_rest(
                api,
                endpoint,
                imported.policy.as_ref(),
                &policy_at,
                imported.methods,
                problems,
            )
            .map(Built::Rest)
        }
        ApiFlavour::Http => {
            if api.endpoint.is_some() {
                problems.push("HTTP APIs have no endpoint type to choose".to_owned());
            }
            deploy_http(api, imported.routes, problems).map(Built::Http)
        }
    }
}

/// A REST API's resource policy, ready for evaluation.
pub fn compile_resource_policy(text: &str) -> Result<Arc<CompiledPolicies>, Vec<ValidationError>> {
    let document = PolicyDocument::parse(text, PolicyKind::Resource)?;
    Ok(Arc::new(CompiledPolicies::compile(&[NamedPolicy::new(
        "resource policy",
        document,
    )])))
}

/// `execute-api:/stage/GET/path` → the full ARN of this API, as API Gateway
/// rewrites resource policies on save.
pub fn expand_shorthand(policy: &str, region: &str, account: &str, api_id: &str) -> String {
    policy.replace(
        "\"execute-api:/",
        &format!("\"arn:aws:execute-api:{region}:{account}:{api_id}/"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
accounts: []
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    policy:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" }
    methods:
      - { path: "/pets/{id}", method: GET, authorization: AWS_IAM, integration: { type: MOCK, body: pet } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - { key: "GET /pets", authorization: AWS_IAM, integration: { type: MOCK } }
"#;

    #[test]
    fn rest_and_http_apis_are_read_with_their_stages() {
        let registry = ApiRegistry::from_world_file(FILE).unwrap();
        let rest = &registry.rest["a1b2c3d4e5"];
        assert!(rest.stages["prod"].policy.is_some());
        let http = &registry.http["h1b2c3d4e5"];
        assert_eq!(http.stages["$default"].routes.len(), 1);
    }

    #[test]
    fn the_shorthand_resource_is_expanded_to_this_apis_arn() {
        assert_eq!(
            expand_shorthand(
                r#"{"Resource":"execute-api:/prod/GET/pets"}"#,
                "us-east-2",
                "123456789012",
                "aabbccddee"
            ),
            r#"{"Resource":"arn:aws:execute-api:us-east-2:123456789012:aabbccddee/prod/GET/pets"}"#
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let file = r#"
apis:
  - id: BAD
    type: HTTP
    account: "1"
    region: us-east-1
    policy: '{"Version":"2012-10-17","Statement":[]}'
    routes: [{ key: "pets", authorization: NONE, integration: { type: MOCK } }]
  - id: p1b2c3d4e5
    type: REST
    endpoint: PRIVATE
    account: "111122223333"
    region: us-east-1
    stages: [prod]
"#;
        let errors = ApiRegistry::from_world_file(file).unwrap_err();
        let all = errors.join("\n");
        for expected in [
            "must be 1 to 64 characters",
            "must be 12 digits",
            "HTTP APIs do not support resource policies",
            "route key 'pets'",
            "PRIVATE API cannot be deployed without a resource policy",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn unknown_fields_and_integration_types_are_errors() {
        let file = "apis:\n  - { id: a1b2c3d4e5, type: REST, account: \"111122223333\", region: us-east-1, stages: [p], methdos: [] }\n";
        assert!(ApiRegistry::from_world_file(file).is_err());
        let file = "apis:\n  - { id: a1b2c3d4e5, type: REST, account: \"111122223333\", region: us-east-1, stages: [p], methods: [{ path: /, method: GET, authorization: NONE, integration: { type: AWS } }] }\n";
        assert!(ApiRegistry::from_world_file(file).is_err());
    }
}

#[cfg(test)]
mod openapi_entry_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

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
    fn type_http_imports_routes_under_http_api_rules() {
        let text =
            entry("type: HTTP, openapi: http.yaml, lambda_endpoint: \"http://127.0.0.1:3001\"")
                .replace("stages: [prod], ", "");
        // HTTP APIs need payloadFormatVersion for Lambda: refused first…
        let errors = ApiRegistry::from_world_file_with(&text, &files).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("openapi http.yaml: ")
                && e.contains("'payloadFormatVersion' is required")),
            "{errors:?}"
        );
        // …and imported once the file says which event shape to send.
        let registry =
            ApiRegistry::from_world_file_with(&text.replace("http.yaml", "http2.yaml"), &files)
                .unwrap();
        let routes = &registry.http["o1b2c3d4e5"].stages["$default"].routes;
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].key, "GET /pets/{id}");
        assert_eq!(routes[0].authorization, AuthorizationType::AwsIam);
    }

    #[test]
    fn import_problems_are_reported_with_the_entry_and_file() {
        let text = entry("openapi: spec.yaml");
        let errors = ApiRegistry::from_world_file_with(&text, &files).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("apis[0] (o1b2c3d4e5): openapi spec.yaml: $.paths['/pets/{id}'].get['x-amazon-apigateway-integration'].uri: "), "{errors:?}");

        let missing = entry("openapi: nowhere.yaml");
        let errors = ApiRegistry::from_world_file_with(&missing, &files).unwrap_err();
        assert!(errors[0].contains("cannot read nowhere.yaml"), "{errors:?}");

        let both = entry(
            "openapi: spec.yaml, lambda_endpoint: \"http://x\", methods: [{ path: /, method: GET, authorization: NONE, integration: { type: MOCK } }]",
        );
        let errors = ApiRegistry::from_world_file_with(&both, &files).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("come from the OpenAPI file")),
            "{errors:?}"
        );

        let no_dir = ApiRegistry::from_world_file(&entry("openapi: spec.yaml")).unwrap_err();
        assert!(no_dir[0].contains("directory is unknown"), "{no_dir:?}");
    }

    #[test]
    fn an_inline_entry_still_needs_a_type_and_no_lambda_endpoint() {
        let errors = ApiRegistry::from_world_file(&entry("methods: []")).unwrap_err();
        assert!(
            errors[0].contains("type (REST or HTTP) is required"),
            "{errors:?}"
        );
        let errors =
            ApiRegistry::from_world_file(&entry("type: REST, lambda_endpoint: \"http://x\""))
                .unwrap_err();
        assert!(
            errors[0].contains("lambda_endpoint is for APIs imported"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_world_endpoint_type_must_agree_with_the_files() {
        let private = "openapi: 3.0.1\npaths: {}\nx-amazon-apigateway-endpoint-configuration: { types: [PRIVATE] }\n";
        let read = |_: &str| Ok(private.to_owned());
        let errors =
            ApiRegistry::from_world_file_with(&entry("openapi: p.yaml, endpoint: EDGE"), &read)
                .unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("differs from the OpenAPI file's")),
            "{errors:?}"
        );
        // PRIVATE from the file without a policy cannot be deployed.
        let errors =
            ApiRegistry::from_world_file_with(&entry("openapi: p.yaml"), &read).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("PRIVATE API cannot be deployed")),
            "{errors:?}"
        );
    }
}
