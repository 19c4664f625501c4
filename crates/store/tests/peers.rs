#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Where serving nodes can be reached, the same cases on every backend (as
//! in `conformance.rs`): a node's advertisement is seen by another handle,
//! a newer one replaces the older, silent nodes are not listed and are
//! forgotten, and a node shutting down withdraws at once.

#[macro_use]
mod harness;

use harness::Db;

conformance!(
    a_node_advertised_by_one_handle_is_listed_by_another,
    a_node_that_stopped_advertising_is_not_listed_and_is_forgotten_later,
    a_withdrawn_node_is_not_listed,
);

mod cases {
    use std::sync::Arc;

    use iamgate_store::Peer;

    use crate::Db;

    const NOW: i64 = 1_800_000_000;

    fn peer(id: &str, address: &str) -> Peer {
        Peer {
            id: id.to_owned(),
            address: address.to_owned(),
        }
    }

    pub async fn a_node_advertised_by_one_handle_is_listed_by_another(db: Arc<Db>) {
        let (one, two) = (db.open().await, db.open().await);
        one.advertise_peer("n1", "http://10.0.0.1:8080", NOW - 5, 0)
            .await
            .unwrap();
        two.advertise_peer("n2", "http://10.0.0.2:8080", NOW - 1, 0)
            .await
            .unwrap();
        // A node that moved says so: the newer address replaces the older.
        one.advertise_peer("n1", "http://10.0.0.9:8080", NOW, 0)
            .await
            .unwrap();
        assert_eq!(
            two.live_peers(NOW - 30).await.unwrap(),
            vec![
                peer("n1", "http://10.0.0.9:8080"),
                peer("n2", "http://10.0.0.2:8080")
            ]
        );
    }

    pub async fn a_node_that_stopped_advertising_is_not_listed_and_is_forgotten_later(db: Arc<Db>) {
        let store = db.open().await;
        store
            .advertise_peer("old", "http://10.0.0.1:8080", NOW - 100, 0)
            .await
            .unwrap();
        store
            .advertise_peer("new", "http://10.0.0.2:8080", NOW, 0)
            .await
            .unwrap();
        assert_eq!(
            store.live_peers(NOW - 30).await.unwrap(),
            vec![peer("new", "http://10.0.0.2:8080")]
        );
        // Still there for a reader with a longer memory, until forgotten.
        assert_eq!(store.live_peers(NOW - 1000).await.unwrap().len(), 2);
        store
            .advertise_peer("new", "http://10.0.0.2:8080", NOW, NOW - 50)
            .await
            .unwrap();
        assert_eq!(
            store.live_peers(0).await.unwrap(),
            vec![peer("new", "http://10.0.0.2:8080")]
        );
    }

    pub async fn a_withdrawn_node_is_not_listed(db: Arc<Db>) {
        let store = db.open().await;
        for id in ["a", "b"] {
            store
                .advertise_peer(id, &format!("http://{id}:1"), NOW, 0)
                .await
                .unwrap();
        }
        store.withdraw_peer("a").await.unwrap();
        // Withdrawing a node that is not there does nothing.
        store.withdraw_peer("zzz").await.unwrap();
        assert_eq!(
            store.live_peers(NOW - 30).await.unwrap(),
            vec![peer("b", "http://b:1")]
        );
    }
}
