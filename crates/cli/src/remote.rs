//! Asking a running server, for the tools that read what only it holds
//! (`explain`: decision records) or that can run on its snapshot
//! (`who-can`, `what-can`, `plan` with `--endpoint-url`): one signed
//! `GET` under `/_iamgate/`, signed for IAM with the reader's credentials
//! so the server answers what that account may see.
//!
//! Credentials come as the AWS CLI finds them ([`crate::credentials`]).
//! Plain HTTP only. Secrets never leave [`send`] except inside the
//! signature.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use iamgate_sigv4::sign::{SigningCredentials, Unsigned, sign_headers};

use crate::credentials::{self, Credentials};

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
pub(crate) fn query_string(params: &[(&str, &str)]) -> String {
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

/// One request to send signed: where to (`http(s)://host:port`), and
/// what.
#[derive(Debug, Clone)]
pub struct Outgoing {
    base: String,
    /// Where to connect (and, over TLS, the server name to check).
    endpoint: String,
    tls: bool,
    authority: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Outgoing {
    /// A `GET /` to `base`, an `http://` or `https://` URL without a path.
    pub fn to(base: &str) -> Result<Outgoing, String> {
        let base = base.trim_end_matches('/');
        let (tls, rest) = match base.strip_prefix("https://") {
            Some(rest) => (true, rest),
            None => (false, base.strip_prefix("http://").unwrap_or_default()),
        };
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "{base}: the endpoint must be http(s)://HOST[:PORT]"
            ));
        }
        Ok(Outgoing {
            base: base.to_owned(),
            endpoint: rest.to_owned(),
            tls,
            authority: rest.to_owned(),
            method: "GET".to_owned(),
            path: "/".to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    pub fn method(mut self, method: &str) -> Self {
        method.clone_into(&mut self.method);
        self
    }

    /// The path as sent (percent-encoded where needed) and the query
    /// without `?`.
    pub fn path(mut self, path: &str, query: &str) -> Self {
        path.clone_into(&mut self.path);
        query.clone_into(&mut self.query);
        self
    }

    /// The `Host` to send and sign, when it is not the endpoint's (an
    /// `{api-id}.execute-api.{region}.amazonaws.com` name sent to a local
    /// server).
    pub fn host(mut self, host: &str) -> Self {
        host.clone_into(&mut self.authority);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` signed with `credentials` for `region` and `service`;
/// over TLS, trusting `AWS_CA_BUNDLE` (a PEM file) or the system's CAs.
pub async fn send(
    request: &Outgoing,
    credentials: &Credentials,
    region: &str,
    service: &str,
) -> Result<Answer, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let mut to_sign: Vec<(&str, &str)> = vec![("host", request.authority.as_str())];
    to_sign.extend(
        request
            .headers
            .iter()
            .filter(|(name, _)| name != "host")
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let signed = sign_headers(
        &Unsigned {
            method: &request.method,
            path: &request.path,
            query: &request.query,
            headers: &to_sign,
            body: &request.body,
        },
        SigningCredentials {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
        },
        region,
        service,
        &iamgate_sigv4::time::format_basic(now),
    );
    let mut signed_request = request.clone();
    signed_request.headers = to_sign
        .iter()
        .filter(|(name, _)| *name != "host")
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .chain(signed)
        .collect();
    exchange(&signed_request).await
}

/// Sends `request` as it is (no signature); over TLS, trusting
/// `AWS_CA_BUNDLE` (a PEM file) or the system's CAs.
pub async fn exchange(request: &Outgoing) -> Result<Answer, String> {
    let url = if request.query.is_empty() {
        format!("{}{}", request.base, request.path)
    } else {
        format!("{}{}?{}", request.base, request.path, request.query)
    };
    let mut outgoing = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(url)
        .header("host", request.authority.as_str());
    for (name, value) in &request.headers {
        outgoing = outgoing.header(name.as_str(), value.as_str());
    }
    let outgoing = outgoing
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|error| error.to_string())?;
    let response = if request.tls {
        over_tls(request, outgoing).await?
    } else {
        let client = Client::builder(TokioExecutor::new()).build_http();
        client
            .request(outgoing)
            .await
            .map_err(|error| format!("cannot reach {}: {error}", request.base))?
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| error.to_string())?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// One HTTP/1.1 exchange on a TLS connection to the request's endpoint.
async fn over_tls(
    request: &Outgoing,
    outgoing: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let unreachable =
        |error: &dyn std::fmt::Display| format!("cannot reach {}: {error}", request.base);
    let bundle = std::env::var_os("AWS_CA_BUNDLE").filter(|b| !b.is_empty());
    let config = crate::tls::client_config(bundle.as_deref().map(std::path::Path::new))?;
    let (host, port) = match request.endpoint.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host, port),
        _ => (request.endpoint.as_str(), "443"),
    };
    let name = rustls_pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
        .map_err(|error| unreachable(&error))?;
    let tcp = tokio::net::TcpStream::connect(format!("{host}:{port}"))
        .await
        .map_err(|error| unreachable(&error))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|error| unreachable(&error))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|error| unreachable(&error))?;
    tokio::spawn(connection);
    sender
        .send_request(outgoing)
        .await
        .map_err(|error| unreachable(&error))
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
    runtime.block_on(async {
        let credentials = credentials::resolve(server.profile.as_deref(), endpoint_url).await?;
        get_with(endpoint_url, &credentials, &server.region, path, params).await
    })
}

/// [`get`] with credentials already resolved.
pub async fn get_with(
    endpoint_url: &str,
    credentials: &Credentials,
    region: &str,
    path: &str,
    params: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let request = Outgoing::to(endpoint_url)?.path(path, &query_string(params));
    let answer = send(&request, credentials, region, "iam").await?;
    if !(200..300).contains(&answer.status) {
        let message = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
        return Err(format!("{}: {message}", answer.status));
    }
    Ok(answer.body.to_vec())
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
}
