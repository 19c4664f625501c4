use thiserror::Error;

use crate::model::{Expect, Gap};

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Op `index` of a batch found the entity at `found` (`None`: absent),
    /// which its expectation does not admit. Nothing of the batch was written.
    #[error("write batch op {index}: expected {expected:?}, found {}", found_text(*found))]
    ExpectationFailed {
        index: usize,
        expected: Expect,
        found: Option<i64>,
    },

    /// `changes_since` cannot answer: reload everything.
    #[error(
        "change log has no complete record after seq {}: trimmed through {}, latest {}; reload everything",
        .0.requested, .0.trimmed_through, .0.latest
    )]
    Gap(Gap),

    /// The store URL is neither `sqlite:` nor `postgres:`. Only the scheme is
    /// kept: the rest may hold a password.
    #[error("unsupported store URL scheme {scheme:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl { scheme: String },

    #[error("store database: {0}")]
    Database(#[from] sqlx::Error),

    #[error("store migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// A row the store wrote itself does not read back (negative sequence
    /// number, unknown change op): the database was edited by hand or belongs
    /// to something else.
    #[error("store holds an unexpected value: {0}")]
    Corrupt(String),
}

fn found_text(found: Option<i64>) -> String {
    match found {
        Some(version) => format!("version {version}"),
        None => "nothing".to_owned(),
    }
}
