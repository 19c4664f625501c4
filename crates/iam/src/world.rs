//! The immutable in-memory snapshot of IAM the data plane reads.
//!
//! Why a snapshot: the hot path (SigV4 verify → principal → evaluate) must
//! not touch the database or take a lock. The server builds a `World` from
//! all records, shares it as `Arc<World>` and swaps in a new one when the
//! store reports a change. Everything expensive happens once, here, at
//! build time: policy documents are parsed and compiled, a user's own
//! policies into one indexed set and each group's into another that every
//! member shares, so evaluation only walks prepared indexes.
//!
//! Fail closed: a stored policy that no longer parses, an attachment to a
//! policy that does not exist, or a secret that cannot be unsealed never
//! grants anything. Such records are kept out of the snapshot (or their
//! broken statements can only deny, see `PolicyDocument::parse_lenient`)
//! and listed in [`World::problems`] for the operator.
//!
//! Temporary credentials are not in the snapshot: an `ASIA…` key is
//! resolved by opening its session token with the [`TokenSealer`]; the
//! session's role or user is then looked up here, and must still be the
//! same entity (same unique id) for its policies to apply.

use std::fmt;
use std::sync::{Arc, OnceLock};

use iamgate_policy::compiled::CompiledPolicies;
use iamgate_policy::{
    Decision, EvaluationInput, NamedPolicy, PolicyDocument, PolicyKind, PrincipalIdentity,
    RequestContext, ResourcePolicyKind, evaluate,
};
use iamgate_sigv4::{CredentialError, CredentialProvider, ResolvedCredential, Secret};

use crate::arns;
use crate::ids::IdKind;
use crate::managed::{
    aws_managed_policies, aws_managed_policy_at, aws_managed_policy_count, aws_managed_policy_index,
};
use crate::organization::{Organization, OrganizationRecord, SERVICE_LINKED_ROLE_PATH};
use crate::principal_ids::{PrincipalIds, user_or_role_of};
use crate::records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, InlinePolicies,
    ManagedPolicyRecord, Record, RoleRecord, UserRecord,
};
use crate::session::{SessionClaims, SessionPrincipal, TokenError, TokenSealer};

/// A managed policy and its parsed default version.
#[derive(Debug)]
pub struct PolicyEntry {
    pub record: ManagedPolicyRecord,
    /// `None` when the default version does not parse at all.
    pub document: Option<Arc<PolicyDocument>>,
    /// The default version compiled once, shared by every identity that
    /// attaches the policy (empty when it does not parse: it grants nothing).
    pub compiled: Arc<CompiledPolicies>,
}

#[derive(Debug)]
pub struct GroupEntry {
    pub record: GroupRecord,
    /// The group's inline policies, compiled together.
    pub inline: Arc<CompiledPolicies>,
}

#[derive(Debug)]
pub struct UserEntry {
    pub record: UserRecord,
    /// The user's inline policies, compiled together.
    pub inline: Arc<CompiledPolicies>,
}

#[derive(Debug)]
pub struct RoleEntry {
    pub record: RoleRecord,
    /// The role's inline policies, compiled together.
    pub inline: Arc<CompiledPolicies>,
    /// The trust policy, compiled as the resource policy of `sts:AssumeRole`.
    pub trust: Arc<CompiledPolicies>,
}

/// A stored long-term access key as requests need it: whose it is,
/// whether it is active and, if it unseals, its secret. The rest of the
/// record (its id is the map's key; the sealed text, the creation date)
/// is the control plane's, read from the store.
struct KeyEntry {
    /// Shared by every entry of the account (see [`World::intern`]).
    account: Arc<str>,
    /// The user's name; `None` for the account root.
    user: Option<Box<str>>,
    status: AccessKeyStatus,
    /// `None` when the stored secret does not unseal: the key signs nothing.
    secret: Option<Secret>,
}

/// The entity that has a unique id now.
#[derive(Clone)]
enum IdHolder {
    User(Arc<UserEntry>),
    Role(Arc<RoleEntry>),
}

impl IdHolder {
    fn arn(&self) -> String {
        match self {
            IdHolder::User(user) => user.record.arn(),
            IdHolder::Role(role) => role.record.arn(),
        }
    }
}

/// Why a record could not be unsealed, from the caller's unsealing function.
pub type UnsealError = Box<dyn std::error::Error + Send + Sync>;

/// Turns a stored (sealed) access-key secret into the secret access key.
pub type Unseal<'a> = &'a dyn Fn(&AccessKeyRecord) -> Result<String, UnsealError>;

/// One change to the records a world is built from, as the store's change
/// feed reports it.
#[derive(Debug, Clone)]
pub enum RecordChange {
    /// The record was created or replaced.
    Put(AnyRecord),
    /// The record at this store address (`kind`, `scope`, `key`) is gone.
    Delete {
        kind: String,
        scope: String,
        key: String,
    },
}

/// Users, groups, roles and managed policies are addressed as the store
/// keys them: account and lower-cased name.
/// The account is the interned copy when the key is stored.
type NameKey = (Arc<str>, String);

/// What a stored problem is about: replacing an entity replaces its
/// problems.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Policy(String),
    Group(NameKey),
    Role(NameKey),
    User(NameKey),
    AccessKey(String),
    Organization,
}

/// The IAM world at one point in time.
///
/// Each entity is prepared from its own record alone — its inline policies
/// compiled, a managed policy's default version compiled once — and
/// entities refer to each other by name: a user's groups and attached
/// policies are looked up when a request is evaluated. So applying a
/// change touches exactly the entity changed, and nothing needs to know
/// who depends on whom.
///
/// Every map is persistent (`imbl`, B-trees): cloning a world shares all
/// of it, and applying a change copies only the path to the entry it
/// touches. A write costs O(log n) in the size of the world, and a reader
/// holding the previous `Arc<World>` keeps a consistent view while the
/// next is built.
#[derive(Clone)]
pub struct World {
    accounts: imbl::OrdSet<String>,
    /// One allocation of each account id that entries refer to, shared by
    /// them all. It only grows, by the accounts this process has seen.
    interned: imbl::OrdSet<Arc<str>>,
    /// Every stored access key, whether it can sign or not.
    access_keys: imbl::OrdMap<String, Arc<KeyEntry>>,
    users: imbl::OrdMap<NameKey, Arc<UserEntry>>,
    groups: imbl::OrdMap<NameKey, Arc<GroupEntry>>,
    roles: imbl::OrdMap<NameKey, Arc<RoleEntry>>,
    /// By ARN: every stored managed policy. The embedded AWS-managed ones
    /// are not copied in: they are looked up (and compiled) on first use,
    /// once per process, behind the stored ones (see [`embedded_policy`]).
    policies: imbl::OrdMap<String, Arc<PolicyEntry>>,
    /// The ARN of each stored managed policy, by store address.
    policy_arns: imbl::OrdMap<NameKey, String>,
    /// Users and roles by unique id (trust policies store principals so).
    ids: imbl::OrdMap<Box<str>, IdHolder>,
    /// Compiled inline policy sets, by their names and texts.
    inline_sets: imbl::OrdMap<String, SharedInline>,
    sealer: Option<Arc<TokenSealer>>,
    /// Documents that do not parse, by the entity they belong to.
    problems: imbl::OrdMap<Subject, Vec<String>>,
    /// The accounts' organization and its SCPs, compiled per account.
    organization: Option<Arc<Organization>>,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("accounts", &self.accounts.len())
            .field("access_keys", &self.access_keys.len())
            .field("users", &self.users.len())
            .field("groups", &self.groups.len())
            .field("roles", &self.roles.len())
            .field("policies", &self.policies.len())
            .field("sessions", &self.sealer.is_some())
            .finish()
    }
}

fn lower_key(account: &str, name: &str) -> NameKey {
    (Arc::from(account), name.to_lowercase())
}

/// The compiled form of "no policies", shared by every entity without
/// inline policies.
fn no_policies() -> Arc<CompiledPolicies> {
    static EMPTY: OnceLock<Arc<CompiledPolicies>> = OnceLock::new();
    EMPTY.get_or_init(Arc::default).clone()
}

/// An embedded AWS-managed policy's entry, parsed and compiled the first
/// time anything asks for it and then shared by every world of the
/// process: of some 1,600 policies a deployment uses a handful, so none is
/// parsed before it is needed. A document that does not parse grants
/// nothing (a test checks that every embedded one parses).
fn embedded_policy(arn: &str) -> Option<&'static Arc<PolicyEntry>> {
    static ENTRIES: OnceLock<Vec<OnceLock<Arc<PolicyEntry>>>> = OnceLock::new();
    let index = aws_managed_policy_index(arn)?;
    let record = aws_managed_policy_at(index)?;
    let slot = ENTRIES
        .get_or_init(|| {
            std::iter::repeat_with(OnceLock::new)
                .take(aws_managed_policy_count())
                .collect()
        })
        .get(index)?;
    Some(slot.get_or_init(|| policy_entry(record.clone()).1))
}

/// A managed policy's entry, with what is wrong with it.
fn policy_entry(record: ManagedPolicyRecord) -> (String, Arc<PolicyEntry>, Vec<String>) {
    let arn = record.arn();
    let mut problems = Vec::new();
    let document = parse_stored(
        record.default_document(),
        PolicyKind::ManagedIdentity,
        &format!("managed policy {arn}"),
        &mut problems,
    );
    let named: Vec<NamedPolicy> = document
        .iter()
        .map(|document| NamedPolicy {
            id: Arc::from(arn.as_str()),
            document: document.clone(),
        })
        .collect();
    let compiled = Arc::new(CompiledPolicies::compile(&named));
    let entry = PolicyEntry {
        record,
        document,
        compiled,
    };
    (arn, Arc::new(entry), problems)
}

/// Parses a stored document leniently: it passed validation when it was
/// written; statements a stricter validator now rejects can still deny but
/// never allow.
fn parse_stored(
    text: Option<&str>,
    kind: PolicyKind,
    what: &str,
    problems: &mut Vec<String>,
) -> Option<Arc<PolicyDocument>> {
    let Some(text) = text else {
        problems.push(format!("{what}: the default version is missing"));
        return None;
    };
    let outcome = PolicyDocument::parse_lenient(text, kind);
    match outcome.document {
        Some(document) => Some(Arc::new(document)),
        None => {
            let first = outcome.errors.first().map(ToString::to_string);
            problems.push(format!(
                "{what}: does not parse ({}); it grants nothing",
                first.unwrap_or_default()
            ));
            None
        }
    }
}

/// A set of inline policies compiled once and shared by every identity
/// whose inline policies are the same (same names, same texts): a
/// hundred thousand users with the same inline policy hold one compiled
/// set, not a hundred thousand. `holders` counts the entities using it, so
/// it is dropped with the last one.
#[derive(Clone)]
struct SharedInline {
    /// The texts, handed to every holder's record.
    policies: InlinePolicies,
    set: Arc<CompiledPolicies>,
    /// Why a document does not parse, without the owner's name (each
    /// holder reports them under its own).
    problems: Arc<[String]>,
    holders: usize,
}

/// The key of a set of inline policies: every name and text, in order.
fn inline_key(inline: &InlinePolicies) -> String {
    let mut key = String::new();
    for (name, text) in inline {
        key.push_str(name);
        key.push('\0');
        key.push_str(text);
        key.push('\0');
    }
    key
}

/// Inline policies compiled together. Their ids name the policy, not its
/// owner (`inline:NAME`), since the set is shared by every owner.
fn compile_inline(inline: &InlinePolicies) -> SharedInline {
    let mut named = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in inline {
        let what = format!("inline policy {name}");
        if let Some(document) =
            parse_stored(Some(text), PolicyKind::InlineIdentity, &what, &mut problems)
        {
            named.push(NamedPolicy {
                id: Arc::from(format!("inline:{name}")),
                document,
            });
        }
    }
    SharedInline {
        policies: inline.clone(),
        set: Arc::new(CompiledPolicies::compile(&named)),
        problems: problems.into(),
        holders: 0,
    }
}

impl World {
    /// A world with no accounts (before the first load).
    pub fn empty() -> World {
        Self::with_sealer(None)
    }

    fn with_sealer(sealer: Option<Arc<TokenSealer>>) -> World {
        World {
            accounts: imbl::OrdSet::new(),
            interned: imbl::OrdSet::new(),
            access_keys: imbl::OrdMap::new(),
            users: imbl::OrdMap::new(),
            groups: imbl::OrdMap::new(),
            roles: imbl::OrdMap::new(),
            policies: imbl::OrdMap::new(),
            policy_arns: imbl::OrdMap::new(),
            ids: imbl::OrdMap::new(),
            inline_sets: imbl::OrdMap::new(),
            sealer,
            problems: imbl::OrdMap::new(),
            organization: None,
        }
    }

    /// Builds the snapshot. The embedded AWS-managed policies are always
    /// present; records of account `aws` take their place by ARN. `unseal` turns
    /// a stored secret into the secret access key (the store's cipher lives
    /// with the caller); keys whose secret does not unseal sign nothing.
    /// Without a `sealer`, temporary credentials are refused.
    pub fn from_records(
        records: impl IntoIterator<Item = AnyRecord>,
        sealer: Option<Arc<TokenSealer>>,
        unseal: Unseal<'_>,
    ) -> World {
        let mut world = Self::with_sealer(sealer);
        world.apply(records.into_iter().map(RecordChange::Put), unseal);
        world
    }

    /// Applies changes in order; the result is the world
    /// [`World::from_records`] builds from the records they leave.
    pub fn apply(&mut self, changes: impl IntoIterator<Item = RecordChange>, unseal: Unseal<'_>) {
        for change in changes {
            match change {
                RecordChange::Put(record) => self.put(record, unseal),
                RecordChange::Delete { kind, scope, key } => self.delete(&kind, &scope, &key),
            }
        }
    }

    fn put(&mut self, record: AnyRecord, unseal: Unseal<'_>) {
        match record {
            AnyRecord::Account(account) => {
                self.accounts.insert(account.id);
            }
            AnyRecord::ManagedPolicy(policy) => {
                let address = self.stored_key(&policy.account, &policy.name);
                if let Some(old) = self.policy_arns.get(&address).cloned() {
                    self.remove_policy(&old);
                }
                let (arn, entry, problems) = policy_entry(policy);
                self.set_problems(Subject::Policy(arn.clone()), problems);
                self.policies.insert(arn.clone(), entry);
                self.policy_arns.insert(address, arn);
            }
            AnyRecord::Group(mut group) => {
                let key = self.stored_key(&group.account, &group.name);
                if let Some(old) = self.groups.get(&key).cloned() {
                    self.release_inline(&old.record.inline_policies);
                }
                let mut problems = Vec::new();
                let inline =
                    self.acquire_inline(&group.arn(), &mut group.inline_policies, &mut problems);
                self.set_problems(Subject::Group(key.clone()), problems);
                let entry = GroupEntry {
                    record: group,
                    inline,
                };
                self.groups.insert(key, Arc::new(entry));
            }
            AnyRecord::Role(mut role) => {
                let key = self.stored_key(&role.account, &role.name);
                if let Some(old) = self.roles.get(&key).cloned() {
                    self.release_inline(&old.record.inline_policies);
                    self.forget_id(&old.record.id, &old.record.arn());
                }
                let owner = role.arn();
                let mut problems = Vec::new();
                let inline = self.acquire_inline(&owner, &mut role.inline_policies, &mut problems);
                let trust = parse_stored(
                    Some(&role.trust_policy),
                    PolicyKind::RoleTrust,
                    &format!("{owner} trust policy"),
                    &mut problems,
                )
                .map(|document| {
                    CompiledPolicies::compile(&[NamedPolicy {
                        id: Arc::from(format!("{owner}#trust")),
                        document,
                    }])
                })
                .unwrap_or_default();
                self.set_problems(Subject::Role(key.clone()), problems);
                let entry = Arc::new(RoleEntry {
                    record: role,
                    inline,
                    trust: Arc::new(trust),
                });
                let id = Box::from(entry.record.id.as_str());
                self.ids.insert(id, IdHolder::Role(entry.clone()));
                self.roles.insert(key, entry);
            }
            AnyRecord::User(mut user) => {
                let key = self.stored_key(&user.account, &user.name);
                if let Some(old) = self.users.get(&key).cloned() {
                    self.release_inline(&old.record.inline_policies);
                    self.forget_id(&old.record.id, &old.record.arn());
                }
                let mut problems = Vec::new();
                let inline =
                    self.acquire_inline(&user.arn(), &mut user.inline_policies, &mut problems);
                self.set_problems(Subject::User(key.clone()), problems);
                let entry = Arc::new(UserEntry {
                    record: user,
                    inline,
                });
                let id = Box::from(entry.record.id.as_str());
                self.ids.insert(id, IdHolder::User(entry.clone()));
                self.users.insert(key, entry);
            }
            AnyRecord::AccessKey(key) => {
                let id = key.id.clone();
                let secret = unseal(&key).map(Secret::new);
                let problems = match &secret {
                    Ok(_) => Vec::new(),
                    Err(error) => vec![format!(
                        "access key {id}: the secret could not be unsealed: {error}"
                    )],
                };
                self.set_problems(Subject::AccessKey(id.clone()), problems);
                let entry = KeyEntry {
                    account: self.intern(&key.account),
                    user: key.user.map(String::into_boxed_str),
                    status: key.status,
                    secret: secret.ok(),
                };
                self.access_keys.insert(id, Arc::new(entry));
            }
            AnyRecord::Organization(record) => {
                let (organization, problems) = Organization::build(record);
                self.set_problems(Subject::Organization, problems);
                self.organization = Some(Arc::new(organization));
            }
        }
    }

    fn delete(&mut self, kind: &str, scope: &str, key: &str) {
        let name_key = (Arc::from(scope), key.to_owned());
        match kind {
            AccountRecord::KIND => {
                self.accounts.remove(key);
            }
            ManagedPolicyRecord::KIND => {
                if let Some(arn) = self.policy_arns.remove(&name_key) {
                    self.remove_policy(&arn);
                }
            }
            GroupRecord::KIND => {
                if let Some(old) = self.groups.remove(&name_key) {
                    self.release_inline(&old.record.inline_policies);
                }
                self.problems.remove(&Subject::Group(name_key));
            }
            RoleRecord::KIND => {
                if let Some(old) = self.roles.remove(&name_key) {
                    self.release_inline(&old.record.inline_policies);
                    self.forget_id(&old.record.id, &old.record.arn());
                }
                self.problems.remove(&Subject::Role(name_key));
            }
            UserRecord::KIND => {
                if let Some(old) = self.users.remove(&name_key) {
                    self.release_inline(&old.record.inline_policies);
                    self.forget_id(&old.record.id, &old.record.arn());
                }
                self.problems.remove(&Subject::User(name_key));
            }
            // Key ids are unique across accounts; a delete addressed to
            // another account's key is not this key's.
            AccessKeyRecord::KIND
                if self
                    .access_keys
                    .get(key)
                    .is_some_and(|entry| &*entry.account == scope) =>
            {
                self.access_keys.remove(key);
                self.problems.remove(&Subject::AccessKey(key.to_owned()));
            }
            OrganizationRecord::KIND => {
                self.organization = None;
                self.problems.remove(&Subject::Organization);
            }
            _ => {}
        }
    }

    /// Drops a stored managed policy; an AWS-managed one falls back to the
    /// embedded version, as a full build would have it.
    fn remove_policy(&mut self, arn: &str) {
        self.policies.remove(arn);
        self.problems.remove(&Subject::Policy(arn.to_owned()));
    }

    /// The compiled set of `inline` for a new holder named `owner`: the
    /// shared one if another identity has the same inline policies,
    /// compiled otherwise. Its parse problems go to `problems`, under
    /// `owner`.
    fn acquire_inline(
        &mut self,
        owner: &str,
        inline: &mut InlinePolicies,
        problems: &mut Vec<String>,
    ) -> Arc<CompiledPolicies> {
        if inline.is_empty() {
            return no_policies();
        }
        let shared = self
            .inline_sets
            .entry(inline_key(inline))
            .or_insert_with(|| compile_inline(inline));
        shared.holders += 1;
        problems.extend(
            shared
                .problems
                .iter()
                .map(|problem| format!("{owner} {problem}")),
        );
        // The holder keeps the shared copy of the texts, not its own.
        *inline = shared.policies.clone();
        shared.set.clone()
    }

    /// A holder of `inline` is gone; the set goes with its last holder.
    fn release_inline(&mut self, inline: &InlinePolicies) {
        if inline.is_empty() {
            return;
        }
        let key = inline_key(inline);
        let last = match self.inline_sets.get_mut(&key) {
            Some(shared) => {
                shared.holders = shared.holders.saturating_sub(1);
                shared.holders == 0
            }
            None => false,
        };
        if last {
            self.inline_sets.remove(&key);
        }
    }

    /// The key an entity is stored under, with the shared account id.
    fn stored_key(&mut self, account: &str, name: &str) -> NameKey {
        (self.intern(account), name.to_lowercase())
    }

    /// The shared copy of `account`.
    fn intern(&mut self, account: &str) -> Arc<str> {
        if let Some(shared) = self.interned.get(account) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(account);
        self.interned.insert(shared.clone());
        shared
    }

    /// The entity `arn` no longer has unique id `id` (it was replaced or
    /// deleted); an id since taken by another entity stays.
    fn forget_id(&mut self, id: &str, arn: &str) {
        if self.ids.get(id).is_some_and(|holder| holder.arn() == arn) {
            self.ids.remove(id);
        }
    }

    fn set_problems(&mut self, subject: Subject, problems: Vec<String>) {
        if problems.is_empty() {
            self.problems.remove(&subject);
        } else {
            self.problems.insert(subject, problems);
        }
    }

    /// The shared compiled set of a managed policy, if it exists.
    fn managed(&self, arn: &str) -> Option<&Arc<CompiledPolicies>> {
        self.managed_policy(arn).map(|policy| &policy.compiled)
    }

    /// Inline, then attached: an identity's own policies.
    fn own_policies<'a>(
        &'a self,
        inline: &'a Arc<CompiledPolicies>,
        attached: &'a [String],
    ) -> impl Iterator<Item = &'a Arc<CompiledPolicies>> + 'a {
        std::iter::once(inline).chain(attached.iter().filter_map(|arn| self.managed(arn)))
    }

    /// A permissions boundary that names a missing policy allows nothing
    /// (fail closed).
    fn boundary(&self, arn: Option<&String>) -> Option<Arc<CompiledPolicies>> {
        let arn = arn?;
        Some(self.managed(arn).cloned().unwrap_or_else(no_policies))
    }

    /// A user's identity policies: its own, then each of its groups' that
    /// exists.
    fn user_policies(&self, user: &UserEntry) -> CallerPolicies {
        let record = &user.record;
        let mut identity: Vec<Arc<CompiledPolicies>> = self
            .own_policies(&user.inline, &record.attached_policies)
            .cloned()
            .collect();
        for name in &record.groups {
            if let Some(group) = self.groups.get(&lower_key(&record.account, name)) {
                identity.extend(
                    self.own_policies(&group.inline, &group.record.attached_policies)
                        .cloned(),
                );
            }
        }
        CallerPolicies {
            identity,
            boundary: self.boundary(record.permissions_boundary.as_ref()),
            session: None,
            scp_levels: Vec::new(),
        }
    }

    fn role_policies(&self, role: &RoleEntry) -> CallerPolicies {
        let record = &role.record;
        CallerPolicies {
            identity: self
                .own_policies(&role.inline, &record.attached_policies)
                .cloned()
                .collect(),
            boundary: self.boundary(record.permissions_boundary.as_ref()),
            session: None,
            scp_levels: Vec::new(),
        }
    }

    /// The policies that decide what `caller` may do, as they stand in
    /// this snapshot: a root has none (it is allowed implicitly); a
    /// session whose user or role is gone has none but its session
    /// policies.
    pub fn caller_policies(&self, caller: &Caller) -> CallerPolicies {
        let mut policies = self.policies_of(caller);
        policies.scp_levels = self.scp_levels(caller);
        policies
    }

    /// The accounts' organization, if the world has one.
    pub fn organization(&self) -> Option<&Organization> {
        self.organization.as_deref()
    }

    /// The SCP levels that limit `caller`, root first: none outside an
    /// organization, for its management account and for service-linked
    /// roles (see [`crate::organization`]).
    pub fn scp_levels(&self, caller: &Caller) -> Vec<Arc<CompiledPolicies>> {
        let Some(organization) = &self.organization else {
            return Vec::new();
        };
        if let Caller::RoleSession(session) = caller
            && let SessionPrincipal::AssumedRole { role_arn, .. } = &session.claims.principal
            && role_arn.contains(&format!(":role{SERVICE_LINKED_ROLE_PATH}"))
        {
            return Vec::new();
        }
        organization.scp_levels(caller.account()).to_vec()
    }

    fn policies_of(&self, caller: &Caller) -> CallerPolicies {
        match caller {
            Caller::Root { .. } => CallerPolicies::default(),
            Caller::User(user) => self.user_policies(user),
            Caller::UserSession(session) => match &session.user {
                Some(user) => self.user_policies(user),
                None => CallerPolicies::default(),
            },
            Caller::RootSession(session) => CallerPolicies {
                session: session.session_policies.clone(),
                ..CallerPolicies::default()
            },
            Caller::RoleSession(session) => {
                let mut policies = match &session.role {
                    Some(role) => self.role_policies(role),
                    None => CallerPolicies::default(),
                };
                policies.session = session.session_policies.clone();
                policies
            }
        }
    }

    /// Whether the access key can sign: its secret unseals and the user it
    /// belongs to exists.
    fn usable_key(&self, key: &KeyEntry) -> bool {
        key.secret.is_some()
            && key
                .user
                .as_ref()
                .is_none_or(|user| self.users.contains_key(&lower_key(&key.account, user)))
    }

    /// Records that cannot be used as they are, for the operator's log:
    /// documents that do not parse, and references to what does not exist
    /// (found when asked, since entities refer to each other by name).
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self.problems.values().flatten().cloned().collect();
        let missing_policies =
            |owner: String, arns: &mut dyn Iterator<Item = &String>, out: &mut Vec<String>| {
                for arn in arns {
                    if !self.managed_policy_exists(arn) {
                        out.push(format!("{owner}: attached policy {arn} does not exist"));
                    }
                }
            };
        for group in self.groups.values() {
            let record = &group.record;
            missing_policies(
                record.arn(),
                &mut record.attached_policies.iter(),
                &mut problems,
            );
        }
        for role in self.roles.values() {
            let record = &role.record;
            let mut held = record
                .attached_policies
                .iter()
                .chain(&record.permissions_boundary);
            missing_policies(record.arn(), &mut held, &mut problems);
        }
        for user in self.users.values() {
            let record = &user.record;
            let mut held = record
                .attached_policies
                .iter()
                .chain(&record.permissions_boundary);
            missing_policies(record.arn(), &mut held, &mut problems);
            for name in &record.groups {
                if !self.groups.contains_key(&lower_key(&record.account, name)) {
                    problems.push(format!("{}: group {name} does not exist", record.arn()));
                }
            }
        }
        for (id, key) in &self.access_keys {
            if let Some(user) = &key.user
                && !self.users.contains_key(&lower_key(&key.account, user))
            {
                problems.push(format!("access key {id}: user {user} does not exist"));
            }
        }
        problems
    }

    /// Every entry of the world in a canonical text form: two worlds built
    /// from the same records, whatever the order of changes, have the same
    /// description. For tests of incremental updates.
    #[doc(hidden)]
    pub fn describe(&self) -> Vec<String> {
        fn sources<'a>(sets: impl IntoIterator<Item = &'a Arc<CompiledPolicies>>) -> String {
            sets.into_iter()
                .flat_map(|set| set.sources())
                .map(|(id, index)| format!("{id}[{index}]"))
                .collect::<Vec<_>>()
                .join(",")
        }
        fn policies(policies: &CallerPolicies) -> String {
            format!(
                "[{}] boundary={:?}",
                sources(&policies.identity),
                policies.boundary.as_ref().map(|b| sources([b]))
            )
        }
        let mut lines = Vec::new();
        lines.extend(self.accounts.iter().map(|a| format!("account {a}")));
        for (id, key) in &self.access_keys {
            lines.push(format!(
                "key {id} {} {:?} {:?} usable={}",
                key.account,
                key.user,
                key.status,
                self.usable_key(key)
            ));
        }
        for (arn, policy) in &self.policies {
            let record = &policy.record;
            lines.push(format!(
                "policy {arn} {} {} {:?} parsed={}",
                record.id,
                record.default_version_id,
                record.default_document().map(str::len),
                policy.document.is_some()
            ));
        }
        for group in self.groups.values() {
            lines.push(format!(
                "group {:?} [{}]",
                group.record,
                sources([&group.inline])
            ));
        }
        for role in self.roles.values() {
            lines.push(format!(
                "role {:?} {} trust=[{}]",
                role.record,
                policies(&self.role_policies(role)),
                sources([&role.trust])
            ));
        }
        for user in self.users.values() {
            lines.push(format!(
                "user {:?} {}",
                user.record,
                policies(&self.user_policies(user))
            ));
        }
        let ids: Vec<(&str, String)> = self.ids.iter().map(|(id, h)| (&**id, h.arn())).collect();
        lines.push(format!("principals {ids:?}"));
        for (key, shared) in &self.inline_sets {
            lines.push(format!("inline set {key:?} holders={}", shared.holders));
        }
        lines.extend(self.problems().iter().map(|p| format!("problem {p}")));
        lines.sort();
        lines
    }

    pub fn has_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
    }

    /// Every account, user and role, in key order: for analyses that must
    /// consider each principal (who can do what), not for the request path.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(String::as_str)
    }

    pub fn users(&self) -> impl Iterator<Item = &Arc<UserEntry>> {
        self.users.values()
    }

    pub fn roles(&self) -> impl Iterator<Item = &Arc<RoleEntry>> {
        self.roles.values()
    }

    /// A user by account and name (case-insensitive).
    pub fn user(&self, account: &str, name: &str) -> Option<&Arc<UserEntry>> {
        self.users.get(&lower_key(account, name))
    }

    pub fn group(&self, account: &str, name: &str) -> Option<&Arc<GroupEntry>> {
        self.groups.get(&lower_key(account, name))
    }

    pub fn role(&self, account: &str, name: &str) -> Option<&Arc<RoleEntry>> {
        self.roles.get(&lower_key(account, name))
    }

    /// A role by its ARN (the path must match too).
    pub fn role_by_arn(&self, arn: &str) -> Option<&Arc<RoleEntry>> {
        let (account, path, name) = arns::parse_role_arn(arn)?;
        self.role(account, name).filter(|r| r.record.path == path)
    }

    /// How many stored entities the world holds (accounts, users, groups,
    /// roles, access keys, customer-managed policies).
    pub fn entity_count(&self) -> usize {
        self.accounts.len()
            + self.users.len()
            + self.groups.len()
            + self.roles.len()
            + self.access_keys.len()
            + self.policy_arns.len()
    }

    /// The users and roles by ARN and unique id, for trust policies'
    /// stored form.
    pub fn principals(&self) -> &dyn PrincipalIds {
        self
    }

    /// A managed policy (customer or AWS) by ARN. An AWS-managed one is
    /// parsed and compiled on its first lookup.
    pub fn managed_policy(&self, arn: &str) -> Option<&Arc<PolicyEntry>> {
        self.policies.get(arn).or_else(|| embedded_policy(arn))
    }

    /// Whether a managed policy exists, without compiling it.
    pub fn managed_policy_exists(&self, arn: &str) -> bool {
        self.policies.contains_key(arn) || aws_managed_policy_index(arn).is_some()
    }

    /// The records of the AWS-managed policies (account `aws`): the
    /// embedded ones and any stored in their place, in ARN order. Nothing
    /// is compiled.
    pub fn aws_managed_policy_records(&self) -> impl Iterator<Item = &ManagedPolicyRecord> {
        let stored = self
            .policies
            .values()
            .map(|entry| &entry.record)
            .filter(|record| record.account == crate::managed::AWS_ACCOUNT);
        let embedded = aws_managed_policies()
            .map(|record| -> &ManagedPolicyRecord { record })
            .filter(|record| !self.policies.contains_key(&record.arn()));
        let mut all: Vec<&ManagedPolicyRecord> = stored.chain(embedded).collect();
        all.sort_by_cached_key(|record| record.arn());
        all.into_iter()
    }

    /// The account an access key belongs to (GetAccessKeyInfo), whatever
    /// its status.
    pub fn access_key_account(&self, access_key_id: &str) -> Option<&str> {
        self.access_keys
            .get(access_key_id)
            .filter(|key| key.secret.is_some())
            .map(|key| &*key.account)
    }

    /// Evaluates a request by `caller` with no resource policy.
    pub fn evaluate(&self, caller: &Caller, request: &RequestContext) -> Decision {
        self.evaluate_with_resource(caller, request, None, ResourcePolicyKind::ResourceBased)
    }

    /// Evaluates a request by `caller` against the resource's policy
    /// (an API's resource policy, a role's trust policy).
    pub fn evaluate_with_resource(
        &self,
        caller: &Caller,
        request: &RequestContext,
        resource: Option<&CompiledPolicies>,
        resource_kind: ResourcePolicyKind,
    ) -> Decision {
        self.with_evaluation_input(caller, request, resource, resource_kind, evaluate)
    }

    /// Runs `f` on the evaluation input of a request by `caller` against
    /// the resource's policy: the caller's identity policies, boundary and
    /// session policy as this world holds them. For evaluators that want
    /// more than the decision (a decision record).
    pub fn with_evaluation_input<T>(
        &self,
        caller: &Caller,
        request: &RequestContext,
        resource: Option<&CompiledPolicies>,
        resource_kind: ResourcePolicyKind,
        f: impl FnOnce(&EvaluationInput<'_>) -> T,
    ) -> T {
        let policies = self.caller_policies(caller);
        let identity: Vec<&CompiledPolicies> = policies.identity.iter().map(|p| &**p).collect();
        let scp_levels: Vec<&CompiledPolicies> = policies.scp_levels.iter().map(|p| &**p).collect();
        f(&EvaluationInput {
            request,
            identity: &identity,
            resource,
            resource_kind,
            boundary: policies.boundary.as_deref(),
            session: policies.session.as_deref(),
            scp_levels: &scp_levels,
        })
    }

    fn resolve_session(
        &self,
        access_key_id: &str,
        token: &str,
        now: i64,
    ) -> Result<ResolvedCredential<Caller>, CredentialError> {
        let sealer = self
            .sealer
            .as_ref()
            .ok_or(CredentialError::UnknownAccessKey)?;
        let claims = sealer
            .open(access_key_id, token, now)
            .map_err(|error| match error {
                TokenError::Invalid => CredentialError::InvalidSessionToken,
                TokenError::Expired => CredentialError::ExpiredSessionToken,
            })?;
        let secret = Secret::new(claims.secret_access_key.clone());
        let session_policies = self.session_policies(&claims);
        let caller = match &claims.principal {
            SessionPrincipal::AssumedRole {
                role_arn, role_id, ..
            } => {
                let role = self
                    .role_by_arn(role_arn)
                    .filter(|role| role.record.id == *role_id)
                    .cloned();
                Caller::RoleSession(Box::new(Session {
                    claims,
                    role,
                    user: None,
                    session_policies,
                }))
            }
            SessionPrincipal::User {
                user_name, user_id, ..
            } => {
                // A GetSessionToken session stands for its user: once the
                // user is deleted (or recreated, with another id) the
                // session authenticates nobody, for every API alike —
                // GetCallerIdentity included, which no policy can deny but
                // which still needs a caller. AWS documents that temporary
                // credentials' permissions are evaluated on every request;
                // a session with no user is refused as an invalid token
                // (F12) rather than answered as a caller with no rights.
                let user = self
                    .user(&claims.account, user_name)
                    .filter(|user| user.record.id == *user_id)
                    .cloned()
                    .ok_or(CredentialError::InvalidSessionToken)?;
                Caller::UserSession(Box::new(Session {
                    claims,
                    role: None,
                    user: Some(user),
                    session_policies,
                }))
            }
            SessionPrincipal::Root => Caller::RootSession(Box::new(Session {
                claims,
                role: None,
                user: None,
                session_policies,
            })),
        };
        Ok(ResolvedCredential {
            secret,
            identity: caller,
        })
    }

    /// Compiles the session's policies; a session policy that no longer
    /// resolves leaves an empty set, which allows nothing.
    fn session_policies(&self, claims: &SessionClaims) -> Option<Arc<CompiledPolicies>> {
        if claims.session_policy.is_none() && claims.session_policy_arns.is_empty() {
            return None;
        }
        let mut named = Vec::new();
        if let Some(text) = &claims.session_policy
            && let Some(document) =
                PolicyDocument::parse_lenient(text, PolicyKind::Session).document
        {
            named.push(NamedPolicy::new("session policy", document));
        }
        for arn in &claims.session_policy_arns {
            if let Some(Some(document)) = self.policies.get(arn).map(|p| p.document.clone()) {
                named.push(NamedPolicy {
                    id: Arc::from(arn.as_str()),
                    document,
                });
            }
        }
        Some(Arc::new(CompiledPolicies::compile(&named)))
    }
}

impl PrincipalIds for World {
    fn id_of(&self, arn: &str) -> Option<String> {
        let (account, kind, name) = user_or_role_of(arn)?;
        let key = lower_key(account, name);
        let record_arn_id = match kind {
            "user" => self.users.get(&key).map(|u| (u.record.arn(), &u.record.id)),
            "role" => self.roles.get(&key).map(|r| (r.record.arn(), &r.record.id)),
            _ => None,
        };
        record_arn_id
            .filter(|(record_arn, _)| record_arn == arn)
            .map(|(_, id)| id.clone())
    }

    fn arn_of(&self, id: &str) -> Option<String> {
        self.ids.get(id).map(IdHolder::arn)
    }
}

impl CredentialProvider for World {
    type Identity = Caller;

    fn resolve(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: i64,
    ) -> Result<ResolvedCredential<Caller>, CredentialError> {
        if let Some(key) = self.access_keys.get(access_key_id)
            && let Some(secret) = &key.secret
        {
            if key.status != AccessKeyStatus::Active {
                return Err(CredentialError::UnknownAccessKey);
            }
            if session_token.is_some() {
                return Err(CredentialError::InvalidSessionToken);
            }
            let caller = match &key.user {
                None => Caller::Root {
                    account: key.account.to_string(),
                },
                Some(name) => Caller::User(
                    self.users
                        .get(&(key.account.clone(), name.to_lowercase()))
                        .cloned()
                        .ok_or(CredentialError::UnknownAccessKey)?,
                ),
            };
            return Ok(ResolvedCredential {
                secret: secret.clone(),
                identity: caller,
            });
        }
        if IdKind::of(access_key_id) != Some(IdKind::TemporaryAccessKey) {
            return Err(CredentialError::UnknownAccessKey);
        }
        match session_token {
            None => Err(CredentialError::InvalidSessionToken),
            Some(token) => self.resolve_session(access_key_id, token, now),
        }
    }
}

/// A temporary-credential caller: the opened token, and the entity it
/// speaks for as the snapshot knows it. A role session's role is `None` if
/// the role is gone or was recreated with another id (the session then has
/// no permissions); a user session's user is always there, since a session
/// whose user is gone does not authenticate at all.
#[derive(Debug, Clone)]
pub struct Session {
    pub claims: SessionClaims,
    pub role: Option<Arc<RoleEntry>>,
    pub user: Option<Arc<UserEntry>>,
    /// AssumeRole `Policy` + `PolicyArns`, compiled; `None` if none passed.
    pub session_policies: Option<Arc<CompiledPolicies>>,
}

/// Who signed a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An account root's long-term key.
    Root { account: String },
    /// An IAM user's long-term key.
    User(Arc<UserEntry>),
    /// A session from AssumeRole.
    RoleSession(Box<Session>),
    /// A user's session from GetSessionToken.
    UserSession(Box<Session>),
    /// A root's session from GetSessionToken.
    RootSession(Box<Session>),
}

/// The policies that apply to a caller (IAM User Guide, "Policy evaluation
/// logic"), borrowed
/// from the snapshot.
#[derive(Debug, Default)]
pub struct CallerPolicies {
    /// The compiled sets in evaluation order: the principal's inline
    /// policies, each attached managed policy, then each group's.
    pub identity: Vec<Arc<CompiledPolicies>>,
    pub boundary: Option<Arc<CompiledPolicies>>,
    pub session: Option<Arc<CompiledPolicies>>,
    /// The SCPs of each organization level, root first (empty: none apply).
    pub scp_levels: Vec<Arc<CompiledPolicies>>,
}

impl Caller {
    /// The account the caller acts in.
    pub fn account(&self) -> &str {
        match self {
            Caller::Root { account } => account,
            Caller::User(user) => &user.record.account,
            Caller::RoleSession(s) | Caller::UserSession(s) | Caller::RootSession(s) => {
                &s.claims.account
            }
        }
    }

    /// GetCallerIdentity `Arn`.
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account } => arns::root_arn(account),
            Caller::User(user) => user.record.arn(),
            Caller::RoleSession(s) => match &s.claims.principal {
                SessionPrincipal::AssumedRole {
                    role_name,
                    session_name,
                    ..
                } => arns::assumed_role_arn(&s.claims.account, role_name, session_name),
                _ => arns::root_arn(&s.claims.account),
            },
            Caller::UserSession(s) => match &s.claims.principal {
                SessionPrincipal::User { user_arn, .. } => user_arn.clone(),
                _ => arns::root_arn(&s.claims.account),
            },
            Caller::RootSession(s) => arns::root_arn(&s.claims.account),
        }
    }

    /// GetCallerIdentity `UserId`: the account for root, `AIDA…` for users,
    /// `AROA…:<session>` for role sessions.
    pub fn user_id(&self) -> String {
        match self {
            Caller::Root { account } => account.clone(),
            Caller::User(user) => user.record.id.clone(),
            Caller::RoleSession(s) => match &s.claims.principal {
                SessionPrincipal::AssumedRole {
                    role_id,
                    session_name,
                    ..
                } => format!("{role_id}:{session_name}"),
                _ => s.claims.account.clone(),
            },
            Caller::UserSession(s) => match &s.claims.principal {
                SessionPrincipal::User { user_id, .. } => user_id.clone(),
                _ => s.claims.account.clone(),
            },
            Caller::RootSession(s) => s.claims.account.clone(),
        }
    }

    /// The session, for temporary credentials.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::RoleSession(s) | Caller::UserSession(s) | Caller::RootSession(s) => Some(s),
            Caller::Root { .. } | Caller::User(_) => None,
        }
    }

    /// The identity attributes policies are matched against, with
    /// principal tags (a role's tags overridden by session tags).
    pub fn principal_identity(&self) -> PrincipalIdentity {
        match self {
            Caller::Root { account } => PrincipalIdentity::root(account),
            Caller::RootSession(s) => PrincipalIdentity::root(&s.claims.account),
            Caller::User(user) => user_identity(&user.record),
            Caller::UserSession(s) => match (&s.user, &s.claims.principal) {
                (Some(user), _) => user_identity(&user.record),
                (
                    None,
                    SessionPrincipal::User {
                        user_name,
                        user_id,
                        user_arn,
                    },
                ) => {
                    let path = user_path_from_arn(user_arn, user_name);
                    PrincipalIdentity::user(&s.claims.account, &path, user_name, user_id)
                }
                (None, _) => PrincipalIdentity::root(&s.claims.account),
            },
            Caller::RoleSession(s) => match &s.claims.principal {
                SessionPrincipal::AssumedRole {
                    role_arn,
                    role_id,
                    role_name,
                    session_name,
                } => {
                    let path = arns::parse_role_arn(role_arn)
                        .map(|(_, path, _)| path.to_string())
                        .unwrap_or_else(|| "/".to_string());
                    let mut identity = PrincipalIdentity::role_session(
                        &s.claims.account,
                        &path,
                        role_name,
                        role_id,
                        session_name,
                    );
                    let mut tags: Vec<(String, String)> = Vec::new();
                    if let Some(role) = &s.role {
                        identity.has_permissions_boundary =
                            role.record.permissions_boundary.is_some();
                        tags.extend(
                            role.record
                                .tags
                                .iter()
                                .map(|t| (t.key.clone(), t.value.clone())),
                        );
                    }
                    for (key, value) in &s.claims.tags {
                        tags.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
                        tags.push((key.clone(), value.clone()));
                    }
                    identity.tags = tags;
                    identity
                }
                _ => PrincipalIdentity::root(&s.claims.account),
            },
        }
    }
}

fn user_identity(user: &UserRecord) -> PrincipalIdentity {
    let mut identity = PrincipalIdentity::user(&user.account, &user.path, &user.name, &user.id);
    identity.has_permissions_boundary = user.permissions_boundary.is_some();
    identity.tags = user
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    identity
}

/// The path of `arn:aws:iam::<acct>:user<path><name>`.
fn user_path_from_arn(arn: &str, name: &str) -> String {
    arn.split_once(":user")
        .and_then(|(_, rest)| rest.strip_suffix(name))
        .filter(|path| path.starts_with('/'))
        .unwrap_or("/")
        .to_string()
}
