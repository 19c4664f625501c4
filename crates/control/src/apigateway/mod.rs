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

    /// The registry serving these documents, and what was left out.
    pub(crate) fn registry(self) -> (ApiRegistry, Vec<String>) {
        let (registry, mut problems) =
            ApiRegistry::from_records(self.rest, self.http, self.domains);
        problems.extend(self.problems);
        (registry, problems)
    }
}
