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
//! With `AMAZON_LITE_SIGNING_SECRET_ARN` (and, during a rotation,
//! `AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN`), Create and Update also
//! publish the token signing keys' public halves in the table, so
//! `/.well-known/jwks.json` names the key from the deploy on rather than
//! from the first sign-in. The deploy is where this belongs: the signing
//! functions' Lambda init stays free of network work (they read the key on
//! their first signing request), and the JWKS function never holds the
//! private key.
//!
//! A failure is answered as a Lambda error (`errorType`
//! `AdminBootstrap.*`); the framework reports its message to CloudFormation,
//! which fails the deploy with that reason (it never contains the password).

use auth::bootstrap::{on_event, BootstrapError, CustomResourceRequest, RequestType};
use auth::KeyProvider;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use lite_core::config::{optional, required};

#[derive(Debug)]
enum Failure {
    Bootstrap(BootstrapError),
    /// The signing keys could not be read or published.
    Keys(String),
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        let (error_type, error_message) = match f {
            Failure::Bootstrap(e) => (e.kind(), e.to_string()),
            Failure::Keys(e) => (
                "AdminBootstrap.KeysNotPublished",
                format!("cannot publish the token signing keys: {e}"),
            ),
        };
        tracing::error!(error = %error_message, "admin bootstrap failed");
        Diagnostic {
            error_type: error_type.into(),
            error_message,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lite_http::telemetry::init();
    let arn = required("ADMIN_SECRET_ARN")?;
    // Built now, read on the first Create/Update (never at init).
    let signing = optional("AMAZON_LITE_SIGNING_SECRET_ARN").map(|current| {
        KeyProvider::secrets_manager(current, optional("AMAZON_LITE_PREVIOUS_SIGNING_SECRET_ARN"))
    });
    let ctx = lite_lambda::context().await?;
    let (ctx, arn, signing) = (&ctx, arn.as_str(), &signing);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<CustomResourceRequest>| async move {
            let answer = on_event(ctx, &event.payload, || lite_lambda::secret_string(arn))
                .await
                .map_err(Failure::Bootstrap)?;
            if let (Some(keys), false) =
                (signing, event.payload.request_type == RequestType::Delete)
            {
                let published = keys
                    .publish_now(ctx.store.as_ref(), ctx.clock.as_ref())
                    .await
                    .map_err(Failure::Keys)?;
                tracing::info!(kid = published.kid(), "token signing keys published");
            }
            Ok::<_, Failure>(answer)
        },
    ))
    .await
}
