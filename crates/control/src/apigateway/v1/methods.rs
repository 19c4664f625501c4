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
use iamgate_apimodel::mapping::Passthrough;
use iamgate_apimodel::model::ApiFlavour;
use iamgate_apimodel::stored::{
    IntegrationRecord, IntegrationResponseRecord, MethodRecord, MethodResponseRecord, RestApiRecord,
};
use serde::Deserialize;
use serde_json::Value;

use super::authorizers::check_method_authorizer;
use super::resources::no_such_resource;
use super::{
    PatchInput, PatchOperation, bad_request, change_api, conflict, invalid_patch, load_api,
    not_found, patch_bool, patch_key,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, refused, unknown_operation};

const HTTP_METHODS: &[&str] = fields::METHODS;
const AUTHORIZATION_TYPES: &[&str] = &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"];
const INTEGRATION_TYPES: &[&str] = &["HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY"];

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
        .opt(
            "requestParameters",
            (!method.request_parameters.is_empty()).then_some(&method.request_parameters),
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
        .opt(
            "responseParameters",
            (!response.response_parameters.is_empty()).then_some(&response.response_parameters),
        )
        .opt(
            "responseModels",
            (!response.response_models.is_empty()).then_some(&response.response_models),
        )
        .build()
}

/// The `Integration` shape.
fn integration_json(integration: &IntegrationRecord) -> Value {
    let responses: BTreeMap<&String, Value> = integration
        .integration_responses
        .iter()
        .map(|(code, response)| (code, integration_response_json(response)))
        .collect();
    Shape::new()
        .set("type", &integration.integration_type)
        .opt("httpMethod", integration.http_method.as_ref())
        .opt("uri", integration.uri.as_ref())
        .opt("connectionType", integration.connection_type.as_ref())
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
        .set("timeoutInMillis", integration.timeout_ms)
        .set("cacheKeyParameters", Vec::<String>::new())
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
        .opt(
            "responseParameters",
            (!response.response_parameters.is_empty()).then_some(&response.response_parameters),
        )
        .opt(
            "responseTemplates",
            (!response.response_templates.is_empty()).then_some(&response.response_templates),
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

fn check_status_code(code: &str) -> Result<(), ApiError> {
    if fields::is_status_code(code) {
        Ok(())
    } else {
        Err(bad_request("Invalid response status code specified"))
    }
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
    authorization_scopes: Vec<String>,
}

async fn put_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let input: PutMethodInput = call.body()?;
    if !HTTP_METHODS.contains(&at.http_method) {
        return Err(bad_request(format!(
            "Invalid HttpMethod specified. Valid options are {}",
            HTTP_METHODS.join(",")
        )));
    }
    let authorization = input
        .authorization_type
        .ok_or_else(|| bad_request("Authorization type must be specified"))?;
    if !AUTHORIZATION_TYPES.contains(&authorization.as_str()) {
        return Err(not_in_enum(
            "putMethodInput.authorizationType",
            &authorization,
            AUTHORIZATION_TYPES,
        ));
    }
    let method = MethodRecord {
        http_method: at.http_method.to_owned(),
        authorizer_id: input
            .authorizer_id
            .filter(|_| authorization == "CUSTOM" || authorization == "COGNITO_USER_POOLS"),
        authorization_scopes: iamgate_apimodel::authorizers::authorization_scopes(
            &input.authorization_scopes,
        )
        .map_err(|invalid| bad_request(invalid.0))?,
        authorization_type: authorization,
        api_key_required: input.api_key_required,
        operation_name: input.operation_name,
        request_parameters: input.request_parameters,
        method_responses: BTreeMap::new(),
        integration: None,
    };
    change_api(call, at.api, |record| {
        check_method_authorizer(
            record,
            &method.authorization_type,
            method.authorizer_id.as_deref(),
        )?;
        let resource = record
            .resources
            .get_mut(at.resource)
            .ok_or_else(no_such_resource)?;
        if resource.methods.contains_key(at.http_method) {
            return Err(conflict("Method already exists for this resource"));
        }
        resource
            .methods
            .insert(at.http_method.to_owned(), method.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(method_json(&method))))
}

async fn get_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let record = load_api(call, at.api).await?;
    Ok((200, Some(method_json(method_in(&record, at)?))))
}

async fn update_method(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let method = change_api(call, at.api, |record| {
        let method = method_in_mut(record, at)?;
        for operation in &input.patch_operations {
            patch_method(method, operation)?;
        }
        if method.authorization_type != "CUSTOM"
            && method.authorization_type != "COGNITO_USER_POOLS"
        {
            method.authorizer_id = None;
        }
        let method = method.clone();
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
    match (op, operation.path.as_str()) {
        ("replace", "/authorizationType") => {
            let kind = value.unwrap_or_default();
            if !AUTHORIZATION_TYPES.contains(&kind.as_str()) {
                return Err(not_in_enum(
                    "updateMethodInput.authorizationType",
                    &kind,
                    AUTHORIZATION_TYPES,
                ));
            }
            method.authorization_type = kind;
        }
        ("replace", "/authorizerId") => method.authorizer_id = value,
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
        ("add" | "replace", path) if path.starts_with("/requestParameters/") => {
            let key =
                patch_key(path, "/requestParameters/").ok_or_else(|| invalid_patch(operation))?;
            let required = value.as_deref() == Some("true");
            method.request_parameters.insert(key, required);
        }
        ("remove", path) if path.starts_with("/requestParameters/") => {
            let key =
                patch_key(path, "/requestParameters/").ok_or_else(|| invalid_patch(operation))?;
            method
                .request_parameters
                .remove(&key)
                .ok_or_else(|| invalid_patch(operation))?;
        }
        _ => return Err(invalid_patch(operation)),
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
    #[serde(default)]
    response_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    response_models: BTreeMap<String, String>,
}

async fn put_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PutMethodResponseInput = call.body()?;
    check_status_code(code)?;
    for key in input.response_parameters.keys() {
        fields::method_response_parameter(key).map_err(refused)?;
    }
    let response = MethodResponseRecord {
        status_code: code.to_owned(),
        response_parameters: input.response_parameters,
        response_models: input.response_models,
    };
    change_api(call, at.api, |record| {
        method_in_mut(record, at)?
            .method_responses
            .insert(code.to_owned(), response.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(method_response_json(&response))))
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

async fn update_method_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let response = change_api(call, at.api, |record| {
        let response = method_in_mut(record, at)?
            .method_responses
            .get_mut(code)
            .ok_or_else(no_such_response)?;
        for operation in &input.patch_operations {
            patch_method_response(response, operation)?;
        }
        Ok(response.clone())
    })
    .await?;
    Ok((200, Some(method_response_json(&response))))
}

/// UpdateMethodResponse's paths: `/responseParameters/{key}` (the value
/// whether the header is required) and `/responseModels/{content type}`.
fn patch_method_response(
    response: &mut MethodResponseRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let op = operation.op.as_str();
    let path = operation.path.as_str();
    if let Some(key) = patch_key(path, "/responseParameters/") {
        match op {
            "add" | "replace" => {
                fields::method_response_parameter(&key).map_err(refused)?;
                let required = operation.value.as_deref() == Some("true");
                response.response_parameters.insert(key, required);
            }
            "remove" => {
                response
                    .response_parameters
                    .remove(&key)
                    .ok_or_else(|| invalid_patch(operation))?;
            }
            _ => return Err(invalid_patch(operation)),
        }
        return Ok(());
    }
    if let Some(key) = patch_key(path, "/responseModels/") {
        return patch_map(
            &mut response.response_models,
            op,
            key,
            operation.value.clone(),
            operation,
        );
    }
    Err(invalid_patch(operation))
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
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    #[serde(default)]
    request_templates: BTreeMap<String, String>,
    passthrough_behavior: Option<String>,
    timeout_in_millis: Option<u64>,
}

/// Refuses an integration API Gateway would refuse. Types iamgate cannot
/// serve pass here and are refused at deployment.
fn check_integration(integration: &IntegrationRecord) -> Result<(), ApiError> {
    let kind = integration.integration_type.as_str();
    if !INTEGRATION_TYPES.contains(&kind) {
        return Err(not_in_enum(
            "putIntegrationInput.type",
            kind,
            INTEGRATION_TYPES,
        ));
    }
    if kind != "MOCK" {
        let method = integration.http_method.as_deref().unwrap_or("");
        if method.is_empty() {
            return Err(bad_request(
                "Enumeration value for HttpMethod must be non-empty",
            ));
        }
        if !HTTP_METHODS.contains(&method) {
            return Err(bad_request(format!(
                "Invalid HttpMethod specified. Valid options are {}",
                HTTP_METHODS.join(",")
            )));
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
    let kind = input
        .kind
        .ok_or_else(|| bad_request("Integration type must be specified"))?;
    let integration = IntegrationRecord {
        connection_type: Some(
            input
                .connection_type
                .unwrap_or_else(|| "INTERNET".to_owned()),
        ),
        integration_type: kind,
        http_method: input.http_method,
        uri: input.uri,
        timeout_ms: input
            .timeout_in_millis
            .unwrap_or_else(|| fields::default_timeout_ms(ApiFlavour::Rest)),
        passthrough_behavior: Some(
            input
                .passthrough_behavior
                .unwrap_or_else(|| "WHEN_NO_MATCH".to_owned()),
        ),
        request_parameters: input.request_parameters,
        request_templates: input.request_templates,
        integration_responses: BTreeMap::new(),
        lambda_endpoint: None,
    };
    check_integration(&integration)?;
    change_api(call, at.api, |record| {
        // A new integration replaces the old one, responses included.
        method_in_mut(record, at)?.integration = Some(integration.clone());
        Ok(())
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

async fn update_integration(call: &Call<'_>, at: &At<'_>) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let integration = change_api(call, at.api, |record| {
        let integration = method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?;
        for operation in &input.patch_operations {
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
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/uri") => integration.uri = value,
        ("replace", "/httpMethod") => integration.http_method = value,
        ("replace", "/connectionType") => integration.connection_type = value,
        ("replace", "/passthroughBehavior") => integration.passthrough_behavior = value,
        ("replace", "/timeoutInMillis") => {
            integration.timeout_ms = value
                .as_deref()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad_request("Invalid timeout specified"))?;
        }
        (op, path) if path.starts_with("/requestTemplates/") => {
            let key =
                patch_key(path, "/requestTemplates/").ok_or_else(|| invalid_patch(operation))?;
            patch_map(
                &mut integration.request_templates,
                op,
                key,
                value,
                operation,
            )?;
        }
        (op, path) if path.starts_with("/requestParameters/") => {
            let key =
                patch_key(path, "/requestParameters/").ok_or_else(|| invalid_patch(operation))?;
            patch_map(
                &mut integration.request_parameters,
                op,
                key,
                value,
                operation,
            )?;
        }
        _ => return Err(invalid_patch(operation)),
    }
    Ok(())
}

/// `add`/`replace` set a member, `remove` deletes one that exists.
pub(crate) fn patch_map(
    map: &mut BTreeMap<String, String>,
    op: &str,
    key: String,
    value: Option<String>,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    match op {
        "add" | "replace" => {
            map.insert(key, value.unwrap_or_default());
        }
        "remove" => {
            map.remove(&key).ok_or_else(|| invalid_patch(operation))?;
        }
        _ => return Err(invalid_patch(operation)),
    }
    Ok(())
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
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

async fn put_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PutIntegrationResponseInput = call.body()?;
    check_status_code(code)?;
    // A header value that no HTTP response may carry would break every
    // later call of the method: refused here, where it would be stored.
    for (key, value) in &input.response_parameters {
        fields::integration_response_parameter(key, value).map_err(refused)?;
    }
    fields::templates(&input.response_templates).map_err(refused)?;
    if let Some(pattern) = input.selection_pattern.as_deref() {
        fields::selection_pattern(pattern).map_err(refused)?;
    }
    let response = IntegrationResponseRecord {
        status_code: code.to_owned(),
        selection_pattern: input.selection_pattern,
        response_parameters: input.response_parameters,
        response_templates: input.response_templates,
    };
    change_api(call, at.api, |record| {
        method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?
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

async fn update_integration_response(call: &Call<'_>, at: &At<'_>, code: &str) -> Reply {
    call.authorize()?;
    let input: PatchInput = call.body()?;
    let response = change_api(call, at.api, |record| {
        let response = method_in_mut(record, at)?
            .integration
            .as_mut()
            .ok_or_else(no_such_integration)?
            .integration_responses
            .get_mut(code)
            .ok_or_else(no_such_response)?;
        for operation in &input.patch_operations {
            patch_integration_response(response, operation)?;
        }
        // The result must be one PutIntegrationResponse would accept; a
        // refusal leaves the stored API as it was.
        for (key, value) in &response.response_parameters {
            fields::integration_response_parameter(key, value).map_err(refused)?;
        }
        fields::templates(&response.response_templates).map_err(refused)?;
        if let Some(pattern) = response.selection_pattern.as_deref() {
            fields::selection_pattern(pattern).map_err(refused)?;
        }
        Ok(response.clone())
    })
    .await?;
    Ok((200, Some(integration_response_json(&response))))
}

/// UpdateIntegrationResponse's paths: `/selectionPattern`,
/// `/responseTemplates/{content type}` and `/responseParameters/{key}`.
fn patch_integration_response(
    response: &mut IntegrationResponseRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let op = operation.op.as_str();
    let path = operation.path.as_str();
    let value = operation.value.clone();
    match (op, path) {
        ("replace" | "add", "/selectionPattern") => response.selection_pattern = value,
        ("remove", "/selectionPattern") => response.selection_pattern = None,
        _ => {
            if let Some(key) = patch_key(path, "/responseTemplates/") {
                patch_map(&mut response.response_templates, op, key, value, operation)?;
            } else if let Some(key) = patch_key(path, "/responseParameters/") {
                patch_map(&mut response.response_parameters, op, key, value, operation)?;
            } else {
                return Err(invalid_patch(operation));
            }
        }
    }
    Ok(())
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
