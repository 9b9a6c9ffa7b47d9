//! Counts × dated prices: what a counted run would cost on AWS, by service.

use super::meter::{Tally, Target};
use serde_json::Value;

/// The price list the figures use (us-east-1, arm64, dated inside).
pub const PRICES_JSON: &str = include_str!("../../prices-us-east-1.json");

/// Memory of every function, MB: `infra/cdk/lib/environments.ts` (dev and
/// staging 256, prod 512).
pub const LAMBDA_MEMORY_MB: u64 = 256;

/// What one AWS call adds to a Lambda's billed duration in the modelled
/// figure: an in-region DynamoDB request takes single-digit milliseconds.
pub const MODELLED_MS_PER_AWS_CALL: u64 = 5;

/// Express workflows bill each execution's duration in 100 ms steps and its
/// memory in 64 MB steps; a short checkout stays in the smallest step.
const EXPRESS_MEMORY_MB: f64 = 64.0;

/// The dated prices.
pub struct Prices(Value);

impl Prices {
    pub fn load() -> Result<Prices, String> {
        serde_json::from_str(PRICES_JSON)
            .map(Prices)
            .map_err(|e| format!("prices-us-east-1.json: {e}"))
    }

    /// The number at a dotted path, e.g. `dynamodb.per_million_read_request_units`.
    pub fn get(&self, path: &str) -> Result<f64, String> {
        path.split('.')
            .try_fold(&self.0, |v, part| v.get(part))
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("prices-us-east-1.json has no number at {path}"))
    }

    pub fn as_of(&self) -> &str {
        self.0["as_of"].as_str().unwrap_or("?")
    }
}

/// Dollars by service, in the order they are printed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bill {
    pub lines: Vec<(&'static str, f64)>,
}

impl Bill {
    pub fn total(&self) -> f64 {
        self.lines.iter().map(|(_, d)| d).sum()
    }
    #[cfg(test)]
    pub fn get(&self, service: &str) -> f64 {
        self.lines
            .iter()
            .filter(|(s, _)| *s == service)
            .map(|(_, d)| d)
            .sum()
    }
    /// Every line multiplied by `factor` (e.g. 1,000 / checkouts counted).
    pub fn scaled(&self, factor: f64) -> Bill {
        Bill {
            lines: self.lines.iter().map(|(s, d)| (*s, d * factor)).collect(),
        }
    }
}

/// How Lambda durations are billed: as measured here (redb in process), or
/// measured plus a modelled network time per AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durations {
    Measured,
    Modelled,
}

/// Lambda GB-seconds of the counted invocations.
pub fn lambda_gb_seconds(t: &Tally, durations: Durations) -> f64 {
    let ms: u64 = t
        .lambda
        .values()
        .map(|f| match durations {
            Durations::Measured => f.billed_ms,
            Durations::Modelled => f.billed_ms + f.aws_calls * MODELLED_MS_PER_AWS_CALL,
        })
        .sum();
    ms as f64 / 1000.0 * LAMBDA_MEMORY_MB as f64 / 1024.0
}

/// The bill of `t` with the saga on Step Functions Standard.
pub fn bill(t: &Tally, p: &Prices, durations: Durations) -> Result<Bill, String> {
    let reads: u64 = [Target::Table, Target::Gsi1, Target::Gsi2]
        .iter()
        .map(|&x| t.reads(x))
        .sum();
    let writes: u64 = [Target::Table, Target::Gsi1, Target::Gsi2]
        .iter()
        .map(|&x| t.writes(x))
        .sum();
    let sqs_requests: u64 = t.sqs.values().sum();
    let dynamo = writes as f64 * p.get("dynamodb.per_million_write_request_units")? / 1e6
        + reads as f64 / 2.0 * p.get("dynamodb.per_million_read_request_units")? / 1e6;
    let lambda = t.invocations() as f64 * p.get("lambda.per_million_requests")? / 1e6
        + lambda_gb_seconds(t, durations) * p.get("lambda.per_gb_second_arm64")?;
    Ok(Bill {
        lines: vec![
            ("DynamoDB", dynamo),
            ("Lambda", lambda),
            (
                "API Gateway",
                t.api_requests as f64 * p.get("api_gateway.per_million_requests")? / 1e6,
            ),
            (
                "EventBridge",
                t.eventbridge_entries as f64 * p.get("eventbridge.per_million_custom_events")?
                    / 1e6,
            ),
            (
                "SQS",
                sqs_requests as f64 * p.get("sqs.per_million_standard_requests")? / 1e6,
            ),
            ("Step Functions", step_functions_standard(t, p)?),
            ("OpenSearch", 0.0),
            ("SES", t.emails as f64 * p.get("ses.per_1000_emails")? / 1e3),
        ],
    })
}

/// Standard workflows: per state transition.
pub fn step_functions_standard(t: &Tally, p: &Prices) -> Result<f64, String> {
    Ok(t.transitions as f64 * p.get("step_functions.standard_per_1000_state_transitions")? / 1e3)
}

/// Express workflows: per execution plus GB-seconds of its duration, in
/// 100 ms steps, at 64 MB; `executions_per_checkout` is 2 when the saga is
/// split at the payment callback (Express cannot wait for a task token).
pub fn step_functions_express(
    t: &Tally,
    p: &Prices,
    executions_per_checkout: u64,
    wait_ms_per_execution: u64,
) -> Result<f64, String> {
    let executions = t.executions * executions_per_checkout;
    if executions == 0 {
        return Ok(0.0);
    }
    let step = p.get("step_functions.express_billing_increment_ms")?;
    let mean_ms = t.execution_ms as f64 / executions as f64 + wait_ms_per_execution as f64;
    let billed_s = ((mean_ms / step).ceil().max(1.0) * step) / 1000.0;
    let gb_s = executions as f64 * billed_s * EXPRESS_MEMORY_MB / 1024.0;
    Ok(
        executions as f64 * p.get("step_functions.express_per_million_requests")? / 1e6
            + gb_s * p.get("step_functions.express_per_gb_second")?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_price_list_has_every_figure_the_bill_uses() {
        let p = Prices::load().unwrap();
        let t = Tally::default();
        assert_eq!(bill(&t, &p, Durations::Modelled).unwrap().total(), 0.0);
        assert!(p.get("opensearch.serverless_per_ocu_hour").unwrap() > 0.0);
        assert!(p.get("nope.nothing").is_err());
    }

    #[test]
    fn counts_times_prices() {
        let p = Prices::load().unwrap();
        let mut t = Tally::default();
        t.write(Target::Table, 1_000_000); // $0.625
        t.read(Target::Gsi1, 2_000_000); // 1M read units: $0.125
        t.api_requests = 1_000_000; // $1
        t.transitions = 1_000; // $0.025
        t.emails = 1_000; // $0.10
        t.invoked("catalog-get-product", Duration::from_millis(1000), 0);
        let b = bill(&t, &p, Durations::Measured).unwrap();
        assert!((b.get("DynamoDB") - 0.75).abs() < 1e-9);
        assert!((b.get("API Gateway") - 1.0).abs() < 1e-9);
        assert!((b.get("Step Functions") - 0.025).abs() < 1e-9);
        assert!((b.get("SES") - 0.1).abs() < 1e-9);
        // 1 request + 1 s at 0.25 GB
        let lambda = 0.2 / 1e6 + 0.25 * 0.0000133334;
        assert!((b.get("Lambda") - lambda).abs() < 1e-12);
        assert!((b.scaled(2.0).total() - 2.0 * b.total()).abs() < 1e-9);
    }

    #[test]
    fn express_bills_requests_and_100_ms_steps_of_64_mb() {
        let p = Prices::load().unwrap();
        let t = Tally {
            executions: 1000,
            execution_ms: 1000 * 30,
            ..Tally::default()
        };
        // 1,000 executions of 30 ms: billed 100 ms each at 1/16 GB.
        let want = 1000.0 / 1e6 + 1000.0 * 0.1 / 16.0 * 0.00001667;
        let got = step_functions_express(&t, &p, 1, 0).unwrap();
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // Split in two: twice the requests, each a 100 ms step still.
        let split = step_functions_express(&t, &p, 2, 0).unwrap();
        assert!((split - 2.0 * want).abs() < 1e-12);
    }

    #[test]
    fn the_memory_is_the_deployed_one() {
        let envs = include_str!("../../../infra/cdk/lib/environments.ts");
        let dev = envs
            .split("dev: {")
            .nth(1)
            .and_then(|s| s.split("memorySize:").nth(1))
            .and_then(|s| s.split(',').next())
            .map(str::trim);
        assert_eq!(dev, Some(LAMBDA_MEMORY_MB.to_string().as_str()));
    }
}
