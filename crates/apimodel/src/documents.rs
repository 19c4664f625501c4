//! Turning the store's API Gateway documents into the registry the data
//! plane serves: all of them at a full load, or only the ones a batch of
//! changes touched.
//!
//! Why per document: each REST API, HTTP API and domain name is one
//! document and one registry entry, independent of the others, so a
//! change replaces exactly its entry and shares the rest. A document that
//! cannot be read is left out and reported, never half-served.

use serde::Deserialize;
use serde_json::Value;

use crate::config::ApiRegistry;
use crate::stored::{
    DOMAIN_NAME_KIND, DomainNameRecord, HTTP_API_KIND, HttpApiRecord, REST_API_KIND, RestApiRecord,
};
use crate::usage::{API_KEY_KIND, ApiKeyRecord, USAGE_PLAN_KIND, UsagePlanRecord};

/// Whether store documents of `kind` are API Gateway's.
pub fn is_api_kind(kind: &str) -> bool {
    matches!(
        kind,
        REST_API_KIND | HTTP_API_KIND | DOMAIN_NAME_KIND | API_KEY_KIND | USAGE_PLAN_KIND
    )
}

/// A stored document as a reader has it: already a JSON tree (a delta's
/// entity) or still the store's text (a full load, which decodes every
/// document straight into its record).
#[derive(Clone, Copy)]
pub enum StoredBody<'a> {
    Tree(&'a Value),
    Text(&'a str),
}

impl StoredBody<'_> {
    fn decode<T: for<'de> Deserialize<'de>>(self) -> Result<T, serde_json::Error> {
        match self {
            StoredBody::Tree(tree) => T::deserialize(tree),
            StoredBody::Text(text) => serde_json::from_str(text),
        }
    }
}

/// API Gateway documents read from the store.
#[derive(Default)]
pub struct ApiDocuments {
    rest: Vec<RestApiRecord>,
    http: Vec<HttpApiRecord>,
    domains: Vec<DomainNameRecord>,
    keys: Vec<ApiKeyRecord>,
    plans: Vec<UsagePlanRecord>,
    problems: Vec<String>,
}

impl ApiDocuments {
    /// Keeps the document `kind`/`key` if it is an API Gateway document;
    /// says whether it was.
    pub fn take(&mut self, kind: &str, key: &str, body: StoredBody<'_>) -> bool {
        match kind {
            REST_API_KIND => self.read(kind, key, body, |docs, api| docs.rest.push(api)),
            HTTP_API_KIND => self.read(kind, key, body, |docs, api| docs.http.push(api)),
            DOMAIN_NAME_KIND => {
                self.read(kind, key, body, |docs, domain| docs.domains.push(domain))
            }
            API_KEY_KIND => self.read(kind, key, body, |docs, api_key| docs.keys.push(api_key)),
            USAGE_PLAN_KIND => self.read(kind, key, body, |docs, plan| docs.plans.push(plan)),
            _ => return false,
        }
        true
    }

    fn read<T: for<'de> Deserialize<'de>>(
        &mut self,
        kind: &str,
        key: &str,
        body: StoredBody<'_>,
        keep: fn(&mut Self, T),
    ) {
        match body.decode() {
            Ok(record) => keep(self, record),
            Err(error) => self
                .problems
                .push(format!("unreadable {kind} {key}: {error}")),
        }
    }

    /// The registry serving these documents, and what was left out.
    pub fn registry(self) -> (ApiRegistry, Vec<String>) {
        let (mut registry, mut problems) =
            ApiRegistry::from_records(self.rest, self.http, self.domains);
        problems.extend(self.problems);
        for key in self.keys {
            registry
                .usage
                .keys
                .insert(key.id.clone(), std::sync::Arc::new(key));
        }
        for plan in self.plans {
            registry
                .usage
                .plans
                .insert(plan.id.clone(), std::sync::Arc::new(plan));
        }
        registry.usage.reindex();
        (registry, problems)
    }
}

/// One API Gateway document a batch of changes touched: its store kind and
/// key, and its body now (`None`: deleted).
pub struct ChangedDocument<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub body: Option<&'a Value>,
}

impl ApiRegistry {
    /// This registry with the changed documents applied: each API or
    /// domain name touched is replaced or removed, everything else is
    /// shared. Also returns what was left out.
    pub fn updated<'a>(
        &self,
        changed: impl IntoIterator<Item = ChangedDocument<'a>>,
    ) -> (ApiRegistry, Vec<String>) {
        let mut registry = ApiRegistry {
            rest: self.rest.clone(),
            http: self.http.clone(),
            domains: self.domains.clone(),
            default_endpoint_disabled: self.default_endpoint_disabled.clone(),
            usage: self.usage.clone(),
        };
        let mut usage_changed = false;
        let mut documents = ApiDocuments::default();
        for document in changed {
            let key = document.key;
            match document.kind {
                REST_API_KIND => {
                    registry.rest.remove(key);
                    registry.default_endpoint_disabled.remove(key);
                    registry.usage.key_from_authorizer.remove(key);
                    registry.usage.stage_throttles.remove(key);
                }
                HTTP_API_KIND => {
                    registry.http.remove(key);
                    registry.default_endpoint_disabled.remove(key);
                    registry.usage.stage_throttles.remove(key);
                }
                DOMAIN_NAME_KIND => {
                    registry.domains.remove(&key.to_ascii_lowercase());
                }
                API_KEY_KIND => {
                    registry.usage.keys.remove(key);
                    usage_changed = true;
                }
                USAGE_PLAN_KIND => {
                    registry.usage.plans.remove(key);
                    usage_changed = true;
                }
                _ => continue,
            }
            if let Some(body) = document.body {
                documents.take(document.kind, key, StoredBody::Tree(body));
            }
        }
        let (update, problems) = documents.registry();
        registry.rest.extend(update.rest);
        registry.http.extend(update.http);
        registry.domains.extend(update.domains);
        registry.usage.keys.extend(update.usage.keys);
        registry.usage.plans.extend(update.usage.plans);
        registry
            .usage
            .key_from_authorizer
            .extend(update.usage.key_from_authorizer);
        registry
            .usage
            .stage_throttles
            .extend(update.usage.stage_throttles);
        if usage_changed {
            registry.usage.reindex();
        }
        registry
            .default_endpoint_disabled
            .extend(update.default_endpoint_disabled);
        (registry, problems)
    }
}
