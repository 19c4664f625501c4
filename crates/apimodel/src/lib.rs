//! The API Gateway model, one crate below both planes: what a REST or
//! HTTP API, a stage, a deployment and a custom domain name are, as the
//! store keeps them ([`stored`]) and as the data plane serves them
//! ([`model`], [`config::ApiRegistry`]), and every way one comes in: the
//! world file's `apis:` and `domain_names:` sections ([`config`],
//! [`domains`]), OpenAPI import ([`openapi`]) and the control planes, which
//! check each value with the same rules ([`fields`]).
//!
//! Why a crate of its own: the control planes write the model and the data
//! plane reads it, and neither should depend on the other to reach it. A
//! rule lives here once, so what one front door refuses cannot come in
//! through another. Pure: no I/O beyond reading a world file's OpenAPI
//! files through a caller-supplied reader (or the file system, on
//! request), no clock, no async runtime.

pub mod authorizers;
pub mod config;
pub mod documents;
pub mod domains;
pub mod export;
pub mod fields;
pub mod gateway_responses;
pub mod input_model;
pub mod json_schema;
pub mod mapping;
pub mod model;
pub mod openapi;
pub mod registry;
pub mod stored;
pub mod usage;
pub mod usage_config;
pub mod validation;
