//! The one place a control-plane call is authorized: evaluate, file the
//! decision record under the request id the client gets back, and word
//! the denial as AWS does.

use iamgate_decisions::{DecisionRecord, Filing, evaluate};
use iamgate_iam::{Caller, World};
use iamgate_policy::{CompiledPolicies, RequestContext, ResourcePolicyKind};

use crate::plane::ControlPlane;

/// Who asks, where the record is filed, and what the call is checked
/// against.
pub(crate) struct Check<'a> {
    pub plane: &'a ControlPlane,
    pub world: &'a World,
    pub caller: &'a Caller,
    pub request_id: &'a str,
    pub now: i64,
    /// `iam`, `sts` or `apigateway`.
    pub service: &'static str,
}

impl Check<'_> {
    /// Authorizes `context` (its action on its resource) against the
    /// caller's policies and `resource` (a trust policy, or none); the
    /// denial's message is AWS's. Either way one record is filed.
    pub(crate) fn authorize(
        &self,
        context: &RequestContext,
        resource: Option<&CompiledPolicies>,
        resource_kind: ResourcePolicyKind,
    ) -> Result<(), String> {
        let evaluation = evaluate(
            self.world,
            self.caller,
            context,
            resource,
            resource_kind,
            Filing {
                request_id: self.request_id,
                time: self.now,
                service: self.service,
            },
        );
        let mut record = evaluation.record;
        let resource_name = context.resource.as_deref().unwrap_or("*");
        let outcome = if evaluation.decision.is_allowed() {
            Ok(())
        } else {
            let caller = self.caller.arn();
            let action = &context.action;
            let message = evaluation
                .decision
                .denial_message(&caller, action, resource_name)
                .unwrap_or_else(|| {
                    format!(
                        "User: {caller} is not authorized to perform: {action} on resource: {resource_name}"
                    )
                });
            record.message = Some(message.clone());
            Err(message)
        };
        self.plane.decisions().record(record);
        outcome
    }

    /// [`Check::authorize`] with the caller's policies alone (IAM and API
    /// Gateway have no resource policies on their control planes).
    pub(crate) fn authorize_identity(&self, context: &RequestContext) -> Result<(), String> {
        self.authorize(context, None, ResourcePolicyKind::ResourceBased)
    }

    /// Files a decision taken without evaluating policies (`word`, and
    /// why in `message`).
    pub(crate) fn record_unevaluated(&self, word: &str, action: &str, message: &str) {
        let mut record =
            DecisionRecord::bare(self.request_id, self.now, self.service, word, action);
        record.principal = Some(self.caller.arn());
        record.caller =
            iamgate_decisions::CallerRecord::of(&self.caller.principal_identity(), None);
        record.message = Some(message.to_owned());
        self.plane.decisions().record(record);
    }
}
