//! The AWS control planes iamgate serves on its one port.
//!
//! A request is routed by the service named in its SigV4 credential scope:
//! `sts` and `iam` speak the Query protocol ([`query`]). Each is verified
//! against the current [`World`](iamgate_iam::World) snapshot, authorized
//! with the policy engine like AWS, and answered in AWS's wire format.
//! State lives in the store ([`iamgate_store::Store`]); [`ControlPlane`]
//! keeps the snapshot current.

mod apigateway;
pub mod apply;
pub mod context;
pub mod http;
mod iam_api;
pub mod plane;
pub mod query;
mod sts;

pub use http::{Request, Response};
pub use plane::{Clock, ControlError, ControlPlane, system_clock};
pub use query::QueryService;

use iamgate_sigv4::Verifier;
use iamgate_sigv4::{HttpRequest, peek_service};

/// The control planes with their verifiers (the derived-key caches live in them).
pub struct ControlPlanes {
    pub plane: std::sync::Arc<ControlPlane>,
    sts: Verifier,
    iam: Verifier,
}

impl ControlPlanes {
    pub fn new(plane: std::sync::Arc<ControlPlane>) -> Self {
        Self {
            plane,
            sts: QueryService::Sts.verifier(),
            iam: QueryService::Iam.verifier(),
        }
    }

    /// The Query service a request is for: the credential scope's service;
    /// an unsigned Query request is taken as STS (whose answer is then
    /// `MissingAuthenticationToken`).
    pub fn route(request: &Request) -> Option<QueryService> {
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let view =
            HttpRequest::from_target(&request.method, &request.target, &headers, &request.body);
        match peek_service(&view).as_deref() {
            Some("sts") => Some(QueryService::Sts),
            Some("iam") => Some(QueryService::Iam),
            Some(_) => None,
            None => Some(QueryService::Sts),
        }
    }

    /// Answers a request for one of the Query services.
    pub async fn handle(&self, service: QueryService, request: &Request) -> Response {
        let verifier = match service {
            QueryService::Sts => &self.sts,
            QueryService::Iam => &self.iam,
        };
        query::handle(&self.plane, verifier, service, request).await
    }
}
