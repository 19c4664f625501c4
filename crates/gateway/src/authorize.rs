//! The authorization pipeline of an execute-api request (API Gateway
//! Developer Guide, "How API Gateway resource policies affect authorization
//! workflow").
//!
//! REST: route; an unrouted request is `Missing Authentication Token`, but
//! only after a signature it carries has been checked; a `NONE` method is
//! called anonymously and still answers to the resource policy; an
//! `AWS_IAM` method needs a valid signature and then the caller's identity
//! policies and the stage's resource policy, combined as in Tables A and B.
//! HTTP: no resource policy exists, and every failure is a bare `Forbidden`.

use iamgate_iam::request_context::{RequestFacts, request_context};
use iamgate_iam::{Caller, World};
use iamgate_policy::{EvaluationInput, ResourcePolicyKind, evaluate};
use iamgate_sigv4::{HttpRequest, ServiceRules, Surface, Verifier};

use crate::access::AccessDecision;
use crate::arn::execute_api_arn;
use crate::responses::{
    DeniedCaller, GatewayResponse, Tunables, http_forbidden, http_not_found, rest_access_denied,
    rest_fixed, rest_missing_authentication_token, rest_signature_failure,
};
use crate::routing::{PathParams, RestMatch, route_http, route_rest};
use iamgate_apimodel::model::{
    AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, RestApi, RestStage,
};

const INVOKE: &str = "execute-api:Invoke";

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

/// The data plane's verifier and choices.
pub struct Authorizer {
    verifier: Verifier,
    tunables: Tunables,
}

impl Default for Authorizer {
    fn default() -> Self {
        Self::new(Tunables::default())
    }
}

/// Whether the request carries any SigV4 signature at all.
fn is_signed(request: &HttpRequest<'_>) -> bool {
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
        }
    }

    /// The refusal of a PRIVATE API addressed other than through a VPC
    /// endpoint (docs/private-apis.md); `None` when the API may answer. Checked
    /// before the stage is looked up, so from outside nothing about the
    /// API (its stages, its routes) can be probed.
    pub fn refuse_outside_vpc_endpoint(
        &self,
        api: &RestApi,
        facts: &RequestFacts<'_>,
        request_id: &str,
    ) -> Option<GatewayResponse> {
        (api.endpoint_type == EndpointType::Private && facts.vpc_endpoint.is_none())
            .then(|| rest_fixed(self.tunables.private_api_outside_vpc_endpoint, request_id))
    }

    /// REST API pipeline for `call` on `stage`.
    pub fn authorize_rest<'a>(
        &self,
        api: &RestApi,
        stage: &'a RestStage,
        call: &Call<'_>,
        world: &World,
    ) -> Verdict<'a> {
        let method = call.signed.method;
        let (found, params) = match route_rest(&stage.root, method, call.path) {
            RestMatch::Method { method, params } => (method, params),
            RestMatch::NotFound => {
                // A signature is checked even where nothing is routed, so a
                // malformed one is reported as such.
                if is_signed(call.signed)
                    && let Err(error) = self.verifier.verify_in_region(
                        call.signed,
                        world,
                        call.facts.now,
                        &api.region,
                    )
                {
                    return Verdict::Respond(
                        rest_signature_failure(&error, call.request_id),
                        AccessDecision::unauthenticated(None, Some(error.code())),
                    );
                }
                return Verdict::Respond(
                    rest_missing_authentication_token(call.request_id),
                    AccessDecision::not_found(),
                );
            }
        };
        let route = found.resource_path.as_str();
        let arn = execute_api_arn(
            &api.region,
            &api.account,
            &api.id,
            &stage.name,
            method,
            call.path,
        );
        match found.authorization {
            AuthorizationType::None => {
                let mut access = AccessDecision::allowed_without_policy(route);
                if let Some(policy) = &stage.policy {
                    let context = request_context(None, INVOKE, Some(&arn), &call.facts);
                    let decision = evaluate(&EvaluationInput {
                        request: &context,
                        identity: &[],
                        resource: Some(policy),
                        resource_kind: ResourcePolicyKind::ResourceBased,
                        boundary: None,
                        session: None,
                        scp_levels: &[],
                    });
                    access = AccessDecision::evaluated(&decision, route, None, None);
                    if !decision.is_allowed() {
                        let caller = DeniedCaller {
                            principal: "anonymous",
                            cross_account: false,
                        };
                        return Verdict::Respond(
                            rest_access_denied(
                                caller,
                                &arn,
                                &api.account,
                                &decision,
                                &self.tunables,
                                call.request_id,
                            ),
                            access,
                        );
                    }
                }
                Verdict::Invoke {
                    integration: &found.integration,
                    params,
                    caller: None,
                    access_key_id: None,
                    resource_arn: arn,
                    template: found.resource_path.clone(),
                    access,
                }
            }
            AuthorizationType::AwsIam => {
                if !is_signed(call.signed) {
                    return Verdict::Respond(
                        rest_missing_authentication_token(call.request_id),
                        AccessDecision::unauthenticated(Some(route), None),
                    );
                }
                let verified = match self.verifier.verify_in_region(
                    call.signed,
                    world,
                    call.facts.now,
                    &api.region,
                ) {
                    Ok(verified) => verified,
                    Err(error) => {
                        return Verdict::Respond(
                            rest_signature_failure(&error, call.request_id),
                            AccessDecision::unauthenticated(Some(route), Some(error.code())),
                        );
                    }
                };
                let access_key_id = verified.credential.access_key_id().to_owned();
                let caller = verified.identity;
                let context = request_context(Some(&caller), INVOKE, Some(&arn), &call.facts)
                    .with_key("aws:ResourceAccount", &api.account);
                let decision = world.evaluate_with_resource(
                    &caller,
                    &context,
                    stage.policy.as_deref(),
                    ResourcePolicyKind::ResourceBased,
                );
                let principal = caller.arn();
                let access = AccessDecision::evaluated(
                    &decision,
                    route,
                    Some(principal.clone()),
                    Some(access_key_id.clone()),
                );
                if !decision.is_allowed() {
                    let denied = DeniedCaller {
                        principal: &principal,
                        cross_account: caller.account() != api.account,
                    };
                    return Verdict::Respond(
                        rest_access_denied(
                            denied,
                            &arn,
                            &api.account,
                            &decision,
                            &self.tunables,
                            call.request_id,
                        ),
                        access,
                    );
                }
                Verdict::Invoke {
                    integration: &found.integration,
                    params,
                    caller: Some(caller),
                    access_key_id: Some(access_key_id),
                    resource_arn: arn,
                    template: found.resource_path.clone(),
                    access,
                }
            }
        }
    }

    /// HTTP API pipeline for `call` on `stage`.
    pub fn authorize_http<'a>(
        &self,
        api: &HttpApi,
        stage: &'a HttpStage,
        call: &Call<'_>,
        world: &World,
    ) -> Verdict<'a> {
        let method = call.signed.method;
        let Some((route, params)) = route_http(&stage.routes, method, call.path) else {
            return Verdict::Respond(http_not_found(call.request_id), AccessDecision::not_found());
        };
        let arn = execute_api_arn(
            &api.region,
            &api.account,
            &api.id,
            &stage.name,
            method,
            call.path,
        );
        if route.authorization == AuthorizationType::None {
            return Verdict::Invoke {
                integration: &route.integration,
                params,
                caller: None,
                access_key_id: None,
                resource_arn: arn,
                template: route.key.clone(),
                access: AccessDecision::allowed_without_policy(&route.key),
            };
        }
        let forbidden =
            |access: AccessDecision| Verdict::Respond(http_forbidden(call.request_id), access);
        if !is_signed(call.signed) {
            return forbidden(AccessDecision::unauthenticated(Some(&route.key), None));
        }
        let verified =
            match self
                .verifier
                .verify_in_region(call.signed, world, call.facts.now, &api.region)
            {
                Ok(verified) => verified,
                Err(error) => {
                    return forbidden(AccessDecision::unauthenticated(
                        Some(&route.key),
                        Some(error.code()),
                    ));
                }
            };
        let caller = verified.identity;
        let access_key_id = verified.credential.access_key_id().to_owned();
        let context = request_context(Some(&caller), INVOKE, Some(&arn), &call.facts)
            .with_key("aws:ResourceAccount", &api.account);
        // No resource policy: a caller of another account can never pass.
        let decision = world.evaluate(&caller, &context);
        let access = AccessDecision::evaluated(
            &decision,
            &route.key,
            Some(caller.arn()),
            Some(access_key_id.clone()),
        );
        if !decision.is_allowed() {
            return forbidden(access);
        }
        Verdict::Invoke {
            integration: &route.integration,
            params,
            caller: Some(caller),
            access_key_id: Some(access_key_id),
            resource_arn: arn,
            template: route.key.clone(),
            access,
        }
    }
}
