//! TestInvokeAuthorizer and TestInvokeMethod: what the control plane asks
//! of whoever can run an API's authorizers and integrations.
//!
//! Why a trait: running an authorizer or an integration is the data
//! plane's work, and the control plane must not depend on the data plane
//! (`docs/architecture.md`). So the control plane names what it needs
//! here, the binary implements it with the gateway's own authorizer and
//! integration code, and hands it over at wiring time
//! ([`crate::ControlPlane::with_test_invoker`]). Both run against the API's
//! current definition, not a deployment, as AWS's test invoke does.

use std::collections::BTreeMap;

use iamgate_apimodel::authorizers::LambdaAuthorizer;
use iamgate_apimodel::stored::RestApiRecord;

use crate::BoxFuture;

/// The simulated request of either operation (`TestInvokeAuthorizerRequest`,
/// `TestInvokeMethodRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestRequest {
    /// The path, without the query string (`/pets/7`).
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// `headers` and `multiValueHeaders`, one pair per value.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub stage_variables: BTreeMap<String, String>,
    /// `additionalContext` (TestInvokeAuthorizer): `$context` variables an
    /// identity source may name.
    pub additional_context: BTreeMap<String, String>,
}

/// What TestInvokeAuthorizer answers (`TestInvokeAuthorizerResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerTest {
    /// The status the client would have received from the authorizer: 200
    /// when it answered, 401 or 500 when it refused or failed.
    pub client_status: u16,
    /// The execution log; never holds a token, a key or the body.
    pub log: String,
    pub latency_ms: u64,
    /// A Lambda authorizer's `principalId`.
    pub principal_id: Option<String>,
    /// A Lambda authorizer's policy document, as JSON text.
    pub policy: Option<String>,
    /// A user pool authorizer's validated claims, each as a string.
    pub claims: Option<BTreeMap<String, String>>,
}

/// What TestInvokeMethod answers (`TestInvokeMethodResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodTest {
    pub status: u16,
    pub body: String,
    /// In the order the integration gave them; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The execution log; never holds a token, a key or the body.
    pub log: String,
    pub latency_ms: u64,
}

/// Runs an API's authorizer or method as the data plane would, for the
/// control plane's test invoke operations.
pub trait TestInvoker: Send + Sync {
    /// Runs `authorizer` of `api` on `request`.
    fn invoke_authorizer<'a>(
        &'a self,
        api: &'a RestApiRecord,
        authorizer: &'a LambdaAuthorizer,
        request: &'a TestRequest,
        request_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, AuthorizerTest>;

    /// Runs method `http_method` of resource `resource_id` of `api` on
    /// `request`, without authorization. The caller has checked that the
    /// method exists and has an integration.
    fn invoke_method<'a>(
        &'a self,
        api: &'a RestApiRecord,
        resource_id: &'a str,
        http_method: &'a str,
        request: &'a TestRequest,
        request_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, MethodTest>;
}
