#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! API keys' usage counts, the same cases on every backend (as in
//! `conformance.rs`): two nodes' additions sum, a batch returns the totals
//! after it, reading by day range sees only its plan and key.

#[macro_use]
mod harness;

use harness::Db;

conformance!(
    counts_added_by_two_nodes_sum_and_each_reads_back_the_total,
    days_are_read_by_range_for_one_plan_and_key,
    a_total_set_on_one_node_is_what_every_node_reads_and_counts_on_from,
);

mod cases {
    use std::sync::Arc;

    use iamgate_store::UsageCount;

    use crate::Db;

    fn count(plan: &str, key: &str, day: i64, used: i64) -> UsageCount {
        UsageCount {
            usage_plan: plan.to_owned(),
            api_key: key.to_owned(),
            day,
            used,
        }
    }

    pub async fn counts_added_by_two_nodes_sum_and_each_reads_back_the_total(db: Arc<Db>) {
        let (one, two) = (db.open().await, db.open().await);
        let totals = one
            .add_usage(&[count("p1", "k1", 100, 3), count("p1", "k2", 100, 1)])
            .await
            .unwrap();
        assert_eq!(totals, vec![3, 1]);
        assert_eq!(
            two.add_usage(&[count("p1", "k1", 100, 2)]).await.unwrap(),
            vec![5]
        );
        // A zero addition only reads.
        assert_eq!(
            one.add_usage(&[count("p1", "k1", 100, 0)]).await.unwrap(),
            vec![5]
        );
        assert_eq!(one.add_usage(&[]).await.unwrap(), Vec::<i64>::new());
    }

    pub async fn days_are_read_by_range_for_one_plan_and_key(db: Arc<Db>) {
        let store = db.open().await;
        store
            .add_usage(&[
                count("p1", "k1", 99, 1),
                count("p1", "k1", 100, 2),
                count("p1", "k1", 102, 4),
                count("p2", "k1", 100, 8),
                count("p1", "k2", 100, 16),
            ])
            .await
            .unwrap();
        assert_eq!(
            store.usage_days("p1", "k1", 100, 102).await.unwrap(),
            vec![(100, 2), (102, 4)]
        );
        assert!(
            store
                .usage_days("p3", "k1", 0, 1000)
                .await
                .unwrap()
                .is_empty()
        );
        let recent = store.usage_since(100).await.unwrap();
        assert_eq!(
            recent,
            vec![
                count("p1", "k1", 100, 2),
                count("p1", "k1", 102, 4),
                count("p1", "k2", 100, 16),
                count("p2", "k1", 100, 8),
            ]
        );
    }

    pub async fn a_total_set_on_one_node_is_what_every_node_reads_and_counts_on_from(db: Arc<Db>) {
        let (one, two) = (db.open().await, db.open().await);
        one.add_usage(&[count("p1", "k1", 100, 5), count("p1", "k1", 101, 3)])
            .await
            .unwrap();
        // Node two sets the window's total to 2: taken from the latest
        // days first, none below zero; another key is left alone.
        one.add_usage(&[count("p1", "k2", 101, 7)]).await.unwrap();
        assert_eq!(
            two.set_usage_total("p1", "k1", (100, 101), 2, &[])
                .await
                .unwrap(),
            vec![(100, 2), (101, 0)]
        );
        assert_eq!(
            one.usage_days("p1", "k1", 100, 101).await.unwrap(),
            vec![(100, 2), (101, 0)]
        );
        assert_eq!(
            one.usage_days("p1", "k2", 100, 101).await.unwrap(),
            vec![(101, 7)]
        );
        // Later requests count on top of the total set.
        assert_eq!(
            one.add_usage(&[count("p1", "k1", 101, 1)]).await.unwrap(),
            vec![1]
        );
        // A growth goes to the last day, counting what the caller has not
        // added yet: once it adds its 4, the window totals 10.
        assert_eq!(
            two.set_usage_total("p1", "k1", (100, 101), 10, &[(101, 4)])
                .await
                .unwrap(),
            vec![(100, 2), (101, 4)]
        );
        two.add_usage(&[count("p1", "k1", 101, 4)]).await.unwrap();
        let total: i64 = one
            .usage_days("p1", "k1", 100, 101)
            .await
            .unwrap()
            .iter()
            .map(|(_, used)| used)
            .sum();
        assert_eq!(total, 10);
    }
}
