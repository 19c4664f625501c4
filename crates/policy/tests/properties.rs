#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Property tests: the indexed evaluator agrees with the reference
//! interpreter; the missing sides it names are enough and all needed;
//! adding a Deny never grants; order never matters; the parser never
//! panics.

use iamgate_policy::{
    NamedPolicy, Outcome, PolicyDocument, PolicyKind, PolicySet, PolicyType, PolicyTypes,
    PrincipalIdentity, RequestContext, ResourcePolicyKind, reference,
};
use proptest::prelude::*;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "S3:getobject",
    "iam:ListUsers",
    "iam:*",
    "execute-api:Invoke",
    "execute-api:*",
    "*",
    "*:List*",
    "s3:?etObject",
];
const REQUEST_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "iam:ListUsers",
    "execute-api:Invoke",
    "ec2:RunInstances",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:execute-api:*:111111111111:api/*",
    "arn:aws:iam::*:user/${aws:username}",
    "arn:aws:*:*:111111111111:*",
];
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/k",
    "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/",
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:iam::222222222222:user/bob",
];
const CONDITIONS: &[&str] = &[
    r#"{"StringEquals":{"aws:username":"alice"}}"#,
    r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
    r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#,
    r#"{"ForAnyValue:StringLike":{"aws:TagKeys":"a*"}}"#,
    r#"{"Null":{"k:x":"true"}}"#,
    r#"{"StringNotEqualsIfExists":{"k:x":"v"}}"#,
    r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:*"}}"#,
    r#"{"NumericLessThan":{"k:n":"5"}}"#,
];
const PRINCIPALS: &[&str] = &[
    r#""*""#,
    r#"{"AWS":"111111111111"}"#,
    r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
    r#"{"AWS":"arn:aws:iam::111111111111:user/alice"}"#,
    r#"{"AWS":"arn:aws:iam::222222222222:user/bob"}"#,
    r#"{"AWS":"arn:aws:iam::111111111111:role/app"}"#,
    r#"{"AWS":"arn:aws:sts::111111111111:assumed-role/app/s1"}"#,
];

#[derive(Debug, Clone)]
struct Stmt {
    deny: bool,
    not_action: bool,
    actions: Vec<usize>,
    not_resource: bool,
    resources: Vec<usize>,
    condition: Option<usize>,
    principal: usize,
    not_principal: bool,
}

fn stmt() -> impl Strategy<Value = Stmt> {
    (
        any::<bool>(),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        prop::option::weighted(0.4, 0..CONDITIONS.len()),
        0..PRINCIPALS.len(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(
                deny,
                not_action,
                actions,
                not_resource,
                resources,
                condition,
                principal,
                not_principal,
            )| Stmt {
                deny,
                not_action,
                actions,
                not_resource,
                resources,
                condition,
                principal,
                not_principal,
            },
        )
}

fn list(items: &[usize], table: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|&i| format!("\"{}\"", table[i])).collect();
    format!("[{}]", quoted.join(","))
}

fn render(s: &Stmt, kind: PolicyKind) -> String {
    let effect = if s.deny { "Deny" } else { "Allow" };
    let action_key = if s.not_action { "NotAction" } else { "Action" };
    let mut out = format!(
        r#"{{"Effect":"{effect}","{action_key}":{}"#,
        list(&s.actions, ACTIONS)
    );
    let resource_key = if s.not_resource {
        "NotResource"
    } else {
        "Resource"
    };
    out.push_str(&format!(
        r#","{resource_key}":{}"#,
        list(&s.resources, RESOURCES)
    ));
    if kind == PolicyKind::Resource {
        // NotPrincipal is only valid with Deny.
        let key = if s.not_principal && s.deny {
            "NotPrincipal"
        } else {
            "Principal"
        };
        out.push_str(&format!(r#","{key}":{}"#, PRINCIPALS[s.principal]));
    }
    if let Some(c) = s.condition {
        out.push_str(&format!(r#","Condition":{}"#, CONDITIONS[c]));
    }
    out.push('}');
    out
}

fn document(statements: &[Stmt], kind: PolicyKind) -> PolicyDocument {
    let body: Vec<String> = statements.iter().map(|s| render(s, kind)).collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        body.join(",")
    );
    PolicyDocument::parse(&text, kind).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

#[derive(Debug, Clone)]
struct SetSpec {
    identity: Vec<Vec<Stmt>>,
    resource: Option<Vec<Stmt>>,
    boundary: Option<Vec<Stmt>>,
    session: Option<Vec<Stmt>>,
    scps: Vec<Vec<Stmt>>,
}

fn statements() -> impl Strategy<Value = Vec<Stmt>> {
    prop::collection::vec(stmt(), 1..5)
}

fn set_spec() -> impl Strategy<Value = SetSpec> {
    (
        prop::collection::vec(statements(), 0..3),
        prop::option::of(statements()),
        prop::option::weighted(0.3, statements()),
        prop::option::weighted(0.3, statements()),
        prop::collection::vec(statements(), 0..2),
    )
        .prop_map(|(identity, resource, boundary, session, scps)| SetSpec {
            identity,
            resource,
            boundary,
            session,
            scps,
        })
}

fn build(spec: &SetSpec) -> PolicySet {
    let named = |i: usize, s: &[Stmt], kind| NamedPolicy::new(&format!("p{i}"), document(s, kind));
    PolicySet {
        identity: spec
            .identity
            .iter()
            .enumerate()
            .map(|(i, s)| named(i, s, PolicyKind::InlineIdentity))
            .collect(),
        resource: spec
            .resource
            .iter()
            .map(|s| named(0, s, PolicyKind::Resource))
            .collect(),
        resource_kind: ResourcePolicyKind::ResourceBased,
        boundary: spec
            .boundary
            .as_ref()
            .map(|s| named(0, s, PolicyKind::PermissionsBoundary)),
        session: spec
            .session
            .iter()
            .map(|s| named(0, s, PolicyKind::Session))
            .collect(),
        scp_levels: spec
            .scps
            .iter()
            .map(|s| vec![named(0, s, PolicyKind::ServiceControl)])
            .collect(),
    }
}

fn principal(i: usize) -> PrincipalIdentity {
    match i {
        0 => PrincipalIdentity::user("111111111111", "/", "alice", "AIDAALICE000000000000"),
        1 => PrincipalIdentity::user("222222222222", "/", "bob", "AIDABOB00000000000000"),
        2 => {
            let mut s = PrincipalIdentity::role_session(
                "111111111111",
                "/",
                "app",
                "AROAAPP00000000000000",
                "s1",
            );
            s.has_permissions_boundary = true;
            s
        }
        3 => PrincipalIdentity::root("111111111111"),
        4 => PrincipalIdentity::federated_user("111111111111", "fed"),
        _ => PrincipalIdentity::anonymous(),
    }
}

fn request() -> impl Strategy<Value = RequestContext> {
    (
        0..6usize,
        0..REQUEST_ACTIONS.len(),
        0..REQUEST_RESOURCES.len(),
        any::<bool>(),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["a", "b", "c"]),
            0..3,
        )),
        prop::option::of(prop::sample::select(vec!["v", "w", ""])),
        prop::option::of(0..10u32),
    )
        .prop_map(|(p, a, r, inside, tags, x, n)| {
            let mut ctx =
                RequestContext::new(principal(p), REQUEST_ACTIONS[a], Some(REQUEST_RESOURCES[r]))
                    .with_key(
                        "aws:SourceIp",
                        if inside { "10.1.2.3" } else { "192.0.2.1" },
                    )
                    .with_key("aws:SecureTransport", if inside { "true" } else { "false" });
            if let Some(tags) = tags {
                ctx = ctx.with_multi_key("aws:TagKeys", &tags);
            }
            if let Some(x) = x {
                ctx = ctx.with_key("k:x", x);
            }
            if let Some(n) = n {
                ctx = ctx.with_key("k:n", &n.to_string());
            }
            ctx
        })
}

fn verdict(set: &PolicySet, ctx: &RequestContext) -> (Outcome, PolicyType) {
    let d = set.compile().evaluate(ctx);
    (d.outcome, d.deciding_policy_type)
}

/// `set` with an Allow of everything added to each side in `sides`: a
/// new identity policy, session policy or SCP level member; a statement
/// appended to the boundary; a resource (or trust) statement naming
/// everyone.
fn with_allows(set: &PolicySet, sides: PolicyTypes) -> PolicySet {
    let allow = |kind| {
        let principal = if kind == PolicyKind::Resource {
            r#","Principal":"*""#
        } else {
            ""
        };
        PolicyDocument::parse(
            &format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*"{principal}}}}}"#),
            kind,
        )
        .unwrap()
    };
    let mut out = set.clone();
    for side in sides.iter() {
        match side {
            PolicyType::IdentityBased => out
                .identity
                .push(NamedPolicy::new("added", allow(PolicyKind::InlineIdentity))),
            PolicyType::ResourceBased | PolicyType::RoleTrust => out
                .resource
                .push(NamedPolicy::new("added", allow(PolicyKind::Resource))),
            PolicyType::PermissionsBoundary => {
                let mut statements = out
                    .boundary
                    .as_ref()
                    .map(|b| b.document.statements.clone())
                    .unwrap_or_default();
                statements.extend(allow(PolicyKind::PermissionsBoundary).statements);
                let mut document = allow(PolicyKind::PermissionsBoundary);
                document.statements = statements;
                out.boundary = Some(NamedPolicy::new("boundary", document));
            }
            PolicyType::Session => out
                .session
                .push(NamedPolicy::new("added", allow(PolicyKind::Session))),
            PolicyType::ServiceControl => {
                for level in &mut out.scp_levels {
                    level.push(NamedPolicy::new("added", allow(PolicyKind::ServiceControl)));
                }
            }
        }
    }
    out
}

fn trust_kind(set: PolicySet, trust: bool) -> PolicySet {
    let resource_kind = if trust {
        ResourcePolicyKind::RoleTrust
    } else {
        ResourcePolicyKind::ResourceBased
    };
    PolicySet {
        resource_kind,
        ..set
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn adding_an_allow_to_every_missing_side_and_nothing_else_allows(spec in set_spec(), ctx in request(), trust in any::<bool>()) {
        let set = trust_kind(build(&spec), trust);
        let decision = set.compile().evaluate(&ctx);
        prop_assume!(decision.outcome == Outcome::ImplicitDeny);
        prop_assert!(!decision.missing.is_empty(), "an implicit deny names what is missing");
        let fixed = with_allows(&set, decision.missing);
        let oracle = reference::evaluate(&fixed, &ctx);
        prop_assert_eq!(oracle.outcome, Outcome::Allowed, "missing {:?}", decision.missing);
    }

    #[test]
    fn every_missing_side_is_needed(spec in set_spec(), ctx in request(), trust in any::<bool>()) {
        let set = trust_kind(build(&spec), trust);
        let decision = set.compile().evaluate(&ctx);
        prop_assume!(decision.outcome == Outcome::ImplicitDeny);
        for left_out in decision.missing.iter() {
            let others: PolicyTypes = decision.missing.iter().filter(|&t| t != left_out).collect();
            let oracle = reference::evaluate(&with_allows(&set, others), &ctx);
            prop_assert_ne!(oracle.outcome, Outcome::Allowed, "{:?} was not needed", left_out);
        }
    }

    #[test]
    fn allows_and_explicit_denies_name_nothing_missing(spec in set_spec(), ctx in request()) {
        let decision = build(&spec).compile().evaluate(&ctx);
        if decision.outcome != Outcome::ImplicitDeny {
            prop_assert!(decision.missing.is_empty());
        }
    }

    #[test]
    fn indexed_evaluator_agrees_with_reference_interpreter(spec in set_spec(), ctx in request()) {
        let set = build(&spec);
        let oracle = reference::evaluate(&set, &ctx);
        prop_assert_eq!(verdict(&set, &ctx), (oracle.outcome, oracle.deciding_policy_type));
    }

    #[test]
    fn adding_a_deny_statement_never_grants(spec in set_spec(), ctx in request(), extra in stmt(), slot in 0..4usize) {
        let before = verdict(&build(&spec), &ctx).0;
        let mut more = spec.clone();
        let deny = Stmt { deny: true, ..extra };
        match slot {
            0 => more.identity.push(vec![deny]),
            1 => more.resource.get_or_insert_with(Vec::new).push(deny),
            2 => if let Some(b) = more.boundary.as_mut() { b.push(deny) },
            _ => if let Some(level) = more.scps.first_mut() { level.push(deny) },
        }
        let after = verdict(&build(&more), &ctx).0;
        if before != Outcome::Allowed {
            prop_assert_ne!(after, Outcome::Allowed);
        }
        if before == Outcome::ExplicitDeny {
            prop_assert_eq!(after, Outcome::ExplicitDeny);
        }
    }

    #[test]
    fn statement_and_policy_order_never_changes_the_decision(spec in set_spec(), ctx in request(), seed in any::<u64>()) {
        let mut shuffled = spec.clone();
        let mut state = seed | 1;
        let mut next = move || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        let mut shuffle = |v: &mut Vec<Stmt>| for i in (1..v.len()).rev() { v.swap(i, (next() as usize) % (i + 1)); };
        for p in &mut shuffled.identity { shuffle(p); }
        shuffled.identity.reverse();
        if let Some(r) = shuffled.resource.as_mut() { shuffle(r); }
        if let Some(b) = shuffled.boundary.as_mut() { shuffle(b); }
        if let Some(s) = shuffled.session.as_mut() { shuffle(s); }
        for l in &mut shuffled.scps { shuffle(l); }
        shuffled.scps.reverse();
        prop_assert_eq!(verdict(&build(&spec), &ctx), verdict(&build(&shuffled), &ctx));
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        for kind in PolicyKind::ALL {
            let _ = PolicyDocument::parse_lenient(&text, kind);
        }
    }

    #[test]
    fn parser_never_panics_on_mutated_policies(
        spec in statements(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![
            "", "{", "}", "[", "]", "\"", ":", ",", "null", "1e999", "\\u", "${", "*", "?", "arn:", "\u{00ff}", "Ω",
            "\"Condition\":{\"Foo\":{}}", "\"ForAllValues:StringLike\"", "\"Principal\"",
        ])), 1..6),
    ) {
        let body: Vec<String> = spec.iter().map(|s| render(s, PolicyKind::Resource)).collect();
        let mut text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, body.join(","));
        for (at, insert) in cuts {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) { i -= 1; }
            text.insert_str(i, insert);
        }
        for kind in PolicyKind::ALL {
            let outcome = PolicyDocument::parse_lenient(&text, kind);
            if let Some(doc) = outcome.document {
                // A defective document must still evaluate without panicking.
                let set = PolicySet { identity: vec![NamedPolicy::new("m", doc)], ..PolicySet::default() };
                let _ = set.compile().evaluate(&RequestContext::new(principal(0), "s3:GetObject", Some("arn:aws:s3:::b/k")));
            }
        }
    }
}
