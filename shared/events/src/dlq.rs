//! Operating the local bus's dead-letter queues: list what failed, redrive
//! it (after fixing the consumer). Dead letters are delivery items under
//! GSI1 `DLQ#<consumer>` (oldest failure first) and GSI2 `DEADLETTERS`
//! (`<consumer>#…`); see [`crate::local::delivery`].

use crate::local::delivery::{self, int_of, str_of};
use lite_core::Clock;
use lite_store::{
    attr, Condition, Index, Item, Key, Query, SkCondition, Store, StoreError, Update,
};
use serde::Serialize;
use serde_json::Value;

/// One event a consumer gave up on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub event_id: String,
    pub detail_type: String,
    /// Receives before it was given up.
    pub attempts: i64,
    /// The handler's last error (`retryable: …` or `poison: …`).
    pub last_error: String,
    /// RFC 3339.
    pub failed_at: String,
    /// The envelope, as it was published.
    pub event: Value,
}

impl DeadLetter {
    fn from_item(item: &Item) -> DeadLetter {
        let text = |name| str_of(item, name).unwrap_or_default().to_owned();
        DeadLetter {
            event_id: text(delivery::EVENT_ID),
            detail_type: text(delivery::DETAIL_TYPE),
            attempts: int_of(item, delivery::ATTEMPTS),
            last_error: text(delivery::LAST_ERROR),
            failed_at: text(delivery::FAILED_AT),
            event: item.get(delivery::EVENT).cloned().unwrap_or_default(),
        }
    }
}

/// Up to `limit` dead letters of `consumer`, oldest failure first.
pub async fn list(
    store: &dyn Store,
    consumer: &str,
    limit: usize,
) -> Result<Vec<DeadLetter>, StoreError> {
    let mut letters = Vec::new();
    let mut after = None;
    while letters.len() < limit {
        let query = Query::new(Index::Gsi1, delivery::dlq(consumer))
            .limit((limit - letters.len()).min(1000))
            .after(after);
        let page = store.query(&query).await?;
        letters.extend(page.items.iter().map(DeadLetter::from_item));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(letters)
}

/// Moves every dead letter of `consumer` back to its queue as a fresh
/// delivery (attempts 0, due now); returns how many. A running bus picks
/// them up at once (change feed) or within its poll interval.
pub async fn redrive(
    store: &dyn Store,
    clock: &dyn Clock,
    consumer: &str,
) -> Result<usize, StoreError> {
    let mut moved = 0;
    loop {
        // Redriven letters leave the partition, so the first page is always
        // what is left.
        let page = store
            .query(&Query::new(Index::Gsi1, delivery::dlq(consumer)).limit(100))
            .await?;
        if page.items.is_empty() {
            return Ok(moved);
        }
        for item in &page.items {
            let key = Key::of(item)?;
            let event_id = str_of(item, delivery::EVENT_ID).unwrap_or_default();
            let now = clock.now();
            let now_ms = now.timestamp_millis();
            let updates = [
                Update::set(attr::GSI1PK, delivery::queue(consumer)),
                Update::set(attr::GSI1SK, delivery::sort_key(now_ms, event_id)),
                Update::remove(attr::GSI2PK),
                Update::remove(attr::GSI2SK),
                Update::set(delivery::DUE_AT, now_ms),
                Update::set(delivery::ATTEMPTS, 0),
                Update::remove(delivery::LAST_ERROR),
                Update::remove(delivery::FAILED_AT),
                Update::set("redrivenAt", lite_core::rfc3339(now)),
                Update::add(delivery::VERSION, 1),
            ];
            let still_dead = Condition::eq(attr::GSI1PK, delivery::dlq(consumer)).and(
                Condition::eq(delivery::VERSION, int_of(item, delivery::VERSION)),
            );
            match store.update(&key, &updates, Some(still_dead)).await {
                Ok(_) => moved += 1,
                // Redriven by someone else meanwhile.
                Err(e) if e.is_condition_failure() => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The consumers that have at least one dead letter (one query per
/// consumer found, however many letters each has).
pub async fn consumers_with_dead_letters(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let mut consumers = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let mut query = Query::new(Index::Gsi2, delivery::DEAD_LETTERS_PARTITION).limit(1);
        if let Some(from) = &from {
            query = query.sk(SkCondition::Ge(from.clone()));
        }
        let page = store.query(&query).await?;
        let Some(consumer) = page
            .items
            .first()
            .and_then(|item| str_of(item, delivery::CONSUMER))
        else {
            return Ok(consumers);
        };
        // `<consumer>$` sorts after every `<consumer>#…` and before any
        // other consumer's keys (`$` follows `#`).
        from = Some(format!("{consumer}$"));
        consumers.push(consumer.to_owned());
    }
}
