//! Percent-decoding (`%XX` → one byte): the workspace's one decoder.
//!
//! # Why one decoder, with two switches
//!
//! Four components decode escapes: SigV4 (query parameters it checks),
//! the Query form decoder (`wire`), the API Gateway control plane (path
//! segments) and the Lambda proxy event (query strings). Each had its own
//! loop, and they drifted: two of them read the two characters after `%`
//! with `u8::from_str_radix`, which takes a sign, so `%+1` decoded to the
//! byte `0x01` there and stayed literal elsewhere. The gateway authorizes
//! on decoded values; two readers disagreeing about what a request says is
//! how a check is bypassed. So there is one loop, and the two real
//! differences between the callers are explicit arguments:
//!
//! * what `+` means ([`Plus`]): a space in form encoding, itself in RFC
//!   3986 (paths, SigV4 query strings);
//! * what a `%` not followed by two hex digits means: an error for callers
//!   that refuse a malformed request ([`decode`]), a literal `%` for those
//!   that must read whatever came ([`decode_lenient`]: SigV4, which then
//!   fails the signature, and the Lambda event, which passes it on).
//!
//! A hex digit is `0-9`, `a-f` or `A-F`, nothing else.
//!
//! This crate is the home because it is the top of
//! `docs/architecture.md`'s table with no workspace dependency: every other
//! decoding crate already depends on it or may without an upward arrow.

use std::borrow::Cow;

/// What a `+` stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// `+` is itself (RFC 3986: paths, SigV4 query strings).
    Literal,
    /// `+` is a space (`application/x-www-form-urlencoded`).
    Space,
}

/// A `%` that is not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedEscape;

/// The value of one hex digit (`0-9`, `a-f`, `A-F`).
pub fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` per `plus`); a malformed escape is an
/// error. Borrows when there is nothing to decode.
pub fn decode(input: &[u8], plus: Plus) -> Result<Cow<'_, [u8]>, MalformedEscape> {
    run(input, plus, true)
}

/// Decodes `%XX` escapes (and `+` per `plus`); a `%` not followed by two
/// hex digits stays a literal `%`.
pub fn decode_lenient(input: &[u8], plus: Plus) -> Cow<'_, [u8]> {
    // Only strict decoding fails.
    run(input, plus, false).unwrap_or(Cow::Borrowed(input))
}

fn run(input: &[u8], plus: Plus, strict: bool) -> Result<Cow<'_, [u8]>, MalformedEscape> {
    let plus_is_space = plus == Plus::Space;
    let decodes_plus = plus_is_space && input.contains(&b'+');
    if !(input.contains(&b'%') || decodes_plus) {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = Vec::with_capacity(input.len());
    let mut index = 0;
    while let Some(&byte) = input.get(index) {
        match byte {
            b'%' => {
                let hi = input.get(index + 1).copied().and_then(hex_value);
                let lo = input.get(index + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        index += 3;
                        continue;
                    }
                    _ if strict => return Err(MalformedEscape),
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        index += 1;
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_a_space_only_when_asked() {
        assert_eq!(&*decode(b"a+b%20c", Plus::Space).unwrap(), b"a b c");
        assert_eq!(&*decode(b"a+b%20c", Plus::Literal).unwrap(), b"a+b c");
    }

    #[test]
    fn malformed_escapes_are_refused_or_kept_literal() {
        for bad in [&b"%"[..], b"%2", b"%zz", b"%+1", b"%-1", b"% 1", b"%1+"] {
            assert_eq!(decode(bad, Plus::Literal), Err(MalformedEscape), "{bad:?}");
        }
        assert_eq!(&*decode_lenient(b"%zz%41%2", Plus::Literal), b"%zzA%2");
    }

    #[test]
    fn a_signed_hex_pair_is_not_an_escape() {
        // `u8::from_str_radix("+1", 16)` is `Ok(1)`; an escape is two hex digits.
        assert_eq!(&*decode_lenient(b"%+1", Plus::Literal), b"%+1");
        assert_eq!(&*decode_lenient(b"%+1", Plus::Space), b"% 1");
    }

    #[test]
    fn nothing_to_decode_borrows() {
        assert!(matches!(
            decode(b"plain", Plus::Space),
            Ok(Cow::Borrowed(_))
        ));
        assert!(matches!(
            decode_lenient(b"a+b", Plus::Literal),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn every_byte_round_trips_through_its_escape() {
        for byte in 0..=u8::MAX {
            for escape in [format!("%{byte:02X}"), format!("%{byte:02x}")] {
                assert_eq!(&*decode(escape.as_bytes(), Plus::Literal).unwrap(), [byte]);
            }
        }
    }
}
