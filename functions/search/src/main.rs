//! Lambda entry point of the search service, on the OpenSearch adapter:
//! one function per route on AWS, and the `search-indexer` consumer's
//! function (`AMAZON_LITE_CONSUMER`).

use search::opensearch::OpenSearchIndex;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lite_lambda::Error> {
    lite_lambda::run_with(auth_guard::protect, |ctx| async move {
        let index = OpenSearchIndex::from_env().await?;
        Ok(search::Search::new(ctx, Arc::new(index)).with_flags(lite_lambda::flags()?))
    })
    .await
}
