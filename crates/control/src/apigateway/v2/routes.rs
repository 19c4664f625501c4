//! Routes: `GET /pets/{id}`, `ANY /{proxy+}`, `$default`, each with its
//! authorization type and target integration.

use iamgate_apimodel::stored::{HttpApiRecord, RouteRecord};
use serde::Deserialize;
use serde_json::Value;

use super::super::call::{ApiError, Call, Reply, Shape};
use super::{
    CHILD_ID_LENGTH, bad_request, change_definition, conflict, fresh_id, load_api, not_found, page,
};

/// Refuses a route key API Gateway would not accept: `$default`, or a
/// method and a path of literal, `{param}` and (last only) `{param+}`
/// segments (the rule every front door applies, `fields::route_key`).
pub(super) fn check_route_key(key: &str) -> Result<(), ApiError> {
    iamgate_apimodel::fields::route_key(key)
        .map(|_| ())
        .map_err(super::super::call::refused)
}

/// Only the authorization types the data plane enforces are accepted:
/// storing a `JWT` route that could never be served as such would invite
/// mistaking it for a protected one.
fn check_authorization(kind: &str) -> Result<(), ApiError> {
    match kind {
        "NONE" | "AWS_IAM" | "CUSTOM" | "JWT" => Ok(()),
        other => Err(bad_request(format!(
            "Invalid authorization type {other}: one of NONE, AWS_IAM, CUSTOM, JWT"
        ))),
    }
}

/// A target must name an integration of the same API.
fn check_target(api: &HttpApiRecord, target: &str) -> Result<(), ApiError> {
    let known = target
        .strip_prefix("integrations/")
        .is_some_and(|id| api.integrations.contains_key(id));
    if known {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Invalid target {target}: expected integrations/{{integrationId}} of an integration of this API"
        )))
    }
}

/// API keys are not checked by the data plane, so a route that asks for
/// one is refused rather than served without.
fn check_api_key_required(required: Option<bool>) -> Result<(), ApiError> {
    if required == Some(true) {
        return Err(bad_request(
            "ApiKeyRequired is not supported by iamgate (API keys apply to WebSocket APIs)",
        ));
    }
    Ok(())
}

fn check_unique_key(api: &HttpApiRecord, key: &str, except: Option<&str>) -> Result<(), ApiError> {
    let taken = api
        .routes
        .values()
        .any(|r| r.route_key == key && Some(r.id.as_str()) != except);
    if taken {
        return Err(conflict(format!(
            "Route with key {key} already exists for this API"
        )));
    }
    Ok(())
}

pub(super) fn no_such_route(route: &str) -> ApiError {
    not_found(
        format!("Invalid Route identifier specified {route}"),
        "Route",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteInput {
    route_key: Option<String>,
    authorization_type: Option<String>,
    authorizer_id: Option<String>,
    target: Option<String>,
    api_key_required: Option<bool>,
    operation_name: Option<String>,
    authorization_scopes: Option<Vec<String>>,
}

impl RouteInput {
    /// Checks what does not depend on the API's current state.
    fn check(&self) -> Result<(), ApiError> {
        if let Some(key) = &self.route_key {
            check_route_key(key)?;
        }
        if let Some(kind) = &self.authorization_type {
            check_authorization(kind)?;
        }
        if let Some(scopes) = &self.authorization_scopes {
            iamgate_apimodel::authorizers::authorization_scopes(scopes)
                .map_err(|invalid| bad_request(invalid.0))?;
        }
        check_api_key_required(self.api_key_required)
    }
}

pub(super) async fn create_route(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: RouteInput = call.body()?;
    let key = input
        .route_key
        .clone()
        .ok_or_else(|| bad_request("RouteKey is required"))?;
    let route = change_definition(call, id, |api| {
        // The API is looked up before the values are read.
        input.check()?;
        check_unique_key(api, &key, None)?;
        if let Some(target) = &input.target {
            check_target(api, target)?;
        }
        let route_id = fresh_id(call, CHILD_ID_LENGTH, |id| api.routes.contains_key(id))?;
        let route = RouteRecord {
            id: route_id.clone(),
            route_key: key.clone(),
            authorization_type: input
                .authorization_type
                .clone()
                .unwrap_or_else(|| "NONE".to_owned()),
            authorizer_id: input.authorizer_id.clone(),
            authorization_scopes: input.authorization_scopes.clone().unwrap_or_default(),
            target: input.target.clone(),
            api_key_required: false,
            operation_name: input.operation_name.clone(),
        };
        let route = with_authorizer(api, route)?;
        api.routes.insert(route_id, route.clone());
        Ok(route)
    })
    .await?;
    Ok((201, Some(route_json(&route))))
}

pub(super) async fn get_route(call: &Call<'_>, id: &str, route: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let route = api.routes.get(route).ok_or_else(|| no_such_route(route))?;
    Ok((200, Some(route_json(route))))
}

pub(super) async fn get_routes(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let mut routes: Vec<&RouteRecord> = api.routes.values().collect();
    routes.sort_by(|a, b| (&a.route_key, &a.id).cmp(&(&b.route_key, &b.id)));
    page(call, routes.into_iter().map(route_json).collect())
}

pub(super) async fn update_route(call: &Call<'_>, id: &str, route_id: &str) -> Reply {
    call.authorize()?;
    let input: RouteInput = call.body()?;
    let route = change_definition(call, id, |api| {
        if !api.routes.contains_key(route_id) {
            return Err(no_such_route(route_id));
        }
        // The API and the route are looked up before the values are read.
        input.check()?;
        if let Some(key) = &input.route_key {
            check_unique_key(api, key, Some(route_id))?;
        }
        // An empty target detaches the route from its integration.
        let target = match input.target.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(target) => {
                check_target(api, target)?;
                Some(Some(target.to_owned()))
            }
        };
        let route = api
            .routes
            .get_mut(route_id)
            .ok_or_else(|| no_such_route(route_id))?;
        if let Some(key) = &input.route_key {
            route.route_key = key.clone();
        }
        if let Some(kind) = &input.authorization_type {
            route.authorization_type = kind.clone();
        }
        if let Some(target) = target {
            route.target = target;
        }
        if let Some(name) = &input.operation_name {
            route.operation_name = Some(name.clone());
        }
        if let Some(authorizer) = &input.authorizer_id {
            route.authorizer_id = Some(authorizer.clone());
        }
        if let Some(scopes) = &input.authorization_scopes {
            route.authorization_scopes = scopes.clone();
        }
        let route = route.clone();
        let route = with_authorizer(api, route)?;
        api.routes.insert(route_id.to_owned(), route.clone());
        Ok(route)
    })
    .await?;
    Ok((200, Some(route_json(&route))))
}

pub(super) async fn delete_route(call: &Call<'_>, id: &str, route_id: &str) -> Reply {
    call.authorize()?;
    change_definition(call, id, |api| {
        api.routes
            .remove(route_id)
            .map(|_| ())
            .ok_or_else(|| no_such_route(route_id))
    })
    .await?;
    Ok((204, None))
}

/// A `CUSTOM` route must name one of the API's authorizers; any other
/// keeps none.
fn with_authorizer(api: &HttpApiRecord, mut route: RouteRecord) -> Result<RouteRecord, ApiError> {
    let wants_tokens = match route.authorization_type.as_str() {
        "CUSTOM" => false,
        "JWT" => true,
        _ => {
            route.authorizer_id = None;
            return Ok(route);
        }
    };
    match route.authorizer_id.as_deref() {
        Some(id)
            if api
                .authorizers
                .get(id)
                .is_some_and(|a| a.kind.validates_tokens() == wants_tokens) =>
        {
            Ok(route)
        }
        Some(id) => Err(bad_request(format!("Invalid authorizer ID specified {id}"))),
        None => Err(bad_request(
            "AuthorizerId is required when AuthorizationType is CUSTOM or JWT",
        )),
    }
}

/// The `Route` shape.
fn route_json(route: &RouteRecord) -> Value {
    Shape::new()
        .set("apiKeyRequired", route.api_key_required)
        .set("authorizationType", &route.authorization_type)
        .opt(
            "authorizationScopes",
            (!route.authorization_scopes.is_empty()).then_some(&route.authorization_scopes),
        )
        .opt("authorizerId", route.authorizer_id.as_ref())
        .opt("operationName", route.operation_name.as_ref())
        .set("routeId", &route.id)
        .set("routeKey", &route.route_key)
        .opt("target", route.target.as_ref())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_default_or_method_and_template_path() {
        for good in [
            "$default",
            "GET /",
            "ANY /{proxy+}",
            "GET /pets/{id}",
            "POST /pets/{id}/toys/{toy-id}",
            "DELETE /files/{path+}",
            "OPTIONS /a.b/c_d",
        ] {
            assert!(check_route_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "default",
            "GET",
            "GET pets",
            "FETCH /pets",
            "get /pets",
            "GET /pets//x",
            "GET /pets/",
            "GET /{proxy+}/x",
            "GET /{}",
            "GET /{id",
            "GET /{a}/{a}",
            "GET /pe{ts",
            "GET  /pets",
        ] {
            assert!(check_route_key(bad).is_err(), "{bad:?}");
        }
    }
}
