//! Methods, method responses, integrations and integration responses
//! (`…/resources/{resource_id}/methods/{http_method}[/…]`).
//!
//! Everything API Gateway accepts is stored as given, including what
//! iamgate cannot serve (`COGNITO_USER_POOLS` authorization, `AWS`
//! integrations): such a method simply never deploys
//! (`RestApiRecord::deployable_tree` refuses it), so it can never be
//! served as an open method — fail closed at deployment, not at editing.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::input_model;
use iamgate_apimodel::mapping::Passthrough;
use iamgate_apimodel::model::ApiFlavour;
use iamgate_apimodel::stored::{
    GivenEmpty, IntegrationRecord, IntegrationResponseRecord, MethodRecord, MethodResponseRecord,
    REST_API_KIND, RestApiRecord,
};
use serde::Deserialize;
use serde_json::Value;

use super::authorizers::check_method_authorizer;
use super::resources::no_such_resource;
use super::{
    PatchOperation, Patchable, bad_request, conflict, not_found, patch_bool, patch_key, refused,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

const HTTP_METHODS: &[&str] = fields::METHODS;
const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];

/// AWS's refusal of a method name, its options in AWS's order.
fn invalid_http_method() -> ApiError {
    bad_request(
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
    )
}

/// Reads the API of a method-level call (`…/resources/{id}/methods/…`).
/// AWS reports an API this account does not have as an unknown resource
/// there, before it looks at any value of the request.
async fn load_api(call: &Call<'_>, api: &str) -> Result<RestApiRecord, ApiError> {
    call.load::<RestApiRecord>(REST_API_KIND, api)
        .await?
        .map(|(record, _)| record)
        .ok_or_else(no_such_resource)
}

/// Changes the API of a method-level call in one conditional write (an
/// unknown API is an unknown resource, as [`load_api`] says).
async fn change_api<R>(
    call: &Call<'_>,
    api: &str,
    change: impl FnMut(&mut RestApiRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    call.update(REST_API_KIND, api, no_such_resource, change)
        .await
}

fn no_such_method() -> ApiError {
    not_found("Invalid Method identifier specified")
}

fn no_such_integration() -> ApiError {
    not_found("Invalid Integration identifier specified")
}

fn no_such_response() -> ApiError {
    not_found("Invalid Response status code specified")
}

pub(super) async fn dispatch(
    call: &Call<'_>,
    method: &str,
    api: &str,
    resource: &str,
    http_method: &str,
    rest: &[&str],
) -> Reply {
    let at = At {
        api,
        resource,
        http_method,
    };
    match (method, rest) {
        ("PUT", []) => put_method(call, &at).await,
        ("GET", []) => get_method(call, &at).await,
        ("PATCH", []) => update_method(call, &at).await,
        ("DELETE", []) => delete_method(call, &at).await,
        ("PUT", ["responses", code]) => put_method_response(call, &at, code).await,
        ("GET", ["responses", code]) => get_method_response(call, &at, code).await,
        ("PATCH", ["responses", code]) => update_method_response(call, &at, code).await,
        ("DELETE", ["responses", code]) => delete_method_response(call, &at, code).await,
        ("PUT", ["integration"]) => put_integration(call, &at).await,
        ("GET", ["integration"]) => get_integration(call, &at).await,
        ("PATCH", ["integration"]) => update_integration(call, &at).await,
        ("DELETE", ["integration"]) => delete_integration(call, &at).await,
        ("PUT", ["integration", "responses", code]) => {
            put_integration_response(call, &at, code).await
        }
        ("GET", ["integration", "responses", code]) => {
            get_integration_response(call, &at, code).await
        }
        ("PATCH", ["integration", "responses", code]) => {
            update_integration_response(call, &at, code).await
        }
        ("DELETE", ["integration", "responses", code]) => {
            delete_integration_response(call, &at, code).await
        }
        _ => Err(unknown_operation()),
    }
}

/// Which method a call addresses.
struct At<'a> {
    api: &'a str,
    resource: &'a str,
    http_method: &'a str,
}

/// The method `at` names in `record`.
fn method_in<'r>(record: &'r RestApiRecord, at: &At<'_>) -> Result<&'r MethodRecord, ApiError> {
    record
        .resources
        .get(at.resource)
        .ok_or_else(no_such_resource)?
        .methods
        .get(at.http_method)
        .ok_or_else(no_such_method)
}

fn method_in_mut<'r>(
    record: &'r mut RestApiRecord,
    at: &At<'_>,
) -> Result<&'r mut MethodRecord, ApiError> {
    record
        .resources
        .get_mut(at.resource)
        .ok_or_else(no_such_resource)?
        .methods
        .get_mut(at.http_method)
        .ok_or_else(no_such_method)
}

/// The `Method` shape (`methodIntegration` included, as AWS answers).
pub(crate) fn method_json(method: &MethodRecord) -> Value {
    let responses: BTreeMap<&String, Value> = method
        .method_responses
        .iter()
        .map(|(code, response)| (code, method_response_json(response)))
        .collect();
    Shape::new()
        .set("httpMethod", &method.http_method)
        .set("authorizationType", &method.authorization_type)
        .opt("authorizerId", method.authorizer_id.as_ref())
        .opt(
            "authorizationScopes",
            (!method.authorization_scopes.is_empty()).then_some(&method.authorization_scopes),
        )
        .set("apiKeyRequired", method.api_key_required)
        .opt("operationName", method.operation_name.as_ref())
        .opt("requestValidatorId", method.request_validator_id.as_ref())
        .opt(
            "requestParameters",
            (!method.request_parameters.is_empty()).then_some(&method.request_parameters),
        )
        .opt(
            "requestModels",
            (!method.request_models.is_empty()).then_some(&method.request_models),
        )
        .opt(
            "methodResponses",
            (!responses.is_empty()).then_some(responses),
        )
        .opt(
            "methodIntegration",
            method.integration.as_ref().map(integration_json),
        )
        .build()
}

fn method_response_json(response: &MethodResponseRecord) -> Value {
    Shape::new()
        .set("statusCode", &response.status_code)
        .opt("responseParameters", response.response_parameters.as_ref())
        .opt("responseModels", response.response_models.as_ref())
        .build()
}

/// The `Integration` shape.
fn integration_json(integration: &IntegrationRecord) -> Value {
    let responses: BTreeMap<&String, Value> = integration
        .integration_responses
        .iter()
        .map(|(code, response)| (code, integration_response_json(response)))
        .collect();
    let mock = integration.integration_type == "MOCK";
    Shape::new()
        .set("type", &integration.integration_type)
        .opt("httpMethod", integration.http_method.as_ref())
        // A MOCK integration has no backend to name (declared and
        // imported ones may still hold a connection type).
        .opt("uri", integration.uri.as_ref().filter(|_| !mock))
        .opt(
            "connectionType",
            integration.connection_type.as_ref().filter(|_| !mock),
        )
        .opt("credentials", integration.credentials.as_ref())
        .opt(
            "requestParameters",
            (!integration.request_parameters.is_empty()).then_some(&integration.request_parameters),
        )
        .opt(
            "requestTemplates",
            (!integration.request_templates.is_empty()).then_some(&integration.request_templates),
        )
        .opt(
            "passthroughBehavior",
            integration.passthrough_behavior.as_ref(),
        )
        .opt("contentHandling", integration.content_handling.as_ref())
        .set("timeoutInMillis", integration.timeout_ms)
        .opt("cacheNamespace", integration.cache_namespace.as_ref())
        .set("cacheKeyParameters", &integration.cache_key_parameters)
        .opt(
            "integrationResponses",
            (!responses.is_empty()).then_some(responses),
        )
        .build()
}

fn integration_response_json(response: &IntegrationResponseRecord) -> Value {
    Shape::new()
        .set("statusCode", &response.status_code)
        .opt("selectionPattern", response.selection_pattern.as_ref())
        .opt("contentHandling", response.content_handling.as_ref())
        .opt(
            "responseParameters",
            (!response.response_parameters.is_empty() || response.given_empty.response_parameters)
                .then_some(&response.response_parameters),
        )
        .opt(
            "responseTemplates",
            (!response.response_templates.is_empty() || response.given_empty.response_templates)
                .then_some(&response.response_templates),
        )
        .build()
}

/// AWS's validation-error wording for a value outside an enumeration.
fn not_in_enum(member: &str, value: &str, allowed: &[&str]) -> ApiError {
    bad_request(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

/// A `statusCode` label, checked against the input model.
fn check_status_code(code: &str) -> Result<(), ApiError> {
    input_model::status_code(code).map_err(refused)
}

/// An `authorizationType` as API Gateway takes it: any case
/// (`none` is `NONE`), stored in capitals.
fn authorization_type(member: &str, value: &str) -> Result<String, ApiError> {
    let upper = value.to_ascii_uppercase();
    if AUTHORIZATION_TYPES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(not_in_enum(member, value, AUTHORIZATION_TYPES))
    }
}

/// The locations a method request parameter may come from.
const REQUEST_LOCATIONS: &[&str] = &[
    "querystring",
    "multivaluequerystring",
    "header",
    "multivalueheader",
    "path",
];

/// A method's `requestParameters` (`method.request.{location}.{name}`):
/// one name is used once across all locations.
fn check_request_parameters<'a>(
    keys: impl IntoIterator<Item = &'a String>,
) -> Result<(), ApiError> {
    let mut names: Vec<&str> = Vec::new();
    for key in keys {
        let Some(name) = key
            .strip_prefix("method.request.")
            .and_then(|rest| rest.split_once('.'))
            .filter(|(location, name)| REQUEST_LOCATIONS.contains(location) && !name.is_empty())
            .map(|(_, name)| name)
        else {
            continue;
        };
        if names.contains(&name) {
            return Err(bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
        names.push(name);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodInput {
    authorization_type: Option<String>,
    authorizer_id: Option<String>,
    #[serde(default)]
    api_key_required: bool,
    operation_name: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    request_models: BTreeMap<String, String>,
    request_validator_id: Option<String>,
    #[serde(default)]
    authorization_scopes: Vec<String>,
}

/// A method's (or method response's) models must be the API's.
fn check_request_models(
    record: &RestApiRecord,
    models: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    match models.values().find(|name| record.model(name).is_none()) {
        Some(name) => Err(bad_request(format!(
            "Invalid model identifier specified: {name}"
        ))),
        None => Ok(()),
    }
}

/// A method's `requestValidatorId` must name one of the API's validators.
fn check_request_validator(record: &RestApiRecord, id: Option<&str>) -> Result<(), ApiError> {
    match id {
        Some(id) if !record.request_validators.contains_key(id) => Err(bad_request(
            "Invalid Request Validator identifier specified",
        )),
        _ => Ok(()),
    }
}

async fn put_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let input: PutMethodInput = call.body()?;
    // The input model, then the API and resource, then the values.
    let authorization =
        input_model::required("putMethodInput.authorizationType", input.authorization_type)
            .map_err(refused)?;
    let method = change_api(call, at.api, |record| {
        let resource = record
            .resources
            .get(at.resource)
            .ok_or_else(no_such_resource)?;
        if !HTTP_METHODS.contains(&at.http_method) {
            return Err(invalid_http_method());
        }
        check_request_parameters(input.request_parameters.keys())?;
        let authorization = authorization_type("putMethodInput.authorizationType", &authorization)?;
        let method = MethodRecord {
            http_method: at.http_method.to_owned(),
            authorizer_id: input
                .authorizer_id
                .clone()
                .filter(|_| authorization == "CUSTOM" || authorization == "COGNITO_USER_POOLS"),
            authorization_scopes: iamgate_apimodel::authorizers::authorization_scopes(
                &input.authorization_scopes,
            )
            .map_err(|invalid| bad_request(invalid.0))?,
            authorization_type: authorization,
            api_key_required: input.api_key_required,
            operation_name: input.operation_name.clone(),
            request_parameters: input.request_parameters.clone(),
            request_models: input.request_models.clone(),
            request_validator_id: input
                .request_validator_id
                .clone()
                .filter(|id| !id.is_empty()),
            method_responses: BTreeMap::new(),
            integration: None,
        };
        check_method_authorizer(
            record,
            &method.authorization_type,
            method.authorizer_id.as_deref(),
        )?;
        check_request_models(record, &method.request_models)?;
        check_request_validator(record, method.request_validator_id.as_deref())?;
        if resource.methods.contains_key(at.http_method) {
            return Err(conflict("Method already exists for this resource"));
        }
        record
            .resources
            .get_mut(at.resource)
            .ok_or_else(no_such_resource)?
            .methods
            .insert(at.http_method.to_owned(), method.clone());
        Ok(method)
    })
    .await?;
    Ok((201, Some(method_json(&method))))
}

async fn get_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let record = load_api(call, at.api).await?;
    Ok((200, Some(method_json(method_in(&record, at)?))))
}

/// UpdateMethod's paths.
const METHOD_PATCH: Patchable = Patchable {
    input: "updateMethodInput",
    add: &[
        "/requestParameters/{name}",
        "/requestModels/{contentType}",
        "/authorizationScopes",
    ],
    remove: &[
        "/requestParameters/{name}",
        "/requestModels/{contentType}",
        "/authorizationScopes",
    ],
    replace: &[
        "/authorizationType",
        "/authorizerId",
        "/apiKeyRequired",
        "/operationName",
        "/requestParameters/{name}",
        "/requestModels/{contentType}",
        "/requestValidatorId",
    ],
};

async fn update_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let operations = METHOD_PATCH.operations(call)?;
    let method = change_api(call, at.api, |record| {
        let method = method_in_mut(record, at)?;
        for operation in &operations {
            patch_method(method, operation)?;
        }
        if method.authorization_type != "CUSTOM"
            && method.authorization_type != "COGNITO_USER_POOLS"
        {
            method.authorizer_id = None;
        }
        check_request_parameters(method.request_parameters.keys())?;
        let method = method.clone();
        check_request_models(record, &method.request_models)?;
        check_request_validator(record, method.request_validator_id.as_deref())?;
        check_method_authorizer(
            record,
            &method.authorization_type,
            method.authorizer_id.as_deref(),
        )?;
        Ok(method)
    })
    .await?;
    Ok((200, Some(method_json(&method))))
}

fn patch_method(method: &mut MethodRecord, operation: &PatchOperation) -> Result<(), ApiError> {
    let op = operation.op.as_str();
    let value = operation.value.clone();
    let path = operation.path.as_str();
    match (op, path) {
        ("replace", "/authorizationType") => {
            method.authorization_type = authorization_type(
                "updateMethodInput.authorizationType",
                value.as_deref().unwrap_or_default(),
            )?;
        }
        ("replace", "/authorizerId") => {
            // AWS keeps an authorizer only on a method that uses one.
            method.authorizer_id = value.filter(|id| !id.is_empty());
        }
        ("add", "/authorizationScopes") => {
            let scope = value.unwrap_or_default();
            iamgate_apimodel::authorizers::authorization_scopes(std::slice::from_ref(&scope))
                .map_err(|invalid| bad_request(invalid.0))?;
            if !method.authorization_scopes.contains(&scope) {
                method.authorization_scopes.push(scope);
            }
        }
        ("remove", "/authorizationScopes") => {
            let scope = value.unwrap_or_default();
            method.authorization_scopes.retain(|held| *held != scope);
        }
        ("replace", "/apiKeyRequired") => method.api_key_required = patch_bool(operation)?,
        ("replace", "/operationName") => method.operation_name = value,
        ("replace", "/requestValidatorId") => {
            method.request_validator_id = value.filter(|id| !id.is_empty());
        }
        _ => {
            // Removing a member that is not there changes nothing.
            let done = if let Some(key) = patch_key(path, "/requestParameters/") {
                match op {
                    "add" | "replace" => {
                        let required = value.as_deref() == Some("true");
                        method.request_parameters.insert(key, required);
                        true
                    }
                    "remove" => {
                        method.request_parameters.remove(&key);
                        true
                    }
                    _ => false,
                }
            } else if let Some(key) = patch_key(path, "/requestModels/") {
                match op {
                    "remove" => {
                        method.request_models.remove(&key);
                        true
                    }
                    _ => patch_map(&mut method.request_models, op, key, value),
                }
            } else {
                false
            };
            if !done {
                return Err(METHOD_PATCH.refuse(operation));
            }
        }
    }
    Ok(())
}

async fn delete_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    change_api(call, at.api, |record| {
        record
            .resources
            .get_mut(at.resource)
            .ok_or_else(no_such_resource)?
            .methods
            .remove(at.http_method)
            .ok_or_else(no_such_method)
            .map(drop)
    })
    .await?;
    Ok((204, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodResponseInput {
    response_parameters: Option<BTreeMap<String, bool>>,
    response_models: Option<BTreeMap<String, String>>,
}

async fn put_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PutMethodResponseInput = call.body()?;
    check_status_code(code)?;
    let response = MethodResponseRecord {
        status_code: code.to_owned(),
        response_parameters: input.response_parameters,
        response_models: input.response_models,
    };
    change_api(call, at.api, |record| {
        method_in(record, at)?;
        check_method_response(record, &response)?;
        method_in_mut(record, at)?
            .method_responses
            .insert(code.to_owned(), response.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(method_response_json(&response))))
}

fn check_method_response(
    record: &RestApiRecord,
    response: &MethodResponseRecord,
) -> Result<(), ApiError> {
    for key in response.response_parameters.iter().flat_map(BTreeMap::keys) {
        fields::method_response_parameter(key).map_err(refused)?;
    }
    check_request_models(
        record,
        response
            .response_models
            .as_ref()
            .unwrap_or(&BTreeMap::new()),
    )
}

async fn get_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, at.api).await?;
    let response = method_in(&record, at)?
        .method_responses
        .get(code)
        .ok_or_else(no_such_response)?;
    Ok((200, Some(method_response_json(response))))
}

/// UpdateMethodResponse's paths: `/responseParameters/{key}` (the value
/// whether the header is required) and `/responseModels/{content type}`.
const METHOD_RESPONSE_PATCH: Patchable = Patchable {
    input: "updateMethodResponseInput",
    add: &[
        "/responseParameters/{name}",
        "/responseModels/{contentType}",
    ],
    remove: &[
        "/responseParameters/{name}",
        "/responseModels/{contentType}",
    ],
    replace: &[
        "/responseParameters/{name}",
        "/responseModels/{contentType}",
    ],
};

async fn update_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let operations = METHOD_RESPONSE_PATCH.operations(call)?;
    let response = change_api(call, at.api, |record| {
        let response = method_in_mut(record, at)?
            .method_responses
            .get_mut(code)
            .ok_or_else(no_such_response)?;
        for operation in &operations {
            patch_method_response(response, operation)?;
        }
        let response = response.clone();
        check_method_response(record, &response)?;
        method_in_mut(record, at)?
            .method_responses
            .insert(code.to_owned(), response.clone());
        Ok(response)
    })
    .await?;
    Ok((200, Some(method_response_json(&response))))
}

fn patch_method_response(
    response: &mut MethodResponseRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let op = operation.op.as_str();
    let path = operation.path.as_str();
    let done = if let Some(key) = patch_key(path, "/responseParameters/") {
        let required = operation.value.as_deref() == Some("true");
        let map = response.response_parameters.get_or_insert_default();
        match op {
            "add" | "replace" => {
                map.insert(key, required);
                true
            }
            "remove" => map.remove(&key).is_some(),
            _ => false,
        }
    } else if let Some(key) = patch_key(path, "/responseModels/") {
        patch_map(
            response.response_models.get_or_insert_default(),
            op,
            key,
            operation.value.clone(),
        )
    } else {
        false
    };
    if done {
        Ok(())
    } else {
        Err(METHOD_RESPONSE_PATCH.refuse(operation))
    }
}

async fn delete_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    change_api(call, at.api, |record| {
        method_in_mut(record, at)?
            .method_responses
            .remove(code)
            .ok_or_else(no_such_response)
            .map(drop)
    })
    .await?;
    Ok((204, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The integration's own method (`integrationHttpMethod` in the SDKs).
    http_method: Option<String>,
    uri: Option<String>,
    connection_type: Option<String>,
    credentials: Option<String>,
    cache_namespace: Option<String>,
    #[serde(default)]
    cache_key_parameters: Vec<String>,
    content_handling: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    request_templates: BTreeMap<String, Option<String>>,
    passthrough_behavior: Option<String>,
    timeout_in_millis: Option<u64>,
}

/// Templates as given; a `null` template is an empty one (AWS accepts
/// it).
fn given_templates(templates: BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    templates
        .into_iter()
        .map(|(content_type, text)| (content_type, text.unwrap_or_default()))
        .collect()
}

/// Refuses an integration API Gateway would refuse. Types iamgate cannot
/// serve pass here and are refused at deployment.
fn check_integration(integration: &IntegrationRecord) -> Result<(), ApiError> {
    let kind = integration.integration_type.as_str();
    if let Some(connection) = integration.connection_type.as_deref() {
        input_model::CONNECTION_TYPE
            .check("connectionType", connection)
            .map_err(refused)?;
    }
    if let Some(handling) = integration.content_handling.as_deref() {
        input_model::CONTENT_HANDLING_STRATEGY
            .check("contentHandling", handling)
            .map_err(refused)?;
    }
    if kind != "MOCK" {
        let method = integration.http_method.as_deref().unwrap_or("");
        if method.is_empty() {
            return Err(bad_request(
                "Enumeration value for HttpMethod must be non-empty",
            ));
        }
        if !HTTP_METHODS.contains(&method) {
            return Err(invalid_http_method());
        }
        let uri = integration.uri.as_deref().unwrap_or("");
        match kind {
            "HTTP" | "HTTP_PROXY" => {
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    return Err(bad_request("Invalid HTTP endpoint specified for URI"));
                }
            }
            "AWS_PROXY" => {
                // REST APIs take only API Gateway's invocation URI.
                if !fields::lambda_function(uri).is_some_and(|lambda| lambda.via_apigateway) {
                    return Err(bad_request(
                        "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
                    ));
                }
            }
            _ => {
                if !uri.starts_with("arn:") {
                    return Err(bad_request(
                        "AWS ARN for integration must contain path or action",
                    ));
                }
            }
        }
    }
    fields::integration_timeout(ApiFlavour::Rest, integration.timeout_ms).map_err(refused)?;
    if let Some(behavior) = integration.passthrough_behavior.as_deref()
        && Passthrough::parse(behavior).is_none()
    {
        return Err(bad_request(format!(
            "Invalid passthrough behavior specified: {behavior}"
        )));
    }
    if let Some(uri) = integration.uri.as_deref() {
        fields::uri(uri).map_err(refused)?;
    }
    for (key, value) in &integration.request_parameters {
        fields::integration_request_parameter(key, value).map_err(refused)?;
    }
    fields::templates(&integration.request_templates).map_err(refused)?;
    Ok(())
}

async fn put_integration(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let input: PutIntegrationInput = call.body()?;
    // The input model first.
    let kind = input_model::required("putIntegrationInput.type", input.kind).map_err(refused)?;
    input_model::INTEGRATION_TYPE
        .check("putIntegrationInput.type", &kind)
        .map_err(refused)?;
    if let Some(connection) = input.connection_type.as_deref() {
        input_model::CONNECTION_TYPE
            .check("putIntegrationInput.connectionType", connection)
            .map_err(refused)?;
    }
    if let Some(handling) = input.content_handling.as_deref() {
        input_model::CONTENT_HANDLING_STRATEGY
            .check("putIntegrationInput.contentHandling", handling)
            .map_err(refused)?;
    }
    // A MOCK integration has no backend: AWS keeps neither a URI nor a
    // connection type for it; HTTP backends are reached over the internet
    // unless said otherwise.
    let mock = kind == "MOCK";
    let connection_type = match (input.connection_type, kind.as_str()) {
        (_, "MOCK") => None,
        (Some(given), _) => Some(given),
        (None, "HTTP" | "HTTP_PROXY") => Some("INTERNET".to_owned()),
        (None, _) => None,
    };
    let mut integration = IntegrationRecord {
        connection_type,
        credentials: input.credentials,
        cache_namespace: input.cache_namespace,
        cache_key_parameters: input.cache_key_parameters,
        content_handling: input.content_handling,
        integration_type: kind,
        http_method: input.http_method,
        uri: input.uri.filter(|_| !mock),
        timeout_ms: input
            .timeout_in_millis
            .unwrap_or_else(|| fields::default_timeout_ms(ApiFlavour::Rest)),
        passthrough_behavior: Some(
            input
                .passthrough_behavior
                .unwrap_or_else(|| "WHEN_NO_MATCH".to_owned()),
        ),
        request_parameters: input.request_parameters,
        request_templates: given_templates(input.request_templates),
        integration_responses: BTreeMap::new(),
        lambda_endpoint: None,
    };
    // The cache namespace is the resource's id unless given.
    integration
        .cache_namespace
        .get_or_insert_with(|| at.resource.to_owned());
    let integration = change_api(call, at.api, |record| {
        let method = method_in_mut(record, at)?;
        check_integration(&integration)?;
        // A new integration replaces the old one, responses included.
        method.integration = Some(integration.clone());
        Ok(integration.clone())
    })
    .await?;
    Ok((201, Some(integration_json(&integration))))
}

async fn get_integration(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let record = load_api(call, at.api).await?;
    let integration = method_in(&record, at)?
        .integration
        .as_ref()
        .ok_or_else(no_such_integration)?;
    Ok((200, Some(integration_json(integration))))
}

/// UpdateIntegration's paths.
const INTEGRATION_PATCH: Patchable = Patchable {
    input: "updateIntegrationInput",
    add: &[
        "/requestParameters/{name}",
        "/requestTemplates/{contentType}",
        "/cacheKeyParameters/{name}",
    ],
    remove: &[
        "/requestParameters/{name}",
        "/requestTemplates/{contentType}",
        "/cacheKeyParameters/{name}",
        "/credentials",
    ],
    replace: &[
        "/uri",
        "/httpMethod",
        "/connectionType",
        "/credentials",
        "/cacheNamespace",
        "/contentHandling",
        "/passthroughBehavior",
        "/timeoutInMillis",
        "/requestParameters/{name}",
        "/requestTemplates/{contentType}",
    ],
};

async fn update_integration(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let operations = INTEGRATION_PATCH.operations(call)?;
    let integration = change_api(call, at.api, |record| {
        let integration = method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?;
        for operation in &operations {
            patch_integration(integration, operation)?;
        }
        // The result must be an integration PutIntegration would accept.
        check_integration(integration)?;
        Ok(integration.clone())
    })
    .await?;
    Ok((200, Some(integration_json(&integration))))
}

fn patch_integration(
    integration: &mut IntegrationRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let value = operation.value.clone();
    let (op, path) = (operation.op.as_str(), operation.path.as_str());
    let done = match (op, path) {
        ("replace", "/uri") => {
            integration.uri = value;
            true
        }
        ("replace", "/httpMethod") => {
            integration.http_method = value;
            true
        }
        ("replace", "/connectionType") => {
            integration.connection_type = value;
            true
        }
        ("replace", "/credentials") => {
            integration.credentials = value.filter(|c| !c.is_empty());
            true
        }
        ("remove", "/credentials") => {
            integration.credentials = None;
            true
        }
        ("replace", "/cacheNamespace") => {
            integration.cache_namespace = value;
            true
        }
        ("replace", "/contentHandling") => {
            integration.content_handling = value.filter(|v| !v.is_empty());
            true
        }
        ("replace", "/passthroughBehavior") => {
            integration.passthrough_behavior = value;
            true
        }
        ("replace", "/timeoutInMillis") => {
            integration.timeout_ms = value
                .as_deref()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad_request("Invalid timeout specified"))?;
            true
        }
        _ => {
            if let Some(key) = patch_key(path, "/requestTemplates/") {
                patch_map(&mut integration.request_templates, op, key, value)
            } else if let Some(key) = patch_key(path, "/requestParameters/") {
                patch_map(&mut integration.request_parameters, op, key, value)
            } else if let Some(key) = patch_key(path, "/cacheKeyParameters/") {
                let keys = &mut integration.cache_key_parameters;
                match op {
                    "add" => {
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                        true
                    }
                    "remove" => {
                        keys.retain(|k| *k != key);
                        true
                    }
                    _ => false,
                }
            } else {
                false
            }
        }
    };
    if done {
        Ok(())
    } else {
        Err(INTEGRATION_PATCH.refuse(operation))
    }
}

/// `add`/`replace` set a member, `remove` deletes one that exists;
/// `false` for another op or a missing member.
pub(crate) fn patch_map(
    map: &mut BTreeMap<String, String>,
    op: &str,
    key: String,
    value: Option<String>,
) -> bool {
    match op {
        "add" | "replace" => {
            map.insert(key, value.unwrap_or_default());
            true
        }
        "remove" => map.remove(&key).is_some(),
        _ => false,
    }
}

async fn delete_integration(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    change_api(call, at.api, |record| {
        method_in_mut(record, at)?
            .integration
            .take()
            .ok_or_else(no_such_integration)
            .map(drop)
    })
    .await?;
    Ok((204, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationResponseInput {
    selection_pattern: Option<String>,
    content_handling: Option<String>,
    response_parameters: Option<BTreeMap<String, String>>,
    response_templates: Option<BTreeMap<String, Option<String>>>,
}

/// Refuses an integration response API Gateway would refuse. A header
/// value that no HTTP response may carry would break every later call of
/// the method: refused here, where it would be stored.
fn check_integration_response(response: &IntegrationResponseRecord) -> Result<(), ApiError> {
    if let Some(handling) = response.content_handling.as_deref() {
        input_model::CONTENT_HANDLING_STRATEGY
            .check("contentHandling", handling)
            .map_err(refused)?;
    }
    for (key, value) in &response.response_parameters {
        fields::integration_response_parameter(key, value).map_err(refused)?;
    }
    fields::templates(&response.response_templates).map_err(refused)?;
    if let Some(pattern) = response.selection_pattern.as_deref() {
        fields::selection_pattern(pattern).map_err(refused)?;
    }
    Ok(())
}

async fn put_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PutIntegrationResponseInput = call.body()?;
    check_status_code(code)?;
    if let Some(handling) = input.content_handling.as_deref() {
        input_model::CONTENT_HANDLING_STRATEGY
            .check("putIntegrationResponseInput.contentHandling", handling)
            .map_err(refused)?;
    }
    let given_empty = GivenEmpty {
        response_parameters: input
            .response_parameters
            .as_ref()
            .is_some_and(BTreeMap::is_empty),
        response_templates: input
            .response_templates
            .as_ref()
            .is_some_and(BTreeMap::is_empty),
    };
    let response = IntegrationResponseRecord {
        status_code: code.to_owned(),
        content_handling: input.content_handling,
        selection_pattern: input.selection_pattern,
        response_parameters: input.response_parameters.unwrap_or_default(),
        response_templates: given_templates(input.response_templates.unwrap_or_default()),
        given_empty,
    };
    change_api(call, at.api, |record| {
        let integration = method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?;
        check_integration_response(&response)?;
        integration
            .integration_responses
            .insert(code.to_owned(), response.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(integration_response_json(&response))))
}

async fn get_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, at.api).await?;
    let response = method_in(&record, at)?
        .integration
        .as_ref()
        .ok_or_else(no_such_integration)?
        .integration_responses
        .get(code)
        .ok_or_else(no_such_response)?;
    Ok((200, Some(integration_response_json(response))))
}

/// UpdateIntegrationResponse's paths.
const INTEGRATION_RESPONSE_PATCH: Patchable = Patchable {
    input: "updateIntegrationResponseInput",
    add: &[
        "/selectionPattern",
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
    remove: &[
        "/selectionPattern",
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
    replace: &[
        "/selectionPattern",
        "/contentHandling",
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
};

async fn update_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let operations = INTEGRATION_RESPONSE_PATCH.operations(call)?;
    let response = change_api(call, at.api, |record| {
        let response = method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?
            .integration_responses
            .get_mut(code)
            .ok_or_else(no_such_response)?;
        for operation in &operations {
            patch_integration_response(response, operation)?;
        }
        // The result must be one PutIntegrationResponse would accept; a
        // refusal leaves the stored API as it was.
        check_integration_response(response)?;
        Ok(response.clone())
    })
    .await?;
    Ok((200, Some(integration_response_json(&response))))
}

fn patch_integration_response(
    response: &mut IntegrationResponseRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let op = operation.op.as_str();
    let path = operation.path.as_str();
    let value = operation.value.clone();
    let done = match (op, path) {
        ("replace" | "add", "/selectionPattern") => {
            response.selection_pattern = value;
            true
        }
        ("remove", "/selectionPattern") => {
            response.selection_pattern = None;
            true
        }
        ("replace", "/contentHandling") => {
            response.content_handling = value.filter(|v| !v.is_empty());
            true
        }
        _ => {
            if let Some(key) = patch_key(path, "/responseTemplates/") {
                patch_map(&mut response.response_templates, op, key, value)
            } else if let Some(key) = patch_key(path, "/responseParameters/") {
                patch_map(&mut response.response_parameters, op, key, value)
            } else {
                false
            }
        }
    };
    if done {
        Ok(())
    } else {
        Err(INTEGRATION_RESPONSE_PATCH.refuse(operation))
    }
}

async fn delete_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    change_api(call, at.api, |record| {
        method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?
            .integration_responses
            .remove(code)
            .ok_or_else(no_such_response)
            .map(drop)
    })
    .await?;
    Ok((204, None))
}
