//! AWS Signature Version 4 verification.
//!
//! Pure: no I/O, no async runtime, no clock — the caller passes `now`. The
//! crate takes a request exactly as it came off the wire ([`HttpRequest`]),
//! runs every check AWS makes in AWS's order, and either returns who signed
//! it ([`Verified`]) or AWS's own error ([`SigV4Error`]: code, HTTP status and
//! message per protocol family).
//!
//! Access keys are looked up through [`CredentialProvider`], so the IAM store
//! decides what a key is worth; derived signing keys are cached per
//! credential scope ([`SigningKeyCache`]). Behaviors AWS has not pinned down
//! are collected in [`Tunables`].
//!
//! ```
//! use iamgate_sigv4::*;
//!
//! struct OneKey;
//! impl CredentialProvider for OneKey {
//!     type Identity = &'static str;
//!     fn resolve(&self, key: &str, _token: Option<&str>, _now: i64)
//!         -> Result<ResolvedCredential<&'static str>, CredentialError> {
//!         match key {
//!             "AKIDEXAMPLE" => Ok(ResolvedCredential {
//!                 secret: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
//!                 identity: "example-user",
//!             }),
//!             _ => Err(CredentialError::UnknownAccessKey),
//!         }
//!     }
//! }
//!
//! let headers: &[(&str, &[u8])] = &[
//!     ("Host", b"example.amazonaws.com"),
//!     ("X-Amz-Date", b"20150830T123600Z"),
//!     ("Authorization", b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
//! ];
//! let request = HttpRequest::from_target("GET", "/", headers, b"");
//! let verifier = Verifier::new(ServiceRules::for_service("service", Surface::Query));
//! let now = time::parse_basic("20150830T123600Z").unwrap();
//! let verified = verifier.verify(&request, &OneKey, now).unwrap();
//! assert_eq!(verified.identity, "example-user");
//! ```

mod canonical;
mod credential;
mod encoding;
mod error;
mod parse;
pub mod percent;
mod request;
mod scan;
pub mod sign;
mod signing;
pub mod time;
pub mod tunables;
mod verify;

pub use credential::Credential;
pub use error::{FailureKind, SigV4Error, Surface};
pub use parse::AuthMode;
pub use request::HttpRequest;
pub use signing::{Secret, SigningKeyCache, derive_signing_key};
pub use tunables::{KeyValuePairMessageStyle, MismatchMessageStyle, Tunables};
pub use verify::{
    CredentialError, CredentialProvider, HeadVerdict, RegionRule, ResolvedCredential, ServiceRules,
    SigningExplanation, Verified, Verifier,
};

/// The service named in the request's credential scope, without verifying
/// anything: lets one port route a request to STS, IAM, API Gateway or
/// execute-api before the right verifier runs. It reads the credential
/// with the verifier's own parser, so a header the verifier would refuse
/// (a repeated `Credential=`, an unknown piece) names no service, and one
/// it accepts names the service it verifies against.
pub fn peek_service(request: &HttpRequest<'_>) -> Option<String> {
    let credential = match request.header("authorization") {
        Some(header) => {
            let header = std::str::from_utf8(header).ok()?;
            parse::split_header(header).ok()?.credential()?.to_owned()
        }
        None => {
            let raw = request.raw_query_param("X-Amz-Credential")?;
            encoding::percent_decode_str(raw).into_owned()
        }
    };
    Credential::parse(credential.into()).map(|c| c.service().to_owned())
}
