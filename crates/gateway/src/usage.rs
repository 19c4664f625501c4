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
//!
//! Why buckets are evicted only when full again: a bucket that has
//! refilled to its burst answers every later request exactly as a new
//! bucket would (a new bucket starts full), so dropping it changes no
//! answer. A shard that reaches [`BUCKETS_PER_SHARD`] drops its full
//! buckets before it takes a new one; the buckets of deleted keys, plans
//! and stages go that way too. What stays is only the buckets still
//! refilling, which are named after configured plans, keys and stages
//! that saw a request in the last `burstLimit / rateLimit` seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use iamgate_apimodel::usage::{Quota, Throttle, UsageLedger, quota_window_start};

const SECONDS_PER_DAY: i64 = 86_400;
const BUCKET_SHARDS: usize = 16;

/// How many buckets a shard holds before it drops its full ones (ours).
pub const BUCKETS_PER_SHARD: usize = 4096;

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

    /// Whether the bucket holds `throttle`'s whole burst at `now`: then it
    /// answers as a new bucket would.
    pub fn is_full(&self, throttle: Throttle, now: i64) -> bool {
        if now < self.refilled_at {
            return false;
        }
        #[allow(clippy::cast_precision_loss)]
        let elapsed = (now - self.refilled_at) as f64;
        self.tokens + elapsed * throttle.rate_limit >= f64::from(throttle.burst_limit)
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

/// A bucket and the throttle it last ran under (what "full" means for it).
#[derive(Debug, Clone, Copy)]
struct Kept {
    bucket: TokenBucket,
    throttle: Throttle,
}

type BucketShard = Mutex<HashMap<String, Kept>>;

/// Every token bucket of this node, and the quota ledger.
#[derive(Debug)]
pub struct Meter {
    buckets: Vec<BucketShard>,
    /// [`BUCKETS_PER_SHARD`], lowered by tests.
    per_shard: usize,
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
            per_shard: BUCKETS_PER_SHARD,
            ledger,
        }
    }

    /// The same meter, each shard dropping its full buckets once it holds
    /// `per_shard` (tests use a small one).
    pub fn with_buckets_per_shard(self, per_shard: usize) -> Self {
        Self { per_shard, ..self }
    }

    /// How many buckets this node keeps.
    pub fn buckets(&self) -> usize {
        self.buckets
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
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
        if let Some(kept) = shard.get_mut(name) {
            kept.throttle = throttle;
            return kept.bucket.take(throttle, now);
        }
        if shard.len() >= self.per_shard {
            shard.retain(|_, kept| !kept.bucket.is_full(kept.throttle, now));
        }
        let mut bucket = TokenBucket::full(throttle, now);
        let taken = bucket.take(throttle, now);
        shard.insert(name.to_owned(), Kept { bucket, throttle });
        taken
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
    use iamgate_apimodel::usage::QuotaPeriod;

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
        iamgate_sigv4::time::days_from_civil(year, month, day)
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

    #[test]
    fn full_buckets_are_dropped_at_the_bound_and_no_answer_changes() {
        let bounded = Meter::default().with_buckets_per_shard(4);
        let unbounded = Meter::default().with_buckets_per_shard(usize::MAX);
        let throttles = [
            THROTTLE,
            Throttle {
                rate_limit: 3.0,
                burst_limit: 5,
            },
            Throttle {
                rate_limit: 0.5,
                burst_limit: 1,
            },
        ];
        // A fixed pseudo-random stream of requests over 300 names, time
        // moving a second now and then.
        let mut state: u64 = 7;
        let mut now = 1_000;
        let mut throttled = 0;
        for step in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let index = usize::try_from((state >> 33) % 300).unwrap();
            let name = format!("plan\0key{index}");
            let throttle = throttles[index % throttles.len()];
            if (state >> 20).is_multiple_of(8) {
                now += 1;
            }
            let answer = bounded.take_token(&name, throttle, now);
            assert_eq!(
                answer,
                unbounded.take_token(&name, throttle, now),
                "step {step}: {name}"
            );
            throttled += usize::from(!answer);
        }
        assert!(throttled > 0, "the stream must reach the throttles");
        assert_eq!(unbounded.buckets(), 300);
        assert!(bounded.buckets() < 300, "full buckets were dropped");
        // Idle buckets refill; a stream of new names then never holds more
        // than the bound.
        for index in 0..2_000 {
            now += 2;
            assert!(bounded.take_token(&format!("new{index}"), THROTTLE, now));
            assert!(bounded.buckets() <= 4 * BUCKET_SHARDS);
        }
    }
}
