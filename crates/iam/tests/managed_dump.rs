#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The embedded AWS-managed policy catalogue gives exactly the records of
//! the full dump in `testdata/`; and every policy of it becomes a record
//! whose default document parses (AWS's own policies may exceed the
//! customer size limits, so only those errors are tolerated).
//!
//! To regenerate the embedded files after the dump changed, run
//! `the_embedded_catalogue_is_the_dump_in_testdata` with
//! `IAMGATE_WRITE_MANAGED_CATALOG=1`, then the tests again.

use std::path::Path;

use iamgate_iam::ManagedPolicyRecord;
use iamgate_iam::managed::{aws_managed_policies, aws_managed_policies_from_dump, catalog_files};
use iamgate_policy::{ErrorCode, PolicyDocument, PolicyKind};

fn dump_records() -> Vec<ManagedPolicyRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/aws-managed-policies/aws_managed_policies.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    aws_managed_policies_from_dump(&text).unwrap()
}

#[test]
fn the_embedded_catalogue_is_the_dump_in_testdata() {
    let expected = dump_records();
    if std::env::var_os("IAMGATE_WRITE_MANAGED_CATALOG").is_some() {
        let (index, documents) = catalog_files(&expected);
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        std::fs::write(data.join("aws_managed_policies.index.z"), index).unwrap();
        std::fs::write(data.join("aws_managed_policies.documents.z"), documents).unwrap();
        return;
    }
    let embedded: Vec<ManagedPolicyRecord> = aws_managed_policies().cloned().collect();
    assert_eq!(embedded.len(), 1582);
    assert!(
        embedded == expected,
        "the embedded catalogue differs from the dump; regenerate it (see this file's docs)"
    );
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
