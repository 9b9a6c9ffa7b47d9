//! Logging a failing flag source once per failure, not once per request:
//! a source that stays unreachable would otherwise log on every refresh.

/// Whether the source's last read failed, and why.
#[derive(Debug, Default)]
pub(crate) struct Health {
    failing: Option<String>,
}

impl Health {
    /// Records a failed read; `true` when it should be logged (the first
    /// failure, or a different reason than the last one).
    pub(crate) fn failed(&mut self, reason: &str) -> bool {
        let new = self.failing.as_deref() != Some(reason);
        self.failing = Some(reason.to_owned());
        new
    }

    /// Records a good read; `true` when it ends a failure (log the
    /// recovery).
    pub(crate) fn succeeded(&mut self) -> bool {
        self.failing.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_logged_once_until_it_changes_or_recovers() {
        let mut h = Health::default();
        assert!(!h.succeeded());
        assert!(h.failed("connection refused"));
        assert!(!h.failed("connection refused"));
        assert!(h.failed("invalid flags: x"));
        assert!(h.succeeded());
        assert!(!h.succeeded());
        assert!(h.failed("connection refused"));
    }
}
