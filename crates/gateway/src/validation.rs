//! Request validation (REST APIs): what a method's request validator asks
//! of a request, checked after authorization (and the API key) and before
//! the integration, as API Gateway does.
//!
//! The rules live with the model ([`MethodRequest::check`]): required
//! parameters first — present and not blank —, then the body against the
//! model of its content type (or `$default`). Their refusals are the
//! gateway responses `BAD_REQUEST_PARAMETERS` and `BAD_REQUEST_BODY`, 400
//! `BadRequestException`, customizable like any other.

use iamgate_apimodel::gateway_responses::ResponseType;
use iamgate_apimodel::validation::{MethodRequest, RequestParts, RequestRefusal};

use crate::responses::GatewayResponse;

/// What the validator looks at of a request.
pub(crate) struct Request<'a> {
    pub headers: &'a [(&'a str, &'a [u8])],
    pub query: &'a str,
    pub path_params: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Blank: empty or only white space.
fn non_blank(value: &[u8]) -> bool {
    !value.iter().all(u8::is_ascii_whitespace)
}

/// `Ok` when `request` passes `method`'s validator (or it has none);
/// otherwise the gateway response that refuses it.
pub(crate) fn check(
    method: &MethodRequest,
    request: &Request<'_>,
    request_id: &str,
) -> Result<(), GatewayResponse> {
    if method.validator.is_none() {
        return Ok(());
    }
    let query = crate::integration::query_pairs(request.query);
    let header = |name: &str| {
        request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && non_blank(v))
    };
    let query_present = |name: &str| {
        query
            .iter()
            .any(|(n, v)| n == name && non_blank(v.as_bytes()))
    };
    let path = |name: &str| {
        request
            .path_params
            .iter()
            .any(|(n, v)| n == name && non_blank(v.as_bytes()))
    };
    let content_type = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".to_owned());
    let parts = RequestParts {
        header: &header,
        query: &query_present,
        path: &path,
        content_type: &content_type,
        body: request.body,
    };
    method.check(&parts).map_err(|refusal| match refusal {
        RequestRefusal::Parameters(message) => {
            refused(ResponseType::BadRequestParameters, &message, request_id)
        }
        RequestRefusal::Body => refused(
            ResponseType::BadRequestBody,
            "Invalid request body",
            request_id,
        ),
    })
}

fn refused(response_type: ResponseType, message: &str, request_id: &str) -> GatewayResponse {
    let mut body = serde_json::Map::new();
    body.insert(
        "message".to_owned(),
        serde_json::Value::String(message.to_owned()),
    );
    GatewayResponse {
        status: 400,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("x-amzn-RequestId".into(), request_id.into()),
            ("x-amzn-ErrorType".into(), "BadRequestException".into()),
        ],
        body: serde_json::Value::Object(body).to_string(),
        response_type: Some(response_type),
    }
}
