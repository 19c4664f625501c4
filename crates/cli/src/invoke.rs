//! `iamgate invoke URL`: one request signed with SigV4, as `curl` would
//! send it if it knew the caller's AWS credentials; on a denial, the
//! server's own explanation from its decision record.
//!
//! Why in the binary: the question after a 403 is "why", and the server
//! that decided can say — but only to someone who can sign a request as an
//! account that may read the record. The tool that made the request has
//! exactly those credentials, so it asks at once
//! (`GET /_iamgate/decisions/{request-id}`, as `iamgate explain` does).
//! Against a server that keeps no records (AWS itself) the lookup fails
//! quietly and the answer is printed as it came.
//!
//! Over `https://`, the server is trusted as the AWS CLI trusts one:
//! `AWS_CA_BUNDLE`, else the system's CAs.
//!
//! The region and service come from the host when it is an
//! `{api-id}.execute-api.{region}.amazonaws.com` name; `--endpoint-url`
//! sends the request elsewhere (a local iamgate) while signing for that
//! host.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use iamgate_decisions::DecisionRecord;

use crate::credentials;
use crate::explain::for_people;
use crate::remote::{self, Outgoing};

#[derive(clap::Args, Debug)]
pub struct InvokeArgs {
    /// The URL to call, e.g.
    /// `https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/pets`
    /// (with --endpoint-url) or `http://127.0.0.1:4566/restapis/a1b2c3d4e5/prod/_user_request_/pets`.
    url: String,
    /// The HTTP method (default: GET, or POST with --data).
    #[arg(short = 'X', long = "request")]
    method: Option<String>,
    /// A header `Name: value` to send and sign (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The body: text, `@FILE`, or `@-` for standard input.
    #[arg(short = 'd', long = "data")]
    data: Option<String>,
    /// Where to send the request when the URL's host is not where the
    /// server listens (`http://127.0.0.1:4566`); also where roles are
    /// assumed and decision records read.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// The profile of `~/.aws/credentials` and `~/.aws/config`.
    #[arg(long, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// The region to sign for (default: the host's, then AWS_REGION, then
    /// the profile's, then us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// The service to sign for (default: execute-api).
    #[arg(long, default_value = "execute-api")]
    service: String,
    /// Print the status line and headers before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Do not ask the server why a request was denied.
    #[arg(long)]
    no_explain: bool,
}

pub fn run(args: InvokeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("iamgate invoke: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(invoke(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("iamgate invoke: {message}");
            ExitCode::from(2)
        }
    }
}

/// The parts of a URL the request needs.
#[derive(Debug, PartialEq)]
struct Target<'u> {
    scheme: &'u str,
    authority: &'u str,
    path: &'u str,
    query: &'u str,
}

fn split_url(url: &str) -> Result<Target<'_>, String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
        .ok_or_else(|| format!("{url}: not an http:// or https:// URL"))?;
    let (authority, path_and_query) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    Ok(Target {
        scheme,
        authority,
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

/// The region an `{api-id}.execute-api.{region}.amazonaws.com` host names.
fn host_region(authority: &str) -> Option<&str> {
    let host = authority.split(':').next()?;
    let mut labels = host.split('.');
    let (_, Some("execute-api"), Some(region)) = (labels.next(), labels.next(), labels.next())
    else {
        return None;
    };
    Some(region)
}

fn body(data: Option<&str>) -> Result<Vec<u8>, String> {
    match data {
        None => Ok(Vec::new()),
        Some("@-") => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(body)
        }
        Some(data) => match data.strip_prefix('@') {
            Some(file) => std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}")),
            None => Ok(data.as_bytes().to_vec()),
        },
    }
}

/// Sends the request; `Ok(true)` for a 2xx answer.
async fn invoke(args: &InvokeArgs) -> Result<bool, String> {
    let target = split_url(&args.url)?;
    let endpoint = match &args.endpoint_url {
        Some(endpoint) => endpoint.clone(),
        None => format!("{}://{}", target.scheme, target.authority),
    };
    let region = args
        .region
        .clone()
        .or_else(|| host_region(target.authority).map(str::to_owned))
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
        .or_else(|| credentials::profile_region(args.profile.as_deref()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let body = body(args.data.as_deref())?;
    let method = args
        .method
        .clone()
        .unwrap_or_else(|| if args.data.is_some() { "POST" } else { "GET" }.to_owned());
    let mut request = Outgoing::to(&endpoint)?
        .method(&method.to_ascii_uppercase())
        .host(target.authority)
        .path(target.path, target.query);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("{header:?}: a header is `Name: value`"))?;
        request = request.header(name.trim(), value.trim());
    }
    let request = request.body(body);
    let credentials = credentials::resolve(args.profile.as_deref(), &endpoint).await?;
    let answer = remote::send(&request, &credentials, &region, &args.service).await?;

    let mut out = std::io::stdout().lock();
    if args.include {
        let _ = writeln!(out, "HTTP/1.1 {}", answer.status);
        for (name, value) in &answer.headers {
            let _ = writeln!(out, "{name}: {value}");
        }
        let _ = writeln!(out);
    }
    let _ = out.write_all(&answer.body);
    let _ = out.flush();
    let success = (200..300).contains(&answer.status);
    if matches!(answer.status, 401 | 403)
        && !args.no_explain
        && let Some(id) = answer
            .header("x-amzn-requestid")
            .or_else(|| answer.header("apigw-requestid"))
    {
        let path = format!("/_iamgate/decisions/{id}");
        match remote::get_with(&endpoint, &credentials, &region, &path, &[]).await {
            Ok(bytes) => match serde_json::from_slice::<DecisionRecord>(&bytes) {
                Ok(record) => eprint!("\n{}", for_people(&record)),
                Err(error) => eprintln!("\niamgate invoke: unreadable decision record: {error}"),
            },
            Err(error) => eprintln!("\niamgate invoke: no explanation for request {id} ({error})"),
        }
    }
    Ok(success)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_url_splits_into_scheme_host_path_and_query() {
        assert_eq!(
            split_url("https://a1.execute-api.eu-west-1.amazonaws.com/prod/pets?x=1&y").unwrap(),
            Target {
                scheme: "https",
                authority: "a1.execute-api.eu-west-1.amazonaws.com",
                path: "/prod/pets",
                query: "x=1&y"
            }
        );
        assert_eq!(split_url("http://127.0.0.1:4566").unwrap().path, "/");
        assert_eq!(split_url("http://h?q=1").unwrap().query, "q=1");
        assert!(split_url("ftp://h/").is_err());
        assert!(split_url("http:///x").is_err());
    }

    #[test]
    fn an_execute_api_host_names_its_region() {
        assert_eq!(
            host_region("a1.execute-api.eu-west-1.amazonaws.com"),
            Some("eu-west-1")
        );
        assert_eq!(
            host_region("a1.execute-api.eu-west-1.amazonaws.com:443"),
            Some("eu-west-1")
        );
        assert_eq!(host_region("127.0.0.1:4566"), None);
    }
}
