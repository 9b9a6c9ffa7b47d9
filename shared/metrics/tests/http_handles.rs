//! `http_request` through the handles it keeps per thread once the global
//! recorder is remembered (`cache_http_handles`): every request is counted
//! once, into the recorder in use. Its own test binary, because it installs
//! the process's global recorder.

use lite_metrics::{cache_http_handles, http_request, StatusClass, HTTP_REQUESTS};
use lite_metrics::{HTTP_REQUEST_DURATION, UNMATCHED_ROUTE};
use metrics::{SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::CompositeKey;
use std::time::Duration;

type Taken = Vec<(CompositeKey, Option<Unit>, Option<SharedString>, DebugValue)>;

/// What was recorded since the last call (a snapshot drains the recorder).
fn take(snapshotter: &Snapshotter) -> Taken {
    snapshotter.snapshot().into_vec()
}

/// The `http_requests` count and the number of `http_request_duration`
/// values of one route and method (and, for the count, status class).
fn counts(taken: &Taken, route: &str, method: &str, class: &str) -> (u64, usize) {
    let mut count = 0;
    let mut durations = 0;
    for (key, _, _, value) in taken {
        let key = key.key();
        let label = |name: &str| {
            key.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_owned())
        };
        if label("route").as_deref() != Some(route) || label("method").as_deref() != Some(method) {
            continue;
        }
        match value {
            DebugValue::Counter(n)
                if key.name() == HTTP_REQUESTS.name
                    && label("status_class").as_deref() == Some(class) =>
            {
                count += *n
            }
            DebugValue::Histogram(values) if key.name() == HTTP_REQUEST_DURATION.name => {
                durations += values.len()
            }
            _ => {}
        }
    }
    (count, durations)
}

fn request(route: Option<&str>, method: &str, status: u16) {
    http_request(
        route,
        method,
        StatusClass::of(status),
        Duration::from_millis(2),
    );
}

#[test]
fn kept_handles_count_into_the_recorder_in_use() {
    let global = DebuggingRecorder::new();
    let global_counts = global.snapshotter();
    metrics::set_global_recorder(global).expect("the only global recorder of this binary");
    cache_http_handles();

    let product = "/v1/products/{id}";
    // This thread looks the handles up, then counts through them; another
    // thread keeps its own.
    for _ in 0..3 {
        request(Some(product), "GET", 200);
    }
    request(Some(product), "GET", 503);
    request(Some(product), "DELETE", 204);
    std::thread::spawn(move || {
        request(Some(product), "GET", 200);
        request(Some(product), "GET", 200);
        request(None, "BREW", 404);
    })
    .join()
    .unwrap();
    request(None, "GET", 404);

    let taken = take(&global_counts);
    assert_eq!(counts(&taken, product, "GET", "2xx"), (5, 6));
    assert_eq!(counts(&taken, product, "GET", "5xx"), (1, 6));
    assert_eq!(counts(&taken, product, "DELETE", "2xx"), (1, 1));
    // An unmatched request and an unknown method: one label set each.
    assert_eq!(counts(&taken, UNMATCHED_ROUTE, "OTHER", "4xx"), (1, 1));
    assert_eq!(counts(&taken, UNMATCHED_ROUTE, "GET", "4xx"), (1, 1));

    // A local recorder in use on this thread gets the requests made under
    // it, though this thread keeps the global recorder's handles.
    let local = DebuggingRecorder::new();
    let local_counts = local.snapshotter();
    metrics::with_local_recorder(&local, || {
        request(Some(product), "GET", 200);
        request(Some(product), "GET", 200);
    });
    assert_eq!(counts(&take(&local_counts), product, "GET", "2xx"), (2, 2));
    assert_eq!(counts(&take(&global_counts), product, "GET", "2xx"), (0, 0));

    // And the global recorder again once the local one is gone.
    request(Some(product), "GET", 200);
    assert_eq!(counts(&take(&global_counts), product, "GET", "2xx"), (1, 1));
}
