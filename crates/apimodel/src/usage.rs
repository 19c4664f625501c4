//! API keys and usage plans as the store keeps them, the rules every front
//! door checks them with, and the index the data plane looks them up in.
//!
//! Store addresses: kind [`API_KEY_KIND`] keyed by the key's id, kind
//! [`USAGE_PLAN_KIND`] keyed by the plan's id, both scoped to the owning
//! account. A plan's keys live in the plan's document (not in the key's),
//! so `CreateUsagePlanKey` is one conditional write of one document, and
//! the check "this key may call this stage" reads one plan.
//!
//! Why an index ([`UsageIndex`]): the hot path must find a key by the
//! value a caller sends, and the plan that covers (key, API, stage),
//! without walking every key or plan. The index is rebuilt whole when a
//! key or plan changes (a control-plane write, rare) and is then read
//! without locks: lookup cost does not grow with the number of keys or
//! plans. Key values are looked up by their SHA-256 digest and then
//! compared in constant time by the caller, so the lookup itself reveals
//! nothing about a near miss.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use iamgate_sigv4::time::{civil_from_days, days_from_civil, days_in_month};

use crate::fields::Invalid;

pub const API_KEY_KIND: &str = "apikey";
pub const USAGE_PLAN_KIND: &str = "usageplan";

/// Shortest and longest API key value AWS accepts.
pub const KEY_VALUE_MIN: usize = 20;
pub const KEY_VALUE_MAX: usize = 128;

/// An API key (`apigateway` `ApiKey`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The secret the caller sends. Never logged nor recorded.
    pub value: String,
    pub enabled: bool,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    pub last_updated: i64,
    /// Legacy `{restApiId}/{stage}` pairs, kept as given.
    #[serde(default)]
    pub stage_keys: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A throttle: `rateLimit` requests a second on average, up to
/// `burstLimit` at once (a token bucket of that size).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    pub rate_limit: f64,
    pub burst_limit: u32,
}

/// The period of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "DAY" => Some(Self::Day),
            "WEEK" => Some(Self::Week),
            "MONTH" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "DAY",
            Self::Week => "WEEK",
            Self::Month => "MONTH",
        }
    }

    /// The largest `offset` AWS allows: the days of the period before it
    /// starts again (a WEEK's offset is 0 to 6, a MONTH's 0 to 27).
    pub fn max_offset(self) -> u32 {
        match self {
            Self::Day => 0,
            Self::Week => 6,
            Self::Month => 27,
        }
    }
}

/// At most `limit` requests per key in each `period`, which starts
/// `offset` days into the calendar period (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub limit: u64,
    pub period: QuotaPeriod,
    #[serde(default)]
    pub offset: u32,
}

/// One API stage a plan covers, with per-method throttles keyed
/// `{resourcePath}/{httpMethod}` (`/pets/GET`, or `/*/*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStage {
    pub api_id: String,
    pub stage: String,
    #[serde(default)]
    pub throttle: BTreeMap<String, Throttle>,
}

/// A usage plan (`apigateway` `UsagePlan`) and its keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlanRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<PlanStage>,
    #[serde(default)]
    pub throttle: Option<Throttle>,
    #[serde(default)]
    pub quota: Option<Quota>,
    /// The ids of its API keys.
    #[serde(default)]
    pub keys: BTreeSet<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A key value as AWS accepts it: 20 to 128 characters. The refusal never
/// quotes the value.
pub fn key_value(value: &str) -> Result<(), Invalid> {
    let length = value.chars().count();
    if length < KEY_VALUE_MIN {
        return Err(Invalid(format!(
            "API Key value should be at least {KEY_VALUE_MIN} characters"
        )));
    }
    if length > KEY_VALUE_MAX {
        return Err(Invalid(format!(
            "API Key value exceeds maximum size of {KEY_VALUE_MAX} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid("Invalid API Key value specified".to_owned()));
    }
    Ok(())
}

/// A throttle as AWS accepts it: a rate and a burst that are not
/// negative. `None` members become 0, as AWS shows them.
pub fn throttle(rate_limit: Option<f64>, burst_limit: Option<i64>) -> Result<Throttle, Invalid> {
    let rate_limit = rate_limit.unwrap_or(0.0);
    if !rate_limit.is_finite() || rate_limit < 0.0 {
        return Err(Invalid(
            "Invalid throttle rate limit specified: must be a number at least 0".to_owned(),
        ));
    }
    let burst_limit = u32::try_from(burst_limit.unwrap_or(0)).map_err(|_| {
        Invalid("Invalid throttle burst limit specified: must be an integer at least 0".to_owned())
    })?;
    Ok(Throttle {
        rate_limit,
        burst_limit,
    })
}

/// A quota as AWS accepts it.
pub fn quota(
    limit: Option<i64>,
    period: Option<&str>,
    offset: Option<i64>,
) -> Result<Quota, Invalid> {
    let period = period.and_then(QuotaPeriod::parse).ok_or_else(|| {
        Invalid("Invalid quota period specified: must be one of DAY, WEEK, MONTH".to_owned())
    })?;
    let limit = limit
        .and_then(|limit| u64::try_from(limit).ok())
        .filter(|limit| *limit > 0)
        .ok_or_else(|| {
            Invalid("Invalid quota limit specified: must be greater than 0".to_owned())
        })?;
    let offset = offset.unwrap_or(0);
    let offset = u32::try_from(offset)
        .ok()
        .filter(|offset| *offset <= period.max_offset())
        .ok_or_else(|| {
            Invalid(format!(
                "Invalid quota offset specified: must be between 0 and {} for period {}",
                period.max_offset(),
                period.as_str()
            ))
        })?;
    Ok(Quota {
        limit,
        period,
        offset,
    })
}

/// A per-method throttle key, `{resourcePath}/{httpMethod}`: the path
/// starts with `/`, the method is a verb or `*`.
pub fn method_throttle_key(key: &str) -> Result<(), Invalid> {
    let valid = key.starts_with('/')
        && key.rsplit_once('/').is_some_and(|(path, method)| {
            !method.is_empty()
                && (method == "*" || method.bytes().all(|b| b.is_ascii_uppercase()))
                && (path.is_empty() || path.starts_with('/'))
        });
    if valid {
        Ok(())
    } else {
        Err(Invalid(format!(
            "Invalid method throttle key specified: {}",
            crate::fields::shown(key)
        )))
    }
}

/// The context an API key's value is sealed for in the store (with the
/// secret cipher that seals access keys' secrets): a sealed value copied
/// to another key does not open.
pub fn value_seal_context(id: &str) -> String {
    format!("apikey/{id}")
}

/// The digest keys are indexed by.
pub fn digest(value: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(value).into()
}

/// The epoch day the quota window containing epoch day `day` started: a
/// DAY starts each day; a WEEK on Sunday plus `offset` days; a MONTH on
/// its first day plus `offset` days (UTC).
pub fn quota_window_start(day: i64, period: QuotaPeriod, offset: u32) -> i64 {
    let offset = i64::from(offset);
    match period {
        QuotaPeriod::Day => day,
        QuotaPeriod::Week => {
            // 1970-01-01 (day 0) was a Thursday: Sunday is day 3.
            let since_start = (day - 3 - offset).rem_euclid(7);
            day - since_start
        }
        QuotaPeriod::Month => {
            let (year, month, _) = civil_from_days(day);
            let this_month = days_from_civil(year, month, 1) + offset;
            if day >= this_month {
                this_month
            } else {
                let (year, month) = if month == 1 {
                    (year - 1, 12)
                } else {
                    (year, month - 1)
                };
                days_from_civil(year, month, 1) + offset
            }
        }
    }
}

/// The epoch day after the last of the window that started on `start`.
pub fn quota_window_end(start: i64, period: QuotaPeriod) -> i64 {
    match period {
        QuotaPeriod::Day => start + 1,
        QuotaPeriod::Week => start + 7,
        QuotaPeriod::Month => {
            let (year, month, _) = civil_from_days(start);
            start + days_in_month(year, month)
        }
    }
}

/// An API key as the data plane needs it.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub id: String,
    pub account: String,
    pub value: String,
    pub enabled: bool,
}

/// A plan as the data plane needs it for one stage.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub id: String,
    pub throttle: Option<Throttle>,
    pub method_throttles: BTreeMap<String, Throttle>,
    pub quota: Option<Quota>,
}

/// Every API key and usage plan, indexed for the data plane.
#[derive(Debug, Default)]
pub struct UsageIndex {
    /// By the SHA-256 digest of the value, with the account: the same
    /// value may be a key of two accounts.
    keys: HashMap<[u8; 32], Vec<Arc<KeyEntry>>>,
    /// (key id, api id, stage) → the plan covering them.
    plans: HashMap<(String, String, String), Arc<PlanEntry>>,
}

impl UsageIndex {
    /// The index of these keys and plans.
    pub fn build<'a>(
        keys: impl IntoIterator<Item = &'a ApiKeyRecord>,
        plans: impl IntoIterator<Item = &'a UsagePlanRecord>,
    ) -> UsageIndex {
        let mut index = UsageIndex::default();
        for key in keys {
            index
                .keys
                .entry(digest(key.value.as_bytes()))
                .or_default()
                .push(Arc::new(KeyEntry {
                    id: key.id.clone(),
                    account: key.account.clone(),
                    value: key.value.clone(),
                    enabled: key.enabled,
                }));
        }
        for plan in plans {
            for stage in &plan.api_stages {
                let entry = Arc::new(PlanEntry {
                    id: plan.id.clone(),
                    throttle: plan.throttle,
                    method_throttles: stage.throttle.clone(),
                    quota: plan.quota,
                });
                for key in &plan.keys {
                    // AWS refuses a second plan of the same stage for a
                    // key; should two slip in, the first (by id) holds.
                    index
                        .plans
                        .entry((key.clone(), stage.api_id.clone(), stage.stage.clone()))
                        .or_insert_with(|| Arc::clone(&entry));
                }
            }
        }
        index
    }

    /// The keys whose value has this digest (the caller compares values
    /// in constant time).
    pub fn keys_with_digest(&self, digest: &[u8; 32]) -> &[Arc<KeyEntry>] {
        self.keys.get(digest).map_or(&[], Vec::as_slice)
    }

    /// The plan that lets key `key_id` call `stage` of `api_id`.
    pub fn plan(&self, key_id: &str, api_id: &str, stage: &str) -> Option<&Arc<PlanEntry>> {
        self.plans
            .get(&(key_id.to_owned(), api_id.to_owned(), stage.to_owned()))
    }
}

/// The API keys and usage plans the data plane serves: the documents by
/// id and the index built from them.
#[derive(Debug, Clone, Default)]
pub struct UsageRegistry {
    pub keys: HashMap<String, Arc<ApiKeyRecord>>,
    pub plans: HashMap<String, Arc<UsagePlanRecord>>,
    pub index: Arc<UsageIndex>,
    /// REST APIs whose key comes from the Lambda authorizer's
    /// `usageIdentifierKey` (`apiKeySource` `AUTHORIZER`), not `x-api-key`.
    pub key_from_authorizer: std::collections::HashSet<String>,
    /// Stage throttles, by API id and stage name (see
    /// [`crate::stored::StageRecord::throttles`]); only stages that have
    /// some.
    pub stage_throttles: HashMap<String, HashMap<String, BTreeMap<String, Throttle>>>,
}

impl UsageRegistry {
    /// Keeps the throttles of `api_id`'s stages.
    pub fn set_stage_throttles<'a>(
        &mut self,
        api_id: &str,
        stages: impl IntoIterator<Item = &'a crate::stored::StageRecord>,
    ) {
        let throttled: HashMap<String, BTreeMap<String, Throttle>> = stages
            .into_iter()
            .filter(|stage| !stage.throttles.is_empty())
            .map(|stage| (stage.name.clone(), stage.throttles.clone()))
            .collect();
        if throttled.is_empty() {
            self.stage_throttles.remove(api_id);
        } else {
            self.stage_throttles.insert(api_id.to_owned(), throttled);
        }
    }

    /// The throttles of `stage` of `api_id`, if it has some.
    pub fn stage_throttles(
        &self,
        api_id: &str,
        stage: &str,
    ) -> Option<&BTreeMap<String, Throttle>> {
        self.stage_throttles.get(api_id)?.get(stage)
    }
}

impl UsageRegistry {
    /// Builds the index again from the documents (after a change).
    pub fn reindex(&mut self) {
        self.index = Arc::new(UsageIndex::build(
            self.keys.values().map(|key| &**key),
            self.plans.values().map(|plan| &**plan),
        ));
    }
}

/// One day of one (usage plan, API key) pair, as this node knows it.
#[derive(Debug, Default, Clone, Copy)]
struct DayCount {
    /// Requests this node let through.
    mine: u64,
    /// How many of those are in the shared total already.
    flushed: u64,
    /// The total of every node, as last read from the store (it includes
    /// `flushed`).
    shared: u64,
}

impl DayCount {
    /// Every node's requests as far as this node knows: the shared total
    /// plus what this node has not added to it yet.
    fn known(self) -> u64 {
        self.shared
            .max(self.flushed)
            .saturating_add(self.mine.saturating_sub(self.flushed))
    }
}

/// What one (usage plan, API key) pair has used, per epoch day.
#[derive(Debug, Default, Clone)]
struct KeyUsage {
    days: BTreeMap<i64, DayCount>,
}

impl KeyUsage {
    fn window_used(&self, window_start: i64, day: i64) -> u64 {
        self.days
            .range(window_start..=day)
            .map(|(_, count)| count.known())
            .sum()
    }
}

/// Days of history kept for `GetUsage` (AWS keeps 90).
const HISTORY_DAYS: i64 = 90;
const LEDGER_SHARDS: usize = 16;

type Shard = std::sync::Mutex<HashMap<(String, String), KeyUsage>>;

/// The requests each key made under each plan: what this node let
/// through, and the totals of every node as last read from the store.
/// The data plane counts into it, `GetUsage` and `UpdateUsage` read it,
/// and a background task adds this node's counts to the store
/// and learns the totals ([`UsageLedger::unflushed`],
/// [`UsageLedger::flushed`]). Sharded by (plan, key) so requests of
/// different keys rarely wait on each other; the cost of a request does
/// not grow with the number of keys (a quota check sums at most the 31
/// days of a window). Time comes from the caller (epoch days), so tests
/// move it.
#[derive(Debug)]
pub struct UsageLedger {
    shards: Vec<Shard>,
}

impl Default for UsageLedger {
    fn default() -> Self {
        Self {
            shards: (0..LEDGER_SHARDS)
                .map(|_| std::sync::Mutex::default())
                .collect(),
        }
    }
}

/// The quota of the window is used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaExhausted;

/// Requests of one (plan, key, day) this node has not added to the
/// shared total yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unflushed {
    pub plan: String,
    pub key: String,
    pub day: i64,
    pub count: u64,
}

impl UsageLedger {
    fn shard(&self, plan: &str, key: &str) -> Option<&Shard> {
        // FNV-1a of the names: stable, and cheap for short ids.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in plan.bytes().chain([0]).chain(key.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.shards
            .get(usize::try_from(hash).unwrap_or(0) % LEDGER_SHARDS)
    }

    fn with<R>(&self, plan: &str, key: &str, f: impl FnOnce(&mut KeyUsage) -> R) -> Option<R> {
        let shard = self.shard(plan, key)?;
        // A poisoned lock only means another request panicked mid-count;
        // the counts are still whole numbers.
        let mut shard = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(shard
            .entry((plan.to_owned(), key.to_owned()))
            .or_default()))
    }

    /// Counts one request of `key` under `plan` on epoch day `day`, whose
    /// quota window (if the plan has a quota of `limit`) started on
    /// `window_start`. Refused, and not counted, once the window's quota
    /// is used up as far as this node knows. Returns what remains of it.
    pub fn take(
        &self,
        plan: &str,
        key: &str,
        day: i64,
        window_start: i64,
        limit: Option<u64>,
    ) -> Result<Option<u64>, QuotaExhausted> {
        self.with(plan, key, |usage| {
            let used = usage.window_used(window_start, day);
            if let Some(limit) = limit
                && used >= limit
            {
                return Err(QuotaExhausted);
            }
            let today = usage.days.entry(day).or_default();
            today.mine = today.mine.saturating_add(1);
            usage.days.retain(|kept, _| *kept > day - HISTORY_DAYS);
            Ok(limit.map(|limit| limit.saturating_sub(used.saturating_add(1))))
        })
        .unwrap_or(Err(QuotaExhausted))
    }

    /// Requests per day of `key` under `plan` this node has not added to
    /// the shared total, from `first` to `last` (epoch days, inclusive).
    pub fn unflushed_days(&self, plan: &str, key: &str, first: i64, last: i64) -> Vec<(i64, u64)> {
        self.with(plan, key, |usage| {
            usage
                .days
                .range(first..=last)
                .map(|(day, count)| (*day, count.mine.saturating_sub(count.flushed)))
                .filter(|(_, count)| *count > 0)
                .collect()
        })
        .unwrap_or_default()
    }

    /// Requests per day of `key` under `plan` as this node knows them.
    pub fn days(&self, plan: &str, key: &str, first: i64, last: i64) -> Vec<(i64, u64)> {
        self.with(plan, key, |usage| {
            usage
                .days
                .range(first..=last)
                .map(|(day, count)| (*day, count.known()))
                .collect()
        })
        .unwrap_or_default()
    }

    /// What the window that started on `window_start` has used, up to
    /// day `day`.
    pub fn window_used(&self, plan: &str, key: &str, window_start: i64, day: i64) -> u64 {
        self.with(plan, key, |usage| usage.window_used(window_start, day))
            .unwrap_or(0)
    }

    /// Every count this node has not added to the shared total yet.
    pub fn unflushed(&self) -> Vec<Unflushed> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let shard = shard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((plan, key), usage) in shard.iter() {
                for (day, count) in &usage.days {
                    if count.mine > count.flushed {
                        out.push(Unflushed {
                            plan: plan.clone(),
                            key: key.clone(),
                            day: *day,
                            count: count.mine - count.flushed,
                        });
                    }
                }
            }
        }
        out
    }

    /// Every node's total for (`plan`, `key`, `day`) is `total`, as just
    /// read from the store (it includes what this node flushed). Taken as
    /// it is, lower or not: `UpdateUsage` may have lowered it on any node.
    /// What this node counted and has not flushed stays on top of it.
    pub fn learn(&self, plan: &str, key: &str, day: i64, total: u64) {
        self.with(plan, key, |usage| {
            let count = usage.days.entry(day).or_default();
            count.mine = count.mine.saturating_sub(count.flushed);
            count.flushed = 0;
            count.shared = total;
        });
    }

    /// `added` is in the shared total now, which is `total`.
    pub fn flushed(&self, added: &Unflushed, total: u64) {
        self.with(&added.plan, &added.key, |usage| {
            let count = usage.days.entry(added.day).or_default();
            count.flushed = count.flushed.saturating_add(added.count).min(count.mine);
            count.shared = count.shared.max(total);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_shorter_than_20_or_longer_than_128_are_refused_without_quoting_them() {
        let short = key_value("short-secret").unwrap_err();
        assert_eq!(short.0, "API Key value should be at least 20 characters");
        let long = key_value(&"x".repeat(129)).unwrap_err();
        assert_eq!(
            long.0,
            "API Key value exceeds maximum size of 128 characters"
        );
        assert!(key_value(&"k".repeat(20)).is_ok());
    }

    #[test]
    fn quota_offsets_stay_within_their_period() {
        assert!(quota(Some(10), Some("WEEK"), Some(6)).is_ok());
        assert!(quota(Some(10), Some("WEEK"), Some(7)).is_err());
        assert!(quota(Some(10), Some("DAY"), Some(1)).is_err());
        assert!(quota(Some(10), Some("MONTH"), Some(27)).is_ok());
        assert!(quota(Some(0), Some("DAY"), None).is_err());
        assert!(quota(Some(10), Some("YEAR"), None).is_err());
    }

    #[test]
    fn negative_throttles_are_refused() {
        assert!(throttle(Some(-1.0), Some(1)).is_err());
        assert!(throttle(Some(1.0), Some(-1)).is_err());
        assert_eq!(
            throttle(None, None).unwrap(),
            Throttle {
                rate_limit: 0.0,
                burst_limit: 0
            }
        );
    }

    #[test]
    fn method_throttle_keys_are_a_path_and_a_method() {
        assert!(method_throttle_key("/pets/GET").is_ok());
        assert!(method_throttle_key("/*/*").is_ok());
        assert!(method_throttle_key("pets/GET").is_err());
        assert!(method_throttle_key("/pets/").is_err());
    }

    #[test]
    fn a_quota_refuses_once_its_window_is_used_up_and_a_new_window_starts_afresh() {
        let ledger = UsageLedger::default();
        assert_eq!(ledger.take("p", "k", 100, 100, Some(2)), Ok(Some(1)));
        assert_eq!(ledger.take("p", "k", 100, 100, Some(2)), Ok(Some(0)));
        assert_eq!(
            ledger.take("p", "k", 100, 100, Some(2)),
            Err(QuotaExhausted)
        );
        // Another key of the same plan has its own quota.
        assert_eq!(ledger.take("p", "k2", 100, 100, Some(2)), Ok(Some(1)));
        assert_eq!(ledger.take("p", "k", 101, 101, Some(2)), Ok(Some(1)));
        assert_eq!(ledger.days("p", "k", 100, 101), vec![(100, 2), (101, 1)]);
    }

    #[test]
    fn other_nodes_counts_learned_at_a_flush_use_up_the_quota_here() {
        let ledger = UsageLedger::default();
        assert_eq!(ledger.take("p", "k", 100, 100, Some(5)), Ok(Some(4)));
        let pending = ledger.unflushed();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].count, 1);
        // The store's total: this node's 1 and another node's 3.
        ledger.flushed(&pending[0], 4);
        assert!(ledger.unflushed().is_empty());
        assert_eq!(ledger.window_used("p", "k", 100, 100), 4);
        assert_eq!(ledger.take("p", "k", 100, 100, Some(5)), Ok(Some(0)));
        assert_eq!(
            ledger.take("p", "k", 100, 100, Some(5)),
            Err(QuotaExhausted)
        );
        assert_eq!(ledger.unflushed_days("p", "k", 100, 100), vec![(100, 1)]);
    }

    #[test]
    fn a_lowered_total_learned_from_the_store_frees_the_quota_and_keeps_unflushed_counts() {
        let ledger = UsageLedger::default();
        for _ in 0..3 {
            ledger.take("p", "k", 100, 100, Some(3)).unwrap();
        }
        let pending = ledger.unflushed();
        ledger.flushed(&pending[0], 3);
        assert_eq!(
            ledger.take("p", "k", 100, 100, Some(3)),
            Err(QuotaExhausted)
        );
        // UpdateUsage (on any node) lowered the stored total to 1.
        ledger.learn("p", "k", 100, 1);
        assert_eq!(ledger.window_used("p", "k", 100, 100), 1);
        assert_eq!(ledger.take("p", "k", 100, 100, Some(3)), Ok(Some(1)));
        // What this node counted since stays on top of the next total
        // learned, until it is flushed.
        ledger.learn("p", "k", 100, 1);
        assert_eq!(ledger.window_used("p", "k", 100, 100), 2);
        assert_eq!(ledger.unflushed_days("p", "k", 100, 100), vec![(100, 1)]);
        // The next window starts afresh.
        assert_eq!(ledger.take("p", "k", 101, 101, Some(3)), Ok(Some(2)));
    }

    fn day(year: i64, month: i64, day: i64) -> i64 {
        days_from_civil(year, month, day)
    }

    #[test]
    fn a_week_starts_on_sunday_plus_its_offset() {
        // 2026-12-06 is a Sunday.
        let sunday = day(2026, 12, 6);
        assert_eq!(quota_window_start(sunday, QuotaPeriod::Week, 0), sunday);
        assert_eq!(
            quota_window_start(day(2026, 12, 12), QuotaPeriod::Week, 0),
            sunday
        );
        // Offset 1: weeks start on Monday; Sunday the 6th is in the week
        // of Monday the 30th.
        assert_eq!(
            quota_window_start(sunday, QuotaPeriod::Week, 1),
            day(2026, 11, 30)
        );
        assert_eq!(quota_window_end(sunday, QuotaPeriod::Week), sunday + 7);
    }

    #[test]
    fn a_month_starts_on_its_first_day_plus_its_offset() {
        assert_eq!(
            quota_window_start(day(2026, 12, 6), QuotaPeriod::Month, 0),
            day(2026, 12, 1)
        );
        assert_eq!(
            quota_window_start(day(2026, 12, 6), QuotaPeriod::Month, 9),
            day(2026, 11, 10)
        );
        assert_eq!(
            quota_window_start(day(2027, 1, 3), QuotaPeriod::Month, 4),
            day(2026, 12, 5)
        );
        assert_eq!(
            quota_window_end(day(2027, 2, 1), QuotaPeriod::Month),
            day(2027, 3, 1)
        );
    }

    #[test]
    fn the_index_finds_the_plan_of_a_key_for_a_stage_only() {
        let key = ApiKeyRecord {
            id: "k1".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            name: "k".into(),
            description: None,
            value: "v".repeat(20),
            enabled: true,
            customer_id: None,
            created_at: 0,
            last_updated: 0,
            stage_keys: vec![],
            tags: BTreeMap::new(),
        };
        let plan = UsagePlanRecord {
            id: "p1".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            name: "p".into(),
            description: None,
            api_stages: vec![PlanStage {
                api_id: "a1".into(),
                stage: "prod".into(),
                throttle: BTreeMap::new(),
            }],
            throttle: None,
            quota: None,
            keys: ["k1".to_owned()].into(),
            tags: BTreeMap::new(),
        };
        let index = UsageIndex::build([&key], [&plan]);
        assert_eq!(
            index.keys_with_digest(&digest(key.value.as_bytes())).len(),
            1
        );
        assert_eq!(
            index.plan("k1", "a1", "prod").map(|p| p.id.as_str()),
            Some("p1")
        );
        assert!(index.plan("k1", "a1", "beta").is_none());
        assert!(index.plan("k2", "a1", "prod").is_none());
    }
}
