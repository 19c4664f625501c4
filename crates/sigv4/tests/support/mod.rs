//! Shared by the integration tests: reading `testdata/` and a
//! credential provider with fixed keys.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use iamgate_sigv4::{CredentialError, CredentialProvider, HttpRequest, ResolvedCredential, Secret};

pub const SUITE_KEY: &str = "AKIDEXAMPLE";
pub const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// `testdata/<relative>` at the repository root.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

/// An HTTP request owned by the test, convertible to the verifier's view.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl OwnedRequest {
    pub fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }

    pub fn view<'a>(&'a self, headers: &'a [(&'a str, &'a [u8])]) -> HttpRequest<'a> {
        HttpRequest::from_target(&self.method, &self.target, headers, &self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| std::str::from_utf8(v).unwrap())
    }
}

/// Parses the test suites' request files. The request line may hold a raw
/// space or raw UTF-8 in its path, so the method is what precedes the first
/// space and the version what follows the last. A line starting with
/// whitespace continues the previous header (obs-fold); the line break is
/// kept so that canonicalization, not this parser, folds it.
pub fn parse_http_file(text: &[u8]) -> OwnedRequest {
    let (head, body) = match find(text, b"\n\n") {
        Some(at) => (&text[..at], text[at + 2..].to_vec()),
        None => (text.strip_suffix(b"\n").unwrap_or(text), Vec::new()),
    };
    let head = std::str::from_utf8(head).unwrap();
    let mut lines = head.split('\n');
    let request_line = lines.next().unwrap();
    let method_end = request_line.find(' ').unwrap();
    let version_start = request_line.rfind(' ').unwrap();
    let method = request_line[..method_end].to_owned();
    let target = request_line[method_end + 1..version_start].to_owned();
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().unwrap();
            last.1.push(b'\n');
            last.1.extend_from_slice(line.as_bytes());
        } else if let Some((name, value)) = line.split_once(':') {
            // As an HTTP parser does: optional whitespace around a value is not part of it.
            headers.push((
                name.to_owned(),
                value.trim_matches([' ', '\t']).as_bytes().to_vec(),
            ));
        }
    }
    OwnedRequest {
        method,
        target,
        headers,
        body,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A credential store of fixed keys. A key with a token demands exactly that
/// token; a key without one refuses any token.
#[derive(Debug, Default, Clone)]
pub struct FixedKeys {
    pub keys: Vec<(String, String, Option<String>)>,
    pub expired: Vec<String>,
}

impl FixedKeys {
    pub fn with(mut self, key: &str, secret: &str, token: Option<&str>) -> Self {
        self.keys
            .push((key.into(), secret.into(), token.map(Into::into)));
        self
    }
}

impl CredentialProvider for FixedKeys {
    type Identity = String;

    fn resolve(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        _now: i64,
    ) -> Result<ResolvedCredential<String>, CredentialError> {
        let (key, secret, token) = self
            .keys
            .iter()
            .find(|(key, _, _)| key == access_key_id)
            .ok_or(CredentialError::UnknownAccessKey)?;
        if token.as_deref() != session_token {
            return Err(CredentialError::InvalidSessionToken);
        }
        if self.expired.iter().any(|k| k == key) {
            return Err(CredentialError::ExpiredSessionToken);
        }
        Ok(ResolvedCredential {
            secret: Secret::new(secret.as_str()),
            identity: key.clone(),
        })
    }
}

/// Signs `request` in header mode with the verifier's own canonicalization:
/// for tests whose subject is a check other than canonicalization (which the
/// suites and the differential test pin against independent signers).
pub fn sign_header(
    request: &mut OwnedRequest,
    credential: &str,
    secret: &str,
    timestamp: &str,
    signed_headers: &str,
) {
    use iamgate_sigv4::{ServiceRules, Surface, Verifier};
    request
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
    let placeholder = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={}",
        "0".repeat(64)
    );
    request
        .headers
        .push(("Authorization".into(), placeholder.into_bytes()));
    let headers = request.header_refs();
    let view = request.view(&headers);
    let service = credential.split('/').nth(3).unwrap();
    let explained = Verifier::new(ServiceRules::for_service(service, Surface::Query))
        .explain(&view)
        .unwrap();
    let parts: Vec<&str> = credential.split('/').collect();
    let key = iamgate_sigv4::derive_signing_key(secret, parts[1], parts[2], parts[3]);
    let signature = hmac_hex(&key, explained.string_to_sign.as_bytes());
    assert!(explained.string_to_sign.contains(timestamp));
    let header = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    let last = request.headers.last_mut().unwrap();
    last.1 = header.into_bytes();
}

pub fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}
