#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Secrets at rest: sealing, tamper detection, and the key file's rules.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use iamgate_store::secrets::{SecretCipher, SecretError, generate_key_text};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[test]
fn sealed_secret_opens_to_the_original() {
    let cipher = SecretCipher::generate().unwrap();
    let sealed = cipher.seal(SECRET).unwrap();
    assert!(!sealed.contains(SECRET));
    assert!(sealed.starts_with("v1."));
    assert_eq!(cipher.open(&sealed).unwrap(), SECRET);
    // Fresh nonce each time: equal secrets do not look equal at rest.
    assert_ne!(cipher.seal(SECRET).unwrap(), sealed);
    assert_eq!(cipher.open(&cipher.seal("").unwrap()).unwrap(), "");
}

#[test]
fn tampered_secret_does_not_open() {
    let cipher = SecretCipher::generate().unwrap();
    let sealed = cipher.seal(SECRET).unwrap();
    // Flip a character in every position after the prefix, one at a time.
    for position in 3..sealed.len() {
        let mut bytes = sealed.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        if tampered == sealed {
            continue;
        }
        assert!(
            cipher.open(&tampered).is_err(),
            "tampering at {position} went unnoticed"
        );
    }
    let truncated = &sealed[..sealed.len() - 4];
    assert!(cipher.open(truncated).is_err());
    for garbage in ["", "v1.", "v1.!!!", "v2.AAAA", SECRET] {
        assert!(matches!(cipher.open(garbage), Err(SecretError::Malformed)));
    }
}

#[test]
fn secret_sealed_under_another_key_does_not_open() {
    let ours = SecretCipher::generate().unwrap();
    let theirs = SecretCipher::generate().unwrap();
    let foreign = theirs.seal(SECRET).unwrap();
    assert!(matches!(
        ours.open(&foreign),
        Err(SecretError::WrongKeyOrTampered)
    ));
}

#[test]
fn secret_bound_to_a_context_opens_only_in_that_context() {
    let cipher = SecretCipher::generate().unwrap();
    let sealed = cipher.seal_for("AKIAEXAMPLE000000001", SECRET).unwrap();
    assert_eq!(
        cipher.open_for("AKIAEXAMPLE000000001", &sealed).unwrap(),
        SECRET
    );
    assert!(matches!(
        cipher.open_for("AKIAEXAMPLE000000002", &sealed),
        Err(SecretError::WrongKeyOrTampered)
    ));
    assert!(cipher.open(&sealed).is_err());
}

#[test]
fn key_file_is_created_with_mode_0600_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("secret.key");
    let created = SecretCipher::load_or_create(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");

    let contents = fs::read_to_string(&path).unwrap();
    let sealed = created.seal(SECRET).unwrap();
    // Never overwritten: the second call reads the same key.
    let reloaded = SecretCipher::load_or_create(&path).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), contents);
    assert_eq!(reloaded.open(&sealed).unwrap(), SECRET);
    assert_eq!(
        SecretCipher::load(&path).unwrap().open(&sealed).unwrap(),
        SECRET
    );
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    fs::write(&path, generate_key_text().unwrap()).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        for result in [
            SecretCipher::load(&path),
            SecretCipher::load_or_create(&path),
        ] {
            match result {
                Err(SecretError::InsecureKeyFile { mode: found, .. }) => {
                    assert_eq!(found & 0o777, mode);
                }
                other => panic!("mode {mode:o}: {other:?}"),
            }
        }
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    SecretCipher::load(&path).unwrap();
}

#[test]
fn key_file_in_hex_is_accepted_and_garbage_refused_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    SecretCipher::load(&path).unwrap();

    fs::write(&path, "hunter2-is-not-a-key").unwrap();
    let error = SecretCipher::load(&path).unwrap_err();
    assert!(matches!(error, SecretError::BadKey { .. }));
    assert!(!error.to_string().contains("hunter2"));
}

#[test]
fn debug_never_shows_key_material() {
    let key = [0x5au8; 32];
    let cipher = SecretCipher::from_key(&key);
    let debug = format!("{cipher:?} {cipher:#?}");
    assert!(debug.contains("redacted"));
    assert!(!debug.contains("5a"), "{debug}");
    assert!(!debug.contains("90"), "{debug}"); // 0x5a as decimal
    assert!(!debug.to_lowercase().contains("wlpa"), "{debug}"); // base64 of the key
}
