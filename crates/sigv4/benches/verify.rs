//! Verification cost against the cryptographic floor and against signing.
//!
//! Per request, one group with:
//! - `verify`: `Verifier::verify` with a warm signing-key cache;
//! - `floor`: SHA-256 of the canonical request (text precomputed by
//!   `explain`) plus one HMAC-SHA256 of the string to sign, with an HMAC
//!   already keyed by the signing key — what no verifier can avoid;
//! - `floor+body` (POST): the floor plus SHA-256 of the body, which a
//!   verifier must also compute to check the payload hash;
//! - `aws-sigv4 sign`: the `aws-sigv4` crate signing the same request.
//!
//! Run: `cargo bench -p iamgate-sigv4 --bench verify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningParams, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use iamgate_sigv4::{
    CredentialError, CredentialProvider, HttpRequest, ResolvedCredential, Secret, ServiceRules,
    Surface, Verifier, derive_signing_key, time::parse_basic,
};
use sha2::{Digest, Sha256};

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TIMESTAMP: &str = "20261121T161201Z";
const HOST: &str = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
const REGION: &str = "us-east-1";
const SERVICE: &str = "execute-api";

/// An in-memory key store: one key, its secret shared, not copied.
struct OneKey(Secret);

impl CredentialProvider for OneKey {
    type Identity = &'static str;

    fn resolve(
        &self,
        access_key_id: &str,
        _session_token: Option<&str>,
        _now: i64,
    ) -> Result<ResolvedCredential<&'static str>, CredentialError> {
        if access_key_id == KEY {
            Ok(ResolvedCredential {
                secret: self.0.clone(),
                identity: "bench-user",
            })
        } else {
            Err(CredentialError::UnknownAccessKey)
        }
    }
}

/// A request as the client sends it, before and after signing.
struct Workload {
    name: &'static str,
    method: &'static str,
    target: &'static str,
    /// Headers the client sets itself (the signer adds date, payload hash
    /// and authorization).
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Workload {
    fn get() -> Self {
        Self {
            name: "get_4_signed_headers",
            method: "GET",
            target: "/prod/pets?type=dog&limit=2",
            headers: vec![
                ("Host", HOST.to_owned()),
                ("Content-Type", "application/json".to_owned()),
            ],
            body: Vec::new(),
        }
    }

    fn post() -> Self {
        // A JSON array of small objects, padded with spaces to exactly 1 KiB.
        let (open, close) = ("{\"pets\":[", "]}");
        let mut items = String::new();
        for index in 0.. {
            let item = format!(
                "{}{{\"id\":{index},\"type\":\"dog\",\"price\":{}.99}}",
                if index == 0 { "" } else { "," },
                index * 7 % 100
            );
            if open.len() + items.len() + item.len() + close.len() > 1024 {
                break;
            }
            items.push_str(&item);
        }
        let padding = " ".repeat(1024 - open.len() - items.len() - close.len());
        let body = format!("{open}{items}{padding}{close}");
        assert_eq!(body.len(), 1024);
        Self {
            name: "post_1KiB_json",
            method: "POST",
            target: "/prod/pets",
            headers: vec![
                ("Host", HOST.to_owned()),
                ("Content-Type", "application/json".to_owned()),
            ],
            body: body.into_bytes(),
        }
    }

    fn time() -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(parse_basic(TIMESTAMP).unwrap()).unwrap())
    }

    /// Signs with `aws-sigv4` as awscurl does: content-type, host,
    /// x-amz-content-sha256 and x-amz-date.
    fn sign(&self, identity: &Identity) -> Vec<(String, String)> {
        let params = signing_params(identity);
        let request = SignableRequest::new(
            self.method,
            format!("https://{HOST}{}", self.target),
            self.headers.iter().map(|(n, v)| (*n, v.as_str())),
            SignableBody::Bytes(&self.body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        headers.extend(
            instructions
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        headers
    }
}

fn signing_params(identity: &Identity) -> SigningParams<'_> {
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name(SERVICE)
        .time(Workload::time())
        .settings(settings)
        .build()
        .unwrap()
        .into()
}

fn bench_workload(c: &mut Criterion, workload: &Workload) {
    let identity: Identity = Credentials::new(KEY, SECRET, None, None, "bench").into();
    let signed = workload.sign(&identity);
    let header_refs: Vec<(&str, &[u8])> = signed
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let request = HttpRequest::from_target(
        workload.method,
        workload.target,
        &header_refs,
        &workload.body,
    );
    let verifier = Verifier::new(ServiceRules::for_service(SERVICE, Surface::ExecuteApi));
    let keys = OneKey(Secret::new(SECRET));
    let now = parse_basic(TIMESTAMP).unwrap();

    // Warm the key cache, and make sure what is measured is a success.
    let verified = verifier.verify(&request, &keys, now).unwrap();
    assert_eq!(verified.identity, "bench-user");
    let explained = verifier.explain(&request).unwrap();
    assert!(
        explained
            .canonical_request
            .contains("content-type;host;x-amz-content-sha256;x-amz-date"),
        "{}",
        explained.canonical_request
    );

    let signing_key = derive_signing_key(SECRET, &TIMESTAMP[..8], REGION, SERVICE);
    let keyed = Hmac::<Sha256>::new_from_slice(&signing_key).unwrap();
    let canonical = explained.canonical_request.as_bytes();
    let string_to_sign = explained.string_to_sign.as_bytes();
    let floor = || {
        let digest = Sha256::digest(black_box(canonical));
        let mut mac = keyed.clone();
        mac.update(black_box(string_to_sign));
        (digest, mac.finalize().into_bytes())
    };

    let mut group = c.benchmark_group(workload.name);
    group.bench_function("verify", |b| {
        b.iter(|| verifier.verify(black_box(&request), &keys, now).unwrap())
    });
    group.bench_function("floor", |b| b.iter(floor));
    if !workload.body.is_empty() {
        group.bench_function("floor+body", |b| {
            b.iter(|| (Sha256::digest(black_box(&workload.body)), floor()))
        });
    }
    let params = signing_params(&identity);
    let uri = format!("https://{HOST}{}", workload.target);
    group.bench_function("aws-sigv4 sign", |b| {
        b.iter(|| {
            let request = SignableRequest::new(
                workload.method,
                uri.as_str(),
                workload.headers.iter().map(|(n, v)| (*n, v.as_str())),
                SignableBody::Bytes(black_box(&workload.body)),
            )
            .unwrap();
            sign(request, &params).unwrap()
        })
    });
    group.finish();
}

fn sigv4(c: &mut Criterion) {
    bench_workload(c, &Workload::get());
    bench_workload(c, &Workload::post());
}

criterion_group!(benches, sigv4);
criterion_main!(benches);
