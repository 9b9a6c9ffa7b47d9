//! The OpenSearch adapter of [`SearchIndex`](crate::index::SearchIndex), for
//! an OpenSearch Serverless collection (SigV4, service `aoss`) on AWS.
//!
//! - [`mapping`]: the index settings and mappings (analyzers, keyword
//!   subfields for filters and facets, the completion field).
//! - [`document`]: the indexed document (a `SearchDoc` plus suggestion inputs).
//! - [`query`]: pure builders of the `_search` bodies from
//!   [`crate::relevance`] (the tantivy adapter uses the same constants).
//! - [`response`]: parsers of the answers and of error statuses.
//!
//! # What is verified, and what is not
//!
//! No OpenSearch can run on the development machine, so
//! `tests/opensearch.rs` runs this adapter against a local HTTP server that
//! records every request and answers canned OpenSearch responses. Verified
//! there: the exact requests (paths, methods, bodies: the mapping, the bulk
//! NDJSON, the query DSL for text with typos, filters, facets, every sort,
//! `search_after`, suggestions), the parsing of answers (hits in order,
//! totals, facets, next positions, suggestions, missing documents and
//! index) and the error mapping (400 → `Invalid`, 5xx, 429, 403 and
//! malformed bodies → `Unavailable`), and that SigV4 signing adds its
//! headers. NOT verified: how a real OpenSearch ranks with this DSL (the
//! analyzers, fuzziness and boosts are only checked as sent), that
//! Serverless accepts every part of the mapping, and timing (Serverless
//! makes writes searchable after about ten seconds; it refuses the
//! `refresh` parameter, so none is ever sent).

pub mod document;
pub mod mapping;
pub mod query;
pub mod response;

use std::time::Duration;

use async_trait::async_trait;
use opensearch::auth::Credentials;
use opensearch::http::headers::{HeaderValue, CONTENT_TYPE};
use opensearch::http::request::JsonBody;
use opensearch::http::response::Response;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::Url;
use opensearch::indices::{IndicesCreateParts, IndicesExistsParts};
use opensearch::{BulkParts, CountParts, DeleteParts, GetParts, OpenSearch, SearchParts};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use crate::index::{
    Change, Outcome, SearchDoc, SearchError, SearchIndex, SearchQuery, SearchResults,
};
use document::IndexedDoc;
use query::Words;

/// The SigV4 service name of OpenSearch Serverless.
pub const SERVICE_NAME: &str = "aoss";
/// The index used when `OPENSEARCH_INDEX` is not set.
pub const DEFAULT_INDEX: &str = "products";
/// Documents per `_bulk` request (well below Serverless' request size limit
/// for products of a few KiB).
pub const BULK_CHUNK: usize = 500;
/// Longest wait for one request of a client built with [`OpenSearchIndex::new`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take and how often it is sent. Only what
/// cannot have been answered is retried: a transport failure (connect,
/// timeout) or a 429/502/503/504; every request here is idempotent (reads,
/// index-by-id, delete-by-id, create-if-absent). An answer that parses
/// badly or a refusal is not retried.
///
/// | profile | request timeout | attempts | backoff | worst case | function timeout |
/// |---|---|---|---|---|---|
/// | routes (`Profile::Api`) | 2 s | 2 | 100 ms | 4.1 s | 10 s |
/// | `search-indexer` (`Profile::Consumer`) | 8 s | 3 | 200 ms doubling | 24.6 s | 30 s |
///
/// A route that still fails answers 503 or falls back to the catalog (see
/// the routes); the indexer's failed delivery is redelivered by its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPolicy {
    pub timeout: Duration,
    /// Sends in all (at least 1).
    pub attempts: u32,
    /// Wait before the second send; doubled before each further one.
    pub first_backoff: Duration,
}

impl RequestPolicy {
    /// One attempt of at most [`REQUEST_TIMEOUT`] (tests, tools).
    pub const SINGLE: RequestPolicy = RequestPolicy {
        timeout: REQUEST_TIMEOUT,
        attempts: 1,
        first_backoff: Duration::ZERO,
    };

    pub const fn of(profile: lite_aws::Profile) -> RequestPolicy {
        match profile {
            lite_aws::Profile::Api => RequestPolicy {
                timeout: Duration::from_secs(2),
                attempts: 2,
                first_backoff: Duration::from_millis(100),
            },
            lite_aws::Profile::Consumer => RequestPolicy {
                timeout: Duration::from_secs(8),
                attempts: 3,
                first_backoff: Duration::from_millis(200),
            },
        }
    }

    /// The longest a call can take: every attempt timing out, plus the
    /// waits between them.
    pub fn worst_case(&self) -> Duration {
        let attempts = self.attempts.max(1);
        let mut total = self.timeout * attempts;
        let mut backoff = self.first_backoff;
        for _ in 1..attempts {
            total += backoff;
            backoff *= 2;
        }
        total
    }
}

/// The OpenSearch client, built on its first use. Building it builds a TLS
/// client of its own (the opensearch crate's reqwest, next to the AWS SDK's)
/// and loads the system's root certificates for it: several milliseconds of
/// a Lambda's init (load/README.md, "Lambda init") that a function can
/// spend when it first talks to OpenSearch instead.
struct LazyClient {
    url: Url,
    credentials: Option<Credentials>,
    timeout: Duration,
    built: std::sync::OnceLock<Result<OpenSearch, String>>,
}

impl LazyClient {
    /// The client, built now if it was not yet. A build that failed stays
    /// failed (it only fails when the TLS backend cannot start).
    fn get(&self) -> Result<&OpenSearch, SearchError> {
        self.built
            .get_or_init(|| {
                // The client's TLS runs on ring (see Cargo.toml); whoever
                // installed a process default first wins, which is fine.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut transport =
                    TransportBuilder::new(SingleNodeConnectionPool::new(self.url.clone()))
                        .timeout(self.timeout)
                        .disable_proxy();
                if let Some(credentials) = &self.credentials {
                    transport = transport
                        .auth(credentials.clone())
                        .service_name(SERVICE_NAME);
                }
                transport
                    .build()
                    .map(OpenSearch::new)
                    .map_err(|e| format!("cannot build the OpenSearch client: {e}"))
            })
            .as_ref()
            .map_err(|e| SearchError::Unavailable(e.clone()))
    }
}

/// The product index in one OpenSearch index.
pub struct OpenSearchIndex {
    client: LazyClient,
    index: String,
    policy: RequestPolicy,
    /// Set once the index is known to exist with our mapping, so the first
    /// upsert creates it (otherwise OpenSearch would create it with
    /// guessed field types) and later ones do not ask again.
    ensured: OnceCell<()>,
    /// Changes are decided on the document read back, one at a time in
    /// this process, so two deliveries handled at once cannot regress it.
    one_change_at_a_time: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OpenSearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchIndex")
            .field("index", &self.index)
            .finish()
    }
}

impl OpenSearchIndex {
    /// A client of `index` at `url` (e.g. the collection endpoint
    /// `https://<id>.<region>.aoss.amazonaws.com`). With `aws`, every
    /// request is signed (SigV4, service `aoss`) with its credentials and
    /// region; without, requests are sent unsigned (tests, a local cluster).
    pub fn new(
        url: &str,
        index: &str,
        aws: Option<&aws_config::SdkConfig>,
    ) -> Result<Self, String> {
        Self::with_policy(url, index, aws, RequestPolicy::SINGLE)
    }

    /// [`new`](Self::new) with `policy`'s timeout and retries.
    pub fn with_policy(
        url: &str,
        index: &str,
        aws: Option<&aws_config::SdkConfig>,
        policy: RequestPolicy,
    ) -> Result<Self, String> {
        let url = Url::parse(url).map_err(|e| format!("bad OpenSearch endpoint {url:?}: {e}"))?;
        let index = index_name(index)?;
        let credentials = aws
            .map(|config| {
                Credentials::try_from(config)
                    .map_err(|e| format!("AWS configuration cannot sign requests: {e}"))
            })
            .transpose()?;
        Ok(OpenSearchIndex {
            client: LazyClient {
                url,
                credentials,
                timeout: policy.timeout,
                built: std::sync::OnceLock::new(),
            },
            index,
            policy,
            one_change_at_a_time: tokio::sync::Mutex::new(()),
            ensured: OnceCell::new(),
        })
    }

    /// The Lambda configuration: `OPENSEARCH_ENDPOINT` (required, the
    /// collection endpoint), `OPENSEARCH_INDEX` (default `products`), the
    /// AWS configuration (the function role's credentials, `AWS_REGION`),
    /// and the [`RequestPolicy`] of the function's profile (a route's or
    /// the indexer's).
    pub async fn from_env() -> Result<Self, String> {
        let endpoint = std::env::var("OPENSEARCH_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or("OPENSEARCH_ENDPOINT is not set")?;
        let index = std::env::var("OPENSEARCH_INDEX")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_INDEX.to_string());
        let profile = lite_aws::Profile::of_function();
        let config = lite_aws::sdk_config(profile).await;
        Self::with_policy(
            endpoint.trim(),
            index.trim(),
            Some(&config),
            RequestPolicy::of(profile),
        )
    }

    /// The index name.
    pub fn index(&self) -> &str {
        &self.index
    }

    pub fn policy(&self) -> RequestPolicy {
        self.policy
    }

    /// Sends the request `send` makes, again (after a backoff) while it
    /// could not be answered and attempts remain; see [`RequestPolicy`].
    async fn send<F, Fut>(&self, what: &str, send: F) -> Result<Response, SearchError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Response, opensearch::Error>>,
    {
        let attempts = self.policy.attempts.max(1);
        let mut backoff = self.policy.first_backoff;
        for attempt in 1..attempts {
            match send().await {
                Ok(answer) if !is_retryable_status(answer.status_code().as_u16()) => {
                    return Ok(answer)
                }
                Ok(answer) => {
                    tracing::warn!(
                        what,
                        attempt,
                        status = answer.status_code().as_u16(),
                        "OpenSearch is busy or failing; retrying"
                    );
                }
                Err(e) => {
                    tracing::warn!(what, attempt, error = %e, "OpenSearch cannot be reached; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        send().await.map_err(transport_error)
    }

    /// Creates the index with [`mapping::index_body`] unless it exists.
    /// Idempotent, also when two writers race (the loser's "already
    /// exists" is success). Upserts call it once per process.
    pub async fn ensure_index(&self) -> Result<(), SearchError> {
        let names = [self.index.as_str()];
        let indices = self.client.get()?.indices();
        let exists = self
            .send("index exists", || {
                indices.exists(IndicesExistsParts::Index(&names)).send()
            })
            .await?;
        match exists.status_code().as_u16() {
            200 => return Ok(()),
            404 => {}
            status => return Err(response::status_error(status, &text(exists).await)),
        }
        let created = self
            .send("create index", || {
                indices
                    .create(IndicesCreateParts::Index(&self.index))
                    .body(mapping::index_body())
                    .send()
            })
            .await?;
        let status = created.status_code().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = text(created).await;
        if response::is_already_exists(status, &body) {
            Ok(())
        } else {
            Err(response::status_error(status, &body))
        }
    }

    async fn search_with(
        &self,
        query: &SearchQuery,
        combine: Words,
    ) -> Result<SearchResults, SearchError> {
        let body = query::search_body(query, combine)?;
        let names = [self.index.as_str()];
        let client = self.client.get()?;
        let answer = self
            .send("search", || {
                client
                    .search(SearchParts::Index(&names))
                    .body(body.clone())
                    .send()
            })
            .await?;
        match read_body(answer).await? {
            Some(body) => response::parse_search(&body, query.limit),
            None => Ok(SearchResults {
                hits: Vec::new(),
                total: 0,
                facets: Default::default(),
                next: None,
            }),
        }
    }

    async fn ensure_once(&self) -> Result<(), SearchError> {
        self.ensured
            .get_or_try_init(|| self.ensure_index())
            .await
            .map(|_| ())
    }

    async fn bulk_chunk(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let mut lines: Vec<Value> = Vec::with_capacity(docs.len() * 2);
        for doc in docs {
            lines.push(json!({ "index": { "_id": doc.id } }));
            let source = serde_json::to_value(IndexedDoc::of(doc))
                .map_err(|e| SearchError::Invalid(format!("document {}: {e}", doc.id)))?;
            lines.push(source);
        }
        let client = self.client.get()?;
        let answer = self
            .send("bulk", || {
                client
                    .bulk(BulkParts::Index(&self.index))
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-ndjson"),
                    )
                    .body(
                        lines
                            .iter()
                            .cloned()
                            .map(JsonBody::from)
                            .collect::<Vec<_>>(),
                    )
                    .send()
            })
            .await?;
        let body = success_body(answer).await?;
        response::parse_bulk(&body, docs.len())
    }
}

/// OpenSearch index names: lower case, no spaces or `\/*?"<>|,#:`, not
/// starting with `-`, `_` or `+`, at most 255 bytes.
fn index_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '_', '+'])
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| !c.is_uppercase() && !c.is_whitespace() && !"\\/*?\"<>|,#:".contains(c));
    if valid {
        Ok(name.to_string())
    } else {
        Err(format!("bad OpenSearch index name {name:?}"))
    }
}

/// Statuses that mean the request was not handled and may be sent again.
fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

fn transport_error(e: opensearch::Error) -> SearchError {
    SearchError::Unavailable(format!("OpenSearch cannot be reached: {e}"))
}

async fn text(response: Response) -> String {
    response.text().await.unwrap_or_default()
}

/// The body of a 2xx answer, or the error its status means.
async fn success_body(answer: Response) -> Result<Vec<u8>, SearchError> {
    let status = answer.status_code().as_u16();
    let body = answer.bytes().await.map_err(transport_error)?;
    if (200..300).contains(&status) {
        Ok(body.to_vec())
    } else {
        Err(response::status_error(
            status,
            &String::from_utf8_lossy(&body),
        ))
    }
}

/// A read's answer: `None` when the index does not exist yet (nothing was
/// ever indexed, so the read has an empty answer), else as `success_body`.
async fn read_body(answer: Response) -> Result<Option<Vec<u8>>, SearchError> {
    let status = answer.status_code().as_u16();
    let body = answer.bytes().await.map_err(transport_error)?;
    let text = String::from_utf8_lossy(&body);
    if (200..300).contains(&status) {
        Ok(Some(body.to_vec()))
    } else if response::is_index_missing(status, &text) {
        Ok(None)
    } else {
        Err(response::status_error(status, &text))
    }
}

impl OpenSearchIndex {
    /// Removes the document `id` (absent is fine).
    pub async fn delete(&self, id: &str) -> Result<(), SearchError> {
        let client = self.client.get()?;
        let answer = self
            .send("delete", || {
                client.delete(DeleteParts::IndexId(&self.index, id)).send()
            })
            .await?;
        let status = answer.status_code().as_u16();
        // 404: the document (or the whole index) is absent, which is what
        // a delete wants.
        if (200..300).contains(&status) || status == 404 {
            Ok(())
        } else {
            Err(response::status_error(status, &text(answer).await))
        }
    }
}

#[async_trait]
impl SearchIndex for OpenSearchIndex {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.ensure_once().await?;
        for chunk in docs.chunks(BULK_CHUNK) {
            self.bulk_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn apply(&self, change: Change) -> Result<Outcome, SearchError> {
        let _turn = self.one_change_at_a_time.lock().await;
        match change {
            // A delete needs no read: one request.
            Change::Delete(id) => self.delete(&id).await.map(|()| Outcome::Removed),
            Change::Put(doc) => {
                let current = self.get(&doc.id).await?;
                match Change::put_skipped(&doc, current.as_ref()) {
                    Some(skipped) => Ok(skipped),
                    None => self.upsert(vec![doc]).await.map(|()| Outcome::Written),
                }
            }
        }
    }

    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        let client = self.client.get()?;
        let answer = self
            .send("get", || {
                client.get(GetParts::IndexId(&self.index, id)).send()
            })
            .await?;
        let status = answer.status_code().as_u16();
        let body = answer.bytes().await.map_err(transport_error)?;
        match status {
            // A missing document is a 404 whose body says `found: false`;
            // a missing index is a 404 with an error.
            200 | 404 if !response::is_index_missing(status, &String::from_utf8_lossy(&body)) => {
                response::parse_get(&body)
            }
            404 => Ok(None),
            _ => Err(response::status_error(
                status,
                &String::from_utf8_lossy(&body),
            )),
        }
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let results = self.search_with(query, Words::All).await?;
        // Every word must match first; a query whose words never meet in
        // one product falls back to any word (as the tantivy adapter does).
        if results.total == 0 && query::word_count(query) > 1 {
            return self.search_with(query, Words::Any).await;
        }
        Ok(results)
    }

    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        let Some(body) = query::suggest_body(prefix, limit) else {
            return Ok(Vec::new());
        };
        let names = [self.index.as_str()];
        let client = self.client.get()?;
        let answer = self
            .send("suggest", || {
                client
                    .search(SearchParts::Index(&names))
                    .body(body.clone())
                    .send()
            })
            .await?;
        match read_body(answer).await? {
            Some(body) => response::parse_suggest(&body, limit),
            None => Ok(Vec::new()),
        }
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let names = [self.index.as_str()];
        let client = self.client.get()?;
        let answer = self
            .send("count", || client.count(CountParts::Index(&names)).send())
            .await?;
        match read_body(answer).await? {
            Some(body) => response::parse_count(&body),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_are_parsed() {
        assert_eq!(index_name("products").unwrap(), "products");
        for bad in ["", "Products", "_x", "a b", "a/b", "a,b"] {
            assert!(index_name(bad).is_err(), "{bad}");
        }
        assert!(OpenSearchIndex::new("not a url", "products", None).is_err());
        assert!(OpenSearchIndex::new("http://127.0.0.1:9200", "products", None).is_ok());
    }

    #[test]
    fn the_client_is_built_on_first_use_once() {
        let index = OpenSearchIndex::new("http://127.0.0.1:9200", "products", None).unwrap();
        assert!(
            index.client.built.get().is_none(),
            "nothing built at construction"
        );
        let first: *const OpenSearch = index.client.get().unwrap();
        let second: *const OpenSearch = index.client.get().unwrap();
        assert_eq!(first, second, "built once, then reused");
    }
}
