//! The whole local system with counting ports, serving HTTP on a free port
//! of 127.0.0.1: redb in a temporary directory, tantivy in memory, the
//! local bus and saga, the sandbox card network, and the session guard
//! (every authenticated request reads its session, as on AWS).

use super::http::{metered, Metered, Routes};
use super::meter::Meter;
use super::ports::{MeteredConsumer, MeteredNotifier, MeteredSearch, MeteredTasks};
use super::store::MeteredStore;
use amazon_lite::app::{Ports, Settings, System, SystemParts};
use amazon_lite::harness::Serving;
use lite_events::local::LocalEventsConfig;
use lite_ports::{Context, Cursors};
use lite_store::Store;
use std::sync::Arc;
use std::time::Duration;

pub struct MeteredSystem {
    pub system: Arc<System>,
    pub meter: Meter,
    /// The store under the counting decorator: setup and waiting read it
    /// without being counted.
    raw: Arc<dyn Store>,
    serving: Serving,
    _dir: tempfile::TempDir,
}

impl MeteredSystem {
    pub async fn start() -> Result<MeteredSystem, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let redb = lite_store::redb_store::RedbStore::open(&dir.path().join("store.redb"))
            .map_err(|e| e.to_string())?;
        let changes = redb.changes();
        let meter = Meter::new();
        let raw: Arc<dyn Store> = Arc::new(redb);
        let store = Arc::new(MeteredStore::new(raw.clone(), meter.clone()));
        let ctx = Context::new(
            store,
            Cursors::ready(lite_core::CursorCodec::new(
                lite_core::CursorCodec::random_key(),
            )),
        );
        let mut verifier = lite_http::testing::test_verifier();
        auth_guard::protect(&ctx, &mut verifier);
        let settings = Settings {
            events: LocalEventsConfig {
                backoff_base: Duration::from_millis(50),
                ..LocalEventsConfig::default()
            },
            // The sweeper is a scheduled Lambda on AWS: a fixed cost per
            // minute, not per checkout, so it stays out of the counted window.
            sweep_every: Duration::from_secs(3600),
            ..Settings::default()
        };
        let (m_tasks, m_consumer) = (meter.clone(), meter.clone());
        let ports = Ports {
            notifier: Arc::new(MeteredNotifier {
                inner: Arc::new(notifications::LogNotifier),
                meter: meter.clone(),
            }),
            wrap_tasks: Arc::new(move |inner| {
                Arc::new(MeteredTasks {
                    inner,
                    meter: m_tasks.clone(),
                })
            }),
            wrap_consumer: Arc::new(move |inner| {
                Arc::new(MeteredConsumer {
                    inner,
                    meter: m_consumer.clone(),
                })
            }),
        };
        let search = Arc::new(MeteredSearch {
            inner: Arc::new(search::TantivyIndex::in_memory().map_err(|e| e.to_string())?),
            meter: meter.clone(),
        });
        let system = Arc::new(System::assemble(SystemParts {
            verifier,
            changes: Some(changes),
            settings,
            ports,
            ..SystemParts::new(ctx, search, dir.path().to_path_buf())
        })?);
        let state = Metered {
            meter: meter.clone(),
            routes: Arc::new(Routes::project()),
        };
        let serving = Serving::start(&system, |router| {
            router.layer(axum::middleware::from_fn_with_state(state, metered))
        })
        .await?;
        Ok(MeteredSystem {
            system,
            meter,
            raw,
            serving,
            _dir: dir,
        })
    }

    pub fn raw_store(&self) -> &dyn Store {
        self.raw.as_ref()
    }

    pub fn url(&self, path: &str) -> String {
        self.serving.url(path)
    }

    /// Waits until no event is pending on the bus and no delivery is queued:
    /// the consumers have done everything the requests so far caused.
    pub async fn settle(&self) {
        use lite_store::{Index, Query};
        let store = &self.raw;
        let quiet_needed = 3;
        let mut quiet = 0;
        let consumers: Vec<&'static str> =
            self.system.consumers().iter().map(|c| c.name()).collect();
        while quiet < quiet_needed {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut busy = !store
                .query(&Query::new(Index::Gsi2, lite_events::outbox::PENDING_PARTITION).limit(1))
                .await
                .map(|p| p.items.is_empty())
                .unwrap_or(false);
            for consumer in &consumers {
                let queued = store
                    .query(
                        &Query::new(Index::Gsi1, lite_events::local::delivery::queue(consumer))
                            .limit(1),
                    )
                    .await
                    .map(|p| !p.items.is_empty())
                    .unwrap_or(true);
                busy |= queued;
            }
            quiet = if busy { 0 } else { quiet + 1 };
        }
    }

    pub async fn stop(self) {
        self.serving.stop().await;
    }
}
