//! REST integrations that transform: MOCK and HTTP (non-proxy), as a
//! deployment freezes them.
//!
//! Why a module of its own: these integrations are described by the same
//! fields at every front door — `requestTemplates` by content type,
//! `passthroughBehavior`, `requestParameters`, and integration responses
//! with `selectionPattern`, `responseParameters` and `responseTemplates`
//! (PutIntegration/PutIntegrationResponse, OpenAPI's
//! `x-amazon-apigateway-integration`). [`Mapped::from_record`] is the one
//! constructor that checks them and parses every template, so the data
//! plane only ever holds templates that parsed; the gateway renders them
//! (`iamgate_gateway::mapping`).
//!
//! The deployed form keeps each template's text (that is what the store
//! holds) and its parsed tree, parsed again when a deployment is read.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fields::{self, Invalid};
use crate::model::ApiFlavour;
use crate::stored::{IntegrationRecord, IntegrationResponseRecord};

/// A parsed mapping template. Equal when the texts are.
#[derive(Clone)]
pub struct MappingTemplate(Arc<iamgate_vtl::Template>);

impl std::fmt::Debug for MappingTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("MappingTemplate")
            .field(&self.source())
            .finish()
    }
}

impl MappingTemplate {
    /// Parses `text`, the template for `content_type`, with the one rule
    /// every front door applies ([`fields::mapping_template`]).
    pub fn parse(content_type: &str, text: &str) -> Result<Self, Invalid> {
        fields::mapping_template(content_type, text).map(|t| Self(Arc::new(t)))
    }

    pub fn source(&self) -> &str {
        self.0.source()
    }

    pub fn template(&self) -> &iamgate_vtl::Template {
        &self.0
    }
}

impl PartialEq for MappingTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source() == other.source()
    }
}

impl Eq for MappingTemplate {}

impl Serialize for MappingTemplate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.source())
    }
}

impl<'de> Deserialize<'de> for MappingTemplate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        iamgate_vtl::Template::parse(&text)
            .map(|t| Self(Arc::new(t)))
            .map_err(serde::de::Error::custom)
    }
}

/// A compiled `selectionPattern`. Equal when the texts are.
#[derive(Debug, Clone)]
pub struct SelectionPattern {
    text: String,
    regex: regex::Regex,
}

impl SelectionPattern {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        Ok(Self {
            text: text.to_owned(),
            regex: fields::selection_pattern(text)?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `subject` matches, as Java's `String.matches`.
    pub fn matches(&self, subject: &str) -> bool {
        self.regex.is_match(subject)
    }
}

impl PartialEq for SelectionPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for SelectionPattern {}

impl Serialize for SelectionPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SelectionPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|invalid| serde::de::Error::custom(invalid.0))
    }
}

/// What happens to a request whose Content-Type has no request template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Passthrough {
    /// Pass the body through untransformed (AWS's default).
    WhenNoMatch,
    /// Pass it through only when the integration has no templates at all;
    /// otherwise 415.
    WhenNoTemplates,
    /// Always 415.
    Never,
}

impl Passthrough {
    pub fn parse(name: &str) -> Option<Passthrough> {
        match name {
            "WHEN_NO_MATCH" => Some(Passthrough::WhenNoMatch),
            "WHEN_NO_TEMPLATES" => Some(Passthrough::WhenNoTemplates),
            "NEVER" => Some(Passthrough::Never),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Passthrough::WhenNoMatch => "WHEN_NO_MATCH",
            Passthrough::WhenNoTemplates => "WHEN_NO_TEMPLATES",
            Passthrough::Never => "NEVER",
        }
    }
}

/// Where a transforming integration sends the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    /// Nowhere: the rendered request template's `statusCode` is the
    /// integration's status, and its body is empty.
    Mock,
    /// An HTTP endpoint, called with `method` (`ANY`: the caller's).
    /// `uri` may hold `{name}` placeholders, filled from the
    /// `integration.request.path.*` parameters, and `${stageVariables.x}`.
    Http {
        method: String,
        uri: String,
        timeout_ms: u64,
    },
}

/// One integration response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedResponse {
    /// The method response status it answers with.
    pub status: u16,
    /// `None`: the default response, chosen when no pattern matches.
    pub selection_pattern: Option<SelectionPattern>,
    /// `(header name, source)`: the source as written — `'literal'`,
    /// `integration.response.header.X`, `integration.response.body[.path]`,
    /// `stageVariables.x` or `context.x`.
    pub parameters: Vec<(String, String)>,
    /// By content type.
    pub templates: Vec<(String, MappingTemplate)>,
}

/// A MOCK or HTTP (non-proxy) integration of a REST method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapped {
    pub backend: Backend,
    pub passthrough: Passthrough,
    /// `(integration.request.{header|querystring|path}.name, source)`; the
    /// source as written — `'literal'`, `method.request.{path|querystring|header}.x`,
    /// `stageVariables.x` or `context.x`.
    pub request_parameters: Vec<(String, String)>,
    /// By content type.
    pub request_templates: Vec<(String, MappingTemplate)>,
    /// In the order the store keeps them (by status code).
    pub responses: Vec<MappedResponse>,
}

/// Sources of an integration request parameter the gateway fills.
const REQUEST_SOURCES: &[&str] = &[
    "method.request.path.",
    "method.request.querystring.",
    "method.request.header.",
    "stageVariables.",
    "context.",
];

/// Sources of a method response header the gateway fills.
const RESPONSE_SOURCES: &[&str] = &[
    "integration.response.header.",
    "integration.response.body.",
    "stageVariables.",
    "context.",
];

fn unsupported(what: &str) -> Invalid {
    Invalid(format!("{what} is not supported by iamgate"))
}

fn parse_templates(
    templates: &BTreeMap<String, String>,
) -> Result<Vec<(String, MappingTemplate)>, Invalid> {
    templates
        .iter()
        .map(|(content_type, text)| {
            if !fields::is_header_value(content_type) {
                return Err(Invalid(format!(
                    "Invalid content type specified: {}",
                    content_type.escape_default()
                )));
            }
            Ok((
                content_type.clone(),
                MappingTemplate::parse(content_type, text)?,
            ))
        })
        .collect()
}

impl Mapped {
    /// The one validating constructor: a stored MOCK or HTTP integration
    /// as the data plane serves it. Refuses what iamgate would not serve
    /// the way AWS does (a parameter source it does not fill, `AWS`
    /// integrations), failing closed.
    pub fn from_record(record: &IntegrationRecord) -> Result<Mapped, Invalid> {
        let backend = match record.integration_type.as_str() {
            "MOCK" => Backend::Mock,
            "HTTP" => {
                let uri = record
                    .uri
                    .clone()
                    .ok_or_else(|| Invalid("Integration URI is required".to_owned()))?;
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(Invalid(
                        "Invalid HTTP endpoint specified for URI".to_owned(),
                    ));
                }
                fields::uri(&uri)?;
                let method = record
                    .http_method
                    .clone()
                    .filter(|m| fields::METHODS.contains(&m.as_str()))
                    .ok_or_else(|| Invalid("Invalid HttpMethod specified".to_owned()))?;
                fields::integration_timeout(ApiFlavour::Rest, record.timeout_ms)?;
                Backend::Http {
                    method,
                    uri,
                    timeout_ms: record.timeout_ms,
                }
            }
            other => return Err(unsupported(&format!("Integration type {other}"))),
        };
        let passthrough = match record.passthrough_behavior.as_deref() {
            None => Passthrough::WhenNoMatch,
            Some(name) => Passthrough::parse(name).ok_or_else(|| {
                Invalid(format!(
                    "Invalid passthrough behavior specified: {}",
                    name.escape_default()
                ))
            })?,
        };
        let mut request_parameters = Vec::new();
        for (key, source) in &record.request_parameters {
            fields::integration_request_parameter(key, source)?;
            let location_ok = ["header.", "querystring.", "path."].iter().any(|l| {
                key.strip_prefix("integration.request.")
                    .is_some_and(|k| k.starts_with(l))
            });
            let source_ok = fields::static_value(source).is_some()
                || REQUEST_SOURCES.iter().any(|s| source.starts_with(s));
            if !location_ok || !source_ok {
                return Err(unsupported(&format!(
                    "The request parameter mapping {key} = {source}"
                )));
            }
            request_parameters.push((key.clone(), source.clone()));
        }
        let responses = record
            .integration_responses
            .values()
            .map(mapped_response)
            .collect::<Result<_, _>>()?;
        Ok(Mapped {
            backend,
            passthrough,
            request_parameters,
            request_templates: parse_templates(&record.request_templates)?,
            responses,
        })
    }

    /// The stored description of this integration (for declared and
    /// imported APIs, whose editable form is made from the model).
    pub fn to_record(&self) -> IntegrationRecord {
        let (integration_type, http_method, uri, timeout_ms) = match &self.backend {
            Backend::Mock => (
                "MOCK",
                None,
                None,
                fields::default_timeout_ms(ApiFlavour::Rest),
            ),
            Backend::Http {
                method,
                uri,
                timeout_ms,
            } => ("HTTP", Some(method.clone()), Some(uri.clone()), *timeout_ms),
        };
        let texts = |templates: &[(String, MappingTemplate)]| {
            templates
                .iter()
                .map(|(content_type, t)| (content_type.clone(), t.source().to_owned()))
                .collect()
        };
        IntegrationRecord {
            integration_type: integration_type.to_owned(),
            http_method,
            uri,
            timeout_ms,
            connection_type: Some("INTERNET".to_owned()),
            credentials: None,
            cache_namespace: None,
            cache_key_parameters: Vec::new(),
            content_handling: None,
            passthrough_behavior: Some(self.passthrough.name().to_owned()),
            request_parameters: self.request_parameters.iter().cloned().collect(),
            request_templates: texts(&self.request_templates),
            integration_responses: self
                .responses
                .iter()
                .map(|r| {
                    let status = r.status.to_string();
                    let record = IntegrationResponseRecord {
                        status_code: status.clone(),
                        content_handling: None,
                        selection_pattern: r
                            .selection_pattern
                            .as_ref()
                            .map(|p| p.as_str().to_owned()),
                        response_parameters: r
                            .parameters
                            .iter()
                            .map(|(h, s)| (format!("method.response.header.{h}"), s.clone()))
                            .collect(),
                        response_templates: texts(&r.templates),
                        given_empty: Default::default(),
                    };
                    (status, record)
                })
                .collect(),
            lambda_endpoint: None,
        }
    }
}

fn mapped_response(record: &IntegrationResponseRecord) -> Result<MappedResponse, Invalid> {
    let status = record
        .status_code
        .parse::<u16>()
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| Invalid("Invalid response status code specified".to_owned()))?;
    let selection_pattern = match record.selection_pattern.as_deref() {
        None | Some("") => None,
        Some(pattern) => Some(SelectionPattern::parse(pattern)?),
    };
    let mut parameters = Vec::new();
    for (key, source) in &record.response_parameters {
        fields::integration_response_parameter(key, source)?;
        let source_ok = fields::static_value(source).is_some()
            || source == "integration.response.body"
            || RESPONSE_SOURCES.iter().any(|s| source.starts_with(s));
        let header = key.strip_prefix("method.response.header.");
        match header {
            Some(header) if source_ok => parameters.push((header.to_owned(), source.clone())),
            _ => {
                return Err(unsupported(&format!(
                    "The response parameter mapping {key} = {source}"
                )));
            }
        }
    }
    Ok(MappedResponse {
        status,
        selection_pattern,
        parameters,
        templates: parse_templates(&record.response_templates)?,
    })
}

/// The status a MOCK integration answers with: the `statusCode` of its
/// rendered request template. JSON is read as JSON; other text (CDK's
/// CORS preflight writes `{ statusCode: 200 }`, which API Gateway accepts)
/// by finding the name. An empty body is 200; anything else without a
/// status between 100 and 599 is `None`, AWS's "statusCode should be an
/// integer which defined in request template" (a 500).
pub fn mock_status(rendered: &str) -> Option<u16> {
    if rendered.trim().is_empty() {
        return Some(200);
    }
    let status = match serde_json::from_str::<serde_json::Value>(rendered) {
        // A number, or digits in a string (`"statusCode": "404"`).
        Ok(value) => match value.get("statusCode")? {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(text) => text.parse::<u64>().ok(),
            _ => None,
        },
        Err(_) => {
            let (_, after) = rendered.split_once("statusCode")?;
            let after = after.trim_start_matches(['"', '\'']).trim_start();
            let after = after.strip_prefix(':')?.trim_start();
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        }
    }?;
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str) -> IntegrationRecord {
        IntegrationRecord {
            integration_type: kind.to_owned(),
            http_method: Some("POST".to_owned()),
            uri: Some("http://127.0.0.1:9/items/{id}".to_owned()),
            timeout_ms: 29_000,
            connection_type: Some("INTERNET".to_owned()),
            credentials: None,
            cache_namespace: None,
            cache_key_parameters: Vec::new(),
            content_handling: None,
            passthrough_behavior: Some("WHEN_NO_TEMPLATES".to_owned()),
            request_parameters: BTreeMap::from([(
                "integration.request.path.id".to_owned(),
                "method.request.path.id".to_owned(),
            )]),
            request_templates: BTreeMap::from([(
                "application/json".to_owned(),
                r#"{"id": "$input.params('id')"}"#.to_owned(),
            )]),
            integration_responses: BTreeMap::from([(
                "404".to_owned(),
                IntegrationResponseRecord {
                    status_code: "404".to_owned(),
                    content_handling: None,
                    selection_pattern: Some("4\\d\\d".to_owned()),
                    response_parameters: BTreeMap::from([(
                        "method.response.header.X-Id".to_owned(),
                        "integration.response.header.x-id".to_owned(),
                    )]),
                    response_templates: BTreeMap::from([(
                        "application/json".to_owned(),
                        "#if($input.path('$.missing'))yes#{else}no#end".to_owned(),
                    )]),
                    given_empty: Default::default(),
                },
            )]),
            lambda_endpoint: None,
        }
    }

    #[test]
    fn an_http_integration_round_trips_through_the_stored_form() {
        let stored = record("HTTP");
        let mapped = Mapped::from_record(&stored).unwrap();
        assert_eq!(mapped.passthrough, Passthrough::WhenNoTemplates);
        assert_eq!(mapped.responses[0].status, 404);
        assert!(
            mapped.responses[0]
                .selection_pattern
                .as_ref()
                .unwrap()
                .matches("404")
        );
        assert!(
            !mapped.responses[0]
                .selection_pattern
                .as_ref()
                .unwrap()
                .matches("1404")
        );
        assert_eq!(mapped.to_record(), stored);
    }

    #[test]
    fn a_deployed_integration_survives_serialization_with_its_templates_parsed() {
        let mapped = Mapped::from_record(&record("MOCK")).unwrap();
        let text = serde_json::to_string(&mapped).unwrap();
        let back: Mapped = serde_json::from_str(&text).unwrap();
        assert_eq!(back, mapped);
        assert_eq!(
            back.request_templates[0].1.source(),
            r#"{"id": "$input.params('id')"}"#
        );
    }

    #[test]
    fn an_unparsable_template_is_refused_with_its_content_type_and_position() {
        let mut stored = record("MOCK");
        stored
            .request_templates
            .insert("text/plain".to_owned(), "#foreach($x in $y)".to_owned());
        let refused = Mapped::from_record(&stored).unwrap_err();
        assert!(
            refused.0.starts_with(
                "Invalid mapping template specified for content type 'text/plain': line 1"
            ),
            "{refused}"
        );
    }

    #[test]
    fn aws_service_integrations_and_unfilled_sources_fail_closed() {
        assert!(Mapped::from_record(&record("AWS")).is_err());
        let mut stored = record("HTTP");
        stored.request_parameters.insert(
            "integration.request.multivalueheader.x".to_owned(),
            "method.request.header.x".to_owned(),
        );
        assert!(Mapped::from_record(&stored).is_err());
        let mut stored = record("HTTP");
        stored
            .integration_responses
            .get_mut("404")
            .unwrap()
            .selection_pattern = Some("(a".to_owned());
        assert_eq!(
            Mapped::from_record(&stored).unwrap_err().0,
            "Invalid selection pattern specified: (a"
        );
    }

    #[test]
    fn a_mock_status_comes_from_the_rendered_request_template() {
        assert_eq!(mock_status(r#"{"statusCode": 404}"#), Some(404));
        assert_eq!(mock_status("{ statusCode: 201 }"), Some(201));
        assert_eq!(mock_status("  "), Some(200));
        assert_eq!(mock_status(r#"{"statusCode": "404"}"#), Some(404));
        assert_eq!(mock_status(r#"{"statusCode": "soon"}"#), None);
        assert_eq!(mock_status(r#"{"other": 1}"#), None);
        assert_eq!(mock_status(r#"{"statusCode": 99}"#), None);
    }
}
