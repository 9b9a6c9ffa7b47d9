//! The execution and token items in the `Store` port.
//!
//! - execution: `PK=SAGA#<name>`, `SK=SAGA`; while running also
//!   `GSI2PK=SAGA#RUNNING`, `GSI2SK=<startedAt>#<name>` (how `resume_all`
//!   finds running executions without a Scan).
//! - token: `PK=SAGATOKEN#<token>`, `SK=SAGATOKEN` → the execution; status
//!   `WAITING` until resolved once (success, failure or timeout).
//!
//! Every write carries `version = n` as a condition and writes `n + 1`.

use crate::frame::Frame;
use crate::invoker::TaskError;
use crate::step::{HistoryEntry, NewToken};
use crate::SagaError;
use chrono::{DateTime, Utc};
use lite_store::{attr, Condition, Index, Item, Key, Query, Store, StoreError, TxOp, Update};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const RUNNING_PARTITION: &str = "SAGA#RUNNING";
/// The most history entries an item keeps (the oldest are dropped).
pub const HISTORY_LIMIT: usize = 200;
/// How long a finished execution and a resolved token are kept.
const RETENTION_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
        }
    }
}

/// The execution item (without its keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub name: String,
    pub execution_id: String,
    pub status: Status,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Where the execution stands; `None` once stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Frame>,
    /// Tokens the position waits on (also inside `position`; here to read).
    #[serde(default)]
    pub waiting_tokens: Vec<String>,
    /// The earliest timer or token deadline of the position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Entries dropped from the front of `history` to bound the item.
    #[serde(default)]
    pub history_dropped: u64,
    /// The last invocation id handed out.
    #[serde(default)]
    pub seq: u64,
    /// W3C `traceparent` of the span that started the execution: the
    /// execution's spans (and so its tasks') continue that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub version: u64,
}

pub fn execution_key(name: &str) -> Key {
    Key::new(format!("SAGA#{name}"), "SAGA")
}

pub fn token_key(token: &str) -> Key {
    Key::new(format!("SAGATOKEN#{token}"), "SAGATOKEN")
}

fn unavailable(e: StoreError) -> SagaError {
    SagaError::Unavailable(format!("saga store: {e}"))
}

impl Execution {
    fn to_item(&self) -> Result<Item, SagaError> {
        let Value::Object(mut item) = serde_json::to_value(self).map_err(|e| {
            SagaError::Invalid(format!("execution {} does not serialize: {e}", self.name))
        })?
        else {
            return Err(SagaError::Invalid(
                "an execution serializes to an object".into(),
            ));
        };
        let key = execution_key(&self.name);
        item.insert(attr::PK.into(), key.pk.into());
        item.insert(attr::SK.into(), key.sk.into());
        if self.status == Status::Running {
            item.insert(attr::GSI2PK.into(), RUNNING_PARTITION.into());
            item.insert(
                attr::GSI2SK.into(),
                format!("{}#{}", lite_core::rfc3339(self.started_at), self.name).into(),
            );
        } else if let Some(stopped) = self.stopped_at {
            let expires = stopped + chrono::Duration::days(RETENTION_DAYS);
            item.insert(attr::EXPIRES_AT.into(), expires.timestamp().into());
        }
        Ok(item)
    }

    fn from_item(item: Item) -> Result<Execution, SagaError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| SagaError::Unavailable(format!("an execution item does not parse: {e}")))
    }

    /// Keeps the history within [`HISTORY_LIMIT`].
    pub fn trim_history(&mut self) {
        if self.history.len() > HISTORY_LIMIT {
            let drop = self.history.len() - HISTORY_LIMIT;
            self.history.drain(..drop);
            self.history_dropped += drop as u64;
        }
    }
}

/// Writes a new execution unless one of that name exists (`Ok(false)`).
pub async fn create(store: &dyn Store, exec: &Execution) -> Result<bool, SagaError> {
    match store.put(exec.to_item()?, Some(Condition::NotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}

pub async fn load(store: &dyn Store, name: &str) -> Result<Option<Execution>, SagaError> {
    match store.get(&execution_key(name)).await.map_err(unavailable)? {
        Some(item) => Execution::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// Why a save did not happen.
#[derive(Debug)]
pub enum SaveError {
    /// Someone else wrote the execution since it was read.
    Conflict,
    Store(SagaError),
}

/// Writes `exec` (its version becomes `version + 1`) if the stored one is
/// still at `exec.version`, with the items of `new_tokens` in the same
/// transaction.
pub async fn save(
    store: &dyn Store,
    exec: &mut Execution,
    new_tokens: &[NewToken],
    now: DateTime<Utc>,
) -> Result<(), SaveError> {
    let expected = exec.version;
    exec.version = expected + 1;
    exec.trim_history();
    let item = match exec.to_item() {
        Ok(i) => i,
        Err(e) => {
            exec.version = expected;
            return Err(SaveError::Store(e));
        }
    };
    let condition = Condition::eq("version", expected);
    let result = if new_tokens.is_empty() {
        store.put(item, Some(condition)).await
    } else {
        let mut ops = vec![TxOp::put(item).when(condition)];
        for t in new_tokens {
            ops.push(TxOp::put(token_item(t, &exec.name, now)).when(Condition::NotExists));
        }
        store.transact(ops).await
    };
    match result {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed | StoreError::TransactionCanceled { .. }) => {
            exec.version = expected;
            Err(SaveError::Conflict)
        }
        Err(e) => {
            exec.version = expected;
            Err(SaveError::Store(unavailable(e)))
        }
    }
}

/// The names of running executions, oldest first (GSI2, paged).
pub async fn running(store: &dyn Store) -> Result<Vec<String>, SagaError> {
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query(
                &Query::new(Index::Gsi2, RUNNING_PARTITION)
                    .limit(1000)
                    .after(after),
            )
            .await
            .map_err(unavailable)?;
        for item in &page.items {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                names.push(name.to_string());
            }
        }
        match page.next {
            Some(p) => after = Some(p),
            None => return Ok(names),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenStatus {
    Waiting,
    Succeeded,
    Failed,
    TimedOut,
}

/// The token item (without its keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub execution: String,
    pub state: String,
    pub status: TokenStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    pub version: u64,
}

impl TokenRecord {
    /// What the waiting task gets, once resolved.
    pub fn outcome(&self) -> Option<Result<Value, TaskError>> {
        match self.status {
            TokenStatus::Waiting => None,
            TokenStatus::Succeeded => Some(Ok(self.output.clone().unwrap_or(Value::Null))),
            TokenStatus::Failed | TokenStatus::TimedOut => Some(Err(self
                .error
                .clone()
                .unwrap_or_else(|| TaskError::new("", "")))),
        }
    }
}

fn token_item(t: &NewToken, execution: &str, now: DateTime<Utc>) -> Item {
    let record = TokenRecord {
        execution: execution.to_string(),
        state: t.state.clone(),
        status: TokenStatus::Waiting,
        deadline: t.deadline,
        output: None,
        error: None,
        version: 0,
    };
    let mut item = match serde_json::to_value(&record) {
        Ok(Value::Object(m)) => m,
        _ => Item::new(),
    };
    let key = token_key(&t.token);
    item.insert(attr::PK.into(), key.pk.into());
    item.insert(attr::SK.into(), key.sk.into());
    // A token nobody resolves still goes away eventually.
    let until = t.deadline.unwrap_or(now) + chrono::Duration::days(RETENTION_DAYS);
    item.insert(attr::EXPIRES_AT.into(), until.timestamp().into());
    item.insert("createdAt".into(), lite_core::rfc3339(now).into());
    item
}

pub async fn get_token(store: &dyn Store, token: &str) -> Result<Option<TokenRecord>, SagaError> {
    match store.get(&token_key(token)).await.map_err(unavailable)? {
        Some(item) => serde_json::from_value(Value::Object(item))
            .map(Some)
            .map_err(|e| SagaError::Unavailable(format!("a token item does not parse: {e}"))),
        None => Ok(None),
    }
}

/// The name of the op of [`success_op`].
pub const TOKEN_OP: &str = "saga task token";

/// The write resolving waiting `token` with `output`, for a caller's own
/// transaction; it fails (on [`TOKEN_OP`]) unless the token is WAITING, so
/// it has the one-winner property of [`resolve_token`].
pub fn success_op(token: &str, output: &Value, now: DateTime<Utc>) -> TxOp {
    let expires = now + chrono::Duration::days(RETENTION_DAYS);
    let updates = vec![
        Update::add("version", 1),
        Update::set("output", output.clone()),
        Update::set(
            "status",
            serde_json::to_value(TokenStatus::Succeeded).unwrap_or(Value::Null),
        ),
        Update::set("resolvedAt", lite_core::rfc3339(now)),
        Update::set(attr::EXPIRES_AT, expires.timestamp()),
    ];
    TxOp::update(token_key(token), updates)
        .when(Condition::eq("status", "WAITING"))
        .named(TOKEN_OP)
}

/// Resolves a waiting token once: the first resolution (callback or
/// timeout) wins; every later one is `TaskGone`.
pub async fn resolve_token(
    store: &dyn Store,
    token: &str,
    outcome: Result<Value, TaskError>,
    timed_out: bool,
    now: DateTime<Utc>,
) -> Result<TokenRecord, SagaError> {
    let gone =
        || SagaError::TaskGone("the token is unknown, already used, or its task timed out".into());
    let mut record = get_token(store, token).await?.ok_or_else(gone)?;
    if record.status != TokenStatus::Waiting {
        return Err(gone());
    }
    let expected = record.version;
    let mut updates = vec![Update::set("version", expected + 1)];
    match &outcome {
        Ok(output) => {
            record.status = TokenStatus::Succeeded;
            record.output = Some(output.clone());
            updates.push(Update::set("output", output.clone()));
        }
        Err(e) => {
            record.status = if timed_out {
                TokenStatus::TimedOut
            } else {
                TokenStatus::Failed
            };
            record.error = Some(e.clone());
            updates.push(Update::set(
                "error",
                serde_json::to_value(e).unwrap_or(Value::Null),
            ));
        }
    }
    updates.push(Update::set(
        "status",
        serde_json::to_value(record.status).unwrap_or(Value::Null),
    ));
    updates.push(Update::set("resolvedAt", lite_core::rfc3339(now)));
    let expires = now + chrono::Duration::days(RETENTION_DAYS);
    updates.push(Update::set(attr::EXPIRES_AT, expires.timestamp()));
    let condition = Condition::eq("version", expected).and(Condition::eq("status", "WAITING"));
    match store
        .update(&token_key(token), &updates, Some(condition))
        .await
    {
        Ok(_) => {
            record.version = expected + 1;
            Ok(record)
        }
        Err(StoreError::ConditionFailed) => Err(gone()),
        Err(e) => Err(unavailable(e)),
    }
}
