//! How this node reaches the other nodes sharing its store, for the
//! decision records only they hold ([`iamgate_control::decision_peers`]
//! says what is asked and why it is sealed): one `GET` over the peer's
//! ordinary listener, cleartext or TLS as it listens, trusting the CAs
//! every other client of this binary trusts.

use std::net::SocketAddr;

use iamgate_control::BoxFuture;
use iamgate_control::decision_peers::{ASK_TIMEOUT, PeerTransport};

use crate::remote::{Outgoing, exchange};

/// Peers reached over HTTP(S).
pub struct HttpPeers;

impl PeerTransport for HttpPeers {
    fn get(
        &self,
        url: String,
        header: (&'static str, String),
    ) -> BoxFuture<'static, Option<String>> {
        Box::pin(async move {
            let (base, path) = split_url(&url)?;
            let request = Outgoing::to(base)
                .ok()?
                .path(path, "")
                .header(header.0, &header.1);
            let answer = tokio::time::timeout(ASK_TIMEOUT, exchange(&request))
                .await
                .ok()?
                .ok()?;
            (answer.status == 200)
                .then(|| String::from_utf8(answer.body.to_vec()).ok())
                .flatten()
        })
    }
}

/// `http(s)://host:port` and the path of `url`.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.find("://")? + 3;
    let path_at = url.get(after_scheme..)?.find('/')? + after_scheme;
    Some((url.get(..path_at)?, url.get(path_at..)?))
}

/// Where the other nodes reach this one: `--peer-address` when given,
/// else the address `--listen` bound — with this machine's host name in
/// place of an unspecified address (`0.0.0.0`, `[::]`), which no other
/// machine can connect to.
pub fn advertised_address(given: Option<&str>, bound: SocketAddr, tls: bool) -> String {
    if let Some(given) = given {
        return given.trim_end_matches('/').to_owned();
    }
    let scheme = if tls { "https" } else { "http" };
    let port = bound.port();
    if !bound.ip().is_unspecified() {
        return match bound {
            SocketAddr::V4(v4) => format!("{scheme}://{}:{port}", v4.ip()),
            SocketAddr::V6(v6) => format!("{scheme}://[{}]:{port}", v6.ip()),
        };
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| {
            tracing::warn!(
                "cannot tell this machine's host name; other nodes are told 127.0.0.1 (set --peer-address)"
            );
            "127.0.0.1".to_owned()
        });
    format!("{scheme}://{host}:{port}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bound_address_is_advertised_as_bound_unless_one_is_given() {
        let bound: SocketAddr = "10.1.2.3:8080".parse().unwrap();
        assert_eq!(
            advertised_address(None, bound, false),
            "http://10.1.2.3:8080"
        );
        assert_eq!(
            advertised_address(None, bound, true),
            "https://10.1.2.3:8080"
        );
        let v6: SocketAddr = "[fd00::1]:443".parse().unwrap();
        assert_eq!(advertised_address(None, v6, true), "https://[fd00::1]:443");
        assert_eq!(
            advertised_address(Some("http://gw-1.internal:9000/"), bound, true),
            "http://gw-1.internal:9000"
        );
    }

    #[test]
    fn an_unspecified_address_is_advertised_by_host_name() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let advertised = advertised_address(None, any, false);
        assert!(advertised.starts_with("http://"), "{advertised}");
        assert!(advertised.ends_with(":8080"), "{advertised}");
        assert!(!advertised.contains("0.0.0.0"), "{advertised}");
    }

    #[test]
    fn a_peer_url_splits_into_endpoint_and_path() {
        assert_eq!(
            split_url("http://10.0.0.1:80/_iamgate/peer/decision"),
            Some(("http://10.0.0.1:80", "/_iamgate/peer/decision"))
        );
        assert_eq!(split_url("http://10.0.0.1:80"), None);
    }
}
