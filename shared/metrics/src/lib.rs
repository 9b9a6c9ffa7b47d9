//! Every metric the services emit, as typed constants: the name, the kind,
//! the unit and the labels (dimensions). `infra/metrics.json` is the same
//! catalog for the alarms and dashboards; `tests::catalog_matches_infra`
//! fails when the two disagree, so an alarm never watches a name no code
//! emits.
//!
//! Labels are low-cardinality by construction: route templates, not paths;
//! reasons and outcomes from closed sets; never an id.
//!
//! Recording goes through the `metrics` facade, one typed function per
//! metric ([`record`], re-exported here: `lite_metrics::orders_placed()`),
//! so call sites name no metric or label. The binary installs the
//! exporter: [`prometheus::install`] locally (`GET /metrics`),
//! [`emf::install`] on Lambda (Embedded Metric Format on stdout, written
//! by [`flush`] once per invocation). Which `service` a metric carries:
//! see [`service`].

pub mod labels;
pub mod record;
pub mod service;

#[cfg(feature = "emf")]
pub mod emf;
#[cfg(feature = "prometheus")]
pub mod prometheus;

pub use labels::*;
pub use record::*;
pub use service::{process_service, set_process_service};

/// What a metric is: a count that only grows, a distribution of
/// observations, or a value that is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
    Gauge,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Gauge => "gauge",
        }
    }
}

/// The unit as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
        }
    }
}

/// One metric of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    /// Every label the metric carries, `service` first.
    pub labels: &'static [&'static str],
    /// One line for people (Prometheus `HELP`, the dashboards).
    pub help: &'static str,
}

/// The namespace when `AMAZON_LITE_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "AmazonLite";
/// The environment variable naming the CloudWatch namespace on Lambda.
pub const NAMESPACE_ENV: &str = "AMAZON_LITE_METRICS_NAMESPACE";

/// The label every metric carries: the emitting service.
pub const SERVICE: &str = "service";

const fn metric(
    name: &'static str,
    kind: Kind,
    unit: Unit,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        unit,
        labels,
        help,
    }
}

use Kind::{Counter, Gauge, Histogram};
use Unit::{Count, Milliseconds, Seconds};

pub const HTTP_REQUESTS: Metric = metric(
    "http_requests",
    Counter,
    Count,
    &["service", "route", "method", "status_class"],
    "HTTP requests answered, by route template, method and status class (1xx, 2xx, 3xx, 4xx, 5xx; maintenance: a 503 a runtime flag asked for, such as checkout paused, which the 5xx alarms and the canary rollback do not count)",
);
pub const HTTP_REQUEST_DURATION: Metric = metric(
    "http_request_duration",
    Histogram,
    Milliseconds,
    &["service", "route", "method"],
    "time to answer an HTTP request",
);
pub const ORDERS_PLACED: Metric = metric(
    "orders_placed",
    Counter,
    Count,
    &["service"],
    "orders accepted by POST /v1/orders (202)",
);
pub const ORDERS_CONFIRMED: Metric = metric(
    "orders_confirmed",
    Counter,
    Count,
    &["service"],
    "orders that reached CONFIRMED",
);
pub const ORDERS_FAILED: Metric = metric(
    "orders_failed",
    Counter,
    Count,
    &["service", "reason"],
    "orders that reached FAILED, by reason (out_of_stock, payment_declined, payment_timeout, checkout_error)",
);
pub const ORDERS_CANCELLED: Metric = metric(
    "orders_cancelled",
    Counter,
    Count,
    &["service"],
    "orders cancelled",
);
pub const ORDERS_SHIPPED: Metric = metric(
    "orders_shipped",
    Counter,
    Count,
    &["service"],
    "orders shipped",
);
pub const CHECKOUT_DURATION: Metric = metric(
    "checkout_duration",
    Histogram,
    Milliseconds,
    &["service", "outcome"],
    "from the order's creation to its terminal checkout state (confirmed, failed)",
);
pub const PAYMENT_AUTHORIZATIONS: Metric = metric(
    "payment_authorizations",
    Counter,
    Count,
    &["service", "outcome"],
    "payment authorization outcomes (authorized, declined, timed_out)",
);
pub const STOCK_RESERVATIONS: Metric = metric(
    "stock_reservations",
    Counter,
    Count,
    &["service", "outcome"],
    "stock reservation attempts by outcome (reserved, out_of_stock)",
);
pub const LOGINS: Metric = metric(
    "logins",
    Counter,
    Count,
    &["service", "method", "outcome"],
    "sign-in attempts by method (password, google) and outcome (success, failure, throttled)",
);
pub const EVENTS_PUBLISHED: Metric = metric(
    "events_published",
    Counter,
    Count,
    &["service", "type"],
    "events handed to the bus, by event type",
);
pub const EVENTS_CONSUMED: Metric = metric(
    "events_consumed",
    Counter,
    Count,
    &["service", "consumer", "outcome"],
    "event deliveries to a consumer by outcome (ok, duplicate, retried, dead_lettered)",
);
pub const SAGA_EXECUTIONS: Metric = metric(
    "saga_executions",
    Counter,
    Count,
    &["service", "outcome"],
    "checkout saga executions by outcome (started, confirmed, refused, failed)",
);
pub const ORDERS_PENDING_OLDEST_AGE: Metric = metric(
    "orders_pending_oldest_age",
    Gauge,
    Seconds,
    &["service"],
    "age of the oldest PENDING order (stuck-order alarm)",
);

/// The whole catalog, in the order of `infra/metrics.json`.
pub const ALL: &[Metric] = &[
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    ORDERS_PLACED,
    ORDERS_CONFIRMED,
    ORDERS_FAILED,
    ORDERS_CANCELLED,
    ORDERS_SHIPPED,
    CHECKOUT_DURATION,
    PAYMENT_AUTHORIZATIONS,
    STOCK_RESERVATIONS,
    LOGINS,
    EVENTS_PUBLISHED,
    EVENTS_CONSUMED,
    SAGA_EXECUTIONS,
    ORDERS_PENDING_OLDEST_AGE,
];

/// The metric of this name, if the catalog has it.
pub fn find(name: &str) -> Option<&'static Metric> {
    ALL.iter().find(|m| m.name == name)
}

/// The status class label of an HTTP status: `2xx` … `5xx` (anything
/// outside 100..=599 is `5xx`: it is a fault of ours).
pub const fn status_class(status: u16) -> &'static str {
    StatusClass::of(status).as_str()
}

/// Gives every catalog metric its unit and help to the installed
/// recorder (exporters call it when they install).
pub fn describe() {
    for m in ALL {
        let unit = match m.unit {
            Unit::Count => metrics::Unit::Count,
            Unit::Milliseconds => metrics::Unit::Milliseconds,
            Unit::Seconds => metrics::Unit::Seconds,
        };
        match m.kind {
            Kind::Counter => metrics::describe_counter!(m.name, unit, m.help),
            Kind::Histogram => metrics::describe_histogram!(m.name, unit, m.help),
            Kind::Gauge => metrics::describe_gauge!(m.name, unit, m.help),
        }
    }
}

/// The end of a unit of work (a Lambda invocation): exporters that write
/// per invocation write now; otherwise nothing happens.
pub fn flush() {
    #[cfg(feature = "emf")]
    emf::flush();
}

/// The route label of a request no route matched: unmatched paths are
/// unbounded, so they share one value.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn infra() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/metrics.json");
        let text = std::fs::read_to_string(path).expect("infra/metrics.json is readable");
        serde_json::from_str(&text).expect("infra/metrics.json is JSON")
    }

    #[test]
    fn catalog_matches_infra() {
        let json = infra();
        assert_eq!(json["namespace"], DEFAULT_NAMESPACE);
        let listed = json["metrics"].as_array().expect("a metrics array");
        let names: Vec<&str> = listed.iter().filter_map(|m| m["name"].as_str()).collect();
        let ours: Vec<&str> = ALL.iter().map(|m| m.name).collect();
        assert_eq!(
            names, ours,
            "the code and infra/metrics.json list different metrics"
        );
        for (entry, metric) in listed.iter().zip(ALL) {
            assert_eq!(entry["kind"], metric.kind.as_str(), "{}: kind", metric.name);
            assert_eq!(entry["unit"], metric.unit.as_str(), "{}: unit", metric.name);
            let labels: Vec<&str> = entry["labels"]
                .as_array()
                .expect("labels")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(labels, metric.labels, "{}: labels", metric.name);
            assert_eq!(entry["help"], metric.help, "{}: help", metric.name);
        }
    }

    #[test]
    fn every_metric_carries_the_service_label_first() {
        for m in ALL {
            assert_eq!(m.labels.first(), Some(&SERVICE), "{}", m.name);
        }
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(302), "3xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(500), "5xx");
        assert_eq!(status_class(999), "5xx");
        assert_eq!(find("orders_failed"), Some(&ORDERS_FAILED));
        assert_eq!(find("nope"), None);
    }
}
