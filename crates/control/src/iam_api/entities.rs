//! What users, groups and roles have in common for the API: a name unique
//! per account, an ARN, inline and attached policies, and AWS's sentences
//! for "not found" and "already exists". Operations that differ only by
//! entity type (attach, inline policies, tags) are written once over
//! [`Named`].
//!
//! Authorization comes before existence, as on AWS: a caller that may not
//! act on an entity learns nothing about whether it exists.

use std::collections::BTreeMap;
use std::sync::Arc;

use iamgate_iam::world::PolicyEntry;
use iamgate_iam::{GroupRecord, ManagedPolicyRecord, Record, RoleRecord, Tag, UserRecord, arns};
use iamgate_policy::validate::InlineOwner;
use iamgate_policy::{ErrorCode, PolicyDocument, PolicyKind, RequestContext};
use iamgate_wire::AwsError;

use super::authorize;
use super::storage::{self, Stored};
use crate::query::Operation;

/// A user, group or role.
pub(super) trait Named: Record + Clone {
    /// `user`, `group`, `role`: in ARNs and messages.
    const NOUN: &'static str;
    /// `User`, `Group`, `Role`.
    const TITLE: &'static str;
    /// The request parameter naming the entity (`UserName`…).
    const NAME_PARAM: &'static str;
    /// Longest name the entity's operations accept.
    const NAME_MAX: usize;
    const INLINE_OWNER: InlineOwner;

    fn name(&self) -> &str;
    fn path(&self) -> &str;
    fn account(&self) -> &str;
    fn tags(&self) -> &[Tag] {
        &[]
    }
    fn inline(&self) -> &BTreeMap<String, String>;
    fn inline_mut(&mut self) -> &mut BTreeMap<String, String>;
    fn attached(&self) -> &[String];
    fn attached_mut(&mut self) -> &mut Vec<String>;

    fn arn(&self) -> String {
        arn_of::<Self>(self.account(), self.path(), self.name())
    }
}

/// `arn:aws:iam::<account>:<noun><path><name>`
pub(super) fn arn_of<R: Named>(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{}{path}{name}", R::NOUN)
}

macro_rules! named {
    ($record:ty, $noun:literal, $title:literal, $param:literal, $max:literal, $owner:expr, tags: $tags:tt) => {
        impl Named for $record {
            const NOUN: &'static str = $noun;
            const TITLE: &'static str = $title;
            const NAME_PARAM: &'static str = $param;
            const NAME_MAX: usize = $max;
            const INLINE_OWNER: InlineOwner = $owner;
            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn account(&self) -> &str {
                &self.account
            }
            named!(@tags $tags);
            fn inline(&self) -> &BTreeMap<String, String> {
                &self.inline_policies
            }
            fn inline_mut(&mut self) -> &mut BTreeMap<String, String> {
                self.inline_policies.make_mut()
            }
            fn attached(&self) -> &[String] {
                &self.attached_policies
            }
            fn attached_mut(&mut self) -> &mut Vec<String> {
                &mut self.attached_policies
            }
        }
    };
    (@tags true) => {
        fn tags(&self) -> &[Tag] {
            &self.tags
        }
    };
    (@tags false) => {};
}

named!(UserRecord, "user", "User", "UserName", 128, InlineOwner::User, tags: true);
named!(GroupRecord, "group", "Group", "GroupName", 128, InlineOwner::Group, tags: false);
named!(RoleRecord, "role", "Role", "RoleName", 64, InlineOwner::Role, tags: true);

/// `The user with name <n> cannot be found.`
pub(super) fn not_found<R: Named>(name: &str) -> AwsError {
    AwsError::no_such_entity(format!("The {} with name {name} cannot be found.", R::NOUN))
}

/// `User with name <n> already exists.`
pub(super) fn already_exists<R: Named>(name: &str) -> AwsError {
    AwsError::entity_already_exists(format!("{} with name {name} already exists.", R::TITLE))
}

/// `iam:ResourceTag/<k>` and `aws:ResourceTag/<k>` of a tagged entity.
pub(super) fn with_resource_tags(mut context: RequestContext, tags: &[Tag]) -> RequestContext {
    for tag in tags {
        context = context
            .with_key(&format!("aws:ResourceTag/{}", tag.key), &tag.value)
            .with_key(&format!("iam:ResourceTag/{}", tag.key), &tag.value);
    }
    context
}

/// `aws:RequestTag/<k>` and `aws:TagKeys` of the tags a request passes.
pub(super) fn with_request_tags(mut context: RequestContext, tags: &[Tag]) -> RequestContext {
    if tags.is_empty() {
        return context;
    }
    for tag in tags {
        context = context.with_key(&format!("aws:RequestTag/{}", tag.key), &tag.value);
    }
    let keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    context.with_multi_key("aws:TagKeys", &keys)
}

/// The entity `name` of the caller's account, after authorizing `action`
/// on it (on the ARN it would have at path `/` when it does not exist).
pub(super) async fn target<R: Named>(
    op: &Operation<'_>,
    action: &str,
    name: &str,
) -> Result<Stored<R>, AwsError> {
    target_with(op, action, name, |context| context).await
}

/// [`target`] with extra request-context keys.
pub(super) async fn target_with<R: Named>(
    op: &Operation<'_>,
    action: &str,
    name: &str,
    extra: impl FnOnce(RequestContext) -> RequestContext,
) -> Result<Stored<R>, AwsError> {
    let account = op.caller.account();
    let found = storage::get::<R>(op, account, &name.to_lowercase()).await?;
    let (arn, tags) = match &found {
        Some(stored) => (stored.record.arn(), stored.record.tags()),
        None => (arn_of::<R>(account, "/", name), &[][..]),
    };
    authorize(op, action, &arn, |context| {
        extra(with_resource_tags(context, tags))
    })?;
    found.ok_or_else(|| not_found::<R>(name))
}

/// Validates a policy document as `kind`, answering with AWS's first
/// complaint in the error class it belongs to.
pub(super) fn check_document(text: &str, kind: PolicyKind) -> Result<PolicyDocument, AwsError> {
    PolicyDocument::parse(text, kind).map_err(|errors| match errors.first() {
        Some(error) => match error.code {
            ErrorCode::LimitExceeded => AwsError::limit_exceeded(error.message.clone()),
            ErrorCode::ValidationError => AwsError::validation_error(error.message.clone()),
            ErrorCode::MalformedPolicyDocument => {
                AwsError::malformed_policy_document(error.message.clone())
            }
        },
        None => AwsError::malformed_policy_document("Syntax errors in policy."),
    })
}

/// The account, path and name of a managed policy ARN.
pub(super) fn parse_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("policy")?;
    let valid_account = account == iamgate_iam::AWS_ACCOUNT
        || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    if !path_and_name.starts_with('/') || !valid_account {
        return None;
    }
    let split = path_and_name.rfind('/')?;
    let (path, name) = path_and_name.split_at(split + 1);
    (!name.is_empty()).then_some((account, path, name))
}

/// `ARN <arn> is not valid.`
pub(super) fn invalid_arn(arn: &str) -> AwsError {
    AwsError::invalid_input(format!("ARN {arn} is not valid."))
}

/// `Policy <arn> was not found.`
pub(super) fn policy_not_found(arn: &str) -> AwsError {
    AwsError::no_such_entity(format!("Policy {arn} was not found."))
}

/// `NoSuchEntity` (404) `Policy <arn> does not exist or is not attachable.`:
/// AWS's answer to attaching a policy the caller's account cannot see.
pub(super) fn not_attachable(arn: &str) -> AwsError {
    AwsError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

/// A managed policy an ARN names, as far as the caller's account can see:
/// AWS-managed ones from the snapshot, the account's own from the store.
pub(super) enum PolicyRef {
    Aws(Arc<PolicyEntry>),
    Local(Stored<ManagedPolicyRecord>),
}

impl PolicyRef {
    pub(super) fn record(&self) -> &ManagedPolicyRecord {
        match self {
            PolicyRef::Aws(entry) => &entry.record,
            PolicyRef::Local(stored) => &stored.record,
        }
    }

    /// Adds a touch of a customer-managed policy to `batch`, so that a
    /// concurrent DeletePolicy and this attachment cannot both succeed.
    pub(super) fn guard(
        &self,
        batch: iamgate_store::WriteBatch,
    ) -> Result<iamgate_store::WriteBatch, AwsError> {
        match self {
            PolicyRef::Aws(_) => Ok(batch),
            PolicyRef::Local(stored) => storage::touch(batch, stored),
        }
    }
}

/// Looks up the managed policy `arn`; `InvalidInput` if it is no policy ARN.
pub(super) async fn find_policy(
    op: &Operation<'_>,
    arn: &str,
) -> Result<Option<PolicyRef>, AwsError> {
    let (account, path, name) = parse_policy_arn(arn).ok_or_else(|| invalid_arn(arn))?;
    if account == iamgate_iam::AWS_ACCOUNT {
        return Ok(op.world.managed_policy(arn).cloned().map(PolicyRef::Aws));
    }
    if account != op.caller.account() {
        return Ok(None);
    }
    let stored = storage::get::<ManagedPolicyRecord>(op, account, &name.to_lowercase()).await?;
    Ok(stored
        .filter(|s| s.record.path == path && s.record.name == name)
        .map(PolicyRef::Local))
}

/// The managed policy an Attach*Policy names: `NoSuchEntity` when the
/// caller's account cannot see it; `PolicyNotAttachable` for a service-linked
/// role's policy (`/aws-service-role/`), which only AWS attaches.
pub(super) async fn find_attachable_policy(
    op: &Operation<'_>,
    arn: &str,
) -> Result<PolicyRef, AwsError> {
    let policy = find_policy(op, arn)
        .await?
        .ok_or_else(|| not_attachable(arn))?;
    let record = policy.record();
    if record.account == iamgate_iam::AWS_ACCOUNT && record.path.starts_with("/aws-service-role/") {
        return Err(AwsError::policy_not_attachable(
            "Cannot attach a Service Role Policy to a Customer Role.",
        ));
    }
    Ok(policy)
}

/// The managed policy a permissions boundary names; `NoSuchEntity` with
/// AWS's `Scope ARN: …` sentence when the caller's account cannot see it.
pub(super) async fn find_boundary_policy(
    op: &Operation<'_>,
    arn: &str,
) -> Result<PolicyRef, AwsError> {
    find_policy(op, arn).await?.ok_or_else(|| {
        AwsError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))
    })
}

/// The ARN of a managed policy record.
pub(super) fn policy_arn(record: &ManagedPolicyRecord) -> String {
    arns::policy_arn(&record.account, &record.path, &record.name)
}
