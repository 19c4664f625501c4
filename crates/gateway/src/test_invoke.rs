//! Test invoke: an API's authorizer or method run on a simulated request,
//! against the API's current (undeployed) definition, with the data
//! plane's own code — the identity sources, the authorizer event and
//! answer of [`crate::authorizers`], the token checks of [`crate::jwt`],
//! and the integrations of [`crate::integration`] with their mapping
//! templates. What API Gateway's TestInvokeAuthorizer and TestInvokeMethod
//! answer with.
//!
//! As AWS's test invoke, a method runs without its authorization (no
//! signature, authorizer or resource policy is checked) and without its
//! API key, throttles or quota; the stage is `test-invoke-stage`, and an
//! authorizer is asked about `ESTestInvoke-stage` (the method ARN AWS's
//! test invoke sends). No answer is cached: a test invoke always calls
//! the function.
//!
//! The log says what ran and what it decided, never a header's value, a
//! token, an API key or the body: header names only.

use std::time::Instant;

use iamgate_apimodel::authorizers::{IdentitySource, LambdaAuthorizer};
use iamgate_apimodel::model::{ApiFlavour, EndpointType, Integration};
use iamgate_apimodel::stored::RestApiRecord;
use serde_json::{Map, Value};

use crate::authorizers::{
    AUTHORIZER_TIMEOUT, AuthorizerFailure, AuthorizerRequest, MAX_ANSWER_BYTES, event, identity,
    parse_answer,
};
use crate::dataplane::DataPlane;
use crate::integration::{EventContext, Forwarded, IntegrationFailure};
use crate::responses::{
    GatewayResponse, rest_integration_timeout, rest_internal_failure, rest_internal_server_error,
    rest_unsupported_media_type,
};
use crate::routing::{PathParams, RestMatch, route_rest};

/// `$context.stage` of a test invocation (AWS's).
pub const TEST_STAGE: &str = "test-invoke-stage";

/// The stage in the method ARN a tested authorizer is sent (AWS's).
pub const AUTHORIZER_TEST_STAGE: &str = "ESTestInvoke-stage";

/// The simulated request.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    /// The path, without the query string.
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub stage_variables: Vec<(String, String)>,
    /// `$context` variables an identity source may name.
    pub additional_context: Vec<(String, String)>,
}

/// What the authorizer answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerOutcome {
    /// 200 when it answered (allow or deny is the policy's to say), 401
    /// for a missing identity source or a refused token, 500 for a
    /// function that failed or answered nonsense.
    pub client_status: u16,
    pub principal_id: Option<String>,
    /// The returned policy document, as JSON text.
    pub policy: Option<String>,
    /// A user pool token's claims, as strings.
    pub claims: Option<Vec<(String, String)>>,
    pub log: String,
    pub latency_ms: u64,
}

/// What the method answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodOutcome {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub log: String,
    pub latency_ms: u64,
}

/// The execution log of one test invocation.
struct Log {
    lines: Vec<String>,
    time: String,
}

impl Log {
    fn new(request_id: &str, now: i64) -> Self {
        let mut log = Log {
            lines: vec![format!("Execution log for request {request_id}")],
            time: iamgate_sigv4::time::format_basic(now),
        };
        log.line(format!("Starting execution for request: {request_id}"));
        log
    }

    fn line(&mut self, text: impl AsRef<str>) {
        self.lines
            .push(format!("{} : {}", self.time, text.as_ref()));
    }

    fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }
}

/// Header names only: their values may be tokens or keys.
fn header_names(headers: &[(String, String)]) -> String {
    let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    format!("[{}]", names.join(", "))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl DataPlane {
    /// Runs `authorizer` of `api` on `request`, as TestInvokeAuthorizer.
    pub async fn test_authorizer(
        &self,
        api: &RestApiRecord,
        authorizer: &LambdaAuthorizer,
        request: &TestRequest,
        request_id: &str,
        now: i64,
    ) -> AuthorizerOutcome {
        let started = Instant::now();
        let mut log = Log::new(request_id, now);
        log.line(format!(
            "Test invoke of {} authorizer {} ({}) of API {}",
            authorizer.kind.as_str(),
            authorizer.name,
            authorizer.id,
            api.id
        ));
        log.line(format!(
            "Incoming request headers: {}",
            header_names(&request.headers)
        ));
        let mut outcome = if authorizer.kind.validates_tokens() {
            self.test_token_authorizer(api, authorizer, request, now, &mut log)
                .await
        } else {
            self.test_lambda_authorizer(api, authorizer, request, request_id, now, &mut log)
                .await
        };
        log.line(format!(
            "Execution completed: the client would receive {}",
            outcome.client_status
        ));
        outcome.log = log.text();
        outcome.latency_ms = elapsed_ms(started);
        outcome
    }

    async fn test_lambda_authorizer(
        &self,
        api: &RestApiRecord,
        authorizer: &LambdaAuthorizer,
        request: &TestRequest,
        request_id: &str,
        now: i64,
        log: &mut Log,
    ) -> AuthorizerOutcome {
        let arn = crate::arn::execute_api_arn(
            &api.region,
            &api.account,
            &api.id,
            AUTHORIZER_TEST_STAGE,
            "GET",
            &request.path,
        );
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let forwarded = Forwarded {
            method: "GET",
            path: &request.path,
            query: &request.query,
            headers: &headers,
            body: &[],
            source_ip: None,
        };
        let params = PathParams::new();
        let context = EventContext {
            api_id: &api.id,
            account: &api.account,
            stage: AUTHORIZER_TEST_STAGE,
            template: &request.path,
            params: &params,
            caller: None,
            access_key_id: None,
            request_id,
            now_millis: now.saturating_mul(1000),
            stage_variables: &request.stage_variables,
            client_cert: None,
            authorizer: None,
        };
        let mut variables: Vec<(&str, String)> = vec![
            ("requestId", request_id.to_owned()),
            ("apiId", api.id.clone()),
            ("stage", AUTHORIZER_TEST_STAGE.to_owned()),
            ("httpMethod", "GET".to_owned()),
            ("resourcePath", request.path.clone()),
        ];
        for (name, value) in &request.additional_context {
            variables.push((name.as_str(), value.clone()));
        }
        let authorizer_request = AuthorizerRequest {
            flavour: ApiFlavour::Rest,
            forwarded: &forwarded,
            context: &context,
            method_arn: &arn,
            context_variables: &variables,
        };
        let failed = |status: u16, log: &mut Log, why: &str| {
            log.line(why);
            AuthorizerOutcome {
                client_status: status,
                ..AuthorizerOutcome::default()
            }
        };
        let identity = match identity(authorizer, &authorizer_request) {
            Ok(identity) => identity,
            Err(_) => {
                return failed(
                    401,
                    log,
                    "Unauthorized: an identity source is missing or empty, or the token does not match the validation expression; the function was not called",
                );
            }
        };
        log.line(format!("Endpoint request method ARN: {arn}"));
        log.line(format!(
            "Invoking Lambda function {} ({} identity source value(s))",
            authorizer.function,
            identity.len()
        ));
        let event = event(authorizer, &authorizer_request, &identity);
        let body = match self
            .integrations
            .invoke(
                &authorizer.endpoint,
                &authorizer.function,
                &event,
                AUTHORIZER_TIMEOUT,
                MAX_ANSWER_BYTES.saturating_add(1),
            )
            .await
        {
            Ok(body) => body,
            Err(_) => {
                return failed(
                    500,
                    log,
                    "Execution failed due to configuration error: the authorizer function failed, timed out or could not be reached",
                );
            }
        };
        match parse_answer(authorizer, ApiFlavour::Rest, &body) {
            Ok(answer) => {
                log.line(format!(
                    "Authorizer answered with principalId {}",
                    answer.principal_id.as_deref().unwrap_or("(none)")
                ));
                AuthorizerOutcome {
                    client_status: 200,
                    principal_id: answer.principal_id.clone(),
                    policy: policy_text(&body),
                    ..AuthorizerOutcome::default()
                }
            }
            Err(AuthorizerFailure::Unauthorized | AuthorizerFailure::Configuration) => failed(
                500,
                log,
                "Execution failed due to configuration error: the function's answer is not an authorizer response (principalId and a valid policyDocument)",
            ),
        }
    }

    async fn test_token_authorizer(
        &self,
        api: &RestApiRecord,
        authorizer: &LambdaAuthorizer,
        request: &TestRequest,
        now: i64,
        log: &mut Log,
    ) -> AuthorizerOutcome {
        let value = match authorizer.identity_sources.first() {
            Some(IdentitySource::Header(name)) => request
                .headers
                .iter()
                .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone()),
            Some(IdentitySource::Query(name)) => crate::integration::query_pairs(&request.query)
                .into_iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value),
            _ => None,
        };
        match self
            .tokens
            .validate(
                &self.integrations,
                &api.id,
                authorizer,
                value.as_deref(),
                now,
            )
            .await
        {
            Ok((validated, _)) => {
                log.line("The token is valid");
                let claims = crate::jwt::rest_user_pool_claims(&validated.claims)
                    .into_iter()
                    .map(|(name, value)| (name, value.as_str().unwrap_or_default().to_owned()))
                    .collect();
                AuthorizerOutcome {
                    client_status: 200,
                    claims: Some(claims),
                    ..AuthorizerOutcome::default()
                }
            }
            Err(refusal) => {
                log.line(format!("Unauthorized: {}", refusal.reason()));
                AuthorizerOutcome {
                    client_status: if refusal.is_forbidden() { 403 } else { 401 },
                    ..AuthorizerOutcome::default()
                }
            }
        }
    }

    /// Runs method `http_method` of resource `resource_id` of `api` on
    /// `request`, as TestInvokeMethod: without authorization or API key.
    /// `None` if the API has no such method with an integration.
    pub async fn test_method(
        &self,
        api: &RestApiRecord,
        resource_id: &str,
        http_method: &str,
        request: &TestRequest,
        request_id: &str,
        now: i64,
    ) -> Option<MethodOutcome> {
        let started = Instant::now();
        let resource = api.resources.get(resource_id)?;
        let method = resource.methods.get(http_method)?;
        method.integration.as_ref()?;
        let mut log = Log::new(request_id, now);
        log.line(format!(
            "HTTP Method: {http_method}, Resource Path: {}",
            resource.path
        ));
        log.line(format!("Method request path: {}", request.path));
        log.line(format!(
            "Method request headers: {}",
            header_names(&request.headers)
        ));
        log.line(format!(
            "Method request body: {} byte(s)",
            request.body.len()
        ));
        log.line(format!(
            "Authorization ({}) and API key are skipped in a test invocation",
            method.authorization_type
        ));
        let integration = match one_method_tree(api, resource_id, http_method) {
            Ok(integration) => integration,
            Err(why) => {
                log.line(format!(
                    "Execution failed due to configuration error: {why}"
                ));
                return Some(failure(
                    rest_internal_server_error(request_id),
                    log,
                    started,
                ));
            }
        };
        // The verb a request carries: `ANY` stands for every one.
        let verb = if http_method == "ANY" {
            "GET"
        } else {
            http_method
        };
        let params = match route_rest(&integration.0, verb, &request.path) {
            RestMatch::Method { params, .. } => params,
            RestMatch::NotFound => PathParams::new(),
        };
        let Some(integration) = routed_integration(&integration.0) else {
            return Some(failure(rest_internal_failure(request_id), log, started));
        };
        log.line(format!("Endpoint: {}", integration_kind(integration)));
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let forwarded = Forwarded {
            method: verb,
            path: &request.path,
            query: &request.query,
            headers: &headers,
            body: &request.body,
            source_ip: None,
        };
        let context = EventContext {
            api_id: &api.id,
            account: &api.account,
            stage: TEST_STAGE,
            template: &resource.path,
            params: &params,
            caller: None,
            access_key_id: None,
            request_id,
            now_millis: now.saturating_mul(1000),
            stage_variables: &request.stage_variables,
            client_cert: None,
            authorizer: None,
        };
        let answer = self
            .integrations
            .call(integration, &forwarded, &context)
            .await;
        let response = match answer {
            Ok(answer) => {
                let mut headers = answer.headers;
                crate::pipeline::json_unless_typed(&mut headers);
                log.line(format!(
                    "Method completed with status: {} ({} byte(s))",
                    answer.status,
                    answer.body.len()
                ));
                return Some(MethodOutcome {
                    status: answer.status,
                    body: String::from_utf8_lossy(&answer.body).into_owned(),
                    headers,
                    log: log.text(),
                    latency_ms: elapsed_ms(started),
                });
            }
            Err(IntegrationFailure::Timeout) => {
                log.line("Execution failed: the integration timed out");
                rest_integration_timeout(request_id)
            }
            Err(IntegrationFailure::Failed) => {
                log.line("Execution failed due to an integration error");
                rest_internal_server_error(request_id)
            }
            Err(IntegrationFailure::UnsupportedMediaType) => {
                log.line("Execution failed: unsupported media type");
                rest_unsupported_media_type(request_id)
            }
            Err(IntegrationFailure::Mapping) => {
                log.line("Execution failed due to configuration error: a mapping template failed");
                rest_internal_failure(request_id)
            }
        };
        Some(failure(response, log, started))
    }
}

/// The answer of a test invocation the gateway refused.
fn failure(response: GatewayResponse, mut log: Log, started: Instant) -> MethodOutcome {
    log.line(format!("Method completed with status: {}", response.status));
    MethodOutcome {
        status: response.status,
        body: response.body,
        headers: response.headers,
        log: log.text(),
        latency_ms: elapsed_ms(started),
    }
}

/// The tree a deployment of only this method would serve: the method as
/// it is now, its authorization set aside (a test invocation skips it),
/// so nothing else of the API — another method without an integration, a
/// private API's missing policy — stands in the way.
struct OneMethod(iamgate_apimodel::model::Resource);

fn one_method_tree(
    api: &RestApiRecord,
    resource_id: &str,
    http_method: &str,
) -> Result<OneMethod, String> {
    let mut single = api.clone();
    single.endpoint_type = EndpointType::Regional;
    single.policy = None;
    single.deployments.clear();
    single.stages.clear();
    single.resources.retain(|id, _| id == resource_id);
    for resource in single.resources.values_mut() {
        resource.methods.retain(|name, _| name == http_method);
        for method in resource.methods.values_mut() {
            "NONE".clone_into(&mut method.authorization_type);
            method.authorizer_id = None;
            method.authorization_scopes.clear();
            method.api_key_required = false;
        }
    }
    single
        .deployable_tree()
        .map(OneMethod)
        .map_err(|refused| refused.0)
}

/// The one method's integration in a [`one_method_tree`].
fn routed_integration(root: &iamgate_apimodel::model::Resource) -> Option<&Integration> {
    fn walk(resource: &iamgate_apimodel::model::Resource) -> Option<&Integration> {
        if let Some(method) = resource.methods.first() {
            return Some(&method.integration);
        }
        resource.children.iter().find_map(walk)
    }
    walk(root)
}

/// What the log names the integration by (never its credentials).
fn integration_kind(integration: &Integration) -> String {
    match integration {
        Integration::Mock { .. } => "MOCK".to_owned(),
        Integration::HttpProxy { .. } => "HTTP_PROXY".to_owned(),
        Integration::Mapped(_) => "HTTP (with mapping templates)".to_owned(),
        Integration::LambdaProxy { function, .. } => format!("AWS_PROXY (Lambda {function})"),
    }
}

/// The policy document a function answered, as JSON text (a string
/// member as it is, an object serialized).
fn policy_text(body: &[u8]) -> Option<String> {
    let answer: Map<String, Value> = serde_json::from_slice(body).ok()?;
    match answer.get("policyDocument")? {
        Value::String(text) => Some(text.clone()),
        document @ Value::Object(_) => Some(document.to_string()),
        _ => None,
    }
}
