//! The IAM policy language: parsing with positions, AWS's validation rules
//! and messages, matching (actions, ARNs, principals, variables, every
//! condition operator) and AWS's evaluation algorithm with a readable trace.
//!
//! Pure: no I/O, no async. Typical use:
//!
//! ```
//! use iamgate_policy::{PolicyDocument, PolicyKind, PolicySet, NamedPolicy,
//!     RequestContext, PrincipalIdentity, Outcome};
//!
//! let doc = PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":{
//!     "Effect":"Allow","Action":"execute-api:Invoke",
//!     "Resource":"arn:aws:execute-api:*:*:*"}}"#, PolicyKind::ManagedIdentity).unwrap();
//! let set = PolicySet { identity: vec![NamedPolicy::new("invoke", doc)], ..PolicySet::default() };
//! let compiled = set.compile();
//! let alice = PrincipalIdentity::user("111122223333", "/", "alice", "AIDAEXAMPLE0000000001");
//! let request = RequestContext::new(alice, "execute-api:Invoke",
//!     Some("arn:aws:execute-api:us-east-1:111122223333:abc/prod/GET/pets"));
//! assert_eq!(compiled.evaluate(&request).outcome, Outcome::Allowed);
//! ```

pub mod arn;
pub mod compiled;
pub mod condition;
pub mod context;
pub mod document;
pub mod eval;
pub mod json;
pub mod principal;
pub mod reference;
pub mod tunables;
pub mod validate;
pub mod variables;
pub mod wildcard;

pub use compiled::CompiledPolicies;
pub use context::{CompactContext, ContextValue, PrincipalIdentity, PrincipalKind, RequestContext};
pub use document::{Effect, ParseOutcome, PolicyDocument, PolicyKind, Statement, Version};
pub use eval::{
    CompiledPolicySet, DecidingRule, Decision, EvaluationInput, MatchedStatement, NamedPolicy,
    Outcome, PolicySet, PolicyType, PolicyTypes, ResourcePolicyKind, evaluate,
};
pub use principal::MatchClass;
pub use validate::{ErrorCode, ValidationError};
