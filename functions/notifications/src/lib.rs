//! Notifications: one e-mail per order outcome (confirmed, failed,
//! cancelled, shipped; a payment failure after checkout), rendered from
//! templates in the user's language, honouring their `orderUpdates`
//! preference, sent through the [`Notifier`] port (SES on AWS, logged
//! locally) and recorded for `GET /v1/me/notifications`.
//!
//! The [`Consumer`] is one queue (`notifications`) for all five event
//! types; the transport retries with backoff and dead-letters, and the
//! consumer is idempotent per event by itself (see [`Consumer`]). This
//! crate owns the `NOTIF#` items (layout: `src/record.rs`); it reads users'
//! profiles and preferences through `users::read` and orders through
//! `orders::read`.

mod consumer;
mod error;
mod notifier;
mod record;
mod routes;
#[cfg(feature = "lambda")]
pub mod ses;
pub mod templates;

pub use consumer::{Consumer, Outcome};
pub use error::NotificationsError;
pub use notifier::{LogNotifier, Message, Notifier, NotifyError};
pub use record::{Notification, NotificationId};
pub use routes::{openapi, routes, NotificationPage, ROUTES};

use lite_ports::Context;
use lite_service::Service;
use std::sync::Arc;

/// The notifications service on its store and its [`Notifier`] (SES on
/// AWS, the log locally): `GET /v1/me/notifications` and the
/// `notifications` consumer.
#[derive(Clone)]
pub struct Notifications {
    ctx: Context,
    notifier: Arc<dyn Notifier>,
}

impl Notifications {
    pub fn new(ctx: Context, notifier: Arc<dyn Notifier>) -> Self {
        Self { ctx, notifier }
    }
}

impl Service for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }

    fn consumers(&self) -> Vec<Arc<dyn lite_events::Handler>> {
        vec![Arc::new(Consumer::new(
            self.ctx.clone(),
            self.notifier.clone(),
        ))]
    }
}
