//! Every policy behavior AWS has not pinned down, in one table.
//!
//! AWS does not document these behaviours precisely; each constant is the
//! most likely one from what AWS does and says. Changing one here changes
//! it everywhere.

use crate::eval::PolicyType;

/// `MISSING_VERSION_SEMANTICS`: a document without `Version` follows
/// 2008-10-17 rules, i.e. `${…}` is literal text.
pub const MISSING_VERSION_HAS_VARIABLES: bool = false;

/// `PLAIN_OP_ON_MULTIVALUED`: a plain (unqualified) operator on a
/// multivalued key does not match.
pub const PLAIN_OPERATOR_ON_MULTIVALUED_MATCHES: bool = false;

/// `QUALIFIER_ON_SINGLE_VALUED`: `ForAnyValue`/`ForAllValues` on a
/// single-valued key treat the value as a one-element set.
pub const QUALIFIER_ON_SINGLE_VALUED_AS_SET: bool = true;

/// `ACCOUNT_PRINCIPAL_SAME_ACCOUNT`: in the same account, a resource-policy
/// grant to the account (or its root ARN) is a delegation: identity
/// policies must allow as well.
pub const ACCOUNT_PRINCIPAL_IS_DELEGATION: bool = true;

/// `DENY_REPORT_ORDER` for explicit denies: the first type in this
/// list that denied is the one named in the message.
pub const EXPLICIT_DENY_REPORT_ORDER: [PolicyType; 6] = [
    PolicyType::ServiceControl,
    PolicyType::ResourceBased,
    PolicyType::RoleTrust,
    PolicyType::IdentityBased,
    PolicyType::PermissionsBoundary,
    PolicyType::Session,
];

/// `FAIL_CLOSED_DENY_APPLIES`: a Deny whose condition cannot be evaluated
/// (unknown operator, malformed value) still denies.
pub const FAIL_CLOSED_DENY_APPLIES: bool = true;

/// `BOOL_VARIABLES_ALLOWED`: policy variables are expanded in `Bool` values.
pub const BOOL_VARIABLES_ALLOWED: bool = true;

/// `WHITESPACE_FOR_SIZE`: characters not counted towards size quotas.
pub const SIZE_IGNORED_WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// `RESOURCE_ARN_CASE_SENSITIVE`: Resource and `Arn*` matching is
/// case-sensitive (only true is implemented; kept to name the choice).
pub const RESOURCE_ARN_CASE_SENSITIVE: bool = true;

/// `NOTPRINCIPAL_HIERARCHY`: a caller is exempted by `NotPrincipal` only if
/// every level it has (account, role, session / user) is listed.
pub const NOTPRINCIPAL_REQUIRES_ALL_LEVELS: bool = true;

/// `NOTPRINCIPAL_USER_LEVEL_SERVICES`: services whose `NotPrincipal`
/// exempts an IAM user listed by user ARN alone. AWS documents that a
/// service "might validate the account first", so which services do is
/// observed, not documented: a REST API resource policy with only the
/// user's ARN under `NotPrincipal` lets that user in (seed 003).
pub const NOTPRINCIPAL_USER_LEVEL_SERVICES: &[&str] = &["execute-api"];

/// `VALIDATE_EXECUTE_API_PRINCIPALS_EXIST`: execute-api resource policies
/// are not checked for principals that exist.
pub const VALIDATE_EXECUTE_API_PRINCIPALS_EXIST: bool = false;

/// Open question 6: `Null` treats a present empty string as present.
pub const NULL_TREATS_EMPTY_AS_PRESENT: bool = true;

/// Size quotas in characters (whitespace excluded); IAM User Guide, "IAM
/// and AWS STS quotas".
pub mod size {
    pub const MANAGED_POLICY: usize = 6_144;
    pub const USER_INLINE_TOTAL: usize = 2_048;
    pub const GROUP_INLINE_TOTAL: usize = 5_120;
    pub const ROLE_INLINE_TOTAL: usize = 10_240;
    pub const TRUST_POLICY: usize = 2_048;
    pub const SESSION_POLICY: usize = 2_048;
    pub const SERVICE_CONTROL_POLICY: usize = 5_120;
    /// API-level maximum document length (model constraint).
    pub const API_MAX_DOCUMENT: usize = 131_072;
}
