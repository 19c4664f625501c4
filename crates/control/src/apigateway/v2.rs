//! `apigatewayv2` (HTTP APIs): the operations under `/v2/`, routed by
//! method and path.
//!
//! Shapes follow the service model (`testdata/aws-models/apigatewayv2`):
//! lowerCamel members, ISO 8601 timestamps, lists as
//! `{"items":[…],"nextToken":…}`, and `NotFoundException` carrying
//! `resourceType`.

use std::collections::BTreeMap;

use iamgate_gateway::stored::{HTTP_API_KIND, HttpApiRecord};
use iamgate_wire::Timestamp;
use iamgate_wire::json::RestJsonError;
use serde::Deserialize;
use serde_json::Value;

use super::call::{ApiError, Call, Reply, Shape, unknown_operation};

/// Routes one call (path after `/v2`) to its operation.
pub(crate) async fn dispatch(call: Call<'_>) -> Reply {
    let method = call.request.method.to_ascii_uppercase();
    let segments: Vec<&str> = call.segments.iter().skip(1).map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["apis"]) => create_api(&call).await,
        ("GET", ["apis", id]) => get_api(&call, id).await,
        _ => Err(unknown_operation()),
    }
}

/// The not-found answer for an API id this account does not have.
pub(crate) fn no_such_api(id: &str) -> ApiError {
    Box::new(RestJsonError::not_found_v2(
        format!("Invalid API identifier specified {id}"),
        "Api",
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiInput {
    name: Option<String>,
    protocol_type: Option<String>,
    description: Option<String>,
    version: Option<String>,
    #[serde(default)]
    disable_execute_api_endpoint: bool,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

async fn create_api(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateApiInput = call.body()?;
    let name = input
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::from(RestJsonError::bad_request("Name is required")))?;
    match input.protocol_type.as_deref() {
        Some("HTTP") => {}
        Some("WEBSOCKET") => {
            return Err(
                RestJsonError::bad_request("WEBSOCKET APIs are not supported by iamgate").into(),
            );
        }
        _ => return Err(RestJsonError::bad_request("ProtocolType is required").into()),
    }
    let id = call.new_id(10)?;
    let record = HttpApiRecord {
        id: id.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: input.description,
        created_at: call.now,
        version: input.version,
        disable_execute_api_endpoint: input.disable_execute_api_endpoint,
        tags: input.tags,
        routes: BTreeMap::new(),
        integrations: BTreeMap::new(),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
    };
    call.create(HTTP_API_KIND, &id, &record)
        .await
        .map_err(|e| {
            e.unwrap_or_else(|| {
                ApiError::from(RestJsonError::conflict("API id collision; try again"))
            })
        })?;
    Ok((201, Some(api_json(&record))))
}

async fn get_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let (record, _) = call
        .load::<HttpApiRecord>(HTTP_API_KIND, id)
        .await?
        .ok_or_else(|| no_such_api(id))?;
    Ok((200, Some(api_json(&record))))
}

/// ISO 8601 with seconds, as v2 writes timestamps.
pub(crate) fn iso8601(epoch_seconds: i64) -> String {
    Timestamp::from_epoch_seconds(epoch_seconds).to_iso8601()
}

/// The `Api` shape.
pub(crate) fn api_json(api: &HttpApiRecord) -> Value {
    Shape::new()
        .set("apiId", &api.id)
        .set("name", &api.name)
        .opt("description", api.description.as_ref())
        .opt("version", api.version.as_ref())
        .set("protocolType", "HTTP")
        .set(
            "routeSelectionExpression",
            "${request.method} ${request.path}",
        )
        .set("apiKeySelectionExpression", "$request.header.x-api-key")
        .set(
            "apiEndpoint",
            format!(
                "https://{}.execute-api.{}.amazonaws.com",
                api.id, api.region
            ),
        )
        .set("createdDate", iso8601(api.created_at))
        .set(
            "disableExecuteApiEndpoint",
            api.disable_execute_api_endpoint,
        )
        .set("tags", &api.tags)
        .build()
}
