//! The IAM model shared by the control plane and the data plane:
//! AWS-shaped identifiers, principal ARNs, and sealed session tokens.
//!
//! Pure: no I/O beyond the operating system's random source.

pub mod arns;
pub mod ids;
pub mod session;

pub use ids::{IdKind, RandomUnavailable, new_id, new_secret_access_key};
pub use session::{SealError, SessionClaims, SessionPrincipal, TokenError, TokenSealer};
