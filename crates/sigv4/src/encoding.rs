//! Percent-encoding as SigV4 defines it.
//!
//! SigV4 has its own notion of "URI encoding": every byte outside the RFC 3986
//! unreserved set (`A-Z a-z 0-9 - _ . ~`) becomes `%XX` with upper-case hex.
//! This is stricter than `application/x-www-form-urlencoded` (space is `%20`,
//! never `+`) and than what most URL libraries emit, so it is written out here.

use std::borrow::Cow;

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `UNRESERVED[b]`: whether byte `b` is unreserved. A table look-up is one
/// load where the comparisons are a chain of branches, and every byte of the
/// path and query goes through this.
// Indexing runs in const evaluation only: out of bounds is a compile error,
// never a panic.
#[allow(clippy::indexing_slicing)]
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0u8;
    loop {
        table[byte as usize] =
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if byte == u8::MAX {
            break table;
        }
        byte += 1;
    }
};

pub(crate) fn is_unreserved(byte: u8) -> bool {
    // Never `None`: a `u8` indexes the 256 entries.
    UNRESERVED.get(usize::from(byte)).copied().unwrap_or(false)
}

/// Something canonical text can be written to: a hasher on the hot path, a
/// `String` when the text itself is needed (error messages, tests).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for sha2::Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        sha2::Digest::update(self, bytes);
    }
}

/// Writes `bytes` with every byte outside the unreserved set encoded, except
/// the bytes `keep` accepts, which pass through as they are.
pub(crate) fn encode_into(sink: &mut impl Sink, bytes: &[u8], keep: impl Fn(u8) -> bool) {
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if is_unreserved(byte) || keep(byte) {
            continue;
        }
        if let Some(run) = bytes.get(start..index) {
            sink.put(run);
        }
        let hi = UPPER_HEX
            .get(usize::from(byte >> 4))
            .copied()
            .unwrap_or(b'0');
        let lo = UPPER_HEX
            .get(usize::from(byte & 0x0F))
            .copied()
            .unwrap_or(b'0');
        sink.put(&[b'%', hi, lo]);
        start = index + 1;
    }
    if let Some(rest) = bytes.get(start..) {
        sink.put(rest);
    }
}

/// `encode_into` for the common case of a string result.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    encode_into(&mut out, bytes, |_| false);
    // Only ASCII was written.
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes `%XX` sequences. A `%` that does not start a valid escape stays a
/// literal `%`; `+` stays `+` (query strings in SigV4 are not form-encoded).
pub(crate) fn percent_decode(input: &str) -> Cow<'_, [u8]> {
    crate::percent::decode_lenient(input.as_bytes(), crate::percent::Plus::Literal)
}

/// Percent-decodes a parameter that must be text (credential, date, token).
pub(crate) fn percent_decode_str(input: &str) -> Cow<'_, str> {
    match percent_decode(input) {
        Cow::Borrowed(_) => Cow::Borrowed(input),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_is_rfc_3986s_set() {
        for byte in 0..=u8::MAX {
            let expected = byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte);
            assert_eq!(is_unreserved(byte), expected, "{byte}");
        }
    }

    #[test]
    fn reserved_bytes_are_encoded_with_upper_case_hex() {
        assert_eq!(encode(b"a b/c;d~e"), "a%20b%2Fc%3Bd~e");
        assert_eq!(encode("ሴ".as_bytes()), "%E1%88%B4");
    }

    #[test]
    fn percent_decoding_keeps_plus_and_broken_escapes_literal() {
        assert_eq!(&*percent_decode("a+b%20c%2"), b"a+b c%2");
        assert_eq!(&*percent_decode("%zz%41"), b"%zzA");
    }
}
