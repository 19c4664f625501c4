//! Every verification choice that AWS has not pinned down, in one place.
//!
//! Each default is what AWS was seen to do or, where nothing was seen, the
//! likeliest behavior; changing one here must not require touching any
//! verification logic.

/// How the text of a signature mismatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchMessageStyle {
    /// The one-sentence message current AWS services return.
    Short,
    /// The short message followed by the canonical request and string to
    /// sign the server computed, as execute-api used to return.
    Long,
}

/// How a `key=value` piece without `=` in the `Authorization` header is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyValuePairMessageStyle {
    /// Current form: the header is identified by Base64(SHA-256(raw value)).
    Hashed,
    /// Older form that echoes the offending piece and the raw header.
    Legacy,
}

/// The choices in force for one verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunables {
    pub mismatch_message_style: MismatchMessageStyle,
    pub key_value_pair_message_style: KeyValuePairMessageStyle,
    /// Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (an S3 convention).
    pub accept_unsigned_payload: bool,
    /// Upper bound of `X-Amz-Expires`, in seconds.
    pub presign_max_expires: u64,
    /// When a presigned request carries `X-Amz-Security-Token` and fails,
    /// retry once with the token left out of the canonical query: some
    /// clients append the token after signing.
    pub retry_presigned_without_token: bool,
    /// Accept SigV4a (`AWS4-ECDSA-P256-SHA256`). Not implemented: must stay false.
    pub accept_sigv4a: bool,
    /// Normalize and double-encode the canonical URI (every service here);
    /// false gives S3's untouched path, used only by the test vectors.
    pub normalize_uri_path: bool,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            mismatch_message_style: MismatchMessageStyle::Short,
            key_value_pair_message_style: KeyValuePairMessageStyle::Hashed,
            accept_unsigned_payload: false,
            presign_max_expires: 604_800,
            retry_presigned_without_token: true,
            accept_sigv4a: false,
            normalize_uri_path: true,
        }
    }
}

/// Clock-skew window of each service, in minutes.
pub fn skew_minutes(service: &str) -> u32 {
    match service {
        "sts" | "iam" => 15,
        _ => 5,
    }
}
