//! Tags of APIs, stages and domain names, addressed by ARN
//! (`arn:aws:apigateway:<region>::/apis/<id>`, `…/apis/<id>/stages/<name>`,
//! `…::/domainnames/<name>`).

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::stored::{DOMAIN_NAME_KIND, DomainNameRecord};
use serde::Deserialize;
use serde_json::json;

use super::super::call::{ApiError, Call, Reply, refused};
use super::stages::no_such_stage;
use super::{bad_request, change_api, load_api, not_found};

/// What a tag ARN names in the caller's region.
enum Tagged {
    Api(String),
    Stage(String, String),
    Domain(String),
}

fn parse_arn(call: &Call<'_>, arn: &str) -> Result<Tagged, ApiError> {
    let unknown = || not_found(format!("Invalid resource ARN {arn}"), "Tags");
    let prefix = format!("arn:aws:apigateway:{}::/", call.region);
    let path = arn.strip_prefix(&prefix).ok_or_else(unknown)?;
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["apis", id] => Ok(Tagged::Api((*id).to_owned())),
        ["apis", id, "stages", stage] => Ok(Tagged::Stage((*id).to_owned(), (*stage).to_owned())),
        ["domainnames", name] => Ok(Tagged::Domain((*name).to_owned())),
        _ => Err(unknown()),
    }
}

/// Applies `change` to the tags `arn` names, in one conditional write; the
/// result must obey the tag rules (at most 50 in all), or nothing changes.
async fn change_tags(
    call: &Call<'_>,
    arn: &str,
    change: impl Fn(&mut BTreeMap<String, String>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let bounded = |tags: &mut BTreeMap<String, String>| {
        change(tags)?;
        fields::tags(tags).map_err(refused)
    };
    match parse_arn(call, arn)? {
        Tagged::Api(id) => change_api(call, &id, |api| bounded(&mut api.tags)).await,
        Tagged::Stage(id, stage) => {
            change_api(call, &id, |api| {
                let stage = api
                    .stages
                    .get_mut(&stage)
                    .ok_or_else(|| no_such_stage(&stage))?;
                bounded(&mut stage.tags)
            })
            .await
        }
        Tagged::Domain(name) => {
            call.update(
                DOMAIN_NAME_KIND,
                &name.to_ascii_lowercase(),
                || domain_not_found(&name),
                |domain: &mut DomainNameRecord| bounded(&mut domain.tags),
            )
            .await
        }
    }
}

fn domain_not_found(name: &str) -> ApiError {
    not_found(
        format!("Invalid domain name identifier specified {name}"),
        "DomainName",
    )
}

#[derive(Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

pub(super) async fn tag_resource(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let input: TagInput = call.body()?;
    let tags = input.tags.ok_or_else(|| bad_request("Tags are required"))?;
    fields::tags(&tags).map_err(refused)?;
    change_tags(call, arn, |current| {
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    })
    .await?;
    Ok((201, Some(json!({}))))
}

pub(super) async fn untag_resource(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let keys: Vec<String> = call
        .query
        .iter()
        .filter(|(name, _)| name == "tagKeys")
        .map(|(_, value)| value.clone())
        .collect();
    if keys.is_empty() {
        return Err(bad_request("TagKeys are required"));
    }
    change_tags(call, arn, |current| {
        for key in &keys {
            current.remove(key);
        }
        Ok(())
    })
    .await?;
    Ok((204, None))
}

pub(super) async fn get_tags(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let tags = match parse_arn(call, arn)? {
        Tagged::Api(id) => load_api(call, &id).await?.tags,
        Tagged::Stage(id, stage) => {
            load_api(call, &id)
                .await?
                .stages
                .remove(&stage)
                .ok_or_else(|| no_such_stage(&stage))?
                .tags
        }
        Tagged::Domain(name) => {
            call.load::<DomainNameRecord>(DOMAIN_NAME_KIND, &name.to_ascii_lowercase())
                .await?
                .ok_or_else(|| domain_not_found(&name))?
                .0
                .tags
        }
    };
    Ok((200, Some(json!({ "tags": tags }))))
}
