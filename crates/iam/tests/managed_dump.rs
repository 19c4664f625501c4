#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The embedded AWS-managed policy catalogue is exactly the full dump in
//! `testdata/`, converted; and every policy of it becomes a record whose
//! default document parses (AWS's own policies may exceed the customer
//! size limits, so only those errors are tolerated).
//!
//! To regenerate the embedded file after the dump changed, run this test
//! with `IAMGATE_WRITE_MANAGED_CATALOG=1`.

use std::path::Path;

use iamgate_iam::ManagedPolicyRecord;
use iamgate_iam::managed::{aws_managed_policies_from_dump, catalog_text, embedded_catalog_text};
use iamgate_policy::{ErrorCode, PolicyDocument, PolicyKind};

fn dump_records() -> Vec<ManagedPolicyRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/aws-managed-policies/aws_managed_policies.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    aws_managed_policies_from_dump(&text).unwrap()
}

#[test]
fn the_embedded_catalogue_is_the_dump_in_testdata() {
    let expected = catalog_text(&dump_records());
    if std::env::var_os("IAMGATE_WRITE_MANAGED_CATALOG").is_some() {
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(expected.as_bytes(), 10);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/aws_managed_policies.tsv.z");
        std::fs::write(path, compressed).unwrap();
        return;
    }
    let embedded = embedded_catalog_text().unwrap();
    assert!(
        embedded == expected,
        "the embedded catalogue differs from the dump; regenerate it (see this file's docs)"
    );
    assert_eq!(iamgate_iam::aws_managed_policies().len(), 1582);
}

#[test]
fn every_policy_of_the_full_dump_becomes_a_record_that_parses() {
    let records = dump_records();
    assert_eq!(records.len(), 1582);
    let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "derived ids collide");
    let mut failures = Vec::new();
    for record in &records {
        let document = record.default_document().unwrap();
        let outcome = PolicyDocument::parse_lenient(document, PolicyKind::ManagedIdentity);
        let hard: Vec<_> = outcome
            .errors
            .iter()
            // Size rows (quota, model length) are for customers only.
            .filter(|e| e.code != ErrorCode::LimitExceeded && e.check != 13)
            .collect();
        if outcome.document.is_none() || !hard.is_empty() {
            failures.push(format!("{}: {hard:?}", record.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
