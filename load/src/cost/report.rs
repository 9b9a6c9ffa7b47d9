//! Printing a counted run: the counts per unit of work, then the bill.

use super::bill::{self, Bill, Durations, Prices};
use super::meter::{Tally, Target};
use std::fmt::Write;

/// The counts of `t`, divided by `units` (e.g. per checkout).
pub fn counts(t: &Tally, units: f64, unit: &str) -> String {
    let mut s = String::new();
    let per = |n: u64| n as f64 / units;
    let _ = writeln!(s, "  counts per {unit}:");
    let requests: Vec<String> = t
        .dynamo
        .requests
        .iter()
        .map(|(api, n)| format!("{api} {:.2}", per(*n)))
        .collect();
    let _ = writeln!(s, "    DynamoDB requests: {}", requests.join(", "));
    for target in [Target::Table, Target::Gsi1, Target::Gsi2] {
        let (r, w) = (t.reads(target), t.writes(target));
        if r + w > 0 {
            let _ = writeln!(
                s,
                "    DynamoDB {:<5}: {:.2} read units, {:.2} write units",
                target.name(),
                per(r) / 2.0,
                per(w)
            );
        }
    }
    let _ = writeln!(
        s,
        "    DynamoDB: {:.2} items in transactions, {:.2} failed conditions, {:.2} stream records",
        per(t.dynamo.transaction_items),
        per(t.dynamo.failed_conditions),
        per(t.dynamo.stream_records)
    );
    let _ = writeln!(
        s,
        "    API Gateway requests {:.2}; Lambda invocations {:.2}",
        per(t.api_requests),
        per(t.invocations())
    );
    for (name, f) in &t.lambda {
        let _ = writeln!(
            s,
            "      {name:<34} {:>6.2} invocations, {:>6.2} ms billed each (measured), {:>5.2} AWS calls each",
            per(f.invocations),
            f.billed_ms as f64 / f.invocations.max(1) as f64,
            f.aws_calls as f64 / f.invocations.max(1) as f64,
        );
    }
    let _ = writeln!(
        s,
        "    EventBridge entries {:.2}; SQS SendMessage {:.2}, ReceiveMessage {:.2}, DeleteMessage {:.2}",
        per(t.eventbridge_entries),
        per(t.sqs_total("SendMessage")),
        per(t.sqs_total("ReceiveMessage")),
        per(t.sqs_total("DeleteMessage"))
    );
    if t.executions > 0 {
        let _ = writeln!(
            s,
            "    Step Functions: {:.2} executions, {:.2} state transitions, {:.1} ms per execution (local)",
            per(t.executions),
            per(t.transitions),
            t.execution_ms as f64 / t.executions as f64
        );
    }
    let search: Vec<String> = t
        .search
        .iter()
        .map(|(k, n)| format!("{k} {:.2}", per(*n)))
        .collect();
    let _ = writeln!(
        s,
        "    OpenSearch calls: {}; SES e-mails {:.2}",
        if search.is_empty() {
            "none".to_owned()
        } else {
            search.join(", ")
        },
        per(t.emails)
    );
    let local: u64 = t.local_only.values().sum();
    let _ = writeln!(
        s,
        "    left out (local bus and saga store operations, not DynamoDB on AWS): {:.2}",
        per(local)
    );
    s
}

/// The bill lines of `b` (already scaled to the unit printed).
pub fn lines(b: &Bill, label: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "  {label}: ${:.4}", b.total());
    for (service, dollars) in &b.lines {
        let share = if b.total() > 0.0 {
            dollars / b.total() * 100.0
        } else {
            0.0
        };
        let _ = writeln!(s, "    {service:<15} ${dollars:>9.5}  {share:>5.1} %");
    }
    s
}

/// The whole section for one phase: counts per unit and the bill per `scale` units.
pub fn phase(
    t: &Tally,
    p: &Prices,
    units: f64,
    unit: &str,
    scale: f64,
    scale_label: &str,
) -> Result<String, String> {
    let mut s = counts(t, units, unit);
    for (durations, how) in [
        (
            Durations::Modelled,
            "Lambda durations measured + 5 ms per AWS call",
        ),
        (Durations::Measured, "Lambda durations as measured locally"),
    ] {
        let b = bill::bill(t, p, durations)?.scaled(scale / units);
        s.push_str(&lines(&b, &format!("$ per {scale_label} ({how})")));
    }
    Ok(s)
}
