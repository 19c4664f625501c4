//! API Gateway mapping templates: the part of Apache Velocity (VTL 1.7) that
//! REST API request and response templates use, with API Gateway's
//! variables, rendered the way API Gateway renders them.
//!
//! Why it exists: a REST API's MOCK and HTTP (non-proxy) integrations answer
//! through templates such as `{"statusCode": 200, "id": $input.params().path.id}`;
//! without an engine those come back literally. No maintained Rust crate
//! speaks this dialect (`$input.json`, `$util.escapeJavaScript`, Velocity
//! 1.7's whitespace and null rules), so this crate implements it, pure: no
//! I/O, no async, every input accepted without panicking, all work bounded.
//!
//! ```
//! use iamgate_vtl::{Inputs, Template};
//!
//! let template = Template::parse(r#"{"statusCode": 200, "id": $input.params().path.id}"#).unwrap();
//! let inputs = Inputs { path: vec![("id".into(), "42".into())], ..Inputs::default() };
//! assert_eq!(template.render(&inputs).unwrap().body, r#"{"statusCode": 200, "id": 42}"#);
//! ```
//!
//! What is supported (details and the unsupported list in
//! `docs/mapping-templates.md`):
//! - text, `$x`, `${x}`, `$!x`, property, index and method chains, string
//!   (interpolated in double quotes), number, boolean, list, range and map
//!   literals; `#set`, `#if/#elseif/#else/#end`, `#foreach` (with
//!   `$foreach.count/index/hasNext/first/last` and `$velocityCount`),
//!   `#break`, `#stop`, `##` and `#* *#` comments, `#[[ ]]#`, `\$` and `\#`;
//!   the operators `|| && ! == != < > <= >= + - * / %` and their word forms;
//!   the `String`, `List` and `Map` methods templates use.
//! - `$input.body/json/path/params`, `$util.escapeJavaScript/parseJson/
//!   urlEncode/urlDecode/base64Encode/base64Decode`, `$context.*`,
//!   `$stageVariables.*`, and the `requestOverride`/`responseOverride`
//!   outputs in [`Overrides`].
//!
//! `#macro`, `#include`, `#parse`, `#evaluate`, `#define` and `#@` are parse
//! errors. A reference that resolves to nothing renders as written
//! (`$nothing`), or as nothing when quiet (`$!nothing`), as in Velocity.

mod jsonpath;
mod parse;
mod render;
mod util;
mod value;

pub use value::{Map, Value};

/// Bounds on one template and one rendering, so that neither a hostile
/// template nor a hostile body can hang the gateway or exhaust memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Template source size. AWS's quota on a mapping template is 300 KB.
    pub max_template_bytes: usize,
    /// Size of the rendered body, of any string built on the way, and of
    /// any list or map a template builds, prints or compares (elements plus
    /// string bytes). AWS's payload quota is 10 MB.
    pub max_output_bytes: usize,
    /// `#foreach` iterations over the whole rendering, and the elements of
    /// one range or one `split` (our choice).
    pub max_iterations: u64,
    /// Units of work over the whole rendering: one per node, expression and
    /// method call, per byte of a string read or produced, per element
    /// built or measured, per JSONPath node visited (our choice).
    pub max_work: u64,
    /// Nesting of blocks, expressions and string literals (our choice).
    pub max_nesting: usize,
    /// Nesting of lists and maps built by a template (our choice; JSON
    /// bodies are held to 128 by the JSON parser).
    pub max_value_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_template_bytes: 300 * 1024,
            max_output_bytes: 10 * 1024 * 1024,
            max_iterations: 100_000,
            max_work: 50_000_000,
            max_nesting: 64,
            max_value_depth: 128,
        }
    }
}

/// A template that parsed; render it as many times as needed.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    nodes: Vec<parse::Node>,
    limits: Limits,
}

/// Where and why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl TemplateError {
    fn new(line: usize, column: usize, message: String) -> Self {
        Self {
            line,
            column,
            message,
        }
    }
}

/// Why a rendering failed. On AWS each is a failed integration (a 5XX for
/// the caller), never a partial body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A method failed as Java's would throw: an index out of range, a
    /// string that is not a number, bad Base64, an invalid regular
    /// expression, an unsupported JSONPath.
    #[error("line {line}, column {column}: {message}")]
    Method {
        line: usize,
        column: usize,
        message: String,
    },
    /// `$input.json`/`$input.path` on a body that is not JSON.
    #[error("the body is not valid JSON: {0}")]
    InvalidBody(String),
    /// AWS: "an override may only be applied to each parameter once".
    #[error("{0} is overridden more than once")]
    OverrideRepeated(String),
    /// One of the [`Limits`] was reached.
    #[error("the template exceeded its {0} limit")]
    Limit(&'static str),
}

/// The result of a rendering: the body and what the template overrode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    pub body: String,
    pub overrides: Overrides,
}

/// Values a template set on `$context.requestOverride.*` and
/// `$context.responseOverride.*`, in the order it set them. The caller
/// applies them (request ones in an integration request, response ones in an
/// integration response).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    pub request_header: Vec<(String, String)>,
    pub request_path: Vec<(String, String)>,
    pub request_querystring: Vec<(String, String)>,
    pub response_header: Vec<(String, String)>,
    /// As the template wrote it (`400`, or `"400"`); the caller validates it.
    pub response_status: Option<String>,
}

/// What a template can read: the request or integration response as plain
/// data. Parameters keep the order given.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The payload: `$input.body`, and the document `$input.json`/`path` read.
    pub body: String,
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
    /// `$context`: `requestId`, `identity` (a map), `authorizer` …
    pub context: Map,
    pub stage_variables: Vec<(String, String)>,
}

impl Template {
    /// Parses with the default [`Limits`].
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        Self::parse_with_limits(source, Limits::default())
    }

    /// Parses; `limits` also bound every later rendering of this template.
    pub fn parse_with_limits(source: &str, limits: Limits) -> Result<Template, TemplateError> {
        let nodes = parse::parse(source, &limits)?;
        Ok(Template {
            source: source.to_owned(),
            nodes,
            limits,
        })
    }

    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn render(&self, inputs: &Inputs) -> Result<Rendered, RenderError> {
        render::render(&self.nodes, &self.source, inputs, &self.limits)
    }
}
