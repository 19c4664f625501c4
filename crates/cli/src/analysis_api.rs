//! `GET /_iamgate/analysis/{who-can,what-can,plan}?…`: the access
//! analysis of `iamgate-analysis` on the server's current snapshot, for
//! `iamgate who-can|what-can|plan --endpoint-url`.
//!
//! Why here: the analysis reads both the IAM world and the APIs (the
//! gateway's model), and the control planes must not depend on the
//! gateway; the binary wires both. Signature checking is the control
//! planes' (`ControlPlanes::verify_iam_caller`, service `iam`).
//!
//! The answer is the JSON `--json` prints offline (the same types, one
//! serializer), cut to what the caller's account may see
//! ([`iamgate_analysis::visibility`]). Access rule: `who-can` only on a
//! resource of the caller's account; `what-can` and `plan` only for a
//! principal of the caller's account (`plan`'s resource may be another
//! account's, as the call it plans is). Anything else gets one
//! `AccessDeniedException`, whatever exists, so nobody learns what other
//! accounts hold. The analysis runs off the async workers, at most
//! `--max-analyses` at once ([`AnalysisGate`]): an analysis over a large
//! world takes a processor for a good part of a second, and requests
//! beyond the limit are answered at once as IAM answers a caller it
//! throttles (`400`, `Throttling`, `Rate exceeded`) rather than queued
//! behind each other, so a burst of questions can neither pile up work
//! nor starve the gateway of processors.

use std::collections::BTreeMap;
use std::sync::Arc;

use iamgate_analysis::visibility::{self, account_of};
use iamgate_analysis::{Analysis, Target};
use iamgate_apimodel::config::ApiRegistry;
use iamgate_control::decisions_api::json_error;
use iamgate_control::{ControlPlanes, Request, Response};
use iamgate_iam::World;
use iamgate_snapshot::Snapshot;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::analysis_tools::{TargetArgs, target};

/// The path prefix of the endpoints.
pub const ANALYSIS_PATH: &str = "/_iamgate/analysis/";

const PARAMETERS: [&str; 6] = ["action", "resource", "api", "stage", "route", "principal"];

/// How many analyses may run at once.
pub struct AnalysisGate {
    slots: Arc<Semaphore>,
}

impl AnalysisGate {
    pub fn new(limit: usize) -> Self {
        AnalysisGate {
            slots: Arc::new(Semaphore::new(limit)),
        }
    }

    /// A slot, held until dropped, or IAM's throttling answer when none
    /// is free.
    fn enter(&self) -> Result<OwnedSemaphorePermit, Response> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| json_error(400, "Throttling", "Rate exceeded"))
    }
}

/// Answers `GET /_iamgate/analysis/{question}`.
pub async fn answer(
    planes: &ControlPlanes,
    gate: &AnalysisGate,
    snapshot: Arc<Snapshot>,
    request: &Request,
    question: &str,
) -> Response {
    let caller = match planes.verify_iam_caller(request) {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let asker = Asker {
        arn: caller.arn(),
        account: caller.account().to_owned(),
    };
    let params = match parameters(request.query()) {
        Ok(params) => params,
        Err(message) => return json_error(400, "ValidationException", &message),
    };
    // Taken before the work is handed off and released when it ends,
    // even if the client has gone by then.
    let slot = match gate.enter() {
        Ok(slot) => slot,
        Err(throttled) => return throttled,
    };
    let question = question.to_owned();
    let work = move || {
        let _slot = slot;
        let (world, apis) = (&*snapshot.iam, &*snapshot.apis);
        match question.as_str() {
            "who-can" => who_can(world, apis, &asker, &params),
            "what-can" => what_can(world, apis, &asker, &params),
            "plan" => plan(world, apis, &asker, &params),
            _ => json_error(
                404,
                "UnknownOperationException",
                "Unknown analysis: ask who-can, what-can or plan.",
            ),
        }
    };
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| json_error(500, "InternalFailure", "The analysis failed."))
}

struct Asker {
    arn: String,
    account: String,
}

impl Asker {
    /// The one refusal, whatever exists.
    fn refused(&self, operation: &str, asked: &str) -> Response {
        json_error(
            403,
            "AccessDeniedException",
            &format!(
                "User: {} is not authorized to perform: iamgate:{operation} on resource: {asked} \
                 because the analysis answers only about resources and principals of the \
                 caller's own account",
                self.arn
            ),
        )
    }
}

/// The query's parameters: each known name at most once.
fn parameters(query: &str) -> Result<BTreeMap<String, String>, String> {
    let pairs =
        iamgate_wire::form::decode_form(query.as_bytes()).map_err(|error| error.message.clone())?;
    let mut out = BTreeMap::new();
    for (name, value) in pairs {
        if !PARAMETERS.contains(&name.as_str()) {
            return Err(format!(
                "Unknown parameter {name:?}: expected {}.",
                PARAMETERS.join(", ")
            ));
        }
        if out.insert(name.clone(), value).is_some() {
            return Err(format!("Parameter {name:?} is given more than once."));
        }
    }
    Ok(out)
}

fn ok<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => Response::new(200, "application/json", text),
        Err(_) => json_error(500, "InternalFailure", "The answer could not be written."),
    }
}

/// What the target parameters name, for a refusal's message.
fn asked_target(params: &BTreeMap<String, String>) -> String {
    let get = |name: &str| params.get(name).map_or("", String::as_str);
    match params.get("resource") {
        Some(resource) => resource.clone(),
        None => format!("{}/{}/{}", get("api"), get("stage"), get("route")),
    }
}

/// The target the parameters name. Its errors are shown only for an API
/// of the asker's account: for any other, the refusal.
fn resolve(
    world: &World,
    apis: &ApiRegistry,
    asker: &Asker,
    operation: &str,
    params: &BTreeMap<String, String>,
) -> Result<Target, Response> {
    let args = TargetArgs {
        action: params.get("action").cloned(),
        resource: params.get("resource").cloned(),
        api: params.get("api").cloned(),
        stage: params.get("stage").cloned(),
        route: params.get("route").cloned(),
    };
    target(&args, world, apis).map_err(|message| {
        let owner = args.api.as_deref().and_then(|id| {
            apis.rest
                .get(id)
                .map(|api| api.account.as_str())
                .or_else(|| apis.http.get(id).map(|api| api.account.as_str()))
        });
        if args.api.is_none() || owner == Some(asker.account.as_str()) {
            json_error(400, "ValidationException", &message)
        } else {
            asker.refused(operation, &asked_target(params))
        }
    })
}

fn who_can(
    world: &World,
    apis: &ApiRegistry,
    asker: &Asker,
    params: &BTreeMap<String, String>,
) -> Response {
    if params.contains_key("principal") {
        return json_error(400, "ValidationException", "who-can takes no principal.");
    }
    let target = match resolve(world, apis, asker, "WhoCan", params) {
        Ok(target) => target,
        Err(response) => return response,
    };
    if target.account != asker.account {
        return asker.refused("WhoCan", &asked_target(params));
    }
    let found = Analysis::new(world, apis).who_can(&target);
    ok(&visibility::accesses(found, &asker.account))
}

/// The `principal` parameter, if it is of the asker's account.
fn own_principal<'p>(
    asker: &Asker,
    operation: &str,
    params: &'p BTreeMap<String, String>,
) -> Result<&'p str, Response> {
    let principal = params
        .get("principal")
        .ok_or_else(|| json_error(400, "ValidationException", "Name the principal."))?;
    if account_of(principal) != asker.account {
        return Err(asker.refused(operation, principal));
    }
    Ok(principal)
}

fn what_can(
    world: &World,
    apis: &ApiRegistry,
    asker: &Asker,
    params: &BTreeMap<String, String>,
) -> Response {
    if params.len() != 1 {
        return json_error(
            400,
            "ValidationException",
            "what-can takes a principal only.",
        );
    }
    let principal = match own_principal(asker, "WhatCan", params) {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    match Analysis::new(world, apis).what_can(principal) {
        Ok(routes) => ok(&visibility::routes(routes, &asker.account)),
        Err(error) => json_error(400, "ValidationException", &error.to_string()),
    }
}

fn plan(
    world: &World,
    apis: &ApiRegistry,
    asker: &Asker,
    params: &BTreeMap<String, String>,
) -> Response {
    let principal = match own_principal(asker, "Plan", params) {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    let target = match resolve(world, apis, asker, "Plan", params) {
        Ok(target) => target,
        Err(response) => return response,
    };
    match Analysis::new(world, apis).plan(principal, &target) {
        Ok(plan) => ok(&visibility::plan(
            plan,
            &asker.account,
            account_of(principal),
            &target.account,
        )),
        Err(error) => json_error(400, "ValidationException", &error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn analyses_beyond_the_limit_are_throttled_as_iam_throttles() {
        let gate = AnalysisGate::new(2);
        let first = gate.enter().unwrap();
        let _second = gate.enter().unwrap();
        let Err(throttled) = gate.enter() else {
            panic!("a third analysis was let in");
        };
        assert_eq!(throttled.status, 400);
        assert_eq!(throttled.header("x-amzn-ErrorType"), Some("Throttling"));
        let body: serde_json::Value = serde_json::from_slice(&throttled.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "__type": "Throttling", "message": "Rate exceeded" })
        );
        drop(first);
        assert!(gate.enter().is_ok(), "a finished analysis frees its slot");
    }
}
