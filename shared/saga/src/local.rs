//! `LocalSaga`: the interpreter's driver. One tokio task per running
//! execution steps its position, persists it (optimistic, versioned), runs
//! invocations concurrently and sleeps until the next timer or deadline.

use crate::definition::Definition;
use crate::frame::{Frame, Phase};
use crate::invoker::{errors, TaskError, TaskInvoker};
use crate::step::{ExecutionInfo, HistoryEntry, NewToken, Settled, Step};
use crate::store::{self, Execution, SaveError, Status};
use crate::{SagaError, Started};
use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};
use lite_core::Clock;
use lite_store::Store;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalSagaConfig {
    /// Multiplies every duration the interpreter waits: Wait seconds, retry
    /// intervals and task timeouts (TimeoutSeconds, TimeoutSecondsPath),
    /// uniformly. 1.0 is real time; tests use e.g. 0.01. Absolute Wait
    /// timestamps are not scaled.
    pub time_scale: f64,
}

impl Default for LocalSagaConfig {
    fn default() -> Self {
        Self { time_scale: 1.0 }
    }
}

/// What `describe` shows of an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionView {
    pub name: String,
    pub execution_id: String,
    /// `RUNNING`, `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub started_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Entered states, in order (the oldest may have been dropped past 200).
    pub history: Vec<HistoryEntry>,
}

impl ExecutionView {
    /// The names of the entered states, in order.
    pub fn path(&self) -> Vec<String> {
        self.history.iter().map(|h| h.state.clone()).collect()
    }
}

struct Driver {
    notify: Arc<Notify>,
    handle: Option<JoinHandle<()>>,
}

pub struct LocalSaga {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    definition: Arc<Definition>,
    invoker: Arc<dyn TaskInvoker>,
    config: LocalSagaConfig,
    /// Executions driven by this process. Held only for map operations,
    /// never across an await.
    drivers: Mutex<HashMap<String, Driver>>,
    shutdown: watch::Sender<bool>,
    /// Woken whenever an execution stops.
    stopped: Notify,
    me: Weak<LocalSaga>,
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn execution_id(name: &str) -> String {
    format!("local:execution:checkout:{name}")
}

/// Step Functions' execution name rules: 1 to 80 characters, none of
/// whitespace, control characters or `<>{}[]?*"#%\^|~`$&,;:/`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 80
        && name.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !"<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
        })
}

impl LocalSaga {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        definition: Definition,
        invoker: Arc<dyn TaskInvoker>,
        config: LocalSagaConfig,
    ) -> Arc<LocalSaga> {
        let (shutdown, _) = watch::channel(false);
        Arc::new_cyclic(|me| LocalSaga {
            store,
            clock,
            definition: Arc::new(definition),
            invoker,
            config,
            drivers: Mutex::new(HashMap::new()),
            shutdown,
            stopped: Notify::new(),
            me: me.clone(),
        })
    }

    fn drivers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Driver>> {
        self.drivers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Starts driving `name` unless this process already does.
    fn spawn_driver(&self, name: &str) -> bool {
        let Some(me) = self.me.upgrade() else {
            return false;
        };
        if self.is_shut_down() {
            return false;
        }
        let mut drivers = self.drivers();
        if drivers.contains_key(name) {
            return false;
        }
        let notify = Arc::new(Notify::new());
        drivers.insert(
            name.to_string(),
            Driver {
                notify: notify.clone(),
                handle: None,
            },
        );
        let owned = name.to_string();
        let handle = tokio::spawn(async move {
            let name = owned.clone();
            if let Err(e) = me.drive(&owned, notify).await {
                tracing::error!(execution = %name, error = %e, "saga driver stopped; the execution resumes at the next resume_all");
            }
            me.drivers().remove(&name);
            me.stopped.notify_waiters();
        });
        if let Some(d) = drivers.get_mut(name) {
            d.handle = Some(handle);
        }
        true
    }

    /// Continues every RUNNING execution found in the store (call at
    /// start-up). Returns how many it started driving.
    pub async fn resume_all(&self) -> Result<usize, SagaError> {
        let names = store::running(self.store.as_ref()).await?;
        Ok(names.iter().filter(|n| self.spawn_driver(n)).count())
    }

    pub async fn describe(&self, name: &str) -> Result<Option<ExecutionView>, SagaError> {
        Ok(store::load(self.store.as_ref(), name)
            .await?
            .map(|e| ExecutionView {
                name: e.name,
                execution_id: e.execution_id,
                status: e.status.as_str().to_string(),
                input: e.input,
                output: e.output,
                error: e.error,
                cause: e.cause,
                started_at: e.started_at,
                stopped_at: e.stopped_at,
                history: e.history,
            }))
    }

    /// Waits until `name` stopped (or `timeout` passed: `Unavailable`).
    pub async fn wait_until_stopped(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<ExecutionView, SagaError> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.stopped.notified();
            let view = self
                .describe(name)
                .await?
                .ok_or_else(|| SagaError::Invalid(format!("no execution named {name}")))?;
            if view.status != Status::Running.as_str() {
                return Ok(view);
            }
            let now = tokio::time::Instant::now();
            if now >= until {
                return Err(SagaError::Unavailable(format!(
                    "execution {name} still running after {timeout:?}"
                )));
            }
            // The store is the truth; the notification only shortens the wait.
            let nap = (until - now).min(Duration::from_millis(50));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    /// Stops driving every execution and waits for the drivers to end.
    /// Nothing is lost: positions are persisted, and in-flight invocations
    /// are made again by the next `resume_all`.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let handles: Vec<JoinHandle<()>> = self
            .drivers()
            .values_mut()
            .filter_map(|d| d.handle.take())
            .collect();
        for h in handles {
            let _ = h.await;
        }
        self.drivers().clear();
    }

    fn notify(&self, execution: &str) {
        if let Some(d) = self.drivers().get(execution) {
            d.notify.notify_one();
        }
    }

    async fn resolve(
        &self,
        token: &str,
        outcome: Result<Value, TaskError>,
    ) -> Result<(), SagaError> {
        if self.is_shut_down() {
            return Err(SagaError::Unavailable("the local saga is shut down".into()));
        }
        let record =
            store::resolve_token(self.store.as_ref(), token, outcome, false, self.clock.now())
                .await?;
        self.notify(&record.execution);
        Ok(())
    }

    /// Drives one execution until it stops, shutdown, or a conflict.
    async fn drive(self: &Arc<Self>, name: &str, notify: Arc<Notify>) -> Result<(), SagaError> {
        let mut shutdown = self.shutdown.subscribe();
        let Some(mut exec) = store::load(self.store.as_ref(), name).await? else {
            return Ok(());
        };
        if exec.status != Status::Running {
            return Ok(());
        }
        // The execution's span continues the trace of whoever started it
        // (checkout-start's message span), across restarts of the driver.
        let span = tracing::info_span!("saga.execution", execution = %name);
        lite_trace::set_parent_from(&span, exec.traceparent.as_deref());
        async {
            let info = ExecutionInfo {
                id: exec.execution_id.clone(),
                name: exec.name.clone(),
                input: exec.input.clone(),
                started_at: exec.started_at,
            };
            let mut root = exec.position.take().ok_or_else(|| {
                SagaError::Invalid(format!("running execution {name} has no position"))
            })?;
            let mut inflight: JoinSet<(Vec<usize>, u64, Result<Value, TaskError>)> = JoinSet::new();
            let mut started: HashSet<u64> = HashSet::new();
            // When the position is to be written if nothing writes it first
            // (a token task's returned invocation).
            let mut deferred: Option<tokio::time::Instant> = None;
            // Callbacks may have come while nobody drove this execution.
            let mut check_tokens = true;
            let mut event: Option<(Vec<usize>, u64, Result<Value, TaskError>)> = None;
            loop {
                let now = self.clock.now();
                let mut new_tokens: Vec<NewToken> = Vec::new();
                let mut resolved: Vec<(Vec<usize>, String, Result<Value, TaskError>)> = Vec::new();
                // Outside events first: tokens resolved, token deadlines passed.
                for (path, frame) in root.leaves() {
                    let Some((token, deadline)) = frame.token() else {
                        continue;
                    };
                    let due = deadline.is_some_and(|d| d <= now);
                    if !(check_tokens || due) {
                        continue;
                    }
                    let record = store::get_token(self.store.as_ref(), token).await?;
                    if let Some(outcome) = record.as_ref().and_then(|r| r.outcome()) {
                        resolved.push((path, token.to_string(), outcome));
                    } else if due {
                        let timeout = TaskError::new(
                            errors::TIMEOUT,
                            format!("the task of state {} timed out", frame.state),
                        );
                        match store::resolve_token(
                            self.store.as_ref(),
                            token,
                            Err(timeout.clone()),
                            true,
                            now,
                        )
                        .await
                        {
                            Ok(_) => resolved.push((path, token.to_string(), Err(timeout))),
                            // A callback won the race: apply what it sent.
                            Err(SagaError::TaskGone(_)) => {
                                if let Some(outcome) = store::get_token(self.store.as_ref(), token)
                                    .await?
                                    .and_then(|r| r.outcome())
                                {
                                    resolved.push((path, token.to_string(), outcome));
                                }
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
                check_tokens = false;
                let mut seq = exec.seq;
                let mut token_task_returned = false;
                let settled = {
                    let mut step = Step {
                        def: &self.definition,
                        exec: &info,
                        now,
                        time_scale: self.config.time_scale,
                        history: &mut exec.history,
                        new_tokens: &mut new_tokens,
                        seq: &mut seq,
                        make_token: &new_token,
                    };
                    if let Some((path, id, result)) = event.take() {
                        // A token task's invocation that returned is not made
                        // again after a restart (it asked someone to call
                        // back; a second ask is a second provider request).
                        token_task_returned |= root.at_mut(&path).is_some_and(|f| {
                            matches!(&f.phase, Phase::Invoke { id: current, token: Some(_), .. } if *current == id)
                        });
                        step.on_invoked(&mut root, &path, id, result);
                    }
                    for (path, token, outcome) in resolved {
                        step.on_token(&mut root, &path, &token, outcome);
                    }
                    step.settle(&mut root)
                };
                exec.seq = seq;
                match &settled {
                    Settled::Pending => snapshot(&mut exec, &root),
                    Settled::Done(output) => {
                        exec.status = Status::Succeeded;
                        exec.output = Some(output.clone());
                    }
                    Settled::Failed(e) => {
                        exec.status = Status::Failed;
                        exec.error = Some(e.error.clone());
                        exec.cause = Some(e.cause.clone());
                    }
                }
                if settled != Settled::Pending {
                    exec.position = None;
                    exec.waiting_tokens.clear();
                    exec.wake_at = None;
                    exec.stopped_at = Some(now);
                }
                if must_persist(&root, &settled, &new_tokens) {
                    self.save(&mut exec, &new_tokens, now).await?;
                    deferred = None;
                } else if token_task_returned {
                    // Its callback usually comes first (the sandbox posts at
                    // once), and then this write would only delay the
                    // webhook's commit behind it: written a moment later, or
                    // at shutdown, unless a later write supersedes it.
                    deferred.get_or_insert(tokio::time::Instant::now() + TOKEN_RETURN_WRITE_DELAY);
                }
                exec.position = None;
                if settled != Settled::Pending {
                    tracing::info!(execution = %name, status = exec.status.as_str(), "saga execution stopped");
                    return Ok(());
                }
                // The position (and any new token) is persisted: now invoke.
                let mut wake: Option<DateTime<Utc>> = None;
                for (path, frame) in root.leaves() {
                    if let Phase::Invoke {
                        id,
                        function,
                        payload,
                        deadline,
                        ..
                    } = &frame.phase
                    {
                        if started.insert(*id) {
                            let invoker = self.invoker.clone();
                            let (function, payload, id, path) =
                                (function.clone(), payload.clone(), *id, path.clone());
                            let limit = deadline.map(|d| (d - now).to_std().unwrap_or(Duration::ZERO));
                            let state = frame.state.clone();
                            let task = tracing::info_span!(
                                "saga.task",
                                execution = %name,
                                state = %state,
                                function = %function,
                            );
                            inflight.spawn(async move {
                                let call = invoker.invoke(&function, payload);
                                let result = match limit {
                                    Some(limit) => {
                                        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                                            Err(TaskError::new(
                                                errors::TIMEOUT,
                                                format!("the task of state {state} timed out"),
                                            ))
                                        })
                                    }
                                    None => call.await,
                                };
                                (path, id, result)
                            }.instrument(task));
                        }
                    }
                    if let Some(at) = frame.wake_at() {
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                    }
                }
                let sleep = wake
                    .map(|w| (w - self.clock.now()).to_std().unwrap_or(Duration::ZERO))
                    .unwrap_or(Duration::from_secs(3600));
                // Biased, in this order: an invocation that returned is
                // taken before a shutdown that came with it, so a token
                // task's return is written at shutdown (a restart must not
                // ask its provider again), not lost to the draw.
                tokio::select! {
                    biased;
                    Some(joined) = inflight.join_next(), if !inflight.is_empty() => {
                        match joined {
                            Ok((path, id, result)) => {
                                started.remove(&id);
                                // A token task whose invocation failed or timed
                                // out: its token is spent, so a late callback
                                // gets TaskGone.
                                if let (Err(e), Some(frame)) = (&result, root.at_mut(&path)) {
                                    if let Phase::Invoke { id: current, token: Some(token), .. } = &frame.phase {
                                        if *current == id {
                                            let timed_out = e.error == errors::TIMEOUT;
                                            match store::resolve_token(self.store.as_ref(), token, Err(e.clone()), timed_out, self.clock.now()).await {
                                                Ok(_) | Err(SagaError::TaskGone(_)) => {}
                                                Err(other) => return Err(other),
                                            }
                                            // Whoever resolved the token decides.
                                            check_tokens = true;
                                            continue;
                                        }
                                    }
                                }
                                check_tokens = true;
                                event = Some((path, id, result));
                            }
                            Err(e) => {
                                return Err(SagaError::Unavailable(format!("an invocation task of {name} died: {e}")));
                            }
                        }
                    }
                    _ = shutdown.changed() => {
                        if deferred.is_some() {
                            self.save_now(&mut exec, &root).await?;
                        }
                        return Ok(());
                    }
                    _ = notify.notified() => check_tokens = true,
                    _ = tokio::time::sleep(sleep) => {}
                    _ = tokio::time::sleep_until(deferred.unwrap_or_else(tokio::time::Instant::now)), if deferred.is_some() => {
                        deferred = None;
                        self.save_now(&mut exec, &root).await?;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Writes the running position `root` as it stands.
    async fn save_now(&self, exec: &mut Execution, root: &Frame) -> Result<(), SagaError> {
        snapshot(exec, root);
        let saved = self.save(exec, &[], self.clock.now()).await;
        exec.position = None;
        saved
    }

    async fn save(
        &self,
        exec: &mut Execution,
        new_tokens: &[NewToken],
        now: DateTime<Utc>,
    ) -> Result<(), SagaError> {
        let mut delay = Duration::from_millis(50);
        for attempt in 0..5 {
            match store::save(self.store.as_ref(), exec, new_tokens, now).await {
                Ok(()) => return Ok(()),
                Err(SaveError::Conflict) => {
                    return Err(SagaError::Unavailable(format!(
                        "execution {} was written by someone else; this driver stops",
                        exec.name
                    )))
                }
                Err(SaveError::Store(e)) if attempt < 4 => {
                    tracing::warn!(execution = %exec.name, error = %e, "saving the execution failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(SaveError::Store(e)) => return Err(e),
            }
        }
        Err(SagaError::Unavailable("unreachable".into()))
    }
}

/// How long the position of a token task whose invocation returned waits
/// to be written (see the driver): a crash within it makes that invocation
/// again after the restart, as a crash while it ran does.
const TOKEN_RETURN_WRITE_DELAY: Duration = Duration::from_millis(200);

/// Puts the running position `root` into `exec` for writing.
fn snapshot(exec: &mut Execution, root: &Frame) {
    let leaves = root.leaves();
    exec.waiting_tokens = leaves
        .iter()
        .filter_map(|(_, f)| f.token().map(|(t, _)| t.to_string()))
        .collect();
    exec.wake_at = leaves.iter().filter_map(|(_, f)| f.wake_at()).min();
    exec.position = Some(root.clone());
}

/// Whether the position reached must be written before the driver goes on
/// (a token task's returned invocation is written a moment later).
///
/// A stopped execution, a new task token (the token item must exist before
/// the task that hands it out runs, or its callback finds nothing) and a
/// timer (a Wait or a retry's backoff: a restart must not begin it again)
/// are written. A position that only invokes plain tasks is not: each
/// write is an fsync'd commit on the checkout's path, and what a crash
/// costs without it is that the next `resume_all` continues from the last
/// written position and makes the invocations since then again, which the
/// definition's tasks allow (each is idempotent per order, as a Step
/// Functions task must be anyway: Lambda invokes at least once).
fn must_persist(root: &Frame, settled: &Settled, new_tokens: &[NewToken]) -> bool {
    *settled != Settled::Pending
        || !new_tokens.is_empty()
        || root
            .leaves()
            .iter()
            .any(|(_, f)| matches!(f.phase, Phase::Wait { .. } | Phase::Backoff { .. }))
}

#[async_trait]
impl crate::Saga for LocalSaga {
    async fn start(&self, name: &str, input: Value) -> Result<Started, SagaError> {
        if !valid_name(name) {
            return Err(SagaError::Invalid(format!(
                "{name:?} is not a valid execution name"
            )));
        }
        if self.is_shut_down() {
            return Err(SagaError::Unavailable("the local saga is shut down".into()));
        }
        let now = self.clock.now();
        let execution_id = execution_id(name);
        let start = &self.definition.start_at;
        let exec = Execution {
            name: name.to_string(),
            execution_id: execution_id.clone(),
            status: Status::Running,
            input: input.clone(),
            output: None,
            error: None,
            cause: None,
            position: Some(Frame::enter(start, input, now)),
            waiting_tokens: Vec::new(),
            wake_at: None,
            started_at: now,
            stopped_at: None,
            history: vec![HistoryEntry {
                state: start.clone(),
                entered_at: now,
            }],
            history_dropped: 0,
            seq: 0,
            traceparent: lite_trace::current().map(|c| c.to_traceparent()),
            version: 0,
        };
        if !store::create(self.store.as_ref(), &exec).await? {
            return Ok(Started::Existing { execution_id });
        }
        self.spawn_driver(name);
        Ok(Started::New { execution_id })
    }

    async fn send_task_success(&self, token: &str, output: Value) -> Result<(), SagaError> {
        self.resolve(token, Ok(output)).await
    }

    fn task_success_ops(&self, token: &str, output: &Value) -> Option<Vec<lite_store::TxOp>> {
        (!self.is_shut_down()).then(|| vec![store::success_op(token, output, self.clock.now())])
    }

    async fn task_completed(&self, token: &str) {
        // The token names its execution; a driver in another process (or
        // one resumed later) reads the token itself.
        match store::get_token(self.store.as_ref(), token).await {
            Ok(Some(record)) => self.notify(&record.execution),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a completed token; its execution sees it at its next look")
            }
        }
    }

    async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), SagaError> {
        self.resolve(token, Err(TaskError::new(error, cause))).await
    }
}
