//! Resident memory and build time of a world of N users, each with one
//! access key, one attached AWS-managed policy, a tag, one group and an
//! inline policy (the same text for all, each read as its own copy, as
//! the store hands them over), and the cost of one incremental change in
//! it.
//!
//! `cargo run --release -p iamgate-iam --example world_memory -- 100000`

use std::collections::BTreeMap;
use std::time::Instant;

use iamgate_iam::World;
use iamgate_iam::records::{
    AccessKeyRecord, AccessKeyStatus, AccountRecord, AnyRecord, GroupRecord, SecretText, Tag,
    UserRecord,
};
use iamgate_iam::world::{RecordChange, UnsealError};
use peak_alloc::PeakAlloc;

/// Counts the bytes live on the heap: resident memory also counts what
/// the allocator keeps after a free.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn unseal(record: &AccessKeyRecord) -> Result<String, UnsealError> {
    Ok(record.secret.expose().to_owned())
}

const ACCOUNT: &str = "111111111111";
const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*"}]}"#;

fn user(i: usize) -> AnyRecord {
    AnyRecord::User(UserRecord {
        account: ACCOUNT.to_owned(),
        name: format!("user-{i}"),
        path: "/".to_owned(),
        id: format!("AIDA{i:017}"),
        created_at: 1_700_000_000,
        tags: vec![Tag {
            key: "team".to_owned(),
            value: "blue".to_owned(),
        }],
        permissions_boundary: None,
        inline_policies: BTreeMap::from([("invoke".to_owned(), INLINE.to_owned())]).into(),
        attached_policies: vec![
            "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess".to_owned(),
        ],
        groups: vec!["devs".to_owned()],
    })
}

fn key(i: usize) -> AnyRecord {
    AnyRecord::AccessKey(AccessKeyRecord {
        id: format!("AKIA{i:016}"),
        account: ACCOUNT.to_owned(),
        user: Some(format!("user-{i}")),
        secret: SecretText::new(format!("{i:040}")),
        status: AccessKeyStatus::Active,
        created_at: 1_700_000_000,
    })
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let mut records = vec![
        AnyRecord::Account(AccountRecord {
            id: ACCOUNT.to_owned(),
            created_at: 0,
        }),
        AnyRecord::Group(GroupRecord {
            account: ACCOUNT.to_owned(),
            name: "devs".to_owned(),
            path: "/".to_owned(),
            id: "AGPADEVS".to_owned(),
            created_at: 0,
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
        }),
    ];
    // The embedded AWS-managed policies are built once per process; build
    // them before measuring.
    drop(World::from_records(Vec::new(), None, &unseal));
    let empty = rss_kib();
    let empty_heap = HEAP.current_usage();
    for i in 0..n {
        records.push(user(i));
        records.push(key(i));
    }
    let before = rss_kib();
    println!(
        "the records alone: {:.0} bytes per user",
        (before.saturating_sub(empty) * 1024) as f64 / n as f64
    );
    let started = Instant::now();
    let mut world = World::from_records(records, None, &unseal);
    let built = started.elapsed();
    let after = rss_kib();
    let heap = HEAP.current_usage().saturating_sub(empty_heap);
    let mut one_change = std::time::Duration::MAX;
    for round in 0..5 {
        let snapshot = world.clone();
        let started = Instant::now();
        world.apply([RecordChange::Put(user(n / 2 + round))], &unseal);
        one_change = one_change.min(started.elapsed());
        drop(snapshot);
    }
    let _ = before;
    println!(
        "{n} users: built in {built:?}, {:.0} bytes per user on the heap, {:.0} resident, one change {one_change:?}",
        heap as f64 / n as f64,
        (after.saturating_sub(empty) * 1024) as f64 / n as f64
    );
}
