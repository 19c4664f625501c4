//! The control plane's state: the store, the keys, and the current world.
//!
//! Reads never touch the database: every request works on an immutable
//! [`World`] snapshot behind an atomic pointer. Writes go to the store in one
//! transaction each; the snapshot is then rebuilt and swapped, on this node
//! right after the write (a client sees its own writes at once) and on every
//! other node when the store's change feed reports it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::{AccessKeyRecord, AnyRecord, TokenSealer, World};
use iamgate_store::{Expect, SecretCipher, SecretError, Store, StoreError, WriteBatch};
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

    /// Rebuilds the snapshot from the store if the store has moved on.
    /// Returns the sequence number the snapshot reflects.
    pub async fn reload(&self) -> Result<u64, ControlError> {
        let mut loaded = self.reload_lock.lock().await;
        let latest = self.store.latest_seq().await?;
        if latest == *loaded && *loaded != 0 {
            return Ok(latest);
        }
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
        let cipher = &self.cipher;
        let unseal = |record: &AccessKeyRecord| {
            cipher
                .open_for(&record.id, record.secret.expose())
                .map_err(|error| Box::new(error) as iamgate_iam::world::UnsealError)
        };
        let world = World::from_records(records, Some(self.sealer.clone()), &unseal);
        for problem in world.problems() {
            tracing::warn!(%problem, "world record left out");
        }
        self.world.store(Arc::new(world));
        self.apis.store(Arc::new(apis));
        *loaded = snapshot.seq;
        Ok(snapshot.seq)
    }

    /// Follows the store's change feed and reloads on every change, until
    /// the store closes. Other nodes' writes arrive this way.
    pub async fn follow_changes(self: Arc<Self>) {
        let mut changes = self.store.subscribe();
        while changes.changed().await.is_ok() {
            if let Err(error) = self.reload().await {
                tracing::error!(%error, "reload after a change failed; keeping the previous world");
            }
        }
    }
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
