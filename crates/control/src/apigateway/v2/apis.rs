//! APIs: create (with quick create), read, list, update, delete, and the
//! OpenAPI imports.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::openapi::{self, ApiFlavour, ImportOptions, ImportedApi};
use iamgate_apimodel::stored::{
    HTTP_API_KIND, HttpApiRecord, RouteRecord, StageRecord, http_integration_record,
};
use serde::Deserialize;
use serde_json::Value;

use super::super::call::{ApiError, Call, Reply, Shape, refused};
use super::integrations::integration_for_target;
use super::routes::check_route_key;
use super::{
    API_ID_LENGTH, CHILD_ID_LENGTH, bad_request, change_api, change_definition, conflict, deploy,
    fresh_id, iso8601, load_api, no_such_api, page, tags_of,
};

/// The stage quick create makes, and the one served at the root path.
pub(crate) const DEFAULT_STAGE: &str = "$default";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiInput {
    name: Option<String>,
    protocol_type: Option<String>,
    description: Option<String>,
    version: Option<String>,
    #[serde(default)]
    disable_execute_api_endpoint: bool,
    tags: Option<BTreeMap<String, String>>,
    /// Quick create: the integration's URL or Lambda function ARN.
    target: Option<String>,
    /// Quick create: the route's key (default `$default`).
    route_key: Option<String>,
}

pub(super) async fn create_api(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateApiInput = call.body()?;
    let name = check_name(input.name)?;
    match input.protocol_type.as_deref() {
        Some("HTTP") => {}
        Some("WEBSOCKET") => {
            return Err(bad_request("WEBSOCKET APIs are not supported by iamgate"));
        }
        _ => return Err(bad_request("ProtocolType is required")),
    }
    check_description(input.description.as_deref())?;
    fields::version(input.version.as_deref()).map_err(refused)?;
    if let Some(tags) = &input.tags {
        fields::tags(tags).map_err(refused)?;
    }
    let id = call.new_id(API_ID_LENGTH)?;
    let mut record = HttpApiRecord {
        id: id.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: input.description,
        created_at: call.now,
        version: input.version,
        disable_execute_api_endpoint: input.disable_execute_api_endpoint,
        tags: tags_of(input.tags),
        routes: BTreeMap::new(),
        integrations: BTreeMap::new(),
        authorizers: BTreeMap::new(),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
    };
    match (input.target, input.route_key) {
        (Some(target), route_key) => quick_create(call, &mut record, &target, route_key)?,
        (None, Some(_)) => {
            return Err(bad_request(
                "RouteKey can only be specified together with Target (quick create)",
            ));
        }
        (None, None) => {}
    }
    call.create(HTTP_API_KIND, &id, &record)
        .await
        .map_err(|e| e.unwrap_or_else(|| conflict("API id collision; try again")))?;
    Ok((201, Some(api_json(&record))))
}

/// Quick create: an integration for `target`, a route to it (`$default`
/// unless `route_key` says otherwise; open, as AWS makes it), and an
/// automatically deploying `$default` stage already serving them.
fn quick_create(
    call: &Call<'_>,
    api: &mut HttpApiRecord,
    target: &str,
    route_key: Option<String>,
) -> Result<(), ApiError> {
    let route_key = route_key.unwrap_or_else(|| DEFAULT_STAGE.to_owned());
    check_route_key(&route_key)?;
    let integration_id = call.new_id(CHILD_ID_LENGTH)?;
    let integration = integration_for_target(&integration_id, target)?;
    let route_id = fresh_id(call, CHILD_ID_LENGTH, |id| id == integration_id)?;
    api.integrations.insert(integration_id.clone(), integration);
    api.routes.insert(
        route_id.clone(),
        RouteRecord {
            id: route_id,
            route_key,
            authorization_type: "NONE".to_owned(),
            authorizer_id: None,
            authorization_scopes: Vec::new(),
            target: Some(format!("integrations/{integration_id}")),
            api_key_required: false,
            operation_name: None,
        },
    );
    let deployment = deploy(call, api, None, true)?;
    api.stages.insert(
        DEFAULT_STAGE.to_owned(),
        StageRecord {
            name: DEFAULT_STAGE.to_owned(),
            deployment_id: Some(deployment),
            description: None,
            created_at: call.now,
            last_updated: call.now,
            auto_deploy: true,
            variables: BTreeMap::new(),
            tags: BTreeMap::new(),
            throttles: BTreeMap::new(),
        },
    );
    Ok(())
}

fn check_name(name: Option<String>) -> Result<String, ApiError> {
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_request("Name is required"))?;
    fields::http_api_name(&name).map_err(refused)?;
    Ok(name)
}

fn check_description(description: Option<&str>) -> Result<(), ApiError> {
    fields::description(description).map_err(refused)
}

pub(super) async fn get_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    Ok((200, Some(api_json(&api))))
}

pub(super) async fn get_apis(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut apis = call.list::<HttpApiRecord>(HTTP_API_KIND).await?;
    apis.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    page(call, apis.iter().map(api_json).collect())
}

/// `UpdateApi` sends the members to change (a JSON merge, not v1's patch
/// operations).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateApiInput {
    name: Option<String>,
    description: Option<String>,
    version: Option<String>,
    disable_execute_api_endpoint: Option<bool>,
    target: Option<Value>,
    route_key: Option<Value>,
}

pub(super) async fn update_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: UpdateApiInput = call.body()?;
    if input.target.is_some() || input.route_key.is_some() {
        // Changing quick create's route or integration through the API is
        // not implemented; the route and integration operations do it.
        return Err(bad_request(
            "Target and RouteKey cannot be updated by iamgate; use UpdateRoute and UpdateIntegration",
        ));
    }
    let name = input.name.map(|n| check_name(Some(n))).transpose()?;
    check_description(input.description.as_deref())?;
    fields::version(input.version.as_deref()).map_err(refused)?;
    let api = change_api(call, id, |api| {
        if let Some(name) = &name {
            api.name = name.clone();
        }
        if let Some(description) = &input.description {
            api.description = Some(description.clone());
        }
        if let Some(version) = &input.version {
            api.version = Some(version.clone());
        }
        if let Some(disable) = input.disable_execute_api_endpoint {
            api.disable_execute_api_endpoint = disable;
        }
        Ok(api.clone())
    })
    .await?;
    Ok((200, Some(api_json(&api))))
}

pub(super) async fn delete_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    if call.delete(HTTP_API_KIND, id).await? {
        Ok((204, None))
    } else {
        Err(no_such_api(call.account(), id))
    }
}

#[derive(Deserialize)]
struct ImportInput {
    body: Option<String>,
}

/// Reads the OpenAPI text of an import call; every problem (and, with
/// `failOnWarnings=true`, every warning) is a `BadRequestException`.
fn imported(call: &Call<'_>) -> Result<ImportedApi, ApiError> {
    let input: ImportInput = call.body()?;
    let text = input
        .body
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| bad_request("Body is required"))?;
    let options = ImportOptions {
        flavour: Some(ApiFlavour::Http),
        // Empty: Lambda functions are invoked at the server's
        // `--lambda-endpoint`, as for APIs created through the API.
        lambda_endpoint: Some(String::new()),
    };
    let api = openapi::import(&text, &options).map_err(|error| bad_request(error.to_string()))?;
    let fail_on_warnings = call
        .query_param("failOnWarnings")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if fail_on_warnings && !api.warnings.is_empty() {
        let mut message = "Warnings found during import:".to_owned();
        for warning in &api.warnings {
            message.push_str("\n\t");
            message.push_str(&warning.to_string());
        }
        return Err(bad_request(message));
    }
    Ok(api)
}

/// Replaces the routes and integrations of `api` with the imported ones.
fn take_definition(
    call: &Call<'_>,
    api: &mut HttpApiRecord,
    imported: &ImportedApi,
) -> Result<(), ApiError> {
    api.routes.clear();
    api.integrations.clear();
    api.authorizers = iamgate_apimodel::stored::declared_authorizers(
        imported.routes.iter().map(|r| &r.authorization),
    );
    for route in &imported.routes {
        let taken = |id: &str| api.routes.contains_key(id) || api.integrations.contains_key(id);
        let integration_id = fresh_id(call, CHILD_ID_LENGTH, taken)?;
        let taken = |id: &str| {
            id == integration_id || api.routes.contains_key(id) || api.integrations.contains_key(id)
        };
        let route_id = fresh_id(call, CHILD_ID_LENGTH, taken)?;
        api.integrations.insert(
            integration_id.clone(),
            http_integration_record(&integration_id, &route.integration),
        );
        api.routes.insert(
            route_id.clone(),
            RouteRecord {
                id: route_id,
                route_key: route.key.clone(),
                authorization_type: route.authorization.as_str().to_owned(),
                authorizer_id: route.authorization.any_authorizer().map(|a| a.id.clone()),
                authorization_scopes: route.authorization.scopes().to_vec(),
                target: Some(format!("integrations/{integration_id}")),
                api_key_required: false,
                operation_name: None,
            },
        );
    }
    Ok(())
}

fn warnings_of(imported: &ImportedApi) -> Vec<String> {
    imported.warnings.iter().map(ToString::to_string).collect()
}

pub(super) async fn import_api(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let imported = imported(call)?;
    let name = check_name(imported.name.clone()).map_err(|_| {
        bad_request("Errors found during import:\n\t$.info.title: 'title' is required")
    })?;
    let id = call.new_id(API_ID_LENGTH)?;
    let mut record = HttpApiRecord {
        id: id.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: None,
        created_at: call.now,
        version: None,
        disable_execute_api_endpoint: false,
        tags: BTreeMap::new(),
        routes: BTreeMap::new(),
        integrations: BTreeMap::new(),
        authorizers: BTreeMap::new(),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
    };
    take_definition(call, &mut record, &imported)?;
    // Refused now rather than at the first deployment.
    record
        .deployable_routes()
        .map_err(|why| bad_request(why.0))?;
    call.create(HTTP_API_KIND, &id, &record)
        .await
        .map_err(|e| e.unwrap_or_else(|| conflict("API id collision; try again")))?;
    Ok((201, Some(with_warnings(api_json(&record), &imported))))
}

pub(super) async fn reimport_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    // Unknown ids are reported before the document is looked at.
    load_api(call, id).await?;
    let imported = imported(call)?;
    let api = change_definition(call, id, |api| {
        take_definition(call, api, &imported)?;
        if let Some(title) = imported.name.as_ref().filter(|t| !t.is_empty()) {
            api.name = title.clone();
        }
        api.deployable_routes().map_err(|why| bad_request(why.0))?;
        // What the answer shows does not depend on the deployment made
        // after this.
        Ok(api.clone())
    })
    .await?;
    Ok((201, Some(with_warnings(api_json(&api), &imported))))
}

fn with_warnings(mut json: Value, imported: &ImportedApi) -> Value {
    let warnings = warnings_of(imported);
    if let (Value::Object(map), false) = (&mut json, warnings.is_empty()) {
        map.insert(
            "warnings".to_owned(),
            Value::Array(warnings.into_iter().map(Value::String).collect()),
        );
    }
    json
}

/// The `Api` shape.
pub(crate) fn api_json(api: &HttpApiRecord) -> Value {
    Shape::new()
        .set("apiId", &api.id)
        .set("name", &api.name)
        .opt("description", api.description.as_ref())
        .opt("version", api.version.as_ref())
        .set("protocolType", "HTTP")
        // The value the model documents for HTTP APIs.
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

/// ExportApi: the API as OpenAPI 3.0 ([`iamgate_apimodel::export`]); with
/// `stageName`, what that stage's deployment serves. JSON is also what a
/// `YAML` output type gets: a JSON document is a YAML document.
pub(super) async fn export_api(call: &Call<'_>, id: &str, specification: &str) -> Reply {
    call.authorize()?;
    if specification != "OAS30" {
        return Err(bad_request(format!(
            "Invalid specification {specification}: only OAS30 is supported"
        )));
    }
    if !matches!(call.query_param("outputType"), Some("JSON" | "YAML")) {
        return Err(bad_request("outputType must be JSON or YAML"));
    }
    let api = load_api(call, id).await?;
    let stage = call.query_param("stageName");
    let mut document = iamgate_apimodel::export::http_api(&api, stage, &iso8601(call.now))
        .ok_or_else(|| match stage {
            Some(stage) => super::stages::no_such_stage(stage),
            None => bad_request("the API has routes that cannot be exported"),
        })?;
    if call.query_param("includeExtensions") == Some("false") {
        iamgate_apimodel::export::strip_extensions(&mut document);
    }
    Ok((200, Some(document)))
}
