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

use std::collections::HashSet;
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
use crate::managed::aws_managed_policies;
use crate::principal_ids::PrincipalDirectory;
use crate::records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, ManagedPolicyRecord,
    Record, RoleRecord, UserRecord,
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
    /// The group's inline policies, compiled together; then each attached
    /// managed policy's shared compiled set.
    pub policies: Vec<Arc<CompiledPolicies>>,
}

#[derive(Debug)]
pub struct UserEntry {
    pub record: UserRecord,
    /// The user's own inline policies, compiled together; then each
    /// attached managed policy's shared compiled set.
    pub policies: Vec<Arc<CompiledPolicies>>,
    /// Each group's compiled sets, shared with the group's other members.
    pub group_policies: Vec<Arc<CompiledPolicies>>,
    pub boundary: Option<Arc<CompiledPolicies>>,
}

#[derive(Debug)]
pub struct RoleEntry {
    pub record: RoleRecord,
    /// The role's inline policies, compiled together; then each attached
    /// managed policy's shared compiled set.
    pub policies: Vec<Arc<CompiledPolicies>>,
    pub boundary: Option<Arc<CompiledPolicies>>,
    /// The trust policy, compiled as the resource policy of `sts:AssumeRole`.
    pub trust: Arc<CompiledPolicies>,
}

/// A long-term access key with its usable secret.
struct KeyEntry {
    account: String,
    /// Lower-cased user name; `None` for the account root.
    user: Option<String>,
    secret: Secret,
    active: bool,
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
type NameKey = (String, String);

/// An identity whose compiled policies read a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    User(NameKey),
    Group(NameKey),
    Role(NameKey),
}

/// What a problem is about: recomputing an entity replaces its problems.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Subject {
    Policy(String),
    Group(NameKey),
    Role(NameKey),
    User(NameKey),
    AccessKey(String),
}

/// The entries a batch of changes made stale, recomputed once each after
/// every record of the batch is in place.
#[derive(Default)]
struct Stale {
    policies: HashSet<String>,
    groups: HashSet<NameKey>,
    roles: HashSet<NameKey>,
    users: HashSet<NameKey>,
    keys: HashSet<String>,
}

/// The IAM world at one point in time.
///
/// Every map is persistent (`imbl`): cloning a world shares all of it, and
/// applying a change copies only the paths to the entries it touches. So a
/// write costs O(log n) in the size of the world, and a reader holding the
/// previous `Arc<World>` keeps a consistent view while the next is built.
/// Reverse indexes (who attaches a policy, who is in a group, which keys
/// name a user) say which compiled entries a change makes stale.
#[derive(Clone)]
pub struct World {
    accounts: imbl::HashSet<String>,
    access_keys: imbl::HashMap<String, Arc<KeyEntry>>,
    /// Every stored access key, usable or not: a key whose user is missing
    /// is left out of `access_keys` until the user exists.
    key_records: imbl::HashMap<String, Arc<AccessKeyRecord>>,
    users: imbl::HashMap<NameKey, Arc<UserEntry>>,
    groups: imbl::HashMap<NameKey, Arc<GroupEntry>>,
    roles: imbl::HashMap<NameKey, Arc<RoleEntry>>,
    /// By ARN: the embedded AWS-managed policies and every stored one.
    policies: imbl::HashMap<String, Arc<PolicyEntry>>,
    /// The ARN of each stored managed policy, by store address.
    policy_arns: imbl::HashMap<NameKey, String>,
    /// Policy ARN → the users, groups and roles that attach it or use it
    /// as their permissions boundary.
    holders: imbl::HashMap<String, imbl::HashSet<Holder>>,
    /// Group → lower-cased names of the users that list it.
    members: imbl::HashMap<NameKey, imbl::HashSet<String>>,
    /// User → ids of the access keys that name it.
    user_keys: imbl::HashMap<NameKey, imbl::HashSet<String>>,
    principals: PrincipalDirectory,
    sealer: Option<Arc<TokenSealer>>,
    problems: imbl::OrdMap<Subject, Vec<String>>,
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
            .field("problems", &self.problems())
            .finish()
    }
}

fn lower_key(account: &str, name: &str) -> NameKey {
    (account.to_string(), name.to_lowercase())
}

/// The embedded AWS-managed policies, parsed and compiled once per process
/// and shared by every world.
struct Embedded {
    policies: imbl::HashMap<String, Arc<PolicyEntry>>,
    problems: imbl::OrdMap<Subject, Vec<String>>,
}

fn embedded() -> &'static Embedded {
    static EMBEDDED: OnceLock<Embedded> = OnceLock::new();
    EMBEDDED.get_or_init(|| {
        let mut embedded = Embedded {
            policies: imbl::HashMap::new(),
            problems: imbl::OrdMap::new(),
        };
        for record in aws_managed_policies() {
            let (arn, entry, problems) = policy_entry(record);
            if !problems.is_empty() {
                embedded
                    .problems
                    .insert(Subject::Policy(arn.clone()), problems);
            }
            embedded.policies.insert(arn, entry);
        }
        embedded
    })
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

/// The managed policies an identity's compiled entry reads.
fn held_policies<'a>(
    attached: &'a [String],
    boundary: Option<&'a String>,
) -> impl Iterator<Item = &'a String> {
    attached.iter().chain(boundary)
}

impl World {
    /// A world with no accounts (before the first load).
    pub fn empty() -> World {
        Self::with_sealer(None)
    }

    fn with_sealer(sealer: Option<Arc<TokenSealer>>) -> World {
        let embedded = embedded();
        World {
            accounts: imbl::HashSet::new(),
            access_keys: imbl::HashMap::new(),
            key_records: imbl::HashMap::new(),
            users: imbl::HashMap::new(),
            groups: imbl::HashMap::new(),
            roles: imbl::HashMap::new(),
            policies: embedded.policies.clone(),
            policy_arns: imbl::HashMap::new(),
            holders: imbl::HashMap::new(),
            members: imbl::HashMap::new(),
            user_keys: imbl::HashMap::new(),
            principals: PrincipalDirectory::new(),
            sealer,
            problems: embedded.problems.clone(),
        }
    }

    /// Builds the snapshot. The embedded AWS-managed policies are always
    /// present; records of account `aws` replace them by ARN. `unseal` turns
    /// a stored secret into the secret access key (the store's cipher lives
    /// with the caller); keys whose secret does not unseal are left out.
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

    /// Applies changes in order, as [`World::from_records`] would have
    /// built the world from the records they leave. Only the entries the
    /// changes touch, and those that read them, are recomputed.
    pub fn apply(&mut self, changes: impl IntoIterator<Item = RecordChange>, unseal: Unseal<'_>) {
        let mut stale = Stale::default();
        for change in changes {
            match change {
                RecordChange::Put(record) => self.put(record, &mut stale),
                RecordChange::Delete { kind, scope, key } => {
                    self.delete(&kind, &scope, &key, &mut stale);
                }
            }
        }
        self.recompute(stale, unseal);
    }

    fn put(&mut self, record: AnyRecord, stale: &mut Stale) {
        match record {
            AnyRecord::Account(account) => {
                self.accounts.insert(account.id);
            }
            AnyRecord::ManagedPolicy(policy) => {
                let address = lower_key(&policy.account, &policy.name);
                if let Some(old) = self.policy_arns.get(&address).cloned() {
                    self.remove_policy(&old, stale);
                }
                let (arn, entry, problems) = policy_entry(policy);
                self.set_problems(Subject::Policy(arn.clone()), problems);
                self.policies.insert(arn.clone(), entry);
                self.policy_arns.insert(address, arn.clone());
                stale.policies.insert(arn);
            }
            AnyRecord::Group(group) => {
                let key = lower_key(&group.account, &group.name);
                self.forget_group(&key);
                self.hold(
                    Holder::Group(key.clone()),
                    held_policies(&group.attached_policies, None),
                );
                // The compiled policies are filled in by `recompute`.
                self.groups.insert(
                    key.clone(),
                    Arc::new(GroupEntry {
                        record: group,
                        policies: Vec::new(),
                    }),
                );
                stale.groups.insert(key);
            }
            AnyRecord::Role(role) => {
                let key = lower_key(&role.account, &role.name);
                self.forget_role(&key);
                self.principals.insert(role.arn(), role.id.clone());
                self.hold(
                    Holder::Role(key.clone()),
                    held_policies(&role.attached_policies, role.permissions_boundary.as_ref()),
                );
                self.roles.insert(
                    key.clone(),
                    Arc::new(RoleEntry {
                        record: role,
                        policies: Vec::new(),
                        boundary: None,
                        trust: Arc::default(),
                    }),
                );
                stale.roles.insert(key);
            }
            AnyRecord::User(user) => {
                let key = lower_key(&user.account, &user.name);
                self.forget_user(&key);
                self.principals.insert(user.arn(), user.id.clone());
                self.hold(
                    Holder::User(key.clone()),
                    held_policies(&user.attached_policies, user.permissions_boundary.as_ref()),
                );
                for group in &user.groups {
                    let group = lower_key(&user.account, group);
                    let mut members = self.members.get(&group).cloned().unwrap_or_default();
                    members.insert(key.1.clone());
                    self.members.insert(group, members);
                }
                self.users.insert(
                    key.clone(),
                    Arc::new(UserEntry {
                        record: user,
                        policies: Vec::new(),
                        group_policies: Vec::new(),
                        boundary: None,
                    }),
                );
                stale.users.insert(key);
            }
            AnyRecord::AccessKey(key) => {
                let id = key.id.clone();
                self.forget_key(&id);
                if let Some(user) = &key.user {
                    let user = lower_key(&key.account, user);
                    let mut keys = self.user_keys.get(&user).cloned().unwrap_or_default();
                    keys.insert(id.clone());
                    self.user_keys.insert(user, keys);
                }
                self.key_records.insert(id.clone(), Arc::new(key));
                stale.keys.insert(id);
            }
        }
    }

    fn delete(&mut self, kind: &str, scope: &str, key: &str, stale: &mut Stale) {
        let name_key = (scope.to_owned(), key.to_owned());
        match kind {
            AccountRecord::KIND => {
                self.accounts.remove(key);
            }
            ManagedPolicyRecord::KIND => {
                if let Some(arn) = self.policy_arns.remove(&name_key) {
                    self.remove_policy(&arn, stale);
                }
            }
            GroupRecord::KIND => {
                self.forget_group(&name_key);
                self.groups.remove(&name_key);
                self.problems.remove(&Subject::Group(name_key.clone()));
                stale.groups.insert(name_key);
            }
            RoleRecord::KIND => {
                self.forget_role(&name_key);
                self.roles.remove(&name_key);
                self.problems.remove(&Subject::Role(name_key));
            }
            UserRecord::KIND => {
                self.forget_user(&name_key);
                self.users.remove(&name_key);
                self.problems.remove(&Subject::User(name_key.clone()));
                stale.users.insert(name_key);
            }
            AccessKeyRecord::KIND => {
                if self
                    .key_records
                    .get(key)
                    .is_some_and(|record| record.account != scope)
                {
                    return;
                }
                self.forget_key(key);
                self.key_records.remove(key);
                self.access_keys.remove(key);
                self.problems.remove(&Subject::AccessKey(key.to_owned()));
            }
            _ => {}
        }
    }

    /// Drops a stored managed policy; an AWS-managed one falls back to the
    /// embedded version, as a full build would have it.
    fn remove_policy(&mut self, arn: &str, stale: &mut Stale) {
        let embedded = embedded();
        match embedded.policies.get(arn) {
            Some(entry) => {
                self.policies.insert(arn.to_owned(), entry.clone());
                let subject = Subject::Policy(arn.to_owned());
                let problems = embedded.problems.get(&subject).cloned().unwrap_or_default();
                self.set_problems(subject, problems);
            }
            None => {
                self.policies.remove(arn);
                self.problems.remove(&Subject::Policy(arn.to_owned()));
            }
        }
        stale.policies.insert(arn.to_owned());
    }

    /// Records that `holder` reads `policies`.
    fn hold<'a>(&mut self, holder: Holder, policies: impl Iterator<Item = &'a String>) {
        for arn in policies {
            let mut holders = self.holders.get(arn).cloned().unwrap_or_default();
            holders.insert(holder.clone());
            self.holders.insert(arn.clone(), holders);
        }
    }

    fn release<'a>(&mut self, holder: &Holder, policies: impl Iterator<Item = &'a String>) {
        for arn in policies {
            if let Some(mut holders) = self.holders.get(arn).cloned() {
                holders.remove(holder);
                if holders.is_empty() {
                    self.holders.remove(arn);
                } else {
                    self.holders.insert(arn.clone(), holders);
                }
            }
        }
    }

    /// Removes the index entries of the group stored at `key`, if any.
    fn forget_group(&mut self, key: &NameKey) {
        if let Some(old) = self.groups.get(key).cloned() {
            let attached = &old.record.attached_policies;
            self.release(&Holder::Group(key.clone()), held_policies(attached, None));
        }
    }

    fn forget_role(&mut self, key: &NameKey) {
        if let Some(old) = self.roles.get(key).cloned() {
            let record = &old.record;
            self.principals.remove(&record.arn(), &record.id);
            let held = held_policies(
                &record.attached_policies,
                record.permissions_boundary.as_ref(),
            );
            self.release(&Holder::Role(key.clone()), held);
        }
    }

    fn forget_user(&mut self, key: &NameKey) {
        let Some(old) = self.users.get(key).cloned() else {
            return;
        };
        let record = &old.record;
        self.principals.remove(&record.arn(), &record.id);
        let held = held_policies(
            &record.attached_policies,
            record.permissions_boundary.as_ref(),
        );
        self.release(&Holder::User(key.clone()), held);
        for group in &record.groups {
            let group = lower_key(&record.account, group);
            if let Some(mut members) = self.members.get(&group).cloned() {
                members.remove(&key.1);
                if members.is_empty() {
                    self.members.remove(&group);
                } else {
                    self.members.insert(group, members);
                }
            }
        }
    }

    fn forget_key(&mut self, id: &str) {
        let Some(old) = self.key_records.get(id).cloned() else {
            return;
        };
        if let Some(user) = &old.user {
            let user = lower_key(&old.account, user);
            if let Some(mut keys) = self.user_keys.get(&user).cloned() {
                keys.remove(id);
                if keys.is_empty() {
                    self.user_keys.remove(&user);
                } else {
                    self.user_keys.insert(user, keys);
                }
            }
        }
    }

    fn set_problems(&mut self, subject: Subject, problems: Vec<String>) {
        if problems.is_empty() {
            self.problems.remove(&subject);
        } else {
            self.problems.insert(subject, problems);
        }
    }

    /// Recomputes every stale entry, in dependency order: what reads a
    /// policy, then groups, roles, users, and the keys of the users.
    fn recompute(&mut self, mut stale: Stale, unseal: Unseal<'_>) {
        for arn in &stale.policies {
            for holder in self.holders.get(arn).into_iter().flatten() {
                match holder {
                    Holder::User(key) => stale.users.insert(key.clone()),
                    Holder::Group(key) => stale.groups.insert(key.clone()),
                    Holder::Role(key) => stale.roles.insert(key.clone()),
                };
            }
        }
        for key in &stale.groups {
            self.recompute_group(key);
            for member in self.members.get(key).into_iter().flatten() {
                stale.users.insert((key.0.clone(), member.clone()));
            }
        }
        for key in &stale.roles {
            self.recompute_role(key);
        }
        for key in &stale.users {
            self.recompute_user(key);
            stale
                .keys
                .extend(self.user_keys.get(key).into_iter().flatten().cloned());
        }
        for id in &stale.keys {
            self.recompute_key(id, unseal);
        }
    }

    fn recompute_group(&mut self, key: &NameKey) {
        let Some(old) = self.groups.get(key).cloned() else {
            return;
        };
        let record = old.record.clone();
        let mut problems = Vec::new();
        let owner = record.arn();
        let policies = self.compile_identity(
            &owner,
            &record.inline_policies,
            &record.attached_policies,
            &mut problems,
        );
        self.set_problems(Subject::Group(key.clone()), problems);
        self.groups
            .insert(key.clone(), Arc::new(GroupEntry { record, policies }));
    }

    fn recompute_role(&mut self, key: &NameKey) {
        let Some(old) = self.roles.get(key).cloned() else {
            return;
        };
        let record = old.record.clone();
        let mut problems = Vec::new();
        let owner = record.arn();
        let policies = self.compile_identity(
            &owner,
            &record.inline_policies,
            &record.attached_policies,
            &mut problems,
        );
        let boundary = self.compile_boundary(
            &owner,
            record.permissions_boundary.as_deref(),
            &mut problems,
        );
        let trust = parse_stored(
            Some(&record.trust_policy),
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
        self.roles.insert(
            key.clone(),
            Arc::new(RoleEntry {
                record,
                policies,
                boundary,
                trust: Arc::new(trust),
            }),
        );
    }

    fn recompute_user(&mut self, key: &NameKey) {
        let Some(old) = self.users.get(key).cloned() else {
            return;
        };
        let record = old.record.clone();
        let mut problems = Vec::new();
        let owner = record.arn();
        let policies = self.compile_identity(
            &owner,
            &record.inline_policies,
            &record.attached_policies,
            &mut problems,
        );
        let mut group_policies = Vec::new();
        for name in &record.groups {
            match self.groups.get(&lower_key(&record.account, name)) {
                Some(group) => group_policies.extend(group.policies.iter().cloned()),
                None => problems.push(format!("{owner}: group {name} does not exist")),
            }
        }
        let boundary = self.compile_boundary(
            &owner,
            record.permissions_boundary.as_deref(),
            &mut problems,
        );
        self.set_problems(Subject::User(key.clone()), problems);
        self.users.insert(
            key.clone(),
            Arc::new(UserEntry {
                record,
                policies,
                group_policies,
                boundary,
            }),
        );
    }

    fn recompute_key(&mut self, id: &str, unseal: Unseal<'_>) {
        self.access_keys.remove(id);
        let Some(key) = self.key_records.get(id).cloned() else {
            return;
        };
        let mut problems = Vec::new();
        let user_missing = key
            .user
            .as_ref()
            .is_some_and(|user| !self.users.contains_key(&lower_key(&key.account, user)));
        if user_missing {
            problems.push(format!(
                "access key {id}: user {} does not exist",
                key.user.as_deref().unwrap_or_default()
            ));
        } else {
            match unseal(&key) {
                Ok(secret) => {
                    self.access_keys.insert(
                        id.to_owned(),
                        Arc::new(KeyEntry {
                            account: key.account.clone(),
                            user: key.user.as_deref().map(str::to_lowercase),
                            secret: Secret::new(secret),
                            active: key.status == AccessKeyStatus::Active,
                        }),
                    );
                }
                Err(error) => problems.push(format!(
                    "access key {id}: the secret could not be unsealed: {error}"
                )),
            }
        }
        self.set_problems(Subject::AccessKey(id.to_owned()), problems);
    }

    /// An identity's policies: its inline policies compiled together,
    /// then the shared compiled set of each attached managed policy.
    fn compile_identity(
        &self,
        owner: &str,
        inline: &std::collections::BTreeMap<String, String>,
        attached: &[String],
        problems: &mut Vec<String>,
    ) -> Vec<Arc<CompiledPolicies>> {
        let mut named = Vec::new();
        for (name, text) in inline {
            let what = format!("{owner} inline policy {name}");
            if let Some(document) =
                parse_stored(Some(text), PolicyKind::InlineIdentity, &what, problems)
            {
                named.push(NamedPolicy {
                    id: Arc::from(format!("{owner}#{name}")),
                    document,
                });
            }
        }
        let mut policies = vec![Arc::new(CompiledPolicies::compile(&named))];
        for arn in attached {
            policies.extend(self.managed_compiled(owner, arn, problems));
        }
        policies
    }

    /// The shared compiled set of a managed policy; a policy that does not
    /// exist is reported and contributes nothing.
    fn managed_compiled(
        &self,
        owner: &str,
        arn: &str,
        problems: &mut Vec<String>,
    ) -> Option<Arc<CompiledPolicies>> {
        match self.policies.get(arn) {
            Some(policy) => Some(policy.compiled.clone()),
            None => {
                problems.push(format!("{owner}: attached policy {arn} does not exist"));
                None
            }
        }
    }

    /// A boundary that names a missing policy allows nothing (fail closed).
    fn compile_boundary(
        &self,
        owner: &str,
        arn: Option<&str>,
        problems: &mut Vec<String>,
    ) -> Option<Arc<CompiledPolicies>> {
        let arn = arn?;
        Some(
            self.managed_compiled(owner, arn, problems)
                .unwrap_or_default(),
        )
    }

    /// Records that could not be used as they are, for the operator's log.
    pub fn problems(&self) -> Vec<&str> {
        self.problems
            .values()
            .flatten()
            .map(String::as_str)
            .collect()
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
        let mut lines = Vec::new();
        lines.extend(self.accounts.iter().map(|a| format!("account {a}")));
        for (id, key) in &self.access_keys {
            lines.push(format!(
                "key {id} {} {:?} active={}",
                key.account, key.user, key.active
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
                sources(&group.policies)
            ));
        }
        for role in self.roles.values() {
            lines.push(format!(
                "role {:?} [{}] boundary={:?} trust=[{}]",
                role.record,
                sources(&role.policies),
                role.boundary.as_ref().map(|b| sources([b])),
                sources([&role.trust])
            ));
        }
        for user in self.users.values() {
            lines.push(format!(
                "user {:?} [{}] groups=[{}] boundary={:?}",
                user.record,
                sources(&user.policies),
                sources(&user.group_policies),
                user.boundary.as_ref().map(|b| sources([b]))
            ));
        }
        lines.push(format!("principals {:?}", self.principals.describe()));
        lines.extend(self.problems().iter().map(|p| format!("problem {p}")));
        lines.sort();
        lines
    }

    pub fn has_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
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

    /// The users and roles by ARN and unique id, for trust policies'
    /// stored form.
    pub fn principals(&self) -> &PrincipalDirectory {
        &self.principals
    }

    /// A managed policy (customer or AWS) by ARN.
    pub fn managed_policy(&self, arn: &str) -> Option<&Arc<PolicyEntry>> {
        self.policies.get(arn)
    }

    /// Every managed policy of the snapshot (customer-managed of all
    /// accounts and AWS-managed), in no particular order.
    pub fn managed_policies(&self) -> impl Iterator<Item = &Arc<PolicyEntry>> {
        self.policies.values()
    }

    /// The account an access key belongs to (GetAccessKeyInfo), whatever
    /// its status.
    pub fn access_key_account(&self, access_key_id: &str) -> Option<&str> {
        self.access_keys
            .get(access_key_id)
            .map(|k| k.account.as_str())
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
        let policies = caller.policies();
        let identity: Vec<&CompiledPolicies> = policies.identity.iter().map(|p| &***p).collect();
        evaluate(&EvaluationInput {
            request,
            identity: &identity,
            resource,
            resource_kind,
            boundary: policies.boundary.map(|b| &**b),
            session: policies.session.map(|s| &**s),
            scp_levels: &[],
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

impl CredentialProvider for World {
    type Identity = Caller;

    fn resolve(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: i64,
    ) -> Result<ResolvedCredential<Caller>, CredentialError> {
        if let Some(key) = self.access_keys.get(access_key_id) {
            if !key.active {
                return Err(CredentialError::UnknownAccessKey);
            }
            if session_token.is_some() {
                return Err(CredentialError::InvalidSessionToken);
            }
            let caller = match &key.user {
                None => Caller::Root {
                    account: key.account.clone(),
                },
                Some(name) => Caller::User(
                    self.users
                        .get(&(key.account.clone(), name.clone()))
                        .cloned()
                        .ok_or(CredentialError::UnknownAccessKey)?,
                ),
            };
            return Ok(ResolvedCredential {
                secret: key.secret.clone(),
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
pub struct CallerPolicies<'a> {
    /// One compiled group per source: the principal's own, each group's.
    pub identity: Vec<&'a Arc<CompiledPolicies>>,
    pub boundary: Option<&'a Arc<CompiledPolicies>>,
    pub session: Option<&'a Arc<CompiledPolicies>>,
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
                        identity.has_permissions_boundary = role.boundary.is_some();
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

    /// The policies to evaluate for this caller: root has none (it
    /// is allowed implicitly); a session whose entity is gone has none.
    pub fn policies(&self) -> CallerPolicies<'_> {
        fn of_user(user: &UserEntry) -> CallerPolicies<'_> {
            let identity = user.policies.iter().chain(&user.group_policies).collect();
            CallerPolicies {
                identity,
                boundary: user.boundary.as_ref(),
                session: None,
            }
        }
        match self {
            Caller::Root { .. } => CallerPolicies::default(),
            Caller::User(user) => of_user(user),
            Caller::UserSession(s) => match &s.user {
                Some(user) => of_user(user),
                None => CallerPolicies::default(),
            },
            Caller::RootSession(s) => CallerPolicies {
                session: s.session_policies.as_ref(),
                ..CallerPolicies::default()
            },
            Caller::RoleSession(s) => match &s.role {
                Some(role) => CallerPolicies {
                    identity: role.policies.iter().collect(),
                    boundary: role.boundary.as_ref(),
                    session: s.session_policies.as_ref(),
                },
                None => CallerPolicies {
                    session: s.session_policies.as_ref(),
                    ..CallerPolicies::default()
                },
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
