//! Committing a control-plane write: plan from fresh reads, apply as one
//! conditional batch, and plan again when the batch lost a race. Both
//! control planes write through [`ControlPlane::write`] (IAM through
//! `iam_api::storage::commit`, API Gateway through `apigateway::call`), so
//! they retry the same way.
//!
//! # Why writes retry inside the server
//!
//! Every write is optimistic: it reads records with their versions, decides
//! (validation, quotas, authorization) and applies a batch that expects
//! those versions. When another writer got there first the batch fails as a
//! whole, nothing is written, and the decision may be stale — so the whole
//! plan runs again on fresh reads, never the old batch. AWS rarely answers
//! `ConcurrentModification`; a client should not see one because two
//! requests touched one user at the same moment (issue 17: 81 of 240
//! concurrent attach/detach calls did).
//!
//! Two measures keep that rare:
//!
//! * **Turns on one node.** Writers on this node plan and apply one at a
//!   time ([`ControlPlane::write_turn`]), so they never race each other;
//!   the store's own writes are serialized anyway (SQLite has one writer),
//!   and control-plane writes are few.
//! * **Bounded retries across nodes.** Another node's writer can still win;
//!   the loser waits a short random pause (so the two do not collide again
//!   in step) and plans again, up to [`ATTEMPTS`] times, before answering
//!   that the object is contended.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use iamgate_store::{Expect, StoreError, WriteBatch};

use crate::plane::ControlPlane;

/// How many times a write is planned before it is reported as contended.
pub(crate) const ATTEMPTS: u32 = 6;
/// The longest pause after the first lost race; it doubles on each loss
/// (at most 2, 4, 8, 16 and 32 ms: about 60 ms in all).
const FIRST_PAUSE_MICROS: u64 = 2_000;

/// What one attempt decided: a batch to apply, or nothing to write, with
/// the value the write answers.
pub(crate) enum Planned<T> {
    Write(WriteBatch, T),
    Unchanged(T),
}

/// How a write ended.
pub(crate) enum Written<T> {
    /// Applied, or nothing to apply: the value of the attempt that did.
    Done(T),
    /// An `Expect::Absent` failed — the name was taken meanwhile; the value
    /// of that attempt (retrying would only find the name taken).
    Taken(T),
    /// Every attempt lost a race.
    Contended,
    /// The store failed.
    Failed(StoreError),
}

impl ControlPlane {
    /// Runs `attempt` (read, decide, return a batch) and applies its batch
    /// in one transaction; when the batch lost a race, pauses briefly and
    /// runs `attempt` again from fresh reads. An error from `attempt` ends
    /// the write at once, with nothing written.
    pub(crate) async fn write<T, E, F, Fut>(&self, mut attempt: F) -> Result<Written<T>, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Planned<T>, E>>,
    {
        for tried in 0..ATTEMPTS {
            if tried > 0 {
                tokio::time::sleep(pause(tried)).await;
            }
            let _turn = self.write_turn.lock().await;
            let (batch, value) = match attempt().await? {
                Planned::Unchanged(value) => return Ok(Written::Done(value)),
                Planned::Write(batch, value) => (batch, value),
            };
            match self.store.apply(&batch).await {
                Ok(_) => return Ok(Written::Done(value)),
                Err(StoreError::ExpectationFailed {
                    expected: Expect::Absent,
                    ..
                }) => return Ok(Written::Taken(value)),
                Err(StoreError::ExpectationFailed { .. }) => {}
                Err(error) => return Ok(Written::Failed(error)),
            }
        }
        Ok(Written::Contended)
    }
}

/// A random pause in `[0, FIRST_PAUSE << (tried - 1))`.
fn pause(tried: u32) -> Duration {
    let ceiling = FIRST_PAUSE_MICROS << tried.saturating_sub(1).min(10);
    // `RandomState` is seeded randomly per process and differs per call:
    // enough to keep two losers from retrying in step, without a new
    // dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_micros(random % ceiling.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_below_a_doubling_ceiling_and_vary() {
        for tried in 1..ATTEMPTS {
            let ceiling = Duration::from_micros(FIRST_PAUSE_MICROS << (tried - 1));
            let pauses: Vec<Duration> = (0..64).map(|_| pause(tried)).collect();
            assert!(pauses.iter().all(|p| *p < ceiling), "{tried}: {pauses:?}");
            assert!(
                pauses.iter().any(|p| *p != pauses[0]),
                "{tried}: {pauses:?}"
            );
        }
    }
}
