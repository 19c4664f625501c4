//! What a principal can reach: every route of every deployed API stage it
//! can invoke, as itself or through the roles it can assume.
//!
//! Forward from the principal, breadth first over the roles whose trust
//! policy could name it (an index of trust policies by the principals,
//! accounts and unique ids they name, built once per analysis), then each
//! route asked of the principal and of each reachable role's session.

use std::collections::{BTreeMap, HashMap, HashSet};

use iamgate_apimodel::model::Resource;
use iamgate_policy::document::Effect;
use iamgate_policy::principal::PrincipalEntry;
use serde::{Deserialize, Serialize};

use crate::Analysis;
use crate::conditions::Condition;
use crate::directory::Kind;
use crate::target::{ASSUME_ROLE, AnalysisError, Target};
use crate::who_can::{Access, Hop};

/// One route a principal can invoke, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteAccess {
    pub api: String,
    pub stage: String,
    /// `GET /pets/{id}` (REST method) or the HTTP route key.
    pub route: String,
    pub resource: String,
    pub via: Vec<String>,
    pub conditions: Vec<Condition>,
    pub hops: Vec<Hop>,
}

/// A map's entries in key order, for a stable answer.
fn sorted<V>(map: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut entries: Vec<(&String, &V)> = map.iter().collect();
    entries.sort_by_key(|(key, _)| *key);
    entries
}

/// Every (api, stage, route) of the registry, as targets.
fn routes(analysis: &Analysis<'_>) -> Vec<Target> {
    let mut out = Vec::new();
    for (id, api) in sorted(&analysis.apis.rest) {
        for (stage, found) in sorted(&api.stages) {
            let mut methods = Vec::new();
            collect_methods(&found.root, &mut methods);
            for route in methods {
                out.extend(Target::route(analysis.apis, id, stage, &route).ok());
            }
        }
    }
    for (id, api) in sorted(&analysis.apis.http) {
        for (stage, found) in sorted(&api.stages) {
            for route in &found.routes {
                let key = if route.key == "$default" {
                    "ANY /".to_owned()
                } else {
                    route.key.clone()
                };
                out.extend(Target::route(analysis.apis, id, stage, &key).ok());
            }
        }
    }
    out
}

fn collect_methods(resource: &Resource, out: &mut Vec<String>) {
    for method in &resource.methods {
        let verb = if method.http_method == "ANY" {
            "*"
        } else {
            &method.http_method
        };
        out.push(format!("{verb} {}", method.resource_path));
    }
    for child in &resource.children {
        collect_methods(child, out);
    }
}

impl Analysis<'_> {
    /// Every route `principal` (a root, user or role ARN, or a role
    /// session's) can invoke, directly or through roles.
    pub fn what_can(&mut self, principal: &str) -> Result<Vec<RouteAccess>, AnalysisError> {
        let start = self
            .directory
            .find(principal)
            .ok_or_else(|| AnalysisError::UnknownPrincipal(principal.to_owned()))?;
        // Callers: the principal itself, then each role it reaches.
        let mut callers: Vec<(usize, Vec<String>, Vec<Hop>)> =
            vec![(start, Vec::new(), Vec::new())];
        let trusted = self.trust_index();
        let mut seen: HashSet<usize> = HashSet::from([start]);
        let mut cursor = 0;
        while let Some((from, via, hops)) = callers.get(cursor).cloned() {
            cursor += 1;
            let Some(caller) = self.directory.get(from) else {
                continue;
            };
            if caller.kind == Kind::Root {
                continue; // roots may not assume roles
            }
            let caller_arn = caller.arn.clone();
            let mut roles: Vec<usize> = trusted.open.clone();
            for key in [&caller.arn, &caller.account]
                .into_iter()
                .chain(caller.unique_id.as_ref())
            {
                roles.extend(trusted.by_name.get(key).into_iter().flatten().copied());
            }
            roles.sort_unstable();
            roles.dedup();
            for role_index in roles {
                if seen.contains(&role_index) {
                    continue;
                }
                let Some(role_arn) = self.directory.get(role_index).map(|p| p.arn.clone()) else {
                    continue;
                };
                let Some(role) = self.world.role_by_arn(&role_arn).cloned() else {
                    continue;
                };
                let target = Target::assume(&role);
                let Some(caller) = self.directory.get(from).map(|p| p.caller.clone()) else {
                    continue;
                };
                if let Some(reach) = self.evaluator.step(self.world, Some(&caller), &target) {
                    seen.insert(role_index);
                    let mut via = via.clone();
                    via.push(role_arn);
                    let mut hops = hops.clone();
                    hops.push(Hop {
                        from: caller_arn.clone(),
                        action: ASSUME_ROLE.to_owned(),
                        to: target.resource.clone(),
                        grants: reach.grants,
                        conditions: reach.conditions,
                    });
                    callers.push((role_index, via, hops));
                }
            }
        }
        let mut out = Vec::new();
        for target in routes(self) {
            for (index, via, hops) in &callers {
                let Some(caller) = self
                    .directory
                    .get(*index)
                    .map(|p| (p.arn.clone(), p.caller.clone()))
                else {
                    continue;
                };
                let reach = if target.anonymous {
                    self.evaluator.step(self.world, None, &target)
                } else {
                    self.evaluator.step(self.world, Some(&caller.1), &target)
                };
                let Some(reach) = reach else { continue };
                let mut hops = hops.clone();
                hops.push(Hop {
                    from: caller.0,
                    action: target.action.clone(),
                    to: target.resource.clone(),
                    grants: reach.grants,
                    conditions: reach.conditions,
                });
                let Some(api) = &target.api else { continue };
                out.push(RouteAccess {
                    api: api.id.clone(),
                    stage: api.stage.clone(),
                    route: api.route.clone(),
                    resource: target.resource.clone(),
                    via: via.clone(),
                    conditions: hops.iter().flat_map(|h| h.conditions.clone()).collect(),
                    hops,
                });
                // The shortest way is enough for one route.
                break;
            }
        }
        Ok(out)
    }

    /// Roles by what their trust policies name.
    fn trust_index(&self) -> TrustIndex {
        let mut index = TrustIndex::default();
        for (i, principal) in self.directory.list.iter().enumerate() {
            if principal.kind != Kind::Role {
                continue;
            }
            let Some(role) = self.world.role_by_arn(&principal.arn) else {
                continue;
            };
            let mut open = false;
            for (_, _, statement) in role.trust.candidates(ASSUME_ROLE) {
                let Some(block) = statement
                    .principal
                    .as_ref()
                    .filter(|_| statement.effect == Effect::Allow)
                else {
                    continue;
                };
                open |= block.negated;
                for entry in &block.entries {
                    let name = match entry {
                        PrincipalEntry::Star => {
                            open = true;
                            continue;
                        }
                        PrincipalEntry::Account(name)
                        | PrincipalEntry::Arn(name)
                        | PrincipalEntry::Role(name)
                        | PrincipalEntry::UniqueId(name) => name,
                        _ => continue,
                    };
                    index.by_name.entry(name.clone()).or_default().push(i);
                }
            }
            if open {
                index.open.push(i);
            }
        }
        index
    }
}

#[derive(Default)]
struct TrustIndex {
    /// Roles whose trust names an account, ARN or unique id.
    by_name: HashMap<String, Vec<usize>>,
    /// Roles whose trust is open to anyone (`*`, `NotPrincipal`).
    open: Vec<usize>,
}

/// `what-can`'s answer in `who-can`'s shape (one access per route), for
/// the graph.
pub fn as_accesses(principal: &str, routes: &[RouteAccess]) -> Vec<Access> {
    let mut by_key: BTreeMap<(String, Vec<String>), Access> = BTreeMap::new();
    for route in routes {
        by_key
            .entry((route.resource.clone(), route.via.clone()))
            .or_insert_with(|| Access {
                principal: principal.to_owned(),
                via: route.via.clone(),
                conditions: route.conditions.clone(),
                hops: route.hops.clone(),
            });
    }
    by_key.into_values().collect()
}
