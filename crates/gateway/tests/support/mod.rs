//! Signing requests for the gateway's tests: the verifier's own canonical
//! request (pinned against AWS's suites in the sigv4 crate) and the derived
//! key, so the tests here are about authorization, not canonicalization.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use hmac::{Hmac, Mac};
use iamgate_sigv4::{
    HttpRequest, ServiceRules, Surface, Verifier, derive_signing_key, time::format_basic,
};

/// A request with its headers, signable for execute-api in us-east-1.
pub struct Signed {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Signed {
    pub fn refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }
}

/// `method target` at `now` for `host`, signed with `key` when given.
pub fn request(
    method: &str,
    target: &str,
    host: &str,
    now: i64,
    key: Option<(&str, &str)>,
) -> Signed {
    let date = format_basic(now);
    let mut signed = Signed {
        method: method.into(),
        target: target.into(),
        headers: vec![
            ("host".into(), host.as_bytes().to_vec()),
            ("x-amz-date".into(), date.clone().into_bytes()),
        ],
        body: Vec::new(),
    };
    let Some((key_id, secret)) = key else {
        return signed;
    };
    let credential = format!("{key_id}/{}/us-east-1/execute-api/aws4_request", &date[..8]);
    let authorization = |signature: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, Signature={signature}"
        )
    };
    signed.headers.push((
        "authorization".into(),
        authorization(&"0".repeat(64)).into_bytes(),
    ));
    let explained = {
        let headers = signed.refs();
        let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, &signed.body);
        Verifier::new(ServiceRules::for_service(
            "execute-api",
            Surface::ExecuteApi,
        ))
        .explain(&view)
        .unwrap()
    };
    let signing_key = derive_signing_key(secret, &date[..8], "us-east-1", "execute-api");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&signing_key).unwrap();
    mac.update(explained.string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    signed.headers.last_mut().unwrap().1 = authorization(&signature).into_bytes();
    signed
}
