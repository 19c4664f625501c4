//! The bounded in-memory ring of decision records.
//!
//! Writing a record is on every request's path, so the ring is split in
//! shards by request id: a writer locks one shard for a push (and the pops
//! that keep it within bounds), and writers on other shards never wait.
//! Each shard keeps its share of the count and byte limits, oldest out
//! first, so memory stays bounded whatever the traffic. A lookup locks one
//! shard and scans it from the newest end.
//!
//! A [`DecisionSink`] may be given to see every record as it is written
//! (the server persists them to the store with it); it must not block.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use crate::pending::Entry;
use crate::record::DecisionRecord;

const SHARDS: usize = 16;

/// How much the ring keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLimits {
    /// Records kept at most.
    pub records: usize,
    /// Bytes of records kept at most ([`DecisionRecord::approximate_size`]).
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
    bytes: usize,
    /// Records pushed out by the limits, ever.
    evicted: u64,
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Arc<DecisionRecord>),
    /// Not in the ring: never recorded here, or evicted (this shard has
    /// evicted records before).
    Missing {
        evicted_before: bool,
    },
}

/// The ring. Cheap to share behind an `Arc`.
pub struct DecisionLog {
    shards: Vec<Mutex<Shard>>,
    limits: RingLimits,
    hasher: std::collections::hash_map::RandomState,
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

impl DecisionLog {
    /// A ring keeping at most `limits` (each at least one record per shard).
    pub fn new(limits: RingLimits) -> Self {
        DecisionLog {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            limits,
            hasher: std::collections::hash_map::RandomState::new(),
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

    fn shard(&self, request_id: &str) -> Option<&Mutex<Shard>> {
        let mut hasher = self.hasher.build_hasher();
        hasher.write(request_id.as_bytes());
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// Keeps `entry`, pushing out the oldest of its shard beyond the
    /// limits.
    pub fn record(&self, entry: impl Into<Entry>) {
        let entry = entry.into();
        let size = entry.approximate_size();
        if let Some(sink) = &self.sink {
            sink.offer(&Arc::new(entry.render()));
        }
        let Some(shard) = self.shard(entry.request_id()) else {
            return;
        };
        let max_records = (self.limits.records / SHARDS).max(1);
        let max_bytes = (self.limits.bytes / SHARDS).max(size);
        // A poisoned shard (a panic while held, which the code above cannot
        // cause) is still a valid ring: keep using it.
        let mut shard = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shard.records.push_back((entry, size));
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
        let Some(shard) = self.shard(request_id) else {
            return Lookup::Missing {
                evicted_before: false,
            };
        };
        let shard = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match shard
            .records
            .iter()
            .rev()
            .find(|(entry, _)| entry.request_id() == request_id)
        {
            Some((entry, _)) => Lookup::Found(Arc::new(entry.render())),
            None => Lookup::Missing {
                evicted_before: shard.evicted > 0,
            },
        }
    }

    /// Records and bytes held now.
    pub fn held(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(records, bytes), shard| {
            let shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
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
