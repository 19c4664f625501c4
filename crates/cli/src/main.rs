//! The `iamgate` binary: the server and the tools around it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod connections;
mod metrics;
mod policy_tools;
mod serve;

/// iamgate: an AWS-compatible API gateway whose core is IAM.
#[derive(Parser, Debug)]
#[command(name = "iamgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway: STS and IAM (and, later, API Gateway) on one port.
    Serve(Box<serve::ServeArgs>),
    /// Work with IAM policy documents.
    Policy(policy_tools::PolicyArgs),
    /// Evaluate one request against policies and explain the decision.
    Simulate(Box<policy_tools::SimulateArgs>),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::Policy(args)) => policy_tools::run_policy(args),
        Some(Command::Simulate(args)) => policy_tools::run_simulate(*args),
        None => ExitCode::SUCCESS,
    }
}
