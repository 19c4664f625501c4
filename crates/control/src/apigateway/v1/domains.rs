//! Custom domain names and their base path mappings
//! (`/domainnames[/{name}[/basepathmappings[/{base_path}]]]`).
//!
//! Stored as `DomainNameRecord` documents (kind `domainname`, the owner's
//! account, keyed by the lower-cased name); the `(none)` base path is the
//! empty key. iamgate terminates no TLS for them, so certificates are
//! neither required nor kept.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::model::EndpointType;
use iamgate_apimodel::registry::stable_id;
use iamgate_apimodel::stored::{ApiMapping, DOMAIN_NAME_KIND, DomainNameRecord};
use serde::Deserialize;
use serde_json::Value;

use super::refused;
use super::{
    EndpointConfiguration, Patchable, bad_request, conflict, endpoint_settings, list_json,
    load_api, not_found, paginate,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

/// How a mapping without a base path is written in URIs and answers.
const NO_BASE_PATH: &str = "(none)";

pub(crate) fn no_such_domain() -> ApiError {
    not_found("Invalid domain name identifier specified")
}

fn no_such_mapping() -> ApiError {
    not_found("Invalid base path mapping identifier specified")
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("POST", []) => create_domain_name(call).await,
        ("GET", []) => get_domain_names(call).await,
        ("GET", [name]) => get_domain_name(call, &key(name)).await,
        ("PATCH", [name]) => update_domain_name(call, &key(name)).await,
        ("DELETE", [name]) => delete_domain_name(call, &key(name)).await,
        ("POST", [name, "basepathmappings"]) => create_mapping(call, &key(name)).await,
        ("GET", [name, "basepathmappings"]) => get_mappings(call, &key(name)).await,
        ("GET", [name, "basepathmappings", base]) => {
            get_mapping(call, &key(name), &base_key(base)).await
        }
        ("PATCH", [name, "basepathmappings", base]) => {
            update_mapping(call, &key(name), &base_key(base)).await
        }
        ("DELETE", [name, "basepathmappings", base]) => {
            delete_mapping(call, &key(name), &base_key(base)).await
        }
        _ => Err(unknown_operation()),
    }
}

/// Domain names are case-insensitive; documents are keyed lower-case.
fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// `(none)` (or nothing) is the empty key.
fn base_key(base: &str) -> String {
    if base == NO_BASE_PATH {
        String::new()
    } else {
        base.to_owned()
    }
}

fn endpoint_text(endpoint: EndpointType) -> &'static str {
    match endpoint {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    }
}

/// The `DomainName` shape. The target names are derived from the domain
/// name so they stay the same on every read.
fn domain_json(domain: &DomainNameRecord) -> Value {
    let token = stable_id(&format!("{}#{}", domain.account, domain.name), 10);
    let mut shape = Shape::new()
        .set("domainName", &domain.name)
        .set(
            "domainNameArn",
            format!(
                "arn:aws:apigateway:{}::/domainnames/{}",
                domain.region, domain.name
            ),
        )
        .set("certificateUploadDate", domain.created_at)
        .set(
            "endpointConfiguration",
            Shape::new()
                .set("types", [endpoint_text(domain.endpoint_type)])
                .build(),
        )
        .set("domainNameStatus", "AVAILABLE")
        .set("securityPolicy", "TLS_1_2");
    shape = match domain.endpoint_type {
        EndpointType::Edge => shape
            .set("distributionDomainName", format!("{token}.cloudfront.net"))
            .set("distributionHostedZoneId", "Z2FDTNDATAQYW2"),
        EndpointType::Regional | EndpointType::Private => shape.set(
            "regionalDomainName",
            format!("d-{token}.execute-api.{}.amazonaws.com", domain.region),
        ),
    };
    shape
        .opt("tags", (!domain.tags.is_empty()).then_some(&domain.tags))
        .build()
}

fn mapping_json(base: &str, mapping: &ApiMapping) -> Value {
    let base = if base.is_empty() { NO_BASE_PATH } else { base };
    Shape::new()
        .set("basePath", base)
        .set("restApiId", &mapping.api_id)
        .set("stage", &mapping.stage)
        .build()
}

/// A domain name as DNS allows it (`iamgate_apimodel::domains::domain_name`).
fn check_domain_name(name: &str) -> Result<(), ApiError> {
    match iamgate_apimodel::domains::domain_name(name) {
        Some(_) => Ok(()),
        None => Err(bad_request(format!("Invalid domain name: {name}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDomainNameInput {
    domain_name: Option<String>,
    endpoint_configuration: Option<EndpointConfiguration>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

async fn create_domain_name(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let input: CreateDomainNameInput = call.body()?;
    let name = key(&input.domain_name.unwrap_or_default());
    check_domain_name(&name)?;
    fields::tags(&input.tags).map_err(refused)?;
    let (endpoint, _) = endpoint_settings(
        "createDomainNameInput",
        input.endpoint_configuration.as_ref(),
    )?;
    // A name serves one account's APIs. The documents are per account, so
    // another account's claim is seen in what the data plane serves.
    if call.plane.apis().domains.contains_key(&name) {
        return Err(bad_request("The domain name you provided already exists."));
    }
    let record = DomainNameRecord {
        name: name.clone(),
        account: call.account().to_owned(),
        region: call.region.clone(),
        created_at: call.now,
        endpoint_type: endpoint,
        mappings: BTreeMap::new(),
        tags: input.tags,
        // Certificates come from files, which only the world file names.
        certificate: None,
        truststore: None,
    };
    call.create(DOMAIN_NAME_KIND, &name, &record)
        .await
        .map_err(|error| {
            error.unwrap_or_else(|| bad_request("The domain name you provided already exists."))
        })?;
    Ok((201, Some(domain_json(&record))))
}

async fn get_domain_names(call: &Call<'_>) -> Reply {
    call.authorize()?;
    let mut domains = call.list::<DomainNameRecord>(DOMAIN_NAME_KIND).await?;
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    let (page, position) = paginate(call, &domains, |d| d.name.as_str())?;
    let items = page.iter().map(domain_json).collect();
    Ok((200, Some(list_json(items, position))))
}

async fn load_domain(call: &Call<'_>, name: &str) -> Result<DomainNameRecord, ApiError> {
    call.load::<DomainNameRecord>(DOMAIN_NAME_KIND, name)
        .await?
        .map(|(domain, _)| domain)
        .ok_or_else(no_such_domain)
}

async fn get_domain_name(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    Ok((200, Some(domain_json(&load_domain(call, name).await?))))
}

/// UpdateDomainName's paths (API Gateway's patch operations reference).
const DOMAIN_PATCH: Patchable = Patchable {
    input: "updateDomainNameInput",
    add: &[],
    remove: &[],
    replace: &[
        "/certificateName",
        "/certificateArn",
        "/regionalCertificateName",
        "/regionalCertificateArn",
        "/endpointConfiguration/types/0",
        "/securityPolicy",
        "/mutualTlsAuthentication/truststoreUri",
        "/mutualTlsAuthentication/truststoreVersion",
        "/ownershipVerificationCertificateArn",
    ],
};

/// UpdateDomainName: the endpoint type (edge-optimized and regional may
/// be swapped; a private name stays private), and the certificate members,
/// which are taken and not kept, as CreateDomainName takes them (iamgate
/// serves domain names with certificates only the world file names).
async fn update_domain_name(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let operations = DOMAIN_PATCH.operations(call)?;
    let updated = call
        .update(
            DOMAIN_NAME_KIND,
            name,
            no_such_domain,
            |domain: &mut DomainNameRecord| {
                for operation in &operations {
                    let value = operation.value.as_deref().unwrap_or_default();
                    match (operation.op.as_str(), operation.path.as_str()) {
                        ("replace", "/endpointConfiguration/types/0") => {
                            let wanted = match value {
                                "EDGE" => EndpointType::Edge,
                                "REGIONAL" => EndpointType::Regional,
                                "PRIVATE" => EndpointType::Private,
                                other => {
                                    return Err(bad_request(format!(
                                        "Invalid endpoint configuration type: {other}"
                                    )));
                                }
                            };
                            if (wanted == EndpointType::Private)
                                != (domain.endpoint_type == EndpointType::Private)
                            {
                                return Err(bad_request(
                                    "Cannot update the endpoint type of a private domain name, or make a domain name private",
                                ));
                            }
                            domain.endpoint_type = wanted;
                        }
                        ("replace", "/securityPolicy") => {
                            // The only policy this gateway shows (and applies).
                            if value != "TLS_1_2" {
                                return Err(bad_request(format!(
                                    "Security policy {value} is not supported; TLS_1_2 is"
                                )));
                            }
                        }
                        (
                            "replace",
                            "/mutualTlsAuthentication/truststoreUri"
                            | "/mutualTlsAuthentication/truststoreVersion",
                        ) => {
                            // A truststore in S3 cannot be fetched here:
                            // refused rather than silently not enforced.
                            return Err(bad_request(
                                "Mutual TLS truststores are configured in the world file (truststore:) on this gateway",
                            ));
                        }
                        (
                            "replace",
                            "/certificateName"
                            | "/certificateArn"
                            | "/regionalCertificateName"
                            | "/regionalCertificateArn"
                            | "/ownershipVerificationCertificateArn",
                        ) => {}
                        _ => return Err(DOMAIN_PATCH.refuse(operation)),
                    }
                }
                Ok(domain.clone())
            },
        )
        .await?;
    Ok((200, Some(domain_json(&updated))))
}

async fn delete_domain_name(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    if !call.delete(DOMAIN_NAME_KIND, name).await? {
        return Err(no_such_domain());
    }
    Ok((202, None))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateMappingInput {
    base_path: Option<String>,
    rest_api_id: Option<String>,
    stage: Option<String>,
}

/// A base path: `/`-separated segments of `a-zA-Z0-9._-`, bounded as
/// every stored path.
fn check_base_path(base: &str) -> Result<(), ApiError> {
    fields::path("basePath", base).map_err(refused)?;
    let ok = base.is_empty()
        || base.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(bad_request(format!("Invalid base path specified: {base}")))
    }
}

async fn create_mapping(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let input: CreateMappingInput = call.body()?;
    let base = base_key(input.base_path.as_deref().unwrap_or(""));
    check_base_path(&base)?;
    let api_id = input
        .rest_api_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad_request("Invalid REST API identifier specified"))?;
    // A mapping names an API of the caller's own account, and (iamgate
    // does not serve "every stage" mappings) one of its stages.
    let stage = input
        .stage
        .filter(|stage| !stage.is_empty())
        .ok_or_else(|| bad_request("A stage must be specified"))?;
    check_mapped_stage(call, &api_id, &stage).await?;
    let mapping = ApiMapping {
        id: call.new_id(6)?,
        api_id,
        stage,
    };
    call.update(
        DOMAIN_NAME_KIND,
        name,
        no_such_domain,
        |domain: &mut DomainNameRecord| {
            if domain.mappings.contains_key(&base) {
                return Err(conflict("Base path already exists for this domain name"));
            }
            domain.mappings.insert(base.clone(), mapping.clone());
            Ok(())
        },
    )
    .await?;
    Ok((201, Some(mapping_json(&base, &mapping))))
}

/// A mapping names an API of the caller's own account and one of its
/// stages.
async fn check_mapped_stage(call: &Call<'_>, api_id: &str, stage: &str) -> Result<(), ApiError> {
    let api = load_api(call, api_id)
        .await
        .map_err(|_| bad_request("Invalid REST API identifier specified"))?;
    if api.stages.contains_key(stage) {
        Ok(())
    } else {
        Err(bad_request("Invalid stage identifier specified"))
    }
}

async fn get_mappings(call: &Call<'_>, name: &str) -> Reply {
    call.authorize()?;
    let domain = load_domain(call, name).await?;
    let mappings: Vec<(&String, &ApiMapping)> = domain.mappings.iter().collect();
    let (page, position) = paginate(call, &mappings, |(base, _)| base.as_str())?;
    let items = page
        .iter()
        .map(|(base, mapping)| mapping_json(base, mapping))
        .collect();
    Ok((200, Some(list_json(items, position))))
}

async fn get_mapping(call: &Call<'_>, name: &str, base: &str) -> Reply {
    call.authorize()?;
    let domain = load_domain(call, name).await?;
    let mapping = domain.mappings.get(base).ok_or_else(no_such_mapping)?;
    Ok((200, Some(mapping_json(base, mapping))))
}

/// UpdateBasePathMapping's paths.
const MAPPING_PATCH: Patchable = Patchable {
    input: "updateBasePathMappingInput",
    add: &[],
    remove: &[],
    replace: &["/basePath", "/restapiId", "/stage"],
};

async fn update_mapping(call: &Call<'_>, name: &str, base: &str) -> Reply {
    call.authorize()?;
    let operations = MAPPING_PATCH.operations(call)?;
    let domain = load_domain(call, name).await?;
    let current = domain.mappings.get(base).ok_or_else(no_such_mapping)?;
    let (mut new_base, mut api_id, mut stage) = (
        base.to_owned(),
        current.api_id.clone(),
        current.stage.clone(),
    );
    for operation in &operations {
        let value = operation.value.clone().unwrap_or_default();
        match (operation.op.as_str(), operation.path.as_str()) {
            ("replace", "/basePath") => new_base = base_key(&value),
            ("replace", "/restapiId") => api_id = value,
            ("replace", "/stage") => stage = value,
            _ => return Err(MAPPING_PATCH.refuse(operation)),
        }
    }
    check_base_path(&new_base)?;
    check_mapped_stage(call, &api_id, &stage).await?;
    let mapping = ApiMapping {
        id: current.id.clone(),
        api_id,
        stage,
    };
    call.update(
        DOMAIN_NAME_KIND,
        name,
        no_such_domain,
        |domain: &mut DomainNameRecord| {
            if !domain.mappings.contains_key(base) {
                return Err(no_such_mapping());
            }
            if new_base != base && domain.mappings.contains_key(&new_base) {
                return Err(conflict("Base path already exists for this domain name"));
            }
            domain.mappings.remove(base);
            domain.mappings.insert(new_base.clone(), mapping.clone());
            Ok(())
        },
    )
    .await?;
    Ok((200, Some(mapping_json(&new_base, &mapping))))
}

async fn delete_mapping(call: &Call<'_>, name: &str, base: &str) -> Reply {
    call.authorize()?;
    call.update(
        DOMAIN_NAME_KIND,
        name,
        no_such_domain,
        |domain: &mut DomainNameRecord| {
            domain
                .mappings
                .remove(base)
                .ok_or_else(no_such_mapping)
                .map(drop)
        },
    )
    .await?;
    Ok((202, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_and_base_paths_are_checked() {
        assert!(check_domain_name("api.example.com").is_ok());
        assert!(check_domain_name("*.example.com").is_ok());
        for bad in ["", "localhost", "-a.example.com", "a..b", "a b.com"] {
            assert!(check_domain_name(bad).is_err(), "{bad}");
        }
        assert!(check_base_path("").is_ok());
        assert!(check_base_path("v1").is_ok());
        assert!(check_base_path("v1/pets").is_ok());
        for bad in ["/v1", "v1/", "a b", "a//b"] {
            assert!(check_base_path(bad).is_err(), "{bad}");
        }
        assert_eq!(base_key("(none)"), "");
    }
}
