//! The persisted form of every IAM entity.
//!
//! These types ARE what the control plane writes into the entity store as
//! JSON bodies, so their serde shape is a storage format: fields are only
//! ever added (with `#[serde(default)]`), never renamed. Each record says
//! where it lives through [`Record`]: the store addresses a body by
//! `(kind, scope, key)`, the scope is the owning account id (`aws` for
//! AWS-managed policies) and the key is the lower-cased name, because IAM
//! names are unique per account case-insensitively while keeping their case
//! (IAM User Guide, "IAM identifiers"). Access keys are keyed by their id,
//! accounts by their own id (scope and key both the account id).
//!
//! Times are seconds since the Unix epoch (`i64`), like session claims and
//! the SigV4 clock: one representation to compare, formatted as ISO 8601
//! only on the wire.
//!
//! Secrets ([`AccessKeyRecord::secret`]) are carried as [`SecretText`],
//! whose `Debug` never shows the value: records end up in logs and panics.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::arns;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// Text that must never be printed: `Debug` shows `<redacted>`.
///
/// In a record it holds whatever the store holds (the control plane seals
/// secrets before writing them); this crate treats it as opaque.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text itself, for the few places that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A tag as IAM keeps it: ordered, case-sensitive key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// An entity's inline policies: name → JSON document.
///
/// Shared, copy on write: the world hands every entity whose inline
/// policies are identical the same map, so a hundred thousand users with
/// the same policy hold its text once. Serialized as the map itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InlinePolicies(std::sync::Arc<BTreeMap<String, String>>);

impl InlinePolicies {
    /// The map, for changing it (copied first if it is shared).
    pub fn make_mut(&mut self) -> &mut BTreeMap<String, String> {
        std::sync::Arc::make_mut(&mut self.0)
    }

    /// Whether both are the same shared map.
    pub fn ptr_eq(&self, other: &InlinePolicies) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for InlinePolicies {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> IntoIterator for &'a InlinePolicies {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<BTreeMap<String, String>> for InlinePolicies {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(std::sync::Arc::new(map))
    }
}

impl FromIterator<(String, String)> for InlinePolicies {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<BTreeMap<_, _>>())
    }
}

/// Where a record lives in the entity store.
pub trait Record: Serialize + for<'de> Deserialize<'de> {
    /// The store's `kind` for this record type.
    const KIND: &'static str;

    fn kind() -> &'static str {
        Self::KIND
    }

    /// The owning account (`aws` for AWS-managed policies).
    fn scope(&self) -> &str;

    /// Unique within (kind, scope): the lower-cased name, or an id.
    fn key(&self) -> String;
}

/// An account: created by the world file or by the control plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: String,
    pub created_at: Timestamp,
}

impl Record for AccountRecord {
    const KIND: &'static str = "account";
    fn scope(&self) -> &str {
        &self.id
    }
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    /// `AIDA…`
    pub id: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// ARN of the managed policy used as permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    /// Inline policies: name → JSON document.
    #[serde(default)]
    pub inline_policies: InlinePolicies,
    /// ARNs of attached managed policies, in attachment order.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl UserRecord {
    pub fn arn(&self) -> String {
        arns::user_arn(&self.account, &self.path, &self.name)
    }
}

impl Record for UserRecord {
    const KIND: &'static str = "user";
    fn scope(&self) -> &str {
        &self.account
    }
    fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// An IAM group; membership is kept on the user ([`UserRecord::groups`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    /// `AGPA…`
    pub id: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub inline_policies: InlinePolicies,
    #[serde(default)]
    pub attached_policies: Vec<String>,
}

impl GroupRecord {
    pub fn arn(&self) -> String {
        arns::group_arn(&self.account, &self.path, &self.name)
    }
}

impl Record for GroupRecord {
    const KIND: &'static str = "group";
    fn scope(&self) -> &str {
        &self.account
    }
    fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    /// `AROA…`
    pub id: String,
    pub created_at: Timestamp,
    /// The trust policy (AssumeRolePolicyDocument), JSON text.
    pub trust_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds, 3600–43200.
    pub max_session_duration: u32,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub inline_policies: InlinePolicies,
    #[serde(default)]
    pub attached_policies: Vec<String>,
}

impl RoleRecord {
    pub fn arn(&self) -> String {
        arns::role_arn(&self.account, &self.path, &self.name)
    }
}

impl Record for RoleRecord {
    const KIND: &'static str = "role";
    fn scope(&self) -> &str {
        &self.account
    }
    fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionRecord {
    /// `v1`, `v2`, …
    pub version_id: String,
    /// JSON text.
    pub document: String,
    pub created_at: Timestamp,
}

/// A customer-managed policy, or an AWS-managed one (account `aws`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicyRecord {
    pub account: String,
    pub name: String,
    pub path: String,
    /// `ANPA…`
    pub id: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub description: Option<String>,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersionRecord>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ManagedPolicyRecord {
    pub fn arn(&self) -> String {
        arns::policy_arn(&self.account, &self.path, &self.name)
    }

    /// The document of the default version.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version_id)
            .map(|v| v.document.as_str())
    }
}

impl Record for ManagedPolicyRecord {
    const KIND: &'static str = "managed_policy";
    fn scope(&self) -> &str {
        &self.account
    }
    fn key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// Whether an access key may sign requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

/// A long-term access key of a user or of an account root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    /// `AKIA…` (or any id the world file chose).
    pub id: String,
    pub account: String,
    /// The user's name; `None` for the account root.
    #[serde(default)]
    pub user: Option<String>,
    /// As the store holds it (sealed by the control plane); opaque here.
    pub secret: SecretText,
    pub status: AccessKeyStatus,
    pub created_at: Timestamp,
}

impl Record for AccessKeyRecord {
    const KIND: &'static str = "access_key";
    fn scope(&self) -> &str {
        &self.account
    }
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// Any record, for code that handles them all (applying a world file,
/// loading a snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyRecord {
    Account(AccountRecord),
    User(UserRecord),
    Group(GroupRecord),
    Role(RoleRecord),
    ManagedPolicy(ManagedPolicyRecord),
    AccessKey(AccessKeyRecord),
    /// The AWS Organization the accounts belong to (at most one).
    Organization(crate::organization::OrganizationRecord),
}

/// A stored body that is not a record of the kind it claims.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("unknown record kind {0:?}")]
    UnknownKind(String),
    #[error("malformed {kind} record: {source}")]
    Malformed {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl AnyRecord {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Account(_) => AccountRecord::KIND,
            Self::User(_) => UserRecord::KIND,
            Self::Group(_) => GroupRecord::KIND,
            Self::Role(_) => RoleRecord::KIND,
            Self::ManagedPolicy(_) => ManagedPolicyRecord::KIND,
            Self::AccessKey(_) => AccessKeyRecord::KIND,
            Self::Organization(_) => crate::organization::OrganizationRecord::KIND,
        }
    }

    pub fn scope(&self) -> &str {
        match self {
            Self::Account(r) => r.scope(),
            Self::User(r) => r.scope(),
            Self::Group(r) => r.scope(),
            Self::Role(r) => r.scope(),
            Self::ManagedPolicy(r) => r.scope(),
            Self::AccessKey(r) => r.scope(),
            Self::Organization(r) => r.scope(),
        }
    }

    pub fn key(&self) -> String {
        match self {
            Self::Account(r) => r.key(),
            Self::User(r) => r.key(),
            Self::Group(r) => r.key(),
            Self::Role(r) => r.key(),
            Self::ManagedPolicy(r) => r.key(),
            Self::AccessKey(r) => r.key(),
            Self::Organization(r) => r.key(),
        }
    }

    /// The JSON body to store.
    pub fn to_body(&self) -> serde_json::Value {
        let body = match self {
            Self::Account(r) => serde_json::to_value(r),
            Self::User(r) => serde_json::to_value(r),
            Self::Group(r) => serde_json::to_value(r),
            Self::Role(r) => serde_json::to_value(r),
            Self::ManagedPolicy(r) => serde_json::to_value(r),
            Self::AccessKey(r) => serde_json::to_value(r),
            Self::Organization(r) => serde_json::to_value(r),
        };
        // Plain structs of strings, numbers and maps with string keys
        // always serialize.
        body.unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored body back, by its kind.
    pub fn from_body(kind: &str, body: serde_json::Value) -> Result<AnyRecord, RecordError> {
        Self::decode(kind, body)
    }

    /// Reads a stored body back from its JSON text, by its kind, without
    /// building the generic JSON tree first (a full load reads every body).
    pub fn from_json(kind: &str, text: &str) -> Result<AnyRecord, RecordError> {
        Self::decode(kind, text)
    }

    fn decode(kind: &str, body: impl StoredBody) -> Result<AnyRecord, RecordError> {
        fn read<R: Record>(body: impl StoredBody) -> Result<R, RecordError> {
            body.read().map_err(|source| RecordError::Malformed {
                kind: R::KIND,
                source,
            })
        }
        Ok(match kind {
            AccountRecord::KIND => Self::Account(read(body)?),
            UserRecord::KIND => Self::User(read(body)?),
            GroupRecord::KIND => Self::Group(read(body)?),
            RoleRecord::KIND => Self::Role(read(body)?),
            ManagedPolicyRecord::KIND => Self::ManagedPolicy(read(body)?),
            AccessKeyRecord::KIND => Self::AccessKey(read(body)?),
            crate::organization::OrganizationRecord::KIND => Self::Organization(read(body)?),
            other => return Err(RecordError::UnknownKind(other.to_string())),
        })
    }
}

/// A stored body in either form a reader has it: a JSON tree or its text.
trait StoredBody {
    fn read<R: serde::de::DeserializeOwned>(self) -> Result<R, serde_json::Error>;
}

impl StoredBody for serde_json::Value {
    fn read<R: serde::de::DeserializeOwned>(self) -> Result<R, serde_json::Error> {
        serde_json::from_value(self)
    }
}

impl StoredBody for &str {
    fn read<R: serde::de::DeserializeOwned>(self) -> Result<R, serde_json::Error> {
        serde_json::from_str(self)
    }
}

macro_rules! into_any {
    ($($variant:ident($record:ty)),*) => {$(
        impl From<$record> for AnyRecord {
            fn from(record: $record) -> Self {
                AnyRecord::$variant(record)
            }
        }
    )*};
}

into_any!(
    Organization(crate::organization::OrganizationRecord),
    Account(AccountRecord),
    User(UserRecord),
    Group(GroupRecord),
    Role(RoleRecord),
    ManagedPolicy(ManagedPolicyRecord),
    AccessKey(AccessKeyRecord)
);

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRecord {
        UserRecord {
            account: "111111111111".into(),
            name: "Bob".into(),
            path: "/dev/".into(),
            id: "AIDAEXAMPLEEXAMPLE001".into(),
            created_at: 1_700_000_000,
            tags: vec![Tag {
                key: "team".into(),
                value: "blue".into(),
            }],
            permissions_boundary: None,
            inline_policies: Default::default(),
            attached_policies: vec![],
            groups: vec!["devs".into()],
        }
    }

    #[test]
    fn names_are_keyed_lower_case_in_their_account() {
        let bob = user();
        assert_eq!(UserRecord::kind(), "user");
        assert_eq!(bob.scope(), "111111111111");
        assert_eq!(bob.key(), "bob");
        assert_eq!(bob.arn(), "arn:aws:iam::111111111111:user/dev/Bob");
    }

    #[test]
    fn records_round_trip_through_their_store_body() {
        let records: Vec<AnyRecord> = vec![
            user().into(),
            AccessKeyRecord {
                id: "AKIAEXAMPLE000000001".into(),
                account: "111111111111".into(),
                user: None,
                secret: SecretText::new("sealed"),
                status: AccessKeyStatus::Inactive,
                created_at: 5,
            }
            .into(),
        ];
        for record in records {
            let back = AnyRecord::from_body(record.kind(), record.to_body()).unwrap();
            assert_eq!(back, record);
        }
        assert!(matches!(
            AnyRecord::from_body("nope", serde_json::json!({})),
            Err(RecordError::UnknownKind(_))
        ));
        assert!(AnyRecord::from_body("user", serde_json::json!({"name": 1})).is_err());
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let key = AccessKeyRecord {
            id: "AKIAEXAMPLE000000001".into(),
            account: "111111111111".into(),
            user: Some("bob".into()),
            secret: SecretText::new("wJalrXUtnFEMI/K7MDENG"),
            status: AccessKeyStatus::Active,
            created_at: 5,
        };
        let shown = format!("{key:?} {:?}", AnyRecord::from(key.clone()));
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(shown.contains("<redacted>"));
        // The stored body does carry it: that is the store's job to seal.
        assert_eq!(key.secret.expose(), "wJalrXUtnFEMI/K7MDENG");
    }
}
