//! The YAML world file: accounts and everything IAM in them, applied at
//! start (examples: `examples/*/world.yaml`).
//!
//! ```yaml
//! accounts:
//!   - id: "111111111111"
//!     root_access_key: { id: AKIAEXAMPLEROOT00001, secret: "…" }
//!     managed_policies:
//!       - name: invoke
//!         document: { Version: "2012-10-17", Statement: [ … ] }
//!     groups:
//!       - { name: devs, managed_policies: [invoke] }
//!     users:
//!       - name: alice
//!         access_keys: [ { id: AKIAEXAMPLEALICE0001, secret: "…" } ]
//!         groups: [devs]
//!     roles:
//!       - name: app
//!         trust_policy: '{"Version":"2012-10-17","Statement":[…]}'
//! ```
//!
//! # Why the file is checked this hard
//!
//! The file is the whole world: a typo that is silently ignored (an unknown
//! field, a policy attached by a misspelled name) changes who may do what.
//! So a file is accepted whole or rejected whole, and a rejection lists
//! EVERY problem with its line:column and its YAML path
//! (`accounts[0].roles[1].trust_policy`), using AWS's own messages where IAM
//! would have refused the same thing (names, paths, policy documents,
//! duplicates, missing policies, quotas).
//!
//! The file is read once into a positioned tree by `iamgate-yaml`, shared
//! with the API model, which decodes `apis:` and `domain_names:` from the
//! same tree ([`WorldConfig::from_tree`]; the control plane's `WorldFile`
//! puts the sections together). Decoding here is by hand, so a problem is
//! noted at its node and decoding carries on.
//!
//! Policy documents may be JSON text or YAML mappings. A mapping is turned
//! into JSON one member per line, remembering which YAML line each JSON line
//! came from, so an error inside it is reported at its place in the file.
//! For JSON text the error carries the file position of the text and the
//! position inside the document.
//!
//! # Records and stable ids
//!
//! [`WorldConfig::to_records`] turns the file into [`crate::records`]. New
//! entities need unique ids and creation times; an entity that already
//! exists must keep its own, or every restart would change every id. So the
//! caller supplies them through a closure asked once per entity
//! ([`EntityRef`] → [`Stamp`]): the control plane answers from the store and
//! mints fresh ones only for new entities, and applying the same file twice
//! then yields identical records. A user, group, role or managed policy may
//! also declare its unique id (`id: AIDA…`): a setup imported from AWS
//! keeps AWS's ids, which trust and resource policies may name.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use iamgate_policy::validate::{InlineOwner, inline_quota_error};
use iamgate_policy::{PolicyDocument, PolicyKind, ValidationError};

use crate::arns;
use crate::ids::{IdKind, RandomUnavailable, new_id};
use crate::managed::{aws_managed_policies, aws_managed_policy_index};
use crate::records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, ManagedPolicyRecord,
    PolicyVersionRecord, RoleRecord, SecretText, Tag, Timestamp, UserRecord,
};
pub use iamgate_yaml::ConfigError;
use iamgate_yaml::{Decoder, Fields, JsonText, Node, Value};

/// Role session limits (seconds), CreateRole's `MaxSessionDuration`.
pub const MIN_MAX_SESSION_DURATION: u32 = 3600;
pub const MAX_MAX_SESSION_DURATION: u32 = 43200;
/// IAM quotas enforced on the file.
const ACCESS_KEYS_PER_USER: usize = 2;
const GROUPS_PER_USER: usize = 10;
const TAGS_PER_ENTITY: usize = 50;
const DESCRIPTION_MAX: usize = 1000;
const PATH_MAX: usize = 512;

/// A validated world file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldConfig {
    pub accounts: Vec<AccountConfig>,
    /// `organization:`: the accounts' AWS Organization and its SCPs
    /// (see [`crate::organization`]).
    pub organization: Option<crate::organization::OrganizationRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// 12 digits.
    pub id: String,
    pub root_access_key: Option<AccessKeyConfig>,
    pub users: Vec<UserConfig>,
    pub groups: Vec<GroupConfig>,
    pub roles: Vec<RoleConfig>,
    pub managed_policies: Vec<ManagedPolicyConfig>,
}

/// An access key declared in the file; `Debug` redacts the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyConfig {
    pub id: String,
    pub secret: SecretText,
    pub status: AccessKeyStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConfig {
    pub name: String,
    /// The unique id (`AIDA…`) to keep, as imported from AWS; a fresh one
    /// when absent.
    pub id: Option<String>,
    pub path: String,
    pub access_keys: Vec<AccessKeyConfig>,
    /// Inline policies: name → JSON text.
    pub policies: BTreeMap<String, String>,
    /// Attached managed policies, resolved to ARNs.
    pub managed_policies: Vec<String>,
    /// Group names as the groups declare them.
    pub groups: Vec<String>,
    /// Managed policy ARN.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    pub name: String,
    /// `AGPA…`, as [`UserConfig::id`].
    pub id: Option<String>,
    pub path: String,
    pub policies: BTreeMap<String, String>,
    pub managed_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleConfig {
    pub name: String,
    /// `AROA…`, as [`UserConfig::id`].
    pub id: Option<String>,
    pub path: String,
    /// JSON text.
    pub trust_policy: String,
    pub max_session_duration: u32,
    pub description: Option<String>,
    pub policies: BTreeMap<String, String>,
    pub managed_policies: Vec<String>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicyConfig {
    pub name: String,
    /// `ANPA…`, as [`UserConfig::id`].
    pub id: Option<String>,
    pub path: String,
    pub description: Option<String>,
    /// JSON text.
    pub document: String,
}

impl ManagedPolicyConfig {
    pub fn arn(&self, account: &str) -> String {
        arns::policy_arn(account, &self.path, &self.name)
    }
}

/// What kind of entity an id or creation time is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Account,
    User,
    Group,
    Role,
    ManagedPolicy,
    AccessKey,
}

impl EntityKind {
    /// The kind of unique id the entity carries; accounts and access keys
    /// are named by their declared id instead.
    pub fn id_kind(self) -> Option<IdKind> {
        match self {
            Self::User => Some(IdKind::User),
            Self::Group => Some(IdKind::Group),
            Self::Role => Some(IdKind::Role),
            Self::ManagedPolicy => Some(IdKind::ManagedPolicy),
            Self::Account | Self::AccessKey => None,
        }
    }
}

/// One entity [`WorldConfig::to_records`] needs an id and a time for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityRef<'a> {
    pub kind: EntityKind,
    pub account: &'a str,
    /// The entity's name as declared (the id for accounts and access keys).
    pub name: &'a str,
}

/// The unique id and creation time of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Ignored for accounts and access keys, whose ids are declared.
    pub id: String,
    pub created_at: Timestamp,
}

/// Stamps for a world with nothing stored yet: fresh ids, created `now`.
pub fn fresh_stamp(entity: EntityRef<'_>, now: Timestamp) -> Result<Stamp, RandomUnavailable> {
    let id = match entity.kind.id_kind() {
        Some(kind) => new_id(kind)?,
        None => entity.name.to_string(),
    };
    Ok(Stamp {
        id,
        created_at: now,
    })
}

impl WorldConfig {
    /// Parses and checks a world file; any problem rejects it whole, with
    /// every problem found.
    pub fn parse(text: &str) -> Result<WorldConfig, Vec<ConfigError>> {
        Self::parse_with_sections(text, &[])
    }

    /// Like [`WorldConfig::parse`], ignoring the named top-level sections,
    /// which other parts of the gateway read (APIs, stages).
    pub fn parse_with_sections(
        text: &str,
        other_sections: &[&str],
    ) -> Result<WorldConfig, Vec<ConfigError>> {
        let root = iamgate_yaml::parse(text).map_err(|error| vec![error])?;
        Self::from_tree(&root, other_sections)
    }

    /// Decodes the IAM sections of a world file already read into a tree
    /// (the other sections named in `other_sections` are left to their
    /// readers); every problem is reported, in file order.
    pub fn from_tree(
        root: &Node,
        other_sections: &[&str],
    ) -> Result<WorldConfig, Vec<ConfigError>> {
        let mut checker = Checker::default();
        let config = checker.world(root, other_sections);
        let mut errors = checker.decoder.errors;
        if errors.is_empty() {
            Ok(config)
        } else {
            errors.sort_by_key(|e| (e.line, e.column));
            Err(errors)
        }
    }

    /// The records this file describes (AWS-managed policies excepted:
    /// see [`crate::managed`]). `stamp` is asked once per entity for its id
    /// and creation time; answer with the stored ones to keep them stable.
    ///
    /// Access-key secrets are put in the records as written in the file;
    /// the control plane seals them before storing.
    pub fn to_records<E>(
        &self,
        stamp: &mut impl FnMut(EntityRef<'_>) -> Result<Stamp, E>,
    ) -> Result<Vec<AnyRecord>, E> {
        let mut records = Vec::new();
        for account in &self.accounts {
            let a = account.id.as_str();
            let mut ask = |kind: EntityKind, name: &str| {
                stamp(EntityRef {
                    kind,
                    account: a,
                    name,
                })
            };
            let created = ask(EntityKind::Account, a)?.created_at;
            records.push(
                AccountRecord {
                    id: a.to_string(),
                    created_at: created,
                }
                .into(),
            );
            if let Some(root) = &account.root_access_key {
                let created_at = ask(EntityKind::AccessKey, &root.id)?.created_at;
                records.push(key_record(root, a, None, created_at));
            }
            for policy in &account.managed_policies {
                let Stamp { id, created_at } = ask(EntityKind::ManagedPolicy, &policy.name)?;
                let id = policy.id.clone().unwrap_or(id);
                records.push(
                    ManagedPolicyRecord {
                        account: a.to_string(),
                        name: policy.name.clone(),
                        path: policy.path.clone(),
                        id,
                        created_at,
                        description: policy.description.clone(),
                        default_version_id: "v1".to_string(),
                        versions: vec![PolicyVersionRecord {
                            version_id: "v1".to_string(),
                            document: policy.document.clone(),
                            created_at,
                        }],
                        tags: Vec::new(),
                    }
                    .into(),
                );
            }
            for group in &account.groups {
                let Stamp { id, created_at } = ask(EntityKind::Group, &group.name)?;
                let id = group.id.clone().unwrap_or(id);
                records.push(
                    GroupRecord {
                        account: a.to_string(),
                        name: group.name.clone(),
                        path: group.path.clone(),
                        id,
                        created_at,
                        inline_policies: group.policies.clone().into(),
                        attached_policies: group.managed_policies.clone(),
                    }
                    .into(),
                );
            }
            for user in &account.users {
                let Stamp { id, created_at } = ask(EntityKind::User, &user.name)?;
                let id = user.id.clone().unwrap_or(id);
                records.push(
                    UserRecord {
                        account: a.to_string(),
                        name: user.name.clone(),
                        path: user.path.clone(),
                        id,
                        created_at,
                        tags: user.tags.clone(),
                        permissions_boundary: user.permissions_boundary.clone(),
                        inline_policies: user.policies.clone().into(),
                        attached_policies: user.managed_policies.clone(),
                        groups: user.groups.clone(),
                    }
                    .into(),
                );
                for key in &user.access_keys {
                    let created_at = ask(EntityKind::AccessKey, &key.id)?.created_at;
                    records.push(key_record(key, a, Some(&user.name), created_at));
                }
            }
            for role in &account.roles {
                let Stamp { id, created_at } = ask(EntityKind::Role, &role.name)?;
                let id = role.id.clone().unwrap_or(id);
                records.push(
                    RoleRecord {
                        account: a.to_string(),
                        name: role.name.clone(),
                        path: role.path.clone(),
                        id,
                        created_at,
                        trust_policy: role.trust_policy.clone(),
                        description: role.description.clone(),
                        max_session_duration: role.max_session_duration,
                        permissions_boundary: role.permissions_boundary.clone(),
                        tags: role.tags.clone(),
                        inline_policies: role.policies.clone().into(),
                        attached_policies: role.managed_policies.clone(),
                    }
                    .into(),
                );
            }
        }
        if let Some(organization) = &self.organization {
            records.push(organization.clone().into());
        }
        Ok(records)
    }
}

fn key_record(
    key: &AccessKeyConfig,
    account: &str,
    user: Option<&str>,
    created_at: Timestamp,
) -> AnyRecord {
    AccessKeyRecord {
        id: key.id.clone(),
        account: account.to_string(),
        user: user.map(str::to_string),
        secret: key.secret.clone(),
        status: key.status,
        created_at,
    }
    .into()
}

/// Collects every error while decoding the tree (the shapes through the
/// shared [`Decoder`], the IAM rules here).
#[derive(Default)]
pub(crate) struct Checker {
    decoder: Decoder,
    /// Access key id → path of its first declaration (ids are global).
    access_keys: HashMap<String, String>,
    /// Unique id → path of its first declaration (ids are global too).
    unique_ids: HashMap<String, String>,
    /// Documents already found valid, by kind: many principals often
    /// carry the same policy text (100,000 users of one generated or
    /// imported world), and checking a text again would say the same.
    valid_documents: HashSet<(PolicyKind, String)>,
}

/// Per-account names declared so far, lower-cased → (declared name, path).
#[derive(Default)]
struct Declared {
    policies: HashMap<String, (String, String)>,
    groups: HashMap<String, String>,
}

fn validation_message(value: &str, member: &str, constraint: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )
}

impl std::ops::Deref for Checker {
    type Target = Decoder;
    fn deref(&self) -> &Decoder {
        &self.decoder
    }
}

impl std::ops::DerefMut for Checker {
    fn deref_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }
}

impl Checker {
    fn world(&mut self, root: &Node, other_sections: &[&str]) -> WorldConfig {
        let mut allowed = vec!["accounts", "organization"];
        allowed.extend_from_slice(other_sections);
        let mut accounts = Vec::new();
        if root.value == Value::Null {
            self.error(
                root,
                "",
                None,
                "the world file is empty; it needs `accounts`".to_string(),
            );
            return WorldConfig {
                accounts,
                organization: None,
            };
        }
        let Some(fields) = self.fields(root, "", &allowed) else {
            return WorldConfig {
                accounts,
                organization: None,
            };
        };
        let Some(list) = fields.get("accounts") else {
            self.error(
                root,
                "",
                None,
                "missing required field `accounts`".to_string(),
            );
            return WorldConfig {
                accounts,
                organization: None,
            };
        };
        let mut seen: HashMap<String, String> = HashMap::new();
        for (index, node) in self.list(Some(list), "accounts").iter().enumerate() {
            let path = format!("accounts[{index}]");
            if let Some(account) = self.account(node, &path) {
                if let Some(first) = seen.get(&account.id) {
                    let message = format!("account {} is already declared at {first}", account.id);
                    self.error(node, &path, None, message);
                } else {
                    seen.insert(account.id.clone(), path);
                }
                accounts.push(account);
            }
        }
        let organization = fields
            .get("organization")
            .and_then(|node| self.organization(node, "organization"));
        WorldConfig {
            accounts,
            organization,
        }
    }

    fn account(&mut self, node: &Node, path: &str) -> Option<AccountConfig> {
        let fields = self.fields(
            node,
            path,
            &[
                "id",
                "root_access_key",
                "users",
                "groups",
                "roles",
                "managed_policies",
            ],
        )?;
        let id = match self.required_text(&fields, "id") {
            Some((id, at)) => {
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    self.error(
                        at,
                        &fields.path("id"),
                        None,
                        format!("account id {id:?} must be 12 digits"),
                    );
                }
                id
            }
            None => String::new(),
        };
        let root_access_key = fields
            .get("root_access_key")
            .and_then(|n| self.access_key(n, &fields.path("root_access_key")));

        // Policies and groups first: users and roles refer to them.
        let mut declared = Declared::default();
        let mut managed_policies = Vec::new();
        let policies_path = fields.path("managed_policies");
        for (index, node) in self
            .list(fields.get("managed_policies"), &policies_path)
            .iter()
            .enumerate()
        {
            let path = format!("{policies_path}[{index}]");
            if let Some(policy) = self.managed_policy(node, &path) {
                match declared.policies.entry(policy.name.to_lowercase()) {
                    Entry::Occupied(_) => {
                        let message = format!(
                            "A policy called {} already exists. Duplicate names are not allowed.",
                            policy.name
                        );
                        self.error(node, &path, Some("EntityAlreadyExists"), message);
                    }
                    Entry::Vacant(slot) => {
                        slot.insert((policy.name.clone(), policy.arn(&id)));
                    }
                }
                managed_policies.push(policy);
            }
        }
        let mut groups = Vec::new();
        let groups_path = fields.path("groups");
        for (index, node) in self
            .list(fields.get("groups"), &groups_path)
            .iter()
            .enumerate()
        {
            let path = format!("{groups_path}[{index}]");
            if let Some(group) = self.group(node, &path, &id, &declared) {
                match declared.groups.entry(group.name.to_lowercase()) {
                    Entry::Occupied(_) => {
                        let message = format!("Group with name {} already exists.", group.name);
                        self.error(node, &path, Some("EntityAlreadyExists"), message);
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(group.name.clone());
                    }
                }
                groups.push(group);
            }
        }
        let mut users = Vec::new();
        let mut user_names: HashMap<String, ()> = HashMap::new();
        let users_path = fields.path("users");
        for (index, node) in self
            .list(fields.get("users"), &users_path)
            .iter()
            .enumerate()
        {
            let path = format!("{users_path}[{index}]");
            if let Some(user) = self.user(node, &path, &id, &declared) {
                if user_names.insert(user.name.to_lowercase(), ()).is_some() {
                    let message = format!("User with name {} already exists.", user.name);
                    self.error(node, &path, Some("EntityAlreadyExists"), message);
                }
                users.push(user);
            }
        }
        let mut roles = Vec::new();
        let mut role_names: HashMap<String, ()> = HashMap::new();
        let roles_path = fields.path("roles");
        for (index, node) in self
            .list(fields.get("roles"), &roles_path)
            .iter()
            .enumerate()
        {
            let path = format!("{roles_path}[{index}]");
            if let Some(role) = self.role(node, &path, &id, &declared) {
                if role_names.insert(role.name.to_lowercase(), ()).is_some() {
                    let message = format!("Role with name {} already exists.", role.name);
                    self.error(node, &path, Some("EntityAlreadyExists"), message);
                }
                roles.push(role);
            }
        }
        Some(AccountConfig {
            id,
            root_access_key,
            users,
            groups,
            roles,
            managed_policies,
        })
    }

    fn access_key(&mut self, node: &Node, path: &str) -> Option<AccessKeyConfig> {
        let fields = self.fields(node, path, &["id", "secret", "status"])?;
        let (id, id_node) = self.required_text(&fields, "id")?;
        let secret = self.required_text(&fields, "secret");
        let valid_id = (16..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !valid_id {
            self.error(
                id_node,
                &fields.path("id"),
                Some("ValidationError"),
                validation_message(
                    &id,
                    "accessKeyId",
                    "Member must satisfy regular expression pattern: [A-Z0-9]{16,128}",
                ),
            );
        } else if let Some(first) = self.access_keys.get(&id) {
            let message = format!("access key {id} is already declared at {first}");
            self.error(id_node, &fields.path("id"), None, message);
        } else {
            self.access_keys.insert(id.clone(), fields.path("id"));
        }
        if let Some((secret, at)) = &secret
            && secret.is_empty()
        {
            self.error(
                at,
                &fields.path("secret"),
                None,
                "the secret access key must not be empty".to_string(),
            );
        }
        let status = match fields.get("status") {
            None => AccessKeyStatus::Active,
            Some(at) => match self.text(at, &fields.path("status")).as_deref() {
                Some("Active") => AccessKeyStatus::Active,
                Some("Inactive") => AccessKeyStatus::Inactive,
                Some(other) => {
                    self.error(
                        at,
                        &fields.path("status"),
                        Some("ValidationError"),
                        validation_message(
                            other,
                            "status",
                            "Member must satisfy enum value set: [Active, Inactive]",
                        ),
                    );
                    AccessKeyStatus::Inactive
                }
                None => AccessKeyStatus::Inactive,
            },
        };
        Some(AccessKeyConfig {
            id,
            secret: SecretText::new(secret.map(|(s, _)| s).unwrap_or_default()),
            status,
        })
    }

    /// `[\w+=,.@-]+` of `min..=max` characters, with IAM's message.
    fn name(&mut self, fields: &Fields<'_>, member: &str, max: usize) -> Option<String> {
        let (name, at) = self.required_text(fields, "name")?;
        self.check_name(at, &fields.path("name"), &name, member, max);
        Some(name)
    }

    fn check_name(&mut self, at: &Node, path: &str, name: &str, member: &str, max: usize) {
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if name.is_empty() || !valid_chars {
            self.error(
                at,
                path,
                Some("ValidationError"),
                format!(
                    "The specified value for {member} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
                ),
            );
        } else if name.chars().count() > max {
            self.error(
                at,
                path,
                Some("ValidationError"),
                validation_message(
                    name,
                    member,
                    &format!("Member must have length less than or equal to {max}"),
                ),
            );
        }
    }

    /// An optional unique id to keep (`AIDA…` for a user, …): the prefix
    /// of its kind, 21 characters `[A-Z0-9]`, and declared once in the
    /// whole file, since ids are global as on AWS.
    fn unique_id(&mut self, fields: &Fields<'_>, kind: IdKind) -> Option<String> {
        let at = fields.get("id")?;
        let path = fields.path("id");
        let id = self.text(at, &path)?;
        if !crate::ids::is_unique_id(kind, &id) {
            self.error(
                at,
                &path,
                Some("ValidationError"),
                format!(
                    "{id} is not a unique id of this kind: `{}` and 17 characters A-Z, 0-9",
                    kind.prefix()
                ),
            );
            return None;
        }
        if let Some(first) = self.unique_ids.get(&id) {
            let message = format!("duplicate unique id {id} (first declared at {first})");
            self.error(at, &path, None, message);
            return None;
        }
        self.unique_ids.insert(id.clone(), path);
        Some(id)
    }

    fn path_field(&mut self, fields: &Fields<'_>, member: &str) -> String {
        let Some(at) = fields.get("path") else {
            return "/".to_string();
        };
        let Some(path) = self.text(at, &fields.path("path")) else {
            return "/".to_string();
        };
        let valid = path == "/"
            || (path.len() >= 2
                && path.starts_with('/')
                && path.ends_with('/')
                && path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        if !valid {
            self.error(
                at,
                &fields.path("path"),
                Some("ValidationError"),
                validation_message(
                    &path,
                    member,
                    "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
                ),
            );
        } else if path.len() > PATH_MAX {
            self.error(
                at,
                &fields.path("path"),
                Some("ValidationError"),
                validation_message(
                    &path,
                    member,
                    &format!("Member must have length less than or equal to {PATH_MAX}"),
                ),
            );
        }
        path
    }

    fn description(&mut self, fields: &Fields<'_>) -> Option<String> {
        let at = fields.get("description")?;
        let text = self.text(at, &fields.path("description"))?;
        if text.chars().count() > DESCRIPTION_MAX {
            self.error(
                at,
                &fields.path("description"),
                Some("ValidationError"),
                validation_message(
                    &text,
                    "description",
                    &format!("Member must have length less than or equal to {DESCRIPTION_MAX}"),
                ),
            );
        }
        Some(text)
    }

    fn tags(&mut self, fields: &Fields<'_>) -> Vec<Tag> {
        let path = fields.path("tags");
        let node = fields.get("tags");
        let mut tags = Vec::new();
        for (key, value) in self.map_entries(node, &path) {
            let Some(key_text) = key.scalar_text() else {
                self.error(key, &path, None, "a tag key must be text".to_string());
                continue;
            };
            let at = format!("{path}.{key_text}");
            let value_text = match &value.value {
                Value::Null => String::new(),
                _ => value.scalar_text().unwrap_or_else(|| {
                    self.error(
                        value,
                        &at,
                        None,
                        format!("a tag value must be text, found {}", value.type_name()),
                    );
                    String::new()
                }),
            };
            if key_text.is_empty() || key_text.chars().count() > 128 {
                self.error(
                    key,
                    &at,
                    Some("ValidationError"),
                    validation_message(
                        &key_text,
                        "tags.member.key",
                        "Member must have length between 1 and 128",
                    ),
                );
            }
            if value_text.chars().count() > 256 {
                self.error(
                    value,
                    &at,
                    Some("ValidationError"),
                    validation_message(
                        &value_text,
                        "tags.member.value",
                        "Member must have length less than or equal to 256",
                    ),
                );
            }
            tags.push(Tag {
                key: key_text,
                value: value_text,
            });
        }
        if tags.len() > TAGS_PER_ENTITY
            && let Some(node) = node
        {
            self.error(
                node,
                &path,
                Some("LimitExceeded"),
                format!("Cannot exceed quota for TagsPerEntity: {TAGS_PER_ENTITY}"),
            );
        }
        tags
    }

    /// A policy document as JSON text: given as text, or a YAML mapping.
    pub(crate) fn document(&mut self, node: &Node, path: &str, kind: PolicyKind) -> Option<String> {
        let (text, origins) = match &node.value {
            Value::Str(text) => (text.clone(), None),
            Value::Map(_) => {
                let json = iamgate_yaml::to_json(node);
                (json.text.clone(), Some(json))
            }
            _ => {
                self.error(
                    node,
                    path,
                    None,
                    format!(
                        "a policy document must be JSON text or a mapping, found {}",
                        node.type_name()
                    ),
                );
                return None;
            }
        };
        let known = (kind, text);
        if !self.valid_documents.contains(&known) {
            match PolicyDocument::parse(&known.1, kind) {
                Ok(_) => {
                    self.valid_documents.insert(known.clone());
                }
                Err(errors) => {
                    for error in errors {
                        self.policy_error(node, path, &error, origins.as_ref());
                    }
                }
            }
        }
        Some(known.1)
    }

    fn policy_error(
        &mut self,
        node: &Node,
        path: &str,
        error: &ValidationError,
        origins: Option<&JsonText>,
    ) {
        let code = match error.code {
            iamgate_policy::ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            iamgate_policy::ErrorCode::LimitExceeded => "LimitExceeded",
            iamgate_policy::ErrorCode::ValidationError => "ValidationError",
        };
        let message = if error.detail.is_empty() {
            error.message.clone()
        } else {
            format!("{} ({})", error.message, error.detail)
        };
        let (line, column, document_position) = match origins {
            Some(json) => {
                let (line, column) = json.origin(error.line).unwrap_or((node.line, node.column));
                (line, column, None)
            }
            None => (node.line, node.column, Some((error.line, error.column))),
        };
        self.errors.push(ConfigError {
            path: path.to_string(),
            line,
            column,
            code: Some(code),
            message,
            document_position,
        });
    }

    /// Inline policies `{name: document}`, with the owner's size quota.
    fn inline_policies(
        &mut self,
        fields: &Fields<'_>,
        owner: InlineOwner,
        owner_name: &str,
    ) -> BTreeMap<String, String> {
        let path = fields.path("policies");
        let node = fields.get("policies");
        let mut policies = BTreeMap::new();
        let mut sizes = Vec::new();
        for (key, value) in self.map_entries(node, &path) {
            let Some(name) = key.scalar_text() else {
                self.error(key, &path, None, "a policy name must be text".to_string());
                continue;
            };
            let at = format!("{path}.{name}");
            self.check_name(key, &at, &name, "policyName", 128);
            if let Some(text) = self.document(value, &at, PolicyKind::InlineIdentity) {
                sizes.push(iamgate_policy::document::policy_size(&text));
                policies.insert(name, text);
            }
        }
        if let (Some(error), Some(node)) = (inline_quota_error(owner, owner_name, &sizes), node) {
            self.policy_error(node, &path, &error, None);
            if let Some(last) = self.errors.last_mut() {
                last.document_position = None;
            }
        }
        policies
    }

    /// Resolves a managed policy reference (ARN, or the name of a policy of
    /// this account) to its ARN.
    fn policy_ref(
        &mut self,
        node: &Node,
        path: &str,
        account: &str,
        declared: &Declared,
    ) -> Option<String> {
        let reference = self.text(node, path)?;
        let found = if reference.starts_with("arn:") {
            let own = declared.policies.values().any(|(_, arn)| *arn == reference);
            (own || aws_managed_policy_index(&reference).is_some()).then(|| reference.clone())
        } else {
            declared
                .policies
                .get(&reference.to_lowercase())
                .map(|(_, arn)| arn.clone())
        };
        if found.is_none() {
            let arn = if reference.starts_with("arn:") {
                reference.clone()
            } else {
                arns::policy_arn(account, "/", &reference)
            };
            let hint = if arn.starts_with("arn:aws:iam::aws:policy/") {
                " (not among the AWS-managed policies this build embeds)"
            } else {
                " (declare it under this account's managed_policies)"
            };
            self.error(
                node,
                path,
                Some("PolicyNotAttachable"),
                format!("Policy {arn} does not exist or is not attachable.{hint}"),
            );
        }
        found
    }

    fn attached(&mut self, fields: &Fields<'_>, account: &str, declared: &Declared) -> Vec<String> {
        let path = fields.path("managed_policies");
        let mut arns = Vec::new();
        for (index, node) in self
            .list(fields.get("managed_policies"), &path)
            .iter()
            .enumerate()
        {
            let at = format!("{path}[{index}]");
            if let Some(arn) = self.policy_ref(node, &at, account, declared)
                && !arns.contains(&arn)
            {
                arns.push(arn);
            }
        }
        arns
    }

    fn boundary(
        &mut self,
        fields: &Fields<'_>,
        account: &str,
        declared: &Declared,
    ) -> Option<String> {
        let node = fields.get("permissions_boundary")?;
        self.policy_ref(
            node,
            &fields.path("permissions_boundary"),
            account,
            declared,
        )
    }

    fn managed_policy(&mut self, node: &Node, path: &str) -> Option<ManagedPolicyConfig> {
        let fields = self.fields(
            node,
            path,
            &["name", "id", "path", "description", "document"],
        )?;
        let name = self.name(&fields, "policyName", 128);
        let id = self.unique_id(&fields, IdKind::ManagedPolicy);
        let policy_path = self.path_field(&fields, "path");
        let description = self.description(&fields);
        let document = match fields.get("document") {
            Some(at) => self.document(at, &fields.path("document"), PolicyKind::ManagedIdentity),
            None => {
                self.error(
                    node,
                    path,
                    None,
                    "missing required field `document`".to_string(),
                );
                None
            }
        };
        Some(ManagedPolicyConfig {
            name: name?,
            id,
            path: policy_path,
            description,
            document: document.unwrap_or_default(),
        })
    }

    fn group(
        &mut self,
        node: &Node,
        path: &str,
        account: &str,
        declared: &Declared,
    ) -> Option<GroupConfig> {
        let fields = self.fields(
            node,
            path,
            &["name", "id", "path", "policies", "managed_policies"],
        )?;
        let name = self.name(&fields, "groupName", 128);
        let id = self.unique_id(&fields, IdKind::Group);
        let group_path = self.path_field(&fields, "path");
        let policies = self.inline_policies(
            &fields,
            InlineOwner::Group,
            name.as_deref().unwrap_or_default(),
        );
        let managed_policies = self.attached(&fields, account, declared);
        Some(GroupConfig {
            name: name?,
            id,
            path: group_path,
            policies,
            managed_policies,
        })
    }

    fn user(
        &mut self,
        node: &Node,
        path: &str,
        account: &str,
        declared: &Declared,
    ) -> Option<UserConfig> {
        let fields = self.fields(
            node,
            path,
            &[
                "name",
                "id",
                "path",
                "access_keys",
                "policies",
                "managed_policies",
                "groups",
                "permissions_boundary",
                "tags",
            ],
        )?;
        let name = self.name(&fields, "userName", 64);
        let id = self.unique_id(&fields, IdKind::User);
        let user_path = self.path_field(&fields, "path");
        let keys_path = fields.path("access_keys");
        let key_nodes = self.list(fields.get("access_keys"), &keys_path);
        let mut access_keys = Vec::new();
        for (index, key) in key_nodes.iter().enumerate() {
            if let Some(key) = self.access_key(key, &format!("{keys_path}[{index}]")) {
                access_keys.push(key);
            }
        }
        if key_nodes.len() > ACCESS_KEYS_PER_USER
            && let Some(at) = fields.get("access_keys")
        {
            self.error(
                at,
                &keys_path,
                Some("LimitExceeded"),
                format!("Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"),
            );
        }
        let policies = self.inline_policies(
            &fields,
            InlineOwner::User,
            name.as_deref().unwrap_or_default(),
        );
        let managed_policies = self.attached(&fields, account, declared);
        let groups_path = fields.path("groups");
        let mut groups = Vec::new();
        let group_nodes = self.list(fields.get("groups"), &groups_path);
        for (index, node) in group_nodes.iter().enumerate() {
            let at = format!("{groups_path}[{index}]");
            let Some(group) = self.text(node, &at) else {
                continue;
            };
            match declared.groups.get(&group.to_lowercase()) {
                Some(declared_name) => {
                    if !groups.contains(declared_name) {
                        groups.push(declared_name.clone());
                    }
                }
                None => self.error(
                    node,
                    &at,
                    Some("NoSuchEntity"),
                    format!("The group with name {group} cannot be found."),
                ),
            }
        }
        if group_nodes.len() > GROUPS_PER_USER
            && let Some(at) = fields.get("groups")
        {
            self.error(
                at,
                &groups_path,
                Some("LimitExceeded"),
                format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"),
            );
        }
        let permissions_boundary = self.boundary(&fields, account, declared);
        let tags = self.tags(&fields);
        Some(UserConfig {
            name: name?,
            id,
            path: user_path,
            access_keys,
            policies,
            managed_policies,
            groups,
            permissions_boundary,
            tags,
        })
    }

    fn role(
        &mut self,
        node: &Node,
        path: &str,
        account: &str,
        declared: &Declared,
    ) -> Option<RoleConfig> {
        let fields = self.fields(
            node,
            path,
            &[
                "name",
                "id",
                "path",
                "trust_policy",
                "max_session_duration",
                "description",
                "policies",
                "managed_policies",
                "permissions_boundary",
                "tags",
            ],
        )?;
        let name = self.name(&fields, "roleName", 64);
        let id = self.unique_id(&fields, IdKind::Role);
        let role_path = self.path_field(&fields, "path");
        let trust_policy = match fields.get("trust_policy") {
            Some(at) => self.document(at, &fields.path("trust_policy"), PolicyKind::RoleTrust),
            None => {
                self.error(
                    node,
                    path,
                    None,
                    "missing required field `trust_policy`".to_string(),
                );
                None
            }
        };
        let max_session_duration = match fields.get("max_session_duration") {
            None => MIN_MAX_SESSION_DURATION,
            Some(at) => {
                let at_path = fields.path("max_session_duration");
                match at.value {
                    Value::Int(seconds)
                        if (i128::from(MIN_MAX_SESSION_DURATION)
                            ..=i128::from(MAX_MAX_SESSION_DURATION))
                            .contains(&seconds) =>
                    {
                        u32::try_from(seconds).unwrap_or(MIN_MAX_SESSION_DURATION)
                    }
                    Value::Int(seconds) => {
                        let constraint = if seconds < i128::from(MIN_MAX_SESSION_DURATION) {
                            format!(
                                "Member must have value greater than or equal to {MIN_MAX_SESSION_DURATION}"
                            )
                        } else {
                            format!(
                                "Member must have value less than or equal to {MAX_MAX_SESSION_DURATION}"
                            )
                        };
                        self.error(
                            at,
                            &at_path,
                            Some("ValidationError"),
                            validation_message(
                                &seconds.to_string(),
                                "maxSessionDuration",
                                &constraint,
                            ),
                        );
                        MIN_MAX_SESSION_DURATION
                    }
                    _ => {
                        self.error(
                            at,
                            &at_path,
                            None,
                            format!(
                                "expected a whole number of seconds, found {}",
                                at.type_name()
                            ),
                        );
                        MIN_MAX_SESSION_DURATION
                    }
                }
            }
        };
        let description = self.description(&fields);
        let policies = self.inline_policies(
            &fields,
            InlineOwner::Role,
            name.as_deref().unwrap_or_default(),
        );
        let managed_policies = self.attached(&fields, account, declared);
        let permissions_boundary = self.boundary(&fields, account, declared);
        let tags = self.tags(&fields);
        Some(RoleConfig {
            name: name?,
            id,
            path: role_path,
            trust_policy: trust_policy.unwrap_or_default(),
            max_session_duration,
            description,
            policies,
            managed_policies,
            permissions_boundary,
            tags,
        })
    }
}

/// The AWS-managed policy records, for callers that apply a world file
/// (they exist in every deployment, whatever the file says).
pub fn aws_managed_policy_records() -> Vec<AnyRecord> {
    aws_managed_policies()
        .cloned()
        .map(AnyRecord::from)
        .collect()
}
