//! The execute-api data plane: which API a request is for (by host, path
//! or custom domain name, [`dataplane`], [`domains`]), the one normal form
//! of its path ([`path`]), routing with AWS's precedence ([`routing`]), the
//! ARN it is authorized against ([`arn`]), the `AWS_IAM` pipeline
//! ([`authorize`]), Lambda authorizers ([`authorizers`]), AWS's exact
//! responses ([`responses`]), the integrations ([`integration`]), the access
//! record ([`access`]) and what a mutual-TLS client certificate shows of
//! itself ([`client_cert`]).
//!
//! The APIs it serves are the model crate's (`iamgate_apimodel`): this
//! crate only reads them, so the control planes, which write them, need
//! nothing from here.

pub mod access;
pub mod arn;
pub mod authorize;
pub mod authorizers;
pub mod client_cert;
pub mod client_ip;
pub mod dataplane;
pub mod domains;
pub mod gateway_responses;
pub mod integration;
pub mod jwt;
pub mod listener;
pub mod mapping;
pub mod path;
pub mod pipeline;
pub mod responses;
pub mod routing;
pub mod test_invoke;
pub mod usage;
pub mod validation;
