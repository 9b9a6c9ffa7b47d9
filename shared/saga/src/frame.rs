//! The position of an execution: a tree of frames (one per running state;
//! a Parallel state holds one frame per branch). It is what the store
//! persists, so a restarted process continues exactly where it stopped.

use crate::invoker::TaskError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    pub state: String,
    /// The state's raw input (before InputPath).
    pub input: Value,
    pub entered_at: DateTime<Utc>,
    /// Retries used, per retrier of the state.
    #[serde(default)]
    pub retries: Vec<u32>,
    /// All retries of this state (`$$.State.RetryCount`).
    #[serde(default)]
    pub retry_count: u32,
    pub phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "phase",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Phase {
    /// Just entered (or retrying): the state has not run yet.
    Enter,
    /// A Task invocation to make (or in flight). Re-invoked after a restart.
    Invoke {
        id: u64,
        function: String,
        payload: Value,
        token: Option<String>,
        deadline: Option<DateTime<Utc>>,
    },
    /// A `.waitForTaskToken` task whose invocation returned: waits for the
    /// token until `deadline`.
    Token {
        token: String,
        deadline: Option<DateTime<Utc>>,
    },
    /// A Wait state until `at`, then its `output` goes to Next.
    Wait { at: DateTime<Utc>, output: Value },
    /// A retry after `at`.
    Backoff { at: DateTime<Utc> },
    /// A Parallel state: one frame per branch.
    Parallel { branches: Vec<Frame> },
    /// The scope ended with this output.
    Done { output: Value },
    /// The scope failed.
    Failed { error: TaskError },
}

impl Frame {
    pub fn enter(state: &str, input: Value, now: DateTime<Utc>) -> Frame {
        Frame {
            state: state.to_string(),
            input,
            entered_at: now,
            retries: Vec::new(),
            retry_count: 0,
            phase: Phase::Enter,
        }
    }

    /// The frame at `path` (branch indices through Parallel frames).
    pub fn at_mut(&mut self, path: &[usize]) -> Option<&mut Frame> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        match &mut self.phase {
            Phase::Parallel { branches } => branches.get_mut(*first)?.at_mut(rest),
            _ => None,
        }
    }

    /// Every frame that waits on something outside the interpreter (an
    /// invocation, a token, a timer), with its path.
    pub fn leaves(&self) -> Vec<(Vec<usize>, &Frame)> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect<'a>(&'a self, path: &mut Vec<usize>, out: &mut Vec<(Vec<usize>, &'a Frame)>) {
        match &self.phase {
            Phase::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    path.push(i);
                    b.collect(path, out);
                    path.pop();
                }
            }
            Phase::Invoke { .. }
            | Phase::Token { .. }
            | Phase::Wait { .. }
            | Phase::Backoff { .. } => out.push((path.clone(), self)),
            Phase::Enter | Phase::Done { .. } | Phase::Failed { .. } => {}
        }
    }

    /// The token this frame waits on, if any (also while its invocation is
    /// in flight: the callback may come first).
    pub fn token(&self) -> Option<(&str, Option<DateTime<Utc>>)> {
        match &self.phase {
            Phase::Invoke {
                token: Some(t),
                deadline,
                ..
            } => Some((t, *deadline)),
            Phase::Token { token, deadline } => Some((token, *deadline)),
            _ => None,
        }
    }

    /// When this frame wants to be looked at again without an event: a
    /// timer, or a token task's deadline.
    pub fn wake_at(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::Wait { at, .. } | Phase::Backoff { at } => Some(*at),
            _ => self.token().and_then(|(_, d)| d),
        }
    }
}
