//! Where the nodes sharing this store can be reached by each other.
//!
//! Why: a node keeps the decision records of the requests it served in
//! its own memory; another node asked for one of them asks its peers
//! rather than having every record written to the database on the
//! request path. Each serving node says where it listens, and when, every
//! few seconds ([`Store::advertise_peer`]); a node that stopped saying so
//! is no longer asked ([`Store::live_peers`]) and its row is forgotten
//! later. Not state: no change log, no snapshot.

use crate::{Backend, Store, StoreError};

/// A serving node, as it advertised itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The node's own name for itself (unique per process).
    pub id: String,
    /// Where it listens, as a URL (`http://10.0.0.5:8080`).
    pub address: String,
}

// One text for both backends: SQLite takes `$N` parameters too.
const ADVERTISE: &str = "INSERT INTO peers (id, address, seen_at) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET address = excluded.address, seen_at = excluded.seen_at";
const FORGET: &str = "DELETE FROM peers WHERE seen_at < $1";
const LIVE: &str = "SELECT id, address FROM peers WHERE seen_at >= $1 ORDER BY seen_at DESC, id";
const WITHDRAW: &str = "DELETE FROM peers WHERE id = $1";

/// [`Store::advertise_peer`]'s statements in transaction `$tx` of either
/// backend: the same text on both, only the driver's types differ.
macro_rules! advertise_in {
    ($tx:ident, $id:expr, $address:expr, $now:expr, $forget_before:expr) => {
        sqlx::query(ADVERTISE)
            .bind($id)
            .bind($address)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(FORGET)
            .bind($forget_before)
            .execute(&mut *$tx)
            .await?;
    };
}

impl Store {
    /// Says that node `id` listens at `address` as of `now` (seconds since
    /// the epoch), and forgets nodes not heard from since `forget_before`.
    pub async fn advertise_peer(
        &self,
        id: &str,
        address: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
                advertise_in!(tx, id, address, now, forget_before);
                tx.commit().await?;
            }
            Backend::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                advertise_in!(tx, id, address, now, forget_before);
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The nodes heard from since `since`, the most recently heard first.
    pub async fn live_peers(&self, since: i64) -> Result<Vec<Peer>, StoreError> {
        let rows: Vec<(String, String)> = match &self.inner.backend {
            Backend::Sqlite(db) => sqlx::query_as(LIVE).bind(since).fetch_all(&db.pool).await?,
            Backend::Postgres(db) => sqlx::query_as(LIVE).bind(since).fetch_all(&db.pool).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id, address)| Peer { id, address })
            .collect())
    }

    /// Forgets node `id` at once (it is shutting down).
    pub async fn withdraw_peer(&self, id: &str) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => {
                let _writer = db.write_gate.lock().await;
                sqlx::query(WITHDRAW).bind(id).execute(&db.pool).await?;
            }
            Backend::Postgres(db) => {
                sqlx::query(WITHDRAW).bind(id).execute(&db.pool).await?;
            }
        }
        Ok(())
    }
}
