//! The control plane's state: the store, the keys, and the current world.
//!
//! Reads never touch the database: every request works on an immutable
//! [`World`] snapshot behind an atomic pointer. Writes go to the store in one
//! transaction each; the entities the write touched are then applied to a
//! copy of the snapshot that shares everything else, and swapped in — on
//! this node right after the write (a client sees its own writes at once)
//! and on every other node when the store's change feed reports it. A write
//! therefore costs the entities it touches, not the size of the world.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::world::{RecordChange, UnsealError};
use iamgate_iam::{AccessKeyRecord, AnyRecord, TokenSealer, World};
use iamgate_store::{
    Expect, Retention, SecretCipher, SecretError, Store, StoreError, Touched, WriteBatch,
};
use thiserror::Error;

use crate::apigateway::StoredApis;

/// Where the session-token key lives in the store: sealed by the secret
/// cipher, so every node that shares the secret key shares the token key.
const SYSTEM_KIND: &str = "system";
const TOKEN_KEY: &str = "session-token-key";

/// Seconds since the epoch; replaceable so tests can pin time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            })
    })
}

/// Why the control plane could not start or reload.
#[derive(Debug, Error)]
pub enum ControlError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("secrets: {0}")]
    Secret(#[from] SecretError),
    #[error("the session-token key in the store is damaged")]
    DamagedTokenKey,
    #[error("the system random source is unavailable")]
    RandomUnavailable,
    #[error("the world file: {0}")]
    Config(String),
}

/// The shared state of every control-plane operation.
pub struct ControlPlane {
    pub(crate) store: Store,
    pub(crate) cipher: SecretCipher,
    pub(crate) sealer: Arc<TokenSealer>,
    world: ArcSwap<World>,
    /// The APIs the data plane serves, from the same store snapshot.
    apis: ArcSwap<ApiRegistry>,
    reload_lock: tokio::sync::Mutex<u64>,
    /// Writers on this node take turns planning and applying (see
    /// [`crate::write`]).
    pub(crate) write_turn: tokio::sync::Mutex<()>,
    pub(crate) clock: Clock,
}

impl ControlPlane {
    /// Opens the control plane on `store`, whose access-key secrets are
    /// sealed with `cipher`, and loads the world.
    pub async fn open(store: Store, cipher: SecretCipher) -> Result<Self, ControlError> {
        let sealer = Arc::new(TokenSealer::new(&token_key(&store, &cipher).await?));
        let plane = Self {
            store,
            cipher,
            sealer,
            world: ArcSwap::from_pointee(World::empty()),
            apis: ArcSwap::from_pointee(ApiRegistry::default()),
            reload_lock: tokio::sync::Mutex::new(0),
            write_turn: tokio::sync::Mutex::new(()),
            clock: system_clock(),
        };
        plane.reload().await?;
        Ok(plane)
    }

    /// Replaces the clock (tests pin time with it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current snapshot.
    pub fn world(&self) -> Arc<World> {
        self.world.load_full()
    }

    /// The APIs the data plane serves now.
    pub fn apis(&self) -> Arc<ApiRegistry> {
        self.apis.load_full()
    }

    /// Brings the snapshot up to the store's newest batch and returns the
    /// sequence number it reflects. Only the entities changed since the
    /// last update are read and applied ([`Store::delta_since`]); the whole
    /// store is read at the first load and when the change log no longer
    /// covers what this node missed.
    pub async fn reload(&self) -> Result<u64, ControlError> {
        let mut loaded = self.reload_lock.lock().await;
        if *loaded != 0 {
            match self.store.delta_since(*loaded).await {
                Ok(delta) => {
                    if delta.seq != *loaded {
                        self.apply_delta(delta.touched);
                        *loaded = delta.seq;
                    }
                    return Ok(*loaded);
                }
                Err(StoreError::Gap(gap)) => {
                    tracing::info!(
                        ?gap,
                        "the change log no longer covers this node; reloading everything"
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
        *loaded = self.load_everything().await?;
        Ok(*loaded)
    }

    async fn load_everything(&self) -> Result<u64, ControlError> {
        let snapshot = self.store.load_all().await?;
        let mut stored_apis = StoredApis::default();
        let mut records = Vec::new();
        for entity in snapshot.entities {
            if entity.kind == SYSTEM_KIND || stored_apis.take(&entity) {
                continue;
            }
            match AnyRecord::from_body(&entity.kind, entity.body) {
                Ok(record) => records.push(record),
                Err(error) => {
                    tracing::warn!(kind = %entity.kind, key = %entity.key, %error, "unreadable record left out");
                }
            }
        }
        let (apis, problems) = stored_apis.registry();
        for problem in problems {
            tracing::warn!(%problem, "API left out");
        }
        let world = World::from_records(records, Some(self.sealer.clone()), &self.unseal());
        for problem in world.problems() {
            tracing::warn!(%problem, "world record left out");
        }
        self.world.store(Arc::new(world));
        self.apis.store(Arc::new(apis));
        Ok(snapshot.seq)
    }

    /// Applies the entities a delta touched to a copy of the snapshot that
    /// shares everything untouched, and swaps it in.
    fn apply_delta(&self, touched: Vec<Touched>) {
        let mut changes = Vec::new();
        let mut apis_changed = Vec::new();
        for touched in touched {
            if touched.kind == SYSTEM_KIND {
                continue;
            }
            if StoredApis::is_api_kind(&touched.kind) {
                apis_changed.push(touched);
                continue;
            }
            let record = touched.entity.and_then(|entity| {
                AnyRecord::from_body(&entity.kind, entity.body)
                    .inspect_err(|error| {
                        tracing::warn!(kind = %entity.kind, key = %entity.key, %error, "unreadable record left out");
                    })
                    .ok()
            });
            changes.push(match record {
                Some(record) => RecordChange::Put(record),
                // Deleted, or unreadable: left out, as a full load would.
                None => RecordChange::Delete {
                    kind: touched.kind,
                    scope: touched.scope,
                    key: touched.key,
                },
            });
        }
        if !changes.is_empty() {
            let mut world = World::clone(&self.world.load());
            world.apply(changes, &self.unseal());
            self.world.store(Arc::new(world));
        }
        if !apis_changed.is_empty() {
            let (apis, problems) = StoredApis::apply(&self.apis.load(), apis_changed);
            for problem in problems {
                tracing::warn!(%problem, "API left out");
            }
            self.apis.store(Arc::new(apis));
        }
    }

    /// Opens access-key secrets sealed by this store's cipher.
    fn unseal(&self) -> impl Fn(&AccessKeyRecord) -> Result<String, UnsealError> + '_ {
        |record: &AccessKeyRecord| {
            self.cipher
                .open_for(&record.id, record.secret.expose())
                .map_err(|error| Box::new(error) as UnsealError)
        }
    }

    /// Follows the store's change feed and applies every change, until the
    /// store closes. Other nodes' writes arrive this way. Every few seconds
    /// the node also checks in with how far it has applied, which lets the
    /// change log be trimmed ([`Store::checkpoint`]).
    pub async fn follow_changes(self: Arc<Self>) {
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
                    if let Err(error) = self.reload().await {
                        tracing::error!(%error, "applying a change failed; keeping the previous world");
                    }
                }
                _ = check_in.tick() => {
                    let applied = *self.reload_lock.lock().await;
                    if let Err(error) = self.store.checkpoint(&node, applied, Retention::default()).await {
                        tracing::warn!(%error, "checking in with the change log failed");
                    }
                }
            }
        }
    }
}

/// How often a node reports how far it has applied the change log.
const CHECK_IN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A name for this node in the store's check-ins, unique per process.
fn node_name() -> String {
    let random = iamgate_iam::ids::random_key().map_or_else(
        |_| String::from("unknown"),
        |key| hex::encode(key.get(..8).unwrap_or_default()),
    );
    format!("node-{}-{random}", std::process::id())
}

/// The session-token key: created once, sealed in the store, shared by
/// every node that can open it.
async fn token_key(store: &Store, cipher: &SecretCipher) -> Result<[u8; 32], ControlError> {
    if let Some(entity) = store.get(SYSTEM_KIND, "", TOKEN_KEY).await? {
        return parse_token_key(cipher, &entity.body);
    }
    let key = iamgate_iam::ids::random_key().map_err(|_| ControlError::RandomUnavailable)?;
    let sealed = cipher.seal_for(TOKEN_KEY, &hex::encode(key))?;
    let batch = WriteBatch::new().put(
        SYSTEM_KIND,
        "",
        TOKEN_KEY,
        serde_json::json!({ "sealed": sealed }),
        Expect::Absent,
    );
    match store.apply(&batch).await {
        Ok(_) => Ok(key),
        // Another node created it first: use theirs.
        Err(StoreError::ExpectationFailed { .. }) => {
            match store.get(SYSTEM_KIND, "", TOKEN_KEY).await? {
                Some(entity) => parse_token_key(cipher, &entity.body),
                None => Err(ControlError::DamagedTokenKey),
            }
        }
        Err(error) => Err(error.into()),
    }
}

fn parse_token_key(
    cipher: &SecretCipher,
    body: &serde_json::Value,
) -> Result<[u8; 32], ControlError> {
    let sealed = body
        .get("sealed")
        .and_then(|v| v.as_str())
        .ok_or(ControlError::DamagedTokenKey)?;
    let text = cipher.open_for(TOKEN_KEY, sealed)?;
    let bytes = hex::decode(text).map_err(|_| ControlError::DamagedTokenKey)?;
    bytes.try_into().map_err(|_| ControlError::DamagedTokenKey)
}
