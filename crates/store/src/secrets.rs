//! Encryption of secrets at rest (access-key secret access keys).
//!
//! SigV4 verification needs the secret itself (it is an HMAC key), so it
//! cannot be hashed like a password; instead the control plane seals it with
//! XChaCha20-Poly1305 before putting it in an entity body, and opens it when
//! building the data plane's snapshot. A copy of the database alone then
//! yields no usable credential.
//!
//! # Key
//!
//! 32 random bytes, written as 64 hex digits or as standard base64 (44
//! characters with padding); surrounding whitespace is ignored. From
//! [`KEY_ENV`] (`IAMGATE_SECRET_KEY`) or from a key file. For the embedded
//! default, [`SecretCipher::load_or_create`] generates the file on first use
//! with mode 0600, never overwrites one, and refuses a file that group or
//! others may access: a readable key next to the database defeats the point.
//! Every node of a PostgreSQL deployment needs the same key.
//!
//! # Sealed form
//!
//! `v1.` followed by unpadded base64url of `24-byte random nonce ‖ ciphertext
//! ‖ tag`. The version prefix leaves room for key rotation. [`seal_for`] /
//! [`open_for`] bind the sealed text to a context (e.g. the access key id) as
//! associated data, so a sealed secret copied onto another row does not open.
//!
//! Neither errors nor `Debug` ever contain key material or plaintext.
//!
//! [`seal_for`]: SecretCipher::seal_for
//! [`open_for`]: SecretCipher::open_for

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use thiserror::Error;

/// The environment variable holding the key (hex or base64).
pub const KEY_ENV: &str = "IAMGATE_SECRET_KEY";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const SEALED_PREFIX: &str = "v1.";

/// Why a key could not be loaded or a secret not be opened. Never carries
/// key bytes, the environment value or plaintext.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("secret key file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },

    #[error(
        "secret key file {path} is accessible by group or others (mode {mode:04o}); \
         restrict it with `chmod 600`"
    )]
    InsecureKeyFile { path: PathBuf, mode: u32 },

    /// `origin` names where the key came from (a path or the variable name).
    #[error("secret key from {origin} is not 32 bytes as 64 hex digits or base64")]
    BadKey { origin: String },

    #[error("the operating system's random number generator failed")]
    RandomUnavailable,

    /// Not a sealed secret of this format.
    #[error("sealed secret is malformed")]
    Malformed,

    /// Tampered with, sealed under another key, or bound to another context.
    #[error("sealed secret does not open with this key")]
    WrongKeyOrTampered,
}

/// Seals and opens secrets under one 32-byte key.
#[derive(Clone)]
pub struct SecretCipher {
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretCipher { key: <redacted> }")
    }
}

impl SecretCipher {
    /// A cipher over the given key bytes.
    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// A cipher over a fresh random key (tests, throwaway stores).
    pub fn generate() -> Result<Self, SecretError> {
        Ok(Self::from_key(&random_key()?))
    }

    /// The key in [`KEY_ENV`], or `None` when the variable is unset.
    pub fn from_env() -> Result<Option<Self>, SecretError> {
        match std::env::var(KEY_ENV) {
            Ok(text) => parse_key(&text, KEY_ENV).map(|key| Some(Self::from_key(&key))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::BadKey {
                origin: KEY_ENV.to_owned(),
            }),
        }
    }

    /// The key in an existing key file, refusing one that group or others
    /// may access.
    pub fn load(path: &Path) -> Result<Self, SecretError> {
        let file = File::open(path).map_err(|source| io_error(path, source))?;
        check_private(&file, path)?;
        let text = io::read_to_string(file).map_err(|source| io_error(path, source))?;
        let key = parse_key(&text, &path.display().to_string())?;
        Ok(Self::from_key(&key))
    }

    /// The key in `path`, generating the file (and missing parent
    /// directories) with mode 0600 if it does not exist. An existing file is
    /// never overwritten; if another process creates it first, its key wins.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        match create_key_file(path) {
            Ok(key) => Ok(Self::from_key(&key)),
            Err(CreateError::Exists) => Self::load(path),
            Err(CreateError::Failed(error)) => Err(error),
        }
    }

    /// [`KEY_ENV`] if set, else [`load_or_create`](Self::load_or_create) on
    /// `default_file`: the embedded default's rule.
    pub fn from_env_or_file(default_file: &Path) -> Result<Self, SecretError> {
        match Self::from_env()? {
            Some(cipher) => Ok(cipher),
            None => Self::load_or_create(default_file),
        }
    }

    /// Seals `plaintext` with no context.
    pub fn seal(&self, plaintext: &str) -> Result<String, SecretError> {
        self.seal_for("", plaintext)
    }

    /// Opens what [`seal`](Self::seal) produced.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        self.open_for("", sealed)
    }

    /// Seals `plaintext` bound to `context` (for instance the access key
    /// id): it opens only with the same context.
    pub fn seal_for(&self, context: &str, plaintext: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|_| SecretError::RandomUnavailable)?;
        let ciphertext = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Encryption fails only for messages beyond the cipher's limit
            // (~256 GiB); report it without detail.
            .map_err(|_| SecretError::Malformed)?;
        let mut packed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        packed.extend_from_slice(&nonce);
        packed.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(packed)))
    }

    /// Opens what [`seal_for`](Self::seal_for) produced with the same
    /// context.
    pub fn open_for(&self, context: &str, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SecretError::Malformed)?;
        let packed = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed)?;
        let (nonce, ciphertext) = packed
            .split_at_checked(NONCE_LEN)
            .ok_or(SecretError::Malformed)?;
        let plaintext = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::WrongKeyOrTampered)?;
        // Authentic bytes that are not UTF-8 were not sealed by `seal_for`.
        String::from_utf8(plaintext).map_err(|_| SecretError::Malformed)
    }
}

/// Generates a key and encodes it the way key files and [`KEY_ENV`] expect
/// (base64), for operators setting up a PostgreSQL deployment.
pub fn generate_key_text() -> Result<String, SecretError> {
    Ok(STANDARD.encode(random_key()?))
}

fn random_key() -> Result<[u8; KEY_LEN], SecretError> {
    let mut key = [0u8; KEY_LEN];
    getrandom::getrandom(&mut key).map_err(|_| SecretError::RandomUnavailable)?;
    Ok(key)
}

/// 64 hex digits, else standard base64 of exactly 32 bytes. The two cannot be
/// confused: 64 characters of base64 would be 48 bytes.
fn parse_key(text: &str, origin: &str) -> Result<[u8; KEY_LEN], SecretError> {
    let text = text.trim();
    let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        STANDARD.decode(text).ok()
    };
    bytes
        .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes).ok())
        .ok_or_else(|| SecretError::BadKey {
            origin: origin.to_owned(),
        })
}

fn io_error(path: &Path, source: io::Error) -> SecretError {
    SecretError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(unix)]
fn check_private(file: &File, path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file
        .metadata()
        .map_err(|source| io_error(path, source))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::InsecureKeyFile {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Other platforms have no mode bits to check; their ACLs are the
/// operator's business.
#[cfg(not(unix))]
fn check_private(_file: &File, _path: &Path) -> Result<(), SecretError> {
    Ok(())
}

enum CreateError {
    Exists,
    Failed(SecretError),
}

fn create_key_file(path: &Path) -> Result<[u8; KEY_LEN], CreateError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| CreateError::Failed(io_error(parent, e)))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(CreateError::Exists),
        Err(e) => return Err(CreateError::Failed(io_error(path, e))),
    };
    let key = random_key().map_err(CreateError::Failed)?;
    let written = file
        .write_all(format!("{}\n", STANDARD.encode(key)).as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written key file would fail every later start; remove it so
        // the next attempt starts clean.
        drop(file);
        let _ = fs::remove_file(path);
        return Err(CreateError::Failed(io_error(path, e)));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_keys_parse_to_the_same_bytes() {
        let key = [7u8; KEY_LEN];
        let from_hex = parse_key(&hex::encode(key), "test").ok();
        let from_base64 = parse_key(&format!("  {}\n", STANDARD.encode(key)), "test").ok();
        assert_eq!(from_hex, Some(key));
        assert_eq!(from_base64, Some(key));
    }

    #[test]
    fn short_or_garbled_keys_are_refused_without_echoing_them() {
        for text in ["", "abcd", &hex::encode([1u8; 31]), "not base64 at all!"] {
            match parse_key(text, "test") {
                Err(error @ SecretError::BadKey { .. }) => {
                    let message = error.to_string();
                    assert!(text.is_empty() || !message.contains(text), "{message}");
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }
}
