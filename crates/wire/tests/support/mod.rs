//! Shared helpers for the protocol-vector tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `../shared/testdata/<relative>`, from the repository root.
pub fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(relative)
}

/// The suites of one botocore-format protocol test file.
pub fn load_suites(relative: &str) -> Vec<Value> {
    let path = testdata(&format!("aws-models/protocol-tests/{relative}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_str(&text).unwrap() {
        Value::Array(suites) => suites,
        other => panic!("unexpected top level: {other}"),
    }
}

/// Shape lookup within one suite.
pub struct Shapes<'a>(pub &'a serde_json::Map<String, Value>);

impl<'a> Shapes<'a> {
    pub fn get(&self, name: &str) -> &'a Value {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no shape {name}"))
    }

    /// The shape a member reference points to.
    pub fn target(&self, member_ref: &Value) -> &'a Value {
        self.get(member_ref["shape"].as_str().unwrap())
    }
}

pub fn shape_type(shape: &Value) -> &str {
    shape["type"].as_str().unwrap()
}

pub fn location_name<'v>(member_ref: &'v Value, default: &'v str) -> &'v str {
    member_ref
        .get("locationName")
        .and_then(Value::as_str)
        .unwrap_or(default)
}

pub fn flattened(member_ref: &Value, shape: &Value) -> bool {
    member_ref
        .get("flattened")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || shape
            .get("flattened")
            .and_then(Value::as_bool)
            .unwrap_or(false)
}

/// Every case of a suite file as `(suite, case)`.
pub fn cases(suites: &[Value]) -> Vec<(&Value, &Value)> {
    suites
        .iter()
        .flat_map(|suite| {
            suite["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |case| (suite, case))
        })
        .collect()
}

pub fn case_id(case: &Value) -> &str {
    case["id"].as_str().unwrap()
}
