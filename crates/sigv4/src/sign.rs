//! Signing a request, for iamgate's own tools (`iamgate explain` asks a
//! server with the caller's credentials). The canonical request is the
//! verifier's own ([`crate::canonical`]), so what is signed here is what
//! is checked there.

use sha2::{Digest, Sha256};

use crate::canonical::CanonicalRequest;
use crate::signing::{derive_signing_key, hmac};

/// The credentials a request is signed with.
#[derive(Clone, Copy)]
pub struct SigningCredentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

impl std::fmt::Debug for SigningCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What to sign: the request as it will be sent.
#[derive(Debug, Clone, Copy)]
pub struct Unsigned<'a> {
    pub method: &'a str,
    /// The path as sent (already percent-encoded where needed).
    pub path: &'a str,
    /// The query as sent, without `?`.
    pub query: &'a str,
    /// The headers to sign; must include `host`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The headers to add to `request` (`x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token` with a session, and `authorization`) to sign it
/// for `region` and `service` at `amz_date` (`YYYYMMDDTHHMMSSZ`).
pub fn sign_headers(
    request: &Unsigned<'_>,
    credentials: SigningCredentials<'_>,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Vec<(String, String)> {
    let payload_hash = hex::encode(Sha256::digest(request.body));
    let mut added = vec![
        ("x-amz-date".to_owned(), amz_date.to_owned()),
        ("x-amz-content-sha256".to_owned(), payload_hash.clone()),
    ];
    if let Some(token) = credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    let mut all: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_bytes()))
        .collect();
    all.extend(
        added
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    );
    let mut names: Vec<String> = all.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    let signed_headers = names.join(";");
    let canonical = CanonicalRequest {
        method: request.method,
        path: request.path,
        query: request.query,
        query_skip: &[],
        signed_headers: &signed_headers,
        headers: &all,
        payload_hash: payload_hash.as_bytes(),
        normalize_path: true,
    };
    let mut hasher = Sha256::new();
    canonical.write(&mut hasher);
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(hasher.finalize())
    );
    let key = derive_signing_key(credentials.secret_access_key, date, region, service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{
        CredentialError, CredentialProvider, HttpRequest, ResolvedCredential, Secret, ServiceRules,
        Surface, Verifier, time,
    };

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    struct OneKey;
    impl CredentialProvider for OneKey {
        type Identity = &'static str;
        fn resolve(
            &self,
            key: &str,
            _token: Option<&str>,
            _now: i64,
        ) -> Result<ResolvedCredential<&'static str>, CredentialError> {
            match key {
                "AKIDEXAMPLE" => Ok(ResolvedCredential {
                    secret: Secret::new(SECRET),
                    identity: "example-user",
                }),
                _ => Err(CredentialError::UnknownAccessKey),
            }
        }
    }

    fn signed_and_verified(secret: &str) -> bool {
        let unsigned = Unsigned {
            method: "GET",
            path: "/_iamgate/decisions/abc-123",
            query: "",
            headers: &[("host", "127.0.0.1:4566")],
            body: b"",
        };
        let credentials = SigningCredentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: secret,
            session_token: None,
        };
        let added = sign_headers(
            &unsigned,
            credentials,
            "us-east-1",
            "iam",
            "20150830T123600Z",
        );
        let mut headers: Vec<(&str, &[u8])> = vec![("host", b"127.0.0.1:4566")];
        headers.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
        let request = HttpRequest::from_target("GET", unsigned.path, &headers, b"");
        let verifier = Verifier::new(ServiceRules::for_service("iam", Surface::Query));
        let now = time::parse_basic("20150830T123600Z").unwrap();
        verifier.verify(&request, &OneKey, now).is_ok()
    }

    #[test]
    fn what_is_signed_here_verifies_there() {
        assert!(signed_and_verified(SECRET));
    }

    #[test]
    fn a_wrong_secret_does_not_verify() {
        assert!(!signed_and_verified("not-the-secret"));
    }
}
