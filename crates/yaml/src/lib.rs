//! The world file read once, as a tree of YAML nodes that remember where
//! they are, and the one error type every section of it reports with.
//!
//! # Why a crate of its own
//!
//! The world file has sections owned by two crates: the IAM sections
//! (`accounts:`) by `iamgate-iam`, the API sections (`apis:`,
//! `domain_names:`) by `iamgate-apimodel`, and neither depends on the
//! other. Each used to read the whole text again with its own YAML
//! reader, so a large file was read three times, the API sections' errors
//! had no line and column, and their reader's default budget refused a
//! large organization's file. Reading the text once needs a tree both can
//! decode; this crate is that tree and nothing else (no AWS rules), so it
//! sits below both without pulling either into the other.
//!
//! # Why a tree decoded by hand, not serde types
//!
//! serde-saphyr deserializes straight into types and stops at the first
//! error. A world file must be rejected with EVERY error and its line and
//! column, so the file is read into this small positioned tree (`Spanned`
//! keeps each node's location) and then decoded by hand ([`Decoder`]),
//! which lets decoding note a problem and carry on.
//!
//! Reading options: YAML 1.2 booleans only (`n`, `no`, `off` stay text,
//! so a tag value `no` is not silently `false`), and digit strings with a
//! leading zero stay text (`012345678901` is an account id, not a number).
//!
//! # Limits
//!
//! No count of entities is limited: the reader's node and event budget
//! grows with the file ([`parse`]). Two limits remain, each reported with
//! its name and value: the file's size ([`MAX_FILE_BYTES`]) and the depth
//! of nesting ([`MAX_DEPTH`]), which bounds the reader's recursion.

mod decode;
mod json;
mod read;

use std::fmt;

pub use decode::{Decoder, Fields};
pub use json::{JsonText, to_json};

/// The largest world file read: 1 GiB. Far above any real file (a million
/// users with a key each is about 130 MB) and below where positions (32
/// bits) and the reader's memory (a few times the text) become a problem.
pub const MAX_FILE_BYTES: usize = 1 << 30;

/// The deepest nesting of mappings and lists read. A world file nests at
/// most about fifteen levels (a condition value inside a statement inside
/// a policy document inside a user inside an account); the reader recurses
/// once per level, and each level takes tens of kilobytes of stack in an
/// unoptimized build, so 32 levels stay within a 2 MiB thread stack where
/// the reader's own default (64) does not.
pub const MAX_DEPTH: usize = 32;

/// One problem in a world file, in any of its sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where in the YAML structure: `accounts[0].users[1].policies.read`,
    /// `apis[0] (a1b2c3d4e5)`.
    pub path: String,
    /// Position in the file (1-based); 0 when unknown.
    pub line: u32,
    pub column: u32,
    /// AWS's error code when AWS would refuse the same thing
    /// (`MalformedPolicyDocument`, `ValidationError`, `EntityAlreadyExists`,
    /// `NoSuchEntity`, `PolicyNotAttachable`, `LimitExceeded`).
    pub code: Option<&'static str>,
    /// AWS's message where there is one, otherwise ours.
    pub message: String,
    /// For errors inside a policy document given as JSON text: the line and
    /// column inside that text.
    pub document_position: Option<(u32, u32)>,
}

impl ConfigError {
    /// An error at `node`, with no code.
    pub fn at(node: &Node, path: &str, message: String) -> ConfigError {
        ConfigError {
            path: path.to_string(),
            line: node.line,
            column: node.column,
            code: None,
            message,
            document_position: None,
        }
    }

    /// The error as `path: [code: ]message (line L, column C)`: the
    /// position last, for callers whose messages start with the path.
    pub fn path_first(&self) -> String {
        let mut out = format!("{}: ", self.path);
        if let Some(code) = self.code {
            out.push_str(code);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out.push_str(&format!(" (line {}, column {})", self.line, self.column));
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: ", self.line, self.column, self.path)?;
        if let Some(code) = self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some((line, column)) = self.document_position {
            write!(f, " (document line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A YAML node and its position (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub column: u32,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
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

    /// The text of a scalar (YAML reads `123` as a number, but a name or
    /// id of digits is still text).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(text) => Some(text.clone()),
            Value::Int(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Float(number) => Some(number.to_string()),
            _ => None,
        }
    }

    /// The member `name` of a mapping node, if it is one and has it.
    pub fn member(&self, name: &str) -> Option<&Node> {
        let Value::Map(entries) = &self.value else {
            return None;
        };
        entries
            .iter()
            .find(|(key, _)| matches!(&key.value, Value::Str(text) if text == name))
            .map(|(_, value)| value)
    }
}

/// Positions past `u32::MAX` saturate (the file size limit keeps them
/// below it).
fn narrow(position: u64) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// Reads the whole file into a positioned tree; a file that is not YAML,
/// or breaches a limit, is one error with its position where there is one.
///
/// The YAML reader's default budget (250,000 nodes) is meant for files of
/// unknown origin; a world file of a large organization — 100,000 users
/// with a key each is about a million nodes — would breach it. Every node
/// takes at least two bytes of text (a one-character scalar and a line
/// break or separator), so a budget of one node and one event per byte can
/// never refuse a real file, while aliases, the only way a small text
/// makes many nodes, stay under the reader's own alias limits.
pub fn parse(text: &str) -> Result<Node, ConfigError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large(text.len()));
    }
    read::tree(text, text.len().max(1_000))
}

fn too_large(bytes: usize) -> ConfigError {
    ConfigError {
        path: String::new(),
        line: 0,
        column: 0,
        code: None,
        message: format!(
            "the world file is {bytes} bytes; the limit is {MAX_FILE_BYTES} bytes (1 GiB)"
        ),
        document_position: None,
    }
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
    fn nesting_deeper_than_the_limit_is_refused_naming_the_limit() {
        let flow = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let block = |depth: usize| {
            let mut text = String::new();
            for level in 0..depth {
                text.push_str(&format!("{}-\n", "  ".repeat(level)));
            }
            text + &format!("{}1\n", "  ".repeat(depth))
        };
        for deep in [flow(MAX_DEPTH + 1), flow(10_000), block(MAX_DEPTH + 1)] {
            let error = parse(&deep).unwrap_err();
            assert!(
                error.message.contains(&format!("at most {MAX_DEPTH} deep")),
                "{error}"
            );
            assert!(error.line > 0, "{error}");
        }
        assert!(parse(&flow(MAX_DEPTH)).is_ok());
        assert!(parse(&block(MAX_DEPTH)).is_ok());
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_naming_the_limit() {
        let error = too_large(MAX_FILE_BYTES + 1);
        assert!(
            error
                .message
                .contains("the limit is 1073741824 bytes (1 GiB)")
        );
    }

    #[test]
    fn a_file_of_more_nodes_than_the_default_budget_is_read() {
        let mut text = String::from("items:\n");
        for index in 0..300_000 {
            text.push_str(&format!("  - {index}\n"));
        }
        let root = parse(&text).unwrap();
        let Some(Value::Seq(items)) = root.member("items").map(|n| &n.value) else {
            panic!()
        };
        assert_eq!(items.len(), 300_000);
    }
}
