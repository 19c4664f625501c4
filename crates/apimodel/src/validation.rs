//! A REST API's models and request validators, and what a method asks of
//! a request before its integration runs.
//!
//! A model is a JSON Schema (draft 4) for one content type
//! ([`crate::json_schema`]); a request validator says whether a method's
//! required request parameters, its body, or both are checked. A method
//! names a validator (`requestValidatorId`) and a model per content type
//! (`requestModels`). [`RestModel::new`] and [`RequestValidator::new`] are
//! the one validating constructors every front door (the control plane,
//! OpenAPI import, the world file through OpenAPI) builds them with.
//!
//! A deployment freezes what a method checks ([`MethodRequest`]): the
//! validator's switches, the required parameters and the models the
//! method names with those they refer to, so editing a model changes
//! nothing until the next deployment, as on AWS.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fields::Invalid;
use crate::json_schema::Schema;

/// The models every REST API has without creating them.
pub const BUILT_IN_MODELS: &[(&str, &str)] = &[
    (
        "Empty",
        "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
    ),
    (
        "Error",
        "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
    ),
];

/// A model's schema: its text as given and what it parsed into. Stored as
/// the text; parsed again (by the same rules) when read.
#[derive(Debug, Clone)]
pub struct ModelSchema {
    text: String,
    parsed: Schema,
}

impl ModelSchema {
    pub fn parse(text: &str) -> Result<ModelSchema, Invalid> {
        let parsed = Schema::parse(text).map_err(|_| invalid_schema())?;
        Ok(ModelSchema {
            text: text.to_owned(),
            parsed,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn schema(&self) -> &Schema {
        &self.parsed
    }
}

impl PartialEq for ModelSchema {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for ModelSchema {}

impl Serialize for ModelSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ModelSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ModelSchema::parse(&text).map_err(|invalid| serde::de::Error::custom(invalid.0))
    }
}

/// AWS's words for a schema it does not take.
fn invalid_schema() -> Invalid {
    Invalid(
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
            .to_owned(),
    )
}

/// One model of a REST API (`Model`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestModel {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub content_type: String,
    /// `None` when none was given (AWS keeps the model without one, and
    /// it constrains nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<ModelSchema>,
}

/// What a model is made of, as every front door hands it over.
#[derive(Debug, Clone, Default)]
pub struct ModelInput {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub content_type: Option<String>,
    pub schema: Option<String>,
}

impl RestModel {
    /// The one validating constructor: a name of letters and digits, a
    /// content type, and a schema this gateway enforces in full whose
    /// references name models `exists` knows (or the model itself).
    pub fn new(input: ModelInput, exists: &dyn Fn(&str) -> bool) -> Result<RestModel, Invalid> {
        let name = input.name.unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid(format!("Model name must be alphanumeric: {name}")));
        }
        let content_type = input.content_type.unwrap_or_default();
        if content_type.is_empty() {
            return Err(Invalid("Content type must be specified".to_owned()));
        }
        crate::fields::description(input.description.as_deref())?;
        let schema = match input.schema {
            None => None,
            Some(text) => {
                let schema = ModelSchema::parse(&text)?;
                for referenced in schema.schema().model_references() {
                    if referenced != name && !exists(&referenced) {
                        return Err(Invalid(format!(
                            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model name specified: {referenced}]"
                        )));
                    }
                }
                Some(schema)
            }
        };
        Ok(RestModel {
            id: input.id,
            name,
            description: input.description,
            content_type,
            schema,
        })
    }

    /// The built-in model `name` (`Empty`, `Error`) of the API `api_id`.
    pub fn built_in(api_id: &str, name: &str) -> Option<RestModel> {
        let (name, text) = BUILT_IN_MODELS.iter().find(|(n, _)| *n == name)?;
        Some(RestModel {
            id: crate::registry::stable_id(&format!("{api_id}#model {name}"), 6),
            name: (*name).to_owned(),
            description: Some(format!(
                "This is a default {} schema model",
                name.to_ascii_lowercase()
            )),
            content_type: "application/json".to_owned(),
            schema: ModelSchema::parse(text).ok(),
        })
    }

    /// Whether `instance` is valid; `models` finds the API's other models.
    pub fn validates(
        &self,
        instance: &serde_json::Value,
        models: &dyn Fn(&str) -> Option<Schema>,
    ) -> bool {
        self.schema
            .as_ref()
            .is_none_or(|schema| schema.schema().validates(instance, models))
    }
}

/// One request validator of a REST API (`RequestValidator`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestValidator {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub validate_request_body: bool,
    #[serde(default)]
    pub validate_request_parameters: bool,
}

impl RequestValidator {
    /// The one validating constructor.
    pub fn new(
        id: String,
        name: Option<String>,
        validate_request_body: bool,
        validate_request_parameters: bool,
    ) -> Result<RequestValidator, Invalid> {
        if let Some(name) = &name
            && name.chars().count() > 1024
        {
            return Err(Invalid(
                "Request validator name must be at most 1024 characters".to_owned(),
            ));
        }
        Ok(RequestValidator {
            id,
            name,
            validate_request_body,
            validate_request_parameters,
        })
    }
}

/// What a deployed method checks of a request, frozen by its deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRequest {
    /// `requestParameters`: `method.request.{location}.{name}` → required.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, bool>,
    /// `requestModels`: content type (or `$default`) → model name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, String>,
    /// The method's validator, as it was when deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<RequestValidator>,
    /// The models `models` names and every model they refer to, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schemas: BTreeMap<String, RestModel>,
}

/// Why a request is refused before its integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRefusal {
    /// `Missing required request parameters: [a, b]` (`BAD_REQUEST_PARAMETERS`).
    Parameters(String),
    /// `Invalid request body` (`BAD_REQUEST_BODY`).
    Body,
}

/// The parts of a request a validator looks at.
pub struct RequestParts<'a> {
    /// Whether a header is present with a non-blank value (any case).
    pub header: &'a dyn Fn(&str) -> bool,
    /// Whether a query parameter is present with a non-blank value.
    pub query: &'a dyn Fn(&str) -> bool,
    /// Whether a path parameter is present with a non-blank value.
    pub path: &'a dyn Fn(&str) -> bool,
    /// The request's media type (`Content-Type` without parameters, in
    /// lower case); `application/json` when it has none.
    pub content_type: &'a str,
    pub body: &'a [u8],
}

impl MethodRequest {
    pub fn is_empty(&self) -> bool {
        self == &MethodRequest::default()
    }

    /// As API Gateway checks a request before its integration: the
    /// required parameters first, then the body against the model of its
    /// content type (or `$default`; none: not checked).
    pub fn check(&self, request: &RequestParts<'_>) -> Result<(), RequestRefusal> {
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        if validator.validate_request_parameters {
            let missing: Vec<&str> = self
                .parameters
                .iter()
                .filter(|(_, required)| **required)
                .filter_map(|(key, _)| {
                    let (location, name) = key.strip_prefix("method.request.")?.split_once('.')?;
                    let present = match location {
                        "header" | "multivalueheader" => (request.header)(name),
                        "querystring" | "multivaluequerystring" => (request.query)(name),
                        "path" => (request.path)(name),
                        // Not a location a request has: nothing to check.
                        _ => true,
                    };
                    (!present).then_some(name)
                })
                .collect();
            if !missing.is_empty() {
                return Err(RequestRefusal::Parameters(format!(
                    "Missing required request parameters: [{}]",
                    missing.join(", ")
                )));
            }
        }
        if validator.validate_request_body {
            let name = self
                .models
                .iter()
                .find(|(content_type, _)| content_type.eq_ignore_ascii_case(request.content_type))
                .or_else(|| self.models.get_key_value("$default"))
                .map(|(_, name)| name);
            if let Some(name) = name {
                // A model the deployment did not freeze fails closed.
                let model = self.schemas.get(name).ok_or(RequestRefusal::Body)?;
                let instance = if request.body.iter().all(u8::is_ascii_whitespace) {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    serde_json::from_slice(request.body).map_err(|_| RequestRefusal::Body)?
                };
                let others = |other: &str| {
                    self.schemas
                        .get(other)
                        .and_then(|m| m.schema.as_ref())
                        .map(|s| s.schema().clone())
                };
                if !model.validates(&instance, &others) {
                    return Err(RequestRefusal::Body);
                }
            }
        }
        Ok(())
    }
}

/// The models `names` name and, transitively, those they refer to, from
/// `find` (stored or built in); `None` names one `find` does not know.
pub fn frozen_models<'a>(
    names: impl IntoIterator<Item = &'a String>,
    find: &dyn Fn(&str) -> Option<RestModel>,
) -> Result<BTreeMap<String, RestModel>, String> {
    let mut out: BTreeMap<String, RestModel> = BTreeMap::new();
    let mut pending: Vec<String> = names.into_iter().cloned().collect();
    while let Some(name) = pending.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let model = find(&name).ok_or_else(|| name.clone())?;
        if let Some(schema) = &model.schema {
            pending.extend(schema.schema().model_references());
        }
        out.insert(name, model);
    }
    Ok(out)
}

/// The models and request validators a declared (world file or
/// imported) tree's methods use: what its API's document keeps, so the
/// control plane shows them.
pub fn declared<'a>(
    methods: impl IntoIterator<Item = &'a crate::model::Method>,
) -> (
    BTreeMap<String, RestModel>,
    BTreeMap<String, RequestValidator>,
) {
    let mut models = BTreeMap::new();
    let mut validators = BTreeMap::new();
    for method in methods {
        for (name, model) in &method.request.schemas {
            if BUILT_IN_MODELS.iter().all(|(built_in, _)| built_in != name) {
                models.insert(name.clone(), model.clone());
            }
        }
        if let Some(validator) = &method.request.validator {
            validators.insert(validator.id.clone(), validator.clone());
        }
    }
    (models, validators)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, schema: &str) -> RestModel {
        RestModel::new(
            ModelInput {
                id: "m1".into(),
                name: Some(name.into()),
                description: None,
                content_type: Some("application/json".into()),
                schema: Some(schema.into()),
            },
            &|_| true,
        )
        .unwrap()
    }

    fn parts<'a>(query: &'a dyn Fn(&str) -> bool, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts {
            header: &|_| false,
            query,
            path: &|_| true,
            content_type: "application/json",
            body,
        }
    }

    fn method(validator: RequestValidator) -> MethodRequest {
        let pet = model(
            "Pet",
            r#"{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}"#,
        );
        MethodRequest {
            parameters: BTreeMap::from([
                ("method.request.querystring.q1".into(), true),
                ("method.request.header.x-opt".into(), false),
                ("method.request.header.x-id".into(), true),
            ]),
            models: BTreeMap::from([("application/json".into(), "Pet".into())]),
            validator: Some(validator),
            schemas: BTreeMap::from([("Pet".into(), pet)]),
        }
    }

    #[test]
    fn a_validator_names_every_missing_required_parameter_before_looking_at_the_body() {
        let both = method(RequestValidator::new("v".into(), None, true, true).unwrap());
        let none = |_: &str| false;
        assert_eq!(
            both.check(&parts(&none, b"not json")),
            Err(RequestRefusal::Parameters(
                "Missing required request parameters: [x-id, q1]".into()
            ))
        );
        let body_only = method(RequestValidator::new("v".into(), None, true, false).unwrap());
        assert_eq!(
            body_only.check(&parts(&none, b"not json")),
            Err(RequestRefusal::Body)
        );
        assert_eq!(
            body_only.check(&parts(&none, br#"{"name": 1}"#)),
            Err(RequestRefusal::Body)
        );
        assert_eq!(body_only.check(&parts(&none, br#"{"name": "x"}"#)), Ok(()));
        let params_only = method(RequestValidator::new("v".into(), None, false, true).unwrap());
        let all = |_: &str| true;
        let mut request = parts(&all, b"not json");
        let header = |_: &str| true;
        request.header = &header;
        assert_eq!(params_only.check(&request), Ok(()));
    }

    #[test]
    fn a_body_of_another_content_type_is_not_checked_unless_a_default_model_is_named() {
        let mut request = method(RequestValidator::new("v".into(), None, true, false).unwrap());
        let none = |_: &str| false;
        let mut xml = parts(&none, b"<a/>");
        xml.content_type = "application/xml";
        assert_eq!(request.check(&xml), Ok(()));
        request.models.insert("$default".into(), "Pet".into());
        assert_eq!(request.check(&xml), Err(RequestRefusal::Body));
    }

    #[test]
    fn a_model_is_refused_for_a_bad_name_a_schema_not_enforced_or_an_unknown_reference() {
        let input = |name: &str, schema: &str| ModelInput {
            id: "m".into(),
            name: Some(name.into()),
            description: None,
            content_type: Some("application/json".into()),
            schema: Some(schema.into()),
        };
        assert!(RestModel::new(input("my-model", "{}"), &|_| true).is_err());
        assert_eq!(
            RestModel::new(input("Pet", r#"{"example": 1}"#), &|_| true),
            Err(invalid_schema())
        );
        let unknown = RestModel::new(
            input("List", r##"{"items": {"$ref": "#/definitions/Pet"}}"##),
            &|_| false,
        );
        assert!(unknown.unwrap_err().0.contains("Pet"));
        assert!(
            RestModel::new(
                input("Node", r##"{"items": {"$ref": "#/definitions/Node"}}"##),
                &|_| false
            )
            .is_ok()
        );
    }
}
