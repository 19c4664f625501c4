//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser.

use iamgate_iam::{AccessKeyRecord, AccountRecord, Caller, IdKind, UserRecord, arns, new_id};
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::{AwsError, Timestamp};

use super::entities::{already_exists, find_boundary_policy, target, with_request_tags};
use super::input::{Input, paginate};
use super::storage::{self, Plan, Stored, commit};
use super::{authorize, list_resource, render, respond, respond_empty};
use crate::query::Operation;
use iamgate_iam::Record;

pub(super) fn random_failure() -> AwsError {
    AwsError::service_failure("Could not create an identifier.")
}

pub(super) async fn create(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 64, true);
    let path = input.path("Path");
    let boundary = input.policy_arn("PermissionsBoundary", false);
    let tags = input.tags("Tags", false)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let path = path.unwrap_or("/");
    let account = op.caller.account();
    authorize(
        op,
        "CreateUser",
        &arns::user_arn(account, path, name),
        |context| {
            let context = with_request_tags(context, &tags);
            match boundary {
                Some(arn) => context.with_key("iam:PermissionsBoundary", arn),
                None => context,
            }
        },
    )?;
    let id = new_id(IdKind::User).map_err(|_| random_failure())?;
    let (id, tags) = (&id, &tags);
    let user = commit(op, || async move {
        let mut batch = WriteBatch::new();
        if let Some(arn) = boundary {
            let policy = find_boundary_policy(op, arn).await?;
            batch = policy.guard(batch)?;
        }
        let record = UserRecord {
            account: account.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            id: id.clone(),
            created_at: op.now,
            tags: tags.clone(),
            permissions_boundary: boundary.map(str::to_owned),
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
            groups: Vec::new(),
        };
        let batch = storage::put(batch, &record, Expect::Absent)?;
        Ok(Plan::create(
            batch,
            already_exists::<UserRecord>(name),
            record,
        ))
    })
    .await?;
    Ok(respond(op, "CreateUser", |w| {
        w.nest("User", |w| render::user(w, &user, true));
    }))
}

/// Who an operation without `UserName` acts on: the calling user, or the
/// account root (`None`); a role session must name the user.
pub(super) fn calling_user(op: &Operation<'_>) -> Result<Option<String>, AwsError> {
    match &op.caller {
        Caller::Root { .. } | Caller::RootSession(_) => Ok(None),
        Caller::User(user) => Ok(Some(user.record.name.clone())),
        Caller::UserSession(session) => match &session.user {
            Some(user) => Ok(Some(user.record.name.clone())),
            None => Err(AwsError::no_such_entity(
                "The user with name of the calling session cannot be found.",
            )),
        },
        Caller::RoleSession(_) => Err(AwsError::validation_error(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

pub(super) async fn get(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, false);
    input.finish()?;
    let name = match name {
        Some(name) => Some(name.to_owned()),
        None => calling_user(op)?,
    };
    let Some(name) = name else {
        return get_root(op).await;
    };
    let user = target::<UserRecord>(op, "GetUser", &name).await?;
    Ok(respond(op, "GetUser", |w| {
        w.nest("User", |w| render::user(w, &user.record, true));
    }))
}

/// The account root as a `User`: its account id as id, its root ARN.
async fn get_root(op: &Operation<'_>) -> Result<String, AwsError> {
    let account = op.caller.account();
    let arn = arns::root_arn(account);
    authorize(op, "GetUser", &arn, |context| context)?;
    let created = storage::get::<AccountRecord>(op, account, account)
        .await?
        .map_or(op.now, |stored| stored.record.created_at);
    Ok(respond(op, "GetUser", |w| {
        w.nest("User", |w| {
            w.element("UserId", account);
            w.element("Arn", &arn);
            w.timestamp_element("CreateDate", Timestamp::from_epoch_seconds(created));
        });
    }))
}

pub(super) async fn list(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let prefix = input.path_prefix("PathPrefix");
    let page = input.page()?;
    input.finish()?;
    authorize(op, "ListUsers", &list_resource(op, "user", prefix), |c| c)?;
    let users = storage::list::<UserRecord>(op, op.caller.account()).await?;
    let users: Vec<UserRecord> = users
        .into_iter()
        .map(|s| s.record)
        .filter(|u| prefix.is_none_or(|p| u.path.starts_with(p)))
        .collect();
    let (users, next) = paginate(users, &page, |u| u.key());
    Ok(respond(op, "ListUsers", |w| {
        w.list("Users", &users, |w, user| render::user(w, user, false));
        render::page_end(w, next.as_deref());
    }))
}

/// The access keys of `user` (lower-case compared), or of the root (`None`).
pub(super) async fn access_keys_of(
    op: &Operation<'_>,
    user: Option<&str>,
) -> Result<Vec<Stored<AccessKeyRecord>>, AwsError> {
    storage::list_of_user::<AccessKeyRecord>(op, op.caller.account(), user).await
}

pub(super) async fn update(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, true);
    let new_path = input.path("NewPath");
    let new_name = input.name("NewUserName", 64, false);
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let user = target::<UserRecord>(op, "UpdateUser", name).await?;
        let mut record = user.record.clone();
        if let Some(path) = new_path {
            path.clone_into(&mut record.path);
        }
        if let Some(new_name) = new_name {
            new_name.clone_into(&mut record.name);
        }
        if record == user.record {
            return Ok(Plan::Unchanged(()));
        }
        let mut batch = WriteBatch::new();
        if record.key() == user.record.key() {
            batch = storage::put(batch, &record, Expect::Version(user.version))?;
            return Ok(Plan::write(batch, ()));
        }
        // A new name is a new address: the old record goes, the keys follow.
        batch = storage::delete(batch, &user);
        batch = storage::put(batch, &record, Expect::Absent)?;
        for key in access_keys_of(op, Some(name)).await? {
            let mut moved = key.record.clone();
            moved.user = Some(record.name.clone());
            batch = storage::put(batch, &moved, Expect::Version(key.version))?;
        }
        Ok(Plan::create(
            batch,
            already_exists::<UserRecord>(&record.name),
            (),
        ))
    })
    .await?;
    Ok(respond_empty(op, "UpdateUser"))
}

pub(super) async fn delete(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, true);
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let user = target::<UserRecord>(op, "DeleteUser", name).await?;
        if !access_keys_of(op, Some(name)).await?.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        if !user.record.attached_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !user.record.inline_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !user.record.groups.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must remove user from all groups first.",
            ));
        }
        Ok(Plan::write(storage::delete(WriteBatch::new(), &user), ()))
    })
    .await?;
    Ok(respond_empty(op, "DeleteUser"))
}
