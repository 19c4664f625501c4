//! The character rules of IAM and STS names, paths and tags (IAM and STS
//! API references), for every front door that accepts them.
//!
//! # Why here
//!
//! The IAM Query API (`control::iam_api`), STS `AssumeRole`
//! (`control::sts`) and the world file (`config`) all accept names, and
//! each carried its own character test. They drifted: STS took any Unicode
//! letter in a role session name while IAM took only ASCII, though AWS's
//! models give both the same `[\w+=,.@-]` (its `\w` is Java's, ASCII
//! only). This crate is the lowest one every reader depends on, so each
//! rule exists once, here.

/// `[\w+=,.@-]`: one character of an IAM user, group, role or policy name,
/// a role session name or a source identity. `\w` is ASCII (`[A-Za-z0-9_]`).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// `[\w+=,.@:/-]`: one character of an STS external id.
pub fn is_external_id_char(c: char) -> bool {
    is_name_char(c) || c == ':' || c == '/'
}

/// IAM's sentence for a name with a character outside `[\w+=,.@-]`
/// (`member` is the model's member name, `userName`, `roleName`, …).
pub fn invalid_name_message(member: &str) -> String {
    format!(
        "The specified value for {member} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
    )
}

/// `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`: the path of a user, group or
/// role (length is checked separately).
pub fn is_entity_path(path: &str) -> bool {
    path == "/"
        || (path.len() >= 2
            && path.starts_with('/')
            && path.ends_with('/')
            && path.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c)))
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: one character of a tag key or value.
pub fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_characters_are_ascii_word_characters_and_six_symbols() {
        for c in "azAZ09_+=,.@-".chars() {
            assert!(is_name_char(c), "{c}");
        }
        for c in "é ßЖ李١/:*#".chars() {
            assert!(!is_name_char(c), "{c}");
        }
        assert!(is_external_id_char(':') && is_external_id_char('/'));
        assert!(!is_external_id_char('é'));
    }

    #[test]
    fn entity_paths_are_slash_delimited_printable_ascii() {
        for good in ["/", "/a/", "/a/b-c/", "/!~/"] {
            assert!(is_entity_path(good), "{good}");
        }
        for bad in ["", "a/", "/a", "//x", "/a b/", "/é/"] {
            assert!(!is_entity_path(bad), "{bad}");
        }
    }

    #[test]
    fn tag_characters_include_unicode_letters() {
        assert!("Ünïcødé 1_.:/=+-@".chars().all(is_tag_char));
        assert!(!"*".chars().all(is_tag_char));
    }
}
