#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The seed articles' setups, offline: who can call, and what would let
//! a denied caller in. Each world is written here from the article's
//! prose (accounts, users, roles, policies, the API).

mod support;

use iamgate_analysis::{Analysis, ChangeKind, Target};

/// Seed 003: REST API `apiid` (stage prod, GET /, AWS_IAM) in account
/// 123456789012; api-exe-nonvalid (same account, identity policy),
/// api-not-exe (same account, nothing), api-exe-valid (other account,
/// identity policy). `policy` is the API's resource policy, if any.
fn seed_003(policy: &str) -> String {
    format!(
        r#"
accounts:
  - id: "123456789012"
    users:
      - name: api-exe-nonvalid
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"]}}]}}'
      - name: api-not-exe
  - id: "098765432109"
    users:
      - name: api-exe-valid
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"]}}]}}'
apis:
  - id: apiid
    type: REST
    account: "123456789012"
    region: us-east-1
    stages: [prod]
{policy}
    methods:
      - {{ path: /, method: GET, authorization: AWS_IAM, integration: {{ type: MOCK }} }}
"#
    )
}

const SEED_003_ALLOW_VALID: &str = r#"    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'"#;

const SEED_003_NOT_PRINCIPAL_DENY: &str = r#"    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::098765432109:user/api-exe-valid"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/"}]}'"#;

fn who_can_route(
    yaml: &str,
    api: &str,
    stage: &str,
    route: &str,
) -> Vec<(String, Vec<String>, usize)> {
    let (world, apis) = support::load(yaml);
    let target = Target::route(&apis, api, stage, route).unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    analysis
        .who_can(&target)
        .into_iter()
        .map(|a| (a.principal, a.via, a.conditions.len()))
        .collect()
}

fn principals(found: &[(String, Vec<String>, usize)]) -> Vec<&str> {
    found.iter().map(|(p, _, _)| p.as_str()).collect()
}

#[test]
fn seed_003_before_the_resource_policy_only_the_same_account_user_with_a_policy_can_call() {
    let found = who_can_route(&seed_003(""), "apiid", "prod", "GET /");
    assert_eq!(
        principals(&found),
        vec![
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:user/api-exe-nonvalid",
        ]
    );
    assert!(
        found
            .iter()
            .all(|(_, via, conditions)| via.is_empty() && *conditions == 0)
    );
}

#[test]
fn seed_003_once_the_resource_policy_is_deployed_the_other_account_user_can_call_too() {
    let found = who_can_route(&seed_003(SEED_003_ALLOW_VALID), "apiid", "prod", "GET /");
    let names = principals(&found);
    assert!(names.contains(&"arn:aws:iam::098765432109:user/api-exe-valid"));
    assert!(names.contains(&"arn:aws:iam::123456789012:user/api-exe-nonvalid"));
    assert!(!names.contains(&"arn:aws:iam::123456789012:user/api-not-exe"));
}

#[test]
fn seed_003_the_not_principal_deny_leaves_only_the_named_user() {
    let found = who_can_route(
        &seed_003(SEED_003_NOT_PRINCIPAL_DENY),
        "apiid",
        "prod",
        "GET /",
    );
    assert_eq!(
        principals(&found),
        vec!["arn:aws:iam::098765432109:user/api-exe-valid"]
    );
}

#[test]
fn seed_003_plan_for_the_other_account_user_is_a_resource_statement_and_a_deployment() {
    let (world, apis) = support::load(&seed_003(""));
    let target = Target::route(&apis, "apiid", "prod", "GET /").unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    let plan = analysis
        .plan("arn:aws:iam::098765432109:user/api-exe-valid", &target)
        .unwrap();
    let first = &plan.alternatives[0];
    assert_eq!(first.changes.len(), 1);
    assert_eq!(first.changes[0].kind, ChangeKind::Resource);
    assert_eq!(first.changes[0].account, "123456789012");
    assert_eq!(
        first.changes[0].statement["Principal"]["AWS"],
        "arn:aws:iam::098765432109:user/api-exe-valid"
    );
    assert!(first.widens.is_empty());
    assert!(first.commands.iter().any(|c| {
        c.contains("aws apigateway create-deployment --rest-api-id apiid --stage-name prod")
    }));
}

#[test]
fn seed_003_plan_for_the_same_account_user_without_a_policy_offers_either_side() {
    let (world, apis) = support::load(&seed_003(""));
    let target = Target::route(&apis, "apiid", "prod", "GET /").unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    let plan = analysis
        .plan("arn:aws:iam::123456789012:user/api-not-exe", &target)
        .unwrap();
    let kinds: Vec<Vec<ChangeKind>> = plan
        .alternatives
        .iter()
        .map(|a| a.changes.iter().map(|c| c.kind).collect())
        .collect();
    assert!(kinds.contains(&vec![ChangeKind::Identity]), "{kinds:?}");
    assert!(kinds.contains(&vec![ChangeKind::Resource]), "{kinds:?}");
}

/// Seeds 000 and 001: HTTP API a1b2c3d4e5 in account A (111122223333);
/// role Invoker in A trusts account B and may invoke; user u in B may
/// assume it.
const SEED_000: &str = r#"
accounts:
  - id: "111122223333"
    managed_policies:
      - name: InvokeHttpApi
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/$default/*/*"]}]}'
    roles:
      - name: Invoker
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}'
        managed_policies: [InvokeHttpApi]
  - id: "444455556666"
    users:
      - name: u
        policies:
          assume: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/Invoker"}]}'
apis:
  - id: a1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - { key: "ANY /{proxy+}", authorization: AWS_IAM, integration: { type: MOCK } }
"#;

#[test]
fn seed_000_who_can_shows_account_b_user_through_the_role() {
    let found = who_can_route(SEED_000, "a1b2c3d4e5", "$default", "GET /hello");
    assert!(
        found.contains(&(
            "arn:aws:iam::444455556666:user/u".to_owned(),
            vec!["arn:aws:iam::111122223333:role/Invoker".to_owned()],
            0
        )),
        "{found:?}"
    );
    assert!(found.contains(&(
        "arn:aws:iam::111122223333:role/Invoker".to_owned(),
        vec![],
        0
    )));
    // B's root cannot assume roles, and an HTTP API has no resource policy to let it in.
    assert!(!principals(&found).contains(&"arn:aws:iam::444455556666:root"));
}

#[test]
fn seed_000_plan_for_the_user_calling_directly_is_the_role() {
    let (world, apis) = support::load(SEED_000);
    let target = Target::route(&apis, "a1b2c3d4e5", "$default", "GET /hello").unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    let plan = analysis
        .plan("arn:aws:iam::444455556666:user/u", &target)
        .unwrap();
    assert!(plan.allowed.is_none());
    let first = &plan.alternatives[0];
    assert_eq!(
        first.assume.as_deref(),
        Some("arn:aws:iam::111122223333:role/Invoker")
    );
    assert!(
        first.changes.is_empty(),
        "u may already assume Invoker: {first:?}"
    );
    assert!(
        plan.alternatives
            .iter()
            .all(|a| a.changes.iter().all(|c| c.kind != ChangeKind::Resource))
    );
}

/// The same HTTP API with no role yet: the plan is the three policies.
const SEED_000_BEFORE: &str = r#"
accounts:
  - id: "111122223333"
  - id: "444455556666"
    users:
      - name: u
apis:
  - id: a1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - { key: "ANY /{proxy+}", authorization: AWS_IAM, integration: { type: MOCK } }
"#;

#[test]
fn seed_001_plan_without_a_role_creates_one_with_its_three_policies() {
    let (world, apis) = support::load(SEED_000_BEFORE);
    let target = Target::route(&apis, "a1b2c3d4e5", "$default", "GET /hello").unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    let plan = analysis
        .plan("arn:aws:iam::444455556666:user/u", &target)
        .unwrap();
    assert_eq!(plan.alternatives.len(), 1, "{plan:?}");
    let changes = &plan.alternatives[0].changes;
    let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::AssumeRole,
            ChangeKind::Trust,
            ChangeKind::Identity
        ]
    );
    assert_eq!(changes[0].account, "111122223333");
    assert_eq!(
        changes[1].statement["Principal"]["AWS"],
        "arn:aws:iam::444455556666:user/u"
    );
    assert_eq!(changes[2].account, "444455556666");
    assert_eq!(changes[2].statement["Action"], "sts:AssumeRole");
    let commands = plan.alternatives[0].commands.join("\n");
    assert!(commands.contains("aws iam create-role"), "{commands}");
    assert!(commands.contains("aws sts assume-role"), "{commands}");
}

/// Seed 002 as its article writes it: account A (111111111111) hosts REST
/// API abcd1234 whose resource policy names account B's role
/// APIGatewayInvokerRole; that role trusts account A (not B) and may
/// invoke; the calls are made with user ApiInvokerUser's keys from B.
const SEED_002: &str = r#"
accounts:
  - id: "111111111111"
  - id: "222222222222"
    users:
      - name: ApiInvokerUser
    roles:
      - name: APIGatewayInvokerRole
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:ap-northeast-1:111111111111:abcd1234/*"}]}'
apis:
  - id: abcd1234
    type: REST
    account: "111111111111"
    region: ap-northeast-1
    stages: [prod]
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/APIGatewayInvokerRole"]},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:ap-northeast-1:111111111111:abcd1234/*"}]}'
    methods:
      - { path: /myapi, method: GET, authorization: AWS_IAM, integration: { type: MOCK } }
"#;

#[test]
fn seed_002_the_user_cannot_call_and_nobody_can_reach_the_role() {
    let found = who_can_route(SEED_002, "abcd1234", "prod", "GET /myapi");
    assert_eq!(
        found,
        vec![
            ("arn:aws:iam::111111111111:root".to_owned(), vec![], 0),
            (
                "arn:aws:iam::222222222222:role/APIGatewayInvokerRole".to_owned(),
                vec![],
                0
            ),
        ]
    );
}

#[test]
fn seed_002_plan_offers_the_role_the_article_meant_and_the_direct_way() {
    let (world, apis) = support::load(SEED_002);
    let target = Target::route(&apis, "abcd1234", "prod", "GET /myapi").unwrap();
    let mut analysis = Analysis::new(&world, &apis);
    let user = "arn:aws:iam::222222222222:user/ApiInvokerUser";
    let plan = analysis.plan(user, &target).unwrap();
    let through_role = plan
        .alternatives
        .iter()
        .find(|a| {
            a.assume.as_deref() == Some("arn:aws:iam::222222222222:role/APIGatewayInvokerRole")
        })
        .expect("the role way");
    // User and role are both in B: a trust policy naming the user is
    // enough on its own (same-account union), no identity statement needed.
    let kinds: Vec<ChangeKind> = through_role.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::Trust]);
    assert_eq!(through_role.changes[0].statement["Principal"]["AWS"], user);
    assert_eq!(through_role.changes[0].account, "222222222222");
    let direct = plan
        .alternatives
        .iter()
        .find(|a| a.assume.is_none())
        .expect("the direct way");
    let kinds: Vec<ChangeKind> = direct.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::Identity, ChangeKind::Resource]);
    assert!(plan.alternatives.iter().all(|a| a.widens.is_empty()));
}
