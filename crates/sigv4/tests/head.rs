//! Verifying from the head before the body is read: every error it gives
//! is the one the whole verification gives for any body, and what it lets
//! through is settled by the body exactly as the whole verification would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use iamgate_sigv4::{
    HeadVerdict, HttpRequest, ServiceRules, SigV4Error, Surface, Verifier, time::parse_basic,
};
use sha2::Digest;
use support::*;

const TIME: &str = "20150830T123600Z";
const CREDENTIAL: &str = "AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request";

fn now() -> i64 {
    parse_basic(TIME).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new(ServiceRules::for_service(
        "execute-api",
        Surface::ExecuteApi,
    ))
}

fn keys() -> FixedKeys {
    FixedKeys::default().with(SUITE_KEY, SUITE_SECRET, None)
}

/// A POST of `body`, declaring `declared` as its payload hash when given,
/// signed over exactly that.
fn post(body: &[u8], declared: Option<&str>) -> OwnedRequest {
    let mut headers = vec![
        (
            "Host".to_owned(),
            b"api.execute-api.us-east-1.amazonaws.com".to_vec(),
        ),
        ("X-Amz-Date".to_owned(), TIME.as_bytes().to_vec()),
    ];
    let mut signed = "host;x-amz-date".to_owned();
    if let Some(declared) = declared {
        headers.push((
            "x-amz-content-sha256".to_owned(),
            declared.as_bytes().to_vec(),
        ));
        signed = "host;x-amz-content-sha256;x-amz-date".to_owned();
    }
    let mut request = OwnedRequest {
        method: "POST".into(),
        target: "/prod/pets".into(),
        headers,
        body: body.to_vec(),
    };
    sign_header(&mut request, CREDENTIAL, SUITE_SECRET, TIME, &signed);
    request
}

fn with_body(request: &OwnedRequest, body: &[u8]) -> OwnedRequest {
    OwnedRequest {
        body: body.to_vec(),
        ..request.clone()
    }
}

fn sha256_hex(body: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(body))
}

fn full(request: &OwnedRequest) -> Result<String, SigV4Error> {
    let headers = request.header_refs();
    let view: HttpRequest<'_> = request.view(&headers);
    verifier()
        .verify_in_region(&view, &keys(), now(), "us-east-1")
        .map(|verified| verified.identity)
}

/// The head's verdict, with the body left out of the view it is given.
fn head(request: &OwnedRequest) -> Result<Option<String>, SigV4Error> {
    let headless = with_body(request, b"");
    let headers = headless.header_refs();
    let view = headless.view(&headers);
    verifier()
        .verify_head_in_region(&view, &keys(), now(), "us-east-1")
        .map(|verdict| match verdict {
            HeadVerdict::Verified(verified) => Some(verified.identity),
            HeadVerdict::NeedsBody => None,
        })
}

fn check_payload(request: &OwnedRequest) -> Result<(), SigV4Error> {
    let headers = request.header_refs();
    verifier().check_payload(&request.view(&headers))
}

fn same_error(a: &SigV4Error, b: &SigV4Error) -> bool {
    (a.code(), a.status(), a.message()) == (b.code(), b.status(), b.message())
}

#[test]
fn a_declared_payload_hash_lets_the_signature_be_checked_before_the_body() {
    let body = b"{\"name\":\"rex\"}";
    let request = post(body, Some(&sha256_hex(body)));
    assert_eq!(head(&request).unwrap().as_deref(), Some(SUITE_KEY));
    assert!(check_payload(&request).is_ok());
    assert_eq!(full(&request).unwrap(), SUITE_KEY);
}

#[test]
fn a_body_that_is_not_the_declared_one_fails_as_the_whole_verification_does() {
    let body = b"{\"name\":\"rex\"}";
    let request = with_body(&post(body, Some(&sha256_hex(body))), b"something else");
    assert!(head(&request).unwrap().is_some(), "the head alone is fine");
    let after = check_payload(&request).unwrap_err();
    let whole = full(&request).unwrap_err();
    assert!(same_error(&after, &whole), "{after:?} vs {whole:?}");
}

#[test]
fn a_forged_signature_over_a_declared_hash_is_refused_before_the_body_whatever_it_is() {
    let body = b"payload";
    let mut request = post(body, Some(&sha256_hex(body)));
    let authorization = request.headers.last_mut().unwrap();
    let text = String::from_utf8(authorization.1.clone()).unwrap();
    authorization.1 = format!("{}{}", &text[..text.len() - 64], "0".repeat(64)).into_bytes();
    let early = head(&request).unwrap_err();
    for sent in [&body[..], b"", b"other"] {
        let whole = full(&with_body(&request, sent)).unwrap_err();
        assert!(same_error(&early, &whole), "{early:?} vs {whole:?}");
    }
}

#[test]
fn without_a_declared_hash_the_signature_waits_for_the_body() {
    let body = b"payload";
    let request = post(body, None);
    assert_eq!(head(&request).unwrap(), None);
    assert_eq!(full(&request).unwrap(), SUITE_KEY);
}

#[test]
fn header_level_failures_are_answered_before_the_body_with_the_same_error() {
    let body = b"payload";
    let good = post(body, None);
    let mut cases: Vec<(&str, OwnedRequest)> = Vec::new();
    let mut unsigned = good.clone();
    unsigned.headers.retain(|(n, _)| n != "Authorization");
    cases.push(("no Authorization", unsigned));
    let mut unknown = post(body, None);
    sign_header(
        &mut unknown,
        "AKIDUNKNOWN/20150830/us-east-1/execute-api/aws4_request",
        SUITE_SECRET,
        TIME,
        "host;x-amz-date",
    );
    cases.push(("unknown key", unknown));
    let mut other_region = post(body, None);
    sign_header(
        &mut other_region,
        "AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request",
        SUITE_SECRET,
        TIME,
        "host;x-amz-date",
    );
    cases.push(("other region", other_region));
    let mut host_unsigned = post(body, None);
    sign_header(
        &mut host_unsigned,
        CREDENTIAL,
        SUITE_SECRET,
        TIME,
        "x-amz-date",
    );
    cases.push(("host not signed", host_unsigned));
    let mut stale = post(body, None);
    for header in &mut stale.headers {
        if header.0 == "X-Amz-Date" {
            header.1 = b"20150830T110000Z".to_vec();
        }
    }
    sign_header(
        &mut stale,
        CREDENTIAL,
        SUITE_SECRET,
        "20150830T110000Z",
        "host;x-amz-date",
    );
    cases.push(("expired date", stale));
    cases.push(("UNSIGNED-PAYLOAD", post(body, Some("UNSIGNED-PAYLOAD"))));
    for (name, request) in cases {
        let early = head(&request).unwrap_err();
        for sent in [&body[..], b""] {
            let whole = full(&with_body(&request, sent)).unwrap_err();
            assert!(same_error(&early, &whole), "{name}: {early:?} vs {whole:?}");
        }
    }
}
