//! The AWS Query protocol services (STS, IAM): authenticate with SigV4,
//! decode the parameters, dispatch the `Action`, render XML.

use std::sync::Arc;

use iamgate_iam::{Caller, World};
use iamgate_sigv4::{ServiceRules, Surface, Verifier};
use iamgate_wire::{AwsError, QueryParams, new_request_id, xml};

use crate::http::{Request, Response, verify_signature};
use crate::plane::ControlPlane;
use crate::{iam_api, sts};

/// A service spoken over the Query protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryService {
    Sts,
    Iam,
}

impl QueryService {
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Sts => "sts",
            Self::Iam => "iam",
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Self::Sts => xml::STS_NAMESPACE,
            Self::Iam => xml::IAM_NAMESPACE,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Self::Sts => "2011-06-15",
            Self::Iam => "2010-05-08",
        }
    }

    pub(crate) fn verifier(self) -> Verifier {
        Verifier::new(ServiceRules::for_service(
            self.signing_name(),
            Surface::Query,
        ))
    }
}

/// What an operation gets to work with.
pub struct Operation<'a> {
    pub plane: &'a ControlPlane,
    pub world: Arc<World>,
    pub caller: Caller,
    pub request: &'a Request,
    pub params: QueryParams,
    /// The region of the credential scope (`aws:RequestedRegion`).
    pub region: String,
    pub now: i64,
    pub request_id: String,
}

impl Operation<'_> {
    /// Where this operation's decisions are checked and recorded.
    pub(crate) fn check(&self, service: &'static str) -> crate::decide::Check<'_> {
        crate::decide::Check {
            plane: self.plane,
            world: &self.world,
            caller: &self.caller,
            request_id: &self.request_id,
            now: self.now,
            service,
        }
    }
}

/// Handles one Query request for `service`; every failure is AWS's XML error.
pub(crate) async fn handle(
    plane: &ControlPlane,
    verifier: &Verifier,
    service: QueryService,
    request: &Request,
) -> Response {
    let request_id = new_request_id();
    let outcome = run(plane, verifier, service, request, &request_id).await;
    let (status, body) = match outcome {
        Ok(body) => (200, body),
        Err(error) => {
            if error.status >= 500 {
                tracing::error!(code = %error.code, message = %error.message, "request failed");
            }
            (
                error.status,
                error.to_query_xml(service.namespace(), &request_id),
            )
        }
    };
    Response::new(status, "text/xml", body).with_header("x-amzn-RequestId", &request_id)
}

async fn run(
    plane: &ControlPlane,
    verifier: &Verifier,
    service: QueryService,
    request: &Request,
    request_id: &str,
) -> Result<String, AwsError> {
    let world = plane.world();
    let now = plane.now();
    let (caller, region) = verify_signature(request, verifier, &world, now)
        .map_err(|error| AwsError::new(error.code(), error.status(), error.message()))?;

    let body: &[u8] = if request.method.eq_ignore_ascii_case("POST") {
        &request.body
    } else {
        b""
    };
    let params = QueryParams::decode(request.query().as_bytes(), body)?;
    let operation = Operation {
        plane,
        world: world.clone(),
        caller,
        request,
        params,
        region,
        now,
        request_id: request_id.to_owned(),
    };
    match service {
        QueryService::Sts => sts::dispatch(operation).await,
        QueryService::Iam => iam_api::dispatch(operation).await,
    }
}
