//! The Lambda exporter: CloudWatch Embedded Metric Format lines on stdout
//! (feature `emf`), which Lambda's log pipeline turns into metrics with no
//! API call, no client and no extra latency.
//!
//! Each line is one document per label set:
//! `{"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":…,
//! "Dimensions":[[labels…]],"Metrics":[{"Name":…,"Unit":…}]}]},
//! "<label>":"<value>",…,"<metric>":<value or [values]>}`; the one
//! dimension set is exactly the metric's labels (`service` first), as in
//! `infra/metrics.json`. The values accumulated since the last [`flush`]
//! are written by it: once per invocation, after the handler.

use metrics_cloudwatch_embedded::{Builder, Collector};
use std::sync::OnceLock;

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Why the exporter could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the EMF metrics exporter: {0}")]
pub struct InstallError(String);

/// Installs the EMF recorder, namespace from
/// [`NAMESPACE_ENV`](crate::NAMESPACE_ENV) (default
/// [`DEFAULT_NAMESPACE`](crate::DEFAULT_NAMESPACE)), and names this
/// process's service. A second call changes nothing.
pub fn install(service: &'static str) -> Result<(), InstallError> {
    crate::service::set_process_service(service);
    if COLLECTOR.get().is_some() {
        return Ok(());
    }
    let namespace = std::env::var(crate::NAMESPACE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| crate::DEFAULT_NAMESPACE.to_owned());
    let collector = Builder::new()
        .cloudwatch_namespace(namespace)
        .init()
        .map_err(|e| InstallError(e.to_string()))?;
    crate::record::cache_http_handles();
    crate::describe();
    let _ = COLLECTOR.set(collector);
    Ok(())
}

/// Writes what was counted since the last flush to stdout, if the
/// exporter is installed. A write error is logged, never raised: metrics
/// must not fail an invocation.
pub fn flush() {
    if let Some(collector) = COLLECTOR.get() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if let Err(e) = collector.flush(&mut out) {
            tracing::warn!(error = %e, "cannot write metrics");
        }
    }
}
