//! `iamgate policy validate` and `iamgate simulate`: thin command-line
//! wrappers over the policy crate, so reviewers can check documents and ask
//! "would this request be allowed, and why?" without running a server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use iamgate_policy::{
    NamedPolicy, PolicyDocument, PolicyKind, PolicySet, PrincipalIdentity, RequestContext,
    ResourcePolicyKind, ValidationError,
};

#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validate policy files; prints every error with its line and column
    /// and exits 1 if any file has one.
    Validate {
        /// Kind of policy (`auto`: a resource policy if it names principals
        /// and resources, a trust policy if it names principals only,
        /// otherwise an identity policy).
        #[arg(long, value_enum, default_value_t = KindArg::Auto)]
        kind: KindArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KindArg {
    Auto,
    Identity,
    Managed,
    Resource,
    Trust,
    Boundary,
    Session,
    Scp,
}

impl KindArg {
    fn resolve(self, text: &str) -> PolicyKind {
        match self {
            KindArg::Identity => PolicyKind::InlineIdentity,
            KindArg::Managed => PolicyKind::ManagedIdentity,
            KindArg::Resource => PolicyKind::Resource,
            KindArg::Trust => PolicyKind::RoleTrust,
            KindArg::Boundary => PolicyKind::PermissionsBoundary,
            KindArg::Session => PolicyKind::Session,
            KindArg::Scp => PolicyKind::ServiceControl,
            KindArg::Auto => guess_kind(text),
        }
    }
}

fn guess_kind(text: &str) -> PolicyKind {
    let Some(doc) = PolicyDocument::parse_lenient(text, PolicyKind::InlineIdentity).document else {
        return PolicyKind::InlineIdentity;
    };
    let names_principal = doc.statements.iter().any(|s| s.principal.is_some());
    if !names_principal {
        return PolicyKind::InlineIdentity;
    }
    let has_resource = doc
        .statements
        .iter()
        .any(|s| s.resource.as_ref().is_some_and(|r| !r.patterns.is_empty()));
    if has_resource {
        PolicyKind::Resource
    } else {
        PolicyKind::RoleTrust
    }
}

fn print_errors(file: &Path, errors: &[ValidationError]) {
    for e in errors {
        println!(
            "{}:{}:{}: {:?}: {} ({})",
            file.display(),
            e.line,
            e.column,
            e.code,
            e.message,
            e.detail
        );
    }
}

pub fn run_policy(args: PolicyArgs) -> ExitCode {
    let PolicyCommand::Validate { kind, files } = args.command;
    let mut failed = false;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                println!("{}: cannot read: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let kind = kind.resolve(&text);
        let outcome = PolicyDocument::parse_lenient(&text, kind);
        if outcome.errors.is_empty() {
            println!("{}: ok ({kind:?})", file.display());
        } else {
            failed = true;
            print_errors(file, &outcome.errors);
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Caller ARN (user, assumed-role session, root, federated user) or `anonymous`.
    #[arg(long)]
    principal: String,
    /// Action, e.g. `execute-api:Invoke`.
    #[arg(long)]
    action: String,
    /// Resource ARN (omit for actions without a resource).
    #[arg(long)]
    resource: Option<String>,
    /// Resource owner account when the ARN has none (default: the ARN's account).
    #[arg(long)]
    resource_account: Option<String>,
    /// For a role session: the role's ARN with its path (default: path `/`).
    #[arg(long)]
    role_arn: Option<String>,
    /// The caller's unique id (`AIDA…`, or `AROA…:session`), for `aws:userid`
    /// and for policies that name principals by id.
    #[arg(long)]
    unique_id: Option<String>,
    /// Principal tag `KEY=VALUE` (repeatable).
    #[arg(long = "principal-tag", value_name = "KEY=VALUE")]
    principal_tags: Vec<String>,
    /// Single-valued condition key `KEY=VALUE` (repeatable).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Multivalued condition key `KEY=V1,V2` (repeatable; `KEY=` is an empty set).
    #[arg(long = "context-multi", value_name = "KEY=V1,V2")]
    context_multi: Vec<String>,
    /// Identity policy files (user, group or role policies).
    #[arg(long = "identity", value_name = "FILE")]
    identity: Vec<PathBuf>,
    /// Resource-based policy file.
    #[arg(
        long = "resource-policy",
        value_name = "FILE",
        conflicts_with = "trust_policy"
    )]
    resource_policy: Option<PathBuf>,
    /// Role trust policy file (for `sts:AssumeRole`).
    #[arg(long = "trust-policy", value_name = "FILE")]
    trust_policy: Option<PathBuf>,
    /// Permissions boundary file.
    #[arg(long = "boundary", value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// Session policy files.
    #[arg(long = "session-policy", value_name = "FILE")]
    session: Vec<PathBuf>,
    /// SCP files, one organization level each.
    #[arg(long = "scp", value_name = "FILE")]
    scp: Vec<PathBuf>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
}

fn load(path: &Path, kind: PolicyKind) -> Result<NamedPolicy, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        println!("{}: cannot read: {e}", path.display());
        ExitCode::FAILURE
    })?;
    let document = PolicyDocument::parse(&text, kind).map_err(|errors| {
        print_errors(path, &errors);
        ExitCode::FAILURE
    })?;
    Ok(NamedPolicy::new(&path.display().to_string(), document))
}

fn key_value(arg: &str) -> Result<(&str, &str), ExitCode> {
    arg.split_once('=').ok_or_else(|| {
        println!("expected KEY=VALUE, got `{arg}`");
        ExitCode::FAILURE
    })
}

pub fn run_simulate(args: SimulateArgs) -> ExitCode {
    match simulate(args) {
        Ok(code) | Err(code) => code,
    }
}

fn simulate(args: SimulateArgs) -> Result<ExitCode, ExitCode> {
    let mut principal = PrincipalIdentity::from_arn(&args.principal).ok_or_else(|| {
        println!(
            "--principal: not a user, role session, root or federated-user ARN: {}",
            args.principal
        );
        ExitCode::FAILURE
    })?;
    for tag in &args.principal_tags {
        let (k, v) = key_value(tag)?;
        principal.tags.push((k.to_string(), v.to_string()));
    }
    if let Some(role_arn) = &args.role_arn {
        principal.role_arn = Some(role_arn.clone());
    }
    if let Some(id) = &args.unique_id {
        principal.role_unique_id = id.split_once(':').map(|(role, _)| role.to_string());
        principal.unique_id = Some(id.clone());
    }
    principal.has_permissions_boundary = args.boundary.is_some();
    let display = principal.display().to_string();
    let mut ctx = RequestContext::new(principal, &args.action, args.resource.as_deref());
    if let Some(account) = &args.resource_account {
        ctx = ctx.with_resource_account(account);
    }
    for kv in &args.context {
        let (k, v) = key_value(kv)?;
        ctx = ctx.with_key(k, v);
    }
    for kv in &args.context_multi {
        let (k, v) = key_value(kv)?;
        let values: Vec<&str> = v.split(',').filter(|s| !s.is_empty()).collect();
        ctx = ctx.with_multi_key(k, &values);
    }

    let mut set = PolicySet::default();
    for f in &args.identity {
        set.identity.push(load(f, PolicyKind::InlineIdentity)?);
    }
    if let Some(f) = &args.resource_policy {
        set.resource.push(load(f, PolicyKind::Resource)?);
    }
    if let Some(f) = &args.trust_policy {
        set.resource.push(load(f, PolicyKind::RoleTrust)?);
        set.resource_kind = ResourcePolicyKind::RoleTrust;
    }
    if let Some(f) = &args.boundary {
        set.boundary = Some(load(f, PolicyKind::PermissionsBoundary)?);
    }
    for f in &args.session {
        set.session.push(load(f, PolicyKind::Session)?);
    }
    for f in &args.scp {
        set.scp_levels
            .push(vec![load(f, PolicyKind::ServiceControl)?]);
    }

    let decision = set.compile().evaluate(&ctx);
    let resource = args.resource.as_deref().unwrap_or("*");
    let message = decision.denial_message(&display, &args.action, resource);
    if args.json {
        let mut out = decision.to_json();
        if let Some(object) = out.as_object_mut() {
            object.insert("message".to_string(), serde_json::json!(message));
        }
        println!("{out}");
    } else {
        print!("{}", decision.explain());
        if let Some(message) = message {
            println!("message: {message}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
