//! What other services may read of payments (they never build its keys).

use crate::domain::PaymentStatus;
use crate::record;
use chrono::{DateTime, Utc};
use lite_core::{Money, OrderId};
use lite_store::{Store, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// An order's payment as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    #[schema(example = "pay_01JAAAAAAAAAAAAAAAAAAAAAAA")]
    pub payment_id: String,
    pub status: PaymentStatus,
    pub amount: Money,
    /// The provider adapter, e.g. `sandbox`.
    #[schema(example = "sandbox")]
    pub provider: String,
    pub updated_at: DateTime<Utc>,
}

/// The payment of `order_id` and the user it belongs to.
pub async fn payment(
    store: &dyn Store,
    order_id: &OrderId,
) -> Result<Option<(PaymentView, String)>, StoreError> {
    Ok(record::get(store, order_id).await?.map(|p| {
        let view = PaymentView {
            payment_id: p.payment_id.to_string(),
            status: p.status,
            amount: p.amount,
            provider: p.provider,
            updated_at: p.updated_at,
        };
        (view, p.user_id)
    }))
}

/// The status (`pending`, `authorized`, ...) of `order_id`'s payment, if
/// one was ever asked for.
pub async fn status(store: &dyn Store, order_id: &OrderId) -> Result<Option<String>, StoreError> {
    Ok(record::get(store, order_id)
        .await?
        .map(|p| p.status.as_str().to_owned()))
}
