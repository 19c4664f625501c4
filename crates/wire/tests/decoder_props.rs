#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Properties of the Query decoder: it never panics, whatever the bytes, and
//! what the encoder writes the decoder reads back unchanged — flat maps,
//! `member.N` lists of structures, `entry.N` maps and timestamps.

use std::collections::BTreeMap;

use iamgate_wire::Timestamp;
use iamgate_wire::form::encode_form;
use iamgate_wire::query::{ListStyle, MapStyle, QueryParams};
use proptest::prelude::*;

/// Bytes that look enough like a form body to reach deep into the decoder.
fn formish_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        "([A-Za-z]{1,3}(\\.(member|entry|key|value|[0-9]{1,2})){0,4}=[%+A-Za-z0-9.]{0,6}&){0,12}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoder_never_panics_on_arbitrary_input(query in formish_bytes(), body in formish_bytes(), name in "[A-Za-z]{1,3}") {
        if let Ok(params) = QueryParams::decode(&query, &body) {
            let _ = params.operation("2011-06-15", &["AssumeRole"]);
            let root = params.root();
            let _ = root.optional_i64(&name);
            let _ = root.optional_bool(&name);
            let _ = root.optional_f64(&name);
            let _ = root.optional_timestamp(&name);
            let _ = root.optional_epoch_timestamp(&name);
            let _ = root.optional_blob(&name);
            for item in root.list_items(&name, ListStyle::MEMBER) {
                let _ = item.value();
                let _ = item.items(ListStyle::Flattened);
                let _ = item.required_str("Key");
            }
            for (k, v) in root.map_entries(&name, MapStyle::ENTRY) {
                let _ = k.required_value();
                let _ = v.child(&name).is_present();
            }
            // Decoding what we re-encode gives the same parameters.
            let again = QueryParams::decode(b"", params.to_form().as_bytes()).unwrap();
            prop_assert_eq!(again, params);
        }
    }

    #[test]
    fn flat_parameter_maps_round_trip(map in proptest::collection::btree_map("\\PC{1,12}", "\\PC{0,24}", 0..16)) {
        let body = encode_form(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let decoded = QueryParams::decode(b"", body.as_bytes()).unwrap();
        let back: BTreeMap<String, String> = decoded.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(back, map);
    }

    #[test]
    fn tag_lists_and_maps_round_trip(
        tags in proptest::collection::vec(("\\PC{1,16}", "\\PC{0,16}"), 0..12),
        keys in proptest::collection::vec("\\PC{1,16}", 0..12),
        attrs in proptest::collection::btree_map("[a-z]{1,8}", "\\PC{0,16}", 0..6),
    ) {
        let mut pairs = Vec::new();
        for (i, (k, v)) in tags.iter().enumerate() {
            pairs.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
            pairs.push((format!("Tags.member.{}.Value", i + 1), v.clone()));
        }
        for (i, k) in keys.iter().enumerate() {
            pairs.push((format!("TransitiveTagKeys.member.{}", i + 1), k.clone()));
        }
        for (i, (k, v)) in attrs.iter().enumerate() {
            pairs.push((format!("Attrs.entry.{}.key", i + 1), k.clone()));
            pairs.push((format!("Attrs.entry.{}.value", i + 1), v.clone()));
        }
        let body = encode_form(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let params = QueryParams::decode(b"", body.as_bytes()).unwrap();
        let root = params.root();
        let got_tags = root
            .list("Tags", |t| Ok((t.required_str("Key")?.to_owned(), t.required_str("Value")?.to_owned())))
            .unwrap();
        prop_assert_eq!(got_tags, tags);
        let got_keys: Vec<String> = root.string_list("TransitiveTagKeys").unwrap().into_iter().map(str::to_owned).collect();
        prop_assert_eq!(got_keys, keys);
        let got_attrs: BTreeMap<String, String> = root
            .map("Attrs", |v| v.required_value().map(str::to_owned))
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        prop_assert_eq!(got_attrs, attrs);
    }

    #[test]
    fn timestamps_round_trip_through_iso8601(millis in -62_135_596_800_000i64..253_402_300_799_999i64) {
        let t = Timestamp::from_epoch_millis(millis);
        prop_assert_eq!(Timestamp::parse_iso8601(&t.to_iso8601()), Some(t));
    }
}
