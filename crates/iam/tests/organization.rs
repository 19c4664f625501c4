#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! AWS Organizations in the world file: SCPs narrow what member accounts'
//! principals may do (every level from the root to the account must
//! allow; a Deny anywhere denies), the management account and
//! service-linked roles are not limited, `FullAWSAccess` is attached
//! everywhere unless the file lists it, and the section is read with
//! every problem at its line and column.

use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::organization::{FULL_AWS_ACCESS_ID, OrganizationRecord};
use iamgate_iam::records::{AccessKeyRecord, Record};
use iamgate_iam::world::{RecordChange, UnsealError};
use iamgate_iam::{AnyRecord, Caller, SessionClaims, SessionPrincipal, TokenSealer, World};
use iamgate_policy::{DecidingRule, Outcome, PolicyType, RequestContext, ResourcePolicyKind};
use iamgate_sigv4::CredentialProvider;

const NOW: i64 = 1_700_000_000;

fn accounts() -> String {
    let mut out = String::from("accounts:\n");
    for (account, user) in [
        ("111111111111", "mgmt"),
        ("222222222222", "dev"),
        ("333333333333", "prod"),
    ] {
        let digit = &account[..1];
        out.push_str(&format!(
            r#"  - id: "{account}"
    users:
      - name: {user}
        access_keys: [{{ id: AKIAEXAMPLEUSER0000{digit}, secret: "s{digit}" }}]
        policies:
          admin: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}}]}}'
    roles:
      - name: AWSServiceRoleForSupport
        path: /aws-service-role/support.amazonaws.com/
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"support.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}'
        policies:
          admin: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}}]}}'
"#
        ));
    }
    out
}

/// 111 manages; 222 sits in Workloads/Dev, 333 in Workloads/Prod.
/// FullAWSAccess is kept everywhere but on Prod, where only API calls are
/// allowed; the root denies invoking the `secret` API.
const ORGANIZATION: &str = r#"
organization:
  management_account: "111111111111"
  organizational_units:
    - name: Workloads
      organizational_units:
        - { name: Dev, accounts: ["222222222222"] }
        - { name: Prod, accounts: ["333333333333"] }
  service_control_policies:
    - name: FullAWSAccess
      targets: [root, Workloads, Workloads/Dev, "111111111111", "222222222222", "333333333333"]
    - name: OnlyApis
      description: Prod may only call APIs
      document: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: "execute-api:*", Resource: "*" } ] }
      targets: [Workloads/Prod]
    - name: NoSecretApi
      document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:secret1234/*"}]}'
      targets: [root]
"#;

fn plain(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    Ok(record.secret.expose().to_string())
}

fn world_of(text: &str) -> World {
    let config = WorldConfig::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let world = World::from_records(
        records,
        Some(std::sync::Arc::new(TokenSealer::new(&[7; 32]))),
        &plain,
    );
    assert!(world.problems().is_empty(), "{:?}", world.problems());
    world
}

fn world() -> World {
    world_of(&format!("{}{ORGANIZATION}", accounts()))
}

fn user(world: &World, digit: &str) -> Caller {
    world
        .resolve(&format!("AKIAEXAMPLEUSER0000{digit}"), None, NOW)
        .map(|r| r.identity)
        .unwrap()
}

fn ask(world: &World, caller: &Caller, action: &str, resource: &str) -> iamgate_policy::Decision {
    let request = RequestContext::new(caller.principal_identity(), action, Some(resource));
    world.evaluate_with_resource(caller, &request, None, ResourcePolicyKind::ResourceBased)
}

const API: &str = "arn:aws:execute-api:us-east-1:333333333333:abc1234567/prod/GET/items";
const SECRET: &str = "arn:aws:execute-api:us-east-1:333333333333:secret1234/prod/GET/items";
const BUCKET: &str = "arn:aws:s3:::bucket";

#[test]
fn an_scp_narrows_what_identity_policies_allow_in_the_accounts_below_it() {
    let world = world();
    let prod = user(&world, "3");
    assert_eq!(
        ask(&world, &prod, "execute-api:Invoke", API).outcome,
        Outcome::Allowed
    );
    let s3 = ask(&world, &prod, "s3:GetObject", BUCKET);
    assert_eq!(s3.outcome, Outcome::ImplicitDeny);
    assert_eq!(s3.deciding_policy_type, PolicyType::ServiceControl);
    assert_eq!(s3.rule, DecidingRule::ScpLimit);
    assert!(s3.missing.contains(PolicyType::ServiceControl));
    // Dev keeps FullAWSAccess at every level.
    let dev = user(&world, "2");
    assert_eq!(
        ask(&world, &dev, "s3:GetObject", BUCKET).outcome,
        Outcome::Allowed
    );
}

#[test]
fn an_scp_deny_at_the_root_denies_explicitly_in_every_member_account() {
    let world = world();
    for digit in ["2", "3"] {
        let decision = ask(&world, &user(&world, digit), "execute-api:Invoke", SECRET);
        assert_eq!(decision.outcome, Outcome::ExplicitDeny, "account {digit}");
        assert_eq!(decision.deciding_policy_type, PolicyType::ServiceControl);
        assert_eq!(decision.matched[0].policy_id.as_ref(), "NoSecretApi");
    }
}

#[test]
fn the_management_account_is_not_limited_by_scps() {
    let world = world();
    let mgmt = user(&world, "1");
    // The same route in the management account's own API, which the
    // root's SCP denies to every member account.
    let own_secret = SECRET.replace("333333333333", "111111111111");
    let member = user(&world, "2");
    let own_for_member = SECRET.replace("333333333333", "222222222222");
    assert_eq!(
        ask(&world, &member, "execute-api:Invoke", &own_for_member).outcome,
        Outcome::ExplicitDeny
    );
    assert_eq!(
        ask(&world, &mgmt, "execute-api:Invoke", &own_secret).outcome,
        Outcome::Allowed
    );
    assert!(world.caller_policies(&mgmt).scp_levels.is_empty());
}

#[test]
fn service_linked_roles_are_not_limited_by_scps() {
    let world = world();
    let role = world
        .role("333333333333", "AWSServiceRoleForSupport")
        .unwrap();
    let claims = SessionClaims {
        account: "333333333333".into(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: role.record.arn(),
            role_id: role.record.id.clone(),
            role_name: role.record.name.clone(),
            session_name: "support".into(),
        },
        secret_access_key: "x".into(),
        issued_at: NOW,
        expires_at: NOW + 3600,
        chained: false,
        mfa_authenticated: false,
        source_identity: None,
        session_policy: None,
        session_policy_arns: vec![],
        tags: vec![],
        transitive_tag_keys: vec![],
    };
    let sealer = TokenSealer::new(&[7; 32]);
    let key = "ASIAEXAMPLESESSION01";
    let token = sealer.seal(key, &claims).unwrap();
    let session = world.resolve(key, Some(&token), NOW).unwrap().identity;
    assert!(matches!(session, Caller::RoleSession(_)));
    assert_eq!(
        ask(&world, &session, "s3:GetObject", BUCKET).outcome,
        Outcome::Allowed
    );
    // The same account's user is limited.
    assert_eq!(
        ask(&world, &user(&world, "3"), "s3:GetObject", BUCKET).outcome,
        Outcome::ImplicitDeny
    );
}

#[test]
fn full_aws_access_is_attached_to_the_root_every_ou_and_every_account_unless_listed() {
    let text = format!(
        "{}{}",
        accounts(),
        r#"
organization:
  management_account: "111111111111"
  accounts: ["222222222222"]
  organizational_units: [ { name: Prod, accounts: ["333333333333"] } ]
"#
    );
    let config = WorldConfig::parse(&text).unwrap();
    let organization = config.organization.unwrap();
    let full = organization
        .policies
        .iter()
        .find(|p| p.id == FULL_AWS_ACCESS_ID)
        .unwrap();
    let mut targets = full.targets.clone();
    targets.sort();
    let mut expected = vec![
        organization.root_id.clone(),
        organization.units[0].id.clone(),
        "111111111111".to_owned(),
        "222222222222".to_owned(),
        "333333333333".to_owned(),
    ];
    expected.sort();
    assert_eq!(targets, expected);
    let world = world_of(&text);
    assert_eq!(
        ask(&world, &user(&world, "3"), "s3:GetObject", BUCKET).outcome,
        Outcome::Allowed
    );
    assert_eq!(
        world.caller_policies(&user(&world, "3")).scp_levels.len(),
        3
    );
}

#[test]
fn a_level_left_without_any_scp_allows_nothing() {
    let text = format!(
        "{}{}",
        accounts(),
        r#"
organization:
  management_account: "111111111111"
  organizational_units: [ { name: Prod, accounts: ["333333333333"] } ]
  service_control_policies:
    - { name: FullAWSAccess, targets: [root, "333333333333"] }
"#
    );
    let world = world_of(&text);
    let decision = ask(&world, &user(&world, "3"), "execute-api:Invoke", API);
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert_eq!(decision.rule, DecidingRule::ScpLimit);
}

#[test]
fn ids_left_out_are_derived_from_names_so_applying_again_gives_the_same_record() {
    let text = format!("{}{ORGANIZATION}", accounts());
    let a = WorldConfig::parse(&text).unwrap().organization.unwrap();
    let b = WorldConfig::parse(&text).unwrap().organization.unwrap();
    assert_eq!(a, b);
    assert!(a.id.starts_with("o-") && a.root_id.starts_with("r-"));
    assert!(a.units.iter().all(|u| u.id.starts_with("ou-")));
    let record = AnyRecord::from(a.clone());
    assert_eq!(record.kind(), OrganizationRecord::KIND);
    let back = AnyRecord::from_body(record.kind(), record.to_body()).unwrap();
    assert_eq!(back, record);
}

#[test]
fn deleting_the_organization_record_lifts_every_scp() {
    let mut world = world();
    assert_eq!(
        ask(&world, &user(&world, "3"), "s3:GetObject", BUCKET).outcome,
        Outcome::ImplicitDeny
    );
    world.apply(
        [RecordChange::Delete {
            kind: OrganizationRecord::KIND.into(),
            scope: "organization".into(),
            key: "organization".into(),
        }],
        &plain,
    );
    assert!(world.organization().is_none());
    assert_eq!(
        ask(&world, &user(&world, "3"), "s3:GetObject", BUCKET).outcome,
        Outcome::Allowed
    );
}

#[test]
fn problems_in_the_organization_section_are_each_reported_at_their_line_and_column() {
    let text = format!(
        "{}{}",
        accounts(),
        r#"organization:
  management_account: "111111111111"
  accounts: ["222222222222", "222222222222"]
  organizational_units: [ { name: Prod, id: "bad-id" } ]
  service_control_policies:
    - name: NoPrincipal
      document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}'
      targets: [Nowhere]
    - name: A
      document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}'
      targets: [root]
    - { name: B, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}', targets: [root] }
    - { name: C, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}', targets: [root] }
    - { name: D, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}', targets: [root] }
    - { name: E, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}', targets: [root] }
  colour: blue
"#
    );
    let first_line = accounts().lines().count() as u32 + 1;
    let errors = WorldConfig::parse(&text).unwrap_err();
    let at = |needle: &str| {
        errors
            .iter()
            .find(|e| e.to_string().contains(needle))
            .unwrap_or_else(|| panic!("no error with {needle:?} in {errors:#?}"))
    };
    assert_eq!(at("already placed").line, first_line + 2);
    assert_eq!(at("is not an id of this kind").line, first_line + 3);
    assert_eq!(at("should not specify a principal").line, first_line + 6);
    assert_eq!(at("Nowhere").line, first_line + 7);
    // A, B, C, D, E and the default FullAWSAccess: six on the root.
    let limit = at("Organizations allows 5");
    assert!(limit.message.contains("FullAWSAccess"), "{limit}");
    assert_eq!(at("unknown field `colour`").line, first_line + 15);
    assert!(errors.iter().all(|e| e.line > 0 && e.column > 0));
}
