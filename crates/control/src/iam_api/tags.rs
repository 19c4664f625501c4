//! Tags of users and roles: Tag*, Untag*, List*Tags.

use iamgate_iam::{RoleRecord, Tag, UserRecord};
use iamgate_wire::AwsError;

use super::entities::{Named, target_with, with_request_tags};
use super::input::{Input, paginate};
use super::storage::{self, Plan, commit};
use super::{render, respond, respond_empty};
use crate::query::Operation;

/// IAM's per-entity tag quota.
const MAX_TAGS: usize = 50;

/// An entity that carries tags.
pub(super) trait Tagged: Named {
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
}

impl Tagged for UserRecord {
    fn tags_mut(&mut self) -> &mut Vec<Tag> {
        &mut self.tags
    }
}

impl Tagged for RoleRecord {
    fn tags_mut(&mut self) -> &mut Vec<Tag> {
        &mut self.tags
    }
}

pub(super) async fn tag<R: Tagged>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let tags = input.tags("Tags", true)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let tags = &tags;
    commit(op, || async move {
        let entity = target_with::<R>(op, action, name, |c| with_request_tags(c, tags)).await?;
        let mut record = entity.record.clone();
        for tag in tags {
            let existing = record.tags_mut().iter_mut().find(|t| t.key == tag.key);
            match existing {
                Some(existing) => existing.value.clone_from(&tag.value),
                None => record.tags_mut().push(tag.clone()),
            }
        }
        if record.tags().len() > MAX_TAGS {
            return Err(AwsError::limit_exceeded(format!(
                "Cannot exceed quota for TagsPer{}: {MAX_TAGS}",
                R::TITLE
            )));
        }
        if record.tags() == entity.record.tags() {
            return Ok(Plan::Unchanged(()));
        }
        let batch = storage::put(
            iamgate_store::WriteBatch::new(),
            &record,
            iamgate_store::Expect::Version(entity.version),
        )?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn untag<R: Tagged>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let keys = input.tag_keys("TagKeys")?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let keys = &keys;
    commit(op, || async move {
        let entity =
            target_with::<R>(op, action, name, |c| c.with_multi_key("aws:TagKeys", keys)).await?;
        let mut record = entity.record.clone();
        record
            .tags_mut()
            .retain(|t| !keys.contains(&t.key.as_str()));
        if record.tags() == entity.record.tags() {
            return Ok(Plan::Unchanged(()));
        }
        let batch = storage::put(
            iamgate_store::WriteBatch::new(),
            &record,
            iamgate_store::Expect::Version(entity.version),
        )?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, action))
}

pub(super) async fn list<R: Tagged>(op: &Operation<'_>, action: &str) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name(R::NAME_PARAM, R::NAME_MAX, true);
    let page = input.page()?;
    input.finish()?;
    let entity = target_with::<R>(op, action, name.unwrap_or_default(), |c| c).await?;
    let tags: Vec<(usize, Tag)> = entity.record.tags().iter().cloned().enumerate().collect();
    let (tags, next) = paginate(tags, &page, |(index, _)| format!("{index:04}"));
    let tags: Vec<Tag> = tags.into_iter().map(|(_, tag)| tag).collect();
    Ok(respond(op, action, |w| {
        render::tags(w, "Tags", &tags);
        render::page_end(w, next.as_deref());
    }))
}
