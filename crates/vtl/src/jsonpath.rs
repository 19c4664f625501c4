//! The JSONPath that `$input.json` and `$input.path` take: `$`, `.name`,
//! `['name']`, `["name"]`, `[n]` (negative counts from the end), `[*]`,
//! `.*`, and the deep scan `..name` / `..*`. Filters, slices and unions are
//! refused rather than guessed at.
//!
//! A path with a wildcard or a deep scan is indefinite and yields a list of
//! matches (possibly empty), as Jayway JsonPath does; any other path yields
//! one value or nothing.

use crate::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Child(String),
    Index(i64),
    Wildcard,
    /// `..name`, or `..*` when `None`.
    Deep(Option<String>),
}

pub(crate) enum Selection {
    One(Option<Value>),
    Many(Vec<Value>),
}

pub(crate) fn compile(path: &str) -> Result<Vec<Step>, String> {
    let path = path.trim();
    let mut rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("JSONPath '{path}' does not start with '$'"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("..") {
            let (name, tail) = split_name(after);
            if name.is_empty() && !after.starts_with('*') {
                return Err(format!("JSONPath '{path}': '..' needs a name or '*'"));
            }
            if after.starts_with('*') {
                steps.push(Step::Deep(None));
                rest = after.get(1..).unwrap_or("");
            } else {
                steps.push(Step::Deep(Some(name.to_owned())));
                rest = tail;
            }
        } else if let Some(after) = rest.strip_prefix('.') {
            if let Some(tail) = after.strip_prefix('*') {
                steps.push(Step::Wildcard);
                rest = tail;
            } else {
                let (name, tail) = split_name(after);
                if name.is_empty() {
                    return Err(format!("JSONPath '{path}': empty name after '.'"));
                }
                steps.push(Step::Child(name.to_owned()));
                rest = tail;
            }
        } else if let Some(after) = rest.strip_prefix('[') {
            let close =
                bracket_end(after).ok_or_else(|| format!("JSONPath '{path}': unclosed '['"))?;
            let inside = after.get(..close).unwrap_or("").trim();
            rest = after.get(close + 1..).unwrap_or("");
            steps.push(bracket_step(inside).ok_or_else(|| {
                format!(
                    "JSONPath '{path}': '[{inside}]' is not supported (only names, indexes and '*')"
                )
            })?);
        } else {
            return Err(format!("JSONPath '{path}': unexpected '{rest}'"));
        }
    }
    Ok(steps)
}

fn split_name(s: &str) -> (&str, &str) {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    (s.get(..end).unwrap_or(""), s.get(end..).unwrap_or(""))
}

/// The `]` closing a bracket, skipping over a quoted name.
fn bracket_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ']') => return Some(i),
            _ => {}
        }
    }
    None
}

fn bracket_step(inside: &str) -> Option<Step> {
    if inside == "*" {
        return Some(Step::Wildcard);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inside
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            return Some(Step::Child(name.to_owned()));
        }
    }
    inside.parse::<i64>().ok().map(Step::Index)
}

/// Applies `steps` to `root`. `visits` counts nodes looked at, so a deep
/// scan over a large body is charged to the caller's budget; it fails with
/// `Err(())` past `max_visits`.
pub(crate) fn select(
    root: &Value,
    steps: &[Step],
    visits: &mut u64,
    max_visits: u64,
) -> Result<Selection, ()> {
    let indefinite = steps
        .iter()
        .any(|s| matches!(s, Step::Wildcard | Step::Deep(_)));
    let mut current = vec![root.clone()];
    for step in steps {
        let mut next = Vec::new();
        for value in &current {
            apply(value, step, &mut next, visits, max_visits)?;
        }
        current = next;
    }
    Ok(if indefinite {
        Selection::Many(current)
    } else {
        Selection::One(current.into_iter().next())
    })
}

fn charge(visits: &mut u64, max_visits: u64) -> Result<(), ()> {
    *visits += 1;
    if *visits > max_visits {
        Err(())
    } else {
        Ok(())
    }
}

fn apply(
    value: &Value,
    step: &Step,
    out: &mut Vec<Value>,
    visits: &mut u64,
    max_visits: u64,
) -> Result<(), ()> {
    charge(visits, max_visits)?;
    match (step, value) {
        (Step::Child(name), Value::Map(map)) => out.extend(map.get(name).cloned()),
        (Step::Index(i), Value::List(items)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = if *i < 0 { len + i } else { *i };
            if let Some(item) = usize::try_from(at).ok().and_then(|at| items.get(at)) {
                out.push(item.clone());
            }
        }
        (Step::Wildcard, Value::Map(map)) => out.extend(map.values().cloned()),
        (Step::Wildcard, Value::List(items)) => out.extend(items.iter().cloned()),
        (Step::Deep(name), _) => deep(value, name.as_deref(), out, visits, max_visits)?,
        _ => {}
    }
    Ok(())
}

/// `..name` / `..*`: the value itself and every descendant, in document
/// order, matched against the name.
fn deep(
    value: &Value,
    name: Option<&str>,
    out: &mut Vec<Value>,
    visits: &mut u64,
    max_visits: u64,
) -> Result<(), ()> {
    charge(visits, max_visits)?;
    match value {
        Value::Map(map) => {
            for (key, child) in map.iter() {
                if name.is_none_or(|n| n == key) {
                    out.push(child.clone());
                }
            }
            for child in map.values() {
                deep(child, name, out, visits, max_visits)?;
            }
        }
        Value::List(items) => {
            if name.is_none() {
                out.extend(items.iter().cloned());
            }
            for child in items.iter() {
                deep(child, name, out, visits, max_visits)?;
            }
        }
        _ => {}
    }
    Ok(())
}
