//! Robustness in the ordinary test run (the fuzz target `sigv4_parse` goes
//! further): arbitrary bytes in the Authorization header, the query string,
//! the path, header values or anywhere in a request never panic, always get
//! one of AWS's errors when no valid signature can exist, and a signed
//! request verifies exactly when what it changed leaves the canonical request
//! as it was.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::fs;

use iamgate_sigv4::{
    HttpRequest, KeyValuePairMessageStyle, MismatchMessageStyle, ServiceRules, SigV4Error, Surface,
    Verifier, peek_service, time::parse_basic,
};
use proptest::prelude::*;
use support::*;

const SUITE_TIME: &str = "20150830T123600Z";

fn now() -> i64 {
    parse_basic(SUITE_TIME).unwrap()
}

fn keys() -> FixedKeys {
    FixedKeys::default()
        .with(SUITE_KEY, SUITE_SECRET, None)
        .with("ASIATEMPORARY", "temporary-secret", Some("the-token"))
}

/// Every verifier configuration whose code paths differ.
fn verifiers() -> Vec<Verifier> {
    let mut out = Vec::new();
    for surface in [Surface::Query, Surface::RestJson, Surface::ExecuteApi] {
        out.push(Verifier::new(ServiceRules::for_service("service", surface)));
    }
    let mut rules = ServiceRules::for_service("service", Surface::Query);
    rules.tunables.mismatch_message_style = MismatchMessageStyle::Long;
    rules.tunables.key_value_pair_message_style = KeyValuePairMessageStyle::Legacy;
    rules.tunables.accept_unsigned_payload = true;
    rules.tunables.normalize_uri_path = false;
    out.push(Verifier::new(rules));
    out
}

/// A request from AWS's suite (`get-vanilla`), header or presigned form.
fn vanilla(form: &str) -> OwnedRequest {
    let path = testdata(&format!(
        "sigv4/aws-signing-test-suite/v4/get-vanilla/{form}-signed-request.txt"
    ));
    parse_http_file(&fs::read(path).unwrap())
}

/// Runs every entry point on `request`; returns what each verifier said.
fn exercise(request: &HttpRequest<'_>) -> Vec<Result<String, SigV4Error>> {
    let _ = peek_service(request);
    verifiers()
        .iter()
        .map(|verifier| {
            let _ = verifier.explain(request);
            let outcome = verifier.verify(request, &keys(), now());
            let _ = verifier.verify_in_region(request, &keys(), now(), "us-east-1");
            outcome.map(|verified| verified.identity)
        })
        .collect()
}

/// Asserts that every verifier refused, with a well-formed AWS error.
fn assert_all_rejected(request: &HttpRequest<'_>) -> Result<(), TestCaseError> {
    for outcome in exercise(request) {
        match outcome {
            Ok(identity) => prop_assert!(false, "verified as {identity}: {request:?}"),
            Err(error) => {
                prop_assert!(!error.code().is_empty());
                prop_assert!(matches!(error.status(), 400 | 403), "{}", error.status());
            }
        }
    }
    Ok(())
}

/// Pieces of text that matter to the parsers, mixed with arbitrary ones.
fn fragments(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => prop::sample::select(pieces).prop_map(|p| p.as_bytes().to_vec()),
        1 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
        1 => "[0-9a-f]{64}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|pieces| pieces.concat())
}

const AUTHORIZATION_PIECES: &[&str] = &[
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 ",
    "AWS4-ECDSA-P256-SHA256 ",
    "Bearer ",
    " ",
    "\t",
    ",",
    ", ",
    "=",
    "Credential=",
    "SignedHeaders=",
    "Signature=",
    "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
    "ASIATEMPORARY/20150830/us-east-1/service/aws4_request",
    "AKIDEXAMPLE",
    "/",
    "20150830",
    "us-east-1",
    "service",
    "aws4_request",
    "host;x-amz-date",
    "host",
    ";",
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
];

const QUERY_PIECES: &[&str] = &[
    "&",
    "=",
    "%",
    "%2",
    "%2F",
    "%2f",
    "%20",
    "%zz",
    "%E1%88%B4",
    "%FF",
    "+",
    "a",
    "X-Amz-Algorithm=",
    "X-Amz-Credential=",
    "X-Amz-Date=",
    "X-Amz-Expires=",
    "X-Amz-SignedHeaders=",
    "X-Amz-Signature=",
    "X-Amz-Security-Token=",
    "AWS4-HMAC-SHA256",
    "AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request",
    "20150830T123600Z",
    "99999999999999999999",
    "-1",
    "0",
    "host",
];

const PATH_PIECES: &[&str] = &[
    "/", "//", ".", "..", "/.", "/..", "%", "%2F", "%2E", "%2e%2E", "%25", "a", "é", "ሴ", "?", "#",
    " ", "\t", ";", "$",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #[test]
    fn arbitrary_authorization_values_are_refused_without_panicking(
        value in prop_oneof![
            fragments(AUTHORIZATION_PIECES, 16),
            prop::collection::vec(any::<u8>(), 0..300),
        ],
        with_date in any::<bool>(),
    ) {
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"example.amazonaws.com"),
            ("Authorization", &value),
        ];
        if with_date {
            headers.push(("X-Amz-Date", SUITE_TIME.as_bytes()));
        }
        assert_all_rejected(&HttpRequest::from_target("GET", "/", &headers, b""))?;
    }

    #[test]
    fn arbitrary_query_strings_without_a_signature_are_refused(
        query in fragments(QUERY_PIECES, 24),
        authorization in prop::option::of(fragments(AUTHORIZATION_PIECES, 8)),
    ) {
        let query = text(&query);
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("Host", b"example.amazonaws.com"),
            ("X-Amz-Date", SUITE_TIME.as_bytes()),
        ];
        if let Some(value) = &authorization {
            headers.push(("Authorization", value));
        }
        let request = HttpRequest {
            method: "GET",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        assert_all_rejected(&request)?;
    }

    #[test]
    fn arbitrary_requests_are_refused_without_panicking(
        method in ".{0,8}",
        target in prop_oneof![fragments(PATH_PIECES, 12), fragments(QUERY_PIECES, 12)],
        headers in prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(vec![
                        "host", "Authorization", "x-amz-date", "X-Amz-Date", "date",
                        "x-amz-security-token", "x-amz-content-sha256", "",
                    ]).prop_map(str::to_owned),
                    ".{0,12}",
                ],
                prop_oneof![
                    fragments(AUTHORIZATION_PIECES, 10),
                    prop::collection::vec(any::<u8>(), 0..40),
                    Just(SUITE_TIME.as_bytes().to_vec()),
                ],
            ),
            0..8,
        ),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let target = text(&target);
        let header_refs: Vec<(&str, &[u8])> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let request = HttpRequest::from_target(&method, &target, &header_refs, &body);
        assert_all_rejected(&request)?;
    }

    /// The header form of `get-vanilla` with its path, query, host or date
    /// replaced: it verifies if and only if the canonical request the
    /// server computes is still the one that was signed.
    #[test]
    fn a_signed_request_verifies_exactly_when_its_canonical_request_is_unchanged(
        presigned in any::<bool>(),
        part in 0..4usize,
        replacement in prop_oneof![
            fragments(PATH_PIECES, 10),
            fragments(QUERY_PIECES, 10),
            // Whitespace around the original values must not matter.
            (" {0,2}", prop::sample::select(vec!["example.amazonaws.com", SUITE_TIME]), " {0,2}")
                .prop_map(|(a, v, b)| format!("{a}{v}{b}").into_bytes()),
        ],
    ) {
        let signed = vanilla(if presigned { "query" } else { "header" });
        let verifier = Verifier::new(ServiceRules::for_service("service", Surface::Query));
        let original_headers = signed.header_refs();
        let original = verifier.explain(&signed.view(&original_headers)).unwrap();

        let mut changed = signed.clone();
        let (path, query) = signed.target.split_once('?').unwrap_or((&signed.target, ""));
        let replacement_text = text(&replacement);
        let (mut new_path, mut new_query) = (path.to_owned(), query.to_owned());
        match part {
            0 => new_path = replacement_text,
            // Appended after the signature parameters, if any.
            1 => new_query = format!("{query}&{replacement_text}"),
            2 => {
                let host = changed.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case("host"));
                host.unwrap().1 = replacement.clone();
            }
            _ => match changed.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case("x-amz-date")) {
                Some(date) => date.1 = replacement.clone(),
                None => new_query = format!("{query}&X-Amz-Date={replacement_text}"),
            },
        }
        changed.target = new_path.clone();
        let headers = changed.header_refs();
        let request = HttpRequest {
            method: &changed.method,
            path: &new_path,
            query: &new_query,
            headers: &headers,
            body: &changed.body,
        };

        let unchanged = verifier
            .explain(&request)
            .is_ok_and(|explained| explained == original);
        let outcome = verifier.verify(&request, &keys(), now());
        prop_assert_eq!(
            outcome.is_ok(),
            unchanged,
            "{:?} for {:?} (canonical request unchanged: {})",
            outcome.map(|v| v.identity),
            request,
            unchanged
        );
        prop_assert!(exercise(&request).iter().all(|o| o.is_err()) || unchanged);
    }
}
