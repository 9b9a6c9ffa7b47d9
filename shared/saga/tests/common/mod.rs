//! Helpers shared by the interpreter tests.
#![allow(dead_code)]

use async_trait::async_trait;
use lite_core::SystemClock;
use lite_saga::{Definition, LocalSaga, LocalSagaConfig, TaskError, TaskInvoker};
use lite_store::redb_store::RedbStore;
use lite_store::Store;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub type Script = dyn Fn(&str, &Value, usize) -> Result<Value, TaskError> + Send + Sync;

/// An invoker answering from a script; records every call; hands out each
/// payload's `taskToken` on a channel.
pub struct Scripted {
    pub script: Box<Script>,
    pub calls: Mutex<Vec<(String, Value)>>,
    pub tokens: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Scripted {
    pub fn new(
        script: impl Fn(&str, &Value, usize) -> Result<Value, TaskError> + Send + Sync + 'static,
    ) -> (Arc<Scripted>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (
            Arc::new(Scripted {
                script: Box::new(script),
                calls: Mutex::new(Vec::new()),
                tokens: tx,
            }),
            rx,
        )
    }

    pub fn calls_to(&self, function: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f == function)
            .count()
    }
}

#[async_trait]
impl TaskInvoker for Scripted {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((function.to_string(), payload.clone()));
            calls.iter().filter(|(f, _)| f == function).count()
        };
        if let Some(t) = payload.get("taskToken").and_then(Value::as_str) {
            let _ = self.tokens.send(t.to_string());
        }
        (self.script)(function, &payload, n)
    }
}

pub fn definition(json: Value) -> Definition {
    Definition::parse(&json.to_string(), &HashMap::new()).unwrap()
}

pub fn memory_store() -> Arc<dyn Store> {
    Arc::new(RedbStore::in_memory().unwrap())
}

pub fn local(
    store: Arc<dyn Store>,
    def: Definition,
    invoker: Arc<dyn TaskInvoker>,
    scale: f64,
) -> Arc<LocalSaga> {
    LocalSaga::new(
        store,
        Arc::new(SystemClock),
        def,
        invoker,
        LocalSagaConfig { time_scale: scale },
    )
}

/// Looks at `look` every 5 ms until it returns `Some`, for at most 5 s;
/// `None` when it never did. For what a driver writes on its own task.
pub async fn eventually<T, F, Fut>(mut look: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(found) = look().await {
            return Some(found);
        }
        if std::time::Instant::now() > until {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
