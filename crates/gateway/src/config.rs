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

use std::collections::HashMap;
use std::sync::Arc;

use iamgate_policy::{CompiledPolicies, NamedPolicy, PolicyDocument, PolicyKind, ValidationError};
use serde::Deserialize;

use crate::model::{
    AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, Method, PayloadFormat,
    Resource, RestApi, RestStage, Route, parse_template,
};

#[derive(Debug, Deserialize)]
struct WorldFile {
    #[serde(default)]
    apis: Vec<ApiConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiConfig {
    id: String,
    #[serde(rename = "type")]
    kind: ApiKind,
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
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
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

/// API Gateway's default integration timeout: 29 seconds.
fn default_timeout_ms() -> u64 {
    29_000
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
}

impl ApiRegistry {
    /// Reads the `apis:` section of a world file (other sections ignored).
    pub fn from_world_file(text: &str) -> Result<ApiRegistry, Vec<String>> {
        let file: WorldFile =
            serde_saphyr::from_str(text).map_err(|error| vec![format!("apis: {error}")])?;
        let mut registry = ApiRegistry::default();
        let mut errors = Vec::new();
        for (index, api) in file.apis.iter().enumerate() {
            let at = format!("apis[{index}] ({})", api.id);
            if let Err(mut problems) = registry.add(api) {
                errors.extend(problems.drain(..).map(|p| format!("{at}: {p}")));
            }
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    fn add(&mut self, api: &ApiConfig) -> Result<(), Vec<String>> {
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
        match api.kind {
            ApiKind::Rest => match rest_api(api) {
                Ok(rest) if problems.is_empty() => {
                    self.rest.insert(api.id.clone(), Arc::new(rest));
                }
                Ok(_) => {}
                Err(more) => problems.extend(more),
            },
            ApiKind::Http => match http_api(api) {
                Ok(http) if problems.is_empty() => {
                    self.http.insert(api.id.clone(), Arc::new(http));
                }
                Ok(_) => {}
                Err(more) => problems.extend(more),
            },
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

fn integration(
    config: &IntegrationConfig,
    default_format: PayloadFormat,
) -> Result<Integration, String> {
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
            Integration::Mock {
                status: *status,
                headers,
                body: body.clone(),
            }
        }
        IntegrationConfig::HttpProxy { uri, timeout_ms } => {
            if !uri.starts_with("http://") {
                return Err(format!("HTTP_PROXY uri '{uri}' must be an http:// URL"));
            }
            if !(50..=29_000).contains(timeout_ms) {
                return Err(format!(
                    "timeout_ms {timeout_ms} must be between 50 and 29000"
                ));
            }
            Integration::HttpProxy {
                uri: uri.clone(),
                timeout_ms: *timeout_ms,
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

const METHODS: &[&str] = &[
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
];

fn rest_api(api: &ApiConfig) -> Result<RestApi, Vec<String>> {
    let mut problems = Vec::new();
    if !api.routes.is_empty() {
        problems.push("a REST API has methods, not routes".to_owned());
    }
    if api.stages.is_empty() {
        problems.push("a REST API needs at least one stage to be served".to_owned());
    }
    let endpoint_type = match api.endpoint {
        None | Some(EndpointConfig::Regional) => EndpointType::Regional,
        Some(EndpointConfig::Edge) => EndpointType::Edge,
        Some(EndpointConfig::Private) => EndpointType::Private,
    };
    let mut policy_text = None;
    let policy = match &api.policy {
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
                            .map(|e| format!("policy {}:{}: {}", e.line, e.column, e.message)),
                    );
                    None
                }
            }
        }
    };
    let mut root = Resource::root();
    for method in &api.methods {
        if !method.path.starts_with('/') {
            problems.push(format!("method path '{}' must start with /", method.path));
        }
        if !METHODS.contains(&method.method.as_str()) {
            problems.push(format!(
                "method '{}' is not one of {}",
                method.method,
                METHODS.join(", ")
            ));
        }
        let integration = match integration(&method.integration, PayloadFormat::V1) {
            Ok(integration) => integration,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let parts = parse_template(&method.path);
        root.add(
            &parts,
            Method {
                http_method: method.method.clone(),
                resource_path: method.path.clone(),
                authorization: authorization(method.authorization),
                integration,
            },
        );
    }
    if !problems.is_empty() {
        return Err(problems);
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
    let mut routes = Vec::new();
    for route in &api.routes {
        let integration = match integration(&route.integration, PayloadFormat::V2) {
            Ok(integration) => integration,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        match Route::parse_key(&route.key) {
            Some((method, path)) => routes.push(Route {
                key: route.key.clone(),
                method,
                path,
                authorization: authorization(route.authorization),
                integration,
            }),
            None => problems.push(format!(
                "route key '{}' is not 'METHOD /path' or '$default'",
                route.key
            )),
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
