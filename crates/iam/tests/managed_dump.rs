#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Every AWS-managed policy of the full dump in `testdata/` converts into
//! records whose default document parses (AWS's own policies may exceed
//! the customer size limits, so only those errors are tolerated).

use std::path::Path;

use iamgate_iam::managed::aws_managed_policies_from_dump;
use iamgate_policy::{ErrorCode, PolicyDocument, PolicyKind};

#[test]
fn every_policy_of_the_full_dump_becomes_a_record_that_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/aws-managed-policies/aws_managed_policies.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records = aws_managed_policies_from_dump(&text).unwrap();
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
