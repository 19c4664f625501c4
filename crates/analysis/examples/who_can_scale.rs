//! `who-can` for one route over 10,000 users, 10,000 roles and 1,000 REST
//! APIs in 10 accounts (docs/benchmarks.md):
//! `cargo run --release -p iamgate-analysis --example who_can_scale`.
//!
//! A tenth of the users may invoke some API (one in a hundred the one
//! asked about) and a tenth may assume a role (half of them any role);
//! each role trusts one user or one account and may invoke one API (one
//! in fifty the one asked about); half the APIs have a resource policy
//! letting another account in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::fmt::Write as _;
use std::time::Instant;

use iamgate_analysis::{Analysis, Target};
use iamgate_apimodel::config::ApiRegistry;
use iamgate_iam::config::fresh_stamp;
use iamgate_iam::{World, WorldConfig};

const ACCOUNTS: usize = 10;
const USERS: usize = 10_000;
const ROLES: usize = 10_000;
const APIS: usize = 1_000;

fn account(i: usize) -> String {
    format!("{:012}", 100_000_000_000 + i % ACCOUNTS)
}

/// A small deterministic generator (no dependency, same world each run).
fn pick(seed: usize, n: usize) -> usize {
    seed.wrapping_mul(2_654_435_761).wrapping_add(12_345) % n
}

fn invoke(api: usize) -> String {
    format!(
        r#"{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{}:api{api:07}/*"}}"#,
        account(api)
    )
}

fn world_yaml() -> String {
    let mut out = String::from("accounts:\n");
    for a in 0..ACCOUNTS {
        let _ = write!(out, "  - id: \"{}\"\n    users:\n", account(a));
        for u in (a..USERS).step_by(ACCOUNTS) {
            let statement = match u % 10 {
                0 => invoke(if u % 100 == 0 { 0 } else { pick(u, APIS) }),
                1 if u % 20 == 1 => {
                    r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#.to_owned()
                }
                1 => format!(
                    r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{}:role/r{:05}"}}"#,
                    account(pick(u, ROLES)),
                    pick(u, ROLES)
                ),
                _ => r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#.to_owned(),
            };
            let _ = writeln!(
                out,
                "      - name: u{u:05}\n        policies:\n          p: '{{\"Version\":\"2012-10-17\",\"Statement\":[{statement}]}}'"
            );
        }
        out.push_str("    roles:\n");
        for r in (a..ROLES).step_by(ACCOUNTS) {
            let trusted = if r % 2 == 0 && r % 50 != 0 {
                let u = pick(r, USERS);
                format!("arn:aws:iam::{}:user/u{u:05}", account(u))
            } else {
                account(r + 1)
            };
            let _ = writeln!(
                out,
                "      - name: r{r:05}\n        trust_policy: '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"{trusted}\"}},\"Action\":\"sts:AssumeRole\"}}]}}'\n        policies:\n          p: '{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}'",
                invoke(if r % 50 == 0 { 0 } else { pick(r + 7, APIS) })
            );
        }
    }
    out.push_str("apis:\n");
    for api in 0..APIS {
        let _ = write!(
            out,
            "  - id: api{api:07}\n    type: REST\n    account: \"{}\"\n    region: us-east-1\n    stages: [prod]\n",
            account(api)
        );
        if api % 2 == 0 {
            let _ = writeln!(
                out,
                "    policy: '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"{}\"}},\"Action\":\"execute-api:Invoke\",\"Resource\":\"arn:aws:execute-api:us-east-1:{}:api{api:07}/*\"}}]}}'",
                account(api + 1),
                account(api)
            );
        }
        out.push_str("    methods:\n      - { path: /, method: GET, authorization: AWS_IAM, integration: { type: MOCK } }\n");
    }
    out
}

fn main() {
    let yaml = world_yaml();
    let config = WorldConfig::parse_with_sections(&yaml, &["apis"]).expect("world");
    let records = config
        .to_records(&mut |e| fresh_stamp(e, 0))
        .expect("records");
    let world = World::from_records(records, None, &|key| Ok(key.secret.expose().to_owned()));
    let apis = ApiRegistry::from_world_file(&yaml).expect("apis");
    let target = Target::route(&apis, "api0000000", "prod", "GET /").expect("route");

    let started = Instant::now();
    let mut analysis = Analysis::new(&world, &apis);
    let indexed = started.elapsed();
    let found = analysis.who_can(&target);
    let total = started.elapsed();
    let chained = found.iter().filter(|a| !a.via.is_empty()).count();
    println!(
        "who-can GET / of api0000000 over {USERS} users, {ROLES} roles, {APIS} APIs: {} principals ({chained} through roles) in {:.1} ms (directory {:.1} ms)",
        found.len(),
        total.as_secs_f64() * 1e3,
        indexed.as_secs_f64() * 1e3
    );
}
