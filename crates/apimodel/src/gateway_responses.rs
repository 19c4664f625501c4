//! Gateway responses of a REST API: what the gateway answers when it
//! refuses or fails a request, per response type (API Gateway Developer
//! Guide, "Gateway responses in API Gateway", "Gateway response types").
//!
//! Why a module of its own: the same customization comes in through the
//! control plane (PutGatewayResponse, UpdateGatewayResponse), the world
//! file (`gateway_responses:` on a REST API) and OpenAPI
//! (`x-amazon-apigateway-gateway-responses`), and the data plane applies
//! it. [`CustomGatewayResponse::new`] is the one constructor every front
//! door calls, so a status code, a header mapping or a template one of them
//! refuses cannot come in through another, and a deployed stage only ever
//! holds templates that parsed.
//!
//! An API keeps only its customizations; the defaults are AWS's and are
//! never stored, so an API nobody customized answers exactly as before.
//! A customization takes effect with the next deployment, which freezes
//! the API's customizations with its resource tree (as on AWS: the
//! developer guide's "Updates to REST APIs that require redeployment" lists
//! GatewayResponse).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fields::{self, Invalid};
use crate::mapping::MappingTemplate;

/// The template of every default gateway response (developer guide,
/// "Gateway response types"); a customization without templates answers
/// with it too.
pub const DEFAULT_TEMPLATE: &str = r#"{"message":$context.error.messageString}"#;

/// The content type of [`DEFAULT_TEMPLATE`].
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// The response types of the `apigateway` service model
/// (`GatewayResponseType`), in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponseType {
    #[serde(rename = "DEFAULT_4XX")]
    Default4xx,
    #[serde(rename = "DEFAULT_5XX")]
    Default5xx,
    ResourceNotFound,
    Unauthorized,
    InvalidApiKey,
    AccessDenied,
    AuthorizerFailure,
    AuthorizerConfigurationError,
    InvalidSignature,
    ExpiredToken,
    MissingAuthenticationToken,
    IntegrationFailure,
    IntegrationTimeout,
    ApiConfigurationError,
    UnsupportedMediaType,
    BadRequestParameters,
    BadRequestBody,
    RequestTooLarge,
    Throttled,
    QuotaExceeded,
    WafFiltered,
}

impl ResponseType {
    /// Every type, in the service model's order (GetGatewayResponses lists
    /// them so).
    pub const ALL: [ResponseType; 21] = [
        Self::Default4xx,
        Self::Default5xx,
        Self::ResourceNotFound,
        Self::Unauthorized,
        Self::InvalidApiKey,
        Self::AccessDenied,
        Self::AuthorizerFailure,
        Self::AuthorizerConfigurationError,
        Self::InvalidSignature,
        Self::ExpiredToken,
        Self::MissingAuthenticationToken,
        Self::IntegrationFailure,
        Self::IntegrationTimeout,
        Self::ApiConfigurationError,
        Self::UnsupportedMediaType,
        Self::BadRequestParameters,
        Self::BadRequestBody,
        Self::RequestTooLarge,
        Self::Throttled,
        Self::QuotaExceeded,
        Self::WafFiltered,
    ];

    /// The name AWS writes (`ACCESS_DENIED`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Default4xx => "DEFAULT_4XX",
            Self::Default5xx => "DEFAULT_5XX",
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::AccessDenied => "ACCESS_DENIED",
            Self::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Self::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::ExpiredToken => "EXPIRED_TOKEN",
            Self::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Self::IntegrationFailure => "INTEGRATION_FAILURE",
            Self::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Self::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Self::BadRequestBody => "BAD_REQUEST_BODY",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::Throttled => "THROTTLED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::WafFiltered => "WAF_FILTERED",
        }
    }

    /// The type AWS calls `name`, exactly (the enum is case-sensitive), or
    /// AWS's validation refusal of it.
    pub fn parse(name: &str) -> Result<ResponseType, Invalid> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|t| t.name()).collect();
                Invalid(format!(
                    "1 validation error detected: Value '{}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    fields::shown(name),
                    names.join(", ")
                ))
            })
    }

    /// The status of the default response ("Gateway response types");
    /// `None` for the two catch-alls, which keep the status of the error
    /// they stand for.
    pub fn default_status(self) -> Option<u16> {
        Some(match self {
            Self::Default4xx | Self::Default5xx => return None,
            Self::ResourceNotFound => 404,
            Self::Unauthorized => 401,
            Self::InvalidApiKey
            | Self::AccessDenied
            | Self::InvalidSignature
            | Self::ExpiredToken
            | Self::MissingAuthenticationToken
            | Self::WafFiltered => 403,
            Self::AuthorizerFailure
            | Self::AuthorizerConfigurationError
            | Self::ApiConfigurationError => 500,
            Self::IntegrationFailure | Self::IntegrationTimeout => 504,
            Self::UnsupportedMediaType => 415,
            Self::BadRequestParameters | Self::BadRequestBody => 400,
            Self::RequestTooLarge => 413,
            Self::Throttled | Self::QuotaExceeded => 429,
        })
    }

    /// The catch-all that stands in for an uncustomized response of
    /// `status`: DEFAULT_5XX for 5XX, DEFAULT_4XX otherwise.
    pub fn fallback(status: u16) -> ResponseType {
        if status >= 500 {
            Self::Default5xx
        } else {
            Self::Default4xx
        }
    }
}

/// One customized gateway response, as stored and as deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomGatewayResponse {
    pub response_type: ResponseType,
    /// Overrides the status of the error; `None` keeps it.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// `gatewayresponse.header.{name}` → a mapping source.
    #[serde(default)]
    pub response_parameters: BTreeMap<String, String>,
    /// By content type, each parsed.
    #[serde(default)]
    pub response_templates: BTreeMap<String, MappingTemplate>,
}

/// The sources a gateway response header maps from (developer guide,
/// "Set up gateway responses to customize error responses"): the method
/// request's header, query string and path parameters, stage variables and
/// `$context` variables; or a static `'…'` value.
const PARAMETER_SOURCES: &[&str] = &[
    "method.request.header.",
    "method.request.querystring.",
    "method.request.path.",
    "method.request.multivalueheader.",
    "method.request.multivaluequerystring.",
    "stageVariables.",
    "context.",
];

/// A `statusCode` (the service model's pattern `[1-5]\d\d`).
fn status_code(text: &str) -> Result<u16, Invalid> {
    match text.parse::<u16>() {
        Ok(status) if fields::is_status_code(text) => Ok(status),
        _ => Err(Invalid(format!(
            "1 validation error detected: Value '{}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d",
            fields::shown(text)
        ))),
    }
}

/// One `responseParameters` member: the key `gatewayresponse.header.{name}`
/// with a header name, the value a static header value or a source of
/// [`PARAMETER_SOURCES`].
fn response_parameter(key: &str, value: &str) -> Result<(), Invalid> {
    key.strip_prefix("gatewayresponse.header.")
        .filter(|name| fields::is_header_name(name))
        .ok_or_else(|| fields::invalid_mapping(key))?;
    let ok = match fields::static_value(value) {
        Some(literal) => fields::is_header_value(literal),
        None => PARAMETER_SOURCES.iter().any(|prefix| {
            value
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty())
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(fields::invalid_mapping(value))
    }
}

impl CustomGatewayResponse {
    /// The one validating constructor: the type by its AWS name, the status
    /// code as AWS takes it (a string), the header mappings and the
    /// templates by content type, each parsed as API Gateway's Velocity.
    pub fn new(
        response_type: &str,
        status_code: Option<&str>,
        response_parameters: BTreeMap<String, String>,
        response_templates: &BTreeMap<String, String>,
    ) -> Result<CustomGatewayResponse, Invalid> {
        let response_type = ResponseType::parse(response_type)?;
        let status_code = status_code.map(self::status_code).transpose()?;
        for (key, value) in &response_parameters {
            response_parameter(key, value)?;
        }
        let response_templates = response_templates
            .iter()
            .map(|(content_type, text)| {
                MappingTemplate::parse(content_type, text).map(|t| (content_type.clone(), t))
            })
            .collect::<Result<_, _>>()?;
        Ok(CustomGatewayResponse {
            response_type,
            status_code,
            response_parameters,
            response_templates,
        })
    }

    /// The templates' texts by content type, as a front door takes them.
    pub fn template_texts(&self) -> BTreeMap<String, String> {
        self.response_templates
            .iter()
            .map(|(content_type, template)| (content_type.clone(), template.source().to_owned()))
            .collect()
    }
}

/// An API's customizations by type.
pub type GatewayResponses = BTreeMap<ResponseType, CustomGatewayResponse>;

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_valid_customization_keeps_status_headers_and_parsed_templates() {
        let custom = CustomGatewayResponse::new(
            "ACCESS_DENIED",
            Some("401"),
            map(&[
                ("gatewayresponse.header.X-Why", "'denied'"),
                (
                    "gatewayresponse.header.X-Req",
                    "method.request.header.X-Req",
                ),
                ("gatewayresponse.header.X-Stage", "stageVariables.name"),
                ("gatewayresponse.header.X-Id", "context.requestId"),
            ]),
            &map(&[("application/json", r#"{"why":"$context.error.message"}"#)]),
        )
        .unwrap();
        assert_eq!(custom.response_type, ResponseType::AccessDenied);
        assert_eq!(custom.status_code, Some(401));
        assert_eq!(custom.response_parameters.len(), 4);
        assert_eq!(
            custom.template_texts(),
            map(&[("application/json", r#"{"why":"$context.error.message"}"#)])
        );
    }

    #[test]
    fn an_unknown_or_lower_case_response_type_is_refused_with_the_enum() {
        for name in ["NOPE", "access_denied", ""] {
            let refused = CustomGatewayResponse::new(name, None, BTreeMap::new(), &BTreeMap::new())
                .unwrap_err();
            assert!(
                refused.0.starts_with(&format!(
                    "1 validation error detected: Value '{name}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [DEFAULT_4XX, DEFAULT_5XX, "
                )),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_status_code_outside_1xx_to_5xx_is_refused() {
        for bad in ["600", "099", "40", "4000", "4x1", "+40", ""] {
            let refused = CustomGatewayResponse::new(
                "DEFAULT_4XX",
                Some(bad),
                BTreeMap::new(),
                &BTreeMap::new(),
            )
            .unwrap_err();
            assert!(refused.0.contains("at 'statusCode'"), "{bad}: {refused}");
        }
        for good in ["100", "418", "599"] {
            assert!(
                CustomGatewayResponse::new(
                    "DEFAULT_4XX",
                    Some(good),
                    BTreeMap::new(),
                    &BTreeMap::new()
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn a_parameter_that_is_not_a_gateway_response_header_mapping_is_refused() {
        for (key, value) in [
            ("method.response.header.X", "'v'"),
            ("gatewayresponse.header.", "'v'"),
            ("gatewayresponse.header.Bad Name", "'v'"),
            ("gatewayresponse.header.X", "integration.response.header.Y"),
            ("gatewayresponse.header.X", "'line\nbreak'"),
            ("gatewayresponse.header.X", "context."),
        ] {
            let refused = CustomGatewayResponse::new(
                "DEFAULT_4XX",
                None,
                map(&[(key, value)]),
                &BTreeMap::new(),
            )
            .unwrap_err();
            assert!(
                refused
                    .0
                    .starts_with("Invalid mapping expression specified"),
                "{key}={value}: {refused}"
            );
        }
    }

    #[test]
    fn a_template_that_does_not_parse_is_refused() {
        let refused = CustomGatewayResponse::new(
            "DEFAULT_5XX",
            None,
            BTreeMap::new(),
            &map(&[("application/json", "#if($x)")]),
        )
        .unwrap_err();
        assert!(
            refused.0.starts_with(
                "Invalid mapping template specified for content type 'application/json'"
            ),
            "{refused}"
        );
    }

    #[test]
    fn default_statuses_follow_the_documented_table() {
        assert_eq!(ResponseType::AccessDenied.default_status(), Some(403));
        assert_eq!(ResponseType::IntegrationTimeout.default_status(), Some(504));
        assert_eq!(ResponseType::RequestTooLarge.default_status(), Some(413));
        assert_eq!(ResponseType::Default4xx.default_status(), None);
        assert_eq!(ResponseType::fallback(502), ResponseType::Default5xx);
        assert_eq!(ResponseType::fallback(403), ResponseType::Default4xx);
    }

    #[test]
    fn stored_form_round_trips_with_aws_type_names() {
        let custom = CustomGatewayResponse::new(
            "DEFAULT_4XX",
            None,
            BTreeMap::new(),
            &map(&[("application/json", DEFAULT_TEMPLATE)]),
        )
        .unwrap();
        let mut all = GatewayResponses::new();
        all.insert(custom.response_type, custom);
        let text = serde_json::to_string(&all).unwrap();
        assert!(
            text.starts_with(r#"{"DEFAULT_4XX":{"response_type":"DEFAULT_4XX""#),
            "{text}"
        );
        let back: GatewayResponses = serde_json::from_str(&text).unwrap();
        assert_eq!(back, all);
    }
}
