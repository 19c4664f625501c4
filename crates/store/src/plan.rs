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

use std::collections::HashMap;

use serde_json::Value;

use crate::StoreError;
use crate::model::{ChangeOp, Expect, WriteBatch, WriteOp};

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

/// Every address the batch touches, each once, in first-touch order.
pub(crate) fn addresses(batch: &WriteBatch) -> Vec<Address<'_>> {
    let mut seen = HashMap::new();
    let mut addresses = Vec::new();
    for op in batch.ops() {
        let target = op.target();
        if seen.insert(target, ()).is_none() {
            addresses.push(target);
        }
    }
    addresses
}

/// Checks the batch's expectations in order against `found` (the
/// committed version of each address that exists) as the batch's own ops
/// change it, and says what to write. `seq` is the batch's sequence
/// number, the version of everything it puts.
pub(crate) fn plan<'a>(
    batch: &'a WriteBatch,
    seq: i64,
    found: &HashMap<(String, String, String), i64>,
) -> Result<Plan<'a>, StoreError> {
    let mut state: HashMap<Address<'a>, Option<i64>> = HashMap::new();
    let mut changes = Vec::new();
    for (index, op) in batch.ops().iter().enumerate() {
        let target = op.target();
        let (kind, scope, key) = target;
        let current = *state.entry(target).or_insert_with(|| {
            found
                .get(&(kind.to_owned(), scope.to_owned(), key.to_owned()))
                .copied()
        });
        let expected: Expect = op.expect();
        if !expected.admits(current) {
            return Err(StoreError::ExpectationFailed {
                index,
                expected,
                found: current,
            });
        }
        match op {
            WriteOp::Put { .. } => {
                state.insert(target, Some(seq));
                changes.push((index, target, ChangeOp::Put));
            }
            WriteOp::Delete { .. } if current.is_some() => {
                state.insert(target, None);
                changes.push((index, target, ChangeOp::Delete));
            }
            WriteOp::Delete { .. } => {}
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for (target, state) in batch.outcome() {
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
