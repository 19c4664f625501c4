//! `ImportRestApi` (`POST /restapis?mode=import`) and `PutRestApi`
//! (`PUT /restapis/{id}?mode=overwrite|merge`): an OpenAPI 3 / Swagger 2
//! document with API Gateway's extensions, read by
//! `iamgate_apimodel::openapi`, becomes the API's editable tree.
//!
//! All or nothing: a document the importer refuses is AWS's
//! `BadRequestException` with the importer's text, and the stored API is
//! not touched. The importer already refuses what decides *who may call*
//! and that iamgate cannot enforce (authorizers, API keys).

use std::collections::{BTreeMap, HashMap};

use iamgate_apimodel::model::{EndpointType, PathPart, Resource, parse_template};
use iamgate_apimodel::openapi::{self, ApiFlavour, ImportOptions, ImportedApi};
use iamgate_apimodel::stored::{REST_API_KIND, ResourceRecord, RestApiRecord};
use serde_json::Value;

use super::{bad_request, change_api, new_rest_api_json, rest_api_json, stored_policy};
use crate::apigateway::call::{ApiError, Call, Reply};

/// The document in the body, read by the importer.
fn read_document(call: &Call<'_>) -> Result<ImportedApi, ApiError> {
    let text = std::str::from_utf8(&call.request.body)
        .map_err(|_| bad_request("Errors found during import:\n\t$: not valid UTF-8"))?;
    let options = ImportOptions {
        flavour: Some(ApiFlavour::Rest),
        // Empty: the Lambda Invoke API of the server's `--lambda-endpoint`,
        // as for every integration made through the control plane.
        lambda_endpoint: Some(String::new()),
    };
    let imported =
        openapi::import(text, &options).map_err(|error| bad_request(error.to_string()))?;
    let fail_on_warnings = call
        .query_param("failonwarnings")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if fail_on_warnings && !imported.warnings.is_empty() {
        let mut message = "Warnings found during import:".to_owned();
        for warning in &imported.warnings {
            message.push_str(&format!("\n\t{warning}"));
        }
        return Err(bad_request(message));
    }
    Ok(imported)
}

/// The endpoint type the `endpointConfigurationTypes` parameter asks
/// for, which wins over the document's.
fn endpoint_parameter(call: &Call<'_>) -> Result<Option<EndpointType>, ApiError> {
    match call.query_param("endpointConfigurationTypes") {
        None => Ok(None),
        Some("REGIONAL") => Ok(Some(EndpointType::Regional)),
        Some("EDGE") => Ok(Some(EndpointType::Edge)),
        Some("PRIVATE") => Ok(Some(EndpointType::Private)),
        Some(other) => Err(bad_request(format!(
            "Invalid endpoint configuration type: {other}"
        ))),
    }
}

/// The document's resource policy as text.
fn policy_text(imported: &ImportedApi) -> Option<String> {
    imported.policy.as_ref().map(|value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

/// `RestApi` (`json`) plus the importer's warnings, as AWS reports them.
fn with_warnings(mut json: Value, imported: &ImportedApi) -> Value {
    if !imported.warnings.is_empty()
        && let Value::Object(members) = &mut json
    {
        let warnings: Vec<String> = imported.warnings.iter().map(|w| w.to_string()).collect();
        members.insert("warnings".to_owned(), Value::from(warnings));
    }
    json
}

pub(super) async fn import_rest_api(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let imported = read_document(call)?;
    let policy = policy_text(&imported);
    if policy.is_some() {
        call.authorize_action(
            "apigateway:UpdateRestApiPolicy",
            &format!("arn:aws:apigateway:{}::/restapis", call.region),
        )?;
    }
    let endpoint = endpoint_parameter(call)?
        .or(imported.endpoint_type)
        .unwrap_or(EndpointType::Edge);
    let name = imported
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_request("Invalid REST API name specified"))?;
    let id = call.new_id(10)?;
    let policy = policy
        .map(|text| stored_policy(&text, &call.region, call.account(), &id))
        .transpose()?;
    let root_id = call.new_id(6)?;
    let mut record = RestApiRecord {
        id: id.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: None,
        created_at: call.now,
        version: None,
        endpoint_type: endpoint,
        vpc_endpoint_ids: imported.vpc_endpoint_ids.clone(),
        ip_address_type: None,
        minimum_compression_size: None,
        policy,
        disable_execute_api_endpoint: false,
        api_key_source: Some(
            imported
                .api_key_source
                .clone()
                .unwrap_or_else(|| "HEADER".to_owned()),
        ),
        binary_media_types: Vec::new(),
        tags: BTreeMap::new(),
        root_resource_id: root_id.clone(),
        authorizers: BTreeMap::new(),
        resources: BTreeMap::from([(root_id.clone(), ResourceRecord::root(&root_id))]),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
        gateway_responses: imported.gateway_responses.clone(),
        models: BTreeMap::new(),
        request_validators: BTreeMap::new(),
    };
    merge_methods(call, &mut record, &imported)?;
    call.create(REST_API_KIND, &id, &record)
        .await
        .map_err(|e| e.unwrap_or_else(|| super::conflict("API id collision; try again")))?;
    Ok((
        201,
        Some(with_warnings(new_rest_api_json(&record), &imported)),
    ))
}

pub(super) async fn put_rest_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let overwrite = match call.query_param("mode").unwrap_or("merge") {
        "merge" => false,
        "overwrite" => true,
        other => {
            return Err(bad_request(format!(
                "Invalid mode specified: {other}. Valid values are merge and overwrite"
            )));
        }
    };
    let imported = read_document(call)?;
    let policy = policy_text(&imported);
    if policy.is_some() {
        call.authorize_action(
            "apigateway:UpdateRestApiPolicy",
            &format!("arn:aws:apigateway:{}::/restapis/{id}", call.region),
        )?;
    }
    let endpoint = endpoint_parameter(call)?.or(imported.endpoint_type);
    let record = change_api(call, id, |api| {
        if overwrite {
            // The tree is replaced; the root keeps its id, as on AWS.
            api.resources.retain(|_, r| r.parent_id.is_none());
            for root in api.resources.values_mut() {
                root.methods.clear();
            }
            // So are the authorizers: the document's replace them.
            api.authorizers.clear();
            if let Some(name) = imported.name.clone().filter(|n| !n.is_empty()) {
                api.name = name;
            }
            api.gateway_responses.clear();
            api.models.clear();
            api.request_validators.clear();
        }
        // Merged by type, as methods are.
        api.gateway_responses
            .extend(imported.gateway_responses.clone());
        // A document without a policy leaves the API's policy as it is:
        // dropping it silently could open what a Deny statement closed.
        if let Some(text) = &policy {
            api.policy = Some(stored_policy(text, &api.region, &api.account, &api.id)?);
        }
        if let Some(endpoint) = endpoint {
            api.endpoint_type = endpoint;
            api.vpc_endpoint_ids = imported.vpc_endpoint_ids.clone();
        }
        if let Some(source) = &imported.api_key_source {
            api.api_key_source = Some(source.clone());
        }
        merge_methods(call, api, &imported)?;
        Ok(api.clone())
    })
    .await?;
    Ok((200, Some(with_warnings(rest_api_json(&record), &imported))))
}

/// Adds the document's methods to `api`'s tree: resources that exist
/// (same path) keep their ids and other methods, the document's methods
/// replace same-named ones, and missing resources are created.
fn merge_methods(
    call: &Call<'_>,
    api: &mut RestApiRecord,
    imported: &ImportedApi,
) -> Result<(), ApiError> {
    let mut tree = Resource::root();
    for method in &imported.methods {
        tree.add(&parse_template(&method.resource_path), method.clone());
    }
    api.authorizers
        .extend(iamgate_apimodel::stored::declared_authorizers(
            imported.methods.iter().map(|m| &m.authorization),
        ));
    // Models by name, validators by name: the document's replace the
    // API's of the same name (methods that used a replaced validator use
    // the document's).
    for model in &imported.models {
        api.models.insert(model.name.clone(), model.clone());
    }
    for validator in &imported.request_validators {
        let replaced: Vec<String> = api
            .request_validators
            .values()
            .filter(|v| v.name == validator.name && v.id != validator.id)
            .map(|v| v.id.clone())
            .collect();
        for old in &replaced {
            api.request_validators.remove(old);
            for method in api
                .resources
                .values_mut()
                .flat_map(|r| r.methods.values_mut())
            {
                if method.request_validator_id.as_ref() == Some(old) {
                    method.request_validator_id = Some(validator.id.clone());
                }
            }
        }
        api.request_validators
            .insert(validator.id.clone(), validator.clone());
    }
    // Keyed by path for now: the real ids are the existing ones or fresh.
    let (_, by_path) = RestApiRecord::resources_from_tree(&tree, &api.region, |p| p.to_owned());
    let mut incoming: Vec<ResourceRecord> = by_path.into_values().collect();
    // Parents before children.
    incoming.sort_by_key(|r| (r.path.matches('/').count(), r.path.clone()));
    let mut id_of: HashMap<String, String> = api
        .resources
        .values()
        .map(|r| (r.path.clone(), r.id.clone()))
        .collect();
    for resource in incoming {
        if let Some(existing) = id_of
            .get(&resource.path)
            .and_then(|id| api.resources.get_mut(id))
        {
            existing.methods.extend(resource.methods);
            continue;
        }
        let parent_id = resource
            .parent_id
            .as_ref()
            .and_then(|parent_path| id_of.get(parent_path))
            .cloned()
            .ok_or_else(|| bad_request("Errors found during import:\n\t$.paths: orphan path"))?;
        let id = call.new_id(6)?;
        id_of.insert(resource.path.clone(), id.clone());
        api.resources.insert(
            id.clone(),
            ResourceRecord {
                id,
                parent_id: Some(parent_id),
                ..resource
            },
        );
    }
    check_variable_siblings(api)
}

/// A merge may put `{petId}` beside an existing `{id}`: API Gateway
/// allows one variable child per resource.
fn check_variable_siblings(api: &RestApiRecord) -> Result<(), ApiError> {
    let mut variable_child: HashMap<&str, &str> = HashMap::new();
    for resource in api.resources.values() {
        let (Some(parent), Some(part)) =
            (resource.parent_id.as_deref(), resource.path_part.as_deref())
        else {
            continue;
        };
        if matches!(PathPart::parse(part), PathPart::Literal(_)) {
            continue;
        }
        if let Some(existing) = variable_child.insert(parent, part)
            && existing != part
        {
            return Err(bad_request(format!(
                "Errors found during import:\n\t{}: A sibling ({existing}) of this resource already has a variable path part -- only one is allowed",
                resource.path
            )));
        }
    }
    Ok(())
}
