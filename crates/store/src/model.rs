//! What goes in and out of the store: batches of conditional writes, the
//! entities they leave behind, and the change log they append to.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::Value;

/// An entity's address: kind, scope, key.
pub type Address<'a> = (&'a str, &'a str, &'a str);

/// What a write requires of the entity it touches, checked inside the write
/// transaction against the committed state (and the batch's earlier ops).
///
/// The control plane maps a failure to AWS's answer: `Absent` failing is
/// `EntityAlreadyExists`, `Present` failing is `NoSuchEntity`, `Version`
/// failing is a lost race the caller may retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No condition.
    Any,
    /// The entity must not exist.
    Absent,
    /// The entity must exist, at any version.
    Present,
    /// The entity must exist at exactly this version.
    Version(i64),
}

impl Expect {
    /// Whether an entity found at `found` (`None`: absent) satisfies this.
    pub fn admits(self, found: Option<i64>) -> bool {
        match self {
            Expect::Any => true,
            Expect::Absent => found.is_none(),
            Expect::Present => found.is_some(),
            Expect::Version(version) => found == Some(version),
        }
    }
}

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Create or replace the entity's body.
    Put {
        kind: String,
        scope: String,
        key: String,
        body: Value,
        expect: Expect,
    },
    /// Remove the entity. Deleting an absent entity (allowed by `Any`) writes
    /// nothing and logs no change.
    Delete {
        kind: String,
        scope: String,
        key: String,
        expect: Expect,
    },
}

impl WriteOp {
    /// The `(kind, scope, key)` the op addresses.
    pub fn target(&self) -> (&str, &str, &str) {
        match self {
            WriteOp::Put {
                kind, scope, key, ..
            }
            | WriteOp::Delete {
                kind, scope, key, ..
            } => (kind, scope, key),
        }
    }

    /// The op's condition.
    pub fn expect(&self) -> Expect {
        match self {
            WriteOp::Put { expect, .. } | WriteOp::Delete { expect, .. } => *expect,
        }
    }
}

/// An ordered list of writes applied all-or-nothing in one transaction.
///
/// Ops run in order, so a later op sees the effect of an earlier one on the
/// same entity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a put (builder style).
    pub fn put(
        mut self,
        kind: impl Into<String>,
        scope: impl Into<String>,
        key: impl Into<String>,
        body: Value,
        expect: Expect,
    ) -> Self {
        self.ops.push(WriteOp::Put {
            kind: kind.into(),
            scope: scope.into(),
            key: key.into(),
            body,
            expect,
        });
        self
    }

    /// Appends a delete (builder style).
    pub fn delete(
        mut self,
        kind: impl Into<String>,
        scope: impl Into<String>,
        key: impl Into<String>,
        expect: Expect,
    ) -> Self {
        self.ops.push(WriteOp::Delete {
            kind: kind.into(),
            scope: scope.into(),
            key: key.into(),
            expect,
        });
        self
    }

    /// Appends an op.
    pub fn push(&mut self, op: WriteOp) {
        self.ops.push(op);
    }

    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// What the batch leaves of each entity it touches, each once, in the
    /// order first touched: its final body, or `None` where it leaves the
    /// entity deleted. Applied to the state the batch was written on, this
    /// is the state after it — what a backend writes, and how a node
    /// applies its own write without reading it back.
    pub fn outcome(&self) -> Vec<(Address<'_>, Option<&Value>)> {
        self.indexed_outcome().0
    }

    /// [`WriteBatch::outcome`], and where in it each address is.
    pub(crate) fn indexed_outcome(&self) -> (Vec<(Address<'_>, Option<&Value>)>, AddressMap<'_>) {
        let mut position = AddressMap::with_capacity_and_hasher(self.ops.len(), Default::default());
        let mut outcome: Vec<(Address<'_>, Option<&Value>)> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let state = match op {
                WriteOp::Put { body, .. } => Some(body),
                WriteOp::Delete { .. } => None,
            };
            match position.entry(op.target()) {
                Entry::Occupied(at) => {
                    if let Some(slot) = outcome.get_mut(*at.get()) {
                        slot.1 = state;
                    }
                }
                Entry::Vacant(at) => {
                    at.insert(outcome.len());
                    outcome.push((op.target(), state));
                }
            }
        }
        (outcome, position)
    }
}

/// Positions by address, hashed with a fast per-process-seeded hash: a
/// batch of 200,000 entities looks every address up several times.
pub(crate) type AddressMap<'a> = HashMap<Address<'a>, usize, foldhash::fast::RandomState>;

impl From<Vec<WriteOp>> for WriteBatch {
    fn from(ops: Vec<WriteOp>) -> Self {
        Self { ops }
    }
}

/// A stored entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub kind: String,
    pub scope: String,
    pub key: String,
    /// The sequence number of the batch that last wrote the entity: it grows
    /// with every write and is never reused, even after delete and re-create,
    /// so `Expect::Version` cannot be fooled by an entity's reincarnation.
    pub version: i64,
    pub body: Value,
}

/// A stored entity whose body is still the JSON text the store holds: for
/// a reader that decodes bodies straight into its own types, without the
/// generic JSON tree in between.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityText {
    pub kind: String,
    pub scope: String,
    pub key: String,
    pub version: i64,
    pub body: String,
}

/// Every entity as of one sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The last batch included; follow up with `changes_since(seq)`.
    pub seq: u64,
    /// Ordered by `(kind, scope, key)`.
    pub entities: Vec<Entity>,
}

/// What a batch did to one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Put,
    Delete,
}

impl ChangeOp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Put => "put",
            ChangeOp::Delete => "delete",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "put" => Some(ChangeOp::Put),
            "delete" => Some(ChangeOp::Delete),
            _ => None,
        }
    }
}

/// One row of the change log: entity `(kind, scope, key)` was written by batch
/// `seq`. The body is not in the log; read it with `get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: u64,
    pub kind: String,
    pub scope: String,
    pub key: String,
    pub op: ChangeOp,
}

/// The change log no longer covers everything after the requested sequence
/// number (it was trimmed, or the number is from another database); the caller
/// must reload with `load_all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The sequence number asked about.
    pub requested: u64,
    /// Change rows up to and including this sequence number may be gone.
    pub trimmed_through: u64,
    /// The newest sequence number in the store.
    pub latest: u64,
}

/// What changed after a sequence number, read in one snapshot: the state
/// each touched entity is in at [`Delta::seq`] (`None`: deleted), each
/// entity once, in the order of its last change.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// The newest batch the delta reflects.
    pub seq: u64,
    pub touched: Vec<Touched>,
}

/// One entity a [`Delta`] touched, and what it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Touched {
    pub kind: String,
    pub scope: String,
    pub key: String,
    /// The entity as it is at the delta's sequence number; `None` if it was
    /// deleted.
    pub entity: Option<Entity>,
}

/// How long the change log keeps a batch: until every live node has applied
/// it, and never longer than `max_age` (a node further behind reloads
/// everything after a [`Gap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A node that has not checked in for this many seconds is not live.
    pub liveness_secs: i64,
    /// Batches older than this many seconds are trimmed regardless.
    pub max_age_secs: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            liveness_secs: 60,
            max_age_secs: 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batchs_outcome_is_each_entitys_last_state_in_first_touch_order() {
        let body = |n: i32| serde_json::json!({ "n": n });
        let batch = WriteBatch::new()
            .put("user", "1", "a", body(1), Expect::Any)
            .put("user", "1", "b", body(2), Expect::Any)
            .delete("user", "1", "a", Expect::Any)
            .delete("user", "1", "c", Expect::Any)
            .put("user", "1", "b", body(3), Expect::Any)
            .delete("user", "1", "d", Expect::Any)
            .put("user", "1", "d", body(4), Expect::Any);
        let outcome: Vec<(Address<'_>, Option<Value>)> = batch
            .outcome()
            .into_iter()
            .map(|(address, body)| (address, body.cloned()))
            .collect();
        assert_eq!(
            outcome,
            vec![
                (("user", "1", "a"), None),
                (("user", "1", "b"), Some(body(3))),
                (("user", "1", "c"), None),
                (("user", "1", "d"), Some(body(4))),
            ]
        );
    }
}
