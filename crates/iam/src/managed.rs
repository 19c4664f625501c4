//! AWS-managed policies: `arn:aws:iam::aws:policy/<path><name>` exists in
//! every account (IAM User Guide, "AWS managed policies").
//!
//! All of them (1,582 in moto's dump, see `data/SOURCE.md`) are embedded
//! in the binary, so nothing is read from disk at run time and real setups
//! can attach whichever ones they use. They cost nothing until asked for:
//! the catalogue is a zlib-compressed file (`data/aws_managed_policies.tsv.z`,
//! about a tenth of the JSON) inflated and indexed once, on the first
//! lookup; a policy's document is parsed and compiled only when a request
//! or an operation first needs it (`world.rs`). A world that attaches no
//! AWS-managed policy never inflates it.
//!
//! The catalogue's text is one line per policy, sorted by ARN:
//! `name TAB path TAB created TAB updated TAB default version TAB document`,
//! dates in epoch seconds and the document as compact JSON (which holds no
//! raw tab or newline). It is generated from the JSON dump in the
//! repository's `testdata/` by [`catalog_text`]; a test checks that the
//! embedded file is exactly that, so the two cannot drift apart.
//!
//! The dump has no unique ids; each policy gets an `ANPA…` id derived from
//! its ARN, so the id is the same on every node and after every restart
//! without being stored anywhere.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::arns;
use crate::records::{ManagedPolicyRecord, PolicyVersionRecord, Timestamp};

/// The account AWS-managed policies live in.
pub const AWS_ACCOUNT: &str = "aws";

/// The compressed catalogue (zlib, so that inflating also checks it).
const EMBEDDED: &[u8] = include_bytes!("../data/aws_managed_policies.tsv.z");

/// Inflating stops here: a broken file must not exhaust memory. The
/// catalogue is about 3.5 MB.
const INFLATED_LIMIT: usize = 64 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DumpEntry {
    create_date: String,
    default_version_id: String,
    document: serde_json::Value,
    path: String,
    update_date: String,
}

/// A dump or the embedded catalogue could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManagedPolicyDumpError {
    #[error("the managed-policy dump is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("policy {name}: {what}")]
    Entry { name: String, what: String },
    #[error("the embedded catalogue does not inflate: {0}")]
    Inflate(String),
    #[error("line {line} of the embedded catalogue: {what}")]
    Line { line: usize, what: &'static str },
}

/// The catalogue once inflated: records sorted by ARN, with their ARNs.
struct Catalog {
    arns: Vec<String>,
    records: Vec<ManagedPolicyRecord>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // A test checks the embedded file; should it ever be broken, no
        // AWS-managed policy exists (nothing is granted by accident).
        let records = inflate(EMBEDDED)
            .and_then(|text| records_from_catalog(&text))
            .unwrap_or_default();
        let arns = records.iter().map(ManagedPolicyRecord::arn).collect();
        Catalog { arns, records }
    })
}

/// Every embedded AWS-managed policy, as records of account `aws`, sorted
/// by ARN.
pub fn aws_managed_policies() -> &'static [ManagedPolicyRecord] {
    &catalog().records
}

/// The position of an AWS-managed policy in [`aws_managed_policies`].
pub fn aws_managed_policy_index(arn: &str) -> Option<usize> {
    catalog()
        .arns
        .binary_search_by(|probe| probe.as_str().cmp(arn))
        .ok()
}

/// An embedded AWS-managed policy by ARN.
pub fn aws_managed_policy(arn: &str) -> Option<&'static ManagedPolicyRecord> {
    aws_managed_policies().get(aws_managed_policy_index(arn)?)
}

fn inflate(bytes: &[u8]) -> Result<String, ManagedPolicyDumpError> {
    let inflated = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, INFLATED_LIMIT)
        .map_err(|e| ManagedPolicyDumpError::Inflate(format!("{:?}", e.status)))?;
    String::from_utf8(inflated).map_err(|_| ManagedPolicyDumpError::Inflate("not UTF-8".into()))
}

/// Records from the catalogue's text (see the module docs).
fn records_from_catalog(text: &str) -> Result<Vec<ManagedPolicyRecord>, ManagedPolicyDumpError> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            let fail = |what| ManagedPolicyDumpError::Line {
                line: index + 1,
                what,
            };
            let mut fields = line.splitn(6, '\t');
            let mut next = || fields.next().ok_or_else(|| fail("too few fields"));
            let (name, path) = (next()?, next()?);
            let created_at = next()?.parse().map_err(|_| fail("bad creation date"))?;
            let updated_at = next()?.parse().map_err(|_| fail("bad update date"))?;
            let (version_id, document) = (next()?, next()?);
            Ok(record(
                name, path, created_at, updated_at, version_id, document,
            ))
        })
        .collect()
}

fn record(
    name: &str,
    path: &str,
    created_at: Timestamp,
    updated_at: Timestamp,
    version_id: &str,
    document: &str,
) -> ManagedPolicyRecord {
    ManagedPolicyRecord {
        id: stable_policy_id(&arns::policy_arn(AWS_ACCOUNT, path, name)),
        account: AWS_ACCOUNT.to_string(),
        name: name.to_string(),
        path: path.to_string(),
        created_at,
        description: None,
        default_version_id: version_id.to_string(),
        versions: vec![PolicyVersionRecord {
            version_id: version_id.to_string(),
            document: document.to_string(),
            created_at: updated_at,
        }],
        tags: Vec::new(),
    }
}

/// Converts a dump in moto's shape (name → {CreateDate, DefaultVersionId,
/// Document, Path, UpdateDate, …}) into records, sorted by ARN. Documents
/// become compact JSON.
pub fn aws_managed_policies_from_dump(
    text: &str,
) -> Result<Vec<ManagedPolicyRecord>, ManagedPolicyDumpError> {
    let entries: BTreeMap<String, DumpEntry> = serde_json::from_str(text)?;
    let mut records = entries
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
            if [&name, &entry.path, &entry.default_version_id]
                .iter()
                .any(|field| field.contains(['\t', '\n', '\r']))
            {
                return Err(fail("a name, path or version holds a tab or line break"));
            }
            Ok(record(
                &name,
                &entry.path,
                created_at,
                updated_at,
                &entry.default_version_id,
                &document,
            ))
        })
        .collect::<Result<Vec<_>, ManagedPolicyDumpError>>()?;
    records.sort_by_cached_key(ManagedPolicyRecord::arn);
    Ok(records)
}

/// The catalogue's text for records from [`aws_managed_policies_from_dump`]
/// (the embedded file is this, compressed).
pub fn catalog_text(records: &[ManagedPolicyRecord]) -> String {
    let mut text = String::new();
    for policy in records {
        let (updated_at, document) = policy
            .versions
            .first()
            .map(|v| (v.created_at, v.document.as_str()))
            .unwrap_or((policy.created_at, "{}"));
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            policy.name,
            policy.path,
            policy.created_at,
            updated_at,
            policy.default_version_id,
            document
        ));
    }
    text
}

/// The embedded catalogue's text, inflated (for the test that compares it
/// with the dump it was made from).
#[doc(hidden)]
pub fn embedded_catalog_text() -> Result<String, ManagedPolicyDumpError> {
    inflate(EMBEDDED)
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
    fn every_embedded_policy_loads_and_validates_as_a_managed_policy() {
        let policies = aws_managed_policies();
        assert_eq!(policies.len(), 1582);
        for policy in policies {
            assert_eq!(policy.account, "aws");
            assert_eq!(policy.id.len(), 21);
            assert!(policy.id.starts_with("ANPA"));
            let document = policy.default_document().unwrap();
            // AWS's own policies are not held to the customer size quota.
            let outcome = PolicyDocument::parse_lenient(document, PolicyKind::ManagedIdentity);
            assert!(outcome.document.is_some(), "{}", policy.name);
        }
        let admin = aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert_eq!(admin.name, "AdministratorAccess");
        assert_eq!(admin.created_at, 1_423_247_986); // 2015-02-06T18:39:46Z
        for arn in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/AWSLambdaExecute",
            "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess",
            "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        ] {
            assert_eq!(
                aws_managed_policy(arn)
                    .map(ManagedPolicyRecord::arn)
                    .as_deref(),
                Some(arn)
            );
        }
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
    }

    /// The ids of the 14 policies embedded before the full catalogue, as
    /// they were: they are in stores and clients' state already.
    #[test]
    fn the_ids_of_the_first_fourteen_policies_have_not_changed() {
        for (arn, id) in [
            (
                "arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy",
                "ANPAYXLBT7SYYAZDIYCEA",
            ),
            (
                "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",
                "ANPAJI4YLZHN7TVK6FCAV",
            ),
            (
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "ANPA5IIMV5ODH3GDY4NK5",
            ),
            (
                "arn:aws:iam::aws:policy/AmazonAPIGatewayAdministrator",
                "ANPA6GT7G3JTPHVWZNBN5",
            ),
            (
                "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess",
                "ANPATKNTKDVAYIQZWTCO4",
            ),
            (
                "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
                "ANPALWNXO7U3GCQUGTK67",
            ),
            (
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                "ANPAHDUSVADP3AXYKUCWR",
            ),
            (
                "arn:aws:iam::aws:policy/IAMAccessAdvisorReadOnly",
                "ANPALHQEUJPZR5SMLTVKI",
            ),
            (
                "arn:aws:iam::aws:policy/IAMFullAccess",
                "ANPAY3K7EELWHPUEAW7KS",
            ),
            (
                "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
                "ANPA24IIDMB5FKMTADI4R",
            ),
            (
                "arn:aws:iam::aws:policy/IAMSelfManageServiceSpecificCredentials",
                "ANPANMM7KZBLBVM7RYBOM",
            ),
            (
                "arn:aws:iam::aws:policy/IAMUserChangePassword",
                "ANPAJRFKIN6TRXFOREWPZ",
            ),
            (
                "arn:aws:iam::aws:policy/PowerUserAccess",
                "ANPART7RZA2A2JV4MIDRG",
            ),
            (
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "ANPAK32ZBVMSI5NW7WZEI",
            ),
        ] {
            assert_eq!(
                aws_managed_policy(arn).map(|p| p.id.as_str()),
                Some(id),
                "{arn}"
            );
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let policies = aws_managed_policies();
        let mut ids: Vec<&str> = policies.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), policies.len());
        let again = records_from_catalog(&embedded_catalog_text().unwrap()).unwrap();
        assert_eq!(again, policies);
    }

    #[test]
    fn a_broken_catalogue_is_refused_not_half_read() {
        assert!(inflate(b"not zlib").is_err());
        assert!(records_from_catalog("Name\t/\t1\tnot-a-date\tv1\t{}\n").is_err());
        assert!(records_from_catalog("Name\t/\t1\n").is_err());
    }
}
