//! The data plane's view of the stored APIs: every stage bound to the
//! deployment it serves, and the custom domain names.
//!
//! Built whole from the store's documents each time they change (the
//! control plane swaps it in atomically), so a request sees one consistent
//! set of APIs. A document that cannot be served is left out and reported,
//! never half-served.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::{ApiRegistry, compile_resource_policy};
use crate::model::{HttpApi, HttpStage, RestApi, RestStage};
use crate::stored::{
    DomainNameRecord, HTTP_API_KIND, HttpApiRecord, HttpDeployment, REST_API_KIND, RestApiRecord,
    RestDeployment, StageRecord, http_integration_record,
};

impl ApiRegistry {
    /// The registry serving these documents, and what had to be left out.
    pub fn from_records(
        rest: impl IntoIterator<Item = RestApiRecord>,
        http: impl IntoIterator<Item = HttpApiRecord>,
        domains: impl IntoIterator<Item = DomainNameRecord>,
    ) -> (ApiRegistry, Vec<String>) {
        let mut registry = ApiRegistry::default();
        let mut problems = Vec::new();
        for api in rest {
            if api.disable_execute_api_endpoint {
                registry.default_endpoint_disabled.insert(api.id.clone());
            }
            if api.api_key_source.as_deref() == Some("AUTHORIZER") {
                registry.usage.key_from_authorizer.insert(api.id.clone());
            }
            registry
                .usage
                .set_stage_throttles(&api.id, api.stages.values());
            let mut stages = HashMap::new();
            for stage in api.stages.values() {
                let Some(deployment) = deployment_of(stage, &api.deployments) else {
                    continue;
                };
                let policy = match deployment.policy.as_deref().map(compile_resource_policy) {
                    None => None,
                    Some(Ok(compiled)) => Some(compiled),
                    Some(Err(_)) => {
                        // Fail closed: a stage whose policy cannot be read
                        // is not served at all.
                        problems.push(format!(
                            "REST API {} stage {}: the deployed resource policy does not parse",
                            api.id, stage.name
                        ));
                        continue;
                    }
                };
                stages.insert(
                    stage.name.clone(),
                    RestStage {
                        name: stage.name.clone(),
                        root: deployment.root.clone(),
                        policy,
                        policy_text: deployment.policy.clone(),
                        variables: stage
                            .variables
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                        gateway_responses: Arc::new(deployment.gateway_responses.clone()),
                    },
                );
            }
            registry.rest.insert(
                api.id.clone(),
                Arc::new(RestApi {
                    id: api.id,
                    account: api.account,
                    region: api.region,
                    endpoint_type: api.endpoint_type,
                    stages,
                }),
            );
        }
        for api in http {
            if api.disable_execute_api_endpoint {
                registry.default_endpoint_disabled.insert(api.id.clone());
            }
            registry
                .usage
                .set_stage_throttles(&api.id, api.stages.values());
            let stages = api
                .stages
                .values()
                .filter_map(|stage| {
                    let deployment = deployment_of(stage, &api.deployments)?;
                    Some((
                        stage.name.clone(),
                        HttpStage {
                            name: stage.name.clone(),
                            routes: deployment.routes.clone(),
                        },
                    ))
                })
                .collect();
            registry.http.insert(
                api.id.clone(),
                Arc::new(HttpApi {
                    id: api.id,
                    account: api.account,
                    region: api.region,
                    stages,
                }),
            );
        }
        for domain in domains {
            registry
                .domains
                .insert(domain.name.to_ascii_lowercase(), Arc::new(domain));
        }
        (registry, problems)
    }

    /// Whether the API's default `execute-api` endpoint is disabled
    /// (`disableExecuteApiEndpoint`): then it answers only through custom
    /// domain names.
    pub fn is_default_endpoint_disabled(&self, api_id: &str) -> bool {
        self.default_endpoint_disabled.contains(api_id)
    }
}

/// The deployment a stage serves, if it has one.
fn deployment_of<'a, D>(
    stage: &StageRecord,
    deployments: &'a BTreeMap<String, D>,
) -> Option<&'a D> {
    deployments.get(stage.deployment_id.as_deref()?)
}

/// A short, stable id (`[a-z0-9]`, AWS's resource and deployment id
/// length) derived from `seed`, so a declared API gets the same ids every
/// time its declaration is applied.
pub fn stable_id(seed: &str, length: usize) -> String {
    // FNV-1a: no need for a cryptographic hash, only for stability.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..length)
        .map(|_| {
            let symbol = ALPHABET.get((hash % 36) as usize).copied().unwrap_or(b'a');
            hash /= 36;
            if hash == 0 {
                hash = 0x9e37_79b9_7f4a_7c15;
            }
            char::from(symbol)
        })
        .collect()
}

/// The stored documents for the APIs a world file declares, each created
/// at `created_at(kind, account, api id)`: each stage served from one
/// deployment of the declared definition.
pub fn declared_records(
    declared: &ApiRegistry,
    mut created_at: impl FnMut(&str, &str, &str) -> i64,
) -> (Vec<RestApiRecord>, Vec<HttpApiRecord>) {
    let mut rest = Vec::new();
    for api in declared.rest.values() {
        let created = created_at(REST_API_KIND, &api.account, &api.id);
        let Some(first) = api.stages.values().next() else {
            continue;
        };
        let (root_resource_id, resources) =
            RestApiRecord::resources_from_tree(&first.root, &api.region, |path| {
                stable_id(&format!("{}{path}", api.id), 10)
            });
        let (models, request_validators) = crate::validation::declared(first.root.methods());
        let deployment_id = stable_id(&format!("{}#deployment", api.id), 6);
        let deployment = RestDeployment {
            id: deployment_id.clone(),
            description: Some("declared in the world file".to_owned()),
            created_at: created,
            root: first.root.clone(),
            policy: first.policy_text.clone(),
            gateway_responses: (*first.gateway_responses).clone(),
        };
        rest.push(RestApiRecord {
            id: api.id.clone(),
            account: api.account.clone(),
            region: api.region.clone(),
            name: api.id.clone(),
            description: None,
            created_at: created,
            version: None,
            endpoint_type: api.endpoint_type,
            vpc_endpoint_ids: Vec::new(),
            ip_address_type: None,
            minimum_compression_size: None,
            policy: first.policy_text.clone(),
            disable_execute_api_endpoint: false,
            api_key_source: Some(
                if declared.usage.key_from_authorizer.contains(&api.id) {
                    "AUTHORIZER"
                } else {
                    "HEADER"
                }
                .to_owned(),
            ),
            binary_media_types: Vec::new(),
            tags: BTreeMap::new(),
            root_resource_id,
            authorizers: crate::stored::declared_authorizers(
                first.root.methods().into_iter().map(|m| &m.authorization),
            ),
            resources,
            deployments: BTreeMap::from([(deployment_id.clone(), deployment)]),
            stages: stage_records(api.stages.keys(), &deployment_id, created, false),
            gateway_responses: (*first.gateway_responses).clone(),
            models,
            request_validators,
        });
    }
    let mut http = Vec::new();
    for api in declared.http.values() {
        let created = created_at(HTTP_API_KIND, &api.account, &api.id);
        let Some(first) = api.stages.values().next() else {
            continue;
        };
        let mut routes = BTreeMap::new();
        let mut integrations = BTreeMap::new();
        for route in &first.routes {
            let route_id = stable_id(&format!("{}#route {}", api.id, route.key), 7);
            let integration_id = stable_id(&format!("{}#integration {}", api.id, route.key), 7);
            integrations.insert(
                integration_id.clone(),
                http_integration_record(&integration_id, &route.integration),
            );
            routes.insert(
                route_id.clone(),
                crate::stored::RouteRecord {
                    id: route_id,
                    route_key: route.key.clone(),
                    authorization_type: route.authorization.as_str().to_owned(),
                    authorizer_id: route.authorization.any_authorizer().map(|a| a.id.clone()),
                    authorization_scopes: route.authorization.scopes().to_vec(),
                    target: Some(format!("integrations/{integration_id}")),
                    api_key_required: false,
                    operation_name: None,
                },
            );
        }
        let deployment_id = stable_id(&format!("{}#deployment", api.id), 6);
        let deployment = HttpDeployment {
            id: deployment_id.clone(),
            description: Some("declared in the world file".to_owned()),
            created_at: created,
            auto_deployed: true,
            routes: first.routes.clone(),
        };
        http.push(HttpApiRecord {
            id: api.id.clone(),
            account: api.account.clone(),
            region: api.region.clone(),
            name: api.id.clone(),
            description: None,
            created_at: created,
            version: None,
            disable_execute_api_endpoint: false,
            tags: BTreeMap::new(),
            routes,
            integrations,
            authorizers: crate::stored::declared_authorizers(
                first.routes.iter().map(|r| &r.authorization),
            ),
            deployments: BTreeMap::from([(deployment_id.clone(), deployment)]),
            stages: stage_records(api.stages.keys(), &deployment_id, created, true),
        });
    }
    rest.sort_by(|a, b| a.id.cmp(&b.id));
    http.sort_by(|a, b| a.id.cmp(&b.id));
    (rest, http)
}

fn stage_records<'a>(
    names: impl Iterator<Item = &'a String>,
    deployment_id: &str,
    created: i64,
    auto_deploy: bool,
) -> BTreeMap<String, StageRecord> {
    names
        .map(|name| {
            (
                name.clone(),
                StageRecord {
                    name: name.clone(),
                    deployment_id: Some(deployment_id.to_owned()),
                    description: None,
                    created_at: created,
                    last_updated: created,
                    auto_deploy,
                    variables: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    throttles: BTreeMap::new(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
apis:
  - id: a1b2c3d4e5
    type: REST
    account: "111122223333"
    region: us-east-1
    stages: [prod, test]
    policy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" }] }
    methods:
      - { path: "/pets/{id}", method: GET, authorization: AWS_IAM, integration: { type: MOCK, body: pet } }
  - id: h1b2c3d4e5
    type: HTTP
    account: "111122223333"
    region: us-east-1
    routes:
      - { key: "GET /pets", authorization: AWS_IAM, integration: { type: MOCK, body: pets } }
"#;

    #[test]
    fn declared_apis_are_served_the_same_after_a_round_trip_through_the_store() {
        let declared = ApiRegistry::from_world_file(FILE).unwrap();
        let (rest, http) = declared_records(&declared, |_, _, _| 1_700_000_000);
        // The documents are what the store keeps: JSON and back.
        let rest: Vec<RestApiRecord> = rest
            .iter()
            .map(|r| serde_json::from_value(serde_json::to_value(r).unwrap()).unwrap())
            .collect();
        let (registry, problems) = ApiRegistry::from_records(rest.clone(), http, []);
        assert!(problems.is_empty(), "{problems:?}");
        let served = &registry.rest["a1b2c3d4e5"];
        let original = &declared.rest["a1b2c3d4e5"];
        assert_eq!(served.stages.len(), 2);
        assert_eq!(served.stages["prod"].root, original.stages["prod"].root);
        assert!(served.stages["test"].policy.is_some());
        assert_eq!(
            registry.http["h1b2c3d4e5"].stages["$default"].routes,
            declared.http["h1b2c3d4e5"].stages["$default"].routes
        );
        // Applying the same declaration again yields the same documents.
        let (again, _) = declared_records(&declared, |_, _, _| 1_700_000_000);
        assert_eq!(again, rest);
    }

    #[test]
    fn a_stage_whose_deployed_policy_does_not_parse_is_not_served() {
        let declared = ApiRegistry::from_world_file(FILE).unwrap();
        let (mut rest, _) = declared_records(&declared, |_, _, _| 0);
        for deployment in rest[0].deployments.values_mut() {
            deployment.policy = Some("{not json".into());
        }
        let (registry, problems) = ApiRegistry::from_records(rest, [], []);
        assert!(registry.rest["a1b2c3d4e5"].stages.is_empty());
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn stable_ids_are_stable_short_and_lowercase() {
        let id = stable_id("a1b2c3d4e5/pets", 10);
        assert_eq!(id, stable_id("a1b2c3d4e5/pets", 10));
        assert_ne!(id, stable_id("a1b2c3d4e5/pet", 10));
        assert_eq!(id.len(), 10);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }

    #[test]
    fn a_disabled_default_endpoint_is_known_by_api_id() {
        let declared = ApiRegistry::from_world_file(FILE).unwrap();
        let (mut rest, http) = declared_records(&declared, |_, _, _| 0);
        rest[0].disable_execute_api_endpoint = true;
        let (registry, _) = ApiRegistry::from_records(rest, http, []);
        assert!(registry.is_default_endpoint_disabled("a1b2c3d4e5"));
        assert!(!registry.is_default_endpoint_disabled("h1b2c3d4e5"));
    }
}
