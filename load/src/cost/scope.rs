//! The Lambda invocation a piece of work belongs to: a task-local scope
//! around a route handler, a consumer's handler or a saga task, so the
//! decorators below it can say which function made a call.

use super::meter::Meter;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

tokio::task_local! {
    static CURRENT: Arc<Invocation>;
}

/// The AWS calls made inside one invocation so far.
#[derive(Default)]
pub struct Invocation {
    aws_calls: AtomicU64,
}

/// Counts one AWS call (a DynamoDB request, a PutEvents, a search, an
/// e-mail) against the invocation in scope, if any.
pub fn aws_call() {
    let _ = CURRENT.try_with(|i| i.aws_calls.fetch_add(1, Ordering::Relaxed));
}

/// Runs `work` as one invocation of `function`: its duration (rounded up
/// to 1 ms) and its AWS calls are counted when it ends.
pub async fn invocation<F: Future>(meter: &Meter, function: &str, work: F) -> F::Output {
    let current = Arc::new(Invocation::default());
    let started = Instant::now();
    let out = CURRENT.scope(current.clone(), work).await;
    let calls = current.aws_calls.load(Ordering::Relaxed);
    meter.tally().invoked(function, started.elapsed(), calls);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_inside_a_scope_count_against_it_and_outside_against_nothing() {
        let meter = Meter::new();
        aws_call();
        invocation(&meter, "orders-place", async {
            aws_call();
            aws_call();
        })
        .await;
        invocation(&meter, "orders-place", async { aws_call() }).await;
        let t = meter.snapshot();
        assert_eq!(t.lambda["orders-place"].invocations, 2);
        assert_eq!(t.lambda["orders-place"].aws_calls, 3);
    }
}
