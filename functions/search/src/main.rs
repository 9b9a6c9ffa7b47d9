//! Lambda entry point: the search routes, on the OpenSearch adapter.

use search::index::SearchIndex;
use std::sync::{Arc, OnceLock};

/// Opened before serving; `serve_with` takes a plain `fn`, so the router
/// finds the index here.
static INDEX: OnceLock<Arc<dyn SearchIndex>> = OnceLock::new();

fn router(ctx: lite_http::Context) -> axum::Router {
    let index = INDEX
        .get()
        .cloned()
        .expect("the index is opened before serving");
    search::router(search::SearchState { ctx, index })
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let index = search::opensearch::OpenSearchIndex::from_env().await?;
    let _ = INDEX.set(Arc::new(index));
    lite_lambda::serve_with(router, auth_guard::protect).await
}
