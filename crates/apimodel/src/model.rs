//! Deployed APIs as the data plane serves them.
//!
//! A REST API stage serves the snapshot its deployment captured —
//! resources, methods, integrations and the resource policy — so a policy
//! edit takes effect on the next deployment, as on AWS. An HTTP API has no
//! resource policy at all.

use std::collections::HashMap;
use std::sync::Arc;

use iamgate_policy::CompiledPolicies;

/// Which kind of API: many of the model's rules (integration timeouts,
/// path grammar, route keys) differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFlavour {
    /// API Gateway v1: resources and methods, resource policies.
    Rest,
    /// API Gateway v2 HTTP API: routes, no resource policies.
    Http,
}

/// How a method or route authorizes callers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthorizationType {
    /// Anyone; the caller is anonymous (a resource policy still applies).
    #[serde(rename = "NONE")]
    None,
    /// SigV4-signed callers authorized by IAM.
    #[serde(rename = "AWS_IAM")]
    AwsIam,
    /// A Lambda authorizer decides (`CUSTOM`); the deployment froze it.
    #[serde(rename = "CUSTOM")]
    Custom(Box<crate::authorizers::LambdaAuthorizer>),
    /// The gateway validates a token: `JWT` (HTTP) or `COGNITO_USER_POOLS`
    /// (REST), as the authorizer's type says; the deployment froze it.
    #[serde(rename = "TOKEN_VALIDATED")]
    Token(Box<TokenAuthorization>),
}

/// A `JWT` or `COGNITO_USER_POOLS` method or route: its authorizer and the
/// scopes it asks of an access token (`authorizationScopes`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenAuthorization {
    pub authorizer: crate::authorizers::LambdaAuthorizer,
    /// At least one must be among the token's; empty: none asked.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl AuthorizationType {
    /// `NONE`, `AWS_IAM`, `CUSTOM`, `JWT` or `COGNITO_USER_POOLS`, as the
    /// control planes answer.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthorizationType::None => "NONE",
            AuthorizationType::AwsIam => "AWS_IAM",
            AuthorizationType::Custom(_) => "CUSTOM",
            AuthorizationType::Token(token) => token.authorizer.kind.as_str(),
        }
    }

    /// The token-validating authorizer of a `JWT` or `COGNITO_USER_POOLS`
    /// method or route, with its scopes.
    pub fn token_authorization(&self) -> Option<&TokenAuthorization> {
        match self {
            AuthorizationType::Token(token) => Some(token),
            _ => None,
        }
    }

    /// The authorizer of a method or route, of any type.
    pub fn any_authorizer(&self) -> Option<&crate::authorizers::LambdaAuthorizer> {
        match self {
            AuthorizationType::Custom(authorizer) => Some(authorizer),
            AuthorizationType::Token(token) => Some(&token.authorizer),
            _ => None,
        }
    }

    /// `authorizationScopes` (empty but for a token-validating authorizer).
    pub fn scopes(&self) -> &[String] {
        self.token_authorization()
            .map_or(&[], |token| token.scopes.as_slice())
    }

    /// The Lambda authorizer of a `CUSTOM` method or route.
    pub fn authorizer(&self) -> Option<&crate::authorizers::LambdaAuthorizer> {
        match self {
            AuthorizationType::Custom(authorizer) => Some(authorizer),
            _ => None,
        }
    }
}

/// One segment of a resource path or route.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PathPart {
    Literal(String),
    /// `{name}`: exactly one segment.
    Param(String),
    /// `{name+}`: one or more segments; always last.
    Greedy(String),
}

impl PathPart {
    /// Parses one template segment: `pets`, `{petId}`, `{proxy+}`.
    pub fn parse(segment: &str) -> PathPart {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => match name.strip_suffix('+') {
                Some(greedy) => PathPart::Greedy(greedy.to_owned()),
                None => PathPart::Param(name.to_owned()),
            },
            None => PathPart::Literal(segment.to_owned()),
        }
    }

    /// Match precedence at one level: literal before parameter before greedy.
    pub fn rank(&self) -> u8 {
        match self {
            PathPart::Literal(_) => 0,
            PathPart::Param(_) => 1,
            PathPart::Greedy(_) => 2,
        }
    }
}

/// Splits a template path (`/pets/{petId}`) into parts; `/` is no parts.
pub fn parse_template(path: &str) -> Vec<PathPart> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(PathPart::parse)
        .collect()
}

/// What answers a request once it is authorized.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Integration {
    /// A fixed response.
    Mock {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Forward to an HTTP backend; `uri` may hold `{param}` / `{proxy}` placeholders.
    HttpProxy { uri: String, timeout_ms: u64 },
    /// Invoke a function through the Lambda Invoke API at `endpoint`.
    LambdaProxy {
        endpoint: String,
        function: String,
        payload_format: PayloadFormat,
        /// How long the function may take (`timeoutInMillis`).
        timeout_ms: u64,
    },
    /// A REST MOCK or HTTP (non-proxy) integration: mapping templates,
    /// passthrough and integration responses ([`crate::mapping`]).
    Mapped(Box<crate::mapping::Mapped>),
}

/// The Lambda proxy event shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PayloadFormat {
    /// REST APIs (and HTTP APIs on request): `requestContext.identity`.
    V1,
    /// HTTP APIs: `requestContext.authorizer.iam`.
    V2,
}

/// A REST API method on a resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Method {
    /// `GET`, `POST`, … or `ANY`.
    pub http_method: String,
    /// The resource's template path (`/pets/{petId}`), as integrations see it.
    pub resource_path: String,
    pub authorization: AuthorizationType,
    pub integration: Integration,
    /// Whether a caller must present an API key of a usage plan of the
    /// stage (`apiKeyRequired`).
    #[serde(default)]
    pub api_key_required: bool,
    /// What the method checks of a request before its integration
    /// (parameters, models, validator), as its deployment froze it.
    #[serde(
        default,
        skip_serializing_if = "crate::validation::MethodRequest::is_empty"
    )]
    pub request: crate::validation::MethodRequest,
}

/// A node of a REST API's resource tree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resource {
    /// `None` for the root resource `/`.
    pub part: Option<PathPart>,
    pub methods: Vec<Method>,
    pub children: Vec<Resource>,
}

impl Resource {
    /// Every method of the tree, depth first.
    pub fn methods(&self) -> Vec<&Method> {
        let mut out: Vec<&Method> = self.methods.iter().collect();
        for child in &self.children {
            out.extend(child.methods());
        }
        out
    }

    pub fn root() -> Resource {
        Resource {
            part: None,
            methods: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds `method` at the template `path`, creating resources on the way.
    pub fn add(&mut self, path: &[PathPart], method: Method) {
        match path.split_first() {
            None => self.methods.push(method),
            Some((first, rest)) => {
                let position = self
                    .children
                    .iter()
                    .position(|c| c.part.as_ref() == Some(first));
                let index = match position {
                    Some(index) => index,
                    None => {
                        self.children.push(Resource {
                            part: Some(first.clone()),
                            methods: Vec::new(),
                            children: Vec::new(),
                        });
                        self.children.len() - 1
                    }
                };
                if let Some(child) = self.children.get_mut(index) {
                    child.add(rest, method);
                }
            }
        }
    }
}

/// A REST API's endpoint type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndpointType {
    Regional,
    Edge,
    /// Reachable only through VPC endpoints.
    Private,
}

/// What a REST API stage serves: its deployment's snapshot.
#[derive(Debug, Clone)]
pub struct RestStage {
    pub name: String,
    pub root: Resource,
    /// The resource policy captured by the deployment.
    pub policy: Option<Arc<CompiledPolicies>>,
    /// Its text (resources as full ARNs), as the deployment keeps it.
    pub policy_text: Option<String>,
    /// The stage's variables (`$stageVariables`), in name order.
    pub variables: Vec<(String, String)>,
    /// The gateway responses its deployment froze.
    pub gateway_responses: Arc<crate::gateway_responses::GatewayResponses>,
}

#[derive(Debug, Clone)]
pub struct RestApi {
    pub id: String,
    pub account: String,
    pub region: String,
    pub endpoint_type: EndpointType,
    pub stages: HashMap<String, RestStage>,
}

/// An HTTP API route: `GET /pets/{id}`, `ANY /{proxy+}` or `$default`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Route {
    /// The route key as written.
    pub key: String,
    /// `None` for `ANY` and for `$default`.
    pub method: Option<String>,
    /// `None` for `$default`.
    pub path: Option<Vec<PathPart>>,
    pub authorization: AuthorizationType,
    pub integration: Integration,
}

impl Route {
    /// Parses a route key (`GET /pets/{id}`, `ANY /{proxy+}`, `$default`)
    /// with the one rule every front door applies
    /// ([`crate::fields::route_key`]).
    pub fn parse_key(key: &str) -> Option<(Option<String>, Option<Vec<PathPart>>)> {
        crate::fields::route_key(key).ok()
    }
}

#[derive(Debug, Clone)]
pub struct HttpStage {
    pub name: String,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct HttpApi {
    pub id: String,
    pub account: String,
    pub region: String,
    pub stages: HashMap<String, HttpStage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_segments_parse_into_literal_param_and_greedy() {
        assert_eq!(
            parse_template("/files/{id}/{proxy+}"),
            vec![
                PathPart::Literal("files".into()),
                PathPart::Param("id".into()),
                PathPart::Greedy("proxy".into())
            ]
        );
        assert!(parse_template("/").is_empty());
    }

    #[test]
    fn route_keys_parse_method_path_and_default() {
        assert_eq!(Route::parse_key("$default"), Some((None, None)));
        assert_eq!(
            Route::parse_key("GET /pets/{id}"),
            Some((Some("GET".into()), Some(parse_template("/pets/{id}"))))
        );
        assert_eq!(
            Route::parse_key("ANY /{proxy+}"),
            Some((None, Some(parse_template("/{proxy+}"))))
        );
        assert_eq!(Route::parse_key("GET pets"), None);
    }
}
