//! Decoding a section by hand: the shapes every section checks (a mapping
//! with known members, text, a list), each problem noted with its node's
//! position and decoding carried on, so one pass finds every error.

use crate::{ConfigError, Node, Value};

/// Collects every error while decoding a tree.
#[derive(Debug, Default)]
pub struct Decoder {
    pub errors: Vec<ConfigError>,
}

/// The members of a mapping, after unknown members were reported.
pub struct Fields<'n> {
    pub node: &'n Node,
    pub path: String,
    members: Vec<(&'n str, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// A member's value; `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.members
            .iter()
            .find(|(key, value)| *key == name && value.value != Value::Null)
            .map(|(_, value)| *value)
    }

    /// The path of a member.
    pub fn path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }
}

impl Decoder {
    pub fn error(&mut self, node: &Node, path: &str, code: Option<&'static str>, message: String) {
        self.errors.push(ConfigError {
            code,
            ..ConfigError::at(node, path, message)
        });
    }

    /// A mapping whose members must be among `allowed`; each unknown one
    /// is reported and left out.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node,
                path,
                None,
                format!("expected a mapping, found {}", node.type_name()),
            );
            return None;
        };
        let mut members = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            // Member names are text in every section; a name YAML reads
            // as a number or boolean is unknown whatever it is.
            let name = match &key.value {
                Value::Str(name) => name.as_str(),
                _ => {
                    let shown = key.scalar_text();
                    match shown {
                        Some(shown) => self.unknown(key, path, &shown, allowed),
                        None => self.error(key, path, None, "a member name must be text".into()),
                    }
                    continue;
                }
            };
            if allowed.contains(&name) {
                members.push((name, value));
            } else {
                self.unknown(key, path, name, allowed);
            }
        }
        Some(Fields {
            node,
            path: path.to_string(),
            members,
        })
    }

    fn unknown(&mut self, key: &Node, path: &str, name: &str, allowed: &[&str]) {
        let at = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        self.error(
            key,
            &at,
            None,
            format!(
                "unknown field `{name}`, expected one of: {}",
                allowed.join(", ")
            ),
        );
    }

    /// Text: a string, or a number written without quotes (ids of digits).
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(text) => Some(text.clone()),
            Value::Int(number) => Some(number.to_string()),
            _ => {
                self.error(
                    node,
                    path,
                    None,
                    format!("expected a string, found {}", node.type_name()),
                );
                None
            }
        }
    }

    /// A member that must be there, as text, with its node.
    pub fn required_text<'n>(
        &mut self,
        fields: &Fields<'n>,
        name: &str,
    ) -> Option<(String, &'n Node)> {
        match fields.get(name) {
            Some(node) => {
                let text = self.text(node, &fields.path(name))?;
                Some((text, node))
            }
            None => {
                self.missing(fields, name);
                None
            }
        }
    }

    /// Reports a required member that is not there.
    pub fn missing(&mut self, fields: &Fields<'_>, name: &str) {
        self.error(
            fields.node,
            &fields.path,
            None,
            format!("missing required field `{name}`"),
        );
    }

    /// A member that may be left out, as text.
    pub fn optional_text(&mut self, fields: &Fields<'_>, name: &str) -> Option<String> {
        let node = fields.get(name)?;
        self.text(node, &fields.path(name))
    }

    /// The items of a list; nothing when absent (or not a list, reported).
    pub fn list<'n>(&mut self, node: Option<&'n Node>, path: &str) -> &'n [Node] {
        match node.map(|n| (n, &n.value)) {
            None => &[],
            Some((_, Value::Seq(items))) => items,
            Some((node, _)) => {
                self.error(
                    node,
                    path,
                    None,
                    format!("expected a list, found {}", node.type_name()),
                );
                &[]
            }
        }
    }

    /// The entries of a mapping; nothing when absent (or not a mapping,
    /// reported).
    pub fn map_entries<'n>(&mut self, node: Option<&'n Node>, path: &str) -> &'n [(Node, Node)] {
        match node.map(|n| (n, &n.value)) {
            None => &[],
            Some((_, Value::Map(entries))) => entries,
            Some((node, _)) => {
                self.error(
                    node,
                    path,
                    None,
                    format!("expected a mapping, found {}", node.type_name()),
                );
                &[]
            }
        }
    }

    /// One of `choices`, written exactly.
    pub fn choice(&mut self, node: &Node, path: &str, choices: &[&str]) -> Option<String> {
        let text = self.text(node, path)?;
        if choices.contains(&text.as_str()) {
            Some(text)
        } else {
            self.error(
                node,
                path,
                None,
                format!(
                    "unknown variant `{text}`, expected one of {}",
                    choices.join(", ")
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn unknown_members_are_reported_at_their_key_and_the_rest_decoded() {
        let root = parse("a: 1\nb: 2\n").unwrap();
        let mut decoder = Decoder::default();
        let fields = decoder.fields(&root, "top", &["a"]).unwrap();
        assert!(fields.get("a").is_some());
        assert_eq!(decoder.errors.len(), 1);
        let error = &decoder.errors[0];
        assert_eq!((error.line, error.column), (2, 1));
        assert_eq!(error.path, "top.b");
        assert!(error.message.contains("unknown field `b`"));
    }
}
