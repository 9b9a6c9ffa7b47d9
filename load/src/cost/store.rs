//! The counting decorator over the `Store` port: every request as
//! DynamoDB would bill it, with item sizes measured the way DynamoDB
//! measures them ([`super::size`]).
//!
//! What DynamoDB bills, and how it is counted here:
//! - GetItem / BatchGetItem: one read unit per started 4 KB of each item,
//!   strongly consistent (the adapter reads the table consistently); an
//!   absent item still costs the minimum. BatchGetItem sends one request
//!   per 100 distinct keys.
//! - Query: the items *read*, summed per request and rounded up to 4 KB,
//!   not the items returned: the adapter reads one item more than the page
//!   to know whether another exists, and a filter is applied after the read.
//!   The decorator replays the adapter's reads on the inner store (without
//!   counting them) to size them. GSI queries are eventually consistent
//!   (half price).
//! - Put/Update/Delete: a write unit per started 1 KB of the larger of the
//!   old and the new item; a write whose condition fails is billed on the
//!   existing item. The old item is read from the inner store first,
//!   uncounted.
//! - TransactWriteItems: every item (checks included) twice its plain
//!   figure; a canceled transaction is billed as if it had applied.
//! - GSI upkeep: a write that adds an item to an index, changes it there or
//!   removes it costs one plain write of the index entry (all attributes
//!   are projected, so the entry is the item); a change of the index key is
//!   a delete plus a put, two writes.
//!
//! Items of the local transports are not DynamoDB on AWS and are counted
//! apart ([`Tally::local_only`]): a bus delivery (`DELIVERY#…`) is an SQS
//! message (its put a SendMessage, its take a ReceiveMessage, its delete a
//! DeleteMessage), the relay's scan of `OUTBOX#PENDING` is the table's
//! stream, a saga execution (`SAGA#…`, `SAGATOKEN#…`) is Step Functions'.
//! The local relay marks an outbox item published in one transaction with
//! the deliveries; on AWS the relay Lambda publishes it to EventBridge
//! (one PutEvents entry) and marks it with a plain UpdateItem, so that is
//! how such a transaction is billed. The relay Lambda itself runs once per
//! write that inserts outbox items (one stream batch at low traffic).

use super::meter::{Meter, Tally, Target};
use super::scope;
use super::size::item_bytes;
use super::units::{read_half_units, write_units, Mode};
use async_trait::async_trait;
use lite_store::{
    Condition, Index, Item, Key, Page, Query, Store, StoreError, TxOp, TxWrite, Update,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The Lambda function that relays outbox items to EventBridge.
pub const RELAY_FUNCTION: &str = "relay";

/// What an item is, for billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// On DynamoDB on AWS too.
    Table,
    /// A local bus delivery: an SQS message on AWS.
    Delivery,
    /// A local saga execution or task token: Step Functions on AWS.
    Saga,
}

pub fn class_of(key: &Key) -> Class {
    if key.pk.starts_with("DELIVERY#") {
        Class::Delivery
    } else if key.pk.starts_with("SAGA#") || key.pk.starts_with("SAGATOKEN#") {
        Class::Saga
    } else {
        Class::Table
    }
}

/// The queries only the local transports make, by what AWS does instead.
fn local_query(query: &Query) -> Option<&'static str> {
    let pk = query.pk.as_str();
    match query.index {
        Index::Gsi1 if pk.starts_with("QUEUE#") || pk.starts_with("DLQ#") => {
            Some("bus queue query (SQS)")
        }
        Index::Gsi2 if pk == lite_events::outbox::PENDING_PARTITION => {
            Some("outbox pending query (the stream)")
        }
        Index::Gsi2 if pk == "DEADLETTERS" => Some("dead-letter query (SQS)"),
        Index::Gsi2 if pk.starts_with("SAGA#") => Some("saga running query (Step Functions)"),
        _ => None,
    }
}

/// The consumer a delivery key belongs to: `DELIVERY#<consumer>#<eventId>`.
fn delivery_queue(key: &Key) -> String {
    key.pk
        .strip_prefix("DELIVERY#")
        .and_then(|rest| rest.rsplit_once('#'))
        .map(|(consumer, _)| consumer.to_owned())
        .unwrap_or_default()
}

fn is_outbox(key: &Key) -> bool {
    key.pk.starts_with("OUTBOX#")
}

/// The write units a change from `old` to `new` costs in each index the
/// items are in (none when neither is).
pub fn index_writes(old: Option<&Item>, new: Option<&Item>) -> Vec<(Target, u64)> {
    let mut out = Vec::new();
    for index in [Index::Gsi1, Index::Gsi2] {
        let before = old.and_then(|i| index.keys_of(i).map(|k| (k, i)));
        let after = new.and_then(|i| index.keys_of(i).map(|k| (k, i)));
        let units = match (before, after) {
            (None, None) => 0,
            (Some(_), None) | (None, Some(_)) => {
                let (_, item) = before.or(after).expect("one side is in the index");
                write_units(item_bytes(item), Mode::Plain)
            }
            (Some((kb, ib)), Some((ka, ia))) if kb == ka => {
                if ib == ia {
                    0
                } else {
                    write_units(item_bytes(ib).max(item_bytes(ia)), Mode::Plain)
                }
            }
            (Some((_, ib)), Some((_, ia))) => {
                write_units(item_bytes(ib), Mode::Plain) + write_units(item_bytes(ia), Mode::Plain)
            }
        };
        if units > 0 {
            out.push((index.into(), units));
        }
    }
    out
}

fn size_of(item: Option<&Item>) -> u64 {
    item.map(item_bytes).unwrap_or(0)
}

/// Bills one applied write of the table (and its indexes) from `old` to `new`.
fn bill_write(t: &mut Tally, old: Option<&Item>, new: Option<&Item>, mode: Mode) {
    t.write(
        Target::Table,
        write_units(size_of(old).max(size_of(new)), mode),
    );
    for (target, units) in index_writes(old, new) {
        t.write(target, units);
    }
    if old != new {
        t.dynamo.stream_records += 1;
    }
}

/// Bills a write whose condition failed: the existing item, no index work.
fn bill_failed(t: &mut Tally, old: Option<&Item>, mode: Mode) {
    t.write(Target::Table, write_units(size_of(old), mode));
    t.dynamo.failed_conditions += 1;
}

/// A store that counts what DynamoDB would bill for every call.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    meter: Meter,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, meter: Meter) -> Self {
        Self { inner, meter }
    }

    /// The inner store's current item, read for sizing (not counted).
    async fn peek(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    /// Bytes a query reads on DynamoDB, per request: the adapter's reads
    /// replayed on the inner store (see `lite-dynamo`'s `query`).
    async fn query_reads(&self, query: &Query) -> Result<Vec<u64>, StoreError> {
        const MAX_QUERY_READ: usize = 1000;
        let wanted = query.limit + 1;
        let mut matched = 0usize;
        let mut requests = Vec::new();
        let mut after = query.after.clone();
        let mut round = 0u32;
        loop {
            let need = wanted - matched;
            let read = if query.filter.is_some() {
                (need << round.min(10)).min(MAX_QUERY_READ).max(need)
            } else {
                need
            };
            let mut replay = query.clone();
            replay.filter = None;
            replay.limit = read.clamp(1, MAX_QUERY_READ);
            replay.after = after.take();
            let page = self.inner.query(&replay).await?;
            requests.push(page.items.iter().map(item_bytes).sum());
            matched += page
                .items
                .iter()
                .filter(|i| query.filter.as_ref().is_none_or(|f| f.eval(Some(i))))
                .count();
            match page.next {
                Some(next) if matched < wanted => after = Some(next),
                _ => return Ok(requests),
            }
            round += 1;
        }
    }

    async fn transact_billed(&self, ops: &[TxOp]) -> Result<(), StoreError> {
        // The local relay's publish: deliveries (SQS sends) plus the outbox mark.
        let deliveries: Vec<Key> = ops
            .iter()
            .filter_map(|op| op.key().ok())
            .filter(|k| class_of(k) == Class::Delivery)
            .collect();
        let table_keys: Vec<Key> = ops
            .iter()
            .filter_map(|op| op.key().ok())
            .filter(|k| class_of(k) == Class::Table)
            .collect();
        let before = self.inner.batch_get(&table_keys).await?;
        let result = self.inner.transact(ops.to_vec()).await;
        let after = if result.is_ok() {
            self.inner.batch_get(&table_keys).await?
        } else {
            before.clone()
        };
        let mut t = self.meter.tally();
        if ops.iter().any(|op| {
            op.key()
                .map(|k| class_of(&k) == Class::Saga)
                .unwrap_or(false)
        }) {
            t.local("saga transaction (Step Functions)");
        }
        // Only the relay updates outbox items (services put them).
        let publishes = ops
            .iter()
            .any(|op| matches!(op.write(), TxWrite::Update { key, .. } if is_outbox(key)));
        if publishes {
            t.local("bus publish transaction (EventBridge → SQS)");
            if result.is_ok() {
                for key in &deliveries {
                    t.sqs(&delivery_queue(key), "SendMessage");
                }
                // The relay's mark of each outbox item: a plain UpdateItem.
                for (old, new) in before.iter().zip(&after) {
                    t.dynamo_request("UpdateItem");
                    scope::aws_call();
                    bill_write(&mut t, old.as_ref(), new.as_ref(), Mode::Plain);
                    t.eventbridge_entries += 1;
                }
            }
            return result;
        }
        if table_keys.is_empty() || matches!(&result, Err(e) if !e.is_condition_failure()) {
            // Refused before it reached the table (invalid, unavailable): not billed.
            return result;
        }
        if !deliveries.is_empty() {
            bill_ridden_delivery(&mut t, ops, &table_keys, &before, &after, &result);
            return result;
        }
        t.dynamo_request("TransactWriteItems");
        scope::aws_call();
        t.dynamo.transaction_items += table_keys.len() as u64;
        let by_key: HashMap<&Key, usize> = table_keys.iter().zip(0..).collect();
        let mut inserts_outbox = false;
        for op in ops {
            let Ok(key) = op.key() else { continue };
            let Some(&i) = by_key.get(&key) else { continue };
            let (old, new) = (before[i].as_ref(), after[i].as_ref());
            match (&result, op.write()) {
                (Err(_), _) => t.write(
                    Target::Table,
                    write_units(size_of(old), Mode::Transactional),
                ),
                (Ok(()), TxWrite::Check { .. }) => {
                    t.write(
                        Target::Table,
                        write_units(size_of(old), Mode::Transactional),
                    );
                }
                (Ok(()), _) => {
                    inserts_outbox |= is_outbox(&key) && old.is_none() && new.is_some();
                    bill_write(&mut t, old, new, Mode::Transactional);
                }
            }
        }
        if matches!(&result, Err(e) if e.is_condition_failure()) {
            t.dynamo.failed_conditions += 1;
        }
        if inserts_outbox {
            t.invoked_relay();
        }
        result
    }
}

/// A bus delivery taken or acknowledged in the transaction of a
/// consumer's idempotency claim or done mark (the local bus's riders). On
/// AWS the claim and the mark are single conditional writes and the take
/// and the acknowledgement are SQS's ReceiveMessage and DeleteMessage:
/// billed so, not as a transaction.
fn bill_ridden_delivery(
    t: &mut Tally,
    ops: &[TxOp],
    table_keys: &[Key],
    before: &[Option<Item>],
    after: &[Option<Item>],
    result: &Result<(), StoreError>,
) {
    t.local("delivery taken or acknowledged with an idempotency write (SQS)");
    let by_key: HashMap<&Key, usize> = table_keys.iter().zip(0..).collect();
    for op in ops {
        let Ok(key) = op.key() else { continue };
        match (class_of(&key), op.write()) {
            (Class::Delivery, TxWrite::Update { .. }) if result.is_ok() => {
                t.sqs(&delivery_queue(&key), "ReceiveMessage");
            }
            (Class::Delivery, TxWrite::Delete { .. }) if result.is_ok() => {
                t.sqs(&delivery_queue(&key), "DeleteMessage");
            }
            (Class::Table, write) => {
                let Some(&i) = by_key.get(&key) else { continue };
                let request = match write {
                    TxWrite::Put { .. } => "PutItem",
                    TxWrite::Update { .. } => "UpdateItem",
                    TxWrite::Delete { .. } => "DeleteItem",
                    TxWrite::Check { .. } => continue,
                };
                t.dynamo_request(request);
                scope::aws_call();
                match result {
                    Ok(()) => bill_write(t, before[i].as_ref(), after[i].as_ref(), Mode::Plain),
                    Err(_) => bill_failed(t, before[i].as_ref(), Mode::Plain),
                }
            }
            _ => {}
        }
    }
    if matches!(result, Err(e) if e.is_condition_failure()) {
        t.dynamo.failed_conditions += 1;
    }
}

trait RelayInvocation {
    fn invoked_relay(&mut self);
}

impl RelayInvocation for Tally {
    /// The relay Lambda: one invocation per stream batch with outbox
    /// inserts; its own work locally is the bus's, so its duration is the
    /// modelled one (1 ms measured, one PutEvents and one UpdateItem per event).
    fn invoked_relay(&mut self) {
        self.invoked(RELAY_FUNCTION, std::time::Duration::ZERO, 2);
    }
}

#[async_trait]
impl Store for MeteredStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let found = self.inner.get(key).await?;
        let mut t = self.meter.tally();
        match class_of(key) {
            Class::Table => {
                t.dynamo_request("GetItem");
                scope::aws_call();
                t.read(
                    Target::Table,
                    read_half_units(size_of(found.as_ref()), Mode::Plain, true),
                );
            }
            Class::Delivery => t.local("delivery get (SQS)"),
            Class::Saga => t.local("saga get (Step Functions)"),
        }
        Ok(found)
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let found = self.inner.batch_get(keys).await?;
        let mut t = self.meter.tally();
        let mut seen = std::collections::HashSet::new();
        let mut distinct = 0u64;
        for (key, item) in keys.iter().zip(&found) {
            if class_of(key) != Class::Table {
                t.local("batch get of local transport items");
                continue;
            }
            if seen.insert(key) {
                distinct += 1;
                t.read(
                    Target::Table,
                    read_half_units(size_of(item.as_ref()), Mode::Plain, true),
                );
            }
        }
        for _ in 0..distinct.div_ceil(100) {
            t.dynamo_request("BatchGetItem");
            scope::aws_call();
        }
        Ok(found)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        if let Some(what) = local_query(query) {
            self.meter.tally().local(what);
            return self.inner.query(query).await;
        }
        let page = self.inner.query(query).await?;
        let requests = self.query_reads(query).await?;
        let target = Target::from(query.index);
        let consistent = query.index == Index::Table;
        let mut t = self.meter.tally();
        for bytes in requests {
            t.dynamo_request("Query");
            scope::aws_call();
            t.read(target, read_half_units(bytes, Mode::Plain, consistent));
        }
        Ok(page)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let key = Key::of(&item)?;
        match class_of(&key) {
            Class::Table => {}
            Class::Delivery => {
                self.meter.tally().local("delivery put (SQS)");
                return self.inner.put(item, condition).await;
            }
            Class::Saga => {
                self.meter.tally().local("saga put (Step Functions)");
                return self.inner.put(item, condition).await;
            }
        }
        let old = self.peek(&key).await?;
        let result = self.inner.put(item.clone(), condition).await;
        let mut t = self.meter.tally();
        t.dynamo_request("PutItem");
        scope::aws_call();
        match &result {
            Ok(()) => {
                bill_write(&mut t, old.as_ref(), Some(&item), Mode::Plain);
                if is_outbox(&key) && old.is_none() {
                    t.invoked_relay();
                }
            }
            Err(e) if e.is_condition_failure() => bill_failed(&mut t, old.as_ref(), Mode::Plain),
            Err(_) => {}
        }
        result
    }

    async fn update(
        &self,
        key: &Key,
        updates: &[Update],
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        match class_of(key) {
            Class::Table => {}
            Class::Delivery => {
                let result = self.inner.update(key, updates, condition).await;
                let mut t = self.meter.tally();
                t.local("delivery update (SQS)");
                // A worker taking a delivery counts its receive.
                let takes = updates
                    .iter()
                    .any(|u| matches!(u, Update::Add(a, _) if a == "attempts"));
                if takes && result.is_ok() {
                    t.sqs(&delivery_queue(key), "ReceiveMessage");
                }
                return result;
            }
            Class::Saga => {
                self.meter.tally().local("saga update (Step Functions)");
                return self.inner.update(key, updates, condition).await;
            }
        }
        let old = self.peek(key).await?;
        let result = self.inner.update(key, updates, condition).await;
        let mut t = self.meter.tally();
        t.dynamo_request("UpdateItem");
        scope::aws_call();
        // The local relay marks an event no consumer subscribes to with a
        // plain update: on AWS it is published to EventBridge all the same.
        if is_outbox(key) && result.is_ok() {
            t.eventbridge_entries += 1;
        }
        match &result {
            Ok(new) => bill_write(&mut t, old.as_ref(), Some(new), Mode::Plain),
            Err(e) if e.is_condition_failure() => bill_failed(&mut t, old.as_ref(), Mode::Plain),
            Err(_) => {}
        }
        result
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        match class_of(key) {
            Class::Table => {}
            Class::Delivery => {
                let result = self.inner.delete(key, condition).await;
                let mut t = self.meter.tally();
                t.local("delivery delete (SQS)");
                if result.is_ok() {
                    t.sqs(&delivery_queue(key), "DeleteMessage");
                }
                return result;
            }
            Class::Saga => {
                self.meter.tally().local("saga delete (Step Functions)");
                return self.inner.delete(key, condition).await;
            }
        }
        let old = self.peek(key).await?;
        let result = self.inner.delete(key, condition).await;
        let mut t = self.meter.tally();
        t.dynamo_request("DeleteItem");
        scope::aws_call();
        match &result {
            Ok(_) => bill_write(&mut t, old.as_ref(), None, Mode::Plain),
            Err(e) if e.is_condition_failure() => bill_failed(&mut t, old.as_ref(), Mode::Plain),
            Err(_) => {}
        }
        result
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        self.transact_billed(&ops).await
    }
}
