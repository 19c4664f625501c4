#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! Tables A and B of AWS's "How API Gateway resource policies affect
//! authorization workflow" (API Gateway Developer Guide) live: every row
//! of both tables, the same-account extended matrix and the sixteen
//! numbered examples, each a signed request
//! to a running `iamgate serve` whose answer — status, `x-amzn-ErrorType`
//! and body, byte for byte — is compared with AWS's.
//!
//! Account A = 111111111111 owns every API (one REST API per case, stage
//! `prod`, so each row has its own resource policy); B = 222222222222.
//!
//! | caller | account | identity side |
//! |---|---|---|
//! | alice | A | Allow (and may assume `Bounded`) |
//! | bob | A | neither |
//! | dave | A | Deny |
//! | u | B | Allow (and may assume `R` and A's `Invoker`) |
//! | v | B | neither |
//! | w | B | Deny |
//! | role `R` | B | Allow |
//! | role `Invoker` | A | Allow, trusted by B |
//! | role `Bounded` | A | Allow, boundary silent on execute-api |
//! | role `Silent` | A | neither; boundary allows execute-api |
//! | role `SilentBounded` | A | neither; boundary silent |
//! | role `Plain` | A | neither; assumed with a session policy silent on execute-api |
//!
//! Everything runs on one server, case after case; every mismatch is
//! reported with the name of the row it pins.

mod support;

use std::fmt::Write as _;

use support::{HttpResponse, Keys, Server, ServerOptions, http, sign_execute_api, signed_post};

const A: &str = "111111111111";
const B: &str = "222222222222";

const ALICE: (&str, &str) = (
    "AKIAEXAMPLEALICE0001",
    "aliceSecretAccessKeyExample0000000000001",
);
const BOB: (&str, &str) = (
    "AKIAEXAMPLEBOB000001",
    "bobSecretAccessKeyExample000000000000001",
);
const DAVE: (&str, &str) = (
    "AKIAEXAMPLEDAVE00001",
    "daveSecretAccessKeyExample00000000000001",
);
const U: (&str, &str) = (
    "AKIAEXAMPLEUSERU0001",
    "uSecretAccessKeyExample00000000000000001",
);
const V: (&str, &str) = (
    "AKIAEXAMPLEUSERV0001",
    "vSecretAccessKeyExample00000000000000001",
);
const W: (&str, &str) = (
    "AKIAEXAMPLEUSERW0001",
    "wSecretAccessKeyExample00000000000000001",
);

const IDENTITY_ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:*/*"}]}"#;
const IDENTITY_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:*/*"}]}"#;

/// A resource policy of one statement, as the world file's YAML flow map.
fn statement(
    effect: &str,
    principal: &str,
    api: &str,
    resource_tail: &str,
    condition: &str,
) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Principal":{principal},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:{A}:{api}/{resource_tail}"{condition}}}]}}"#
    )
}

fn allow_for(arn: &str, api: &str) -> String {
    statement("Allow", &format!(r#"{{"AWS":"{arn}"}}"#), api, "*", "")
}

fn deny_all(api: &str) -> String {
    statement("Deny", r#""*""#, api, "*", "")
}

/// One REST API: `GET /` (and `DELETE /pets/{id}`) with `authorization`,
/// answering `{"case":"<id>"}`.
fn rest_api(id: &str, authorization: &str, policy: Option<&str>) -> String {
    let mut yaml = format!(
        r#"
  - id: {id}
    type: REST
    account: "{A}"
    region: us-east-1
    stages: [prod]
    methods:
      - path: /
        method: GET
        authorization: {authorization}
        integration: {{ type: MOCK, status: 200, body: '{{"case":"{id}"}}' }}
      - path: "/pets/{{id}}"
        method: DELETE
        authorization: {authorization}
        integration: {{ type: MOCK, status: 200, body: '{{"deleted":"{id}"}}' }}
"#
    );
    if let Some(policy) = policy {
        let _ = writeln!(yaml, "    policy: '{policy}'");
    }
    yaml
}

fn http_api(id: &str) -> String {
    format!(
        r#"
  - id: {id}
    type: HTTP
    account: "{A}"
    region: us-east-1
    routes:
      - key: "GET /pets"
        authorization: AWS_IAM
        integration: {{ type: MOCK, status: 200, body: '{{"case":"{id}"}}' }}
"#
    )
}

fn user_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{name}")
}

fn world() -> String {
    let mut yaml = format!(
        r#"
accounts:
  - id: "{A}"
    managed_policies:
      - name: InvokeA
        document: '{IDENTITY_ALLOW}'
      - name: OnlyS3
        document: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}]}}'
    users:
      - name: alice
        access_keys: [{{ id: {alice_id}, secret: "{alice_secret}" }}]
        managed_policies: [InvokeA]
        policies:
          assume-bounded: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{A}:role/*"}}]}}'
      - name: bob
        access_keys: [{{ id: {bob_id}, secret: "{bob_secret}" }}]
      - name: dave
        access_keys: [{{ id: {dave_id}, secret: "{dave_secret}" }}]
        policies:
          deny-invoke: '{IDENTITY_DENY}'
    roles:
      - name: Invoker
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"sts:AssumeRole"}}]}}'
        managed_policies: [InvokeA]
      - name: Bounded
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}'
        managed_policies: [InvokeA]
        permissions_boundary: OnlyS3
      - name: Silent
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}'
        permissions_boundary: InvokeA
      - name: SilentBounded
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}'
        permissions_boundary: OnlyS3
      - name: Plain
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}'
  - id: "{B}"
    users:
      - name: u
        access_keys: [{{ id: {u_id}, secret: "{u_secret}" }}]
        policies:
          invoke-a: '{IDENTITY_ALLOW}'
          assume: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::{A}:role/Invoker","arn:aws:iam::{B}:role/R"]}}]}}'
      - name: v
        access_keys: [{{ id: {v_id}, secret: "{v_secret}" }}]
      - name: w
        access_keys: [{{ id: {w_id}, secret: "{w_secret}" }}]
        policies:
          deny-invoke: '{IDENTITY_DENY}'
    roles:
      - name: R
        trust_policy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"sts:AssumeRole"}}]}}'
        policies:
          invoke-a: '{IDENTITY_ALLOW}'
apis:"#,
        alice_id = ALICE.0,
        alice_secret = ALICE.1,
        bob_id = BOB.0,
        bob_secret = BOB.1,
        dave_id = DAVE.0,
        dave_secret = DAVE.1,
        u_id = U.0,
        u_secret = U.1,
        v_id = V.0,
        v_secret = V.1,
        w_id = W.0,
        w_secret = W.1,
    );
    let alice = user_arn(A, "alice");
    let bob = user_arn(A, "bob");
    let dave = user_arn(A, "dave");
    let u = user_arn(B, "u");
    let v = user_arn(B, "v");
    let w = user_arn(B, "w");
    let apis: Vec<(&str, Option<String>)> = vec![
        // Table A rows 1–9 (identity side × resource policy).
        ("ta1", Some(allow_for(&alice, "ta1"))),
        ("ta2", None),
        ("ta3", Some(deny_all("ta3"))),
        ("ta4", Some(allow_for(&bob, "ta4"))),
        ("ta5", None),
        ("ta6", Some(deny_all("ta6"))),
        ("ta7", Some(allow_for(&dave, "ta7"))),
        ("ta8", None),
        ("ta9", Some(deny_all("ta9"))),
        // Table B rows 1–9.
        ("tb1", Some(allow_for(&u, "tb1"))),
        ("tb2", None),
        ("tb3", Some(deny_all("tb3"))),
        ("tb4", Some(allow_for(&v, "tb4"))),
        ("tb5", None),
        ("tb6", Some(deny_all("tb6"))),
        ("tb7", Some(allow_for(&w, "tb7"))),
        ("tb8", None),
        ("tb9", Some(deny_all("tb9"))),
        // Worked examples not already a table row.
        (
            "ex04",
            Some(statement("Deny", r#""*""#, "ex04", "prod/DELETE/*", "")),
        ),
        (
            "ex05",
            Some(statement(
                "Allow",
                r#""*""#,
                "ex05",
                "*",
                r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            )),
        ),
        (
            "ex06",
            Some(statement(
                "Deny",
                r#""*""#,
                "ex06",
                "*",
                r#","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            )),
        ),
        (
            "ex09",
            Some(statement(
                "Allow",
                &format!(r#"{{"AWS":"{B}"}}"#),
                "ex09",
                "*",
                "",
            )),
        ),
        (
            "ex10",
            Some(allow_for(&format!("arn:aws:iam::{B}:role/R"), "ex10")),
        ),
        ("ex12", None),
        // The extended matrix (same account; IAM User Guide, "Policy
        // evaluation logic").
        (
            "xm1",
            Some(allow_for(
                &format!("arn:aws:sts::{A}:assumed-role/Bounded/sess16"),
                "xm1",
            )),
        ),
        (
            "xm2",
            Some(allow_for(&format!("arn:aws:iam::{A}:role/Silent"), "xm2")),
        ),
        (
            "xm3",
            Some(allow_for(
                &format!("arn:aws:iam::{A}:role/SilentBounded"),
                "xm3",
            )),
        ),
        (
            "xm4",
            Some(allow_for(&format!("arn:aws:iam::{A}:role/Plain"), "xm4")),
        ),
        (
            "xm5",
            Some(statement(
                "Allow",
                &format!(r#"{{"AWS":"{A}"}}"#),
                "xm5",
                "*",
                "",
            )),
        ),
        ("xm7", Some(statement("Allow", r#""*""#, "xm7", "*", ""))),
        ("ex15", None),
        ("ex16", None),
    ];
    for (id, policy) in &apis {
        yaml.push_str(&rest_api(id, "AWS_IAM", policy.as_deref()));
    }
    // Examples 13 and 14: anonymous callers on NONE methods.
    yaml.push_str(&rest_api(
        "ex13",
        "NONE",
        Some(&statement("Allow", r#""*""#, "ex13", "*", "")),
    ));
    yaml.push_str(&rest_api(
        "ex14",
        "NONE",
        Some(&statement(
            "Allow",
            &format!(r#"{{"AWS":"{B}"}}"#),
            "ex14",
            "*",
            "",
        )),
    ));
    // Examples 11 and 12: HTTP APIs have no resource policy.
    yaml.push_str(&http_api("ex11http"));
    yaml.push_str(&http_api("ex12http"));
    yaml
}

/// What a case expects.
enum Expect {
    /// 200 with the MOCK's body.
    Ok(&'static str),
    /// A REST `ACCESS_DENIED`: `User: <principal> is not authorized to
    /// perform: execute-api:Invoke on resource: <masked ARN> <suffix>`.
    Denied {
        principal: String,
        /// `ta3/prod/GET/`: the ARN after the (masked) account.
        resource: &'static str,
        suffix: &'static str,
    },
    /// Any other exact answer.
    Exact {
        status: u16,
        error_type: Option<&'static str>,
        body: &'static str,
    },
}

const NO_IDENTITY: &str = "because no identity-based policy allows the execute-api:Invoke action";
const NO_RESOURCE: &str = "because no resource-based policy allows the execute-api:Invoke action";
const NO_BOUNDARY: &str = "because no permissions boundary allows the execute-api:Invoke action";
const NO_SESSION: &str = "because no session policy allows the execute-api:Invoke action";
const DENY_IDENTITY: &str = "with an explicit deny in an identity-based policy";
const DENY_RESOURCE: &str = "with an explicit deny in a resource-based policy";

struct Case {
    /// The row it pins.
    name: &'static str,
    keys: Option<Keys>,
    method: &'static str,
    api: &'static str,
    target: &'static str,
    forwarded_for: Option<&'static str>,
    expect: Expect,
}

fn case(name: &'static str, keys: Option<&Keys>, api: &'static str, expect: Expect) -> Case {
    let target = if api.ends_with("http") {
        "/pets"
    } else {
        "/prod/"
    };
    Case {
        name,
        keys: keys.cloned(),
        method: "GET",
        api,
        target,
        forwarded_for: None,
        expect,
    }
}

fn denied(principal: &str, resource: &'static str, suffix: &'static str) -> Expect {
    Expect::Denied {
        principal: principal.to_owned(),
        resource,
        suffix,
    }
}

/// Sends `case` and returns what differs from its expectation.
fn run(server: &Server, case: &Case) -> Option<String> {
    let host = format!("{}.execute-api.us-east-1.amazonaws.com", case.api);
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(xff) = case.forwarded_for {
        extra.push(("x-forwarded-for", xff));
    }
    let headers = match &case.keys {
        Some(keys) => sign_execute_api(keys, case.method, &host, case.target, &extra),
        None => std::iter::once(("host", host.as_str()))
            .chain(extra.iter().copied())
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
    };
    let reply: HttpResponse = http(server.port, case.method, case.target, &headers, b"").unwrap();
    let (status, error_type, body) = match &case.expect {
        Expect::Ok(body) => (200, None, (*body).to_owned()),
        Expect::Denied {
            principal,
            resource,
            suffix,
        } => (
            403,
            Some("AccessDeniedException"),
            format!(
                r#"{{"Message":"User: {principal} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:{resource} {suffix}"}}"#
            ),
        ),
        Expect::Exact {
            status,
            error_type,
            body,
        } => (*status, *error_type, (*body).to_owned()),
    };
    let mut problems = Vec::new();
    if reply.status != status {
        problems.push(format!("status {} (expected {status})", reply.status));
    }
    if reply.body != body {
        problems.push(format!(
            "body\n      {}\n    expected\n      {body}",
            reply.body
        ));
    }
    if reply.header("x-amzn-ErrorType") != error_type {
        problems.push(format!(
            "x-amzn-ErrorType {:?} (expected {error_type:?})",
            reply.header("x-amzn-ErrorType")
        ));
    }
    if reply.header("content-type") != Some("application/json") {
        problems.push(format!("content-type {:?}", reply.header("content-type")));
    }
    if reply.header("content-length") != Some(body.len().to_string().as_str()) {
        problems.push(format!(
            "content-length {:?} (expected {})",
            reply.header("content-length"),
            body.len()
        ));
    }
    (!problems.is_empty()).then(|| format!("{}: {}", case.name, problems.join("; ")))
}

/// `text` percent-encoded for a form body (RFC 3986 unreserved kept).
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Role credentials from the server's STS.
fn assume_role(server: &Server, caller: &Keys, role_arn: &str, session: &str) -> Keys {
    assume_role_with_policy(server, caller, role_arn, session, None)
}

/// Role credentials, with a session policy when given.
fn assume_role_with_policy(
    server: &Server,
    caller: &Keys,
    role_arn: &str,
    session: &str,
    policy: Option<&str>,
) -> Keys {
    let mut body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName={session}",
        form_encode(role_arn)
    );
    if let Some(policy) = policy {
        body.push_str("&Policy=");
        body.push_str(&form_encode(policy));
    }
    let reply = signed_post(server.port, "sts", caller, &body);
    assert_eq!(reply.status, 200, "AssumeRole {role_arn}: {}", reply.body);
    Keys {
        id: reply.xml("AccessKeyId").unwrap(),
        secret: reply.xml("SecretAccessKey").unwrap(),
        token: reply.xml("SessionToken"),
    }
}

#[test]
fn tables_a_and_b_and_the_execute_api_examples_answer_as_aws_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("world.yaml"), world()).unwrap();
    // The proxy is trusted so examples 5 and 6 can come from 192.0.2.1.
    let server = Server::start(&ServerOptions {
        config: Some(dir.path().join("world.yaml")),
        data_dir: dir.path().join("data"),
        args: vec!["--trusted-proxy".into(), "127.0.0.1".into()],
        ..ServerOptions::default()
    });
    let keys = |(id, secret): (&str, &str)| Keys::new(id, secret);
    let (alice, bob, dave) = (keys(ALICE), keys(BOB), keys(DAVE));
    let (u, v, w) = (keys(U), keys(V), keys(W));
    let r_session = assume_role(&server, &u, &format!("arn:aws:iam::{B}:role/R"), "sess10");
    let invoker = assume_role(
        &server,
        &u,
        &format!("arn:aws:iam::{A}:role/Invoker"),
        "sess12",
    );
    let bounded = assume_role(
        &server,
        &alice,
        &format!("arn:aws:iam::{A}:role/Bounded"),
        "sess16",
    );
    let silent = assume_role(
        &server,
        &alice,
        &format!("arn:aws:iam::{A}:role/Silent"),
        "xm2",
    );
    let silent_bounded = assume_role(
        &server,
        &alice,
        &format!("arn:aws:iam::{A}:role/SilentBounded"),
        "xm3",
    );
    let plain_with_session_policy = assume_role_with_policy(
        &server,
        &alice,
        &format!("arn:aws:iam::{A}:role/Plain"),
        "xm4",
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        ),
    );
    let alice_arn = user_arn(A, "alice");
    let bob_arn = user_arn(A, "bob");
    let dave_arn = user_arn(A, "dave");
    let u_arn = user_arn(B, "u");
    let v_arn = user_arn(B, "v");
    let w_arn = user_arn(B, "w");

    let cases = vec![
        // Table A: caller and API in account A.
        case(
            "table_a_row_1_allow_allow_is_allowed",
            Some(&alice),
            "ta1",
            Expect::Ok(r#"{"case":"ta1"}"#),
        ),
        case(
            "table_a_row_2_allow_neither_is_allowed (example 1)",
            Some(&alice),
            "ta2",
            Expect::Ok(r#"{"case":"ta2"}"#),
        ),
        case(
            "table_a_row_3_allow_deny_is_an_explicit_deny",
            Some(&alice),
            "ta3",
            denied(&alice_arn, "ta3/prod/GET/", DENY_RESOURCE),
        ),
        case(
            "table_a_row_4_neither_allow_is_allowed (example 3)",
            Some(&bob),
            "ta4",
            Expect::Ok(r#"{"case":"ta4"}"#),
        ),
        case(
            "table_a_row_5_neither_neither_is_an_implicit_deny (example 2)",
            Some(&bob),
            "ta5",
            denied(&bob_arn, "ta5/prod/GET/", NO_IDENTITY),
        ),
        case(
            "table_a_row_6_neither_deny_is_an_explicit_deny",
            Some(&bob),
            "ta6",
            denied(&bob_arn, "ta6/prod/GET/", DENY_RESOURCE),
        ),
        case(
            "table_a_row_7_deny_allow_is_an_explicit_deny",
            Some(&dave),
            "ta7",
            denied(&dave_arn, "ta7/prod/GET/", DENY_IDENTITY),
        ),
        case(
            "table_a_row_8_deny_neither_is_an_explicit_deny",
            Some(&dave),
            "ta8",
            denied(&dave_arn, "ta8/prod/GET/", DENY_IDENTITY),
        ),
        // Both sides deny: the resource-based policy is named first
        // (`EXPLICIT_DENY_REPORT_ORDER` in crates/policy/src/tunables.rs).
        case(
            "table_a_row_9_deny_deny_is_an_explicit_deny",
            Some(&dave),
            "ta9",
            denied(&dave_arn, "ta9/prod/GET/", DENY_RESOURCE),
        ),
        // Table B: caller in account B, API in account A.
        case(
            "table_b_row_1_allow_allow_is_allowed (example 8)",
            Some(&u),
            "tb1",
            Expect::Ok(r#"{"case":"tb1"}"#),
        ),
        case(
            "table_b_row_2_allow_neither_is_an_implicit_deny (example 7)",
            Some(&u),
            "tb2",
            denied(&u_arn, "tb2/prod/GET/", NO_RESOURCE),
        ),
        case(
            "table_b_row_3_allow_deny_is_an_explicit_deny",
            Some(&u),
            "tb3",
            denied(&u_arn, "tb3/prod/GET/", DENY_RESOURCE),
        ),
        case(
            "table_b_row_4_neither_allow_is_an_implicit_deny",
            Some(&v),
            "tb4",
            denied(&v_arn, "tb4/prod/GET/", NO_IDENTITY),
        ),
        case(
            "table_b_row_5_neither_neither_is_an_implicit_deny",
            Some(&v),
            "tb5",
            denied(&v_arn, "tb5/prod/GET/", NO_IDENTITY),
        ),
        case(
            "table_b_row_6_neither_deny_is_an_explicit_deny",
            Some(&v),
            "tb6",
            denied(&v_arn, "tb6/prod/GET/", DENY_RESOURCE),
        ),
        case(
            "table_b_row_7_deny_allow_is_an_explicit_deny",
            Some(&w),
            "tb7",
            denied(&w_arn, "tb7/prod/GET/", DENY_IDENTITY),
        ),
        case(
            "table_b_row_8_deny_neither_is_an_explicit_deny",
            Some(&w),
            "tb8",
            denied(&w_arn, "tb8/prod/GET/", DENY_IDENTITY),
        ),
        case(
            "table_b_row_9_deny_deny_is_an_explicit_deny",
            Some(&w),
            "tb9",
            denied(&w_arn, "tb9/prod/GET/", DENY_RESOURCE),
        ),
        // The numbered worked examples.
        case(
            "example_4_resource_deny_on_delete_leaves_get_allowed",
            Some(&alice),
            "ex04",
            Expect::Ok(r#"{"case":"ex04"}"#),
        ),
        Case {
            method: "DELETE",
            target: "/prod/pets/1",
            ..case(
                "example_4_resource_deny_on_delete_is_r19",
                Some(&alice),
                "ex04",
                denied(&alice_arn, "ex04/prod/DELETE/pets/1", DENY_RESOURCE),
            )
        },
        Case {
            forwarded_for: Some("192.0.2.1"),
            ..case(
                "example_5_non_matching_ip_allow_is_neither_not_a_deny",
                Some(&alice),
                "ex05",
                Expect::Ok(r#"{"case":"ex05"}"#),
            )
        },
        Case {
            forwarded_for: Some("192.0.2.1"),
            ..case(
                "example_6_not_ip_address_deny_is_r19",
                Some(&alice),
                "ex06",
                denied(&alice_arn, "ex06/prod/GET/", DENY_RESOURCE),
            )
        },
        Case {
            forwarded_for: Some("10.0.0.7"),
            ..case(
                "example_6_inside_the_network_the_deny_does_not_apply",
                Some(&alice),
                "ex06",
                Expect::Ok(r#"{"case":"ex06"}"#),
            )
        },
        case(
            "example_9_account_principal_without_identity_allow_is_identity_based_deny",
            Some(&v),
            "ex09",
            denied(&v_arn, "ex09/prod/GET/", NO_IDENTITY),
        ),
        case(
            "example_10_cross_account_role_session_named_by_role_arn_is_allowed",
            Some(&r_session),
            "ex10",
            Expect::Ok(r#"{"case":"ex10"}"#),
        ),
        case(
            "example_11_cross_account_user_on_an_http_api_is_forbidden",
            Some(&u),
            "ex11http",
            Expect::Exact {
                status: 403,
                error_type: None,
                body: r#"{"message":"Forbidden"}"#,
            },
        ),
        case(
            "example_12_assumed_role_in_the_api_account_is_allowed_on_rest",
            Some(&invoker),
            "ex12",
            Expect::Ok(r#"{"case":"ex12"}"#),
        ),
        case(
            "example_12_assumed_role_in_the_api_account_is_allowed_on_http",
            Some(&invoker),
            "ex12http",
            Expect::Ok(r#"{"case":"ex12http"}"#),
        ),
        case(
            "example_13_anonymous_on_none_with_star_allow_is_allowed",
            None,
            "ex13",
            Expect::Ok(r#"{"case":"ex13"}"#),
        ),
        case(
            "example_14_anonymous_on_none_with_account_principal_is_r22",
            None,
            "ex14",
            denied("anonymous", "ex14/prod/GET/", NO_RESOURCE),
        ),
        // AWS principals never match a NONE method, even for a signed caller.
        case(
            "example_14_signed_caller_on_none_is_still_anonymous",
            Some(&v),
            "ex14",
            denied("anonymous", "ex14/prod/GET/", NO_RESOURCE),
        ),
        case(
            "example_15_unsigned_request_to_aws_iam_method_is_r1",
            None,
            "ex15",
            Expect::Exact {
                status: 403,
                error_type: Some("MissingAuthenticationTokenException"),
                body: r#"{"message":"Missing Authentication Token"}"#,
            },
        ),
        case(
            "example_16_role_boundary_silent_on_invoke_is_a_boundary_deny",
            Some(&bounded),
            "ex16",
            denied(
                &format!("arn:aws:sts::{A}:assumed-role/Bounded/sess16"),
                "ex16/prod/GET/",
                NO_BOUNDARY,
            ),
        ),
        // The extended matrix: same account, identity
        // side silent unless stated.
        case(
            "extended_row_1_session_arn_named_allows_despite_a_silent_boundary",
            Some(&bounded),
            "xm1",
            Expect::Ok(r#"{"case":"xm1"}"#),
        ),
        case(
            "extended_row_2_role_arn_named_with_an_allowing_boundary_allows",
            Some(&silent),
            "xm2",
            Expect::Ok(r#"{"case":"xm2"}"#),
        ),
        case(
            "extended_row_3_role_arn_named_with_a_silent_boundary_is_a_boundary_deny",
            Some(&silent_bounded),
            "xm3",
            denied(
                &format!("arn:aws:sts::{A}:assumed-role/SilentBounded/xm3"),
                "xm3/prod/GET/",
                NO_BOUNDARY,
            ),
        ),
        case(
            "extended_row_4_role_arn_named_with_a_silent_session_policy_is_a_session_deny",
            Some(&plain_with_session_policy),
            "xm4",
            denied(
                &format!("arn:aws:sts::{A}:assumed-role/Plain/xm4"),
                "xm4/prod/GET/",
                NO_SESSION,
            ),
        ),
        case(
            "extended_row_5_account_principal_without_identity_allow_is_an_identity_deny",
            Some(&bob),
            "xm5",
            denied(&bob_arn, "xm5/prod/GET/", NO_IDENTITY),
        ),
        case(
            "extended_row_6_account_principal_with_identity_allow_allows",
            Some(&alice),
            "xm5",
            Expect::Ok(r#"{"case":"xm5"}"#),
        ),
        case(
            "extended_row_7_star_allows_a_session_whose_boundary_is_silent",
            Some(&bounded),
            "xm7",
            Expect::Ok(r#"{"case":"xm7"}"#),
        ),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|case| run(&server, case)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from AWS:\n  {}\n--- server log ---\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n  "),
        server.logs()
    );
    // Every case was answered by the data plane and logged.
    let access_lines = server
        .logs()
        .lines()
        .filter(|line| line.contains("iamgate::access"))
        .count();
    assert_eq!(access_lines, cases.len());
}
