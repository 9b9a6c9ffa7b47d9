use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A single-item write's condition did not hold; nothing was written.
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction was not applied because the conditions of these ops
    /// (indexes into the op list) did not hold.
    #[error("transaction canceled: conditions failed at ops {failed:?}")]
    TransactionCanceled { failed: Vec<usize> },
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

impl StoreError {
    /// Whether repeating the same call may succeed.
    pub fn is_retryable(&self) -> bool {
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
}
