//! AWS-managed policies: `arn:aws:iam::aws:policy/<path><name>` exists in
//! every account (IAM User Guide, "AWS managed policies").
//!
//! All of them (1,582 in moto's dump, see `data/SOURCE.md`) are embedded
//! in the binary, so nothing is read from disk at run time and real setups
//! can attach whichever ones they use. They cost next to nothing until
//! used: a deployment attaches a handful, so the catalogue is split in
//! two zlib-compressed files (`data/`). The index (names, paths, dates,
//! versions; about 30 KB compressed) is inflated once, on the first lookup,
//! and is all a world file's check or an existence test needs. The
//! documents are compressed in blocks of [`BLOCK`] policies: the first use
//! of a policy inflates its block only and keeps that block's records; a
//! policy's document is parsed and compiled later still, when a request or
//! an operation first needs it (`world.rs`). Only listing every policy
//! (ListPolicies) inflates every block.
//!
//! The index's text starts with one line of the blocks' compressed sizes,
//! then has one line per policy, sorted by ARN: `name TAB path TAB created
//! TAB updated TAB default version`, dates in epoch seconds. A block's text
//! is its policies' documents, one per line, as compact JSON (which holds
//! no raw tab or newline). Both are generated from the JSON dump in the
//! repository's `testdata/` by [`catalog_files`]; a test checks that the
//! embedded files give exactly its records, so the two cannot drift apart.
//!
//! The dump has no unique ids; each policy gets an `ANPA…` id derived from
//! its ARN, so the id is the same on every node and after every restart
//! without being stored anywhere.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::OnceLock;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::arns;
use crate::records::{ManagedPolicyRecord, PolicyVersionRecord, Timestamp};

/// The account AWS-managed policies live in.
pub const AWS_ACCOUNT: &str = "aws";

/// Policies per compressed block of documents: small enough that using
/// one policy inflates little (about 70 KB of text), large enough to
/// compress well.
pub const BLOCK: usize = 32;

/// The compressed index (zlib, so that inflating also checks it).
const INDEX: &[u8] = include_bytes!("../data/aws_managed_policies.index.z");
/// The compressed blocks of documents, one zlib stream after the other.
const DOCUMENTS: &[u8] = include_bytes!("../data/aws_managed_policies.documents.z");

/// Inflating stops here: a broken file must not exhaust memory. The
/// largest part, a block of documents, is well under 1 MB.
const INFLATED_LIMIT: usize = 16 << 20;

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

/// One policy of the index: everything but its document.
struct Entry {
    arn: String,
    name: String,
    path: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    version_id: String,
}

/// The index once inflated, sorted by ARN, with where each block of
/// documents lies in [`DOCUMENTS`] and, per block, its records once made.
struct Catalog {
    entries: Vec<Entry>,
    blocks: Vec<Range<usize>>,
    records: Vec<OnceLock<Vec<ManagedPolicyRecord>>>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // A test checks the embedded files; should they ever be broken, no
        // AWS-managed policy exists (nothing is granted by accident).
        let (entries, blocks) = inflate(INDEX)
            .and_then(|text| read_index(&text, DOCUMENTS.len()))
            .unwrap_or_default();
        let records = std::iter::repeat_with(OnceLock::new)
            .take(blocks.len())
            .collect();
        Catalog {
            entries,
            blocks,
            records,
        }
    })
}

/// How many AWS-managed policies there are.
pub fn aws_managed_policy_count() -> usize {
    catalog().entries.len()
}

/// The position of an AWS-managed policy in ARN order; no document is
/// inflated.
pub fn aws_managed_policy_index(arn: &str) -> Option<usize> {
    catalog()
        .entries
        .binary_search_by(|probe| probe.arn.as_str().cmp(arn))
        .ok()
}

/// The AWS-managed policy at `index` (ARN order), its block inflated on
/// first use.
pub fn aws_managed_policy_at(index: usize) -> Option<&'static ManagedPolicyRecord> {
    block_records(index / BLOCK)?.get(index % BLOCK)
}

/// An embedded AWS-managed policy by ARN.
pub fn aws_managed_policy(arn: &str) -> Option<&'static ManagedPolicyRecord> {
    aws_managed_policy_at(aws_managed_policy_index(arn)?)
}

/// How many blocks of documents have been inflated so far (for the test
/// that checks that using one policy inflates one block).
#[doc(hidden)]
pub fn inflated_blocks() -> usize {
    catalog()
        .records
        .iter()
        .filter(|slot| slot.get().is_some())
        .count()
}

/// Every embedded AWS-managed policy, as records of account `aws`, in ARN
/// order. This inflates every block.
pub fn aws_managed_policies() -> impl Iterator<Item = &'static ManagedPolicyRecord> {
    (0..catalog().blocks.len()).flat_map(|block| block_records(block).unwrap_or_default())
}

/// The records of one block, made on first use. A block that does not
/// inflate or does not match the index holds no policy.
fn block_records(block: usize) -> Option<&'static [ManagedPolicyRecord]> {
    let catalog = catalog();
    let slot = catalog.records.get(block)?;
    let records = slot.get_or_init(|| {
        let entries: Vec<&Entry> = catalog
            .entries
            .iter()
            .skip(block * BLOCK)
            .take(BLOCK)
            .collect();
        let text = catalog
            .blocks
            .get(block)
            .and_then(|range| DOCUMENTS.get(range.clone()))
            .and_then(|bytes| inflate(bytes).ok())
            .unwrap_or_default();
        let documents: Vec<&str> = text.lines().collect();
        if documents.len() != entries.len() {
            return Vec::new();
        }
        entries
            .iter()
            .zip(documents)
            .map(|(entry, document)| record(entry, document))
            .collect()
    });
    Some(records)
}

fn inflate(bytes: &[u8]) -> Result<String, ManagedPolicyDumpError> {
    let inflated = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, INFLATED_LIMIT)
        .map_err(|e| ManagedPolicyDumpError::Inflate(format!("{:?}", e.status)))?;
    String::from_utf8(inflated).map_err(|_| ManagedPolicyDumpError::Inflate("not UTF-8".into()))
}

/// The index's entries and the blocks' byte ranges in a documents file of
/// `documents_len` bytes (see the module docs).
fn read_index(
    text: &str,
    documents_len: usize,
) -> Result<(Vec<Entry>, Vec<Range<usize>>), ManagedPolicyDumpError> {
    let mut lines = text.lines();
    let sizes = lines.next().ok_or(ManagedPolicyDumpError::Line {
        line: 1,
        what: "no block sizes",
    })?;
    let mut blocks = Vec::new();
    let mut start = 0usize;
    for size in sizes.split(' ') {
        let size: usize = size.parse().map_err(|_| ManagedPolicyDumpError::Line {
            line: 1,
            what: "bad block size",
        })?;
        let end = start.saturating_add(size);
        blocks.push(start..end);
        start = end;
    }
    if start != documents_len {
        return Err(ManagedPolicyDumpError::Line {
            line: 1,
            what: "the block sizes do not add up to the documents file",
        });
    }
    let entries = lines
        .enumerate()
        .map(|(index, line)| {
            let fail = |what| ManagedPolicyDumpError::Line {
                line: index + 2,
                what,
            };
            let mut fields = line.split('\t');
            let mut next = || fields.next().ok_or_else(|| fail("too few fields"));
            let (name, path) = (next()?.to_owned(), next()?.to_owned());
            let created_at = next()?.parse().map_err(|_| fail("bad creation date"))?;
            let updated_at = next()?.parse().map_err(|_| fail("bad update date"))?;
            let version_id = next()?.to_owned();
            Ok::<_, ManagedPolicyDumpError>(Entry {
                arn: arns::policy_arn(AWS_ACCOUNT, &path, &name),
                name,
                path,
                created_at,
                updated_at,
                version_id,
            })
        })
        .collect::<Result<Vec<Entry>, _>>()?;
    if entries.len().div_ceil(BLOCK) != blocks.len() {
        return Err(ManagedPolicyDumpError::Line {
            line: 1,
            what: "the number of blocks does not match the number of policies",
        });
    }
    Ok((entries, blocks))
}

fn record(entry: &Entry, document: &str) -> ManagedPolicyRecord {
    ManagedPolicyRecord {
        id: stable_policy_id(&entry.arn),
        account: AWS_ACCOUNT.to_string(),
        name: entry.name.clone(),
        path: entry.path.clone(),
        created_at: entry.created_at,
        description: None,
        default_version_id: entry.version_id.clone(),
        versions: vec![PolicyVersionRecord {
            version_id: entry.version_id.clone(),
            document: document.to_string(),
            created_at: entry.updated_at,
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
            let entry_arn = arns::policy_arn(AWS_ACCOUNT, &entry.path, &name);
            let index_entry = Entry {
                arn: entry_arn,
                name,
                path: entry.path,
                created_at,
                updated_at,
                version_id: entry.default_version_id,
            };
            Ok(record(&index_entry, &document))
        })
        .collect::<Result<Vec<_>, ManagedPolicyDumpError>>()?;
    records.sort_by_cached_key(ManagedPolicyRecord::arn);
    Ok(records)
}

/// The embedded files for records from [`aws_managed_policies_from_dump`]:
/// the compressed index and the compressed blocks of documents (see the
/// module docs). Compression is deterministic, so the same dump gives the
/// same files.
pub fn catalog_files(records: &[ManagedPolicyRecord]) -> (Vec<u8>, Vec<u8>) {
    let compress = |text: &str| miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 10);
    let mut documents = Vec::new();
    let mut sizes = Vec::new();
    for block in records.chunks(BLOCK) {
        let mut text = String::new();
        for policy in block {
            text.push_str(policy.default_document().unwrap_or("{}"));
            text.push('\n');
        }
        let compressed = compress(&text);
        sizes.push(compressed.len().to_string());
        documents.extend(compressed);
    }
    let mut index = sizes.join(" ");
    index.push('\n');
    for policy in records {
        let updated_at = policy
            .versions
            .first()
            .map_or(policy.created_at, |v| v.created_at);
        index.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            policy.name, policy.path, policy.created_at, updated_at, policy.default_version_id
        ));
    }
    (compress(&index), documents)
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
        let policies: Vec<&ManagedPolicyRecord> = aws_managed_policies().collect();
        assert_eq!(policies.len(), 1582);
        assert_eq!(aws_managed_policy_count(), 1582);
        for policy in &policies {
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
    fn ids_are_distinct_and_records_in_arn_order() {
        let policies: Vec<&ManagedPolicyRecord> = aws_managed_policies().collect();
        let mut ids: Vec<&str> = policies.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), policies.len());
        let arns: Vec<String> = policies.iter().map(|p| p.arn()).collect();
        assert!(arns.windows(2).all(|pair| pair[0] < pair[1]));
        for (index, arn) in arns.iter().enumerate() {
            assert_eq!(aws_managed_policy_index(arn), Some(index));
        }
    }

    #[test]
    fn a_broken_catalogue_is_refused_not_half_read() {
        assert!(inflate(b"not zlib").is_err());
        let index = "3\nName\t/\t1\tnot-a-date\tv1\n";
        assert!(read_index(index, 3).is_err());
        assert!(read_index("3\nName\t/\t1\n", 3).is_err());
        // Block sizes that do not add up to the documents file.
        assert!(read_index("3\nName\t/\t1\t2\tv1\n", 4).is_err());
        assert!(read_index("3\nName\t/\t1\t2\tv1\n", 3).is_ok());
    }
}
