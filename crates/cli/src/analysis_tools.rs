//! `iamgate who-can`, `what-can` and `plan`: the access analysis of
//! `iamgate-analysis` over a world file (`--world`, read as `serve
//! --config` reads it, OpenAPI files included) or on a running server's
//! snapshot (`--endpoint-url`, answered by `/_iamgate/analysis/…` with
//! what the caller's account may see), printed for people (a table, DOT
//! or Mermaid) or for machines (`--json`).
//!
//! Both sources go through the same JSON: the offline answer is written
//! and read back with the types the server serializes, and every output
//! is printed from what was read, so an offline and a live answer on the
//! same world print the same.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use iamgate_analysis::{Access, Analysis, Plan, RouteAccess, Target, graph, what_can};
use iamgate_apimodel::config::ApiRegistry;
use iamgate_control::apply::WorldFile;
use iamgate_iam::World;
use iamgate_iam::config::fresh_stamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::remote::{self, ServerArgs};

/// Where the answer comes from: a world file, or a running server.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// The world file to analyse (the YAML `iamgate serve --config` reads).
    #[arg(long)]
    world: Option<PathBuf>,
    /// A running server, such as `http://127.0.0.1:4566`: it analyses its
    /// current world, answering what your account may see. Credentials
    /// as `iamgate explain` finds them.
    #[arg(long)]
    endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct TargetArgs {
    /// The action (with --resource), e.g. `execute-api:Invoke`.
    #[arg(long, requires = "resource")]
    pub(crate) action: Option<String>,
    /// The resource ARN (with --action).
    #[arg(long, requires = "action")]
    pub(crate) resource: Option<String>,
    /// The API id (with --stage and --route).
    #[arg(long, conflicts_with = "action", requires_all = ["stage", "route"])]
    pub(crate) api: Option<String>,
    #[arg(long)]
    pub(crate) stage: Option<String>,
    /// `METHOD /path`, as a request would be made.
    #[arg(long)]
    pub(crate) route: Option<String>,
}

impl TargetArgs {
    /// The server's query parameters for the target.
    fn params(&self) -> Vec<(&'static str, &str)> {
        [
            ("action", &self.action),
            ("resource", &self.resource),
            ("api", &self.api),
            ("stage", &self.stage),
            ("route", &self.route),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// A list of objects for machines.
    #[arg(long)]
    json: bool,
    #[arg(long, value_enum, default_value_t = Format::Table, conflicts_with = "json")]
    format: Format,
}

#[derive(Args, Debug)]
pub struct WhoCanArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct WhatCanArgs {
    /// The root, user or role ARN.
    principal: String,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The principal whose request is denied.
    #[arg(long)]
    principal: String,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    target: TargetArgs,
    #[arg(long)]
    json: bool,
}

/// The world and APIs a world file declares, as the server would hold
/// them after applying it to an empty store.
pub fn load_world(path: &Path) -> Result<(World, ApiRegistry), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = WorldFile::parse(&text, &|name| {
        let full = dir.join(name);
        std::fs::read_to_string(&full)
            .map_err(|error| format!("cannot read {}: {error}", full.display()))
    })
    .map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{}:{e}", path.display()))
            .collect();
        lines.join("\n")
    })?;
    let records = file
        .iam
        .to_records(&mut |entity| fresh_stamp(entity, 0))
        .map_err(|error| error.to_string())?;
    let world = World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()));
    Ok((world, file.apis))
}

/// The target the arguments name (also the server's, from its query).
pub(crate) fn target(
    args: &TargetArgs,
    world: &World,
    apis: &ApiRegistry,
) -> Result<Target, String> {
    match (
        &args.action,
        &args.resource,
        &args.api,
        &args.stage,
        &args.route,
    ) {
        (Some(action), Some(resource), _, _, _) => {
            Ok(Target::resource(world, apis, action, resource))
        }
        (_, _, Some(api), Some(stage), Some(route)) => {
            Target::route(apis, api, stage, route).map_err(|e| e.to_string())
        }
        _ => Err("name the target: --action and --resource, or --api, --stage and --route".into()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error.to_string()),
    }
}

fn picture(format: Format, accesses: &[iamgate_analysis::Access]) -> String {
    match format {
        Format::Table => graph::table(accesses),
        Format::Dot => graph::dot(accesses),
        Format::Mermaid => graph::mermaid(accesses),
    }
}

/// The offline answer as the server would send it: written with the one
/// serializer and read back, so both sources print from the same types.
fn through_json<T: Serialize + DeserializeOwned>(value: &T) -> Result<T, String> {
    let text = serde_json::to_vec(value).map_err(|error| error.to_string())?;
    serde_json::from_slice(&text).map_err(|error| error.to_string())
}

/// The server's answer at `/_iamgate/analysis/{question}`.
fn ask<T: DeserializeOwned>(
    endpoint_url: &str,
    server: &ServerArgs,
    question: &str,
    params: &[(&str, &str)],
) -> Result<T, String> {
    let path = format!("/_iamgate/analysis/{question}");
    let body = remote::get(endpoint_url, server, &path, params)?;
    serde_json::from_slice(&body).map_err(|error| format!("unreadable answer: {error}"))
}

/// The answer, from the world file or the server.
fn answer<T: Serialize + DeserializeOwned>(
    source: &SourceArgs,
    server: &ServerArgs,
    question: &str,
    params: &[(&str, &str)],
    offline: impl FnOnce(&World, &ApiRegistry) -> Result<T, String>,
) -> Result<T, String> {
    match (&source.world, &source.endpoint_url) {
        (Some(path), _) => {
            let (world, apis) = load_world(path)?;
            through_json(&offline(&world, &apis)?)
        }
        (None, Some(url)) => ask(url, server, question, params),
        (None, None) => Err("name --world FILE or --endpoint-url URL".into()),
    }
}

pub fn run_who_can(args: WhoCanArgs) -> ExitCode {
    let found: Vec<Access> = match answer(
        &args.source,
        &args.server,
        "who-can",
        &args.target.params(),
        |world, apis| {
            let target = target(&args.target, world, apis)?;
            Ok(Analysis::new(world, apis).who_can(&target))
        },
    ) {
        Ok(found) => found,
        Err(message) => return fail(&message),
    };
    if args.output.json {
        return json(&found);
    }
    print!("{}", picture(args.output.format, &found));
    ExitCode::SUCCESS
}

pub fn run_what_can(args: WhatCanArgs) -> ExitCode {
    let routes: Vec<RouteAccess> = match answer(
        &args.source,
        &args.server,
        "what-can",
        &[("principal", &args.principal)],
        |world, apis| {
            Analysis::new(world, apis)
                .what_can(&args.principal)
                .map_err(|error| error.to_string())
        },
    ) {
        Ok(routes) => routes,
        Err(message) => return fail(&message),
    };
    if args.output.json {
        return json(&routes);
    }
    if args.output.format == Format::Table {
        if routes.is_empty() {
            println!("nothing");
        }
        for route in &routes {
            let via = if route.via.is_empty() {
                "direct".to_owned()
            } else {
                route.via.join(" -> ")
            };
            let conditions: Vec<String> = route.conditions.iter().map(|c| c.describe()).collect();
            println!(
                "{} {} {}  {via}  {}",
                route.api,
                route.stage,
                route.route,
                if conditions.is_empty() {
                    "none".to_owned()
                } else {
                    conditions.join("; ")
                }
            );
        }
        return ExitCode::SUCCESS;
    }
    print!(
        "{}",
        picture(
            args.output.format,
            &what_can::as_accesses(&args.principal, &routes)
        )
    );
    ExitCode::SUCCESS
}

pub fn run_plan(args: PlanArgs) -> ExitCode {
    let mut params = args.target.params();
    params.push(("principal", &args.principal));
    let plan: Plan = match answer(
        &args.source,
        &args.server,
        "plan",
        &params,
        |world, apis| {
            let target = target(&args.target, world, apis)?;
            Analysis::new(world, apis)
                .plan(&args.principal, &target)
                .map_err(|error| error.to_string())
        },
    ) {
        Ok(plan) => plan,
        Err(message) => return fail(&message),
    };
    if args.json {
        let alternatives: Vec<&Vec<iamgate_analysis::Change>> =
            plan.alternatives.iter().map(|a| &a.changes).collect();
        return json(&alternatives);
    }
    if let Some(conditions) = &plan.allowed {
        println!(
            "{} may already {} on {}",
            args.principal, plan.action, plan.resource
        );
        for condition in conditions {
            println!("  {}", condition.describe());
        }
        return ExitCode::SUCCESS;
    }
    for deny in &plan.explicit_deny {
        println!("explicitly denied by the {deny}: no Allow can lift it; change that statement");
    }
    if plan.alternatives.is_empty() {
        println!("no change found that would allow it");
    }
    for (n, alternative) in plan.alternatives.iter().enumerate() {
        println!("option {}:", n + 1);
        if let Some(role) = &alternative.assume {
            println!("  call through role {role}");
        }
        if !alternative.widens.is_empty() {
            println!("  also lets in: {}", alternative.widens.join(", "));
        }
        for change in &alternative.changes {
            println!(
                "  {:?} statement for {} (account {}):\n    {}",
                change.kind, change.target, change.account, change.statement
            );
        }
        for command in &alternative.commands {
            println!("  {}", command.replace('\n', "\n  "));
        }
    }
    ExitCode::SUCCESS
}
