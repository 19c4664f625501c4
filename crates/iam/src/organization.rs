//! AWS Organizations: the accounts' tree and its service control policies
//! (SCPs), from the world file's `organization:` section.
//!
//! ```yaml
//! organization:
//!   management_account: "111111111111"
//!   accounts: ["444444444444"]            # directly under the root
//!   organizational_units:
//!     - name: Workloads
//!       accounts: ["222222222222"]
//!       organizational_units:
//!         - { name: Prod, accounts: ["333333333333"] }
//!   service_control_policies:
//!     - name: DenyLeaving
//!       document: { Version: "2012-10-17", Statement: [ … ] }
//!       targets: [root, Workloads/Prod, "222222222222"]
//! ```
//!
//! # How SCPs decide (AWS Organizations User Guide, "SCP evaluation")
//!
//! An account's principals are limited by the SCPs of every level on the
//! direct path from the root to the account: the root, each OU, and the
//! account itself. At each level some attached SCP must allow the action,
//! and a Deny in any of them denies. SCPs never grant: they only narrow.
//! The management account is not affected, and neither are service-linked
//! roles (path `/aws-service-role/`). An account of the world that is not
//! placed in the organization has no SCPs.
//!
//! # `FullAWSAccess`
//!
//! When SCPs are enabled, AWS attaches its managed `FullAWSAccess` SCP
//! (`p-FullAWSAccess`, allow everything) to the root, every OU and every
//! account, and to each OU and account created or invited later. So unless
//! the file lists `FullAWSAccess` itself among
//! `service_control_policies` (then with exactly the targets it names, as
//! `list-targets-for-policy` shows after someone detached it somewhere),
//! it is attached everywhere. A level with no SCP at all allows nothing
//! (AWS refuses to detach the last one; here it fails closed).
//!
//! # Ids
//!
//! The root, OUs, policies and the organization may declare AWS's ids
//! (`r-…`, `ou-…`, `p-…`, `o-…`); those left out are derived from names,
//! so applying the same file again yields the same ids. A target names the
//! root (`root` or its id), an OU (its id, or its path of names from the
//! root: `Workloads/Prod`) or an account (12 digits).
//!
//! One organization per world: an account belongs to at most one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use iamgate_policy::compiled::CompiledPolicies;
use iamgate_policy::{NamedPolicy, PolicyDocument, PolicyKind};
use iamgate_yaml::{Fields, Node};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Checker;
use crate::records::Record;

/// `FullAWSAccess`, AWS's managed SCP.
pub const FULL_AWS_ACCESS_NAME: &str = "FullAWSAccess";
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// Its document (Organizations console, policy `p-FullAWSAccess`).
pub const FULL_AWS_ACCESS_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// Roles on this path are service-linked: SCPs do not limit them.
pub const SERVICE_LINKED_ROLE_PATH: &str = "/aws-service-role/";
/// Organizations quota: SCPs attached to one root, OU or account.
pub const SCPS_PER_TARGET: usize = 5;
/// Organizations quota: OUs nested below the root.
pub const OU_DEPTH: usize = 5;

/// The organization as stored: every OU and account placed by its
/// parent's id, every SCP with the ids of its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    /// `o-…`.
    pub id: String,
    pub management_account: String,
    /// `r-…`.
    pub root_id: String,
    /// Parents before children.
    #[serde(default)]
    pub units: Vec<UnitRecord>,
    #[serde(default)]
    pub accounts: Vec<MemberRecord>,
    #[serde(default)]
    pub policies: Vec<ScpRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// `ou-…`.
    pub id: String,
    pub name: String,
    /// The root's or another OU's id.
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// 12 digits.
    pub id: String,
    /// The root's or an OU's id.
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScpRecord {
    /// `p-…`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// JSON text.
    pub document: String,
    /// Ids of the root, OUs and accounts it is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
}

impl Record for OrganizationRecord {
    const KIND: &'static str = "organization";
    fn scope(&self) -> &str {
        "organization"
    }
    fn key(&self) -> String {
        "organization".to_owned()
    }
}

impl OrganizationRecord {
    /// The path of ids from the root to the account (root first, the
    /// account last); `None` when the account is not a member.
    pub fn path_of(&self, account: &str) -> Option<Vec<&str>> {
        let member = self.accounts.iter().find(|m| m.id == account)?;
        let parents: HashMap<&str, &str> = self
            .units
            .iter()
            .map(|u| (u.id.as_str(), u.parent.as_str()))
            .collect();
        let mut path = vec![member.id.as_str()];
        let mut at = member.parent.as_str();
        // Bounded: a stored tree is checked when read, but a cycle must
        // not loop.
        for _ in 0..=self.units.len() {
            path.push(at);
            if at == self.root_id {
                path.reverse();
                return Some(path);
            }
            at = parents.get(at)?;
        }
        None
    }
}

/// A stable id from a name, with AWS's id alphabet (lower-case letters and
/// digits).
fn derived(prefix: &str, seed: &str, length: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut id = String::from(prefix);
    for byte in digest.iter().take(length) {
        let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let digit = alphabet
            .get(usize::from(*byte) % 36)
            .copied()
            .unwrap_or(b'0');
        id.push(char::from(digit));
    }
    id
}

fn all_lower_alnum(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// AWS's id patterns (Organizations API reference).
fn valid_org_id(id: &str) -> bool {
    id.strip_prefix("o-")
        .is_some_and(|rest| (10..=32).contains(&rest.len()) && all_lower_alnum(rest))
}
fn valid_root_id(id: &str) -> bool {
    id.strip_prefix("r-")
        .is_some_and(|rest| (4..=32).contains(&rest.len()) && all_lower_alnum(rest))
}
fn valid_ou_id(id: &str) -> bool {
    id.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, own)| {
            (4..=32).contains(&root.len())
                && all_lower_alnum(root)
                && (8..=32).contains(&own.len())
                && all_lower_alnum(own)
        })
}
fn valid_policy_id(id: &str) -> bool {
    id == FULL_AWS_ACCESS_ID
        || id.strip_prefix("p-").is_some_and(|rest| {
            (8..=128).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}
fn valid_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// What the reader keeps while walking the OU tree.
struct Tree {
    root_id: String,
    units: Vec<UnitRecord>,
    accounts: Vec<MemberRecord>,
    /// OU path of names (`A/B`) → id.
    unit_paths: HashMap<String, String>,
    /// Account → where it was placed (YAML path).
    placed: HashMap<String, String>,
}

impl Checker {
    /// Reads the `organization:` section.
    pub(crate) fn organization(&mut self, node: &Node, path: &str) -> Option<OrganizationRecord> {
        let fields = self.fields(
            node,
            path,
            &[
                "id",
                "management_account",
                "root_id",
                "accounts",
                "organizational_units",
                "service_control_policies",
            ],
        )?;
        let management = self.required_text(&fields, "management_account");
        if let Some((account, at)) = &management
            && !valid_account_id(account)
        {
            let message = format!("account id {account:?} must be 12 digits");
            self.error(at, &fields.path("management_account"), None, message);
        }
        let management = management.map(|(a, _)| a).unwrap_or_default();
        let id = self.checked_id(&fields, "id", valid_org_id, "o-[a-z0-9]{10,32}");
        let id = id.unwrap_or_else(|| derived("o-", &management, 10));
        let root_id = self.checked_id(&fields, "root_id", valid_root_id, "r-[a-z0-9]{4,32}");
        let root_id = root_id.unwrap_or_else(|| derived("r-", &id, 4));
        let mut tree = Tree {
            root_id: root_id.clone(),
            units: Vec::new(),
            accounts: Vec::new(),
            unit_paths: HashMap::new(),
            placed: HashMap::new(),
        };
        self.members(&fields, &root_id, &mut tree);
        self.units(&fields, &root_id, "", 1, &mut tree);
        if !management.is_empty() && !tree.placed.contains_key(&management) {
            // The management account is always in its organization.
            tree.accounts.push(MemberRecord {
                id: management.clone(),
                parent: root_id.clone(),
            });
        }
        let policies = self.service_control_policies(&fields, &tree);
        Some(OrganizationRecord {
            id,
            management_account: management,
            root_id,
            units: tree.units,
            accounts: tree.accounts,
            policies,
        })
    }

    fn checked_id(
        &mut self,
        fields: &Fields<'_>,
        member: &str,
        valid: fn(&str) -> bool,
        pattern: &str,
    ) -> Option<String> {
        let at = fields.get(member)?;
        let id = self.text(at, &fields.path(member))?;
        if !valid(&id) {
            let message = format!("{id:?} is not an id of this kind: it must match {pattern}");
            self.error(at, &fields.path(member), None, message);
        }
        Some(id)
    }

    /// `accounts:` of the root or an OU.
    fn members(&mut self, fields: &Fields<'_>, parent: &str, tree: &mut Tree) {
        let list_path = fields.path("accounts");
        for (index, node) in self
            .list(fields.get("accounts"), &list_path)
            .iter()
            .enumerate()
        {
            let path = format!("{list_path}[{index}]");
            let Some(account) = self.text(node, &path) else {
                continue;
            };
            if !valid_account_id(&account) {
                self.error(
                    node,
                    &path,
                    None,
                    format!("account id {account:?} must be 12 digits"),
                );
                continue;
            }
            if let Some(first) = tree.placed.get(&account) {
                let message = format!(
                    "account {account} is already placed at {first}: an account has one parent"
                );
                self.error(node, &path, None, message);
                continue;
            }
            tree.placed.insert(account.clone(), path);
            tree.accounts.push(MemberRecord {
                id: account,
                parent: parent.to_owned(),
            });
        }
    }

    /// `organizational_units:` of the root or an OU, depth first.
    fn units(
        &mut self,
        fields: &Fields<'_>,
        parent: &str,
        parent_path: &str,
        depth: usize,
        tree: &mut Tree,
    ) {
        let list_path = fields.path("organizational_units");
        let list = self.list(fields.get("organizational_units"), &list_path);
        if depth > OU_DEPTH
            && let Some(first) = list.first()
        {
            let message = format!("OUs nest at most {OU_DEPTH} levels below the root");
            self.error(first, &list_path, Some("ConstraintViolation"), message);
            return;
        }
        let mut names: HashSet<String> = HashSet::new();
        for (index, node) in list.iter().enumerate() {
            let path = format!("{list_path}[{index}]");
            let Some(unit) = self.fields(
                node,
                &path,
                &["name", "id", "accounts", "organizational_units"],
            ) else {
                continue;
            };
            let Some((name, name_node)) = self.required_text(&unit, "name") else {
                continue;
            };
            let bad_name = name.is_empty()
                || name.chars().count() > 128
                || name.contains('/')
                || name.chars().any(char::is_control);
            if bad_name {
                let message = format!(
                    "OU name {name:?} must be 1 to 128 characters, without `/` (targets use it to name OU paths)"
                );
                self.error(name_node, &unit.path("name"), None, message);
            }
            if !names.insert(name.clone()) {
                let message = format!("an OU named {name} already exists under the same parent");
                self.error(
                    name_node,
                    &unit.path("name"),
                    Some("DuplicateOrganizationalUnitException"),
                    message,
                );
            }
            let unit_path = if parent_path.is_empty() {
                name.clone()
            } else {
                format!("{parent_path}/{name}")
            };
            let root_suffix = tree.root_id.trim_start_matches("r-").to_owned();
            let id = self
                .checked_id(&unit, "id", valid_ou_id, "ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}")
                .unwrap_or_else(|| derived(&format!("ou-{root_suffix}-"), &unit_path, 8));
            if tree.units.iter().any(|u| u.id == id) {
                let message = format!("OU id {id} is already declared");
                self.error(node, &path, None, message);
            }
            tree.unit_paths.insert(unit_path.clone(), id.clone());
            tree.units.push(UnitRecord {
                id: id.clone(),
                name,
                parent: parent.to_owned(),
            });
            self.members(&unit, &id, tree);
            self.units(&unit, &id, &unit_path, depth + 1, tree);
        }
    }

    fn service_control_policies(&mut self, fields: &Fields<'_>, tree: &Tree) -> Vec<ScpRecord> {
        let list_path = fields.path("service_control_policies");
        let mut policies = Vec::new();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut per_target: BTreeMap<String, Vec<(String, &Node, String)>> = BTreeMap::new();
        let list = self.list(fields.get("service_control_policies"), &list_path);
        for (index, node) in list.iter().enumerate() {
            let path = format!("{list_path}[{index}]");
            let Some(policy) = self.fields(
                node,
                &path,
                &["name", "id", "description", "document", "targets"],
            ) else {
                continue;
            };
            let Some((name, name_node)) = self.required_text(&policy, "name") else {
                continue;
            };
            if name.is_empty() || name.chars().count() > 128 {
                let message = format!("policy name {name:?} must be 1 to 128 characters");
                self.error(name_node, &policy.path("name"), None, message);
            }
            if let Some(first) = names.insert(name.clone(), path.clone()) {
                let message = format!("a policy named {name} is already declared at {first}");
                self.error(
                    name_node,
                    &policy.path("name"),
                    Some("DuplicatePolicyException"),
                    message,
                );
            }
            let full_access = name == FULL_AWS_ACCESS_NAME;
            let id = self
                .checked_id(&policy, "id", valid_policy_id, "p-[0-9a-zA-Z_]{8,128}")
                .unwrap_or_else(|| {
                    if full_access {
                        FULL_AWS_ACCESS_ID.to_owned()
                    } else {
                        derived("p-", &name, 8)
                    }
                });
            let description = policy
                .get("description")
                .and_then(|at| self.text(at, &policy.path("description")));
            let document = match policy.get("document") {
                Some(at) => self
                    .document(at, &policy.path("document"), PolicyKind::ServiceControl)
                    .unwrap_or_default(),
                None if full_access => FULL_AWS_ACCESS_DOCUMENT.to_owned(),
                None => {
                    self.missing(&policy, "document");
                    String::new()
                }
            };
            let targets_path = policy.path("targets");
            let mut targets = Vec::new();
            for (t, target_node) in self
                .list(policy.get("targets"), &targets_path)
                .iter()
                .enumerate()
            {
                let target_path = format!("{targets_path}[{t}]");
                let Some(target) = self.text(target_node, &target_path) else {
                    continue;
                };
                let Some(target_id) = resolve_target(&target, tree) else {
                    let message = format!(
                        "target {target:?} is not `root`, the root's id, an OU of this organization (its id or its path of names, `A/B`) or a member account"
                    );
                    self.error(
                        target_node,
                        &target_path,
                        Some("TargetNotFoundException"),
                        message,
                    );
                    continue;
                };
                if targets.contains(&target_id) {
                    let message = format!("the policy is already attached to {target}");
                    self.error(
                        target_node,
                        &target_path,
                        Some("DuplicatePolicyAttachmentException"),
                        message,
                    );
                    continue;
                }
                per_target.entry(target_id.clone()).or_default().push((
                    name.clone(),
                    target_node,
                    target_path,
                ));
                targets.push(target_id);
            }
            policies.push(ScpRecord {
                id,
                name,
                description,
                document,
                targets,
            });
        }
        if !policies.iter().any(|p| p.id == FULL_AWS_ACCESS_ID) {
            let mut targets = vec![tree.root_id.clone()];
            targets.extend(tree.units.iter().map(|u| u.id.clone()));
            targets.extend(tree.accounts.iter().map(|a| a.id.clone()));
            for target in &targets {
                if let Some(attached) = per_target.get_mut(target)
                    && let Some((_, first_node, first_path)) = attached.first()
                {
                    let (node, path) = (*first_node, first_path.clone());
                    attached.insert(0, (FULL_AWS_ACCESS_NAME.to_owned(), node, path));
                }
            }
            policies.insert(
                0,
                ScpRecord {
                    id: FULL_AWS_ACCESS_ID.to_owned(),
                    name: FULL_AWS_ACCESS_NAME.to_owned(),
                    description: Some(
                        "Allows access to every operation (attached by default)".to_owned(),
                    ),
                    document: FULL_AWS_ACCESS_DOCUMENT.to_owned(),
                    targets,
                },
            );
        }
        for (target, attached) in &per_target {
            if attached.len() > SCPS_PER_TARGET
                && let Some((_, node, path)) = attached.get(SCPS_PER_TARGET)
            {
                let names: Vec<&str> = attached.iter().map(|(n, _, _)| n.as_str()).collect();
                let message = format!(
                    "{target} has {} SCPs attached ({}); Organizations allows {SCPS_PER_TARGET} per root, OU or account{}",
                    attached.len(),
                    names.join(", "),
                    if names.first() == Some(&FULL_AWS_ACCESS_NAME) {
                        ", FullAWSAccess included (attached by default unless the file lists it)"
                    } else {
                        ""
                    }
                );
                self.error(node, path, Some("ConstraintViolationException"), message);
            }
        }
        policies
    }
}

fn resolve_target(target: &str, tree: &Tree) -> Option<String> {
    if target == "root" || target == tree.root_id {
        return Some(tree.root_id.clone());
    }
    if valid_account_id(target) {
        return tree
            .accounts
            .iter()
            .any(|a| a.id == target)
            .then(|| target.to_owned());
    }
    if tree.units.iter().any(|u| u.id == target) {
        return Some(target.to_owned());
    }
    tree.unit_paths.get(target).cloned()
}

/// An organization as evaluation needs it: for each member account, the
/// compiled SCPs of every level from the root to the account.
#[derive(Debug)]
pub struct Organization {
    record: OrganizationRecord,
    levels: HashMap<String, Arc<[Arc<CompiledPolicies>]>>,
}

impl Organization {
    /// Compiles every level once. A stored SCP that no longer parses
    /// grants nothing (its level may then allow nothing): listed in the
    /// problems.
    pub fn build(record: OrganizationRecord) -> (Organization, Vec<String>) {
        let mut problems = Vec::new();
        let mut attached: HashMap<&str, Vec<NamedPolicy>> = HashMap::new();
        for policy in &record.policies {
            let outcome =
                PolicyDocument::parse_lenient(&policy.document, PolicyKind::ServiceControl);
            let Some(document) = outcome.document else {
                let first = outcome.errors.first().map(ToString::to_string);
                problems.push(format!(
                    "service control policy {} ({}): does not parse ({}); it allows nothing",
                    policy.name,
                    policy.id,
                    first.unwrap_or_default()
                ));
                continue;
            };
            let named = NamedPolicy {
                id: Arc::from(policy.name.as_str()),
                document: Arc::new(document),
            };
            for target in &policy.targets {
                attached.entry(target).or_default().push(named.clone());
            }
        }
        let mut compiled: HashMap<&str, Arc<CompiledPolicies>> = HashMap::new();
        let mut levels = HashMap::new();
        for member in &record.accounts {
            let Some(path) = record.path_of(&member.id) else {
                problems.push(format!(
                    "account {} is placed under {}, which is not in the organization: SCPs cannot be evaluated for it; its principals are refused everything",
                    member.id, member.parent
                ));
                // Fail closed: one level that allows nothing.
                levels.insert(member.id.clone(), Arc::from(vec![Arc::default()]));
                continue;
            };
            let sets: Vec<Arc<CompiledPolicies>> = path
                .iter()
                .map(|target| {
                    compiled
                        .entry(target)
                        .or_insert_with(|| {
                            Arc::new(CompiledPolicies::compile(
                                attached.get(target).map(Vec::as_slice).unwrap_or_default(),
                            ))
                        })
                        .clone()
                })
                .collect();
            levels.insert(member.id.clone(), Arc::from(sets));
        }
        (Organization { record, levels }, problems)
    }

    pub fn record(&self) -> &OrganizationRecord {
        &self.record
    }

    pub fn management_account(&self) -> &str {
        &self.record.management_account
    }

    /// The SCP levels that limit principals of `account`, root first;
    /// empty for the management account and for accounts outside the
    /// organization.
    pub fn scp_levels(&self, account: &str) -> &[Arc<CompiledPolicies>] {
        if account == self.record.management_account {
            return &[];
        }
        self.levels.get(account).map(|l| &**l).unwrap_or_default()
    }
}
