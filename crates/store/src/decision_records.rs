//! Decision records kept in the store, so that on several nodes sharing
//! one database the record of a request is found whichever node served
//! it.
//!
//! Why here, and why so plain: the gateway keeps every record in a bounded
//! in-memory ring first; only a background writer puts them here, in
//! batches, so nothing on a request's path waits for the database. The
//! store keeps each record as the text it was given (the caller's JSON),
//! addressed by request id, and knows nothing of what is inside: who may
//! read which part of a record is decided by the reader. Records are kept
//! apart from the entities and the change log — they are not state, no
//! snapshot follows them, and losing some (a full queue, a trim) is
//! allowed — and bounded by age, count and size ([`DecisionRetention`]).

use crate::{Backend, Store, StoreError, plan};

/// A decision record as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    /// The request id the client got back.
    pub request_id: String,
    /// When the decision was taken, seconds since the epoch.
    pub recorded_at: i64,
    /// The record, as the writer gave it (JSON).
    pub body: String,
}

/// The trimming statements, in transaction `$tx` of either backend: the
/// statements are the same text on both, only the driver's types differ.
macro_rules! trim_in {
    ($tx:ident, $too_old:expr, $count:expr, $bytes:expr) => {{
        let mut deleted = sqlx::query(TRIM_AGE)
            .bind($too_old)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        for (beyond, limit) in [(BEYOND_COUNT, $count), (BEYOND_BYTES, $bytes)] {
            let through: Option<i64> = sqlx::query_scalar(beyond)
                .bind(limit)
                .fetch_optional(&mut *$tx)
                .await?;
            if let Some(through) = through {
                deleted += sqlx::query(TRIM_THROUGH)
                    .bind(through)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
            }
        }
        deleted
    }};
}

impl StoredDecision {
    /// What the row counts for in [`DecisionRetention::max_bytes`].
    fn bytes(&self) -> i64 {
        i64::try_from(self.request_id.len() + self.body.len()).unwrap_or(i64::MAX)
    }
}

/// How much of the persisted records is kept: the newest, at most
/// `max_records` of them and `max_bytes` of their text, none older than
/// `max_age_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionRetention {
    pub max_age_secs: i64,
    pub max_records: u64,
    pub max_bytes: u64,
}

/// Rows and bytes of text the persisted records hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionTotals {
    pub records: u64,
    pub bytes: u64,
}

// One text for both backends: SQLite takes `$N` parameters too.
const GET: &str =
    "SELECT request_id, recorded_at, body FROM decision_records WHERE request_id = $1";
const INSERT: &str = "INSERT INTO decision_records (request_id, recorded_at, bytes, body) ";
/// A request id recorded twice (a call that decided twice) keeps the last.
const ON_CONFLICT: &str = " ON CONFLICT (request_id) DO UPDATE SET \
     recorded_at = excluded.recorded_at, bytes = excluded.bytes, body = excluded.body";
const TRIM_AGE: &str = "DELETE FROM decision_records WHERE recorded_at < $1";
/// The newest row beyond the count: it and everything older go.
const BEYOND_COUNT: &str = "SELECT id FROM decision_records ORDER BY id DESC LIMIT 1 OFFSET $1";
/// The newest row at which the text, summed from the newest, passes the
/// limit: it and everything older go.
const BEYOND_BYTES: &str = "SELECT id FROM (SELECT id, SUM(bytes) OVER (ORDER BY id DESC) AS total \
     FROM decision_records) AS newest_first WHERE total > $1 ORDER BY id DESC LIMIT 1";
const TRIM_THROUGH: &str = "DELETE FROM decision_records WHERE id <= $1";
/// `SUM` is NUMERIC on PostgreSQL: cast back to an integer.
const TOTALS: &str =
    "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM decision_records";

/// Rows per insert statement: four values each, well within both
/// databases' parameter limits.
const ROWS_PER_INSERT: usize = plan::ROWS_PER_STATEMENT / 4;

/// `records` without earlier duplicates of a request id: one statement
/// may not write the same row twice.
fn last_of_each(records: &[StoredDecision]) -> Vec<&StoredDecision> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<&StoredDecision> = records
        .iter()
        .rev()
        .filter(|record| seen.insert(record.request_id.as_str()))
        .collect();
    kept.reverse();
    kept
}

fn to_db(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_db(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

impl Store {
    /// Writes `records` in one transaction (a request id already stored
    /// is overwritten: the last record of a request wins).
    pub async fn put_decision_records(&self, records: &[StoredDecision]) -> Result<(), StoreError> {
        let records = last_of_each(records);
        if records.is_empty() {
            return Ok(());
        }
        match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
                for chunk in records.chunks(ROWS_PER_INSERT) {
                    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(INSERT);
                    query.push_values(chunk, |mut row, record| {
                        row.push_bind(&record.request_id)
                            .push_bind(record.recorded_at)
                            .push_bind(record.bytes())
                            .push_bind(&record.body);
                    });
                    query.push(ON_CONFLICT);
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Backend::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                for chunk in records.chunks(ROWS_PER_INSERT) {
                    let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(INSERT);
                    query.push_values(chunk, |mut row, record| {
                        row.push_bind(&record.request_id)
                            .push_bind(record.recorded_at)
                            .push_bind(record.bytes())
                            .push_bind(&record.body);
                    });
                    query.push(ON_CONFLICT);
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The record of `request_id`, if the store holds it.
    pub async fn get_decision_record(
        &self,
        request_id: &str,
    ) -> Result<Option<StoredDecision>, StoreError> {
        let row: Option<(String, i64, String)> = match &self.inner.backend {
            Backend::Sqlite(db) => {
                sqlx::query_as(GET)
                    .bind(request_id)
                    .fetch_optional(&db.pool)
                    .await?
            }
            Backend::Postgres(db) => {
                sqlx::query_as(GET)
                    .bind(request_id)
                    .fetch_optional(&db.pool)
                    .await?
            }
        };
        Ok(row.map(|(request_id, recorded_at, body)| StoredDecision {
            request_id,
            recorded_at,
            body,
        }))
    }

    /// Deletes what `retention` no longer keeps, as of `now` (seconds
    /// since the epoch): records older than the maximum age, then the
    /// oldest beyond the count, then the oldest beyond the size. Returns
    /// how many records were deleted. Several nodes may trim at once.
    pub async fn trim_decision_records(
        &self,
        retention: DecisionRetention,
        now: i64,
    ) -> Result<u64, StoreError> {
        let too_old = now.saturating_sub(retention.max_age_secs);
        let (count, bytes) = (to_db(retention.max_records), to_db(retention.max_bytes));
        let deleted = match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
                let deleted = trim_in!(tx, too_old, count, bytes);
                tx.commit().await?;
                deleted
            }
            Backend::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                let deleted = trim_in!(tx, too_old, count, bytes);
                tx.commit().await?;
                deleted
            }
        };
        Ok(deleted)
    }

    /// How many records the store holds, and their size as trimming
    /// counts it.
    pub async fn decision_record_totals(&self) -> Result<DecisionTotals, StoreError> {
        let (records, bytes): (i64, i64) = match &self.inner.backend {
            Backend::Sqlite(db) => sqlx::query_as(TOTALS).fetch_one(&db.pool).await?,
            Backend::Postgres(db) => sqlx::query_as(TOTALS).fetch_one(&db.pool).await?,
        };
        Ok(DecisionTotals {
            records: from_db(records),
            bytes: from_db(bytes),
        })
    }
}
