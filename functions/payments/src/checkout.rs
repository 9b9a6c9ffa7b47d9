//! The checkout saga's payment steps, called by the checkout crate's task
//! handlers: authorize (AuthorizePayment, waits for the webhook), void
//! (the VoidPayment compensation and order cancellation) and capture
//! (order shipped). Each is idempotent per order and race-free against a
//! concurrent webhook: every change is a conditional write on the version
//! that was read, and a lost race re-reads and decides again.

use crate::domain::{FailureReason, PaymentId, PaymentStatus};
use crate::provider::{AuthorizeRequest, PaymentProvider, ProviderError};
use crate::record::{self, ChangeDetails, Payment};
use crate::secret::WebhookSecret;
use crate::{events, resume, PaymentsError};
use lite_core::{Money, OrderId};
use lite_events::contracts::{RefundKind, RefundReason};
use lite_ports::Context;
use lite_saga::Saga;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{StoreError, TxOp};
use std::sync::Arc;

/// The payments service: its adapters. Also the router's state.
#[derive(Clone)]
pub struct Payments {
    pub ctx: Context,
    pub provider: Arc<dyn PaymentProvider>,
    pub saga: Arc<dyn Saga>,
    /// Verifies the provider's webhooks.
    pub webhook_secret: WebhookSecret,
}

/// The `authorizePayment` task of the checkout definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeTask {
    pub order_id: OrderId,
    pub user_id: String,
    pub amount: Money,
    /// The shopper's payment method token (sandbox: `tok_visa`, ...).
    pub payment_token: String,
    /// The saga task waiting for the outcome.
    pub task_token: String,
    pub correlation_id: String,
}

/// Asks the provider to authorize the order's payment; the outcome reaches
/// the saga later (webhook), or at once when it is already known or the
/// provider refuses outright.
///
/// Idempotent per order: the first call creates the pending payment with
/// the task token; a repeated call (a retried task state, with a new
/// token) stores the new token and asks the provider again (it is
/// idempotent per payment id); once the outcome is known a repeated call
/// resumes the saga with it.
pub async fn authorize(p: &Payments, task: AuthorizeTask) -> Result<(), PaymentsError> {
    let store = p.ctx.store.as_ref();
    let task = &task;
    optimistic::retry(&POLICY, move |_| async move {
        let now = p.ctx.clock.now();
        let payment = match record::get(store, &task.order_id).await? {
            None => {
                let payment = Payment::pending(
                    PaymentId::generate(p.ctx.ids.as_ref()),
                    &task.order_id,
                    &task.user_id,
                    task.amount,
                    p.provider.name(),
                    &task.task_token,
                    &task.correlation_id,
                    now,
                );
                match record::create(store, &payment).await {
                    Ok(()) => payment,
                    Err(e) if lost_race(&e, &[]) => return Ok(Attempt::Retry),
                    Err(e) => return Err(e.into()),
                }
            }
            Some(existing) if existing.status == PaymentStatus::Pending => {
                if existing.task_token.as_deref() == Some(task.task_token.as_str()) {
                    existing
                } else {
                    match record::set_task_token(store, &existing, &task.task_token, now).await {
                        Ok(updated) => updated,
                        Err(e) if lost_race(&e, &[]) => return Ok(Attempt::Retry),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Some(settled) => {
                // The outcome is known: this task gets it now.
                tracing::info!(order_id = %task.order_id, status = %settled.status, "payment already settled; resuming at once");
                return resume::send(p, &task.task_token, &settled)
                    .await
                    .map(Attempt::Done);
            }
        };
        if payment.amount != task.amount {
            tracing::warn!(order_id = %task.order_id, recorded = ?payment.amount, asked = ?task.amount, "authorize asked for another amount than recorded; the recorded amount is used");
        }
        let request = AuthorizeRequest {
            payment_id: payment.payment_id.to_string(),
            order_id: payment.order_id.to_string(),
            amount: payment.amount,
            token: task.payment_token.clone(),
        };
        let asked = match p.provider.authorize(&request).await {
            Ok(()) => {
                tracing::info!(order_id = %task.order_id, payment_id = %payment.payment_id, "authorization requested");
                Ok(())
            }
            Err(ProviderError::Declined(reason)) => {
                tracing::info!(order_id = %task.order_id, %reason, "the provider declined outright");
                declined(p, payment, task, FailureReason::from_provider(&reason)).await
            }
            Err(e) => Err(e.into()),
        };
        asked.map(Attempt::Done)
    })
    .await
}

/// pending → failed for a synchronous decline, then the saga hears it.
async fn declined(
    p: &Payments,
    payment: Payment,
    task: &AuthorizeTask,
    reason: FailureReason,
) -> Result<(), PaymentsError> {
    let store = p.ctx.store.as_ref();
    let read = &payment;
    optimistic::retry(&POLICY, move |attempt| async move {
        // The payment as read by the caller first, then as it is now.
        let payment = match attempt {
            0 => read.clone(),
            _ => record::get(store, &task.order_id)
                .await?
                .ok_or(PaymentsError::NotFound)?,
        };
        if payment.status != PaymentStatus::Pending {
            // A webhook settled it meanwhile: that outcome stands.
            return resume::send(p, &task.task_token, &payment)
                .await
                .map(Attempt::Done);
        }
        let now = p.ctx.clock.now();
        let t = PaymentStatus::Pending
            .to(PaymentStatus::Failed)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let details = ChangeDetails {
            failure: Some(reason),
            clear_token: true,
            ..Default::default()
        };
        let event = events::failed(
            p.ctx.ids.as_ref(),
            now,
            &payment,
            reason,
            &task.correlation_id,
        );
        let ops = vec![
            record::transition_op(&payment, t, &details, now),
            lite_events::outbox::put(&event),
        ];
        match store.transact(ops).await {
            Ok(()) => {
                lite_metrics::payment_authorization(reason.authorization_outcome());
                let mut failed = payment.clone();
                failed.status = PaymentStatus::Failed;
                failed.failure_reason = Some(reason.as_str().to_owned());
                resume::send(p, &task.task_token, &failed)
                    .await
                    .map(Attempt::Done)
            }
            Err(e) if lost_race(&e, &[record::PAYMENT_OP]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Why a payment is given back: the saga's failure reasons, or the order
/// being cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoidReason {
    OutOfStock,
    PaymentDeclined,
    PaymentTimeout,
    CheckoutError,
    OrderCancelled,
}

impl VoidReason {
    fn refund_reason(self) -> RefundReason {
        match self {
            VoidReason::OrderCancelled => RefundReason::OrderCancelled,
            _ => RefundReason::CheckoutCompensation,
        }
    }

    /// A payment still pending when checkout gives up failed because of
    /// this.
    fn pending_failure(self) -> FailureReason {
        match self {
            VoidReason::PaymentTimeout => FailureReason::Timeout,
            _ => FailureReason::ProviderError,
        }
    }
}

/// What [`void_for_order`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoidOutcome {
    /// No payment was ever asked for.
    NoPayment,
    /// It was pending: now failed, nobody waits for it.
    Failed,
    /// The authorization was released at the provider.
    Voided,
    /// Captured money went back.
    Refunded,
    /// Nothing is held: it was already failed, voided or refunded.
    NothingHeld(PaymentStatus),
}

/// Leaves no money held for the order: pending → failed, authorized →
/// voided (provider void), captured → refunded (provider refund);
/// otherwise nothing. Idempotent.
pub async fn void_for_order(
    p: &Payments,
    order_id: &OrderId,
    reason: VoidReason,
    correlation_id: &str,
) -> Result<VoidOutcome, PaymentsError> {
    let store = p.ctx.store.as_ref();
    optimistic::retry(&POLICY, move |_| async move {
        let Some(payment) = record::get(store, order_id).await? else {
            return Ok(Attempt::Done(VoidOutcome::NoPayment));
        };
        let ids = p.ctx.ids.as_ref();
        let (to, outcome, details) = match payment.status {
            PaymentStatus::Pending => (
                PaymentStatus::Failed,
                VoidOutcome::Failed,
                ChangeDetails {
                    failure: Some(reason.pending_failure()),
                    clear_token: true,
                    ..Default::default()
                },
            ),
            PaymentStatus::Authorized => (
                PaymentStatus::Voided,
                VoidOutcome::Voided,
                ChangeDetails {
                    note: Some(note(reason)),
                    clear_token: true,
                    ..Default::default()
                },
            ),
            PaymentStatus::Captured => (
                PaymentStatus::Refunded,
                VoidOutcome::Refunded,
                ChangeDetails {
                    note: Some(note(reason)),
                    clear_token: true,
                    ..Default::default()
                },
            ),
            settled @ (PaymentStatus::Failed | PaymentStatus::Voided | PaymentStatus::Refunded) => {
                return Ok(Attempt::Done(VoidOutcome::NothingHeld(settled)));
            }
        };
        let t = payment
            .status
            .to(to)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        // The provider first: if it fails nothing is recorded and the call
        // is retried (its void and refund are idempotent per payment).
        let pid = payment.payment_id.as_str();
        let event = match outcome {
            VoidOutcome::Voided => {
                p.provider.void(pid).await?;
                let now = p.ctx.clock.now();
                events::refunded(
                    ids,
                    now,
                    &payment,
                    RefundKind::Void,
                    reason.refund_reason(),
                    correlation_id,
                )
            }
            VoidOutcome::Refunded => {
                p.provider.refund(pid, payment.amount).await?;
                let now = p.ctx.clock.now();
                events::refunded(
                    ids,
                    now,
                    &payment,
                    RefundKind::Refund,
                    reason.refund_reason(),
                    correlation_id,
                )
            }
            _ => {
                let failure = reason.pending_failure();
                events::failed(ids, p.ctx.clock.now(), &payment, failure, correlation_id)
            }
        };
        let now = p.ctx.clock.now();
        let ops: Vec<TxOp> = vec![
            record::transition_op(&payment, t, &details, now),
            lite_events::outbox::put(&event),
        ];
        match store.transact(ops).await {
            Ok(()) => {
                tracing::info!(%order_id, ?reason, from = %t.from(), to = %t.to(), "payment given back");
                // A pending payment checkout stopped waiting for: the
                // authorization timed out. (Pending → failed for another
                // reason is checkout giving up, not an answer.)
                if outcome == VoidOutcome::Failed && reason == VoidReason::PaymentTimeout {
                    lite_metrics::payment_authorization(lite_metrics::PaymentOutcome::TimedOut);
                }
                Ok(Attempt::Done(outcome))
            }
            Err(e) if lost_race(&e, &[record::PAYMENT_OP]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn note(reason: VoidReason) -> String {
    match reason {
        VoidReason::OutOfStock => "out_of_stock",
        VoidReason::PaymentDeclined => "payment_declined",
        VoidReason::PaymentTimeout => "payment_timeout",
        VoidReason::CheckoutError => "checkout_error",
        VoidReason::OrderCancelled => "order_cancelled",
    }
    .to_owned()
}

/// What [`capture_for_order`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOutcome {
    Captured,
    AlreadyCaptured,
    NoPayment,
    /// Not authorized (pending, failed, voided or refunded): nothing to take.
    NotCapturable(PaymentStatus),
}

/// authorized → captured (the provider takes the money). Idempotent.
pub async fn capture_for_order(
    p: &Payments,
    order_id: &OrderId,
    correlation_id: &str,
) -> Result<CaptureOutcome, PaymentsError> {
    let store = p.ctx.store.as_ref();
    optimistic::retry(&POLICY, move |_| async move {
        let Some(payment) = record::get(store, order_id).await? else {
            return Ok(Attempt::Done(CaptureOutcome::NoPayment));
        };
        match payment.status {
            PaymentStatus::Authorized => {}
            PaymentStatus::Captured => return Ok(Attempt::Done(CaptureOutcome::AlreadyCaptured)),
            other => return Ok(Attempt::Done(CaptureOutcome::NotCapturable(other))),
        }
        let t = payment
            .status
            .to(PaymentStatus::Captured)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        p.provider
            .capture(payment.payment_id.as_str(), payment.amount)
            .await?;
        let now = p.ctx.clock.now();
        let op = record::transition_op(&payment, t, &ChangeDetails::default(), now);
        match store.transact(vec![op]).await {
            Ok(()) => {
                tracing::info!(%order_id, correlation_id, "payment captured");
                Ok(Attempt::Done(CaptureOutcome::Captured))
            }
            Err(e) if lost_race(&e, &[record::PAYMENT_OP]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
