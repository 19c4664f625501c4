//! API Gateway state: REST and HTTP APIs and custom domain names, kept in
//! the store as one document each (see `iamgate_apimodel::stored`), and the
//! data plane's registry built from them.

mod call;
mod v1;
mod v2;

use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::stored::{
    DOMAIN_NAME_KIND, DomainNameRecord, HTTP_API_KIND, HttpApiRecord, REST_API_KIND, RestApiRecord,
};
use iamgate_sigv4::Verifier;
use iamgate_store::Entity;
use serde::Deserialize;

use crate::http::{Request, Response};
use crate::plane::ControlPlane;

pub(crate) use call::{SIGNING_NAME, verifier};

/// Answers an `apigateway` (REST APIs) or, under `/v2/`, `apigatewayv2`
/// (HTTP APIs) call.
pub(crate) async fn handle(
    plane: &ControlPlane,
    verifier: &Verifier,
    request: &Request,
) -> Response {
    let path = request.path();
    if path == "/v2" || path.starts_with("/v2/") {
        call::handle(plane, verifier, request, |call| async move {
            v2::dispatch(call).await
        })
        .await
    } else {
        call::handle(plane, verifier, request, |call| async move {
            v1::dispatch(call).await
        })
        .await
    }
}

/// The API documents of one store snapshot.
#[derive(Default)]
pub(crate) struct StoredApis {
    rest: Vec<RestApiRecord>,
    http: Vec<HttpApiRecord>,
    domains: Vec<DomainNameRecord>,
    problems: Vec<String>,
}

impl StoredApis {
    /// Keeps `entity` if it is an API Gateway document; says whether it was.
    pub(crate) fn take(&mut self, entity: &Entity) -> bool {
        match entity.kind.as_str() {
            REST_API_KIND => self.read(entity, |apis, api| apis.rest.push(api)),
            HTTP_API_KIND => self.read(entity, |apis, api| apis.http.push(api)),
            DOMAIN_NAME_KIND => self.read(entity, |apis, domain| apis.domains.push(domain)),
            _ => return false,
        }
        true
    }

    fn read<T: for<'de> Deserialize<'de>>(&mut self, entity: &Entity, keep: fn(&mut Self, T)) {
        match T::deserialize(&entity.body) {
            Ok(record) => keep(self, record),
            Err(error) => self.problems.push(format!(
                "unreadable {} {}: {error}",
                entity.kind, entity.key
            )),
        }
    }

    /// Whether documents of `kind` are API Gateway's.
    pub(crate) fn is_api_kind(kind: &str) -> bool {
        matches!(kind, REST_API_KIND | HTTP_API_KIND | DOMAIN_NAME_KIND)
    }

    /// `current` with the changed API Gateway documents applied: each API
    /// or domain name touched is replaced (or removed), the rest shared.
    pub(crate) fn apply(
        current: &ApiRegistry,
        touched: Vec<iamgate_store::Touched>,
    ) -> (ApiRegistry, Vec<String>) {
        let mut registry = ApiRegistry {
            rest: current.rest.clone(),
            http: current.http.clone(),
            domains: current.domains.clone(),
            default_endpoint_disabled: current.default_endpoint_disabled.clone(),
        };
        let mut changed = StoredApis::default();
        for touched in touched {
            match touched.kind.as_str() {
                REST_API_KIND => {
                    registry.rest.remove(&touched.key);
                    registry.default_endpoint_disabled.remove(&touched.key);
                }
                HTTP_API_KIND => {
                    registry.http.remove(&touched.key);
                    registry.default_endpoint_disabled.remove(&touched.key);
                }
                DOMAIN_NAME_KIND => {
                    registry.domains.remove(&touched.key.to_ascii_lowercase());
                }
                _ => {}
            }
            if let Some(entity) = &touched.entity {
                changed.take(entity);
            }
        }
        let (update, problems) = changed.registry();
        registry.rest.extend(update.rest);
        registry.http.extend(update.http);
        registry.domains.extend(update.domains);
        registry
            .default_endpoint_disabled
            .extend(update.default_endpoint_disabled);
        (registry, problems)
    }

    /// The registry serving these documents, and what was left out.
    pub(crate) fn registry(self) -> (ApiRegistry, Vec<String>) {
        let (registry, mut problems) =
            ApiRegistry::from_records(self.rest, self.http, self.domains);
        problems.extend(self.problems);
        (registry, problems)
    }
}
