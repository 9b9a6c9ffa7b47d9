//! A process that stops mid-execution loses nothing: a new `LocalSaga` on
//! the same redb file resumes every running execution.

mod common;

use common::*;
use lite_saga::{Saga, SagaError};
use lite_store::redb_store::RedbStore;
use lite_store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// One task, `Pay`, that waits for its token, with its timeout given by
/// `timeout_field` (`TimeoutSeconds` or `TimeoutSecondsPath`).
fn pay_with_token(timeout_field: &str, timeout: serde_json::Value) -> lite_saga::Definition {
    let mut pay = json!({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "pay", "Payload": {"taskToken.$": "$$.Task.Token"}},
        "End": true
    });
    pay[timeout_field] = timeout;
    definition(json!({"StartAt": "Pay", "States": {"Pay": pay}}))
}

fn def() -> lite_saga::Definition {
    definition(json!({
        "StartAt": "Route",
        "States": {
            "Route": {"Type": "Choice", "Choices": [
                {"Variable": "$.kind", "StringEquals": "token", "Next": "Pay"},
                {"Variable": "$.kind", "StringEquals": "slow", "Next": "Slow"}
            ], "Default": "Nap"},
            "Pay": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "pay", "Payload": {"taskToken.$": "$$.Task.Token"}},
                "TimeoutSeconds": 60, "ResultPath": "$.payment", "End": true
            },
            "Slow": {"Type": "Task", "Resource": "slow", "ResultPath": "$.slow", "End": true},
            "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Woke"},
            "Woke": {"Type": "Pass", "Result": true, "ResultPath": "$.woke", "End": true}
        }
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_process_resumes_tokens_timers_and_in_flight_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("table.redb");
    let token = {
        let store: Arc<dyn Store> = Arc::new(RedbStore::open(&file).unwrap());
        // The slow task never returns in this process.
        let (inv, mut tokens) = Scripted::new(|f, _, _| {
            if f == "slow" {
                std::thread::sleep(Duration::from_millis(200));
                Err(lite_saga::TaskError::new(
                    "Test.Crashed",
                    "never seen: the process is gone",
                ))
            } else {
                Ok(json!(null))
            }
        });
        let saga = local(store, def(), inv.clone(), 1.0);
        saga.start("tok", json!({"kind": "token"})).await.unwrap();
        saga.start("nap", json!({"kind": "nap"})).await.unwrap();
        let token = tokens.recv().await.unwrap();
        // The slow invocation is in flight when the process stops.
        saga.start("slow", json!({"kind": "slow"})).await.unwrap();
        while inv.calls_to("slow") == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The nap's driver runs on its own task: its Wait is written once
        // that task has stepped, which nothing above waits for.
        let nap = eventually(|| async {
            let view = saga.describe("nap").await.unwrap().unwrap();
            view.path().iter().any(|s| s == "Nap").then_some(view)
        })
        .await
        .expect("the nap's Wait is written");
        assert_eq!(nap.status, "RUNNING");
        assert_eq!(nap.path(), vec!["Route", "Nap"]);
        saga.shutdown().await;
        token
    };
    // Downtime longer than the Wait: the timer fires at once on resume.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let restarted = chrono::Utc::now();
    let store: Arc<dyn Store> = Arc::new(RedbStore::open(&file).unwrap());
    let (inv, _) = Scripted::new(|_, _, _| Ok(json!("second try")));
    let saga = local(store, def(), inv.clone(), 1.0);
    assert_eq!(saga.resume_all().await.unwrap(), 3);
    assert_eq!(saga.resume_all().await.unwrap(), 0, "already driven");

    let began = std::time::Instant::now();
    let nap = saga
        .wait_until_stopped("nap", Duration::from_secs(5))
        .await
        .unwrap();
    // The Wait was not begun again: entered once, before the restart, and
    // over in less than its second after it.
    let naps: Vec<_> = nap.history.iter().filter(|h| h.state == "Nap").collect();
    assert_eq!(naps.len(), 1);
    assert!(naps[0].entered_at < restarted);
    assert!(began.elapsed() < Duration::from_secs(1));
    assert_eq!(nap.output, Some(json!({"kind": "nap", "woke": true})));

    // At least once: the in-flight invocation is made again.
    let slow = saga
        .wait_until_stopped("slow", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        slow.output,
        Some(json!({"kind": "slow", "slow": "second try"}))
    );
    assert_eq!(inv.calls_to("slow"), 1);

    // The token from before the restart still works, once.
    assert_eq!(
        saga.describe("tok").await.unwrap().unwrap().status,
        "RUNNING"
    );
    assert_eq!(
        inv.calls_to("pay"),
        0,
        "a returned invocation is not made again"
    );
    saga.send_task_success(&token, json!({"paid": 1}))
        .await
        .unwrap();
    let tok = saga
        .wait_until_stopped("tok", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        tok.output,
        Some(json!({"kind": "token", "payment": {"paid": 1}}))
    );
    assert!(matches!(
        saga.send_task_success(&token, json!({})).await,
        Err(SagaError::TaskGone(_))
    ));
    assert_eq!(
        saga.resume_all().await.unwrap(),
        0,
        "nothing is running any more"
    );
    saga.shutdown().await;
}

/// A token resolved while no process drove the execution is applied on
/// resume, and a deadline that passed during downtime times the task out.
#[tokio::test]
async fn callbacks_and_deadlines_during_downtime() {
    let store = memory_store();
    let def = || pay_with_token("TimeoutSecondsPath", json!("$.timeout"));
    let (inv, mut tokens) = Scripted::new(|_, _, _| Ok(json!(null)));
    let first = local(store.clone(), def(), inv, 0.1);
    first.start("cb", json!({"timeout": 100})).await.unwrap();
    let cb = tokens.recv().await.unwrap();
    first.start("late", json!({"timeout": 2})).await.unwrap();
    let _late = tokens.recv().await.unwrap();
    first.shutdown().await;
    let (inv, _) = Scripted::new(|_, _, _| Ok(json!(null)));
    let second = local(store, def(), inv, 0.1);
    // Sent while nobody drives it: recorded on the token, applied on resume.
    second
        .send_task_success(&cb, json!({"ok": true}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(second.resume_all().await.unwrap(), 2);
    let cb = second
        .wait_until_stopped("cb", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(cb.output, Some(json!({"ok": true})));
    let late = second
        .wait_until_stopped("late", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(late.error.as_deref(), Some("States.Timeout"));
    second.shutdown().await;
}

/// Plain tasks in a row are not written one by one (each write is a commit
/// on the checkout's path): a restart continues from the last written
/// position and makes the plain invocations since then again, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tasks_since_the_last_write_are_made_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("table.redb");
    let def = || {
        definition(json!({
            "StartAt": "First",
            "States": {
                "First": {"Type": "Task", "Resource": "first", "ResultPath": "$.first", "Next": "Second"},
                "Second": {"Type": "Task", "Resource": "second", "ResultPath": "$.second", "End": true}
            }
        }))
    };
    {
        let store: Arc<dyn Store> = Arc::new(RedbStore::open(&file).unwrap());
        let (inv, _) = Scripted::new(|f, _, _| {
            if f == "second" {
                // In flight when the process stops.
                std::thread::sleep(Duration::from_millis(300));
            }
            Ok(json!(1))
        });
        let saga = local(store, def(), inv.clone(), 1.0);
        saga.start("run", json!({})).await.unwrap();
        while inv.calls_to("second") == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let running = saga.describe("run").await.unwrap().unwrap();
        assert_eq!(running.status, "RUNNING");
        assert_eq!(
            running.path(),
            vec!["First"],
            "the position as started: nothing written since"
        );
        saga.shutdown().await;
    }
    let store: Arc<dyn Store> = Arc::new(RedbStore::open(&file).unwrap());
    let (inv, _) = Scripted::new(|_, _, _| Ok(json!(2)));
    let saga = local(store, def(), inv.clone(), 1.0);
    assert_eq!(saga.resume_all().await.unwrap(), 1);
    let done = saga
        .wait_until_stopped("run", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.output, Some(json!({"first": 2, "second": 2})));
    assert_eq!(done.path(), vec!["First", "Second"]);
    assert_eq!((inv.calls_to("first"), inv.calls_to("second")), (1, 1));
    saga.shutdown().await;
}

/// The position of a token task whose invocation returned is written a
/// moment later (its callback usually comes first and writes the next
/// one), or at shutdown: either way a restart does not make it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_token_task_is_written_a_moment_later_or_at_shutdown() {
    let store = memory_store();
    let def = || pay_with_token("TimeoutSeconds", json!(60));
    let phase = |name: &'static str| written_phase(store.clone(), name);
    // When the last invocation returned: its position is written no
    // sooner than the delay after it.
    let returned = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
    let (inv, mut tokens) = Scripted::new({
        let returned = returned.clone();
        move |_, _, _| {
            *returned.lock().unwrap() = std::time::Instant::now();
            Ok(json!(null))
        }
    });
    let saga = local(store.clone(), def(), inv, 1.0);
    saga.start("later", json!({})).await.unwrap();
    tokens.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = phase("later").await;
    // On a busy machine this look may come after the delay; then either
    // phase is right, and the next look checks the write.
    if returned.lock().unwrap().elapsed() < Duration::from_millis(200) {
        assert_eq!(seen, "invoke", "not written yet");
    }
    let written = eventually(|| async { (phase("later").await == "token").then_some(()) }).await;
    assert!(written.is_some(), "written a moment later");

    saga.start("stopped", json!({})).await.unwrap();
    tokens.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    saga.shutdown().await;
    assert_eq!(phase("stopped").await, "token", "written at shutdown");
}

/// The phase of `name`'s written position: `invoke` (its task's invocation
/// made), `token` (waiting for the callback) or `other`.
async fn written_phase(store: Arc<dyn Store>, name: &str) -> &'static str {
    use lite_saga::frame::Phase;
    let exec = lite_saga::store::load(store.as_ref(), name)
        .await
        .unwrap()
        .unwrap();
    match exec.position.unwrap().phase {
        Phase::Invoke { .. } => "invoke",
        Phase::Token { .. } => "token",
        _ => "other",
    }
}

/// A token task's invocation that returned before the process stopped is
/// accounted for at shutdown even when the return and the shutdown reach
/// the driver together (on one thread, the shutdown is sent before the
/// driver runs again): its position is written, so a restart does not ask
/// the provider a second time.
#[tokio::test(flavor = "current_thread")]
async fn a_return_and_a_shutdown_arriving_together_still_write_the_position() {
    let store = memory_store();
    for n in 0..16 {
        let name = format!("together-{n}");
        let (inv, mut tokens) = Scripted::new(|_, _, _| Ok(json!(null)));
        let saga = local(
            store.clone(),
            pay_with_token("TimeoutSeconds", json!(60)),
            inv,
            1.0,
        );
        // A task of its own: the token wakes it before the invocation ends
        // and wakes the driver, so it runs first and its shutdown reaches
        // the driver with the return (a failure without the biased select).
        let stopper = {
            let (saga, name) = (saga.clone(), name.clone());
            tokio::spawn(async move {
                saga.start(&name, json!({})).await.unwrap();
                tokens.recv().await.unwrap();
                saga.shutdown().await;
            })
        };
        stopper.await.unwrap();
        assert_eq!(
            written_phase(store.clone(), &name).await,
            "token",
            "execution {name}: the returned invocation was not written at shutdown"
        );
    }
}
