//! Custom domain names and their mappings, written as the world file's
//! `domain_names:` section.
//!
//! Recognised by shape:
//! - `aws apigateway get-domain-names` (`items` with `domainName`) and
//!   `get-domain-name`: each name, its endpoint type, and its region and
//!   account where the output shows them (the certificate's ARN, the
//!   regional target name);
//! - `aws apigateway get-base-path-mappings` (`items` with `restApiId`);
//! - `aws apigatewayv2 get-domain-names` (`Items` with `DomainName`) and
//!   `get-domain-name`;
//! - `aws apigatewayv2 get-api-mappings` (`Items` with `ApiMappingId`).
//!
//! A mappings output does not name its domain: the file's name must hold
//! it (`mappings-api.example.com.json`); of the domain names imported, the
//! longest one the file name contains is taken.
//!
//! A domain name's account is its certificate's account when the output
//! shows one, else `--account`, else the account of an API it maps, else
//! the one IAM account imported. A mapping to an API that is not imported
//! is left out and listed as such (the world file refuses mappings to
//! APIs it does not declare).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::{ImportError, ImportedDomain, Reader, quoted};

#[derive(Default)]
pub(crate) struct Domains {
    /// Lower-cased name → what the outputs said of it.
    names: BTreeMap<String, Domain>,
    /// Mappings outputs: (file name, mappings), placed once every name is
    /// known.
    pending: Vec<(String, Vec<Mapping>)>,
}

#[derive(Default)]
struct Domain {
    region: Option<String>,
    account: Option<String>,
    endpoint: Option<String>,
    mappings: Vec<Mapping>,
}

#[derive(Clone)]
struct Mapping {
    base_path: String,
    api: String,
    stage: String,
}

/// `arn:aws:acm:{region}:{account}:certificate/…` → (region, account).
fn certificate_owner(arn: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "acm", region, account, _]
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let region = (!region.is_empty()).then(|| (*region).to_owned());
            (region, Some((*account).to_owned()))
        }
        _ => (None, None),
    }
}

/// `d-….execute-api.{region}.amazonaws.com` → the region.
fn region_of_target(target: &str) -> Option<String> {
    let mut labels = target.split('.');
    let (_, Some("execute-api"), Some(region)) = (labels.next(), labels.next(), labels.next())
    else {
        return None;
    };
    Some(region.to_owned())
}

/// `arn:aws:apigateway:{region}::/domainnames/…` → the region.
fn region_of_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "apigateway", region, _, _] if !region.is_empty() => Some((*region).to_owned()),
        _ => None,
    }
}

impl Reader<'_, '_> {
    /// Reads `object` if it is a domain names or mappings output;
    /// `Ok(false)` when it is not one.
    pub(crate) fn domains(
        &mut self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<bool, ImportError> {
        let items = object
            .get("items")
            .or_else(|| object.get("Items"))
            .and_then(Value::as_array);
        let has =
            |member: &str| items.is_some_and(|list| list.iter().any(|i| i.get(member).is_some()));
        if object.contains_key("domainName") || has("domainName") {
            let single = [Value::Object(object.clone())];
            let list = items.map(Vec::as_slice).unwrap_or(&single);
            for item in list {
                self.v1_domain(item)?;
            }
            return Ok(true);
        }
        if object.contains_key("DomainName") || has("DomainName") {
            let single = [Value::Object(object.clone())];
            let list = items.map(Vec::as_slice).unwrap_or(&single);
            for item in list {
                self.v2_domain(item)?;
            }
            return Ok(true);
        }
        if has("restApiId") {
            let mut mappings = Vec::new();
            for item in items.into_iter().flatten() {
                let base = item.get("basePath").and_then(Value::as_str).unwrap_or("");
                mappings.push(Mapping {
                    base_path: if base == "(none)" {
                        String::new()
                    } else {
                        base.to_owned()
                    },
                    api: self.text(item, "restApiId")?.to_owned(),
                    stage: self.text(item, "stage")?.to_owned(),
                });
            }
            self.world
                .domains
                .pending
                .push((self.name.to_owned(), mappings));
            return Ok(true);
        }
        if has("ApiMappingId") {
            let mut mappings = Vec::new();
            for item in items.into_iter().flatten() {
                mappings.push(Mapping {
                    base_path: item
                        .get("ApiMappingKey")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    api: self.text(item, "ApiId")?.to_owned(),
                    stage: self.text(item, "Stage")?.to_owned(),
                });
            }
            self.world
                .domains
                .pending
                .push((self.name.to_owned(), mappings));
            return Ok(true);
        }
        Ok(false)
    }

    fn v1_domain(&mut self, item: &Value) -> Result<(), ImportError> {
        let name = self.text(item, "domainName")?.to_ascii_lowercase();
        let certificate = item
            .get("regionalCertificateArn")
            .or_else(|| item.get("certificateArn"))
            .and_then(Value::as_str)
            .map(certificate_owner)
            .unwrap_or_default();
        let region = item
            .get("regionalDomainName")
            .and_then(Value::as_str)
            .and_then(region_of_target)
            .or_else(|| {
                item.get("domainNameArn")
                    .and_then(Value::as_str)
                    .and_then(region_of_arn)
            })
            .or(certificate.0);
        let endpoint = item
            .pointer("/endpointConfiguration/types/0")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let domain = self.world.domains.names.entry(name).or_default();
        domain.region = domain.region.take().or(region);
        domain.account = domain.account.take().or(certificate.1);
        domain.endpoint = domain.endpoint.take().or(endpoint);
        Ok(())
    }

    fn v2_domain(&mut self, item: &Value) -> Result<(), ImportError> {
        let name = self.text(item, "DomainName")?.to_ascii_lowercase();
        let configuration = item.pointer("/DomainNameConfigurations/0");
        let certificate = configuration
            .and_then(|c| c.get("CertificateArn"))
            .and_then(Value::as_str)
            .map(certificate_owner)
            .unwrap_or_default();
        let region = configuration
            .and_then(|c| c.get("ApiGatewayDomainName"))
            .and_then(Value::as_str)
            .and_then(region_of_target)
            .or(certificate.0);
        let endpoint = configuration
            .and_then(|c| c.get("EndpointType"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let domain = self.world.domains.names.entry(name).or_default();
        domain.region = domain.region.take().or(region);
        domain.account = domain.account.take().or(certificate.1);
        domain.endpoint = domain.endpoint.take().or(endpoint);
        Ok(())
    }
}

impl Domains {
    /// Places every mappings output under the domain its file names.
    fn place(&mut self) -> Result<(), ImportError> {
        for (source, mappings) in std::mem::take(&mut self.pending) {
            let file = source
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&source)
                .to_ascii_lowercase();
            let domain = self
                .names
                .keys()
                .filter(|name| file.contains(name.as_str()))
                .max_by_key(|name| name.len())
                .cloned()
                .ok_or_else(|| ImportError::Malformed {
                    source_name: source.clone(),
                    detail: "a mappings output does not name its domain: save it with the domain name in its file name (mappings-api.example.com.json), and import the domain names output with it".into(),
                })?;
            let Some(entry) = self.names.get_mut(&domain) else {
                continue;
            };
            // apigateway and apigatewayv2 both list a domain's mappings:
            // one saved from each is the same mapping twice.
            for mapping in mappings {
                let same_path = entry
                    .mappings
                    .iter()
                    .find(|m| m.base_path.trim_matches('/') == mapping.base_path.trim_matches('/'));
                match same_path {
                    None => entry.mappings.push(mapping),
                    Some(kept) if kept.api == mapping.api && kept.stage == mapping.stage => {}
                    Some(kept) => {
                        return Err(ImportError::Malformed {
                            source_name: source.clone(),
                            detail: format!(
                                "domain {domain}: base path {:?} maps to API {} stage {} here and to API {} stage {} in another output",
                                mapping.base_path, mapping.api, mapping.stage, kept.api, kept.stage
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The `domain_names:` section. `api_accounts` are the imported APIs
    /// with their accounts; `fallback` is `--account`, else the one IAM
    /// account imported.
    pub(crate) fn render(
        &mut self,
        api_accounts: &BTreeMap<String, String>,
        flag: Option<&String>,
        single_account: Option<&String>,
        out: &mut String,
        not_imported: &mut Vec<String>,
    ) -> Result<Vec<ImportedDomain>, ImportError> {
        self.place()?;
        let mut imported = Vec::new();
        if self.names.is_empty() {
            return Ok(imported);
        }
        out.push_str("domain_names:\n");
        for (name, domain) in &self.names {
            let mapped_account = domain
                .mappings
                .iter()
                .find_map(|m| api_accounts.get(&m.api));
            let account = domain
                .account
                .as_ref()
                .or(flag)
                .or(mapped_account)
                .or(single_account)
                .ok_or_else(|| ImportError::DomainAccountUnknown {
                    domain: name.clone(),
                })?;
            let Some(region) = &domain.region else {
                return Err(ImportError::Malformed {
                    source_name: name.clone(),
                    detail: "the domain name's region is unknown: its output shows no regional target name, ARN or certificate".into(),
                });
            };
            let _ = writeln!(out, "  - name: {}", quoted(name));
            let _ = writeln!(out, "    account: {}", quoted(account));
            let _ = writeln!(out, "    region: {}", quoted(region));
            if let Some(endpoint) = &domain.endpoint {
                let _ = writeln!(out, "    endpoint: {}", quoted(endpoint));
            }
            let kept: Vec<&Mapping> = domain
                .mappings
                .iter()
                .filter(|m| {
                    let known = api_accounts.contains_key(&m.api);
                    if !known {
                        not_imported.push(format!(
                            "domain {name}: the mapping of base path {:?} to API {} stage {}: the API is not imported (import its export with it)",
                            m.base_path, m.api, m.stage
                        ));
                    }
                    known
                })
                .collect();
            if !kept.is_empty() {
                out.push_str("    mappings:\n");
            }
            imported.push(ImportedDomain {
                name: name.clone(),
                account: account.clone(),
                region: region.clone(),
                endpoint: domain.endpoint.clone(),
                mappings: kept
                    .iter()
                    .map(|m| (m.base_path.clone(), m.api.clone(), m.stage.clone()))
                    .collect(),
            });
            for mapping in kept {
                let _ = writeln!(
                    out,
                    "      - {{ base_path: {}, api: {}, stage: {} }}",
                    quoted(&mapping.base_path),
                    quoted(&mapping.api),
                    quoted(&mapping.stage)
                );
            }
        }
        Ok(imported)
    }
}
