//! The indexed form of a group of policies.
//!
//! A principal may carry hundreds of statements, almost all about other
//! services. Statements are bucketed at load by the service prefix of their
//! actions, and inside a service by exact action name, so a request only
//! looks at: statements naming its exact action, statements with a wildcard
//! action name in its service, and the few that can match any service
//! (`*`, `*:…` or `NotAction`). Each statement sits in exactly one of those
//! lists for a given action, so none is evaluated twice.

use std::collections::HashMap;
use std::sync::Arc;

use crate::context::RequestContext;
use crate::document::{Effect, ResourcePattern, Statement};
use crate::eval::{MatchedStatement, NamedPolicy, PolicyType, SlotResult, statement_applies};
use crate::wildcard::has_wildcard;

/// Longest service or action name lower-cased on the stack.
const STACK_NAME: usize = 128;

#[derive(Debug, Clone)]
struct CompiledStatement {
    policy_id: Arc<str>,
    index: usize,
    sid: Option<Arc<str>>,
    /// `\0`-separated literal prefixes of the Resource ARNs: a request
    /// resource starting with none of them cannot match. `None` when the
    /// statement has no such bound (`*`, `NotResource`, non-ARN patterns).
    /// One short string next to the statement avoids chasing the pattern
    /// tree for the many candidates that differ early.
    resource_prefixes: Option<Box<str>>,
    statement: Statement,
}

fn resource_prefixes(statement: &Statement) -> Option<Box<str>> {
    let block = statement.resource.as_ref()?;
    if block.negated {
        return None;
    }
    let mut prefixes = Vec::new();
    for pattern in &block.patterns {
        match pattern {
            ResourcePattern::Arn(arn) => prefixes.push(arn.literal_prefix()),
            _ => return None,
        }
    }
    Some(prefixes.join("\0").into_boxed_str())
}

impl CompiledStatement {
    /// False when the request's resource cannot match the Resource element.
    fn may_match_resource(&self, resource: Option<&str>) -> bool {
        match (&self.resource_prefixes, resource) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(prefixes), Some(resource)) => {
                prefixes.split('\0').any(|p| resource.starts_with(p))
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ServiceBucket {
    /// Lower-cased exact action name -> statements.
    exact: HashMap<Box<str>, Vec<u32>>,
    /// Statements with a wildcard in the action name for this service.
    wild: Vec<u32>,
}

/// Statements of one policy group, indexed by action.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicies {
    statements: Vec<CompiledStatement>,
    /// Statements that may match any service.
    any_service: Vec<u32>,
    services: HashMap<Box<str>, ServiceBucket>,
}

enum Placement {
    AnyService,
    Services(Vec<(String, Option<String>)>),
}

fn placement(statement: &Statement) -> Placement {
    if statement.action.negated {
        return Placement::AnyService;
    }
    let mut places = Vec::new();
    for pattern in &statement.action.patterns {
        let Some(service) = &pattern.service else {
            continue; // malformed: matches nothing
        };
        if has_wildcard(service) {
            return Placement::AnyService;
        }
        let name = (!has_wildcard(&pattern.name)).then(|| pattern.name.clone());
        places.push((service.clone(), name));
    }
    Placement::Services(places)
}

impl CompiledPolicies {
    /// Compiles and indexes `policies` (order kept for traces).
    pub fn compile(policies: &[NamedPolicy]) -> CompiledPolicies {
        let mut compiled = CompiledPolicies::default();
        for policy in policies {
            for (index, statement) in policy.document.statements.iter().enumerate() {
                compiled.push(policy.id.clone(), index, statement.clone());
            }
        }
        compiled
    }

    /// Indexes one more statement.
    fn push(&mut self, policy_id: Arc<str>, index: usize, statement: Statement) {
        let id = u32::try_from(self.statements.len()).unwrap_or(u32::MAX);
        match placement(&statement) {
            Placement::AnyService => self.any_service.push(id),
            Placement::Services(places) => {
                // A statement with any wildcard name for a service
                // goes only to that service's wild list.
                for (service, name) in &places {
                    let bucket = self.services.entry(service.as_str().into()).or_default();
                    let wild_here = places.iter().any(|(s, n)| s == service && n.is_none());
                    if wild_here {
                        if bucket.wild.last() != Some(&id) {
                            bucket.wild.push(id);
                        }
                    } else if let Some(name) = name {
                        let list = bucket.exact.entry(name.as_str().into()).or_default();
                        if list.last() != Some(&id) {
                            list.push(id);
                        }
                    }
                }
            }
        }
        self.statements.push(CompiledStatement {
            policy_id,
            index,
            sid: statement.sid.as_deref().map(Arc::from),
            resource_prefixes: resource_prefixes(&statement),
            statement,
        });
    }

    /// Where each statement came from: the policy's id and the statement's
    /// index in it, in evaluation order.
    pub fn sources(&self) -> impl Iterator<Item = (&str, usize)> {
        self.statements
            .iter()
            .map(|statement| (&*statement.policy_id, statement.index))
    }

    /// The distinct policy ids, in evaluation order.
    pub fn policy_ids(&self) -> impl Iterator<Item = &str> {
        let mut last: Option<&str> = None;
        self.statements.iter().filter_map(move |statement| {
            let id = &*statement.policy_id;
            (last != Some(id)).then(|| {
                last = Some(id);
                id
            })
        })
    }

    /// Calls `f` with the key of every condition of the statements that
    /// could match `action`: the keys an evaluation of `action` may read.
    pub fn condition_keys(&self, action: &str, mut f: impl FnMut(&str)) {
        self.for_candidates(action, |statement, _| {
            for clause in &statement.statement.conditions {
                f(&clause.key);
            }
        });
    }

    /// Number of statements loaded.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statements that could match `action`, in evaluation order, each
    /// with the id of its policy and its index there — what an analysis
    /// needs to read the statements a request would consider without
    /// scanning the rest.
    pub fn candidates(&self, action: &str) -> Vec<(&str, usize, &Statement)> {
        let mut out = Vec::new();
        self.for_candidates(action, |s, _| {
            out.push((&*s.policy_id, s.index, &s.statement));
        });
        out
    }

    /// A copy with each statement replaced by what `rewrite` returns
    /// (`None` leaves it out), keeping each statement's policy id and index
    /// so that traces of the copy name the original statements. Analyses
    /// use it to ask "what if this condition held / did not hold" of the
    /// real evaluator instead of re-implementing it.
    pub fn rewritten(&self, mut rewrite: impl FnMut(&Statement) -> Option<Statement>) -> Self {
        let mut named: Vec<(Arc<str>, usize, Statement)> = Vec::new();
        for s in &self.statements {
            if let Some(statement) = rewrite(&s.statement) {
                named.push((s.policy_id.clone(), s.index, statement));
            }
        }
        let mut compiled = CompiledPolicies::default();
        for (policy_id, index, statement) in named {
            compiled.push(policy_id, index, statement);
        }
        compiled
    }

    /// Calls `f` for each statement that could match `action`.
    /// The flag tells `f` the statement came from the exact-name bucket, so
    /// it is known to list `action` and the action test can be skipped.
    fn for_candidates<'a>(&'a self, action: &str, mut f: impl FnMut(&'a CompiledStatement, bool)) {
        let mut visit = |ids: &[u32], exact: bool| {
            for id in ids {
                if let Some(s) = usize::try_from(*id)
                    .ok()
                    .and_then(|i| self.statements.get(i))
                {
                    f(s, exact);
                }
            }
        };
        visit(&self.any_service, false);
        let Some((service, name)) = action.split_once(':') else {
            return;
        };
        with_lowercase(service, |service| {
            let Some(bucket) = self.services.get(service) else {
                return;
            };
            visit(&bucket.wild, false);
            with_lowercase(name, |name| {
                if let Some(ids) = bucket.exact.get(name) {
                    visit(ids, true);
                }
            });
        });
    }

    /// Evaluates the candidate statements, appending matches to `matched`.
    pub(crate) fn scan(
        &self,
        ctx: &RequestContext,
        principal_required: bool,
        policy_type: PolicyType,
        matched: &mut Vec<MatchedStatement>,
    ) -> SlotResult {
        let mut result = SlotResult::default();
        self.for_candidates(&ctx.action, |s, action_matched| {
            if !s.may_match_resource(ctx.resource.as_deref()) {
                return;
            }
            let applies = statement_applies(&s.statement, ctx, principal_required, action_matched);
            let Some(classes) = applies else {
                return;
            };
            match s.statement.effect {
                Effect::Deny => result.denied = true,
                Effect::Allow => {
                    result.allowed = true;
                    result.classes = result.classes.union(classes);
                }
            }
            matched.push(MatchedStatement {
                policy_type,
                policy_id: s.policy_id.clone(),
                statement_index: s.index,
                sid: s.sid.clone(),
                effect: s.statement.effect,
                principal_classes: classes.iter().collect(),
                not_principal: s.statement.principal.as_ref().is_some_and(|p| p.negated),
                pos: s.statement.pos,
            });
        });
        result
    }
}

/// Runs `f` on the ASCII-lower-cased `text`, without allocating when short.
fn with_lowercase(text: &str, f: impl FnOnce(&str)) {
    if text.len() <= STACK_NAME {
        let mut buf = [0u8; STACK_NAME];
        if let Some(slot) = buf.get_mut(..text.len()) {
            slot.copy_from_slice(text.as_bytes());
            slot.make_ascii_lowercase();
            if let Ok(lower) = std::str::from_utf8(slot) {
                f(lower);
            }
        }
    } else {
        f(&text.to_ascii_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{PolicyDocument, PolicyKind};

    fn compile(json: &str) -> CompiledPolicies {
        let doc = PolicyDocument::parse(json, PolicyKind::InlineIdentity).unwrap();
        CompiledPolicies::compile(&[NamedPolicy::new("p", doc)])
    }

    fn candidates(c: &CompiledPolicies, action: &str) -> Vec<usize> {
        let mut out = Vec::new();
        c.for_candidates(action, |s, _| out.push(s.index));
        out.sort_unstable();
        out
    }

    #[test]
    fn a_request_only_touches_statements_that_could_match_its_action() {
        let c = compile(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
              {"Effect":"Allow","Action":["iam:Get*","iam:ListUsers"],"Resource":"*"},
              {"Effect":"Allow","Action":"*","Resource":"*"},
              {"Effect":"Allow","NotAction":"s3:*","Resource":"*"},
              {"Effect":"Allow","Action":"IAM:ListUsers","Resource":"*"},
              {"Effect":"Allow","Action":"*:List*","Resource":"*"}
            ]}"#,
        );
        assert_eq!(candidates(&c, "iam:listusers"), vec![1, 2, 3, 4, 5]);
        assert_eq!(candidates(&c, "S3:GetObject"), vec![0, 2, 3, 5]);
        assert_eq!(candidates(&c, "ec2:RunInstances"), vec![2, 3, 5]);
    }

    #[test]
    fn a_statement_listing_one_action_twice_is_visited_once() {
        let c = compile(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":["s3:GetObject","S3:getobject"],"Resource":"*"}
            ]}"#,
        );
        assert_eq!(candidates(&c, "s3:GetObject"), vec![0]);
    }
}
