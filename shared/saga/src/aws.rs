//! The Step Functions adapter of the `Saga` port (feature `aws`).

use crate::{Saga, SagaError, Started};
use async_trait::async_trait;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::Client;
use serde_json::Value;
use tracing::Instrument;

/// Environment variable naming the checkout state machine.
pub const STATE_MACHINE_ARN_ENV: &str = "CHECKOUT_STATE_MACHINE_ARN";

pub struct StepFunctions {
    client: Client,
    state_machine_arn: Option<String>,
}

impl StepFunctions {
    /// `state_machine_arn` is needed to start executions only (the payment
    /// webhook merely resumes tokens).
    pub fn new(client: Client, state_machine_arn: Option<String>) -> Self {
        Self {
            client,
            state_machine_arn,
        }
    }

    /// A client from the AWS configuration with this function's timeouts
    /// and retries (`lite_aws::Profile::of_function`: a route's calls fail
    /// fast, a consumer's wait longer); the ARN from
    /// `CHECKOUT_STATE_MACHINE_ARN` when set.
    pub async fn from_env() -> Self {
        let config = lite_aws::sdk_config(lite_aws::Profile::of_function()).await;
        let arn = std::env::var(STATE_MACHINE_ARN_ENV)
            .ok()
            .filter(|a| !a.is_empty());
        Self::new(Client::new(&config), arn)
    }

    fn arn(&self) -> Result<&str, SagaError> {
        self.state_machine_arn.as_deref().ok_or_else(|| {
            SagaError::Invalid(format!(
                "{STATE_MACHINE_ARN_ENV} is not set: cannot start executions"
            ))
        })
    }
}

/// `arn:...:stateMachine:<sm>` → `arn:...:execution:<sm>:<name>`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> Option<String> {
    let (prefix, sm) = state_machine_arn.split_once(":stateMachine:")?;
    Some(format!("{prefix}:execution:{sm}:{name}"))
}

/// Throttling, 5xx, timeouts and connection failures are worth retrying;
/// other service errors are the request's fault.
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    op: &str,
    e: SdkError<E>,
) -> SagaError {
    let retryable = match &e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let code = s.err().code().unwrap_or_default();
            status >= 500 || code.contains("Throttl") || code == "TooManyRequestsException"
        }
        SdkError::ResponseError(_) | SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            true
        }
        _ => false,
    };
    let detail = format!("{op}: {}", aws_sdk_sfn::error::DisplayErrorContext(&e));
    if retryable {
        SagaError::Unavailable(detail)
    } else {
        SagaError::Invalid(detail)
    }
}

#[async_trait]
impl Saga for StepFunctions {
    async fn start(&self, name: &str, input: Value) -> Result<Started, SagaError> {
        let arn = self.arn()?;
        // StartExecution answers 200 for a running execution of the same
        // name and input; looking first tells the two apart.
        if let Some(execution_arn) = execution_arn(arn, name) {
            match self
                .client
                .describe_execution()
                .execution_arn(&execution_arn)
                .send()
                .await
            {
                Ok(_) => {
                    return Ok(Started::Existing {
                        execution_id: execution_arn,
                    })
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_execution_does_not_exist()) => {}
                Err(e) => return Err(classify("DescribeExecution", e)),
            }
        }
        // Step Functions (tracing on) continues the caller's X-Ray trace
        // into the execution and the task Lambdas it invokes: their
        // `Lambda-Runtime-Trace-Id` carries this trace id.
        let result = self
            .client
            .start_execution()
            .state_machine_arn(arn)
            .name(name)
            .input(input.to_string())
            .set_trace_header(lite_trace::current().map(|c| c.to_xray_header()))
            .send()
            .instrument(tracing::info_span!("stepfunctions.StartExecution", execution = %name))
            .await;
        match result {
            Ok(out) => Ok(Started::New {
                execution_id: out.execution_arn().to_string(),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists()) =>
            {
                Ok(Started::Existing {
                    execution_id: execution_arn(arn, name).unwrap_or_else(|| name.to_string()),
                })
            }
            Err(e) => Err(classify("StartExecution", e)),
        }
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError> {
        match self
            .client
            .send_task_success()
            .task_token(token)
            .output(output.to_string())
            .send()
            .instrument(tracing::info_span!("stepfunctions.SendTaskSuccess"))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(s)
                    if s.is_invalid_token()
                        || s.is_task_does_not_exist()
                        || s.is_task_timed_out() =>
                {
                    Err(SagaError::TaskGone(s.to_string()))
                }
                _ => Err(classify("SendTaskSuccess", e)),
            },
        }
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), SagaError> {
        match self
            .client
            .send_task_failure()
            .task_token(token)
            .error(error)
            .cause(cause)
            .send()
            .instrument(tracing::info_span!("stepfunctions.SendTaskFailure"))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(s)
                    if s.is_invalid_token()
                        || s.is_task_does_not_exist()
                        || s.is_task_timed_out() =>
                {
                    Err(SagaError::TaskGone(s.to_string()))
                }
                _ => Err(classify("SendTaskFailure", e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn execution_arns() {
        assert_eq!(
            super::execution_arn("arn:aws:states:us-east-1:1:stateMachine:checkout", "ord_1")
                .as_deref(),
            Some("arn:aws:states:us-east-1:1:execution:checkout:ord_1")
        );
        assert_eq!(super::execution_arn("nonsense", "x"), None);
    }
}
