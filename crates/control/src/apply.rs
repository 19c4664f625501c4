//! Reading a world file and applying it to the store.
//!
//! The file is read once into a positioned tree ([`iamgate_yaml`]) and
//! every section is decoded from it ([`WorldFile::parse`]): the IAM
//! sections by `iamgate-iam`, `apis:` and `domain_names:` by
//! `iamgate-apimodel`. This is the one place that knows all sections, as
//! the control plane is the one crate that depends on both owners; every
//! problem of every section comes back together, in file order, each at
//! its line and column.
//!
//! The file declares entities; applying it creates what is missing and
//! updates what differs, in one transaction, and never deletes (entities
//! made through the APIs survive a restart with the same file). Ids and
//! creation times of entities already stored are kept, and a secret that
//! did not change keeps its sealed form, so applying the same file again
//! writes nothing.

use std::collections::HashMap;

use iamgate_apimodel::config::{ApiRegistry, ReadFile};
use iamgate_apimodel::registry::declared_records;
use iamgate_apimodel::stored::{DOMAIN_NAME_KIND, DomainNameRecord, HTTP_API_KIND, REST_API_KIND};
use iamgate_iam::config::{EntityKind, EntityRef, Stamp, fresh_stamp};
use iamgate_iam::principal_ids::{PrincipalDirectory, PrincipalIds};
use iamgate_iam::records::{
    AccessKeyRecord, AccountRecord, GroupRecord, ManagedPolicyRecord, Record, RoleRecord,
    UserRecord,
};
use iamgate_iam::{AnyRecord, ConfigError, SecretText, WorldConfig};
use iamgate_sigv4::Secret;
use iamgate_store::{Entity, Expect, SYSTEM_KIND, WriteBatch};
use sha2::{Digest, Sha256};

use crate::plane::{ControlError, ControlPlane};

/// What applying a world file did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplySummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

fn address(kind: EntityKind, account: &str, name: &str) -> (&'static str, String, String) {
    let kind_name = match kind {
        EntityKind::Account => AccountRecord::KIND,
        EntityKind::User => UserRecord::KIND,
        EntityKind::Group => GroupRecord::KIND,
        EntityKind::Role => RoleRecord::KIND,
        EntityKind::ManagedPolicy => ManagedPolicyRecord::KIND,
        EntityKind::AccessKey => AccessKeyRecord::KIND,
    };
    let key = match kind {
        EntityKind::Account | EntityKind::AccessKey => name.to_owned(),
        _ => name.to_lowercase(),
    };
    (kind_name, account.to_owned(), key)
}

/// A world file, read once and decoded: every section.
#[derive(Debug)]
pub struct WorldFile {
    /// `accounts:` and everything IAM in them.
    pub iam: WorldConfig,
    /// `apis:` and `domain_names:`.
    pub apis: ApiRegistry,
}

/// The top-level sections the API model reads; the IAM reader refuses any
/// other it does not know.
const API_SECTIONS: &[&str] = &["apis", "domain_names", "api_keys", "usage_plans"];

impl WorldFile {
    /// Reads `text` once and decodes every section; `read` supplies the
    /// OpenAPI files `apis:` entries import. Any problem rejects the file
    /// whole, with every problem of every section, in file order.
    pub fn parse(text: &str, read: ReadFile) -> Result<WorldFile, Vec<ConfigError>> {
        let root = iamgate_yaml::parse(text).map_err(|error| vec![error])?;
        let iam = WorldConfig::from_tree(&root, API_SECTIONS);
        let apis = ApiRegistry::from_tree(&root, read);
        // Freeing a large file's tree (a million nodes for 100,000 users)
        // is left to another thread, off the way to serving; if no thread
        // can be started, the tree is freed here instead.
        let _ = std::thread::Builder::new().spawn(move || drop(root));
        match (iam, apis) {
            (Ok(iam), Ok(apis)) => Ok(WorldFile { iam, apis }),
            (iam, apis) => {
                let mut errors = iam.err().unwrap_or_default();
                errors.extend(apis.err().unwrap_or_default());
                errors.sort_by_key(|e| (e.line, e.column));
                Err(errors)
            }
        }
    }
}

/// Where the digest of the last world file applied is kept.
const WORLD_FILE_KEY: &str = "world-file";

/// The digest that identifies a world file's exact text.
pub fn world_file_digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

type Address = (String, String, String);

/// A declared API's store address and document.
fn api_document<T: serde::Serialize>(
    kind: &str,
    account: &str,
    id: &str,
    api: &T,
) -> Result<(Address, serde_json::Value), ControlError> {
    let body = serde_json::to_value(api)
        .map_err(|error| ControlError::Config(format!("API {id}: {error}")))?;
    Ok(((kind.to_owned(), account.to_owned(), id.to_owned()), body))
}

/// The world file's API keys and usage plans as store documents; a key
/// already stored keeps its creation time, so applying the same file again
/// writes nothing.
fn declared_usage(
    apis: &ApiRegistry,
    stored: &HashMap<(String, String, String), Entity>,
    now: i64,
    cipher: &iamgate_store::SecretCipher,
) -> Vec<Result<(Address, serde_json::Value), ControlError>> {
    use iamgate_apimodel::usage::{API_KEY_KIND, ApiKeyRecord, USAGE_PLAN_KIND};
    let mut documents = Vec::new();
    for key in apis.usage.keys.values() {
        let mut key = ApiKeyRecord::clone(key);
        let existing = stored.get(&(API_KEY_KIND.to_owned(), key.account.clone(), key.id.clone()));
        let created = existing
            .and_then(|e| e.body.get("created_at")?.as_i64())
            .unwrap_or(now);
        key.created_at = created;
        key.last_updated = created;
        // The value is sealed as the control plane seals it; a stored
        // value that opens to the same text is kept, so applying the same
        // file again writes nothing.
        let context = iamgate_apimodel::usage::value_seal_context(&key.id);
        let stored_sealed = existing
            .and_then(|e| e.body.get("value")?.as_str().map(str::to_owned))
            .filter(|sealed| {
                cipher
                    .open_for(&context, sealed)
                    .is_ok_and(|plain| Secret::new(plain).ct_eq(&Secret::new(key.value.clone())))
            });
        key.value = match stored_sealed {
            Some(sealed) => sealed,
            None => match cipher.seal_for(&context, &key.value) {
                Ok(sealed) => sealed,
                Err(error) => {
                    documents.push(Err(ControlError::from(error)));
                    continue;
                }
            },
        };
        documents.push(api_document(API_KEY_KIND, &key.account, &key.id, &key));
    }
    for plan in apis.usage.plans.values() {
        documents.push(api_document(
            USAGE_PLAN_KIND,
            &plan.account,
            &plan.id,
            &**plan,
        ));
    }
    documents
}

/// Role trust policies name users and roles by unique id once stored, as
/// IAM keeps them; a principal may be declared in the same file or already
/// be in the store. Every principal that names no entity is reported.
fn with_stored_trust_policies(
    records: Vec<AnyRecord>,
    stored: &HashMap<(String, String, String), Entity>,
) -> Result<Vec<AnyRecord>, ControlError> {
    // The directory of every principal is built only when there is a
    // trust policy to rewrite: a world of users alone skips it.
    if !records.iter().any(|r| matches!(r, AnyRecord::Role(_))) {
        return Ok(records);
    }
    let mut principals = PrincipalDirectory::new();
    let stored_principals = stored
        .values()
        .filter(|e| e.kind == UserRecord::KIND || e.kind == RoleRecord::KIND)
        .filter_map(|e| AnyRecord::from_body(&e.kind, e.body.clone()).ok());
    for record in stored_principals {
        principals.insert_record(&record);
    }
    for record in &records {
        principals.insert_record(record);
    }
    let mut problems = Vec::new();
    let records = records
        .into_iter()
        .map(|record| match record {
            AnyRecord::Role(mut role) => {
                match principals.to_stored(&role.trust_policy) {
                    Ok(stored) => role.trust_policy = stored,
                    Err(invalid) => problems.push(format!(
                        "role {}: trust_policy: MalformedPolicyDocument: {invalid}",
                        role.arn()
                    )),
                }
                AnyRecord::Role(role)
            }
            other => other,
        })
        .collect();
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(ControlError::Config(problems.join("\n")))
    }
}

impl ControlPlane {
    /// Whether the world file with this digest is the last one applied.
    /// A server restarted with the same file then skips parsing and
    /// diffing it, which is most of the start-up time of a large world.
    pub async fn world_file_unchanged(&self, digest: &str) -> Result<bool, ControlError> {
        let stored = self.store.get(SYSTEM_KIND, "", WORLD_FILE_KEY).await?;
        Ok(stored.is_some_and(|entity| {
            entity.body.get("sha256").and_then(|v| v.as_str()) == Some(digest)
        }))
    }

    /// The OpenAPI files the last world file applied imported, in the
    /// order it read them. The same text imports the same files, so a
    /// restart can compute the digest of text and files from these
    /// without parsing the text; a changed text changes the digest anyway.
    pub async fn world_file_imports(&self) -> Result<Vec<String>, ControlError> {
        let stored = self.store.get(SYSTEM_KIND, "", WORLD_FILE_KEY).await?;
        Ok(stored
            .and_then(|entity| {
                let files = entity.body.get("imports")?.as_array()?.clone();
                Some(
                    files
                        .iter()
                        .filter_map(|file| file.as_str().map(str::to_owned))
                        .collect(),
                )
            })
            .unwrap_or_default())
    }

    /// Applies `config` (whose text has `digest`) and remembers the digest
    /// in the same transaction.
    pub async fn apply_world_file(
        &self,
        config: &WorldConfig,
        apis: &ApiRegistry,
        digest: &str,
    ) -> Result<ApplySummary, ControlError> {
        self.apply_world_file_importing(config, apis, digest, &[])
            .await
    }

    /// Like [`ControlPlane::apply_world_file`], remembering the OpenAPI
    /// files the text imported (see [`ControlPlane::world_file_imports`]).
    pub async fn apply_world_file_importing(
        &self,
        config: &WorldConfig,
        apis: &ApiRegistry,
        digest: &str,
        imports: &[String],
    ) -> Result<ApplySummary, ControlError> {
        let record = WriteBatch::new().put(
            SYSTEM_KIND,
            "",
            WORLD_FILE_KEY,
            serde_json::json!({ "sha256": digest, "imports": imports }),
            Expect::Any,
        );
        self.apply_config_with(config, apis, record).await
    }

    /// Applies `config` to the store and reloads the world.
    pub async fn apply_config(&self, config: &WorldConfig) -> Result<ApplySummary, ControlError> {
        self.apply_config_with(config, &ApiRegistry::default(), WriteBatch::new())
            .await
    }

    /// Applies `config` and the declared `apis` (each stage served from one
    /// deployment of its declaration), writing `extra` in the same
    /// transaction.
    async fn apply_config_with(
        &self,
        config: &WorldConfig,
        apis: &ApiRegistry,
        extra: WriteBatch,
    ) -> Result<ApplySummary, ControlError> {
        let snapshot = self.store.load_all().await?;
        let stored: HashMap<(String, String, String), Entity> = snapshot
            .entities
            .into_iter()
            .map(|entity| {
                (
                    (
                        entity.kind.clone(),
                        entity.scope.clone(),
                        entity.key.clone(),
                    ),
                    entity,
                )
            })
            .collect();
        let now = self.now();
        let mut stamp = |entity: EntityRef<'_>| {
            let (kind, scope, key) = address(entity.kind, entity.account, entity.name);
            let existing = stored.get(&(kind.to_owned(), scope, key)).and_then(|e| {
                let id = e.body.get("id")?.as_str()?.to_owned();
                let created_at = e.body.get("created_at")?.as_i64()?;
                Some(Stamp { id, created_at })
            });
            match existing {
                Some(stamp) => Ok(stamp),
                None => fresh_stamp(entity, now).map_err(|_| ControlError::RandomUnavailable),
            }
        };
        let records = config.to_records(&mut stamp)?;
        let records = with_stored_trust_policies(records, &stored)?;

        let mut summary = ApplySummary::default();
        let mut batch = extra;
        // An API already stored keeps its creation time, so applying the
        // same declaration again writes nothing.
        let (rest_apis, http_apis) = declared_records(apis, |kind, account, id| {
            stored
                .get(&(kind.to_owned(), account.to_owned(), id.to_owned()))
                .and_then(|e| e.body.get("created_at")?.as_i64())
                .unwrap_or(now)
        });
        let domains: Vec<DomainNameRecord> = apis
            .domains
            .values()
            .map(|domain| {
                let mut domain = DomainNameRecord::clone(domain);
                domain.created_at = stored
                    .get(&(
                        DOMAIN_NAME_KIND.to_owned(),
                        domain.account.clone(),
                        domain.name.clone(),
                    ))
                    .and_then(|e| e.body.get("created_at")?.as_i64())
                    .unwrap_or(now);
                domain
            })
            .collect();
        let api_documents = rest_apis
            .iter()
            .map(|api| api_document(REST_API_KIND, &api.account, &api.id, api))
            .chain(
                http_apis
                    .iter()
                    .map(|api| api_document(HTTP_API_KIND, &api.account, &api.id, api)),
            )
            .chain(domains.iter().map(|domain| {
                api_document(DOMAIN_NAME_KIND, &domain.account, &domain.name, domain)
            }))
            .chain(declared_usage(apis, &stored, now, &self.cipher));
        // IAM records (secrets sealed) and API documents alike: written
        // only where they differ from what is stored.
        let mut documents = Vec::new();
        for record in records {
            let address = (
                record.kind().to_owned(),
                record.scope().to_owned(),
                record.key(),
            );
            let record = self.seal_secret(record, stored.get(&address))?;
            documents.push((address, record.to_body()));
        }
        for document in api_documents {
            documents.push(document?);
        }
        for (address, body) in documents {
            let expect = match stored.get(&address) {
                Some(entity) if entity.body == body => {
                    summary.unchanged += 1;
                    continue;
                }
                Some(entity) => {
                    summary.updated += 1;
                    Expect::Version(entity.version)
                }
                None => {
                    summary.created += 1;
                    Expect::Absent
                }
            };
            let (kind, scope, key) = address;
            batch = batch.put(&kind, &scope, &key, body, expect);
        }
        if batch.is_empty() {
            self.reload().await?;
        } else {
            self.write_through(batch).await?;
        }
        Ok(summary)
    }

    /// Access-key secrets are stored sealed, bound to their key id; an
    /// unchanged secret keeps the sealed text already stored.
    fn seal_secret(
        &self,
        record: AnyRecord,
        existing: Option<&Entity>,
    ) -> Result<AnyRecord, ControlError> {
        let AnyRecord::AccessKey(mut key) = record else {
            return Ok(record);
        };
        let stored_sealed =
            existing.and_then(|e| e.body.get("secret")?.as_str().map(str::to_owned));
        let unchanged = stored_sealed.as_deref().filter(|sealed| {
            self.cipher
                .open_for(&key.id, sealed)
                .is_ok_and(|plain| Secret::new(plain).ct_eq(&Secret::new(key.secret.expose())))
        });
        let sealed = match unchanged {
            Some(sealed) => sealed.to_owned(),
            None => self.cipher.seal_for(&key.id, key.secret.expose())?,
        };
        key.secret = SecretText::new(sealed);
        Ok(AnyRecord::AccessKey(key))
    }
}
