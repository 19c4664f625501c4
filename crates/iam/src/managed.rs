//! AWS-managed policies: `arn:aws:iam::aws:policy/<path><name>` exists in
//! every account (IAM User Guide, "AWS managed policies").
//!
//! A small, useful set is embedded in the binary (`data/`, see its
//! SOURCE.md) so nothing is read from disk at run time. The documents come
//! from moto's dump, which has no unique ids; each policy gets an `ANPA…`
//! id derived from its ARN, so the id is the same on every node and after
//! every restart without being stored anywhere.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::arns;
use crate::records::{ManagedPolicyRecord, PolicyVersionRecord, Timestamp};

/// The account AWS-managed policies live in.
pub const AWS_ACCOUNT: &str = "aws";

const EMBEDDED: &str = include_str!("../data/aws_managed_policies.json");

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DumpEntry {
    create_date: String,
    default_version_id: String,
    document: serde_json::Value,
    path: String,
    update_date: String,
}

/// A dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManagedPolicyDumpError {
    #[error("the managed-policy dump is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("policy {name}: {what}")]
    Entry { name: String, what: String },
}

/// The embedded AWS-managed policies, as records of account `aws`.
pub fn aws_managed_policies() -> Vec<ManagedPolicyRecord> {
    // The embedded file is checked by a test; should it ever be broken,
    // no AWS-managed policy exists (nothing is granted by accident).
    aws_managed_policies_from_dump(EMBEDDED).unwrap_or_default()
}

/// Converts a dump in moto's shape (name → {CreateDate, DefaultVersionId,
/// Document, Path, UpdateDate, …}) into records.
pub fn aws_managed_policies_from_dump(
    text: &str,
) -> Result<Vec<ManagedPolicyRecord>, ManagedPolicyDumpError> {
    let entries: BTreeMap<String, DumpEntry> = serde_json::from_str(text)?;
    entries
        .into_iter()
        .map(|(name, entry)| {
            let fail = |what: &str| ManagedPolicyDumpError::Entry {
                name: name.clone(),
                what: what.to_string(),
            };
            let created_at =
                parse_time(&entry.create_date).ok_or_else(|| fail("bad CreateDate"))?;
            let updated_at =
                parse_time(&entry.update_date).ok_or_else(|| fail("bad UpdateDate"))?;
            let document = serde_json::to_string(&entry.document)?;
            Ok(ManagedPolicyRecord {
                id: stable_policy_id(&arns::policy_arn(AWS_ACCOUNT, &entry.path, &name)),
                account: AWS_ACCOUNT.to_string(),
                path: entry.path,
                created_at,
                description: None,
                default_version_id: entry.default_version_id.clone(),
                versions: vec![PolicyVersionRecord {
                    version_id: entry.default_version_id,
                    document,
                    created_at: updated_at,
                }],
                tags: Vec::new(),
                name,
            })
        })
        .collect()
}

/// ISO 8601 date-time to epoch seconds.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    iamgate_policy::condition::parse_date(text).map(|millis| millis.div_euclid(1000))
}

/// `ANPA` + 17 base-32 characters taken from a hash of the ARN.
fn stable_policy_id(arn: &str) -> String {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let mut id = String::from("ANPA");
    for byte in digest.iter().take(17) {
        let symbol = BASE32.get(usize::from(byte % 32)).copied().unwrap_or(b'A');
        id.push(char::from(symbol));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamgate_policy::{PolicyDocument, PolicyKind};

    #[test]
    fn the_embedded_policies_load_and_validate_as_managed_policies() {
        let policies = aws_managed_policies();
        assert_eq!(policies.len(), 14);
        for policy in &policies {
            assert_eq!(policy.account, "aws");
            assert_eq!(policy.id.len(), 21);
            assert!(policy.id.starts_with("ANPA"));
            let document = policy.default_document().unwrap();
            // AWS's own policies are not held to the customer size quota.
            let outcome = PolicyDocument::parse_lenient(document, PolicyKind::ManagedIdentity);
            assert!(outcome.document.is_some(), "{}", policy.name);
            assert!(
                outcome
                    .errors
                    .iter()
                    .all(|e| e.code == iamgate_policy::ErrorCode::LimitExceeded),
                "{}: {:?}",
                policy.name,
                outcome.errors
            );
        }
        let admin = policies
            .iter()
            .find(|p| p.name == "AdministratorAccess")
            .unwrap();
        assert_eq!(admin.arn(), "arn:aws:iam::aws:policy/AdministratorAccess");
        assert_eq!(admin.created_at, 1_423_247_986); // 2015-02-06T18:39:46Z
        for name in [
            "ReadOnlyAccess",
            "PowerUserAccess",
            "IAMFullAccess",
            "AmazonAPIGatewayInvokeFullAccess",
            "AmazonAPIGatewayAdministrator",
            "IAMUserChangePassword",
        ] {
            assert!(policies.iter().any(|p| p.name == name), "{name}");
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = aws_managed_policies();
        let b = aws_managed_policies();
        assert_eq!(a, b);
        let mut ids: Vec<&str> = a.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), a.len());
    }
}
