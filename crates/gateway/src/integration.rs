//! What answers an authorized request: a MOCK response, an HTTP backend
//! (HTTP_PROXY) or a function behind the Lambda Invoke API (AWS_PROXY).
//!
//! The Lambda proxy speaks the `POST {endpoint}/2015-03-31/functions/{name}/invocations`
//! API that the Lambda Runtime Interface Emulator, `cargo lambda watch` and
//! `sam local start-lambda` serve, with API Gateway's event shapes: payload
//! 1.0 (`requestContext.identity`) and 2.0 (`requestContext.authorizer.iam`).
//! A backend that fails or answers nonsense gets AWS's error, never a panic.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use iamgate_iam::Caller;
use serde_json::{Map, Value, json};

use crate::client_cert::ClientCert;
use crate::routing::PathParams;
use iamgate_apimodel::fields;
use iamgate_apimodel::model::{Integration, PayloadFormat};

/// The request as the integration sees it (the path is the part after the stage).
#[derive(Debug, Clone)]
pub struct Forwarded<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a [u8])],
    pub body: &'a [u8],
    pub source_ip: Option<String>,
}

/// Who the API is and who is calling, for the event's `requestContext`.
#[derive(Debug, Clone)]
pub struct EventContext<'a> {
    pub api_id: &'a str,
    pub account: &'a str,
    pub stage: &'a str,
    pub template: &'a str,
    pub params: &'a PathParams,
    pub caller: Option<&'a Caller>,
    pub access_key_id: Option<&'a str>,
    pub request_id: &'a str,
    pub now_millis: i64,
    /// The stage's variables (`$stageVariables`).
    pub stage_variables: &'a [(String, String)],
    /// The verified mutual-TLS client certificate, if any.
    pub client_cert: Option<&'a ClientCert>,
    /// A Lambda authorizer's answer, for `requestContext.authorizer` and
    /// `$context.authorizer`.
    pub authorizer: Option<&'a crate::authorizers::Authorized>,
}

/// What the integration answered, before the gateway adds its own headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why an integration produced no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationFailure {
    /// The backend did not answer in time (504).
    Timeout,
    /// The backend could not be reached or answered something unusable (502/500).
    Failed,
    /// No request template for the request's Content-Type and the
    /// passthrough behavior refuses it (415).
    UnsupportedMediaType,
    /// A mapping template failed to render, or no integration response
    /// matched (AWS's 500 "Internal server error").
    Mapping,
}

/// Headers that describe one hop, never forwarded.
pub(crate) const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Headers of a MOCK or Lambda answer that API Gateway does not send as
/// given but renames to `x-amzn-Remapped-<name>` (the response side of the
/// header table in the API Gateway Developer Guide's "Amazon API Gateway
/// important notes for REST APIs"; `Date` and `Server` are then written
/// by the gateway itself).
const REMAPPED: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "max-forwards",
    "server",
    "user-agent",
    "www-authenticate",
];

/// Headers of a MOCK or Lambda answer that API Gateway drops: they
/// describe one hop, which the gateway's own connection to the client is.
const DROPPED: &[&str] = &[
    "expect",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// An answer's headers as API Gateway sends them (REST and HTTP APIs
/// alike): framing and other reserved headers renamed to
/// `x-amzn-Remapped-<name>` or dropped.
///
/// # Why
///
/// The framing of the response to the client is the gateway's: its
/// `Content-Length` is the length of the body it sends. A function that
/// answers `Content-Length: 5` with a longer body, or `Transfer-Encoding:
/// chunked`, would otherwise make the client read a different response
/// than the one sent (truncation, or a smuggled second response on a
/// kept-alive connection). AWS keeps the value visible under the remapped
/// name, and so does this.
pub fn remap_reserved_headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .filter(|(name, _)| !DROPPED.iter().any(|d| d.eq_ignore_ascii_case(name)))
        .map(|(name, value)| {
            if REMAPPED.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
                (format!("x-amzn-Remapped-{name}"), value)
            } else {
                (name, value)
            }
        })
        .collect()
}

/// Where the Lambda Invoke API is served when an integration names no
/// endpoint of its own: `sam local start-lambda`'s default address.
pub const DEFAULT_LAMBDA_ENDPOINT: &str = "http://127.0.0.1:3001";

/// Calls integrations over one pooled HTTP client.
pub struct Integrations {
    client: Client<HttpConnector, Full<Bytes>>,
    lambda_endpoint: String,
    /// What [`Integrations::fetch`] trusts for `https://` (the server's
    /// choice of CAs); without it `https://` fetches fail.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for Integrations {
    fn default() -> Self {
        Self::new(DEFAULT_LAMBDA_ENDPOINT)
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Integrations {
    /// Integrations whose `AWS_PROXY` functions without an endpoint of
    /// their own (those made through the control plane, where AWS's region
    /// decides) are invoked at `lambda_endpoint`.
    pub fn new(lambda_endpoint: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            lambda_endpoint: lambda_endpoint.to_owned(),
            tls: None,
        }
    }

    /// The same integrations, fetching `https://` URLs with `tls`.
    pub fn with_tls(self, tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            tls: Some(tls),
            ..self
        }
    }

    pub async fn call(
        &self,
        integration: &Integration,
        request: &Forwarded<'_>,
        context: &EventContext<'_>,
    ) -> Result<Answer, IntegrationFailure> {
        match integration {
            Integration::Mock {
                status,
                headers,
                body,
            } => Ok(Answer {
                status: *status,
                headers: remap_reserved_headers(headers.clone()),
                body: body.clone().into_bytes(),
            }),
            Integration::HttpProxy { uri, timeout_ms } => {
                let target = proxy_uri(uri, context.params, request.query);
                let mut builder = hyper::Request::builder().method(request.method).uri(target);
                for (name, value) in request.headers {
                    if !HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                        builder = builder.header(*name, *value);
                    }
                }
                let outgoing = builder
                    .body(Full::new(Bytes::copy_from_slice(request.body)))
                    .map_err(|_| IntegrationFailure::Failed)?;
                self.send(outgoing, Duration::from_millis(*timeout_ms))
                    .await
            }
            Integration::Mapped(mapped) => self.call_mapped(mapped, request, context).await,
            Integration::LambdaProxy {
                endpoint,
                function,
                payload_format,
                timeout_ms,
            } => {
                let event = match payload_format {
                    PayloadFormat::V1 => rest_event(request, context),
                    PayloadFormat::V2 => http_event(request, context),
                };
                let output = self
                    .invoke(
                        endpoint,
                        function,
                        &event,
                        Duration::from_millis(*timeout_ms),
                        usize::MAX,
                    )
                    .await?;
                lambda_answer(&output, *payload_format)
            }
        }
    }

    /// Invokes `function` with `event` through the Lambda Invoke API at
    /// `endpoint` (empty: the server's), and returns its output: the one
    /// way both AWS_PROXY integrations and Lambda authorizers call a
    /// function. A status other than 200, a function error
    /// (`X-Amz-Function-Error`), or an output longer than `limit` bytes is
    /// a failure.
    pub async fn invoke(
        &self,
        endpoint: &str,
        function: &str,
        event: &Value,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, IntegrationFailure> {
        let endpoint = if endpoint.is_empty() {
            &self.lambda_endpoint
        } else {
            endpoint
        };
        let uri = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            endpoint.trim_end_matches('/')
        );
        let outgoing = hyper::Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|_| IntegrationFailure::Failed)?;
        let answer = self.send_limited(outgoing, timeout, limit).await?;
        let function_error = answer
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("x-amz-function-error"));
        if answer.status != 200 || function_error {
            return Err(IntegrationFailure::Failed);
        }
        Ok(answer.body)
    }

    /// GETs `url` and returns its body: how `JWT` and `COGNITO_USER_POOLS`
    /// authorizers fetch an issuer's discovery document and signing keys.
    /// A status other than 200, or a body longer than `limit` bytes, is a
    /// failure.
    pub async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, IntegrationFailure> {
        let uri: hyper::Uri = url.parse().map_err(|_| IntegrationFailure::Failed)?;
        let answer = if uri.scheme_str() == Some("https") {
            let tls = self.tls.clone().ok_or(IntegrationFailure::Failed)?;
            tokio::time::timeout(timeout, fetch_tls(tls, &uri, limit))
                .await
                .map_err(|_| IntegrationFailure::Timeout)??
        } else {
            let outgoing = hyper::Request::builder()
                .method("GET")
                .uri(uri)
                .header("accept", "application/json")
                .body(Full::new(Bytes::new()))
                .map_err(|_| IntegrationFailure::Failed)?;
            self.send_limited(outgoing, timeout, limit).await?
        };
        if answer.status != 200 {
            return Err(IntegrationFailure::Failed);
        }
        Ok(answer.body)
    }

    pub(crate) async fn send(
        &self,
        request: hyper::Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Answer, IntegrationFailure> {
        self.send_limited(request, timeout, usize::MAX).await
    }

    /// [`Integrations::send`], reading at most `limit` bytes of the
    /// answer's body: a longer one is a failure, never buffered whole.
    async fn send_limited(
        &self,
        request: hyper::Request<Full<Bytes>>,
        timeout: Duration,
        limit: usize,
    ) -> Result<Answer, IntegrationFailure> {
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|_| IntegrationFailure::Failed)?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, limit)
                .collect()
                .await
                .map_err(|_| IntegrationFailure::Failed)?
                .to_bytes();
            let headers = parts
                .headers
                .iter()
                .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
                .map(|(name, value)| (name.as_str().to_owned(), text(value.as_bytes())))
                .collect();
            Ok(Answer {
                status: parts.status.as_u16(),
                headers,
                body: body.to_vec(),
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| IntegrationFailure::Timeout)?
    }
}

/// One `GET uri` over TLS (rustls on ring, the server's one provider),
/// reading at most `limit` bytes of the answer.
async fn fetch_tls(
    tls: Arc<rustls::ClientConfig>,
    uri: &hyper::Uri,
    limit: usize,
) -> Result<Answer, IntegrationFailure> {
    let failed = |_| IntegrationFailure::Failed;
    let host = uri.host().ok_or(IntegrationFailure::Failed)?;
    let port = uri.port_u16().unwrap_or(443);
    let name = rustls_pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
        .map_err(|_| IntegrationFailure::Failed)?;
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(failed)?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(failed)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|_| IntegrationFailure::Failed)?;
    tokio::spawn(connection);
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let outgoing = hyper::Request::builder()
        .method("GET")
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", authority)
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))
        .map_err(|_| IntegrationFailure::Failed)?;
    let response = sender
        .send_request(outgoing)
        .await
        .map_err(|_| IntegrationFailure::Failed)?;
    let status = response.status().as_u16();
    let body = http_body_util::Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map_err(|_| IntegrationFailure::Failed)?
        .to_bytes();
    Ok(Answer {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    })
}

/// Fills `{name}` and `{name+}` placeholders of an HTTP_PROXY URI with the
/// path parameters, and passes the query string on.
pub fn proxy_uri(template: &str, params: &PathParams, query: &str) -> String {
    let mut uri = template.to_owned();
    for (name, value) in params {
        uri = uri
            .replace(&format!("{{{name}+}}"), value)
            .replace(&format!("{{{name}}}"), value);
    }
    if !query.is_empty() {
        uri.push(if uri.contains('?') { '&' } else { '?' });
        uri.push_str(query);
    }
    uri
}

fn single_headers(headers: &[(&str, &[u8])]) -> Map<String, Value> {
    headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), Value::String(text(v))))
        .collect()
}

pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Query and path values as the event carries them: `+` a space, `%XX` a
/// byte, a malformed escape passed on as it came (the workspace's one
/// decoder, `iamgate_sigv4::percent`).
pub(crate) fn decode(text: &str) -> String {
    let bytes = iamgate_sigv4::percent::decode_lenient(
        text.as_bytes(),
        iamgate_sigv4::percent::Plus::Space,
    );
    String::from_utf8_lossy(&bytes).into_owned()
}

fn params_object(params: &PathParams) -> Value {
    if params.is_empty() {
        return Value::Null;
    }
    Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(decode(v))))
            .collect(),
    )
}

fn body_field(body: &[u8]) -> (Value, bool) {
    if body.is_empty() {
        return (Value::Null, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => {
            use base64::Engine as _;
            (
                Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            )
        }
    }
}

/// The stage's variables as a proxy event carries them: an object, or
/// `null` when the stage has none (as AWS sends them).
fn stage_variables(variables: &[(String, String)]) -> Value {
    if variables.is_empty() {
        return Value::Null;
    }
    Value::Object(
        variables
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// The REST (payload 1.0) event.
pub fn rest_event(request: &Forwarded<'_>, context: &EventContext<'_>) -> Value {
    let pairs = query_pairs(request.query);
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (key, value) in &pairs {
        single.insert(key.clone(), Value::String(value.clone()));
        if let Value::Array(values) = multi
            .entry(key.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value.clone()));
        }
    }
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers {
        if let Value::Array(values) = multi_headers
            .entry((*name).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(text(value)));
        }
    }
    let (body, base64) = body_field(request.body);
    let mut identity = match context.caller {
        Some(caller) => json!({
            "accessKey": context.access_key_id,
            "accountId": caller.account(),
            "caller": caller.user_id(),
            "user": caller.user_id(),
            "userArn": caller.arn(),
            "principalOrgId": null,
            "cognitoIdentityPoolId": null, "cognitoIdentityId": null,
            "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null,
            "apiKey": null, "apiKeyId": null,
            "sourceIp": request.source_ip,
            "userAgent": header(request, "user-agent"),
        }),
        None => json!({
            "accessKey": null, "accountId": null, "caller": null, "user": null, "userArn": null,
            "principalOrgId": null,
            "cognitoIdentityPoolId": null, "cognitoIdentityId": null,
            "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null,
            "apiKey": null, "apiKeyId": null,
            "sourceIp": request.source_ip,
            "userAgent": header(request, "user-agent"),
        }),
    };
    if let (Some(cert), Value::Object(fields)) = (context.client_cert, &mut identity) {
        fields.insert("clientCert".into(), cert.to_json());
    }
    json!({
        "resource": context.template,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers(request.headers),
        "multiValueHeaders": multi_headers,
        "queryStringParameters": if pairs.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueQueryStringParameters": if pairs.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": params_object(context.params),
        "stageVariables": stage_variables(context.stage_variables),
        "requestContext": {
            "accountId": context.account,
            "apiId": context.api_id,
            "resourcePath": context.template,
            "httpMethod": request.method,
            "path": format!("/{}{}", context.stage, request.path),
            "stage": context.stage,
            "requestId": context.request_id,
            "requestTimeEpoch": context.now_millis,
            "protocol": "HTTP/1.1",
            "identity": identity,
            "authorizer": context.authorizer.map(rest_authorizer),
        },
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// `requestContext.authorizer` of a payload 1.0 event: the authorizer's
/// `principalId` and its `context`, flattened, as AWS passes them.
fn rest_authorizer(authorized: &crate::authorizers::Authorized) -> Value {
    if let Some(token) = &authorized.token {
        // A Cognito user pool (REST) or JWT (HTTP 1.0) authorizer: the
        // token's claims, and on HTTP APIs its scopes.
        let mut fields = Map::new();
        fields.insert("claims".into(), Value::Object(token.claims.clone()));
        if token.http {
            fields.insert("scopes".into(), json!(token.scopes));
        }
        return Value::Object(fields);
    }
    let mut fields = authorized.context.clone();
    if let Some(principal) = &authorized.principal_id {
        fields.insert("principalId".into(), Value::String(principal.clone()));
    }
    fields.insert("integrationLatency".into(), Value::from(0));
    Value::Object(fields)
}

fn header(request: &Forwarded<'_>, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| text(v))
}

/// The HTTP API (payload 2.0) event.
pub fn http_event(request: &Forwarded<'_>, context: &EventContext<'_>) -> Value {
    let pairs = query_pairs(request.query);
    let mut query = Map::new();
    for (key, value) in &pairs {
        // Repeated parameters are joined with commas in payload 2.0.
        let joined = match query.get(key) {
            Some(Value::String(previous)) => format!("{previous},{value}"),
            _ => value.clone(),
        };
        query.insert(key.clone(), Value::String(joined));
    }
    let mut headers = Map::new();
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        let joined = match headers.get(&name) {
            Some(Value::String(previous)) => format!("{previous},{}", text(value)),
            _ => text(value),
        };
        headers.insert(name, Value::String(joined));
    }
    let (body, base64) = body_field(request.body);
    let mut request_context = json!({
        "accountId": context.account,
        "apiId": context.api_id,
        "requestId": context.request_id,
        "routeKey": context.template,
        "stage": context.stage,
        "timeEpoch": context.now_millis,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": header(request, "user-agent"),
        },
    });
    if let (Some(authorized), Value::Object(fields)) = (context.authorizer, &mut request_context) {
        let authorizer = match &authorized.token {
            Some(token) => json!({ "jwt": { "claims": token.claims, "scopes": token.scopes } }),
            None => json!({ "lambda": Value::Object(authorized.context.clone()) }),
        };
        fields.insert("authorizer".into(), authorizer);
    }
    if let (Some(caller), Value::Object(fields)) = (context.caller, &mut request_context) {
        fields.insert(
            "authorizer".into(),
            json!({ "iam": {
                "accessKey": context.access_key_id,
                "accountId": caller.account(),
                "callerId": caller.user_id(),
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": caller.arn(),
                "userId": caller.user_id(),
            }}),
        );
    }
    if let (Some(cert), Value::Object(fields)) = (context.client_cert, &mut request_context) {
        fields.insert(
            "authentication".into(),
            json!({ "clientCert": cert.to_json() }),
        );
    }
    json!({
        "version": "2.0",
        "routeKey": context.template,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "queryStringParameters": if pairs.is_empty() { Value::Null } else { Value::Object(query) },
        "pathParameters": params_object(context.params),
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// Reads a function's answer. Payload 1.0 must be `{statusCode, headers?,
/// body?, isBase64Encoded?}`; payload 2.0 also accepts any other JSON,
/// which becomes a 200 JSON body, as API Gateway infers.
pub fn lambda_answer(output: &[u8], format: PayloadFormat) -> Result<Answer, IntegrationFailure> {
    let value: Value = serde_json::from_slice(output).map_err(|_| IntegrationFailure::Failed)?;
    let structured = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(object) = structured else {
        return match format {
            PayloadFormat::V2 => Ok(Answer {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: value.to_string().into_bytes(),
            }),
            PayloadFormat::V1 => Err(IntegrationFailure::Failed),
        };
    };
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or(IntegrationFailure::Failed)?;
    let mut headers = Vec::new();
    if let Some(map) = object.get("headers") {
        let map = map.as_object().ok_or(IntegrationFailure::Failed)?;
        for (name, value) in map {
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return Err(IntegrationFailure::Failed),
            };
            // A header no HTTP response may carry makes the whole answer
            // malformed, as API Gateway treats it: AWS's 502, never a
            // response that cannot be sent.
            if !fields::is_header_name(name) || !fields::is_header_value(&value) {
                return Err(IntegrationFailure::Failed);
            }
            headers.push((name.clone(), value));
        }
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => {
            if object.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| IntegrationFailure::Failed)?
            } else {
                text.clone().into_bytes()
            }
        }
        Some(_) => return Err(IntegrationFailure::Failed),
    };
    Ok(Answer {
        status,
        headers: remap_reserved_headers(headers),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_answers_framing_headers_are_remapped_or_dropped() {
        let answer = lambda_answer(
            br#"{"statusCode":200,"headers":{"Content-Length":"5","transfer-encoding":"chunked","Connection":"close","WWW-Authenticate":"Basic","x-kept":"1"},"body":"longer than five"}"#,
            PayloadFormat::V1,
        )
        .unwrap();
        let mut headers = answer.headers.clone();
        headers.sort();
        assert_eq!(
            headers,
            vec![
                ("x-amzn-Remapped-Connection".to_owned(), "close".to_owned()),
                ("x-amzn-Remapped-Content-Length".to_owned(), "5".to_owned()),
                (
                    "x-amzn-Remapped-WWW-Authenticate".to_owned(),
                    "Basic".to_owned()
                ),
                ("x-kept".to_owned(), "1".to_owned()),
            ]
        );
        assert_eq!(answer.body, b"longer than five");
    }

    #[tokio::test]
    async fn a_mock_answers_framing_headers_are_remapped_or_dropped() {
        let integration = Integration::Mock {
            status: 200,
            headers: vec![
                ("content-length".to_owned(), "1".to_owned()),
                ("Transfer-Encoding".to_owned(), "chunked".to_owned()),
                ("x-kept".to_owned(), "1".to_owned()),
            ],
            body: "mocked".to_owned(),
        };
        let request = Forwarded {
            method: "GET",
            path: "/",
            query: "",
            headers: &[],
            body: b"",
            source_ip: None,
        };
        let params = PathParams::default();
        let context = EventContext {
            api_id: "a1b2c3d4e5",
            account: "111122223333",
            stage: "prod",
            template: "/",
            params: &params,
            caller: None,
            access_key_id: None,
            request_id: "id",
            now_millis: 0,
            stage_variables: &[],
            client_cert: None,
            authorizer: None,
        };
        let answer = Integrations::default()
            .call(&integration, &request, &context)
            .await
            .unwrap();
        assert_eq!(
            answer.headers,
            vec![
                ("x-amzn-Remapped-content-length".to_owned(), "1".to_owned()),
                ("x-kept".to_owned(), "1".to_owned()),
            ]
        );
    }

    /// What a validated token passes on: REST (payload 1.0) `claims`,
    /// HTTP payload 1.0 `claims` and `scopes`, payload 2.0 `jwt`, and REST
    /// mapping templates' `$context.authorizer.claims.*`.
    #[test]
    fn a_validated_tokens_claims_reach_events_and_templates_where_aws_puts_them() {
        let authorized = |http: bool| crate::authorizers::Authorized {
            principal_id: None,
            policy: None,
            is_authorized: Some(true),
            context: Map::new(),
            usage_identifier_key: None,
            token: Some(crate::authorizers::TokenClaims {
                claims: json!({"sub": "u1", "cognito:username": "alice"})
                    .as_object()
                    .unwrap()
                    .clone(),
                scopes: http.then(|| vec!["read".to_owned()]),
                http,
            }),
        };
        let request = Forwarded {
            method: "GET",
            path: "/",
            query: "",
            headers: &[],
            body: b"",
            source_ip: None,
        };
        let params = PathParams::default();
        let (rest, http) = (authorized(false), authorized(true));
        let context = |authorizer| EventContext {
            api_id: "a1b2c3d4e5",
            account: "111122223333",
            stage: "prod",
            template: "/",
            params: &params,
            caller: None,
            access_key_id: None,
            request_id: "id",
            now_millis: 0,
            stage_variables: &[],
            client_cert: None,
            authorizer: Some(authorizer),
        };
        let event = rest_event(&request, &context(&rest));
        assert_eq!(
            event["requestContext"]["authorizer"],
            json!({"claims": {"sub": "u1", "cognito:username": "alice"}})
        );
        let event = rest_event(&request, &context(&http));
        assert_eq!(
            event["requestContext"]["authorizer"]["scopes"],
            json!(["read"])
        );
        let event = http_event(&request, &context(&http));
        assert_eq!(
            event["requestContext"]["authorizer"],
            json!({"jwt": {"claims": {"sub": "u1", "cognito:username": "alice"}, "scopes": ["read"]}})
        );
        let inputs = crate::mapping::inputs(&request, &context(&rest));
        let rendered = iamgate_vtl::Template::parse("$context.authorizer.claims.sub")
            .unwrap()
            .render(&inputs)
            .unwrap();
        assert_eq!(rendered.body, "u1");
    }

    #[test]
    fn event_query_values_decode_like_every_other_reader() {
        assert_eq!(
            query_pairs("a=x+y%21&b=%+1&c=%zz&d"),
            vec![
                ("a".to_owned(), "x y!".to_owned()),
                // Not an escape: `%` stays, `+` is a space (the old decoder
                // read `%+1` as the byte 0x01).
                ("b".to_owned(), "% 1".to_owned()),
                ("c".to_owned(), "%zz".to_owned()),
                ("d".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn proxy_uris_take_path_parameters_and_the_query() {
        let params = vec![
            ("proxy".to_owned(), "a/b".to_owned()),
            ("id".to_owned(), "7".to_owned()),
        ];
        assert_eq!(
            proxy_uri("http://127.0.0.1:9000/{proxy}", &params, "x=1"),
            "http://127.0.0.1:9000/a/b?x=1"
        );
        assert_eq!(
            proxy_uri("http://h/items/{id}?v=2", &params, "x=1"),
            "http://h/items/7?v=2&x=1"
        );
    }

    #[test]
    fn lambda_output_must_have_a_valid_status_on_payload_1() {
        let ok = lambda_answer(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"body":"hi"}"#,
            PayloadFormat::V1,
        )
        .unwrap();
        assert_eq!((ok.status, ok.body.as_slice()), (201, b"hi".as_slice()));
        for bad in [
            &b"not json"[..],
            br#"{"body":"no status"}"#,
            br#"{"statusCode":"200"}"#,
            br#"{"statusCode":99}"#,
            br#"{"statusCode":200,"headers":[]}"#,
            br#"{"statusCode":200,"body":{}}"#,
            br#"{"statusCode":200,"headers":{"x-a":"1\r\nx-b: 2"}}"#,
            br#"{"statusCode":200,"headers":{"x a":"1"}}"#,
        ] {
            assert_eq!(
                lambda_answer(bad, PayloadFormat::V1),
                Err(IntegrationFailure::Failed),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn payload_2_infers_a_json_body_from_plain_output() {
        let answer = lambda_answer(br#"{"hello":"world"}"#, PayloadFormat::V2).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, br#"{"hello":"world"}"#);
        let encoded = lambda_answer(
            br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#,
            PayloadFormat::V2,
        )
        .unwrap();
        assert_eq!(encoded.body, b"hi");
    }

    #[test]
    fn lambda_events_carry_the_mutual_tls_client_certificate() {
        let cert = ClientCert {
            pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            subject_dn: "CN=client,O=Example".into(),
            issuer_dn: "CN=Example CA".into(),
            serial_number: "80:01:ab".into(),
            not_before: "May 28 12:30:02 2019 GMT".into(),
            not_after: "Aug  5 09:36:04 2021 GMT".into(),
        };
        let request = Forwarded {
            method: "GET",
            path: "/",
            query: "",
            headers: &[],
            body: b"",
            source_ip: None,
        };
        let params = PathParams::default();
        let mut context = EventContext {
            api_id: "a1b2c3d4e5",
            account: "111122223333",
            stage: "prod",
            template: "/",
            params: &params,
            caller: None,
            access_key_id: None,
            request_id: "id",
            now_millis: 0,
            stage_variables: &[],
            client_cert: Some(&cert),
            authorizer: None,
        };
        let expected = json!({
            "clientCertPem": cert.pem,
            "subjectDN": "CN=client,O=Example",
            "issuerDN": "CN=Example CA",
            "serialNumber": "80:01:ab",
            "validity": {
                "notBefore": "May 28 12:30:02 2019 GMT",
                "notAfter": "Aug  5 09:36:04 2021 GMT",
            },
        });
        let rest = rest_event(&request, &context);
        assert_eq!(rest["requestContext"]["identity"]["clientCert"], expected);
        let http = http_event(&request, &context);
        assert_eq!(
            http["requestContext"]["authentication"]["clientCert"],
            expected
        );
        // Without mutual TLS the events say nothing of a certificate.
        context.client_cert = None;
        let rest = rest_event(&request, &context);
        assert!(
            rest["requestContext"]["identity"]
                .get("clientCert")
                .is_none()
        );
        let http = http_event(&request, &context);
        assert!(http["requestContext"].get("authentication").is_none());
    }
}
