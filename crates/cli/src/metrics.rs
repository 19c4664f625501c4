//! Request counters and latency sums in Prometheus' text format: what an
//! operator's scraper already understands, without a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Requests answered and seconds spent, per (surface, HTTP status).
type Counters = BTreeMap<(&'static str, u16), (u64, f64)>;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Counters>,
}

impl Metrics {
    pub fn record(&self, surface: &'static str, status: u16, latency: Duration) {
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = requests.entry((surface, status)).or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += latency.as_secs_f64();
    }

    pub fn render(&self) -> String {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP iamgate_requests_total Requests answered, by surface and HTTP status.\n",
        );
        out.push_str("# TYPE iamgate_requests_total counter\n");
        for ((surface, status), (count, _)) in requests.iter() {
            let _ = writeln!(
                out,
                "iamgate_requests_total{{surface=\"{surface}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP iamgate_request_seconds_sum Time spent answering, by surface and HTTP status.\n");
        out.push_str("# TYPE iamgate_request_seconds_sum counter\n");
        for ((surface, status), (_, seconds)) in requests.iter() {
            let _ = writeln!(
                out,
                "iamgate_request_seconds_sum{{surface=\"{surface}\",status=\"{status}\"}} {seconds}"
            );
        }
        out
    }
}
