//! A world file from a real AWS setup: the saved JSON outputs of AWS's
//! read-only CLI commands, turned into the YAML that `iamgate serve
//! --config` reads.
//!
//! Why from saved outputs and not by calling AWS: the commands are
//! read-only and the user runs them with their own credentials, where
//! they are (docs/import.md lists them); iamgate never holds credentials
//! to a real account, and the same files can be imported again offline.
//!
//! Each input is recognised by its shape, not its file name:
//! - `aws iam get-account-authorization-details`: users, groups, roles
//!   (trust policies, boundaries, tags), customer-managed policies at
//!   their default version, inline policies and attachments, each with its
//!   unique id, since trust and resource policies may name principals by
//!   id. AWS-managed policies are referenced by ARN: the gateway embeds
//!   them.
//! - `aws iam list-roles` (or `get-role`): what the details leave out of a
//!   role, its maximum session duration and description.
//! - An OpenAPI export of a REST API (`aws apigateway get-export
//!   --export-type oas30 --parameters extensions='apigateway'`) or of an
//!   HTTP API (`aws apigatewayv2 export-api --specification OAS30`): the
//!   API id, region and stage come from its `servers` entry; the document
//!   is written beside the world file and imported through the gateway's
//!   own OpenAPI reader.
//!
//! Anything recognised but not imported (AWS-managed policy documents,
//! service control policies) is listed in [`Imported::not_imported`];
//! an input that is not recognised is an error, so a wrong file is never
//! silently skipped.
//!
//! Nothing here decides whether the result is a valid world: the caller
//! reads the written text back through the world file's own reader, the
//! one front door every world passes, before anything is written.
//!
//! Access keys are never in these outputs, so imported users have none,
//! and explain, who-can and plan work on them offline. With
//! [`Options::test_keys`], a fresh key is made per user and per account
//! root, so that requests can be replayed against the imported world.

mod domains;
mod organizations;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use iamgate_iam::ids::{IdKind, RandomUnavailable, new_id, new_secret_access_key};
use serde_json::{Map, Value};
use thiserror::Error;

/// One saved output: where it came from (for messages) and its JSON.
pub struct Source<'a> {
    pub name: &'a str,
    pub json: &'a Value,
}

/// How to import.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Make an access key for every user and every account's root.
    pub test_keys: bool,
    /// The account of imported APIs. Exports do not name it: without this,
    /// it is the account the API's resource policy names, else the one IAM
    /// account imported with it.
    pub api_account: Option<String>,
}

/// The world file and what goes beside it.
#[derive(Debug)]
pub struct Imported {
    /// The world file's YAML text.
    pub world: String,
    /// OpenAPI documents the world file names: (file name, JSON text), to be
    /// written in the same folder.
    pub files: Vec<(String, String)>,
    /// What was recognised but not imported, one line each.
    pub not_imported: Vec<String>,
    /// The access keys made with [`Options::test_keys`]: (principal ARN,
    /// key id). The secrets are in [`Imported::world`] only.
    pub test_keys: Vec<(String, String)>,
    /// The APIs imported, as the world file declares them (for loading
    /// them into a running server through its own APIs).
    pub apis: Vec<ImportedApi>,
    /// The custom domain names imported.
    pub domains: Vec<ImportedDomain>,
}

/// An API of [`Imported::apis`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedApi {
    pub id: String,
    /// An HTTP API (apigatewayv2); else a REST API.
    pub http: bool,
    pub account: String,
    pub region: String,
    pub stages: Vec<String>,
    /// The name of its document in [`Imported::files`].
    pub file: String,
}

/// A domain name of [`Imported::domains`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedDomain {
    pub name: String,
    pub account: String,
    pub region: String,
    /// `REGIONAL`, `EDGE` or `PRIVATE`, when the output said.
    pub endpoint: Option<String>,
    /// (base path, API id, stage).
    pub mappings: Vec<(String, String, String)>,
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error(
        "{source_name}: not an output iamgate imports (expected get-account-authorization-details, list-roles, get-role, an OpenAPI export with API Gateway's servers entry, or an `aws organizations` output listed in docs/import.md)"
    )]
    Unrecognised { source_name: String },
    #[error("{source_name}: {detail}")]
    Malformed { source_name: String, detail: String },
    #[error(
        "the account of API {api} is unknown: import one account's authorization details with it, or pass --account"
    )]
    ApiAccountUnknown { api: String },
    #[error(
        "the account of domain name {domain} is unknown: its output shows no certificate; pass --account"
    )]
    DomainAccountUnknown { domain: String },
    #[error("the organization cannot be imported: {detail}")]
    OrganizationIncomplete { detail: String },
    #[error("the system random source is unavailable")]
    RandomUnavailable,
}

impl From<RandomUnavailable> for ImportError {
    fn from(_: RandomUnavailable) -> Self {
        ImportError::RandomUnavailable
    }
}

/// Reads every source and writes one world file.
pub fn import(sources: &[Source<'_>], options: &Options) -> Result<Imported, ImportError> {
    let mut world = World::default();
    for source in sources {
        let mut reader = Reader {
            name: source.name,
            world: &mut world,
        };
        reader.read(source.json)?;
    }
    world.render(sources, options)
}

#[derive(Default)]
struct World {
    accounts: BTreeMap<String, Account>,
    /// Role ARN → (maximum session duration, description), from list-roles.
    role_extras: BTreeMap<String, (Option<u64>, Option<String>)>,
    /// API id → the API as exported, per stage.
    apis: BTreeMap<String, Api>,
    /// What the AWS Organizations outputs said.
    organization: organizations::Organization,
    /// Custom domain names and their mappings.
    domains: domains::Domains,
    not_imported: Vec<String>,
}

#[derive(Default)]
struct Account {
    policies: BTreeMap<String, Policy>,
    groups: BTreeMap<String, Group>,
    users: BTreeMap<String, User>,
    roles: BTreeMap<String, Role>,
}

/// What users, groups and roles have in common.
#[derive(Default)]
struct Principal {
    name: String,
    /// `None` when the output's id is not one AWS makes.
    id: Option<String>,
    path: String,
    inline: BTreeMap<String, Value>,
    attached: Vec<String>,
    boundary: Option<String>,
    tags: Vec<(String, String)>,
}

struct Policy {
    name: String,
    /// `None` when the output's id is not one AWS makes.
    id: Option<String>,
    path: String,
    description: Option<String>,
    document: Value,
}

struct Group(Principal);

struct User {
    principal: Principal,
    groups: Vec<String>,
}

struct Role {
    principal: Principal,
    arn: String,
    trust: Value,
}

struct Api {
    /// The account its resource policy names it in, if any.
    account: Option<String>,
    region: String,
    stages: Vec<String>,
    document: Value,
    http: bool,
}

struct Reader<'s, 'w> {
    name: &'s str,
    world: &'w mut World,
}

type Object = Map<String, Value>;

impl Reader<'_, '_> {
    fn malformed(&self, detail: impl Into<String>) -> ImportError {
        ImportError::Malformed {
            source_name: self.name.to_owned(),
            detail: detail.into(),
        }
    }

    fn read(&mut self, json: &Value) -> Result<(), ImportError> {
        let Some(object) = json.as_object() else {
            return Err(self.unrecognised());
        };
        let details = ["UserDetailList", "GroupDetailList", "RoleDetailList"];
        let is_details = details.iter().any(|k| object.contains_key(*k))
            || object
                .get("Policies")
                .and_then(Value::as_array)
                .is_some_and(|list| list.iter().all(|p| p.get("PolicyVersionList").is_some()));
        if is_details {
            return self.authorization_details(object);
        }
        if self.organizations(object)? || self.domains(object)? {
            return Ok(());
        }
        if let Some(roles) = object.get("Roles").and_then(Value::as_array) {
            return roles.iter().try_for_each(|role| self.role_extras(role));
        }
        if let Some(role) = object.get("Role") {
            return self.role_extras(role);
        }
        if object.contains_key("openapi") || object.contains_key("swagger") {
            return self.api_export(object);
        }
        Err(self.unrecognised())
    }

    fn unrecognised(&self) -> ImportError {
        ImportError::Unrecognised {
            source_name: self.name.to_owned(),
        }
    }

    fn text<'v>(&self, object: &'v Value, member: &str) -> Result<&'v str, ImportError> {
        object
            .get(member)
            .and_then(Value::as_str)
            .ok_or_else(|| self.malformed(format!("an entry has no text `{member}`")))
    }

    fn list<'v>(&self, object: &'v Object, member: &str) -> Result<&'v [Value], ImportError> {
        match object.get(member) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(list)) => Ok(list),
            Some(_) => Err(self.malformed(format!("`{member}` is not a list"))),
        }
    }

    /// `id` if it is a unique id AWS could have made for `kind`; else
    /// `None`, said in [`Imported::not_imported`] (the server makes a new
    /// one, and a policy naming the entity by that id matches nothing).
    fn unique_id(&mut self, arn: &str, id: &str, kind: IdKind) -> Option<String> {
        if iamgate_iam::ids::is_unique_id(kind, id) {
            return Some(id.to_owned());
        }
        self.world.not_imported.push(format!(
            "{arn}: unique id {id:?} is not one AWS makes (`{}` and 17 characters A-Z, 0-9); a new one is made",
            kind.prefix()
        ));
        None
    }

    /// The account an IAM ARN belongs to.
    fn account_of(&self, arn: &str) -> Result<String, ImportError> {
        let account = arn.split(':').nth(4).unwrap_or_default();
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            Ok(account.to_owned())
        } else {
            Err(self.malformed(format!("{arn} is not an IAM ARN of an account")))
        }
    }

    fn authorization_details(&mut self, object: &Object) -> Result<(), ImportError> {
        for user in self.list(object, "UserDetailList")? {
            let (account, principal) =
                self.principal(user, "UserName", ("UserId", IdKind::User), "UserPolicyList")?;
            let groups = user
                .get("GroupList")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let users = &mut self.account(account).users;
            users.insert(principal.name.clone(), User { principal, groups });
        }
        for group in self.list(object, "GroupDetailList")? {
            let (account, principal) = self.principal(
                group,
                "GroupName",
                ("GroupId", IdKind::Group),
                "GroupPolicyList",
            )?;
            let groups = &mut self.account(account).groups;
            groups.insert(principal.name.clone(), Group(principal));
        }
        for role in self.list(object, "RoleDetailList")? {
            let (account, principal) =
                self.principal(role, "RoleName", ("RoleId", IdKind::Role), "RolePolicyList")?;
            let trust = self.document(
                role.get("AssumeRolePolicyDocument"),
                "AssumeRolePolicyDocument",
            )?;
            let arn = self.text(role, "Arn")?.to_owned();
            let roles = &mut self.account(account).roles;
            roles.insert(
                principal.name.clone(),
                Role {
                    principal,
                    arn,
                    trust,
                },
            );
        }
        for policy in self.list(object, "Policies")? {
            let arn = self.text(policy, "Arn")?;
            if arn.starts_with("arn:aws:iam::aws:policy/") {
                // The gateway embeds AWS's own; they are referenced by ARN.
                continue;
            }
            let account = self.account_of(arn)?;
            let default_version = self.text(policy, "DefaultVersionId")?;
            let versions = policy.get("PolicyVersionList").and_then(Value::as_array);
            let version = versions
                .into_iter()
                .flatten()
                .find(|v| {
                    v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true)
                        || v.get("VersionId").and_then(Value::as_str) == Some(default_version)
                })
                .ok_or_else(|| self.malformed(format!("policy {arn} has no default version")))?;
            let policy = Policy {
                name: self.text(policy, "PolicyName")?.to_owned(),
                id: self.unique_id(arn, self.text(policy, "PolicyId")?, IdKind::ManagedPolicy),
                path: policy
                    .get("Path")
                    .and_then(Value::as_str)
                    .unwrap_or("/")
                    .to_owned(),
                description: policy
                    .get("Description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                document: self.document(version.get("Document"), "Document")?,
            };
            let policies = &mut self.account(account).policies;
            policies.insert(policy.name.clone(), policy);
        }
        Ok(())
    }

    fn account(&mut self, id: String) -> &mut Account {
        self.world.accounts.entry(id).or_default()
    }

    /// A user's, group's or role's common members, and its account.
    fn principal(
        &mut self,
        entity: &Value,
        name_member: &str,
        (id_member, id_kind): (&str, IdKind),
        inline_member: &str,
    ) -> Result<(String, Principal), ImportError> {
        let arn = self.text(entity, "Arn")?;
        let id = self.unique_id(arn, self.text(entity, id_member)?, id_kind);
        let mut inline = BTreeMap::new();
        for policy in entity
            .get(inline_member)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            inline.insert(
                self.text(policy, "PolicyName")?.to_owned(),
                self.document(policy.get("PolicyDocument"), "PolicyDocument")?,
            );
        }
        let attached = entity
            .get("AttachedManagedPolicies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| self.text(p, "PolicyArn").map(str::to_owned))
            .collect::<Result<_, _>>()?;
        let boundary = match entity.get("PermissionsBoundary") {
            Some(b) if !b.is_null() => Some(self.text(b, "PermissionsBoundaryArn")?.to_owned()),
            _ => None,
        };
        let tags = entity
            .get("Tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                Ok((
                    self.text(t, "Key")?.to_owned(),
                    self.text(t, "Value")?.to_owned(),
                ))
            })
            .collect::<Result<_, ImportError>>()?;
        Ok((
            self.account_of(arn)?,
            Principal {
                name: self.text(entity, name_member)?.to_owned(),
                id,
                path: entity
                    .get("Path")
                    .and_then(Value::as_str)
                    .unwrap_or("/")
                    .to_owned(),
                inline,
                attached,
                boundary,
                tags,
            },
        ))
    }

    /// A policy document as the CLI prints it (an object), or as the API
    /// returns it (URL-encoded JSON text).
    fn document(&self, value: Option<&Value>, member: &str) -> Result<Value, ImportError> {
        match value {
            Some(Value::Object(_)) => Ok(value.cloned().unwrap_or_default()),
            Some(Value::String(text)) => {
                let decoded = if text.trim_start().starts_with('{') {
                    text.clone()
                } else {
                    percent_decode(text).ok_or_else(|| {
                        self.malformed(format!("`{member}` is not a policy document"))
                    })?
                };
                serde_json::from_str(&decoded)
                    .map_err(|e| self.malformed(format!("`{member}` is not JSON: {e}")))
            }
            _ => Err(self.malformed(format!("an entry has no `{member}`"))),
        }
    }

    fn role_extras(&mut self, role: &Value) -> Result<(), ImportError> {
        let arn = self.text(role, "Arn")?.to_owned();
        let duration = role.get("MaxSessionDuration").and_then(Value::as_u64);
        let description = role
            .get("Description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.world.role_extras.insert(arn, (duration, description));
        Ok(())
    }

    /// An OpenAPI export: `servers[0]` is
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{basePath}`
    /// with the stage as `basePath`'s default.
    fn api_export(&mut self, object: &Object) -> Result<(), ImportError> {
        let server = object
            .get("servers")
            .and_then(Value::as_array)
            .and_then(|s| s.first())
            .ok_or_else(|| self.malformed("the export has no `servers` entry naming its API"))?;
        let url = self.text(server, "url")?;
        let host = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        let mut labels = host.split('.');
        let (Some(id), Some("execute-api"), Some(region)) =
            (labels.next(), labels.next(), labels.next())
        else {
            return Err(self.malformed(format!(
                "the export's server {url} is not an execute-api endpoint"
            )));
        };
        let http = object.contains_key("x-amazon-apigateway-importexport-version");
        let base_path = server
            .pointer("/variables/basePath/default")
            .and_then(Value::as_str)
            .map(|s| s.trim_start_matches('/'))
            .unwrap_or_default();
        // An HTTP API's `$default` stage has no base path.
        let stage = match base_path {
            "" if http => "$default".to_owned(),
            "" => {
                return Err(self.malformed(format!(
                    "the export of API {id} names no stage (servers[0].variables.basePath)"
                )));
            }
            stage => stage.to_owned(),
        };
        let mut document = Value::Object(object.clone());
        if let Some(root) = document.as_object_mut() {
            // The stage is the world file's to declare.
            root.remove("servers");
        }
        match self.world.apis.get_mut(id) {
            Some(api) => {
                if !api.stages.contains(&stage) {
                    api.stages.push(stage.clone());
                }
                if api.document != document {
                    self.world.not_imported.push(format!(
                        "{}: API {id} stage {stage} differs from its first export; every stage serves the first",
                        self.name
                    ));
                }
            }
            None => {
                self.world.apis.insert(
                    id.to_owned(),
                    Api {
                        account: account_in_policy(object, id),
                        region: region.to_owned(),
                        stages: vec![stage],
                        document,
                        http,
                    },
                );
            }
        }
        Ok(())
    }
}

/// The account of API `id` as its resource policy's own ARNs name it
/// (`arn:aws:execute-api:{region}:{account}:{id}/…`).
fn account_in_policy(export: &Object, id: &str) -> Option<String> {
    let statements = export.get("x-amazon-apigateway-policy")?.get("Statement")?;
    let statements = match statements {
        Value::Array(list) => list.iter().collect(),
        single => vec![single],
    };
    statements
        .into_iter()
        .filter_map(|statement| statement.get("Resource"))
        .flat_map(|resource| match resource {
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect::<Vec<_>>(),
        })
        .find_map(|arn| {
            let mut parts = arn.splitn(6, ':');
            let (Some("arn"), Some(_), Some("execute-api"), Some(_), Some(account), Some(rest)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return None;
            };
            let own = rest.split('/').next() == Some(id);
            (own && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                .then(|| account.to_owned())
        })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(if byte == b'+' { b' ' } else { byte });
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A YAML scalar that reads back as exactly this text: JSON's string
/// syntax is YAML's double-quoted scalar.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A JSON value is a YAML flow node with the same meaning.
fn flow(value: &Value) -> String {
    value.to_string()
}

impl World {
    fn render(
        mut self,
        sources: &[Source<'_>],
        options: &Options,
    ) -> Result<Imported, ImportError> {
        let mut out = String::from("# Written by `iamgate import` from:\n");
        for source in sources {
            let _ = writeln!(out, "#   {}", source.name);
        }
        let mut test_keys = Vec::new();
        out.push_str(if self.accounts.is_empty() {
            "accounts: []\n"
        } else {
            "accounts:\n"
        });
        for (id, account) in &self.accounts {
            let _ = writeln!(out, "  - id: {}", quoted(id));
            if options.test_keys {
                let (key, secret) = (new_id(IdKind::LongTermAccessKey)?, new_secret_access_key()?);
                let _ = writeln!(
                    out,
                    "    root_access_key: {{ id: {key}, secret: {} }}",
                    quoted(&secret)
                );
                test_keys.push((format!("arn:aws:iam::{id}:root"), key));
            }
            if !account.policies.is_empty() {
                out.push_str("    managed_policies:\n");
            }
            for policy in account.policies.values() {
                let _ = writeln!(out, "      - name: {}", quoted(&policy.name));
                if let Some(id) = &policy.id {
                    let _ = writeln!(out, "        id: {}", quoted(id));
                }
                let _ = writeln!(out, "        path: {}", quoted(&policy.path));
                if let Some(description) = &policy.description {
                    let _ = writeln!(out, "        description: {}", quoted(description));
                }
                let _ = writeln!(out, "        document: {}", flow(&policy.document));
            }
            if !account.groups.is_empty() {
                out.push_str("    groups:\n");
            }
            for Group(group) in account.groups.values() {
                principal(&mut out, group);
            }
            if !account.users.is_empty() {
                out.push_str("    users:\n");
            }
            for user in account.users.values() {
                principal(&mut out, &user.principal);
                if !user.groups.is_empty() {
                    let groups: Vec<String> = user.groups.iter().map(|g| quoted(g)).collect();
                    let _ = writeln!(out, "        groups: [{}]", groups.join(", "));
                }
                if options.test_keys {
                    let (key, secret) =
                        (new_id(IdKind::LongTermAccessKey)?, new_secret_access_key()?);
                    let _ = writeln!(
                        out,
                        "        access_keys: [{{ id: {key}, secret: {} }}]",
                        quoted(&secret)
                    );
                    test_keys.push((
                        format!(
                            "arn:aws:iam::{id}:user{}{}",
                            user.principal.path, user.principal.name
                        ),
                        key,
                    ));
                }
            }
            if !account.roles.is_empty() {
                out.push_str("    roles:\n");
            }
            for role in account.roles.values() {
                principal(&mut out, &role.principal);
                let _ = writeln!(out, "        trust_policy: {}", flow(&role.trust));
                if let Some((duration, description)) = self.role_extras.get(&role.arn) {
                    if let Some(duration) = duration {
                        let _ = writeln!(out, "        max_session_duration: {duration}");
                    }
                    if let Some(description) = description {
                        let _ = writeln!(out, "        description: {}", quoted(description));
                    }
                }
            }
        }
        let iam_accounts: BTreeSet<String> = self.accounts.keys().cloned().collect();
        self.organization
            .render(&iam_accounts, &mut out, &mut self.not_imported)?;
        let mut files = Vec::new();
        if !self.apis.is_empty() {
            out.push_str("apis:\n");
        }
        let single_account = match self.accounts.keys().collect::<Vec<_>>().as_slice() {
            [only] => Some((*only).clone()),
            _ => None,
        };
        let mut api_accounts = BTreeMap::new();
        let mut apis = Vec::new();
        for (id, api) in &self.apis {
            let account = options
                .api_account
                .clone()
                .or_else(|| api.account.clone())
                .or_else(|| single_account.clone())
                .ok_or_else(|| ImportError::ApiAccountUnknown { api: id.clone() })?;
            let file = format!("{id}.openapi.json");
            let _ = writeln!(out, "  - id: {}", quoted(id));
            let _ = writeln!(out, "    type: {}", if api.http { "HTTP" } else { "REST" });
            let _ = writeln!(out, "    openapi: {}", quoted(&file));
            let _ = writeln!(out, "    account: {}", quoted(&account));
            let _ = writeln!(out, "    region: {}", quoted(&api.region));
            let stages: Vec<String> = api.stages.iter().map(|s| quoted(s)).collect();
            let _ = writeln!(out, "    stages: [{}]", stages.join(", "));
            files.push((file.clone(), format!("{:#}\n", api.document)));
            apis.push(ImportedApi {
                id: id.clone(),
                http: api.http,
                account: account.clone(),
                region: api.region.clone(),
                stages: api.stages.clone(),
                file,
            });
            api_accounts.insert(id.clone(), account);
        }
        let domains = self.domains.render(
            &api_accounts,
            options.api_account.as_ref(),
            single_account.as_ref(),
            &mut out,
            &mut self.not_imported,
        )?;
        Ok(Imported {
            world: out,
            files,
            not_imported: std::mem::take(&mut self.not_imported),
            test_keys,
            apis,
            domains,
        })
    }
}

/// A user's, group's or role's common members, as a list entry.
fn principal(out: &mut String, principal: &Principal) {
    let _ = writeln!(out, "      - name: {}", quoted(&principal.name));
    if let Some(id) = &principal.id {
        let _ = writeln!(out, "        id: {}", quoted(id));
    }
    let _ = writeln!(out, "        path: {}", quoted(&principal.path));
    if !principal.inline.is_empty() {
        out.push_str("        policies:\n");
        for (name, document) in &principal.inline {
            let _ = writeln!(out, "          {}: {}", quoted(name), flow(document));
        }
    }
    if !principal.attached.is_empty() {
        let arns: Vec<String> = principal.attached.iter().map(|a| quoted(a)).collect();
        let _ = writeln!(out, "        managed_policies: [{}]", arns.join(", "));
    }
    if let Some(boundary) = &principal.boundary {
        let _ = writeln!(out, "        permissions_boundary: {}", quoted(boundary));
    }
    if !principal.tags.is_empty() {
        out.push_str("        tags:\n");
        for (key, value) in &principal.tags {
            let _ = writeln!(out, "          {}: {}", quoted(key), quoted(value));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use serde_json::json;

    use super::*;

    fn run(inputs: &[Value], options: &Options) -> Result<Imported, ImportError> {
        let names: Vec<String> = (0..inputs.len())
            .map(|n| format!("input-{n}.json"))
            .collect();
        let sources: Vec<Source<'_>> = inputs
            .iter()
            .zip(&names)
            .map(|(json, name)| Source { name, json })
            .collect();
        import(&sources, options)
    }

    fn user(name: &str, policy: Value) -> Value {
        json!({"Path": "/", "UserName": name, "UserId": "AIDAEXAMPLEUSER000001",
               "Arn": format!("arn:aws:iam::111111111111:user/{name}"),
               "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": policy}],
               "GroupList": [], "AttachedManagedPolicies": []})
    }

    fn object_document() -> Value {
        json!({"Version": "2012-10-17", "Statement": []})
    }

    #[test]
    fn a_url_encoded_document_reads_as_the_object_the_cli_prints() {
        let object = object_document();
        let encoded = json!("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D");
        let a = run(
            &[json!({"UserDetailList": [user("a", object)]})],
            &Options::default(),
        )
        .unwrap();
        let b = run(
            &[json!({"UserDetailList": [user("a", encoded)]})],
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            a.world.lines().skip(2).collect::<Vec<_>>(),
            b.world.lines().skip(2).collect::<Vec<_>>()
        );
        // (member order is serde_json's, which features decide)
        let line = a.world.lines().find(|l| l.contains("\"p\":")).unwrap();
        let document: Value = serde_json::from_str(line.split_once(": ").unwrap().1).unwrap();
        assert_eq!(document, object_document());
    }

    #[test]
    fn aws_managed_policies_are_referenced_not_declared_and_the_default_version_is_kept() {
        let details = json!({"Policies": [
            {"PolicyName": "ReadOnlyAccess", "PolicyId": "ANPAEXAMPLEREADONLY01", "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
             "DefaultVersionId": "v9", "PolicyVersionList": [{"Document": {}, "VersionId": "v9", "IsDefaultVersion": true}]},
            {"PolicyName": "Mine", "PolicyId": "ANPAEXAMPLEMINE000001", "Arn": "arn:aws:iam::111111111111:policy/Mine", "Path": "/",
             "DefaultVersionId": "v2", "PolicyVersionList": [
                {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}, "VersionId": "v1", "IsDefaultVersion": false},
                {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "VersionId": "v2", "IsDefaultVersion": true}]}
        ]});
        let world = run(&[details], &Options::default()).unwrap().world;
        assert!(!world.contains("ReadOnlyAccess"), "{world}");
        assert!(
            world.contains(r#""Action":"s3:*""#) && !world.contains("Deny"),
            "{world}"
        );
        assert!(world.contains("id: \"ANPAEXAMPLEMINE000001\""));
    }

    #[test]
    fn other_organizations_policy_types_are_listed_as_not_imported() {
        let tags = json!({"Policies": [{"Id": "p-abcd1234", "Name": "Tags", "Type": "TAG_POLICY", "AwsManaged": false}]});
        let imported = run(&[tags], &Options::default()).unwrap_err();
        // Without a management account there is no organization to write.
        assert!(
            matches!(imported, ImportError::OrganizationIncomplete { .. }),
            "{imported}"
        );
        let organization =
            json!({"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": "111111111111"}});
        let tags = json!({"Policies": [{"Id": "p-abcd1234", "Name": "Tags", "Type": "TAG_POLICY", "AwsManaged": false}]});
        let imported = run(&[organization, tags], &Options::default()).unwrap();
        assert!(
            imported
                .not_imported
                .iter()
                .any(|l| l.contains("TAG_POLICY policy Tags")),
            "{:?}",
            imported.not_imported
        );
        assert!(!imported.world.contains("Tags"), "{}", imported.world);
    }

    #[test]
    fn an_unknown_shape_is_an_error_naming_its_source() {
        let error = run(&[json!({"Buckets": []})], &Options::default()).unwrap_err();
        assert_eq!(
            error.to_string().split(':').next(),
            Some("input-0.json"),
            "{error}"
        );
        assert!(matches!(
            run(&[json!([1, 2])], &Options::default()),
            Err(ImportError::Unrecognised { .. })
        ));
    }

    #[test]
    fn an_entry_without_its_arn_is_malformed_not_skipped() {
        let error = run(
            &[json!({"UserDetailList": [{"UserName": "x"}]})],
            &Options::default(),
        )
        .unwrap_err();
        assert!(matches!(error, ImportError::Malformed { .. }), "{error}");
    }

    fn export(policy: Option<Value>, base_path: &str) -> Value {
        let mut export = json!({"openapi": "3.0.1", "info": {"title": "t", "version": "1"},
            "servers": [{"url": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/{basePath}",
                          "variables": {"basePath": {"default": base_path}}}],
            "paths": {}});
        if let Some(policy) = policy {
            export["x-amazon-apigateway-policy"] = policy;
        }
        export
    }

    #[test]
    fn an_apis_account_is_the_flag_then_its_resource_policys_then_the_one_imported_account() {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "execute-api:Invoke", "Resource": ["arn:aws:execute-api:eu-west-1:333333333333:abc123defg/*"]}]});
        let details = json!({"UserDetailList": [user("a", json!({"Version": "2012-10-17", "Statement": []}))]});
        let unknown = run(&[export(None, "prod")], &Options::default()).unwrap_err();
        assert!(
            matches!(unknown, ImportError::ApiAccountUnknown { .. }),
            "{unknown}"
        );
        let one = run(
            &[details.clone(), export(None, "prod")],
            &Options::default(),
        )
        .unwrap();
        assert!(
            one.world.contains("account: \"111111111111\""),
            "{}",
            one.world
        );
        let named = run(
            &[details.clone(), export(Some(policy.clone()), "prod")],
            &Options::default(),
        )
        .unwrap();
        assert!(
            named.world.contains("account: \"333333333333\""),
            "{}",
            named.world
        );
        let flag = Options {
            api_account: Some("444444444444".into()),
            ..Options::default()
        };
        let forced = run(&[details, export(Some(policy), "prod")], &flag).unwrap();
        assert!(forced.world.contains("account: \"444444444444\""));
    }

    #[test]
    fn exports_of_one_api_at_several_stages_make_one_api_with_those_stages() {
        let flag = Options {
            api_account: Some("111111111111".into()),
            ..Options::default()
        };
        let imported = run(&[export(None, "/prod"), export(None, "beta")], &flag).unwrap();
        assert!(
            imported.world.contains(r#"stages: ["prod", "beta"]"#),
            "{}",
            imported.world
        );
        assert!(
            imported.world.contains("region: \"eu-west-1\"")
                && imported.world.contains("type: REST")
        );
        assert_eq!(imported.files.len(), 1);
        assert_eq!(imported.files[0].0, "abc123defg.openapi.json");
        // The stage is the world file's: the written document has no servers.
        assert!(!imported.files[0].1.contains("servers"));
        let mut http = export(None, "");
        http["x-amazon-apigateway-importexport-version"] = json!("1.0");
        let world = run(&[http], &flag).unwrap().world;
        assert!(
            world.contains("type: HTTP") && world.contains(r#"stages: ["$default"]"#),
            "{world}"
        );
        assert!(matches!(
            run(&[export(None, "")], &flag),
            Err(ImportError::Malformed { .. })
        ));
        let nameless = json!({"openapi": "3.0.1", "paths": {}});
        assert!(matches!(
            run(&[nameless], &flag),
            Err(ImportError::Malformed { .. })
        ));
    }

    #[test]
    fn test_keys_are_made_per_user_and_root_and_only_their_ids_are_reported() {
        let details = json!({"UserDetailList": [user("a", json!({"Version": "2012-10-17", "Statement": []}))]});
        let imported = run(
            &[details],
            &Options {
                test_keys: true,
                ..Options::default()
            },
        )
        .unwrap();
        let principals: Vec<&str> = imported.test_keys.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            principals,
            [
                "arn:aws:iam::111111111111:root",
                "arn:aws:iam::111111111111:user/a"
            ]
        );
        for (_, key) in &imported.test_keys {
            assert!(key.starts_with("AKIA") && imported.world.contains(key.as_str()));
        }
    }
}
