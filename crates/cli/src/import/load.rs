//! `iamgate import --endpoint-url URL`: the import loaded into a running
//! server through its own control-plane APIs, as an operator with the
//! AWS CLI would, signed with the usual credential chain
//! ([`crate::credentials`]).
//!
//! Why the public APIs and no admin endpoint: the server has none that
//! loads a world (a world file is applied at start, on SIGHUP or with
//! `--watch`), and the APIs already authenticate and authorize every
//! write, so loading needs no new door into the server.
//!
//! What that implies, said before anything is sent:
//! - the import is checked whole first (the world file's own reader, as
//!   for `--output`), and a scope the APIs cannot load is refused before
//!   the first call: everything must be in the caller's own account (an
//!   account's IAM is written with its own credentials), and
//!   `organization:` has no API here;
//! - AWS's APIs mint ids: users, groups, roles and policies get new unique
//!   ids, and APIs new API ids (the mappings of imported domain names
//!   follow them; the new ids are printed);
//! - the calls are not one transaction: if the server refuses one midway
//!   (an entity that already exists, a quota), the calls before it stay
//!   applied. The failed call and every applied one are listed.

use std::collections::BTreeMap;

use iamgate_iam::WorldConfig;
use iamgate_iam::config::AccountConfig;
use iamgate_import::Imported;
use serde_json::{Value, json};

use crate::credentials::{self, Credentials};
use crate::remote::{self, Outgoing, ServerArgs};

/// One control-plane call, described for people.
struct Call {
    what: String,
    service: &'static str,
    region: String,
    method: &'static str,
    path: String,
    query: String,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Call {
    fn iam(what: String, params: &[(&str, &str)]) -> Call {
        let mut all = vec![("Version", "2010-05-08")];
        all.extend_from_slice(params);
        Call {
            what,
            service: "iam",
            region: "us-east-1".to_owned(),
            method: "POST",
            path: "/".to_owned(),
            query: String::new(),
            content_type: "application/x-www-form-urlencoded; charset=utf-8",
            body: remote::query_string(&all).into_bytes(),
        }
    }

    fn apigateway(
        what: String,
        region: &str,
        method: &'static str,
        path: String,
        body: &Value,
    ) -> Call {
        Call {
            what,
            service: "apigateway",
            region: region.to_owned(),
            method,
            path,
            query: String::new(),
            content_type: "application/json",
            body: body.to_string().into_bytes(),
        }
    }
}

/// The text of the first `<tag>` element of an XML answer.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml.get(start..)?.find(&format!("</{tag}>"))?;
    xml.get(start..end)
}

/// A path segment as sent: every byte but the unreserved ones escaped.
fn segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the import may load through the APIs of `account`: every problem
/// at once, before anything is sent.
pub(crate) fn refusals(world: &WorldConfig, imported: &Imported, account: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for other in world.accounts.iter().filter(|a| a.id != account) {
        problems.push(format!(
            "account {}: the credentials are of account {account}, and an account's IAM is written with its own (import each account's outputs with its credentials)",
            other.id
        ));
    }
    if world.organization.is_some() {
        problems.push(
            "organization: iamgate has no Organizations API to load it through; write a world file with --output instead".to_owned(),
        );
    }
    for api in imported.apis.iter().filter(|a| a.account != account) {
        problems.push(format!(
            "API {}: of account {}, not of the credentials' account {account}",
            api.id, api.account
        ));
    }
    for domain in imported.domains.iter().filter(|d| d.account != account) {
        problems.push(format!(
            "domain name {}: of account {}, not of the credentials' account {account}",
            domain.name, domain.account
        ));
    }
    problems
}

/// The IAM calls that create `account`'s entities, in dependency order:
/// policies, groups, users, roles.
fn iam_calls(account: &AccountConfig) -> Vec<Call> {
    let mut calls = Vec::new();
    for policy in &account.managed_policies {
        let mut params = vec![
            ("Action", "CreatePolicy"),
            ("PolicyName", policy.name.as_str()),
            ("Path", policy.path.as_str()),
            ("PolicyDocument", policy.document.as_str()),
        ];
        if let Some(description) = &policy.description {
            params.push(("Description", description));
        }
        calls.push(Call::iam(
            format!("iam CreatePolicy {}", policy.name),
            &params,
        ));
    }
    for group in &account.groups {
        let name = group.name.as_str();
        calls.push(Call::iam(
            format!("iam CreateGroup {name}"),
            &[
                ("Action", "CreateGroup"),
                ("GroupName", name),
                ("Path", &group.path),
            ],
        ));
        for (policy, document) in &group.policies {
            calls.push(Call::iam(
                format!("iam PutGroupPolicy {name} {policy}"),
                &[
                    ("Action", "PutGroupPolicy"),
                    ("GroupName", name),
                    ("PolicyName", policy),
                    ("PolicyDocument", document),
                ],
            ));
        }
        for arn in &group.managed_policies {
            calls.push(Call::iam(
                format!("iam AttachGroupPolicy {name} {arn}"),
                &[
                    ("Action", "AttachGroupPolicy"),
                    ("GroupName", name),
                    ("PolicyArn", arn),
                ],
            ));
        }
    }
    for user in &account.users {
        let name = user.name.as_str();
        let mut params = vec![
            ("Action", "CreateUser"),
            ("UserName", name),
            ("Path", user.path.as_str()),
        ];
        if let Some(boundary) = &user.permissions_boundary {
            params.push(("PermissionsBoundary", boundary));
        }
        let tags = tag_params(&user.tags);
        params.extend(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        calls.push(Call::iam(format!("iam CreateUser {name}"), &params));
        for (policy, document) in &user.policies {
            calls.push(Call::iam(
                format!("iam PutUserPolicy {name} {policy}"),
                &[
                    ("Action", "PutUserPolicy"),
                    ("UserName", name),
                    ("PolicyName", policy),
                    ("PolicyDocument", document),
                ],
            ));
        }
        for arn in &user.managed_policies {
            calls.push(Call::iam(
                format!("iam AttachUserPolicy {name} {arn}"),
                &[
                    ("Action", "AttachUserPolicy"),
                    ("UserName", name),
                    ("PolicyArn", arn),
                ],
            ));
        }
        for group in &user.groups {
            calls.push(Call::iam(
                format!("iam AddUserToGroup {group} {name}"),
                &[
                    ("Action", "AddUserToGroup"),
                    ("GroupName", group),
                    ("UserName", name),
                ],
            ));
        }
    }
    for role in &account.roles {
        let name = role.name.as_str();
        let duration = role.max_session_duration.to_string();
        let mut params = vec![
            ("Action", "CreateRole"),
            ("RoleName", name),
            ("Path", role.path.as_str()),
            ("AssumeRolePolicyDocument", role.trust_policy.as_str()),
            ("MaxSessionDuration", duration.as_str()),
        ];
        if let Some(description) = &role.description {
            params.push(("Description", description));
        }
        if let Some(boundary) = &role.permissions_boundary {
            params.push(("PermissionsBoundary", boundary));
        }
        let tags = tag_params(&role.tags);
        params.extend(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        calls.push(Call::iam(format!("iam CreateRole {name}"), &params));
        for (policy, document) in &role.policies {
            calls.push(Call::iam(
                format!("iam PutRolePolicy {name} {policy}"),
                &[
                    ("Action", "PutRolePolicy"),
                    ("RoleName", name),
                    ("PolicyName", policy),
                    ("PolicyDocument", document),
                ],
            ));
        }
        for arn in &role.managed_policies {
            calls.push(Call::iam(
                format!("iam AttachRolePolicy {name} {arn}"),
                &[
                    ("Action", "AttachRolePolicy"),
                    ("RoleName", name),
                    ("PolicyArn", arn),
                ],
            ));
        }
    }
    calls
}

fn tag_params(tags: &[iamgate_iam::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .enumerate()
        .flat_map(|(index, tag)| {
            let n = index + 1;
            [
                (format!("Tags.member.{n}.Key"), tag.key.clone()),
                (format!("Tags.member.{n}.Value"), tag.value.clone()),
            ]
        })
        .collect()
}

/// Sends one call; the answer's body, or the server's refusal.
async fn send(endpoint: &str, credentials: &Credentials, call: &Call) -> Result<Vec<u8>, String> {
    let request = Outgoing::to(endpoint)?
        .method(call.method)
        .path(&call.path, &call.query)
        .header("content-type", call.content_type)
        .body(call.body.clone());
    let answer = remote::send(&request, credentials, &call.region, call.service).await?;
    if (200..300).contains(&answer.status) {
        return Ok(answer.body.to_vec());
    }
    let text = String::from_utf8_lossy(&answer.body);
    let refusal = match serde_json::from_slice::<Value>(&answer.body) {
        Ok(json) => {
            let code = answer
                .header("x-amzn-ErrorType")
                .map(|c| c.split(':').next().unwrap_or(c).to_owned())
                .unwrap_or_default();
            let message = json
                .get("message")
                .or_else(|| json.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            format!("{code}: {message}")
        }
        Err(_) => format!(
            "{}: {}",
            element(&text, "Code").unwrap_or_default(),
            element(&text, "Message").unwrap_or(&text)
        ),
    };
    Err(format!("{} {refusal}", answer.status))
}

/// The document with its resource policy's ARNs of the API itself written
/// as API Gateway's `execute-api:/…` shorthand, which the server expands
/// with the API's new id: the policy keeps meaning this API.
fn own_arns_as_shorthand(document: &str, api: &iamgate_import::ImportedApi) -> String {
    let mut text = document.to_owned();
    for region in [api.region.as_str(), "*"] {
        let own = format!("arn:aws:execute-api:{region}:{}:{}/", api.account, api.id);
        text = text.replace(&own, "execute-api:/");
    }
    text
}

/// The account the credentials belong to (STS GetCallerIdentity).
async fn caller_account(
    endpoint: &str,
    credentials: &Credentials,
    region: &str,
) -> Result<String, String> {
    let call = Call {
        what: "sts GetCallerIdentity".to_owned(),
        service: "sts",
        region: region.to_owned(),
        method: "POST",
        path: "/".to_owned(),
        query: String::new(),
        content_type: "application/x-www-form-urlencoded; charset=utf-8",
        body: remote::query_string(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
            .into_bytes(),
    };
    let body = send(endpoint, credentials, &call)
        .await
        .map_err(|e| format!("{}: {e}", call.what))?;
    let text = String::from_utf8_lossy(&body);
    element(&text, "Account")
        .map(str::to_owned)
        .ok_or_else(|| "the GetCallerIdentity answer has no Account".to_owned())
}

/// Loads the checked import into the server at `endpoint`.
pub(crate) fn load(
    endpoint: &str,
    server: &ServerArgs,
    world: &WorldConfig,
    imported: &Imported,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    runtime.block_on(async {
        let credentials = credentials::resolve(server.profile.as_deref(), endpoint).await?;
        let account = caller_account(endpoint, &credentials, &server.region).await?;
        let problems = refusals(world, imported, &account);
        if !problems.is_empty() {
            return Err(format!(
                "the import cannot be loaded through the server's APIs ({} problem(s)); nothing was sent:\n{}",
                problems.len(),
                problems.join("\n")
            ));
        }
        let mut applied: Vec<String> = Vec::new();
        let fail = |call: &str, error: String, applied: &[String]| {
            let mut message = format!("{call} was refused: {error}");
            if applied.is_empty() {
                message.push_str("\nnothing was applied before it");
            } else {
                message.push_str(&format!(
                    "\nthese {} call(s) before it were applied and stay applied (the APIs are not one transaction):",
                    applied.len()
                ));
                for done in applied {
                    message.push_str(&format!("\n  {done}"));
                }
            }
            message
        };
        for config in world.accounts.iter().filter(|a| a.id == account) {
            for call in iam_calls(config) {
                send(endpoint, &credentials, &call)
                    .await
                    .map_err(|e| fail(&call.what, e, &applied))?;
                applied.push(call.what);
            }
        }
        // APIs: new ids, then their stages.
        let mut new_ids: BTreeMap<String, (String, bool)> = BTreeMap::new();
        for api in &imported.apis {
            let document = imported
                .files
                .iter()
                .find(|(file, _)| *file == api.file)
                .map(|(_, text)| own_arns_as_shorthand(text, api))
                .ok_or_else(|| format!("API {}: its document was not imported", api.id))?;
            let (call, id_member) = if api.http {
                (
                    Call::apigateway(
                        format!("apigatewayv2 ImportApi {}", api.id),
                        &api.region,
                        "PUT",
                        "/v2/apis".to_owned(),
                        &json!({ "body": document }),
                    ),
                    "apiId",
                )
            } else {
                let mut call = Call::apigateway(
                    format!("apigateway ImportRestApi {}", api.id),
                    &api.region,
                    "POST",
                    "/restapis".to_owned(),
                    &Value::Null,
                );
                call.query = "mode=import".to_owned();
                call.body = document.into_bytes();
                (call, "id")
            };
            let body = send(endpoint, &credentials, &call)
                .await
                .map_err(|e| fail(&call.what, e, &applied))?;
            let id = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get(id_member)?.as_str().map(str::to_owned))
                .ok_or_else(|| fail(&call.what, "the answer names no API id".to_owned(), &applied))?;
            applied.push(format!("{} (new id {id})", call.what));
            eprintln!("iamgate import: API {} is {id} on the server", api.id);
            for stage in &api.stages {
                let call = if api.http {
                    Call::apigateway(
                        format!("apigatewayv2 CreateStage {id} {stage}"),
                        &api.region,
                        "POST",
                        format!("/v2/apis/{id}/stages"),
                        &json!({ "stageName": stage, "autoDeploy": true }),
                    )
                } else {
                    Call::apigateway(
                        format!("apigateway CreateDeployment {id} {stage}"),
                        &api.region,
                        "POST",
                        format!("/restapis/{id}/deployments"),
                        &json!({ "stageName": stage }),
                    )
                };
                send(endpoint, &credentials, &call)
                    .await
                    .map_err(|e| fail(&call.what, e, &applied))?;
                applied.push(call.what);
            }
            new_ids.insert(api.id.clone(), (id, api.http));
        }
        for domain in &imported.domains {
            let endpoint_type = domain.endpoint.clone().unwrap_or_else(|| "REGIONAL".to_owned());
            let call = Call::apigateway(
                format!("apigateway CreateDomainName {}", domain.name),
                &domain.region,
                "POST",
                "/domainnames".to_owned(),
                &json!({ "domainName": domain.name, "endpointConfiguration": { "types": [endpoint_type] } }),
            );
            send(endpoint, &credentials, &call)
                .await
                .map_err(|e| fail(&call.what, e, &applied))?;
            applied.push(call.what);
            for (base_path, api, stage) in &domain.mappings {
                let Some((id, http)) = new_ids.get(api) else {
                    continue;
                };
                let name = segment(&domain.name);
                let call = if *http {
                    Call::apigateway(
                        format!("apigatewayv2 CreateApiMapping {} {base_path:?}", domain.name),
                        &domain.region,
                        "POST",
                        format!("/v2/domainnames/{name}/apimappings"),
                        &json!({ "apiId": id, "apiMappingKey": base_path, "stage": stage }),
                    )
                } else {
                    let input = if base_path.is_empty() {
                        json!({ "restApiId": id, "stage": stage })
                    } else {
                        json!({ "basePath": base_path, "restApiId": id, "stage": stage })
                    };
                    Call::apigateway(
                        format!("apigateway CreateBasePathMapping {} {base_path:?}", domain.name),
                        &domain.region,
                        "POST",
                        format!("/domainnames/{name}/basepathmappings"),
                        &input,
                    )
                };
                send(endpoint, &credentials, &call)
                    .await
                    .map_err(|e| fail(&call.what, e, &applied))?;
                applied.push(call.what);
            }
        }
        eprintln!(
            "iamgate import: loaded into {endpoint} (account {account}) with {} call(s)",
            applied.len()
        );
        Ok(())
    })
}
