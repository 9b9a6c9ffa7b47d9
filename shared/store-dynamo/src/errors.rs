//! SDK errors → [`StoreError`]. The raw error is logged here, where it is
//! mapped, so callers see only the port's error and operators still see
//! what DynamoDB said.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use lite_store::StoreError;

/// Maps an error code DynamoDB returned (the exception name) to the port.
pub(crate) fn from_code(code: &str, message: &str) -> StoreError {
    match code {
        "ConditionalCheckFailedException" => StoreError::ConditionFailed,
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded" => StoreError::Throttled,
        "ValidationException" => StoreError::Invalid(message.to_string()),
        "TransactionConflictException" => StoreError::Contention,
        _ => StoreError::Unavailable(format!("{code}: {message}")),
    }
}

/// Maps any operation's SDK error. Service errors go by their code; errors
/// before or outside the service (dispatch, timeout, unreadable response)
/// are `Unavailable`.
pub(crate) fn from_sdk<E>(op: &'static str, err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mapped = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            from_code(
                e.code().unwrap_or("UnknownError"),
                e.message().unwrap_or_default(),
            )
        }
        _ => StoreError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err))),
    };
    log(op, &mapped, &err);
    mapped
}

fn log<E>(op: &'static str, mapped: &StoreError, err: &SdkError<E>)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let raw = DisplayErrorContext(err);
    let code = err.code().unwrap_or("-");
    match mapped {
        // An expected outcome of a conditional write, not a fault.
        StoreError::ConditionFailed => {
            tracing::debug!(op, code, error = %raw, "dynamodb condition failed")
        }
        StoreError::Throttled | StoreError::Contention => {
            tracing::warn!(op, code, error = %raw, "dynamodb asked to back off")
        }
        _ => tracing::error!(op, code, error = %raw, "dynamodb call failed"),
    }
}

/// How a TransactWriteItems call failed.
#[derive(Debug, PartialEq)]
pub(crate) enum TxFailure {
    /// Another transaction touched the same items; worth retrying.
    Conflict,
    /// The conditions of the ops at these indexes (ascending) did not hold;
    /// the adapter names them after its ops ([`lite_store::canceled`]).
    Canceled(Vec<usize>),
    /// Anything else, already mapped.
    Other(StoreError),
}

/// Reads a cancelled transaction's reasons (one per op, in op order):
/// conditions that failed win; a conflict alone is retryable.
pub(crate) fn from_cancellation<'a>(
    codes: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> TxFailure {
    let mut failed = Vec::new();
    let (mut conflict, mut throttled, mut other) = (false, false, None);
    for (i, (code, message)) in codes.into_iter().enumerate() {
        match code.unwrap_or("None") {
            "None" => {}
            "ConditionalCheckFailed" => failed.push(i),
            "TransactionConflict" => conflict = true,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded" => {
                throttled = true
            }
            "ValidationError" => {
                other.get_or_insert(StoreError::Invalid(format!(
                    "op {i}: {}",
                    message.unwrap_or("validation error")
                )));
            }
            code => {
                other.get_or_insert(StoreError::Unavailable(format!(
                    "op {i}: {code}: {}",
                    message.unwrap_or_default()
                )));
            }
        }
    }
    if !failed.is_empty() {
        TxFailure::Canceled(failed)
    } else if let Some(e) = other {
        TxFailure::Other(e)
    } else if throttled {
        TxFailure::Other(StoreError::Throttled)
    } else if conflict {
        TxFailure::Conflict
    } else {
        TxFailure::Other(StoreError::Unavailable(
            "transaction canceled without a reason".into(),
        ))
    }
}

/// Maps a TransactWriteItems error.
pub(crate) fn from_transact(err: SdkError<TransactWriteItemsError>) -> TxFailure {
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let failure = from_cancellation(
            e.cancellation_reasons()
                .iter()
                .map(|r| (r.code(), r.message())),
        );
        match &failure {
            TxFailure::Conflict => {
                tracing::warn!(error = %DisplayErrorContext(&err), "dynamodb transaction conflict")
            }
            TxFailure::Canceled(failed) => {
                tracing::debug!(?failed, "dynamodb transaction conditions failed")
            }
            TxFailure::Other(_) => {
                tracing::error!(error = %DisplayErrorContext(&err), "dynamodb transaction canceled")
            }
        }
        return failure;
    }
    match from_sdk("TransactWriteItems", err) {
        StoreError::Contention => TxFailure::Conflict,
        other => TxFailure::Other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_port() {
        assert_eq!(
            from_code("ConditionalCheckFailedException", ""),
            StoreError::ConditionFailed
        );
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            assert_eq!(from_code(code, ""), StoreError::Throttled);
        }
        assert_eq!(
            from_code("ValidationException", "bad"),
            StoreError::Invalid("bad".into())
        );
        assert_eq!(
            from_code("TransactionConflictException", ""),
            StoreError::Contention
        );
        assert!(
            matches!(from_code("InternalServerError", "boom"), StoreError::Unavailable(m) if m.contains("boom"))
        );
    }

    #[test]
    fn cancellation_names_the_failed_conditions() {
        let reasons = [
            (Some("None"), None),
            (Some("ConditionalCheckFailed"), Some("x")),
            (None, None),
            (Some("ConditionalCheckFailed"), None),
        ];
        assert_eq!(from_cancellation(reasons), TxFailure::Canceled(vec![1, 3]));
    }

    #[test]
    fn cancellation_by_conflict_alone_is_retryable() {
        let reasons = [(Some("None"), None), (Some("TransactionConflict"), None)];
        assert_eq!(from_cancellation(reasons), TxFailure::Conflict);
        let both = [
            (Some("TransactionConflict"), None),
            (Some("ConditionalCheckFailed"), None),
        ];
        assert_eq!(from_cancellation(both), TxFailure::Canceled(vec![1]));
    }

    #[test]
    fn cancellation_for_other_reasons() {
        assert_eq!(
            from_cancellation([(Some("ThrottlingError"), None)]),
            TxFailure::Other(StoreError::Throttled)
        );
        assert!(matches!(
            from_cancellation([(Some("None"), None), (Some("ValidationError"), Some("too big"))]),
            TxFailure::Other(StoreError::Invalid(m)) if m.contains("op 1") && m.contains("too big")
        ));
    }
}
