//! What every service's handlers get: the adapters behind the ports.

use futures::future::BoxFuture;
use lite_core::{Clock, CursorCodec, Ids, Problem};
use lite_store::Store;
use std::sync::Arc;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
    pub cursors: Cursors,
}

impl Context {
    /// The system clock and ids.
    pub fn new(store: Arc<dyn Store>, cursors: Cursors) -> Self {
        Self {
            store,
            clock: Arc::new(lite_core::SystemClock),
            ids: Arc::new(lite_core::SystemIds::default()),
            cursors,
        }
    }
}

type Loader = Arc<dyn Fn() -> BoxFuture<'static, Result<CursorCodec, String>> + Send + Sync>;

/// The pagination-cursor codec, loaded on first use. On Lambda its key comes
/// from Secrets Manager; loading it lazily keeps that call out of the init
/// phase (cold start) and off every route that never paginates.
#[derive(Clone)]
pub struct Cursors {
    cell: Arc<OnceCell<CursorCodec>>,
    load: Loader,
}

impl Cursors {
    pub fn ready(codec: CursorCodec) -> Self {
        let cell = Arc::new(OnceCell::new_with(Some(codec)));
        Self {
            cell,
            load: Arc::new(|| Box::pin(async { Err("already loaded".to_owned()) })),
        }
    }

    pub fn lazy(
        load: impl Fn() -> BoxFuture<'static, Result<CursorCodec, String>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            cell: Arc::new(OnceCell::new()),
            load: Arc::new(load),
        }
    }

    pub async fn get(&self) -> Result<&CursorCodec, Problem> {
        self.cell
            .get_or_try_init(|| (self.load)())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot load the cursor key");
                Problem::internal()
            })
    }
}
