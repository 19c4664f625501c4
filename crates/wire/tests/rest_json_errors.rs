#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! REST-JSON error vectors (`protocol-tests/output/rest-json.json`, every
//! case with an `errorCode`), run from the server side.
//!
//! The vectors show the many forms a client must accept (`x-amzn-ErrorType`
//! with a `:uri` suffix or `namespace#` prefix, `code` or `__type` in the
//! body). A server needs to produce only one of them, so for each case we
//! build our error for the same code, status, message and members, run both
//! responses through the error-code resolution every smithy client applies,
//! and require the same outcome.

mod support;

use iamgate_wire::RestJsonError;
use iamgate_wire::json::CONTENT_TYPE;
use serde_json::{Map, Value};
use support::{Shapes, case_id, cases, load_suites, location_name};

/// Smithy's client-side error-code sanitising: drop anything after `:`,
/// then anything up to and including `#`.
fn sanitize(raw: &str) -> &str {
    let before_colon = raw.split(':').next().unwrap();
    before_colon.rsplit('#').next().unwrap()
}

/// What a REST-JSON client concludes from a response: the error code
/// (header first, then `code`, then `__type`) and the message (`message`
/// or `Message`).
fn client_view(headers: &[(String, String)], body: &Value) -> (Option<String>, Option<String>) {
    let header = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amzn-errortype"))
        .map(|(_, v)| v.as_str());
    let code = header
        .or_else(|| body.get("code").and_then(Value::as_str))
        .or_else(|| body.get("__type").and_then(Value::as_str))
        .map(|c| sanitize(c).to_owned());
    let message = body
        .get("message")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    (code, message)
}

/// Applies `jsonName`-style renames (`locationName` in botocore JSON) to a
/// structure value.
fn wire_json(shapes: &Shapes, shape: &Value, value: &Value) -> Value {
    match (shape["type"].as_str().unwrap(), value) {
        ("structure", Value::Object(members)) => {
            let mut out = Map::new();
            for (name, v) in members {
                let mref = &shape["members"][name];
                out.insert(
                    location_name(mref, name).to_owned(),
                    wire_json(shapes, shapes.target(mref), v),
                );
            }
            Value::Object(out)
        }
        _ => value.clone(),
    }
}

fn body_members_without_message_or_code(body: &Value) -> Map<String, Value> {
    body.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "message" | "Message" | "code" | "__type"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_rest_json_error_vector_resolves_identically_from_our_response() {
    let suites = load_suites("output/rest-json.json");
    let mut checked = Vec::new();
    for (suite, case) in cases(&suites) {
        let Some(code) = case.get("errorCode").and_then(Value::as_str) else {
            continue;
        };
        let id = case_id(case);
        let shapes = Shapes(suite["shapes"].as_object().unwrap());
        let error_shape = shapes.get(case["given"]["errors"][0]["shape"].as_str().unwrap());
        let status =
            u16::try_from(error_shape["error"]["httpStatusCode"].as_u64().unwrap()).unwrap();
        let expected_status = case["response"]["status_code"].as_u64().unwrap();
        assert_eq!(u64::from(status), expected_status, "{id}");

        // Our response for the same error.
        let message = case.get("errorMessage").and_then(Value::as_str);
        let mut ours = match message {
            Some(m) => RestJsonError::new(code.to_owned(), status, m),
            None => RestJsonError::without_message(code.to_owned(), status),
        };
        for (name, value) in case["error"].as_object().unwrap() {
            let mref = &error_shape["members"][name];
            if name == "Message" {
                continue;
            }
            if mref.get("location").and_then(Value::as_str) == Some("header") {
                ours = ours.with_header(location_name(mref, name), value.as_str().unwrap());
            } else {
                ours = ours.with_field(
                    location_name(mref, name),
                    wire_json(&shapes, shapes.target(mref), value),
                );
            }
        }
        let our_headers: Vec<(String, String)> = ours
            .headers()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .chain([("Content-Type".to_owned(), CONTENT_TYPE.to_owned())])
            .collect();
        let our_body: Value = serde_json::from_str(&ours.body()).unwrap();
        assert!(
            !ours.body().contains(": "),
            "{id}: body must be compact: {}",
            ours.body()
        );

        // The vector's response.
        let their_headers: Vec<(String, String)> = case["response"]["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let their_body: Value = case["response"]
            .get("body")
            .and_then(Value::as_str)
            .map(|b| serde_json::from_str(b).unwrap())
            .unwrap_or(Value::Object(Map::new()));

        let (our_code, our_message) = client_view(&our_headers, &our_body);
        let (their_code, their_message) = client_view(&their_headers, &their_body);
        assert_eq!(our_code.as_deref(), Some(code), "{id}");
        assert_eq!(our_code, their_code, "{id}");
        assert_eq!(our_message, their_message, "{id}");
        assert_eq!(
            body_members_without_message_or_code(&our_body),
            body_members_without_message_or_code(&their_body),
            "{id}"
        );
        // Headers bound to error members must be there too.
        for (name, value) in &their_headers {
            if name.eq_ignore_ascii_case("x-amzn-errortype")
                || name.eq_ignore_ascii_case("content-type")
            {
                continue;
            }
            assert!(
                our_headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value),
                "{id}: missing header {name}"
            );
        }
        // We always send the bare code in the header, never the decorated forms.
        assert_eq!(ours.error_type(), Some(code), "{id}");
        checked.push(id.to_owned());
    }
    assert_eq!(
        checked.len(),
        12,
        "rest-json output error vectors: {checked:?}"
    );
}

#[test]
fn client_resolution_matches_the_documented_rules() {
    assert_eq!(sanitize("FooError"), "FooError");
    assert_eq!(
        sanitize("FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/"),
        "FooError"
    );
    assert_eq!(
        sanitize(
            "aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/"
        ),
        "FooError"
    );
}
