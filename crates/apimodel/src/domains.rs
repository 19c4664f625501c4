//! Custom domain names as the API model keeps them: the rules a name
//! obeys, the id AWS derives for it, and the world file's `domain_names:`
//! section. Every front door (world file, `apigateway`, `apigatewayv2`)
//! checks names here, so a name one refuses cannot come in through
//! another. Routing a request by its host is the data plane's
//! (`iamgate_gateway::domains`).
//!
//! In the world file (decoded from the tree the file is read into once,
//! so each problem has its line and column):
//!
//! ```yaml
//! domain_names:
//!   - name: api.example.com
//!     account: "123456789012"
//!     region: us-east-1
//!     mappings:
//!       - { base_path: pets, api: a1b2c3d4e5, stage: prod }
//!       - { base_path: "", api: h1b2c3d4e5, stage: $default }
//!     # Optional, for `iamgate serve --tls-cert …`: the certificate
//!     # served for this name (chosen by SNI), and mutual TLS.
//!     certificate: { cert: api.pem, key: api.key }
//!     truststore: clients-ca.pem
//! ```
//!
//! Certificate files are named relative to the world file; only the
//! names are kept, the server reads the files (and reads them again when
//! they change). Mutual TLS is refused on PRIVATE names, as AWS refuses it.

use std::collections::BTreeMap;

use iamgate_yaml::{ConfigError, Decoder, Node};

use crate::config::{optional, present, required};
use crate::model::EndpointType;
use crate::registry::stable_id;
use crate::stored::{ApiMapping, CertificateFiles, DomainNameRecord};

/// The id AWS gives a private domain name (`{name}+{id}` in its ARN),
/// stable for the account and name.
pub fn domain_name_id(account: &str, name: &str) -> String {
    stable_id(&format!("{account}#{name}"), 10)
}

/// `name` as domain names are stored and served (lower case), if DNS
/// allows it: at least two dot-separated labels of letters, digits and
/// inner hyphens, 63 characters each and 253 in all, with an optional
/// leading `*.` wildcard.
pub fn domain_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let labels = lower.strip_prefix("*.").unwrap_or(&lower);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ok = lower.len() <= 253 && labels.contains('.') && labels.split('.').all(label_ok);
    ok.then_some(lower)
}

/// The `domain_names:` section of a world file, as stored documents
/// created at `created_at`; every problem is reported, each ending with
/// its line and column.
pub fn declared_domains(text: &str) -> Result<Vec<DomainNameRecord>, Vec<String>> {
    let lines = |errors: Vec<ConfigError>| errors.iter().map(ConfigError::path_first).collect();
    let root = iamgate_yaml::parse(text).map_err(|error| lines(vec![error]))?;
    from_tree(&root).map_err(lines)
}

/// The `domain_names:` section of a world file already read into a tree;
/// every problem is reported at its line and column.
pub fn from_tree(root: &Node) -> Result<Vec<DomainNameRecord>, Vec<ConfigError>> {
    let mut decoder = Decoder::default();
    let mut domains: Vec<DomainNameRecord> = Vec::new();
    let list = decoder.list(present(root, "domain_names"), "domain_names");
    for (index, node) in list.iter().enumerate() {
        let path = format!("domain_names[{index}]");
        if let Some(domain) = domain(&mut decoder, node, &path, &domains) {
            domains.push(domain);
        }
    }
    if decoder.errors.is_empty() {
        Ok(domains)
    } else {
        Err(decoder.errors)
    }
}

fn domain(
    decoder: &mut Decoder,
    node: &Node,
    path: &str,
    earlier: &[DomainNameRecord],
) -> Option<DomainNameRecord> {
    let fields = decoder.fields(
        node,
        path,
        &[
            "name",
            "account",
            "region",
            "endpoint",
            "mappings",
            "certificate",
            "truststore",
        ],
    )?;
    let declared = required(decoder, &fields, "name");
    let account = required(decoder, &fields, "account");
    let region = required(decoder, &fields, "region");
    let endpoint = optional(decoder, &fields, "endpoint");
    let truststore = optional(decoder, &fields, "truststore");
    let certificate = fields.get("certificate").and_then(|node| {
        let path = fields.path("certificate");
        let files = decoder.fields(node, &path, &["cert", "key"])?;
        let (cert, _) = required(decoder, &files, "cert")?;
        let (key, _) = required(decoder, &files, "key")?;
        Some(CertificateFiles { cert, key })
    });
    let mappings_path = fields.path("mappings");
    let mut declared_mappings = Vec::new();
    for (index, at) in decoder
        .list(fields.get("mappings"), &mappings_path)
        .iter()
        .enumerate()
    {
        let path = format!("{mappings_path}[{index}]");
        let Some(mapping) = decoder.fields(at, &path, &["base_path", "api", "stage"]) else {
            continue;
        };
        let base_path = optional(decoder, &mapping, "base_path").map(|(text, _)| text);
        let api = required(decoder, &mapping, "api");
        let stage = required(decoder, &mapping, "stage");
        if let (Some((api, _)), Some((stage, _))) = (api, stage) {
            declared_mappings.push((base_path.unwrap_or_default(), api, stage, at));
        }
    }
    let ((declared, name_at), (account, account_at), (region, _)) = (declared?, account?, region?);
    let at = format!("{path} ({declared})");
    let mut problem = |(line, column): (u32, u32), message: String| {
        decoder.errors.push(ConfigError {
            path: at.clone(),
            line,
            column,
            code: None,
            message,
            document_position: None,
        });
    };
    let name = domain_name(&declared).unwrap_or_else(|| {
        problem(name_at, format!("'{declared}' is not a domain name"));
        declared.clone()
    });
    if earlier.iter().any(|d| d.name == name) {
        problem(name_at, "declared twice".to_owned());
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        problem(account_at, format!("account '{account}' must be 12 digits"));
    }
    let endpoint_type = match endpoint {
        None => EndpointType::Regional,
        Some((kind, at)) => match kind.as_str() {
            "REGIONAL" => EndpointType::Regional,
            "EDGE" => EndpointType::Edge,
            "PRIVATE" => EndpointType::Private,
            other => {
                problem(
                    at,
                    format!("endpoint '{other}' is not REGIONAL, EDGE or PRIVATE"),
                );
                EndpointType::Regional
            }
        },
    };
    if let Some((_, at)) = &truststore
        && endpoint_type == EndpointType::Private
    {
        problem(
            *at,
            "mutual TLS (truststore) is not supported for PRIVATE domain names".to_owned(),
        );
    }
    let mut mappings = BTreeMap::new();
    for (base_path, api, stage, node) in declared_mappings {
        let key = base_path.trim_matches('/').to_owned();
        let key = if key == "(none)" { String::new() } else { key };
        // The bound CreateBasePathMapping applies (`fields::path`).
        if let Err(invalid) = crate::fields::path("basePath", &key) {
            problem((node.line, node.column), invalid.to_string());
        }
        let id = stable_id(&format!("{name}#{key}"), 6);
        let previous = mappings.insert(
            key.clone(),
            ApiMapping {
                id,
                api_id: api,
                stage,
            },
        );
        if previous.is_some() {
            problem(
                (node.line, node.column),
                format!("base path '{key}' is mapped twice"),
            );
        }
    }
    Some(DomainNameRecord {
        name,
        account,
        region,
        created_at: 0,
        endpoint_type,
        mappings,
        tags: BTreeMap::new(),
        certificate,
        truststore: truststore.map(|(file, _)| file),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_and_truststore_are_kept_as_named() {
        let text = r#"
domain_names:
  - name: api.example.com
    account: "111122223333"
    region: us-east-1
    certificate: { cert: certs/api.pem, key: certs/api.key }
    truststore: clients.pem
"#;
        let domains = declared_domains(text).unwrap();
        assert_eq!(
            domains[0].certificate,
            Some(CertificateFiles {
                cert: "certs/api.pem".into(),
                key: "certs/api.key".into()
            })
        );
        assert_eq!(domains[0].truststore.as_deref(), Some("clients.pem"));
    }

    #[test]
    fn a_certificate_needs_both_files_and_private_names_refuse_mutual_tls() {
        let text = r#"
domain_names:
  - name: api.example.com
    account: "111122223333"
    region: us-east-1
    endpoint: PRIVATE
    certificate: { cert: api.pem, pem: api.key }
    truststore: clients.pem
"#;
        let problems = declared_domains(text).unwrap_err().join("\n");
        for expected in [
            "certificate",
            "key",
            "not supported for PRIVATE domain names",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    #[test]
    fn bad_declarations_are_reported() {
        let text = r#"
domain_names:
  - { name: "bad name", account: "1", region: us-east-1, endpoint: VPC,
      mappings: [{ base_path: a, api: x, stage: s }, { base_path: /a/, api: y, stage: s }] }
"#;
        let problems = declared_domains(text).unwrap_err().join("\n");
        for expected in [
            "not a domain name",
            "12 digits",
            "not REGIONAL, EDGE or PRIVATE",
            "mapped twice",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }
}
