#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Saved `aws organizations` outputs (hand-written fixtures in
//! `tests/testdata/organizations`, see its README) import into an
//! `organization:` section the world file's reader accepts, with the tree,
//! the SCPs and their targets as AWS had them, and SCPs then decide as on
//! AWS; what the outputs leave unknown is said.

use std::path::{Path, PathBuf};

use iamgate_iam::World;
use iamgate_iam::config::{WorldConfig, fresh_stamp};
use iamgate_iam::records::AccessKeyRecord;
use iamgate_iam::world::UnsealError;
use iamgate_import::{ImportError, Imported, Options, Source, import};
use iamgate_policy::{Outcome, PolicyType, RequestContext, ResourcePolicyKind};
use iamgate_sigv4::CredentialProvider;
use serde_json::Value;

fn fixtures(folder: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let json = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (
                format!("{folder}/{}", p.file_name().unwrap().to_string_lossy()),
                json,
            )
        })
        .collect()
}

fn run(inputs: &[(String, Value)], options: &Options) -> Result<Imported, ImportError> {
    let sources: Vec<Source<'_>> = inputs
        .iter()
        .map(|(name, json)| Source { name, json })
        .collect();
    import(&sources, options)
}

fn plain(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    Ok(record.secret.expose().to_string())
}

#[test]
fn saved_organizations_outputs_import_to_the_tree_scps_and_targets_aws_had() {
    let imported = run(&fixtures("organizations"), &Options::default()).unwrap();
    assert!(
        imported.not_imported.is_empty(),
        "{:?}",
        imported.not_imported
    );
    let config =
        WorldConfig::parse(&imported.world).unwrap_or_else(|e| panic!("{e:?}\n{}", imported.world));
    let org = config.organization.unwrap();
    assert_eq!(org.id, "o-a1b2c3d4e5");
    assert_eq!(org.management_account, "111111111111");
    assert_eq!(org.root_id, "r-ab12");
    let parent = |child: &str| {
        org.accounts
            .iter()
            .find(|a| a.id == child)
            .map(|a| a.parent.clone())
            .or_else(|| {
                org.units
                    .iter()
                    .find(|u| u.id == child)
                    .map(|u| u.parent.clone())
            })
            .unwrap()
    };
    assert_eq!(parent("333333333333"), "ou-ab12-22222222");
    assert_eq!(parent("222222222222"), "ou-ab12-33333333");
    assert_eq!(parent("ou-ab12-22222222"), "ou-ab12-11111111");
    assert_eq!(parent("ou-ab12-11111111"), "r-ab12");
    assert_eq!(parent("111111111111"), "r-ab12");
    let targets = |id: &str| {
        let mut t = org
            .policies
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .targets
            .clone();
        t.sort();
        t
    };
    assert_eq!(targets("p-9x1c3v5n"), ["ou-ab12-22222222"]);
    assert_eq!(targets("p-5j7b8k2q"), ["r-ab12"]);
    // FullAWSAccess as AWS had it: detached from Prod.
    assert!(!targets("p-FullAWSAccess").contains(&"ou-ab12-22222222".to_owned()));
    assert_eq!(targets("p-FullAWSAccess").len(), 6);
}

#[test]
fn an_imported_organization_decides_as_aws_would() {
    let imported = run(
        &fixtures("organizations"),
        &Options {
            test_keys: true,
            ..Options::default()
        },
    )
    .unwrap();
    let config = WorldConfig::parse(&imported.world).unwrap();
    let records = config
        .to_records(&mut |e| fresh_stamp(e, 1_700_000_000))
        .unwrap();
    let world = World::from_records(records, None, &plain);
    assert!(world.problems().is_empty(), "{:?}", world.problems());
    let (_, key) = imported
        .test_keys
        .iter()
        .find(|(arn, _)| arn.ends_with(":user/deployer"))
        .unwrap();
    let deployer = world.resolve(key, None, 1_700_000_000).unwrap().identity;
    let ask = |action: &str, resource: &str| {
        let request = RequestContext::new(deployer.principal_identity(), action, Some(resource));
        world.evaluate_with_resource(&deployer, &request, None, ResourcePolicyKind::ResourceBased)
    };
    let api = "arn:aws:execute-api:eu-west-1:333333333333:abc123defg/prod/GET/items";
    assert_eq!(ask("execute-api:Invoke", api).outcome, Outcome::Allowed);
    // Prod's OnlyApis SCP narrows the deployer's `*`.
    let s3 = ask("s3:ListBucket", "arn:aws:s3:::logs");
    assert_eq!(
        (s3.outcome, s3.deciding_policy_type),
        (Outcome::ImplicitDeny, PolicyType::ServiceControl)
    );
    // The root's Deny reaches every member account.
    let secret = ask(
        "execute-api:Invoke",
        "arn:aws:execute-api:eu-west-1:333333333333:secret1234/prod/GET/x",
    );
    assert_eq!(
        (secret.outcome, secret.deciding_policy_type),
        (Outcome::ExplicitDeny, PolicyType::ServiceControl)
    );
}

#[test]
fn accounts_whose_place_is_unknown_are_put_under_the_root_and_said_so() {
    let inputs: Vec<(String, Value)> = fixtures("organizations")
        .into_iter()
        .filter(|(name, _)| !name.contains("parents-") && !name.contains("accounts-ou-"))
        .collect();
    let imported = run(&inputs, &Options::default()).unwrap();
    let config = WorldConfig::parse(&imported.world).unwrap();
    let org = config.organization.unwrap();
    for account in ["222222222222", "333333333333"] {
        assert_eq!(
            org.accounts
                .iter()
                .find(|a| a.id == account)
                .unwrap()
                .parent,
            "r-ab12"
        );
        assert!(
            imported
                .not_imported
                .iter()
                .any(|l| l.contains(account) && l.contains("placed under the root")),
            "{:?}",
            imported.not_imported
        );
    }
}

#[test]
fn an_scp_without_its_document_or_targets_is_reported_never_silently_dropped() {
    let inputs: Vec<(String, Value)> = fixtures("organizations")
        .into_iter()
        .filter(|(name, _)| {
            !name.ends_with("policy-p-5j7b8k2q.json") && !name.ends_with("targets-p-9x1c3v5n.json")
        })
        .collect();
    let imported = run(&inputs, &Options::default()).unwrap();
    let said = |needle: &str| imported.not_imported.iter().any(|l| l.contains(needle));
    assert!(
        said("DenyLeavingAndSecretApi (p-5j7b8k2q): its document was not imported"),
        "{:?}",
        imported.not_imported
    );
    assert!(
        said("OnlyApis (p-9x1c3v5n): its targets were not imported"),
        "{:?}",
        imported.not_imported
    );
    let org = WorldConfig::parse(&imported.world)
        .unwrap()
        .organization
        .unwrap();
    assert!(org.policies.iter().all(|p| p.id != "p-5j7b8k2q"));
    assert!(
        org.policies
            .iter()
            .find(|p| p.id == "p-9x1c3v5n")
            .unwrap()
            .targets
            .is_empty()
    );
}

#[test]
fn an_output_that_does_not_name_what_it_was_asked_about_is_an_error_naming_the_file() {
    let targets = fixtures("organizations")
        .into_iter()
        .find(|(name, _)| name.ends_with("targets-p-5j7b8k2q.json"))
        .unwrap()
        .1;
    let error = run(
        &[("saved/targets.json".to_owned(), targets)],
        &Options::default(),
    )
    .unwrap_err();
    assert!(matches!(error, ImportError::Malformed { .. }), "{error}");
    assert!(
        error.to_string().starts_with("saved/targets.json: "),
        "{error}"
    );
}
