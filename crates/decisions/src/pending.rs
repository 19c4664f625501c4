//! A decision kept as what it was decided on, written out as a record only
//! when someone reads it.
//!
//! Why: a record names every policy considered, every statement that
//! applied and every condition key read, each as owned text — dozens of
//! small allocations on every request, and as many frees when the ring
//! pushes it out, whether or not anyone ever asks. Most records are never
//! read. So the data plane files what the evaluation already holds (the
//! request context it built, the decision, shared references to the
//! compiled policy sets) and [`Entry::render`] writes the record from them
//! on a lookup. The compiled sets a pending record refers to stay alive
//! while it is in the ring, even if the world has moved on: the record
//! explains the decision as it was taken.

use std::sync::Arc;

use iamgate_policy::{
    CompactContext, CompiledPolicies, Decision, EvaluationInput, RequestContext, ResourcePolicyKind,
};

use crate::evaluation::Filing;
use crate::record::DecisionRecord;

/// An evaluation, not yet written out.
#[derive(Debug)]
pub struct PendingRecord {
    request_id: String,
    time: i64,
    service: &'static str,
    /// Packed: a context is an allocation per key and value, and the
    /// record may stay for ten thousand requests.
    context: CompactContext,
    decision: Decision,
    identity: Vec<Arc<CompiledPolicies>>,
    resource: Option<Arc<CompiledPolicies>>,
    resource_kind: ResourcePolicyKind,
    boundary: Option<Arc<CompiledPolicies>>,
    session: Option<Arc<CompiledPolicies>>,
    scp_levels: Vec<Arc<CompiledPolicies>>,
    /// Replaces the outcome's word (`would_deny` under `--enforce soft`).
    word: Option<&'static str>,
    message: Option<String>,
    resource_account: Option<String>,
    usage: Option<crate::record::UsageRecord>,
}

/// The policies an evaluation read, as the snapshot shares them.
#[derive(Debug, Default)]
pub struct SharedPolicies {
    pub identity: Vec<Arc<CompiledPolicies>>,
    pub resource: Option<Arc<CompiledPolicies>>,
    pub resource_kind: ResourcePolicyKind,
    pub boundary: Option<Arc<CompiledPolicies>>,
    pub session: Option<Arc<CompiledPolicies>>,
    /// The caller's SCPs per organization level, root first.
    pub scp_levels: Vec<Arc<CompiledPolicies>>,
}

impl PendingRecord {
    /// Evaluates `context` against `policies`; the record is written when
    /// read.
    pub fn evaluate(
        context: RequestContext,
        policies: SharedPolicies,
        filing: Filing<'_>,
    ) -> (Decision, PendingRecord) {
        let identity: Vec<&CompiledPolicies> = policies.identity.iter().map(|p| &**p).collect();
        let scp_levels: Vec<&CompiledPolicies> = policies.scp_levels.iter().map(|p| &**p).collect();
        let decision = iamgate_policy::evaluate(&EvaluationInput {
            request: &context,
            identity: &identity,
            resource: policies.resource.as_deref(),
            resource_kind: policies.resource_kind,
            boundary: policies.boundary.as_deref(),
            session: policies.session.as_deref(),
            scp_levels: &scp_levels,
        });
        drop(identity);
        drop(scp_levels);
        let pending = PendingRecord {
            request_id: filing.request_id.to_owned(),
            time: filing.time,
            service: filing.service,
            context: context.to_compact(),
            decision: decision.clone(),
            identity: policies.identity,
            resource: policies.resource,
            resource_kind: policies.resource_kind,
            boundary: policies.boundary,
            session: policies.session,
            scp_levels: policies.scp_levels,
            word: None,
            message: None,
            resource_account: None,
            usage: None,
        };
        (decision, pending)
    }

    fn render(&self) -> DecisionRecord {
        let context = self.context.expand();
        let identity: Vec<&CompiledPolicies> = self.identity.iter().map(|p| &**p).collect();
        let scp_levels: Vec<&CompiledPolicies> = self.scp_levels.iter().map(|p| &**p).collect();
        let input = EvaluationInput {
            request: &context,
            identity: &identity,
            resource: self.resource.as_deref(),
            resource_kind: self.resource_kind,
            boundary: self.boundary.as_deref(),
            session: self.session.as_deref(),
            scp_levels: &scp_levels,
        };
        let mut record = DecisionRecord::evaluated(
            &self.request_id,
            self.time,
            self.service,
            &input,
            &self.decision,
        );
        if let Some(word) = self.word {
            word.clone_into(&mut record.decision);
        }
        if self.message.is_some() {
            record.message.clone_from(&self.message);
        }
        if self.resource_account.is_some() {
            record.resource_account.clone_from(&self.resource_account);
        }
        record.usage.clone_from(&self.usage);
        record
    }

    /// What it holds of its own (the policy sets are the snapshot's).
    fn approximate_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.request_id.len()
            + self.context.approximate_size()
            + self.decision.matched.len() * 96
            + (self.identity.len() + 3) * 8
            + self.message.as_ref().map_or(0, String::len)
    }
}

/// What the ring keeps of one decision: a record, or an evaluation to
/// write one from when it is read.
#[derive(Debug)]
pub enum Entry {
    Ready(Box<DecisionRecord>),
    Pending(Box<PendingRecord>),
}

impl From<DecisionRecord> for Entry {
    fn from(record: DecisionRecord) -> Self {
        Entry::Ready(Box::new(record))
    }
}

impl From<PendingRecord> for Entry {
    fn from(pending: PendingRecord) -> Self {
        Entry::Pending(Box::new(pending))
    }
}

impl Entry {
    pub fn request_id(&self) -> &str {
        match self {
            Entry::Ready(record) => &record.request_id,
            Entry::Pending(pending) => &pending.request_id,
        }
    }

    /// The record.
    pub fn render(&self) -> DecisionRecord {
        match self {
            Entry::Ready(record) => (**record).clone(),
            Entry::Pending(pending) => pending.render(),
        }
    }

    /// Replaces the decision's word (`would_deny`).
    pub fn set_word(&mut self, word: &'static str) {
        match self {
            Entry::Ready(record) => word.clone_into(&mut record.decision),
            Entry::Pending(pending) => pending.word = Some(word),
        }
    }

    /// Says what the API key and throttle phase decided.
    pub fn set_usage(&mut self, usage: crate::record::UsageRecord) {
        match self {
            Entry::Ready(record) => record.usage = Some(usage),
            Entry::Pending(pending) => pending.usage = Some(usage),
        }
    }

    /// Sets the message to the client unless one is set.
    pub fn set_message_unless_set(&mut self, message: impl FnOnce() -> String) {
        let slot = match self {
            Entry::Ready(record) => &mut record.message,
            Entry::Pending(pending) => &mut pending.message,
        };
        if slot.is_none() {
            *slot = Some(message());
        }
    }

    pub fn set_resource_account(&mut self, account: &str) {
        let slot = match self {
            Entry::Ready(record) => &mut record.resource_account,
            Entry::Pending(pending) => &mut pending.resource_account,
        };
        *slot = Some(account.to_owned());
    }

    /// An estimate of the memory it holds, for the ring's byte bound.
    pub fn approximate_size(&self) -> usize {
        match self {
            Entry::Ready(record) => record.approximate_size(),
            Entry::Pending(pending) => pending.approximate_size(),
        }
    }
}
