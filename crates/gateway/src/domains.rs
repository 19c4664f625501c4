//! Custom domain names on the request path: a request whose host is a
//! configured domain name is served by the API stage its path's base path
//! is mapped to.
//!
//! The longest mapping whose key matches the path's leading segments wins;
//! the empty key (`(none)` in the console) catches everything else. The
//! mapped API sees the rest of the path, and is authorized against its own
//! `{api-id}/{stage}` ARN as if called directly (docs/private-apis.md).
//!
//! The domain names themselves (their records, the world file's
//! `domain_names:` section, the name rules) are part of the API model
//! (`iamgate_apimodel::domains`); only routing by host and base path
//! lives here, because it is the data plane's.

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::domains::domain_name_id;
use iamgate_apimodel::model::EndpointType;

/// Where a custom-domain request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRoute {
    /// The host is not a custom domain name.
    NotADomain,
    /// A custom domain, but no mapping matches the path.
    Unmapped,
    /// API `api_id`, and the path from the stage on (`/{stage}/{rest}`, or
    /// `{rest}` for an HTTP API's `$default` stage), as the data plane
    /// takes it. `via_domain_arn` is set for a private domain name: it is
    /// reachable only through a VPC endpoint, and its ARN is the request's
    /// `execute-api:viaDomainArn`.
    Api {
        api_id: String,
        stage_path: String,
        via_domain_arn: Option<String>,
    },
}

/// Routes a request by its `Host` header and path.
pub fn route(apis: &ApiRegistry, host: Option<&str>, path: &str) -> DomainRoute {
    if apis.domains.is_empty() {
        return DomainRoute::NotADomain;
    }
    let Some(host) = host else {
        return DomainRoute::NotADomain;
    };
    // `Host` may carry a port; domain names never do.
    let name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let Some(domain) = apis.domains.get(&name.to_ascii_lowercase()) else {
        return DomainRoute::NotADomain;
    };
    let best = domain
        .mappings
        .iter()
        .filter_map(|(key, mapping)| Some((key, mapping, rest_after(path, key)?)))
        .max_by_key(|(key, _, _)| key.len());
    let Some((_, mapping, rest)) = best else {
        return DomainRoute::Unmapped;
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let stage_path = if mapping.stage == "$default" && apis.http.contains_key(&mapping.api_id) {
        rest.to_owned()
    } else {
        format!("/{}{rest}", mapping.stage)
    };
    DomainRoute::Api {
        api_id: mapping.api_id.clone(),
        stage_path,
        via_domain_arn: (domain.endpoint_type == EndpointType::Private).then(|| {
            format!(
                "arn:aws:execute-api:{}:{}:/domainnames/{}+{}",
                domain.region,
                domain.account,
                domain.name,
                domain_name_id(&domain.account, &domain.name)
            )
        }),
    }
}

/// The path after the mapping key `key` (whole segments), if it matches.
fn rest_after<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    if key.is_empty() {
        return Some(path);
    }
    let after = path.strip_prefix('/')?.strip_prefix(key)?;
    (after.is_empty() || after.starts_with('/')).then_some(after)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use iamgate_apimodel::domains::declared_domains;
    use iamgate_apimodel::model::HttpApi;

    fn registry() -> ApiRegistry {
        let text = r#"
domain_names:
  - name: API.example.com
    account: "111122223333"
    region: us-east-1
    mappings:
      - { base_path: pets, api: a1b2c3d4e5, stage: prod }
      - { base_path: pets/v2, api: b1b2c3d4e5, stage: beta }
      - { base_path: "(none)", api: h1b2c3d4e5, stage: $default }
"#;
        let mut registry = ApiRegistry::default();
        for domain in declared_domains(text).unwrap() {
            registry
                .domains
                .insert(domain.name.clone(), Arc::new(domain));
        }
        registry.http.insert(
            "h1b2c3d4e5".into(),
            Arc::new(HttpApi {
                id: "h1b2c3d4e5".into(),
                account: "111122223333".into(),
                region: "us-east-1".into(),
                stages: Default::default(),
            }),
        );
        registry
    }

    fn api(api_id: &str, stage_path: &str) -> DomainRoute {
        DomainRoute::Api {
            api_id: api_id.into(),
            stage_path: stage_path.into(),
            via_domain_arn: None,
        }
    }

    #[test]
    fn the_longest_matching_base_path_wins_and_none_catches_the_rest() {
        let apis = registry();
        let host = Some("api.example.com:4566");
        assert_eq!(route(&apis, host, "/pets/1"), api("a1b2c3d4e5", "/prod/1"));
        assert_eq!(route(&apis, host, "/pets"), api("a1b2c3d4e5", "/prod/"));
        assert_eq!(
            route(&apis, host, "/pets/v2/x"),
            api("b1b2c3d4e5", "/beta/x")
        );
        // Whole segments only: `/petshop` is not under `pets`.
        assert_eq!(
            route(&apis, host, "/petshop"),
            api("h1b2c3d4e5", "/petshop")
        );
        assert_eq!(
            route(&apis, Some("API.EXAMPLE.COM"), "/"),
            api("h1b2c3d4e5", "/")
        );
    }

    #[test]
    fn other_hosts_are_not_domains_and_a_domain_without_a_match_is_unmapped() {
        let mut apis = registry();
        assert_eq!(
            route(&apis, Some("other.example.com"), "/pets"),
            DomainRoute::NotADomain
        );
        assert_eq!(route(&apis, None, "/pets"), DomainRoute::NotADomain);
        for domain in apis.domains.values_mut() {
            Arc::make_mut(domain).mappings.remove("");
        }
        assert_eq!(
            route(&apis, Some("api.example.com"), "/cats"),
            DomainRoute::Unmapped
        );
    }

    #[test]
    fn a_private_domain_name_gives_its_arn_as_via_domain_arn() {
        let mut apis = registry();
        for domain in apis.domains.values_mut() {
            Arc::make_mut(domain).endpoint_type = EndpointType::Private;
        }
        let DomainRoute::Api { via_domain_arn, .. } =
            route(&apis, Some("api.example.com"), "/pets/1")
        else {
            panic!("routed");
        };
        assert_eq!(
            via_domain_arn,
            Some(format!(
                "arn:aws:execute-api:us-east-1:111122223333:/domainnames/api.example.com+{}",
                domain_name_id("111122223333", "api.example.com")
            ))
        );
    }
}
