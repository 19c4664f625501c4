#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

//! The policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) and
//! GetAccountAuthorizationDetails end to end, signed like the AWS CLI.

mod support;

use support::{Gateway, Reply, url_decode};

const A: &str = "111111111111";

const READS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
const GUARD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bucket/secret/*"}]}"#;

const WORLD: &str = r#"
accounts:
  - id: "111111111111"
    root_access_key: { id: AKIAROOTAAAAAAAAAAAA, secret: "root-secret-a" }
    groups:
      - name: listers
        policies:
          list: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket"}]}'
    users:
      - name: alice
        groups: [listers]
        policies:
          reads: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}'
          guard: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bucket/secret/*"}]}'
      - name: nobody
        access_keys: [{ id: AKIANOBODYAAAAAAAAAA, secret: "nobody-secret" }]
    roles:
      - name: reader
        trust_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
        policies:
          reads: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}'
"#;

fn alice() -> String {
    format!("arn:aws:iam::{A}:user/alice")
}

/// The text of every `<tag>` inside each `EvaluationResults` member.
fn results(reply: &Reply) -> Vec<String> {
    let list = reply
        .body
        .split("<EvaluationResults>")
        .nth(1)
        .and_then(|rest| rest.split("</EvaluationResults>").next())
        .unwrap_or_else(|| panic!("no EvaluationResults in {}", reply.body));
    list.split("<member><EvalActionName>")
        .skip(1)
        .map(|member| format!("<EvalActionName>{member}"))
        .collect()
}

fn within(text: &str, tag: &str) -> Vec<String> {
    Reply {
        status: 200,
        body: text.to_owned(),
    }
    .texts(tag)
}

/// The reply without the per-resource parts (`EvalDecisionDetails`,
/// `ResourceSpecificResults`), which repeat the top-level result for a
/// single resource; `each_named_resource_gets_its_own_result_details`
/// checks them.
fn top_level(reply: Reply) -> Reply {
    let mut body = String::new();
    let mut rest = reply.body.as_str();
    while let Some(start) = rest.find("<EvalDecisionDetails/>") {
        body.push_str(&rest[..start]);
        let end = rest
            .find("</ResourceSpecificResults>")
            .unwrap_or_else(|| panic!("no ResourceSpecificResults in {}", reply.body));
        rest = &rest[end + "</ResourceSpecificResults>".len()..];
    }
    body.push_str(rest);
    Reply {
        status: reply.status,
        body,
    }
}

async fn simulate_alice(gw: &Gateway, action: &str, resource: &str) -> Reply {
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let reply = root
        .iam(
            "SimulatePrincipalPolicy",
            &[
                ("PolicySourceArn", &alice()),
                ("ActionNames.member.1", action),
                ("ResourceArns.member.1", resource),
            ],
        )
        .await;
    reply.ok();
    top_level(reply)
}

#[tokio::test]
async fn a_user_policy_allows_and_the_statement_is_located() {
    let gw = Gateway::start(WORLD).await;
    let reply = simulate_alice(&gw, "s3:GetObject", "arn:aws:s3:::bucket/a.txt").await;
    assert!(
        reply
            .body
            .contains("<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><SimulatePrincipalPolicyResult><EvaluationResults><member>"),
        "{}",
        reply.body
    );
    let results = results(&reply);
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(within(result, "EvalActionName"), ["s3:GetObject"]);
    assert_eq!(
        within(result, "EvalResourceName"),
        ["arn:aws:s3:::bucket/a.txt"]
    );
    assert_eq!(within(result, "EvalDecision"), ["allowed"]);
    assert_eq!(within(result, "SourcePolicyId"), ["reads"]);
    assert_eq!(within(result, "SourcePolicyType"), ["IAM Policy"]);
    let start = READS.find("[{").unwrap() + 2;
    let end = READS.rfind("}]").unwrap() + 1;
    assert_eq!(
        within(result, "Column"),
        [start.to_string(), end.to_string()]
    );
    assert_eq!(within(result, "Line"), ["1", "1"]);
    assert!(result.contains("<MissingContextValues/>"), "{result}");
    assert_eq!(reply.get("IsTruncated"), "false");

    // The group's policy counts too.
    let reply = simulate_alice(&gw, "s3:ListBucket", "arn:aws:s3:::bucket").await;
    assert_eq!(reply.get("EvalDecision"), "allowed");
    assert_eq!(reply.texts("SourcePolicyId"), ["list"]);
    assert_eq!(reply.texts("SourcePolicyType"), ["IAM Policy"]);
}

#[tokio::test]
async fn an_action_nothing_allows_is_implicitly_denied() {
    let gw = Gateway::start(WORLD).await;
    let reply = simulate_alice(&gw, "s3:PutObject", "arn:aws:s3:::bucket/a.txt").await;
    assert_eq!(reply.get("EvalDecision"), "implicitDeny");
    assert!(
        reply.body.contains("<MatchedStatements/>"),
        "{}",
        reply.body
    );
    assert!(reply.texts("SourcePolicyId").is_empty());
}

#[tokio::test]
async fn an_explicit_deny_lists_only_the_deny_statement() {
    let gw = Gateway::start(WORLD).await;
    let reply = simulate_alice(&gw, "s3:GetObject", "arn:aws:s3:::bucket/secret/k").await;
    assert_eq!(reply.get("EvalDecision"), "explicitDeny");
    assert_eq!(reply.texts("SourcePolicyId"), ["guard"]);
    assert_eq!(reply.texts("SourcePolicyType"), ["IAM Policy"]);
    let start = GUARD.find("[{").unwrap() + 2;
    assert_eq!(reply.texts("Column")[0], start.to_string());
}

#[tokio::test]
async fn several_actions_and_resources_default_and_policy_inputs() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let extra = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
    let reply = root
        .iam(
            "SimulatePrincipalPolicy",
            &[
                ("PolicySourceArn", &format!("arn:aws:iam::{A}:role/reader")),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ActionNames.member.2", "s3:PutObject"),
                ("PolicyInputList.member.1", extra),
            ],
        )
        .await;
    reply.ok();
    let results = results(&reply);
    assert_eq!(results.len(), 2);
    let scoped = root
        .iam(
            "SimulatePrincipalPolicy",
            &[
                ("PolicySourceArn", &format!("arn:aws:iam::{A}:role/reader")),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ResourceArns.member.1", "arn:aws:s3:::bucket/k"),
            ],
        )
        .await;
    let scoped = top_level(scoped);
    assert_eq!(scoped.get("EvalDecision"), "allowed");
    assert_eq!(scoped.texts("SourcePolicyType"), ["IAM Policy"]);
    assert_eq!(within(&results[0], "EvalResourceName"), ["*"]);
    // The default resource `*` is matched literally: a statement scoped to
    // `bucket/*` does not apply to it.
    assert_eq!(within(&results[0], "EvalDecision"), ["implicitDeny"]);
    assert_eq!(within(&results[1], "EvalDecision"), ["allowed"]);
    assert_eq!(within(&results[1], "SourcePolicyId"), ["PolicyInputList.1"]);
    assert_eq!(within(&results[1], "SourcePolicyType"), ["IAM Policy"]);
    // For all resources (`*`) AWS returns no per-resource details.
    assert!(
        !reply.body.contains("EvalDecisionDetails"),
        "{}",
        reply.body
    );
    assert!(
        !reply.body.contains("ResourceSpecificResults"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_custom_policy_is_simulated_with_context_entries() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let base = [
        ("PolicyInputList.member.1", policy),
        ("ActionNames.member.1", "execute-api:Invoke"),
        (
            "ResourceArns.member.1",
            "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/pets",
        ),
    ];
    let mut with_ip = base.to_vec();
    with_ip.extend([
        ("ContextEntries.member.1.ContextKeyName", "aws:SourceIp"),
        (
            "ContextEntries.member.1.ContextKeyValues.member.1",
            "10.1.2.3",
        ),
        ("ContextEntries.member.1.ContextKeyType", "ip"),
    ]);
    let reply = root.iam("SimulateCustomPolicy", &with_ip).await;
    reply.ok();
    let reply = top_level(reply);
    assert!(reply.body.contains("<SimulateCustomPolicyResult>"));
    assert_eq!(reply.get("EvalDecision"), "allowed");
    assert_eq!(reply.texts("SourcePolicyId"), ["PolicyInputList.1"]);
    assert_eq!(reply.texts("SourcePolicyType"), ["IAM Policy"]);
    assert!(reply.body.contains("<MissingContextValues/>"));

    let reply = root.iam("SimulateCustomPolicy", &base).await;
    reply.ok();
    let reply = top_level(reply);
    assert_eq!(reply.get("EvalDecision"), "implicitDeny");
    assert_eq!(
        reply.texts("MissingContextValues"),
        ["<member>aws:SourceIp</member>"]
    );

    // The policy inputs are required and validated.
    root.iam("SimulateCustomPolicy", &[("ActionNames.member.1", "s3:GetObject")])
        .await
        .assert_error(
            400,
            "ValidationError",
            "1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null",
        );
    let bad = root
        .iam(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", "{nope"),
                ("ActionNames.member.1", "s3:GetObject"),
            ],
        )
        .await;
    assert_eq!(
        (bad.status, bad.get("Code")),
        (400, "InvalidInput".to_owned())
    );
}

#[tokio::test]
async fn authorization_details_list_the_user_with_its_inline_policy_encoded() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let reply = root
        .iam(
            "GetAccountAuthorizationDetails",
            &[("Filter.member.1", "User")],
        )
        .await;
    reply.ok();
    assert_eq!(reply.texts("UserName"), ["alice", "nobody"]);
    assert!(reply.body.contains("<GroupDetailList/>"), "{}", reply.body);
    assert!(reply.body.contains("<RoleDetailList/>"));
    assert!(reply.body.contains("<Policies/>"));
    assert_eq!(reply.texts("PolicyName"), ["guard", "reads"]);
    let documents = reply.texts("PolicyDocument");
    assert!(
        documents[1].starts_with("%7B%22Version%22"),
        "{}",
        documents[1]
    );
    assert_eq!(url_decode(&documents[0]), GUARD);
    assert_eq!(url_decode(&documents[1]), READS);
    assert_eq!(reply.texts("GroupList"), ["<member>listers</member>"]);

    // Everything, one item per page.
    let all = root.iam("GetAccountAuthorizationDetails", &[]).await;
    all.ok();
    assert_eq!(all.texts("GroupName"), ["listers"]);
    assert_eq!(all.texts("RoleName"), ["reader"]);
    let first = root
        .iam("GetAccountAuthorizationDetails", &[("MaxItems", "1")])
        .await;
    first.ok();
    assert_eq!(first.get("IsTruncated"), "true");
    assert_eq!(first.texts("UserName"), ["alice"]);
    let second = root
        .iam(
            "GetAccountAuthorizationDetails",
            &[("MaxItems", "1"), ("Marker", &first.get("Marker"))],
        )
        .await;
    assert_eq!(second.texts("UserName"), ["nobody"]);
}

#[tokio::test]
async fn callers_without_permission_are_denied() {
    let gw = Gateway::start(WORLD).await;
    let nobody = gw.client("AKIANOBODYAAAAAAAAAA", "nobody-secret");
    let caller = format!("arn:aws:iam::{A}:user/nobody");
    nobody
        .iam(
            "SimulatePrincipalPolicy",
            &[
                ("PolicySourceArn", &alice()),
                ("ActionNames.member.1", "s3:GetObject"),
            ],
        )
        .await
        .assert_error(
            403,
            "AccessDenied",
            &format!("User: {caller} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: {} because no identity-based policy allows the iam:SimulatePrincipalPolicy action", alice()),
        );
    nobody
        .iam(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", READS),
                ("ActionNames.member.1", "s3:GetObject"),
            ],
        )
        .await
        .assert_error(
            403,
            "AccessDenied",
            &format!("User: {caller} is not authorized to perform: iam:SimulateCustomPolicy on resource: * because no identity-based policy allows the iam:SimulateCustomPolicy action"),
        );
    nobody
        .iam("GetAccountAuthorizationDetails", &[])
        .await
        .assert_error(
            403,
            "AccessDenied",
            &format!("User: {caller} is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: * because no identity-based policy allows the iam:GetAccountAuthorizationDetails action"),
        );

    // A principal of another account or one that does not exist is not found.
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let missing = format!("arn:aws:iam::{A}:user/ghost");
    root.iam(
        "SimulatePrincipalPolicy",
        &[
            ("PolicySourceArn", &missing),
            ("ActionNames.member.1", "s3:GetObject"),
        ],
    )
    .await
    .assert_error(
        404,
        "NoSuchEntity",
        &format!("Entity {missing} does not exist."),
    );
}

#[tokio::test]
async fn each_named_resource_gets_its_own_result_details() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let resource_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/locked/*"}]}"#;
    let reply = root
        .iam(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", READS),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ResourceArns.member.1", "arn:aws:s3:::bucket/a.txt"),
                ("ResourceArns.member.2", "arn:aws:s3:::bucket/locked/b.txt"),
                ("ResourcePolicy", resource_policy),
                ("CallerArn", &alice()),
            ],
        )
        .await;
    reply.ok();
    let results = results(&reply);
    assert_eq!(results.len(), 2);
    for (result, resource, decision, source_type) in [
        (
            &results[0],
            "arn:aws:s3:::bucket/a.txt",
            "allowed",
            "IAM Policy",
        ),
        (
            &results[1],
            "arn:aws:s3:::bucket/locked/b.txt",
            "explicitDeny",
            "Resource Policy",
        ),
    ] {
        assert_eq!(within(result, "EvalResourceName"), [resource, resource]);
        assert_eq!(within(result, "EvalDecision"), [decision]);
        assert_eq!(within(result, "EvalResourceDecision"), [decision]);
        // Within one account the details are present and empty.
        assert!(result.contains("<EvalDecisionDetails/>"), "{result}");
        let specific = result
            .split("<ResourceSpecificResults><member>")
            .nth(1)
            .unwrap_or_else(|| panic!("no ResourceSpecificResults in {result}"));
        assert_eq!(within(specific, "SourcePolicyType"), [source_type]);
        assert_eq!(
            within(result, "SourcePolicyType"),
            [source_type, source_type],
            "{result}"
        );
    }
    let denied = &results[1];
    assert_eq!(
        within(denied, "SourcePolicyId"),
        ["ResourcePolicy", "ResourcePolicy"]
    );
}

#[tokio::test]
async fn a_permissions_boundary_reports_its_own_verdict_per_result() {
    let gw = Gateway::start(WORLD).await;
    let root = gw.client("AKIAROOTAAAAAAAAAAAA", "root-secret-a");
    let everything_s3 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let reply = root
        .iam(
            "SimulateCustomPolicy",
            &[
                ("PolicyInputList.member.1", everything_s3),
                ("PermissionsBoundaryPolicyInputList.member.1", READS),
                ("ActionNames.member.1", "s3:GetObject"),
                ("ActionNames.member.2", "s3:PutObject"),
                ("ResourceArns.member.1", "arn:aws:s3:::bucket/a.txt"),
            ],
        )
        .await;
    reply.ok();
    let results = results(&reply);
    assert_eq!(results.len(), 2);
    assert_eq!(within(&results[0], "EvalDecision"), ["allowed"]);
    assert_eq!(
        within(&results[0], "AllowedByPermissionsBoundary"),
        ["true", "true"],
        "top level and per resource"
    );
    assert_eq!(within(&results[1], "EvalDecision"), ["implicitDeny"]);
    assert_eq!(
        within(&results[1], "AllowedByPermissionsBoundary"),
        ["false", "false"]
    );

    // Without a boundary there is no boundary detail.
    let reply = simulate_alice(&gw, "s3:GetObject", "arn:aws:s3:::bucket/a.txt").await;
    assert!(
        !reply.body.contains("PermissionsBoundaryDecisionDetail"),
        "{}",
        reply.body
    );
}
