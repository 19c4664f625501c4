//! The smallest sets of changes that would allow a denied request.
//!
//! Nothing is inferred from the denial's wording: each candidate set of
//! changes — a statement in the caller's identity policy, in the
//! resource's policy (a REST API's, which then needs a deployment; a
//! role's trust policy), or a way through a role (an existing role that
//! can already do it, or a new role in the resource's account with its
//! permission, its trust and the caller's `sts:AssumeRole` — the only way
//! into an HTTP API from another account, which has no resource policy) —
//! is applied to a copy of the world and the request evaluated again.
//! Only sets that then allow it, with no subset that also would, are
//! offered. Every statement names the asked principal; a proposal that
//! would still let anyone else in (adding to a role others can assume
//! widens it to them) is found by asking who-can of the changed world, and
//! is offered after the ones that do not.

use std::collections::{BTreeMap, BTreeSet};

use iamgate_apimodel::config::compile_resource_policy;
use iamgate_iam::records::RoleRecord;
use iamgate_iam::world::RecordChange;
use iamgate_iam::{AnyRecord, World};
use iamgate_policy::{Outcome, ResourcePolicyKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Analysis;
use crate::directory::{Kind, role_session};
use crate::target::{ASSUME_ROLE, AnalysisError, Target};

/// What a change changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChangeKind {
    /// A statement in a user's or role's identity (inline) policy.
    #[serde(rename = "identity")]
    Identity,
    /// A statement in a REST API's resource policy (then a deployment).
    #[serde(rename = "resource")]
    Resource,
    /// A statement in a role's trust policy.
    #[serde(rename = "trust")]
    Trust,
    /// A new role to assume, with this statement as its permission policy.
    #[serde(rename = "assume-role")]
    AssumeRole,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The account whose entity changes (whose credentials apply it).
    pub account: String,
    /// The user, role or API ARN the change applies to.
    pub target: String,
    /// The IAM statement to add.
    pub statement: Value,
}

/// One way to allow the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub changes: Vec<Change>,
    /// The role to call through, when the way is a role.
    pub assume: Option<String>,
    /// Principals other than the asked one the changes would also let in.
    pub widens: Vec<String>,
    /// The AWS CLI commands that apply the changes, in order, each after a
    /// comment naming the account whose credentials run it.
    pub commands: Vec<String>,
}

/// The answer to "what would let `principal` do it".
/// Its JSON is what the server's `/_iamgate/analysis/plan` answers; the
/// CLI prints every form (`--json`: each alternative's `changes`) from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// What was asked: the action and the resource ARN.
    pub action: String,
    pub resource: String,
    /// Already allowed (with these conditions, if any): nothing to change.
    pub allowed: Option<Vec<crate::Condition>>,
    /// The Deny statements that refuse it outright; no Allow can lift
    /// them, so direct proposals are left out.
    pub explicit_deny: Vec<String>,
    /// Ordered: none widening first, then fewest changes.
    pub alternatives: Vec<Alternative>,
}

const PLAN_POLICY: &str = "iamgate-plan";

fn policy_document(statement: &Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

/// `text` (a policy document) with `statement` appended.
fn extend_document(text: Option<&str>, statement: &Value) -> String {
    let mut document = text
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
    if let Some(object) = document.as_object_mut() {
        let statements = match object.remove("Statement") {
            Some(Value::Array(list)) => list,
            Some(single) => vec![single],
            None => Vec::new(),
        };
        let mut statements = statements;
        statements.push(statement.clone());
        object.insert("Statement".to_owned(), Value::Array(statements));
    }
    document.to_string()
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The name in a user or role ARN (after the last `/`).
fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A world with `changes` applied, and the target as they change it.
struct Applied {
    world: World,
    target: Target,
}

fn apply(
    world: &World,
    target: &Target,
    changes: &[Change],
    new_role: Option<&RoleRecord>,
) -> Applied {
    let mut records: BTreeMap<String, AnyRecord> = BTreeMap::new();
    let mut target = target.clone();
    if let Some(role) = new_role {
        records.insert(role.arn(), AnyRecord::Role(role.clone()));
    }
    for (n, change) in changes.iter().enumerate() {
        let document = policy_document(&change.statement).to_string();
        let name = format!("{PLAN_POLICY}-{n}");
        let current = records.get(&change.target).cloned().or_else(|| {
            if let Some(role) = world.role_by_arn(&change.target) {
                return Some(AnyRecord::Role(role.record.clone()));
            }
            world
                .users()
                .find(|u| u.record.arn() == change.target)
                .map(|u| AnyRecord::User(u.record.clone()))
        });
        match (change.kind, current) {
            (ChangeKind::Identity, Some(AnyRecord::User(mut user))) => {
                user.inline_policies.make_mut().insert(name, document);
                records.insert(change.target.clone(), AnyRecord::User(user));
            }
            (ChangeKind::Identity | ChangeKind::AssumeRole, Some(AnyRecord::Role(mut role))) => {
                role.inline_policies.make_mut().insert(name, document);
                records.insert(change.target.clone(), AnyRecord::Role(role));
            }
            (ChangeKind::Trust, Some(AnyRecord::Role(mut role))) => {
                role.trust_policy = extend_document(Some(&role.trust_policy), &change.statement);
                if target.resource == change.target {
                    target.policy_text = Some(role.trust_policy.clone());
                }
                records.insert(change.target.clone(), AnyRecord::Role(role));
            }
            (ChangeKind::Resource, _) => {
                let text = extend_document(target.policy_text.as_deref(), &change.statement);
                if let Ok(policy) = compile_resource_policy(&text) {
                    target = target.with_policy(text, policy);
                }
            }
            _ => {}
        }
    }
    let mut copy = world.clone();
    copy.apply(records.into_values().map(RecordChange::Put), &|_| {
        Err("an analysis copy holds no secrets".into())
    });
    // A changed trust policy is read from the changed role.
    if target.kind == ResourcePolicyKind::RoleTrust
        && let Some(role) = copy.role_by_arn(&target.resource)
    {
        target = Target::assume(role);
    }
    Applied {
        world: copy,
        target,
    }
}

impl Analysis<'_> {
    /// What would let `principal` take `target`'s action.
    pub fn plan(&mut self, principal: &str, target: &Target) -> Result<Plan, AnalysisError> {
        let index = self
            .directory
            .find(principal)
            .ok_or_else(|| AnalysisError::UnknownPrincipal(principal.to_owned()))?;
        let Some(me) = self.directory.get(index) else {
            return Err(AnalysisError::UnknownPrincipal(principal.to_owned()));
        };
        let (arn, account, kind, caller) = (
            me.arn.clone(),
            me.account.clone(),
            me.kind,
            me.caller.clone(),
        );
        if let Some(reach) = self.evaluator.step(self.world, Some(&caller), target) {
            return Ok(Plan {
                action: target.action.clone(),
                resource: target.resource.clone(),
                allowed: Some(reach.conditions),
                explicit_deny: Vec::new(),
                alternatives: Vec::new(),
            });
        }
        let decision = self.world.evaluate_with_resource(
            &caller,
            &target.context(Some(&caller)),
            target.policy.as_deref(),
            target.kind,
        );
        let explicit_deny: Vec<String> = if decision.outcome == Outcome::ExplicitDeny {
            decision
                .matched
                .iter()
                .map(|m| {
                    format!(
                        "{} {} #{}",
                        m.policy_type.noun(),
                        m.policy_id,
                        m.statement_index
                    )
                })
                .collect()
        } else {
            Vec::new()
        };

        let mut found: Vec<Alternative> = Vec::new();
        if explicit_deny.is_empty() {
            found.extend(self.direct_alternatives(&arn, &account, kind, target));
        }
        if kind != Kind::Root {
            found.extend(self.role_alternatives(&arn, &account, kind, target));
        }
        let baseline: BTreeSet<String> = self
            .who_can(target)
            .into_iter()
            .map(|a| a.principal)
            .collect();
        for alternative in &mut found {
            alternative.widens = self.widened(alternative, target, &baseline, &arn);
        }
        found.sort_by_key(|a| (!a.widens.is_empty(), a.changes.len()));
        Ok(Plan {
            action: target.action.clone(),
            resource: target.resource.clone(),
            allowed: None,
            explicit_deny,
            alternatives: found,
        })
    }

    /// Identity and resource statements for the principal itself.
    fn direct_alternatives(
        &mut self,
        arn: &str,
        account: &str,
        kind: Kind,
        target: &Target,
    ) -> Vec<Alternative> {
        let mut options: Vec<Change> = Vec::new();
        if kind != Kind::Root {
            options.push(Change {
                kind: ChangeKind::Identity,
                account: account.to_owned(),
                target: arn.to_owned(),
                statement: json!({"Effect": "Allow", "Action": target.action, "Resource": target.resource}),
            });
        }
        let resource_policy = match (&target.api, target.kind) {
            (Some(api), _) if api.rest => {
                // The API's ARN: the request's up to the API id.
                let api_arn = target.resource.split('/').next().unwrap_or_default();
                Some((ChangeKind::Resource, api_arn.to_owned()))
            }
            (_, ResourcePolicyKind::RoleTrust) => {
                Some((ChangeKind::Trust, target.resource.clone()))
            }
            _ => None,
        };
        if let Some((change_kind, owner)) = resource_policy {
            let mut statement =
                json!({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": target.action});
            if change_kind == ChangeKind::Resource
                && let Some(object) = statement.as_object_mut()
            {
                object.insert("Resource".to_owned(), json!(target.resource));
            }
            options.push(Change {
                kind: change_kind,
                account: target.account.clone(),
                target: owner,
                statement,
            });
        }
        self.minimal_sets(&options, |analysis, chosen| {
            let applied = apply(analysis.world, target, chosen, None);
            let caller = applied_caller(&applied.world, arn)?;
            analysis
                .evaluator
                .step(&applied.world, Some(&caller), &applied.target)
                .map(|_| ())
        })
        .into_iter()
        .map(|changes| self.finish(changes, None, None, target))
        .collect()
    }

    /// Through a role: existing roles that can already take the action,
    /// each with what it takes to assume it, and a new role in the
    /// resource's account (when the target is an API). Offered beside
    /// the direct ways, not only when those fail: a role is how
    /// cross-account access is often meant to work, and the only way
    /// around a Deny in the caller's own policies.
    ///
    /// The work is bounded: at most [`MAX_ROLE_CANDIDATES`] roles are
    /// examined (a few evaluations each), and of the routes that work the
    /// [`MAX_ROLE_ROUTES`] needing the fewest changes are offered (each
    /// offered route costs a who-can of the changed world, to find whom
    /// it would also let in).
    fn role_alternatives(
        &mut self,
        arn: &str,
        account: &str,
        kind: Kind,
        target: &Target,
    ) -> Vec<Alternative> {
        let invokers: Vec<String> = self
            .who_can(target)
            .into_iter()
            .filter(|a| a.via.is_empty() && a.principal != arn)
            .filter(|a| {
                self.directory
                    .find(&a.principal)
                    .and_then(|i| self.directory.get(i))
                    .is_some_and(|p| p.kind == Kind::Role)
            })
            .map(|a| a.principal)
            .take(MAX_ROLE_CANDIDATES)
            .collect();
        let mut routes: Vec<(String, Vec<Change>)> = Vec::new();
        for role_arn in invokers {
            let Some(role) = self.world.role_by_arn(&role_arn).cloned() else {
                continue;
            };
            let options = assume_changes(arn, account, kind, &role.record.account, &role_arn);
            let assume_target = Target::assume(&role);
            let sets = self.minimal_sets(&options, |analysis, chosen| {
                let applied = apply(analysis.world, &assume_target, chosen, None);
                let caller = applied_caller(&applied.world, arn)?;
                analysis
                    .evaluator
                    .step(&applied.world, Some(&caller), &applied.target)
                    .map(|_| ())
            });
            routes.extend(sets.into_iter().map(|changes| (role_arn.clone(), changes)));
        }
        // Fewest changes first; then roles of the caller's own account,
        // whose trust the caller's administrators control.
        let own = format!("arn:aws:iam::{account}:");
        routes.sort_by_cached_key(|(role, changes)| {
            (changes.len(), !role.starts_with(&own), role.clone())
        });
        let mut out: Vec<Alternative> = routes
            .into_iter()
            .take(MAX_ROLE_ROUTES)
            .map(|(role_arn, changes)| self.finish(changes, Some(role_arn), None, target))
            .collect();
        if target.api.is_some() {
            out.extend(self.new_role(arn, account, kind, target));
        }
        out
    }

    /// A new role in the resource's account: its permission, its trust,
    /// and the caller's `sts:AssumeRole` (seeds 000 and 001).
    fn new_role(
        &mut self,
        arn: &str,
        account: &str,
        kind: Kind,
        target: &Target,
    ) -> Option<Alternative> {
        let api = target.api.as_ref()?;
        let name = format!("invoke-{}-from-{}", api.id, name_of(arn));
        let role_arn = format!("arn:aws:iam::{}:role/{name}", target.account);
        let record = planned_role(&target.account, &name);
        let mut changes = vec![Change {
            kind: ChangeKind::AssumeRole,
            account: target.account.clone(),
            target: role_arn.clone(),
            statement: json!({"Effect": "Allow", "Action": target.action, "Resource": target.resource}),
        }];
        changes.extend(assume_changes(
            arn,
            account,
            kind,
            &target.account,
            &role_arn,
        ));
        let applied = apply(self.world, target, &changes, Some(&record));
        let role = applied.world.role_by_arn(&role_arn)?.clone();
        let caller = applied_caller(&applied.world, arn)?;
        let mut evaluator = crate::step::Evaluator::default();
        evaluator.step(&applied.world, Some(&caller), &Target::assume(&role))?;
        evaluator.step(&applied.world, Some(&role_session(&role)), &applied.target)?;
        Some(self.finish(changes, Some(role_arn), Some(&record), target))
    }

    /// The smallest subsets of `options` for which `works` holds.
    fn minimal_sets(
        &mut self,
        options: &[Change],
        mut works: impl FnMut(&mut Self, &[Change]) -> Option<()>,
    ) -> Vec<Vec<Change>> {
        let mut found: Vec<Vec<usize>> = Vec::new();
        let count = options.len().min(MAX_OPTIONS);
        for size in 0..=count {
            for subset in subsets(count, size) {
                if found.iter().any(|f| f.iter().all(|i| subset.contains(i))) {
                    continue;
                }
                let chosen: Vec<Change> = subset
                    .iter()
                    .filter_map(|&i| options.get(i).cloned())
                    .collect();
                if works(self, &chosen).is_some() {
                    found.push(subset);
                }
            }
        }
        found
            .into_iter()
            .map(|s| s.iter().filter_map(|&i| options.get(i).cloned()).collect())
            .collect()
    }

    /// Who else the alternative would let in.
    fn widened(
        &self,
        alternative: &Alternative,
        target: &Target,
        baseline: &BTreeSet<String>,
        me: &str,
    ) -> Vec<String> {
        let new_role = alternative
            .changes
            .iter()
            .find(|c| c.kind == ChangeKind::AssumeRole)
            .map(|c| planned_role(&c.account, name_of(&c.target)));
        let applied = apply(self.world, target, &alternative.changes, new_role.as_ref());
        let mut analysis = Analysis::new(&applied.world, self.apis);
        let mut widens: Vec<String> = analysis
            .who_can(&applied.target)
            .into_iter()
            .map(|a| a.principal)
            .filter(|p| {
                p != me
                    && !baseline.contains(p)
                    && alternative.assume.as_deref().is_none_or(|r| r != p)
            })
            .collect();
        widens.sort();
        widens.dedup();
        widens
    }

    fn finish(
        &self,
        changes: Vec<Change>,
        assume: Option<String>,
        new_role: Option<&RoleRecord>,
        target: &Target,
    ) -> Alternative {
        let commands = commands(self.world, &changes, new_role, target, assume.as_deref());
        Alternative {
            changes,
            assume,
            widens: Vec::new(),
            commands,
        }
    }
}

/// The role a plan creates, before its changes: no trust, no permission.
fn planned_role(account: &str, name: &str) -> RoleRecord {
    RoleRecord {
        account: account.to_owned(),
        name: name.to_owned(),
        path: "/".to_owned(),
        id: "AROAIAMGATEPLANNED0001".to_owned(),
        created_at: 0,
        trust_policy: json!({"Version": "2012-10-17", "Statement": []}).to_string(),
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: Vec::new(),
        inline_policies: Default::default(),
        attached_policies: Vec::new(),
    }
}

/// At most this many existing roles are examined as ways through.
const MAX_ROLE_CANDIDATES: usize = 1_000;
/// At most this many ways through existing roles are offered.
const MAX_ROLE_ROUTES: usize = 8;
/// Proposals combine at most this many changes of one kind of way.
const MAX_OPTIONS: usize = 3;

/// The sorted index sets of `size` out of `0..count`.
fn subsets(count: usize, size: usize) -> Vec<Vec<usize>> {
    if size == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for first in 0..count {
        for rest in subsets(count, size - 1) {
            if rest.first().is_none_or(|&r| r > first) {
                let mut subset = vec![first];
                subset.extend(rest);
                out.push(subset);
            }
        }
    }
    out
}

/// What it may take for `arn` to assume `role_arn`: the role trusting it,
/// and its own permission to call `sts:AssumeRole` on the role.
fn assume_changes(
    arn: &str,
    account: &str,
    kind: Kind,
    role_account: &str,
    role_arn: &str,
) -> Vec<Change> {
    let mut out = vec![Change {
        kind: ChangeKind::Trust,
        account: role_account.to_owned(),
        target: role_arn.to_owned(),
        statement: json!({"Effect": "Allow", "Principal": {"AWS": arn}, "Action": ASSUME_ROLE}),
    }];
    if kind != Kind::Root {
        out.push(Change {
            kind: ChangeKind::Identity,
            account: account.to_owned(),
            target: arn.to_owned(),
            statement: json!({"Effect": "Allow", "Action": ASSUME_ROLE, "Resource": role_arn}),
        });
    }
    out
}

/// The principal `arn` as it calls in `world`.
fn applied_caller(world: &World, arn: &str) -> Option<iamgate_iam::Caller> {
    let directory = crate::directory::Directory::new(world);
    let index = directory.find(arn)?;
    directory.get(index).map(|p| p.caller.clone())
}

fn commands(
    world: &World,
    changes: &[Change],
    new_role: Option<&RoleRecord>,
    target: &Target,
    assume: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut trust_documents: BTreeMap<&str, String> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.kind == ChangeKind::Trust) {
        let current = trust_documents
            .get(change.target.as_str())
            .cloned()
            .or_else(|| {
                world
                    .role_by_arn(&change.target)
                    .map(|r| r.record.trust_policy.clone())
            });
        trust_documents.insert(
            &change.target,
            extend_document(current.as_deref(), &change.statement),
        );
    }
    let mut resource_document: Option<String> = None;
    for (n, change) in changes.iter().enumerate() {
        let head = format!("# as account {}:", change.account);
        let document = policy_document(&change.statement).to_string();
        let policy_name = format!("{PLAN_POLICY}-{n}");
        let name = name_of(&change.target);
        match change.kind {
            ChangeKind::AssumeRole => {
                let trust = trust_documents
                    .get(change.target.as_str())
                    .cloned()
                    .unwrap_or_default();
                out.push(format!(
                    "{head}\naws iam create-role --role-name {name} --assume-role-policy-document {}",
                    shell_quote(&trust)
                ));
                out.push(format!(
                    "{head}\naws iam put-role-policy --role-name {name} --policy-name {policy_name} --policy-document {}",
                    shell_quote(&document)
                ));
            }
            ChangeKind::Identity => {
                let verb = if change.target.contains(":role/") {
                    "role"
                } else {
                    "user"
                };
                out.push(format!(
                    "{head}\naws iam put-{verb}-policy --{verb}-name {name} --policy-name {policy_name} --policy-document {}",
                    shell_quote(&document)
                ));
            }
            ChangeKind::Trust => {
                if new_role.is_some_and(|r| r.arn() == change.target) {
                    continue; // set by create-role
                }
                let trust = trust_documents
                    .get(change.target.as_str())
                    .cloned()
                    .unwrap_or_default();
                out.push(format!(
                    "{head}\naws iam update-assume-role-policy --role-name {name} --policy-document {}",
                    shell_quote(&trust)
                ));
            }
            ChangeKind::Resource => {
                let text = extend_document(
                    resource_document
                        .as_deref()
                        .or(target.policy_text.as_deref()),
                    &change.statement,
                );
                resource_document = Some(text.clone());
                if let Some(api) = &target.api {
                    let value = format!("op=replace,path=/policy,value={text}");
                    out.push(format!(
                        "{head}\naws apigateway update-rest-api --rest-api-id {} --patch-operations {}",
                        api.id,
                        shell_quote(&value)
                    ));
                    out.push(format!(
                        "{head} (a REST API's policy takes effect once deployed)\naws apigateway create-deployment --rest-api-id {} --stage-name {}",
                        api.id, api.stage
                    ));
                }
            }
        }
    }
    if let Some(role) = assume {
        out.push(format!(
            "# then call with the role's credentials:\naws sts assume-role --role-arn {role} --role-session-name {}",
            crate::SESSION_NAME
        ));
    }
    out
}
