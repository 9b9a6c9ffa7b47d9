//! The events backbone on AWS.
//!
//! ```text
//! service transaction ──► table (state + OUTBOX#<id> item)
//!        │ DynamoDB Streams (INSERT, PK prefix OUTBOX#)
//!        ▼
//!   relay (Lambda) ── PutEvents ──► EventBridge bus `amazon-lite` (archived)
//!        │ marks the outbox item published     │ one rule per consumer (detail-types)
//!                                               ▼
//!                              SQS queue per consumer ──► its DLQ after 5 receives
//!                                               │
//!                                consumer (Lambda) ─ handle_once ─► Handler
//! ```
//!
//! - [`sink`]: [`EventBridgeSink`], PutEvents in batches, resending only
//!   refused entries.
//! - [`relay`]: [`Relay`], the stream handler (`functions/relay` runs it).
//! - [`consumer`]: [`process_batch`] and [`run_consumer`], what a consumer
//!   binary's `main` calls.
//! - [`dlq`]: list and redrive a DLQ (the `events-ops` binary).
//!
//! Locally, the same [`Handler`](lite_events::Handler)s run on the
//! in-process bus of `lite-events`; both transports wrap them in
//! `lite_events::idempotency::handle_once`.

mod backoff;
pub mod consumer;
pub mod dlq;
pub mod dynamo_json;
pub mod relay;
pub mod sink;
pub mod telemetry;

pub use consumer::{process_batch, run_consumer, run_consumer_with};
/// What a consumer binary's `main` returns (`lambda_runtime::Error`).
pub use lambda_runtime::Error as LambdaError;
pub use relay::Relay;
pub use sink::{EventBridgeSink, PublishFailure, Publisher};
