//! The bounded in-memory ring of decision records.
//!
//! Writing a record is on every request's path, so writers must not meet.
//! The ring is one shard per processor; each thread writes to one shard
//! and pushes out that shard's oldest records, so a record is almost
//! always freed by the thread that allocated it (the system allocator
//! frees a block another thread allocated under that thread's arena lock,
//! and at tens of thousands of records a second those cross-thread frees
//! were most of what recording cost: `docs/benchmarks.md`), and no counter
//! is shared between writers. Each shard keeps its share of the count and
//! byte limits, oldest out first, so memory stays bounded whatever the
//! traffic. A lookup, which is rare, scans every shard from the newest
//! end.
//!
//! A [`DecisionSink`] may be given to see every entry as it is written
//! (to persist it); it must not block. The entry is then shared between
//! the ring and the sink rather than copied, and still written out as a
//! record only by whoever reads it — the sink, off the request's path.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::pending::Entry;
use crate::record::DecisionRecord;

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

/// Sees every entry as it is written.
pub trait DecisionSink: Send + Sync {
    /// Takes `entry`; must return at once (hand it to a queue, or drop it).
    fn offer(&self, entry: Arc<Entry>);
}

/// An entry the ring owns alone, or shares with the sink.
enum Held {
    Alone(Entry),
    Shared(Arc<Entry>),
}

impl Held {
    fn entry(&self) -> &Entry {
        match self {
            Held::Alone(entry) => entry,
            Held::Shared(entry) => entry,
        }
    }
}

#[derive(Default)]
struct Shard {
    records: VecDeque<(Held, usize)>,
    bytes: usize,
    /// Records pushed out by the limits, ever.
    evicted: u64,
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

/// A number for this thread, the same for its whole life.
fn thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|number| *number)
}

/// A poisoned shard (a panic while held, which the code here cannot cause)
/// is still a valid ring: keep using it.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DecisionLog {
    /// A ring keeping at most `limits` (each shard at least one record).
    pub fn new(limits: RingLimits) -> Self {
        let shards = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_shards(limits, shards)
    }

    fn with_shards(limits: RingLimits, shards: usize) -> Self {
        DecisionLog {
            shards: (0..shards.clamp(1, 64)).map(|_| Mutex::default()).collect(),
            limits,
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

    /// Keeps `entry` in this thread's shard, pushing out the shard's oldest
    /// beyond its share of the limits.
    pub fn record(&self, entry: impl Into<Entry>) {
        let entry = entry.into();
        let size = entry.approximate_size();
        let held = match &self.sink {
            Some(sink) => {
                let shared = Arc::new(entry);
                sink.offer(Arc::clone(&shared));
                Held::Shared(shared)
            }
            None => Held::Alone(entry),
        };
        let count = self.shards.len();
        let Some(shard) = self.shards.get(thread_number() % count) else {
            return;
        };
        let max_records = (self.limits.records / count).max(1);
        let max_bytes = (self.limits.bytes / count).max(size);
        let mut shard = lock(shard);
        shard.records.push_back((held, size));
        shard.bytes += size;
        while shard.records.len() > max_records || shard.bytes > max_bytes {
            let Some((_, size)) = shard.records.pop_front() else {
                break;
            };
            shard.bytes -= size;
            shard.evicted += 1;
        }
    }

    /// The record of `request_id`, if the ring still holds it.
    pub fn get(&self, request_id: &str) -> Lookup {
        let mut evicted_before = false;
        for shard in &self.shards {
            let shard = lock(shard);
            if let Some((held, _)) = shard
                .records
                .iter()
                .rev()
                .find(|(held, _)| held.entry().request_id() == request_id)
            {
                return Lookup::Found(Arc::new(held.entry().render()));
            }
            evicted_before |= shard.evicted > 0;
        }
        Lookup::Missing { evicted_before }
    }

    /// Records and bytes held now.
    pub fn held(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(records, bytes), shard| {
            let shard = lock(shard);
            (records + shard.records.len(), bytes + shard.bytes)
        })
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
        assert!(records >= 4, "{records}");
    }

    #[test]
    fn records_written_by_many_threads_are_found_and_bounded_together() {
        let log = Arc::new(DecisionLog::with_shards(
            RingLimits {
                records: 400,
                bytes: usize::MAX,
            },
            4,
        ));
        let writers: Vec<_> = (0..8)
            .map(|thread| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..1_000 {
                        log.record(record(&format!("t{thread}-{i}")));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let (records, _) = log.held();
        assert!((100..=400).contains(&records), "{records}");
        log.record(record("last"));
        assert!(matches!(log.get("last"), Lookup::Found(_)));
        let found = (0..8)
            .flat_map(|thread| (0..1_000).map(move |i| format!("t{thread}-{i}")))
            .filter(|id| matches!(log.get(id), Lookup::Found(_)))
            .count();
        assert!(found + 1 >= records.min(400), "{found} of {records}");
    }

    struct Counting(Mutex<Vec<String>>);

    impl DecisionSink for Counting {
        fn offer(&self, entry: Arc<Entry>) {
            self.0.lock().unwrap().push(entry.request_id().to_owned());
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
