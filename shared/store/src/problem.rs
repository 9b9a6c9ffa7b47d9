//! The one mapping of store failures to what a client sees.
//!
//! Every service's error enum delegates its store variant here, so a store
//! failure answers the same everywhere: the store is busy (throttled, or
//! contention that did not settle) → `503 unavailable` with
//! `Retry-After: 1`; anything else (unreachable backend, an invalid request,
//! a failed condition nobody interpreted) → a generic 500. The store error
//! rides along as the problem's cause, which the HTTP layer's renderer logs
//! once, with the correlation id; the client never sees it.

use crate::StoreError;
use lite_core::{ErrorCode, Problem};

/// Seconds a client is asked to wait when the store is busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// What a client reads when the store is busy.
pub const BUSY_DETAIL: &str = "The service is busy; retry in a moment.";

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Throttled | StoreError::Contention => {
                Problem::new(ErrorCode::Unavailable, BUSY_DETAIL)
                    .with_retry_after(BUSY_RETRY_AFTER_SECS)
                    .with_cause(e)
            }
            e => Problem::internal().with_cause(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canceled, Key, TxOp};

    #[test]
    fn a_busy_store_is_503_with_retry_after() {
        for e in [StoreError::Throttled, StoreError::Contention] {
            let p = Problem::from(e.clone());
            assert_eq!(p.status(), 503, "{e}");
            assert_eq!(p.code, ErrorCode::Unavailable);
            assert_eq!(p.code.as_str(), "unavailable");
            assert_eq!(p.retry_after, Some(1));
            assert_eq!(p.detail, BUSY_DETAIL);
            assert_eq!(p.cause().map(ToString::to_string), Some(e.to_string()));
        }
    }

    #[test]
    fn every_other_store_failure_is_a_generic_500() {
        let ops = [TxOp::delete(Key::new("A", "1")).named("order")];
        for e in [
            StoreError::Unavailable("redb: disk full".into()),
            StoreError::Invalid("ADD on a string".into()),
            StoreError::ConditionFailed,
            canceled(&ops, [0]),
        ] {
            let p = Problem::from(e.clone());
            assert_eq!(p, Problem::internal(), "{e}");
            assert_eq!(p.retry_after, None);
            let body = p.to_body("corr").to_string();
            assert!(!body.contains("redb") && !body.contains("order"), "{body}");
            assert_eq!(p.cause().map(ToString::to_string), Some(e.to_string()));
        }
    }
}
