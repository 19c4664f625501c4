//! Times reading a world file once and decoding every section, the
//! start-up step whose scale issue 11 asks about:
//!
//! ```sh
//! cargo run --release -p iamgate-control --example world_file_parse -- FILE
//! ```
//!
//! Prints the principals found and the time taken; any error is printed
//! with its line and column.

use std::process::ExitCode;
use std::time::Instant;

use iamgate_control::apply::WorldFile;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: world_file_parse FILE");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("cannot read {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let parsed = WorldFile::parse(&text, &|file| Err(format!("{file}: not read here")));
    let elapsed = started.elapsed();
    match parsed {
        Ok(world) => {
            let users: usize = world.iam.accounts.iter().map(|a| a.users.len()).sum();
            let keys: usize = world
                .iam
                .accounts
                .iter()
                .flat_map(|a| &a.users)
                .map(|u| u.access_keys.len())
                .sum();
            println!(
                "{} bytes, {users} users, {keys} access keys: parsed and checked in {} ms",
                text.len(),
                elapsed.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in errors.iter().take(20) {
                eprintln!("{path}:{error}");
            }
            eprintln!("{} error(s) in {} ms", errors.len(), elapsed.as_millis());
            ExitCode::FAILURE
        }
    }
}
