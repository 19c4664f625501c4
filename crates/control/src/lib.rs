//! The AWS control planes iamgate serves on its one port.
//!
//! A request is routed by the service named in its SigV4 credential scope:
//! `sts` and `iam` speak the Query protocol ([`query`]); `apigateway`
//! (REST APIs, and HTTP APIs under `/v2/`) speaks REST-JSON. Each is verified
//! against the current [`World`](iamgate_iam::World) snapshot, authorized
//! with the policy engine like AWS, and answered in AWS's wire format.
//! State lives in the store ([`iamgate_store::Store`]); [`ControlPlane`]
//! keeps the snapshot current.

mod apigateway;
pub mod apply;
pub mod context;
mod decide;
pub mod decision_archive;
pub mod decision_peers;
pub mod decisions_api;
pub mod http;
mod iam_api;
pub mod plane;
pub mod query;
mod sts;
pub mod test_invoke;
mod usage_flush;
pub(crate) mod write;

pub use http::{Request, Response};

/// What the traits the binary implements for this crate return (test
/// invoke, asking peers): a boxed future, so the traits stay object safe.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
pub use plane::{Clock, ControlError, ControlPlane, session_token_sealer, system_clock};
pub use query::QueryService;

use iamgate_sigv4::Verifier;
use iamgate_sigv4::{HttpRequest, peek_service};

/// The control planes with their verifiers (the derived-key caches live in them).
pub struct ControlPlanes {
    pub plane: std::sync::Arc<ControlPlane>,
    sts: Verifier,
    iam: Verifier,
    apigateway: Verifier,
}

/// The control-plane services on the one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Query(QueryService),
    ApiGateway,
}

impl Service {
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Query(service) => service.signing_name(),
            Self::ApiGateway => apigateway::SIGNING_NAME,
        }
    }
}

impl ControlPlanes {
    pub fn new(plane: std::sync::Arc<ControlPlane>) -> Self {
        Self {
            plane,
            sts: QueryService::Sts.verifier(),
            iam: QueryService::Iam.verifier(),
            apigateway: apigateway::verifier(),
        }
    }

    /// The service a request is for: the credential scope's service; an
    /// unsigned request is taken as STS (whose answer is then
    /// `MissingAuthenticationToken`), unless its path is API Gateway's.
    pub fn route(request: &Request) -> Option<Service> {
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let view =
            HttpRequest::from_target(&request.method, &request.target, &headers, &request.body);
        match peek_service(&view).as_deref() {
            Some("sts") => Some(Service::Query(QueryService::Sts)),
            Some("iam") => Some(Service::Query(QueryService::Iam)),
            Some(apigateway::SIGNING_NAME) => Some(Service::ApiGateway),
            Some(_) => None,
            None if is_api_gateway_path(request.path()) => Some(Service::ApiGateway),
            None => Some(Service::Query(QueryService::Sts)),
        }
    }

    /// Answers a request for one of the services.
    pub async fn handle(&self, service: Service, request: &Request) -> Response {
        match service {
            Service::Query(QueryService::Sts) => {
                query::handle(&self.plane, &self.sts, QueryService::Sts, request).await
            }
            Service::Query(QueryService::Iam) => {
                query::handle(&self.plane, &self.iam, QueryService::Iam, request).await
            }
            Service::ApiGateway => apigateway::handle(&self.plane, &self.apigateway, request).await,
        }
    }
}

/// The paths API Gateway's control planes serve (an unsigned request to
/// them gets API Gateway's own authentication error, not STS's).
fn is_api_gateway_path(path: &str) -> bool {
    ["/restapis", "/v2/", "/domainnames", "/tags/", "/account"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}
