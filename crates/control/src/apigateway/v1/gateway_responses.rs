//! Gateway responses (`/restapis/{id}/gatewayresponses[/{response_type}]`):
//! PutGatewayResponse, GetGatewayResponse, GetGatewayResponses,
//! UpdateGatewayResponse and DeleteGatewayResponse.
//!
//! The API keeps only its customizations
//! (`iamgate_apimodel::gateway_responses`); a type nobody customized is
//! answered as AWS's default (`defaultResponse: true`), so GetGatewayResponses
//! lists every type, as on AWS. Every write goes through
//! `CustomGatewayResponse::new`, and a refused value leaves the stored API
//! as it was. Changes reach callers with the next deployment.

use std::collections::BTreeMap;

use iamgate_apimodel::gateway_responses::{
    CustomGatewayResponse, DEFAULT_CONTENT_TYPE, DEFAULT_TEMPLATE, ResponseType,
};
use serde::Deserialize;
use serde_json::Value;

use super::methods::patch_map;
use super::refused;
use super::{PatchOperation, Patchable, change_api, list_json, load_api, not_found, patch_key};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

pub(super) async fn dispatch(call: &Call<'_>, method: &str, api: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("GET", []) => get_gateway_responses(call, api).await,
        ("PUT", [kind]) => put_gateway_response(call, api, kind).await,
        ("GET", [kind]) => get_gateway_response(call, api, kind).await,
        ("PATCH", [kind]) => update_gateway_response(call, api, kind).await,
        ("DELETE", [kind]) => delete_gateway_response(call, api, kind).await,
        _ => Err(unknown_operation()),
    }
}

/// A type's answer: its customization, or AWS's default.
fn response_json(kind: ResponseType, custom: Option<&CustomGatewayResponse>) -> Value {
    let shape = Shape::new().set("responseType", kind.name());
    match custom {
        Some(custom) => shape
            .opt(
                "statusCode",
                custom
                    .status_code
                    .or(kind.default_status())
                    .map(|s| s.to_string()),
            )
            .set("responseParameters", &custom.response_parameters)
            .set("responseTemplates", custom.template_texts())
            .set("defaultResponse", false)
            .build(),
        None => shape
            .opt("statusCode", kind.default_status().map(|s| s.to_string()))
            .set("responseParameters", BTreeMap::<String, String>::new())
            .set(
                "responseTemplates",
                BTreeMap::from([(DEFAULT_CONTENT_TYPE, DEFAULT_TEMPLATE)]),
            )
            .set("defaultResponse", true)
            .build(),
    }
}

fn response_type(name: &str) -> Result<ResponseType, ApiError> {
    ResponseType::parse(name).map_err(refused)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutInput {
    status_code: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

async fn put_gateway_response(call: &Call<'_>, api: &str, kind: &str) -> Reply {
    call.authorize()?;
    // The API before the values: an unknown API is reported first.
    load_api(call, api).await?;
    let input: PutInput = call.body()?;
    let custom = CustomGatewayResponse::new(
        kind,
        input.status_code.as_deref(),
        input.response_parameters,
        &input.response_templates,
    )
    .map_err(refused)?;
    let stored = change_api(call, api, |record| {
        record
            .gateway_responses
            .insert(custom.response_type, custom.clone());
        Ok(custom.clone())
    })
    .await?;
    Ok((
        201,
        Some(response_json(stored.response_type, Some(&stored))),
    ))
}

async fn get_gateway_response(call: &Call<'_>, api: &str, kind: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let kind = response_type(kind)?;
    Ok((
        200,
        Some(response_json(kind, record.gateway_responses.get(&kind))),
    ))
}

async fn get_gateway_responses(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    // No pagination: the whole collection, `limit` and `position` aside
    // (service model, GetGatewayResponsesRequest).
    let items = ResponseType::ALL
        .into_iter()
        .map(|kind| response_json(kind, record.gateway_responses.get(&kind)))
        .collect();
    Ok((200, Some(list_json(items, None))))
}

/// UpdateGatewayResponse's paths (API reference, "Patch operations":
/// GatewayResponse): `/statusCode` (replace), and `/responseParameters/{key}`
/// and `/responseTemplates/{content type}` (add, replace, remove).
const GATEWAY_RESPONSE_PATCH: Patchable = Patchable {
    input: "updateGatewayResponseInput",
    add: &[
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
    remove: &[
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
    replace: &[
        "/statusCode",
        "/responseParameters/{name}",
        "/responseTemplates/{contentType}",
    ],
};

/// A type not yet customized starts from its default.
fn apply_patch(
    kind: ResponseType,
    current: Option<&CustomGatewayResponse>,
    operations: &[PatchOperation],
) -> Result<CustomGatewayResponse, ApiError> {
    let mut status = current.and_then(|c| c.status_code).map(|s| s.to_string());
    let mut parameters = current
        .map(|c| c.response_parameters.clone())
        .unwrap_or_default();
    let mut templates = current.map_or_else(
        || BTreeMap::from([(DEFAULT_CONTENT_TYPE.to_owned(), DEFAULT_TEMPLATE.to_owned())]),
        CustomGatewayResponse::template_texts,
    );
    for operation in operations {
        let path = operation.path.as_str();
        let op = operation.op.as_str();
        if path == "/statusCode" && op == "replace" {
            status.clone_from(&operation.value);
        } else if let Some(key) = patch_key(path, "/responseParameters/") {
            if !patch_map(&mut parameters, op, key, operation.value.clone()) {
                return Err(GATEWAY_RESPONSE_PATCH.refuse(operation));
            }
        } else if let Some(key) = patch_key(path, "/responseTemplates/") {
            if !patch_map(&mut templates, op, key, operation.value.clone()) {
                return Err(GATEWAY_RESPONSE_PATCH.refuse(operation));
            }
        } else {
            return Err(GATEWAY_RESPONSE_PATCH.refuse(operation));
        }
    }
    CustomGatewayResponse::new(kind.name(), status.as_deref(), parameters, &templates)
        .map_err(refused)
}

async fn update_gateway_response(call: &Call<'_>, api: &str, kind: &str) -> Reply {
    call.authorize()?;
    load_api(call, api).await?;
    let kind = response_type(kind)?;
    let operations = GATEWAY_RESPONSE_PATCH.operations(call)?;
    let stored = change_api(call, api, |record| {
        let updated = apply_patch(kind, record.gateway_responses.get(&kind), &operations)?;
        record.gateway_responses.insert(kind, updated.clone());
        Ok(updated)
    })
    .await?;
    Ok((200, Some(response_json(kind, Some(&stored)))))
}

async fn delete_gateway_response(call: &Call<'_>, api: &str, kind: &str) -> Reply {
    call.authorize()?;
    load_api(call, api).await?;
    let kind = response_type(kind)?;
    change_api(call, api, |record| {
        record
            .gateway_responses
            .remove(&kind)
            .map(drop)
            .ok_or_else(|| not_found("Invalid Gateway Response specified"))
    })
    .await?;
    Ok((202, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation {
            op: op.into(),
            path: path.into(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn a_default_response_lists_aws_default_template_and_status() {
        let json = response_json(ResponseType::AccessDenied, None);
        assert_eq!(
            json,
            serde_json::json!({
                "responseType": "ACCESS_DENIED",
                "statusCode": "403",
                "responseParameters": {},
                "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"},
                "defaultResponse": true
            })
        );
        let catch_all = response_json(ResponseType::Default4xx, None);
        assert!(catch_all.get("statusCode").is_none());
    }

    #[test]
    fn patching_an_uncustomized_type_starts_from_its_default() {
        let patched = apply_patch(
            ResponseType::MissingAuthenticationToken,
            None,
            &[
                op("replace", "/statusCode", Some("404")),
                op(
                    "add",
                    "/responseParameters/gatewayresponse.header.X-Why",
                    Some("'gone'"),
                ),
            ],
        )
        .unwrap();
        assert_eq!(patched.status_code, Some(404));
        assert_eq!(
            patched.template_texts(),
            BTreeMap::from([(DEFAULT_CONTENT_TYPE.to_owned(), DEFAULT_TEMPLATE.to_owned())])
        );
        assert_eq!(
            patched
                .response_parameters
                .get("gatewayresponse.header.X-Why"),
            Some(&"'gone'".to_owned())
        );
    }

    #[test]
    fn a_template_path_is_json_pointer_unescaped_and_removable() {
        let patched = apply_patch(
            ResponseType::Default4xx,
            None,
            &[
                op("remove", "/responseTemplates/application~1json", None),
                op(
                    "add",
                    "/responseTemplates/text~1plain",
                    Some("no: $context.error.message"),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            patched.template_texts(),
            BTreeMap::from([(
                "text/plain".to_owned(),
                "no: $context.error.message".to_owned()
            )])
        );
    }

    #[test]
    fn an_unknown_path_a_bad_template_or_status_is_refused() {
        let unknown = apply_patch(
            ResponseType::Default4xx,
            None,
            &[op("replace", "/responseType", Some("DEFAULT_5XX"))],
        )
        .unwrap_err();
        assert_eq!(
            unknown.message(),
            Some(
                "Invalid patch path  '/responseType' specified for op 'replace'. Must be one of: [/statusCode, /responseParameters/{name}, /responseTemplates/{contentType}]"
            )
        );
        let template = apply_patch(
            ResponseType::Default4xx,
            None,
            &[op(
                "add",
                "/responseTemplates/application~1json",
                Some("#foreach("),
            )],
        )
        .unwrap_err();
        assert_eq!(template.error_type(), Some("BadRequestException"));
        let status = apply_patch(
            ResponseType::Default4xx,
            None,
            &[op("replace", "/statusCode", Some("700"))],
        )
        .unwrap_err();
        assert!(status.message().is_some_and(|m| m.contains("'statusCode'")));
    }
}
