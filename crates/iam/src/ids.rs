//! Identifiers shaped like AWS's: unique ids (`AIDA…`), access key ids
//! (`AKIA…`, `ASIA…`) and secret access keys.
//!
//! Unique ids are 21 characters and access key ids 20, the prefix followed by
//! base-32 characters (`A-Z2-7`), as AWS's are. They come from the operating
//! system's random source: an id must not be guessable from another.

use thiserror::Error;

/// What an id names; the prefix tells it, as on AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    User,
    Role,
    Group,
    ManagedPolicy,
    LongTermAccessKey,
    TemporaryAccessKey,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::User => "AIDA",
            Self::Role => "AROA",
            Self::Group => "AGPA",
            Self::ManagedPolicy => "ANPA",
            Self::LongTermAccessKey => "AKIA",
            Self::TemporaryAccessKey => "ASIA",
        }
    }

    fn length(self) -> usize {
        match self {
            Self::LongTermAccessKey | Self::TemporaryAccessKey => 20,
            _ => 21,
        }
    }

    /// The kind an id's prefix announces.
    pub fn of(id: &str) -> Option<Self> {
        [
            Self::User,
            Self::Role,
            Self::Group,
            Self::ManagedPolicy,
            Self::LongTermAccessKey,
            Self::TemporaryAccessKey,
        ]
        .into_iter()
        .find(|kind| id.starts_with(kind.prefix()))
    }
}

/// Whether `text` has the shape of a unique id of `kind` as AWS issues
/// them: the kind's prefix and 17 characters `A-Z`, `0-9` (21 in all).
pub fn is_unique_id(kind: IdKind, text: &str) -> bool {
    text.len() == kind.length()
        && text.starts_with(kind.prefix())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The operating system's random source failed: nothing safe can be issued.
#[derive(Debug, Error)]
#[error("the system random source is unavailable")]
pub struct RandomUnavailable;

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomUnavailable> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| RandomUnavailable)?;
    Ok(bytes)
}

/// Maps random bytes onto `alphabet`, rejecting bytes that would bias it.
fn random_text(alphabet: &[u8], length: usize) -> Result<String, RandomUnavailable> {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for byte in random_bytes::<64>()? {
            if usize::from(byte) < limit
                && let Some(&symbol) = alphabet.get(usize::from(byte) % alphabet.len())
            {
                out.push(char::from(symbol));
                if out.len() == length {
                    break;
                }
            }
        }
    }
    Ok(out)
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A fresh id of this kind.
pub fn new_id(kind: IdKind) -> Result<String, RandomUnavailable> {
    let prefix = kind.prefix();
    Ok(format!(
        "{prefix}{}",
        random_text(BASE32, kind.length() - prefix.len())?
    ))
}

/// 32 fresh random bytes, for keys.
pub fn random_key() -> Result<[u8; 32], RandomUnavailable> {
    random_bytes::<32>()
}

/// A fresh id of `length` characters `[a-z0-9]`, the form of API
/// Gateway's API, resource, deployment and route ids.
pub fn new_lowercase_id(length: usize) -> Result<String, RandomUnavailable> {
    random_text(b"abcdefghijklmnopqrstuvwxyz0123456789", length)
}

/// A fresh 40-character API Gateway API key value (letters and digits).
pub fn new_api_key_value() -> Result<String, RandomUnavailable> {
    random_text(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        40,
    )
}

/// A fresh 40-character secret access key.
pub fn new_secret_access_key() -> Result<String, RandomUnavailable> {
    random_text(SECRET_ALPHABET, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_prefixes_lengths_and_alphabet() {
        for (kind, prefix, length) in [
            (IdKind::User, "AIDA", 21),
            (IdKind::Role, "AROA", 21),
            (IdKind::Group, "AGPA", 21),
            (IdKind::ManagedPolicy, "ANPA", 21),
            (IdKind::LongTermAccessKey, "AKIA", 20),
            (IdKind::TemporaryAccessKey, "ASIA", 20),
        ] {
            let id = new_id(kind).unwrap();
            assert!(id.starts_with(prefix), "{id}");
            assert_eq!(id.len(), length, "{id}");
            assert!(id.bytes().all(|b| BASE32.contains(&b)), "{id}");
            assert_eq!(IdKind::of(&id), Some(kind));
        }
    }

    #[test]
    fn a_unique_id_has_its_kinds_prefix_and_21_uppercase_letters_or_digits() {
        assert!(is_unique_id(IdKind::User, "AIDAJQABLZS4A3QDU576Q"));
        assert!(is_unique_id(IdKind::Role, "AROA3XFRBF535PLBIFPI4"));
        assert!(!is_unique_id(IdKind::Role, "AIDAJQABLZS4A3QDU576Q"));
        assert!(!is_unique_id(IdKind::User, "AIDAJQABLZS4A3QDU576"));
        assert!(!is_unique_id(IdKind::User, "AIDAjqablzs4a3qdu576q"));
        let fresh = new_id(IdKind::Group).unwrap();
        assert!(is_unique_id(IdKind::Group, &fresh));
    }

    #[test]
    fn ids_do_not_repeat() {
        let a = new_id(IdKind::User).unwrap();
        let b = new_id(IdKind::User).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_are_forty_characters_of_the_aws_alphabet() {
        let secret = new_secret_access_key().unwrap();
        assert_eq!(secret.len(), 40);
        assert!(secret.bytes().all(|b| SECRET_ALPHABET.contains(&b)));
    }
}
