//! The shared backend: PostgreSQL, for several gateway nodes on one state.
//!
//! Writers serialize on the single `change_log_state` row, which every write
//! transaction updates first (READ COMMITTED is enough: after the lock is
//! granted, each later statement sees everything committed before). So two
//! nodes racing `Expect::Absent` on one key cannot both succeed, a
//! `Version` check cannot be overtaken between check and write, and commit
//! order is sequence order. The writer calls `pg_notify` inside its
//! transaction; PostgreSQL delivers it on commit only.
//!
//! Snapshot reads (`load_all`, `changes_since`) run REPEATABLE READ so that
//! all their statements see one moment.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use std::collections::HashMap;

use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::types::Json;
use tokio::sync::{Notify, watch};

use crate::model::{Change, Entity, EntityText, Snapshot, WriteBatch};
use crate::plan;
use crate::{
    ChangeRow, DeltaRow, EntityRow, StoreError, advance, change_from_row, entity_from_row, gap,
    seq_from_db, seq_to_db, trimmed_through_after, unix_now,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The notification channel. Channels are per database, not per schema, so
/// a notification only wakes the poll of the counter in our own schema.
const CHANNEL: &str = "iamgate_changes";
const MAX_CONNECTIONS: u32 = 8;
/// Pause before listening again after the listening connection failed; the
/// poll keeps running meanwhile.
const RELISTEN_DELAY: Duration = Duration::from_secs(1);
const SNAPSHOT_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

pub(crate) struct PostgresBackend {
    pub(crate) pool: PgPool,
}

impl PostgresBackend {
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) async fn apply(&self, batch: &WriteBatch) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE change_log_state SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
        )
        .fetch_one(&mut *tx)
        .await?;

        let touched = plan::Outcome::of(batch);
        let mut found = Vec::new();
        for chunk in touched.addresses().chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Postgres>::new(
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
                // Rolling back now releases the counter lock before the
                // caller sees the error. If the rollback fails the
                // connection is discarded, and the server aborts the
                // transaction with it.
                let _ = tx.rollback().await;
                return Err(error);
            }
        };
        for chunk in plan.deletes.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Postgres>::new(
                "DELETE FROM entities WHERE (kind, scope, key) IN (",
            );
            query.push_values(chunk, |mut row, (kind, scope, key)| {
                row.push_bind(*kind).push_bind(*scope).push_bind(*key);
            });
            query.push(")");
            query.build().execute(&mut *tx).await?;
        }
        for chunk in plan.upserts.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Postgres>::new(
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
            let mut query = QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO changes (seq, idx, kind, scope, key, op, at) ",
            );
            query.push_values(chunk, |mut row, (index, (kind, scope, key), op)| {
                row.push_bind(seq)
                    .push_bind(i32::try_from(*index).unwrap_or(i32::MAX))
                    .push_bind(*kind)
                    .push_bind(*scope)
                    .push_bind(*key)
                    .push_bind(op.as_str())
                    .push_bind(at);
            });
            query.build().execute(&mut *tx).await?;
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(seq.to_string())
            .execute(&mut *tx)
            .await?;
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
             WHERE kind = $1 AND scope = $2 AND key = $3",
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
             WHERE kind = $1 AND scope = $2 ORDER BY key",
        )
        .bind(kind)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(entity_from_row).collect())
    }

    pub(crate) async fn list_of_user(
        &self,
        kind: &str,
        scope: &str,
        user: Option<&str>,
    ) -> Result<Vec<Entity>, StoreError> {
        let rows: Vec<EntityRow> = match user {
            Some(user) => {
                sqlx::query_as(
                    "SELECT kind, scope, key, version, body FROM entities \
                     WHERE kind = $1 AND scope = $2 AND lower(body->>'user') = lower($3) ORDER BY key",
                )
                .bind(kind)
                .bind(scope)
                .bind(user)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT kind, scope, key, version, body FROM entities \
                     WHERE kind = $1 AND scope = $2 AND lower(body->>'user') IS NULL ORDER BY key",
                )
                .bind(kind)
                .bind(scope)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.into_iter().map(entity_from_row).collect())
    }

    pub(crate) async fn scan_all(
        &self,
        visit: &mut (dyn FnMut(EntityText) + Send),
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(SNAPSHOT_READ).await?;
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        {
            let mut rows = sqlx::query_as::<_, (String, String, String, i64, String)>(
                "SELECT kind, scope, key, version, body::text FROM entities ORDER BY kind, scope, key",
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
        let mut tx = self.pool.begin_with(SNAPSHOT_READ).await?;
        let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<EntityRow> = sqlx::query_as(
            "SELECT kind, scope, key, version, body FROM entities \
             ORDER BY kind, scope, key",
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
        let mut tx = self.pool.begin_with(SNAPSHOT_READ).await?;
        let (latest, trimmed_through): (i64, i64) =
            sqlx::query_as("SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (latest, trimmed_through) = (seq_from_db(latest)?, seq_from_db(trimmed_through)?);
        if let Some(gap) = gap(seq, trimmed_through, latest) {
            return Err(StoreError::Gap(gap));
        }
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT seq, kind, scope, key, op FROM changes WHERE seq > $1 ORDER BY seq, idx",
        )
        .bind(seq_to_db(seq))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter().map(change_from_row).collect()
    }

    pub(crate) async fn change_count_since(&self, seq: u64) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE seq > $1")
                .bind(seq_to_db(seq))
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn delta_since(&self, seq: u64) -> Result<(u64, Vec<DeltaRow>), StoreError> {
        let mut tx = self.pool.begin_with(SNAPSHOT_READ).await?;
        let (latest, trimmed_through): (i64, i64) =
            sqlx::query_as("SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let (latest, trimmed_through) = (seq_from_db(latest)?, seq_from_db(trimmed_through)?);
        if let Some(gap) = gap(seq, trimmed_through, latest) {
            return Err(StoreError::Gap(gap));
        }
        // Two steps, not a join: the change rows by their primary key, then
        // the entities they name by theirs. A join lets the planner, misled
        // by the statistics of a change log that was just trimmed, hash the
        // whole entities table — a 100 ms scan at 100,000 users, on every
        // write.
        let changes: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, kind, scope, key FROM changes WHERE seq > $1 ORDER BY seq, idx",
        )
        .bind(seq_to_db(seq))
        .fetch_all(&mut *tx)
        .await?;
        let mut addresses: Vec<(&str, &str, &str)> = changes
            .iter()
            .map(|(_, kind, scope, key)| (kind.as_str(), scope.as_str(), key.as_str()))
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        let mut now: HashMap<(String, String, String), (i64, Json<Value>)> = HashMap::new();
        for chunk in addresses.chunks(plan::ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<sqlx::Postgres>::new(
                "SELECT kind, scope, key, version, body FROM entities WHERE (kind, scope, key) IN (",
            );
            query.push_values(chunk, |mut row, (kind, scope, key)| {
                row.push_bind(*kind).push_bind(*scope).push_bind(*key);
            });
            query.push(")");
            let found: Vec<EntityRow> = query.build_query_as().fetch_all(&mut *tx).await?;
            for (kind, scope, key, version, body) in found {
                now.insert((kind, scope, key), (version, body));
            }
        }
        let rows: Vec<DeltaRow> = changes
            .into_iter()
            .map(|(seq, kind, scope, key)| {
                let entity = now
                    .get(&(kind.clone(), scope.clone(), key.clone()))
                    .cloned();
                let (version, body) = entity.map_or((None, None), |(v, b)| (Some(v), Some(b)));
                (seq, kind, scope, key, version, body)
            })
            .collect();
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO nodes (id, applied_seq, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET applied_seq = excluded.applied_seq, seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(seq_to_db(applied))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM nodes WHERE seen_at < $1")
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
            sqlx::query_scalar("SELECT MIN(applied_seq) FROM nodes WHERE seen_at >= $1")
                .bind(live_since)
                .fetch_one(&self.pool)
                .await?;
        let aged: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM changes WHERE at > 0 AND at < $1")
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
        let mut tx = self.pool.begin().await?;
        let (latest, previous): (i64, i64) = sqlx::query_as(
            "SELECT last_seq, trimmed_through FROM change_log_state WHERE id = 1 FOR UPDATE",
        )
        .fetch_one(&mut *tx)
        .await?;
        let through = trimmed_through_after(seq, seq_from_db(previous)?, seq_from_db(latest)?);
        sqlx::query("DELETE FROM changes WHERE seq <= $1")
            .bind(seq_to_db(through))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE change_log_state SET trimmed_through = $1 WHERE id = 1")
            .bind(seq_to_db(through))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn latest_seq(&self) -> Result<u64, StoreError> {
        latest_seq(&self.pool).await
    }

    /// Listens for other nodes' commits and polls the counter; either one
    /// wakes a read of the counter.
    pub(crate) fn watch(
        &self,
        latest: watch::Sender<u64>,
        every: Duration,
    ) -> impl Future<Output = ()> + Send + 'static {
        let pool = self.pool.clone();
        async move {
            let wake = Notify::new();
            let listen = async {
                loop {
                    if let Ok(mut listener) = PgListener::connect_with(&pool).await
                        && listener.listen(CHANNEL).await.is_ok()
                    {
                        // Anything committed while we were not listening.
                        wake.notify_one();
                        while listener.recv().await.is_ok() {
                            wake.notify_one();
                        }
                    }
                    tokio::time::sleep(RELISTEN_DELAY).await;
                }
            };
            let poll = async {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        () = wake.notified() => {}
                    }
                    // A failed read is retried at the next tick or notice.
                    if let Ok(seq) = latest_seq(&pool).await {
                        advance(&latest, seq);
                    }
                }
            };
            tokio::join!(listen, poll);
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn latest_seq(pool: &PgPool) -> Result<u64, StoreError> {
    let seq: i64 = sqlx::query_scalar("SELECT last_seq FROM change_log_state WHERE id = 1")
        .fetch_one(pool)
        .await?;
    seq_from_db(seq)
}
