//! Who can take an action on a resource: every root, user and role of
//! every account, directly or through a chain of assumed roles.
//!
//! Directly: a principal is evaluated only if it could be allowed at all —
//! its identity policies have a statement for the action (the compiled
//! index answers that), it is a root, or the resource policy could grant
//! it alone (same account). Through roles: breadth first, backwards from
//! the roles that can take the action, asking of each role only the
//! principals its trust policy names (by ARN or unique id; by account,
//! only those of the role's own account or with some `sts:AssumeRole`
//! statement of their own, which a caller from another account needs; a
//! trust policy open to everyone is asked of the latter and of the role's
//! own account). So the cost follows
//! the principals that matter, not the size of the world.

use std::collections::{BTreeMap, HashMap, HashSet};

use iamgate_policy::document::Effect;
use iamgate_policy::principal::PrincipalEntry;
use serde::{Deserialize, Serialize};

use crate::Analysis;
use crate::conditions::Condition;
use crate::directory::Kind;
use crate::step::Reach;
use crate::target::{ASSUME_ROLE, Target};

/// One hop of an access: `from` takes `action` on `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    pub from: String,
    pub action: String,
    pub to: String,
    /// The statements that granted it.
    pub grants: Vec<String>,
    pub conditions: Vec<Condition>,
}

/// A principal that can take the action, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Root, user or role ARN; `*` for anyone (a route without
    /// authorization).
    pub principal: String,
    /// The roles assumed, in order; empty when direct.
    pub via: Vec<String>,
    /// Every condition of every hop; empty when unconditional.
    pub conditions: Vec<Condition>,
    /// Each hop with the statements that grant it: the access graph's
    /// edges (`--format dot|mermaid` draws them from this).
    pub hops: Vec<Hop>,
}

/// How a role reaches the target: the hops from the role's session on.
#[derive(Clone)]
struct Chain {
    via: Vec<String>,
    hops: Vec<Hop>,
}

impl Chain {
    fn conditions(&self) -> usize {
        self.hops.iter().map(|h| h.conditions.len()).sum()
    }
}

fn hop(from: &str, target: &Target, reach: Reach) -> Hop {
    Hop {
        from: from.to_owned(),
        action: target.action.clone(),
        to: target.resource.clone(),
        grants: reach.grants,
        conditions: reach.conditions,
    }
}

fn access(principal: &str, chain: Chain) -> Access {
    Access {
        principal: principal.to_owned(),
        via: chain.via,
        conditions: chain
            .hops
            .iter()
            .flat_map(|h| h.conditions.clone())
            .collect(),
        hops: chain.hops,
    }
}

impl Analysis<'_> {
    /// Every principal that can take `target`'s action: per principal its
    /// direct access, and — when that is missing or conditional — a
    /// shortest chain of roles to it.
    pub fn who_can(&mut self, target: &Target) -> Vec<Access> {
        if target.anonymous {
            return self.anyone(target);
        }
        let mut direct: BTreeMap<usize, Chain> = BTreeMap::new();
        for index in self.direct_candidates(target) {
            let Some(principal) = self.directory.get(index) else {
                continue;
            };
            if let Some(reach) = self
                .evaluator
                .step(self.world, Some(&principal.caller), target)
            {
                let chain = Chain {
                    via: Vec::new(),
                    hops: vec![hop(&principal.arn, target, reach)],
                };
                direct.insert(index, chain);
            }
        }
        let chained = self.chains_to(&direct);
        let mut out = Vec::new();
        for (index, principal) in self.directory.list.iter().enumerate() {
            let own = direct.get(&index);
            if let Some(chain) = own {
                out.push(access(&principal.arn, chain.clone()));
            }
            let unconditional = own.is_some_and(|c| c.conditions() == 0);
            if let Some(chain) = chained.get(&index).filter(|_| !unconditional) {
                out.push(access(&principal.arn, chain.clone()));
            }
        }
        out
    }

    /// A route without authorization: anyone, under the resource policy.
    fn anyone(&mut self, target: &Target) -> Vec<Access> {
        self.evaluator
            .step(self.world, None, target)
            .map(|reach| {
                access(
                    "*",
                    Chain {
                        via: Vec::new(),
                        hops: vec![hop("*", target, reach)],
                    },
                )
            })
            .into_iter()
            .collect()
    }

    /// Principals worth evaluating for a direct step.
    fn direct_candidates(&self, target: &Target) -> Vec<usize> {
        let same_account_policy = target.policy.is_some();
        (0..self.directory.list.len())
            .filter(|&i| {
                self.directory.get(i).is_some_and(|p| {
                    p.kind == Kind::Root
                        || (same_account_policy && p.account == target.account)
                        || self.has_identity_statement(&p.caller, &target.action)
                })
            })
            .collect()
    }

    fn has_identity_statement(&self, caller: &iamgate_iam::Caller, action: &str) -> bool {
        self.world
            .caller_policies(caller)
            .identity
            .iter()
            .any(|set| !set.candidates(action).is_empty())
    }

    /// For each principal that can reach a role of `direct` by assuming
    /// roles: a shortest such chain (fewest conditions among the shortest).
    fn chains_to(&mut self, direct: &BTreeMap<usize, Chain>) -> HashMap<usize, Chain> {
        let mut settled: HashMap<usize, Chain> = direct
            .iter()
            .filter(|(i, _)| {
                self.directory
                    .get(**i)
                    .is_some_and(|p| p.kind == Kind::Role)
            })
            .map(|(i, c)| (*i, c.clone()))
            .collect();
        let mut frontier: Vec<usize> = settled.keys().copied().collect();
        frontier.sort_unstable();
        let mut reached: HashMap<usize, Chain> = HashMap::new();
        let mut capable: Option<HashSet<usize>> = None;
        while !frontier.is_empty() {
            let mut level: BTreeMap<usize, Chain> = BTreeMap::new();
            for role_index in frontier {
                let Some(role_arn) = self.directory.get(role_index).map(|p| p.arn.clone()) else {
                    continue;
                };
                let Some(role) = self.world.role_by_arn(&role_arn).cloned() else {
                    continue;
                };
                let Some(suffix) = settled.get(&role_index).cloned() else {
                    continue;
                };
                let target = Target::assume(&role);
                for q in self.trusted_candidates(&target, &mut capable) {
                    if q == role_index || reached.contains_key(&q) {
                        continue;
                    }
                    let Some(principal) = self.directory.get(q) else {
                        continue;
                    };
                    if principal.kind == Kind::Root {
                        continue; // roots may not assume roles
                    }
                    let Some(reach) =
                        self.evaluator
                            .step(self.world, Some(&principal.caller), &target)
                    else {
                        continue;
                    };
                    let mut via = vec![role_arn.clone()];
                    via.extend(suffix.via.iter().cloned());
                    let mut hops = vec![hop(&principal.arn, &target, reach)];
                    hops.extend(suffix.hops.iter().cloned());
                    let chain = Chain { via, hops };
                    let better = level
                        .get(&q)
                        .is_none_or(|old| chain.conditions() < old.conditions());
                    if better {
                        level.insert(q, chain);
                    }
                }
            }
            let mut next = Vec::new();
            for (q, chain) in level {
                let is_role = self.directory.get(q).is_some_and(|p| p.kind == Kind::Role);
                if is_role && !settled.contains_key(&q) {
                    settled.insert(q, chain.clone());
                    next.push(q);
                }
                reached.insert(q, chain);
            }
            frontier = next;
        }
        reached
    }

    /// The principals `target`'s trust policy could let assume the role.
    fn trusted_candidates(
        &self,
        target: &Target,
        capable: &mut Option<HashSet<usize>>,
    ) -> Vec<usize> {
        // Across accounts the caller's own permission is needed too: only
        // principals with some `sts:AssumeRole` statement can qualify.
        let capable: &HashSet<usize> = capable.get_or_insert_with(|| {
            (0..self.directory.list.len())
                .filter(|&i| {
                    self.directory
                        .get(i)
                        .is_some_and(|p| self.has_identity_statement(&p.caller, ASSUME_ROLE))
                })
                .collect()
        });
        let mut out: HashSet<usize> = HashSet::new();
        let mut open = false;
        if let Some(trust) = &target.policy {
            for (_, _, statement) in trust.candidates(ASSUME_ROLE) {
                if statement.effect != Effect::Allow {
                    continue;
                }
                let Some(block) = &statement.principal else {
                    continue;
                };
                if block.negated {
                    open = true;
                    continue;
                }
                for entry in &block.entries {
                    match entry {
                        PrincipalEntry::Star => open = true,
                        PrincipalEntry::Account(account) => {
                            let same = *account == target.account;
                            if let Some(list) = self.directory.by_account.get(account) {
                                out.extend(list.iter().filter(|i| same || capable.contains(i)));
                            }
                        }
                        PrincipalEntry::Arn(arn) | PrincipalEntry::Role(arn) => {
                            out.extend(self.directory.find(arn));
                        }
                        PrincipalEntry::UniqueId(id) => {
                            out.extend(self.directory.by_id.get(id).copied());
                        }
                        _ => {}
                    }
                }
            }
        }
        if open {
            out.extend(capable.iter().copied());
            if let Some(list) = self.directory.by_account.get(&target.account) {
                out.extend(list.iter().copied());
            }
        }
        let mut out: Vec<usize> = out.into_iter().collect();
        out.sort_unstable();
        out
    }
}
