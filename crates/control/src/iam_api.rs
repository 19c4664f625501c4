//! IAM over the Query protocol (sts-iam-api §9–§11).

use iamgate_wire::AwsError;

use crate::query::{Operation, QueryService};

/// The IAM operations served so far; any other action is AWS's `InvalidAction`.
const OPERATIONS: &[&str] = &[];

pub(crate) async fn dispatch(op: Operation<'_>) -> Result<String, AwsError> {
    let service = QueryService::Iam;
    let action = op.params.operation(service.version(), OPERATIONS)?;
    Err(AwsError::invalid_action(action, service.version()))
}
