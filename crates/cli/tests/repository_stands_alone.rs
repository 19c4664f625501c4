#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The repository stands alone: a fresh clone, with nothing beside it, has
//! everything its tests, benches, fuzz seeds, scripts and docs need. No
//! tracked file may reach for a `shared` folder beside the repository (a
//! relative path of one or more `../` followed by `shared`); only the
//! `SOURCE.md` files, which tell where data came from, may speak of it. Skipped, saying so, where git or the `.git` folder is
//! missing (a source tarball, say).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tracked files, or `None` after printing the SKIP line.
fn tracked_files(root: &Path) -> Option<Vec<String>> {
    if !root.join(".git").exists() {
        println!("SKIP: {} has no .git; not a git checkout", root.display());
        return None;
    }
    let output = match Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
    {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "SKIP: git ls-files failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        Err(error) => {
            println!("SKIP: git not found ({error})");
            return None;
        }
    };
    let listing = String::from_utf8(output.stdout).unwrap();
    Some(
        listing
            .split('\0')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// The text of `..` then `/shared`, built at run time so that this file does not
/// contain it. Any match of `\.\./(\.\./)*shared` contains it, and it is one.
fn sibling_shared() -> Vec<u8> {
    let mut needle = b"../".to_vec();
    needle.extend_from_slice(b"shared");
    needle
}

/// Data provenance notes may say where the data was copied from.
fn explains_provenance(name: &str) -> bool {
    name == "SOURCE.md" || name.ends_with("/SOURCE.md")
}

fn line_of(text: &[u8], at: usize) -> usize {
    text[..at].iter().filter(|&&b| b == b'\n').count() + 1
}

#[test]
fn no_tracked_file_refers_to_a_folder_beside_the_repository() {
    let root = repository_root();
    let Some(files) = tracked_files(&root) else {
        return;
    };
    assert!(
        files.iter().any(|f| f == "Cargo.toml"),
        "git ls-files did not list the workspace: {files:?}"
    );
    let needle = sibling_shared();
    let mut offenders = Vec::new();
    let mut checked = 0;
    for name in &files {
        if explains_provenance(name) {
            continue;
        }
        // A tracked file deleted in the work tree is not read; git status shows it.
        let Ok(bytes) = std::fs::read(root.join(name)) else {
            continue;
        };
        checked += 1;
        if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
            offenders.push(format!("{name}:{}", line_of(&bytes, at)));
        }
    }
    assert!(checked > 100, "only {checked} files were read");
    assert!(
        offenders.is_empty(),
        "tracked files refer to a folder beside the repository (put the data in testdata/):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_test_data_folder_says_where_its_data_came_from() {
    let testdata = repository_root().join("testdata");
    let mut folders = 0;
    for entry in std::fs::read_dir(&testdata).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            folders += 1;
            assert!(
                path.join("SOURCE.md").is_file(),
                "{} has no SOURCE.md",
                path.display()
            );
        }
    }
    assert!(folders >= 5, "{folders} folders in {}", testdata.display());
}
