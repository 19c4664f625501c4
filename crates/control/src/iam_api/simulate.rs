//! The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy
//! (IAM API Reference, "SimulatePrincipalPolicy", "SimulateCustomPolicy").
//!
//! Every (action, resource) pair is evaluated with the policy engine as a
//! request by the simulated principal: its identity policies (or the
//! `PolicyInputList`), its permissions boundary (or
//! `PermissionsBoundaryPolicyInputList`) and an optional `ResourcePolicy`.
//! The context holds the principal's own keys and the `ContextEntries`
//! only; nothing of the simulating request leaks in. `MatchedStatements`
//! name each statement's policy (`SourcePolicyId`: the inline or managed
//! policy's name, `PolicyInputList.N`, `ResourcePolicy`) and where the
//! statement starts and ends. `MissingContextValues` lists the condition
//! keys of statements whose action and resource match but that the
//! context does not hold. `SourcePolicyType` is AWS's wording (`IAM
//! Policy`, `Resource Policy`), not the model's enum. A result names the
//! boundary's own verdict when one applies
//! (`PermissionsBoundaryDecisionDetail`), and, for named resources, carries
//! `EvalDecisionDetails` (empty within one account) and its
//! `ResourceSpecificResults`.

use std::collections::BTreeSet;
use std::sync::Arc;

use iamgate_iam::world::PolicyEntry;
use iamgate_iam::{GroupRecord, RoleRecord, UserRecord};
use iamgate_policy::json::Pos;
use iamgate_policy::{
    CompiledPolicies, Decision, EvaluationInput, NamedPolicy, Outcome, PolicyDocument, PolicyKind,
    PrincipalIdentity, PrincipalKind, RequestContext, ResourcePolicyKind, evaluate,
};
use iamgate_wire::query::ListStyle;
use iamgate_wire::xml::XmlWriter;
use iamgate_wire::{AwsError, Violations};

use super::entities::check_document;
use super::input::{Input, Page, paginate};
use super::{authorize, render, respond};
use crate::query::Operation;

const CONTEXT_KEY_TYPES: &[&str] = &[
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
];

/// `SourcePolicyType` of identity policies, whatever their kind (inline,
/// managed, `PolicyInputList`): AWS answers with these words, not the
/// model's enum (`user`, `aws-managed`, …), in the simulator's results.
const IAM_POLICY: &str = "IAM Policy";
/// `SourcePolicyType` of the `ResourcePolicy`.
const RESOURCE_POLICY: &str = "Resource Policy";

/// Where a policy of the simulation came from, as `MatchedStatements`
/// reports it.
struct Source {
    /// `SourcePolicyId`.
    id: String,
    /// `SourcePolicyType`: [`IAM_POLICY`] or [`RESOURCE_POLICY`].
    kind: &'static str,
    /// The document's text, for the statements' end positions.
    text: String,
    document: Arc<PolicyDocument>,
}

/// One `ContextEntries` member.
struct ContextEntry<'a> {
    name: &'a str,
    values: Vec<&'a str>,
    list: bool,
}

/// The request members both operations share.
struct Common<'a> {
    actions: Vec<&'a str>,
    resources: Vec<&'a str>,
    entries: Vec<ContextEntry<'a>>,
    inputs: Vec<&'a str>,
    boundary_inputs: Vec<&'a str>,
    resource_policy: Option<&'a str>,
    resource_owner: Option<&'a str>,
    caller_arn: Option<&'a str>,
    page: Page,
}

/// Reads the shared members; `inputs_required` for SimulateCustomPolicy.
fn read_common<'a>(
    op: &'a Operation<'_>,
    input: &mut Input<'a>,
    violations: &mut Violations,
    inputs_required: bool,
) -> Result<Common<'a>, AwsError> {
    let root = op.params.root();
    if !root.list_present("ActionNames", ListStyle::MEMBER) {
        violations.require("actionNames", None);
    }
    let actions = root.string_list("ActionNames")?;
    for action in &actions {
        violations.length("actionNames", action, 3, 128);
    }
    let resources = root.string_list("ResourceArns")?;
    for resource in &resources {
        violations.length("resourceArns", resource, 1, 2048);
    }
    if inputs_required && !root.list_present("PolicyInputList", ListStyle::MEMBER) {
        violations.require("policyInputList", None);
    }
    let inputs = root.string_list("PolicyInputList")?;
    let boundary_inputs = root.string_list("PermissionsBoundaryPolicyInputList")?;
    for text in inputs.iter().chain(&boundary_inputs) {
        violations.length("policyInputList", text, 1, 131_072);
    }
    let entries = root.list("ContextEntries", |item| {
        let kind = item.str("ContextKeyType");
        Ok((
            item.str("ContextKeyName"),
            item.string_list("ContextKeyValues")?,
            kind,
        ))
    })?;
    let mut context = Vec::with_capacity(entries.len());
    for (index, (name, values, kind)) in entries.into_iter().enumerate() {
        let member = format!("contextEntries.{}.member", index + 1);
        if let Some(name) = name {
            violations.length(&format!("{member}.contextKeyName"), name, 5, 256);
        }
        if let Some(kind) = kind
            && !CONTEXT_KEY_TYPES.contains(&kind)
        {
            violations.push(iamgate_wire::Violation::new(
                Some(kind.to_owned()),
                format!("{member}.contextKeyType"),
                iamgate_wire::query::Constraint::Enum(
                    CONTEXT_KEY_TYPES
                        .iter()
                        .map(|a| std::borrow::Cow::Borrowed(*a))
                        .collect(),
                ),
            ));
        }
        if let Some(name) = name {
            context.push(ContextEntry {
                name,
                list: kind.is_some_and(|k| k.ends_with("List")) || values.len() > 1,
                values,
            });
        }
    }
    let resource_policy = input.text("ResourcePolicy", 131_072);
    let resource_owner = input.text("ResourceOwner", 2048);
    let caller_arn = input.text("CallerArn", 2048);
    let page = input.page()?;
    Ok(Common {
        actions,
        resources,
        entries: context,
        inputs,
        boundary_inputs,
        resource_policy,
        resource_owner,
        caller_arn,
        page,
    })
}

fn invalid_policy(error: AwsError, what: &str) -> AwsError {
    AwsError::invalid_input(format!("{what}: {}", error.message))
}

/// The simulated policies: identity, boundary, resource.
#[derive(Default)]
struct Policies {
    sources: Vec<Source>,
    identity: Vec<usize>,
    boundary: Vec<usize>,
    resource: Vec<usize>,
}

impl Policies {
    fn add(
        &mut self,
        id: String,
        kind: &'static str,
        text: &str,
        document: Arc<PolicyDocument>,
    ) -> usize {
        self.sources.push(Source {
            id,
            kind,
            text: text.to_owned(),
            document,
        });
        self.sources.len() - 1
    }

    fn parse(
        &mut self,
        id: String,
        kind: &'static str,
        text: &str,
        policy_kind: PolicyKind,
    ) -> Result<usize, AwsError> {
        let document = check_document(text, policy_kind).map_err(|e| invalid_policy(e, &id))?;
        Ok(self.add(id, kind, text, Arc::new(document)))
    }

    /// A stored inline policy (leniently: it was valid when written).
    fn stored_inline(&mut self, name: &str, text: &str) -> Option<usize> {
        let document = PolicyDocument::parse_lenient(text, PolicyKind::InlineIdentity).document?;
        Some(self.add(name.to_owned(), IAM_POLICY, text, Arc::new(document)))
    }

    fn managed(&mut self, entry: &PolicyEntry) -> Option<usize> {
        let document = entry.document.clone()?;
        let text = entry.record.default_document().unwrap_or_default();
        Some(self.add(entry.record.name.clone(), IAM_POLICY, text, document))
    }

    fn compile(&self, indexes: &[usize]) -> Option<CompiledPolicies> {
        if indexes.is_empty() {
            return None;
        }
        let named: Vec<NamedPolicy> = indexes
            .iter()
            .filter_map(|&i| {
                self.sources.get(i).map(|s| NamedPolicy {
                    id: Arc::from(i.to_string()),
                    document: s.document.clone(),
                })
            })
            .collect();
        Some(CompiledPolicies::compile(&named))
    }

    /// Adds the request's `PolicyInputList`, boundary inputs and resource policy.
    fn add_inputs(&mut self, common: &Common<'_>) -> Result<(), AwsError> {
        for (index, text) in common.inputs.iter().enumerate() {
            let id = format!("PolicyInputList.{}", index + 1);
            let i = self.parse(id, IAM_POLICY, text, PolicyKind::InlineIdentity)?;
            self.identity.push(i);
        }
        if !common.boundary_inputs.is_empty() {
            self.boundary.clear();
            for (index, text) in common.boundary_inputs.iter().enumerate() {
                let id = format!("PermissionsBoundaryPolicyInputList.{}", index + 1);
                let i = self.parse(id, IAM_POLICY, text, PolicyKind::PermissionsBoundary)?;
                self.boundary.push(i);
            }
        }
        if let Some(text) = common.resource_policy {
            let i = self.parse(
                "ResourcePolicy".to_owned(),
                RESOURCE_POLICY,
                text,
                PolicyKind::Resource,
            )?;
            self.resource.push(i);
        }
        Ok(())
    }
}

/// One evaluated (action, resource) pair.
struct Evaluation {
    action: String,
    resource: String,
    decision: Decision,
    missing: Vec<String>,
    /// `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary`
    /// when a boundary applies: whether the boundary alone allows the
    /// request (no explicit deny, an allow that matches).
    allowed_by_boundary: Option<bool>,
}

fn simulate(
    principal: &PrincipalIdentity,
    policies: &Policies,
    common: &Common<'_>,
) -> Vec<Evaluation> {
    let identity = policies.compile(&policies.identity).unwrap_or_default();
    let boundary = policies.compile(&policies.boundary);
    let resource_policy = policies.compile(&policies.resource);
    let resources: Vec<&str> = if common.resources.is_empty() {
        vec!["*"]
    } else {
        common.resources.clone()
    };
    let mut results = Vec::new();
    for action in &common.actions {
        for resource in &resources {
            let mut context = RequestContext::new(principal.clone(), action, Some(resource));
            if principal.arn.is_empty() {
                context = context.without_key("aws:PrincipalArn");
            }
            for entry in &common.entries {
                context = match (entry.list, entry.values.first()) {
                    (false, Some(value)) => context.with_key(entry.name, value),
                    _ => context.with_multi_key(entry.name, &entry.values),
                };
            }
            if let Some(owner) = common.resource_owner {
                context = context.with_resource_account(owner);
            }
            let decision = evaluate(&EvaluationInput {
                request: &context,
                identity: &[&identity],
                resource: resource_policy.as_ref(),
                resource_kind: ResourcePolicyKind::ResourceBased,
                boundary: boundary.as_ref(),
                session: None,
                scp_levels: &[],
            });
            let allowed_by_boundary = boundary.as_ref().map(|boundary| {
                let alone = evaluate(&EvaluationInput {
                    request: &context,
                    identity: &[boundary],
                    resource: None,
                    resource_kind: ResourcePolicyKind::ResourceBased,
                    boundary: None,
                    session: None,
                    scp_levels: &[],
                });
                alone.outcome == Outcome::Allowed
            });
            results.push(Evaluation {
                action: (*action).to_owned(),
                resource: (*resource).to_owned(),
                missing: missing_keys(policies, &context),
                decision,
                allowed_by_boundary,
            });
        }
    }
    results
}

/// Condition keys of statements that match the action and resource but
/// that the context does not hold.
fn missing_keys(policies: &Policies, context: &RequestContext) -> Vec<String> {
    let mut missing = BTreeSet::new();
    for source in &policies.sources {
        for statement in &source.document.statements {
            if !statement.action.matches(&context.action) {
                continue;
            }
            if let Some(resource) = &statement.resource
                && !resource.matches(context.resource.as_deref(), context)
            {
                continue;
            }
            for clause in &statement.conditions {
                if context.get_lowercase(&clause.key_lowercase).is_none() {
                    missing.insert(clause.key.clone());
                }
            }
        }
    }
    missing.into_iter().collect()
}

/// Where the statement that starts (`{`) at `start` ends (`}`).
fn statement_end(text: &str, start: Pos) -> Option<Pos> {
    let mut pos = Pos { line: 1, column: 1 };
    let mut depth = 0usize;
    let mut started = false;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if !started && pos == start {
            started = true;
        }
        if started {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            } else if c == '{' {
                depth += 1;
            } else if c == '}' {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(pos);
                }
            }
        }
        if c == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
    }
    None
}

fn decision_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::ExplicitDeny => "explicitDeny",
        Outcome::ImplicitDeny => "implicitDeny",
    }
}

fn position(w: &mut XmlWriter, name: &str, pos: Pos) {
    w.nest(name, |w| {
        w.int_element("Line", i64::from(pos.line));
        w.int_element("Column", i64::from(pos.column));
    });
}

/// `MatchedStatements` of one result.
fn matched_statements(w: &mut XmlWriter, policies: &Policies, decision: &Decision) {
    w.list("MatchedStatements", &decision.matched, |w, m| {
        let source = m
            .policy_id
            .parse::<usize>()
            .ok()
            .and_then(|i| policies.sources.get(i));
        if let Some(source) = source {
            w.element("SourcePolicyId", &source.id);
            w.element("SourcePolicyType", source.kind);
            position(w, "StartPosition", m.pos);
            if let Some(end) = statement_end(&source.text, m.pos) {
                position(w, "EndPosition", end);
            }
        }
    });
}

/// The results, one per action and resource. When the request names
/// resources (not `*`), each result also carries `EvalDecisionDetails`
/// (empty: the simulation is within one account) and its
/// `ResourceSpecificResults`, as AWS answers (`EvaluationResult` in the
/// IAM API Reference); for `*` AWS returns neither.
fn render_results(
    op: &Operation<'_>,
    action: &str,
    policies: &Policies,
    results: Vec<Evaluation>,
    common: &Common<'_>,
) -> String {
    let specific = common.resources.iter().any(|r| *r != "*");
    let (results, next) = paginate(
        results.into_iter().enumerate().collect(),
        &common.page,
        |(i, _)| format!("{i:010}"),
    );
    respond(op, action, |w| {
        w.list("EvaluationResults", &results, |w, (_, result)| {
            let decision = decision_name(result.decision.outcome);
            let missing = || result.missing.iter().map(String::as_str);
            w.element("EvalActionName", &result.action);
            w.element("EvalResourceName", &result.resource);
            w.element("EvalDecision", decision);
            matched_statements(w, policies, &result.decision);
            w.string_list("MissingContextValues", missing());
            let boundary_detail = |w: &mut XmlWriter| {
                if let Some(allowed) = result.allowed_by_boundary {
                    w.nest("PermissionsBoundaryDecisionDetail", |w| {
                        w.bool_element("AllowedByPermissionsBoundary", allowed);
                    });
                }
            };
            boundary_detail(w);
            if specific {
                w.nest("EvalDecisionDetails", |_| {});
                w.list("ResourceSpecificResults", [()], |w, ()| {
                    w.element("EvalResourceName", &result.resource);
                    w.element("EvalResourceDecision", decision);
                    matched_statements(w, policies, &result.decision);
                    w.string_list("MissingContextValues", missing());
                    boundary_detail(w);
                });
            }
        });
        render::page_end(w, next.as_deref());
    })
}

/// The principal a simulation runs as: `CallerArn` (an IAM user ARN), or
/// an unnamed principal of the caller's account.
fn caller_principal(
    op: &Operation<'_>,
    caller_arn: Option<&str>,
) -> Result<PrincipalIdentity, AwsError> {
    match caller_arn {
        Some(arn) => PrincipalIdentity::from_arn(arn)
            .filter(|p| p.kind == PrincipalKind::User)
            .ok_or_else(|| {
                AwsError::invalid_input(format!(
                    "Invalid CallerArn: {arn}. CallerArn must be the ARN of an IAM user."
                ))
            }),
        None => {
            let mut principal = PrincipalIdentity::user(op.caller.account(), "/", "", "");
            principal.arn = String::new();
            principal.user_name = None;
            principal.unique_id = None;
            Ok(principal)
        }
    }
}

pub(super) async fn simulate_custom(op: &Operation<'_>) -> Result<String, AwsError> {
    const ACTION: &str = "SimulateCustomPolicy";
    let mut input = Input::new(op);
    let mut violations = Violations::new();
    let common = read_common(op, &mut input, &mut violations, true)?;
    input.finish()?;
    violations.into_result()?;
    authorize(op, ACTION, "*", |c| c)?;
    let mut policies = Policies::default();
    policies.add_inputs(&common)?;
    let principal = caller_principal(op, common.caller_arn)?;
    let results = simulate(&principal, &policies, &common);
    Ok(render_results(op, ACTION, &policies, results, &common))
}

/// `arn:aws:iam::<account>:<noun><path><name>` → (account, noun, path, name).
fn parse_entity_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let (noun, _) = resource.split_once('/')?;
    let path_and_name = resource.get(noun.len()..)?;
    let split = path_and_name.rfind('/')?;
    let path = path_and_name.get(..=split)?;
    let name = path_and_name.get(split + 1..)?;
    (!name.is_empty()).then_some((account, noun, path, name))
}

fn add_entity_policies(
    op: &Operation<'_>,
    policies: &mut Policies,
    inline: &std::collections::BTreeMap<String, String>,
    attached: &[String],
) {
    for (name, text) in inline {
        if let Some(i) = policies.stored_inline(name, text) {
            policies.identity.push(i);
        }
    }
    for arn in attached {
        if let Some(i) = op
            .world
            .managed_policy(arn)
            .and_then(|e| policies.managed(e))
        {
            policies.identity.push(i);
        }
    }
}

fn add_boundary(op: &Operation<'_>, policies: &mut Policies, arn: Option<&str>) {
    if let Some(arn) = arn {
        // A boundary that no longer resolves allows nothing (fail closed):
        // an empty boundary slot is still a boundary.
        let index = op
            .world
            .managed_policy(arn)
            .and_then(|e| policies.managed(e));
        policies.boundary.extend(index);
        if policies.boundary.is_empty() {
            let empty = PolicyDocument::parse_lenient(
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                PolicyKind::PermissionsBoundary,
            )
            .document;
            if let Some(document) = empty {
                let i = policies.add(arn.to_owned(), IAM_POLICY, "", Arc::new(document));
                policies.boundary.push(i);
            }
        }
    }
}

pub(super) async fn simulate_principal(op: &Operation<'_>) -> Result<String, AwsError> {
    const ACTION: &str = "SimulatePrincipalPolicy";
    let mut input = Input::new(op);
    let source = input.arn("PolicySourceArn", true);
    let mut violations = Violations::new();
    let common = read_common(op, &mut input, &mut violations, false)?;
    input.finish()?;
    violations.into_result()?;
    let source = source.unwrap_or_default();
    authorize(op, ACTION, source, |c| c)?;
    let account = op.caller.account();
    let not_found = || AwsError::no_such_entity(format!("Entity {source} does not exist."));
    let (arn_account, noun, path, name) = parse_entity_arn(source)
        .ok_or_else(|| AwsError::invalid_input(format!("Invalid ARN: {source}")))?;
    if arn_account != account {
        return Err(not_found());
    }
    let mut policies = Policies::default();
    let mut principal = match noun {
        "user" => {
            let user = op
                .world
                .user(account, name)
                .filter(|u| u.record.path == path && u.record.name == name)
                .ok_or_else(not_found)?;
            let record: &UserRecord = &user.record;
            add_entity_policies(
                op,
                &mut policies,
                &record.inline_policies,
                &record.attached_policies,
            );
            for group in &record.groups {
                if let Some(entry) = op.world.group(account, group) {
                    let group: &GroupRecord = &entry.record;
                    add_entity_policies(
                        op,
                        &mut policies,
                        &group.inline_policies,
                        &group.attached_policies,
                    );
                }
            }
            add_boundary(op, &mut policies, record.permissions_boundary.as_deref());
            let mut principal =
                PrincipalIdentity::user(account, &record.path, &record.name, &record.id);
            principal.has_permissions_boundary = record.permissions_boundary.is_some();
            principal.tags = record
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            principal
        }
        "role" => {
            let role = op
                .world
                .role(account, name)
                .filter(|r| r.record.path == path && r.record.name == name)
                .ok_or_else(not_found)?;
            let record: &RoleRecord = &role.record;
            add_entity_policies(
                op,
                &mut policies,
                &record.inline_policies,
                &record.attached_policies,
            );
            add_boundary(op, &mut policies, record.permissions_boundary.as_deref());
            // The role itself, not one of its sessions: its ARN and id.
            let mut principal = PrincipalIdentity::role_session(
                account,
                &record.path,
                &record.name,
                &record.id,
                &record.name,
            );
            principal.arn = record.arn();
            principal.unique_id = Some(record.id.clone());
            principal.has_permissions_boundary = record.permissions_boundary.is_some();
            principal.tags = record
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            principal
        }
        "group" => {
            let group = op
                .world
                .group(account, name)
                .filter(|g| g.record.path == path && g.record.name == name)
                .ok_or_else(not_found)?;
            let record: &GroupRecord = &group.record;
            add_entity_policies(
                op,
                &mut policies,
                &record.inline_policies,
                &record.attached_policies,
            );
            // A member of the group without policies of its own.
            let mut principal = PrincipalIdentity::user(account, "/", "", "");
            principal.arn = record.arn();
            principal.user_name = None;
            principal.unique_id = None;
            principal
        }
        _ => return Err(AwsError::invalid_input(format!("Invalid ARN: {source}"))),
    };
    // CallerArn names who calls only when the source is not a user.
    if let Some(caller) = common.caller_arn
        && noun != "user"
    {
        principal = caller_principal(op, Some(caller))?;
    }
    policies.add_inputs(&common)?;
    let results = simulate(&principal, &policies, &common);
    Ok(render_results(op, ACTION, &policies, results, &common))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_ends_at_its_closing_brace() {
        let text = "{\"Statement\":[\n  {\"Effect\":\"Allow\",\"Sid\":\"}{\"}\n]}";
        let end = statement_end(text, Pos { line: 2, column: 3 });
        assert_eq!(
            end,
            Some(Pos {
                line: 2,
                column: 31
            })
        );
    }

    #[test]
    fn entity_arns_split_into_account_noun_path_and_name() {
        assert_eq!(
            parse_entity_arn("arn:aws:iam::111111111111:user/a/b/alice"),
            Some(("111111111111", "user", "/a/b/", "alice"))
        );
        assert_eq!(
            parse_entity_arn("arn:aws:iam::111111111111:role/r"),
            Some(("111111111111", "role", "/", "r"))
        );
        assert_eq!(parse_entity_arn("arn:aws:iam::111111111111:root"), None);
    }
}
