//! The interpreter end to end on redb: tasks, retries, catches, tokens,
//! timeouts, Parallel, Wait.

mod common;

use common::*;
use lite_saga::{Saga, SagaError, Started, TaskError};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn ok(v: Value) -> Result<Value, TaskError> {
    Ok(v)
}

#[tokio::test]
async fn runs_tasks_with_templates_and_result_paths() {
    let def = definition(json!({
        "StartAt": "Reserve",
        "States": {
            "Reserve": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "reserve", "Payload": {"id.$": "$.id", "exec.$": "$$.Execution.Name", "state.$": "$$.State.Name"}},
                "ResultSelector": {"ok.$": "$.Payload.ok", "code.$": "$.StatusCode"},
                "ResultPath": "$.reserve", "Next": "Plain"
            },
            "Plain": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:plain", "InputPath": "$.reserve", "ResultPath": "$.plain", "Next": "Drop"},
            "Drop": {"Type": "Task", "Resource": "drop", "ResultPath": null, "OutputPath": "$.plain", "End": true}
        }
    }));
    let (inv, _) = Scripted::new(|f, p, _| match f {
        "reserve" => ok(json!({"ok": true, "echo": p})),
        "arn:aws:lambda:us-east-1:1:function:plain" => ok(json!({"got": p})),
        _ => ok(json!("ignored")),
    });
    let saga = local(memory_store(), def, inv.clone(), 0.01);
    let started = saga.start("ex-1", json!({"id": 7})).await.unwrap();
    assert!(matches!(started, Started::New { .. }));
    let view = saga.wait_until_stopped("ex-1", WAIT).await.unwrap();
    assert_eq!(view.status, "SUCCEEDED");
    assert_eq!(view.output, Some(json!({"got": {"ok": true, "code": 200}})));
    assert_eq!(view.path(), vec!["Reserve", "Plain", "Drop"]);
    let calls = inv.calls.lock().unwrap().clone();
    assert_eq!(
        calls[0].1,
        json!({"id": 7, "exec": "ex-1", "state": "Reserve"})
    );
    // The same name again starts nothing.
    let again = saga.start("ex-1", json!({"id": 8})).await.unwrap();
    assert!(matches!(again, Started::Existing { .. }));
    assert_eq!(inv.calls_to("reserve"), 1);
    assert!(matches!(
        saga.start("bad name", json!({})).await,
        Err(SagaError::Invalid(_))
    ));
    saga.shutdown().await;
}

fn retrying(max_attempts: u32) -> Value {
    json!({
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task", "Resource": "work", "ResultPath": "$.work",
                "Retry": [{"ErrorEquals": ["Checkout.Transient"], "IntervalSeconds": 1, "MaxAttempts": max_attempts, "BackoffRate": 2}],
                "Catch": [
                    {"ErrorEquals": ["Checkout.Declined"], "ResultPath": "$.declined", "Next": "Declined"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "Next": "Done"
            },
            "Done": {"Type": "Succeed"},
            "Declined": {"Type": "Pass", "Result": "declined", "ResultPath": "$.branch", "End": true},
            "Caught": {"Type": "Fail", "Error": "Work.Failed", "CausePath": "$.error.Cause"}
        }
    })
}

#[tokio::test]
async fn retries_then_succeeds() {
    let (inv, _) = Scripted::new(|_, _, n| {
        if n < 3 {
            Err(TaskError::new("Checkout.Transient", format!("attempt {n}")))
        } else {
            ok(json!(n))
        }
    });
    let saga = local(memory_store(), definition(retrying(3)), inv.clone(), 0.01);
    let began = std::time::Instant::now();
    saga.start("r", json!({})).await.unwrap();
    let view = saga.wait_until_stopped("r", WAIT).await.unwrap();
    assert_eq!(view.status, "SUCCEEDED");
    assert_eq!(view.output, Some(json!({"work": 3})));
    assert_eq!(inv.calls_to("work"), 3);
    // Backoff 1 s then 2 s, scaled by 0.01: at least 30 ms.
    assert!(began.elapsed() >= Duration::from_millis(30));
    assert_eq!(view.path(), vec!["Work", "Done"]);
    saga.shutdown().await;
}

#[tokio::test]
async fn exhausted_retries_go_to_catch() {
    let (inv, _) =
        Scripted::new(|_, _, n| Err(TaskError::new("Checkout.Transient", format!("attempt {n}"))));
    let saga = local(memory_store(), definition(retrying(2)), inv.clone(), 0.01);
    saga.start("x", json!({"a": 1})).await.unwrap();
    let view = saga.wait_until_stopped("x", WAIT).await.unwrap();
    assert_eq!(inv.calls_to("work"), 3, "one try and two retries");
    assert_eq!(view.status, "FAILED");
    assert_eq!(view.error.as_deref(), Some("Work.Failed"));
    assert_eq!(view.cause.as_deref(), Some("attempt 3"));
    assert_eq!(view.path(), vec!["Work", "Caught"]);
    saga.shutdown().await;
}

#[tokio::test]
async fn a_specific_catch_comes_before_states_all_and_is_not_retried() {
    let (inv, _) = Scripted::new(|_, _, _| Err(TaskError::new("Checkout.Declined", "no")));
    let saga = local(memory_store(), definition(retrying(3)), inv.clone(), 0.01);
    saga.start("d", json!({"a": 1})).await.unwrap();
    let view = saga.wait_until_stopped("d", WAIT).await.unwrap();
    assert_eq!(inv.calls_to("work"), 1);
    assert_eq!(view.status, "SUCCEEDED");
    assert_eq!(
        view.output,
        Some(
            json!({"a": 1, "declined": {"Error": "Checkout.Declined", "Cause": "no"}, "branch": "declined"})
        )
    );
    assert_eq!(view.path(), vec!["Work", "Declined"]);
    saga.shutdown().await;
}

#[tokio::test]
async fn a_runtime_error_fails_the_execution_uncaught() {
    let def = definition(json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Task", "Resource": "f", "InputPath": "$.missing", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
            "C": {"Type": "Succeed"}
        }
    }));
    let (inv, _) = Scripted::new(|_, _, _| ok(json!(1)));
    let saga = local(memory_store(), def, inv.clone(), 0.01);
    saga.start("rt", json!({})).await.unwrap();
    let view = saga.wait_until_stopped("rt", WAIT).await.unwrap();
    assert_eq!(view.status, "FAILED");
    assert_eq!(view.error.as_deref(), Some("States.Runtime"));
    assert_eq!(inv.calls_to("f"), 0);
    saga.shutdown().await;
}

fn waiting(timeout_seconds: u64) -> Value {
    json!({
        "StartAt": "Pay",
        "States": {
            "Pay": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "pay", "Payload": {"taskToken.$": "$$.Task.Token", "n.$": "$.n"}},
                "TimeoutSeconds": timeout_seconds,
                "ResultPath": "$.payment",
                "Catch": [
                    {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"},
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refused"}
                ],
                "End": true
            },
            "TimedOut": {"Type": "Pass", "Result": "timeout", "ResultPath": "$.outcome", "End": true},
            "Refused": {"Type": "Pass", "Result": "refused", "ResultPath": "$.outcome", "End": true}
        }
    })
}

#[tokio::test]
async fn wait_for_task_token_resumed_by_success_and_by_failure() {
    let (inv, mut tokens) = Scripted::new(|_, _, _| ok(json!("accepted")));
    let saga = local(memory_store(), definition(waiting(60)), inv.clone(), 1.0);
    saga.start("ok", json!({"n": 1})).await.unwrap();
    let token = tokens.recv().await.unwrap();
    assert!(token.len() >= 43, "32 random bytes in base64url");
    let running = saga.describe("ok").await.unwrap().unwrap();
    assert_eq!(running.status, "RUNNING");
    saga.send_task_success(&token, json!({"authorized": true}))
        .await
        .unwrap();
    let view = saga.wait_until_stopped("ok", WAIT).await.unwrap();
    assert_eq!(
        view.output,
        Some(json!({"n": 1, "payment": {"authorized": true}}))
    );
    // Used twice: gone.
    assert!(matches!(
        saga.send_task_success(&token, json!({})).await,
        Err(SagaError::TaskGone(_))
    ));
    assert!(matches!(
        saga.send_task_failure(&token, "E", "c").await,
        Err(SagaError::TaskGone(_))
    ));
    assert!(matches!(
        saga.send_task_success("bogus", json!({})).await,
        Err(SagaError::TaskGone(_))
    ));

    saga.start("ko", json!({"n": 2})).await.unwrap();
    let token = tokens.recv().await.unwrap();
    saga.send_task_failure(&token, "Payment.Declined", "card")
        .await
        .unwrap();
    let view = saga.wait_until_stopped("ko", WAIT).await.unwrap();
    assert_eq!(
        view.output,
        Some(
            json!({"n": 2, "error": {"Error": "Payment.Declined", "Cause": "card"}, "outcome": "refused"})
        )
    );
    saga.shutdown().await;
}

/// The handler answers for its own token before its invocation returns.
#[tokio::test]
async fn a_handler_may_resume_its_token_synchronously() {
    let slot: Arc<std::sync::OnceLock<Arc<lite_saga::LocalSaga>>> =
        Arc::new(std::sync::OnceLock::new());
    struct Sync(Arc<std::sync::OnceLock<Arc<lite_saga::LocalSaga>>>);
    #[async_trait::async_trait]
    impl lite_saga::TaskInvoker for Sync {
        async fn invoke(&self, _: &str, payload: Value) -> Result<Value, TaskError> {
            let token = payload["taskToken"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let saga = self.0.get().expect("saga set").clone();
            saga.send_task_success(&token, json!({"sync": true}))
                .await
                .map_err(|e| TaskError::new("Test.Callback", e.to_string()))?;
            Ok(json!(null))
        }
    }
    let saga = local(
        memory_store(),
        definition(waiting(60)),
        Arc::new(Sync(slot.clone())),
        1.0,
    );
    let _ = slot.set(saga.clone());
    saga.start("sync", json!({"n": 3})).await.unwrap();
    let view = saga.wait_until_stopped("sync", WAIT).await.unwrap();
    assert_eq!(
        view.output,
        Some(json!({"n": 3, "payment": {"sync": true}}))
    );
    saga.shutdown().await;
}

#[tokio::test]
async fn a_token_after_its_timeout_is_gone() {
    let (inv, mut tokens) = Scripted::new(|_, _, _| ok(json!(null)));
    let saga = local(memory_store(), definition(waiting(1)), inv, 0.05);
    saga.start("late", json!({"n": 1})).await.unwrap();
    let token = tokens.recv().await.unwrap();
    let view = saga.wait_until_stopped("late", WAIT).await.unwrap();
    assert_eq!(view.output.as_ref().unwrap()["outcome"], json!("timeout"));
    assert_eq!(
        view.output.as_ref().unwrap()["error"]["Error"],
        json!("States.Timeout")
    );
    assert!(matches!(
        saga.send_task_success(&token, json!({})).await,
        Err(SagaError::TaskGone(_))
    ));
    saga.shutdown().await;
}

/// A callback racing the timeout: exactly one of them wins, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_callback_race_has_one_winner() {
    let (inv, mut tokens) = Scripted::new(|_, _, _| ok(json!(null)));
    // TimeoutSeconds 1 at scale 0.02: the deadline is 20 ms after the start.
    let saga = local(memory_store(), definition(waiting(1)), inv, 0.02);
    let (mut wins, mut losses) = (0, 0);
    for i in 0..40 {
        let name = format!("race-{i}");
        saga.start(&name, json!({"n": i})).await.unwrap();
        let token = tokens.recv().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10 + (i % 15))).await;
        let sent = saga.send_task_success(&token, json!({"won": true})).await;
        let view = saga.wait_until_stopped(&name, WAIT).await.unwrap();
        let out = view.output.unwrap();
        match sent {
            Ok(()) => {
                wins += 1;
                assert_eq!(out["payment"], json!({"won": true}), "{name}");
                assert!(out.get("outcome").is_none());
            }
            Err(SagaError::TaskGone(_)) => {
                losses += 1;
                assert_eq!(out["outcome"], json!("timeout"), "{name}");
                assert!(out.get("payment").is_none());
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert_eq!(wins + losses, 40);
    saga.shutdown().await;
}

#[tokio::test]
async fn parallel_branches_and_failures() {
    let def = definition(json!({
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel", "ResultPath": "$.both", "Next": "Done",
                "Parameters": {"x.$": "$.x"},
                "Catch": [{"ErrorEquals": ["Branch.Bad"], "ResultPath": "$.error", "Next": "Caught"}],
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "a", "End": true}}},
                    {"StartAt": "B", "States": {
                        "B": {"Type": "Wait", "Seconds": 1, "Next": "B2"},
                        "B2": {"Type": "Pass", "Parameters": {"b.$": "$.x"}, "End": true}
                    }}
                ]
            },
            "Done": {"Type": "Succeed"},
            "Caught": {"Type": "Succeed"}
        }
    }));
    let (inv, _) = Scripted::new(|_, p, _| {
        if p["x"] == json!("bad") {
            Err(TaskError::new("Branch.Bad", "bad x"))
        } else {
            ok(json!({"a": p["x"]}))
        }
    });
    let saga = local(memory_store(), def, inv, 0.01);
    saga.start("p", json!({"x": 5})).await.unwrap();
    let view = saga.wait_until_stopped("p", WAIT).await.unwrap();
    assert_eq!(
        view.output,
        Some(json!({"x": 5, "both": [{"a": 5}, {"b": 5}]}))
    );
    let mut path = view.path();
    path.sort();
    assert_eq!(path, vec!["A", "B", "B2", "Both", "Done"]);

    saga.start("pbad", json!({"x": "bad"})).await.unwrap();
    let view = saga.wait_until_stopped("pbad", WAIT).await.unwrap();
    assert_eq!(view.status, "SUCCEEDED");
    assert_eq!(
        view.output.unwrap()["error"],
        json!({"Error": "Branch.Bad", "Cause": "bad x"})
    );
    assert_eq!(view.history.last().unwrap().state, "Caught");
    saga.shutdown().await;
}

#[tokio::test]
async fn wait_states_wait() {
    let def = definition(json!({
        "StartAt": "W1",
        "States": {
            "W1": {"Type": "Wait", "Seconds": 5, "Next": "W2"},
            "W2": {"Type": "Wait", "SecondsPath": "$.s", "Next": "W3"},
            "W3": {"Type": "Wait", "TimestampPath": "$.at", "Next": "W4"},
            "W4": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": true}
        }
    }));
    let (inv, _) = Scripted::new(|_, _, _| ok(json!(null)));
    let saga = local(memory_store(), def, inv, 0.02);
    let at = lite_core::rfc3339(chrono::Utc::now() + chrono::Duration::milliseconds(300));
    let began = std::time::Instant::now();
    saga.start("w", json!({"s": 5, "at": at})).await.unwrap();
    let view = saga.wait_until_stopped("w", WAIT).await.unwrap();
    assert_eq!(view.status, "SUCCEEDED");
    assert_eq!(view.path(), vec!["W1", "W2", "W3", "W4"]);
    // 100 ms + 100 ms scaled, and the absolute timestamp 300 ms out.
    assert!(
        began.elapsed() >= Duration::from_millis(290),
        "{:?}",
        began.elapsed()
    );
    let bad = local(
        memory_store(),
        definition(
            json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}),
        ),
        Scripted::new(|_, _, _| ok(json!(null))).0,
        0.01,
    );
    bad.start("w", json!({"s": "soon"})).await.unwrap();
    let view = bad.wait_until_stopped("w", WAIT).await.unwrap();
    assert_eq!(view.error.as_deref(), Some("States.Runtime"));
    saga.shutdown().await;
    bad.shutdown().await;
}

#[tokio::test]
async fn choice_routes_and_no_match_fails() {
    let def = definition(json!({
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [
                {"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.s", "StringMatches": "a*"}], "Next": "Big"}
            ]},
            "Big": {"Type": "Succeed"}
        }
    }));
    let saga = local(
        memory_store(),
        def,
        Scripted::new(|_, _, _| ok(json!(null))).0,
        0.01,
    );
    saga.start("yes", json!({"n": 2, "s": "abc"}))
        .await
        .unwrap();
    saga.start("no", json!({"n": 0, "s": "abc"})).await.unwrap();
    assert_eq!(
        saga.wait_until_stopped("yes", WAIT).await.unwrap().path(),
        vec!["C", "Big"]
    );
    let no = saga.wait_until_stopped("no", WAIT).await.unwrap();
    assert_eq!(no.error.as_deref(), Some("States.NoChoiceMatched"));
    saga.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_executions_run_concurrently() {
    let (inv, _) = Scripted::new(|_, p, _| ok(p.clone()));
    let def = definition(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "t", "End": true}}}),
    );
    let saga = local(memory_store(), def, inv.clone(), 0.01);
    let starts: Vec<_> = (0..200)
        .map(|i| {
            let saga = saga.clone();
            tokio::spawn(async move { saga.start(&format!("c{i}"), json!({"i": i})).await })
        })
        .collect();
    for s in starts {
        assert!(matches!(s.await.unwrap().unwrap(), Started::New { .. }));
    }
    for i in 0..200 {
        let view = saga
            .wait_until_stopped(&format!("c{i}"), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(view.output, Some(json!({"i": i})));
    }
    assert_eq!(inv.calls_to("t"), 200);
    saga.shutdown().await;
}
