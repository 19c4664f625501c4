//! Template text to syntax tree, following Velocity 1.7's grammar for the
//! subset API Gateway templates use.
//!
//! Whitespace follows Velocity 1.7, because AWS's output shows it (the
//! pet-store example): a `#set` eats the spaces and tabs before it; the
//! closing `)` of `#set`/`#if`/`#elseif`/`#foreach`, and `#else`, `#end`,
//! `#break`, `#stop`, eat trailing spaces and tabs plus one line break when a
//! line break follows; a `##` comment eats its line break.
//!
//! Nesting (blocks, expressions, strings inside references inside strings)
//! is bounded by `Limits::max_nesting`, so parsing and rendering recurse a
//! bounded number of times whatever the input.

use crate::value::Value;
use crate::{Limits, TemplateError};

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Ref(Reference),
    Set {
        target: Reference,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Foreach {
        var: String,
        iterable: Expr,
        body: Vec<Node>,
    },
    Break,
    Stop,
}

/// `$root.a.b('x')[0]`, with the text it was written as: an unresolvable
/// reference renders as that text.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub quiet: bool,
    pub root: String,
    pub chain: Vec<Segment>,
    pub source: String,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Property(String),
    Method(String, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Literal(Value),
    /// A double-quoted string: rendered like a small template.
    Interpolated(Vec<Node>),
    Ref(Reference),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Directives Velocity has and API Gateway templates may not use.
const UNSUPPORTED_DIRECTIVES: [&str; 5] = ["macro", "include", "parse", "evaluate", "define"];

enum Hash {
    /// A comment or a directive, now behind the cursor.
    Consumed,
    /// Not a directive: the `#` is text.
    Text,
    /// `#end`, `#else` or `#elseif`: the current block is over.
    Closes(BlockEnd),
}

enum BlockEnd {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) fn parse(source: &str, limits: &Limits) -> Result<Vec<Node>, TemplateError> {
    if source.len() > limits.max_template_bytes {
        return Err(TemplateError::new(
            1,
            1,
            format!(
                "template is {} bytes; the limit is {}",
                source.len(),
                limits.max_template_bytes
            ),
        ));
    }
    let mut parser = Parser {
        src: source,
        bytes: source.as_bytes(),
        pos: 0,
        end: source.len(),
        depth: 0,
        max_depth: limits.max_nesting,
    };
    let (nodes, end) = parser.block()?;
    match end {
        BlockEnd::Eof => Ok(nodes),
        BlockEnd::End => Err(parser.error_here("#end without a matching #if or #foreach")),
        BlockEnd::Else | BlockEnd::ElseIf(_) => {
            Err(parser.error_here("#else or #elseif without a matching #if"))
        }
    }
}

struct Parser<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    /// Parsing stops here: the end of the template, or of a string literal
    /// being parsed as a nested template.
    end: usize,
    depth: usize,
    max_depth: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Line and column (both from 1, columns in characters) of a byte offset.
pub(crate) fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            self.bytes.get(self.pos).copied()
        } else {
            None
        }
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        let at = self.pos + ahead;
        if at < self.end {
            self.bytes.get(at).copied()
        } else {
            None
        }
    }

    fn starts_with(&self, s: &str) -> bool {
        self.src
            .get(self.pos..self.end)
            .is_some_and(|rest| rest.starts_with(s))
    }

    fn slice(&self, from: usize, to: usize) -> &'s str {
        self.src.get(from..to).unwrap_or("")
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> TemplateError {
        let (line, column) = line_column(self.src, offset);
        TemplateError::new(line, column, message.into())
    }

    fn error_here(&self, message: impl Into<String>) -> TemplateError {
        self.error_at(self.pos, message)
    }

    fn enter(&mut self) -> Result<(), TemplateError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error_here(format!(
                "template nests deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Nodes up to the end of input or a block keyword (`#end`, `#else`,
    /// `#elseif`).
    fn block(&mut self) -> Result<(Vec<Node>, BlockEnd), TemplateError> {
        self.enter()?;
        let result = self.block_inner();
        self.leave();
        result
    }

    fn block_inner(&mut self) -> Result<(Vec<Node>, BlockEnd), TemplateError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        let mut text_start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'\\' if matches!(self.peek_at(1), Some(b'$' | b'#')) => {
                    text.push_str(self.slice(text_start, self.pos));
                    self.pos += 1;
                    text_start = self.pos;
                    // The escaped character is taken as text, and so is the
                    // name after it.
                    self.pos += 1;
                }
                b'$' => {
                    let here = self.pos;
                    match self.reference()? {
                        Some(reference) => {
                            text.push_str(self.slice(text_start, here));
                            flush(&mut nodes, &mut text);
                            nodes.push(Node::Ref(reference));
                            text_start = self.pos;
                        }
                        None => self.pos = here + 1,
                    }
                }
                b'#' => {
                    let here = self.pos;
                    text.push_str(self.slice(text_start, here));
                    match self.hash(&mut nodes, &mut text)? {
                        Hash::Closes(end) => {
                            flush(&mut nodes, &mut text);
                            return Ok((nodes, end));
                        }
                        Hash::Consumed => text_start = self.pos,
                        Hash::Text => {
                            text_start = here;
                            self.pos = here + 1;
                        }
                    }
                }
                _ => self.pos += 1,
            }
        }
        text.push_str(self.slice(text_start, self.pos));
        flush(&mut nodes, &mut text);
        Ok((nodes, BlockEnd::Eof))
    }

    /// At a `#`: a comment, a directive, or plain text.
    fn hash(&mut self, nodes: &mut Vec<Node>, text: &mut String) -> Result<Hash, TemplateError> {
        let start = self.pos;
        if self.starts_with("##") {
            while let Some(b) = self.peek() {
                self.pos += 1;
                if b == b'\n' {
                    break;
                }
            }
            return Ok(Hash::Consumed);
        }
        if self.starts_with("#*") {
            return match self.find("*#", start + 2) {
                Some(close) => {
                    self.pos = close + 2;
                    Ok(Hash::Consumed)
                }
                None => Err(self.error_at(start, "unterminated #* comment")),
            };
        }
        if self.starts_with("#[[") {
            return match self.find("]]#", start + 3) {
                Some(close) => {
                    text.push_str(self.slice(start + 3, close));
                    self.pos = close + 3;
                    Ok(Hash::Consumed)
                }
                None => Err(self.error_at(start, "unterminated #[[ ]]# block")),
            };
        }
        if self.peek_at(1) == Some(b'@') {
            return Err(self.error_at(start, "unsupported directive #@ (block macro call)"));
        }
        let braced = self.peek_at(1) == Some(b'{');
        let name_start = start + if braced { 2 } else { 1 };
        let mut name_end = name_start;
        while name_end < self.end
            && self
                .bytes
                .get(name_end)
                .is_some_and(u8::is_ascii_alphabetic)
        {
            name_end += 1;
        }
        let name = self.slice(name_start, name_end);
        if name.is_empty() || (braced && self.bytes.get(name_end) != Some(&b'}')) {
            return Ok(Hash::Text);
        }
        let after = if braced { name_end + 1 } else { name_end };
        if UNSUPPORTED_DIRECTIVES.contains(&name) {
            return Err(self.error_at(
                start,
                format!("unsupported directive #{name}: API Gateway templates cannot use it"),
            ));
        }
        self.pos = after;
        match name {
            "set" => {
                trim_line_indent(nodes, text);
                flush(nodes, text);
                self.open_paren(start, name)?;
                let target = self.set_target()?;
                self.skip_ws();
                if self.peek() != Some(b'=') {
                    return Err(self.error_here("expected '=' in #set"));
                }
                self.pos += 1;
                let value = self.expr()?;
                self.close_paren(name)?;
                nodes.push(Node::Set { target, value });
                Ok(Hash::Consumed)
            }
            "if" => {
                flush(nodes, text);
                let node = self.if_chain(start)?;
                nodes.push(node);
                Ok(Hash::Consumed)
            }
            "foreach" => {
                flush(nodes, text);
                self.open_paren(start, name)?;
                self.skip_ws();
                let var_at = self.pos;
                let var = match self.reference()? {
                    Some(r) if r.chain.is_empty() && !r.quiet => r.root,
                    _ => return Err(self.error_at(var_at, "expected $variable in #foreach")),
                };
                self.skip_ws();
                if !self.starts_with("in") || self.peek_at(2).is_some_and(is_ident_char) {
                    return Err(self.error_here("expected 'in' in #foreach"));
                }
                self.pos += 2;
                let iterable = self.expr()?;
                self.close_paren(name)?;
                let (body, end) = self.block()?;
                match end {
                    BlockEnd::End => {}
                    BlockEnd::Eof => return Err(self.error_at(start, "#foreach without #end")),
                    BlockEnd::Else | BlockEnd::ElseIf(_) => {
                        return Err(self.error_here("#else inside #foreach without #if"));
                    }
                }
                nodes.push(Node::Foreach {
                    var,
                    iterable,
                    body,
                });
                Ok(Hash::Consumed)
            }
            "elseif" => {
                self.open_paren(start, name)?;
                let condition = self.expr()?;
                self.close_paren(name)?;
                Ok(Hash::Closes(BlockEnd::ElseIf(condition)))
            }
            "else" => {
                self.eat_line_end();
                Ok(Hash::Closes(BlockEnd::Else))
            }
            "end" => {
                self.eat_line_end();
                Ok(Hash::Closes(BlockEnd::End))
            }
            "break" | "stop" => {
                flush(nodes, text);
                self.eat_line_end();
                nodes.push(if name == "break" {
                    Node::Break
                } else {
                    Node::Stop
                });
                Ok(Hash::Consumed)
            }
            _ => {
                // Not a directive: `#` and the word are text, as in Velocity.
                Ok(Hash::Text)
            }
        }
    }

    fn if_chain(&mut self, start: usize) -> Result<Node, TemplateError> {
        self.open_paren(start, "if")?;
        let mut condition = self.expr()?;
        self.close_paren("if")?;
        let mut branches = Vec::new();
        loop {
            let (body, end) = self.block()?;
            branches.push((condition, body));
            match end {
                BlockEnd::End => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                BlockEnd::ElseIf(next) => condition = next,
                BlockEnd::Else => {
                    let (otherwise, end) = self.block()?;
                    return match end {
                        BlockEnd::End => Ok(Node::If {
                            branches,
                            otherwise,
                        }),
                        BlockEnd::Eof => Err(self.error_at(start, "#if without #end")),
                        BlockEnd::Else | BlockEnd::ElseIf(_) => {
                            Err(self.error_here("#else or #elseif after #else"))
                        }
                    };
                }
                BlockEnd::Eof => return Err(self.error_at(start, "#if without #end")),
            }
        }
    }

    fn find(&self, needle: &str, from: usize) -> Option<usize> {
        self.src
            .get(from..self.end)
            .and_then(|rest| rest.find(needle))
            .map(|i| from + i)
    }

    fn open_paren(&mut self, start: usize, name: &str) -> Result<(), TemplateError> {
        self.skip_blanks();
        if self.peek() != Some(b'(') {
            return Err(self.error_at(start, format!("expected '(' after #{name}")));
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self, name: &str) -> Result<(), TemplateError> {
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.error_here(format!("expected ')' to close #{name}")));
        }
        self.pos += 1;
        self.eat_line_end();
        Ok(())
    }

    /// Spaces and tabs then one line break, only when the break is there.
    fn eat_line_end(&mut self) {
        let mut at = self.pos;
        while matches!(self.bytes.get(at), Some(b' ' | b'\t')) && at < self.end {
            at += 1;
        }
        if self.slice(at, self.end).starts_with("\r\n") {
            self.pos = at + 2;
        } else if matches!(self.bytes.get(at), Some(b'\n' | b'\r')) && at < self.end {
            self.pos = at + 1;
        }
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn set_target(&mut self) -> Result<Reference, TemplateError> {
        self.skip_ws();
        let at = self.pos;
        match self.reference()? {
            Some(r) if !r.quiet && r.chain.iter().all(|s| !matches!(s, Segment::Method(..))) => {
                Ok(r)
            }
            _ => Err(self.error_at(
                at,
                "#set needs a $variable or $variable.property on its left",
            )),
        }
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        Some(self.slice(start, self.pos).to_owned())
    }

    /// At a `$`: a reference, or `None` (and position unchanged) when what
    /// follows is not one, in which case the `$` is text.
    fn reference(&mut self) -> Result<Option<Reference>, TemplateError> {
        let start = self.pos;
        self.pos += 1;
        let quiet = self.peek() == Some(b'!');
        if quiet {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(root) = self.ident() else {
            self.pos = start;
            return Ok(None);
        };
        self.enter()?;
        let chain = self.chain();
        self.leave();
        let chain = chain?;
        if braced {
            if self.peek() != Some(b'}') {
                return Err(self.error_at(start, "expected '}' to close ${"));
            }
            self.pos += 1;
        }
        Ok(Some(Reference {
            quiet,
            root,
            chain,
            source: self.slice(start, self.pos).to_owned(),
            offset: start,
        }))
    }

    fn chain(&mut self) -> Result<Vec<Segment>, TemplateError> {
        let mut chain = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.pos += 1;
                    let name = self.ident().unwrap_or_default();
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.args()?;
                        chain.push(Segment::Method(name, args));
                    } else {
                        chain.push(Segment::Property(name));
                    }
                }
                Some(b'[') => {
                    // `$a[0]`; if what follows is not an index, the `[` is text.
                    let save = self.pos;
                    self.pos += 1;
                    let index = self.expr();
                    self.skip_ws();
                    match index {
                        Ok(index) if self.peek() == Some(b']') => {
                            self.pos += 1;
                            chain.push(Segment::Index(index));
                        }
                        _ => {
                            self.pos = save;
                            return Ok(chain);
                        }
                    }
                }
                _ => return Ok(chain),
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, TemplateError> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return Err(self.error_here("expected ',' or ')' in method arguments")),
            }
        }
    }

    fn expr(&mut self) -> Result<Expr, TemplateError> {
        self.enter()?;
        let result = self.binary(0);
        self.leave();
        result
    }

    /// Precedence climbing over `||`, `&&`, equality, relations, `+ -`,
    /// `* / %` (levels 0 to 5).
    fn binary(&mut self, level: usize) -> Result<Expr, TemplateError> {
        if level > 5 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self.operator(level) {
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// The operator of `level` at the cursor, consumed; `None` if there is
    /// none.
    fn operator(&mut self, level: usize) -> Option<BinaryOp> {
        self.skip_ws();
        let table: &[(&str, BinaryOp)] = match level {
            0 => &[("||", BinaryOp::Or), ("or", BinaryOp::Or)],
            1 => &[("&&", BinaryOp::And), ("and", BinaryOp::And)],
            2 => &[
                ("==", BinaryOp::Eq),
                ("!=", BinaryOp::Ne),
                ("eq", BinaryOp::Eq),
                ("ne", BinaryOp::Ne),
            ],
            3 => &[
                ("<=", BinaryOp::Le),
                (">=", BinaryOp::Ge),
                ("<", BinaryOp::Lt),
                (">", BinaryOp::Gt),
                ("le", BinaryOp::Le),
                ("ge", BinaryOp::Ge),
                ("lt", BinaryOp::Lt),
                ("gt", BinaryOp::Gt),
            ],
            4 => &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
            _ => &[
                ("*", BinaryOp::Mul),
                ("/", BinaryOp::Div),
                ("%", BinaryOp::Rem),
            ],
        };
        for (token, op) in table {
            if self.starts_with(token) {
                let word = token.bytes().all(|b| b.is_ascii_alphabetic());
                if word && self.peek_at(token.len()).is_some_and(is_ident_char) {
                    continue;
                }
                self.pos += token.len();
                return Some(*op);
            }
        }
        None
    }

    fn unary(&mut self) -> Result<Expr, TemplateError> {
        self.skip_ws();
        let negation = if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            Some(true)
        } else if self.starts_with("not") && !self.peek_at(3).is_some_and(is_ident_char) {
            self.pos += 3;
            Some(true)
        } else if self.peek() == Some(b'-') && !self.peek_at(1).is_some_and(|b| b.is_ascii_digit())
        {
            self.pos += 1;
            Some(false)
        } else {
            None
        };
        match negation {
            Some(is_not) => {
                self.enter()?;
                let inner = self.unary();
                self.leave();
                let inner = Box::new(inner?);
                Ok(if is_not {
                    Expr::Not(inner)
                } else {
                    Expr::Negate(inner)
                })
            }
            None => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, TemplateError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let inner = self.expr()?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(self.error_here("expected ')'"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(b'$') => match self.reference()? {
                Some(r) => Ok(Expr::Ref(r)),
                None => Err(self.error_at(start, "expected a reference after '$'")),
            },
            Some(b'"') => self.double_quoted(),
            Some(b'\'') => {
                let text = self.quoted(b'\'')?;
                Ok(Expr::Literal(Value::String(text)))
            }
            Some(b'[') => self.list(),
            Some(b'{') => self.map(),
            Some(b) if b.is_ascii_digit() || b == b'-' => self.number(),
            Some(b) if is_ident_start(b) => {
                let word = self.ident().unwrap_or_default();
                match word.as_str() {
                    "true" => Ok(Expr::Literal(Value::Bool(true))),
                    "false" => Ok(Expr::Literal(Value::Bool(false))),
                    "null" => Ok(Expr::Literal(Value::Null)),
                    _ => Err(self.error_at(start, format!("unexpected word '{word}'"))),
                }
            }
            _ => Err(self.error_here("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Expr, TemplateError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let fractional =
            self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit());
        if fractional {
            self.pos += 1;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text = self.slice(start, self.pos);
        let value = if fractional {
            text.parse::<f64>().ok().map(Value::Float)
        } else {
            text.parse::<i64>().ok().map(Value::Int)
        };
        value
            .map(Expr::Literal)
            .ok_or_else(|| self.error_at(start, format!("invalid number '{text}'")))
    }

    /// The raw text of a quoted string; a doubled quote stands for one
    /// quote, backslashes are kept as written (Velocity 1.7).
    fn quoted(&mut self, quote: u8) -> Result<String, TemplateError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error_at(start, "unterminated string literal")),
                Some(b) if b == quote => {
                    text.push_str(self.slice(run, self.pos));
                    if self.peek_at(1) == Some(quote) {
                        text.push(char::from(quote));
                        self.pos += 2;
                        run = self.pos;
                    } else {
                        self.pos += 1;
                        return Ok(text);
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn double_quoted(&mut self) -> Result<Expr, TemplateError> {
        let start = self.pos;
        let text = self.quoted(b'"')?;
        if !text.contains(['$', '#']) {
            return Ok(Expr::Literal(Value::String(text)));
        }
        // The content is a template of its own; parse it in place so error
        // positions stay right. A doubled quote inside makes in-place parsing
        // impossible, so such strings are parsed from a copy.
        let inner_start = start + 1;
        let inner_end = self.pos - 1;
        let nodes = if self.slice(inner_start, inner_end) == text {
            let saved_end = self.end;
            let saved_pos = self.pos;
            self.end = inner_end;
            self.pos = inner_start;
            let result = self.block();
            self.end = saved_end;
            self.pos = saved_pos;
            result?
        } else {
            let mut sub = Parser {
                src: &text,
                bytes: text.as_bytes(),
                pos: 0,
                end: text.len(),
                depth: self.depth,
                max_depth: self.max_depth,
            };
            sub.block()
                .map_err(|_| self.error_at(start, "invalid string literal"))?
        };
        match nodes {
            (nodes, BlockEnd::Eof) => Ok(Expr::Interpolated(nodes)),
            _ => Err(self.error_at(start, "unbalanced #end or #else inside a string literal")),
        }
    }

    fn list(&mut self) -> Result<Expr, TemplateError> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.starts_with("..") {
            self.pos += 2;
            let last = self.expr()?;
            self.skip_ws();
            if self.peek() != Some(b']') {
                return Err(self.error_here("expected ']' to close a range"));
            }
            self.pos += 1;
            return Ok(Expr::Range(Box::new(first), Box::new(last)));
        }
        let mut items = vec![first];
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    items.push(self.expr()?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                _ => return Err(self.error_here("expected ',' or ']' in a list")),
            }
        }
    }

    fn map(&mut self) -> Result<Expr, TemplateError> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Expr::Map(entries));
        }
        loop {
            let key = self.expr()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error_here("expected ':' in a map"));
            }
            self.pos += 1;
            let value = self.expr()?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                _ => return Err(self.error_here("expected ',' or '}' in a map")),
            }
        }
    }
}

fn flush(nodes: &mut Vec<Node>, text: &mut String) {
    if !text.is_empty() {
        nodes.push(Node::Text(std::mem::take(text)));
    }
}

/// `#set` eats the spaces and tabs written just before it.
fn trim_line_indent(nodes: &mut [Node], text: &mut String) {
    if text.is_empty() {
        if let Some(Node::Text(last)) = nodes.last_mut() {
            last.truncate(last.trim_end_matches([' ', '\t']).len());
        }
    } else {
        text.truncate(text.trim_end_matches([' ', '\t']).len());
    }
}
