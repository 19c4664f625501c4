//! Asking the other nodes for a decision record this node does not hold.
//!
//! Why: every record lives first in the ring of the node that served the
//! request. Writing each one to the store as well made every request pay
//! for a database write (0.61× the throughput at saturation); asking the
//! node that holds the record, when someone reads it, costs nothing on the
//! request path. So each serving node advertises where it listens in the
//! store ([`Peers::advertise`]), and a node asked for a record it lacks
//! asks every live peer ([`Peers::find`]).
//!
//! The question and the answer travel over the peers' ordinary listeners,
//! so both are sealed with the secret key that every node sharing a store
//! already shares (it opens the store's secrets): a question names the
//! request id and when it was asked, and only a node holding the key can
//! ask; an answer is the whole record, bound to that request id, and only
//! a node holding the key can read it. Who may see which part of the
//! record is then decided by the asking node, exactly as for its own
//! records. The transport itself is the binary's ([`PeerTransport`]): this
//! crate does not speak HTTP as a client.

use std::sync::Arc;
use std::time::Duration;

use iamgate_decisions::{DecisionRecord, Lookup};
use iamgate_store::{SecretCipher, Store};

use crate::plane::Clock;
use crate::{BoxFuture, Response};

/// The path a node asks its peers on.
pub const PEER_PATH: &str = "/_iamgate/peer/decision";
/// The header that carries the sealed question.
pub const QUESTION_HEADER: &str = "x-iamgate-peer-question";
/// How often a node says where it listens.
pub const ADVERTISE_EVERY: Duration = Duration::from_secs(5);
/// A node not heard from for this long is not asked.
const LIVE_SECS: i64 = 20;
/// A node not heard from for this long is forgotten.
const FORGET_SECS: i64 = 3_600;
/// A question older (or further in the future, for clocks apart) than
/// this is refused: a copied question is useless soon after.
const QUESTION_MAX_AGE_SECS: i64 = 60;
/// How long a node waits for all of its peers' answers.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(3);

const QUESTION_CONTEXT: &str = "iamgate peer question";
const ANSWER_CONTEXT: &str = "iamgate peer answer ";

/// How a node reaches another: `GET url` with one header, the body of a
/// 200 answer, or `None` for any other answer or failure (an unreachable
/// peer simply does not hold the record).
pub trait PeerTransport: Send + Sync {
    fn get(
        &self,
        url: String,
        header: (&'static str, String),
    ) -> BoxFuture<'static, Option<String>>;
}

/// This node among its peers.
pub struct Peers {
    node: String,
    store: Store,
    cipher: SecretCipher,
    clock: Clock,
    transport: Arc<dyn PeerTransport>,
}

impl Peers {
    /// This node, sharing `store` and the secret key of `cipher` with its
    /// peers, reaching them through `transport`.
    pub fn new(
        store: Store,
        cipher: SecretCipher,
        clock: Clock,
        transport: Arc<dyn PeerTransport>,
    ) -> Result<Self, crate::ControlError> {
        let random =
            iamgate_iam::ids::random_key().map_err(|_| crate::ControlError::RandomUnavailable)?;
        let node = format!(
            "peer-{}-{}",
            std::process::id(),
            hex::encode(random.get(..8).unwrap_or_default())
        );
        Ok(Self {
            node,
            store,
            cipher,
            clock,
            transport,
        })
    }

    /// Says that this node listens at `address` (`http://host:port`), now
    /// and every [`ADVERTISE_EVERY`], for ever; a failed write is tried
    /// again next time.
    pub async fn advertise(self: Arc<Self>, address: String) {
        let mut ticks = tokio::time::interval(ADVERTISE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = (self.clock)();
            if let Err(error) = self
                .store
                .advertise_peer(&self.node, &address, now, now - FORGET_SECS)
                .await
            {
                tracing::warn!(%error, "saying where this node listens failed");
            }
        }
    }

    /// Stops being asked (the node is shutting down).
    pub async fn withdraw(&self) {
        if let Err(error) = self.store.withdraw_peer(&self.node).await {
            tracing::warn!(%error, "withdrawing this node from its peers failed");
        }
    }

    /// The record of `request_id` as some live peer holds it, if any does.
    pub async fn find(&self, request_id: &str) -> Option<DecisionRecord> {
        let now = (self.clock)();
        let peers = match self.store.live_peers(now - LIVE_SECS).await {
            Ok(peers) => peers,
            Err(error) => {
                tracing::warn!(%error, "listing the peers failed");
                return None;
            }
        };
        let question = self
            .cipher
            .seal_for(QUESTION_CONTEXT, &format!("{now} {request_id}"))
            .ok()?;
        let mut asked = tokio::task::JoinSet::new();
        for peer in peers.into_iter().filter(|peer| peer.id != self.node) {
            let url = format!("{}{PEER_PATH}", peer.address.trim_end_matches('/'));
            asked.spawn(self.transport.get(url, (QUESTION_HEADER, question.clone())));
        }
        let answers = async {
            while let Some(answer) = asked.join_next().await {
                if let Some(record) = answer.ok().flatten().and_then(|sealed| {
                    let text = self
                        .cipher
                        .open_for(&format!("{ANSWER_CONTEXT}{request_id}"), &sealed)
                        .ok()?;
                    serde_json::from_str::<DecisionRecord>(&text).ok()
                }) {
                    return Some(record);
                }
            }
            None
        };
        tokio::time::timeout(ASK_TIMEOUT, answers)
            .await
            .ok()
            .flatten()
    }

    /// Answers a peer's question (the value of [`QUESTION_HEADER`]) from
    /// this node's ring: 200 with the sealed record, 404 when this node
    /// does not hold it, 403 for a question this node cannot open or one
    /// too old.
    pub fn answer(
        &self,
        question: Option<&str>,
        ring: &iamgate_decisions::DecisionLog,
    ) -> Response {
        let asked = question.and_then(|sealed| {
            let text = self.cipher.open_for(QUESTION_CONTEXT, sealed).ok()?;
            let (at, request_id) = text.split_once(' ')?;
            let at: i64 = at.parse().ok()?;
            ((self.clock)().abs_diff(at) <= QUESTION_MAX_AGE_SECS.unsigned_abs())
                .then(|| request_id.to_owned())
        });
        let Some(request_id) = asked else {
            return Response::new(403, "text/plain", "not a peer's question\n");
        };
        let Lookup::Found(record) = ring.get(&request_id) else {
            return Response::new(404, "text/plain", "no such record here\n");
        };
        let sealed = serde_json::to_string(&*record).ok().and_then(|text| {
            self.cipher
                .seal_for(&format!("{ANSWER_CONTEXT}{request_id}"), &text)
                .ok()
        });
        match sealed {
            Some(sealed) => Response::new(200, "text/plain", sealed),
            None => Response::new(500, "text/plain", "the record could not be sealed\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::collections::HashMap;
    use std::sync::Mutex;

    use iamgate_decisions::{DecisionLog, RingLimits};

    use super::*;

    const NOW: i64 = 1_800_000_000;

    /// Nodes in one process: a URL is answered by the node advertised
    /// there, as the binary's HTTP transport would.
    /// A node and its ring.
    type Node = (Arc<Peers>, Arc<DecisionLog>);

    #[derive(Default)]
    struct InProcess {
        nodes: Mutex<HashMap<String, Node>>,
    }

    impl PeerTransport for InProcess {
        fn get(
            &self,
            url: String,
            header: (&'static str, String),
        ) -> BoxFuture<'static, Option<String>> {
            let node = self
                .nodes
                .lock()
                .unwrap()
                .iter()
                .find(|(address, _)| url == format!("{address}{PEER_PATH}"))
                .map(|(_, node)| node.clone());
            Box::pin(async move {
                assert_eq!(header.0, QUESTION_HEADER);
                let (peers, ring) = node?;
                let answer = peers.answer(Some(&header.1), &ring);
                (answer.status == 200).then(|| String::from_utf8(answer.body).unwrap())
            })
        }
    }

    fn record(id: &str) -> DecisionRecord {
        DecisionRecord::bare(
            id,
            NOW,
            "execute-api",
            "implicit_deny",
            "execute-api:Invoke",
        )
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("iamgate.db").display());
        (dir, Store::open(&url).await.unwrap())
    }

    /// A node on `store` at `address`, advertised and reachable through
    /// `transport`, its ring holding `held`.
    async fn node(
        transport: &Arc<InProcess>,
        store: &Store,
        cipher: &SecretCipher,
        address: &str,
        held: &[&str],
    ) -> Arc<Peers> {
        let clock: Clock = Arc::new(|| NOW);
        let peers =
            Arc::new(Peers::new(store.clone(), cipher.clone(), clock, transport.clone()).unwrap());
        let ring = Arc::new(DecisionLog::new(RingLimits::default()));
        for id in held {
            ring.record(record(id));
        }
        store
            .advertise_peer(&peers.node, address, NOW, 0)
            .await
            .unwrap();
        transport
            .nodes
            .lock()
            .unwrap()
            .insert(address.to_owned(), (peers.clone(), ring));
        peers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_another_node_holds_is_found_by_asking_it() {
        let (_dir, store) = store().await;
        let cipher = SecretCipher::generate().unwrap();
        let transport = Arc::new(InProcess::default());
        node(&transport, &store, &cipher, "http://one:1", &["r-1"]).await;
        node(&transport, &store, &cipher, "http://two:1", &["r-2"]).await;
        let asking = node(&transport, &store, &cipher, "http://three:1", &[]).await;
        assert_eq!(asking.find("r-1").await, Some(record("r-1")));
        assert_eq!(asking.find("r-2").await, Some(record("r-2")));
        assert_eq!(asking.find("r-3").await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_that_withdrew_or_went_silent_is_not_asked() {
        let (_dir, store) = store().await;
        let cipher = SecretCipher::generate().unwrap();
        let transport = Arc::new(InProcess::default());
        let gone = node(&transport, &store, &cipher, "http://gone:1", &["r-1"]).await;
        let silent = node(&transport, &store, &cipher, "http://silent:1", &["r-2"]).await;
        let asking = node(&transport, &store, &cipher, "http://asking:1", &[]).await;
        gone.withdraw().await;
        store
            .advertise_peer(&silent.node, "http://silent:1", NOW - LIVE_SECS - 1, 0)
            .await
            .unwrap();
        assert_eq!(asking.find("r-1").await, None);
        assert_eq!(asking.find("r-2").await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_fresh_question_sealed_with_the_shared_key_is_answered() {
        let (_dir, store) = store().await;
        let cipher = SecretCipher::generate().unwrap();
        let transport = Arc::new(InProcess::default());
        let holder = node(&transport, &store, &cipher, "http://holder:1", &["r-1"]).await;
        let ring = transport.nodes.lock().unwrap()["http://holder:1"].1.clone();
        let question = |cipher: &SecretCipher, at: i64, id: &str| {
            cipher
                .seal_for(QUESTION_CONTEXT, &format!("{at} {id}"))
                .unwrap()
        };

        let answer = holder.answer(Some(&question(&cipher, NOW, "r-1")), &ring);
        assert_eq!(answer.status, 200);
        let sealed = String::from_utf8(answer.body).unwrap();
        // The answer is sealed, bound to the request id asked.
        assert!(!sealed.contains("r-1") && !sealed.contains("execute-api"));
        assert!(
            cipher
                .open_for(&format!("{ANSWER_CONTEXT}r-2"), &sealed)
                .is_err()
        );
        let text = cipher
            .open_for(&format!("{ANSWER_CONTEXT}r-1"), &sealed)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<DecisionRecord>(&text).unwrap(),
            record("r-1")
        );

        assert_eq!(
            holder
                .answer(Some(&question(&cipher, NOW, "r-9")), &ring)
                .status,
            404
        );
        let stranger = SecretCipher::generate().unwrap();
        for refused in [
            Some(question(&stranger, NOW, "r-1")),
            Some(question(&cipher, NOW - QUESTION_MAX_AGE_SECS - 1, "r-1")),
            Some(question(&cipher, NOW + QUESTION_MAX_AGE_SECS + 1, "r-1")),
            Some(
                cipher
                    .seal_for("another context", &format!("{NOW} r-1"))
                    .unwrap(),
            ),
            Some("r-1".to_owned()),
            None,
        ] {
            let answer = holder.answer(refused.as_deref(), &ring);
            assert_eq!(answer.status, 403, "{refused:?}");
            assert!(
                !String::from_utf8(answer.body)
                    .unwrap()
                    .contains("execute-api")
            );
        }
    }
}
