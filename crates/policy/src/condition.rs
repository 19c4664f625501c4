//! Condition operators (IAM User Guide, "IAM JSON policy elements:
//! Condition operators"): every family, `IfExists`, `Null`, the
//! `ForAnyValue`/`ForAllValues` set qualifiers, and missing-key semantics.
//!
//! Policy values are parsed once at load into their family's form (CIDRs,
//! epoch milliseconds, numbers, decoded bytes, ARN patterns, templates), so
//! evaluation only parses the request's value. Anything that cannot be
//! understood — an unknown operator, a malformed policy value — makes the
//! clause [`Tri::Unevaluable`], which never lets an `Allow` apply and lets a
//! `Deny` apply (fail closed).

use std::net::IpAddr;

use base64::Engine;
use iamgate_sigv4::time::{days_from_civil, days_in_month};

use crate::arn::{Arn, ArnPattern};
use crate::context::{ContextValue, RequestContext};
use crate::json::Pos;
use crate::tunables::{PLAIN_OPERATOR_ON_MULTIVALUED_MATCHES, QUALIFIER_ON_SINGLE_VALUED_AS_SET};
use crate::variables::Template;
use crate::wildcard::{Case, equals_pieces, matches_pieces};

/// The base operator, without qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every base operator with its policy spelling.
pub const BASE_OPERATORS: [(&str, BaseOperator); 27] = [
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

/// Operator family: decides how values are parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equals,
    EqualsIgnoreCase,
    Like,
    Less,
    LessEquals,
    Greater,
    GreaterEquals,
}

impl BaseOperator {
    pub fn family(self) -> Family {
        use BaseOperator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Negated operators test "differs from every policy value".
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    fn compare(self) -> Compare {
        use BaseOperator::*;
        match self {
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => Compare::EqualsIgnoreCase,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                Compare::Like
            }
            NumericLessThan | DateLessThan => Compare::Less,
            NumericLessThanEquals | DateLessThanEquals => Compare::LessEquals,
            NumericGreaterThan | DateGreaterThan => Compare::Greater,
            NumericGreaterThanEquals | DateGreaterThanEquals => Compare::GreaterEquals,
            _ => Compare::Equals,
        }
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A full operator: qualifier, base and `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name (case-sensitive, as AWS spells them).
    /// `NullIfExists` and unknown names are `None`.
    pub fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base = BASE_OPERATORS
            .iter()
            .find(|(n, _)| *n == base_name)
            .map(|(_, op)| *op)?;
        if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(Operator {
            qualifier,
            base,
            if_exists,
        })
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    V4 { network: u32, prefix: u8 },
    V6 { network: u128, prefix: u8 },
}

impl Cidr {
    /// `a.b.c.d/n`, `x::y/n`, or a bare address (`/32`, `/128`).
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => {
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (addr, Some(prefix.parse::<u8>().ok()?))
            }
            None => (text.trim(), None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr::V4 {
                    network: u32::from(v4) & mask32(prefix),
                    prefix,
                })
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr::V6 {
                    network: u128::from(v6) & mask128(prefix),
                    prefix,
                })
            }
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Cidr::V4 { network, prefix }, IpAddr::V4(a)) => {
                u32::from(a) & mask32(*prefix) == *network
            }
            (Cidr::V6 { network, prefix }, IpAddr::V6(a)) => {
                u128::from(a) & mask128(*prefix) == *network
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// A decimal number: optional sign, digits, optional fraction.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    t.parse::<f64>().ok()
}

/// W3C ISO 8601 date/time (`2026-01-01`, `2026-01-01T10:00Z`,
/// `2026-01-01T10:00:00.5+02:00`) or epoch seconds; epoch milliseconds out.
pub fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().ok()?.checked_mul(1000);
    }
    let b = t.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return Some(millis);
    }
    if !matches!(b.get(10), Some(b'T' | b't')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut at = 16;
    let mut second = 0;
    let mut fraction_ms = 0;
    if b.get(at) == Some(&b':') {
        second = num(at + 1..at + 3)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if end == start {
                return None;
            }
            let digits = t.get(start..end.min(start + 3))?;
            let scale = 10_i64.pow(3 - u32::try_from(digits.len()).ok()?);
            fraction_ms = digits.parse::<i64>().ok()? * scale;
            at = end;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match b.get(at) {
        None => 0,
        Some(b'Z' | b'z') if b.len() == at + 1 => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = num(at + 1..at + 3)?;
            let minutes = match b.get(at + 3) {
                Some(b':') if b.len() == at + 6 => num(at + 4..at + 6)?,
                Some(_) if b.len() == at + 5 => num(at + 3..at + 5)?,
                None => 0,
                _ => return None,
            };
            let total = hours * 60 + minutes;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    millis += ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + fraction_ms;
    Some(millis)
}

/// Policy values of one condition key, parsed for their family.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Strings(Vec<Template>),
    Numbers(Vec<f64>),
    Dates(Vec<i64>),
    Bools(Vec<Template>),
    Binary(Vec<Vec<u8>>),
    Cidrs(Vec<Cidr>),
    Arns(Vec<ArnPattern>),
    /// `Null`: `true` means "expect the key to be absent".
    Null(Vec<bool>),
}

impl Values {
    /// Parses raw policy values for `family`; `Err` names the bad value.
    pub fn parse(family: Family, raw: &[String], variables: bool) -> Result<Values, String> {
        fn all<T>(raw: &[String], f: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
            raw.iter().map(|v| f(v).ok_or_else(|| v.clone())).collect()
        }
        Ok(match family {
            Family::String => {
                Values::Strings(raw.iter().map(|v| Template::parse(v, variables)).collect())
            }
            Family::Bool => {
                Values::Bools(raw.iter().map(|v| Template::parse(v, variables)).collect())
            }
            Family::Numeric => Values::Numbers(all(raw, parse_number)?),
            Family::Date => Values::Dates(all(raw, parse_date)?),
            Family::Binary => Values::Binary(all(raw, |v| {
                base64::engine::general_purpose::STANDARD.decode(v).ok()
            })?),
            Family::Ip => Values::Cidrs(all(raw, Cidr::parse)?),
            Family::Arn => Values::Arns(all(raw, |v| {
                ArnPattern::parse_condition_value(v, variables)
            })?),
            Family::Null => Values::Null(all(raw, |v| {
                if v.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if v.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                }
            })?),
        })
    }
}

/// Three-valued clause result; `Unevaluable` is the fail-closed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unevaluable,
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
}

/// One `operator: { key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The operator as written, for traces and errors.
    pub operator_name: String,
    /// `None` when the operator is unknown (never grants).
    pub operator: Option<Operator>,
    /// Key as written; lookups use `key_lowercase`.
    pub key: String,
    pub key_lowercase: String,
    /// `None` when a policy value could not be parsed (never grants).
    pub values: Option<Values>,
    pub pos: Pos,
}

impl Clause {
    /// Evaluates against the request context (IAM User Guide, "IAM JSON
    /// policy elements: Condition operators").
    pub fn evaluate(&self, ctx: &RequestContext) -> Tri {
        let (Some(op), Some(values)) = (&self.operator, &self.values) else {
            return Tri::Unevaluable;
        };
        let found = ctx.get_lowercase(&self.key_lowercase);
        if let Values::Null(expect_absent) = values {
            let absent = found.is_none();
            return expect_absent.contains(&absent).into();
        }
        let test = |value: &str| test_value(op.base, values, value, ctx);
        let result = match op.qualifier {
            None => match found {
                None => op.if_exists || op.base.is_negated(),
                Some(ContextValue::Single(value)) => test(value),
                Some(ContextValue::Multi(set)) => {
                    PLAIN_OPERATOR_ON_MULTIVALUED_MATCHES && set.iter().any(|v| test(v))
                }
            },
            Some(qualifier) => {
                let set: &[String] = match found {
                    None => {
                        if op.if_exists {
                            return Tri::True;
                        }
                        &[]
                    }
                    Some(ContextValue::Single(value)) if value.is_empty() => &[],
                    Some(ContextValue::Single(value)) if QUALIFIER_ON_SINGLE_VALUED_AS_SET => {
                        std::slice::from_ref(value)
                    }
                    Some(ContextValue::Single(_)) => return Tri::False,
                    Some(ContextValue::Multi(values)) => values,
                };
                match qualifier {
                    SetQualifier::ForAnyValue => set.iter().any(|v| test(v)),
                    SetQualifier::ForAllValues => set.iter().all(|v| test(v)),
                }
            }
        };
        result.into()
    }
}

/// One request value against all policy values: positive operators need
/// some policy value to match, negated ones need none to. A request value
/// the family cannot parse matches under neither polarity.
fn test_value(base: BaseOperator, values: &Values, request: &str, ctx: &RequestContext) -> bool {
    match any_matches(base.compare(), values, request, ctx) {
        Some(any) => any != base.is_negated(),
        None => false,
    }
}

fn any_matches(
    compare: Compare,
    values: &Values,
    request: &str,
    ctx: &RequestContext,
) -> Option<bool> {
    Some(match values {
        Values::Strings(templates) => templates.iter().any(|t| {
            t.with_pieces(ctx, |pieces| match compare {
                Compare::Like => matches_pieces(pieces, request, Case::Sensitive),
                Compare::EqualsIgnoreCase => equals_pieces(pieces, request, Case::Insensitive),
                _ => equals_pieces(pieces, request, Case::Sensitive),
            })
            .unwrap_or(false)
        }),
        Values::Bools(templates) => templates.iter().any(|t| {
            t.with_pieces(ctx, |pieces| {
                equals_pieces(pieces, request, Case::Insensitive)
            })
            .unwrap_or(false)
        }),
        Values::Numbers(numbers) => {
            let r = parse_number(request)?;
            numbers.iter().any(|&p| ordered(compare, r.partial_cmp(&p)))
        }
        Values::Dates(dates) => {
            let r = parse_date(request)?;
            dates.iter().any(|p| ordered(compare, Some(r.cmp(p))))
        }
        Values::Binary(blobs) => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(request.trim());
            let bytes = decoded.as_deref().unwrap_or(request.as_bytes());
            blobs.iter().any(|b| b.as_slice() == bytes)
        }
        Values::Cidrs(cidrs) => {
            let addr = request.trim().parse::<IpAddr>().ok()?;
            cidrs.iter().any(|c| c.contains(addr))
        }
        Values::Arns(patterns) => {
            let arn = Arn::parse(request)?;
            patterns.iter().any(|p| p.matches(&arn, ctx))
        }
        Values::Null(_) => return None,
    })
}

fn ordered(compare: Compare, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(o) = ordering else { return false };
    match compare {
        Compare::Less => o == Less,
        Compare::LessEquals => o != Greater,
        Compare::Greater => o == Greater,
        Compare::GreaterEquals => o != Less,
        _ => o == Equal,
    }
}

/// AND of all clauses. For `Deny` an unevaluable clause counts as true so
/// the deny still applies; for `Allow` it means the statement does not apply.
pub fn all_clauses_hold(clauses: &[Clause], ctx: &RequestContext, deny: bool) -> bool {
    clauses.iter().all(|c| match c.evaluate(ctx) {
        Tri::True => true,
        Tri::False => false,
        Tri::Unevaluable => deny && crate::tunables::FAIL_CLOSED_DENY_APPLIES,
    })
}
