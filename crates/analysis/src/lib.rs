//! Who can do what, and what would let them: access analysis over one
//! snapshot of the world (issue 12, items 4–6).
//!
//! Why a crate of its own: the questions — "who can invoke this route?",
//! "what can this principal reach?", "what is the smallest change that
//! would allow this denied call?" — are asked of the same snapshot the
//! server decides requests against, offline (a world file) or on the
//! server. The answers must be the server's answers, so nothing here
//! evaluates a policy itself: every verdict is the real evaluator's
//! ([`iamgate_iam::World::evaluate_with_resource`] and
//! [`iamgate_policy::evaluate`]), on the request context the data plane and
//! STS would build, for callers built as the credential resolver builds
//! them. Pure: no I/O, no async.
//!
//! What an offline analysis cannot know is the request itself: the VPC
//! endpoint it comes through, the time, MFA, the source address. A
//! statement whose condition reads such a key ([`conditions`]) is never
//! dropped and never taken as granting: the analysis asks the evaluator
//! twice — once as if every such condition of an Allow held and every such
//! Deny did not apply, once the other way round — and reports the
//! principal as unconditionally allowed, allowed only under the listed
//! conditions, or not at all.
//!
//! Role chaining: a principal reaches a resource directly or by assuming
//! roles, each hop an `sts:AssumeRole` decided like STS decides it (the
//! role's trust policy and the caller's own permission; roots cannot
//! assume roles). AWS sets no limit on the number of hops (only on the
//! duration of chained sessions), so chains are searched breadth first,
//! each role once: the chain reported is a shortest one.

pub mod conditions;
mod directory;
pub mod graph;
pub mod plan;
mod step;
pub mod target;
pub mod visibility;
pub mod what_can;
pub mod who_can;

pub use conditions::Condition;
pub use directory::{SESSION_NAME, role_session};
pub use plan::{Alternative, Change, ChangeKind, Plan};
pub use target::{AnalysisError, Target};
pub use what_can::RouteAccess;
pub use who_can::{Access, Hop};

use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::World;

/// One analysis over a world and its APIs: the principals indexed once,
/// the evaluator's rewritten policy sets cached across questions.
pub struct Analysis<'w> {
    pub(crate) world: &'w World,
    pub(crate) apis: &'w ApiRegistry,
    pub(crate) directory: directory::Directory,
    pub(crate) evaluator: step::Evaluator,
}

impl<'w> Analysis<'w> {
    pub fn new(world: &'w World, apis: &'w ApiRegistry) -> Self {
        Analysis {
            world,
            apis,
            directory: directory::Directory::new(world),
            evaluator: step::Evaluator::default(),
        }
    }
}
