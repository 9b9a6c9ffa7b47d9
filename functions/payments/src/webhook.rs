//! The provider's webhook: the wire shape of its events, and applying one
//! (after its signature was checked) to the order's payment.
//!
//! Effects are exactly once per event id: the dedupe item `PAYEVT#<id>` is
//! written with `attribute_not_exists` in the same transaction as the
//! status change and its outbox event. Resuming the saga comes after the
//! commit and is at least once: a redelivered event whose payment still
//! holds a task token resumes it again (the second resume finds the task
//! gone, which is fine).

use crate::checkout::Payments;
use crate::domain::{FailureReason, PaymentId, PaymentStatus};
use crate::record::{self, ChangeDetails, Payment};
use crate::{events, resume, signature, PaymentsError};
use lite_core::Money;
use lite_events::contracts::{RefundKind, RefundReason};
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{StoreError, TxOp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const AUTHORIZED: &str = "payment.authorized";
pub const FAILED: &str = "payment.failed";

/// A webhook event as the provider posts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "evt_01JAAAAAAAAAAAAAAAAAAAAAAA",
    "type": "payment.authorized",
    "created": 1790000000,
    "data": {
        "paymentId": "pay_01JAAAAAAAAAAAAAAAAAAAAAAA",
        "orderId": "ord_01JAAAAAAAAAAAAAAAAAAAAAAA",
        "amount": {"amount": 1999, "currency": "USD"}
    }
}))]
pub struct WebhookEvent {
    /// The provider's event id; a redelivery carries the same one.
    pub id: String,
    /// `payment.authorized` or `payment.failed` (other types are
    /// acknowledged and ignored).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds when the provider created the event.
    pub created: i64,
    pub data: WebhookData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookData {
    /// Ours (`pay_<ULID>`), echoed by the provider.
    pub payment_id: String,
    pub order_id: String,
    pub amount: Money,
    /// Why it failed (`card_declined`, `insufficient_funds`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The webhook's answer body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
}

/// What applying one event did (logged; the provider always gets 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// pending → authorized | failed.
    Settled(PaymentStatus),
    /// An authorization for a payment checkout had already failed: released
    /// at the provider and recorded voided.
    LateAuthorizationVoided,
    /// Seen before: nothing new happened (a held task was resumed again).
    Duplicate,
    /// The payment has moved on; the event changes nothing.
    NoEffect,
    /// No payment matches the event.
    UnknownPayment,
    /// A type this service does not act on.
    IgnoredType,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Authorized,
    Failed(FailureReason),
}

const MAX_EVENT_ID: usize = 255;

/// Parses the verified body; anything malformed is a 400.
fn parse(body: &[u8]) -> Result<WebhookEvent, PaymentsError> {
    let event: WebhookEvent = serde_json::from_slice(body)
        .map_err(|e| PaymentsError::BadRequest(format!("the event is malformed: {e}")))?;
    let id_ok = (1..=MAX_EVENT_ID).contains(&event.id.len())
        && event.id.bytes().all(|b| b.is_ascii_graphic());
    if !id_ok {
        return Err(PaymentsError::BadRequest(
            "id: must be 1..=255 printable ASCII characters".into(),
        ));
    }
    if event.data.order_id.is_empty() || event.data.order_id.len() > MAX_EVENT_ID {
        return Err(PaymentsError::BadRequest(
            "data.orderId: must be an order id".into(),
        ));
    }
    if PaymentId::parse(&event.data.payment_id).is_none() {
        return Err(PaymentsError::BadRequest(
            "data.paymentId: must be a pay_ id".into(),
        ));
    }
    Ok(event)
}

/// Verifies, parses and applies one webhook delivery: `signature` is the
/// `Payment-Signature` header, `body` the exact bytes received.
pub async fn receive(
    p: &Payments,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Applied, PaymentsError> {
    let key = p.webhook_secret.key().await?;
    signature::verify(key, signature, body, p.ctx.clock.now().timestamp())?;
    let event = parse(body)?;
    let kind = match event.event_type.as_str() {
        AUTHORIZED => Kind::Authorized,
        FAILED => Kind::Failed(FailureReason::from_provider(
            event.data.reason.as_deref().unwrap_or("provider_error"),
        )),
        other => {
            tracing::info!(event_id = %event.id, event_type = other, "webhook type ignored");
            return Ok(Applied::IgnoredType);
        }
    };
    let applied = apply(p, &event, kind).await?;
    tracing::info!(event_id = %event.id, order_id = %event.data.order_id, ?applied, "webhook applied");
    Ok(applied)
}

async fn apply(p: &Payments, event: &WebhookEvent, kind: Kind) -> Result<Applied, PaymentsError> {
    let store = p.ctx.store.as_ref();
    optimistic::retry(&POLICY, move |_| async move {
        // An order id that is not well formed cannot have a payment.
        let payment = match lite_core::OrderId::parse(&event.data.order_id) {
            Some(order_id) => record::get(store, &order_id).await?,
            None => None,
        };
        let Some(payment) = payment else {
            tracing::warn!(event_id = %event.id, order_id = %event.data.order_id, "webhook for an order without a payment");
            return Ok(Attempt::Done(Applied::UnknownPayment));
        };
        if payment.payment_id.as_str() != event.data.payment_id
            || payment.amount != event.data.amount
        {
            tracing::warn!(event_id = %event.id, order_id = %event.data.order_id, "webhook does not match the order's payment (id or amount)");
            return Ok(Attempt::Done(Applied::UnknownPayment));
        }
        if record::seen(store, &event.id).await? {
            resume::settle_waiting_task(p, &payment).await?;
            return Ok(Attempt::Done(Applied::Duplicate));
        }
        let now = p.ctx.clock.now();
        let dedupe = record::dedupe_op(&event.id, &payment.order_id, now);
        let (ops, applied, after) = match (payment.status, kind) {
            (PaymentStatus::Pending, Kind::Authorized) => {
                let (op, after) = change(&payment, PaymentStatus::Authorized, None, now)?;
                let e = events::authorized(p.ctx.ids.as_ref(), now, &payment);
                (
                    vec![op, dedupe, lite_events::outbox::put(&e)],
                    Applied::Settled(PaymentStatus::Authorized),
                    after,
                )
            }
            (PaymentStatus::Pending, Kind::Failed(reason)) => {
                let (op, after) = change(&payment, PaymentStatus::Failed, Some(reason), now)?;
                let e = events::failed(
                    p.ctx.ids.as_ref(),
                    now,
                    &payment,
                    reason,
                    &payment.correlation_id,
                );
                (
                    vec![op, dedupe, lite_events::outbox::put(&e)],
                    Applied::Settled(PaymentStatus::Failed),
                    after,
                )
            }
            (PaymentStatus::Failed, Kind::Authorized) => {
                // Checkout gave up on this payment (timeout) before the
                // provider authorized it: release the hold it made.
                p.provider.void(payment.payment_id.as_str()).await?;
                let (op, after) = change(&payment, PaymentStatus::Voided, None, now)?;
                let e = events::refunded(
                    p.ctx.ids.as_ref(),
                    now,
                    &payment,
                    RefundKind::Void,
                    RefundReason::CheckoutCompensation,
                    &payment.correlation_id,
                );
                (
                    vec![op, dedupe, lite_events::outbox::put(&e)],
                    Applied::LateAuthorizationVoided,
                    after,
                )
            }
            _ => (vec![dedupe], Applied::NoEffect, payment.clone()),
        };
        match store.transact(ops).await {
            Ok(()) => {
                if let Applied::Settled(_) = applied {
                    lite_metrics::payment_authorization(match kind {
                        Kind::Authorized => lite_metrics::PaymentOutcome::Authorized,
                        Kind::Failed(reason) => reason.authorization_outcome(),
                    });
                }
                resume::settle_waiting_task(p, &after).await?;
                Ok(Attempt::Done(applied))
            }
            // Another delivery or writer got there first: look again.
            Err(e) if lost_race(&e, &[record::PAYMENT_OP, record::DEDUPE_OP]) => {
                Ok(Attempt::Retry)
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The write moving `payment` to `to`, and the payment as it will be.
/// The task token stays: it is resumed, then cleared, after the commit.
fn change(
    payment: &Payment,
    to: PaymentStatus,
    failure: Option<FailureReason>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(TxOp, Payment), PaymentsError> {
    let t = payment
        .status
        .to(to)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let note = (to == PaymentStatus::Voided).then(|| "late_authorization".to_owned());
    let details = ChangeDetails {
        failure,
        note,
        clear_token: false,
    };
    let op = record::transition_op(payment, t, &details, now);
    let mut after = payment.clone();
    after.status = to;
    if let Some(f) = failure {
        after.failure_reason = Some(f.as_str().to_owned());
    }
    after.version += 1;
    Ok((op, after))
}
