//! Building the one-process application: every service on one store, the
//! in-process bus with every consumer, the checkout saga on the local ASL
//! interpreter, the sandbox payment provider, the reservation sweeper and
//! the search index (tantivy in the data directory).
//!
//! [`System::open`] is the local API (redb in the data directory);
//! [`System::assemble`] builds the same system from [`SystemParts`] on any
//! store (tests run it on DynamoDB in moto, the cost model on counting
//! ports). Either way the system is a list of services
//! (`lite_service::Service`), each built from its ports: one router merges
//! theirs, the local bus runs their consumers.

use crate::config::LocalConfig;
use checkout::{CheckoutTimings, LateSaga, LocalTasks, Tasks};
use lite_core::CursorCodec;
use lite_events::local::{LocalEvents, LocalEventsConfig};
use lite_events::Handler;
use lite_flags::{FileFlags, SharedFlags};
use lite_http::{HttpConfig, TokenVerifier};
use lite_ports::{Context, Cursors};
use lite_saga::{Definition, LocalSaga, LocalSagaConfig, TaskInvoker};
use lite_service::Service;
use lite_store::redb_store::RedbStore;
use payments::checkout::Payments;
use payments::{Delivery, SandboxProvider, WebhookSecret};
use search::{SearchIndex, TantivyIndex};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// What the system is tuned with besides its store.
#[derive(Clone)]
pub struct Settings {
    pub webhook_secret: WebhookSecret,
    pub timings: CheckoutTimings,
    pub events: LocalEventsConfig,
    pub saga: LocalSagaConfig,
    /// How often expired stock reservations are looked for.
    pub sweep_every: Duration,
}

impl Default for Settings {
    /// The local API's tuning with a fresh random webhook secret: for a
    /// system no real provider calls (tests, benchmarks, `amazon-lite
    /// consumers`).
    fn default() -> Self {
        let secret = format!("whsec_{}", hex_of(&CursorCodec::random_key()));
        Settings {
            webhook_secret: WebhookSecret::new(secret).expect("whsec_ and 64 hex digits"),
            timings: CheckoutTimings::default(),
            events: LocalEventsConfig::default(),
            saga: LocalSagaConfig::default(),
            sweep_every: Duration::from_secs(30),
        }
    }
}

/// Wraps one port in another of the same kind (a decorator).
pub type Wrap<T> = Arc<dyn Fn(Arc<T>) -> Arc<T> + Send + Sync>;

/// The ports the system is assembled with besides its store and index:
/// the notifier, and decorators around every consumer and the saga's task
/// invoker. [`Ports::default`] is the local API's (e-mail to the log,
/// nothing wrapped); the cost model passes counting ones.
#[derive(Clone)]
pub struct Ports {
    pub notifier: Arc<dyn notifications::Notifier>,
    pub wrap_tasks: Wrap<dyn TaskInvoker>,
    pub wrap_consumer: Wrap<dyn Handler>,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            notifier: Arc::new(notifications::LogNotifier),
            wrap_tasks: Arc::new(|tasks| tasks),
            wrap_consumer: Arc::new(|consumer| consumer),
        }
    }
}

/// Everything a [`System`] is assembled from: the one way to build it.
/// [`SystemParts::new`] takes what has no default and fills the rest; a
/// caller changes what it needs with struct update syntax:
/// `SystemParts { ports, ..SystemParts::new(ctx, search, dir) }`.
pub struct SystemParts {
    pub ctx: Context,
    pub search: Arc<dyn SearchIndex>,
    /// Where auth keeps its signing keys (`keys/`).
    pub data_dir: PathBuf,
    /// Default: trusts no key (tests pass `lite_http::testing::test_verifier`).
    pub verifier: TokenVerifier,
    /// The store's change feed; default none (the local bus polls).
    pub changes: Option<Arc<Notify>>,
    /// Default: [`Settings::default`].
    pub settings: Settings,
    /// Default: [`Ports::default`] (the local API's).
    pub ports: Ports,
    /// Default: the flags' defaults (the local API reads `flags.json`).
    pub flags: SharedFlags,
}

impl SystemParts {
    pub fn new(ctx: Context, search: Arc<dyn SearchIndex>, data_dir: PathBuf) -> Self {
        SystemParts {
            ctx,
            search,
            data_dir,
            verifier: TokenVerifier::new(),
            changes: None,
            settings: Settings::default(),
            ports: Ports::default(),
            flags: lite_flags::defaults(),
        }
    }
}

/// The running system's parts.
pub struct System {
    pub ctx: Context,
    pub verifier: Arc<TokenVerifier>,
    /// The store's change feed (wakes the local event relay), when it has one.
    pub changes: Option<Arc<Notify>>,
    pub data_dir: PathBuf,
    pub payments: Arc<Payments>,
    pub sandbox: Arc<SandboxProvider>,
    pub saga: Arc<LocalSaga>,
    pub search: Arc<dyn SearchIndex>,
    pub settings: Settings,
    /// Every service, built once from the ports above: their routers are
    /// merged into one, their consumers all run on the local bus.
    pub services: Vec<Arc<dyn Service>>,
    ports: Ports,
}

impl System {
    /// The local API's system: redb in the data directory, its keys, the
    /// auth service's session guard.
    pub fn open(config: &LocalConfig) -> Result<System, String> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let store =
            RedbStore::open_with_cache(&dir.join("store.redb"), config.memory.store_cache_bytes)
                .map_err(|e| format!("cannot open the store: {e}"))?;
        let changes = store.changes();
        let cursors = Cursors::ready(CursorCodec::new(load_or_create_key(
            &dir.join("cursor.key"),
        )?));
        let mut verifier = TokenVerifier::new();
        let keys_dir = dir.join("keys");
        let trusted = verifier
            .trust_dir(&keys_dir)
            .map_err(|e| format!("cannot read {}: {e}", keys_dir.display()))?;
        tracing::info!(keys = trusted, dir = %keys_dir.display(), "trusting token signing keys");
        // Every table access is a span of the trace it serves.
        let ctx = Context::new(lite_store::traced::traced("redb", Arc::new(store)), cursors);
        // Revoked sessions are refused, and the auth service's published
        // keys are learned as tokens name them.
        auth::protect(&ctx, &mut verifier);
        let settings = Settings {
            webhook_secret: webhook_secret(config)?,
            timings: CheckoutTimings {
                payment_timeout_secs: config.checkout_payment_timeout_secs,
                ..CheckoutTimings::default()
            },
            ..Settings::default()
        };
        let search_dir = dir.join("search");
        let search = TantivyIndex::open_with_budget(&search_dir, config.memory.search_writer_bytes)
            .map_err(|e| {
                format!(
                    "cannot open the search index in {}: {e}",
                    search_dir.display()
                )
            })?;
        System::assemble(SystemParts {
            verifier,
            changes: Some(changes),
            settings,
            flags: file_flags(dir)?,
            ..SystemParts::new(ctx, Arc::new(search), dir.clone())
        })
    }

    /// The system from its parts. The sandbox provider posts its webhooks
    /// nowhere until [`System::serve_on`] tells it the address.
    pub fn assemble(parts: SystemParts) -> Result<System, String> {
        let SystemParts {
            ctx,
            search,
            data_dir,
            verifier,
            changes,
            settings,
            ports,
            flags,
        } = parts;
        let definition = Definition::parse(
            checkout::definition::DEFINITION,
            &checkout::definition::local_substitutions(),
        )
        .map_err(|e| format!("the checkout definition does not load: {e}"))?;
        // The payments service resumes the saga and the saga's tasks call the
        // payments service: the saga handle is bound once both exist.
        let late = LateSaga::new();
        let sandbox = Arc::new(SandboxProvider::new(
            settings.webhook_secret.clone(),
            Delivery::Background,
        ));
        let payments = Arc::new(Payments {
            ctx: ctx.clone(),
            provider: payments::breaker::GuardedProvider::wrap(sandbox.clone(), &ctx),
            saga: late.clone(),
            webhook_secret: settings.webhook_secret.clone(),
        });
        let tasks = Tasks {
            ctx: ctx.clone(),
            payments: payments.clone(),
        };
        let saga = LocalSaga::new(
            ctx.store.clone(),
            ctx.clock.clone(),
            definition,
            (ports.wrap_tasks)(Arc::new(LocalTasks(tasks))),
            settings.saga,
        );
        late.set(saga.clone());
        let services = services(
            &ctx,
            &data_dir,
            &payments,
            &saga,
            &search,
            &ports.notifier,
            settings.timings,
            &flags,
        );
        Ok(System {
            ctx,
            verifier: Arc::new(verifier),
            changes,
            data_dir,
            payments,
            sandbox,
            saga,
            search,
            settings,
            services,
            ports,
        })
    }

    /// The system on an in-memory store, never started: what it is made
    /// of (`amazon-lite consumers`, tests). Nothing is written anywhere.
    pub fn in_memory() -> Result<System, String> {
        let store = RedbStore::in_memory().map_err(|e| format!("cannot open the store: {e}"))?;
        let codec = CursorCodec::new(CursorCodec::random_key());
        let ctx = Context::new(Arc::new(store), Cursors::ready(codec));
        let search = TantivyIndex::in_memory().map_err(|e| e.to_string())?;
        System::assemble(SystemParts::new(
            ctx,
            Arc::new(search),
            std::env::temp_dir().join("amazon-lite-in-memory"),
        ))
    }

    /// Every service's event consumers, each its own queue and DLQ on the
    /// local bus.
    pub fn consumers(&self) -> Vec<Arc<dyn Handler>> {
        self.services
            .iter()
            .flat_map(|s| s.consumers())
            .map(|c| (self.ports.wrap_consumer)(c))
            .collect()
    }

    /// Starts what runs beside the routes: the search index filled from the
    /// catalog when it is empty (first start, deleted index directory), the
    /// bus (events a crash left in the outbox go out now), the checkouts a
    /// stop interrupted, and the reservation sweeper.
    pub async fn start_background(&self) -> Result<Background, String> {
        let rebuilt = search::rebuild_if_empty(&*self.search, &*self.ctx.store)
            .await
            .map_err(|e| format!("cannot rebuild the search index: {e}"))?;
        if rebuilt > 0 {
            tracing::info!(products = rebuilt, "search index rebuilt from the catalog");
        }
        let events = LocalEvents::start(
            self.ctx.store.clone(),
            self.ctx.clock.clone(),
            self.consumers(),
            self.changes.clone(),
            self.settings.events.clone(),
        );
        let resumed = self
            .saga
            .resume_all()
            .await
            .map_err(|e| format!("cannot resume checkouts: {e}"))?;
        if resumed > 0 {
            tracing::info!(resumed, "checkouts resumed");
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sweeper = tokio::spawn(inventory::reservations::run_sweeper(
            self.ctx.clone(),
            self.settings.sweep_every,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Background {
            events,
            saga: self.saga.clone(),
            stop_sweeper: Some(stop),
            sweeper,
        })
    }

    /// Tells the sandbox provider where this system listens.
    pub fn serve_on(&self, addr: std::net::SocketAddr) {
        self.sandbox
            .set_webhook_url(format!("http://{addr}/v1/payments/webhook"));
    }
}

/// The background parts, stopped in order by [`Background::shutdown`].
pub struct Background {
    pub events: LocalEvents,
    saga: Arc<LocalSaga>,
    stop_sweeper: Option<tokio::sync::oneshot::Sender<()>>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl Background {
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop_sweeper.take() {
            let _ = stop.send(());
        }
        let _ = self.sweeper.await;
        self.saga.shutdown().await;
        // Let each consumer finish the event in hand, but not forever.
        if tokio::time::timeout(Duration::from_secs(10), self.events.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("event consumers did not stop within 10 s");
        }
    }
}

/// Every service, on the system's ports: the local API's auth keys are
/// files in the data directory, notifications go to `notifier`, the saga is
/// the local interpreter and the index is the one given.
#[allow(clippy::too_many_arguments)] // the system's parts, each a port
fn services(
    ctx: &Context,
    data_dir: &Path,
    payments: &Arc<Payments>,
    saga: &Arc<LocalSaga>,
    search: &Arc<dyn SearchIndex>,
    notifier: &Arc<dyn notifications::Notifier>,
    timings: CheckoutTimings,
    flags: &SharedFlags,
) -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(api::Api),
        Arc::new(auth::Auth::new(
            ctx.clone(),
            auth::AuthConfig::local(data_dir),
        )),
        Arc::new(users::Users::new(ctx.clone())),
        Arc::new(catalog::Catalog::new(ctx.clone())),
        Arc::new(inventory::Inventory::new(ctx.clone())),
        Arc::new(cart::Cart::new(ctx.clone())),
        Arc::new(orders::Orders::new(ctx.clone()).with_flags(flags.clone())),
        Arc::new(
            checkout::Checkout::new(ctx.clone(), saga.clone(), timings).with_flags(flags.clone()),
        ),
        Arc::new(Payments::clone(payments)),
        Arc::new(search::Search::new(ctx.clone(), search.clone()).with_flags(flags.clone())),
        Arc::new(reviews::Reviews::new(ctx.clone())),
        Arc::new(notifications::Notifications::new(
            ctx.clone(),
            notifier.clone(),
        )),
    ]
}

/// Every service router merged, with the shared layers.
pub fn router(system: &System, http: &HttpConfig) -> axum::Router {
    let merged = system
        .services
        .iter()
        .fold(axum::Router::new(), |router, s| router.merge(s.router()));
    lite_http::finish(merged, system.verifier.clone(), http)
}

/// The runtime flags: `<data dir>/flags.json`, written with the defaults
/// when absent (so every flag is there to edit), re-read when it changes.
fn file_flags(dir: &Path) -> Result<SharedFlags, String> {
    let path = dir.join("flags.json");
    if FileFlags::write_defaults_if_missing(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?
    {
        tracing::info!(path = %path.display(), "wrote the default flags");
    }
    tracing::info!(path = %path.display(), "runtime flags: edit this file, no restart needed");
    Ok(Arc::new(FileFlags::new(
        path,
        lite_flags::file::CHECK_EVERY,
    )))
}

/// The webhook secret: `PAYMENT_WEBHOOK_SECRET`, else one generated on the
/// first start, kept in the data directory and printed that once.
fn webhook_secret(config: &LocalConfig) -> Result<WebhookSecret, String> {
    if let Some(s) = &config.payment_webhook_secret {
        return WebhookSecret::new(s.clone()).map_err(|e| format!("PAYMENT_WEBHOOK_SECRET: {e}"));
    }
    let path = config.data_dir.join("payment-webhook.secret");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(secret) = WebhookSecret::new(text.trim()) {
            return Ok(secret);
        }
    }
    let generated = format!("whsec_{}", hex_of(&CursorCodec::random_key()));
    write_private(&path, generated.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "Sandbox payment webhook secret (generated once, kept in {}): {generated}",
        path.display()
    );
    WebhookSecret::new(generated).map_err(|e| format!("generated webhook secret: {e}"))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 32-byte secret kept in the data directory (mode 0600), so cursors stay
/// valid across restarts.
fn load_or_create_key(path: &Path) -> Result<Vec<u8>, String> {
    if let Ok(bytes) = std::fs::read(path) {
        if bytes.len() >= 32 {
            return Ok(bytes);
        }
    }
    let key = CursorCodec::random_key();
    write_private(path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
