//! Feeds arbitrary bytes to the OpenAPI importer as a REST API, an HTTP API
//! and with the flavour left to the document: none may panic, and a
//! rejection always lists at least one problem.
#![no_main]

use iamgate_apimodel::openapi::{ApiFlavour, ImportOptions, import};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for flavour in [None, Some(ApiFlavour::Rest), Some(ApiFlavour::Http)] {
        let options = ImportOptions {
            flavour,
            lambda_endpoint: Some("http://127.0.0.1:3001".to_owned()),
        };
        match import(text, &options) {
            Ok(api) => {
                let _ = (api.methods.len(), api.routes.len(), api.warnings.len());
            }
            Err(error) => {
                assert!(!error.problems.is_empty());
                let _ = error.to_string();
            }
        }
    }
});
