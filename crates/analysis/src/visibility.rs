//! What one account may see of an analysis answer, when the server
//! answers it (`/_iamgate/analysis/…`) rather than the owner of a world
//! file.
//!
//! Why: an answer lists principals of other accounts and the statements
//! that let them through. Like AWS's Access Analyzer, the reader sees the
//! ARNs of other accounts' principals and roles that reach (or are reached
//! by) its own; like the decision records, it sees another account's
//! policies by type and owner only — never their names, Sids, positions or
//! condition text. A statement's owner follows from its type: identity,
//! boundary and session policies belong to the account of the principal
//! taking the step, resource and trust policies to the resource's account.
//! Whatever cannot be attributed is hidden (fail closed).

use crate::conditions::Condition;
use crate::plan::{ChangeKind, Plan};
use crate::what_can::RouteAccess;
use crate::who_can::{Access, Hop};

/// The account field of an ARN (`arn:aws:iam::123456789012:user/u`); empty
/// when there is none (`*`).
pub fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// Shown instead of another account's condition clauses.
pub const HIDDEN_CLAUSES: &str = "(another account's condition: not shown)";

/// The account that owns a policy of `policy_type` on the step `from` →
/// `to`.
fn owner<'a>(policy_type: &str, from: &'a str, to: &'a str) -> &'a str {
    match policy_type {
        "resource" | "trust" => account_of(to),
        _ => account_of(from),
    }
}

fn hide_condition(condition: &mut Condition, owner: &str) {
    condition.policy = format!("(a policy of account {owner})");
    condition.sid = None;
    condition.statement_index = None;
    condition.when = vec![HIDDEN_CLAUSES.to_owned()];
}

fn hop(mut hop: Hop, reader: &str) -> Hop {
    for grant in &mut hop.grants {
        // A grant reads `{type} policy {name} #{index} …`.
        let policy_type = grant.split(' ').next().unwrap_or_default().to_owned();
        let owner = owner(&policy_type, &hop.from, &hop.to);
        if owner != reader {
            *grant = format!("{policy_type} policy of account {owner}");
        }
    }
    for condition in &mut hop.conditions {
        let owner = owner(&condition.policy_type, &hop.from, &hop.to).to_owned();
        if owner != reader {
            hide_condition(condition, &owner);
        }
    }
    hop
}

/// An access's conditions, each attributed through the hop it belongs to
/// (same action and resource).
fn conditions(list: Vec<Condition>, hops: &[Hop], reader: &str) -> Vec<Condition> {
    list.into_iter()
        .map(|mut condition| {
            let step = hops
                .iter()
                .find(|h| h.action == condition.action && h.to == condition.resource);
            let owner = step.map_or("", |h| owner(&condition.policy_type, &h.from, &h.to));
            if owner != reader {
                let owner = owner.to_owned();
                hide_condition(&mut condition, &owner);
            }
            condition
        })
        .collect()
}

/// `who-can`'s answer as account `reader` may see it.
pub fn accesses(list: Vec<Access>, reader: &str) -> Vec<Access> {
    list.into_iter()
        .map(|access| Access {
            conditions: conditions(access.conditions, &access.hops, reader),
            hops: access.hops.into_iter().map(|h| hop(h, reader)).collect(),
            ..access
        })
        .collect()
}

/// `what-can`'s answer as account `reader` may see it.
pub fn routes(list: Vec<RouteAccess>, reader: &str) -> Vec<RouteAccess> {
    list.into_iter()
        .map(|route| RouteAccess {
            conditions: conditions(route.conditions, &route.hops, reader),
            hops: route.hops.into_iter().map(|h| hop(h, reader)).collect(),
            ..route
        })
        .collect()
}

/// The policy nouns an explicit deny is named with, and whether the
/// policy is the resource's (else the principal's).
const DENY_NOUNS: [(&str, bool); 6] = [
    ("resource-based policy", true),
    ("role trust policy", true),
    ("identity-based policy", false),
    ("permissions boundary", false),
    ("session policy", false),
    ("service control policy", false),
];

/// `plan`'s answer for `principal_account`'s principal on a resource of
/// `resource_account`, as account `reader` may see it.
///
/// Beyond the statements: the AWS CLI commands for another account carry
/// its current policy in full, so they are replaced by a note; a way
/// through an existing role of another account that the principal cannot
/// assume yet (one that needs a trust statement) would reveal that role,
/// so it is not offered; principals of other accounts that a proposal
/// would also let in are counted, not named.
pub fn plan(mut plan: Plan, reader: &str, principal_account: &str, resource_account: &str) -> Plan {
    if let Some(allowed) = plan.allowed.take() {
        plan.allowed = Some(
            allowed
                .into_iter()
                .map(|mut condition| {
                    let owner = match condition.policy_type.as_str() {
                        "resource" | "trust" => resource_account,
                        _ => principal_account,
                    };
                    if owner != reader {
                        hide_condition(&mut condition, owner);
                    }
                    condition
                })
                .collect(),
        );
    }
    for deny in &mut plan.explicit_deny {
        let found = DENY_NOUNS.iter().find(|(noun, _)| deny.starts_with(noun));
        let (noun, owner) = match found {
            Some((noun, true)) => (*noun, resource_account),
            Some((noun, false)) => (*noun, principal_account),
            None => ("policy", ""),
        };
        if owner != reader {
            *deny = format!("{noun} of account {owner}");
        }
    }
    plan.alternatives.retain(|alternative| {
        !alternative.changes.iter().any(|change| {
            change.kind == ChangeKind::Trust
                && change.account != reader
                && !alternative
                    .changes
                    .iter()
                    .any(|c| c.kind == ChangeKind::AssumeRole && c.target == change.target)
        })
    });
    for alternative in &mut plan.alternatives {
        let others = alternative
            .widens
            .iter()
            .filter(|arn| account_of(arn) != reader)
            .count();
        alternative.widens.retain(|arn| account_of(arn) == reader);
        if others > 0 {
            alternative
                .widens
                .push(format!("{others} principal(s) of other accounts"));
        }
        for command in &mut alternative.commands {
            let account = command
                .strip_prefix("# as account ")
                .and_then(|rest| rest.split(':').next());
            if let Some(account) = account
                && account != reader
            {
                *command = format!(
                    "# as account {account}: the command is shown to that account only \
                     (it carries its current policy); it adds the statement above"
                );
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn condition(policy_type: &str, action: &str, resource: &str) -> Condition {
        Condition {
            action: action.to_owned(),
            resource: resource.to_owned(),
            policy_type: policy_type.to_owned(),
            policy: "secret-name".to_owned(),
            sid: Some("SecretSid".to_owned()),
            statement_index: Some(3),
            effect: "Allow".to_owned(),
            when: vec!["StringEquals aws:SourceVpce vpce-secret".to_owned()],
        }
    }

    const API: &str = "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/";
    const USER: &str = "arn:aws:iam::222222222222:user/u";

    fn access() -> Access {
        let hops = vec![Hop {
            from: USER.to_owned(),
            action: "execute-api:Invoke".to_owned(),
            to: API.to_owned(),
            grants: vec![
                "identity policy secret-name #0".to_owned(),
                "resource policy api #1".to_owned(),
            ],
            conditions: vec![
                condition("identity", "execute-api:Invoke", API),
                condition("resource", "execute-api:Invoke", API),
            ],
        }];
        Access {
            principal: USER.to_owned(),
            via: Vec::new(),
            conditions: hops[0].conditions.clone(),
            hops,
        }
    }

    #[test]
    fn the_resource_owner_sees_its_own_statements_and_only_the_owner_of_the_others() {
        let seen = accesses(vec![access()], "111111111111");
        let hidden =
            serde_json::to_string(&(&seen[0].conditions[0], &seen[0].hops[0].conditions[0]))
                .unwrap();
        assert!(!hidden.contains("secret-name") && !hidden.contains("SecretSid"));
        assert!(!hidden.contains("vpce-secret"), "{hidden}");
        assert_eq!(seen[0].principal, USER);
        assert_eq!(
            seen[0].hops[0].grants,
            [
                "identity policy of account 222222222222",
                "resource policy api #1"
            ]
        );
        assert_eq!(seen[0].conditions[1].policy, "secret-name");
        assert_eq!(
            seen[0].conditions[0].policy,
            "(a policy of account 222222222222)"
        );
        assert_eq!(seen[0].conditions[0].statement_index, None);
    }

    #[test]
    fn the_principal_owner_sees_its_identity_statements_but_not_the_resource_policy() {
        let seen = accesses(vec![access()], "222222222222");
        assert_eq!(seen[0].hops[0].grants[0], "identity policy secret-name #0");
        assert_eq!(
            seen[0].hops[0].grants[1],
            "resource policy of account 111111111111"
        );
        assert_eq!(seen[0].conditions[1].when, [HIDDEN_CLAUSES]);
    }

    #[test]
    fn a_plan_hides_other_accounts_commands_denies_and_widened_principals() {
        let plan = Plan {
            action: "execute-api:Invoke".to_owned(),
            resource: API.to_owned(),
            allowed: None,
            explicit_deny: vec!["resource-based policy secret-name #2".to_owned()],
            alternatives: vec![crate::Alternative {
                changes: Vec::new(),
                assume: None,
                widens: vec![
                    "arn:aws:iam::333333333333:user/x".to_owned(),
                    "arn:aws:iam::222222222222:user/y".to_owned(),
                ],
                commands: vec![
                    "# as account 111111111111:\naws apigateway update-rest-api secret-name"
                        .to_owned(),
                    "# as account 222222222222:\naws iam put-user-policy".to_owned(),
                ],
            }],
        };
        let seen = super::plan(plan, "222222222222", "222222222222", "111111111111");
        let text = serde_json::to_string(&seen).unwrap();
        assert!(!text.contains("secret-name") && !text.contains("333333333333"));
        assert_eq!(
            seen.explicit_deny,
            ["resource-based policy of account 111111111111"]
        );
        let alternative = &seen.alternatives[0];
        assert_eq!(
            alternative.widens,
            [
                "arn:aws:iam::222222222222:user/y",
                "1 principal(s) of other accounts"
            ]
        );
        assert!(alternative.commands[1].contains("put-user-policy"));
    }
}
