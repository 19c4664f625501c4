#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Applying the world file: idempotent, and recognised by its digest so a
//! restart with the same file does not parse and diff it again.

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

    let config = WorldConfig::parse(FILE).unwrap();
    let first = plane.apply_world_file(&config, &digest).await.unwrap();
    assert_eq!(first.created, 4, "account, root key, user, user key");
    assert!(plane.world_file_unchanged(&digest).await.unwrap());
    assert!(
        !plane
            .world_file_unchanged(&world_file_digest(&format!("{FILE}\n# edited")))
            .await
            .unwrap()
    );

    // Applying the same declarations again writes nothing.
    let again = plane.apply_world_file(&config, &digest).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 4));
    assert!(plane.world().user("111111111111", "alice").is_some());
}
