//! The payment record (one per order) and the dedupe item of each webhook
//! event, as items of the single table, and the conditional writes that
//! move them. Every write on a payment is conditional on the `version` it
//! was read at, so two writers (a webhook and a compensation, two webhook
//! deliveries) can never both act on the same state: the loser re-reads.

use crate::domain::{FailureReason, PaymentId, PaymentStatus, Transition};
use chrono::{DateTime, Duration, Utc};
use lite_core::{Money, OrderId};
use lite_store::{Condition, Item, Key, Store, StoreError, TxOp, Update};
use serde::{Deserialize, Serialize};

/// How long a webhook event id is remembered (providers redeliver for
/// days; 30 days is well past any retry schedule).
pub const DEDUPE_DAYS: i64 = 30;

/// One step of a payment's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub status: PaymentStatus,
    #[serde(with = "time")]
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `PK = PAYMENT#<orderId>`, `SK = PAYMENT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub user_id: String,
    pub amount: Money,
    /// The provider adapter's name, e.g. `sandbox`.
    pub provider: String,
    pub status: PaymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The saga task waiting for this payment's outcome, while one waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    /// The checkout's correlation id: events the webhook causes carry it.
    pub correlation_id: String,
    #[serde(with = "time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "time")]
    pub updated_at: DateTime<Utc>,
    pub history: Vec<HistoryEntry>,
    /// Incremented by every write (optimistic concurrency).
    pub version: i64,
}

mod time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&lite_core::rfc3339(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

pub fn key(order_id: &OrderId) -> Key {
    Key::new(format!("PAYMENT#{order_id}"), "PAYMENT")
}

pub fn dedupe_key(event_id: &str) -> Key {
    Key::new(format!("PAYEVT#{event_id}"), "PAYEVT")
}

impl Payment {
    /// A new pending payment waiting on `task_token`.
    #[allow(clippy::too_many_arguments)]
    pub fn pending(
        payment_id: PaymentId,
        order_id: &OrderId,
        user_id: &str,
        amount: Money,
        provider: &str,
        task_token: &str,
        correlation_id: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            payment_id,
            order_id: order_id.clone(),
            user_id: user_id.to_owned(),
            amount,
            provider: provider.to_owned(),
            status: PaymentStatus::Pending,
            failure_reason: None,
            task_token: Some(task_token.to_owned()),
            correlation_id: correlation_id.to_owned(),
            created_at: now,
            updated_at: now,
            history: vec![HistoryEntry {
                status: PaymentStatus::Pending,
                at: now,
                reason: None,
            }],
            version: 1,
        }
    }

    pub fn to_item(&self) -> Result<Item, StoreError> {
        let mut item = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(StoreError::Invalid(
                    "a payment serializes to an object".into(),
                ))
            }
        };
        let k = key(&self.order_id);
        item.insert(lite_store::attr::PK.into(), k.pk.into());
        item.insert(lite_store::attr::SK.into(), k.sk.into());
        item.insert("entity".into(), "payment".into());
        Ok(item)
    }

    pub fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_json::from_value(serde_json::Value::Object(item))
            .map_err(|e| StoreError::Invalid(format!("payment item is malformed: {e}")))
    }
}

/// The payment of `order_id`, if one was ever asked for.
pub async fn get(store: &dyn Store, order_id: &OrderId) -> Result<Option<Payment>, StoreError> {
    store
        .get(&key(order_id))
        .await?
        .map(Payment::from_item)
        .transpose()
}

/// Creates `payment` unless the order already has one.
pub async fn create(store: &dyn Store, payment: &Payment) -> Result<(), StoreError> {
    store
        .put(payment.to_item()?, Some(Condition::NotExists))
        .await
}

fn unchanged_since_read(p: &Payment) -> Condition {
    Condition::eq("version", p.version).and(Condition::eq("status", p.status.as_str()))
}

/// Replaces the waiting task's token (a retried task state has a new one).
pub async fn set_task_token(
    store: &dyn Store,
    p: &Payment,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Payment, StoreError> {
    let updates = [
        Update::set("taskToken", token),
        Update::set("updatedAt", lite_core::rfc3339(now)),
        Update::add("version", 1),
    ];
    let item = store
        .update(&key(&p.order_id), &updates, Some(unchanged_since_read(p)))
        .await?;
    Payment::from_item(item)
}

/// Forgets `token` once the saga was told the outcome. Only that token is
/// removed: a newer one stored meanwhile stays.
pub async fn clear_task_token(
    store: &dyn Store,
    order_id: &OrderId,
    token: &str,
) -> Result<(), StoreError> {
    let updates = [Update::remove("taskToken"), Update::add("version", 1)];
    match store
        .update(
            &key(order_id),
            &updates,
            Some(Condition::eq("taskToken", token)),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failure() => Ok(()),
        Err(e) => Err(e),
    }
}

/// The name of the op [`transition_op`] makes.
pub const PAYMENT_OP: &str = "payment";
/// The name of the op [`dedupe_op`] makes.
pub const DEDUPE_OP: &str = "webhook-event";

/// What else a status change records.
#[derive(Debug, Clone, Default)]
pub struct ChangeDetails {
    pub failure: Option<FailureReason>,
    /// The history entry's reason (defaults to the failure reason).
    pub note: Option<String>,
    /// Drop the saga task token in the same write (nobody waits any more).
    pub clear_token: bool,
}

/// The write that applies `t` to `p`, if `p` is still what was read.
pub fn transition_op(
    p: &Payment,
    t: Transition,
    details: &ChangeDetails,
    now: DateTime<Utc>,
) -> TxOp {
    let reason = details
        .note
        .clone()
        .or_else(|| details.failure.map(|f| f.as_str().to_owned()));
    let mut history = p.history.clone();
    history.push(HistoryEntry {
        status: t.to(),
        at: now,
        reason,
    });
    let history = serde_json::to_value(&history).unwrap_or_default();
    let mut updates = vec![
        Update::set("status", t.to().as_str()),
        Update::set("updatedAt", lite_core::rfc3339(now)),
        Update::set("history", history),
        Update::add("version", 1),
    ];
    if let Some(f) = details.failure {
        updates.push(Update::set("failureReason", f.as_str()));
    }
    if details.clear_token {
        updates.push(Update::remove("taskToken"));
    }
    let condition =
        Condition::eq("version", p.version).and(Condition::eq("status", t.from().as_str()));
    TxOp::update(key(&p.order_id), updates)
        .when(condition)
        .named(PAYMENT_OP)
}

/// Remembers a webhook event id (the write fails if it was seen).
pub fn dedupe_op(event_id: &str, order_id: &OrderId, now: DateTime<Utc>) -> TxOp {
    let mut item = dedupe_key(event_id).to_item();
    item.insert("entity".into(), "payment-event".into());
    item.insert("orderId".into(), order_id.as_str().into());
    item.insert("receivedAt".into(), lite_core::rfc3339(now).into());
    item.insert(
        "expiresAt".into(),
        (now + Duration::days(DEDUPE_DAYS)).timestamp().into(),
    );
    TxOp::put(item).when(Condition::NotExists).named(DEDUPE_OP)
}

/// Whether the webhook event `event_id` was already applied.
pub async fn seen(store: &dyn Store, event_id: &str) -> Result<bool, StoreError> {
    Ok(store.get(&dedupe_key(event_id)).await?.is_some())
}
