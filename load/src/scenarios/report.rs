//! A run's figures (from goose's metrics) and its end-state checks, the
//! per-kind table and the one summary line.

use goose::metrics::{GooseMetrics, GooseRequestMetricTimingData};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Broken expectations that are no request's failure (a checkout that was
/// never released, a barrier that timed out): counted as errors, the
/// first few kept to print.
#[derive(Default)]
pub struct Faults {
    count: AtomicUsize,
    first: Mutex<Vec<String>>,
}

impl Faults {
    pub fn add(&self, why: impl Into<String>) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().expect("faults lock");
        if first.len() < 20 {
            first.push(why.into());
        }
    }
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
    pub fn first(&self) -> Vec<String> {
        self.first.lock().expect("faults lock").clone()
    }
}

/// One request kind (`GET product`): how many, how many failed, latency.
#[derive(Debug, Clone)]
pub struct KindStats {
    pub kind: String,
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub scenario: &'static str,
    pub requests: usize,
    /// Failed requests plus faults.
    pub errors: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Seconds goose ran.
    pub seconds: f64,
    pub users: usize,
    pub kinds: Vec<KindStats>,
    /// Goose's error summary and the faults (the first few).
    pub error_samples: Vec<String>,
    /// The scenario's end-state checks: (what, held).
    pub checks: Vec<(String, bool)>,
    /// Further figures of the scenario (`orders`, `release to last end`).
    pub notes: Vec<String>,
}

impl Report {
    pub fn from_metrics(scenario: &'static str, m: &GooseMetrics, faults: &Faults) -> Report {
        let mut all = GooseRequestMetricTimingData::default();
        let mut buckets: BTreeMap<u64, usize> = BTreeMap::new();
        let mut kinds = Vec::new();
        let (mut requests, mut failed) = (0, 0);
        for (key, agg) in &m.requests {
            let d = &agg.raw_data;
            for (&b, &n) in d.times_us.iter() {
                *buckets.entry(b).or_default() += n;
            }
            if d.counter > 0 {
                if all.counter == 0 || d.minimum_time_us < all.minimum_time_us {
                    all.minimum_time_us = d.minimum_time_us;
                }
                all.maximum_time_us = all.maximum_time_us.max(d.maximum_time_us);
                all.total_time_us += d.total_time_us;
                all.counter += d.counter;
            }
            let n = agg.success_count + agg.fail_count;
            requests += n;
            failed += agg.fail_count;
            kinds.push(KindStats {
                kind: key.clone(),
                requests: n,
                errors: agg.fail_count,
                p50_ms: ms(d.percentile_us(0.50)),
                p95_ms: ms(d.percentile_us(0.95)),
                p99_ms: ms(d.percentile_us(0.99)),
                max_ms: ms(d.maximum_time_us),
            });
        }
        all.times_us = buckets.into_iter().collect();
        kinds.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.kind.cmp(&b.kind)));
        let mut error_samples: Vec<String> = m
            .errors
            .values()
            .map(|e| format!("{} × {:?} {}: {}", e.occurrences, e.method, e.name, e.error))
            .collect();
        error_samples.extend(faults.first());
        Report {
            scenario,
            requests,
            errors: failed + faults.count(),
            p50_ms: ms(all.percentile_us(0.50)),
            p95_ms: ms(all.percentile_us(0.95)),
            p99_ms: ms(all.percentile_us(0.99)),
            seconds: m.duration as f64,
            users: m.maximum_users,
            kinds,
            error_samples,
            checks: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn check(&mut self, what: impl Into<String>, held: bool) {
        self.checks.push((what.into(), held));
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// No error and every check held.
    pub fn passed(&self) -> bool {
        self.errors == 0 && self.consistent()
    }

    pub fn consistent(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, held)| *held)
    }

    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The last line of every run.
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "load: {} {} requests, {} errors, p99 {} ms",
            self.scenario,
            self.requests,
            self.errors,
            fmt_ms(self.p99_ms)
        );
        if self.consistent() && self.errors == 0 {
            line.push_str(", consistent");
        }
        line
    }

    /// The per-kind table, the checks and the notes, in Markdown.
    pub fn details(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} users, {:.0} s, {} requests ({:.1} req/s), {} errors, p50 {} / p95 {} / p99 {} ms",
            self.scenario,
            self.users,
            self.seconds,
            self.requests,
            self.throughput(),
            self.errors,
            fmt_ms(self.p50_ms),
            fmt_ms(self.p95_ms),
            fmt_ms(self.p99_ms)
        );
        let _ = writeln!(
            s,
            "\n| kind | requests | errors | p50 ms | p95 ms | p99 ms | max ms |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
        for k in &self.kinds {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                k.kind,
                k.requests,
                k.errors,
                fmt_ms(k.p50_ms),
                fmt_ms(k.p95_ms),
                fmt_ms(k.p99_ms),
                fmt_ms(k.max_ms)
            );
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        if !self.checks.is_empty() {
            s.push('\n');
            for (what, held) in &self.checks {
                let _ = writeln!(s, "- [{}] {what}", if *held { "x" } else { " " });
            }
        }
        if !self.error_samples.is_empty() {
            let _ = writeln!(s, "\nerrors (first kinds):");
            for e in self.error_samples.iter().take(20) {
                let _ = writeln!(s, "- {e}");
            }
        }
        s
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Whole milliseconds from 10 ms up, one decimal below.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(errors: usize, checks: &[bool]) -> Report {
        let mut r = Report::from_metrics("mix", &GooseMetrics::default(), &Faults::default());
        r.requests = 120;
        r.errors = errors;
        r.p99_ms = 42.4;
        for (i, held) in checks.iter().enumerate() {
            r.check(format!("check {i}"), *held);
        }
        r
    }

    #[test]
    fn the_summary_line_says_consistent_only_when_every_check_held_without_errors() {
        assert_eq!(
            report(0, &[true, true]).summary_line(),
            "load: mix 120 requests, 0 errors, p99 42 ms, consistent"
        );
        assert_eq!(
            report(0, &[true, false]).summary_line(),
            "load: mix 120 requests, 0 errors, p99 42 ms"
        );
        assert_eq!(
            report(3, &[true]).summary_line(),
            "load: mix 120 requests, 3 errors, p99 42 ms"
        );
        assert!(!report(0, &[]).passed());
        assert!(report(0, &[true]).passed());
        assert!(!report(1, &[true]).passed());
    }
}
