//! Building the one-process application.

use crate::config::LocalConfig;
use lite_core::CursorCodec;
use lite_http::{Context, Cursors, HttpConfig, TokenVerifier};
use lite_store::redb_store::RedbStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Notify;

/// Every service router merged, with the shared layers.
pub fn router(system: &System, http: &HttpConfig) -> axum::Router {
    let ctx = &system.ctx;
    let merged = api::router(ctx.clone())
        .merge(auth::router_with(
            ctx.clone(),
            auth::AuthConfig::local(&system.data_dir),
        ))
        .merge(catalog::router(ctx.clone()))
        .merge(inventory::router(ctx.clone()))
        .merge(users::router(ctx.clone()));
    lite_http::finish(merged, system.verifier.clone(), http)
}

/// Every event consumer, run by the local bus (each its own queue and DLQ).
pub fn consumers(ctx: &Context) -> Vec<Arc<dyn lite_events::Handler>> {
    vec![Arc::new(inventory::consumers::CatalogSync::new(
        ctx.store.clone(),
        ctx.clock.clone(),
    ))]
}

/// The running system's parts, opened from the data directory.
pub struct System {
    pub ctx: Context,
    pub verifier: Arc<TokenVerifier>,
    /// The store's change feed (wakes the local event relay).
    pub changes: Arc<Notify>,
    pub data_dir: PathBuf,
}

impl System {
    pub fn open(config: &LocalConfig) -> Result<System, String> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let store = RedbStore::open(&dir.join("store.redb"))
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
        let ctx = Context::new(Arc::new(store), cursors);
        // Revoked sessions are refused, and the auth service's published
        // keys are learned as tokens name them.
        auth::protect(&ctx, &mut verifier);
        Ok(System {
            ctx,
            verifier: Arc::new(verifier),
            changes,
            data_dir: dir.clone(),
        })
    }
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
