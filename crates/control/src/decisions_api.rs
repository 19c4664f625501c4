//! `GET /_iamgate/decisions/{request-id}`: a decision record, read back
//! by an account it concerns.
//!
//! The request is signed for IAM, as an IAM read would be. The record is
//! shown to the account whose resource was called and to the caller's
//! account, each through [`DecisionRecord::visible_to`]: another
//! account's policies are named by type and owner only. Any principal of
//! either account may read it (an operator's tool, like the access log).
//! A record that is unknown, evicted, or about other accounts gets one
//! and the same answer, so nobody learns that another account's request
//! exists. The ring of this node is read first; a record it does not
//! hold (another node served the request, or it was evicted here) is
//! looked for in the store when records are persisted, then asked of the
//! other nodes sharing the store ([`crate::decision_peers`]).

use std::sync::Arc;

use iamgate_decisions::{DecisionRecord, Lookup};
use iamgate_iam::Caller;
use serde_json::json;

use crate::ControlPlanes;
use crate::http::{Request, Response, verify_signature};

/// The path prefix of the endpoint.
pub const DECISIONS_PATH: &str = "/_iamgate/decisions/";

/// An error of the `/_iamgate/` endpoints: AWS's JSON error shape
/// (`__type`, `message`) and `x-amzn-ErrorType`.
pub fn json_error(status: u16, code: &str, message: &str) -> Response {
    Response::new(
        status,
        "application/json",
        json!({ "__type": code, "message": message }).to_string(),
    )
    .with_header("x-amzn-ErrorType", code)
}

impl ControlPlanes {
    /// The caller of a request signed for IAM — for the `/_iamgate/`
    /// endpoints, which answer only what the caller's account may see —
    /// or AWS's SigV4 error (missing, malformed, unknown key, bad
    /// signature, expired) as [`json_error`].
    pub fn verify_iam_caller(&self, request: &Request) -> Result<Caller, Response> {
        let plane = &self.plane;
        verify_signature(request, &self.iam, &plane.world(), plane.now())
            .map(|(caller, _)| caller)
            .map_err(|failure| json_error(failure.status(), failure.code(), failure.message()))
    }

    /// Answers `GET /_iamgate/decisions/{request_id}`.
    pub async fn read_decision(&self, request: &Request, request_id: &str) -> Response {
        let plane = &self.plane;
        let reader = match self.verify_iam_caller(request) {
            Ok(caller) => caller.account().to_owned(),
            Err(refusal) => return refusal,
        };
        let (mut found, evicted_before) = match plane.decisions().get(request_id) {
            Lookup::Found(record) => (Some(record), false),
            Lookup::Missing { evicted_before } => match plane.archive() {
                None => (None, evicted_before),
                Some(archive) => match archive.find(request_id, plane.now()).await {
                    Ok(found) => (found.map(Arc::new), false),
                    Err(error) => {
                        tracing::warn!(%error, "reading a persisted decision record failed");
                        return json_error(
                            503,
                            "ServiceUnavailable",
                            "Decision records cannot be read from the store right now; try again.",
                        );
                    }
                },
            },
        };
        if found.is_none()
            && let Some(peers) = plane.peers()
        {
            found = peers.find(request_id).await.map(Arc::new);
        }
        match found
            .as_deref()
            .and_then(|record| record.visible_to(&reader))
        {
            Some(view) => Response::new(200, "application/json", to_json(&view)),
            None => {
                let limits = plane.decisions().limits();
                let evicted = match plane.archive() {
                    Some(archive) => format!(
                        " Records are kept for {} s at most.",
                        archive.retention().max_age_secs
                    ),
                    None if evicted_before => format!(
                        " This server keeps the last {} records and has evicted older ones.",
                        limits.records
                    ),
                    None => String::new(),
                };
                json_error(
                    404,
                    "NoSuchDecisionRecord",
                    &format!(
                        "No decision record for request id {request_id} that account {reader} can read: \
                         the id is unknown, its record has expired, or the request concerned neither \
                         a resource of this account nor a caller from it.{evicted}"
                    ),
                )
            }
        }
    }
}

fn to_json(record: &DecisionRecord) -> String {
    serde_json::to_string_pretty(record).unwrap_or_default()
}
