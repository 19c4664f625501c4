//! The world file as a tree of YAML nodes that remember where they are.
//!
//! serde-saphyr deserializes straight into types and stops at the first
//! error. A world file must be rejected with EVERY error and its line and
//! column, so the file is read once into this small positioned tree
//! (`Spanned` keeps each node's location) and then decoded by hand, which
//! lets decoding note a problem and carry on.
//!
//! Reading options: YAML 1.2 booleans only (`n`, `no`, `off` stay text,
//! so a tag value `no` is not silently `false`), and digit strings with a
//! leading zero stay text (`012345678901` is an account id, not a number).

use std::fmt::Write as _;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML node and its position (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: u32,
    pub column: u32,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What the node is, in the words of an error message.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The text of a string or integer scalar (YAML reads `123` as a number,
    /// but a name or id of digits is still text).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(text) => Some(text.clone()),
            Value::Int(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Float(number) => Some(number.to_string()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            line: narrow(spanned.referenced.line()),
            column: narrow(spanned.referenced.column()),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }
    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Int(value.into()))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Int(value.into()))
    }
    fn visit_i128<E>(self, value: i128) -> Result<Value, E> {
        Ok(Value::Int(value))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::Float(value))
    }
    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::Str(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::Str(value))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

/// Positions past `u32::MAX` saturate (a 4 GiB world file is not a use case).
fn narrow(position: u64) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// A file that is not YAML at all; there is one such error at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Reads the whole file into a positioned tree.
///
/// The YAML reader's default budget (250,000 nodes) is meant for files of
/// unknown origin; a world file of a large organization — 100,000 users
/// with a key each is about a million nodes — would breach it. Every node
/// takes at least two bytes of text (a one-character scalar and a line
/// break or separator), so a budget of one node and one event per byte can
/// never refuse a real file, while aliases, the only way a small text
/// makes many nodes, stay under the reader's own alias limits.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let per_byte = text.len().max(1_000);
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_nodes: per_byte,
            max_events: per_byte,
            max_reader_input_bytes: None,
            max_total_scalar_bytes: per_byte,
        },
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|error| {
        let (line, column) = error
            .location()
            .map(|at| (narrow(at.line()), narrow(at.column())))
            .unwrap_or((0, 0));
        SyntaxError {
            line,
            column,
            message: error.to_string(),
        }
    })
}

/// A YAML mapping written out as JSON text, one member or element per line,
/// with the YAML position each JSON line came from, so that an error the
/// policy parser reports at a JSON line points back into the YAML file.
pub(crate) struct JsonText {
    pub text: String,
    /// `origins[i]` is the YAML position of JSON line `i + 1`.
    pub origins: Vec<(u32, u32)>,
}

impl JsonText {
    /// The YAML position of a JSON line (1-based), if there is one.
    pub fn origin(&self, json_line: u32) -> Option<(u32, u32)> {
        let index = usize::try_from(json_line).ok()?.checked_sub(1)?;
        self.origins.get(index).copied()
    }
}

pub(crate) fn to_json(node: &Node) -> JsonText {
    let mut out = JsonText {
        text: String::new(),
        origins: Vec::new(),
    };
    let mut line = String::new();
    write_value(node, 0, &mut line, (node.line, node.column), &mut out);
    out
}

fn finish_line(line: &mut String, origin: (u32, u32), out: &mut JsonText) {
    if !out.text.is_empty() {
        out.text.push('\n');
    }
    out.text.push_str(line);
    out.origins.push(origin);
    line.clear();
}

/// Writes `node` after whatever `line` already holds (a member name or
/// indentation); `origin` is where that line starts in the YAML.
fn write_value(
    node: &Node,
    depth: usize,
    line: &mut String,
    origin: (u32, u32),
    out: &mut JsonText,
) {
    let indent = |depth: usize| "  ".repeat(depth);
    match &node.value {
        Value::Seq(items) => {
            line.push('[');
            finish_line(line, origin, out);
            for (index, item) in items.iter().enumerate() {
                line.push_str(&indent(depth + 1));
                write_value(item, depth + 1, line, (item.line, item.column), out);
                if index + 1 < items.len() {
                    line.push(',');
                }
                if !line.trim().is_empty() {
                    finish_line(line, (item.line, item.column), out);
                }
            }
            line.push_str(&indent(depth));
            line.push(']');
        }
        Value::Map(entries) => {
            line.push('{');
            finish_line(line, origin, out);
            for (index, (key, value)) in entries.iter().enumerate() {
                line.push_str(&indent(depth + 1));
                line.push_str(&json_string(&key.scalar_text().unwrap_or_default()));
                line.push_str(": ");
                write_value(value, depth + 1, line, (key.line, key.column), out);
                if index + 1 < entries.len() {
                    line.push(',');
                }
                if !line.trim().is_empty() {
                    finish_line(line, (key.line, key.column), out);
                }
            }
            line.push_str(&indent(depth));
            line.push('}');
        }
        scalar => {
            line.push_str(&scalar_json(scalar));
            return;
        }
    }
    // The closing bracket's line belongs to the collection itself.
    if depth == 0 {
        finish_line(line, (node.line, node.column), out);
    }
}

fn scalar_json(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) if number.is_finite() => number.to_string(),
        Value::Float(number) => json_string(&number.to_string()),
        Value::Str(text) => json_string(text),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_line_and_column() {
        let node = parse("a:\n  - x: 1\n    y: n\n").unwrap();
        let Value::Map(entries) = &node.value else {
            panic!("{node:?}")
        };
        let (_, list) = &entries[0];
        let Value::Seq(items) = &list.value else {
            panic!()
        };
        let Value::Map(fields) = &items[0].value else {
            panic!()
        };
        assert_eq!((fields[1].0.line, fields[1].0.column), (3, 5));
        // YAML 1.1 booleans stay text.
        assert_eq!(fields[1].1.value, Value::Str("n".into()));
    }

    #[test]
    fn leading_zero_account_ids_stay_text() {
        let node = parse("id: 012345678901\n").unwrap();
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        assert_eq!(entries[0].1.scalar_text().unwrap(), "012345678901");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let error = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 2));
        assert!(!error.message.is_empty());
    }

    #[test]
    fn mappings_become_json_whose_lines_point_back_into_the_yaml() {
        let yaml = "Version: 2012-10-17\nStatement:\n  - Effect: Allow\n    Action: [s3:Get*, 's3:List*']\n    Condition: {Bool: {aws:SecureTransport: true}}\n";
        let node = parse(yaml).unwrap();
        let json = to_json(&node);
        let value: serde_json::Value = serde_json::from_str(&json.text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
                "Condition": {"Bool": {"aws:SecureTransport": true}}}]})
        );
        let lines: Vec<&str> = json.text.lines().collect();
        assert_eq!(lines.len(), json.origins.len());
        let effect = lines.iter().position(|l| l.contains("\"Effect\"")).unwrap();
        assert_eq!(json.origin(effect as u32 + 1), Some((3, 5)));
        let first_action = lines.iter().position(|l| l.contains("s3:Get*")).unwrap();
        assert_eq!(json.origin(first_action as u32 + 1), Some((4, 14)));
    }
}
