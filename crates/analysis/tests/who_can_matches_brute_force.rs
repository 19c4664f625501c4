#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! `who-can` against brute force on random small worlds: every principal
//! and every chain of distinct roles, each step decided by the real
//! evaluator on the context the data plane (`request_context` plus
//! `aws:ResourceAccount`) and STS (the role's account and tags) build, for
//! every request the world's conditions tell apart (no VPC endpoint,
//! `vpce-1`, `vpce-2`).
//!
//! Pinned: whoever brute force finds is listed (completeness); every
//! listed chain works step by step under some request (soundness); a
//! listing without conditions works under every request.

mod support;

use std::sync::Arc;

use iamgate_analysis::{Analysis, Target, role_session};
use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::request_context::{RequestFacts, VpcEndpoint, request_context};
use iamgate_iam::world::RoleEntry;
use iamgate_iam::{Caller, World};
use iamgate_policy::ResourcePolicyKind;
use proptest::prelude::*;

const A: &str = "111111111111";
const B: &str = "222222222222";
const API_ARN: &str = "arn:aws:execute-api:us-east-1:111111111111:api0000001/prod/GET/";
/// (name, account) of users and roles.
const USERS: [(&str, &str); 3] = [("u0", A), ("u1", B), ("u2", B)];
const ROLES: [(&str, &str); 3] = [("r0", A), ("r1", B), ("r2", A)];

fn user_arn(i: usize) -> String {
    format!("arn:aws:iam::{}:user/{}", USERS[i].1, USERS[i].0)
}
fn role_arn(i: usize) -> String {
    format!("arn:aws:iam::{}:role/{}", ROLES[i].1, ROLES[i].0)
}

/// An identity statement from a small menu that covers the cases.
fn identity_statement(choice: (u8, usize)) -> String {
    let (kind, k) = choice;
    match kind {
        0 => format!(r#"{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{A}:api0000001/*"}}"#),
        1 => r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}"#.to_owned(),
        2 => r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#.to_owned(),
        3 => format!(r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{}"}}"#, role_arn(k % 3)),
        4 => r#"{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-2"}}}"#.to_owned(),
        _ => r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}"#.to_owned(),
    }
}

/// A principal for a trust or resource policy.
fn principal(choice: usize) -> String {
    match choice % 9 {
        0 => format!("arn:aws:iam::{A}:root"),
        1 => B.to_owned(),
        2 => "*".to_owned(),
        n @ 3..=5 => user_arn(n - 3),
        n => role_arn(n - 6),
    }
}

fn document(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

#[derive(Debug, Clone)]
struct Shape {
    users: Vec<Vec<(u8, usize)>>,
    roles: Vec<Vec<(u8, usize)>>,
    /// Per role: trusted principal and whether the trust needs vpce-1.
    trusts: Vec<(usize, bool)>,
    /// The API's resource policy: allowed principals, and a deny for vpce-2.
    resource: Option<(Vec<usize>, bool)>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let statements = || prop::collection::vec((0u8..6, 0usize..3), 0..3);
    (
        prop::collection::vec(statements(), 3),
        prop::collection::vec(statements(), 3),
        prop::collection::vec((0usize..9, any::<bool>()), 3),
        prop::option::of((prop::collection::vec(0usize..9, 1..3), any::<bool>())),
    )
        .prop_map(|(users, roles, trusts, resource)| Shape {
            users,
            roles,
            trusts,
            resource,
        })
}

fn yaml(shape: &Shape) -> String {
    let mut accounts = String::new();
    for account in [A, B] {
        accounts.push_str(&format!("  - id: \"{account}\"\n    users:\n"));
        for (i, (name, owner)) in USERS.iter().enumerate() {
            if *owner != account {
                continue;
            }
            let statements: Vec<String> = shape.users[i]
                .iter()
                .map(|c| identity_statement(*c))
                .collect();
            accounts.push_str(&format!("      - name: {name}\n"));
            if !statements.is_empty() {
                accounts.push_str(&format!(
                    "        policies:\n          p: '{}'\n",
                    document(&statements)
                ));
            }
        }
        accounts.push_str("    roles:\n");
        for (i, (name, owner)) in ROLES.iter().enumerate() {
            if *owner != account {
                continue;
            }
            let (who, conditional) = shape.trusts[i];
            let condition = if conditional {
                r#","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#
            } else {
                ""
            };
            let trust = document(&[format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"{condition}}}"#,
                principal(who)
            )]);
            accounts.push_str(&format!(
                "      - name: {name}\n        trust_policy: '{trust}'\n"
            ));
            let statements: Vec<String> = shape.roles[i]
                .iter()
                .map(|c| identity_statement(*c))
                .collect();
            if !statements.is_empty() {
                accounts.push_str(&format!(
                    "        policies:\n          p: '{}'\n",
                    document(&statements)
                ));
            }
        }
    }
    let policy = match &shape.resource {
        None => String::new(),
        Some((allowed, deny)) => {
            let names: Vec<String> = allowed
                .iter()
                .map(|p| format!("\"{}\"", principal(*p)))
                .collect();
            let mut statements = vec![format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{A}:api0000001/*"}}"#,
                names.join(",")
            )];
            if *deny {
                statements.push(r#"{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-2"}}}"#.to_owned());
            }
            format!("    policy: '{}'\n", document(&statements))
        }
    };
    format!(
        "accounts:\n{accounts}apis:\n  - id: api0000001\n    type: REST\n    account: \"{A}\"\n    region: us-east-1\n    stages: [prod]\n{policy}    methods:\n      - {{ path: /, method: GET, authorization: AWS_IAM, integration: {{ type: MOCK }} }}\n"
    )
}

/// The requests the world's conditions tell apart.
fn endpoints() -> [Option<VpcEndpoint>; 3] {
    let endpoint = |id: &str| {
        Some(VpcEndpoint {
            endpoint_id: id.to_owned(),
            vpc_id: "vpc-1".to_owned(),
        })
    };
    [None, endpoint("vpce-1"), endpoint("vpce-2")]
}

/// Whether `caller` may take the step, under each request.
fn step(
    world: &World,
    apis: &ApiRegistry,
    caller: &Caller,
    to_role: Option<&Arc<RoleEntry>>,
) -> Vec<bool> {
    endpoints()
        .iter()
        .map(|endpoint| {
            let facts = RequestFacts {
                now: 1_700_000_000,
                vpc_endpoint: endpoint.as_ref(),
                ..RequestFacts::default()
            };
            match to_role {
                Some(role) => {
                    let arn = role.record.arn();
                    let context =
                        request_context(Some(caller), "sts:AssumeRole", Some(&arn), &facts)
                            .with_resource_account(&role.record.account);
                    !matches!(caller, Caller::Root { .. })
                        && world
                            .evaluate_with_resource(
                                caller,
                                &context,
                                Some(&role.trust),
                                ResourcePolicyKind::RoleTrust,
                            )
                            .is_allowed()
                }
                None => {
                    let stage = &apis.rest["api0000001"].stages["prod"];
                    let context =
                        request_context(Some(caller), "execute-api:Invoke", Some(API_ARN), &facts)
                            .with_key("aws:ResourceAccount", A);
                    world
                        .evaluate_with_resource(
                            caller,
                            &context,
                            stage.policy.as_deref(),
                            ResourcePolicyKind::ResourceBased,
                        )
                        .is_allowed()
                }
            }
        })
        .collect()
}

/// Every principal ARN with its caller.
fn principals(world: &World) -> Vec<(String, Caller)> {
    let mut out: Vec<(String, Caller)> = [A, B]
        .iter()
        .map(|a| {
            (
                format!("arn:aws:iam::{a}:root"),
                Caller::Root {
                    account: (*a).to_owned(),
                },
            )
        })
        .collect();
    out.extend(
        world
            .users()
            .map(|u| (u.record.arn(), Caller::User(u.clone()))),
    );
    out.extend(world.roles().map(|r| (r.record.arn(), role_session(r))));
    out
}

/// All sequences of distinct roles (of three: at most 15 non-empty).
fn chains(n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    let mut frontier = vec![Vec::new()];
    for _ in 0..n {
        let mut next = Vec::new();
        for chain in &frontier {
            for r in 0..n {
                if !chain.contains(&r) {
                    let mut longer: Vec<usize> = chain.clone();
                    longer.push(r);
                    next.push(longer);
                }
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out
}

/// Whether the chain works: each step under some request (`all`: every).
fn chain_works(
    world: &World,
    apis: &ApiRegistry,
    caller: &Caller,
    roles: &[Arc<RoleEntry>],
    all: bool,
) -> bool {
    let mut current = caller.clone();
    for role in roles {
        let ok = step(world, apis, &current, Some(role));
        if !(if all {
            ok.iter().all(|b| *b)
        } else {
            ok.iter().any(|b| *b)
        }) {
            return false;
        }
        current = role_session(role);
    }
    let ok = step(world, apis, &current, None);
    if all {
        ok.iter().all(|b| *b)
    } else {
        ok.iter().any(|b| *b)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn who_can_agrees_with_every_principal_and_role_chain_evaluated(shape in shape()) {
        let text = yaml(&shape);
        let (world, apis) = support::load(&text);
        let target = Target::route(&apis, "api0000001", "prod", "GET /").unwrap();
        let found = Analysis::new(&world, &apis).who_can(&target);
        let roles: Vec<Arc<RoleEntry>> = (0..3).map(|i| world.role_by_arn(&role_arn(i)).unwrap().clone()).collect();

        for (arn, caller) in principals(&world) {
            let reachable = chains(3).iter().any(|chain| {
                let via: Vec<Arc<RoleEntry>> = chain.iter().map(|&i| roles[i].clone()).collect();
                chain_works(&world, &apis, &caller, &via, false)
            });
            let listed = found.iter().any(|a| a.principal == arn);
            prop_assert_eq!(reachable, listed, "{} in\n{}\nfound {:?}", arn, text, found);
        }
        for access in &found {
            let caller = principals(&world).into_iter().find(|(a, _)| *a == access.principal).unwrap().1;
            let via: Vec<Arc<RoleEntry>> = access.via.iter().map(|a| world.role_by_arn(a).unwrap().clone()).collect();
            prop_assert!(chain_works(&world, &apis, &caller, &via, false), "{:?} in\n{}", access, text);
            if access.conditions.is_empty() {
                prop_assert!(chain_works(&world, &apis, &caller, &via, true), "unconditional {:?} in\n{}", access, text);
            }
        }
    }
}
