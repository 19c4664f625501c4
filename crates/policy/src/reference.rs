//! A deliberately simple interpreter of AWS's evaluation logic (IAM User
//! Guide, "Policy evaluation logic"), used as the oracle in
//! property tests against the indexed evaluator.
//!
//! It walks every statement of every policy in order, with no index and no
//! shared decision code: the steps below take AWS's documented order one
//! by one. It shares only the per-element matchers (wildcards, ARNs,
//! conditions), which have their own truth-table tests.

use crate::context::{PrincipalKind, RequestContext};
use crate::document::{Effect, Statement};
use crate::eval::{NamedPolicy, Outcome, PolicySet, PolicyType, ResourcePolicyKind};
use crate::principal::MatchClass;

#[derive(Default)]
struct Tally {
    deny: bool,
    allow: bool,
    classes: Vec<MatchClass>,
}

fn statement_matches(
    s: &Statement,
    ctx: &RequestContext,
    resource_policy: bool,
) -> Option<Vec<MatchClass>> {
    let deny = s.effect == Effect::Deny;
    if s.defective && !deny {
        return None;
    }
    let action_listed = s.action.patterns.iter().any(|p| p.matches(&ctx.action));
    if action_listed == s.action.negated {
        return None;
    }
    if let Some(r) = &s.resource {
        let listed = r
            .patterns
            .iter()
            .any(|p| p.matches(ctx.resource.as_deref(), ctx));
        if listed == r.negated {
            return None;
        }
    }
    let mut classes = Vec::new();
    match &s.principal {
        None if resource_policy && !deny => return None,
        None => {}
        Some(block) => {
            if !block.applies_to(&ctx.principal, &ctx.action) {
                return None;
            }
            if !block.negated {
                classes.extend(
                    block
                        .entries
                        .iter()
                        .filter_map(|e| e.match_class(&ctx.principal)),
                );
            }
        }
    }
    for clause in &s.conditions {
        let holds = match clause.evaluate(ctx) {
            crate::condition::Tri::True => true,
            crate::condition::Tri::False => false,
            crate::condition::Tri::Unevaluable => deny,
        };
        if !holds {
            return None;
        }
    }
    Some(classes)
}

fn tally(policies: &[NamedPolicy], ctx: &RequestContext, resource_policy: bool) -> Tally {
    let mut t = Tally::default();
    for p in policies {
        for s in &p.document.statements {
            if let Some(classes) = statement_matches(s, ctx, resource_policy) {
                match s.effect {
                    Effect::Deny => t.deny = true,
                    Effect::Allow => {
                        t.allow = true;
                        t.classes.extend(classes);
                    }
                }
            }
        }
    }
    t
}

/// What the interpreter decides: the outcome and the policy type AWS's
/// message names. The trace, the rule and the missing sides are the
/// indexed evaluator's alone; the property tests check the missing sides
/// by adding Allows and asking this interpreter again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub deciding_policy_type: PolicyType,
}

fn decision(outcome: Outcome, deciding_policy_type: PolicyType) -> Verdict {
    Verdict {
        outcome,
        deciding_policy_type,
    }
}

/// Evaluates `set` for `ctx`.
pub fn evaluate(set: &PolicySet, ctx: &RequestContext) -> Verdict {
    let p = &ctx.principal;
    let no_account = matches!(
        p.kind,
        PrincipalKind::Anonymous | PrincipalKind::Service | PrincipalKind::WebIdentity
    );
    let identity = tally(&set.identity, ctx, false);
    let resource = (!set.resource.is_empty()).then(|| tally(&set.resource, ctx, true));
    let boundary = set
        .boundary
        .as_ref()
        .map(|b| tally(std::slice::from_ref(b), ctx, false));
    let session = (!set.session.is_empty()).then(|| tally(&set.session, ctx, false));
    let scps: Vec<Tally> = if no_account {
        Vec::new()
    } else {
        set.scp_levels
            .iter()
            .map(|l| tally(l, ctx, false))
            .collect()
    };
    let rtype = match set.resource_kind {
        ResourcePolicyKind::ResourceBased => PolicyType::ResourceBased,
        ResourcePolicyKind::RoleTrust => PolicyType::RoleTrust,
    };

    // 1. Explicit deny, reported in DENY_REPORT_ORDER.
    if scps.iter().any(|t| t.deny) {
        return decision(Outcome::ExplicitDeny, PolicyType::ServiceControl);
    }
    if resource.as_ref().is_some_and(|t| t.deny) {
        return decision(Outcome::ExplicitDeny, rtype);
    }
    if identity.deny {
        return decision(Outcome::ExplicitDeny, PolicyType::IdentityBased);
    }
    if boundary.as_ref().is_some_and(|t| t.deny) {
        return decision(Outcome::ExplicitDeny, PolicyType::PermissionsBoundary);
    }
    if session.as_ref().is_some_and(|t| t.deny) {
        return decision(Outcome::ExplicitDeny, PolicyType::Session);
    }
    // 2. SCP configured and not Allow at some level.
    if scps.iter().any(|t| !t.allow) {
        return decision(Outcome::ImplicitDeny, PolicyType::ServiceControl);
    }
    // 3.
    let rp: Vec<MatchClass> = match &resource {
        Some(t) if t.allow => t.classes.clone(),
        _ => Vec::new(),
    };
    let rp_any = resource.as_ref().is_some_and(|t| t.allow);
    let rp_has = |c: MatchClass| rp.contains(&c);
    let granted_by_resource = || decision(Outcome::Allowed, rtype);
    let not_granted = || decision(Outcome::ImplicitDeny, rtype);
    match p.kind {
        PrincipalKind::Anonymous => {
            return if rp_has(MatchClass::Star) {
                granted_by_resource()
            } else {
                not_granted()
            };
        }
        PrincipalKind::Service => {
            return if rp_has(MatchClass::Star) || rp_has(MatchClass::Service) {
                granted_by_resource()
            } else {
                not_granted()
            };
        }
        PrincipalKind::WebIdentity => {
            return if rp_has(MatchClass::Star) || rp_has(MatchClass::Federated) {
                granted_by_resource()
            } else {
                not_granted()
            };
        }
        _ => {}
    }
    let trust = set.resource_kind == ResourcePolicyKind::RoleTrust;
    if trust && !rp_any {
        return not_granted();
    }
    let same = p.account == ctx.resource_owner();
    let id_ok = p.kind == PrincipalKind::Root || identity.allow;
    let bnd_ok = boundary.as_ref().is_none_or(|t| t.allow);
    let ses_ok = match &session {
        Some(t) => t.allow,
        None => p.kind != PrincipalKind::FederatedUser,
    };
    let idpath = id_ok && bnd_ok && ses_ok;
    // 4.
    if same {
        if rp_has(MatchClass::Direct) || rp_has(MatchClass::Star) {
            return granted_by_resource();
        }
        if rp_has(MatchClass::RoleSession) && bnd_ok && ses_ok {
            return granted_by_resource();
        }
        if rp_has(MatchClass::Account) && idpath {
            return granted_by_resource();
        }
        if idpath && !trust {
            return decision(Outcome::Allowed, PolicyType::IdentityBased);
        }
        let reason = if rp_has(MatchClass::RoleSession) {
            if bnd_ok {
                PolicyType::Session
            } else {
                PolicyType::PermissionsBoundary
            }
        } else if !id_ok {
            PolicyType::IdentityBased
        } else if !bnd_ok {
            PolicyType::PermissionsBoundary
        } else {
            PolicyType::Session
        };
        return decision(Outcome::ImplicitDeny, reason);
    }
    if idpath && rp_any {
        return decision(Outcome::Allowed, PolicyType::IdentityBased);
    }
    let reason = if !id_ok {
        PolicyType::IdentityBased
    } else if !bnd_ok {
        PolicyType::PermissionsBoundary
    } else if !ses_ok {
        PolicyType::Session
    } else {
        rtype
    };
    decision(Outcome::ImplicitDeny, reason)
}
