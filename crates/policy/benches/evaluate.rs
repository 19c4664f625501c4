//! Policy evaluation cost, and the same decision made by `cedar-policy` on
//! an equivalent policy set (mapping in docs/benchmarks.md).
//!
//! small: a user with 10 identity policies x 10 statements + a resource
//! policy; large: the same request with 10,000 identity statements loaded.
//! Policies are compiled and requests built once, outside the timed loop,
//! on both sides.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use iamgate_policy::{
    NamedPolicy, Outcome, PolicyDocument, PolicyKind, PolicySet, PrincipalIdentity, RequestContext,
};

const ACCOUNT: &str = "111111111111";
const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const REQUEST_ARN: &str = "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/pets/42";
const SERVICES: [&str; 9] = [
    "s3", "dynamodb", "ec2", "iam", "sqs", "sns", "lambda", "logs", "kms",
];

/// One IAM statement, kept abstract so it can be rendered for both engines.
struct Stmt {
    deny: bool,
    actions: Vec<String>,
    resource: String,
    /// (IAM operator, key, value) — rendered as a Cedar `when` clause.
    condition: Option<(&'static str, &'static str, &'static str)>,
}

fn filler(i: usize, service: &str) -> Stmt {
    let condition = match i % 3 {
        0 => Some(("StringEquals", "aws:PrincipalTag/team", "blue")),
        1 => Some(("IpAddress", "aws:SourceIp", "10.0.0.0/8")),
        _ => None,
    };
    let actions = if i.is_multiple_of(7) {
        vec![format!("{service}:Get*")]
    } else {
        vec![
            format!("{service}:Action{i}"),
            format!("{service}:Other{i}"),
        ]
    };
    Stmt {
        deny: i.is_multiple_of(5),
        actions,
        resource: format!("arn:aws:{service}:us-east-1:{ACCOUNT}:thing/{i}/*"),
        condition,
    }
}

/// 100 statements: fillers across 9 services, plus the statements that
/// decide the request (an Allow with a condition and a Deny on DELETE).
fn small_identity() -> Vec<Vec<Stmt>> {
    let mut policies: Vec<Vec<Stmt>> = Vec::new();
    for p in 0..10 {
        let mut statements = Vec::new();
        for s in 0..10 {
            let i = p * 10 + s;
            statements.push(match i {
                42 => Stmt {
                    deny: false,
                    actions: vec!["execute-api:Invoke".to_string()],
                    resource: format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*/GET/*"),
                    condition: Some(("IpAddress", "aws:SourceIp", "10.0.0.0/8")),
                },
                77 => Stmt {
                    deny: true,
                    actions: vec!["execute-api:Invoke".to_string()],
                    resource: format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*/DELETE/*"),
                    condition: None,
                },
                _ => filler(i, SERVICES[i % SERVICES.len()]),
            });
        }
        policies.push(statements);
    }
    policies
}

/// The small set plus 9,900 statements over 330 other services and a few
/// more about execute-api (10,000 statements in 100 policies).
fn large_identity() -> Vec<Vec<Stmt>> {
    let mut policies = small_identity();
    for p in 0..99 {
        let mut statements = Vec::new();
        for s in 0..100 {
            let i = 1000 + p * 100 + s;
            if i % 1000 == 500 {
                statements.push(Stmt {
                    deny: false,
                    actions: vec!["execute-api:Invoke".to_string()],
                    resource: format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:other{i}/*"),
                    condition: None,
                });
            } else {
                statements.push(filler(i, &format!("svc{}", i % 330)));
            }
        }
        policies.push(statements);
    }
    policies
}

fn resource_policy() -> Vec<Stmt> {
    vec![
        Stmt {
            deny: false,
            actions: vec!["execute-api:Invoke".to_string()],
            resource: format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*"),
            condition: Some(("StringEquals", "aws:PrincipalTag/team", "blue")),
        },
        Stmt {
            deny: true,
            actions: vec!["execute-api:Invoke".to_string()],
            resource: format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*/DELETE/*"),
            condition: Some(("NotIpAddress", "aws:SourceIp", "10.0.0.0/8")),
        },
    ]
}

fn iam_json(statements: &[Stmt], principal: Option<&str>) -> String {
    let body: Vec<String> = statements
        .iter()
        .map(|s| {
            let actions: Vec<String> = s.actions.iter().map(|a| format!("\"{a}\"")).collect();
            let mut out = format!(
                r#"{{"Effect":"{}","Action":[{}],"Resource":"{}""#,
                if s.deny { "Deny" } else { "Allow" },
                actions.join(","),
                s.resource
            );
            if let Some(p) = principal {
                out.push_str(&format!(r#","Principal":{{"AWS":"{p}"}}"#));
            }
            if let Some((op, key, value)) = s.condition {
                out.push_str(&format!(r#","Condition":{{"{op}":{{"{key}":"{value}"}}}}"#));
            }
            out.push('}');
            out
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        body.join(",")
    )
}

fn iamgate_set(identity: &[Vec<Stmt>]) -> PolicySet {
    PolicySet {
        identity: identity
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let doc =
                    PolicyDocument::parse(&iam_json(p, None), PolicyKind::InlineIdentity).unwrap();
                NamedPolicy::new(&format!("policy{i}"), doc)
            })
            .collect(),
        resource: vec![NamedPolicy::new(
            "api",
            PolicyDocument::parse(
                &iam_json(&resource_policy(), Some(ALICE)),
                PolicyKind::Resource,
            )
            .unwrap(),
        )],
        ..PolicySet::default()
    }
}

fn iamgate_request() -> RequestContext {
    let mut alice = PrincipalIdentity::user(ACCOUNT, "/", "alice", "AIDAALICE000000000000");
    alice.tags.push(("team".to_string(), "blue".to_string()));
    RequestContext::new(alice, "execute-api:Invoke", Some(REQUEST_ARN))
        .with_key("aws:SourceIp", "10.1.2.3")
}

/// Cedar text for one statement. Exact actions become `action in [...]`;
/// a wildcard action becomes `context.action like`; Resource globs become
/// `resource.arn like`; conditions become `when` clauses.
fn cedar_statement(s: &Stmt, principal: &str) -> String {
    let effect = if s.deny { "forbid" } else { "permit" };
    let wildcard = s.actions.iter().any(|a| a.contains('*'));
    let action_scope = if wildcard {
        "action".to_string()
    } else {
        let list: Vec<String> = s
            .actions
            .iter()
            .map(|a| format!("Action::\"{a}\""))
            .collect();
        format!("action in [{}]", list.join(", "))
    };
    let mut conditions = vec![format!("resource.arn like \"{}\"", s.resource)];
    if wildcard {
        for a in &s.actions {
            conditions.push(format!("context.action like \"{a}\""));
        }
    }
    if let Some((op, _, value)) = s.condition {
        conditions.push(match op {
            "StringEquals" => format!("principal.team == \"{value}\""),
            "IpAddress" => format!("context.sourceIp.isInRange(ip(\"{value}\"))"),
            "NotIpAddress" => format!("!context.sourceIp.isInRange(ip(\"{value}\"))"),
            other => panic!("no Cedar mapping for {other}"),
        });
    }
    format!(
        "{effect}(principal == User::\"{principal}\", {action_scope}, resource) when {{ {} }};\n",
        conditions.join(" && ")
    )
}

fn cedar_policies(identity: &[Vec<Stmt>]) -> cedar_policy::PolicySet {
    let mut text = String::new();
    for s in identity.iter().flatten() {
        text.push_str(&cedar_statement(s, ALICE));
    }
    for s in &resource_policy() {
        text.push_str(&cedar_statement(s, ALICE));
    }
    text.parse().unwrap()
}

fn cedar_inputs() -> (cedar_policy::Request, cedar_policy::Entities) {
    use cedar_policy::{Context, Entities, Entity, EntityUid, Request, RestrictedExpression};
    let principal: EntityUid = format!("User::\"{ALICE}\"").parse().unwrap();
    let action: EntityUid = "Action::\"execute-api:Invoke\"".parse().unwrap();
    let resource: EntityUid = format!("Resource::\"{REQUEST_ARN}\"").parse().unwrap();
    let context = Context::from_pairs([
        (
            "sourceIp".to_string(),
            RestrictedExpression::new_ip("10.1.2.3"),
        ),
        (
            "action".to_string(),
            RestrictedExpression::new_string("execute-api:Invoke".to_string()),
        ),
    ])
    .unwrap();
    let user = Entity::new(
        principal.clone(),
        HashMap::from([(
            "team".to_string(),
            RestrictedExpression::new_string("blue".to_string()),
        )]),
        HashSet::new(),
    )
    .unwrap();
    let api = Entity::new(
        resource.clone(),
        HashMap::from([(
            "arn".to_string(),
            RestrictedExpression::new_string(REQUEST_ARN.to_string()),
        )]),
        HashSet::new(),
    )
    .unwrap();
    let entities = Entities::from_entities([user, api], None).unwrap();
    (
        Request::new(principal, action, resource, context, None).unwrap(),
        entities,
    )
}

fn bench(c: &mut Criterion) {
    let request = iamgate_request();
    let (cedar_request, cedar_entities) = cedar_inputs();
    let authorizer = cedar_policy::Authorizer::new();
    let mut group = c.benchmark_group("policy_eval");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    for (name, identity) in [
        ("small_100", small_identity()),
        ("large_10000", large_identity()),
    ] {
        let compiled = iamgate_set(&identity).compile();
        assert_eq!(compiled.evaluate(&request).outcome, Outcome::Allowed);
        group.bench_function(format!("iamgate/{name}"), |b| {
            b.iter(|| compiled.evaluate(black_box(&request)))
        });
        let cedar = cedar_policies(&identity);
        let response = authorizer.is_authorized(&cedar_request, &cedar, &cedar_entities);
        assert_eq!(
            response.decision(),
            cedar_policy::Decision::Allow,
            "{:?}",
            response.diagnostics()
        );
        group.bench_function(format!("cedar/{name}"), |b| {
            b.iter(|| authorizer.is_authorized(black_box(&cedar_request), &cedar, &cedar_entities))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
