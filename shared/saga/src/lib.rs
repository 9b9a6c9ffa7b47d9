//! The `Saga` port: start a checkout execution and resume a task that waits
//! for a token (`.waitForTaskToken`). Step Functions implements it on AWS;
//! the project's ASL interpreter (running the same definition file,
//! `infra/checkout.asl.json`) implements it locally.

use async_trait::async_trait;
use serde_json::Value;

/// Why a saga call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SagaError {
    /// The task token is unknown, already used, or its task timed out:
    /// nothing waits for it any more (Step Functions' `TaskTimedOut` /
    /// `InvalidToken`). Callers treat the outcome as stale.
    #[error("no task waits for this token: {0}")]
    TaskGone(String),
    /// The input or definition is unusable (never retried).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The engine could not be reached or failed; try again.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What `start` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A new execution was started.
    New { execution_id: String },
    /// An execution of that name existed already (starting is idempotent by
    /// name), so nothing new was started.
    Existing { execution_id: String },
}

/// Starts executions and resumes waiting tasks.
#[async_trait]
pub trait Saga: Send + Sync + 'static {
    /// Starts an execution named `name` (unique: a second start with the same
    /// name starts nothing) with `input`.
    async fn start(&self, name: &str, input: Value) -> Result<Started, SagaError>;

    /// Completes the task waiting on `token` with `output`.
    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError>;

    /// Fails the task waiting on `token` with `error` (matched by the
    /// state's Retry/Catch `ErrorEquals`) and `cause`.
    async fn send_task_failure(&self, token: &str, error: &str, cause: &str)
        -> Result<(), SagaError>;
}
