//! The bounded in-memory ring of decision records.
//!
//! Writing a record is on every request's path. Each thread writes to a
//! shard of its own and pushes out its own oldest records, so a record is
//! almost always freed by the thread that allocated it: the system
//! allocator frees a block that another thread allocated under that
//! thread's arena lock, and at tens of thousands of records a second those
//! cross-thread frees were most of what recording cost (measured in
//! `docs/benchmarks.md`). The count and byte limits are the ring's as a
//! whole, kept in two counters every shard adds to and takes from, so
//! memory stays bounded whatever the traffic and however many threads
//! write. A lookup, which is rare, scans every shard from the newest end.
//!
//! A [`DecisionSink`] may be given to see every record as it is written;
//! it must not block.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::pending::Entry;
use crate::record::DecisionRecord;

const SHARDS: usize = 16;

/// How much the ring keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLimits {
    /// Records kept at most.
    pub records: usize,
    /// Bytes of records kept at most ([`Entry::approximate_size`]).
    pub bytes: usize,
}

impl Default for RingLimits {
    fn default() -> Self {
        RingLimits {
            records: 10_000,
            bytes: 64 * 1024 * 1024,
        }
    }
}

/// Sees every record as it is written.
pub trait DecisionSink: Send + Sync {
    /// Takes `record`; must return at once (hand it to a queue, or drop it).
    fn offer(&self, record: &Arc<DecisionRecord>);
}

#[derive(Default)]
struct Shard {
    records: VecDeque<(Entry, usize)>,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Arc<DecisionRecord>),
    /// Not in the ring: never recorded here, or evicted (the ring has
    /// evicted records before).
    Missing {
        evicted_before: bool,
    },
}

/// The ring. Cheap to share behind an `Arc`.
pub struct DecisionLog {
    shards: Vec<Mutex<Shard>>,
    limits: RingLimits,
    records: AtomicUsize,
    bytes: AtomicUsize,
    /// Records pushed out by the limits, ever.
    evicted: AtomicU64,
    sink: Option<Arc<dyn DecisionSink>>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for DecisionLog {
    fn default() -> Self {
        Self::new(RingLimits::default())
    }
}

/// This thread's shard number.
fn own_shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|index| *index)
}

/// A poisoned shard (a panic while held, which the code here cannot cause)
/// is still a valid ring: keep using it.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DecisionLog {
    /// A ring keeping at most `limits` (at least one record).
    pub fn new(limits: RingLimits) -> Self {
        DecisionLog {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            limits,
            records: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            evicted: AtomicU64::new(0),
            sink: None,
        }
    }

    /// Hands every record written to `sink` as well.
    pub fn with_sink(mut self, sink: Arc<dyn DecisionSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    pub fn limits(&self) -> RingLimits {
        self.limits
    }

    fn over_limits(&self) -> bool {
        self.records.load(Ordering::Relaxed) > self.limits.records.max(1)
            || self.bytes.load(Ordering::Relaxed) > self.limits.bytes
    }

    /// Keeps `entry`, pushing out this thread's oldest while the ring is
    /// beyond its limits (another thread's, when this thread holds none).
    pub fn record(&self, entry: impl Into<Entry>) {
        let entry = entry.into();
        let size = entry.approximate_size();
        if let Some(sink) = &self.sink {
            sink.offer(&Arc::new(entry.render()));
        }
        let own = own_shard_index();
        let Some(shard) = self.shards.get(own) else {
            return;
        };
        let mut shard = lock(shard);
        shard.records.push_back((entry, size));
        self.records.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size, Ordering::Relaxed);
        // The newest record stays even if it alone is beyond the bytes.
        while self.over_limits() && shard.records.len() > 1 {
            let Some((_, size)) = shard.records.pop_front() else {
                break;
            };
            self.forget(size);
        }
        drop(shard);
        for (index, other) in self.shards.iter().enumerate() {
            if !self.over_limits() {
                break;
            }
            if index == own {
                continue;
            }
            let popped = lock(other).records.pop_front();
            if let Some((_, size)) = popped {
                self.forget(size);
            }
        }
    }

    fn forget(&self, size: usize) {
        self.records.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(size, Ordering::Relaxed);
        self.evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// The record of `request_id`, if the ring still holds it.
    pub fn get(&self, request_id: &str) -> Lookup {
        for shard in &self.shards {
            let shard = lock(shard);
            if let Some((entry, _)) = shard
                .records
                .iter()
                .rev()
                .find(|(entry, _)| entry.request_id() == request_id)
            {
                return Lookup::Found(Arc::new(entry.render()));
            }
        }
        Lookup::Missing {
            evicted_before: self.evicted.load(Ordering::Relaxed) > 0,
        }
    }

    /// Records and bytes held now.
    pub fn held(&self) -> (usize, usize) {
        (
            self.records.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn record(id: &str) -> DecisionRecord {
        DecisionRecord::bare(id, 0, "execute-api", "allow", "execute-api:Invoke")
    }

    #[test]
    fn a_record_is_found_by_its_request_id() {
        let log = DecisionLog::default();
        log.record(record("r-1"));
        log.record(record("r-2"));
        match log.get("r-1") {
            Lookup::Found(found) => assert_eq!(found.request_id, "r-1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            log.get("r-3"),
            Lookup::Missing {
                evicted_before: false
            }
        );
    }

    #[test]
    fn the_ring_never_holds_more_than_its_count() {
        let log = DecisionLog::new(RingLimits {
            records: 64,
            bytes: usize::MAX,
        });
        for i in 0..10_000 {
            log.record(record(&format!("r-{i}")));
        }
        let (records, _) = log.held();
        assert!(records <= 64, "{records}");
        assert!(matches!(log.get("r-9999"), Lookup::Found(_)));
        assert_eq!(
            log.get("r-0"),
            Lookup::Missing {
                evicted_before: true
            }
        );
    }

    #[test]
    fn the_ring_never_holds_more_than_its_bytes() {
        let one = record("r-0").approximate_size();
        let limit = one * 16 * 4;
        let log = DecisionLog::new(RingLimits {
            records: usize::MAX,
            bytes: limit,
        });
        for i in 0..5_000 {
            log.record(record(&format!("r-{i:05}")));
        }
        let (records, bytes) = log.held();
        assert!(bytes <= limit, "{bytes} > {limit}");
        assert!(records >= 16, "{records}");
    }

    struct Counting(Mutex<Vec<String>>);

    impl DecisionSink for Counting {
        fn offer(&self, record: &Arc<DecisionRecord>) {
            self.0.lock().unwrap().push(record.request_id.clone());
        }
    }

    #[test]
    fn the_sink_sees_every_record_even_those_evicted() {
        let sink = Arc::new(Counting(Mutex::new(Vec::new())));
        let log = DecisionLog::new(RingLimits {
            records: 1,
            bytes: usize::MAX,
        })
        .with_sink(sink.clone());
        for i in 0..100 {
            log.record(record(&format!("r-{i}")));
        }
        assert_eq!(sink.0.lock().unwrap().len(), 100);
    }
}
