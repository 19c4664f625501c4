#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Evaluation (IAM User Guide, "Policy evaluation logic"; API Gateway
//! Developer Guide, "How API Gateway resource policies affect authorization
//! workflow"): Tables A and B, the extended
//! matrix, worked examples, denial messages, and the iam-rs request cases.

use std::fs;

use iamgate_policy::{
    MatchClass, NamedPolicy, Outcome, PolicyDocument, PolicyKind, PolicySet, PolicyType,
    PrincipalIdentity, RequestContext, ResourcePolicyKind, reference,
};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
const A: &str = "111111111111";
const B: &str = "222222222222";
const API: &str = "arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5";
const INVOKE: &str = "execute-api:Invoke";

fn policy(kind: PolicyKind, statements: &str) -> NamedPolicy {
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let doc = PolicyDocument::parse(&text, kind).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    NamedPolicy::new("test", doc)
}

fn identity(effect: &str) -> NamedPolicy {
    policy(
        PolicyKind::InlineIdentity,
        &format!(r#"{{"Effect":"{effect}","Action":"execute-api:Invoke","Resource":"{API}/*"}}"#),
    )
}

fn resource(effect: &str, principal: &str) -> NamedPolicy {
    policy(
        PolicyKind::Resource,
        &format!(
            r#"{{"Effect":"{effect}","Principal":{principal},"Action":"execute-api:Invoke","Resource":"{API}/*"}}"#
        ),
    )
}

fn request(principal: PrincipalIdentity, path: &str) -> RequestContext {
    RequestContext::new(principal, INVOKE, Some(&format!("{API}/prod/{path}")))
}

fn user(account: &str, name: &str) -> PrincipalIdentity {
    PrincipalIdentity::user(
        account,
        "/",
        name,
        &format!("AIDA{name:0>17}").to_uppercase(),
    )
}

fn session(account: &str, role: &str, name: &str) -> PrincipalIdentity {
    PrincipalIdentity::role_session(account, "/", role, "AROA1234567890EXAMPLE", name)
}

/// Evaluates with both the indexed evaluator and the reference, which must agree.
fn decide(set: &PolicySet, ctx: &RequestContext) -> (Outcome, PolicyType) {
    let decision = set.compile().evaluate(ctx);
    let oracle = reference::evaluate(set, ctx);
    assert_eq!(
        (decision.outcome, decision.deciding_policy_type),
        (oracle.outcome, oracle.deciding_policy_type),
        "indexed and reference evaluators disagree"
    );
    (decision.outcome, decision.deciding_policy_type)
}

#[derive(Clone, Copy, Debug)]
enum Side {
    Allow,
    Neither,
    Deny,
}

fn table_case(caller_account: &str, id: Side, rp: Side) -> (Outcome, PolicyType) {
    let caller = user(caller_account, "u");
    let principal = format!(r#"{{"AWS":"{}"}}"#, caller.arn);
    let mut set = PolicySet::default();
    match id {
        Side::Allow => set.identity.push(identity("Allow")),
        Side::Deny => set.identity.extend([identity("Allow"), identity("Deny")]),
        Side::Neither => {}
    }
    match rp {
        Side::Allow => set.resource.push(resource("Allow", &principal)),
        Side::Deny => set.resource.push(resource("Deny", &principal)),
        Side::Neither => {}
    }
    decide(&set, &request(caller, "GET/pets"))
}

#[test]
fn table_a_same_account_matrix() {
    use Outcome::*;
    use PolicyType::*;
    use Side::{Allow as A_, Deny as D_, Neither as N_};
    let rows = [
        (A_, A_, (Allowed, ResourceBased)),
        (A_, N_, (Allowed, IdentityBased)),
        (A_, D_, (ExplicitDeny, ResourceBased)),
        (N_, A_, (Allowed, ResourceBased)),
        (N_, N_, (ImplicitDeny, IdentityBased)),
        (N_, D_, (ExplicitDeny, ResourceBased)),
        (D_, A_, (ExplicitDeny, IdentityBased)),
        (D_, N_, (ExplicitDeny, IdentityBased)),
        (D_, D_, (ExplicitDeny, ResourceBased)),
    ];
    for (id, rp, want) in rows {
        assert_eq!(
            table_case(A, id, rp),
            want,
            "same account, identity {id:?}, resource {rp:?}"
        );
    }
}

#[test]
fn table_b_cross_account_matrix() {
    use Outcome::*;
    use PolicyType::*;
    use Side::{Allow as A_, Deny as D_, Neither as N_};
    let rows = [
        (A_, A_, (Allowed, IdentityBased)),
        (A_, N_, (ImplicitDeny, ResourceBased)),
        (A_, D_, (ExplicitDeny, ResourceBased)),
        (N_, A_, (ImplicitDeny, IdentityBased)),
        (N_, N_, (ImplicitDeny, IdentityBased)),
        (N_, D_, (ExplicitDeny, ResourceBased)),
        (D_, A_, (ExplicitDeny, IdentityBased)),
        (D_, N_, (ExplicitDeny, IdentityBased)),
        (D_, D_, (ExplicitDeny, ResourceBased)),
    ];
    for (id, rp, want) in rows {
        assert_eq!(
            table_case(B, id, rp),
            want,
            "cross account, identity {id:?}, resource {rp:?}"
        );
    }
}

fn boundary_allowing(allow: bool) -> NamedPolicy {
    let action = if allow { INVOKE } else { "s3:GetObject" };
    policy(
        PolicyKind::PermissionsBoundary,
        &format!(r#"{{"Effect":"Allow","Action":"{action}","Resource":"*"}}"#),
    )
}

fn session_policy_silent() -> NamedPolicy {
    policy(
        PolicyKind::Session,
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
    )
}

#[test]
fn extended_matrix_of_resource_policy_principal_classes() {
    use Outcome::*;
    use PolicyType::*;
    let caller = || {
        let mut s = session(A, "app", "s1");
        s.has_permissions_boundary = true;
        s
    };
    let session_arn = format!(r#"{{"AWS":"arn:aws:sts::{A}:assumed-role/app/s1"}}"#);
    let role_arn = format!(r#"{{"AWS":"arn:aws:iam::{A}:role/app"}}"#);
    let account = format!(r#"{{"AWS":"{A}"}}"#);
    let root = format!(r#"{{"AWS":"arn:aws:iam::{A}:root"}}"#);

    let case = |rp: &str, boundary: Option<bool>, session_policy: bool, id_allow: bool| {
        let set = PolicySet {
            identity: if id_allow {
                vec![identity("Allow")]
            } else {
                vec![]
            },
            resource: vec![resource("Allow", rp)],
            boundary: boundary.map(boundary_allowing),
            session: if session_policy {
                vec![session_policy_silent()]
            } else {
                vec![]
            },
            ..PolicySet::default()
        };
        decide(&set, &request(caller(), "GET/pets"))
    };
    assert_eq!(
        case(&session_arn, Some(false), false, false),
        (Allowed, ResourceBased)
    );
    assert_eq!(
        case(&role_arn, Some(true), false, false),
        (Allowed, ResourceBased)
    );
    assert_eq!(
        case(&role_arn, Some(false), false, false),
        (ImplicitDeny, PermissionsBoundary)
    );
    assert_eq!(case(&role_arn, None, true, false), (ImplicitDeny, Session));
    assert_eq!(
        case(&account, None, false, false),
        (ImplicitDeny, IdentityBased)
    );
    assert_eq!(
        case(&root, None, false, false),
        (ImplicitDeny, IdentityBased)
    );
    assert_eq!(case(&account, None, false, true), (Allowed, ResourceBased));
    assert_eq!(
        case(r#""*""#, Some(false), true, false),
        (Allowed, ResourceBased)
    );
}

#[test]
fn execute_api_worked_examples() {
    use Outcome::*;
    use PolicyType::*;
    let alice = || user(A, "alice");
    let bob = || user(A, "bob");
    let u = || user(B, "u");
    let run = |set: PolicySet, ctx: RequestContext| decide(&set, &ctx);
    let id = |effect| PolicySet {
        identity: vec![identity(effect)],
        ..PolicySet::default()
    };
    // 1, 2
    assert_eq!(
        run(id("Allow"), request(alice(), "GET/pets")),
        (Allowed, IdentityBased)
    );
    assert_eq!(
        run(PolicySet::default(), request(bob(), "GET/pets")),
        (ImplicitDeny, IdentityBased)
    );
    // 3
    let rp_bob = PolicySet {
        resource: vec![resource(
            "Allow",
            &format!(r#"{{"AWS":"arn:aws:iam::{A}:user/bob"}}"#),
        )],
        ..PolicySet::default()
    };
    assert_eq!(
        run(rp_bob, request(bob(), "GET/pets")),
        (Allowed, ResourceBased)
    );
    // 4
    let deny_delete = policy(
        PolicyKind::Resource,
        &format!(
            r#"{{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"{API}/prod/DELETE/*"}}"#
        ),
    );
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![deny_delete],
        ..PolicySet::default()
    };
    assert_eq!(
        run(set.clone(), request(alice(), "DELETE/pets/1")),
        (ExplicitDeny, ResourceBased)
    );
    assert_eq!(
        run(set, request(alice(), "GET/pets/1")),
        (Allowed, IdentityBased)
    );
    // 5: a non-matching Allow is "neither"
    let ip_allow = policy(
        PolicyKind::Resource,
        &format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"{API}/*",
            "Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
        ),
    );
    let from = |ip| request(alice(), "GET/pets").with_key("aws:SourceIp", ip);
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![ip_allow],
        ..PolicySet::default()
    };
    assert_eq!(run(set, from("192.0.2.1")), (Allowed, IdentityBased));
    // 6
    let ip_deny = policy(
        PolicyKind::Resource,
        &format!(
            r#"{{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"{API}/*",
            "Condition":{{"NotIpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
        ),
    );
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![ip_deny],
        ..PolicySet::default()
    };
    assert_eq!(
        run(set.clone(), from("192.0.2.1")),
        (ExplicitDeny, ResourceBased)
    );
    assert_eq!(run(set, from("10.1.2.3")), (Allowed, IdentityBased));
    // 7, 8
    assert_eq!(
        run(id("Allow"), request(u(), "GET/pets")),
        (ImplicitDeny, ResourceBased)
    );
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![resource(
            "Allow",
            &format!(r#"{{"AWS":"arn:aws:iam::{B}:user/u"}}"#),
        )],
        ..PolicySet::default()
    };
    assert_eq!(run(set, request(u(), "GET/pets")), (Allowed, IdentityBased));
    // 9
    let set = PolicySet {
        resource: vec![resource("Allow", &format!(r#"{{"AWS":"{B}"}}"#))],
        ..PolicySet::default()
    };
    assert_eq!(
        run(set, request(u(), "GET/pets")),
        (ImplicitDeny, IdentityBased)
    );
    // 10
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![resource(
            "Allow",
            &format!(r#"{{"AWS":"arn:aws:iam::{B}:role/R"}}"#),
        )],
        ..PolicySet::default()
    };
    assert_eq!(
        run(set, request(session(B, "R", "s"), "GET/pets")),
        (Allowed, IdentityBased)
    );
    // 13, 14
    let anonymous = || request(PrincipalIdentity::anonymous(), "GET/pets");
    let star = PolicySet {
        resource: vec![resource("Allow", r#""*""#)],
        ..PolicySet::default()
    };
    assert_eq!(run(star, anonymous()), (Allowed, ResourceBased));
    let only_b = PolicySet {
        resource: vec![resource("Allow", &format!(r#"{{"AWS":"{B}"}}"#))],
        ..PolicySet::default()
    };
    assert_eq!(run(only_b, anonymous()), (ImplicitDeny, ResourceBased));
    // 16
    let set = PolicySet {
        identity: vec![identity("Allow")],
        boundary: Some(boundary_allowing(false)),
        ..PolicySet::default()
    };
    assert_eq!(
        run(set, request(session(A, "app", "s1"), "GET/pets")),
        (ImplicitDeny, PermissionsBoundary)
    );
}

#[test]
fn root_is_implicitly_allowed_on_the_identity_side_but_not_past_denies() {
    let root = || request(PrincipalIdentity::root(A), "GET/pets");
    assert_eq!(decide(&PolicySet::default(), &root()).0, Outcome::Allowed);
    let set = PolicySet {
        resource: vec![resource("Deny", r#""*""#)],
        ..PolicySet::default()
    };
    assert_eq!(decide(&set, &root()).0, Outcome::ExplicitDeny);
    let cross = request(PrincipalIdentity::root(B), "GET/pets");
    assert_eq!(
        decide(&PolicySet::default(), &cross),
        (Outcome::ImplicitDeny, PolicyType::ResourceBased)
    );
}

#[test]
fn scps_limit_every_level_and_explicit_scp_denies_are_reported_first() {
    let allow_all = policy(
        PolicyKind::ServiceControl,
        r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#,
    );
    let allow_s3 = policy(
        PolicyKind::ServiceControl,
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    );
    let deny_invoke = policy(
        PolicyKind::ServiceControl,
        r#"{"Effect":"Deny","Action":"execute-api:*","Resource":"*"}"#,
    );
    let base = || PolicySet {
        identity: vec![identity("Allow"), identity("Deny")],
        ..PolicySet::default()
    };
    let ctx = request(user(A, "alice"), "GET/pets");
    let mut set = base();
    set.scp_levels = vec![vec![allow_all.clone()], vec![deny_invoke]];
    assert_eq!(
        decide(&set, &ctx),
        (Outcome::ExplicitDeny, PolicyType::ServiceControl)
    );
    let mut set = PolicySet {
        identity: vec![identity("Allow")],
        ..PolicySet::default()
    };
    set.scp_levels = vec![vec![allow_all.clone()], vec![allow_s3]];
    assert_eq!(
        decide(&set, &ctx),
        (Outcome::ImplicitDeny, PolicyType::ServiceControl)
    );
    set.scp_levels = vec![vec![allow_all.clone()], vec![allow_all]];
    assert_eq!(
        decide(&set, &ctx),
        (Outcome::Allowed, PolicyType::IdentityBased)
    );
}

#[test]
fn not_principal_deny_applies_to_everyone_not_listed() {
    let not_alice = policy(
        PolicyKind::Resource,
        &format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"{API}/*"}},
           {{"Effect":"Deny","NotPrincipal":{{"AWS":["{A}","arn:aws:iam::{A}:user/alice"]}},
             "Action":"execute-api:Invoke","Resource":"{API}/*"}}"#
        ),
    );
    let set = PolicySet {
        resource: vec![not_alice],
        ..PolicySet::default()
    };
    assert_eq!(
        decide(&set, &request(user(A, "alice"), "GET/")).0,
        Outcome::Allowed
    );
    assert_eq!(
        decide(&set, &request(user(A, "bob"), "GET/")).0,
        Outcome::ExplicitDeny
    );
    assert_eq!(
        decide(&set, &request(PrincipalIdentity::anonymous(), "GET/")).0,
        Outcome::ExplicitDeny
    );
    let mut bounded = user(A, "alice");
    bounded.has_permissions_boundary = true;
    let with_boundary = PolicySet {
        boundary: Some(boundary_allowing(true)),
        ..set
    };
    assert_eq!(
        decide(&with_boundary, &request(bounded, "GET/")).0,
        Outcome::ExplicitDeny
    );
}

fn trust(principal: &str, effect: &str) -> NamedPolicy {
    policy(
        PolicyKind::RoleTrust,
        &format!(r#"{{"Effect":"{effect}","Principal":{principal},"Action":"sts:AssumeRole"}}"#),
    )
}

#[test]
fn trust_policies_must_allow_explicitly() {
    let role = "arn:aws:iam::111111111111:role/target";
    let assume = |who: PrincipalIdentity| RequestContext::new(who, "sts:AssumeRole", Some(role));
    let caller_allows = policy(
        PolicyKind::InlineIdentity,
        &format!(r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role}"}}"#),
    );
    let set = |trust_policy: Option<NamedPolicy>, identity: bool| PolicySet {
        identity: if identity {
            vec![caller_allows.clone()]
        } else {
            vec![]
        },
        resource: trust_policy.into_iter().collect(),
        resource_kind: ResourcePolicyKind::RoleTrust,
        ..PolicySet::default()
    };
    let alice = || user(A, "alice");
    let direct = trust(
        &format!(r#"{{"AWS":"arn:aws:iam::{A}:user/alice"}}"#),
        "Allow",
    );
    let account = trust(&format!(r#"{{"AWS":"{A}"}}"#), "Allow");
    let other = trust(
        &format!(r#"{{"AWS":"arn:aws:iam::{A}:user/bob"}}"#),
        "Allow",
    );
    assert_eq!(
        decide(&set(Some(direct.clone()), false), &assume(alice())).0,
        Outcome::Allowed
    );
    assert_eq!(
        decide(&set(Some(account.clone()), false), &assume(alice())).0,
        Outcome::ImplicitDeny
    );
    assert_eq!(
        decide(&set(Some(account), true), &assume(alice())).0,
        Outcome::Allowed
    );
    let d = decide(&set(Some(other), true), &assume(alice()));
    assert_eq!(d, (Outcome::ImplicitDeny, PolicyType::RoleTrust));
    let cross = trust(&format!(r#"{{"AWS":"{B}"}}"#), "Allow");
    assert_eq!(
        decide(&set(Some(cross.clone()), false), &assume(user(B, "u"))),
        (Outcome::ImplicitDeny, PolicyType::IdentityBased)
    );
    assert_eq!(
        decide(&set(Some(cross), true), &assume(user(B, "u"))).0,
        Outcome::Allowed
    );
    let lambda = trust(r#"{"Service":"lambda.amazonaws.com"}"#, "Allow");
    assert_eq!(
        decide(
            &set(Some(lambda.clone()), false),
            &assume(PrincipalIdentity::service("lambda.amazonaws.com"))
        )
        .0,
        Outcome::Allowed
    );
    assert_eq!(
        decide(&set(Some(lambda), false), &assume(alice())).0,
        Outcome::ImplicitDeny
    );
    let denied = PolicySet {
        resource: vec![direct, trust(r#""*""#, "Deny")],
        ..set(None, false)
    };
    let d = denied.compile().evaluate(&assume(alice()));
    assert_eq!(
        d.denial_message(
            &format!("arn:aws:iam::{A}:user/alice"),
            "sts:AssumeRole",
            role
        )
        .unwrap(),
        "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: \
         arn:aws:iam::111111111111:role/target with an explicit deny in the role trust policy"
    );
}

#[test]
fn denial_messages_follow_spec_7_4() {
    let resource_arn = format!("{API}/prod/GET/pets");
    let msg = |set: &PolicySet, who: PrincipalIdentity| {
        let display = who.display().to_string();
        let d = set
            .compile()
            .evaluate(&RequestContext::new(who, INVOKE, Some(&resource_arn)));
        d.denial_message(&display, INVOKE, &resource_arn)
    };
    assert_eq!(
        msg(&PolicySet::default(), user(A, "bob")).unwrap(),
        format!(
            "User: arn:aws:iam::{A}:user/bob is not authorized to perform: execute-api:Invoke on resource: {resource_arn} because no identity-based policy allows the execute-api:Invoke action"
        )
    );
    let deny = PolicySet {
        resource: vec![resource("Deny", r#""*""#)],
        ..PolicySet::default()
    };
    assert!(
        msg(&deny, user(A, "bob"))
            .unwrap()
            .ends_with(" with an explicit deny in a resource-based policy")
    );
    let id_deny = PolicySet {
        identity: vec![identity("Deny")],
        ..PolicySet::default()
    };
    assert!(
        msg(&id_deny, user(A, "bob"))
            .unwrap()
            .ends_with(" with an explicit deny in an identity-based policy")
    );
    assert_eq!(
        msg(&PolicySet::default(), PrincipalIdentity::anonymous()).unwrap(),
        format!(
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: {resource_arn} because no resource-based policy allows the execute-api:Invoke action"
        )
    );
    let bounded = PolicySet {
        identity: vec![identity("Allow")],
        boundary: Some(boundary_allowing(false)),
        ..PolicySet::default()
    };
    assert!(
        msg(&bounded, user(A, "bob"))
            .unwrap()
            .ends_with(" because no permissions boundary allows the execute-api:Invoke action")
    );
    assert_eq!(
        msg(
            &PolicySet {
                identity: vec![identity("Allow")],
                ..PolicySet::default()
            },
            user(A, "bob")
        ),
        None
    );
}

#[test]
fn trace_lists_matched_statements_and_only_denies_on_explicit_deny() {
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![resource("Allow", &format!(r#"{{"AWS":"{A}"}}"#))],
        ..PolicySet::default()
    };
    let d = set
        .compile()
        .evaluate(&request(user(A, "alice"), "GET/pets"));
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(d.matched.len(), 2);
    assert_eq!(d.matched[1].principal_classes, vec![MatchClass::Account]);
    assert!(d.explain().contains("principal matched as [Account]"));
    let mut denied = set.clone();
    denied.identity.push(identity("Deny"));
    let d = denied
        .compile()
        .evaluate(&request(user(A, "alice"), "GET/pets"));
    assert_eq!(d.matched.len(), 1);
    assert_eq!(d.matched[0].policy_type, PolicyType::IdentityBased);
    assert_eq!(d.to_json()["outcome"], "ExplicitDeny");
}

fn selected(name: &str) -> NamedPolicy {
    let path = format!("{TESTDATA}/aws-managed-policies/selected/{name}.json");
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let text = serde_json::to_string(&record["Document"]).unwrap();
    NamedPolicy::new(
        name,
        PolicyDocument::parse(&text, PolicyKind::ManagedIdentity).unwrap(),
    )
}

#[test]
fn selected_managed_policies_behave_as_documented() {
    let alice = || user(A, "alice");
    let run = |p: &NamedPolicy, who: PrincipalIdentity, action: &str, resource: &str| {
        let set = PolicySet {
            identity: vec![p.clone()],
            ..PolicySet::default()
        };
        decide(&set, &RequestContext::new(who, action, Some(resource))).0
    };
    let power = selected("PowerUserAccess");
    assert_eq!(
        run(
            &power,
            alice(),
            "iam:CreateUser",
            "arn:aws:iam::111111111111:user/x"
        ),
        Outcome::ImplicitDeny
    );
    assert_eq!(
        run(&power, alice(), INVOKE, &format!("{API}/prod/GET/")),
        Outcome::Allowed
    );
    assert_eq!(run(&power, alice(), "iam:ListRoles", "*"), Outcome::Allowed);
    let change = selected("IAMUserChangePassword");
    let own = format!("arn:aws:iam::{A}:user/alice");
    assert_eq!(
        run(&change, alice(), "iam:ChangePassword", &own),
        Outcome::Allowed
    );
    assert_eq!(
        run(
            &change,
            alice(),
            "iam:ChangePassword",
            &format!("arn:aws:iam::{A}:user/bob")
        ),
        Outcome::ImplicitDeny
    );
    let pathed = PrincipalIdentity::user(A, "/dev/", "alice", "AIDAEXAMPLE");
    assert_eq!(
        run(
            &change,
            pathed,
            "iam:ChangePassword",
            &format!("arn:aws:iam::{A}:user/dev/alice")
        ),
        Outcome::Allowed
    );
    assert_eq!(
        run(
            &change,
            session(A, "alice", "s"),
            "iam:ChangePassword",
            &own
        ),
        Outcome::ImplicitDeny
    );
    let invoke = selected("AmazonAPIGatewayInvokeFullAccess");
    assert_eq!(
        run(
            &invoke,
            alice(),
            INVOKE,
            "arn:aws:execute-api:eu-west-1:111111111111:x/y/GET/z"
        ),
        Outcome::Allowed
    );
    assert_eq!(
        run(
            &invoke,
            alice(),
            "execute-api:Invoke",
            "arn:aws:lambda:eu-west-1:1:function:f"
        ),
        Outcome::ImplicitDeny
    );
    let admin = selected("AdministratorAccess");
    assert_eq!(
        run(&admin, alice(), "anything:AtAll", "arn:aws:s3:::b"),
        Outcome::Allowed
    );
}

#[test]
fn iam_rs_request_cases() {
    for n in 1..=5 {
        let path = format!("{TESTDATA}/iam-cases/iam-rs/requests/{n}.json");
        let case: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let req = &case["request"];
        let principal =
            PrincipalIdentity::from_arn(req["Principal"]["AWS"].as_str().unwrap()).unwrap();
        let mut ctx = RequestContext::new(
            principal,
            req["Action"].as_str().unwrap(),
            req["Resource"].as_str(),
        );
        for (key, value) in req["Context"].as_object().unwrap() {
            ctx = ctx.with_key(key, value.as_str().unwrap());
        }
        let text = serde_json::to_string(&case["policy"]).unwrap();
        let doc = PolicyDocument::parse(&text, PolicyKind::InlineIdentity).unwrap();
        let set = PolicySet {
            identity: vec![NamedPolicy::new("policy", doc)],
            ..PolicySet::default()
        };
        let want = match case["result"].as_str().unwrap() {
            "Allow" => Outcome::Allowed,
            "NotApplicable" => Outcome::ImplicitDeny,
            other => panic!("unexpected result {other}"),
        };
        assert_eq!(decide(&set, &ctx).0, want, "case {n}");
    }
}

#[test]
fn unknown_element_in_a_stored_allow_never_grants() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}]}"#;
    let outcome = PolicyDocument::parse_lenient(text, PolicyKind::InlineIdentity);
    assert!(!outcome.errors.is_empty());
    let set = PolicySet {
        identity: vec![NamedPolicy::new("legacy", outcome.document.unwrap())],
        ..PolicySet::default()
    };
    assert_eq!(
        decide(&set, &request(user(A, "alice"), "GET/")).0,
        Outcome::ImplicitDeny
    );
}

#[test]
fn execute_api_shorthand_in_a_resource_policy_matches_the_api_itself() {
    let rp = policy(
        PolicyKind::Resource,
        r#"{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/*"}"#,
    );
    let set = PolicySet {
        resource: vec![rp],
        ..PolicySet::default()
    };
    assert_eq!(
        decide(&set, &request(PrincipalIdentity::anonymous(), "GET/pets")).0,
        Outcome::Allowed
    );
    assert_eq!(
        decide(&set, &request(PrincipalIdentity::anonymous(), "POST/pets")).0,
        Outcome::ImplicitDeny
    );
}

#[test]
fn missing_username_variable_in_resource_matches_nothing() {
    let own = policy(
        PolicyKind::InlineIdentity,
        r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}"#,
    );
    let set = PolicySet {
        identity: vec![own],
        ..PolicySet::default()
    };
    let ctx = |who| {
        RequestContext::new(
            who,
            "iam:GetUser",
            Some("arn:aws:iam::111111111111:user/${aws:username}"),
        )
    };
    // A role session has no aws:username: the entry matches nothing, not even the literal text.
    assert_eq!(
        decide(&set, &ctx(session(A, "app", "s1"))).0,
        Outcome::ImplicitDeny
    );
}

#[test]
fn federation_token_sessions_need_a_session_policy() {
    let fed = || request(PrincipalIdentity::federated_user(A, "bob"), "GET/pets");
    let without = PolicySet {
        identity: vec![identity("Allow")],
        ..PolicySet::default()
    };
    assert_eq!(
        decide(&without, &fed()),
        (Outcome::ImplicitDeny, PolicyType::Session)
    );
    let scoped = policy(
        PolicyKind::Session,
        r#"{"Effect":"Allow","Action":"execute-api:*","Resource":"*"}"#,
    );
    let with = PolicySet {
        session: vec![scoped],
        ..without
    };
    assert_eq!(decide(&with, &fed()).0, Outcome::Allowed);
    // A role session without a session policy is not limited.
    let role = PolicySet {
        identity: vec![identity("Allow")],
        ..PolicySet::default()
    };
    assert_eq!(
        decide(&role, &request(session(A, "app", "s1"), "GET/pets")).0,
        Outcome::Allowed
    );
}

fn missing(set: &PolicySet, ctx: &RequestContext) -> Vec<&'static str> {
    let decision = set.compile().evaluate(ctx);
    decision
        .missing
        .iter()
        .map(PolicyType::short_name)
        .collect()
}

/// Seed 003 before the resource policy: the cross-account user with an
/// identity policy lacks only the resource policy; the same-account user
/// with none lacks only its identity policy.
#[test]
fn missing_sides_of_the_two_seed_003_denials() {
    let cross = PolicySet {
        identity: vec![identity("Allow")],
        ..PolicySet::default()
    };
    let ctx = request(user(B, "api-exe-valid"), "GET/");
    let decision = cross.compile().evaluate(&ctx);
    assert_eq!(
        decision.rule,
        iamgate_policy::DecidingRule::CrossAccountIntersection
    );
    assert_eq!(missing(&cross, &ctx), ["resource"]);

    let same = PolicySet::default();
    let ctx = request(user(A, "api-not-exe"), "GET/");
    let decision = same.compile().evaluate(&ctx);
    assert_eq!(
        decision.rule,
        iamgate_policy::DecidingRule::SameAccountUnion
    );
    assert_eq!(missing(&same, &ctx), ["identity"]);
}

#[test]
fn cross_account_caller_with_nothing_misses_both_sides() {
    let ctx = request(user(B, "bob"), "GET/");
    assert_eq!(
        missing(&PolicySet::default(), &ctx),
        ["identity", "resource"]
    );
}

#[test]
fn a_role_grant_stopped_by_the_boundary_misses_only_the_boundary() {
    let set = PolicySet {
        resource: vec![resource(
            "Allow",
            r#"{"AWS":"arn:aws:iam::111111111111:role/app"}"#,
        )],
        boundary: Some(boundary_allowing(false)),
        ..PolicySet::default()
    };
    let mut caller = session(A, "app", "s1");
    caller.role_arn = Some("arn:aws:iam::111111111111:role/app".into());
    caller.has_permissions_boundary = true;
    let decision = set.compile().evaluate(&request(caller, "GET/"));
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert_eq!(decision.rule, iamgate_policy::DecidingRule::BoundaryLimit);
    assert_eq!(
        decision.missing.iter().collect::<Vec<_>>(),
        [PolicyType::PermissionsBoundary]
    );
}

#[test]
fn a_not_principal_deny_is_reported_as_such_with_its_statement() {
    let set = PolicySet {
        identity: vec![identity("Allow")],
        resource: vec![policy(
            PolicyKind::Resource,
            &format!(
                r#"{{"Sid":"OnlyValid","Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::{B}:user/api-exe-valid"}},"Action":"execute-api:Invoke","Resource":"{API}/*"}}"#
            ),
        )],
        ..PolicySet::default()
    };
    let decision = set
        .compile()
        .evaluate(&request(user(A, "api-exe-nonvalid"), "GET/"));
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    assert_eq!(
        decision.rule,
        iamgate_policy::DecidingRule::NotPrincipalDeny
    );
    assert!(decision.missing.is_empty());
    let statement = &decision.matched[0];
    assert_eq!(statement.sid.as_deref(), Some("OnlyValid"));
    assert!(statement.not_principal);
}

#[test]
fn a_trust_policy_that_names_nobody_misses_trust_and_across_accounts_the_callers_permission() {
    let set = PolicySet {
        resource_kind: ResourcePolicyKind::RoleTrust,
        ..PolicySet::default()
    };
    let role = "arn:aws:iam::111111111111:role/target";
    let same = RequestContext::new(user(A, "alice"), "sts:AssumeRole", Some(role));
    let decision = set.compile().evaluate(&same);
    assert_eq!(decision.rule, iamgate_policy::DecidingRule::NoTrust);
    assert_eq!(missing(&set, &same), ["trust"]);
    let cross = RequestContext::new(user(B, "bob"), "sts:AssumeRole", Some(role));
    assert_eq!(missing(&set, &cross), ["identity", "trust"]);
}
