//! REST-JSON errors (API Gateway control plane, execute-api responses).
//!
//! A REST-JSON client takes the error code from the `x-amzn-ErrorType`
//! header (ignoring anything after `:` and any `namespace#` prefix) and the
//! message from the JSON body; the status is the HTTP status. The server side
//! therefore always sends the header with the bare code and a compact body
//! `{"message":"…"}` — the most widely accepted of the forms the smithy
//! protocol tests allow.
//!
//! Two API Gateway quirks are expressible here: HTTP APIs answer without the
//! header at all (`{"message":"Forbidden"}`), and uncustomised REST
//! `ACCESS_DENIED` responses spell the key `"Message"`.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// Header carrying the error code.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";
/// `Content-Type` of REST-JSON error bodies.
pub const CONTENT_TYPE: &str = "application/json";

/// One REST-JSON error response: status, optional `x-amzn-ErrorType`,
/// extra headers and a JSON object body.
#[derive(Debug, Clone, PartialEq)]
pub struct RestJsonError {
    error_type: Option<Cow<'static, str>>,
    status: u16,
    body: Map<String, Value>,
    headers: Vec<(String, String)>,
}

impl RestJsonError {
    /// `x-amzn-ErrorType: <error_type>` and `{"message":"<message>"}`.
    pub fn new(
        error_type: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        Self::without_message(error_type, status).with_field("message", message.into())
    }

    /// `x-amzn-ErrorType: <error_type>` and `{}`.
    pub fn without_message(error_type: impl Into<Cow<'static, str>>, status: u16) -> Self {
        Self {
            error_type: Some(error_type.into()),
            status,
            body: Map::new(),
            headers: Vec::new(),
        }
    }

    /// No error-type header, `{"message":"<message>"}` — HTTP API style.
    pub fn untyped(status: u16, message: impl Into<String>) -> Self {
        Self {
            error_type: None,
            status,
            body: Map::new(),
            headers: Vec::new(),
        }
        .with_field("message", message.into())
    }

    /// Adds (or replaces) a body member.
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.body.insert(key.into(), value.into());
        self
    }

    /// Adds a response header (error members bound to headers).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Renames `message` to `Message`, as uncustomised REST API
    /// `ACCESS_DENIED` gateway responses do.
    pub fn with_capital_message(mut self) -> Self {
        if let Some(message) = self.body.remove("message") {
            self.body.insert("Message".to_owned(), message);
        }
        self
    }

    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `x-amzn-ErrorType` value, if the response carries one.
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// The message member (`message` or `Message`), if any.
    pub fn message(&self) -> Option<&str> {
        self.body
            .get("message")
            .or_else(|| self.body.get("Message"))
            .and_then(Value::as_str)
    }

    /// Response headers to set, `x-amzn-ErrorType` first (content type not
    /// included; see [`CONTENT_TYPE`]).
    pub fn headers(&self) -> Vec<(&str, &str)> {
        self.error_type
            .as_deref()
            .map(|t| (ERROR_TYPE_HEADER, t))
            .into_iter()
            .chain(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .collect()
    }

    /// The compact JSON body, e.g. `{"message":"Invalid API identifier specified 123456789012:a1b2c3d4e5"}`.
    pub fn body(&self) -> String {
        Value::Object(self.body.clone()).to_string()
    }

    /// `BadRequestException` 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new("BadRequestException", 400, message)
    }

    /// `UnauthorizedException` 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new("UnauthorizedException", 401, message)
    }

    /// `AccessDeniedException` 403.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDeniedException", 403, message)
    }

    /// `NotFoundException` 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("NotFoundException", 404, message)
    }

    /// `NotFoundException` 404 with API Gateway v2's `resourceType` member.
    pub fn not_found_v2(message: impl Into<String>, resource_type: impl Into<String>) -> Self {
        Self::not_found(message).with_field("resourceType", resource_type.into())
    }

    /// `ConflictException` 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", 409, message)
    }

    /// `LimitExceededException` 429.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceededException", 429, message)
    }

    /// `TooManyRequestsException` 429.
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new("TooManyRequestsException", 429, message)
    }

    /// `ServiceUnavailableException` 503.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new("ServiceUnavailableException", 503, message)
    }

    /// The v1 not-found for an unknown API:
    /// `Invalid API identifier specified <account>:<api-id>`.
    pub fn invalid_api_identifier(account: &str, api_id: &str) -> Self {
        Self::not_found(format!(
            "Invalid API identifier specified {account}:{api_id}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_not_found_is_compact_with_header() {
        let e = RestJsonError::invalid_api_identifier("123456789012", "a1b2c3d4e5");
        assert_eq!(e.status(), 404);
        assert_eq!(e.headers(), vec![("x-amzn-ErrorType", "NotFoundException")]);
        assert_eq!(
            e.body(),
            r#"{"message":"Invalid API identifier specified 123456789012:a1b2c3d4e5"}"#
        );
    }

    #[test]
    fn http_api_forbidden_has_no_error_type() {
        let e = RestJsonError::untyped(403, "Forbidden");
        assert_eq!(e.error_type(), None);
        assert!(e.headers().is_empty());
        assert_eq!(e.body(), r#"{"message":"Forbidden"}"#);
    }

    #[test]
    fn access_denied_gateway_response_uses_capital_message() {
        let e = RestJsonError::access_denied(
            "User is not authorized to access this resource with an explicit deny",
        )
        .with_capital_message();
        assert_eq!(
            e.body(),
            r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
        );
        // The captured response is 82 bytes long.
        assert_eq!(e.body().len(), 82);
        assert_eq!(
            e.message(),
            Some("User is not authorized to access this resource with an explicit deny")
        );
    }

    #[test]
    fn message_escaping_and_extra_members() {
        let e = RestJsonError::not_found_v2("a \"quoted\"\nline", "Api");
        assert_eq!(
            e.body(),
            r#"{"message":"a \"quoted\"\nline","resourceType":"Api"}"#
        );
    }

    #[test]
    fn aws_error_renders_as_rest_json() {
        let e = crate::AwsError::new(
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        )
        .to_rest_json();
        assert_eq!(
            e.headers(),
            vec![("x-amzn-ErrorType", "UnrecognizedClientException")]
        );
        assert_eq!(
            e.body(),
            r#"{"message":"The security token included in the request is invalid."}"#
        );
        assert_eq!(e.status(), 403);
    }

    #[test]
    fn catalogue_statuses() {
        for (e, t, s) in [
            (RestJsonError::bad_request(""), "BadRequestException", 400),
            (
                RestJsonError::unauthorized(""),
                "UnauthorizedException",
                401,
            ),
            (RestJsonError::conflict(""), "ConflictException", 409),
            (
                RestJsonError::limit_exceeded(""),
                "LimitExceededException",
                429,
            ),
            (
                RestJsonError::too_many_requests(""),
                "TooManyRequestsException",
                429,
            ),
            (
                RestJsonError::service_unavailable(""),
                "ServiceUnavailableException",
                503,
            ),
        ] {
            assert_eq!((e.error_type(), e.status()), (Some(t), s));
        }
    }
}
