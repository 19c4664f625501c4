//! AWS's verification failures: what went wrong, the message AWS writes for
//! it, and the error code and HTTP status each protocol family reports.

use std::fmt;

/// The protocol family a request arrived on; it decides the error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// STS and IAM: the Query protocol with XML error bodies.
    Query,
    /// The API Gateway control planes: REST-JSON with `x-amzn-ErrorType`.
    RestJson,
    /// The execute-api data plane of REST APIs (gateway responses).
    ExecuteApi,
}

/// Which check failed, numbered F0…F15 as `tests/failures.rs` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// F0: both an `Authorization` header and `X-Amz-Algorithm` in the query.
    BothAuthenticationForms,
    /// F1: no signature at all.
    MissingAuthenticationToken,
    /// F2: a piece of the `Authorization` header is not `key=value`.
    MalformedKeyValuePair,
    /// F3/F3q: required header parameters or query parameters are missing.
    MissingParameters,
    /// F4: an algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm,
    /// F5: the credential is not `key/date/region/service/terminator`.
    MalformedCredential,
    /// F6: the request timestamp is not ISO-8601 basic format.
    MalformedDate,
    /// F7: the credential scope names the wrong region, service, terminator or date.
    InvalidCredentialScope,
    /// F8: `host` is not among the signed headers.
    HostNotSigned,
    /// F9: the request timestamp is older than the skew window.
    SignatureExpired,
    /// F10: the request timestamp is later than the skew window.
    SignatureNotYetCurrent,
    /// F11: a presigned URL has expired or its `X-Amz-Expires` is out of range.
    PresignedRequestExpired,
    /// F12/F13: unknown, inactive or deleted key; missing or wrong session token.
    InvalidClientTokenId,
    /// F14: temporary credentials past their expiry.
    ExpiredToken,
    /// F15: the signature does not match.
    SignatureDoesNotMatch,
}

/// One verification failure with AWS's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4Error {
    kind: FailureKind,
    surface: Surface,
    message: String,
}

impl SigV4Error {
    pub(crate) fn new(kind: FailureKind, surface: Surface, message: impl Into<String>) -> Self {
        Self {
            kind,
            surface,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// AWS's message text, byte for byte (it may end in a space).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error code: `<Code>` for Query, `x-amzn-ErrorType` for the JSON
    /// protocols.
    pub fn code(&self) -> &'static str {
        use FailureKind::*;
        match (self.surface, self.kind) {
            (Surface::Query, MissingAuthenticationToken) => "MissingAuthenticationToken",
            (Surface::Query, InvalidClientTokenId) => "InvalidClientTokenId",
            (Surface::Query, ExpiredToken) => "ExpiredToken",
            (
                Surface::Query,
                BothAuthenticationForms
                | MalformedKeyValuePair
                | MissingParameters
                | UnsupportedAlgorithm
                | MalformedCredential
                | MalformedDate
                | HostNotSigned,
            ) => "IncompleteSignature",
            (Surface::Query, _) => "SignatureDoesNotMatch",
            (_, MissingAuthenticationToken) => "MissingAuthenticationTokenException",
            (Surface::RestJson, InvalidClientTokenId) => "UnrecognizedClientException",
            (Surface::ExecuteApi, InvalidClientTokenId) => "AccessDeniedException",
            (_, ExpiredToken) => "ExpiredTokenException",
            (Surface::RestJson, BothAuthenticationForms) => "InvalidSignatureException",
            (
                _,
                BothAuthenticationForms
                | MalformedKeyValuePair
                | MissingParameters
                | UnsupportedAlgorithm
                | MalformedCredential
                | MalformedDate
                | HostNotSigned,
            ) => "IncompleteSignatureException",
            (_, _) => "InvalidSignatureException",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match (self.surface, self.code()) {
            (Surface::Query, "IncompleteSignature") => 400,
            _ => 403,
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for SigV4Error {}

/// The message for F1, which differs between execute-api and the others.
pub(crate) fn missing_token_message(surface: Surface) -> &'static str {
    match surface {
        Surface::ExecuteApi => "Missing Authentication Token",
        _ => "Request is missing Authentication Token",
    }
}

pub(crate) const INVALID_TOKEN_MESSAGE: &str =
    "The security token included in the request is invalid.";
pub(crate) const EXPIRED_TOKEN_MESSAGE: &str =
    "The security token included in the request is expired";
pub(crate) const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match \
     the signature you provided. Check your AWS Secret Access Key and signing method. Consult \
     the service documentation for details.";

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: FailureKind, surface: Surface) -> SigV4Error {
        SigV4Error::new(kind, surface, "")
    }

    #[test]
    fn query_protocol_reports_incomplete_signature_as_400() {
        let e = error(FailureKind::MissingParameters, Surface::Query);
        assert_eq!((e.code(), e.status()), ("IncompleteSignature", 400));
    }

    #[test]
    fn query_protocol_reports_scope_and_skew_as_signature_does_not_match() {
        for kind in [
            FailureKind::InvalidCredentialScope,
            FailureKind::SignatureExpired,
            FailureKind::SignatureNotYetCurrent,
            FailureKind::SignatureDoesNotMatch,
        ] {
            let e = error(kind, Surface::Query);
            assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
        }
    }

    #[test]
    fn query_protocol_uses_expired_token_not_the_modelled_exception_name() {
        assert_eq!(
            error(FailureKind::ExpiredToken, Surface::Query).code(),
            "ExpiredToken"
        );
    }

    #[test]
    fn json_surfaces_use_exception_suffixed_types_with_403() {
        let e = error(FailureKind::InvalidClientTokenId, Surface::RestJson);
        assert_eq!((e.code(), e.status()), ("UnrecognizedClientException", 403));
        let e = error(FailureKind::InvalidClientTokenId, Surface::ExecuteApi);
        assert_eq!(e.code(), "AccessDeniedException");
        let e = error(FailureKind::MalformedKeyValuePair, Surface::ExecuteApi);
        assert_eq!(
            (e.code(), e.status()),
            ("IncompleteSignatureException", 403)
        );
        let e = error(FailureKind::BothAuthenticationForms, Surface::RestJson);
        assert_eq!(e.code(), "InvalidSignatureException");
        let e = error(FailureKind::MissingAuthenticationToken, Surface::ExecuteApi);
        assert_eq!(e.code(), "MissingAuthenticationTokenException");
    }
}
