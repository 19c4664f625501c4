//! The `iamgate` binary: the server and the tools around it.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod analysis_api;
mod analysis_tools;
mod connections;
mod credentials;
mod explain;
mod import;
mod invoke;
mod metrics;
mod peers;
mod policy_tools;
mod remote;
mod serve;
mod test_invoke;
mod tls;

/// iamgate: an AWS-compatible API gateway whose core is IAM.
#[derive(Parser, Debug)]
#[command(name = "iamgate", version, about, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway: STS, IAM, the API Gateway v1 and v2 control planes
    /// and execute-api, on one port.
    Serve(Box<serve::ServeArgs>),
    /// Work with IAM policy documents.
    Policy(policy_tools::PolicyArgs),
    /// Evaluate one request against policies and explain the decision.
    Simulate(Box<policy_tools::SimulateArgs>),
    /// Every principal of every account that can take an action on a
    /// resource, directly or through roles, with the conditions that apply.
    WhoCan(Box<analysis_tools::WhoCanArgs>),
    /// Every API route a principal can invoke, directly or through roles.
    WhatCan(Box<analysis_tools::WhatCanArgs>),
    /// The smallest changes that would allow a denied request.
    Plan(Box<analysis_tools::PlanArgs>),
    /// Why a request to a running server was allowed or denied, from its
    /// decision record.
    Explain(explain::ExplainArgs),
    /// A world file from the saved outputs of AWS's read-only CLI commands:
    /// a real setup, to reproduce and explain offline.
    Import(import::ImportArgs),
    /// Call a URL with a SigV4-signed request (credentials as the AWS CLI
    /// finds them); on a denial, the server's explanation.
    Invoke(Box<invoke::InvokeArgs>),
    /// Print a completion script for a shell, e.g.
    /// `iamgate completions bash > /etc/bash_completion.d/iamgate`.
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    // With no subcommand, clap prints the help and exits 2.
    match Cli::parse().command {
        Command::Serve(args) => serve::run(*args),
        Command::Policy(args) => policy_tools::run_policy(args),
        Command::Simulate(args) => policy_tools::run_simulate(*args),
        Command::WhoCan(args) => analysis_tools::run_who_can(*args),
        Command::WhatCan(args) => analysis_tools::run_what_can(*args),
        Command::Plan(args) => analysis_tools::run_plan(*args),
        Command::Explain(args) => explain::run(args),
        Command::Import(args) => import::run(args),
        Command::Invoke(args) => invoke::run(*args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "iamgate", &mut script);
            // A reader that stops early (`| head`) is not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            ExitCode::SUCCESS
        }
    }
}
