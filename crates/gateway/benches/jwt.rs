//! What a `JWT` / `COGNITO_USER_POOLS` authorizer costs per request, against
//! its cryptographic floor:
//! - `validate`: [`header_of`] + [`verify`] of an RS256 token (header
//!   decode, signature, claims) — a cache miss with the key set already
//!   fetched (its keys built once, at the fetch);
//! - `floor`: the RS256 signature check alone, with the key already built;
//! - `cache key`: SHA-256 of the token, what a cache hit costs besides a
//!   map lookup.
//!
//! Run: `cargo bench -p iamgate-gateway --bench jwt`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iamgate_apimodel::authorizers::{AuthorizerInput, LambdaAuthorizer};
use iamgate_apimodel::model::ApiFlavour;
use iamgate_gateway::jwt::{SigningKey, header_of, verify};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SIGNING_KEY: &[u8] = include_bytes!("../../../testdata/jwt/signing-key.der");
const JWKS: &str = include_str!("../../../testdata/jwt/jwks.json");

fn bench(c: &mut Criterion) {
    let authorizer = LambdaAuthorizer::new(
        ApiFlavour::Http,
        AuthorizerInput {
            id: "b1".into(),
            name: Some("bench".into()),
            kind: Some("JWT".into()),
            identity_sources: vec!["$request.header.Authorization".into()],
            issuer: Some("https://issuer.example.com".into()),
            audience: vec!["client-a".into()],
            ..AuthorizerInput::default()
        },
    )
    .unwrap();
    let tokens = authorizer.tokens.clone().unwrap();
    let set: Value = serde_json::from_str(JWKS).unwrap();
    let jwk: Jwk = serde_json::from_value(set["keys"][0].clone()).unwrap();
    let signing = SigningKey::from_jwk(&jwk).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let now = 1_800_000_000;
    let token = jsonwebtoken::encode(
        &header,
        &json!({"iss": "https://issuer.example.com", "aud": "client-a", "sub": "u",
                "exp": now + 600, "iat": now - 5, "scope": "read write"}),
        &EncodingKey::from_rsa_der(SIGNING_KEY),
    )
    .unwrap();
    let (alg, _) = header_of(&token).unwrap();
    assert!(verify(&token, alg, &signing, &authorizer, &tokens, now).is_ok());
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();

    let mut group = c.benchmark_group("jwt RS256 (2048-bit)");
    group.bench_function("validate", |b| {
        b.iter(|| {
            let (alg, _) = header_of(black_box(&token)).unwrap();
            verify(&token, alg, &signing, &authorizer, &tokens, now).unwrap()
        })
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::verify(
                black_box(signature),
                message.as_bytes(),
                &key,
                Algorithm::RS256,
            )
            .unwrap()
        })
    });
    group.bench_function("cache key", |b| {
        b.iter(|| -> [u8; 32] { Sha256::digest(black_box(token.as_bytes())).into() })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
