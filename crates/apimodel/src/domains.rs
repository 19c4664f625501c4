//! Custom domain names as the API model keeps them: the rules a name
//! obeys, the id AWS derives for it, and the world file's `domain_names:`
//! section. Every front door (world file, `apigateway`, `apigatewayv2`)
//! checks names here, so a name one refuses cannot come in through
//! another. Routing a request by its host is the data plane's
//! (`iamgate_gateway::domains`).
//!
//! In the world file:
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

use serde::Deserialize;

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

#[derive(Debug, Deserialize)]
struct DomainsFile {
    #[serde(default)]
    domain_names: Vec<DomainConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainConfig {
    name: String,
    account: String,
    region: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    mappings: Vec<MappingConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingConfig {
    #[serde(default)]
    base_path: String,
    api: String,
    stage: String,
}

/// The `domain_names:` section of a world file, as stored documents
/// created at `created_at`; every problem is reported.
pub fn declared_domains(text: &str) -> Result<Vec<DomainNameRecord>, Vec<String>> {
    let file: DomainsFile =
        serde_saphyr::from_str(text).map_err(|error| vec![format!("domain_names: {error}")])?;
    let mut problems = Vec::new();
    let mut domains: Vec<DomainNameRecord> = Vec::new();
    for (index, domain) in file.domain_names.iter().enumerate() {
        let at = format!("domain_names[{index}] ({})", domain.name);
        let name = domain_name(&domain.name).unwrap_or_else(|| {
            problems.push(format!("{at}: '{}' is not a domain name", domain.name));
            domain.name.clone()
        });
        if domains.iter().any(|d| d.name == name) {
            problems.push(format!("{at}: declared twice"));
        }
        if domain.account.len() != 12 || !domain.account.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!(
                "{at}: account '{}' must be 12 digits",
                domain.account
            ));
        }
        let endpoint_type = match domain.endpoint.as_deref() {
            None | Some("REGIONAL") => EndpointType::Regional,
            Some("EDGE") => EndpointType::Edge,
            Some("PRIVATE") => EndpointType::Private,
            Some(other) => {
                problems.push(format!(
                    "{at}: endpoint '{other}' is not REGIONAL, EDGE or PRIVATE"
                ));
                EndpointType::Regional
            }
        };
        let mut mappings = BTreeMap::new();
        for mapping in &domain.mappings {
            let key = mapping.base_path.trim_matches('/').to_owned();
            let key = if key == "(none)" { String::new() } else { key };
            // The bound CreateBasePathMapping applies (`fields::path`).
            if let Err(invalid) = crate::fields::path("basePath", &key) {
                problems.push(format!("{at}: {invalid}"));
            }
            let id = stable_id(&format!("{name}#{key}"), 6);
            let previous = mappings.insert(
                key.clone(),
                ApiMapping {
                    id,
                    api_id: mapping.api.clone(),
                    stage: mapping.stage.clone(),
                },
            );
            if previous.is_some() {
                problems.push(format!("{at}: base path '{key}' is mapped twice"));
            }
        }
        domains.push(DomainNameRecord {
            name,
            account: domain.account.clone(),
            region: domain.region.clone(),
            created_at: 0,
            endpoint_type,
            mappings,
            tags: BTreeMap::new(),
        });
    }
    if problems.is_empty() {
        Ok(domains)
    } else {
        Err(problems)
    }
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
