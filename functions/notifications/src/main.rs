//! Lambda entry point of the notifications service: the route function
//! (`GET /v1/me/notifications`) and the `notifications` consumer's function
//! (`AMAZON_LITE_CONSUMER`), whose messages leave through SES.

use notifications::ses::SesNotifier;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        let notifier = SesNotifier::from_env().await?;
        Ok(notifications::Notifications::new(ctx, Arc::new(notifier)))
    })
    .await
}
