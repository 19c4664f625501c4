#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The world file: the minimal form of the interface contract, a file using
//! every element, stable records across re-applies, and a bad file whose
//! every error is reported with its place and AWS's message.

use std::collections::HashMap;
use std::convert::Infallible;

use iamgate_iam::config::{ConfigError, EntityKind, EntityRef, Stamp, WorldConfig, fresh_stamp};
use iamgate_iam::records::{AccessKeyStatus, AnyRecord};

const MINIMAL: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: "…" }
"#;

pub const FULL: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: "root-secret-1" }
    managed_policies:
      - name: InvokeApis
        path: /apis/
        description: invoke every API of the account
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
        path: /eng/
        policies:
          read-iam: |
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}
        managed_policies:
          - InvokeApis
          - arn:aws:iam::aws:policy/IAMReadOnlyAccess
    users:
      - name: alice
        path: /dev/
        access_keys:
          - { id: AKIAEXAMPLEALICE0001, secret: "alice-secret" }
          - { id: AKIAEXAMPLEALICE0002, secret: "alice-old", status: Inactive }
        policies:
          own:
            Version: "2012-10-17"
            Statement:
              Effect: Allow
              Action: [sts:AssumeRole]
              Resource: arn:aws:iam::111111111111:role/app
        managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
        groups: [devs]
        permissions_boundary: Boundary
        tags: { team: blue, cost-center: "042" }
    roles:
      - name: app
        path: /svc/
        description: the application role
        max_session_duration: 7200
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { AWS: ["arn:aws:iam::111111111111:root", "222222222222"] }
              Action: sts:AssumeRole
        policies:
          invoke: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}'
        managed_policies: [arn:aws:iam::111111111111:policy/apis/InvokeApis]
        permissions_boundary: arn:aws:iam::111111111111:policy/Boundary
        tags: { env: prod }
  - id: "222222222222"
    root_access_key: { id: AKIAEXAMPLEROOT00002, secret: "root-secret-2" }
    users:
      - name: bob
        access_keys: [{ id: AKIAEXAMPLEBOB000001, secret: "bob-secret" }]
        policies:
          assume: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
"#;

fn records_with_fresh_ids(config: &WorldConfig) -> Vec<AnyRecord> {
    config
        .to_records(&mut |entity| fresh_stamp(entity, 1_700_000_000))
        .unwrap()
}

#[test]
fn the_minimal_config_yields_one_account_and_its_root_key() {
    let config = WorldConfig::parse(MINIMAL).unwrap();
    let records = records_with_fresh_ids(&config);
    assert_eq!(records.len(), 2, "{records:?}");
    let AnyRecord::Account(account) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(account.id, "111111111111");
    let AnyRecord::AccessKey(key) = &records[1] else {
        panic!("{records:?}")
    };
    assert_eq!(key.id, "AKIAEXAMPLEROOT00001");
    assert_eq!(key.account, "111111111111");
    assert_eq!(key.user, None);
    assert_eq!(key.secret.expose(), "…");
    assert_eq!(key.status, AccessKeyStatus::Active);
}

#[test]
fn a_config_with_every_element_parses() {
    let config = WorldConfig::parse(FULL).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let account = &config.accounts[0];
    let alice = &account.users[0];
    assert_eq!(alice.groups, vec!["Devs".to_string()]);
    assert_eq!(
        alice.permissions_boundary.as_deref(),
        Some("arn:aws:iam::111111111111:policy/Boundary")
    );
    assert_eq!(alice.access_keys[1].status, AccessKeyStatus::Inactive);
    assert_eq!(alice.tags[1].value, "042");
    assert_eq!(
        account.groups[0].managed_policies,
        vec![
            "arn:aws:iam::111111111111:policy/apis/InvokeApis".to_string(),
            "arn:aws:iam::aws:policy/IAMReadOnlyAccess".to_string()
        ]
    );
    let role = &account.roles[0];
    assert_eq!(role.max_session_duration, 7200);
    // A YAML mapping became JSON with the same meaning.
    let trust: serde_json::Value = serde_json::from_str(&role.trust_policy).unwrap();
    assert_eq!(trust["Statement"][0]["Principal"]["AWS"][1], "222222222222");

    let records = records_with_fresh_ids(&config);
    let count = |kind: &str| records.iter().filter(|r| r.kind() == kind).count();
    assert_eq!(count("account"), 2);
    assert_eq!(count("access_key"), 5);
    assert_eq!(count("user"), 2);
    assert_eq!(count("group"), 1);
    assert_eq!(count("role"), 1);
    assert_eq!(count("managed_policy"), 2);
    for record in &records {
        assert_eq!(
            AnyRecord::from_body(record.kind(), record.to_body()).unwrap(),
            *record
        );
    }
}

#[test]
fn applying_twice_with_reused_ids_yields_identical_records() {
    let config = WorldConfig::parse(FULL).unwrap();
    // First apply: everything is new.
    let mut stored: HashMap<(EntityKind, String, String), Stamp> = HashMap::new();
    let first = config
        .to_records(&mut |entity: EntityRef<'_>| {
            let stamp = fresh_stamp(entity, 1_000)?;
            stored.insert(
                (
                    entity.kind,
                    entity.account.to_string(),
                    entity.name.to_lowercase(),
                ),
                stamp.clone(),
            );
            Ok::<_, iamgate_iam::RandomUnavailable>(stamp)
        })
        .unwrap();
    // Second apply, later: the store answers with what it has.
    let second = config
        .to_records(&mut |entity: EntityRef<'_>| {
            let key = (
                entity.kind,
                entity.account.to_string(),
                entity.name.to_lowercase(),
            );
            Ok::<_, Infallible>(stored[&key].clone())
        })
        .unwrap();
    assert_eq!(first, second);
    // Ids are AWS-shaped and distinct.
    let ids: Vec<&str> = first
        .iter()
        .filter_map(|r| match r {
            AnyRecord::User(u) => Some(u.id.as_str()),
            AnyRecord::Role(r) => Some(r.id.as_str()),
            AnyRecord::Group(g) => Some(g.id.as_str()),
            AnyRecord::ManagedPolicy(p) => Some(p.id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 6);
    assert!(ids.iter().all(|id| id.len() == 21));
}

const BAD: &str = r#"accounts:
  - id: "11111111111"
    managed_policies:
      - name: broken
        document: '{"Version": "2012-10-17", "Statement": [}'
    users:
      - name: Bob
        policies:
          with-principal:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: "*"
                Action: s3:GetObject
                Resource: "*"
      - name: bob
        managed_policies: [DoesNotExist]
        gropus: [devs]
"#;

fn find<'e>(errors: &'e [ConfigError], path: &str, needle: &str) -> &'e ConfigError {
    errors
        .iter()
        .find(|e| e.path == path && e.message.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "no error at {path} containing {needle:?}; got:\n{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
}

#[test]
fn a_bad_file_reports_every_error_with_its_place_and_aws_message() {
    let errors = WorldConfig::parse(BAD).unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();

    let account = find(&errors, "accounts[0].id", "must be 12 digits");
    assert_eq!((account.line, account.column), (2, 9));

    // Bad JSON: the policy crate's message, the place of the text in the
    // file and the place inside the document.
    let json = find(
        &errors,
        "accounts[0].managed_policies[0].document",
        "Syntax errors in policy.",
    );
    assert_eq!(json.code, Some("MalformedPolicyDocument"));
    assert_eq!((json.line, json.column), (5, 19));
    assert_eq!(json.document_position.map(|(line, _)| line), Some(1));

    // An identity policy naming a principal, written as YAML: the error
    // points at the statement's line in the file.
    let principal = find(
        &errors,
        "accounts[0].users[0].policies.with-principal",
        "Policy document should not specify a principal.",
    );
    assert_eq!(principal.code, Some("MalformedPolicyDocument"));
    assert!(
        (12..=15).contains(&principal.line),
        "{principal}: expected a line of the statement"
    );

    let duplicate = find(
        &errors,
        "accounts[0].users[1]",
        "User with name bob already exists.",
    );
    assert_eq!(duplicate.code, Some("EntityAlreadyExists"));
    assert_eq!(duplicate.line, 16);

    let missing = find(
        &errors,
        "accounts[0].users[1].managed_policies[0]",
        "Policy arn:aws:iam::11111111111:policy/DoesNotExist does not exist or is not attachable.",
    );
    assert_eq!(missing.code, Some("PolicyNotAttachable"));
    assert_eq!(missing.line, 17);

    let unknown = find(
        &errors,
        "accounts[0].users[1].gropus",
        "unknown field `gropus`",
    );
    assert_eq!((unknown.line, unknown.column), (18, 9));

    assert_eq!(errors.len(), 6, "{shown:#?}");
    // Sorted by position in the file.
    assert!(
        errors
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column))
    );
}

#[test]
fn unknown_and_misplaced_elements_are_errors() {
    let errors = WorldConfig::parse(
        r#"accounts:
  - id: "111111111111"
    root_access_key: { id: akia-lower, secret: "" , state: Active}
    roles:
      - name: "bad name!"
        max_session_duration: 100
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Principal":{"AWS":"*"}}]}'
    users:
      - name: carol
        groups: [nobody]
        path: no-slashes
apis: []
"#,
    )
    .unwrap_err();
    find(
        &errors,
        "accounts[0].root_access_key.state",
        "unknown field `state`",
    );
    find(
        &errors,
        "accounts[0].root_access_key.id",
        "[A-Z0-9]{16,128}",
    );
    find(
        &errors,
        "accounts[0].root_access_key.secret",
        "must not be empty",
    );
    find(
        &errors,
        "accounts[0].roles[0].name",
        "The specified value for roleName is invalid.",
    );
    find(
        &errors,
        "accounts[0].roles[0].max_session_duration",
        "Member must have value greater than or equal to 3600",
    );
    find(
        &errors,
        "accounts[0].roles[0].trust_policy",
        "Has prohibited field Resource",
    );
    find(
        &errors,
        "accounts[0].users[0].groups[0]",
        "The group with name nobody cannot be found.",
    );
    find(
        &errors,
        "accounts[0].users[0].path",
        "Member must satisfy regular expression pattern",
    );
    find(&errors, "apis", "unknown field `apis`");

    // Sections other parts of the gateway read are left to them.
    let errors = WorldConfig::parse_with_sections("accounts: []\napis: []\n", &["apis"]);
    assert_eq!(
        errors,
        Ok(WorldConfig {
            accounts: vec![],
            organization: None
        })
    );
}

#[test]
fn duplicate_access_key_ids_are_refused_across_accounts() {
    let errors = WorldConfig::parse(
        r#"accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: a }
  - id: "222222222222"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: b }
"#,
    )
    .unwrap_err();
    let error = find(
        &errors,
        "accounts[1].root_access_key.id",
        "already declared at accounts[0].root_access_key.id",
    );
    assert_eq!(error.line, 5);
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let errors = WorldConfig::parse("accounts:\n  - id: [1, 2\n   x: 3\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].line >= 2, "{}", errors[0]);
    assert!(WorldConfig::parse("").is_err());
}

#[test]
fn secrets_are_not_in_debug_output_of_the_config() {
    let config = WorldConfig::parse(FULL).unwrap();
    let shown = format!("{config:?} {:?}", records_with_fresh_ids(&config));
    for secret in ["root-secret-1", "alice-secret", "alice-old", "bob-secret"] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
}

#[test]
fn declared_unique_ids_are_kept_in_the_records() {
    let config = WorldConfig::parse(
        r#"accounts:
  - id: "111111111111"
    managed_policies:
      - { name: P, id: ANPAEXAMPLEPOLICY0001, document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}' }
    groups: [{ name: G, id: AGPAEXAMPLEGROUP00001 }]
    users: [{ name: alice, id: AIDAEXAMPLEALICE00001 }, { name: bob }]
    roles:
      - name: app
        id: AROAEXAMPLEAPPROLE001
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}'
"#,
    )
    .unwrap();
    let ids: HashMap<String, String> = records_with_fresh_ids(&config)
        .iter()
        .filter_map(|record| match record {
            AnyRecord::User(u) => Some((u.name.clone(), u.id.clone())),
            AnyRecord::Group(g) => Some((g.name.clone(), g.id.clone())),
            AnyRecord::Role(r) => Some((r.name.clone(), r.id.clone())),
            AnyRecord::ManagedPolicy(p) => Some((p.name.clone(), p.id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(ids["P"], "ANPAEXAMPLEPOLICY0001");
    assert_eq!(ids["G"], "AGPAEXAMPLEGROUP00001");
    assert_eq!(ids["alice"], "AIDAEXAMPLEALICE00001");
    assert_eq!(ids["app"], "AROAEXAMPLEAPPROLE001");
    // Without one, a fresh id of the kind.
    assert!(ids["bob"].starts_with("AIDA") && ids["bob"] != ids["alice"]);
}

#[test]
fn a_unique_id_of_the_wrong_kind_or_declared_twice_is_refused() {
    let errors = WorldConfig::parse(
        r#"accounts:
  - id: "111111111111"
    users:
      - { name: alice, id: AROAEXAMPLEALICE00001 }
      - { name: bob, id: AIDAEXAMPLEBOB0000001 }
  - id: "222222222222"
    users:
      - { name: carol, id: AIDAEXAMPLEBOB0000001 }
      - { name: dave, id: AIDAshort }
"#,
    )
    .unwrap_err();
    find(
        &errors,
        "accounts[0].users[0].id",
        "not a unique id of this kind: `AIDA`",
    );
    let twice = find(
        &errors,
        "accounts[1].users[0].id",
        "duplicate unique id AIDAEXAMPLEBOB0000001 (first declared at accounts[0].users[1].id)",
    );
    assert_eq!(twice.line, 8);
    find(
        &errors,
        "accounts[1].users[1].id",
        "not a unique id of this kind",
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
}
