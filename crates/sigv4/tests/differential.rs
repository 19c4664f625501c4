//! Differential test against an independent signer: random requests signed
//! by the `aws-sigv4` crate (the AWS SDK for Rust's signer) must verify, and
//! changing any one signed part must fail with the error AWS gives for it.
//!
//! The verifier sees a request as it comes off the wire, so every generated
//! request is first put in wire form — path segments and query parameters
//! percent-encoded the way HTTP clients do it, with some reserved characters
//! left raw — and that same URI is what the signer is handed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use iamgate_sigv4::time::format_basic;
use iamgate_sigv4::{AuthMode, FailureKind, ServiceRules, Surface, Verifier};
use proptest::prelude::*;
use support::{FixedKeys, OwnedRequest};

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-3",
    "ap-southeast-2",
    "us-gov-west-1",
    "cn-north-1",
];
const SERVICES: &[&str] = &["execute-api", "sts", "iam", "apigateway", "service"];
const HOSTS: &[&str] = &[
    "example.amazonaws.com",
    "127.0.0.1:18733",
    "a1b2c3d4e5.execute-api.eu-west-3.amazonaws.com",
    "localhost:8080",
];
/// Reserved characters an HTTP client may leave raw in a path segment.
const PATH_MAY_STAY_RAW: &[u8] = b"!$&'()*+,;=:@";
/// Reserved characters a client may leave raw in a query name or value.
/// `+` is not among them: form decoding (which the signer applies) reads it
/// as a space, SigV4 as a plus; clients that mean `+` send `%2B`.
const QUERY_MAY_STAY_RAW: &[u8] = b"!$'()*,;:@/?";

/// One request as a client means it, before wire encoding and signing.
#[derive(Debug, Clone)]
struct Case {
    method: String,
    /// Decoded path segments; `.`, `..` and empty ones included.
    segments: Vec<String>,
    trailing_slash: bool,
    /// Decoded query parameters; `None` is a piece without `=`.
    query: Vec<(String, Option<String>)>,
    /// Which reserved characters stay raw (bit per character) and whether
    /// escapes use lower-case hex: clients differ in both.
    raw_mask: u16,
    lower_hex: bool,
    host: String,
    host_position: usize,
    /// Header names as sent (any case, repeats allowed) with their values.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    presigned: bool,
    expires: u64,
    content_sha256_header: bool,
    token: Option<String>,
    token_signed: bool,
    /// Bits choosing the case of the header names the signer adds.
    name_case: u8,
    epoch: i64,
    region: String,
    service: String,
    access_key: String,
    secret: String,
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes `text` as a client writes it on the wire: unreserved
/// bytes and the allowed reserved ones (`allowed`, filtered by `mask`) raw,
/// every other byte as an escape.
fn wire_encode(text: &str, allowed: &[u8], mask: u16, lower_hex: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &byte in text.as_bytes() {
        let stays_raw = allowed
            .iter()
            .position(|&c| c == byte)
            .is_some_and(|bit| mask & (1 << bit) != 0);
        if is_unreserved(byte) || stays_raw {
            out.push(char::from(byte));
        } else if lower_hex {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// SigV4's strict encoding, for the signature parameters a presigning
/// client appends.
fn strict_encode(text: &str) -> String {
    wire_encode(text, &[], 0, false)
}

fn with_case(name: &str, bits: u64) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if bits & (1 << (i % 64)) != 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

impl Case {
    fn wire_path(&self) -> String {
        if self.segments.is_empty() {
            return "/".to_owned();
        }
        let mut path = String::new();
        for segment in &self.segments {
            path.push('/');
            path.push_str(&wire_encode(
                segment,
                PATH_MAY_STAY_RAW,
                self.raw_mask,
                self.lower_hex,
            ));
        }
        if self.trailing_slash {
            path.push('/');
        }
        path
    }

    fn wire_query(&self) -> String {
        let mut pieces = Vec::new();
        for (name, value) in &self.query {
            let mut piece = wire_encode(name, QUERY_MAY_STAY_RAW, self.raw_mask, self.lower_hex);
            if let Some(value) = value {
                piece.push('=');
                // `=` may stay raw in a value: only the first one splits.
                let mut allowed = QUERY_MAY_STAY_RAW.to_vec();
                allowed.push(b'=');
                piece.push_str(&wire_encode(value, &allowed, self.raw_mask, self.lower_hex));
            }
            pieces.push(piece);
        }
        pieces.join("&")
    }

    fn time(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(self.epoch).unwrap())
    }

    /// Signs the case with `aws-sigv4` and returns the request a client
    /// would then send.
    fn sign(&self) -> Signed {
        let path = self.wire_path();
        let query = self.wire_query();
        let target = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let mut headers = self.headers.clone();
        let host_name = if self.name_case & 1 == 0 {
            "host"
        } else {
            "Host"
        };
        headers.insert(
            self.host_position % (headers.len() + 1),
            (host_name.to_owned(), self.host.clone()),
        );

        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Double;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
        settings.signature_location = if self.presigned {
            SignatureLocation::QueryParams
        } else {
            SignatureLocation::Headers
        };
        settings.expires_in = self.presigned.then(|| Duration::from_secs(self.expires));
        settings.payload_checksum_kind = if self.content_sha256_header {
            PayloadChecksumKind::XAmzSha256
        } else {
            PayloadChecksumKind::NoHeader
        };
        settings.session_token_mode = if self.token_signed {
            SessionTokenMode::Include
        } else {
            SessionTokenMode::Exclude
        };
        let identity: Identity = Credentials::new(
            &self.access_key,
            &self.secret,
            self.token.clone(),
            None,
            "differential-test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = format!("https://{}{target}", self.host);
        let signable = SignableRequest::new(
            &self.method,
            uri.as_str(),
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(&self.body),
        )
        .unwrap_or_else(|e| panic!("aws-sigv4 refused {uri:?}: {e}"));
        let (instructions, signature) = sign(signable, &params)
            .unwrap_or_else(|e| panic!("aws-sigv4 could not sign {uri:?}: {e}"))
            .into_parts();
        let (added_headers, added_params) = instructions.into_parts();

        let mut wire_headers: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(n, v)| (n, v.into_bytes()))
            .collect();
        for (index, header) in added_headers.iter().enumerate() {
            let uppercase = self.name_case & (2 << index) != 0;
            let name = if uppercase {
                with_case(header.name(), u64::MAX)
            } else {
                header.name().to_owned()
            };
            wire_headers.push((name, header.value().as_bytes().to_vec()));
        }
        let mut wire_query = query;
        for (name, value) in &added_params {
            if !wire_query.is_empty() {
                wire_query.push('&');
            }
            wire_query.push_str(name);
            wire_query.push('=');
            wire_query.push_str(&strict_encode(value));
        }
        let target = if wire_query.is_empty() {
            path
        } else {
            format!("{path}?{wire_query}")
        };
        Signed {
            request: OwnedRequest {
                method: self.method.clone(),
                target,
                headers: wire_headers,
                body: self.body.clone(),
            },
            signature,
        }
    }
}

struct Signed {
    request: OwnedRequest,
    signature: String,
}

fn verifier(case: &Case) -> Verifier {
    let surface = match case.service.as_str() {
        "sts" | "iam" => Surface::Query,
        "apigateway" => Surface::RestJson,
        _ => Surface::ExecuteApi,
    };
    Verifier::new(ServiceRules::for_service(&case.service, surface))
}

fn keys(case: &Case, secret: &str) -> FixedKeys {
    FixedKeys::default().with(&case.access_key, secret, case.token.as_deref())
}

/// Verifies `request` as the server would for `case` (the clock at the
/// signing time, the API's region required).
fn verify(
    case: &Case,
    request: &OwnedRequest,
    secret: &str,
) -> Result<(String, AuthMode, i64), iamgate_sigv4::SigV4Error> {
    let headers = request.header_refs();
    let view = request.view(&headers);
    verifier(case)
        .verify_in_region(&view, &keys(case, secret), case.epoch, &case.region)
        .map(|verified| (verified.identity, verified.mode, verified.signed_at))
}

/// What the verifier computed for `request`, for failure messages.
fn explain(case: &Case, request: &OwnedRequest) -> String {
    let headers = request.header_refs();
    match verifier(case).explain(&request.view(&headers)) {
        Ok(explanation) => format!(
            "canonical request:\n{}\n\nstring to sign:\n{}",
            explanation.canonical_request, explanation.string_to_sign
        ),
        Err(error) => format!("explain failed: {error}"),
    }
}

// ---- mutations of the wire request -------------------------------------------

fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

fn join_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

fn is_signature_param(piece: &str) -> bool {
    piece.starts_with("X-Amz-")
}

fn header_mut<'a>(request: &'a mut OwnedRequest, name: &str) -> &'a mut Vec<u8> {
    &mut request
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no {name} header"))
        .1
}

/// Replaces the value of the query parameter `name` (raw, first occurrence).
fn set_query_param(request: &mut OwnedRequest, name: &str, value: &str) {
    let (path, query) = split_target(&request.target);
    let prefix = format!("{name}=");
    let query: Vec<String> = query
        .split('&')
        .map(|piece| {
            if piece.starts_with(&prefix) {
                format!("{prefix}{value}")
            } else {
                piece.to_owned()
            }
        })
        .collect();
    request.target = join_target(path, &query.join("&"));
}

fn query_param(request: &OwnedRequest, name: &str) -> String {
    let (_, query) = split_target(&request.target);
    let prefix = format!("{name}=");
    query
        .split('&')
        .find_map(|piece| piece.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} parameter"))
        .to_owned()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Rewrites the credential (`key/date/region/service/aws4_request`) wherever
/// the request carries it.
fn rewrite_credential(request: &mut OwnedRequest, presigned: bool, f: impl Fn(&mut [String])) {
    let rewrite = |credential: &str| {
        let mut parts: Vec<String> = credential.split('/').map(str::to_owned).collect();
        assert_eq!(parts.len(), 5, "{credential}");
        f(&mut parts);
        parts.join("/")
    };
    if presigned {
        let credential = percent_decode(&query_param(request, "X-Amz-Credential"));
        let credential = rewrite(&credential);
        set_query_param(request, "X-Amz-Credential", &strict_encode(&credential));
    } else {
        let header = header_mut(request, "authorization");
        let text = String::from_utf8(header.clone()).unwrap();
        let start = text.find("Credential=").unwrap() + "Credential=".len();
        let end = start + text[start..].find(',').unwrap();
        let credential = rewrite(&text[start..end]);
        *header = format!("{}{credential}{}", &text[..start], &text[end..]).into_bytes();
    }
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Method,
    Path,
    QueryValue,
    SignedHeader,
    Body,
    Timestamp,
    ScopeDate,
    ScopeRegion,
    ScopeService,
    UnknownKey,
    WrongSecret,
}

const MUTATIONS: &[Mutation] = &[
    Mutation::Method,
    Mutation::Path,
    Mutation::QueryValue,
    Mutation::SignedHeader,
    Mutation::Body,
    Mutation::Timestamp,
    Mutation::ScopeDate,
    Mutation::ScopeRegion,
    Mutation::ScopeService,
    Mutation::UnknownKey,
    Mutation::WrongSecret,
];

impl Mutation {
    fn expected(self) -> FailureKind {
        match self {
            Mutation::ScopeDate | Mutation::ScopeRegion | Mutation::ScopeService => {
                FailureKind::InvalidCredentialScope
            }
            Mutation::UnknownKey => FailureKind::InvalidClientTokenId,
            _ => FailureKind::SignatureDoesNotMatch,
        }
    }

    /// Applies the mutation; returns the request and the secret the server
    /// holds for the key. `pick` chooses among candidates.
    fn apply(self, case: &Case, signed: &OwnedRequest, pick: usize) -> (OwnedRequest, String) {
        let mut request = signed.clone();
        let mut secret = case.secret.clone();
        match self {
            Mutation::Method => {
                request.method = METHODS
                    .iter()
                    .find(|m| **m != case.method)
                    .unwrap()
                    .to_string();
            }
            Mutation::Path => {
                let (path, query) = split_target(&request.target);
                request.target = join_target(&format!("{path}z"), query);
            }
            Mutation::QueryValue => {
                let (path, query) = split_target(&request.target);
                let mut pieces: Vec<String> = if query.is_empty() {
                    Vec::new()
                } else {
                    query.split('&').map(str::to_owned).collect()
                };
                let candidates: Vec<usize> = (0..pieces.len())
                    .filter(|&i| !pieces[i].is_empty() && !is_signature_param(&pieces[i]))
                    .collect();
                if candidates.is_empty() {
                    pieces.push("z=z".to_owned());
                } else {
                    let piece = &mut pieces[candidates[pick % candidates.len()]];
                    piece.push_str(if piece.contains('=') { "z" } else { "=z" });
                }
                request.target = join_target(path, &pieces.join("&"));
            }
            Mutation::SignedHeader => {
                // The host and the generated headers are all signed; which
                // of them changes, and which occurrence of a repeated one,
                // is up to `pick`.
                let candidates: Vec<usize> = (0..request.headers.len())
                    .filter(|&i| {
                        let name = request.headers[i].0.to_ascii_lowercase();
                        !name.starts_with("x-amz-") && name != "authorization"
                    })
                    .collect();
                let index = candidates[pick % candidates.len()];
                request.headers[index].1.push(b'z');
            }
            Mutation::Body => {
                if request.body.is_empty() {
                    request.body.push(b'z');
                } else {
                    let index = pick % request.body.len();
                    request.body[index] ^= 0x01;
                }
            }
            Mutation::Timestamp => {
                // One second later, or earlier at the end of a day: the
                // scope date must still match.
                let shifted = if case.epoch % 86_400 == 86_399 {
                    case.epoch - 1
                } else {
                    case.epoch + 1
                };
                let timestamp = format_basic(shifted);
                if case.presigned {
                    set_query_param(&mut request, "X-Amz-Date", &timestamp);
                } else {
                    *header_mut(&mut request, "x-amz-date") = timestamp.into_bytes();
                }
            }
            Mutation::ScopeDate => {
                let next_day = format_basic(case.epoch + 86_400)[..8].to_owned();
                rewrite_credential(&mut request, case.presigned, |parts| {
                    parts[1] = next_day.clone();
                });
            }
            Mutation::ScopeRegion => {
                let other = REGIONS.iter().find(|r| **r != case.region).unwrap();
                rewrite_credential(&mut request, case.presigned, |parts| {
                    parts[2] = (*other).to_owned();
                });
            }
            Mutation::ScopeService => {
                let other = SERVICES.iter().find(|s| **s != case.service).unwrap();
                rewrite_credential(&mut request, case.presigned, |parts| {
                    parts[3] = (*other).to_owned();
                });
            }
            Mutation::UnknownKey => {
                rewrite_credential(&mut request, case.presigned, |parts| {
                    parts[0] = "AKIAUNKNOWNKEY000000".to_owned();
                });
            }
            Mutation::WrongSecret => {
                secret.push('x');
            }
        }
        (request, secret)
    }
}

// ---- generation -----------------------------------------------------------------

/// Text with unicode, reserved and unreserved characters.
fn text(max: usize) -> impl Strategy<Value = String> {
    let character = prop_oneof![
        3 => prop::sample::select(
            "abcXYZ019-_.~ !\"#$%&'()*+,/:;<=>?@[\\]^`{|}".chars().collect::<Vec<_>>()
        ),
        1 => any::<char>(),
        1 => prop::sample::select(vec!['é', 'ሴ', '中', '😀', '\u{0}', '\u{7f}', '\u{a0}']),
    ];
    prop::collection::vec(character, 0..=max).prop_map(|chars| chars.into_iter().collect())
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => text(8),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ]
}

fn query_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => text(6).prop_filter("signature parameters are the signer's", |name| {
            !name.to_ascii_lowercase().starts_with("x-amz-")
        }),
        // Repeated names, in both orders of their values.
        1 => prop::sample::select(vec!["a".to_owned(), "Param".to_owned(), "param".to_owned()]),
    ]
}

const RESERVED_HEADERS: &[&str] = &[
    "host",
    "authorization",
    "user-agent",
    "transfer-encoding",
    "x-amzn-trace-id",
];

fn header_name() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => "[a-z][a-z0-9-]{0,12}".prop_filter("names the signer owns or skips", |name| {
            !name.starts_with("x-amz-") && !RESERVED_HEADERS.contains(&name.as_str())
        }),
        // Repeated names.
        2 => prop::sample::select(vec![
            "content-type".to_owned(),
            "accept".to_owned(),
            "my-header1".to_owned(),
        ]),
    ];
    (name, any::<u64>()).prop_map(|(name, bits)| with_case(&name, bits))
}

/// Printable ASCII words separated by runs of spaces, maybe padded with spaces.
fn header_value() -> impl Strategy<Value = String> {
    (
        " {0,2}",
        prop::collection::vec(("[!-~]{1,8}", " {1,4}"), 0..4),
        " {0,2}",
    )
        .prop_map(|(lead, words, trail)| {
            let mut value = lead;
            for (index, (word, gap)) in words.iter().enumerate() {
                if index > 0 {
                    value.push_str(gap);
                }
                value.push_str(word);
            }
            value.push_str(&trail);
            value
        })
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(METHODS).prop_map(str::to_owned),
        1 => "[A-Z]{3,10}",
    ]
}

prop_compose! {
    fn request_parts()(
        method in method(),
        segments in prop::collection::vec(segment(), 0..6),
        trailing_slash in any::<bool>(),
        query in prop::collection::vec(
            (query_name(), prop::option::weighted(0.85, text(8))),
            0..6,
        ),
        raw_mask in any::<u16>(),
        lower_hex in prop::bool::weighted(0.2),
        host in prop::sample::select(HOSTS),
        host_position in any::<usize>(),
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
        body in prop_oneof![
            2 => Just(Vec::new()),
            3 => prop::collection::vec(any::<u8>(), 1..200),
        ],
    ) -> (String, Vec<String>, bool, Vec<(String, Option<String>)>, u16, bool, String, usize, Vec<(String, String)>, Vec<u8>) {
        (method, segments, trailing_slash, query, raw_mask, lower_hex, host.to_owned(), host_position, headers, body)
    }
}

prop_compose! {
    fn case()(
        (method, segments, trailing_slash, query, raw_mask, lower_hex, host, host_position, headers, body)
            in request_parts(),
        presigned in any::<bool>(),
        expires in prop_oneof![Just(1u64), Just(604_800u64), 1u64..=604_800],
        content_sha256_header in any::<bool>(),
        token in prop::option::of("[A-Za-z0-9+/=]{16,300}"),
        token_signed in prop::bool::weighted(0.75),
        name_case in any::<u8>(),
        // 2000-01-01 to 2099-12-31, with day ends now and then.
        epoch in prop_oneof![
            8 => 946_684_800i64..4_102_444_799,
            1 => (10_957i64..47_481).prop_map(|day| day * 86_400 + 86_399),
        ],
        region in prop::sample::select(REGIONS),
        service in prop::sample::select(SERVICES),
        key_suffix in "[A-Z2-7]{16}",
        secret in "[A-Za-z0-9/+]{40}",
    ) -> Case {
        let access_key = format!("{}{key_suffix}", if token.is_some() { "ASIA" } else { "AKIA" });
        Case {
            method, segments, trailing_slash, query, raw_mask, lower_hex, host, host_position,
            headers, body, presigned, expires, content_sha256_header, token, token_signed,
            name_case, epoch, region: region.to_owned(), service: service.to_owned(),
            access_key, secret,
        }
    }
}

fn describe(case: &Case, signed: &Signed, request: &OwnedRequest) -> String {
    format!(
        "case: {case:#?}\naws-sigv4 signature: {}\nrequest: {} {}\nheaders: {:?}\nbody: {:?}\n{}",
        signed.signature,
        request.method,
        request.target,
        request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), String::from_utf8_lossy(v)))
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&request.body),
        explain(case, request),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn requests_signed_by_aws_sigv4_verify(case in case()) {
        let signed = case.sign();
        match verify(&case, &signed.request, &case.secret) {
            Ok((identity, mode, signed_at)) => {
                prop_assert_eq!(identity, case.access_key.clone());
                let expected_mode = if case.presigned { AuthMode::Query } else { AuthMode::Header };
                prop_assert_eq!(mode, expected_mode);
                prop_assert_eq!(signed_at, case.epoch);
            }
            Err(error) => prop_assert!(
                false,
                "a request aws-sigv4 signed was rejected: {error:?}\n{}",
                describe(&case, &signed, &signed.request)
            ),
        }
    }

    #[test]
    fn changing_any_signed_part_fails_with_the_right_error(case in case(), pick in any::<usize>()) {
        let signed = case.sign();
        for &mutation in MUTATIONS {
            let (request, secret) = mutation.apply(&case, &signed.request, pick);
            match verify(&case, &request, &secret) {
                Ok(_) => prop_assert!(
                    false,
                    "{mutation:?}: the changed request still verifies\n{}",
                    describe(&case, &signed, &request)
                ),
                Err(error) => prop_assert_eq!(
                    error.kind(),
                    mutation.expected(),
                    "{:?}: {}\n{}",
                    mutation,
                    error,
                    describe(&case, &signed, &request)
                ),
            }
        }
    }
}
