//! The search engine's circuit breaker: a [`SearchIndex`] decorator. After
//! [`POLICY`]`.failures` consecutive calls that found the engine
//! unavailable, calls fail at once (no request, no timeout to wait out) for
//! `open_for`; then one trial call decides. The query routes answer a
//! failing or refused call with the catalog listing where they can, else
//! 503 with `Retry-After` ([`RETRY_AFTER_SECS`]).
//!
//! The breaker is per process: on AWS each search function instance learns
//! of a failing collection by itself, which costs it a few timed-out
//! requests (see `opensearch::RequestPolicy`) before it fails fast.

use crate::index::{
    Change as IndexChange, Outcome, SearchDoc, SearchError, SearchIndex, SearchQuery, SearchResults,
};
use async_trait::async_trait;
use lite_core::breaker::{Breaker, BreakerPolicy, Change};
use lite_core::Clock;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Five calls in a row that found the engine unavailable open the circuit
/// for 15 s.
pub const POLICY: BreakerPolicy = BreakerPolicy {
    failures: 5,
    open_for: Duration::from_secs(15),
};

/// What a refused search asks the client to wait: by then the circuit is
/// half-open (or a single failure has likely passed).
pub const RETRY_AFTER_SECS: u64 = POLICY.open_for.as_secs();

/// A search index behind a circuit breaker.
pub struct GuardedIndex {
    inner: Arc<dyn SearchIndex>,
    breaker: Breaker,
    clock: Arc<dyn Clock>,
}

impl GuardedIndex {
    pub fn new(inner: Arc<dyn SearchIndex>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            breaker: Breaker::new(POLICY),
            clock,
        }
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    async fn guarded<T, F>(&self, what: &str, call: F) -> Result<T, SearchError>
    where
        F: Future<Output = Result<T, SearchError>>,
    {
        let permit = self.breaker.try_acquire(self.clock.now()).map_err(|open| {
            SearchError::Unavailable(format!(
                "{what}: the search engine's circuit is open until {}",
                lite_core::rfc3339(open.until)
            ))
        })?;
        // One span per engine call (tantivy or OpenSearch), in the trace of
        // the search or the indexing event.
        let result = call
            .instrument(tracing::info_span!("search.engine", operation = what))
            .await;
        let change = match &result {
            // A refusal of the request is an answer: the engine is up.
            Ok(_) | Err(SearchError::Invalid(_)) => self.breaker.succeeded(permit),
            Err(SearchError::Unavailable(_)) => self.breaker.failed(permit, self.clock.now()),
        };
        match change {
            Some(Change::Opened { until }) => {
                tracing::error!(open_until = %lite_core::rfc3339(until), "search engine circuit opened: searches fail fast, browsing falls back to the catalog");
            }
            Some(Change::Closed) => tracing::info!("search engine circuit closed"),
            None => {}
        }
        result
    }
}

#[async_trait]
impl SearchIndex for GuardedIndex {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.guarded("upsert", self.inner.upsert(docs)).await
    }

    async fn apply(&self, change: IndexChange) -> Result<Outcome, SearchError> {
        self.guarded("apply", self.inner.apply(change)).await
    }

    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        self.guarded("get", self.inner.get(id)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        self.guarded("search", self.inner.search(query)).await
    }

    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        self.guarded("suggest", self.inner.suggest(prefix, limit))
            .await
    }

    async fn count(&self) -> Result<u64, SearchError> {
        self.guarded("count", self.inner.count()).await
    }
}
