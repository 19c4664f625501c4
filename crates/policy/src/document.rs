//! The policy document model: what a parsed, validated policy is.
//!
//! Every pattern is parsed once here (actions lower-cased, ARNs split into
//! segments, condition values into their typed form) so that evaluation only
//! compares. A statement that had any validation error is kept but marked
//! `defective`: it can still deny but never allow (fail closed), which
//! matters when a stored policy predates a stricter validator.

use crate::arn::{Arn, ArnPattern};
use crate::condition::Clause;
use crate::context::RequestContext;
use crate::json::Pos;
use crate::principal::PrincipalBlock;
use crate::validate::{self, ValidationError};
use crate::variables::Template;
use crate::wildcard::{self, Case, matches_pieces};

/// Which kind of policy a document is; decides the element rules, version
/// rule and size quota (IAM User Guide, "IAM and AWS STS quotas").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PolicyKind {
    /// Inline policy of a user, group or role.
    InlineIdentity,
    /// Customer- or AWS-managed policy.
    ManagedIdentity,
    /// Resource-based policy (API Gateway REST API resource policy).
    Resource,
    /// A role's trust policy (AssumeRolePolicyDocument).
    RoleTrust,
    PermissionsBoundary,
    /// Session policy passed to AssumeRole.
    Session,
    /// Service control policy.
    ServiceControl,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::InlineIdentity,
        PolicyKind::ManagedIdentity,
        PolicyKind::Resource,
        PolicyKind::RoleTrust,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
        PolicyKind::ServiceControl,
    ];

    /// Kinds that must name a principal.
    pub fn requires_principal(self) -> bool {
        matches!(self, PolicyKind::Resource | PolicyKind::RoleTrust)
    }
}

/// `Version` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Version {
    V2012_10_17,
    V2008_10_17,
    Missing,
}

impl Version {
    /// Policy variables are expanded only under 2012-10-17.
    pub fn has_variables(self) -> bool {
        match self {
            Version::V2012_10_17 => true,
            Version::V2008_10_17 => false,
            Version::Missing => crate::tunables::MISSING_VERSION_HAS_VARIABLES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One `Action`/`NotAction` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub raw: String,
    /// Lower-cased service prefix (`*` for the bare wildcard); `None` when
    /// the entry is malformed (matches nothing).
    pub service: Option<String>,
    /// Lower-cased action-name part.
    pub name: String,
}

impl ActionPattern {
    pub fn parse(raw: &str) -> ActionPattern {
        let lower = raw.to_ascii_lowercase();
        if raw == "*" {
            return ActionPattern {
                raw: raw.to_string(),
                service: Some("*".to_string()),
                name: "*".to_string(),
            };
        }
        match lower.split_once(':') {
            Some((service, name)) if !service.is_empty() && !name.contains(':') => ActionPattern {
                raw: raw.to_string(),
                service: Some(service.to_string()),
                name: name.to_string(),
            },
            _ => ActionPattern {
                raw: raw.to_string(),
                service: None,
                name: lower,
            },
        }
    }

    /// Case-insensitive glob over the whole `service:name`.
    pub fn matches(&self, action: &str) -> bool {
        self.service.is_some() && wildcard::matches(&self.raw, action, Case::Insensitive)
    }
}

/// `Action` (negated: `NotAction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionBlock {
    pub negated: bool,
    pub patterns: Vec<ActionPattern>,
}

impl ActionBlock {
    pub fn matches(&self, action: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(action)) != self.negated
    }
}

/// One `Resource`/`NotResource` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePattern {
    /// `*`: everything, including requests without a resource.
    Any,
    Arn(ArnPattern),
    /// `execute-api:/…` shorthand of API Gateway resource policies: the
    /// API's own ARN with the given stage/method/path pattern.
    ExecuteApiShorthand(Template),
    /// Not an ARN: matched as a whole-string glob (only reachable in
    /// documents that failed validation).
    Other(Template),
}

impl ResourcePattern {
    pub fn parse(raw: &str, kind: PolicyKind, variables: bool) -> ResourcePattern {
        if raw == "*" {
            return ResourcePattern::Any;
        }
        if let Some(pattern) = ArnPattern::parse_resource(raw, variables) {
            return ResourcePattern::Arn(pattern);
        }
        if let Some(rest) = raw.strip_prefix("execute-api:/")
            && kind == PolicyKind::Resource
        {
            return ResourcePattern::ExecuteApiShorthand(Template::parse(rest, variables));
        }
        ResourcePattern::Other(Template::parse(raw, variables))
    }

    pub fn matches(&self, resource: Option<&str>, ctx: &RequestContext) -> bool {
        let Some(resource) = resource else {
            return matches!(self, ResourcePattern::Any);
        };
        match self {
            ResourcePattern::Any => true,
            ResourcePattern::Arn(pattern) => match Arn::parse(resource) {
                Some(arn) => pattern.matches(&arn, ctx),
                None => false,
            },
            ResourcePattern::ExecuteApiShorthand(rest) => {
                let Some(arn) = Arn::parse(resource) else {
                    return false;
                };
                let Some((_api, path)) = arn.resource.split_once('/') else {
                    return false;
                };
                arn.service == "execute-api"
                    && rest
                        .with_pieces(ctx, |p| matches_pieces(p, path, Case::Sensitive))
                        .unwrap_or(false)
            }
            ResourcePattern::Other(template) => template
                .with_pieces(ctx, |p| matches_pieces(p, resource, Case::Sensitive))
                .unwrap_or(false),
        }
    }
}

/// `Resource` (negated: `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceBlock {
    pub negated: bool,
    pub patterns: Vec<ResourcePattern>,
}

impl ResourceBlock {
    pub fn matches(&self, resource: Option<&str>, ctx: &RequestContext) -> bool {
        self.patterns.iter().any(|p| p.matches(resource, ctx)) != self.negated
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalBlock>,
    pub action: ActionBlock,
    /// `None` in trust policies (no resource element).
    pub resource: Option<ResourceBlock>,
    pub conditions: Vec<Clause>,
    /// Where the statement's `{` is in the source.
    pub pos: Pos,
    /// The statement had a validation error: it may deny, never allow.
    pub defective: bool,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub kind: PolicyKind,
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
    /// Size in characters as IAM counts it (whitespace excluded).
    pub size: usize,
}

/// Result of a lenient parse: the document when the text was JSON, and all
/// validation errors in AWS's check order (the first is what AWS returns).
#[derive(Debug, Clone)]
pub struct ParseOutcome {
    pub document: Option<PolicyDocument>,
    pub errors: Vec<ValidationError>,
}

impl PolicyDocument {
    /// Parses and validates; any error rejects the document.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, Vec<ValidationError>> {
        let outcome = validate::parse_document(text, kind);
        match outcome.document {
            Some(document) if outcome.errors.is_empty() => Ok(document),
            _ => Err(outcome.errors),
        }
    }

    /// Parses, keeping the document (defective statements marked) along
    /// with every error. Used by tools and to evaluate legacy documents.
    pub fn parse_lenient(text: &str, kind: PolicyKind) -> ParseOutcome {
        validate::parse_document(text, kind)
    }
}

/// IAM's size of a document: characters other than ASCII whitespace.
pub fn policy_size(text: &str) -> usize {
    text.chars()
        .filter(|c| !crate::tunables::SIZE_IGNORED_WHITESPACE.contains(c))
        .count()
}
