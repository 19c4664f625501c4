#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

//! The invariant that keeps an explicit Deny from being walked around: a
//! request that reaches a method is authorized against the ARN of that
//! method's path with the request's own parameter values — whatever raw
//! form (`//`, a trailing slash, dot segments, escapes) the path came in.

use iamgate_apimodel::model::{
    AuthorizationType, Integration, Method, Resource, Route, parse_template,
};
use iamgate_gateway::arn::execute_api_arn;
use iamgate_gateway::path::normalize;
use iamgate_gateway::routing::{PathParams, RestMatch, route_http, route_rest};
use proptest::prelude::*;

const TEMPLATES: &[&str] = &[
    "/",
    "/secret",
    "/secret/inner",
    "/a/b",
    "/pets/{id}",
    "/pets/dog",
    "/files/{proxy+}",
    "/x/{p}/y",
    "/{any+}",
];

fn arn(path: &str) -> String {
    execute_api_arn(
        "us-east-1",
        "111122223333",
        "a1b2c3d4e5",
        "prod",
        "GET",
        path,
    )
}

fn mock(template: &str) -> Integration {
    Integration::Mock {
        status: 200,
        headers: vec![],
        body: template.into(),
    }
}

/// The method's template with the request's parameter values put in.
fn concrete(template: &str, params: &PathParams) -> String {
    let mut path = template.to_owned();
    for (name, value) in params {
        path = path
            .replace(&format!("{{{name}+}}"), value)
            .replace(&format!("{{{name}}}"), value);
    }
    path
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("secret".to_owned()),
        Just("inner".to_owned()),
        Just("pets".to_owned()),
        Just("dog".to_owned()),
        Just("files".to_owned()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("x".to_owned()),
        Just("y".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(String::new()),
        Just("%73ecret".to_owned()),
        Just("%2e%2E".to_owned()),
        Just("%2F".to_owned()),
        Just("%zz".to_owned()),
        "[a-z0-9._~%-]{1,6}",
    ]
}

fn raw_path() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..7), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing {
            path.push('/');
        }
        path
    })
}

fn tree(templates: &[&str]) -> Resource {
    let mut root = Resource::root();
    for template in templates {
        root.add(
            &parse_template(template),
            Method {
                http_method: "GET".into(),
                resource_path: (*template).into(),
                authorization: AuthorizationType::AwsIam,
                integration: mock(template),
                api_key_required: false,
                request: Default::default(),
            },
        );
    }
    root
}

fn routes(templates: &[&str]) -> Vec<Route> {
    templates
        .iter()
        .map(|template| {
            let key = format!("GET {template}");
            let (method, path) = Route::parse_key(&key).unwrap();
            Route {
                key,
                method,
                path,
                authorization: AuthorizationType::AwsIam,
                integration: mock(template),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn a_rest_request_is_authorized_against_the_path_of_the_method_it_runs(
        chosen in prop::sample::subsequence(TEMPLATES.to_vec(), 1..TEMPLATES.len()),
        raw in raw_path(),
    ) {
        let root = tree(&chosen);
        let path = normalize(&raw);
        if let RestMatch::Method { method, params } = route_rest(&root, "GET", &path) {
            let expected = concrete(&method.resource_path, &params);
            prop_assert_eq!(arn(&path), arn(&expected), "raw {} routed to {}", raw, method.resource_path);
        }
    }

    #[test]
    fn an_http_request_is_authorized_against_the_path_of_the_route_it_runs(
        chosen in prop::sample::subsequence(TEMPLATES.to_vec(), 1..TEMPLATES.len()),
        raw in raw_path(),
    ) {
        let routes = routes(&chosen);
        let path = normalize(&raw);
        if let Some((route, params)) = route_http(&routes, "GET", &path) {
            let template = route.key.trim_start_matches("GET ");
            let expected = concrete(template, &params);
            prop_assert_eq!(arn(&path), arn(&expected), "raw {} routed to {}", raw, route.key);
        }
    }

    /// The other half: a variant of a method's own path that means the
    /// same path reaches that method, so it is neither lost nor misrouted.
    #[test]
    fn equivalent_spellings_of_a_path_reach_the_same_method(
        padding in prop::collection::vec(0usize..4, 3),
        trailing in any::<bool>(),
    ) {
        let root = tree(&["/secret/inner", "/{any+}"]);
        let spellings = [
            "/secret/inner".to_owned(),
            format!("{}secret{}inner", "/".repeat(padding[0] + 1), "/".repeat(padding[1] + 1)),
            format!("/secret/{}inner", "./".repeat(padding[2])),
            "/x/../secret/inner".to_owned(),
            "/%73ecret/%69nner".to_owned(),
            "/secret/%2E/inner".to_owned(),
        ];
        for spelling in spellings {
            let raw = if trailing { format!("{spelling}/") } else { spelling };
            let path = normalize(&raw);
            let RestMatch::Method { method, .. } = route_rest(&root, "GET", &path) else {
                return Err(TestCaseError::fail(format!("{raw} not routed")));
            };
            prop_assert_eq!(&method.resource_path, "/secret/inner", "raw {}", raw);
            prop_assert_eq!(arn(&path), arn("/secret/inner"));
        }
    }
}
