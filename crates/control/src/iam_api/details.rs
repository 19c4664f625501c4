//! GetAccountAuthorizationDetails: every user, group, role and managed
//! policy of the caller's account with their policies, documents
//! URL-encoded. AWS-managed policies come only when `Filter` asks for
//! `AWSManagedPolicy`, and then only those the account uses (attached or
//! as a permissions boundary), as AWS lists them. One page spans all four
//! lists, in that order.

use std::collections::{BTreeMap, HashMap};

use iamgate_iam::principal_ids::PrincipalIds;
use iamgate_iam::{GroupRecord, ManagedPolicyRecord, Record, RoleRecord, UserRecord};
use iamgate_wire::AwsError;
use iamgate_wire::query::ListStyle;
use iamgate_wire::xml::{XmlWriter, encode_policy_document};

use super::entities::{Named, policy_arn};
use super::input::{Input, paginate};
use super::render::{self, Usage};
use super::storage;
use super::{authorize, respond};
use crate::query::Operation;

const FILTERS: &[&str] = &[
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// One listed item; the page key orders users, groups, roles, policies.
enum Item {
    User(UserRecord),
    Group(GroupRecord),
    Role(RoleRecord),
    Policy(ManagedPolicyRecord),
}

impl Item {
    fn key(&self) -> String {
        match self {
            Item::User(u) => format!("1/{}", u.key()),
            Item::Group(g) => format!("2/{}", g.key()),
            Item::Role(r) => format!("3/{}", r.key()),
            Item::Policy(p) => format!("4/{}", policy_arn(p)),
        }
    }
}

fn inline_list(w: &mut XmlWriter, name: &str, inline: &BTreeMap<String, String>) {
    w.list(name, inline, |w, (policy, document)| {
        w.element("PolicyName", policy);
        w.element("PolicyDocument", &encode_policy_document(document));
    });
}

fn attached_list(w: &mut XmlWriter, attached: &[String]) {
    w.list("AttachedManagedPolicies", attached, |w, arn| {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        w.element("PolicyName", name);
        w.element("PolicyArn", arn);
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

fn created(w: &mut XmlWriter, epoch: i64) {
    w.timestamp_element(
        "CreateDate",
        iamgate_wire::Timestamp::from_epoch_seconds(epoch),
    );
}

fn user_detail(w: &mut XmlWriter, user: &UserRecord) {
    w.element("Path", &user.path);
    w.element("UserName", &user.name);
    w.element("UserId", &user.id);
    w.element("Arn", &user.arn());
    created(w, user.created_at);
    inline_list(w, "UserPolicyList", &user.inline_policies);
    w.string_list("GroupList", user.groups.iter().map(String::as_str));
    attached_list(w, &user.attached_policies);
    boundary(w, user.permissions_boundary.as_deref());
    if !user.tags.is_empty() {
        render::tags(w, "Tags", &user.tags);
    }
}

fn group_detail(w: &mut XmlWriter, group: &GroupRecord) {
    w.element("Path", &group.path);
    w.element("GroupName", &group.name);
    w.element("GroupId", &group.id);
    w.element("Arn", &group.arn());
    created(w, group.created_at);
    inline_list(w, "GroupPolicyList", &group.inline_policies);
    attached_list(w, &group.attached_policies);
}

fn role_detail(w: &mut XmlWriter, role: &RoleRecord, principals: &dyn PrincipalIds) {
    w.element("Path", &role.path);
    w.element("RoleName", &role.name);
    w.element("RoleId", &role.id);
    w.element("Arn", &Named::arn(role));
    created(w, role.created_at);
    w.element(
        "AssumeRolePolicyDocument",
        &encode_policy_document(&principals.to_shown(&role.trust_policy)),
    );
    w.nest("InstanceProfileList", |_| {});
    inline_list(w, "RolePolicyList", &role.inline_policies);
    attached_list(w, &role.attached_policies);
    boundary(w, role.permissions_boundary.as_deref());
    if !role.tags.is_empty() {
        render::tags(w, "Tags", &role.tags);
    }
    w.nest("RoleLastUsed", |_| {});
}

fn policy_detail(w: &mut XmlWriter, policy: &ManagedPolicyRecord, usage: Usage) {
    render::policy_core(w, policy, usage, true);
    w.list("PolicyVersionList", &policy.versions, |w, version| {
        render::policy_version(w, policy, version, true);
    });
}

/// Attachments and boundary uses per policy ARN in the account.
fn usage(
    users: &[UserRecord],
    groups: &[GroupRecord],
    roles: &[RoleRecord],
) -> HashMap<String, Usage> {
    let mut usage: HashMap<String, Usage> = HashMap::new();
    let attached = users
        .iter()
        .flat_map(|u| &u.attached_policies)
        .chain(groups.iter().flat_map(|g| &g.attached_policies))
        .chain(roles.iter().flat_map(|r| &r.attached_policies));
    for arn in attached {
        usage.entry(arn.clone()).or_default().attachments += 1;
    }
    let boundaries = users
        .iter()
        .filter_map(|u| u.permissions_boundary.as_deref())
        .chain(
            roles
                .iter()
                .filter_map(|r| r.permissions_boundary.as_deref()),
        );
    for arn in boundaries {
        usage.entry(arn.to_owned()).or_default().boundaries += 1;
    }
    usage
}

fn records<R>(list: Vec<storage::Stored<R>>) -> Vec<R> {
    list.into_iter().map(|s| s.record).collect()
}

pub(super) async fn get(op: &Operation<'_>) -> Result<String, AwsError> {
    const ACTION: &str = "GetAccountAuthorizationDetails";
    let mut input = Input::new(op);
    let mut violations = iamgate_wire::Violations::new();
    let filters = op.params.root().string_list("Filter")?;
    for (index, filter) in filters.iter().enumerate() {
        if !FILTERS.contains(filter) {
            violations.push(iamgate_wire::Violation::new(
                Some((*filter).to_owned()),
                format!("filter.{}.member", index + 1),
                iamgate_wire::query::Constraint::Enum(
                    FILTERS
                        .iter()
                        .map(|a| std::borrow::Cow::Borrowed(*a))
                        .collect(),
                ),
            ));
        }
    }
    let filtered = op.params.root().list_present("Filter", ListStyle::MEMBER);
    let page = input.page()?;
    input.finish()?;
    violations.into_result()?;
    authorize(op, ACTION, "*", |c| c)?;
    let wants = |what: &str| !filtered || filters.contains(&what);

    let account = op.caller.account();
    let users: Vec<UserRecord> = records(storage::list(op, account).await?);
    let groups: Vec<GroupRecord> = records(storage::list(op, account).await?);
    let roles: Vec<RoleRecord> = records(storage::list(op, account).await?);
    let usage = usage(&users, &groups, &roles);

    let mut items = Vec::new();
    if wants("User") {
        items.extend(users.into_iter().map(Item::User));
    }
    if wants("Group") {
        items.extend(groups.into_iter().map(Item::Group));
    }
    if wants("Role") {
        items.extend(roles.into_iter().map(Item::Role));
    }
    let mut policies = Vec::new();
    if wants("LocalManagedPolicy") {
        policies.extend(
            storage::list::<ManagedPolicyRecord>(op, account)
                .await?
                .into_iter()
                .map(|s| s.record),
        );
    }
    if filtered && filters.contains(&"AWSManagedPolicy") {
        policies.extend(
            op.world
                .aws_managed_policy_records()
                .filter(|p| usage.contains_key(&policy_arn(p)))
                .cloned(),
        );
    }
    policies.sort_by_key(policy_arn);
    items.extend(policies.into_iter().map(Item::Policy));
    items.sort_by_key(Item::key);
    let (items, next) = paginate(items, &page, Item::key);

    Ok(respond(op, ACTION, |w| {
        w.list(
            "UserDetailList",
            items.iter().filter_map(|i| match i {
                Item::User(u) => Some(u),
                _ => None,
            }),
            user_detail,
        );
        w.list(
            "GroupDetailList",
            items.iter().filter_map(|i| match i {
                Item::Group(g) => Some(g),
                _ => None,
            }),
            group_detail,
        );
        w.list(
            "RoleDetailList",
            items.iter().filter_map(|i| match i {
                Item::Role(r) => Some(r),
                _ => None,
            }),
            |w, role| role_detail(w, role, op.world.principals()),
        );
        w.list(
            "Policies",
            items.iter().filter_map(|i| match i {
                Item::Policy(p) => Some(p),
                _ => None,
            }),
            |w, p| {
                let used = usage.get(&policy_arn(p)).copied().unwrap_or_default();
                policy_detail(w, p, used);
            },
        );
        render::page_end(w, next.as_deref());
    }))
}
