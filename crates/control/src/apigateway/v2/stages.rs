//! Stages and deployments. A stage serves exactly the routes its
//! deployment froze; `autoDeploy` stages get a new deployment with every
//! change to routes or integrations (see [`super::change_definition`]).

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::stored::{HttpApiRecord, HttpDeployment, StageRecord};
use serde::Deserialize;
use serde_json::Value;

use super::super::call::{ApiError, Call, Reply, Shape, refused};
use super::{
    bad_request, change_api, conflict, deploy, iso8601, load_api, not_found, page,
    prune_auto_deployments, tags_of,
};

pub(super) fn no_such_stage(stage: &str) -> ApiError {
    not_found(
        format!("Invalid stage identifier specified {stage}"),
        "Stage",
    )
}

fn no_such_deployment(deployment: &str) -> ApiError {
    not_found(
        format!("Invalid Deployment identifier specified {deployment}"),
        "Deployment",
    )
}

/// `$default`, or 1 to 128 of `[A-Za-z0-9_-]`.
fn check_stage_name(name: &str) -> Result<(), ApiError> {
    fields::stage_name(name, true).map_err(refused)
}

/// The members of a stage that the shared rules bound.
fn check_stage_members(input: &StageInput) -> Result<(), ApiError> {
    fields::description(input.description.as_deref()).map_err(refused)?;
    if let Some(variables) = &input.stage_variables {
        fields::stage_variables(variables).map_err(refused)?;
    }
    if let Some(tags) = &input.tags {
        fields::tags(tags).map_err(refused)?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageInput {
    stage_name: Option<String>,
    auto_deploy: Option<bool>,
    deployment_id: Option<String>,
    description: Option<String>,
    stage_variables: Option<BTreeMap<String, String>>,
    tags: Option<BTreeMap<String, String>>,
    default_route_settings: Option<super::route_settings::RouteSettingsInput>,
    route_settings: Option<BTreeMap<String, super::route_settings::RouteSettingsInput>>,
}

/// The throttles `input` sets on `stage`.
fn apply_route_settings(stage: &mut StageRecord, input: &StageInput) -> Result<(), ApiError> {
    use super::route_settings::{DEFAULT_ROUTE, apply};
    if let Some(settings) = &input.default_route_settings {
        apply(&mut stage.throttles, DEFAULT_ROUTE, settings)?;
    }
    for (route, settings) in input.route_settings.iter().flatten() {
        apply(&mut stage.throttles, route, settings)?;
    }
    Ok(())
}

/// Points `stage` at `deployment_id` if that deployment exists.
fn bind(api: &HttpApiRecord, stage: &mut StageRecord, deployment_id: &str) -> Result<(), ApiError> {
    if !api.deployments.contains_key(deployment_id) {
        return Err(no_such_deployment(deployment_id));
    }
    stage.deployment_id = Some(deployment_id.to_owned());
    Ok(())
}

pub(super) async fn create_stage(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: StageInput = call.body()?;
    let name = input
        .stage_name
        .clone()
        .ok_or_else(|| bad_request("StageName is required"))?;
    check_stage_name(&name)?;
    check_stage_members(&input)?;
    let stage = change_api(call, id, |api| {
        if api.stages.contains_key(&name) {
            return Err(conflict(format!("Stage {name} already exists")));
        }
        let mut stage = StageRecord {
            name: name.clone(),
            deployment_id: None,
            description: input.description.clone(),
            created_at: call.now,
            last_updated: call.now,
            auto_deploy: input.auto_deploy.unwrap_or(false),
            variables: input.stage_variables.clone().unwrap_or_default(),
            tags: tags_of(input.tags.clone()),
            throttles: BTreeMap::new(),
        };
        apply_route_settings(&mut stage, &input)?;
        if let Some(deployment) = &input.deployment_id {
            bind(api, &mut stage, deployment)?;
        } else if stage.auto_deploy {
            // An automatic stage serves the current definition right away.
            stage.deployment_id = Some(deploy(call, api, None, true)?);
        }
        api.stages.insert(name.clone(), stage.clone());
        prune_auto_deployments(api);
        Ok(stage)
    })
    .await?;
    Ok((201, Some(stage_json(&stage))))
}

pub(super) async fn get_stage(call: &Call<'_>, id: &str, stage: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let stage = api.stages.get(stage).ok_or_else(|| no_such_stage(stage))?;
    Ok((200, Some(stage_json(stage))))
}

pub(super) async fn get_stages(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    page(call, api.stages.values().map(stage_json).collect())
}

pub(super) async fn update_stage(call: &Call<'_>, id: &str, name: &str) -> Reply {
    call.authorize()?;
    let input: StageInput = call.body()?;
    if input.stage_name.is_some() || input.tags.is_some() {
        return Err(bad_request(
            "StageName and Tags cannot be changed by UpdateStage",
        ));
    }
    check_stage_members(&input)?;
    let stage = change_api(call, id, |api| {
        let mut stage = api
            .stages
            .get(name)
            .cloned()
            .ok_or_else(|| no_such_stage(name))?;
        if let Some(description) = &input.description {
            stage.description = Some(description.clone());
        }
        if let Some(variables) = &input.stage_variables {
            stage.variables = variables.clone();
        }
        apply_route_settings(&mut stage, &input)?;
        if let Some(deployment) = &input.deployment_id {
            bind(api, &mut stage, deployment)?;
        }
        if let Some(auto) = input.auto_deploy {
            let switched_on = auto && !stage.auto_deploy;
            stage.auto_deploy = auto;
            if switched_on && input.deployment_id.is_none() {
                stage.deployment_id = Some(deploy(call, api, None, true)?);
            }
        }
        stage.last_updated = call.now;
        api.stages.insert(name.to_owned(), stage.clone());
        prune_auto_deployments(api);
        Ok(stage)
    })
    .await?;
    Ok((200, Some(stage_json(&stage))))
}

pub(super) async fn delete_stage(call: &Call<'_>, id: &str, name: &str) -> Reply {
    call.authorize()?;
    change_api(call, id, |api| {
        api.stages.remove(name).ok_or_else(|| no_such_stage(name))?;
        prune_auto_deployments(api);
        Ok(())
    })
    .await?;
    Ok((204, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentInput {
    description: Option<String>,
    stage_name: Option<String>,
}

pub(super) async fn create_deployment(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: DeploymentInput = call.body()?;
    fields::description(input.description.as_deref()).map_err(refused)?;
    let deployment = change_api(call, id, |api| {
        if let Some(stage) = &input.stage_name
            && !api.stages.contains_key(stage)
        {
            return Err(no_such_stage(stage));
        }
        let deployment_id = deploy(call, api, input.description.clone(), false)?;
        if let Some(stage) = input
            .stage_name
            .as_ref()
            .and_then(|s| api.stages.get_mut(s))
        {
            stage.deployment_id = Some(deployment_id.clone());
            stage.last_updated = call.now;
        }
        prune_auto_deployments(api);
        api.deployments
            .get(&deployment_id)
            .cloned()
            .ok_or_else(|| no_such_deployment(&deployment_id))
    })
    .await?;
    Ok((201, Some(deployment_json(&deployment))))
}

pub(super) async fn get_deployment(call: &Call<'_>, id: &str, deployment: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let deployment = api
        .deployments
        .get(deployment)
        .ok_or_else(|| no_such_deployment(deployment))?;
    Ok((200, Some(deployment_json(deployment))))
}

pub(super) async fn get_deployments(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let mut deployments: Vec<&HttpDeployment> = api.deployments.values().collect();
    deployments.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    page(call, deployments.into_iter().map(deployment_json).collect())
}

/// UpdateDeployment: only the description of a deployment can change.
pub(super) async fn update_deployment(call: &Call<'_>, id: &str, deployment: &str) -> Reply {
    call.authorize()?;
    let input: DeploymentInput = call.body()?;
    fields::description(input.description.as_deref()).map_err(refused)?;
    let updated = change_api(call, id, |api| {
        let found = api
            .deployments
            .get_mut(deployment)
            .ok_or_else(|| no_such_deployment(deployment))?;
        if let Some(description) = &input.description {
            found.description = Some(description.clone());
        }
        Ok(found.clone())
    })
    .await?;
    Ok((200, Some(deployment_json(&updated))))
}

pub(super) async fn delete_deployment(call: &Call<'_>, id: &str, deployment: &str) -> Reply {
    call.authorize()?;
    change_api(call, id, |api| {
        if !api.deployments.contains_key(deployment) {
            return Err(no_such_deployment(deployment));
        }
        let served = api
            .stages
            .values()
            .any(|s| s.deployment_id.as_deref() == Some(deployment));
        if served {
            return Err(bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        api.deployments.remove(deployment);
        Ok(())
    })
    .await?;
    Ok((204, None))
}

/// The `Stage` shape.
fn stage_json(stage: &StageRecord) -> Value {
    let status = match (&stage.deployment_id, stage.auto_deploy) {
        (Some(deployment), true) => Some(format!(
            "Successfully deployed stage with deployment ID '{deployment}'"
        )),
        _ => None,
    };
    Shape::new()
        .set("autoDeploy", stage.auto_deploy)
        .set("createdDate", iso8601(stage.created_at))
        .set(
            "defaultRouteSettings",
            super::route_settings::default_json(&stage.throttles),
        )
        .opt("deploymentId", stage.deployment_id.as_ref())
        .opt("description", stage.description.as_ref())
        .opt("lastDeploymentStatusMessage", status)
        .set("lastUpdatedDate", iso8601(stage.last_updated))
        .set(
            "routeSettings",
            super::route_settings::routes_json(&stage.throttles),
        )
        .set("stageName", &stage.name)
        .set("stageVariables", &stage.variables)
        .set("tags", &stage.tags)
        .build()
}

/// The `Deployment` shape.
fn deployment_json(deployment: &HttpDeployment) -> Value {
    Shape::new()
        .set("autoDeployed", deployment.auto_deployed)
        .set("createdDate", iso8601(deployment.created_at))
        .set("deploymentId", &deployment.id)
        .set("deploymentStatus", "DEPLOYED")
        .opt("description", deployment.description.as_ref())
        .build()
}
