//! `iamgate explain REQUEST-ID`: why a request was allowed or denied, read
//! from a running server's decision records
//! (`GET /_iamgate/decisions/{id}`, signed for IAM with the reader's
//! credentials, so each account sees what it may see; see [`crate::remote`]).
//!
//! No offline form: records are made by the server that decided, and live
//! only there. `--world` is refused with that reason rather than clap's
//! "unexpected argument".

use std::path::PathBuf;
use std::process::ExitCode;

use iamgate_decisions::{DecisionRecord, describe_rule};

use crate::remote::{self, ServerArgs};

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The request id the response carried (`x-amzn-RequestId`,
    /// `apigw-requestid`).
    request_id: String,
    /// The server, such as `http://127.0.0.1:4566`.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint_url: String,
    #[command(flatten)]
    server: ServerArgs,
    /// Print the record as JSON.
    #[arg(long)]
    json: bool,
    /// Refused: records live in the server (see the module docs).
    #[arg(long, hide = true)]
    world: Option<PathBuf>,
}

pub fn run(args: ExplainArgs) -> ExitCode {
    if args.world.is_some() {
        eprintln!(
            "iamgate explain: --world is not supported: decision records are kept by the server \
             that decided the request, not in the world file; ask it with --endpoint-url"
        );
        return ExitCode::from(2);
    }
    match fetch(&args) {
        Ok(record) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&record).unwrap_or_default()
                );
            } else {
                print!("{}", for_people(&record));
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("iamgate explain: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fetch(args: &ExplainArgs) -> Result<DecisionRecord, String> {
    if args.request_id.is_empty()
        || !args
            .request_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!("{:?} is not a request id", args.request_id));
    }
    let path = format!("/_iamgate/decisions/{}", args.request_id);
    let body = remote::get(&args.endpoint_url, &args.server, &path, &[])?;
    serde_json::from_slice(&body).map_err(|error| format!("unreadable decision record: {error}"))
}

/// The record, for people.
pub(crate) fn for_people(record: &DecisionRecord) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let none = "-";
    let _ = writeln!(out, "request   {} ({})", record.request_id, record.service);
    let _ = writeln!(out, "decision  {}", record.decision);
    let _ = writeln!(
        out,
        "caller    {}",
        record.principal.as_deref().unwrap_or("(not authenticated)")
    );
    if let Some(caller) = &record.caller {
        let _ = writeln!(out, "          account {}", caller.account);
        if let Some(issuer) = &caller.session_issuer {
            let _ = writeln!(out, "          session of {issuer}");
        }
        if let Some(source) = &caller.source_identity {
            let _ = writeln!(out, "          source identity {source}");
        }
    }
    let _ = writeln!(out, "action    {}", record.action);
    let _ = writeln!(
        out,
        "resource  {}",
        record.resource.as_deref().unwrap_or(none)
    );
    if let Some(rule) = &record.rule {
        let _ = writeln!(
            out,
            "rule      {rule}: {}",
            describe_rule(rule).unwrap_or("")
        );
    }
    if let Some(t) = &record.deciding_policy_type {
        let _ = writeln!(out, "decided by the {t} policies");
    }
    if !record.missing.is_empty() {
        let _ = writeln!(
            out,
            "missing   an Allow in each of: {}",
            record.missing.join(", ")
        );
    }
    if !record.matched_statements.is_empty() {
        let _ = writeln!(out, "statements that applied:");
    }
    for s in &record.matched_statements {
        let policy = s.policy.as_deref().map_or_else(
            || format!("(a policy of account {})", s.account),
            str::to_owned,
        );
        let _ = write!(out, "  {} in {} policy {policy}", s.effect, s.policy_type);
        if let Some(sid) = &s.sid {
            let _ = write!(out, " Sid {sid}");
        }
        if let Some(index) = s.index {
            let _ = write!(out, " statement #{index}");
        }
        if let (Some(line), Some(column)) = (s.line, s.column) {
            let _ = write!(out, " at {line}:{column}");
        }
        if s.not_principal {
            let _ = write!(out, " (NotPrincipal)");
        }
        out.push('\n');
    }
    if !record.policies.is_empty() {
        let _ = writeln!(out, "policies considered:");
    }
    for p in &record.policies {
        let policy = p.policy.as_deref().unwrap_or("(not shown)");
        let _ = writeln!(out, "  {} {policy} (account {})", p.policy_type, p.account);
    }
    if !record.condition_keys.is_empty() {
        let _ = writeln!(out, "condition keys:");
    }
    for k in &record.condition_keys {
        let value = if k.present && k.values.is_empty() {
            "(present, value not recorded)".to_owned()
        } else if k.present {
            k.values.join(", ")
        } else {
            "(absent)".to_owned()
        };
        let _ = writeln!(out, "  {} = {value}", k.key);
    }
    if let Some(code) = &record.error_code {
        let _ = writeln!(out, "error     {code}");
    }
    if let Some(message) = &record.message {
        let _ = writeln!(out, "message   {message}");
    }
    out
}
