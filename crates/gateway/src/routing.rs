//! Matching a request to a REST API method or an HTTP API route, with
//! AWS's precedence (API Gateway Developer Guide: "Set up a proxy
//! integration with a proxy resource", "Create routes for HTTP APIs in API
//! Gateway").
//!
//! REST: walk the resource tree segment by segment, a literal child before
//! a `{param}` before a `{proxy+}`, and at the resource reached the
//! request's own method before `ANY`; a resource with neither is no match,
//! and the walk backtracks to the next sibling or ancestor's `{proxy+}`
//! ("a method request against a specific resource takes precedence over a
//! method request against a generic resource at the same level"). HTTP: an exact route before a greedy one before `$default`; among
//! equals, literal before parameter before greedy from the left, an
//! explicit method before `ANY`. Path parameters are returned raw, as the
//! request carried them.

use iamgate_apimodel::model::{Method, PathPart, Resource, Route};

/// The methods `ANY` stands for; `HEAD` is not served by a `GET` method.
const ANY_METHODS: &[&str] = &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// Path parameters by name.
pub type PathParams = Vec<(String, String)>;

/// The segments of a request path: empty segments (a trailing slash, `//`)
/// do not take part in matching ([`crate::path`]).
pub fn segments(path: &str) -> Vec<&str> {
    crate::path::segments(path).collect()
}

/// The outcome of REST routing.
#[derive(Debug, PartialEq, Eq)]
pub enum RestMatch<'a> {
    Method {
        method: &'a Method,
        params: PathParams,
    },
    /// No resource, or no method for this verb: `Missing Authentication Token`.
    NotFound,
}

/// Routes `method path` (the path after the stage) in a REST API stage.
///
/// AWS matches a *method request* — a resource together with a method —
/// not a resource and then a method: a resource that matches the path but
/// has no method for the verb does not stop the search, which goes on to
/// its less specific siblings (a `{param}`, then a `{proxy+}`) and, failing
/// those, to the `{proxy+}` siblings of its ancestors. So `OPTIONS /test`,
/// where `/test` has only `POST` and `/{proxy+}` has `OPTIONS`, is served
/// by the proxy.
pub fn route_rest<'a>(root: &'a Resource, method: &str, path: &str) -> RestMatch<'a> {
    let segments = segments(path);
    let mut params = PathParams::new();
    match find_method(root, method, &segments, &mut params) {
        Some(found) => RestMatch::Method {
            method: found,
            params,
        },
        None => RestMatch::NotFound,
    }
}

/// The resource's own method for the verb, else its `ANY` if `ANY` covers
/// the verb.
fn method_of<'a>(resource: &'a Resource, method: &str) -> Option<&'a Method> {
    let explicit = resource.methods.iter().find(|m| m.http_method == method);
    explicit.or_else(|| {
        resource
            .methods
            .iter()
            .find(|m| m.http_method == "ANY" && ANY_METHODS.contains(&method))
    })
}

/// The most specific method request under `node` for the remaining
/// segments, trying children literal before parameter before greedy and
/// backtracking out of any that yields no method; `params` holds the
/// parameters of the path taken.
fn find_method<'a>(
    node: &'a Resource,
    method: &str,
    segments: &[&str],
    params: &mut PathParams,
) -> Option<&'a Method> {
    let Some((first, rest)) = segments.split_first() else {
        return method_of(node, method);
    };
    let mut children: Vec<&Resource> = node.children.iter().collect();
    children.sort_by_key(|child| child.part.as_ref().map_or(0, PathPart::rank));
    for child in children {
        match &child.part {
            Some(PathPart::Literal(literal)) if literal == first => {
                if let Some(found) = find_method(child, method, rest, params) {
                    return Some(found);
                }
            }
            Some(PathPart::Param(name)) => {
                params.push((name.clone(), (*first).to_owned()));
                if let Some(found) = find_method(child, method, rest, params) {
                    return Some(found);
                }
                params.pop();
            }
            Some(PathPart::Greedy(name)) => {
                if let Some(found) = method_of(child, method) {
                    params.push((name.clone(), segments.join("/")));
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// Routes `method path` among an HTTP API stage's routes.
pub fn route_http<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
) -> Option<(&'a Route, PathParams)> {
    let segments = segments(path);
    let mut best: Option<(Vec<u8>, &Route, PathParams)> = None;
    for route in routes {
        let Some(parts) = &route.path else { continue };
        if route.method.as_deref().is_some_and(|m| m != method) {
            continue;
        }
        let Some((ranks, params)) = match_parts(parts, &segments) else {
            continue;
        };
        // Greedy routes come after exact ones, then the ranks from the
        // left, then an explicit method before ANY.
        let mut key = vec![u8::from(ranks.contains(&2))];
        key.extend(ranks);
        key.push(u8::from(route.method.is_none()));
        if best.as_ref().is_none_or(|(best_key, _, _)| key < *best_key) {
            best = Some((key, route, params));
        }
    }
    if let Some((_, route, params)) = best {
        return Some((route, params));
    }
    routes
        .iter()
        .find(|route| route.path.is_none())
        .map(|route| (route, PathParams::new()))
}

fn match_parts(parts: &[PathPart], segments: &[&str]) -> Option<(Vec<u8>, PathParams)> {
    let mut ranks = Vec::with_capacity(parts.len());
    let mut params = PathParams::new();
    for (index, part) in parts.iter().enumerate() {
        ranks.push(part.rank());
        match part {
            PathPart::Greedy(name) => {
                let rest = segments.get(index..).filter(|rest| !rest.is_empty())?;
                params.push((name.clone(), rest.join("/")));
                return Some((ranks, params));
            }
            PathPart::Literal(literal) => {
                if segments.get(index) != Some(&literal.as_str()) {
                    return None;
                }
            }
            PathPart::Param(name) => {
                params.push((name.clone(), (*segments.get(index)?).to_owned()));
            }
        }
    }
    (segments.len() == parts.len()).then_some((ranks, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamgate_apimodel::model::{AuthorizationType, Integration, parse_template};

    fn method(verb: &str) -> Method {
        Method {
            http_method: verb.into(),
            resource_path: String::new(),
            authorization: AuthorizationType::AwsIam,
            integration: Integration::Mock {
                status: 200,
                headers: vec![],
                body: verb.into(),
            },
            api_key_required: false,
            request: Default::default(),
        }
    }

    fn tree() -> Resource {
        let mut root = Resource::root();
        root.add(&[], method("GET"));
        root.add(&parse_template("/pets"), method("GET"));
        root.add(&parse_template("/pets/{petId}"), method("GET"));
        root.add(&parse_template("/pets/{petId}"), method("ANY"));
        root.add(&parse_template("/pets/dog"), method("GET"));
        root.add(&parse_template("/files/{proxy+}"), method("ANY"));
        root
    }

    fn routed(root: &Resource, verb: &str, path: &str) -> Option<(String, PathParams)> {
        match route_rest(root, verb, path) {
            RestMatch::Method { method, params } => {
                let Integration::Mock { body, .. } = &method.integration else {
                    unreachable!()
                };
                Some((body.clone(), params))
            }
            RestMatch::NotFound => None,
        }
    }

    #[test]
    fn rest_literal_beats_parameter_and_explicit_method_beats_any() {
        let root = tree();
        assert_eq!(
            routed(&root, "GET", "/pets/dog"),
            Some(("GET".into(), vec![]))
        );
        assert_eq!(
            routed(&root, "GET", "/pets/42"),
            Some(("GET".into(), vec![("petId".into(), "42".into())]))
        );
        assert_eq!(
            routed(&root, "DELETE", "/pets/42"),
            Some(("ANY".into(), vec![("petId".into(), "42".into())]))
        );
    }

    #[test]
    fn rest_root_and_trailing_slash() {
        let root = tree();
        assert_eq!(routed(&root, "GET", "/").map(|r| r.0), Some("GET".into()));
        assert_eq!(routed(&root, "GET", "").map(|r| r.0), Some("GET".into()));
        assert_eq!(
            routed(&root, "GET", "/pets/").map(|r| r.0),
            Some("GET".into())
        );
    }

    #[test]
    fn rest_greedy_takes_the_rest_and_needs_one_segment() {
        let root = tree();
        assert_eq!(
            routed(&root, "PUT", "/files/a/b/c.txt"),
            Some(("ANY".into(), vec![("proxy".into(), "a/b/c.txt".into())]))
        );
        assert_eq!(routed(&root, "PUT", "/files"), None);
    }

    #[test]
    fn rest_unknown_resource_or_method_is_not_found() {
        let root = tree();
        assert_eq!(routed(&root, "POST", "/pets"), None);
        assert_eq!(routed(&root, "GET", "/owners"), None);
        assert_eq!(
            routed(&root, "HEAD", "/pets"),
            None,
            "HEAD is not served by GET"
        );
        assert_eq!(
            routed(&root, "TRACE", "/pets/1"),
            None,
            "ANY does not cover TRACE"
        );
    }

    /// `/test` with only POST, beside `/{proxy+}` with OPTIONS (a CORS
    /// preflight catch-all), and `/items/special` with only GET beside
    /// `/items/{id}` with DELETE.
    fn tree_with_fallbacks() -> Resource {
        let mut root = Resource::root();
        root.add(&parse_template("/test"), method("POST"));
        root.add(&parse_template("/{proxy+}"), method("OPTIONS"));
        root.add(&parse_template("/items/special"), method("GET"));
        root.add(&parse_template("/items/{id}"), method("DELETE"));
        root.add(&parse_template("/any"), method("ANY"));
        root.add(&parse_template("/deep/a/b"), method("POST"));
        root
    }

    #[test]
    fn rest_method_missing_on_literal_falls_back_to_sibling_greedy() {
        let root = tree_with_fallbacks();
        assert_eq!(
            routed(&root, "OPTIONS", "/test"),
            Some(("OPTIONS".into(), vec![("proxy".into(), "test".into())]))
        );
        assert_eq!(
            routed(&root, "POST", "/test").map(|r| r.0),
            Some("POST".into())
        );
    }

    #[test]
    fn rest_method_missing_on_literal_falls_back_to_sibling_parameter() {
        let root = tree_with_fallbacks();
        assert_eq!(
            routed(&root, "DELETE", "/items/special"),
            Some(("DELETE".into(), vec![("id".into(), "special".into())]))
        );
        assert_eq!(
            routed(&root, "GET", "/items/special"),
            Some(("GET".into(), vec![]))
        );
    }

    #[test]
    fn rest_method_missing_deep_falls_back_to_ancestor_greedy() {
        let root = tree_with_fallbacks();
        assert_eq!(
            routed(&root, "OPTIONS", "/deep/a/b"),
            Some(("OPTIONS".into(), vec![("proxy".into(), "deep/a/b".into())]))
        );
        assert_eq!(
            routed(&root, "OPTIONS", "/items/special"),
            Some((
                "OPTIONS".into(),
                vec![("proxy".into(), "items/special".into())]
            )),
            "no parameter of the abandoned branch is kept"
        );
    }

    #[test]
    fn rest_any_on_specific_resource_beats_explicit_method_on_greedy_sibling() {
        let root = tree_with_fallbacks();
        assert_eq!(
            routed(&root, "OPTIONS", "/any"),
            Some(("ANY".into(), vec![]))
        );
    }

    #[test]
    fn rest_no_method_anywhere_on_the_path_is_not_found() {
        let root = tree_with_fallbacks();
        assert_eq!(routed(&root, "GET", "/test"), None);
        assert_eq!(
            routed(&root, "OPTIONS", "/"),
            None,
            "the root is not covered by a greedy child"
        );
    }

    fn route(key: &str) -> Route {
        let (method, path) = Route::parse_key(key).unwrap();
        Route {
            key: key.into(),
            method,
            path,
            authorization: AuthorizationType::AwsIam,
            integration: Integration::Mock {
                status: 200,
                headers: vec![],
                body: key.into(),
            },
        }
    }

    #[test]
    fn http_route_priority_follows_the_documented_example() {
        let routes: Vec<Route> = [
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "GET /pets/{proxy+}",
            "ANY /{proxy+}",
            "$default",
        ]
        .into_iter()
        .map(route)
        .collect();
        let key =
            |verb: &str, path: &str| route_http(&routes, verb, path).map(|(r, _)| r.key.clone());
        assert_eq!(
            key("GET", "/pets/dog/1").as_deref(),
            Some("GET /pets/dog/1")
        );
        assert_eq!(
            key("GET", "/pets/dog/2").as_deref(),
            Some("GET /pets/dog/{id}")
        );
        assert_eq!(
            key("GET", "/pets/cat/1").as_deref(),
            Some("GET /pets/{proxy+}")
        );
        assert_eq!(key("POST", "/test/5").as_deref(), Some("ANY /{proxy+}"));
        assert_eq!(key("GET", "/").as_deref(), Some("$default"));
    }

    #[test]
    fn http_explicit_method_beats_any_and_another_method_falls_through() {
        let routes: Vec<Route> = ["ANY /pets", "GET /pets", "ANY /{proxy+}", "$default"]
            .into_iter()
            .map(route)
            .collect();
        let key =
            |verb: &str, path: &str| route_http(&routes, verb, path).map(|(r, _)| r.key.clone());
        assert_eq!(key("GET", "/pets").as_deref(), Some("GET /pets"));
        assert_eq!(key("POST", "/pets").as_deref(), Some("ANY /pets"));
        assert_eq!(key("POST", "/pets/1").as_deref(), Some("ANY /{proxy+}"));
        assert_eq!(key("GET", "/").as_deref(), Some("$default"));
    }

    #[test]
    fn http_parameter_beats_greedy_at_the_same_position() {
        let routes: Vec<Route> = ["GET /pets/{proxy+}", "GET /pets/{id}"]
            .into_iter()
            .map(route)
            .collect();
        let (found, params) = route_http(&routes, "GET", "/pets/7").unwrap();
        assert_eq!(found.key, "GET /pets/{id}");
        assert_eq!(params, vec![("id".to_owned(), "7".to_owned())]);
        let (found, _) = route_http(&routes, "GET", "/pets/7/toys").unwrap();
        assert_eq!(found.key, "GET /pets/{proxy+}");
        assert!(
            route_http(&routes, "GET", "/pets").is_none(),
            "a greedy variable needs a segment"
        );
    }

    #[test]
    fn http_without_default_route_nothing_matches() {
        let routes = vec![route("GET /pets")];
        assert!(route_http(&routes, "POST", "/pets").is_none());
        assert!(route_http(&routes, "GET", "/pets/1").is_none());
        assert!(route_http(&routes, "GET", "/pets").is_some());
    }
}
