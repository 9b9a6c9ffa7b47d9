//! The catalog router through the shared layers, on the embedded redb store
//! (a file in a temporary directory) holding the demo catalog (242
//! products, created through `catalog::create` like the local seed does).
//!
//! Each iteration sends one request with `tower::ServiceExt::oneshot` to a
//! clone of the finished router and reads the whole response body, so the
//! figure covers routing, every shared layer, the handler, the store reads
//! and JSON serialisation, but no socket.
//!
//! Run: `cargo bench -p catalog --bench router --no-default-features`
//! (`--no-default-features` keeps the Lambda entry point and the AWS SDK out
//! of the build). After criterion's own report this prints each median
//! against its target. It prints figures; it never fails on them.
//!
//! On a 2-vCPU VM the figures swing with where the scheduler puts the
//! threads (a wake-up on the other vCPU costs several times one on the
//! same vCPU). `taskset -c 0 cargo bench …` pins the run to one CPU for a
//! steadier comparison (see load/README.md for both figures).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use catalog::{ListParams, NewProduct, ProductId, ProductInput, Sort};
use criterion::{black_box, Criterion};
use http_body_util::BodyExt;
use lite_core::{CursorCodec, Sku};
use lite_http::{HttpConfig, TokenVerifier};
use lite_ports::{Context, Cursors};
use lite_service::Service;
use lite_store::redb_store::RedbStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The demo catalog the local API seeds; read-only here.
const DEMO: &str = include_str!("../../local/demo/products.json");

const GROUP: &str = "catalog_router";
/// Where the time goes, for reading the router figures (no targets).
const BREAKDOWN: &str = "catalog_breakdown";

/// (benchmark id, request path, target median in µs, if any).
const CASES: &[(&str, &str, Option<f64>)] = &[
    ("get_product", "/v1/products/{id}", Some(15.0)),
    (
        "list_products_limit_20",
        "/v1/products?limit=20",
        Some(150.0),
    ),
    (
        "list_laptops_price_asc_limit_20",
        "/v1/products?category=laptops&sort=price_asc&limit=20",
        None,
    ),
];

struct Fixture {
    ctx: Context,
    id: ProductId,
    app: Router,
    products: usize,
    // Kept alive for the whole run: dropping it deletes the database file.
    _dir: tempfile::TempDir,
}

async fn seed(ctx: &Context) -> (usize, ProductId) {
    let demo: Vec<serde_json::Value> = serde_json::from_str(DEMO).expect("demo catalog parses");
    let mut ids = Vec::with_capacity(demo.len());
    for mut raw in demo {
        let stock = raw
            .as_object_mut()
            .and_then(|o| o.remove("stock"))
            .and_then(|s| s.as_i64())
            .unwrap_or(10);
        let input: ProductInput = serde_json::from_value(raw).expect("demo product shape");
        let sku = Sku::parse(&input.sku).expect("demo sku");
        inventory::set_available(ctx.store.as_ref(), ctx.clock.as_ref(), &sku, stock)
            .await
            .expect("set stock");
        let new = NewProduct::parse(input).expect("demo product is valid");
        let product = catalog::create(ctx, new).await.expect("create product");
        ids.push(product.id);
    }
    // A product from the middle of the catalog: nothing special about its key.
    let id = ids[ids.len() / 2].clone();
    (ids.len(), id)
}

fn fixture(rt: &Runtime) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(&dir.path().join("store.redb")).expect("open redb");
    let ctx = Context::new(
        Arc::new(store),
        Cursors::ready(CursorCodec::new(CursorCodec::random_key())),
    );
    let (products, id) = rt.block_on(seed(&ctx));
    let app = lite_http::finish(
        catalog::Catalog::new(ctx.clone()).router(),
        Arc::new(TokenVerifier::new()),
        &HttpConfig::default(),
    );
    Fixture {
        ctx,
        id,
        app,
        products,
        _dir: dir,
    }
}

async fn call(app: &Router, path: &str) -> (StatusCode, usize) {
    let request = Request::builder()
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.len())
}

fn criterion_dir() -> PathBuf {
    // Where criterion 0.5 writes: $CRITERION_HOME, else <target dir>/criterion.
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("criterion")
}

/// The median point estimate (ns) criterion wrote for `id` during this run.
fn median_ns(id: &str, since: SystemTime) -> Option<f64> {
    median_ns_in(GROUP, id, since)
}

fn median_ns_in(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None; // from an earlier run (filtered out this time)
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    let started = SystemTime::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    eprintln!("load average (1/5/15 min) at the start: {}", load_average());
    let t = std::time::Instant::now();
    let fx = fixture(&rt);
    eprintln!(
        "seeded {} products into redb (file) in {:.2?}",
        fx.products,
        t.elapsed()
    );

    // Every request must succeed before it is worth timing.
    for (_, path, _) in CASES {
        let path = path.replace("{id}", fx.id.as_str());
        let (status, len) = rt.block_on(call(&fx.app, &path));
        assert_eq!(status, StatusCode::OK, "GET {path}");
        eprintln!("GET {path} -> {status}, {len} bytes");
    }

    // Pinned so the summary below finds the estimates however the binary is
    // started (criterion would otherwise ask cargo, or use ./target).
    let mut c = Criterion::default()
        .configure_from_args()
        .output_directory(&criterion_dir())
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    {
        let mut group = c.benchmark_group(GROUP);
        for (id, path, _) in CASES {
            let path = path.replace("{id}", fx.id.as_str());
            let app = &fx.app;
            group.bench_function(*id, |b| {
                b.to_async(&rt).iter(|| {
                    let path = path.as_str();
                    async move { black_box(call(app, path).await.1) }
                })
            });
        }
        group.finish();
    }
    breakdown(&mut c, &rt, &fx);
    c.final_summary();

    println!();
    println!("load average (1/5/15 min) at the end: {}", load_average());
    println!(
        "catalog router medians (redb file, {} products):",
        fx.products
    );
    for (id, path, target) in CASES {
        let Some(ns) = median_ns(id, started) else {
            println!("  {id:<34} (not measured in this run)");
            continue;
        };
        let us = ns / 1000.0;
        let verdict = match target {
            Some(t) if us < *t => format!("target < {t} µs: met"),
            Some(t) => format!("target < {t} µs: MISSED"),
            None => "no target".to_owned(),
        };
        println!("  {id:<34} median {us:>8.1} µs   {verdict}   GET {path}");
    }
    println!("breakdown medians (same store, no HTTP):");
    for (id, what) in BREAKDOWN_CASES {
        match median_ns_in(BREAKDOWN, id, started) {
            Some(ns) => println!("  {id:<34} median {:>8.1} µs   {what}", ns / 1000.0),
            None => println!("  {id:<34} (not measured in this run)"),
        }
    }
}

const BREAKDOWN_CASES: &[(&str, &str)] = &[
    (
        "spawn_blocking_hop",
        "an empty tokio::task::spawn_blocking round trip (what each store read would add on the blocking pool; the redb adapter reads in place)",
    ),
    (
        "read_product",
        "catalog::read::product: one store get + item -> Product",
    ),
    (
        "repo_get",
        "catalog::get: product get + stock batch_get (what GET /v1/products/{id} does)",
    ),
    (
        "bare_router_get_product",
        "GET /v1/products/{id} on catalog::router without lite_http::finish (no shared layers)",
    ),
    (
        "repo_list_limit_20",
        "catalog::list, newest, limit 20: GSI1 query + stock batch_get + cursor",
    ),
    (
        "store_query_gsi1_20",
        "the store query alone: 20 newest listing entries (PLIST#ALL#NEW), items decoded",
    ),
    (
        "serialize_page_20",
        "serde_json::to_vec of the 20 ProductViews GET /v1/products?limit=20 returns",
    ),
];

fn breakdown(c: &mut Criterion, rt: &Runtime, fx: &Fixture) {
    let mut group = c.benchmark_group(BREAKDOWN);
    let (ctx, id) = (&fx.ctx, &fx.id);
    group.bench_function("spawn_blocking_hop", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(tokio::task::spawn_blocking(|| 1u8).await.unwrap()) })
    });
    group.bench_function("read_product", |b| {
        b.to_async(rt).iter(|| async {
            black_box(
                catalog::read::product(ctx.store.as_ref(), id.as_str())
                    .await
                    .unwrap(),
            )
        })
    });
    group.bench_function("repo_get", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(catalog::get(ctx, id).await.unwrap()) })
    });
    let bare = catalog::Catalog::new(ctx.clone()).router();
    let path = format!("/v1/products/{id}");
    group.bench_function("bare_router_get_product", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(call(&bare, &path).await.1) })
    });
    let params = ListParams {
        category: None,
        min_price: None,
        max_price: None,
        sort: Sort::Newest,
        limit: 20,
        cursor: None,
    };
    group.bench_function("repo_list_limit_20", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(catalog::list(ctx, &params).await.unwrap()) })
    });
    // The listing partition as keys.rs lays it out (PLIST#<scope>#<order>).
    let query = lite_store::Query::new(lite_store::Index::Gsi1, "PLIST#ALL#NEW")
        .direction(lite_store::Direction::Backward)
        .limit(20);
    group.bench_function("store_query_gsi1_20", |b| {
        b.to_async(rt).iter(|| async {
            let page = ctx.store.query(&query).await.unwrap();
            assert_eq!(page.items.len(), 20);
            black_box(page)
        })
    });
    let (page, _) = rt.block_on(catalog::list(ctx, &params)).unwrap();
    group.bench_function("serialize_page_20", |b| {
        b.iter(|| black_box(serde_json::to_vec(&page).unwrap().len()))
    });
    group.finish();
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
