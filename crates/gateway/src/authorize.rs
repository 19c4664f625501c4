//! The authorization pipeline of an execute-api request (API Gateway
//! Developer Guide, "How API Gateway resource policies affect authorization
//! workflow"): the verifier and the choices it runs with, and the
//! authorizer's own entry points for one stage.
//!
//! REST: route; an unrouted request is `Missing Authentication Token`, but
//! only after a signature it carries has been checked; a `NONE` method is
//! called anonymously and still answers to the resource policy; an
//! `AWS_IAM` method needs a valid signature and then the caller's identity
//! policies and the stage's resource policy, combined as in Tables A and B.
//! HTTP: no resource policy exists, and every failure is a bare `Forbidden`.
//!
//! The steps themselves are the phases of [`crate::pipeline`] (route,
//! authenticate, authorize), each written once; [`Authorizer::authorize_rest`]
//! and [`Authorizer::authorize_http`] run those phases for a request
//! already at its stage, so that the decision tables can be checked
//! without a server or an API registry.

use iamgate_iam::request_context::RequestFacts;
use iamgate_iam::{Caller, World};
use iamgate_sigv4::{HttpRequest, ServiceRules, Surface, Verifier};

use crate::access::AccessDecision;
use crate::arn::execute_api_arn;
use crate::pipeline::{self, Exchange, Phase};
use crate::responses::{GatewayResponse, Tunables};
use crate::routing::PathParams;
use iamgate_apimodel::model::{HttpApi, HttpStage, Integration, RestApi, RestStage};

/// One request to a stage.
pub struct Call<'a> {
    /// The request exactly as the client sent it (what the signature covers).
    pub signed: &'a HttpRequest<'a>,
    /// The path after the stage segment, as received.
    pub path: &'a str,
    pub facts: RequestFacts<'a>,
    pub request_id: &'a str,
}

/// What to do with a request.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// Authorized: hand it to the integration.
    Invoke {
        integration: &'a Integration,
        params: PathParams,
        /// `None` for `NONE` methods and routes.
        caller: Option<Caller>,
        access_key_id: Option<String>,
        resource_arn: String,
        /// The REST resource path (`/pets/{petId}`) or the HTTP route key.
        template: String,
        /// How it was authorized, for the access log.
        access: AccessDecision,
    },
    /// Answer with this response; the decision says why.
    Respond(GatewayResponse, AccessDecision),
}

/// What a policy denial does (`serve --enforce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// Denials are answered, as AWS answers them.
    #[default]
    Strict,
    /// Denials are let through, and recorded and logged as `would_deny`:
    /// for turning policies on one at a time.
    Soft,
    /// Policies are not evaluated: every request that authenticates (a
    /// valid signature on `AWS_IAM` routes; anyone on `NONE` routes) is
    /// let through. Signatures are still checked: a request without a
    /// valid one is refused as in `Strict`.
    Off,
}

/// The data plane's verifier and choices.
pub struct Authorizer {
    pub(crate) verifier: Verifier,
    pub(crate) tunables: Tunables,
    pub(crate) enforcement: Enforcement,
    /// Whether decision records are built (off only to measure their cost).
    pub(crate) recording: bool,
}

impl Default for Authorizer {
    fn default() -> Self {
        Self::new(Tunables::default())
    }
}

/// Whether the request carries any SigV4 signature at all.
pub(crate) fn is_signed(request: &HttpRequest<'_>) -> bool {
    request.header("authorization").is_some()
        || request
            .query
            .split('&')
            .any(|p| p.starts_with("X-Amz-Algorithm="))
}

impl Authorizer {
    pub fn new(tunables: Tunables) -> Self {
        Self {
            verifier: Verifier::new(ServiceRules::for_service(
                "execute-api",
                Surface::ExecuteApi,
            )),
            tunables,
            enforcement: Enforcement::Strict,
            recording: true,
        }
    }

    /// The same authorizer, building decision records or not.
    pub fn with_recording(self, recording: bool) -> Self {
        Self { recording, ..self }
    }

    /// The same authorizer, with denials handled as `enforcement` says.
    pub fn with_enforcement(self, enforcement: Enforcement) -> Self {
        Self {
            enforcement,
            ..self
        }
    }

    /// REST API pipeline for `call` on `stage`.
    pub fn authorize_rest<'a>(
        &self,
        api: &'a RestApi,
        stage: &'a RestStage,
        call: &Call<'_>,
        world: &World,
    ) -> Verdict<'a> {
        let mut exchange = Exchange::at_rest_stage(
            call.signed,
            call.facts.clone(),
            world,
            call.request_id,
            api,
            stage,
            call.path,
        );
        let verdict = self.decide(&mut exchange);
        self.verdict(
            exchange,
            verdict,
            &api.region,
            &api.account,
            &api.id,
            &stage.name,
        )
    }

    /// HTTP API pipeline for `call` on `stage`.
    pub fn authorize_http<'a>(
        &self,
        api: &'a HttpApi,
        stage: &'a HttpStage,
        call: &Call<'_>,
        world: &World,
    ) -> Verdict<'a> {
        let mut exchange = Exchange::at_http_stage(
            call.signed,
            call.facts.clone(),
            world,
            call.request_id,
            api,
            stage,
            call.path,
        );
        let verdict = self.decide(&mut exchange);
        self.verdict(
            exchange,
            verdict,
            &api.region,
            &api.account,
            &api.id,
            &stage.name,
        )
    }

    /// Route, authenticate (the body is in hand) and authorize.
    fn decide(&self, exchange: &mut Exchange<'_, '_>) -> Phase {
        pipeline::route(exchange)?;
        pipeline::authenticate_head(exchange, self)?;
        pipeline::authenticate_body(exchange, self)?;
        pipeline::authorize(exchange, self)
    }

    fn verdict<'a>(
        &self,
        exchange: Exchange<'a, '_>,
        decided: Phase,
        region: &str,
        account: &str,
        api_id: &str,
        stage: &str,
    ) -> Verdict<'a> {
        let method = exchange.method().to_owned();
        let path = exchange.stage_path().to_owned();
        let (access, settled) = exchange.finish();
        match (decided, settled) {
            (Ok(()), Some(settled)) => Verdict::Invoke {
                integration: settled.integration,
                params: settled.params,
                caller: settled.caller,
                access_key_id: settled.access_key_id,
                resource_arn: execute_api_arn(region, account, api_id, stage, &method, &path),
                template: settled.template.to_owned(),
                access,
            },
            (Err(response), _) => Verdict::Respond(response, access),
            // Never reached: an authorized request is routed.
            (Ok(()), None) => Verdict::Respond(
                crate::responses::rest_internal_failure(&iamgate_wire::new_request_id()),
                access,
            ),
        }
    }
}
