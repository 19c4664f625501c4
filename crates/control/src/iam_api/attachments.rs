//! Managed-policy attachments of users, groups and roles:
//! Attach*Policy, Detach*Policy, ListAttached*Policies.
//!
//! Attachments are stored as the policy's canonical ARN (the world looks
//! policies up by exact ARN). Attaching touches a customer-managed policy,
//! so that a concurrent DeletePolicy cannot leave a dangling attachment.

use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;

use super::entities::{
    Named, find_attachable_policy, parse_policy_arn, policy_arn, policy_not_found, target_with,
};
use super::input::{Input, paginate};
use super::storage::{self, Plan, commit};
use super::{render, respond, respond_empty};
use crate::query::Operation;

/// Managed policies attached per user, group or role (default quota).
const ATTACHED_PER_ENTITY: usize = 10;

fn read<'a>(
    op: &'a Operation<'_>,
    name_param: &str,
    name_max: usize,
) -> Result<(&'a str, &'a str), AwsError> {
    let mut input = Input::new(op);
    let name = input.name(name_param, name_max, true);
    let arn = input.policy_arn("PolicyArn", true);
    input.finish()?;
    Ok((name.unwrap_or_default(), arn.unwrap_or_default()))
}

pub(super) async fn attach<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let (name, arn) = read(op, R::NAME_PARAM, R::NAME_MAX)?;
    commit(op, || async move {
        let entity =
            target_with::<R>(op, action, name, |c| c.with_key("iam:PolicyARN", arn)).await?;
        let policy = find_attachable_policy(op, arn).await?;
        let canonical = policy_arn(policy.record());
        if entity.record.attached().contains(&canonical) {
            return Ok(Plan::Unchanged(()));
        }
        if entity.record.attached().len() >= ATTACHED_PER_ENTITY {
            return Err(AwsError::limit_exceeded(format!(
                "Cannot exceed quota for PoliciesPer{}: {ATTACHED_PER_ENTITY}",
                R::TITLE
            )));
        }
        let mut record = entity.record.clone();
        record.attached_mut().push(canonical);
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        let batch = policy.guard(batch)?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn detach<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let (name, arn) = read(op, R::NAME_PARAM, R::NAME_MAX)?;
    commit(op, || async move {
        let entity =
            target_with::<R>(op, action, name, |c| c.with_key("iam:PolicyARN", arn)).await?;
        if !entity.record.attached().iter().any(|a| a == arn) {
            return Err(policy_not_found(arn));
        }
        let mut record = entity.record.clone();
        record.attached_mut().retain(|a| a != arn);
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn list<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let prefix = input.policy_path_prefix("PathPrefix");
    let page = input.page()?;
    input.finish()?;
    let entity = target_with::<R>(op, action, name.unwrap_or_default(), |c| c).await?;
    let attached: Vec<(usize, String, String)> = entity
        .record
        .attached()
        .iter()
        .enumerate()
        .filter_map(|(index, arn)| {
            let (_, path, name) = parse_policy_arn(arn)?;
            prefix
                .is_none_or(|p| path.starts_with(p))
                .then(|| (index, name.to_owned(), arn.clone()))
        })
        .collect();
    let (attached, next) = paginate(attached, &page, |(index, _, _)| format!("{index:04}"));
    Ok(respond(op, action, |w| {
        w.list("AttachedPolicies", &attached, |w, (_, name, arn)| {
            w.element("PolicyName", name);
            w.element("PolicyArn", arn);
        });
        render::page_end(w, next.as_deref());
    }))
}
