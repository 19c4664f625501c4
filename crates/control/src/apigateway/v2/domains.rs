//! Custom domain names and their API mappings, stored as
//! [`DomainNameRecord`] documents (the same ones v1's base path mappings
//! write; the data plane serves them).
//!
//! A domain name is one per region across all accounts on AWS. Documents
//! are scoped to their account here, so the served registry is consulted
//! before a name is taken: an account cannot claim a name another account
//! already serves.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::model::EndpointType;
use iamgate_apimodel::registry::stable_id;
use iamgate_apimodel::stored::{
    ApiMapping, DOMAIN_NAME_KIND, DomainNameRecord, HTTP_API_KIND, HttpApiRecord, REST_API_KIND,
    RestApiRecord,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::call::{ApiError, Call, Reply, Shape, refused};
use super::{bad_request, conflict, fresh_id, no_such_api, not_found, page, tags_of};

/// Length of API mapping ids.
const MAPPING_ID_LENGTH: usize = 6;

fn no_such_domain(name: &str) -> ApiError {
    not_found(
        format!("Invalid domain name identifier specified {name}"),
        "DomainName",
    )
}

fn no_such_mapping(id: &str) -> ApiError {
    not_found(
        format!("Invalid API mapping identifier specified {id}"),
        "ApiMapping",
    )
}

fn domain_taken() -> ApiError {
    conflict("The domain name you provided already exists.")
}

/// The name as stored and served (lower case), if DNS allows it
/// (`iamgate_apimodel::domains::domain_name`).
fn normalize_domain(name: &str) -> Result<String, ApiError> {
    iamgate_apimodel::domains::domain_name(name)
        .ok_or_else(|| bad_request(format!("Invalid domain name {name}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DomainConfigurationInput {
    endpoint_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDomainNameInput {
    domain_name: Option<String>,
    domain_name_configurations: Option<Vec<DomainConfigurationInput>>,
    tags: Option<BTreeMap<String, String>>,
    /// Client certificates are not checked by the data plane: refused
    /// rather than silently not enforced.
    mutual_tls_authentication: Option<Value>,
}

pub(super) async fn create_domain_name(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateDomainNameInput = call.body()?;
    if input.mutual_tls_authentication.is_some() {
        return Err(bad_request(
            "Mutual TLS authentication is not supported by iamgate",
        ));
    }
    let name = input
        .domain_name
        .as_deref()
        .ok_or_else(|| bad_request("DomainName is required"))
        .and_then(normalize_domain)?;
    if let Some(tags) = &input.tags {
        fields::tags(tags).map_err(refused)?;
    }
    let configurations = input.domain_name_configurations.unwrap_or_default();
    if configurations.len() > 1 {
        return Err(bad_request("Only one DomainNameConfiguration may be given"));
    }
    let endpoint_type = match configurations
        .first()
        .and_then(|c| c.endpoint_type.as_deref())
    {
        None | Some("REGIONAL") => EndpointType::Regional,
        Some("EDGE") => EndpointType::Edge,
        Some(other) => return Err(bad_request(format!("Invalid EndpointType {other}"))),
    };
    if let Some(existing) = call.plane.apis().domains.get(&name)
        && existing.account != call.account()
    {
        return Err(domain_taken());
    }
    let record = DomainNameRecord {
        name: name.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        created_at: call.now,
        endpoint_type,
        mappings: BTreeMap::new(),
        tags: tags_of(input.tags),
        // Certificates come from files, which only the world file names.
        certificate: None,
        truststore: None,
    };
    call.create(DOMAIN_NAME_KIND, &name, &record)
        .await
        .map_err(|e| e.unwrap_or_else(domain_taken))?;
    Ok((201, Some(domain_json(&record))))
}

async fn load_domain(call: &Call<'_>, name: &str) -> Result<DomainNameRecord, ApiError> {
    let key = name.to_ascii_lowercase();
    call.load::<DomainNameRecord>(DOMAIN_NAME_KIND, &key)
        .await?
        .map(|(record, _)| record)
        .ok_or_else(|| no_such_domain(name))
}

pub(super) async fn get_domain_name(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let domain = load_domain(call, name).await?;
    Ok((200, Some(domain_json(&domain))))
}

pub(super) async fn get_domain_names(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut domains = call.list::<DomainNameRecord>(DOMAIN_NAME_KIND).await?;
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    page(call, domains.iter().map(domain_json).collect())
}

pub(super) async fn delete_domain_name(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    if call
        .delete(DOMAIN_NAME_KIND, &name.to_ascii_lowercase())
        .await?
    {
        Ok((204, None))
    } else {
        Err(no_such_domain(name))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiMappingInput {
    api_id: Option<String>,
    api_mapping_key: Option<String>,
    stage: Option<String>,
}

/// `""` (the root) or `/`-separated segments of URL-safe characters.
fn check_mapping_key(key: &str) -> Result<(), ApiError> {
    fields::path("apiMappingKey", key).map_err(refused)?;
    if key.is_empty() {
        return Ok(());
    }
    let ok = key.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '$'))
    });
    if ok {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid ApiMappingKey {key}")))
    }
}

/// The stage names of API `id` of the caller's account, HTTP or REST.
async fn stages_of(call: &Call<'_>, id: &str) -> Result<Vec<String>, ApiError> {
    if let Some((api, _)) = call.load::<HttpApiRecord>(HTTP_API_KIND, id).await? {
        return Ok(api.stages.into_keys().collect());
    }
    if let Some((api, _)) = call.load::<RestApiRecord>(REST_API_KIND, id).await? {
        return Ok(api.stages.into_keys().collect());
    }
    Err(no_such_api(call.account(), id))
}

pub(super) async fn create_api_mapping(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let input: CreateApiMappingInput = call.body()?;
    let api_id = input
        .api_id
        .ok_or_else(|| bad_request("ApiId is required"))?;
    let stage = input
        .stage
        .ok_or_else(|| bad_request("Stage is required"))?;
    let key = input.api_mapping_key.unwrap_or_default();
    check_mapping_key(&key)?;
    check_mapped_stage(call, &api_id, &stage).await?;
    let domain_key = name.to_ascii_lowercase();
    let mapping = call
        .update(
            DOMAIN_NAME_KIND,
            &domain_key,
            || no_such_domain(name),
            |domain: &mut DomainNameRecord| {
                if domain.mappings.contains_key(&key) {
                    return Err(conflict(format!(
                        "An API mapping with key '{key}' already exists for this domain name"
                    )));
                }
                let id = fresh_id(call, MAPPING_ID_LENGTH, |id| {
                    domain.mappings.values().any(|m| m.id == id)
                })?;
                let mapping = ApiMapping {
                    id,
                    api_id: api_id.clone(),
                    stage: stage.clone(),
                };
                domain.mappings.insert(key.clone(), mapping.clone());
                Ok(mapping)
            },
        )
        .await?;
    Ok((201, Some(mapping_json(&key, &mapping))))
}

/// Only an API (and stage) of the caller's own account can be mapped.
async fn check_mapped_stage(call: &Call<'_>, api_id: &str, stage: &str) -> Result<(), ApiError> {
    if stages_of(call, api_id)
        .await?
        .iter()
        .any(|known| known == stage)
    {
        Ok(())
    } else {
        Err(not_found(
            format!("Invalid stage identifier specified {stage}"),
            "Stage",
        ))
    }
}

/// UpdateApiMapping: the members given (`apiId` is required, as on AWS)
/// replace the mapping's; a new key moves it.
pub(super) async fn update_api_mapping(call: &Call<'_>, name: &str, id: &str) -> Reply {
    call.authorize()?;
    let input: CreateApiMappingInput = call.body()?;
    let api_id = input
        .api_id
        .ok_or_else(|| bad_request("ApiId is required"))?;
    let current = load_domain(call, name).await?;
    let (old_key, old) = current
        .mappings
        .iter()
        .find(|(_, m)| m.id == id)
        .ok_or_else(|| no_such_mapping(id))?;
    let key = input.api_mapping_key.unwrap_or_else(|| old_key.clone());
    check_mapping_key(&key)?;
    let stage = input.stage.unwrap_or_else(|| old.stage.clone());
    check_mapped_stage(call, &api_id, &stage).await?;
    let domain_key = name.to_ascii_lowercase();
    let mapping = call
        .update(
            DOMAIN_NAME_KIND,
            &domain_key,
            || no_such_domain(name),
            |domain: &mut DomainNameRecord| {
                let old_key = domain
                    .mappings
                    .iter()
                    .find(|(_, m)| m.id == id)
                    .map(|(k, _)| k.clone())
                    .ok_or_else(|| no_such_mapping(id))?;
                if key != old_key && domain.mappings.contains_key(&key) {
                    return Err(conflict(format!(
                        "An API mapping with key '{key}' already exists for this domain name"
                    )));
                }
                domain.mappings.remove(&old_key);
                let mapping = ApiMapping {
                    id: id.to_owned(),
                    api_id: api_id.clone(),
                    stage: stage.clone(),
                };
                domain.mappings.insert(key.clone(), mapping.clone());
                Ok(mapping)
            },
        )
        .await?;
    Ok((200, Some(mapping_json(&key, &mapping))))
}

pub(super) async fn get_api_mapping(call: &Call<'_>, name: &str, id: &str) -> Reply {
    call.authorize()?;
    let domain = load_domain(call, name).await?;
    let (key, mapping) = domain
        .mappings
        .iter()
        .find(|(_, m)| m.id == id)
        .ok_or_else(|| no_such_mapping(id))?;
    Ok((200, Some(mapping_json(key, mapping))))
}

pub(super) async fn get_api_mappings(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let domain = load_domain(call, name).await?;
    page(
        call,
        domain
            .mappings
            .iter()
            .map(|(key, mapping)| mapping_json(key, mapping))
            .collect(),
    )
}

pub(super) async fn delete_api_mapping(call: &Call<'_>, name: &str, id: &str) -> Reply {
    call.authorize()?;
    call.update(
        DOMAIN_NAME_KIND,
        &name.to_ascii_lowercase(),
        || no_such_domain(name),
        |domain: &mut DomainNameRecord| {
            let key = domain
                .mappings
                .iter()
                .find(|(_, m)| m.id == id)
                .map(|(key, _)| key.clone())
                .ok_or_else(|| no_such_mapping(id))?;
            domain.mappings.remove(&key);
            Ok(())
        },
    )
    .await?;
    Ok((204, None))
}

/// The `DomainName` shape.
fn domain_json(domain: &DomainNameRecord) -> Value {
    let endpoint_type = match domain.endpoint_type {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    };
    // The target name a DNS record would point at; stable per domain.
    let target = format!(
        "d-{}.execute-api.{}.amazonaws.com",
        stable_id(&domain.name, 10),
        domain.region
    );
    Shape::new()
        .set("apiMappingSelectionExpression", "$request.basepath")
        .set("domainName", &domain.name)
        .set(
            "domainNameArn",
            format!(
                "arn:aws:apigateway:{}::/domainnames/{}",
                domain.region, domain.name
            ),
        )
        .set(
            "domainNameConfigurations",
            json!([{
                "apiGatewayDomainName": target,
                "domainNameStatus": "AVAILABLE",
                "endpointType": endpoint_type,
                "securityPolicy": "TLS_1_2",
            }]),
        )
        .set("tags", &domain.tags)
        .build()
}

/// The `ApiMapping` shape.
fn mapping_json(key: &str, mapping: &ApiMapping) -> Value {
    Shape::new()
        .set("apiId", &mapping.api_id)
        .set("apiMappingId", &mapping.id)
        .set("apiMappingKey", key)
        .set("stage", &mapping.stage)
        .build()
}
