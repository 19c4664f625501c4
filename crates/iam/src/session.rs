//! Session tokens: temporary credentials that any node can verify alone.
//!
//! A token is the session itself — who it is for, until when, its secret,
//! its session policies and tags — sealed with XChaCha20-Poly1305 under a key
//! every node shares. The temporary access key id is the AEAD's associated
//! data, so a token opens only together with the `ASIA…` key it was issued
//! with. Nothing is looked up, so there is nothing to replicate.
//!
//! Wire form: `base64url( version ‖ key id ‖ 24-byte nonce ‖ ciphertext )`.
//! The key id lets a deployment rotate keys: old tokens keep opening with the
//! old key until they expire.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{RandomUnavailable, random_bytes};

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Who a session speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionPrincipal {
    /// AssumeRole: a session of a role.
    AssumedRole {
        role_arn: String,
        role_id: String,
        role_name: String,
        session_name: String,
    },
    /// GetSessionToken by an IAM user.
    User {
        user_arn: String,
        user_id: String,
        user_name: String,
    },
    /// GetSessionToken by an account root.
    Root,
}

/// Everything a node needs to know about a session. `Debug` leaves the
/// session's secret out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The account the session acts in (the role's account for AssumeRole).
    pub account: String,
    pub principal: SessionPrincipal,
    /// The session's secret access key.
    pub secret_access_key: String,
    /// Issue and expiry times, seconds since the epoch.
    pub issued_at: i64,
    pub expires_at: i64,
    /// Made from another session (role chaining): later AssumeRole calls
    /// are capped at one hour.
    #[serde(default)]
    pub chained: bool,
    #[serde(default)]
    pub mfa_authenticated: bool,
    #[serde(default)]
    pub source_identity: Option<String>,
    /// The inline session policy (AssumeRole `Policy`), as JSON text.
    #[serde(default)]
    pub session_policy: Option<String>,
    /// Managed session policies (AssumeRole `PolicyArns`).
    #[serde(default)]
    pub session_policy_arns: Vec<String>,
    /// Session tags, in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
}

impl std::fmt::Debug for SessionClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionClaims")
            .field("account", &self.account)
            .field("principal", &self.principal)
            .field("secret_access_key", &"<redacted>")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("chained", &self.chained)
            .field("mfa_authenticated", &self.mfa_authenticated)
            .field("source_identity", &self.source_identity)
            .field("session_policy", &self.session_policy)
            .field("session_policy_arns", &self.session_policy_arns)
            .field("tags", &self.tags)
            .field("transitive_tag_keys", &self.transitive_tag_keys)
            .finish()
    }
}

/// Why a token did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenError {
    /// Not a token of ours, tampered with, or issued with another access key.
    #[error("the security token included in the request is invalid")]
    Invalid,
    /// A genuine token past its expiry.
    #[error("the security token included in the request is expired")]
    Expired,
}

/// Seals and opens session tokens with a set of 32-byte keys, one current.
pub struct TokenSealer {
    current: u8,
    keys: Vec<(u8, XChaCha20Poly1305)>,
}

impl TokenSealer {
    /// A sealer with one key, id 0.
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_keys(0, [(0, key)])
    }

    /// A sealer that seals with `current` and opens with any of `keys`.
    pub fn with_keys<'k>(current: u8, keys: impl IntoIterator<Item = (u8, &'k [u8; 32])>) -> Self {
        let keys = keys
            .into_iter()
            .map(|(id, key)| (id, XChaCha20Poly1305::new(Key::from_slice(key))))
            .collect();
        Self { current, keys }
    }

    fn cipher(&self, id: u8) -> Option<&XChaCha20Poly1305> {
        self.keys
            .iter()
            .find(|(candidate, _)| *candidate == id)
            .map(|(_, cipher)| cipher)
    }

    /// Seals `claims` into a token bound to `access_key_id`.
    pub fn seal(&self, access_key_id: &str, claims: &SessionClaims) -> Result<String, SealError> {
        let cipher = self.cipher(self.current).ok_or(SealError::NoCurrentKey)?;
        let plaintext = serde_json::to_vec(claims).map_err(|_| SealError::Encoding)?;
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce_bytes),
                Payload {
                    msg: &plaintext,
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Encoding)?;
        let mut token = Vec::with_capacity(2 + NONCE_LEN + ciphertext.len());
        token.push(FORMAT_VERSION);
        token.push(self.current);
        token.extend_from_slice(&nonce_bytes);
        token.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(token))
    }

    /// Opens a token presented with `access_key_id` at time `now`.
    pub fn open(
        &self,
        access_key_id: &str,
        token: &str,
        now: i64,
    ) -> Result<SessionClaims, TokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Invalid)?;
        let [version, key_id, rest @ ..] = bytes.as_slice() else {
            return Err(TokenError::Invalid);
        };
        if *version != FORMAT_VERSION || rest.len() < NONCE_LEN {
            return Err(TokenError::Invalid);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = self.cipher(*key_id).ok_or(TokenError::Invalid)?;
        let plaintext = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| TokenError::Invalid)?;
        let claims: SessionClaims =
            serde_json::from_slice(&plaintext).map_err(|_| TokenError::Invalid)?;
        if now >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// A token could not be sealed.
#[derive(Debug, Error)]
pub enum SealError {
    #[error("no sealing key is configured as current")]
    NoCurrentKey,
    #[error("the session could not be encoded")]
    Encoding,
    #[error(transparent)]
    Random(#[from] RandomUnavailable),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            account: "111122223333".into(),
            principal: SessionPrincipal::AssumedRole {
                role_arn: "arn:aws:iam::111122223333:role/app".into(),
                role_id: "AROAEXAMPLEEXAMPLE123".into(),
                role_name: "app".into(),
                session_name: "s1".into(),
            },
            secret_access_key: "session-secret".into(),
            issued_at: 1_000,
            expires_at: 4_600,
            chained: false,
            mfa_authenticated: false,
            source_identity: None,
            session_policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
            session_policy_arns: vec![],
            tags: vec![("team".into(), "dev".into())],
            transitive_tag_keys: vec![],
        }
    }

    #[test]
    fn a_sealed_token_opens_with_its_own_key_id_until_it_expires() {
        let sealer = TokenSealer::new(&[7; 32]);
        let token = sealer.seal("ASIAEXAMPLE", &claims()).unwrap();
        assert_eq!(sealer.open("ASIAEXAMPLE", &token, 1_000).unwrap(), claims());
        assert_eq!(sealer.open("ASIAEXAMPLE", &token, 4_599).unwrap(), claims());
        assert_eq!(
            sealer.open("ASIAEXAMPLE", &token, 4_600),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_presented_with_another_access_key_is_invalid() {
        let sealer = TokenSealer::new(&[7; 32]);
        let token = sealer.seal("ASIAEXAMPLE", &claims()).unwrap();
        assert_eq!(
            sealer.open("ASIAOTHER", &token, 1_000),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_sealed_by_another_deployment_is_invalid() {
        let token = TokenSealer::new(&[7; 32])
            .seal("ASIAEXAMPLE", &claims())
            .unwrap();
        assert_eq!(
            TokenSealer::new(&[8; 32]).open("ASIAEXAMPLE", &token, 1_000),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn every_flipped_byte_makes_the_token_invalid() {
        let sealer = TokenSealer::new(&[7; 32]);
        let token = sealer.seal("ASIAEXAMPLE", &claims()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for index in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[index] ^= 0x01;
            let tampered = URL_SAFE_NO_PAD.encode(tampered);
            assert_eq!(
                sealer.open("ASIAEXAMPLE", &tampered, 1_000),
                Err(TokenError::Invalid),
                "byte {index}"
            );
        }
    }

    #[test]
    fn rotated_keys_still_open_tokens_of_the_previous_key() {
        let old = TokenSealer::new(&[1; 32]);
        let token = old.seal("ASIAEXAMPLE", &claims()).unwrap();
        let rotated = TokenSealer::with_keys(1, [(0, &[1; 32]), (1, &[2; 32])]);
        assert!(rotated.open("ASIAEXAMPLE", &token, 1_000).is_ok());
        let fresh = rotated.seal("ASIAEXAMPLE", &claims()).unwrap();
        assert_eq!(
            old.open("ASIAEXAMPLE", &fresh, 1_000),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn garbage_never_opens() {
        let sealer = TokenSealer::new(&[7; 32]);
        for junk in [
            "",
            "x",
            "AQ",
            "not base64 !",
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(
                sealer.open("ASIAEXAMPLE", junk, 0),
                Err(TokenError::Invalid),
                "{junk}"
            );
        }
    }

    #[test]
    fn the_secret_is_not_readable_in_the_token() {
        let token = TokenSealer::new(&[7; 32])
            .seal("ASIAEXAMPLE", &claims())
            .unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert!(!bytes.windows(14).any(|w| w == b"session-secret"));
    }
}
