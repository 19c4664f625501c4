#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! A world file's custom-domain base paths obey the bound the control
//! plane's `CreateBasePathMapping` applies (`fields::path`), with the same
//! words: the world file used to take a base path of any length.

use iamgate_apimodel::domains::declared_domains;
use iamgate_apimodel::fields;

fn world(base_path: &str) -> String {
    format!(
        "domain_names:\n  - {{ name: api.example.com, account: \"111122223333\", region: us-east-1,\n      mappings: [{{ base_path: \"{base_path}\", api: a1b2c3d4e5, stage: prod }}] }}\n"
    )
}

#[test]
fn a_world_file_base_path_longer_than_the_control_planes_bound_is_refused_with_its_words() {
    let too_long = "a".repeat(fields::PATH_MAX + 1);
    let rule = fields::path("basePath", &too_long).unwrap_err().0;
    let problems = declared_domains(&world(&too_long)).unwrap_err();
    assert!(problems.iter().any(|p| p.contains(&rule)), "{problems:?}");
}

#[test]
fn a_world_file_base_path_at_the_bound_is_accepted() {
    let longest = "a".repeat(fields::PATH_MAX);
    assert!(fields::path("basePath", &longest).is_ok());
    let domains = declared_domains(&world(&longest)).unwrap();
    assert!(domains[0].mappings.contains_key(&longest));
}
