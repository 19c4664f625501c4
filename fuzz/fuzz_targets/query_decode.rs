//! Fuzzes the AWS Query decoder: form decoding, parameter merging, dispatch,
//! and the flattening accessors (lists, maps, nested structures, typed
//! scalars) must never panic, and whatever decodes must survive a re-encode.
#![no_main]

use iamgate_wire::query::{ListStyle, MapStyle, QueryParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses where the query string ends and the body begins.
    let (split, rest) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s).min(rest.len()), rest),
        None => (0, data),
    };
    let (query, body) = rest.split_at(split);
    let Ok(params) = QueryParams::decode(query, body) else {
        return;
    };
    let _ = params.operation("2010-05-08", &["ListUsers", "CreateRole", "TagRole"]);
    let root = params.root();
    let names: Vec<String> = params
        .iter()
        .filter_map(|(k, _)| k.split('.').next().map(str::to_owned))
        .collect();
    for name in &names {
        let _ = root.required_str(name);
        let _ = root.optional_i64(name);
        let _ = root.optional_bool(name);
        let _ = root.optional_f64(name);
        let _ = root.optional_timestamp(name);
        let _ = root.optional_blob(name);
        for item in root.list_items(name, ListStyle::MEMBER) {
            let _ = item.required_value();
            let _ = item.optional_list("member", |i| i.required_value().map(str::to_owned));
        }
        let _ = root.list_items(name, ListStyle::Flattened);
        for (k, v) in root.map_entries(name, MapStyle::ENTRY) {
            let _ = k.required_value();
            let _ = v.value_i64();
        }
        let _ = root.child(name).is_present();
    }
    let again = QueryParams::decode(b"", params.to_form().as_bytes());
    assert_eq!(again.ok().as_ref(), Some(&params));
});
