//! Shared helpers for the protocol-vector tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `testdata/<relative>` at the repository root.
pub fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

/// The suites of one botocore-format protocol test file.
pub fn load_suites(relative: &str) -> Vec<Value> {
    let path = testdata(&format!("aws-models/protocol-tests/{relative}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_str(&text).unwrap() {
        Value::Array(suites) => suites,
        other => panic!("unexpected top level: {other}"),
    }
}

/// Shape lookup within one suite.
pub struct Shapes<'a>(pub &'a serde_json::Map<String, Value>);

impl<'a> Shapes<'a> {
    pub fn get(&self, name: &str) -> &'a Value {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no shape {name}"))
    }

    /// The shape a member reference points to.
    pub fn target(&self, member_ref: &Value) -> &'a Value {
        self.get(member_ref["shape"].as_str().unwrap())
    }
}

pub fn shape_type(shape: &Value) -> &str {
    shape["type"].as_str().unwrap()
}

pub fn location_name<'v>(member_ref: &'v Value, default: &'v str) -> &'v str {
    member_ref
        .get("locationName")
        .and_then(Value::as_str)
        .unwrap_or(default)
}

pub fn flattened(member_ref: &Value, shape: &Value) -> bool {
    member_ref
        .get("flattened")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || shape
            .get("flattened")
            .and_then(Value::as_bool)
            .unwrap_or(false)
}

/// Every case of a suite file as `(suite, case)`.
pub fn cases(suites: &[Value]) -> Vec<(&Value, &Value)> {
    suites
        .iter()
        .flat_map(|suite| {
            suite["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |case| (suite, case))
        })
        .collect()
}

pub fn case_id(case: &Value) -> &str {
    case["id"].as_str().unwrap()
}

/// An XML element tree for semantic comparison: names and attributes as
/// written, text unescaped, whitespace-only text between elements dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: std::collections::BTreeMap<String, String>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn without_child(mut self, name: &str) -> Element {
        self.children.retain(|c| c.name != name);
        self
    }
}

/// Parses a whole document into its root element.
pub fn parse_xml(text: &str) -> Element {
    use quick_xml::Reader;
    use quick_xml::events::{BytesStart, Event};

    fn open(e: &BytesStart) -> Element {
        let attrs = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        Element {
            name: e.name().as_ref().to_owned(),
            attrs,
            text: String::new(),
            children: Vec::new(),
        }
    }

    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let close = |stack: &mut Vec<Element>, root: &mut Option<Element>, mut done: Element| {
        if done.children.is_empty() {
            // Mixed content does not occur in AWS documents; text around
            // child elements is layout.
        } else {
            assert!(
                done.text.trim().is_empty(),
                "mixed content in <{}>",
                done.name
            );
            done.text.clear();
        }
        match stack.last_mut() {
            Some(parent) => parent.children.push(done),
            None => *root = Some(done),
        }
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let el = open(&e);
                close(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                close(&mut stack, &mut root, done);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().unwrap().unwrap().to_string()
                } else {
                    let name = r.xml10_content();
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("unknown entity {name}"))
                        .to_owned()
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                stack.last_mut().unwrap().text.push_str(&raw);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    let mut root = root.expect("a root element");
    normalize_whitespace(&mut root);
    root
}

fn normalize_whitespace(el: &mut Element) {
    if el.text.trim().is_empty() && (el.text.contains('\n') || !el.children.is_empty()) {
        // `<myMap>\n   </myMap>` is an empty element laid out on two lines.
        el.text.clear();
    }
    for c in &mut el.children {
        normalize_whitespace(c);
    }
}
