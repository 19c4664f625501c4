//! IAM over the Query protocol (IAM API Reference).
//!
//! Every operation follows the same steps, in AWS's order: read and check
//! all parameters against the model ([`input`]); authorize `iam:<Operation>`
//! on the target's ARN with the caller's identity policies ([`authorize`]);
//! read what the operation needs from the store; check IAM's rules
//! (existence, quotas, conflicts); write everything in ONE conditional
//! batch ([`storage::commit`]); answer in the model's output shape
//! ([`render`]). Everything acts in the caller's own account: no operation
//! can name another account's users, groups or roles, and other accounts'
//! policies are not found.

mod access_keys;
mod attachments;
mod boundaries;
mod details;
mod entities;
mod groups;
mod inline;
mod input;
mod policies;
mod render;
mod roles;
mod simulate;
mod storage;
mod tags;
mod users;

use iamgate_iam::{Caller, GroupRecord, RoleRecord, UserRecord};
use iamgate_policy::RequestContext;
use iamgate_wire::AwsError;
use iamgate_wire::xml::{self, XmlWriter};

use crate::context::request_context;
use crate::query::{Operation, QueryService};

/// Declares the IAM operations once: the names the Query decoder resolves
/// an `Action` against and the handler each one runs. Before, the 67 names
/// were listed twice (a name list and a `match`), and a name in one list
/// but not the other was only caught at run time.
macro_rules! operations {
    ($op:ident, $action:ident; $($name:literal => $handler:expr,)*) => {
        /// The IAM operations served; any other action is AWS's `InvalidAction`.
        const OPERATIONS: &[&str] = &[$($name),*];

        /// Runs the handler of `$action`, one of [`OPERATIONS`].
        async fn run(
            $op: &Operation<'_>,
            $action: &'static str,
        ) -> Result<String, AwsError> {
            match $action {
                $($name => $handler,)*
                _ => Err(AwsError::invalid_action(
                    $action,
                    QueryService::Iam.version(),
                )),
            }
        }
    };
}

operations! {
    op, action;
    "CreateUser" => users::create(op).await,
    "GetUser" => users::get(op).await,
    "ListUsers" => users::list(op).await,
    "UpdateUser" => users::update(op).await,
    "DeleteUser" => users::delete(op).await,
    "TagUser" => tags::tag::<UserRecord>(op, action).await,
    "UntagUser" => tags::untag::<UserRecord>(op, action).await,
    "ListUserTags" => tags::list::<UserRecord>(op, action).await,
    "CreateGroup" => groups::create(op).await,
    "GetGroup" => groups::get(op).await,
    "ListGroups" => groups::list(op).await,
    "ListGroupsForUser" => groups::list_for_user(op).await,
    "AddUserToGroup" => groups::add_user(op).await,
    "RemoveUserFromGroup" => groups::remove_user(op).await,
    "DeleteGroup" => groups::delete(op).await,
    "CreateRole" => roles::create(op).await,
    "GetRole" => roles::get(op).await,
    "ListRoles" => roles::list(op).await,
    "UpdateRole" => roles::update(op).await,
    "UpdateAssumeRolePolicy" => roles::update_trust(op).await,
    "DeleteRole" => roles::delete(op).await,
    "TagRole" => tags::tag::<RoleRecord>(op, action).await,
    "UntagRole" => tags::untag::<RoleRecord>(op, action).await,
    "ListRoleTags" => tags::list::<RoleRecord>(op, action).await,
    "CreatePolicy" => policies::create(op).await,
    "GetPolicy" => policies::get(op).await,
    "ListPolicies" => policies::list(op).await,
    "DeletePolicy" => policies::delete(op).await,
    "CreatePolicyVersion" => policies::create_version(op).await,
    "GetPolicyVersion" => policies::get_version(op).await,
    "ListPolicyVersions" => policies::list_versions(op).await,
    "SetDefaultPolicyVersion" => policies::set_default_version(op).await,
    "DeletePolicyVersion" => policies::delete_version(op).await,
    "ListEntitiesForPolicy" => policies::list_entities(op).await,
    "AttachUserPolicy" => attachments::attach::<UserRecord>(op, action).await,
    "AttachGroupPolicy" => attachments::attach::<GroupRecord>(op, action).await,
    "AttachRolePolicy" => attachments::attach::<RoleRecord>(op, action).await,
    "DetachUserPolicy" => attachments::detach::<UserRecord>(op, action).await,
    "DetachGroupPolicy" => attachments::detach::<GroupRecord>(op, action).await,
    "DetachRolePolicy" => attachments::detach::<RoleRecord>(op, action).await,
    "ListAttachedUserPolicies" => attachments::list::<UserRecord>(op, action).await,
    "ListAttachedGroupPolicies" => attachments::list::<GroupRecord>(op, action).await,
    "ListAttachedRolePolicies" => attachments::list::<RoleRecord>(op, action).await,
    "PutUserPolicy" => inline::put::<UserRecord>(op, action).await,
    "PutGroupPolicy" => inline::put::<GroupRecord>(op, action).await,
    "PutRolePolicy" => inline::put::<RoleRecord>(op, action).await,
    "GetUserPolicy" => inline::get::<UserRecord>(op, action).await,
    "GetGroupPolicy" => inline::get::<GroupRecord>(op, action).await,
    "GetRolePolicy" => inline::get::<RoleRecord>(op, action).await,
    "DeleteUserPolicy" => inline::delete::<UserRecord>(op, action).await,
    "DeleteGroupPolicy" => inline::delete::<GroupRecord>(op, action).await,
    "DeleteRolePolicy" => inline::delete::<RoleRecord>(op, action).await,
    "ListUserPolicies" => inline::list::<UserRecord>(op, action).await,
    "ListGroupPolicies" => inline::list::<GroupRecord>(op, action).await,
    "ListRolePolicies" => inline::list::<RoleRecord>(op, action).await,
    "PutUserPermissionsBoundary" => boundaries::put::<UserRecord>(op, action).await,
    "PutRolePermissionsBoundary" => boundaries::put::<RoleRecord>(op, action).await,
    "DeleteUserPermissionsBoundary" => boundaries::delete::<UserRecord>(op, action).await,
    "DeleteRolePermissionsBoundary" => boundaries::delete::<RoleRecord>(op, action).await,
    "CreateAccessKey" => access_keys::create(op).await,
    "ListAccessKeys" => access_keys::list(op).await,
    "UpdateAccessKey" => access_keys::update(op).await,
    "DeleteAccessKey" => access_keys::delete(op).await,
    "GetAccessKeyLastUsed" => access_keys::last_used(op).await,
    "SimulatePrincipalPolicy" => simulate::simulate_principal(op).await,
    "SimulateCustomPolicy" => simulate::simulate_custom(op).await,
    "GetAccountAuthorizationDetails" => details::get(op).await,
}

pub(crate) async fn dispatch(op: Operation<'_>) -> Result<String, AwsError> {
    let service = QueryService::Iam;
    // GetSessionToken credentials without MFA may not call IAM (STS API
    // Reference, "GetSessionToken").
    if let Caller::UserSession(session) | Caller::RootSession(session) = &op.caller
        && !session.claims.mfa_authenticated
    {
        return Err(AwsError::invalid_client_token_id(
            "The security token included in the request is invalid",
        ));
    }
    let action = op.params.operation(service.version(), OPERATIONS)?;
    run(&op, action).await
}

/// Authorizes `iam:<action>` on `resource` with the caller's identity
/// policies (IAM has no resource policies besides trust policies); `extra`
/// adds operation-specific context keys. AWS-managed policies live in
/// account `aws` but are used from the caller's own account.
pub(super) fn authorize(
    op: &Operation<'_>,
    action: &str,
    resource: &str,
    extra: impl FnOnce(RequestContext) -> RequestContext,
) -> Result<(), AwsError> {
    let full_action = format!("iam:{action}");
    let mut context = request_context(op, &full_action, Some(resource));
    if resource.starts_with("arn:aws:iam::aws:") {
        context = context.with_resource_account(op.caller.account());
    }
    let context = extra(context);
    op.check("iam")
        .authorize_identity(&context)
        .map_err(AwsError::access_denied)
}

/// `<OpResponse><OpResult>…` for the IAM namespace.
pub(super) fn respond(
    op: &Operation<'_>,
    action: &str,
    result: impl FnOnce(&mut XmlWriter),
) -> String {
    xml::render_response(xml::IAM_NAMESPACE, action, &op.request_id, result)
}

/// The response of an operation without output.
pub(super) fn respond_empty(op: &Operation<'_>, action: &str) -> String {
    xml::render_response_without_result(xml::IAM_NAMESPACE, action, &op.request_id)
}

/// The list-operation resource: `arn:aws:iam::<acct>:<noun><prefix>`.
pub(super) fn list_resource(op: &Operation<'_>, noun: &str, prefix: Option<&str>) -> String {
    format!(
        "arn:aws:iam::{}:{noun}{}",
        op.caller.account(),
        prefix.unwrap_or("/")
    )
}

#[cfg(test)]
mod operation_tests {
    use super::OPERATIONS;

    #[test]
    fn every_iam_operation_is_declared_once() {
        assert_eq!(OPERATIONS.len(), 67);
        let mut names = OPERATIONS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len(), "a name is declared twice");
    }
}
