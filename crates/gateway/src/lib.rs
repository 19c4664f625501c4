//! The execute-api data plane, pure parts: the deployed API model
//! ([`model`]), routing with AWS's precedence ([`routing`]), the ARN a
//! request is authorized against ([`arn`]) and AWS's exact responses
//! ([`responses`]), the OpenAPI importer ([`openapi`]), and the rules every
//! stored value obeys whichever front door stores it ([`fields`]). The
//! server wires them to SigV4, the IAM world and the integrations.

pub mod access;
pub mod arn;
pub mod authorize;
pub mod client_ip;
pub mod config;
pub mod dataplane;
pub mod domains;
pub mod fields;
pub mod integration;
pub mod listener;
pub mod model;
pub mod openapi;
pub mod path;
pub mod pipeline;
pub mod registry;
pub mod responses;
pub mod routing;
pub mod stored;
