//! The view of an HTTP request that verification needs, exactly as received.

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
}
