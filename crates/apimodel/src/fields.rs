//! The rules every stored value of an API definition obeys, whichever
//! front door stores it: the world file ([`crate::config`]), the OpenAPI
//! importer ([`crate::openapi`]) and both control planes (`apigateway`,
//! `apigatewayv2`). One function per rule, called by every front door, so
//! what one door refuses cannot come in through another, and a rule is
//! never written twice with two different answers.
//!
//! Why values are checked where they are stored, not where they are
//! served: a value the data plane later sends as an HTTP header (a MOCK
//! answer's headers, the static `'value'` of a response parameter) that no
//! HTTP response may carry — a line break, NUL, another control character
//! — used to be accepted, and then every call of its method failed for
//! good. Lengths are bounded for the same reason: nothing a caller stores
//! may grow without limit (a 100,000-character path part was accepted).
//!
//! Each refusal is an [`Invalid`]: AWS's `BadRequestException` message.
//! Where AWS's own words are known they are used, and the function says
//! where they come from; where AWS documents a limit but not the words of
//! its refusal, the words are ours; where AWS documents no limit at all,
//! the number is ours too, and the constant says so.

use std::collections::BTreeMap;
use std::fmt;

use http::header::{HeaderName, HeaderValue};

use crate::model::{ApiFlavour, PathPart};

/// Why a value is refused: the message of AWS's `BadRequestException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// `text` with control characters escaped (`\n`, `\u{0}`), so that a
/// refusal that quotes a value can be logged and shown as one line.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// AWS's length refusal (its validation-error wording; the value itself is
/// left out, as it may be very long).
fn too_long(member: &str, max: usize) -> Invalid {
    Invalid(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
    ))
}

/// Refuses `value` of `member` if longer than `max` characters (AWS counts
/// characters, not bytes).
fn at_most(member: &str, value: &str, max: usize) -> Result<(), Invalid> {
    // Counting stops at max + 1: a huge value costs no more than a fit one.
    if value.chars().nth(max).is_some() {
        Err(too_long(member, max))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Headers

/// Whether `name` can be sent as an HTTP header name: a non-empty token
/// (RFC 9110 §5.1), exactly as the data plane's HTTP library takes it.
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty() && HeaderName::from_bytes(name.as_bytes()).is_ok()
}

/// Whether `value` can be sent as an HTTP header value: visible
/// characters, spaces and tabs (RFC 9110 §5.5) — no CR, LF, NUL, other
/// control characters or DEL — exactly as the data plane's HTTP library
/// takes it.
pub fn is_header_value(value: &str) -> bool {
    HeaderValue::from_str(value).is_ok()
}

/// The fixed headers of a MOCK answer (world file, HTTP API MOCK
/// integrations, what a REST MOCK deployment serves). The words are ours:
/// AWS has no such member; its REST equivalent is
/// [`integration_response_parameter`].
pub fn mock_headers(headers: &[(String, String)]) -> Result<(), Invalid> {
    for (name, value) in headers {
        if !is_header_name(name) {
            return Err(Invalid(format!(
                "Invalid header name '{}': a header name is a token of letters, digits and !#$%&'*+-.^_`|~",
                shown(name)
            )));
        }
        if !is_header_value(value) {
            return Err(Invalid(format!(
                "Invalid value for header {name}: '{}' holds a character no HTTP header may carry (a control character such as CR, LF or NUL, or DEL)",
                shown(value)
            )));
        }
    }
    Ok(())
}

/// AWS's refusal of a mapping expression, as API Gateway words it
/// (observed on `PutIntegrationResponse` and `PutMethodResponse`; quoted in
/// Terraform and Ansible bug reports).
pub(crate) fn invalid_mapping(expression: &str) -> Invalid {
    Invalid(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {}]",
        shown(expression)
    ))
}

/// The header a `method.response.header.{name}` key names.
fn response_header(key: &str) -> Result<&str, Invalid> {
    key.strip_prefix("method.response.header.")
        .filter(|name| is_header_name(name))
        .ok_or_else(|| invalid_mapping(key))
}

/// Whether `code` is a status code as the `apigateway` model's
/// `StatusCode` shape takes it (pattern `[1-5]\d\d`): method, integration
/// and gateway responses.
pub fn is_status_code(code: &str) -> bool {
    code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit())
        && matches!(code.as_bytes().first(), Some(b'1'..=b'5'))
}

/// The literal inside a static mapping value `'…'`, if it is one.
pub fn static_value(value: &str) -> Option<&str> {
    value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
}

/// A key of a method response's `responseParameters`
/// (`PutMethodResponse`): `method.response.header.{name}`, the name a
/// header name.
pub fn method_response_parameter(key: &str) -> Result<(), Invalid> {
    response_header(key).map(drop)
}

/// One member of an integration response's `responseParameters`
/// (`PutIntegrationResponse`, OpenAPI `responses.*.responseParameters`):
/// the key `method.response.header.{name}`; the value a static `'…'` that
/// is a header value, or one of the expressions API Gateway maps from
/// (`integration.response.header.*`, `integration.response.multivalueheader.*`,
/// `integration.response.body[.*]`, `context.*`, `stageVariables.*`).
pub fn integration_response_parameter(key: &str, value: &str) -> Result<(), Invalid> {
    response_header(key)?;
    let ok = match static_value(value) {
        Some(literal) => is_header_value(literal),
        None => {
            [
                "integration.response.header.",
                "integration.response.multivalueheader.",
                "context.",
                "stageVariables.",
            ]
            .iter()
            .any(|prefix| {
                value
                    .strip_prefix(prefix)
                    .is_some_and(|rest| !rest.is_empty())
            }) || value == "integration.response.body"
                || value.starts_with("integration.response.body.")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_mapping(value))
    }
}

/// Where an integration request parameter goes.
const REQUEST_LOCATIONS: &[&str] = &[
    "header",
    "multivalueheader",
    "querystring",
    "multivaluequerystring",
    "path",
];

/// One member of an integration's `requestParameters` (`PutIntegration`,
/// `UpdateIntegration`): the key `integration.request.{location}.{name}`
/// — a header's name a header name — and the value a static `'…'` (a
/// header value, for a header) or an expression API Gateway maps from
/// (`method.request.*`, `context.*`, `stageVariables.*`).
pub fn integration_request_parameter(key: &str, value: &str) -> Result<(), Invalid> {
    let (location, name) = key
        .strip_prefix("integration.request.")
        .and_then(|rest| rest.split_once('.'))
        .filter(|(location, name)| REQUEST_LOCATIONS.contains(location) && !name.is_empty())
        .ok_or_else(|| invalid_mapping(key))?;
    let header = location.ends_with("header");
    if header && !is_header_name(name) {
        return Err(invalid_mapping(key));
    }
    let ok = match static_value(value) {
        Some(literal) => !header || is_header_value(literal),
        None => ["method.request.", "context.", "stageVariables."]
            .iter()
            .any(|prefix| {
                value
                    .strip_prefix(prefix)
                    .is_some_and(|rest| !rest.is_empty())
            }),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_mapping(value))
    }
}

// ---------------------------------------------------------------------------
// Lengths

/// An HTTP API's name: at most 128 characters (`apigatewayv2` model,
/// `StringWithLengthBetween1And128`).
pub const HTTP_API_NAME_MAX: usize = 128;

/// A REST API's name: at most 1024 characters. Ours: the `apigateway`
/// model and quotas give no bound, and AWS warns that API names can exceed
/// CloudWatch's 255-character dimension values, so REST names may be
/// longer than HTTP API names; 1024 bounds them well above that.
pub const REST_API_NAME_MAX: usize = 1024;

/// Descriptions (API, stage, deployment, integration): at most 1024
/// characters (`apigatewayv2` model, `StringWithLengthBetween0And1024`;
/// the `apigateway` model states none, and the same bound is applied).
pub const DESCRIPTION_MAX: usize = 1024;

/// An API's version label: at most 64 characters (`apigatewayv2` model,
/// `StringWithLengthBetween1And64`; applied to REST APIs too).
pub const VERSION_MAX: usize = 64;

/// A stage name: 1 to 128 of `a-zA-Z0-9_-` (both models' `stageName`
/// documentation, and the REST notes of the developer guide).
pub const STAGE_NAME_MAX: usize = 128;

/// A path as stored: a REST resource's full path, the path of an HTTP
/// route key, a custom domain's base path. Ours: AWS documents no bound
/// for a path part or a path, only that a method's ARN, which holds the
/// path, is at most 1600 bytes (quotas page); 1024 characters always fit
/// in such an ARN with the longest region, account, API id, stage (128)
/// and method, and a longer path could never be authorized.
pub const PATH_MAX: usize = 1024;

/// An integration's URI: at most 2048 characters (`apigatewayv2` model,
/// `UriWithLengthBetween1And2048`; applied to REST integrations too).
pub const URI_MAX: usize = 2048;

/// A mapping template (request and response templates, a MOCK body): at
/// most 300 KB ("The maximum size of a mapping template is 300 KB",
/// developer guide, important notes for REST APIs).
pub const TEMPLATE_MAX_BYTES: usize = 300 * 1024;

/// Tags: at most 50 per resource, keys 1 to 128 characters, values at most
/// 256, no `aws:` prefix (`apigateway` model, every `tags` member; the
/// tagging page of the developer guide, for both API types).
pub const TAGS_MAX: usize = 50;
pub const TAG_KEY_MAX: usize = 128;
pub const TAG_VALUE_MAX: usize = 256;

/// Stage variables: at most 100 per stage, names 1 to 64 of
/// `a-zA-Z0-9_`, values 1 to 512 of `A-Za-z0-9-._~:/?#&=,` (quotas of
/// both API types; both models' `variables` documentation).
pub const STAGE_VARIABLES_MAX: usize = 100;
pub const STAGE_VARIABLE_NAME_MAX: usize = 64;
pub const STAGE_VARIABLE_VALUE_MAX: usize = 512;

/// A REST API's `name` (`CreateRestApi`, `UpdateRestApi`, `info.title` of
/// an imported document).
pub fn rest_api_name(name: &str) -> Result<(), Invalid> {
    at_most("name", name, REST_API_NAME_MAX)
}

/// An HTTP API's `name` (`CreateApi`, `UpdateApi`, `info.title` of an
/// imported document).
pub fn http_api_name(name: &str) -> Result<(), Invalid> {
    at_most("name", name, HTTP_API_NAME_MAX)
}

/// A `description` of an API, stage, deployment or integration.
pub fn description(text: Option<&str>) -> Result<(), Invalid> {
    text.map_or(Ok(()), |text| at_most("description", text, DESCRIPTION_MAX))
}

/// A REST API's `description`: API Gateway refuses an empty one
/// (`CreateRestApi`).
pub fn rest_api_description(text: Option<&str>) -> Result<(), Invalid> {
    if text == Some("") {
        return Err(Invalid("Description cannot be an empty string".to_owned()));
    }
    description(text)
}

/// The largest `minimumCompressionSize`: 10 MiB ("between 0 and 10485760
/// (10M) bytes, inclusive", the `RestApi` documentation).
pub const MINIMUM_COMPRESSION_SIZE_MAX: i64 = 10_485_760;

/// A REST API's `minimumCompressionSize`, in API Gateway's words.
pub fn minimum_compression_size(size: i64) -> Result<u32, Invalid> {
    u32::try_from(size)
        .ok()
        .filter(|size| i64::from(*size) <= MINIMUM_COMPRESSION_SIZE_MAX)
        .ok_or_else(|| {
            Invalid(format!(
                "Invalid minimum compression size, must be between 0 and {MINIMUM_COMPRESSION_SIZE_MAX}"
            ))
        })
}

/// The IP address type an endpoint type gets when none is given:
/// `dualstack` for `PRIVATE` (the only one it supports), `ipv4` otherwise.
pub fn default_ip_address_type(endpoint: crate::model::EndpointType) -> &'static str {
    match endpoint {
        crate::model::EndpointType::Private => "dualstack",
        _ => "ipv4",
    }
}

/// An endpoint's `ipAddressType` (`ipv4` or `dualstack`, the model's
/// enumeration) for endpoint type `endpoint`: "For the PRIVATE endpoint
/// type, only dualstack is supported" (the `EndpointConfiguration`
/// documentation), refused in API Gateway's words.
pub fn ip_address_type(endpoint: crate::model::EndpointType, ip: &str) -> Result<(), Invalid> {
    if endpoint == crate::model::EndpointType::Private && ip == "ipv4" {
        return Err(Invalid(
            "Only dualstack ipAddressType is supported for Private APIs.".to_owned(),
        ));
    }
    Ok(())
}

/// An API's `version`.
pub fn version(text: Option<&str>) -> Result<(), Invalid> {
    text.map_or(Ok(()), |text| at_most("version", text, VERSION_MAX))
}

/// A stage name; `$default` only where `default_allowed` (HTTP APIs).
/// The words are those of the developer guide's rule.
pub fn stage_name(name: &str, default_allowed: bool) -> Result<(), Invalid> {
    if default_allowed && name == "$default" {
        return Ok(());
    }
    let ok = !name.is_empty()
        && name.len() <= STAGE_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Invalid(format!(
            "Invalid stage name '{}': stage names can only contain alphanumeric characters, hyphens, and underscores. Maximum length is {STAGE_NAME_MAX} characters.",
            shown(name)
        )))
    }
}

/// A stored path: a REST resource's path, an HTTP route key's path, a
/// base path. `member` names it in the refusal.
pub fn path(member: &str, path: &str) -> Result<(), Invalid> {
    at_most(member, path, PATH_MAX)
}

/// An integration's URI.
pub fn uri(uri: &str) -> Result<(), Invalid> {
    at_most("uri", uri, URI_MAX)
}

/// A mapping template for `content_type`, or a MOCK answer's body.
pub fn template(content_type: &str, template: &str) -> Result<(), Invalid> {
    if template.len() > TEMPLATE_MAX_BYTES {
        return Err(Invalid(format!(
            "The mapping template for {} is larger than the maximum size of 300 KB",
            shown(content_type)
        )));
    }
    Ok(())
}

/// A mapping template for `content_type`, parsed as API Gateway's Velocity
/// ([`iamgate_vtl`]): what does not parse is refused where it would be
/// stored, so a deployed method never holds a template it cannot render.
pub fn mapping_template(content_type: &str, text: &str) -> Result<iamgate_vtl::Template, Invalid> {
    template(content_type, text)?;
    iamgate_vtl::Template::parse(text).map_err(|error| {
        Invalid(format!(
            "Invalid mapping template specified for content type '{}': {}",
            shown(content_type),
            shown(&error.to_string())
        ))
    })
}

/// Every template of a `{content type: template}` map, parsed.
pub fn templates(templates: &BTreeMap<String, String>) -> Result<(), Invalid> {
    for (content_type, text) in templates {
        mapping_template(content_type, text)?;
    }
    Ok(())
}

/// Longest selection pattern (ours: patterns are short alternations of
/// status codes or error texts).
pub const SELECTION_PATTERN_MAX: usize = 1024;

/// An integration response's `selectionPattern`: a regular expression the
/// whole status code must match (Java's `String.matches`), compiled with
/// bounded size. Java syntax the `regex` crate lacks (back-references,
/// look-around) is refused rather than matched differently.
pub fn selection_pattern(pattern: &str) -> Result<regex::Regex, Invalid> {
    at_most("selectionPattern", pattern, SELECTION_PATTERN_MAX)?;
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|_| {
            Invalid(format!(
                "Invalid selection pattern specified: {}",
                shown(pattern)
            ))
        })
}

/// A resource's tags, as they would be stored (after a `TagResource`
/// merged new ones in, so the count is the resource's total).
pub fn tags(tags: &BTreeMap<String, String>) -> Result<(), Invalid> {
    if tags.len() > TAGS_MAX {
        return Err(Invalid(format!(
            "A resource can have at most {TAGS_MAX} tags"
        )));
    }
    for (key, value) in tags {
        if key.is_empty() {
            return Err(Invalid("Tag keys must not be empty".to_owned()));
        }
        at_most("tags.key", key, TAG_KEY_MAX)?;
        at_most("tags.value", value, TAG_VALUE_MAX)?;
        if key
            .get(..4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
        {
            return Err(Invalid(format!(
                "Invalid tag key '{}': tag keys may not begin with aws:",
                shown(key)
            )));
        }
    }
    Ok(())
}

/// A stage's variables, as they would be stored.
pub fn stage_variables(variables: &BTreeMap<String, String>) -> Result<(), Invalid> {
    if variables.len() > STAGE_VARIABLES_MAX {
        return Err(Invalid(format!(
            "A stage can have at most {STAGE_VARIABLES_MAX} stage variables"
        )));
    }
    for (name, value) in variables {
        let name_ok = !name.is_empty()
            && name.len() <= STAGE_VARIABLE_NAME_MAX
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(Invalid(format!(
                "Invalid stage variable name '{}': 1 to {STAGE_VARIABLE_NAME_MAX} alphanumeric and underscore characters",
                shown(name)
            )));
        }
        let value_ok = !value.is_empty()
            && value.len() <= STAGE_VARIABLE_VALUE_MAX
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#&=,".contains(&b));
        if !value_ok {
            return Err(Invalid(format!(
                "Invalid value for stage variable {name}: 1 to {STAGE_VARIABLE_VALUE_MAX} characters matching [A-Za-z0-9-._~:/?#&=,]+"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Path templates and route keys

/// AWS's refusal of a `pathPart` (`CreateResource`, `UpdateResource`).
pub const PATH_PART_RULE: &str = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.";

/// The methods a REST method or an HTTP route may name (`ANY` is all of
/// them; both models' `httpMethod` / route key documentation).
pub const METHODS: &[&str] = &[
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
];

/// A path template as API Gateway stores it: a REST resource's full path
/// (world file, OpenAPI path) or the path of an HTTP route key: `/`, or
/// `/`-separated segments, each a literal, `{name}` or, last only,
/// `{name+}` ("The greedy path variable must be at the end of the resource
/// path", developer guide, "Create routes for HTTP APIs" and "Set up a
/// proxy integration with a proxy resource"). Parameter names are
/// `[a-zA-Z0-9._-]+`. REST literals are `a-zA-Z0-9._-:` (the `pathPart`
/// rule, plus the `:` of custom-method paths); HTTP route literals may hold
/// any visible character but braces, and an HTTP route may not name a
/// parameter twice. `member` names the value in a length refusal.
pub fn path_template(
    flavour: ApiFlavour,
    member: &str,
    path: &str,
) -> Result<Vec<PathPart>, Invalid> {
    at_most(member, path, PATH_MAX)?;
    let invalid = |why: String| Invalid(format!("Invalid path '{}': {why}", shown(path)));
    let Some(rest) = path.strip_prefix('/') else {
        return Err(invalid("a path starts with /".to_owned()));
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let mut parts: Vec<PathPart> = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let part = path_segment(flavour, segment).map_err(invalid)?;
        match &part {
            PathPart::Greedy(_) if index + 1 != segments.len() => {
                return Err(invalid(format!(
                    "the greedy path variable {} must be at the end of the resource path",
                    shown(segment)
                )));
            }
            PathPart::Param(name) | PathPart::Greedy(name)
                if flavour == ApiFlavour::Http
                    && parts.iter().any(
                        |p| matches!(p, PathPart::Param(n) | PathPart::Greedy(n) if n == name),
                    ) =>
            {
                return Err(invalid(format!("path parameter {name} appears twice")));
            }
            _ => {}
        }
        parts.push(part);
    }
    Ok(parts)
}

/// One segment of a path template (see [`path_template`]).
fn path_segment(flavour: ApiFlavour, segment: &str) -> Result<PathPart, String> {
    if segment.is_empty() {
        return Err("empty path segment".to_owned());
    }
    if let Some(inner) = segment.strip_prefix('{') {
        let name = inner
            .strip_suffix('}')
            .map(|inner| inner.strip_suffix('+').unwrap_or(inner));
        let name_ok = name.is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
        return if name_ok {
            Ok(PathPart::parse(segment))
        } else {
            Err(format!("invalid path parameter {}", shown(segment)))
        };
    }
    let literal_ok = match flavour {
        ApiFlavour::Rest => segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b)),
        ApiFlavour::Http => segment
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '{' && c != '}'),
    };
    if literal_ok {
        Ok(PathPart::Literal(segment.to_owned()))
    } else {
        Err(format!("invalid path segment {}", shown(segment)))
    }
}

/// One REST `pathPart` (`CreateResource`, `UpdateResource`): exactly one
/// segment of [`path_template`], refused with AWS's words.
pub fn path_part(part: &str) -> Result<PathPart, Invalid> {
    if part.is_empty() || part.contains('/') {
        return Err(Invalid(PATH_PART_RULE.to_owned()));
    }
    // Too long is said as such; every other flaw in AWS's words.
    at_most("path", &format!("/{part}"), PATH_MAX)?;
    let parts = path_template(ApiFlavour::Rest, "path", &format!("/{part}"))
        .map_err(|_| Invalid(PATH_PART_RULE.to_owned()))?;
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Invalid(PATH_PART_RULE.to_owned())),
    }
}

/// A parsed route key: the method (`None` for `ANY` and `$default`) and
/// the path (`None` for `$default`).
pub type RouteKey = (Option<String>, Option<Vec<PathPart>>);

/// An HTTP API route key as API Gateway accepts it: `$default`, or a
/// method of [`METHODS`], one space and a [`path_template`].
pub fn route_key(key: &str) -> Result<RouteKey, Invalid> {
    if key == "$default" {
        return Ok((None, None));
    }
    let invalid = |why: &str| {
        Invalid(format!(
            "Invalid route key {}: {why}. A route key is $default, or a method (or ANY), one space and a path such as GET /pets/{{id}}",
            shown(key)
        ))
    };
    let (method, path) = key
        .split_once(' ')
        .ok_or_else(|| invalid("no method and path"))?;
    if !METHODS.contains(&method) {
        return Err(invalid(&format!("unknown method {}", shown(method))));
    }
    let parts = match path_template(ApiFlavour::Http, "routeKey", path) {
        Ok(parts) => parts,
        Err(refused) if refused.0.starts_with("1 validation error") => return Err(refused),
        Err(refused) => return Err(invalid(&refused.0)),
    };
    Ok(((method != "ANY").then(|| method.to_owned()), Some(parts)))
}

// ---------------------------------------------------------------------------
// Integrations

/// The shortest integration timeout of either API type.
pub const INTEGRATION_TIMEOUT_MIN_MS: u64 = 50;
/// REST APIs: 50 to 29,000 ms, 29,000 by default (`apigateway`
/// `PutIntegration` `timeoutInMillis`: "between 50 and 29,000
/// milliseconds. The default value is 29,000 milliseconds").
pub const REST_INTEGRATION_TIMEOUT_MAX_MS: u64 = 29_000;
/// HTTP APIs: 50 to 30,000 ms, 30,000 by default (`apigatewayv2`
/// `TimeoutInMillis`: "between 50 and 30,000 milliseconds for HTTP APIs.
/// The default timeout is … 30 seconds for HTTP APIs").
pub const HTTP_INTEGRATION_TIMEOUT_MAX_MS: u64 = 30_000;

/// The longest integration timeout of `flavour`, which is its default too.
pub fn default_timeout_ms(flavour: ApiFlavour) -> u64 {
    match flavour {
        ApiFlavour::Rest => REST_INTEGRATION_TIMEOUT_MAX_MS,
        ApiFlavour::Http => HTTP_INTEGRATION_TIMEOUT_MAX_MS,
    }
}

/// An integration's `timeoutInMillis`, in AWS's REST wording.
pub fn integration_timeout(flavour: ApiFlavour, timeout_ms: u64) -> Result<(), Invalid> {
    let max = default_timeout_ms(flavour);
    if (INTEGRATION_TIMEOUT_MIN_MS..=max).contains(&timeout_ms) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "Timeout should be between {INTEGRATION_TIMEOUT_MIN_MS} ms and {max} ms"
        )))
    }
}

/// What a Lambda integration URI names ([`lambda_function`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LambdaUri<'a> {
    /// The function as the URI names it: a function ARN, or whatever the
    /// `functions/{…}/invocations` segment holds.
    pub invoked: &'a str,
    /// Whether the URI is API Gateway's invocation URI
    /// (`arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations`,
    /// the only form REST APIs take) rather than a bare function ARN (which
    /// HTTP APIs take too).
    pub via_apigateway: bool,
}

impl LambdaUri<'_> {
    /// `name` or `name:qualifier` (version or alias), as the Lambda Invoke
    /// API takes it, when the URI names a well-formed function ARN
    /// (`arn:{partition}:lambda:{region}:{account}:function:{name}[:{qualifier}]`,
    /// names of 1 to 64 `a-zA-Z0-9-_`, qualifiers of 1 to 128
    /// `a-zA-Z0-9-_$`).
    pub fn name(&self) -> Option<String> {
        function_name(function_arn_rest(self.invoked)?)
    }

    /// The function to invoke: [`Self::name`] of a function ARN, or the
    /// `name[:qualifier]` an invocation URI holds in place of one.
    pub fn to_invoke(&self) -> Option<String> {
        function_name(function_arn_rest(self.invoked).unwrap_or(self.invoked))
    }
}

/// The one form every front door leaves a Lambda integration's function
/// in, so that they all invoke the same thing: `name` or `name:qualifier`,
/// as the Lambda Invoke API and local runtimes (`sam local start-lambda`,
/// `cargo lambda`) take it, from a function ARN, API Gateway's invocation
/// URI, or a name.
pub fn function_to_invoke(reference: &str) -> Option<String> {
    match lambda_function(reference) {
        Some(lambda) => lambda.to_invoke(),
        None => function_name(reference),
    }
}

/// `name` or `name:qualifier`: names of 1 to 64 `a-zA-Z0-9-_`, qualifiers
/// (version or alias) of 1 to 128 `a-zA-Z0-9-_$`.
fn function_name(text: &str) -> Option<String> {
    let mut names = text.split(':');
    let name = names.next()?;
    let qualifier = names.next();
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let qualifier_ok = qualifier.is_none_or(|qualifier| {
        (1..=128).contains(&qualifier.len())
            && qualifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$')
    });
    (name_ok && qualifier_ok && names.next().is_none()).then(|| text.to_owned())
}

/// The part of a function ARN after `function:`, if `arn` is one.
fn function_arn_rest(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    match (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) {
        (
            Some("arn"),
            Some(partition),
            Some("lambda"),
            Some(_region),
            Some(_account),
            Some(rest),
        ) if !partition.is_empty() => rest.strip_prefix("function:"),
        _ => None,
    }
}

/// The one reader of Lambda integration URIs, for every front door and
/// for deployment: API Gateway's invocation URI around any function
/// reference, or a bare function ARN; `None` for anything else.
pub fn lambda_function(uri: &str) -> Option<LambdaUri<'_>> {
    let mut fields = uri.splitn(5, ':');
    if let (Some("arn"), Some(partition), Some("apigateway"), Some(_region), Some(rest)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) && !partition.is_empty()
    {
        let invoked = rest
            .strip_prefix("lambda:path/2015-03-31/functions/")?
            .strip_suffix("/invocations")?;
        return (!invoked.is_empty()).then_some(LambdaUri {
            invoked,
            via_apigateway: true,
        });
    }
    function_arn_rest(uri).map(|_| LambdaUri {
        invoked: uri,
        via_apigateway: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_refuse_line_breaks_nul_controls_and_del_but_not_text() {
        for bad in [
            "a\nb",
            "a\rb",
            "a\0b",
            "a\u{1}b",
            "a\u{7f}b",
            "\r\nX-Injected: 1",
        ] {
            assert!(!is_header_value(bad), "{bad:?}");
        }
        for good in ["text/plain", "a b\tc", "", "café", "'quoted'"] {
            assert!(is_header_value(good), "{good:?}");
        }
    }

    #[test]
    fn header_names_are_tokens() {
        for bad in ["", "X Y", "X:Y", "X\nY", "X\u{0}", "é"] {
            assert!(!is_header_name(bad), "{bad:?}");
        }
        for good in ["X-Pet", "content-type", "x_y.z~1"] {
            assert!(is_header_name(good), "{good:?}");
        }
    }

    #[test]
    fn a_static_response_parameter_must_be_a_header_value() {
        let key = "method.response.header.Content-Type";
        assert_eq!(integration_response_parameter(key, "'text/plain'"), Ok(()));
        assert_eq!(
            integration_response_parameter(key, "'text/plain\n'"),
            Err(Invalid(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: 'text/plain\\n']".to_owned()
            ))
        );
        for value in [
            "integration.response.header.X",
            "integration.response.body",
            "integration.response.body.a.b",
            "context.requestId",
        ] {
            assert_eq!(
                integration_response_parameter(key, value),
                Ok(()),
                "{value}"
            );
        }
        for value in ["text/plain", "integration.response.header.", "'a\u{7f}'"] {
            assert!(
                integration_response_parameter(key, value).is_err(),
                "{value}"
            );
        }
        for key in [
            "method.response.header.",
            "method.response.header.A B",
            "X-Pet",
        ] {
            assert!(integration_response_parameter(key, "'x'").is_err(), "{key}");
            assert!(method_response_parameter(key).is_err(), "{key}");
        }
    }

    #[test]
    fn integration_request_headers_are_checked_as_headers() {
        assert_eq!(
            integration_request_parameter("integration.request.header.X-Id", "'7'"),
            Ok(())
        );
        assert_eq!(
            integration_request_parameter(
                "integration.request.querystring.q",
                "method.request.querystring.q"
            ),
            Ok(())
        );
        for (key, value) in [
            ("integration.request.header.X-Id", "'a\r\nb'"),
            ("integration.request.header.X Id", "'7'"),
            ("integration.request.cookie.a", "'7'"),
            ("method.request.header.a", "'7'"),
            ("integration.request.header.X", "whatever"),
        ] {
            assert!(
                integration_request_parameter(key, value).is_err(),
                "{key} {value}"
            );
        }
    }

    #[test]
    fn lengths_are_counted_in_characters_up_to_the_limit() {
        assert_eq!(http_api_name(&"é".repeat(128)), Ok(()));
        assert!(http_api_name(&"é".repeat(129)).is_err());
        assert_eq!(rest_api_name(&"n".repeat(1024)), Ok(()));
        assert_eq!(
            rest_api_name(&"n".repeat(1025)),
            Err(Invalid("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to 1024".to_owned()))
        );
        assert_eq!(path("path", &"/".repeat(1024)), Ok(()));
        assert!(path("path", &"/".repeat(1025)).is_err());
    }

    #[test]
    fn stage_names_tags_and_variables_follow_the_documented_rules() {
        assert_eq!(stage_name(&"s".repeat(128), false), Ok(()));
        assert!(stage_name(&"s".repeat(129), false).is_err());
        assert!(stage_name("$default", false).is_err());
        assert_eq!(stage_name("$default", true), Ok(()));
        assert!(stage_name("a/b", true).is_err());

        let ok: BTreeMap<String, String> = (0..50)
            .map(|i| (format!("k{i}"), "v".repeat(256)))
            .collect();
        assert_eq!(tags(&ok), Ok(()));
        let mut more = ok.clone();
        more.insert("k50".into(), String::new());
        assert!(tags(&more).is_err());
        assert!(tags(&BTreeMap::from([("k".repeat(129), String::new())])).is_err());
        assert!(tags(&BTreeMap::from([("AWS:x".into(), String::new())])).is_err());

        assert_eq!(
            stage_variables(&BTreeMap::from([("a_1".repeat(21) + "a", "v".repeat(512))])),
            Ok(())
        );
        assert!(stage_variables(&BTreeMap::from([("a".into(), "v".repeat(513))])).is_err());
        assert!(stage_variables(&BTreeMap::from([("a".into(), "a b".into())])).is_err());
        assert!(stage_variables(&BTreeMap::from([("a".repeat(65), "v".into())])).is_err());
    }
}
