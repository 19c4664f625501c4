//! Resources: the editable path tree of a REST API
//! (`/restapis/{id}/resources[/{resource_id}]`).
//!
//! A resource's `path` is derived from its ancestors' path parts, so
//! renaming one rewrites the paths of its whole subtree in the same write.

use iamgate_apimodel::fields;
use iamgate_apimodel::model::PathPart;
use iamgate_apimodel::stored::{ResourceRecord, RestApiRecord};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::methods;
use super::refused;
use super::{
    Patchable, bad_request, change_api, conflict, list_json, load_api, not_found, paginate,
};
use crate::apigateway::call::{ApiError, Call, Reply, Shape, unknown_operation};

/// The not-found answer for a resource id the API does not have.
pub(crate) fn no_such_resource() -> ApiError {
    not_found("Invalid Resource identifier specified")
}

pub(super) async fn dispatch(call: &Call<'_>, method: &str, api: &str, rest: &[&str]) -> Reply {
    match (method, rest) {
        ("GET", []) => get_resources(call, api).await,
        ("GET", [resource]) => get_resource(call, api, resource).await,
        ("POST", [parent]) => create_resource(call, api, parent).await,
        ("PATCH", [resource]) => update_resource(call, api, resource).await,
        ("DELETE", [resource]) => delete_resource(call, api, resource).await,
        ("POST", [resource, "methods", http_method]) => {
            super::test_invoke::method(call, api, resource, http_method).await
        }
        (_, [resource, "methods", http_method, rest @ ..]) => {
            methods::dispatch(call, method, api, resource, http_method, rest).await
        }
        _ => Err(unknown_operation()),
    }
}

/// Whether the call asked for methods in full (`?embed=methods`; the
/// parameter may repeat or hold a comma-separated list).
fn embeds_methods(call: &Call<'_>) -> bool {
    call.query
        .iter()
        .filter(|(name, _)| name == "embed")
        .any(|(_, value)| value.split(',').any(|v| v.trim() == "methods"))
}

/// The `Resource` shape. Without `embed`, AWS names each method with an
/// empty object; with it, the whole `Method`.
pub(crate) fn resource_json(resource: &ResourceRecord, embed: bool) -> Value {
    let methods: Map<String, Value> = resource
        .methods
        .iter()
        .map(|(name, method)| {
            let value = if embed {
                methods::method_json(method)
            } else {
                Value::Object(Map::new())
            };
            (name.clone(), value)
        })
        .collect();
    Shape::new()
        .set("id", &resource.id)
        .opt("parentId", resource.parent_id.as_ref())
        .opt("pathPart", resource.path_part.as_ref())
        .set("path", &resource.path)
        .opt(
            "resourceMethods",
            (!methods.is_empty()).then_some(Value::Object(methods)),
        )
        .build()
}

async fn get_resources(call: &Call<'_>, api: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let embed = embeds_methods(call);
    let resources: Vec<&ResourceRecord> = record.resources.values().collect();
    let (page, position) = paginate(call, &resources, |r| r.id.as_str())?;
    let items = page.iter().map(|r| resource_json(r, embed)).collect();
    Ok((200, Some(list_json(items, position))))
}

async fn get_resource(call: &Call<'_>, api: &str, resource: &str) -> Reply {
    call.authorize()?;
    let record = load_api(call, api).await?;
    let found = record
        .resources
        .get(resource)
        .ok_or_else(no_such_resource)?;
    Ok((200, Some(resource_json(found, embeds_methods(call)))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateResourceInput {
    path_part: Option<String>,
}

/// One path part as API Gateway accepts it: a literal, `{name}` or
/// `{name+}` (the rule every front door applies, [`fields::path_part`]).
fn check_path_part(part: &str) -> Result<PathPart, ApiError> {
    fields::path_part(part).map_err(refused)
}

/// Refuses `part` as a new child of `parent` (or, for a rename, as the
/// new name of `renamed`): a greedy parent has no children, names are
/// unique among siblings, and only one sibling may be a variable.
fn check_sibling(
    api: &RestApiRecord,
    parent: &ResourceRecord,
    part: &PathPart,
    text: &str,
    renamed: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(PathPart::Greedy(_)) = parent.path_part.as_deref().map(PathPart::parse) {
        return Err(bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {}",
            parent.path_part.as_deref().unwrap_or_default()
        )));
    }
    let siblings = api.resources.values().filter(|r| {
        r.parent_id.as_deref() == Some(parent.id.as_str()) && Some(r.id.as_str()) != renamed
    });
    for sibling in siblings {
        let Some(name) = sibling.path_part.as_deref() else {
            continue;
        };
        if name == text {
            return Err(conflict(format!(
                "Another resource with the same parent already has this name: {text}"
            )));
        }
        let variable = |p: &PathPart| !matches!(p, PathPart::Literal(_));
        if variable(part) && variable(&PathPart::parse(name)) {
            return Err(bad_request(format!(
                "A sibling ({name}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

/// `parent_path` + `/part`.
fn child_path(parent_path: &str, part: &str) -> String {
    format!("{}/{part}", parent_path.trim_end_matches('/'))
}

async fn create_resource(call: &Call<'_>, api: &str, parent: &str) -> Reply {
    call.authorize()?;
    let input: CreateResourceInput = call.body()?;
    let text = input.path_part.unwrap_or_default();
    // AWS's resource ids are 6 characters (`roq9wj`).
    let id = call.new_id(6)?;
    let created = change_api(call, api, |record| {
        // The API and the parent are looked up before the part is read.
        let parent = record.resources.get(parent).ok_or_else(no_such_resource)?;
        let part = check_path_part(&text)?;
        check_sibling(record, parent, &part, &text, None)?;
        let path = child_path(&parent.path, &text);
        fields::path("path", &path).map_err(refused)?;
        let resource = ResourceRecord {
            id: id.clone(),
            parent_id: Some(parent.id.clone()),
            path_part: Some(text.clone()),
            path,
            methods: Default::default(),
        };
        if record.resources.contains_key(&id) {
            return Err(conflict("Resource id collision; try again"));
        }
        record.resources.insert(id.clone(), resource.clone());
        Ok(resource)
    })
    .await?;
    Ok((201, Some(resource_json(&created, false))))
}

/// UpdateResource's paths: a resource is renamed or moved.
const RESOURCE_PATCH: Patchable = Patchable {
    input: "updateResourceInput",
    add: &[],
    remove: &[],
    replace: &["/parentId", "/pathPart"],
};

async fn update_resource(call: &Call<'_>, api: &str, resource: &str) -> Reply {
    call.authorize()?;
    let operations = RESOURCE_PATCH.operations(call)?;
    let updated = change_api(call, api, |record| {
        let current = record
            .resources
            .get(resource)
            .ok_or_else(no_such_resource)?;
        let was = (current.parent_id.clone(), current.path_part.clone());
        let (mut parent, mut part) = was.clone();
        for operation in &operations {
            let value = operation.value.clone().unwrap_or_default();
            match (operation.op.as_str(), operation.path.as_str()) {
                ("replace", "/pathPart") => part = Some(value),
                ("replace", "/parentId") => parent = Some(value),
                _ => return Err(RESOURCE_PATCH.refuse(operation)),
            }
        }
        if (parent.clone(), part.clone()) != was {
            relocate(record, resource, parent.as_deref(), part.as_deref())?;
        }
        record
            .resources
            .get(resource)
            .cloned()
            .ok_or_else(no_such_resource)
    })
    .await?;
    Ok((200, Some(resource_json(&updated, false))))
}

/// Moves `id` under `parent_id` as `text` (either may be what it was) and
/// rewrites the paths below it.
fn relocate(
    record: &mut RestApiRecord,
    id: &str,
    parent_id: Option<&str>,
    text: Option<&str>,
) -> Result<(), ApiError> {
    let resource = record.resources.get(id).ok_or_else(no_such_resource)?;
    let (Some(parent_id), Some(text)) = (parent_id, text) else {
        return Err(bad_request("The root resource cannot be renamed"));
    };
    if resource.parent_id.is_none() {
        return Err(bad_request("The root resource cannot be renamed"));
    }
    let part = check_path_part(text)?;
    let parent = record
        .resources
        .get(parent_id)
        .ok_or_else(no_such_resource)?;
    if subtree(record, id).iter().any(|r| r == parent_id) {
        return Err(bad_request("Resources cannot be cyclical."));
    }
    check_sibling(record, parent, &part, text, Some(id))?;
    let old_path = resource.path.clone();
    let new_path = child_path(&parent.path, text);
    // Every path the move rewrites must still fit, before any is changed.
    fields::path("path", &new_path).map_err(refused)?;
    let below_prefix = format!("{old_path}/");
    for r in record.resources.values() {
        if let Some(below) = r.path.strip_prefix(&below_prefix) {
            fields::path("path", &format!("{new_path}/{below}")).map_err(refused)?;
        }
    }
    for r in record.resources.values_mut() {
        if r.id == id {
            r.parent_id = Some(parent_id.to_owned());
            r.path_part = Some(text.to_owned());
            r.path = new_path.clone();
        } else if let Some(below) = r.path.strip_prefix(&below_prefix) {
            r.path = format!("{new_path}/{below}");
        }
    }
    Ok(())
}

async fn delete_resource(call: &Call<'_>, api: &str, resource: &str) -> Reply {
    call.authorize()?;
    change_api(call, api, |record| {
        let target = record
            .resources
            .get(resource)
            .ok_or_else(no_such_resource)?;
        if target.parent_id.is_none() {
            return Err(bad_request("Cannot delete the root resource"));
        }
        let doomed = subtree(record, resource);
        record.resources.retain(|id, _| !doomed.contains(id));
        Ok(())
    })
    .await?;
    Ok((202, None))
}

/// `id` and every resource below it.
fn subtree(record: &RestApiRecord, id: &str) -> Vec<String> {
    let mut found = vec![id.to_owned()];
    let mut index = 0;
    while let Some(current) = found.get(index).cloned() {
        found.extend(
            record
                .resources
                .values()
                .filter(|r| r.parent_id.as_deref() == Some(current.as_str()))
                .map(|r| r.id.clone()),
        );
        index += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_are_literals_parameters_or_a_greedy_parameter() {
        assert_eq!(
            check_path_part("pets").unwrap(),
            PathPart::Literal("pets".into())
        );
        assert_eq!(
            check_path_part("{id}").unwrap(),
            PathPart::Param("id".into())
        );
        assert_eq!(
            check_path_part("{proxy+}").unwrap(),
            PathPart::Greedy("proxy".into())
        );
        for bad in ["", "a/b", "{x", "sp ace", "{}", "{a+b}"] {
            let error = check_path_part(bad).unwrap_err();
            assert_eq!(error.status(), 400, "{bad}");
        }
    }
}
