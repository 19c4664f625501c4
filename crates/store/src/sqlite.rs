//! The embedded backend: one SQLite file in WAL mode, so readers never block
//! the writer and another process (a CLI tool, a second server on the same
//! data directory) can share the file.
//!
//! Writes start with `BEGIN IMMEDIATE`, taking SQLite's write lock before the
//! first read: two writers then queue on the busy timeout instead of both
//! reading, one upgrading and the other failing with `SQLITE_BUSY`. Inside one
//! process a mutex queues writers first, so they never spin on that timeout.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;

use sqlx::QueryBuilder;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::types::Json;
use tokio::sync::{Mutex, watch};

use crate::model::{Change, Entity, EntityText, Snapshot, WriteBatch};
use crate::plan;
use crate::{
    ChangeRow, DeltaRow, EntityRow, StoreError, advance, change_from_row, entity_from_row, gap,
    seq_from_db, seq_to_db, trimmed_through_after, unix_now,
};

/// The user an entity belongs to, as the `entities_by_user` index
/// (migration 0005) computes it: queries must spell it the same way for
/// the index to serve them.
macro_rules! user_of {
    () => {
        "(CASE WHEN instr(body, '\"user\"') > 0 THEN lower(json_extract(body, '$.user')) END)"
    };
}

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_CONNECTIONS: u32 = 4;

pub(crate) struct SqliteBackend {
    pub(crate) pool: SqlitePool,
    pub(crate) write_gate: Mutex<()>,
}

impl SqliteBackend {
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // The embedded default lives in a data directory that may not exist
        // yet on first start.
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            write_gate: Mutex::new(()),
        })
    }

    pub(crate) async fn apply(&self, batch: &WriteBatch) -> Result<u64, StoreError> {
        let _writer = self.write_gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE change_log_state SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
        )
        .fetch_one(&mut *tx)
        .await?;

        let touched = plan::Outcome::of(batch);
        let mut found = Vec::new();
        for chunk in touched.addresses().chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT kind, scope, key, version FROM entities WHERE (kind, scope, key) IN (",
            );
            query.push_values(chunk, |mut row, (kind, scope, key)| {
                row.push_bind(*kind).push_bind(*scope).push_bind(*key);
            });
            query.push(")");
            let rows: Vec<(String, String, String, i64)> =
                query.build_query_as().fetch_all(&mut *tx).await?;
            found.extend(rows);
        }
        let plan = match plan::plan(batch, touched, seq, &found) {
            Ok(plan) => plan,
            Err(error) => {
                // Rolling back now frees the write lock before the caller
                // sees the error; if the rollback itself fails, the
                // connection is discarded, which discards the transaction.
                let _ = tx.rollback().await;
                return Err(error);
            }
        };
        for chunk in plan.deletes.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Sqlite>::new(
                "DELETE FROM entities WHERE (kind, scope, key) IN (",
            );
            query.push_values(chunk, |mut row, (kind, scope, key)| {
                row.push_bind(*kind).push_bind(*scope).push_bind(*key);
            });
            query.push(")");
            query.build().execute(&mut *tx).await?;
        }
        for chunk in plan.upserts.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO entities (kind, scope, key, version, body) ",
            );
            query.push_values(chunk, |mut row, ((kind, scope, key), body)| {
                row.push_bind(*kind)
                    .push_bind(*scope)
                    .push_bind(*key)
                    .push_bind(seq)
                    .push_bind(Json(*body));
            });
            query.push(
                " ON CONFLICT (kind, scope, key) \
                 DO UPDATE SET version = excluded.version, body = excluded.body",
            );
            query.build().execute(&mut *tx).await?;
        }
        let at = unix_now();
        for chunk in plan.changes.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO changes (seq, idx, kind, scope, key, op, at) ",
            );
            query.push_values(chunk, |mut row, (index, (kind, scope, key), op)| {
                row.push_bind(seq)
                    .push_bind(i64::try_from(*index).unwrap_or(i64::MAX))
                    .push_bind(*kind)
                    .push_bind(*scope)
                    .push_bind(*key)
                    .push_bind(op.as_str())
                    .push_bind(at);
            });
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        seq_from_db(seq)
    }

    pub(crate) async fn get(
        &self,
        kind: &str,
        scope: &str,
        key: &str,
    ) -> Result<Option<Entity>, StoreError> {
        let row: Option<EntityRow> = sqlx::query_as(
            "SELECT kind, scope, key, version, body FROM entities \
             WHERE kind = ? AND scope = ? AND key = ?",
        )
        .bind(kind)
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(entity_from_row))
    }

    pub(crate) async fn list(&self, kind: &str, scope: &str) -> Result<Vec<Entity>, StoreError> {
        let rows: Vec<EntityRow> = sqlx::query_as(
            "SELECT kind, scope, key, version, body FROM entities \
             WHERE kind = ? AND scope = ? ORDER BY key",
        )
        .bind(kind)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(entity_from_row).collect())
    }

    /// `INDEXED BY`: without statistics SQLite would take the primary key's
    /// `(kind, scope)` prefix and read the whole scope.
    pub(crate) async fn list_of_user(
        &self,
        kind: &str,
        scope: &str,
        user: Option<&str>,
    ) -> Result<Vec<Entity>, StoreError> {
        let rows: Vec<EntityRow> = match user {
            Some(user) => sqlx::query_as(concat!(
                "SELECT kind, scope, key, version, body FROM entities INDEXED BY entities_by_user \
                     WHERE kind = ? AND scope = ? AND ",
                user_of!(),
                " = lower(?) ORDER BY key",
            ))
            .bind(kind)
            .bind(scope)
            .bind(user)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query_as(concat!(
                "SELECT kind, scope, key, version, body FROM entities INDEXED BY entities_by_user \
                     WHERE kind = ? AND scope = ? AND ",
                user_of!(),
                " IS NULL ORDER BY key",
            ))
            .bind(kind)
            .bind(scope)
            .fetch_all(&self.pool)
            .await?,
        };
        Ok(rows.into_iter().map(entity_from_row).collect())
    }

    pub(crate) async fn scan_all(
        &self,
        visit: &mut (dyn FnMut(EntityText) + Send),
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        {
            let mut rows = sqlx::query_as::<_, (String, String, String, i64, String)>(
                "SELECT kind, scope, key, version, body FROM entities ORDER BY kind, scope, key",
            )
            .fetch(&mut *tx);
            while let Some((kind, scope, key, version, body)) = rows.try_next().await? {
                visit(EntityText {
                    kind,
                    scope,
                    key,
                    version,
                    body,
                });
            }
        }
        tx.commit().await?;
        seq_from_db(seq)
    }

    pub(crate) async fn load_all(&self) -> Result<Snapshot, StoreError> {
        // In WAL mode a read transaction sees one snapshot from its first
        // read to its end, whatever commits meanwhile.
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<EntityRow> = sqlx::query_as(
            "SELECT kind, scope, key, version, body FROM entities ORDER BY kind, scope, key",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Snapshot {
            seq: seq_from_db(seq)?,
            entities: rows.into_iter().map(entity_from_row).collect(),
        })
    }

    pub(crate) async fn changes_since(&self, seq: u64) -> Result<Vec<Change>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (latest, trimmed_through): (i64, i64) =
            sqlx::query_as("SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (latest, trimmed_through) = (seq_from_db(latest)?, seq_from_db(trimmed_through)?);
        if let Some(gap) = gap(seq, trimmed_through, latest) {
            return Err(StoreError::Gap(gap));
        }
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT seq, kind, scope, key, op FROM changes WHERE seq > ? ORDER BY seq, idx",
        )
        .bind(seq_to_db(seq))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter().map(change_from_row).collect()
    }

    pub(crate) async fn change_count_since(&self, seq: u64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE seq > ?")
                .bind(seq_to_db(seq))
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn delta_since(&self, seq: u64) -> Result<(u64, Vec<DeltaRow>), StoreError> {
        let mut tx = self.pool.begin().await?;
        let (latest, trimmed_through): (i64, i64) =
            sqlx::query_as("SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (latest, trimmed_through) = (seq_from_db(latest)?, seq_from_db(trimmed_through)?);
        if let Some(gap) = gap(seq, trimmed_through, latest) {
            return Err(StoreError::Gap(gap));
        }
        let rows: Vec<DeltaRow> = sqlx::query_as(
            "SELECT c.seq, c.kind, c.scope, c.key, e.version, e.body FROM changes c \
             LEFT JOIN entities e ON e.kind = c.kind AND e.scope = c.scope AND e.key = c.key \
             WHERE c.seq > ? ORDER BY c.seq, c.idx",
        )
        .bind(seq_to_db(seq))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((latest, rows))
    }

    pub(crate) async fn record_node(
        &self,
        node: &str,
        applied: u64,
        now: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let _writer = self.write_gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO nodes (id, applied_seq, seen_at) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET applied_seq = excluded.applied_seq, seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(seq_to_db(applied))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM nodes WHERE seen_at < ?")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn retention_floor(
        &self,
        live_since: i64,
        committed_before: i64,
    ) -> Result<(Option<u64>, Option<u64>), StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MIN(applied_seq) FROM nodes WHERE seen_at >= ?")
                .bind(live_since)
                .fetch_one(&self.pool)
                .await?;
        let aged: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM changes WHERE at > 0 AND at < ?")
                .bind(committed_before)
                .fetch_one(&self.pool)
                .await?;
        Ok((
            applied.map(seq_from_db).transpose()?,
            aged.map(seq_from_db).transpose()?,
        ))
    }

    pub(crate) async fn change_log_rows(&self) -> Result<u64, StoreError> {
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM changes")
            .fetch_one(&self.pool)
            .await?;
        seq_from_db(rows)
    }

    pub(crate) async fn trim_changes_before(&self, seq: u64) -> Result<(), StoreError> {
        let _writer = self.write_gate.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (latest, previous): (i64, i64) =
            sqlx::query_as("SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let through = trimmed_through_after(seq, seq_from_db(previous)?, seq_from_db(latest)?);
        sqlx::query("DELETE FROM changes WHERE seq <= ?")
            .bind(seq_to_db(through))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE change_log_state SET trimmed_through = ? WHERE id = 1")
            .bind(seq_to_db(through))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn latest_seq(&self) -> Result<u64, StoreError> {
        latest_seq(&self.pool).await
    }

    /// Polls the counter: the only way to notice another process's commit to
    /// the same file.
    pub(crate) fn watch(
        &self,
        latest: watch::Sender<u64>,
        every: Duration,
    ) -> impl Future<Output = ()> + Send + 'static {
        let pool = self.pool.clone();
        async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                // A failed poll (file briefly locked, disk hiccup) is retried
                // at the next tick; there is no one to report it to.
                if let Ok(seq) = latest_seq(&pool).await {
                    advance(&latest, seq);
                }
            }
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn latest_seq(pool: &SqlitePool) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
        .fetch_one(pool)
        .await?;
    seq_from_db(seq)
}
