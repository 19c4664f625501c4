//! Every failure of the catalogue (F0–F15), with AWS's exact text, code and
//! status, and the order in which AWS checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use base64::Engine as _;
use iamgate_sigv4::{
    FailureKind, HttpRequest, KeyValuePairMessageStyle, MismatchMessageStyle, ServiceRules,
    SigV4Error, Surface, Verifier, peek_service, time::parse_basic,
};
use sha2::Digest;
use support::*;

const VANILLA_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const VANILLA_TIME: &str = "20150830T123600Z";

fn at(timestamp: &str) -> i64 {
    parse_basic(timestamp).unwrap()
}

fn keys() -> FixedKeys {
    FixedKeys::default()
        .with(SUITE_KEY, SUITE_SECRET, None)
        .with("ASIATEMPORARY", "temporary-secret", Some("the-token"))
}

fn vanilla(authorization: Option<&str>) -> OwnedRequest {
    let mut headers = vec![
        ("Host".to_owned(), b"example.amazonaws.com".to_vec()),
        ("X-Amz-Date".to_owned(), VANILLA_TIME.as_bytes().to_vec()),
    ];
    if let Some(value) = authorization {
        headers.push(("Authorization".to_owned(), value.as_bytes().to_vec()));
    }
    OwnedRequest {
        method: "GET".into(),
        target: "/".into(),
        headers,
        body: Vec::new(),
    }
}

fn verify_with(
    verifier: &Verifier,
    request: &OwnedRequest,
    now: i64,
) -> Result<String, SigV4Error> {
    let headers = request.header_refs();
    let view: HttpRequest<'_> = request.view(&headers);
    verifier.verify(&view, &keys(), now).map(|v| v.identity)
}

fn verify(surface: Surface, request: &OwnedRequest, now: i64) -> Result<String, SigV4Error> {
    verify_with(
        &Verifier::new(ServiceRules::for_service("service", surface)),
        request,
        now,
    )
}

fn failure(surface: Surface, request: &OwnedRequest) -> SigV4Error {
    verify(surface, request, at(VANILLA_TIME)).expect_err("the request must be refused")
}

#[test]
fn the_vanilla_request_verifies_as_the_baseline() {
    assert_eq!(
        verify(
            Surface::Query,
            &vanilla(Some(VANILLA_AUTH)),
            at(VANILLA_TIME)
        )
        .unwrap(),
        SUITE_KEY
    );
}

#[test]
fn f0_header_and_query_signature_together_are_refused() {
    let mut request = vanilla(Some(VANILLA_AUTH));
    request.target = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    let error = failure(Surface::Query, &request);
    assert_eq!(error.kind(), FailureKind::BothAuthenticationForms);
    assert_eq!(
        error.message(),
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    );
    assert_eq!((error.code(), error.status()), ("IncompleteSignature", 400));
}

#[test]
fn f1_unsigned_request_is_missing_authentication_token_per_surface() {
    let error = failure(Surface::Query, &vanilla(None));
    assert_eq!(
        (error.code(), error.status(), error.message()),
        (
            "MissingAuthenticationToken",
            403,
            "Request is missing Authentication Token"
        )
    );
    let error = failure(Surface::ExecuteApi, &vanilla(None));
    assert_eq!(
        (error.code(), error.status(), error.message()),
        (
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token"
        )
    );
}

#[test]
fn f2_bearer_token_is_an_incomplete_signature_with_the_hashed_header() {
    let error = failure(Surface::ExecuteApi, &vanilla(Some("Bearer abc.def.ghi")));
    let digest = sha2::Sha256::digest(b"Bearer abc.def.ghi");
    let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
    assert_eq!(error.kind(), FailureKind::MalformedKeyValuePair);
    assert_eq!(
        error.message(),
        format!(
            "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{encoded}'."
        )
    );
    assert_eq!(
        (error.code(), error.status()),
        ("IncompleteSignatureException", 403)
    );
}

#[test]
fn f2_legacy_wording_names_the_piece_and_the_header() {
    let mut rules = ServiceRules::for_service("service", Surface::ExecuteApi);
    rules.tunables.key_value_pair_message_style = KeyValuePairMessageStyle::Legacy;
    let error = verify_with(
        &Verifier::new(rules),
        &vanilla(Some("Bearer abc")),
        at(VANILLA_TIME),
    )
    .unwrap_err();
    assert_eq!(
        error.message(),
        "'abc' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc'."
    );
}

fn legacy_failure(header: &str) -> SigV4Error {
    let mut rules = ServiceRules::for_service("service", Surface::Query);
    rules.tunables.key_value_pair_message_style = KeyValuePairMessageStyle::Legacy;
    verify_with(
        &Verifier::new(rules),
        &vanilla(Some(header)),
        at(VANILLA_TIME),
    )
    .unwrap_err()
}

fn peek(header: &str) -> Option<String> {
    let request = vanilla(Some(header));
    let headers = request.header_refs();
    peek_service(&request.view(&headers))
}

#[test]
fn f2_a_piece_after_the_three_parameters_is_not_ignored() {
    let header = format!("{VANILLA_AUTH}, Foo=bar");
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(error.kind(), FailureKind::MalformedKeyValuePair);
    assert_eq!((error.code(), error.status()), ("IncompleteSignature", 400));
    assert_eq!(
        legacy_failure(&header).message(),
        format!(
            "'Foo=bar' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
        )
    );
    // Routing refuses to read a service from a header verification refuses.
    assert_eq!(peek(&header), None);
}

#[test]
fn f2_parameters_separated_by_tabs_are_refused() {
    let header = VANILLA_AUTH.replace(", ", ",\t");
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(error.kind(), FailureKind::MalformedKeyValuePair);
    assert!(
        legacy_failure(&header)
            .message()
            .starts_with("'\tSignedHeaders=host;x-amz-date' not a valid key=value pair"),
        "{}",
        legacy_failure(&header).message()
    );
    assert_eq!(peek(&header), None);
    // A tab after the algorithm leaves no parameter at all.
    let header = VANILLA_AUTH.replacen(' ', "\t", 1);
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(error.kind(), FailureKind::MissingParameters);
    assert!(
        error
            .message()
            .starts_with("Authorization header requires 'Credential' parameter. "),
        "{}",
        error.message()
    );
}

#[test]
fn f3_a_repeated_credential_is_no_credential_for_routing_or_verification() {
    // Routing once read the first Credential and verification the last:
    // an IAM-scoped request could be verified as another service's.
    let header = VANILLA_AUTH.replace(
        "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,",
        "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,",
    );
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(error.kind(), FailureKind::MissingParameters);
    assert_eq!(
        error.message(),
        format!("Authorization header requires 'Credential' parameter. Authorization={header}")
    );
    assert_eq!(peek(&header), None);
    for (twice, name) in [
        (
            "SignedHeaders=host;x-amz-date, SignedHeaders=host",
            "SignedHeaders",
        ),
        (
            "Signature=00, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            "Signature",
        ),
    ] {
        let header = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31, {twice}"
        );
        let error = failure(Surface::Query, &vanilla(Some(&header)));
        assert_eq!(error.kind(), FailureKind::MissingParameters, "{name}");
        assert!(
            error
                .message()
                .contains(&format!("requires '{name}' parameter")),
            "{}",
            error.message()
        );
    }
}

#[test]
fn routing_reads_the_credential_that_verification_verifies() {
    assert_eq!(peek(VANILLA_AUTH).as_deref(), Some("service"));
    let spaced = VANILLA_AUTH.replace(", ", " ,  ");
    assert_eq!(peek(&spaced).as_deref(), Some("service"));
    assert_eq!(
        verify(Surface::Query, &vanilla(Some(&spaced)), at(VANILLA_TIME)).unwrap(),
        SUITE_KEY
    );
}

#[test]
fn f3_each_missing_header_parameter_is_named_in_order_with_the_raw_header() {
    let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    let error = failure(Surface::Query, &vanilla(Some(header)));
    assert_eq!(error.kind(), FailureKind::MissingParameters);
    assert_eq!(
        error.message(),
        format!(
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={header}"
        )
    );
    assert_eq!((error.code(), error.status()), ("IncompleteSignature", 400));
}

#[test]
fn f3_a_bare_token_without_date_header_gets_all_four_sentences() {
    let mut request = vanilla(Some("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    request.headers.retain(|(n, _)| n != "X-Amz-Date");
    let error = failure(Surface::ExecuteApi, &request);
    assert_eq!(
        error.message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=eyJhbGciOiJIUzI1NiJ9.e30.sig"
    );
    assert_eq!(error.code(), "IncompleteSignatureException");
}

#[test]
fn f3q_missing_presign_parameters_are_listed_then_re_examine() {
    let mut request = vanilla(None);
    request.headers.retain(|(n, _)| n != "X-Amz-Date");
    request.target = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z".into();
    let error = failure(Surface::Query, &request);
    assert_eq!(
        error.message(),
        "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
    assert_eq!(error.kind(), FailureKind::MissingParameters);
}

#[test]
fn f4_other_algorithms_including_sigv4a_are_unsupported() {
    for algorithm in ["AWS4-HMAC-SHA512", "AWS4-ECDSA-P256-SHA256"] {
        let header = VANILLA_AUTH.replacen("AWS4-HMAC-SHA256", algorithm, 1);
        let error = failure(Surface::Query, &vanilla(Some(&header)));
        assert_eq!(error.kind(), FailureKind::UnsupportedAlgorithm);
        assert_eq!(
            error.message(),
            format!("Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ")
        );
        assert_eq!(error.code(), "IncompleteSignature");
    }
}

#[test]
fn f5_credential_needs_exactly_five_parts() {
    let header = VANILLA_AUTH.replace("/service/aws4_request", "/service");
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(
        error.message(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'"
    );
}

#[test]
fn f6_an_rfc1123_date_header_is_not_basic_format() {
    let mut request = vanilla(Some(VANILLA_AUTH));
    request.headers.retain(|(n, _)| n != "X-Amz-Date");
    request
        .headers
        .push(("Date".into(), b"Sun, 30 Aug 2015 12:36:00 GMT".to_vec()));
    let error = failure(Surface::Query, &request);
    assert_eq!(error.kind(), FailureKind::MalformedDate);
    assert_eq!(
        error.message(),
        "Date must be in ISO-8601 'basic format'. Got 'Sun, 30 Aug 2015 12:36:00 GMT'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[test]
fn f7_scope_errors_are_reported_together_in_region_service_terminator_date_order() {
    let header = VANILLA_AUTH.replace(
        "20150830/us-east-1/service/aws4_request",
        "20150831/eu-west-1/other/aws5_request",
    );
    let verifier = Verifier::new(ServiceRules::for_service("service", Surface::Query));
    let request = vanilla(Some(&header));
    let headers = request.header_refs();
    let error = verifier
        .verify_in_region(
            &request.view(&headers),
            &keys(),
            at(VANILLA_TIME),
            "us-east-1",
        )
        .unwrap_err();
    assert_eq!(error.kind(), FailureKind::InvalidCredentialScope);
    assert_eq!(
        error.message(),
        "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should be scoped to correct service: 'service'. Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."
    );
    assert_eq!(
        (error.code(), error.status()),
        ("SignatureDoesNotMatch", 403)
    );
}

#[test]
fn f7_execute_api_refuses_a_scope_for_another_region_than_the_apis() {
    let verifier = Verifier::new(ServiceRules::for_service("service", Surface::ExecuteApi));
    let request = vanilla(Some(VANILLA_AUTH));
    let headers = request.header_refs();
    let error = verifier
        .verify_in_region(
            &request.view(&headers),
            &keys(),
            at(VANILLA_TIME),
            "ap-northeast-1",
        )
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Credential should be scoped to a valid region, not 'us-east-1'. "
    );
    assert_eq!(error.code(), "InvalidSignatureException");
}

#[test]
fn f8_host_must_be_signed() {
    let header = VANILLA_AUTH.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(error.kind(), FailureKind::HostNotSigned);
    assert_eq!(
        error.message(),
        "'Host' must be a 'SignedHeader' in the AWS Authorization."
    );
}

/// A request signed at `timestamp` for `service`.
fn signed_at(timestamp: &str, service: &str) -> OwnedRequest {
    let mut request = vanilla(None);
    request.headers[1].1 = timestamp.as_bytes().to_vec();
    let credential = format!(
        "AKIDEXAMPLE/{}/us-east-1/{service}/aws4_request",
        &timestamp[..8]
    );
    sign_header(
        &mut request,
        &credential,
        SUITE_SECRET,
        timestamp,
        "host;x-amz-date",
    );
    request
}

#[test]
fn f9_execute_api_signature_expired_matches_the_observed_text() {
    let request = signed_at("20201027T123008Z", "execute-api");
    let verifier = Verifier::new(ServiceRules::for_service(
        "execute-api",
        Surface::ExecuteApi,
    ));
    let error = verify_with(&verifier, &request, at("20201027T130007Z")).unwrap_err();
    assert_eq!(
        error.message(),
        "Signature expired: 20201027T123008Z is now earlier than 20201027T125507Z (20201027T130007Z - 5 min.)"
    );
    assert_eq!(
        (error.code(), error.status()),
        ("InvalidSignatureException", 403)
    );
}

#[test]
fn f9_sts_uses_a_fifteen_minute_window_and_signature_does_not_match() {
    let request = signed_at("20220127T001427Z", "sts");
    let verifier = Verifier::new(ServiceRules::for_service("sts", Surface::Query));
    let error = verify_with(&verifier, &request, at("20220127T015928Z")).unwrap_err();
    assert_eq!(
        error.message(),
        "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"
    );
    assert_eq!(error.code(), "SignatureDoesNotMatch");
}

#[test]
fn skew_window_is_inclusive_on_both_sides() {
    let request = signed_at("20201027T120000Z", "execute-api");
    let verifier = Verifier::new(ServiceRules::for_service(
        "execute-api",
        Surface::ExecuteApi,
    ));
    let signed = at("20201027T120000Z");
    assert!(verify_with(&verifier, &request, signed + 300).is_ok());
    assert!(verify_with(&verifier, &request, signed - 300).is_ok());
    let late = verify_with(&verifier, &request, signed + 301).unwrap_err();
    assert_eq!(late.kind(), FailureKind::SignatureExpired);
    let early = verify_with(&verifier, &request, signed - 301).unwrap_err();
    assert_eq!(early.kind(), FailureKind::SignatureNotYetCurrent);
    assert_eq!(
        early.message(),
        "Signature not yet current: 20201027T120000Z is still later than 20201027T115959Z (20201027T115459Z + 5 min.)"
    );
}

/// The suite's get-vanilla presigned request (X-Amz-Expires=3600).
fn presigned_vanilla() -> OwnedRequest {
    let path = testdata("sigv4/aws-signing-test-suite/v4/get-vanilla/query-signed-request.txt");
    parse_http_file(&std::fs::read(path).unwrap())
}

#[test]
fn f11_presigned_urls_live_for_x_amz_expires_not_the_skew_window() {
    let request = presigned_vanilla();
    let signed = at(VANILLA_TIME);
    assert!(
        verify(Surface::Query, &request, signed + 3600).is_ok(),
        "an hour-old URL with Expires=3600"
    );
    let error = verify(Surface::Query, &request, signed + 3601).unwrap_err();
    assert_eq!(error.kind(), FailureKind::PresignedRequestExpired);
    assert_eq!(error.message(), "Request has expired");
    assert_eq!(error.code(), "SignatureDoesNotMatch");
    let error = verify(Surface::Query, &request, signed - 301).unwrap_err();
    assert_eq!(
        error.kind(),
        FailureKind::SignatureNotYetCurrent,
        "a URL from the future"
    );
}

#[test]
fn f11_x_amz_expires_out_of_range_is_refused_before_the_signature() {
    for expires in ["0", "604801", "-1", "soon"] {
        let mut request = presigned_vanilla();
        request.target = request
            .target
            .replace("X-Amz-Expires=3600", &format!("X-Amz-Expires={expires}"));
        let error = failure(Surface::Query, &request);
        assert_eq!(
            error.message(),
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
            "{expires}"
        );
    }
}

#[test]
fn f12_unknown_key_is_an_invalid_client_token_before_any_signature_check() {
    // The signature is wrong too: an unknown key must be reported first.
    let header = VANILLA_AUTH
        .replace("AKIDEXAMPLE", "AKIAUNKNOWN")
        .replace("5fa0", "0000");
    let error = failure(Surface::Query, &vanilla(Some(&header)));
    assert_eq!(
        (error.code(), error.status(), error.message()),
        (
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid."
        )
    );
    let error = failure(Surface::RestJson, &vanilla(Some(&header)));
    assert_eq!(error.code(), "UnrecognizedClientException");
}

#[test]
fn f13_temporary_key_without_its_token_is_an_invalid_client_token() {
    let mut request = vanilla(None);
    sign_header(
        &mut request,
        "ASIATEMPORARY/20150830/us-east-1/service/aws4_request",
        "temporary-secret",
        VANILLA_TIME,
        "host;x-amz-date",
    );
    let error = failure(Surface::Query, &request);
    assert_eq!(error.kind(), FailureKind::InvalidClientTokenId);

    request
        .headers
        .push(("X-Amz-Security-Token".into(), b"the-token".to_vec()));
    assert!(
        verify(Surface::Query, &request, at(VANILLA_TIME)).is_ok(),
        "with its token, unsigned"
    );
}

#[test]
fn f14_expired_temporary_credentials_are_an_expired_token() {
    let mut request = vanilla(None);
    request
        .headers
        .push(("X-Amz-Security-Token".into(), b"the-token".to_vec()));
    sign_header(
        &mut request,
        "ASIATEMPORARY/20150830/us-east-1/service/aws4_request",
        "temporary-secret",
        VANILLA_TIME,
        "host;x-amz-date;x-amz-security-token",
    );
    let mut expired = keys();
    expired.expired.push("ASIATEMPORARY".into());
    let verifier = Verifier::new(ServiceRules::for_service("service", Surface::Query));
    let headers = request.header_refs();
    let error = verifier
        .verify(&request.view(&headers), &expired, at(VANILLA_TIME))
        .unwrap_err();
    assert_eq!(
        (error.code(), error.status(), error.message()),
        (
            "ExpiredToken",
            403,
            "The security token included in the request is expired"
        )
    );
}

#[test]
fn f15_a_tampered_request_does_not_match_and_says_so_in_short_form() {
    let mut request = vanilla(Some(VANILLA_AUTH));
    request.target = "/other".into();
    let error = failure(Surface::ExecuteApi, &request);
    assert_eq!(error.kind(), FailureKind::SignatureDoesNotMatch);
    assert_eq!(
        error.message(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    assert_eq!(error.code(), "InvalidSignatureException");
}

#[test]
fn f15_long_form_echoes_canonical_request_and_string_to_sign_but_never_the_secret() {
    let mut rules = ServiceRules::for_service("service", Surface::ExecuteApi);
    rules.tunables.mismatch_message_style = MismatchMessageStyle::Long;
    let mut request = vanilla(Some(VANILLA_AUTH));
    request.method = "POST".into();
    let error = verify_with(&Verifier::new(rules), &request, at(VANILLA_TIME)).unwrap_err();
    let expected = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n";
    assert!(error.message().starts_with(expected), "{}", error.message());
    assert!(error.message().ends_with("'\n"));
    assert!(!error.message().contains(SUITE_SECRET));
    assert!(!format!("{error:?}").contains(SUITE_SECRET));
}

#[test]
fn f15_a_signature_that_is_not_64_lowercase_hex_never_matches() {
    let header = VANILLA_AUTH.replace("5fa00fa3", "5FA00FA3");
    assert_eq!(
        failure(Surface::Query, &vanilla(Some(&header))).kind(),
        FailureKind::SignatureDoesNotMatch
    );
}

fn post_with_declared_hash(declared: &str, body: &[u8]) -> OwnedRequest {
    let mut request = vanilla(None);
    request.method = "POST".into();
    request.body = body.to_vec();
    request
        .headers
        .push(("x-amz-content-sha256".into(), declared.as_bytes().to_vec()));
    sign_header(
        &mut request,
        "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        SUITE_SECRET,
        VANILLA_TIME,
        "host;x-amz-content-sha256;x-amz-date",
    );
    request
}

#[test]
fn declared_payload_hash_must_be_the_bodys_hash() {
    let body = b"Action=GetCallerIdentity";
    let right = hex::encode(sha2::Sha256::digest(body));
    assert!(
        verify(
            Surface::Query,
            &post_with_declared_hash(&right, body),
            at(VANILLA_TIME)
        )
        .is_ok()
    );

    let wrong = hex::encode(sha2::Sha256::digest(b"something else"));
    let error = verify(
        Surface::Query,
        &post_with_declared_hash(&wrong, body),
        at(VANILLA_TIME),
    )
    .unwrap_err();
    assert_eq!(error.kind(), FailureKind::SignatureDoesNotMatch);
}

#[test]
fn unsigned_payload_is_refused_unless_the_tunable_allows_it() {
    let request = post_with_declared_hash("UNSIGNED-PAYLOAD", b"body");
    assert_eq!(
        failure(Surface::Query, &request).kind(),
        FailureKind::SignatureDoesNotMatch
    );
    let mut rules = ServiceRules::for_service("service", Surface::Query);
    rules.tunables.accept_unsigned_payload = true;
    assert!(verify_with(&Verifier::new(rules), &request, at(VANILLA_TIME)).is_ok());
}

#[test]
fn a_body_changed_after_signing_does_not_match() {
    let mut request = post_with_declared_hash(&hex::encode(sha2::Sha256::digest(b"a")), b"a");
    request.headers.retain(|(n, _)| n != "x-amz-content-sha256");
    // Without the declared hash the body is hashed as received.
    sign_header(
        &mut request,
        "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        SUITE_SECRET,
        VANILLA_TIME,
        "host;x-amz-date",
    );
    assert!(verify(Surface::Query, &request, at(VANILLA_TIME)).is_ok());
    request.body = b"b".to_vec();
    assert_eq!(
        failure(Surface::Query, &request).kind(),
        FailureKind::SignatureDoesNotMatch
    );
}

#[test]
fn time_is_checked_before_the_key_is_looked_up() {
    let header = VANILLA_AUTH.replace("AKIDEXAMPLE", "AKIAUNKNOWN");
    let error = verify(
        Surface::Query,
        &vanilla(Some(&header)),
        at(VANILLA_TIME) + 3600,
    )
    .unwrap_err();
    assert_eq!(error.kind(), FailureKind::SignatureExpired);
}

#[test]
fn f15_a_query_parameter_added_after_signing_does_not_match() {
    let mut request = vanilla(Some(VANILLA_AUTH));
    request.target = "/?x=1".into();
    assert_eq!(
        failure(Surface::ExecuteApi, &request).kind(),
        FailureKind::SignatureDoesNotMatch
    );
}
