#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Role sessions in who-can: what a trust policy asks of the session
//! itself — session tags (`aws:RequestTag/…`, `aws:TagKeys`) or a source
//! identity (`sts:SourceIdentity`) — is set by whoever calls
//! `AssumeRole`, so the analysis can neither assume it is given nor that
//! it is not. It must show up in the access's conditions, on the
//! `sts:AssumeRole` step, and the access must still be listed.

mod support;

use iamgate_analysis::{Analysis, Target};

const ROLE: &str = "arn:aws:iam::111122223333:role/Tagged";
const USER: &str = "arn:aws:iam::444455556666:user/u";

/// HTTP API `a1b2c3d4e5` in A; role Tagged in A may invoke it and trusts
/// B's user under `trust_condition`; B's user may assume it.
fn world(trust_condition: &str) -> String {
    format!(
        r#"
accounts:
  - id: "111122223333"
    roles:
      - name: Tagged
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Sid":"SessionMustSay","Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Condition":{trust_condition}}}]}}'
        policies:
          invoke: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/*"}}]}}'
  - id: "444455556666"
    users:
      - name: u
        policies:
          assume: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"{ROLE}"}}]}}'
apis:
  - id: a1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - {{ key: "GET /hello", authorization: AWS_IAM, integration: {{ type: MOCK }} }}
"#
    )
}

/// The user's access through the role, and the `when` clauses of its
/// conditions on the role's trust.
fn through_the_role(trust_condition: &str) -> Vec<String> {
    let (world, apis) = support::load(&world(trust_condition));
    let target = Target::route(&apis, "a1b2c3d4e5", "$default", "GET /hello").unwrap();
    let found = Analysis::new(&world, &apis).who_can(&target);
    let access = found
        .iter()
        .find(|a| a.principal == USER)
        .unwrap_or_else(|| panic!("the user is not listed: {found:#?}"));
    assert_eq!(access.via, [ROLE]);
    let trust: Vec<_> = access
        .conditions
        .iter()
        .filter(|c| c.policy_type == "trust")
        .collect();
    assert!(
        !trust.is_empty(),
        "no trust condition: {:#?}",
        access.conditions
    );
    for condition in &trust {
        assert_eq!(condition.action, "sts:AssumeRole");
        assert_eq!(condition.resource, ROLE);
        assert_eq!(condition.effect, "Allow");
        assert_eq!(condition.sid.as_deref(), Some("SessionMustSay"));
    }
    trust.iter().flat_map(|c| c.when.clone()).collect()
}

#[test]
fn a_trust_policy_that_requires_a_session_tag_shows_it_as_a_condition() {
    let when = through_the_role(r#"{"StringEquals":{"aws:RequestTag/team":"blue"}}"#);
    assert_eq!(when, ["StringEquals aws:RequestTag/team blue"]);
}

#[test]
fn a_trust_policy_that_limits_the_session_tag_keys_shows_it_as_a_condition() {
    let when = through_the_role(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#);
    assert_eq!(when, ["ForAllValues:StringEquals aws:TagKeys team"]);
}

#[test]
fn a_trust_policy_that_requires_a_source_identity_shows_it_as_a_condition() {
    let when = through_the_role(r#"{"StringLike":{"sts:SourceIdentity":"admin-*"}}"#);
    assert_eq!(when, ["StringLike sts:SourceIdentity admin-*"]);
}

#[test]
fn a_trust_policy_that_requires_both_shows_both_on_the_one_statement() {
    let mut when = through_the_role(
        r#"{"StringEquals":{"aws:RequestTag/team":"blue"},"Null":{"sts:SourceIdentity":"false"}}"#,
    );
    when.sort();
    assert_eq!(
        when,
        [
            "Null sts:SourceIdentity false",
            "StringEquals aws:RequestTag/team blue"
        ]
    );
}
