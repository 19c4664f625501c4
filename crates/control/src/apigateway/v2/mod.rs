//! `apigatewayv2` (HTTP APIs): the operations under `/v2/`, routed by
//! method and path.
//!
//! Shapes follow the service model (`testdata/aws-models/apigatewayv2`):
//! lowerCamel members, ISO 8601 timestamps, lists as
//! `{"items":[…],"nextToken":…}`, and `NotFoundException` carrying
//! `resourceType`.
//!
//! Every change to an API is one conditional write of its document
//! ([`HttpApiRecord`]): a change to routes or integrations and the
//! automatic deployment it causes on `autoDeploy` stages are stored
//! together or not at all, so the data plane never serves a stage whose
//! deployment is missing.

mod apis;
mod authorizers;
mod domains;
mod integrations;
mod route_settings;
mod routes;
mod stages;
mod tags;

use std::collections::BTreeMap;

use iamgate_apimodel::stored::{HTTP_API_KIND, HttpApiRecord, HttpDeployment, NotDeployable};
use iamgate_wire::Timestamp;
use iamgate_wire::json::RestJsonError;
use serde_json::Value;

use super::call::{ApiError, Call, Reply, unknown_operation};

/// Routes one call (path after `/v2`) to its operation.
pub(crate) async fn dispatch(call: Call<'_>) -> Reply {
    let method = call.request.method.to_ascii_uppercase();
    let segments: Vec<String> = call.segments.iter().skip(1).cloned().collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["apis"]) => apis::create_api(&call).await,
        ("GET", ["apis"]) => apis::get_apis(&call).await,
        ("PUT", ["apis"]) => apis::import_api(&call).await,
        ("GET", ["apis", id]) => apis::get_api(&call, id).await,
        ("PATCH", ["apis", id]) => apis::update_api(&call, id).await,
        ("DELETE", ["apis", id]) => apis::delete_api(&call, id).await,
        ("PUT", ["apis", id]) => apis::reimport_api(&call, id).await,
        ("GET", ["apis", id, "exports", specification]) => {
            apis::export_api(&call, id, specification).await
        }

        ("POST", ["apis", id, "routes"]) => routes::create_route(&call, id).await,
        ("GET", ["apis", id, "routes"]) => routes::get_routes(&call, id).await,
        ("GET", ["apis", id, "routes", route]) => routes::get_route(&call, id, route).await,
        ("PATCH", ["apis", id, "routes", route]) => routes::update_route(&call, id, route).await,
        ("DELETE", ["apis", id, "routes", route]) => routes::delete_route(&call, id, route).await,

        ("POST", ["apis", id, "authorizers"]) => authorizers::create(&call, id).await,
        ("GET", ["apis", id, "authorizers"]) => authorizers::list(&call, id).await,
        ("GET", ["apis", id, "authorizers", authorizer]) => {
            authorizers::get(&call, id, authorizer).await
        }
        ("PATCH", ["apis", id, "authorizers", authorizer]) => {
            authorizers::update(&call, id, authorizer).await
        }
        ("DELETE", ["apis", id, "authorizers", authorizer]) => {
            authorizers::delete(&call, id, authorizer).await
        }

        ("POST", ["apis", id, "integrations"]) => integrations::create_integration(&call, id).await,
        ("GET", ["apis", id, "integrations"]) => integrations::get_integrations(&call, id).await,
        ("GET", ["apis", id, "integrations", integration]) => {
            integrations::get_integration(&call, id, integration).await
        }
        ("PATCH", ["apis", id, "integrations", integration]) => {
            integrations::update_integration(&call, id, integration).await
        }
        ("DELETE", ["apis", id, "integrations", integration]) => {
            integrations::delete_integration(&call, id, integration).await
        }

        ("POST", ["apis", id, "stages"]) => stages::create_stage(&call, id).await,
        ("GET", ["apis", id, "stages"]) => stages::get_stages(&call, id).await,
        ("GET", ["apis", id, "stages", stage]) => stages::get_stage(&call, id, stage).await,
        ("PATCH", ["apis", id, "stages", stage]) => stages::update_stage(&call, id, stage).await,
        ("DELETE", ["apis", id, "stages", stage]) => stages::delete_stage(&call, id, stage).await,

        ("POST", ["apis", id, "deployments"]) => stages::create_deployment(&call, id).await,
        ("GET", ["apis", id, "deployments"]) => stages::get_deployments(&call, id).await,
        ("GET", ["apis", id, "deployments", deployment]) => {
            stages::get_deployment(&call, id, deployment).await
        }
        ("PATCH", ["apis", id, "deployments", deployment]) => {
            stages::update_deployment(&call, id, deployment).await
        }
        ("DELETE", ["apis", id, "deployments", deployment]) => {
            stages::delete_deployment(&call, id, deployment).await
        }

        ("POST", ["domainnames"]) => domains::create_domain_name(&call).await,
        ("GET", ["domainnames"]) => domains::get_domain_names(&call).await,
        ("GET", ["domainnames", name]) => domains::get_domain_name(&call, name).await,
        ("DELETE", ["domainnames", name]) => domains::delete_domain_name(&call, name).await,
        ("POST", ["domainnames", name, "apimappings"]) => {
            domains::create_api_mapping(&call, name).await
        }
        ("GET", ["domainnames", name, "apimappings"]) => {
            domains::get_api_mappings(&call, name).await
        }
        ("GET", ["domainnames", name, "apimappings", mapping]) => {
            domains::get_api_mapping(&call, name, mapping).await
        }
        ("PATCH", ["domainnames", name, "apimappings", mapping]) => {
            domains::update_api_mapping(&call, name, mapping).await
        }
        ("DELETE", ["domainnames", name, "apimappings", mapping]) => {
            domains::delete_api_mapping(&call, name, mapping).await
        }

        // The ARN is one URI label; clients that leave its `/` unescaped
        // split it into several segments, so it is joined back.
        ("POST", ["tags", arn @ ..]) if !arn.is_empty() => {
            tags::tag_resource(&call, &arn.join("/")).await
        }
        ("GET", ["tags", arn @ ..]) if !arn.is_empty() => {
            tags::get_tags(&call, &arn.join("/")).await
        }
        ("DELETE", ["tags", arn @ ..]) if !arn.is_empty() => {
            tags::untag_resource(&call, &arn.join("/")).await
        }
        _ => Err(unknown_operation()),
    }
}

/// The not-found answer for an API id this account does not have
/// (`Invalid API identifier specified <account>:<api-id>`, as v1 words it).
pub(crate) fn no_such_api(account: &str, id: &str) -> ApiError {
    not_found(
        format!("Invalid API identifier specified {account}:{id}"),
        "Api",
    )
}

pub(crate) fn not_found(message: impl Into<String>, resource_type: &str) -> ApiError {
    Box::new(RestJsonError::not_found_v2(message, resource_type))
}

pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    Box::new(RestJsonError::bad_request(message))
}

pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
    Box::new(RestJsonError::conflict(message))
}

/// ISO 8601 with seconds, as v2 writes timestamps.
pub(crate) fn iso8601(epoch_seconds: i64) -> String {
    Timestamp::from_epoch_seconds(epoch_seconds).to_iso8601()
}

/// Length of API ids (`vd2gh6uqw3`).
const API_ID_LENGTH: usize = 10;
/// Length of route and integration ids (`0abcdef`).
const CHILD_ID_LENGTH: usize = 7;
/// Length of deployment ids: the same as the REST deployments and as the
/// deployments of declared HTTP APIs (`registry::declared_records`).
const DEPLOYMENT_ID_LENGTH: usize = 6;

/// A fresh id of `length` that `taken` does not already use (ids are only
/// unique within their API, so a collision is simply drawn again).
fn fresh_id(
    call: &Call<'_>,
    length: usize,
    taken: impl Fn(&str) -> bool,
) -> Result<String, ApiError> {
    for _ in 0..16 {
        let id = call.new_id(length)?;
        if !taken(&id) {
            return Ok(id);
        }
    }
    Err(Box::new(RestJsonError::service_unavailable(
        "Could not allocate an identifier; try again",
    )))
}

/// Reads API `id` of the caller's account.
async fn load_api(call: &Call<'_>, id: &str) -> Result<HttpApiRecord, ApiError> {
    call.load::<HttpApiRecord>(HTTP_API_KIND, id)
        .await?
        .map(|(api, _)| api)
        .ok_or_else(|| no_such_api(call.account(), id))
}

/// Changes API `id` with `change` in one conditional write (retried from a
/// fresh read when another writer got there first). The change does not
/// touch what deployments freeze (names, stages, tags).
async fn change_api<R>(
    call: &Call<'_>,
    id: &str,
    change: impl FnMut(&mut HttpApiRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let account = call.account().to_owned();
    call.update(HTTP_API_KIND, id, || no_such_api(&account, id), change)
        .await
}

/// As [`change_api`] for a change to routes or integrations: the stages
/// that deploy automatically are redeployed in the same write, and a
/// change that would leave them unservable is refused whole.
async fn change_definition<R>(
    call: &Call<'_>,
    id: &str,
    mut change: impl FnMut(&mut HttpApiRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    change_api(call, id, |api| {
        let result = change(api)?;
        auto_deploy(call, api)?;
        Ok(result)
    })
    .await
}

/// Deploys the current definition to every `autoDeploy` stage, if there
/// is one.
fn auto_deploy(call: &Call<'_>, api: &mut HttpApiRecord) -> Result<(), ApiError> {
    let automatic: Vec<String> = api
        .stages
        .values()
        .filter(|s| s.auto_deploy)
        .map(|s| s.name.clone())
        .collect();
    if automatic.is_empty() {
        return Ok(());
    }
    let deployment = deploy(call, api, None, true)?;
    for name in automatic {
        if let Some(stage) = api.stages.get_mut(&name) {
            stage.deployment_id = Some(deployment.clone());
            stage.last_updated = call.now;
        }
    }
    prune_auto_deployments(api);
    Ok(())
}

/// Freezes the current routes into a new deployment of `api`; its id.
fn deploy(
    call: &Call<'_>,
    api: &mut HttpApiRecord,
    description: Option<String>,
    automatic: bool,
) -> Result<String, ApiError> {
    let routes = api
        .deployable_routes()
        .map_err(|NotDeployable(why)| bad_request(why))?;
    let id = fresh_id(call, DEPLOYMENT_ID_LENGTH, |id| {
        api.deployments.contains_key(id)
    })?;
    api.deployments.insert(
        id.clone(),
        HttpDeployment {
            id: id.clone(),
            description,
            created_at: call.now,
            auto_deployed: automatic,
            routes,
        },
    );
    Ok(id)
}

/// Automatic deployments no stage serves any more are dropped: each holds
/// a whole copy of the routes and one is made per change, so keeping them
/// would grow the API's document without bound. Deployments made on
/// request stay until `DeleteDeployment`.
fn prune_auto_deployments(api: &mut HttpApiRecord) {
    let served: Vec<String> = api
        .stages
        .values()
        .filter_map(|s| s.deployment_id.clone())
        .collect();
    api.deployments
        .retain(|id, deployment| !deployment.auto_deployed || served.contains(id));
}

/// One page of `items`: `maxResults` (a number in a string) and the
/// opaque `nextToken` this module hands out (the offset of the next item).
fn page(call: &Call<'_>, items: Vec<Value>) -> Reply {
    let start = match call.query_param("nextToken") {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .ok()
            .filter(|offset| *offset <= items.len())
            .ok_or_else(|| bad_request("Invalid nextToken"))?,
    };
    let limit = match call.query_param("maxResults") {
        None => usize::MAX,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad_request("maxResults must be a positive number"))?,
    };
    let total = items.len();
    let end = start.saturating_add(limit).min(total);
    let page: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut body = serde_json::Map::new();
    body.insert("items".to_owned(), Value::Array(page));
    if end < total {
        body.insert("nextToken".to_owned(), Value::String(end.to_string()));
    }
    Ok((200, Some(Value::Object(body))))
}

/// Tags as given, or the empty map.
fn tags_of(tags: Option<BTreeMap<String, String>>) -> BTreeMap<String, String> {
    tags.unwrap_or_default()
}
