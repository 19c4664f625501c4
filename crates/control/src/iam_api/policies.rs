//! Managed policies and their versions: CreatePolicy, GetPolicy,
//! ListPolicies, DeletePolicy, Create/Get/List/SetDefault/DeletePolicyVersion,
//! ListEntitiesForPolicy.
//!
//! AWS-managed policies (`arn:aws:iam::aws:policy/…`) exist in every
//! account and can be read and attached, never changed. Attachment counts
//! are per caller account, computed from its users, groups and roles.

use std::collections::HashMap;

use iamgate_iam::{
    GroupRecord, IdKind, ManagedPolicyRecord, PolicyVersionRecord, Record, RoleRecord, UserRecord,
    arns, new_id,
};
use iamgate_policy::PolicyKind;
use iamgate_store::{Expect, WriteBatch};
use iamgate_wire::AwsError;

use super::entities::{PolicyRef, check_document, find_policy, policy_arn, policy_not_found};
use super::input::{Input, paginate};
use super::render::{self, Usage};
use super::storage::{self, Plan, Stored, commit};
use super::users::random_failure;
use super::{authorize, list_resource, respond, respond_empty};
use crate::query::Operation;

/// Versions a managed policy may have.
const MAX_VERSIONS: usize = 5;

/// Every user, group and role of the caller's account.
struct AccountEntities {
    users: Vec<UserRecord>,
    groups: Vec<GroupRecord>,
    roles: Vec<RoleRecord>,
}

impl AccountEntities {
    fn records<R>(list: Vec<Stored<R>>) -> Vec<R> {
        list.into_iter().map(|s| s.record).collect()
    }

    async fn load(op: &Operation<'_>) -> Result<Self, AwsError> {
        let account = op.caller.account();
        Ok(Self {
            users: Self::records(storage::list::<UserRecord>(op, account).await?),
            groups: Self::records(storage::list::<GroupRecord>(op, account).await?),
            roles: Self::records(storage::list::<RoleRecord>(op, account).await?),
        })
    }

    /// Attachments and boundary uses per policy ARN.
    fn usage(&self) -> HashMap<&str, Usage> {
        let mut usage: HashMap<&str, Usage> = HashMap::new();
        let attached = self
            .users
            .iter()
            .flat_map(|u| &u.attached_policies)
            .chain(self.groups.iter().flat_map(|g| &g.attached_policies))
            .chain(self.roles.iter().flat_map(|r| &r.attached_policies));
        for arn in attached {
            usage.entry(arn).or_default().attachments += 1;
        }
        let boundaries = self
            .users
            .iter()
            .filter_map(|u| u.permissions_boundary.as_deref())
            .chain(
                self.roles
                    .iter()
                    .filter_map(|r| r.permissions_boundary.as_deref()),
            );
        for arn in boundaries {
            usage.entry(arn).or_default().boundaries += 1;
        }
        usage
    }
}

fn aws_managed(arn: &str) -> AwsError {
    AwsError::unmodifiable_entity(format!(
        "Policy {arn} is an AWS managed policy and cannot be modified."
    ))
}

fn read_arn<'a>(input: &mut Input<'a>) -> Option<&'a str> {
    input.policy_arn("PolicyArn", true)
}

/// The policy `arn` after authorizing `action` on it; `NoSuchEntity` if
/// the caller's account cannot see it.
async fn target_policy(op: &Operation<'_>, action: &str, arn: &str) -> Result<PolicyRef, AwsError> {
    authorize(op, action, arn, |c| c)?;
    find_policy(op, arn)
        .await?
        .ok_or_else(|| policy_not_found(arn))
}

/// A customer-managed policy `arn` to change.
async fn target_local(
    op: &Operation<'_>,
    action: &str,
    arn: &str,
) -> Result<Stored<ManagedPolicyRecord>, AwsError> {
    match target_policy(op, action, arn).await? {
        PolicyRef::Aws(_) => Err(aws_managed(arn)),
        PolicyRef::Local(stored) => Ok(stored),
    }
}

pub(super) async fn create(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let name = input.name("PolicyName", 128, true);
    let path = input.policy_path("Path");
    let document = input.document("PolicyDocument");
    let description = input.text("Description", 1000);
    let tags = input.tags("Tags", false)?;
    input.finish()?;
    let name = name.unwrap_or_default();
    let path = path.unwrap_or("/");
    let document = document.unwrap_or_default();
    let account = op.caller.account();
    authorize(
        op,
        "CreatePolicy",
        &arns::policy_arn(account, path, name),
        |c| super::entities::with_request_tags(c, &tags),
    )?;
    check_document(document, PolicyKind::ManagedIdentity)?;
    let id = new_id(IdKind::ManagedPolicy).map_err(|_| random_failure())?;
    let (id, tags) = (&id, &tags);
    let policy = commit(op, || async move {
        let record = ManagedPolicyRecord {
            account: account.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            id: id.clone(),
            created_at: op.now,
            description: description.map(str::to_owned),
            default_version_id: "v1".to_owned(),
            versions: vec![PolicyVersionRecord {
                version_id: "v1".to_owned(),
                document: document.to_owned(),
                created_at: op.now,
            }],
            tags: tags.clone(),
        };
        let batch = storage::put(WriteBatch::new(), &record, Expect::Absent)?;
        let taken = AwsError::entity_already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        ));
        Ok(Plan::create(batch, taken, record))
    })
    .await?;
    Ok(respond(op, "CreatePolicy", |w| {
        w.nest("Policy", |w| {
            render::policy(w, &policy, Usage::default(), true)
        });
    }))
}

pub(super) async fn get(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let policy = target_policy(op, "GetPolicy", arn).await?;
    let entities = AccountEntities::load(op).await?;
    let canonical = policy_arn(policy.record());
    let usage = entities
        .usage()
        .get(canonical.as_str())
        .copied()
        .unwrap_or_default();
    Ok(respond(op, "GetPolicy", |w| {
        w.nest("Policy", |w| {
            render::policy(w, policy.record(), usage, true)
        });
    }))
}

pub(super) async fn list(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let scope = input.enumeration("Scope", &["All", "AWS", "Local"], false);
    let only_attached = input.boolean("OnlyAttached")?.unwrap_or(false);
    let prefix = input.policy_path_prefix("PathPrefix");
    let usage_filter = input.enumeration(
        "PolicyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
        false,
    );
    let page = input.page()?;
    input.finish()?;
    authorize(
        op,
        "ListPolicies",
        &list_resource(op, "policy", prefix),
        |c| c,
    )?;
    let scope = scope.unwrap_or("All");
    let mut policies: Vec<ManagedPolicyRecord> = Vec::new();
    if scope != "AWS" {
        policies.extend(
            storage::list::<ManagedPolicyRecord>(op, op.caller.account())
                .await?
                .into_iter()
                .map(|s| s.record),
        );
    }
    if scope != "Local" {
        // Filtered before copying: the AWS-managed policies are many.
        let mut aws: Vec<ManagedPolicyRecord> = op
            .world
            .aws_managed_policy_records()
            .filter(|p| prefix.is_none_or(|prefix| p.path.starts_with(prefix)))
            .cloned()
            .collect();
        aws.sort_by_key(|p| p.key());
        policies.extend(aws);
    }
    let entities = AccountEntities::load(op).await?;
    let usage = entities.usage();
    let usage_of = |policy: &ManagedPolicyRecord| {
        usage
            .get(policy_arn(policy).as_str())
            .copied()
            .unwrap_or_default()
    };
    let listed: Vec<(ManagedPolicyRecord, Usage)> = policies
        .into_iter()
        .filter(|p| prefix.is_none_or(|prefix| p.path.starts_with(prefix)))
        .map(|p| {
            let usage = usage_of(&p);
            (p, usage)
        })
        .filter(|(_, usage)| {
            !only_attached
                || match usage_filter {
                    Some("PermissionsBoundary") => usage.boundaries > 0,
                    Some(_) => usage.attachments > 0,
                    None => usage.attachments > 0 || usage.boundaries > 0,
                }
        })
        .collect();
    let (listed, next) = paginate(listed, &page, |(p, _)| format!("{}:{}", p.account, p.key()));
    Ok(respond(op, "ListPolicies", |w| {
        w.list("Policies", &listed, |w, (policy, usage)| {
            render::policy(w, policy, *usage, false);
        });
        render::page_end(w, next.as_deref());
    }))
}

pub(super) async fn delete(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    input.finish()?;
    let arn = arn.unwrap_or_default();
    commit(op, || async move {
        let policy = target_local(op, "DeletePolicy", arn).await?;
        let entities = AccountEntities::load(op).await?;
        let canonical = policy_arn(&policy.record);
        let usage = entities
            .usage()
            .get(canonical.as_str())
            .copied()
            .unwrap_or_default();
        if usage.attachments > 0 || usage.boundaries > 0 {
            return Err(AwsError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        if policy.record.versions.len() > 1 {
            return Err(AwsError::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        Ok(Plan::write(storage::delete(WriteBatch::new(), &policy), ()))
    })
    .await?;
    Ok(respond_empty(op, "DeletePolicy"))
}

/// `v<N>` → N.
fn version_number(id: &str) -> u64 {
    id.strip_prefix('v')
        .and_then(|n| n.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub(super) async fn create_version(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    let document = input.document("PolicyDocument");
    let set_default = input.boolean("SetAsDefault")?.unwrap_or(false);
    input.finish()?;
    let (arn, document) = (arn.unwrap_or_default(), document.unwrap_or_default());
    let (policy, version) = commit(op, || async move {
        let policy = target_local(op, "CreatePolicyVersion", arn).await?;
        check_document(document, PolicyKind::ManagedIdentity)?;
        if policy.record.versions.len() >= MAX_VERSIONS {
            return Err(AwsError::limit_exceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let next = policy
            .record
            .versions
            .iter()
            .map(|v| version_number(&v.version_id))
            .max()
            .unwrap_or(0)
            + 1;
        let version = PolicyVersionRecord {
            version_id: format!("v{next}"),
            document: document.to_owned(),
            created_at: op.now,
        };
        let mut record = policy.record.clone();
        record.versions.push(version.clone());
        if set_default {
            record.default_version_id.clone_from(&version.version_id);
        }
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(policy.version))?;
        Ok(Plan::write(batch, (record, version)))
    })
    .await?;
    Ok(respond(op, "CreatePolicyVersion", |w| {
        w.nest("PolicyVersion", |w| {
            render::policy_version(w, &policy, &version, false);
        });
    }))
}

fn version_not_found(arn: &str, version: &str) -> AwsError {
    AwsError::no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

fn read_version<'a>(op: &'a Operation<'_>) -> Result<(&'a str, &'a str), AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    let version = input.version_id("VersionId");
    input.finish()?;
    Ok((arn.unwrap_or_default(), version.unwrap_or_default()))
}

pub(super) async fn get_version(op: &Operation<'_>) -> Result<String, AwsError> {
    let (arn, version_id) = read_version(op)?;
    let policy = target_policy(op, "GetPolicyVersion", arn).await?;
    let record = policy.record();
    let version = record
        .versions
        .iter()
        .find(|v| v.version_id == version_id)
        .ok_or_else(|| version_not_found(arn, version_id))?;
    Ok(respond(op, "GetPolicyVersion", |w| {
        w.nest("PolicyVersion", |w| {
            render::policy_version(w, record, version, true);
        });
    }))
}

pub(super) async fn list_versions(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    let page = input.page()?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let policy = target_policy(op, "ListPolicyVersions", arn).await?;
    let record = policy.record();
    // Newest first, as IAM lists them.
    let mut versions: Vec<&PolicyVersionRecord> = record.versions.iter().collect();
    versions.sort_by_key(|v| std::cmp::Reverse(version_number(&v.version_id)));
    let versions: Vec<(usize, &PolicyVersionRecord)> = versions.into_iter().enumerate().collect();
    let (versions, next) = paginate(versions, &page, |(index, _)| format!("{index:04}"));
    Ok(respond(op, "ListPolicyVersions", |w| {
        w.list("Versions", &versions, |w, (_, version)| {
            render::policy_version(w, record, version, false);
        });
        render::page_end(w, next.as_deref());
    }))
}

pub(super) async fn set_default_version(op: &Operation<'_>) -> Result<String, AwsError> {
    let (arn, version_id) = read_version(op)?;
    commit(op, || async move {
        let policy = target_local(op, "SetDefaultPolicyVersion", arn).await?;
        if !policy
            .record
            .versions
            .iter()
            .any(|v| v.version_id == version_id)
        {
            return Err(version_not_found(arn, version_id));
        }
        if policy.record.default_version_id == version_id {
            return Ok(Plan::Unchanged(()));
        }
        let mut record = policy.record.clone();
        version_id.clone_into(&mut record.default_version_id);
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(policy.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "SetDefaultPolicyVersion"))
}

pub(super) async fn delete_version(op: &Operation<'_>) -> Result<String, AwsError> {
    let (arn, version_id) = read_version(op)?;
    commit(op, || async move {
        let policy = target_local(op, "DeletePolicyVersion", arn).await?;
        if !policy
            .record
            .versions
            .iter()
            .any(|v| v.version_id == version_id)
        {
            return Err(version_not_found(arn, version_id));
        }
        if policy.record.default_version_id == version_id {
            return Err(AwsError::delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        let mut record = policy.record.clone();
        record.versions.retain(|v| v.version_id != version_id);
        let batch = storage::put(WriteBatch::new(), &record, Expect::Version(policy.version))?;
        Ok(Plan::write(batch, ()))
    })
    .await?;
    Ok(respond_empty(op, "DeletePolicyVersion"))
}

/// One entity a policy is attached to, for ListEntitiesForPolicy.
enum Holder<'a> {
    Group(&'a GroupRecord),
    User(&'a UserRecord),
    Role(&'a RoleRecord),
}

pub(super) async fn list_entities(op: &Operation<'_>) -> Result<String, AwsError> {
    let mut input = Input::new(op);
    let arn = read_arn(&mut input);
    let filter = input.enumeration(
        "EntityFilter",
        &[
            "User",
            "Role",
            "Group",
            "LocalManagedPolicy",
            "AWSManagedPolicy",
        ],
        false,
    );
    let prefix = input.path("PathPrefix");
    let usage_filter = input.enumeration(
        "PolicyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
        false,
    );
    let page = input.page()?;
    input.finish()?;
    let arn = arn.unwrap_or_default();
    let policy = target_policy(op, "ListEntitiesForPolicy", arn).await?;
    let canonical = policy_arn(policy.record());
    let entities = AccountEntities::load(op).await?;
    let as_policy = usage_filter != Some("PermissionsBoundary");
    let as_boundary = usage_filter != Some("PermissionsPolicy");
    let uses = |attached: &[String], boundary: Option<&str>| {
        (as_policy && attached.contains(&canonical))
            || (as_boundary && boundary == Some(canonical.as_str()))
    };
    let wanted = |kind: &str| filter.is_none_or(|f| f == kind);
    let in_prefix = |path: &str| prefix.is_none_or(|p| path.starts_with(p));
    let mut holders: Vec<(String, Holder<'_>)> = Vec::new();
    if wanted("Group") {
        for group in &entities.groups {
            if uses(&group.attached_policies, None) && in_prefix(&group.path) {
                holders.push((format!("g:{}", group.key()), Holder::Group(group)));
            }
        }
    }
    if wanted("Role") {
        for role in &entities.roles {
            if uses(
                &role.attached_policies,
                role.permissions_boundary.as_deref(),
            ) && in_prefix(&role.path)
            {
                holders.push((format!("r:{}", role.key()), Holder::Role(role)));
            }
        }
    }
    if wanted("User") {
        for user in &entities.users {
            if uses(
                &user.attached_policies,
                user.permissions_boundary.as_deref(),
            ) && in_prefix(&user.path)
            {
                holders.push((format!("u:{}", user.key()), Holder::User(user)));
            }
        }
    }
    holders.sort_by(|a, b| a.0.cmp(&b.0));
    let (holders, next) = paginate(holders, &page, |(key, _)| key.clone());
    Ok(respond(op, "ListEntitiesForPolicy", |w| {
        let groups = holders.iter().filter_map(|(_, h)| match h {
            Holder::Group(g) => Some(*g),
            _ => None,
        });
        w.list("PolicyGroups", groups, |w, group| {
            w.element("GroupName", &group.name);
            w.element("GroupId", &group.id);
        });
        let users = holders.iter().filter_map(|(_, h)| match h {
            Holder::User(u) => Some(*u),
            _ => None,
        });
        w.list("PolicyUsers", users, |w, user| {
            w.element("UserName", &user.name);
            w.element("UserId", &user.id);
        });
        let roles = holders.iter().filter_map(|(_, h)| match h {
            Holder::Role(r) => Some(*r),
            _ => None,
        });
        w.list("PolicyRoles", roles, |w, role| {
            w.element("RoleName", &role.name);
            w.element("RoleId", &role.id);
        });
        render::page_end(w, next.as_deref());
    }))
}
