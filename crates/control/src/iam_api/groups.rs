//! Groups and membership: CreateGroup, GetGroup, ListGroups,
//! ListGroupsForUser, AddUserToGroup, RemoveUserFromGroup, DeleteGroup.
//!
//! Membership is kept on the user record (the world compiles a user's
//! group policies from it); a membership change writes the user and
//! touches the group, so it cannot race a DeleteGroup.

use iamgate_iam::{GroupRecord, IdKind, Record, UserRecord, arns, new_id};
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;

use super::entities::{already_exists, not_found, target};
use super::input::{Input, paginate};
use super::storage::{self, Plan, Stored, commit};
use super::users::random_failure;
use super::{authorize, list_resource, render, respond, respond_empty};
use crate::query::Operation;

/// IAM's quota of groups a user can be in.
const GROUPS_PER_USER: usize = 10;

fn is_member(user: &UserRecord, group: &str) -> bool {
    user.groups.iter().any(|g| g.eq_ignore_ascii_case(group))
}

/// The users of the account in `group`, ordered by key.
async fn members(op: &Operation<'_>, group: &str) -> Result<Vec<Stored<UserRecord>>, AwsError> {
    let users = storage::list::<UserRecord>(op, op.caller.account()).await?;
    Ok(users
        .into_iter()
        .filter(|u| is_member(&u.record, group))
        .collect())
}

pub(super) async fn create(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("GroupName", 128, true);
    let path = input.path("Path");
    input.finish()?;
    let name = name.unwrap_or_default();
    let path = path.unwrap_or("/");
    let account = op.caller.account();
    authorize(
        op,
        "CreateGroup",
        &arns::group_arn(account, path, name),
        |c| c,
    )?;
    let id = new_id(IdKind::Group).map_err(|_| random_failure())?;
    let id = &id;
    let group = commit(op, || async move {
        let record = GroupRecord {
            account: account.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            id: id.clone(),
            created_at: op.now,
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
        };
        let batch = storage::put(WriteBatch::new(), &record, Expect::Absent)?;
        Ok(Plan::create(
            batch,
            already_exists::<GroupRecord>(name),
            record,
        ))
    })
    .await?;
    Ok(respond(op, "CreateGroup", |w| {
        w.nest("Group", |w| render::group(w, &group));
    }))
}

pub(super) async fn get(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("GroupName", 128, true);
    let page = input.page()?;
    input.finish()?;
    let group = target::<GroupRecord>(op, "GetGroup", name.unwrap_or_default()).await?;
    let users: Vec<UserRecord> = members(op, &group.record.name)
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect();
    let (users, next) = paginate(users, &page, |u| u.key());
    Ok(respond(op, "GetGroup", |w| {
        w.nest("Group", |w| render::group(w, &group.record));
        w.list("Users", &users, |w, user| render::user(w, user, false));
        render::page_end(w, next.as_deref());
    }))
}

pub(super) async fn list(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let prefix = input.path_prefix("PathPrefix");
    let page = input.page()?;
    input.finish()?;
    authorize(op, "ListGroups", &list_resource(op, "group", prefix), |c| c)?;
    let groups: Vec<GroupRecord> = storage::list::<GroupRecord>(op, op.caller.account())
        .await?
        .into_iter()
        .map(|s| s.record)
        .filter(|g| prefix.is_none_or(|p| g.path.starts_with(p)))
        .collect();
    let (groups, next) = paginate(groups, &page, |g| g.key());
    Ok(respond(op, "ListGroups", |w| {
        w.list("Groups", &groups, render::group);
        render::page_end(w, next.as_deref());
    }))
}

pub(super) async fn list_for_user(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, true);
    let page = input.page()?;
    input.finish()?;
    let user = target::<UserRecord>(op, "ListGroupsForUser", name.unwrap_or_default()).await?;
    let groups: Vec<GroupRecord> = storage::list::<GroupRecord>(op, op.caller.account())
        .await?
        .into_iter()
        .map(|s| s.record)
        .filter(|g| is_member(&user.record, &g.name))
        .collect();
    let (groups, next) = paginate(groups, &page, |g| g.key());
    Ok(respond(op, "ListGroupsForUser", |w| {
        w.list("Groups", &groups, render::group);
        render::page_end(w, next.as_deref());
    }))
}

fn membership_input<'a>(op: &'a Operation<'_>) -> Result<(&'a str, &'a str), AwsError> {
    let mut input = Input::new(op);
    let group = input.name("GroupName", 128, true);
    let user = input.name("UserName", 128, true);
    input.finish()?;
    Ok((group.unwrap_or_default(), user.unwrap_or_default()))
}

async fn member_user(op: &Operation<'_>, name: &str) -> Result<Stored<UserRecord>, AwsError> {
    storage::get::<UserRecord>(op, op.caller.account(), &name.to_lowercase())
        .await?
        .ok_or_else(|| not_found::<UserRecord>(name))
}

pub(super) async fn add_user(op: &Operation<'_>) -> Result<String, AwsError> {
    let (group_name, user_name) = membership_input(op)?;
    commit(op, || async move {
        let group = target::<GroupRecord>(op, "AddUserToGroup", group_name).await?;
        let user = member_user(op, user_name).await?;
        if is_member(&user.record, &group.record.name) {
            return Ok(Plan::Unchanged(()));
        }
        if user.record.groups.len() >= GROUPS_PER_USER {
            return Err(AwsError::limit_exceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
            )));
        }
        let mut record = user.record.clone();
        record.groups.push(group.record.name.clone());
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(user.version))?;
        let batch = storage::touch(batch, &group)?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "AddUserToGroup"))
}

pub(super) async fn remove_user(op: &Operation<'_>) -> Result<String, AwsError> {
    let (group_name, user_name) = membership_input(op)?;
    commit(op, || async move {
        let group = target::<GroupRecord>(op, "RemoveUserFromGroup", group_name).await?;
        let user = member_user(op, user_name).await?;
        if !is_member(&user.record, &group.record.name) {
            return Err(AwsError::no_such_entity(format!(
                "The user with name {user_name} cannot be found in group {}.",
                group.record.name
            )));
        }
        let mut record = user.record.clone();
        record
            .groups
            .retain(|g| !g.eq_ignore_ascii_case(&group.record.name));
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(user.version))?;
        let batch = storage::touch(batch, &group)?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "RemoveUserFromGroup"))
}

pub(super) async fn delete(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("GroupName", 128, true);
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let group = target::<GroupRecord>(op, "DeleteGroup", name).await?;
        if !members(op, &group.record.name).await?.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must remove users from group first.",
            ));
        }
        if !group.record.attached_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !group.record.inline_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        Ok(Plan::write(storage::delete(WriteBatch::new(), &group), ()))
    })
    .await?;
    Ok(respond_empty(op, "DeleteGroup"))
}
