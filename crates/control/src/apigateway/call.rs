//! One API Gateway control-plane call (REST-JSON, SigV4 service
//! `apigateway`): verification, authorization, the JSON exchange, and the
//! conditional writes of API documents.
//!
//! Authorization is AWS's: action `apigateway:<HTTP method>` on
//! `arn:aws:apigateway:<region>::<path>` (v2 paths without their `/v2`
//! prefix), evaluated for the caller's identity policies. The ARN has no
//! account, so "nothing crosses accounts" comes from the store's scoping:
//! every document is read and written under the caller's own account.

use std::future::Future;
use std::sync::Arc;

use iamgate_iam::{Caller, World};
use iamgate_sigv4::{ServiceRules, Surface, Verifier};
use iamgate_store::{Expect, StoreError, WriteBatch};
use iamgate_wire::json::{CONTENT_TYPE, RestJsonError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::call_context;
use crate::http::{Request, Response, verify_signature};
use crate::plane::ControlPlane;
use crate::write::{Planned, Written};

/// The SigV4 signing name of both API Gateway control planes.
pub(crate) const SIGNING_NAME: &str = "apigateway";

pub(crate) fn verifier() -> Verifier {
    Verifier::new(ServiceRules::for_service(SIGNING_NAME, Surface::RestJson))
}

/// What an operation gets to work with.
pub(crate) struct Call<'a> {
    pub plane: &'a ControlPlane,
    pub world: Arc<World>,
    pub caller: Caller,
    pub request: &'a Request,
    /// The credential scope's region: the region the APIs live in.
    pub region: String,
    pub now: i64,
    /// Percent-decoded path segments (`["restapis", "a1b2c3d4e5"]`).
    pub segments: Vec<String>,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The id the response carries (`x-amzn-RequestId`).
    pub request_id: String,
}

/// AWS's error for a call (boxed: it is large, and rare).
pub(crate) type ApiError = Box<RestJsonError>;

/// An operation's result: status and JSON body (`None`: no body).
pub(crate) type Reply = Result<(u16, Option<Value>), ApiError>;

/// Verifies, then hands the call to `dispatch`; every failure is AWS's
/// REST-JSON error.
pub(crate) async fn handle<'a, F, Fut>(
    plane: &'a ControlPlane,
    verifier: &Verifier,
    request: &'a Request,
    dispatch: F,
) -> Response
where
    F: FnOnce(Call<'a>) -> Fut,
    Fut: Future<Output = Reply> + 'a,
{
    let request_id = iamgate_wire::new_request_id();
    let outcome = match begin(plane, verifier, request, &request_id) {
        Ok(call) => dispatch(call).await,
        Err(error) => Err(error),
    };
    let response = match outcome {
        Ok((status, body)) => {
            let body = body.map(|v| v.to_string()).unwrap_or_default();
            Response::new(status, CONTENT_TYPE, body)
        }
        Err(error) => {
            if error.status() >= 500 {
                tracing::error!(message = ?error.message(), "API Gateway call failed");
            }
            let mut response = Response::new(error.status(), CONTENT_TYPE, error.body());
            for (name, value) in error.headers() {
                response = response.with_header(name, value);
            }
            response
        }
    };
    response.with_header("x-amzn-RequestId", &request_id)
}

fn begin<'a>(
    plane: &'a ControlPlane,
    verifier: &Verifier,
    request: &'a Request,
    request_id: &str,
) -> Result<Call<'a>, ApiError> {
    let world = plane.world();
    let now = plane.now();
    let (caller, region) = verify_signature(request, verifier, &world, now).map_err(|error| {
        RestJsonError::new(error.code().to_owned(), error.status(), error.message())
    })?;
    let segments = request
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| RestJsonError::bad_request("Invalid path encoding"))?;
    let query = iamgate_wire::form::decode_form(request.query().as_bytes())
        .map_err(|_| RestJsonError::bad_request("Invalid query string encoding"))?;
    Ok(Call {
        plane,
        world: world.clone(),
        caller,
        request,
        region,
        now,
        segments,
        query,
        request_id: request_id.to_owned(),
    })
}

/// `%XX` → byte (path segments keep `+` as it is); `None` if an escape is
/// malformed or the result is not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes =
        iamgate_sigv4::percent::decode(segment.as_bytes(), iamgate_sigv4::percent::Plus::Literal)
            .ok()?;
    String::from_utf8(bytes.into_owned()).ok()
}

impl Call<'_> {
    /// The caller's account: the only one whose APIs it can see.
    pub fn account(&self) -> &str {
        self.caller.account()
    }

    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body as `T`; an empty body reads as `{}`. A body that does
    /// not fit the shape is AWS's `BadRequestException`.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = if self.request.body.is_empty() {
            b"{}"
        } else {
            &self.request.body
        };
        serde_json::from_slice(body).map_err(|error| {
            Box::new(RestJsonError::bad_request(format!(
                "Invalid request body: {}",
                error_summary(&error)
            )))
        })
    }

    /// Authorizes `apigateway:<method>` on this call's own resource ARN
    /// (`arn:aws:apigateway:<region>::/restapis/…`; v2 without `/v2`).
    pub fn authorize(&self) -> Result<(), ApiError> {
        let path = self.request.path();
        let path = path.strip_prefix("/v2").unwrap_or(path);
        let resource = format!("arn:aws:apigateway:{}::{}", self.region, path);
        let action = format!("apigateway:{}", self.request.method.to_ascii_uppercase());
        self.authorize_action(&action, &resource)
    }

    /// Authorizes `action` on `resource` for the caller.
    pub fn authorize_action(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        let context = call_context(
            &self.caller,
            self.request,
            &self.region,
            self.now,
            action,
            Some(resource),
        );
        crate::decide::Check {
            plane: self.plane,
            world: &self.world,
            caller: &self.caller,
            request_id: &self.request_id,
            now: self.now,
            service: "apigateway",
        }
        .authorize_identity(&context)
        .map_err(|message| Box::new(RestJsonError::access_denied(message)))
    }

    /// The document `(kind, this account, key)`, with its version.
    pub async fn load<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<(T, i64)>, ApiError> {
        let entity = self
            .plane
            .store()
            .get(kind, self.account(), key)
            .await
            .map_err(|error| store_failure(&error))?;
        entity
            .map(|entity| {
                let record = T::deserialize(&entity.body).map_err(|_| damaged(kind, key))?;
                Ok((record, entity.version))
            })
            .transpose()
    }

    /// Every document of `kind` in this account.
    pub async fn list<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, ApiError> {
        let entities = self
            .plane
            .store()
            .list(kind, self.account())
            .await
            .map_err(|error| store_failure(&error))?;
        entities
            .into_iter()
            .map(|e| T::deserialize(&e.body).map_err(|_| damaged(kind, &e.key)))
            .collect()
    }

    /// Every document of `kind` in this account, each with its version.
    pub async fn list_versioned<T: DeserializeOwned>(
        &self,
        kind: &str,
    ) -> Result<Vec<(T, i64)>, ApiError> {
        let entities = self
            .plane
            .store()
            .list(kind, self.account())
            .await
            .map_err(|error| store_failure(&error))?;
        entities
            .into_iter()
            .map(|e| {
                T::deserialize(&e.body)
                    .map(|record| (record, e.version))
                    .map_err(|_| damaged(kind, &e.key))
            })
            .collect()
    }

    /// Applies the batch `plan` makes, in one transaction: planned again
    /// from fresh reads when another writer got there first
    /// ([`ControlPlane::write`]). A refusal from `plan` writes nothing.
    pub async fn commit<R, F, Fut>(&self, mut plan: F) -> Result<R, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(WriteBatch, R), ApiError>>,
    {
        let written = self
            .plane
            .write(|| {
                let planned = plan();
                async move {
                    let (batch, result) = planned.await?;
                    Ok::<_, ApiError>(Planned::Write(batch, result))
                }
            })
            .await?;
        match written {
            Written::Done(result) => {
                self.reload().await;
                Ok(result)
            }
            Written::Taken(_) | Written::Contended => Err(contended()),
            Written::Failed(error) => Err(store_failure(&error)),
        }
    }

    /// Stores a new document; `Err(None)` if the key is taken. Written
    /// through [`ControlPlane::write`], like every control-plane write.
    pub async fn create<T: Serialize>(
        &self,
        kind: &str,
        key: &str,
        record: &T,
    ) -> Result<(), Option<ApiError>> {
        let body = serde_json::to_value(record).map_err(|_| Some(damaged(kind, key)))?;
        let written = self
            .plane
            .write(|| {
                let batch =
                    WriteBatch::new().put(kind, self.account(), key, body.clone(), Expect::Absent);
                async move { Ok::<_, ApiError>(Planned::Write(batch, ())) }
            })
            .await
            .map_err(Some)?;
        match written {
            Written::Done(()) => {
                self.reload().await;
                Ok(())
            }
            Written::Taken(()) => Err(None),
            Written::Contended => Err(Some(contended())),
            Written::Failed(error) => Err(Some(store_failure(&error))),
        }
    }

    /// Changes the document `(kind, key)` with `change`, which sees the
    /// current version and may refuse; planned again from a fresh read when
    /// another writer got there first ([`ControlPlane::write`]: one writer
    /// at a time on this node, jittered retries across nodes), so no change
    /// is lost. `missing` is the error for a document that does not exist.
    pub async fn update<T, R>(
        &self,
        kind: &str,
        key: &str,
        missing: impl Fn() -> ApiError,
        change: impl FnMut(&mut T) -> Result<R, ApiError>,
    ) -> Result<R, ApiError>
    where
        T: DeserializeOwned + Serialize,
    {
        // Each attempt borrows `change` only between its awaits; the lock
        // lets the attempts (one at a time) share it.
        let change = std::sync::Mutex::new(change);
        let (change, missing) = (&change, &missing);
        let written = self
            .plane
            .write(|| async move {
                let (mut record, version) = self.load::<T>(kind, key).await?.ok_or_else(missing)?;
                let result = {
                    let mut change = change
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    (*change)(&mut record)?
                };
                let body = serde_json::to_value(&record).map_err(|_| damaged(kind, key))?;
                let batch = WriteBatch::new().put(
                    kind,
                    self.account(),
                    key,
                    body,
                    Expect::Version(version),
                );
                Ok::<_, ApiError>(Planned::Write(batch, result))
            })
            .await?;
        match written {
            Written::Done(result) => {
                self.reload().await;
                Ok(result)
            }
            // A versioned put never expects absence; lost every race.
            Written::Taken(_) | Written::Contended => Err(contended()),
            Written::Failed(error) => Err(store_failure(&error)),
        }
    }

    /// Deletes the document `(kind, key)`; `false` if there was none.
    pub async fn delete(&self, kind: &str, key: &str) -> Result<bool, ApiError> {
        let written = self
            .plane
            .write(|| async move {
                let entity = self
                    .plane
                    .store()
                    .get(kind, self.account(), key)
                    .await
                    .map_err(|error| store_failure(&error))?;
                Ok::<_, ApiError>(match entity {
                    None => Planned::Unchanged(false),
                    Some(entity) => Planned::Write(
                        WriteBatch::new().delete(
                            kind,
                            self.account(),
                            key,
                            Expect::Version(entity.version),
                        ),
                        true,
                    ),
                })
            })
            .await?;
        match written {
            Written::Done(deleted) => {
                if deleted {
                    self.reload().await;
                }
                Ok(deleted)
            }
            Written::Taken(_) | Written::Contended => Err(contended()),
            Written::Failed(error) => Err(store_failure(&error)),
        }
    }

    /// A fresh id of `length` characters `[a-z0-9]`.
    pub fn new_id(&self, length: usize) -> Result<String, ApiError> {
        iamgate_iam::ids::new_lowercase_id(length).map_err(|_| {
            Box::new(RestJsonError::service_unavailable(
                "The system random source is unavailable",
            ))
        })
    }

    /// After a write the data plane must serve it before the answer goes
    /// out (a deployment is live when `CreateDeployment` returns).
    async fn reload(&self) {
        if let Err(error) = self.plane.reload().await {
            tracing::error!(%error, "reload after an API Gateway write failed");
        }
    }
}

fn store_failure(error: &StoreError) -> ApiError {
    tracing::error!(%error, "store failure in an API Gateway call");
    Box::new(RestJsonError::service_unavailable(
        "The service is unavailable. Please try again.",
    ))
}

/// Every attempt of a write lost a race with another node's writer.
fn contended() -> ApiError {
    Box::new(RestJsonError::conflict(
        "Another request changed this resource at the same time; try again.",
    ))
}

fn damaged(kind: &str, key: &str) -> ApiError {
    tracing::error!(kind, key, "an API Gateway document in the store is damaged");
    Box::new(RestJsonError::service_unavailable(
        "The service is unavailable. Please try again.",
    ))
}

/// A serde error's message without its input excerpt.
fn error_summary(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.split_once(" at line ") {
        Some((head, _)) => head.to_owned(),
        None => text,
    }
}

/// A response object built member by member, optional members left out
/// when absent (AWS omits them rather than sending `null`).
#[derive(Default)]
pub(crate) struct Shape(serde_json::Map<String, Value>);

impl Shape {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        self.0.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn opt(self, key: &str, value: Option<impl Serialize>) -> Self {
        match value {
            Some(value) => self.set(key, value),
            None => self,
        }
    }

    /// Sets `key` unless `values` is empty.
    pub fn nonempty<T: Serialize>(self, key: &str, values: &[T]) -> Self {
        if values.is_empty() {
            self
        } else {
            self.set(key, values)
        }
    }

    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// A value the shared rules refuse (`iamgate_apimodel::fields`): AWS's
/// `BadRequestException` with the rule's message.
pub(crate) fn refused(invalid: iamgate_apimodel::fields::Invalid) -> ApiError {
    Box::new(RestJsonError::bad_request(invalid.0))
}

/// A route that names no operation: AWS's answer for an unknown URI.
pub(crate) fn unknown_operation() -> ApiError {
    Box::new(RestJsonError::not_found("Invalid request path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_decode_percent_escapes_only() {
        assert_eq!(percent_decode("a%2Fb+c").as_deref(), Some("a/b+c"));
        assert_eq!(
            percent_decode("%7Bproxy%2B%7D").as_deref(),
            Some("{proxy+}")
        );
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None, "not UTF-8");
    }

    #[test]
    fn a_signed_hex_pair_in_a_path_segment_is_a_malformed_escape() {
        // The old decoder read `+1` with `u8::from_str_radix` and found 0x01.
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("a%-1"), None);
    }
}
