//! What counting one answered request costs (`lite_metrics::http_request`)
//! under the local API's Prometheus recorder: the handles a thread keeps
//! against a look-up in the recorder's registry for every request (what
//! a local recorder gets). Prints ns per request, the median of 7 rounds.
//!
//! `cargo bench -p lite-metrics --features prometheus --bench http_request`

use lite_metrics::{http_request, StatusClass};
use std::time::{Duration, Instant};

const REQUESTS: u32 = 200_000;
const ROUNDS: usize = 7;

const ROUTES: [&str; 4] = [
    "/v1/products/{id}",
    "/v1/products",
    "/v1/carts/{id}/items",
    "/v1/orders/{id}",
];

fn requests() {
    for i in 0..REQUESTS {
        let route = ROUTES[i as usize % ROUTES.len()];
        http_request(
            Some(route),
            "GET",
            StatusClass::of(200),
            Duration::from_micros(u64::from(i % 900)),
        );
    }
}

fn measure(name: &str, run: impl Fn()) {
    run();
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_nanos() as f64 / f64::from(REQUESTS)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("{name:<48} {:>6.0} ns/request", rounds[ROUNDS / 2]);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();
    let _handle = lite_metrics::prometheus::install().expect("the Prometheus recorder");
    println!("http_request, 4 routes in turn, Prometheus recorder:");
    measure("handles kept per thread", requests);
    let local = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    measure("looked up for each request (a local recorder)", || {
        metrics::with_local_recorder(&local, requests)
    });
}
