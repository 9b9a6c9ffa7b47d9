//! Lambda entry point of the saga's task functions. CDK deploys one function
//! per task from this binary; `CHECKOUT_TASK` names the one task a function
//! runs (least privilege: a function given another task's payload refuses
//! it). Errors reach Step Functions with `errorType` = the task error's
//! name (`Checkout.Transient` is retried by the definition).

use checkout::Tasks;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use lite_core::config::required;
use lite_saga::TaskError;
use serde_json::Value;
use std::sync::Arc;
use tracing::Instrument;

#[derive(Debug)]
struct Failure(TaskError);

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        Diagnostic {
            error_type: f.0.error,
            error_message: f.0.cause,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lite_http::telemetry::init();
    // The saga's steps are checkout's (the business counters name their
    // owning service themselves: payments, inventory, orders).
    lite_lambda::install_metrics("checkout");
    let task = required("CHECKOUT_TASK")?;
    let ctx = lite_lambda::context().await?;
    let payments = Arc::new(payments::lambda::from_env(ctx.clone())?);
    let tasks = Tasks { ctx, payments };
    let tasks = &tasks;
    let task = task.as_str();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let named = event
            .payload
            .get("task")
            .and_then(Value::as_str)
            .unwrap_or("");
        if named != task {
            return Err(Failure(TaskError {
                error: checkout::tasks::INVALID_INPUT.into(),
                cause: format!("this function runs task {task}, not {named:?}"),
            }));
        }
        // Under the invocation's span, which continues the execution's
        // X-Ray trace (Step Functions passes it to the function).
        let correlation_id = event
            .payload
            .get("correlationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let span = tracing::info_span!("saga.task", task, correlation_id);
        let result = tasks
            .run_payload(event.payload)
            .instrument(span)
            .await
            .map_err(Failure);
        lite_lambda::flush_metrics();
        result
    }))
    .await
}
