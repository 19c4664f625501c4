//! Authorizers: the one model of a REST API's `TOKEN`, `REQUEST` or
//! `COGNITO_USER_POOLS` authorizer and of an HTTP API's `REQUEST` or `JWT`
//! authorizer, and its one validating constructor, [`LambdaAuthorizer::new`].
//! (The name stayed from when only Lambda authorizers were served: the two
//! token-validating types share everything but the function — a name,
//! identity sources, a TTL, a validation expression — and carry their
//! issuers in [`TokenValidation`].)
//!
//! Every front door builds an authorizer through that constructor: the
//! world file (`authorizers:` of an API), OpenAPI import
//! (`x-amazon-apigateway-authorizer`) and both control planes
//! (`CreateAuthorizer`, `UpdateAuthorizer`). So what one refuses, none
//! accepts, and the data plane never meets an authorizer it cannot run.
//!
//! Why the deployed method carries the whole authorizer (not its id): on
//! AWS a change to an authorizer takes effect on the next deployment, like
//! every other change of the definition, so the deployment freezes it.
//!
//! Fail closed: a `JWT` authorizer without an issuer, a
//! `COGNITO_USER_POOLS` one without a user pool ARN that names a pool, is
//! refused here rather than stored and served open.
//!
//! Why an optional `jwks_url` on the token types: AWS fetches a user
//! pool's keys from `https://cognito-idp.{region}.amazonaws.com/{pool}`,
//! which a self-hosted gateway may not reach (offline, tests, a local
//! issuer). The world file may name where the keys are served instead;
//! the token's `iss` must still be the pool's issuer.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::fields::Invalid;
use crate::model::{ApiFlavour, PayloadFormat};

/// AWS's bound on `authorizerResultTtlInSeconds` (API Gateway Developer
/// Guide: "The maximum value is 3600").
pub const MAX_TTL_SECONDS: u32 = 3600;

/// REST: TTL when `CreateAuthorizer` leaves it out (the API reference:
/// "If not specified, the default value is 300").
pub const DEFAULT_REST_TTL_SECONDS: u32 = 300;

/// Names at most this long (ours: AWS documents none).
const MAX_NAME: usize = 128;

/// What the authorizer function receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizerType {
    /// REST only: one header's value, `authorizationToken`.
    #[serde(rename = "TOKEN")]
    Token,
    /// The request's headers, query, path, stage variables and context.
    #[serde(rename = "REQUEST")]
    Request,
    /// REST only: an Amazon Cognito user pool's tokens, validated by the
    /// gateway.
    #[serde(rename = "COGNITO_USER_POOLS")]
    CognitoUserPools,
    /// HTTP only: an OpenID Connect issuer's JWTs, validated by the gateway.
    #[serde(rename = "JWT")]
    Jwt,
}

impl AuthorizerType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizerType::Token => "TOKEN",
            AuthorizerType::Request => "REQUEST",
            AuthorizerType::CognitoUserPools => "COGNITO_USER_POOLS",
            AuthorizerType::Jwt => "JWT",
        }
    }

    /// Whether the gateway validates a token itself (no function is called).
    pub fn validates_tokens(self) -> bool {
        matches!(self, AuthorizerType::CognitoUserPools | AuthorizerType::Jwt)
    }
}

/// What a `JWT` or `COGNITO_USER_POOLS` authorizer trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenValidation {
    /// The issuers a token's `iss` must equal one of: HTTP
    /// `jwtConfiguration.issuer`; REST one per user pool of `providerARNs`.
    pub issuers: Vec<String>,
    /// HTTP `jwtConfiguration.audience`: `aud` (or, without `aud`,
    /// `client_id`) must be one of them. Empty for REST: a user pool's
    /// tokens are accepted from any of its app clients.
    #[serde(default)]
    pub audience: Vec<String>,
    /// REST `providerARNs`, as given.
    #[serde(default)]
    pub provider_arns: Vec<String>,
    /// Where the signing keys (a JWKS) are fetched instead of the
    /// issuer's discovery document (ours: the local issuer override).
    #[serde(default)]
    pub jwks_url: Option<String>,
}

/// The issuer of the user pool `arn`
/// (`arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}`).
pub fn user_pool_issuer(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("cognito-idp"), Some(region), Some(_account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let pool = parts.next()?.strip_prefix("userpool/")?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let pool_ok = pool
        .split_once('_')
        .is_some_and(|(pool_region, id)| pool_region == region && !id.is_empty())
        && pool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (region_ok && pool_ok).then(|| format!("https://cognito-idp.{region}.amazonaws.com/{pool}"))
}

/// A route's or method's `authorizationScopes`: each a non-empty token
/// without whitespace, at most [`MAX_SCOPES`] of them (ours: AWS documents
/// no limit; a scope with a space could never match one of a token's).
pub fn authorization_scopes(scopes: &[String]) -> Result<Vec<String>, Invalid> {
    if scopes.len() > MAX_SCOPES {
        return Err(Invalid(format!(
            "At most {MAX_SCOPES} authorization scopes may be specified"
        )));
    }
    for scope in scopes {
        if scope.is_empty()
            || scope.len() > MAX_SCOPE_LENGTH
            || scope.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Invalid(format!(
                "Invalid authorization scope: {}",
                crate::fields::shown(scope)
            )));
        }
    }
    Ok(scopes.to_vec())
}

/// At most this many scopes on one route or method (ours).
pub const MAX_SCOPES: usize = 50;
/// At most this long, one scope (ours).
const MAX_SCOPE_LENGTH: usize = 256;

/// One identity source: where a part of the caller's identity is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentitySource {
    Header(String),
    Query(String),
    StageVariable(String),
    /// A `$context` variable (`requestId`, `identity.sourceIp`, …).
    Context(String),
}

impl IdentitySource {
    /// Parses one source as `flavour` writes it: REST
    /// `method.request.header.Auth`, `method.request.querystring.q`,
    /// `stageVariables.v`, `context.v`; HTTP `$request.header.Auth`,
    /// `$request.querystring.q`, `$stageVariables.v`, `$context.v`.
    pub fn parse(flavour: ApiFlavour, text: &str) -> Result<IdentitySource, Invalid> {
        let text = text.trim();
        let (request, stage, context) = match flavour {
            ApiFlavour::Rest => ("method.request.", "stageVariables.", "context."),
            ApiFlavour::Http => ("$request.", "$stageVariables.", "$context."),
        };
        let named = |rest: &str, make: fn(String) -> IdentitySource| {
            let ok = !rest.is_empty()
                && rest.len() <= MAX_NAME
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b',' && b != b'$');
            ok.then(|| make(rest.to_owned()))
        };
        let parsed = if let Some(rest) = text.strip_prefix(request) {
            if let Some(name) = rest.strip_prefix("header.") {
                named(name, IdentitySource::Header)
            } else if let Some(name) = rest.strip_prefix("querystring.") {
                named(name, IdentitySource::Query)
            } else {
                None
            }
        } else if let Some(name) = text.strip_prefix(stage) {
            named(name, IdentitySource::StageVariable)
        } else if let Some(name) = text.strip_prefix(context) {
            named(name, IdentitySource::Context)
        } else {
            None
        };
        parsed.ok_or_else(|| Invalid(format!("Invalid identity source: {text}")))
    }

    /// The source as `flavour` writes it (what the control planes answer).
    pub fn text(&self, flavour: ApiFlavour) -> String {
        let (request, stage, context) = match flavour {
            ApiFlavour::Rest => ("method.request.", "stageVariables.", "context."),
            ApiFlavour::Http => ("$request.", "$stageVariables.", "$context."),
        };
        match self {
            IdentitySource::Header(name) => format!("{request}header.{name}"),
            IdentitySource::Query(name) => format!("{request}querystring.{name}"),
            IdentitySource::StageVariable(name) => format!("{stage}{name}"),
            IdentitySource::Context(name) => format!("{context}{name}"),
        }
    }
}

/// A Lambda authorizer, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LambdaAuthorizer {
    pub id: String,
    pub name: String,
    pub kind: AuthorizerType,
    /// `authorizerUri` as given.
    pub uri: String,
    /// The function the URI names (name or ARN), invoked through the
    /// Lambda Invoke API.
    pub function: String,
    /// Where that API is served; empty: the server's `--lambda-endpoint`.
    #[serde(default)]
    pub endpoint: String,
    /// `authorizerCredentials` (REST) / `authorizerCredentialsArn` (HTTP),
    /// kept and answered; the Invoke API iamgate calls needs none.
    #[serde(default)]
    pub credentials: Option<String>,
    /// In the order given; the cache key is their values in this order.
    pub identity_sources: Vec<IdentitySource>,
    /// REST `TOKEN` only: the token must match it whole.
    #[serde(default)]
    pub validation_expression: Option<String>,
    /// 0 turns caching off.
    pub ttl_seconds: u32,
    /// The event's shape: REST authorizers and HTTP `1.0` are
    /// [`PayloadFormat::V1`], HTTP `2.0` is [`PayloadFormat::V2`].
    pub payload_format: PayloadFormat,
    /// HTTP `2.0` only: the function may answer `{"isAuthorized": …}`.
    #[serde(default)]
    pub simple_responses: bool,
    /// `JWT` and `COGNITO_USER_POOLS` only: whose tokens are accepted.
    #[serde(default)]
    pub tokens: Option<TokenValidation>,
}

/// An authorizer as a front door received it, every member optional as
/// AWS's input shapes have them; [`LambdaAuthorizer::new`] decides.
#[derive(Debug, Clone, Default)]
pub struct AuthorizerInput {
    pub id: String,
    pub name: Option<String>,
    /// `TOKEN`, `REQUEST` (or `COGNITO_USER_POOLS`, `JWT`: refused).
    pub kind: Option<String>,
    pub uri: Option<String>,
    pub endpoint: Option<String>,
    pub credentials: Option<String>,
    /// REST: one comma-separated string; HTTP: one source per entry.
    pub identity_sources: Vec<String>,
    pub validation_expression: Option<String>,
    pub ttl_seconds: Option<i64>,
    /// HTTP: `1.0` or `2.0`.
    pub payload_format_version: Option<String>,
    pub simple_responses: Option<bool>,
    /// REST `COGNITO_USER_POOLS`: `providerARNs`.
    pub provider_arns: Vec<String>,
    /// HTTP `JWT`: `jwtConfiguration.issuer`.
    pub issuer: Option<String>,
    /// HTTP `JWT`: `jwtConfiguration.audience`.
    pub audience: Vec<String>,
    /// `JWT`, `COGNITO_USER_POOLS`: the local issuer override.
    pub jwks_url: Option<String>,
}

impl LambdaAuthorizer {
    /// The one validating constructor. Messages are the
    /// `BadRequestException` text; where AWS's words are not known they
    /// are ours.
    pub fn new(flavour: ApiFlavour, input: AuthorizerInput) -> Result<LambdaAuthorizer, Invalid> {
        let name = input
            .name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| Invalid("Authorizer name must be specified".to_owned()))?;
        if name.chars().count() > MAX_NAME {
            return Err(Invalid(format!(
                "Authorizer name must be at most {MAX_NAME} characters"
            )));
        }
        let kind_text = input
            .kind
            .clone()
            .ok_or_else(|| Invalid("Authorizer type must be specified".to_owned()))?;
        let kind = match (flavour, kind_text.as_str()) {
            (ApiFlavour::Rest, "TOKEN") => AuthorizerType::Token,
            (_, "REQUEST") => AuthorizerType::Request,
            (ApiFlavour::Rest, "COGNITO_USER_POOLS") => AuthorizerType::CognitoUserPools,
            (ApiFlavour::Http, "JWT") => AuthorizerType::Jwt,
            (ApiFlavour::Rest, other) => {
                return Err(Invalid(format!(
                    "Invalid authorizer type '{other}'; valid values are TOKEN, REQUEST, COGNITO_USER_POOLS"
                )));
            }
            (ApiFlavour::Http, other) => {
                return Err(Invalid(format!(
                    "Invalid authorizer type '{other}'; valid values are REQUEST, JWT"
                )));
            }
        };
        if kind.validates_tokens() {
            return token_authorizer(flavour, kind, name, input);
        }
        let uri = input
            .uri
            .ok_or_else(|| Invalid("Authorizer URI must be specified".to_owned()))?;
        let function = crate::fields::lambda_function(&uri)
            .filter(|lambda| lambda.via_apigateway)
            .and_then(|lambda| lambda.to_invoke())
            .ok_or_else(|| Invalid(format!("Invalid Authorizer URI: {uri}")))?;
        let endpoint = input.endpoint.unwrap_or_default();
        if !endpoint.is_empty() && !endpoint.starts_with("http://") {
            return Err(Invalid(format!(
                "Lambda endpoint '{endpoint}' must be an http:// URL"
            )));
        }
        let ttl = input.ttl_seconds.unwrap_or(match flavour {
            ApiFlavour::Rest => i64::from(DEFAULT_REST_TTL_SECONDS),
            ApiFlavour::Http => 0,
        });
        let ttl_seconds = u32::try_from(ttl)
            .ok()
            .filter(|ttl| *ttl <= MAX_TTL_SECONDS)
            .ok_or_else(|| {
                Invalid(format!(
                    "Authorizer result TTL must be between 0 and {MAX_TTL_SECONDS} seconds"
                ))
            })?;
        let mut identity_sources = Vec::new();
        for text in &input.identity_sources {
            let parts: Vec<&str> = match flavour {
                ApiFlavour::Rest => text.split(',').collect(),
                ApiFlavour::Http => vec![text.as_str()],
            };
            for part in parts.into_iter().filter(|part| !part.trim().is_empty()) {
                identity_sources.push(IdentitySource::parse(flavour, part)?);
            }
        }
        match kind {
            AuthorizerType::Token => {
                if !matches!(identity_sources.as_slice(), [IdentitySource::Header(_)]) {
                    return Err(Invalid(
                        "Identity source of a TOKEN authorizer must be one method.request.header.{name}"
                            .to_owned(),
                    ));
                }
            }
            AuthorizerType::CognitoUserPools | AuthorizerType::Jwt => {}
            AuthorizerType::Request => {
                // Without sources there is nothing to cache on.
                if identity_sources.is_empty() && ttl_seconds > 0 {
                    return Err(Invalid(
                        "Identity source must be specified when caching is enabled".to_owned(),
                    ));
                }
            }
        }
        let validation_expression = input.validation_expression.filter(|e| !e.is_empty());
        if let Some(expression) = &validation_expression {
            if kind != AuthorizerType::Token {
                return Err(Invalid(
                    "Identity validation expression is only supported for TOKEN authorizers"
                        .to_owned(),
                ));
            }
            whole_match(expression).map_err(|_| {
                Invalid(format!(
                    "Invalid identity validation expression: {expression}"
                ))
            })?;
        }
        let (payload_format, simple_responses) = match flavour {
            ApiFlavour::Rest => (PayloadFormat::V1, false),
            ApiFlavour::Http => {
                let format = match input.payload_format_version.as_deref() {
                    Some("1.0") => PayloadFormat::V1,
                    Some("2.0") => PayloadFormat::V2,
                    None => {
                        return Err(Invalid(
                            "AuthorizerPayloadFormatVersion is required for REQUEST authorizer"
                                .to_owned(),
                        ));
                    }
                    Some(other) => {
                        return Err(Invalid(format!(
                            "Invalid AuthorizerPayloadFormatVersion '{other}'; valid values are 1.0, 2.0"
                        )));
                    }
                };
                let simple = input.simple_responses.unwrap_or(false);
                if simple && format != PayloadFormat::V2 {
                    return Err(Invalid(
                        "EnableSimpleResponses is only supported for payload format version 2.0"
                            .to_owned(),
                    ));
                }
                (format, simple)
            }
        };
        Ok(LambdaAuthorizer {
            id: input.id,
            name,
            kind,
            uri,
            function,
            endpoint,
            credentials: input.credentials,
            identity_sources,
            validation_expression,
            ttl_seconds,
            payload_format,
            simple_responses,
            tokens: None,
        })
    }

    /// The authorizer as its front doors describe it, to build it again
    /// (with a change) through [`LambdaAuthorizer::new`].
    pub fn input(&self, flavour: ApiFlavour) -> AuthorizerInput {
        let sources: Vec<String> = self
            .identity_sources
            .iter()
            .map(|source| source.text(flavour))
            .collect();
        AuthorizerInput {
            id: self.id.clone(),
            name: Some(self.name.clone()),
            kind: Some(self.kind.as_str().to_owned()),
            uri: (!self.uri.is_empty()).then(|| self.uri.clone()),
            endpoint: (!self.endpoint.is_empty()).then(|| self.endpoint.clone()),
            credentials: self.credentials.clone(),
            identity_sources: match flavour {
                ApiFlavour::Rest if sources.is_empty() => Vec::new(),
                ApiFlavour::Rest => vec![sources.join(",")],
                ApiFlavour::Http => sources,
            },
            validation_expression: self.validation_expression.clone(),
            ttl_seconds: Some(i64::from(self.ttl_seconds)),
            payload_format_version: match flavour {
                ApiFlavour::Rest => None,
                ApiFlavour::Http => Some(self.payload_version().to_owned()),
            },
            simple_responses: Some(self.simple_responses),
            provider_arns: self
                .tokens
                .as_ref()
                .map(|tokens| tokens.provider_arns.clone())
                .unwrap_or_default(),
            issuer: match (self.kind, &self.tokens) {
                (AuthorizerType::Jwt, Some(tokens)) => tokens.issuers.first().cloned(),
                _ => None,
            },
            audience: self
                .tokens
                .as_ref()
                .map(|tokens| tokens.audience.clone())
                .unwrap_or_default(),
            jwks_url: self.tokens.as_ref().and_then(|t| t.jwks_url.clone()),
        }
    }

    /// `1.0` or `2.0`.
    pub fn payload_version(&self) -> &'static str {
        match self.payload_format {
            PayloadFormat::V1 => "1.0",
            PayloadFormat::V2 => "2.0",
        }
    }

    /// Whether `token` passes the validation expression (always, without
    /// one; never, with one that no longer compiles).
    pub fn token_is_valid(&self, token: &str) -> bool {
        match &self.validation_expression {
            None => true,
            Some(expression) => whole_match(expression).is_ok_and(|regex| regex.is_match(token)),
        }
    }
}

/// The rest of [`LambdaAuthorizer::new`] for `COGNITO_USER_POOLS` and
/// `JWT`: one header as identity source, issuers that can be fetched.
fn token_authorizer(
    flavour: ApiFlavour,
    kind: AuthorizerType,
    name: String,
    input: AuthorizerInput,
) -> Result<LambdaAuthorizer, Invalid> {
    let mut identity_sources = Vec::new();
    for text in &input.identity_sources {
        let parts: Vec<&str> = match flavour {
            ApiFlavour::Rest => text.split(',').collect(),
            ApiFlavour::Http => vec![text.as_str()],
        };
        for part in parts.into_iter().filter(|part| !part.trim().is_empty()) {
            identity_sources.push(IdentitySource::parse(flavour, part)?);
        }
    }
    // AWS: a user pool's token comes in a header; a JWT in a header or a
    // query string parameter.
    let one_source = matches!(
        (flavour, identity_sources.as_slice()),
        (_, [IdentitySource::Header(_)]) | (ApiFlavour::Http, [IdentitySource::Query(_)])
    );
    if !one_source {
        return Err(Invalid(match flavour {
            ApiFlavour::Rest => {
                "Identity source of a COGNITO_USER_POOLS authorizer must be one method.request.header.{name}"
            }
            ApiFlavour::Http => {
                "Identity source of a JWT authorizer must be one $request.header.{name} or $request.querystring.{name}"
            }
        }
        .to_owned()));
    }
    let jwks_url = input.jwks_url.filter(|url| !url.is_empty());
    if let Some(url) = &jwks_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(Invalid(format!(
            "JWKS URL '{}' must be an http:// or https:// URL",
            crate::fields::shown(url)
        )));
    }
    let tokens = match kind {
        AuthorizerType::CognitoUserPools => {
            if input.provider_arns.is_empty() {
                return Err(Invalid(
                    "ProviderARNs must be specified for COGNITO_USER_POOLS authorizers".to_owned(),
                ));
            }
            let issuers = input
                .provider_arns
                .iter()
                .map(|arn| {
                    user_pool_issuer(arn).ok_or_else(|| {
                        Invalid(format!(
                            "Invalid provider ARN: {}",
                            crate::fields::shown(arn)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            TokenValidation {
                issuers,
                audience: Vec::new(),
                provider_arns: input.provider_arns,
                jwks_url,
            }
        }
        _ => {
            let issuer = input
                .issuer
                .filter(|issuer| !issuer.is_empty())
                .ok_or_else(|| {
                    Invalid(
                        "JwtConfiguration.Issuer must be specified for JWT authorizers".to_owned(),
                    )
                })?;
            if !(issuer.starts_with("https://") || issuer.starts_with("http://"))
                || issuer.len() > 2048
            {
                return Err(Invalid(format!(
                    "Invalid issuer {}: it must be an https:// (or, for a local issuer, http://) URL",
                    crate::fields::shown(&issuer)
                )));
            }
            if input.audience.is_empty() || input.audience.iter().any(String::is_empty) {
                // AWS: a JWT authorizer needs at least one audience.
                return Err(Invalid(
                    "JwtConfiguration.Audience must have at least one entry for JWT authorizers"
                        .to_owned(),
                ));
            }
            TokenValidation {
                issuers: vec![issuer],
                audience: input.audience,
                provider_arns: Vec::new(),
                jwks_url,
            }
        }
    };
    let validation_expression = input.validation_expression.filter(|e| !e.is_empty());
    if let Some(expression) = &validation_expression {
        if kind != AuthorizerType::CognitoUserPools {
            return Err(Invalid(
                "Identity validation expression is only supported for TOKEN and COGNITO_USER_POOLS authorizers"
                    .to_owned(),
            ));
        }
        whole_match(expression).map_err(|_| {
            Invalid(format!(
                "Invalid identity validation expression: {expression}"
            ))
        })?;
    }
    let ttl = input.ttl_seconds.unwrap_or(match flavour {
        ApiFlavour::Rest => i64::from(DEFAULT_REST_TTL_SECONDS),
        ApiFlavour::Http => 0,
    });
    let ttl_seconds = u32::try_from(ttl)
        .ok()
        .filter(|ttl| *ttl <= MAX_TTL_SECONDS)
        .ok_or_else(|| {
            Invalid(format!(
                "Authorizer result TTL must be between 0 and {MAX_TTL_SECONDS} seconds"
            ))
        })?;
    Ok(LambdaAuthorizer {
        id: input.id,
        name,
        kind,
        uri: String::new(),
        function: String::new(),
        endpoint: String::new(),
        credentials: None,
        identity_sources,
        validation_expression,
        ttl_seconds,
        payload_format: match flavour {
            ApiFlavour::Rest => PayloadFormat::V1,
            ApiFlavour::Http => PayloadFormat::V2,
        },
        simple_responses: false,
        tokens: Some(tokens),
    })
}

/// `expression` anchored at both ends: the whole token must match.
fn whole_match(expression: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{expression})$"))
        .size_limit(1 << 20)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations";

    fn rest(kind: &str, sources: &str) -> AuthorizerInput {
        AuthorizerInput {
            id: "abc123".into(),
            name: Some("auth".into()),
            kind: Some(kind.into()),
            uri: Some(URI.into()),
            identity_sources: vec![sources.into()],
            ..AuthorizerInput::default()
        }
    }

    #[test]
    fn a_token_authorizer_reads_one_header_and_defaults_to_five_minutes_of_caching() {
        let authorizer = LambdaAuthorizer::new(
            ApiFlavour::Rest,
            rest("TOKEN", "method.request.header.Auth"),
        )
        .unwrap();
        assert_eq!(authorizer.kind, AuthorizerType::Token);
        assert_eq!(authorizer.function, "auth");
        assert_eq!(
            authorizer.identity_sources,
            vec![IdentitySource::Header("Auth".into())]
        );
        assert_eq!(authorizer.ttl_seconds, 300);
        for bad in [
            "method.request.querystring.q",
            "method.request.header.A,method.request.header.B",
            "",
        ] {
            assert!(
                LambdaAuthorizer::new(ApiFlavour::Rest, rest("TOKEN", bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn request_sources_of_both_flavours_parse_and_print_back() {
        let authorizer = LambdaAuthorizer::new(
            ApiFlavour::Rest,
            rest(
                "REQUEST",
                "method.request.header.H, method.request.querystring.q,stageVariables.s,context.requestId",
            ),
        )
        .unwrap();
        assert_eq!(
            authorizer.identity_sources,
            vec![
                IdentitySource::Header("H".into()),
                IdentitySource::Query("q".into()),
                IdentitySource::StageVariable("s".into()),
                IdentitySource::Context("requestId".into()),
            ]
        );
        assert_eq!(
            authorizer.input(ApiFlavour::Rest).identity_sources,
            vec![
                "method.request.header.H,method.request.querystring.q,stageVariables.s,context.requestId"
            ]
        );
        assert_eq!(
            IdentitySource::parse(ApiFlavour::Http, "$request.header.Authorization"),
            Ok(IdentitySource::Header("Authorization".into()))
        );
        assert!(IdentitySource::parse(ApiFlavour::Http, "method.request.header.A").is_err());
        assert!(IdentitySource::parse(ApiFlavour::Rest, "method.request.body.A").is_err());
    }

    #[test]
    fn http_authorizers_need_a_payload_version_and_simple_responses_need_2_0() {
        let input = |version: Option<&str>, simple: bool| AuthorizerInput {
            id: "a1".into(),
            name: Some("auth".into()),
            kind: Some("REQUEST".into()),
            uri: Some(URI.into()),
            identity_sources: vec!["$request.header.Authorization".into()],
            payload_format_version: version.map(str::to_owned),
            simple_responses: Some(simple),
            ..AuthorizerInput::default()
        };
        let ok = LambdaAuthorizer::new(ApiFlavour::Http, input(Some("2.0"), true)).unwrap();
        assert_eq!(
            (ok.payload_format, ok.simple_responses, ok.ttl_seconds),
            (PayloadFormat::V2, true, 0)
        );
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, input(None, false)).is_err());
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, input(Some("1.0"), true)).is_err());
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, input(Some("3.0"), false)).is_err());
    }

    #[test]
    fn unsupported_types_bad_uris_and_ttls_are_refused() {
        let mut cognito = rest("COGNITO_USER_POOLS", "method.request.header.Auth");
        cognito.uri = None;
        assert!(
            LambdaAuthorizer::new(ApiFlavour::Rest, cognito)
                .unwrap_err()
                .0
                .contains("ProviderARNs must be specified")
        );
        // Each type belongs to one flavour.
        let mut jwt_on_rest = rest("JWT", "method.request.header.Auth");
        jwt_on_rest.issuer = Some("https://issuer.example.com".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, jwt_on_rest).is_err());
        let mut bad_uri = rest("TOKEN", "method.request.header.Auth");
        bad_uri.uri = Some("arn:aws:lambda:us-east-1:111122223333:function:auth".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, bad_uri).is_err());
        for ttl in [-1, 3601] {
            let mut input = rest("TOKEN", "method.request.header.Auth");
            input.ttl_seconds = Some(ttl);
            assert!(
                LambdaAuthorizer::new(ApiFlavour::Rest, input).is_err(),
                "{ttl}"
            );
        }
        let mut uncached = rest("REQUEST", "");
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, uncached.clone()).is_err());
        uncached.ttl_seconds = Some(0);
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, uncached).is_ok());
    }

    #[test]
    fn a_user_pool_arn_names_its_issuer_and_nothing_else_does() {
        assert_eq!(
            user_pool_issuer("arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Ab1"),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab1".to_owned())
        );
        for bad in [
            "arn:aws:cognito-idp:us-east-1:111122223333:userpool/eu-west-1_Ab1",
            "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_",
            "arn:aws:cognito-idp:us-east-1:111122223333:identitypool/us-east-1_Ab1",
            "arn:aws:iam::111122223333:userpool/us-east-1_Ab1",
            "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_A/../b",
            "",
        ] {
            assert_eq!(user_pool_issuer(bad), None, "{bad}");
        }
    }

    #[test]
    fn token_authorizers_read_one_header_and_need_their_issuers() {
        let pool = AuthorizerInput {
            id: "c1".into(),
            name: Some("pool".into()),
            kind: Some("COGNITO_USER_POOLS".into()),
            identity_sources: vec!["method.request.header.Authorization".into()],
            provider_arns: vec![
                "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Ab1".into(),
            ],
            validation_expression: Some("ey.+".into()),
            ..AuthorizerInput::default()
        };
        let built = LambdaAuthorizer::new(ApiFlavour::Rest, pool.clone()).unwrap();
        assert_eq!(built.ttl_seconds, DEFAULT_REST_TTL_SECONDS);
        assert!(built.token_is_valid("eyJabc") && !built.token_is_valid("abc"));
        // What the control planes answer builds the same authorizer again.
        assert_eq!(
            LambdaAuthorizer::new(ApiFlavour::Rest, built.input(ApiFlavour::Rest)),
            Ok(built)
        );
        let mut query = pool.clone();
        query.identity_sources = vec!["method.request.querystring.token".into()];
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, query).is_err());
        let mut override_url = pool;
        override_url.jwks_url = Some("file:///etc/keys".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, override_url).is_err());

        let jwt = AuthorizerInput {
            id: "j1".into(),
            name: Some("jwt".into()),
            kind: Some("JWT".into()),
            identity_sources: vec!["$request.header.Authorization".into()],
            issuer: Some("https://issuer.example.com".into()),
            audience: vec!["client".into()],
            ..AuthorizerInput::default()
        };
        let built = LambdaAuthorizer::new(ApiFlavour::Http, jwt.clone()).unwrap();
        assert_eq!(
            LambdaAuthorizer::new(ApiFlavour::Http, built.input(ApiFlavour::Http)),
            Ok(built)
        );
        let mut in_query = jwt.clone();
        in_query.identity_sources = vec!["$request.querystring.access_token".into()];
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, in_query).is_ok());
        let mut two = jwt.clone();
        two.identity_sources = vec![
            "$request.header.Authorization".into(),
            "$request.querystring.access_token".into(),
        ];
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, two).is_err());
        let mut no_issuer = jwt.clone();
        no_issuer.issuer = None;
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, no_issuer).is_err());
        let mut not_a_url = jwt.clone();
        not_a_url.issuer = Some("issuer.example.com".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, not_a_url).is_err());
        let mut expression = jwt;
        expression.validation_expression = Some(".*".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Http, expression).is_err());
        assert!(authorization_scopes(&["a b".to_owned()]).is_err());
        assert!(authorization_scopes(&[String::new()]).is_err());
        assert!(authorization_scopes(&vec!["s".to_owned(); MAX_SCOPES + 1]).is_err());
    }

    #[test]
    fn the_validation_expression_must_match_the_whole_token() {
        let mut input = rest("TOKEN", "method.request.header.Auth");
        input.validation_expression = Some("Bearer [a-z]+".into());
        let authorizer = LambdaAuthorizer::new(ApiFlavour::Rest, input.clone()).unwrap();
        assert!(authorizer.token_is_valid("Bearer abc"));
        assert!(!authorizer.token_is_valid("xBearer abc"));
        assert!(!authorizer.token_is_valid("Bearer abc1"));
        input.validation_expression = Some("(".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, input).is_err());
        let mut on_request = rest("REQUEST", "method.request.header.Auth");
        on_request.validation_expression = Some(".*".into());
        assert!(LambdaAuthorizer::new(ApiFlavour::Rest, on_request).is_err());
    }
}
