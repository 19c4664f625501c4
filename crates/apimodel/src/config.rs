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
//!     authorizers:              # Lambda authorizers, named by CUSTOM methods/routes
//!       - { name: auth, type: TOKEN, function: "arn:aws:lambda:…:function:auth",
//!           lambda_endpoint: "http://127.0.0.1:3001", identity_source: method.request.header.Authorization,
//!           validation_expression: "Bearer .+", ttl: 300 }
//!       # methods: { …, authorization: CUSTOM, authorizer: auth }
//!       # HTTP: { name, type: REQUEST, function, identity_source: [$request.header.Authorization],
//!       #         payload_format_version: "2.0", simple_responses: true, ttl: 0 }
//!       # REST: { name: pool, type: COGNITO_USER_POOLS, identity_source: method.request.header.Authorization,
//!       #         provider_arns: ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Abc"],
//!       #         jwks_url: "http://127.0.0.1:9000/jwks.json" }   # optional: the local issuer override
//!       # HTTP: { name: jwt, type: JWT, identity_source: $request.header.Authorization,
//!       #         issuer: "https://issuer.example.com", audience: [my-client] }
//!       # methods/routes: { …, authorization: COGNITO_USER_POOLS (or JWT), authorizer: pool, scopes: [read] }
//!     gateway_responses:        # REST: by response type, as PutGatewayResponse takes them
//!       ACCESS_DENIED:
//!         status_code: 401
//!         response_parameters: { gatewayresponse.header.X-Why: "'denied'" }
//!         response_templates: { application/json: '{"why":"$context.error.message"}' }
//! ```
//! A bad section is rejected whole, with every problem found, each at its
//! line and column: the section is decoded by hand from the world file's
//! positioned tree ([`iamgate_yaml`]), read once for all sections, so a
//! problem is noted at its node and decoding carries on. Resource
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

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use iamgate_policy::{CompiledPolicies, NamedPolicy, PolicyDocument, PolicyKind, ValidationError};
use iamgate_yaml::{ConfigError, Decoder, Fields, JsonText, Node, Value};

use crate::authorizers::{AuthorizerInput, LambdaAuthorizer};
use crate::fields;
use crate::gateway_responses::{CustomGatewayResponse, GatewayResponses};
use crate::mapping::Mapped;
use crate::model::{
    AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, Method, PayloadFormat,
    Resource, RestApi, RestStage, Route, TokenAuthorization, parse_template,
};
use crate::openapi::{self, ApiFlavour, ImportOptions};
use crate::stored::{IntegrationRecord, IntegrationResponseRecord};

/// A line and column in the world file.
type Pos = (u32, u32);

fn pos(node: &Node) -> Pos {
    (node.line, node.column)
}

/// A problem of one entry, at its place in the file.
type Problem = (Pos, String);

#[derive(Debug)]
struct ApiConfig {
    /// The entry itself.
    at: Pos,
    id: String,
    id_at: Pos,
    /// Required inline; with `openapi:` it chooses the flavour.
    kind: Option<ApiKind>,
    account: String,
    account_at: Pos,
    region: String,
    endpoint: Option<(EndpointType, Pos)>,
    /// REST: where API keys come from (`HEADER`, `AUTHORIZER`).
    api_key_source: Option<(String, Pos)>,
    stages: Vec<(String, Pos)>,
    policy: Option<PolicySource>,
    methods: Vec<MethodConfig>,
    methods_at: Pos,
    routes: Vec<RouteConfig>,
    routes_at: Pos,
    /// An OpenAPI file, relative to the world file, instead of the above.
    openapi: Option<(String, Pos)>,
    /// The Lambda Invoke API that the OpenAPI file's `aws_proxy`
    /// integrations call (inline ones name their own endpoint).
    lambda_endpoint: Option<(String, Pos)>,
    /// Lambda authorizers, each with where it was declared.
    authorizers: Vec<(AuthorizerInput, Pos)>,
    gateway_responses: Vec<GatewayResponseConfig>,
    gateway_responses_at: Pos,
}

/// One entry of `gateway_responses:`, checked when the API is built.
#[derive(Debug)]
struct GatewayResponseConfig {
    response_type: String,
    at: Pos,
    status_code: Option<String>,
    response_parameters: BTreeMap<String, String>,
    response_templates: BTreeMap<String, String>,
}

/// A resource policy as JSON text, with where its errors are reported.
#[derive(Debug)]
struct PolicySource {
    text: String,
    /// How errors name the document (`policy`, or the OpenAPI member).
    label: String,
    at: Pos,
    /// For a policy written as a YAML mapping: the YAML position of each
    /// line of `text`.
    origins: Option<JsonText>,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum ApiKind {
    Rest,
    Http,
}

#[derive(Debug, Clone)]
enum AuthorizationConfig {
    None,
    AwsIam,
    /// `CUSTOM`, with the name of one of the entry's `authorizers:`.
    Custom(Option<(String, Pos)>),
    /// `JWT` or `COGNITO_USER_POOLS` (the first), with an authorizer's name
    /// and the `scopes:` asked of an access token.
    Token(String, Option<(String, Pos)>, Vec<String>),
}

#[derive(Debug)]
struct MethodConfig {
    path: String,
    path_at: Pos,
    method: String,
    method_at: Pos,
    authorization: AuthorizationConfig,
    integration: IntegrationConfig,
    integration_at: Pos,
    api_key_required: bool,
}

#[derive(Debug)]
struct RouteConfig {
    key: String,
    key_at: Pos,
    authorization: AuthorizationConfig,
    integration: IntegrationConfig,
    integration_at: Pos,
}

#[derive(Debug)]
enum IntegrationConfig {
    Mock {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Forward to `uri` (which may use `{param}` and `{proxy}` placeholders).
    HttpProxy {
        uri: String,
        /// The API type's default when left out ([`fields::default_timeout_ms`]).
        timeout_ms: Option<u64>,
    },
    /// Invoke `function` through the Lambda Invoke API at `endpoint`.
    AwsProxy {
        endpoint: String,
        function: String,
        payload_format_version: Option<String>,
        timeout_ms: Option<u64>,
    },
    /// A REST MOCK with templates, or HTTP (non-proxy): the members as
    /// PutIntegration and PutIntegrationResponse store them.
    Mapped(Box<IntegrationRecord>),
}

/// Text as a world file's API sections take it: any scalar (a stage named
/// `2024` is text), as serde read it before these sections were decoded
/// by hand.
pub(crate) fn scalar(decoder: &mut Decoder, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Str(text) => Some(text.clone()),
        Value::Int(_) | Value::Bool(_) | Value::Float(_) => node.scalar_text(),
        _ => {
            decoder.error(
                node,
                path,
                None,
                format!("expected a string, found {}", node.type_name()),
            );
            None
        }
    }
}

/// A member that must be there, as text (any scalar).
pub(crate) fn required(
    decoder: &mut Decoder,
    fields: &Fields<'_>,
    name: &str,
) -> Option<(String, Pos)> {
    match fields.get(name) {
        Some(node) => scalar(decoder, node, &fields.path(name)).map(|text| (text, pos(node))),
        None => {
            decoder.missing(fields, name);
            None
        }
    }
}

/// A member that may be left out, as text (any scalar).
pub(crate) fn optional(
    decoder: &mut Decoder,
    fields: &Fields<'_>,
    name: &str,
) -> Option<(String, Pos)> {
    let node = fields.get(name)?;
    scalar(decoder, node, &fields.path(name)).map(|text| (text, pos(node)))
}

/// A list of text (any scalars).
fn texts(decoder: &mut Decoder, fields: &Fields<'_>, name: &str) -> Vec<(String, Pos)> {
    let path = fields.path(name);
    let mut out = Vec::new();
    for (index, node) in decoder.list(fields.get(name), &path).iter().enumerate() {
        if let Some(text) = scalar(decoder, node, &format!("{path}[{index}]")) {
            out.push((text, pos(node)));
        }
    }
    out
}

fn api_config(decoder: &mut Decoder, node: &Node, path: &str) -> Option<ApiConfig> {
    let fields = decoder.fields(
        node,
        path,
        &[
            "id",
            "type",
            "account",
            "region",
            "endpoint",
            "api_key_source",
            "stages",
            "policy",
            "methods",
            "routes",
            "openapi",
            "lambda_endpoint",
            "authorizers",
            "gateway_responses",
        ],
    )?;
    let id = required(decoder, &fields, "id");
    let kind = fields.get("type").and_then(|at| {
        decoder
            .choice(at, &fields.path("type"), &["REST", "HTTP"])
            .map(|kind| {
                if kind == "REST" {
                    ApiKind::Rest
                } else {
                    ApiKind::Http
                }
            })
    });
    let account = required(decoder, &fields, "account");
    let region = required(decoder, &fields, "region");
    let endpoint = fields.get("endpoint").and_then(|at| {
        let choice = decoder.choice(
            at,
            &fields.path("endpoint"),
            &["REGIONAL", "EDGE", "PRIVATE"],
        )?;
        let kind = match choice.as_str() {
            "EDGE" => EndpointType::Edge,
            "PRIVATE" => EndpointType::Private,
            _ => EndpointType::Regional,
        };
        Some((kind, pos(at)))
    });
    let api_key_source = fields.get("api_key_source").and_then(|at| {
        let source = decoder.choice(
            at,
            &fields.path("api_key_source"),
            crate::input_model::API_KEY_SOURCE_TYPE.values,
        )?;
        Some((source, pos(at)))
    });
    let stages = texts(decoder, &fields, "stages");
    let policy = fields.get("policy").and_then(|at| {
        let (text, origins) = match &at.value {
            Value::Str(text) => (text.clone(), None),
            Value::Map(_) | Value::Seq(_) => {
                let json = iamgate_yaml::to_json(at);
                (json.text.clone(), Some(json))
            }
            _ => {
                decoder.error(
                    at,
                    &fields.path("policy"),
                    None,
                    format!(
                        "a policy document must be JSON text or a mapping, found {}",
                        at.type_name()
                    ),
                );
                return None;
            }
        };
        Some(PolicySource {
            text,
            label: "policy".to_owned(),
            at: pos(at),
            origins,
        })
    });
    let methods_path = fields.path("methods");
    let method_nodes = decoder.list(fields.get("methods"), &methods_path);
    let methods = method_nodes
        .iter()
        .enumerate()
        .filter_map(|(index, at)| method_config(decoder, at, &format!("{methods_path}[{index}]")))
        .collect();
    let routes_path = fields.path("routes");
    let route_nodes = decoder.list(fields.get("routes"), &routes_path);
    let routes = route_nodes
        .iter()
        .enumerate()
        .filter_map(|(index, at)| route_config(decoder, at, &format!("{routes_path}[{index}]")))
        .collect();
    let openapi = optional(decoder, &fields, "openapi");
    let lambda_endpoint = optional(decoder, &fields, "lambda_endpoint");
    let authorizers_path = fields.path("authorizers");
    let authorizer_nodes = decoder.list(fields.get("authorizers"), &authorizers_path);
    let authorizers = authorizer_nodes
        .iter()
        .enumerate()
        .filter_map(|(index, at)| {
            authorizer_config(decoder, at, &format!("{authorizers_path}[{index}]"))
        })
        .collect();
    let gateway_responses = gateway_responses_config(decoder, &fields);
    let ((id, id_at), (account, account_at), (region, _)) = (id?, account?, region?);
    Some(ApiConfig {
        at: pos(node),
        id,
        id_at,
        kind,
        account,
        account_at,
        region,
        endpoint,
        api_key_source,
        stages,
        policy,
        methods,
        methods_at: fields.get("methods").map_or(pos(node), pos),
        routes,
        routes_at: fields.get("routes").map_or(pos(node), pos),
        openapi,
        lambda_endpoint,
        authorizers,
        gateway_responses,
        gateway_responses_at: fields.get("gateway_responses").map_or(pos(node), pos),
    })
}

/// One entry of `authorizers:`, as the constructor takes it
/// ([`LambdaAuthorizer::new`] checks it once the API's flavour is known).
fn authorizer_config(
    decoder: &mut Decoder,
    node: &Node,
    path: &str,
) -> Option<(AuthorizerInput, Pos)> {
    let fields = decoder.fields(
        node,
        path,
        &[
            "name",
            "type",
            "function",
            "lambda_endpoint",
            "identity_source",
            "validation_expression",
            "ttl",
            "payload_format_version",
            "simple_responses",
            "provider_arns",
            "issuer",
            "audience",
            "jwks_url",
        ],
    )?;
    let name = required(decoder, &fields, "name");
    let kind = required(decoder, &fields, "type");
    // TOKEN and REQUEST need it; the constructor says so.
    let function = optional(decoder, &fields, "function").map(|(text, _)| text);
    let identity_sources = one_or_many(decoder, &fields, "identity_source");
    let ttl = optional(decoder, &fields, "ttl");
    let ttl_seconds = match ttl {
        Some((text, _)) => match text.parse::<i64>() {
            Ok(ttl) => Some(ttl),
            Err(_) => {
                if let Some(at) = fields.get("ttl") {
                    decoder.error(
                        at,
                        &fields.path("ttl"),
                        None,
                        format!("ttl '{text}' is not a number of seconds"),
                    );
                }
                return None;
            }
        },
        None => None,
    };
    let simple_responses = match optional(decoder, &fields, "simple_responses") {
        Some((text, _)) if text == "true" || text == "false" => Some(text == "true"),
        Some((text, _)) => {
            if let Some(at) = fields.get("simple_responses") {
                decoder.error(
                    at,
                    &fields.path("simple_responses"),
                    None,
                    format!("simple_responses '{text}' is not true or false"),
                );
            }
            return None;
        }
        None => None,
    };
    let ((name, _), (kind, _)) = (name?, kind?);
    Some((
        AuthorizerInput {
            id: String::new(),
            name: Some(name),
            kind: Some(kind),
            // The region is filled in by the API's; a function given by
            // name or ARN is invoked as written.
            uri: function,
            endpoint: optional(decoder, &fields, "lambda_endpoint").map(|(text, _)| text),
            credentials: None,
            identity_sources,
            validation_expression: optional(decoder, &fields, "validation_expression")
                .map(|(text, _)| text),
            ttl_seconds,
            payload_format_version: optional(decoder, &fields, "payload_format_version")
                .map(|(text, _)| text),
            simple_responses,
            provider_arns: one_or_many(decoder, &fields, "provider_arns"),
            issuer: optional(decoder, &fields, "issuer").map(|(text, _)| text),
            audience: one_or_many(decoder, &fields, "audience"),
            jwks_url: optional(decoder, &fields, "jwks_url").map(|(text, _)| text),
        },
        pos(node),
    ))
}

/// A member given as one text or a list of them.
fn one_or_many(decoder: &mut Decoder, fields: &Fields<'_>, name: &str) -> Vec<String> {
    match fields.get(name) {
        Some(at) if matches!(at.value, Value::Seq(_)) => texts(decoder, fields, name)
            .into_iter()
            .map(|(text, _)| text)
            .collect(),
        Some(_) => optional(decoder, fields, name)
            .map(|(text, _)| vec![text])
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// A mapping of text to text (templates, parameters); `None` once reported.
fn text_map(
    decoder: &mut Decoder,
    node: Option<&Node>,
    at: &str,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, value) in decoder.map_entries(node, at) {
        let name = scalar(decoder, name, at)?;
        let value = scalar(decoder, value, &format!("{at}.{name}"))?;
        out.insert(name, value);
    }
    Some(out)
}

/// `gateway_responses:`, by response type.
fn gateway_responses_config(
    decoder: &mut Decoder,
    fields: &Fields<'_>,
) -> Vec<GatewayResponseConfig> {
    let path = fields.path("gateway_responses");
    let mut out = Vec::new();
    for (name, value) in decoder.map_entries(fields.get("gateway_responses"), &path) {
        let Some(response_type) = scalar(decoder, name, &path) else {
            continue;
        };
        let at = format!("{path}.{response_type}");
        let Some(members) = decoder.fields(
            value,
            &at,
            &["status_code", "response_parameters", "response_templates"],
        ) else {
            continue;
        };
        let status_code = optional(decoder, &members, "status_code").map(|(s, _)| s);
        let parameters = text_map(
            decoder,
            members.get("response_parameters"),
            &members.path("response_parameters"),
        );
        let templates = text_map(
            decoder,
            members.get("response_templates"),
            &members.path("response_templates"),
        );
        if let (Some(response_parameters), Some(response_templates)) = (parameters, templates) {
            out.push(GatewayResponseConfig {
                response_type,
                at: pos(name),
                status_code,
                response_parameters,
                response_templates,
            });
        }
    }
    out
}

/// The entry's gateway responses, each through the one constructor.
fn gateway_responses(api: &ApiConfig, problems: &mut Vec<Problem>) -> GatewayResponses {
    let mut out = GatewayResponses::new();
    for config in &api.gateway_responses {
        match CustomGatewayResponse::new(
            &config.response_type,
            config.status_code.as_deref(),
            config.response_parameters.clone(),
            &config.response_templates,
        ) {
            Ok(custom) => {
                out.insert(custom.response_type, custom);
            }
            Err(invalid) => problems.push((
                config.at,
                format!("gateway response {}: {invalid}", config.response_type),
            )),
        }
    }
    out
}

fn authorization_config(decoder: &mut Decoder, fields: &Fields<'_>) -> Option<AuthorizationConfig> {
    let Some(at) = fields.get("authorization") else {
        decoder.missing(fields, "authorization");
        return None;
    };
    let choice = decoder.choice(
        at,
        &fields.path("authorization"),
        &["NONE", "AWS_IAM", "CUSTOM", "JWT", "COGNITO_USER_POOLS"],
    )?;
    let authorizer = optional(decoder, fields, "authorizer");
    let scopes = one_or_many(decoder, fields, "scopes");
    Some(match choice.as_str() {
        "NONE" => AuthorizationConfig::None,
        "AWS_IAM" => AuthorizationConfig::AwsIam,
        "CUSTOM" => AuthorizationConfig::Custom(authorizer),
        other => AuthorizationConfig::Token(other.to_owned(), authorizer, scopes),
    })
}

fn method_config(decoder: &mut Decoder, node: &Node, path: &str) -> Option<MethodConfig> {
    let fields = decoder.fields(
        node,
        path,
        &[
            "path",
            "method",
            "authorization",
            "authorizer",
            "scopes",
            "integration",
            "api_key_required",
        ],
    )?;
    let api_key_required = match optional(decoder, &fields, "api_key_required") {
        None => false,
        Some((text, _)) if text == "true" => true,
        Some((text, _)) if text == "false" => false,
        Some((_, at)) => {
            decoder.error(
                node,
                &format!("{path}.api_key_required"),
                None,
                format!("api_key_required must be true or false (line {})", at.0),
            );
            false
        }
    };
    let resource_path = required(decoder, &fields, "path");
    let method = required(decoder, &fields, "method");
    let authorization = authorization_config(decoder, &fields);
    let integration = integration_member(decoder, &fields);
    let ((path, path_at), (method, method_at)) = (resource_path?, method?);
    let (integration, integration_at) = integration?;
    Some(MethodConfig {
        path,
        path_at,
        method,
        method_at,
        authorization: authorization?,
        integration,
        integration_at,
        api_key_required,
    })
}

fn route_config(decoder: &mut Decoder, node: &Node, path: &str) -> Option<RouteConfig> {
    let fields = decoder.fields(
        node,
        path,
        &[
            "key",
            "authorization",
            "authorizer",
            "scopes",
            "integration",
        ],
    )?;
    let key = required(decoder, &fields, "key");
    let authorization = authorization_config(decoder, &fields);
    let integration = integration_member(decoder, &fields);
    let (key, key_at) = key?;
    let (integration, integration_at) = integration?;
    Some(RouteConfig {
        key,
        key_at,
        authorization: authorization?,
        integration,
        integration_at,
    })
}

fn integration_member(
    decoder: &mut Decoder,
    fields: &Fields<'_>,
) -> Option<(IntegrationConfig, Pos)> {
    let Some(node) = fields.get("integration") else {
        decoder.missing(fields, "integration");
        return None;
    };
    let path = fields.path("integration");
    let Some(kind_node) = node.member("type") else {
        // Reported as a mapping missing `type` (or as no mapping at all).
        let fields = decoder.fields(node, &path, &["type"])?;
        decoder.missing(&fields, "type");
        return None;
    };
    let kind = decoder.choice(
        kind_node,
        &format!("{path}.type"),
        &["MOCK", "HTTP", "HTTP_PROXY", "AWS_PROXY"],
    )?;
    let templated = ["request_templates", "responses", "passthrough_behavior"]
        .iter()
        .any(|member| node.member(member).is_some());
    let integration = match kind.as_str() {
        "MOCK" if templated => mapped_config(decoder, node, &path, "MOCK")?,
        "HTTP" => mapped_config(decoder, node, &path, "HTTP")?,
        "MOCK" => {
            let fields = decoder.fields(node, &path, &["type", "status", "headers", "body"])?;
            let status = match fields.get("status") {
                None => 200,
                Some(at) => match at.value {
                    Value::Int(status) if u16::try_from(status).is_ok() => {
                        u16::try_from(status).unwrap_or(200)
                    }
                    _ => {
                        decoder.error(
                            at,
                            &fields.path("status"),
                            None,
                            format!("expected a status code, found {}", at.type_name()),
                        );
                        return None;
                    }
                },
            };
            let headers_path = fields.path("headers");
            let mut headers = Vec::new();
            for (name, value) in decoder.map_entries(fields.get("headers"), &headers_path) {
                let name = scalar(decoder, name, &headers_path)?;
                let value = scalar(decoder, value, &format!("{headers_path}.{name}"))?;
                headers.push((name, value));
            }
            let body = optional(decoder, &fields, "body").map(|(body, _)| body);
            IntegrationConfig::Mock {
                status,
                headers,
                body: body.unwrap_or_default(),
            }
        }
        "HTTP_PROXY" => {
            let fields = decoder.fields(node, &path, &["type", "uri", "timeout_ms"])?;
            let uri = required(decoder, &fields, "uri");
            let timeout_ms = timeout_ms(decoder, &fields)?;
            IntegrationConfig::HttpProxy {
                uri: uri?.0,
                timeout_ms,
            }
        }
        _ => {
            let fields = decoder.fields(
                node,
                &path,
                &[
                    "type",
                    "endpoint",
                    "function",
                    "payload_format_version",
                    "timeout_ms",
                ],
            )?;
            let timeout_ms = timeout_ms(decoder, &fields)?;
            let endpoint = required(decoder, &fields, "endpoint");
            let function = required(decoder, &fields, "function");
            // `2.0` unquoted is a number to YAML; the version is its text.
            let payload_format_version =
                fields
                    .get("payload_format_version")
                    .and_then(|at| match at.value {
                        Value::Float(version) => Some(format!("{version:.1}")),
                        _ => scalar(decoder, at, &fields.path("payload_format_version")),
                    });
            IntegrationConfig::AwsProxy {
                endpoint: endpoint?.0,
                function: function?.0,
                payload_format_version,
                timeout_ms,
            }
        }
    };
    Some((integration, pos(node)))
}

/// `type: HTTP`, or `type: MOCK` with templates: AWS's fields in the world
/// file's spelling; `responses` keyed by selection pattern (`default`: none)
/// as in OpenAPI. Checked by the one constructor when the API is built.
fn mapped_config(
    decoder: &mut Decoder,
    node: &Node,
    path: &str,
    kind: &str,
) -> Option<IntegrationConfig> {
    let http = kind == "HTTP";
    let members: &[&str] = if http {
        &[
            "type",
            "uri",
            "http_method",
            "timeout_ms",
            "passthrough_behavior",
            "request_parameters",
            "request_templates",
            "responses",
        ]
    } else {
        &[
            "type",
            "passthrough_behavior",
            "request_templates",
            "responses",
        ]
    };
    let fields = decoder.fields(node, path, members)?;
    let uri = if http {
        Some(required(decoder, &fields, "uri")?.0)
    } else {
        None
    };
    let http_method = http.then(|| {
        optional(decoder, &fields, "http_method")
            .map_or_else(|| "ANY".to_owned(), |(m, _)| m.to_ascii_uppercase())
    });
    let timeout_ms = timeout_ms(decoder, &fields)?
        .unwrap_or_else(|| fields::default_timeout_ms(ApiFlavour::Rest));
    let request_templates = text_map(
        decoder,
        fields.get("request_templates"),
        &fields.path("request_templates"),
    )?;
    let request_parameters = text_map(
        decoder,
        fields.get("request_parameters"),
        &fields.path("request_parameters"),
    )?;
    let responses_path = fields.path("responses");
    let mut integration_responses = std::collections::BTreeMap::new();
    for (pattern, response) in decoder.map_entries(fields.get("responses"), &responses_path) {
        let pattern = scalar(decoder, pattern, &responses_path)?;
        let at = format!("{responses_path}.{pattern}");
        let response_fields = decoder.fields(
            response,
            &at,
            &["status", "response_templates", "response_parameters"],
        )?;
        let status = required(decoder, &response_fields, "status")?.0;
        let response_templates = text_map(
            decoder,
            response_fields.get("response_templates"),
            &response_fields.path("response_templates"),
        )?;
        let response_parameters = text_map(
            decoder,
            response_fields.get("response_parameters"),
            &response_fields.path("response_parameters"),
        )?;
        let record = IntegrationResponseRecord {
            status_code: status.clone(),
            content_handling: None,
            selection_pattern: (pattern != "default").then_some(pattern),
            response_parameters,
            response_templates,
            given_empty: Default::default(),
        };
        if integration_responses
            .insert(status.clone(), record)
            .is_some()
        {
            decoder.error(
                response,
                &at,
                None,
                format!("two responses answer with status {status}"),
            );
            return None;
        }
    }
    let passthrough_behavior =
        optional(decoder, &fields, "passthrough_behavior").map(|(p, _)| p.to_ascii_uppercase());
    Some(IntegrationConfig::Mapped(Box::new(IntegrationRecord {
        integration_type: kind.to_owned(),
        http_method,
        uri,
        timeout_ms,
        connection_type: Some("INTERNET".to_owned()),
        credentials: None,
        cache_namespace: None,
        cache_key_parameters: Vec::new(),
        content_handling: None,
        passthrough_behavior,
        request_parameters,
        request_templates,
        integration_responses,
        lambda_endpoint: None,
    })))
}

/// An integration's optional `timeout_ms`; `Err` once reported.
fn timeout_ms(decoder: &mut Decoder, fields: &Fields) -> Option<Option<u64>> {
    let Some(at) = fields.get("timeout_ms") else {
        return Some(None);
    };
    match at.value {
        Value::Int(ms) if u64::try_from(ms).is_ok() => Some(u64::try_from(ms).ok()),
        _ => {
            decoder.error(
                at,
                &fields.path("timeout_ms"),
                None,
                format!(
                    "expected a whole number of milliseconds, found {}",
                    at.type_name()
                ),
            );
            None
        }
    }
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
    /// With where its API keys come from, when said.
    Rest(RestApi, Option<String>),
    Http(HttpApi),
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
    /// API keys and usage plans, by id, and their index
    /// ([`crate::usage::UsageIndex`]).
    pub usage: crate::usage::UsageRegistry,
}

/// A top-level section; `null` (`apis:` with nothing under it) counts as
/// absent.
pub(crate) fn present<'n>(root: &'n Node, section: &str) -> Option<&'n Node> {
    root.member(section)
        .filter(|node| node.value != Value::Null)
}

/// Problems as the text-taking readers report them: path first, position
/// last.
fn as_lines(errors: Vec<ConfigError>) -> Vec<String> {
    errors.iter().map(ConfigError::path_first).collect()
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
        let root = iamgate_yaml::parse(text).map_err(|error| as_lines(vec![error]))?;
        Self::from_tree(&root, read).map_err(as_lines)
    }

    /// Decodes the `apis:` and `domain_names:` sections of a world file
    /// already read into a tree (other sections ignored), with `read`
    /// supplying `openapi:` files. Every problem is reported, in file
    /// order, each at its line and column.
    pub fn from_tree(root: &Node, read: ReadFile) -> Result<ApiRegistry, Vec<ConfigError>> {
        let mut decoder = Decoder::default();
        let mut registry = ApiRegistry::default();
        let mut problems: Vec<ConfigError> = Vec::new();
        let apis = decoder.list(present(root, "apis"), "apis");
        for (index, node) in apis.iter().enumerate() {
            let before = decoder.errors.len();
            let Some(api) = api_config(&mut decoder, node, &format!("apis[{index}]")) else {
                continue;
            };
            if decoder.errors.len() > before {
                continue;
            }
            let at = format!("apis[{index}] ({})", api.id);
            if let Err(found) = registry.add(&api, read) {
                problems.extend(
                    found
                        .into_iter()
                        .map(|((line, column), message)| ConfigError {
                            path: at.clone(),
                            line,
                            column,
                            code: None,
                            message,
                            document_position: None,
                        }),
                );
            }
        }
        match crate::usage_config::from_tree(root) {
            Ok((keys, plans)) => {
                for key in keys {
                    registry.usage.keys.insert(key.id.clone(), Arc::new(key));
                }
                for plan in plans {
                    registry.usage.plans.insert(plan.id.clone(), Arc::new(plan));
                }
                registry.usage.reindex();
            }
            Err(found) => problems.extend(found),
        }
        match crate::domains::from_tree(root) {
            Ok(domains) => {
                for domain in domains {
                    registry
                        .domains
                        .insert(domain.name.clone(), Arc::new(domain));
                }
            }
            Err(found) => problems.extend(found),
        }
        let mut errors = decoder.errors;
        errors.extend(problems);
        if errors.is_empty() {
            Ok(registry)
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(errors)
        }
    }

    fn add(&mut self, api: &ApiConfig, read: ReadFile) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        // AWS's ids are 10 characters; shorter ones from tutorials (`apiid`)
        // are accepted so their examples can be followed as written.
        let id_ok = (1..=64).contains(&api.id.len())
            && api
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !id_ok {
            problems.push((
                api.id_at,
                format!(
                    "API id '{}' must be 1 to 64 characters of a-z and 0-9",
                    api.id
                ),
            ));
        }
        if api.account.len() != 12 || !api.account.bytes().all(|b| b.is_ascii_digit()) {
            problems.push((
                api.account_at,
                format!("account '{}' must be 12 digits", api.account),
            ));
        }
        if self.rest.contains_key(&api.id) || self.http.contains_key(&api.id) {
            problems.push((api.id_at, format!("API id '{}' is declared twice", api.id)));
        }
        let built = match (&api.openapi, api.kind) {
            (Some(file), _) => imported_api(api, file, read),
            (None, Some(ApiKind::Rest)) => rest_api(api)
                .map(|rest| Built::Rest(rest, api.api_key_source.as_ref().map(|(s, _)| s.clone()))),
            (None, Some(ApiKind::Http)) => http_api(api).map(Built::Http),
            (None, None) => Err(vec![(
                api.at,
                "type (REST or HTTP) is required unless the API is imported with openapi:"
                    .to_owned(),
            )]),
        };
        if let (Ok(Built::Http(_)), Some((_, at))) = (&built, &api.api_key_source) {
            problems.push((*at, "HTTP APIs have no API keys".to_owned()));
        }
        match built {
            Ok(Built::Rest(rest, key_source)) if problems.is_empty() => {
                if key_source.as_deref() == Some("AUTHORIZER") {
                    self.usage.key_from_authorizer.insert(api.id.clone());
                }
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

/// The entry's authorizers, each built by the one constructor, by name.
fn authorizers(
    api: &ApiConfig,
    flavour: ApiFlavour,
) -> Result<Vec<LambdaAuthorizer>, Vec<Problem>> {
    let mut built = Vec::new();
    let mut problems = Vec::new();
    for (input, at) in &api.authorizers {
        let mut input = input.clone();
        let name = input.name.clone().unwrap_or_default();
        input.id = crate::registry::stable_id(&format!("{}#authorizer {name}", api.id), 6);
        if let Some(function) = input.uri.take() {
            // `function` names the function; AWS's authorizer URI wraps it.
            input.uri = Some(match crate::fields::lambda_function(&function) {
                Some(lambda) if lambda.via_apigateway => function,
                _ => crate::stored::lambda_uri(&api.region, &function),
            });
        }
        if built.iter().any(|a: &LambdaAuthorizer| a.name == name) {
            problems.push((*at, format!("authorizer '{name}' is declared twice")));
            continue;
        }
        match LambdaAuthorizer::new(flavour, input) {
            Ok(authorizer) => built.push(authorizer),
            Err(invalid) => problems.push((*at, format!("authorizer '{name}': {invalid}"))),
        }
    }
    if problems.is_empty() {
        Ok(built)
    } else {
        Err(problems)
    }
}

/// A method's or route's authorization; a `CUSTOM` one must name one of
/// the entry's authorizers.
fn authorization(
    config: &AuthorizationConfig,
    authorizers: &[LambdaAuthorizer],
    at: Pos,
) -> Result<AuthorizationType, Problem> {
    match config {
        AuthorizationConfig::None => Ok(AuthorizationType::None),
        AuthorizationConfig::AwsIam => Ok(AuthorizationType::AwsIam),
        AuthorizationConfig::Custom(None) => Err((
            at,
            "authorization CUSTOM needs authorizer: (the name of one of the API's authorizers)"
                .to_owned(),
        )),
        AuthorizationConfig::Custom(Some((name, name_at))) => {
            let authorizer = named_authorizer(authorizers, name, *name_at)?;
            if authorizer.kind.validates_tokens() {
                return Err((
                    *name_at,
                    format!(
                        "authorizer '{name}' is of type {}: use authorization: {}",
                        authorizer.kind.as_str(),
                        authorizer.kind.as_str()
                    ),
                ));
            }
            Ok(AuthorizationType::Custom(Box::new(authorizer.clone())))
        }
        AuthorizationConfig::Token(kind, None, _) => Err((
            at,
            format!(
                "authorization {kind} needs authorizer: (the name of one of the API's authorizers)"
            ),
        )),
        AuthorizationConfig::Token(kind, Some((name, name_at)), scopes) => {
            let authorizer = named_authorizer(authorizers, name, *name_at)?;
            if authorizer.kind.as_str() != kind {
                return Err((
                    *name_at,
                    format!(
                        "authorizer '{name}' is of type {}, not {kind}",
                        authorizer.kind.as_str()
                    ),
                ));
            }
            let scopes = crate::authorizers::authorization_scopes(scopes)
                .map_err(|invalid| (at, invalid.0))?;
            Ok(AuthorizationType::Token(Box::new(TokenAuthorization {
                authorizer: authorizer.clone(),
                scopes,
            })))
        }
    }
}

fn named_authorizer<'a>(
    authorizers: &'a [LambdaAuthorizer],
    name: &str,
    at: Pos,
) -> Result<&'a LambdaAuthorizer, Problem> {
    authorizers
        .iter()
        .find(|authorizer| authorizer.name == name)
        .ok_or_else(|| (at, format!("no authorizer named '{name}' is declared")))
}

fn integration(config: &IntegrationConfig, flavour: ApiFlavour) -> Result<Integration, String> {
    let default_format = match flavour {
        ApiFlavour::Rest => PayloadFormat::V1,
        ApiFlavour::Http => PayloadFormat::V2,
    };
    Ok(match config {
        IntegrationConfig::Mapped(record) => match flavour {
            ApiFlavour::Rest => Integration::Mapped(Box::new(
                Mapped::from_record(record).map_err(|invalid| invalid.0)?,
            )),
            ApiFlavour::Http => {
                return Err(format!(
                    "{} integrations with mapping templates are for REST APIs",
                    record.integration_type
                ));
            }
        },
        IntegrationConfig::Mock {
            status,
            headers,
            body,
        } => {
            let mut headers = headers.clone();
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
            let timeout_ms = integration_timeout(*timeout_ms, flavour)?;
            Integration::HttpProxy {
                uri: uri.clone(),
                timeout_ms,
            }
        }
        IntegrationConfig::AwsProxy {
            endpoint,
            function,
            payload_format_version,
            timeout_ms,
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
            let function = fields::function_to_invoke(function).ok_or_else(|| {
                format!("function '{function}' is not a Lambda function name, name:qualifier or function ARN")
            })?;
            Integration::LambdaProxy {
                endpoint: endpoint.clone(),
                function,
                payload_format,
                timeout_ms: integration_timeout(*timeout_ms, flavour)?,
            }
        }
    })
}

/// `timeout_ms` as given, or the flavour's default, within its bounds.
fn integration_timeout(timeout_ms: Option<u64>, flavour: ApiFlavour) -> Result<u64, String> {
    let timeout_ms = timeout_ms.unwrap_or_else(|| fields::default_timeout_ms(flavour));
    fields::integration_timeout(flavour, timeout_ms)
        .map_err(|invalid| format!("timeout_ms {timeout_ms}: {invalid}"))?;
    Ok(timeout_ms)
}

fn endpoint_type(api: &ApiConfig) -> Option<EndpointType> {
    api.endpoint.map(|(kind, _)| kind)
}

const LAMBDA_ENDPOINT_INLINE: &str = "lambda_endpoint is for APIs imported with openapi: (inline AWS_PROXY integrations name their endpoint)";

fn rest_api(api: &ApiConfig) -> Result<RestApi, Vec<Problem>> {
    let mut problems = Vec::new();
    if !api.routes.is_empty() {
        problems.push((
            api.routes_at,
            "a REST API has methods, not routes".to_owned(),
        ));
    }
    if let Some((_, at)) = &api.lambda_endpoint {
        problems.push((*at, LAMBDA_ENDPOINT_INLINE.to_owned()));
    }
    let declared = authorizers(api, ApiFlavour::Rest).unwrap_or_else(|found| {
        problems.extend(found);
        Vec::new()
    });
    let mut methods = Vec::new();
    for method in &api.methods {
        if let Err(invalid) = fields::path_template(ApiFlavour::Rest, "path", &method.path) {
            problems.push((
                method.path_at,
                format!("method {} path: {invalid}", method.method),
            ));
        }
        if !fields::METHODS.contains(&method.method.as_str()) {
            problems.push((
                method.method_at,
                format!(
                    "method '{}' is not one of {}",
                    method.method,
                    fields::METHODS.join(", ")
                ),
            ));
        }
        let authorization = match authorization(&method.authorization, &declared, method.method_at)
        {
            Ok(authorization) => authorization,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        match integration(&method.integration, ApiFlavour::Rest) {
            Ok(integration) => methods.push(Method {
                http_method: method.method.clone(),
                resource_path: method.path.clone(),
                authorization,
                integration,
                api_key_required: method.api_key_required,
                request: Default::default(),
            }),
            Err(problem) => problems.push((method.integration_at, problem)),
        }
    }
    let endpoint = endpoint_type(api).unwrap_or(EndpointType::Regional);
    let gateway_responses = gateway_responses(api, &mut problems);
    deploy_rest(
        api,
        endpoint,
        api.policy.as_ref(),
        methods,
        gateway_responses,
        problems,
    )
}

/// Deploys `methods` and the resource policy to the entry's stages; the
/// one place both inline and imported REST APIs are assembled.
fn deploy_rest(
    api: &ApiConfig,
    endpoint_type: EndpointType,
    policy: Option<&PolicySource>,
    methods: Vec<Method>,
    gateway_responses: GatewayResponses,
    mut problems: Vec<Problem>,
) -> Result<RestApi, Vec<Problem>> {
    if api.stages.is_empty() {
        problems.push((
            api.at,
            "a REST API needs at least one stage to be served".to_owned(),
        ));
    }
    for (name, at) in &api.stages {
        if let Err(invalid) = fields::stage_name(name, false) {
            problems.push((*at, invalid.0));
        }
    }
    let mut policy_text = None;
    let policy = match policy {
        None => {
            if endpoint_type == EndpointType::Private {
                let at = api.endpoint.map_or(api.at, |(_, at)| at);
                problems.push((
                    at,
                    "a PRIVATE API cannot be deployed without a resource policy".to_owned(),
                ));
            }
            None
        }
        Some(source) => {
            let expanded = expand_shorthand(&source.text, &api.region, &api.account, &api.id);
            let compiled = compile_resource_policy(&expanded);
            policy_text = Some(expanded);
            match compiled {
                Ok(compiled) => Some(compiled),
                Err(errors) => {
                    problems.extend(errors.iter().map(|e| policy_problem(source, e)));
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
    let gateway_responses = Arc::new(gateway_responses);
    let stages = api
        .stages
        .iter()
        .map(|(name, _)| {
            (
                name.clone(),
                RestStage {
                    name: name.clone(),
                    root: root.clone(),
                    policy: policy.clone(),
                    policy_text: policy_text.clone(),
                    variables: Vec::new(),
                    gateway_responses: gateway_responses.clone(),
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

/// A policy error at its place: inside a YAML mapping, the line it came
/// from; in JSON text, the text's place and the position inside it.
fn policy_problem(source: &PolicySource, error: &ValidationError) -> Problem {
    match source.origins.as_ref().and_then(|o| o.origin(error.line)) {
        Some(at) => (at, format!("{}: {}", source.label, error.message)),
        None => (
            source.at,
            format!(
                "{} {}:{}: {}",
                source.label, error.line, error.column, error.message
            ),
        ),
    }
}

fn http_api(api: &ApiConfig) -> Result<HttpApi, Vec<Problem>> {
    let mut problems = Vec::new();
    if let Some(policy) = &api.policy {
        // AWS: resource policies aren't supported for HTTP APIs.
        problems.push((
            policy.at,
            "HTTP APIs do not support resource policies".to_owned(),
        ));
    }
    if !api.methods.is_empty() {
        problems.push((
            api.methods_at,
            "an HTTP API has routes, not methods".to_owned(),
        ));
    }
    if !api.gateway_responses.is_empty() {
        problems.push((
            api.gateway_responses_at,
            "HTTP APIs have no gateway responses".to_owned(),
        ));
    }
    if let Some((_, at)) = &api.lambda_endpoint {
        problems.push((*at, LAMBDA_ENDPOINT_INLINE.to_owned()));
    }
    let declared = authorizers(api, ApiFlavour::Http).unwrap_or_else(|found| {
        problems.extend(found);
        Vec::new()
    });
    let mut routes = Vec::new();
    for route in &api.routes {
        let authorization = match authorization(&route.authorization, &declared, route.key_at) {
            Ok(authorization) => authorization,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let integration = match integration(&route.integration, ApiFlavour::Http) {
            Ok(integration) => integration,
            Err(problem) => {
                problems.push((route.integration_at, problem));
                continue;
            }
        };
        match fields::route_key(&route.key) {
            Ok((method, path)) => routes.push(Route {
                key: route.key.clone(),
                method,
                path,
                authorization,
                integration,
            }),
            Err(invalid) => problems.push((
                route.key_at,
                format!("route key '{}': {invalid}", route.key),
            )),
        }
    }
    deploy_http(api, routes, problems)
}

/// Deploys `routes` to the entry's stages (`$default` if none is named).
fn deploy_http(
    api: &ApiConfig,
    routes: Vec<Route>,
    mut problems: Vec<Problem>,
) -> Result<HttpApi, Vec<Problem>> {
    for (name, at) in &api.stages {
        if let Err(invalid) = fields::stage_name(name, true) {
            problems.push((*at, invalid.0));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut names: Vec<String> = api.stages.iter().map(|(name, _)| name.clone()).collect();
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
/// The file's own problems are reported at the `openapi:` member, with
/// their place inside the file.
fn imported_api(
    api: &ApiConfig,
    file: &(String, Pos),
    read: ReadFile,
) -> Result<Built, Vec<Problem>> {
    let (file, file_at) = (&file.0, file.1);
    let mut problems = Vec::new();
    if !api.methods.is_empty()
        || !api.routes.is_empty()
        || api.policy.is_some()
        || !api.authorizers.is_empty()
        || !api.gateway_responses.is_empty()
    {
        problems.push((
            api.at,
            format!(
                "methods, routes, authorizers, policy and gateway responses come from the OpenAPI file {file}, not the world file"
            ),
        ));
    }
    if let Some((endpoint, at)) = &api.lambda_endpoint
        && !endpoint.starts_with("http://")
    {
        problems.push((
            *at,
            format!("lambda_endpoint '{endpoint}' must be an http:// URL"),
        ));
    }
    let text = match read(file) {
        Ok(text) => text,
        Err(problem) => {
            problems.push((file_at, problem));
            return Err(problems);
        }
    };
    let options = ImportOptions {
        flavour: api.kind.map(|kind| match kind {
            ApiKind::Rest => ApiFlavour::Rest,
            ApiKind::Http => ApiFlavour::Http,
        }),
        lambda_endpoint: api.lambda_endpoint.as_ref().map(|(e, _)| e.clone()),
    };
    let imported = match openapi::import(&text, &options) {
        Ok(imported) => imported,
        Err(error) => {
            problems.extend(
                error
                    .problems
                    .iter()
                    .map(|problem| (file_at, format!("openapi {file}: {problem}"))),
            );
            return Err(problems);
        }
    };
    match imported.flavour {
        ApiFlavour::Rest => {
            let endpoint = match (endpoint_type(api), imported.endpoint_type) {
                (Some(ours), Some(theirs)) if ours != theirs => {
                    let at = api.endpoint.map_or(file_at, |(_, at)| at);
                    problems.push((
                        at,
                        format!("endpoint {ours:?} differs from the OpenAPI file's {theirs:?}"),
                    ));
                    ours
                }
                (Some(kind), _) | (None, Some(kind)) => kind,
                (None, None) => EndpointType::Regional,
            };
            let policy = imported.policy.as_ref().map(|value| PolicySource {
                text: match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                },
                label: format!("openapi {file}: $['x-amazon-apigateway-policy']"),
                at: file_at,
                origins: None,
            });
            let key_source = match (&api.api_key_source, imported.api_key_source) {
                (Some((ours, at)), Some(theirs)) if *ours != theirs => {
                    problems.push((
                        *at,
                        format!("api_key_source {ours} differs from the OpenAPI file's {theirs}"),
                    ));
                    None
                }
                (Some((ours, _)), _) => Some(ours.clone()),
                (None, theirs) => theirs,
            };
            deploy_rest(
                api,
                endpoint,
                policy.as_ref(),
                imported.methods,
                imported.gateway_responses,
                problems,
            )
            .map(|rest| Built::Rest(rest, key_source))
        }
        ApiFlavour::Http => {
            if let Some((_, at)) = api.endpoint {
                problems.push((at, "HTTP APIs have no endpoint type to choose".to_owned()));
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
    fn a_world_file_takes_mock_and_http_integrations_with_templates_as_the_control_plane_stores_them()
     {
        let file = r#"
apis:
  - id: t1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    methods:
      - path: "/pets/{id}"
        method: GET
        authorization: AWS_IAM
        integration:
          type: MOCK
          request_templates: { application/json: '{"statusCode": 200}' }
          responses:
            default:
              status: 200
              response_templates: { application/json: '{"id": $input.params(''id'')}' }
              response_parameters: { method.response.header.X-Pet: "'yes'" }
      - path: /orders
        method: POST
        authorization: NONE
        integration:
          type: HTTP
          uri: "http://127.0.0.1:9/orders"
          passthrough_behavior: never
          request_templates: { application/json: '$input.body' }
          responses: { "2\\d\\d": { status: 201 } }
"#;
        let registry = ApiRegistry::from_world_file(file).unwrap();
        let root = &registry.rest["t1b2c3d4e5"].stages["prod"].root;
        let mut records = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for method in &node.methods {
                let Integration::Mapped(mapped) = &method.integration else {
                    panic!("{:?}", method.integration)
                };
                records.push((method.resource_path.clone(), mapped.to_record()));
            }
            stack.extend(node.children.iter());
        }
        records.sort_by(|a, b| a.0.cmp(&b.0));
        let (_, orders) = &records[0];
        assert_eq!(orders.integration_type, "HTTP");
        assert_eq!(orders.http_method.as_deref(), Some("ANY"));
        assert_eq!(orders.passthrough_behavior.as_deref(), Some("NEVER"));
        assert_eq!(
            orders.integration_responses["201"]
                .selection_pattern
                .as_deref(),
            Some("2\\d\\d")
        );
        let (_, pet) = &records[1];
        assert_eq!(
            pet.integration_responses["200"].response_templates["application/json"],
            "{\"id\": $input.params('id')}"
        );
        assert_eq!(
            pet.integration_responses["200"].response_parameters["method.response.header.X-Pet"],
            "'yes'"
        );

        let broken = file.replace("$input.body", "#if($x)");
        let errors = ApiRegistry::from_world_file(&broken).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains(
                "Invalid mapping template specified for content type 'application/json'"
            )),
            "{errors:?}"
        );
        let on_http_api = "apis:\n  - { id: h1b2c3d4e5, type: HTTP, account: \"111122223333\", region: us-east-1, routes: [{ key: GET /, authorization: NONE, integration: { type: HTTP, uri: \"http://127.0.0.1:9/\" } }] }\n";
        let errors = ApiRegistry::from_world_file(on_http_api).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("are for REST APIs")),
            "{errors:?}"
        );
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
    fn a_rest_api_declares_gateway_responses_that_every_stage_serves() {
        let file = r#"
apis:
  - id: g1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod, test]
    methods:
      - { path: "/", method: GET, authorization: AWS_IAM, integration: { type: MOCK } }
    gateway_responses:
      ACCESS_DENIED:
        status_code: 401
        response_parameters: { gatewayresponse.header.X-Why: "'denied'" }
        response_templates: { application/json: '{"why":"$context.error.message"}' }
      DEFAULT_4XX: {}
"#;
        let registry = ApiRegistry::from_world_file(file).unwrap();
        let api = &registry.rest["g1b2c3d4e5"];
        for stage in ["prod", "test"] {
            let responses = &api.stages[stage].gateway_responses;
            assert_eq!(responses.len(), 2);
            let denied = &responses[&crate::gateway_responses::ResponseType::AccessDenied];
            assert_eq!(denied.status_code, Some(401));
            assert_eq!(
                denied.template_texts()["application/json"],
                r#"{"why":"$context.error.message"}"#
            );
        }
        let (records, _) = crate::registry::declared_records(&registry, |_, _, _| 0);
        let record = &records[0];
        assert_eq!(record.gateway_responses.len(), 2);
        assert!(
            record
                .deployments
                .values()
                .all(|d| d.gateway_responses == record.gateway_responses)
        );
    }

    #[test]
    fn bad_gateway_responses_are_reported_at_their_entry() {
        let file = r##"
apis:
  - id: g1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    gateway_responses:
      NOPE: {}
      DEFAULT_4XX: { status_code: 700 }
      DEFAULT_5XX: { response_templates: { application/json: "#if(" } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    gateway_responses: { DEFAULT_4XX: {} }
"##;
        let errors = ApiRegistry::from_world_file(file).unwrap_err();
        let all = errors.join("\n");
        for expected in [
            "gateway response NOPE: 1 validation error detected: Value 'NOPE' at 'responseType'",
            "gateway response DEFAULT_4XX: 1 validation error detected: Value '700' at 'statusCode'",
            "gateway response DEFAULT_5XX: Invalid mapping template specified",
            "HTTP APIs have no gateway responses",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        let unknown_member = file.replace("NOPE: {}", "ACCESS_DENIED: { colour: red }");
        let errors = ApiRegistry::from_world_file(&unknown_member).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e
                    .starts_with("apis[0].gateway_responses.ACCESS_DENIED.colour: unknown field")),
            "{errors:?}"
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
    fn custom_methods_and_routes_name_an_authorizer_of_their_api() {
        let file = r#"
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    authorizers:
      - { name: tok, type: TOKEN, function: auth, lambda_endpoint: "http://127.0.0.1:9001",
          identity_source: method.request.header.Authorization, validation_expression: "Bearer .+", ttl: 0 }
    methods:
      - { path: /, method: GET, authorization: CUSTOM, authorizer: tok, integration: { type: MOCK } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - { name: req, type: REQUEST, function: "arn:aws:lambda:us-east-1:111122223333:function:auth",
          identity_source: [$request.header.Authorization], payload_format_version: "2.0", simple_responses: true }
    routes:
      - { key: GET /, authorization: CUSTOM, authorizer: req, integration: { type: MOCK } }
"#;
        let registry = ApiRegistry::from_world_file(file).unwrap();
        let stage = &registry.rest["a1b2c3d4e5"].stages["prod"];
        let authorizer = stage.root.methods[0].authorization.authorizer().unwrap();
        assert_eq!(authorizer.function, "auth");
        assert_eq!(
            authorizer.uri,
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/auth/invocations"
        );
        assert_eq!(authorizer.endpoint, "http://127.0.0.1:9001");
        assert_eq!(authorizer.ttl_seconds, 0);
        let route = &registry.http["h1b2c3d4e5"].stages["$default"].routes[0];
        assert!(route.authorization.authorizer().unwrap().simple_responses);

        let unknown = file.replace("authorizer: tok", "authorizer: nobody");
        let all = ApiRegistry::from_world_file(&unknown)
            .unwrap_err()
            .join("\n");
        assert!(all.contains("no authorizer named 'nobody'"), "{all}");
        let missing = file.replace(", authorizer: tok", "");
        let all = ApiRegistry::from_world_file(&missing)
            .unwrap_err()
            .join("\n");
        assert!(
            all.contains("authorization CUSTOM needs authorizer:"),
            "{all}"
        );
        let jwt = file.replace("type: REQUEST", "type: JWT");
        let all = ApiRegistry::from_world_file(&jwt).unwrap_err().join("\n");
        assert!(
            all.contains("JwtConfiguration.Issuer must be specified"),
            "{all}"
        );
    }

    #[test]
    fn user_pool_and_jwt_authorizers_are_declared_with_their_scopes() {
        let file = r#"
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    authorizers:
      - { name: pool, type: COGNITO_USER_POOLS, identity_source: method.request.header.Authorization,
          provider_arns: ["arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Pool1"],
          jwks_url: "http://127.0.0.1:9000/keys" }
    methods:
      - { path: /, method: GET, authorization: COGNITO_USER_POOLS, authorizer: pool, scopes: [pets/read],
          integration: { type: MOCK } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    authorizers:
      - { name: jwt, type: JWT, identity_source: $request.header.Authorization,
          issuer: "https://issuer.example.com", audience: [client-a] }
    routes:
      - { key: GET /, authorization: JWT, authorizer: jwt, scopes: read, integration: { type: MOCK } }
"#;
        let registry = ApiRegistry::from_world_file(file).unwrap();
        let method = &registry.rest["a1b2c3d4e5"].stages["prod"].root.methods[0];
        let token = method.authorization.token_authorization().unwrap();
        assert_eq!(method.authorization.as_str(), "COGNITO_USER_POOLS");
        assert_eq!(token.scopes, vec!["pets/read"]);
        let tokens = token.authorizer.tokens.as_ref().unwrap();
        assert_eq!(
            tokens.issuers,
            vec!["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"]
        );
        assert_eq!(
            tokens.jwks_url.as_deref(),
            Some("http://127.0.0.1:9000/keys")
        );
        let route = &registry.http["h1b2c3d4e5"].stages["$default"].routes[0];
        assert_eq!(route.authorization.as_str(), "JWT");
        assert_eq!(route.authorization.scopes(), ["read"]);

        // A JWT route naming a Lambda authorizer, or CUSTOM naming a JWT one.
        let crossed = file.replace("authorization: JWT", "authorization: CUSTOM");
        let all = ApiRegistry::from_world_file(&crossed)
            .unwrap_err()
            .join("\n");
        assert!(all.contains("use authorization: JWT"), "{all}");
        let no_audience = file.replace(", audience: [client-a]", "");
        let all = ApiRegistry::from_world_file(&no_audience)
            .unwrap_err()
            .join("\n");
        assert!(
            all.contains("Audience must have at least one entry"),
            "{all}"
        );
        let bad_pool = file.replace("userpool/us-east-1_Pool1", "userpool/eu-west-1_Pool1");
        let all = ApiRegistry::from_world_file(&bad_pool)
            .unwrap_err()
            .join("\n");
        assert!(all.contains("Invalid provider ARN"), "{all}");
        let spaced = file.replace("scopes: read", "scopes: \"read write\"");
        let all = ApiRegistry::from_world_file(&spaced)
            .unwrap_err()
            .join("\n");
        assert!(all.contains("Invalid authorization scope"), "{all}");
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
