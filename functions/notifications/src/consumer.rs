//! The `notifications` consumer: one e-mail per order outcome.

use crate::notifier::{Message, Notifier, NotifyError};
use crate::record::{self, Meta, Notification, NotificationId};
use crate::templates::{self, Lang, Notice};
use async_trait::async_trait;
use lite_events::contracts::{
    OrderCancelledV1, OrderConfirmedV1, OrderFailedV1, OrderShippedV1, PaymentFailedV1,
};
use lite_events::{Envelope, Handler, HandlerError};
use lite_ports::Context;
use lite_store::{Condition, StoreError};
use orders::domain::OrderStatus;
use std::sync::Arc;
use tracing::Instrument;

lite_events::accepts! {
    /// What this consumer reads.
    enum Accepted {
        Confirmed(OrderConfirmedV1),
        Failed(OrderFailedV1),
        Cancelled(OrderCancelledV1),
        Shipped(OrderShippedV1),
        PaymentFailed(PaymentFailedV1),
    }
}

/// What handling one event came to (every case is a success for the
/// transport; the distinction is for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent and recorded.
    Sent(NotificationId),
    /// A previous delivery already sent and recorded it.
    AlreadySent(NotificationId),
    /// Nothing to send, and why.
    Skipped(&'static str),
}

/// Sends one e-mail per order outcome and records it (the user's
/// `/v1/me/notifications`).
///
/// - `order.confirmed.v1`, `order.shipped.v1`, `order.cancelled.v1`: one
///   message each.
/// - `order.failed.v1`: the message for a failed checkout, with its reason.
/// - `payment.failed.v1`: only when the order is past checkout (not PENDING,
///   not FAILED). A payment that fails during checkout fails its order, and
///   `order.failed.v1` (reason `payment_declined`/`payment_timeout`) is the
///   one message the shopper gets; while the order is PENDING that event is
///   still to come, and once it is FAILED it has come. Today payments fail
///   only during checkout, so these are all suppressed; a failure after it
///   (e.g. a capture when shipping) is sent. The event has no user id, so
///   the order is read anyway to address it; an unknown order is skipped.
///
/// Users with `orderUpdates` off, or without a profile, get nothing and
/// nothing is recorded (logged at info).
///
/// Idempotence: the notification id is derived from the event id. The
/// record is read first (a redelivery after success sends nothing), then
/// the message is sent, then the record is put with a not-exists condition.
/// Sending before recording means a crash between the two costs at most a
/// duplicate e-mail on redelivery, never a lost one (recording first would
/// make a redelivery believe a message was sent that never was).
///
/// Errors: malformed events and permanent notifier errors are `Poison` (to
/// the DLQ, nothing recorded); store failures and transient notifier errors
/// are `Retry` (the transport backs off and redelivers).
pub struct Consumer {
    ctx: Context,
    notifier: Arc<dyn Notifier>,
}

impl Consumer {
    pub const NAME: &'static str = "notifications";

    /// The consumer, sending through `notifier`.
    pub fn new(ctx: Context, notifier: Arc<dyn Notifier>) -> Self {
        Self { ctx, notifier }
    }

    /// Handles `event`, saying what came of it.
    pub async fn process(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let id = NotificationId::of_event(&event.id)
            .ok_or_else(|| HandlerError::Poison(format!("event id {} is malformed", event.id)))?;
        let (user_id, notice) = match self.notice(Accepted::decode(event)?).await? {
            Ok(found) => found,
            Err(why) => return Ok(Outcome::Skipped(why)),
        };
        let store = self.ctx.store.as_ref();
        if store
            .get(&record::key(&id))
            .await
            .map_err(|e| store_error("reading the notification", e))?
            .is_some()
        {
            return Ok(Outcome::AlreadySent(id));
        }
        let prefs = users::read::preferences(store, &user_id)
            .await
            .map_err(|e| store_error("reading preferences", e))?;
        let profile = users::read::profile(store, &user_id)
            .await
            .map_err(|e| store_error("reading the profile", e))?;
        let (Some(prefs), Some(profile)) = (prefs, profile) else {
            return Ok(Outcome::Skipped("the user has no profile"));
        };
        if !prefs.order_updates {
            return Ok(Outcome::Skipped("the user turned order updates off"));
        }
        let lang = Lang::for_tag(prefs.language.as_str());
        let text = templates::render(&notice, lang, &profile.name);
        let message = Message {
            notification_id: id.to_string(),
            to: profile.email,
            recipient_name: profile.name,
            subject: text.subject,
            body: text.body,
        };
        let span = tracing::info_span!("notifier.send", notification_id = %id);
        self.notifier
            .send(&message)
            .instrument(span)
            .await
            .map_err(|e| match e {
                NotifyError::Transient(m) => HandlerError::Retry(format!("sending {id}: {m}")),
                NotifyError::Permanent(m) => HandlerError::Poison(format!("sending {id}: {m}")),
            })?;
        let notification = Notification {
            id: id.clone(),
            subject: message.subject,
            body: message.body,
            channel: record::CHANNEL_EMAIL.into(),
            event_type: event.event_type.clone(),
            order_id: notice.order_id().to_owned(),
            created_at: self.ctx.clock.now(),
        };
        let meta = Meta {
            user_id: &user_id,
            event_id: &event.id,
            language: lang.as_str(),
        };
        match store
            .put(
                record::item(&notification, &meta),
                Some(Condition::NotExists),
            )
            .await
        {
            Ok(()) => Ok(Outcome::Sent(id)),
            // A concurrent delivery of the same event recorded it first.
            Err(e) if e.is_condition_failure() => Ok(Outcome::AlreadySent(id)),
            // Sent but not recorded: a retry sends it once more (a
            // duplicate, never a loss).
            Err(e) => Err(store_error("recording the notification", e)),
        }
    }

    /// The user and what to tell them, or why there is nothing to tell.
    async fn notice(
        &self,
        event: Accepted,
    ) -> Result<Result<(String, Notice), &'static str>, HandlerError> {
        Ok(Ok(match event {
            Accepted::Confirmed(e) => (
                e.user_id,
                Notice::Confirmed {
                    order_id: e.order_id,
                    items: e.items,
                    total: e.total,
                },
            ),
            Accepted::Failed(e) => (
                e.user_id,
                Notice::Failed {
                    order_id: e.order_id,
                    reason: e.reason,
                    detail: e.detail,
                },
            ),
            Accepted::Cancelled(e) => (
                e.user_id,
                Notice::Cancelled {
                    order_id: e.order_id,
                    items: e.items,
                    total: e.total,
                    paid: e.payment_id.is_some(),
                    by: e.cancelled_by,
                },
            ),
            Accepted::Shipped(e) => (
                e.user_id,
                Notice::Shipped {
                    order_id: e.order_id,
                },
            ),
            Accepted::PaymentFailed(e) => {
                let order = orders::read::order(self.ctx.store.as_ref(), &e.order_id)
                    .await
                    .map_err(|err| store_error("reading the order", err))?;
                let Some(order) = order else {
                    return Ok(Err("payment failed for an unknown order: nobody to tell"));
                };
                if matches!(order.status, OrderStatus::Pending | OrderStatus::Failed) {
                    return Ok(Err(
                        "payment failed during checkout: order.failed tells the shopper",
                    ));
                }
                (
                    order.user_id,
                    Notice::PaymentFailed {
                        order_id: e.order_id,
                        amount: e.amount,
                        reason: e.reason,
                    },
                )
            }
        }))
    }
}

fn store_error(doing: &str, e: StoreError) -> HandlerError {
    match e {
        StoreError::Invalid(m) => HandlerError::Poison(format!("{doing}: {m}")),
        e => HandlerError::Retry(format!("{doing}: {e}")),
    }
}

#[async_trait]
impl Handler for Consumer {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn detail_types(&self) -> &'static [&'static str] {
        Accepted::DETAIL_TYPES
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match self.process(event).await? {
            Outcome::Sent(id) => {
                tracing::info!(notification_id = %id, event_id = %event.id, "notification sent")
            }
            Outcome::AlreadySent(id) => {
                tracing::info!(notification_id = %id, event_id = %event.id, "notification already sent")
            }
            Outcome::Skipped(why) => {
                tracing::info!(event_id = %event.id, event_type = %event.event_type, why, "no notification")
            }
        }
        Ok(())
    }
}
