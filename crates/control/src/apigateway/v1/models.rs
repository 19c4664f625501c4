//! REST API models (`/restapis/{id}/models[/{name}]`: CreateModel,
//! GetModel, GetModels, UpdateModel, DeleteModel) and request validators
//! (`/restapis/{id}/requestvalidators[/{id}]`: CreateRequestValidator,
//! GetRequestValidator, GetRequestValidators, UpdateRequestValidator,
//! DeleteRequestValidator).
//!
//! Every create and update builds the model or validator again through its
//! one constructor ([`RestModel::new`], [`RequestValidator::new`]), so a
//! patch cannot leave behind what an OpenAPI import would refuse. Every
//! API has the built-in models `Empty` and `Error` without creating them.

use iamgate_apimodel::input_model;
use iamgate_apimodel::stored::RestApiRecord;
use iamgate_apimodel::validation::{BUILT_IN_MODELS, ModelInput, RequestValidator, RestModel};
use serde::Deserialize;
use serde_json::Value;

use super::{
    PatchOperation, Patchable, bad_request, change_api, conflict, list_json, load_api, not_found,
    paginate, patch_bool, refused,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

/// AWS's answer for a model name the API does not have.
fn no_such_model() -> ApiError {
    not_found("Invalid Model Name specified")
}

/// AWS's answer for a request validator id the API does not have.
fn no_such_validator() -> ApiError {
    not_found("Invalid Request Validator identifier specified")
}

pub(super) async fn dispatch_models(
    call: &Call<'_>,
    method: &str,
    api: &str,
    rest: &[&str],
) -> Reply {
    match (method, rest) {
        ("POST", []) => create_model(call, api).await,
        ("GET", []) => get_models(call, api).await,
        ("GET", [name]) => get_model(call, api, name).await,
        ("PATCH", [name]) => update_model(call, api, name).await,
        ("DELETE", [name]) => delete_model(call, api, name).await,
        _ => Err(unknown_operation()),
    }
}

pub(super) async fn dispatch_validators(
    call: &Call<'_>,
    method: &str,
    api: &str,
    rest: &[&str],
) -> Reply {
    match (method, rest) {
        ("POST", []) => create_validator(call, api).await,
        ("GET", []) => get_validators(call, api).await,
        ("GET", [id]) => get_validator(call, api, id).await,
        ("PATCH", [id]) => update_validator(call, api, id).await,
        ("DELETE", [id]) => delete_validator(call, api, id).await,
        _ => Err(unknown_operation()),
    }
}

/// The `Model` shape.
fn model_json(model: &RestModel) -> Value {
    Shape::new()
        .set("id", &model.id)
        .set("name", &model.name)
        .opt("description", model.description.as_ref())
        .opt("schema", model.schema.as_ref().map(|s| s.text()))
        .set("contentType", &model.content_type)
        .build()
}

/// The `RequestValidator` shape.
fn validator_json(validator: &RequestValidator) -> Value {
    Shape::new()
        .set("id", &validator.id)
        .opt("name", validator.name.as_ref())
        .set("validateRequestBody", validator.validate_request_body)
        .set(
            "validateRequestParameters",
            validator.validate_request_parameters,
        )
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateModelInput {
    name: Option<String>,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
}

async fn create_model(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let input: CreateModelInput = call.body()?;
    // The input model, then the API, then the values.
    let name = input_model::required("createModelInput.name", input.name).map_err(refused)?;
    let content_type = input_model::required("createModelInput.contentType", input.content_type)
        .map_err(refused)?;
    let id = call.new_id(6)?;
    let model = change_api(call, api, |record| {
        let model = RestModel::new(
            ModelInput {
                id: id.clone(),
                name: Some(name.clone()),
                description: input.description.clone(),
                content_type: Some(content_type.clone()),
                schema: input.schema.clone(),
            },
            &|other| record.model(other).is_some(),
        )
        .map_err(refused)?;
        if record.model(&model.name).is_some() {
            return Err(conflict("Model name already exists for this REST API"));
        }
        record.models.insert(model.name.clone(), model.clone());
        Ok(model)
    })
    .await?;
    Ok((201, Some(model_json(&model))))
}

/// The API's models, stored and built in, by name.
fn all_models(record: &RestApiRecord) -> Vec<RestModel> {
    let mut models: Vec<RestModel> = record.models.values().cloned().collect();
    for (name, _) in BUILT_IN_MODELS {
        if !record.models.contains_key(*name)
            && let Some(model) = RestModel::built_in(&record.id, name)
        {
            models.push(model);
        }
    }
    models.sort_by(|a, b| a.name.cmp(&b.name));
    models
}

async fn get_models(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let all = all_models(&record);
    let (page, position) = paginate(call, &all, |m| m.name.as_str())?;
    let items = page.iter().map(model_json).collect();
    Ok((200, Some(list_json(items, position))))
}

async fn get_model(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let model = record.model(name).ok_or_else(no_such_model)?;
    Ok((200, Some(model_json(&model))))
}

/// UpdateModel's paths.
const MODEL_PATCH: Patchable = Patchable {
    input: "updateModelInput",
    add: &[],
    remove: &[],
    replace: &["/schema", "/description"],
};

async fn update_model(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    let operations = MODEL_PATCH.operations(call)?;
    let model = change_api(call, api, |record| {
        let current = record.model(name).ok_or_else(no_such_model)?;
        let mut input = ModelInput {
            id: current.id.clone(),
            name: Some(current.name.clone()),
            description: current.description.clone(),
            content_type: Some(current.content_type.clone()),
            schema: current.schema.as_ref().map(|s| s.text().to_owned()),
        };
        for operation in &operations {
            match (operation.op.as_str(), operation.path.as_str()) {
                ("replace", "/schema") => input.schema = operation.value.clone(),
                ("replace", "/description") => input.description = operation.value.clone(),
                _ => return Err(MODEL_PATCH.refuse(operation)),
            }
        }
        let model =
            RestModel::new(input, &|other| record.model(other).is_some()).map_err(refused)?;
        record.models.insert(model.name.clone(), model.clone());
        Ok(model)
    })
    .await?;
    Ok((200, Some(model_json(&model))))
}

async fn delete_model(call: &Call<'_>, api: &str, name: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        if !record.models.contains_key(name) {
            return Err(if record.model(name).is_some() {
                bad_request(format!(
                    "The built-in model {name} cannot be deleted on this gateway"
                ))
            } else {
                no_such_model()
            });
        }
        if let Some(user) = model_user(record, name) {
            return Err(bad_request(format!(
                "Cannot delete model '{name}', is referenced in {user}"
            )));
        }
        record.models.remove(name);
        Ok(())
    })
    .await?;
    Ok((202, None))
}

/// What refers to model `name`: a method's request (`method request:
/// /pets/POST`) or another model.
fn model_user(record: &RestApiRecord, name: &str) -> Option<String> {
    let by_method = record.resources.values().find_map(|resource| {
        resource
            .methods
            .values()
            .find(|m| m.request_models.values().any(|n| n == name))
            .map(|m| format!("method request: {}/{}", resource.path, m.http_method))
    });
    by_method.or_else(|| {
        record.models.values().find_map(|model| {
            model
                .schema
                .as_ref()
                .filter(|s| {
                    model.name != name && s.schema().model_references().iter().any(|r| r == name)
                })
                .map(|_| format!("model: {}", model.name))
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateValidatorInput {
    name: Option<String>,
    #[serde(default)]
    validate_request_body: bool,
    #[serde(default)]
    validate_request_parameters: bool,
}

async fn create_validator(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let input: CreateValidatorInput = call.body()?;
    let id = call.new_id(6)?;
    let validator = change_api(call, api, |record| {
        let validator = RequestValidator::new(
            id.clone(),
            input.name.clone(),
            input.validate_request_body,
            input.validate_request_parameters,
        )
        .map_err(refused)?;
        record
            .request_validators
            .insert(validator.id.clone(), validator.clone());
        Ok(validator)
    })
    .await?;
    Ok((201, Some(validator_json(&validator))))
}

async fn get_validators(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let all: Vec<&RequestValidator> = record.request_validators.values().collect();
    let (page, position) = paginate(call, &all, |v| v.id.as_str())?;
    let items = page.iter().map(|v| validator_json(v)).collect();
    Ok((200, Some(list_json(items, position))))
}

async fn get_validator(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let validator = record
        .request_validators
        .get(id)
        .ok_or_else(no_such_validator)?;
    Ok((200, Some(validator_json(validator))))
}

/// UpdateRequestValidator's paths.
const VALIDATOR_PATCH: Patchable = Patchable {
    input: "updateRequestValidatorInput",
    add: &[],
    remove: &[],
    replace: &[
        "/name",
        "/validateRequestBody",
        "/validateRequestParameters",
    ],
};

fn patch_validator(
    validator: &mut RequestValidator,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/name") => validator.name = operation.value.clone(),
        ("replace", "/validateRequestBody") => {
            validator.validate_request_body = patch_bool(operation)?;
        }
        ("replace", "/validateRequestParameters") => {
            validator.validate_request_parameters = patch_bool(operation)?;
        }
        _ => return Err(VALIDATOR_PATCH.refuse(operation)),
    }
    Ok(())
}

async fn update_validator(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let operations = VALIDATOR_PATCH.operations(call)?;
    let validator = change_api(call, api, |record| {
        let mut validator = record
            .request_validators
            .get(id)
            .cloned()
            .ok_or_else(no_such_validator)?;
        for operation in &operations {
            patch_validator(&mut validator, operation)?;
        }
        let validator = RequestValidator::new(
            validator.id,
            validator.name,
            validator.validate_request_body,
            validator.validate_request_parameters,
        )
        .map_err(refused)?;
        record
            .request_validators
            .insert(id.to_owned(), validator.clone());
        Ok(validator)
    })
    .await?;
    Ok((200, Some(validator_json(&validator))))
}

async fn delete_validator(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        if !record.request_validators.contains_key(id) {
            return Err(no_such_validator());
        }
        let user = record.resources.values().find_map(|resource| {
            resource
                .methods
                .values()
                .find(|m| m.request_validator_id.as_deref() == Some(id))
                .map(|m| format!("{}/{}", resource.path, m.http_method))
        });
        if let Some(user) = user {
            return Err(bad_request(format!(
                "Cannot delete request validator '{id}', is referenced in method request: {user}"
            )));
        }
        record.request_validators.remove(id);
        Ok(())
    })
    .await?;
    Ok((202, None))
}
