#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The awsQuery response vectors (`protocol-tests/output/query.json`), run
//! from the server side: encoding each case's `result` (or `error`) with the
//! crate's XML writer and envelopes must give a document that is the same
//! element tree as the expected `response.body` — the body SDKs are tested
//! to parse.
//!
//! Comparison is semantic: element names, attributes (namespace
//! declarations included), unescaped text and child order, ignoring the
//! indentation of the vectors. Two deliberate differences are accounted for:
//! our responses carry `<ResponseMetadata>` (as AWS's do; the vectors leave
//! it out) and our `<ErrorResponse>` carries the service namespace (AWS's do,
//! as real STS and IAM error responses show; the vectors leave it out).

mod support;

use std::collections::BTreeSet;

use iamgate_wire::xml::{XmlWriter, render_error_with, render_response};
use iamgate_wire::{AwsError, Timestamp};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use support::{
    Element, Shapes, case_id, cases, flattened, load_suites, location_name, parse_xml, shape_type,
};

const NAMESPACE: &str = "https://example.com/";
const REQUEST_ID: &str = "foo-id";

/// Cases that test a client-side concern only, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "AwsQueryDateTimeWithNegativeOffset",
        "clients must parse offset timestamps; a server always writes UTC with `Z`",
    ),
    (
        "AwsQueryDateTimeWithPositiveOffset",
        "clients must parse offset timestamps; a server always writes UTC with `Z`",
    ),
];

/// JSON with object members in document order: the vectors list map
/// entries in the order the XML shows them, and serde_json's `Value` sorts.
#[derive(Debug, Clone)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
                Ok(Ordered::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
                Ok(Ordered::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Ordered, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Ordered::Null, Ordered::Number))
            }
            fn visit_str<E>(self, s: &str) -> Result<Ordered, E> {
                Ok(Ordered::String(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Ordered::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(Ordered::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Ordered {
    fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Ordered::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Namespace declarations a member reference asks for.
fn namespace_attrs(member_ref: &Value) -> Vec<(String, String)> {
    match member_ref.get("xmlNamespace") {
        None => vec![],
        Some(Value::String(uri)) => vec![("xmlns".to_owned(), uri.clone())],
        Some(ns) => {
            let uri = ns["uri"].as_str().unwrap().to_owned();
            match ns.get("prefix").and_then(Value::as_str) {
                Some(prefix) => vec![(format!("xmlns:{prefix}"), uri)],
                None => vec![("xmlns".to_owned(), uri)],
            }
        }
    }
}

fn borrowed(attrs: &[(String, String)]) -> Vec<(&str, &str)> {
    attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn scalar_text(member_ref: &Value, shape: &Value, value: &Ordered) -> String {
    match (shape_type(shape), value) {
        ("string", Ordered::String(s)) => s.clone(),
        ("boolean", Ordered::Bool(b)) => b.to_string(),
        ("integer" | "long" | "short" | "byte", Ordered::Number(n)) => {
            n.as_i64().unwrap().to_string()
        }
        ("float" | "double", Ordered::Number(n)) => n.as_f64().unwrap().to_string(),
        ("float" | "double", Ordered::String(s)) => s.clone(), // NaN, Infinity, -Infinity
        ("blob", Ordered::String(s)) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
        }
        ("timestamp", Ordered::Number(n)) => {
            let t = Timestamp::from_epoch_millis((n.as_f64().unwrap() * 1000.0).round() as i64);
            let format = member_ref
                .get("timestampFormat")
                .or_else(|| shape.get("timestampFormat"))
                .and_then(Value::as_str);
            match format {
                None | Some("iso8601") => t.to_iso8601(),
                Some("unixTimestamp") => t.epoch_seconds().to_string(),
                Some("rfc822") => t.to_http_date(),
                Some(other) => panic!("timestamp format {other}"),
            }
        }
        (ty, v) => panic!("cannot encode {v:?} as {ty}"),
    }
}

/// Writes the value of one member (or list item / map value) as element `name`.
fn write_value(
    w: &mut XmlWriter,
    shapes: &Shapes,
    name: &str,
    member_ref: &Value,
    value: &Ordered,
) {
    let shape = shapes.target(member_ref);
    let attrs = namespace_attrs(member_ref);
    match shape_type(shape) {
        "structure" => w.nest_with_attrs(name, &borrowed(&attrs), |w| {
            write_members(w, shapes, shape, value)
        }),
        "list" => {
            let Ordered::Array(items) = value else {
                panic!("list value {value:?}")
            };
            let item_ref = &shape["member"];
            if flattened(member_ref, shape) {
                for item in items {
                    write_value(w, shapes, name, item_ref, item);
                }
            } else {
                let item_name = location_name(item_ref, "member");
                if item_name == "member"
                    && attrs.is_empty()
                    && item_ref.get("xmlNamespace").is_none()
                {
                    w.list(name, items, |w, item| {
                        write_content(w, shapes, item_ref, item)
                    });
                } else {
                    w.nest_with_attrs(name, &borrowed(&attrs), |w| {
                        for item in items {
                            write_value(w, shapes, item_name, item_ref, item);
                        }
                    });
                }
            }
        }
        "map" => {
            let Ordered::Object(entries) = value else {
                panic!("map value {value:?}")
            };
            let (key_ref, value_ref) = (&shape["key"], &shape["value"]);
            let key_name = location_name(key_ref, "key");
            let value_name = location_name(value_ref, "value");
            let write_entry = |w: &mut XmlWriter, k: &String, v: &Ordered| {
                write_value(w, shapes, key_name, key_ref, &Ordered::String(k.clone()));
                write_value(w, shapes, value_name, value_ref, v);
            };
            if flattened(member_ref, shape) {
                for (k, v) in entries {
                    w.nest_with_attrs(name, &borrowed(&attrs), |w| write_entry(w, k, v));
                }
            } else {
                w.nest_with_attrs(name, &borrowed(&attrs), |w| {
                    for (k, v) in entries {
                        w.nest("entry", |w| write_entry(w, k, v));
                    }
                });
            }
        }
        _ => w.element_with_attrs(
            name,
            &borrowed(&attrs),
            &scalar_text(member_ref, shape, value),
        ),
    }
}

/// Writes the content of a `<member>` element.
fn write_content(w: &mut XmlWriter, shapes: &Shapes, member_ref: &Value, value: &Ordered) {
    let shape = shapes.target(member_ref);
    match shape_type(shape) {
        "structure" => write_members(w, shapes, shape, value),
        "list" | "map" => {
            // A nested collection: write it under a throwaway element and
            // splice its children, so the same layout rules apply.
            let mut inner = XmlWriter::new();
            write_value(&mut inner, shapes, "x", member_ref, value);
            let tree = parse_xml(inner.as_str());
            for child in tree.children {
                write_tree(w, &child);
            }
        }
        _ => w.text(&scalar_text(member_ref, shape, value)),
    }
}

fn write_tree(w: &mut XmlWriter, el: &Element) {
    let attrs: Vec<(String, String)> = el.attrs.clone().into_iter().collect();
    w.nest_with_attrs(&el.name, &borrowed(&attrs), |w| {
        w.text(&el.text);
        for c in &el.children {
            write_tree(w, c);
        }
    });
}

/// Writes a structure's members in the order the value lists them.
fn write_members(w: &mut XmlWriter, shapes: &Shapes, shape: &Value, value: &Ordered) {
    let Ordered::Object(members) = value else {
        panic!("structure value {value:?}")
    };
    for (name, v) in members {
        let member_ref = &shape["members"][name];
        assert!(!member_ref.is_null(), "no member {name}");
        write_value(w, shapes, location_name(member_ref, name), member_ref, v);
    }
}

fn load_ordered_cases() -> Vec<(String, Ordered)> {
    let path = support::testdata("aws-models/protocol-tests/output/query.json");
    let text = std::fs::read_to_string(path).unwrap();
    let Ordered::Array(suites) = serde_json::from_str::<Ordered>(&text).unwrap() else {
        panic!()
    };
    let mut out = Vec::new();
    for suite in &suites {
        let Some(Ordered::Array(cs)) = suite.get("cases") else {
            panic!()
        };
        for c in cs {
            out.push((c.get("id").unwrap().as_str().unwrap().to_owned(), c.clone()));
        }
    }
    out
}

#[test]
fn every_query_output_vector_encodes_to_its_body() {
    let suites = load_suites("output/query.json");
    let ordered = load_ordered_cases();
    let mut passed = Vec::new();
    let mut skipped = BTreeSet::new();
    for (suite, case) in cases(&suites) {
        let id = case_id(case);
        if SKIPPED.iter().any(|(s, _)| *s == id) {
            skipped.insert(id.to_owned());
            continue;
        }
        let ord = &ordered.iter().find(|(i, _)| i == id).unwrap().1;
        let shapes = Shapes(suite["shapes"].as_object().unwrap());
        let op = case["given"]["name"].as_str().unwrap();
        let expected_status = case["response"]["status_code"].as_u64().unwrap();

        if let Some(code) = case.get("errorCode").and_then(Value::as_str) {
            // An error case: the modelled error structure goes inside <Error>.
            let error_shape = shapes.get(case["given"]["errors"][0]["shape"].as_str().unwrap());
            let traits = error_shape.get("error");
            let status = traits
                .and_then(|t| t["httpStatusCode"].as_u64())
                .unwrap_or(400);
            let sender = traits
                .and_then(|t| t.get("senderFault"))
                .and_then(Value::as_bool)
                .unwrap_or(true);
            assert_eq!(status, expected_status, "{id}");
            let body = ord.get("error").unwrap();
            let message = body.get("Message").and_then(Ordered::as_str);
            let only_message = error_shape["members"].as_object().unwrap().len() == 1;
            let ours = match message {
                Some(message) if only_message => {
                    let mut err =
                        AwsError::new(code.to_owned(), u16::try_from(status).unwrap(), message);
                    err.sender_fault = sender;
                    err.to_query_xml(NAMESPACE, REQUEST_ID)
                }
                _ => {
                    let Ordered::Object(members) = body else {
                        panic!()
                    };
                    let rest: Vec<_> = members
                        .iter()
                        .filter(|(k, _)| k != "Message")
                        .cloned()
                        .collect();
                    render_error_with(NAMESPACE, code, message, sender, REQUEST_ID, |w| {
                        write_members(w, &shapes, error_shape, &Ordered::Object(rest));
                    })
                }
            };
            let mut ours = parse_xml(&ours);
            assert_eq!(
                ours.attrs.remove("xmlns").as_deref(),
                Some(NAMESPACE),
                "{id}"
            );
            let expected = parse_xml(case["response"]["body"].as_str().unwrap());
            assert_eq!(ours, expected, "{id}");
            passed.push(id.to_owned());
            continue;
        }

        assert_eq!(expected_status, 200, "{id}");
        let result = ord
            .get("result")
            .cloned()
            .unwrap_or(Ordered::Object(vec![]));
        let xml = match case["given"].get("output") {
            Some(output) => {
                let shape = shapes.target(output);
                render_response(NAMESPACE, op, REQUEST_ID, |w| {
                    write_members(w, &shapes, shape, &result)
                })
            }
            None => iamgate_wire::xml::render_response_without_result(NAMESPACE, op, REQUEST_ID),
        };
        let ours = parse_xml(&xml);
        assert_eq!(ours.name, format!("{op}Response"), "{id}");
        assert_eq!(
            ours.attrs.get("xmlns").map(String::as_str),
            Some(NAMESPACE),
            "{id}"
        );
        let metadata = ours
            .child("ResponseMetadata")
            .unwrap_or_else(|| panic!("{id}: no metadata"));
        assert_eq!(
            metadata.child("RequestId").unwrap().text,
            REQUEST_ID,
            "{id}"
        );
        let ours = ours.without_child("ResponseMetadata");
        match case["response"].get("body").and_then(Value::as_str) {
            Some(body) => assert_eq!(ours, parse_xml(body), "{id}\n{xml}"),
            None => {
                // No body expected: the SDK reads nothing, so nothing but an
                // empty result element may be there.
                assert!(
                    ours.children.iter().all(|c| c.name == format!("{op}Result")
                        && c.children.is_empty()
                        && c.text.is_empty()),
                    "{id}: {xml}"
                );
            }
        }
        passed.push(id.to_owned());
    }
    let expected_skips: BTreeSet<String> = SKIPPED.iter().map(|(s, _)| (*s).to_owned()).collect();
    assert_eq!(
        skipped, expected_skips,
        "the skip list must name exactly the skipped cases"
    );
    assert_eq!(
        passed.len() + skipped.len(),
        38,
        "output/query.json has 38 cases"
    );
    assert_eq!(passed.len(), 36);
}

#[test]
fn semantic_comparison_notices_differences() {
    // Guard against a comparator that would accept anything.
    let a = parse_xml("<R xmlns=\"n\"><a>1</a><b/></R>");
    assert_eq!(
        a,
        parse_xml("<R xmlns=\"n\">\n  <a>1</a>\n  <b></b>\n</R>\n")
    );
    assert_ne!(a, parse_xml("<R xmlns=\"n\"><b/><a>1</a></R>"));
    assert_ne!(a, parse_xml("<R xmlns=\"m\"><a>1</a><b/></R>"));
    assert_ne!(a, parse_xml("<R xmlns=\"n\"><a>2</a><b/></R>"));
    assert_ne!(a, parse_xml("<R xmlns=\"n\"><a>1</a><b/><c/></R>"));
    assert_eq!(parse_xml("<a>x &amp; &#x41;</a>").text, "x & A");
}
