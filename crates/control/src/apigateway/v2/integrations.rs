//! Integrations: what a route forwards to — an HTTP backend (`HTTP_PROXY`)
//! or a Lambda function (`AWS_PROXY`, payload format 1.0 or 2.0).

use std::collections::BTreeMap;

use iamgate_apimodel::fields;
use iamgate_apimodel::model::ApiFlavour;
use iamgate_apimodel::stored::HttpIntegrationRecord;
use serde::Deserialize;
use serde_json::Value;

use super::super::call::{ApiError, Call, Reply, Shape, refused};
use super::{
    CHILD_ID_LENGTH, bad_request, change_definition, conflict, fresh_id, load_api, not_found, page,
};

/// HTTP APIs' default (and largest) integration timeout: 30 seconds.
fn default_timeout_ms() -> u64 {
    fields::default_timeout_ms(ApiFlavour::Http)
}

const METHODS: &[&str] = fields::METHODS;

fn no_such_integration(integration: &str) -> ApiError {
    not_found(
        format!("Invalid Integration identifier specified {integration}"),
        "Integration",
    )
}

fn is_http_url(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"));
    rest.is_some_and(|host| !host.is_empty() && !host.starts_with('/'))
}

/// A Lambda function ARN, or the `arn:aws:apigateway:…:lambda:path/…`
/// invocation URI around one (the one parser, [`fields::lambda_function`]).
fn is_lambda_uri(uri: &str) -> bool {
    fields::lambda_function(uri).is_some_and(|lambda| lambda.name().is_some())
}

/// Quick create's integration for `target`: an HTTP URL is proxied
/// (`HTTP_PROXY`, payload 1.0), a Lambda function ARN is invoked
/// (`AWS_PROXY`, payload 2.0).
pub(super) fn integration_for_target(
    id: &str,
    target: &str,
) -> Result<HttpIntegrationRecord, ApiError> {
    let (kind, method, payload) = if is_http_url(target) {
        ("HTTP_PROXY", "ANY", "1.0")
    } else if is_lambda_uri(target) {
        ("AWS_PROXY", "POST", "2.0")
    } else {
        return Err(bad_request(format!(
            "Invalid target {target}: an http(s) URL or a Lambda function ARN"
        )));
    };
    let record = HttpIntegrationRecord {
        id: id.to_owned(),
        integration_type: kind.to_owned(),
        integration_uri: Some(target.to_owned()),
        integration_method: Some(method.to_owned()),
        payload_format_version: payload.to_owned(),
        timeout_ms: default_timeout_ms(),
        connection_type: Some("INTERNET".to_owned()),
        description: None,
        mock: None,
        lambda_endpoint: None,
    };
    check_integration(&record)?;
    Ok(record)
}

/// Refuses an integration the data plane would not serve as described.
fn check_integration(record: &HttpIntegrationRecord) -> Result<(), ApiError> {
    let uri = record.integration_uri.as_deref().unwrap_or("");
    fields::uri(uri).map_err(refused)?;
    match record.integration_type.as_str() {
        "HTTP_PROXY" => {
            if !is_http_url(uri) {
                return Err(bad_request(
                    "IntegrationUri of an HTTP_PROXY integration must be an http(s) URL",
                ));
            }
            if record.payload_format_version != "1.0" {
                return Err(bad_request(
                    "PayloadFormatVersion of an HTTP_PROXY integration must be 1.0",
                ));
            }
        }
        "AWS_PROXY" => {
            if !is_lambda_uri(uri) {
                return Err(bad_request(
                    "IntegrationUri of an AWS_PROXY integration must be a Lambda function ARN",
                ));
            }
            if !matches!(record.payload_format_version.as_str(), "1.0" | "2.0") {
                return Err(bad_request("PayloadFormatVersion must be 1.0 or 2.0"));
            }
        }
        "AWS" | "HTTP" | "MOCK" => {
            return Err(bad_request(format!(
                "Integration type {} is only supported for WebSocket APIs",
                record.integration_type
            )));
        }
        other => {
            return Err(bad_request(format!(
                "Invalid integration type {other}: one of AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK"
            )));
        }
    }
    if let Some(method) = &record.integration_method
        && !METHODS.contains(&method.as_str())
    {
        return Err(bad_request(format!("Invalid IntegrationMethod {method}")));
    }
    fields::integration_timeout(ApiFlavour::Http, record.timeout_ms).map_err(refused)?;
    match record.connection_type.as_deref() {
        None | Some("INTERNET") => {}
        Some("VPC_LINK") => {
            return Err(bad_request(
                "VPC_LINK connections are not supported by iamgate",
            ));
        }
        Some(other) => return Err(bad_request(format!("Invalid ConnectionType {other}"))),
    }
    fields::description(record.description.as_deref()).map_err(refused)?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntegrationInput {
    integration_type: Option<String>,
    integration_uri: Option<String>,
    integration_method: Option<String>,
    payload_format_version: Option<String>,
    timeout_in_millis: Option<i64>,
    connection_type: Option<String>,
    description: Option<String>,
    /// Parameter mappings rewrite what reaches the backend; the data plane
    /// does not apply them, so they are refused rather than ignored.
    request_parameters: Option<BTreeMap<String, Value>>,
    response_parameters: Option<BTreeMap<String, Value>>,
    connection_id: Option<String>,
}

impl IntegrationInput {
    fn refuse_unsupported(&self) -> Result<(), ApiError> {
        let mapped = self
            .request_parameters
            .as_ref()
            .is_some_and(|m| !m.is_empty())
            || self
                .response_parameters
                .as_ref()
                .is_some_and(|m| !m.is_empty());
        if mapped {
            return Err(bad_request("Parameter mapping is not supported by iamgate"));
        }
        if self.connection_id.is_some() {
            return Err(bad_request(
                "VPC_LINK connections are not supported by iamgate",
            ));
        }
        Ok(())
    }

    /// Applies the given members to `record`.
    fn apply(&self, record: &mut HttpIntegrationRecord) -> Result<(), ApiError> {
        if let Some(kind) = &self.integration_type {
            record.integration_type = kind.clone();
        }
        if let Some(uri) = &self.integration_uri {
            record.integration_uri = Some(uri.clone());
        }
        if let Some(method) = &self.integration_method {
            record.integration_method = Some(method.clone());
        }
        if let Some(version) = &self.payload_format_version {
            record.payload_format_version = version.clone();
        }
        if let Some(timeout) = self.timeout_in_millis {
            // A negative timeout is out of range like any other:
            // `check_integration` refuses it with the bound's words.
            record.timeout_ms = u64::try_from(timeout).unwrap_or(0);
        }
        if let Some(connection) = &self.connection_type {
            record.connection_type = Some(connection.clone());
        }
        if let Some(description) = &self.description {
            record.description = Some(description.clone());
        }
        Ok(())
    }
}

pub(super) async fn create_integration(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let input: IntegrationInput = call.body()?;
    input.refuse_unsupported()?;
    let kind = input
        .integration_type
        .clone()
        .ok_or_else(|| bad_request("IntegrationType is required"))?;
    let mut template = HttpIntegrationRecord {
        id: String::new(),
        integration_type: kind.clone(),
        integration_uri: None,
        integration_method: Some(if kind == "AWS_PROXY" { "POST" } else { "ANY" }.to_owned()),
        payload_format_version: String::new(),
        timeout_ms: default_timeout_ms(),
        connection_type: Some("INTERNET".to_owned()),
        description: None,
        mock: None,
        lambda_endpoint: None,
    };
    input.apply(&mut template)?;
    if template.payload_format_version.is_empty() {
        if kind == "AWS_PROXY" {
            // HTTP APIs make Lambda callers choose the event shape.
            return Err(bad_request(
                "PayloadFormatVersion is required for AWS_PROXY integrations",
            ));
        }
        template.payload_format_version = "1.0".to_owned();
    }
    let integration = change_definition(call, id, |api| {
        // The API is looked up before the values are read.
        check_integration(&template)?;
        let mut record = template.clone();
        record.id = fresh_id(call, CHILD_ID_LENGTH, |id| {
            api.integrations.contains_key(id)
        })?;
        api.integrations.insert(record.id.clone(), record.clone());
        Ok(record)
    })
    .await?;
    Ok((201, Some(integration_json(&integration))))
}

pub(super) async fn get_integration(call: &Call<'_>, id: &str, integration: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    let record = api
        .integrations
        .get(integration)
        .ok_or_else(|| no_such_integration(integration))?;
    Ok((200, Some(integration_json(record))))
}

pub(super) async fn get_integrations(call: &Call<'_>, id: &str) -> Reply {
    call.authorize()?;
    let api = load_api(call, id).await?;
    page(
        call,
        api.integrations.values().map(integration_json).collect(),
    )
}

pub(super) async fn update_integration(call: &Call<'_>, id: &str, integration: &str) -> Reply {
    call.authorize()?;
    let input: IntegrationInput = call.body()?;
    input.refuse_unsupported()?;
    let record = change_definition(call, id, |api| {
        let record = api
            .integrations
            .get_mut(integration)
            .ok_or_else(|| no_such_integration(integration))?;
        let mut changed = record.clone();
        input.apply(&mut changed)?;
        check_integration(&changed)?;
        *record = changed.clone();
        Ok(changed)
    })
    .await?;
    Ok((200, Some(integration_json(&record))))
}

pub(super) async fn delete_integration(call: &Call<'_>, id: &str, integration: &str) -> Reply {
    call.authorize()?;
    let target = format!("integrations/{integration}");
    change_definition(call, id, |api| {
        if !api.integrations.contains_key(integration) {
            return Err(no_such_integration(integration));
        }
        let users: Vec<&str> = api
            .routes
            .values()
            .filter(|r| r.target.as_deref() == Some(target.as_str()))
            .map(|r| r.route_key.as_str())
            .collect();
        if !users.is_empty() {
            return Err(conflict(format!(
                "Integration {integration} is the target of route(s) {}; change or delete them first",
                users.join(", ")
            )));
        }
        api.integrations.remove(integration);
        Ok(())
    })
    .await?;
    Ok((204, None))
}

/// The `Integration` shape.
fn integration_json(record: &HttpIntegrationRecord) -> Value {
    Shape::new()
        .opt("connectionType", record.connection_type.as_ref())
        .opt("description", record.description.as_ref())
        .set("integrationId", &record.id)
        .opt("integrationMethod", record.integration_method.as_ref())
        .set("integrationType", &record.integration_type)
        .opt("integrationUri", record.integration_uri.as_ref())
        .set("payloadFormatVersion", &record.payload_format_version)
        .set("timeoutInMillis", record.timeout_ms)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_create_targets_choose_the_integration_type() {
        let http = integration_for_target("i", "http://127.0.0.1:8080/base").unwrap();
        assert_eq!(http.integration_type, "HTTP_PROXY");
        assert_eq!(http.payload_format_version, "1.0");
        let lambda =
            integration_for_target("i", "arn:aws:lambda:us-east-1:111122223333:function:f")
                .unwrap();
        assert_eq!(lambda.integration_type, "AWS_PROXY");
        assert_eq!(lambda.payload_format_version, "2.0");
        assert!(integration_for_target("i", "ftp://x").is_err());
        assert!(integration_for_target("i", "http://").is_err());
        assert!(integration_for_target("i", "arn:aws:s3:::bucket").is_err());
    }
}
