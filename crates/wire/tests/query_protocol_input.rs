#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The awsQuery request vectors (`protocol-tests/input/query.json`), run
//! backwards: each case's serialized body must decode into its `params`.
//!
//! The decoder is model-free, so the test supplies the model: a small
//! shape-driven walk turns a [`Scope`] into a JSON value using only the
//! crate's public accessors (lists, flattened lists, renamed members, maps,
//! nested structures and every scalar type). If a flattening rule were wrong,
//! the walk would find nothing where the vector says a value is.

mod support;

use std::collections::BTreeSet;

use iamgate_wire::Timestamp;
use iamgate_wire::query::{ListStyle, MapStyle, QueryParams, Scope};
use serde_json::{Map, Value};
use support::{Shapes, case_id, cases, flattened, load_suites, location_name, shape_type};

/// Cases that test a client-side concern only, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "QueryProtocolIdempotencyTokenAutoFill",
        "the client invents the idempotency token; params are empty while the body carries one",
    ),
    (
        "SDKAppliedContentEncoding_awsQuery",
        "request compression is applied by the client; the vector has no serialized body",
    ),
    (
        "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery",
        "request compression and Content-Encoding handling are client-side; no serialized body",
    ),
];

fn timestamp_json(t: Timestamp) -> Value {
    if t.epoch_millis() % 1000 == 0 {
        Value::from(t.epoch_seconds())
    } else {
        Value::from(t.epoch_millis() as f64 / 1000.0)
    }
}

fn float_json(f: f64) -> Value {
    if f.is_nan() {
        Value::from("NaN")
    } else if f == f64::INFINITY {
        Value::from("Infinity")
    } else if f == f64::NEG_INFINITY {
        Value::from("-Infinity")
    } else {
        Value::from(f)
    }
}

/// Decodes the value living exactly at `scope` (a member, list item or map
/// value) according to `shape`; `member_ref` carries member-level traits.
fn decode_value(
    shapes: &Shapes,
    scope: &Scope,
    member_ref: &Value,
    shape: &Value,
) -> Option<Value> {
    match shape_type(shape) {
        "structure" => {
            if !scope.is_present() {
                return None;
            }
            let mut out = Map::new();
            for (name, mref) in shape["members"].as_object().unwrap() {
                let target = shapes.target(mref);
                let loc = location_name(mref, name);
                if let Some(v) = decode_member(shapes, scope, loc, mref, target) {
                    out.insert(name.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        "list" => decode_list(shapes, scope, member_ref, shape),
        "map" => decode_map(shapes, scope, member_ref, shape),
        "string" => scope.value().map(Value::from),
        "boolean" => scope.value_bool().unwrap().map(Value::from),
        "integer" | "long" | "short" | "byte" => scope.value_i64().unwrap().map(Value::from),
        "float" | "double" => scope.value_f64().unwrap().map(float_json),
        "blob" => scope
            .value_blob()
            .unwrap()
            .map(|b| Value::from(String::from_utf8(b).unwrap())),
        "timestamp" => {
            let format = member_ref
                .get("timestampFormat")
                .or_else(|| shape.get("timestampFormat"))
                .and_then(Value::as_str);
            let t = match format {
                Some("unixTimestamp") => scope.value_epoch_timestamp().unwrap(),
                None | Some("iso8601") => scope.value_timestamp().unwrap(),
                Some(other) => panic!("timestamp format {other} not used by awsQuery inputs"),
            };
            t.map(timestamp_json)
        }
        other => panic!("shape type {other} not handled"),
    }
}

/// Decodes member `loc` of the structure at `scope`.
fn decode_member(
    shapes: &Shapes,
    scope: &Scope,
    loc: &str,
    mref: &Value,
    shape: &Value,
) -> Option<Value> {
    decode_value(shapes, &scope.child(loc), mref, shape)
}

fn decode_list(shapes: &Shapes, scope: &Scope, mref: &Value, shape: &Value) -> Option<Value> {
    let item_ref = &shape["member"];
    let style = if flattened(mref, shape) {
        ListStyle::Flattened
    } else {
        ListStyle::Wrapped(location_name(item_ref, "member"))
    };
    let items = scope.items(style);
    if items.is_empty() && scope.value().is_none() {
        return None;
    }
    let item_shape = shapes.target(item_ref);
    Some(Value::Array(
        items
            .iter()
            .map(|item| decode_value(shapes, item, item_ref, item_shape).unwrap())
            .collect(),
    ))
}

fn decode_map(shapes: &Shapes, scope: &Scope, mref: &Value, shape: &Value) -> Option<Value> {
    let style = MapStyle {
        flattened: flattened(mref, shape),
        key: location_name(&shape["key"], "key"),
        value: location_name(&shape["value"], "value"),
    };
    let entries = scope.entries(style);
    if entries.is_empty() {
        return None;
    }
    let value_ref = &shape["value"];
    let value_shape = shapes.target(value_ref);
    let mut out = Map::new();
    for (k, v) in entries {
        let value = decode_value(shapes, &v, value_ref, value_shape).unwrap();
        out.insert(k.required_value().unwrap().to_owned(), value);
    }
    Some(Value::Object(out))
}

/// Empty maps are not serialized at all by awsQuery clients, so on the
/// server an empty map and an absent one are the same request.
fn drop_empty_maps(params: &Value) -> Value {
    match params {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !matches!(v, Value::Object(inner) if inner.is_empty()))
                .map(|(k, v)| (k.clone(), drop_empty_maps(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn every_query_input_vector_decodes_to_its_params() {
    let suites = load_suites("input/query.json");
    let mut passed = Vec::new();
    let mut skipped = BTreeSet::new();
    for (suite, case) in cases(&suites) {
        let id = case_id(case);
        if SKIPPED.iter().any(|(s, _)| *s == id) {
            skipped.insert(id.to_owned());
            continue;
        }
        let body = case["serialized"]["body"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: no body"));
        let params =
            QueryParams::decode(b"", body.as_bytes()).unwrap_or_else(|e| panic!("{id}: {e}"));

        let version = suite["metadata"]["apiVersion"].as_str().unwrap();
        let op = case["given"]["name"].as_str().unwrap();
        assert_eq!(params.operation(version, &[op]).unwrap(), op, "{id}");

        let shapes = Shapes(suite["shapes"].as_object().unwrap());
        let decoded = match case["given"].get("input") {
            Some(input) => {
                let shape = shapes.target(input);
                let mut out = Map::new();
                let root = params.root();
                for (name, mref) in shape["members"].as_object().unwrap() {
                    let loc = location_name(mref, name);
                    if let Some(v) = decode_member(&shapes, &root, loc, mref, shapes.target(mref)) {
                        out.insert(name.clone(), v);
                    }
                }
                Value::Object(out)
            }
            None => Value::Object(Map::new()),
        };
        assert_eq!(
            decoded,
            drop_empty_maps(&case["params"]),
            "{id}: body {body}"
        );
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
        "input/query.json has 38 cases"
    );
    assert_eq!(passed.len(), 35);
}

#[test]
fn query_input_vector_bodies_survive_reencoding() {
    // Decoding, re-encoding and decoding again must give the same map:
    // the canonical form loses nothing the operation could read.
    let suites = load_suites("input/query.json");
    for (_, case) in cases(&suites) {
        let Some(body) = case["serialized"]["body"].as_str() else {
            continue;
        };
        let once = QueryParams::decode(b"", body.as_bytes()).unwrap();
        let twice = QueryParams::decode(b"", once.to_form().as_bytes()).unwrap();
        assert_eq!(once, twice, "{}", case_id(case));
    }
}
