//! Publishing envelopes to EventBridge (PutEvents).
//!
//! Each envelope becomes one entry: `Source` = the envelope's source
//! (`amazon-lite.<service>`), `DetailType` = `<type>.v<version>`, `Detail` =
//! the whole envelope as JSON, `Time` = the event's time, on the bus named
//! by `EVENT_BUS_NAME`. Consumers' rules match on the detail-type; their
//! queues receive EventBridge's event JSON with the envelope as `detail`.
//!
//! PutEvents takes at most 10 entries and 256 KiB per request and may
//! accept some entries and refuse others (`FailedEntryCount`, a per-entry
//! `ErrorCode`). Only the refused entries are sent again, a few times with
//! backoff; what still fails is returned so the caller can retry it later
//! (the relay reports it to the stream, which redelivers).

use crate::backoff::backoff;
use async_trait::async_trait;
use aws_sdk_eventbridge::primitives::DateTime as AwsDateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use lite_core::config::{required, ConfigError};
use lite_events::Envelope;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The environment variable naming the bus.
pub const EVENT_BUS_ENV: &str = "EVENT_BUS_NAME";
/// PutEvents: entries per request.
pub const MAX_ENTRIES_PER_REQUEST: usize = 10;
/// PutEvents: total entry size per request (and so the largest entry).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Sends of one entry (the first and the retries) before giving up.
const DEFAULT_ATTEMPTS: u32 = 4;
const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(50);

/// One envelope that could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFailure {
    /// Its index in the slice given to [`Publisher::publish`].
    pub index: usize,
    /// EventBridge's error code (`ThrottlingException`, `InternalFailure`,
    /// ...) or ours (`EntryTooLarge`, `RequestFailed`).
    pub code: String,
    pub message: String,
}

/// Where the relay publishes. [`EventBridgeSink`] on AWS; tests substitute
/// their own.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// Publishes `events`; returns those that were not published (empty
    /// when all were), in index order.
    async fn publish(&self, events: &[Envelope]) -> Vec<PublishFailure>;
}

/// [`Publisher`] on an EventBridge bus. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventBridgeSink {
    client: Client,
    bus: Arc<str>,
    attempts: u32,
    base_delay: Duration,
}

impl EventBridgeSink {
    /// Publishes to `bus` (name or ARN) with `client` (build it once per process).
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: Arc::from(bus.into()),
            attempts: DEFAULT_ATTEMPTS,
            base_delay: DEFAULT_BASE_DELAY,
        }
    }

    /// A sink on the bus named by `EVENT_BUS_NAME`, with a client from
    /// `config` (no network: credentials resolve on the first call).
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(config), required(EVENT_BUS_ENV)?))
    }

    /// Sends of a refused entry (at least 1) and the first retry delay
    /// (doubling, with jitter).
    pub fn with_retries(mut self, attempts: u32, base_delay: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.base_delay = base_delay;
        self
    }

    pub fn bus(&self) -> &str {
        &self.bus
    }

    fn entry(&self, event: &Envelope) -> Result<(PutEventsRequestEntry, usize), String> {
        let detail = serde_json::to_string(event).map_err(|e| e.to_string())?;
        let detail_type = event.detail_type();
        // EventBridge's entry size: Time (14 bytes) + Source + DetailType + Detail.
        let size = 14 + event.source.len() + detail_type.len() + detail.len();
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(self.bus.as_ref())
            .source(&event.source)
            .detail_type(detail_type)
            .detail(detail)
            .time(AwsDateTime::from_millis(event.time.timestamp_millis()))
            .build();
        Ok((entry, size))
    }

    /// Sends one request's entries, resending the refused ones; returns
    /// those still refused with the last reason.
    async fn send_batch(
        &self,
        mut pending: Vec<(usize, PutEventsRequestEntry)>,
    ) -> Vec<PublishFailure> {
        let mut reasons: Vec<(String, String)> = Vec::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(backoff(self.base_delay, attempt - 1)).await;
            }
            let entries = pending.iter().map(|(_, e)| e.clone()).collect();
            let call = tracing::info_span!(
                "eventbridge.PutEvents",
                bus = %self.bus,
                entries = pending.len(),
                attempt = attempt + 1,
            );
            match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .instrument(call)
                .await
            {
                Ok(out) => {
                    let results = out.entries();
                    let mut refused = Vec::new();
                    reasons.clear();
                    for (i, (index, entry)) in pending.into_iter().enumerate() {
                        match results.get(i) {
                            Some(r) if r.error_code().is_none() => {}
                            Some(r) => {
                                reasons.push((
                                    r.error_code().unwrap_or_default().to_owned(),
                                    r.error_message().unwrap_or_default().to_owned(),
                                ));
                                refused.push((index, entry));
                            }
                            None => {
                                reasons.push((
                                    "MissingResult".into(),
                                    "PutEvents returned fewer results than entries".into(),
                                ));
                                refused.push((index, entry));
                            }
                        }
                    }
                    pending = refused;
                }
                Err(e) => {
                    let code = e
                        .as_service_error()
                        .and_then(|s| aws_sdk_eventbridge::error::ProvideErrorMetadata::code(s))
                        .unwrap_or("RequestFailed")
                        .to_owned();
                    let message =
                        format!("{}", aws_sdk_eventbridge::error::DisplayErrorContext(&e));
                    reasons = vec![(code, message); pending.len()];
                }
            }
            if pending.is_empty() {
                return Vec::new();
            }
            tracing::warn!(
                bus = %self.bus,
                attempt = attempt + 1,
                refused = pending.len(),
                code = reasons.first().map(|r| r.0.as_str()).unwrap_or_default(),
                "PutEvents refused entries"
            );
        }
        pending
            .into_iter()
            .zip(reasons)
            .map(|((index, _), (code, message))| PublishFailure {
                index,
                code,
                message,
            })
            .collect()
    }
}

#[async_trait]
impl Publisher for EventBridgeSink {
    async fn publish(&self, events: &[Envelope]) -> Vec<PublishFailure> {
        let mut failures = Vec::new();
        let mut batch: Vec<(usize, PutEventsRequestEntry)> = Vec::new();
        let mut batch_bytes = 0;
        for (index, event) in events.iter().enumerate() {
            let (entry, size) = match self.entry(event) {
                Ok(built) => built,
                Err(message) => {
                    failures.push(PublishFailure {
                        index,
                        code: "InvalidEvent".into(),
                        message,
                    });
                    continue;
                }
            };
            if size > MAX_REQUEST_BYTES {
                // Never accepted, however often it is sent.
                failures.push(PublishFailure {
                    index,
                    code: "EntryTooLarge".into(),
                    message: format!(
                        "event {} is {size} bytes; PutEvents takes {MAX_REQUEST_BYTES}",
                        event.id
                    ),
                });
                continue;
            }
            if batch.len() == MAX_ENTRIES_PER_REQUEST || batch_bytes + size > MAX_REQUEST_BYTES {
                failures.extend(self.send_batch(std::mem::take(&mut batch)).await);
                batch_bytes = 0;
            }
            batch.push((index, entry));
            batch_bytes += size;
        }
        if !batch.is_empty() {
            failures.extend(self.send_batch(batch).await);
        }
        failures.sort_by_key(|f| f.index);
        failures
    }
}
