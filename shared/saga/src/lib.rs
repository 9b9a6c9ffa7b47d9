//! The `Saga` port: start a checkout execution and resume a task that waits
//! for a token (`.waitForTaskToken`). Step Functions implements it on AWS
//! ([`aws::StepFunctions`], feature `aws`); the project's ASL interpreter
//! ([`LocalSaga`]) runs the same definition file (`infra/checkout.asl.json`)
//! locally, persisting every execution in the `Store` port.
//!
//! # What the interpreter supports
//! - States: Task, Choice, Pass, Wait, Succeed, Fail, Parallel.
//! - Task resources: `arn:aws:states:::lambda:invoke` (the invoker gets
//!   `Parameters.FunctionName` and `Parameters.Payload`; the result is
//!   `{"Payload": <output>, "StatusCode": 200}`),
//!   `arn:aws:states:::lambda:invoke.waitForTaskToken` (the invoker's answer
//!   is ignored; the result is what `send_task_success` sends), and any
//!   other string (a Lambda ARN: the invoker gets the effective input, the
//!   result is its output). TimeoutSeconds / TimeoutSecondsPath raise
//!   `States.Timeout`.
//! - Retry (ErrorEquals with `States.ALL`, `States.TaskFailed`,
//!   `States.Timeout`; IntervalSeconds, MaxAttempts, BackoffRate,
//!   MaxDelaySeconds), Catch, InputPath, Parameters, ResultSelector,
//!   ResultPath, OutputPath; every Choice operator; Fail's Error/Cause and
//!   ErrorPath/CausePath.
//! - Paths: `$`, `$.a.b`, `$.a[0]`, `$['a']`; the context object
//!   (`$$.Execution.Id/Name/Input/StartTime`, `$$.State.Name/EnteredTime/
//!   RetryCount`, `$$.Task.Token`).
//! - `States.Runtime` (a path that does not resolve, a value of the wrong
//!   type) fails the execution: it is never retried nor caught.
//!
//! Refused at parse, by name: Map states, intrinsic functions, JSONata,
//! variables (Assign), HeartbeatSeconds, service integrations other than
//! Lambda, activities, JitterStrategy FULL. Timestamp Waits are absolute;
//! [`LocalSagaConfig::time_scale`] scales every other duration (Wait
//! seconds, retry intervals, task timeouts) uniformly.
//!
//! # Persisted items
//! | item | PK | SK | GSI2PK / GSI2SK |
//! |---|---|---|---|
//! | execution | `SAGA#<name>` | `SAGA` | `SAGA#RUNNING` / `<startedAt>#<name>` while RUNNING only |
//! | task token | `SAGATOKEN#<token>` | `SAGATOKEN` | — |
//!
//! The execution item holds `status` (RUNNING, SUCCEEDED, FAILED), `input`,
//! `output`, `error`/`cause`, `position` (the current state with its raw
//! input, retry counters, the invocation to make, the waiting token and
//! its deadline, the timer, Parallel branch positions), `wakeAt`,
//! `startedAt`/`stoppedAt`, `history` (the last 200 entered states with
//! times) and `version`. A stopped execution expires after 90 days
//! (`expiresAt`). The token item names its execution and state and has
//! `status` WAITING until it is resolved once (SUCCEEDED, FAILED or
//! TIMEDOUT). Tokens are 32 random bytes, base64url.
//!
//! # Guarantees
//! - Every write is conditional on the item's `version`; a token is
//!   resolved by one conditional update from WAITING, so a callback racing
//!   the task's timeout has exactly one winner, and the loser of
//!   `send_task_success` gets [`SagaError::TaskGone`].
//! - A task's token is persisted (with the position) before the invoker is
//!   called, so a handler may call `send_task_success` before its own
//!   invocation returns.
//! - **At least once**: a task whose invocation was in flight when the
//!   process stopped is invoked again by [`LocalSaga::resume_all`] (with the
//!   same payload and token). The position is written when the execution
//!   stops, hands out a token or starts a timer (Wait, retry backoff), and
//!   200 ms after a token task's invocation returned (or at shutdown)
//!   unless written before; not before each plain task: each write is a
//!   commit on the checkout's path. So a restart continues from
//!   the last written position and makes the plain invocations since then
//!   again. The checkout's task handlers are idempotent.
//! - Timers that passed during downtime fire at once on resume; a task
//!   waiting for its token keeps waiting and times out at its original
//!   deadline.
//!
//! # Concurrency
//! One tokio task drives each running execution; invocations run on their
//! own tasks (Parallel branches concurrently). No lock is held across an
//! await: the only shared lock guards the map of drivers. Two processes
//! driving the same execution cannot both write: the loser's versioned
//! write fails and it stops driving.

pub mod choice;
pub mod definition;
pub mod frame;
pub mod invoker;
mod local;
pub mod path;
pub mod retry;
pub mod step;
pub mod store;
pub mod template;

#[cfg(feature = "aws")]
pub mod aws;

pub use definition::Definition;
pub use invoker::{TaskError, TaskInvoker};
pub use local::{ExecutionView, LocalSaga, LocalSagaConfig};

use async_trait::async_trait;
use lite_store::TxOp;
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

    /// The writes that complete the task waiting on `token` with `output`,
    /// for the caller to commit in its own transaction, beside the change
    /// that output reports: one commit where completing after it is a
    /// second one on the checkout's path. `None` when this engine cannot
    /// (Step Functions takes an API call): use [`Saga::send_task_success`].
    /// A transaction with them is canceled on the op named
    /// [`store::TOKEN_OP`] when no task waits for `token` any more. Once
    /// they committed, call [`Saga::task_completed`].
    fn task_success_ops(&self, _token: &str, _output: &Value) -> Option<Vec<TxOp>> {
        None
    }

    /// The ops of [`Saga::task_success_ops`] for `token` committed: the
    /// engine goes on with the execution.
    async fn task_completed(&self, _token: &str) {}

    /// Fails the task waiting on `token` with `error` (matched by the
    /// state's Retry/Catch `ErrorEquals`) and `cause`.
    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), SagaError>;
}
