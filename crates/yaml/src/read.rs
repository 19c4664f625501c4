//! Building the positioned tree straight from the YAML parser's events.
//!
//! # Why not through serde
//!
//! The tree used to be deserialized through serde-saphyr's `Spanned`
//! wrapper, which hands every node to a map visitor of its own (value and
//! location fields, each location a map again): for a world file of
//! 100,000 users that was three quarters of reading it. The parser under
//! serde-saphyr already gives each event its position, so the tree is
//! built here from the events, with an explicit stack (no recursion, so
//! depth is checked, not a stack overflow).
//!
//! # What a scalar is
//!
//! As serde-saphyr reads untyped values with the options the world file
//! used: a quoted or block scalar is always text; a plain scalar is null
//! (`~`, `null`, `Null`, `NULL`, nothing), a YAML 1.2 boolean (`true`,
//! `True`, `TRUE` and the same for false — `yes`, `no`, `on`, `off` stay
//! text, so a tag value `no` is not silently `false`), an integer (decimal,
//! `0x…`, `0o…`; a decimal with a leading zero stays text, so
//! `012345678901` is an account id), a YAML 1.2 float, or else text. The
//! core-schema tags `!!str`, `!!int`, `!!float`, `!!bool` and `!!null`
//! force their type; any other tag is refused rather than guessed at.
//!
//! Anchors and aliases work, and `<<` merge keys (a mapping, or a list of
//! them, whose entries fill in keys the mapping does not have). Aliases
//! are copies counted against the node budget, so a small text cannot
//! expand into a huge tree. A key twice in one mapping is an error, as
//! serde-saphyr's default was.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::{ConfigError, MAX_DEPTH, Node, Value, narrow};

/// A collection being read: its node (value still empty) and, for a
/// mapping, a key waiting for its value.
struct Open {
    node: Node,
    anchor: usize,
    key: Option<Node>,
}

/// Reads `text` into a tree of at most `budget` nodes.
pub(crate) fn tree(text: &str, budget: usize) -> Result<Node, ConfigError> {
    let mut reader = Reader {
        anchors: HashMap::new(),
        nodes: 0,
        budget,
    };
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|error| {
            let at = error.marker();
            let mut message = error.info();
            if message.contains("recursion limit") {
                message.push_str(&format!(" ({})", too_deep()));
            }
            failure(
                narrow(at.line() as u64),
                narrow(at.col() as u64 + 1),
                message,
            )
        })?;
        let complete = match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(at(
                        &span,
                        "a world file is one YAML document; found a second",
                    ));
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar(value, style, tag.as_deref(), &span)?;
                reader.count(&span)?;
                (node, anchor)
            }
            Event::Alias(id) => {
                // Counted before copying, so a copy past the budget is
                // never made.
                let Some(copied) = reader.anchors.get(&id).map(size) else {
                    return Err(at(&span, "an alias names no anchor defined before it"));
                };
                reader.add(copied, &span)?;
                let Some(mut node) = reader.anchors.get(&id).cloned() else {
                    continue;
                };
                (node.line, node.column) = position(&span);
                (node, 0)
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if let Some(tag) = tag.as_deref()
                    && !is_default_collection_tag(tag)
                {
                    return Err(at(&span, &format!("the tag {tag} is not supported")));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(at(&span, &format!("nesting too deep ({})", too_deep())));
                }
                reader.count(&span)?;
                let (line, column) = position(&span);
                let value = if matches!(event, Event::SequenceStart(..)) {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Vec::new())
                };
                stack.push(Open {
                    node: Node {
                        line,
                        column,
                        value,
                    },
                    anchor,
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(mut open) = stack.pop() else {
                    return Err(at(&span, "a collection ends that never started"));
                };
                if let Value::Map(entries) = &mut open.node.value {
                    if let Some(key) = duplicate_key(entries) {
                        return Err(ConfigError {
                            path: String::new(),
                            line: key.line,
                            column: key.column,
                            code: None,
                            message: format!(
                                "duplicate mapping key: {}",
                                plain_key(key).unwrap_or_default()
                            ),
                            document_position: None,
                        });
                    }
                    merge(entries)?;
                }
                (open.node, open.anchor)
            }
            // Stream and document ends, and presentation events.
            _ => continue,
        };
        let (node, anchor) = complete;
        if anchor != 0 {
            reader.anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(parent) => match &mut parent.node.value {
                Value::Seq(items) => items.push(node),
                Value::Map(entries) => match parent.key.take() {
                    None => parent.key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                _ => {}
            },
        }
    }
    Ok(root.unwrap_or(Node {
        line: 1,
        column: 1,
        value: Value::Null,
    }))
}

struct Reader {
    /// Every anchored node read so far, by the parser's anchor id.
    anchors: HashMap<usize, Node>,
    nodes: usize,
    budget: usize,
}

impl Reader {
    fn count(&mut self, span: &Span) -> Result<(), ConfigError> {
        self.add(1, span)
    }

    fn add(&mut self, nodes: usize, span: &Span) -> Result<(), ConfigError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > self.budget {
            return Err(at(
                span,
                &format!(
                    "the world file expands to more than {} nodes (aliases copy what they name)",
                    self.budget
                ),
            ));
        }
        Ok(())
    }
}

/// How many nodes a tree holds.
fn size(node: &Node) -> usize {
    let mut count = 0;
    let mut pending = vec![node];
    while let Some(node) = pending.pop() {
        count += 1;
        match &node.value {
            Value::Seq(items) => pending.extend(items),
            Value::Map(entries) => {
                for (key, value) in entries {
                    pending.push(key);
                    pending.push(value);
                }
            }
            _ => {}
        }
    }
    count
}

const MERGE_KEY: &str = "<<";

/// Why a too-deep file is refused, naming the limit.
fn too_deep() -> String {
    format!("the world file may nest mappings and lists at most {MAX_DEPTH} deep")
}

/// The text of a key that is a plain string.
fn plain_key(key: &Node) -> Option<&str> {
    match &key.value {
        Value::Str(text) => Some(text),
        _ => None,
    }
}

/// The second occurrence of a plain key that occurs twice (merge keys
/// aside), first in file order. Large mappings are checked by sorting, so
/// a mapping of many keys costs n log n, not n².
fn duplicate_key(entries: &[(Node, Node)]) -> Option<&Node> {
    let mut keys: Vec<(&str, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(at, (key, _))| plain_key(key).map(|text| (text, at)))
        .filter(|(text, _)| *text != MERGE_KEY)
        .collect();
    keys.sort_unstable();
    let second = keys
        .windows(2)
        .filter_map(|pair| match pair {
            [(first, _), (again, at)] if first == again => Some(*at),
            _ => None,
        })
        .min()?;
    entries.get(second).map(|(key, _)| key)
}

/// Replaces `<<` entries with the entries of the mapping (or list of
/// mappings) they name that the mapping does not already have.
fn merge(entries: &mut Vec<(Node, Node)>) -> Result<(), ConfigError> {
    if !entries
        .iter()
        .any(|(key, _)| plain_key(key) == Some(MERGE_KEY))
    {
        return Ok(());
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = std::mem::take(entries)
        .into_iter()
        .partition(|(key, _)| plain_key(key) == Some(MERGE_KEY));
    for (key, value) in merges {
        let sources = match value.value {
            Value::Map(fields) => vec![fields],
            Value::Seq(items) => {
                let mut sources = Vec::new();
                for item in items {
                    match item.value {
                        Value::Map(fields) => sources.push(fields),
                        _ => return Err(merge_error(&key)),
                    }
                }
                sources
            }
            _ => return Err(merge_error(&key)),
        };
        for fields in sources {
            for (name, field) in fields {
                let present = own
                    .iter()
                    .any(|(k, _)| plain_key(k).is_some() && plain_key(k) == plain_key(&name));
                if !present {
                    own.push((name, field));
                }
            }
        }
    }
    *entries = own;
    Ok(())
}

fn merge_error(key: &Node) -> ConfigError {
    ConfigError {
        path: String::new(),
        line: key.line,
        column: key.column,
        code: None,
        message: "a merge key (<<) takes a mapping or a list of mappings".to_string(),
        document_position: None,
    }
}

/// The tags a collection may carry: none, or its own core-schema tag.
fn is_default_collection_tag(tag: &Tag) -> bool {
    tag.is_yaml_core_schema() && matches!(tag.suffix(), "map" | "seq")
}

fn scalar(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
) -> Result<Node, ConfigError> {
    let (line, column) = position(span);
    let plain = matches!(style, ScalarStyle::Plain);
    let value = match tag {
        None if plain => resolve(&text).unwrap_or_else(|| Value::Str(text.into_owned())),
        None => Value::Str(text.into_owned()),
        Some(tag) if tag.is_yaml_core_schema() => {
            let typed = match tag.suffix() {
                "str" => Some(Value::Str(text.to_string())),
                "null" => resolve(&text).filter(|v| matches!(v, Value::Null)),
                "bool" => resolve(&text).filter(|v| matches!(v, Value::Bool(_))),
                "int" => resolve(&text).filter(|v| matches!(v, Value::Int(_))),
                "float" => resolve(&text).and_then(|v| match v {
                    Value::Int(number) => Some(Value::Float(number as f64)),
                    Value::Float(_) => Some(v),
                    _ => None,
                }),
                _ => None,
            };
            typed.ok_or_else(|| at(span, &format!("{text:?} is not a valid !!{}", tag.suffix())))?
        }
        Some(tag) => return Err(at(span, &format!("the tag {tag} is not supported"))),
    };
    Ok(Node {
        line,
        column,
        value,
    })
}

/// The typed value of a plain scalar, or `None` for text.
fn resolve(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    if let Some(hex) = text.strip_prefix("0x") {
        return integer(hex, 16, false);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return integer(octal, 8, false);
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        // A leading zero keeps the digits as text (account ids).
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return None;
        }
        return integer(unsigned, 10, negative);
    }
    if is_float(unsigned) {
        return text.parse::<f64>().ok().map(Value::Float);
    }
    None
}

fn integer(digits: &str, radix: u32, negative: bool) -> Option<Value> {
    if digits.is_empty() {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    Some(Value::Int(if negative { -magnitude } else { magnitude }))
}

/// YAML 1.2's float form (sign removed): digits with a point or an
/// exponent, `( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )?`.
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(fraction) => {
            digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = match exponent {
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
            !exponent.is_empty() && digits(exponent)
        }
        None => true,
    };
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some())
}

/// A node's position: 1-based line and column.
fn position(span: &Span) -> (u32, u32) {
    (
        narrow(span.start.line() as u64),
        narrow(span.start.col() as u64 + 1),
    )
}

fn at(span: &Span, message: &str) -> ConfigError {
    let (line, column) = position(span);
    failure(line, column, message.to_string())
}

fn failure(line: u32, column: u32, message: String) -> ConfigError {
    ConfigError {
        path: String::new(),
        line,
        column,
        code: None,
        message,
        document_position: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Node, ConfigError> {
        tree(text, text.len().max(1_000))
    }

    fn member<'a>(node: &'a Node, name: &str) -> &'a Value {
        &node
            .member(name)
            .unwrap_or_else(|| panic!("{name} in {node:?}"))
            .value
    }

    #[test]
    fn plain_scalars_take_the_yaml_1_2_core_types_and_quoted_ones_stay_text() {
        let root = read(
            "a: 12\nb: -7\nc: 0x1F\nd: 0o17\ne: 1.5\nf: 2e3\ng: .inf\nh: true\ni: FALSE\n\
             j: yes\nk: no\nl: ~\nm:\nn: '12'\no: \"true\"\np: 0123\nq: 1_000\nr: text\n",
        )
        .unwrap();
        assert_eq!(member(&root, "a"), &Value::Int(12));
        assert_eq!(member(&root, "b"), &Value::Int(-7));
        assert_eq!(member(&root, "c"), &Value::Int(31));
        assert_eq!(member(&root, "d"), &Value::Int(15));
        assert_eq!(member(&root, "e"), &Value::Float(1.5));
        assert_eq!(member(&root, "f"), &Value::Float(2000.0));
        assert_eq!(member(&root, "g"), &Value::Float(f64::INFINITY));
        assert_eq!(member(&root, "h"), &Value::Bool(true));
        assert_eq!(member(&root, "i"), &Value::Bool(false));
        assert_eq!(member(&root, "j"), &Value::Str("yes".into()));
        assert_eq!(member(&root, "k"), &Value::Str("no".into()));
        assert_eq!(member(&root, "l"), &Value::Null);
        assert_eq!(member(&root, "m"), &Value::Null);
        assert_eq!(member(&root, "n"), &Value::Str("12".into()));
        assert_eq!(member(&root, "o"), &Value::Str("true".into()));
        assert_eq!(member(&root, "p"), &Value::Str("0123".into()));
        assert_eq!(member(&root, "q"), &Value::Str("1_000".into()));
        assert_eq!(member(&root, "r"), &Value::Str("text".into()));
    }

    #[test]
    fn core_schema_tags_force_their_type_and_other_tags_are_refused() {
        let root = read("a: !!str 12\nb: !!int '12'\nc: !!float 3\n").unwrap();
        assert_eq!(member(&root, "a"), &Value::Str("12".into()));
        assert_eq!(member(&root, "b"), &Value::Int(12));
        assert_eq!(member(&root, "c"), &Value::Float(3.0));
        let error = read("a: !!int twelve\n").unwrap_err();
        assert_eq!((error.line, error.column), (1, 10), "{error}");
        assert!(
            error.message.contains("\"twelve\" is not a valid !!int"),
            "{error}"
        );
        let error = read("a: !custom x\n").unwrap_err();
        assert!(error.message.contains("not supported"), "{error}");
    }

    #[test]
    fn aliases_copy_what_their_anchor_names_and_merge_keys_fill_in_missing_keys() {
        let root = read(
            "base: &base { path: /, tags: [a, b] }\n\
             copy: *base\n\
             merged:\n  <<: *base\n  path: /own/\n",
        )
        .unwrap();
        assert_eq!(member(&root, "copy"), member(&root, "base"));
        let merged = root.member("merged").unwrap();
        assert_eq!(member(merged, "path"), &Value::Str("/own/".into()));
        assert_eq!(
            member(merged, "tags"),
            member(root.member("base").unwrap(), "tags")
        );
        assert!(merged.member("<<").is_none());
        // The copy is where the alias is.
        let copy = root.member("copy").unwrap();
        assert_eq!((copy.line, copy.column), (2, 7));
    }

    #[test]
    fn aliases_that_would_expand_past_the_budget_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x]\n");
        for level in b'b'..=b'j' {
            let previous = (level - 1) as char;
            let level = level as char;
            text.push_str(&format!(
                "{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
            ));
        }
        let error = read(&text).unwrap_err();
        assert!(error.message.contains("expands to more than"), "{error}");
    }

    #[test]
    fn a_key_twice_in_one_mapping_is_refused_at_the_second() {
        let error = read("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!((error.line, error.column), (3, 1), "{error}");
        assert!(
            error.message.contains("duplicate mapping key: a"),
            "{error}"
        );
    }

    #[test]
    fn a_second_document_is_refused_and_an_empty_file_is_nothing() {
        let error = read("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(error.line, 2, "{error}");
        assert_eq!(read("").unwrap().value, Value::Null);
        assert_eq!(read("# only a comment\n").unwrap().value, Value::Null);
    }
}
