//! The counters every decorator adds to: what AWS would bill for the work
//! the local system did, by service, before any price is applied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Where a DynamoDB read or write lands: the table or one of its GSIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Table,
    Gsi1,
    Gsi2,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Table => "table",
            Target::Gsi1 => "GSI1",
            Target::Gsi2 => "GSI2",
        }
    }
}

impl From<lite_store::Index> for Target {
    fn from(index: lite_store::Index) -> Self {
        match index {
            lite_store::Index::Table => Target::Table,
            lite_store::Index::Gsi1 => Target::Gsi1,
            lite_store::Index::Gsi2 => Target::Gsi2,
        }
    }
}

/// DynamoDB: requests by API name, units by table or index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dynamo {
    /// `GetItem`, `BatchGetItem`, `Query`, `PutItem`, `UpdateItem`,
    /// `DeleteItem`, `TransactWriteItems`: requests sent.
    pub requests: BTreeMap<&'static str, u64>,
    /// Read units in halves (an eventually consistent read of 4 KB is 1).
    pub read_half_units: BTreeMap<Target, u64>,
    pub write_units: BTreeMap<Target, u64>,
    /// Items written inside transactions (each billed twice).
    pub transaction_items: u64,
    /// Writes that failed their condition (billed all the same).
    pub failed_conditions: u64,
    /// Records the table's stream carries (one per item changed).
    pub stream_records: u64,
}

/// One Lambda function's invocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Function {
    pub invocations: u64,
    /// The measured handler durations, each rounded up to 1 ms (Lambda's
    /// billing granularity), summed.
    pub billed_ms: u64,
    /// Calls to AWS services the invocations made (DynamoDB requests,
    /// EventBridge/SES/OpenSearch calls): what the modelled duration adds
    /// per call on AWS.
    pub aws_calls: u64,
}

/// Everything counted, by service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub dynamo: Dynamo,
    pub lambda: BTreeMap<String, Function>,
    /// HTTP API requests (one per request the local server answered).
    pub api_requests: u64,
    /// EventBridge PutEvents entries, in 64 KB chunks (each is one event).
    pub eventbridge_entries: u64,
    /// SQS requests by (consumer queue, `SendMessage`/`ReceiveMessage`/`DeleteMessage`).
    pub sqs: BTreeMap<(String, &'static str), u64>,
    /// Step Functions: executions, state transitions, and their durations.
    pub executions: u64,
    pub transitions: u64,
    pub execution_ms: u64,
    /// OpenSearch calls by kind (`search`, `suggest`, `index`, `delete`, `get`, `count`).
    pub search: BTreeMap<&'static str, u64>,
    /// SES e-mails sent.
    pub emails: u64,
    /// Store operations of the local transports (bus deliveries, saga
    /// executions): not DynamoDB on AWS, counted only to show they were left out.
    pub local_only: BTreeMap<&'static str, u64>,
}

impl Tally {
    pub fn dynamo_request(&mut self, api: &'static str) {
        *self.dynamo.requests.entry(api).or_default() += 1;
    }
    pub fn read(&mut self, target: Target, half_units: u64) {
        *self.dynamo.read_half_units.entry(target).or_default() += half_units;
    }
    pub fn write(&mut self, target: Target, units: u64) {
        *self.dynamo.write_units.entry(target).or_default() += units;
    }
    pub fn sqs(&mut self, queue: &str, api: &'static str) {
        *self.sqs.entry((queue.to_owned(), api)).or_default() += 1;
    }
    pub fn sqs_total(&self, api: &str) -> u64 {
        self.sqs
            .iter()
            .filter(|((_, a), _)| *a == api)
            .map(|(_, n)| n)
            .sum()
    }
    pub fn local(&mut self, what: &'static str) {
        *self.local_only.entry(what).or_default() += 1;
    }
    pub fn invoked(&mut self, function: &str, took: Duration, aws_calls: u64) {
        let f = self.lambda.entry(function.to_owned()).or_default();
        f.invocations += 1;
        f.billed_ms += billed_ms(took);
        f.aws_calls += aws_calls;
    }
    pub fn invocations(&self) -> u64 {
        self.lambda.values().map(|f| f.invocations).sum()
    }
    pub fn reads(&self, target: Target) -> u64 {
        self.dynamo
            .read_half_units
            .get(&target)
            .copied()
            .unwrap_or(0)
    }
    pub fn writes(&self, target: Target) -> u64 {
        self.dynamo.write_units.get(&target).copied().unwrap_or(0)
    }
    #[cfg(test)]
    pub fn requests(&self, api: &str) -> u64 {
        self.dynamo.requests.get(api).copied().unwrap_or(0)
    }
}

/// Lambda bills each invocation in whole milliseconds, rounded up.
pub fn billed_ms(took: Duration) -> u64 {
    let micros = took.as_micros();
    u64::try_from(micros.div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The shared counters. Cheap to clone.
#[derive(Clone, Default)]
pub struct Meter(Arc<Mutex<Tally>>);

impl Meter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn tally(&self) -> MutexGuard<'_, Tally> {
        // A panic while counting leaves counts, never a broken invariant.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// What has been counted so far.
    pub fn snapshot(&self) -> Tally {
        self.tally().clone()
    }
    /// Starts counting afresh (after setting up the data the run needs).
    pub fn reset(&self) {
        *self.tally() = Tally::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_durations_round_up_to_whole_milliseconds() {
        assert_eq!(billed_ms(Duration::from_micros(1)), 1);
        assert_eq!(billed_ms(Duration::from_micros(1000)), 1);
        assert_eq!(billed_ms(Duration::from_micros(1001)), 2);
        assert_eq!(billed_ms(Duration::ZERO), 1);
    }

    #[test]
    fn invocations_add_up_per_function() {
        let meter = Meter::new();
        meter
            .tally()
            .invoked("catalog-get-product", Duration::from_micros(1500), 2);
        meter
            .tally()
            .invoked("catalog-get-product", Duration::from_micros(200), 2);
        let t = meter.snapshot();
        let f = &t.lambda["catalog-get-product"];
        assert_eq!((f.invocations, f.billed_ms, f.aws_calls), (2, 3, 4));
        meter.reset();
        assert_eq!(meter.snapshot(), Tally::default());
    }
}
