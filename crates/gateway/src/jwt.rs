//! `JWT` (HTTP APIs) and `COGNITO_USER_POOLS` (REST APIs) authorizers: the
//! gateway validates the caller's token itself, against the signing keys
//! its issuer publishes, and no function is called.
//!
//! The checks are AWS's ("Controlling access to HTTP APIs with JWT
//! authorizers"; "Integrate a REST API with an Amazon Cognito user pool"),
//! in this order, each refusal with its own [`Refusal`] so the decision
//! record says why (never the token):
//!
//! 1. the identity source holds a token, alone or after `Bearer `;
//! 2. the token decodes (three base64url parts, a JSON header) and its
//!    `alg` is an RSA one (AWS: "only RSA-based algorithms are
//!    supported"; `none`, `HS256` and the rest are refused before any key
//!    is looked at, so a public key can never serve as an HMAC secret);
//! 3. its `kid` names a key of the issuer's JWKS, and the signature
//!    verifies with that key;
//! 4. `exp` is after now (required), `nbf` and `iat` (when present) are not
//!    after now, `iss` is one of the authorizer's issuers;
//! 5. HTTP: `aud` — or, without `aud`, `client_id` (Cognito access
//!    tokens) — is one of the configured audiences; REST: `token_use` is
//!    `access` when the method asks for scopes, `id` otherwise;
//! 6. when scopes are asked, `scope` (space-separated) or `scp` holds one
//!    of them; this one refusal is a 403, every other a 401.
//!
//! Why the key sets are cached and refreshed only on an unknown `kid`, at
//! most once per [`REFRESH_FLOOR_SECONDS`]: issuers rotate keys by adding
//! one before signing with it, so an unknown `kid` is the one signal to
//! fetch again; the floor keeps a flood of made-up `kid`s from turning the
//! gateway into a load generator against the issuer.
//!
//! Outbound calls go through [`Integrations`], the one client the data
//! plane calls Lambda and HTTP backends with (plain `http://`; an
//! `https://` issuer cannot be reached yet and fails closed: 401).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iamgate_apimodel::authorizers::{AuthorizerType, LambdaAuthorizer, TokenValidation};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::integration::Integrations;

/// Tokens longer than this are refused unread (ours: AWS bounds the whole
/// header at 10 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// An unknown `kid` fetches the key set again at most this often (ours).
pub const REFRESH_FLOOR_SECONDS: i64 = 30;

/// A key set is fetched again after this long even without an unknown
/// `kid` (ours), so a key the issuer withdrew stops verifying.
pub const KEYS_TTL_SECONDS: i64 = 3600;

/// How long fetching a discovery document or a key set may take (ours).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Discovery documents and key sets longer than this are refused (ours).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// How many validated tokens the cache keeps at most (ours).
pub const CACHE_CAPACITY: usize = 10_000;

/// The signing algorithms AWS accepts: RSA only.
const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// Why a token was refused. Only [`Refusal::Scope`] is a 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token in the identity source.
    Missing,
    /// Too long, not three base64url parts, or a header that is not JSON.
    Malformed,
    /// The identity validation expression (REST) refused the token.
    ValidationExpression,
    /// `alg` is not an RSA algorithm (`none`, `HS256`, `ES256`, …).
    Algorithm,
    /// No `kid`, or none of the issuer's keys has it.
    UnknownKey,
    /// The issuer's keys could not be fetched.
    KeysUnavailable,
    /// The signature does not verify, or the payload is not a JSON object.
    Signature,
    /// `exp` is missing or not after now.
    Expired,
    /// `nbf` or `iat` is after now.
    NotYetValid,
    /// `iss` is not one of the authorizer's issuers.
    Issuer,
    /// Neither `aud` nor `client_id` is one of the audiences.
    Audience,
    /// REST: an id token where scopes ask for an access token, or the
    /// other way round.
    TokenUse,
    /// None of the route's scopes is among the token's: 403.
    Scope,
}

impl Refusal {
    /// Why, in words for the decision record and `www-authenticate`.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Missing => "no token in the identity source",
            Refusal::Malformed => "the token is malformed",
            Refusal::ValidationExpression => "the token does not match the validation expression",
            Refusal::Algorithm => "the token's signing algorithm is not supported",
            Refusal::UnknownKey => "the token's key id is not one of the issuer's keys",
            Refusal::KeysUnavailable => "the issuer's signing keys could not be fetched",
            Refusal::Signature => "the token's signature is invalid",
            Refusal::Expired => "the token has expired",
            Refusal::NotYetValid => "the token is not valid yet",
            Refusal::Issuer => "the token does not have a valid issuer",
            Refusal::Audience => "the token does not have a valid audience",
            Refusal::TokenUse => "the token is not of the type the method requires",
            Refusal::Scope => "the token does not have a required scope",
        }
    }

    /// A short name for the decision record's rule.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::ValidationExpression => "validation_expression",
            Refusal::Algorithm => "algorithm",
            Refusal::UnknownKey => "kid_unknown",
            Refusal::KeysUnavailable => "keys_unavailable",
            Refusal::Signature => "signature",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::Issuer => "issuer",
            Refusal::Audience => "audience",
            Refusal::TokenUse => "token_use",
            Refusal::Scope => "scope",
        }
    }

    /// Whether AWS answers 403 (a missing scope) rather than 401.
    pub fn is_forbidden(self) -> bool {
        self == Refusal::Scope
    }
}

/// A token that passed: its claims and scopes, for `$context.authorizer`
/// and the integration's event.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub claims: Map<String, Value>,
    /// `scope` split on spaces, or `scp`; `None` when the token has neither.
    pub scopes: Option<Vec<String>>,
    /// The scope of the route's that the token holds (for the record).
    pub matched_scope: Option<String>,
    /// When the token expires (seconds since the epoch).
    pub expires_at: i64,
}

/// The token in an identity source's value: alone, or after `Bearer `.
pub fn token_of(value: &str) -> Option<&str> {
    let value = value.trim();
    let token = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value.get(7..)?.trim_start(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// The header checks that need no key: length, shape, `alg`, `kid`.
pub fn header_of(token: &str) -> Result<(Algorithm, String), Refusal> {
    if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
        return Err(Refusal::Malformed);
    }
    // `alg: none` and names jsonwebtoken does not know fail here.
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    if !RSA_ALGORITHMS.contains(&header.alg) {
        return Err(Refusal::Algorithm);
    }
    let kid = header.kid.ok_or(Refusal::UnknownKey)?;
    Ok((header.alg, kid))
}

/// Verifies `token` with `key` and checks its claims at `now` (seconds) as
/// `authorizer` and `scopes` ask. Pure: the key was looked up before.
pub fn verify(
    token: &str,
    algorithm: Algorithm,
    key: &Jwk,
    authorizer: &LambdaAuthorizer,
    tokens: &TokenValidation,
    now: i64,
) -> Result<Validated, Refusal> {
    if let Some(key_algorithm) = key.common.key_algorithm
        && key_algorithm.to_string() != format!("{algorithm:?}")
    {
        return Err(Refusal::Signature);
    }
    let decoding = DecodingKey::from_jwk(key).map_err(|_| Refusal::Signature)?;
    let mut validation = Validation::new(algorithm);
    // Time, issuer and audience are checked below, against `now` and with
    // AWS's rules (`client_id` for `aud`), not the crate's clock.
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation)
        .map_err(|_| Refusal::Signature)?;
    let claims = data.claims;
    let expires_at = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or(Refusal::Expired)?;
    if expires_at <= now as f64 {
        return Err(Refusal::Expired);
    }
    for name in ["nbf", "iat"] {
        match claims.get(name) {
            None => {}
            Some(value) => match value.as_f64() {
                Some(at) if at <= now as f64 => {}
                _ => return Err(Refusal::NotYetValid),
            },
        }
    }
    let issuer = claims.get("iss").and_then(Value::as_str);
    if !issuer.is_some_and(|issuer| tokens.issuers.iter().any(|i| i == issuer)) {
        return Err(Refusal::Issuer);
    }
    match authorizer.kind {
        AuthorizerType::Jwt => {
            let audiences: Vec<&str> = match claims.get("aud").or_else(|| claims.get("client_id"))
            {
                Some(Value::String(one)) => vec![one.as_str()],
                Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !audiences
                .iter()
                .any(|aud| tokens.audience.iter().any(|want| want == aud))
            {
                return Err(Refusal::Audience);
            }
        }
        AuthorizerType::CognitoUserPools => {}
        // Never reached: only token-validating authorizers come here.
        AuthorizerType::Token | AuthorizerType::Request => return Err(Refusal::Signature),
    }
    let scopes = match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(text)), _) => {
            Some(text.split_whitespace().map(str::to_owned).collect())
        }
        (_, Some(Value::String(text))) => {
            Some(text.split_whitespace().map(str::to_owned).collect())
        }
        (_, Some(Value::Array(items))) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    Ok(Validated {
        claims,
        scopes,
        matched_scope: None,
        // `exp` was checked to be a number after now.
        expires_at: expires_at.min(i64::MAX as f64) as i64,
    })
}

/// The checks that depend on the method or route, not the token alone:
/// REST `token_use`, then the scopes asked.
pub fn check_scopes(
    authorizer: &LambdaAuthorizer,
    validated: &Validated,
    asked: &[String],
) -> Result<Option<String>, Refusal> {
    if authorizer.kind == AuthorizerType::CognitoUserPools {
        let wanted = if asked.is_empty() { "id" } else { "access" };
        if validated.claims.get("token_use").and_then(Value::as_str) != Some(wanted) {
            return Err(Refusal::TokenUse);
        }
    }
    if asked.is_empty() {
        return Ok(None);
    }
    let held = validated.scopes.as_deref().unwrap_or_default();
    asked
        .iter()
        .find(|scope| held.contains(scope))
        .map(|scope| Some(scope.clone()))
        .ok_or(Refusal::Scope)
}

/// Claims as AWS passes them on: every value a string (numbers and
/// booleans as written, arrays as `[a b]`, objects as JSON).
pub fn claims_as_strings(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(claim_text(value))))
        .collect()
}

fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(claim_text).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One issuer's (or override URL's) signing keys.
struct KeySet {
    keys: Arc<Vec<Jwk>>,
    fetched_at: i64,
    /// When a fetch was last tried, successful or not.
    tried_at: i64,
}

/// A token validated once, reused while the TTL runs (never past `exp`).
struct Cached {
    validated: Arc<Validated>,
    expires_at: i64,
}

/// The data plane's token validator: key sets and validated tokens.
#[derive(Default)]
pub struct TokenAuthorizers {
    keys: Mutex<HashMap<String, KeySet>>,
    /// Keyed by the API, the authorizer and the token's SHA-256 (the token
    /// itself is not kept).
    validated: Mutex<HashMap<(String, String, [u8; 32]), Cached>>,
}

impl TokenAuthorizers {
    /// Validates the token in `value` (the identity source's value) for
    /// `authorizer`; the `bool` says whether the answer came from the
    /// cache. Scopes are checked by [`check_scopes`] afterwards.
    pub async fn validate(
        &self,
        integrations: &Integrations,
        api_id: &str,
        authorizer: &LambdaAuthorizer,
        value: Option<&str>,
        now: i64,
    ) -> Result<(Arc<Validated>, bool), Refusal> {
        let tokens = authorizer.tokens.as_ref().ok_or(Refusal::KeysUnavailable)?;
        let token = value.and_then(token_of).ok_or(Refusal::Missing)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Refusal::Malformed);
        }
        if !authorizer.token_is_valid(token) {
            return Err(Refusal::ValidationExpression);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let key = (api_id.to_owned(), authorizer.id.clone(), digest);
        if let Some(hit) = self.cached(&key, now) {
            return Ok((hit, true));
        }
        let (algorithm, kid) = header_of(token)?;
        let jwk = self.key(integrations, tokens, &kid, now).await?;
        let validated = Arc::new(verify(token, algorithm, &jwk, authorizer, tokens, now)?);
        if authorizer.ttl_seconds > 0 {
            let until = now
                .saturating_add(i64::from(authorizer.ttl_seconds))
                .min(validated.expires_at);
            self.store(key, validated.clone(), until, now);
        }
        Ok((validated, false))
    }

    fn cached(&self, key: &(String, String, [u8; 32]), now: i64) -> Option<Arc<Validated>> {
        let cache = self.validated.lock().ok()?;
        cache
            .get(key)
            .filter(|cached| cached.expires_at > now)
            .map(|cached| cached.validated.clone())
    }

    fn store(
        &self,
        key: (String, String, [u8; 32]),
        validated: Arc<Validated>,
        expires_at: i64,
        now: i64,
    ) {
        let Ok(mut cache) = self.validated.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.expires_at > now);
        }
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Cached {
                validated,
                expires_at,
            },
        );
    }

    /// The key `kid` of the issuer's set: from the cache, or fetched when
    /// the set is unknown, old, or lacks `kid` (at most once per
    /// [`REFRESH_FLOOR_SECONDS`]).
    async fn key(
        &self,
        integrations: &Integrations,
        tokens: &TokenValidation,
        kid: &str,
        now: i64,
    ) -> Result<Jwk, Refusal> {
        let source = tokens
            .jwks_url
            .clone()
            .or_else(|| tokens.issuers.first().cloned())
            .ok_or(Refusal::KeysUnavailable)?;
        let (known, may_fetch) = {
            let sets = self.keys.lock().map_err(|_| Refusal::KeysUnavailable)?;
            match sets.get(&source) {
                Some(set) => {
                    let found = set.keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid));
                    let fresh = now.saturating_sub(set.fetched_at) < KEYS_TTL_SECONDS;
                    let may = now.saturating_sub(set.tried_at) >= REFRESH_FLOOR_SECONDS;
                    match found {
                        Some(key) if fresh || !may => return Ok(key.clone()),
                        _ => (true, may),
                    }
                }
                None => (false, true),
            }
        };
        if !may_fetch {
            return Err(Refusal::UnknownKey);
        }
        if let Ok(mut sets) = self.keys.lock() {
            // Claim the attempt before the network: concurrent requests
            // with unknown kids do not fetch again.
            if let Some(set) = sets.get_mut(&source) {
                set.tried_at = now;
            }
        }
        let fetched = fetch_keys(integrations, tokens).await;
        let Ok(mut sets) = self.keys.lock() else {
            return Err(Refusal::KeysUnavailable);
        };
        match fetched {
            Some(keys) => {
                let found = keys
                    .iter()
                    .find(|k| k.common.key_id.as_deref() == Some(kid))
                    .cloned();
                sets.insert(
                    source,
                    KeySet {
                        keys: Arc::new(keys),
                        fetched_at: now,
                        tried_at: now,
                    },
                );
                found.ok_or(Refusal::UnknownKey)
            }
            None if known => {
                // Keep the old set; try again after the floor.
                if let Some(set) = sets.get_mut(&source) {
                    set.tried_at = now;
                }
                Err(Refusal::KeysUnavailable)
            }
            None => {
                sets.insert(
                    source,
                    KeySet {
                        keys: Arc::new(Vec::new()),
                        fetched_at: i64::MIN / 2,
                        tried_at: now,
                    },
                );
                Err(Refusal::KeysUnavailable)
            }
        }
    }

    /// How many validated tokens are cached (for tests and metrics).
    pub fn cached_tokens(&self) -> usize {
        self.validated.lock().map_or(0, |cache| cache.len())
    }
}

/// The issuer's keys: from the override URL, or through
/// `{issuer}/.well-known/openid-configuration` → `jwks_uri`. Keys of a
/// type jsonwebtoken cannot read are left out, not the whole set.
async fn fetch_keys(integrations: &Integrations, tokens: &TokenValidation) -> Option<Vec<Jwk>> {
    let jwks_url = match &tokens.jwks_url {
        Some(url) => url.clone(),
        None => {
            let issuer = tokens.issuers.first()?;
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            let body = integrations
                .fetch(&discovery, FETCH_TIMEOUT, MAX_DOCUMENT_BYTES)
                .await
                .ok()?;
            let document: Value = serde_json::from_slice(&body).ok()?;
            document.get("jwks_uri")?.as_str()?.to_owned()
        }
    };
    let body = integrations
        .fetch(&jwks_url, FETCH_TIMEOUT, MAX_DOCUMENT_BYTES)
        .await
        .ok()?;
    let set: Value = serde_json::from_slice(&body).ok()?;
    let keys = set.get("keys")?.as_array()?;
    Some(
        keys.iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
            .collect(),
    )
}
