//! The control plane's test invoke operations, run by the data plane:
//! `iamgate_control::test_invoke::TestInvoker` implemented with the
//! gateway's own authorizer and integration code
//! (`iamgate_gateway::test_invoke`). The one place the two meet, as
//! everything else in this crate.

use std::sync::Arc;

use iamgate_apimodel::authorizers::LambdaAuthorizer;
use iamgate_apimodel::stored::RestApiRecord;
use iamgate_control::BoxFuture;
use iamgate_control::test_invoke::{AuthorizerTest, MethodTest, TestInvoker, TestRequest};
use iamgate_gateway::dataplane::DataPlane;
use iamgate_gateway::test_invoke as gateway;

/// Test invocations on the server's own data plane (its Lambda endpoint,
/// its TLS trust, its key sets).
pub struct DataPlaneTestInvoker {
    pub data: Arc<DataPlane>,
}

fn simulated(request: &TestRequest) -> gateway::TestRequest {
    gateway::TestRequest {
        path: request.path.clone(),
        query: request.query.clone(),
        headers: request.headers.clone(),
        body: request.body.clone().into_bytes(),
        stage_variables: request
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        additional_context: request
            .additional_context
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

impl TestInvoker for DataPlaneTestInvoker {
    fn invoke_authorizer<'a>(
        &'a self,
        api: &'a RestApiRecord,
        authorizer: &'a LambdaAuthorizer,
        request: &'a TestRequest,
        request_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, AuthorizerTest> {
        Box::pin(async move {
            let outcome = self
                .data
                .test_authorizer(api, authorizer, &simulated(request), request_id, now)
                .await;
            AuthorizerTest {
                client_status: outcome.client_status,
                log: outcome.log,
                latency_ms: outcome.latency_ms,
                principal_id: outcome.principal_id,
                policy: outcome.policy,
                claims: outcome.claims.map(|claims| claims.into_iter().collect()),
            }
        })
    }

    fn invoke_method<'a>(
        &'a self,
        api: &'a RestApiRecord,
        resource_id: &'a str,
        http_method: &'a str,
        request: &'a TestRequest,
        request_id: &'a str,
        now: i64,
    ) -> BoxFuture<'a, MethodTest> {
        Box::pin(async move {
            let outcome = self
                .data
                .test_method(
                    api,
                    resource_id,
                    http_method,
                    &simulated(request),
                    request_id,
                    now,
                )
                .await;
            match outcome {
                Some(outcome) => MethodTest {
                    status: outcome.status,
                    body: outcome.body,
                    headers: outcome.headers,
                    log: outcome.log,
                    latency_ms: outcome.latency_ms,
                },
                // Checked by the control plane before asking; fail closed.
                None => MethodTest {
                    status: 500,
                    body: r#"{"message": "Internal server error"}"#.to_owned(),
                    headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
                    log: "The method or its integration is gone\n".to_owned(),
                    latency_ms: 0,
                },
            }
        })
    }
}
