//! Inline policies of users, groups and roles: Put/Get/Delete*Policy and
//! List*Policies. Documents are validated as inline identity policies and
//! the owner's inline policies together must stay within its aggregate
//! quota (IAM User Guide, "IAM and AWS STS quotas").

use iamgate_policy::PolicyKind;
use iamgate_policy::document::policy_size;
use iamgate_policy::validate::inline_quota_error;
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;
use iamgate_wire::xml::encode_policy_document;

use super::entities::{Named, check_document, target_with};
use super::input::{Input, paginate};
use super::storage::{self, Plan, commit};
use super::{render, respond, respond_empty};
use crate::query::Operation;

/// `The user policy with name <p> cannot be found.`
fn inline_not_found<R: Named>(policy: &str) -> AwsError {
    AwsError::no_such_entity(format!(
        "The {} policy with name {policy} cannot be found.",
        R::NOUN
    ))
}

fn read<'a, R: Named>(op: &'a Operation<'_>) -> Result<(&'a str, &'a str), AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let policy = input.name("PolicyName", 128, true);
    input.finish()?;
    Ok((name.unwrap_or_default(), policy.unwrap_or_default()))
}

pub(super) async fn put<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let policy = input.name("PolicyName", 128, true);
    let document = input.document("PolicyDocument");
    input.finish()?;
    let (name, policy, document) = (
        name.unwrap_or_default(),
        policy.unwrap_or_default(),
        document.unwrap_or_default(),
    );
    commit(op, || async move {
        let entity = target_with::<R>(op, action, name, |c| c).await?;
        check_document(document, PolicyKind::InlineIdentity)?;
        let mut sizes: Vec<usize> = entity
            .record
            .inline()
            .iter()
            .filter(|(existing, _)| existing.as_str() != policy)
            .map(|(_, text)| policy_size(text))
            .collect();
        sizes.push(policy_size(document));
        if let Some(error) = inline_quota_error(R::INLINE_OWNER, entity.record.name(), &sizes) {
            return Err(AwsError::limit_exceeded(error.message));
        }
        if entity.record.inline().get(policy).map(String::as_str) == Some(document) {
            return Ok(Plan::Unchanged(()));
        }
        let mut record = entity.record.clone();
        record
            .inline_mut()
            .insert(policy.to_owned(), document.to_owned());
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn get<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let (name, policy) = read::<R>(op)?;
    let entity = target_with::<R>(op, action, name, |c| c).await?;
    let document = entity
        .record
        .inline()
        .get(policy)
        .ok_or_else(|| inline_not_found::<R>(policy))?;
    Ok(respond(op, action, |w| {
        w.element(&format!("{}Name", R::TITLE), entity.record.name());
        w.element("PolicyName", policy);
        w.element("PolicyDocument", &encode_policy_document(document));
    }))
}

pub(super) async fn delete<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let (name, policy) = read::<R>(op)?;
    commit(op, || async move {
        let entity = target_with::<R>(op, action, name, |c| c).await?;
        let mut record = entity.record.clone();
        if record.inline_mut().remove(policy).is_none() {
            return Err(inline_not_found::<R>(policy));
        }
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(entity.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn list<R: Named>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let page = input.page()?;
    input.finish()?;
    let entity = target_with::<R>(op, action, name.unwrap_or_default(), |c| c).await?;
    let names: Vec<String> = entity.record.inline().keys().cloned().collect();
    let (names, next) = paginate(names, &page, Clone::clone);
    Ok(respond(op, action, |w| {
        w.string_list("PolicyNames", names.iter().map(String::as_str));
        render::page_end(w, next.as_deref());
    }))
}
