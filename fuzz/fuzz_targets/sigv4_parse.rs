//! Fuzzes SigV4 verification end to end: whatever bytes arrive as method,
//! request target, headers and body, locating and parsing the signature,
//! canonicalization, `explain`, `peek_service` and `verify` must return, never
//! panic.
//!
//! Input layout: one flag byte, then up to four parts separated by `0xFF`
//! (a byte that never occurs in UTF-8): method, request target, headers (one
//! `name:value` per line) and body. A valid signed request written this way
//! reaches the signature comparison, so seeds should be real requests.
#![no_main]

use iamgate_sigv4::{
    CredentialError, CredentialProvider, HttpRequest, KeyValuePairMessageStyle,
    MismatchMessageStyle, RegionRule, ResolvedCredential, Secret, ServiceRules, Surface, Verifier,
    peek_service, time,
};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: u8 = 0xFF;
/// `20150830T123600Z`, the time of AWS's test suite.
const SUITE_TIME: i64 = 1_440_938_160;

/// One long-term key and one temporary key with its token, as in AWS's suites.
struct Keys;

impl CredentialProvider for Keys {
    type Identity = &'static str;

    fn resolve(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: i64,
    ) -> Result<ResolvedCredential<&'static str>, CredentialError> {
        match (access_key_id, session_token) {
            // The suites sign some requests with this key and a token.
            ("AKIDEXAMPLE", _) => Ok(ResolvedCredential {
                secret: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                identity: "user",
            }),
            ("ASIAEXAMPLE", Some("tokenEXAMPLE")) if now < SUITE_TIME + 86_400 * 365 * 20 => {
                Ok(ResolvedCredential {
                    secret: Secret::new("secretEXAMPLE"),
                    identity: "session",
                })
            }
            ("ASIAEXAMPLE", Some("tokenEXAMPLE")) => Err(CredentialError::ExpiredSessionToken),
            ("ASIAEXAMPLE", _) => Err(CredentialError::InvalidSessionToken),
            _ => Err(CredentialError::UnknownAccessKey),
        }
    }
}

/// The rules for one run, chosen by the flag byte.
fn rules(flags: u8, service: &str) -> ServiceRules {
    let surface = match flags & 0b11 {
        0 => Surface::Query,
        1 => Surface::RestJson,
        _ => Surface::ExecuteApi,
    };
    let mut rules = ServiceRules::for_service(service, surface);
    if flags & 0b100 != 0 {
        rules.tunables.mismatch_message_style = MismatchMessageStyle::Long;
        rules.tunables.key_value_pair_message_style = KeyValuePairMessageStyle::Legacy;
    }
    if flags & 0b1000 != 0 {
        rules.tunables.normalize_uri_path = false;
        rules.tunables.accept_unsigned_payload = true;
        rules.tunables.retry_presigned_without_token = false;
    }
    if flags & 0b1_0000 != 0 {
        rules.regions = RegionRule::OneOf(vec!["us-east-1".to_owned()]);
    }
    rules
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(4, |&b| b == SEPARATOR);
    let method = text(parts.next().unwrap_or_default());
    let target = text(parts.next().unwrap_or_default());
    let header_block = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    // Header names are text in the API; values stay raw bytes.
    let headers: Vec<(String, &[u8])> = header_block
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| match line.iter().position(|&b| b == b':') {
            Some(colon) => (
                text(line.get(..colon).unwrap_or_default()),
                line.get(colon + 1..).unwrap_or_default(),
            ),
            None => (text(line), &[][..]),
        })
        .collect();
    let header_refs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), *value))
        .collect();
    let request = HttpRequest::from_target(&method, &target, &header_refs, body);

    // Route as a server would, then verify with that service's rules.
    let service = peek_service(&request).unwrap_or_else(|| "service".to_owned());
    let verifier = Verifier::new(rules(flags, &service));
    let _ = verifier.explain(&request);

    // The clock: the suite's time, or the request's own timestamp so that
    // mutated dates still reach the signature check.
    let now = if flags & 0b10_0000 != 0 {
        let presigned_date = request
            .query
            .split('&')
            .find_map(|piece| piece.strip_prefix("X-Amz-Date="));
        request
            .header("x-amz-date")
            .and_then(|date| std::str::from_utf8(date).ok())
            .or(presigned_date)
            .and_then(time::parse_basic)
            .unwrap_or(SUITE_TIME)
    } else {
        SUITE_TIME
    };
    let outcome = if flags & 0b100_0000 != 0 {
        verifier.verify_in_region(&request, &Keys, now, "us-east-1")
    } else {
        verifier.verify(&request, &Keys, now)
    };
    if let Err(error) = outcome {
        // Every failure maps to an AWS error code, status and message.
        let _ = (error.kind(), error.code(), error.status(), error.message());
    }
    // A second verification hits the warm key cache.
    let _ = verifier.verify(&request, &Keys, now);
});
