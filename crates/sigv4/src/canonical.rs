//! The canonical request, built exactly as AWS builds it.
//!
//! ```text
//! <method>\n<canonical URI>\n<canonical query>\n<canonical headers>\n<signed headers>\n<payload hash>
//! ```
//! It is written to a [`Sink`]: straight into SHA-256 when verifying, so the
//! hot path never materializes the text, or into a buffer when a person needs
//! to read it (the long mismatch message, tests).

use std::borrow::Cow;

use crate::encoding::{Sink, encode, encode_into, is_unreserved, percent_decode};
use crate::scan::{eq_ignore_case, has_byte_below, has_uppercase, split_byte, split_once_byte};

/// Everything the canonical request is made of, borrowed from the request.
#[derive(Clone, Copy)]
pub(crate) struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query, made canonical while writing: see [`canonical_query`].
    pub query: &'a str,
    /// Query parameters to leave out (the signature itself, when presigned).
    pub query_skip: &'a [&'a str],
    pub signed_headers: &'a str,
    pub headers: &'a [(&'a str, &'a [u8])],
    /// Lower-case hex SHA-256 of the body, or the literal the client declared.
    pub payload_hash: &'a [u8],
    pub normalize_path: bool,
}

impl CanonicalRequest<'_> {
    pub fn write(&self, sink: &mut impl Sink) {
        sink.put(self.method.as_bytes());
        sink.put(b"\n");
        write_canonical_uri(sink, self.path, self.normalize_path);
        sink.put(b"\n");
        write_canonical_query(sink, self.query, self.query_skip);
        sink.put(b"\n");
        write_canonical_headers(sink, self.signed_headers, self.headers);
        sink.put(b"\n");
        sink.put(self.signed_headers.as_bytes());
        sink.put(b"\n");
        sink.put(self.payload_hash);
    }

    /// The canonical request as text, for messages and tests.
    pub fn to_text(self) -> String {
        let mut buffer = Vec::with_capacity(256);
        self.write(&mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// Writes the canonical URI of a raw wire path.
///
/// Normalized mode (every service except S3): remove `.` and `..` segments,
/// collapse runs of `/`, keep a trailing `/` (also the one a final `.` or
/// `..` leaves, as RFC 3986 §5.2.4 does), then encode every byte outside
/// the unreserved set and `/`. The input is the wire form, so an escape such
/// as `%20` is encoded again to `%2520`: AWS's documented double encoding.
/// S3 mode leaves the path as it is, encoding only what is not yet encoded.
pub(crate) fn write_canonical_uri(sink: &mut impl Sink, path: &str, normalize: bool) {
    if !normalize {
        encode_into(sink, path.as_bytes(), |b| b == b'/' || b == b'%');
        return;
    }
    if !needs_normalization(path) {
        encode_into(sink, path.as_bytes(), |b| b == b'/');
        return;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    for segment in &segments {
        sink.put(b"/");
        encode_into(sink, segment.as_bytes(), |_| false);
    }
    // RFC 3986 §5.2.4: removing a final `.` or `..` leaves the slash before
    // it, so `/a/b/..` is `/a/` and `/a/.` is `/a/`.
    let last = path.rsplit('/').next().unwrap_or_default();
    if segments.is_empty() || path.ends_with('/') || last == "." || last == ".." {
        sink.put(b"/");
    }
}

/// True when the path has an empty, `.` or `..` segment, or does not start
/// with `/` — the only cases where normalizing changes anything.
fn needs_normalization(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return true;
    };
    // An empty segment before the last is a `//`, and a `.` or `..` segment
    // starts with `/.`; a path with neither (most) needs no segment split.
    let mut previous = b'/';
    let suspicious = path.bytes().skip(1).any(|byte| {
        let pair = previous == b'/' && (byte == b'/' || byte == b'.');
        previous = byte;
        pair
    });
    if !suspicious {
        return false;
    }
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        let is_last = segments.peek().is_none();
        if segment == "." || segment == ".." || (segment.is_empty() && !is_last) {
            return true;
        }
    }
    false
}

/// The raw `(name, value)` pairs of a query, in order; see
/// [`crate::request::HttpRequest::raw_query_pairs`].
fn raw_pairs(raw_query: &str) -> impl Iterator<Item = (&str, &str)> {
    split_byte(raw_query, b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| split_once_byte(piece, b'=').unwrap_or((piece, "")))
}

/// Up to this many query parameters are sorted on the stack.
const SMALL_QUERY: usize = 8;

/// Writes [`canonical_query`] without building it: a query of at most
/// [`SMALL_QUERY`] parameters whose names and values are all unreserved
/// bytes (their own canonical form) is sorted in a stack array of borrowed
/// pairs; anything else takes the general path.
pub(crate) fn write_canonical_query(sink: &mut impl Sink, raw_query: &str, skip: &[&str]) {
    let mut small = [("", ""); SMALL_QUERY];
    let mut count = 0;
    for (name, value) in raw_pairs(raw_query).filter(|(name, _)| !skip.contains(name)) {
        let plain = name.bytes().all(is_unreserved) && value.bytes().all(is_unreserved);
        match small.get_mut(count) {
            Some(slot) if plain => *slot = (name, value),
            _ => {
                sink.put(canonical_query(raw_query, skip).as_bytes());
                return;
            }
        }
        count += 1;
    }
    let pairs = small.get_mut(..count).unwrap_or_default();
    // Same order as `canonical_query`: a `Cow` sorts by its text.
    pairs.sort_unstable();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            sink.put(b"&");
        }
        sink.put(name.as_bytes());
        sink.put(b"=");
        sink.put(value.as_bytes());
    }
}

/// The canonical query string: every parameter percent-decoded then strictly
/// re-encoded, sorted by encoded name then value, joined with `&`. `skip`
/// names parameters to leave out (the signature itself, in presigned mode).
pub(crate) fn canonical_query(raw_query: &str, skip: &[&str]) -> String {
    if raw_query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = raw_pairs(raw_query)
        .filter(|(name, _)| !skip.contains(name))
        .map(|(name, value)| (canonical_component(name), canonical_component(value)))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() + 8);
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A query name or value decoded then strictly re-encoded. Text of
/// unreserved bytes only is its own encoding, so it is borrowed.
fn canonical_component(raw: &str) -> Cow<'_, str> {
    if raw.bytes().all(is_unreserved) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(encode(&percent_decode(raw)))
    }
}

/// Writes `name:value\n` for each name in `SignedHeaders`, in that order.
/// Repeated headers are joined with `,` in request order; a signed header the
/// request lacks is written with an empty value and lets the signature fail.
pub(crate) fn write_canonical_headers(
    sink: &mut impl Sink,
    signed_headers: &str,
    headers: &[(&str, &[u8])],
) {
    for name in split_byte(signed_headers, b';').map(str::as_bytes) {
        write_lowercase(sink, name);
        sink.put(b":");
        let mut first = true;
        for (_, value) in headers
            .iter()
            .filter(|(candidate, _)| eq_ignore_case(candidate.as_bytes(), name))
        {
            if !first {
                sink.put(b",");
            }
            first = false;
            write_collapsed(sink, value);
        }
        sink.put(b"\n");
    }
}

fn write_lowercase(sink: &mut impl Sink, name: &[u8]) {
    if has_uppercase(name) {
        sink.put(&name.to_ascii_lowercase());
    } else {
        sink.put(name);
    }
}

fn is_header_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// Writes a header value trimmed, with every inner run of whitespace (also
/// inside quotes, also obs-fold line breaks) collapsed to one space.
fn write_collapsed(sink: &mut impl Sink, value: &[u8]) {
    // Most values hold no whitespace at all: they are their own collapsed
    // form. Every whitespace byte is below b'!', which is checked a word at
    // a time.
    if !has_byte_below(value, b'!') {
        sink.put(value);
        return;
    }
    let mut words = value
        .split(|&b| is_header_whitespace(b))
        .filter(|word| !word.is_empty());
    if let Some(word) = words.next() {
        sink.put(word);
    }
    for word in words {
        sink.put(b" ");
        sink.put(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str) -> String {
        let mut out = Vec::new();
        write_canonical_uri(&mut out, path, true);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn canonical_uri_normalizes_and_double_encodes_the_wire_path() {
        for (raw, canonical) in [
            ("/", "/"),
            ("", "/"),
            ("//example//", "/example/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/a/b/../c/", "/a/c/"),
            ("/example space/", "/example%20space/"),
            ("/ሴ", "/%E1%88%B4"),
            ("/example/$delete", "/example/%24delete"),
            ("/prod/a%20b", "/prod/a%2520b"),
            ("/prod/pets", "/prod/pets"),
            ("relative/x", "/relative/x"),
        ] {
            assert_eq!(uri(raw), canonical, "{raw:?}");
        }
    }

    /// Found by the differential test: `aws-sigv4` (and RFC 3986 §5.2.4)
    /// keep the slash left by a final dot segment.
    #[test]
    fn a_final_dot_segment_leaves_a_trailing_slash() {
        for (raw, canonical) in [
            ("/a/b/..", "/a/"),
            ("/a/.", "/a/"),
            ("/a/b/../", "/a/"),
            ("/a/./b/.", "/a/b/"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/.", "/"),
            ("/a/..b", "/a/..b"),
            ("/a/b.", "/a/b."),
        ] {
            assert_eq!(uri(raw), canonical, "{raw:?}");
        }
    }

    #[test]
    fn the_quick_normalization_check_agrees_with_the_segment_split() {
        fn by_segments(path: &str) -> bool {
            let Some(rest) = path.strip_prefix('/') else {
                return true;
            };
            let segments: Vec<&str> = rest.split('/').collect();
            segments.iter().enumerate().any(|(index, segment)| {
                *segment == "."
                    || *segment == ".."
                    || (segment.is_empty() && index + 1 < segments.len())
            })
        }
        for path in [
            "",
            "/",
            "//",
            "/a",
            "/a/",
            "/a//b",
            "/.",
            "/..",
            "/a/.",
            "/a/..",
            "/a/.b",
            "/a/b.",
            "/a/..b/",
            "/./a",
            "/../a",
            "/.hidden/x",
            "a/b",
            "/a/b/c",
            "/a%2F/./b",
            "/a/./",
        ] {
            assert_eq!(needs_normalization(path), by_segments(path), "{path:?}");
        }
    }

    #[test]
    fn s3_mode_leaves_dots_slashes_and_escapes_alone() {
        let mut out = Vec::new();
        write_canonical_uri(&mut out, "//a/./b/../%20c d", false);
        assert_eq!(String::from_utf8(out).unwrap(), "//a/./b/../%20c%20d");
    }

    #[test]
    fn canonical_query_decodes_reencodes_and_sorts_by_bytes() {
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1", &[]),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            canonical_query("Param1=value2&Param1=Value1", &[]),
            "Param1=Value1&Param1=value2"
        );
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", &[]),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(
            canonical_query("a=b+c&flag&&x=%2f", &[]),
            "a=b%2Bc&flag=&x=%2F"
        );
        assert_eq!(
            canonical_query("a=1&X-Amz-Signature=abc", &["X-Amz-Signature"]),
            "a=1"
        );
    }

    #[test]
    fn written_canonical_query_is_the_built_one() {
        let many = (0..20)
            .map(|i| format!("p{}={i}", 20 - i))
            .collect::<Vec<_>>();
        let many = many.join("&");
        for (raw, skip) in [
            ("", &[][..]),
            ("Param2=value2&Param1=value1", &[]),
            ("Param1=value2&Param1=Value1", &[]),
            ("b=2&a=1&a&&c=", &[]),
            ("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", &[]),
            ("a=b+c&flag&&x=%2f", &[]),
            ("a=1&X-Amz-Signature=abc", &["X-Amz-Signature"]),
            (many.as_str(), &[]),
            ("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8", &[]),
            ("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&X=9", &["X"]),
        ] {
            let mut written = Vec::new();
            write_canonical_query(&mut written, raw, skip);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                canonical_query(raw, skip),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn canonical_headers_trim_collapse_and_join_repeats_in_order() {
        let headers: &[(&str, &[u8])] = &[
            ("Host", b"example.amazonaws.com"),
            ("My-Header1", b"value2"),
            ("my-header1", b"  \"a   b   c\"  "),
            ("My-Header1", b"value1\n  value2\n     value3"),
        ];
        let mut out = Vec::new();
        write_canonical_headers(&mut out, "host;my-header1;missing", headers);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "host:example.amazonaws.com\nmy-header1:value2,\"a b c\",value1 value2 value3\nmissing:\n"
        );
    }
}
