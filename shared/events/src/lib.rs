//! Events between services: the envelope every event travels in and the
//! transactional outbox that makes publishing them as durable as the state
//! change that caused them.
//!
//! An event type is named `<entity>.<verb>` and versioned; its EventBridge
//! detail-type is `<entity>.<verb>.v<version>`, and its JSON Schema lives in
//! `events/schemas/<detail-type>.json` at the repository root.

pub mod contracts;
pub mod dlq;
pub mod handler;
pub mod idempotency;
pub mod lease;
pub mod local;
pub mod outbox;

pub use handler::{Handler, HandlerError};

use chrono::{DateTime, Utc};
use lite_core::Ids;
use serde::{Deserialize, Serialize};

/// `{id,type,version,source,time,correlationId,traceparent?,data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// `evt_<ULID>`; consumers deduplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    /// `amazon-lite.<service>`.
    pub source: String,
    #[serde(with = "millis")]
    pub time: DateTime<Utc>,
    pub correlation_id: String,
    /// W3C `traceparent` of the span that emitted the event (the relay
    /// replaces it with its publishing span's): the consumer's span
    /// continues that trace, so one order's checkout is one trace across
    /// the bus. Optional: events written before it, or outside any span,
    /// have none and start a trace of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub data: serde_json::Value,
}

impl Envelope {
    pub fn new(
        ids: &dyn Ids,
        event_type: &str,
        version: u32,
        service: &str,
        time: DateTime<Utc>,
        correlation_id: &str,
        data: serde_json::Value,
    ) -> Self {
        Self {
            id: format!("evt_{}", ids.next()),
            event_type: event_type.to_owned(),
            version,
            source: format!("amazon-lite.{service}"),
            time,
            correlation_id: correlation_id.to_owned(),
            traceparent: lite_trace::current().map(|c| c.to_traceparent()),
            data,
        }
    }

    /// The envelope continuing from `span` instead (the relays: the next
    /// hop hangs under the publishing span).
    pub fn traced_by(mut self, span: &tracing::Span) -> Self {
        if let Some(c) = lite_trace::context_of(span) {
            self.traceparent = Some(c.to_traceparent());
        }
        self
    }

    /// The EventBridge detail-type, e.g. `product.created.v1`.
    pub fn detail_type(&self) -> String {
        format!("{}.v{}", self.event_type, self.version)
    }
}

mod millis {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_without_a_traceparent_still_parses_and_writes_none() {
        let old = serde_json::json!({
            "id": "evt_1", "type": "order.created", "version": 1,
            "source": "amazon-lite.orders", "time": "2026-01-01T00:00:00.000Z",
            "correlationId": "c", "data": {}
        });
        let e: Envelope = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(e.traceparent, None);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            old,
            "no null field written"
        );
    }

    #[test]
    fn outside_a_traced_span_no_traceparent_is_made_up() {
        let e = Envelope::new(
            &lite_core::SystemIds::default(),
            "order.created",
            1,
            "orders",
            chrono::Utc::now(),
            "c",
            serde_json::json!({}),
        );
        assert_eq!(e.traceparent, None);
    }
}
