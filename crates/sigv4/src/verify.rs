//! The verifier: every check AWS makes, in AWS's order.
//!
//! 1. locate and parse the signature (F0–F4);
//! 2. the credential's shape (F5);
//! 3. the timestamp's format (F6);
//! 4. the credential scope (F7);
//! 5. `host` among the signed headers (F8);
//! 6. clock skew and presign expiry (F9–F11);
//! 7. credential lookup and session token (F12–F14);
//! 8. payload hash and signature (F15).
//!
//! Unknown keys never reach signature comparison, and nothing secret ever
//! enters a message.
//!
//! Steps 1 to 7 read only the request's head, and so does step 8 when the
//! client declared the payload hash in `x-amz-content-sha256`: a server
//! can run them before it reads the body
//! ([`Verifier::verify_head_in_region`]), so that a client without a valid
//! signature cannot make it buffer one. Its errors are the ones the whole
//! verification gives, in the same order.

use std::borrow::Cow;

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::canonical::CanonicalRequest;
use crate::credential::Credential;
use crate::error::{
    EXPIRED_TOKEN_MESSAGE, FailureKind, INVALID_TOKEN_MESSAGE, MISMATCH_MESSAGE, SigV4Error,
    Surface,
};
use crate::parse::{ALGORITHM, AuthMode, AuthParams, parse_auth};
use crate::request::{HttpRequest, SigningHeaders};
use crate::scan::split_byte;
use crate::signing::{HmacSha256, Secret, SigningKeyCache, hex32};
use crate::time::{EpochSeconds, format_basic, parse_basic};
use crate::tunables::{MismatchMessageStyle, Tunables, skew_minutes};

/// SHA-256 of the empty body: most requests have one, so it is not recomputed.
const EMPTY_BODY_SHA256: &[u8; 64] =
    b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Why a credential could not be resolved; each maps to AWS's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    /// Unknown, inactive or deleted access key.
    UnknownAccessKey,
    /// Temporary key without its token, a token that is not this key's, or a
    /// token sent with a long-term key.
    InvalidSessionToken,
    /// Temporary credentials past their expiry.
    ExpiredSessionToken,
}

/// A resolved credential: the secret to check the signature with, and
/// whatever the caller wants back when it verifies.
pub struct ResolvedCredential<I> {
    pub secret: Secret,
    pub identity: I,
}

/// Where access keys come from: the IAM store plugs in here.
pub trait CredentialProvider {
    type Identity;

    /// Resolves an access key id and the session token that came with it.
    /// `now` lets temporary credentials expire.
    fn resolve(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: EpochSeconds,
    ) -> Result<ResolvedCredential<Self::Identity>, CredentialError>;
}

/// Which regions a credential scope may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionRule {
    /// Any well-formed region name (IAM and STS accept whatever the client is configured with).
    Any,
    /// Only these regions.
    OneOf(Vec<String>),
}

/// What one service expects of its signatures.
#[derive(Debug, Clone)]
pub struct ServiceRules {
    /// The service name the credential scope must carry (`sts`, `execute-api`, …).
    pub service: String,
    pub surface: Surface,
    pub regions: RegionRule,
    /// Allowed clock skew, in seconds, in both directions.
    pub skew_seconds: i64,
    pub tunables: Tunables,
}

impl ServiceRules {
    /// The rules AWS applies to `service` (its clock-skew window included).
    pub fn for_service(service: &str, surface: Surface) -> Self {
        Self {
            service: service.to_owned(),
            surface,
            regions: RegionRule::Any,
            skew_seconds: i64::from(skew_minutes(service)) * 60,
            tunables: Tunables::default(),
        }
    }
}

/// A request whose signature checked out.
#[derive(Debug)]
pub struct Verified<'r, I> {
    pub identity: I,
    pub credential: Credential<'r>,
    pub session_token: Option<Cow<'r, str>>,
    /// The request timestamp (`X-Amz-Date`).
    pub signed_at: EpochSeconds,
    pub mode: AuthMode,
}

/// What the head of a request proves before its body is read
/// ([`Verifier::verify_head_in_region`]).
#[derive(Debug)]
pub enum HeadVerdict<'r, I> {
    /// The signature covers the declared payload hash and checks out; the
    /// body is still to be compared with that hash
    /// ([`Verifier::check_payload`]).
    Verified(Verified<'r, I>),
    /// Every check the head allows passed; the signature covers the body
    /// (or its answer depends on it), so verify again once it is read.
    NeedsBody,
}

/// Steps 1 to 7 passed: what the payload and signature checks need.
struct Head<'r, I> {
    found: SigningHeaders<'r>,
    auth: AuthParams<'r>,
    credential: Credential<'r>,
    signed_at: EpochSeconds,
    resolved: ResolvedCredential<I>,
}

impl<'r, I> Head<'r, I> {
    fn verified(self) -> Verified<'r, I> {
        Verified {
            identity: self.resolved.identity,
            credential: self.credential,
            session_token: self.auth.session_token,
            signed_at: self.signed_at,
            mode: self.auth.mode,
        }
    }
}

/// What the server signs, spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningExplanation {
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Verifies SigV4 signatures for one service.
pub struct Verifier {
    rules: ServiceRules,
    keys: SigningKeyCache,
}

impl Verifier {
    pub fn new(rules: ServiceRules) -> Self {
        Self {
            rules,
            keys: SigningKeyCache::default(),
        }
    }

    pub fn rules(&self) -> &ServiceRules {
        &self.rules
    }

    /// Verifies `request` at time `now`, with the configured region rule.
    pub fn verify<'r, P: CredentialProvider>(
        &self,
        request: &HttpRequest<'r>,
        credentials: &P,
        now: EpochSeconds,
    ) -> Result<Verified<'r, P::Identity>, SigV4Error> {
        self.verify_inner(request, credentials, now, None)
    }

    /// Verifies `request` whose credential scope must name exactly `region`
    /// (execute-api: the API's own region).
    pub fn verify_in_region<'r, P: CredentialProvider>(
        &self,
        request: &HttpRequest<'r>,
        credentials: &P,
        now: EpochSeconds,
        region: &str,
    ) -> Result<Verified<'r, P::Identity>, SigV4Error> {
        self.verify_inner(request, credentials, now, Some(region))
    }

    /// The canonical request and string to sign the server computes for
    /// `request`, without checking time or credentials: what a person needs
    /// to see to find out why a signature does not match.
    pub fn explain(&self, request: &HttpRequest<'_>) -> Result<SigningExplanation, SigV4Error> {
        let found = request.signing_headers();
        let auth = parse_auth(request, &found, self.rules.surface, &self.rules.tunables)?;
        let credential = Credential::parse(auth.credential.clone()).ok_or_else(|| {
            self.fail(
                FailureKind::MalformedCredential,
                "Credential must have exactly 5 parts",
            )
        })?;
        let payload_hash = Self::payload_hash(request, &found, auth.mode);
        let canonical_request = CanonicalRequest {
            method: request.method,
            path: request.path,
            query: request.query,
            query_skip: query_skip(auth.mode),
            signed_headers: &auth.signed_headers,
            headers: request.headers,
            payload_hash: &payload_hash,
            normalize_path: self.rules.tunables.normalize_uri_path,
        }
        .to_text();
        let string_to_sign = string_to_sign(&auth.timestamp, &credential, &canonical_request);
        Ok(SigningExplanation {
            canonical_request,
            string_to_sign,
        })
    }

    fn fail(&self, kind: FailureKind, message: impl Into<String>) -> SigV4Error {
        SigV4Error::new(kind, self.rules.surface, message)
    }

    fn verify_inner<'r, P: CredentialProvider>(
        &self,
        request: &HttpRequest<'r>,
        credentials: &P,
        now: EpochSeconds,
        region: Option<&str>,
    ) -> Result<Verified<'r, P::Identity>, SigV4Error> {
        let head = self.check_head(request, credentials, now, region)?;
        self.check_signature(
            request,
            &head.found,
            &head.auth,
            &head.credential,
            &head.resolved.secret,
        )?;
        Ok(head.verified())
    }

    /// Verifies what the head of `request` carries, before its body is
    /// read, whose credential scope must name exactly `region`: steps 1 to
    /// 7 always, and the signature itself when the client declared the
    /// payload's hash in `x-amz-content-sha256` (the body must then be
    /// checked against it with [`Verifier::check_payload`] once read).
    ///
    /// An `Err` is exactly the error [`Verifier::verify_in_region`] would
    /// give whatever the body turns out to be, so it can be answered
    /// without reading the body; a signature that covers the body's own
    /// hash cannot be checked yet and is [`HeadVerdict::NeedsBody`]. The
    /// request's `body` is not looked at.
    pub fn verify_head_in_region<'r, P: CredentialProvider>(
        &self,
        request: &HttpRequest<'r>,
        credentials: &P,
        now: EpochSeconds,
        region: &str,
    ) -> Result<HeadVerdict<'r, P::Identity>, SigV4Error> {
        let head = self.check_head(request, credentials, now, Some(region))?;
        let Some(declared) = declared_payload_hash(&head.found, head.auth.mode) else {
            return Ok(HeadVerdict::NeedsBody);
        };
        if declared == b"UNSIGNED-PAYLOAD" && !self.rules.tunables.accept_unsigned_payload {
            // Refused whatever the body: `check_declared_payload`'s error.
            return Err(self.fail(FailureKind::SignatureDoesNotMatch, MISMATCH_MESSAGE));
        }
        match self.check_signature_over(
            request,
            &head.auth,
            &head.credential,
            &head.resolved.secret,
            Cow::Borrowed(declared),
        ) {
            Ok(()) => Ok(HeadVerdict::Verified(head.verified())),
            // The full check compares the body with the declared hash
            // first; its short message is this one, so the answer does not
            // depend on the body. The long message does: wait for it.
            Err(error)
                if self.rules.tunables.mismatch_message_style == MismatchMessageStyle::Short =>
            {
                Err(error)
            }
            Err(_) => Ok(HeadVerdict::NeedsBody),
        }
    }

    /// After [`HeadVerdict::Verified`]: the body read since must be the one
    /// whose hash the client declared, else AWS's signature mismatch (what
    /// [`Verifier::verify`] answers for the same request).
    pub fn check_payload(&self, request: &HttpRequest<'_>) -> Result<(), SigV4Error> {
        let found = request.signing_headers();
        let mode = if found.authorization.is_some() {
            AuthMode::Header
        } else {
            AuthMode::Query
        };
        self.check_declared_payload(request, &found, mode)
    }

    /// Steps 1 to 7: everything but the payload hash and the signature.
    fn check_head<'r, P: CredentialProvider>(
        &self,
        request: &HttpRequest<'r>,
        credentials: &P,
        now: EpochSeconds,
        region: Option<&str>,
    ) -> Result<Head<'r, P::Identity>, SigV4Error> {
        let tunables = &self.rules.tunables;
        let found = request.signing_headers();
        let auth = parse_auth(request, &found, self.rules.surface, tunables)?;

        let credential = Credential::parse(auth.credential.clone()).ok_or_else(|| {
            self.fail(
                FailureKind::MalformedCredential,
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                    auth.credential
                ),
            )
        })?;

        let timestamp = &*auth.timestamp;
        let signed_at = parse_basic(timestamp).ok_or_else(|| {
            self.fail(
                FailureKind::MalformedDate,
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{timestamp}'. See http://en.wikipedia.org/wiki/ISO_8601"
                ),
            )
        })?;

        self.check_scope(&credential, timestamp, region)?;

        if !split_byte(&auth.signed_headers, b';')
            .any(|name| name.eq_ignore_ascii_case("host") || name == ":authority")
        {
            return Err(self.fail(
                FailureKind::HostNotSigned,
                "'Host' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }

        self.check_time(&auth, signed_at, now)?;

        let resolved = credentials
            .resolve(
                credential.access_key_id(),
                auth.session_token.as_deref(),
                now,
            )
            .map_err(|error| match error {
                CredentialError::UnknownAccessKey | CredentialError::InvalidSessionToken => {
                    self.fail(FailureKind::InvalidClientTokenId, INVALID_TOKEN_MESSAGE)
                }
                CredentialError::ExpiredSessionToken => {
                    self.fail(FailureKind::ExpiredToken, EXPIRED_TOKEN_MESSAGE)
                }
            })?;
        Ok(Head {
            found,
            auth,
            credential,
            signed_at,
            resolved,
        })
    }

    fn check_scope(
        &self,
        credential: &Credential<'_>,
        timestamp: &str,
        region: Option<&str>,
    ) -> Result<(), SigV4Error> {
        let mut message = String::new();
        let scope_region = credential.region();
        let region_ok = match (region, &self.rules.regions) {
            (Some(required), _) => scope_region == required,
            (None, RegionRule::Any) => is_region_name(scope_region),
            (None, RegionRule::OneOf(allowed)) => allowed.iter().any(|r| r == scope_region),
        };
        if !region_ok {
            message.push_str(&format!(
                "Credential should be scoped to a valid region, not '{scope_region}'. "
            ));
        }
        if credential.service() != self.rules.service {
            message.push_str(&format!(
                "Credential should be scoped to correct service: '{}'. ",
                self.rules.service
            ));
        }
        if credential.terminator() != "aws4_request" {
            message.push_str(&format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
                credential.terminator()
            ));
        }
        let request_date = timestamp.get(..8).unwrap_or(timestamp);
        if credential.date() != request_date {
            message.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_date}', from '{timestamp}'.",
                credential.date()
            ));
        }
        if message.is_empty() {
            Ok(())
        } else {
            Err(self.fail(FailureKind::InvalidCredentialScope, message))
        }
    }

    fn check_time(
        &self,
        auth: &AuthParams<'_>,
        signed_at: EpochSeconds,
        now: EpochSeconds,
    ) -> Result<(), SigV4Error> {
        let window = self.rules.skew_seconds;
        let minutes = window / 60;
        let shown = |epoch| format_basic(epoch);
        if signed_at > now + window {
            return Err(self.fail(
                FailureKind::SignatureNotYetCurrent,
                format!(
                    "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
                    shown(signed_at),
                    shown(now + window),
                    shown(now)
                ),
            ));
        }
        // A presigned URL lives for X-Amz-Expires instead of the skew window.
        if let Some(expires) = &auth.expires {
            let max = self.rules.tunables.presign_max_expires;
            let lifetime = expires
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=max).contains(s));
            let Some(lifetime) = lifetime.and_then(|s| i64::try_from(s).ok()) else {
                return Err(self.fail(
                    FailureKind::PresignedRequestExpired,
                    format!(
                        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than {max} seconds"
                    ),
                ));
            };
            if now > signed_at + lifetime {
                return Err(self.fail(FailureKind::PresignedRequestExpired, "Request has expired"));
            }
            return Ok(());
        }
        if signed_at < now - window {
            return Err(self.fail(
                FailureKind::SignatureExpired,
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
                    shown(signed_at),
                    shown(now - window),
                    shown(now)
                ),
            ));
        }
        Ok(())
    }

    /// The payload hash that goes into the canonical request: what the client
    /// declared in `x-amz-content-sha256`, else the body's own hash.
    fn payload_hash<'r>(
        request: &HttpRequest<'r>,
        found: &SigningHeaders<'r>,
        mode: AuthMode,
    ) -> Cow<'r, [u8]> {
        match declared_payload_hash(found, mode) {
            Some(declared) => Cow::Borrowed(declared),
            None => Cow::Owned(body_hash(request.body).to_vec()),
        }
    }

    /// A declared payload hash must be the body's, or an accepted literal.
    fn check_declared_payload(
        &self,
        request: &HttpRequest<'_>,
        found: &SigningHeaders<'_>,
        mode: AuthMode,
    ) -> Result<(), SigV4Error> {
        let Some(declared) = declared_payload_hash(found, mode) else {
            return Ok(());
        };
        let accepted = match declared {
            b"UNSIGNED-PAYLOAD" => self.rules.tunables.accept_unsigned_payload,
            _ => {
                let actual = body_hash(request.body);
                // Clients send lower case; the exact compare settles that
                // case without the byte-by-byte case folding.
                declared == actual || declared.eq_ignore_ascii_case(&actual)
            }
        };
        if accepted {
            Ok(())
        } else {
            Err(self.fail(FailureKind::SignatureDoesNotMatch, MISMATCH_MESSAGE))
        }
    }

    fn check_signature(
        &self,
        request: &HttpRequest<'_>,
        found: &SigningHeaders<'_>,
        auth: &AuthParams<'_>,
        credential: &Credential<'_>,
        secret: &Secret,
    ) -> Result<(), SigV4Error> {
        self.check_declared_payload(request, found, auth.mode)?;
        let payload_hash = Self::payload_hash(request, found, auth.mode);
        self.check_signature_over(request, auth, credential, secret, payload_hash)
    }

    /// The signature of `request` over `payload_hash`, the one thing the
    /// canonical request takes from the body.
    fn check_signature_over(
        &self,
        request: &HttpRequest<'_>,
        auth: &AuthParams<'_>,
        credential: &Credential<'_>,
        secret: &Secret,
        payload_hash: Cow<'_, [u8]>,
    ) -> Result<(), SigV4Error> {
        // Only 64 bytes can be the lower-case hex of a MAC; whether they are
        // hex digits at all needs no separate check, as only hex can match.
        let provided: Option<&[u8; 64]> = auth.signature.as_bytes().try_into().ok();

        let canonical = CanonicalRequest {
            method: request.method,
            path: request.path,
            query: request.query,
            query_skip: query_skip(auth.mode),
            signed_headers: &auth.signed_headers,
            headers: request.headers,
            payload_hash: &payload_hash,
            normalize_path: self.rules.tunables.normalize_uri_path,
        };
        // Some clients append the session token to a presigned URL after
        // signing it; AWS accepts those, so try once more without it.
        let retry_without_token = auth.mode == AuthMode::Query
            && auth.session_token.is_some()
            && self.rules.tunables.retry_presigned_without_token;
        if let Some(provided) = provided {
            let matched = self.keys.with_signing_mac(credential, secret, |mac| {
                if signature_matches(&canonical, &auth.timestamp, credential, mac, provided) {
                    return true;
                }
                if !retry_without_token {
                    return false;
                }
                let canonical = CanonicalRequest {
                    query_skip: &["X-Amz-Signature", "X-Amz-Security-Token"],
                    ..canonical
                };
                signature_matches(&canonical, &auth.timestamp, credential, mac, provided)
            });
            if matched {
                return Ok(());
            }
        }

        let message = match self.rules.tunables.mismatch_message_style {
            MismatchMessageStyle::Short => MISMATCH_MESSAGE.to_owned(),
            MismatchMessageStyle::Long => {
                let text = canonical.to_text();
                let string_to_sign = string_to_sign(&auth.timestamp, credential, &text);
                format!(
                    "{MISMATCH_MESSAGE}\n\nThe Canonical String for this request should have been\n'{text}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
                )
            }
        };
        Err(self.fail(FailureKind::SignatureDoesNotMatch, message))
    }
}

/// `x-amz-content-sha256`, which only header-mode requests carry.
fn declared_payload_hash<'r>(found: &SigningHeaders<'r>, mode: AuthMode) -> Option<&'r [u8]> {
    match mode {
        AuthMode::Header => found.content_sha256,
        AuthMode::Query => None,
    }
}

/// Query parameters left out of the canonical query: a presigned URL's
/// signature cannot sign itself.
fn query_skip(mode: AuthMode) -> &'static [&'static str] {
    match mode {
        AuthMode::Header => &[],
        AuthMode::Query => &["X-Amz-Signature"],
    }
}

fn body_hash(body: &[u8]) -> [u8; 64] {
    if body.is_empty() {
        *EMPTY_BODY_SHA256
    } else {
        hex32(&Sha256::digest(body).into())
    }
}

fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical request)>`.
fn string_to_sign(timestamp: &str, credential: &Credential<'_>, canonical_text: &str) -> String {
    let digest = hex32(&Sha256::digest(canonical_text.as_bytes()).into());
    format!(
        "{ALGORITHM}\n{timestamp}\n{}\n{}",
        credential.scope(),
        String::from_utf8_lossy(&digest)
    )
}

/// Whether `provided` is the lower-case hex MAC of this request's string to sign.
fn signature_matches(
    canonical: &CanonicalRequest<'_>,
    timestamp: &str,
    credential: &Credential<'_>,
    keyed: &HmacSha256,
    provided: &[u8; 64],
) -> bool {
    let mut hasher = Sha256::new();
    canonical.write(&mut hasher);
    let digest = hex32(&hasher.finalize().into());

    let mut mac = keyed.clone();
    mac.update(ALGORITHM.as_bytes());
    mac.update(b"\n");
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(credential.scope().as_bytes());
    mac.update(b"\n");
    mac.update(&digest);
    let expected = hex32(&mac.finalize().into_bytes().into());
    // Constant time: OR together the XOR of every byte pair (no early exit,
    // so timing does not tell how many leading bytes a forgery got right),
    // then one constant-time test of the result.
    let difference = expected
        .iter()
        .zip(provided)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    bool::from(difference.ct_eq(&0))
}
