//! The one form of an execute-api request path that everything after
//! target resolution uses: the custom-domain base path, the stage, the
//! router, the ARN the request is authorized against, and the path the
//! integration receives.
//!
//! Why one form: if the router read `/prod//secret/` as `GET /secret` while
//! the ARN kept the raw text, a policy that denies `…/prod/GET/secret`
//! would not match a request that runs exactly that method. So the raw
//! path is normalized once, the way RFC 3986 §6.2.2 makes equivalent URIs
//! equal, and nothing later sees the raw text (the signature alone is
//! checked against the request as sent):
//!
//! - percent-encoded unreserved characters are decoded (`%73` → `s`,
//!   `%2E` → `.`), and the hex digits of every other escape upper-cased,
//!   so an escape cannot hide a literal segment or a dot segment; other
//!   escapes (`%2F` among them) stay encoded, one segment each;
//! - empty segments are dropped (`//` is `/`), as the router always did;
//! - dot segments are resolved (`/a/../b` is `/b`), never above the root,
//!   so no backend behind an HTTP proxy sees a path that escapes its base.
//!
//! A trailing slash is kept in the path handed to integrations (Lambda
//! events show it), but takes no part in routing or in the ARN: API
//! Gateway routes `/hello/` to `/hello`, and the `methodArn` it gives
//! authorizers carries no trailing slash.

use std::borrow::Cow;

/// `raw` (the request path, without its query) in its normal form: it
/// starts with `/`, has no empty or dot segment, and ends with `/` only
/// where `raw` ended with one (or with a dot segment) and is not the root.
pub fn normalize(raw: &str) -> Cow<'_, str> {
    if is_normal(raw) {
        return Cow::Borrowed(raw);
    }
    let decoded = normalize_escapes(raw);
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded.split('/') {
        trailing_slash = true;
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            _ => {
                kept.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut path = String::with_capacity(decoded.len() + 1);
    for segment in &kept {
        path.push('/');
        path.push_str(segment);
    }
    if trailing_slash || kept.is_empty() {
        path.push('/');
    }
    Cow::Owned(path)
}

/// The path's segments as routing and the ARN take them: a trailing (or
/// any other empty) segment takes no part.
pub fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// True when `normalize` would return `raw` unchanged: it starts with `/`,
/// has no escape, no `//`, and no segment starting with a dot (which also
/// passes over names like `/.well-known`; they take the slow path and come
/// out the same).
fn is_normal(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.first() == Some(&b'/')
        && !bytes.contains(&b'%')
        && !bytes.windows(2).any(|pair| pair == b"//" || pair == b"/.")
}

/// Decodes escapes of unreserved characters and upper-cases the hex digits
/// of the others; a `%` not followed by two hex digits stays as it is.
fn normalize_escapes(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| {
                Some((
                    hex_value(*bytes.get(index + 1)?)?,
                    hex_value(*bytes.get(index + 2)?)?,
                ))
            })
            .flatten();
        match escaped {
            Some((high, low)) => {
                let value = high * 16 + low;
                if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                    out.push(char::from(value));
                } else {
                    out.push_str(&format!("%{value:02X}"));
                }
                index += 3;
            }
            None => {
                // `raw` is a `str`, so a non-ASCII byte starts a whole
                // character: copy it as one.
                let end = (index + 1..=bytes.len())
                    .find(|&end| raw.is_char_boundary(end))
                    .unwrap_or(bytes.len());
                out.push_str(raw.get(index..end).unwrap_or(""));
                index = end;
            }
        }
    }
    Cow::Owned(out)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normal_path_is_borrowed_unchanged() {
        for path in ["/", "/prod", "/prod/pets/42", "/prod/pets/", "/a-b_c~d"] {
            assert!(
                matches!(normalize(path), Cow::Borrowed(p) if p == path),
                "{path}"
            );
        }
    }

    #[test]
    fn empty_segments_are_dropped_and_a_trailing_slash_kept() {
        assert_eq!(normalize("/prod//secret"), "/prod/secret");
        assert_eq!(normalize("//prod///secret//"), "/prod/secret/");
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("//"), "/");
    }

    #[test]
    fn dot_segments_are_resolved_never_above_the_root() {
        assert_eq!(normalize("/prod/g/a/../../admin"), "/prod/admin");
        assert_eq!(normalize("/prod/./secret"), "/prod/secret");
        assert_eq!(normalize("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(normalize("/prod/secret/."), "/prod/secret/");
        assert_eq!(normalize("/prod/secret/.."), "/prod/");
        assert_eq!(normalize("/prod/..."), "/prod/...");
        assert_eq!(normalize("/prod/.well-known"), "/prod/.well-known");
    }

    #[test]
    fn escapes_of_unreserved_characters_are_decoded_and_others_upper_cased() {
        assert_eq!(normalize("/prod/%73ecret"), "/prod/secret");
        assert_eq!(normalize("/prod/%2e%2E/x"), "/x");
        assert_eq!(normalize("/prod/a%2fb"), "/prod/a%2Fb");
        assert_eq!(normalize("/prod/a%20b"), "/prod/a%20b");
        assert_eq!(normalize("/prod/100%"), "/prod/100%");
        assert_eq!(normalize("/prod/%zz"), "/prod/%zz");
        assert_eq!(normalize("/prod/caf\u{e9}%41"), "/prod/caf\u{e9}A");
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for raw in ["/a//b/../c/", "/%2e%2E/%41", "/x/%2f/./y", "/.."] {
            let once = normalize(raw).into_owned();
            assert_eq!(normalize(&once), once, "{raw}");
        }
    }
}
