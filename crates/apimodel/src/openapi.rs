//! Importing OpenAPI 3 and Swagger 2.0 definitions that carry API Gateway's
//! `x-amazon-apigateway-*` extensions — the files SAM (`DefinitionBody`,
//! `DefinitionUri`) and CDK (`SpecRestApi`, `ApiDefinition`) users already
//! have — into the gateway's model.
//!
//! Pure: text in, an [`ImportedApi`] or an [`ImportError`] out. What the
//! file cannot say (the API's id, account, region, stages, and where the
//! Lambda Invoke API runs) comes from the caller.
//!
//! Like `ImportRestApi` / `ImportApi` on AWS, an import is all or nothing:
//! every problem is collected with its JSON path and reported together
//! (AWS answers `BadRequestException` `Errors found during import:` followed
//! by one tab-indented line per problem), and no partial API is returned.
//!
//! Lambda authorizers (`x-amazon-apigateway-authorizer` of `type: token`
//! or `request` in a security scheme, `x-amazon-apigateway-authtype:
//! custom`) are built by the one constructor,
//! [`crate::authorizers::LambdaAuthorizer::new`].
//!
//! Fail closed: anything else that decides *who may call* — Cognito and
//! JWT authorizers, API keys, other authorization types, integration
//! types the data plane cannot serve — is refused, never imported as an
//! open method. Extensions that only shape documentation or payload
//! handling are accepted and listed in [`ImportedApi::warnings`] when they
//! are ignored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::config::check_http_uri;
use crate::fields;
use crate::gateway_responses::{CustomGatewayResponse, GatewayResponses};
use crate::mapping::Mapped;
use crate::model::{
    AuthorizationType, EndpointType, Integration, Method, PathPart, PayloadFormat, Route,
};
use crate::stored::{IntegrationRecord, IntegrationResponseRecord};
use crate::validation::{MethodRequest, ModelInput, RequestValidator, RestModel, frozen_models};

/// The error type AWS's import operations answer with.
pub const IMPORT_ERROR_TYPE: &str = "BadRequestException";

/// Which kind of API a definition becomes (defined with the model, whose
/// rules depend on it).
pub use crate::model::ApiFlavour;

/// The specification a document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecVersion {
    /// `openapi: 3.x.y`, with the version as written.
    OpenApi3(String),
    /// `swagger: "2.0"`.
    Swagger2,
}

/// What the importer is told besides the document.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `None`: an HTTP API if the document has
    /// `x-amazon-apigateway-importexport-version` (what HTTP API exports
    /// carry), else a REST API.
    pub flavour: Option<ApiFlavour>,
    /// The Lambda Invoke API endpoint (`http://…`) `aws_proxy`
    /// integrations call; a document with Lambda integrations cannot be
    /// imported without one.
    pub lambda_endpoint: Option<String>,
}

/// An imported definition, ready to be deployed to stages.
#[derive(Debug, Clone)]
pub struct ImportedApi {
    /// `info.title`.
    pub name: Option<String>,
    pub version: SpecVersion,
    pub flavour: ApiFlavour,
    /// From `x-amazon-apigateway-endpoint-configuration`; `None` if unsaid.
    pub endpoint_type: Option<EndpointType>,
    /// The VPC endpoints a PRIVATE API is associated with.
    pub vpc_endpoint_ids: Vec<String>,
    /// `x-amazon-apigateway-policy` as written: the `execute-api:/…`
    /// shorthand is expanded once the API's id, account and region are known.
    pub policy: Option<Value>,
    /// REST APIs: one method per operation (empty for HTTP APIs).
    pub methods: Vec<Method>,
    /// HTTP APIs: one route per operation (empty for REST APIs).
    pub routes: Vec<Route>,
    /// REST APIs: `x-amazon-apigateway-gateway-responses`.
    pub gateway_responses: GatewayResponses,
    /// REST APIs: `components.schemas` (Swagger 2.0: `definitions`), each
    /// a model for `application/json`.
    pub models: Vec<crate::validation::RestModel>,
    /// REST APIs: `x-amazon-apigateway-request-validators`, each with an
    /// id derived from its name.
    pub request_validators: Vec<crate::validation::RequestValidator>,
    /// REST APIs: `x-amazon-apigateway-api-key-source` (`HEADER`,
    /// `AUTHORIZER`), when the document says.
    pub api_key_source: Option<String>,
    /// Extensions that were accepted but have no effect here.
    pub warnings: Vec<ImportProblem>,
}

/// What a method's security requirement asks: its authorization type, and
/// whether an API key is required too (an `apiKey` scheme named
/// `x-api-key` in the header, beside the authorizer's scheme).
#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    authorization: AuthorizationType,
    api_key: bool,
}

impl Requirement {
    fn only(authorization: AuthorizationType) -> Self {
        Self {
            authorization,
            api_key: false,
        }
    }
}

/// One problem, at a JSON path into the document (`$.paths['/pets'].get`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    pub path: String,
    pub kind: ProblemKind,
}

/// What is wrong (or, for warnings, ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The text is neither JSON nor YAML.
    Syntax(String),
    /// Neither `openapi: 3.x` nor `swagger: "2.0"`, or both.
    Version(String),
    /// A value of the wrong type; says what was expected.
    WrongType(&'static str),
    /// A required field is absent.
    Missing(&'static str),
    /// A path API Gateway would not accept.
    InvalidPath(String),
    /// The same method on the same resource, or the same route, twice.
    Duplicate(String),
    /// An operation without `x-amazon-apigateway-integration`: API Gateway
    /// cannot deploy a method without an integration.
    NoIntegration,
    /// An integration type the data plane does not serve.
    UnsupportedIntegrationType(String),
    /// A bad value inside an integration.
    InvalidIntegration(String),
    /// A security requirement names a scheme that is not defined.
    UnknownSecurityScheme(String),
    /// Authorization other than `AWS_IAM` (SigV4) or `NONE`.
    UnsupportedAuthorization(String),
    /// A bad endpoint configuration.
    InvalidEndpointConfiguration(String),
    /// A value API Gateway would not store (see [`crate::fields`]); the
    /// text is its `BadRequestException` message.
    InvalidValue(String),
    /// A feature that would change what the API answers and that the
    /// gateway cannot serve faithfully: refused rather than ignored.
    Unsupported(String),
    /// Accepted without effect (warnings only).
    Ignored(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Syntax(message) => write!(f, "not valid JSON or YAML: {message}"),
            ProblemKind::Version(message) => f.write_str(message),
            ProblemKind::WrongType(expected) => write!(f, "expected {expected}"),
            ProblemKind::Missing(field) => write!(f, "'{field}' is required"),
            ProblemKind::InvalidPath(message) => write!(f, "invalid path: {message}"),
            ProblemKind::Duplicate(what) => write!(f, "{what} is defined more than once"),
            ProblemKind::NoIntegration => f.write_str(
                "no x-amazon-apigateway-integration: a method without an integration cannot be deployed",
            ),
            ProblemKind::UnsupportedIntegrationType(kind) => {
                write!(f, "unsupported integration type {kind}")
            }
            ProblemKind::InvalidIntegration(message) => write!(f, "invalid integration: {message}"),
            ProblemKind::UnknownSecurityScheme(name) => {
                write!(f, "security scheme '{name}' is not defined")
            }
            ProblemKind::UnsupportedAuthorization(message) => {
                write!(f, "unsupported authorization: {message}")
            }
            ProblemKind::InvalidEndpointConfiguration(message) => {
                write!(f, "invalid endpoint configuration: {message}")
            }
            ProblemKind::InvalidValue(message) => f.write_str(message),
            ProblemKind::Unsupported(message) => write!(f, "not supported: {message}"),
            ProblemKind::Ignored(message) => write!(f, "ignored: {message}"),
        }
    }
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// Every problem of a document that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub problems: Vec<ImportProblem>,
}

impl fmt::Display for ImportError {
    /// AWS's `BadRequestException` message layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Errors found during import:")?;
        for problem in &self.problems {
            write!(f, "\n\t{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// Imports an OpenAPI 3 or Swagger 2.0 document, JSON or YAML.
pub fn import(text: &str, options: &ImportOptions) -> Result<ImportedApi, ImportError> {
    let document = parse_document(text).map_err(|kind| ImportError {
        problems: vec![ImportProblem {
            path: "$".to_owned(),
            kind,
        }],
    })?;
    let Some(root) = document.as_object() else {
        return Err(ImportError {
            problems: vec![ImportProblem {
                path: "$".to_owned(),
                kind: ProblemKind::WrongType("an object (the OpenAPI document)"),
            }],
        });
    };
    Importer {
        document: &document,
        root,
        options,
        version: None,
        flavour: ApiFlavour::Rest,
        errors: Vec::new(),
        warnings: Vec::new(),
        models: BTreeMap::new(),
        validators: BTreeMap::new(),
    }
    .run()
}

/// JSON if it looks like JSON (its errors are clearer), YAML otherwise; YAML
/// is read with the YAML crate's default budget (depth, size, alias
/// expansion), so hostile input is refused rather than exhausting memory.
fn parse_document(text: &str) -> Result<Value, ProblemKind> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|error| ProblemKind::Syntax(error.to_string()))
    } else {
        serde_saphyr::from_str(text).map_err(|error| ProblemKind::Syntax(error.to_string()))
    }
}

/// The HTTP methods an OpenAPI path item may hold, as API Gateway names them.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// Path-item members that only document the API.
const PATH_ITEM_DOCS: &[&str] = &["summary", "description", "parameters", "servers"];

/// Top-level extensions that do not change who may call what; imported as
/// warnings so users know they have no effect here.
const IGNORED_TOP_LEVEL: &[&str] = &[
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-cors",
    "x-amazon-apigateway-documentation",
    "x-amazon-apigateway-minimum-compression-size",
    "x-amazon-apigateway-tag-value",
];

/// Integration members read by the importer; any other is a warning.
const INTEGRATION_MEMBERS: &[&str] = &[
    "type",
    "uri",
    "httpMethod",
    "payloadFormatVersion",
    "timeoutInMillis",
    "requestTemplates",
    "responses",
    "connectionType",
    "passthroughBehavior",
    "integrationSubtype",
    "requestParameters",
];

struct Importer<'a> {
    document: &'a Value,
    root: &'a Map<String, Value>,
    options: &'a ImportOptions,
    version: Option<SpecVersion>,
    flavour: ApiFlavour,
    errors: Vec<ImportProblem>,
    warnings: Vec<ImportProblem>,
    /// REST: the document's models, by name.
    models: BTreeMap<String, RestModel>,
    /// REST: the document's request validators, by name.
    validators: BTreeMap<String, RequestValidator>,
}

/// A JSON path one member further in: `.name` for plain names, `['…']`
/// for anything else (paths, extension names).
fn member(base: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{base}.{key}")
    } else {
        let escaped = key.replace('\\', "\\\\").replace('\'', "\\'");
        format!("{base}['{escaped}']")
    }
}

fn element(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// A scalar as text: YAML turns `statusCode: 200` and `swagger: 2.0` into
/// numbers, while JSON files usually quote them.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `1.0`/`2.0` whether written as a string or as a YAML number.
fn version_number(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => number.as_f64().map(|n| format!("{n:.1}")),
        _ => None,
    }
}

impl<'a> Importer<'a> {
    fn error(&mut self, path: String, kind: ProblemKind) {
        // A broken security scheme is reported once, not once per operation
        // that uses it.
        let problem = ImportProblem { path, kind };
        if !self.errors.contains(&problem) {
            self.errors.push(problem);
        }
    }

    fn warn(&mut self, path: String, message: impl Into<String>) {
        self.warnings.push(ImportProblem {
            path,
            kind: ProblemKind::Ignored(message.into()),
        });
    }

    fn run(mut self) -> Result<ImportedApi, ImportError> {
        self.version = self.read_version();
        self.flavour = self.read_flavour();
        let name = self.read_name();
        let (endpoint_type, vpc_endpoint_ids) = self.read_endpoint();
        let policy = self.read_policy();
        let gateway_responses = self.read_gateway_responses();
        let api_key_source = self.read_api_key_source();
        if self.flavour == ApiFlavour::Rest {
            self.read_models();
            self.read_validators();
        }
        for (key, _) in self.root.iter() {
            if IGNORED_TOP_LEVEL.contains(&key.as_str()) {
                self.warn(member("$", key), "has no effect on this gateway");
            }
        }
        let global = match self.root.get("security") {
            None => Some(Requirement::only(AuthorizationType::None)),
            Some(security) => self.security(security, "$.security"),
        };
        let (methods, routes) = self.read_paths(&global);
        let Some(version) = self.version.clone() else {
            // read_version has reported why.
            return Err(ImportError {
                problems: self.errors,
            });
        };
        if !self.errors.is_empty() {
            return Err(ImportError {
                problems: self.errors,
            });
        }
        Ok(ImportedApi {
            name,
            version,
            flavour: self.flavour,
            endpoint_type,
            vpc_endpoint_ids,
            api_key_source,
            policy,
            methods,
            routes,
            gateway_responses,
            models: self.models.into_values().collect(),
            request_validators: self.validators.into_values().collect(),
            warnings: self.warnings,
        })
    }

    /// `x-amazon-apigateway-gateway-responses`: by response type, each
    /// `statusCode`, `responseParameters` and `responseTemplates`, checked
    /// by the constructor every front door uses.
    fn read_gateway_responses(&mut self) -> GatewayResponses {
        let name = "x-amazon-apigateway-gateway-responses";
        let mut out = GatewayResponses::new();
        let Some(value) = self.root.get(name) else {
            return out;
        };
        let at = member("$", name);
        if self.flavour == ApiFlavour::Http {
            self.error(
                at,
                ProblemKind::Unsupported("HTTP APIs have no gateway responses".to_owned()),
            );
            return out;
        }
        let Some(entries) = value.as_object() else {
            self.error(at, ProblemKind::WrongType("an object of gateway responses"));
            return out;
        };
        for (kind, response) in entries {
            let at = member(&at, kind);
            let Some(response) = response.as_object() else {
                self.error(at, ProblemKind::WrongType("a gateway response object"));
                continue;
            };
            let status = response.get("statusCode").map(scalar_text);
            if status == Some(None) {
                self.error(
                    member(&at, "statusCode"),
                    ProblemKind::WrongType("a status code"),
                );
                continue;
            }
            let mut maps = [BTreeMap::new(), BTreeMap::new()];
            for (member_name, map) in ["responseParameters", "responseTemplates"]
                .into_iter()
                .zip(maps.iter_mut())
            {
                let Some(value) = response.get(member_name) else {
                    continue;
                };
                let texts = value.as_object().and_then(|object| {
                    object
                        .iter()
                        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect::<Option<BTreeMap<_, _>>>()
                });
                match texts {
                    Some(texts) => *map = texts,
                    None => self.error(
                        member(&at, member_name),
                        ProblemKind::WrongType("an object of strings"),
                    ),
                }
            }
            let [parameters, templates] = maps;
            match CustomGatewayResponse::new(
                kind,
                status.flatten().as_deref(),
                parameters,
                &templates,
            ) {
                Ok(custom) => {
                    out.insert(custom.response_type, custom);
                }
                Err(invalid) => self.error(at, ProblemKind::InvalidValue(invalid.0)),
            }
        }
        out
    }

    fn read_version(&mut self) -> Option<SpecVersion> {
        let openapi = self.root.get("openapi");
        let swagger = self.root.get("swagger");
        match (openapi, swagger) {
            (Some(_), Some(_)) => {
                self.error(
                    "$".to_owned(),
                    ProblemKind::Version("both 'openapi' and 'swagger' are set".to_owned()),
                );
                None
            }
            (Some(value), None) => match scalar_text(value) {
                Some(text) if text.starts_with("3.") => Some(SpecVersion::OpenApi3(text)),
                _ => {
                    self.error(
                        "$.openapi".to_owned(),
                        ProblemKind::Version(format!(
                            "OpenAPI version {value} is not supported; use 3.x or Swagger 2.0"
                        )),
                    );
                    None
                }
            },
            (None, Some(value)) => match version_number(value).as_deref() {
                Some("2.0") => Some(SpecVersion::Swagger2),
                _ => {
                    self.error(
                        "$.swagger".to_owned(),
                        ProblemKind::Version(format!(
                            "Swagger version {value} is not supported; only 2.0 is"
                        )),
                    );
                    None
                }
            },
            (None, None) => {
                self.error(
                    "$".to_owned(),
                    ProblemKind::Version(
                        "neither 'openapi' (3.x) nor 'swagger' (2.0) is set".to_owned(),
                    ),
                );
                None
            }
        }
    }

    fn read_flavour(&mut self) -> ApiFlavour {
        let marker = "x-amazon-apigateway-importexport-version";
        let from_document = match self.root.get(marker) {
            None => ApiFlavour::Rest,
            Some(value) => {
                if version_number(value).as_deref() != Some("1.0") {
                    self.error(
                        member("$", marker),
                        ProblemKind::Unsupported(format!(
                            "import/export version {value}; only 1.0 exists"
                        )),
                    );
                }
                ApiFlavour::Http
            }
        };
        // The caller's choice (ImportRestApi versus ImportApi on AWS) wins.
        self.options.flavour.unwrap_or(from_document)
    }

    fn read_name(&mut self) -> Option<String> {
        let info = self.root.get("info")?;
        let Some(info) = info.as_object() else {
            self.error("$.info".to_owned(), ProblemKind::WrongType("an object"));
            return None;
        };
        match info.get("title") {
            None => None,
            Some(Value::String(title)) => {
                // The title becomes the API's name, bounded as every name.
                let bounded = match self.flavour {
                    ApiFlavour::Rest => fields::rest_api_name(title),
                    ApiFlavour::Http => fields::http_api_name(title),
                };
                match bounded {
                    Ok(()) => Some(title.clone()),
                    Err(invalid) => {
                        self.error(
                            "$.info.title".to_owned(),
                            ProblemKind::InvalidValue(invalid.0),
                        );
                        None
                    }
                }
            }
            Some(_) => {
                self.error(
                    "$.info.title".to_owned(),
                    ProblemKind::WrongType("a string"),
                );
                None
            }
        }
    }

    /// The endpoint configuration sits at the top level (Swagger 2.0 and
    /// the REST import) or on a server object (OpenAPI 3 exports).
    fn read_endpoint(&mut self) -> (Option<EndpointType>, Vec<String>) {
        let name = "x-amazon-apigateway-endpoint-configuration";
        let mut found: Vec<(String, &Value)> = Vec::new();
        if let Some(value) = self.root.get(name) {
            found.push((member("$", name), value));
        }
        if let Some(Value::Array(servers)) = self.root.get("servers") {
            for (index, server) in servers.iter().enumerate() {
                if let Some(value) = server.get(name) {
                    found.push((member(&element("$.servers", index), name), value));
                }
            }
        }
        let mut endpoint_type = None;
        let mut vpc_endpoint_ids = Vec::new();
        let mut seen = false;
        for (at, value) in found {
            if seen {
                self.error(
                    at,
                    ProblemKind::InvalidEndpointConfiguration("given more than once".to_owned()),
                );
                continue;
            }
            seen = true;
            let (kind, ids) = self.endpoint_configuration(value, &at);
            endpoint_type = kind;
            vpc_endpoint_ids = ids;
        }
        (endpoint_type, vpc_endpoint_ids)
    }

    fn endpoint_configuration(
        &mut self,
        value: &Value,
        at: &str,
    ) -> (Option<EndpointType>, Vec<String>) {
        let Some(config) = value.as_object() else {
            self.error(at.to_owned(), ProblemKind::WrongType("an object"));
            return (None, Vec::new());
        };
        let mut endpoint_type = None;
        for (key, value) in config {
            let here = member(at, key);
            match key.as_str() {
                "types" => endpoint_type = self.endpoint_types(value, &here),
                "vpcEndpointIds" => {}
                "disableExecuteApiEndpoint" => match value {
                    Value::Bool(false) => {}
                    // The data plane always answers on the execute-api host;
                    // importing `true` would expose what the file closes.
                    Value::Bool(true) => self.error(
                        here,
                        ProblemKind::Unsupported(
                            "disableExecuteApiEndpoint: the gateway always serves the execute-api endpoint"
                                .to_owned(),
                        ),
                    ),
                    _ => self.error(here, ProblemKind::WrongType("true or false")),
                },
                _ => self.warn(here, "unknown endpoint configuration member"),
            }
        }
        let mut ids = Vec::new();
        if let Some(value) = config.get("vpcEndpointIds") {
            let here = member(at, "vpcEndpointIds");
            match value {
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(id) if is_vpc_endpoint_id(id) => ids.push(id.to_owned()),
                            _ => self.error(
                                element(&here, index),
                                ProblemKind::InvalidEndpointConfiguration(format!(
                                    "{item} is not a VPC endpoint id (vpce-…)"
                                )),
                            ),
                        }
                    }
                }
                _ => self.error(here.clone(), ProblemKind::WrongType("a list of vpce-… ids")),
            }
            if !ids.is_empty() {
                match endpoint_type {
                    // VPC endpoints only exist for private APIs, so naming
                    // them without a type means PRIVATE (the stricter one).
                    None => endpoint_type = Some(EndpointType::Private),
                    Some(EndpointType::Private) => {}
                    Some(_) => self.error(
                        here,
                        ProblemKind::InvalidEndpointConfiguration(
                            "vpcEndpointIds are only for PRIVATE APIs".to_owned(),
                        ),
                    ),
                }
            }
        }
        if self.flavour == ApiFlavour::Http
            && (!ids.is_empty() || endpoint_type.is_some_and(|kind| kind != EndpointType::Regional))
        {
            self.error(
                at.to_owned(),
                ProblemKind::InvalidEndpointConfiguration(
                    "HTTP APIs are REGIONAL and have no VPC endpoints".to_owned(),
                ),
            );
        }
        (endpoint_type, ids)
    }

    fn endpoint_types(&mut self, value: &Value, at: &str) -> Option<EndpointType> {
        let Some(items) = value.as_array() else {
            self.error(
                at.to_owned(),
                ProblemKind::WrongType("a list of endpoint types"),
            );
            return None;
        };
        // API Gateway takes exactly one type per API.
        let [only] = items.as_slice() else {
            self.error(
                at.to_owned(),
                ProblemKind::InvalidEndpointConfiguration(
                    "exactly one of REGIONAL, EDGE or PRIVATE".to_owned(),
                ),
            );
            return None;
        };
        let kind = only.as_str().map(str::to_ascii_uppercase);
        match kind.as_deref() {
            Some("REGIONAL") => Some(EndpointType::Regional),
            Some("EDGE") => Some(EndpointType::Edge),
            Some("PRIVATE") => Some(EndpointType::Private),
            _ => {
                self.error(
                    element(at, 0),
                    ProblemKind::InvalidEndpointConfiguration(format!(
                        "{only} is not REGIONAL, EDGE or PRIVATE"
                    )),
                );
                None
            }
        }
    }

    fn read_policy(&mut self) -> Option<Value> {
        let name = "x-amazon-apigateway-policy";
        let value = self.root.get(name)?;
        let at = member("$", name);
        if self.flavour == ApiFlavour::Http {
            // Importing it silently would leave an API open that its
            // author meant to restrict.
            self.error(
                at,
                ProblemKind::Unsupported("HTTP APIs do not support resource policies".to_owned()),
            );
            return None;
        }
        match value {
            Value::Object(_) => Some(value.clone()),
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(parsed @ Value::Object(_)) => Some(parsed),
                _ => {
                    self.error(
                        at,
                        ProblemKind::WrongType("a policy document (JSON object)"),
                    );
                    None
                }
            },
            _ => {
                self.error(
                    at,
                    ProblemKind::WrongType("a policy document (JSON object)"),
                );
                None
            }
        }
    }

    fn read_paths(&mut self, global: &Option<Requirement>) -> (Vec<Method>, Vec<Route>) {
        let mut methods = Vec::new();
        let mut routes = Vec::new();
        let root: &'a Map<String, Value> = self.root;
        let Some(paths) = root.get("paths") else {
            self.error("$".to_owned(), ProblemKind::Missing("paths"));
            return (methods, routes);
        };
        let Some(paths) = paths.as_object() else {
            self.error("$.paths".to_owned(), ProblemKind::WrongType("an object"));
            return (methods, routes);
        };
        // REST: the variable part (`{id}`, `{proxy+}`) under each parent.
        let mut variables: HashMap<Vec<PathPart>, PathPart> = HashMap::new();
        // HTTP: route keys with parameter names erased, to find clashes.
        let mut route_shapes: HashSet<String> = HashSet::new();
        for (path, item) in paths {
            let at = member("$.paths", path);
            let Some(item) = item.as_object() else {
                self.error(at, ProblemKind::WrongType("a path item object"));
                continue;
            };
            let is_default = self.flavour == ApiFlavour::Http && path == "/$default";
            let parts = if is_default {
                if let Err(invalid) = fields::path("path", path) {
                    self.error(at, ProblemKind::InvalidPath(invalid.0));
                    continue;
                }
                Vec::new()
            } else {
                match fields::path_template(self.flavour, "path", path) {
                    Ok(parts) => parts,
                    Err(invalid) => {
                        self.error(at, ProblemKind::InvalidPath(invalid.0));
                        continue;
                    }
                }
            };
            if self.flavour == ApiFlavour::Rest
                && let Err(message) = check_variable_siblings(&parts, &mut variables)
            {
                self.error(at.clone(), ProblemKind::InvalidPath(message));
            }
            for (key, operation) in item {
                let here = member(&at, key);
                let Some(http_method) = OPERATIONS
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, method)| *method)
                else {
                    self.path_item_member(key, here);
                    continue;
                };
                if is_default && http_method != "ANY" {
                    self.error(
                        here,
                        ProblemKind::InvalidPath(
                            "the $default route takes only x-amazon-apigateway-any-method"
                                .to_owned(),
                        ),
                    );
                    continue;
                }
                let Some((
                    Requirement {
                        authorization,
                        api_key,
                    },
                    integration,
                )) = self.operation(operation, &here, http_method, global)
                else {
                    continue;
                };
                match self.flavour {
                    ApiFlavour::Rest => {
                        let Some(request) = self.method_request(item, operation, &here) else {
                            continue;
                        };
                        methods.push(Method {
                            http_method: http_method.to_owned(),
                            resource_path: path.clone(),
                            authorization,
                            integration,
                            api_key_required: api_key,
                            request,
                        });
                    }
                    ApiFlavour::Http => {
                        let route = if is_default {
                            Route {
                                key: "$default".to_owned(),
                                method: None,
                                path: None,
                                authorization,
                                integration,
                            }
                        } else {
                            Route {
                                key: format!("{http_method} {path}"),
                                method: (http_method != "ANY").then(|| http_method.to_owned()),
                                path: Some(parts.clone()),
                                authorization,
                                integration,
                            }
                        };
                        let shape = route_shape(&route);
                        if route_shapes.insert(shape) {
                            routes.push(route);
                        } else {
                            self.error(
                                here,
                                ProblemKind::Duplicate(format!("route '{}'", route.key)),
                            );
                        }
                    }
                }
            }
        }
        (methods, routes)
    }

    fn path_item_member(&mut self, key: &str, at: String) {
        if key == "trace" {
            self.error(
                at,
                ProblemKind::Unsupported("API Gateway has no TRACE methods".to_owned()),
            );
        } else if key == "$ref" {
            // A referenced path item would need a resolver across files.
            self.error(
                at,
                ProblemKind::Unsupported("$ref path items; inline the operations".to_owned()),
            );
        } else if !PATH_ITEM_DOCS.contains(&key) {
            self.warn(at, "not an operation API Gateway imports");
        }
    }

    fn operation(
        &mut self,
        operation: &'a Value,
        at: &str,
        http_method: &str,
        global: &Option<Requirement>,
    ) -> Option<(Requirement, Integration)> {
        let Some(operation) = operation.as_object() else {
            self.error(at.to_owned(), ProblemKind::WrongType("an operation object"));
            return None;
        };
        let authorization = self.operation_authorization(operation, at, global);
        let integration_name = "x-amazon-apigateway-integration";
        let integration = match operation.get(integration_name) {
            Some(value) => self.integration(value, &member(at, integration_name), http_method),
            None => {
                self.error(at.to_owned(), ProblemKind::NoIntegration);
                None
            }
        };
        for key in operation.keys() {
            if key.starts_with("x-amazon-apigateway-")
                && key != integration_name
                && key != "x-amazon-apigateway-auth"
                && !(key == REQUEST_VALIDATOR && self.flavour == ApiFlavour::Rest)
            {
                self.warn(member(at, key), "has no effect on this gateway");
            }
        }
        Some((authorization?, integration?))
    }

    /// `x-amazon-apigateway-auth` or the operation's `security`, else the
    /// document's; `None` when the problem has been reported.
    fn operation_authorization(
        &mut self,
        operation: &Map<String, Value>,
        at: &str,
        global: &Option<Requirement>,
    ) -> Option<Requirement> {
        let from_security = match operation.get("security") {
            Some(security) => Some(self.security(security, &member(at, "security"))?),
            None => None,
        };
        let auth_name = "x-amazon-apigateway-auth";
        let from_auth = match operation.get(auth_name) {
            Some(auth) => Some(self.auth_extension(auth, &member(at, auth_name))?),
            None => None,
        };
        match (from_auth.map(Requirement::only), from_security) {
            (Some(auth), Some(security)) if auth.authorization != security.authorization => {
                self.error(
                    at.to_owned(),
                    ProblemKind::UnsupportedAuthorization(
                        "x-amazon-apigateway-auth and security disagree".to_owned(),
                    ),
                );
                None
            }
            (Some(_), Some(security)) | (None, Some(security)) => Some(security),
            (Some(auth), None) => Some(auth),
            (None, None) => global.clone(),
        }
    }

    fn auth_extension(&mut self, auth: &Value, at: &str) -> Option<AuthorizationType> {
        let Some(kind) = auth.get("type") else {
            self.error(at.to_owned(), ProblemKind::Missing("type"));
            return None;
        };
        let at = member(at, "type");
        match kind.as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("AWS_IAM") => Some(AuthorizationType::AwsIam),
            Some("NONE") => Some(AuthorizationType::None),
            Some(other) => {
                self.error(
                    at,
                    ProblemKind::UnsupportedAuthorization(format!(
                        "authorization type {other}; only AWS_IAM and NONE"
                    )),
                );
                None
            }
            None => {
                self.error(at, ProblemKind::WrongType("a string"));
                None
            }
        }
    }

    /// A list of alternative requirements, each naming schemes that must
    /// all pass. API Gateway applies one authorization type per method, so
    /// alternatives must agree and each names at most one scheme.
    fn security(&mut self, security: &Value, at: &str) -> Option<Requirement> {
        let Some(requirements) = security.as_array() else {
            self.error(
                at.to_owned(),
                ProblemKind::WrongType("a list of security requirements"),
            );
            return None;
        };
        let mut chosen: Option<Requirement> = None;
        let mut failed = false;
        if requirements.is_empty() {
            return Some(Requirement::only(AuthorizationType::None));
        }
        for (index, requirement) in requirements.iter().enumerate() {
            let here = element(at, index);
            let Some(requirement) = requirement.as_object() else {
                self.error(
                    here,
                    ProblemKind::WrongType("a security requirement object"),
                );
                failed = true;
                continue;
            };
            // An API key scheme goes beside the authorizer's.
            let (keys, mut names): (Vec<&String>, Vec<&String>) = requirement
                .keys()
                .partition(|name| self.is_api_key_scheme(name));
            let api_key = !keys.is_empty();
            let mut names = names.drain(..);
            let this = match (names.next(), names.next()) {
                (None, _) => Some(AuthorizationType::None),
                (Some(name), None) => {
                    let scopes: Vec<String> = requirement
                        .get(name)
                        .and_then(Value::as_array)
                        .map(|items| items.iter().filter_map(scalar_text).collect())
                        .unwrap_or_default();
                    match self.scheme(name, &here) {
                        Some(AuthorizationType::Token(mut token)) => {
                            match crate::authorizers::authorization_scopes(&scopes) {
                                Ok(scopes) => {
                                    token.scopes = scopes;
                                    Some(AuthorizationType::Token(token))
                                }
                                Err(invalid) => {
                                    self.error(here.clone(), ProblemKind::InvalidValue(invalid.0));
                                    None
                                }
                            }
                        }
                        other => other,
                    }
                }
                (Some(_), Some(_)) => {
                    self.error(
                        here,
                        ProblemKind::UnsupportedAuthorization(
                            "several security schemes required together".to_owned(),
                        ),
                    );
                    None
                }
            }
            .map(|authorization| Requirement {
                authorization,
                api_key,
            });
            match (this, &chosen) {
                (None, _) => failed = true,
                (Some(kind), None) => chosen = Some(kind),
                (Some(kind), Some(earlier)) if &kind != earlier => {
                    // `[{sigv4: []}, {}]` would make signing optional: there
                    // is no such authorization type.
                    self.error(
                        at.to_owned(),
                        ProblemKind::UnsupportedAuthorization(
                            "alternative requirements with different authorization types"
                                .to_owned(),
                        ),
                    );
                    failed = true;
                }
                (Some(_), Some(_)) => {}
            }
        }
        if failed { None } else { chosen }
    }

    /// Where the document keeps its security schemes, and that place's path.
    fn schemes(&self) -> (Option<&'a Value>, String) {
        let root: &'a Map<String, Value> = self.root;
        match self.version {
            Some(SpecVersion::Swagger2) => (
                root.get("securityDefinitions"),
                "$.securityDefinitions".to_owned(),
            ),
            _ => (
                root.get("components")
                    .and_then(|c| c.get("securitySchemes")),
                "$.components.securitySchemes".to_owned(),
            ),
        }
    }

    /// Whether `name` is API Gateway's API key scheme on a REST API: type
    /// `apiKey`, `x-api-key` in the header, no authorizer or authtype (on
    /// an HTTP API, which has no API keys, it is refused as a scheme).
    fn is_api_key_scheme(&self, name: &str) -> bool {
        let Some(scheme) = self.schemes().0.and_then(|c| c.get(name)) else {
            return false;
        };
        let text = |key: &str| scheme.get(key).and_then(Value::as_str);
        self.flavour == ApiFlavour::Rest
            && text("type") == Some("apiKey")
            && text("in") == Some("header")
            && text("name").is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
            && scheme.get("x-amazon-apigateway-authtype").is_none()
            && scheme.get("x-amazon-apigateway-authorizer").is_none()
    }

    /// `x-amazon-apigateway-api-key-source` on a REST API.
    fn read_api_key_source(&mut self) -> Option<String> {
        let key = "x-amazon-apigateway-api-key-source";
        let value = self.root.get(key)?;
        let at = member("$", key);
        if self.flavour == ApiFlavour::Http {
            self.warn(at, "has no effect on an HTTP API, which has no API keys");
            return None;
        }
        let Some(text) = value.as_str() else {
            self.error(at, ProblemKind::WrongType("a string"));
            return None;
        };
        match crate::input_model::API_KEY_SOURCE_TYPE.check("apiKeySource", text) {
            Ok(source) => Some(source.to_owned()),
            Err(invalid) => {
                self.error(at, ProblemKind::InvalidValue(invalid.0));
                None
            }
        }
    }

    /// The authorization type a named security scheme stands for.
    fn scheme(&mut self, name: &str, at: &str) -> Option<AuthorizationType> {
        let (container, container_at) = self.schemes();
        let Some(scheme) = container.and_then(|c| c.get(name)) else {
            self.error(
                at.to_owned(),
                ProblemKind::UnknownSecurityScheme(name.to_owned()),
            );
            return None;
        };
        let scheme_at = member(&container_at, name);
        let Some(scheme) = scheme.as_object() else {
            self.error(
                scheme_at,
                ProblemKind::WrongType("a security scheme object"),
            );
            return None;
        };
        if scheme.contains_key("$ref") {
            self.error(
                scheme_at,
                ProblemKind::Unsupported("$ref security schemes; inline the scheme".to_owned()),
            );
            return None;
        }
        if let Some(authorizer) = scheme.get("x-amazon-apigateway-authorizer") {
            return self.lambda_authorizer(name, scheme, authorizer, &scheme_at);
        }
        let text = |key: &str| scheme.get(key).and_then(Value::as_str);
        match text("x-amazon-apigateway-authtype") {
            Some(authtype) if authtype.eq_ignore_ascii_case("awsSigv4") => {
                let shaped = text("type") == Some("apiKey")
                    && text("name").is_some_and(|n| n.eq_ignore_ascii_case("Authorization"))
                    && text("in") == Some("header");
                if shaped {
                    Some(AuthorizationType::AwsIam)
                } else {
                    self.error(
                        scheme_at,
                        ProblemKind::UnsupportedAuthorization(
                            "an awsSigv4 scheme is type apiKey, name Authorization, in header"
                                .to_owned(),
                        ),
                    );
                    None
                }
            }
            Some(authtype) => {
                self.error(
                    member(&scheme_at, "x-amazon-apigateway-authtype"),
                    ProblemKind::UnsupportedAuthorization(format!("authtype {authtype}")),
                );
                None
            }
            None => {
                // A plain apiKey scheme is API Gateway's API key requirement
                // (`apiKeyRequired`); anything else is an authorizer. Neither
                // may turn into an open method.
                let what = match text("type") {
                    Some("apiKey") => "API keys (apiKeyRequired)".to_owned(),
                    Some(other) => format!("security scheme type {other}"),
                    None => "a security scheme without a type".to_owned(),
                };
                self.error(scheme_at, ProblemKind::UnsupportedAuthorization(what));
                None
            }
        }
    }

    /// A security scheme's `x-amazon-apigateway-authorizer`: a Lambda,
    /// Cognito user pool or JWT authorizer, built by the one constructor
    /// (the scopes come from the requirement that names it).
    fn lambda_authorizer(
        &mut self,
        name: &str,
        scheme: &Map<String, Value>,
        authorizer: &Value,
        scheme_at: &str,
    ) -> Option<AuthorizationType> {
        let at = member(scheme_at, "x-amazon-apigateway-authorizer");
        let Some(authorizer) = authorizer.as_object() else {
            self.error(at, ProblemKind::WrongType("an authorizer object"));
            return None;
        };
        let text = |key: &str| authorizer.get(key).and_then(scalar_text);
        let kind = text("type").map(|kind| kind.to_ascii_uppercase());
        let texts = |value: Option<&Value>| -> Vec<String> {
            match value {
                Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
                Some(other) => scalar_text(other).into_iter().collect(),
                None => Vec::new(),
            }
        };
        let jwt = authorizer
            .get("jwtConfiguration")
            .and_then(Value::as_object);
        // A TOKEN authorizer without `identitySource` reads the header the
        // scheme names.
        let header = scheme
            .get("name")
            .and_then(Value::as_str)
            .filter(|_| scheme.get("in").and_then(Value::as_str) == Some("header"));
        let identity_sources = match (text("identitySource"), kind.as_deref(), header) {
            (Some(sources), _, _) => match self.flavour {
                ApiFlavour::Rest => vec![sources],
                ApiFlavour::Http => sources.split(',').map(|s| s.trim().to_owned()).collect(),
            },
            (None, Some("TOKEN" | "COGNITO_USER_POOLS"), Some(header)) => {
                vec![format!("method.request.header.{header}")]
            }
            (None, _, _) => Vec::new(),
        };
        let input = crate::authorizers::AuthorizerInput {
            id: crate::registry::stable_id(&format!("authorizer {name}"), 6),
            name: Some(name.to_owned()),
            kind,
            uri: text("authorizerUri"),
            endpoint: self.options.lambda_endpoint.clone(),
            credentials: text("authorizerCredentials"),
            identity_sources,
            validation_expression: text("identityValidationExpression"),
            ttl_seconds: authorizer
                .get("authorizerResultTtlInSeconds")
                .and_then(Value::as_i64),
            payload_format_version: authorizer
                .get("authorizerPayloadFormatVersion")
                .and_then(version_number),
            simple_responses: authorizer
                .get("enableSimpleResponses")
                .and_then(Value::as_bool),
            provider_arns: texts(authorizer.get("providerARNs")),
            issuer: jwt.and_then(|jwt| jwt.get("issuer")).and_then(scalar_text),
            audience: texts(jwt.and_then(|jwt| jwt.get("audience"))),
            jwks_url: None,
        };
        match crate::authorizers::LambdaAuthorizer::new(self.flavour, input) {
            Ok(built) if built.kind.validates_tokens() => Some(AuthorizationType::Token(Box::new(
                crate::model::TokenAuthorization {
                    authorizer: built,
                    scopes: Vec::new(),
                },
            ))),
            Ok(built) => Some(AuthorizationType::Custom(Box::new(built))),
            Err(invalid) => {
                self.error(at, ProblemKind::InvalidValue(invalid.0));
                None
            }
        }
    }

    fn integration(
        &mut self,
        value: &'a Value,
        at: &str,
        http_method: &str,
    ) -> Option<Integration> {
        let (value, at) = self.resolve_reference(value, at)?;
        let Some(config) = value.as_object() else {
            self.error(at, ProblemKind::WrongType("an integration object"));
            return None;
        };
        let Some(kind) = config.get("type") else {
            self.error(at, ProblemKind::Missing("type"));
            return None;
        };
        let Some(kind) = kind.as_str() else {
            self.error(member(&at, "type"), ProblemKind::WrongType("a string"));
            return None;
        };
        for key in config.keys() {
            if !INTEGRATION_MEMBERS.contains(&key.as_str()) {
                self.warn(member(&at, key), "integration member has no effect here");
            }
        }
        if let Some(connection) = config.get("connectionType")
            && !connection
                .as_str()
                .is_some_and(|c| c.eq_ignore_ascii_case("INTERNET"))
        {
            self.error(
                member(&at, "connectionType"),
                ProblemKind::Unsupported(format!("connectionType {connection}; only INTERNET")),
            );
            return None;
        }
        if config.contains_key("integrationSubtype") {
            // HTTP APIs' AWS service integrations (SQS-SendMessage, …) call
            // AWS itself; the gateway has nothing to forward them to.
            self.error(
                member(&at, "integrationSubtype"),
                ProblemKind::UnsupportedIntegrationType(
                    "AWS service integrations (integrationSubtype)".to_owned(),
                ),
            );
            return None;
        }
        let kind = kind.to_ascii_lowercase();
        match (kind.as_str(), self.flavour) {
            ("mock", ApiFlavour::Rest) => self.mapped(config, &at, "MOCK", http_method),
            ("http", ApiFlavour::Rest) => self.mapped(config, &at, "HTTP", http_method),
            ("mock", ApiFlavour::Http) => {
                self.error(
                    member(&at, "type"),
                    ProblemKind::UnsupportedIntegrationType(
                        "mock: HTTP APIs have no MOCK integrations".to_owned(),
                    ),
                );
                None
            }
            ("http_proxy", _) => self.http_proxy(config, &at, http_method),
            ("aws_proxy", _) => self.aws_proxy(config, &at),
            ("http", ApiFlavour::Http) => {
                self.error(
                    member(&at, "type"),
                    ProblemKind::UnsupportedIntegrationType(
                        "http: HTTP APIs have no non-proxy HTTP integrations".to_owned(),
                    ),
                );
                None
            }
            ("aws", _) => {
                // Fail closed: iamgate does not call AWS services.
                self.error(
                    member(&at, "type"),
                    ProblemKind::UnsupportedIntegrationType(
                        "aws: AWS service integrations".to_owned(),
                    ),
                );
                None
            }
            _ => {
                self.error(
                    member(&at, "type"),
                    ProblemKind::UnsupportedIntegrationType(kind.clone()),
                );
                None
            }
        }
    }

    /// `$ref: '#/components/x-amazon-apigateway-integrations/name'` (HTTP
    /// API exports share integrations that way); one level, local only.
    fn resolve_reference(&mut self, value: &'a Value, at: &str) -> Option<(&'a Value, String)> {
        let Some(reference) = value.get("$ref") else {
            return Some((value, at.to_owned()));
        };
        let here = member(at, "$ref");
        let Some(pointer) = reference.as_str().and_then(|r| r.strip_prefix('#')) else {
            self.error(
                here,
                ProblemKind::Unsupported("references outside this document; use '#/…'".to_owned()),
            );
            return None;
        };
        match self.document.pointer(pointer) {
            Some(target) if target.get("$ref").is_some() => {
                self.error(
                    here,
                    ProblemKind::Unsupported("a reference to a reference".to_owned()),
                );
                None
            }
            Some(target) => {
                // Later problems point into the shared definition.
                let at = pointer
                    .split('/')
                    .skip(1)
                    .map(|token| token.replace("~1", "/").replace("~0", "~"))
                    .fold("$".to_owned(), |path, token| member(&path, &token));
                Some((target, at))
            }
            None => {
                self.error(
                    here,
                    ProblemKind::InvalidIntegration(format!("{reference} points at nothing")),
                );
                None
            }
        }
    }

    fn timeout(&mut self, config: &Map<String, Value>, at: &str) -> Option<u64> {
        let Some(value) = config.get("timeoutInMillis") else {
            return Some(fields::default_timeout_ms(self.flavour));
        };
        let here = member(at, "timeoutInMillis");
        let parsed = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(text) => text.parse::<u64>().ok(),
            _ => None,
        };
        let Some(timeout) = parsed else {
            self.error(here, ProblemKind::WrongType("a number of milliseconds"));
            return None;
        };
        match fields::integration_timeout(self.flavour, timeout) {
            Ok(()) => Some(timeout),
            Err(invalid) => {
                self.error(here, ProblemKind::InvalidIntegration(invalid.0));
                None
            }
        }
    }

    fn required_text(
        &mut self,
        config: &Map<String, Value>,
        at: &str,
        key: &'static str,
    ) -> Option<String> {
        match config.get(key) {
            None => {
                self.error(at.to_owned(), ProblemKind::Missing(key));
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Object(_)) => {
                // SAM's inline DefinitionBody often holds `Fn::Sub`; a file
                // read here is never passed through CloudFormation.
                self.error(
                    member(at, key),
                    ProblemKind::Unsupported(
                        "CloudFormation intrinsic functions; write the value out".to_owned(),
                    ),
                );
                None
            }
            Some(_) => {
                self.error(member(at, key), ProblemKind::WrongType("a string"));
                None
            }
        }
    }

    fn http_proxy(
        &mut self,
        config: &Map<String, Value>,
        at: &str,
        http_method: &str,
    ) -> Option<Integration> {
        let uri = self.required_text(config, at, "uri");
        let uri = uri.and_then(|uri| {
            if uri.contains("${stageVariables.") {
                self.error(
                    member(at, "uri"),
                    ProblemKind::Unsupported("stage variables in the uri".to_owned()),
                );
                return None;
            }
            match check_http_uri(&uri) {
                Ok(()) => Some(uri),
                Err(message) => {
                    self.error(member(at, "uri"), ProblemKind::InvalidIntegration(message));
                    None
                }
            }
        });
        // The data plane forwards with the caller's method, which is what
        // `httpMethod` ANY (or the method itself) means.
        let method_ok = match config.get("httpMethod") {
            None => true,
            Some(value) => match value.as_str().map(str::to_ascii_uppercase) {
                Some(method) if method == "ANY" || method == http_method => true,
                Some(method) => {
                    self.error(
                        member(at, "httpMethod"),
                        ProblemKind::Unsupported(format!(
                            "httpMethod {method} on a {http_method} method: the backend is called with the caller's method"
                        )),
                    );
                    false
                }
                None => {
                    self.error(member(at, "httpMethod"), ProblemKind::WrongType("a string"));
                    false
                }
            },
        };
        let format_ok = match config.get("payloadFormatVersion") {
            None => true,
            Some(value) if version_number(value).as_deref() == Some("1.0") => true,
            Some(value) => {
                self.error(
                    member(at, "payloadFormatVersion"),
                    ProblemKind::InvalidIntegration(format!(
                        "payloadFormatVersion {value}; HTTP proxies take only 1.0"
                    )),
                );
                false
            }
        };
        let timeout_ms = self.timeout(config, at);
        if !method_ok || !format_ok {
            return None;
        }
        Some(Integration::HttpProxy {
            uri: uri?,
            timeout_ms: timeout_ms?,
        })
    }

    fn aws_proxy(&mut self, config: &Map<String, Value>, at: &str) -> Option<Integration> {
        let function = self.required_text(config, at, "uri").and_then(|uri| {
            let function = function_in_uri(&uri);
            if function.is_none() {
                self.error(
                    member(at, "uri"),
                    ProblemKind::InvalidIntegration(format!(
                        "'{uri}' is not a Lambda function ARN or arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations"
                    )),
                );
            }
            function
        });
        // Lambda's Invoke API is a POST.
        let method_ok = match config.get("httpMethod") {
            None => true,
            Some(value)
                if value
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case("POST")) =>
            {
                true
            }
            Some(value) => {
                self.error(
                    member(at, "httpMethod"),
                    ProblemKind::InvalidIntegration(format!(
                        "httpMethod {value}; Lambda functions are invoked with POST"
                    )),
                );
                false
            }
        };
        let payload_format = match (config.get("payloadFormatVersion"), self.flavour) {
            (None, ApiFlavour::Rest) => Some(PayloadFormat::V1),
            (None, ApiFlavour::Http) => {
                // AWS requires it for HTTP APIs; guessing would pick the
                // event shape the function does not expect.
                self.error(at.to_owned(), ProblemKind::Missing("payloadFormatVersion"));
                None
            }
            (Some(value), flavour) => match (version_number(value).as_deref(), flavour) {
                (Some("1.0"), _) => Some(PayloadFormat::V1),
                (Some("2.0"), ApiFlavour::Http) => Some(PayloadFormat::V2),
                _ => {
                    let allowed = match flavour {
                        ApiFlavour::Rest => "REST APIs take only 1.0",
                        ApiFlavour::Http => "1.0 or 2.0",
                    };
                    self.error(
                        member(at, "payloadFormatVersion"),
                        ProblemKind::InvalidIntegration(format!(
                            "payloadFormatVersion {value}; {allowed}"
                        )),
                    );
                    None
                }
            },
        };
        let timeout = self.timeout(config, at);
        let endpoint = match &self.options.lambda_endpoint {
            Some(endpoint) => Some(endpoint.clone()),
            None => {
                self.error(
                    member(at, "uri"),
                    ProblemKind::InvalidIntegration(
                        "no Lambda endpoint was given to invoke functions with".to_owned(),
                    ),
                );
                None
            }
        };
        if !method_ok {
            return None;
        }
        Some(Integration::LambdaProxy {
            endpoint: endpoint?,
            function: function?,
            payload_format: payload_format?,
            timeout_ms: timeout?,
        })
    }

    /// MOCK and HTTP (non-proxy) on a REST API: the members as
    /// PutIntegration and PutIntegrationResponse would store them, checked
    /// and parsed by the one constructor ([`Mapped::from_record`]).
    /// `responses` are keyed by selection pattern (`default`: none), each
    /// naming its status code.
    fn mapped(
        &mut self,
        config: &Map<String, Value>,
        at: &str,
        kind: &str,
        http_method: &str,
    ) -> Option<Integration> {
        let http = kind == "HTTP";
        let (uri, method) = if http {
            let uri = self.required_text(config, at, "uri");
            let method = match config.get("httpMethod") {
                None => Some(http_method.to_owned()),
                Some(Value::String(method)) => Some(method.to_ascii_uppercase()),
                Some(_) => {
                    self.error(member(at, "httpMethod"), ProblemKind::WrongType("a string"));
                    None
                }
            };
            (Some(uri?), Some(method?))
        } else {
            (None, None)
        };
        let timeout_ms = self.timeout(config, at)?;
        let passthrough_behavior = match config.get("passthroughBehavior") {
            None => None,
            Some(Value::String(text)) => Some(text.to_ascii_uppercase()),
            Some(_) => {
                self.error(
                    member(at, "passthroughBehavior"),
                    ProblemKind::WrongType("a string"),
                );
                return None;
            }
        };
        let request_templates = self.text_map(config, at, "requestTemplates")?;
        let request_parameters = self.text_map(config, at, "requestParameters")?;
        let mut integration_responses = BTreeMap::new();
        let responses_at = member(at, "responses");
        match config.get("responses") {
            None => {}
            Some(Value::Object(responses)) => {
                for (pattern, response) in responses {
                    let here = member(&responses_at, pattern);
                    let Some(response) = response.as_object() else {
                        self.error(
                            here,
                            ProblemKind::WrongType("an integration response object"),
                        );
                        return None;
                    };
                    let Some(status) = response.get("statusCode").and_then(scalar_text) else {
                        self.error(here, ProblemKind::Missing("statusCode"));
                        return None;
                    };
                    let record = IntegrationResponseRecord {
                        status_code: status.clone(),
                        content_handling: None,
                        selection_pattern: (pattern != "default").then(|| pattern.clone()),
                        response_parameters: self.text_map(
                            response,
                            &here,
                            "responseParameters",
                        )?,
                        response_templates: self.text_map(response, &here, "responseTemplates")?,
                        given_empty: Default::default(),
                    };
                    if integration_responses
                        .insert(status.clone(), record)
                        .is_some()
                    {
                        self.error(
                            here,
                            ProblemKind::InvalidIntegration(format!(
                                "two integration responses answer with status {status}"
                            )),
                        );
                        return None;
                    }
                }
            }
            Some(_) => {
                self.error(responses_at, ProblemKind::WrongType("an object"));
                return None;
            }
        }
        let record = IntegrationRecord {
            integration_type: kind.to_owned(),
            http_method: method,
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
        };
        match Mapped::from_record(&record) {
            Ok(mapped) => Some(Integration::Mapped(Box::new(mapped))),
            Err(invalid) => {
                self.error(at.to_owned(), ProblemKind::InvalidIntegration(invalid.0));
                None
            }
        }
    }

    /// A `{name: text}` member (templates, parameter mappings); absent is
    /// empty.
    fn text_map(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Option<BTreeMap<String, String>> {
        let here = member(at, key);
        match object.get(key) {
            None | Some(Value::Null) => Some(BTreeMap::new()),
            Some(Value::Object(members)) => {
                let mut out = BTreeMap::new();
                for (name, value) in members {
                    match value {
                        Value::String(text) => {
                            out.insert(name.clone(), text.clone());
                        }
                        // AWS accepts a null template: the content type
                        // with an empty one.
                        Value::Null => {
                            out.insert(name.clone(), String::new());
                        }
                        _ => {
                            self.error(member(&here, name), ProblemKind::WrongType("a string"));
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.error(here, ProblemKind::WrongType("an object"));
                None
            }
        }
    }
}

fn is_vpc_endpoint_id(id: &str) -> bool {
    id.strip_prefix("vpce-").is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    })
}

/// REST resources may have only one variable child (`{id}` or `{proxy+}`)
/// per parent; API Gateway refuses a second one with this message.
fn check_variable_siblings(
    parts: &[PathPart],
    variables: &mut HashMap<Vec<PathPart>, PathPart>,
) -> Result<(), String> {
    for (index, part) in parts.iter().enumerate() {
        if matches!(part, PathPart::Literal(_)) {
            continue;
        }
        let parent = parts.get(..index).unwrap_or_default().to_vec();
        match variables.get(&parent) {
            Some(existing) if existing != part => {
                return Err(format!(
                    "A sibling ({}) of this resource already has a variable path part -- only one is allowed",
                    show_part(existing)
                ));
            }
            Some(_) => {}
            None => {
                variables.insert(parent, part.clone());
            }
        }
    }
    Ok(())
}

fn show_part(part: &PathPart) -> String {
    match part {
        PathPart::Literal(text) => text.clone(),
        PathPart::Param(name) => format!("{{{name}}}"),
        PathPart::Greedy(name) => format!("{{{name}+}}"),
    }
}

/// A route key with parameter names erased: `GET /pets/{id}` and
/// `GET /pets/{petId}` are the same route.
fn route_shape(route: &Route) -> String {
    let Some(parts) = &route.path else {
        return "$default".to_owned();
    };
    let mut shape = route.method.clone().unwrap_or_else(|| "ANY".to_owned());
    for part in parts {
        shape.push('/');
        match part {
            PathPart::Literal(text) => shape.push_str(text),
            PathPart::Param(_) => shape.push_str("{}"),
            PathPart::Greedy(_) => shape.push_str("{+}"),
        }
    }
    shape
}

/// The function a Lambda integration URI names, as the Lambda Invoke API
/// takes it: `name` or `name:qualifier` (version or alias), read by the
/// one parser every front door uses ([`fields::lambda_function`]). An
/// OpenAPI document, as on AWS, names it by ARN.
fn function_in_uri(uri: &str) -> Option<String> {
    fields::lambda_function(uri).and_then(|lambda| lambda.name())
}

/// `x-amazon-apigateway-request-validator`: the validator an operation
/// (or, at the top, every operation) uses.
const REQUEST_VALIDATOR: &str = "x-amazon-apigateway-request-validator";

/// The locations of OpenAPI parameters and the `requestParameters`
/// location each is.
const PARAMETER_LOCATIONS: &[(&str, &str)] = &[
    ("query", "querystring"),
    ("header", "header"),
    ("path", "path"),
];

impl<'a> Importer<'a> {
    /// `components.schemas` (Swagger 2.0: `definitions`): one model each,
    /// for `application/json`, built by the one constructor.
    fn read_models(&mut self) {
        let (schemas, at) = match self.version {
            Some(SpecVersion::Swagger2) => {
                (self.root.get("definitions"), "$.definitions".to_owned())
            }
            _ => (
                self.root.get("components").and_then(|c| c.get("schemas")),
                "$.components.schemas".to_owned(),
            ),
        };
        let Some(schemas) = schemas else {
            return;
        };
        let Some(schemas) = schemas.as_object() else {
            self.error(at, ProblemKind::WrongType("an object of schemas"));
            return;
        };
        let names: Vec<String> = schemas.keys().cloned().collect();
        for (name, schema) in schemas {
            let input = ModelInput {
                id: crate::registry::stable_id(&format!("model {name}"), 6),
                name: Some(name.clone()),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                content_type: Some("application/json".to_owned()),
                schema: Some(schema.to_string()),
            };
            let known = |other: &str| {
                names.iter().any(|n| n == other)
                    || crate::validation::BUILT_IN_MODELS
                        .iter()
                        .any(|(n, _)| *n == other)
            };
            match RestModel::new(input, &known) {
                Ok(model) => {
                    self.models.insert(name.clone(), model);
                }
                Err(invalid) => self.error(member(&at, name), ProblemKind::InvalidValue(invalid.0)),
            }
        }
    }

    /// `x-amazon-apigateway-request-validators`: by name, each
    /// `validateRequestBody` and `validateRequestParameters`.
    fn read_validators(&mut self) {
        let key = "x-amazon-apigateway-request-validators";
        let at = member("$", key);
        let Some(validators) = self.root.get(key) else {
            return;
        };
        let Some(validators) = validators.as_object() else {
            self.error(
                at,
                ProblemKind::WrongType("an object of request validators"),
            );
            return;
        };
        for (name, config) in validators {
            let here = member(&at, name);
            let flag = |member_name: &str| config.get(member_name).map(Value::as_bool);
            let (Some(body), Some(parameters)) = (
                flag("validateRequestBody").unwrap_or(Some(false)),
                flag("validateRequestParameters").unwrap_or(Some(false)),
            ) else {
                self.error(here, ProblemKind::WrongType("booleans"));
                continue;
            };
            let id = crate::registry::stable_id(&format!("validator {name}"), 6);
            match RequestValidator::new(id, Some(name.clone()), body, parameters) {
                Ok(validator) => {
                    self.validators.insert(name.clone(), validator);
                }
                Err(invalid) => self.error(here, ProblemKind::InvalidValue(invalid.0)),
            }
        }
    }

    /// What a REST operation asks of a request: its parameters (the path
    /// item's and its own), its body's models by content type, and its
    /// validator (its own, else the document's). `None` when a problem has
    /// been reported.
    fn method_request(
        &mut self,
        item: &'a Map<String, Value>,
        operation: &'a Value,
        at: &str,
    ) -> Option<MethodRequest> {
        let mut request = MethodRequest::default();
        let mut ok = true;
        let lists = [
            (item.get("parameters"), at.to_owned()),
            (operation.get("parameters"), at.to_owned()),
        ];
        for (list, base) in lists {
            let Some(list) = list else {
                continue;
            };
            let here = member(&base, "parameters");
            let Some(list) = list.as_array() else {
                self.error(here, ProblemKind::WrongType("an array of parameters"));
                ok = false;
                continue;
            };
            for (index, parameter) in list.iter().enumerate() {
                let Some((parameter, where_)) =
                    self.resolve_reference(parameter, &element(&here, index))
                else {
                    ok = false;
                    continue;
                };
                let location = parameter
                    .get("in")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let name = parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if location == "body" {
                    ok &=
                        self.body_models(&mut request, parameter.get("schema"), operation, &where_);
                    continue;
                }
                let Some((_, kind)) = PARAMETER_LOCATIONS.iter().find(|(l, _)| *l == location)
                else {
                    continue;
                };
                if name.is_empty() {
                    self.error(where_, ProblemKind::Missing("name"));
                    ok = false;
                    continue;
                }
                let required = location == "path"
                    || parameter
                        .get("required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                request
                    .parameters
                    .insert(format!("method.request.{kind}.{name}"), required);
            }
        }
        if let Some(body) = operation.get("requestBody") {
            let here = member(at, "requestBody");
            match self.resolve_reference(body, &here) {
                Some((body, where_)) => match body.get("content").and_then(Value::as_object) {
                    Some(content) => {
                        for (content_type, media) in content {
                            let schema_at = member(&member(&where_, "content"), content_type);
                            if let Some(name) = self.model_named(media.get("schema"), &schema_at) {
                                request.models.insert(content_type.clone(), name);
                            } else {
                                ok = false;
                            }
                        }
                    }
                    None => {
                        self.error(where_, ProblemKind::Missing("content"));
                        ok = false;
                    }
                },
                None => ok = false,
            }
        }
        let validator = operation
            .get(REQUEST_VALIDATOR)
            .map(|v| (v, member(at, REQUEST_VALIDATOR)))
            .or_else(|| {
                self.root
                    .get(REQUEST_VALIDATOR)
                    .map(|v| (v, member("$", REQUEST_VALIDATOR)))
            });
        if let Some((name, here)) = validator {
            match name.as_str().and_then(|name| self.validators.get(name)) {
                Some(validator) => request.validator = Some(validator.clone()),
                None => {
                    self.error(
                        here,
                        ProblemKind::InvalidValue(format!(
                            "Invalid request validator name specified: {name}"
                        )),
                    );
                    ok = false;
                }
            }
        }
        let models = &self.models;
        match frozen_models(request.models.values(), &|name| {
            models
                .get(name)
                .cloned()
                .or_else(|| RestModel::built_in("", name))
        }) {
            Ok(schemas) => request.schemas = schemas,
            Err(name) => {
                self.error(
                    at.to_owned(),
                    ProblemKind::InvalidValue(format!(
                        "Invalid model identifier specified: {name}"
                    )),
                );
                ok = false;
            }
        }
        ok.then_some(request)
    }

    /// A Swagger 2.0 body parameter's schema, a model for each content
    /// type the operation consumes (`application/json` when it says none).
    fn body_models(
        &mut self,
        request: &mut MethodRequest,
        schema: Option<&'a Value>,
        operation: &'a Value,
        at: &str,
    ) -> bool {
        let Some(name) = self.model_named(schema, &member(at, "schema")) else {
            return false;
        };
        let consumes: Vec<String> = operation
            .get("consumes")
            .or_else(|| self.root.get("consumes"))
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .filter(|types: &Vec<String>| !types.is_empty())
            .unwrap_or_else(|| vec!["application/json".to_owned()]);
        for content_type in consumes {
            request.models.insert(content_type, name.clone());
        }
        true
    }

    /// The model a request body's `schema` names by `$ref`; an inline
    /// schema is refused (name it among the document's schemas).
    fn model_named(&mut self, schema: Option<&Value>, at: &str) -> Option<String> {
        let reference = schema.and_then(|s| s.get("$ref")).and_then(Value::as_str);
        let name = reference.and_then(|r| {
            r.strip_prefix("#/components/schemas/")
                .or_else(|| r.strip_prefix("#/definitions/"))
        });
        match name {
            Some(name) => Some(name.replace("~1", "/").replace("~0", "~")),
            None => {
                self.error(
                    at.to_owned(),
                    ProblemKind::Unsupported(
                        "a request body schema that is not a $ref to the document's schemas"
                            .to_owned(),
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;

    const LAMBDA: &str = "http://127.0.0.1:9001";

    fn rest(text: &str) -> Result<ImportedApi, ImportError> {
        import(
            text,
            &ImportOptions {
                flavour: Some(ApiFlavour::Rest),
                lambda_endpoint: Some(LAMBDA.to_owned()),
            },
        )
    }

    fn http(text: &str) -> Result<ImportedApi, ImportError> {
        import(
            text,
            &ImportOptions {
                flavour: Some(ApiFlavour::Http),
                lambda_endpoint: Some(LAMBDA.to_owned()),
            },
        )
    }

    fn problems(result: Result<ImportedApi, ImportError>) -> Vec<ImportProblem> {
        match result {
            Ok(api) => panic!("imported, expected errors: {api:?}"),
            Err(error) => error.problems,
        }
    }

    fn has(problems: &[ImportProblem], path: &str, kind: impl Fn(&ProblemKind) -> bool) -> bool {
        problems.iter().any(|p| p.path == path && kind(&p.kind))
    }

    #[test]
    fn an_unknown_validator_an_inline_body_schema_and_a_schema_not_enforced_are_refused() {
        let text = r##"
openapi: 3.0.1
x-amazon-apigateway-request-validator: nobody
components:
  schemas:
    Pet: { type: object, example: { name: x } }
paths:
  /a:
    post:
      requestBody:
        content:
          application/json: { schema: { type: object } }
      x-amazon-apigateway-integration: { type: mock }
"##;
        let found = problems(rest(text));
        assert!(has(&found, "$.components.schemas.Pet", |k| matches!(
            k,
            ProblemKind::InvalidValue(m) if m.contains("Invalid model schema specified")
        )));
        assert!(has(
            &found,
            "$.paths['/a'].post.requestBody.content['application/json']",
            |k| matches!(k, ProblemKind::Unsupported(_))
        ));
        assert!(has(
            &found,
            "$['x-amazon-apigateway-request-validator']",
            |k| matches!(k, ProblemKind::InvalidValue(_))
        ));
    }

    const MOCK_GET: &str = r#"
openapi: 3.0.1
info: { title: pets }
paths:
  /pets:
    get:
      x-amazon-apigateway-integration:
        type: MOCK
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses:
          default:
            statusCode: 200
            responseTemplates: { application/json: '{"pets":[]}' }
"#;

    #[test]
    fn an_openapi_3_yaml_document_becomes_a_rest_api() {
        let api = rest(MOCK_GET).unwrap();
        assert_eq!(api.name.as_deref(), Some("pets"));
        assert_eq!(api.version, SpecVersion::OpenApi3("3.0.1".into()));
        assert_eq!(api.flavour, ApiFlavour::Rest);
        assert_eq!(api.methods.len(), 1);
        let method = &api.methods[0];
        assert_eq!(method.http_method, "GET");
        assert_eq!(method.resource_path, "/pets");
        assert_eq!(method.authorization, AuthorizationType::None);
        let Integration::Mapped(mapped) = &method.integration else {
            panic!("{:?}", method.integration)
        };
        let record = mapped.to_record();
        assert_eq!(record.integration_type, "MOCK");
        assert_eq!(
            record.integration_responses["200"].response_templates["application/json"],
            r#"{"pets":[]}"#
        );
    }

    #[test]
    fn json_and_swagger_2_are_read_too() {
        let text = r#"{"swagger":"2.0","info":{"title":"j"},"paths":{"/":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}}}}}"#;
        let api = rest(text).unwrap();
        assert_eq!(api.version, SpecVersion::Swagger2);
        assert_eq!(api.methods[0].resource_path, "/");
        // YAML reads an unquoted 2.0 as a number.
        let yaml = "swagger: 2.0\npaths: {}\n";
        assert_eq!(rest(yaml).unwrap().version, SpecVersion::Swagger2);
    }

    #[test]
    fn a_missing_or_unknown_version_is_refused() {
        let missing = problems(rest("paths: {}\n"));
        assert!(has(&missing, "$", |k| matches!(k, ProblemKind::Version(_))));
        let old = problems(rest("swagger: '1.2'\npaths: {}\n"));
        assert!(has(&old, "$.swagger", |k| matches!(
            k,
            ProblemKind::Version(_)
        )));
        let both = problems(rest("swagger: '2.0'\nopenapi: 3.0.0\npaths: {}\n"));
        assert!(has(&both, "$", |k| matches!(k, ProblemKind::Version(_))));
        let four = problems(rest("openapi: 4.0.0\npaths: {}\n"));
        assert!(has(&four, "$.openapi", |k| matches!(
            k,
            ProblemKind::Version(_)
        )));
    }

    #[test]
    fn garbage_and_non_objects_are_syntax_or_type_errors() {
        assert!(matches!(
            problems(rest("{ not json")).as_slice(),
            [ImportProblem {
                kind: ProblemKind::Syntax(_),
                ..
            }]
        ));
        assert!(matches!(
            problems(rest("- a\n- b\n")).as_slice(),
            [ImportProblem {
                kind: ProblemKind::WrongType(_),
                ..
            }]
        ));
    }

    #[test]
    fn parameters_greedy_paths_and_any_method_become_resources() {
        let text = r#"
openapi: 3.0.1
paths:
  /pets/{petId}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration: { type: mock }
    get:
      x-amazon-apigateway-integration: { type: mock }
  /files/{proxy+}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration: { type: http_proxy, httpMethod: ANY, uri: "http://backend/{proxy}" }
"#;
        let api = rest(text).unwrap();
        let mut keys: Vec<(String, String)> = api
            .methods
            .iter()
            .map(|m| (m.http_method.clone(), m.resource_path.clone()))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                ("ANY".into(), "/files/{proxy+}".into()),
                ("ANY".into(), "/pets/{petId}".into()),
                ("GET".into(), "/pets/{petId}".into()),
            ]
        );
        let files = api
            .methods
            .iter()
            .find(|m| m.resource_path == "/files/{proxy+}")
            .unwrap();
        assert_eq!(
            files.integration,
            Integration::HttpProxy {
                uri: "http://backend/{proxy}".into(),
                timeout_ms: 29_000
            }
        );
    }

    #[test]
    fn invalid_paths_are_reported_with_their_location() {
        let text = r#"
openapi: 3.0.1
paths:
  pets:
    get: { x-amazon-apigateway-integration: { type: mock } }
  /a/{proxy+}/b:
    get: { x-amazon-apigateway-integration: { type: mock } }
  /a//b:
    get: { x-amazon-apigateway-integration: { type: mock } }
  /x{id}:
    get: { x-amazon-apigateway-integration: { type: mock } }
"#;
        let found = problems(rest(text));
        for path in [
            "$.paths.pets",
            "$.paths['/a/{proxy+}/b']",
            "$.paths['/a//b']",
            "$.paths['/x{id}']",
        ] {
            assert!(
                has(&found, path, |k| matches!(k, ProblemKind::InvalidPath(_))),
                "{path} not reported: {found:?}"
            );
        }
    }

    #[test]
    fn two_variable_siblings_are_refused_on_rest_apis() {
        let text = r#"
openapi: 3.0.1
paths:
  /pets/{id}:
    get: { x-amazon-apigateway-integration: { type: mock } }
  /pets/{petId}/toys:
    get: { x-amazon-apigateway-integration: { type: mock } }
"#;
        let found = problems(rest(text));
        assert!(found.iter().any(|p| matches!(&p.kind,
            ProblemKind::InvalidPath(m) if m.contains("already has a variable path part"))));
    }

    #[test]
    fn sigv4_security_is_aws_iam_and_operations_may_override_the_global_one() {
        let text = r#"
openapi: 3.0.1
security: [ { sigv4: [] } ]
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /private:
    get: { x-amazon-apigateway-integration: { type: mock } }
  /public:
    get:
      security: []
      x-amazon-apigateway-integration: { type: mock }
  /optional:
    get:
      security: [ {} ]
      x-amazon-apigateway-integration: { type: mock }
"#;
        let api = rest(text).unwrap();
        let auth = |path: &str| {
            api.methods
                .iter()
                .find(|m| m.resource_path == path)
                .unwrap()
                .authorization
                .clone()
        };
        assert_eq!(auth("/private"), AuthorizationType::AwsIam);
        assert_eq!(auth("/public"), AuthorizationType::None);
        assert_eq!(auth("/optional"), AuthorizationType::None);
    }

    #[test]
    fn swagger_security_definitions_and_the_auth_extension_are_honoured() {
        let text = r#"
swagger: "2.0"
securityDefinitions:
  sigv4: { type: apiKey, name: authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /a:
    get:
      security: [ { sigv4: [] } ]
      x-amazon-apigateway-integration: { type: mock }
  /b:
    get:
      x-amazon-apigateway-auth: { type: aws_iam }
      x-amazon-apigateway-integration: { type: mock }
"#;
        let api = rest(text).unwrap();
        assert!(
            api.methods
                .iter()
                .all(|m| m.authorization == AuthorizationType::AwsIam)
        );
    }

    #[test]
    fn malformed_authorizers_api_keys_outside_the_header_and_unknown_schemes_fail_closed() {
        let text = r#"
openapi: 3.0.1
components:
  securitySchemes:
    lambda:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: cognito_user_pools
      x-amazon-apigateway-authorizer: { type: cognito_user_pools, providerARNs: ["arn:…"] }
    cognito: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: cognito_user_pools }
    key: { type: apiKey, name: x-api-key, in: header }
    query_key: { type: apiKey, name: x-api-key, in: query }
    jwt: { type: oauth2, flows: {} }
    badsig: { type: apiKey, name: X-Sig, in: query, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /a: { get: { security: [ { lambda: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /b: { get: { security: [ { cognito: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /c: { get: { security: [ { query_key: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /d: { get: { security: [ { jwt: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /e: { get: { security: [ { nowhere: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /f: { get: { security: [ { badsig: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /g: { get: { x-amazon-apigateway-auth: { type: CUSTOM }, x-amazon-apigateway-integration: { type: mock } } }
"#;
        let found = problems(rest(text));
        let unsupported = |p: &str| {
            has(&found, p, |k| {
                matches!(k, ProblemKind::UnsupportedAuthorization(_))
            })
        };
        // A user pool authorizer whose ARN names no pool.
        assert!(has(
            &found,
            "$.components.securitySchemes.lambda['x-amazon-apigateway-authorizer']",
            |k| matches!(k, ProblemKind::InvalidValue(m) if m.contains("Invalid provider ARN"))
        ));
        assert!(unsupported(
            "$.components.securitySchemes.cognito['x-amazon-apigateway-authtype']"
        ));
        assert!(unsupported("$.components.securitySchemes.query_key"));
        assert!(unsupported("$.components.securitySchemes.jwt"));
        assert!(unsupported("$.components.securitySchemes.badsig"));
        assert!(unsupported(
            "$.paths['/g'].get['x-amazon-apigateway-auth'].type"
        ));
        assert!(has(&found, "$.paths['/e'].get.security[0]", |k| matches!(
            k,
            ProblemKind::UnknownSecurityScheme(n) if n == "nowhere"
        )));
    }

    #[test]
    fn lambda_authorizers_import_as_custom_methods_and_routes() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations";
        let text = format!(
            r#"
openapi: 3.0.1
components:
  securitySchemes:
    tok:
      type: apiKey
      name: X-Token
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer: {{ type: token, authorizerUri: "{uri}", identityValidationExpression: "t-.*", authorizerResultTtlInSeconds: 60 }}
    bad:
      type: apiKey
      name: X-Token
      in: header
      x-amazon-apigateway-authorizer: {{ type: token, authorizerUri: "arn:aws:lambda:us-east-1:1:function:f" }}
paths:
  /a: {{ get: {{ security: [ {{ tok: [] }} ], x-amazon-apigateway-integration: {{ type: mock }} }} }}
"#
        );
        let api = rest(&text).unwrap();
        let authorizer = api.methods[0].authorization.authorizer().unwrap();
        assert_eq!(authorizer.name, "tok");
        assert_eq!(
            authorizer.identity_sources,
            vec![crate::authorizers::IdentitySource::Header("X-Token".into())]
        );
        assert_eq!(authorizer.ttl_seconds, 60);
        assert!(authorizer.token_is_valid("t-1") && !authorizer.token_is_valid("x"));
        let bad = text.replace("security: [ { tok: [] } ]", "security: [ { bad: [] } ]");
        let found = problems(rest(&bad));
        assert!(has(
            &found,
            "$.components.securitySchemes.bad['x-amazon-apigateway-authorizer']",
            |k| matches!(k, ProblemKind::InvalidValue(m) if m.contains("Authorizer URI"))
        ));
        let http = format!(
            r#"
openapi: 3.0.1
x-amazon-apigateway-importexport-version: "1.0"
components:
  securitySchemes:
    req:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer: {{ type: request, authorizerUri: "{uri}", identitySource: "$request.header.Authorization, $request.querystring.k", authorizerPayloadFormatVersion: "2.0", enableSimpleResponses: true }}
paths:
  /p: {{ get: {{ security: [ {{ req: [] }} ], x-amazon-apigateway-integration: {{ type: http_proxy, uri: "http://127.0.0.1:9/", payloadFormatVersion: "1.0" }} }} }}
"#
        );
        let imported = import(
            &http,
            &ImportOptions {
                flavour: Some(ApiFlavour::Http),
                lambda_endpoint: None,
            },
        )
        .unwrap();
        let authorizer = imported.routes[0].authorization.authorizer().unwrap();
        assert_eq!(authorizer.payload_format, PayloadFormat::V2);
        assert!(authorizer.simple_responses);
        assert_eq!(authorizer.identity_sources.len(), 2);
    }

    #[test]
    fn optional_signing_and_combined_schemes_are_refused() {
        let text = r#"
openapi: 3.0.1
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
    other: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /a: { get: { security: [ { sigv4: [] }, {} ], x-amazon-apigateway-integration: { type: mock } } }
  /b: { get: { security: [ { sigv4: [], other: [] } ], x-amazon-apigateway-integration: { type: mock } } }
"#;
        let found = problems(rest(text));
        assert!(has(&found, "$.paths['/a'].get.security", |k| matches!(
            k,
            ProblemKind::UnsupportedAuthorization(_)
        )));
        assert!(has(&found, "$.paths['/b'].get.security[0]", |k| matches!(
            k,
            ProblemKind::UnsupportedAuthorization(_)
        )));
    }

    #[test]
    fn an_api_key_scheme_beside_an_authorizer_requires_a_key_and_sets_the_key_source() {
        let text = r#"
openapi: 3.0.1
x-amazon-apigateway-api-key-source: AUTHORIZER
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
    api_key: { type: apiKey, name: x-api-key, in: header }
paths:
  /both: { get: { security: [ { sigv4: [], api_key: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /key: { get: { security: [ { api_key: [] } ], x-amazon-apigateway-integration: { type: mock } } }
  /open: { get: { x-amazon-apigateway-integration: { type: mock } } }
"#;
        let api = rest(text).unwrap();
        assert_eq!(api.api_key_source.as_deref(), Some("AUTHORIZER"));
        let by_path = |path: &str| {
            api.methods
                .iter()
                .find(|m| m.resource_path == path)
                .unwrap()
        };
        assert_eq!(by_path("/both").authorization, AuthorizationType::AwsIam);
        assert!(by_path("/both").api_key_required);
        assert_eq!(by_path("/key").authorization, AuthorizationType::None);
        assert!(by_path("/key").api_key_required);
        assert!(!by_path("/open").api_key_required);

        let bad = text.replace("source: AUTHORIZER", "source: QUERY");
        let found = problems(rest(&bad));
        assert!(has(
            &found,
            "$['x-amazon-apigateway-api-key-source']",
            |k| matches!(k, ProblemKind::InvalidValue(m) if m.contains("[HEADER, AUTHORIZER]"))
        ));
        // HTTP APIs have no API keys: the scheme is refused, not ignored.
        let http = text
            .replace("x-amazon-apigateway-api-key-source: AUTHORIZER\n", "")
            .replace("{ type: mock }", "{ type: http_proxy, httpMethod: GET, uri: \"http://b/\", payloadFormatVersion: \"1.0\" }");
        let imported = import(
            &http,
            &ImportOptions {
                flavour: Some(ApiFlavour::Http),
                lambda_endpoint: None,
            },
        );
        assert!(imported.is_err());
    }

    #[test]
    fn a_broken_global_security_is_reported_once_and_imports_nothing() {
        let text = r#"
openapi: 3.0.1
security: [ { missing: [] } ]
paths:
  /a: { get: { x-amazon-apigateway-integration: { type: mock } } }
  /b: { get: { x-amazon-apigateway-integration: { type: mock } } }
"#;
        let found = problems(rest(text));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "$.security[0]");
    }

    #[test]
    fn lambda_uris_name_the_function_in_uri() {
        assert_eq!(
            function_in_uri(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:pets-fn/invocations"
            ),
            Some("pets-fn".into())
        );
        assert_eq!(
            function_in_uri(
                "arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/arn:aws-cn:lambda:cn-north-1:123456789012:function:f:live/invocations"
            ),
            Some("f:live".into())
        );
        assert_eq!(
            function_in_uri("arn:aws:lambda:us-east-1:123456789012:function:direct"),
            Some("direct".into())
        );
        for bad in [
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations",
            "arn:aws:apigateway:us-east-1:s3:path/bucket/key",
            "arn:aws:lambda:us-east-1:123456789012:layer:x",
            "arn:aws:lambda:us-east-1:123456789012:function:a:b:c",
            "arn:aws:lambda:us-east-1:123456789012:function:bad/name",
            "https://example.com",
            "",
        ] {
            assert_eq!(function_in_uri(bad), None, "{bad}");
        }
    }

    #[test]
    fn aws_proxy_becomes_a_lambda_proxy_with_the_given_endpoint() {
        let text = r#"
openapi: 3.0.1
paths:
  /pets:
    post:
      x-amazon-apigateway-integration:
        type: AWS_PROXY
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:pets/invocations
"#;
        let api = rest(text).unwrap();
        assert_eq!(
            api.methods[0].integration,
            Integration::LambdaProxy {
                endpoint: LAMBDA.into(),
                function: "pets".into(),
                payload_format: PayloadFormat::V1,
                timeout_ms: 29_000
            }
        );
        let without_endpoint = import(
            text,
            &ImportOptions {
                flavour: None,
                lambda_endpoint: None,
            },
        );
        assert!(has(
            &problems(without_endpoint),
            "$.paths['/pets'].post['x-amazon-apigateway-integration'].uri",
            |k| matches!(k, ProblemKind::InvalidIntegration(_))
        ));
    }

    #[test]
    fn integration_values_are_checked() {
        let at = |p: &str| format!("$.paths['{p}'].get['x-amazon-apigateway-integration']");
        let text = r#"
openapi: 3.0.1
paths:
  /a: { get: { x-amazon-apigateway-integration: { type: aws_proxy, httpMethod: GET, uri: "arn:aws:lambda:us-east-1:123456789012:function:f" } } }
  /b: { get: { x-amazon-apigateway-integration: { type: aws_proxy, uri: "arn:aws:lambda:us-east-1:123456789012:function:f", payloadFormatVersion: "2.0" } } }
  /c: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b", timeoutInMillis: 40000 } } }
  /d: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "https://b" } } }
  /e: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b", httpMethod: POST } } }
  /f: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: { "Fn::Sub": "http://${Host}" } } } }
  /g: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b", connectionType: VPC_LINK } } }
  /h: { get: { x-amazon-apigateway-integration: { type: aws_proxy, uri: "arn:aws:s3:::bucket" } } }
  /i: { get: { x-amazon-apigateway-integration: { type: http_proxy } } }
"#;
        let found = problems(rest(text));
        let expect = [
            (format!("{}.httpMethod", at("/a")), "InvalidIntegration"),
            (
                format!("{}.payloadFormatVersion", at("/b")),
                "InvalidIntegration",
            ),
            (
                format!("{}.timeoutInMillis", at("/c")),
                "InvalidIntegration",
            ),
            (format!("{}.uri", at("/d")), "InvalidIntegration"),
            (format!("{}.httpMethod", at("/e")), "Unsupported"),
            (format!("{}.uri", at("/f")), "Unsupported"),
            (format!("{}.connectionType", at("/g")), "Unsupported"),
            (format!("{}.uri", at("/h")), "InvalidIntegration"),
            (at("/i"), "Missing"),
        ];
        for (path, kind) in expect {
            assert!(
                found
                    .iter()
                    .any(|p| p.path == path && format!("{:?}", p.kind).starts_with(kind)),
                "{kind} at {path} not in {found:#?}"
            );
        }
    }

    #[test]
    fn unknown_and_aws_service_integration_types_are_refused() {
        let text = r#"
openapi: 3.0.1
paths:
  /a: { get: { x-amazon-apigateway-integration: { type: aws, uri: "arn:aws:apigateway:us-east-1:s3:path/b" } } }
  /c: { get: { x-amazon-apigateway-integration: { type: teleport } } }
  /d: { get: { summary: no integration } }
  /e: { get: { x-amazon-apigateway-integration: { type: aws_proxy, integrationSubtype: SQS-SendMessage } } }
"#;
        let found = problems(rest(text));
        for p in ["/a", "/c"] {
            let path = format!("$.paths['{p}'].get['x-amazon-apigateway-integration'].type");
            assert!(
                has(&found, &path, |k| matches!(
                    k,
                    ProblemKind::UnsupportedIntegrationType(_)
                )),
                "{path}: {found:?}"
            );
        }
        assert!(has(&found, "$.paths['/d'].get", |k| *k
            == ProblemKind::NoIntegration));
        assert!(has(
            &found,
            "$.paths['/e'].get['x-amazon-apigateway-integration'].integrationSubtype",
            |k| matches!(k, ProblemKind::UnsupportedIntegrationType(_))
        ));
    }

    #[test]
    fn mock_and_http_integrations_keep_templates_and_responses_by_selection_pattern() {
        let text = r#"
openapi: 3.0.1
paths:
  /teapot/{id}:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 418}' }
        responses:
          "4\\d\\d":
            statusCode: "418"
            responseParameters:
              method.response.header.Access-Control-Allow-Origin: "'*'"
            responseTemplates: { text/plain: "short and stout $input.params('id')" }
          default: { statusCode: "200" }
  /backend:
    post:
      x-amazon-apigateway-integration:
        type: http
        uri: "http://127.0.0.1:9/items/{id}"
        passthroughBehavior: never
        requestParameters: { integration.request.path.id: "'7'" }
        requestTemplates: { application/json: '{"n": $input.json(''$.n'')}' }
        responses: { default: { statusCode: 200 } }
"#;
        let api = rest(text).unwrap();
        let find = |p: &str| {
            let integration = api
                .methods
                .iter()
                .find(|m| m.resource_path == p)
                .unwrap()
                .integration
                .clone();
            let Integration::Mapped(mapped) = integration else {
                panic!("{p}: {integration:?}")
            };
            mapped
        };
        let teapot = find("/teapot/{id}").to_record();
        assert_eq!(teapot.integration_type, "MOCK");
        assert_eq!(
            teapot.integration_responses["418"]
                .selection_pattern
                .as_deref(),
            Some("4\\d\\d")
        );
        assert_eq!(
            teapot.integration_responses["418"].response_templates["text/plain"],
            "short and stout $input.params('id')"
        );
        assert_eq!(teapot.integration_responses["200"].selection_pattern, None);
        let backend = find("/backend");
        assert_eq!(
            backend.backend,
            crate::mapping::Backend::Http {
                method: "POST".into(),
                uri: "http://127.0.0.1:9/items/{id}".into(),
                timeout_ms: 29_000
            }
        );
        assert_eq!(backend.passthrough, crate::mapping::Passthrough::Never);
    }

    #[test]
    fn unparsable_templates_and_unknown_passthrough_behaviors_are_refused() {
        let text = r#"
openapi: 3.0.1
paths:
  /v:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses:
          default:
            statusCode: 200
            responseTemplates: { application/json: '#if($x) never closed' }
  /w:
    get:
      x-amazon-apigateway-integration:
        type: mock
        passthroughBehavior: sometimes
"#;
        let found = problems(rest(text));
        for (path, text) in [
            (
                "/v",
                "Invalid mapping template specified for content type 'application/json'",
            ),
            ("/w", "Invalid passthrough behavior specified: SOMETIMES"),
        ] {
            let at = format!("$.paths['{path}'].get['x-amazon-apigateway-integration']");
            assert!(
                has(
                    &found,
                    &at,
                    |k| matches!(k, ProblemKind::InvalidIntegration(m) if m.starts_with(text))
                ),
                "{path}: {found:?}"
            );
        }
    }

    #[test]
    fn resource_policy_is_kept_for_rest_and_refused_for_http() {
        let text = r#"
openapi: 3.0.1
x-amazon-apigateway-policy:
  Version: "2012-10-17"
  Statement:
    - { Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: "execute-api:/*" }
paths: {}
"#;
        let api = rest(text).unwrap();
        assert_eq!(
            api.policy.unwrap()["Statement"][0]["Resource"],
            "execute-api:/*"
        );
        let found = problems(http(text));
        assert!(has(
            &found,
            "$['x-amazon-apigateway-policy']",
            |k| matches!(k, ProblemKind::Unsupported(_))
        ));
        // Also accepted as a JSON string, as exports write it.
        let string = "openapi: 3.0.1\npaths: {}\nx-amazon-apigateway-policy: '{\"Version\":\"2012-10-17\",\"Statement\":[]}'\n";
        assert!(rest(string).unwrap().policy.is_some());
        let not_policy = "openapi: 3.0.1\npaths: {}\nx-amazon-apigateway-policy: 7\n";
        assert!(!problems(rest(not_policy)).is_empty());
    }

    #[test]
    fn endpoint_configuration_types_and_vpc_endpoints() {
        let private = r#"
swagger: "2.0"
x-amazon-apigateway-endpoint-configuration:
  types: [PRIVATE]
  vpcEndpointIds: [vpce-0212a4ababd5b8c3e]
paths: {}
"#;
        let api = rest(private).unwrap();
        assert_eq!(api.endpoint_type, Some(EndpointType::Private));
        assert_eq!(
            api.vpc_endpoint_ids,
            vec!["vpce-0212a4ababd5b8c3e".to_owned()]
        );

        let on_server = r#"
openapi: 3.0.1
servers:
  - url: https://example.com/{basePath}
    x-amazon-apigateway-endpoint-configuration: { types: [EDGE] }
paths: {}
"#;
        assert_eq!(
            rest(on_server).unwrap().endpoint_type,
            Some(EndpointType::Edge)
        );

        let implied = "openapi: 3.0.1\npaths: {}\nx-amazon-apigateway-endpoint-configuration: { vpcEndpointIds: [vpce-1a] }\n";
        assert_eq!(
            rest(implied).unwrap().endpoint_type,
            Some(EndpointType::Private)
        );

        let bad = r#"
openapi: 3.0.1
paths: {}
x-amazon-apigateway-endpoint-configuration:
  types: [REGIONAL, EDGE]
  vpcEndpointIds: [not-a-vpce]
  disableExecuteApiEndpoint: true
"#;
        let found = problems(rest(bad));
        let at = "$['x-amazon-apigateway-endpoint-configuration']";
        assert!(has(&found, &format!("{at}.types"), |k| matches!(
            k,
            ProblemKind::InvalidEndpointConfiguration(_)
        )));
        assert!(has(
            &found,
            &format!("{at}.vpcEndpointIds[0]"),
            |k| matches!(k, ProblemKind::InvalidEndpointConfiguration(_))
        ));
        assert!(has(
            &found,
            &format!("{at}.disableExecuteApiEndpoint"),
            |k| matches!(k, ProblemKind::Unsupported(_))
        ));
    }

    const HTTP_API: &str = r##"
openapi: 3.0.1
info: { title: http-pets }
x-amazon-apigateway-importexport-version: "1.0"
components:
  securitySchemes:
    sigv4: { type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4 }
  x-amazon-apigateway-integrations:
    pets:
      type: aws_proxy
      httpMethod: POST
      uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:pets/invocations
      payloadFormatVersion: "2.0"
paths:
  /pets/{id}:
    get:
      security: [ { sigv4: [] } ]
      x-amazon-apigateway-integration: { $ref: "#/components/x-amazon-apigateway-integrations/pets" }
  /$default:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: ANY
        uri: http://backend.internal/
        payloadFormatVersion: 1.0
"##;

    #[test]
    fn the_importexport_version_makes_an_http_api_with_routes() {
        let api = import(
            HTTP_API,
            &ImportOptions {
                flavour: None,
                lambda_endpoint: Some(LAMBDA.into()),
            },
        )
        .unwrap();
        assert_eq!(api.flavour, ApiFlavour::Http);
        assert!(api.methods.is_empty());
        let mut keys: Vec<&str> = api.routes.iter().map(|r| r.key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, vec!["$default", "GET /pets/{id}"]);
        let pets = api
            .routes
            .iter()
            .find(|r| r.key == "GET /pets/{id}")
            .unwrap();
        assert_eq!(pets.authorization, AuthorizationType::AwsIam);
        assert_eq!(pets.method.as_deref(), Some("GET"));
        assert_eq!(
            pets.integration,
            Integration::LambdaProxy {
                endpoint: LAMBDA.into(),
                function: "pets".into(),
                payload_format: PayloadFormat::V2,
                timeout_ms: 30_000
            }
        );
        let default = api.routes.iter().find(|r| r.key == "$default").unwrap();
        assert_eq!((default.method.clone(), default.path.clone()), (None, None));
        assert_eq!(default.authorization, AuthorizationType::None);
    }

    #[test]
    fn http_apis_refuse_mock_and_need_a_payload_format_for_lambda() {
        let text = r#"
openapi: 3.0.1
paths:
  /a: { get: { x-amazon-apigateway-integration: { type: mock } } }
  /b: { get: { x-amazon-apigateway-integration: { type: aws_proxy, uri: "arn:aws:lambda:us-east-1:123456789012:function:f" } } }
  /$default: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b" } } }
  /c/{id}: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b" } } }
  /c/{other}: { get: { x-amazon-apigateway-integration: { type: http_proxy, uri: "http://b" } } }
"#;
        let found = problems(http(text));
        assert!(has(
            &found,
            "$.paths['/a'].get['x-amazon-apigateway-integration'].type",
            |k| matches!(k, ProblemKind::UnsupportedIntegrationType(_))
        ));
        assert!(has(
            &found,
            "$.paths['/b'].get['x-amazon-apigateway-integration']",
            |k| *k == ProblemKind::Missing("payloadFormatVersion")
        ));
        assert!(has(&found, "$.paths['/$default'].get", |k| matches!(
            k,
            ProblemKind::InvalidPath(_)
        )));
        assert!(
            found
                .iter()
                .any(|p| matches!(&p.kind, ProblemKind::Duplicate(_)))
        );
    }

    #[test]
    fn ignored_extensions_are_warnings_not_errors() {
        let text = r#"
openapi: 3.0.1
x-amazon-apigateway-binary-media-types: ["image/png"]
x-amazon-apigateway-gateway-responses: {}
paths:
  /a:
    get:
      x-amazon-apigateway-documentation: all
      x-amazon-apigateway-integration: { type: mock, passthroughBehavior: when_no_match, cacheKeyParameters: [] }
"#;
        let api = rest(text).unwrap();
        let paths: Vec<&str> = api.warnings.iter().map(|w| w.path.as_str()).collect();
        assert!(paths.contains(&"$['x-amazon-apigateway-binary-media-types']"));
        assert!(paths.contains(&"$.paths['/a'].get['x-amazon-apigateway-documentation']"));
        assert!(
            paths.contains(
                &"$.paths['/a'].get['x-amazon-apigateway-integration'].cacheKeyParameters"
            )
        );
    }

    #[test]
    fn the_error_reads_like_aws_and_lists_every_problem() {
        let text = r#"
openapi: 3.0.1
paths:
  /a: { get: { x-amazon-apigateway-integration: { type: teleport } } }
  /b: { trace: { x-amazon-apigateway-integration: { type: mock } } }
"#;
        let error = rest(text).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("Errors found during import:\n\t"),
            "{message}"
        );
        assert_eq!(message.matches("\n\t").count(), 2, "{message}");
        assert!(message.contains("$.paths['/b'].trace: not supported"));
    }

    #[test]
    fn gateway_responses_are_imported_through_the_one_constructor() {
        let text = r#"
openapi: 3.0.1
paths: {}
x-amazon-apigateway-gateway-responses:
  ACCESS_DENIED:
    statusCode: 401
    responseParameters: { gatewayresponse.header.X-Why: "'denied'" }
    responseTemplates: { application/json: '{"why":"$context.error.message"}' }
  DEFAULT_5XX:
    responseTemplates: { text/plain: 'down' }
"#;
        let api = rest(text).unwrap();
        assert_eq!(api.gateway_responses.len(), 2);
        let denied = &api.gateway_responses[&crate::gateway_responses::ResponseType::AccessDenied];
        assert_eq!(denied.status_code, Some(401));
        assert_eq!(
            denied
                .response_parameters
                .get("gatewayresponse.header.X-Why")
                .map(String::as_str),
            Some("'denied'")
        );
        assert!(
            api.warnings
                .iter()
                .all(|w| !w.path.contains("gateway-responses"))
        );
    }

    #[test]
    fn a_bad_gateway_response_refuses_the_import() {
        let text = r##"
openapi: 3.0.1
paths: {}
x-amazon-apigateway-gateway-responses:
  NOT_A_TYPE: {}
  DEFAULT_4XX: { statusCode: "700" }
  ACCESS_DENIED: { responseTemplates: { application/json: "#if(" } }
"##;
        let error = rest(text).unwrap_err();
        // Sorted: the document's member order depends on serde_json's
        // features in the build.
        let mut paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            vec![
                "$['x-amazon-apigateway-gateway-responses'].ACCESS_DENIED",
                "$['x-amazon-apigateway-gateway-responses'].DEFAULT_4XX",
                "$['x-amazon-apigateway-gateway-responses'].NOT_A_TYPE",
            ]
        );
    }

    #[test]
    fn json_paths_quote_what_is_not_a_plain_name() {
        assert_eq!(member("$", "paths"), "$.paths");
        assert_eq!(member("$", "x-y"), "$['x-y']");
        assert_eq!(member("$", "it's"), "$['it\\'s']");
        assert_eq!(member("$", "200"), "$['200']");
    }
}
