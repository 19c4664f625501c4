//! Signing-key derivation, the derived-key cache, and the secret type.
//!
//! Deriving a signing key costs four HMACs; a request costs one more. The
//! cache keeps, per credential scope, an HMAC already keyed with the derived
//! key (its inner and outer pads hashed), so a warm request pays only for the
//! string to sign.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::credential::Credential;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A secret access key. It never prints and compares in constant time.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(secret: impl Into<Arc<str>>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the few places that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time equality: timing must not tell how much of a guess matched.
    pub fn ct_eq(&self, other: &Secret) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of every length, so this cannot fail; if it ever did,
    // an empty key only yields signatures that do not match (fail closed).
    HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `kSigning` for a secret and scope (date, region, service).
pub fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&seed, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

struct CachedKey {
    secret: Secret,
    mac: HmacSha256,
}

/// Derived signing keys by credential (`key/date/region/service/aws4_request`).
///
/// Each entry remembers the secret it was derived from: if a key id comes
/// back with another secret (a configuration change), the entry is rebuilt
/// rather than trusted. The cache is bounded; when full it starts afresh,
/// which also drops keys for days gone by.
pub struct SigningKeyCache {
    entries: RwLock<HashMap<Box<str>, CachedKey>>,
    capacity: usize,
}

impl SigningKeyCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Runs `use_mac` with an HMAC keyed with the signing key for this
    /// credential and secret. Lending it instead of returning a copy saves
    /// moving the keyed state around: the caller clones it once, where it
    /// needs its own.
    pub(crate) fn with_signing_mac<R>(
        &self,
        credential: &Credential<'_>,
        secret: &Secret,
        mut use_mac: impl FnMut(&HmacSha256) -> R,
    ) -> R {
        let last_key = LAST_KEY.try_with(|last| {
            let last = last.try_borrow().ok()?;
            let entry = last.as_ref()?;
            (*entry.credential == *credential.as_str() && entry.secret.ct_eq(secret))
                .then(|| use_mac(&entry.mac))
        });
        if let Ok(Some(result)) = last_key {
            return result;
        }
        let mac = self.shared_signing_mac(credential, secret);
        last_key_store(credential, secret, &mac);
        use_mac(&mac)
    }

    /// A copy of the keyed HMAC, for tests.
    #[cfg(test)]
    fn signing_mac(&self, credential: &Credential<'_>, secret: &Secret) -> HmacSha256 {
        self.with_signing_mac(credential, secret, HmacSha256::clone)
    }

    fn shared_signing_mac(&self, credential: &Credential<'_>, secret: &Secret) -> HmacSha256 {
        {
            let entries = self
                .entries
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(entry) = entries.get(credential.as_str())
                && entry.secret.ct_eq(secret)
            {
                return entry.mac.clone();
            }
        }
        let key = derive_signing_key(
            secret.expose(),
            credential.date(),
            credential.region(),
            credential.service(),
        );
        let mac = keyed(&key);
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(
            credential.as_str().into(),
            CachedKey {
                secret: secret.clone(),
                mac: mac.clone(),
            },
        );
        mac
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .read()
            .map(|entries| entries.len())
            .unwrap_or(0)
    }
}

/// The signing key a thread used last, in front of the shared cache.
///
/// Clients keep signing with the same credential, so a thread mostly meets
/// the one it met before; this answers without the lock (two atomic
/// operations on a cache line every thread shares) and without SipHash over
/// the credential. A derived key is a function of the secret and the
/// credential's date, region and service alone, so an entry is valid for
/// every verifier and never goes stale: it is used when the credential text
/// and the secret (compared in constant time) are both the same.
struct LastKey {
    credential: String,
    secret: Secret,
    mac: HmacSha256,
}

thread_local! {
    static LAST_KEY: RefCell<Option<LastKey>> = const { RefCell::new(None) };
}

fn last_key_store(credential: &Credential<'_>, secret: &Secret, mac: &HmacSha256) {
    // Only fails while the thread is being torn down: then there is no
    // next request to serve faster.
    let _ = LAST_KEY.try_with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return;
        };
        match &mut *last {
            // Reuses the allocation: threads that alternate between
            // credentials replace this entry on every request.
            Some(entry) => {
                entry.credential.clear();
                entry.credential.push_str(credential.as_str());
                entry.secret = secret.clone();
                entry.mac = mac.clone();
            }
            None => {
                *last = Some(LastKey {
                    credential: credential.as_str().to_owned(),
                    secret: secret.clone(),
                    mac: mac.clone(),
                });
            }
        }
    });
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new(16_384)
    }
}

/// Lower-case hex of a 32-byte digest, without allocating.
///
/// Written as two straight passes without branches or table look-ups
/// (split into nibbles, then `b'0' + n`, plus 39 to reach `b'a'` when
/// `n > 9`) so that it compiles to a few dozen vector instructions.
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut nibbles = [0u8; 64];
    for (pair, byte) in nibbles.chunks_exact_mut(2).zip(bytes) {
        if let [high, low] = pair {
            *high = byte >> 4;
            *low = byte & 0x0F;
        }
    }
    nibbles.map(|nibble| nibble + b'0' + u8::from(nibble > 9) * (b'a' - b'0' - 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derived_key_matches_the_documented_get_vanilla_value() {
        let key = derive_signing_key(SECRET, "20150830", "us-east-1", "service");
        assert_eq!(
            hex::encode(key),
            "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"
        );
    }

    #[test]
    fn hex_is_the_hex_crates() {
        let mut bytes = [0u8; 32];
        for start in 0..8u8 {
            for (index, byte) in bytes.iter_mut().enumerate() {
                *byte = start.wrapping_mul(32).wrapping_add(index as u8);
            }
            assert_eq!(hex32(&bytes).to_vec(), hex::encode(bytes).into_bytes());
        }
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        assert_eq!(format!("{:?}", Secret::new(SECRET)), "Secret(<redacted>)");
    }

    #[test]
    fn cache_rebuilds_an_entry_when_the_secret_changes() {
        let cache = SigningKeyCache::new(8);
        let credential =
            Credential::parse("AKID/20150830/us-east-1/service/aws4_request".into()).unwrap();
        let sign = |secret: &str| {
            let mut mac = cache.signing_mac(&credential, &Secret::new(secret));
            mac.update(b"x");
            mac.finalize().into_bytes().to_vec()
        };
        let first = sign(SECRET);
        assert_eq!(sign(SECRET), first, "a warm entry gives the same key");
        assert_ne!(
            sign("another-secret"),
            first,
            "a changed secret must not reuse the old key"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_last_key_of_a_thread_serves_only_its_own_credential_and_secret() {
        let cache = SigningKeyCache::new(8);
        let mac = |credential: &str, secret: &str| {
            let credential = Credential::parse(credential.into()).unwrap();
            let mut mac = cache.signing_mac(&credential, &Secret::new(secret));
            mac.update(b"x");
            mac.finalize().into_bytes().to_vec()
        };
        let derived = |date: &str, secret: &str| {
            let mut mac = keyed(&derive_signing_key(secret, date, "us-east-1", "service"));
            mac.update(b"x");
            mac.finalize().into_bytes().to_vec()
        };
        let day1 = "AKID/20150830/us-east-1/service/aws4_request";
        let day2 = "AKID/20150831/us-east-1/service/aws4_request";
        for _ in 0..2 {
            assert_eq!(mac(day1, SECRET), derived("20150830", SECRET));
            assert_eq!(mac(day1, SECRET), derived("20150830", SECRET));
            assert_eq!(mac(day1, "other"), derived("20150830", "other"));
            assert_eq!(mac(day2, "other"), derived("20150831", "other"));
            assert_eq!(mac(day2, SECRET), derived("20150831", SECRET));
        }
    }

    #[test]
    fn cache_stays_within_its_capacity() {
        let cache = SigningKeyCache::new(2);
        for day in 1..=5 {
            let text = format!("AKID/2015080{day}/us-east-1/service/aws4_request");
            let credential = Credential::parse(text.into()).unwrap();
            cache.signing_mac(&credential, &Secret::new(SECRET));
        }
        assert!(cache.len() <= 2);
    }
}
