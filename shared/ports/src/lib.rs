//! The adapters every service is built on: the store, the clock, ids and
//! the pagination-cursor codec. Handlers, repositories, consumers and saga
//! steps take a [`Context`]; nothing here knows about HTTP or the event
//! transport, so the write and read sides of a service can share it without
//! dragging either in.

pub mod paging;

use futures::future::BoxFuture;
use lite_core::{Clock, CursorCodec, CursorError, Ids, Problem};
use lite_store::{Position, Store};
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

    /// Where a store listing resumes: `None` without a cursor. A cursor that
    /// is garbage, forged, or issued for another `scope` (another route,
    /// filter or user) is a 400 naming `cursor`.
    pub async fn resume(
        &self,
        scope: &str,
        cursor: Option<&str>,
    ) -> Result<Option<Position>, Problem> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let problem =
            |e: CursorError| Problem::field("cursor", format!("{e}; start again without it"));
        let value = self.get().await?.decode(scope, cursor).map_err(problem)?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|_| problem(CursorError::Malformed))
    }

    /// The `nextCursor` of a store page: where it ended, signed for `scope`;
    /// `None` on the last page.
    pub async fn next_cursor(
        &self,
        scope: &str,
        next: Option<&Position>,
    ) -> Result<Option<String>, Problem> {
        let Some(next) = next else {
            return Ok(None);
        };
        let value = serde_json::Value::Object(
            next.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        );
        Ok(Some(self.get().await?.encode(scope, &value)))
    }
}

/// Test helpers (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing {
    /// A context on a fresh in-memory store with a random cursor key.
    pub fn memory_context() -> super::Context {
        let store = std::sync::Arc::new(
            lite_store::redb_store::RedbStore::in_memory().expect("an in-memory store opens"),
        );
        let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
        super::Context::new(store, super::Cursors::ready(codec))
    }

    /// A context on a store that answers `error` to every call: how a
    /// service answers when its store is busy or down.
    pub fn failing_context(error: lite_store::StoreError) -> super::Context {
        let store = std::sync::Arc::new(lite_store::testing::FailingStore(error));
        let codec = lite_core::CursorCodec::new(lite_core::CursorCodec::random_key());
        super::Context::new(store, super::Cursors::ready(codec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn cursors() -> Cursors {
        Cursors::ready(CursorCodec::new(vec![7u8; 32]))
    }

    fn position() -> Position {
        Position(BTreeMap::from([
            ("PK".to_owned(), "USER#1".to_owned()),
            ("SK".to_owned(), "ORDER#9".to_owned()),
        ]))
    }

    #[tokio::test]
    async fn a_next_cursor_resumes_where_its_page_ended_in_its_scope_only() {
        let c = cursors();
        let cursor = c
            .next_cursor("orders|usr_1", Some(&position()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            c.resume("orders|usr_1", Some(&cursor)).await.unwrap(),
            Some(position())
        );
        let other = c.resume("orders|usr_2", Some(&cursor)).await.unwrap_err();
        assert_eq!(other.status(), 400);
        assert_eq!(other.errors[0].field, "cursor");
        assert!(other.errors[0]
            .message
            .contains("not issued for this query"));
    }

    #[tokio::test]
    async fn no_cursor_is_the_first_page_and_the_last_page_has_none() {
        let c = cursors();
        assert_eq!(c.resume("s", None).await.unwrap(), None);
        assert_eq!(c.next_cursor("s", None).await.unwrap(), None);
    }

    #[tokio::test]
    async fn garbage_and_signed_non_positions_are_400s_naming_the_cursor() {
        let c = cursors();
        let garbage = c.resume("s", Some("not-a-cursor")).await.unwrap_err();
        assert_eq!(garbage.status(), 400);
        assert_eq!(garbage.errors[0].field, "cursor");
        let signed = c
            .get()
            .await
            .unwrap()
            .encode("s", &serde_json::json!([1, 2]));
        let wrong = c.resume("s", Some(&signed)).await.unwrap_err();
        assert_eq!(wrong.status(), 400);
        assert!(wrong.errors[0].message.contains("malformed"));
    }
}
