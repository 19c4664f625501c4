//! One execute-api request as a fixed sequence of named phases over one
//! context, the [`Exchange`]:
//!
//! 1. [`resolve_target`]: which API and stage path the request addresses
//!    (a custom domain name's base path, the `{api-id}.execute-api.` host,
//!    or the path-style `/restapis/{api-id}/{stage}/_user_request_/…`);
//! 2. [`refuse_early`]: refusals that need no stage (a base path that maps
//!    nothing, a disabled default endpoint, a private API or domain name
//!    outside a VPC endpoint, an unknown API);
//! 3. [`select_stage`], 4. [`route`];
//! 5. [`authenticate_head`], then [`authenticate_body`] once the body is
//!    read, when the signature covers it;
//! 6. [`authorize`]: the caller's and the API's policies, and the denial;
//!    for a `CUSTOM` method or route, [`authorize_custom`]: the Lambda
//!    authorizer's answer and the resource policy;
//!    then [`meter`]: the API key, throttles and quota, and
//!    [`validate_request`]: the method's request validator (REST);
//! 7. [`integrate`]: the MOCK, HTTP or Lambda answer;
//! 8. [`Exchange::record`] and [`Exchange::decision_record`]: the one
//!    access-log record and the one decision record of the request.
//!
//! Why phases over one context: the request used to be decided partly by
//! the server (custom domains, early refusals) and partly here, each with
//! its own view of the request, so early refusals were never logged and
//! the same check ("private API outside a VPC endpoint") lived in two
//! places. Here every check has one place, in the order AWS applies them,
//! and every request, however early it is refused, leaves the same record
//! (as Pingora runs a request through named phases over one context).
//!
//! Why the body comes in the middle: phases 1 to 5 need only the request's
//! head, and the server reads the body only when they let the request
//! through ([`Flow::NeedsBody`]). So a request for nothing, or to an
//! `AWS_IAM` route without a valid signature, is answered before its body
//! is buffered. SigV4 allows that for everything but the signature over a
//! body whose hash the client did not declare (`x-amz-content-sha256`):
//! only that waits for the body, and the answers are the ones the whole
//! verification gives ([`iamgate_sigv4::Verifier::verify_head_in_region`]).
//! A `NONE` route's anonymous caller is authorized before the body too; a
//! signed caller only once the body has been checked against its
//! signature, since a body that does not match is answered as a signature
//! failure whatever the policies say.
//!
//! Why a Lambda authorizer runs after the body is read: calling it is the
//! one phase that waits on the network, and the head phases run without
//! waiting, so the server can answer most refusals at once. The body is
//! bounded by the server either way, and never reaches the authorizer.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use iamgate_decisions::{
    DecisionRecord, Entry, Evaluation, Filing, PendingRecord, SharedPolicies, UsageRecord,
    evaluate_input,
};
use iamgate_iam::request_context::{RequestFacts, VpcEndpoint, request_context};
use iamgate_iam::{Caller, World};
use iamgate_policy::{
    CompiledPolicies, Decision, EvaluationInput, Outcome, PrincipalIdentity, ResourcePolicyKind,
};
use iamgate_sigv4::{HeadVerdict, HttpRequest, SigV4Error};
use iamgate_vtl::Inputs;

use crate::access::{AccessDecision, AccessLogEntry, AccessOutcome, AccessRecord};
use crate::arn::execute_api_arn;
use crate::authorize::{Authorizer, Enforcement, is_signed};
use crate::authorizers::{Authorized, TokenClaims};
use crate::authorizers::{AuthorizerFailure, AuthorizerRequest};
use crate::client_cert::ClientCert;
use crate::dataplane::{DataPlane, address, split_stage};
use crate::domains::{self, DomainRoute};
use crate::integration::{EventContext, Forwarded, IntegrationFailure, Integrations};
use crate::responses::{
    DeniedCaller, GatewayResponse, http_forbidden, http_internal_server_error, http_not_found,
    http_unauthorized, message_of, rest_access_denied, rest_authorizer_configuration_error,
    rest_authorizer_denied, rest_fixed, rest_forbidden, rest_integration_timeout,
    rest_internal_failure, rest_internal_server_error, rest_missing_authentication_token,
    rest_signature_failure, rest_unauthorized, rest_unsupported_media_type,
};
use crate::routing::{PathParams, RestMatch, route_http, route_rest};
use crate::usage::{Meter, Refusal};
use iamgate_apimodel::authorizers::IdentitySource;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::gateway_responses::ResponseType;
use iamgate_apimodel::model::TokenAuthorization;
use iamgate_apimodel::model::{
    ApiFlavour, AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, RestApi,
    RestStage,
};

const INVOKE: &str = "execute-api:Invoke";

/// The parameters of a request no route matched.
static NO_PARAMS: PathParams = Vec::new();

/// What a phase decided: go on, or answer with this response (the
/// exchange's decision then says why).
pub type Phase = Result<(), GatewayResponse>;

/// The head of a request exactly as received: what the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Head<'r> {
    pub method: &'r str,
    /// The raw path, without the query.
    pub path: &'r str,
    /// The raw query, without the `?`.
    pub query: &'r str,
    /// Every header in the order received.
    pub headers: &'r [(&'r str, &'r [u8])],
}

impl<'r> Head<'r> {
    /// From a request target such as `/prod/pets?type=dog`.
    pub fn from_target(
        method: &'r str,
        target: &'r str,
        headers: &'r [(&'r str, &'r [u8])],
    ) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self {
            method,
            path,
            query,
            headers,
        }
    }

    /// The first header called `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&'r str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }
}

/// Where and when a request came in.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'r> {
    /// Seconds since the epoch, when the head arrived.
    pub now: i64,
    /// `aws:SourceIp` (or `aws:VpcSourceIp` through a VPC endpoint).
    pub source_ip: Option<IpAddr>,
    /// The VPC endpoint the request came through; `None` on the public
    /// listener.
    pub vpc_endpoint: Option<&'r VpcEndpoint>,
    pub secure: bool,
    /// The client certificate the TLS handshake verified (mutual TLS).
    pub client_cert: Option<&'r ClientCert>,
}

/// What [`resolve_target`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// A custom domain name none of whose base paths matches the path.
    Unmapped,
    /// API `api_id`, with the path from the stage on (`/{stage}/{path}`,
    /// or the whole path for an HTTP API's `$default` stage).
    Api {
        api_id: String,
        stage_path: String,
        through: Through,
    },
}

/// How an API was addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Through {
    /// Its own `{api-id}.execute-api.` host or the path-style address.
    DefaultEndpoint,
    /// A custom domain name; `private` ones answer only through VPC
    /// endpoints.
    CustomDomain { private: bool },
}

/// The API a request addresses.
#[derive(Debug, Clone, Copy)]
enum Api<'a> {
    Rest(&'a RestApi),
    Http(&'a HttpApi),
}

impl<'a> Api<'a> {
    fn account(self) -> &'a str {
        match self {
            Api::Rest(api) => &api.account,
            Api::Http(api) => &api.account,
        }
    }

    fn region(self) -> &'a str {
        match self {
            Api::Rest(api) => &api.region,
            Api::Http(api) => &api.region,
        }
    }

    fn id(self) -> &'a str {
        match self {
            Api::Rest(api) => &api.id,
            Api::Http(api) => &api.id,
        }
    }

    fn is_private(self) -> bool {
        matches!(self, Api::Rest(api) if api.endpoint_type == EndpointType::Private)
    }
}

/// The execute-api ARN of `method` on `path` of `stage` of `api`.
fn method_arn(api: Api<'_>, stage: Stage<'_>, method: &str, path: &str) -> String {
    execute_api_arn(
        api.region(),
        api.account(),
        api.id(),
        stage.name(),
        method,
        path,
    )
}

/// The stage that serves a request.
#[derive(Debug, Clone, Copy)]
enum Stage<'a> {
    Rest(&'a RestStage),
    Http(&'a HttpStage),
}

impl<'a> Stage<'a> {
    fn name(self) -> &'a str {
        match self {
            Stage::Rest(stage) => &stage.name,
            Stage::Http(stage) => &stage.name,
        }
    }

    /// A REST stage's deployed resource policy (HTTP APIs have none).
    fn policy(self) -> Option<&'a Arc<CompiledPolicies>> {
        match self {
            Stage::Rest(stage) => stage.policy.as_ref(),
            Stage::Http(_) => None,
        }
    }
}

/// The method or route a request runs.
#[derive(Debug)]
struct Routed<'a> {
    integration: &'a Integration,
    params: PathParams,
    /// The REST resource path (`/pets/{petId}`) or the HTTP route key.
    template: &'a str,
    authorization: &'a AuthorizationType,
    /// A REST method's `apiKeyRequired`.
    api_key_required: bool,
    /// A REST method's request validation (`None` on HTTP APIs).
    request: Option<&'a iamgate_apimodel::validation::MethodRequest>,
}

/// Who the caller is, as far as it is known.
#[derive(Debug)]
enum Authentication {
    /// A `NONE` route: nobody, and nothing to verify.
    Anonymous,
    /// The signature covers the body: verify once it is read.
    NeedsBody,
    /// The signature covers the declared payload hash and checks out; the
    /// body must still match that hash.
    PayloadPending {
        caller: Caller,
        access_key_id: String,
    },
    Verified {
        caller: Caller,
        access_key_id: String,
    },
}

impl Authentication {
    /// Whether the caller is settled (nothing left to check on the body).
    fn is_settled(&self) -> bool {
        matches!(
            self,
            Authentication::Anonymous | Authentication::Verified { .. }
        )
    }
}

/// What the server does next with a request whose head was seen.
#[derive(Debug)]
pub enum Flow {
    /// Not an execute-api request: the control planes' or the server's own.
    NotExecuteApi,
    /// Answered from the head alone; the body is never read.
    Answered(GatewayResponse),
    /// Read the body and call [`DataPlane::after_body`].
    NeedsBody,
}

/// One execute-api request and everything the phases learned about it:
/// the one context passed along, from the head to the access-log record.
/// `'a` is the API snapshot, `'r` the request (and the IAM world).
pub struct Exchange<'a, 'r> {
    head: Head<'r>,
    facts: RequestFacts<'r>,
    world: &'r World,
    apis: Option<&'a ApiRegistry>,
    request_id: String,
    /// The path in its one normal form ([`crate::path`]).
    path: Cow<'r, str>,
    body: Cow<'r, [u8]>,
    addressed: Option<Addressed>,
    /// `execute-api:viaDomainArn`: the private domain name it came through.
    via_domain_arn: Option<String>,
    api_id: String,
    api: Option<Api<'a>>,
    stage: Option<Stage<'a>>,
    /// The path after the stage segment.
    stage_path: String,
    /// `None` after [`route`] only for an unrouted REST request that
    /// carries a signature (checked before it is refused).
    route: Option<Routed<'a>>,
    authentication: Authentication,
    decision: AccessDecision,
    /// The decision record of [`authorize`], when it ran.
    evaluated: Option<Entry>,
    /// The verified mutual-TLS client certificate, for the integration.
    client_cert: Option<&'r ClientCert>,
    /// A Lambda authorizer's answer that let the request through.
    authorized: Option<Arc<Authorized>>,
    /// The message of AWS's default error, kept when a customized gateway
    /// response replaced its body: the decision record says what happened,
    /// not what the API's owner chose to show.
    error_message: Option<String>,
    /// What [`meter`] decided, for the decision record.
    usage: Option<UsageRecord>,
}

impl<'a, 'r> Exchange<'a, 'r> {
    /// A request whose head has arrived, to be resolved against `apis`.
    pub fn new(
        head: Head<'r>,
        origin: Origin<'r>,
        apis: &'a ApiRegistry,
        world: &'r World,
    ) -> Self {
        let facts = RequestFacts {
            now: origin.now,
            source_ip: origin.source_ip,
            vpc_endpoint: origin.vpc_endpoint,
            secure: origin.secure,
            user_agent: head.header("user-agent"),
            referer: head.header("referer"),
            region: None,
            via_domain_arn: None,
        };
        let mut exchange = Self::blank(head, facts, Some(apis), world);
        exchange.client_cert = origin.client_cert;
        exchange
    }

    /// A request already addressed to `api_id` with `stage_path`, with
    /// the body `signed` carries: the data plane called directly.
    pub(crate) fn addressed(
        signed: &HttpRequest<'r>,
        facts: RequestFacts<'r>,
        apis: &'a ApiRegistry,
        world: &'r World,
        api_id: &str,
        stage_path: &str,
    ) -> Self {
        let mut exchange = Self::blank(head_of(signed), facts, Some(apis), world);
        exchange.via_domain_arn = exchange.facts.via_domain_arn.map(str::to_owned);
        exchange.addressed = Some(Addressed::Api {
            api_id: api_id.to_owned(),
            stage_path: stage_path.to_owned(),
            through: Through::DefaultEndpoint,
        });
        exchange.body = Cow::Borrowed(signed.body);
        exchange
    }

    /// A request at `stage` of `api`, with `path` after the stage segment
    /// (the authorizer called directly).
    pub(crate) fn at_rest_stage(
        signed: &HttpRequest<'r>,
        facts: RequestFacts<'r>,
        world: &'r World,
        request_id: &str,
        api: &'a RestApi,
        stage: &'a RestStage,
        path: &str,
    ) -> Self {
        let mut exchange = Self::at_stage(signed, facts, world, request_id, path);
        exchange.api = Some(Api::Rest(api));
        exchange.api_id = api.id.clone();
        exchange.stage = Some(Stage::Rest(stage));
        exchange
    }

    /// [`Exchange::at_rest_stage`] for an HTTP API.
    pub(crate) fn at_http_stage(
        signed: &HttpRequest<'r>,
        facts: RequestFacts<'r>,
        world: &'r World,
        request_id: &str,
        api: &'a HttpApi,
        stage: &'a HttpStage,
        path: &str,
    ) -> Self {
        let mut exchange = Self::at_stage(signed, facts, world, request_id, path);
        exchange.api = Some(Api::Http(api));
        exchange.api_id = api.id.clone();
        exchange.stage = Some(Stage::Http(stage));
        exchange
    }

    fn at_stage(
        signed: &HttpRequest<'r>,
        facts: RequestFacts<'r>,
        world: &'r World,
        request_id: &str,
        path: &str,
    ) -> Self {
        let mut exchange = Self::blank(head_of(signed), facts, None, world);
        exchange.via_domain_arn = exchange.facts.via_domain_arn.map(str::to_owned);
        request_id.clone_into(&mut exchange.request_id);
        exchange.stage_path = path.to_owned();
        exchange.body = Cow::Borrowed(signed.body);
        exchange
    }

    fn blank(
        head: Head<'r>,
        facts: RequestFacts<'r>,
        apis: Option<&'a ApiRegistry>,
        world: &'r World,
    ) -> Self {
        Self {
            head,
            facts,
            world,
            apis,
            request_id: iamgate_wire::new_request_id(),
            path: crate::path::normalize(head.path),
            body: Cow::Borrowed(&[]),
            addressed: None,
            via_domain_arn: None,
            api_id: String::new(),
            api: None,
            stage: None,
            stage_path: String::new(),
            route: None,
            authentication: Authentication::Anonymous,
            decision: AccessDecision::not_found(),
            evaluated: None,
            client_cert: None,
            authorized: None,
            error_message: None,
            usage: None,
        }
    }

    /// The request id its answer and its record carry.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The request as the signature covers it, with the body read so far
    /// (none before [`DataPlane::after_body`]).
    fn signed(&self) -> HttpRequest<'_> {
        HttpRequest {
            method: self.head.method,
            path: self.head.path,
            query: self.head.query,
            headers: self.head.headers,
            body: &self.body,
        }
    }

    /// The request's condition-key facts.
    fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            via_domain_arn: self.via_domain_arn.as_deref(),
            ..self.facts.clone()
        }
    }

    fn is_http(&self) -> bool {
        matches!(self.api, Some(Api::Http(_)))
    }

    /// Whether the routed method or route has an authorizer (Lambda, JWT
    /// or Cognito user pool): decided after the body, by
    /// [`authorize_custom`].
    fn is_custom(&self) -> bool {
        self.route
            .as_ref()
            .is_some_and(|route| route.authorization.any_authorizer().is_some())
    }

    /// Refuses with `response` because of `decision`.
    fn refuse(&mut self, decision: AccessDecision, response: GatewayResponse) -> Phase {
        self.decision = decision;
        Err(response)
    }

    /// The body could not be read: `response` (the server's) answers it,
    /// as the stage's `REQUEST_TOO_LARGE` (413) or catch-all gateway
    /// response if customized.
    pub fn refuse_body(&mut self, mut response: GatewayResponse) -> GatewayResponse {
        self.decision =
            AccessDecision::body_refused(self.route.as_ref().map(|route| route.template));
        response.response_type = Some(if response.status == 413 {
            ResponseType::RequestTooLarge
        } else {
            ResponseType::fallback(response.status)
        });
        self.customized(response)
    }

    /// `response` as the REST stage's customized gateway responses answer
    /// it ([`crate::gateway_responses`]); as it is otherwise.
    fn customized(&mut self, response: GatewayResponse) -> GatewayResponse {
        let Some(Stage::Rest(stage)) = self.stage else {
            return response;
        };
        if stage.gateway_responses.is_empty() || response.response_type.is_none() {
            return response;
        }
        self.error_message = Some(message_of(&response.body));
        crate::gateway_responses::customize(
            response,
            &stage.gateway_responses,
            self.head.header("accept"),
            || match self.event_context() {
                Some(context) => crate::mapping::inputs(&self.forwarded(), &context),
                None => Inputs::default(),
            },
        )
    }

    /// The method request as an integration or a template sees it.
    fn forwarded(&self) -> Forwarded<'_> {
        Forwarded {
            method: self.head.method,
            path: &self.stage_path,
            query: self.head.query,
            headers: self.head.headers,
            body: &self.body,
            source_ip: self.facts.source_ip.map(|ip| ip.to_string()),
        }
    }

    /// The API, stage, route and caller, once the stage is known; an
    /// unrouted request has no resource path and no parameters.
    fn event_context(&self) -> Option<EventContext<'_>> {
        let (api, stage) = (self.api?, self.stage?);
        let (caller, access_key_id) = match &self.authentication {
            Authentication::Verified {
                caller,
                access_key_id,
            } => (Some(caller), Some(access_key_id.as_str())),
            _ => (None, None),
        };
        let (template, params) = match &self.route {
            Some(route) => (route.template, &route.params),
            None => ("", &NO_PARAMS),
        };
        Some(EventContext {
            api_id: api.id(),
            account: api.account(),
            stage: stage.name(),
            template,
            params,
            caller,
            access_key_id,
            request_id: &self.request_id,
            now_millis: self.facts.now.saturating_mul(1000),
            stage_variables: match stage {
                Stage::Rest(stage) => &stage.variables,
                Stage::Http(_) => &[],
            },
            client_cert: self.client_cert,
            authorizer: self.authorized.as_deref(),
        })
    }

    /// The connection's mutual-TLS handshake found no client certificate
    /// the custom domain name's truststore trusts: AWS answers every
    /// request on it `403 Forbidden` before anything else is looked at.
    pub fn refuse_mutual_tls(&mut self) -> GatewayResponse {
        self.decision = AccessDecision::mutual_tls_refused();
        rest_forbidden(&self.request_id)
    }

    /// Phase 8: the access-log record of this request, answered with
    /// `status`. Every execute-api request has exactly one, whichever
    /// phase answered it.
    pub fn record(&self, status: u16) -> AccessLogEntry {
        AccessLogEntry {
            record: AccessRecord {
                request_id: self.request_id.clone(),
                api_id: self.api_id.clone(),
                api_known: self.api.is_some(),
                stage: self.stage.map(|stage| stage.name().to_owned()),
                decision: self.decision.clone(),
            },
            method: self.head.method.to_owned(),
            path: self.head.path.to_owned(),
            source_ip: self.facts.source_ip,
            source_vpce: self
                .facts
                .vpc_endpoint
                .map(|endpoint| endpoint.endpoint_id.clone()),
            status,
        }
    }

    /// Phase 8: the decision record of this request, answered with
    /// `response`: the one [`authorize`] wrote, or for a request refused
    /// before it, what is known (the refusal's word, the resource when a
    /// stage was found, the caller when its signature verified). Its
    /// message is AWS's, from the response, unless it has one.
    /// The execute-api ARN the request is authorized against, once its
    /// API and stage are known.
    fn method_arn(&self) -> Option<String> {
        let (api, stage) = (self.api?, self.stage?);
        Some(method_arn(api, stage, self.head.method, &self.stage_path))
    }

    pub fn decision_record(&mut self, response: &GatewayResponse) -> Entry {
        let mut entry = match self.evaluated.take() {
            Some(entry) => entry,
            None => self.unevaluated_record().into(),
        };
        if let Some(usage) = self.usage.take() {
            entry.set_usage(usage);
        }
        if response.status >= 400 {
            entry.set_message_unless_set(|| {
                self.error_message
                    .clone()
                    .unwrap_or_else(|| message_of(&response.body))
            });
        }
        entry
    }

    fn unevaluated_record(&self) -> DecisionRecord {
        let mut record = DecisionRecord::bare(
            &self.request_id,
            self.facts.now,
            "execute-api",
            self.decision.outcome.as_str(),
            INVOKE,
        );
        record.resource = self.method_arn();
        record.resource_account = self.api.map(|api| api.account().to_owned());
        record.principal = self.decision.caller.clone();
        record.error_code.clone_from(&self.decision.error_code);
        record
    }

    /// The access decision so far.
    pub fn decision(&self) -> &AccessDecision {
        &self.decision
    }

    pub(crate) fn method(&self) -> &str {
        self.head.method
    }

    /// The path after the stage segment.
    pub(crate) fn stage_path(&self) -> &str {
        &self.stage_path
    }

    /// The decision, and what a routed request runs with.
    pub(crate) fn finish(self) -> (AccessDecision, Option<Settled<'a>>) {
        let (caller, access_key_id) = match self.authentication {
            Authentication::Verified {
                caller,
                access_key_id,
            } => (Some(caller), Some(access_key_id)),
            _ => (None, None),
        };
        let settled = self.route.map(|route| Settled {
            integration: route.integration,
            params: route.params,
            template: route.template,
            caller,
            access_key_id,
        });
        (self.decision, settled)
    }
}

/// What a routed request runs with, once decided.
pub(crate) struct Settled<'a> {
    pub integration: &'a Integration,
    pub params: PathParams,
    pub template: &'a str,
    pub caller: Option<Caller>,
    pub access_key_id: Option<String>,
}

/// The head as a view without a body.
fn head_of<'r>(signed: &HttpRequest<'r>) -> Head<'r> {
    Head {
        method: signed.method,
        path: signed.path,
        query: signed.query,
        headers: signed.headers,
    }
}

/// Phase 1: which API and stage path the request addresses; `false` when
/// it is no execute-api request. A custom domain name's mappings come
/// first: its host is no `{api-id}.execute-api.` host.
pub fn resolve_target(exchange: &mut Exchange<'_, '_>) -> bool {
    if exchange.addressed.is_some() {
        return true;
    }
    let Some(apis) = exchange.apis else {
        return false;
    };
    let host = exchange.head.header("host");
    let addressed = match domains::route(apis, host, &exchange.path) {
        DomainRoute::Api {
            api_id,
            stage_path,
            via_domain_arn,
        } => {
            let private = via_domain_arn.is_some();
            exchange.via_domain_arn = via_domain_arn;
            Addressed::Api {
                api_id,
                stage_path,
                through: Through::CustomDomain { private },
            }
        }
        DomainRoute::Unmapped => Addressed::Unmapped,
        DomainRoute::NotADomain => match address(host, &exchange.path) {
            Some(found) => Addressed::Api {
                api_id: found.api_id.to_owned(),
                stage_path: found.path.into_owned(),
                through: Through::DefaultEndpoint,
            },
            None => return false,
        },
    };
    exchange.addressed = Some(addressed);
    true
}

/// Phase 2: the refusals that need no stage, in this order: a custom
/// domain's base path that maps nothing (an unknown resource: `Missing
/// Authentication Token`); an API's disabled default endpoint; a private
/// API or private domain name outside a VPC endpoint, refused before the
/// stage is looked up so that from outside nothing about the API can be
/// probed (docs/private-apis.md); an API id that names no API.
pub fn refuse_early(exchange: &mut Exchange<'_, '_>, authorizer: &Authorizer) -> Phase {
    let request_id = exchange.request_id.clone();
    let Some(Addressed::Api {
        api_id, through, ..
    }) = &exchange.addressed
    else {
        return exchange.refuse(
            AccessDecision::not_found(),
            rest_missing_authentication_token(&request_id),
        );
    };
    let through = *through;
    exchange.api_id.clone_from(api_id);
    if let Some(apis) = exchange.apis {
        exchange.api = match (apis.rest.get(api_id), apis.http.get(api_id)) {
            (Some(api), _) => Some(Api::Rest(api)),
            (None, Some(api)) => Some(Api::Http(api)),
            (None, None) => None,
        };
        if through == Through::DefaultEndpoint
            && apis.is_default_endpoint_disabled(&exchange.api_id)
        {
            return exchange.refuse(
                AccessDecision::default_endpoint_disabled(),
                rest_forbidden(&request_id),
            );
        }
    }
    let private = through == Through::CustomDomain { private: true }
        || exchange.api.is_some_and(Api::is_private);
    if private && exchange.facts.vpc_endpoint.is_none() {
        return exchange.refuse(
            AccessDecision::outside_vpc_endpoint(),
            rest_fixed(
                authorizer.tunables.private_api_outside_vpc_endpoint,
                &request_id,
            ),
        );
    }
    if exchange.api.is_none() {
        return exchange.refuse(AccessDecision::not_found(), rest_forbidden(&request_id));
    }
    Ok(())
}

/// Phase 3: the stage named by the path's first segment; an HTTP API's
/// `$default` stage takes every path no named stage does.
pub fn select_stage(exchange: &mut Exchange<'_, '_>) -> Phase {
    let stage_path = match &exchange.addressed {
        Some(Addressed::Api { stage_path, .. }) => stage_path.clone(),
        _ => String::new(),
    };
    let (first, rest) = split_stage(&stage_path);
    let found = match exchange.api {
        Some(Api::Rest(api)) => api
            .stages
            .get(first)
            .map(|stage| (Stage::Rest(stage), rest)),
        Some(Api::Http(api)) => match api.stages.get(first) {
            Some(stage) if first != "$default" => Some((Stage::Http(stage), rest)),
            _ => api
                .stages
                .get("$default")
                .map(|stage| (Stage::Http(stage), stage_path.as_str())),
        },
        None => None,
    };
    let Some((stage, path)) = found else {
        let response = if exchange.is_http() {
            http_not_found(&exchange.request_id)
        } else {
            rest_missing_authentication_token(&exchange.request_id)
        };
        return exchange.refuse(AccessDecision::not_found(), response);
    };
    exchange.stage = Some(stage);
    exchange.stage_path = path.to_owned();
    Ok(())
}

/// Phase 4: the method (REST) or route (HTTP) the request runs. An
/// unrouted REST request is `Missing Authentication Token`, but a
/// signature it carries is checked first (so a malformed one is reported
/// as such): it goes on unrouted to [`authenticate_head`].
pub fn route(exchange: &mut Exchange<'_, '_>) -> Phase {
    let method = exchange.head.method;
    match exchange.stage {
        Some(Stage::Rest(stage)) => match route_rest(&stage.root, method, &exchange.stage_path) {
            RestMatch::Method { method, params } => {
                exchange.route = Some(Routed {
                    integration: &method.integration,
                    params,
                    template: &method.resource_path,
                    authorization: &method.authorization,
                    api_key_required: method.api_key_required,
                    request: Some(&method.request),
                });
                Ok(())
            }
            RestMatch::NotFound if is_signed(&exchange.signed()) => Ok(()),
            RestMatch::NotFound => {
                let response = rest_missing_authentication_token(&exchange.request_id);
                exchange.refuse(AccessDecision::not_found(), response)
            }
        },
        Some(Stage::Http(stage)) => match route_http(&stage.routes, method, &exchange.stage_path) {
            Some((route, params)) => {
                exchange.route = Some(Routed {
                    integration: &route.integration,
                    params,
                    template: &route.key,
                    authorization: &route.authorization,
                    api_key_required: false,
                    request: None,
                });
                Ok(())
            }
            None => {
                let response = http_not_found(&exchange.request_id);
                exchange.refuse(AccessDecision::not_found(), response)
            }
        },
        None => {
            let response = rest_missing_authentication_token(&exchange.request_id);
            exchange.refuse(AccessDecision::not_found(), response)
        }
    }
}

/// Phase 5, before the body: a `NONE` route's caller is anonymous; an
/// `AWS_IAM` route (or an unrouted REST request that is signed) needs a
/// signature, checked as far as the head allows.
pub fn authenticate_head(exchange: &mut Exchange<'_, '_>, authorizer: &Authorizer) -> Phase {
    let needs_signature = exchange
        .route
        .as_ref()
        .is_none_or(|route| *route.authorization == AuthorizationType::AwsIam);
    if !needs_signature {
        exchange.authentication = Authentication::Anonymous;
        return Ok(());
    }
    if !is_signed(&exchange.signed()) {
        let response = if exchange.is_http() {
            http_forbidden(&exchange.request_id)
        } else {
            rest_missing_authentication_token(&exchange.request_id)
        };
        let route = exchange.route.as_ref().map(|route| route.template);
        return exchange.refuse(AccessDecision::unauthenticated(route, None), response);
    }
    let region = exchange.api.map_or("", Api::region);
    let verdict = authorizer.verifier.verify_head_in_region(
        &exchange.signed(),
        exchange.world,
        exchange.facts.now,
        region,
    );
    exchange.authentication = match verdict {
        Ok(HeadVerdict::Verified(verified)) => Authentication::PayloadPending {
            access_key_id: verified.credential.access_key_id().to_owned(),
            caller: verified.identity,
        },
        Ok(HeadVerdict::NeedsBody) => Authentication::NeedsBody,
        Err(error) => return refuse_signature(exchange, &error),
    };
    Ok(())
}

/// Phase 5, after the body: the signature over the body, or the body
/// against the payload hash the signature covered.
pub fn authenticate_body(exchange: &mut Exchange<'_, '_>, authorizer: &Authorizer) -> Phase {
    let pending = std::mem::replace(&mut exchange.authentication, Authentication::Anonymous);
    exchange.authentication = match pending {
        Authentication::NeedsBody => {
            let region = exchange.api.map_or("", Api::region);
            let verified = authorizer
                .verifier
                .verify_in_region(
                    &exchange.signed(),
                    exchange.world,
                    exchange.facts.now,
                    region,
                )
                .map(|verified| {
                    (
                        verified.identity,
                        verified.credential.access_key_id().to_owned(),
                    )
                });
            match verified {
                Ok((caller, access_key_id)) => Authentication::Verified {
                    caller,
                    access_key_id,
                },
                Err(error) => return refuse_signature(exchange, &error),
            }
        }
        Authentication::PayloadPending {
            caller,
            access_key_id,
        } => match authorizer.verifier.check_payload(&exchange.signed()) {
            Ok(()) => Authentication::Verified {
                caller,
                access_key_id,
            },
            Err(error) => return refuse_signature(exchange, &error),
        },
        settled => settled,
    };
    Ok(())
}

/// A signature that did not verify: its SigV4 error on REST APIs, a bare
/// `Forbidden` on HTTP APIs.
fn refuse_signature(exchange: &mut Exchange<'_, '_>, error: &SigV4Error) -> Phase {
    let response = if exchange.is_http() {
        http_forbidden(&exchange.request_id)
    } else {
        rest_signature_failure(error, &exchange.request_id)
    };
    let route = exchange.route.as_ref().map(|route| route.template);
    exchange.refuse(
        AccessDecision::unauthenticated(route, Some(error.code())),
        response,
    )
}

/// Phase 6: the caller's identity policies and the stage's resource
/// policy (REST) for the request's ARN, combined as AWS combines them;
/// an anonymous caller answers to the resource policy alone. The one
/// place a denial is written.
pub fn authorize(exchange: &mut Exchange<'_, '_>, authorizer: &Authorizer) -> Phase {
    let request_id = exchange.request_id.clone();
    let (Some(api), Some(stage), Some(route)) = (exchange.api, exchange.stage, &exchange.route)
    else {
        // Unrouted, its signature checked.
        return exchange.refuse(
            AccessDecision::not_found(),
            rest_missing_authentication_token(&request_id),
        );
    };
    let template = route.template;
    if route.authorization.any_authorizer().is_some() {
        // A CUSTOM route is decided by [`authorize_custom`], which needs
        // the network; reached without it, it fails closed.
        return if exchange.authorized.is_some() {
            Ok(())
        } else {
            let response = match api {
                Api::Http(_) => http_internal_server_error(&request_id),
                Api::Rest(_) => rest_authorizer_configuration_error(&request_id),
            };
            exchange.refuse(
                AccessDecision::unauthenticated(Some(template), None),
                response,
            )
        };
    }
    let caller = match &exchange.authentication {
        Authentication::Anonymous => None,
        Authentication::Verified {
            caller,
            access_key_id,
        } => Some((caller, access_key_id.as_str())),
        Authentication::NeedsBody | Authentication::PayloadPending { .. } => {
            // Never reached: authorization runs once the caller is settled.
            return exchange.refuse(
                AccessDecision::unauthenticated(Some(template), None),
                rest_internal_failure(&request_id),
            );
        }
    };
    let arn = method_arn(api, stage, exchange.head.method, &exchange.stage_path);
    let policy = stage.policy();
    let facts = exchange.facts();
    let filing = Filing {
        request_id: &request_id,
        time: facts.now,
        service: "execute-api",
    };
    let principal = caller.map(|(caller, _)| caller.arn());
    let access_key_id = caller.map(|(_, key)| key.to_owned());
    if authorizer.enforcement == Enforcement::Off || (caller.is_none() && policy.is_none()) {
        // Nothing is evaluated: a NONE route without a resource policy, or
        // policies switched off.
        let mut record = exchange.unevaluated_record();
        record.decision = iamgate_decisions::words::ALLOW.to_owned();
        record.principal = Some(principal.clone().unwrap_or_else(|| "anonymous".to_owned()));
        record.message = Some(
            if caller.is_none() && policy.is_none() {
                "a NONE route without a resource policy: nothing to evaluate"
            } else {
                "policies are not evaluated (serve --enforce off)"
            }
            .to_owned(),
        );
        exchange.evaluated = Some(record.into());
        exchange.decision = AccessDecision::allowed_unevaluated(template, principal, access_key_id);
        return Ok(());
    }
    let (decision, mut entry): (_, Entry) = match caller {
        Some((caller, _)) if !authorizer.recording => {
            let context = request_context(Some(caller), INVOKE, Some(&arn), &facts)
                .with_key("aws:ResourceAccount", api.account());
            let decision = exchange.world.evaluate_with_resource(
                caller,
                &context,
                policy.map(|set| &**set),
                ResourcePolicyKind::ResourceBased,
            );
            let word = iamgate_decisions::words::of(decision.outcome);
            let record = DecisionRecord::bare(&request_id, facts.now, "execute-api", word, INVOKE);
            (decision, record.into())
        }
        Some((caller, _)) => {
            let context = request_context(Some(caller), INVOKE, Some(&arn), &facts)
                .with_key("aws:ResourceAccount", api.account());
            let own = exchange.world.caller_policies(caller);
            let policies = SharedPolicies {
                identity: own.identity,
                resource: policy.cloned(),
                resource_kind: ResourcePolicyKind::ResourceBased,
                boundary: own.boundary,
                session: own.session,
                scp_levels: own.scp_levels,
            };
            let (decision, pending) = PendingRecord::evaluate(context, policies, filing);
            (decision, pending.into())
        }
        None => {
            let context = request_context(None, INVOKE, Some(&arn), &facts);
            let evaluation = evaluate_input(
                &EvaluationInput {
                    request: &context,
                    identity: &[],
                    resource: policy.map(|set| &**set),
                    resource_kind: ResourcePolicyKind::ResourceBased,
                    boundary: None,
                    session: None,
                    scp_levels: &[],
                },
                filing,
            );
            (evaluation.decision, evaluation.record.into())
        }
    };
    entry.set_resource_account(api.account());
    let access = AccessDecision::evaluated(&decision, template, principal.clone(), access_key_id);
    if decision.is_allowed() {
        exchange.evaluated = Some(entry);
        exchange.decision = access;
        return Ok(());
    }
    let response = match api {
        Api::Http(_) => http_forbidden(&request_id),
        Api::Rest(_) => rest_access_denied(
            DeniedCaller {
                principal: principal.as_deref().unwrap_or("anonymous"),
                cross_account: caller.is_some_and(|(caller, _)| caller.account() != api.account()),
            },
            &arn,
            api.account(),
            &decision,
            &authorizer.tunables,
            &request_id,
        ),
    };
    entry.set_message_unless_set(|| message_of(&response.body));
    if authorizer.enforcement == Enforcement::Soft {
        entry.set_word(iamgate_decisions::words::WOULD_DENY);
        exchange.evaluated = Some(entry);
        exchange.decision = access.let_through();
        return Ok(());
    }
    exchange.evaluated = Some(entry);
    exchange.refuse(access, response)
}

/// Phase 6 of a `CUSTOM` method or route, after the body: as AWS's
/// workflow for a Lambda authorizer and a resource policy says, the
/// resource policy is checked first for an explicit deny (then nothing is
/// invoked); then the authorizer answers ([`crate::authorizers`]) and its
/// policy, evaluated by the policy engine against the method ARN, is
/// combined with the resource policy as in Table A (the caller and the
/// API in one account: either may allow, any deny wins). HTTP APIs have no
/// resource policy, and their simple responses decide alone.
pub async fn authorize_custom(exchange: &mut Exchange<'_, '_>, data: &DataPlane) -> Phase {
    let (Some(api), Some(stage), Some(route)) = (exchange.api, exchange.stage, &exchange.route)
    else {
        return Ok(());
    };
    if let Some(token) = route.authorization.token_authorization() {
        let token = token.clone();
        return authorize_token(exchange, data, &token).await;
    }
    let Some(lambda) = route.authorization.authorizer() else {
        return Ok(());
    };
    let request_id = exchange.request_id.clone();
    let template = route.template;
    let http = matches!(api, Api::Http(_));
    let arn = method_arn(api, stage, exchange.head.method, &exchange.stage_path);
    let policy = stage.policy().cloned();
    let facts = exchange.facts();
    let now = facts.now;
    let filing = Filing {
        request_id: &request_id,
        time: now,
        service: "execute-api",
    };
    let anonymous = request_context(None, INVOKE, Some(&arn), &facts);
    let resource = policy.as_deref().map(|policy| {
        evaluate_input(
            &EvaluationInput {
                request: &anonymous,
                identity: &[],
                resource: Some(policy),
                resource_kind: ResourcePolicyKind::ResourceBased,
                boundary: None,
                session: None,
                scp_levels: &[],
            },
            filing,
        )
    });
    let strict = data.authorizer.enforcement == Enforcement::Strict;
    if let Some(evaluation) = &resource
        && evaluation.decision.outcome == Outcome::ExplicitDeny
        && strict
    {
        let response = rest_access_denied(
            DeniedCaller {
                principal: "anonymous",
                cross_account: false,
            },
            &arn,
            api.account(),
            &evaluation.decision,
            &data.authorizer.tunables,
            &request_id,
        );
        let mut entry: Entry = evaluation.record.clone().into();
        entry.set_resource_account(api.account());
        entry.set_message_unless_set(|| message_of(&response.body));
        exchange.evaluated = Some(entry);
        let access = AccessDecision::evaluated(&evaluation.decision, template, None, None);
        return exchange.refuse(access, response);
    }
    let params = route.params.clone();
    let source_ip = exchange.facts.source_ip.map(|ip| ip.to_string());
    let forwarded = Forwarded {
        method: exchange.head.method,
        path: &exchange.stage_path,
        query: exchange.head.query,
        headers: exchange.head.headers,
        body: &[],
        source_ip: source_ip.clone(),
    };
    let context = EventContext {
        api_id: api.id(),
        account: api.account(),
        stage: stage.name(),
        template,
        params: &params,
        caller: None,
        access_key_id: None,
        request_id: &request_id,
        now_millis: now.saturating_mul(1000),
        stage_variables: match stage {
            Stage::Rest(stage) => &stage.variables,
            Stage::Http(_) => &[],
        },
        client_cert: exchange.client_cert,
        authorizer: None,
    };
    let variables = [
        ("requestId", request_id.clone()),
        ("apiId", api.id().to_owned()),
        ("stage", stage.name().to_owned()),
        ("httpMethod", exchange.head.method.to_owned()),
        ("resourcePath", template.to_owned()),
        ("routeKey", template.to_owned()),
        ("identity.sourceIp", source_ip.unwrap_or_default()),
    ];
    let request = AuthorizerRequest {
        flavour: if http {
            ApiFlavour::Http
        } else {
            ApiFlavour::Rest
        },
        forwarded: &forwarded,
        context: &context,
        method_arn: &arn,
        context_variables: &variables,
    };
    let answered = data
        .authorizers
        .authorize(&data.integrations, lambda, &request, now)
        .await;
    let mut record = DecisionRecord::bare(&request_id, now, "execute-api", "", INVOKE);
    record.resource = Some(arn.clone());
    record.resource_account = Some(api.account().to_owned());
    record.rule = Some(format!("lambda_authorizer:{}", lambda.name));
    let (answer, cached) = match answered {
        Ok(answered) => answered,
        Err(failure) => {
            let (response, word, what) = match (failure, http) {
                (AuthorizerFailure::Unauthorized, false) => (
                    rest_unauthorized(&request_id),
                    iamgate_decisions::words::UNAUTHENTICATED,
                    "an identity source is missing or empty, or the token failed validation",
                ),
                (AuthorizerFailure::Unauthorized, true) => (
                    http_unauthorized(&request_id),
                    iamgate_decisions::words::UNAUTHENTICATED,
                    "an identity source is missing or empty",
                ),
                (AuthorizerFailure::Configuration, false) => (
                    rest_authorizer_configuration_error(&request_id),
                    iamgate_decisions::words::UNAUTHENTICATED,
                    "the authorizer function failed or did not answer as an authorizer",
                ),
                (AuthorizerFailure::Configuration, true) => (
                    http_internal_server_error(&request_id),
                    iamgate_decisions::words::UNAUTHENTICATED,
                    "the authorizer function failed or did not answer as an authorizer",
                ),
            };
            word.clone_into(&mut record.decision);
            record.message = Some(format!("Lambda authorizer {}: {what}", lambda.name));
            exchange.evaluated = Some(record.into());
            return exchange.refuse(
                AccessDecision::unauthenticated(Some(template), None),
                response,
            );
        }
    };
    let principal = answer.principal_id.clone();
    record.principal = Some(principal.clone().unwrap_or_else(|| "anonymous".to_owned()));
    // Which authorizer decided, and whether its answer came from the cache.
    let how = if cached { "cached" } else { "invoked" };
    record.rule = Some(format!("lambda_authorizer:{}:{how}", lambda.name));
    let (outcome, decision, mut entry): (Outcome, Option<Decision>, Entry) =
        match (&answer.policy, answer.is_authorized) {
            (None, Some(allowed)) => {
                let outcome = if allowed {
                    Outcome::Allowed
                } else {
                    Outcome::ImplicitDeny
                };
                record.decision = iamgate_decisions::words::of(outcome).to_owned();
                (outcome, None, record.into())
            }
            (Some(returned), _) => {
                let mut as_identity = request_context(None, INVOKE, Some(&arn), &facts);
                // The returned policy speaks for a caller of the API's own
                // account (Table A); its principal is the authorizer's.
                as_identity.principal =
                    PrincipalIdentity::user(api.account(), "/", "lambda-authorizer", "");
                let evaluation = evaluate_input(
                    &EvaluationInput {
                        request: &as_identity,
                        identity: &[returned],
                        resource: None,
                        resource_kind: ResourcePolicyKind::ResourceBased,
                        boundary: None,
                        session: None,
                        scp_levels: &[],
                    },
                    filing,
                );
                let resource_outcome = resource.as_ref().map(|e| e.decision.outcome);
                let (outcome, decided) = table_a(&evaluation, resource.as_ref(), resource_outcome);
                let mut evaluated = decided.record.clone();
                evaluated.decision = iamgate_decisions::words::of(outcome).to_owned();
                evaluated.principal.clone_from(&record.principal);
                evaluated.rule.clone_from(&record.rule);
                evaluated.resource_account = Some(api.account().to_owned());
                let mut decision = decided.decision.clone();
                decision.outcome = outcome;
                (outcome, Some(decision), evaluated.into())
            }
            (None, None) => (Outcome::ImplicitDeny, None, record.into()),
        };
    let access = match &decision {
        Some(decision) => AccessDecision::evaluated(decision, template, principal, None),
        None => AccessDecision {
            outcome: match outcome {
                Outcome::Allowed => AccessOutcome::Allow,
                Outcome::ImplicitDeny => AccessOutcome::ImplicitDeny,
                Outcome::ExplicitDeny => AccessOutcome::ExplicitDeny,
            },
            ..AccessDecision::allowed_unevaluated(template, principal, None)
        },
    };
    if outcome == Outcome::Allowed || !strict {
        if outcome == Outcome::Allowed {
            entry
                .set_message_unless_set(|| format!("allowed by Lambda authorizer {}", lambda.name));
        } else {
            entry.set_word(iamgate_decisions::words::WOULD_DENY);
        }
        exchange.evaluated = Some(entry);
        exchange.decision = if outcome == Outcome::Allowed {
            access
        } else {
            access.let_through()
        };
        exchange.authorized = Some(answer);
        return Ok(());
    }
    let response = if http {
        http_forbidden(&request_id)
    } else {
        rest_authorizer_denied(outcome == Outcome::ExplicitDeny, &request_id)
    };
    entry.set_message_unless_set(|| message_of(&response.body));
    exchange.evaluated = Some(entry);
    exchange.refuse(access, response)
}

/// Phase 6 of a `JWT` (HTTP) or `COGNITO_USER_POOLS` (REST) method or
/// route: the token is validated ([`crate::jwt`]); a refused token is a
/// 401 (a missing scope a 403), with the `www-authenticate` header HTTP
/// APIs send. Then, on a REST API with a resource policy, AWS's workflow for
/// a Cognito user pool: the policy is evaluated on its own and must allow
/// explicitly ([`cognito_with_resource_policy`]).
async fn authorize_token(
    exchange: &mut Exchange<'_, '_>,
    data: &DataPlane,
    token: &TokenAuthorization,
) -> Phase {
    let (Some(api), Some(stage), Some(route)) = (exchange.api, exchange.stage, &exchange.route)
    else {
        return Ok(());
    };
    let authorizer = &token.authorizer;
    let request_id = exchange.request_id.clone();
    let template = route.template;
    let http = matches!(api, Api::Http(_));
    let arn = method_arn(api, stage, exchange.head.method, &exchange.stage_path);
    let facts = exchange.facts();
    let now = facts.now;
    let value = match authorizer.identity_sources.first() {
        Some(IdentitySource::Header(name)) => exchange.head.header(name).map(str::to_owned),
        Some(IdentitySource::Query(name)) => crate::integration::query_pairs(exchange.head.query)
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value),
        _ => None,
    };
    let checked = data
        .tokens
        .validate(
            &data.integrations,
            api.id(),
            authorizer,
            value.as_deref(),
            now,
        )
        .await
        .and_then(|(validated, cached)| {
            crate::jwt::check_scopes(authorizer, &validated, &token.scopes)
                .map(|matched| (validated, cached, matched))
        });
    let kind = match authorizer.kind {
        iamgate_apimodel::authorizers::AuthorizerType::CognitoUserPools => "cognito_authorizer",
        _ => "jwt_authorizer",
    };
    let mut record = DecisionRecord::bare(&request_id, now, "execute-api", "", INVOKE);
    record.resource = Some(arn.clone());
    record.resource_account = Some(api.account().to_owned());
    let (validated, cached, matched) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let mut response = match (refusal.is_forbidden(), http) {
                (true, true) => http_forbidden(&request_id),
                (true, false) => rest_forbidden(&request_id),
                (false, true) => http_unauthorized(&request_id),
                (false, false) => rest_unauthorized(&request_id),
            };
            if http && refusal != crate::jwt::Refusal::Missing {
                let error = if refusal.is_forbidden() {
                    "insufficient_scope"
                } else {
                    "invalid_token"
                };
                response.headers.push((
                    "www-authenticate".into(),
                    format!(
                        "Bearer scope=\"{}\" error=\"{error}\" error_description=\"{}\"",
                        token.scopes.join(" "),
                        refusal.reason()
                    ),
                ));
            }
            record.rule = Some(format!(
                "{kind}:{}:refused:{}",
                authorizer.name,
                refusal.code()
            ));
            record.decision = if refusal.is_forbidden() {
                iamgate_decisions::words::IMPLICIT_DENY
            } else {
                iamgate_decisions::words::UNAUTHENTICATED
            }
            .to_owned();
            record.message = Some(format!(
                "{} authorizer {}: {}",
                authorizer.kind.as_str(),
                authorizer.name,
                refusal.reason()
            ));
            exchange.evaluated = Some(record.into());
            let access = if refusal.is_forbidden() {
                AccessDecision {
                    outcome: AccessOutcome::ImplicitDeny,
                    ..AccessDecision::allowed_unevaluated(template, None, None)
                }
            } else {
                AccessDecision::unauthenticated(Some(template), None)
            };
            return exchange.refuse(access, response);
        }
    };
    // Who the token speaks for (its subject; never the token).
    let principal = validated
        .claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    record.principal = Some(principal.clone().unwrap_or_else(|| "anonymous".to_owned()));
    let how = if cached { "cached" } else { "validated" };
    record.rule = Some(match &matched {
        Some(scope) => format!("{kind}:{}:{how}:scope:{scope}", authorizer.name),
        None => format!("{kind}:{}:{how}", authorizer.name),
    });
    let policy = stage.policy().cloned();
    let filing = Filing {
        request_id: &request_id,
        time: now,
        service: "execute-api",
    };
    let resource = policy.as_deref().map(|policy| {
        let anonymous = request_context(None, INVOKE, Some(&arn), &facts);
        evaluate_input(
            &EvaluationInput {
                request: &anonymous,
                identity: &[],
                resource: Some(policy),
                resource_kind: ResourcePolicyKind::ResourceBased,
                boundary: None,
                session: None,
                scp_levels: &[],
            },
            filing,
        )
    });
    let outcome = cognito_with_resource_policy(resource.as_ref().map(|e| e.decision.outcome));
    let (access, mut entry): (AccessDecision, Entry) = match &resource {
        Some(evaluation) => {
            let mut evaluated = evaluation.record.clone();
            evaluated.decision = iamgate_decisions::words::of(outcome).to_owned();
            evaluated.principal.clone_from(&record.principal);
            evaluated.rule.clone_from(&record.rule);
            evaluated.resource_account = Some(api.account().to_owned());
            let mut decision = evaluation.decision.clone();
            decision.outcome = outcome;
            (
                AccessDecision::evaluated(&decision, template, principal.clone(), None),
                evaluated.into(),
            )
        }
        None => {
            record.decision = iamgate_decisions::words::ALLOW.to_owned();
            (
                AccessDecision::allowed_unevaluated(template, principal.clone(), None),
                record.into(),
            )
        }
    };
    let strict = data.authorizer.enforcement == Enforcement::Strict;
    if outcome == Outcome::Allowed || !strict {
        if outcome == Outcome::Allowed {
            entry.set_message_unless_set(|| {
                format!(
                    "allowed by {} authorizer {}",
                    authorizer.kind.as_str(),
                    authorizer.name
                )
            });
        } else {
            entry.set_word(iamgate_decisions::words::WOULD_DENY);
        }
        exchange.evaluated = Some(entry);
        exchange.decision = if outcome == Outcome::Allowed {
            access
        } else {
            access.let_through()
        };
        exchange.authorized = Some(Arc::new(Authorized {
            principal_id: None,
            policy: None,
            is_authorized: Some(true),
            context: serde_json::Map::new(),
            usage_identifier_key: None,
            token: Some(TokenClaims {
                claims: crate::jwt::passed_claims(&validated.claims, http),
                scopes: validated.scopes.clone(),
                http,
            }),
        }));
        return Ok(());
    }
    let decision = resource.as_ref().map(|e| e.decision.clone());
    let response = match &decision {
        Some(decision) => rest_access_denied(
            DeniedCaller {
                principal: "anonymous",
                cross_account: false,
            },
            &arn,
            api.account(),
            decision,
            &data.authorizer.tunables,
            &request_id,
        ),
        None => rest_forbidden(&request_id),
    };
    entry.set_message_unless_set(|| message_of(&response.body));
    exchange.evaluated = Some(entry);
    exchange.refuse(access, response)
}

/// AWS's workflow for a Cognito user pool authorizer and a resource
/// policy ("How API Gateway resource policies affect authorization
/// workflow"): once the token is valid, the resource policy is evaluated
/// on its own and must allow explicitly; a deny, or neither, denies.
/// Without a resource policy the valid token suffices.
fn cognito_with_resource_policy(resource: Option<Outcome>) -> Outcome {
    resource.unwrap_or(Outcome::Allowed)
}

/// AWS's Table A for a Lambda authorizer's policy (the identity side) and
/// the resource policy: an explicit deny in either denies; otherwise an
/// allow in either allows; otherwise the request is implicitly denied.
/// Also says which evaluation decided, for the record.
/// Phase 6b: the API key of a method that requires one, then the
/// throttles (the key's usage plan's for the method, the plan's, the
/// stage's for the method or its default), then the plan's quota. The key
/// comes from `x-api-key` or, for an API whose `apiKeySource` is
/// `AUTHORIZER`, from the Lambda authorizer's `usageIdentifierKey`. A key
/// that is missing, unknown, disabled, of another account or of no plan
/// of this stage is refused as AWS refuses it (`403 Forbidden`,
/// `INVALID_API_KEY`), the key's value compared in constant time and never
/// recorded. Fails closed: without the API snapshot nothing that requires
/// a key is let through.
pub fn meter(exchange: &mut Exchange<'_, '_>, meter: &Meter) -> Phase {
    let (Some(api), Some(stage), Some(route)) = (exchange.api, exchange.stage, &exchange.route)
    else {
        return Ok(());
    };
    let template = route.template;
    let key_required = route.api_key_required;
    let now = exchange.facts.now;
    let Some(apis) = exchange.apis else {
        if key_required {
            return refuse_key(exchange, None, "the API snapshot is not at hand");
        }
        return Ok(());
    };
    let usage = &apis.usage;
    let planned = if key_required {
        match find_key(exchange, usage) {
            Ok(planned) => Some(planned),
            Err((key_id, why)) => return refuse_key(exchange, key_id, why),
        }
    } else {
        None
    };
    let record = |outcome: &str, remaining: Option<u64>| UsageRecord {
        api_key_id: planned.as_ref().map(|(key, _)| key.id.clone()),
        usage_plan_id: planned.as_ref().map(|(_, plan)| plan.id.clone()),
        outcome: outcome.to_owned(),
        remaining_quota: remaining,
    };
    let method = exchange.head.method;
    let mut allowed = true;
    if let Some((key, plan)) = &planned {
        let method_key = format!("{template}/{method}");
        let method_throttle = plan
            .method_throttles
            .get(&method_key)
            .or_else(|| plan.method_throttles.get("/*/*"))
            .copied();
        if let Some(throttle) = method_throttle {
            let bucket = format!(
                "plan\0{}\0{}\0{}\0{}\0{method_key}",
                plan.id,
                key.id,
                api.id(),
                stage.name()
            );
            allowed = meter.take_token(&bucket, throttle, now);
        }
        if allowed && let Some(throttle) = plan.throttle {
            allowed = meter.take_token(&format!("key\0{}\0{}", plan.id, key.id), throttle, now);
        }
    }
    if allowed && let Some(throttles) = usage.stage_throttles(api.id(), stage.name()) {
        let (method_key, default_key) = match api {
            Api::Rest(_) => (format!("{}/{method}", template.replace('/', "~1")), "*/*"),
            Api::Http(_) => (template.to_owned(), "$default"),
        };
        let found = throttles
            .get_key_value(&method_key)
            .or_else(|| throttles.get_key_value(default_key));
        if let Some((setting, throttle)) = found {
            let bucket = format!("stage\0{}\0{}\0{setting}", api.id(), stage.name());
            allowed = meter.take_token(&bucket, *throttle, now);
        }
    }
    let request_id = exchange.request_id.clone();
    if !allowed {
        exchange.usage = Some(record("throttled", None));
        let response = match api {
            Api::Rest(_) => crate::responses::rest_throttled(&request_id),
            Api::Http(_) => crate::responses::http_too_many_requests(&request_id),
        };
        return refuse_usage(exchange, template, response);
    }
    let Some((key, plan)) = &planned else {
        return Ok(());
    };
    match meter.take_quota(&plan.id, &key.id, plan.quota, now) {
        Ok(remaining) => {
            exchange.usage = Some(record("allowed", remaining));
            Ok(())
        }
        Err(Refusal::QuotaExceeded | Refusal::Throttled) => {
            exchange.usage = Some(record("quota_exceeded", Some(0)));
            refuse_usage(
                exchange,
                template,
                crate::responses::rest_quota_exceeded(&request_id),
            )
        }
    }
}

/// An accepted API key and the usage plan it calls the stage under.
type Planned = (
    Arc<iamgate_apimodel::usage::KeyEntry>,
    Arc<iamgate_apimodel::usage::PlanEntry>,
);

/// The key a request presents and the plan that lets it call this stage;
/// or the key's id (if one was found) and why it is refused.
fn find_key(
    exchange: &Exchange<'_, '_>,
    usage: &iamgate_apimodel::usage::UsageRegistry,
) -> Result<Planned, (Option<String>, &'static str)> {
    let (Some(Api::Rest(api)), Some(stage)) = (exchange.api, exchange.stage) else {
        return Err((None, "API keys are REST APIs' only"));
    };
    let presented = if usage.key_from_authorizer.contains(&api.id) {
        exchange
            .authorized
            .as_ref()
            .and_then(|answer| answer.usage_identifier_key.as_deref())
    } else {
        exchange.head.header("x-api-key")
    };
    let Some(presented) = presented.filter(|value| !value.is_empty()) else {
        return Err((None, "no API key was presented"));
    };
    let digest = iamgate_apimodel::usage::digest(presented.as_bytes());
    let key = usage.index.keys_with_digest(&digest).iter().find(|key| {
        key.account == api.account
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                key.value.as_bytes(),
                presented.as_bytes(),
            ))
    });
    let Some(key) = key else {
        return Err((None, "the API key is not a key of this account"));
    };
    if !key.enabled {
        return Err((Some(key.id.clone()), "the API key is disabled"));
    }
    match usage.index.plan(&key.id, &api.id, stage.name()) {
        Some(plan) => Ok((Arc::clone(key), Arc::clone(plan))),
        None => Err((
            Some(key.id.clone()),
            "the API key is in no usage plan of this stage",
        )),
    }
}

/// Refuses with a throttle's or the quota's `response`.
fn refuse_usage(
    exchange: &mut Exchange<'_, '_>,
    template: &str,
    response: GatewayResponse,
) -> Phase {
    if let Some(entry) = exchange.evaluated.as_mut() {
        entry.set_word("usage_refused");
    }
    let decision = exchange.decision.clone().refused_by_usage(template);
    exchange.refuse(decision, response)
}

/// [`meter`]'s refusal of the key: `why` goes to the decision record.
fn refuse_key(exchange: &mut Exchange<'_, '_>, key_id: Option<String>, why: &str) -> Phase {
    let template = exchange.route.as_ref().map_or("", |route| route.template);
    exchange.usage = Some(UsageRecord {
        api_key_id: key_id,
        usage_plan_id: None,
        outcome: "invalid_api_key".to_owned(),
        remaining_quota: None,
    });
    exchange.error_message = Some(format!("Forbidden: {why}"));
    if let Some(entry) = exchange.evaluated.as_mut() {
        entry.set_word("usage_refused");
    }
    let decision = exchange.decision.clone().refused_by_usage(template);
    let response = crate::responses::rest_invalid_api_key(&exchange.request_id);
    exchange.refuse(decision, response)
}

fn table_a<'e>(
    authorizer: &'e Evaluation,
    resource: Option<&'e Evaluation>,
    resource_outcome: Option<Outcome>,
) -> (Outcome, &'e Evaluation) {
    let authorizer_outcome = authorizer.decision.outcome;
    match (authorizer_outcome, resource_outcome, resource) {
        (Outcome::ExplicitDeny, _, _) => (Outcome::ExplicitDeny, authorizer),
        (_, Some(Outcome::ExplicitDeny), Some(resource)) => (Outcome::ExplicitDeny, resource),
        (Outcome::Allowed, _, _) => (Outcome::Allowed, authorizer),
        (_, Some(Outcome::Allowed), Some(resource)) => (Outcome::Allowed, resource),
        _ => (Outcome::ImplicitDeny, authorizer),
    }
}

/// Phase 6c: the method's request validator (REST), after the caller is
/// authorized and its API key accepted, before the integration: the
/// required parameters, then the body against the model of its content
/// type ([`crate::validation`]). The decision stays what authorization
/// made it; the answer is `BAD_REQUEST_PARAMETERS` or `BAD_REQUEST_BODY`.
pub fn validate_request(exchange: &Exchange<'_, '_>) -> Phase {
    let Some(route) = &exchange.route else {
        return Ok(());
    };
    let Some(request) = route.request else {
        return Ok(());
    };
    let parts = crate::validation::Request {
        headers: exchange.head.headers,
        query: exchange.head.query,
        path_params: &route.params,
        body: &exchange.body,
    };
    crate::validation::check(request, &parts, &exchange.request_id)
}

/// Phase 7: the integration's answer to an authorized request; its
/// failures are AWS's gateway errors of the API's flavour.
pub async fn integrate(
    exchange: &Exchange<'_, '_>,
    integrations: &Integrations,
) -> GatewayResponse {
    let request_id = &exchange.request_id;
    let (Some(api), Some(route), Some(context)) =
        (exchange.api, &exchange.route, exchange.event_context())
    else {
        return rest_internal_failure(request_id);
    };
    let forwarded = exchange.forwarded();
    let answer = integrations
        .call(route.integration, &forwarded, &context)
        .await;
    let http = matches!(api, Api::Http(_));
    match answer {
        Ok(answer) => {
            let mut headers = answer.headers;
            json_unless_typed(&mut headers);
            let request_id_header = if http {
                "apigw-requestid"
            } else {
                "x-amzn-RequestId"
            };
            headers.push((request_id_header.into(), request_id.clone()));
            GatewayResponse {
                status: answer.status,
                headers,
                body: String::from_utf8_lossy(&answer.body).into_owned(),
                response_type: None,
            }
        }
        Err(_) if http => http_internal_server_error(request_id),
        Err(IntegrationFailure::Timeout) => rest_integration_timeout(request_id),
        Err(IntegrationFailure::Failed) => rest_internal_server_error(request_id),
        Err(IntegrationFailure::UnsupportedMediaType) => rest_unsupported_media_type(request_id),
        Err(IntegrationFailure::Mapping) => rest_internal_failure(request_id),
    }
}

impl DataPlane {
    /// The phases that need only the head: resolve the target, refuse
    /// early, find the stage and the route, authenticate as far as the
    /// head allows, and authorize an anonymous caller.
    pub fn before_body(&self, exchange: &mut Exchange<'_, '_>) -> Flow {
        if !resolve_target(exchange) {
            return Flow::NotExecuteApi;
        }
        match self.head_phases(exchange) {
            Ok(()) => Flow::NeedsBody,
            Err(response) => Flow::Answered(exchange.customized(response).sendable()),
        }
    }

    fn head_phases(&self, exchange: &mut Exchange<'_, '_>) -> Phase {
        refuse_early(exchange, &self.authorizer)?;
        select_stage(exchange)?;
        route(exchange)?;
        authenticate_head(exchange, &self.authorizer)?;
        if exchange.authentication.is_settled() && !exchange.is_custom() {
            authorize(exchange, &self.authorizer)?;
        }
        Ok(())
    }

    /// The phases that need the body, once [`DataPlane::before_body`]
    /// asked for it: finish authentication and authorization, then
    /// integrate. The answer is ready to send.
    pub async fn after_body<'r>(
        &self,
        exchange: &mut Exchange<'_, 'r>,
        body: Cow<'r, [u8]>,
    ) -> GatewayResponse {
        exchange.body = body;
        if let Err(response) = self.body_phases(exchange) {
            return exchange.customized(response).sendable();
        }
        if let Err(response) = authorize_custom(exchange, self).await {
            return exchange.customized(response).sendable();
        }
        if let Err(response) = meter(exchange, &self.meter) {
            return exchange.customized(response).sendable();
        }
        if let Err(response) = validate_request(exchange) {
            return exchange.customized(response).sendable();
        }
        let answer = integrate(exchange, &self.integrations).await;
        exchange.customized(answer).sendable()
    }

    fn body_phases(&self, exchange: &mut Exchange<'_, '_>) -> Phase {
        if !exchange.authentication.is_settled() {
            authenticate_body(exchange, &self.authorizer)?;
            authorize(exchange, &self.authorizer)?;
        }
        Ok(())
    }

    /// Every phase, for a request whose body is already in hand. The
    /// answer is as the phases built it ([`GatewayResponse::sendable`] not
    /// applied).
    pub(crate) async fn run(&self, exchange: &mut Exchange<'_, '_>) -> GatewayResponse {
        if !resolve_target(exchange) {
            return rest_forbidden(&exchange.request_id);
        }
        if let Err(response) = self
            .head_phases(exchange)
            .and_then(|()| self.body_phases(exchange))
        {
            return exchange.customized(response);
        }
        if let Err(response) = authorize_custom(exchange, self).await {
            return exchange.customized(response);
        }
        if let Err(response) = meter(exchange, &self.meter) {
            return exchange.customized(response);
        }
        if let Err(response) = validate_request(exchange) {
            return exchange.customized(response);
        }
        let answer = integrate(exchange, &self.integrations).await;
        exchange.customized(answer)
    }
}

/// An integration's answer without a `Content-Type` is sent as JSON, as
/// API Gateway does.
pub(crate) fn json_unless_typed(headers: &mut Vec<(String, String)>) {
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's workflow for a Cognito user pool authorizer and a resource
    /// policy, once the token is valid (an invalid token is a 401 before
    /// the policy is looked at): the policy must allow explicitly.
    #[test]
    fn a_valid_user_pool_token_needs_the_resource_policy_to_allow_explicitly() {
        for (resource, expected) in [
            (None, Outcome::Allowed),
            (Some(Outcome::Allowed), Outcome::Allowed),
            (Some(Outcome::ImplicitDeny), Outcome::ImplicitDeny),
            (Some(Outcome::ExplicitDeny), Outcome::ExplicitDeny),
        ] {
            assert_eq!(
                cognito_with_resource_policy(resource),
                expected,
                "{resource:?}"
            );
        }
    }
}
