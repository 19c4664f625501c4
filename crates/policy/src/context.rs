//! The request being authorized: who (principal identity attributes), what
//! (action), on what (resource ARN, owner account) and the
//! condition keys.
//!
//! Condition-key names are case-insensitive in IAM, so keys are stored
//! lower-cased once here and policies lower-case theirs once at load; a
//! lookup at evaluation is then a plain hash probe. Principal-derived keys
//! (`aws:PrincipalArn`, `aws:userid`, `aws:username`, `aws:PrincipalType`,
//! `aws:PrincipalAccount`, `aws:PrincipalTag/*`) are filled in by
//! [`RequestContext::new`] from the identity, so they cannot disagree with it.

use std::collections::HashMap;

/// The kind of caller, which decides the identity side of evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PrincipalKind {
    /// Unsigned request: no identity policies, only `Principal: "*"` grants.
    Anonymous,
    /// An account's root user: implicitly allowed on the identity side.
    Root,
    User,
    /// A session of an IAM role (`arn:aws:sts::…:assumed-role/R/S`).
    AssumedRole,
    FederatedUser,
    /// An AWS service principal such as `apigateway.amazonaws.com`.
    Service,
    /// A web-identity or SAML caller, named by its provider.
    WebIdentity,
}

/// The caller's identity attributes (IAM User Guide, "IAM identifiers").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalIdentity {
    pub kind: PrincipalKind,
    /// ARN used for Principal matching and messages (session ARN for roles).
    pub arn: String,
    /// Account of the caller (empty for anonymous and service principals).
    pub account: String,
    /// `AIDA…` for users, `AROA…:session` for role sessions.
    pub unique_id: Option<String>,
    pub user_name: Option<String>,
    /// For role sessions: the role ARN with its path (`aws:PrincipalArn`).
    pub role_arn: Option<String>,
    /// For role sessions: the role's `AROA…` id.
    pub role_unique_id: Option<String>,
    /// Service name or identity provider for `Service`/`WebIdentity`.
    pub provider: Option<String>,
    /// Whether a permissions boundary is attached (a `NotPrincipal` quirk).
    pub has_permissions_boundary: bool,
    /// Principal tags (role tags merged with session tags by the caller).
    pub tags: Vec<(String, String)>,
}

impl PrincipalIdentity {
    fn base(kind: PrincipalKind, arn: String, account: &str) -> Self {
        PrincipalIdentity {
            kind,
            arn,
            account: account.to_string(),
            unique_id: None,
            user_name: None,
            role_arn: None,
            role_unique_id: None,
            provider: None,
            has_permissions_boundary: false,
            tags: Vec::new(),
        }
    }

    pub fn anonymous() -> Self {
        Self::base(PrincipalKind::Anonymous, String::new(), "")
    }

    pub fn root(account: &str) -> Self {
        let mut p = Self::base(
            PrincipalKind::Root,
            format!("arn:aws:iam::{account}:root"),
            account,
        );
        p.unique_id = Some(account.to_string());
        p
    }

    /// An IAM user; `path` is `/` or `/dev/` style.
    pub fn user(account: &str, path: &str, name: &str, unique_id: &str) -> Self {
        let path = normalize_path(path);
        let mut p = Self::base(
            PrincipalKind::User,
            format!("arn:aws:iam::{account}:user{path}{name}"),
            account,
        );
        p.unique_id = Some(unique_id.to_string());
        p.user_name = Some(name.to_string());
        p
    }

    /// A session `session` of role `role_name` (path kept in the role ARN,
    /// dropped from the session ARN, as AWS does).
    pub fn role_session(
        account: &str,
        role_path: &str,
        role_name: &str,
        role_unique_id: &str,
        session: &str,
    ) -> Self {
        let path = normalize_path(role_path);
        let mut p = Self::base(
            PrincipalKind::AssumedRole,
            format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
            account,
        );
        p.unique_id = Some(format!("{role_unique_id}:{session}"));
        p.role_arn = Some(format!("arn:aws:iam::{account}:role{path}{role_name}"));
        p.role_unique_id = Some(role_unique_id.to_string());
        p
    }

    pub fn federated_user(account: &str, name: &str) -> Self {
        let mut p = Self::base(
            PrincipalKind::FederatedUser,
            format!("arn:aws:sts::{account}:federated-user/{name}"),
            account,
        );
        p.unique_id = Some(format!("{account}:{name}"));
        p
    }

    /// An AWS service principal, e.g. `lambda.amazonaws.com`.
    pub fn service(name: &str) -> Self {
        let mut p = Self::base(PrincipalKind::Service, name.to_string(), "");
        p.provider = Some(name.to_string());
        p
    }

    /// A web-identity/SAML caller of `provider` (matched by `Federated`).
    pub fn web_identity(provider: &str) -> Self {
        let mut p = Self::base(PrincipalKind::WebIdentity, provider.to_string(), "");
        p.provider = Some(provider.to_string());
        p
    }

    /// Best-effort identity from an ARN alone (CLI and tests): unique ids
    /// are unknown, a role session's role is assumed to have path `/`.
    pub fn from_arn(arn: &str) -> Option<Self> {
        if arn == "anonymous" || arn == "*" {
            return Some(Self::anonymous());
        }
        let parsed = crate::arn::Arn::parse(arn)?;
        let account = parsed.account;
        match (parsed.service, parsed.resource.split_once('/')) {
            ("iam", None) if parsed.resource == "root" => Some(Self::root(account)),
            ("iam", Some(("user", rest))) => {
                let (path, name) = match rest.rsplit_once('/') {
                    Some((path, name)) => (format!("/{path}/"), name),
                    None => ("/".to_string(), rest),
                };
                let mut p = Self::user(account, &path, name, "");
                p.unique_id = None;
                Some(p)
            }
            ("sts", Some(("assumed-role", rest))) => {
                let (role, session) = rest.split_once('/')?;
                let mut p = Self::role_session(account, "/", role, "", session);
                p.unique_id = None;
                p.role_unique_id = None;
                Some(p)
            }
            ("sts", Some(("federated-user", name))) => Some(Self::federated_user(account, name)),
            _ => None,
        }
    }

    /// `anonymous` or the ARN, as used in AWS's denial messages.
    pub fn display(&self) -> &str {
        if self.kind == PrincipalKind::Anonymous {
            "anonymous"
        } else {
            &self.arn
        }
    }

    fn principal_type(&self) -> Option<&'static str> {
        match self.kind {
            PrincipalKind::Root => Some("Account"),
            PrincipalKind::User => Some("User"),
            PrincipalKind::AssumedRole => Some("AssumedRole"),
            PrincipalKind::FederatedUser => Some("FederatedUser"),
            _ => None,
        }
    }
}

fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        format!("/{trimmed}/")
    }
}

/// A condition-key value: single-valued, or a set for multivalued keys
/// (`aws:TagKeys`, `aws:CalledVia`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    Single(String),
    Multi(Vec<String>),
}

/// Room for the keys a signed execute-api or STS request carries (about a
/// dozen), so building a context does not rehash the map as it grows:
/// every signed request builds one.
const CONTEXT_KEYS_CAPACITY: usize = 16;

/// A context's keys, lower-cased. Built for every evaluated request, so
/// hashed with foldhash (seeded per map, as hashbrown's default) rather
/// than SipHash.
type KeyMap = HashMap<Box<str>, ContextValue, foldhash::fast::RandomState>;

fn set_key(keys: &mut KeyMap, key: &str, value: ContextValue) {
    keys.insert(key.to_ascii_lowercase().into_boxed_str(), value);
}

/// The keys derived from the identity, written from a borrow of it (no
/// copy of the identity per request).
fn add_principal_keys(p: &PrincipalIdentity, keys: &mut KeyMap) {
    if p.kind == PrincipalKind::Anonymous {
        return;
    }
    let single = |value: &str| ContextValue::Single(value.to_owned());
    if let Some(kind) = p.principal_type() {
        set_key(keys, "aws:principaltype", single(kind));
        set_key(keys, "aws:principalaccount", single(&p.account));
        let principal_arn = p.role_arn.as_deref().unwrap_or(&p.arn);
        set_key(keys, "aws:principalarn", single(principal_arn));
    }
    if let Some(id) = &p.unique_id {
        set_key(keys, "aws:userid", single(id));
    }
    if let Some(name) = &p.user_name {
        set_key(keys, "aws:username", single(name));
    }
    for (key, value) in &p.tags {
        set_key(
            keys,
            &format!("aws:principaltag/{}", key.to_ascii_lowercase()),
            single(value),
        );
    }
}

/// Everything evaluation needs to know about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: PrincipalIdentity,
    pub action: String,
    /// The resource ARN; `None` for actions without a resource.
    pub resource: Option<String>,
    resource_account: Option<String>,
    keys: KeyMap,
}

impl RequestContext {
    /// A request by `principal`; principal-derived condition keys are added.
    pub fn new(principal: PrincipalIdentity, action: &str, resource: Option<&str>) -> Self {
        let mut keys = KeyMap::with_capacity_and_hasher(CONTEXT_KEYS_CAPACITY, Default::default());
        add_principal_keys(&principal, &mut keys);
        RequestContext {
            principal,
            action: action.to_string(),
            resource: resource.map(str::to_string),
            resource_account: None,
            keys,
        }
    }

    fn set(&mut self, key: &str, value: ContextValue) {
        set_key(&mut self.keys, key, value);
    }

    /// Adds or replaces a single-valued key (name case-insensitive).
    pub fn with_key(mut self, key: &str, value: &str) -> Self {
        self.set(key, ContextValue::Single(value.to_string()));
        self
    }

    /// [`RequestContext::with_key`] for a value the caller built for the
    /// context (a formatted time, an address): it is moved in, not copied.
    pub fn with_key_owned(mut self, key: &str, value: String) -> Self {
        self.set(key, ContextValue::Single(value));
        self
    }

    /// Adds or replaces a multivalued key.
    pub fn with_multi_key<S: AsRef<str>>(mut self, key: &str, values: &[S]) -> Self {
        let values = values.iter().map(|v| v.as_ref().to_string()).collect();
        self.set(key, ContextValue::Multi(values));
        self
    }

    /// Removes a key (e.g. to model a request without it).
    pub fn without_key(mut self, key: &str) -> Self {
        self.keys.remove(key.to_ascii_lowercase().as_str());
        self
    }

    /// The resource owner's account, when it is not the ARN's account field.
    pub fn with_resource_account(mut self, account: &str) -> Self {
        self.resource_account = Some(account.to_string());
        self
    }

    /// Looks up a key already lower-cased (policies lower-case at load).
    pub fn get_lowercase(&self, key: &str) -> Option<&ContextValue> {
        self.keys.get(key)
    }

    /// Looks up a key by any spelling.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.keys.get(key.to_ascii_lowercase().as_str())
    }

    /// A single-valued key's value (lower-cased name); sets resolve to None,
    /// as only single-valued keys can be policy variables.
    pub fn single_value(&self, key_lowercase: &str) -> Option<&str> {
        match self.keys.get(key_lowercase)? {
            ContextValue::Single(value) => Some(value),
            ContextValue::Multi(_) => None,
        }
    }

    /// All keys, lower-cased, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.keys.iter().map(|(k, v)| (&**k, v))
    }

    /// The account owning the resource: explicit, else the ARN's account
    /// field, else (no way to tell) the caller's own account.
    pub fn resource_owner(&self) -> &str {
        if let Some(account) = &self.resource_account {
            return account;
        }
        self.resource
            .as_deref()
            .and_then(crate::arn::Arn::parse)
            .map(|arn| arn.account)
            .filter(|account| !account.is_empty())
            .unwrap_or(&self.principal.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_session_keys_follow_the_principal_table() {
        let p =
            PrincipalIdentity::role_session("111122223333", "/svc/", "app", "AROAEXAMPLE", "s1");
        assert_eq!(p.arn, "arn:aws:sts::111122223333:assumed-role/app/s1");
        let ctx = RequestContext::new(p, "execute-api:Invoke", None);
        assert_eq!(
            ctx.single_value("aws:principalarn"),
            Some("arn:aws:iam::111122223333:role/svc/app")
        );
        assert_eq!(ctx.single_value("aws:userid"), Some("AROAEXAMPLE:s1"));
        assert_eq!(ctx.single_value("aws:principaltype"), Some("AssumedRole"));
        assert_eq!(ctx.single_value("aws:username"), None);
    }

    #[test]
    fn key_lookup_ignores_case() {
        let ctx = RequestContext::new(
            PrincipalIdentity::root("111122223333"),
            "s3:GetObject",
            None,
        )
        .with_key("AWS:SourceIp", "10.0.0.1");
        assert_eq!(
            ctx.get("aws:sourceip"),
            Some(&ContextValue::Single("10.0.0.1".into()))
        );
        assert_eq!(ctx.single_value("aws:principaltype"), Some("Account"));
    }

    #[test]
    fn anonymous_has_no_principal_keys() {
        let ctx = RequestContext::new(PrincipalIdentity::anonymous(), "execute-api:Invoke", None);
        assert_eq!(ctx.keys().count(), 0);
        assert_eq!(ctx.principal.display(), "anonymous");
    }

    #[test]
    fn identity_from_arn_recognizes_users_with_paths_and_sessions() {
        let p = PrincipalIdentity::from_arn("arn:aws:iam::111122223333:user/dev/alice").unwrap();
        assert_eq!(p.kind, PrincipalKind::User);
        assert_eq!(p.user_name.as_deref(), Some("alice"));
        assert_eq!(p.arn, "arn:aws:iam::111122223333:user/dev/alice");
        let s =
            PrincipalIdentity::from_arn("arn:aws:sts::111122223333:assumed-role/app/s1").unwrap();
        assert_eq!(
            s.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/app")
        );
    }

    #[test]
    fn resource_owner_defaults_to_the_arn_account() {
        let ctx = RequestContext::new(
            PrincipalIdentity::root("222222222222"),
            "execute-api:Invoke",
            Some("arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/"),
        );
        assert_eq!(ctx.resource_owner(), "111111111111");
        let s3 = RequestContext::new(
            PrincipalIdentity::root("222222222222"),
            "s3:GetObject",
            Some("arn:aws:s3:::bucket/key"),
        );
        assert_eq!(s3.resource_owner(), "222222222222");
    }
}

/// A request context packed into three buffers, for keeping it long after
/// the request: a decision record holds its request's context until
/// someone reads the record, and a context is one allocation per key and
/// value, which the allocator pays for again when the record is pushed out
/// (see `crates/decisions`). [`CompactContext::expand`] gives the same
/// context back.
#[derive(Debug, Clone)]
pub struct CompactContext {
    /// Every text, one after the other.
    text: String,
    /// Where each text ends; [`ABSENT`] for an absent optional one.
    ends: Vec<u32>,
    /// The number of tags, of keys, and each key's number of values
    /// ([`ABSENT`]: single-valued).
    counts: Vec<u32>,
    kind: PrincipalKind,
    has_permissions_boundary: bool,
}

const ABSENT: u32 = u32::MAX;

/// Writes texts into a [`CompactContext`]'s buffers.
struct Packer {
    text: String,
    ends: Vec<u32>,
    counts: Vec<u32>,
}

impl Packer {
    fn text(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(ABSENT - 1));
    }

    fn optional(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.text(text),
            None => self.ends.push(ABSENT),
        }
    }

    fn count(&mut self, count: usize) {
        self.counts.push(u32::try_from(count).unwrap_or(ABSENT - 1));
    }
}

/// Reads a [`CompactContext`]'s buffers back in the order they were written.
struct Unpacker<'a> {
    packed: &'a CompactContext,
    start: usize,
    end: usize,
    count: usize,
}

impl<'a> Unpacker<'a> {
    fn optional(&mut self) -> Option<&'a str> {
        let end = *self.packed.ends.get(self.end)?;
        self.end += 1;
        if end == ABSENT {
            return None;
        }
        let end = usize::try_from(end).ok()?;
        let text = self.packed.text.get(self.start..end)?;
        self.start = end;
        Some(text)
    }

    fn text(&mut self) -> String {
        self.optional().unwrap_or_default().to_owned()
    }

    fn count(&mut self) -> u32 {
        let count = self.packed.counts.get(self.count).copied().unwrap_or(0);
        self.count += 1;
        count
    }
}

impl RequestContext {
    /// This context packed into a few buffers.
    pub fn to_compact(&self) -> CompactContext {
        let p = &self.principal;
        // Sized once: growing the buffers showed in the hot path's profile.
        let values: usize = self
            .keys
            .iter()
            .map(|(key, value)| {
                key.len()
                    + match value {
                        ContextValue::Single(value) => value.len(),
                        ContextValue::Multi(values) => values.iter().map(String::len).sum(),
                    }
            })
            .sum();
        let mut packer = Packer {
            text: String::with_capacity(values + 256),
            ends: Vec::with_capacity(2 * self.keys.len() + 16),
            counts: Vec::with_capacity(self.keys.len() + 2),
        };
        packer.text(&p.arn);
        packer.text(&p.account);
        for optional in [
            &p.unique_id,
            &p.user_name,
            &p.role_arn,
            &p.role_unique_id,
            &p.provider,
        ] {
            packer.optional(optional.as_deref());
        }
        packer.count(p.tags.len());
        for (key, value) in &p.tags {
            packer.text(key);
            packer.text(value);
        }
        packer.text(&self.action);
        packer.optional(self.resource.as_deref());
        packer.optional(self.resource_account.as_deref());
        packer.count(self.keys.len());
        for (key, value) in &self.keys {
            packer.text(key);
            match value {
                ContextValue::Single(value) => {
                    packer.counts.push(ABSENT);
                    packer.text(value);
                }
                ContextValue::Multi(values) => {
                    packer.count(values.len());
                    for value in values {
                        packer.text(value);
                    }
                }
            }
        }
        CompactContext {
            text: packer.text,
            ends: packer.ends,
            counts: packer.counts,
            kind: p.kind,
            has_permissions_boundary: p.has_permissions_boundary,
        }
    }
}

impl CompactContext {
    /// The context this was packed from.
    pub fn expand(&self) -> RequestContext {
        let mut unpacker = Unpacker {
            packed: self,
            start: 0,
            end: 0,
            count: 0,
        };
        let arn = unpacker.text();
        let account = unpacker.text();
        let mut optional = || unpacker.optional().map(str::to_owned);
        let (unique_id, user_name, role_arn, role_unique_id, provider) =
            (optional(), optional(), optional(), optional(), optional());
        let tags = (0..unpacker.count())
            .map(|_| (unpacker.text(), unpacker.text()))
            .collect();
        let principal = PrincipalIdentity {
            kind: self.kind,
            arn,
            account,
            unique_id,
            user_name,
            role_arn,
            role_unique_id,
            provider,
            has_permissions_boundary: self.has_permissions_boundary,
            tags,
        };
        let action = unpacker.text();
        let resource = unpacker.optional().map(str::to_owned);
        let resource_account = unpacker.optional().map(str::to_owned);
        let mut keys = KeyMap::with_capacity_and_hasher(CONTEXT_KEYS_CAPACITY, Default::default());
        for _ in 0..unpacker.count() {
            let key = unpacker.text().into_boxed_str();
            let value = match unpacker.count() {
                ABSENT => ContextValue::Single(unpacker.text()),
                values => ContextValue::Multi((0..values).map(|_| unpacker.text()).collect()),
            };
            keys.insert(key, value);
        }
        RequestContext {
            principal,
            action,
            resource,
            resource_account,
            keys,
        }
    }

    /// The bytes it holds.
    pub fn approximate_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.text.len() + 4 * (self.ends.len() + self.counts.len())
    }
}
