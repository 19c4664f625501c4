#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The enumerations `iamgate_apimodel::input_model` enforces are exactly
//! those of AWS's `apigateway` service model
//! (`testdata/aws-models/apigateway/2015-07-09/service-2.json`).

use std::collections::BTreeSet;

use iamgate_apimodel::input_model::{ENUMERATIONS, STATUS_CODE_PATTERN};
use serde_json::Value;

fn model() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/aws-models/apigateway/2015-07-09/service-2.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_enumeration_holds_exactly_the_values_of_its_model_shape() {
    let model = model();
    for enumeration in ENUMERATIONS {
        let shape = &model["shapes"][enumeration.shape];
        let want: BTreeSet<&str> = shape["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{} is no enumeration", enumeration.shape))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got: BTreeSet<&str> = enumeration.values.iter().copied().collect();
        assert_eq!(got, want, "{}", enumeration.shape);
        assert_eq!(got.len(), enumeration.values.len(), "{}", enumeration.shape);
    }
}

#[test]
fn the_status_code_pattern_is_the_models() {
    assert_eq!(
        model()["shapes"]["StatusCode"]["pattern"].as_str(),
        Some(STATUS_CODE_PATTERN)
    );
}
