//! Deployments and stages (`/restapis/{id}/deployments`, `…/stages`).
//!
//! A deployment freezes what `RestApiRecord::deployable_tree` makes of
//! the editable tree *and* the resource policy of that moment; a stage
//! serves one deployment. Both live in the API's one document, so
//! "deploy and point the stage at it" is one conditional write, and the
//! call answers only after the data plane has reloaded it.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::input_model;
use iamgate_apimodel::stored::{RestApiRecord, RestDeployment, StageRecord};
use serde::Deserialize;
use serde_json::Value;

use super::refused;
use super::{
    PatchOperation, Patchable, bad_request, change_api, conflict, list_json, load_api, not_found,
    paginate, patch_key,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

pub(crate) fn no_such_stage() -> ApiError {
    not_found("Invalid Stage identifier specified")
}

fn no_such_deployment() -> ApiError {
    not_found("Invalid Deployment identifier specified")
}

pub(super) async fn dispatch_deployments(
    call: &Call<'_>,
    method: &str,
    api: &str,
    rest: &[&str],
) -> Reply {
    match (method, rest) {
        ("POST", []) => create_deployment(call, api).await,
        ("GET", []) => get_deployments(call, api).await,
        ("GET", [id]) => get_deployment(call, api, id).await,
        ("PATCH", [id]) => update_deployment(call, api, id).await,
        ("DELETE", [id]) => delete_deployment(call, api, id).await,
        _ => Err(unknown_operation()),
    }
}

pub(super) async fn dispatch_stages(
    call: &Call<'_>,
    method: &str,
    api: &str,
    rest: &[&str],
) -> Reply {
    match (method, rest) {
        ("POST", []) => create_stage(call, api).await,
        ("GET", []) => get_stages(call, api).await,
        ("GET", [name]) => get_stage(call, api, name).await,
        ("PATCH", [name]) => update_stage(call, api, name).await,
        ("DELETE", [name]) => delete_stage(call, api, name).await,
        ("GET", [name, "exports", kind]) => get_export(call, api, name, kind).await,
        _ => Err(unknown_operation()),
    }
}

/// GetExport: the stage's deployment as OpenAPI 3.0
/// ([`iamgate_apimodel::export`]). API Gateway's extensions
/// (`x-amazon-apigateway-*`: integrations, the resource policy, endpoint
/// configuration) are in it only when `parameters` asks for
/// `extensions=apigateway` or `integrations`, as on AWS.
async fn get_export(call: &Call<'_>, api: &str, stage: &str, kind: &str) -> Reply {
    call.authorize()?;
    if kind != "oas30" {
        return Err(bad_request(format!(
            "export type {kind} is not supported by iamgate (oas30 is)"
        )));
    }
    let record = load_api(call, api).await?;
    let now = iamgate_wire::Timestamp::from_epoch_seconds(call.now).to_iso8601();
    let mut document =
        iamgate_apimodel::export::rest_stage(&record, stage, &now).ok_or_else(no_such_stage)?;
    let extensions = call
        .query_param("parameters[extensions]")
        .or_else(|| call.query_param("extensions"))
        .unwrap_or_default();
    if !extensions
        .split(',')
        .any(|e| matches!(e.trim(), "apigateway" | "integrations"))
    {
        iamgate_apimodel::export::strip_extensions(&mut document);
    }
    Ok((200, Some(document)))
}

/// The `Deployment` shape.
fn deployment_json(deployment: &RestDeployment) -> Value {
    Shape::new()
        .set("id", &deployment.id)
        .opt("description", deployment.description.as_ref())
        .set("createdDate", deployment.created_at)
        .build()
}

/// The `Stage` shape, with the defaults AWS reports for the features
/// iamgate does not have (no cache cluster, no tracing).
pub(crate) fn stage_json(stage: &StageRecord) -> Value {
    Shape::new()
        .opt("deploymentId", stage.deployment_id.as_ref())
        .set("stageName", &stage.name)
        .opt("description", stage.description.as_ref())
        .set("cacheClusterEnabled", false)
        .set("cacheClusterStatus", "NOT_AVAILABLE")
        .set(
            "methodSettings",
            super::usage_plans::method_settings_json(&stage.throttles),
        )
        .opt(
            "variables",
            (!stage.variables.is_empty()).then_some(&stage.variables),
        )
        .set("tracingEnabled", false)
        .opt("tags", (!stage.tags.is_empty()).then_some(&stage.tags))
        .set("createdDate", stage.created_at)
        .set("lastUpdatedDate", stage.last_updated)
        .build()
}

/// Stage names as API Gateway accepts them (no `$default` on REST APIs).
fn check_stage_name(name: &str) -> Result<(), ApiError> {
    fields::stage_name(name, false).map_err(refused)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDeploymentInput {
    stage_name: Option<String>,
    stage_description: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

async fn create_deployment(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let input: CreateDeploymentInput = call.body()?;
    let stage_name = input.stage_name.filter(|name| !name.is_empty());
    let id = call.new_id(6)?;
    let now = call.now;
    let deployment = change_api(call, api, |record| {
        // The API is looked up before the values are read.
        if let Some(name) = &stage_name {
            check_stage_name(name)?;
        }
        fields::description(input.description.as_deref()).map_err(refused)?;
        fields::description(input.stage_description.as_deref()).map_err(refused)?;
        // The snapshot: what the data plane will serve, and the policy as
        // it is now. Later policy edits wait for the next deployment.
        let root = record
            .deployable_tree()
            .map_err(|refusal| bad_request(refusal.0))?;
        if record.deployments.contains_key(&id) {
            return Err(conflict("Deployment id collision; try again"));
        }
        let deployment = RestDeployment {
            id: id.clone(),
            description: input.description.clone(),
            created_at: now,
            root,
            policy: record.policy.clone(),
            gateway_responses: record.gateway_responses.clone(),
        };
        record.deployments.insert(id.clone(), deployment.clone());
        if let Some(name) = &stage_name {
            let stage = record
                .stages
                .entry(name.clone())
                .or_insert_with(|| StageRecord {
                    name: name.clone(),
                    deployment_id: None,
                    description: input.stage_description.clone(),
                    created_at: now,
                    last_updated: now,
                    auto_deploy: false,
                    variables: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    throttles: BTreeMap::new(),
                });
            stage.deployment_id = Some(id.clone());
            stage.last_updated = now;
            stage.variables.extend(input.variables.clone());
            fields::stage_variables(&stage.variables).map_err(refused)?;
        }
        Ok(deployment)
    })
    .await?;
    Ok((201, Some(deployment_json(&deployment))))
}

async fn get_deployments(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let deployments: Vec<&RestDeployment> = record.deployments.values().collect();
    let (page, position) = paginate(call, &deployments, |d| d.id.as_str())?;
    let items = page.iter().map(|d| deployment_json(d)).collect();
    Ok((200, Some(list_json(items, position))))
}

async fn get_deployment(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let deployment = record.deployments.get(id).ok_or_else(no_such_deployment)?;
    Ok((200, Some(deployment_json(deployment))))
}

/// UpdateDeployment's paths: only the description can change (what a
/// deployment froze cannot).
const DEPLOYMENT_PATCH: Patchable = Patchable {
    input: "updateDeploymentInput",
    add: &[],
    remove: &[],
    replace: &["/description"],
};

async fn update_deployment(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let operations = DEPLOYMENT_PATCH.operations(call)?;
    let deployment = change_api(call, api, |record| {
        let deployment = record
            .deployments
            .get_mut(id)
            .ok_or_else(no_such_deployment)?;
        for operation in &operations {
            match (operation.op.as_str(), operation.path.as_str()) {
                ("replace", "/description") => {
                    fields::description(operation.value.as_deref()).map_err(refused)?;
                    deployment.description = operation.value.clone().filter(|d| !d.is_empty());
                }
                _ => return Err(DEPLOYMENT_PATCH.refuse(operation)),
            }
        }
        Ok(deployment.clone())
    })
    .await?;
    Ok((200, Some(deployment_json(&deployment))))
}

async fn delete_deployment(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        if !record.deployments.contains_key(id) {
            return Err(no_such_deployment());
        }
        if record
            .stages
            .values()
            .any(|stage| stage.deployment_id.as_deref() == Some(id))
        {
            return Err(bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        record.deployments.remove(id);
        Ok(())
    })
    .await?;
    Ok((202, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStageInput {
    stage_name: Option<String>,
    deployment_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

async fn create_stage(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let input: CreateStageInput = call.body()?;
    // As AWS: the input model first, then the API and the deployment,
    // then the values.
    let name =
        input_model::required("createStageInput.stageName", input.stage_name).map_err(refused)?;
    let deployment = input_model::required("createStageInput.deploymentId", input.deployment_id)
        .map_err(refused)?;
    let now = call.now;
    let stage = StageRecord {
        name: name.clone(),
        deployment_id: Some(deployment.clone()),
        description: input.description,
        created_at: now,
        last_updated: now,
        auto_deploy: false,
        variables: input.variables,
        tags: input.tags,
        throttles: BTreeMap::new(),
    };
    change_api(call, api, |record| {
        if !record.deployments.contains_key(&deployment) {
            return Err(no_such_deployment());
        }
        check_stage_name(&name)?;
        fields::description(stage.description.as_deref()).map_err(refused)?;
        fields::stage_variables(&stage.variables).map_err(refused)?;
        fields::tags(&stage.tags).map_err(refused)?;
        if record.stages.contains_key(&name) {
            return Err(conflict("Stage already exists"));
        }
        record.stages.insert(name.clone(), stage.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(stage_json(&stage))))
}

async fn get_stages(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let wanted = call.query_param("deploymentId");
    let items: Vec<Value> = record
        .stages
        .values()
        .filter(|s| wanted.is_none() || s.deployment_id.as_deref() == wanted)
        .map(stage_json)
        .collect();
    // `Stages` is not paginated: `{"item":[…]}` only.
    Ok((200, Some(Shape::new().set("item", items).build())))
}

async fn get_stage(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let stage = record.stages.get(name).ok_or_else(no_such_stage)?;
    Ok((200, Some(stage_json(stage))))
}

/// UpdateStage's paths (the method settings' throttles besides,
/// `/{resource path}/{method}/throttling/…`).
const STAGE_PATCH: super::Patchable = super::Patchable {
    input: "updateStageInput",
    add: &["/variables/{variableName}"],
    remove: &["/variables/{variableName}"],
    replace: &[
        "/description",
        "/deploymentId",
        "/variables/{variableName}",
        "/*/*/throttling/burstLimit",
        "/*/*/throttling/rateLimit",
    ],
};

async fn update_stage(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    let operations = STAGE_PATCH.operations(call)?;
    let now = call.now;
    let stage = change_api(call, api, |record| {
        let deployments: Vec<String> = record.deployments.keys().cloned().collect();
        let stage = record.stages.get_mut(name).ok_or_else(no_such_stage)?;
        for operation in &operations {
            patch_stage(stage, &deployments, operation)?;
        }
        fields::description(stage.description.as_deref()).map_err(refused)?;
        fields::stage_variables(&stage.variables).map_err(refused)?;
        stage.last_updated = now;
        Ok(stage.clone())
    })
    .await?;
    Ok((200, Some(stage_json(&stage))))
}

fn patch_stage(
    stage: &mut StageRecord,
    deployments: &[String],
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let value = operation.value.clone();
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/deploymentId") => {
            let id = value.unwrap_or_default();
            if !deployments.contains(&id) {
                return Err(bad_request(format!(
                    "Invalid deployment identifier specified: {id}"
                )));
            }
            stage.deployment_id = Some(id);
        }
        ("replace", "/description") => stage.description = value,
        (_, path) if path.contains("/throttling/") => {
            super::usage_plans::patch_method_throttle(&mut stage.throttles, operation)?;
        }
        (op, path) if path.starts_with("/variables/") => {
            let key =
                patch_key(path, "/variables/").ok_or_else(|| STAGE_PATCH.refuse(operation))?;
            if !super::methods::patch_map(&mut stage.variables, op, key, value) {
                return Err(STAGE_PATCH.refuse(operation));
            }
        }
        _ => return Err(STAGE_PATCH.refuse(operation)),
    }
    Ok(())
}

async fn delete_stage(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        record
            .stages
            .remove(name)
            .ok_or_else(no_such_stage)
            .map(drop)
    })
    .await?;
    Ok((202, None))
}

/// The stage `name` of `record`, for the tag operations.
pub(crate) fn stage_mut<'r>(
    record: &'r mut RestApiRecord,
    name: &str,
) -> Result<&'r mut StageRecord, ApiError> {
    record.stages.get_mut(name).ok_or_else(no_such_stage)
}
