//! `iamgate import`: a world file from the saved outputs of AWS's
//! read-only CLI commands (`iamgate-import` reads them). The result is read
//! back through the world file's own reader before anything is written, so
//! an import that `serve --config` would refuse writes nothing and says
//! why.
//!
//! With `--endpoint-url`, the checked import is loaded into a running
//! server through its own control-plane APIs instead ([`load`]).

mod load;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use iamgate_control::apply::WorldFile;
use iamgate_import::{Options, Source, import};

use crate::remote::ServerArgs;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Saved JSON outputs of the AWS CLI (`aws iam
    /// get-account-authorization-details`, `aws iam list-roles`, `aws
    /// apigateway get-export …`, `aws apigatewayv2 export-api …`), or
    /// folders of them (their `*.json` files).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The world file to write; the OpenAPI files it names go in the same
    /// folder. Without it, the world file goes to standard output (and APIs
    /// cannot be imported).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Make an access key for every user and every account root, so that
    /// requests can be replayed; the key ids are printed, the secrets are
    /// only in the world file.
    #[arg(long)]
    with_test_keys: bool,
    /// The account of imported APIs (exports do not name it). Without it:
    /// the account an API's resource policy names, else the one IAM
    /// account imported.
    #[arg(long, value_name = "ACCOUNT_ID")]
    account: Option<String>,
    /// Load the import into this running server (`http://127.0.0.1:4566`)
    /// through its IAM and API Gateway APIs, signed with the usual AWS
    /// credentials (environment, `--profile`), instead of writing a file.
    /// Everything must be of the credentials' account; the import is
    /// checked whole before the first call.
    #[arg(long, value_name = "URL", conflicts_with_all = ["output", "with_test_keys"])]
    endpoint_url: Option<String>,
    #[command(flatten)]
    server: ServerArgs,
}

pub fn run(args: ImportArgs) -> ExitCode {
    match run_import(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("iamgate import: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every file a path names: itself, or a folder's `*.json`, sorted.
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn run_import(args: &ImportArgs) -> Result<(), String> {
    let files = input_files(&args.paths)?;
    let mut inputs = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        inputs.push((file.display().to_string(), json));
    }
    let sources: Vec<Source<'_>> = inputs
        .iter()
        .map(|(name, json)| Source { name, json })
        .collect();
    let options = Options {
        test_keys: args.with_test_keys,
        api_account: args.account.clone(),
    };
    let imported = import(&sources, &options).map_err(|e| e.to_string())?;
    if args.output.is_none() && args.endpoint_url.is_none() && !imported.files.is_empty() {
        return Err(
            "importing APIs writes their OpenAPI files beside the world file: pass --output".into(),
        );
    }
    // The world file's own reader decides whether the result is a world.
    let beside = |name: &str| {
        imported
            .files
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, text)| text.clone())
            .ok_or_else(|| format!("{name} was not imported"))
    };
    let checked = match WorldFile::parse(&imported.world, &beside) {
        Ok(checked) => checked,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "the imported world would be refused ({} error(s)); nothing was written:\n{}",
                lines.len(),
                lines.join("\n")
            ));
        }
    };
    if let Some(endpoint) = &args.endpoint_url {
        load::load(endpoint, &args.server, &checked.iam, &imported)?;
        for line in &imported.not_imported {
            eprintln!("iamgate import: not imported: {line}");
        }
        return Ok(());
    }
    match &args.output {
        Some(output) => {
            let folder = output.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
            for (name, text) in &imported.files {
                write_whole(&folder.join(name), text)?;
            }
            write_whole(output, &imported.world)?;
            eprintln!("iamgate import: wrote {}", output.display());
        }
        None => print!("{}", imported.world),
    }
    for line in &imported.not_imported {
        eprintln!("iamgate import: not imported: {line}");
    }
    for (principal, key) in &imported.test_keys {
        eprintln!("iamgate import: test key {key} for {principal}");
    }
    Ok(())
}

/// Writes `text` whole or not at all: a temporary file renamed over the
/// target.
fn write_whole(path: &Path, text: &str) -> Result<(), String> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write {}: {e}", path.display())
        })
}
