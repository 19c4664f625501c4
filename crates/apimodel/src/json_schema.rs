//! JSON Schema draft 4, as API Gateway validates request bodies against a
//! REST API's models.
//!
//! Why our own: a model is refused when it is created if its schema uses
//! anything this validator does not enforce, so what is stored is exactly
//! what is checked — fail closed, never a keyword silently ignored (AWS
//! refuses unknown keywords too: a schema with `example` is "Invalid model
//! schema specified"). A general-purpose validator would accept keywords it
//! then skips, and would be one more large dependency on the data plane.
//!
//! What is enforced: `type`, `enum`, `properties`, `required`,
//! `additionalProperties`, `patternProperties`, `minProperties`,
//! `maxProperties`, `dependencies`, `items` (one schema or a tuple),
//! `additionalItems`, `minItems`, `maxItems`, `uniqueItems`, `minLength`,
//! `maxLength`, `pattern`, `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `multipleOf`, `allOf`, `anyOf`, `oneOf`, `not`,
//! `format` (`date-time`, `email`, `hostname`, `ipv4`, `ipv6`, `uri`) and
//! `$ref`; `$schema`, `id`, `title`, `description` and `default` are
//! annotations. A `$ref` is `#` (the model itself), `#/definitions/{name}`
//! (the model's own definitions), or another model of the API:
//! `https://apigateway.amazonaws.com/restapis/{api}/models/{name}` (the
//! canonical form), or, as an OpenAPI document names them,
//! `#/components/schemas/{name}` and `#/definitions/{name}` when the model
//! has no such definition. A `pattern` is a Rust `regex`: one that needs
//! look-around or back-references is refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use serde_json::{Map, Value};

/// Why a schema is refused: the detail (kept for logs and tests; AWS
/// answers every refusal with the same words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError(pub String);

/// A parsed model schema, ready to validate instances.
#[derive(Debug, Clone)]
pub struct Schema {
    root: Arc<Node>,
    definitions: Arc<BTreeMap<String, Node>>,
}

/// How deep a schema may nest.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Array,
    Boolean,
    Integer,
    Null,
    Number,
    Object,
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DateTime,
    Email,
    Hostname,
    Ipv4,
    Ipv6,
    Uri,
}

#[derive(Debug, Clone)]
enum Reference {
    /// `#`: the model's own root.
    Root,
    /// `#/definitions/{name}` of the model.
    Definition(String),
    /// Another model of the API, by name.
    Model(String),
}

#[derive(Debug, Clone)]
enum Additional {
    Any,
    None,
    Schema(Box<Node>),
}

#[derive(Debug, Clone)]
enum Items {
    Any,
    Each(Box<Node>),
    Tuple(Vec<Node>),
}

#[derive(Debug, Clone)]
enum Dependency {
    Properties(Vec<String>),
    Schema(Box<Node>),
}

#[derive(Debug, Clone)]
struct Node {
    reference: Option<Reference>,
    types: Option<Vec<Type>>,
    enumeration: Option<Vec<Value>>,
    properties: Vec<(String, Node)>,
    pattern_properties: Vec<(Regex, Node)>,
    additional_properties: Additional,
    required: Vec<String>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    dependencies: Vec<(String, Dependency)>,
    items: Items,
    additional_items: Additional,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<Regex>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
    multiple_of: Option<f64>,
    all_of: Vec<Node>,
    any_of: Vec<Node>,
    one_of: Vec<Node>,
    not: Option<Box<Node>>,
    format: Option<Format>,
}

/// Keywords that annotate and constrain nothing.
const ANNOTATIONS: &[&str] = &["$schema", "id", "title", "description", "default"];

/// The prefix of a model reference in its canonical form.
const CANONICAL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

impl Schema {
    /// Parses a model's schema text, refusing what is not draft 4 or not
    /// enforced here.
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| SchemaError(format!("the schema is not JSON: {e}")))?;
        let Value::Object(object) = &value else {
            return Err(SchemaError("the schema must be a JSON object".to_owned()));
        };
        let mut definitions = BTreeMap::new();
        if let Some(defs) = object.get("definitions") {
            let Value::Object(defs) = defs else {
                return Err(SchemaError("definitions must be an object".to_owned()));
            };
            for (name, def) in defs {
                definitions.insert(name.clone(), node(def, 1)?);
            }
        }
        let root = node(&value, 0)?;
        Ok(Schema {
            root: Arc::new(root),
            definitions: Arc::new(definitions),
        })
    }

    /// The names of the other models this schema refers to (a
    /// `#/definitions/{name}` the model does not define names a model, as
    /// in a Swagger 2.0 document).
    pub fn model_references(&self) -> Vec<String> {
        let mut out = Vec::new();
        let locals = self.definitions.clone();
        let mut add = |r: &Reference| {
            let name = match r {
                Reference::Model(name) => name,
                Reference::Definition(name) if !locals.contains_key(name) => name,
                _ => return,
            };
            if !out.contains(name) {
                out.push(name.clone());
            }
        };
        collect_references(&self.root, &mut add);
        for def in self.definitions.values() {
            collect_references(def, &mut add);
        }
        out
    }

    /// Whether `instance` is valid; `models` finds the API's other models
    /// by name (a reference to one it does not find fails the instance).
    pub fn validates(&self, instance: &Value, models: &dyn Fn(&str) -> Option<Schema>) -> bool {
        let mut checker = Checker {
            models,
            depth: 0,
            budget: MAX_APPLICATIONS,
        };
        checker.valid(&self.root, self, instance)
    }
}

fn collect_references(node: &Node, visit: &mut dyn FnMut(&Reference)) {
    if let Some(r) = &node.reference {
        visit(r);
    }
    for (_, child) in &node.properties {
        collect_references(child, visit);
    }
    for (_, child) in &node.pattern_properties {
        collect_references(child, visit);
    }
    if let Additional::Schema(child) = &node.additional_properties {
        collect_references(child, visit);
    }
    if let Additional::Schema(child) = &node.additional_items {
        collect_references(child, visit);
    }
    match &node.items {
        Items::Any => {}
        Items::Each(child) => collect_references(child, visit),
        Items::Tuple(children) => children.iter().for_each(|c| collect_references(c, visit)),
    }
    for (_, dependency) in &node.dependencies {
        if let Dependency::Schema(child) = dependency {
            collect_references(child, visit);
        }
    }
    for child in node.all_of.iter().chain(&node.any_of).chain(&node.one_of) {
        collect_references(child, visit);
    }
    if let Some(child) = &node.not {
        collect_references(child, visit);
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, SchemaError> {
    Err(SchemaError(message.into()))
}

fn count(value: &Value, keyword: &str) -> Result<u64, SchemaError> {
    value
        .as_u64()
        .ok_or_else(|| SchemaError(format!("{keyword} must be a non-negative integer")))
}

fn number(value: &Value, keyword: &str) -> Result<f64, SchemaError> {
    value
        .as_f64()
        .ok_or_else(|| SchemaError(format!("{keyword} must be a number")))
}

fn boolean(value: &Value, keyword: &str) -> Result<bool, SchemaError> {
    value
        .as_bool()
        .ok_or_else(|| SchemaError(format!("{keyword} must be a boolean")))
}

fn schema_list(value: &Value, keyword: &str, depth: usize) -> Result<Vec<Node>, SchemaError> {
    match value {
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|item| node(item, depth + 1)).collect()
        }
        _ => refuse(format!("{keyword} must be a non-empty array of schemas")),
    }
}

fn unique_strings(value: &Value, keyword: &str) -> Result<Vec<String>, SchemaError> {
    let Value::Array(items) = value else {
        return refuse(format!("{keyword} must be an array of strings"));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(text) = item.as_str() else {
            return refuse(format!("{keyword} must be an array of strings"));
        };
        if out.iter().any(|seen| seen == text) {
            return refuse(format!("{keyword} has {text} twice"));
        }
        out.push(text.to_owned());
    }
    if out.is_empty() {
        return refuse(format!("{keyword} must not be empty"));
    }
    Ok(out)
}

fn pattern(value: &Value) -> Result<Regex, SchemaError> {
    let Some(text) = value.as_str() else {
        return refuse("pattern must be a string");
    };
    regex::RegexBuilder::new(text)
        .size_limit(1 << 20)
        .build()
        .map_err(|_| SchemaError(format!("pattern {text} is not supported")))
}

fn type_named(name: &str) -> Result<Type, SchemaError> {
    Ok(match name {
        "array" => Type::Array,
        "boolean" => Type::Boolean,
        "integer" => Type::Integer,
        "null" => Type::Null,
        "number" => Type::Number,
        "object" => Type::Object,
        "string" => Type::String,
        other => return refuse(format!("unknown type {other}")),
    })
}

fn additional(value: &Value, depth: usize) -> Result<Additional, SchemaError> {
    match value {
        Value::Bool(true) => Ok(Additional::Any),
        Value::Bool(false) => Ok(Additional::None),
        Value::Object(_) => Ok(Additional::Schema(Box::new(node(value, depth + 1)?))),
        _ => refuse("must be a boolean or a schema"),
    }
}

fn reference(text: &str) -> Result<Reference, SchemaError> {
    if text == "#" {
        return Ok(Reference::Root);
    }
    let unescape = |name: &str| name.replace("~1", "/").replace("~0", "~");
    if let Some(name) = text.strip_prefix("#/definitions/")
        && !name.is_empty()
        && !name.contains('/')
    {
        return Ok(Reference::Definition(unescape(name)));
    }
    if let Some(name) = text.strip_prefix("#/components/schemas/")
        && !name.is_empty()
        && !name.contains('/')
    {
        return Ok(Reference::Model(unescape(name)));
    }
    if let Some(rest) = text.strip_prefix(CANONICAL_PREFIX)
        && let Some((api, name)) = rest.split_once("/models/")
        && !api.is_empty()
        && !api.contains('/')
        && !name.is_empty()
        && !name.contains('/')
    {
        return Ok(Reference::Model(name.to_owned()));
    }
    refuse("Model reference must be in canonical form")
}

fn node(value: &Value, depth: usize) -> Result<Node, SchemaError> {
    if depth > MAX_DEPTH {
        return refuse("the schema nests too deeply");
    }
    let Value::Object(object) = value else {
        return refuse("a schema must be a JSON object");
    };
    let mut node = Node {
        reference: None,
        types: None,
        enumeration: None,
        properties: Vec::new(),
        pattern_properties: Vec::new(),
        additional_properties: Additional::Any,
        required: Vec::new(),
        min_properties: None,
        max_properties: None,
        dependencies: Vec::new(),
        items: Items::Any,
        additional_items: Additional::Any,
        min_items: None,
        max_items: None,
        unique_items: false,
        min_length: None,
        max_length: None,
        pattern: None,
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        multiple_of: None,
        all_of: Vec::new(),
        any_of: Vec::new(),
        one_of: Vec::new(),
        not: None,
        format: None,
    };
    for (keyword, value) in object {
        keyword_into(&mut node, keyword, value, depth)?;
    }
    if node.exclusive_minimum && node.minimum.is_none() {
        return refuse("exclusiveMinimum needs minimum");
    }
    if node.exclusive_maximum && node.maximum.is_none() {
        return refuse("exclusiveMaximum needs maximum");
    }
    Ok(node)
}

fn keyword_into(
    node: &mut Node,
    keyword: &str,
    value: &Value,
    depth: usize,
) -> Result<(), SchemaError> {
    match keyword {
        k if ANNOTATIONS.contains(&k) => {}
        // Read by the root (nested definitions are checked, not reachable).
        "definitions" => {
            if depth > 0 {
                let Value::Object(defs) = value else {
                    return refuse("definitions must be an object");
                };
                for def in defs.values() {
                    node_check(def, depth + 1)?;
                }
            }
        }
        "$ref" => {
            let Some(text) = value.as_str() else {
                return refuse("$ref must be a string");
            };
            node.reference = Some(reference(text)?);
        }
        "type" => {
            node.types = Some(match value {
                Value::String(name) => vec![type_named(name)?],
                Value::Array(names) if !names.is_empty() => {
                    let mut types = Vec::new();
                    for name in names {
                        let kind = type_named(name.as_str().unwrap_or_default())?;
                        if types.contains(&kind) {
                            return refuse("type lists a type twice");
                        }
                        types.push(kind);
                    }
                    types
                }
                _ => return refuse("type must be a type name or a list of them"),
            });
        }
        "enum" => {
            let Value::Array(values) = value else {
                return refuse("enum must be an array");
            };
            if values.is_empty() {
                return refuse("enum must not be empty");
            }
            for (i, a) in values.iter().enumerate() {
                if values.iter().skip(i + 1).any(|b| json_equal(a, b)) {
                    return refuse("enum values must be unique");
                }
            }
            node.enumeration = Some(values.clone());
        }
        "properties" => {
            let Value::Object(properties) = value else {
                return refuse("properties must be an object");
            };
            for (name, schema) in properties {
                node.properties
                    .push((name.clone(), node_at(schema, depth)?));
            }
        }
        "patternProperties" => {
            let Value::Object(properties) = value else {
                return refuse("patternProperties must be an object");
            };
            for (expression, schema) in properties {
                node.pattern_properties.push((
                    pattern(&Value::String(expression.clone()))?,
                    node_at(schema, depth)?,
                ));
            }
        }
        "additionalProperties" => node.additional_properties = additional(value, depth)?,
        "required" => node.required = unique_strings(value, keyword)?,
        "minProperties" => node.min_properties = Some(count(value, keyword)?),
        "maxProperties" => node.max_properties = Some(count(value, keyword)?),
        "dependencies" => {
            let Value::Object(dependencies) = value else {
                return refuse("dependencies must be an object");
            };
            for (name, dependency) in dependencies {
                let dependency = match dependency {
                    Value::Array(_) => Dependency::Properties(unique_strings(dependency, keyword)?),
                    _ => Dependency::Schema(Box::new(node_at(dependency, depth)?)),
                };
                node.dependencies.push((name.clone(), dependency));
            }
        }
        "items" => {
            node.items = match value {
                Value::Array(_) => Items::Tuple(schema_list(value, keyword, depth)?),
                _ => Items::Each(Box::new(node_at(value, depth)?)),
            };
        }
        "additionalItems" => node.additional_items = additional(value, depth)?,
        "minItems" => node.min_items = Some(count(value, keyword)?),
        "maxItems" => node.max_items = Some(count(value, keyword)?),
        "uniqueItems" => node.unique_items = boolean(value, keyword)?,
        "minLength" => node.min_length = Some(count(value, keyword)?),
        "maxLength" => node.max_length = Some(count(value, keyword)?),
        "pattern" => node.pattern = Some(pattern(value)?),
        "minimum" => node.minimum = Some(number(value, keyword)?),
        "maximum" => node.maximum = Some(number(value, keyword)?),
        "exclusiveMinimum" => node.exclusive_minimum = boolean(value, keyword)?,
        "exclusiveMaximum" => node.exclusive_maximum = boolean(value, keyword)?,
        "multipleOf" => {
            let divisor = number(value, keyword)?;
            if divisor <= 0.0 || !divisor.is_finite() {
                return refuse("multipleOf must be greater than 0");
            }
            node.multiple_of = Some(divisor);
        }
        "allOf" => node.all_of = schema_list(value, keyword, depth)?,
        "anyOf" => node.any_of = schema_list(value, keyword, depth)?,
        "oneOf" => node.one_of = schema_list(value, keyword, depth)?,
        "not" => node.not = Some(Box::new(node_at(value, depth)?)),
        "format" => {
            node.format = Some(match value.as_str() {
                Some("date-time") => Format::DateTime,
                Some("email") => Format::Email,
                Some("hostname") => Format::Hostname,
                Some("ipv4") => Format::Ipv4,
                Some("ipv6") => Format::Ipv6,
                Some("uri") => Format::Uri,
                _ => return refuse(format!("format {value} is not supported")),
            });
        }
        other => return refuse(format!("unsupported keyword {other}")),
    }
    Ok(())
}

fn node_at(value: &Value, depth: usize) -> Result<Node, SchemaError> {
    node(value, depth + 1)
}

fn node_check(value: &Value, depth: usize) -> Result<(), SchemaError> {
    node(value, depth).map(drop)
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

fn has_type(value: &Value, kind: Type) -> bool {
    match kind {
        Type::Array => value.is_array(),
        Type::Boolean => value.is_boolean(),
        Type::Integer => is_integer(value),
        Type::Null => value.is_null(),
        Type::Number => value.is_number(),
        Type::Object => value.is_object(),
        Type::String => value.is_string(),
    }
}

fn format_holds(format: Format, text: &str) -> bool {
    match format {
        Format::Ipv4 => text.parse::<std::net::Ipv4Addr>().is_ok(),
        Format::Ipv6 => text.parse::<std::net::Ipv6Addr>().is_ok(),
        Format::Email => text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !text.contains(' ')
        }),
        Format::Hostname => {
            !text.is_empty()
                && text.len() <= 253
                && text.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        }
        Format::Uri => text.split_once(':').is_some_and(|(scheme, rest)| {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        }),
        Format::DateTime => is_date_time(text),
    }
}

/// RFC 3339 `date-time`: `2024-01-31T12:30:00Z`, fractions and offsets.
fn is_date_time(text: &str) -> bool {
    static DATE_TIME: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let Some(shape) = DATE_TIME
        .get_or_init(|| {
            Regex::new(
                r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$",
            )
            .ok()
        })
        .as_ref()
    else {
        return false;
    };
    let Some(parts) = shape.captures(text) else {
        return false;
    };
    let field = |i: usize| {
        parts
            .get(i)
            .and_then(|m| m.as_str().parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (month, day, hour, minute, second) = (field(2), field(3), field(4), field(5), field(6));
    let offset_ok = parts.get(9).is_none() || (field(9) <= 23 && field(10) <= 59);
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60
        && offset_ok
}

struct Checker<'m> {
    models: &'m dyn Fn(&str) -> Option<Schema>,
    /// How deep the validation is nested now.
    depth: usize,
    /// How many schema applications are left: a schema whose combinators
    /// refer back to themselves could otherwise take exponential time.
    budget: usize,
}

/// How deeply one validation may nest (bounded stack), and how many
/// schema applications it may make (bounded time). Beyond either, the
/// instance is refused: fail closed.
const MAX_NESTING: usize = 200;
const MAX_APPLICATIONS: usize = 100_000;

impl Checker<'_> {
    fn valid(&mut self, node: &Node, doc: &Schema, value: &Value) -> bool {
        if self.depth >= MAX_NESTING || self.budget == 0 {
            return false;
        }
        self.depth += 1;
        self.budget -= 1;
        let valid = self.apply(node, doc, value);
        self.depth -= 1;
        valid
    }

    fn apply(&mut self, node: &Node, doc: &Schema, value: &Value) -> bool {
        // Draft 4: a `$ref` replaces its siblings.
        match &node.reference {
            None => self.valid_here(node, doc, value),
            Some(Reference::Root) => self.valid(&doc.root, doc, value),
            Some(Reference::Definition(name)) => match doc.definitions.get(name) {
                Some(target) => self.valid(target, doc, value),
                None => self.valid_model(name, value),
            },
            Some(Reference::Model(name)) => self.valid_model(name, value),
        }
    }

    /// Against another model of the API; one it does not find fails.
    fn valid_model(&mut self, name: &str, value: &Value) -> bool {
        match (self.models)(name) {
            Some(model) => {
                let root = model.root.clone();
                self.valid(&root, &model, value)
            }
            None => false,
        }
    }

    fn valid_child(&mut self, node: &Node, doc: &Schema, value: &Value) -> bool {
        self.valid(node, doc, value)
    }

    fn valid_here(&mut self, node: &Node, doc: &Schema, value: &Value) -> bool {
        if let Some(types) = &node.types
            && !types.iter().any(|kind| has_type(value, *kind))
        {
            return false;
        }
        if let Some(values) = &node.enumeration
            && !values.iter().any(|allowed| json_equal(allowed, value))
        {
            return false;
        }
        let valid = match value {
            Value::Object(object) => self.valid_object(node, doc, object),
            Value::Array(items) => self.valid_array(node, doc, items),
            Value::String(text) => valid_string(node, text),
            Value::Number(number) => number.as_f64().is_some_and(|n| valid_number(node, n)),
            Value::Bool(_) | Value::Null => true,
        };
        if !valid {
            return false;
        }
        if !node.all_of.iter().all(|n| self.valid_child(n, doc, value)) {
            return false;
        }
        if !node.any_of.is_empty() && !node.any_of.iter().any(|n| self.valid_child(n, doc, value)) {
            return false;
        }
        if !node.one_of.is_empty() {
            let matching = node
                .one_of
                .iter()
                .filter(|n| self.valid_child(n, doc, value))
                .count();
            if matching != 1 {
                return false;
            }
        }
        if let Some(not) = &node.not
            && self.valid_child(not, doc, value)
        {
            return false;
        }
        true
    }

    fn valid_object(&mut self, node: &Node, doc: &Schema, object: &Map<String, Value>) -> bool {
        let size = object.len() as u64;
        if node.min_properties.is_some_and(|min| size < min)
            || node.max_properties.is_some_and(|max| size > max)
        {
            return false;
        }
        if node.required.iter().any(|name| !object.contains_key(name)) {
            return false;
        }
        for (name, value) in object {
            let mut matched = false;
            if let Some((_, schema)) = node.properties.iter().find(|(n, _)| n == name) {
                matched = true;
                if !self.valid(schema, doc, value) {
                    return false;
                }
            }
            for (expression, schema) in &node.pattern_properties {
                if expression.is_match(name) {
                    matched = true;
                    if !self.valid(schema, doc, value) {
                        return false;
                    }
                }
            }
            if !matched {
                match &node.additional_properties {
                    Additional::Any => {}
                    Additional::None => return false,
                    Additional::Schema(schema) => {
                        if !self.valid(schema, doc, value) {
                            return false;
                        }
                    }
                }
            }
        }
        for (name, dependency) in &node.dependencies {
            if !object.contains_key(name) {
                continue;
            }
            let holds = match dependency {
                Dependency::Properties(names) => names.iter().all(|n| object.contains_key(n)),
                Dependency::Schema(schema) => {
                    self.valid(schema, doc, &Value::Object(object.clone()))
                }
            };
            if !holds {
                return false;
            }
        }
        true
    }

    fn valid_array(&mut self, node: &Node, doc: &Schema, items: &[Value]) -> bool {
        let size = items.len() as u64;
        if node.min_items.is_some_and(|min| size < min)
            || node.max_items.is_some_and(|max| size > max)
        {
            return false;
        }
        if node.unique_items {
            for (i, a) in items.iter().enumerate() {
                if items.iter().skip(i + 1).any(|b| json_equal(a, b)) {
                    return false;
                }
            }
        }
        match &node.items {
            Items::Any => true,
            Items::Each(schema) => items.iter().all(|item| self.valid(schema, doc, item)),
            Items::Tuple(schemas) => {
                for (i, item) in items.iter().enumerate() {
                    let ok = match schemas.get(i) {
                        Some(schema) => self.valid(schema, doc, item),
                        None => match &node.additional_items {
                            Additional::Any => true,
                            Additional::None => false,
                            Additional::Schema(schema) => self.valid(schema, doc, item),
                        },
                    };
                    if !ok {
                        return false;
                    }
                }
                true
            }
        }
    }
}

fn valid_string(node: &Node, text: &str) -> bool {
    let length = text.chars().count() as u64;
    if node.min_length.is_some_and(|min| length < min)
        || node.max_length.is_some_and(|max| length > max)
    {
        return false;
    }
    if let Some(expression) = &node.pattern
        && !expression.is_match(text)
    {
        return false;
    }
    node.format.is_none_or(|format| format_holds(format, text))
}

fn valid_number(node: &Node, n: f64) -> bool {
    if let Some(min) = node.minimum
        && (n < min || (node.exclusive_minimum && n == min))
    {
        return false;
    }
    if let Some(max) = node.maximum
        && (n > max || (node.exclusive_maximum && n == max))
    {
        return false;
    }
    if let Some(divisor) = node.multiple_of {
        let quotient = n / divisor;
        if !quotient.is_finite() || (quotient - quotient.round()).abs() > 1e-9 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(value: Value) -> Schema {
        Schema::parse(&value.to_string()).unwrap()
    }

    fn no_models(_: &str) -> Option<Schema> {
        None
    }

    #[test]
    fn an_object_schema_checks_types_required_members_and_bounds() {
        let pet = schema(json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Pet",
            "type": "object",
            "required": ["name", "price"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 5},
                "price": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                "kind": {"enum": ["cat", "dog"]}
            },
            "additionalProperties": false
        }));
        let ok = |v: Value| pet.validates(&v, &no_models);
        assert!(ok(json!({"name": "Rex", "price": 1.5})));
        assert!(ok(
            json!({"name": "Rex", "price": 1, "tags": ["a", "b"], "kind": "dog"})
        ));
        assert!(!ok(json!({"name": "Rex"})), "missing required");
        assert!(!ok(json!({"name": "", "price": 1})), "minLength");
        assert!(!ok(json!({"name": "Rexxxx", "price": 1})), "maxLength");
        assert!(!ok(json!({"name": "Rex", "price": 0})), "exclusiveMinimum");
        assert!(!ok(json!({"name": "Rex", "price": "1"})), "type");
        assert!(
            !ok(json!({"name": "Rex", "price": 1, "tags": ["a", "a"]})),
            "unique"
        );
        assert!(
            !ok(json!({"name": "Rex", "price": 1, "kind": "cow"})),
            "enum"
        );
        assert!(
            !ok(json!({"name": "Rex", "price": 1, "age": 3})),
            "additional"
        );
        assert!(!ok(json!([1])), "not an object");
    }

    #[test]
    fn references_reach_definitions_the_root_and_other_models() {
        let list = schema(json!({
            "type": "array",
            "items": {"$ref": "https://apigateway.amazonaws.com/restapis/a1/models/Pet"}
        }));
        let pet = schema(json!({
            "type": "object",
            "properties": {"owner": {"$ref": "#/definitions/Owner"}, "child": {"$ref": "#"}},
            "definitions": {"Owner": {"type": "string", "pattern": "^[a-z]+$"}}
        }));
        let models = |name: &str| (name == "Pet").then(|| pet.clone());
        assert_eq!(list.model_references(), vec!["Pet".to_owned()]);
        assert!(list.validates(
            &json!([{"owner": "ann", "child": {"owner": "bob"}}]),
            &models
        ));
        assert!(!list.validates(&json!([{"child": {"owner": "Bob"}}]), &models));
        assert!(
            !list.validates(&json!([{}]), &no_models),
            "an unknown model fails closed"
        );
        let looping = schema(json!({"$ref": "#"}));
        assert!(
            !looping.validates(&json!({}), &no_models),
            "a loop fails closed"
        );
    }

    #[test]
    fn combinators_integers_and_formats_are_enforced() {
        let s = schema(json!({
            "oneOf": [{"type": "integer", "multipleOf": 5}, {"type": "string", "format": "email"}],
            "not": {"enum": [10]}
        }));
        assert!(s.validates(&json!(15), &no_models));
        assert!(s.validates(&json!(15.0), &no_models));
        assert!(!s.validates(&json!(10), &no_models));
        assert!(!s.validates(&json!(7), &no_models));
        assert!(s.validates(&json!("a@b.c"), &no_models));
        assert!(!s.validates(&json!("ab.c"), &no_models));
        let when = schema(json!({"type": "string", "format": "date-time"}));
        assert!(when.validates(&json!("2024-02-29T23:59:59.5+01:00"), &no_models));
        assert!(!when.validates(&json!("2024-13-01T00:00:00Z"), &no_models));
    }

    #[test]
    fn what_is_not_enforced_is_refused_when_the_model_is_made() {
        for refused in [
            json!({"type": "string", "example": "x"}),
            json!({"type": "object", "required": []}),
            json!({"enum": ["A", "A"]}),
            json!({"type": "strange"}),
            json!({"type": "string", "format": "uuid"}),
            json!({"type": "string", "pattern": "(?=a)b"}),
            json!({"$ref": "http://example.com/schema"}),
            json!({"type": "number", "exclusiveMinimum": true}),
            json!({"properties": {"a": {"const": 1}}}),
            json!([]),
        ] {
            assert!(
                Schema::parse(&refused.to_string()).is_err(),
                "{refused} must be refused"
            );
        }
        assert!(Schema::parse("{not json").is_err());
    }
}
