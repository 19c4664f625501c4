//! AWS Organizations outputs: the organization's tree and its service
//! control policies, written as the world file's `organization:` section.
//!
//! Recognised by shape:
//! - `describe-organization` (`Organization`): the id and the management
//!   account;
//! - `list-roots` (`Roots`): the root's id (and, in its ARN, the
//!   management account and the organization's id);
//! - `list-policies --filter SERVICE_CONTROL_POLICY` (`Policies` with a
//!   `Type`): each SCP's id, name and description;
//! - `describe-policy` (`Policy.PolicySummary` + `Content`): its document;
//! - `list-targets-for-policy` (`Targets`): where it is attached;
//! - `list-organizational-units-for-parent` (`OrganizationalUnits`),
//!   `list-accounts-for-parent` (`Accounts`), `list-children` (`Children`):
//!   the tree, one parent at a time;
//! - `list-parents` (`Parents`): one child's parent;
//! - `list-accounts` (`Accounts` too): members, placement unknown.
//!
//! Most of these outputs do not name what they were asked about (the
//! policy of `list-targets-for-policy`, the parent of `…-for-parent`, the
//! child of `list-parents`): that id is read from the file's name, which
//! must hold exactly one (`targets-p-a1b2c3d4.json`,
//! `accounts-ou-ab12-cd34ef56.json`, `parents-222222222222.json`;
//! docs/import.md shows the commands). `list-accounts-for-parent` and
//! `list-accounts` have the same shape: with an id in the name it is the
//! former.
//!
//! What cannot be known is said, never guessed silently: an account or OU
//! whose parent no output names is placed directly under the root (so the
//! SCPs of the OUs it really sits in do not apply to it) and listed in
//! [`crate::Imported::not_imported`]; so is an SCP whose targets or
//! document were not imported.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::{ImportError, Reader, quoted};

/// What the organizations outputs said, gathered over every input.
#[derive(Default)]
pub(crate) struct Organization {
    /// Whether any organizations output was read.
    seen: bool,
    id: Option<String>,
    management: Option<String>,
    root_id: Option<String>,
    /// Policy id → what is known of it.
    policies: BTreeMap<String, Scp>,
    /// OU id → name (when known).
    units: BTreeMap<String, Option<String>>,
    /// Accounts known to be members.
    accounts: BTreeSet<String>,
    /// Child (OU or account) id → parent id.
    parents: BTreeMap<String, String>,
}

#[derive(Default)]
struct Scp {
    name: Option<String>,
    description: Option<String>,
    document: Option<Value>,
    /// `None`: `list-targets-for-policy` was not imported for it.
    targets: Option<Vec<String>>,
}

/// The ids an Organizations output's file name holds.
#[derive(Debug, PartialEq, Eq)]
enum NamedId {
    Root(String),
    Unit(String),
    Policy(String),
    Account(String),
}

impl NamedId {
    fn text(&self) -> &str {
        match self {
            NamedId::Root(s) | NamedId::Unit(s) | NamedId::Policy(s) | NamedId::Account(s) => s,
        }
    }
}

fn id_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// The run of `allowed` bytes at the start of `bytes`.
fn run_of(bytes: &[u8], allowed: fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|b| allowed(**b)).count()
}

/// Every Organizations id in a file's name (its last path component).
fn ids_in_name(source: &str) -> Vec<NamedId> {
    let name = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let bytes = name.as_bytes();
    let mut ids = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let rest = bytes.get(index..).unwrap_or_default();
        let boundary = index == 0
            || bytes
                .get(index - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        if boundary {
            if let Some(tail) = rest.strip_prefix(b"ou-") {
                let root = run_of(tail, id_char);
                let own = tail
                    .get(root..)
                    .and_then(|t| t.strip_prefix(b"-"))
                    .map(|t| run_of(t, id_char))
                    .unwrap_or(0);
                if (4..=32).contains(&root) && (8..=32).contains(&own) {
                    let end = index + 3 + root + 1 + own;
                    ids.push(NamedId::Unit(
                        name.get(index..end).unwrap_or_default().to_owned(),
                    ));
                    index = end;
                    continue;
                }
            }
            if let Some(tail) = rest.strip_prefix(b"r-") {
                let length = run_of(tail, id_char);
                if (4..=32).contains(&length) {
                    let end = index + 2 + length;
                    ids.push(NamedId::Root(
                        name.get(index..end).unwrap_or_default().to_owned(),
                    ));
                    index = end;
                    continue;
                }
            }
            if rest.starts_with(b"p-FullAWSAccess") {
                ids.push(NamedId::Policy("p-FullAWSAccess".to_owned()));
                index += "p-FullAWSAccess".len();
                continue;
            }
            if let Some(tail) = rest.strip_prefix(b"p-") {
                let length = run_of(tail, |b| id_char(b) || b == b'_');
                if (8..=128).contains(&length) {
                    let end = index + 2 + length;
                    ids.push(NamedId::Policy(
                        name.get(index..end).unwrap_or_default().to_owned(),
                    ));
                    index = end;
                    continue;
                }
            }
            let digits = run_of(rest, |b| b.is_ascii_digit());
            if digits == 12 && !rest.get(12).is_some_and(u8::is_ascii_alphanumeric) {
                ids.push(NamedId::Account(
                    name.get(index..index + 12).unwrap_or_default().to_owned(),
                ));
                index += 12;
                continue;
            }
        }
        index += 1;
    }
    ids
}

/// `arn:aws:organizations::{management}:{kind}/o-…/…`: the management
/// account and the organization id.
fn from_arn(arn: &str) -> (Option<String>, Option<String>) {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("organizations"), Some(_), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return (None, None);
    };
    let management = (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_owned());
    let org = rest
        .split('/')
        .find(|part| part.starts_with("o-"))
        .map(str::to_owned);
    (management, org)
}

impl Reader<'_, '_> {
    /// Reads `object` if it is an Organizations output; `Ok(false)` when it
    /// is not one.
    pub(crate) fn organizations(
        &mut self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<bool, ImportError> {
        if let Some(organization) = object.get("Organization") {
            let id = self.text(organization, "Id")?.to_owned();
            let management = self.text(organization, "MasterAccountId")?.to_owned();
            let org = self.org();
            org.id = Some(id);
            org.management = Some(management);
            return Ok(true);
        }
        if let Some(roots) = object.get("Roots").and_then(Value::as_array) {
            for root in roots {
                let id = self.text(root, "Id")?.to_owned();
                let arn = root.get("Arn").and_then(Value::as_str).unwrap_or_default();
                self.org().root_id = Some(id);
                self.learn_arn(arn);
            }
            self.org();
            return Ok(true);
        }
        if let Some(policies) = object.get("Policies").and_then(Value::as_array)
            && policies.iter().any(|p| p.get("Type").is_some())
        {
            for policy in policies {
                let kind = policy.get("Type").and_then(Value::as_str).unwrap_or("");
                if kind != "SERVICE_CONTROL_POLICY" {
                    let name = policy.get("Name").and_then(Value::as_str).unwrap_or("?");
                    self.world.not_imported.push(format!(
                        "{}: {kind} policy {name}: only service control policies are part of a world file",
                        self.name
                    ));
                    continue;
                }
                self.policy_summary(policy)?;
            }
            self.org();
            return Ok(true);
        }
        if let Some(policy) = object.get("Policy")
            && let Some(summary) = policy.get("PolicySummary")
        {
            let kind = summary.get("Type").and_then(Value::as_str).unwrap_or("");
            if kind != "SERVICE_CONTROL_POLICY" {
                let name = summary.get("Name").and_then(Value::as_str).unwrap_or("?");
                self.world.not_imported.push(format!(
                    "{}: {kind} policy {name}: only service control policies are part of a world file",
                    self.name
                ));
                return Ok(true);
            }
            let id = self.policy_summary(summary)?;
            let document = self.document(policy.get("Content"), "Content")?;
            self.org().policies.entry(id).or_default().document = Some(document);
            return Ok(true);
        }
        if let Some(targets) = object.get("Targets").and_then(Value::as_array) {
            let policy = self.named_id(
                |id| matches!(id, NamedId::Policy(_)),
                "targets-p-a1b2c3d4.json",
            )?;
            let mut ids = Vec::new();
            for target in targets {
                let id = self.text(target, "TargetId")?.to_owned();
                let name = target
                    .get("Name")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(arn) = target.get("Arn").and_then(Value::as_str) {
                    self.learn_arn(arn);
                }
                match self.text(target, "Type")? {
                    "ROOT" => self.org().root_id = Some(id.clone()),
                    "ORGANIZATIONAL_UNIT" => {
                        let unit = self.org().units.entry(id.clone()).or_default();
                        if unit.is_none() {
                            *unit = name;
                        }
                    }
                    "ACCOUNT" => {
                        self.org().accounts.insert(id.clone());
                    }
                    other => {
                        return Err(
                            self.malformed(format!("target {id} has an unknown Type {other}"))
                        );
                    }
                }
                ids.push(id);
            }
            self.org().policies.entry(policy).or_default().targets = Some(ids);
            return Ok(true);
        }
        if let Some(units) = object.get("OrganizationalUnits").and_then(Value::as_array) {
            let parent = self.named_id(
                |id| matches!(id, NamedId::Root(_) | NamedId::Unit(_)),
                "ous-r-ab12.json",
            )?;
            for unit in units {
                let id = self.text(unit, "Id")?.to_owned();
                let name = self.text(unit, "Name")?.to_owned();
                if let Some(arn) = unit.get("Arn").and_then(Value::as_str) {
                    self.learn_arn(arn);
                }
                let org = self.org();
                org.units.insert(id.clone(), Some(name));
                org.parents.insert(id, parent.clone());
            }
            self.note_parent(&parent);
            return Ok(true);
        }
        if let Some(accounts) = object.get("Accounts").and_then(Value::as_array) {
            let ids = ids_in_name(self.name);
            let parent = match ids.as_slice() {
                [] => None,
                _ => Some(self.named_id(
                    |id| matches!(id, NamedId::Root(_) | NamedId::Unit(_)),
                    "accounts-ou-ab12-cd34ef56.json",
                )?),
            };
            for account in accounts {
                let id = self.text(account, "Id")?.to_owned();
                if let Some(arn) = account.get("Arn").and_then(Value::as_str) {
                    self.learn_arn(arn);
                }
                let org = self.org();
                org.accounts.insert(id.clone());
                if let Some(parent) = &parent {
                    org.parents.insert(id, parent.clone());
                }
            }
            if let Some(parent) = &parent {
                self.note_parent(parent);
            }
            return Ok(true);
        }
        if let Some(children) = object.get("Children").and_then(Value::as_array) {
            let parent = self.named_id(
                |id| matches!(id, NamedId::Root(_) | NamedId::Unit(_)),
                "children-r-ab12.json",
            )?;
            for child in children {
                let id = self.text(child, "Id")?.to_owned();
                match self.text(child, "Type")? {
                    "ACCOUNT" => {
                        self.org().accounts.insert(id.clone());
                    }
                    "ORGANIZATIONAL_UNIT" => {
                        self.org().units.entry(id.clone()).or_default();
                    }
                    other => {
                        return Err(
                            self.malformed(format!("child {id} has an unknown Type {other}"))
                        );
                    }
                }
                self.org().parents.insert(id, parent.clone());
            }
            self.note_parent(&parent);
            return Ok(true);
        }
        if let Some(parents) = object.get("Parents").and_then(Value::as_array) {
            let child = self.named_id(
                |id| matches!(id, NamedId::Account(_) | NamedId::Unit(_)),
                "parents-222222222222.json",
            )?;
            let [parent] = parents.as_slice() else {
                return Err(self.malformed("an account or OU has exactly one parent"));
            };
            let parent = self.text(parent, "Id")?.to_owned();
            let org = self.org();
            if child.starts_with("ou-") {
                org.units.entry(child.clone()).or_default();
            } else {
                org.accounts.insert(child.clone());
            }
            org.parents.insert(child, parent.clone());
            self.note_parent(&parent);
            return Ok(true);
        }
        Ok(false)
    }

    fn org(&mut self) -> &mut Organization {
        let org = &mut self.world.organization;
        org.seen = true;
        org
    }

    fn learn_arn(&mut self, arn: &str) {
        let (management, id) = from_arn(arn);
        let org = self.org();
        if org.management.is_none() {
            org.management = management;
        }
        if org.id.is_none() {
            org.id = id;
        }
    }

    /// A parent named by a file: the root, or an OU now known to exist.
    fn note_parent(&mut self, parent: &str) {
        let org = self.org();
        if parent.starts_with("r-") {
            org.root_id = Some(parent.to_owned());
        } else {
            org.units.entry(parent.to_owned()).or_default();
        }
    }

    fn policy_summary(&mut self, summary: &Value) -> Result<String, ImportError> {
        let id = self.text(summary, "Id")?.to_owned();
        let name = self.text(summary, "Name")?.to_owned();
        let description = summary
            .get("Description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        if let Some(arn) = summary.get("Arn").and_then(Value::as_str) {
            self.learn_arn(arn);
        }
        let scp = self.org().policies.entry(id.clone()).or_default();
        scp.name = Some(name);
        scp.description = description;
        Ok(id)
    }

    /// The one id of the wanted kind this output's file name holds.
    fn named_id(&self, wanted: fn(&NamedId) -> bool, example: &str) -> Result<String, ImportError> {
        let found: Vec<NamedId> = ids_in_name(self.name).into_iter().filter(wanted).collect();
        match found.as_slice() {
            [one] => Ok(one.text().to_owned()),
            _ => Err(self.malformed(format!(
                "this output does not name what it was asked about: save it with that one id in its file name, as in {example} (docs/import.md)"
            ))),
        }
    }
}

impl Organization {
    /// The `organization:` section; nothing when no organizations output
    /// was imported. `iam_accounts` are the accounts whose IAM was
    /// imported: members whose placement is unknown.
    pub(crate) fn render(
        &self,
        iam_accounts: &BTreeSet<String>,
        out: &mut String,
        not_imported: &mut Vec<String>,
    ) -> Result<(), ImportError> {
        if !self.seen {
            return Ok(());
        }
        let Some(management) = &self.management else {
            return Err(ImportError::OrganizationIncomplete {
                detail: "its management account is unknown: import `aws organizations describe-organization` (or list-roots)".into(),
            });
        };
        let root = self.root_id.clone();
        let is_root = |id: &str| root.as_deref() == Some(id) || id.starts_with("r-");
        // Members: every account any output named, and every account whose
        // IAM was imported with the organization.
        let mut accounts: BTreeSet<String> = self.accounts.clone();
        accounts.extend(iam_accounts.iter().cloned());
        accounts.insert(management.clone());
        let mut children: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
        let parent_of = |child: &str| -> String {
            match self.parents.get(child) {
                Some(parent) if is_root(parent) => "root".to_owned(),
                Some(parent) if self.units.contains_key(parent) => parent.clone(),
                _ => "root".to_owned(),
            }
        };
        for unit in self.units.keys() {
            if !self.parents.contains_key(unit) {
                not_imported.push(format!(
                    "organization: OU {unit}: its parent is unknown (import list-parents or list-organizational-units-for-parent); placed under the root, so the SCPs of the OUs above it do not apply to its accounts"
                ));
            }
            children
                .entry(parent_of(unit))
                .or_default()
                .1
                .push(unit.clone());
        }
        for account in &accounts {
            if !self.parents.contains_key(account) && account != management {
                not_imported.push(format!(
                    "organization: account {account}: its place in the organization is unknown (import list-parents or list-accounts-for-parent); placed under the root, so only SCPs of the root and of the account itself apply to it"
                ));
            }
            children
                .entry(parent_of(account))
                .or_default()
                .0
                .push(account.clone());
        }
        out.push_str("organization:\n");
        if let Some(id) = &self.id {
            let _ = writeln!(out, "  id: {}", quoted(id));
        }
        let _ = writeln!(out, "  management_account: {}", quoted(management));
        if let Some(root) = &root {
            let _ = writeln!(out, "  root_id: {}", quoted(root));
        }
        self.render_level("root", 1, &children, out, &mut BTreeSet::new());
        let scps: Vec<(&String, &Scp)> = self.policies.iter().collect();
        if !scps.is_empty() {
            out.push_str("  service_control_policies:\n");
        }
        let full_access = "p-FullAWSAccess";
        for (id, scp) in scps {
            let name = scp.name.clone().unwrap_or_else(|| id.clone());
            let Some(targets) = &scp.targets else {
                if id == full_access {
                    not_imported.push(
                        "organization: FullAWSAccess: its targets were not imported (list-targets-for-policy); it is attached to the root, every OU and every account, as AWS does by default".to_owned(),
                    );
                    continue;
                }
                not_imported.push(format!(
                    "organization: SCP {name} ({id}): its targets were not imported (list-targets-for-policy --policy-id {id}); it is attached nowhere"
                ));
                self.render_policy(id, &name, scp, &[], out, not_imported);
                continue;
            };
            let targets: Vec<String> = targets
                .iter()
                .map(|t| {
                    if is_root(t) {
                        "root".to_owned()
                    } else {
                        t.clone()
                    }
                })
                .collect();
            self.render_policy(id, &name, scp, &targets, out, not_imported);
        }
        Ok(())
    }

    fn render_policy(
        &self,
        id: &str,
        name: &str,
        scp: &Scp,
        targets: &[String],
        out: &mut String,
        not_imported: &mut Vec<String>,
    ) {
        let document = match &scp.document {
            Some(document) => Some(document.to_string()),
            None if id == "p-FullAWSAccess" => None,
            None => {
                not_imported.push(format!(
                    "organization: SCP {name} ({id}): its document was not imported (describe-policy --policy-id {id}); left out, so what it denies is NOT denied here"
                ));
                return;
            }
        };
        let _ = writeln!(out, "    - name: {}", quoted(name));
        let _ = writeln!(out, "      id: {}", quoted(id));
        if let Some(description) = &scp.description {
            let _ = writeln!(out, "      description: {}", quoted(description));
        }
        if let Some(document) = document {
            let _ = writeln!(out, "      document: {document}");
        }
        let quoted_targets: Vec<String> = targets.iter().map(|t| quoted(t)).collect();
        let _ = writeln!(out, "      targets: [{}]", quoted_targets.join(", "));
    }

    /// The accounts and OUs under `parent`, at `depth` (1: the root's).
    fn render_level(
        &self,
        parent: &str,
        depth: usize,
        children: &BTreeMap<String, (Vec<String>, Vec<String>)>,
        out: &mut String,
        visited: &mut BTreeSet<String>,
    ) {
        let Some((accounts, units)) = children.get(parent) else {
            return;
        };
        let indent = "    ".repeat(depth - 1);
        if !accounts.is_empty() {
            let list: Vec<String> = accounts.iter().map(|a| quoted(a)).collect();
            let _ = writeln!(out, "{indent}  accounts: [{}]", list.join(", "));
        }
        if units.is_empty() {
            return;
        }
        let _ = writeln!(out, "{indent}  organizational_units:");
        for unit in units {
            // A cycle in the outputs must not loop.
            if !visited.insert(unit.clone()) {
                continue;
            }
            let name = self
                .units
                .get(unit)
                .cloned()
                .flatten()
                .unwrap_or_else(|| unit.clone());
            let _ = writeln!(out, "{indent}    - name: {}", quoted(&name));
            let _ = writeln!(out, "{indent}      id: {}", quoted(unit));
            self.render_level(unit, depth + 1, children, out, visited);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ids_are_read_from_a_file_name_at_word_boundaries() {
        assert_eq!(
            ids_in_name("saved/r-ab12/targets-p-a1b2c3d4.json"),
            [NamedId::Policy("p-a1b2c3d4".into())]
        );
        assert_eq!(
            ids_in_name("accounts-ou-ab12-cd34ef56.json"),
            [NamedId::Unit("ou-ab12-cd34ef56".into())]
        );
        assert_eq!(
            ids_in_name("parents-222222222222.json"),
            [NamedId::Account("222222222222".into())]
        );
        assert_eq!(
            ids_in_name("targets-p-FullAWSAccess.json"),
            [NamedId::Policy("p-FullAWSAccess".into())]
        );
        assert_eq!(
            ids_in_name("ous-r-ab12.json"),
            [NamedId::Root("r-ab12".into())]
        );
        assert!(ids_in_name("list-accounts.json").is_empty());
        assert!(ids_in_name("x1234567890123.json").is_empty());
    }
}
