//! The [`Store`] port on Amazon DynamoDB.
//!
//! [`DynamoStore`] translates the port's typed operations into DynamoDB
//! requests on the single table: conditions and updates become expressions
//! with `#nN`/`:vN` placeholders (`expr.rs`), JSON items become attribute
//! values (`convert.rs`), SDK errors become [`StoreError`]s (`errors.rs`).
//!
//! Invariants the adapter keeps so that it answers exactly like the embedded
//! adapter (the conformance suite checks both):
//! - reads of the table are strongly consistent (GSIs cannot be);
//! - a query page holds up to `limit` *matching* items and has `next` only
//!   when one more matching item exists (it reads one extra to know), no
//!   matter how many items a filter rejects along the way;
//! - requests the port refuses (empty keys, too many or no ops, a key twice
//!   in a transaction, no or a key update, an oversized item, a bad query)
//!   are refused as [`StoreError::Invalid`] before any call, by the very
//!   checks the embedded adapter makes (`lite_store::validate_item`,
//!   `validate_updates`, `validate_transaction`, `Query::validate`).
//!
//! [`testing`] creates the table from `infra/table.json` and runs the moto
//! server the tests use.

mod convert;
mod errors;
mod expr;
pub mod testing;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update as TxUpdate,
};
use aws_sdk_dynamodb::Client;
use convert::{attrs_to_item, item_to_attrs, key_attrs, key_of_attrs, AttrMap};
use errors::TxFailure;
use expr::{filter_is_expressible, normalize_sk, Expr, SkPlan};
use lite_store::{
    attr, canceled, item_size, validate_item, validate_transaction, validate_updates, Condition,
    Direction, Index, Item, Key, Page, Position, Query, Store, StoreError, TxOp, TxWrite, Update,
    MAX_ITEM_BYTES,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// BatchGetItem takes at most 100 keys per request.
const BATCH_GET_KEYS: usize = 100;
/// Rounds of BatchGetItem for keys DynamoDB left unprocessed before giving up.
const BATCH_GET_ROUNDS: u32 = 8;
/// TransactWriteItems attempts when the only problem is a conflict.
const TRANSACT_ATTEMPTS: u32 = 4;
/// The largest Limit one Query request asks for while a filter is rejecting
/// items (the request limit counts items read, not items matched).
const MAX_QUERY_READ: usize = 1000;

/// The single table on DynamoDB. Cheap to clone (the SDK client is shared).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
}

impl DynamoStore {
    /// A store on `table` using `client` (build the client once per process).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: Arc::from(table.into()),
        }
    }

    /// A store configured from the environment: the standard AWS settings
    /// (region, credentials, `AWS_ENDPOINT_URL` for an emulator) with this
    /// function's timeouts and retries (`lite_aws::Profile::of_function`),
    /// and the table named by `TABLE_NAME`.
    pub async fn from_env() -> Result<Self, StoreError> {
        let table = std::env::var("TABLE_NAME")
            .ok()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::Invalid("TABLE_NAME is not set".into()))?;
        let config = lite_aws::sdk_config(lite_aws::Profile::of_function()).await;
        Ok(Self::new(Client::new(&config), table))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A Put of an item already checked by [`validate_item`].
    fn put_op(&self, item: &Item, condition: Option<&Condition>) -> Result<Put, StoreError> {
        let mut expr = Expr::new();
        let condition = condition.map(|c| expr.condition(c));
        Put::builder()
            .table_name(self.table())
            .set_item(Some(item_to_attrs(item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .build()
            .map_err(build_error)
    }

    /// One op of a transaction already checked by [`validate_transaction`].
    fn tx_item(&self, op: &TxOp) -> Result<TransactWriteItem, StoreError> {
        let builder = TransactWriteItem::builder();
        Ok(match op.write() {
            TxWrite::Put { item, condition } => builder.put(self.put_op(item, condition.as_ref())?),
            TxWrite::Update {
                key,
                updates,
                condition,
            } => {
                check_update_size(key, updates)?;
                let mut expr = Expr::new();
                let update = expr.update(updates);
                let condition = condition.as_ref().map(|c| expr.condition(c));
                let op = TxUpdate::builder()
                    .table_name(self.table())
                    .set_key(Some(key_attrs(key)))
                    .update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(build_error)?;
                builder.update(op)
            }
            TxWrite::Delete { key, condition } => {
                let mut expr = Expr::new();
                let condition = condition.as_ref().map(|c| expr.condition(c));
                let op = Delete::builder()
                    .table_name(self.table())
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(build_error)?;
                builder.delete(op)
            }
            TxWrite::Check { key, condition } => {
                let mut expr = Expr::new();
                let condition = expr.condition(condition);
                let op = ConditionCheck::builder()
                    .table_name(self.table())
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .build()
                    .map_err(build_error)?;
                builder.condition_check(op)
            }
        }
        .build())
    }

    /// Reads up to 100 distinct keys into `found`, retrying the keys
    /// DynamoDB leaves unprocessed.
    async fn batch_get_chunk(
        &self,
        keys: &[&Key],
        found: &mut HashMap<Key, Item>,
    ) -> Result<(), StoreError> {
        let mut pending: Vec<AttrMap> = keys.iter().map(|k| key_attrs(k)).collect();
        let mut round = 0;
        while !pending.is_empty() {
            if round > 0 {
                if round == BATCH_GET_ROUNDS {
                    tracing::warn!(
                        left = pending.len(),
                        "BatchGetItem kept leaving keys unprocessed"
                    );
                    return Err(StoreError::Throttled);
                }
                tokio::time::sleep(backoff(round)).await;
            }
            round += 1;
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(|e| errors::from_sdk("BatchGetItem", e))?;
            for attrs in out
                .responses
                .and_then(|mut r| r.remove(self.table()))
                .unwrap_or_default()
            {
                let key = key_of_attrs(&attrs).ok_or_else(|| {
                    StoreError::Unavailable("BatchGetItem returned an item without its key".into())
                })?;
                found.insert(key, attrs_to_item(&attrs)?);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        let out = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| errors::from_sdk("GetItem", e))?;
        out.item.as_ref().map(attrs_to_item).transpose()
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut seen = HashSet::new();
        let mut distinct = Vec::new();
        for key in keys {
            key.validate()?;
            if seen.insert(key) {
                distinct.push(key);
            }
        }
        let mut found = HashMap::new();
        for chunk in distinct.chunks(BATCH_GET_KEYS) {
            self.batch_get_chunk(chunk, &mut found).await?;
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        let sk = match normalize_sk(query.sk.as_ref()) {
            SkPlan::Nothing => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
            SkPlan::Everything => None,
            SkPlan::Condition(sk) => Some(sk),
        };
        let mut expr = Expr::new();
        let key_condition = expr.key_condition(query.index, &query.pk, sk.as_ref());
        let (filter_expression, local_filter) = match &query.filter {
            Some(f) if filter_is_expressible(f, query.index) => (Some(expr.condition(f)), None),
            other => (None, other.as_ref()),
        };
        let mut start = query
            .after
            .as_ref()
            .map(|p| start_key(query.index, p))
            .transpose()?;
        // One more than asked for: finding it is how we know `next` exists.
        let wanted = query.limit + 1;
        let mut items: Vec<Item> = Vec::with_capacity(wanted);
        let mut round = 0u32;
        loop {
            let need = wanted - items.len();
            // Without a filter every item read is returned, so read exactly
            // what is missing; with one, read more each round.
            let read = if query.filter.is_some() {
                (need << round.min(10)).min(MAX_QUERY_READ).max(need)
            } else {
                need
            };
            let out = self
                .client
                .query()
                .table_name(self.table())
                .set_index_name(query.index.name().map(str::to_owned))
                .key_condition_expression(&key_condition)
                .set_filter_expression(filter_expression.clone())
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .scan_index_forward(query.direction == Direction::Forward)
                .set_consistent_read((query.index == Index::Table).then_some(true))
                .limit(i32::try_from(read).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| errors::from_sdk("Query", e))?;
            for attrs in out.items.unwrap_or_default() {
                let item = attrs_to_item(&attrs)?;
                if local_filter.is_none_or(|f| f.eval(Some(&item))) {
                    items.push(item);
                    if items.len() == wanted {
                        break;
                    }
                }
            }
            match out.last_evaluated_key {
                Some(last) if items.len() < wanted => start = Some(last),
                _ => break,
            }
            round += 1;
        }
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .map(|last| Position::after(query.index, last))
                .transpose()?
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        validate_item(&item)?;
        let op = self.put_op(&item, condition.as_ref())?;
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(op.item))
            .set_condition_expression(op.condition_expression)
            .set_expression_attribute_names(op.expression_attribute_names)
            .set_expression_attribute_values(op.expression_attribute_values)
            .send()
            .await
            .map_err(|e| errors::from_sdk("PutItem", e))?;
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        key.validate()?;
        validate_updates(updates)?;
        check_update_size(key, updates)?;
        let mut expr = Expr::new();
        let update = expr.update(updates);
        let condition = condition.as_ref().map(|c| expr.condition(c));
        let out = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_attrs(key)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| errors::from_sdk("UpdateItem", e))?;
        match out.attributes {
            Some(attrs) if !attrs.is_empty() => attrs_to_item(&attrs),
            // Every update leaves at least the key; an item holding only
            // its key (all else removed) may come back without attributes.
            _ => Ok(key.to_item()),
        }
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        key.validate()?;
        let mut expr = Expr::new();
        let condition = condition.as_ref().map(|c| expr.condition(c));
        let out = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| errors::from_sdk("DeleteItem", e))?;
        out.attributes
            .filter(|a| !a.is_empty())
            .as_ref()
            .map(attrs_to_item)
            .transpose()
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        let items = ops
            .iter()
            .map(|op| self.tx_item(op))
            .collect::<Result<Vec<_>, _>>()?;
        let mut attempt = 1;
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match sent.map_err(errors::from_transact) {
                Ok(_) => return Ok(()),
                Err(TxFailure::Conflict) if attempt < TRANSACT_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(TxFailure::Conflict) => return Err(StoreError::Contention),
                Err(TxFailure::Canceled(failed)) => return Err(canceled(&ops, failed)),
                Err(TxFailure::Other(e)) => return Err(e),
            }
        }
    }
}

/// Refuses an update whose key and new values alone exceed the item size
/// limit, without a call. DynamoDB itself refuses the other updates that
/// make the item too large.
fn check_update_size(key: &Key, updates: &[Update]) -> Result<(), StoreError> {
    let mut written = key.to_item();
    for update in updates {
        if let Update::Set(a, v) | Update::SetIfAbsent(a, v) = update {
            written.insert(a.clone(), v.clone());
        }
    }
    let size = item_size(&written);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "update of {key} writes {size} bytes; the limit is {MAX_ITEM_BYTES}"
        )));
    }
    Ok(())
}

/// The ExclusiveStartKey of a query resuming after `position`.
fn start_key(index: Index, position: &Position) -> Result<AttrMap, StoreError> {
    let mut names = vec![attr::PK, attr::SK];
    if index != Index::Table {
        names.extend([index.pk_attr(), index.sk_attr()]);
    }
    names
        .into_iter()
        .map(|name| {
            let value = position.get(name).ok_or_else(|| {
                StoreError::Invalid(format!("position has no {name} for {index:?}"))
            })?;
            Ok((
                name.to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(value.to_string()),
            ))
        })
        .collect()
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("could not build the DynamoDB request: {e}"))
}

/// Exponential backoff with jitter: half fixed, half random, from 25 ms
/// doubling to at most 1.6 s.
fn backoff(attempt: u32) -> Duration {
    use std::hash::BuildHasher;
    let ceiling = 25u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let random = std::collections::hash_map::RandomState::new().hash_one(nanos);
    Duration::from_millis(ceiling / 2 + random % (ceiling / 2 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn start_keys_carry_the_index_key() {
        let item = json!({"PK": "p", "SK": "s", "GSI1PK": "g", "GSI1SK": "h"})
            .as_object()
            .unwrap()
            .clone();
        let table =
            start_key(Index::Table, &Position::after(Index::Table, &item).unwrap()).unwrap();
        assert_eq!(table.len(), 2);
        let gsi = start_key(Index::Gsi1, &Position::after(Index::Gsi1, &item).unwrap()).unwrap();
        assert_eq!(gsi.len(), 4);
        assert_eq!(gsi["GSI1SK"].as_s().unwrap(), "h");
        let table_position = Position::after(Index::Table, &item).unwrap();
        assert!(matches!(
            start_key(Index::Gsi1, &table_position),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn updates_writing_too_much_are_invalid() {
        let key = Key::new("p", "s");
        let update = [Update::set("big", "x".repeat(MAX_ITEM_BYTES))];
        assert!(matches!(
            check_update_size(&key, &update),
            Err(StoreError::Invalid(_))
        ));
        assert!(check_update_size(&key, &[Update::set("small", 1)]).is_ok());
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 0..20 {
            let ceiling = 25u64 << attempt.min(6);
            let d = backoff(attempt).as_millis() as u64;
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d}");
        }
    }
}
