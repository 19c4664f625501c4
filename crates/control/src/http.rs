//! The HTTP exchange as the control planes see it, independent of the
//! server library: the request exactly as received (SigV4 covers the wire
//! form), and a response to write back.

use std::net::IpAddr;

use iamgate_iam::{Caller, World};
use iamgate_sigv4::{HttpRequest, SigV4Error, Verifier};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The raw request target: path and query, undecoded.
    pub target: String,
    /// Headers in the order received.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// The peer's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure: bool,
}

impl Request {
    /// The first header with this name (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }

    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }
}

/// Verifies the request's SigV4 signature exactly as it was sent: the
/// caller, and the region of its credential scope.
pub(crate) fn verify_signature(
    request: &Request,
    verifier: &Verifier,
    world: &World,
    now: i64,
) -> Result<(Caller, String), SigV4Error> {
    let headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let signed =
        HttpRequest::from_target(&request.method, &request.target, &headers, &request.body);
    let verified = verifier.verify(&signed, world, now)?;
    let region = verified.credential.region().to_owned();
    Ok((verified.identity, region))
}

/// A response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
