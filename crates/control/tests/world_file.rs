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
use iamgate_control::apply::world_file_digest;
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
