//! The view of an HTTP request that verification needs, exactly as received.

use crate::scan::{eq_ignore_case, find_byte};

/// A request as the client sent it. Nothing here may have been decoded or
/// normalized by the HTTP layer: the signature covers the wire form.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The raw path of the request target, without the query.
    pub path: &'a str,
    /// The raw query string, without the `?` (empty when there is none).
    pub query: &'a str,
    /// Every header in the order received; names in any case, values as bytes.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The complete body.
    pub body: &'a [u8],
}

impl<'a> HttpRequest<'a> {
    /// Builds the view from a request target such as `/prod/pets?type=dog`.
    pub fn from_target(
        method: &'a str,
        target: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
        body: &'a [u8],
    ) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers_named(name).next()
    }

    /// Every header with this name (case-insensitive), in request order.
    pub fn headers_named<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// The headers verification looks up, found in one pass over the request
    /// instead of one case-insensitive scan each. Each is the first header
    /// with its name, exactly what [`HttpRequest::header`] returns.
    pub(crate) fn signing_headers(&self) -> SigningHeaders<'a> {
        let mut found = SigningHeaders::default();
        for &(name, value) in self.headers {
            // The length picks the one candidate a name can be, so most
            // headers cost one comparison of lengths.
            let slot = match name.len() {
                4 if eq_ignore_case(name.as_bytes(), b"date") => &mut found.date,
                10 if eq_ignore_case(name.as_bytes(), b"x-amz-date") => &mut found.x_amz_date,
                13 if eq_ignore_case(name.as_bytes(), b"authorization") => &mut found.authorization,
                20 if eq_ignore_case(name.as_bytes(), b"x-amz-security-token") => {
                    &mut found.security_token
                }
                20 if eq_ignore_case(name.as_bytes(), b"x-amz-content-sha256") => {
                    &mut found.content_sha256
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        found
    }

    /// The raw query parameters as `(name, value)` pairs, neither decoded.
    /// A piece without `=` has an empty value; empty pieces are skipped.
    pub(crate) fn raw_query_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.query
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
    }

    /// The raw value of the first query parameter with exactly this name.
    pub(crate) fn raw_query_param(&self, name: &str) -> Option<&'a str> {
        self.raw_query_pairs()
            .find(|(candidate, _)| *candidate == name)
            .map(|(_, value)| value)
    }

    /// Whether the query has an `X-Amz-Algorithm` parameter: what makes a
    /// request presigned. Same answer as `raw_query_param`, but most queries
    /// have no byte `X` at all and are dismissed by one scan for it.
    pub(crate) fn has_query_algorithm(&self) -> bool {
        find_byte(self.query.as_bytes(), b'X').is_some()
            && self.raw_query_param("X-Amz-Algorithm").is_some()
    }
}

/// The first value of each header that says how a request is signed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SigningHeaders<'a> {
    pub authorization: Option<&'a [u8]>,
    pub x_amz_date: Option<&'a [u8]>,
    pub date: Option<&'a [u8]>,
    pub security_token: Option<&'a [u8]>,
    pub content_sha256: Option<&'a [u8]>,
}
