//! The provider's webhook: the wire shape of its events, and applying one
//! (after its signature was checked) to the order's payment.
//!
//! Effects are exactly once per event id: the dedupe item `PAYEVT#<id>` is
//! written with `attribute_not_exists` in the same transaction as the
//! status change and its outbox event. Resuming the saga: when the engine
//! can write the waiting task's completion in that transaction (the local
//! saga, `Saga::task_success_ops`), it is written there and the payment's
//! task token dropped with it, so outcome and resumption commit together
//! (one commit on the checkout's path, not three). Otherwise (Step
//! Functions) it comes after the commit and is at least once: a redelivered
//! event whose payment still holds a task token resumes it again (the
//! second resume finds the task gone, which is fine).

use crate::checkout::Payments;
use crate::domain::{FailureReason, PaymentId, PaymentStatus};
use crate::record::{self, ChangeDetails, Payment};
use crate::{events, resume, signature, PaymentsError};
use lite_core::Money;
use lite_events::contracts::{RefundKind, RefundReason};
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{StoreError, TxOp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
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
    // Cleared when the waiting task turns out gone: the retry resumes the
    // usual way (after the commit), which finds it gone and says so.
    let resume_in_transaction = &AtomicBool::new(true);
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
        let settles = matches!(applied, Applied::Settled(_));
        let (ops, after, resumed) = if settles && resume_in_transaction.load(Ordering::SeqCst) {
            let failure = match kind {
                Kind::Failed(reason) => Some(reason),
                Kind::Authorized => None,
            };
            resume_with(p, ops, after, || {
                change_op(&payment, after_status(kind), failure, now, true)
            })?
        } else {
            (ops, after, None)
        };
        match store.transact(ops).await {
            Ok(()) => {
                if let Applied::Settled(_) = applied {
                    lite_metrics::payment_authorization(match kind {
                        Kind::Authorized => lite_metrics::PaymentOutcome::Authorized,
                        Kind::Failed(reason) => reason.authorization_outcome(),
                    });
                }
                match resumed {
                    Some(token) => {
                        tracing::info!(order_id = %after.order_id, status = %after.status, "checkout resumed with the payment outcome");
                        p.saga.task_completed(&token).await;
                    }
                    None => resume::settle_waiting_task(p, &after).await?,
                }
                Ok(Attempt::Done(applied))
            }
            Err(e) if e.failed_on(lite_saga::store::TOKEN_OP) => {
                resume_in_transaction.store(false, Ordering::SeqCst);
                Ok(Attempt::Retry)
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

/// `ops` (settling a payment to `after`) with the waiting task's resumption
/// and the token's removal from the payment, when the saga engine can write
/// them in this transaction: the outcome, the resumption and the token's
/// end commit together. Answers the ops, the payment as it will be, and the
/// token resumed (`None`: resume after the commit, as before).
/// `clearing` makes the payment's write again, dropping the token.
fn resume_with(
    p: &Payments,
    mut ops: Vec<TxOp>,
    mut after: Payment,
    clearing: impl FnOnce() -> Result<TxOp, PaymentsError>,
) -> Result<(Vec<TxOp>, Payment, Option<String>), PaymentsError> {
    let (Some(token), Some(output)) = (after.task_token.clone(), resume::outcome(&after)) else {
        return Ok((ops, after, None));
    };
    let Some(resume_ops) = p.saga.task_success_ops(&token, &output) else {
        return Ok((ops, after, None));
    };
    let clearing = clearing()?;
    for op in ops.iter_mut() {
        if op.name() == Some(record::PAYMENT_OP) {
            *op = clearing.clone();
        }
    }
    ops.extend(resume_ops);
    after.task_token = None;
    Ok((ops, after, Some(token)))
}

/// Where a pending payment goes on `kind`.
fn after_status(kind: Kind) -> PaymentStatus {
    match kind {
        Kind::Authorized => PaymentStatus::Authorized,
        Kind::Failed(_) => PaymentStatus::Failed,
    }
}

/// The write moving `payment` to `to` (dropping its task token when
/// `clear_token`).
fn change_op(
    payment: &Payment,
    to: PaymentStatus,
    failure: Option<FailureReason>,
    now: chrono::DateTime<chrono::Utc>,
    clear_token: bool,
) -> Result<TxOp, PaymentsError> {
    let t = payment
        .status
        .to(to)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let note = (to == PaymentStatus::Voided).then(|| "late_authorization".to_owned());
    let details = ChangeDetails {
        failure,
        note,
        clear_token,
    };
    Ok(record::transition_op(payment, t, &details, now))
}

/// The write moving `payment` to `to`, and the payment as it will be.
/// The task token stays: it is resumed, then cleared, after the commit.
fn change(
    payment: &Payment,
    to: PaymentStatus,
    failure: Option<FailureReason>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(TxOp, Payment), PaymentsError> {
    let op = change_op(payment, to, failure, now, false)?;
    let mut after = payment.clone();
    after.status = to;
    if let Some(f) = failure {
        after.failure_reason = Some(f.as_str().to_owned());
    }
    after.version += 1;
    Ok((op, after))
}
