#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! What one signed Query request may cost in memory: a 10 MiB body of
//! 2.6 million `a=b&` parameters once peaked at about 40 times its size
//! while being decoded (issue 17, defect 5). The heap is counted by a
//! global allocator of this test binary alone, so nothing else runs here:
//! every measurement holds one lock and the tests are few.
//!
//! Run with `--nocapture` to see the figures.

mod support;

use iamgate_control::{QueryService, Service};
use peak_alloc::PeakAlloc;
use support::{Gateway, sign_request};

/// The system allocator, counting the bytes live now and the most live
/// since the last reset.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// One measurement at a time: the counters are process-wide.
static MEASURING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: usize = 1024 * 1024;

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    users:
      - name: nobody
        access_keys: [{ id: AKIANOBODYAAAAAAAAAA, secret: "nobody-secret" }]
"#;

/// Handles `body` as an IAM request signed by a user without permissions;
/// returns the status, the error code and the peak heap growth while the
/// request was handled (the request itself was allocated before).
async fn handle_measured(gateway: &Gateway, body: String) -> (u16, String, usize) {
    let request = sign_request("iam", "AKIANOBODYAAAAAAAAAA", "nobody-secret", None, body);
    let service = Service::Query(QueryService::Iam);
    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let response = gateway.planes.handle(service, &request).await;
    let peak = HEAP.peak_usage().saturating_sub(before);
    let body = String::from_utf8(response.body).unwrap();
    let code = body
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_owned())
        .unwrap_or_default();
    (response.status, code, peak)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / MIB as f64
}

#[tokio::test(flavor = "current_thread")]
async fn ten_mib_of_tiny_parameters_is_refused_within_four_times_its_size() {
    let _one = MEASURING.lock().await;
    let gateway = Gateway::start(WORLD).await;
    let mut body = String::from("Action=ListUsers&Version=2010-05-08&");
    while body.len() + 4 <= 10 * MIB {
        body.push_str("a=b&");
    }
    let size = body.len();
    let (status, code, peak) = handle_measured(&gateway, body).await;
    println!(
        "10 MiB of a=b& ({size} bytes): {status} {code}, peak heap growth {peak} bytes = {:.1} MiB ({:.2}x the body)",
        mib(peak),
        peak as f64 / size as f64
    );
    assert_eq!((status, code.as_str()), (400, "InvalidQueryParameter"));
    assert!(
        peak <= 4 * size,
        "handling a {size}-byte body peaked at {peak} bytes"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_largest_accepted_parameter_list_stays_within_four_times_its_size() {
    let _one = MEASURING.lock().await;
    let gateway = Gateway::start(WORLD).await;
    // As many parameters as a request may carry, each as large as fits
    // in 10 MiB: the decoded map then holds nearly the whole body.
    let count = iamgate_wire::query::MAX_PARAMETERS - 2;
    let value_len = 10 * MIB / count - 16;
    let value = "v".repeat(value_len);
    let mut body = String::from("Action=ListUsers&Version=2010-05-08");
    for index in 0..count {
        body.push_str(&format!("&P{index}={value}"));
    }
    let size = body.len();
    let (status, code, peak) = handle_measured(&gateway, body).await;
    println!(
        "{count} parameters of {value_len} bytes ({size} bytes): {status} {code}, peak heap growth {peak} bytes = {:.1} MiB ({:.2}x the body)",
        mib(peak),
        peak as f64 / size as f64
    );
    // Decoded in full, then refused by authorization like any request.
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert!(
        peak <= 4 * size,
        "handling a {size}-byte body peaked at {peak} bytes"
    );
}
