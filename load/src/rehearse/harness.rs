//! The rehearsal's state: the prepared functions (binary, resolved
//! environment, role statements), one invocation at a time through its own
//! recording proxy, and what each function did (init times, answers, AWS
//! calls, failures).

use super::iam::{self, Call, Statement};
use super::moto::Moto;
use super::provision::Provisioned;
use super::proxy;
use super::resolve::REGION;
use super::template::Function;
use lite_fake_runtime::{self as runtime, Answer, Output, Start};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Prepared {
    pub function: Function,
    pub bootstrap: PathBuf,
    /// The template's variables, resolved.
    pub env: Vec<(String, String)>,
    pub statements: Vec<Statement>,
    pub arn: String,
}

#[derive(Default, Debug)]
pub struct Outcome {
    pub inits: Vec<Duration>,
    pub invocations: usize,
    pub answered: usize,
    pub failures: Vec<String>,
    pub calls: BTreeSet<Call>,
}

/// A request the rehearsal's stand-in API received (the sandbox payment
/// provider's webhooks, a custom resource's response).
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub struct Harness {
    pub moto: Moto,
    pub provisioned: Provisioned,
    pub functions: BTreeMap<String, Prepared>,
    pub outcomes: BTreeMap<String, Outcome>,
    pub work: PathBuf,
    /// Starts per function before its first invocation, for the init figures.
    pub extra_starts: usize,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Values carried between steps (tokens, ids).
    pub vars: HashMap<String, String>,
}

impl Harness {
    pub fn var(&self, k: &str) -> String {
        self.vars.get(k).cloned().unwrap_or_default()
    }

    pub fn outcome(&mut self, name: &str) -> &mut Outcome {
        self.outcomes.entry(name.to_owned()).or_default()
    }

    pub fn fail(&mut self, name: &str, why: impl Into<String>) {
        let why = why.into();
        eprintln!("  FAIL {name}: {why}");
        self.outcome(name).failures.push(why);
    }

    /// Starts `name` (and, before its first invocation, `extra_starts`
    /// measured starts), invokes it with `event`, checks every AWS call it
    /// made against its role. The answer, or `None` when it did not answer
    /// (already recorded as a failure).
    pub async fn invoke(&mut self, name: &str, event: Value) -> Option<Answer> {
        let Some(p) = self.functions.get(name) else {
            self.fail(name, "not in the template (or its artifact is missing)");
            return None;
        };
        let recording = match proxy::start(&self.moto.endpoint).await {
            Ok(r) => r,
            Err(e) => {
                self.fail(name, e);
                return None;
            }
        };
        let mut env = vec![
            (
                "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
                p.function.name.clone(),
            ),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
                p.function.memory_mb.to_string(),
            ),
            (
                "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
                "$LATEST".to_owned(),
            ),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
                format!("/aws/lambda/{}", p.function.name),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME".to_owned(),
                "rehearsal".to_owned(),
            ),
            ("AWS_REGION".to_owned(), REGION.to_owned()),
            ("AWS_DEFAULT_REGION".to_owned(), REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "rehearsal".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "rehearsal".to_owned()),
            ("AWS_SESSION_TOKEN".to_owned(), "rehearsal".to_owned()),
            ("_HANDLER".to_owned(), "bootstrap".to_owned()),
            ("AWS_ENDPOINT_URL".to_owned(), recording.url.clone()),
        ];
        env.extend(p.env.iter().cloned());
        let log = self.work.join(format!("{name}.log"));
        let start = Start {
            binary: &p.bootstrap,
            env: &env,
            function_arn: &p.arn,
            timeout: Duration::from_secs(p.function.timeout_secs.max(1)),
            output: Output::Append(&log),
        };
        let first = self
            .outcomes
            .get(name)
            .map(|o| o.invocations == 0)
            .unwrap_or(true);
        let mut inits = Vec::new();
        let mut failure = None;
        if first {
            for _ in 0..self.extra_starts {
                match runtime::run(&start, None).await {
                    Ok(run) => inits.push(run.init),
                    Err(e) => failure = Some(format!("measured start: {e}")),
                }
            }
        }
        let run = runtime::run(&start, Some(event)).await;
        let statements = p.statements.clone();
        let machine = self.provisioned.state_machine_arn.clone();
        let recorded = recording.take();
        drop(recording);
        let outcome = self.outcome(name);
        outcome.invocations += 1;
        outcome.inits.extend(inits);
        let mut denied = Vec::new();
        for r in &recorded {
            for call in proxy::calls(r, &machine) {
                if let Err(why) = iam::allowed(&statements, &call) {
                    denied.push(format!("IAM: {call} is not allowed by its role ({why})"));
                }
                outcome.calls.insert(call);
            }
        }
        denied.sort();
        denied.dedup();
        if let Some(f) = failure {
            self.fail(name, f);
        }
        for d in denied {
            self.fail(name, d);
        }
        match run {
            Ok(run) => {
                self.outcome(name).inits.push(run.init);
                if run.answer.is_some() {
                    self.outcome(name).answered += 1;
                }
                run.answer
            }
            Err(e) => {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = tail
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n    ");
                self.fail(name, format!("{e} (log {}:\n    {tail})", log.display()));
                None
            }
        }
    }

    /// Invokes and expects a response (not a function error); the answer.
    pub async fn expect_response(&mut self, name: &str, event: Value) -> Option<Value> {
        match self.invoke(name, event).await? {
            Answer::Response(v) => Some(v),
            Answer::Error(kind, message) => {
                self.fail(name, format!("answered the error {kind}: {message}"));
                None
            }
        }
    }

    /// An SQS event of received messages for a consumer of `queue_arn`.
    pub fn sqs_event(queue_arn: &str, messages: &[Value]) -> Value {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        json!({ "Records": records })
    }
}
