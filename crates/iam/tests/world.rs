#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The data plane's snapshot: access keys resolve to callers, session
//! tokens open only with their own key and until they expire, a user's
//! identity policies include its groups', and evaluation through the
//! world gives Tables A and B of "How API Gateway resource policies affect
//! authorization workflow" (API Gateway Developer Guide).

use std::sync::Arc;

use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::records::AccessKeyRecord;
use iamgate_iam::world::UnsealError;
use iamgate_iam::{Caller, SessionClaims, SessionPrincipal, TokenSealer, World};
use iamgate_policy::compiled::CompiledPolicies;
use iamgate_policy::{
    NamedPolicy, Outcome, PolicyDocument, PolicyKind, PolicyType, RequestContext,
    ResourcePolicyKind,
};
use iamgate_sigv4::{CredentialError, CredentialProvider};

const NOW: i64 = 1_700_000_000;
const API_IN_111: &str = "arn:aws:execute-api:us-east-1:111111111111:abc123/prod/GET/pets";

const CONFIG: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: "root-secret-1" }
    managed_policies:
      - name: InvokeApis
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: execute-api:Invoke
              Resource: "arn:aws:execute-api:*:111111111111:*"
      - name: Boundary
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:*","sts:*"],"Resource":"*"}]}'
    groups:
      - name: Devs
        managed_policies: [InvokeApis]
    users:
      - name: alice
        path: /dev/
        access_keys:
          - { id: AKIAEXAMPLEALICE0001, secret: "alice-secret" }
          - { id: AKIAEXAMPLEALICE0002, secret: "alice-old", status: Inactive }
        managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
        groups: [devs]
        permissions_boundary: Boundary
        tags: { team: blue }
      - name: dave
        access_keys: [{ id: AKIAEXAMPLEDAVE00001, secret: "dave-secret" }]
    roles:
      - name: app
        path: /svc/
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: "222222222222" }
              Action: sts:AssumeRole
        policies:
          invoke: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}'
        tags: { env: prod }
  - id: "222222222222"
    users:
      - name: bob
        access_keys: [{ id: AKIAEXAMPLEBOB000001, secret: "bob-secret" }]
        policies:
          invoke-111: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:111111111111:*"}]}'
      - name: carol
        access_keys: [{ id: AKIAEXAMPLECAROL0001, secret: "carol-secret" }]
"#;

fn plain(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    Ok(record.secret.expose().to_string())
}

fn sealer() -> Arc<TokenSealer> {
    Arc::new(TokenSealer::new(&[9; 32]))
}

fn world() -> World {
    let config = WorldConfig::parse(CONFIG).unwrap();
    let records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let world = World::from_records(records, Some(sealer()), &plain);
    assert!(world.problems().is_empty(), "{:?}", world.problems());
    world
}

fn caller(world: &World, key: &str) -> Caller {
    world.resolve(key, None, NOW).map(|r| r.identity).unwrap()
}

fn role_claims(world: &World) -> SessionClaims {
    let app = world.role("111111111111", "APP").unwrap();
    SessionClaims {
        account: "111111111111".into(),
        principal: SessionPrincipal::AssumedRole {
            role_arn: app.record.arn(),
            role_id: app.record.id.clone(),
            role_name: "app".into(),
            session_name: "s1".into(),
        },
        secret_access_key: "session-secret".into(),
        issued_at: NOW,
        expires_at: NOW + 3600,
        chained: false,
        mfa_authenticated: false,
        source_identity: None,
        session_policy: None,
        session_policy_arns: vec![],
        tags: vec![("team".into(), "red".into())],
        transitive_tag_keys: vec![],
    }
}

fn resource_policy(statements: &str) -> CompiledPolicies {
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let document = PolicyDocument::parse(&text, PolicyKind::Resource).unwrap();
    CompiledPolicies::compile(&[NamedPolicy::new("api resource policy", document)])
}

fn invoke(
    world: &World,
    caller: &Caller,
    resource: Option<&CompiledPolicies>,
) -> (Outcome, PolicyType) {
    let request = RequestContext::new(
        caller.principal_identity(),
        "execute-api:Invoke",
        Some(API_IN_111),
    );
    let decision = world.evaluate_with_resource(
        caller,
        &request,
        resource,
        ResourcePolicyKind::ResourceBased,
    );
    (decision.outcome, decision.deciding_policy_type)
}

#[test]
fn root_and_user_keys_resolve_to_their_callers() {
    let world = world();
    let root = world.resolve("AKIAEXAMPLEROOT00001", None, NOW).unwrap();
    assert_eq!(root.secret.expose(), "root-secret-1");
    assert!(matches!(&root.identity, Caller::Root { account } if account == "111111111111"));
    assert_eq!(root.identity.arn(), "arn:aws:iam::111111111111:root");
    assert_eq!(root.identity.user_id(), "111111111111");

    let alice = world.resolve("AKIAEXAMPLEALICE0001", None, NOW).unwrap();
    assert_eq!(alice.secret.expose(), "alice-secret");
    assert_eq!(
        alice.identity.arn(),
        "arn:aws:iam::111111111111:user/dev/alice"
    );
    assert!(alice.identity.user_id().starts_with("AIDA"));
    let identity = alice.identity.principal_identity();
    assert_eq!(identity.arn, "arn:aws:iam::111111111111:user/dev/alice");
    assert_eq!(
        identity.tags,
        vec![("team".to_string(), "blue".to_string())]
    );
    assert!(identity.has_permissions_boundary);
    assert_eq!(
        world.access_key_account("AKIAEXAMPLEBOB000001"),
        Some("222222222222")
    );
}

#[test]
fn inactive_and_unknown_keys_are_refused() {
    let world = world();
    for key in ["AKIAEXAMPLEALICE0002", "AKIANOSUCHKEY0000000"] {
        assert_eq!(
            world.resolve(key, None, NOW).err(),
            Some(CredentialError::UnknownAccessKey),
            "{key}"
        );
    }
}

#[test]
fn a_token_sent_with_a_long_term_key_is_invalid() {
    let world = world();
    assert_eq!(
        world
            .resolve("AKIAEXAMPLEALICE0001", Some("token"), NOW)
            .err(),
        Some(CredentialError::InvalidSessionToken)
    );
}

#[test]
fn a_session_token_round_trips_through_the_sealer_and_the_world() {
    let world = world();
    let claims = role_claims(&world);
    let token = sealer().seal("ASIAEXAMPLESESSION01", &claims).unwrap();

    let resolved = world
        .resolve("ASIAEXAMPLESESSION01", Some(&token), NOW + 10)
        .unwrap();
    assert_eq!(resolved.secret.expose(), "session-secret");
    let session = resolved.identity;
    assert!(matches!(session, Caller::RoleSession(_)));
    assert_eq!(
        session.arn(),
        "arn:aws:sts::111111111111:assumed-role/app/s1"
    );
    let role_id = world.role("111111111111", "app").unwrap().record.id.clone();
    assert_eq!(session.user_id(), format!("{role_id}:s1"));
    let identity = session.principal_identity();
    assert_eq!(
        identity.role_arn.as_deref(),
        Some("arn:aws:iam::111111111111:role/svc/app")
    );
    // Role tags, then session tags.
    assert!(
        identity
            .tags
            .contains(&("env".to_string(), "prod".to_string()))
    );
    assert!(
        identity
            .tags
            .contains(&("team".to_string(), "red".to_string()))
    );
    // The role's policies apply.
    assert_eq!(invoke(&world, &session, None).0, Outcome::Allowed);

    // Presented with another temporary key id: invalid.
    assert_eq!(
        world
            .resolve("ASIAEXAMPLESESSION02", Some(&token), NOW + 10)
            .err(),
        Some(CredentialError::InvalidSessionToken)
    );
    // Past its expiry: expired.
    assert_eq!(
        world
            .resolve("ASIAEXAMPLESESSION01", Some(&token), NOW + 3600)
            .err(),
        Some(CredentialError::ExpiredSessionToken)
    );
    // Sealed by another deployment: invalid.
    let foreign = TokenSealer::new(&[1; 32])
        .seal("ASIAEXAMPLESESSION01", &claims)
        .unwrap();
    assert_eq!(
        world
            .resolve("ASIAEXAMPLESESSION01", Some(&foreign), NOW)
            .err(),
        Some(CredentialError::InvalidSessionToken)
    );
    // A temporary key without its token: invalid.
    assert_eq!(
        world.resolve("ASIAEXAMPLESESSION01", None, NOW).err(),
        Some(CredentialError::InvalidSessionToken)
    );
    // A world that cannot open tokens knows no temporary keys.
    let records = WorldConfig::parse(CONFIG)
        .unwrap()
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    let no_sessions = World::from_records(records, None, &plain);
    assert_eq!(
        no_sessions
            .resolve("ASIAEXAMPLESESSION01", Some(&token), NOW)
            .err(),
        Some(CredentialError::UnknownAccessKey)
    );
}

#[test]
fn a_session_policy_limits_the_role_session() {
    let world = world();
    let mut claims = role_claims(&world);
    claims.session_policy = Some(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#.into(),
    );
    let token = sealer().seal("ASIAEXAMPLESESSION03", &claims).unwrap();
    let session = world
        .resolve("ASIAEXAMPLESESSION03", Some(&token), NOW)
        .unwrap()
        .identity;
    assert_eq!(
        invoke(&world, &session, None),
        (Outcome::ImplicitDeny, PolicyType::Session)
    );
}

#[test]
fn a_session_of_a_recreated_role_has_no_permissions() {
    let world = world();
    let mut claims = role_claims(&world);
    if let SessionPrincipal::AssumedRole { role_id, .. } = &mut claims.principal {
        *role_id = "AROAOLDROLEOLDROLE001".into();
    }
    let token = sealer().seal("ASIAEXAMPLESESSION04", &claims).unwrap();
    let session = world
        .resolve("ASIAEXAMPLESESSION04", Some(&token), NOW)
        .unwrap()
        .identity;
    assert_eq!(invoke(&world, &session, None).0, Outcome::ImplicitDeny);
}

#[test]
fn a_users_identity_policies_include_its_groups_policies() {
    let world = world();
    let alice = caller(&world, "AKIAEXAMPLEALICE0001");
    let policies = world.caller_policies(&alice);
    // Her own attached policy, then the one group's: each managed policy
    // is one compiled set shared by everyone who attaches it.
    let sources: Vec<&str> = policies
        .identity
        .iter()
        .flat_map(|set| set.sources())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        sources,
        [
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "arn:aws:iam::111111111111:policy/InvokeApis"
        ],
        "own + one group"
    );
    assert!(policies.boundary.is_some());
    // execute-api:Invoke is granted only through the group Devs.
    assert_eq!(
        invoke(&world, &alice, None),
        (Outcome::Allowed, PolicyType::IdentityBased)
    );
    // dave, in no group, is not allowed.
    let dave = caller(&world, "AKIAEXAMPLEDAVE00001");
    assert_eq!(
        invoke(&world, &dave, None),
        (Outcome::ImplicitDeny, PolicyType::IdentityBased)
    );
}

#[test]
fn the_permissions_boundary_limits_the_user() {
    let world = world();
    let alice = caller(&world, "AKIAEXAMPLEALICE0001");
    // AmazonS3ReadOnlyAccess allows it; the boundary does not.
    let request = RequestContext::new(
        alice.principal_identity(),
        "s3:GetObject",
        Some("arn:aws:s3:::bucket/key"),
    );
    let decision = world.evaluate(&alice, &request);
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert_eq!(
        decision.deciding_policy_type,
        PolicyType::PermissionsBoundary
    );
}

#[test]
fn same_account_decisions_follow_table_a() {
    let world = world();
    let alice = caller(&world, "AKIAEXAMPLEALICE0001");
    let dave = caller(&world, "AKIAEXAMPLEDAVE00001");
    let allow_dave = resource_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/dave"},"Action":"execute-api:Invoke","Resource":"*"}"#,
    );
    let deny_alice = resource_policy(
        r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/dev/alice"},"Action":"execute-api:Invoke","Resource":"*"}"#,
    );
    // identity Allow, resource neither -> Allow
    assert_eq!(invoke(&world, &alice, None).0, Outcome::Allowed);
    // identity neither, resource Allow -> Allow
    assert_eq!(invoke(&world, &dave, Some(&allow_dave)).0, Outcome::Allowed);
    // identity Allow, resource Deny -> explicit deny
    assert_eq!(
        invoke(&world, &alice, Some(&deny_alice)),
        (Outcome::ExplicitDeny, PolicyType::ResourceBased)
    );
    // identity neither, resource neither -> implicit deny
    assert_eq!(
        invoke(&world, &dave, Some(&deny_alice)).0,
        Outcome::ImplicitDeny
    );
}

#[test]
fn cross_account_decisions_follow_table_b() {
    let world = world();
    let bob = caller(&world, "AKIAEXAMPLEBOB000001");
    let carol = caller(&world, "AKIAEXAMPLECAROL0001");
    let allow_account_222 = resource_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"execute-api:Invoke","Resource":"*"}"#,
    );
    // identity Allow, resource Allow -> Allow
    assert_eq!(
        invoke(&world, &bob, Some(&allow_account_222)).0,
        Outcome::Allowed
    );
    // identity Allow, resource neither -> implicit deny
    assert_eq!(
        invoke(&world, &bob, None),
        (Outcome::ImplicitDeny, PolicyType::ResourceBased)
    );
    // identity neither, resource Allow -> implicit deny
    assert_eq!(
        invoke(&world, &carol, Some(&allow_account_222)),
        (Outcome::ImplicitDeny, PolicyType::IdentityBased)
    );
}

#[test]
fn the_root_is_allowed_on_the_identity_side() {
    let world = world();
    let root = caller(&world, "AKIAEXAMPLEROOT00001");
    assert!(world.caller_policies(&root).identity.is_empty());
    assert_eq!(invoke(&world, &root, None).0, Outcome::Allowed);
}

#[test]
fn a_role_trust_policy_is_compiled_for_assume_role() {
    let world = world();
    let bob = caller(&world, "AKIAEXAMPLEBOB000001");
    let app = world
        .role_by_arn("arn:aws:iam::111111111111:role/svc/app")
        .unwrap();
    assert!(
        world
            .role_by_arn("arn:aws:iam::111111111111:role/app")
            .is_none()
    );
    let request = RequestContext::new(
        bob.principal_identity(),
        "sts:AssumeRole",
        Some(&app.record.arn()),
    );
    let decision = world.evaluate_with_resource(
        &bob,
        &request,
        Some(&app.trust),
        ResourcePolicyKind::RoleTrust,
    );
    // The trust policy allows account 222, but bob's identity does not
    // allow sts:AssumeRole: cross-account needs both.
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert_eq!(decision.deciding_policy_type, PolicyType::IdentityBased);
}

#[test]
fn broken_records_grant_nothing_and_are_reported() {
    let config = WorldConfig::parse(CONFIG).unwrap();
    let mut records = config
        .to_records(&mut |entity| fresh_stamp(entity, NOW))
        .unwrap();
    for record in &mut records {
        if let iamgate_iam::AnyRecord::Group(group) = record {
            group.attached_policies = vec!["arn:aws:iam::111111111111:policy/Gone".into()];
        }
    }
    let world = World::from_records(records, Some(sealer()), &|record| {
        if record.id == "AKIAEXAMPLEDAVE00001" {
            Err("bad seal".into())
        } else {
            plain(record)
        }
    });
    assert_eq!(world.problems().len(), 2, "{:?}", world.problems());
    let alice = caller(&world, "AKIAEXAMPLEALICE0001");
    assert_eq!(invoke(&world, &alice, None).0, Outcome::ImplicitDeny);
    assert_eq!(
        world.resolve("AKIAEXAMPLEDAVE00001", None, NOW).err(),
        Some(CredentialError::UnknownAccessKey)
    );
}

#[test]
fn secrets_are_not_in_debug_output_of_the_world_or_callers() {
    let world = world();
    let token = sealer()
        .seal("ASIAEXAMPLESESSION01", &role_claims(&world))
        .unwrap();
    let session = world
        .resolve("ASIAEXAMPLESESSION01", Some(&token), NOW)
        .unwrap();
    let alice = world.resolve("AKIAEXAMPLEALICE0001", None, NOW).unwrap();
    let shown = format!(
        "{world:?} {:?} {:?} {:?} {:?}",
        session.identity, session.secret, alice.identity, alice.secret
    );
    for secret in ["root-secret-1", "alice-secret", "session-secret"] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
}
