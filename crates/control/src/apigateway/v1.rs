//! `apigateway` (REST APIs): the operations, routed by method and path.
//!
//! Shapes follow the service model (`testdata/aws-models/apigateway`):
//! lowerCamel members, epoch-second timestamps, lists as
//! `{"item":[…],"position":…}`.

use std::collections::BTreeMap;

use iamgate_apimodel::config::expand_shorthand;
use iamgate_apimodel::fields::{self, Invalid};
use iamgate_apimodel::input_model;
use iamgate_apimodel::model::EndpointType;
use iamgate_apimodel::stored::{REST_API_KIND, ResourceRecord, RestApiRecord};
use iamgate_policy::{PolicyDocument, PolicyKind};
use iamgate_wire::json::RestJsonError;
use serde::Deserialize;
use serde_json::Value;

use super::call::{ApiError, Call, Reply, Shape, unknown_operation};

mod api_keys;
mod authorizers;
mod deployments;
mod domains;
mod gateway_responses;
mod import;
mod methods;
mod models;
mod resources;
mod tags;
mod test_invoke;
mod usage_plans;

/// Routes one call to its operation.
pub(crate) async fn dispatch(call: Call<'_>) -> Reply {
    let method = call.request.method.to_ascii_uppercase();
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["restapis"]) if call.query_param("mode") == Some("import") => {
            import::import_rest_api(&call).await
        }
        ("POST", ["restapis"]) => create_rest_api(&call).await,
        ("GET", ["restapis"]) => get_rest_apis(&call).await,
        ("GET", ["restapis", id]) => get_rest_api(&call, id).await,
        ("PUT", ["restapis", id]) => import::put_rest_api(&call, id).await,
        ("PATCH", ["restapis", id]) => update_rest_api(&call, id).await,
        ("DELETE", ["restapis", id]) => delete_rest_api(&call, id).await,
        (_, ["restapis", id, "authorizers", rest @ ..]) => {
            authorizers::dispatch(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "resources", rest @ ..]) => {
            resources::dispatch(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "deployments", rest @ ..]) => {
            deployments::dispatch_deployments(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "stages", rest @ ..]) => {
            deployments::dispatch_stages(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "gatewayresponses", rest @ ..]) => {
            gateway_responses::dispatch(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "models", rest @ ..]) => {
            models::dispatch_models(&call, &method, id, rest).await
        }
        (_, ["restapis", id, "requestvalidators", rest @ ..]) => {
            models::dispatch_validators(&call, &method, id, rest).await
        }
        (_, ["domainnames", rest @ ..]) => domains::dispatch(&call, &method, rest).await,
        (_, ["apikeys", rest @ ..]) => api_keys::dispatch(&call, &method, rest).await,
        (_, ["usageplans", rest @ ..]) => usage_plans::dispatch(&call, &method, rest).await,
        // An ARN whose `/` the client did not percent-encode arrives as
        // several segments; it is the same ARN.
        (_, ["tags", arn @ ..]) if !arn.is_empty() => {
            tags::dispatch(&call, &method, &arn.join("/")).await
        }
        _ => Err(unknown_operation()),
    }
}

/// `BadRequestException` with `message`.
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    Box::new(RestJsonError::bad_request(message))
}

/// A value the shared rules refuse ([`iamgate_apimodel::fields`],
/// [`iamgate_apimodel::input_model`]): AWS's `ValidationException` for a
/// value outside the service's input model, `BadRequestException` for
/// every other refusal.
pub(crate) fn refused(invalid: Invalid) -> ApiError {
    if input_model::is_model_violation(&invalid) {
        Box::new(RestJsonError::new("ValidationException", 400, invalid.0))
    } else {
        Box::new(RestJsonError::bad_request(invalid.0))
    }
}

/// `NotFoundException` with `message`.
pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
    Box::new(RestJsonError::not_found(message))
}

/// `ConflictException` with `message`.
pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
    Box::new(RestJsonError::conflict(message))
}

/// The REST API `id` of the caller's account, or AWS's not-found answer.
pub(crate) async fn load_api(call: &Call<'_>, id: &str) -> Result<RestApiRecord, ApiError> {
    call.load::<RestApiRecord>(REST_API_KIND, id)
        .await?
        .map(|(api, _)| api)
        .ok_or_else(|| no_such_api(call, id))
}

/// Changes the REST API `id` with `change` in one conditional write; a
/// refusal from `change` leaves the stored API as it was.
pub(crate) async fn change_api<R>(
    call: &Call<'_>,
    id: &str,
    change: impl FnMut(&mut RestApiRecord) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    call.update(REST_API_KIND, id, || no_such_api(call, id), change)
        .await
}

/// A v1 list: `{"item":[…],"position":…}`, as `GetRestApis` answers.
pub(crate) fn list_json(items: Vec<Value>, position: Option<String>) -> Value {
    Shape::new()
        .set("item", items)
        .opt("position", position)
        .build()
}

/// The map key a patch path names under `prefix` (`/variables/` →
/// `/variables/name`), JSON-pointer unescaped (`~1` is `/`, `~0` is `~`):
/// `application~1json` names `application/json`.
pub(crate) fn patch_key(path: &str, prefix: &str) -> Option<String> {
    let key = path.strip_prefix(prefix)?;
    if key.is_empty() {
        return None;
    }
    Some(key.replace("~1", "/").replace("~0", "~"))
}

/// A patch value that must be `true` or `false`.
pub(crate) fn patch_bool(operation: &PatchOperation) -> Result<bool, ApiError> {
    match operation.value.as_deref() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(bad_request(format!(
            "Invalid value for '{}': expected true or false",
            operation.path
        ))),
    }
}

/// The not-found answer for an API id this account does not have.
pub(crate) fn no_such_api(call: &Call<'_>, id: &str) -> ApiError {
    Box::new(RestJsonError::invalid_api_identifier(call.account(), id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRestApiInput {
    name: Option<String>,
    description: Option<String>,
    version: Option<String>,
    #[serde(default)]
    binary_media_types: Vec<String>,
    minimum_compression_size: Option<i64>,
    api_key_source: Option<String>,
    endpoint_configuration: Option<EndpointConfiguration>,
    policy: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    disable_execute_api_endpoint: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndpointConfiguration {
    types: Option<Vec<String>>,
    ip_address_type: Option<String>,
    #[serde(default)]
    vpc_endpoint_ids: Vec<String>,
}

/// An endpoint type's name in the model (`REGIONAL`, `EDGE`, `PRIVATE`).
fn parse_endpoint_type(name: &str) -> Option<EndpointType> {
    match name {
        "REGIONAL" => Some(EndpointType::Regional),
        "EDGE" => Some(EndpointType::Edge),
        "PRIVATE" => Some(EndpointType::Private),
        _ => None,
    }
}

/// The endpoint type and IP address type of `input` (`createRestApiInput`): the input model
/// first (both members at once, as AWS reports them), then API Gateway's
/// rules. No configuration is `EDGE`.
fn endpoint_settings(
    input: &str,
    configuration: Option<&EndpointConfiguration>,
) -> Result<(EndpointType, Option<String>), ApiError> {
    let types = configuration
        .and_then(|c| c.types.clone())
        .unwrap_or_else(|| vec!["EDGE".to_owned()]);
    let ip = configuration.and_then(|c| c.ip_address_type.clone());
    input_model::list_of(
        &input_model::ENDPOINT_TYPE,
        &format!("{input}.endpointConfiguration.types"),
        &types,
    )
    .map_err(refused)?;
    if let Some(ip) = &ip {
        input_model::IP_ADDRESS_TYPE
            .check(&format!("{input}.endpointConfiguration.ipAddressType"), ip)
            .map_err(refused)?;
    }
    let endpoint = match types.as_slice() {
        [] => {
            return Err(bad_request(
                "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
            ));
        }
        [one] => parse_endpoint_type(one).unwrap_or(EndpointType::Edge),
        _ => {
            return Err(bad_request(
                "Cannot create an api with multiple Endpoint Types.",
            ));
        }
    };
    Ok((endpoint, ip))
}

/// A resource policy as API Gateway saves it: shorthand resources expanded
/// to this API's ARN, and refused if it is not a valid resource policy.
pub(crate) fn stored_policy(
    text: &str,
    region: &str,
    account: &str,
    api_id: &str,
) -> Result<String, ApiError> {
    let expanded = expand_shorthand(text, region, account, api_id);
    PolicyDocument::parse(&expanded, PolicyKind::Resource).map_err(|errors| {
        let detail = errors.first().map_or_else(
            || "Syntax errors in policy.".to_owned(),
            |e| e.message.clone(),
        );
        RestJsonError::bad_request(format!("Invalid policy document. {detail}"))
    })?;
    // Stored minified, as API Gateway returns it, members in their order.
    Ok(minify_json(&expanded))
}

/// `text` (valid JSON) without the whitespace between tokens.
fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// The `policy` member as API Gateway returns it: inside the string every
/// `"` is `\"` and every `/` is `\/` (one extra escaping level).
pub(crate) fn policy_output(policy: &str) -> String {
    policy.replace('"', "\\\"").replace('/', "\\/")
}

async fn create_rest_api(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateRestApiInput = call.body()?;
    // The input model first, then API Gateway's own rules.
    if let Some(source) = &input.api_key_source {
        input_model::API_KEY_SOURCE_TYPE
            .check("createRestApiInput.apiKeySource", source)
            .map_err(refused)?;
    }
    let (endpoint, ip_address_type) =
        endpoint_settings("createRestApiInput", input.endpoint_configuration.as_ref())?;
    let name = input.name.filter(|n| !n.is_empty()).ok_or_else(|| {
        ApiError::from(RestJsonError::bad_request(
            "Invalid REST API name specified",
        ))
    })?;
    fields::rest_api_name(&name).map_err(refused)?;
    fields::rest_api_description(input.description.as_deref()).map_err(refused)?;
    if let Some(ip) = &ip_address_type {
        fields::ip_address_type(endpoint, ip).map_err(refused)?;
    }
    let minimum_compression_size = input
        .minimum_compression_size
        .map(fields::minimum_compression_size)
        .transpose()
        .map_err(refused)?;
    fields::version(input.version.as_deref()).map_err(refused)?;
    fields::tags(&input.tags).map_err(refused)?;
    if input.policy.is_some() {
        call.authorize_action(
            "apigateway:UpdateRestApiPolicy",
            &format!("arn:aws:apigateway:{}::/restapis", call.region),
        )?;
    }
    let id = call.new_id(10)?;
    let policy = input
        .policy
        .as_deref()
        .map(|text| stored_policy(text, &call.region, call.account(), &id))
        .transpose()?;
    let root_id = call.new_id(10)?;
    let record = RestApiRecord {
        id: id.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        name,
        description: input.description,
        created_at: call.now,
        version: input.version,
        endpoint_type: endpoint,
        vpc_endpoint_ids: input
            .endpoint_configuration
            .map(|c| c.vpc_endpoint_ids)
            .unwrap_or_default(),
        ip_address_type,
        minimum_compression_size,
        policy,
        disable_execute_api_endpoint: input.disable_execute_api_endpoint,
        api_key_source: Some(input.api_key_source.unwrap_or_else(|| "HEADER".to_owned())),
        binary_media_types: input.binary_media_types,
        tags: input.tags,
        root_resource_id: root_id.clone(),
        authorizers: BTreeMap::new(),
        resources: BTreeMap::from([(root_id.clone(), ResourceRecord::root(&root_id))]),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
        gateway_responses: BTreeMap::new(),
        models: BTreeMap::new(),
        request_validators: BTreeMap::new(),
    };
    call.create(REST_API_KIND, &id, &record)
        .await
        .map_err(|e| {
            e.unwrap_or_else(|| {
                ApiError::from(RestJsonError::conflict("API id collision; try again"))
            })
        })?;
    Ok((201, Some(new_rest_api_json(&record))))
}

async fn get_rest_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let (record, _) = call
        .load::<RestApiRecord>(REST_API_KIND, id)
        .await?
        .ok_or_else(|| no_such_api(call, id))?;
    Ok((200, Some(rest_api_json(&record))))
}

async fn get_rest_apis(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut apis = call.list::<RestApiRecord>(REST_API_KIND).await?;
    apis.sort_by(|a, b| a.id.cmp(&b.id));
    let (page, position) = paginate(call, &apis, |api| api.id.as_str())?;
    let items: Vec<Value> = page.iter().map(rest_api_json).collect();
    Ok((
        200,
        Some(
            Shape::new()
                .set("item", items)
                .opt("position", position)
                .build(),
        ),
    ))
}

/// `{"patchOperations":[{"op":"replace","path":"/name","value":"…"}]}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatchInput {
    #[serde(default)]
    pub patch_operations: Vec<PatchOperation>,
}

#[derive(Deserialize)]
pub(crate) struct PatchOperation {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// The paths an update operation's patch may name, by `op` (the "PATCH
/// operations" reference of the API). A path with a `{…}` segment stands
/// for every path that starts as it does and names something there
/// (`/binaryMediaTypes/{mimeType}`: `/binaryMediaTypes/image~1png`).
pub(crate) struct Patchable {
    /// The operation's input as AWS names it in a model refusal
    /// (`updateRestApiInput`).
    pub input: &'static str,
    pub add: &'static [&'static str],
    pub remove: &'static [&'static str],
    pub replace: &'static [&'static str],
}

impl Patchable {
    /// The call's patch operations, each `op` checked against the input
    /// model (before anything is looked up, as AWS does).
    pub fn operations(&self, call: &Call<'_>) -> Result<Vec<PatchOperation>, ApiError> {
        let input: PatchInput = call.body()?;
        input_model::patch_ops(
            self.input,
            input.patch_operations.iter().map(|o| o.op.as_str()),
        )
        .map_err(refused)?;
        Ok(input.patch_operations)
    }

    fn paths(&self, op: &str) -> &'static [&'static str] {
        match op {
            "add" => self.add,
            "remove" => self.remove,
            "replace" => self.replace,
            _ => &[],
        }
    }

    /// AWS's refusal of `operation`: the ops its path takes when it takes
    /// some, else the paths its op takes, else that the op takes none.
    pub fn refuse(&self, operation: &PatchOperation) -> ApiError {
        let (op, path) = (operation.op.as_str(), operation.path.as_str());
        let ops: Vec<&str> = ["add", "remove", "replace"]
            .into_iter()
            .filter(|o| self.paths(o).iter().any(|p| patch_path_matches(p, path)))
            .collect();
        let paths = self.paths(op);
        let message = if !ops.is_empty() {
            format!(
                "Invalid patch operation specified. Must be one of: [{}]",
                ops.join(", ")
            )
        } else if paths.is_empty() {
            format!(
                "Invalid patch path  '{path}' specified for op '{op}'. Please choose supported operations"
            )
        } else {
            format!(
                "Invalid patch path  '{path}' specified for op '{op}'. Must be one of: [{}]",
                paths.join(", ")
            )
        };
        bad_request(message)
    }
}

/// Whether `path` is one `pattern` of a [`Patchable`] stands for.
fn patch_path_matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('{') {
        None => pattern == path,
        Some((prefix, _)) => path.len() > prefix.len() && path.starts_with(prefix),
    }
}

/// AWS's answer to a patch operation it does not support on a resource.
pub(crate) fn invalid_patch(operation: &PatchOperation) -> ApiError {
    Box::new(RestJsonError::bad_request(format!(
        "Invalid patch path '{}' specified for op '{}'",
        operation.path, operation.op
    )))
}

/// UpdateRestApi's paths.
const REST_API_PATCH: Patchable = Patchable {
    input: "updateRestApiInput",
    add: &[
        "/binaryMediaTypes/{mimeType}",
        "/endpointConfiguration/vpcEndpointIds",
    ],
    remove: &[
        "/binaryMediaTypes/{mimeType}",
        "/endpointConfiguration/vpcEndpointIds",
        "/policy",
    ],
    replace: &[
        "/name",
        "/description",
        "/version",
        "/policy",
        "/apiKeySource",
        "/binaryMediaTypes/{mimeType}",
        "/minimumCompressionSize",
        "/disableExecuteApiEndpoint",
        "/endpointConfiguration/types/0",
        "/endpointConfiguration/ipAddressType",
        "/endpointConfiguration/vpcEndpointIds",
    ],
};

async fn update_rest_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let operations = REST_API_PATCH.operations(call)?;
    if operations.iter().any(|o| o.path == "/policy") {
        call.authorize_action(
            "apigateway:UpdateRestApiPolicy",
            &format!("arn:aws:apigateway:{}::/restapis/{id}", call.region),
        )?;
    }
    // Every operation is checked before any is applied: a bad one leaves
    // the API as it was.
    let record = call
        .update(
            REST_API_KIND,
            id,
            || no_such_api(call, id),
            |api: &mut RestApiRecord| {
                for operation in &operations {
                    apply_rest_api_patch(api, operation)?;
                }
                if let Some(ip) = &api.ip_address_type {
                    fields::ip_address_type(api.endpoint_type, ip).map_err(refused)?;
                }
                Ok(api.clone())
            },
        )
        .await?;
    Ok((200, Some(rest_api_json(&record))))
}

fn apply_rest_api_patch(
    api: &mut RestApiRecord,
    operation: &PatchOperation,
) -> Result<(), ApiError> {
    let value = operation.value.clone();
    match (operation.op.as_str(), operation.path.as_str()) {
        ("replace", "/name") => {
            let name = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                ApiError::from(RestJsonError::bad_request(
                    "Invalid REST API name specified",
                ))
            })?;
            fields::rest_api_name(&name).map_err(refused)?;
            api.name = name;
        }
        ("replace", "/description") => {
            fields::description(value.as_deref()).map_err(refused)?;
            api.description = value.filter(|d| !d.is_empty());
        }
        ("replace", "/version") => {
            fields::version(value.as_deref()).map_err(refused)?;
            api.version = value;
        }
        ("replace", "/policy") => {
            api.policy = match value.as_deref() {
                None | Some("") => None,
                Some(text) => Some(stored_policy(text, &api.region, &api.account, &api.id)?),
            };
        }
        ("remove", "/policy") => api.policy = None,
        ("replace", "/disableExecuteApiEndpoint") => {
            api.disable_execute_api_endpoint = patch_bool(operation)?;
        }
        ("replace", "/apiKeySource") => {
            let source = value.unwrap_or_default();
            input_model::API_KEY_SOURCE_TYPE
                .check("apiKeySource", &source)
                .map_err(refused)?;
            api.api_key_source = Some(source);
        }
        ("replace", "/minimumCompressionSize") => {
            api.minimum_compression_size = match value.as_deref() {
                None | Some("") => None,
                Some(text) => Some(
                    text.parse::<i64>()
                        .map_err(|_| {
                            Invalid(format!(
                                "Invalid minimum compression size, must be between 0 and {}",
                                fields::MINIMUM_COMPRESSION_SIZE_MAX
                            ))
                        })
                        .and_then(fields::minimum_compression_size)
                        .map_err(refused)?,
                ),
            };
        }
        ("replace", "/endpointConfiguration/types/0") => {
            let endpoint = value
                .as_deref()
                .and_then(parse_endpoint_type)
                .ok_or_else(|| {
                    bad_request(
                        "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                    )
                })?;
            if endpoint == EndpointType::Private {
                // The only IP address type a private API supports.
                api.ip_address_type = Some("dualstack".to_owned());
            }
            api.endpoint_type = endpoint;
        }
        ("replace", "/endpointConfiguration/ipAddressType") => {
            let ip = value.unwrap_or_default();
            if !input_model::IP_ADDRESS_TYPE.values.contains(&ip.as_str()) {
                return Err(bad_request(
                    "ipAddressType must be either ipv4 or dualstack.",
                ));
            }
            api.ip_address_type = Some(ip);
        }
        ("add" | "replace" | "remove", "/endpointConfiguration/vpcEndpointIds") => {
            let ids: Vec<String> = value
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect();
            match operation.op.as_str() {
                "replace" => api.vpc_endpoint_ids = ids,
                "add" => {
                    for id in ids {
                        if !api.vpc_endpoint_ids.contains(&id) {
                            api.vpc_endpoint_ids.push(id);
                        }
                    }
                }
                _ => api.vpc_endpoint_ids.retain(|id| !ids.contains(id)),
            }
        }
        (op, path) if path.starts_with("/binaryMediaTypes/") => {
            let media_type = patch_key(path, "/binaryMediaTypes/")
                .ok_or_else(|| REST_API_PATCH.refuse(operation))?;
            match op {
                "add" => {
                    if !api.binary_media_types.contains(&media_type) {
                        api.binary_media_types.push(media_type);
                    }
                }
                "remove" => api.binary_media_types.retain(|t| *t != media_type),
                _ => {
                    // AWS removes the old type and appends the new one.
                    let new = value.filter(|v| !v.is_empty()).ok_or_else(|| {
                        bad_request(format!("Invalid patch value for path '{path}'"))
                    })?;
                    api.binary_media_types.retain(|t| *t != media_type);
                    if !api.binary_media_types.contains(&new) {
                        api.binary_media_types.push(new);
                    }
                }
            }
        }
        _ => return Err(REST_API_PATCH.refuse(operation)),
    }
    Ok(())
}

async fn delete_rest_api(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    if !call.delete(REST_API_KIND, id).await? {
        return Err(no_such_api(call, id));
    }
    Ok((202, None))
}

/// One page of `items` (sorted by `key`) after the `position` query
/// parameter, at most `limit` (default 25, at most 500) long; the next
/// position if more remain.
pub(crate) fn paginate<'a, T>(
    call: &Call<'_>,
    items: &'a [T],
    key: impl Fn(&T) -> &str,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let limit = match call.query_param("limit") {
        None => 25,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::from(RestJsonError::bad_request("Invalid limit specified")))?,
    };
    let start = match call.query_param("position") {
        None => 0,
        Some(position) => items
            .iter()
            .position(|item| key(item) > position)
            .unwrap_or(items.len()),
    };
    let rest = items.get(start..).unwrap_or_default();
    let page = rest.get(..limit.min(rest.len())).unwrap_or_default();
    let next = (rest.len() > limit)
        .then(|| page.last().map(|item| key(item).to_owned()))
        .flatten();
    Ok((page, next))
}

/// The `RestApi` shape of an API just made (CreateRestApi, ImportRestApi):
/// the tags are left out when there are none (GetRestApi and UpdateRestApi
/// show `{}`).
pub(crate) fn new_rest_api_json(api: &RestApiRecord) -> Value {
    let mut json = rest_api_json(api);
    if api.tags.is_empty()
        && let Value::Object(members) = &mut json
    {
        members.remove("tags");
    }
    json
}

/// The `RestApi` shape.
pub(crate) fn rest_api_json(api: &RestApiRecord) -> Value {
    let endpoint = match api.endpoint_type {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    };
    let configuration = Shape::new()
        .set("types", [endpoint])
        .set(
            "ipAddressType",
            api.ip_address_type
                .as_deref()
                .unwrap_or_else(|| fields::default_ip_address_type(api.endpoint_type)),
        )
        .nonempty("vpcEndpointIds", &api.vpc_endpoint_ids);
    Shape::new()
        .set("id", &api.id)
        .set("name", &api.name)
        .opt("description", api.description.as_ref())
        .set("createdDate", api.created_at)
        .opt("version", api.version.as_ref())
        .nonempty("binaryMediaTypes", &api.binary_media_types)
        .opt("minimumCompressionSize", api.minimum_compression_size)
        .set(
            "apiKeySource",
            api.api_key_source.as_deref().unwrap_or("HEADER"),
        )
        .set("endpointConfiguration", configuration.build())
        .opt("policy", api.policy.as_deref().map(policy_output))
        .set("tags", &api.tags)
        .set(
            "disableExecuteApiEndpoint",
            api.disable_execute_api_endpoint,
        )
        .set("rootResourceId", &api.root_resource_id)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_come_back_with_escaped_quotes_and_slashes() {
        let stored = stored_policy(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}"#,
            "eu-west-1",
            "533267329486",
            "ufm7om51v0",
        )
        .unwrap();
        assert_eq!(
            policy_output(&stored),
            r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"arn:aws:execute-api:eu-west-1:533267329486:ufm7om51v0\/*\"}]}"#
        );
    }

    #[test]
    fn minifying_keeps_member_order_and_string_contents() {
        assert_eq!(
            minify_json("{ \"b\" : [1, 2],\n \"a\": \"x \\\" y\" }"),
            "{\"b\":[1,2],\"a\":\"x \\\" y\"}"
        );
    }

    #[test]
    fn an_invalid_policy_is_a_bad_request() {
        let error = stored_policy("{", "us-east-1", "111122223333", "a").unwrap_err();
        assert_eq!(error.status(), 400);
        assert_eq!(error.error_type(), Some("BadRequestException"));
    }
}
