//! The checkout definition (`infra/checkout.asl.json`) run by moto's Step
//! Functions interpreter must take the paths of
//! `testdata/checkout-paths.json`, the fixture the project's own interpreter
//! is held to as well: the two interpreters agree on every outcome.
//!
//! How moto is driven (moto 5.2.5, `scripts/moto.sh`):
//! - Executions only run with `{"stepfunctions":{"execute_state_machine":true}}`,
//!   and Lambda tasks only answer with `{"lambda":{"use_docker":false}}`;
//!   both are per server process and other test binaries share the server,
//!   so every case sets them again.
//! - That "simple" Lambda backend ignores `FunctionName` (the functions need
//!   not exist) and answers every invocation of an account and region with
//!   the next entry of one FIFO queue (`/moto-api/static/lambda-simple/response`),
//!   echoing the request payload when the queue is empty. So each scenario
//!   runs in a region of its own, queues the answers of its tasks in the
//!   order the fixture's path invokes them, and afterwards checks that the
//!   tasks invoked were exactly those, so every answer reached its task.
//! - The payment task's token is read where a provider would get it: the
//!   payload of its `TaskScheduled` event.

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// moto's default account: the one its Step Functions interpreter invokes
/// Lambda in, whatever credentials the test uses.
const ACCOUNT: &str = "123456789012";

/// One region per scenario: the canned Lambda answers are queued per
/// region, so scenarios running in parallel cannot take each other's.
const SCENARIO_REGIONS: &[(&str, &str)] = &[
    ("success", "eu-south-2"),
    ("declined", "ap-southeast-3"),
    ("out_of_stock", "me-central-1"),
    ("payment_timeout", "il-central-1"),
];

/// Far above the slowest scenario (the 2 s payment timeout).
const EXECUTION_DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn success_takes_the_fixture_path_in_moto() {
    run_scenario("success").await;
}

#[tokio::test]
async fn declined_takes_the_fixture_path_in_moto() {
    run_scenario("declined").await;
}

#[tokio::test]
async fn out_of_stock_takes_the_fixture_path_in_moto() {
    run_scenario("out_of_stock").await;
}

#[tokio::test]
async fn payment_timeout_takes_the_fixture_path_in_moto() {
    run_scenario("payment_timeout").await;
}

/// A scenario added to the fixture must get a case here too.
#[test]
fn every_fixture_scenario_runs_in_moto() {
    let mut in_fixture: Vec<String> = scenarios()
        .iter()
        .map(|s| s["name"].as_str().expect("scenario name").to_owned())
        .collect();
    let mut covered: Vec<String> = SCENARIO_REGIONS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    in_fixture.sort();
    covered.sort();
    assert_eq!(
        in_fixture, covered,
        "scenarios of the fixture vs. cases here"
    );
}

async fn run_scenario(name: &str) {
    let region = SCENARIO_REGIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("no region for scenario {name}"));
    let scenario = scenarios()
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("scenario {name} is not in the fixture"));
    let expected_path = strings(&scenario["path"]);
    let definition_text = definition_for(region);
    let definition: Value = serde_json::from_str(&definition_text).expect("definition is JSON");
    let invocations = invocations_along(&definition, &scenario, &expected_path);

    let endpoint = lite_dynamo::testing::MotoServer::shared().await;
    let http = reqwest::Client::new();
    moto_api(
        &http,
        &endpoint,
        "config",
        json!({"stepfunctions": {"execute_state_machine": true}, "lambda": {"use_docker": false}}),
    )
    .await;
    // Left over by an earlier, failed run against the same server.
    drain_lambda_answers(&http, &endpoint, region).await;
    let answers: Vec<&str> = invocations.iter().map(|(_, a)| a.as_str()).collect();
    moto_api(
        &http,
        &endpoint,
        "static/lambda-simple/response",
        json!({"account_id": ACCOUNT, "region": region, "results": answers}),
    )
    .await;

    let sfn = sfn_client(&endpoint, region);
    let machine = sfn
        .create_state_machine()
        .name(unique_name(name))
        .definition(&definition_text)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/checkout-saga"))
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn()
        .to_owned();
    let execution = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .input(fixture()["input"].to_string())
        .send()
        .await
        .expect("StartExecution")
        .execution_arn()
        .to_owned();

    let callback = Callback::of(&scenario["callback"]);
    let status = run_to_end(&sfn, &execution, &callback).await;
    let history = history(&sfn, &execution).await;
    let kinds: Vec<&str> = history.iter().map(|e| e.r#type().as_str()).collect();

    assert_eq!(
        entered_states(&history),
        expected_path,
        "{name}: states entered by moto (history: {kinds:?})"
    );
    assert_eq!(
        status.as_str(),
        scenario["status"].as_str().expect("scenario status"),
        "{name}: final status (history: {kinds:?})"
    );
    let invoked_tasks: Vec<String> = invocations.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        scheduled_tasks(&history),
        invoked_tasks,
        "{name}: Lambda tasks invoked, in order (each took the next queued answer)"
    );
    assert_eq!(
        drain_lambda_answers(&http, &endpoint, region).await,
        0,
        "{name}: canned Lambda answers left unused"
    );

    // Tidiness only: the server outlives this test when the test command
    // started it.
    let _ = sfn
        .delete_state_machine()
        .state_machine_arn(&machine)
        .send()
        .await;
}

/// How the fixture resumes the payment task's token.
enum Callback {
    /// The execution never reaches a callback task.
    None,
    /// The provider never answers: the task times out.
    Never,
    /// The provider answers with this output.
    Success(Value),
}

impl Callback {
    fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::None,
            Value::String(s) if s == "never" => Self::Never,
            Value::Object(o) if o.len() == 1 && o.contains_key("success") => {
                Self::Success(o["success"].clone())
            }
            other => panic!("unsupported callback in the fixture: {other}"),
        }
    }
}

/// Polls the execution until it ends, sending the callback once the payment
/// task has invoked its Lambda (as the provider's webhook would); returns
/// the final status.
async fn run_to_end(sfn: &Client, execution: &str, callback: &Callback) -> ExecutionStatus {
    let deadline = Instant::now() + EXECUTION_DEADLINE;
    let mut sent = false;
    loop {
        let status = sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .expect("DescribeExecution")
            .status()
            .clone();
        if status != ExecutionStatus::Running {
            if let Callback::Success(_) = callback {
                assert!(sent, "the execution ended before its payment callback");
            }
            return status;
        }
        if let (Callback::Success(output), false) = (callback, sent) {
            if let Some(token) = submitted_task_token(&history(sfn, execution).await) {
                sfn.send_task_success()
                    .task_token(token)
                    .output(output.to_string())
                    .send()
                    .await
                    .expect("SendTaskSuccess");
                sent = true;
            }
        }
        assert!(
            Instant::now() < deadline,
            "execution still running after {EXECUTION_DEADLINE:?} (callback sent: {sent})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token of the callback task whose Lambda invocation completed
/// (`TaskSubmitted`), read from the payload that Lambda received.
fn submitted_task_token(history: &[HistoryEvent]) -> Option<String> {
    let submitted = history
        .iter()
        .any(|e| e.r#type() == &HistoryEventType::TaskSubmitted);
    if !submitted {
        return None;
    }
    history
        .iter()
        .rev()
        .filter_map(scheduled_payload)
        .find_map(|p| p["taskToken"].as_str().map(str::to_owned))
}

/// The Lambda payload of a `TaskScheduled` event.
fn scheduled_payload(event: &HistoryEvent) -> Option<Value> {
    let details = event.task_scheduled_event_details()?;
    let parameters: Value =
        serde_json::from_str(details.parameters()).expect("TaskScheduled parameters are JSON");
    Some(parameters["Payload"].clone())
}

/// The `task` of every Lambda invocation, in order.
fn scheduled_tasks(history: &[HistoryEvent]) -> Vec<String> {
    history
        .iter()
        .filter_map(scheduled_payload)
        .map(|p| p["task"].as_str().unwrap_or("<no task>").to_owned())
        .collect()
}

/// The names of the states entered (`*StateEntered` events), in order.
fn entered_states(history: &[HistoryEvent]) -> Vec<String> {
    history
        .iter()
        .filter(|e| e.r#type().as_str().ends_with("StateEntered"))
        .filter_map(|e| e.state_entered_event_details())
        .map(|d| d.name().to_owned())
        .collect()
}

/// The whole history, oldest first.
async fn history(sfn: &Client, execution: &str) -> Vec<HistoryEvent> {
    let mut events = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(execution)
            .max_results(1000)
            .set_next_token(next_token)
            .send()
            .await
            .expect("GetExecutionHistory");
        events.extend_from_slice(page.events());
        match page.next_token() {
            Some(token) => next_token = Some(token.to_owned()),
            None => return events,
        }
    }
}

/// The Lambda invocations the fixture's path makes, with the answer each
/// gets: the fixture's answer for that task, or `{}` for a callback task,
/// whose invocation answer Step Functions discards (the callback is its
/// result).
fn invocations_along(
    definition: &Value,
    scenario: &Value,
    path: &[String],
) -> Vec<(String, String)> {
    path.iter()
        .filter_map(|state_name| {
            let state = &definition["States"][state_name.as_str()];
            assert!(
                state.is_object(),
                "the fixture's path names {state_name}, which the definition lacks"
            );
            if state["Type"] != "Task" {
                return None;
            }
            let resource = state["Resource"].as_str().unwrap_or_default();
            assert!(
                resource.starts_with("arn:aws:states:::lambda:invoke"),
                "{state_name}: only Lambda tasks can be stubbed in moto, not {resource}"
            );
            let function = state["Parameters"]["FunctionName"]
                .as_str()
                .unwrap_or_default();
            assert!(
                function.starts_with("arn:aws:lambda:"),
                "{state_name}: FunctionName {function:?} is not a substituted function ARN"
            );
            let task = state["Parameters"]["Payload"]["task"]
                .as_str()
                .unwrap_or_else(|| panic!("{state_name}: no Payload.task"))
                .to_owned();
            let answer = if resource.ends_with(".waitForTaskToken") {
                "{}".to_owned()
            } else {
                scenario["tasks"]
                    .get(&task)
                    .unwrap_or_else(|| panic!("the fixture has no answer for task {task}"))
                    .to_string()
            };
            Some((task, answer))
        })
        .collect()
}

/// The definition as deployed: every `${Name}` (a CDK definition
/// substitution) replaced by a Lambda function ARN in `region`. moto's simple
/// Lambda ignores the name, so a missed substitution would go unnoticed:
/// [`invocations_along`] checks that it happened.
fn definition_for(region: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("infra/checkout.asl.json"))
        .expect("reading infra/checkout.asl.json");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unterminated ${ in the definition");
        let name = &after[..end];
        let is_variable =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_variable {
            out.push_str(&format!(
                "arn:aws:lambda:{region}:{ACCOUNT}:function:checkout-{name}"
            ));
        } else {
            // Prose such as the "${...}" of the top-level Comment.
            out.push_str(&rest[start..start + 2 + end + 1]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Takes every queued Lambda answer of `region` and returns how many there
/// were: an invocation with an empty queue echoes its payload back.
async fn drain_lambda_answers(http: &reqwest::Client, endpoint: &str, region: &str) -> usize {
    let sentinel = json!({"drain": unique_name("sentinel")});
    // The region comes from the credential scope; moto checks no signature.
    // A JSON content type keeps the body from being read as a form.
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/{region}/lambda/aws4_request, SignedHeaders=host, Signature=0"
    );
    for drained in 0..1000 {
        let response = http
            .post(format!(
                "{endpoint}/2015-03-31/functions/checkout-drain/invocations"
            ))
            .header("Authorization", &authorization)
            .json(&sentinel)
            .send()
            .await
            .expect("Lambda Invoke on moto");
        assert!(
            response.status().is_success(),
            "Lambda Invoke on moto: {}",
            response.status()
        );
        let body: Value = response
            .json()
            .await
            .unwrap_or(Value::String("<not JSON>".into()));
        if body == sentinel {
            return drained;
        }
    }
    panic!("more than 1000 canned Lambda answers queued in {region}");
}

async fn moto_api(http: &reqwest::Client, endpoint: &str, path: &str, body: Value) {
    let response = http
        .post(format!("{endpoint}/moto-api/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /moto-api/{path}: {e}"));
    assert!(
        response.status().is_success(),
        "POST /moto-api/{path}: {}",
        response.status()
    );
}

fn sfn_client(endpoint: &str, region: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        // The workspace's SDK crates have no default HTTP client.
        .http_client(lite_aws::http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "lite-saga-tests",
        ))
        .build();
    Client::from_conf(config)
}

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/checkout-paths.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scenarios() -> Vec<Value> {
    fixture()["scenarios"]
        .as_array()
        .expect("fixture scenarios")
        .clone()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list of strings")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .expect("shared/saga lies two levels below the repository root")
        .to_path_buf()
}

/// Unique across test processes sharing one moto server.
fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}
