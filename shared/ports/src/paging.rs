//! One page of a partition of GSI1, newest first, resumed from a signed
//! cursor: the listing behind "my notifications", "my orders" and the like,
//! written once so the cursor scope, the order and the parse failure are the
//! same everywhere.

use crate::Context;
use lite_core::Problem;
use lite_store::{Index, Item, Query, StoreError};

/// A page of parsed items and the cursor of the next one (`None` on the
/// last page).
#[derive(Debug, Clone, PartialEq)]
pub struct NewestFirst<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Up to `limit` items of the GSI1 partition `partition`, newest first,
/// after `cursor`. The cursor is bound to `scope` (route and caller): a
/// cursor issued for another scope is a 400 naming `cursor`. An item that
/// `parse` refuses is a store error naming `what`, never a skipped row.
pub async fn newest_first<T, E>(
    ctx: &Context,
    scope: &str,
    partition: String,
    limit: usize,
    cursor: Option<&str>,
    what: &str,
    parse: impl Fn(&Item) -> Option<T>,
) -> Result<NewestFirst<T>, E>
where
    E: From<Problem> + From<StoreError>,
{
    let after = ctx.cursors.resume(scope, cursor).await?;
    let page = ctx
        .store
        .query(
            &Query::new(Index::Gsi1, partition)
                .backward()
                .limit(limit)
                .after(after),
        )
        .await?;
    let items = page
        .items
        .iter()
        .map(|i| parse(i).ok_or_else(|| StoreError::Invalid(format!("{what} item does not parse"))))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = ctx.cursors.next_cursor(scope, page.next.as_ref()).await?;
    Ok(NewestFirst { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cursors;
    use lite_core::CursorCodec;
    use lite_store::{attr, redb_store::RedbStore, Key};
    use std::sync::Arc;

    #[derive(Debug)]
    enum Error {
        Problem(Problem),
        Store(StoreError),
    }
    impl From<Problem> for Error {
        fn from(p: Problem) -> Self {
            Error::Problem(p)
        }
    }
    impl From<StoreError> for Error {
        fn from(e: StoreError) -> Self {
            Error::Store(e)
        }
    }

    async fn ctx_with(names: &[&str]) -> Context {
        let store = Arc::new(RedbStore::in_memory().unwrap());
        let ctx = Context::new(store, Cursors::ready(CursorCodec::new(vec![7u8; 32])));
        for (n, name) in names.iter().enumerate() {
            let mut item = Key::new(format!("THING#{n}"), "THING").to_item();
            item.insert(attr::GSI1PK.into(), "USER#1#THINGS".into());
            item.insert(attr::GSI1SK.into(), format!("{n:03}").into());
            item.insert("name".into(), (*name).into());
            ctx.store.put(item, None).await.unwrap();
        }
        ctx
    }

    fn name(i: &Item) -> Option<String> {
        i.get("name")?
            .as_str()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    }

    async fn page(
        ctx: &Context,
        scope: &str,
        cursor: Option<&str>,
    ) -> Result<NewestFirst<String>, Error> {
        newest_first(ctx, scope, "USER#1#THINGS".into(), 2, cursor, "thing", name).await
    }

    #[tokio::test]
    async fn pages_run_newest_first_and_a_cursor_serves_its_scope_only() {
        let ctx = ctx_with(&["a", "b", "c"]).await;
        let first = page(&ctx, "things|1", None).await.unwrap();
        assert_eq!(first.items, ["c", "b"]);
        let cursor = first.next_cursor.unwrap();
        let second = page(&ctx, "things|1", Some(&cursor)).await.unwrap();
        assert_eq!(second.items, ["a"]);
        assert_eq!(second.next_cursor, None);
        match page(&ctx, "things|2", Some(&cursor)).await {
            Err(Error::Problem(p)) => assert_eq!(p.errors[0].field, "cursor"),
            other => panic!("another scope's cursor: {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_item_that_does_not_parse_is_a_store_error_naming_it() {
        let ctx = ctx_with(&["a", ""]).await;
        match page(&ctx, "things|1", None).await {
            Err(Error::Store(StoreError::Invalid(m))) => assert!(m.contains("thing item")),
            other => panic!("an unparsable item: {other:?}"),
        }
    }
}
