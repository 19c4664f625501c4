#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Routes through roles in `plan`: offered beside the direct ways, from
//! every existing role that can already do it (not the first few), the
//! fewest changes first and a bounded number of them, and a new role
//! when the target is an API.

mod support;

use iamgate_analysis::{Analysis, ChangeKind, Plan, Target};

const CALLER: &str = "arn:aws:iam::444455556666:user/u";

/// REST API `apiid` in account A with `roles` roles `r00`, `r01`, … that
/// may invoke it; the even ones already trust B's user, the odd ones
/// nobody. B's user may invoke the API by its own policy; the API has no
/// resource policy, so the direct way needs one statement there.
fn world(roles: usize) -> String {
    let mut yaml = String::from(
        r#"
accounts:
  - id: "111122223333"
    roles:
"#,
    );
    for n in 0..roles {
        let principal = if n % 2 == 0 {
            CALLER
        } else {
            "arn:aws:iam::111122223333:root"
        };
        yaml.push_str(&format!(
            r#"      - name: r{n:02}
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}'
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111122223333:apiid/*"}}]}}'
"#
        ));
    }
    yaml.push_str(
        r#"  - id: "444455556666"
    users:
      - name: u
        policies:
          invoke: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111122223333:apiid/*"}]}'
apis:
  - id: apiid
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: /, method: GET, authorization: AWS_IAM, integration: { type: MOCK } }
"#,
    );
    yaml
}

fn plan(roles: usize) -> Plan {
    let (world, apis) = support::load(&world(roles));
    let target = Target::route(&apis, "apiid", "prod", "GET /").unwrap();
    Analysis::new(&world, &apis).plan(CALLER, &target).unwrap()
}

/// Each alternative's role (none: direct) and change kinds.
fn routes(plan: &Plan) -> Vec<(Option<String>, Vec<ChangeKind>)> {
    plan.alternatives
        .iter()
        .map(|a| {
            let role = a
                .assume
                .as_ref()
                .map(|r| r.rsplit('/').next().unwrap().to_owned());
            (role, a.changes.iter().map(|c| c.kind).collect())
        })
        .collect()
}

#[test]
fn every_existing_role_that_can_invoke_is_a_route_not_just_the_first_three() {
    let plan = plan(6);
    let found = routes(&plan);
    // The direct way: one statement in the API's resource policy.
    assert_eq!(found[0], (None, vec![ChangeKind::Resource]), "{found:#?}");
    let through: Vec<&str> = found
        .iter()
        .filter_map(|(role, _)| role.as_deref())
        .filter(|role| role.starts_with('r'))
        .collect();
    // Roles that already trust the caller need one change, the caller's
    // own permission to assume them, so they come first; the others need
    // their trust changed too.
    assert_eq!(
        through,
        ["r00", "r02", "r04", "r01", "r03", "r05"],
        "{found:#?}"
    );
    for (role, kinds) in &found {
        match role.as_deref().and_then(|r| r.strip_prefix('r')) {
            Some(n) if n.parse::<usize>().unwrap() % 2 == 0 => {
                assert_eq!(kinds, &[ChangeKind::Identity], "{role:?}");
            }
            Some(n) if n.parse::<usize>().is_ok() => {
                let mut kinds = kinds.clone();
                kinds.sort();
                assert_eq!(kinds, [ChangeKind::Identity, ChangeKind::Trust], "{role:?}");
            }
            _ => {}
        }
    }
}

#[test]
fn routes_through_existing_roles_are_bounded_fewest_changes_first() {
    let plan = plan(20);
    let through: Vec<String> = routes(&plan)
        .into_iter()
        .filter_map(|(role, _)| role)
        .filter(|role| role.starts_with('r'))
        .collect();
    assert_eq!(through.len(), 8, "{through:?}");
    // The ten roles that already trust the caller need one change each:
    // the first eight of them fill the offer.
    assert_eq!(
        through,
        ["r00", "r02", "r04", "r06", "r08", "r10", "r12", "r14"]
    );
}

#[test]
fn a_new_role_is_offered_beside_a_direct_way_that_works() {
    let plan = plan(0);
    let found = routes(&plan);
    assert_eq!(found[0], (None, vec![ChangeKind::Resource]), "{found:#?}");
    let new_role = plan
        .alternatives
        .iter()
        .find(|a| a.changes.iter().any(|c| c.kind == ChangeKind::AssumeRole))
        .unwrap_or_else(|| panic!("no new role offered: {found:#?}"));
    let role = new_role.assume.as_deref().unwrap();
    assert!(
        role.starts_with("arn:aws:iam::111122223333:role/"),
        "{role}"
    );
    assert!(new_role.widens.is_empty(), "{:?}", new_role.widens);
    // Offered after the smaller direct way.
    let position = plan
        .alternatives
        .iter()
        .position(|a| a.assume.as_deref() == Some(role))
        .unwrap();
    assert!(position > 0);
    assert!(
        new_role
            .commands
            .iter()
            .any(|c| c.contains("aws iam create-role")),
        "{:?}",
        new_role.commands
    );
}
