#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Applying the world file: idempotent, and recognised by its digest so a
//! restart with the same file does not parse and diff it again.

use iamgate_apimodel::config::ApiRegistry;
use iamgate_control::ControlPlane;
use iamgate_control::apply::{WorldFile, world_file_digest};
use iamgate_iam::WorldConfig;
use iamgate_store::{SecretCipher, Store};

const FILE: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAEXAMPLEROOT00001, secret: "root-secret" }
    users:
      - name: alice
        access_keys: [{ id: AKIAEXAMPLEALICE0001, secret: "alice-secret" }]
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: "/pets", method: GET, authorization: AWS_IAM, integration: { type: MOCK, body: pets } }
"#;

async fn plane(dir: &tempfile::TempDir) -> ControlPlane {
    let store = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("w.sqlite").display()
    ))
    .await
    .unwrap();
    ControlPlane::open(store, SecretCipher::from_key(&[9; 32]))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_world_file_is_known_by_its_digest_after_it_was_applied() {
    let dir = tempfile::tempdir().unwrap();
    let plane = plane(&dir).await;
    let digest = world_file_digest(FILE);
    assert!(!plane.world_file_unchanged(&digest).await.unwrap());

    let config = WorldConfig::parse_with_sections(FILE, &["apis"]).unwrap();
    let apis = ApiRegistry::from_world_file(FILE).unwrap();
    let first = plane
        .apply_world_file(&config, &apis, &digest)
        .await
        .unwrap();
    assert_eq!(first.created, 5, "account, root key, user, user key, API");
    assert!(plane.apis().rest["a1b2c3d4e5"].stages.contains_key("prod"));
    assert!(plane.world_file_unchanged(&digest).await.unwrap());
    assert!(
        !plane
            .world_file_unchanged(&world_file_digest(&format!("{FILE}\n# edited")))
            .await
            .unwrap()
    );

    // Applying the same declarations again writes nothing.
    let again = plane
        .apply_world_file(&config, &apis, &digest)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5));
    assert!(plane.world().user("111111111111", "alice").is_some());
}

const TRUSTING: &str = r#"
accounts:
  - id: "111111111111"
    roles:
      - name: invoker
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:user/bob","PRINCIPAL"]},"Action":"sts:AssumeRole"}]}'
  - id: "222222222222"
    users:
      - name: bob
"#;

#[tokio::test]
async fn trust_policies_in_a_world_file_name_principals_by_unique_id() {
    let dir = tempfile::tempdir().unwrap();
    let plane = plane(&dir).await;
    // bob is declared later in the same file; the account principal is kept.
    let file = TRUSTING.replace("PRINCIPAL", "222222222222");
    let config = WorldConfig::parse(&file).unwrap();
    plane.apply_config(&config).await.unwrap();
    let world = plane.world();
    let bob_id = &world.user("222222222222", "bob").unwrap().record.id;
    let stored = &world
        .role("111111111111", "invoker")
        .unwrap()
        .record
        .trust_policy;
    assert!(
        stored.contains(&format!(r#"["{bob_id}","222222222222"]"#)),
        "{stored}"
    );
    // The stored form is what the next apply compares with: nothing changes.
    let again = plane.apply_config(&config).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 0));

    // A principal that names nothing rejects the whole file.
    let file = TRUSTING
        .replace("PRINCIPAL", "arn:aws:iam::222222222222:role/ghost")
        .replace("invoker", "other");
    let error = plane
        .apply_config(&WorldConfig::parse(&file).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        r#"the world file: role arn:aws:iam::111111111111:role/other: trust_policy: MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::222222222222:role/ghost""#
    );
    assert!(plane.world().role("111111111111", "other").is_none());
}

fn no_files(file: &str) -> Result<String, String> {
    Err(format!("cannot read {file}: no files in this test"))
}

/// The error of `errors` whose path starts with `prefix`, as `line:column`.
fn position_of(errors: &[iamgate_iam::ConfigError], prefix: &str) -> (u32, u32) {
    let error = errors
        .iter()
        .find(|e| e.path.starts_with(prefix))
        .unwrap_or_else(|| panic!("no error at {prefix}: {errors:#?}"));
    (error.line, error.column)
}

const ONE_ERROR_PER_SECTION: &str = r#"accounts:
  - id: "111111111111"
    users:
      - name: "bad name!"
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111111111111"
    region: us-east-1
    stages: [prod]
    methods:
      - { path: "/pets", method: FETCH, authorization: NONE, integration: { type: MOCK } }
domain_names:
  - name: api.example.com
    account: "42"
    region: us-east-1
"#;

#[test]
fn an_iam_section_error_carries_its_line_and_column() {
    let errors = WorldFile::parse(ONE_ERROR_PER_SECTION, &no_files).unwrap_err();
    assert_eq!(position_of(&errors, "accounts[0].users[0].name"), (4, 15));
}

#[test]
fn an_apis_section_error_carries_its_line_and_column() {
    let errors = WorldFile::parse(ONE_ERROR_PER_SECTION, &no_files).unwrap_err();
    let error = errors
        .iter()
        .find(|e| e.path == "apis[0] (a1b2c3d4e5)")
        .unwrap();
    assert!(
        error.message.contains("method 'FETCH' is not one of"),
        "{error}"
    );
    // At the method's name, in the flow mapping on line 12.
    assert_eq!((error.line, error.column), (12, 34));
    assert!(
        error
            .to_string()
            .starts_with("12:34: apis[0] (a1b2c3d4e5): ")
    );

    // A decoding problem (an unknown member) is positioned too.
    let typo = ONE_ERROR_PER_SECTION.replace("stages: [prod]", "stagse: [prod]");
    let errors = WorldFile::parse(&typo, &no_files).unwrap_err();
    assert_eq!(position_of(&errors, "apis[0].stagse"), (10, 5));
}

#[test]
fn a_domain_names_section_error_carries_its_line_and_column() {
    let errors = WorldFile::parse(ONE_ERROR_PER_SECTION, &no_files).unwrap_err();
    let error = errors
        .iter()
        .find(|e| e.path == "domain_names[0] (api.example.com)")
        .unwrap();
    assert_eq!(error.message, "account '42' must be 12 digits");
    assert_eq!((error.line, error.column), (15, 14));
}

#[test]
fn every_sections_errors_are_reported_together_in_file_order() {
    let errors = WorldFile::parse(ONE_ERROR_PER_SECTION, &no_files).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let positions: Vec<(u32, u32)> = errors.iter().map(|e| (e.line, e.column)).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
    // A good file decodes into every section.
    let good = ONE_ERROR_PER_SECTION
        .replace("bad name!", "alice")
        .replace("FETCH", "GET")
        .replace("\"42\"", "\"111111111111\"");
    let world = WorldFile::parse(&good, &no_files).unwrap();
    assert_eq!(world.iam.accounts[0].users[0].name, "alice");
    assert!(world.apis.rest.contains_key("a1b2c3d4e5"));
    assert!(world.apis.domains.contains_key("api.example.com"));
}

/// A world file of `users` users in one account, each with an access key.
fn users_file(users: usize) -> String {
    let mut text = String::with_capacity(users * 110 + 64);
    text.push_str("accounts:\n  - id: \"111111111111\"\n    users:\n");
    for n in 0..users {
        text.push_str(&format!(
            "      - name: user{n}\n        access_keys: [{{ id: AKIAUSER{n:012}, secret: \"secret{n:034}\" }}]\n"
        ));
    }
    text.push_str("apis: []\ndomain_names: []\n");
    text
}

/// Far past the YAML reader's default budget of 250,000 nodes (each user
/// here is seven): no count of principals is limited. A million users
/// parse the same way; that size is measured with a release build
/// (docs/benchmarks.md) rather than in this unoptimized test.
#[test]
fn a_world_file_of_200_000_users_is_read_whole() {
    let text = users_file(200_000);
    let started = std::time::Instant::now();
    let world = WorldFile::parse(&text, &no_files).unwrap_or_else(|errors| {
        panic!("{:#?}", &errors[..errors.len().min(5)]);
    });
    let users = &world.iam.accounts[0].users;
    assert_eq!(users.len(), 200_000);
    assert_eq!(users[199_999].access_keys[0].id, "AKIAUSER000000199999");
    // Generous for an unoptimized build on a busy machine; a regression to
    // quadratic work would take far longer.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}
