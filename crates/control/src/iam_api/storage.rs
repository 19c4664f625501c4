//! Reading IAM records with their versions, and committing one request's
//! writes as one conditional batch.
//!
//! IAM operations read from the store, not from the world snapshot: a
//! read-modify-write must know the version it read, so that the batch can
//! require it (`Expect::Version`) and a concurrent writer cannot be
//! overwritten. A record that refers to another (a user to its groups and
//! policies, an access key to its user) is written together with a
//! re-put of the referenced record at the version read — a "touch" — so
//! that deleting the referenced record concurrently makes one of the two
//! batches fail instead of leaving a dangling reference.
//!
//! A batch that fails on a version is planned again from fresh reads (the
//! checks then see the other writer's result), by the control plane's one
//! write loop ([`crate::write`]); a batch that fails on `Expect::Absent`
//! means the name was taken meanwhile.

use std::future::Future;

use iamgate_iam::Record;
use iamgate_store::{Expect, StoreError, WriteBatch};
use iamgate_wire::AwsError;

use crate::query::Operation;
use crate::write::{Planned, Written};

/// A record as read, with the version a write must expect.
#[derive(Debug, Clone)]
pub(super) struct Stored<R> {
    pub record: R,
    pub version: i64,
}

fn unreadable() -> AwsError {
    AwsError::service_failure("An internal error occurred while reading IAM data.")
}

pub(super) fn store_failure(error: &StoreError) -> AwsError {
    tracing::error!(%error, "IAM store operation failed");
    AwsError::service_failure("An internal error occurred while processing the request.")
}

/// The record of type `R` at `key` in `scope`.
pub(super) async fn get<R: Record>(
    op: &Operation<'_>,
    scope: &str,
    key: &str,
) -> Result<Option<Stored<R>>, AwsError> {
    let entity = op
        .plane
        .store
        .get(R::KIND, scope, key)
        .await
        .map_err(|e| store_failure(&e))?;
    entity
        .map(|entity| {
            let record = serde_json::from_value::<R>(entity.body).map_err(|_| unreadable())?;
            Ok(Stored {
                record,
                version: entity.version,
            })
        })
        .transpose()
}

/// Every record of type `R` in `scope`, ordered by key.
pub(super) async fn list<R: Record>(
    op: &Operation<'_>,
    scope: &str,
) -> Result<Vec<Stored<R>>, AwsError> {
    let entities = op
        .plane
        .store
        .list(R::KIND, scope)
        .await
        .map_err(|e| store_failure(&e))?;
    Ok(readable(entities))
}

/// Every readable record of type `R` in `scope` that belongs to `user`
/// (its `user` member; `None`: the account root's), through the store's
/// index, not by reading the whole scope.
pub(super) async fn list_of_user<R: Record>(
    op: &Operation<'_>,
    scope: &str,
    user: Option<&str>,
) -> Result<Vec<Stored<R>>, AwsError> {
    let entities = op
        .plane
        .store
        .list_of_user(R::KIND, scope, user)
        .await
        .map_err(|e| store_failure(&e))?;
    Ok(readable(entities))
}

/// The records among `entities` that read as `R`; the others are logged
/// and skipped.
fn readable<R: Record>(entities: Vec<iamgate_store::Entity>) -> Vec<Stored<R>> {
    let mut records = Vec::with_capacity(entities.len());
    for entity in entities {
        match serde_json::from_value::<R>(entity.body) {
            Ok(record) => records.push(Stored {
                record,
                version: entity.version,
            }),
            Err(error) => {
                tracing::warn!(kind = R::KIND, key = %entity.key, %error, "unreadable record skipped");
            }
        }
    }
    records
}

/// Appends a put of `record` at its own address.
pub(super) fn put<R: Record>(
    batch: WriteBatch,
    record: &R,
    expect: Expect,
) -> Result<WriteBatch, AwsError> {
    let body = serde_json::to_value(record).map_err(|_| unreadable())?;
    Ok(batch.put(R::KIND, record.scope(), record.key(), body, expect))
}

/// Appends a re-put of a record at the version read: the batch then fails
/// if anyone changed or deleted it meanwhile.
pub(super) fn touch<R: Record>(
    batch: WriteBatch,
    stored: &Stored<R>,
) -> Result<WriteBatch, AwsError> {
    put(batch, &stored.record, Expect::Version(stored.version))
}

/// Appends the delete of a record at the version read.
pub(super) fn delete<R: Record>(batch: WriteBatch, stored: &Stored<R>) -> WriteBatch {
    batch.delete(
        R::KIND,
        stored.record.scope(),
        stored.record.key(),
        Expect::Version(stored.version),
    )
}

/// What one attempt of a write operation decided.
pub(super) enum Plan<T> {
    /// Apply `batch`; answer `taken` if one of its `Absent` expectations fails.
    Write {
        batch: WriteBatch,
        taken: Option<AwsError>,
        value: T,
    },
    /// Nothing to write (the request changes nothing).
    Unchanged(T),
}

impl<T> Plan<T> {
    pub(super) fn write(batch: WriteBatch, value: T) -> Self {
        Plan::Write {
            batch,
            taken: None,
            value,
        }
    }

    pub(super) fn create(batch: WriteBatch, taken: AwsError, value: T) -> Self {
        Plan::Write {
            batch,
            taken: Some(taken),
            value,
        }
    }
}

/// Plans with `attempt` and applies the batch in one transaction; a batch
/// that lost a race is planned again from fresh reads ([`crate::write`]).
/// After a write the snapshot is reloaded, so the caller's next request
/// sees it.
pub(super) async fn commit<T, F, Fut>(op: &Operation<'_>, mut attempt: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Plan<T>, AwsError>>,
{
    let written = op
        .plane
        .write(|| {
            let planned = attempt();
            async move {
                Ok::<_, AwsError>(match planned.await? {
                    Plan::Unchanged(value) => Planned::Unchanged((value, None, false)),
                    Plan::Write {
                        batch,
                        taken,
                        value,
                    } => Planned::Write(batch, (value, taken, true)),
                })
            }
        })
        .await?;
    match written {
        Written::Done((value, _, wrote)) => {
            if wrote && let Err(error) = op.plane.reload().await {
                tracing::error!(%error, "reload after an IAM write failed");
            }
            Ok(value)
        }
        Written::Taken((_, taken, _)) => {
            Err(taken
                .unwrap_or_else(|| AwsError::entity_already_exists("The entity already exists.")))
        }
        Written::Failed(error) => Err(store_failure(&error)),
        Written::Contended => Err(AwsError::new(
            "ConcurrentModification",
            409,
            "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.",
        )),
    }
}
