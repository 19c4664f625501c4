//! `iamgate who-can`, `what-can` and `plan`: the access analysis of
//! `iamgate-analysis` over a world file (`--world`, read as `serve
//! --config` reads it, OpenAPI files included), printed for people
//! (a table, DOT or Mermaid) or for machines (`--json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use iamgate_analysis::{Analysis, Target, graph, what_can};
use iamgate_apimodel::config::ApiRegistry;
use iamgate_control::apply::WorldFile;
use iamgate_iam::World;
use iamgate_iam::config::fresh_stamp;

#[derive(Args, Debug)]
pub struct WorldArgs {
    /// The world file to analyse (the YAML `iamgate serve --config` reads).
    #[arg(long)]
    world: PathBuf,
}

#[derive(Args, Debug)]
pub struct TargetArgs {
    /// The action (with --resource), e.g. `execute-api:Invoke`.
    #[arg(long, requires = "resource")]
    action: Option<String>,
    /// The resource ARN (with --action).
    #[arg(long, requires = "action")]
    resource: Option<String>,
    /// The API id (with --stage and --route).
    #[arg(long, conflicts_with = "action", requires_all = ["stage", "route"])]
    api: Option<String>,
    #[arg(long)]
    stage: Option<String>,
    /// `METHOD /path`, as a request would be made.
    #[arg(long)]
    route: Option<String>,
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
    world: WorldArgs,
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
    world: WorldArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The principal whose request is denied.
    #[arg(long)]
    principal: String,
    #[command(flatten)]
    world: WorldArgs,
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

fn target(args: &TargetArgs, world: &World, apis: &ApiRegistry) -> Result<Target, String> {
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

pub fn run_who_can(args: WhoCanArgs) -> ExitCode {
    let (world, apis) = match load_world(&args.world.world) {
        Ok(loaded) => loaded,
        Err(message) => return fail(&message),
    };
    let target = match target(&args.target, &world, &apis) {
        Ok(target) => target,
        Err(message) => return fail(&message),
    };
    let found = Analysis::new(&world, &apis).who_can(&target);
    if args.output.json {
        return json(&found);
    }
    print!("{}", picture(args.output.format, &found));
    ExitCode::SUCCESS
}

pub fn run_what_can(args: WhatCanArgs) -> ExitCode {
    let (world, apis) = match load_world(&args.world.world) {
        Ok(loaded) => loaded,
        Err(message) => return fail(&message),
    };
    let routes = match Analysis::new(&world, &apis).what_can(&args.principal) {
        Ok(routes) => routes,
        Err(error) => return fail(&error.to_string()),
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
    let (world, apis) = match load_world(&args.world.world) {
        Ok(loaded) => loaded,
        Err(message) => return fail(&message),
    };
    let target = match target(&args.target, &world, &apis) {
        Ok(target) => target,
        Err(message) => return fail(&message),
    };
    let plan = match Analysis::new(&world, &apis).plan(&args.principal, &target) {
        Ok(plan) => plan,
        Err(error) => return fail(&error.to_string()),
    };
    if args.json {
        let alternatives: Vec<&Vec<iamgate_analysis::Change>> =
            plan.alternatives.iter().map(|a| &a.changes).collect();
        return json(&alternatives);
    }
    if let Some(conditions) = &plan.allowed {
        println!(
            "{} may already {} on {}",
            args.principal, target.action, target.resource
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
