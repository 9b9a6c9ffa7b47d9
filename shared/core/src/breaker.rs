//! A circuit breaker: after `failures` consecutive failures of a dependency,
//! calls are refused at once for `open_for` (fail fast instead of waiting on
//! timeouts); then one trial call is let through (half-open), and its
//! outcome closes the circuit or opens it again.
//!
//! The breaker is a state machine without I/O or timers: the caller passes
//! the time (from its `Clock`), asks for a [`Permit`] before each call and
//! reports the outcome with it. So tests drive it with a `ManualClock`, and
//! a caller can act on a [`Change`] (e.g. publish that the circuit opened).

use chrono::{DateTime, Utc};
use std::sync::Mutex;
use std::time::Duration;

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the circuit (at least 1).
    pub failures: u32,
    /// How long calls are refused before a trial call is let through. Also
    /// how long a trial may stay unanswered (a caller that was cancelled)
    /// before another trial is allowed.
    pub open_for: Duration,
}

/// What the breaker is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive ones failed so far.
    Closed { failures: u32 },
    /// Calls are refused until `until`.
    Open { until: DateTime<Utc> },
    /// One trial call, started at `since`, decides.
    HalfOpen { since: DateTime<Utc> },
}

/// Leave to make one call; give it back with [`Breaker::succeeded`] or
/// [`Breaker::failed`].
#[derive(Debug)]
#[must_use = "report the call's outcome with Breaker::succeeded or Breaker::failed"]
pub struct Permit {
    trial: bool,
}

impl Permit {
    /// Whether this call is the half-open trial.
    pub fn is_trial(&self) -> bool {
        self.trial
    }
}

/// A refused call: the circuit is open until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    pub until: DateTime<Utc>,
}

impl Rejected {
    /// Whole seconds until a call may be tried again (at least 1), for a
    /// `Retry-After` header.
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        retry_after_secs(self.until, now)
    }
}

/// Whole seconds from `now` to `until`, rounded up, at least 1.
pub fn retry_after_secs(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (until - now).num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// A change of state worth telling others about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The circuit opened (from closed or after a failed trial).
    Opened { until: DateTime<Utc> },
    /// A trial succeeded: calls go through again.
    Closed,
}

#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<BreakerState>,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    pub fn policy(&self) -> BreakerPolicy {
        self.policy
    }

    /// The state now (an open circuit whose time is up turns half-open
    /// only when a trial is let through).
    pub fn state(&self) -> BreakerState {
        *self.lock()
    }

    /// Leave to call, or the time the circuit stays open.
    pub fn try_acquire(&self, now: DateTime<Utc>) -> Result<Permit, Rejected> {
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { .. } => Ok(Permit { trial: false }),
            BreakerState::Open { until } if now < until => Err(Rejected { until }),
            BreakerState::Open { .. } => {
                *state = BreakerState::HalfOpen { since: now };
                Ok(Permit { trial: true })
            }
            BreakerState::HalfOpen { since } => {
                let lease_end = since + self.open_for();
                if now < lease_end {
                    // One trial at a time; the others wait for its outcome.
                    Err(Rejected { until: lease_end })
                } else {
                    // The trial never reported (its caller was cancelled).
                    *state = BreakerState::HalfOpen { since: now };
                    Ok(Permit { trial: true })
                }
            }
        }
    }

    /// The call went well (or failed for a reason that says nothing about
    /// the dependency's health, e.g. a refusal of bad input).
    pub fn succeeded(&self, permit: Permit) -> Option<Change> {
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { .. } => {
                *state = BreakerState::Closed { failures: 0 };
                None
            }
            BreakerState::HalfOpen { .. } if permit.trial => {
                *state = BreakerState::Closed { failures: 0 };
                Some(Change::Closed)
            }
            // A call admitted before the circuit opened, finishing late,
            // proves nothing: the trial decides.
            BreakerState::HalfOpen { .. } | BreakerState::Open { .. } => None,
        }
    }

    /// The dependency failed (unreachable, timed out, 5xx).
    pub fn failed(&self, permit: Permit, now: DateTime<Utc>) -> Option<Change> {
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.policy.failures.max(1) {
                    Some(self.open(&mut state, now))
                } else {
                    *state = BreakerState::Closed { failures };
                    None
                }
            }
            BreakerState::HalfOpen { .. } if permit.trial => Some(self.open(&mut state, now)),
            BreakerState::HalfOpen { .. } | BreakerState::Open { .. } => None,
        }
    }

    fn open(&self, state: &mut BreakerState, now: DateTime<Utc>) -> Change {
        let until = now + self.open_for();
        *state = BreakerState::Open { until };
        Change::Opened { until }
    }

    fn open_for(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.policy.open_for).unwrap_or(chrono::Duration::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BreakerPolicy = BreakerPolicy {
        failures: 3,
        open_for: Duration::from_secs(30),
    };

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn secs(s: i64) -> chrono::Duration {
        chrono::Duration::seconds(s)
    }

    fn fail(b: &Breaker, now: DateTime<Utc>) -> Option<Change> {
        let permit = b.try_acquire(now).expect("admitted");
        b.failed(permit, now)
    }

    fn succeed(b: &Breaker, now: DateTime<Utc>) -> Option<Change> {
        let permit = b.try_acquire(now).expect("admitted");
        b.succeeded(permit)
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = Breaker::new(POLICY);
        let now = t0();
        assert_eq!(fail(&b, now), None);
        assert_eq!(fail(&b, now), None);
        // A success in between starts the count again.
        assert_eq!(succeed(&b, now), None);
        assert_eq!(fail(&b, now), None);
        assert_eq!(fail(&b, now), None);
        assert_eq!(
            fail(&b, now),
            Some(Change::Opened {
                until: now + secs(30)
            })
        );
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until: now + secs(30)
            }
        );
    }

    #[test]
    fn open_refuses_until_its_time_is_up() {
        let b = Breaker::new(POLICY);
        for _ in 0..3 {
            let _ = fail(&b, t0());
        }
        let rejected = b.try_acquire(t0() + secs(10)).unwrap_err();
        assert_eq!(rejected.until, t0() + secs(30));
        assert_eq!(rejected.retry_after_secs(t0() + secs(10)), 20);
        assert!(b.try_acquire(t0() + secs(29)).is_err());
    }

    #[test]
    fn half_open_lets_one_trial_through_and_a_success_closes() {
        let b = Breaker::new(POLICY);
        for _ in 0..3 {
            let _ = fail(&b, t0());
        }
        let later = t0() + secs(30);
        let trial = b.try_acquire(later).expect("the trial");
        assert!(trial.is_trial());
        assert_eq!(b.state(), BreakerState::HalfOpen { since: later });
        // Others are refused while the trial runs.
        assert!(b.try_acquire(later + secs(1)).is_err());
        assert_eq!(b.succeeded(trial), Some(Change::Closed));
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert!(!b.try_acquire(later).unwrap().is_trial());
    }

    #[test]
    fn a_failed_trial_opens_again_for_a_full_period() {
        let b = Breaker::new(POLICY);
        for _ in 0..3 {
            let _ = fail(&b, t0());
        }
        let later = t0() + secs(31);
        let trial = b.try_acquire(later).unwrap();
        assert_eq!(
            b.failed(trial, later),
            Some(Change::Opened {
                until: later + secs(30)
            })
        );
        assert!(b.try_acquire(later + secs(29)).is_err());
    }

    #[test]
    fn late_outcomes_of_earlier_calls_do_not_decide() {
        let b = Breaker::new(POLICY);
        let early = b.try_acquire(t0()).unwrap();
        for _ in 0..3 {
            let _ = fail(&b, t0());
        }
        // Admitted before the circuit opened, answering while it is open.
        assert_eq!(b.succeeded(early), None);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        let trial = b.try_acquire(t0() + secs(30)).unwrap();
        let stray = Permit { trial: false };
        assert_eq!(b.failed(stray, t0() + secs(30)), None);
        assert_eq!(b.succeeded(trial), Some(Change::Closed));
    }

    #[test]
    fn an_abandoned_trial_is_replaced_after_one_period() {
        let b = Breaker::new(POLICY);
        for _ in 0..3 {
            let _ = fail(&b, t0());
        }
        let abandoned = b.try_acquire(t0() + secs(30)).unwrap();
        drop(abandoned);
        assert!(b.try_acquire(t0() + secs(59)).is_err());
        let second = b.try_acquire(t0() + secs(60)).unwrap();
        assert!(second.is_trial());
    }

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one_second() {
        assert_eq!(retry_after_secs(t0() + secs(5), t0()), 5);
        assert_eq!(
            retry_after_secs(t0() + chrono::Duration::milliseconds(4001), t0()),
            5
        );
        assert_eq!(retry_after_secs(t0(), t0() + secs(3)), 1);
    }
}
