//! STS: GetCallerIdentity, AssumeRole and GetSessionToken (STS API Reference).

use iamgate_iam::names::{is_external_id_char, is_name_char, is_tag_char};
use iamgate_iam::{
    Caller, IdKind, SessionClaims, SessionPrincipal, arns, new_id, new_secret_access_key,
};
use iamgate_policy::{PolicyDocument, PolicyKind, ResourcePolicyKind};
use iamgate_wire::{AwsError, Timestamp, Violations, xml};

use crate::context::request_context;
use crate::query::{Operation, QueryService};

const OPERATIONS: &[&str] = &["GetCallerIdentity", "AssumeRole", "GetSessionToken"];

/// `[\w+=,.@-]*`: role session names and source identities.
const NAME_PATTERN: &str = r"[\w+=,.@-]*";
/// `[\w+=,.@:\/-]*`: external ids.
const EXTERNAL_ID_PATTERN: &str = r"[\w+=,.@:\/-]*";
/// Session tag keys and values (STS `Tag`), as IAM's.
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
/// The plaintext budget of a session policy, which the packed size is measured against.
const PACKED_POLICY_LIMIT: usize = 2_048;

pub(crate) async fn dispatch(op: Operation<'_>) -> Result<String, AwsError> {
    let service = QueryService::Sts;
    let action = op.params.operation(service.version(), OPERATIONS)?;
    // GetSessionToken sessions may call only these two STS operations.
    if matches!(op.caller, Caller::UserSession(_) | Caller::RootSession(_))
        && !matches!(action, "GetCallerIdentity" | "AssumeRole")
    {
        let message = format!(
            "User: {} is not authorized to perform: sts:{action}",
            op.caller.arn()
        );
        op.check("sts").record_unevaluated(
            iamgate_decisions::words::IMPLICIT_DENY,
            &format!("sts:{action}"),
            &message,
        );
        return Err(AwsError::access_denied(message));
    }
    match action {
        "GetCallerIdentity" => {
            op.check("sts").record_unevaluated(
                iamgate_decisions::words::ALLOW,
                "sts:GetCallerIdentity",
                "GetCallerIdentity needs no permission: it is always allowed",
            );
            Ok(get_caller_identity(&op))
        }
        "AssumeRole" => assume_role(&op),
        "GetSessionToken" => get_session_token(&op),
        _ => Err(AwsError::invalid_action(action, service.version())),
    }
}

/// Always allowed, whatever the policies say (an explicit deny is ignored).
fn get_caller_identity(op: &Operation<'_>) -> String {
    xml::render_response(
        xml::STS_NAMESPACE,
        "GetCallerIdentity",
        &op.request_id,
        |w| {
            w.element("Arn", &op.caller.arn());
            w.element("UserId", &op.caller.user_id());
            w.element("Account", op.caller.account());
        },
    )
}

fn denied(op: &Operation<'_>, action: &str, resource: &str, suffix: Option<String>) -> AwsError {
    let base = format!(
        "User: {} is not authorized to perform: {action} on resource: {resource}",
        op.caller.arn()
    );
    AwsError::access_denied(match suffix {
        Some(message) => message,
        None => base,
    })
}

struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: i64,
}

fn issue(op: &Operation<'_>, claims: SessionClaims) -> Result<Credentials, AwsError> {
    let failure = |_| AwsError::service_failure("Could not issue credentials.");
    let access_key_id = new_id(IdKind::TemporaryAccessKey).map_err(failure)?;
    let session_token = op
        .plane
        .sealer
        .seal(&access_key_id, &claims)
        .map_err(|_| AwsError::service_failure("Could not issue credentials."))?;
    Ok(Credentials {
        access_key_id,
        secret_access_key: claims.secret_access_key,
        session_token,
        expiration: claims.expires_at,
    })
}

fn write_credentials(w: &mut xml::XmlWriter, credentials: &Credentials) {
    w.nest("Credentials", |w| {
        w.element("AccessKeyId", &credentials.access_key_id);
        w.element("SecretAccessKey", &credentials.secret_access_key);
        w.element("SessionToken", &credentials.session_token);
        w.timestamp_element(
            "Expiration",
            Timestamp::from_epoch_seconds(credentials.expiration),
        );
    });
}

/// The caller's session, when it is one: chaining limits and inherited state.
fn is_chained(caller: &Caller) -> bool {
    matches!(
        caller,
        Caller::RoleSession(_) | Caller::UserSession(_) | Caller::RootSession(_)
    )
}

struct AssumeRoleInput<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    duration: Option<i64>,
    external_id: Option<&'a str>,
    policy: Option<&'a str>,
    policy_arns: Vec<&'a str>,
    tags: Vec<(&'a str, &'a str)>,
    transitive_tag_keys: Vec<&'a str>,
    source_identity: Option<&'a str>,
    mfa_serial: Option<&'a str>,
}

fn read_assume_role<'a>(op: &'a Operation<'_>) -> Result<AssumeRoleInput<'a>, AwsError> {
    let root = op.params.root();
    let mut violations = Violations::new();
    let role_arn = violations.require("roleArn", root.str("RoleArn"));
    let session_name = violations.require("roleSessionName", root.str("RoleSessionName"));
    if let Some(arn) = role_arn {
        violations.length("roleArn", arn, 20, 2048);
    }
    if let Some(name) = session_name {
        violations.length("roleSessionName", name, 2, 64);
        violations.pattern(
            "roleSessionName",
            name,
            NAME_PATTERN,
            name.chars().all(is_name_char),
        );
    }
    let duration = root.optional_i64("DurationSeconds")?;
    if let Some(seconds) = duration {
        violations.range("durationSeconds", seconds, 900, 43_200);
    }
    let external_id = root.str("ExternalId");
    if let Some(id) = external_id {
        violations.length("externalId", id, 2, 1224);
        let ok = id.chars().all(is_external_id_char);
        violations.pattern("externalId", id, EXTERNAL_ID_PATTERN, ok);
    }
    let policy = root.str("Policy");
    if let Some(text) = policy {
        violations.length("policy", text, 1, usize::MAX);
        let ok = text
            .chars()
            .all(|c| matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{FF}'));
        violations.pattern("policy", text, r"[\u0009\u000A\u000D\u0020-\u00FF]+", ok);
    }
    let source_identity = root.str("SourceIdentity");
    if let Some(source) = source_identity {
        violations.length("sourceIdentity", source, 2, 64);
        violations.pattern(
            "sourceIdentity",
            source,
            NAME_PATTERN,
            source.chars().all(is_name_char),
        );
    }
    let policy_arns = root.list("PolicyArns", |item| item.required_str("arn"))?;
    if policy_arns.len() > 10 {
        violations.length("policyArns", &"x".repeat(policy_arns.len()), 0, 10);
    }
    let tags = root.list("Tags", |item| {
        Ok((item.required_str("Key")?, item.required_str("Value")?))
    })?;
    for (key, value) in &tags {
        violations.length("tags.member.key", key, 1, 128);
        violations.pattern(
            "tags.member.key",
            key,
            TAG_KEY_PATTERN,
            key.chars().all(is_tag_char),
        );
        violations.length("tags.member.value", value, 0, 256);
        violations.pattern(
            "tags.member.value",
            value,
            TAG_VALUE_PATTERN,
            value.chars().all(is_tag_char),
        );
    }
    let transitive_tag_keys = root.string_list("TransitiveTagKeys")?;
    violations.into_result()?;
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        return Err(AwsError::validation_error("Missing required parameters."));
    };
    Ok(AssumeRoleInput {
        role_arn,
        session_name,
        duration,
        external_id,
        policy,
        policy_arns,
        tags,
        transitive_tag_keys,
        source_identity,
        mfa_serial: root.str("SerialNumber"),
    })
}

fn assume_role(op: &Operation<'_>) -> Result<String, AwsError> {
    let input = read_assume_role(op)?;
    if matches!(op.caller, Caller::Root { .. } | Caller::RootSession(_)) {
        return Err(AwsError::access_denied(
            "Roles may not be assumed by root accounts.",
        ));
    }
    let action = "sts:AssumeRole";
    if arns::parse_role_arn(input.role_arn).is_none() {
        // An ARN of something else is invalid; text that is no ARN at all
        // is answered like a role that does not exist (AWS does both).
        return Err(if arns::has_arn_shape(input.role_arn) {
            AwsError::validation_error("Request ARN is invalid")
        } else {
            denied(op, action, input.role_arn, None)
        });
    }
    // A role that does not exist is refused like an unauthorized one: no
    // existence leak across accounts.
    let Some(role) = op.world.role_by_arn(input.role_arn) else {
        return Err(denied(op, action, input.role_arn, None));
    };
    let inherited = op.caller.session().map(|s| &s.claims);
    let source_identity = match (
        inherited.and_then(|c| c.source_identity.as_deref()),
        input.source_identity,
    ) {
        (Some(old), Some(new)) if old != new => {
            return Err(AwsError::access_denied(format!(
                "User: {} is not authorized to change the source identity",
                op.caller.arn()
            )));
        }
        (old, new) => new.or(old).map(str::to_owned),
    };

    let mut context = request_context(op, action, Some(input.role_arn))
        .with_resource_account(&role.record.account)
        .with_key("sts:RoleSessionName", input.session_name);
    if let Some(id) = input.external_id {
        context = context.with_key("sts:ExternalId", id);
    }
    if let Some(source) = &source_identity {
        context = context.with_key("sts:SourceIdentity", source);
    }
    for tag in &role.record.tags {
        context = context
            .with_key(&format!("aws:ResourceTag/{}", tag.key), &tag.value)
            .with_key(&format!("iam:ResourceTag/{}", tag.key), &tag.value);
    }
    if !input.tags.is_empty() {
        for (key, value) in &input.tags {
            context = context.with_key(&format!("aws:RequestTag/{key}"), value);
        }
        let keys: Vec<&str> = input.tags.iter().map(|(k, _)| *k).collect();
        context = context.with_multi_key("aws:TagKeys", &keys);
        context = context.with_multi_key("sts:TransitiveTagKeys", &input.transitive_tag_keys);
    }

    let mut actions = vec![action];
    if !input.tags.is_empty() || !input.transitive_tag_keys.is_empty() {
        actions.push("sts:TagSession");
    }
    if input.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for needed in actions {
        let mut request = context.clone();
        needed.clone_into(&mut request.action);
        op.check("sts")
            .authorize(&request, Some(&role.trust), ResourcePolicyKind::RoleTrust)
            .map_err(AwsError::access_denied)?;
    }

    if input.mfa_serial.is_some() {
        return Err(AwsError::access_denied(
            "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.",
        ));
    }
    let duration = input.duration.unwrap_or(3_600);
    if duration > i64::from(role.record.max_session_duration) {
        return Err(AwsError::validation_error(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let chained = is_chained(&op.caller);
    if chained && duration > 3_600 {
        return Err(AwsError::validation_error(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if let Some(text) = input.policy {
        PolicyDocument::parse(text, PolicyKind::Session).map_err(|errors| {
            let message = errors
                .first()
                .map_or("Syntax errors in policy.", |e| e.message.as_str());
            AwsError::malformed_policy_document(message)
        })?;
    }
    for arn in &input.policy_arns {
        if op.world.managed_policy(arn).is_none() {
            return Err(AwsError::invalid_input(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for (key, _) in &input.tags {
        let lower = key.to_lowercase();
        if seen.contains(&lower) {
            return Err(AwsError::validation_error(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        seen.push(lower);
    }
    check_transitive_tags(&input, inherited)?;
    let packed = packed_size(&input);
    if packed > 100 {
        return Err(AwsError::packed_policy_too_large(format!(
            "Packed policy consumes {packed}% of allotted space, please use smaller policy."
        )));
    }

    let mut tags: Vec<(String, String)> = Vec::new();
    let mut transitive: Vec<String> = Vec::new();
    if let Some(parent) = inherited {
        for key in &parent.transitive_tag_keys {
            if let Some((k, v)) = parent
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            {
                tags.push((k.clone(), v.clone()));
                transitive.push(key.clone());
            }
        }
    }
    // No passed tag shares a key with an inherited transitive one (checked
    // above), so these only add.
    tags.extend(
        input
            .tags
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    transitive.extend(input.transitive_tag_keys.iter().map(|k| (*k).to_owned()));

    let secret = new_secret_access_key()
        .map_err(|_| AwsError::service_failure("Could not issue credentials."))?;
    let claims = SessionClaims {
        account: role.record.account.clone(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: role.record.arn(),
            role_id: role.record.id.clone(),
            role_name: role.record.name.clone(),
            session_name: input.session_name.to_owned(),
        },
        secret_access_key: secret,
        issued_at: op.now,
        expires_at: op.now + duration,
        chained,
        mfa_authenticated: inherited.is_some_and(|c| c.mfa_authenticated),
        source_identity: source_identity.clone(),
        session_policy: input.policy.map(str::to_owned),
        session_policy_arns: input.policy_arns.iter().map(|a| (*a).to_owned()).collect(),
        tags,
        transitive_tag_keys: transitive,
    };
    let credentials = issue(op, claims)?;
    let assumed_arn =
        arns::assumed_role_arn(&role.record.account, &role.record.name, input.session_name);
    let assumed_id = format!("{}:{}", role.record.id, input.session_name);
    let report_packed =
        input.policy.is_some() || !input.policy_arns.is_empty() || !input.tags.is_empty();
    Ok(xml::render_response(
        xml::STS_NAMESPACE,
        "AssumeRole",
        &op.request_id,
        |w| {
            w.optional_element("SourceIdentity", source_identity.as_deref());
            w.nest("AssumedRoleUser", |w| {
                w.element("Arn", &assumed_arn);
                w.element("AssumedRoleId", &assumed_id);
            });
            write_credentials(w, &credentials);
            if report_packed {
                w.int_element(
                    "PackedPolicySize",
                    i64::try_from(packed).unwrap_or(i64::MAX),
                );
            }
        },
    ))
}

/// The transitive-tag rules of role chaining (IAM User Guide, "Chaining
/// roles with session tags"; AssumeRole's `Tags`): a tag inherited as
/// transitive cannot be passed again, and every key named transitive must
/// be among the passed tags. Both are `InvalidParameterValue`, in AWS's
/// words.
fn check_transitive_tags(
    input: &AssumeRoleInput<'_>,
    inherited: Option<&SessionClaims>,
) -> Result<(), AwsError> {
    let invalid = |message: &str| AwsError::new("InvalidParameterValue", 400, message);
    let inherited_keys = inherited.map_or(&[][..], |claims| &claims.transitive_tag_keys[..]);
    let overrides = input.tags.iter().any(|(key, _)| {
        inherited_keys
            .iter()
            .any(|inherited| inherited.eq_ignore_ascii_case(key))
    });
    if overrides {
        return Err(invalid(
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
        ));
    }
    let unpassed = input.transitive_tag_keys.iter().any(|transitive| {
        !input
            .tags
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(transitive))
    });
    if unpassed {
        return Err(invalid(
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    Ok(())
}

/// The share of the session-policy budget the request's policy, policy
/// ARNs and tags use, in percent (AWS does not publish its packing; this
/// counts plaintext without whitespace).
fn packed_size(input: &AssumeRoleInput<'_>) -> usize {
    let policy = input
        .policy
        .map_or(0, iamgate_policy::document::policy_size);
    let arns: usize = input.policy_arns.iter().map(|a| a.len()).sum();
    let tags: usize = input.tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    (policy + arns + tags)
        .saturating_mul(100)
        .div_ceil(PACKED_POLICY_LIMIT)
}

fn get_session_token(op: &Operation<'_>) -> Result<String, AwsError> {
    let root = op.params.root();
    let mut violations = Violations::new();
    let duration = root.optional_i64("DurationSeconds")?;
    if let Some(seconds) = duration {
        violations.range("durationSeconds", seconds, 900, 129_600);
    }
    violations.into_result()?;
    if root.str("SerialNumber").is_some() {
        return Err(AwsError::access_denied(
            "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.",
        ));
    }
    let principal = match &op.caller {
        Caller::Root { .. } => SessionPrincipal::Root,
        Caller::User(user) => SessionPrincipal::User {
            user_arn: user.record.arn(),
            user_id: user.record.id.clone(),
            user_name: user.record.name.clone(),
        },
        _ => {
            let message = "Cannot call GetSessionToken with session credentials";
            op.check("sts").record_unevaluated(
                iamgate_decisions::words::IMPLICIT_DENY,
                "sts:GetSessionToken",
                message,
            );
            return Err(AwsError::access_denied(message));
        }
    };
    op.check("sts").record_unevaluated(
        iamgate_decisions::words::ALLOW,
        "sts:GetSessionToken",
        "GetSessionToken is allowed to every IAM user and root with long-term keys",
    );
    let mut duration = duration.unwrap_or(43_200);
    if matches!(principal, SessionPrincipal::Root) {
        duration = duration.min(3_600);
    }
    let secret = new_secret_access_key()
        .map_err(|_| AwsError::service_failure("Could not issue credentials."))?;
    let claims = SessionClaims {
        account: op.caller.account().to_owned(),
        principal,
        secret_access_key: secret,
        issued_at: op.now,
        expires_at: op.now + duration,
        chained: false,
        mfa_authenticated: false,
        source_identity: None,
        session_policy: None,
        session_policy_arns: Vec::new(),
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
    };
    let credentials = issue(op, claims)?;
    Ok(xml::render_response(
        xml::STS_NAMESPACE,
        "GetSessionToken",
        &op.request_id,
        |w| {
            write_credentials(w, &credentials);
        },
    ))
}
