//! What is being asked about: an action on a resource, with the resource
//! policy the server would evaluate it against and the context keys the
//! resource fixes.
//!
//! An execute-api target is found the way the data plane finds it: the
//! stage as deployed (a REST stage carries the resource policy of its
//! deployment, so a policy saved but not yet deployed does not count), the
//! method or route the request path routes to ([`iamgate_gateway::routing`]),
//! and the request's ARN ([`iamgate_gateway::arn::execute_api_arn`]). A
//! route whose path has parameters may be named by its template
//! (`GET /pets/{id}`): the ARN then carries the template's text, so a
//! policy granting `…/GET/pets/*` counts and one granting only
//! `…/GET/pets/42` does not.

use std::sync::Arc;

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::model::AuthorizationType;
use iamgate_gateway::arn::execute_api_arn;
use iamgate_gateway::routing::{RestMatch, route_http, route_rest};
use iamgate_iam::world::RoleEntry;
use iamgate_iam::{Caller, World};
use iamgate_policy::{CompiledPolicies, PrincipalIdentity, RequestContext, ResourcePolicyKind};

pub const INVOKE: &str = "execute-api:Invoke";
pub const ASSUME_ROLE: &str = "sts:AssumeRole";

/// Why a question cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisError {
    UnknownApi(String),
    UnknownStage {
        api: String,
        stage: String,
    },
    /// `--route` is not `METHOD /path`.
    BadRoute(String),
    NoRoute {
        api: String,
        stage: String,
        route: String,
    },
    UnknownPrincipal(String),
}

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalysisError::UnknownApi(id) => write!(f, "no API with id {id}"),
            AnalysisError::UnknownStage { api, stage } => {
                write!(f, "API {api} has no deployed stage {stage}")
            }
            AnalysisError::BadRoute(route) => {
                write!(f, "route {route:?} is not of the form 'METHOD /path'")
            }
            AnalysisError::NoRoute { api, stage, route } => {
                write!(f, "{route} routes to nothing on stage {stage} of API {api}")
            }
            AnalysisError::UnknownPrincipal(arn) => {
                write!(f, "no root, user or role {arn} in the world")
            }
        }
    }
}

impl std::error::Error for AnalysisError {}

/// The API a target belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTarget {
    pub id: String,
    pub stage: String,
    /// REST (resource policies, deployments) or HTTP.
    pub rest: bool,
    /// The method's resource path or the HTTP route key it routed to.
    pub route: String,
}

/// One action on one resource.
#[derive(Debug, Clone)]
pub struct Target {
    pub action: String,
    pub resource: String,
    /// The account that owns the resource.
    pub account: String,
    pub(crate) policy: Option<Arc<CompiledPolicies>>,
    /// The policy's text, for proposals that extend it.
    pub(crate) policy_text: Option<String>,
    pub(crate) kind: ResourcePolicyKind,
    /// Keys the resource fixes (`aws:ResourceAccount`, a role's tags).
    keys: Vec<(String, String)>,
    pub(crate) resource_tags: bool,
    /// A `NONE` route: every caller is anonymous to it.
    pub(crate) anonymous: bool,
    pub api: Option<ApiTarget>,
}

/// `GET /path` → (`GET`, `/path`).
fn split_route(route: &str) -> Result<(String, String), AnalysisError> {
    let bad = || AnalysisError::BadRoute(route.to_owned());
    let (method, path) = route.trim().split_once(' ').ok_or_else(bad)?;
    let path = path.trim();
    if method.is_empty() || !path.starts_with('/') {
        return Err(bad());
    }
    Ok((method.to_ascii_uppercase(), path.to_owned()))
}

impl Target {
    /// `route` (`METHOD /path`) on `stage` of API `api_id`.
    pub fn route(
        apis: &ApiRegistry,
        api_id: &str,
        stage_name: &str,
        route: &str,
    ) -> Result<Target, AnalysisError> {
        let (method, path) = split_route(route)?;
        let no_stage = || AnalysisError::UnknownStage {
            api: api_id.to_owned(),
            stage: stage_name.to_owned(),
        };
        let no_route = || AnalysisError::NoRoute {
            api: api_id.to_owned(),
            stage: stage_name.to_owned(),
            route: route.to_owned(),
        };
        if let Some(api) = apis.rest.get(api_id) {
            let stage = api.stages.get(stage_name).ok_or_else(no_stage)?;
            let RestMatch::Method { method: found, .. } = route_rest(&stage.root, &method, &path)
            else {
                return Err(no_route());
            };
            let arn = execute_api_arn(
                &api.region,
                &api.account,
                api_id,
                stage_name,
                &method,
                &path,
            );
            return Ok(Target {
                policy: stage.policy.clone(),
                policy_text: stage.policy_text.clone(),
                anonymous: found.authorization == AuthorizationType::None,
                api: Some(ApiTarget {
                    id: api_id.to_owned(),
                    stage: stage_name.to_owned(),
                    rest: true,
                    route: format!("{} {}", found.http_method, found.resource_path),
                }),
                ..Target::execute_api(arn, &api.account)
            });
        }
        let api = apis
            .http
            .get(api_id)
            .ok_or_else(|| AnalysisError::UnknownApi(api_id.to_owned()))?;
        let stage = api.stages.get(stage_name).ok_or_else(no_stage)?;
        // `route_http` falls back to `$default` itself.
        let (found, _) = route_http(&stage.routes, &method, &path).ok_or_else(no_route)?;
        let arn = execute_api_arn(
            &api.region,
            &api.account,
            api_id,
            stage_name,
            &method,
            &path,
        );
        Ok(Target {
            anonymous: found.authorization == AuthorizationType::None,
            api: Some(ApiTarget {
                id: api_id.to_owned(),
                stage: stage_name.to_owned(),
                rest: false,
                route: found.key.clone(),
            }),
            ..Target::execute_api(arn, &api.account)
        })
    }

    /// `action` on `resource`: an execute-api ARN of a known API is looked
    /// up like a request (its stage's resource policy), a role ARN with
    /// `sts:AssumeRole` is the role's trust policy; anything else has no
    /// resource policy.
    pub fn resource(world: &World, apis: &ApiRegistry, action: &str, resource: &str) -> Target {
        if action.eq_ignore_ascii_case(ASSUME_ROLE)
            && let Some(role) = world.role_by_arn(resource)
        {
            return Target::assume(role);
        }
        let account = resource.split(':').nth(4).unwrap_or_default().to_owned();
        if action.eq_ignore_ascii_case(INVOKE)
            && let Some(target) = Target::from_execute_api_arn(apis, resource)
        {
            return target;
        }
        Target {
            action: action.to_owned(),
            resource: resource.to_owned(),
            keys: vec![("aws:ResourceAccount".to_owned(), account.clone())],
            account,
            policy: None,
            policy_text: None,
            kind: ResourcePolicyKind::ResourceBased,
            resource_tags: false,
            anonymous: false,
            api: None,
        }
    }

    /// `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH` of a
    /// known API and stage, evaluated as given (not routed).
    fn from_execute_api_arn(apis: &ApiRegistry, arn: &str) -> Option<Target> {
        let rest = arn.strip_prefix("arn:aws:execute-api:")?;
        let mut fields = rest.splitn(3, ':');
        let (_region, account, path) = (fields.next()?, fields.next()?, fields.next()?);
        let mut parts = path.splitn(4, '/');
        let (id, stage) = (parts.next()?, parts.next()?);
        let method = parts.next().unwrap_or("*");
        let route_path = format!("/{}", parts.next().unwrap_or(""));
        let base = Target::execute_api(arn.to_owned(), account);
        let api = |rest| ApiTarget {
            id: id.to_owned(),
            stage: stage.to_owned(),
            rest,
            route: format!("{method} {route_path}"),
        };
        if let Some(found) = apis.rest.get(id) {
            let stage = found.stages.get(stage)?;
            return Some(Target {
                policy: stage.policy.clone(),
                policy_text: stage.policy_text.clone(),
                api: Some(api(true)),
                ..base
            });
        }
        apis.http.get(id)?;
        Some(Target {
            api: Some(api(false)),
            ..base
        })
    }

    fn execute_api(arn: String, account: &str) -> Target {
        Target {
            action: INVOKE.to_owned(),
            resource: arn,
            account: account.to_owned(),
            policy: None,
            policy_text: None,
            kind: ResourcePolicyKind::ResourceBased,
            keys: vec![("aws:ResourceAccount".to_owned(), account.to_owned())],
            resource_tags: false,
            anonymous: false,
            api: None,
        }
    }

    /// `sts:AssumeRole` on `role`: its trust policy, its tags as resource
    /// tags (as STS sets them).
    pub(crate) fn assume(role: &Arc<RoleEntry>) -> Target {
        let record = &role.record;
        let mut keys = Vec::new();
        for tag in &record.tags {
            keys.push((format!("aws:ResourceTag/{}", tag.key), tag.value.clone()));
            keys.push((format!("iam:ResourceTag/{}", tag.key), tag.value.clone()));
        }
        Target {
            action: ASSUME_ROLE.to_owned(),
            resource: record.arn(),
            account: record.account.clone(),
            policy: Some(role.trust.clone()),
            policy_text: Some(record.trust_policy.clone()),
            kind: ResourcePolicyKind::RoleTrust,
            keys,
            resource_tags: true,
            anonymous: false,
            api: None,
        }
    }

    /// The request context of this target called by `caller` (`None`:
    /// anonymous), with no request-time key: those are what conditions
    /// are reported on.
    pub(crate) fn context(&self, caller: Option<&Caller>) -> RequestContext {
        let principal =
            caller.map_or_else(PrincipalIdentity::anonymous, Caller::principal_identity);
        let mut context = RequestContext::new(principal, &self.action, Some(&self.resource))
            .with_resource_account(&self.account);
        for (key, value) in &self.keys {
            context = context.with_key(key, value);
        }
        context
    }

    /// The same target with another resource policy (a proposal's).
    pub(crate) fn with_policy(&self, text: String, policy: Arc<CompiledPolicies>) -> Target {
        Target {
            policy: Some(policy),
            policy_text: Some(text),
            ..self.clone()
        }
    }
}
