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
        let x = word(chunk) ^ splat(needle);
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

/// Calls `found` with the position of each `needle` in `haystack`, in
/// order, until it returns `false`; one pass, eight bytes at a time.
///
/// Here every zero byte of `x` (a byte equal to the needle) must be flagged
/// exactly, so the test is carry-free: `(x & 0x7f…7f) + 0x7f…7f` sets a
/// byte's top bit when its low seven bits are non-zero, without carrying
/// out of the byte; OR-ing `x` adds bytes whose own top bit is set.
pub(crate) fn for_each_byte(haystack: &[u8], needle: u8, mut found: impl FnMut(usize) -> bool) {
    let mut chunks = haystack.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let x = word(chunk) ^ splat(needle);
        let nonzero = ((x & splat(0x7f)) + splat(0x7f)) | x;
        let mut flags = !nonzero & splat(0x80);
        while flags != 0 {
            if !found(offset + (flags.trailing_zeros() / 8) as usize) {
                return;
            }
            // Clear the lowest flag.
            flags &= flags - 1;
        }
        offset += 8;
    }
    for (index, &byte) in chunks.remainder().iter().enumerate() {
        if byte == needle && !found(offset + index) {
            return;
        }
    }
}

/// Whether any byte of `bytes` is below `limit` (at most 128), eight bytes
/// at a time: `(x - limit…limit) & !x & 0x80…80` is non-zero exactly when
/// some byte of `x` is below `limit` (a byte at 128 or above never flags, a
/// byte below `limit` always does, and a borrow only ever follows one).
pub(crate) fn has_byte_below(bytes: &[u8], limit: u8) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    let mut flags = 0;
    for chunk in &mut chunks {
        let x = word(chunk);
        flags |= x.wrapping_sub(splat(limit)) & !x & splat(0x80);
    }
    flags != 0 || chunks.remainder().iter().any(|&b| b < limit)
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

/// The high bit of each byte of `x` that is an ASCII upper-case letter.
///
/// Per byte, on its low seven bits `h`: `h + (0x80 - b'A')` reaches the
/// high bit when `h >= b'A'`, `h + (0x80 - b'Z' - 1)` when `h > b'Z'`;
/// neither sum carries into the next byte (at most 0x7f + 0x3f). A letter
/// is the first without the second, in a byte whose own high bit is clear.
fn uppercase_flags(x: u64) -> u64 {
    let low7 = x & splat(0x7f);
    let from_a = low7 + splat(0x80 - b'A');
    let past_z = low7 + splat(0x80 - b'Z' - 1);
    from_a & !past_z & !x & splat(0x80)
}

/// An eight-byte word with its ASCII upper-case letters lowered: the flag
/// bit 0x80 shifted down is 0x20, the case bit.
fn lowercase_word(x: u64) -> u64 {
    x | (uppercase_flags(x) >> 2)
}

fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    u64::from_le_bytes(bytes)
}

/// `a.eq_ignore_ascii_case(b)`, eight bytes at a time. Header names are
/// compared this way several times per request.
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    a_words
        .by_ref()
        .zip(b_words.by_ref())
        .all(|(x, y)| lowercase_word(word(x)) == lowercase_word(word(y)))
        && a_words
            .remainder()
            .eq_ignore_ascii_case(b_words.remainder())
}

/// Whether any byte is an ASCII upper-case letter, eight bytes at a time.
pub(crate) fn has_uppercase(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    words
        .by_ref()
        .any(|chunk| uppercase_flags(word(chunk)) != 0)
        || words.remainder().iter().any(u8::is_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_byte_pair_compares_and_lowers_as_the_standard_does() {
        for x in 0..=u8::MAX {
            let mut text = [b'a'; 19];
            text[3] = x;
            text[11] = x;
            text[17] = x;
            assert_eq!(has_uppercase(&text), x.is_ascii_uppercase(), "{x}");
            for y in 0..=u8::MAX {
                let mut other = [b'A'; 19];
                other[3] = y;
                other[11] = y;
                other[17] = y;
                assert_eq!(
                    eq_ignore_case(&text, &other),
                    text.eq_ignore_ascii_case(&other),
                    "{x} {y}"
                );
            }
        }
    }

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
                    let mut first = None;
                    for_each_byte(&text, b',', |index| {
                        first = Some(index);
                        false
                    });
                    assert_eq!(first, expected, "{filler} {len} {at}");
                }
            }
        }
    }

    #[test]
    fn finds_bytes_below_a_limit_among_any_others() {
        for limit in [1, b'!', 0x80] {
            for filler in [0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff] {
                for len in 0..24 {
                    for at in 0..=len {
                        let mut bytes = vec![filler; len];
                        if let Some(byte) = bytes.get_mut(at) {
                            *byte = limit - 1;
                        }
                        let expected = bytes.iter().any(|&b| b < limit);
                        assert_eq!(
                            has_byte_below(&bytes, limit),
                            expected,
                            "{limit} {filler} {len} {at}"
                        );
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn byte_splits_are_the_standard_splits(
            text in "[a-c,=& \t\n\u{80}-\u{10ff}]{0,40}",
            separator in prop::sample::select(vec![b',', b'=', b'&', b'a']),
        ) {
            let char = char::from(separator);
            prop_assert_eq!(
                split_byte(&text, separator).collect::<Vec<_>>(),
                text.split(char).collect::<Vec<_>>()
            );
            prop_assert_eq!(split_once_byte(&text, separator), text.split_once(char));
            prop_assert_eq!(
                has_byte_below(text.as_bytes(), b'!'),
                text.bytes().any(|b| b < b'!')
            );
            let mut all = Vec::new();
            for_each_byte(text.as_bytes(), separator, |index| {
                all.push(index);
                true
            });
            let expected: Vec<usize> = text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == separator)
                .map(|(index, _)| index)
                .collect();
            prop_assert_eq!(all, expected);
            prop_assert_eq!(
                find_byte(text.as_bytes(), separator),
                text.as_bytes().iter().position(|&b| b == separator)
            );
        }
    }
}
