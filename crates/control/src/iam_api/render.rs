//! The IAM output structures, member order as in the model
//! (`User`, `Group`, `Role`, `Policy`, `PolicyVersion`, …). Policy
//! documents go out URL-encoded, as IAM sends them.

use iamgate_iam::principal_ids::PrincipalIds;
use iamgate_iam::{GroupRecord, ManagedPolicyRecord, RoleRecord, Tag, UserRecord};
use iamgate_wire::Timestamp;
use iamgate_wire::xml::{self, XmlWriter};

use super::entities::{Named, policy_arn};

fn created(w: &mut XmlWriter, name: &str, epoch: i64) {
    w.timestamp_element(name, Timestamp::from_epoch_seconds(epoch));
}

pub(super) fn tags(w: &mut XmlWriter, name: &str, tags: &[Tag]) {
    w.list(name, tags, |w, tag| {
        w.element("Key", &tag.key);
        w.element("Value", &tag.value);
    });
}

fn boundary(w: &mut XmlWriter, arn: Option<&str>) {
    if let Some(arn) = arn {
        w.nest("PermissionsBoundary", |w| {
            w.element("PermissionsBoundaryType", "PermissionsBoundaryPolicy");
            w.element("PermissionsBoundaryArn", arn);
        });
    }
}

/// Members of `User`; `full` adds the boundary and tags (GetUser, CreateUser).
pub(super) fn user(w: &mut XmlWriter, user: &UserRecord, full: bool) {
    w.element("Path", &user.path);
    w.element("UserName", &user.name);
    w.element("UserId", &user.id);
    w.element("Arn", &user.arn());
    created(w, "CreateDate", user.created_at);
    if full {
        boundary(w, user.permissions_boundary.as_deref());
        if !user.tags.is_empty() {
            tags(w, "Tags", &user.tags);
        }
    }
}

/// Members of `Group`.
pub(super) fn group(w: &mut XmlWriter, group: &GroupRecord) {
    w.element("Path", &group.path);
    w.element("GroupName", &group.name);
    w.element("GroupId", &group.id);
    w.element("Arn", &group.arn());
    created(w, "CreateDate", group.created_at);
}

/// Which members of `Role` an operation answers with: AWS leaves out
/// different ones per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleView {
    /// CreateRole: no `MaxSessionDuration` and no `RoleLastUsed` (the
    /// model's CreateRole example).
    Created,
    /// GetRole: every member.
    Full,
    /// ListRoles: no `PermissionsBoundary`, `Tags` or `RoleLastUsed` (the
    /// ListRoles documentation).
    Listed,
}

/// Members of `Role` as `view` shows them. The trust policy is shown with
/// its principals' current ARNs.
pub(super) fn role(
    w: &mut XmlWriter,
    role: &RoleRecord,
    principals: &dyn PrincipalIds,
    view: RoleView,
) {
    w.element("Path", &role.path);
    w.element("RoleName", &role.name);
    w.element("RoleId", &role.id);
    w.element("Arn", &Named::arn(role));
    created(w, "CreateDate", role.created_at);
    w.element(
        "AssumeRolePolicyDocument",
        &xml::encode_policy_document(&principals.to_shown(&role.trust_policy)),
    );
    w.optional_element("Description", role.description.as_deref());
    if view != RoleView::Created {
        w.int_element("MaxSessionDuration", i64::from(role.max_session_duration));
    }
    if view == RoleView::Listed {
        return;
    }
    boundary(w, role.permissions_boundary.as_deref());
    if !role.tags.is_empty() {
        tags(w, "Tags", &role.tags);
    }
    if view == RoleView::Full {
        w.nest("RoleLastUsed", |_| {});
    }
}

/// How often a policy is used in the caller's account.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Usage {
    pub attachments: usize,
    pub boundaries: usize,
}

/// Members of `Policy`.
pub(super) fn policy(w: &mut XmlWriter, policy: &ManagedPolicyRecord, usage: Usage, full: bool) {
    policy_core(w, policy, usage, full);
    if full && !policy.tags.is_empty() {
        tags(w, "Tags", &policy.tags);
    }
}

/// The members `Policy` and `ManagedPolicyDetail` share.
pub(super) fn policy_core(
    w: &mut XmlWriter,
    policy: &ManagedPolicyRecord,
    usage: Usage,
    with_description: bool,
) {
    w.element("PolicyName", &policy.name);
    w.element("PolicyId", &policy.id);
    w.element("Arn", &policy_arn(policy));
    w.element("Path", &policy.path);
    w.element("DefaultVersionId", &policy.default_version_id);
    w.int_element(
        "AttachmentCount",
        i64::try_from(usage.attachments).unwrap_or(i64::MAX),
    );
    w.int_element(
        "PermissionsBoundaryUsageCount",
        i64::try_from(usage.boundaries).unwrap_or(i64::MAX),
    );
    w.bool_element("IsAttachable", true);
    if with_description {
        w.optional_element("Description", policy.description.as_deref());
    }
    created(w, "CreateDate", policy.created_at);
    let updated = policy
        .versions
        .iter()
        .find(|v| v.version_id == policy.default_version_id)
        .map_or(policy.created_at, |v| v.created_at);
    created(w, "UpdateDate", updated);
}

/// Members of `PolicyVersion`; the document only when asked for.
pub(super) fn policy_version(
    w: &mut XmlWriter,
    policy: &ManagedPolicyRecord,
    version: &iamgate_iam::PolicyVersionRecord,
    with_document: bool,
) {
    if with_document {
        w.element("Document", &xml::encode_policy_document(&version.document));
    }
    w.element("VersionId", &version.version_id);
    w.bool_element(
        "IsDefaultVersion",
        version.version_id == policy.default_version_id,
    );
    created(w, "CreateDate", version.created_at);
}

/// `IsTruncated` and, when truncated, `Marker`.
pub(super) fn page_end(w: &mut XmlWriter, next: Option<&str>) {
    w.bool_element("IsTruncated", next.is_some());
    w.optional_element("Marker", next);
}
