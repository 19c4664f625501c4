//! Walks the syntax tree over one [`Inputs`], with every unit of work, byte
//! and iteration charged against the template's [`Limits`].
//!
//! Semantics are Velocity 1.7's: null and `false` are false; `#set` to null
//! leaves the variable as it was; `==` compares numbers by value, other
//! mixed types by their text; `+` concatenates when either side is a string;
//! division by zero, like any arithmetic on non-numbers, gives null; a
//! method or property that does not exist gives null, and a null reference
//! renders as written.

use std::collections::HashMap;
use std::sync::Arc;

use crate::jsonpath::{self, Selection};
use crate::parse::{BinaryOp, Expr, Node, Reference, Segment, line_column};
use crate::util;
use crate::value::{Map, Value};
use crate::{Inputs, Limits, Overrides, RenderError, Rendered};

/// What `$input.json` renders when the path matches nothing (our choice:
/// AWS does not document it).
const JSON_NO_MATCH: &str = "";

pub(crate) fn render(
    nodes: &[Node],
    source: &str,
    inputs: &Inputs,
    limits: &Limits,
) -> Result<Rendered, RenderError> {
    let mut renderer = Renderer {
        source,
        inputs,
        limits,
        vars: HashMap::new(),
        context: Value::Map(Arc::new(inputs.context.clone())),
        stage_variables: Value::map(inputs.stage_variables.iter().cloned()),
        body_json: None,
        params: None,
        regexes: HashMap::new(),
        out: String::new(),
        work: 0,
        iterations: 0,
        overrides: Overrides::default(),
    };
    renderer.nodes(nodes)?;
    Ok(Rendered {
        body: renderer.out,
        overrides: renderer.overrides,
    })
}

enum Flow {
    Normal,
    Break,
    Stop,
}

/// Where a reference chain stands while it is being resolved: the two
/// built-in objects have methods but no value of their own.
enum Cursor {
    Input,
    Util,
    Value(Value),
}

struct Renderer<'a> {
    source: &'a str,
    inputs: &'a Inputs,
    limits: &'a Limits,
    vars: HashMap<String, Value>,
    context: Value,
    stage_variables: Value,
    body_json: Option<Value>,
    params: Option<Value>,
    regexes: HashMap<String, regex::Regex>,
    out: String,
    work: u64,
    iterations: u64,
    overrides: Overrides,
}

impl Renderer<'_> {
    fn charge(&mut self, units: usize) -> Result<(), RenderError> {
        self.work = self
            .work
            .saturating_add(u64::try_from(units).unwrap_or(u64::MAX));
        if self.work > self.limits.max_work {
            return Err(RenderError::Limit("work"));
        }
        Ok(())
    }

    fn emit(&mut self, s: &str) -> Result<(), RenderError> {
        self.charge(s.len())?;
        if self.out.len() + s.len() > self.limits.max_output_bytes {
            return Err(RenderError::Limit("output size"));
        }
        self.out.push_str(s);
        Ok(())
    }

    /// A string a method or operator produced: charged and size-checked.
    fn string(&mut self, s: String) -> Result<Value, RenderError> {
        self.charge(s.len())?;
        if s.len() > self.limits.max_output_bytes {
            return Err(RenderError::Limit("output size"));
        }
        Ok(Value::String(s))
    }

    /// A list or map a template built: charged for its size, and refused
    /// when deeper than the depth limit or too large to ever print.
    fn built(&mut self, value: Value, elements: usize) -> Result<Value, RenderError> {
        self.charge(elements)?;
        self.check_size(&value)?;
        Ok(value)
    }

    fn check_size(&mut self, value: &Value) -> Result<(), RenderError> {
        if !matches!(value, Value::List(_) | Value::Map(_)) {
            return Ok(());
        }
        let max = u64::try_from(self.limits.max_output_bytes).unwrap_or(u64::MAX);
        let (depth, size) = value.measure(max).ok_or(RenderError::Limit("value size"))?;
        self.charge(usize::try_from(size).unwrap_or(usize::MAX))?;
        if depth > self.limits.max_value_depth {
            return Err(RenderError::Limit("value depth"));
        }
        Ok(())
    }

    /// A value's text, charged; a list or map is measured first, so that
    /// printing one built from shared parts stays bounded.
    fn text(&mut self, value: &Value) -> Result<String, RenderError> {
        self.check_size(value)?;
        let text = value.to_string();
        self.charge(text.len())?;
        Ok(text)
    }

    fn method_error(&self, at: &Reference, message: impl Into<String>) -> RenderError {
        let (line, column) = line_column(self.source, at.offset);
        RenderError::Method {
            line,
            column,
            message: message.into(),
        }
    }

    fn nodes(&mut self, nodes: &[Node]) -> Result<Flow, RenderError> {
        for node in nodes {
            self.charge(1)?;
            match node {
                Node::Text(text) => self.emit(text)?,
                Node::Ref(reference) => match self.resolve(reference)? {
                    Some(value) if !value.is_null() => {
                        let text = self.text(&value)?;
                        self.emit(&text)?;
                    }
                    _ if reference.quiet => {}
                    _ => self.emit(&reference.source)?,
                },
                Node::Set { target, value } => {
                    let value = self.eval(value)?;
                    if !value.is_null() {
                        self.assign(target, value)?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise;
                    for (condition, body) in branches {
                        if self.eval(condition)?.truthy() {
                            chosen = body;
                            break;
                        }
                    }
                    match self.nodes(chosen)? {
                        Flow::Normal => {}
                        flow => return Ok(flow),
                    }
                }
                Node::Foreach {
                    var,
                    iterable,
                    body,
                } => {
                    if let Flow::Stop = self.foreach(var, iterable, body)? {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn foreach(&mut self, var: &str, iterable: &Expr, body: &[Node]) -> Result<Flow, RenderError> {
        let items: Vec<Value> = match self.eval(iterable)? {
            Value::List(items) => items.iter().cloned().collect(),
            // Velocity iterates over a map's values.
            Value::Map(map) => map.values().cloned().collect(),
            _ => Vec::new(),
        };
        self.charge(items.len())?;
        let saved: Vec<(&str, Option<Value>)> = [var, "foreach", "velocityCount"]
            .into_iter()
            .map(|name| (name, self.vars.get(name).cloned()))
            .collect();
        let total = items.len();
        let mut flow = Flow::Normal;
        for (index, item) in items.into_iter().enumerate() {
            self.iterations += 1;
            if self.iterations > self.limits.max_iterations {
                return Err(RenderError::Limit("#foreach iterations"));
            }
            let count = i64::try_from(index + 1).unwrap_or(i64::MAX);
            let state = Value::map([
                ("count", Value::Int(count)),
                ("index", Value::Int(count - 1)),
                ("hasNext", Value::Bool(index + 1 < total)),
                ("first", Value::Bool(index == 0)),
                ("last", Value::Bool(index + 1 == total)),
            ]);
            self.vars.insert(var.to_owned(), item);
            self.vars.insert("foreach".to_owned(), state);
            self.vars
                .insert("velocityCount".to_owned(), Value::Int(count));
            match self.nodes(body)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        for (name, previous) in saved {
            match previous {
                Some(value) => self.vars.insert(name.to_owned(), value),
                None => self.vars.remove(name),
            };
        }
        Ok(flow)
    }

    /// The value a reference stands for; `None` when it resolves to nothing.
    fn resolve(&mut self, reference: &Reference) -> Result<Option<Value>, RenderError> {
        let mut cursor = match reference.root.as_str() {
            "input" => Cursor::Input,
            "util" => Cursor::Util,
            "context" => Cursor::Value(self.context.clone()),
            "stageVariables" => Cursor::Value(self.stage_variables.clone()),
            name => match self.vars.get(name) {
                Some(value) => Cursor::Value(value.clone()),
                None => return Ok(None),
            },
        };
        for (at, segment) in reference.chain.iter().enumerate() {
            self.charge(1)?;
            let next = match (cursor, segment) {
                (Cursor::Input, Segment::Property(name)) if name == "body" => {
                    Some(Value::String(self.inputs.body.clone()))
                }
                (Cursor::Input, Segment::Method(name, args)) => {
                    let args = self.eval_args(args)?;
                    self.input_method(reference, name, &args)?
                }
                (Cursor::Util, Segment::Method(name, args)) => {
                    let args = self.eval_args(args)?;
                    self.util_method(reference, name, &args)?
                }
                (Cursor::Input | Cursor::Util, _) => None,
                (Cursor::Value(value), Segment::Property(name)) => property(&value, name),
                (Cursor::Value(value), Segment::Index(index)) => {
                    let index = self.eval(index)?;
                    self.index(reference, &value, &index)?
                }
                (Cursor::Value(value), Segment::Method(name, args)) => {
                    let args = self.eval_args(args)?;
                    self.value_method(reference, at, value, name, &args)?
                }
            };
            match next {
                Some(value) if !value.is_null() => cursor = Cursor::Value(value),
                _ => return Ok(None),
            }
        }
        Ok(match cursor {
            Cursor::Value(value) => {
                // Reading a string copies it: charge the bytes.
                if let Value::String(s) = &value {
                    self.charge(s.len())?;
                }
                Some(value)
            }
            Cursor::Input | Cursor::Util => None,
        })
    }

    fn eval_args(&mut self, args: &[Expr]) -> Result<Vec<Value>, RenderError> {
        args.iter().map(|arg| self.eval(arg)).collect()
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, RenderError> {
        self.charge(1)?;
        Ok(match expr {
            Expr::Literal(value) => value.clone(),
            Expr::Interpolated(nodes) => {
                let outer = std::mem::take(&mut self.out);
                let flow = self.nodes(nodes);
                let inner = std::mem::replace(&mut self.out, outer);
                flow?;
                Value::String(inner)
            }
            Expr::Ref(reference) => self.resolve(reference)?.unwrap_or(Value::Null),
            Expr::List(items) => {
                let values = items
                    .iter()
                    .map(|item| self.eval(item))
                    .collect::<Result<Vec<_>, _>>()?;
                let len = values.len();
                self.built(Value::list(values), len)?
            }
            Expr::Map(entries) => {
                let mut map = Map::new();
                for (key, value) in entries {
                    let key = self.eval(key)?.to_string();
                    let value = self.eval(value)?;
                    map.insert(key, value);
                }
                let len = map.len();
                self.built(Value::from(map), len)?
            }
            Expr::Range(from, to) => {
                let (from, to) = (self.eval(from)?, self.eval(to)?);
                match (as_int(&from), as_int(&to)) {
                    (Some(from), Some(to)) => {
                        let len = from.abs_diff(to).saturating_add(1);
                        if len > self.limits.max_iterations {
                            return Err(RenderError::Limit("range size"));
                        }
                        self.charge(usize::try_from(len).unwrap_or(usize::MAX))?;
                        let items: Vec<Value> = if from <= to {
                            (from..=to).map(Value::Int).collect()
                        } else {
                            (to..=from).rev().map(Value::Int).collect()
                        };
                        Value::list(items)
                    }
                    _ => Value::Null,
                }
            }
            Expr::Not(inner) => Value::Bool(!self.eval(inner)?.truthy()),
            Expr::Negate(inner) => match self.eval(inner)? {
                Value::Int(i) => i
                    .checked_neg()
                    .map_or(Value::Float(-(i as f64)), Value::Int),
                Value::Float(x) => Value::Float(-x),
                _ => Value::Null,
            },
            Expr::Binary(op, left, right) => self.binary(*op, left, right)?,
        })
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr) -> Result<Value, RenderError> {
        let left = self.eval(left)?;
        match op {
            BinaryOp::Or if left.truthy() => return Ok(Value::Bool(true)),
            BinaryOp::And if !left.truthy() => return Ok(Value::Bool(false)),
            BinaryOp::Or | BinaryOp::And => return Ok(Value::Bool(self.eval(right)?.truthy())),
            _ => {}
        }
        let right = self.eval(right)?;
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            self.check_size(&left)?;
            self.check_size(&right)?;
        }
        Ok(match op {
            BinaryOp::Eq => Value::Bool(equals(&left, &right)),
            BinaryOp::Ne => Value::Bool(!equals(&left, &right)),
            BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => {
                let order = as_f64(&left)
                    .zip(as_f64(&right))
                    .and_then(|(a, b)| a.partial_cmp(&b));
                Value::Bool(order.is_some_and(|o| match op {
                    BinaryOp::Lt => o.is_lt(),
                    BinaryOp::Gt => o.is_gt(),
                    BinaryOp::Le => o.is_le(),
                    _ => o.is_ge(),
                }))
            }
            BinaryOp::Add
                if matches!(left, Value::String(_)) || matches!(right, Value::String(_)) =>
            {
                if left.is_null() || right.is_null() {
                    Value::Null
                } else {
                    let (left, right) = (self.text(&left)?, self.text(&right)?);
                    self.string(left + &right)?
                }
            }
            _ => arithmetic(op, &left, &right),
        })
    }

    fn index(
        &mut self,
        at: &Reference,
        value: &Value,
        index: &Value,
    ) -> Result<Option<Value>, RenderError> {
        Ok(match (value, index) {
            (Value::List(items), _) => {
                let Some(i) = as_int(index) else {
                    return Ok(None);
                };
                Some(self.list_get(at, items, i)?)
            }
            (Value::Map(map), key) => map.get(&key.to_string()).cloned(),
            _ => None,
        })
    }

    fn list_get(&self, at: &Reference, items: &[Value], i: i64) -> Result<Value, RenderError> {
        usize::try_from(i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .ok_or_else(|| self.method_error(at, format!("Index: {i}, Size: {}", items.len())))
    }

    fn input_method(
        &mut self,
        at: &Reference,
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        match (name, args) {
            ("params", []) => Ok(Some(self.params())),
            ("params", [wanted]) => {
                let wanted = wanted.to_string();
                let inputs = self.inputs;
                let found = [&inputs.path, &inputs.querystring, &inputs.header]
                    .into_iter()
                    .find_map(|params| params.iter().find(|(k, _)| *k == wanted));
                // A parameter the request lacks is an empty string on AWS.
                Ok(Some(Value::String(
                    found.map(|(_, v)| v.clone()).unwrap_or_default(),
                )))
            }
            ("json", [path]) => Ok(Some(match self.select(at, &path.to_string())? {
                Selection::One(Some(value)) => {
                    self.check_size(&value)?;
                    let text = value.to_json();
                    self.string(text)?
                }
                Selection::One(None) => Value::String(JSON_NO_MATCH.to_owned()),
                Selection::Many(values) => {
                    let all = Value::list(values);
                    self.check_size(&all)?;
                    let text = all.to_json();
                    self.string(text)?
                }
            })),
            ("path", [path]) => Ok(match self.select(at, &path.to_string())? {
                Selection::One(value) => value,
                Selection::Many(values) => Some(self.built(Value::list(values), 0)?),
            }),
            _ => Ok(None),
        }
    }

    /// `$input.params()`: path, header and querystring maps, in the order
    /// AWS's documented output lists them.
    fn params(&mut self) -> Value {
        let inputs = self.inputs;
        self.params
            .get_or_insert_with(|| {
                Value::map([
                    ("path", Value::map(inputs.path.iter().cloned())),
                    ("header", Value::map(inputs.header.iter().cloned())),
                    (
                        "querystring",
                        Value::map(inputs.querystring.iter().cloned()),
                    ),
                ])
            })
            .clone()
    }

    fn select(&mut self, at: &Reference, path: &str) -> Result<Selection, RenderError> {
        let steps = jsonpath::compile(path).map_err(|e| self.method_error(at, e))?;
        let root = self.body_json()?;
        let mut visits = 0;
        let budget = self.limits.max_work.saturating_sub(self.work);
        let selection = jsonpath::select(&root, &steps, &mut visits, budget)
            .map_err(|()| RenderError::Limit("work"))?;
        self.charge(usize::try_from(visits).unwrap_or(usize::MAX))?;
        Ok(selection)
    }

    /// The body as JSON, parsed once per rendering; an empty body is `{}`.
    fn body_json(&mut self) -> Result<Value, RenderError> {
        if let Some(value) = &self.body_json {
            return Ok(value.clone());
        }
        self.charge(self.inputs.body.len())?;
        let value = if self.inputs.body.trim().is_empty() {
            Value::from(Map::new())
        } else {
            Value::from_json(&self.inputs.body)
                .map_err(|e| RenderError::InvalidBody(e.to_string()))?
        };
        self.body_json = Some(value.clone());
        Ok(value)
    }

    fn util_method(
        &mut self,
        at: &Reference,
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        let [arg] = args else {
            return Ok(None);
        };
        if arg.is_null() {
            return Ok(None);
        }
        let text = self.text(arg)?;
        let result = match name {
            "escapeJavaScript" => util::escape_javascript(&text),
            "urlEncode" => util::url_encode(&text),
            "urlDecode" => util::url_decode(&text).map_err(|e| self.method_error(at, e))?,
            "base64Encode" => util::base64_encode(&text),
            "base64Decode" => util::base64_decode(&text).map_err(|e| self.method_error(at, e))?,
            "parseJson" => {
                return Value::from_json(&text)
                    .map(Some)
                    .map_err(|e| self.method_error(at, format!("parseJson: {e}")));
            }
            _ => return Ok(None),
        };
        self.string(result).map(Some)
    }

    fn regex(&mut self, at: &Reference, pattern: &str) -> Result<regex::Regex, RenderError> {
        if let Some(re) = self.regexes.get(pattern) {
            return Ok(re.clone());
        }
        self.charge(pattern.len().saturating_mul(64))?;
        let re = util::regex(pattern).map_err(|e| self.method_error(at, e))?;
        self.regexes.insert(pattern.to_owned(), re.clone());
        Ok(re)
    }

    /// A method on a value. `add` and `put` change the value; when the
    /// receiver is a variable or a property path from one, the change is
    /// written back there.
    fn value_method(
        &mut self,
        at: &Reference,
        segment: usize,
        receiver: Value,
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        if let ("add" | "put", Value::List(_) | Value::Map(_)) = (name, &receiver) {
            let mut changed = receiver;
            let result = mutate(&mut changed, name, args);
            if result.is_some() {
                let changed = self.built(changed, 1)?;
                self.write_back(at, segment, changed)?;
            }
            return Ok(result);
        }
        match receiver {
            Value::String(s) => self.string_method(at, &s, name, args),
            Value::List(items) => self.list_method(at, &items, name, args),
            Value::Map(map) => {
                if name == "toString" {
                    return self.text(&Value::Map(map)).map(|t| Some(Value::String(t)));
                }
                Ok(map_method(&map, name, args))
            }
            Value::Int(_) | Value::Float(_) => self.number_method(at, &receiver, name, args),
            Value::Bool(_) | Value::Null => Ok(match (name, args) {
                ("toString", []) => Some(Value::String(receiver.to_string())),
                ("equals", [other]) => Some(Value::Bool(equals(&receiver, other))),
                _ => None,
            }),
        }
    }

    /// Stores a changed receiver back where the chain read it, if the chain
    /// up to `segment` is a variable followed by property names.
    fn write_back(
        &mut self,
        at: &Reference,
        segment: usize,
        value: Value,
    ) -> Result<(), RenderError> {
        let mut path = Vec::new();
        for step in at.chain.get(..segment).unwrap_or(&[]) {
            match step {
                Segment::Property(name) => path.push(name.clone()),
                _ => return Ok(()),
            }
        }
        if matches!(at.root.as_str(), "input" | "util" | "stageVariables") {
            return Ok(());
        }
        self.store(&at.root, &path, value)
    }

    fn string_method(
        &mut self,
        at: &Reference,
        s: &str,
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        let text_args = args
            .iter()
            .map(|arg| self.text(arg))
            .collect::<Result<Vec<String>, _>>()?;
        let strs: Vec<&str> = text_args.iter().map(String::as_str).collect();
        let chars = || s.chars().count();
        let result = match (name, strs.as_slice()) {
            ("length", []) => Value::Int(i64::try_from(chars()).unwrap_or(i64::MAX)),
            ("isEmpty", []) => Value::Bool(s.is_empty()),
            ("toString", []) => Value::String(s.to_owned()),
            ("trim", []) => Value::String(s.trim_matches(|c: char| c <= ' ').to_owned()),
            ("toLowerCase", []) => self.string(s.to_lowercase())?,
            ("toUpperCase", []) => self.string(s.to_uppercase())?,
            ("contains", [needle]) => Value::Bool(s.contains(needle)),
            ("startsWith", [prefix]) => Value::Bool(s.starts_with(prefix)),
            ("endsWith", [suffix]) => Value::Bool(s.ends_with(suffix)),
            ("equals", [_]) => Value::Bool(args.first().is_some_and(|a| a.as_str() == Some(s))),
            ("equalsIgnoreCase", [other]) => Value::Bool(s.to_lowercase() == other.to_lowercase()),
            ("indexOf", [needle]) => char_index(s, s.find(needle)),
            ("lastIndexOf", [needle]) => char_index(s, s.rfind(needle)),
            ("concat", [other]) => self.string(format!("{s}{other}"))?,
            ("replace", [from, to]) => {
                let estimate = if from.is_empty() {
                    s.len() + (chars() + 1) * to.len()
                } else {
                    s.len().saturating_mul(to.len().max(1))
                };
                self.charge(estimate.min(s.len() + to.len() * 16))?;
                if estimate > self.limits.max_output_bytes && from.is_empty() {
                    return Err(RenderError::Limit("output size"));
                }
                self.string(s.replace(from, to))?
            }
            ("replaceAll" | "replaceFirst", [pattern, replacement]) => {
                let re = self.regex(at, pattern)?;
                let replacement = util::java_replacement(replacement);
                self.charge(s.len())?;
                let replaced = if name == "replaceAll" {
                    re.replace_all(s, replacement.as_str())
                } else {
                    re.replace(s, replacement.as_str())
                };
                self.string(replaced.into_owned())?
            }
            ("matches", [pattern]) => {
                let re = self.regex(at, &format!("^(?:{pattern})$"))?;
                self.charge(s.len())?;
                Value::Bool(re.is_match(s))
            }
            ("split", [pattern]) => {
                let re = self.regex(at, pattern)?;
                self.charge(s.len())?;
                let parts = util::java_split(&re, s);
                if u64::try_from(parts.len()).unwrap_or(u64::MAX) > self.limits.max_iterations {
                    return Err(RenderError::Limit("split size"));
                }
                self.charge(parts.len())?;
                Value::list(parts.into_iter().map(Value::String))
            }
            ("charAt", [_]) => {
                let i = args.first().and_then(as_int).unwrap_or(-1);
                let c = usize::try_from(i).ok().and_then(|i| s.chars().nth(i));
                match c {
                    Some(c) => Value::String(c.to_string()),
                    None => {
                        return Err(
                            self.method_error(at, format!("String index out of range: {i}"))
                        );
                    }
                }
            }
            ("substring", [_] | [_, _]) => {
                let len = chars();
                let begin = args.first().and_then(as_int);
                let end = match args.get(1) {
                    Some(end) => as_int(end),
                    None => i64::try_from(len).ok(),
                };
                let range = begin.zip(end).and_then(|(b, e)| {
                    let (b, e) = (usize::try_from(b).ok()?, usize::try_from(e).ok()?);
                    (b <= e && e <= len).then_some((b, e))
                });
                let Some((b, e)) = range else {
                    return Err(self
                        .method_error(at, format!("begin {begin:?}, end {end:?}, length {len}")));
                };
                Value::String(s.chars().skip(b).take(e - b).collect())
            }
            _ => return Ok(None),
        };
        Ok(Some(result))
    }

    fn list_method(
        &mut self,
        at: &Reference,
        items: &[Value],
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        let size = || Value::Int(i64::try_from(items.len()).unwrap_or(i64::MAX));
        Ok(Some(match (name, args) {
            ("size" | "count", []) => size(),
            ("isEmpty", []) => Value::Bool(items.is_empty()),
            ("get", [index]) => match as_int(index) {
                Some(i) => self.list_get(at, items, i)?,
                None => return Ok(None),
            },
            ("contains", [wanted]) => {
                self.check_size(&Value::List(Arc::new(items.to_vec())))?;
                Value::Bool(items.iter().any(|item| equals(item, wanted)))
            }
            ("indexOf", [wanted]) => {
                self.check_size(&Value::List(Arc::new(items.to_vec())))?;
                let found = items.iter().position(|item| equals(item, wanted));
                Value::Int(found.and_then(|i| i64::try_from(i).ok()).unwrap_or(-1))
            }
            ("toString", []) => {
                let text = self.text(&Value::List(Arc::new(items.to_vec())))?;
                self.string(text)?
            }
            _ => return Ok(None),
        }))
    }

    fn number_method(
        &mut self,
        at: &Reference,
        number: &Value,
        name: &str,
        args: &[Value],
    ) -> Result<Option<Value>, RenderError> {
        let parse_failure =
            |text: &str| self.method_error(at, format!("For input string: \"{text}\""));
        Ok(Some(match (name, args) {
            ("toString", []) => Value::String(number.to_string()),
            ("intValue" | "longValue", []) => match number {
                Value::Float(x) => Value::Int(*x as i64),
                other => other.clone(),
            },
            ("doubleValue", []) => as_f64(number).map_or(Value::Null, Value::Float),
            ("equals", [other]) => Value::Bool(equals(number, other)),
            // `$zero.parseInt('12')`: a static method called on an instance.
            ("parseInt" | "parseLong" | "valueOf", [text]) => {
                let text = text.to_string();
                match text.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => return Err(parse_failure(&text)),
                }
            }
            ("parseDouble", [text]) => {
                let text = text.to_string();
                match text.trim().parse::<f64>() {
                    Ok(x) => Value::Float(x),
                    Err(_) => return Err(parse_failure(&text)),
                }
            }
            _ => return Ok(None),
        }))
    }

    /// `#set($a = …)` or `#set($a.b.c = …)`.
    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), RenderError> {
        let mut path = Vec::new();
        for segment in &target.chain {
            match segment {
                Segment::Property(name) => path.push(name.clone()),
                Segment::Index(index) => path.push(self.eval(index)?.to_string()),
                Segment::Method(..) => return Ok(()),
            }
        }
        if target.root == "context" {
            self.record_override(&path, &value)?;
        }
        self.store(&target.root, &path, value)
    }

    /// Writes `value` at `root.path…`. A missing or non-map step on the way
    /// makes it a no-op, as Velocity logs and moves on; under `$context`
    /// the override maps are created as needed so the template can read its
    /// overrides back.
    fn store(&mut self, root: &str, path: &[String], value: Value) -> Result<(), RenderError> {
        if !path.is_empty() {
            // The value lands `path.len()` levels down: measure it there.
            let mut wrapped = value.clone();
            for _ in path {
                wrapped = Value::list([wrapped]);
            }
            self.check_size(&wrapped)?;
        }
        let Some((last, parents)) = path.split_last() else {
            if !matches!(root, "input" | "util" | "context" | "stageVariables") {
                self.vars.insert(root.to_owned(), value);
            }
            return Ok(());
        };
        let create = root == "context";
        let slot = match root {
            "context" => &mut self.context,
            "input" | "util" | "stageVariables" => return Ok(()),
            name => match self.vars.get_mut(name) {
                Some(slot) => slot,
                None => return Ok(()),
            },
        };
        let mut current = slot;
        for key in parents {
            let Value::Map(map) = current else {
                return Ok(());
            };
            let map = Arc::make_mut(map);
            if map.get(key).is_none() {
                if !create {
                    return Ok(());
                }
                map.insert(key.clone(), Value::from(Map::new()));
            }
            let Some(next) = map.get_mut(key) else {
                return Ok(());
            };
            current = next;
        }
        match current {
            Value::Map(map) => {
                Arc::make_mut(map).insert(last.clone(), value);
            }
            Value::List(items) => {
                if let Some(slot) = last
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| Arc::make_mut(items).get_mut(i))
                {
                    *slot = value;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn record_override(&mut self, path: &[String], value: &Value) -> Result<(), RenderError> {
        let text = value.to_string();
        let overrides = &mut self.overrides;
        let (list, name) = match path {
            [kind, status] if kind == "responseOverride" && status == "status" => {
                if overrides.response_status.is_some() {
                    return Err(RenderError::OverrideRepeated(
                        "$context.responseOverride.status".into(),
                    ));
                }
                overrides.response_status = Some(text);
                return Ok(());
            }
            [kind, group, name] => {
                let list = match (kind.as_str(), group.as_str()) {
                    ("requestOverride", "header") => &mut overrides.request_header,
                    ("requestOverride", "path") => &mut overrides.request_path,
                    ("requestOverride", "querystring") => &mut overrides.request_querystring,
                    ("responseOverride", "header") => &mut overrides.response_header,
                    _ => return Ok(()),
                };
                (list, name)
            }
            _ => return Ok(()),
        };
        if list.iter().any(|(k, _)| k == name) {
            return Err(RenderError::OverrideRepeated(format!(
                "$context.{}",
                path.join(".")
            )));
        }
        list.push((name.clone(), text));
        Ok(())
    }
}

fn property(value: &Value, name: &str) -> Option<Value> {
    match value {
        Value::Map(map) => map.get(name).cloned(),
        // Velocity's introspection finds `isEmpty()` for `.empty`.
        Value::List(items) if name == "empty" => Some(Value::Bool(items.is_empty())),
        Value::String(s) if name == "empty" => Some(Value::Bool(s.is_empty())),
        _ => None,
    }
}

fn map_method(map: &Map, name: &str, args: &[Value]) -> Option<Value> {
    let size = i64::try_from(map.len()).unwrap_or(i64::MAX);
    Some(match (name, args) {
        ("get", [key]) => map.get(&key.to_string()).cloned().unwrap_or(Value::Null),
        ("keySet", []) => Value::list(map.keys().map(Value::from)),
        ("values", []) => Value::list(map.values().cloned()),
        ("entrySet", []) => Value::list(
            map.iter()
                .map(|(k, v)| Value::map([("key", Value::from(k)), ("value", v.clone())])),
        ),
        ("size", []) => Value::Int(size),
        ("isEmpty", []) => Value::Bool(map.is_empty()),
        ("containsKey", [key]) => Value::Bool(map.get(&key.to_string()).is_some()),
        _ => return None,
    })
}

/// `add` on a list (returns `true`) and `put` on a map (returns the
/// previous value, or null).
fn mutate(receiver: &mut Value, name: &str, args: &[Value]) -> Option<Value> {
    match (receiver, name, args) {
        (Value::List(items), "add", [item]) => {
            Arc::make_mut(items).push(item.clone());
            Some(Value::Bool(true))
        }
        (Value::Map(map), "put", [key, value]) => Some(
            Arc::make_mut(map)
                .insert(key.to_string(), value.clone())
                .unwrap_or(Value::Null),
        ),
        _ => None,
    }
}

fn char_index(s: &str, byte: Option<usize>) -> Value {
    let index = byte.map_or(-1, |b| {
        i64::try_from(s.get(..b).map_or(0, |p| p.chars().count())).unwrap_or(i64::MAX)
    });
    Value::Int(index)
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// Velocity 1.7's `==`: numbers by value, same kinds by Java `equals`,
/// different kinds by their text; null equals only null.
fn equals(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            as_f64(left) == as_f64(right)
        }
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::List(_), Value::List(_)) | (Value::Map(_), Value::Map(_)) => left == right,
        _ => left.to_string() == right.to_string(),
    }
}

fn arithmetic(op: BinaryOp, left: &Value, right: &Value) -> Value {
    if let (Value::Int(a), Value::Int(b)) = (left, right) {
        let (a, b) = (*a, *b);
        let exact = match op {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Sub => a.checked_sub(b),
            BinaryOp::Mul => a.checked_mul(b),
            BinaryOp::Div if b == 0 => return Value::Null,
            BinaryOp::Div => a.checked_div(b),
            BinaryOp::Rem if b == 0 => return Value::Null,
            BinaryOp::Rem => a.checked_rem(b),
            _ => return Value::Null,
        };
        if let Some(result) = exact {
            return Value::Int(result);
        }
    }
    let (Some(a), Some(b)) = (as_f64(left), as_f64(right)) else {
        return Value::Null;
    };
    match op {
        BinaryOp::Add => Value::Float(a + b),
        BinaryOp::Sub => Value::Float(a - b),
        BinaryOp::Mul => Value::Float(a * b),
        BinaryOp::Div | BinaryOp::Rem if b == 0.0 => Value::Null,
        BinaryOp::Div => Value::Float(a / b),
        BinaryOp::Rem => Value::Float(a % b),
        _ => Value::Null,
    }
}
