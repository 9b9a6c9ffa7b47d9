//! The tantivy adapter: the local default, persisted in the data directory
//! (or in memory for tests).
//!
//! One `IndexWriter` behind a mutex; every write commits and reloads the
//! reader before it returns, so searches see it at once. Changes
//! ([`Change`]) are group-committed: those that arrive while a commit is
//! running wait for it and are then decided, written and committed
//! together, in the order they arrived (a commit, with its fsyncs, is the
//! indexer's cost: 10–20 ms here, against well under a millisecond to
//! decide and add a document). All tantivy work is blocking and runs on
//! `spawn_blocking`.

mod order;
mod query;
mod schema;
pub(crate) mod suggest;

use crate::index::{
    Change, FacetCount, Facets, Outcome, SearchDoc, SearchError, SearchIndex, SearchQuery,
    SearchResults,
};
use async_trait::async_trait;
use order::{Key, Ordered};
use query::{Filters, Words};
use schema::Fields;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tantivy::collector::{Count, FacetCollector, FacetCounts};
use tantivy::directory::MmapDirectory;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};
use tokio::sync::oneshot;

/// Memory the writer may buffer before it flushes a segment, across its
/// threads: tantivy's minimum per thread (15 MB) and a little, so one
/// indexing thread. Every upsert batch commits, so a segment holds a batch
/// (one event, or a page of the rebuild), never the budget; a larger budget
/// only makes each commit allocate larger term tables (one per thread).
pub const DEFAULT_WRITER_BUDGET_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct TantivyIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// The suggestion dictionary and the generation of the searcher it
    /// was read from (tantivy numbers each reload's searcher): rebuilt
    /// when the reader's searcher is a newer one.
    dictionary: Mutex<Option<(u64, Arc<suggest::Dictionary>)>>,
    /// The changes waiting for the next group commit.
    queue: Mutex<Queue>,
    /// Commits made since the index was opened.
    commits: AtomicU64,
}

/// A change and where its outcome goes.
type Waiting = (Change, oneshot::Sender<Result<Outcome, SearchError>>);

#[derive(Default)]
struct Queue {
    pending: Vec<Waiting>,
    /// A task is deciding and committing the pending changes; it takes
    /// whatever arrives meanwhile in its next round.
    committing: bool,
}

fn unavailable(e: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(e.to_string())
}

impl TantivyIndex {
    /// The index in `dir`, created (with the directory) when missing, with
    /// a writer budget of [`DEFAULT_WRITER_BUDGET_BYTES`].
    pub fn open(dir: &Path) -> Result<TantivyIndex, SearchError> {
        Self::open_with_budget(dir, DEFAULT_WRITER_BUDGET_BYTES)
    }

    /// Like [`TantivyIndex::open`], with a writer budget of `writer_bytes`
    /// (at least 15 MB: tantivy's minimum for one thread; tantivy uses one
    /// thread per 15 MB, up to one per core).
    pub fn open_with_budget(dir: &Path, writer_bytes: usize) -> Result<TantivyIndex, SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
        let directory = MmapDirectory::open(dir)
            .map_err(|e| unavailable(format!("cannot open {}: {e}", dir.display())))?;
        let (schema, fields) = schema::schema();
        let index = Index::open_or_create(directory, schema).map_err(|e| {
            unavailable(format!(
                "the search index in {} cannot be opened ({e}); delete the directory to rebuild it",
                dir.display()
            ))
        })?;
        Self::with_index(index, fields, writer_bytes)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<TantivyIndex, SearchError> {
        let (schema, fields) = schema::schema();
        Self::with_index(
            Index::create_in_ram(schema),
            fields,
            DEFAULT_WRITER_BUDGET_BYTES,
        )
    }

    fn with_index(
        index: Index,
        fields: Fields,
        writer_bytes: usize,
    ) -> Result<TantivyIndex, SearchError> {
        schema::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(unavailable)?;
        let writer = index.writer(writer_bytes).map_err(unavailable)?;
        Ok(TantivyIndex {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(writer),
                fields,
                dictionary: Mutex::new(None),
                queue: Mutex::new(Queue::default()),
                commits: AtomicU64::new(0),
            }),
        })
    }

    /// Commits made since the index was opened (each write and each
    /// group of changes is one).
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::SeqCst)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| unavailable(format!("search task failed: {e}")))?
    }
}

impl Inner {
    fn write(
        &self,
        apply: impl FnOnce(&IndexWriter) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| unavailable("the index writer was poisoned"))?;
        if let Err(e) = apply(&writer) {
            // Nothing half-applied stays queued for the next commit.
            let _ = writer.rollback();
            return Err(e);
        }
        self.commit(&mut writer)
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        if let Err(e) = writer.commit() {
            let _ = writer.rollback();
            return Err(unavailable(e));
        }
        self.commits.fetch_add(1, Ordering::SeqCst);
        self.reader.reload().map_err(unavailable)
    }

    /// Decides, writes and commits the pending changes, round after round,
    /// until none is left. On a panic the changes of the round and those
    /// waiting get `Unavailable` (their senders drop: the bus retries
    /// them) and the next change starts a new committer.
    fn drain(&self) {
        struct Done<'a>(&'a Mutex<Queue>);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    if let Ok(mut q) = self.0.lock() {
                        q.committing = false;
                        q.pending.clear();
                    }
                }
            }
        }
        let _done = Done(&self.queue);
        loop {
            let round = {
                let Ok(mut q) = self.queue.lock() else { return };
                if q.pending.is_empty() {
                    q.committing = false;
                    return;
                }
                std::mem::take(&mut q.pending)
            };
            let (changes, senders): (Vec<_>, Vec<_>) = round.into_iter().unzip();
            let outcomes = self.apply_all(changes);
            for (sender, outcome) in senders.into_iter().zip(outcomes) {
                let _ = sender.send(outcome);
            }
        }
    }

    /// One round: each change applied to the document as the changes
    /// before it in the round left it, the writes committed once. When the
    /// commit fails, every change of the round fails with it but the
    /// invalid ones (what a change decided may rest on an earlier write).
    fn apply_all(&self, changes: Vec<Change>) -> Vec<Result<Outcome, SearchError>> {
        let n = changes.len();
        let mut writer = match self.writer.lock() {
            Ok(w) => w,
            Err(_) => {
                return vec![Err(unavailable("the index writer was poisoned")); n];
            }
        };
        let searcher = self.reader.searcher();
        // The documents as this round has left them so far (None: removed).
        let mut written: HashMap<String, Option<SearchDoc>> = HashMap::new();
        let mut outcomes = Vec::with_capacity(n);
        let mut wrote = false;
        for change in changes {
            let id = change.id().to_owned();
            let current = match written.get(&id) {
                Some(doc) => doc.clone(),
                None => match self.get_in(&searcher, &id) {
                    Ok(doc) => doc,
                    Err(e) => {
                        outcomes.push(Err(e));
                        continue;
                    }
                },
            };
            let doc = match change {
                Change::Delete(_) => {
                    if current.is_some() {
                        writer.delete_term(self.id_term(&id));
                        written.insert(id, None);
                        wrote = true;
                    }
                    outcomes.push(Ok(Outcome::Removed));
                    continue;
                }
                Change::Put(doc) => doc,
            };
            if let Some(skipped) = Change::put_skipped(&doc, current.as_ref()) {
                outcomes.push(Ok(skipped));
                continue;
            }
            let prepared = match schema::to_document(&self.fields, &doc) {
                Ok(prepared) => prepared,
                Err(e) => {
                    outcomes.push(Err(SearchError::Invalid(format!("document {id}: {e}"))));
                    continue;
                }
            };
            writer.delete_term(self.id_term(&id));
            if let Err(e) = writer.add_document(prepared) {
                let _ = writer.rollback();
                return vec![Err(unavailable(e)); n];
            }
            written.insert(id, Some(doc));
            wrote = true;
            outcomes.push(Ok(Outcome::Written));
        }
        if wrote {
            if let Err(e) = self.commit(&mut writer) {
                // What the round decided may rest on what it wrote: all of
                // it is retried.
                return outcomes
                    .into_iter()
                    .map(|o| match o {
                        Err(SearchError::Invalid(m)) => Err(SearchError::Invalid(m)),
                        _ => Err(e.clone()),
                    })
                    .collect();
            }
        }
        outcomes
    }

    fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.fields.id, id)
    }

    fn read_doc(
        &self,
        searcher: &Searcher,
        addr: tantivy::DocAddress,
    ) -> Result<SearchDoc, SearchError> {
        let doc: TantivyDocument = searcher.doc(addr).map_err(unavailable)?;
        let json = doc
            .get_first(self.fields.doc)
            .and_then(|v| v.as_str())
            .ok_or_else(|| unavailable("an indexed document has no source"))?;
        serde_json::from_str(json)
            .map_err(|e| unavailable(format!("an indexed document does not parse: {e}")))
    }

    fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        self.get_in(&self.reader.searcher(), id)
    }

    fn get_in(&self, searcher: &Searcher, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        let q = TermQuery::new(self.id_term(id), IndexRecordOption::Basic);
        let hits = searcher
            .search(&q, &tantivy::collector::DocSetCollector)
            .map_err(unavailable)?;
        match hits.into_iter().next() {
            Some(addr) => self.read_doc(searcher, addr).map(Some),
            None => Ok(None),
        }
    }

    fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let after = q.after.as_ref().map(Key::from_position).transpose()?;
        let searcher = self.reader.searcher();
        let mut result = self.search_with(&searcher, q, after.clone(), Words::All)?;
        // Every word must match first; a query whose words never meet in
        // one product falls back to any word (ranked by how many match).
        if result.total == 0
            && q.text
                .as_deref()
                .is_some_and(|t| schema::plain_words(t).len() > 1)
        {
            result = self.search_with(&searcher, q, after, Words::Any)?;
        }
        Ok(result)
    }

    fn search_with(
        &self,
        searcher: &Searcher,
        q: &SearchQuery,
        after: Option<Key>,
        words: Words,
    ) -> Result<SearchResults, SearchError> {
        let f = &self.fields;
        let all = Filters {
            category: true,
            brand: true,
        };
        let main = query::build(f, q, all, words);
        // A facet ignores its own filter; without that filter the main
        // query's matches are the ones it counts.
        let facet = |field: &str| {
            let mut c = FacetCollector::for_field(field);
            c.add_facet("/");
            c
        };
        let category_in_main = q.category.is_none().then(|| facet("category"));
        let brand_in_main = q.brand.is_none().then(|| facet("brand"));
        let ordered = Ordered {
            sort: q.sort,
            after,
            keep: q.limit + 1,
        };
        let (total, mut top, category_counts, brand_counts) = searcher
            .search(&main, &(Count, ordered, category_in_main, brand_in_main))
            .map_err(unavailable)?;
        let category_counts = match category_counts {
            Some(c) => c,
            None => {
                let without = query::build(
                    f,
                    q,
                    Filters {
                        category: false,
                        brand: true,
                    },
                    words,
                );
                searcher
                    .search(&without, &facet("category"))
                    .map_err(unavailable)?
            }
        };
        let brand_counts = match brand_counts {
            Some(c) => c,
            None => {
                let without = query::build(
                    f,
                    q,
                    Filters {
                        category: true,
                        brand: false,
                    },
                    words,
                );
                searcher
                    .search(&without, &facet("brand"))
                    .map_err(unavailable)?
            }
        };
        let next = if top.len() > q.limit {
            top.truncate(q.limit);
            let last = top.last().map(|(k, _)| k.clone());
            last.map(|k| serde_json::to_value(k).map_err(unavailable))
                .transpose()?
        } else {
            None
        };
        let hits = top
            .iter()
            .map(|(_, addr)| self.read_doc(searcher, *addr))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResults {
            hits,
            total: total as u64,
            facets: Facets {
                category: counts(&category_counts),
                brand: counts(&brand_counts),
            },
            next,
        })
    }

    /// The dictionary of the reader's current searcher, read from that
    /// same searcher: suggestions see what a search made now sees, keyed by
    /// the one number that names the searcher, with no counter of commits
    /// to keep in step with the reloads.
    fn dictionary(&self) -> Result<Arc<suggest::Dictionary>, SearchError> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let mut cached = self
            .dictionary
            .lock()
            .map_err(|_| unavailable("the suggestion cache was poisoned"))?;
        if let Some((g, d)) = cached.as_ref() {
            if *g == generation {
                return Ok(Arc::clone(d));
            }
        }
        let d = Arc::new(
            suggest::Dictionary::read(&searcher, self.fields.suggest).map_err(unavailable)?,
        );
        // A call that took an older searcher does not replace a newer one's.
        if cached.as_ref().is_none_or(|(g, _)| *g < generation) {
            *cached = Some((generation, Arc::clone(&d)));
        }
        Ok(d)
    }
}

/// Facet values, most products first, then by value.
fn counts(c: &FacetCounts) -> Vec<FacetCount> {
    let mut out: Vec<FacetCount> = c
        .get("/")
        .filter_map(|(facet, count)| {
            facet.to_path().last().map(|v| FacetCount {
                value: (*v).to_owned(),
                count,
            })
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out
}

#[async_trait]
impl SearchIndex for TantivyIndex {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        self.blocking(move |inner| {
            // The last version of an id in the batch wins.
            let mut last = std::collections::HashMap::new();
            for d in docs {
                last.insert(d.id.clone(), d);
            }
            let prepared = last
                .values()
                .map(|d| {
                    schema::to_document(&inner.fields, d)
                        .map(|doc| (d.id.clone(), doc))
                        .map_err(|e| SearchError::Invalid(format!("document {}: {e}", d.id)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            inner.write(|w| {
                for (id, doc) in prepared {
                    w.delete_term(inner.id_term(&id));
                    w.add_document(doc).map_err(unavailable)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn apply(&self, change: Change) -> Result<Outcome, SearchError> {
        let (sender, outcome) = oneshot::channel();
        let lead = {
            let mut q = self
                .inner
                .queue
                .lock()
                .map_err(|_| unavailable("the index queue was poisoned"))?;
            q.pending.push((change, sender));
            !std::mem::replace(&mut q.committing, true)
        };
        if lead {
            let inner = Arc::clone(&self.inner);
            tokio::task::spawn_blocking(move || inner.drain());
        }
        outcome
            .await
            .map_err(|_| unavailable("the index writer stopped"))?
    }

    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        let id = id.to_owned();
        self.blocking(move |inner| inner.get(&id)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        if !(1..=1000).contains(&query.limit) {
            return Err(SearchError::Invalid(format!(
                "limit {} is not in 1..=1000",
                query.limit
            )));
        }
        let query = query.clone();
        self.blocking(move |inner| inner.search(&query)).await
    }

    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        let prefix = prefix.to_owned();
        self.blocking(move |inner| Ok(inner.dictionary()?.complete(&prefix, limit)))
            .await
    }

    async fn count(&self) -> Result<u64, SearchError> {
        self.blocking(|inner| Ok(inner.reader.searcher().num_docs()))
            .await
    }
}

impl std::fmt::Debug for TantivyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyIndex")
            .field("directory", &self.inner.index.directory())
            .finish()
    }
}
