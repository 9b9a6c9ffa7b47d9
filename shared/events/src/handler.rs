//! What a consumer of events implements, whichever transport delivers them
//! (SQS on AWS, the in-process bus locally).

use crate::Envelope;
use async_trait::async_trait;

/// Why handling an event failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Try again later (a dependency is down, a race was lost). The
    /// transport redelivers with backoff and, after its receive limit,
    /// moves the event to the consumer's dead-letter queue.
    #[error("retryable: {0}")]
    Retry(String),
    /// The event can never be handled (malformed, unknown version). It goes
    /// to the dead-letter queue at once.
    #[error("poison: {0}")]
    Poison(String),
}

/// A consumer: one named queue on AWS (its own SQS queue and DLQ, fed by an
/// EventBridge rule on `detail_types`), one named queue on the local bus.
///
/// `handle` may be called more than once for one event (delivery is at
/// least once); the transport wraps it with an idempotency record keyed by
/// (consumer, event id), so an event that was handled successfully is not
/// handled again.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Stable consumer name, e.g. `search-indexer` (queue and record names).
    fn name(&self) -> &'static str;

    /// The detail-types this consumer receives, e.g. `product.created.v1`.
    /// List every version it accepts (current and previous).
    fn detail_types(&self) -> &'static [&'static str];

    /// Deliveries of this consumer the local bus handles at once, when the
    /// consumer gains from more than the bus's `concurrency` (a handler
    /// whose writes are group-committed: the search indexer commits the
    /// changes in flight together). `None`: the bus's.
    fn concurrency(&self) -> Option<usize> {
        None
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError>;
}
