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
//! Why a validated token is kept: checking an RS256 signature is most of
//! a request's cost. A REST user pool authorizer keeps it for its TTL, as
//! AWS does. An HTTP API's JWT authorizer, which AWS does not cache, keeps
//! it only while checking it again could not answer otherwise: before
//! `exp`, under the same authorizer settings, and while the key set it
//! was checked with is the current one and fresh (any refetch forgets
//! every kept token).
//!
//! Outbound calls go through [`Integrations`], the one client the data
//! plane calls Lambda and HTTP backends with; `https://` issuers over
//! rustls on ring, trusting what the server gave the data plane
//! ([`crate::dataplane::DataPlane::with_tls_client`]). An issuer that cannot
//! be reached, or whose certificate is not trusted, fails closed: 401.

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
    if value.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value.get(7..)?.trim_start(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// One key of an issuer's set, built once when the set is fetched (not on
/// every verification).
#[derive(Clone)]
pub struct SigningKey {
    kid: Option<String>,
    /// The JWK's `alg`, when it says one (`RS256`, …).
    algorithm: Option<String>,
    decoding: DecodingKey,
}

impl SigningKey {
    /// The key a JWK describes; `None` for one jsonwebtoken cannot use.
    pub fn from_jwk(jwk: &Jwk) -> Option<SigningKey> {
        Some(SigningKey {
            kid: jwk.common.key_id.clone(),
            algorithm: jwk.common.key_algorithm.map(|alg| alg.to_string()),
            decoding: DecodingKey::from_jwk(jwk).ok()?,
        })
    }
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
    key: &SigningKey,
    authorizer: &LambdaAuthorizer,
    tokens: &TokenValidation,
    now: i64,
) -> Result<Validated, Refusal> {
    if let Some(key_algorithm) = &key.algorithm
        && *key_algorithm != format!("{algorithm:?}")
    {
        return Err(Refusal::Signature);
    }
    let mut validation = Validation::new(algorithm);
    // Time, issuer and audience are checked below, against `now` and with
    // AWS's rules (`client_id` for `aud`), not the crate's clock.
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
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
            let audiences: Vec<&str> = match claims.get("aud").or_else(|| claims.get("client_id")) {
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

/// Claims as an authorizer passes them on: an HTTP API's `JWT` one as
/// [`claims_as_strings`], a REST API's user pool one as
/// [`rest_user_pool_claims`].
pub fn passed_claims(claims: &Map<String, Value>, http: bool) -> Map<String, Value> {
    if http {
        claims_as_strings(claims)
    } else {
        rest_user_pool_claims(claims)
    }
}

/// Claims as a REST API's Cognito user pool authorizer passes them on:
/// [`claims_as_strings`], except `exp` and `iat`, which AWS writes as
/// dates in UTC (`Fri Jul 29 18:52:53 UTC 2016`; `auth_time` stays the
/// number). Seen in events captured from AWS (amazon-cognito-identity-js
/// issue 92; aws/serverless-java-container's claims model reads `exp`
/// and `iat` as such dates and `auth_time` as a number).
pub fn rest_user_pool_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut strings = claims_as_strings(claims);
    for name in ["exp", "iat"] {
        if let Some(date) = claims.get(name).and_then(Value::as_i64).map(utc_date) {
            strings.insert(name.to_owned(), Value::String(date));
        }
    }
    strings
}

/// `epoch` (seconds) as Java's `Date.toString()` in UTC:
/// `EEE MMM dd HH:mm:ss zzz yyyy`.
fn utc_date(epoch: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch.div_euclid(86_400);
    let seconds = epoch.rem_euclid(86_400);
    let (year, month, day) = iamgate_sigv4::time::civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = usize::try_from(days.rem_euclid(7))
        .ok()
        .and_then(|index| WEEKDAYS.get(index))
        .copied()
        .unwrap_or("Thu");
    let month_name = usize::try_from(month - 1)
        .ok()
        .and_then(|index| MONTHS.get(index))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday} {month_name} {day:02} {:02}:{:02}:{:02} UTC {year}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
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

/// A signing key, until when its set is fresh, and the key-set generation
/// it was found in (read under the key sets' lock).
struct KeyFound {
    key: SigningKey,
    fresh_until: i64,
    generation: u64,
}

/// One issuer's (or override URL's) signing keys.
struct KeySet {
    keys: Arc<Vec<SigningKey>>,
    fetched_at: i64,
    /// When a fetch was last tried, successful or not.
    tried_at: i64,
}

/// The API, the authorizer and the token's SHA-256 (the token itself is
/// not kept).
type TokenKey = (String, String, [u8; 32]);

/// A token validated once, reused until `expires_at` (never past `exp`)
/// under the settings and key sets it was validated with.
struct Cached {
    validated: Arc<Validated>,
    expires_at: i64,
    settings: TokenValidation,
    generation: u64,
}

/// The data plane's token validator: key sets and validated tokens.
#[derive(Default)]
pub struct TokenAuthorizers {
    keys: Mutex<HashMap<String, KeySet>>,
    validated: Mutex<HashMap<TokenKey, Cached>>,
    /// Counts key-set fetches: a token kept under an older count is
    /// validated again.
    generation: std::sync::atomic::AtomicU64,
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
        if let Some(hit) = self.cached(&key, tokens, now) {
            return Ok((hit, true));
        }
        let (algorithm, kid) = header_of(token)?;
        let KeyFound {
            key: signing,
            fresh_until: keys_fresh_until,
            generation,
        } = self.key(integrations, tokens, &kid, now).await?;
        let validated = Arc::new(verify(token, algorithm, &signing, authorizer, tokens, now)?);
        let until = if authorizer.ttl_seconds > 0 {
            now.saturating_add(i64::from(authorizer.ttl_seconds))
        } else {
            keys_fresh_until
        }
        .min(validated.expires_at);
        if until > now {
            let kept = Cached {
                validated: validated.clone(),
                expires_at: until,
                settings: tokens.clone(),
                generation,
            };
            self.store(key, kept, now);
        }
        Ok((validated, false))
    }

    fn cached(
        &self,
        key: &TokenKey,
        settings: &TokenValidation,
        now: i64,
    ) -> Option<Arc<Validated>> {
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let cache = self.validated.lock().ok()?;
        cache
            .get(key)
            .filter(|cached| {
                cached.expires_at > now
                    && cached.generation == generation
                    && cached.settings == *settings
            })
            .map(|cached| cached.validated.clone())
    }

    fn store(&self, key: TokenKey, kept: Cached, now: i64) {
        let Ok(mut cache) = self.validated.lock() else {
            return;
        };
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, entry| entry.expires_at > now);
        }
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, kept);
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
    ) -> Result<KeyFound, Refusal> {
        let source = tokens
            .jwks_url
            .clone()
            .or_else(|| tokens.issuers.first().cloned())
            .ok_or(Refusal::KeysUnavailable)?;
        let (known, may_fetch, stale) = {
            let mut sets = self.keys.lock().map_err(|_| Refusal::KeysUnavailable)?;
            match sets.get_mut(&source) {
                Some(set) => {
                    let found = set.keys.iter().find(|k| k.kid.as_deref() == Some(kid));
                    let fresh = now.saturating_sub(set.fetched_at) < KEYS_TTL_SECONDS;
                    let may = now.saturating_sub(set.tried_at) >= REFRESH_FLOOR_SECONDS;
                    if let Some(key) = found
                        && (fresh || !may)
                    {
                        return Ok(KeyFound {
                            key: key.clone(),
                            fresh_until: set.fetched_at.saturating_add(KEYS_TTL_SECONDS),
                            generation: self.generation.load(std::sync::atomic::Ordering::SeqCst),
                        });
                    }
                    let stale = found.cloned();
                    if may {
                        // Claimed under the lock, before the network:
                        // concurrent requests with unknown kids do not
                        // fetch again.
                        set.tried_at = now;
                    }
                    (true, may, stale)
                }
                None => (false, true, None),
            }
        };
        if !may_fetch {
            return Err(Refusal::UnknownKey);
        }
        let fetched = fetch_keys(integrations, tokens).await;
        let Ok(mut sets) = self.keys.lock() else {
            return Err(Refusal::KeysUnavailable);
        };
        match fetched {
            Some(keys) => {
                let found = keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned();
                // Tokens checked with the old set are checked again.
                let generation = self
                    .generation
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                    .wrapping_add(1);
                sets.insert(
                    source,
                    KeySet {
                        keys: Arc::new(keys),
                        fetched_at: now,
                        tried_at: now,
                    },
                );
                found
                    .map(|key| KeyFound {
                        key,
                        fresh_until: now.saturating_add(KEYS_TTL_SECONDS),
                        generation,
                    })
                    .ok_or(Refusal::UnknownKey)
            }
            None if known => {
                // Keep the old set (an hour-old key still verifies while
                // the issuer is down); try again after the floor.
                if let Some(set) = sets.get_mut(&source) {
                    set.tried_at = now;
                }
                // Kept, but not a reason to keep tokens validated with it.
                stale
                    .map(|key| KeyFound {
                        key,
                        fresh_until: now,
                        generation: self.generation.load(std::sync::atomic::Ordering::SeqCst),
                    })
                    .ok_or(Refusal::KeysUnavailable)
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
async fn fetch_keys(
    integrations: &Integrations,
    tokens: &TokenValidation,
) -> Option<Vec<SigningKey>> {
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
            .filter_map(|jwk| SigningKey::from_jwk(&jwk))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamgate_apimodel::authorizers::AuthorizerInput;
    use iamgate_apimodel::model::ApiFlavour;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const SIGNING_KEY: &[u8] = include_bytes!("../../../testdata/jwt/signing-key.der");
    const OTHER_KEY: &[u8] = include_bytes!("../../../testdata/jwt/other-key.der");
    const JWKS: &str = include_str!("../../../testdata/jwt/jwks.json");
    const ISSUER: &str = "https://issuer.example.com";
    const POOL_ARN: &str = "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_Pool1";
    const POOL_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1";
    const NOW: i64 = 1_800_000_000;

    fn jwt_authorizer() -> LambdaAuthorizer {
        LambdaAuthorizer::new(
            ApiFlavour::Http,
            AuthorizerInput {
                id: "jw1".into(),
                name: Some("jwt".into()),
                kind: Some("JWT".into()),
                identity_sources: vec!["$request.header.Authorization".into()],
                issuer: Some(ISSUER.into()),
                audience: vec!["client-a".into(), "client-b".into()],
                ..AuthorizerInput::default()
            },
        )
        .unwrap()
    }

    fn cognito_authorizer() -> LambdaAuthorizer {
        LambdaAuthorizer::new(
            ApiFlavour::Rest,
            AuthorizerInput {
                id: "cg1".into(),
                name: Some("pool".into()),
                kind: Some("COGNITO_USER_POOLS".into()),
                identity_sources: vec!["method.request.header.Authorization".into()],
                provider_arns: vec![POOL_ARN.into()],
                ..AuthorizerInput::default()
            },
        )
        .unwrap()
    }

    fn key(kid: &str) -> SigningKey {
        let set: Value = serde_json::from_str(JWKS).unwrap();
        let jwk: Jwk = serde_json::from_value(set["keys"][0].clone()).unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some(kid));
        SigningKey::from_jwk(&jwk).unwrap()
    }

    fn sign_with(der: &[u8], kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der)).unwrap()
    }

    fn sign(claims: &Value) -> String {
        sign_with(SIGNING_KEY, "test-key-1", claims)
    }

    fn good_claims() -> Value {
        json!({"iss": ISSUER, "aud": "client-a", "sub": "user-1", "exp": NOW + 60,
               "iat": NOW - 10, "scope": "read write"})
    }

    fn check(token: &str, authorizer: &LambdaAuthorizer) -> Result<Validated, Refusal> {
        let (alg, _kid) = header_of(token)?;
        verify(
            token,
            alg,
            &key("test-key-1"),
            authorizer,
            authorizer.tokens.as_ref().unwrap(),
            NOW,
        )
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut claims = good_claims();
        change(claims.as_object_mut().unwrap());
        sign(&claims)
    }

    #[test]
    fn a_token_signed_by_the_issuers_key_with_good_claims_passes_with_its_scopes() {
        let validated = check(&sign(&good_claims()), &jwt_authorizer()).unwrap();
        assert_eq!(validated.claims["sub"], "user-1");
        assert_eq!(
            validated.scopes,
            Some(vec!["read".to_owned(), "write".to_owned()])
        );
        assert_eq!(validated.expires_at, NOW + 60);
    }

    #[test]
    fn the_token_may_come_alone_or_after_bearer() {
        assert_eq!(token_of("Bearer abc"), Some("abc"));
        assert_eq!(token_of("bearer   abc"), Some("abc"));
        assert_eq!(token_of("abc"), Some("abc"));
        assert_eq!(token_of("Bearer "), None);
        assert_eq!(token_of("  "), None);
    }

    #[test]
    fn an_expired_token_or_one_without_exp_is_refused_as_expired() {
        let authorizer = jwt_authorizer();
        let expired = with(|c| {
            c.insert("exp".into(), json!(NOW));
        });
        assert_eq!(check(&expired, &authorizer), Err(Refusal::Expired));
        let no_exp = with(|c| {
            c.remove("exp");
        });
        assert_eq!(check(&no_exp, &authorizer), Err(Refusal::Expired));
        let text_exp = with(|c| {
            c.insert("exp".into(), json!("tomorrow"));
        });
        assert_eq!(check(&text_exp, &authorizer), Err(Refusal::Expired));
    }

    #[test]
    fn a_token_not_valid_yet_by_nbf_or_iat_is_refused() {
        let authorizer = jwt_authorizer();
        for claim in ["nbf", "iat"] {
            let future = with(|c| {
                c.insert(claim.into(), json!(NOW + 5));
            });
            assert_eq!(
                check(&future, &authorizer),
                Err(Refusal::NotYetValid),
                "{claim}"
            );
        }
        let past_nbf = with(|c| {
            c.insert("nbf".into(), json!(NOW - 5));
        });
        assert!(check(&past_nbf, &authorizer).is_ok());
    }

    #[test]
    fn another_issuer_is_refused() {
        let token = with(|c| {
            c.insert("iss".into(), json!("https://evil.example.com"));
        });
        assert_eq!(check(&token, &jwt_authorizer()), Err(Refusal::Issuer));
        let none = with(|c| {
            c.remove("iss");
        });
        assert_eq!(check(&none, &jwt_authorizer()), Err(Refusal::Issuer));
    }

    #[test]
    fn the_audience_is_aud_or_without_aud_client_id() {
        let authorizer = jwt_authorizer();
        let wrong = with(|c| {
            c.insert("aud".into(), json!("client-z"));
        });
        assert_eq!(check(&wrong, &authorizer), Err(Refusal::Audience));
        let listed = with(|c| {
            c.insert("aud".into(), json!(["client-z", "client-b"]));
        });
        assert!(check(&listed, &authorizer).is_ok());
        let client_id = with(|c| {
            c.remove("aud");
            c.insert("client_id".into(), json!("client-b"));
        });
        assert!(check(&client_id, &authorizer).is_ok());
        // With both, `aud` decides.
        let both = with(|c| {
            c.insert("aud".into(), json!("client-z"));
            c.insert("client_id".into(), json!("client-a"));
        });
        assert_eq!(check(&both, &authorizer), Err(Refusal::Audience));
        let neither = with(|c| {
            c.remove("aud");
        });
        assert_eq!(check(&neither, &authorizer), Err(Refusal::Audience));
    }

    #[test]
    fn a_token_signed_by_another_key_fails_the_signature_check() {
        let forged = sign_with(OTHER_KEY, "test-key-1", &good_claims());
        assert_eq!(check(&forged, &jwt_authorizer()), Err(Refusal::Signature));
        // A payload altered after signing.
        let token = sign(&good_claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let altered = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json!({"iss": ISSUER, "aud": "client-a", "sub": "admin", "exp": NOW + 60}).to_string(),
        );
        parts[1] = &altered;
        assert_eq!(
            check(&parts.join("."), &jwt_authorizer()),
            Err(Refusal::Signature)
        );
    }

    #[test]
    fn malformed_tokens_and_non_rsa_algorithms_are_refused_before_any_key() {
        let b64 = |text: &str| {
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
        };
        let payload = b64(&good_claims().to_string());
        for bad in [
            "abc".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "!!!.###.$$$".to_owned(),
            format!("{}.{payload}.", b64("not json")),
            format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"test-key-1"}"#)),
            format!(
                "{}.{payload}.sig",
                b64(r#"{"alg":"RS999","kid":"test-key-1"}"#)
            ),
            "x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert_eq!(header_of(&bad), Err(Refusal::Malformed), "{bad:.40}");
        }
        for alg in ["HS256", "ES256", "EdDSA"] {
            let header = b64(&format!(r#"{{"alg":"{alg}","kid":"test-key-1"}}"#));
            assert_eq!(
                header_of(&format!("{header}.{payload}.sig")),
                Err(Refusal::Algorithm),
                "{alg}"
            );
        }
        let no_kid = b64(r#"{"alg":"RS256"}"#);
        assert_eq!(
            header_of(&format!("{no_kid}.{payload}.sig")),
            Err(Refusal::UnknownKey)
        );
    }

    #[test]
    fn hs256_signed_with_the_public_key_as_secret_is_refused() {
        // The classic confusion attack: the RSA public key's bytes as an
        // HMAC secret. The algorithm is refused before any key is used.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("test-key-1".into());
        let token = jsonwebtoken::encode(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(JWKS.as_bytes()),
        )
        .unwrap();
        assert_eq!(header_of(&token), Err(Refusal::Algorithm));
    }

    #[test]
    fn scopes_need_one_of_the_routes_from_scope_or_scp() {
        let authorizer = jwt_authorizer();
        let validated = check(&sign(&good_claims()), &authorizer).unwrap();
        let asked = |scopes: &[&str]| scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(check_scopes(&authorizer, &validated, &[]), Ok(None));
        assert_eq!(
            check_scopes(&authorizer, &validated, &asked(&["admin", "write"])),
            Ok(Some("write".to_owned()))
        );
        assert_eq!(
            check_scopes(&authorizer, &validated, &asked(&["admin"])),
            Err(Refusal::Scope)
        );
        let scp = with(|c| {
            c.remove("scope");
            c.insert("scp".into(), json!(["admin"]));
        });
        let validated = check(&scp, &authorizer).unwrap();
        assert_eq!(
            check_scopes(&authorizer, &validated, &asked(&["admin"])),
            Ok(Some("admin".to_owned()))
        );
        let none = with(|c| {
            c.remove("scope");
        });
        let validated = check(&none, &authorizer).unwrap();
        assert_eq!(
            check_scopes(&authorizer, &validated, &asked(&["read"])),
            Err(Refusal::Scope)
        );
        assert!(Refusal::Scope.is_forbidden() && !Refusal::Audience.is_forbidden());
    }

    #[test]
    fn a_user_pool_wants_an_id_token_without_scopes_and_an_access_token_with_them() {
        let authorizer = cognito_authorizer();
        let claims = |token_use: &str| {
            json!({"iss": POOL_ISSUER, "sub": "u1", "exp": NOW + 60, "token_use": token_use,
                   "client_id": "anything", "scope": "pets/read"})
        };
        let id = check(&sign(&claims("id")), &authorizer).unwrap();
        let access = check(&sign(&claims("access")), &authorizer).unwrap();
        let scopes = vec!["pets/read".to_owned()];
        assert_eq!(check_scopes(&authorizer, &id, &[]), Ok(None));
        assert_eq!(
            check_scopes(&authorizer, &access, &[]),
            Err(Refusal::TokenUse)
        );
        assert_eq!(
            check_scopes(&authorizer, &id, &scopes),
            Err(Refusal::TokenUse)
        );
        assert_eq!(
            check_scopes(&authorizer, &access, &scopes),
            Ok(Some("pets/read".to_owned()))
        );
        let other_pool = json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other",
            "sub": "u1", "exp": NOW + 60, "token_use": "id"});
        assert_eq!(check(&sign(&other_pool), &authorizer), Err(Refusal::Issuer));
    }

    #[test]
    fn claims_pass_on_as_strings() {
        let claims = json!({"a": "x", "n": 5, "b": true, "l": ["g1", "g2"], "o": {"k": 1}});
        let strings = claims_as_strings(claims.as_object().unwrap());
        assert_eq!(
            Value::Object(strings),
            json!({"a": "x", "n": "5", "b": "true", "l": "[g1 g2]", "o": "{\"k\":1}"})
        );
    }

    /// A loopback issuer: serves the discovery document and `jwks`,
    /// counting the key set's fetches.
    fn issuer(jwks: &'static str) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        rotating_issuer(jwks, jwks)
    }

    /// An issuer whose key set is `first` at the first fetch and `then`
    /// afterwards (a key rotation).
    fn rotating_issuer(
        first: &'static str,
        then: &'static str,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (counter, own) = (fetches.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut buffer = [0u8; 4096];
                let n = stream.read(&mut buffer).unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
                let body = if head.starts_with("GET /.well-known/openid-configuration") {
                    json!({"issuer": own, "jwks_uri": format!("{own}/keys")}).to_string()
                } else {
                    let before = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if before == 0 { first } else { then }.to_owned()
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        (base, fetches)
    }

    fn local_authorizer(issuer: &str, ttl: i64) -> LambdaAuthorizer {
        LambdaAuthorizer::new(
            ApiFlavour::Http,
            AuthorizerInput {
                id: "jw1".into(),
                name: Some("jwt".into()),
                kind: Some("JWT".into()),
                identity_sources: vec!["$request.header.Authorization".into()],
                issuer: Some(issuer.into()),
                audience: vec!["client-a".into()],
                ttl_seconds: Some(ttl),
                ..AuthorizerInput::default()
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn keys_come_from_discovery_and_an_unknown_kid_refetches_at_most_once_per_floor() {
        let (base, fetches) = issuer(JWKS);
        let authorizer = local_authorizer(&base, 0);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let claims = json!({"iss": base, "aud": "client-a", "sub": "u", "exp": NOW + 600});
        let good = format!("Bearer {}", sign(&claims));
        let (validated, cached) = tokens
            .validate(&integrations, "api", &authorizer, Some(&good), NOW)
            .await
            .unwrap();
        assert!(!cached);
        assert_eq!(validated.claims["sub"], "u");
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Unknown kids within the floor of the last fetch: no fetch at all.
        let unknown = sign_with(OTHER_KEY, "made-up", &claims);
        let refuse = |at: i64| {
            let (tokens, integrations, authorizer, unknown) =
                (&tokens, &integrations, &authorizer, &unknown);
            async move {
                tokens
                    .validate(integrations, "api", authorizer, Some(unknown), at)
                    .await
                    .unwrap_err()
            }
        };
        for _ in 0..20 {
            assert_eq!(refuse(NOW + 1).await, Refusal::UnknownKey);
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Past the floor, a flood costs the issuer one fetch.
        for _ in 0..20 {
            assert_eq!(
                refuse(NOW + REFRESH_FLOOR_SECONDS).await,
                Refusal::UnknownKey
            );
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
        // The known key still verifies without a fetch.
        assert!(
            tokens
                .validate(&integrations, "api", &authorizer, Some(&good), NOW + 40)
                .await
                .is_ok()
        );
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_rotated_key_is_found_by_refetching_on_its_unknown_kid() {
        let (base, fetches) = rotating_issuer(
            JWKS,
            include_str!("../../../testdata/jwt/jwks-rotated.json"),
        );
        let authorizer = local_authorizer(&base, 0);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let claims = json!({"iss": base, "aud": "client-a", "exp": NOW + 600});
        let before = sign(&claims);
        assert!(
            tokens
                .validate(&integrations, "api", &authorizer, Some(&before), NOW)
                .await
                .is_ok()
        );
        let rotated = sign_with(OTHER_KEY, "test-key-2", &claims);
        assert!(
            tokens
                .validate(
                    &integrations,
                    "api",
                    &authorizer,
                    Some(&rotated),
                    NOW + REFRESH_FLOOR_SECONDS
                )
                .await
                .is_ok()
        );
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_old_key_set_keeps_verifying_while_the_issuer_answers_nonsense() {
        let (base, fetches) = rotating_issuer(JWKS, "not a key set");
        let authorizer = local_authorizer(&base, 0);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let later = NOW + KEYS_TTL_SECONDS;
        let token = sign(&json!({"iss": base, "aud": "client-a", "exp": later + 60}));
        for at in [NOW, later] {
            assert!(
                tokens
                    .validate(&integrations, "api", &authorizer, Some(&token), at)
                    .await
                    .is_ok(),
                "{at}"
            );
        }
        // The hour-old set was due for a refresh, which failed.
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn validated_tokens_are_cached_for_the_ttl_but_never_past_exp() {
        let (base, _) = issuer(JWKS);
        let authorizer = local_authorizer(&base, 300);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let claims = json!({"iss": base, "aud": "client-a", "exp": NOW + 100});
        let token = sign(&claims);
        let run = |at: i64| {
            let (tokens, integrations, authorizer, token) =
                (&tokens, &integrations, &authorizer, &token);
            async move {
                tokens
                    .validate(integrations, "api", authorizer, Some(token), at)
                    .await
                    .map(|(_, cached)| cached)
            }
        };
        assert_eq!(run(NOW).await, Ok(false));
        assert_eq!(run(NOW + 50).await, Ok(true));
        assert_eq!(tokens.cached_tokens(), 1);
        // Past `exp` the cached answer is not used, and the token fails.
        assert_eq!(run(NOW + 100).await, Err(Refusal::Expired));
    }

    #[tokio::test]
    async fn an_http_jwt_authorizer_keeps_a_token_only_while_checking_again_would_agree() {
        let (base, fetches) = issuer(JWKS);
        let authorizer = local_authorizer(&base, 0);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let token = sign(&json!({"iss": base, "aud": "client-a", "exp": NOW + 100}));
        let run = |authorizer: LambdaAuthorizer, at: i64| {
            let (tokens, integrations, token) = (&tokens, &integrations, &token);
            async move {
                tokens
                    .validate(integrations, "api", &authorizer, Some(token), at)
                    .await
                    .map(|(_, cached)| cached)
            }
        };
        assert_eq!(run(authorizer.clone(), NOW).await, Ok(false));
        assert_eq!(run(authorizer.clone(), NOW + 1).await, Ok(true));
        // The same authorizer redeployed for another audience: checked
        // again, and refused.
        let mut narrowed = authorizer.clone();
        if let Some(settings) = narrowed.tokens.as_mut() {
            settings.audience = vec!["client-b".into()];
        }
        assert_eq!(run(narrowed, NOW + 2).await, Err(Refusal::Audience));
        // Once the key set is an hour old it is fetched again, and the
        // token checked with the new set.
        assert_eq!(run(authorizer.clone(), NOW + 3).await, Ok(true));
        let before = fetches.load(std::sync::atomic::Ordering::SeqCst);
        let stale = NOW + KEYS_TTL_SECONDS + 1;
        let late = sign(&json!({"iss": base, "aud": "client-a", "exp": stale + 100}));
        let fresh = tokens
            .validate(&integrations, "api", &authorizer, Some(&late), stale)
            .await
            .map(|(_, cached)| cached);
        assert_eq!(fresh, Ok(false));
        assert!(fetches.load(std::sync::atomic::Ordering::SeqCst) > before);
        // Past `exp` nothing kept answers.
        assert_eq!(run(authorizer, NOW + 100).await, Err(Refusal::Expired));
    }

    #[tokio::test]
    async fn an_unreachable_issuer_fails_closed() {
        let authorizer = local_authorizer("http://127.0.0.1:9", 0);
        let integrations = Integrations::new("http://127.0.0.1:9");
        let tokens = TokenAuthorizers::default();
        let token = sign(&json!({"iss": "http://127.0.0.1:9", "aud": "client-a", "exp": NOW + 60}));
        assert_eq!(
            tokens
                .validate(&integrations, "api", &authorizer, Some(&token), NOW)
                .await
                .unwrap_err(),
            Refusal::KeysUnavailable
        );
        assert_eq!(
            tokens
                .validate(&integrations, "api", &authorizer, None, NOW)
                .await
                .unwrap_err(),
            Refusal::Missing
        );
    }

    #[allow(deprecated)]
    fn ring() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// An `https://localhost:{port}` issuer with a self-signed certificate,
    /// and a client configuration that trusts only it.
    async fn tls_issuer() -> (String, Arc<rustls::ClientConfig>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = rustls_pki_types::CertificateDer::from(cert.der().to_vec());
        let private = rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let server = rustls::ServerConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], private)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let own = base.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let own = own.clone();
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buffer = vec![0u8; 4096];
                    let n = stream.read(&mut buffer).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
                    let body = if head.starts_with("GET /.well-known/openid-configuration") {
                        json!({"issuer": own, "jwks_uri": format!("{own}/keys")}).to_string()
                    } else {
                        JWKS.to_owned()
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (base, Arc::new(client))
    }

    #[tokio::test]
    async fn an_https_issuer_is_fetched_over_tls_and_only_with_a_trusted_certificate() {
        let (base, trusted) = tls_issuer().await;
        let authorizer = local_authorizer(&base, 0);
        let token = sign(&json!({"iss": base, "aud": "client-a", "sub": "tls", "exp": NOW + 60}));
        let with_trust = Integrations::new("http://127.0.0.1:9").with_tls(trusted);
        let (validated, _) = TokenAuthorizers::default()
            .validate(&with_trust, "api", &authorizer, Some(&token), NOW)
            .await
            .unwrap();
        assert_eq!(validated.claims["sub"], "tls");
        // Without a TLS client, or trusting other CAs: fail closed.
        let without = Integrations::new("http://127.0.0.1:9");
        assert_eq!(
            TokenAuthorizers::default()
                .validate(&without, "api", &authorizer, Some(&token), NOW)
                .await
                .unwrap_err(),
            Refusal::KeysUnavailable
        );
        let (_, other_trust) = tls_issuer().await;
        let distrusting = Integrations::new("http://127.0.0.1:9").with_tls(other_trust);
        assert_eq!(
            TokenAuthorizers::default()
                .validate(&distrusting, "api", &authorizer, Some(&token), NOW)
                .await
                .unwrap_err(),
            Refusal::KeysUnavailable
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_tokens_never_panic_and_never_pass(
            header in "[A-Za-z0-9_=+/.-]{0,80}",
            payload in "[A-Za-z0-9_=+/.-]{0,80}",
            signature in "[A-Za-z0-9_=+/.-]{0,80}",
        ) {
            let token = format!("{header}.{payload}.{signature}");
            let authorizer = jwt_authorizer();
            proptest::prop_assert!(check(&token, &authorizer).is_err());
        }

        #[test]
        fn arbitrary_json_headers_never_panic(alg in ".{0,12}", kid in ".{0,12}", body in ".{0,40}") {
            let b64 = |text: &str| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text);
            let header = b64(&json!({"alg": alg, "kid": kid}).to_string());
            let token = format!("{header}.{}.{}", b64(&body), b64(&body));
            proptest::prop_assert!(check(&token, &jwt_authorizer()).is_err());
        }
    }

    #[test]
    fn a_rest_user_pool_passes_exp_and_iat_as_utc_dates_and_auth_time_as_the_number() {
        let claims = serde_json::json!({
            "exp": 1_469_818_373, "iat": 1_469_814_773, "auth_time": 1_469_814_773,
            "sub": "u1", "email_verified": true
        });
        let strings = rest_user_pool_claims(claims.as_object().unwrap());
        assert_eq!(strings["exp"], "Fri Jul 29 18:52:53 UTC 2016");
        assert_eq!(strings["iat"], "Fri Jul 29 17:52:53 UTC 2016");
        assert_eq!(strings["auth_time"], "1469814773");
        assert_eq!(strings["email_verified"], "true");
        assert_eq!(utc_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(utc_date(1_796_533_200), "Sun Dec 06 05:00:00 UTC 2026");
    }
}
