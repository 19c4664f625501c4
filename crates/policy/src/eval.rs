//! AWS's evaluation algorithm (IAM User Guide, "Policy evaluation logic"
//! and "Cross-account policy evaluation logic"): explicit deny wins; SCPs,
//! permissions boundaries and session policies limit; in one account the
//! identity side OR the resource policy grants, across accounts both must;
//! how the resource policy named the caller decides how far its grant
//! reaches. The result says which policy type decided (enough for AWS's
//! messages) and which statements matched.
//!
//! The per-statement test ([`statement_applies`]) and the decision table
//! ([`decide`]) are shared by the indexed evaluator ([`crate::compiled`]);
//! the reference interpreter ([`crate::reference`]) re-derives both.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use crate::compiled::CompiledPolicies;
use crate::condition::all_clauses_hold;
use crate::context::{PrincipalKind, RequestContext};
use crate::document::{Effect, PolicyDocument, Statement};
use crate::json::Pos;
use crate::principal::{ClassSet, MatchClass};
use crate::tunables::{ACCOUNT_PRINCIPAL_IS_DELEGATION, EXPLICIT_DENY_REPORT_ORDER};

/// The policy types AWS names in denial messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PolicyType {
    ServiceControl,
    ResourceBased,
    /// A role trust policy (the resource policy of `sts:AssumeRole`).
    RoleTrust,
    IdentityBased,
    PermissionsBoundary,
    Session,
}

impl PolicyType {
    /// Every type, in the order they are listed for people (the sides a
    /// caller meets first come first).
    pub const ALL: [PolicyType; 6] = [
        PolicyType::IdentityBased,
        PolicyType::ResourceBased,
        PolicyType::RoleTrust,
        PolicyType::PermissionsBoundary,
        PolicyType::Session,
        PolicyType::ServiceControl,
    ];

    /// The short name in logs, records and `missing` lists (`identity`,
    /// `resource`, `trust`, `boundary`, `session`, `scp`).
    pub fn short_name(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "scp",
            PolicyType::ResourceBased => "resource",
            PolicyType::RoleTrust => "trust",
            PolicyType::IdentityBased => "identity",
            PolicyType::PermissionsBoundary => "boundary",
            PolicyType::Session => "session",
        }
    }

    /// The type a [`PolicyType::short_name`] names.
    pub fn from_short_name(name: &str) -> Option<PolicyType> {
        PolicyType::ALL.into_iter().find(|t| t.short_name() == name)
    }

    /// The noun used in AWS's messages.
    pub fn noun(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "service control policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::RoleTrust => "role trust policy",
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::Session => "session policy",
        }
    }

    /// "with an explicit deny in …" uses the article; the trust policy is
    /// "the role trust policy".
    pub fn with_article(self) -> String {
        match self {
            PolicyType::RoleTrust => "the role trust policy".to_string(),
            PolicyType::IdentityBased => "an identity-based policy".to_string(),
            other => format!("a {}", other.noun()),
        }
    }
}

/// What kind of resource policy the resource slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourcePolicyKind {
    /// A resource-based policy such as an API Gateway resource policy.
    #[default]
    ResourceBased,
    /// A role trust policy: it must always allow explicitly (STS API
    /// Reference, "AssumeRole").
    RoleTrust,
}

impl ResourcePolicyKind {
    pub fn policy_type(self) -> PolicyType {
        match self {
            ResourcePolicyKind::ResourceBased => PolicyType::ResourceBased,
            ResourcePolicyKind::RoleTrust => PolicyType::RoleTrust,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

/// The step of AWS's evaluation logic that settled a decision: what a
/// person needs to know besides the policy type AWS's message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidingRule {
    /// A Deny statement matched.
    ExplicitDeny,
    /// A Deny statement with `NotPrincipal` matched: it names everyone but
    /// the principals it lists, and the caller is not one of them.
    NotPrincipalDeny,
    /// A level of service control policies allows nothing here.
    ScpLimit,
    /// An anonymous, service or web-identity caller can only be let in by
    /// the resource policy, and it does not name the caller.
    PrincipalNotMatched,
    /// The role's trust policy does not let the caller assume it.
    NoTrust,
    /// Same account: the identity side or the resource policy may allow
    /// alone (allowed: one of them did; denied: neither did).
    SameAccountUnion,
    /// Across accounts both the identity side and the resource policy must
    /// allow.
    CrossAccountIntersection,
    /// The permissions boundary does not allow what was granted.
    BoundaryLimit,
    /// The session policy does not allow what was granted.
    SessionLimit,
    /// The resource policy granted an anonymous, service or web-identity
    /// caller.
    ResourcePolicyGrant,
}

impl DecidingRule {
    pub const ALL: [DecidingRule; 10] = [
        DecidingRule::ExplicitDeny,
        DecidingRule::NotPrincipalDeny,
        DecidingRule::ScpLimit,
        DecidingRule::PrincipalNotMatched,
        DecidingRule::NoTrust,
        DecidingRule::SameAccountUnion,
        DecidingRule::CrossAccountIntersection,
        DecidingRule::BoundaryLimit,
        DecidingRule::SessionLimit,
        DecidingRule::ResourcePolicyGrant,
    ];

    /// The rule an [`DecidingRule::as_str`] names.
    pub fn from_name(name: &str) -> Option<DecidingRule> {
        DecidingRule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == name)
    }

    /// The name in records and `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            DecidingRule::ExplicitDeny => "explicit_deny",
            DecidingRule::NotPrincipalDeny => "not_principal_deny",
            DecidingRule::ScpLimit => "scp_limit",
            DecidingRule::PrincipalNotMatched => "principal_not_matched",
            DecidingRule::NoTrust => "no_trust",
            DecidingRule::SameAccountUnion => "same_account_union",
            DecidingRule::CrossAccountIntersection => "cross_account_intersection",
            DecidingRule::BoundaryLimit => "boundary_limit",
            DecidingRule::SessionLimit => "session_limit",
            DecidingRule::ResourcePolicyGrant => "resource_policy_grant",
        }
    }

    /// One sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            DecidingRule::ExplicitDeny => {
                "a Deny statement matched; an explicit deny overrides any Allow"
            }
            DecidingRule::NotPrincipalDeny => {
                "a Deny statement with NotPrincipal matched: it denies everyone it does not list, and the caller is not listed"
            }
            DecidingRule::ScpLimit => "a service control policy does not allow the action",
            DecidingRule::PrincipalNotMatched => {
                "only the resource policy can let this caller in, and no Allow statement of it names the caller"
            }
            DecidingRule::NoTrust => {
                "the role's trust policy does not allow the caller to assume it"
            }
            DecidingRule::SameAccountUnion => {
                "same account: an Allow in either the identity-based policies or the resource policy is enough"
            }
            DecidingRule::CrossAccountIntersection => {
                "cross account: both the caller's identity-based policies and the resource policy must allow"
            }
            DecidingRule::BoundaryLimit => "the permissions boundary does not allow the action",
            DecidingRule::SessionLimit => "the session policy does not allow the action",
            DecidingRule::ResourcePolicyGrant => "the resource policy names the caller",
        }
    }
}

/// A small set of [`PolicyType`]s (no allocation): the sides that would
/// have to allow for a denied request to be allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PolicyTypes(u8);

impl PolicyTypes {
    fn bit(t: PolicyType) -> u8 {
        1 << (t as u8)
    }

    pub fn insert(&mut self, t: PolicyType) {
        self.0 |= Self::bit(t);
    }

    pub fn contains(self, t: PolicyType) -> bool {
        self.0 & Self::bit(t) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`PolicyType::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = PolicyType> {
        PolicyType::ALL
            .into_iter()
            .filter(move |&t| self.contains(t))
    }
}

impl FromIterator<PolicyType> for PolicyTypes {
    fn from_iter<I: IntoIterator<Item = PolicyType>>(iter: I) -> Self {
        let mut set = PolicyTypes::default();
        for t in iter {
            set.insert(t);
        }
        set
    }
}

/// A statement that matched the request, for the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub policy_type: PolicyType,
    /// The caller-chosen id of the policy (name, ARN, file name…).
    pub policy_id: Arc<str>,
    /// Zero-based index of the statement in its policy.
    pub statement_index: usize,
    pub sid: Option<Arc<str>>,
    pub effect: Effect,
    /// How a resource-policy statement named the caller.
    pub principal_classes: Vec<MatchClass>,
    /// The statement names its principals with `NotPrincipal`.
    pub not_principal: bool,
    pub pos: Pos,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// For denies, the type named in the message; for allows, the side that
    /// granted (identity-based or resource-based).
    pub deciding_policy_type: PolicyType,
    /// Explicit deny: the matching Deny statements only; otherwise every
    /// matching Allow statement.
    pub matched: Vec<MatchedStatement>,
    /// The step of the evaluation logic that settled it.
    pub rule: DecidingRule,
    /// Implicit deny: the policy types that would each have to allow (and
    /// together suffice) for the request to be allowed, all else equal.
    /// Empty when allowed, and for an explicit deny (no Allow added
    /// anywhere overrides it).
    pub missing: PolicyTypes,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    /// AWS's message for a denial (IAM User Guide, "Troubleshoot access
    /// denied error messages"); `None` when allowed.
    /// `principal` is the caller ARN or `anonymous`.
    pub fn denial_message(&self, principal: &str, action: &str, resource: &str) -> Option<String> {
        let head = format!(
            "User: {principal} is not authorized to perform: {action} on resource: {resource}"
        );
        match self.outcome {
            Outcome::Allowed => None,
            Outcome::ExplicitDeny => Some(format!(
                "{head} with an explicit deny in {}",
                self.deciding_policy_type.with_article()
            )),
            Outcome::ImplicitDeny => Some(format!(
                "{head} because no {} allows the {action} action",
                self.deciding_policy_type.noun()
            )),
        }
    }

    /// A readable multi-line trace.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let verdict = match self.outcome {
            Outcome::Allowed => format!(
                "ALLOW (granted by the {})",
                self.deciding_policy_type.noun()
            ),
            Outcome::ExplicitDeny => format!(
                "EXPLICIT DENY (in {})",
                self.deciding_policy_type.with_article()
            ),
            Outcome::ImplicitDeny => format!(
                "IMPLICIT DENY (no {} allows it)",
                self.deciding_policy_type.noun()
            ),
        };
        let _ = writeln!(out, "decision: {verdict}");
        let _ = writeln!(out, "rule: {}", self.rule.describe());
        if !self.missing.is_empty() {
            let missing: Vec<&str> = self.missing.iter().map(PolicyType::noun).collect();
            let _ = writeln!(
                out,
                "would be allowed if these also allowed: {}",
                missing.join(", ")
            );
        }
        if self.matched.is_empty() {
            let _ = writeln!(out, "matched statements: none");
        }
        for m in &self.matched {
            let _ = write!(
                out,
                "  {:?} {} `{}` statement #{}",
                m.effect,
                m.policy_type.noun(),
                m.policy_id,
                m.statement_index
            );
            if let Some(sid) = &m.sid {
                let _ = write!(out, " (Sid {sid})");
            }
            let _ = write!(out, " at {}", m.pos);
            if !m.principal_classes.is_empty() {
                let _ = write!(out, ", principal matched as {:?}", m.principal_classes);
            }
            if m.not_principal {
                let _ = write!(out, ", by NotPrincipal");
            }
            out.push('\n');
        }
        out
    }

    /// A JSON form for tools.
    pub fn to_json(&self) -> serde_json::Value {
        let matched: Vec<serde_json::Value> = self
            .matched
            .iter()
            .map(|m| {
                serde_json::json!({
                    "policy_type": m.policy_type,
                    "policy_id": &*m.policy_id,
                    "statement_index": m.statement_index,
                    "sid": m.sid.as_deref(),
                    "effect": m.effect,
                    "principal_classes": m.principal_classes,
                    "not_principal": m.not_principal,
                    "line": m.pos.line,
                    "column": m.pos.column,
                })
            })
            .collect();
        serde_json::json!({
            "outcome": self.outcome,
            "deciding_policy_type": self.deciding_policy_type,
            "rule": self.rule,
            "missing": self.missing.iter().map(PolicyType::short_name).collect::<Vec<_>>(),
            "matched": matched,
        })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain())
    }
}

/// Whether `statement` applies to the request; `Some(classes)` when it does
/// (classes empty unless a `Principal` matched). `principal_required`: the
/// statement is in a resource or trust policy. `action_matched`: the index
/// already established that the statement lists the action.
pub fn statement_applies(
    statement: &Statement,
    ctx: &RequestContext,
    principal_required: bool,
    action_matched: bool,
) -> Option<ClassSet> {
    let deny = statement.effect == Effect::Deny;
    if statement.defective && !deny {
        return None;
    }
    if !action_matched && !statement.action.matches(&ctx.action) {
        return None;
    }
    let classes = match &statement.principal {
        Some(block) => {
            if !block.applies_to(&ctx.principal, &ctx.action) {
                return None;
            }
            if block.negated {
                ClassSet::default()
            } else {
                block.classes(&ctx.principal)
            }
        }
        // A resource-policy Allow must name someone; a Deny without one
        // (only in a defective document) applies to everyone.
        None if principal_required && !deny => return None,
        None => ClassSet::default(),
    };
    if let Some(resource) = &statement.resource
        && !resource.matches(ctx.resource.as_deref(), ctx)
    {
        return None;
    }
    if !all_clauses_hold(&statement.conditions, ctx, deny) {
        return None;
    }
    Some(classes)
}

/// What one policy slot said about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotResult {
    pub denied: bool,
    pub allowed: bool,
    /// Resource slot: the classes of all matching Allow statements.
    pub classes: ClassSet,
}

/// The slots of one evaluation, after scanning statements.
#[derive(Debug, Clone, Default)]
pub struct SlotResults {
    pub identity: SlotResult,
    /// `None`: no resource policy.
    pub resource: Option<SlotResult>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<SlotResult>,
    pub session: Option<SlotResult>,
    /// One per organization level; empty when SCPs do not apply.
    pub scp_levels: Vec<SlotResult>,
}

/// What [`decide`] settled: the outcome, the policy type AWS's message
/// names, the rule, and for an implicit deny the sides that would have to
/// allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ruling {
    pub outcome: Outcome,
    pub policy_type: PolicyType,
    pub rule: DecidingRule,
    pub missing: PolicyTypes,
}

impl Ruling {
    fn allow(policy_type: PolicyType, rule: DecidingRule) -> Self {
        Ruling {
            outcome: Outcome::Allowed,
            policy_type,
            rule,
            missing: PolicyTypes::default(),
        }
    }

    fn deny(policy_type: PolicyType, rule: DecidingRule, missing: PolicyTypes) -> Self {
        Ruling {
            outcome: Outcome::ImplicitDeny,
            policy_type,
            rule,
            missing,
        }
    }
}

/// The identity path of an IAM caller, slot by slot.
#[derive(Debug, Clone, Copy)]
struct IdentityPath {
    identity: bool,
    boundary: bool,
    session: bool,
}

impl IdentityPath {
    fn of(ctx: &RequestContext, slots: &SlotResults) -> Self {
        IdentityPath {
            identity: ctx.principal.kind == PrincipalKind::Root || slots.identity.allowed,
            boundary: slots.boundary.is_none_or(|b| b.allowed),
            session: match slots.session {
                Some(s) => s.allowed,
                // A GetFederationToken session without a session policy has
                // no permissions; a role session without one is unrestricted.
                None => ctx.principal.kind != PrincipalKind::FederatedUser,
            },
        }
    }

    /// The limits on a grant: boundary and session policy.
    fn limits_ok(self) -> bool {
        self.boundary && self.session
    }

    fn ok(self) -> bool {
        self.identity && self.limits_ok()
    }

    /// The sides of the path that do not allow; `with_identity` false for
    /// a grant that needs only the limits (a resource policy naming the
    /// role).
    fn failing(self, with_identity: bool) -> PolicyTypes {
        let mut set = PolicyTypes::default();
        if with_identity && !self.identity {
            set.insert(PolicyType::IdentityBased);
        }
        if !self.boundary {
            set.insert(PolicyType::PermissionsBoundary);
        }
        if !self.session {
            set.insert(PolicyType::Session);
        }
        set
    }
}

/// The decision over slot results: explicit deny, SCPs, resource policy,
/// boundary, session policy, identity policies. An implicit deny also says
/// which sides are missing: every side named there must allow, and
/// adding an Allow to each of them (and nothing else) allows the request
/// (`tests/properties.rs` checks it against the reference interpreter).
/// Where AWS would accept either side (same account: identity policy or
/// resource policy), the identity side is named: it is the one a caller's
/// own account controls.
pub fn decide(ctx: &RequestContext, slots: &SlotResults) -> Ruling {
    let resource_type = slots.resource_kind.policy_type();
    // 1. Explicit deny anywhere.
    let denied_in = |t: PolicyType| match t {
        PolicyType::ServiceControl => slots.scp_levels.iter().any(|s| s.denied),
        PolicyType::ResourceBased | PolicyType::RoleTrust => {
            t == resource_type && slots.resource.is_some_and(|r| r.denied)
        }
        PolicyType::IdentityBased => slots.identity.denied,
        PolicyType::PermissionsBoundary => slots.boundary.is_some_and(|b| b.denied),
        PolicyType::Session => slots.session.is_some_and(|s| s.denied),
    };
    if let Some(t) = EXPLICIT_DENY_REPORT_ORDER
        .iter()
        .copied()
        .find(|&t| denied_in(t))
    {
        return Ruling {
            outcome: Outcome::ExplicitDeny,
            policy_type: t,
            rule: DecidingRule::ExplicitDeny,
            missing: PolicyTypes::default(),
        };
    }
    let ruling = decide_allow(ctx, slots);
    // 2. SCPs: every level must allow; they are named first in the
    // message, and must be added to whatever else is missing.
    if slots.scp_levels.iter().any(|s| !s.allowed) {
        let mut missing = ruling.missing;
        missing.insert(PolicyType::ServiceControl);
        return Ruling::deny(PolicyType::ServiceControl, DecidingRule::ScpLimit, missing);
    }
    ruling
}

/// Steps 3 and 4 of [`decide`], as if every SCP level allowed.
fn decide_allow(ctx: &RequestContext, slots: &SlotResults) -> Ruling {
    let resource_type = slots.resource_kind.policy_type();
    let rp = slots.resource.filter(|r| r.allowed).map(|r| r.classes);
    let has = |c: MatchClass| rp.is_some_and(|set| set.contains(c));
    let only_resource = PolicyTypes::from_iter([resource_type]);
    // 3. Callers with no identity policies: the resource policy alone.
    let named = match ctx.principal.kind {
        PrincipalKind::Anonymous => Some(has(MatchClass::Star)),
        PrincipalKind::Service => Some(has(MatchClass::Star) || has(MatchClass::Service)),
        PrincipalKind::WebIdentity => Some(has(MatchClass::Star) || has(MatchClass::Federated)),
        _ => None,
    };
    if let Some(named) = named {
        return if named {
            Ruling::allow(resource_type, DecidingRule::ResourcePolicyGrant)
        } else {
            Ruling::deny(
                resource_type,
                DecidingRule::PrincipalNotMatched,
                only_resource,
            )
        };
    }
    let trust = slots.resource_kind == ResourcePolicyKind::RoleTrust;
    if trust && rp.is_none() {
        let mut missing = only_resource;
        // Across accounts the caller's own permission is needed too.
        if ctx.principal.account != ctx.resource_owner() {
            let path = IdentityPath::of(ctx, slots);
            for t in path.failing(true).iter() {
                missing.insert(t);
            }
        }
        return Ruling::deny(resource_type, DecidingRule::NoTrust, missing);
    }
    let path = IdentityPath::of(ctx, slots);
    // 4. Same account: union; cross account: intersection.
    if ctx.principal.account == ctx.resource_owner() {
        let union = DecidingRule::SameAccountUnion;
        let direct = has(MatchClass::Direct) || has(MatchClass::Star);
        let role = has(MatchClass::RoleSession) && path.limits_ok();
        let account = has(MatchClass::Account) && (path.ok() || !ACCOUNT_PRINCIPAL_IS_DELEGATION);
        if direct || role || account {
            return Ruling::allow(resource_type, union);
        }
        if path.ok() && !trust {
            return Ruling::allow(PolicyType::IdentityBased, union);
        }
        // Name what stopped it: the limit on a role grant, else the
        // identity side.
        let role_grant = has(MatchClass::RoleSession);
        let missing = path.failing(!role_grant);
        let (reason, rule) = if role_grant {
            if !path.boundary {
                (PolicyType::PermissionsBoundary, DecidingRule::BoundaryLimit)
            } else {
                (PolicyType::Session, DecidingRule::SessionLimit)
            }
        } else if !path.identity {
            (PolicyType::IdentityBased, union)
        } else if !path.boundary {
            (PolicyType::PermissionsBoundary, DecidingRule::BoundaryLimit)
        } else {
            (PolicyType::Session, DecidingRule::SessionLimit)
        };
        return Ruling::deny(reason, rule, missing);
    }
    let cross = DecidingRule::CrossAccountIntersection;
    if path.ok() && rp.is_some() {
        return Ruling::allow(PolicyType::IdentityBased, cross);
    }
    let mut missing = path.failing(true);
    if rp.is_none() {
        missing.insert(resource_type);
    }
    let (reason, rule) = if !path.identity {
        (PolicyType::IdentityBased, cross)
    } else if !path.boundary {
        (PolicyType::PermissionsBoundary, DecidingRule::BoundaryLimit)
    } else if !path.session {
        (PolicyType::Session, DecidingRule::SessionLimit)
    } else {
        (resource_type, cross)
    };
    Ruling::deny(reason, rule, missing)
}

/// A policy document with the id it is reported under.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    pub id: Arc<str>,
    pub document: Arc<PolicyDocument>,
}

impl NamedPolicy {
    pub fn new(id: &str, document: PolicyDocument) -> Self {
        NamedPolicy {
            id: Arc::from(id),
            document: Arc::new(document),
        }
    }
}

/// Every policy that applies to one request, grouped by source.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// User inline + managed + group policies, or role policies.
    pub identity: Vec<NamedPolicy>,
    /// The resource's policy (empty: none).
    pub resource: Vec<NamedPolicy>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<NamedPolicy>,
    /// Session policies (empty: none were passed).
    pub session: Vec<NamedPolicy>,
    /// SCPs per organization level, root first (empty: no SCPs apply).
    pub scp_levels: Vec<Vec<NamedPolicy>>,
}

impl PolicySet {
    /// Compiles every slot into its indexed form.
    pub fn compile(&self) -> CompiledPolicySet {
        CompiledPolicySet {
            identity: CompiledPolicies::compile(&self.identity),
            resource: (!self.resource.is_empty())
                .then(|| CompiledPolicies::compile(&self.resource)),
            resource_kind: self.resource_kind,
            boundary: self
                .boundary
                .as_ref()
                .map(|b| CompiledPolicies::compile(std::slice::from_ref(b))),
            session: (!self.session.is_empty()).then(|| CompiledPolicies::compile(&self.session)),
            scp_levels: self
                .scp_levels
                .iter()
                .map(|l| CompiledPolicies::compile(l))
                .collect(),
        }
    }
}

/// A compiled [`PolicySet`].
#[derive(Debug, Clone)]
pub struct CompiledPolicySet {
    pub identity: CompiledPolicies,
    pub resource: Option<CompiledPolicies>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<CompiledPolicies>,
    pub session: Option<CompiledPolicies>,
    pub scp_levels: Vec<CompiledPolicies>,
}

impl CompiledPolicySet {
    pub fn evaluate(&self, request: &RequestContext) -> Decision {
        let identity = [&self.identity];
        let scps: Vec<&CompiledPolicies> = self.scp_levels.iter().collect();
        evaluate(&EvaluationInput {
            request,
            identity: &identity,
            resource: self.resource.as_ref(),
            resource_kind: self.resource_kind,
            boundary: self.boundary.as_ref(),
            session: self.session.as_ref(),
            scp_levels: &scps,
        })
    }
}

/// Borrowed, already-compiled policies for one request. Identity policies
/// may come in several compiled groups (a user's own and each group's), so
/// each can be compiled once and shared.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationInput<'a> {
    pub request: &'a RequestContext,
    pub identity: &'a [&'a CompiledPolicies],
    pub resource: Option<&'a CompiledPolicies>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<&'a CompiledPolicies>,
    pub session: Option<&'a CompiledPolicies>,
    pub scp_levels: &'a [&'a CompiledPolicies],
}

/// Evaluates one request.
pub fn evaluate(input: &EvaluationInput<'_>) -> Decision {
    let ctx = input.request;
    let mut matched = Vec::new();
    let mut slots = SlotResults {
        resource_kind: input.resource_kind,
        ..SlotResults::default()
    };
    for set in input.identity {
        let r = set.scan(ctx, false, PolicyType::IdentityBased, &mut matched);
        slots.identity.denied |= r.denied;
        slots.identity.allowed |= r.allowed;
    }
    let resource_type = input.resource_kind.policy_type();
    slots.resource = input
        .resource
        .map(|set| set.scan(ctx, true, resource_type, &mut matched));
    slots.boundary = input
        .boundary
        .map(|set| set.scan(ctx, false, PolicyType::PermissionsBoundary, &mut matched));
    slots.session = input
        .session
        .map(|set| set.scan(ctx, false, PolicyType::Session, &mut matched));
    // SCPs limit principals of member accounts only; an anonymous or
    // service caller has no account to limit.
    if !matches!(
        ctx.principal.kind,
        PrincipalKind::Anonymous | PrincipalKind::Service | PrincipalKind::WebIdentity
    ) {
        slots.scp_levels = input
            .scp_levels
            .iter()
            .map(|set| set.scan(ctx, false, PolicyType::ServiceControl, &mut matched))
            .collect();
    }
    finish(decide(ctx, &slots), matched)
}

/// Builds the decision, keeping only Deny statements for an explicit deny;
/// an explicit deny settled by `NotPrincipal` statements alone says so.
pub fn finish(ruling: Ruling, mut matched: Vec<MatchedStatement>) -> Decision {
    let keep = if ruling.outcome == Outcome::ExplicitDeny {
        Effect::Deny
    } else {
        Effect::Allow
    };
    matched.retain(|m| m.effect == keep);
    let mut rule = ruling.rule;
    if rule == DecidingRule::ExplicitDeny {
        let mut deciding = matched
            .iter()
            .filter(|m| m.policy_type == ruling.policy_type)
            .peekable();
        if deciding.peek().is_some() && deciding.all(|m| m.not_principal) {
            rule = DecidingRule::NotPrincipalDeny;
        }
    }
    Decision {
        outcome: ruling.outcome,
        deciding_policy_type: ruling.policy_type,
        matched,
        rule,
        missing: ruling.missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(outcome: Outcome, t: PolicyType) -> String {
        let d = Decision {
            outcome,
            deciding_policy_type: t,
            matched: Vec::new(),
            rule: DecidingRule::ExplicitDeny,
            missing: PolicyTypes::default(),
        };
        let msg = d.denial_message("P", "svc:Act", "R").unwrap();
        msg.strip_prefix("User: P is not authorized to perform: svc:Act on resource: R ")
            .unwrap()
            .to_string()
    }

    #[test]
    fn every_denial_suffix_of_spec_7_4() {
        use PolicyType::*;
        let explicit = [
            (
                ServiceControl,
                "with an explicit deny in a service control policy",
            ),
            (
                ResourceBased,
                "with an explicit deny in a resource-based policy",
            ),
            (
                IdentityBased,
                "with an explicit deny in an identity-based policy",
            ),
            (
                PermissionsBoundary,
                "with an explicit deny in a permissions boundary",
            ),
            (Session, "with an explicit deny in a session policy"),
            (RoleTrust, "with an explicit deny in the role trust policy"),
        ];
        for (t, suffix) in explicit {
            assert_eq!(denial(Outcome::ExplicitDeny, t), suffix);
        }
        let implicit = [
            (ServiceControl, "service control policy"),
            (ResourceBased, "resource-based policy"),
            (IdentityBased, "identity-based policy"),
            (PermissionsBoundary, "permissions boundary"),
            (Session, "session policy"),
            (RoleTrust, "role trust policy"),
        ];
        for (t, noun) in implicit {
            assert_eq!(
                denial(Outcome::ImplicitDeny, t),
                format!("because no {noun} allows the svc:Act action")
            );
        }
    }

    #[test]
    fn allowed_decisions_have_no_denial_message() {
        let d = Decision {
            outcome: Outcome::Allowed,
            deciding_policy_type: PolicyType::IdentityBased,
            matched: Vec::new(),
            rule: DecidingRule::SameAccountUnion,
            missing: PolicyTypes::default(),
        };
        assert_eq!(d.denial_message("P", "a:b", "R"), None);
    }
}
