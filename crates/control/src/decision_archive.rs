//! Decision records persisted in the store, so that on several nodes a
//! record is found whichever node served the request.
//!
//! Why this shape: a request must never wait for the database, nor slow
//! down because it is busy. So the ring hands each entry, as it is
//! written, to a bounded queue ([`ArchiveQueue`], a [`DecisionSink`]) and
//! returns; when the queue is full the entry is dropped and counted, never
//! waited for. One writer ([`ArchiveWriter::run`]) drains the queue in
//! batches — whatever has piled up while the last batch was written, so
//! batches grow with the load — writes each entry out as its record (the
//! ring keeps entries unwritten; this is the first time most are) and puts
//! the batch in the store in one transaction, trimming the table by age,
//! count and size every minute. A reader ([`DecisionArchive::find`])
//! looks here only when its own ring has no record; what the reading
//! account may see of it is decided as for the ring's records.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use iamgate_decisions::{DecisionRecord, DecisionSink, Entry};
use iamgate_store::{DecisionRetention, Store, StoreError, StoredDecision};
use tokio::sync::mpsc;

use crate::plane::Clock;

/// Entries waiting to be written at most; more are dropped.
pub const QUEUE_CAPACITY: usize = 10_000;
/// Entries put in the store in one transaction at most.
const BATCH: usize = 500;
/// How often the table is trimmed.
const TRIM_EVERY: Duration = Duration::from_secs(60);

/// What persisting has done, for the metrics.
#[derive(Debug, Default)]
pub struct ArchiveCounters {
    /// Entries dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Records written to the store.
    pub written: AtomicU64,
    /// Records lost because the store refused a batch.
    pub failed: AtomicU64,
}

/// The sink the ring hands entries to.
pub struct ArchiveQueue {
    queue: mpsc::Sender<Arc<Entry>>,
    counters: Arc<ArchiveCounters>,
}

impl DecisionSink for ArchiveQueue {
    fn offer(&self, entry: Arc<Entry>) {
        if self.queue.try_send(entry).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Drains the queue into the store; run it on the runtime.
pub struct ArchiveWriter {
    queue: mpsc::Receiver<Arc<Entry>>,
    store: Store,
    retention: DecisionRetention,
    clock: Clock,
    counters: Arc<ArchiveCounters>,
}

/// Reads persisted records back.
pub struct DecisionArchive {
    store: Store,
    retention: DecisionRetention,
    counters: Arc<ArchiveCounters>,
}

/// The three parts of persisting decisions on `store`: the ring's sink,
/// the writer to run, and the reader.
pub fn archive(
    store: Store,
    retention: DecisionRetention,
    clock: Clock,
) -> (ArchiveQueue, ArchiveWriter, DecisionArchive) {
    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
    let counters = Arc::new(ArchiveCounters::default());
    (
        ArchiveQueue {
            queue: sender,
            counters: counters.clone(),
        },
        ArchiveWriter {
            queue: receiver,
            store: store.clone(),
            retention,
            clock,
            counters: counters.clone(),
        },
        DecisionArchive {
            store,
            retention,
            counters,
        },
    )
}

impl ArchiveWriter {
    /// Writes batches until every sender is gone, trimming as it goes.
    pub async fn run(mut self) {
        let mut entries = Vec::with_capacity(BATCH);
        let mut trim = tokio::time::interval(TRIM_EVERY);
        trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = self.queue.recv_many(&mut entries, BATCH) => {
                    if received == 0 {
                        return;
                    }
                    self.write(&entries).await;
                    entries.clear();
                }
                _ = trim.tick() => self.trim().await,
            }
        }
    }

    async fn write(&self, entries: &[Arc<Entry>]) {
        let rows: Vec<StoredDecision> = entries.iter().filter_map(|e| stored(e)).collect();
        let count = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        match self.store.put_decision_records(&rows).await {
            Ok(()) => {
                self.counters.written.fetch_add(count, Ordering::Relaxed);
            }
            Err(error) => {
                self.counters.failed.fetch_add(count, Ordering::Relaxed);
                tracing::warn!(%error, records = count, "decision records not persisted");
            }
        }
    }

    async fn trim(&self) {
        if let Err(error) = self
            .store
            .trim_decision_records(self.retention, (self.clock)())
            .await
        {
            tracing::warn!(%error, "persisted decision records not trimmed");
        }
    }
}

/// The row of `entry`: its record as JSON (a record is plain data, so
/// this cannot fail; if it did, the entry is skipped).
fn stored(entry: &Entry) -> Option<StoredDecision> {
    let record = entry.render();
    let body = serde_json::to_string(&record).ok()?;
    Some(StoredDecision {
        request_id: record.request_id,
        recorded_at: record.time,
        body,
    })
}

impl DecisionArchive {
    /// The persisted record of `request_id`, unless none is kept or it is
    /// older than the retention allows at `now` (trimming runs only every
    /// minute).
    pub async fn find(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<DecisionRecord>, StoreError> {
        let Some(row) = self.store.get_decision_record(request_id).await? else {
            return Ok(None);
        };
        if row.recorded_at < now.saturating_sub(self.retention.max_age_secs) {
            return Ok(None);
        }
        serde_json::from_str(&row.body)
            .map(Some)
            .map_err(|error| StoreError::Corrupt(format!("decision record {request_id}: {error}")))
    }

    pub fn retention(&self) -> DecisionRetention {
        self.retention
    }

    pub fn counters(&self) -> &ArchiveCounters {
        &self.counters
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn entry(id: &str) -> Arc<Entry> {
        Arc::new(
            DecisionRecord::bare(
                id,
                1_800_000_000,
                "execute-api",
                "allow",
                "execute-api:Invoke",
            )
            .into(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_drops_and_counts_and_the_writer_persists_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        let store = Store::open(&url).await.unwrap();
        let retention = DecisionRetention {
            max_age_secs: i64::MAX,
            max_records: u64::MAX,
            max_bytes: u64::MAX,
        };
        let clock: Clock = Arc::new(|| 1_800_000_000);
        let (queue, writer, reader) = archive(store.clone(), retention, clock);
        // Nobody drains yet: the queue takes its capacity, the rest is
        // dropped at once rather than waited for.
        for i in 0..QUEUE_CAPACITY + 5 {
            queue.offer(entry(&format!("r-{i}")));
        }
        assert_eq!(reader.counters().dropped.load(Ordering::Relaxed), 5);

        tokio::spawn(writer.run());
        let expected = u64::try_from(QUEUE_CAPACITY).unwrap();
        let started = std::time::Instant::now();
        while reader.counters().written.load(Ordering::Relaxed) < expected {
            assert!(started.elapsed() < Duration::from_secs(30), "not drained");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            store.decision_record_totals().await.unwrap().records,
            expected
        );
        let first = reader.find("r-0", 1_800_000_000).await.unwrap().unwrap();
        assert_eq!(first.request_id, "r-0");
        let last = format!("r-{}", QUEUE_CAPACITY - 1);
        assert!(reader.find(&last, 1_800_000_000).await.unwrap().is_some());
        assert!(
            reader
                .find(&format!("r-{QUEUE_CAPACITY}"), 1_800_000_000)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(reader.counters().failed.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_older_than_the_retention_is_not_found_before_it_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        let store = Store::open(&url).await.unwrap();
        let record = DecisionRecord::bare("old", 1_000, "iam", "allow", "iam:ListUsers");
        store
            .put_decision_records(&[StoredDecision {
                request_id: "old".to_owned(),
                recorded_at: 1_000,
                body: serde_json::to_string(&record).unwrap(),
            }])
            .await
            .unwrap();
        let retention = DecisionRetention {
            max_age_secs: 60,
            max_records: u64::MAX,
            max_bytes: u64::MAX,
        };
        let (_, _, reader) = archive(store, retention, Arc::new(|| 0));
        assert_eq!(reader.find("old", 1_060).await.unwrap(), Some(record));
        assert_eq!(reader.find("old", 1_061).await.unwrap(), None);
    }
}
