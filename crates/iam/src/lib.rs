//! The IAM model shared by the control plane and the data plane:
//! AWS-shaped identifiers, principal ARNs, sealed session tokens, the
//! persisted records of every IAM entity ([`records`]), the AWS-managed
//! policies ([`managed`]), the YAML world file ([`config`]) and the
//! immutable snapshot the data plane authenticates and authorizes
//! against ([`world`]).
//!
//! The flow: a world file is parsed and checked ([`WorldConfig::parse`]),
//! turned into records ([`WorldConfig::to_records`]) that the control plane
//! stores; the server builds a [`World`] from all stored records and swaps
//! it atomically on change; SigV4 verification resolves keys through
//! `World` (it implements `iamgate_sigv4::CredentialProvider`) into a
//! [`Caller`], and [`World::evaluate_with_resource`] decides.
//!
//! Pure: no I/O beyond the operating system's random source.

pub mod arns;
pub mod config;
pub mod ids;
pub mod managed;
pub mod names;
pub mod organization;
pub mod principal_ids;
pub mod records;
pub mod request_context;
pub mod session;
pub mod world;

pub use config::{ConfigError, WorldConfig};
pub use ids::{IdKind, RandomUnavailable, new_id, new_secret_access_key};
pub use managed::{AWS_ACCOUNT, aws_managed_policies};
pub use records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, ManagedPolicyRecord,
    PolicyVersionRecord, Record, RecordError, RoleRecord, SecretText, Tag, Timestamp, UserRecord,
};
pub use session::{SealError, SessionClaims, SessionPrincipal, TokenError, TokenSealer};
pub use world::{Caller, CallerPolicies, World};
