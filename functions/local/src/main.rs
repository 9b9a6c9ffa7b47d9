//! `amazon-lite`: the whole API on this machine.
//!
//! - `amazon-lite` (or `amazon-lite serve`): serve on `AMAZON_LITE_ADDR`.
//! - `amazon-lite routes`: print the route table as JSON (`infra/routes.json`).
//! - `amazon-lite consumers`: print the event consumers as JSON
//!   (`infra/consumers.json`).
//! - `amazon-lite openapi`: print the OpenAPI document.

use amazon_lite::app::{self, System};
use amazon_lite::config::{LocalConfig, Seed};
use amazon_lite::seed::SeedOutcome;
use lite_http::HttpConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    amazon_lite::malloc::give_memory_back(); // before any thread: see `malloc`
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "routes" => print_json(&serde_json::json!({ "routes": api::route_table() })),
        "consumers" => match System::in_memory() {
            Ok(system) => print_json(&amazon_lite::consumers::table(&system.services)),
            Err(e) => fail(&e),
        },
        "openapi" => print_json(&api::openapi()),
        "serve" => {
            lite_http::telemetry::init();
            run(serve())
        }
        "dlq" => run(dlq(std::env::args().skip(2).collect())),
        "-h" | "--help" | "help" => {
            println!("usage: amazon-lite [serve | routes | consumers | openapi | dlq [list <consumer> [limit] | redrive <consumer>]]\nConfiguration: see README.md (AMAZON_LITE_ADDR, AMAZON_LITE_DATA_DIR, AMAZON_LITE_SEED, ...).");
            ExitCode::SUCCESS
        }
        other => fail(&format!(
            "unknown command {other:?}; try `amazon-lite help`"
        )),
    }
}

fn run(work: impl std::future::Future<Output = Result<(), String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("amazon-lite: {message}");
    ExitCode::FAILURE
}

async fn serve() -> Result<(), String> {
    let config = LocalConfig::from_env().map_err(|e| e.to_string())?;
    config.log();
    // Before the system opens: resumed checkouts and the bus count too.
    let metrics = amazon_lite::metrics::install()?;
    let system = System::open(&config)?;
    // The JWKS names the signing key from the first request on, not from
    // the first sign-in (the key files are created here on a fresh start).
    let keys = auth::KeyProvider::data_dir(&config.data_dir)
        .publish_now(system.ctx.store.as_ref(), system.ctx.clock.as_ref())
        .await?;
    tracing::info!(kid = keys.kid(), "token signing key published");
    // The listener is bound first: the sandbox payment provider needs the
    // address for its webhooks before any checkout (resumed ones included)
    // asks it for a payment.
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    system.serve_on(local);
    // The demo catalog is written before the background starts: its
    // events wait in the outbox, and a first start's search index is built
    // from the catalog in one commit (`rebuild_if_empty`) instead of one
    // commit per product event (242 of them, about 6 s); the events then
    // find their products indexed as they are and write nothing.
    if config.seed == Seed::Demo {
        match amazon_lite::seed::demo(&system.ctx).await? {
            SeedOutcome::Loaded(r) => {
                tracing::info!(
                    created = r.created,
                    already_present = r.skipped,
                    "demo catalog loaded"
                )
            }
            SeedOutcome::AlreadyLoaded => {
                tracing::info!("demo catalog was loaded before; not again")
            }
            SeedOutcome::StoreNotEmpty => {
                tracing::info!("the store has products; demo catalog not loaded")
            }
        }
    }
    // Then the bus: events a crash left in the outbox, and the seed's, go
    // out now.
    let background = system.start_background().await?;
    if let Some((email, password)) = &config.admin {
        let outcome = auth::ensure_admin(&system.ctx, email, password)
            .await
            .map_err(|e| format!("cannot create the admin account {email}: {e}"))?;
        tracing::info!(email = %email, outcome = ?outcome, "admin account ready");
    }
    let router =
        amazon_lite::metrics::serve_at(app::router(&system, &HttpConfig::from_env()), metrics);
    tracing::info!(addr = %local, "listening");
    println!("Amazon Lite is serving on http://{local}  (try http://{local}/v1/products)");
    amazon_lite::server::serve(listener, router, config.limits, shutdown_signal()).await;
    background.shutdown().await;
    tracing::info!("stopped");
    // The spans still queued for the OTLP collector (when one is set).
    lite_trace::flush();
    Ok(())
}

/// `amazon-lite dlq` | `dlq list <consumer> [limit]` | `dlq redrive <consumer>`.
/// redb admits one process per file: run it while the server is stopped.
async fn dlq(args: Vec<String>) -> Result<(), String> {
    let config = LocalConfig::from_env().map_err(|e| e.to_string())?;
    let path = config.data_dir.join("store.redb");
    let store = lite_store::redb_store::RedbStore::open(&path).map_err(|e| {
        format!(
            "cannot open {} (is amazon-lite serving? stop it first): {e}",
            path.display()
        )
    })?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => {
            let consumers = lite_events::dlq::consumers_with_dead_letters(&store)
                .await
                .map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({ "consumers": consumers }));
        }
        ["list", consumer, rest @ ..] => {
            let limit = match rest {
                [] => 100,
                [n] => n
                    .parse()
                    .map_err(|_| format!("limit {n:?} is not a number"))?,
                _ => return Err("usage: amazon-lite dlq list <consumer> [limit]".into()),
            };
            let letters = lite_events::dlq::list(&store, consumer, limit)
                .await
                .map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({ "consumer": consumer, "deadLetters": letters }));
        }
        ["redrive", consumer] => {
            let moved = lite_events::dlq::redrive(&store, &lite_core::SystemClock, consumer)
                .await
                .map_err(|e| e.to_string())?;
            println!("{moved} dead letter(s) of {consumer} back in its queue; delivered at the next start of amazon-lite");
        }
        _ => {
            return Err(
                "usage: amazon-lite dlq [list <consumer> [limit] | redrive <consumer>]".into(),
            )
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
