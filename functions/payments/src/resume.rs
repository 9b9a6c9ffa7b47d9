//! Telling the waiting saga task how a payment ended:
//! `{authorized: bool, paymentId, reason?}` (the checkout definition's
//! `AuthorizePayment` result; `reason` is present whenever `authorized` is
//! false, because the `PaymentDeclined` state reads it).

use crate::checkout::Payments;
use crate::domain::PaymentStatus;
use crate::record::{self, Payment};
use crate::PaymentsError;
use lite_saga::SagaError;
use serde_json::{json, Value};

/// The saga's view of `p`'s outcome; `None` while it is pending.
pub fn outcome(p: &Payment) -> Option<Value> {
    let id = p.payment_id.as_str();
    match p.status {
        PaymentStatus::Pending => None,
        PaymentStatus::Authorized | PaymentStatus::Captured => {
            Some(json!({"authorized": true, "paymentId": id}))
        }
        PaymentStatus::Failed => Some(json!({
            "authorized": false,
            "paymentId": id,
            "reason": p.failure_reason.as_deref().unwrap_or("provider_error"),
        })),
        PaymentStatus::Voided | PaymentStatus::Refunded => Some(json!({
            "authorized": false,
            "paymentId": id,
            "reason": p.status.as_str(),
        })),
    }
}

/// Sends `p`'s outcome to the task waiting on `token`. A task that no
/// longer waits (timed out, already resumed) makes the outcome stale: that
/// is logged and is not an error.
pub async fn send(p: &Payments, token: &str, payment: &Payment) -> Result<(), PaymentsError> {
    let Some(output) = outcome(payment) else {
        return Ok(());
    };
    match p.saga.send_task_success(token, output).await {
        Ok(()) => {
            tracing::info!(order_id = %payment.order_id, status = %payment.status, "checkout resumed with the payment outcome");
            Ok(())
        }
        Err(SagaError::TaskGone(why)) => {
            tracing::info!(order_id = %payment.order_id, status = %payment.status, %why, "no checkout task waits for this outcome any more");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Resumes the task `payment` still holds, then forgets its token. Called
/// after every outcome and again on a redelivered webhook, so a crash
/// between the commit and the resume is healed by the provider's retry.
pub async fn settle_waiting_task(p: &Payments, payment: &Payment) -> Result<(), PaymentsError> {
    let Some(token) = payment.task_token.as_deref() else {
        return Ok(());
    };
    if payment.status == PaymentStatus::Pending {
        return Ok(());
    }
    send(p, token, payment).await?;
    record::clear_task_token(p.ctx.store.as_ref(), &payment.order_id, token).await?;
    Ok(())
}
