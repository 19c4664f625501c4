//! TestInvokeAuthorizer (`POST /restapis/{id}/authorizers/{authorizer_id}`)
//! and TestInvokeMethod (`POST /restapis/{id}/resources/{resource_id}/methods/{http_method}`).
//!
//! Both run against the API's current definition (nothing needs to be
//! deployed), through the [`TestInvoker`](crate::test_invoke::TestInvoker)
//! the binary wired in: the data plane's own authorizer and integration
//! code. TestInvokeMethod skips the method's authorization and API key,
//! as AWS's test invoke does; TestInvokeAuthorizer only runs the
//! authorizer and reports what it answered.

use std::collections::BTreeMap;

use iamgate_apimodel::stored::RestApiRecord;
use iamgate_wire::json::RestJsonError;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{load_api, not_found};
use crate::apigateway::call::{ApiError, Call, Reply, Shape};
use crate::test_invoke::{AuthorizerTest, MethodTest, TestInvoker, TestRequest};

/// The members both requests share (`TestInvokeAuthorizerRequest`,
/// `TestInvokeMethodRequest`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TestInput {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
    /// `additionalContext` (TestInvokeAuthorizer). TestInvokeMethod's
    /// `clientCertificateId` is accepted and ignored: iamgate keeps no
    /// client certificates.
    #[serde(default)]
    additional_context: BTreeMap<String, String>,
}

impl TestInput {
    /// The simulated request; `default_path` when the call names none.
    fn request(self, default_path: &str) -> TestRequest {
        let target = self
            .path_with_query_string
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| default_path.to_owned());
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), query.to_owned()),
            None => (target, String::new()),
        };
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        // `multiValueHeaders` carries every value of a header it names;
        // `headers` adds the ones it does not.
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, values) in &self.multi_value_headers {
            for value in values {
                headers.push((name.clone(), value.clone()));
            }
        }
        for (name, value) in self.headers {
            if !self
                .multi_value_headers
                .keys()
                .any(|n| n.eq_ignore_ascii_case(&name))
            {
                headers.push((name, value));
            }
        }
        TestRequest {
            path,
            query,
            headers,
            body: self.body.unwrap_or_default(),
            stage_variables: self.stage_variables,
            additional_context: self.additional_context,
        }
    }
}

/// The wired test invoker; none is a server error (never a pass).
fn invoker<'c>(call: &'c Call<'_>) -> Result<&'c dyn TestInvoker, ApiError> {
    call.plane
        .test_invoker()
        .map(|invoker| invoker.as_ref())
        .ok_or_else(|| {
            Box::new(RestJsonError::new(
                "ServiceUnavailableException",
                503,
                "Test invoke is not available on this server",
            ))
        })
}

/// AWS's answer for a resource id the API does not have.
fn no_such_resource() -> ApiError {
    not_found("Invalid Resource identifier specified")
}

/// AWS's answer for a method the resource does not have.
fn no_such_method() -> ApiError {
    not_found("Invalid Method identifier specified")
}

/// TestInvokeAuthorizer.
pub(super) async fn authorizer(call: &Call<'_>, api: &str, id: &str) -> Reply {
    call.authorize()?;
    let input: TestInput = call.body()?;
    let record = load_api(call, api).await?;
    let authorizer = record
        .authorizers
        .get(id)
        .ok_or_else(super::authorizers::no_such_authorizer)?;
    let invoker = invoker(call)?;
    let request = input.request("/");
    let tested = invoker
        .invoke_authorizer(&record, authorizer, &request, &call.request_id, call.now)
        .await;
    Ok((200, Some(authorizer_json(&tested))))
}

/// The `TestInvokeAuthorizerResponse` shape.
fn authorizer_json(tested: &AuthorizerTest) -> Value {
    Shape::new()
        .set("clientStatus", tested.client_status)
        .set("log", &tested.log)
        .set("latency", tested.latency_ms)
        .opt("principalId", tested.principal_id.as_ref())
        .opt("policy", tested.policy.as_ref())
        .opt("claims", tested.claims.as_ref())
        .build()
}

/// TestInvokeMethod.
pub(super) async fn method(
    call: &Call<'_>,
    api: &str,
    resource_id: &str,
    http_method: &str,
) -> Reply {
    call.authorize()?;
    let input: TestInput = call.body()?;
    let record = load_api(call, api).await?;
    let resource = record
        .resources
        .get(resource_id)
        .ok_or_else(no_such_resource)?;
    let method = resource
        .methods
        .get(http_method)
        .ok_or_else(no_such_method)?;
    let request = input.request(&resource.path);
    if method.integration.is_none() {
        return Ok((200, Some(method_json(&no_integration(&record, &request)))));
    }
    let invoker = invoker(call)?;
    let tested = invoker
        .invoke_method(
            &record,
            resource_id,
            http_method,
            &request,
            &call.request_id,
            call.now,
        )
        .await;
    Ok((200, Some(method_json(&tested))))
}

/// What a method without an integration answers: AWS's configuration
/// error, as the data plane would give it.
fn no_integration(api: &RestApiRecord, request: &TestRequest) -> MethodTest {
    MethodTest {
        status: 500,
        body: r#"{"message": "Internal server error"}"#.to_owned(),
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "x-amzn-ErrorType".to_owned(),
                "InternalServerErrorException".to_owned(),
            ),
        ],
        log: format!(
            "Test invoke of {} {}: Execution failed due to configuration error: No integration defined for method\n",
            api.id, request.path
        ),
        latency_ms: 0,
    }
}

/// The `TestInvokeMethodResponse` shape: `headers` holds each header's
/// last value, `multiValueHeaders` all of them.
fn method_json(tested: &MethodTest) -> Value {
    let mut single = Map::new();
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &tested.headers {
        single.insert(name.clone(), Value::String(value.clone()));
        multi.entry(name.clone()).or_default().push(value.clone());
    }
    Shape::new()
        .set("status", tested.status)
        .set("body", &tested.body)
        .set("headers", single)
        .set("multiValueHeaders", multi)
        .set("log", &tested.log)
        .set("latency", tested.latency_ms)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_splits_the_query_and_merges_single_and_multi_value_headers() {
        let input = TestInput {
            path_with_query_string: Some("pets/7?a=1&b=2".into()),
            headers: BTreeMap::from([
                ("X-One".to_owned(), "1".to_owned()),
                ("x-many".to_owned(), "ignored".to_owned()),
            ]),
            multi_value_headers: BTreeMap::from([(
                "X-Many".to_owned(),
                vec!["a".to_owned(), "b".to_owned()],
            )]),
            ..TestInput::default()
        };
        let request = input.request("/ignored");
        assert_eq!(request.path, "/pets/7");
        assert_eq!(request.query, "a=1&b=2");
        assert_eq!(
            request.headers,
            vec![
                ("X-Many".to_owned(), "a".to_owned()),
                ("X-Many".to_owned(), "b".to_owned()),
                ("X-One".to_owned(), "1".to_owned()),
            ]
        );
        assert_eq!(TestInput::default().request("/pets").path, "/pets");
    }

    #[test]
    fn method_answers_keep_every_value_in_multi_value_headers_and_the_last_in_headers() {
        let json = method_json(&MethodTest {
            status: 201,
            body: "ok".into(),
            headers: vec![
                ("Set-Cookie".into(), "a=1".into()),
                ("Set-Cookie".into(), "b=2".into()),
            ],
            log: "log".into(),
            latency_ms: 3,
        });
        assert_eq!(json["status"], 201);
        assert_eq!(json["headers"]["Set-Cookie"], "b=2");
        assert_eq!(
            json["multiValueHeaders"]["Set-Cookie"],
            serde_json::json!(["a=1", "b=2"])
        );
        assert_eq!(json["latency"], 3);
    }
}
