//! `iamgate explain REQUEST-ID`: why a request was allowed or denied, read
//! from a running server's decision records
//! (`GET /_iamgate/decisions/{id}`, signed for IAM with the reader's
//! credentials, so each account sees what it may see).
//!
//! Credentials come as the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else the profile
//! (`--profile`, `AWS_PROFILE`, `default`) of `~/.aws/credentials`
//! (`AWS_SHARED_CREDENTIALS_FILE`). Plain HTTP only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use iamgate_decisions::{DecisionRecord, describe_rule};
use iamgate_sigv4::sign::{SigningCredentials, Unsigned, sign_headers};

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The request id the response carried (`x-amzn-RequestId`,
    /// `apigw-requestid`).
    request_id: String,
    /// The server, such as `http://127.0.0.1:4566`.
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint_url: String,
    /// The profile of the shared credentials file.
    #[arg(long, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// The region to sign for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Print the record as JSON.
    #[arg(long)]
    json: bool,
}

struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

fn credentials(profile: Option<&str>) -> Result<Credentials, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if profile.is_none()
        && let (Some(access_key_id), Some(secret_access_key)) =
            (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
    {
        return Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let profile = profile.unwrap_or("default");
    let path = match env("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env("HOME").ok_or("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or HOME for ~/.aws/credentials")?)
            .join(".aws/credentials"),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("no credentials: cannot read {}: {error}", path.display()))?;
    let value = |key: &str| profile_value(&text, profile, key);
    match (value("aws_access_key_id"), value("aws_secret_access_key")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: value("aws_session_token"),
        }),
        _ => Err(format!(
            "no credentials for profile {profile} in {}",
            path.display()
        )),
    }
}

/// `key` of `[profile]` in an INI credentials file.
fn profile_value(text: &str, profile: &str, key: &str) -> Option<String> {
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = section.trim() == profile;
        } else if in_profile
            && let Some((name, value)) = line.split_once('=')
            && name.trim() == key
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

pub fn run(args: ExplainArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("iamgate: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fetch(&args)) {
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

async fn fetch(args: &ExplainArgs) -> Result<DecisionRecord, String> {
    let credentials = credentials(args.profile.as_deref())?;
    let base = args.endpoint_url.trim_end_matches('/');
    let authority = base
        .strip_prefix("http://")
        .ok_or("--endpoint-url must be an http:// URL")?;
    if args.request_id.is_empty()
        || !args
            .request_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!("{:?} is not a request id", args.request_id));
    }
    let path = format!("/_iamgate/decisions/{}", args.request_id);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let signed = sign_headers(
        &Unsigned {
            method: "GET",
            path: &path,
            query: "",
            headers: &[("host", authority)],
            body: b"",
        },
        SigningCredentials {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
        },
        &args.region,
        "iam",
        &iamgate_sigv4::time::format_basic(now),
    );
    let mut request = hyper::Request::get(format!("{base}{path}")).header("host", authority);
    for (name, value) in &signed {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|error| error.to_string())?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .map_err(|error| format!("cannot reach {base}: {error}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| error.to_string())?
        .to_bytes();
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(format!("{}: {message}", status.as_u16()));
    }
    serde_json::from_slice(&body).map_err(|error| format!("unreadable decision record: {error}"))
}

/// The record, for people.
fn for_people(record: &DecisionRecord) -> String {
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
