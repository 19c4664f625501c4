//! One error type for every control-plane failure.
//!
//! AWS clients key their behaviour on three things: the error code, the HTTP
//! status and, for the Query protocol, whether the fault is the sender's
//! (`<Type>Sender</Type>`) or the service's (`<Type>Receiver</Type>`). The
//! message is shown to humans and scraped by tools, so it is carried verbatim:
//! constructors never rephrase, capitalise or punctuate what they are given.
//!
//! The same value renders to either wire protocol ([`AwsError::to_query_xml`]
//! for STS/IAM, [`AwsError::to_rest_json`] for API Gateway), so an operation
//! decides *what* failed once and the edge decides *how* to say it.

use std::borrow::Cow;
use std::fmt;

/// An AWS service error: code, HTTP status, verbatim message, fault side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// AWS error code, e.g. `NoSuchEntity`.
    pub code: Cow<'static, str>,
    /// HTTP status code of the response.
    pub status: u16,
    /// Message text, exactly as AWS words it.
    pub message: String,
    /// `true` for `<Type>Sender</Type>`, `false` for `<Type>Receiver</Type>`.
    pub sender_fault: bool,
}

impl AwsError {
    /// An error with an explicit code and status; the fault side follows the
    /// status (5xx is the receiver's fault, anything else the sender's).
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            status,
            message: message.into(),
            sender_fault: status < 500,
        }
    }

    /// The Query protocol `<Type>` value for this error.
    pub fn fault_type(&self) -> &'static str {
        if self.sender_fault {
            "Sender"
        } else {
            "Receiver"
        }
    }

    /// `ValidationError` 400 — model constraint violations (see
    /// [`crate::query::Violations`] for the standard text) and IAM name checks.
    pub fn validation_error(message: impl Into<String>) -> Self {
        Self::new("ValidationError", 400, message)
    }

    /// `AccessDenied` 403.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", 403, message)
    }

    /// `NoSuchEntity` 404.
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", 404, message)
    }

    /// `EntityAlreadyExists` 409.
    pub fn entity_already_exists(message: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", 409, message)
    }

    /// `LimitExceeded` 409.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", 409, message)
    }

    /// `DeleteConflict` 409.
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new("DeleteConflict", 409, message)
    }

    /// `MalformedPolicyDocument` 400.
    pub fn malformed_policy_document(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", 400, message)
    }

    /// `InvalidInput` 400.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", 400, message)
    }

    /// `PolicyNotAttachable` 400.
    pub fn policy_not_attachable(message: impl Into<String>) -> Self {
        Self::new("PolicyNotAttachable", 400, message)
    }

    /// `UnmodifiableEntity` 400.
    pub fn unmodifiable_entity(message: impl Into<String>) -> Self {
        Self::new("UnmodifiableEntity", 400, message)
    }

    /// `PackedPolicyTooLarge` 400 (STS).
    pub fn packed_policy_too_large(message: impl Into<String>) -> Self {
        Self::new("PackedPolicyTooLarge", 400, message)
    }

    /// `RegionDisabledException` 403 (STS).
    pub fn region_disabled(message: impl Into<String>) -> Self {
        Self::new("RegionDisabledException", 403, message)
    }

    /// `InvalidClientTokenId` 403 (unknown access key).
    pub fn invalid_client_token_id(message: impl Into<String>) -> Self {
        Self::new("InvalidClientTokenId", 403, message)
    }

    /// `SignatureDoesNotMatch` 403.
    pub fn signature_does_not_match(message: impl Into<String>) -> Self {
        Self::new("SignatureDoesNotMatch", 403, message)
    }

    /// `IncompleteSignature` 400.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new("IncompleteSignature", 400, message)
    }

    /// `MissingAuthenticationToken` 403.
    pub fn missing_authentication_token(message: impl Into<String>) -> Self {
        Self::new("MissingAuthenticationToken", 403, message)
    }

    /// `ExpiredToken` 403 (the Query spelling, not the modelled
    /// `ExpiredTokenException`).
    pub fn expired_token(message: impl Into<String>) -> Self {
        Self::new("ExpiredToken", 403, message)
    }

    /// `MissingAction` 400 `Missing Action` — the request named no operation.
    pub fn missing_action() -> Self {
        Self::new("MissingAction", 400, "Missing Action")
    }

    /// `InvalidAction` 400 — unknown operation, or a `Version` the service
    /// does not speak.
    pub fn invalid_action(action: &str, version: &str) -> Self {
        Self::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version {version}"),
        )
    }

    /// `InvalidQueryParameter` 400 — the form body or query string cannot be
    /// decoded (bad `%XX` escape, invalid UTF-8, a repeated parameter).
    /// The message wording is ours: AWS's is not documented.
    pub fn invalid_query_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidQueryParameter", 400, message)
    }

    /// `ServiceFailure` 500, `<Type>Receiver</Type>`.
    pub fn service_failure(message: impl Into<String>) -> Self {
        Self::new("ServiceFailure", 500, message)
    }

    /// Renders the Query protocol `<ErrorResponse>` document for `namespace`
    /// (e.g. `https://iam.amazonaws.com/doc/2010-05-08/`).
    pub fn to_query_xml(&self, namespace: &str, request_id: &str) -> String {
        crate::xml::render_error(namespace, self, request_id)
    }

    /// The REST-JSON shape of this error: `x-amzn-ErrorType: <code>` and
    /// `{"message":"…"}`.
    pub fn to_rest_json(&self) -> crate::json::RestJsonError {
        crate::json::RestJsonError::new(self.code.clone(), self.status, self.message.clone())
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_side_follows_status() {
        assert_eq!(AwsError::service_failure("x").fault_type(), "Receiver");
        assert_eq!(AwsError::no_such_entity("x").fault_type(), "Sender");
        assert!(!AwsError::new("Throttling", 503, "x").sender_fault);
    }

    #[test]
    fn dispatch_errors_carry_aws_text() {
        let e = AwsError::invalid_action("AssumeRole", "2010-05-08");
        assert_eq!((e.code.as_ref(), e.status), ("InvalidAction", 400));
        assert_eq!(
            e.message,
            "Could not find operation AssumeRole for version 2010-05-08"
        );
        let m = AwsError::missing_action();
        assert_eq!(
            (m.code.as_ref(), m.status, m.message.as_str()),
            ("MissingAction", 400, "Missing Action")
        );
    }

    #[test]
    fn catalogue_statuses_match_the_spec() {
        let cases = [
            (AwsError::validation_error(""), "ValidationError", 400),
            (AwsError::access_denied(""), "AccessDenied", 403),
            (AwsError::no_such_entity(""), "NoSuchEntity", 404),
            (
                AwsError::entity_already_exists(""),
                "EntityAlreadyExists",
                409,
            ),
            (AwsError::limit_exceeded(""), "LimitExceeded", 409),
            (AwsError::delete_conflict(""), "DeleteConflict", 409),
            (
                AwsError::malformed_policy_document(""),
                "MalformedPolicyDocument",
                400,
            ),
            (AwsError::invalid_input(""), "InvalidInput", 400),
            (
                AwsError::policy_not_attachable(""),
                "PolicyNotAttachable",
                400,
            ),
            (AwsError::unmodifiable_entity(""), "UnmodifiableEntity", 400),
            (
                AwsError::packed_policy_too_large(""),
                "PackedPolicyTooLarge",
                400,
            ),
            (
                AwsError::region_disabled(""),
                "RegionDisabledException",
                403,
            ),
            (
                AwsError::invalid_client_token_id(""),
                "InvalidClientTokenId",
                403,
            ),
            (
                AwsError::signature_does_not_match(""),
                "SignatureDoesNotMatch",
                403,
            ),
            (
                AwsError::incomplete_signature(""),
                "IncompleteSignature",
                400,
            ),
            (
                AwsError::missing_authentication_token(""),
                "MissingAuthenticationToken",
                403,
            ),
            (AwsError::expired_token(""), "ExpiredToken", 403),
            (AwsError::service_failure(""), "ServiceFailure", 500),
        ];
        for (e, code, status) in cases {
            assert_eq!((e.code.as_ref(), e.status), (code, status));
        }
    }

    #[test]
    fn message_is_kept_verbatim() {
        let text = "User: arn:aws:iam::1:user/a is not authorized to perform: sts:AssumeRole on resource: x ";
        assert_eq!(AwsError::access_denied(text).message, text);
    }
}
