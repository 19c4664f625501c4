//! The execute-api front door: which API and stage a request is for, the
//! authorization pipeline, and the integration's answer.
//!
//! An API is reached by host (`{api-id}.execute-api.{region}.amazonaws.com`,
//! or any host starting `{api-id}.execute-api.`) or path-style
//! (`/restapis/{api-id}/{stage}/_user_request_/{path}`); either way the
//! signature is checked against the request exactly as the client sent it.

use std::borrow::Cow;

use iamgate_iam::World;
use iamgate_iam::request_context::RequestFacts;
use iamgate_sigv4::HttpRequest;

use crate::access::{AccessDecision, AccessRecord};
use crate::authorize::{Authorizer, Call, Verdict};
use crate::integration::{EventContext, Forwarded, IntegrationFailure, Integrations};
use crate::responses::{
    GatewayResponse, http_internal_server_error, http_not_found, rest_forbidden,
    rest_integration_timeout, rest_internal_server_error, rest_missing_authentication_token,
};
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
/// it serves come with each request, from the current snapshot.
#[derive(Default)]
pub struct DataPlane {
    authorizer: Authorizer,
    integrations: Integrations,
}

/// Which flavour of API answered: their error bodies differ.
#[derive(Clone, Copy)]
enum Flavour {
    Rest,
    Http,
}

impl DataPlane {
    /// A data plane invoking endpoint-less Lambda integrations at
    /// `lambda_endpoint`.
    pub fn new(lambda_endpoint: &str) -> Self {
        Self {
            authorizer: Authorizer::default(),
            integrations: Integrations::new(lambda_endpoint),
        }
    }

    /// Answers an execute-api request addressed to `api_id` with
    /// `stage_path` (`/{stage}/{path}`, or the whole path for HTTP APIs).
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
        let request_id = iamgate_wire::new_request_id();
        let record =
            |api_known: bool, stage: Option<&str>, decision: AccessDecision| AccessRecord {
                request_id: request_id.clone(),
                api_id: api_id.to_owned(),
                api_known,
                stage: stage.map(str::to_owned),
                decision,
            };
        let now_millis = facts.now.saturating_mul(1000);
        let source_ip = facts.source_ip.map(|ip| ip.to_string());
        let (verdict, flavour, account, stage_name, path) = if let Some(api) = apis.rest.get(api_id)
        {
            if let Some(refusal) =
                self.authorizer
                    .refuse_outside_vpc_endpoint(api, &facts, &request_id)
            {
                return (
                    refusal,
                    record(true, None, AccessDecision::outside_vpc_endpoint()),
                );
            }
            let (stage_name, path) = split_stage(stage_path);
            let Some(stage) = api.stages.get(stage_name) else {
                return (
                    rest_missing_authentication_token(&request_id),
                    record(true, None, AccessDecision::not_found()),
                );
            };
            let call = Call {
                signed,
                path,
                facts,
                request_id: &request_id,
            };
            (
                self.authorizer.authorize_rest(api, stage, &call, world),
                Flavour::Rest,
                &api.account,
                stage.name.as_str(),
                path,
            )
        } else if let Some(api) = apis.http.get(api_id) {
            let (first, rest) = split_stage(stage_path);
            let (stage, path) = match api.stages.get(first) {
                Some(stage) if first != "$default" => (stage, rest),
                _ => match api.stages.get("$default") {
                    Some(stage) => (stage, stage_path),
                    None => {
                        return (
                            http_not_found(&request_id),
                            record(true, None, AccessDecision::not_found()),
                        );
                    }
                },
            };
            let call = Call {
                signed,
                path,
                facts,
                request_id: &request_id,
            };
            (
                self.authorizer.authorize_http(api, stage, &call, world),
                Flavour::Http,
                &api.account,
                stage.name.as_str(),
                path,
            )
        } else {
            return (
                rest_forbidden(&request_id),
                record(false, None, AccessDecision::not_found()),
            );
        };
        let (integration, params, caller, access_key_id, template, access) = match verdict {
            Verdict::Respond(response, access) => {
                return (response, record(true, Some(stage_name), access));
            }
            Verdict::Invoke {
                integration,
                params,
                caller,
                access_key_id,
                template,
                access,
                ..
            } => (integration, params, caller, access_key_id, template, access),
        };
        let record = record(true, Some(stage_name), access);
        let forwarded = Forwarded {
            method: signed.method,
            path,
            query: signed.query,
            headers: signed.headers,
            body: signed.body,
            source_ip,
        };
        let context = EventContext {
            api_id,
            account,
            stage: stage_name,
            template: &template,
            params: &params,
            caller: caller.as_ref(),
            access_key_id: access_key_id.as_deref(),
            request_id: &request_id,
            now_millis,
        };
        let request_id_header = match flavour {
            Flavour::Rest => "x-amzn-RequestId",
            Flavour::Http => "apigw-requestid",
        };
        let answer = self
            .integrations
            .call(integration, &forwarded, &context)
            .await;
        let response = match (answer, flavour) {
            (Ok(answer), _) => {
                let mut headers = answer.headers;
                if !headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    headers.push(("Content-Type".into(), "application/json".into()));
                }
                headers.push((request_id_header.into(), request_id.clone()));
                GatewayResponse {
                    status: answer.status,
                    headers,
                    body: String::from_utf8_lossy(&answer.body).into_owned(),
                }
            }
            (Err(IntegrationFailure::Timeout), Flavour::Rest) => {
                rest_integration_timeout(&request_id)
            }
            (Err(IntegrationFailure::Failed), Flavour::Rest) => {
                rest_internal_server_error(&request_id)
            }
            (Err(_), Flavour::Http) => http_internal_server_error(&request_id),
        };
        (response, record)
    }
}

/// `/{stage}/{path}` → (`stage`, `/{path}`).
fn split_stage(stage_path: &str) -> (&str, &str) {
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
