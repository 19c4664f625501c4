//! API keys (`/apikeys[/{id}]`, `ImportApiKeys`).
//!
//! Stored as `ApiKeyRecord` documents (kind `apikey`, the owner's account,
//! keyed by id). A key's value is its secret: sealed in the store with the
//! secret cipher, as access keys' secrets are ([`seal_value`]; the
//! snapshot opens it for the data plane), answered only when asked for
//! (`includeValue`, `includeValues`) and never put in an error message or
//! a log line.

use std::collections::{BTreeMap, BTreeSet};

use iamgate_apimodel::fields;
use iamgate_apimodel::usage::{
    API_KEY_KIND, ApiKeyRecord, USAGE_PLAN_KIND, UsagePlanRecord, key_value,
};
use iamgate_store::{Expect, WriteBatch};
use serde::Deserialize;
use serde_json::Value;

use super::{
    PatchInput, PatchOperation, bad_request, invalid_patch, list_json, not_found, paginate,
    patch_bool,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, refused, unknown_operation};

pub(crate) fn no_such_key() -> ApiError {
    not_found("Invalid API Key identifier specified")
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("POST", []) if call.query_param("mode") == Some("import") => import_api_keys(call).await,
        ("POST", []) => create_api_key(call).await,
        ("GET", []) => get_api_keys(call).await,
        ("GET", [id]) => get_api_key(call, id).await,
        ("PATCH", [id]) => update_api_key(call, id).await,
        ("DELETE", [id]) => delete_api_key(call, id).await,
        _ => Err(unknown_operation()),
    }
}

use iamgate_apimodel::usage::value_seal_context as value_context;

/// `value` sealed for key `id`.
fn seal_value(call: &Call<'_>, id: &str, value: &str) -> Result<String, ApiError> {
    call.plane
        .cipher
        .seal_for(&value_context(id), value)
        .map_err(|_| call_unavailable(call))
}

/// The value of a stored key (sealed in the store).
fn open_value(call: &Call<'_>, key: &ApiKeyRecord) -> Result<String, ApiError> {
    call.plane
        .cipher
        .open_for(&value_context(&key.id), &key.value)
        .map_err(|_| {
            tracing::error!(key = %key.id, "an API key's value does not open with this node's secret key");
            call_unavailable(call)
        })
}

/// The `ApiKey` shape, with `value` when given.
pub(crate) fn api_key_json(key: &ApiKeyRecord, value: Option<&str>) -> Value {
    Shape::new()
        .set("id", &key.id)
        .opt("value", value)
        .set("name", &key.name)
        .opt("customerId", key.customer_id.as_ref())
        .opt("description", key.description.as_ref())
        .set("enabled", key.enabled)
        .set("createdDate", key.created_at)
        .set("lastUpdatedDate", key.last_updated)
        .set("stageKeys", &key.stage_keys)
        .opt("tags", (!key.tags.is_empty()).then_some(&key.tags))
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiKeyInput {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    enabled: bool,
    value: Option<String>,
    customer_id: Option<String>,
    #[serde(default)]
    stage_keys: Vec<StageKey>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageKey {
    rest_api_id: Option<String>,
    stage_name: Option<String>,
}

/// A fresh 40-character key value of letters and digits.
fn new_key_value(call: &Call<'_>) -> Result<String, ApiError> {
    iamgate_iam::ids::new_api_key_value().map_err(|_| call_unavailable(call))
}

fn call_unavailable(_call: &Call<'_>) -> ApiError {
    Box::new(iamgate_wire::json::RestJsonError::service_unavailable(
        "The system random source is unavailable",
    ))
}

/// The one constructor of a key, for `CreateApiKey` and `ImportApiKeys`.
fn new_key(
    call: &Call<'_>,
    name: Option<String>,
    description: Option<String>,
    enabled: bool,
    value: Option<String>,
    customer_id: Option<String>,
    tags: BTreeMap<String, String>,
) -> Result<ApiKeyRecord, ApiError> {
    let value = match value {
        Some(value) => {
            key_value(&value).map_err(refused)?;
            value
        }
        None => new_key_value(call)?,
    };
    fields::description(description.as_deref()).map_err(refused)?;
    fields::tags(&tags).map_err(refused)?;
    let id = call.new_id(10)?;
    Ok(ApiKeyRecord {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        account: call.account().to_owned(),
        region: call.region.clone(),
        description,
        value,
        enabled,
        customer_id,
        created_at: call.now,
        last_updated: call.now,
        stage_keys: Vec::new(),
        tags,
    })
}

async fn create_api_key(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateApiKeyInput = call.body()?;
    let mut key = new_key(
        call,
        input.name,
        input.description,
        input.enabled,
        input.value,
        input.customer_id,
        input.tags,
    )?;
    for stage_key in input.stage_keys {
        let (Some(api), Some(stage)) = (stage_key.rest_api_id, stage_key.stage_name) else {
            return Err(bad_request("Invalid stage key specified"));
        };
        key.stage_keys.push(format!("{api}/{stage}"));
    }
    let value = std::mem::take(&mut key.value);
    key.value = seal_value(call, &key.id, &value)?;
    call.create(API_KEY_KIND, &key.id, &key)
        .await
        .map_err(|error| error.unwrap_or_else(|| bad_request("API Key already exists")))?;
    Ok((201, Some(api_key_json(&key, Some(&value)))))
}

async fn load_key(call: &Call<'_>, id: &str) -> Result<ApiKeyRecord, ApiError> {
    call.load::<ApiKeyRecord>(API_KEY_KIND, id)
        .await?
        .map(|(key, _)| key)
        .ok_or_else(no_such_key)
}

fn flag(call: &Call<'_>, name: &str) -> bool {
    call.query_param(name) == Some("true")
}

async fn get_api_key(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let key = load_key(call, id).await?;
    let value = if flag(call, "includeValue") {
        Some(open_value(call, &key)?)
    } else {
        None
    };
    Ok((200, Some(api_key_json(&key, value.as_deref()))))
}

async fn get_api_keys(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut keys = call.list::<ApiKeyRecord>(API_KEY_KIND).await?;
    if let Some(prefix) = call.query_param("name") {
        keys.retain(|key| key.name.starts_with(prefix));
    }
    if let Some(customer) = call.query_param("customerId") {
        keys.retain(|key| key.customer_id.as_deref() == Some(customer));
    }
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    let include = flag(call, "includeValues");
    let (page, position) = paginate(call, &keys, |key| key.id.as_str())?;
    let mut items = Vec::with_capacity(page.len());
    for key in page {
        let value = if include {
            Some(open_value(call, key)?)
        } else {
            None
        };
        items.push(api_key_json(key, value.as_deref()));
    }
    Ok((200, Some(list_json(items, position))))
}

async fn update_api_key(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let now = call.now;
    let key = call
        .update(API_KEY_KIND, id, no_such_key, |key: &mut ApiKeyRecord| {
            for operation in &input.patch_operations {
                apply_key_patch(key, operation)?;
            }
            key.last_updated = now;
            Ok(key.clone())
        })
        .await?;
    Ok((200, Some(api_key_json(&key, None))))
}

fn apply_key_patch(key: &mut ApiKeyRecord, operation: &PatchOperation) -> Result<(), ApiError> {
    let value = operation.value.clone();
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/enabled") => key.enabled = patch_bool(operation)?,
        ("replace", "/name") => {
            key.name = value
                .filter(|name| !name.is_empty())
                .ok_or_else(|| bad_request("Invalid API Key name specified"))?;
        }
        ("replace", "/description") => {
            fields::description(value.as_deref()).map_err(refused)?;
            key.description = value;
        }
        ("replace", "/customerId") => key.customer_id = value,
        ("add", "/stages") => {
            let stage = value.ok_or_else(|| invalid_patch(operation))?;
            if !key.stage_keys.contains(&stage) {
                key.stage_keys.push(stage);
            }
        }
        ("remove", "/stages") => {
            let stage = value.ok_or_else(|| invalid_patch(operation))?;
            key.stage_keys.retain(|kept| *kept != stage);
        }
        _ => return Err(invalid_patch(operation)),
    }
    Ok(())
}

/// Deletes the key and, as AWS does, takes it out of its usage plans.
async fn delete_api_key(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    if !call.delete(API_KEY_KIND, id).await? {
        return Err(no_such_key());
    }
    super::usage_plans::forget_key(call, id).await?;
    Ok((202, None))
}

/// The cells of one CSV line: separated by commas, a cell in double or
/// single quotes may hold commas (`"c7y23b,glvrsr"`).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => cell.push(c),
            (None, '"' | '\'') if cell.trim().is_empty() => {
                cell.clear();
                quote = Some(c);
            }
            (None, ',') => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            (None, c) => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

/// One key line of an import, checked.
struct ImportedKey {
    name: String,
    value: String,
    description: Option<String>,
    enabled: bool,
    plans: Vec<String>,
}

/// The lines of an API key file (AWS's format): a header naming the
/// columns `Name` and `Key` (required), `Description`, `Enabled` (default
/// true) and `UsagePlanIds` (comma-separated, quoted), in any order and
/// any case, unknown columns ignored; then one key a line.
fn parse_key_file(text: &str) -> Result<Vec<ImportedKey>, ApiError> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<String> = csv_cells(
        lines
            .next()
            .ok_or_else(|| bad_request("Invalid API keys file: no header line"))?,
    )
    .into_iter()
    .map(|column| column.to_ascii_lowercase())
    .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(name_at), Some(value_at)) = (column("name"), column("key")) else {
        return Err(bad_request(
            "Invalid API keys file: the Name and Key columns are required",
        ));
    };
    let (description_at, enabled_at, plans_at) = (
        column("description"),
        column("enabled"),
        column("usageplanids"),
    );
    let mut keys = Vec::new();
    for line in lines {
        let cells = csv_cells(line);
        let cell = |at: Option<usize>| {
            at.and_then(|at| cells.get(at))
                .filter(|cell| !cell.is_empty())
                .cloned()
        };
        let enabled = match cell(enabled_at).map(|text| text.to_ascii_lowercase()) {
            None => true,
            Some(text) if text == "true" => true,
            Some(text) if text == "false" => false,
            Some(_) => {
                return Err(bad_request(
                    "Invalid value for Enabled: expected true or false",
                ));
            }
        };
        let value = cell(Some(value_at))
            .ok_or_else(|| bad_request("Invalid API keys file: a line has no Key"))?;
        key_value(&value).map_err(refused)?;
        let name = cell(Some(name_at))
            .ok_or_else(|| bad_request("Invalid API keys file: a line has no Name"))?;
        if name.chars().count() > 1024 {
            return Err(bad_request(
                "API Key name exceeds maximum size of 1024 characters",
            ));
        }
        let description = cell(description_at);
        fields::description(description.as_deref()).map_err(refused)?;
        let plans = cell(plans_at)
            .map(|plans| {
                plans
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        keys.push(ImportedKey {
            name,
            value,
            description,
            enabled,
            plans,
        });
    }
    Ok(keys)
}

/// `ImportApiKeys` with `format=csv` ([`parse_key_file`]). A key whose
/// value the account already has is that key, overwritten (as AWS: two
/// keys are the same key if their values are); the plans named get it.
///
/// Never half-written: every line, every plan named and every plan
/// association (one plan per stage for a key) is checked first, against
/// the plans as they will be once the earlier lines are in, and then
/// every key and plan is written in one store transaction. A refusal
/// anywhere writes nothing.
async fn import_api_keys(call: &Call<'_>) -> Reply {
    call.authorize()?;
    if call.query_param("format") != Some("csv") {
        return Err(bad_request("Invalid format specified: must be csv"));
    }
    let text = std::str::from_utf8(&call.request.body)
        .map_err(|_| bad_request("Invalid API keys file: not UTF-8 text"))?;
    let imported = parse_key_file(text)?;
    let imported = &imported;
    let ids = call
        .commit(|| async move { plan_import(call, imported).await })
        .await?;
    Ok((
        201,
        Some(
            Shape::new()
                .set("ids", ids)
                .set("warnings", Vec::<String>::new())
                .build(),
        ),
    ))
}

/// The one batch of an import, from fresh reads: every key written (new,
/// or the same value's key overwritten) and every plan that gains a key;
/// the ids in the file's order. Any refusal comes before the batch.
async fn plan_import(
    call: &Call<'_>,
    imported: &[ImportedKey],
) -> Result<(WriteBatch, Vec<String>), ApiError> {
    let existing = call.list_versioned::<ApiKeyRecord>(API_KEY_KIND).await?;
    let stored_plans = call
        .list_versioned::<UsagePlanRecord>(USAGE_PLAN_KIND)
        .await?;
    let mut plans: Vec<UsagePlanRecord> = stored_plans.iter().map(|(p, _)| p.clone()).collect();
    let mut changed_plans: BTreeSet<String> = BTreeSet::new();
    // The keys to write, by id: (record with the value in clear, the
    // version it was read at; `None`: new).
    let mut written: BTreeMap<String, (ApiKeyRecord, Option<i64>)> = BTreeMap::new();
    let mut ids = Vec::with_capacity(imported.len());
    let now = call.now;
    for key in imported {
        let same_value = |value: &str| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                value.as_bytes(),
                key.value.as_bytes(),
            ))
        };
        // An earlier line of this file, then a stored key, with this value.
        let earlier = written
            .iter()
            .find(|(_, (record, _))| same_value(&record.value))
            .map(|(id, _)| id.clone());
        let stored = existing
            .iter()
            .find(|(record, _)| open_value(call, record).is_ok_and(|value| same_value(&value)));
        let id = match (earlier, stored) {
            (Some(id), _) => {
                if let Some((record, _)) = written.get_mut(&id) {
                    overwrite(record, key, now);
                }
                id
            }
            (None, Some((record, version))) => {
                let mut record = record.clone();
                record.value = open_value(call, &record)?;
                overwrite(&mut record, key, now);
                let id = record.id.clone();
                written.insert(id.clone(), (record, Some(*version)));
                id
            }
            (None, None) => {
                let record = new_key(
                    call,
                    Some(key.name.clone()),
                    key.description.clone(),
                    key.enabled,
                    Some(key.value.clone()),
                    None,
                    BTreeMap::new(),
                )?;
                let id = record.id.clone();
                written.insert(id.clone(), (record, None));
                id
            }
        };
        for plan_id in &key.plans {
            let has_it = plans
                .iter()
                .find(|plan| plan.id == *plan_id)
                .ok_or_else(super::usage_plans::no_such_plan)?
                .keys
                .contains(&id);
            if has_it {
                continue;
            }
            super::usage_plans::check_key_may_join(&plans, plan_id, &id)?;
            if let Some(plan) = plans.iter_mut().find(|plan| plan.id == *plan_id) {
                plan.keys.insert(id.clone());
                changed_plans.insert(plan_id.clone());
            }
        }
        ids.push(id);
    }
    let account = call.account();
    let mut batch = WriteBatch::new();
    for (id, (mut record, version)) in written {
        let value = std::mem::take(&mut record.value);
        record.value = seal_value(call, &id, &value)?;
        let body = serde_json::to_value(&record).map_err(|_| bad_request("Invalid API key"))?;
        let expect = version.map_or(Expect::Absent, Expect::Version);
        batch = batch.put(API_KEY_KIND, account, id.as_str(), body, expect);
    }
    for plan in plans.iter().filter(|plan| changed_plans.contains(&plan.id)) {
        let version = stored_plans
            .iter()
            .find(|(stored, _)| stored.id == plan.id)
            .map(|(_, version)| *version)
            .ok_or_else(super::usage_plans::no_such_plan)?;
        let body = serde_json::to_value(plan).map_err(|_| bad_request("Invalid usage plan"))?;
        batch = batch.put(
            USAGE_PLAN_KIND,
            account,
            plan.id.as_str(),
            body,
            Expect::Version(version),
        );
    }
    Ok((batch, ids))
}

/// A stored key taking an imported line's name, description and state.
fn overwrite(record: &mut ApiKeyRecord, key: &ImportedKey, now: i64) {
    record.name.clone_from(&key.name);
    record.description.clone_from(&key.description);
    record.enabled = key.enabled;
    record.last_updated = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cells_keep_their_commas() {
        assert_eq!(
            csv_cells(r#"true,MyFirstApiKey,apikey1234abcdefghij0123456789,"c7y23b,glvrsr""#),
            vec![
                "true",
                "MyFirstApiKey",
                "apikey1234abcdefghij0123456789",
                "c7y23b,glvrsr"
            ]
        );
        assert_eq!(csv_cells("a,'b,c', d"), vec!["a", "b,c", "d"]);
    }

    #[test]
    fn a_key_file_needs_name_and_key_columns_in_any_case_and_order() {
        let keys = parse_key_file(
            "Enabled,Name,key,UsageplanIds,Other\nfalse,First,apikey1234abcdefghij0123456789,\"p1,p2\",x\n,Second,apikey1234abcdefghij0123456780,,\n",
        )
        .unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].plans, vec!["p1", "p2"]);
        assert!(!keys[0].enabled);
        // Enabled defaults to true.
        assert!(keys[1].enabled);
        assert!(parse_key_file("key\napikey1234abcdefghij0123456789\n").is_err());
        assert!(parse_key_file("name,key\nshort,tooshort\n").is_err());
    }
}
