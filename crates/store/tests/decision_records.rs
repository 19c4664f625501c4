#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Persisted decision records, the same cases on every backend (as in
//! `conformance.rs`): found by request id from another handle on the same
//! database, the last record of a request wins, the change log is left
//! alone, and trimming keeps the newest within age, count and size.

#[macro_use]
mod harness;

use harness::Db;

conformance!(
    a_record_put_by_one_node_is_found_by_another,
    a_request_recorded_twice_keeps_its_last_record,
    records_are_not_state_and_leave_the_change_log_alone,
    a_batch_of_records_larger_than_one_statement_is_written_whole,
    trimming_keeps_the_newest_records_within_age_count_and_size,
);

mod cases {
    use std::sync::Arc;

    use iamgate_store::{DecisionRetention, StoredDecision};

    use crate::Db;

    const NOW: i64 = 1_800_000_000;

    fn record(id: &str, at: i64, body: &str) -> StoredDecision {
        StoredDecision {
            request_id: id.to_owned(),
            recorded_at: at,
            body: body.to_owned(),
        }
    }

    /// Which of `r-00` … `r-09` the store holds.
    async fn present(store: &iamgate_store::Store) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..10 {
            let id = format!("r-{i:02}");
            if store.get_decision_record(&id).await.unwrap().is_some() {
                ids.push(id);
            }
        }
        ids
    }

    fn keep_all() -> DecisionRetention {
        DecisionRetention {
            max_age_secs: i64::MAX,
            max_records: u64::MAX,
            max_bytes: u64::MAX,
        }
    }

    pub async fn a_record_put_by_one_node_is_found_by_another(db: Arc<Db>) {
        let (one, two) = (db.open().await, db.open().await);
        // Text as JSON escapes it, with characters a careless column type
        // would mangle.
        let body = r#"{"requestId":"r-1","message":"caf\u00e9 \u0000 – ✓","n":1}"#;
        one.put_decision_records(&[record("r-1", NOW, body), record("r-2", NOW, "{}")])
            .await
            .unwrap();
        assert_eq!(
            two.get_decision_record("r-1").await.unwrap(),
            Some(record("r-1", NOW, body))
        );
        assert_eq!(two.get_decision_record("r-3").await.unwrap(), None);
        // Request ids compare exactly.
        assert_eq!(two.get_decision_record("R-1").await.unwrap(), None);
    }

    pub async fn a_request_recorded_twice_keeps_its_last_record(db: Arc<Db>) {
        let store = db.open().await;
        store
            .put_decision_records(&[
                record("r-1", NOW, r#"{"step":1}"#),
                record("r-1", NOW, r#"{"step":2}"#),
            ])
            .await
            .unwrap();
        assert_eq!(
            store
                .get_decision_record("r-1")
                .await
                .unwrap()
                .unwrap()
                .body,
            r#"{"step":2}"#
        );
        store
            .put_decision_records(&[record("r-1", NOW + 1, r#"{"step":3}"#)])
            .await
            .unwrap();
        let found = store.get_decision_record("r-1").await.unwrap().unwrap();
        assert_eq!(
            (found.recorded_at, found.body.as_str()),
            (NOW + 1, r#"{"step":3}"#)
        );
        assert_eq!(store.decision_record_totals().await.unwrap().records, 1);
    }

    pub async fn records_are_not_state_and_leave_the_change_log_alone(db: Arc<Db>) {
        let store = db.open().await;
        let seq = store.latest_seq().await.unwrap();
        store
            .put_decision_records(&[record("r-1", NOW, "{}")])
            .await
            .unwrap();
        store.trim_decision_records(keep_all(), NOW).await.unwrap();
        assert_eq!(store.latest_seq().await.unwrap(), seq);
        assert_eq!(store.change_log_rows().await.unwrap(), 0);
        assert!(store.load_all().await.unwrap().entities.is_empty());
    }

    pub async fn a_batch_of_records_larger_than_one_statement_is_written_whole(db: Arc<Db>) {
        let store = db.open().await;
        let batch: Vec<StoredDecision> = (0..1_100)
            .map(|i| record(&format!("r-{i:04}"), NOW, &format!(r#"{{"i":{i}}}"#)))
            .collect();
        store.put_decision_records(&batch).await.unwrap();
        assert_eq!(store.decision_record_totals().await.unwrap().records, 1_100);
        for id in ["r-0000", "r-0549", "r-1099"] {
            assert!(
                store.get_decision_record(id).await.unwrap().is_some(),
                "{id}"
            );
        }
    }

    pub async fn trimming_keeps_the_newest_records_within_age_count_and_size(db: Arc<Db>) {
        let store = db.open().await;
        // Ten records a second apart, oldest first, each 4 + 96 = 100 bytes.
        let body = "x".repeat(96);
        for i in 0..10 {
            store
                .put_decision_records(&[record(&format!("r-{i:02}"), NOW - 10 + i, &body)])
                .await
                .unwrap();
        }
        let totals = store.decision_record_totals().await.unwrap();
        assert_eq!((totals.records, totals.bytes), (10, 1_000));
        let held = |ids: std::ops::Range<i64>| ids.map(|i| format!("r-{i:02}")).collect::<Vec<_>>();
        // Nothing to trim: nothing goes.
        assert_eq!(
            store.trim_decision_records(keep_all(), NOW).await.unwrap(),
            0
        );

        // Age: recorded more than 8 s before NOW (r-00 at NOW-10, r-01 at NOW-9).
        let by_age = DecisionRetention {
            max_age_secs: 8,
            ..keep_all()
        };
        assert_eq!(store.trim_decision_records(by_age, NOW).await.unwrap(), 2);
        assert_eq!(present(&store).await, held(2..10));

        // Count: the newest six stay.
        let by_count = DecisionRetention {
            max_records: 6,
            ..keep_all()
        };
        assert_eq!(store.trim_decision_records(by_count, NOW).await.unwrap(), 2);
        assert_eq!(present(&store).await, held(4..10));

        // Size: 350 bytes hold three whole records of 100.
        let by_size = DecisionRetention {
            max_bytes: 350,
            ..keep_all()
        };
        assert_eq!(store.trim_decision_records(by_size, NOW).await.unwrap(), 3);
        assert_eq!(present(&store).await, held(7..10));
        let totals = store.decision_record_totals().await.unwrap();
        assert_eq!((totals.records, totals.bytes), (3, 300));

        // A record written after a trim is kept by the next one.
        store
            .put_decision_records(&[record("r-new", NOW, &body)])
            .await
            .unwrap();
        assert_eq!(store.trim_decision_records(by_size, NOW).await.unwrap(), 1);
        assert!(store.get_decision_record("r-new").await.unwrap().is_some());
        assert!(store.get_decision_record("r-07").await.unwrap().is_none());
    }
}
