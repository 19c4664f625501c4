//! What one client may hold of the server, and for how long.
//!
//! Every connection and every request body is bounded in time and in
//! memory, so that idle or slow clients — by accident or on purpose — cannot
//! hold sockets, file descriptors or buffers that other clients need:
//!
//! - a connection's request head must arrive within `header_read_timeout`
//!   (hyper closes it otherwise; an idle HTTP/1.1 keep-alive connection is
//!   waiting for a head, so the same bound closes it);
//! - a connection with no request in flight for `idle_timeout` is closed
//!   (HTTP/2 included, whose pings would otherwise keep it open);
//! - a request body must arrive whole within `body_read_timeout`, and the
//!   bodies being read or held across all connections share one memory
//!   budget, reserved before the bytes are read;
//! - a request head is refused before any work when its URL, its header
//!   count or the combined size of its request line and headers is over
//!   the bound (AWS's quotas: 10,240 characters of URL on a regional API,
//!   10,240 bytes of request line and header values); a body over
//!   `max_body` (AWS's 10 MB payload quota) is refused unread;
//! - at most `max_connections` are open; further clients wait in the
//!   kernel's backlog until one closes;
//! - when accepting fails (out of file descriptors), the loop backs off and
//!   says so at most once a second, and the open connections keep being
//!   served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// The largest request body read by default: API Gateway's payload quota.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// The bounds, from `serve`'s options.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: u32,
    /// The largest request body read.
    pub max_body: usize,
    /// Bytes of request bodies held at once, across connections; at least
    /// `max_body`, so that any one allowed body fits.
    pub max_body_memory: usize,
    /// Characters of the request target (path and query).
    pub max_url: usize,
    /// Bytes of the request line and the header fields together, counted
    /// as HTTP/1.1 writes them.
    pub max_head: usize,
    /// Header fields in one request.
    pub max_headers: usize,
}

/// Why a request head was refused before anything else was done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// The target is longer than [`Limits::max_url`].
    UrlTooLong,
    /// More header fields than [`Limits::max_headers`], or a request line
    /// and headers larger than [`Limits::max_head`].
    HeadersTooLarge,
}

impl Limits {
    /// The head's bounds, checked in one pass over its fields.
    pub fn check_head<'h>(
        &self,
        method: &str,
        target: &str,
        count: usize,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) -> Result<(), HeadError> {
        if target.len() > self.max_url {
            return Err(HeadError::UrlTooLong);
        }
        if count > self.max_headers {
            return Err(HeadError::HeadersTooLarge);
        }
        // `METHOD target HTTP/1.1\r\n`, then `name: value\r\n` each.
        let line = method.len() + 1 + target.len() + 1 + 8 + 2;
        let size = headers.fold(line, |size, (name, value)| {
            size.saturating_add(name.len() + 2 + value.len() + 2)
        });
        if size > self.max_head {
            return Err(HeadError::HeadersTooLarge);
        }
        Ok(())
    }
}

/// Parses a positive count of bytes or fields.
pub fn parse_size(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(size) if size > 0 => Ok(size),
        _ => Err(format!("'{text}' is not a positive whole number")),
    }
}

/// Parses `500ms`, `10s` or `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 500ms, 10s, 2m or 24h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(value.saturating_mul(3600))),
        _ => Err(format!(
            "'{text}' is not a duration like 500ms, 10s, 2m or 24h"
        )),
    }
}

/// Whether a connection has a request in flight, and since when it has
/// had none.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to the end of the last request.
    last_done_ms: AtomicU64,
}

/// Marks a request in flight until dropped.
pub struct InFlight(Arc<Activity>);

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        })
    }

    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// When the connection became idle; `None` while a request is in flight.
    pub fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::SeqCst) == 0)
            .then(|| self.opened + Duration::from_millis(self.last_done_ms.load(Ordering::SeqCst)))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        let elapsed = u64::try_from(activity.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.last_done_ms.fetch_max(elapsed, Ordering::SeqCst);
        activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Drives one connection until it ends, is idle for too long, or the
/// server shuts down; `close` is the connection's graceful shutdown. The
/// connection's `slot` is given back when it ends.
pub async fn supervise<C, E>(
    connection: C,
    close: impl Fn(std::pin::Pin<&mut C>),
    activity: Arc<Activity>,
    idle_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
    slot: OwnedSemaphorePermit,
) where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let _slot = slot;
    let mut connection = std::pin::pin!(connection);
    let mut check_at = Instant::now() + idle_timeout;
    // Once closing, a connection still open after this grace is dropped.
    let mut give_up_at: Option<Instant> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            changed = shutdown.changed(), if give_up_at.is_none() => {
                // Nothing in flight (an idle or half-sent request): nothing
                // to finish, so nothing to wait for.
                if changed.is_err() || activity.idle_since().is_some() {
                    return;
                }
                close(connection.as_mut());
                give_up_at = Some(Instant::now() + Duration::from_secs(30));
            }
            () = tokio::time::sleep_until(check_at), if give_up_at.is_none() => {
                match activity.idle_since() {
                    Some(since) if since + idle_timeout <= Instant::now() => {
                        close(connection.as_mut());
                        give_up_at = Some(Instant::now() + Duration::from_secs(1));
                    }
                    Some(since) => check_at = since + idle_timeout,
                    None => check_at = Instant::now() + idle_timeout,
                }
            }
            () = sleep_until_some(give_up_at) => return,
        }
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Accept failures: a growing pause between attempts (5 ms to 1 s) and a
/// log line at most once a second, with the count it stands for.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    pause: Duration,
    last_report: Option<Instant>,
    unreported: u64,
}

impl AcceptBackoff {
    /// Records a failure; returns how long to wait before the next accept.
    pub fn failed(&mut self, error: &std::io::Error) -> Duration {
        self.unreported += 1;
        let now = Instant::now();
        if self
            .last_report
            .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(1))
        {
            tracing::warn!(%error, failures = self.unreported, "accept failed; backing off");
            self.unreported = 0;
            self.last_report = Some(now);
        }
        self.pause = (self.pause * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        self.pause
    }

    pub fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over the largest body allowed, declared or sent.
    TooLarge,
    /// Not valid framing (a bad chunk size), or the client went away.
    Malformed,
    /// Not complete within the body timeout.
    TimedOut,
    /// The server is shutting down.
    ShuttingDown,
}

/// A request body read whole, and its share of the memory budget (held
/// until the request is answered).
pub struct Body {
    pub bytes: Vec<u8>,
    pub reservation: Option<OwnedSemaphorePermit>,
}

/// Reads `body` within `deadline`, reserving its bytes from `budget`
/// first: the declared length at once, a chunked body frame by frame. A
/// reservation that cannot be had before the deadline is a time-out.
pub async fn read_body(
    mut body: Incoming,
    declared: Option<u64>,
    max: usize,
    budget: &Arc<Semaphore>,
    deadline: Instant,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Body, BodyError> {
    let reading = async {
        let declared = match declared.map(usize::try_from) {
            Some(Ok(length)) if length <= max => length,
            Some(_) => return Err(BodyError::TooLarge),
            None => 0,
        };
        let mut reserved = reserve(budget, declared, None).await?;
        let mut held = declared;
        let mut bytes = Vec::with_capacity(declared);
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(|_| BodyError::Malformed)?.into_data() else {
                continue; // trailers
            };
            let total = bytes.len().saturating_add(data.len());
            if total > max {
                return Err(BodyError::TooLarge);
            }
            if total > held {
                reserved = reserve(budget, total - held, reserved).await?;
                held = total;
            }
            bytes.extend_from_slice(&data);
        }
        Ok(Body {
            bytes,
            reservation: reserved,
        })
    };
    tokio::select! {
        read = tokio::time::timeout_at(deadline, reading) => read.unwrap_or(Err(BodyError::TimedOut)),
        _ = shutdown.wait_for(|stopping| *stopping) => Err(BodyError::ShuttingDown),
    }
}

/// `count` more bytes from `budget`, merged into what `held` has.
async fn reserve(
    budget: &Arc<Semaphore>,
    count: usize,
    held: Option<OwnedSemaphorePermit>,
) -> Result<Option<OwnedSemaphorePermit>, BodyError> {
    if count == 0 {
        return Ok(held);
    }
    let count = u32::try_from(count).map_err(|_| BodyError::TooLarge)?;
    let permit = budget
        .clone()
        .acquire_many_owned(count)
        .await
        .map_err(|_| BodyError::ShuttingDown)?;
    Ok(Some(match held {
        Some(mut held) => {
            held.merge(permit);
            held
        }
        None => permit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("1d").is_err());
    }

    #[test]
    fn sizes_are_positive_whole_numbers() {
        assert_eq!(parse_size("10240"), Ok(10_240));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("10k").is_err());
    }

    fn bounds() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 16,
            max_body: MAX_BODY,
            max_body_memory: MAX_BODY,
            max_url: 40,
            max_head: 100,
            max_headers: 3,
        }
    }

    #[test]
    fn a_head_is_measured_as_http_1_1_writes_it() {
        let limits = bounds();
        // "GET /abc HTTP/1.1\r\n" is 19 bytes, "host: h\r\n" 9.
        let host = [("host", b"h".as_slice())];
        assert_eq!(
            limits.check_head("GET", "/abc", host.len(), host.into_iter()),
            Ok(())
        );
        let value = vec![b'v'; 100 - 19 - 9 - 5];
        let exact = [("host", b"h".as_slice()), ("x", value.as_slice())];
        assert_eq!(
            limits.check_head("GET", "/abc", exact.len(), exact.into_iter()),
            Ok(())
        );
        let value = vec![b'v'; 100 - 19 - 9 - 4];
        let over = [("host", b"h".as_slice()), ("x", value.as_slice())];
        assert_eq!(
            limits.check_head("GET", "/abc", over.len(), over.into_iter()),
            Err(HeadError::HeadersTooLarge)
        );
    }

    #[test]
    fn a_long_url_is_refused_before_the_headers_are_measured() {
        let limits = bounds();
        let target = format!("/{}", "a".repeat(40));
        let many = [("a", b"".as_slice()); 4];
        assert_eq!(
            limits.check_head("GET", &target, many.len(), many.into_iter()),
            Err(HeadError::UrlTooLong)
        );
        assert_eq!(
            limits.check_head("GET", &target[..40], many.len(), many.into_iter()),
            Err(HeadError::HeadersTooLarge),
            "four fields where three are allowed"
        );
        assert_eq!(
            limits.check_head(
                "GET",
                &target[..40],
                many[..3].len(),
                many[..3].iter().copied()
            ),
            Ok(())
        );
    }

    #[test]
    fn accept_failures_back_off_to_a_second_and_report_once_a_second() {
        let mut backoff = AcceptBackoff::default();
        let error = std::io::Error::other("Too many open files");
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.failed(&error)).collect();
        assert_eq!(pauses[0], Duration::from_millis(5));
        assert_eq!(pauses[1], Duration::from_millis(10));
        assert_eq!(pauses[9], Duration::from_secs(1));
        assert_eq!(
            backoff.unreported, 9,
            "one report for ten failures in the same instant"
        );
        backoff.succeeded();
        assert_eq!(backoff.failed(&error), Duration::from_millis(5));
    }

    #[test]
    fn a_connection_is_idle_only_with_no_request_in_flight() {
        let activity = Activity::new();
        let opened = activity.idle_since().unwrap();
        let first = activity.begin();
        let second = activity.begin();
        std::thread::sleep(Duration::from_millis(20));
        drop(first);
        assert!(
            activity.idle_since().is_none(),
            "one request still in flight"
        );
        drop(second);
        let since = activity.idle_since().unwrap();
        assert!(
            since >= opened + Duration::from_millis(20),
            "idle from the end of the last request"
        );
    }
}
