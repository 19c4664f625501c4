//! Tags (`/tags/{resource_arn}`) on REST APIs, stages and custom domain
//! names, addressed by their API Gateway ARNs
//! (`arn:aws:apigateway:{region}::/restapis/{id}[/stages/{name}]`,
//! `arn:aws:apigateway:{region}::/domainnames/{name}`).
//!
//! The ARN has no account: the resource is looked up in the caller's
//! account only, like every other call.

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::stored::{DOMAIN_NAME_KIND, DomainNameRecord};
use serde::Deserialize;

use super::deployments::stage_mut;
use super::domains::no_such_domain;
use super::refused;
use super::{bad_request, change_api, load_api};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

/// What a tagging ARN names.
#[derive(Debug, PartialEq, Eq)]
enum Tagged {
    RestApi(String),
    Stage(String, String),
    DomainName(String),
}

/// Reads `arn` for a call in `region`.
fn tagged(arn: &str, region: &str) -> Result<Tagged, ApiError> {
    let invalid = || bad_request(format!("Invalid resource ARN specified: {arn}"));
    let path = arn
        .strip_prefix("arn:aws:apigateway:")
        .and_then(|rest| rest.strip_prefix(region))
        .and_then(|rest| rest.strip_prefix("::/"))
        .ok_or_else(invalid)?;
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["restapis", id] if !id.is_empty() => Ok(Tagged::RestApi((*id).to_owned())),
        ["restapis", id, "stages", stage] if !id.is_empty() && !stage.is_empty() => {
            Ok(Tagged::Stage((*id).to_owned(), (*stage).to_owned()))
        }
        ["domainnames", name] if !name.is_empty() => Ok(Tagged::DomainName((*name).to_owned())),
        _ => Err(invalid()),
    }
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, arn: &str) -> Reply {
    match method {
        "GET" => get_tags(call, arn).await,
        "PUT" => tag_resource(call, arn).await,
        "DELETE" => untag_resource(call, arn).await,
        _ => Err(unknown_operation()),
    }
}

async fn get_tags(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let tags = match tagged(arn, &call.region)? {
        Tagged::RestApi(id) => load_api(call, &id).await?.tags,
        Tagged::Stage(id, stage) => {
            let mut record = load_api(call, &id).await?;
            stage_mut(&mut record, &stage)?.tags.clone()
        }
        Tagged::DomainName(name) => {
            call.load::<DomainNameRecord>(DOMAIN_NAME_KIND, &name)
                .await?
                .ok_or_else(no_such_domain)?
                .0
                .tags
        }
    };
    Ok((200, Some(Shape::new().set("tags", tags).build())))
}

#[derive(Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

async fn tag_resource(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let input: TagInput = call.body()?;
    let tags = input
        .tags
        .ok_or_else(|| bad_request("Tags must be specified"))?;
    fields::tags(&tags).map_err(refused)?;
    let target = tagged(arn, &call.region)?;
    change_tags(call, target, |current| current.extend(tags.clone())).await?;
    Ok((204, None))
}

async fn untag_resource(call: &Call<'_>, arn: &str) -> Reply {
    call.authorize()?;
    let keys: Vec<String> = call
        .query
        .iter()
        .filter(|(name, _)| name == "tagKeys")
        .flat_map(|(_, value)| value.split(',').map(str::to_owned))
        .collect();
    if keys.is_empty() {
        return Err(bad_request("Tag keys must be specified"));
    }
    let target = tagged(arn, &call.region)?;
    change_tags(call, target, |current| {
        for key in &keys {
            current.remove(key);
        }
    })
    .await?;
    Ok((204, None))
}

/// Applies `change` to the tags of `target` in one conditional write; the
/// result must obey the tag rules (at most 50 in all), or nothing changes.
async fn change_tags(
    call: &Call<'_>,
    target: Tagged,
    change: impl Fn(&mut BTreeMap<String, String>),
) -> Result<(), ApiError> {
    let bounded = |tags: &mut BTreeMap<String, String>| {
        change(tags);
        fields::tags(tags).map_err(refused)
    };
    match target {
        Tagged::RestApi(id) => change_api(call, &id, |record| bounded(&mut record.tags)).await,
        Tagged::Stage(id, stage) => {
            change_api(call, &id, |record| {
                bounded(&mut stage_mut(record, &stage)?.tags)
            })
            .await
        }
        Tagged::DomainName(name) => {
            call.update(
                DOMAIN_NAME_KIND,
                &name,
                no_such_domain,
                |domain: &mut DomainNameRecord| bounded(&mut domain.tags),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagging_arns_name_apis_stages_and_domain_names_of_the_region() {
        let region = "us-east-1";
        assert_eq!(
            tagged("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5", region).unwrap(),
            Tagged::RestApi("a1b2c3d4e5".into())
        );
        assert_eq!(
            tagged(
                "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod",
                region
            )
            .unwrap(),
            Tagged::Stage("a1b2c3d4e5".into(), "prod".into())
        );
        assert_eq!(
            tagged(
                "arn:aws:apigateway:us-east-1::/domainnames/api.example.com",
                region
            )
            .unwrap(),
            Tagged::DomainName("api.example.com".into())
        );
        for bad in [
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5",
            "arn:aws:apigateway:us-east-1::/restapis/",
            "arn:aws:apigateway:us-east-1::/restapis/a/resources/b",
            "arn:aws:execute-api:us-east-1:1:a/*",
        ] {
            assert_eq!(tagged(bad, region).unwrap_err().status(), 400, "{bad}");
        }
    }
}
