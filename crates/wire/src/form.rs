//! `application/x-www-form-urlencoded` and RFC 3986 percent-encoding.
//!
//! Decoding is strict on purpose: a stray `%` that is not followed by two hex
//! digits, or bytes that do not form UTF-8 after unescaping, are rejected
//! rather than passed through. The gateway authorises on the decoded values,
//! so two components disagreeing on what a parameter says (the signature
//! checker, which works on raw bytes, and the operation) must be impossible.
//!
//! Encoding always uses the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`)
//! and upper-case hex, which is both what AWS SDKs send and how IAM returns
//! policy documents (`%7B%22Version%22%3A…`).

use iamgate_sigv4::percent::{self, Plus};

use crate::error::AwsError;

/// Decodes a form body or query string into `(name, value)` pairs, in order.
///
/// `+` is a space, `%XX` an escaped byte; empty segments (`a=1&&b=2`) are
/// skipped and a segment without `=` is a parameter with an empty value.
pub fn decode_form(input: &[u8]) -> Result<Vec<(String, String)>, AwsError> {
    pairs(input).collect()
}

/// The pairs of [`decode_form`], decoded one at a time: a caller that keeps
/// only some of them never holds the whole list.
pub fn pairs(input: &[u8]) -> impl Iterator<Item = Result<(String, String), AwsError>> + '_ {
    segments(input).map(|segment| {
        let (name, value) = match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (
                segment.get(..eq).unwrap_or_default(),
                segment.get(eq + 1..).unwrap_or_default(),
            ),
            None => (segment, &[][..]),
        };
        Ok((decode_component(name)?, decode_component(value)?))
    })
}

/// How many parameters [`decode_form`] would return, counted without
/// decoding or allocating anything.
pub fn count_pairs(input: &[u8]) -> usize {
    segments(input).count()
}

fn segments(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .split(|&b| b == b'&')
        .filter(|segment| !segment.is_empty())
}

/// Unescapes one form component (`+` → space, `%XX` → byte) into UTF-8
/// text, with the workspace's one decoder (`iamgate_sigv4::percent`).
pub fn decode_component(raw: &[u8]) -> Result<String, AwsError> {
    let bytes = percent::decode(raw, Plus::Space).map_err(|_| {
        AwsError::invalid_query_parameter("The request contains an invalid percent-encoding.")
    })?;
    String::from_utf8(bytes.into_owned()).map_err(|_| {
        AwsError::invalid_query_parameter(
            "The request contains a parameter that is not valid UTF-8.",
        )
    })
}

/// Percent-encodes everything outside the RFC 3986 unreserved set, with
/// upper-case hex; a space becomes `%20`.
pub fn rfc3986_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit_upper(b >> 4));
            out.push(hex_digit_upper(b & 0x0f));
        }
    }
    out
}

fn hex_digit_upper(nibble: u8) -> char {
    if nibble < 10 {
        char::from(b'0' + nibble)
    } else {
        char::from(b'A' + (nibble - 10))
    }
}

/// Encodes `(name, value)` pairs as a form body, in the given order.
pub fn encode_form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&rfc3986_encode(name));
        out.push('=');
        out.push_str(&rfc3986_encode(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_space_and_escapes_decode() {
        let pairs =
            decode_form(b"RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&Name=a+b%2Bc")
                .unwrap();
        assert_eq!(
            pairs,
            vec![
                (
                    "RoleArn".to_owned(),
                    "arn:aws:iam::123456789012:role/demo".to_owned()
                ),
                ("Name".to_owned(), "a b+c".to_owned()),
            ]
        );
    }

    #[test]
    fn empty_segments_and_bare_names() {
        let pairs = decode_form(b"&a=1&&flag&b=").unwrap();
        let names: Vec<_> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(names, vec![("a", "1"), ("flag", ""), ("b", "")]);
    }

    #[test]
    fn counting_pairs_agrees_with_decoding_them() {
        for input in [&b""[..], b"&", b"a", b"&a=1&&flag&b=", b"a=%zz&b", b"==&&="] {
            assert_eq!(
                count_pairs(input),
                pairs(input).count(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn multibyte_utf8_escapes_decode() {
        assert_eq!(decode_component(b"%C3%A9t%C3%A9").unwrap(), "été");
    }

    #[test]
    fn broken_escapes_and_invalid_utf8_are_rejected() {
        for bad in [
            &b"a=%"[..],
            b"a=%4",
            b"a=%zz",
            b"a=%FF",
            b"%C3=1",
            b"a=\xff",
        ] {
            let err = decode_form(bad).unwrap_err();
            assert_eq!(
                (err.code.as_ref(), err.status),
                ("InvalidQueryParameter", 400),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rfc3986_keeps_only_unreserved() {
        assert_eq!(
            rfc3986_encode("{\"Version\":\"2012-10-17\"} a~b*"),
            "%7B%22Version%22%3A%222012-10-17%22%7D%20a~b%2A"
        );
        assert_eq!(rfc3986_encode("é"), "%C3%A9");
    }

    #[test]
    fn encode_then_decode_is_identity() {
        let body = encode_form([("Tags.member.1.Key", "a b&c=d"), ("X", "+%")]);
        assert_eq!(body, "Tags.member.1.Key=a%20b%26c%3Dd&X=%2B%25");
        let back = decode_form(body.as_bytes()).unwrap();
        assert_eq!(back[0].1, "a b&c=d");
        assert_eq!(back[1].1, "+%");
    }
}
