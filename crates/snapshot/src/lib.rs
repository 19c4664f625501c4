//! The world every request reads: the IAM world, the APIs and the custom
//! domain names, as of one sequence number of the store.
//!
//! # Why a crate of its own
//!
//! Both planes read the same snapshot — the control planes to authorize
//! and answer calls, the data plane to route and authorize execute-api
//! requests — and neither owns it: the control planes write to the store,
//! and the snapshot follows the store. The binary opens it and hands it to
//! both. Control and gateway never depend on each other.
//!
//! # How it stays current
//!
//! Readers never touch the database or take a lock: [`Live::current`] is
//! an atomic pointer load. The snapshot is replaced, never changed in
//! place. When the store moves on — a write on this node, or another
//! node's write noticed by the change feed — [`Live::catch_up`] reads only
//! the entities changed since the sequence number the snapshot reflects
//! ([`Store::delta_since`]) and applies them to a copy that shares
//! everything untouched (the IAM world's persistent maps, the registry's
//! per-API entries). A write therefore costs what it touched, not the size
//! of the world. The whole store is read only at the first load, and when
//! the change log no longer covers what this node missed (a
//! [`StoreError::Gap`]: the node was stopped, or far behind).
//!
//! A node checks in every few seconds with how far it has applied
//! ([`Store::checkpoint`]), which lets the change log be trimmed to what
//! some live node still needs.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_apimodel::documents::{ApiDocuments, ChangedDocument, StoredBody, is_api_kind};
use iamgate_apimodel::usage::API_KEY_KIND;
use iamgate_iam::world::{RecordChange, UnsealError};
use iamgate_iam::{AccessKeyRecord, AnyRecord, TokenSealer, World};
use iamgate_store::{
    Address, Retention, SYSTEM_KIND, SecretCipher, Store, StoreError, Touched, WriteBatch,
};

/// How often a node reports how far it has applied the change log.
const CHECK_IN_EVERY: Duration = Duration::from_secs(5);

/// Everything a request is decided against, at one point of the store's
/// history.
#[derive(Debug)]
pub struct Snapshot {
    /// The newest store batch this snapshot reflects.
    pub seq: u64,
    pub iam: Arc<World>,
    pub apis: Arc<ApiRegistry>,
}

/// The current snapshot of one store, kept current.
pub struct Live {
    store: Store,
    cipher: SecretCipher,
    sealer: Arc<TokenSealer>,
    current: ArcSwap<Snapshot>,
    /// Held while the snapshot is being brought up to date, so updates
    /// apply in order.
    updating: tokio::sync::Mutex<()>,
}

/// How many decoded records a full load hands to the world's builder at
/// a time.
const RECORDS_PER_HANDOFF: usize = 256;

/// How many handoffs may wait for the builder: a reader faster than the
/// builder waits rather than holding decoded records that the world does
/// not yet own.
const HANDOFFS_IN_FLIGHT: usize = 4;

/// Below this many pending changes a delta is always read.
const FULL_LOAD_FLOOR: u64 = 10_000;

impl Live {
    /// Loads the whole store. Access-key secrets open with `cipher`;
    /// session tokens with `sealer`.
    pub async fn open(
        store: Store,
        cipher: SecretCipher,
        sealer: Arc<TokenSealer>,
    ) -> Result<Live, StoreError> {
        let empty = Snapshot {
            seq: 0,
            iam: Arc::new(World::empty()),
            apis: Arc::new(ApiRegistry::default()),
        };
        let live = Live {
            store,
            cipher,
            sealer,
            current: ArcSwap::from_pointee(empty),
            updating: tokio::sync::Mutex::new(()),
        };
        live.load_everything().await?;
        Ok(live)
    }

    /// The snapshot to decide a request against.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Brings the snapshot up to the store's newest batch and returns the
    /// sequence number it now reflects. A writer calls this after its
    /// write commits, so its client reads its own write at once.
    pub async fn catch_up(&self) -> Result<u64, StoreError> {
        let _updating = self.updating.lock().await;
        self.catch_up_locked().await
    }

    /// [`Live::catch_up`], with the update lock held.
    async fn catch_up_locked(&self) -> Result<u64, StoreError> {
        let current = self.current.load_full();
        let seq = current.seq;
        let pending = self.store.change_count_since(seq).await?;
        if pending > FULL_LOAD_FLOOR && pending > current.iam.entity_count() as u64 {
            // More changes than entities (a world file applied at start, a
            // node that was away): reading the store in key order is
            // cheaper than one lookup per change.
            return self.load_everything().await;
        }
        drop(current);
        match self.store.delta_since(seq).await {
            Ok(delta) => {
                if delta.seq != seq {
                    self.apply(delta.seq, delta.touched);
                }
                Ok(delta.seq)
            }
            Err(StoreError::Gap(gap)) => {
                tracing::info!(
                    ?gap,
                    "the change log no longer covers this node; reloading everything"
                );
                self.load_everything().await
            }
            Err(error) => Err(error),
        }
    }

    async fn load_everything(&self) -> Result<u64, StoreError> {
        // Each row is decoded as it arrives and applied to the world on
        // another thread: with the store's own reader thread, the three
        // stages of a full load share the processors instead of taking
        // turns. Neither the store's rows nor the records are ever all
        // held at once.
        let (decoded, arrived) =
            std::sync::mpsc::sync_channel::<Vec<AnyRecord>>(HANDOFFS_IN_FLIGHT);
        let building = {
            let (sealer, cipher) = (self.sealer.clone(), self.cipher.clone());
            tokio::task::spawn_blocking(move || {
                let unseal = unseal(&cipher);
                let mut iam = World::from_records([], Some(sealer), &unseal);
                for records in arrived {
                    iam.apply(records.into_iter().map(RecordChange::Put), &unseal);
                }
                iam
            })
        };
        let mut documents = ApiDocuments::default();
        let mut records = Vec::with_capacity(RECORDS_PER_HANDOFF);
        let scanned = self
            .store
            .scan_all(&mut |entity| {
                if entity.kind == API_KEY_KIND {
                    let opened = serde_json::from_str(&entity.body)
                        .ok()
                        .and_then(|body| opened_api_key(&self.cipher, &entity.key, &body));
                    if let Some(body) = opened {
                        documents.take(&entity.kind, &entity.key, StoredBody::Tree(&body));
                    }
                    return;
                }
                if entity.kind == SYSTEM_KIND
                    || documents.take(&entity.kind, &entity.key, StoredBody::Text(&entity.body))
                {
                    return;
                }
                match AnyRecord::from_json(&entity.kind, &entity.body) {
                    Ok(record) => records.push(record),
                    Err(error) => {
                        tracing::warn!(kind = %entity.kind, key = %entity.key, %error, "unreadable record left out");
                    }
                }
                if records.len() == RECORDS_PER_HANDOFF {
                    // The builder ends only when this sender is dropped.
                    let _ = decoded.send(std::mem::replace(
                        &mut records,
                        Vec::with_capacity(RECORDS_PER_HANDOFF),
                    ));
                }
            })
            .await;
        let _ = decoded.send(records);
        drop(decoded);
        let iam = building
            .await
            .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
        let seq = scanned?;
        let (apis, problems) = documents.registry();
        for problem in problems {
            tracing::warn!(%problem, "API left out");
        }
        for problem in iam.problems() {
            tracing::warn!(%problem, "world record left out");
        }
        self.current.store(Arc::new(Snapshot {
            seq,
            iam: Arc::new(iam),
            apis: Arc::new(apis),
        }));
        Ok(seq)
    }

    /// Applies the entities a delta touched and swaps the result in.
    fn apply(&self, seq: u64, touched: Vec<Touched>) {
        let current = self.current.load_full();
        let outcome = touched.iter().map(|touched| {
            (
                (
                    touched.kind.as_str(),
                    touched.scope.as_str(),
                    touched.key.as_str(),
                ),
                touched.entity.as_ref().map(|entity| &entity.body),
            )
        });
        let next = advanced(&current, seq, outcome, &self.cipher);
        self.current.store(Arc::new(next));
    }

    /// Writes `batch` to the store and brings the snapshot up to it.
    ///
    /// The next snapshot is built from the batch itself, on another
    /// thread while the store writes it, rather than read back once
    /// committed: applying a large world file at a first start would
    /// otherwise write 200,000 entities and then read them all again. It
    /// is swapped in only if the batch directly follows the snapshot it
    /// was built on; if another write came between, the snapshot catches
    /// up from the store as usual.
    pub async fn write(&self, batch: WriteBatch) -> Result<u64, StoreError> {
        let _updating = self.updating.lock().await;
        let base = self.current.load_full();
        let batch = Arc::new(batch);
        let building = {
            let (base, batch, cipher) = (base.clone(), batch.clone(), self.cipher.clone());
            tokio::task::spawn_blocking(move || {
                advanced(&base, base.seq + 1, batch.outcome().into_iter(), &cipher)
            })
        };
        let written = self.store.apply(&batch).await;
        // Freeing a large batch is left to another thread, off the way to
        // serving.
        tokio::task::spawn_blocking(move || drop(batch));
        let seq = written?;
        if seq == base.seq + 1
            && let Ok(next) = building.await
        {
            self.current.store(Arc::new(next));
            return Ok(seq);
        }
        self.catch_up_locked().await
    }

    /// Follows the store's change feed and applies every change, until the
    /// store closes: other nodes' writes arrive this way. Every few seconds
    /// the node also checks in with how far it has applied.
    pub async fn follow(self: Arc<Self>) {
        let node = node_name();
        let mut changes = self.store.subscribe();
        let mut check_in = tokio::time::interval(CHECK_IN_EVERY);
        check_in.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if let Err(error) = self.catch_up().await {
                        tracing::error!(%error, "applying a change failed; keeping the previous snapshot");
                    }
                }
                _ = check_in.tick() => {
                    let applied = self.current.load().seq;
                    if let Err(error) = self.store.checkpoint(&node, applied, Retention::default()).await {
                        tracing::warn!(%error, "checking in with the change log failed");
                    }
                }
            }
        }
    }
}

/// `base` with the entities in `outcome` (each at most once: its body now,
/// or `None` once deleted) applied, as of `seq`. It shares everything
/// untouched with `base`.
fn advanced<'a>(
    base: &Snapshot,
    seq: u64,
    outcome: impl Iterator<Item = (Address<'a>, Option<&'a serde_json::Value>)>,
    cipher: &SecretCipher,
) -> Snapshot {
    let mut iam_changes = Vec::new();
    let mut api_changes = Vec::new();
    // API keys with their values opened, kept here for `api_changes` to
    // borrow.
    let mut opened_keys: Vec<(&str, &str, Option<serde_json::Value>)> = Vec::new();
    for ((kind, scope, key), body) in outcome {
        if kind == SYSTEM_KIND {
            continue;
        }
        if kind == API_KEY_KIND {
            // A key that does not open is left out (deleted), never
            // served with its sealed text as its value.
            opened_keys.push((
                kind,
                key,
                body.and_then(|body| opened_api_key(cipher, key, body)),
            ));
            continue;
        }
        if is_api_kind(kind) {
            api_changes.push(ChangedDocument { kind, key, body });
            continue;
        }
        let record = body.and_then(|body| {
            AnyRecord::from_body(kind, body.clone())
                .inspect_err(|error| {
                    tracing::warn!(%kind, %key, %error, "unreadable record left out");
                })
                .ok()
        });
        iam_changes.push(match record {
            Some(record) => RecordChange::Put(record),
            // Deleted, or unreadable: left out, as a full load would.
            None => RecordChange::Delete {
                kind: kind.to_owned(),
                scope: scope.to_owned(),
                key: key.to_owned(),
            },
        });
    }
    let iam = if iam_changes.is_empty() {
        base.iam.clone()
    } else {
        let mut iam = World::clone(&base.iam);
        iam.apply(iam_changes, &unseal(cipher));
        Arc::new(iam)
    };
    api_changes.extend(opened_keys.iter().map(|(kind, key, body)| ChangedDocument {
        kind,
        key,
        body: body.as_ref(),
    }));
    let apis = if api_changes.is_empty() {
        base.apis.clone()
    } else {
        let (apis, problems) = base.apis.updated(api_changes);
        for problem in problems {
            tracing::warn!(%problem, "API left out");
        }
        Arc::new(apis)
    };
    Snapshot { seq, iam, apis }
}

/// An API key document with its value opened (the store keeps it sealed
/// by `cipher`); `None`, logged, when it does not open.
fn opened_api_key(
    cipher: &SecretCipher,
    key: &str,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    let sealed = body.get("value").and_then(serde_json::Value::as_str);
    let opened = sealed.and_then(|sealed| {
        cipher
            .open_for(&iamgate_apimodel::usage::value_seal_context(key), sealed)
            .ok()
    });
    let Some(value) = opened else {
        tracing::warn!(%key, "an API key whose value does not open with this node's secret key left out");
        return None;
    };
    let mut body = body.clone();
    if let Some(slot) = body.get_mut("value") {
        *slot = serde_json::Value::String(value);
    }
    Some(body)
}

/// Opens access-key secrets sealed by `cipher`.
fn unseal(cipher: &SecretCipher) -> impl Fn(&AccessKeyRecord) -> Result<String, UnsealError> + '_ {
    |record: &AccessKeyRecord| {
        cipher
            .open_for(&record.id, record.secret.expose())
            .map_err(|error| Box::new(error) as UnsealError)
    }
}

/// A name for this node in the store's check-ins, unique per process.
fn node_name() -> String {
    let random = iamgate_iam::ids::random_key().map_or_else(
        |_| String::from("unknown"),
        |key| hex::encode(key.get(..8).unwrap_or_default()),
    );
    format!("node-{}-{random}", std::process::id())
}
