//! Conformance with AWS's published SigV4 test suites and with requests
//! captured from real clients: every one must verify, and the canonical
//! request and string to sign must match the suites byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::fs;
use std::path::Path;

use iamgate_sigv4::{
    HttpRequest, ServiceRules, Surface, Verifier, peek_service, time::parse_basic,
};
use serde_json::Value;
use support::*;

struct SuiteCase {
    name: String,
    region: String,
    service: String,
    now: i64,
    normalize: bool,
    token: Option<String>,
}

fn read_context(dir: &Path) -> SuiteCase {
    let context: Value =
        serde_json::from_slice(&fs::read(dir.join("context.json")).unwrap()).unwrap();
    let credentials = &context["credentials"];
    assert_eq!(credentials["access_key_id"], SUITE_KEY);
    assert_eq!(credentials["secret_access_key"], SUITE_SECRET);
    let timestamp = context["timestamp"]
        .as_str()
        .unwrap()
        .replace(['-', ':'], "");
    SuiteCase {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        region: context["region"].as_str().unwrap().to_owned(),
        service: context["service"].as_str().unwrap().to_owned(),
        now: parse_basic(&timestamp).unwrap(),
        normalize: context["normalize"].as_bool().unwrap(),
        token: credentials["token"].as_str().map(str::to_owned),
    }
}

fn suite_verifier(case: &SuiteCase) -> Verifier {
    let mut rules = ServiceRules::for_service(&case.service, Surface::Query);
    rules.tunables.normalize_uri_path = case.normalize;
    Verifier::new(rules)
}

fn read_text(path: &Path) -> String {
    String::from_utf8(fs::read(path).unwrap()).unwrap()
}

fn check_suite_form(dir: &Path, case: &SuiteCase, form: &str) {
    let request =
        parse_http_file(&fs::read(dir.join(format!("{form}-signed-request.txt"))).unwrap());
    let headers = request.header_refs();
    let view = request.view(&headers);
    let verifier = suite_verifier(case);
    let keys = FixedKeys::default().with(SUITE_KEY, SUITE_SECRET, case.token.as_deref());

    if let Err(error) = verifier.verify_in_region(&view, &keys, case.now, &case.region) {
        panic!("{} ({form}): {error}", case.name);
    }

    // Where the token was added after signing, the suite's canonical request
    // is the one without it; the verifier's explanation shows the other.
    let token_added_later =
        case.token.is_some() && form == "query" && case.name == "post-sts-header-after";
    if !token_added_later {
        let explained = verifier.explain(&view).unwrap();
        assert_eq!(
            explained.canonical_request,
            read_text(&dir.join(format!("{form}-canonical-request.txt"))),
            "{} ({form}) canonical request",
            case.name
        );
        assert_eq!(
            explained.string_to_sign,
            read_text(&dir.join(format!("{form}-string-to-sign.txt"))),
            "{} ({form}) string to sign",
            case.name
        );
    }
}

#[test]
fn every_v4_suite_case_verifies_in_header_and_query_form() {
    let root = testdata("sigv4/aws-signing-test-suite/v4");
    let mut cases = 0;
    for entry in fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let case = read_context(&dir);
        check_suite_form(&dir, &case, "header");
        check_suite_form(&dir, &case, "query");
        cases += 1;
    }
    assert_eq!(cases, 38, "the suite has 38 cases");
}

fn sreq_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sreq_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sreq") {
            out.push(path);
        }
    }
}

/// The older suite's `.sreq` files carry the `.authz` header, except one:
/// `get-vanilla-with-session-token.sreq` has get-vanilla's signature while its
/// `.authz` has the right one. The request is therefore verified with the
/// `.authz` header, and that one `.sreq` as it stands must fail.
#[test]
fn every_aws4_testsuite_request_verifies_and_explains_as_its_creq() {
    let mut files = Vec::new();
    sreq_files(&testdata("sigv4/aws4_testsuite"), &mut files);
    assert_eq!(files.len(), 34);
    let now = parse_basic("20150830T123600Z").unwrap();
    let verifier = Verifier::new(ServiceRules::for_service("service", Surface::Query));
    let mut inconsistent = Vec::new();
    for file in files {
        let mut request = parse_http_file(&fs::read(&file).unwrap());
        let authz = read_text(&file.with_extension("authz"));
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case("authorization") {
                *value = authz.trim_end().as_bytes().to_vec();
            }
        }
        let headers = request.header_refs();
        let view = request.view(&headers);
        let token = request.header("X-Amz-Security-Token");
        let keys = FixedKeys::default().with(SUITE_KEY, SUITE_SECRET, token);
        if let Err(error) = verifier.verify(&view, &keys, now) {
            panic!("{}: {error}", file.display());
        }
        let explained = verifier.explain(&view).unwrap();
        assert_eq!(
            explained.canonical_request,
            read_text(&file.with_extension("creq")),
            "{}",
            file.display()
        );
        assert_eq!(
            explained.string_to_sign,
            read_text(&file.with_extension("sts")),
            "{}",
            file.display()
        );

        let signed = parse_http_file(&fs::read(&file).unwrap());
        let signed_headers = signed.header_refs();
        if verifier
            .verify(&signed.view(&signed_headers), &keys, now)
            .is_err()
        {
            inconsistent.push(file.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(inconsistent, ["get-vanilla-with-session-token"]);
}

/// The keys the captures were signed with (see the captures' README).
fn capture_keys() -> FixedKeys {
    FixedKeys::default()
        .with(SUITE_KEY, SUITE_SECRET, None)
        .with("ASIAEXAMPLE", "secretEXAMPLE", Some("tokenEXAMPLE"))
}

fn capture_surface(service: &str) -> Surface {
    match service {
        "sts" | "iam" => Surface::Query,
        "execute-api" => Surface::ExecuteApi,
        _ => Surface::RestJson,
    }
}

#[test]
fn every_real_client_capture_verifies_with_its_own_clock() {
    let mut verified = 0;
    for client in ["awscli", "boto3", "awscurl", "node"] {
        let text = read_text(&testdata(&format!("client-captures/{client}.jsonl")));
        for line in text.lines() {
            let capture: Value = serde_json::from_str(line).unwrap();
            let headers: Vec<(String, Vec<u8>)> = capture["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().as_bytes().to_vec(),
                    )
                })
                .collect();
            let request = OwnedRequest {
                method: capture["method"].as_str().unwrap().to_owned(),
                target: capture["path"].as_str().unwrap().to_owned(),
                headers,
                body: capture["body"].as_str().unwrap_or("").as_bytes().to_vec(),
            };
            let refs = request.header_refs();
            let view: HttpRequest<'_> = request.view(&refs);
            let service = peek_service(&view).expect("every capture names its service");
            let signed_at = request
                .header("x-amz-date")
                .map(str::to_owned)
                .or_else(|| {
                    view.query
                        .split('&')
                        .find_map(|p| p.strip_prefix("X-Amz-Date=").map(str::to_owned))
                })
                .unwrap();
            let now = parse_basic(&signed_at).unwrap() + 30;
            // The awscli capture with a session token used a key of its own.
            let mut keys = capture_keys();
            if let Some(token) = request.header("x-amz-security-token")
                && request
                    .header("authorization")
                    .is_some_and(|a| a.contains(SUITE_KEY))
            {
                keys = FixedKeys::default().with(SUITE_KEY, SUITE_SECRET, Some(token));
            }
            let verifier = Verifier::new(ServiceRules::for_service(
                &service,
                capture_surface(&service),
            ));
            if let Err(error) = verifier.verify(&view, &keys, now) {
                panic!("{client} {} {}: {error}", request.method, request.target);
            }
            verified += 1;
        }
    }
    assert_eq!(verified, 23, "the captures hold 23 requests");
}
