//! REST API authorizers (`/restapis/{id}/authorizers[/{authorizer_id}]`):
//! CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer,
//! DeleteAuthorizer.
//!
//! Every create and update builds the authorizer again through the one
//! constructor ([`LambdaAuthorizer::new`]), so a patch cannot leave behind
//! an authorizer the world file or an OpenAPI import would refuse. The
//! `Authorizer` shape is the service model's
//! (`testdata/aws-models/apigateway`).

use iamgate_apimodel::authorizers::{AuthorizerInput, LambdaAuthorizer};
use iamgate_apimodel::model::ApiFlavour;
use iamgate_apimodel::stored::RestApiRecord;
use serde::Deserialize;
use serde_json::Value;

use super::{
    PatchOperation, Patchable, bad_request, change_api, list_json, load_api, not_found, paginate,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, refused, unknown_operation};

/// AWS's answer for an authorizer id the API does not have.
pub(crate) fn no_such_authorizer() -> ApiError {
    not_found("Invalid Authorizer identifier specified")
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, api: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("POST", []) => create(call, api).await,
        ("GET", []) => list(call, api).await,
        ("GET", [id]) => get(call, api, id).await,
        ("POST", [id]) => super::test_invoke::authorizer(call, api, id).await,
        ("PATCH", [id]) => update(call, api, id).await,
        ("DELETE", [id]) => delete(call, api, id).await,
        _ => Err(unknown_operation()),
    }
}

/// The `Authorizer` shape.
pub(crate) fn authorizer_json(authorizer: &LambdaAuthorizer) -> Value {
    let input = authorizer.input(ApiFlavour::Rest);
    Shape::new()
        .set("id", &authorizer.id)
        .set("name", &authorizer.name)
        .set("type", authorizer.kind.as_str())
        .set(
            "authType",
            if authorizer.kind.validates_tokens() {
                "cognito_user_pools"
            } else {
                "custom"
            },
        )
        .opt(
            "authorizerUri",
            (!authorizer.uri.is_empty()).then_some(&authorizer.uri),
        )
        .opt(
            "providerARNs",
            (!input.provider_arns.is_empty()).then_some(&input.provider_arns),
        )
        .opt("authorizerCredentials", authorizer.credentials.as_ref())
        .opt("identitySource", input.identity_sources.first())
        .opt(
            "identityValidationExpression",
            authorizer.validation_expression.as_ref(),
        )
        .set("authorizerResultTtlInSeconds", authorizer.ttl_seconds)
        .build()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    authorizer_uri: Option<String>,
    authorizer_credentials: Option<String>,
    identity_source: Option<String>,
    identity_validation_expression: Option<String>,
    authorizer_result_ttl_in_seconds: Option<i64>,
    #[serde(rename = "providerARNs", default)]
    provider_arns: Vec<String>,
}

async fn create(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let input: CreateInput = call.body()?;
    let id = call.new_id(6)?;
    let authorizer = LambdaAuthorizer::new(
        ApiFlavour::Rest,
        AuthorizerInput {
            id: id.clone(),
            name: input.name,
            kind: input.kind,
            uri: input.authorizer_uri,
            endpoint: None,
            credentials: input.authorizer_credentials,
            identity_sources: input.identity_source.into_iter().collect(),
            validation_expression: input.identity_validation_expression,
            ttl_seconds: input.authorizer_result_ttl_in_seconds,
            payload_format_version: None,
            simple_responses: None,
            provider_arns: input.provider_arns,
            issuer: None,
            audience: Vec::new(),
            jwks_url: None,
        },
    )
    .map_err(refused)?;
    change_api(call, api, |record| {
        if record
            .authorizers
            .values()
            .any(|a| a.name == authorizer.name)
        {
            return Err(bad_request(format!(
                "Authorizer name must be unique. Authorizer {} already exists in this RestApi.",
                authorizer.name
            )));
        }
        record.authorizers.insert(id.clone(), authorizer.clone());
        Ok(())
    })
    .await?;
    Ok((201, Some(authorizer_json(&authorizer))))
}

async fn get(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let authorizer = record.authorizers.get(id).ok_or_else(no_such_authorizer)?;
    Ok((200, Some(authorizer_json(authorizer))))
}

async fn list(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let all: Vec<&LambdaAuthorizer> = record.authorizers.values().collect();
    let (page, position) = paginate(call, &all, |a| a.id.as_str())?;
    let items = page.iter().map(|a| authorizer_json(a)).collect();
    Ok((200, Some(list_json(items, position))))
}

/// UpdateAuthorizer's paths.
const AUTHORIZER_PATCH: Patchable = Patchable {
    input: "updateAuthorizerInput",
    add: &[],
    remove: &[],
    replace: &[
        "/name",
        "/type",
        "/authorizerUri",
        "/authorizerCredentials",
        "/identitySource",
        "/identityValidationExpression",
        "/providerARNs",
        "/authorizerResultTtlInSeconds",
    ],
};

async fn update(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let operations = AUTHORIZER_PATCH.operations(call)?;
    let updated = change_api(call, api, |record| {
        let current = record.authorizers.get(id).ok_or_else(no_such_authorizer)?;
        let mut input = current.input(ApiFlavour::Rest);
        for operation in &operations {
            apply_patch(&mut input, operation)?;
        }
        let updated = LambdaAuthorizer::new(ApiFlavour::Rest, input).map_err(refused)?;
        record.authorizers.insert(id.to_owned(), updated.clone());
        Ok(updated)
    })
    .await?;
    Ok((200, Some(authorizer_json(&updated))))
}

fn apply_patch(input: &mut AuthorizerInput, operation: &PatchOperation) -> Result<(), ApiError> {
    if operation.op != "replace" {
        return Err(AUTHORIZER_PATCH.refuse(operation));
    }
    let value = operation.value.clone();
    match operation.path.as_str() {
        "/name" => input.name = value,
        "/type" => input.kind = value,
        "/authorizerUri" => input.uri = value,
        "/authorizerCredentials" => input.credentials = value,
        "/identitySource" => input.identity_sources = value.into_iter().collect(),
        "/identityValidationExpression" => input.validation_expression = value,
        "/providerARNs" => {
            input.provider_arns = value
                .map(|arns| arns.split(',').map(|arn| arn.trim().to_owned()).collect())
                .unwrap_or_default();
        }
        "/authorizerResultTtlInSeconds" => {
            let ttl = value
                .as_deref()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| {
                    bad_request("Invalid value for authorizerResultTtlInSeconds: expected a number")
                })?;
            input.ttl_seconds = Some(ttl);
        }
        _ => return Err(AUTHORIZER_PATCH.refuse(operation)),
    }
    Ok(())
}

async fn delete(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        let authorizer = record.authorizers.get(id).ok_or_else(no_such_authorizer)?;
        if let Some(user) = user_of(record, id) {
            return Err(bad_request(format!(
                "Cannot delete authorizer '{}', is referenced in method: {user}",
                authorizer.name
            )));
        }
        record.authorizers.remove(id);
        Ok(())
    })
    .await?;
    Ok((202, None))
}

/// `GET:/pets`: the first method that uses authorizer `id`.
fn user_of(record: &RestApiRecord, id: &str) -> Option<String> {
    record.resources.values().find_map(|resource| {
        resource
            .methods
            .values()
            .find(|m| m.authorizer_id.as_deref() == Some(id))
            .map(|m| format!("{}:{}", m.http_method, resource.path))
    })
}

/// A method's `authorizerId`: required by `CUSTOM`, and it must name one
/// of the API's authorizers.
pub(crate) fn check_method_authorizer(
    record: &RestApiRecord,
    authorization_type: &str,
    authorizer_id: Option<&str>,
) -> Result<(), ApiError> {
    let wants_tokens = match authorization_type {
        "CUSTOM" => false,
        "COGNITO_USER_POOLS" => true,
        _ => return Ok(()),
    };
    match authorizer_id.and_then(|id| record.authorizers.get(id)) {
        Some(authorizer) if authorizer.kind.validates_tokens() == wants_tokens => Ok(()),
        _ => Err(bad_request(
            "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
        )),
    }
}
