//! The whole system in this process on any store, serving HTTP on a free
//! port of 127.0.0.1, with tokens minted by the test signing key: what the
//! flash-sale test (on redb and on DynamoDB in moto) and the checkout
//! latency benchmark drive. [`Serving`] is the serving part alone, for
//! systems assembled otherwise (the cost model's counting one).

use crate::app::{self, Background, Settings, System, SystemParts};
use lite_events::local::LocalEventsConfig;
use lite_http::HttpConfig;
use lite_ports::{Context, Cursors};
use lite_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A system's router served on a free port of 127.0.0.1, its background
/// (bus, saga, sweeper) running; stopped on [`Serving::stop`].
pub struct Serving {
    pub addr: SocketAddr,
    background: Option<Background>,
    server: tokio::task::JoinHandle<()>,
}

impl Serving {
    /// Binds a free port, tells the sandbox provider the address, starts
    /// the background and serves [`app::router`] with `wrap` around it (an
    /// outer layer, e.g. the cost model's counting one; `|r| r` for none).
    pub async fn start(
        system: &System,
        wrap: impl FnOnce(axum::Router) -> axum::Router,
    ) -> Result<Serving, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        system.serve_on(addr);
        let background = system.start_background().await?;
        let router = wrap(app::router(system, &HttpConfig::default()));
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Ok(Serving {
            addr,
            background: Some(background),
            server,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops serving, then the background in order.
    pub async fn stop(mut self) {
        self.server.abort();
        if let Some(b) = self.background.take() {
            b.shutdown().await;
        }
    }
}

/// A running system with test tokens; stopped on [`Harness::stop`].
pub struct Harness {
    pub addr: SocketAddr,
    pub system: Arc<System>,
    serving: Serving,
}

impl Harness {
    /// Starts the system on `store` (`changes`: its change feed, if any).
    pub async fn start(
        store: Arc<dyn Store>,
        changes: Option<Arc<Notify>>,
        payment_timeout_secs: u64,
    ) -> Result<Harness, String> {
        let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
        let ctx = Context::new(store, Cursors::ready(codec));
        let data_dir =
            std::env::temp_dir().join(format!("amazon-lite-harness-{}", std::process::id()));
        let settings = Settings {
            timings: checkout::CheckoutTimings {
                payment_timeout_secs,
                ..Default::default()
            },
            events: LocalEventsConfig {
                // Without a change feed the bus polls: often enough to keep checkouts
                // moving, seldom enough not to swamp a remote store.
                poll_interval: Duration::from_millis(if changes.is_some() { 1000 } else { 500 }),
                backoff_base: Duration::from_millis(50),
                ..LocalEventsConfig::default()
            },
            sweep_every: Duration::from_secs(5),
            ..Settings::default()
        };
        let search = Arc::new(search::TantivyIndex::in_memory().map_err(|e| e.to_string())?);
        let system = Arc::new(System::assemble(SystemParts {
            verifier: lite_http::testing::test_verifier(),
            changes,
            settings,
            ..SystemParts::new(ctx, search, data_dir)
        })?);
        let serving = Serving::start(&system, |router| router).await?;
        Ok(Harness {
            addr: serving.addr,
            system,
            serving,
        })
    }

    pub fn url(&self, path: &str) -> String {
        self.serving.url(path)
    }

    pub async fn stop(self) {
        self.serving.stop().await;
    }
}
