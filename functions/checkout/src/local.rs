//! Running the saga in one process: the task invoker the local interpreter
//! calls, and a saga handle that can be given to the payments service
//! before the interpreter that needs the payments service exists.

use crate::tasks::{Tasks, INVALID_INPUT};
use async_trait::async_trait;
use lite_saga::{Saga, SagaError, Started, TaskError, TaskInvoker};
use lite_store::TxOp;
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// Calls the task handlers in-process. `function` is what the definition's
/// placeholder became locally: the task name, which must match the payload.
pub struct LocalTasks(pub Tasks);

#[async_trait]
impl TaskInvoker for LocalTasks {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError> {
        let named = payload.get("task").and_then(Value::as_str).unwrap_or("");
        if named != function {
            return Err(TaskError {
                error: INVALID_INPUT.into(),
                cause: format!("function {function} was sent task {named:?}"),
            });
        }
        self.0.run_payload(payload).await
    }
}

/// A `Saga` whose engine is set once, after construction (the payments
/// service resumes the saga, and the saga's tasks call the payments
/// service).
#[derive(Default)]
pub struct LateSaga(OnceLock<Arc<dyn Saga>>);

impl LateSaga {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Sets the engine; later calls are ignored.
    pub fn set(&self, saga: Arc<dyn Saga>) {
        let _ = self.0.set(saga);
    }

    fn engine(&self) -> Result<&Arc<dyn Saga>, SagaError> {
        self.0
            .get()
            .ok_or_else(|| SagaError::Unavailable("the saga engine is not started yet".into()))
    }
}

#[async_trait]
impl Saga for LateSaga {
    async fn start(&self, name: &str, input: Value) -> Result<Started, SagaError> {
        self.engine()?.start(name, input).await
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError> {
        self.engine()?.send_task_success(token, output).await
    }

    fn task_success_ops(&self, token: &str, output: &Value) -> Option<Vec<TxOp>> {
        self.0.get()?.task_success_ops(token, output)
    }

    async fn task_completed(&self, token: &str) {
        if let Some(engine) = self.0.get() {
            engine.task_completed(token).await;
        }
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), SagaError> {
        self.engine()?.send_task_failure(token, error, cause).await
    }
}
