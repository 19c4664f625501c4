//! What the pipeline decided about one execute-api request, kept apart
//! from the response so the server can log it and count it.
//!
//! The response body already tells the caller *that* it was refused; an
//! operator also needs *who* was refused, *by which policy type* and on
//! *which route*, without parsing bodies (HTTP APIs say only `Forbidden`).
//! These records carry exactly that and nothing secret: the caller's ARN
//! and access key id, never a secret key or a session token.

use iamgate_decisions::words;
use iamgate_policy::{Decision, Outcome, PolicyType};

/// The kind of answer the pipeline gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessOutcome {
    /// Authorized and handed to the integration.
    Allow,
    /// No policy allowed it.
    ImplicitDeny,
    /// A Deny statement matched.
    ExplicitDeny,
    /// An `AWS_IAM` method or route without a valid signature.
    Unauthenticated,
    /// No such API, stage, resource, method or route.
    NotFound,
    /// A PRIVATE API, or a private custom domain name, addressed other
    /// than through a VPC endpoint.
    OutsideVpcEndpoint,
    /// An API whose default endpoint is disabled, addressed through it.
    DefaultEndpointDisabled,
    /// The body could not be read (too large, malformed, too slow).
    BodyRefused,
    /// Denied by the policies, and let through by `--enforce soft`.
    WouldDeny,
    /// A mutual-TLS custom domain name reached without a client
    /// certificate its truststore trusts.
    MutualTlsRefused,
    /// A method's API key was missing or not accepted, or a throttle or
    /// the usage plan's quota refused the request.
    UsageRefused,
}

impl AccessOutcome {
    /// The word written to the access log and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Allow => words::ALLOW,
            AccessOutcome::ImplicitDeny => words::IMPLICIT_DENY,
            AccessOutcome::ExplicitDeny => words::EXPLICIT_DENY,
            AccessOutcome::Unauthenticated => words::UNAUTHENTICATED,
            AccessOutcome::WouldDeny => words::WOULD_DENY,
            AccessOutcome::NotFound => "not_found",
            AccessOutcome::OutsideVpcEndpoint => "outside_vpc_endpoint",
            AccessOutcome::DefaultEndpointDisabled => "default_endpoint_disabled",
            AccessOutcome::BodyRefused => "body_refused",
            AccessOutcome::MutualTlsRefused => "mutual_tls_refused",
            AccessOutcome::UsageRefused => "usage_refused",
        }
    }
}

/// How the authorization step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDecision {
    pub outcome: AccessOutcome,
    /// The policy type that decided ([`PolicyType::short_name`] in logs);
    /// `None` when no policy was evaluated
    /// (an unrouted or unsigned request, a `NONE` method without a
    /// resource policy).
    pub policy_type: Option<PolicyType>,
    /// The caller's ARN; `None` for anonymous callers and for requests
    /// whose signature did not verify (their claimed identity is not
    /// established, so it is not logged as if it were).
    pub caller: Option<String>,
    /// The verified access key id (never its secret).
    pub access_key_id: Option<String>,
    /// The REST resource path (`/pets/{petId}`) or the HTTP route key;
    /// `None` when nothing was routed.
    pub route: Option<String>,
    /// The SigV4 error code of a refused signature
    /// (`InvalidSignatureException`, …): HTTP APIs answer every such
    /// failure with a bare `Forbidden`, so this is the only place it shows.
    pub error_code: Option<String>,
}

impl AccessDecision {
    /// Nothing was routed.
    pub fn not_found() -> Self {
        Self::bare(AccessOutcome::NotFound, None)
    }

    /// A PRIVATE API refused before anything was routed.
    pub fn outside_vpc_endpoint() -> Self {
        Self::bare(AccessOutcome::OutsideVpcEndpoint, None)
    }

    /// An API's disabled default endpoint.
    pub fn default_endpoint_disabled() -> Self {
        Self::bare(AccessOutcome::DefaultEndpointDisabled, None)
    }

    /// The client certificate was missing or not trusted.
    pub fn mutual_tls_refused() -> Self {
        Self::bare(AccessOutcome::MutualTlsRefused, None)
    }

    /// The body of a request on `route` could not be read.
    pub fn body_refused(route: Option<&str>) -> Self {
        Self::bare(AccessOutcome::BodyRefused, route)
    }

    /// The route needs a signature and there is none, or it did not verify.
    pub fn unauthenticated(route: Option<&str>, error_code: Option<&str>) -> Self {
        Self {
            error_code: error_code.map(str::to_owned),
            ..Self::bare(AccessOutcome::Unauthenticated, route)
        }
    }

    /// Allowed without evaluating policies: a `NONE` method or route with
    /// no resource policy, or `--enforce off`.
    pub fn allowed_unevaluated(
        route: &str,
        caller: Option<String>,
        access_key_id: Option<String>,
    ) -> Self {
        Self {
            caller,
            access_key_id,
            ..Self::bare(AccessOutcome::Allow, Some(route))
        }
    }

    /// This decision, overturned by the API key or throttle phase; the
    /// caller stays as it was established.
    pub fn refused_by_usage(self, route: &str) -> Self {
        Self {
            outcome: AccessOutcome::UsageRefused,
            route: Some(route.to_owned()),
            ..self
        }
    }

    /// This denial, let through by `--enforce soft`.
    pub fn let_through(self) -> Self {
        Self {
            outcome: AccessOutcome::WouldDeny,
            ..self
        }
    }

    /// The policy engine's `decision` about `caller` on `route`.
    pub fn evaluated(
        decision: &Decision,
        route: &str,
        caller: Option<String>,
        access_key_id: Option<String>,
    ) -> Self {
        let outcome = match decision.outcome {
            Outcome::Allowed => AccessOutcome::Allow,
            Outcome::ImplicitDeny => AccessOutcome::ImplicitDeny,
            Outcome::ExplicitDeny => AccessOutcome::ExplicitDeny,
        };
        Self {
            outcome,
            policy_type: Some(decision.deciding_policy_type),
            caller,
            access_key_id,
            route: Some(route.to_owned()),
            error_code: None,
        }
    }

    fn bare(outcome: AccessOutcome, route: Option<&str>) -> Self {
        Self {
            outcome,
            policy_type: None,
            caller: None,
            access_key_id: None,
            route: route.map(str::to_owned),
            error_code: None,
        }
    }
}

/// One execute-api request as the data plane saw it: the decision plus
/// where it was addressed. Every execute-api request has exactly one,
/// however early it was answered ([`crate::pipeline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    pub request_id: String,
    /// The API id as addressed (it may name no API); empty when a custom
    /// domain name's base path named none.
    pub api_id: String,
    /// Whether `api_id` names a declared API.
    pub api_known: bool,
    /// The stage that served the request; `None` when none matched.
    pub stage: Option<String>,
    pub decision: AccessDecision,
}

/// One access-log line: the record, and what was asked, from where, and
/// the status answered. The path is without its query: a presigned URL
/// carries its session token there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    pub record: AccessRecord,
    pub method: String,
    /// The path as received, without the query.
    pub path: String,
    pub source_ip: Option<std::net::IpAddr>,
    /// The VPC endpoint the request came through.
    pub source_vpce: Option<String>,
    pub status: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_outcomes_map_to_log_words_and_keep_the_deciding_type() {
        let decision = Decision {
            outcome: Outcome::ExplicitDeny,
            deciding_policy_type: PolicyType::ResourceBased,
            matched: Vec::new(),
            rule: iamgate_policy::DecidingRule::ExplicitDeny,
            missing: iamgate_policy::PolicyTypes::default(),
        };
        let access = AccessDecision::evaluated(
            &decision,
            "/pets/{petId}",
            Some("arn:aws:iam::111111111111:user/alice".into()),
            Some("AKIAEXAMPLE".into()),
        );
        assert_eq!(access.outcome.as_str(), "explicit_deny");
        assert_eq!(
            access.policy_type.map(PolicyType::short_name),
            Some("resource")
        );
        assert_eq!(access.route.as_deref(), Some("/pets/{petId}"));
        assert_eq!(PolicyType::PermissionsBoundary.short_name(), "boundary");
        assert_eq!(PolicyType::ServiceControl.short_name(), "scp");
        assert_eq!(access.clone().let_through().outcome.as_str(), "would_deny");
    }
}
