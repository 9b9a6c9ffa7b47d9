//! Retry and Catch: which error a retrier or catcher takes, and the backoff
//! arithmetic.

use crate::invoker::errors;
use crate::path::ResultPath;

#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    /// Seconds before the first retry (default 1).
    pub interval_seconds: f64,
    /// Retries at most this many times (default 3; 0: never).
    pub max_attempts: u32,
    /// Each retry waits this much longer than the last (default 2.0).
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
}

impl Retrier {
    /// The wait before retry number `attempt + 1` (`attempt` retries done),
    /// in seconds: `IntervalSeconds × BackoffRate^attempt`, capped by
    /// `MaxDelaySeconds`.
    pub fn delay_seconds(&self, attempt: u32) -> f64 {
        let exp = i32::try_from(attempt).unwrap_or(i32::MAX);
        let delay = self.interval_seconds * self.backoff_rate.powi(exp);
        match self.max_delay_seconds {
            Some(max) if delay > max => max,
            _ => delay,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

/// Whether `error` is one of `names`. `States.ALL` takes everything and
/// `States.TaskFailed` everything but `States.Timeout`; neither takes
/// `States.Runtime`, which is never retried nor caught.
pub fn matches(names: &[String], error: &str) -> bool {
    if error == errors::RUNTIME {
        return false;
    }
    names.iter().any(|n| {
        n == error || n == errors::ALL || (n == errors::TASK_FAILED && error != errors::TIMEOUT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrier(interval: f64, rate: f64, max: Option<f64>) -> Retrier {
        Retrier {
            error_equals: vec!["X".into()],
            interval_seconds: interval,
            max_attempts: 10,
            backoff_rate: rate,
            max_delay_seconds: max,
        }
    }

    #[test]
    fn backoff_arithmetic() {
        let r = retrier(1.0, 2.0, None);
        let delays: Vec<f64> = (0..5).map(|a| r.delay_seconds(a)).collect();
        assert_eq!(delays, vec![1.0, 2.0, 4.0, 8.0, 16.0]);
        let capped = retrier(1.0, 2.0, Some(60.0));
        assert_eq!(capped.delay_seconds(6), 60.0);
        assert_eq!(capped.delay_seconds(5), 32.0);
        let flat = retrier(3.0, 1.0, None);
        assert_eq!(flat.delay_seconds(4), 3.0);
        let slow = retrier(2.0, 1.5, None);
        assert_eq!(slow.delay_seconds(2), 4.5);
    }

    #[test]
    fn error_matching() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&names(&["A", "B"]), "B"));
        assert!(!matches(&names(&["A"]), "B"));
        assert!(matches(&names(&["States.ALL"]), "Checkout.Transient"));
        assert!(matches(&names(&["States.ALL"]), "States.Timeout"));
        assert!(matches(
            &names(&["States.TaskFailed"]),
            "Checkout.Transient"
        ));
        assert!(!matches(&names(&["States.TaskFailed"]), "States.Timeout"));
        assert!(matches(&names(&["States.Timeout"]), "States.Timeout"));
        assert!(!matches(&names(&["States.ALL"]), "States.Runtime"));
    }
}
