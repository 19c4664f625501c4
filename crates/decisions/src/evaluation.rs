//! One evaluation of a caller's request with its record: the policies
//! [`World::with_evaluation_input`] gathers, kept in view so the record can
//! name every policy considered and the condition keys read.

use iamgate_iam::{Caller, World};
use iamgate_policy::{
    CompiledPolicies, Decision, EvaluationInput, RequestContext, ResourcePolicyKind,
};

use crate::record::DecisionRecord;

/// A decision and its record (the record's message is the caller's to set:
/// each surface words its denials its own way).
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub decision: Decision,
    pub record: DecisionRecord,
}

/// Where a record is filed.
#[derive(Debug, Clone, Copy)]
pub struct Filing<'a> {
    pub request_id: &'a str,
    pub time: i64,
    pub service: &'static str,
}

/// Evaluates `request` by `caller` against `world` and the resource's
/// policy (an API's resource policy, a role's trust policy), and records it.
pub fn evaluate(
    world: &World,
    caller: &Caller,
    request: &RequestContext,
    resource: Option<&CompiledPolicies>,
    resource_kind: ResourcePolicyKind,
    filing: Filing<'_>,
) -> Evaluation {
    world.with_evaluation_input(caller, request, resource, resource_kind, |input| {
        evaluate_input(input, filing)
    })
}

/// Evaluates `input` and records it.
pub fn evaluate_input(input: &EvaluationInput<'_>, filing: Filing<'_>) -> Evaluation {
    let decision = iamgate_policy::evaluate(input);
    let record = DecisionRecord::evaluated(
        filing.request_id,
        filing.time,
        filing.service,
        input,
        &decision,
    );
    Evaluation { decision, record }
}
