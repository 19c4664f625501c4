//! Building the document model from JSON while validating it (IAM User
//! Guide, "Grammar of the IAM JSON policy language").
//!
//! Validation collects every error with its position instead of stopping at
//! the first, so `iamgate policy validate` can show them all; errors are then
//! sorted into AWS's check order (inferred from moto's tests) so the first one is
//! the message AWS would return. Messages are AWS's; `detail` says in our
//! words what exactly was wrong.

use std::collections::HashSet;

use crate::condition::{Clause, Family, Operator, Values};
use crate::document::{
    ActionBlock, ActionPattern, Effect, ParseOutcome, PolicyDocument, PolicyKind, ResourceBlock,
    ResourcePattern, Statement, Version, policy_size,
};
use crate::json::{self, Member, Node, Pos, Value};
use crate::principal::{PrincipalBlock, PrincipalEntry};
use crate::tunables::{BOOL_VARIABLES_ALLOWED, size};

/// The AWS error code a validation failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ErrorCode {
    /// HTTP 400 `MalformedPolicyDocument`.
    MalformedPolicyDocument,
    /// HTTP 409 `LimitExceeded` (size quotas).
    LimitExceeded,
    /// HTTP 400 `ValidationError` (API model constraints).
    ValidationError,
}

/// One validation failure with AWS's message and where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{line}:{column}: {message} ({detail})")]
pub struct ValidationError {
    pub code: ErrorCode,
    /// AWS's message, verbatim.
    pub message: String,
    /// What was wrong, for people.
    pub detail: String,
    pub line: u32,
    pub column: u32,
    /// Rank in AWS's check order (AWS reports the lowest first).
    pub check: u8,
}

pub const SYNTAX: &str = "Syntax errors in policy.";
pub const INVALID_JSON_TRUST: &str = "This policy contains invalid Json";
pub const VERSION_TOO_OLD: &str = "Policy document must be version 2012-10-17 or greater.";
pub const LEGACY_PARSING: &str = "The policy failed legacy parsing";
pub const DUPLICATE_SID: &str = "Statement IDs (SID) in a single policy must be unique.";
pub const MISSING_ACTIONS: &str = "Policy statement must contain actions.";
pub const MISSING_RESOURCES: &str = "Policy statement must contain resources.";
pub const ACTION_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
pub const ACTION_ONE_COLON: &str = "Actions/Condition can contain only one colon.";
pub const PRINCIPAL_FORBIDDEN: &str = "Policy document should not specify a principal.";
pub const PRINCIPAL_MISSING: &str = "Missing required field Principal";

const TOP_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses `text` as a policy of `kind`; see [`PolicyDocument::parse_lenient`].
pub fn parse_document(text: &str, kind: PolicyKind) -> ParseOutcome {
    let mut b = Builder {
        kind,
        errors: Vec::new(),
        variables: true,
    };
    b.check_characters(text);
    let root = match json::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let message = if kind == PolicyKind::RoleTrust {
                INVALID_JSON_TRUST
            } else {
                SYNTAX
            };
            b.error(1, e.pos, message, format!("not JSON: {}", e.reason));
            return b.finish(None);
        }
    };
    let document = b.document(&root, policy_size(text));
    if let Some(doc) = &document {
        b.check_size(doc.size, text.len());
    }
    b.finish(document)
}

struct Builder {
    kind: PolicyKind,
    errors: Vec<ValidationError>,
    variables: bool,
}

impl Builder {
    fn error(&mut self, check: u8, pos: Pos, message: &str, detail: String) {
        self.push(
            ErrorCode::MalformedPolicyDocument,
            check,
            pos,
            message.to_string(),
            detail,
        );
    }

    fn push(&mut self, code: ErrorCode, check: u8, pos: Pos, message: String, detail: String) {
        self.errors.push(ValidationError {
            code,
            message,
            detail,
            line: pos.line,
            column: pos.column,
            check,
        });
    }

    fn finish(mut self, document: Option<PolicyDocument>) -> ParseOutcome {
        self.errors.sort_by_key(|e| (e.check, e.line, e.column));
        ParseOutcome {
            document,
            errors: self.errors,
        }
    }

    fn check_characters(&mut self, text: &str) {
        let mut line = 1;
        let mut column = 1;
        for c in text.chars() {
            let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}');
            if !allowed {
                self.push(
                    ErrorCode::ValidationError,
                    0,
                    Pos { line, column },
                    "1 validation error detected: Value at 'policyDocument' failed to satisfy \
                     constraint: Member must satisfy regular expression pattern: \
                     [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
                        .to_string(),
                    format!("character U+{:04X} is outside the allowed range", c as u32),
                );
                return;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
    }

    fn check_size(&mut self, size: usize, bytes: usize) {
        let start = Pos { line: 1, column: 1 };
        if bytes > size::API_MAX_DOCUMENT {
            self.push(
                ErrorCode::ValidationError,
                13,
                start,
                "1 validation error detected: Value at 'policyDocument' failed to satisfy \
                 constraint: Member must have length less than or equal to 131072"
                    .to_string(),
                format!("document is {bytes} characters long"),
            );
        }
        let quota = match self.kind {
            PolicyKind::ManagedIdentity | PolicyKind::PermissionsBoundary => {
                Some((size::MANAGED_POLICY, "PolicySize"))
            }
            PolicyKind::RoleTrust => Some((size::TRUST_POLICY, "ACLSizePerRole")),
            PolicyKind::ServiceControl => Some((size::SERVICE_CONTROL_POLICY, "PolicySize")),
            PolicyKind::Session => Some((size::SESSION_POLICY, "PolicySize")),
            // Inline quotas are per owner in aggregate: see `inline_quota_error`.
            PolicyKind::InlineIdentity | PolicyKind::Resource => None,
        };
        if let Some((limit, name)) = quota
            && size > limit
        {
            self.push(
                ErrorCode::LimitExceeded,
                13,
                start,
                format!("Cannot exceed quota for {name}: {limit}"),
                format!("document has {size} non-whitespace characters"),
            );
        }
    }

    fn members<'n>(
        &mut self,
        members: &'n [Member],
        allowed: &[&str],
        what: &str,
    ) -> Vec<&'n Member> {
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        for member in members {
            if !seen.insert(member.key.as_str()) {
                self.error(
                    2,
                    member.key_pos,
                    SYNTAX,
                    format!("duplicate key `{}` in {what}", member.key),
                );
                continue;
            }
            if !allowed.contains(&member.key.as_str()) {
                self.error(
                    2,
                    member.key_pos,
                    SYNTAX,
                    format!("unknown element `{}` in {what}", member.key),
                );
                continue;
            }
            kept.push(member);
        }
        kept
    }

    fn document(&mut self, root: &Node, size: usize) -> Option<PolicyDocument> {
        let Value::Object(members) = &root.value else {
            self.error(
                2,
                root.pos,
                SYNTAX,
                format!("policy is a {}, not an object", root.value.type_name()),
            );
            return None;
        };
        let members = self.members(members, &TOP_KEYS, "the policy");
        let find = |key: &str| members.iter().find(|m| m.key == key).copied();
        let version = match find("Version") {
            None => Version::Missing,
            Some(m) => match &m.value.value {
                Value::String(v) if v == "2012-10-17" => Version::V2012_10_17,
                Value::String(v) if v == "2008-10-17" => Version::V2008_10_17,
                other => {
                    let shown = match other {
                        Value::String(v) => v.clone(),
                        v => v.type_name().to_string(),
                    };
                    self.error(2, m.value.pos, SYNTAX, format!("unknown Version `{shown}`"));
                    Version::Missing
                }
            },
        };
        if self.kind == PolicyKind::ManagedIdentity && version != Version::V2012_10_17 {
            let pos = find("Version").map(|m| m.value.pos).unwrap_or(root.pos);
            self.error(
                3,
                pos,
                VERSION_TOO_OLD,
                "managed policies need Version 2012-10-17".to_string(),
            );
        }
        self.variables = version.has_variables();
        let id = find("Id").and_then(|m| match &m.value.value {
            Value::String(s) => Some(s.clone()),
            other => {
                let detail = format!("Id is a {}, not a string", other.type_name());
                self.error(2, m.value.pos, SYNTAX, detail);
                None
            }
        });
        let mut statements = Vec::new();
        match find("Statement") {
            None => self.error(2, root.pos, SYNTAX, "missing Statement".to_string()),
            Some(m) => {
                let nodes: Vec<&Node> = match &m.value.value {
                    Value::Array(items) => items.iter().collect(),
                    Value::Object(_) => vec![&m.value],
                    other => {
                        let detail = format!("Statement is a {}", other.type_name());
                        self.error(2, m.value.pos, SYNTAX, detail);
                        Vec::new()
                    }
                };
                if nodes.is_empty() && matches!(m.value.value, Value::Array(_)) {
                    self.error(2, m.value.pos, SYNTAX, "Statement is empty".to_string());
                }
                let mut sids = HashSet::new();
                for node in nodes {
                    if let Some(statement) = self.statement(node, &mut sids) {
                        statements.push(statement);
                    }
                }
            }
        }
        Some(PolicyDocument {
            kind: self.kind,
            version,
            id,
            statements,
            size,
        })
    }

    /// String or array of strings (or, for `scalars`, numbers and bools too).
    fn strings(&mut self, node: &Node, what: &str, scalars: bool) -> Vec<(String, Pos)> {
        let scalar = |n: &Node| -> Option<String> {
            match &n.value {
                Value::String(s) => Some(s.clone()),
                Value::Number(t) if scalars => Some(t.clone()),
                Value::Bool(b) if scalars => Some(b.to_string()),
                _ => None,
            }
        };
        let items: Vec<&Node> = match &node.value {
            Value::Array(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            match scalar(item) {
                Some(s) => out.push((s, item.pos)),
                None => {
                    let detail = format!("{what} has a {} value", item.value.type_name());
                    self.error(2, item.pos, SYNTAX, detail);
                }
            }
        }
        out
    }

    fn statement(&mut self, node: &Node, sids: &mut HashSet<String>) -> Option<Statement> {
        let Value::Object(members) = &node.value else {
            let detail = format!("a statement is a {}, not an object", node.value.type_name());
            self.error(2, node.pos, SYNTAX, detail);
            return None;
        };
        let errors_before = self.errors.len();
        let members = self.members(members, &STATEMENT_KEYS, "a statement");
        let find = |key: &str| members.iter().find(|m| m.key == key).map(|m| &m.value);

        let sid = match find("Sid") {
            None => None,
            Some(n) => match &n.value {
                Value::String(s) => {
                    let iam_stored =
                        !matches!(self.kind, PolicyKind::Resource | PolicyKind::ServiceControl);
                    if iam_stored && !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        self.error(
                            2,
                            n.pos,
                            SYNTAX,
                            format!("Sid `{s}` must match [A-Za-z0-9]*"),
                        );
                    }
                    if !s.is_empty() && !sids.insert(s.clone()) {
                        self.error(5, n.pos, DUPLICATE_SID, format!("Sid `{s}` is used twice"));
                    }
                    Some(s.clone())
                }
                other => {
                    let detail = format!("Sid is a {}", other.type_name());
                    self.error(2, n.pos, SYNTAX, detail);
                    None
                }
            },
        };

        let effect = match find("Effect") {
            Some(Node {
                value: Value::String(s),
                ..
            }) if s == "Allow" => Effect::Allow,
            Some(Node {
                value: Value::String(s),
                ..
            }) if s == "Deny" => Effect::Deny,
            Some(n) => {
                self.error(
                    4,
                    n.pos,
                    LEGACY_PARSING,
                    "Effect must be `Allow` or `Deny`".to_string(),
                );
                Effect::Deny
            }
            None => {
                self.error(2, node.pos, SYNTAX, "statement has no Effect".to_string());
                Effect::Deny
            }
        };

        let action = self.actions(node, find("Action"), find("NotAction"));
        let resource = self.resources(node, find("Resource"), find("NotResource"));
        let principal = self.principal(node, effect, find("Principal"), find("NotPrincipal"));
        let conditions = match find("Condition") {
            Some(n) => self.conditions(n),
            None => Vec::new(),
        };
        Some(Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            pos: node.pos,
            defective: self.errors.len() > errors_before,
        })
    }

    fn actions(
        &mut self,
        stmt: &Node,
        action: Option<&Node>,
        not_action: Option<&Node>,
    ) -> ActionBlock {
        let (node, negated) = match (action, not_action) {
            (Some(a), Some(_)) => {
                self.error(2, a.pos, SYNTAX, "both Action and NotAction".to_string());
                (a, false)
            }
            (Some(a), None) => (a, false),
            (None, Some(n)) => (n, true),
            (None, None) => {
                self.error(
                    6,
                    stmt.pos,
                    MISSING_ACTIONS,
                    "no Action or NotAction".to_string(),
                );
                return ActionBlock {
                    negated: false,
                    patterns: Vec::new(),
                };
            }
        };
        let values = self.strings(node, "Action", false);
        if values.is_empty() && matches!(node.value, Value::Array(_)) {
            self.error(
                6,
                node.pos,
                MISSING_ACTIONS,
                "the action list is empty".to_string(),
            );
        }
        let mut patterns = Vec::new();
        for (raw, pos) in values {
            if raw != "*" {
                match raw.matches(':').count() {
                    0 => self.error(
                        9,
                        pos,
                        ACTION_VENDOR,
                        format!("action `{raw}` has no service prefix"),
                    ),
                    1 if raw.starts_with(':') => self.error(
                        9,
                        pos,
                        ACTION_VENDOR,
                        format!("action `{raw}` has no service prefix"),
                    ),
                    1 if !is_action_shape(&raw) => self.error(
                        9,
                        pos,
                        ACTION_VENDOR,
                        format!("action {raw:?} is not `vendor:name`"),
                    ),
                    1 => {}
                    _ => self.error(
                        9,
                        pos,
                        ACTION_ONE_COLON,
                        format!("action `{raw}` has several colons"),
                    ),
                }
            }
            patterns.push(ActionPattern::parse(&raw));
        }
        ActionBlock { negated, patterns }
    }

    fn resources(
        &mut self,
        stmt: &Node,
        resource: Option<&Node>,
        not_resource: Option<&Node>,
    ) -> Option<ResourceBlock> {
        if self.kind == PolicyKind::RoleTrust {
            for (node, name) in [(resource, "Resource"), (not_resource, "NotResource")] {
                if let Some(n) = node {
                    self.error(
                        7,
                        n.pos,
                        &format!("Has prohibited field {name}"),
                        format!("trust policies have no {name}"),
                    );
                }
            }
            return None;
        }
        let (node, negated) = match (resource, not_resource) {
            (Some(r), Some(_)) => {
                self.error(
                    2,
                    r.pos,
                    SYNTAX,
                    "both Resource and NotResource".to_string(),
                );
                (r, false)
            }
            (Some(r), None) => (r, false),
            (None, Some(n)) => (n, true),
            (None, None) => {
                self.error(
                    7,
                    stmt.pos,
                    MISSING_RESOURCES,
                    "no Resource or NotResource".to_string(),
                );
                return Some(ResourceBlock {
                    negated: false,
                    patterns: Vec::new(),
                });
            }
        };
        let mut patterns = Vec::new();
        for (raw, pos) in self.strings(node, "Resource", false) {
            let pattern = ResourcePattern::parse(&raw, self.kind, self.variables);
            if let ResourcePattern::Other(_) = pattern {
                if raw.starts_with("arn:") {
                    self.error(
                        4,
                        pos,
                        LEGACY_PARSING,
                        format!("`{raw}` is not a complete ARN"),
                    );
                } else {
                    let message = format!("Resource {raw} must be in ARN format or \"*\".");
                    self.error(8, pos, &message, "not an ARN".to_string());
                }
            }
            patterns.push(pattern);
        }
        Some(ResourceBlock { negated, patterns })
    }

    fn principal(
        &mut self,
        stmt: &Node,
        effect: Effect,
        principal: Option<&Node>,
        not_principal: Option<&Node>,
    ) -> Option<PrincipalBlock> {
        let (node, negated) = match (principal, not_principal) {
            (Some(p), Some(_)) => {
                self.error(
                    2,
                    p.pos,
                    SYNTAX,
                    "both Principal and NotPrincipal".to_string(),
                );
                (p, false)
            }
            (Some(p), None) => (p, false),
            (None, Some(n)) => (n, true),
            (None, None) => {
                if self.kind.requires_principal() {
                    self.error(
                        10,
                        stmt.pos,
                        PRINCIPAL_MISSING,
                        "this policy kind names principals".to_string(),
                    );
                }
                return None;
            }
        };
        if !self.kind.requires_principal() {
            self.error(
                10,
                node.pos,
                PRINCIPAL_FORBIDDEN,
                "only resource and trust policies name principals".to_string(),
            );
        } else if negated && self.kind == PolicyKind::RoleTrust {
            self.error(
                10,
                node.pos,
                "Has prohibited field NotPrincipal",
                "trust policies cannot use NotPrincipal".to_string(),
            );
        } else if negated && effect == Effect::Allow {
            self.error(
                10,
                node.pos,
                SYNTAX,
                "NotPrincipal is only allowed with Deny".to_string(),
            );
        }
        let mut entries = Vec::new();
        match &node.value {
            Value::String(s) if s == "*" => entries.push(PrincipalEntry::Star),
            Value::Object(members) => {
                let members = self.members(
                    members,
                    &["AWS", "Service", "Federated", "CanonicalUser"],
                    "Principal",
                );
                for member in members {
                    for (value, pos) in self.strings(&member.value, "Principal", false) {
                        let entry = match member.key.as_str() {
                            "AWS" => PrincipalEntry::from_aws(&value),
                            "Service" if value == "*" => PrincipalEntry::Invalid(value.clone()),
                            "Service" => PrincipalEntry::Service(value.clone()),
                            "Federated" => PrincipalEntry::Federated(value.clone()),
                            _ => PrincipalEntry::CanonicalUser(value.clone()),
                        };
                        if let PrincipalEntry::Invalid(_) = entry {
                            let message = format!(
                                "Invalid principal in policy: \"{}\":\"{value}\"",
                                member.key
                            );
                            self.error(
                                11,
                                pos,
                                &message,
                                "not an account, ARN, unique id or `*`".to_string(),
                            );
                        }
                        entries.push(entry);
                    }
                }
            }
            other => {
                let detail = format!(
                    "Principal is a {}; use \"*\" or an object",
                    other.type_name()
                );
                self.error(2, node.pos, SYNTAX, detail);
            }
        }
        Some(PrincipalBlock { negated, entries })
    }

    fn conditions(&mut self, node: &Node) -> Vec<Clause> {
        let Value::Object(operators) = &node.value else {
            let detail = format!("Condition is a {}, not an object", node.value.type_name());
            self.error(2, node.pos, SYNTAX, detail);
            return Vec::new();
        };
        let mut clauses = Vec::new();
        let mut seen = HashSet::new();
        for op_member in operators {
            if !seen.insert(op_member.key.as_str()) {
                self.error(
                    2,
                    op_member.key_pos,
                    SYNTAX,
                    format!("duplicate operator `{}`", op_member.key),
                );
                continue;
            }
            let operator = Operator::parse(&op_member.key);
            if operator.is_none() {
                self.error(
                    12,
                    op_member.key_pos,
                    SYNTAX,
                    format!("unknown condition operator `{}`", op_member.key),
                );
            }
            let Value::Object(keys) = &op_member.value.value else {
                let detail = format!("`{}` must map keys to values", op_member.key);
                self.error(2, op_member.value.pos, SYNTAX, detail);
                continue;
            };
            let mut seen_keys = HashSet::new();
            for key_member in keys {
                let key_lowercase = key_member.key.to_ascii_lowercase();
                if !seen_keys.insert(key_lowercase.clone()) {
                    self.error(
                        2,
                        key_member.key_pos,
                        SYNTAX,
                        format!("duplicate condition key `{}`", key_member.key),
                    );
                    continue;
                }
                let raw: Vec<String> = self
                    .strings(&key_member.value, "a condition", true)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect();
                let values = operator.and_then(|op| {
                    let family = op.base.family();
                    let variables = match family {
                        Family::String | Family::Arn => self.variables,
                        Family::Bool => self.variables && BOOL_VARIABLES_ALLOWED,
                        _ => false,
                    };
                    match Values::parse(family, &raw, variables) {
                        Ok(values) => Some(values),
                        Err(bad) => {
                            let detail =
                                format!("`{bad}` is not a valid value for {}", op_member.key);
                            self.error(4, key_member.value.pos, LEGACY_PARSING, detail);
                            None
                        }
                    }
                });
                clauses.push(Clause {
                    operator_name: op_member.key.clone(),
                    operator,
                    key: key_member.key.clone(),
                    key_lowercase,
                    values,
                    pos: key_member.key_pos,
                });
            }
        }
        clauses
    }
}

/// Checks the aggregate inline-policy quota of one user, group or role
/// ("IAM and AWS STS quotas"): `sizes` are [`PolicyDocument::size`] of all
/// its inline policies.
pub fn inline_quota_error(
    owner: InlineOwner,
    name: &str,
    sizes: &[usize],
) -> Option<ValidationError> {
    let total: usize = sizes.iter().sum();
    let (limit, noun) = match owner {
        InlineOwner::User => (size::USER_INLINE_TOTAL, "user"),
        InlineOwner::Group => (size::GROUP_INLINE_TOTAL, "group"),
        InlineOwner::Role => (size::ROLE_INLINE_TOTAL, "role"),
    };
    (total > limit).then(|| ValidationError {
        code: ErrorCode::LimitExceeded,
        message: format!("Maximum policy size of {limit} bytes exceeded for {noun} {name}"),
        detail: format!("inline policies total {total} characters"),
        line: 1,
        column: 1,
        check: 13,
    })
}

/// Who owns an inline policy (for the aggregate quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InlineOwner {
    User,
    Group,
    Role,
}

/// Whether a one-colon action is `vendor:name` as AWS spells actions: a
/// service prefix of `[A-Za-z0-9-]` and an action name of `[A-Za-z0-9_-]`,
/// either with the wildcards `*` and `?` (the engine matches `*:List*`).
/// Every AWS-managed policy's actions have this shape; a control character
/// (a NUL) or a blank inside an action is refused instead of being stored
/// and matched against. AWS documents no text for a bad character, so it
/// gets the vendor text of the same check (spec iam-policy §3, row 9).
fn is_action_shape(action: &str) -> bool {
    let Some((vendor, name)) = action.split_once(':') else {
        return false;
    };
    let wildcard = |b: u8| matches!(b, b'*' | b'?');
    !vendor.is_empty()
        && vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || wildcard(b))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || wildcard(b))
}
