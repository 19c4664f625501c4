//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'x'}`,
//! `${*}`, `${?}`, `${$}`); IAM User Guide, "IAM policy elements: Variables
//! and tags".
//!
//! A template is parsed once at load into parts. At evaluation the variable
//! parts are looked up in the request context and handed to the glob matcher
//! as literal pieces, so a substituted value never acts as a wildcard and no
//! string is built. Under Version 2008-10-17 (or no Version) templates are
//! plain text: `${…}` is then matched literally.

use crate::context::RequestContext;
use crate::wildcard::Piece;

/// Pieces kept on the stack when resolving a template; longer templates
/// (very rare) fall back to a heap vector.
const INLINE_PIECES: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Policy text: `*` and `?` are wildcards where the operator globs.
    Text(String),
    /// An escape (`${*}` …): always literal.
    Literal(&'static str),
    /// `${key}` or `${key, 'default'}`; key stored lower-cased.
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A policy string that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    raw: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `raw`; with `variables` false the whole text is one text part.
    pub fn parse(raw: &str, variables: bool) -> Template {
        let parts = if variables && raw.contains("${") {
            parse_parts(raw)
        } else {
            vec![Part::Text(raw.to_string())]
        };
        Template {
            raw: raw.to_string(),
            parts,
        }
    }

    /// The text as written in the policy.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// True when evaluation needs the request context.
    pub fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Variable { .. }))
    }

    /// The single text part when the template has no variables or escapes.
    pub fn as_plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// Lower-cased names of the variables used (for diagnostics).
    pub fn variable_keys(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }

    /// Calls `f` with the resolved pieces; returns `None` when a variable has
    /// no value and no default (the entry then matches nothing).
    pub fn with_pieces<R>(
        &self,
        context: &RequestContext,
        f: impl FnOnce(&[Piece<'_>]) -> R,
    ) -> Option<R> {
        if let [Part::Text(text)] = self.parts.as_slice() {
            return Some(f(&[Piece::wild(text)]));
        }
        fn resolve<'p>(part: &'p Part, context: &'p RequestContext) -> Option<Piece<'p>> {
            Some(match part {
                Part::Text(text) => Piece::wild(text),
                Part::Literal(text) => Piece::literal(text),
                Part::Variable { key, default } => {
                    match context.single_value(key).or(default.as_deref()) {
                        Some(value) => Piece::literal(value),
                        None => return None,
                    }
                }
            })
        }
        if self.parts.len() <= INLINE_PIECES {
            let mut buf = [Piece::literal(""); INLINE_PIECES];
            for (slot, part) in buf.iter_mut().zip(&self.parts) {
                *slot = resolve(part, context)?;
            }
            Some(f(buf.get(..self.parts.len()).unwrap_or_default()))
        } else {
            let pieces: Option<Vec<Piece<'_>>> =
                self.parts.iter().map(|p| resolve(p, context)).collect();
            Some(f(&pieces?))
        }
    }
}

fn parse_parts(raw: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let after = rest.get(start + 2..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            break;
        };
        text.push_str(rest.get(..start).unwrap_or_default());
        let inner = after.get(..end).unwrap_or_default();
        let part = match inner {
            "*" => Part::Literal("*"),
            "?" => Part::Literal("?"),
            "$" => Part::Literal("$"),
            _ => variable(inner),
        };
        if let Part::Text(literal) = &part {
            text.push_str(literal);
        } else {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(part);
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    if !text.is_empty() || parts.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

/// `key` or `key, 'default'`; anything else stays literal text.
fn variable(inner: &str) -> Part {
    let literal = || Part::Text(format!("${{{inner}}}"));
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((key, default)) => {
            let default = default.trim();
            match default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
            {
                Some(value) => (key.trim(), Some(value.to_string())),
                None => return literal(),
            }
        }
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return literal();
    }
    Part::Variable {
        key: key.to_ascii_lowercase(),
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{PrincipalIdentity, RequestContext};
    use crate::wildcard::{Case, matches_pieces};

    fn alice() -> RequestContext {
        RequestContext::new(
            PrincipalIdentity::user("111122223333", "/", "alice", "AIDAEXAMPLEALICE00001"),
            "iam:ChangePassword",
            Some("arn:aws:iam::111122223333:user/alice"),
        )
        .with_key("aws:PrincipalTag/team", "blue")
    }

    fn glob(template: &Template, ctx: &RequestContext, subject: &str) -> Option<bool> {
        template.with_pieces(ctx, |p| matches_pieces(p, subject, Case::Sensitive))
    }

    #[test]
    fn username_variable_resolves_from_the_context() {
        let t = Template::parse("user/${aws:username}", true);
        assert_eq!(glob(&t, &alice(), "user/alice"), Some(true));
        assert_eq!(glob(&t, &alice(), "user/bob"), Some(false));
    }

    #[test]
    fn variable_key_names_are_case_insensitive() {
        let t = Template::parse("${AWS:UserName}", true);
        assert_eq!(glob(&t, &alice(), "alice"), Some(true));
    }

    #[test]
    fn missing_variable_without_default_resolves_to_nothing() {
        let t = Template::parse("${aws:PrincipalTag/dept}", true);
        assert_eq!(glob(&t, &alice(), ""), None);
    }

    #[test]
    fn default_value_applies_when_key_missing() {
        let t = Template::parse("${aws:PrincipalTag/dept, 'company-wide'}", true);
        assert_eq!(glob(&t, &alice(), "company-wide"), Some(true));
        let t = Template::parse("${aws:PrincipalTag/team, 'company-wide'}", true);
        assert_eq!(glob(&t, &alice(), "blue"), Some(true));
    }

    #[test]
    fn escapes_are_literal_characters() {
        let t = Template::parse("a${*}b${?}${$}", true);
        assert_eq!(glob(&t, &alice(), "a*b?$"), Some(true));
        assert_eq!(glob(&t, &alice(), "axxb?$"), Some(false));
    }

    #[test]
    fn version_2008_keeps_variables_as_text() {
        let t = Template::parse("user/${aws:username}", false);
        assert_eq!(glob(&t, &alice(), "user/${aws:username}"), Some(true));
        assert_eq!(glob(&t, &alice(), "user/alice"), Some(false));
    }

    #[test]
    fn substituted_values_are_not_wildcards() {
        let ctx = alice().with_key("aws:PrincipalTag/x", "*");
        let t = Template::parse("${aws:PrincipalTag/x}", true);
        assert_eq!(glob(&t, &ctx, "anything"), Some(false));
        assert_eq!(glob(&t, &ctx, "*"), Some(true));
    }
}
