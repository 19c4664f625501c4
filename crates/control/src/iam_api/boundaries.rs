//! Permissions boundaries of users and roles:
//! Put/Delete{User,Role}PermissionsBoundary.

use iamgate_iam::{RoleRecord, UserRecord};
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;

use super::entities::{Named, find_boundary_policy, policy_arn, target_with};
use super::input::Input;
use super::respond_empty;
use super::storage::{self, Plan, commit};
use crate::query::Operation;

/// An entity that can have a permissions boundary.
pub(super) trait Bounded: Named {
    fn boundary_mut(&mut self) -> &mut Option<String>;
}

impl Bounded for UserRecord {
    fn boundary_mut(&mut self) -> &mut Option<String> {
        &mut self.permissions_boundary
    }
}

impl Bounded for RoleRecord {
    fn boundary_mut(&mut self) -> &mut Option<String> {
        &mut self.permissions_boundary
    }
}

pub(super) async fn put<R: Bounded>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let arn = input.policy_arn("PermissionsBoundary", true);
    input.finish()?;
    let (name, arn) = (name.unwrap_or_default(), arn.unwrap_or_default());
    commit(op, || async move {
        let entity = target_with::<R>(op, action, name, |c| {
            c.with_key("iam:PermissionsBoundary", arn)
        })
        .await?;
        let policy = find_boundary_policy(op, arn).await?;
        let mut record = entity.record.clone();
        *record.boundary_mut() = Some(policy_arn(policy.record()));
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        let batch = policy.guard(batch)?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn delete<R: Bounded>(
    op: &Operation<'_>,
    action: &str,
) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let entity = target_with::<R>(op, action, name, |c| c).await?;
        let mut record = entity.record.clone();
        if record.boundary_mut().take().is_none() {
            return Ok(Plan::Unchanged(()));
        }
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}
