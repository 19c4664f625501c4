//! `Principal` / `NotPrincipal` matching and match classes (IAM User Guide,
//! "AWS JSON policy elements: Principal" and "…: NotPrincipal").
//!
//! How far a resource-policy grant reaches depends on *how* it named the
//! caller (account, role, exact session, everyone), so matching returns the
//! set of classes that matched rather than a bool; evaluation then
//! decides with that set.

use crate::context::{PrincipalIdentity, PrincipalKind};
use crate::tunables::{NOTPRINCIPAL_REQUIRES_ALL_LEVELS, NOTPRINCIPAL_USER_LEVEL_SERVICES};

/// How a resource-policy statement named the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MatchClass {
    /// `"*"` / `{"AWS":"*"}`: everyone, anonymous included.
    Star,
    /// An account id or `arn:aws:iam::ACCOUNT:root`: any principal of it.
    Account,
    /// The exact user, session or federated-user ARN, or a unique id.
    Direct,
    /// A role ARN (or `AROA…` id): every session of that role.
    RoleSession,
    /// `{"Service": …}`.
    Service,
    /// `{"Federated": …}`.
    Federated,
}

impl MatchClass {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A small set of [`MatchClass`]es (no allocation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassSet(u8);

impl ClassSet {
    pub fn insert(&mut self, class: MatchClass) {
        self.0 |= class.bit();
    }

    pub fn contains(self, class: MatchClass) -> bool {
        self.0 & class.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: ClassSet) -> ClassSet {
        ClassSet(self.0 | other.0)
    }

    /// The classes in a fixed, readable order.
    pub fn iter(self) -> impl Iterator<Item = MatchClass> {
        [
            MatchClass::Direct,
            MatchClass::Star,
            MatchClass::RoleSession,
            MatchClass::Account,
            MatchClass::Service,
            MatchClass::Federated,
        ]
        .into_iter()
        .filter(move |c| self.contains(*c))
    }
}

/// One entry of a Principal element, classified at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    Star,
    /// Twelve-digit account (from `"123…"` or `…:root`).
    Account(String),
    /// Exact ARN of a user, assumed-role session or federated user.
    Arn(String),
    /// A role ARN with path.
    Role(String),
    /// A unique id: `AIDA…` (user) or `AROA…` (role).
    UniqueId(String),
    Service(String),
    Federated(String),
    /// `CanonicalUser` (S3 only): never matches here.
    CanonicalUser(String),
    /// Not a valid principal (partial wildcard, garbage): never matches.
    Invalid(String),
}

impl PrincipalEntry {
    /// Classifies an `"AWS"` value.
    pub fn from_aws(value: &str) -> PrincipalEntry {
        if value == "*" {
            return PrincipalEntry::Star;
        }
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            return PrincipalEntry::Account(value.to_string());
        }
        if value.contains(['*', '?']) {
            return PrincipalEntry::Invalid(value.to_string());
        }
        if let Some(arn) = crate::arn::Arn::parse(value) {
            let account_ok =
                arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit());
            if !account_ok {
                return PrincipalEntry::Invalid(value.to_string());
            }
            return match (arn.service, arn.resource) {
                ("iam", "root") => PrincipalEntry::Account(arn.account.to_string()),
                ("iam", r) if r.starts_with("role/") => PrincipalEntry::Role(value.to_string()),
                ("iam", r) if r.starts_with("user/") => PrincipalEntry::Arn(value.to_string()),
                ("sts", r)
                    if r.starts_with("assumed-role/") || r.starts_with("federated-user/") =>
                {
                    PrincipalEntry::Arn(value.to_string())
                }
                _ => PrincipalEntry::Invalid(value.to_string()),
            };
        }
        let unique_id = value.len() >= 16
            && (value.starts_with("AIDA") || value.starts_with("AROA"))
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if unique_id {
            return PrincipalEntry::UniqueId(value.to_string());
        }
        PrincipalEntry::Invalid(value.to_string())
    }

    /// The class this entry matches `who` with, if it does.
    pub fn match_class(&self, who: &PrincipalIdentity) -> Option<MatchClass> {
        let iam_caller = matches!(
            who.kind,
            PrincipalKind::Root
                | PrincipalKind::User
                | PrincipalKind::AssumedRole
                | PrincipalKind::FederatedUser
        );
        match self {
            PrincipalEntry::Star => Some(MatchClass::Star),
            PrincipalEntry::Account(account) => {
                (iam_caller && who.account == *account).then_some(MatchClass::Account)
            }
            PrincipalEntry::Arn(arn) => {
                (iam_caller && who.arn == *arn).then_some(MatchClass::Direct)
            }
            PrincipalEntry::Role(arn) => (who.kind == PrincipalKind::AssumedRole
                && who.role_arn.as_deref() == Some(arn.as_str()))
            .then_some(MatchClass::RoleSession),
            PrincipalEntry::UniqueId(id) => {
                if id.starts_with("AROA") {
                    (who.kind == PrincipalKind::AssumedRole
                        && who.role_unique_id.as_deref() == Some(id.as_str()))
                    .then_some(MatchClass::RoleSession)
                } else {
                    (iam_caller && who.unique_id.as_deref() == Some(id.as_str()))
                        .then_some(MatchClass::Direct)
                }
            }
            PrincipalEntry::Service(name) => (who.kind == PrincipalKind::Service
                && who.provider.as_deref() == Some(name.as_str()))
            .then_some(MatchClass::Service),
            PrincipalEntry::Federated(name) => (who.kind == PrincipalKind::WebIdentity
                && who.provider.as_deref() == Some(name.as_str()))
            .then_some(MatchClass::Federated),
            PrincipalEntry::CanonicalUser(_) | PrincipalEntry::Invalid(_) => None,
        }
    }
}

/// A `Principal` (or, `negated`, `NotPrincipal`) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

impl PrincipalBlock {
    /// Classes under which the entries match `who` (empty: no match).
    pub fn classes(&self, who: &PrincipalIdentity) -> ClassSet {
        let mut set = ClassSet::default();
        for entry in &self.entries {
            if let Some(class) = entry.match_class(who) {
                set.insert(class);
            }
        }
        set
    }

    /// Whether the statement applies to `who` calling `action`: for
    /// `Principal`, some entry matches; for `NotPrincipal`, the caller is
    /// not exempted. Exemption needs every level of the caller listed
    /// (account, role, session / user; a user alone for the services of
    /// `NOTPRINCIPAL_USER_LEVEL_SERVICES`), and a caller with a permissions
    /// boundary is never exempted (an AWS quirk).
    pub fn applies_to(&self, who: &PrincipalIdentity, action: &str) -> bool {
        let classes = self.classes(who);
        if !self.negated {
            return !classes.is_empty();
        }
        if who.has_permissions_boundary {
            return true;
        }
        let exempt = if classes.contains(MatchClass::Star) {
            true
        } else if !NOTPRINCIPAL_REQUIRES_ALL_LEVELS {
            !classes.is_empty()
        } else {
            match who.kind {
                PrincipalKind::Root => classes.contains(MatchClass::Account),
                PrincipalKind::User | PrincipalKind::FederatedUser => {
                    classes.contains(MatchClass::Direct)
                        && (classes.contains(MatchClass::Account) || user_level_suffices(action))
                }
                PrincipalKind::AssumedRole => {
                    classes.contains(MatchClass::Account)
                        && classes.contains(MatchClass::RoleSession)
                        && classes.contains(MatchClass::Direct)
                }
                PrincipalKind::Service => classes.contains(MatchClass::Service),
                PrincipalKind::WebIdentity => classes.contains(MatchClass::Federated),
                PrincipalKind::Anonymous => false,
            }
        };
        !exempt
    }
}

/// Whether `action`'s service exempts a user named alone in `NotPrincipal`.
fn user_level_suffices(action: &str) -> bool {
    let service = action
        .split_once(':')
        .map_or(action, |(service, _)| service);
    NOTPRINCIPAL_USER_LEVEL_SERVICES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(service))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> PrincipalIdentity {
        PrincipalIdentity::user("111122223333", "/", "alice", "AIDAJQABLZS4A3QDU576Q")
    }

    fn session(account: &str, path: &str, role: &str, name: &str) -> PrincipalIdentity {
        PrincipalIdentity::role_session(account, path, role, "AROA1234567890EXAMPLE", name)
    }

    fn class(entry: &str, who: &PrincipalIdentity) -> Option<MatchClass> {
        PrincipalEntry::from_aws(entry).match_class(who)
    }

    #[test]
    fn worked_examples_of_spec_section_5() {
        use MatchClass::*;
        let anon = PrincipalIdentity::anonymous();
        let s1 = session("111122223333", "/svc/", "app", "s1");
        let eve = PrincipalIdentity::user("444455556666", "/", "eve", "AIDAEVE0000000000000");
        let bob = PrincipalIdentity::user("444455556666", "/", "bob", "AIDABOB0000000000000");
        assert_eq!(class("*", &anon), Some(Star));
        assert_eq!(class("111122223333", &alice()), Some(Account));
        assert_eq!(class("arn:aws:iam::111122223333:root", &s1), Some(Account));
        assert_eq!(class("arn:aws:iam::111122223333:root", &eve), None);
        assert_eq!(
            class("arn:aws:iam::111122223333:user/alice", &alice()),
            Some(Direct)
        );
        assert_eq!(
            class("arn:aws:iam::111122223333:user/Alice", &alice()),
            None
        );
        assert_eq!(
            class("arn:aws:iam::111122223333:role/svc/app", &s1),
            Some(RoleSession)
        );
        assert_eq!(class("arn:aws:iam::111122223333:role/app", &s1), None);
        let s2 = session("111122223333", "/svc/", "app", "s2");
        assert_eq!(
            class("arn:aws:sts::111122223333:assumed-role/app/s1", &s2),
            None
        );
        assert_eq!(
            class("arn:aws:sts::111122223333:assumed-role/app/s1", &s1),
            Some(Direct)
        );
        let list = PrincipalBlock {
            negated: false,
            entries: vec![
                PrincipalEntry::from_aws("arn:aws:iam::444455556666:user/eve"),
                PrincipalEntry::from_aws("444455556666"),
            ],
        };
        assert_eq!(list.classes(&bob).iter().collect::<Vec<_>>(), vec![Account]);
        let service = PrincipalEntry::Service("apigateway.amazonaws.com".into());
        assert_eq!(service.match_class(&alice()), None);
        assert_eq!(
            service.match_class(&PrincipalIdentity::service("apigateway.amazonaws.com")),
            Some(Service)
        );
    }

    #[test]
    fn stored_unique_id_does_not_match_a_recreated_user() {
        let recreated =
            PrincipalIdentity::user("111122223333", "/", "alice", "AIDANEWALICE00000000");
        assert_eq!(
            class("AIDAJQABLZS4A3QDU576Q", &alice()),
            Some(MatchClass::Direct)
        );
        assert_eq!(class("AIDAJQABLZS4A3QDU576Q", &recreated), None);
    }

    #[test]
    fn partial_wildcards_are_invalid_principals() {
        let entry = PrincipalEntry::from_aws("arn:aws:iam::111122223333:role/*");
        assert!(matches!(entry, PrincipalEntry::Invalid(_)));
        assert_eq!(
            entry.match_class(&session("111122223333", "/", "x", "s")),
            None
        );
    }

    #[test]
    fn not_principal_exempts_a_session_only_when_every_level_is_listed() {
        let s1 = session("111122223333", "/", "app", "s1");
        let all = |entries: &[&str]| PrincipalBlock {
            negated: true,
            entries: entries
                .iter()
                .map(|e| PrincipalEntry::from_aws(e))
                .collect(),
        };
        let session_only = all(&["arn:aws:sts::111122223333:assumed-role/app/s1"]);
        assert!(session_only.applies_to(&s1, "sts:AssumeRole"));
        let every_level = all(&[
            "111122223333",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:sts::111122223333:assumed-role/app/s1",
        ]);
        assert!(!every_level.applies_to(&s1, "sts:AssumeRole"));
        let mut bounded = s1.clone();
        bounded.has_permissions_boundary = true;
        assert!(every_level.applies_to(&bounded, "sts:AssumeRole"));
        let user_levels = all(&["111122223333", "arn:aws:iam::111122223333:user/alice"]);
        assert!(!user_levels.applies_to(&alice(), "s3:GetObject"));
        assert!(user_levels.applies_to(&PrincipalIdentity::anonymous(), "s3:GetObject"));
    }

    #[test]
    fn not_principal_exempts_a_user_listed_alone_only_where_observed() {
        let user_only = PrincipalBlock {
            negated: true,
            entries: vec![PrincipalEntry::from_aws(
                "arn:aws:iam::111122223333:user/alice",
            )],
        };
        // Seed 003: a REST API resource policy lets the user in.
        assert!(!user_only.applies_to(&alice(), "execute-api:Invoke"));
        // Elsewhere AWS may validate the account first: the user is denied.
        assert!(user_only.applies_to(&alice(), "s3:GetObject"));
        let bob = PrincipalIdentity::user("111122223333", "/", "bob", "AIDABOB0000000000000");
        assert!(user_only.applies_to(&bob, "execute-api:Invoke"));
    }
}
