//! The `PaymentProvider` port: what payments asks of a card processor.
//! Authorization is asynchronous (the outcome arrives later through the
//! provider's signed webhook); void, capture and refund answer at once.

use async_trait::async_trait;
use lite_core::Money;

/// One authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// Ours (`pay_<ULID>`): the provider echoes it in its webhooks and it
    /// is the idempotency key of every later call.
    pub payment_id: String,
    pub order_id: String,
    pub amount: Money,
    /// The shopper's payment method token.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused outright (e.g. an unknown token); `reason` is
    /// its machine reason, e.g. `invalid_token`. Never retried.
    #[error("declined by the provider: {0}")]
    Declined(String),
    /// The provider could not be reached or failed; the same call may
    /// succeed later (every call is idempotent per payment id).
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Stable adapter name recorded on each payment, e.g. `sandbox`.
    fn name(&self) -> &'static str;

    /// Starts an authorization; `Ok` means accepted, the outcome follows
    /// as a webhook (`payment.authorized` or `payment.failed`).
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<(), ProviderError>;

    /// Releases an authorization (no money moved).
    async fn void(&self, payment_id: &str) -> Result<(), ProviderError>;

    /// Takes the authorized money.
    async fn capture(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError>;

    /// Returns captured money.
    async fn refund(&self, payment_id: &str, amount: Money) -> Result<(), ProviderError>;
}
