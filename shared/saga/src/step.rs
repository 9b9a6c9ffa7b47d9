//! One step of the state machine: runs every state that needs nothing from
//! outside (Pass, Choice, Succeed, Fail, due timers, input and output
//! processing) and applies what comes from outside (an invocation's result,
//! a token's outcome). Pure: no I/O, time comes in `Step::now`.

use crate::definition::{Definition, Kind, Resource, State, Text, Timeout, WaitFor};
use crate::frame::{Frame, Phase};
use crate::invoker::{errors, TaskError};
use crate::path::ResultPath;
use crate::retry::{self, Catcher, Retrier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What the context object (`$$`) says about the execution.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    pub id: String,
    pub name: String,
    pub input: Value,
    pub started_at: DateTime<Utc>,
}

/// One entered state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub state: String,
    pub entered_at: DateTime<Utc>,
}

/// A token created by this step; persisted with the position, before the
/// invocation that hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    pub token: String,
    pub state: String,
    pub deadline: Option<DateTime<Utc>>,
}

/// The result of settling a scope.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Pending,
    Done(Value),
    Failed(TaskError),
}

pub struct Step<'a> {
    pub def: &'a Definition,
    pub exec: &'a ExecutionInfo,
    pub now: DateTime<Utc>,
    /// Multiplies every duration (Wait seconds, retry intervals, timeouts).
    pub time_scale: f64,
    pub history: &'a mut Vec<HistoryEntry>,
    pub new_tokens: &'a mut Vec<NewToken>,
    /// The last invocation id handed out.
    pub seq: &'a mut u64,
    pub make_token: &'a dyn Fn() -> String,
}

impl<'a> Step<'a> {
    fn context(&self, frame: &Frame, token: Option<&str>) -> Value {
        let mut ctx = json!({
            "Execution": {
                "Id": self.exec.id,
                "Name": self.exec.name,
                "Input": self.exec.input,
                "StartTime": lite_core::rfc3339(self.exec.started_at),
            },
            "State": {
                "Name": frame.state,
                "EnteredTime": lite_core::rfc3339(frame.entered_at),
                "RetryCount": frame.retry_count,
            },
        });
        if let Some(t) = token {
            ctx["Task"] = json!({ "Token": t });
        }
        ctx
    }

    /// `now + seconds × time_scale`.
    pub fn later(&self, seconds: f64) -> DateTime<Utc> {
        let ms = (seconds * self.time_scale * 1000.0)
            .round()
            .clamp(0.0, 1e13) as i64;
        self.now + chrono::Duration::milliseconds(ms)
    }

    fn state(&self, name: &str) -> Result<&'a State, TaskError> {
        self.def
            .state(name)
            .ok_or_else(|| TaskError::runtime(format!("the definition has no state {name}")))
    }

    /// A new frame for `state`, recorded in the history.
    pub fn enter(&mut self, state: &str, input: Value) -> Frame {
        self.history.push(HistoryEntry {
            state: state.to_string(),
            entered_at: self.now,
        });
        Frame::enter(state, input, self.now)
    }

    /// Runs `frame` (and its branches) as far as it goes without anything
    /// from outside.
    pub fn settle(&mut self, frame: &mut Frame) -> Settled {
        loop {
            match &mut frame.phase {
                Phase::Done { output } => return Settled::Done(output.clone()),
                Phase::Failed { error } => return Settled::Failed(error.clone()),
                Phase::Invoke { .. } | Phase::Token { .. } => return Settled::Pending,
                Phase::Wait { at, output } => {
                    if *at > self.now {
                        return Settled::Pending;
                    }
                    let output = std::mem::take(output);
                    if let Err(e) = self.goto_next(frame, output) {
                        self.fail(frame, e);
                    }
                }
                Phase::Backoff { at } => {
                    if *at > self.now {
                        return Settled::Pending;
                    }
                    frame.phase = Phase::Enter;
                }
                Phase::Parallel { branches } => {
                    let mut outputs = Vec::with_capacity(branches.len());
                    let mut failed = None;
                    let mut pending = false;
                    for b in branches.iter_mut() {
                        match self.settle(b) {
                            Settled::Done(o) => outputs.push(o),
                            Settled::Failed(e) => {
                                failed = Some(e);
                                break;
                            }
                            Settled::Pending => pending = true,
                        }
                    }
                    if let Some(e) = failed {
                        // The other branches are abandoned: their pending
                        // invocations' results no longer match any frame.
                        self.fail(frame, e);
                    } else if pending {
                        return Settled::Pending;
                    } else {
                        self.complete(frame, Value::Array(outputs));
                    }
                }
                Phase::Enter => {
                    if let Err(e) = self.run(frame) {
                        self.fail(frame, e);
                    }
                }
            }
        }
    }

    /// Runs a frame in `Enter`: moves it to its next phase.
    fn run(&mut self, frame: &mut Frame) -> Result<(), TaskError> {
        let state = self.state(&frame.state)?;
        let ctx = self.context(frame, None);
        let effective = state.input_path.apply(&frame.input, &ctx)?;
        match &state.kind {
            Kind::Pass {
                parameters,
                result,
                result_path,
            } => {
                let result = match (result, parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => p.render(&effective, &ctx)?,
                    (None, None) => effective,
                };
                let merged = result_path.apply(&frame.input, result)?;
                let output = state.output_path.apply(&merged, &ctx)?;
                self.goto_next(frame, output)
            }
            Kind::Choice { choices, default } => {
                for (rule, next) in choices {
                    if rule.eval(&effective, &ctx)? {
                        let output = state.output_path.apply(&effective, &ctx)?;
                        return self.goto(frame, Some(next), output);
                    }
                }
                match default {
                    Some(next) => {
                        let output = state.output_path.apply(&effective, &ctx)?;
                        self.goto(frame, Some(next), output)
                    }
                    None => Err(TaskError::new(
                        errors::NO_CHOICE_MATCHED,
                        format!(
                            "no choice rule of state {} matched and it has no Default",
                            state.name
                        ),
                    )),
                }
            }
            Kind::Succeed => {
                let output = state.output_path.apply(&effective, &ctx)?;
                frame.phase = Phase::Done { output };
                Ok(())
            }
            Kind::Fail { error, cause } => {
                let text = |t: &Option<Text>| -> Result<String, TaskError> {
                    match t {
                        None => Ok(String::new()),
                        Some(Text::Literal(s)) => Ok(s.clone()),
                        Some(Text::Path(p)) => match p.resolve(&frame.input, &ctx)? {
                            Value::String(s) => Ok(s),
                            other => Ok(other.to_string()),
                        },
                    }
                };
                // A Fail state fails its scope: no Retry or Catch of its own.
                let error = TaskError::new(text(error)?, text(cause)?);
                frame.phase = Phase::Failed { error };
                Ok(())
            }
            Kind::Wait(wait) => {
                let at = match wait {
                    WaitFor::Seconds(n) => self.later(*n as f64),
                    WaitFor::SecondsPath(p) => {
                        let v = p.resolve(&effective, &ctx)?;
                        let n = v.as_u64().ok_or_else(|| {
                            TaskError::runtime(format!(
                                "SecondsPath {} is not a non-negative integer: {v}",
                                p.text
                            ))
                        })?;
                        self.later(n as f64)
                    }
                    WaitFor::Timestamp(t) => timestamp(t)?,
                    WaitFor::TimestampPath(p) => {
                        let v = p.resolve(&effective, &ctx)?;
                        timestamp(v.as_str().unwrap_or_default())?
                    }
                };
                let output = state.output_path.apply(&effective, &ctx)?;
                frame.phase = Phase::Wait { at, output };
                Ok(())
            }
            Kind::Task(task) => {
                let token =
                    (task.resource == Resource::LambdaInvokeWait).then(|| (self.make_token)());
                let ctx = self.context(frame, token.as_deref());
                let params = match &task.parameters {
                    Some(t) => t.render(&effective, &ctx)?,
                    None => effective.clone(),
                };
                let (function, payload) = match &task.resource {
                    Resource::Function(f) => (f.clone(), params),
                    Resource::LambdaInvoke | Resource::LambdaInvokeWait => {
                        let function = params
                            .get("FunctionName")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                TaskError::runtime("Parameters.FunctionName is not a string")
                            })?
                            .to_string();
                        let payload = params.get("Payload").cloned().unwrap_or_else(|| json!({}));
                        (function, payload)
                    }
                };
                let deadline = match &task.timeout {
                    None => None,
                    Some(Timeout::Seconds(n)) => Some(self.later(*n as f64)),
                    Some(Timeout::Path(p)) => {
                        let v = p.resolve(&effective, &ctx)?;
                        let n = v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                            TaskError::runtime(format!(
                                "TimeoutSecondsPath {} is not a positive integer: {v}",
                                p.text
                            ))
                        })?;
                        Some(self.later(n as f64))
                    }
                };
                if let Some(t) = &token {
                    self.new_tokens.push(NewToken {
                        token: t.clone(),
                        state: frame.state.clone(),
                        deadline,
                    });
                }
                *self.seq += 1;
                frame.phase = Phase::Invoke {
                    id: *self.seq,
                    function,
                    payload,
                    token,
                    deadline,
                };
                Ok(())
            }
            Kind::Parallel(par) => {
                let input = match &par.parameters {
                    Some(t) => t.render(&effective, &ctx)?,
                    None => effective,
                };
                let branches = par
                    .branches
                    .iter()
                    .map(|start| self.enter(start, input.clone()))
                    .collect();
                frame.phase = Phase::Parallel { branches };
                Ok(())
            }
        }
    }

    /// Moves `frame` to its state's Next, or ends its scope with `output`.
    fn goto_next(&mut self, frame: &mut Frame, output: Value) -> Result<(), TaskError> {
        let next = self.state(&frame.state)?.next.as_deref();
        self.goto(frame, next, output)
    }

    fn goto(
        &mut self,
        frame: &mut Frame,
        next: Option<&str>,
        output: Value,
    ) -> Result<(), TaskError> {
        match next {
            Some(n) => *frame = self.enter(n, output),
            None => frame.phase = Phase::Done { output },
        }
        Ok(())
    }

    /// A Task or Parallel finished with `result`: ResultSelector,
    /// ResultPath, OutputPath, then Next.
    pub fn complete(&mut self, frame: &mut Frame, result: Value) {
        if let Err(e) = self.try_complete(frame, result) {
            self.fail(frame, e);
        }
    }

    fn try_complete(&mut self, frame: &mut Frame, result: Value) -> Result<(), TaskError> {
        let state = self.state(&frame.state)?;
        let (selector, result_path, result) = match &state.kind {
            Kind::Task(t) => {
                let result = match t.resource {
                    // As the Lambda integration answers on AWS.
                    Resource::LambdaInvoke => json!({ "Payload": result, "StatusCode": 200 }),
                    _ => result,
                };
                (&t.result_selector, &t.result_path, result)
            }
            Kind::Parallel(p) => (&p.result_selector, &p.result_path, result),
            _ => {
                return Err(TaskError::runtime(format!(
                    "state {} takes no result",
                    state.name
                )))
            }
        };
        let ctx = self.context(frame, None);
        let result = match selector {
            Some(t) => t.render(&result, &ctx)?,
            None => result,
        };
        let merged = result_path.apply(&frame.input, result)?;
        let output = state.output_path.apply(&merged, &ctx)?;
        self.goto_next(frame, output)
    }

    /// The state of `frame` failed with `error`: retry, catch, or fail the
    /// scope.
    pub fn fail(&mut self, frame: &mut Frame, error: TaskError) {
        let (retriers, catchers): (&[Retrier], &[Catcher]) =
            match self.def.state(&frame.state).map(|s| &s.kind) {
                Some(Kind::Task(t)) => (&t.retry, &t.catch),
                Some(Kind::Parallel(p)) => (&p.retry, &p.catch),
                _ => (&[], &[]),
            };
        if let Some(i) = retriers
            .iter()
            .position(|r| retry::matches(&r.error_equals, &error.error))
        {
            let r = &retriers[i];
            if frame.retries.len() < retriers.len() {
                frame.retries.resize(retriers.len(), 0);
            }
            let used = frame.retries[i];
            if used < r.max_attempts {
                frame.retries[i] = used + 1;
                frame.retry_count += 1;
                frame.phase = Phase::Backoff {
                    at: self.later(r.delay_seconds(used)),
                };
                return;
            }
        }
        if let Some(c) = catchers
            .iter()
            .find(|c| retry::matches(&c.error_equals, &error.error))
        {
            match catch_output(&c.result_path, &frame.input, &error) {
                Ok(output) => {
                    *frame = self.enter(&c.next, output);
                    return;
                }
                Err(e) => {
                    frame.phase = Phase::Failed { error: e };
                    return;
                }
            }
        }
        frame.phase = Phase::Failed { error };
    }

    /// An invocation `id` of the frame at `path` returned.
    pub fn on_invoked(
        &mut self,
        root: &mut Frame,
        path: &[usize],
        id: u64,
        result: Result<Value, TaskError>,
    ) {
        let Some(frame) = root.at_mut(path) else {
            return;
        };
        let (token, deadline) = match &frame.phase {
            Phase::Invoke {
                id: current,
                token,
                deadline,
                ..
            } if *current == id => (token.clone(), *deadline),
            _ => return, // stale: the frame moved on meanwhile
        };
        match (result, token) {
            (Ok(_), Some(token)) => frame.phase = Phase::Token { token, deadline },
            (Ok(output), None) => self.complete(frame, output),
            (Err(e), _) => self.fail(frame, e),
        }
    }

    /// The token of the frame at `path` was resolved with `outcome`.
    pub fn on_token(
        &mut self,
        root: &mut Frame,
        path: &[usize],
        token: &str,
        outcome: Result<Value, TaskError>,
    ) {
        let Some(frame) = root.at_mut(path) else {
            return;
        };
        if frame.token().map(|(t, _)| t) != Some(token) {
            return;
        }
        match outcome {
            Ok(output) => self.complete(frame, output),
            Err(e) => self.fail(frame, e),
        }
    }
}

fn catch_output(path: &ResultPath, input: &Value, error: &TaskError) -> Result<Value, TaskError> {
    path.apply(input, error.to_output())
}

fn timestamp(s: &str) -> Result<DateTime<Utc>, TaskError> {
    crate::choice::timestamp(s)
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| TaskError::runtime(format!("{s:?} is not an RFC 3339 timestamp")))
}
