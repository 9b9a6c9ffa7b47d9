//! The events payments emits, built from the payment they describe.

use crate::record::Payment;
use chrono::{DateTime, Utc};
use lite_core::Ids;
use lite_events::contracts::{
    PaymentAuthorizedV1, PaymentFailedV1, PaymentRefundedV1, RefundKind, RefundReason,
};
use lite_events::Envelope;

pub fn authorized(ids: &dyn Ids, now: DateTime<Utc>, p: &Payment) -> Envelope {
    let data = PaymentAuthorizedV1 {
        payment_id: p.payment_id.to_string(),
        order_id: p.order_id.to_string(),
        amount: p.amount,
        provider: p.provider.clone(),
    };
    Envelope::of(ids, now, &p.correlation_id, &data)
}

pub fn failed(
    ids: &dyn Ids,
    now: DateTime<Utc>,
    p: &Payment,
    reason: crate::domain::FailureReason,
    correlation_id: &str,
) -> Envelope {
    let data = PaymentFailedV1 {
        payment_id: p.payment_id.to_string(),
        order_id: p.order_id.to_string(),
        amount: p.amount,
        provider: p.provider.clone(),
        reason: reason.to_event(),
    };
    Envelope::of(ids, now, correlation_id, &data)
}

pub fn refunded(
    ids: &dyn Ids,
    now: DateTime<Utc>,
    p: &Payment,
    kind: RefundKind,
    reason: RefundReason,
    correlation_id: &str,
) -> Envelope {
    let data = PaymentRefundedV1 {
        payment_id: p.payment_id.to_string(),
        order_id: p.order_id.to_string(),
        amount: p.amount,
        provider: p.provider.clone(),
        kind,
        reason,
    };
    Envelope::of(ids, now, correlation_id, &data)
}
