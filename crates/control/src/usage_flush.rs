//! Sharing API keys' usage between nodes: this node's counts are added to
//! the store's totals every so often, and the totals read back become
//! what this node's quota checks start from.
//!
//! Why batches and not a write per request: the data plane must not wait
//! on the database. The price is exactness: between two flushes each node
//! decides from what it knew at the last one, so a quota can be overshot
//! by what the other nodes let through in one interval (docs/api-keys.md).

use iamgate_store::{StoreError, UsageCount};

use crate::plane::ControlPlane;

impl ControlPlane {
    /// Adds this node's unflushed usage counts to the store in one
    /// transaction and learns every node's totals for them; returns how
    /// many (plan, key, day) counts were added. On failure nothing is
    /// marked flushed, so the next flush adds the same counts again.
    pub async fn flush_usage(&self) -> Result<usize, StoreError> {
        let ledger = self.usage_ledger();
        let pending = ledger.unflushed();
        // Other nodes' counts of the last month (the longest quota window)
        // are learned whether or not this node counted anything: a key
        // first used here starts from what the others used.
        let today = self.now().div_euclid(86_400);
        for total in self.store().usage_since(today - 31).await? {
            ledger.learn(
                &total.usage_plan,
                &total.api_key,
                total.day,
                u64::try_from(total.used).unwrap_or(0),
            );
        }
        if pending.is_empty() {
            return Ok(0);
        }
        let counts: Vec<UsageCount> = pending
            .iter()
            .map(|count| UsageCount {
                usage_plan: count.plan.clone(),
                api_key: count.key.clone(),
                day: count.day,
                used: i64::try_from(count.count).unwrap_or(i64::MAX),
            })
            .collect();
        let totals = self.store().add_usage(&counts).await?;
        for (added, total) in pending.iter().zip(totals) {
            ledger.flushed(added, u64::try_from(total).unwrap_or(0));
        }
        Ok(pending.len())
    }
}
