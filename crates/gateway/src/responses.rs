//! AWS's exact data-plane responses (API Gateway Developer Guide, "Gateway
//! response types for API Gateway").
//!
//! REST APIs answer with gateway responses: compact JSON with a lower-case
//! `message`, except an uncustomized `ACCESS_DENIED`, which says `Message`;
//! the owner account in the resource ARN is masked. HTTP APIs answer every
//! `AWS_IAM` failure with a bare `403 {"message":"Forbidden"}`.

use iamgate_apimodel::gateway_responses::ResponseType;
use iamgate_policy::{Decision, Outcome, PolicyType};
use iamgate_sigv4::SigV4Error;

use crate::arn::mask_account;

const INVOKE: &str = "execute-api:Invoke";

/// A response ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The gateway response type of a REST API's own error, which a
    /// stage's customization may replace (`crate::gateway_responses`);
    /// `None` for an integration's answer and for HTTP APIs.
    pub response_type: Option<ResponseType>,
}

impl GatewayResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether every header can be sent as it is (a valid name and value,
    /// see [`iamgate_apimodel::fields`]) and the status is a real HTTP status.
    pub fn is_sendable(&self) -> bool {
        (100..=999).contains(&self.status)
            && self.headers.iter().all(|(n, v)| {
                iamgate_apimodel::fields::is_header_name(n)
                    && iamgate_apimodel::fields::is_header_value(v)
            })
    }

    /// This response if it can be sent as it is; otherwise AWS's 500 for
    /// the same request: never a half-built answer, never a body that is
    /// not AWS's. Values are checked where they are stored, so this is the
    /// last line of defence (a document stored before those checks, a
    /// function's answer). An HTTP API answer (it carries
    /// `apigw-requestid`) becomes HTTP APIs' 500, any other REST's.
    pub fn sendable(self) -> GatewayResponse {
        if self.is_sendable() {
            return self;
        }
        let http_api_id = self
            .header("apigw-requestid")
            .filter(|id| iamgate_apimodel::fields::is_header_value(id))
            .map(str::to_owned);
        if let Some(id) = http_api_id {
            return http_internal_server_error(&id);
        }
        let request_id = self
            .header("x-amzn-RequestId")
            .filter(|id| iamgate_apimodel::fields::is_header_value(id))
            .map_or_else(iamgate_wire::new_request_id, str::to_owned);
        rest_internal_failure(&request_id)
    }
}

/// The wording of denial messages: what AWS says today, or what it
/// said before it named the policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyMessageStyle {
    Current,
    Legacy,
}

/// A REST gateway answer with a fixed status, error type and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedAnswer {
    pub status: u16,
    pub error_type: &'static str,
    pub message: &'static str,
}

/// The data plane's choices where AWS's behavior is not documented, in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunables {
    pub deny_message_style: DenyMessageStyle,
    /// The key of an uncustomized ACCESS_DENIED body.
    pub access_denied_body_key: &'static str,
    pub mask_resource_account: bool,
    /// A PRIVATE API addressed other than through a VPC endpoint. On AWS
    /// its default host does not even resolve outside the VPC; what a
    /// request that reaches the edge anyway gets is not documented
    /// (`[inferred]`), so it answers like an unknown API: from outside, a
    /// private API is indistinguishable from none at all.
    pub private_api_outside_vpc_endpoint: FixedAnswer,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            deny_message_style: DenyMessageStyle::Current,
            access_denied_body_key: "Message",
            mask_resource_account: true,
            private_api_outside_vpc_endpoint: FixedAnswer {
                status: 403,
                error_type: "ForbiddenException",
                message: "Forbidden",
            },
        }
    }
}

fn json_body(key: &str, message: &str) -> String {
    let mut object = serde_json::Map::new();
    object.insert(
        key.to_owned(),
        serde_json::Value::String(message.to_owned()),
    );
    serde_json::Value::Object(object).to_string()
}

fn rest(
    response_type: ResponseType,
    status: u16,
    error_type: &str,
    body: String,
    request_id: &str,
) -> GatewayResponse {
    GatewayResponse {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("x-amzn-RequestId".into(), request_id.into()),
            ("x-amzn-ErrorType".into(), error_type.into()),
        ],
        body,
        response_type: Some(response_type),
    }
}

/// The message of an AWS error body (`{"Message": …}` or `{"message": …}`),
/// or the body itself.
pub fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            ["Message", "message"]
                .iter()
                .find_map(|key| value.get(key)?.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.to_owned())
}

/// The gateway response type of a SigV4 failure, by its error code.
/// Ours where AWS documents no mapping: a malformed or unknown credential
/// (whose default body says `message`, so it is not the `ACCESS_DENIED`
/// response) falls to `DEFAULT_4XX`.
fn signature_response_type(code: &str) -> ResponseType {
    match code {
        "InvalidSignatureException" => ResponseType::InvalidSignature,
        "ExpiredTokenException" => ResponseType::ExpiredToken,
        "MissingAuthenticationTokenException" => ResponseType::MissingAuthenticationToken,
        _ => ResponseType::Default4xx,
    }
}

/// R1/R2: an unsigned request to an `AWS_IAM` method, or no such stage,
/// resource or method.
pub fn rest_missing_authentication_token(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::MissingAuthenticationToken,
        403,
        "MissingAuthenticationTokenException",
        json_body("message", "Missing Authentication Token"),
        request_id,
    )
}

/// R3–R16: a SigV4 failure, with the verifier's code and text.
pub fn rest_signature_failure(error: &SigV4Error, request_id: &str) -> GatewayResponse {
    rest(
        signature_response_type(error.code()),
        error.status(),
        error.code(),
        json_body("message", error.message()),
        request_id,
    )
}

/// An unknown API id.
pub fn rest_forbidden(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::Default4xx,
        403,
        "ForbiddenException",
        json_body("message", "Forbidden"),
        request_id,
    )
}

/// A fixed REST answer (see [`Tunables`]).
pub fn rest_fixed(answer: FixedAnswer, request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::fallback(answer.status),
        answer.status,
        answer.error_type,
        json_body("message", answer.message),
        request_id,
    )
}

/// Who a denial message names.
#[derive(Debug, Clone, Copy)]
pub struct DeniedCaller<'a> {
    /// The caller's ARN, or `anonymous`.
    pub principal: &'a str,
    /// A signed caller from another account than the API's.
    pub cross_account: bool,
}

/// R17–R24: the policies said no.
pub fn rest_access_denied(
    caller: DeniedCaller<'_>,
    resource_arn: &str,
    owner_account: &str,
    decision: &Decision,
    tunables: &Tunables,
    request_id: &str,
) -> GatewayResponse {
    let shown = if tunables.mask_resource_account {
        mask_account(resource_arn, owner_account)
    } else {
        resource_arn.to_owned()
    };
    let message = denial_message(caller, &shown, decision, tunables.deny_message_style);
    rest(
        ResponseType::AccessDenied,
        403,
        "AccessDeniedException",
        json_body(tunables.access_denied_body_key, &message),
        request_id,
    )
}

/// The one place denial texts are written.
pub fn denial_message(
    caller: DeniedCaller<'_>,
    shown_arn: &str,
    decision: &Decision,
    style: DenyMessageStyle,
) -> String {
    let head = format!(
        "User: {} is not authorized to perform: {INVOKE} on resource: {shown_arn}",
        caller.principal
    );
    match style {
        DenyMessageStyle::Current => decision
            .denial_message(caller.principal, INVOKE, shown_arn)
            .unwrap_or(head),
        DenyMessageStyle::Legacy => match decision.outcome {
            Outcome::ExplicitDeny => format!("{head} with an explicit deny"),
            Outcome::ImplicitDeny
                if caller.cross_account
                    && decision.deciding_policy_type == PolicyType::ResourceBased =>
            {
                format!(
                    "User: {} is not authorized to access this resource",
                    caller.principal
                )
            }
            _ => head,
        },
    }
}

/// A Lambda or backend failure on a REST API: note the space in the text.
pub fn rest_internal_server_error(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::IntegrationFailure,
        502,
        "InternalServerErrorException",
        json_body("message", "Internal server error"),
        request_id,
    )
}

/// AWS's REST 500 for a failure inside the gateway (a response that could
/// not be built): `{"message": "Internal server error"}`, with the space
/// AWS writes (execute-api §8.1), and `InternalServerErrorException`. The
/// server's last resort: whatever fails, the client gets AWS's answer.
pub fn rest_internal_failure(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::Default5xx,
        500,
        "InternalServerErrorException",
        r#"{"message": "Internal server error"}"#.to_owned(),
        request_id,
    )
}

/// A request whose Content-Type has no request template on an
/// integration whose passthrough behavior refuses it (`NEVER`, or
/// `WHEN_NO_TEMPLATES` with templates): the `UNSUPPORTED_MEDIA_TYPE`
/// gateway response.
pub fn rest_unsupported_media_type(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::UnsupportedMediaType,
        415,
        "UnsupportedMediaTypeException",
        json_body("message", "Unsupported Media Type"),
        request_id,
    )
}

/// A backend that did not answer within the integration timeout.
pub fn rest_integration_timeout(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::IntegrationTimeout,
        504,
        "IntegrationTimeoutException",
        json_body("message", "Endpoint request timed out"),
        request_id,
    )
}

/// A Lambda authorizer's identity source is missing or empty, or its
/// token fails the validation expression: the `UNAUTHORIZED` gateway
/// response.
pub fn rest_unauthorized(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::Unauthorized,
        401,
        "UnauthorizedException",
        json_body("message", "Unauthorized"),
        request_id,
    )
}

/// The policy a Lambda authorizer returned denies the request (or no
/// policy allows it): `ACCESS_DENIED`, with AWS's words for each.
pub fn rest_authorizer_denied(explicit: bool, request_id: &str) -> GatewayResponse {
    let message = if explicit {
        "User is not authorized to access this resource with an explicit deny"
    } else {
        "User is not authorized to access this resource"
    };
    rest(
        ResponseType::AccessDenied,
        403,
        "AccessDeniedException",
        json_body("message", message),
        request_id,
    )
}

/// A Lambda authorizer that failed, timed out or answered something that
/// is not an authorizer response: `AUTHORIZER_CONFIGURATION_ERROR`, whose
/// message AWS leaves null.
pub fn rest_authorizer_configuration_error(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::AuthorizerConfigurationError,
        500,
        "AuthorizerConfigurationException",
        r#"{"message": null}"#.to_owned(),
        request_id,
    )
}

/// An HTTP API's Lambda authorizer found no identity: 401.
pub fn http_unauthorized(request_id: &str) -> GatewayResponse {
    http(401, "Unauthorized", request_id)
}

fn http(status: u16, message: &str, request_id: &str) -> GatewayResponse {
    GatewayResponse {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("apigw-requestid".into(), request_id.into()),
        ],
        body: json_body("message", message),
        response_type: None,
    }
}

/// Every `AWS_IAM` failure on an HTTP API.
pub fn http_forbidden(request_id: &str) -> GatewayResponse {
    http(403, "Forbidden", request_id)
}

/// An HTTP API stage's or route's throttle refused the request.
pub fn http_too_many_requests(request_id: &str) -> GatewayResponse {
    http(429, "Too Many Requests", request_id)
}

/// A method that requires an API key got none it accepts: a missing,
/// unknown or disabled key, or one of no usage plan of the stage.
pub fn rest_invalid_api_key(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::InvalidApiKey,
        403,
        "ForbiddenException",
        json_body("message", "Forbidden"),
        request_id,
    )
}

/// A REST stage's, method's or usage plan's throttle refused the request.
pub fn rest_throttled(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::Throttled,
        429,
        "TooManyRequestsException",
        json_body("message", "Too Many Requests"),
        request_id,
    )
}

/// The API key's usage-plan quota for the period is used up.
pub fn rest_quota_exceeded(request_id: &str) -> GatewayResponse {
    rest(
        ResponseType::QuotaExceeded,
        429,
        "LimitExceededException",
        json_body("message", "Limit Exceeded"),
        request_id,
    )
}

/// No stage or route matched on an HTTP API.
pub fn http_not_found(request_id: &str) -> GatewayResponse {
    http(404, "Not Found", request_id)
}

/// A Lambda or backend failure on an HTTP API.
pub fn http_internal_server_error(request_id: &str) -> GatewayResponse {
    http(500, "Internal Server Error", request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(outcome: Outcome, deciding_policy_type: PolicyType) -> Decision {
        Decision {
            outcome,
            deciding_policy_type,
            matched: Vec::new(),
            rule: iamgate_policy::DecidingRule::SameAccountUnion,
            missing: iamgate_policy::PolicyTypes::default(),
        }
    }

    const ARN: &str = "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/pets";

    #[test]
    fn missing_token_is_403_with_lowercase_message() {
        let r = rest_missing_authentication_token("id-1");
        assert_eq!(r.status, 403);
        assert_eq!(r.body, r#"{"message":"Missing Authentication Token"}"#);
        assert_eq!(
            r.header("x-amzn-ErrorType"),
            Some("MissingAuthenticationTokenException")
        );
        assert_eq!(r.header("x-amzn-RequestId"), Some("id-1"));
    }

    #[test]
    fn access_denied_uses_capital_message_and_masks_the_owner_account() {
        let caller = DeniedCaller {
            principal: "arn:aws:iam::111122223333:user/bob",
            cross_account: false,
        };
        let r = rest_access_denied(
            caller,
            ARN,
            "111122223333",
            &decision(Outcome::ImplicitDeny, PolicyType::IdentityBased),
            &Tunables::default(),
            "id",
        );
        assert_eq!(
            r.body,
            r#"{"Message":"User: arn:aws:iam::111122223333:user/bob is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********3333:a1b2c3d4e5/prod/GET/pets because no identity-based policy allows the execute-api:Invoke action"}"#
        );
        assert_eq!(r.header("x-amzn-ErrorType"), Some("AccessDeniedException"));
    }

    #[test]
    fn legacy_cross_account_denial_says_not_authorized_to_access_this_resource() {
        let caller = DeniedCaller {
            principal: "arn:aws:iam::098765432109:user/api-exe-valid",
            cross_account: true,
        };
        let text = denial_message(
            caller,
            ARN,
            &decision(Outcome::ImplicitDeny, PolicyType::ResourceBased),
            DenyMessageStyle::Legacy,
        );
        assert_eq!(
            text,
            "User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to access this resource"
        );
    }

    #[test]
    fn explicit_deny_names_the_policy_type_in_current_style_only() {
        let caller = DeniedCaller {
            principal: "anonymous",
            cross_account: false,
        };
        let deny = decision(Outcome::ExplicitDeny, PolicyType::ResourceBased);
        assert!(
            denial_message(caller, ARN, &deny, DenyMessageStyle::Current)
                .ends_with("with an explicit deny in a resource-based policy")
        );
        assert!(
            denial_message(caller, ARN, &deny, DenyMessageStyle::Legacy)
                .ends_with(" with an explicit deny")
        );
    }

    #[test]
    fn a_response_with_an_unsendable_header_becomes_aws_500() {
        let broken = GatewayResponse {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "text/plain\n".into()),
                ("x-amzn-RequestId".into(), "rid".into()),
            ],
            body: "secret".into(),
            response_type: None,
        };
        assert!(!broken.is_sendable());
        let answer = broken.sendable();
        assert_eq!(answer.status, 500);
        assert_eq!(answer.body, r#"{"message": "Internal server error"}"#);
        assert_eq!(
            answer.header("x-amzn-ErrorType"),
            Some("InternalServerErrorException")
        );
        assert_eq!(answer.header("x-amzn-RequestId"), Some("rid"));
        assert!(answer.is_sendable());

        let http = GatewayResponse {
            status: 200,
            headers: vec![
                ("X\u{0}".into(), "v".into()),
                ("apigw-requestid".into(), "h".into()),
            ],
            body: String::new(),
            response_type: None,
        }
        .sendable();
        assert_eq!(
            (http.status, http.body.as_str()),
            (500, r#"{"message":"Internal Server Error"}"#)
        );

        let fine = rest_forbidden("x");
        assert_eq!(fine.clone().sendable(), fine);
    }

    #[test]
    fn http_api_failures_are_bare() {
        let r = http_forbidden("x");
        assert_eq!(
            (r.status, r.body.as_str()),
            (403, r#"{"message":"Forbidden"}"#)
        );
        assert_eq!(r.header("x-amzn-ErrorType"), None);
        assert_eq!(r.header("apigw-requestid"), Some("x"));
        assert_eq!(http_not_found("x").body, r#"{"message":"Not Found"}"#);
    }
}
