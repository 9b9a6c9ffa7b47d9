//! One function per metric: the name, the label keys and the `service`
//! value are fixed here, so a call site passes only typed values
//! (`lite_metrics::orders_failed(FailReason::PaymentDeclined)`).
//!
//! Without an installed recorder every call is a no-op (the `metrics`
//! facade's default), so libraries count unconditionally and the binary
//! picks the exporter: Prometheus locally, EMF on Lambda.

use crate::labels::{
    CheckoutOutcome, ConsumeOutcome, FailReason, LoginMethod, LoginOutcome, PaymentOutcome,
    SagaOutcome, StockOutcome,
};
use crate::service::{owner, process_service};
use crate::*;
use metrics::{counter, gauge, histogram, Counter, Histogram};
use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

/// An HTTP request answered: `route` is the matched route template
/// (`/v1/products/{id}`), `None` when no route matched; `class` is
/// [`StatusClass::of`] the status, or `Maintenance`.
pub fn http_request(route: Option<&str>, method: &str, class: StatusClass, elapsed: Duration) {
    let method = method_label(method);
    let millis = millis(elapsed);
    if http_handles::with(route, method, class, |counter, histogram| {
        counter.increment(1);
        histogram.record(millis);
    }) {
        return;
    }
    let (counter, histogram) = http_request_handles(route, method, class);
    counter.increment(1);
    histogram.record(millis);
}

/// `http_requests` and `http_request_duration` of one route, method and
/// status class, from the recorder in use (the registry look-up: the
/// labels' key built, hashed and compared).
fn http_request_handles(
    route: Option<&str>,
    method: &'static str,
    class: StatusClass,
) -> (Counter, Histogram) {
    let route = route.map_or(UNMATCHED_ROUTE, intern);
    let service = process_service();
    (
        counter!(HTTP_REQUESTS.name, "service" => service, "route" => route, "method" => method,
            "status_class" => class.as_str()),
        histogram!(HTTP_REQUEST_DURATION.name, "service" => service, "route" => route,
            "method" => method),
    )
}

/// Every request counts under the same few label sets, but finding a
/// label set's metric in the recorder's registry costs more than the
/// count itself. So once the process's global recorder is installed
/// ([`cache_http_handles`]), each thread keeps the handles it has looked up
/// and counts through them, for as long as that recorder is the one in use.
/// Under another recorder (a test's local one) every call looks up again,
/// so nothing is ever counted into a recorder that is not in use.
mod http_handles {
    use super::{http_request_handles, StatusClass, UNMATCHED_ROUTE};
    use metrics::{Counter, Histogram, Recorder};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::OnceLock;

    /// The global recorder's address, set once it is installed.
    static GLOBAL: OnceLock<usize> = OnceLock::new();

    type Handles = Vec<(&'static str, StatusClass, Counter, Histogram)>;

    thread_local! {
        /// Route template → (method, class, handles); bounded by the
        /// route table (an unmatched request is one key).
        static KEPT: RefCell<HashMap<Box<str>, Handles>> = RefCell::new(HashMap::new());
    }

    fn address(recorder: &dyn Recorder) -> usize {
        (recorder as *const dyn Recorder).cast::<()>() as usize
    }

    /// Call after installing the global recorder, outside any local one.
    pub(super) fn remember_global() {
        let _ = GLOBAL.set(metrics::with_recorder(address));
    }

    /// Runs `count` with the kept handles and returns true, or returns
    /// false (nothing counted) when the recorder in use is not the global
    /// one remembered.
    pub(super) fn with(
        route: Option<&str>,
        method: &'static str,
        class: StatusClass,
        count: impl FnOnce(&Counter, &Histogram),
    ) -> bool {
        let Some(global) = GLOBAL.get() else {
            return false;
        };
        if metrics::with_recorder(address) != *global {
            return false;
        }
        let route_key = route.unwrap_or(UNMATCHED_ROUTE);
        KEPT.with(|kept| {
            let mut kept = kept.borrow_mut();
            let handles = match kept.get_mut(route_key) {
                Some(handles) => handles,
                None => kept.entry(route_key.into()).or_default(),
            };
            let found = handles
                .iter()
                .position(|(m, c, _, _)| *m == method && *c == class);
            let index = found.unwrap_or_else(|| {
                let (counter, histogram) = http_request_handles(route, method, class);
                handles.push((method, class, counter, histogram));
                handles.len() - 1
            });
            let (_, _, counter, histogram) = &handles[index];
            count(counter, histogram);
        });
        true
    }
}

/// From now on `http_request` keeps its handles per thread while the
/// global recorder is in use (see [`http_handles`]). Call it once the
/// global recorder is installed, outside any local recorder.
pub fn cache_http_handles() {
    http_handles::remember_global();
}

/// `POST /v1/orders` accepted an order (202).
pub fn orders_placed() {
    counter!(ORDERS_PLACED.name, "service" => owner::ORDERS).increment(1);
}

/// An order moved PENDING → CONFIRMED.
pub fn orders_confirmed() {
    counter!(ORDERS_CONFIRMED.name, "service" => owner::ORDERS).increment(1);
}

/// An order moved PENDING → FAILED.
pub fn orders_failed(reason: FailReason) {
    counter!(ORDERS_FAILED.name, "service" => owner::ORDERS, "reason" => reason.as_str())
        .increment(1);
}

/// An order moved CONFIRMED → CANCELLED.
pub fn orders_cancelled() {
    counter!(ORDERS_CANCELLED.name, "service" => owner::ORDERS).increment(1);
}

/// An order moved CONFIRMED → SHIPPED.
pub fn orders_shipped() {
    counter!(ORDERS_SHIPPED.name, "service" => owner::ORDERS).increment(1);
}

/// A checkout ended: `elapsed` from the order's creation to its terminal
/// state.
pub fn checkout_duration(outcome: CheckoutOutcome, elapsed: Duration) {
    histogram!(CHECKOUT_DURATION.name, "service" => owner::ORDERS, "outcome" => outcome.as_str())
        .record(millis(elapsed));
}

/// A payment authorization reached an outcome.
pub fn payment_authorization(outcome: PaymentOutcome) {
    counter!(PAYMENT_AUTHORIZATIONS.name, "service" => owner::PAYMENTS,
        "outcome" => outcome.as_str())
    .increment(1);
}

/// A stock reservation for an order was decided.
pub fn stock_reservation(outcome: StockOutcome) {
    counter!(STOCK_RESERVATIONS.name, "service" => owner::INVENTORY,
        "outcome" => outcome.as_str())
    .increment(1);
}

/// A sign-in attempt.
pub fn login(method: LoginMethod, outcome: LoginOutcome) {
    counter!(LOGINS.name, "service" => owner::AUTH, "method" => method.as_str(),
        "outcome" => outcome.as_str())
    .increment(1);
}

/// An event handed to the bus; `detail_type` is the envelope's
/// (`order.created.v1`), a closed set of the contracts.
pub fn event_published(detail_type: &str) {
    counter!(EVENTS_PUBLISHED.name, "service" => process_service(),
        "type" => intern(detail_type))
    .increment(1);
}

/// One delivery of an event to `consumer` (a consumer's name, a closed set).
pub fn event_consumed(consumer: &'static str, outcome: ConsumeOutcome) {
    counter!(EVENTS_CONSUMED.name, "service" => process_service(), "consumer" => consumer,
        "outcome" => outcome.as_str())
    .increment(1);
}

/// A checkout saga execution started or ended.
pub fn saga_execution(outcome: SagaOutcome) {
    counter!(SAGA_EXECUTIONS.name, "service" => owner::CHECKOUT, "outcome" => outcome.as_str())
        .increment(1);
}

/// The age of the oldest PENDING order (zero when there is none).
pub fn orders_pending_oldest_age(age: Duration) {
    gauge!(ORDERS_PENDING_OLDEST_AGE.name, "service" => owner::ORDERS).set(age.as_secs_f64());
}

fn millis(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

/// The label of a method: the standard ones by name, anything else
/// `OTHER` (a method is client input: unbounded).
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// A `'static` copy of a label value from a closed set (route templates,
/// event types), made once per distinct value: a label then costs no
/// allocation per request. Only values from the route table and the event
/// contracts come here, never client input, so the set stays small.
fn intern(value: &str) -> &'static str {
    static VALUES: RwLock<Option<HashSet<&'static str>>> = RwLock::new(None);
    // Nothing panics while holding the lock, so poisoning cannot hide a
    // broken set: take it either way.
    let known = VALUES.read().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = known.as_ref().and_then(|s| s.get(value)) {
        return found;
    }
    drop(known);
    let mut set = VALUES.write().unwrap_or_else(|e| e.into_inner());
    let set = set.get_or_insert_with(HashSet::new);
    if let Some(found) = set.get(value) {
        return found;
    }
    let leaked: &'static str = Box::leak(value.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use metrics_util::MetricKind;

    type Recorded = Vec<(String, MetricKind, Vec<(String, String)>, DebugValue)>;

    fn recorded(f: impl FnOnce()) -> Recorded {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, f);
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let kind = key.kind();
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                (key.name().to_owned(), kind, labels, value)
            })
            .collect()
    }

    /// Every helper emits a catalog metric of its kind with exactly the
    /// catalog's labels, in the catalog's order.
    #[test]
    fn every_helper_emits_its_catalog_entry() {
        let all = recorded(|| {
            http_request(
                Some("/v1/products/{id}"),
                "GET",
                StatusClass::of(200),
                Duration::from_millis(3),
            );
            orders_placed();
            orders_confirmed();
            orders_failed(FailReason::PaymentDeclined);
            orders_cancelled();
            orders_shipped();
            checkout_duration(CheckoutOutcome::Confirmed, Duration::from_millis(40));
            payment_authorization(PaymentOutcome::Authorized);
            stock_reservation(StockOutcome::Reserved);
            login(LoginMethod::Password, LoginOutcome::Success);
            event_published("order.created.v1");
            event_consumed("checkout-start", ConsumeOutcome::Ok);
            saga_execution(SagaOutcome::Started);
            orders_pending_oldest_age(Duration::from_secs(7));
        });
        let mut names: Vec<&str> = all.iter().map(|(n, ..)| n.as_str()).collect();
        names.sort_unstable();
        let mut catalog: Vec<&str> = ALL.iter().map(|m| m.name).collect();
        catalog.sort_unstable();
        assert_eq!(
            names, catalog,
            "each catalog metric is emitted exactly once"
        );
        for (name, kind, labels, _) in &all {
            let metric = find(name).expect("a catalog metric");
            let expected_kind = match metric.kind {
                Kind::Counter => MetricKind::Counter,
                Kind::Histogram => MetricKind::Histogram,
                Kind::Gauge => MetricKind::Gauge,
            };
            assert_eq!(*kind, expected_kind, "{name}: kind");
            let keys: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, metric.labels, "{name}: labels");
        }
    }

    #[test]
    fn business_metrics_carry_their_owner_and_machinery_the_process() {
        let all = recorded(|| {
            orders_failed(FailReason::OutOfStock);
            payment_authorization(PaymentOutcome::Declined);
            stock_reservation(StockOutcome::OutOfStock);
            login(LoginMethod::Google, LoginOutcome::Throttled);
            saga_execution(SagaOutcome::Refused);
            event_consumed("notifications", ConsumeOutcome::DeadLettered);
        });
        let service_of = |name: &str| {
            all.iter()
                .find(|(n, ..)| n == name)
                .map(|(_, _, labels, _)| labels[0].1.clone())
                .expect(name)
        };
        assert_eq!(service_of("orders_failed"), "orders");
        assert_eq!(service_of("payment_authorizations"), "payments");
        assert_eq!(service_of("stock_reservations"), "inventory");
        assert_eq!(service_of("logins"), "auth");
        assert_eq!(service_of("saga_executions"), "checkout");
        assert_eq!(service_of("events_consumed"), process_service());
    }

    #[test]
    fn http_labels_are_bounded() {
        let all = recorded(|| {
            http_request(None, "BREW", StatusClass::of(404), Duration::from_millis(1));
            http_request(None, "BREW", StatusClass::of(404), Duration::from_millis(1));
            http_request(
                Some("/v1/orders"),
                "POST",
                StatusClass::of(503),
                Duration::from_millis(1),
            );
        });
        let requests: Vec<_> = all.iter().filter(|(n, ..)| n == "http_requests").collect();
        assert_eq!(requests.len(), 2, "two label sets: {requests:?}");
        let unmatched = requests
            .iter()
            .find(|(_, _, labels, _)| labels[1].1 == UNMATCHED_ROUTE)
            .expect("the unmatched route");
        assert_eq!(unmatched.2[2], ("method".into(), "OTHER".into()));
        assert_eq!(unmatched.2[3], ("status_class".into(), "4xx".into()));
        assert_eq!(unmatched.3, DebugValue::Counter(2));
        let orders = requests
            .iter()
            .find(|(_, _, labels, _)| labels[1].1 == "/v1/orders")
            .expect("the orders route");
        assert_eq!(orders.2[3].1, "5xx");
    }

    #[test]
    fn interned_values_are_shared() {
        let a = intern(&String::from("/v1/carts/{id}"));
        let b = intern(&String::from("/v1/carts/{id}"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "/v1/carts/{id}");
    }

    #[test]
    fn fail_reasons_parse_from_their_labels() {
        for reason in FailReason::ALL {
            assert_eq!(FailReason::parse(reason.as_str()), Some(*reason));
        }
        assert_eq!(FailReason::parse("order_123"), None);
        assert_eq!(
            FailReason::CheckoutError.saga_outcome(),
            SagaOutcome::Failed
        );
        assert_eq!(
            FailReason::PaymentDeclined.saga_outcome(),
            SagaOutcome::Refused
        );
    }
}
