//! `iamgate serve`: one port for every AWS surface iamgate speaks.
//!
//! Start-up: read and check the world file (a bad file stops here with
//! every error), open the store, apply the file, load the world, then
//! listen. An execute-api request is the gateway's
//! (`iamgate_gateway::pipeline`): its phases decide from the head whether
//! the body is read at all, and hand back the one access-log record this
//! server writes and counts. Any other request is read whole (bounded:
//! SigV4 covers the body), routed by the service in its credential scope,
//! and answered; the operational endpoints live under `/_iamgate/`, a
//! prefix no AWS API uses. Here is transport only: accepting, limits,
//! reading bodies, writing answers, logs and metrics.
//! What a client may hold of the server (connections, time, body memory)
//! is bounded in [`crate::connections`]; TLS, certificates by SNI and
//! mutual TLS are [`crate::tls`]'s. SIGINT/SIGTERM stop accepting, close
//! idle connections, let requests in flight finish, and exit.
//!
//! SIGHUP (and, with `--watch`, a change of its text) applies the world
//! file again, through the same path as at start: one batch, the snapshot
//! swapped whole once the store has it, so each request is decided by the
//! old world or the new one, never a mix, and none is dropped. A file that
//! does not validate changes nothing; its errors are logged, each at its
//! line and column.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use iamgate_control::apply::{WorldFile, world_file_digest};
use iamgate_control::decision_archive::{self, DecisionArchive};
use iamgate_control::decision_peers::{PEER_PATH, Peers, QUESTION_HEADER};
use iamgate_control::decisions_api::DECISIONS_PATH;
use iamgate_control::plane::system_clock;
use iamgate_control::{ControlPlane, ControlPlanes, Request, Response, session_token_sealer};
use iamgate_decisions::{DecisionLog, RingLimits};
use iamgate_gateway::access::AccessLogEntry;
use iamgate_gateway::authorize::Enforcement;
use iamgate_gateway::client_ip::TrustedProxies;
use iamgate_gateway::dataplane::DataPlane;
use iamgate_gateway::integration::DEFAULT_LAMBDA_ENDPOINT;
use iamgate_gateway::listener::Listener;
use iamgate_gateway::pipeline::{Exchange, Flow, Head, Origin};
use iamgate_gateway::responses::GatewayResponse;
use iamgate_policy::condition::Cidr;
use iamgate_snapshot::Live;
use iamgate_store::{DecisionRetention, SecretCipher, Store};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::analysis_api::{self, ANALYSIS_PATH, AnalysisGate};
use crate::connections::{
    AcceptBackoff, Activity, Body, BodyError, HeadError, Limits, MAX_BODY, parse_duration,
    parse_size, read_body, supervise,
};
use crate::metrics::Metrics;
use crate::tls::{MutualTls, Tls, Transport};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The world file (YAML): accounts, principals, policies.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Apply the world file again whenever its text changes (SIGHUP
    /// always does).
    #[arg(long, requires = "config")]
    watch: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: SocketAddr,
    /// PEM certificate chain: `--listen` speaks TLS (HTTP/2 and HTTP/1.1)
    /// instead of cleartext. Custom domain names may have their own,
    /// chosen by SNI, and a truststore for mutual TLS (world file).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// How often certificate files are read again; a changed file is
    /// served from the next handshake on (500ms, 5s, 1m).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    tls_reload_interval: Duration,
    /// `sqlite://PATH` or `postgres://…`; default: an SQLite file in the data directory.
    #[arg(long)]
    store: Option<String>,
    /// Where the embedded store and the secret key file live.
    #[arg(long, env = "IAMGATE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// A proxy (address or CIDR) whose `X-Forwarded-For` is believed for
    /// `aws:SourceIp`; repeatable. Without it the TCP peer is the client.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = TrustedProxies::parse_network)]
    trusted_proxy: Vec<Cidr>,
    /// Where `AWS_PROXY` integrations that name no endpoint of their own
    /// (those created through the API Gateway APIs) invoke their function:
    /// the Lambda Invoke API of `sam local start-lambda`, `cargo lambda
    /// watch` or the Lambda Runtime Interface Emulator.
    #[arg(long, default_value = DEFAULT_LAMBDA_ENDPOINT)]
    lambda_endpoint: String,
    /// An extra listener standing for an interface VPC endpoint:
    /// `ADDR=vpce-ID,vpc-ID`; repeatable. Its requests carry
    /// `aws:SourceVpce` and `aws:SourceVpc`, and only there do PRIVATE
    /// APIs answer. It serves execute-api only.
    #[arg(long = "vpc-endpoint", value_name = "ADDR=vpce-ID,vpc-ID", value_parser = Listener::parse_vpc_endpoint)]
    vpc_endpoint: Vec<Listener>,
    /// A request's head must arrive within this; it also closes an idle
    /// HTTP/1.1 keep-alive connection (500ms, 10s, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    header_read_timeout: Duration,
    /// A request's body must arrive whole within this (408 otherwise).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    body_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Connections open at once; more clients wait in the backlog.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// The largest request body, in bytes (API Gateway's payload quota is
    /// 10 MB); a larger one is answered 413 unread.
    #[arg(long, default_value_t = MAX_BODY, value_parser = parse_size)]
    max_body_bytes: usize,
    /// The longest request target (path and query), in bytes (API
    /// Gateway's quota for a regional API's URL); a longer one is
    /// answered 414.
    #[arg(long, default_value_t = 10_240, value_parser = parse_size)]
    max_url_bytes: usize,
    /// The request line and header fields together, in bytes (API
    /// Gateway's quota); a larger head is answered 431.
    #[arg(long, default_value_t = 10_240, value_parser = parse_size)]
    max_header_bytes: usize,
    /// Header fields in one request; more are answered 431.
    #[arg(long, default_value_t = 100, value_parser = parse_size)]
    max_headers: usize,
    /// MiB of request bodies held at once, across connections (at least
    /// the largest body).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(10..=4096))]
    max_body_memory_mib: u32,
    /// What a policy denial on execute-api does: `strict` answers it as
    /// AWS does; `soft` lets it through and records and logs it as
    /// `would_deny`; `off` evaluates no policy (signatures are still
    /// checked). Control-plane calls are always enforced.
    #[arg(long, value_enum, default_value = "strict")]
    enforce: EnforceMode,
    /// Decision records kept in memory (the newest; `iamgate explain`
    /// reads them). 0 turns recording off on execute-api (to measure what
    /// it costs); the control planes still record.
    #[arg(long, default_value_t = 10_000)]
    decision_records: u32,
    /// Access analyses (`/_iamgate/analysis/…`) run at once at most; more
    /// are answered with IAM's `Throttling` error.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_analyses: u32,
    /// MiB of decision records kept in memory at most.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    decision_records_mib: u32,
    /// Also keep decision records in the store, written in the background,
    /// so that they outlive this node's ring and a restart. Without it,
    /// nodes sharing a store ask each other for the records they hold.
    #[arg(long, value_enum, default_value = "off")]
    persist_decisions: Persist,
    /// Where the other nodes sharing the store reach this one for its
    /// decision records (`http://10.0.0.5:8080`); by default the address
    /// `--listen` bound, with the host name for an unspecified address.
    #[arg(long, value_name = "URL")]
    peer_address: Option<String>,
    /// Persisted decision records are kept this long at most (30m, 24h).
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    persisted_decisions_max_age: Duration,
    /// Persisted decision records kept at most (the newest).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    persisted_decisions_max: u64,
    /// MiB of persisted decision records kept at most.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    persisted_decisions_max_mib: u64,
    /// How often API keys' usage counts are added to the store's totals,
    /// shared by every node (docs/api-keys.md).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    usage_flush_interval: Duration,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Persist {
    On,
    Off,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum EnforceMode {
    Strict,
    Soft,
    Off,
}

impl EnforceMode {
    fn enforcement(self) -> Enforcement {
        match self {
            EnforceMode::Strict => Enforcement::Strict,
            EnforceMode::Soft => Enforcement::Soft,
            EnforceMode::Off => Enforcement::Off,
        }
    }
}

impl ServeArgs {
    fn ring_limits(&self) -> RingLimits {
        RingLimits {
            records: usize::try_from(self.decision_records.max(16)).unwrap_or(usize::MAX),
            bytes: usize::try_from(self.decision_records_mib)
                .unwrap_or(usize::MAX)
                .saturating_mul(1024 * 1024),
        }
    }

    fn decision_retention(&self) -> DecisionRetention {
        DecisionRetention {
            max_age_secs: i64::try_from(self.persisted_decisions_max_age.as_secs())
                .unwrap_or(i64::MAX),
            max_records: self.persisted_decisions_max,
            max_bytes: self.persisted_decisions_max_mib.saturating_mul(1024 * 1024),
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.body_read_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            max_body: self.max_body_bytes,
            max_body_memory: usize::try_from(self.max_body_memory_mib)
                .unwrap_or(usize::MAX)
                .saturating_mul(1024 * 1024)
                .max(self.max_body_bytes),
            max_url: self.max_url_bytes,
            max_head: self.max_header_bytes,
            max_headers: self.max_headers,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Text,
    Json,
}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("iamgate");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/share/iamgate");
    }
    PathBuf::from("iamgate-data")
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IAMGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: escape codes in a log file or pipe split
    // `created=0` into pieces no grep finds.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

pub fn run(args: ServeArgs) -> ExitCode {
    init_logs(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("iamgate: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("iamgate: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `openapi:` files are named relative to the world file.
fn world_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// `\0{file}\0{contents}` for each imported OpenAPI file, as the world
/// file's digest covers them; `None` if one cannot be read.
fn imported_text(path: &Path, files: &[String]) -> Option<String> {
    let mut text = String::new();
    for file in files {
        let contents = std::fs::read_to_string(world_dir(path).join(file)).ok()?;
        text.push_str(&format!("\0{file}\0{contents}"));
    }
    Some(text)
}

/// Applies the world file (IAM entities and APIs, with the OpenAPI files
/// it imports) unless this exact text, with the files it imported, was the
/// last one applied: then all of it is already in the store, and the file
/// is not even parsed. Otherwise the file is read once for all its
/// sections, and every problem of every section is reported, each at its
/// line and column, before anything is applied.
async fn apply_world_file(plane: &ControlPlane, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let last_imports = plane
        .world_file_imports()
        .await
        .map_err(|error| error.to_string())?;
    if let Some(imported) = imported_text(path, &last_imports) {
        let digest = world_file_digest(&format!("{text}{imported}"));
        if plane
            .world_file_unchanged(&digest)
            .await
            .map_err(|error| error.to_string())?
        {
            tracing::info!(sha256 = %digest, "world file unchanged since it was applied; not applied again");
            return Ok(());
        }
    }
    // The imported files' text is part of what is applied: an edited
    // OpenAPI file must not be skipped.
    let imports = std::cell::RefCell::new(Vec::new());
    let started = std::time::Instant::now();
    let world = WorldFile::parse(&text, &|file| {
        let full = world_dir(path).join(file);
        let contents = std::fs::read_to_string(&full)
            .map_err(|error| format!("cannot read {}: {error}", full.display()))?;
        imports
            .borrow_mut()
            .push((file.to_owned(), contents.clone()));
        Ok(contents)
    });
    let world = world.map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("{}:{e}", path.display()))
            .collect();
        format!(
            "the world file has {} error(s):\n{}",
            lines.len(),
            lines.join("\n")
        )
    })?;
    let mut imported = String::new();
    let mut files = Vec::new();
    for (file, contents) in imports.into_inner() {
        imported.push_str(&format!("\0{file}\0{contents}"));
        files.push(file);
    }
    let digest = world_file_digest(&format!("{text}{imported}"));
    let read_ms = started.elapsed().as_millis();
    let summary = plane
        .apply_world_file_importing(&world.iam, &world.apis, &digest, &files)
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        unchanged = summary.unchanged,
        read_ms,
        apply_ms = started.elapsed().as_millis() - read_ms,
        "world file applied"
    );
    Ok(())
}

struct Server {
    /// What every request is decided against; the control planes write
    /// to the store and the snapshot follows it.
    snapshot: Arc<Live>,
    planes: ControlPlanes,
    /// Shared with the control plane, which runs test invocations on it.
    data: Arc<DataPlane>,
    metrics: Metrics,
    /// Every decision's record, by request id (shared with the control
    /// planes).
    decisions: Arc<DecisionLog>,
    /// Where decision records are persisted, if they are.
    archive: Option<Arc<DecisionArchive>>,
    /// Access analyses running at once.
    analyses: AnalysisGate,
    /// Whether execute-api requests are recorded (`--decision-records 0`: no).
    recording: bool,
    ready: AtomicBool,
    trusted_proxies: TrustedProxies,
    limits: Limits,
    body_budget: Arc<Semaphore>,
    stopping: watch::Receiver<bool>,
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let store_url = match &args.store {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", data_dir.join("iamgate.sqlite").display()),
    };
    std::fs::create_dir_all(&data_dir)
        .map_err(|error| format!("cannot create {}: {error}", data_dir.display()))?;
    let cipher = SecretCipher::from_env_or_file(&data_dir.join("secret.key"))
        .map_err(|error| format!("secret key: {error}"))?;
    let store = Store::open(&store_url)
        .await
        .map_err(|error| format!("store: {error}"))?;
    let sealer = session_token_sealer(&store, &cipher)
        .await
        .map_err(|error| error.to_string())?;
    let snapshot = Live::open(store.clone(), cipher.clone(), sealer.clone())
        .await
        .map_err(|error| format!("store: {error}"))?;
    let snapshot = Arc::new(snapshot);
    let mut decisions = DecisionLog::new(args.ring_limits());
    let mut archive = None;
    if args.persist_decisions == Persist::On {
        let (queue, writer, reader) =
            decision_archive::archive(store.clone(), args.decision_retention(), system_clock());
        tokio::spawn(writer.run());
        decisions = decisions.with_sink(Arc::new(queue));
        archive = Some(Arc::new(reader));
    }
    let decisions = Arc::new(decisions);
    // API keys' usage: counted by the data plane, read by GetUsage.
    let usage_ledger = Arc::new(iamgate_apimodel::usage::UsageLedger::default());
    let data = Arc::new(
        issuer_trust(DataPlane::new(&args.lambda_endpoint))
            .with_enforcement(args.enforce.enforcement())
            .with_recording(args.decision_records > 0)
            .with_usage_ledger(usage_ledger.clone()),
    );
    let mut plane = ControlPlane::new(store.clone(), cipher.clone(), sealer, snapshot.clone())
        .with_decisions(decisions.clone())
        .with_usage_ledger(usage_ledger)
        .with_test_invoker(Arc::new(crate::test_invoke::DataPlaneTestInvoker {
            data: data.clone(),
        }));
    if let Some(archive) = &archive {
        plane = plane.with_archive(archive.clone());
    }
    let peers = Peers::new(
        store.clone(),
        cipher.clone(),
        system_clock(),
        Arc::new(crate::peers::HttpPeers),
    )
    .map(Arc::new)
    .map_err(|error| error.to_string())?;
    plane = plane.with_peers(peers.clone());
    if let Some(path) = &args.config {
        apply_world_file(&plane, path).await?;
    }
    tokio::spawn(snapshot.clone().follow());
    let plane = Arc::new(plane);
    tokio::spawn(flush_usage(plane.clone(), args.usage_flush_interval));
    tokio::spawn(reload_world_file(
        plane.clone(),
        args.config.clone(),
        args.watch,
    ));
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let base = args.config.as_deref().map_or(Path::new("."), world_dir);
            let tls =
                Tls::load(cert, key, base, &snapshot).map_err(|error| format!("TLS: {error}"))?;
            tokio::spawn(
                tls.clone()
                    .watch(snapshot.clone(), args.tls_reload_interval),
            );
            Some(tls)
        }
        _ => None,
    };

    let limits = args.limits();
    let (stop, stopping) = watch::channel(false);
    let server = Arc::new(Server {
        snapshot,
        planes: ControlPlanes::new(plane),
        data,
        metrics: Metrics::default(),
        decisions,
        archive,
        analyses: AnalysisGate::new(usize::try_from(args.max_analyses).unwrap_or(1)),
        recording: args.decision_records > 0,
        ready: AtomicBool::new(true),
        trusted_proxies: TrustedProxies::new(args.trusted_proxy.clone()),
        body_budget: Arc::new(Semaphore::new(limits.max_body_memory)),
        limits: limits.clone(),
        stopping: stopping.clone(),
    });
    let mut listeners = Vec::new();
    for facts in std::iter::once(Listener::public(args.listen)).chain(args.vpc_endpoint.clone()) {
        let socket = TcpListener::bind(facts.address)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", facts.address))?;
        let local = socket.local_addr().map_err(|error| error.to_string())?;
        match facts.vpc_endpoint.as_ref() {
            None => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                tracing::info!(address = %local, scheme, store = %redact_url(&store_url), "iamgate is listening");
                let address = crate::peers::advertised_address(
                    args.peer_address.as_deref(),
                    local,
                    tls.is_some(),
                );
                tokio::spawn(peers.clone().advertise(address));
            }
            Some(endpoint) => tracing::info!(
                address = %local,
                vpce = %endpoint.endpoint_id,
                vpc = %endpoint.vpc_id,
                "VPC endpoint listener"
            ),
        }
        listeners.push((socket, Arc::new(facts)));
    }

    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own bounds sit above the ones `answer` checks, so that a
    // head a little over them still gets a 431 with a body; beyond them
    // hyper answers 431 itself and closes the connection.
    let parsed_head = limits.max_head.saturating_mul(2).max(16 * 1024);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(parsed_head);
    if limits.max_headers > HYPER_MAX_HEADERS {
        // Above the default hyper parses headers into the heap.
        builder.http1().max_headers(limits.max_headers + 1);
    }
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(parsed_head).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(
        usize::try_from(limits.max_connections).unwrap_or(usize::MAX),
    ));
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let mut next_listener = 0;
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            (slot, stream, peer, listener) = next_connection(&listeners, &mut next_listener, &slots, &mut backoff) => {
                let accepted = Accepted { slot, peer, listener };
                let (server, builder) = (server.clone(), builder.clone());
                // TLS is `--listen`'s; a VPC endpoint listener stays cleartext.
                match tls.as_ref().filter(|_| accepted.listener.vpc_endpoint.is_none()) {
                    Some(tls) => {
                        let tls = tls.clone();
                        let handshake_timeout = limits.header_read_timeout;
                        tokio::spawn(async move {
                            if let Some((stream, transport)) = tls.accept(stream, handshake_timeout).await {
                                server.serve_connection(&builder, stream, accepted, transport).await;
                            }
                        });
                    }
                    None => {
                        tokio::spawn(async move {
                            server.serve_connection(&builder, stream, accepted, Transport::default()).await;
                        });
                    }
                }
            }
            () = &mut shutdown => {
                tracing::info!("shutting down: no new connections, finishing requests in flight");
                server.ready.store(false, Ordering::SeqCst);
                let _ = stop.send(true);
                peers.withdraw().await;
                break;
            }
        }
    }
    // Every open connection holds a slot: all slots back means all closed.
    let all = slots.acquire_many(limits.max_connections);
    match tokio::time::timeout(Duration::from_secs(30), all).await {
        Ok(_) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("gave up waiting for connections after 30 s"),
    }
    Ok(())
}

/// A connection just accepted: its slot (given back when it closes), its
/// peer and the listener that took it.
struct Accepted {
    slot: OwnedSemaphorePermit,
    peer: SocketAddr,
    listener: Arc<Listener>,
}

/// How a request arrived: from whom, on which listener, over what, when.
struct Arrival<'l> {
    source_ip: std::net::IpAddr,
    listener: &'l Listener,
    secure: bool,
    started: Instant,
}

/// Adds API keys' usage counts to the store every `interval`, for ever.
async fn flush_usage(plane: Arc<ControlPlane>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = plane.flush_usage().await {
            tracing::warn!(%error, "adding API keys' usage counts to the store failed; retrying");
        }
    }
}

/// Applies the world file again on each SIGHUP and, with `watch`, when its
/// text changes (read every second). Each time is [`apply_world_file`], as
/// at start; a file that fails changes nothing and is logged.
async fn reload_world_file(plane: Arc<ControlPlane>, path: Option<PathBuf>, watch: bool) {
    #[cfg(unix)]
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(error) => {
            tracing::warn!(%error, "SIGHUP cannot be caught: the world file is not reloaded on it");
            None
        }
    };
    #[cfg(not(unix))]
    let mut hangup: Option<std::future::Pending<()>> = None;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut last_text = path.as_ref().and_then(|path| std::fs::read(path).ok());
    loop {
        tokio::select! {
            Some(()) = recv_hangup(&mut hangup) => {}
            _ = ticks.tick(), if watch => {
                let text = path.as_ref().and_then(|path| std::fs::read(path).ok());
                if text == last_text {
                    continue;
                }
                last_text = text;
            }
        }
        let Some(path) = &path else {
            tracing::warn!("SIGHUP: no world file (--config) to apply again");
            continue;
        };
        tracing::info!(file = %path.display(), "applying the world file again");
        if let Err(message) = apply_world_file(&plane, path).await {
            tracing::error!(
                "the world file was not applied; the running world is unchanged: {message}"
            );
        }
    }
}

#[cfg(unix)]
async fn recv_hangup(hangup: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hangup {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv_hangup(_: &mut Option<std::future::Pending<()>>) -> Option<()> {
    std::future::pending().await
}

/// The next accepted connection, once a connection slot is free. A failed
/// accept (out of file descriptors, say) pauses the loop rather than
/// spinning on it; the connections already open go on being served.
async fn next_connection(
    listeners: &[(TcpListener, Arc<Listener>)],
    next: &mut usize,
    slots: &Arc<Semaphore>,
    backoff: &mut AcceptBackoff,
) -> (OwnedSemaphorePermit, TcpStream, SocketAddr, Arc<Listener>) {
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            // The slots are never closed.
            return std::future::pending().await;
        };
        let (accepted, listener) = accept_any(listeners, next).await;
        match accepted {
            Ok((stream, peer)) => {
                backoff.succeeded();
                return (slot, stream, peer, listener);
            }
            Err(error) => {
                drop(slot);
                tokio::time::sleep(backoff.failed(&error)).await;
            }
        }
    }
}

/// The next connection on any of `listeners`, with the facts of the one
/// that accepted it. The scan starts after the listener that accepted
/// last, so a flood on one cannot starve the others.
async fn accept_any(
    listeners: &[(TcpListener, Arc<Listener>)],
    next: &mut usize,
) -> (std::io::Result<(TcpStream, SocketAddr)>, Arc<Listener>) {
    std::future::poll_fn(|cx| {
        let count = listeners.len();
        for offset in 0..count {
            let index = (*next + offset) % count;
            if let Some((socket, facts)) = listeners.get(index)
                && let Poll::Ready(accepted) = socket.poll_accept(cx)
            {
                *next = index + 1;
                return Poll::Ready((accepted, facts.clone()));
            }
        }
        Poll::Pending
    })
    .await
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// A store URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Server {
    /// Serves one connection's requests until it ends, idles out or the
    /// server stops ([`supervise`]).
    async fn serve_connection<IO>(
        self: Arc<Self>,
        builder: &auto::Builder<TokioExecutor>,
        io: IO,
        accepted: Accepted,
        transport: Transport,
    ) where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Accepted {
            slot,
            peer,
            listener,
        } = accepted;
        let activity = Activity::new();
        let in_flight = activity.clone();
        let transport = Arc::new(transport);
        let server = self.clone();
        let service = service_fn(move |request| {
            let server = server.clone();
            let listener = listener.clone();
            let transport = transport.clone();
            let request_in_flight = in_flight.begin();
            async move {
                let response = server.answer(request, peer, &listener, &transport).await;
                drop(request_in_flight);
                Ok::<_, Infallible>(response)
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(io), service)
            .into_owned();
        supervise(
            connection,
            |connection| connection.graceful_shutdown(),
            activity,
            self.limits.idle_timeout,
            self.stopping.clone(),
            slot,
        )
        .await;
    }

    /// One request: the head decides whether it is execute-api (then the
    /// gateway's phases run, and the body is read only if they ask for
    /// it) or for the control planes and the operational endpoints (then
    /// the body is read first).
    async fn answer(
        &self,
        request: hyper::Request<Incoming>,
        peer: SocketAddr,
        listener: &Listener,
        transport: &Transport,
    ) -> hyper::Response<Full<Bytes>> {
        let started = Instant::now();
        let (mut parts, body) = request.into_parts();
        // HTTP/2 carries the host as `:authority`, which SigV4 signs as
        // `host` and custom domain names are found by.
        if !parts.headers.contains_key(hyper::header::HOST)
            && let Some(authority) = parts.uri.authority()
            && let Ok(host) = hyper::header::HeaderValue::from_str(authority.as_str())
        {
            parts.headers.insert(hyper::header::HOST, host);
        }
        let target = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let fields = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        if let Err(error) =
            self.limits
                .check_head(parts.method.as_str(), &target, parts.headers.len(), fields)
        {
            let response = head_refusal(error);
            self.metrics
                .record("limits", response.status, started.elapsed());
            tracing::info!(
                surface = "limits",
                method = %parts.method,
                status = response.status,
                target_bytes = target.len(),
                header_fields = parts.headers.len(),
                "request head refused"
            );
            return to_hyper(response);
        }
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.as_bytes());
        let source_ip = self.trusted_proxies.client_ip(peer.ip(), forwarded_for);
        let headers: Vec<(&str, &[u8])> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let snapshot = self.snapshot.current();
        let (apis, world) = (&snapshot.apis, &snapshot.iam);
        let mut exchange = Exchange::new(
            Head::from_target(parts.method.as_str(), &target, &headers),
            Origin {
                now: self.planes.plane.now(),
                source_ip: Some(source_ip),
                vpc_endpoint: listener.vpc_endpoint.as_ref(),
                secure: transport.secure,
                client_cert: match &transport.mutual_tls {
                    MutualTls::Verified(cert) => Some(cert),
                    MutualTls::NotRequired | MutualTls::Refused => None,
                },
            },
            apis,
            world,
        );
        // Held until the answer is built.
        let mut _reservation = None;
        let flow = match transport.mutual_tls {
            MutualTls::Refused => Flow::Answered(exchange.refuse_mutual_tls()),
            MutualTls::NotRequired | MutualTls::Verified(_) => self.data.before_body(&mut exchange),
        };
        let response = match flow {
            Flow::NotExecuteApi => {
                drop(exchange);
                return self
                    .answer_other(
                        &parts,
                        &target,
                        body,
                        Arrival {
                            source_ip,
                            listener,
                            secure: transport.secure,
                            started,
                        },
                    )
                    .await;
            }
            Flow::Answered(response) => response,
            Flow::NeedsBody => match self.read_body(&parts, body).await {
                Ok(Body { bytes, reservation }) => {
                    _reservation = reservation;
                    self.data.after_body(&mut exchange, bytes.into()).await
                }
                Err(error) => exchange.refuse_body(to_gateway(body_refusal(error))),
            },
        };
        let entry = exchange.record(response.status);
        if self.recording {
            self.decisions.record(exchange.decision_record(&response));
        }
        let elapsed = started.elapsed();
        self.metrics.record("execute-api", response.status, elapsed);
        self.metrics
            .record_execute_api(&entry.record, response.status, elapsed);
        log_access(&entry, elapsed);
        to_hyper(to_response(response))
    }

    /// Reads a request's body within the body timeout and memory budget.
    async fn read_body(
        &self,
        parts: &hyper::http::request::Parts,
        body: Incoming,
    ) -> Result<Body, BodyError> {
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse().ok());
        let deadline = tokio::time::Instant::now() + self.limits.body_read_timeout;
        read_body(
            body,
            declared,
            self.limits.max_body,
            &self.body_budget,
            deadline,
            self.stopping.clone(),
        )
        .await
    }

    /// A request for the control planes or the operational endpoints.
    async fn answer_other(
        &self,
        parts: &hyper::http::request::Parts,
        target: &str,
        body: Incoming,
        arrival: Arrival<'_>,
    ) -> hyper::Response<Full<Bytes>> {
        let Arrival {
            source_ip,
            listener,
            secure,
            started,
        } = arrival;
        let Body {
            bytes: body,
            reservation: _held_until_answered,
        } = match self.read_body(parts, body).await {
            Ok(body) => body,
            Err(error) => return to_hyper(body_refusal(error)),
        };
        let request = Request {
            method: parts.method.as_str().to_owned(),
            target: target.to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect(),
            body,
            source_ip: Some(source_ip),
            secure,
        };
        let (surface, response) = self.route(&request, listener).await;
        let elapsed = started.elapsed();
        self.metrics.record(surface, response.status, elapsed);
        tracing::info!(
            surface,
            method = %request.method,
            path = %request.path(),
            status = response.status,
            request_id = response.header("x-amzn-RequestId").unwrap_or(""),
            latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
        to_hyper(response)
    }

    async fn route(&self, request: &Request, listener: &Listener) -> (&'static str, Response) {
        match (request.method.as_str(), request.path()) {
            ("GET", "/_iamgate/health") => ("health", Response::new(200, "text/plain", "ok\n")),
            ("GET", "/_iamgate/ready") => {
                let response = if self.ready.load(Ordering::SeqCst) {
                    Response::new(200, "text/plain", "ready\n")
                } else {
                    Response::new(503, "text/plain", "shutting down\n")
                };
                ("health", response)
            }
            ("GET", "/_iamgate/metrics") => {
                let mut text = self.metrics.render();
                if let Some(archive) = &self.archive {
                    crate::metrics::render_archive(&mut text, archive.counters());
                }
                (
                    "metrics",
                    Response::new(200, "text/plain; version=0.0.4", text),
                )
            }
            ("GET", path) if path.starts_with(ANALYSIS_PATH) && listener.vpc_endpoint.is_none() => {
                let question = path.strip_prefix(ANALYSIS_PATH).unwrap_or_default();
                let snapshot = self.snapshot.current();
                let answer =
                    analysis_api::answer(&self.planes, &self.analyses, snapshot, request, question);
                ("analysis", answer.await)
            }
            ("GET", path)
                if path.starts_with(DECISIONS_PATH) && listener.vpc_endpoint.is_none() =>
            {
                let request_id = path.strip_prefix(DECISIONS_PATH).unwrap_or_default();
                (
                    "decisions",
                    self.planes.read_decision(request, request_id).await,
                )
            }
            ("GET", PEER_PATH) if listener.vpc_endpoint.is_none() => {
                let answer = match self.planes.plane.peers() {
                    Some(peers) => peers.answer(request.header(QUESTION_HEADER), &self.decisions),
                    None => Response::new(404, "text/plain", "not asked here\n"),
                };
                ("peer", answer)
            }
            // An interface endpoint for execute-api serves nothing else
            // (STS and IAM have endpoints of their own on AWS), and the
            // control planes would see no VPC keys here.
            _ if listener.vpc_endpoint.is_some() => (
                "unknown",
                Response::new(
                    404,
                    "application/json",
                    r#"{"message":"this listener is a VPC endpoint for execute-api only"}"#,
                )
                .with_header("x-amzn-ErrorType", "UnknownOperationException"),
            ),
            _ => match ControlPlanes::route(request) {
                Some(service) => (
                    service.signing_name(),
                    self.planes.handle(service, request).await,
                ),
                None => (
                    "unknown",
                    Response::new(
                        404,
                        "application/json",
                        r#"{"message":"iamgate does not serve this service"}"#,
                    )
                    .with_header("x-amzn-ErrorType", "UnknownOperationException"),
                ),
            },
        }
    }
}

/// How many header fields hyper parses without allocating (its default).
const HYPER_MAX_HEADERS: usize = 100;

/// The answer to a request whose head is over a bound.
fn head_refusal(error: HeadError) -> Response {
    let (status, message) = match error {
        HeadError::UrlTooLong => (414, "Request URI too long"),
        HeadError::HeadersTooLarge => (431, "Request Header Fields Too Large"),
    };
    Response::new(
        status,
        "application/json",
        format!(r#"{{"message":"{message}"}}"#),
    )
}

/// The answer to a request whose body was not read.
fn body_refusal(error: BodyError) -> Response {
    let (status, message) = match error {
        BodyError::TooLarge => (413, "Request Entity Too Large"),
        BodyError::Malformed => (400, "Bad Request"),
        BodyError::TimedOut => (408, "Request Timeout"),
        BodyError::ShuttingDown => (503, "Service Unavailable"),
    };
    Response::new(
        status,
        "application/json",
        format!(r#"{{"message":"{message}"}}"#),
    )
}

/// The server's own answer, as the gateway records it.
fn to_gateway(response: Response) -> GatewayResponse {
    GatewayResponse {
        status: response.status,
        headers: response.headers,
        body: String::from_utf8_lossy(&response.body).into_owned(),
        response_type: None,
    }
}

fn to_response(answer: GatewayResponse) -> Response {
    Response {
        status: answer.status,
        headers: answer.headers,
        body: answer.body.into_bytes(),
    }
}

/// The access log: one event per execute-api request, however early it
/// was answered, on its own target, so operators can route or filter it
/// (`IAMGATE_LOG=iamgate::access=off`). The gateway's record says what to
/// write; the path comes without its query (a presigned URL carries its
/// session token there). Absent values (no API, no stage, no route, no
/// policy evaluated) are left out rather than invented. Values a client
/// chose (API id from the Host header, path) are recorded as strings,
/// which the text format quotes and escapes, so they cannot forge fields
/// of their own.
fn log_access(entry: &AccessLogEntry, elapsed: Duration) {
    let record = &entry.record;
    let decision = &record.decision;
    // Milliseconds to the microsecond: precise enough to compare, short
    // enough to read.
    let latency_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "iamgate::access",
        request_id = %record.request_id,
        api_id = Some(record.api_id.as_str()).filter(|id| !id.is_empty()),
        stage = record.stage.as_deref(),
        route = decision.route.as_deref(),
        caller = decision.caller.as_deref().unwrap_or("anonymous"),
        access_key_id = decision.access_key_id.as_deref(),
        decision = decision.outcome.as_str(),
        policy_type = decision.policy_type.map(iamgate_policy::PolicyType::short_name),
        error_code = decision.error_code.as_deref(),
        status = entry.status,
        latency_ms,
        method = %entry.method,
        path = entry.path.as_str(),
        source_ip = entry.source_ip.map(|ip| ip.to_string()).as_deref(),
        source_vpce = entry.source_vpce.as_deref(),
        "access"
    );
}

fn to_hyper(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            // Never reached for data-plane answers (checked as sendable);
            // still AWS's 500 rather than a body of our own.
            let failure =
                iamgate_gateway::responses::rest_internal_failure(&iamgate_wire::new_request_id());
            let mut fallback = hyper::Response::new(Full::new(Bytes::from(failure.body)));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            for (name, value) in &failure.headers {
                if let (Ok(name), Ok(value)) = (
                    hyper::header::HeaderName::try_from(name.as_str()),
                    hyper::header::HeaderValue::try_from(value.as_str()),
                ) {
                    fallback.headers_mut().insert(name, value);
                }
            }
            fallback
        })
}

/// What the data plane trusts when it fetches an `https://` issuer's keys
/// (JWT and Cognito user pool authorizers): `AWS_CA_BUNDLE` (a PEM file),
/// else the system's CAs, as the signing tools. Without a usable trust
/// store such fetches fail, and those authorizers answer 401.
fn issuer_trust(data: DataPlane) -> DataPlane {
    let bundle = std::env::var_os("AWS_CA_BUNDLE").filter(|b| !b.is_empty());
    match crate::tls::client_config(bundle.as_deref().map(std::path::Path::new)) {
        Ok(config) => data.with_tls_client(config),
        Err(error) => {
            tracing::warn!(%error, "no TLS trust for https:// token issuers");
            data
        }
    }
}
