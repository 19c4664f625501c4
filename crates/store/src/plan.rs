//! Planning a write batch against what the store holds, the same way on
//! every backend.
//!
//! Why plan first: a batch is checked op by op, each expectation against
//! the committed state as the batch's earlier ops left it, but what it
//! writes is only each touched entity's final state. Reading every
//! version the batch needs up front and writing the final states in a few
//! multi-row statements makes a batch of 200,000 entities (a large world
//! file applied at start) a few hundred statements instead of 600,000,
//! while a one-entity batch stays three.

use serde_json::Value;

use crate::StoreError;
use crate::model::{AddressMap, ChangeOp, Expect, WriteBatch, WriteOp};

pub(crate) use crate::model::Address;

/// How many rows one multi-row statement carries: well under both
/// backends' limits on bound parameters (5 per row at most).
pub(crate) const ROWS_PER_STATEMENT: usize = 1_000;

/// What a batch writes, once every expectation has held.
pub(crate) struct Plan<'a> {
    /// Entities the batch leaves present, with their final bodies.
    pub upserts: Vec<(Address<'a>, &'a Value)>,
    /// Entities the batch leaves absent (deleting one that is absent
    /// already does nothing).
    pub deletes: Vec<Address<'a>>,
    /// Change-log rows: op index, address, what happened.
    pub changes: Vec<(usize, Address<'a>, ChangeOp)>,
}

/// What a batch leaves of each entity it touches, in first-touch order,
/// and where each address is in that list.
pub(crate) struct Outcome<'a> {
    outcome: Vec<(Address<'a>, Option<&'a Value>)>,
    position: AddressMap<'a>,
}

impl<'a> Outcome<'a> {
    pub(crate) fn of(batch: &'a WriteBatch) -> Self {
        let (outcome, position) = batch.indexed_outcome();
        Outcome { outcome, position }
    }

    /// Every address the batch touches, each once, in first-touch order.
    pub(crate) fn addresses(&self) -> Vec<Address<'a>> {
        self.outcome.iter().map(|(address, _)| *address).collect()
    }
}

/// Checks the batch's expectations in order against `found` (the
/// committed version of each touched entity that exists) as the batch's
/// own ops change it, and says what to write. `seq` is the batch's
/// sequence number, the version of everything it puts.
pub(crate) fn plan<'a>(
    batch: &'a WriteBatch,
    touched: Outcome<'a>,
    seq: i64,
    found: &[(String, String, String, i64)],
) -> Result<Plan<'a>, StoreError> {
    let mut current: Vec<Option<i64>> = vec![None; touched.outcome.len()];
    for (kind, scope, key, version) in found {
        if let Some(&at) = touched
            .position
            .get(&(kind.as_str(), scope.as_str(), key.as_str()))
            && let Some(slot) = current.get_mut(at)
        {
            *slot = Some(*version);
        }
    }
    let mut changes = Vec::new();
    for (index, op) in batch.ops().iter().enumerate() {
        let target = op.target();
        let Some(state) = touched
            .position
            .get(&target)
            .and_then(|&at| current.get_mut(at))
        else {
            continue;
        };
        let expected: Expect = op.expect();
        if !expected.admits(*state) {
            return Err(StoreError::ExpectationFailed {
                index,
                expected,
                found: *state,
            });
        }
        match op {
            WriteOp::Put { .. } => {
                *state = Some(seq);
                changes.push((index, target, ChangeOp::Put));
            }
            WriteOp::Delete { .. } if state.is_some() => {
                *state = None;
                changes.push((index, target, ChangeOp::Delete));
            }
            WriteOp::Delete { .. } => {}
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for (target, state) in touched.outcome {
        match state {
            Some(body) => upserts.push((target, body)),
            None => deletes.push(target),
        }
    }
    Ok(Plan {
        upserts,
        deletes,
        changes,
    })
}
