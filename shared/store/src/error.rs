use crate::tx::FailedOp;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A single-item write's condition did not hold; nothing was written.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was not applied because the conditions of these ops
    /// did not hold (named as the ops were; see [`TxOp::named`](crate::TxOp::named)).
    #[error("transaction canceled: conditions failed at {}", list(failed))]
    TransactionCanceled { failed: Vec<FailedOp> },
    /// Concurrent transactions collided and retries ran out; safe to retry.
    #[error("contention on the same items; retry")]
    Contention,
    /// The backend is throttling; safe to retry later.
    #[error("throttled by the store")]
    Throttled,
    /// The request itself is wrong (a bug in the caller, never user input):
    /// missing keys, too many ops, an item too large, ADD on a non-number.
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The backend failed (I/O, network, corruption).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

fn list(failed: &[FailedOp]) -> String {
    failed
        .iter()
        .map(FailedOp::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl StoreError {
    /// Whether repeating the same call later may succeed: the store was
    /// busy (contention, throttling) or could not be reached. The one
    /// definition every caller uses (saga tasks raise `Checkout.Transient`
    /// for these, consumers ask for redelivery). A failed condition is not
    /// transient: repeating the same write fails the same way; an
    /// optimistic writer re-reads instead (see [`crate::optimistic`]).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Contention | StoreError::Throttled | StoreError::Unavailable(_)
        )
    }

    /// Whether the failure means "a condition did not hold" (single write or
    /// transaction).
    pub fn is_condition_failure(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed | StoreError::TransactionCanceled { .. }
        )
    }

    /// Whether a transaction was canceled because the condition of an op
    /// named `name` did not hold.
    pub fn failed_on(&self, name: &str) -> bool {
        self.failed_names().any(|n| n == name)
    }

    /// The names of the ops whose conditions canceled a transaction (none
    /// for any other error; unnamed ops are left out).
    pub fn failed_names(&self) -> impl Iterator<Item = &str> {
        let failed: &[FailedOp] = match self {
            StoreError::TransactionCanceled { failed } => failed,
            _ => &[],
        };
        failed.iter().filter_map(|f| f.name.as_deref())
    }
}
