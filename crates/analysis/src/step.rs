//! One step of an access — a caller doing the target's action — decided
//! by the real evaluator, with the conditions that still apply.
//!
//! When no statement the step could consider reads a request-time key,
//! the evaluator's answer is the answer. Otherwise it is asked twice, on
//! the policy sets rewritten as [`conditions::resolve`] says: allowed
//! under the unfavourable assumption means allowed whatever the request;
//! denied under the favourable one means never; in between, allowed under
//! the conditions read off the statements that made the difference.
//! Rewritten sets are cached by the set they come from, which the world
//! shares among every principal holding it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iamgate_iam::{Caller, World};
use iamgate_policy::document::Effect;
use iamgate_policy::eval::statement_applies;
use iamgate_policy::{
    CompiledPolicies, Decision, EvaluationInput, PolicyType, ResourcePolicyKind, evaluate,
};

use crate::conditions::{
    Assume, Condition, policy_type_name, render_clause, request_time_clauses, resolve,
};
use crate::target::Target;

/// A step that can be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reach {
    /// Empty: whatever the request.
    pub conditions: Vec<Condition>,
    /// The statements that granted it, for people (`identity policy
    /// inline:invoke #0`).
    pub grants: Vec<String>,
}

/// A rewritten set by the address of the original, the assumption and
/// whether resource tags are decided.
type RewriteKey = (usize, Assume, bool);

#[derive(Default)]
pub(crate) struct Evaluator {
    /// The original set (kept alive here, so its address stays its own)
    /// and its rewritten form.
    rewritten: HashMap<RewriteKey, (Arc<CompiledPolicies>, Arc<CompiledPolicies>)>,
}

/// The policy sets of one step, by slot.
struct Slots {
    identity: Vec<Arc<CompiledPolicies>>,
    boundary: Option<Arc<CompiledPolicies>>,
    session: Option<Arc<CompiledPolicies>>,
    resource: Option<Arc<CompiledPolicies>>,
    /// The caller's SCPs per organization level, root first.
    scp_levels: Vec<Arc<CompiledPolicies>>,
}

impl Slots {
    fn each(&self, kind: ResourcePolicyKind) -> Vec<(PolicyType, &Arc<CompiledPolicies>)> {
        let mut all: Vec<(PolicyType, &Arc<CompiledPolicies>)> = self
            .identity
            .iter()
            .map(|s| (PolicyType::IdentityBased, s))
            .collect();
        all.extend(
            self.boundary
                .iter()
                .map(|s| (PolicyType::PermissionsBoundary, s)),
        );
        all.extend(self.session.iter().map(|s| (PolicyType::Session, s)));
        all.extend(self.resource.iter().map(|s| (kind.policy_type(), s)));
        all.extend(
            self.scp_levels
                .iter()
                .map(|s| (PolicyType::ServiceControl, s)),
        );
        all
    }
}

fn label(policy_type: PolicyType, policy: &str, index: usize, sid: Option<&str>) -> String {
    let name = policy_type_name(policy_type);
    match sid {
        Some(sid) => format!("{name} policy {policy} #{index} (Sid {sid})"),
        None => format!("{name} policy {policy} #{index}"),
    }
}

fn grants(decision: &Decision) -> Vec<String> {
    decision
        .matched
        .iter()
        .map(|m| {
            label(
                m.policy_type,
                &m.policy_id,
                m.statement_index,
                m.sid.as_deref(),
            )
        })
        .collect()
}

fn run(target: &Target, context: &iamgate_policy::RequestContext, slots: &Slots) -> Decision {
    let identity: Vec<&CompiledPolicies> = slots.identity.iter().map(|s| &**s).collect();
    let scp_levels: Vec<&CompiledPolicies> = slots.scp_levels.iter().map(|s| &**s).collect();
    evaluate(&EvaluationInput {
        request: context,
        identity: &identity,
        resource: slots.resource.as_deref(),
        resource_kind: target.kind,
        boundary: slots.boundary.as_deref(),
        session: slots.session.as_deref(),
        scp_levels: &scp_levels,
    })
}

impl Evaluator {
    /// Whether `caller` (`None`: anonymous) can take `target`'s action.
    pub fn step(
        &mut self,
        world: &World,
        caller: Option<&Caller>,
        target: &Target,
    ) -> Option<Reach> {
        let context = target.context(caller);
        let slots = match caller {
            Some(caller) => {
                let policies = world.caller_policies(caller);
                Slots {
                    identity: policies.identity,
                    boundary: policies.boundary,
                    session: policies.session,
                    resource: target.policy.clone(),
                    scp_levels: policies.scp_levels,
                }
            }
            None => Slots {
                identity: Vec::new(),
                boundary: None,
                session: None,
                resource: target.policy.clone(),
                scp_levels: Vec::new(),
            },
        };
        let tags = target.resource_tags;
        let conditional = slots.each(target.kind).iter().any(|(_, set)| {
            set.candidates(&target.action)
                .iter()
                .any(|(_, _, s)| !request_time_clauses(s, tags).is_empty())
        });
        if !conditional {
            let decision = run(target, &context, &slots);
            return decision.is_allowed().then(|| Reach {
                conditions: Vec::new(),
                grants: grants(&decision),
            });
        }
        let unfavourable = self.rewrite(&slots, Assume::Unfavourable, tags);
        let decision = run(target, &context, &unfavourable);
        if decision.is_allowed() {
            return Some(Reach {
                conditions: Vec::new(),
                grants: grants(&decision),
            });
        }
        let favourable = self.rewrite(&slots, Assume::Favourable, tags);
        let decision = run(target, &context, &favourable);
        if !decision.is_allowed() {
            return None;
        }
        Some(Reach {
            conditions: conditions_of(target, &context, &slots, &decision),
            grants: grants(&decision),
        })
    }

    fn rewrite(&mut self, slots: &Slots, assume: Assume, tags: bool) -> Slots {
        let mut one = |set: &Arc<CompiledPolicies>| -> Arc<CompiledPolicies> {
            let key = (Arc::as_ptr(set) as usize, assume, tags);
            self.rewritten
                .entry(key)
                .or_insert_with(|| {
                    let copy = set.rewritten(|s| resolve(s, assume, tags));
                    (set.clone(), Arc::new(copy))
                })
                .1
                .clone()
        };
        Slots {
            identity: slots.identity.iter().map(&mut one).collect(),
            boundary: slots.boundary.as_ref().map(&mut one),
            session: slots.session.as_ref().map(&mut one),
            resource: slots.resource.as_ref().map(&mut one),
            scp_levels: slots.scp_levels.iter().map(&mut one).collect(),
        }
    }
}

/// The conditions of an access the favourable evaluation allowed: the
/// request-time clauses of the Allow statements it relied on (unless an
/// unconditional Allow of the same policy type also matched), and of every
/// Deny that would apply if its request-time clauses held.
fn conditions_of(
    target: &Target,
    context: &iamgate_policy::RequestContext,
    slots: &Slots,
    favourable: &Decision,
) -> Vec<Condition> {
    let tags = target.resource_tags;
    let mut conditional_allows = HashMap::new();
    let mut out = Vec::new();
    for (policy_type, set) in slots.each(target.kind) {
        let principal_required = matches!(
            policy_type,
            PolicyType::ResourceBased | PolicyType::RoleTrust
        );
        for (policy, index, statement) in set.candidates(&target.action) {
            let clauses = request_time_clauses(statement, tags);
            if clauses.is_empty() {
                continue;
            }
            let condition = Condition {
                action: target.action.clone(),
                resource: target.resource.clone(),
                policy_type: policy_type_name(policy_type).to_owned(),
                policy: policy.to_owned(),
                sid: statement.sid.clone(),
                statement_index: Some(index),
                effect: if statement.effect == Effect::Deny {
                    "Deny"
                } else {
                    "Allow"
                }
                .to_owned(),
                when: clauses.into_iter().map(render_clause).collect(),
            };
            match statement.effect {
                Effect::Allow => {
                    conditional_allows.insert((policy_type, policy.to_owned(), index), condition);
                }
                Effect::Deny => {
                    let Some(rest) = resolve(statement, Assume::Unfavourable, tags) else {
                        continue;
                    };
                    if statement_applies(&rest, context, principal_required, false).is_some() {
                        out.push(condition);
                    }
                }
            }
        }
    }
    let unconditional: HashSet<PolicyType> = favourable
        .matched
        .iter()
        .filter(|m| {
            !conditional_allows.contains_key(&(
                m.policy_type,
                m.policy_id.to_string(),
                m.statement_index,
            ))
        })
        .map(|m| m.policy_type)
        .collect();
    let mut allows: Vec<Condition> = favourable
        .matched
        .iter()
        .filter(|m| !unconditional.contains(&m.policy_type))
        .filter_map(|m| {
            conditional_allows
                .get(&(m.policy_type, m.policy_id.to_string(), m.statement_index))
                .cloned()
        })
        .collect();
    allows.dedup();
    allows.extend(out);
    allows
}
