//! Fuzzes the token path of JWT and Cognito user pool authorizers: any
//! bytes as an `Authorization` value must be refused (they are not signed
//! by the test key) and never panic — the `Bearer` strip, the header checks
//! and, for a header that passes them, the signature and claims.
#![no_main]

use iamgate_apimodel::authorizers::{AuthorizerInput, LambdaAuthorizer};
use iamgate_apimodel::model::ApiFlavour;
use iamgate_gateway::jwt::{SigningKey, header_of, token_of, verify};
use libfuzzer_sys::fuzz_target;

const JWKS: &str = include_str!("../../testdata/jwt/jwks.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(token) = token_of(text) else {
        return;
    };
    let Ok((algorithm, _kid)) = header_of(token) else {
        return;
    };
    let Ok(authorizer) = LambdaAuthorizer::new(
        ApiFlavour::Http,
        AuthorizerInput {
            id: "f1".into(),
            name: Some("fuzz".into()),
            kind: Some("JWT".into()),
            identity_sources: vec!["$request.header.Authorization".into()],
            issuer: Some("https://issuer.example.com".into()),
            audience: vec!["client-a".into()],
            ..AuthorizerInput::default()
        },
    ) else {
        return;
    };
    let Some(tokens) = authorizer.tokens.clone() else {
        return;
    };
    let Some(key) = serde_json::from_str::<serde_json::Value>(JWKS)
        .ok()
        .and_then(|set| set.get("keys")?.get(0).cloned())
        .and_then(|jwk| serde_json::from_value(jwk).ok())
        .and_then(|jwk| SigningKey::from_jwk(&jwk))
    else {
        return;
    };
    assert!(verify(token, algorithm, &key, &authorizer, &tokens, 1_800_000_000).is_err());
});
