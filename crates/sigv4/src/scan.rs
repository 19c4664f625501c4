//! Byte scans for the verification hot path.
//!
//! The standard library's searchers are built for long texts: a call to find
//! one byte in a header of a hundred bytes spends more on setting up than on
//! searching, and `eq_ignore_ascii_case` lowers and tests byte by byte. The
//! versions here do the same job in fewer instructions for the short texts
//! a request is made of; the tests check that they agree with the standard
//! ones.

/// Eight copies of `byte`, one per byte of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// Position of the first `needle` in `haystack`, eight bytes at a time.
///
/// A word `w` XOR eight copies of the needle has a zero byte exactly where
/// the needle is; `(x - 0x01…01) & !x & 0x80…80` flags zero bytes (the
/// classic "has zero byte" test). The subtraction's borrow can also flag a
/// byte *after* a zero byte, never one before, so the lowest flag is exact.
pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    let mut chunks = haystack.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ splat(needle);
        let flags = x.wrapping_sub(splat(0x01)) & !x & splat(0x80);
        if flags != 0 {
            // Little-endian: the lowest set bit belongs to the first byte.
            return Some(offset + (flags.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|index| offset + index)
}

/// `text.split(separator)` for an ASCII separator, with [`find_byte`].
pub(crate) fn split_byte(text: &str, separator: u8) -> SplitByte<'_> {
    SplitByte {
        rest: Some(text),
        separator,
    }
}

pub(crate) struct SplitByte<'a> {
    rest: Option<&'a str>,
    separator: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        // An ASCII separator is always a character boundary, so `get` cannot
        // fail; if it did, ending the iteration is the safe answer.
        match find_byte(rest.as_bytes(), self.separator) {
            Some(index) => {
                self.rest = rest.get(index + 1..);
                rest.get(..index)
            }
            None => self.rest.take(),
        }
    }
}

/// `text.split_once(separator)` for an ASCII separator, with [`find_byte`].
pub(crate) fn split_once_byte(text: &str, separator: u8) -> Option<(&str, &str)> {
    let index = find_byte(text.as_bytes(), separator)?;
    Some((text.get(..index)?, text.get(index + 1..)?))
}

/// `a.eq_ignore_ascii_case(b)` without an early exit: the fold compiles to
/// a vectorized compare. Header names are compared this way several times
/// per request.
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).fold(0, |difference, (x, y)| {
            difference | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
        }) == 0
}

/// Whether any byte is an ASCII upper-case letter (no early exit, as above).
pub(crate) fn has_uppercase(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |any, b| any | b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_insensitive_comparison_is_the_standard_one() {
        let names: [&[u8]; 9] = [
            b"",
            b"host",
            b"Host",
            b"HOST",
            b"hosT ",
            b"x-amz-date",
            b"X-Amz-Date",
            b"x-amz-datE",
            b"x_amz-date",
        ];
        for a in names {
            assert_eq!(has_uppercase(a), a.iter().any(u8::is_ascii_uppercase));
            for b in names {
                assert_eq!(
                    eq_ignore_case(a, b),
                    a.eq_ignore_ascii_case(b),
                    "{a:?} {b:?}"
                );
            }
        }
        assert!(!eq_ignore_case(b"@", b"`") && !eq_ignore_case(b"[", b"{"));
    }

    #[test]
    fn finds_bytes_next_to_high_and_zero_bytes() {
        // Bytes around the needle that could upset the zero-byte test.
        for filler in [0x00, 0x01, 0x2b, 0x2d, 0x7f, 0x80, 0xac, 0xff] {
            for len in 0..40 {
                for at in 0..len {
                    let mut text = vec![filler; len];
                    text[at] = b',';
                    let expected = text.iter().position(|&b| b == b',');
                    assert_eq!(find_byte(&text, b','), expected, "{filler} {len} {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn byte_splits_are_the_standard_splits(
            text in "[a-c,=& \u{80}-\u{10ff}]{0,40}",
            separator in prop::sample::select(vec![b',', b'=', b'&', b'a']),
        ) {
            let char = char::from(separator);
            prop_assert_eq!(
                split_byte(&text, separator).collect::<Vec<_>>(),
                text.split(char).collect::<Vec<_>>()
            );
            prop_assert_eq!(split_once_byte(&text, separator), text.split_once(char));
            prop_assert_eq!(
                find_byte(text.as_bytes(), separator),
                text.as_bytes().iter().position(|&b| b == separator)
            );
        }
    }
}
