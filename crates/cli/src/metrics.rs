//! Request counters and latency in Prometheus' text format: what an
//! operator's scraper already understands, without a metrics framework.
//!
//! Every surface is counted by HTTP status; execute-api requests are also
//! counted by API, stage, status and decision, with a latency histogram per
//! API and stage. Label values come only from the declared APIs and
//! stages: an API id or stage a client made up is counted as `(unknown)` /
//! `(none)`, so no caller can grow the number of series without bound.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use iamgate_control::decision_archive::ArchiveCounters;
use iamgate_gateway::access::AccessRecord;

/// Requests answered and seconds spent, per (surface, HTTP status).
type Counters = BTreeMap<(&'static str, u16), (u64, f64)>;

/// Upper bounds (seconds) of the latency buckets: a MOCK answers in well
/// under a millisecond, a proxied backend may take up to the 29 s
/// integration timeout.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

/// Label value for an API id that names no declared API.
const UNKNOWN_API: &str = "(unknown)";
/// Label value when no stage matched.
const NO_STAGE: &str = "(none)";

#[derive(Default, Clone)]
struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(bucket) = self.buckets.get_mut(slot) {
            *bucket += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Default)]
struct ExecuteApi {
    /// (api, stage, status) → requests.
    by_status: BTreeMap<(String, String, u16), u64>,
    /// (api, stage, decision, policy type) → requests.
    by_decision: BTreeMap<(String, String, &'static str, &'static str), u64>,
    /// (api, stage) → latency.
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Counters>,
    execute_api: Mutex<ExecuteApi>,
}

/// A label value with Prometheus' escapes (`\`, `"`, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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

    /// One execute-api request, as the data plane recorded it.
    pub fn record_execute_api(&self, record: &AccessRecord, status: u16, latency: Duration) {
        let api = if record.api_known {
            record.api_id.clone()
        } else {
            UNKNOWN_API.to_owned()
        };
        let stage = record.stage.clone().unwrap_or_else(|| NO_STAGE.to_owned());
        let decision = record.decision.outcome.as_str();
        let policy_type = record
            .decision
            .policy_type
            .map_or("", iamgate_policy::PolicyType::short_name);
        let mut metrics = self
            .execute_api
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *metrics
            .by_status
            .entry((api.clone(), stage.clone(), status))
            .or_insert(0) += 1;
        *metrics
            .by_decision
            .entry((api.clone(), stage.clone(), decision, policy_type))
            .or_insert(0) += 1;
        metrics
            .latency
            .entry((api, stage))
            .or_default()
            .observe(latency.as_secs_f64());
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_surfaces(&mut out);
        self.render_execute_api(&mut out);
        out
    }

    fn render_surfaces(&self, out: &mut String) {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
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
    }

    fn render_execute_api(&self, out: &mut String) {
        let metrics = self
            .execute_api
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.push_str("# HELP iamgate_execute_api_requests_total execute-api requests answered, by API, stage and HTTP status.\n");
        out.push_str("# TYPE iamgate_execute_api_requests_total counter\n");
        for ((api, stage, status), count) in &metrics.by_status {
            let _ = writeln!(
                out,
                "iamgate_execute_api_requests_total{{api=\"{}\",stage=\"{}\",status=\"{status}\"}} {count}",
                label(api),
                label(stage)
            );
        }
        out.push_str("# HELP iamgate_execute_api_decisions_total execute-api authorization decisions, by API, stage, decision and deciding policy type.\n");
        out.push_str("# TYPE iamgate_execute_api_decisions_total counter\n");
        for ((api, stage, decision, policy_type), count) in &metrics.by_decision {
            let _ = writeln!(
                out,
                "iamgate_execute_api_decisions_total{{api=\"{}\",stage=\"{}\",decision=\"{decision}\",policy_type=\"{policy_type}\"}} {count}",
                label(api),
                label(stage)
            );
        }
        out.push_str("# HELP iamgate_execute_api_request_duration_seconds Time from the request's arrival to its answer, by API and stage.\n");
        out.push_str("# TYPE iamgate_execute_api_request_duration_seconds histogram\n");
        for ((api, stage), histogram) in &metrics.latency {
            let (api, stage) = (label(api), label(stage));
            let mut cumulative = 0;
            let bounds = LATENCY_BUCKETS
                .iter()
                .map(|bound| bound.to_string())
                .chain(std::iter::once("+Inf".to_owned()));
            for (bound, count) in bounds.zip(histogram.buckets.iter()) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "iamgate_execute_api_request_duration_seconds_bucket{{api=\"{api}\",stage=\"{stage}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "iamgate_execute_api_request_duration_seconds_sum{{api=\"{api}\",stage=\"{stage}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "iamgate_execute_api_request_duration_seconds_count{{api=\"{api}\",stage=\"{stage}\"}} {}",
                histogram.count
            );
        }
    }
}

/// The counters of persisting decision records (`--persist-decisions`).
pub fn render_archive(out: &mut String, counters: &ArchiveCounters) {
    use std::sync::atomic::Ordering::Relaxed;
    for (name, help, value) in [
        (
            "iamgate_decision_records_persisted_total",
            "Decision records written to the store.",
            &counters.written,
        ),
        (
            "iamgate_decision_records_dropped_total",
            "Decision records not persisted because the queue to the store was full.",
            &counters.dropped,
        ),
        (
            "iamgate_decision_records_persist_failed_total",
            "Decision records not persisted because the store refused them.",
            &counters.failed,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", value.load(Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamgate_gateway::access::AccessDecision;

    fn record(api: &str, known: bool, stage: Option<&str>) -> AccessRecord {
        AccessRecord {
            request_id: "r".into(),
            api_id: api.into(),
            api_known: known,
            stage: stage.map(str::to_owned),
            decision: AccessDecision::not_found(),
        }
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let metrics = Metrics::default();
        let r = record("a1b2c3d4e5", true, Some("prod"));
        metrics.record_execute_api(&r, 200, Duration::from_micros(300));
        metrics.record_execute_api(&r, 403, Duration::from_millis(3));
        metrics.record_execute_api(&r, 200, Duration::from_secs(40));
        let text = metrics.render();
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("no {needle} in\n{text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_owned()
        };
        let bucket = |le: &str| {
            line(&format!(
                "iamgate_execute_api_request_duration_seconds_bucket{{api=\"a1b2c3d4e5\",stage=\"prod\",le=\"{le}\"}}"
            ))
        };
        assert_eq!(bucket("0.0005"), "1");
        assert_eq!(bucket("0.0025"), "1");
        assert_eq!(bucket("0.005"), "2");
        assert_eq!(bucket("30"), "2");
        assert_eq!(bucket("+Inf"), "3");
        assert_eq!(
            line(
                "iamgate_execute_api_request_duration_seconds_count{api=\"a1b2c3d4e5\",stage=\"prod\"}"
            ),
            "3"
        );
        assert_eq!(
            line(
                "iamgate_execute_api_requests_total{api=\"a1b2c3d4e5\",stage=\"prod\",status=\"200\"}"
            ),
            "2"
        );
    }

    #[test]
    fn made_up_api_ids_share_one_series() {
        let metrics = Metrics::default();
        for id in ["zzz1", "zzz2", "zzz3"] {
            metrics.record_execute_api(&record(id, false, None), 403, Duration::ZERO);
        }
        let text = metrics.render();
        assert!(text.contains(
            "iamgate_execute_api_requests_total{api=\"(unknown)\",stage=\"(none)\",status=\"403\"} 3"
        ));
        assert!(!text.contains("zzz"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
