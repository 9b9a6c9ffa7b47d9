//! Exponential backoff with jitter for the retries this crate makes itself
//! (the SDK's own retries come first, inside each call).

use std::time::Duration;

/// `base · 2^retry`, at most 64 · base, of which half is fixed and half
/// random, so concurrent callers spread out.
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    use std::hash::BuildHasher;
    let ceiling = base.saturating_mul(1 << retry.min(6));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let random = std::collections::hash_map::RandomState::new().hash_one(nanos);
    let half = ceiling / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(random % (jitter_ms + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_stays_bounded() {
        let base = Duration::from_millis(50);
        for retry in 0..20 {
            let ceiling = base * (1 << retry.min(6));
            let d = backoff(base, retry);
            assert!(d >= ceiling / 2 && d <= ceiling, "{retry}: {d:?}");
        }
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }
}
