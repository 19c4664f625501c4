#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The packaging files: the systemd unit is one systemd accepts, and runs
//! a command line `iamgate` accepts.

use std::path::Path;
use std::process::Command;

fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/iamgate.service");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_systemd_unit_verifies_without_a_warning() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: systemd-analyze not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iamgate.service");
    let text = unit().replace("/usr/local/bin/iamgate", env!("CARGO_BIN_EXE_iamgate"));
    std::fs::write(&file, text).unwrap();
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && said.trim().is_empty(), "{said}");
}

#[test]
fn the_units_serve_command_line_is_one_iamgate_accepts() {
    let unit = unit();
    let exec = unit
        .split("ExecStart=/usr/local/bin/iamgate")
        .nth(1)
        .unwrap()
        .split("\n# ")
        .next()
        .unwrap()
        .replace("\\\n", " ");
    let mut args: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
    for arg in &mut args {
        if arg == "${STATE_DIRECTORY}" {
            "/var/lib/iamgate".clone_into(arg);
        }
    }
    assert_eq!(args.first().map(String::as_str), Some("serve"));
    // clap checks the arguments before anything is served: --help after
    // them exits 0 only if every one is known.
    args.push("--help".to_owned());
    let output = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
