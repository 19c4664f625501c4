//! Persistence for iamgate: a small transactional store of JSON entities with
//! a change feed, on embedded SQLite (the default: one file, nothing to
//! install) or on PostgreSQL (several gateway nodes sharing one state).
//!
//! # Why a generic entity store
//!
//! The IAM and API Gateway control planes own their data model; the store
//! only needs to keep documents addressed by `(kind, scope, key)` —
//! `("user", "111111111111", "bob")` — and to apply several writes at once
//! with conditions, because one AWS call often touches several entities
//! (creating an access key checks the user and the per-user count). So the
//! unit of writing is a [`WriteBatch`]: ordered puts and deletes, each with an
//! [`Expect`]ation, applied in ONE database transaction. The first failed
//! expectation aborts the whole batch and is reported with its op index and
//! what was found, which is exactly what the caller needs to answer
//! `EntityAlreadyExists` or `NoSuchEntity`.
//!
//! ```no_run
//! # async fn example() -> Result<(), iamgate_store::StoreError> {
//! use iamgate_store::{Expect, Store, StoreError, WriteBatch};
//! use serde_json::json;
//!
//! let store = Store::open("sqlite:///var/lib/iamgate/iamgate.db").await?;
//! let create_bob = WriteBatch::new().put(
//!     "user",
//!     "111111111111",
//!     "bob", // lower-cased: IAM names are unique case-insensitively
//!     json!({ "UserName": "Bob", "Path": "/" }),
//!     Expect::Absent,
//! );
//! match store.apply(&create_bob).await {
//!     Ok(seq) => println!("created in batch {seq}"),
//!     Err(StoreError::ExpectationFailed { index: 0, .. }) => println!("EntityAlreadyExists"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Sequence numbers and the change log
//!
//! Every applied batch gets the next sequence number and appends one row per
//! touched entity to the `changes` table, in the same transaction. The number
//! is handed out by updating a single counter row, which also serializes
//! writers: commit order is sequence order, so a reader that has seen batch N
//! has seen every batch before it and [`Store::changes_since`] never skips a
//! late commit. Control-plane writes are rare, so one writer at a time costs
//! nothing that matters.
//!
//! The data plane does not query the store per request: it holds an
//! in-memory snapshot ([`Store::load_all`]) and refreshes it when
//! [`Store::subscribe`] reports a newer sequence number, either applying
//! [`Store::changes_since`] or, after [`StoreError::Gap`] (the log was
//! trimmed), reloading everything.
//!
//! # Noticing other nodes' writes
//!
//! A store's own writes are announced as soon as they commit. Writes by other
//! processes arrive by PostgreSQL `LISTEN iamgate_changes` (the writer calls
//! `pg_notify` inside its transaction, so the notice is sent on commit), and,
//! on both backends, by polling the counter every 500 ms, so a missed
//! notification — or another process sharing an SQLite file — is still seen
//! within a second. A notification only wakes the poll; the number itself is
//! always read from this store's own tables, because notification channels
//! are shared by every schema of a PostgreSQL database.
//!
//! # Secrets
//!
//! Bodies are stored as given. Access-key secrets must be encrypted by the
//! caller with [`SecretCipher`] before they are put in a body.

mod decision_records;
mod error;
mod model;
mod peers;
mod plan;
mod postgres;
pub mod secrets;
mod sqlite;
mod usage_counts;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use decision_records::{DecisionRetention, DecisionTotals, StoredDecision};
pub use error::StoreError;
pub use model::{
    Address, Change, ChangeOp, Delta, Entity, EntityText, Expect, Gap, Retention, Snapshot,
    Touched, WriteBatch, WriteOp,
};
pub use peers::Peer;
pub use secrets::{SecretCipher, SecretError};
pub use usage_counts::UsageCount;

/// The kind of the store's own documents (keys, the digest of the last
/// world file applied): never IAM or API Gateway records.
pub const SYSTEM_KIND: &str = "system";

/// How often every store re-reads the newest sequence number, whatever the
/// notifications say. Half the one-second bound on seeing another node's write.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A handle on one database. Cheap to clone; clones share the connection pool
/// and the change watcher, which stops when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    latest: watch::Sender<u64>,
    watcher: JoinHandle<()>,
}

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PostgresBackend),
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.inner.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("Store")
            .field("backend", &backend)
            .field("latest_seq", &*self.inner.latest.borrow())
            .finish()
    }
}

impl Store {
    /// Opens (and migrates) the store at `url`:
    ///
    /// - `sqlite://PATH` (`sqlite:///abs/path.db` or `sqlite://relative.db`):
    ///   the file is created if missing and put in WAL mode;
    /// - `postgres://…` or `postgresql://…`: libpq-style URL; a schema can be
    ///   chosen with `options[search_path]=NAME`.
    ///
    /// Migrations are versioned and idempotent: opening an up-to-date
    /// database changes nothing. Must be called inside a tokio runtime (it
    /// spawns the change watcher).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::SqliteBackend::open(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::PostgresBackend::open(url).await?)
        } else {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            return Err(StoreError::UnsupportedUrl {
                scheme: scheme.to_owned(),
            });
        };
        let seq = match &backend {
            Backend::Sqlite(db) => db.latest_seq().await?,
            Backend::Postgres(db) => db.latest_seq().await?,
        };
        let (latest, _) = watch::channel(seq);
        let watcher = match &backend {
            Backend::Sqlite(db) => tokio::spawn(db.watch(latest.clone(), POLL_INTERVAL)),
            Backend::Postgres(db) => tokio::spawn(db.watch(latest.clone(), POLL_INTERVAL)),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                latest,
                watcher,
            }),
        })
    }

    /// Applies `batch` in one transaction and returns its sequence number.
    ///
    /// All or nothing: if op `i`'s expectation fails the transaction is rolled
    /// back — no entity and no change-log row of the batch is written — and
    /// the error is [`StoreError::ExpectationFailed`] with `index: i`. An
    /// empty batch writes nothing and returns the current sequence number.
    pub async fn apply(&self, batch: &WriteBatch) -> Result<u64, StoreError> {
        if batch.is_empty() {
            return self.latest_seq().await;
        }
        let seq = match &self.inner.backend {
            Backend::Sqlite(db) => db.apply(batch).await?,
            Backend::Postgres(db) => db.apply(batch).await?,
        };
        advance(&self.inner.latest, seq);
        Ok(seq)
    }

    /// The entity at `(kind, scope, key)`, if any.
    pub async fn get(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
    ) -> Result<Option<Entity>, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.get(kind, scope, key).await,
            Backend::Postgres(db) => db.get(kind, scope, key).await,
        }
    }

    /// Every entity of `kind` in `scope`, ordered by key (byte order).
    pub async fn list(&self, kind: &str, scope: &str) -> Result<Vec<Entity>, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.list(kind, scope).await,
            Backend::Postgres(db) => db.list(kind, scope).await,
        }
    }

    /// Every entity of `kind` in `scope` whose body's `user` member names
    /// `user` (ASCII case ignored, as IAM names compare), or has no `user`
    /// when `user` is `None`; ordered by key. An index serves it: finding a
    /// user's access keys costs the same in an account of ten users as in
    /// one of a hundred thousand.
    pub async fn list_of_user(
        &self,
        kind: &str,
        scope: &str,
        user: Option<&str>,
    ) -> Result<Vec<Entity>, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.list_of_user(kind, scope, user).await,
            Backend::Postgres(db) => db.list_of_user(kind, scope, user).await,
        }
    }

    /// Every entity, read in one snapshot together with the sequence number
    /// it reflects.
    pub async fn load_all(&self) -> Result<Snapshot, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.load_all().await,
            Backend::Postgres(db) => db.load_all().await,
        }
    }

    /// Every entity, read in one snapshot and handed to `visit` one at a
    /// time as the rows arrive, so a caller that keeps less than the rows
    /// never holds them all; returns the sequence number the snapshot
    /// reflects. Bodies come as JSON text: the one reader of everything
    /// (a node's full load) decodes each straight into its record.
    pub async fn scan_all(
        &self,
        visit: &mut (dyn FnMut(EntityText) + Send),
    ) -> Result<u64, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.scan_all(visit).await,
            Backend::Postgres(db) => db.scan_all(visit).await,
        }
    }

    /// The change-log rows of every batch after `seq`, in order, or
    /// [`StoreError::Gap`] when the log no longer covers all of them (it was
    /// trimmed past `seq`, or `seq` is newer than anything here).
    pub async fn changes_since(&self, seq: u64) -> Result<Vec<Change>, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.changes_since(seq).await,
            Backend::Postgres(db) => db.changes_since(seq).await,
        }
    }

    /// How many change-log rows there are after `seq`: what reading the
    /// delta would cost, so that a node far behind can read the whole
    /// store instead (in key order, without one lookup per change).
    pub async fn change_count_since(&self, seq: u64) -> Result<u64, StoreError> {
        let count = match &self.inner.backend {
            Backend::Sqlite(db) => db.change_count_since(seq).await?,
            Backend::Postgres(db) => db.change_count_since(seq).await?,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The entities changed after `seq`, each as it is now, or
    /// [`StoreError::Gap`] when the log no longer covers every batch after
    /// `seq`. This is how a node brings its snapshot up to date without
    /// reading the whole store.
    pub async fn delta_since(&self, seq: u64) -> Result<Delta, StoreError> {
        let (latest, rows) = match &self.inner.backend {
            Backend::Sqlite(db) => db.delta_since(seq).await?,
            Backend::Postgres(db) => db.delta_since(seq).await?,
        };
        // Rows come in change order; an entity changed twice keeps the
        // place of its last change.
        let mut last_change = std::collections::HashMap::new();
        for (position, row) in rows.iter().enumerate() {
            last_change.insert((&row.1, &row.2, &row.3), position);
        }
        let mut touched = Vec::with_capacity(last_change.len());
        for (position, (_, kind, scope, key, version, body)) in rows.iter().enumerate() {
            if last_change.get(&(kind, scope, key)) != Some(&position) {
                continue;
            }
            let entity = match (version, body) {
                (Some(version), Some(body)) => Some(Entity {
                    kind: kind.clone(),
                    scope: scope.clone(),
                    key: key.clone(),
                    version: *version,
                    body: body.0.clone(),
                }),
                _ => None,
            };
            touched.push(Touched {
                kind: kind.clone(),
                scope: scope.clone(),
                key: key.clone(),
                entity,
            });
        }
        Ok(Delta {
            seq: latest,
            touched,
        })
    }

    /// Records that `node` has applied every batch up to `applied`, and
    /// trims what `retention` no longer keeps: batches every live node has
    /// applied, and batches older than the maximum age. Returns the
    /// highest sequence number now trimmed. Nodes that have not checked in
    /// for a day are forgotten.
    pub async fn checkpoint(
        &self,
        node: &str,
        applied: u64,
        retention: Retention,
    ) -> Result<u64, StoreError> {
        const FORGET_AFTER_SECS: i64 = 86_400;
        let now = unix_now();
        let (live_applied, aged) = match &self.inner.backend {
            Backend::Sqlite(db) => {
                db.record_node(node, applied, now, now - FORGET_AFTER_SECS)
                    .await?;
                db.retention_floor(now - retention.liveness_secs, now - retention.max_age_secs)
                    .await?
            }
            Backend::Postgres(db) => {
                db.record_node(node, applied, now, now - FORGET_AFTER_SECS)
                    .await?;
                db.retention_floor(now - retention.liveness_secs, now - retention.max_age_secs)
                    .await?
            }
        };
        let through = live_applied.unwrap_or(applied).max(aged.unwrap_or(0));
        self.trim_changes_before(through.saturating_add(1)).await?;
        Ok(through)
    }

    /// How many rows the change log holds (one per entity per batch).
    pub async fn change_log_rows(&self) -> Result<u64, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.change_log_rows().await,
            Backend::Postgres(db) => db.change_log_rows().await,
        }
    }

    /// Deletes the change-log rows of batches before `seq`. Readers that are
    /// further behind get a [`StoreError::Gap`] and reload.
    pub async fn trim_changes_before(&self, seq: u64) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.trim_changes_before(seq).await,
            Backend::Postgres(db) => db.trim_changes_before(seq).await,
        }
    }

    /// The sequence number of the newest committed batch (0: none yet).
    pub async fn latest_seq(&self) -> Result<u64, StoreError> {
        let seq = match &self.inner.backend {
            Backend::Sqlite(db) => db.latest_seq().await?,
            Backend::Postgres(db) => db.latest_seq().await?,
        };
        advance(&self.inner.latest, seq);
        Ok(seq)
    }

    /// A receiver of the newest known sequence number: updated when this
    /// store commits, when another node's commit is noticed, and never moving
    /// backwards. Use `changed()` / `wait_for()` and then `changes_since`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.latest.subscribe()
    }

    /// Stops the change watcher and closes the connection pool, waiting for
    /// connections in use to be returned. Later calls on this store (and its
    /// clones) fail.
    pub async fn close(&self) {
        self.inner.watcher.abort();
        match &self.inner.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }
}

/// Raises the announced sequence number, never lowering it: the poll and a
/// commit may report out of order.
fn advance(latest: &watch::Sender<u64>, seq: u64) {
    latest.send_if_modified(|current| {
        if seq > *current {
            *current = seq;
            true
        } else {
            false
        }
    });
}

/// Database integers are `i64`; sequence numbers are handed out from 1 up.
fn seq_from_db(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("negative sequence number {value}")))
}

/// A sequence number beyond `i64::MAX` cannot exist in the database; clamping
/// keeps comparisons right.
fn seq_to_db(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// The gap rule shared by both backends: the caller needs every change after
/// `requested`; rows up to `trimmed_through` may be gone; and a number beyond
/// `latest` cannot be from this store.
fn gap(requested: u64, trimmed_through: u64, latest: u64) -> Option<Gap> {
    (requested < trimmed_through || requested > latest).then_some(Gap {
        requested,
        trimmed_through,
        latest,
    })
}

/// What trimming "before `seq`" records as trimmed: never less than before,
/// and never beyond the newest batch (rows of future batches are not gone).
fn trimmed_through_after(seq: u64, previous: u64, latest: u64) -> u64 {
    previous.max(seq.saturating_sub(1).min(latest))
}

/// Row shape shared by the backends' entity queries.
type EntityRow = (String, String, String, i64, sqlx::types::Json<Value>);

fn entity_from_row((kind, scope, key, version, body): EntityRow) -> Entity {
    Entity {
        kind,
        scope,
        key,
        version,
        body: body.0,
    }
}

/// Row shape of the backends' delta queries: a change and the entity's
/// state now (absent if deleted).
type DeltaRow = (
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<sqlx::types::Json<Value>>,
);

/// Seconds since the epoch, as change-log rows and node check-ins record
/// time.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Row shape shared by the backends' change-log queries.
type ChangeRow = (i64, String, String, String, String);

fn change_from_row((seq, kind, scope, key, op): ChangeRow) -> Result<Change, StoreError> {
    let op = ChangeOp::parse(&op)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown change op {op:?}")))?;
    Ok(Change {
        seq: seq_from_db(seq)?,
        kind,
        scope,
        key,
        op,
    })
}
