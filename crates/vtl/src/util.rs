//! `$util`'s functions and the Java string semantics templates rely on,
//! written down from what the Java library calls they stand for do.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// `$util.escapeJavaScript`: Apache Commons' JavaScript string escaping.
/// `'` `"` `\` `/` get a backslash; `\b \t \n \f \r` their short forms;
/// other control characters and everything above U+007F become `\uXXXX`
/// (upper-case hex, UTF-16 units, so a character beyond the BMP is two).
pub(crate) fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `$util.urlEncode`: Java's `URLEncoder.encode(s, "UTF-8")`, which keeps
/// `A-Z a-z 0-9 . - * _`, writes a space as `+`, and `%XX` for the rest.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `$util.urlDecode`: Java's `URLDecoder.decode(s, "UTF-8")`: `+` is a
/// space, `%XX` a byte; a broken escape is an error, as Java throws.
pub(crate) fn url_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!("URLDecoder: illegal hex characters in escape (%) pattern at {i}")
                    })?;
                out.push(hex);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `$util.base64Encode`: standard alphabet, padded, of the UTF-8 bytes.
pub(crate) fn base64_encode(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

/// `$util.base64Decode`: standard alphabet; the bytes read as UTF-8.
pub(crate) fn base64_decode(s: &str) -> Result<String, String> {
    STANDARD
        .decode(s.trim().as_bytes())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("base64Decode: {e}"))
}

/// Compiles a Java regular expression as far as the `regex` crate shares
/// its syntax (no back-references or look-around), with a size cap.
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

/// A Java `replaceAll` replacement turned into the `regex` crate's: `$n`
/// stays a group reference, `\x` is a literal `x`, a literal `$` doubles.
pub(crate) fn java_replacement(replacement: &str) -> String {
    let mut out = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Java's `String.split(regex)`: trailing empty strings are dropped, a
/// zero-width match at the start yields no leading empty string, and no
/// match at all yields the whole string.
pub(crate) fn java_split(re: &regex::Regex, s: &str) -> Vec<String> {
    if !re.is_match(s) {
        return vec![s.to_owned()];
    }
    let mut parts: Vec<String> = re.split(s).map(str::to_owned).collect();
    if re.find(s).is_some_and(|m| m.start() == 0 && m.end() == 0)
        && parts.first().is_some_and(String::is_empty)
    {
        parts.remove(0);
    }
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}
