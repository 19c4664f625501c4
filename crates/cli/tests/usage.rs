#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! What a newcomer sees first: `iamgate` run without a subcommand.

use std::process::Command;

#[test]
fn no_subcommand_prints_the_help_and_exits_as_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .output()
        .unwrap();
    // clap's `arg_required_else_help`: the help, on stderr, exit code 2.
    assert_eq!(out.status.code(), Some(2));
    let help = String::from_utf8_lossy(&out.stderr);
    assert!(help.contains("Usage: iamgate"), "{help}");
    for command in ["serve", "policy", "simulate", "explain"] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    assert!(
        help.contains("API Gateway v1 and v2 control planes and execute-api"),
        "{help}"
    );
}

#[test]
fn completion_scripts_name_every_subcommand_and_bash_reads_its_own() {
    for shell in ["bash", "zsh", "fish"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_iamgate"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        for subcommand in ["serve", "who-can", "explain", "import", "invoke"] {
            assert!(script.contains(subcommand), "{shell} lacks {subcommand}");
        }
        if shell == "bash" {
            let mut check = std::process::Command::new("bash")
                .arg("-n")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(check.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
            assert!(
                check.wait().unwrap().success(),
                "bash -n refused the script"
            );
        }
    }
}
