//! The record of one decision, and what each account may see of it.
//!
//! A record never holds a secret: no secret key, session token or
//! signature is ever passed in, and the one condition key whose value is
//! a shared secret by convention (`sts:ExternalId`) is kept as present,
//! not as its value. Policy *text* is never recorded either; policies are
//! named (name or ARN) with the account that owns them, and statements by
//! Sid, index and position, so a reader can find them in their own files.

use iamgate_policy::{
    ContextValue, DecidingRule, Decision, Effect, EvaluationInput, Outcome, PolicyType,
    PrincipalIdentity, RequestContext,
};
use serde::{Deserialize, Serialize};

/// The access log's words for a decision, shared by every surface.
pub mod words {
    use iamgate_policy::Outcome;

    pub const ALLOW: &str = "allow";
    pub const IMPLICIT_DENY: &str = "implicit_deny";
    pub const EXPLICIT_DENY: &str = "explicit_deny";
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// A denial let through by `--enforce soft`.
    pub const WOULD_DENY: &str = "would_deny";

    /// The word for an evaluated outcome.
    pub fn of(outcome: Outcome) -> &'static str {
        match outcome {
            Outcome::Allowed => ALLOW,
            Outcome::ImplicitDeny => IMPLICIT_DENY,
            Outcome::ExplicitDeny => EXPLICIT_DENY,
        }
    }
}

/// Condition keys whose values are never recorded (lower-cased).
const SECRET_KEYS: &[&str] = &["sts:externalid"];

/// The caller as the request authenticated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerRecord {
    pub arn: String,
    pub account: String,
    pub unique_id: Option<String>,
    /// For role sessions: the role the session was issued for.
    pub session_issuer: Option<String>,
    pub source_identity: Option<String>,
}

/// A policy the evaluation considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRecord {
    /// `identity`, `resource`, `trust`, `boundary`, `session`, `scp`.
    pub policy_type: String,
    /// Name or ARN; `None` when the reader's account does not own it.
    pub policy: Option<String>,
    /// The account that owns it.
    pub account: String,
}

/// A statement that applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementRecord {
    pub policy_type: String,
    /// `None` (with `sid`, `index`, `line`, `column`) when the reader's
    /// account does not own the policy.
    pub policy: Option<String>,
    pub account: String,
    pub sid: Option<String>,
    pub index: Option<usize>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// The statement names its principals with `NotPrincipal`.
    pub not_principal: bool,
}

/// A condition key an evaluation may read, and its value in the request
/// (no values: the key was absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionKeyRecord {
    pub key: String,
    pub values: Vec<String>,
    pub present: bool,
}

/// What was decided about one request, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// The id the client got back (`x-amzn-RequestId`, `apigw-requestid`).
    pub request_id: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// `execute-api`, `sts`, `iam` or `apigateway`.
    pub service: String,
    /// The access log's word: `allow`, `implicit_deny`, `explicit_deny`,
    /// `unauthenticated`, `would_deny`, `not_found`, ….
    pub decision: String,
    /// The caller's ARN; `anonymous`; `None` when the signature did not
    /// establish one.
    pub principal: Option<String>,
    pub caller: Option<CallerRecord>,
    pub action: String,
    pub resource: Option<String>,
    /// The account that owns the resource (`None`: not known, such as an
    /// API id that names no API).
    pub resource_account: Option<String>,
    /// The policy type AWS's message names (`identity`, `resource`, …);
    /// for an allow, the side that granted.
    pub deciding_policy_type: Option<String>,
    /// The step of the evaluation logic that decided
    /// ([`DecidingRule::as_str`]).
    pub rule: Option<String>,
    /// The policy types that would each have to allow for an Allow.
    pub missing: Vec<String>,
    pub matched_statements: Vec<StatementRecord>,
    pub policies: Vec<PolicyRecord>,
    pub condition_keys: Vec<ConditionKeyRecord>,
    /// AWS's message to the client; for refusals without one, what
    /// happened.
    pub message: Option<String>,
    /// The SigV4 error code of a refused signature.
    pub error_code: Option<String>,
    /// What API keys, usage plans and throttles decided (execute-api).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageRecord>,
}

/// What the API key and throttle phase decided: the key's id (never its
/// value), the plan, and whether a throttle or the quota refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_plan_id: Option<String>,
    /// `allowed`, `invalid_api_key`, `throttled` or `quota_exceeded`.
    pub outcome: String,
    /// What remains of the key's quota for the period, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_quota: Option<u64>,
}

impl DecisionRecord {
    /// A decision taken without evaluating policies (refused before, or
    /// nothing to evaluate).
    pub fn bare(request_id: &str, time: i64, service: &str, decision: &str, action: &str) -> Self {
        DecisionRecord {
            request_id: request_id.to_owned(),
            time,
            service: service.to_owned(),
            decision: decision.to_owned(),
            principal: None,
            caller: None,
            action: action.to_owned(),
            resource: None,
            resource_account: None,
            deciding_policy_type: None,
            rule: None,
            missing: Vec::new(),
            matched_statements: Vec::new(),
            policies: Vec::new(),
            condition_keys: Vec::new(),
            message: None,
            error_code: None,
            usage: None,
        }
    }

    /// The record of `decision` over `input`.
    pub fn evaluated(
        request_id: &str,
        time: i64,
        service: &str,
        input: &EvaluationInput<'_>,
        decision: &Decision,
    ) -> Self {
        let ctx = input.request;
        let resource_account = ctx.resource_owner().to_owned();
        let caller_account = ctx.principal.account.clone();
        let owner = |t: PolicyType| match t {
            PolicyType::ResourceBased | PolicyType::RoleTrust => resource_account.clone(),
            _ => caller_account.clone(),
        };
        let resource_type = input.resource_kind.policy_type();
        let mut slots: Vec<(PolicyType, &iamgate_policy::CompiledPolicies)> = input
            .identity
            .iter()
            .map(|set| (PolicyType::IdentityBased, *set))
            .collect();
        slots.extend(input.resource.map(|set| (resource_type, set)));
        slots.extend(
            input
                .boundary
                .map(|set| (PolicyType::PermissionsBoundary, set)),
        );
        slots.extend(input.session.map(|set| (PolicyType::Session, set)));
        slots.extend(
            input
                .scp_levels
                .iter()
                .map(|set| (PolicyType::ServiceControl, *set)),
        );
        let mut policies = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for (policy_type, set) in &slots {
            for id in set.policy_ids() {
                policies.push(PolicyRecord {
                    policy_type: policy_type.short_name().to_owned(),
                    policy: Some(id.to_owned()),
                    account: owner(*policy_type),
                });
            }
            set.condition_keys(&ctx.action, |key| {
                if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                    keys.push(key.to_owned());
                }
            });
        }
        let matched_statements = decision
            .matched
            .iter()
            .map(|m| StatementRecord {
                policy_type: m.policy_type.short_name().to_owned(),
                policy: Some(m.policy_id.to_string()),
                account: owner(m.policy_type),
                sid: m.sid.as_deref().map(str::to_owned),
                index: Some(m.statement_index),
                line: Some(m.pos.line),
                column: Some(m.pos.column),
                effect: effect_word(m.effect).to_owned(),
                not_principal: m.not_principal,
            })
            .collect();
        DecisionRecord {
            principal: Some(ctx.principal.display().to_owned()),
            caller: caller_of(ctx),
            resource: ctx.resource.clone(),
            resource_account: Some(resource_account.clone()),
            deciding_policy_type: Some(decision.deciding_policy_type.short_name().to_owned()),
            rule: Some(decision.rule.as_str().to_owned()),
            missing: decision
                .missing
                .iter()
                .map(|t| t.short_name().to_owned())
                .collect(),
            matched_statements,
            policies,
            condition_keys: keys.iter().map(|key| condition_key(ctx, key)).collect(),
            ..DecisionRecord::bare(
                request_id,
                time,
                service,
                words::of(decision.outcome),
                &ctx.action,
            )
        }
    }

    /// The outcome the record's decision word stands for, if it is one.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.decision.as_str() {
            words::ALLOW => Some(Outcome::Allowed),
            words::IMPLICIT_DENY | words::WOULD_DENY => Some(Outcome::ImplicitDeny),
            words::EXPLICIT_DENY => Some(Outcome::ExplicitDeny),
            _ => None,
        }
    }

    /// The account the caller acted in, when established.
    pub fn caller_account(&self) -> Option<&str> {
        self.caller.as_ref().map(|caller| caller.account.as_str())
    }

    /// What `reader` (an account id) may see of this record: `None` unless
    /// it is the caller's account or the resource's. Policies another
    /// account owns keep their type and owner but lose their name, and
    /// their statements lose Sid and position; the caller's principal tags
    /// are the caller's account's, the resource's tags the owner's.
    pub fn visible_to(&self, reader: &str) -> Option<DecisionRecord> {
        let is_caller = self.caller_account() == Some(reader);
        let is_owner = self.resource_account.as_deref() == Some(reader);
        if !is_caller && !is_owner {
            return None;
        }
        let mut view = self.clone();
        for policy in &mut view.policies {
            if policy.account != reader {
                policy.policy = None;
            }
        }
        for statement in &mut view.matched_statements {
            if statement.account != reader {
                statement.policy = None;
                statement.sid = None;
                statement.index = None;
                statement.line = None;
                statement.column = None;
            }
        }
        view.condition_keys.retain(|entry| {
            let key = entry.key.to_ascii_lowercase();
            let principal_tag = key.starts_with("aws:principaltag/");
            let resource_tag =
                key.starts_with("aws:resourcetag/") || key.starts_with("iam:resourcetag/");
            (is_caller || !principal_tag) && (is_owner || !resource_tag)
        });
        Some(view)
    }

    /// An estimate of the memory the record holds, for the ring's byte
    /// bound.
    pub fn approximate_size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let caller = self.caller.as_ref().map_or(0, |c| {
            c.arn.len()
                + c.account.len()
                + text(&c.unique_id)
                + text(&c.session_issuer)
                + text(&c.source_identity)
        });
        let policies: usize = self
            .policies
            .iter()
            .map(|p| 64 + p.policy_type.len() + text(&p.policy) + p.account.len())
            .sum();
        let statements: usize = self
            .matched_statements
            .iter()
            .map(|s| 96 + text(&s.policy) + s.account.len() + text(&s.sid))
            .sum();
        let keys: usize = self
            .condition_keys
            .iter()
            .map(|k| 48 + k.key.len() + k.values.iter().map(|v| v.len() + 24).sum::<usize>())
            .sum();
        std::mem::size_of::<Self>()
            + self.request_id.len()
            + self.action.len()
            + text(&self.principal)
            + text(&self.resource)
            + text(&self.message)
            + caller
            + policies
            + statements
            + keys
            + self.missing.len() * 32
    }
}

fn effect_word(effect: Effect) -> &'static str {
    match effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    }
}

impl CallerRecord {
    /// `principal`, when it has an account (anonymous and service callers
    /// have none).
    pub fn of(principal: &PrincipalIdentity, source_identity: Option<String>) -> Option<Self> {
        (!principal.account.is_empty()).then(|| CallerRecord {
            arn: principal.arn.clone(),
            account: principal.account.clone(),
            unique_id: principal.unique_id.clone(),
            session_issuer: principal.role_arn.clone(),
            source_identity,
        })
    }
}

fn caller_of(ctx: &RequestContext) -> Option<CallerRecord> {
    let source_identity = match ctx.get("aws:SourceIdentity") {
        Some(ContextValue::Single(value)) => Some(value.clone()),
        _ => None,
    };
    CallerRecord::of(&ctx.principal, source_identity)
}

fn condition_key(ctx: &RequestContext, key: &str) -> ConditionKeyRecord {
    let value = ctx.get(key);
    let secret = SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str());
    let values = match value {
        _ if secret => Vec::new(),
        Some(ContextValue::Single(value)) => vec![value.clone()],
        Some(ContextValue::Multi(values)) => values.clone(),
        None => Vec::new(),
    };
    ConditionKeyRecord {
        key: key.to_owned(),
        values,
        present: value.is_some(),
    }
}

/// The rule's sentence for people, from its recorded name.
pub fn describe_rule(name: &str) -> Option<&'static str> {
    DecidingRule::from_name(name).map(DecidingRule::describe)
}
