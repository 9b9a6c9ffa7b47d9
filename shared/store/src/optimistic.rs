//! Optimistic writes: read, decide, write conditioned on what was read; a
//! writer that lost the race reads again and decides again.
//!
//! Every such loop in the services runs through [`retry`] with [`POLICY`],
//! so they all give up after the same number of attempts and pause the
//! same way between them. An attempt answers [`Attempt::Done`] with its
//! result, [`Attempt::Retry`] when another writer got there first (see
//! [`lost_race`]), or an error that ends the loop at once. When the
//! attempts run out, [`retry`] answers the caller's error made from
//! [`Exhausted`] (a 409 for a request, a transient error for a saga step
//! or a consumer).

use crate::StoreError;
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// How many times an optimistic write is tried and how long it pauses
/// between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// The ceiling of the first pause; it doubles with every retry...
    pub base_delay: Duration,
    /// ...up to this.
    pub max_delay: Duration,
}

/// The one policy of optimistic writes.
///
/// - 10 attempts: each round of colliding writers lets at least one of
///   them through, so up to 10 concurrent writers of one item (a cart
///   filled from several tabs, an address book edited at once, a review
///   approved by several moderators) all land; a write that still loses
///   after 10 reads is under abnormal contention and gives up.
/// - Full jitter (a pause uniform in `[0, min(max, base·2^(n-1))]` before
///   retry `n`): writers that collided do not collide again in lockstep,
///   and the expected pause stays short, since most races are lost to a
///   single other writer. Base 1 ms, ceiling 32 ms: at most about 160 ms
///   of pauses before giving up (about 80 ms expected), small against a
///   request's latency budget and far below a Lambda's timeout.
pub const POLICY: Policy = Policy {
    attempts: 10,
    base_delay: Duration::from_millis(1),
    max_delay: Duration::from_millis(32),
};

impl Policy {
    /// The longest pause before retry `retry` (1 = the second attempt).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doubling = 1u32 << retry.saturating_sub(1).min(20);
        self.base_delay.saturating_mul(doubling).min(self.max_delay)
    }

    /// A pause before retry `retry`, uniform in `[0, ceiling(retry)]`.
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::thread_rng().gen_range(0..=micros))
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    /// Finished (written, or nothing to write): the answer.
    Done(T),
    /// Another writer got there first: read again and try again.
    Retry,
}

impl<T> Attempt<T> {
    /// The same outcome with the answer mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attempt<U> {
        match self {
            Attempt::Done(answer) => Attempt::Done(f(answer)),
            Attempt::Retry => Attempt::Retry,
        }
    }
}

/// Every attempt lost its race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the write lost {attempts} races in a row to concurrent writers")]
pub struct Exhausted {
    pub attempts: u32,
}

/// Runs `attempt(0)`, `attempt(1)`, ... until one answers
/// [`Attempt::Done`] or an error, pausing [`Policy::delay`] before each
/// retry; after `policy.attempts` retries, the error made from
/// [`Exhausted`].
pub async fn retry<T, E, F, Fut>(policy: &Policy, mut attempt: F) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Attempt<T>, E>>,
    E: From<Exhausted>,
{
    let attempts = policy.attempts.max(1);
    for n in 0..attempts {
        if n > 0 {
            tokio::time::sleep(policy.delay(n)).await;
        }
        match attempt(n).await? {
            Attempt::Done(answer) => return Ok(answer),
            Attempt::Retry => tracing::debug!(attempt = n, "optimistic write lost a race"),
        }
    }
    Err(Exhausted { attempts }.into())
}

/// Whether a write lost a race to another writer, so reading again and
/// retrying may succeed: a transaction conflict, a single write's failed
/// condition (it was conditioned on what was read), or a transaction
/// canceled by an op named in `read` (the ops conditioned on what was
/// read; a failure of any other op is the caller's to interpret).
pub fn lost_race(e: &StoreError, read: &[&str]) -> bool {
    match e {
        StoreError::Contention | StoreError::ConditionFailed => true,
        StoreError::TransactionCanceled { .. } => read.iter().any(|name| e.failed_on(name)),
        _ => false,
    }
}

/// Exhaustion as a store error, for callers whose error is [`StoreError`]
/// (contention that did not settle: transient).
impl From<Exhausted> for StoreError {
    fn from(_: Exhausted) -> Self {
        StoreError::Contention
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canceled, Key, TxOp};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn pauses_double_up_to_the_ceiling() {
        let p = POLICY;
        assert_eq!(p.ceiling(1), Duration::from_millis(1));
        assert_eq!(p.ceiling(2), Duration::from_millis(2));
        assert_eq!(p.ceiling(6), Duration::from_millis(32));
        assert_eq!(p.ceiling(9), Duration::from_millis(32));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_millis(32));
        for n in 1..20 {
            assert!(p.delay(n) <= p.ceiling(n));
        }
    }

    #[tokio::test]
    async fn retries_until_done() {
        let calls = AtomicU32::new(0);
        let got: Result<u32, StoreError> = retry(&POLICY, |n| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(if n < 3 {
                    Attempt::Retry
                } else {
                    Attempt::Done(n)
                })
            }
        })
        .await;
        assert_eq!(got, Ok(3));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn gives_up_after_the_policys_attempts() {
        let calls = AtomicU32::new(0);
        let policy = Policy {
            attempts: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        };
        let got: Result<(), StoreError> = retry(&policy, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok(Attempt::Retry) }
        })
        .await;
        assert_eq!(got, Err(StoreError::Contention));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_error_ends_at_once() {
        let calls = AtomicU32::new(0);
        let got: Result<(), StoreError> = retry(&POLICY, |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(StoreError::Throttled) }
        })
        .await;
        assert_eq!(got, Err(StoreError::Throttled));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_lost_race_is_a_conflict_or_a_failed_read_condition() {
        let ops = [
            TxOp::delete(Key::new("A", "1")).named("product"),
            TxOp::delete(Key::new("A", "2")).named("sku"),
        ];
        assert!(lost_race(&StoreError::Contention, &[]));
        assert!(lost_race(&StoreError::ConditionFailed, &[]));
        assert!(lost_race(&canceled(&ops, [0]), &["product"]));
        assert!(!lost_race(&canceled(&ops, [1]), &["product"]));
        assert!(!lost_race(&StoreError::Throttled, &["product"]));
    }
}
