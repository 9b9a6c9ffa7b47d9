//! The outbox relay Lambda: the table's stream (outbox INSERTs, filtered by
//! the event source mapping) → EventBridge (`lite_events_aws::Relay`).
//!
//! Environment: `TABLE_NAME` (marks published items), `EVENT_BUS_NAME`,
//! the standard AWS variables. Init builds the clients and nothing else (no
//! network before the first batch).

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};
use lite_core::config::required;
use lite_events_aws::{EventBridgeSink, Relay};
use std::sync::Arc;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lite_events_aws::telemetry::init();
    if let Err(e) = lite_metrics::emf::install("relay") {
        tracing::warn!(error = %e, "metrics are off in this function");
    }
    let aws = lite_aws::sdk_config(lite_aws::Profile::Consumer).await;
    let store =
        lite_dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), required("TABLE_NAME")?);
    let sink = EventBridgeSink::from_env(&aws)?;
    let relay = Relay::new(
        lite_store::traced::traced("dynamodb", Arc::new(store)),
        Arc::new(sink),
        Arc::new(lite_core::SystemClock),
    );
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        // lambda_runtime's own span carries the request id and trace id.
        let span = tracing::info_span!("relay", records = event.payload.records.len());
        async move {
            let handled = relay.handle(event.payload).await;
            // Once per invocation: events_published as EMF on stdout.
            lite_metrics::flush();
            handled.map_err(lambda_runtime::Error::from)
        }
        .instrument(span)
    }))
    .await
}
