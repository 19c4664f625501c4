//! API keys' usage counts shared by every node on one database.
//!
//! Why counts and not a row per request: a quota must hold across nodes,
//! but a database round trip per request is what the data plane must not
//! pay. Each node counts in memory and adds what it counted since the last
//! time ([`Store::add_usage`]) every so often, reading back the total all
//! nodes reached; the total per (plan, key, day) is what `GetUsage`
//! reports and what a node's quota check starts from. The additions are
//! commutative, so nodes never conflict and nothing is lost on a retry of
//! a failed batch (a batch either commits whole or not at all).

use crate::{Backend, Store, StoreError};

/// Requests counted for `api_key` under `usage_plan` on epoch day `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount {
    pub usage_plan: String,
    pub api_key: String,
    pub day: i64,
    pub used: i64,
}

// One text for both backends (SQLite 3.35+ has RETURNING).
const ADD: &str = "INSERT INTO usage_counts (usage_plan, api_key, day, used) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (usage_plan, api_key, day) \
     DO UPDATE SET used = usage_counts.used + excluded.used RETURNING used";
const SINCE: &str = "SELECT usage_plan, api_key, day, used FROM usage_counts \
     WHERE day >= $1 ORDER BY usage_plan, api_key, day";
const DAYS: &str = "SELECT day, used FROM usage_counts \
     WHERE usage_plan = $1 AND api_key = $2 AND day >= $3 AND day <= $4 ORDER BY day";

impl Store {
    /// Adds each count's `used` to the stored total of its (plan, key,
    /// day), in one transaction; returns the totals after the addition,
    /// in the same order. A count of 0 only reads the total.
    pub async fn add_usage(&self, counts: &[UsageCount]) -> Result<Vec<i64>, StoreError> {
        let mut totals = Vec::with_capacity(counts.len());
        if counts.is_empty() {
            return Ok(totals);
        }
        match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
                for count in counts {
                    let total: i64 = sqlx::query_scalar(ADD)
                        .bind(&count.usage_plan)
                        .bind(&count.api_key)
                        .bind(count.day)
                        .bind(count.used)
                        .fetch_one(&mut *tx)
                        .await?;
                    totals.push(total);
                }
                tx.commit().await?;
            }
            Backend::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                for count in counts {
                    let total: i64 = sqlx::query_scalar(ADD)
                        .bind(&count.usage_plan)
                        .bind(&count.api_key)
                        .bind(count.day)
                        .bind(count.used)
                        .fetch_one(&mut *tx)
                        .await?;
                    totals.push(total);
                }
                tx.commit().await?;
            }
        }
        Ok(totals)
    }

    /// Every stored total from day `first` on (what a node learns other
    /// nodes' counts from).
    pub async fn usage_since(&self, first: i64) -> Result<Vec<UsageCount>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = match &self.inner.backend {
            Backend::Sqlite(db) => {
                sqlx::query_as(SINCE)
                    .bind(first)
                    .fetch_all(&db.pool)
                    .await?
            }
            Backend::Postgres(db) => {
                sqlx::query_as(SINCE)
                    .bind(first)
                    .fetch_all(&db.pool)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(usage_plan, api_key, day, used)| UsageCount {
                usage_plan,
                api_key,
                day,
                used,
            })
            .collect())
    }

    /// The stored totals of `api_key` under `usage_plan` from day `first`
    /// to day `last` (inclusive), days without requests left out.
    pub async fn usage_days(
        &self,
        usage_plan: &str,
        api_key: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows: Vec<(i64, i64)> = match &self.inner.backend {
            Backend::Sqlite(db) => {
                sqlx::query_as(DAYS)
                    .bind(usage_plan)
                    .bind(api_key)
                    .bind(first)
                    .bind(last)
                    .fetch_all(&db.pool)
                    .await?
            }
            Backend::Postgres(db) => {
                sqlx::query_as(DAYS)
                    .bind(usage_plan)
                    .bind(api_key)
                    .bind(first)
                    .bind(last)
                    .fetch_all(&db.pool)
                    .await?
            }
        };
        Ok(rows)
    }
}
