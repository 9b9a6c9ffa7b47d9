//! Keeping a lease alive while work runs: what both the idempotency claim
//! and the local bus's deliveries do, so that a lease bounds how long a
//! crashed holder blocks others, never how long the work may take.

use std::future::Future;
use std::time::Duration;

/// How often a lease of `lease` is renewed: every third of it, so two
/// renewals can be late before it runs out.
pub fn renewal_interval(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(10))
}

/// Runs `work` to completion and calls `renew` every
/// [`renewal_interval`]`(lease)` meanwhile. `work` is not polled while a
/// renewal runs (one store write), so the two never race and no renewal
/// can land after `work` has finished.
pub async fn renewing<T, R, Fut>(lease: Duration, work: impl Future<Output = T>, mut renew: R) -> T
where
    R: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let every = renewal_interval(lease);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            () = tokio::time::sleep(every) => renew().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn renews_while_the_work_runs_and_stops_with_it() {
        let renewals = AtomicUsize::new(0);
        let work = async {
            tokio::time::sleep(Duration::from_millis(1_000)).await;
            7
        };
        let out = renewing(Duration::from_millis(300), work, || async {
            renewals.fetch_add(1, Ordering::SeqCst);
        })
        .await;
        assert_eq!(out, 7);
        // Every 100 ms during 1 s: at most ten renewals (fewer when this
        // machine is busy and timers fire late), and never none.
        let n = renewals.load(Ordering::SeqCst);
        assert!((3..=10).contains(&n), "{n} renewals");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(renewals.load(Ordering::SeqCst), n, "none after the work");
    }

    #[tokio::test]
    async fn quick_work_is_never_renewed() {
        let renewals = AtomicUsize::new(0);
        let out = renewing(Duration::from_secs(5), async { "done" }, || async {
            renewals.fetch_add(1, Ordering::SeqCst);
        })
        .await;
        assert_eq!(out, "done");
        assert_eq!(renewals.load(Ordering::SeqCst), 0);
    }
}
