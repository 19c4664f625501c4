//! Feeds arbitrary text to the mapping-template parser and renders whatever
//! parses over a body taken from the same input (after the first NUL byte):
//! neither may panic, and the limits keep every run short.
#![no_main]

use iamgate_vtl::{Inputs, Limits, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, body) = text
        .split_once('\0')
        .unwrap_or((text, r#"{"a":[1,{"b":"c"}]}"#));
    let limits = Limits {
        max_work: 1_000_000,
        max_iterations: 10_000,
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    if let Ok(parsed) = Template::parse_with_limits(template, limits) {
        let inputs = Inputs {
            body: body.to_owned(),
            path: vec![("id".into(), "42".into())],
            querystring: vec![("q".into(), "x y".into())],
            header: vec![("Accept".into(), "*/*".into())],
            ..Inputs::default()
        };
        let _ = parsed.render(&inputs);
    }
});
