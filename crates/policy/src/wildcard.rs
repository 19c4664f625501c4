//! Glob matching with `*` (any run of characters) and `?` (exactly one).
//!
//! Why a pattern made of pieces: a policy variable's value is substituted
//! into a pattern at evaluation time and must stay literal (a `*` inside a
//! user name is not a wildcard, and `${*}` is the way to write a literal `*`).
//! Matching over a slice of borrowed pieces, some wild and some literal, does
//! that without building a new string per request. The algorithm is the
//! classic linear-backtracking glob (remember the last `*`, retry one
//! character further on mismatch), which is exact for `*`/`?` globs and never
//! allocates.

/// Whether letters must match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// A run of pattern text. In a `wild` piece `*` and `?` are wildcards; in a
/// literal piece every character matches itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub wild: bool,
}

impl<'a> Piece<'a> {
    pub fn wild(text: &'a str) -> Self {
        Piece { text, wild: true }
    }

    pub fn literal(text: &'a str) -> Self {
        Piece { text, wild: false }
    }
}

/// Matches one glob pattern against `subject`.
pub fn matches(pattern: &str, subject: &str, case: Case) -> bool {
    if pattern == "*" {
        return true;
    }
    matches_pieces(&[Piece::wild(pattern)], subject, case)
}

/// True when `pattern` contains a wildcard character.
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Compares the concatenation of `pieces` with `subject`, no wildcards.
pub fn equals_pieces(pieces: &[Piece<'_>], subject: &str, case: Case) -> bool {
    let mut rest = subject;
    for piece in pieces {
        let Some(head) = rest.get(..piece.text.len()) else {
            // Lengths may differ under case folding of non-ASCII; fall back.
            return equals_slow(pieces, subject, case);
        };
        if !chars_equal_str(head, piece.text, case) {
            return if case == Case::Insensitive && !piece.text.is_ascii() {
                equals_slow(pieces, subject, case)
            } else {
                false
            };
        }
        rest = rest.get(piece.text.len()..).unwrap_or_default();
    }
    rest.is_empty()
}

fn equals_slow(pieces: &[Piece<'_>], subject: &str, case: Case) -> bool {
    let mut subject_chars = subject.chars();
    for c in pieces.iter().flat_map(|p| p.text.chars()) {
        match subject_chars.next() {
            Some(s) if char_eq(c, s, case) => {}
            _ => return false,
        }
    }
    subject_chars.next().is_none()
}

fn chars_equal_str(a: &str, b: &str, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        Case::Insensitive => {
            a.len() == b.len() && a.chars().zip(b.chars()).all(|(x, y)| char_eq(x, y, case))
        }
    }
}

/// Character equality; case-insensitive compares simple lowercase forms.
pub fn char_eq(a: char, b: char, case: Case) -> bool {
    if a == b {
        return true;
    }
    match case {
        Case::Sensitive => false,
        Case::Insensitive => {
            if a.is_ascii() && b.is_ascii() {
                a.eq_ignore_ascii_case(&b)
            } else {
                a.to_lowercase().eq(b.to_lowercase())
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Token {
    Star,
    AnyOne,
    Char(char),
}

/// A position in a piece list: piece index and byte offset inside it.
#[derive(Clone, Copy)]
struct Cursor {
    piece: usize,
    offset: usize,
}

fn next_token(pieces: &[Piece<'_>], mut at: Cursor) -> Option<(Token, Cursor)> {
    loop {
        let piece = pieces.get(at.piece)?;
        match piece
            .text
            .get(at.offset..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => {
                let next = Cursor {
                    piece: at.piece,
                    offset: at.offset + c.len_utf8(),
                };
                let token = match c {
                    '*' if piece.wild => Token::Star,
                    '?' if piece.wild => Token::AnyOne,
                    other => Token::Char(other),
                };
                return Some((token, next));
            }
            None => {
                at = Cursor {
                    piece: at.piece + 1,
                    offset: 0,
                };
            }
        }
    }
}

/// Glob-matches the concatenation of `pieces` against `subject`.
pub fn matches_pieces(pieces: &[Piece<'_>], subject: &str, case: Case) -> bool {
    // The common case — one policy string, ASCII on both sides — runs on
    // bytes, several times faster than the general character walk.
    if let [piece] = pieces
        && piece.wild
        && piece.text.is_ascii()
        && subject.is_ascii()
    {
        return glob_bytes(piece.text.as_bytes(), subject.as_bytes(), case);
    }
    matches_chars(pieces, subject, case)
}

fn byte_eq(a: u8, b: u8, case: Case) -> bool {
    a == b || (case == Case::Insensitive && a.eq_ignore_ascii_case(&b))
}

/// The same algorithm as [`matches_chars`] over ASCII bytes.
fn glob_bytes(pattern: &[u8], subject: &[u8], case: Case) -> bool {
    if pattern == b"*" {
        return true;
    }
    if !pattern.contains(&b'*') && !pattern.contains(&b'?') {
        return pattern.len() == subject.len()
            && match case {
                Case::Sensitive => pattern == subject,
                Case::Insensitive => pattern.eq_ignore_ascii_case(subject),
            };
    }
    let (mut p, mut s) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    loop {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                resume = Some((p, s));
                continue;
            }
            Some(&c) => {
                if let Some(&t) = subject.get(s)
                    && (c == b'?' || byte_eq(c, t, case))
                {
                    p += 1;
                    s += 1;
                    continue;
                }
            }
            None if s == subject.len() => return true,
            None => {}
        }
        let Some((after_star, swallowed)) = resume else {
            return false;
        };
        if swallowed >= subject.len() {
            return false;
        }
        resume = Some((after_star, swallowed + 1));
        p = after_star;
        s = swallowed + 1;
    }
}

/// General glob over characters and mixed wild/literal pieces.
fn matches_chars(pieces: &[Piece<'_>], subject: &str, case: Case) -> bool {
    let mut at = Cursor {
        piece: 0,
        offset: 0,
    };
    let mut pos = 0usize;
    // Where to resume after the most recent `*`: pattern after it, and the
    // subject position it currently swallows up to.
    let mut resume: Option<(Cursor, usize)> = None;
    loop {
        let current = subject.get(pos..).and_then(|rest| rest.chars().next());
        let advanced = match next_token(pieces, at) {
            Some((Token::Star, next)) => {
                resume = Some((next, pos));
                at = next;
                continue;
            }
            Some((Token::AnyOne, next)) => current.map(|c| (next, c)),
            Some((Token::Char(p), next)) => {
                current.filter(|&c| char_eq(p, c, case)).map(|c| (next, c))
            }
            None if current.is_none() => return true,
            None => None,
        };
        if let Some((next, c)) = advanced {
            at = next;
            pos += c.len_utf8();
            continue;
        }
        // Mismatch: let the last `*` swallow one more character and retry.
        let Some((after_star, swallowed)) = resume else {
            return false;
        };
        let Some(c) = subject
            .get(swallowed..)
            .and_then(|rest| rest.chars().next())
        else {
            return false;
        };
        let next_swallowed = swallowed + c.len_utf8();
        resume = Some((after_star, next_swallowed));
        at = after_star;
        pos = next_swallowed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark_glob() {
        let cases = [
            ("*", "", true),
            ("a*", "a", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*b*b*", "abcbd", true),
            ("*b*b*", "abcd", false),
            ("?", "é", true),
            ("é*", "éa", true),
            ("", "", true),
            ("", "a", false),
            ("a**b", "ab", true),
        ];
        for (pattern, subject, want) in cases {
            assert_eq!(
                matches(pattern, subject, Case::Sensitive),
                want,
                "{pattern} vs {subject}"
            );
        }
    }

    #[test]
    fn case_insensitive_matching_folds_letters() {
        assert!(matches("iam:list*", "IAM:ListUsers", Case::Insensitive));
        assert!(!matches("iam:list*", "IAM:ListUsers", Case::Sensitive));
    }

    #[test]
    fn literal_pieces_do_not_expand_wildcards() {
        let pieces = [Piece::wild("user/"), Piece::literal("a*")];
        assert!(matches_pieces(&pieces, "user/a*", Case::Sensitive));
        assert!(!matches_pieces(&pieces, "user/abc", Case::Sensitive));
        let pieces = [Piece::wild("*/"), Piece::literal("bob"), Piece::wild("*")];
        assert!(matches_pieces(&pieces, "x/y/bob/z", Case::Sensitive));
    }

    proptest::proptest! {
        #[test]
        fn byte_fast_path_agrees_with_the_character_walk(
            pattern in "[abA*?]{0,8}",
            subject in "[abAB]{0,10}",
            insensitive in proptest::bool::ANY,
        ) {
            let case = if insensitive { Case::Insensitive } else { Case::Sensitive };
            let fast = glob_bytes(pattern.as_bytes(), subject.as_bytes(), case);
            let slow = matches_chars(&[Piece::wild(&pattern)], &subject, case);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn equals_pieces_concatenates() {
        let pieces = [Piece::wild("ab"), Piece::literal("c*")];
        assert!(equals_pieces(&pieces, "abc*", Case::Sensitive));
        assert!(!equals_pieces(&pieces, "abcd", Case::Sensitive));
        assert!(equals_pieces(&pieces, "ABC*", Case::Insensitive));
        assert!(!equals_pieces(&pieces, "abc*x", Case::Sensitive));
    }
}
