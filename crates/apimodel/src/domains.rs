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
//! ```

use std::collections::BTreeMap;

use iamgate_yaml::{ConfigError, Decoder, Node};

use crate::config::{optional, present, required};
use crate::model::EndpointType;
use crate::registry::stable_id;
use crate::stored::{ApiMapping, DomainNameRecord};

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
        &["name", "account", "region", "endpoint", "mappings"],
    )?;
    let declared = required(decoder, &fields, "name");
    let account = required(decoder, &fields, "account");
    let region = required(decoder, &fields, "region");
    let endpoint = optional(decoder, &fields, "endpoint");
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
