//! The request context of a control-plane call: the caller's principal keys
//! plus the global condition keys every AWS request carries
//! (IAM User Guide, "AWS global condition context keys").

use iamgate_iam::request_context::{RequestFacts, request_context as build};
use iamgate_policy::RequestContext;

use iamgate_iam::Caller;

use crate::http::Request;
use crate::query::Operation;

/// The context for `action` on `resource` by the operation's caller.
pub fn request_context(op: &Operation<'_>, action: &str, resource: Option<&str>) -> RequestContext {
    call_context(&op.caller, op.request, &op.region, op.now, action, resource)
}

/// The context for `action` on `resource` by `caller`, who sent `request`
/// signed for `region` at `now` — any control-plane call.
pub(crate) fn call_context(
    caller: &Caller,
    request: &Request,
    region: &str,
    now: i64,
    action: &str,
    resource: Option<&str>,
) -> RequestContext {
    let facts = RequestFacts {
        now,
        source_ip: request.source_ip,
        // The control planes are served on the public listener only.
        vpc_endpoint: None,
        secure: request.secure,
        user_agent: request.header("user-agent"),
        referer: None,
        region: Some(region),
        via_domain_arn: None,
    };
    build(Some(caller), action, resource, &facts)
}
