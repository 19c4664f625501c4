//! The API Gateway control planes: REST and HTTP APIs and custom domain
//! names, kept in the store as one document each (see
//! `iamgate_apimodel::stored`).

mod call;
mod v1;
mod v2;

use iamgate_sigv4::Verifier;

use crate::http::{Request, Response};
use crate::plane::ControlPlane;

pub(crate) use call::{SIGNING_NAME, verifier};

/// Answers an `apigateway` (REST APIs) or, under `/v2/`, `apigatewayv2`
/// (HTTP APIs) call.
pub(crate) async fn handle(
    plane: &ControlPlane,
    verifier: &Verifier,
    request: &Request,
) -> Response {
    let path = request.path();
    if path == "/v2" || path.starts_with("/v2/") {
        call::handle(plane, verifier, request, |call| async move {
            v2::dispatch(call).await
        })
        .await
    } else {
        call::handle(plane, verifier, request, |call| async move {
            v1::dispatch(call).await
        })
        .await
    }
}
