//! `amazon-lite`: the whole API on this machine.
//!
//! - `amazon-lite` (or `amazon-lite serve`): serve on `AMAZON_LITE_ADDR`.
//! - `amazon-lite routes`: print the route table as JSON (`infra/routes.json`).
//! - `amazon-lite openapi`: print the OpenAPI document.

use amazon_lite::app::{self, System};
use amazon_lite::config::{LocalConfig, Seed};
use lite_http::HttpConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "routes" => print_json(&serde_json::json!({ "routes": api::route_table() })),
        "openapi" => print_json(&api::openapi()),
        "serve" => {
            lite_http::telemetry::init();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}")),
            };
            match runtime.block_on(serve()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        "-h" | "--help" | "help" => {
            println!("usage: amazon-lite [serve | routes | openapi]\nConfiguration: see README.md (AMAZON_LITE_ADDR, AMAZON_LITE_DATA_DIR, AMAZON_LITE_SEED, ...).");
            ExitCode::SUCCESS
        }
        other => fail(&format!(
            "unknown command {other:?}; try `amazon-lite help`"
        )),
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
    let system = System::open(&config)?;
    if config.seed == Seed::Demo {
        let report = amazon_lite::seed::demo(&system.ctx).await?;
        tracing::info!(
            created = report.created,
            already_present = report.skipped,
            "demo catalog loaded"
        );
    }
    let router = app::router(
        system.ctx.clone(),
        system.verifier.clone(),
        &HttpConfig::from_env(),
    );
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(addr = %local, "listening");
    println!("Amazon Lite is serving on http://{local}  (try http://{local}/v1/products)");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("stopped");
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
