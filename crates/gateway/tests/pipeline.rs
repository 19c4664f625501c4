#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The execute-api pipeline on the seeds' setups and the decision tables:
//! a REST API in account 123456789012 called by users of its own account
//! and of 098765432109 (seed 003), resource-policy variants of Tables A/B,
//! anonymous callers on NONE methods, and an HTTP API that no caller of
//! another account can pass.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use iamgate_apimodel::model::{
    AuthorizationType, EndpointType, HttpApi, HttpStage, Integration, Method, Resource, RestApi,
    RestStage, Route, parse_template,
};
use iamgate_gateway::access::{AccessDecision, AccessOutcome};
use iamgate_gateway::authorize::{Authorizer, Call, Verdict};
use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::request_context::RequestFacts;
use iamgate_policy::{CompiledPolicies, NamedPolicy, PolicyDocument, PolicyKind, PolicyType};
use iamgate_sigv4::HttpRequest;
use iamgate_sigv4::time::format_basic;
use support::Signed;

const NOW: i64 = 1_795_277_521;
const OWNER: &str = "123456789012";

const WORLD: &str = r#"
accounts:
  - id: "123456789012"
    users:
      - name: api-exe-nonvalid
        access_keys: [{ id: AKIASAMEALLOWED00001, secret: "same-allowed" }]
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'
      - name: api-not-exe
        access_keys: [{ id: AKIASAMENOPOLICY0001, secret: "same-nothing" }]
  - id: "098765432109"
    users:
      - name: api-exe-valid
        access_keys: [{ id: AKIAOTHERALLOWED0001, secret: "other-allowed" }]
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'
      - name: stranger
        access_keys: [{ id: AKIAOTHERNOPOLICY001, secret: "other-nothing" }]
"#;

fn world() -> World {
    let config = WorldConfig::parse(WORLD).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()))
}

fn mock(body: &str) -> Integration {
    Integration::Mock {
        status: 200,
        headers: vec![],
        body: body.into(),
    }
}

fn rest_api(policy: Option<&str>) -> RestApi {
    let mut root = Resource::root();
    root.add(
        &[],
        Method {
            http_method: "GET".into(),
            resource_path: "/".into(),
            authorization: AuthorizationType::AwsIam,
            integration: mock("root"),
            api_key_required: false,
            request: Default::default(),
        },
    );
    root.add(
        &parse_template("/open"),
        Method {
            http_method: "GET".into(),
            resource_path: "/open".into(),
            authorization: AuthorizationType::None,
            integration: mock("open"),
            api_key_required: false,
            request: Default::default(),
        },
    );
    let policy = policy.map(|text| {
        let doc = PolicyDocument::parse(text, PolicyKind::Resource).unwrap();
        Arc::new(CompiledPolicies::compile(&[NamedPolicy::new(
            "resource-policy",
            doc,
        )]))
    });
    let stage = RestStage {
        name: "prod".into(),
        root,
        policy,
        policy_text: None,
        variables: Vec::new(),
        gateway_responses: Default::default(),
    };
    RestApi {
        id: "apiid".into(),
        account: OWNER.into(),
        region: "us-east-1".into(),
        endpoint_type: EndpointType::Regional,
        stages: HashMap::from([("prod".to_owned(), stage)]),
    }
}

fn request(method: &str, target: &str, key: Option<(&str, &str)>) -> Signed {
    support::request(
        method,
        target,
        "apiid.execute-api.us-east-1.amazonaws.com",
        NOW,
        key,
    )
}

/// Status and body (or the integration's body) of a REST call to `prod`.
fn call_rest(api: &RestApi, signed: &Signed) -> (u16, String) {
    let world = world();
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, b"");
    let path = view.path.strip_prefix("/prod").unwrap();
    let call = Call {
        signed: &view,
        path,
        facts: RequestFacts {
            now: NOW,
            ..RequestFacts::default()
        },
        request_id: "req-1",
    };
    match Authorizer::default().authorize_rest(api, &api.stages["prod"], &call, &world) {
        Verdict::Invoke {
            integration: Integration::Mock { body, .. },
            ..
        } => (200, body.clone()),
        Verdict::Invoke { .. } => unreachable!(),
        Verdict::Respond(response, _) => (response.status, response.body),
    }
}

/// The access-log decision of a REST call to `prod`.
fn access_rest(api: &RestApi, signed: &Signed) -> AccessDecision {
    let world = world();
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, b"");
    let path = view.path.strip_prefix("/prod").unwrap();
    let call = Call {
        signed: &view,
        path,
        facts: RequestFacts {
            now: NOW,
            ..RequestFacts::default()
        },
        request_id: "req-1",
    };
    match Authorizer::default().authorize_rest(api, &api.stages["prod"], &call, &world) {
        Verdict::Invoke { access, .. } | Verdict::Respond(_, access) => access,
    }
}

const SAME_ALLOWED: (&str, &str) = ("AKIASAMEALLOWED00001", "same-allowed");
const SAME_NOTHING: (&str, &str) = ("AKIASAMENOPOLICY0001", "same-nothing");
const OTHER_ALLOWED: (&str, &str) = ("AKIAOTHERALLOWED0001", "other-allowed");
const OTHER_NOTHING: (&str, &str) = ("AKIAOTHERNOPOLICY001", "other-nothing");

const RESOURCE_POLICY_FOR_OTHER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}"#;

#[test]
fn seed_003_same_account_user_with_identity_policy_is_allowed_without_resource_policy() {
    assert_eq!(
        call_rest(
            &rest_api(None),
            &request("GET", "/prod/", Some(SAME_ALLOWED))
        ),
        (200, "root".into())
    );
}

#[test]
fn seed_003_same_account_user_without_policy_gets_the_identity_based_denial() {
    let (status, body) = call_rest(
        &rest_api(None),
        &request("GET", "/prod/", Some(SAME_NOTHING)),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:iam::123456789012:user/api-not-exe is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no identity-based policy allows the execute-api:Invoke action"}"#
    );
}

#[test]
fn seed_003_cross_account_needs_the_resource_policy_too() {
    let (status, body) = call_rest(
        &rest_api(None),
        &request("GET", "/prod/", Some(OTHER_ALLOWED)),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:iam::098765432109:user/api-exe-valid is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/ because no resource-based policy allows the execute-api:Invoke action"}"#
    );
    let with_policy = rest_api(Some(RESOURCE_POLICY_FOR_OTHER));
    assert_eq!(
        call_rest(&with_policy, &request("GET", "/prod/", Some(OTHER_ALLOWED))),
        (200, "root".into())
    );
}

#[test]
fn cross_account_resource_policy_alone_does_not_grant() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"098765432109"},"Action":"execute-api:Invoke","Resource":"*"}]}"#;
    let (status, body) = call_rest(
        &rest_api(Some(policy)),
        &request("GET", "/prod/", Some(OTHER_NOTHING)),
    );
    assert_eq!(status, 403);
    assert!(
        body.ends_with(
            r#"because no identity-based policy allows the execute-api:Invoke action"}"#
        ),
        "{body}"
    );
}

#[test]
fn same_account_resource_policy_naming_the_user_grants_without_identity_policy() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/api-not-exe"},"Action":"execute-api:Invoke","Resource":"*"}]}"#;
    assert_eq!(
        call_rest(
            &rest_api(Some(policy)),
            &request("GET", "/prod/", Some(SAME_NOTHING))
        ),
        (200, "root".into())
    );
}

/// Seed 003's final resource policy: the Allow plus a Deny whose
/// `NotPrincipal` names the user alone, as the article wrote it and saw it
/// work (tunable `NOTPRINCIPAL_USER_LEVEL_SERVICES`); the form AWS
/// documents, with the account listed too, works the same.
#[test]
fn seed_003_not_principal_deny_blocks_everyone_but_the_named_user() {
    for exempted in [
        r#""arn:aws:iam::098765432109:user/api-exe-valid""#,
        r#"["arn:aws:iam::098765432109:user/api-exe-valid","arn:aws:iam::098765432109:root"]"#,
    ] {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"}},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}},
        {{"Effect":"Deny","NotPrincipal":{{"AWS":{exempted}}},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}}]}}"#
        );
        seed_003_final_policy_answers(&policy);
    }
}

fn seed_003_final_policy_answers(policy: &str) {
    let api = rest_api(Some(policy));
    assert_eq!(
        call_rest(&api, &request("GET", "/prod/", Some(OTHER_ALLOWED))),
        (200, "root".into())
    );
    let (status, body) = call_rest(&api, &request("GET", "/prod/", Some(SAME_ALLOWED)));
    assert_eq!(status, 403);
    assert!(
        body.ends_with(r#"with an explicit deny in a resource-based policy"}"#),
        "{body}"
    );
}

#[test]
fn unsigned_request_to_an_iam_method_is_missing_authentication_token() {
    assert_eq!(
        call_rest(&rest_api(None), &request("GET", "/prod/", None)),
        (403, r#"{"message":"Missing Authentication Token"}"#.into())
    );
}

#[test]
fn unknown_path_is_missing_authentication_token_but_a_bad_signature_is_reported_first() {
    assert_eq!(
        call_rest(&rest_api(None), &request("GET", "/prod/nowhere", None)),
        (403, r#"{"message":"Missing Authentication Token"}"#.into())
    );
    let mut tampered = request("GET", "/prod/nowhere", Some(SAME_ALLOWED));
    tampered.headers[1].1 = format_basic(NOW - 3600).into_bytes();
    let (status, body) = call_rest(&rest_api(None), &tampered);
    assert_eq!(status, 403);
    assert!(
        body.starts_with(r#"{"message":"Date in Credential scope"#)
            || body.starts_with(r#"{"message":"Signature expired"#),
        "{body}"
    );
}

#[test]
fn a_tampered_signature_is_an_invalid_signature() {
    let mut signed = request("GET", "/prod/", Some(SAME_ALLOWED));
    signed.target = "/prod/?x=1".into();
    let (status, body) = call_rest(&rest_api(None), &signed);
    assert_eq!(status, 403);
    assert!(
        body.starts_with(r#"{"message":"The request signature we calculated does not match"#),
        "{body}"
    );
}

#[test]
fn none_methods_answer_to_the_resource_policy_for_the_anonymous_caller() {
    assert_eq!(
        call_rest(&rest_api(None), &request("GET", "/prod/open", None)),
        (200, "open".into())
    );
    let star = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    assert_eq!(
        call_rest(&rest_api(Some(star)), &request("GET", "/prod/open", None)),
        (200, "open".into())
    );
    // AWS principals never match a NONE method's anonymous caller.
    let (status, body) = call_rest(
        &rest_api(Some(RESOURCE_POLICY_FOR_OTHER)),
        &request("GET", "/prod/open", Some(OTHER_ALLOWED)),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/open because no resource-based policy allows the execute-api:Invoke action"}"#
    );
}

fn http_api() -> HttpApi {
    let route = Route {
        key: "GET /pets".into(),
        method: Some("GET".into()),
        path: Some(parse_template("/pets")),
        authorization: AuthorizationType::AwsIam,
        integration: mock("pets"),
    };
    HttpApi {
        id: "apiid".into(),
        account: OWNER.into(),
        region: "us-east-1".into(),
        stages: HashMap::from([(
            "$default".to_owned(),
            HttpStage {
                name: "$default".into(),
                routes: vec![route],
            },
        )]),
    }
}

fn call_http(signed: &Signed) -> (u16, String) {
    let world = world();
    let api = http_api();
    let headers = signed.refs();
    let view = HttpRequest::from_target(&signed.method, &signed.target, &headers, b"");
    let call = Call {
        signed: &view,
        path: view.path,
        facts: RequestFacts {
            now: NOW,
            ..RequestFacts::default()
        },
        request_id: "r",
    };
    match Authorizer::default().authorize_http(&api, &api.stages["$default"], &call, &world) {
        Verdict::Invoke {
            integration: Integration::Mock { body, .. },
            resource_arn,
            ..
        } => {
            assert_eq!(
                resource_arn,
                "arn:aws:execute-api:us-east-1:123456789012:apiid/$default/GET/pets"
            );
            (200, body.clone())
        }
        Verdict::Invoke { .. } => unreachable!(),
        Verdict::Respond(response, _) => (response.status, response.body),
    }
}

#[test]
fn http_api_needs_a_signed_caller_whose_identity_policy_names_the_route() {
    let policy_for_pets = |signed: Signed| call_http(&signed);
    // The same-account user's policy names the REST root only: denied.
    assert_eq!(
        policy_for_pets(request("GET", "/pets", Some(SAME_ALLOWED))),
        (403, r#"{"message":"Forbidden"}"#.into())
    );
    assert_eq!(
        call_http(&request("GET", "/pets", None)),
        (403, r#"{"message":"Forbidden"}"#.into())
    );
    assert_eq!(
        call_http(&request("GET", "/cats", None)),
        (404, r#"{"message":"Not Found"}"#.into())
    );
}

#[test]
fn http_api_refuses_every_caller_of_another_account() {
    assert_eq!(
        call_http(&request("GET", "/pets", Some(OTHER_ALLOWED))),
        (403, r#"{"message":"Forbidden"}"#.into())
    );
}

#[test]
fn every_rest_answer_says_who_was_decided_about_by_which_policy_type_on_which_route() {
    let allowed = access_rest(
        &rest_api(None),
        &request("GET", "/prod/", Some(SAME_ALLOWED)),
    );
    assert_eq!(
        allowed,
        AccessDecision {
            outcome: AccessOutcome::Allow,
            policy_type: Some(PolicyType::IdentityBased),
            caller: Some("arn:aws:iam::123456789012:user/api-exe-nonvalid".into()),
            access_key_id: Some("AKIASAMEALLOWED00001".into()),
            route: Some("/".into()),
            error_code: None,
        }
    );
    let cross = access_rest(
        &rest_api(None),
        &request("GET", "/prod/", Some(OTHER_ALLOWED)),
    );
    assert_eq!(
        (cross.outcome, cross.policy_type, cross.caller.as_deref()),
        (
            AccessOutcome::ImplicitDeny,
            Some(PolicyType::ResourceBased),
            Some("arn:aws:iam::098765432109:user/api-exe-valid")
        )
    );
    let unsigned = access_rest(&rest_api(None), &request("GET", "/prod/", None));
    assert_eq!(
        (unsigned.outcome, unsigned.route.as_deref(), unsigned.caller),
        (AccessOutcome::Unauthenticated, Some("/"), None)
    );
    let mut tampered = request("GET", "/prod/", Some(SAME_ALLOWED));
    tampered.target = "/prod/?x=1".into();
    let tampered = access_rest(&rest_api(None), &tampered);
    assert_eq!(
        (
            tampered.outcome,
            tampered.error_code.as_deref(),
            tampered.access_key_id
        ),
        (
            AccessOutcome::Unauthenticated,
            Some("InvalidSignatureException"),
            None
        )
    );
    let unrouted = access_rest(&rest_api(None), &request("GET", "/prod/nowhere", None));
    assert_eq!(
        (unrouted.outcome, unrouted.route),
        (AccessOutcome::NotFound, None)
    );
    let open = access_rest(&rest_api(None), &request("GET", "/prod/open", None));
    assert_eq!(
        (open.outcome, open.policy_type, open.route.as_deref()),
        (AccessOutcome::Allow, None, Some("/open"))
    );
    let anonymous_denied = access_rest(
        &rest_api(Some(RESOURCE_POLICY_FOR_OTHER)),
        &request("GET", "/prod/open", None),
    );
    assert_eq!(
        (anonymous_denied.outcome, anonymous_denied.policy_type),
        (AccessOutcome::ImplicitDeny, Some(PolicyType::ResourceBased))
    );
}
