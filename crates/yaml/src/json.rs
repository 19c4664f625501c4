//! A YAML mapping given where a policy document is expected, written out
//! as JSON text one member per line, remembering which YAML line each
//! JSON line came from: the policy parser reports errors at JSON lines,
//! and the user must be told the place in the YAML file.

use std::fmt::Write as _;

use crate::{Node, Value};

/// A YAML mapping written out as JSON text, one member or element per line,
/// with the YAML position each JSON line came from, so that an error the
/// policy parser reports at a JSON line points back into the YAML file.
#[derive(Debug, Clone)]
pub struct JsonText {
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

pub fn to_json(node: &Node) -> JsonText {
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
    use crate::parse;

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
