#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Saved domain name outputs (`aws apigateway get-domain-names`,
//! `get-base-path-mappings`, and apigatewayv2's `get-domain-names`,
//! `get-api-mappings`; fixtures in `tests/testdata/domains`) import into a
//! `domain_names:` section the world file's reader accepts.

use std::path::Path;

use iamgate_import::{ImportError, Imported, Options, Source, import};
use serde_json::{Value, json};

fn fixture(name: &str) -> (String, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/domains")
        .join(name);
    let json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (format!("saved/{name}"), json)
}

fn export(id: &str, http: bool) -> (String, Value) {
    let mut export = json!({"openapi": "3.0.1", "info": {"title": id, "version": "1"},
        "servers": [{"url": format!("https://{id}.execute-api.eu-west-1.amazonaws.com/{{basePath}}"),
                      "variables": {"basePath": {"default": if http { "" } else { "prod" }}}}],
        "paths": {}});
    if http {
        export["x-amazon-apigateway-importexport-version"] = json!("1.0");
    }
    (format!("saved/{id}.json"), export)
}

fn run(inputs: &[(String, Value)]) -> Result<Imported, ImportError> {
    run_with(inputs, &Options::default())
}

fn run_with(inputs: &[(String, Value)], options: &Options) -> Result<Imported, ImportError> {
    let sources: Vec<Source<'_>> = inputs
        .iter()
        .map(|(name, json)| Source { name, json })
        .collect();
    import(&sources, options)
}

#[test]
fn domain_names_and_their_mappings_import_with_the_certificates_account_and_region() {
    // The exports name no account: they are the certificates'.
    let options = Options {
        api_account: Some("444444444444".into()),
        ..Options::default()
    };
    let imported = run_with(
        &[
            fixture("domain-names.json"),
            fixture("mappings-api.example.com.json"),
            fixture("v2-domain-names.json"),
            fixture("api-mappings-http.example.com.json"),
            export("abc123defg", false),
            export("h1t2t3p4a5", true),
        ],
        &options,
    )
    .unwrap();
    let world = &imported.world;
    let section = world
        .split("domain_names:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{world}"));
    assert_eq!(
        section.lines().collect::<Vec<_>>(),
        [
            r#"  - name: "api.example.com""#,
            r#"    account: "444444444444""#,
            r#"    region: "eu-west-1""#,
            r#"    endpoint: "REGIONAL""#,
            r#"    mappings:"#,
            r#"      - { base_path: "", api: "abc123defg", stage: "prod" }"#,
            r#"  - name: "http.example.com""#,
            r#"    account: "444444444444""#,
            r#"    region: "eu-west-1""#,
            r#"    endpoint: "REGIONAL""#,
            r#"    mappings:"#,
            r#"      - { base_path: "v1", api: "h1t2t3p4a5", stage: "$default" }"#,
        ]
    );
    // The mapping to an API whose export was not imported is said.
    assert!(
        imported
            .not_imported
            .iter()
            .any(|l| l.contains("zzz999zzzz") && l.contains("legacy")),
        "{:?}",
        imported.not_imported
    );
}

#[test]
fn a_mappings_output_whose_file_names_no_imported_domain_is_an_error() {
    let (_, mappings) = fixture("mappings-api.example.com.json");
    let error = run(&[
        fixture("domain-names.json"),
        ("saved/mappings.json".into(), mappings),
    ])
    .unwrap_err();
    assert!(
        error.to_string().starts_with("saved/mappings.json: "),
        "{error}"
    );
}

#[test]
fn a_domain_without_a_certificate_takes_the_account_of_the_api_it_maps() {
    let domain = json!({"items": [{"domainName": "Plain.Example.com", "regionalDomainName": "d-x1y2z3.execute-api.us-east-2.amazonaws.com",
        "endpointConfiguration": {"types": ["REGIONAL"]}}]});
    let mappings =
        json!({"items": [{"basePath": "(none)", "restApiId": "abc123defg", "stage": "prod"}]});
    let mut api = export("abc123defg", false);
    api.1["x-amazon-apigateway-policy"] = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:eu-west-1:555555555555:abc123defg/*"}]});
    let imported = run(&[
        ("saved/domains.json".into(), domain),
        ("saved/mappings-plain.example.com.json".into(), mappings),
        api,
    ])
    .unwrap();
    assert!(imported.world.contains("  - name: \"plain.example.com\"\n    account: \"555555555555\"\n    region: \"us-east-2\""), "{}", imported.world);
}
