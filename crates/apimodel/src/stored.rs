//! APIs as the store keeps them: one document per API.
//!
//! An API's document holds its editable definition (the control plane's
//! resources, methods and integrations, or routes and integrations), its
//! deployments and its stages. Keeping all of it in one entity makes every
//! control-plane call one conditional write of one document, so a
//! deployment and the stage that points at it change together or not at
//! all. A deployment freezes the definition as the data plane serves it
//! (the [`crate::model`] tree, with the resource policy's text), which is
//! why a policy edit takes effect only on the next deployment, as on AWS.
//!
//! Store address: kind [`REST_API_KIND`] / [`HTTP_API_KIND`], scope the
//! owning account, key the API id. Custom domain names are kind
//! [`DOMAIN_NAME_KIND`], keyed by the domain name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::authorizers::LambdaAuthorizer;
use crate::gateway_responses::GatewayResponses;
use crate::model::{
    AuthorizationType, EndpointType, Integration, Method, PathPart, PayloadFormat, Resource, Route,
    TokenAuthorization,
};
use crate::validation::{MethodRequest, RequestValidator, RestModel, frozen_models};

pub const REST_API_KIND: &str = "restapi";
pub const HTTP_API_KIND: &str = "httpapi";
pub const DOMAIN_NAME_KIND: &str = "domainname";

/// A REST API (`apigateway`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApiRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    #[serde(default)]
    pub version: Option<String>,
    pub endpoint_type: EndpointType,
    #[serde(default)]
    pub vpc_endpoint_ids: Vec<String>,
    /// `ipv4` or `dualstack` (`endpointConfiguration.ipAddressType`);
    /// `None` for what the endpoint type implies
    /// ([`RestApiRecord::ip_address_type`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    /// Bodies at least this large are compressed (0 to 10485760 bytes);
    /// `None`: compression off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_compression_size: Option<u32>,
    /// The resource policy, shorthand resources expanded to full ARNs.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub disable_execute_api_endpoint: bool,
    #[serde(default)]
    pub api_key_source: Option<String>,
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub root_resource_id: String,
    /// Lambda authorizers, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, LambdaAuthorizer>,
    /// The editable resource tree, by resource id.
    pub resources: BTreeMap<String, ResourceRecord>,
    #[serde(default)]
    pub deployments: BTreeMap<String, RestDeployment>,
    #[serde(default)]
    pub stages: BTreeMap<String, StageRecord>,
    /// The customized gateway responses (editable; frozen by a deployment).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gateway_responses: GatewayResponses,
    /// Models, by name (the built-in `Empty` and `Error` are not stored:
    /// [`RestApiRecord::model`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, RestModel>,
    /// Request validators, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_validators: BTreeMap<String, RequestValidator>,
}

/// One resource of the editable tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub id: String,
    /// `None` for the root resource.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// `None` for the root; `pets`, `{petId}` or `{proxy+}` otherwise.
    #[serde(default)]
    pub path_part: Option<String>,
    /// The full template path (`/pets/{petId}`).
    pub path: String,
    /// By HTTP method (`GET`, …, `ANY`).
    #[serde(default)]
    pub methods: BTreeMap<String, MethodRecord>,
}

impl ResourceRecord {
    /// The root resource `/` with id `id`, as a new REST API starts.
    pub fn root(id: &str) -> ResourceRecord {
        ResourceRecord {
            id: id.to_owned(),
            parent_id: None,
            path_part: None,
            path: "/".to_owned(),
            methods: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodRecord {
    pub http_method: String,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS` as given.
    pub authorization_type: String,
    /// The authorizer of a `CUSTOM` or `COGNITO_USER_POOLS` method.
    #[serde(default)]
    pub authorizer_id: Option<String>,
    /// `authorizationScopes` of a `COGNITO_USER_POOLS` method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, bool>,
    /// Model names by content type (`requestModels`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_models: BTreeMap<String, String>,
    /// The request validator that checks the method's requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_validator_id: Option<String>,
    #[serde(default)]
    pub method_responses: BTreeMap<String, MethodResponseRecord>,
    #[serde(default)]
    pub integration: Option<IntegrationRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodResponseRecord {
    pub status_code: String,
    /// `None` when never given: AWS echoes a map given empty as `{}`.
    #[serde(default)]
    pub response_parameters: Option<BTreeMap<String, bool>>,
    #[serde(default)]
    pub response_models: Option<BTreeMap<String, String>>,
}

/// A REST method's integration, as `PutIntegration` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    /// `MOCK`, `HTTP_PROXY`, `AWS_PROXY`, `HTTP` or `AWS` as given; the
    /// first three can be deployed.
    pub integration_type: String,
    #[serde(default)]
    pub http_method: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    pub timeout_ms: u64,
    #[serde(default)]
    pub connection_type: Option<String>,
    /// The role API Gateway assumes to call the backend (`credentials`),
    /// kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// `cacheNamespace`: AWS makes it the resource's id when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_key_parameters: Vec<String>,
    /// `CONVERT_TO_BINARY` or `CONVERT_TO_TEXT` (`contentHandling`), kept
    /// as given; the data plane passes payloads through unconverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    #[serde(default)]
    pub passthrough_behavior: Option<String>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub request_templates: BTreeMap<String, String>,
    #[serde(default)]
    pub integration_responses: BTreeMap<String, IntegrationResponseRecord>,
    /// Where the Lambda Invoke API of an `AWS_PROXY` integration is served;
    /// `None` uses the server's `--lambda-endpoint`. (No AWS field: on AWS
    /// the region decides.)
    #[serde(default)]
    pub lambda_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationResponseRecord {
    pub status_code: String,
    /// As [`IntegrationRecord::content_handling`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling: Option<String>,
    #[serde(default)]
    pub selection_pattern: Option<String>,
    #[serde(default)]
    pub response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub response_templates: BTreeMap<String, String>,
    /// Which of the maps above were given empty (`{}`): AWS echoes a map
    /// given empty, and leaves out one never given.
    #[serde(default, skip_serializing_if = "GivenEmpty::is_none")]
    pub given_empty: GivenEmpty,
}

/// Maps given as `{}` rather than left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenEmpty {
    #[serde(default)]
    pub response_parameters: bool,
    #[serde(default)]
    pub response_templates: bool,
}

impl GivenEmpty {
    pub fn is_none(&self) -> bool {
        !self.response_parameters && !self.response_templates
    }
}

/// What a REST deployment froze: the tree the data plane serves and the
/// resource policy at that moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestDeployment {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    pub root: Resource,
    #[serde(default)]
    pub policy: Option<String>,
    /// The gateway responses customized when it was made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gateway_responses: GatewayResponses,
}

/// A stage: a name bound to a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: String,
    /// `None` only for an HTTP API stage not deployed yet.
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    pub last_updated: i64,
    /// HTTP APIs: deploy on every change.
    #[serde(default)]
    pub auto_deploy: bool,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Throttles of the stage's methods or routes: REST `methodSettings`
    /// keys (`*/*`, `~1pets/GET`), HTTP route keys (`GET /pets`) or
    /// `$default` for `defaultRouteSettings`. Unlike the definition, they
    /// apply without a deployment, as on AWS.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, crate::usage::Throttle>,
}

/// An HTTP API (`apigatewayv2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpApiRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub disable_execute_api_endpoint: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// By route id.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteRecord>,
    /// By integration id.
    #[serde(default)]
    pub integrations: BTreeMap<String, HttpIntegrationRecord>,
    /// Lambda authorizers, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, LambdaAuthorizer>,
    #[serde(default)]
    pub deployments: BTreeMap<String, HttpDeployment>,
    #[serde(default)]
    pub stages: BTreeMap<String, StageRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteRecord {
    pub id: String,
    /// `GET /pets/{id}`, `ANY /{proxy+}` or `$default`.
    pub route_key: String,
    /// `NONE`, `AWS_IAM`, `JWT` or `CUSTOM` as given.
    pub authorization_type: String,
    /// The authorizer of a `CUSTOM` or `JWT` route.
    #[serde(default)]
    pub authorizer_id: Option<String>,
    /// `AuthorizationScopes` of a `JWT` route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    /// `integrations/{id}`.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub api_key_required: bool,
    #[serde(default)]
    pub operation_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpIntegrationRecord {
    pub id: String,
    /// `HTTP_PROXY`, `AWS_PROXY` (or `MOCK`, an iamgate convenience the
    /// world file uses).
    pub integration_type: String,
    #[serde(default)]
    pub integration_uri: Option<String>,
    #[serde(default)]
    pub integration_method: Option<String>,
    /// `1.0` or `2.0`.
    pub payload_format_version: String,
    pub timeout_ms: u64,
    #[serde(default)]
    pub connection_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// MOCK only: the fixed answer.
    #[serde(default)]
    pub mock: Option<MockAnswer>,
    /// As [`IntegrationRecord::lambda_endpoint`].
    #[serde(default)]
    pub lambda_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MockAnswer {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpDeployment {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub auto_deployed: bool,
    pub routes: Vec<Route>,
}

/// A custom domain name and the APIs mapped under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainNameRecord {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_at: i64,
    pub endpoint_type: EndpointType,
    /// By base path; `""` is the `(none)` catch-all.
    #[serde(default)]
    pub mappings: BTreeMap<String, ApiMapping>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The certificate served for this name over TLS, chosen by SNI; the
    /// server's own (`--tls-cert`) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateFiles>,
    /// Mutual TLS: the PEM bundle a client's certificate must chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore: Option<String>,
}

/// A certificate chain and its private key, as PEM files named as the
/// world file names them (relative to it). Only the names are stored:
/// the server reads the files, and reads them again when they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFiles {
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiMapping {
    pub id: String,
    pub api_id: String,
    pub stage: String,
}

/// Why a definition cannot be deployed: AWS's `BadRequestException`
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDeployable(pub String);

impl RestApiRecord {
    /// The model `name`: a stored one, or a built-in one (`Empty`,
    /// `Error`) every API has.
    pub fn model(&self, name: &str) -> Option<RestModel> {
        self.models
            .get(name)
            .cloned()
            .or_else(|| RestModel::built_in(&self.id, name))
    }

    /// What `method` checks of a request once deployed: its validator and
    /// the models it names (with those they refer to), as they are now.
    pub fn method_request(&self, method: &MethodRecord) -> Result<MethodRequest, NotDeployable> {
        let validator = match &method.request_validator_id {
            None => None,
            Some(id) => Some(self.request_validators.get(id).cloned().ok_or_else(|| {
                NotDeployable("Invalid Request Validator identifier specified".to_owned())
            })?),
        };
        let schemas = frozen_models(method.request_models.values(), &|name| self.model(name))
            .map_err(|name| NotDeployable(format!("Invalid model identifier specified: {name}")))?;
        Ok(MethodRequest {
            parameters: method.request_parameters.clone(),
            models: method.request_models.clone(),
            validator,
            schemas,
        })
    }

    /// The tree a deployment made now would freeze. AWS refuses to deploy
    /// an API without methods, or with a method that has no integration.
    pub fn deployable_tree(&self) -> Result<Resource, NotDeployable> {
        if self.endpoint_type == EndpointType::Private && self.policy.is_none() {
            return Err(NotDeployable(
                "Private REST API doesn't have a resource policy attached to it".to_owned(),
            ));
        }
        let mut root = Resource::root();
        let mut methods = 0;
        for resource in self.resources.values() {
            let parts = crate::model::parse_template(&resource.path);
            for method in resource.methods.values() {
                let integration = method
                    .integration
                    .as_ref()
                    .ok_or_else(|| NotDeployable("No integration defined for method".to_owned()))?;
                root.add(
                    &parts,
                    Method {
                        http_method: method.http_method.clone(),
                        resource_path: resource.path.clone(),
                        authorization: authorization(
                            &method.authorization_type,
                            method.authorizer_id.as_deref(),
                            &method.authorization_scopes,
                            &self.authorizers,
                        )?,
                        integration: rest_integration(integration)?,
                        api_key_required: method.api_key_required,
                        request: self.method_request(method)?,
                    },
                );
                methods += 1;
            }
        }
        if methods == 0 {
            return Err(NotDeployable(
                "The REST API doesn't contain any methods".to_owned(),
            ));
        }
        Ok(root)
    }

    /// The editable tree of a declared (world file or imported) API, with
    /// resource ids derived from `id_of` so the same declaration always
    /// yields the same document.
    pub fn resources_from_tree(
        root: &Resource,
        region: &str,
        mut id_of: impl FnMut(&str) -> String,
    ) -> (String, BTreeMap<String, ResourceRecord>) {
        let mut resources = BTreeMap::new();
        let root_id = id_of("/");
        let mut walk = TreeWalk {
            region,
            id_of: &mut id_of,
            out: &mut resources,
        };
        walk.add(root, None, "", &root_id);
        (root_id, resources)
    }
}

/// Turns a model tree into resource records, depth first.
struct TreeWalk<'a, F> {
    region: &'a str,
    id_of: &'a mut F,
    out: &'a mut BTreeMap<String, ResourceRecord>,
}

impl<F: FnMut(&str) -> String> TreeWalk<'_, F> {
    fn add(&mut self, node: &Resource, parent_id: Option<&str>, parent_path: &str, id: &str) {
        let path_part = node.part.as_ref().map(path_part_text);
        let path = match &path_part {
            None => "/".to_owned(),
            Some(part) => format!("{}/{part}", parent_path.trim_end_matches('/')),
        };
        let methods = node
            .methods
            .iter()
            .map(|m| (m.http_method.clone(), method_record(m, self.region)))
            .collect();
        for child in &node.children {
            let child_path = format!(
                "{}/{}",
                path.trim_end_matches('/'),
                child.part.as_ref().map(path_part_text).unwrap_or_default()
            );
            let child_id = (self.id_of)(&child_path);
            self.add(child, Some(id), &path, &child_id);
        }
        self.out.insert(
            id.to_owned(),
            ResourceRecord {
                id: id.to_owned(),
                parent_id: parent_id.map(str::to_owned),
                path_part,
                path,
                methods,
            },
        );
    }
}

fn path_part_text(part: &PathPart) -> String {
    match part {
        PathPart::Literal(text) => text.clone(),
        PathPart::Param(name) => format!("{{{name}}}"),
        PathPart::Greedy(name) => format!("{{{name}+}}"),
    }
}

/// What a method or route deploys as: a `CUSTOM`, `JWT` or
/// `COGNITO_USER_POOLS` one freezes its authorizer, which must exist and
/// be of that type.
fn authorization(
    text: &str,
    authorizer_id: Option<&str>,
    scopes: &[String],
    authorizers: &BTreeMap<String, LambdaAuthorizer>,
) -> Result<AuthorizationType, NotDeployable> {
    let authorizer = || {
        authorizer_id
            .and_then(|id| authorizers.get(id))
            .ok_or_else(|| NotDeployable("Invalid authorizer ID specified".to_owned()))
    };
    match text {
        "NONE" => Ok(AuthorizationType::None),
        "AWS_IAM" => Ok(AuthorizationType::AwsIam),
        "CUSTOM" => authorizer().and_then(|authorizer| {
            (!authorizer.kind.validates_tokens())
                .then(|| AuthorizationType::Custom(Box::new(authorizer.clone())))
                .ok_or_else(|| NotDeployable("Invalid authorizer ID specified".to_owned()))
        }),
        "JWT" | "COGNITO_USER_POOLS" => authorizer().and_then(|authorizer| {
            if authorizer.kind.as_str() != text {
                return Err(NotDeployable(format!(
                    "Authorizer {} is not of type {text}",
                    authorizer.id
                )));
            }
            Ok(AuthorizationType::Token(Box::new(TokenAuthorization {
                authorizer: authorizer.clone(),
                scopes: crate::authorizers::authorization_scopes(scopes)
                    .map_err(|invalid| NotDeployable(invalid.0))?,
            })))
        }),
        // Fail closed: an authorizer iamgate does not run never lets a
        // request through.
        other => Err(NotDeployable(format!(
            "Authorization type {other} is not supported by iamgate"
        ))),
    }
}

/// The authorizers a declared tree's `CUSTOM` methods (or routes) use, by
/// id: what a declared API's document keeps, so the control planes show
/// them.
pub fn declared_authorizers<'a>(
    used: impl IntoIterator<Item = &'a AuthorizationType>,
) -> BTreeMap<String, LambdaAuthorizer> {
    used.into_iter()
        .filter_map(AuthorizationType::any_authorizer)
        .map(|authorizer| (authorizer.id.clone(), authorizer.clone()))
        .collect()
}

/// The Lambda function a REST `AWS_PROXY` integration URI names, as
/// written inside
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn}/invocations`
/// (the only form REST APIs take), read by the one parser
/// ([`crate::fields::lambda_function`]).
fn rest_lambda_function(uri: &str) -> Option<String> {
    crate::fields::lambda_function(uri)
        .filter(|lambda| lambda.via_apigateway)
        .and_then(|lambda| lambda.to_invoke())
}

/// `arn:aws:apigateway:{region}:lambda:path/…/functions/{function}/invocations`
/// for a function given by name or ARN.
pub fn lambda_uri(region: &str, function: &str) -> String {
    format!("arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations")
}

fn rest_integration(record: &IntegrationRecord) -> Result<Integration, NotDeployable> {
    match record.integration_type.as_str() {
        "MOCK" | "HTTP" => crate::mapping::Mapped::from_record(record)
            .map(|mapped| Integration::Mapped(Box::new(mapped)))
            .map_err(|invalid| NotDeployable(invalid.0)),
        "HTTP_PROXY" => {
            let uri = record
                .uri
                .clone()
                .ok_or_else(|| NotDeployable("Integration URI is required".to_owned()))?;
            Ok(Integration::HttpProxy {
                uri,
                timeout_ms: record.timeout_ms,
            })
        }
        "AWS_PROXY" => {
            let function = record
                .uri
                .as_deref()
                .and_then(rest_lambda_function)
                .ok_or_else(|| NotDeployable("Invalid Lambda function URI".to_owned()))?;
            Ok(Integration::LambdaProxy {
                // Empty: the server's `--lambda-endpoint`.
                endpoint: record.lambda_endpoint.clone().unwrap_or_default(),
                function,
                payload_format: PayloadFormat::V1,
                timeout_ms: record.timeout_ms,
            })
        }
        other => Err(NotDeployable(format!(
            "Integration type {other} is not supported by iamgate"
        ))),
    }
}

/// A MOCK answer's headers must be sendable: they are checked when stored
/// ([`crate::fields`]); checked again here so a document stored before
/// those checks is refused at deployment rather than served broken.
fn check_mock(integration: &Integration) -> Result<(), NotDeployable> {
    match integration {
        Integration::Mock { headers, .. } => {
            crate::fields::mock_headers(headers).map_err(|invalid| NotDeployable(invalid.0))
        }
        _ => Ok(()),
    }
}

fn method_record(method: &Method, region: &str) -> MethodRecord {
    MethodRecord {
        http_method: method.http_method.clone(),
        authorization_type: method.authorization.as_str().to_owned(),
        authorizer_id: method.authorization.any_authorizer().map(|a| a.id.clone()),
        authorization_scopes: method.authorization.scopes().to_vec(),
        api_key_required: method.api_key_required,
        operation_name: None,
        request_parameters: method.request.parameters.clone(),
        request_models: method.request.models.clone(),
        request_validator_id: method.request.validator.as_ref().map(|v| v.id.clone()),
        method_responses: BTreeMap::new(),
        integration: Some(integration_record(&method.integration, region)),
    }
}

/// The control plane's description of a model integration (for declared
/// APIs). `region` only shapes a Lambda URI.
pub fn integration_record(integration: &Integration, region: &str) -> IntegrationRecord {
    let mut record = IntegrationRecord {
        integration_type: String::new(),
        http_method: None,
        uri: None,
        timeout_ms: crate::fields::default_timeout_ms(crate::model::ApiFlavour::Rest),
        connection_type: Some("INTERNET".to_owned()),
        credentials: None,
        cache_namespace: None,
        cache_key_parameters: Vec::new(),
        content_handling: None,
        passthrough_behavior: None,
        request_parameters: BTreeMap::new(),
        request_templates: BTreeMap::new(),
        integration_responses: BTreeMap::new(),
        lambda_endpoint: None,
    };
    match integration {
        Integration::Mock {
            status,
            headers,
            body,
        } => {
            record.integration_type = "MOCK".to_owned();
            record.passthrough_behavior = Some("WHEN_NO_MATCH".to_owned());
            record.request_templates.insert(
                "application/json".to_owned(),
                format!("{{\"statusCode\": {status}}}"),
            );
            record.integration_responses.insert(
                status.to_string(),
                IntegrationResponseRecord {
                    status_code: status.to_string(),
                    content_handling: None,
                    selection_pattern: None,
                    response_parameters: headers
                        .iter()
                        .map(|(n, v)| (format!("method.response.header.{n}"), format!("'{v}'")))
                        .collect(),
                    response_templates: BTreeMap::from([(
                        "application/json".to_owned(),
                        body.clone(),
                    )]),
                    given_empty: Default::default(),
                },
            );
        }
        Integration::HttpProxy { uri, timeout_ms } => {
            record.integration_type = "HTTP_PROXY".to_owned();
            record.http_method = Some("ANY".to_owned());
            record.uri = Some(uri.clone());
            record.timeout_ms = *timeout_ms;
        }
        Integration::LambdaProxy {
            endpoint,
            function,
            timeout_ms,
            ..
        } => {
            record.integration_type = "AWS_PROXY".to_owned();
            record.http_method = Some("POST".to_owned());
            record.uri = Some(lambda_uri(region, function));
            record.lambda_endpoint = (!endpoint.is_empty()).then(|| endpoint.clone());
            record.timeout_ms = *timeout_ms;
        }
        Integration::Mapped(mapped) => return mapped.to_record(),
    }
    record
}

impl HttpApiRecord {
    /// The routes a deployment made now would freeze.
    pub fn deployable_routes(&self) -> Result<Vec<Route>, NotDeployable> {
        let mut routes = Vec::new();
        for route in self.routes.values() {
            let (method, path) = Route::parse_key(&route.route_key)
                .ok_or_else(|| NotDeployable(format!("Invalid route key {}", route.route_key)))?;
            let integration_id = route
                .target
                .as_deref()
                .and_then(|t| t.strip_prefix("integrations/"));
            // A route without a target has nothing to answer with; AWS
            // deploys it and answers 404, which leaving it out reproduces.
            let Some(integration) = integration_id.and_then(|id| self.integrations.get(id)) else {
                continue;
            };
            routes.push(Route {
                key: route.route_key.clone(),
                method,
                path,
                authorization: authorization(
                    &route.authorization_type,
                    route.authorizer_id.as_deref(),
                    &route.authorization_scopes,
                    &self.authorizers,
                )?,
                integration: http_integration(integration)?,
            });
        }
        Ok(routes)
    }
}

fn http_integration(record: &HttpIntegrationRecord) -> Result<Integration, NotDeployable> {
    match record.integration_type.as_str() {
        "MOCK" => {
            let mock = record.mock.clone().unwrap_or(MockAnswer {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
            });
            let mock = Integration::Mock {
                status: mock.status,
                headers: mock.headers,
                body: mock.body,
            };
            check_mock(&mock)?;
            Ok(mock)
        }
        "HTTP_PROXY" => Ok(Integration::HttpProxy {
            uri: record
                .integration_uri
                .clone()
                .ok_or_else(|| NotDeployable("IntegrationUri is required".to_owned()))?,
            timeout_ms: record.timeout_ms,
        }),
        "AWS_PROXY" => {
            // v2 accepts the function ARN itself or the apigateway form.
            let function = record
                .integration_uri
                .as_deref()
                .and_then(crate::fields::function_to_invoke)
                .ok_or_else(|| NotDeployable("IntegrationUri is required".to_owned()))?;
            Ok(Integration::LambdaProxy {
                // Empty: the server's `--lambda-endpoint`.
                endpoint: record.lambda_endpoint.clone().unwrap_or_default(),
                function,
                payload_format: if record.payload_format_version == "1.0" {
                    PayloadFormat::V1
                } else {
                    PayloadFormat::V2
                },
                timeout_ms: record.timeout_ms,
            })
        }
        other => Err(NotDeployable(format!(
            "Integration type {other} is not supported by iamgate"
        ))),
    }
}

/// The control plane's description of a model integration on an HTTP API.
pub fn http_integration_record(id: &str, integration: &Integration) -> HttpIntegrationRecord {
    let mut record = HttpIntegrationRecord {
        id: id.to_owned(),
        integration_type: String::new(),
        integration_uri: None,
        integration_method: None,
        payload_format_version: "2.0".to_owned(),
        timeout_ms: crate::fields::default_timeout_ms(crate::model::ApiFlavour::Http),
        connection_type: Some("INTERNET".to_owned()),
        description: None,
        mock: None,
        lambda_endpoint: None,
    };
    match integration {
        Integration::Mock {
            status,
            headers,
            body,
        } => {
            record.integration_type = "MOCK".to_owned();
            record.mock = Some(MockAnswer {
                status: *status,
                headers: headers.clone(),
                body: body.clone(),
            });
        }
        Integration::HttpProxy { uri, timeout_ms } => {
            record.integration_type = "HTTP_PROXY".to_owned();
            record.integration_uri = Some(uri.clone());
            record.integration_method = Some("ANY".to_owned());
            record.timeout_ms = *timeout_ms;
        }
        Integration::LambdaProxy {
            endpoint,
            function,
            payload_format,
            timeout_ms,
        } => {
            record.integration_type = "AWS_PROXY".to_owned();
            record.integration_uri = Some(function.clone());
            record.timeout_ms = *timeout_ms;
            record.payload_format_version = match payload_format {
                PayloadFormat::V1 => "1.0",
                PayloadFormat::V2 => "2.0",
            }
            .to_owned();
            record.lambda_endpoint = (!endpoint.is_empty()).then(|| endpoint.clone());
        }
        // HTTP APIs have no mapping templates; a type their deployment
        // refuses keeps such a model from ever being served.
        Integration::Mapped(_) => record.integration_type = "HTTP".to_owned(),
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_template;

    fn tree() -> Resource {
        let mut root = Resource::root();
        for (path, method, integration) in [
            (
                "/pets/{id}",
                "GET",
                Integration::Mock {
                    status: 201,
                    headers: vec![("X-Pet".into(), "yes".into())],
                    body: "{\"pet\":1}".into(),
                },
            ),
            (
                "/files/{proxy+}",
                "ANY",
                Integration::HttpProxy {
                    uri: "http://127.0.0.1:9/{proxy}".into(),
                    timeout_ms: 1000,
                },
            ),
            (
                "/",
                "POST",
                Integration::LambdaProxy {
                    endpoint: "http://127.0.0.1:3001".into(),
                    function: "handler".into(),
                    payload_format: PayloadFormat::V1,
                    timeout_ms: 29_000,
                },
            ),
        ] {
            root.add(
                &parse_template(path),
                Method {
                    http_method: method.into(),
                    resource_path: path.into(),
                    authorization: AuthorizationType::AwsIam,
                    integration,
                    api_key_required: false,
                    request: Default::default(),
                },
            );
        }
        root
    }

    fn record(root: &Resource) -> RestApiRecord {
        let (root_resource_id, resources) =
            RestApiRecord::resources_from_tree(root, "us-east-1", |path| format!("id{path}"));
        RestApiRecord {
            id: "a1b2c3d4e5".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "pets".into(),
            description: None,
            created_at: 0,
            version: None,
            endpoint_type: EndpointType::Regional,
            vpc_endpoint_ids: Vec::new(),
            ip_address_type: None,
            minimum_compression_size: None,
            policy: None,
            disable_execute_api_endpoint: false,
            api_key_source: None,
            binary_media_types: Vec::new(),
            tags: BTreeMap::new(),
            root_resource_id,
            authorizers: BTreeMap::new(),
            resources,
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
            gateway_responses: BTreeMap::new(),
            models: BTreeMap::new(),
            request_validators: BTreeMap::new(),
        }
    }

    /// Sorted (path, method, integration) triples of a tree, each
    /// integration in its editable form: a declared MOCK comes back from a
    /// deployment as the templates that describe it.
    fn flatten(node: &Resource, out: &mut Vec<(String, String, IntegrationRecord)>) {
        for m in &node.methods {
            out.push((
                m.resource_path.clone(),
                m.http_method.clone(),
                integration_record(&m.integration, "us-east-1"),
            ));
        }
        for child in &node.children {
            flatten(child, out);
        }
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    }

    #[test]
    fn a_declared_tree_survives_the_editable_form_and_deployment() {
        let root = tree();
        let record = record(&root);
        assert_eq!(
            record.resources.len(),
            5,
            "/, /pets, /pets/{{id}}, /files, /files/{{proxy+}}"
        );
        let pets = record
            .resources
            .values()
            .find(|r| r.path == "/pets/{id}")
            .unwrap();
        assert_eq!(pets.path_part.as_deref(), Some("{id}"));
        let parent = &record.resources[pets.parent_id.as_ref().unwrap()];
        assert_eq!(parent.path, "/pets");
        let deployed = record.deployable_tree().unwrap();
        let (mut want, mut got) = (Vec::new(), Vec::new());
        flatten(&root, &mut want);
        flatten(&deployed, &mut got);
        assert_eq!(got, want);
    }

    #[test]
    fn what_cannot_be_served_is_not_deployable() {
        let mut record = record(&tree());
        record.endpoint_type = EndpointType::Private;
        assert!(
            record.deployable_tree().is_err(),
            "private without a policy"
        );
        record.endpoint_type = EndpointType::Regional;
        let pets = record
            .resources
            .values_mut()
            .find(|r| r.path == "/pets/{id}")
            .unwrap();
        pets.methods.get_mut("GET").unwrap().authorization_type = "CUSTOM".into();
        assert!(record.deployable_tree().is_err(), "unsupported authorizer");
        for resource in record.resources.values_mut() {
            resource.methods.clear();
        }
        assert_eq!(
            record.deployable_tree(),
            Err(NotDeployable(
                "The REST API doesn't contain any methods".into()
            ))
        );
    }

    #[test]
    fn lambda_uris_name_the_function() {
        let uri = lambda_uri(
            "us-east-1",
            "arn:aws:lambda:us-east-1:111122223333:function:f:live",
        );
        assert_eq!(rest_lambda_function(&uri).as_deref(), Some("f:live"));
        let by_name = lambda_uri("us-east-1", "f");
        assert_eq!(rest_lambda_function(&by_name).as_deref(), Some("f"));
        assert_eq!(
            rest_lambda_function("arn:aws:lambda:us-east-1:1:function:f"),
            None
        );
    }

    #[test]
    fn an_http_route_without_a_target_is_not_served() {
        let record = HttpApiRecord {
            id: "h".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "h".into(),
            description: None,
            created_at: 0,
            version: None,
            disable_execute_api_endpoint: false,
            tags: BTreeMap::new(),
            routes: BTreeMap::from([
                (
                    "r1".into(),
                    RouteRecord {
                        id: "r1".into(),
                        route_key: "GET /pets".into(),
                        authorization_type: "AWS_IAM".into(),
                        target: Some("integrations/i1".into()),
                        authorizer_id: None,
                        authorization_scopes: Vec::new(),
                        api_key_required: false,
                        operation_name: None,
                    },
                ),
                (
                    "r2".into(),
                    RouteRecord {
                        id: "r2".into(),
                        route_key: "$default".into(),
                        authorization_type: "NONE".into(),
                        target: None,
                        authorizer_id: None,
                        authorization_scopes: Vec::new(),
                        api_key_required: false,
                        operation_name: None,
                    },
                ),
            ]),
            authorizers: BTreeMap::new(),
            integrations: BTreeMap::from([(
                "i1".into(),
                http_integration_record(
                    "i1",
                    &Integration::LambdaProxy {
                        endpoint: "http://l".into(),
                        function: "f".into(),
                        payload_format: PayloadFormat::V2,
                        timeout_ms: 12_000,
                    },
                ),
            )]),
            deployments: BTreeMap::new(),
            stages: BTreeMap::new(),
        };
        let routes = record.deployable_routes().unwrap();
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].key, "GET /pets");
        assert_eq!(
            routes[0].integration,
            Integration::LambdaProxy {
                endpoint: "http://l".into(),
                function: "f".into(),
                payload_format: PayloadFormat::V2,
                timeout_ms: 12_000,
            }
        );
    }
}
