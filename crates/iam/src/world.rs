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

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

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
    AccessKeyRecord, AccessKeyStatus, AnyRecord, GroupRecord, ManagedPolicyRecord, RoleRecord,
    UserRecord,
};
use crate::session::{SessionClaims, SessionPrincipal, TokenError, TokenSealer};

/// A managed policy and its parsed default version.
#[derive(Debug)]
pub struct PolicyEntry {
    pub record: ManagedPolicyRecord,
    /// `None` when the default version does not parse at all.
    pub document: Option<Arc<PolicyDocument>>,
}

#[derive(Debug)]
pub struct GroupEntry {
    pub record: GroupRecord,
    /// Inline + attached policies of the group, compiled.
    pub policies: Arc<CompiledPolicies>,
}

#[derive(Debug)]
pub struct UserEntry {
    pub record: UserRecord,
    /// The user's own inline + attached policies, compiled.
    pub policies: Arc<CompiledPolicies>,
    /// Each group's compiled policies, shared with the group's other members.
    pub group_policies: Vec<Arc<CompiledPolicies>>,
    pub boundary: Option<Arc<CompiledPolicies>>,
}

#[derive(Debug)]
pub struct RoleEntry {
    pub record: RoleRecord,
    /// Inline + attached policies of the role, compiled.
    pub policies: Arc<CompiledPolicies>,
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

/// The IAM world at one point in time.
pub struct World {
    accounts: HashSet<String>,
    access_keys: HashMap<String, KeyEntry>,
    users: HashMap<(String, String), Arc<UserEntry>>,
    groups: HashMap<(String, String), Arc<GroupEntry>>,
    roles: HashMap<(String, String), Arc<RoleEntry>>,
    policies: HashMap<String, Arc<PolicyEntry>>,
    principals: PrincipalDirectory,
    sealer: Option<Arc<TokenSealer>>,
    problems: Vec<String>,
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
            .field("problems", &self.problems)
            .finish()
    }
}

fn lower_key(account: &str, name: &str) -> (String, String) {
    (account.to_string(), name.to_lowercase())
}

impl World {
    /// A world with no accounts (before the first load).
    pub fn empty() -> World {
        Self::from_records(Vec::new(), None, &|record: &AccessKeyRecord| {
            Ok(record.secret.expose().to_string())
        })
    }

    /// Builds the snapshot. The embedded AWS-managed policies are always
    /// present; records of account `aws` replace them by ARN. `unseal` turns
    /// a stored secret into the secret access key (the store's cipher lives
    /// with the caller); keys whose secret does not unseal are left out.
    /// Without a `sealer`, temporary credentials are refused.
    pub fn from_records(
        records: impl IntoIterator<Item = AnyRecord>,
        sealer: Option<Arc<TokenSealer>>,
        unseal: &dyn Fn(&AccessKeyRecord) -> Result<String, UnsealError>,
    ) -> World {
        let mut world = World {
            accounts: HashSet::new(),
            access_keys: HashMap::new(),
            users: HashMap::new(),
            groups: HashMap::new(),
            roles: HashMap::new(),
            policies: HashMap::new(),
            principals: PrincipalDirectory::new(),
            sealer,
            problems: Vec::new(),
        };
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut roles = Vec::new();
        let mut keys = Vec::new();
        let mut policies: Vec<ManagedPolicyRecord> = aws_managed_policies();
        for record in records {
            world.principals.insert_record(&record);
            match record {
                AnyRecord::Account(account) => {
                    world.accounts.insert(account.id);
                }
                AnyRecord::User(user) => users.push(user),
                AnyRecord::Group(group) => groups.push(group),
                AnyRecord::Role(role) => roles.push(role),
                AnyRecord::ManagedPolicy(policy) => policies.push(policy),
                AnyRecord::AccessKey(key) => keys.push(key),
            }
        }
        // Later records win: stored AWS-managed policies replace embedded ones.
        for policy in policies {
            let document = world.parse_stored(
                policy.default_document(),
                PolicyKind::ManagedIdentity,
                &format!("managed policy {}", policy.arn()),
            );
            world.policies.insert(
                policy.arn(),
                Arc::new(PolicyEntry {
                    record: policy,
                    document,
                }),
            );
        }
        for group in groups {
            let owner = group.arn();
            let policies =
                world.compile_identity(&owner, &group.inline_policies, &group.attached_policies);
            world.groups.insert(
                lower_key(&group.account, &group.name),
                Arc::new(GroupEntry {
                    record: group,
                    policies: Arc::new(policies),
                }),
            );
        }
        for user in users {
            let owner = user.arn();
            let policies =
                world.compile_identity(&owner, &user.inline_policies, &user.attached_policies);
            let mut group_policies = Vec::new();
            for name in &user.groups {
                match world.groups.get(&lower_key(&user.account, name)) {
                    Some(group) => group_policies.push(group.policies.clone()),
                    None => world
                        .problems
                        .push(format!("{owner}: group {name} does not exist")),
                }
            }
            let boundary = world.compile_boundary(&owner, user.permissions_boundary.as_deref());
            world.users.insert(
                lower_key(&user.account, &user.name),
                Arc::new(UserEntry {
                    record: user,
                    policies: Arc::new(policies),
                    group_policies,
                    boundary,
                }),
            );
        }
        for role in roles {
            let owner = role.arn();
            let policies =
                world.compile_identity(&owner, &role.inline_policies, &role.attached_policies);
            let boundary = world.compile_boundary(&owner, role.permissions_boundary.as_deref());
            let trust = world
                .parse_stored(
                    Some(&role.trust_policy),
                    PolicyKind::RoleTrust,
                    &format!("{owner} trust policy"),
                )
                .map(|document| {
                    CompiledPolicies::compile(&[NamedPolicy {
                        id: Arc::from(format!("{owner}#trust")),
                        document,
                    }])
                })
                .unwrap_or_default();
            world.roles.insert(
                lower_key(&role.account, &role.name),
                Arc::new(RoleEntry {
                    record: role,
                    policies: Arc::new(policies),
                    boundary,
                    trust: Arc::new(trust),
                }),
            );
        }
        for key in keys {
            if let Some(user) = &key.user
                && !world.users.contains_key(&lower_key(&key.account, user))
            {
                world
                    .problems
                    .push(format!("access key {}: user {user} does not exist", key.id));
                continue;
            }
            match unseal(&key) {
                Ok(secret) => {
                    world.access_keys.insert(
                        key.id.clone(),
                        KeyEntry {
                            account: key.account.clone(),
                            user: key.user.as_deref().map(str::to_lowercase),
                            secret: Secret::new(secret),
                            active: key.status == AccessKeyStatus::Active,
                        },
                    );
                }
                Err(error) => world.problems.push(format!(
                    "access key {}: the secret could not be unsealed: {error}",
                    key.id
                )),
            }
        }
        world
    }

    /// Parses a stored document leniently: it passed validation when it
    /// was written; statements a stricter validator now rejects can still
    /// deny but never allow.
    fn parse_stored(
        &mut self,
        text: Option<&str>,
        kind: PolicyKind,
        what: &str,
    ) -> Option<Arc<PolicyDocument>> {
        let Some(text) = text else {
            self.problems
                .push(format!("{what}: the default version is missing"));
            return None;
        };
        let outcome = PolicyDocument::parse_lenient(text, kind);
        match outcome.document {
            Some(document) => Some(Arc::new(document)),
            None => {
                let first = outcome.errors.first().map(ToString::to_string);
                self.problems.push(format!(
                    "{what}: does not parse ({}); it grants nothing",
                    first.unwrap_or_default()
                ));
                None
            }
        }
    }

    fn compile_identity(
        &mut self,
        owner: &str,
        inline: &std::collections::BTreeMap<String, String>,
        attached: &[String],
    ) -> CompiledPolicies {
        let mut named = Vec::new();
        for (name, text) in inline {
            let what = format!("{owner} inline policy {name}");
            if let Some(document) = self.parse_stored(Some(text), PolicyKind::InlineIdentity, &what)
            {
                named.push(NamedPolicy {
                    id: Arc::from(format!("{owner}#{name}")),
                    document,
                });
            }
        }
        for arn in attached {
            if let Some(policy) = self.managed_document(owner, arn) {
                named.push(policy);
            }
        }
        CompiledPolicies::compile(&named)
    }

    fn managed_document(&mut self, owner: &str, arn: &str) -> Option<NamedPolicy> {
        match self.policies.get(arn).map(|p| p.document.clone()) {
            Some(Some(document)) => Some(NamedPolicy {
                id: Arc::from(arn),
                document,
            }),
            Some(None) => None, // already reported
            None => {
                self.problems
                    .push(format!("{owner}: attached policy {arn} does not exist"));
                None
            }
        }
    }

    /// A boundary that names a missing policy allows nothing (fail closed).
    fn compile_boundary(
        &mut self,
        owner: &str,
        arn: Option<&str>,
    ) -> Option<Arc<CompiledPolicies>> {
        let arn = arn?;
        let policies: Vec<NamedPolicy> = self.managed_document(owner, arn).into_iter().collect();
        Some(Arc::new(CompiledPolicies::compile(&policies)))
    }

    /// Records that could not be used as they are, for the operator's log.
    pub fn problems(&self) -> &[String] {
        &self.problems
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
            let mut identity = vec![&user.policies];
            identity.extend(user.group_policies.iter());
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
                    identity: vec![&role.policies],
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
