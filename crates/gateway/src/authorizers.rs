//! Running a Lambda authorizer for a `CUSTOM` method or route: reading its
//! identity sources, building the event AWS sends, invoking the function
//! through the Lambda Invoke API (the one AWS_PROXY integrations use,
//! [`Integrations`]), reading its answer, and caching that answer.
//!
//! What the answer decides is the pipeline's ([`crate::pipeline`]): the
//! returned IAM policy is evaluated by iamgate's own policy engine against
//! the method ARN, combined with the REST API's resource policy as AWS's
//! table for a Lambda authorizer says. This module only produces the
//! answer, so its failures are three, each with AWS's response:
//!
//! - an identity source missing or empty, or a token the validation
//!   expression refuses: 401 `Unauthorized`, the function is not called;
//! - a function that fails, times out, or answers something that is not
//!   an authorizer response: 500 `AuthorizerConfigurationException`;
//! - otherwise an [`Authorized`] answer, allowed or not.
//!
//! Why a cache of bounded size keyed by the identity sources' values: AWS
//! caches an authorizer's answer for its TTL under exactly that key, so a
//! second request with the same token is decided without calling the
//! function (and a policy written for one path may then deny another —
//! AWS documents that pitfall, and it is reproduced). The bound keeps a
//! stream of distinct tokens from growing memory without limit; what is
//! evicted is merely called again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iamgate_apimodel::authorizers::{AuthorizerType, IdentitySource, LambdaAuthorizer};
use iamgate_apimodel::model::{ApiFlavour, PayloadFormat};
use iamgate_policy::{CompiledPolicies, NamedPolicy, PolicyDocument, PolicyKind};
use serde_json::{Map, Value, json};

use crate::integration::{EventContext, Forwarded, Integrations, http_event, rest_event};

/// How long an authorizer function may take. AWS does not document a
/// separate limit for authorizers; the integration ceiling of REST APIs
/// (29 s) would hold a caller far longer than any authorizer should, so
/// this is ours (`[inferred]`).
pub const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers longer than this are not read as authorizer responses (ours:
/// AWS documents no limit in bytes; a policy this large is a mistake).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How many answers the cache keeps at most (ours).
pub const CACHE_CAPACITY: usize = 10_000;

/// The function's answer, as the pipeline decides with it.
#[derive(Debug)]
pub struct Authorized {
    /// `principalId` (REST; HTTP payload 1.0 responses).
    pub principal_id: Option<String>,
    /// The returned IAM policy; `None` for a simple response.
    pub policy: Option<Arc<CompiledPolicies>>,
    /// A simple response's `isAuthorized` (HTTP payload 2.0).
    pub is_authorized: Option<bool>,
    /// `context`: to `$context.authorizer.*` and the integration's event.
    pub context: Map<String, Value>,
    /// `usageIdentifierKey`, kept for usage plans.
    pub usage_identifier_key: Option<String>,
    /// A `JWT` or `COGNITO_USER_POOLS` authorizer's validated token.
    pub token: Option<TokenClaims>,
}

/// What a validated token passes on: to `$context.authorizer.claims` (REST),
/// `$context.authorizer.jwt` and `requestContext.authorizer.jwt` (HTTP 2.0),
/// `requestContext.authorizer.claims`/`scopes` (REST, HTTP 1.0).
#[derive(Debug, Clone)]
pub struct TokenClaims {
    /// Each claim as a string, as AWS passes them
    /// ([`crate::jwt::claims_as_strings`]).
    pub claims: Map<String, Value>,
    /// The token's scopes (HTTP); `None` without any.
    pub scopes: Option<Vec<String>>,
    /// An HTTP API's `JWT` authorizer (`scopes` is passed on).
    pub http: bool,
}

/// Why there is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerFailure {
    /// A missing or empty identity source, or a refused token: 401.
    Unauthorized,
    /// The function failed or answered nonsense: 500.
    Configuration,
}

/// What the authorizer needs of the request besides what integrations
/// see: the method ARN (`methodArn` / `routeArn`), the API's flavour and
/// the parsed query.
pub struct AuthorizerRequest<'a> {
    pub flavour: ApiFlavour,
    pub forwarded: &'a Forwarded<'a>,
    pub context: &'a EventContext<'a>,
    pub method_arn: &'a str,
    /// `$context` variables an identity source may name.
    pub context_variables: &'a [(&'a str, String)],
}

impl AuthorizerRequest<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.forwarded
            .headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    }

    fn query(&self, name: &str) -> Option<String> {
        crate::integration::query_pairs(self.forwarded.query)
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    fn stage_variable(&self, name: &str) -> Option<String> {
        self.context
            .stage_variables
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    fn context_variable(&self, name: &str) -> Option<String> {
        self.context_variables
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    }

    /// The value of one identity source, if present.
    fn source(&self, source: &IdentitySource) -> Option<String> {
        match source {
            IdentitySource::Header(name) => self.header(name),
            IdentitySource::Query(name) => self.query(name),
            IdentitySource::StageVariable(name) => self.stage_variable(name),
            IdentitySource::Context(name) => self.context_variable(name),
        }
    }
}

/// The values of the authorizer's identity sources, in order; any missing
/// or empty one (or a token the validation expression refuses) is
/// `Unauthorized`, before the function is called.
pub fn identity(
    authorizer: &LambdaAuthorizer,
    request: &AuthorizerRequest<'_>,
) -> Result<Vec<String>, AuthorizerFailure> {
    let mut values = Vec::with_capacity(authorizer.identity_sources.len());
    for source in &authorizer.identity_sources {
        match request.source(source) {
            Some(value) if !value.is_empty() => values.push(value),
            _ => return Err(AuthorizerFailure::Unauthorized),
        }
    }
    if authorizer.kind == AuthorizerType::Token
        && !values
            .first()
            .is_some_and(|token| authorizer.token_is_valid(token))
    {
        return Err(AuthorizerFailure::Unauthorized);
    }
    Ok(values)
}

/// The event the function receives, as AWS documents it: `TOKEN`
/// (`type`, `authorizationToken`, `methodArn`); REST `REQUEST` (the
/// request's headers, query, path parameters, stage variables and
/// `requestContext`, without its body); HTTP payload 1.0 (the same, with
/// `identitySource` joined) and 2.0 (`routeArn`, `identitySource` as a
/// list).
pub fn event(
    authorizer: &LambdaAuthorizer,
    request: &AuthorizerRequest<'_>,
    identity: &[String],
) -> Value {
    if authorizer.kind == AuthorizerType::Token {
        return json!({
            "type": "TOKEN",
            "authorizationToken": identity.first(),
            "methodArn": request.method_arn,
        });
    }
    let stage_variables: Map<String, Value> = request
        .context
        .stage_variables
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    let stage_variables = if stage_variables.is_empty() {
        Value::Null
    } else {
        Value::Object(stage_variables)
    };
    let mut event = match authorizer.payload_format {
        PayloadFormat::V1 => rest_event(request.forwarded, request.context),
        PayloadFormat::V2 => http_event(request.forwarded, request.context),
    };
    if let Value::Object(fields) = &mut event {
        fields.remove("body");
        fields.remove("isBase64Encoded");
        fields.insert("type".into(), Value::String("REQUEST".into()));
        fields.insert("stageVariables".into(), stage_variables);
        match (request.flavour, authorizer.payload_format) {
            (ApiFlavour::Rest, _) => {
                fields.insert("methodArn".into(), Value::String(request.method_arn.into()));
            }
            (ApiFlavour::Http, PayloadFormat::V1) => {
                let joined = Value::String(identity.join(","));
                fields.insert("version".into(), Value::String("1.0".into()));
                fields.insert("methodArn".into(), Value::String(request.method_arn.into()));
                fields.insert("identitySource".into(), joined.clone());
                fields.insert("authorizationToken".into(), joined);
            }
            (ApiFlavour::Http, PayloadFormat::V2) => {
                fields.insert("routeArn".into(), Value::String(request.method_arn.into()));
                fields.insert(
                    "identitySource".into(),
                    Value::Array(identity.iter().cloned().map(Value::String).collect()),
                );
            }
        }
    }
    event
}

/// Reads the function's answer: `{"isAuthorized": …, "context": …}` for
/// an HTTP authorizer with simple responses, otherwise `{"principalId":
/// …, "policyDocument": …, "context": …, "usageIdentifierKey": …}`.
/// Anything else — not JSON, no policy, a policy that does not parse, a
/// REST context value that is an object or a list — is a configuration
/// failure, never a grant.
pub fn parse_answer(
    authorizer: &LambdaAuthorizer,
    flavour: ApiFlavour,
    body: &[u8],
) -> Result<Authorized, AuthorizerFailure> {
    let failure = AuthorizerFailure::Configuration;
    if body.len() > MAX_ANSWER_BYTES {
        return Err(failure);
    }
    let answer: Value = serde_json::from_slice(body).map_err(|_| failure)?;
    let answer = answer.as_object().ok_or(failure)?;
    let context = match answer.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(context)) => context.clone(),
        Some(_) => return Err(failure),
    };
    // REST APIs pass only strings, numbers and booleans on.
    if flavour == ApiFlavour::Rest
        && context
            .values()
            .any(|value| matches!(value, Value::Object(_) | Value::Array(_) | Value::Null))
    {
        return Err(failure);
    }
    if authorizer.simple_responses
        && let Some(allowed) = answer.get("isAuthorized")
    {
        return Ok(Authorized {
            principal_id: None,
            policy: None,
            is_authorized: Some(allowed.as_bool().ok_or(failure)?),
            context,
            usage_identifier_key: None,
            token: None,
        });
    }
    let principal_id = match answer.get("principalId") {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        None if flavour == ApiFlavour::Http => None,
        _ => return Err(failure),
    };
    let document = answer.get("policyDocument").ok_or(failure)?;
    let text = match document {
        Value::String(text) => text.clone(),
        Value::Object(_) => document.to_string(),
        _ => return Err(failure),
    };
    let document = PolicyDocument::parse(&text, PolicyKind::InlineIdentity).map_err(|_| failure)?;
    let name = format!("Lambda authorizer {}", authorizer.name);
    let policy = CompiledPolicies::compile(&[NamedPolicy::new(&name, document)]);
    Ok(Authorized {
        principal_id,
        policy: Some(Arc::new(policy)),
        is_authorized: None,
        context,
        usage_identifier_key: answer
            .get("usageIdentifierKey")
            .and_then(Value::as_str)
            .map(str::to_owned),
        token: None,
    })
}

/// A cached answer: the key's authorizer, the identity values, and when
/// it stops being used.
type CacheKey = (String, String, Vec<String>);

struct Cached {
    answer: Arc<Authorized>,
    expires_at: i64,
}

/// The data plane's authorizer runner and its cache.
#[derive(Default)]
pub struct LambdaAuthorizers {
    cache: Mutex<HashMap<CacheKey, Cached>>,
}

impl LambdaAuthorizers {
    /// The answer for this request: from the cache while its TTL runs
    /// (the `bool` says so), else from the function.
    pub async fn authorize(
        &self,
        integrations: &Integrations,
        authorizer: &LambdaAuthorizer,
        request: &AuthorizerRequest<'_>,
        now: i64,
    ) -> Result<(Arc<Authorized>, bool), AuthorizerFailure> {
        let identity = identity(authorizer, request)?;
        // An authorizer without sources (TTL 0 only) is never cached.
        let cacheable = authorizer.ttl_seconds > 0 && !identity.is_empty();
        let key = (
            request.context.api_id.to_owned(),
            authorizer.id.clone(),
            identity.clone(),
        );
        if cacheable && let Some(answer) = self.cached(&key, now) {
            return Ok((answer, true));
        }
        let event = event(authorizer, request, &identity);
        let body = integrations
            .invoke(
                &authorizer.endpoint,
                &authorizer.function,
                &event,
                AUTHORIZER_TIMEOUT,
                // One byte more than an answer may have: a longer one is
                // refused by `parse_answer`, and never read whole.
                MAX_ANSWER_BYTES.saturating_add(1),
            )
            .await
            .map_err(|_| AuthorizerFailure::Configuration)?;
        let answer = Arc::new(parse_answer(authorizer, request.flavour, &body)?);
        if cacheable {
            self.store(
                key,
                Cached {
                    answer: answer.clone(),
                    expires_at: now.saturating_add(i64::from(authorizer.ttl_seconds)),
                },
                now,
            );
        }
        Ok((answer, false))
    }

    fn cached(&self, key: &CacheKey, now: i64) -> Option<Arc<Authorized>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(key)
            .filter(|cached| cached.expires_at > now)
            .map(|cached| cached.answer.clone())
    }

    fn store(&self, key: CacheKey, cached: Cached, now: i64) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.expires_at > now);
        }
        if cache.len() >= CACHE_CAPACITY {
            // Still full of live answers: start over rather than grow.
            cache.clear();
        }
        cache.insert(key, cached);
    }

    /// How many answers are cached (for tests and metrics).
    pub fn cached_answers(&self) -> usize {
        self.cache.lock().map_or(0, |cache| cache.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::PathParams;
    use iamgate_apimodel::authorizers::AuthorizerInput;

    const URI: &str =
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/auth/invocations";

    fn authorizer(flavour: ApiFlavour, kind: &str, sources: &[&str]) -> LambdaAuthorizer {
        LambdaAuthorizer::new(
            flavour,
            AuthorizerInput {
                id: "au1".into(),
                name: Some("auth".into()),
                kind: Some(kind.into()),
                uri: Some(URI.into()),
                identity_sources: sources.iter().map(|s| (*s).to_owned()).collect(),
                validation_expression: (kind == "TOKEN").then(|| "Bearer .+".to_owned()),
                payload_format_version: (flavour == ApiFlavour::Http).then(|| "2.0".to_owned()),
                simple_responses: Some(flavour == ApiFlavour::Http),
                ..AuthorizerInput::default()
            },
        )
        .unwrap()
    }

    struct Fixture {
        headers: Vec<(&'static str, &'static [u8])>,
        params: PathParams,
        variables: Vec<(String, String)>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                headers: vec![("Authorization", b"Bearer abc"), ("X-Tenant", b"t1")],
                params: vec![("id".to_owned(), "7".to_owned())],
                variables: vec![("env".to_owned(), "prod".to_owned())],
            }
        }

        fn run<R>(&self, query: &str, f: impl FnOnce(&AuthorizerRequest<'_>) -> R) -> R {
            let forwarded = Forwarded {
                method: "GET",
                path: "/pets/7",
                query,
                headers: &self.headers,
                body: b"secret body",
                source_ip: Some("192.0.2.1".into()),
            };
            let context = EventContext {
                api_id: "a1b2c3d4e5",
                account: "111122223333",
                stage: "prod",
                template: "/pets/{id}",
                params: &self.params,
                caller: None,
                access_key_id: None,
                request_id: "req-1",
                now_millis: 0,
                stage_variables: &self.variables,
                client_cert: None,
                authorizer: None,
            };
            let variables = [("requestId", "req-1".to_owned())];
            let request = AuthorizerRequest {
                flavour: ApiFlavour::Rest,
                forwarded: &forwarded,
                context: &context,
                method_arn: "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/7",
                context_variables: &variables,
            };
            f(&request)
        }
    }

    #[test]
    fn a_token_event_carries_the_token_and_the_method_arn_only() {
        let token = authorizer(
            ApiFlavour::Rest,
            "TOKEN",
            &["method.request.header.Authorization"],
        );
        let event = Fixture::new().run("", |request| {
            let identity = identity(&token, request).unwrap();
            event(&token, request, &identity)
        });
        assert_eq!(
            event,
            json!({
                "type": "TOKEN",
                "authorizationToken": "Bearer abc",
                "methodArn": "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/7",
            })
        );
    }

    #[test]
    fn a_missing_source_or_a_refused_token_is_unauthorized_before_any_call() {
        let fixture = Fixture {
            headers: vec![("Authorization", b"Basic abc")],
            ..Fixture::new()
        };
        let token = authorizer(
            ApiFlavour::Rest,
            "TOKEN",
            &["method.request.header.Authorization"],
        );
        assert_eq!(
            fixture.run("", |request| identity(&token, request)),
            Err(AuthorizerFailure::Unauthorized)
        );
        let request_type = authorizer(
            ApiFlavour::Rest,
            "REQUEST",
            &["method.request.header.X-Tenant,method.request.querystring.k"],
        );
        assert_eq!(
            Fixture::new().run("k=", |request| identity(&request_type, request)),
            Err(AuthorizerFailure::Unauthorized)
        );
        assert_eq!(
            Fixture::new().run("k=v", |request| identity(&request_type, request)),
            Ok(vec!["t1".to_owned(), "v".to_owned()])
        );
    }

    #[test]
    fn a_rest_request_event_has_the_request_without_its_body() {
        let request_type = authorizer(
            ApiFlavour::Rest,
            "REQUEST",
            &["method.request.header.X-Tenant,stageVariables.env,context.requestId"],
        );
        let event = Fixture::new().run("q=1", |request| {
            let identity = identity(&request_type, request).unwrap();
            assert_eq!(identity, ["t1", "prod", "req-1"]);
            event(&request_type, request, &identity)
        });
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(
            event["methodArn"],
            "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets/7"
        );
        assert_eq!(event["resource"], "/pets/{id}");
        assert_eq!(event["headers"]["X-Tenant"], "t1");
        assert_eq!(event["multiValueHeaders"]["X-Tenant"], json!(["t1"]));
        assert_eq!(event["queryStringParameters"], json!({"q": "1"}));
        assert_eq!(event["pathParameters"], json!({"id": "7"}));
        assert_eq!(event["stageVariables"], json!({"env": "prod"}));
        assert_eq!(event["requestContext"]["resourcePath"], "/pets/{id}");
        assert!(event.get("body").is_none() && event.get("isBase64Encoded").is_none());
    }

    #[test]
    fn answers_are_policies_or_simple_and_anything_else_is_a_configuration_failure() {
        let rest = authorizer(
            ApiFlavour::Rest,
            "TOKEN",
            &["method.request.header.Authorization"],
        );
        let answer = parse_answer(
            &rest,
            ApiFlavour::Rest,
            br#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*"}]},"context":{"tier":"gold","n":1,"b":true}}"#,
        )
        .unwrap();
        assert_eq!(answer.principal_id.as_deref(), Some("u1"));
        assert!(answer.policy.is_some());
        assert_eq!(answer.context["tier"], "gold");
        for bad in [
            &b"not json"[..],
            br#"{"principalId":"u1"}"#,
            br#"{"principalId":"u1","policyDocument":{"Statement":"nope"}}"#,
            br#"{"policyDocument":{"Version":"2012-10-17","Statement":[]}}"#,
            br#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[]},"context":{"nested":{"a":1}}}"#,
            br#"{"isAuthorized":true}"#,
        ] {
            assert_eq!(
                parse_answer(&rest, ApiFlavour::Rest, bad).err(),
                Some(AuthorizerFailure::Configuration),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let oversized = format!(
            r#"{{"principalId":"{}","policyDocument":{{}}}}"#,
            "x".repeat(MAX_ANSWER_BYTES)
        );
        assert_eq!(
            parse_answer(&rest, ApiFlavour::Rest, oversized.as_bytes()).err(),
            Some(AuthorizerFailure::Configuration)
        );
        let simple = authorizer(
            ApiFlavour::Http,
            "REQUEST",
            &["$request.header.Authorization"],
        );
        let answer = parse_answer(
            &simple,
            ApiFlavour::Http,
            br#"{"isAuthorized":false,"context":{"a":{"b":1}}}"#,
        )
        .unwrap();
        assert_eq!(answer.is_authorized, Some(false));
        assert_eq!(answer.context["a"], json!({"b": 1}));
        assert_eq!(
            parse_answer(&simple, ApiFlavour::Http, br#"{"isAuthorized":"yes"}"#).err(),
            Some(AuthorizerFailure::Configuration)
        );
    }

    #[test]
    fn the_cache_stays_bounded_and_forgets_expired_answers() {
        let runner = LambdaAuthorizers::default();
        let answer = || {
            Arc::new(Authorized {
                principal_id: None,
                policy: None,
                is_authorized: Some(true),
                context: Map::new(),
                usage_identifier_key: None,
                token: None,
            })
        };
        for index in 0..CACHE_CAPACITY + 5 {
            runner.store(
                ("api".into(), "au".into(), vec![index.to_string()]),
                Cached {
                    answer: answer(),
                    expires_at: 100,
                },
                0,
            );
        }
        assert!(runner.cached_answers() <= CACHE_CAPACITY);
        let key = ("api".to_owned(), "au".to_owned(), vec!["k".to_owned()]);
        runner.store(
            key.clone(),
            Cached {
                answer: answer(),
                expires_at: 10,
            },
            0,
        );
        assert!(runner.cached(&key, 9).is_some());
        assert!(runner.cached(&key, 10).is_none(), "expired at its TTL");
    }
}
