//! The execute-api front door: how a request names its API, and the
//! [`DataPlane`] that runs it through the phases of [`crate::pipeline`].
//!
//! An API is reached by host (`{api-id}.execute-api.{region}.amazonaws.com`,
//! or any host starting `{api-id}.execute-api.`) or path-style
//! (`/restapis/{api-id}/{stage}/_user_request_/{path}`); either way the
//! signature is checked against the request exactly as the client sent it.

use std::borrow::Cow;

use iamgate_iam::World;
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;

use crate::access::AccessRecord;
use crate::authorize::Authorizer;
use crate::integration::Integrations;
use crate::pipeline::Exchange;
use crate::responses::GatewayResponse;
use iamgate_apimodel::config::ApiRegistry;

/// The API id a request addresses, and the path from the stage on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address<'a> {
    pub api_id: &'a str,
    /// `/{stage}/{path}` (REST) or the whole path (HTTP `$default`).
    pub path: Cow<'a, str>,
}

/// Finds the API a request is for, if it is an execute-api request at all.
pub fn address<'a>(host: Option<&'a str>, path: &'a str) -> Option<Address<'a>> {
    if let Some(rest) = path.strip_prefix("/restapis/") {
        let (api_id, after) = rest.split_once('/')?;
        let (stage, user_path) = after.split_once("/_user_request_")?;
        let user_path = if user_path.is_empty() { "/" } else { user_path };
        // An HTTP API's `$default` stage is served at the root.
        if stage == "$default" {
            return Some(Address {
                api_id,
                path: Cow::Borrowed(user_path),
            });
        }
        return Some(Address {
            api_id,
            path: Cow::Owned(format!("/{stage}{user_path}")),
        });
    }
    let (api_id, rest) = host?.split_once('.')?;
    rest.starts_with("execute-api.").then_some(Address {
        api_id,
        path: Cow::Borrowed(path),
    })
}

/// The data plane: the authorizer and the integrations' clients. The APIs
/// it serves come with each request, from the current snapshot; the
/// request runs through the phases of [`crate::pipeline`].
#[derive(Default)]
pub struct DataPlane {
    pub(crate) authorizer: Authorizer,
    pub(crate) integrations: Integrations,
    /// Lambda authorizers' cached answers.
    pub(crate) authorizers: crate::authorizers::LambdaAuthorizers,
    /// Token buckets and the quota ledger of API keys.
    pub(crate) meter: crate::usage::Meter,
    /// `JWT` and `COGNITO_USER_POOLS` authorizers' keys and tokens.
    pub(crate) tokens: crate::jwt::TokenAuthorizers,
}

impl DataPlane {
    /// A data plane invoking endpoint-less Lambda integrations at
    /// `lambda_endpoint`.
    pub fn new(lambda_endpoint: &str) -> Self {
        Self {
            authorizer: Authorizer::default(),
            integrations: Integrations::new(lambda_endpoint),
            authorizers: crate::authorizers::LambdaAuthorizers::default(),
            meter: crate::usage::Meter::default(),
            tokens: crate::jwt::TokenAuthorizers::default(),
        }
    }

    /// The same data plane, counting API keys' quotas in `ledger` (which
    /// the control plane's `GetUsage` reads).
    pub fn with_usage_ledger(
        mut self,
        ledger: std::sync::Arc<iamgate_apimodel::usage::UsageLedger>,
    ) -> Self {
        self.meter = crate::usage::Meter::new(ledger);
        self
    }

    /// The same data plane, building decision records or not
    /// ([`Exchange::decision_record`](crate::pipeline::Exchange::decision_record)
    /// then says only what the access log says).
    pub fn with_recording(self, recording: bool) -> Self {
        Self {
            authorizer: self.authorizer.with_recording(recording),
            ..self
        }
    }

    /// The same data plane, fetching `https://` issuers' keys (JWT and
    /// Cognito user pool authorizers) with `tls`.
    pub fn with_tls_client(self, tls: std::sync::Arc<rustls::ClientConfig>) -> Self {
        Self {
            integrations: self.integrations.with_tls(tls),
            ..self
        }
    }

    /// The same data plane, handling policy denials as `enforcement` says.
    pub fn with_enforcement(self, enforcement: crate::authorize::Enforcement) -> Self {
        Self {
            authorizer: self.authorizer.with_enforcement(enforcement),
            ..self
        }
    }

    /// Answers an execute-api request addressed to `api_id` with
    /// `stage_path` (`/{stage}/{path}`, or the whole path for HTTP APIs),
    /// its body already read: every phase after target resolution.
    pub async fn handle(
        &self,
        apis: &ApiRegistry,
        api_id: &str,
        stage_path: &str,
        signed: &HttpRequest<'_>,
        facts: RequestFacts<'_>,
        world: &World,
    ) -> GatewayResponse {
        self.handle_recorded(apis, api_id, stage_path, signed, facts, world)
            .await
            .0
    }

    /// [`DataPlane::handle`], also telling what was decided and where the
    /// request went, for the access log and the metrics.
    pub async fn handle_recorded(
        &self,
        apis: &ApiRegistry,
        api_id: &str,
        stage_path: &str,
        signed: &HttpRequest<'_>,
        facts: RequestFacts<'_>,
        world: &World,
    ) -> (GatewayResponse, AccessRecord) {
        let mut exchange = Exchange::addressed(signed, facts, apis, world, api_id, stage_path);
        let response = self.run(&mut exchange).await;
        let record = exchange.record(response.status).record;
        (response, record)
    }
}

/// `/{stage}/{path}` → (`stage`, `/{path}`).
pub(crate) fn split_stage(stage_path: &str) -> (&str, &str) {
    let trimmed = stage_path.strip_prefix('/').unwrap_or(stage_path);
    match trimmed.find('/') {
        Some(slash) => (
            trimmed.get(..slash).unwrap_or(""),
            trimmed.get(slash..).unwrap_or("/"),
        ),
        None => (trimmed, "/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_are_addressed_by_host_or_path_style() {
        assert_eq!(
            address(
                Some("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"),
                "/prod/pets"
            ),
            Some(Address {
                api_id: "a1b2c3d4e5",
                path: "/prod/pets".into()
            })
        );
        assert_eq!(
            address(
                Some("127.0.0.1:4566"),
                "/restapis/a1b2c3d4e5/prod/_user_request_/pets/1"
            ),
            Some(Address {
                api_id: "a1b2c3d4e5",
                path: "/prod/pets/1".into()
            })
        );
        assert_eq!(
            address(None, "/restapis/h1b2c3d4e5/$default/_user_request_/pets"),
            Some(Address {
                api_id: "h1b2c3d4e5",
                path: "/pets".into()
            })
        );
        assert_eq!(
            address(None, "/restapis/a1b2c3d4e5/prod/_user_request_"),
            Some(Address {
                api_id: "a1b2c3d4e5",
                path: "/prod/".into()
            })
        );
        assert_eq!(
            address(Some("a1b2c3d4e5.execute-api.localhost:4566"), "/prod/"),
            Some(Address {
                api_id: "a1b2c3d4e5",
                path: "/prod/".into()
            })
        );
        assert_eq!(address(Some("127.0.0.1:4566"), "/prod/pets"), None);
        assert_eq!(address(None, "/"), None);
    }

    #[test]
    fn stage_and_path_split_at_the_first_segment() {
        assert_eq!(split_stage("/prod/pets/1"), ("prod", "/pets/1"));
        assert_eq!(split_stage("/prod"), ("prod", "/"));
        assert_eq!(split_stage("/prod/"), ("prod", "/"));
    }
}
