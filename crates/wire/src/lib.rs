//! Wire codecs for iamgate's AWS control planes.
//!
//! Every STS, IAM and API Gateway operation reads its input and writes its
//! output through this crate, so the byte-level details AWS clients depend
//! on live in one place and are tested against AWS's own protocol vectors:
//!
//! * [`query`] — AWS Query requests: form decoding, `member.N` / `entry.N` /
//!   dotted-structure flattening, typed accessors, dispatch errors
//!   (`MissingAction`, `InvalidAction`) and the `ValidationError` text.
//! * [`xml`] — Query responses: `<Op>Response` / `<Op>Result` /
//!   `ResponseMetadata`, the `<ErrorResponse>` envelope, RFC 3986-encoded
//!   policy documents.
//! * [`json`] — REST-JSON errors: `x-amzn-ErrorType` plus `{"message":…}`.
//! * [`error`] — [`AwsError`], one error value that renders to either protocol.
//! * [`time`] — ISO 8601 / epoch / HTTP-date timestamps.
//! * [`request_id`] — AWS-shaped request ids.
//!
//! The crate is pure: no async runtime, no I/O, no panics on any input (the
//! decoder is fuzzed and property-tested).

pub mod error;
pub mod form;
pub mod json;
pub mod query;
pub mod request_id;
pub mod time;
pub mod xml;

pub use error::AwsError;
pub use json::RestJsonError;
pub use query::{QueryParams, Scope, Violation, Violations};
pub use request_id::new_request_id;
pub use time::Timestamp;
