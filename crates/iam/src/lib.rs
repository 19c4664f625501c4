//! The IAM model shared by the control plane and the data plane:
//! AWS-shaped identifiers, principal ARNs, sealed session tokens, the
//! persisted records of every IAM entity and the AWS-managed policies.
//!
//! Pure: no I/O beyond the operating system's random source.

pub mod arns;
pub mod config;
pub mod ids;
pub mod managed;
pub mod records;
pub mod session;

pub use config::{ConfigError, WorldConfig};
pub use ids::{IdKind, RandomUnavailable, new_id, new_secret_access_key};
pub use managed::{AWS_ACCOUNT, aws_managed_policies};
pub use records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, ManagedPolicyRecord,
    PolicyVersionRecord, Record, RecordError, RoleRecord, SecretText, Tag, Timestamp, UserRecord,
};
pub use session::{SealError, SessionClaims, SessionPrincipal, TokenError, TokenSealer};
