//! Every principal of the world as a caller the evaluator accepts, and
//! the indexes that keep a question from visiting principals that cannot
//! matter: by account, by ARN, by unique id.

use std::collections::HashMap;
use std::sync::Arc;

use iamgate_iam::world::{RoleEntry, Session};
use iamgate_iam::{Caller, SessionClaims, SessionPrincipal, World, arns};

/// The session name of the role sessions an analysis evaluates as. A
/// policy naming one particular session (`…:assumed-role/R/alice`) is
/// therefore never counted as granting; one naming the role is.
pub const SESSION_NAME: &str = "iamgate-analysis";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Root,
    User,
    Role,
}

pub(crate) struct Principal {
    /// The root, user or role ARN (a role, not one of its sessions).
    pub arn: String,
    pub account: String,
    pub unique_id: Option<String>,
    pub kind: Kind,
    /// How the evaluator sees it calling: a role calls as a session.
    pub caller: Caller,
}

#[derive(Default)]
pub(crate) struct Directory {
    pub list: Vec<Principal>,
    pub by_account: HashMap<String, Vec<usize>>,
    pub by_arn: HashMap<String, usize>,
    pub by_id: HashMap<String, usize>,
}

/// A session of `role`, as STS would issue it with no session policy,
/// no session tags and no source identity.
pub fn role_session(role: &Arc<RoleEntry>) -> Caller {
    let record = &role.record;
    Caller::RoleSession(Box::new(Session {
        claims: SessionClaims {
            account: record.account.clone(),
            principal: SessionPrincipal::AssumedRole {
                role_arn: record.arn(),
                role_id: record.id.clone(),
                role_name: record.name.clone(),
                session_name: SESSION_NAME.to_owned(),
            },
            secret_access_key: String::new(),
            issued_at: 0,
            expires_at: 0,
            chained: false,
            mfa_authenticated: false,
            source_identity: None,
            session_policy: None,
            session_policy_arns: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
        },
        role: Some(role.clone()),
        user: None,
        session_policies: None,
    }))
}

impl Directory {
    pub fn new(world: &World) -> Self {
        let mut directory = Directory::default();
        for account in world.accounts() {
            directory.push(Principal {
                arn: arns::root_arn(account),
                account: account.to_owned(),
                unique_id: None,
                kind: Kind::Root,
                caller: Caller::Root {
                    account: account.to_owned(),
                },
            });
        }
        for user in world.users() {
            directory.push(Principal {
                arn: user.record.arn(),
                account: user.record.account.clone(),
                unique_id: Some(user.record.id.clone()),
                kind: Kind::User,
                caller: Caller::User(user.clone()),
            });
        }
        for role in world.roles() {
            directory.push(Principal {
                arn: role.record.arn(),
                account: role.record.account.clone(),
                unique_id: Some(role.record.id.clone()),
                kind: Kind::Role,
                caller: role_session(role),
            });
        }
        directory
    }

    fn push(&mut self, principal: Principal) {
        let index = self.list.len();
        self.by_account
            .entry(principal.account.clone())
            .or_default()
            .push(index);
        self.by_arn.insert(principal.arn.clone(), index);
        if let Some(id) = &principal.unique_id {
            self.by_id.insert(id.clone(), index);
        }
        self.list.push(principal);
    }

    pub fn get(&self, index: usize) -> Option<&Principal> {
        self.list.get(index)
    }

    /// The principal an ARN names: a root, user or role ARN, or one of a
    /// role's session ARNs.
    pub fn find(&self, arn: &str) -> Option<usize> {
        if let Some(index) = self.by_arn.get(arn) {
            return Some(*index);
        }
        // arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
        let rest = arn.strip_prefix("arn:aws:sts::")?;
        let (account, resource) = rest.split_once(':')?;
        let name = resource.strip_prefix("assumed-role/")?.split('/').next()?;
        self.by_account.get(account)?.iter().copied().find(|&i| {
            self.list
                .get(i)
                .is_some_and(|p| p.kind == Kind::Role && p.arn.rsplit('/').next() == Some(name))
        })
    }
}
