//! Which condition keys an offline analysis can decide, and the two
//! rewritten forms of a statement the evaluator is asked about.
//!
//! A key is decided offline when its value follows from who calls and
//! what is called: the principal-derived keys the request context fills in
//! from the identity (`aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalType`, `aws:userid`, `aws:username`,
//! `aws:PrincipalTag/*`), the resource's account, and a role's tags when
//! the resource is that role. Every other key belongs to the request
//! (`aws:SourceVpce`, `aws:SourceIp`, `aws:CurrentTime`,
//! `aws:MultiFactorAuthPresent`, `sts:ExternalId`, …) or is one iamgate
//! does not model; its clauses are reported, never assumed away.
//!
//! A clause that cannot be evaluated at all (unknown operator, unparsable
//! value) is left in place in both forms, so the evaluator fails closed on
//! it as it does on a live request: it never grants.

use iamgate_policy::Statement;
use iamgate_policy::condition::{Cidr, Clause, Values};
use iamgate_policy::document::Effect;
use serde::{Deserialize, Serialize};

/// Keys (lower-case) whose value is fixed by the principal.
const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
];
/// Key prefixes (lower-case) fixed by the principal or the resource.
const DECIDED_PREFIXES: &[&str] = &["aws:principaltag/"];
/// Keys fixed by the resource, when the target sets them.
const RESOURCE_KEYS: &[&str] = &["aws:resourceaccount"];
const RESOURCE_TAG_PREFIXES: &[&str] = &["aws:resourcetag/", "iam:resourcetag/"];

/// Whether the clause's key depends on the request rather than on who
/// calls what. `resource_tags`: the target sets its resource tags.
fn is_request_time(clause: &Clause, resource_tags: bool) -> bool {
    let key = clause.key_lowercase.as_str();
    let decided = PRINCIPAL_KEYS.contains(&key)
        || RESOURCE_KEYS.contains(&key)
        || DECIDED_PREFIXES.iter().any(|p| key.starts_with(p))
        || (resource_tags && RESOURCE_TAG_PREFIXES.iter().any(|p| key.starts_with(p)));
    !decided
}

/// A clause the evaluator can evaluate (known operator, parsed values):
/// only those may be assumed to hold or not. The others stay, failing
/// closed.
fn is_evaluable(clause: &Clause) -> bool {
    clause.operator.is_some() && clause.values.is_some()
}

/// The clauses of `statement` that an analysis must report instead of
/// deciding.
pub(crate) fn request_time_clauses(statement: &Statement, resource_tags: bool) -> Vec<&Clause> {
    statement
        .conditions
        .iter()
        .filter(|c| is_evaluable(c) && is_request_time(c, resource_tags))
        .collect()
}

/// Which way the undecidable conditions are assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Assume {
    /// Every request-time condition of an Allow holds; a Deny that needs
    /// one does not apply: "allowed under some request".
    Favourable,
    /// The reverse: "allowed whatever the request".
    Unfavourable,
}

/// `statement` with its request-time clauses resolved as `assume` says
/// (`None`: the statement cannot apply).
pub(crate) fn resolve(
    statement: &Statement,
    assume: Assume,
    resource_tags: bool,
) -> Option<Statement> {
    let conditional = statement
        .conditions
        .iter()
        .any(|c| is_evaluable(c) && is_request_time(c, resource_tags));
    if !conditional {
        return Some(statement.clone());
    }
    let holds = match (statement.effect, assume) {
        (Effect::Allow, Assume::Favourable) | (Effect::Deny, Assume::Unfavourable) => true,
        (Effect::Allow, Assume::Unfavourable) | (Effect::Deny, Assume::Favourable) => false,
    };
    if !holds {
        return None;
    }
    let mut kept = statement.clone();
    kept.conditions
        .retain(|c| !(is_evaluable(c) && is_request_time(c, resource_tags)));
    Some(kept)
}

/// A condition that still applies to an access: the request-time clauses
/// of one statement. An `Allow` condition must hold (one of the listed
/// Allow conditions of the same step and policy type suffices); a `Deny`
/// condition must not (if all its clauses hold, the request is denied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The action of the step it applies to (`sts:AssumeRole` on a role of
    /// the chain, or the final action).
    pub action: String,
    pub resource: String,
    /// `identity`, `resource`, `trust`, `boundary` or `session`.
    pub policy_type: String,
    /// The policy's name; another account's is shown as its owner only.
    pub policy: String,
    pub sid: Option<String>,
    /// `None` when the policy is another account's (no position shown).
    pub statement_index: Option<usize>,
    pub effect: String,
    /// Each clause as `Operator key values`, all of which must hold.
    pub when: Vec<String>,
}

impl Condition {
    /// One line for people.
    pub fn describe(&self) -> String {
        let clauses = self.when.join(" and ");
        let statement = match &self.sid {
            Some(sid) => format!("Sid {sid}"),
            None => match self.statement_index {
                Some(index) => format!("statement #{index}"),
                None => "a statement".to_owned(),
            },
        };
        let lead = if self.effect == "Deny" {
            "unless"
        } else {
            "only if"
        };
        format!(
            "{lead} {clauses} ({} policy {}, {statement}; for {})",
            self.policy_type, self.policy, self.action
        )
    }
}

/// `Operator key values`, the values as written where the parsed form
/// keeps them.
pub(crate) fn render_clause(clause: &Clause) -> String {
    let values: Vec<String> = match &clause.values {
        Some(Values::Strings(t)) | Some(Values::Bools(t)) => {
            t.iter().map(|t| t.raw().to_owned()).collect()
        }
        Some(Values::Numbers(n)) => n.iter().map(f64::to_string).collect(),
        Some(Values::Dates(d)) => d.iter().map(|ms| format!("{ms}ms")).collect(),
        Some(Values::Binary(b)) => b.iter().map(|b| format!("<{} bytes>", b.len())).collect(),
        Some(Values::Cidrs(c)) => c.iter().map(render_cidr).collect(),
        Some(Values::Arns(a)) => a
            .iter()
            .map(|a| format!("{}*", a.literal_prefix()))
            .collect(),
        Some(Values::Null(n)) => n.iter().map(bool::to_string).collect(),
        None => vec!["<unreadable>".to_owned()],
    };
    format!(
        "{} {} {}",
        clause.operator_name,
        clause.key,
        values.join("|")
    )
}

fn render_cidr(cidr: &Cidr) -> String {
    match *cidr {
        Cidr::V4 { network, prefix } => format!("{}/{prefix}", std::net::Ipv4Addr::from(network)),
        Cidr::V6 { network, prefix } => format!("{}/{prefix}", std::net::Ipv6Addr::from(network)),
    }
}

pub(crate) fn policy_type_name(t: iamgate_policy::PolicyType) -> &'static str {
    use iamgate_policy::PolicyType;
    match t {
        PolicyType::IdentityBased => "identity",
        PolicyType::ResourceBased => "resource",
        PolicyType::RoleTrust => "trust",
        PolicyType::PermissionsBoundary => "boundary",
        PolicyType::Session => "session",
        PolicyType::ServiceControl => "scp",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use iamgate_policy::{PolicyDocument, PolicyKind};

    fn statement(json: &str) -> Statement {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{json}]}}"#);
        let doc = PolicyDocument::parse(&text, PolicyKind::InlineIdentity).unwrap();
        doc.statements[0].clone()
    }

    #[test]
    fn principal_keys_are_decided_and_request_keys_are_not() {
        let s = statement(
            r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{
              "StringEquals":{"aws:PrincipalTag/team":"a","aws:SourceVpce":"vpce-1"}}}"#,
        );
        let reported: Vec<String> = request_time_clauses(&s, false)
            .into_iter()
            .map(render_clause)
            .collect();
        assert_eq!(reported, vec!["StringEquals aws:SourceVpce vpce-1"]);
    }

    #[test]
    fn a_conditional_allow_is_kept_without_its_request_clause_only_when_favourable() {
        let s = statement(
            r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
        );
        assert!(resolve(&s, Assume::Unfavourable, false).is_none());
        let kept = resolve(&s, Assume::Favourable, false).unwrap();
        assert!(kept.conditions.is_empty());
    }

    #[test]
    fn a_conditional_deny_applies_only_when_unfavourable() {
        let s = statement(
            r#"{"Effect":"Deny","Action":"a:b","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
        );
        assert!(resolve(&s, Assume::Favourable, false).is_none());
        assert!(
            resolve(&s, Assume::Unfavourable, false)
                .unwrap()
                .conditions
                .is_empty()
        );
        assert_eq!(
            render_clause(&s.conditions[0]),
            "IpAddress aws:SourceIp 10.0.0.0/8"
        );
    }

    #[test]
    fn an_unknown_operator_is_never_assumed_to_hold() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEqualsMaybe":{"aws:SourceVpce":"v"}}}]}"#;
        let doc = PolicyDocument::parse_lenient(text, PolicyKind::InlineIdentity)
            .document
            .unwrap();
        let s = &doc.statements[0];
        let favourable = resolve(s, Assume::Favourable, false).unwrap();
        assert_eq!(
            favourable.conditions.len(),
            1,
            "the clause stays and fails closed"
        );
    }
}
