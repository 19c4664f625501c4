//! A REST stage's customized gateway responses, applied to the gateway's
//! own errors (developer guide, "Gateway responses in API Gateway").
//!
//! Why after the fact: every phase builds AWS's default error
//! ([`crate::responses`]) and tags it with its response type; only then,
//! once, is the deployed customization looked up — the error's own type,
//! else `DEFAULT_4XX` or `DEFAULT_5XX` by its status — and applied. So an
//! uncustomized stage answers byte for byte as before, the decision record
//! and the access log are untouched (they record the decision, not the
//! body), and no phase needs to know about customizations.
//!
//! A customization may override the status, add headers mapped from the
//! method request (`method.request.header|querystring|path.*`), stage
//! variables, `$context` or static values, and replace the body with a
//! template rendered by the same Velocity engine as mapping templates,
//! with `$context.error.message`, `messageString` (the message as a JSON
//! string), `responseType` and `validationErrorString`. A template that
//! fails to render is AWS's 500, never a partial body.

use iamgate_apimodel::gateway_responses::{
    DEFAULT_CONTENT_TYPE, DEFAULT_TEMPLATE, GatewayResponses, ResponseType,
};
use iamgate_apimodel::mapping::MappingTemplate;
use iamgate_vtl::{Inputs, Value};

use crate::mapping::{request_source, response_template};
use crate::responses::{GatewayResponse, message_of, rest_internal_failure};

/// `response` as the stage's customizations answer it; unchanged when it
/// is not a gateway error or nothing customizes its type. `inputs` (the
/// method request, stage variables and `$context`) is built only when a
/// customization applies.
pub fn customize(
    response: GatewayResponse,
    customizations: &GatewayResponses,
    accept: Option<&str>,
    inputs: impl FnOnce() -> Inputs,
) -> GatewayResponse {
    let Some(kind) = response.response_type else {
        return response;
    };
    let Some(custom) = customizations
        .get(&kind)
        .or_else(|| customizations.get(&ResponseType::fallback(response.status)))
    else {
        return response;
    };
    let request_id = response
        .header("x-amzn-RequestId")
        .unwrap_or_default()
        .to_owned();
    let mut inputs = inputs();
    inputs.body = String::new();
    let message = message_of(&response.body);
    inputs.context.insert(
        "error".to_owned(),
        Value::map([
            (
                "messageString",
                Value::from(serde_json::Value::String(message.clone()).to_string()),
            ),
            ("message", Value::from(message)),
            ("responseType", Value::from(kind.name())),
            ("validationErrorString", Value::from("")),
        ]),
    );
    let templates: Vec<(String, MappingTemplate)> = if custom.response_templates.is_empty() {
        match MappingTemplate::parse(DEFAULT_CONTENT_TYPE, DEFAULT_TEMPLATE) {
            Ok(template) => vec![(DEFAULT_CONTENT_TYPE.to_owned(), template)],
            Err(_) => return rest_internal_failure(&request_id),
        }
    } else {
        custom
            .response_templates
            .iter()
            .map(|(content_type, template)| (content_type.clone(), template.clone()))
            .collect()
    };
    let Some((content_type, template)) = response_template(&templates, accept) else {
        return rest_internal_failure(&request_id);
    };
    let Ok(rendered) = template.template().render(&inputs) else {
        return rest_internal_failure(&request_id);
    };
    let mut headers: Vec<(String, String)> = response
        .headers
        .into_iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
        .collect();
    headers.insert(0, ("Content-Type".to_owned(), content_type.clone()));
    for (key, source) in &custom.response_parameters {
        let Some(name) = key.strip_prefix("gatewayresponse.header.") else {
            continue;
        };
        if let Some(value) = request_source(source, &inputs) {
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value));
        }
    }
    GatewayResponse {
        status: custom.status_code.unwrap_or(response.status),
        headers,
        body: rendered.body,
        response_type: Some(kind),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use iamgate_apimodel::gateway_responses::CustomGatewayResponse;
    use iamgate_vtl::Map;

    use super::*;
    use crate::responses::{rest_integration_timeout, rest_missing_authentication_token};

    fn custom(
        kind: &str,
        status: Option<&str>,
        parameters: &[(&str, &str)],
        templates: &[(&str, &str)],
    ) -> GatewayResponses {
        let response = CustomGatewayResponse::new(
            kind,
            status,
            parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            &templates
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .unwrap();
        BTreeMap::from([(response.response_type, response)])
    }

    fn inputs() -> Inputs {
        let mut context = Map::new();
        context.insert("requestId".to_owned(), Value::from("rid-1"));
        context.insert("stage".to_owned(), Value::from("prod"));
        Inputs {
            body: "the request body".to_owned(),
            path: vec![("petId".to_owned(), "42".to_owned())],
            querystring: vec![("q".to_owned(), "dogs".to_owned())],
            header: vec![("X-Trace".to_owned(), "abc".to_owned())],
            context,
            stage_variables: vec![("team".to_owned(), "blue".to_owned())],
        }
    }

    #[test]
    fn without_a_customization_the_default_answer_is_unchanged() {
        let default = rest_missing_authentication_token("rid-1");
        let unrelated = custom("ACCESS_DENIED", Some("401"), &[], &[]);
        assert_eq!(
            customize(default.clone(), &unrelated, None, inputs),
            default
        );
        assert_eq!(
            customize(
                default.clone(),
                &GatewayResponses::new(),
                None,
                || unreachable!()
            ),
            default
        );
    }

    #[test]
    fn an_integration_answer_is_never_customized() {
        let answer = GatewayResponse {
            status: 403,
            headers: vec![],
            body: "from the backend".into(),
            response_type: None,
        };
        let all_4xx = custom("DEFAULT_4XX", Some("418"), &[], &[]);
        assert_eq!(customize(answer.clone(), &all_4xx, None, inputs), answer);
    }

    #[test]
    fn status_headers_and_template_replace_the_default() {
        let customizations = custom(
            "MISSING_AUTHENTICATION_TOKEN",
            Some("404"),
            &[
                ("gatewayresponse.header.X-Static", "'a.b.c'"),
                (
                    "gatewayresponse.header.X-Trace",
                    "method.request.header.x-trace",
                ),
                ("gatewayresponse.header.X-Pet", "method.request.path.petId"),
                ("gatewayresponse.header.X-Q", "method.request.querystring.q"),
                ("gatewayresponse.header.X-Team", "stageVariables.team"),
                ("gatewayresponse.header.X-Req", "context.requestId"),
                (
                    "gatewayresponse.header.X-Absent",
                    "method.request.header.nope",
                ),
            ],
            &[(
                "application/json",
                r#"{"error":$context.error.messageString,"raw":"$context.error.message","type":"$context.error.responseType","stage":"$context.stage"}"#,
            )],
        );
        let answer = customize(
            rest_missing_authentication_token("rid-1"),
            &customizations,
            None,
            inputs,
        );
        assert_eq!(answer.status, 404);
        assert_eq!(
            answer.body,
            r#"{"error":"Missing Authentication Token","raw":"Missing Authentication Token","type":"MISSING_AUTHENTICATION_TOKEN","stage":"prod"}"#
        );
        for (name, value) in [
            ("X-Static", "a.b.c"),
            ("X-Trace", "abc"),
            ("X-Pet", "42"),
            ("X-Q", "dogs"),
            ("X-Team", "blue"),
            ("X-Req", "rid-1"),
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", "rid-1"),
            ("x-amzn-ErrorType", "MissingAuthenticationTokenException"),
        ] {
            assert_eq!(answer.header(name), Some(value), "{name}");
        }
        assert_eq!(answer.header("X-Absent"), None);
    }

    #[test]
    fn the_catch_all_applies_by_status_and_keeps_the_error_status_without_its_own() {
        let all_4xx = custom(
            "DEFAULT_4XX",
            None,
            &[("gatewayresponse.header.Access-Control-Allow-Origin", "'*'")],
            &[],
        );
        let answer = customize(
            rest_missing_authentication_token("rid-1"),
            &all_4xx,
            None,
            inputs,
        );
        assert_eq!(answer.status, 403);
        assert_eq!(answer.header("Access-Control-Allow-Origin"), Some("*"));
        assert_eq!(answer.body, r#"{"message":"Missing Authentication Token"}"#);
        let timeout = rest_integration_timeout("rid-1");
        assert_eq!(customize(timeout.clone(), &all_4xx, None, inputs), timeout);
        let all_5xx = custom(
            "DEFAULT_5XX",
            None,
            &[],
            &[("text/plain", "down: $context.error.message")],
        );
        let answer = customize(timeout, &all_5xx, None, inputs);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (504, "down: Endpoint request timed out")
        );
        assert_eq!(answer.header("Content-Type"), Some("text/plain"));
    }

    #[test]
    fn the_specific_type_wins_over_the_catch_all() {
        let mut both = custom("DEFAULT_4XX", Some("400"), &[], &[]);
        both.extend(custom(
            "MISSING_AUTHENTICATION_TOKEN",
            Some("404"),
            &[],
            &[],
        ));
        let answer = customize(rest_missing_authentication_token("r"), &both, None, inputs);
        assert_eq!(answer.status, 404);
    }

    #[test]
    fn the_template_is_chosen_by_accept() {
        let customizations = custom(
            "DEFAULT_4XX",
            None,
            &[],
            &[
                ("application/json", r#"{"m":1}"#),
                ("application/xml", "<m/>"),
            ],
        );
        let xml = customize(
            rest_missing_authentication_token("r"),
            &customizations,
            Some("application/xml"),
            inputs,
        );
        assert_eq!(
            (xml.body.as_str(), xml.header("Content-Type")),
            ("<m/>", Some("application/xml"))
        );
        let json = customize(
            rest_missing_authentication_token("r"),
            &customizations,
            None,
            inputs,
        );
        assert_eq!(json.body, r#"{"m":1}"#);
    }

    #[test]
    fn a_template_that_fails_to_render_is_aws_500() {
        let broken = custom(
            "DEFAULT_4XX",
            None,
            &[],
            &[("application/json", "$util.base64Decode('%%%')")],
        );
        let answer = customize(
            rest_missing_authentication_token("rid-9"),
            &broken,
            None,
            inputs,
        );
        assert_eq!(answer.status, 500);
        assert_eq!(answer.body, r#"{"message": "Internal server error"}"#);
        assert_eq!(answer.header("x-amzn-RequestId"), Some("rid-9"));
    }
}
