//! Asking a running server, for the tools that read what only it holds
//! (`explain`: decision records) or that can run on its snapshot
//! (`who-can`, `what-can`, `plan` with `--endpoint-url`): one signed
//! `GET` under `/_iamgate/`, signed for IAM with the reader's credentials
//! so the server answers what that account may see.
//!
//! Credentials come as the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else the profile
//! (`--profile`, `AWS_PROFILE`, `default`) of `~/.aws/credentials`
//! (`AWS_SHARED_CREDENTIALS_FILE`). Plain HTTP only. Secrets never leave
//! this module except inside the signature.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use iamgate_sigv4::sign::{SigningCredentials, Unsigned, sign_headers};

/// Where and as whom to ask.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// The profile of the shared credentials file.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// The region to sign for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
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

/// `text` with every byte but the unreserved ones escaped (`%XX`), as a
/// query component in SigV4's canonical form.
fn encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The query string of `params`, sorted by name as SigV4 sorts them.
fn query_string(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (encode(name), encode(value)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET {endpoint}{path}?{params}` signed for IAM: the body of a 2xx
/// answer, else `status: message`.
pub fn get(
    endpoint_url: &str,
    server: &ServerArgs,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    runtime.block_on(get_async(endpoint_url, server, path, params))
}

async fn get_async(
    endpoint_url: &str,
    server: &ServerArgs,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let credentials = credentials(server.profile.as_deref())?;
    let base = endpoint_url.trim_end_matches('/');
    let authority = base
        .strip_prefix("http://")
        .ok_or("--endpoint-url must be an http:// URL")?;
    let query = query_string(params);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let signed = sign_headers(
        &Unsigned {
            method: "GET",
            path,
            query: &query,
            headers: &[("host", authority)],
            body: b"",
        },
        SigningCredentials {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
        },
        &server.region,
        "iam",
        &iamgate_sigv4::time::format_basic(now),
    );
    let url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let mut request = hyper::Request::get(url).header("host", authority);
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
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_escaped_and_sorted_as_sigv4_canonicalizes_them() {
        assert_eq!(
            query_string(&[("route", "GET /pets/{id}"), ("api", "a1")]),
            "api=a1&route=GET%20%2Fpets%2F%7Bid%7D"
        );
    }

    #[test]
    fn a_profile_value_is_read_from_its_own_section_only() {
        let text = "[default]\naws_access_key_id = A\n[other]\naws_access_key_id=B\n";
        assert_eq!(
            profile_value(text, "other", "aws_access_key_id").as_deref(),
            Some("B")
        );
        assert_eq!(profile_value(text, "none", "aws_access_key_id"), None);
    }
}
