//! Long-term access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey,
//! DeleteAccessKey, GetAccessKeyLastUsed.
//!
//! The secret is shown once, in the CreateAccessKey response, and stored
//! only sealed to its key id. Without `UserName` the operations act on the
//! calling user (or the account root's own keys); a role session must name
//! the user. A key write touches its user, so a key cannot be created for a
//! user that is being deleted.

use iamgate_iam::{
    AccessKeyRecord, AccessKeyStatus, IdKind, SecretText, UserRecord, arns, new_id,
    new_secret_access_key,
};
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::{AwsError, Timestamp};

use super::entities::target;
use super::input::{Input, paginate};
use super::storage::{self, Plan, Stored, commit};
use super::users::{access_keys_of, calling_user, random_failure};
use super::{authorize, render, respond, respond_empty};
use crate::query::Operation;

/// IAM's quota of access keys per user.
const KEYS_PER_USER: usize = 2;

/// Whose keys an operation is about: a user, or the account root.
enum Owner {
    User(Box<Stored<UserRecord>>),
    Root,
}

impl Owner {
    fn user_name(&self) -> Option<&str> {
        match self {
            Owner::User(user) => Some(&user.record.name),
            Owner::Root => None,
        }
    }
}

/// The owner named by `UserName`, or the caller; authorized for `action`.
async fn owner(op: &Operation<'_>, action: &str, name: Option<&str>) -> Result<Owner, AwsError> {
    let name = match name {
        Some(name) => Some(name.to_owned()),
        None => calling_user(op)?,
    };
    match name {
        Some(name) => Ok(Owner::User(Box::new(
            target::<UserRecord>(op, action, &name).await?,
        ))),
        None => {
            authorize(op, action, &arns::root_arn(op.caller.account()), |c| c)?;
            Ok(Owner::Root)
        }
    }
}

fn key_not_found(id: &str) -> AwsError {
    AwsError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

fn status_text(status: AccessKeyStatus) -> &'static str {
    match status {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

pub(super) async fn create(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, false);
    input.finish()?;
    let id = new_id(IdKind::LongTermAccessKey).map_err(|_| random_failure())?;
    let secret = new_secret_access_key().map_err(|_| random_failure())?;
    let sealed = op
        .plane
        .cipher
        .seal_for(&id, &secret)
        .map_err(|_| AwsError::service_failure("Could not store the access key."))?;
    let (id_ref, sealed) = (&id, &sealed);
    let record = commit(op, || async move {
        let owner = owner(op, "CreateAccessKey", name).await?;
        let existing = access_keys_of(op, owner.user_name()).await?;
        if existing.len() >= KEYS_PER_USER {
            return Err(AwsError::limit_exceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
            )));
        }
        let record = AccessKeyRecord {
            id: id_ref.clone(),
            account: op.caller.account().to_owned(),
            user: owner.user_name().map(str::to_owned),
            secret: SecretText::new(sealed.clone()),
            status: AccessKeyStatus::Active,
            created_at: op.now,
        };
        let mut batch = storage::put(WriteBatch::new(), &record, Expect::Absent)?;
        if let Owner::User(user) = &owner {
            batch = storage::touch(batch, &**user)?;
        }
        let taken = AwsError::service_failure("Could not create an identifier.");
        Ok(Plan::create(batch, taken, record))
    })
    .await?;
    Ok(respond(op, "CreateAccessKey", |w| {
        w.nest("AccessKey", |w| {
            w.optional_element("UserName", record.user.as_deref());
            w.element("AccessKeyId", &record.id);
            w.element("Status", status_text(record.status));
            w.element("SecretAccessKey", &secret);
            w.timestamp_element(
                "CreateDate",
                Timestamp::from_epoch_seconds(record.created_at),
            );
        });
    }))
}

pub(super) async fn list(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, false);
    let page = input.page()?;
    input.finish()?;
    let owner = owner(op, "ListAccessKeys", name).await?;
    let keys: Vec<AccessKeyRecord> = access_keys_of(op, owner.user_name())
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect();
    let (keys, next) = paginate(keys, &page, |k| k.id.clone());
    Ok(respond(op, "ListAccessKeys", |w| {
        w.list("AccessKeyMetadata", &keys, |w, key| {
            w.optional_element("UserName", key.user.as_deref());
            w.element("AccessKeyId", &key.id);
            w.element("Status", status_text(key.status));
            w.timestamp_element("CreateDate", Timestamp::from_epoch_seconds(key.created_at));
        });
        render::page_end(w, next.as_deref());
    }))
}

/// The key `id` of the owner, with the owner.
async fn owned_key(
    op: &Operation<'_>,
    action: &str,
    name: Option<&str>,
    id: &str,
) -> Result<(Owner, Stored<AccessKeyRecord>), AwsError> {
    let owner = owner(op, action, name).await?;
    let key = storage::get::<AccessKeyRecord>(op, op.caller.account(), id)
        .await?
        .filter(|key| match (&key.record.user, owner.user_name()) {
            (Some(user), Some(name)) => user.eq_ignore_ascii_case(name),
            (None, None) => true,
            _ => false,
        })
        .ok_or_else(|| key_not_found(id))?;
    Ok((owner, key))
}

pub(super) async fn update(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, false);
    let id = input.access_key_id("AccessKeyId");
    let status = input.enumeration("Status", &["Active", "Inactive", "Expired"], true);
    input.finish()?;
    let id = id.unwrap_or_default();
    let status = match status {
        Some("Active") => AccessKeyStatus::Active,
        Some("Inactive") => AccessKeyStatus::Inactive,
        _ => {
            return Err(AwsError::invalid_input(
                "Access key status can only be set to Active or Inactive.",
            ));
        }
    };
    commit(op, || async move {
        let (_, key) = owned_key(op, "UpdateAccessKey", name, id).await?;
        if key.record.status == status {
            return Ok(Plan::Unchanged(()));
        }
        let mut record = key.record.clone();
        record.status = status;
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(key.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "UpdateAccessKey"))
}

pub(super) async fn delete(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("UserName", 128, false);
    let id = input.access_key_id("AccessKeyId");
    input.finish()?;
    let id = id.unwrap_or_default();
    commit(op, || async move {
        let (_, key) = owned_key(op, "DeleteAccessKey", name, id).await?;
        Ok(Plan::write(storage::delete(WriteBatch::new(), &key), ()))
    })
    .await?;
    Ok(respond_empty(op, "DeleteAccessKey"))
}

pub(super) async fn last_used(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let id = input.access_key_id("AccessKeyId");
    input.finish()?;
    let id = id.unwrap_or_default();
    let account = op.caller.account();
    let key = storage::get::<AccessKeyRecord>(op, account, id).await?;
    let resource = match key.as_ref().and_then(|k| k.record.user.as_deref()) {
        Some(user) => {
            let path = storage::get::<UserRecord>(op, account, &user.to_lowercase())
                .await?
                .map_or_else(|| "/".to_owned(), |u| u.record.path);
            arns::user_arn(account, &path, user)
        }
        None => arns::root_arn(account),
    };
    authorize(op, "GetAccessKeyLastUsed", &resource, |c| c)?;
    let key = key.ok_or_else(|| key_not_found(id))?;
    Ok(respond(op, "GetAccessKeyLastUsed", |w| {
        w.optional_element("UserName", key.record.user.as_deref());
        w.nest("AccessKeyLastUsed", |w| {
            w.element("ServiceName", "N/A");
            w.element("Region", "N/A");
        });
    }))
}
