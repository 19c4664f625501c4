//! The request context of a control-plane call: the caller's principal keys
//! plus the global condition keys every AWS request carries
//! (sts-iam-api §8, iam-policy §6.6).

use iamgate_iam::Caller;
use iamgate_policy::RequestContext;

use crate::query::Operation;

/// `aws:CurrentTime` form: ISO 8601 UTC with seconds.
fn iso8601(epoch: i64) -> String {
    iamgate_wire::Timestamp::from_epoch_seconds(epoch).to_iso8601()
}

/// The context for `action` on `resource` by the operation's caller.
pub fn request_context(op: &Operation<'_>, action: &str, resource: Option<&str>) -> RequestContext {
    let mut context = RequestContext::new(op.caller.principal_identity(), action, resource)
        .with_key("aws:CurrentTime", &iso8601(op.now))
        .with_key("aws:EpochTime", &op.now.to_string())
        .with_key(
            "aws:SecureTransport",
            if op.request.secure { "true" } else { "false" },
        )
        .with_key("aws:RequestedRegion", &op.region);
    if let Some(ip) = op.request.source_ip {
        context = context.with_key("aws:SourceIp", &ip.to_string());
    }
    if let Some(agent) = op.request.header("user-agent") {
        context = context.with_key("aws:UserAgent", agent);
    }
    session_keys(&op.caller, context)
}

/// Keys only temporary credentials carry.
fn session_keys(caller: &Caller, mut context: RequestContext) -> RequestContext {
    if let Some(session) = caller.session() {
        let claims = &session.claims;
        context = context
            .with_key("aws:TokenIssueTime", &iso8601(claims.issued_at))
            .with_key(
                "aws:MultiFactorAuthPresent",
                if claims.mfa_authenticated {
                    "true"
                } else {
                    "false"
                },
            );
        if let Some(source) = &claims.source_identity {
            context = context.with_key("aws:SourceIdentity", source);
        }
    }
    context
}
