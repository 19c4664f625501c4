//! Usage plans, their keys and their usage
//! (`/usageplans[/{id}[/keys[/{keyId}[/usage]]|/usage]]`).
//!
//! Stored as `UsagePlanRecord` documents (kind `usageplan`, the owner's
//! account, keyed by id), the plan's key ids inside it: adding a key is
//! one conditional write of the plan. Usage is every node's counts in the
//! store plus what this node has not added to them yet (docs/api-keys.md);
//! `UpdateUsage` sets the window's total in the store, for every node.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::usage::{
    API_KEY_KIND, ApiKeyRecord, PlanStage, Quota, Throttle, USAGE_PLAN_KIND, UsagePlanRecord,
    method_throttle_key, quota, throttle,
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    PatchInput, PatchOperation, bad_request, conflict, invalid_patch, list_json, load_api,
    not_found, paginate,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, refused, unknown_operation};

pub(super) fn no_such_plan() -> ApiError {
    not_found("Invalid Usage Plan ID specified")
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("POST", []) => create_usage_plan(call).await,
        ("GET", []) => get_usage_plans(call).await,
        ("GET", [id]) => get_usage_plan(call, id).await,
        ("PATCH", [id]) => update_usage_plan(call, id).await,
        ("DELETE", [id]) => delete_usage_plan(call, id).await,
        ("POST", [id, "keys"]) => create_usage_plan_key(call, id).await,
        ("GET", [id, "keys"]) => get_usage_plan_keys(call, id).await,
        ("GET", [id, "keys", key]) => get_usage_plan_key(call, id, key).await,
        ("DELETE", [id, "keys", key]) => delete_usage_plan_key(call, id, key).await,
        ("GET", [id, "usage"]) => get_usage(call, id).await,
        ("PATCH", [id, "keys", key, "usage"]) => update_usage(call, id, key).await,
        _ => Err(unknown_operation()),
    }
}

fn throttle_json(throttle: &Throttle) -> Value {
    Shape::new()
        .set("burstLimit", throttle.burst_limit)
        .set("rateLimit", throttle.rate_limit)
        .build()
}

fn quota_json(quota: &Quota) -> Value {
    Shape::new()
        .set("limit", quota.limit)
        .set("offset", quota.offset)
        .set("period", quota.period.as_str())
        .build()
}

/// The `UsagePlan` shape.
fn plan_json(plan: &UsagePlanRecord) -> Value {
    let stages: Vec<Value> = plan
        .api_stages
        .iter()
        .map(|stage| {
            let throttles: BTreeMap<&String, Value> = stage
                .throttle
                .iter()
                .map(|(key, throttle)| (key, throttle_json(throttle)))
                .collect();
            Shape::new()
                .set("apiId", &stage.api_id)
                .set("stage", &stage.stage)
                .opt("throttle", (!throttles.is_empty()).then_some(throttles))
                .build()
        })
        .collect();
    Shape::new()
        .set("id", &plan.id)
        .set("name", &plan.name)
        .opt("description", plan.description.as_ref())
        .set("apiStages", stages)
        .opt("throttle", plan.throttle.as_ref().map(throttle_json))
        .opt("quota", plan.quota.as_ref().map(quota_json))
        .opt("tags", (!plan.tags.is_empty()).then_some(&plan.tags))
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleInput {
    burst_limit: Option<i64>,
    rate_limit: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuotaInput {
    limit: Option<i64>,
    offset: Option<i64>,
    period: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiStageInput {
    api_id: Option<String>,
    stage: Option<String>,
    #[serde(default)]
    throttle: BTreeMap<String, ThrottleInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanInput {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    api_stages: Vec<ApiStageInput>,
    throttle: Option<ThrottleInput>,
    quota: Option<QuotaInput>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// An API stage a plan may cover: a stage of one of the caller's REST
/// APIs, each at most once in a plan.
async fn plan_stage(call: &Call<'_>, input: ApiStageInput) -> Result<PlanStage, ApiError> {
    let (Some(api_id), Some(stage)) = (input.api_id, input.stage) else {
        return Err(bad_request("Invalid API Stage specified"));
    };
    let api = load_api(call, &api_id).await?;
    if !api.stages.contains_key(&stage) {
        return Err(bad_request(format!(
            "Invalid stage identifier specified: {api_id}/{stage}"
        )));
    }
    let mut throttles = BTreeMap::new();
    for (key, given) in input.throttle {
        method_throttle_key(&key).map_err(refused)?;
        throttles.insert(
            key,
            throttle(given.rate_limit, given.burst_limit).map_err(refused)?,
        );
    }
    Ok(PlanStage {
        api_id,
        stage,
        throttle: throttles,
    })
}

async fn create_usage_plan(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateUsagePlanInput = call.body()?;
    let name = input
        .name
        .filter(|name| !name.is_empty())
        .ok_or_else(|| bad_request("Invalid Usage Plan name specified"))?;
    fields::description(input.description.as_deref()).map_err(refused)?;
    fields::tags(&input.tags).map_err(refused)?;
    let throttle = input
        .throttle
        .map(|given| throttle(given.rate_limit, given.burst_limit))
        .transpose()
        .map_err(refused)?;
    let quota = input
        .quota
        .map(|given| quota(given.limit, given.period.as_deref(), given.offset))
        .transpose()
        .map_err(refused)?;
    let mut api_stages: Vec<PlanStage> = Vec::new();
    for stage in input.api_stages {
        let stage = plan_stage(call, stage).await?;
        if api_stages
            .iter()
            .any(|kept| kept.api_id == stage.api_id && kept.stage == stage.stage)
        {
            return Err(bad_request("Duplicate API Stage specified"));
        }
        api_stages.push(stage);
    }
    let plan = UsagePlanRecord {
        id: call.new_id(6)?,
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: input.description,
        api_stages,
        throttle,
        quota,
        keys: Default::default(),
        tags: input.tags,
    };
    call.create(USAGE_PLAN_KIND, &plan.id, &plan)
        .await
        .map_err(|error| error.unwrap_or_else(|| conflict("Usage Plan already exists")))?;
    Ok((201, Some(plan_json(&plan))))
}

pub(super) async fn load_plan(call: &Call<'_>, id: &str) -> Result<UsagePlanRecord, ApiError> {
    call.load::<UsagePlanRecord>(USAGE_PLAN_KIND, id)
        .await?
        .map(|(plan, _)| plan)
        .ok_or_else(no_such_plan)
}

async fn get_usage_plan(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    Ok((200, Some(plan_json(&load_plan(call, id).await?))))
}

async fn get_usage_plans(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut plans = call.list::<UsagePlanRecord>(USAGE_PLAN_KIND).await?;
    if let Some(key) = call.query_param("keyId") {
        plans.retain(|plan| plan.keys.contains(key));
    }
    plans.sort_by(|a, b| a.id.cmp(&b.id));
    let (page, position) = paginate(call, &plans, |plan| plan.id.as_str())?;
    Ok((
        200,
        Some(list_json(page.iter().map(plan_json).collect(), position)),
    ))
}

async fn update_usage_plan(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    // Stages added by the patch must exist: checked before the write.
    let mut added = Vec::new();
    for operation in &input.patch_operations {
        if operation.op == "add" && operation.path == "/apiStages" {
            let (api_id, stage) = operation
                .value
                .as_deref()
                .and_then(|value| value.split_once(':'))
                .ok_or_else(|| invalid_patch(operation))?;
            added.push(
                plan_stage(
                    call,
                    ApiStageInput {
                        api_id: Some(api_id.to_owned()),
                        stage: Some(stage.to_owned()),
                        throttle: BTreeMap::new(),
                    },
                )
                .await?,
            );
        }
    }
    let plan = call
        .update(
            USAGE_PLAN_KIND,
            id,
            no_such_plan,
            |plan: &mut UsagePlanRecord| {
                let mut added = added.clone().into_iter();
                apply_plan_patches(plan, &input.patch_operations, &mut added)?;
                Ok(plan.clone())
            },
        )
        .await?;
    Ok((200, Some(plan_json(&plan))))
}

fn patch_number<T: std::str::FromStr>(operation: &PatchOperation) -> Result<T, ApiError> {
    operation
        .value
        .as_deref()
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| {
            bad_request(format!(
                "Invalid value for '{}': expected a number",
                operation.path
            ))
        })
}

/// Applies `operations` to `plan` in order. The quota's members may be
/// set one operation at a time (a plan without a quota gets one from
/// `/quota/limit` and `/quota/period` in the same call); the quota is
/// checked once all are applied.
fn apply_plan_patches(
    plan: &mut UsagePlanRecord,
    operations: &[PatchOperation],
    added: &mut impl Iterator<Item = PlanStage>,
) -> Result<(), ApiError> {
    let (mut limit, mut period, mut offset) = plan.quota.map_or((None, None, None), |q| {
        (
            i64::try_from(q.limit).ok(),
            Some(q.period.as_str().to_owned()),
            Some(i64::from(q.offset)),
        )
    });
    let mut quota_changed = false;
    for operation in operations {
        match (operation.op.as_str(), operation.path.as_str()) {
            ("replace", "/quota/limit") => limit = Some(patch_number(operation)?),
            ("replace", "/quota/offset") => offset = Some(patch_number(operation)?),
            ("replace", "/quota/period") => period.clone_from(&operation.value),
            ("remove", "/quota") => {
                (limit, period, offset) = (None, None, None);
                plan.quota = None;
                quota_changed = false;
                continue;
            }
            _ => {
                apply_plan_patch(plan, operation, added)?;
                continue;
            }
        }
        quota_changed = true;
    }
    if quota_changed {
        plan.quota = Some(quota(limit, period.as_deref(), offset).map_err(refused)?);
    }
    Ok(())
}

fn apply_plan_patch(
    plan: &mut UsagePlanRecord,
    operation: &PatchOperation,
    added: &mut impl Iterator<Item = PlanStage>,
) -> Result<(), ApiError> {
    let value = operation.value.clone();
    let current_throttle = plan.throttle.unwrap_or(Throttle {
        rate_limit: 0.0,
        burst_limit: 0,
    });
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/name") => {
            plan.name = value
                .filter(|name| !name.is_empty())
                .ok_or_else(|| bad_request("Invalid Usage Plan name specified"))?;
        }
        ("replace", "/description") => {
            fields::description(value.as_deref()).map_err(refused)?;
            plan.description = value;
        }
        ("replace", "/throttle/rateLimit") => {
            let rate: f64 = patch_number(operation)?;
            plan.throttle = Some(
                throttle(Some(rate), Some(i64::from(current_throttle.burst_limit)))
                    .map_err(refused)?,
            );
        }
        ("replace", "/throttle/burstLimit") => {
            let burst: i64 = patch_number(operation)?;
            plan.throttle =
                Some(throttle(Some(current_throttle.rate_limit), Some(burst)).map_err(refused)?);
        }
        ("remove", "/throttle") => plan.throttle = None,
        ("add", "/apiStages") => {
            let stage = added.next().ok_or_else(|| invalid_patch(operation))?;
            if plan
                .api_stages
                .iter()
                .any(|kept| kept.api_id == stage.api_id && kept.stage == stage.stage)
            {
                return Err(bad_request("Duplicate API Stage specified"));
            }
            plan.api_stages.push(stage);
        }
        ("remove", "/apiStages") => {
            let (api_id, stage) = value
                .as_deref()
                .and_then(|value| value.split_once(':'))
                .ok_or_else(|| invalid_patch(operation))?;
            let before = plan.api_stages.len();
            plan.api_stages
                .retain(|kept| !(kept.api_id == api_id && kept.stage == stage));
            if plan.api_stages.len() == before {
                return Err(not_found("Invalid API Stage specified"));
            }
        }
        (op, path) if path.starts_with("/apiStages/") => {
            // `/apiStages/{apiId}:{stage}/throttle/{resourcePath}/{httpMethod}[/rateLimit|/burstLimit]`
            let rest = path.trim_start_matches("/apiStages/");
            let (stage_name, method) = rest
                .split_once("/throttle")
                .ok_or_else(|| invalid_patch(operation))?;
            let (api_id, stage_name) = stage_name
                .split_once(':')
                .ok_or_else(|| invalid_patch(operation))?;
            let stage = plan
                .api_stages
                .iter_mut()
                .find(|kept| kept.api_id == api_id && kept.stage == stage_name)
                .ok_or_else(|| not_found("Invalid API Stage specified"))?;
            // `/~1pets/GET`: the resource path escaped, then the method.
            let method = method
                .strip_prefix('/')
                .unwrap_or(method)
                .replace("~1", "/")
                .replace("~0", "~");
            match (op, method.rsplit_once('/')) {
                ("remove", _) if method.is_empty() => stage.throttle.clear(),
                ("remove", _) => {
                    stage.throttle.remove(&method);
                }
                ("replace", Some((key, "rateLimit" | "burstLimit"))) => {
                    method_throttle_key(key).map_err(refused)?;
                    let old = stage.throttle.get(key).copied().unwrap_or(Throttle {
                        rate_limit: 0.0,
                        burst_limit: 0,
                    });
                    let new = if method.ends_with("/rateLimit") {
                        throttle(
                            Some(patch_number(operation)?),
                            Some(i64::from(old.burst_limit)),
                        )
                    } else {
                        throttle(Some(old.rate_limit), Some(patch_number(operation)?))
                    }
                    .map_err(refused)?;
                    stage.throttle.insert(key.to_owned(), new);
                }
                _ => return Err(invalid_patch(operation)),
            }
        }
        _ => return Err(invalid_patch(operation)),
    }
    Ok(())
}

async fn delete_usage_plan(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    if !call.delete(USAGE_PLAN_KIND, id).await? {
        return Err(no_such_plan());
    }
    Ok((202, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanKeyInput {
    key_id: Option<String>,
    key_type: Option<String>,
}

fn plan_key_json(key: &ApiKeyRecord) -> Value {
    Shape::new()
        .set("id", &key.id)
        .set("type", "API_KEY")
        .set("name", &key.name)
        .build()
}

async fn load_key(call: &Call<'_>, id: &str) -> Result<ApiKeyRecord, ApiError> {
    call.load::<ApiKeyRecord>(API_KEY_KIND, id)
        .await?
        .map(|(key, _)| key)
        .ok_or_else(super::api_keys::no_such_key)
}

/// Adds key `key_id` to plan `plan_id`; refused if it is there already or
/// is in another plan of one of the plan's stages (AWS allows a key one
/// plan per stage).
pub(super) async fn add_key(call: &Call<'_>, plan_id: &str, key_id: &str) -> Result<(), ApiError> {
    let plans = call.list::<UsagePlanRecord>(USAGE_PLAN_KIND).await?;
    check_key_may_join(&plans, plan_id, key_id)?;
    call.update(
        USAGE_PLAN_KIND,
        plan_id,
        no_such_plan,
        |plan: &mut UsagePlanRecord| {
            if plan.keys.insert(key_id.to_owned()) {
                Ok(())
            } else {
                Err(conflict("Usage Plan Key already exists"))
            }
        },
    )
    .await
}

/// Whether key `key_id` may join plan `plan_id` among `plans` (every plan
/// of the account): the plan must exist, and no other plan that has the
/// key may serve one of its stages (AWS allows a key one plan per stage).
pub(super) fn check_key_may_join(
    plans: &[UsagePlanRecord],
    plan_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    let target = plans
        .iter()
        .find(|plan| plan.id == plan_id)
        .ok_or_else(no_such_plan)?;
    let shared_stage = plans.iter().any(|other| {
        other.id != plan_id
            && other.keys.contains(key_id)
            && other.api_stages.iter().any(|stage| {
                target
                    .api_stages
                    .iter()
                    .any(|mine| mine.api_id == stage.api_id && mine.stage == stage.stage)
            })
    });
    if shared_stage {
        return Err(conflict(
            "Usage Plan cannot be added because API Key has been added to another Usage Plan on the same API Stage",
        ));
    }
    Ok(())
}

/// Takes the deleted key `key_id` out of every plan that has it.
pub(super) async fn forget_key(call: &Call<'_>, key_id: &str) -> Result<(), ApiError> {
    let plans = call.list::<UsagePlanRecord>(USAGE_PLAN_KIND).await?;
    for plan in plans.iter().filter(|plan| plan.keys.contains(key_id)) {
        call.update(
            USAGE_PLAN_KIND,
            &plan.id,
            no_such_plan,
            |plan: &mut UsagePlanRecord| {
                plan.keys.remove(key_id);
                Ok(())
            },
        )
        .await?;
    }
    Ok(())
}

async fn create_usage_plan_key(call: &Call<'_>, plan_id: &str) -> Reply {
    call.authorize()?;
    let input: CreateUsagePlanKeyInput = call.body()?;
    if input.key_type.as_deref() != Some("API_KEY") {
        return Err(bad_request("Invalid key type specified: must be API_KEY"));
    }
    let key_id = input
        .key_id
        .ok_or_else(|| bad_request("Invalid API Key identifier specified"))?;
    let key = load_key(call, &key_id).await?;
    add_key(call, plan_id, &key_id).await?;
    Ok((201, Some(plan_key_json(&key))))
}

/// The plan's keys that still exist, by id.
async fn plan_keys(call: &Call<'_>, plan: &UsagePlanRecord) -> Result<Vec<ApiKeyRecord>, ApiError> {
    let mut keys = call.list::<ApiKeyRecord>(API_KEY_KIND).await?;
    keys.retain(|key| plan.keys.contains(&key.id));
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(keys)
}

async fn get_usage_plan_keys(call: &Call<'_>, plan_id: &str) -> Reply {
    call.authorize()?;
    let plan = load_plan(call, plan_id).await?;
    let mut keys = plan_keys(call, &plan).await?;
    if let Some(prefix) = call.query_param("name") {
        keys.retain(|key| key.name.starts_with(prefix));
    }
    let (page, position) = paginate(call, &keys, |key| key.id.as_str())?;
    Ok((
        200,
        Some(list_json(
            page.iter().map(plan_key_json).collect(),
            position,
        )),
    ))
}

async fn get_usage_plan_key(call: &Call<'_>, plan_id: &str, key_id: &str) -> Reply {
    call.authorize()?;
    let plan = load_plan(call, plan_id).await?;
    if !plan.keys.contains(key_id) {
        return Err(not_found("Invalid Usage Plan Key identifier specified"));
    }
    let key = load_key(call, key_id).await?;
    Ok((200, Some(plan_key_json(&key))))
}

async fn delete_usage_plan_key(call: &Call<'_>, plan_id: &str, key_id: &str) -> Reply {
    call.authorize()?;
    call.update(
        USAGE_PLAN_KIND,
        plan_id,
        no_such_plan,
        |plan: &mut UsagePlanRecord| {
            if plan.keys.remove(key_id) {
                Ok(())
            } else {
                Err(not_found("Invalid Usage Plan Key identifier specified"))
            }
        },
    )
    .await?;
    Ok((202, None))
}

/// A stage's `methodSettings`: each throttled method's
/// `throttlingBurstLimit` and `throttlingRateLimit`.
pub(super) fn method_settings_json(throttles: &BTreeMap<String, Throttle>) -> Value {
    let settings: serde_json::Map<String, Value> = throttles
        .iter()
        .map(|(key, throttle)| {
            (
                key.clone(),
                Shape::new()
                    .set("throttlingBurstLimit", throttle.burst_limit)
                    .set("throttlingRateLimit", throttle.rate_limit)
                    .build(),
            )
        })
        .collect();
    Value::Object(settings)
}

/// `UpdateStage`'s `/{resourcePath}/{httpMethod}/throttling/rateLimit`
/// and `…/burstLimit` (`/*/*/…` for every method; the resource path's
/// slashes escaped as `~1`): sets one member of that method's throttle,
/// the other staying as it was (AWS's account defaults, 10000 a second
/// and a burst of 5000, when it had none).
pub(super) fn patch_method_throttle(
    throttles: &mut BTreeMap<String, Throttle>,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let path = operation.path.as_str();
    let (key, member) = path
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once("/throttling/"))
        .filter(|(key, _)| key.contains('/'))
        .ok_or_else(|| invalid_patch(operation))?;
    let old = throttles.get(key).copied().unwrap_or(Throttle {
        rate_limit: 10_000.0,
        burst_limit: 5_000,
    });
    let new = match (operation.op.as_str(), member) {
        ("replace", "rateLimit") => throttle(
            Some(patch_number(operation)?),
            Some(i64::from(old.burst_limit)),
        ),
        ("replace", "burstLimit") => throttle(Some(old.rate_limit), Some(patch_number(operation)?)),
        _ => return Err(invalid_patch(operation)),
    }
    .map_err(refused)?;
    throttles.insert(key.to_owned(), new);
    Ok(())
}

/// `YYYY-MM-DD` as an epoch day.
fn epoch_day_of(text: &str, name: &str) -> Result<i64, ApiError> {
    let invalid = || bad_request(format!("Invalid {name} specified: expected YYYY-MM-DD"));
    let mut parts = text.splitn(3, '-').map(str::parse::<i64>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > iamgate_sigv4::time::days_in_month(year, month)
    {
        return Err(invalid());
    }
    Ok(iamgate_sigv4::time::days_from_civil(year, month, day))
}

/// `GetUsage`: for each key of the plan (or `keyId` alone), one
/// `[used, remaining]` pair per day from `startDate` to `endDate`;
/// `remaining` is what the quota had left at the end of that day in its
/// window (the limit itself without a quota).
async fn get_usage(call: &Call<'_>, plan_id: &str) -> Reply {
    call.authorize()?;
    let plan = load_plan(call, plan_id).await?;
    let (Some(start_text), Some(end_text)) =
        (call.query_param("startDate"), call.query_param("endDate"))
    else {
        return Err(bad_request("The start date and end date are required"));
    };
    let (first, last) = (
        epoch_day_of(start_text, "startDate")?,
        epoch_day_of(end_text, "endDate")?,
    );
    if last < first {
        return Err(bad_request("The end date must be after the start date"));
    }
    if last - first > 90 {
        return Err(bad_request("The usage date range cannot exceed 90 days"));
    }
    let mut key_ids: Vec<&String> = plan.keys.iter().collect();
    if let Some(only) = call.query_param("keyId") {
        key_ids.retain(|id| id.as_str() == only);
    }
    let ledger = call.plane.usage_ledger();
    let mut values = serde_json::Map::new();
    for key_id in key_ids {
        // Every node's flushed counts, and this node's not yet flushed.
        let mut counted: BTreeMap<i64, u64> = call
            .plane
            .store()
            .usage_days(&plan.id, key_id, first - 31, last)
            .await
            .map_err(|error| {
                tracing::error!(%error, "reading usage counts failed");
                ApiError::from(iamgate_wire::json::RestJsonError::service_unavailable(
                    "The service is unavailable. Please try again.",
                ))
            })?
            .into_iter()
            .map(|(day, used)| (day, u64::try_from(used).unwrap_or(0)))
            .collect();
        for (day, mine) in ledger.unflushed_days(&plan.id, key_id, first - 31, last) {
            let slot = counted.entry(day).or_default();
            *slot = slot.saturating_add(mine);
        }
        let mut days = Vec::new();
        for day in first..=last {
            let used = counted.get(&day).copied().unwrap_or(0);
            let remaining = match plan.quota {
                None => 0,
                Some(quota) => {
                    let start = window_start(day, quota);
                    let in_window: u64 = counted.range(start..=day).map(|(_, used)| used).sum();
                    quota.limit.saturating_sub(in_window)
                }
            };
            days.push(vec![used, remaining]);
        }
        values.insert(
            key_id.clone(),
            serde_json::to_value(days).unwrap_or_default(),
        );
    }
    Ok((
        200,
        Some(
            Shape::new()
                .set("usagePlanId", &plan.id)
                .set("startDate", start_text)
                .set("endDate", end_text)
                .set("values", Value::Object(values))
                .build(),
        ),
    ))
}

/// The epoch day the quota window containing `day` started (the same
/// calendar as the data plane's).
fn window_start(day: i64, quota: Quota) -> i64 {
    iamgate_apimodel::usage::quota_window_start(day, quota.period, quota.offset)
}

/// `UpdateUsage`: `replace /remaining` sets what the key has left in the
/// current window, for every node: the window's total in the store's
/// usage counts is set (this node's unflushed counts included) in one
/// transaction, and this node learns it at once; the others at their
/// next flush (`--usage-flush-interval`).
async fn update_usage(call: &Call<'_>, plan_id: &str, key_id: &str) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let plan = load_plan(call, plan_id).await?;
    if !plan.keys.contains(key_id) {
        return Err(not_found("Invalid Usage Plan Key identifier specified"));
    }
    let Some(quota) = plan.quota else {
        return Err(bad_request("Usage Plan has no quota"));
    };
    let day = call.now.div_euclid(86_400);
    let start = window_start(day, quota);
    let mut remaining = None;
    for operation in &input.patch_operations {
        match (operation.op.as_str(), operation.path.as_str()) {
            ("replace", "/remaining") => remaining = Some(patch_number::<u64>(operation)?),
            _ => return Err(invalid_patch(operation)),
        }
    }
    let ledger = call.plane.usage_ledger();
    if let Some(remaining) = remaining {
        let target = i64::try_from(quota.limit.saturating_sub(remaining)).unwrap_or(i64::MAX);
        let pending: Vec<(i64, i64)> = ledger
            .unflushed_days(&plan.id, key_id, start, day)
            .into_iter()
            .map(|(day, count)| (day, i64::try_from(count).unwrap_or(i64::MAX)))
            .collect();
        let stored: BTreeMap<i64, i64> = call
            .plane
            .store()
            .set_usage_total(&plan.id, key_id, (start, day), target, &pending)
            .await
            .map_err(|error| {
                tracing::error!(%error, "setting usage counts failed");
                ApiError::from(iamgate_wire::json::RestJsonError::service_unavailable(
                    "The service is unavailable. Please try again.",
                ))
            })?
            .into_iter()
            .collect();
        for counted_day in start..=day {
            let total = stored.get(&counted_day).copied().unwrap_or(0);
            ledger.learn(
                &plan.id,
                key_id,
                counted_day,
                u64::try_from(total).unwrap_or(0),
            );
        }
    }
    let used = ledger.window_used(&plan.id, key_id, start, day);
    let mut values = serde_json::Map::new();
    values.insert(
        key_id.to_owned(),
        serde_json::json!([[used, quota.limit.saturating_sub(used)]]),
    );
    Ok((
        200,
        Some(
            Shape::new()
                .set("usagePlanId", &plan.id)
                .set("values", Value::Object(values))
                .build(),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation {
            op: op.to_owned(),
            path: path.to_owned(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn a_stage_method_throttle_patch_sets_one_member_and_keeps_the_other() {
        let mut throttles = BTreeMap::new();
        patch_method_throttle(
            &mut throttles,
            &op("replace", "/*/*/throttling/burstLimit", Some("3")),
        )
        .unwrap();
        // The rate not given is AWS's account default.
        assert_eq!(
            throttles.get("*/*"),
            Some(&Throttle {
                rate_limit: 10_000.0,
                burst_limit: 3
            })
        );
        patch_method_throttle(
            &mut throttles,
            &op("replace", "/~1pets/GET/throttling/rateLimit", Some("1.5")),
        )
        .unwrap();
        assert_eq!(throttles.get("~1pets/GET").map(|t| t.rate_limit), Some(1.5));
        assert!(
            patch_method_throttle(
                &mut throttles,
                &op("replace", "/*/*/throttling/burstLimit", Some("-1"))
            )
            .is_err()
        );
        assert!(
            patch_method_throttle(
                &mut throttles,
                &op("replace", "/*/*/throttling/other", Some("1"))
            )
            .is_err()
        );
    }

    fn plan() -> UsagePlanRecord {
        UsagePlanRecord {
            id: "p1".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            name: "plan".into(),
            description: None,
            api_stages: vec![PlanStage {
                api_id: "a1".into(),
                stage: "prod".into(),
                throttle: BTreeMap::new(),
            }],
            throttle: None,
            quota: None,
            keys: Default::default(),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn plan_patches_set_quota_members_and_method_throttles_and_refuse_unknown_paths() {
        let mut plan = plan();
        let mut none = std::iter::empty();
        apply_plan_patches(
            &mut plan,
            &[
                op("replace", "/quota/limit", Some("100")),
                op("replace", "/quota/period", Some("WEEK")),
                op("replace", "/quota/offset", Some("2")),
                op("replace", "/throttle/burstLimit", Some("7")),
                op(
                    "replace",
                    "/apiStages/a1:prod/throttle/~1pets/GET/rateLimit",
                    Some("4"),
                ),
            ],
            &mut none,
        )
        .unwrap();
        let quota = plan.quota.unwrap();
        assert_eq!(
            (quota.limit, quota.period, quota.offset),
            (100, iamgate_apimodel::usage::QuotaPeriod::Week, 2)
        );
        assert_eq!(plan.throttle.map(|t| t.burst_limit), Some(7));
        assert_eq!(
            plan.api_stages[0]
                .throttle
                .get("/pets/GET")
                .map(|t| t.rate_limit),
            Some(4.0)
        );
        // An offset the period does not have is refused, and leaves the
        // quota as it was.
        let before = plan.clone();
        for bad in [
            op("replace", "/quota/offset", Some("9")),
            op("replace", "/productCode", Some("x")),
            op("remove", "/apiStages", Some("a1:beta")),
        ] {
            let mut changed = before.clone();
            assert!(apply_plan_patches(&mut changed, &[bad], &mut none).is_err());
        }
        assert_eq!(plan, before);
        // Without a quota, a limit alone has no period: refused.
        let mut bare = super::tests::plan();
        assert!(
            apply_plan_patches(
                &mut bare,
                &[op("replace", "/quota/limit", Some("5"))],
                &mut none
            )
            .is_err()
        );
    }
}
