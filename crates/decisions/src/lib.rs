//! Decision records: for every authorization decision iamgate makes
//! (execute-api, STS, IAM, API Gateway), one structured record under the
//! request id the client got back, saying who asked for what, which
//! policies were considered, which statements applied, the rule that
//! decided, and which policy types would have to allow for an Allow.
//!
//! Why a crate of its own: the data plane (`iamgate-gateway`) and the
//! control planes (`iamgate-control`) both write records and must never
//! depend on each other; the binary reads them back. The evaluation part
//! (rule, missing sides, matched statements) is the policy crate's
//! [`Decision`](iamgate_policy::Decision); this crate adds the request's
//! facts, the bounded ring ([`DecisionLog`]) and the per-account view
//! ([`DecisionRecord::visible_to`]).

mod evaluation;
mod pending;
mod record;
mod ring;

pub use evaluation::{Evaluation, Filing, evaluate, evaluate_input};
pub use pending::{Entry, PendingRecord, SharedPolicies};
pub use record::{
    CallerRecord, ConditionKeyRecord, DecisionRecord, PolicyRecord, StatementRecord, UsageRecord,
    describe_rule, words,
};
pub use ring::{DecisionLog, DecisionSink, Lookup, RingLimits};
