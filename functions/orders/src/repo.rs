//! Reading orders and changing their status (optimistic: every write is
//! conditional on the version that was read).

use crate::domain::{Order, OrderId, Transition};
use crate::keys;
use crate::OrdersError;
use lite_events::contracts::FailureReason;
use lite_events::Envelope;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, Store, StoreError, TxOp};

/// The order item's op: conditioned on the version read (or on absence).
const ORDER: &str = "order";

/// An order and, while PENDING, its payment token.
#[derive(Debug, Clone)]
pub struct Stored {
    pub order: Order,
    pub payment_token: Option<String>,
}

pub async fn get(store: &dyn Store, id: &OrderId) -> Result<Option<Stored>, StoreError> {
    let Some(item) = store.get(&keys::order(id)).await? else {
        return Ok(None);
    };
    let (order, payment_token) = keys::order_of(&item)
        .ok_or_else(|| StoreError::Invalid(format!("order item {id} does not parse")))?;
    Ok(Some(Stored {
        order,
        payment_token,
    }))
}

/// The op that writes a new order.
pub fn create(order: &Order, payment_token: &str) -> TxOp {
    TxOp::put(keys::item(order, Some(payment_token)))
        .when(Condition::NotExists)
        .named(ORDER)
}

/// What [`transition`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Transitioned {
    /// The order moved; this is the new order.
    Moved(Order),
    /// The order was already in the target status (a repeated call).
    Already(Order),
}

/// The metrics of a move that happened (once per move: a repeated call
/// finds the order [`Transitioned::Already`] there and counts nothing).
fn count(t: &Transition, order: &Order) {
    use lite_metrics::{CheckoutOutcome, FailReason};
    let checkout_took = || {
        (order.updated_at - order.created_at)
            .to_std()
            .unwrap_or_default()
    };
    match t {
        Transition::Confirm => {
            lite_metrics::orders_confirmed();
            lite_metrics::checkout_duration(CheckoutOutcome::Confirmed, checkout_took());
        }
        Transition::Fail(reason) => {
            lite_metrics::orders_failed(match reason {
                FailureReason::OutOfStock => FailReason::OutOfStock,
                FailureReason::PaymentDeclined => FailReason::PaymentDeclined,
                FailureReason::PaymentTimeout => FailReason::PaymentTimeout,
                FailureReason::CheckoutError => FailReason::CheckoutError,
            });
            lite_metrics::checkout_duration(CheckoutOutcome::Failed, checkout_took());
        }
        Transition::Ship => lite_metrics::orders_shipped(),
        Transition::Cancel(_) => lite_metrics::orders_cancelled(),
        Transition::Deliver => {}
    }
}

/// Moves order `id` by `t` and records the event `event(new order)` in the
/// same transaction; retries when a concurrent write won the race.
/// `NotFound` when there is no such order, `Conflict` when `t` is not
/// allowed from its status.
pub async fn transition(
    ctx: &lite_ports::Context,
    id: &OrderId,
    t: Transition,
    reason: Option<String>,
    change: impl Fn(&mut Order),
    event: impl Fn(&Order) -> Envelope,
    extra: impl Fn(&Order) -> Vec<TxOp>,
) -> Result<Transitioned, OrdersError> {
    let (store, clock) = (ctx.store.as_ref(), ctx.clock.as_ref());
    let (t, reason, change, event, extra) = (&t, &reason, &change, &event, &extra);
    optimistic::retry(&POLICY, move |_| async move {
        let Some(stored) = get(store, id).await? else {
            return Err(OrdersError::NotFound);
        };
        let current = stored.order;
        if current.status == t.target() {
            return Ok(Attempt::Done(Transitioned::Already(current)));
        }
        let mut next = current
            .transitioned(t, clock.now(), reason.clone())
            .map_err(|e| {
                OrdersError::Conflict(format!(
                    "The order is {} and cannot become {}.",
                    e.from.as_str(),
                    e.to.as_str()
                ))
            })?;
        change(&mut next);
        // The payment token is needed only while the saga may still ask
        // for the payment: it leaves the item with PENDING.
        let token = match next.status {
            crate::domain::OrderStatus::Pending => stored.payment_token.as_deref(),
            _ => None,
        };
        let mut ops = vec![
            TxOp::put(keys::item(&next, token))
                .when(Condition::eq("version", current.version))
                .named(ORDER),
            lite_events::outbox::put(&event(&next)),
        ];
        ops.extend(extra(&next));
        match store.transact(ops).await {
            Ok(()) => {
                count(t, &next);
                Ok(Attempt::Done(Transitioned::Moved(next)))
            }
            Err(e) if lost_race(&e, &[ORDER]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use lite_events::contracts::FailureReason;
    use lite_metrics::FailReason;

    /// The metric's reason values are exactly the order's failure reasons,
    /// spelled as `order.failed.v1` carries them: none missing, none extra.
    #[test]
    fn fail_reason_labels_are_the_order_failure_reasons() {
        for label in FailReason::ALL {
            let wire: FailureReason = serde_json::from_value(label.as_str().into())
                .unwrap_or_else(|_| panic!("{} is not an order failure reason", label.as_str()));
            assert_eq!(serde_json::to_value(wire).unwrap(), label.as_str());
        }
        for wire in [
            FailureReason::OutOfStock,
            FailureReason::PaymentDeclined,
            FailureReason::PaymentTimeout,
            FailureReason::CheckoutError,
        ] {
            let value = serde_json::to_value(wire).unwrap();
            assert!(
                FailReason::parse(value.as_str().unwrap()).is_some(),
                "{value} has no label"
            );
        }
    }
}
