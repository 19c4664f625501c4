#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Public sample outputs of `aws iam get-account-authorization-details`
//! (an excerpt of cloudsplaining's example, BSD-3: tests/testdata/
//! cloudsplaining/SOURCE) import into a world the world file's reader
//! accepts. The sample's unique ids ("obama") are not ids AWS makes: they
//! are left out and said, and the server makes new ones.

use iamgate_iam::config::WorldConfig;
use iamgate_import::{Options, Source, import};

#[test]
fn cloudsplainings_sample_authorization_details_import_without_error() {
    let text = include_str!("testdata/cloudsplaining/authz-details.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    let imported = import(
        &[Source {
            name: "authz-details.json",
            json: &json,
        }],
        &Options::default(),
    )
    .unwrap();
    let config =
        WorldConfig::parse(&imported.world).unwrap_or_else(|e| panic!("{e:?}\n{}", imported.world));
    let account = &config.accounts[0];
    assert_eq!(account.id, "012345678901");
    let mut users: Vec<&str> = account.users.iter().map(|u| u.name.as_str()).collect();
    users.sort_unstable();
    assert_eq!(users, ["obama", "userwithlotsofpermissions"]);
    assert_eq!(account.groups.len(), 1);
    assert_eq!(account.roles.len(), 2);
    assert_eq!(account.managed_policies.len(), 2);
    // Every id of the sample is one AWS never makes: each said once.
    assert_eq!(
        imported.not_imported.len(),
        7,
        "{:?}",
        imported.not_imported
    );
    assert!(
        imported
            .not_imported
            .iter()
            .any(|line| line.contains("user/obama") && line.contains("AIDA")),
        "{:?}",
        imported.not_imported
    );
    assert!(!imported.world.contains("id: \"obama\"") && !imported.world.contains("id: obama"));
}
