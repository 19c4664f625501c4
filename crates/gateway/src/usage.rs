//! API keys, throttles and quotas on the hot path: which key a request
//! presents, whether its usage plan lets it through now, and the token
//! buckets and quota windows that decide it.
//!
//! Why token buckets per node: AWS applies throttles per node and only
//! approximately; a bucket is a few numbers behind a sharded lock, so the
//! cost of a request does not grow with the number of keys or plans and
//! requests of different keys rarely wait on each other. Quotas are
//! counted in the [`UsageLedger`] (per node; see docs/api-keys.md for how
//! exact that is across nodes).
//!
//! Time is the request's (`Origin::now`, epoch seconds, from the server's
//! clock), so tests move it instead of sleeping: a bucket refills
//! `rateLimit` tokens for each second that passed, up to `burstLimit`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use iamgate_apimodel::usage::{Quota, QuotaPeriod, Throttle, UsageLedger};
use iamgate_sigv4::time::{civil_from_days, days_from_civil, days_in_month};

const SECONDS_PER_DAY: i64 = 86_400;
const BUCKET_SHARDS: usize = 16;

/// A token bucket: `burst_limit` tokens at most, `rate_limit` more each
/// second. Starts full.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    /// When tokens were last added (epoch seconds).
    refilled_at: i64,
}

impl TokenBucket {
    pub fn full(throttle: Throttle, now: i64) -> Self {
        Self {
            tokens: f64::from(throttle.burst_limit),
            refilled_at: now,
        }
    }

    /// Takes one token at `now` if there is one; `false` means throttled.
    /// A clock that went back adds nothing.
    pub fn take(&mut self, throttle: Throttle, now: i64) -> bool {
        let burst = f64::from(throttle.burst_limit);
        if now > self.refilled_at {
            // Whole seconds only: exact with an epoch-second clock.
            #[allow(clippy::cast_precision_loss)]
            let elapsed = (now - self.refilled_at) as f64;
            self.tokens = (self.tokens + elapsed * throttle.rate_limit).min(burst);
            self.refilled_at = now;
        }
        // A burst lowered since the bucket filled caps what is left.
        self.tokens = self.tokens.min(burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
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

/// The epoch day of `now` (epoch seconds).
pub fn epoch_day(now: i64) -> i64 {
    now.div_euclid(SECONDS_PER_DAY)
}

/// Why a request was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Throttled,
    QuotaExceeded,
}

type BucketShard = Mutex<HashMap<String, TokenBucket>>;

/// Every token bucket of this node, and the quota ledger.
#[derive(Debug)]
pub struct Meter {
    buckets: Vec<BucketShard>,
    ledger: Arc<UsageLedger>,
}

impl Default for Meter {
    fn default() -> Self {
        Self::new(Arc::default())
    }
}

impl Meter {
    /// A meter counting quotas in `ledger` (shared with the control plane's
    /// `GetUsage`).
    pub fn new(ledger: Arc<UsageLedger>) -> Self {
        Self {
            buckets: (0..BUCKET_SHARDS).map(|_| Mutex::default()).collect(),
            ledger,
        }
    }

    pub fn ledger(&self) -> &Arc<UsageLedger> {
        &self.ledger
    }

    /// Takes a token from the bucket called `name` under `throttle`.
    pub fn take_token(&self, name: &str, throttle: Throttle, now: i64) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in name.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let Some(shard) = self
            .buckets
            .get(usize::try_from(hash).unwrap_or(0) % BUCKET_SHARDS)
        else {
            return false;
        };
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        match shard.get_mut(name) {
            Some(bucket) => bucket.take(throttle, now),
            None => {
                let mut bucket = TokenBucket::full(throttle, now);
                let taken = bucket.take(throttle, now);
                shard.insert(name.to_owned(), bucket);
                taken
            }
        }
    }

    /// Counts one request of `key` under `plan` against `quota` at `now`;
    /// returns what remains of it (`None`: no quota).
    pub fn take_quota(
        &self,
        plan: &str,
        key: &str,
        quota: Option<Quota>,
        now: i64,
    ) -> Result<Option<u64>, Refusal> {
        let day = epoch_day(now);
        let start = quota.map_or(day, |quota| {
            quota_window_start(day, quota.period, quota.offset)
        });
        self.ledger
            .take(plan, key, day, start, quota.map(|quota| quota.limit))
            .map_err(|_| Refusal::QuotaExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THROTTLE: Throttle = Throttle {
        rate_limit: 1.0,
        burst_limit: 2,
    };

    #[test]
    fn a_bucket_lets_the_burst_through_then_one_request_per_second_of_rate() {
        let mut bucket = TokenBucket::full(THROTTLE, 1000);
        assert!(bucket.take(THROTTLE, 1000));
        assert!(bucket.take(THROTTLE, 1000));
        assert!(!bucket.take(THROTTLE, 1000));
        assert!(bucket.take(THROTTLE, 1001));
        assert!(!bucket.take(THROTTLE, 1001));
        // A long pause refills only up to the burst.
        assert!(bucket.take(THROTTLE, 2000));
        assert!(bucket.take(THROTTLE, 2000));
        assert!(!bucket.take(THROTTLE, 2000));
    }

    #[test]
    fn a_clock_that_goes_back_adds_no_tokens() {
        let mut bucket = TokenBucket::full(THROTTLE, 1000);
        assert!(bucket.take(THROTTLE, 1000));
        assert!(bucket.take(THROTTLE, 1000));
        assert!(!bucket.take(THROTTLE, 900));
    }

    #[test]
    fn a_zero_burst_throttles_everything() {
        let closed = Throttle {
            rate_limit: 10.0,
            burst_limit: 0,
        };
        let mut bucket = TokenBucket::full(closed, 0);
        assert!(!bucket.take(closed, 0));
        assert!(!bucket.take(closed, 5));
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
    fn a_day_quota_refuses_after_its_limit_and_allows_again_the_next_day() {
        let meter = Meter::default();
        let quota = Some(Quota {
            limit: 1,
            period: QuotaPeriod::Day,
            offset: 0,
        });
        let noon = day(2026, 12, 6) * SECONDS_PER_DAY + 43_200;
        assert_eq!(meter.take_quota("p", "k", quota, noon), Ok(Some(0)));
        assert_eq!(
            meter.take_quota("p", "k", quota, noon + 60),
            Err(Refusal::QuotaExceeded)
        );
        assert_eq!(
            meter.take_quota("p", "k", quota, noon + SECONDS_PER_DAY),
            Ok(Some(0))
        );
    }

    #[test]
    fn buckets_of_different_names_are_independent() {
        let meter = Meter::default();
        assert!(meter.take_token("a", THROTTLE, 0));
        assert!(meter.take_token("a", THROTTLE, 0));
        assert!(!meter.take_token("a", THROTTLE, 0));
        assert!(meter.take_token("b", THROTTLE, 0));
    }
}
