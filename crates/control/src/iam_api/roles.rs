//! Roles: CreateRole, GetRole, ListRoles, UpdateRole,
//! UpdateAssumeRolePolicy, DeleteRole. Trust policies are validated as
//! trust policies (a principal is required, 2048-character quota).

use iamgate_iam::{IdKind, Record, RoleRecord, arns, new_id};
use iamgate_policy::PolicyKind;
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;

use super::entities::{
    already_exists, check_document, find_boundary_policy, target, with_request_tags,
};
use super::input::{Input, paginate};
use super::render::RoleView;
use super::storage::{self, Plan, commit};
use super::users::random_failure;
use super::{authorize, list_resource, render, respond, respond_empty};
use crate::query::Operation;

const DEFAULT_MAX_SESSION_DURATION: u32 = 3_600;

pub(super) async fn create(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("RoleName", 64, true);
    let path = input.path("Path");
    let trust = input.document("AssumeRolePolicyDocument");
    let description = input.role_description("Description");
    let max_session = input.integer("MaxSessionDuration", 3_600, 43_200)?;
    let boundary = input.policy_arn("PermissionsBoundary", false);
    let tags = input.tags("Tags", false)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let path = path.unwrap_or("/");
    let trust = trust.unwrap_or_default();
    let account = op.caller.account();
    authorize(
        op,
        "CreateRole",
        &arns::role_arn(account, path, name),
        |context| {
            let context = with_request_tags(context, &tags);
            match boundary {
                Some(arn) => context.with_key("iam:PermissionsBoundary", arn),
                None => context,
            }
        },
    )?;
    check_document(trust, PolicyKind::RoleTrust)?;
    let trust = &stored_trust_policy(op, trust)?;
    let max_session = max_session
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(DEFAULT_MAX_SESSION_DURATION);
    let id = new_id(IdKind::Role).map_err(|_| random_failure())?;
    let (id, tags) = (&id, &tags);
    let role = commit(op, || async move {
        let mut batch = WriteBatch::new();
        if let Some(arn) = boundary {
            let policy = find_boundary_policy(op, arn).await?;
            batch = policy.guard(batch)?;
        }
        let record = RoleRecord {
            account: account.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            id: id.clone(),
            created_at: op.now,
            trust_policy: trust.to_owned(),
            description: description.map(str::to_owned),
            max_session_duration: max_session,
            permissions_boundary: boundary.map(str::to_owned),
            tags: tags.clone(),
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
        };
        let batch = storage::put(batch, &record, Expect::Absent)?;
        Ok(Plan::create(
            batch,
            already_exists::<RoleRecord>(name),
            record,
        ))
    })
    .await?;
    Ok(respond(op, "CreateRole", |w| {
        w.nest("Role", |w| {
            render::role(w, &role, op.world.principals(), RoleView::Created)
        });
    }))
}

pub(super) async fn get(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("RoleName", 64, true);
    input.finish()?;
    let role = target::<RoleRecord>(op, "GetRole", name.unwrap_or_default()).await?;
    Ok(respond(op, "GetRole", |w| {
        w.nest("Role", |w| {
            render::role(w, &role.record, op.world.principals(), RoleView::Full)
        });
    }))
}

pub(super) async fn list(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let prefix = input.path_prefix("PathPrefix");
    let page = input.page()?;
    input.finish()?;
    authorize(op, "ListRoles", &list_resource(op, "role", prefix), |c| c)?;
    let roles: Vec<RoleRecord> = storage::list::<RoleRecord>(op, op.caller.account())
        .await?
        .into_iter()
        .map(|s| s.record)
        .filter(|r| prefix.is_none_or(|p| r.path.starts_with(p)))
        .collect();
    let (roles, next) = paginate(roles, &page, |r| r.key());
    Ok(respond(op, "ListRoles", |w| {
        w.list("Roles", &roles, |w, role| {
            render::role(w, role, op.world.principals(), RoleView::Listed)
        });
        render::page_end(w, next.as_deref());
    }))
}

pub(super) async fn update(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("RoleName", 64, true);
    let description = input.role_description("Description");
    let max_session = input.integer("MaxSessionDuration", 3_600, 43_200)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let role = target::<RoleRecord>(op, "UpdateRole", name).await?;
        let mut record = role.record.clone();
        if let Some(text) = description {
            record.description = Some(text.to_owned());
        }
        if let Some(seconds) = max_session.and_then(|s| u32::try_from(s).ok()) {
            record.max_session_duration = seconds;
        }
        if record == role.record {
            return Ok(Plan::Unchanged(()));
        }
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(role.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    // UpdateRole has an (empty) result structure.
    Ok(respond(op, "UpdateRole", |_| {}))
}

pub(super) async fn update_trust(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("RoleName", 64, true);
    let document = input.document("PolicyDocument");
    input.finish()?;
    let name = name.unwrap_or_default();
    let document = document.unwrap_or_default();
    commit(op, || async move {
        let role = target::<RoleRecord>(op, "UpdateAssumeRolePolicy", name).await?;
        check_document(document, PolicyKind::RoleTrust)?;
        let mut record = role.record.clone();
        record.trust_policy = stored_trust_policy(op, document)?;
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(role.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "UpdateAssumeRolePolicy"))
}

/// The trust policy as IAM keeps it: user and role principals by unique id.
fn stored_trust_policy(op: &Operation<'_>, document: &str) -> Result<String, AwsError> {
    op.world
        .principals()
        .to_stored(document)
        .map_err(|invalid| AwsError::malformed_policy_document(invalid.to_string()))
}

pub(super) async fn delete(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("RoleName", 64, true);
    input.finish()?;
    let name = name.unwrap_or_default();
    commit(op, || async move {
        let role = target::<RoleRecord>(op, "DeleteRole", name).await?;
        if !role.record.attached_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !role.record.inline_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        Ok(Plan::write(storage::delete(WriteBatch::new(), &role), ()))
    })
    .await?;
    Ok(respond_empty(op, "DeleteRole"))
}
