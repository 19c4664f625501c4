//! The constraints AWS's `apigateway` service model puts on input members
//! (enumerations and patterns), in one place.
//!
//! API Gateway checks a request against its input model before the
//! operation runs: before it looks up the API or resource the request
//! names, and before the operation's own rules. A value outside the model
//! is refused with `ValidationException` and the request framework's
//! wording, `1 validation error detected: Value '…' at '…' failed to
//! satisfy constraint: …`, where the member is named from the operation's
//! input (`putIntegrationInput.type`) or, for a URI label, by its own name
//! (`statusCode`).
//!
//! The sets here are the model's (`testdata/aws-models/apigateway`;
//! `crates/apimodel/tests/input_model.rs` reads the model and fails when
//! they drift). Each is written in the order AWS lists it in its refusal,
//! which for some sets is not the model's order.

use crate::fields::{Invalid, shown};

/// An enumeration shape of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enumeration {
    /// The shape's name in the model (`IntegrationType`).
    pub shape: &'static str,
    /// Its values, in the order AWS's refusal lists them.
    pub values: &'static [&'static str],
}

/// `IntegrationType` (`PutIntegration` `type`). AWS lists it in this order
/// in its refusal (observed), not in the model's.
pub const INTEGRATION_TYPE: Enumeration = Enumeration {
    shape: "IntegrationType",
    values: &["HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"],
};

/// `ConnectionType` (`PutIntegration` `connectionType`).
pub const CONNECTION_TYPE: Enumeration = Enumeration {
    shape: "ConnectionType",
    values: &["INTERNET", "VPC_LINK"],
};

/// `EndpointType` (`endpointConfiguration.types`), in AWS's order.
pub const ENDPOINT_TYPE: Enumeration = Enumeration {
    shape: "EndpointType",
    values: &["PRIVATE", "EDGE", "REGIONAL"],
};

/// `IpAddressType` (`endpointConfiguration.ipAddressType`).
pub const IP_ADDRESS_TYPE: Enumeration = Enumeration {
    shape: "IpAddressType",
    values: &["ipv4", "dualstack"],
};

/// `ApiKeySourceType` (`CreateRestApi` `apiKeySource`).
pub const API_KEY_SOURCE_TYPE: Enumeration = Enumeration {
    shape: "ApiKeySourceType",
    values: &["HEADER", "AUTHORIZER"],
};

/// `ContentHandlingStrategy` (`contentHandling` of integrations).
pub const CONTENT_HANDLING_STRATEGY: Enumeration = Enumeration {
    shape: "ContentHandlingStrategy",
    values: &["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"],
};

/// `Op`: a patch operation's `op`, in AWS's order.
pub const OP: Enumeration = Enumeration {
    shape: "Op",
    values: &["add", "remove", "move", "test", "replace", "copy"],
};

/// Every enumeration above, for the check against the model.
pub const ENUMERATIONS: &[Enumeration] = &[
    INTEGRATION_TYPE,
    CONNECTION_TYPE,
    ENDPOINT_TYPE,
    IP_ADDRESS_TYPE,
    API_KEY_SOURCE_TYPE,
    CONTENT_HANDLING_STRATEGY,
    OP,
];

/// The `StatusCode` shape's pattern (method and integration responses'
/// `statusCode` labels, gateway responses' `statusCode`).
pub const STATUS_CODE_PATTERN: &str = r"[1-5]\d\d";

/// Whether `invalid` is a refusal of the input model (see the module
/// documentation): AWS answers those `ValidationException`, every other
/// refusal `BadRequestException`.
pub fn is_model_violation(invalid: &Invalid) -> bool {
    invalid.0.starts_with("1 validation error detected: ")
}

impl Enumeration {
    /// `value` of `member` if the enumeration has it (exactly: the model's
    /// enumerations are case-sensitive), else AWS's refusal.
    pub fn check<'v>(&self, member: &str, value: &'v str) -> Result<&'v str, Invalid> {
        if self.values.contains(&value) {
            Ok(value)
        } else {
            Err(Invalid(format!(
                "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                shown(value),
                self.values.join(", ")
            )))
        }
    }
}

/// A member the model requires: its value, or AWS's refusal of its
/// absence.
pub fn required<T>(member: &str, value: Option<T>) -> Result<T, Invalid> {
    value.ok_or_else(|| {
        Invalid(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A list member of enumeration `enumeration` (`…types`): AWS names the
/// whole list and wraps the member's constraint.
pub fn list_of(enumeration: &Enumeration, member: &str, values: &[String]) -> Result<(), Invalid> {
    match values
        .iter()
        .find(|v| !enumeration.values.contains(&v.as_str()))
    {
        None => Ok(()),
        Some(_) => Err(Invalid(format!(
            "1 validation error detected: Value '[{}]' at '{member}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
            shown(&values.join(", ")),
            enumeration.values.join(", ")
        ))),
    }
}

/// A `StatusCode` label (`statusCode`): three digits, the first 1 to 5.
pub fn status_code(value: &str) -> Result<(), Invalid> {
    if crate::fields::is_status_code(value) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "1 validation error detected: Value '{}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: {STATUS_CODE_PATTERN}",
            shown(value)
        )))
    }
}

/// Every patch operation's `op` of `operation` (`updateRestApiInput`), in
/// AWS's member naming (`patchOperations.1.member.op`, counted from 1).
pub fn patch_ops<'a>(
    operation: &str,
    ops: impl IntoIterator<Item = &'a str>,
) -> Result<(), Invalid> {
    for (index, op) in ops.into_iter().enumerate() {
        OP.check(
            &format!("{operation}.patchOperations.{}.member.op", index + 1),
            op,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integration_type_outside_the_model_is_refused_in_aws_words() {
        assert_eq!(
            INTEGRATION_TYPE.check("putIntegrationInput.type", "LAMBDA"),
            Err(Invalid("1 validation error detected: Value 'LAMBDA' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]".to_owned()))
        );
        assert_eq!(
            INTEGRATION_TYPE.check("putIntegrationInput.type", "MOCK"),
            Ok("MOCK")
        );
        assert!(INTEGRATION_TYPE.check("t", "mock").is_err(), "exact case");
    }

    #[test]
    fn a_status_code_label_must_match_the_pattern() {
        assert_eq!(status_code("200"), Ok(()));
        let refusal = status_code("600").unwrap_err();
        assert!(is_model_violation(&refusal));
        assert_eq!(
            refusal.0,
            r"1 validation error detected: Value '600' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\d\d"
        );
    }

    #[test]
    fn patch_ops_are_named_by_their_position() {
        assert_eq!(
            patch_ops("updateRestApiInput", ["replace", "put"]),
            Err(Invalid("1 validation error detected: Value 'put' at 'updateRestApiInput.patchOperations.2.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]".to_owned()))
        );
    }
}
