//! HTTP API authorizers (`/v2/apis/{id}/authorizers[/{authorizer_id}]`):
//! CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer,
//! DeleteAuthorizer — Lambda (`REQUEST`) authorizers; `JWT` ones are
//! refused by the one constructor ([`LambdaAuthorizer::new`]), as every
//! front door refuses them.
//!
//! An authorizer is part of the definition a deployment freezes, so a
//! change redeploys the `autoDeploy` stages in the same write
//! (`change_definition`).

use iamgate_apimodel::authorizers::{AuthorizerInput, LambdaAuthorizer};
use iamgate_apimodel::model::ApiFlavour;
use serde::Deserialize;
use serde_json::Value;

use super::super::call::{ApiError, Call, Reply, Shape, refused};
use super::{CHILD_ID_LENGTH, bad_request, change_definition, fresh_id, load_api, not_found, page};

fn no_such_authorizer(id: &str) -> ApiError {
    not_found(
        format!("Invalid Authorizer identifier specified {id}"),
        "Authorizer",
    )
}

/// The `Authorizer` shape.
fn authorizer_json(authorizer: &LambdaAuthorizer) -> Value {
    let input = authorizer.input(ApiFlavour::Http);
    if authorizer.kind.validates_tokens() {
        // A JWT authorizer's shape: no function, a `jwtConfiguration`.
        return Shape::new()
            .set("authorizerId", &authorizer.id)
            .set("authorizerType", authorizer.kind.as_str())
            .set("identitySource", input.identity_sources)
            .set(
                "jwtConfiguration",
                serde_json::json!({ "audience": input.audience, "issuer": input.issuer }),
            )
            .set("name", &authorizer.name)
            .build();
    }
    Shape::new()
        .opt("authorizerCredentialsArn", authorizer.credentials.as_ref())
        .set("authorizerId", &authorizer.id)
        .set(
            "authorizerPayloadFormatVersion",
            authorizer.payload_version(),
        )
        .set("authorizerResultTtlInSeconds", authorizer.ttl_seconds)
        .set("authorizerType", authorizer.kind.as_str())
        .set("authorizerUri", &authorizer.uri)
        .set("enableSimpleResponses", authorizer.simple_responses)
        .set("identitySource", input.identity_sources)
        .set("name", &authorizer.name)
        .build()
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    name: Option<String>,
    authorizer_type: Option<String>,
    authorizer_uri: Option<String>,
    authorizer_credentials_arn: Option<String>,
    identity_source: Option<Vec<String>>,
    identity_validation_expression: Option<String>,
    authorizer_result_ttl_in_seconds: Option<i64>,
    authorizer_payload_format_version: Option<String>,
    enable_simple_responses: Option<bool>,
    jwt_configuration: Option<Value>,
}

impl Input {
    /// `base` with every member this input names replaced.
    fn over(self, mut base: AuthorizerInput) -> AuthorizerInput {
        if let Some(jwt) = &self.jwt_configuration {
            // `JwtConfiguration`: `Issuer` and `Audience` (the JSON protocol
            // sends them camelCased).
            let member = |lower: &str, upper: &str| jwt.get(lower).or_else(|| jwt.get(upper));
            if let Some(issuer) = member("issuer", "Issuer").and_then(Value::as_str) {
                base.issuer = Some(issuer.to_owned());
            }
            if let Some(audience) = member("audience", "Audience").and_then(Value::as_array) {
                base.audience = audience
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
            }
        }
        macro_rules! take {
            ($from:ident => $to:ident) => {
                if self.$from.is_some() {
                    base.$to = self.$from;
                }
            };
        }
        take!(name => name);
        take!(authorizer_type => kind);
        take!(authorizer_uri => uri);
        take!(authorizer_credentials_arn => credentials);
        take!(identity_validation_expression => validation_expression);
        take!(authorizer_result_ttl_in_seconds => ttl_seconds);
        take!(authorizer_payload_format_version => payload_format_version);
        take!(enable_simple_responses => simple_responses);
        if let Some(sources) = self.identity_source {
            base.identity_sources = sources;
        }
        base
    }
}

pub(super) async fn create(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: Input = call.body()?;
    if input.name.is_none() {
        return Err(bad_request("Name is required"));
    }
    let built = input.over(AuthorizerInput::default());
    // Checked before the API is read so a bad request costs nothing.
    LambdaAuthorizer::new(ApiFlavour::Http, built.clone()).map_err(refused)?;
    let authorizer = change_definition(call, id, |api| {
        let authorizer_id = fresh_id(call, CHILD_ID_LENGTH, |candidate| {
            api.authorizers.contains_key(candidate)
        })?;
        let authorizer = LambdaAuthorizer::new(
            ApiFlavour::Http,
            AuthorizerInput {
                id: authorizer_id.clone(),
                ..built.clone()
            },
        )
        .map_err(refused)?;
        api.authorizers.insert(authorizer_id, authorizer.clone());
        Ok(authorizer)
    })
    .await?;
    Ok((201, Some(authorizer_json(&authorizer))))
}

pub(super) async fn get(call: &Call<'_>, id: &str, authorizer: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let found = api
        .authorizers
        .get(authorizer)
        .ok_or_else(|| no_such_authorizer(authorizer))?;
    Ok((200, Some(authorizer_json(found))))
}

pub(super) async fn list(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    page(
        call,
        api.authorizers.values().map(authorizer_json).collect(),
    )
}

pub(super) async fn update(call: &Call<'_>, id: &str, authorizer_id: &str) -> Reply {
    call.authorize()?;
    let input: Input = call.body()?;
    let updated = change_definition(call, id, |api| {
        let current = api
            .authorizers
            .get(authorizer_id)
            .ok_or_else(|| no_such_authorizer(authorizer_id))?;
        let merged = input.clone().over(current.input(ApiFlavour::Http));
        let updated = LambdaAuthorizer::new(ApiFlavour::Http, merged).map_err(refused)?;
        api.authorizers
            .insert(authorizer_id.to_owned(), updated.clone());
        Ok(updated)
    })
    .await?;
    Ok((200, Some(authorizer_json(&updated))))
}

pub(super) async fn delete(call: &Call<'_>, id: &str, authorizer_id: &str) -> Reply {
    call.authorize()?;
    change_definition(call, id, |api| {
        if !api.authorizers.contains_key(authorizer_id) {
            return Err(no_such_authorizer(authorizer_id));
        }
        if let Some(route) = api
            .routes
            .values()
            .find(|r| r.authorizer_id.as_deref() == Some(authorizer_id))
        {
            return Err(bad_request(format!(
                "Cannot delete authorizer {authorizer_id}: it is attached to route {}",
                route.route_key
            )));
        }
        api.authorizers.remove(authorizer_id);
        Ok(())
    })
    .await?;
    Ok((204, None))
}
