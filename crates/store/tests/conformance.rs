#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! One conformance suite, run against every backend: each case in `cases`
//! is instantiated once for SQLite (a temporary file) and once for
//! PostgreSQL (a schema of its own in the database named by
//! `IAMGATE_TEST_POSTGRES_URL`, dropped afterwards; skipped when unset).
//! Decision records have their cases in `decision_records.rs`, the same
//! way.

#[macro_use]
mod harness;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use iamgate_store::{ChangeOp, Entity, Expect, Retention, Store, StoreError, WriteBatch};
use serde_json::json;

use harness::Db;

conformance!(
    put_get_list_delete,
    list_is_ordered_by_key_and_confined_to_kind_and_scope,
    bodies_round_trip,
    expect_absent_succeeds_on_missing_and_fails_on_existing,
    expect_present_succeeds_on_existing_and_fails_on_missing,
    expect_version_succeeds_on_match_and_fails_on_stale_or_missing,
    versions_never_repeat_after_delete_and_recreate,
    delete_of_missing_entity_with_any_writes_nothing,
    failing_op_leaves_nothing_of_the_batch,
    later_ops_see_earlier_ops_of_the_same_batch,
    sequence_numbers_strictly_increase,
    empty_batch_returns_current_seq,
    load_all_is_one_consistent_snapshot,
    changes_since_returns_exactly_the_later_changes,
    changes_since_reports_gap_after_trim,
    racing_absent_puts_have_exactly_one_winner,
    version_guarded_increments_lose_no_update,
    reopening_keeps_data_and_migrations_are_idempotent,
    subscribe_reports_own_commit_at_once,
    second_node_sees_writes_within_a_second,
    delta_since_gives_each_touched_entity_once_as_it_is_now,
    delta_since_reports_a_gap_once_trimmed,
    checkpoint_trims_what_every_live_node_has_applied,
    the_change_log_stays_bounded_under_a_write_loop,
    list_of_user_finds_a_users_entities_ignoring_case,
    scan_all_visits_what_load_all_returns,
    a_batch_larger_than_one_statement_is_applied_whole,
);

mod cases {
    use super::*;

    fn user(name: &str) -> serde_json::Value {
        json!({ "UserName": name, "Path": "/" })
    }

    fn expectation_failure(result: Result<u64, StoreError>) -> (usize, Expect, Option<i64>) {
        match result {
            Err(StoreError::ExpectationFailed {
                index,
                expected,
                found,
            }) => (index, expected, found),
            other => panic!("expected an expectation failure, got {other:?}"),
        }
    }

    pub async fn put_get_list_delete(db: Arc<Db>) {
        let store = db.open().await;
        assert_eq!(store.get("user", "111", "bob").await.unwrap(), None);

        let seq = store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("Bob"), Expect::Absent))
            .await
            .unwrap();
        let bob = store.get("user", "111", "bob").await.unwrap().unwrap();
        assert_eq!(
            (bob.kind.as_str(), bob.scope.as_str(), bob.key.as_str()),
            ("user", "111", "bob")
        );
        assert_eq!(bob.body, user("Bob"));
        assert_eq!(bob.version, i64::try_from(seq).unwrap());

        let listed = store.list("user", "111").await.unwrap();
        assert_eq!(listed, vec![bob.clone()]);

        store
            .apply(&WriteBatch::new().put(
                "user",
                "111",
                "bob",
                json!({"UserName": "Bob", "Path": "/eng/"}),
                Expect::Version(bob.version),
            ))
            .await
            .unwrap();
        let replaced = store.get("user", "111", "bob").await.unwrap().unwrap();
        assert_eq!(replaced.body["Path"], "/eng/");
        assert!(replaced.version > bob.version);

        store
            .apply(&WriteBatch::new().delete("user", "111", "bob", Expect::Present))
            .await
            .unwrap();
        assert_eq!(store.get("user", "111", "bob").await.unwrap(), None);
        assert!(store.list("user", "111").await.unwrap().is_empty());
    }

    pub async fn list_is_ordered_by_key_and_confined_to_kind_and_scope(db: Arc<Db>) {
        let store = db.open().await;
        let batch = WriteBatch::new()
            .put("user", "111", "carol", user("carol"), Expect::Absent)
            .put("user", "111", "Zed", user("Zed"), Expect::Absent)
            .put("user", "111", "alice", user("alice"), Expect::Absent)
            .put("user", "111", "bob", user("bob"), Expect::Absent)
            .put("user", "222", "aaron", user("aaron"), Expect::Absent)
            .put("role", "111", "admin", json!({}), Expect::Absent);
        store.apply(&batch).await.unwrap();

        let keys: Vec<String> = store
            .list("user", "111")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        // Byte order on both backends: upper case before lower case.
        assert_eq!(keys, ["Zed", "alice", "bob", "carol"]);
        assert_eq!(store.list("user", "222").await.unwrap().len(), 1);
        assert_eq!(store.list("role", "111").await.unwrap().len(), 1);
        assert!(store.list("group", "111").await.unwrap().is_empty());
    }

    pub async fn bodies_round_trip(db: Arc<Db>) {
        let store = db.open().await;
        let body = json!({
            "name": "Ünïcødé ✓ 名前",
            "nested": { "list": [1, 2.5, -3, true, null, "x"], "empty": {} },
            "big": 9_007_199_254_740_993_i64,
            "quote": "a \"quoted\" \\ backslash",
        });
        store
            .apply(&WriteBatch::new().put("doc", "", "k", body.clone(), Expect::Any))
            .await
            .unwrap();
        assert_eq!(store.get("doc", "", "k").await.unwrap().unwrap().body, body);
        let snapshot = store.load_all().await.unwrap();
        assert_eq!(snapshot.entities[0].body, body);
    }

    pub async fn expect_absent_succeeds_on_missing_and_fails_on_existing(db: Arc<Db>) {
        let store = db.open().await;
        let first = store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("Bob"), Expect::Absent))
            .await
            .unwrap();
        let again = store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("BOB"), Expect::Absent))
            .await;
        let version = i64::try_from(first).unwrap();
        assert_eq!(
            expectation_failure(again),
            (0, Expect::Absent, Some(version))
        );
        assert_eq!(
            store.get("user", "111", "bob").await.unwrap().unwrap().body,
            user("Bob")
        );
        let delete = store
            .apply(&WriteBatch::new().delete("user", "111", "bob", Expect::Absent))
            .await;
        assert_eq!(
            expectation_failure(delete),
            (0, Expect::Absent, Some(version))
        );
    }

    pub async fn expect_present_succeeds_on_existing_and_fails_on_missing(db: Arc<Db>) {
        let store = db.open().await;
        let missing = store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("Bob"), Expect::Present))
            .await;
        assert_eq!(expectation_failure(missing), (0, Expect::Present, None));
        let missing_delete = store
            .apply(&WriteBatch::new().delete("user", "111", "bob", Expect::Present))
            .await;
        assert_eq!(
            expectation_failure(missing_delete),
            (0, Expect::Present, None)
        );
        assert_eq!(store.get("user", "111", "bob").await.unwrap(), None);

        store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("Bob"), Expect::Any))
            .await
            .unwrap();
        store
            .apply(&WriteBatch::new().put("user", "111", "bob", user("B"), Expect::Present))
            .await
            .unwrap();
        assert_eq!(
            store.get("user", "111", "bob").await.unwrap().unwrap().body,
            user("B")
        );
        store
            .apply(&WriteBatch::new().delete("user", "111", "bob", Expect::Present))
            .await
            .unwrap();
        assert_eq!(store.get("user", "111", "bob").await.unwrap(), None);
    }

    pub async fn expect_version_succeeds_on_match_and_fails_on_stale_or_missing(db: Arc<Db>) {
        let store = db.open().await;
        let missing = store
            .apply(&WriteBatch::new().put("role", "111", "r", json!(1), Expect::Version(1)))
            .await;
        assert_eq!(expectation_failure(missing), (0, Expect::Version(1), None));

        store
            .apply(&WriteBatch::new().put("role", "111", "r", json!(1), Expect::Absent))
            .await
            .unwrap();
        let v1 = store
            .get("role", "111", "r")
            .await
            .unwrap()
            .unwrap()
            .version;
        store
            .apply(&WriteBatch::new().put("role", "111", "r", json!(2), Expect::Version(v1)))
            .await
            .unwrap();
        let v2 = store
            .get("role", "111", "r")
            .await
            .unwrap()
            .unwrap()
            .version;
        assert!(v2 > v1);

        let stale_put = store
            .apply(&WriteBatch::new().put("role", "111", "r", json!(3), Expect::Version(v1)))
            .await;
        assert_eq!(
            expectation_failure(stale_put),
            (0, Expect::Version(v1), Some(v2))
        );
        let stale_delete = store
            .apply(&WriteBatch::new().delete("role", "111", "r", Expect::Version(v1)))
            .await;
        assert_eq!(
            expectation_failure(stale_delete),
            (0, Expect::Version(v1), Some(v2))
        );
        assert_eq!(
            store.get("role", "111", "r").await.unwrap().unwrap().body,
            json!(2)
        );

        store
            .apply(&WriteBatch::new().delete("role", "111", "r", Expect::Version(v2)))
            .await
            .unwrap();
        assert_eq!(store.get("role", "111", "r").await.unwrap(), None);
    }

    pub async fn versions_never_repeat_after_delete_and_recreate(db: Arc<Db>) {
        let store = db.open().await;
        let mut seen = HashSet::new();
        for round in 0..3 {
            store
                .apply(&WriteBatch::new().put("user", "1", "u", json!(round), Expect::Absent))
                .await
                .unwrap();
            let version = store.get("user", "1", "u").await.unwrap().unwrap().version;
            assert!(seen.insert(version), "version {version} reused");
            store
                .apply(&WriteBatch::new().delete("user", "1", "u", Expect::Version(version)))
                .await
                .unwrap();
            // A holder of the old version cannot touch the next incarnation.
            store
                .apply(&WriteBatch::new().put("user", "1", "u", json!("new"), Expect::Absent))
                .await
                .unwrap();
            let stale = store
                .apply(&WriteBatch::new().delete("user", "1", "u", Expect::Version(version)))
                .await;
            expectation_failure(stale);
            store
                .apply(&WriteBatch::new().delete("user", "1", "u", Expect::Any))
                .await
                .unwrap();
        }
    }

    pub async fn delete_of_missing_entity_with_any_writes_nothing(db: Arc<Db>) {
        let store = db.open().await;
        let before = store.latest_seq().await.unwrap();
        let seq = store
            .apply(&WriteBatch::new().delete("user", "1", "ghost", Expect::Any))
            .await
            .unwrap();
        assert!(seq > before);
        assert!(store.changes_since(before).await.unwrap().is_empty());
        assert!(store.load_all().await.unwrap().entities.is_empty());
    }

    pub async fn failing_op_leaves_nothing_of_the_batch(db: Arc<Db>) {
        let store = db.open().await;
        store
            .apply(&WriteBatch::new().put("user", "1", "existing", user("e"), Expect::Absent))
            .await
            .unwrap();
        let before = store.load_all().await.unwrap();

        let batch = WriteBatch::new()
            .put("user", "1", "new-a", user("a"), Expect::Absent)
            .put("user", "1", "existing", user("changed"), Expect::Present)
            .delete("user", "1", "existing", Expect::Any)
            .put("group", "1", "g", json!({}), Expect::Any)
            .delete("user", "1", "nobody", Expect::Present)
            .put("user", "1", "new-b", user("b"), Expect::Absent);
        let failure = store.apply(&batch).await;
        assert_eq!(expectation_failure(failure), (4, Expect::Present, None));

        assert_eq!(store.load_all().await.unwrap(), before);
        assert_eq!(store.latest_seq().await.unwrap(), before.seq);
        assert!(store.changes_since(before.seq).await.unwrap().is_empty());
        assert_eq!(
            store
                .get("user", "1", "existing")
                .await
                .unwrap()
                .unwrap()
                .body,
            user("e")
        );

        // The store is still writable and numbering continues after the
        // rolled-back batch.
        let next = store
            .apply(&WriteBatch::new().put("user", "1", "new-a", user("a"), Expect::Absent))
            .await
            .unwrap();
        assert!(next > before.seq);
    }

    pub async fn later_ops_see_earlier_ops_of_the_same_batch(db: Arc<Db>) {
        let store = db.open().await;
        let before = store.latest_seq().await.unwrap();
        let seq = store
            .apply(
                &WriteBatch::new()
                    .put("user", "1", "tmp", user("tmp"), Expect::Absent)
                    .put("user", "1", "tmp", user("tmp2"), Expect::Present)
                    .delete("user", "1", "tmp", Expect::Present)
                    .put("user", "1", "kept", user("kept"), Expect::Absent),
            )
            .await
            .unwrap();
        assert_eq!(store.get("user", "1", "tmp").await.unwrap(), None);
        assert!(store.get("user", "1", "kept").await.unwrap().is_some());

        let changes = store.changes_since(before).await.unwrap();
        let summary: Vec<(u64, &str, ChangeOp)> = changes
            .iter()
            .map(|c| (c.seq, c.key.as_str(), c.op))
            .collect();
        assert_eq!(
            summary,
            [
                (seq, "tmp", ChangeOp::Put),
                (seq, "tmp", ChangeOp::Put),
                (seq, "tmp", ChangeOp::Delete),
                (seq, "kept", ChangeOp::Put),
            ]
        );

        let absent_after_put = store
            .apply(
                &WriteBatch::new()
                    .put("user", "1", "x", user("x"), Expect::Absent)
                    .put("user", "1", "x", user("x"), Expect::Absent),
            )
            .await;
        let (index, _, found) = expectation_failure(absent_after_put);
        assert_eq!(index, 1);
        assert!(found.is_some());
        assert_eq!(store.get("user", "1", "x").await.unwrap(), None);
    }

    pub async fn sequence_numbers_strictly_increase(db: Arc<Db>) {
        let store = db.open().await;
        let mut last = store.latest_seq().await.unwrap();
        for i in 0..10 {
            let seq = store
                .apply(&WriteBatch::new().put("n", "", format!("k{i}"), json!(i), Expect::Any))
                .await
                .unwrap();
            assert!(seq > last, "{seq} after {last}");
            assert_eq!(store.latest_seq().await.unwrap(), seq);
            let entity = store.get("n", "", &format!("k{i}")).await.unwrap().unwrap();
            assert_eq!(entity.version, i64::try_from(seq).unwrap());
            last = seq;
        }
    }

    pub async fn empty_batch_returns_current_seq(db: Arc<Db>) {
        let store = db.open().await;
        let seq = store
            .apply(&WriteBatch::new().put("n", "", "k", json!(1), Expect::Any))
            .await
            .unwrap();
        assert_eq!(store.apply(&WriteBatch::new()).await.unwrap(), seq);
        assert!(store.changes_since(seq).await.unwrap().is_empty());
    }

    /// A writer keeps two entities equal, one batch at a time, while readers
    /// take snapshots: a snapshot must never show them apart, nor contain a
    /// write newer than its own sequence number.
    pub async fn load_all_is_one_consistent_snapshot(db: Arc<Db>) {
        let store = db.open().await;
        let pair = |n: i64| {
            WriteBatch::new()
                .put("pair", "", "left", json!(n), Expect::Any)
                .put("pair", "", "right", json!(n), Expect::Any)
        };
        store.apply(&pair(0)).await.unwrap();

        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 1..=40 {
                    store.apply(&pair(n)).await.unwrap();
                }
            })
        };
        let mut snapshots = 0;
        while !writer.is_finished() || snapshots < 5 {
            let snapshot = store.load_all().await.unwrap();
            let [left, right] = &snapshot.entities[..] else {
                panic!("expected two entities, got {:?}", snapshot.entities);
            };
            assert_eq!((left.key.as_str(), right.key.as_str()), ("left", "right"));
            assert_eq!(left.body, right.body, "snapshot at {}", snapshot.seq);
            assert_eq!(left.version, right.version);
            assert_eq!(left.version, i64::try_from(snapshot.seq).unwrap());
            snapshots += 1;
        }
        writer.await.unwrap();

        let last = store.load_all().await.unwrap();
        assert_eq!(last.seq, store.latest_seq().await.unwrap());
        assert_eq!(last.entities[0].body, json!(40));
    }

    pub async fn changes_since_returns_exactly_the_later_changes(db: Arc<Db>) {
        let store = db.open().await;
        let start = store.latest_seq().await.unwrap();
        assert!(store.changes_since(start).await.unwrap().is_empty());

        let s1 = store
            .apply(
                &WriteBatch::new()
                    .put("user", "1", "a", user("a"), Expect::Absent)
                    .put("user", "2", "b", user("b"), Expect::Absent),
            )
            .await
            .unwrap();
        let s2 = store
            .apply(&WriteBatch::new().delete("user", "1", "a", Expect::Present))
            .await
            .unwrap();
        let s3 = store
            .apply(&WriteBatch::new().put("role", "2", "r", json!({}), Expect::Absent))
            .await
            .unwrap();

        let all = store.changes_since(start).await.unwrap();
        let summary: Vec<(u64, &str, &str, &str, ChangeOp)> = all
            .iter()
            .map(|c| {
                (
                    c.seq,
                    c.kind.as_str(),
                    c.scope.as_str(),
                    c.key.as_str(),
                    c.op,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (s1, "user", "1", "a", ChangeOp::Put),
                (s1, "user", "2", "b", ChangeOp::Put),
                (s2, "user", "1", "a", ChangeOp::Delete),
                (s3, "role", "2", "r", ChangeOp::Put),
            ]
        );
        assert_eq!(store.changes_since(s1).await.unwrap(), all[2..].to_vec());
        assert_eq!(store.change_count_since(start).await.unwrap(), 4);
        assert_eq!(store.change_count_since(s1).await.unwrap(), 2);
        assert_eq!(store.change_count_since(s3).await.unwrap(), 0);
        assert_eq!(store.changes_since(s2).await.unwrap(), all[3..].to_vec());
        assert!(store.changes_since(s3).await.unwrap().is_empty());
    }

    pub async fn delta_since_gives_each_touched_entity_once_as_it_is_now(db: Arc<Db>) {
        let store = db.open().await;
        let start = store.latest_seq().await.unwrap();
        let empty = store.delta_since(start).await.unwrap();
        assert_eq!((empty.seq, empty.touched.len()), (start, 0));

        store
            .apply(
                &WriteBatch::new()
                    .put("user", "1", "a", user("a"), Expect::Absent)
                    .put("user", "1", "b", user("b"), Expect::Absent),
            )
            .await
            .unwrap();
        let s2 = store
            .apply(&WriteBatch::new().put("user", "1", "a", user("a2"), Expect::Present))
            .await
            .unwrap();
        let s3 = store
            .apply(&WriteBatch::new().delete("user", "1", "b", Expect::Present))
            .await
            .unwrap();

        let delta = store.delta_since(start).await.unwrap();
        assert_eq!(delta.seq, s3);
        let summary: Vec<(&str, Option<&serde_json::Value>, Option<i64>)> = delta
            .touched
            .iter()
            .map(|t| {
                (
                    t.key.as_str(),
                    t.entity.as_ref().map(|e| &e.body),
                    t.entity.as_ref().map(|e| e.version),
                )
            })
            .collect();
        let a2 = user("a2");
        assert_eq!(
            summary,
            [
                ("a", Some(&a2), Some(i64::try_from(s2).unwrap())),
                ("b", None, None)
            ],
            "each entity once, in the order of its last change, as it is now"
        );
        let later = store.delta_since(s2).await.unwrap();
        assert_eq!(later.touched.len(), 1);
        assert_eq!(later.touched[0].key, "b");
        assert!(later.touched[0].entity.is_none());
    }

    pub async fn delta_since_reports_a_gap_once_trimmed(db: Arc<Db>) {
        let store = db.open().await;
        let start = store.latest_seq().await.unwrap();
        let mut last = start;
        for name in ["a", "b", "c"] {
            last = store
                .apply(&WriteBatch::new().put("user", "1", name, user(name), Expect::Absent))
                .await
                .unwrap();
        }
        store.trim_changes_before(last).await.unwrap();
        assert!(matches!(
            store.delta_since(start).await,
            Err(StoreError::Gap(_))
        ));
        let tail = store.delta_since(last - 1).await.unwrap();
        assert_eq!(tail.touched.len(), 1);
        assert_eq!(tail.touched[0].key, "c");
    }

    pub async fn checkpoint_trims_what_every_live_node_has_applied(db: Arc<Db>) {
        let store = db.open().await;
        let start = store.latest_seq().await.unwrap();
        let mut seqs = Vec::new();
        for name in ["a", "b", "c", "d"] {
            seqs.push(
                store
                    .apply(&WriteBatch::new().put("user", "1", name, user(name), Expect::Absent))
                    .await
                    .unwrap(),
            );
        }
        let retention = Retention::default();
        // Node 2 is behind: nothing it still needs is trimmed.
        store
            .checkpoint("node-2", seqs[0], retention)
            .await
            .unwrap();
        let through = store
            .checkpoint("node-1", seqs[3], retention)
            .await
            .unwrap();
        assert_eq!(through, seqs[0]);
        assert!(store.delta_since(start).await.is_err());
        assert_eq!(store.delta_since(seqs[0]).await.unwrap().touched.len(), 3);
        // Once node 2 catches up, the log empties.
        let through = store
            .checkpoint("node-2", seqs[3], retention)
            .await
            .unwrap();
        assert_eq!(through, seqs[3]);
        assert_eq!(store.changes_since(seqs[3]).await.unwrap().len(), 0);
        assert!(store.delta_since(seqs[2]).await.is_err());
        // A node that stopped checking in holds nothing back.
        let retention = Retention {
            liveness_secs: -1,
            ..Retention::default()
        };
        let s5 = store
            .apply(&WriteBatch::new().put("user", "1", "e", user("e"), Expect::Absent))
            .await
            .unwrap();
        store
            .checkpoint("node-2", seqs[3], Retention::default())
            .await
            .unwrap();
        let through = store.checkpoint("node-1", s5, retention).await.unwrap();
        assert_eq!(
            through, s5,
            "no node counts as live: only the caller's own progress"
        );
    }

    pub async fn the_change_log_stays_bounded_under_a_write_loop(db: Arc<Db>) {
        let store = db.open().await;
        let retention = Retention::default();
        let mut largest = 0;
        for i in 0..200 {
            let seq = store
                .apply(&WriteBatch::new().put("user", "1", format!("u{i}"), user("u"), Expect::Any))
                .await
                .unwrap();
            if i % 10 == 9 {
                store.checkpoint("node-1", seq, retention).await.unwrap();
            }
            largest = largest.max(store.change_log_rows().await.unwrap());
        }
        assert_eq!(store.change_log_rows().await.unwrap(), 0);
        assert!(
            largest <= 10,
            "at most the batches since the last checkpoint: {largest}"
        );
    }

    pub async fn list_of_user_finds_a_users_entities_ignoring_case(db: Arc<Db>) {
        let store = db.open().await;
        let key = |id: &str, user: Option<&str>| json!({ "id": id, "user": user });
        store
            .apply(
                &WriteBatch::new()
                    .put(
                        "access_key",
                        "1",
                        "k1",
                        key("k1", Some("Alice")),
                        Expect::Absent,
                    )
                    .put(
                        "access_key",
                        "1",
                        "k2",
                        key("k2", Some("bob")),
                        Expect::Absent,
                    )
                    .put(
                        "access_key",
                        "1",
                        "k3",
                        key("k3", Some("alice")),
                        Expect::Absent,
                    )
                    .put("access_key", "1", "k4", key("k4", None), Expect::Absent)
                    .put(
                        "access_key",
                        "2",
                        "k5",
                        key("k5", Some("alice")),
                        Expect::Absent,
                    )
                    .put(
                        "user",
                        "1",
                        "alice",
                        json!({ "user": "alice" }),
                        Expect::Absent,
                    ),
            )
            .await
            .unwrap();
        let keys = |found: Vec<iamgate_store::Entity>| -> Vec<String> {
            found.into_iter().map(|e| e.key).collect()
        };
        let alice = store
            .list_of_user("access_key", "1", Some("ALICE"))
            .await
            .unwrap();
        assert_eq!(
            keys(alice),
            ["k1", "k3"],
            "case ignored, kind and scope kept"
        );
        let bob = store
            .list_of_user("access_key", "1", Some("bob"))
            .await
            .unwrap();
        assert_eq!(keys(bob), ["k2"]);
        let root = store.list_of_user("access_key", "1", None).await.unwrap();
        assert_eq!(keys(root), ["k4"], "no user member: the account's own");
        let nobody = store
            .list_of_user("access_key", "1", Some("carol"))
            .await
            .unwrap();
        assert!(nobody.is_empty());
    }

    pub async fn scan_all_visits_what_load_all_returns(db: Arc<Db>) {
        let store = db.open().await;
        let mut batch = WriteBatch::new();
        for i in 0..50 {
            batch = batch.put(
                "user",
                format!("{}", i % 3),
                format!("u{i}"),
                user("u"),
                Expect::Any,
            );
        }
        store.apply(&batch).await.unwrap();
        let loaded = store.load_all().await.unwrap();
        let mut visited = Vec::new();
        let seq = store
            .scan_all(&mut |entity| visited.push(entity))
            .await
            .unwrap();
        assert_eq!(seq, loaded.seq);
        let visited: Vec<Entity> = visited
            .into_iter()
            .map(|entity| Entity {
                body: serde_json::from_str(&entity.body).unwrap(),
                kind: entity.kind,
                scope: entity.scope,
                key: entity.key,
                version: entity.version,
            })
            .collect();
        assert_eq!(visited, loaded.entities);
    }

    pub async fn a_batch_larger_than_one_statement_is_applied_whole(db: Arc<Db>) {
        let store = db.open().await;
        let start = store.latest_seq().await.unwrap();
        let mut batch = WriteBatch::new();
        for i in 0..2_500 {
            batch = batch.put("user", "1", format!("u{i:05}"), user("u"), Expect::Absent);
        }
        // The same entity twice in one batch: the later op sees the earlier.
        batch = batch.put("user", "1", "u00000", user("again"), Expect::Present);
        let seq = store.apply(&batch).await.unwrap();
        let stored = store.list("user", "1").await.unwrap();
        assert_eq!(stored.len(), 2_500);
        assert_eq!(stored[0].body, user("again"));
        assert!(
            stored
                .iter()
                .all(|e| e.version == i64::try_from(seq).unwrap())
        );
        assert_eq!(store.changes_since(start).await.unwrap().len(), 2_501);

        // A failing expectation anywhere leaves nothing of a large batch.
        let mut batch = WriteBatch::new();
        for i in 0..2_500 {
            batch = batch.delete("user", "1", format!("u{i:05}"), Expect::Present);
        }
        batch = batch.delete("user", "1", "missing", Expect::Present);
        let failed = store.apply(&batch).await;
        assert!(matches!(
            failed,
            Err(StoreError::ExpectationFailed { index: 2_500, .. })
        ));
        assert_eq!(store.list("user", "1").await.unwrap().len(), 2_500);

        let mut batch = WriteBatch::new();
        for i in 0..2_500 {
            batch = batch.delete("user", "1", format!("u{i:05}"), Expect::Present);
        }
        store.apply(&batch).await.unwrap();
        assert!(store.list("user", "1").await.unwrap().is_empty());
    }

    pub async fn changes_since_reports_gap_after_trim(db: Arc<Db>) {
        let store = db.open().await;
        let mut seqs = Vec::new();
        for i in 0..4 {
            seqs.push(
                store
                    .apply(&WriteBatch::new().put("n", "", format!("k{i}"), json!(i), Expect::Any))
                    .await
                    .unwrap(),
            );
        }
        store.trim_changes_before(seqs[2]).await.unwrap();

        // Everything after seqs[1] is still there...
        let kept = store.changes_since(seqs[1]).await.unwrap();
        assert_eq!(
            kept.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [seqs[2], seqs[3]]
        );
        // ...but not everything after seqs[0].
        match store.changes_since(seqs[0]).await {
            Err(StoreError::Gap(gap)) => {
                assert_eq!(gap.requested, seqs[0]);
                assert_eq!(gap.trimmed_through, seqs[1]);
                assert_eq!(gap.latest, seqs[3]);
            }
            other => panic!("expected a gap, got {other:?}"),
        }
        // A number from the future (another database) is a gap too.
        assert!(matches!(
            store.changes_since(seqs[3] + 1).await,
            Err(StoreError::Gap(_))
        ));
        // Trimming never moves backwards, nor past the newest batch.
        store.trim_changes_before(1).await.unwrap();
        assert!(matches!(
            store.changes_since(seqs[0]).await,
            Err(StoreError::Gap(_))
        ));
        store.trim_changes_before(u64::MAX).await.unwrap();
        assert!(store.changes_since(seqs[3]).await.unwrap().is_empty());
        assert!(matches!(
            store.changes_since(seqs[2]).await,
            Err(StoreError::Gap(_))
        ));
        let next = store
            .apply(&WriteBatch::new().put("n", "", "k9", json!(9), Expect::Any))
            .await
            .unwrap();
        assert_eq!(store.changes_since(seqs[3]).await.unwrap().len(), 1);
        assert!(next > seqs[3]);
    }

    /// Twenty tasks on two handles (two nodes) race to create one key.
    pub async fn racing_absent_puts_have_exactly_one_winner(db: Arc<Db>) {
        let nodes = [db.open().await, db.open().await];
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = nodes[i % 2].clone();
                tokio::spawn(async move {
                    store
                        .apply(&WriteBatch::new().put(
                            "user",
                            "1",
                            "contested",
                            json!({ "writer": i }),
                            Expect::Absent,
                        ))
                        .await
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(seq) => winners.push(seq),
                Err(StoreError::ExpectationFailed {
                    index: 0, found, ..
                }) => losers.push(found),
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        let winner = i64::try_from(winners[0]).unwrap();
        assert_eq!(losers.len(), 19);
        assert!(losers.iter().all(|found| *found == Some(winner)));
        let entity = nodes[1]
            .get("user", "1", "contested")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entity.version, winner);
    }

    /// Read-modify-write with `Expect::Version`, retried on conflict, from
    /// several tasks on two handles: no increment may be lost.
    pub async fn version_guarded_increments_lose_no_update(db: Arc<Db>) {
        let nodes = [db.open().await, db.open().await];
        nodes[0]
            .apply(&WriteBatch::new().put("counter", "", "c", json!(0), Expect::Absent))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let store = nodes[i % 2].clone();
                tokio::spawn(async move {
                    for _ in 0..5 {
                        loop {
                            let current = store.get("counter", "", "c").await.unwrap().unwrap();
                            let next = current.body.as_i64().unwrap() + 1;
                            let batch = WriteBatch::new().put(
                                "counter",
                                "",
                                "c",
                                json!(next),
                                Expect::Version(current.version),
                            );
                            match store.apply(&batch).await {
                                Ok(_) => break,
                                Err(StoreError::ExpectationFailed { .. }) => continue,
                                Err(other) => panic!("unexpected error {other}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let counter = nodes[0].get("counter", "", "c").await.unwrap().unwrap();
        assert_eq!(counter.body, json!(30));
    }

    pub async fn reopening_keeps_data_and_migrations_are_idempotent(db: Arc<Db>) {
        let first = db.open().await;
        let seq = first
            .apply(&WriteBatch::new().put("user", "1", "bob", user("Bob"), Expect::Absent))
            .await
            .unwrap();
        first.close().await;
        drop(first);

        // Opening runs the migrations again: they must find nothing to do.
        let second = db.open().await;
        let third = db.open().await;
        assert_eq!(second.latest_seq().await.unwrap(), seq);
        assert_eq!(
            third.get("user", "1", "bob").await.unwrap().unwrap().body,
            user("Bob")
        );
        assert_eq!(third.changes_since(0).await.unwrap().len(), 1);
        let next = second
            .apply(&WriteBatch::new().put("user", "1", "eve", user("Eve"), Expect::Absent))
            .await
            .unwrap();
        assert!(next > seq);
    }

    pub async fn subscribe_reports_own_commit_at_once(db: Arc<Db>) {
        let store = db.open().await;
        let mut updates = store.subscribe();
        let seq = store
            .apply(&WriteBatch::new().put("n", "", "k", json!(1), Expect::Any))
            .await
            .unwrap();
        // Announced before `apply` returns: no waiting for the poll.
        assert!(updates.has_changed().unwrap());
        assert_eq!(*updates.borrow_and_update(), seq);
    }

    /// Two handles on one database stand for two gateway nodes: each sees
    /// the other's commit within a second, without writing itself.
    pub async fn second_node_sees_writes_within_a_second(db: Arc<Db>) {
        let node_a = db.open().await;
        let node_b = db.open().await;
        for (writer, reader, key) in [(&node_a, &node_b, "from-a"), (&node_b, &node_a, "from-b")] {
            let mut updates = reader.subscribe();
            let seq = writer
                .apply(&WriteBatch::new().put("user", "1", key, user(key), Expect::Absent))
                .await
                .unwrap();
            tokio::time::timeout(
                Duration::from_secs(1),
                updates.wait_for(|known| *known >= seq),
            )
            .await
            .unwrap_or_else(|_| panic!("{key}: seq {seq} not seen within a second"))
            .unwrap();
            let changes = reader.changes_since(seq - 1).await.unwrap();
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].key, key);
            assert!(reader.get("user", "1", key).await.unwrap().is_some());
        }
    }
}

#[tokio::test]
async fn unsupported_url_is_refused_without_echoing_it() {
    let error = Store::open("mysql://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedUrl { ref scheme } if scheme == "mysql"));
    assert!(!error.to_string().contains("hunter2"));
}

#[tokio::test]
async fn sqlite_file_and_its_directory_are_created_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("nested").join("iamgate.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.latest_seq().await.unwrap(), 0);
    assert!(path.is_file());
}
