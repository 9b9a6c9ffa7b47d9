//! Lambda entry point of the administrator bootstrap: the onEvent handler of
//! the CDK Provider framework behind the stack's `Custom::AdminBootstrap`
//! resource (infra/cdk/lib/admin-bootstrap.ts). The logic is
//! `auth::bootstrap::on_event`.
//!
//! Environment: `ADMIN_SECRET_ARN` (the secret `{"email", "password"}`),
//! `TABLE_NAME` and the usual AWS variables (`lite_lambda::context`). Init
//! reads nothing over the network; the secret is read per Create/Update
//! event, never on Delete.
//!
//! A failure is answered as a Lambda error (`errorType`
//! `AdminBootstrap.*`); the framework reports its message to CloudFormation,
//! which fails the deploy with that reason (it never contains the password).

use auth::bootstrap::{on_event, BootstrapError, CustomResourceRequest};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use lite_core::config::required;

#[derive(Debug)]
struct Failure(BootstrapError);

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        tracing::error!(error = %f.0, "admin bootstrap failed");
        Diagnostic {
            error_type: f.0.kind().into(),
            error_message: f.0.to_string(),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lite_http::telemetry::init();
    let arn = required("ADMIN_SECRET_ARN")?;
    let ctx = lite_lambda::context().await?;
    let (ctx, arn) = (&ctx, arn.as_str());
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<CustomResourceRequest>| async move {
            on_event(ctx, &event.payload, || lite_lambda::secret_string(arn))
                .await
                .map_err(Failure)
        },
    ))
    .await
}
