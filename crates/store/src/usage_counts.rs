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
// Serializes `set_usage_total` against every addition on PostgreSQL: it
// reads then writes, and additions from other nodes must not slip in
// between (SQLite's `BEGIN IMMEDIATE` already takes the one write lock).
const LOCK: &str = "LOCK TABLE usage_counts IN SHARE ROW EXCLUSIVE MODE";

/// The additions that bring the total of `days` (stored totals plus what
/// the caller has not added yet, by day, in any order) to `target`: a
/// growth is added to day `last`; a shrink is taken from the latest days
/// first, none below zero, so every day keeps a count a day can have. A
/// target below zero is zero.
pub(crate) fn usage_changes(days: &[(i64, i64)], last: i64, target: i64) -> Vec<(i64, i64)> {
    let mut days: Vec<(i64, i64)> = days.to_vec();
    days.sort_by_key(|(day, _)| std::cmp::Reverse(*day));
    let total: i64 = days.iter().map(|(_, used)| (*used).max(0)).sum();
    let target = target.max(0);
    if target >= total {
        return if target > total {
            vec![(last, target - total)]
        } else {
            Vec::new()
        };
    }
    let mut to_take = total - target;
    let mut changes = Vec::new();
    for (day, used) in days {
        if to_take == 0 {
            break;
        }
        let taken = used.max(0).min(to_take);
        if taken > 0 {
            changes.push((day, -taken));
            to_take -= taken;
        }
    }
    changes
}

/// The statements of [`Store::set_usage_total`] in transaction `$tx` of
/// either backend: the same text on both, only the driver's types differ.
/// Reads the days (with `$merge` adding what this node has not yet
/// flushed), writes the changes that reach the target, and reads the days
/// again.
macro_rules! set_total_in {
    ($tx:ident, $merge:ident, $plan:expr, $key:expr, $first:expr, $last:expr, $target:expr) => {{
        let stored: Vec<(i64, i64)> = sqlx::query_as(DAYS)
            .bind($plan)
            .bind($key)
            .bind($first)
            .bind($last)
            .fetch_all(&mut *$tx)
            .await?;
        for (day, change) in usage_changes(&$merge(stored), $last, $target) {
            let _total: i64 = sqlx::query_scalar(ADD)
                .bind($plan)
                .bind($key)
                .bind(day)
                .bind(change)
                .fetch_one(&mut *$tx)
                .await?;
        }
        let after: Vec<(i64, i64)> = sqlx::query_as(DAYS)
            .bind($plan)
            .bind($key)
            .bind($first)
            .bind($last)
            .fetch_all(&mut *$tx)
            .await?;
        after
    }};
}

impl Store {
    /// Makes what `api_key` used under `usage_plan` from day `first` to
    /// day `last` (inclusive) total `target`, once the caller's `pending`
    /// counts (by day; counted but not added yet) are added too: reads
    /// the stored days and adds [`usage_changes`] in one transaction that
    /// no other addition interleaves with, so every node sees the new
    /// total at its next read. Returns the stored days of the range after.
    pub async fn set_usage_total(
        &self,
        usage_plan: &str,
        api_key: &str,
        (first, last): (i64, i64),
        target: i64,
        pending: &[(i64, i64)],
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let merge = |stored: Vec<(i64, i64)>| {
            let mut days: std::collections::BTreeMap<i64, i64> = stored.into_iter().collect();
            for (day, count) in pending {
                let slot = days.entry(*day).or_default();
                *slot = slot.saturating_add(*count);
            }
            days.into_iter().collect::<Vec<_>>()
        };
        match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
                let after = set_total_in!(tx, merge, usage_plan, api_key, first, last, target);
                tx.commit().await?;
                Ok(after)
            }
            Backend::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                sqlx::query(LOCK).execute(&mut *tx).await?;
                let after = set_total_in!(tx, merge, usage_plan, api_key, first, last, target);
                tx.commit().await?;
                Ok(after)
            }
        }
    }

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

#[cfg(test)]
mod tests {
    use super::usage_changes;

    #[test]
    fn a_growth_goes_to_the_last_day_and_a_shrink_comes_from_the_latest_days_first() {
        assert_eq!(usage_changes(&[(10, 3), (11, 2)], 12, 9), vec![(12, 4)]);
        assert_eq!(
            usage_changes(&[(10, 3), (11, 2)], 12, 1),
            vec![(11, -2), (10, -2)]
        );
        assert_eq!(usage_changes(&[(10, 3)], 12, 3), Vec::<(i64, i64)>::new());
        assert_eq!(usage_changes(&[(10, 3)], 12, -5), vec![(10, -3)]);
        assert_eq!(usage_changes(&[], 12, 0), Vec::<(i64, i64)>::new());
    }
}
