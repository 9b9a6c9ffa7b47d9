//! The port through which Task states run their work.

use async_trait::async_trait;
use serde_json::Value;

/// A failed task or state: an error name (matched by `ErrorEquals`, e.g.
/// `Checkout.Transient`, `States.Timeout`) and a human-readable cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// `States.Runtime`: a path that does not resolve, a value of the wrong
    /// type. Never retried nor caught (as on Step Functions).
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(errors::RUNTIME, cause)
    }

    /// The `{"Error","Cause"}` object a Catch places at its ResultPath.
    pub fn to_output(&self) -> Value {
        serde_json::json!({ "Error": self.error, "Cause": self.cause })
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

/// The predefined error names this interpreter raises.
pub mod errors {
    pub const ALL: &str = "States.ALL";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const TIMEOUT: &str = "States.Timeout";
    pub const RUNTIME: &str = "States.Runtime";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
}

/// Runs a Task state's work: a Lambda function locally (the checkout's task
/// handlers, called in process). `function` is `Parameters.FunctionName`
/// for `lambda:invoke` resources, otherwise the `Resource` string itself.
#[async_trait]
pub trait TaskInvoker: Send + Sync + 'static {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError>;
}
