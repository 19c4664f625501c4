//! A small JSON reader that remembers where every value starts.
//!
//! Why not `serde_json::Value`: validation must report the line and column of
//! the offending element, and must reject a key repeated inside one object
//! (AWS does); `Value` keeps neither positions nor duplicates. The reader is a
//! plain recursive-descent parser with a depth limit so that hostile input
//! (the fuzz target feeds it arbitrary bytes) can neither panic nor overflow
//! the stack.

use std::fmt;

/// Deepest nesting accepted. Real policies nest five levels; this leaves room
/// while keeping recursion bounded.
const MAX_DEPTH: usize = 64;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A JSON value with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    /// The byte range of the value's source text (quotes included for a
    /// string), so a caller can replace one value and keep the rest of the
    /// document exactly as written.
    pub span: std::ops::Range<usize>,
    pub value: Value,
}

/// JSON values. Numbers keep their source text: IAM compares condition numbers
/// as their string form, and `1.0` must not become `1`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object, in source order (duplicates kept).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Value {
    /// The JSON type name, for error details.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Why the text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub pos: Pos,
    pub reason: String,
}

/// Parses one JSON document; anything but whitespace after it is an error.
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        column: 1,
    };
    reader.skip_whitespace();
    let node = reader.value(0)?;
    reader.skip_whitespace();
    if reader.peek().is_some() {
        return Err(reader.error("unexpected text after the JSON document"));
    }
    Ok(node)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u32,
    column: u32,
}

impl Reader<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
    }

    fn error(&self, reason: &str) -> JsonError {
        JsonError {
            pos: self.pos(),
            reason: reason.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        if byte == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if byte & 0xC0 != 0x80 {
            // Continuation bytes of a UTF-8 sequence do not start a new column.
            self.column += 1;
        }
        Some(byte)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), JsonError> {
        for expected in word.bytes() {
            if self.peek() != Some(expected) {
                return Err(self.error("invalid literal"));
            }
            self.bump();
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let pos = self.pos();
        let start = self.at;
        let value = match self.peek() {
            None => return Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => {
                self.expect_word("true")?;
                Value::Bool(true)
            }
            Some(b'f') => {
                self.expect_word("false")?;
                Value::Bool(false)
            }
            Some(b'n') => {
                self.expect_word("null")?;
                Value::Null
            }
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            Some(_) => return Err(self.error("expected a JSON value")),
        };
        Ok(Node {
            pos,
            span: start..self.at,
            value,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.bump();
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after an object key"));
            }
            self.bump();
            self.skip_whitespace();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_pos,
                value,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.bump();
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']' in an array")),
            }
        }
    }

    fn number(&mut self) -> Result<String, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        let text = self.bytes.get(start..self.at).unwrap_or_default();
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.bump();
        let mut out: Vec<u8> = Vec::new();
        loop {
            let pos = self.pos();
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    let escaped = match self.bump() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => {
                            return Err(JsonError {
                                pos,
                                reason: "invalid escape".to_string(),
                            });
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(escaped.encode_utf8(&mut buf).as_bytes());
                }
                Some(byte) if byte < 0x20 => {
                    return Err(JsonError {
                        pos,
                        reason: "control character in a string".to_string(),
                    });
                }
                Some(byte) => out.push(byte),
            }
        }
        // The input is a &str, so only escapes could produce invalid UTF-8,
        // and they are built from chars; this never fails in practice.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in a string"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self
                .bump()
                .and_then(|b| (b as char).to_digit(16))
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.bump() != Some(b'\\') || self.bump() != Some(b'u') {
                return Err(self.error("unpaired surrogate in \\u escape"));
            }
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate in \\u escape"));
            }
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            return char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"));
        }
        char::from_u32(first).ok_or_else(|| self.error("unpaired surrogate in \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let node = parse("{\n  \"é\": [1, \"x\"]\n}").unwrap();
        let Value::Object(members) = node.value else {
            panic!("object expected")
        };
        assert_eq!(members[0].key_pos, Pos { line: 2, column: 3 });
        assert_eq!(members[0].value.pos, Pos { line: 2, column: 8 });
    }

    #[test]
    fn spans_cover_each_value_source_text_exactly() {
        let text = "{\"a\": [\"x\\/y\", 12.5, {\"b\": null}] }";
        let node = parse(text).unwrap();
        assert_eq!(node.span, 0..text.len());
        let Value::Object(members) = &node.value else {
            panic!("object expected")
        };
        let Value::Array(items) = &members[0].value.value else {
            panic!("array expected")
        };
        let sources: Vec<&str> = items.iter().map(|n| &text[n.span.clone()]).collect();
        assert_eq!(sources, ["\"x\\/y\"", "12.5", "{\"b\": null}"]);
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let node = parse(r#"{"a":1,"a":2}"#).unwrap();
        let Value::Object(members) = node.value else {
            panic!("object expected")
        };
        assert_eq!(members.len(), 2);
    }

    #[test]
    fn numbers_keep_their_text() {
        let node = parse("[1.50, -0, 2e3]").unwrap();
        let Value::Array(items) = node.value else {
            panic!("array expected")
        };
        let texts: Vec<_> = items
            .iter()
            .map(|n| match &n.value {
                Value::Number(t) => t.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(texts, ["1.50", "-0", "2e3"]);
    }

    #[test]
    fn escapes_and_surrogate_pairs_decode() {
        let node = parse(r#""a\u00e9\ud83d\ude00\n""#).unwrap();
        assert_eq!(node.value, Value::String("aé😀\n".to_string()));
    }

    #[test]
    fn malformed_inputs_are_errors_with_positions() {
        for (text, line, column) in [
            ("{", 1, 2),
            ("{\"a\" 1}", 1, 6),
            ("[1,]", 1, 4),
            ("01", 1, 2),
            ("\"\\ud800\"", 1, 9),
            ("{} x", 1, 4),
            ("\n  tru", 2, 6),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!((err.pos.line, err.pos.column), (line, column), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let text = "[".repeat(10_000);
        assert!(parse(&text).is_err());
    }
}
