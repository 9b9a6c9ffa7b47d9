//! The local exporter: a Prometheus recorder whose text the local API
//! serves at `GET /metrics` (feature `prometheus`).

use crate::{Kind, ALL, HTTP_REQUEST_DURATION};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::time::Duration;

pub use metrics_exporter_prometheus::BuildError;

/// Bucket bounds of the millisecond histograms: request and checkout
/// durations range from a fraction of a millisecond (a read on redb) to
/// the saga's payment timeout.
const MS_BUCKETS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0,
];

/// How often the recorder drains histogram samples into their buckets
/// when nobody scrapes (bounds the memory they hold).
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder as this process's recorder and
/// describes every catalog metric; fails if a recorder is already
/// installed. Call inside a Tokio runtime: it spawns the upkeep task.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let mut builder = PrometheusBuilder::new();
    for metric in ALL.iter().filter(|m| m.kind == Kind::Histogram) {
        debug_assert_eq!(metric.unit, HTTP_REQUEST_DURATION.unit);
        builder = builder.set_buckets_for_metric(Matcher::Full(metric.name.into()), MS_BUCKETS)?;
    }
    let handle = builder.install_recorder()?;
    crate::record::cache_http_handles();
    crate::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}
