//! REST MOCK and HTTP (non-proxy) integrations: the request template
//! chosen by Content-Type (or the passthrough rule), the backend — none
//! for MOCK, whose status is the rendered template's `statusCode` — the
//! integration response whose `selectionPattern` matches the status (the
//! default one otherwise), its template and its header mappings.
//!
//! Why here and not in the model: rendering needs the request, the caller
//! and the backend's answer; the model ([`iamgate_apimodel::mapping`])
//! only guarantees that every template parsed and every mapping source is
//! one this module fills. A template that fails to render is AWS's 500,
//! never a partial body.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use iamgate_apimodel::fields;
use iamgate_apimodel::mapping::{
    Backend, Mapped, MappedResponse, MappingTemplate, Passthrough, mock_status,
};
use iamgate_vtl::{Inputs, Map, Value};

use crate::integration::{
    Answer, EventContext, Forwarded, HOP_BY_HOP, IntegrationFailure, Integrations, decode,
    query_pairs, remap_reserved_headers, text,
};

/// The media type a request declares, lower-cased, without parameters;
/// API Gateway reads a request without Content-Type as JSON.
fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

fn header_value<'h>(headers: &'h [(&str, &[u8])], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// `$context` as API Gateway fills it for a REST API: the API, stage,
/// resource and request, and `identity` — the authenticated IAM caller's
/// account, ids, ARN and access key, or empty strings for an anonymous one,
/// and the mutual-TLS client certificate when there is one.
pub fn context_map(request: &Forwarded<'_>, context: &EventContext<'_>) -> Map {
    let user_agent = header_value(request.headers, "user-agent")
        .map(text)
        .unwrap_or_default();
    let source_ip = request.source_ip.clone().unwrap_or_default();
    let (account, caller_id, arn) = match context.caller {
        Some(caller) => (caller.account().to_owned(), caller.user_id(), caller.arn()),
        None => (String::new(), String::new(), String::new()),
    };
    let mut identity = vec![
        ("accountId", Value::from(account)),
        ("caller", Value::from(caller_id.clone())),
        ("user", Value::from(caller_id)),
        ("userArn", Value::from(arn)),
        (
            "accessKey",
            Value::from(context.access_key_id.unwrap_or_default()),
        ),
        ("sourceIp", Value::from(source_ip)),
        ("userAgent", Value::from(user_agent)),
        // iamgate's world has no organizations.
        ("principalOrgId", Value::from("")),
        ("apiKey", Value::from("")),
        ("apiKeyId", Value::from("")),
        ("cognitoIdentityPoolId", Value::from("")),
        ("cognitoIdentityId", Value::from("")),
        ("cognitoAuthenticationType", Value::from("")),
        ("cognitoAuthenticationProvider", Value::from("")),
    ];
    if let Some(cert) = context.client_cert {
        identity.push(("clientCert", cert.to_template_value()));
    }
    let identity = Value::map(identity);
    let host = header_value(request.headers, "host")
        .map(text)
        .unwrap_or_default();
    let prefix = host.split('.').next().unwrap_or_default().to_owned();
    [
        ("accountId", Value::from(context.account)),
        ("apiId", Value::from(context.api_id)),
        ("stage", Value::from(context.stage)),
        ("resourcePath", Value::from(context.template)),
        ("httpMethod", Value::from(request.method)),
        (
            "path",
            Value::from(format!("/{}{}", context.stage, request.path)),
        ),
        ("protocol", Value::from("HTTP/1.1")),
        ("requestId", Value::from(context.request_id)),
        ("extendedRequestId", Value::from(context.request_id)),
        ("requestTimeEpoch", Value::from(context.now_millis)),
        (
            "requestTime",
            Value::from(iamgate_wire::Timestamp::from_epoch_millis(context.now_millis).to_clf()),
        ),
        ("domainName", Value::from(host)),
        ("domainPrefix", Value::from(prefix)),
        ("identity", identity),
        ("authorizer", authorizer_map(context)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `$context.authorizer`: a Lambda authorizer's `principalId` and the
/// members of its `context` (empty without one).
fn authorizer_map(context: &EventContext<'_>) -> Value {
    let Some(authorized) = context.authorizer else {
        return Value::Map(Default::default());
    };
    let mut fields = authorized.context.clone();
    if let Some(token) = &authorized.token {
        // `$context.authorizer.claims.*` of a Cognito user pool authorizer.
        fields.insert(
            "claims".into(),
            serde_json::Value::Object(token.claims.clone()),
        );
    }
    if let Some(principal) = &authorized.principal_id {
        fields.insert(
            "principalId".into(),
            serde_json::Value::String(principal.clone()),
        );
    }
    Value::from_json(&serde_json::Value::Object(fields).to_string())
        .unwrap_or_else(|_| Value::Map(Default::default()))
}

/// What a template reads of the method request; `body` is swapped for the
/// backend's body when a response template renders.
pub(crate) fn inputs(request: &Forwarded<'_>, context: &EventContext<'_>) -> Inputs {
    Inputs {
        body: String::from_utf8_lossy(request.body).into_owned(),
        path: context
            .params
            .iter()
            .map(|(k, v)| (k.clone(), decode(v)))
            .collect(),
        querystring: query_pairs(request.query),
        header: request
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), text(v)))
            .collect(),
        context: context_map(request, context),
        stage_variables: context.stage_variables.to_vec(),
    }
}

fn lookup<'v>(pairs: &'v [(String, String)], name: &str, any_case: bool) -> Option<&'v str> {
    pairs
        .iter()
        .find(|(k, _)| {
            if any_case {
                k.eq_ignore_ascii_case(name)
            } else {
                k == name
            }
        })
        .map(|(_, v)| v.as_str())
}

/// `context.a.b` read from `$context`; strings as they are, other values
/// as JSON, null as nothing.
fn context_value(context: &Map, dotted: &str) -> Option<String> {
    let mut parts = dotted.split('.');
    let mut value = context.get(parts.next()?)?;
    for part in parts {
        match value {
            Value::Map(map) => value = map.get(part)?,
            _ => return None,
        }
    }
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_json()),
    }
}

/// The value of one request mapping source, or `None` when the request
/// has none (the parameter is then left out, as on AWS).
pub(crate) fn request_source(source: &str, inputs: &Inputs) -> Option<String> {
    if let Some(literal) = fields::static_value(source) {
        return Some(literal.to_owned());
    }
    if let Some(name) = source.strip_prefix("method.request.path.") {
        return lookup(&inputs.path, name, false).map(str::to_owned);
    }
    if let Some(name) = source.strip_prefix("method.request.querystring.") {
        return lookup(&inputs.querystring, name, false).map(str::to_owned);
    }
    if let Some(name) = source.strip_prefix("method.request.header.") {
        return lookup(&inputs.header, name, true).map(str::to_owned);
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return lookup(&inputs.stage_variables, name, false).map(str::to_owned);
    }
    context_value(&inputs.context, source.strip_prefix("context.")?)
}

/// Percent-encodes all but RFC 3986's unreserved characters (and `/`
/// when `keep_slash`: a greedy path parameter spans segments).
fn encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Replaces `${stageVariables.name}` in `text` with the stage's values
/// (an unknown name with nothing).
fn with_stage_variables(text: &str, variables: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest
            .get(start + "${stageVariables.".len()..)
            .unwrap_or_default();
        let Some(end) = after.find('}') else {
            out.push_str(rest.get(start..).unwrap_or_default());
            return out;
        };
        let name = after.get(..end).unwrap_or_default();
        out.push_str(lookup(variables, name, false).unwrap_or_default());
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The template for `media_type` among `templates`, matched without case.
fn template_for<'t>(
    templates: &'t [(String, MappingTemplate)],
    media_type: &str,
) -> Option<&'t (String, MappingTemplate)> {
    templates
        .iter()
        .find(|(content_type, _)| content_type.eq_ignore_ascii_case(media_type))
}

/// The response template the caller's Accept header asks for; else the
/// `application/json` one; else the first.
pub(crate) fn response_template<'t>(
    templates: &'t [(String, MappingTemplate)],
    accept: Option<&str>,
) -> Option<&'t (String, MappingTemplate)> {
    accept
        .into_iter()
        .flat_map(|accept| accept.split(','))
        .find_map(|wanted| template_for(templates, &media_type(Some(wanted))))
        .or_else(|| template_for(templates, "application/json"))
        .or_else(|| templates.first())
}

/// The integration response for `status`: the first whose selection
/// pattern matches the whole status code, else the default one.
pub fn select_response<'m>(
    responses: &'m [MappedResponse],
    status: &str,
) -> Option<&'m MappedResponse> {
    responses
        .iter()
        .find(|r| {
            r.selection_pattern
                .as_ref()
                .is_some_and(|p| p.matches(status))
        })
        .or_else(|| responses.iter().find(|r| r.selection_pattern.is_none()))
}

/// A JSON expression of a response mapping (`integration.response.body.a.b[0]`,
/// without the `$`) over `body`: strings as they are, other values as JSON.
fn body_value(body: &[u8], path: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        if !name.is_empty() {
            value = value.get_mut(name)?.take();
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            let index: usize = index.strip_suffix(']')?.parse().ok()?;
            value = value.get_mut(index)?.take();
        }
    }
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

/// The value of one response mapping source.
fn response_source(source: &str, answer: &Answer, inputs: &Inputs) -> Option<String> {
    if let Some(literal) = fields::static_value(source) {
        return Some(literal.to_owned());
    }
    if let Some(name) = source.strip_prefix("integration.response.header.") {
        return lookup(&answer.headers, name, true).map(str::to_owned);
    }
    if source == "integration.response.body" {
        return Some(String::from_utf8_lossy(&answer.body).into_owned());
    }
    if let Some(path) = source.strip_prefix("integration.response.body.") {
        return body_value(&answer.body, path);
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return lookup(&inputs.stage_variables, name, false).map(str::to_owned);
    }
    context_value(&inputs.context, source.strip_prefix("context.")?)
}

/// Sets `name` in `headers`, replacing a value of the same name.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value));
}

impl Integrations {
    /// Runs a MOCK or HTTP (non-proxy) integration.
    pub(crate) async fn call_mapped(
        &self,
        mapped: &Mapped,
        request: &Forwarded<'_>,
        context: &EventContext<'_>,
    ) -> Result<Answer, IntegrationFailure> {
        let mut inputs = inputs(request, context);
        let media_type = media_type(
            header_value(request.headers, "content-type")
                .map(text)
                .as_deref(),
        );
        let (body, content_type, overrides) =
            match template_for(&mapped.request_templates, &media_type) {
                Some((content_type, template)) => {
                    let rendered = template
                        .template()
                        .render(&inputs)
                        .map_err(|_| IntegrationFailure::Mapping)?;
                    (
                        rendered.body.into_bytes(),
                        content_type.clone(),
                        rendered.overrides,
                    )
                }
                None => {
                    let passes = match mapped.passthrough {
                        Passthrough::WhenNoMatch => true,
                        Passthrough::WhenNoTemplates => mapped.request_templates.is_empty(),
                        Passthrough::Never => false,
                    };
                    if !passes {
                        return Err(IntegrationFailure::UnsupportedMediaType);
                    }
                    (request.body.to_vec(), media_type, Default::default())
                }
            };
        let answer = match &mapped.backend {
            Backend::Mock => Answer {
                status: mock_status(&String::from_utf8_lossy(&body))
                    .ok_or(IntegrationFailure::Mapping)?,
                headers: Vec::new(),
                body: Vec::new(),
            },
            Backend::Http {
                method,
                uri,
                timeout_ms,
            } => {
                let (mut path, mut query, mut headers) = (Vec::new(), Vec::new(), Vec::new());
                for (key, source) in &mapped.request_parameters {
                    let Some(value) = request_source(source, &inputs) else {
                        continue;
                    };
                    let target = key.strip_prefix("integration.request.").unwrap_or(key);
                    if let Some(name) = target.strip_prefix("path.") {
                        path.push((name.to_owned(), value));
                    } else if let Some(name) = target.strip_prefix("querystring.") {
                        query.push((name.to_owned(), value));
                    } else if let Some(name) = target.strip_prefix("header.") {
                        headers.push((name.to_owned(), value));
                    }
                }
                path.extend(overrides.request_path);
                query.extend(overrides.request_querystring);
                set_header(&mut headers, "Content-Type", content_type);
                for (name, value) in overrides.request_header {
                    set_header(&mut headers, &name, value);
                }
                let mut target = with_stage_variables(uri, &inputs.stage_variables);
                // The last value set for a name wins (overrides come last).
                for (name, value) in path.iter().rev() {
                    target = target
                        .replace(&format!("{{{name}+}}"), &encode(value, true))
                        .replace(&format!("{{{name}}}"), &encode(value, false));
                }
                for (index, (name, value)) in query.iter().enumerate() {
                    let separator = if index == 0 && !target.contains('?') {
                        '?'
                    } else {
                        '&'
                    };
                    target.push(separator);
                    target.push_str(&encode(name, false));
                    target.push('=');
                    target.push_str(&encode(value, false));
                }
                let method = if method == "ANY" {
                    request.method
                } else {
                    method
                };
                let mut builder = hyper::Request::builder().method(method).uri(target);
                // The framing of the request to the backend is the
                // gateway's, whatever a mapping or override says.
                headers
                    .retain(|(name, _)| !HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name)));
                for (name, value) in &headers {
                    if !fields::is_header_name(name) || !fields::is_header_value(value) {
                        return Err(IntegrationFailure::Mapping);
                    }
                    builder = builder.header(name, value);
                }
                let outgoing = builder
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|_| IntegrationFailure::Mapping)?;
                self.send(outgoing, Duration::from_millis(*timeout_ms))
                    .await?
            }
        };
        respond(mapped, answer, request, &mut inputs)
    }
}

/// The method response made of the integration's answer: the selected
/// integration response's status, template and header mappings.
fn respond(
    mapped: &Mapped,
    answer: Answer,
    request: &Forwarded<'_>,
    inputs: &mut Inputs,
) -> Result<Answer, IntegrationFailure> {
    let response = select_response(&mapped.responses, &answer.status.to_string())
        .ok_or(IntegrationFailure::Mapping)?;
    let mut headers = Vec::new();
    for (name, source) in &response.parameters {
        if let Some(value) = response_source(source, &answer, inputs) {
            set_header(&mut headers, name, value);
        }
    }
    let accept = header_value(request.headers, "accept").map(text);
    let mut status = response.status;
    let body = match response_template(&response.templates, accept.as_deref()) {
        Some((content_type, template)) => {
            inputs.body = String::from_utf8_lossy(&answer.body).into_owned();
            let rendered = template
                .template()
                .render(inputs)
                .map_err(|_| IntegrationFailure::Mapping)?;
            set_header(&mut headers, "Content-Type", content_type.clone());
            for (name, value) in rendered.overrides.response_header {
                set_header(&mut headers, &name, value);
            }
            if let Some(overridden) = rendered.overrides.response_status {
                status = overridden
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .ok_or(IntegrationFailure::Mapping)?;
            }
            rendered.body.into_bytes()
        }
        None => {
            if let Some(content_type) = lookup(&answer.headers, "content-type", true)
                && !headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".to_owned(), content_type.to_owned()));
            }
            answer.body
        }
    };
    // A mapped header no HTTP response may carry would make the answer
    // unsendable: AWS's 500 instead.
    if headers
        .iter()
        .any(|(n, v)| !fields::is_header_name(n) || !fields::is_header_value(v))
    {
        return Err(IntegrationFailure::Mapping);
    }
    Ok(Answer {
        status,
        headers: remap_reserved_headers(headers),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(content_type: &str, text: &str) -> (String, MappingTemplate) {
        (
            content_type.to_owned(),
            MappingTemplate::parse(content_type, text).unwrap(),
        )
    }

    #[test]
    fn stage_variables_fill_the_uri_and_unknown_ones_are_empty() {
        let variables = vec![("host".to_owned(), "127.0.0.1:9".to_owned())];
        assert_eq!(
            with_stage_variables(
                "http://${stageVariables.host}/a/${stageVariables.none}b",
                &variables
            ),
            "http://127.0.0.1:9/a/b"
        );
        assert_eq!(
            with_stage_variables("http://h/${stageVariables.unclosed", &variables),
            "http://h/${stageVariables.unclosed"
        );
    }

    #[test]
    fn mapped_values_are_percent_encoded_into_the_uri() {
        assert_eq!(encode("a b/c?d=é", false), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(encode("a b/c", true), "a%20b/c");
    }

    #[test]
    fn a_body_mapping_reads_names_and_indexes_and_gives_json_for_non_strings() {
        let body = br#"{"a": {"b": [{"c": "x"}, 2]}, "n": null}"#;
        assert_eq!(body_value(body, "a.b[0].c").as_deref(), Some("x"));
        assert_eq!(body_value(body, "a.b[1]").as_deref(), Some("2"));
        assert_eq!(body_value(body, "a.b[0]").as_deref(), Some(r#"{"c":"x"}"#));
        assert_eq!(body_value(body, "n"), None);
        assert_eq!(body_value(body, "missing"), None);
        assert_eq!(body_value(b"not json", "a"), None);
    }

    #[test]
    fn the_response_template_follows_accept_then_json_then_the_first() {
        let templates = vec![
            template("application/xml", "<x/>"),
            template("application/json", "{}"),
        ];
        let chosen = |accept: Option<&str>| {
            response_template(&templates, accept).map(|(content_type, _)| content_type.as_str())
        };
        assert_eq!(
            chosen(Some("text/html, application/XML;q=0.9")),
            Some("application/xml")
        );
        assert_eq!(chosen(Some("text/html")), Some("application/json"));
        assert_eq!(chosen(None), Some("application/json"));
        let only_xml = vec![template("application/xml", "<x/>")];
        assert_eq!(
            response_template(&only_xml, None).map(|(c, _)| c.as_str()),
            Some("application/xml")
        );
    }

    #[test]
    fn the_request_media_type_ignores_parameters_and_case_and_defaults_to_json() {
        assert_eq!(
            media_type(Some("Application/JSON; charset=utf-8")),
            "application/json"
        );
        assert_eq!(media_type(Some("  ")), "application/json");
        assert_eq!(media_type(None), "application/json");
        assert_eq!(media_type(Some("text/plain")), "text/plain");
    }
}
