//! The request context of a control-plane call: the caller's principal keys
//! plus the global condition keys every AWS request carries
//! (sts-iam-api §8, iam-policy §6.6).

use iamgate_iam::request_context::{RequestFacts, request_context as build};
use iamgate_policy::RequestContext;

use crate::query::Operation;

/// The context for `action` on `resource` by the operation's caller.
pub fn request_context(op: &Operation<'_>, action: &str, resource: Option<&str>) -> RequestContext {
    let facts = RequestFacts {
        now: op.now,
        source_ip: op.request.source_ip,
        // The control planes are served on the public listener only.
        vpc_endpoint: None,
        secure: op.request.secure,
        user_agent: op.request.header("user-agent"),
        referer: None,
        region: Some(&op.region),
    };
    build(Some(&op.caller), action, resource, &facts)
}
