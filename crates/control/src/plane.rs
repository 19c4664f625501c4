//! The control plane's state: the store it writes, the keys, and the
//! snapshot it reads.
//!
//! Reads never touch the database: every call is authorized and answered
//! against the current [`Live`] snapshot. Writes go to the store in one
//! transaction each; the plane then brings the snapshot up to its own
//! write ([`ControlPlane::reload`]), so a client reads its own writes at
//! once. The snapshot is not the plane's: the binary opens it and shares
//! it with the data plane.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use iamgate_apimodel::config::ApiRegistry;
use iamgate_decisions::DecisionLog;
use iamgate_iam::{TokenSealer, World};
use iamgate_snapshot::Live;
use iamgate_store::{
    Expect, SYSTEM_KIND, SecretCipher, SecretError, Store, StoreError, WriteBatch,
};
use thiserror::Error;

use crate::decision_archive::DecisionArchive;
use crate::decision_peers::Peers;

/// Where the session-token key lives in the store: sealed by the secret
/// cipher, so every node that shares the secret key shares the token key.
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
    /// What calls are authorized and answered against; this plane writes
    /// to the store and then brings the snapshot up to its own write.
    snapshot: Arc<Live>,
    /// Writers on this node take turns planning and applying (see
    /// [`crate::write`]).
    pub(crate) write_turn: tokio::sync::Mutex<()>,
    pub(crate) clock: Clock,
    /// Where every authorization decision is recorded.
    decisions: Arc<DecisionLog>,
    /// Where records evicted from the ring, or kept by another node, are
    /// looked for (none: records are not persisted).
    archive: Option<Arc<DecisionArchive>>,
    peers: Option<Arc<Peers>>,
    /// API keys' usage as the data plane counts it (`GetUsage`).
    usage_ledger: Arc<iamgate_apimodel::usage::UsageLedger>,
    /// Runs authorizers and methods for the test invoke operations (the
    /// binary's; none: they are refused).
    test_invoker: Option<Arc<dyn crate::test_invoke::TestInvoker>>,
}

/// The key session tokens are sealed with, made once and kept (sealed by
/// `cipher`) in the store, so every node that shares the secret key opens
/// every node's tokens.
pub async fn session_token_sealer(
    store: &Store,
    cipher: &SecretCipher,
) -> Result<Arc<TokenSealer>, ControlError> {
    Ok(Arc::new(TokenSealer::new(&token_key(store, cipher).await?)))
}

impl ControlPlane {
    /// The control plane on `store`, whose access-key secrets are sealed
    /// with `cipher`, reading `snapshot` (opened on the same store with the
    /// same `sealer`).
    pub fn new(
        store: Store,
        cipher: SecretCipher,
        sealer: Arc<TokenSealer>,
        snapshot: Arc<Live>,
    ) -> Self {
        Self {
            store,
            cipher,
            sealer,
            snapshot,
            write_turn: tokio::sync::Mutex::new(()),
            clock: system_clock(),
            decisions: Arc::default(),
            archive: None,
            peers: None,
            usage_ledger: Arc::default(),
            test_invoker: None,
        }
    }

    /// Opens the control plane on `store` with a snapshot of its own: for
    /// tools and tests that run one plane alone.
    pub async fn open(store: Store, cipher: SecretCipher) -> Result<Self, ControlError> {
        let sealer = session_token_sealer(&store, &cipher).await?;
        let snapshot = Live::open(store.clone(), cipher.clone(), sealer.clone()).await?;
        Ok(Self::new(store, cipher, sealer, Arc::new(snapshot)))
    }

    /// Replaces the clock (tests pin time with it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Records decisions in `decisions` (shared with the data plane).
    pub fn with_decisions(mut self, decisions: Arc<DecisionLog>) -> Self {
        self.decisions = decisions;
        self
    }

    /// Reads API keys' usage from `ledger` (shared with the data plane).
    pub fn with_usage_ledger(mut self, ledger: Arc<iamgate_apimodel::usage::UsageLedger>) -> Self {
        self.usage_ledger = ledger;
        self
    }

    /// API keys' usage as the data plane counts it on this node.
    pub fn usage_ledger(&self) -> &Arc<iamgate_apimodel::usage::UsageLedger> {
        &self.usage_ledger
    }

    /// Answers TestInvokeAuthorizer and TestInvokeMethod with `invoker`.
    pub fn with_test_invoker(mut self, invoker: Arc<dyn crate::test_invoke::TestInvoker>) -> Self {
        self.test_invoker = Some(invoker);
        self
    }

    /// What runs authorizers and methods for the test invoke operations.
    pub fn test_invoker(&self) -> Option<&Arc<dyn crate::test_invoke::TestInvoker>> {
        self.test_invoker.as_ref()
    }

    /// Looks for decision records not in the ring in `archive`.
    pub fn with_archive(mut self, archive: Arc<DecisionArchive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Where persisted decision records are read, if they are persisted.
    pub fn archive(&self) -> Option<&Arc<DecisionArchive>> {
        self.archive.as_ref()
    }

    /// Asks `peers` for decision records neither the ring nor the store
    /// holds.
    pub fn with_peers(mut self, peers: Arc<Peers>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// This node among the nodes sharing its store, if they are asked.
    pub fn peers(&self) -> Option<&Arc<Peers>> {
        self.peers.as_ref()
    }

    /// Where this plane records its decisions.
    pub fn decisions(&self) -> &Arc<DecisionLog> {
        &self.decisions
    }

    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The snapshot this plane reads.
    pub fn snapshot(&self) -> &Arc<Live> {
        &self.snapshot
    }

    /// The IAM world of the current snapshot.
    pub fn world(&self) -> Arc<World> {
        self.snapshot.current().iam.clone()
    }

    /// The APIs of the current snapshot.
    pub fn apis(&self) -> Arc<ApiRegistry> {
        self.snapshot.current().apis.clone()
    }

    /// Brings the snapshot up to the store's newest batch (this plane's own
    /// writes included) and returns the sequence number it reflects.
    pub async fn reload(&self) -> Result<u64, ControlError> {
        Ok(self.snapshot.catch_up().await?)
    }

    /// Writes `batch` and brings the snapshot up to it without reading
    /// the batch back (see [`Live::write`]).
    pub(crate) async fn write_through(&self, batch: WriteBatch) -> Result<u64, ControlError> {
        Ok(self.snapshot.write(batch).await?)
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
