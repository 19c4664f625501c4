//! AWS Query protocol requests: form decoding, flattening rules, typed
//! accessors and AWS's validation-error text.
//!
//! # Why the parameters stay flat
//!
//! A Query request is a flat list of `name=value` pairs whose *names* encode
//! structure: `Tags.member.1.Key` is the `Key` field of the first element of
//! the `Tags` list, `Attributes.entry.2.value` the value of the second map
//! entry, `Nested.RecursiveArg.StringArg` a field of a nested structure. We
//! keep the pairs in one sorted map and interpret names only when an
//! operation asks for a member, through a [`Scope`] (a structure at some name
//! prefix). That way the decoder needs no model, unknown parameters are
//! ignored exactly as AWS ignores them, and every operation reads its input
//! the same way the model describes it.
//!
//! # Decisions
//!
//! * **Sources.** Parameters come from the URL query string and the form body
//!   (STS also accepts `GET /?Action=…`). They are merged; a name given twice
//!   — in one source or across both — with *different* values is rejected
//!   (`InvalidQueryParameter`, 400) instead of silently picking one, so no two
//!   parts of the gateway can read different values from one request. The
//!   same value given twice is harmless and collapses.
//! * **Size.** At most [`MAX_PARAMETERS`] parameters, counted before any
//!   is decoded: a 10 MiB body of 2.6 million `a=b&` once cost about 40
//!   times its size in memory. The request's signature is checked before
//!   the parameters are decoded at all (as AWS checks it first).
//! * **Lists.** `Name.member.N` (1-based; wrapped lists may use another member
//!   name, e.g. `item`) or `Name.N` for flattened lists. Items come back in
//!   index order; gaps are tolerated; indices that are not canonical positive
//!   decimals (`0`, `01`, `x`) do not address an item and are ignored like any
//!   other unknown parameter. `Name=` with no members is an empty list, which
//!   differs from an absent one.
//! * **Maps.** `Name.entry.N.key` / `Name.entry.N.value` (or `Name.N.key`
//!   when flattened; key and value names can be renamed).
//! * **Scalars.** Booleans are `true`/`false` (any case); numbers are decimal
//!   (`NaN`, `Infinity`, `-Infinity` for floats); timestamps ISO 8601; blobs
//!   base64. A value that does not parse is a `ValidationError` in AWS's
//!   constraint format, with the phrase `Member must be a valid <type>` — the
//!   wording is ours, AWS does not document one.
//! * **Dispatch.** No `Action` (or an empty one) is `MissingAction`; an
//!   unknown action or a `Version` other than the service's is
//!   `InvalidAction` `Could not find operation <A> for version <V>`, with
//!   `NO_VERSION_SPECIFIED` standing in for a missing version.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine as _;

use crate::error::AwsError;
use crate::form;
use crate::time::Timestamp;

/// What [`QueryParams::operation`] reports as the version when the request
/// carried none.
pub const NO_VERSION_SPECIFIED: &str = "NO_VERSION_SPECIFIED";

/// The most parameters one request may carry, query string and body
/// together. IAM's and STS's largest modelled inputs need a few hundred
/// (50 tags are 100 parameters; simulations send lists of actions and
/// resources), so this only bounds what a request can make the decoder
/// hold: at most this many entries, whose text is at most the body's.
pub const MAX_PARAMETERS: usize = 10_000;

/// The decoded parameters of one Query request, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    map: BTreeMap<String, String>,
}

impl QueryParams {
    /// Decodes and merges the URL query string (without the `?`) and the form
    /// body. Either may be empty.
    ///
    /// The parameters are counted before anything is decoded, and a request
    /// with more than [`MAX_PARAMETERS`] is refused at once; the pairs then
    /// go straight into the map, never into a list first. Decoding thus
    /// holds at most the decoded text (no more than the input) plus one map
    /// entry per distinct name, whatever the request.
    pub fn decode(query_string: &[u8], body: &[u8]) -> Result<Self, AwsError> {
        let count = form::count_pairs(query_string).saturating_add(form::count_pairs(body));
        if count > MAX_PARAMETERS {
            return Err(too_many_parameters());
        }
        let mut params = Self::default();
        for pair in form::pairs(query_string).chain(form::pairs(body)) {
            let (name, value) = pair?;
            params.insert(name, value)?;
        }
        Ok(params)
    }

    /// Builds the map from decoded pairs, rejecting a name that appears with
    /// two different values, or more than [`MAX_PARAMETERS`] pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, AwsError> {
        let mut params = Self::default();
        for (count, (name, value)) in pairs.into_iter().enumerate() {
            if count >= MAX_PARAMETERS {
                return Err(too_many_parameters());
            }
            params.insert(name, value)?;
        }
        Ok(params)
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), AwsError> {
        match self.map.get(&name) {
            Some(existing) if existing != &value => Err(AwsError::invalid_query_parameter(
                format!("The parameter {name} is specified more than once with different values."),
            )),
            Some(_) => Ok(()),
            None => {
                self.map.insert(name, value);
                Ok(())
            }
        }
    }

    /// The raw value of one parameter, by its full flattened name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// All parameters in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Re-encodes the parameters as a form body (RFC 3986 escapes, name order).
    pub fn to_form(&self) -> String {
        form::encode_form(self.iter())
    }

    /// The operation's input structure: the top-level scope.
    pub fn root(&self) -> Scope<'_> {
        Scope {
            params: self,
            prefix: String::new(),
            path: String::new(),
        }
    }

    /// The `Action` parameter, if non-empty.
    pub fn action(&self) -> Option<&str> {
        self.get("Action").filter(|a| !a.is_empty())
    }

    /// The `Version` parameter, if non-empty.
    pub fn version(&self) -> Option<&str> {
        self.get("Version").filter(|v| !v.is_empty())
    }

    /// Resolves the request to one of a service's `operations` for its API
    /// `version`, producing `MissingAction` / `InvalidAction` like AWS.
    pub fn operation<'o>(
        &self,
        version: &str,
        operations: &[&'o str],
    ) -> Result<&'o str, AwsError> {
        let action = self.action().ok_or_else(AwsError::missing_action)?;
        let given = self.version().unwrap_or(NO_VERSION_SPECIFIED);
        let known = operations.iter().copied().find(|op| *op == action);
        match known {
            Some(op) if given == version => Ok(op),
            _ => Err(AwsError::invalid_action(action, given)),
        }
    }
}

/// AWS documents no limit on the number of Query parameters, nor its error
/// for too many; this is `InvalidQueryParameter` (400, "The AWS query string
/// is malformed or does not adhere to AWS standards" in AWS's common-errors
/// list), the code this decoder already answers for a malformed request,
/// with our own wording.
fn too_many_parameters() -> AwsError {
    AwsError::invalid_query_parameter(format!(
        "The request has more than {MAX_PARAMETERS} parameters."
    ))
}

/// How a list is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStyle<'n> {
    /// `Name.<member>.N`, normally `member`.
    Wrapped(&'n str),
    /// `Name.N`.
    Flattened,
}

impl ListStyle<'_> {
    /// The usual `Name.member.N` layout.
    pub const MEMBER: ListStyle<'static> = ListStyle::Wrapped("member");
}

/// How a map is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapStyle<'n> {
    /// `Name.N.key` instead of `Name.entry.N.key`.
    pub flattened: bool,
    /// Name of the key field (`key` by default).
    pub key: &'n str,
    /// Name of the value field (`value` by default).
    pub value: &'n str,
}

impl MapStyle<'_> {
    /// The usual `Name.entry.N.key` / `Name.entry.N.value` layout.
    pub const ENTRY: MapStyle<'static> = MapStyle {
        flattened: false,
        key: "key",
        value: "value",
    };
}

/// A structure (or a list item, or a map value) inside the parameters: the
/// name prefix it lives at, plus the lowerCamelCase member path AWS uses to
/// name it in validation errors (`tags.1.member.key`).
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    params: &'a QueryParams,
    prefix: String,
    path: String,
}

impl<'a> Scope<'a> {
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// The member path AWS prints for `name` in this scope
    /// (`roleSessionName`, `tags.1.member.key`).
    pub fn member_path(&self, name: &str) -> String {
        join_path(&self.path, &lower_camel(name))
    }

    /// The member path of this scope itself (empty at the top level).
    pub fn path(&self) -> &str {
        &self.path
    }

    fn at(&self, prefix: String, path: String) -> Scope<'a> {
        Scope {
            params: self.params,
            prefix,
            path,
        }
    }

    /// The nested structure `name`.
    pub fn child(&self, name: &str) -> Scope<'a> {
        self.at(self.key(name), self.member_path(name))
    }

    /// The value of this scope itself: a scalar list item or map value.
    pub fn value(&self) -> Option<&'a str> {
        self.params.get(&self.prefix)
    }

    /// Whether any parameter lives at or below this scope.
    pub fn is_present(&self) -> bool {
        if self.prefix.is_empty() {
            return !self.params.is_empty();
        }
        if self.params.map.contains_key(&self.prefix) {
            return true;
        }
        let below = format!("{}.", self.prefix);
        self.params
            .map
            .range(below.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&below))
    }

    /// The string member `name`, if given.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.params.get(&self.key(name))
    }

    /// The string member `name`, or AWS's not-null `ValidationError`.
    pub fn required_str(&self, name: &str) -> Result<&'a str, AwsError> {
        self.str(name).ok_or_else(|| {
            validation_error(&[Violation::new(
                None,
                self.member_path(name),
                Constraint::NotNull,
            )])
        })
    }

    fn typed<T>(
        &self,
        what: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, AwsError> {
        let Some(raw) = self.value() else {
            return Ok(None);
        };
        parse(raw).map(Some).ok_or_else(|| {
            validation_error(&[Violation::new(
                Some(raw.to_owned()),
                self.path.clone(),
                Constraint::Type(what),
            )])
        })
    }

    /// This scope's own value as an integer (decimal, optional sign).
    pub fn value_i64(&self) -> Result<Option<i64>, AwsError> {
        self.typed("integer", |s| s.parse().ok())
    }

    /// This scope's own value as a float (`NaN`, `Infinity`, `-Infinity` allowed).
    pub fn value_f64(&self) -> Result<Option<f64>, AwsError> {
        self.typed("number", |s| match s {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ if s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) =>
            {
                s.parse().ok()
            }
            _ => None,
        })
    }

    /// This scope's own value as a boolean: `true` or `false`, in any case.
    pub fn value_bool(&self) -> Result<Option<bool>, AwsError> {
        self.typed("boolean", |s| {
            if s.eq_ignore_ascii_case("true") {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        })
    }

    /// This scope's own value as an ISO 8601 timestamp.
    pub fn value_timestamp(&self) -> Result<Option<Timestamp>, AwsError> {
        self.typed("timestamp", Timestamp::parse_iso8601)
    }

    /// This scope's own value as epoch seconds (shapes with
    /// `timestampFormat: unixTimestamp`); fractions are kept to milliseconds.
    pub fn value_epoch_timestamp(&self) -> Result<Option<Timestamp>, AwsError> {
        self.typed("timestamp", parse_epoch_seconds)
    }

    /// This scope's own value as a base64 blob.
    pub fn value_blob(&self) -> Result<Option<Vec<u8>>, AwsError> {
        self.typed("base64 blob", |s| {
            base64::engine::general_purpose::STANDARD.decode(s).ok()
        })
    }

    /// An integer member.
    pub fn optional_i64(&self, name: &str) -> Result<Option<i64>, AwsError> {
        self.child(name).value_i64()
    }

    /// An integer member that must be present.
    pub fn required_i64(&self, name: &str) -> Result<i64, AwsError> {
        self.optional_i64(name)?.ok_or_else(|| {
            validation_error(&[Violation::new(
                None,
                self.member_path(name),
                Constraint::NotNull,
            )])
        })
    }

    /// A floating-point member.
    pub fn optional_f64(&self, name: &str) -> Result<Option<f64>, AwsError> {
        self.child(name).value_f64()
    }

    /// A boolean member.
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, AwsError> {
        self.child(name).value_bool()
    }

    /// An ISO 8601 timestamp member.
    pub fn optional_timestamp(&self, name: &str) -> Result<Option<Timestamp>, AwsError> {
        self.child(name).value_timestamp()
    }

    /// An epoch-seconds timestamp member.
    pub fn optional_epoch_timestamp(&self, name: &str) -> Result<Option<Timestamp>, AwsError> {
        self.child(name).value_epoch_timestamp()
    }

    /// A base64 blob member.
    pub fn optional_blob(&self, name: &str) -> Result<Option<Vec<u8>>, AwsError> {
        self.child(name).value_blob()
    }

    /// The items of list `name`, in index order (empty when absent).
    pub fn list_items(&self, name: &str, style: ListStyle<'_>) -> Vec<Scope<'a>> {
        self.child(name).items(style)
    }

    /// The items of the list living at this scope itself (a list nested in
    /// a list or a map value).
    pub fn items(&self, style: ListStyle<'_>) -> Vec<Scope<'a>> {
        let base = match style {
            ListStyle::Wrapped(member) => self.key(member),
            ListStyle::Flattened => self.prefix.clone(),
        };
        self.indices_under(&base)
            .into_iter()
            .map(|n| {
                let path = match style {
                    ListStyle::Wrapped(member) => format!("{}.{n}.{member}", self.path),
                    ListStyle::Flattened => format!("{}.{n}", self.path),
                };
                self.at(format!("{base}.{n}"), path)
            })
            .collect()
    }

    /// Whether list `name` was given at all — as items, or as `Name=` (the
    /// empty list).
    pub fn list_present(&self, name: &str, style: ListStyle<'_>) -> bool {
        let list = self.child(name);
        list.value().is_some() || !list.items(style).is_empty()
    }

    /// The entries of map `name` as `(key scope, value scope)`, in index order.
    pub fn map_entries(&self, name: &str, style: MapStyle<'_>) -> Vec<(Scope<'a>, Scope<'a>)> {
        self.child(name).entries(style)
    }

    /// The entries of the map living at this scope itself.
    pub fn entries(&self, style: MapStyle<'_>) -> Vec<(Scope<'a>, Scope<'a>)> {
        let (base, base_path) = if style.flattened {
            (self.prefix.clone(), self.path.clone())
        } else {
            (self.key("entry"), self.path.clone())
        };
        self.indices_under(&base)
            .into_iter()
            .map(|n| {
                let entry = format!("{base}.{n}");
                let entry_path = format!("{base_path}.{n}");
                (
                    self.at(
                        format!("{entry}.{}", style.key),
                        format!("{entry_path}.{}", style.key),
                    ),
                    self.at(
                        format!("{entry}.{}", style.value),
                        format!("{entry_path}.{}", style.value),
                    ),
                )
            })
            .collect()
    }

    /// Decodes `Name.member.N` items with `item`; an absent list is empty.
    pub fn list<T>(
        &self,
        name: &str,
        item: impl FnMut(Scope<'a>) -> Result<T, AwsError>,
    ) -> Result<Vec<T>, AwsError> {
        self.list_items(name, ListStyle::MEMBER)
            .into_iter()
            .map(item)
            .collect()
    }

    /// Like [`Scope::list`], but `None` when the list was not given at all.
    pub fn optional_list<T>(
        &self,
        name: &str,
        item: impl FnMut(Scope<'a>) -> Result<T, AwsError>,
    ) -> Result<Option<Vec<T>>, AwsError> {
        if !self.list_present(name, ListStyle::MEMBER) {
            return Ok(None);
        }
        self.list(name, item).map(Some)
    }

    /// A list of strings (`TransitiveTagKeys.member.N=…`).
    pub fn string_list(&self, name: &str) -> Result<Vec<&'a str>, AwsError> {
        self.list(name, |item| item.required_value())
    }

    /// The scalar value of a list item or map value, or not-null.
    pub fn required_value(&self) -> Result<&'a str, AwsError> {
        self.value().ok_or_else(|| {
            validation_error(&[Violation::new(None, self.path.clone(), Constraint::NotNull)])
        })
    }

    /// Decodes map `name` (`Name.entry.N.key/value`) with `value`, keeping
    /// wire order. A missing key is a not-null violation.
    pub fn map<T>(
        &self,
        name: &str,
        mut value: impl FnMut(Scope<'a>) -> Result<T, AwsError>,
    ) -> Result<Vec<(&'a str, T)>, AwsError> {
        self.map_entries(name, MapStyle::ENTRY)
            .into_iter()
            .map(|(k, v)| Ok((k.required_value()?, value(v)?)))
            .collect()
    }

    fn indices_under(&self, base: &str) -> BTreeSet<u32> {
        let below = format!("{base}.");
        self.params
            .map
            .range(below.clone()..)
            .take_while(|(k, _)| k.starts_with(&below))
            .filter_map(|(k, _)| {
                let rest = k.get(below.len()..)?;
                let segment = rest.split('.').next()?;
                parse_index(segment)
            })
            .collect()
    }
}

fn parse_index(segment: &str) -> Option<u32> {
    if segment.starts_with('0')
        || segment.is_empty()
        || !segment.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    segment.parse().ok()
}

fn parse_epoch_seconds(s: &str) -> Option<Timestamp> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.'))
    {
        return None;
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = whole.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut millis: i64 = 0;
    for i in 0..3 {
        let digit = frac.as_bytes().get(i).map_or(0, |d| i64::from(d - b'0'));
        millis = millis * 10 + digit;
    }
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    Some(Timestamp::from_epoch_millis(
        secs.checked_mul(1000)?.checked_add(sign * millis)?,
    ))
}

fn join_path(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// AWS's member naming in validation errors: the wire name with its first
/// letter lower-cased (`RoleSessionName` → `roleSessionName`).
pub fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A model constraint, rendered with AWS's phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `Member must not be null`
    NotNull,
    /// `Member must satisfy regular expression pattern: <pattern>`
    Pattern(Cow<'static, str>),
    /// `Member must have length greater than or equal to <min>`
    MinLength(usize),
    /// `Member must have length less than or equal to <max>`
    MaxLength(usize),
    /// `Member must have value greater than or equal to <min>`
    MinValue(i64),
    /// `Member must have value less than or equal to <max>`
    MaxValue(i64),
    /// `Member must satisfy enum value set: [<a>, <b>]`
    Enum(Vec<Cow<'static, str>>),
    /// `Member must be a valid <type>` — the value did not parse (our wording).
    Type(&'static str),
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotNull => f.write_str("Member must not be null"),
            Self::Pattern(p) => write!(f, "Member must satisfy regular expression pattern: {p}"),
            Self::MinLength(n) => write!(f, "Member must have length greater than or equal to {n}"),
            Self::MaxLength(n) => write!(f, "Member must have length less than or equal to {n}"),
            Self::MinValue(n) => write!(f, "Member must have value greater than or equal to {n}"),
            Self::MaxValue(n) => write!(f, "Member must have value less than or equal to {n}"),
            Self::Enum(values) => write!(
                f,
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            ),
            Self::Type(what) => write!(f, "Member must be a valid {what}"),
        }
    }
}

/// One failed constraint on one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The offending value; `None` prints as `Value null`.
    pub value: Option<String>,
    /// lowerCamelCase member path, e.g. `roleSessionName`.
    pub member: String,
    /// What the value failed.
    pub constraint: Constraint,
}

impl Violation {
    /// A violation of `constraint` by `value` at `member`.
    pub fn new(value: Option<String>, member: impl Into<String>, constraint: Constraint) -> Self {
        Self {
            value,
            member: member.into(),
            constraint,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "Value '{v}' at '{}' failed to satisfy constraint: {}",
                self.member, self.constraint
            ),
            None => write!(
                f,
                "Value null at '{}' failed to satisfy constraint: {}",
                self.member, self.constraint
            ),
        }
    }
}

/// AWS's text for a set of violations:
/// `1 validation error detected: <v>` or `N validation errors detected: <v1>; <v2>`.
pub fn validation_message(violations: &[Violation]) -> String {
    let joined = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    match violations.len() {
        1 => format!("1 validation error detected: {joined}"),
        n => format!("{n} validation errors detected: {joined}"),
    }
}

/// The `ValidationError` 400 for a set of violations.
pub fn validation_error(violations: &[Violation]) -> AwsError {
    AwsError::validation_error(validation_message(violations))
}

/// The length AWS's (Java) validators measure: UTF-16 code units.
pub fn aws_length(value: &str) -> usize {
    value.encode_utf16().count()
}

/// Collects constraint violations across all members of a request so they
/// are reported together, as AWS does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn push(&mut self, violation: Violation) {
        self.0.push(violation);
    }

    /// Records `NotNull` when `value` is absent; passes the value through.
    pub fn require<'v>(&mut self, member: &str, value: Option<&'v str>) -> Option<&'v str> {
        if value.is_none() {
            self.push(Violation::new(None, member, Constraint::NotNull));
        }
        value
    }

    /// Checks `min <= length(value) <= max` (UTF-16 code units).
    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize) {
        let len = aws_length(value);
        if len < min {
            self.push(Violation::new(
                Some(value.to_owned()),
                member,
                Constraint::MinLength(min),
            ));
        } else if len > max {
            self.push(Violation::new(
                Some(value.to_owned()),
                member,
                Constraint::MaxLength(max),
            ));
        }
    }

    /// Checks `min <= value <= max`.
    pub fn range(&mut self, member: &str, value: i64, min: i64, max: i64) {
        if value < min {
            self.push(Violation::new(
                Some(value.to_string()),
                member,
                Constraint::MinValue(min),
            ));
        } else if value > max {
            self.push(Violation::new(
                Some(value.to_string()),
                member,
                Constraint::MaxValue(max),
            ));
        }
    }

    /// Records a pattern violation unless `matches`; `pattern` is the model's
    /// regular expression text, printed as is.
    pub fn pattern(
        &mut self,
        member: &str,
        value: &str,
        pattern: impl Into<Cow<'static, str>>,
        matches: bool,
    ) {
        if !matches {
            self.push(Violation::new(
                Some(value.to_owned()),
                member,
                Constraint::Pattern(pattern.into()),
            ));
        }
    }

    /// The violations so far.
    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())`, or the combined `ValidationError`.
    pub fn into_result(self) -> Result<(), AwsError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(validation_error(&self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> QueryParams {
        QueryParams::decode(b"", body.as_bytes()).unwrap()
    }

    #[test]
    fn more_parameters_than_the_limit_are_refused_across_query_and_body() {
        let half = "a=b&".repeat(MAX_PARAMETERS / 2);
        let full = QueryParams::decode(half.as_bytes(), half.as_bytes()).unwrap();
        assert_eq!(full.len(), 1, "identical pairs collapse");
        let err =
            QueryParams::decode(format!("{half}c=d").as_bytes(), half.as_bytes()).unwrap_err();
        assert_eq!(
            (err.code.as_ref(), err.status, err.message.as_str()),
            (
                "InvalidQueryParameter",
                400,
                "The request has more than 10000 parameters."
            )
        );
        let pairs = (0..=MAX_PARAMETERS).map(|i| (format!("p{i}"), String::new()));
        assert_eq!(
            QueryParams::from_pairs(pairs).unwrap_err().code,
            "InvalidQueryParameter"
        );
    }

    #[test]
    fn assume_role_capture_decodes() {
        let p = params(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=sess",
        );
        assert_eq!(
            p.operation("2011-06-15", &["GetCallerIdentity", "AssumeRole"])
                .unwrap(),
            "AssumeRole"
        );
        let root = p.root();
        assert_eq!(
            root.required_str("RoleArn").unwrap(),
            "arn:aws:iam::123456789012:role/demo"
        );
        assert_eq!(root.str("RoleSessionName"), Some("sess"));
    }

    #[test]
    fn missing_action_and_unknown_operation() {
        let err = params("Version=2011-06-15")
            .operation("2011-06-15", &["AssumeRole"])
            .unwrap_err();
        assert_eq!(
            (err.code.as_ref(), err.message.as_str()),
            ("MissingAction", "Missing Action")
        );
        let err = params("Action=&Version=2011-06-15")
            .operation("2011-06-15", &["AssumeRole"])
            .unwrap_err();
        assert_eq!(err.code, "MissingAction");
        let err = params("Action=ListUsers&Version=2011-06-15")
            .operation("2011-06-15", &["AssumeRole"])
            .unwrap_err();
        assert_eq!(err.code, "InvalidAction");
        assert_eq!(
            err.message,
            "Could not find operation ListUsers for version 2011-06-15"
        );
        let err = params("Action=AssumeRole&Version=2010-05-08")
            .operation("2011-06-15", &["AssumeRole"])
            .unwrap_err();
        assert_eq!(
            err.message,
            "Could not find operation AssumeRole for version 2010-05-08"
        );
        let err = params("Action=AssumeRole")
            .operation("2011-06-15", &["AssumeRole"])
            .unwrap_err();
        assert_eq!(
            err.message,
            "Could not find operation AssumeRole for version NO_VERSION_SPECIFIED"
        );
        assert_eq!(err.status, 400);
    }

    #[test]
    fn query_string_and_body_merge_but_never_disagree() {
        let p = QueryParams::decode(b"Action=GetCallerIdentity&Version=2011-06-15", b"Extra=1")
            .unwrap();
        assert_eq!(p.len(), 3);
        let same = QueryParams::decode(b"Action=A", b"Action=A").unwrap();
        assert_eq!(same.get("Action"), Some("A"));
        let err = QueryParams::decode(b"Action=A", b"Action=B").unwrap_err();
        assert_eq!(
            (err.code.as_ref(), err.status),
            ("InvalidQueryParameter", 400)
        );
        assert!(QueryParams::decode(b"", b"X=1&X=2").is_err());
    }

    #[test]
    fn tags_list_of_structures_in_index_order() {
        let p = params(
            "Tags.member.2.Key=B&Tags.member.2.Value=2&Tags.member.10.Key=J&Tags.member.10.Value=10&Tags.member.1.Key=A&Tags.member.1.Value=",
        );
        let tags = p
            .root()
            .list("Tags", |t| {
                Ok((t.required_str("Key")?, t.required_str("Value")?))
            })
            .unwrap();
        assert_eq!(tags, vec![("A", ""), ("B", "2"), ("J", "10")]);
    }

    #[test]
    fn policy_arns_use_lowercase_arn_member() {
        let p =
            params("PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess");
        let arns = p
            .root()
            .list("PolicyArns", |i| i.required_str("arn"))
            .unwrap();
        assert_eq!(arns, vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    }

    #[test]
    fn empty_list_differs_from_absent_list() {
        let root_params = params("TransitiveTagKeys=");
        let root = root_params.root();
        assert_eq!(
            root.optional_list("TransitiveTagKeys", |i| i.required_value())
                .unwrap(),
            Some(vec![])
        );
        assert_eq!(
            root.optional_list("Tags", |i| i.required_value()).unwrap(),
            None
        );
    }

    #[test]
    fn non_canonical_indices_address_nothing() {
        let p = params("L.member.0=a&L.member.01=b&L.member.x=c&L.member.1=d&L.member.=e");
        assert_eq!(p.root().string_list("L").unwrap(), vec!["d"]);
    }

    #[test]
    fn list_item_without_value_is_not_null_violation_with_aws_path() {
        let p = params("Tags.member.1.Value=v");
        let err = p
            .root()
            .list("Tags", |t| t.required_str("Key"))
            .unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn maps_and_nested_structures() {
        let p = params(
            "Attrs.entry.1.key=a&Attrs.entry.1.value=1&Attrs.entry.2.key=b&Attrs.entry.2.value=2&A.B.C=deep",
        );
        let root = p.root();
        let m = root.map("Attrs", |v| v.required_value()).unwrap();
        assert_eq!(m, vec![("a", "1"), ("b", "2")]);
        let c = root.child("A").child("B");
        assert!(c.is_present());
        assert_eq!(c.str("C"), Some("deep"));
        assert_eq!(c.member_path("C"), "a.b.c");
        assert!(!root.child("Nope").is_present());
        assert!(!root.child("Att").is_present());
    }

    #[test]
    fn typed_accessors_parse_and_reject() {
        let p = params(
            "D=3600&B=TRUE&F=false&T=2015-01-25T08%3A00%3A00Z&X=abc&Blob=dmFsdWU%3D&N=-Infinity",
        );
        let r = p.root();
        assert_eq!(r.optional_i64("D").unwrap(), Some(3600));
        assert_eq!(r.required_i64("D").unwrap(), 3600);
        assert_eq!(r.optional_i64("Missing").unwrap(), None);
        assert_eq!(r.optional_bool("B").unwrap(), Some(true));
        assert_eq!(r.optional_bool("F").unwrap(), Some(false));
        assert_eq!(
            r.optional_timestamp("T")
                .unwrap()
                .map(Timestamp::epoch_seconds),
            Some(1_422_172_800)
        );
        assert_eq!(r.optional_blob("Blob").unwrap(), Some(b"value".to_vec()));
        assert_eq!(r.optional_f64("N").unwrap(), Some(f64::NEG_INFINITY));
        let err = r.optional_i64("X").unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'abc' at 'x' failed to satisfy constraint: Member must be a valid integer"
        );
        assert!(r.optional_bool("X").is_err());
        assert!(r.optional_f64("X").is_err());
        assert!(r.optional_timestamp("X").is_err());
        let err = r.required_str("RoleArn").unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn observed_role_session_name_pattern_text() {
        let mut v = Violations::new();
        v.pattern(
            "roleSessionName",
            "PowerUser/hjacobs",
            r"[\w+=,.@-]*",
            false,
        );
        assert_eq!(
            v.into_result().unwrap_err().message,
            r"1 validation error detected: Value 'PowerUser/hjacobs' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        v.length("roleSessionName", &"x".repeat(65), 2, 64);
        v.range("durationSeconds", 43201, 900, 43200);
        v.range("durationSeconds", 1, 900, 43200);
        v.length("externalId", "a", 2, 1224);
        assert!(v.require("roleArn", None).is_none());
        let err = v.into_result().unwrap_err();
        assert_eq!((err.code.as_ref(), err.status), ("ValidationError", 400));
        let x65 = "x".repeat(65);
        assert_eq!(
            err.message,
            format!(
                "5 validation errors detected: \
                 Value '{x65}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; \
                 Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200; \
                 Value '1' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900; \
                 Value 'a' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2; \
                 Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
            )
        );
    }

    #[test]
    fn no_violation_within_bounds_and_length_counts_utf16_units() {
        let mut v = Violations::new();
        v.length("a", "ab", 2, 64);
        v.range("b", 900, 900, 43200);
        v.pattern("c", "ok", "x", true);
        assert!(v.is_empty());
        // U+1F600 is one char but two UTF-16 units, as Java counts it.
        v.length("d", "\u{1F600}", 0, 1);
        assert_eq!(v.as_slice().len(), 1);
        assert_eq!(
            Constraint::Enum(vec!["A".into(), "B".into()]).to_string(),
            "Member must satisfy enum value set: [A, B]"
        );
    }

    #[test]
    fn lower_camel_lowercases_only_the_first_letter() {
        assert_eq!(lower_camel("RoleSessionName"), "roleSessionName");
        assert_eq!(lower_camel("SAMLAssertion"), "sAMLAssertion");
        assert_eq!(lower_camel(""), "");
    }

    #[test]
    fn epoch_seconds_with_fraction() {
        let p = params("E=1422172800&F=946845296.123&G=x");
        let r = p.root();
        assert_eq!(
            r.optional_epoch_timestamp("E")
                .unwrap()
                .map(Timestamp::epoch_millis),
            Some(1_422_172_800_000)
        );
        assert_eq!(
            r.optional_epoch_timestamp("F")
                .unwrap()
                .map(Timestamp::epoch_millis),
            Some(946_845_296_123)
        );
        assert!(r.optional_epoch_timestamp("G").is_err());
    }
}
