//! The `iamgate` binary: the server and the tools around it.

use clap::Parser;

/// iamgate: an AWS-compatible API gateway whose core is IAM.
#[derive(Parser, Debug)]
#[command(name = "iamgate", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
