//! `infra/checkout.asl.json` as deployed, with a scripted invoker, through
//! every scenario of `testdata/checkout-paths.json`: the exact states
//! entered, in order, and the final status.

mod common;

use common::*;
use lite_saga::{Definition, Saga};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const FUNCTIONS: [&str; 7] = [
    "ReserveStockFunction",
    "AuthorizePaymentFunction",
    "CommitStockFunction",
    "ConfirmOrderFunction",
    "VoidPaymentFunction",
    "ReleaseStockFunction",
    "FailOrderFunction",
];

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkout_definition_takes_the_fixture_paths() {
    let subs: HashMap<String, String> = FUNCTIONS
        .iter()
        .map(|f| {
            (
                f.to_string(),
                format!("arn:aws:lambda:us-east-1:123456789012:function:{f}"),
            )
        })
        .collect();
    let def = Definition::parse(&read("../../infra/checkout.asl.json"), &subs).unwrap();
    let fixture: Value = serde_json::from_str(&read("testdata/checkout-paths.json")).unwrap();
    let scenarios = fixture["scenarios"].as_array().unwrap().clone();
    assert_eq!(scenarios.len(), 4);
    let by_order: HashMap<String, Value> = scenarios
        .iter()
        .map(|s| (format!("ord-{}", s["name"].as_str().unwrap()), s.clone()))
        .collect();
    // Each task answers as its scenario says; the payment task hands its
    // token to the test, which answers as `callback` says.
    let (inv, mut tokens) = Scripted::new(move |function, payload, _| {
        let scenario = &by_order[payload["orderId"].as_str().unwrap_or_default()];
        let task = payload["task"].as_str().unwrap_or_default();
        assert!(
            function.ends_with(&format!(":{}Function", capitalized(task))),
            "{function} for {task}"
        );
        if task == "authorizePayment" {
            return Ok(json!({"accepted": true}));
        }
        Ok(scenario["tasks"][task].clone())
    });
    let saga = local(memory_store(), def, inv.clone(), 1.0);
    for s in &scenarios {
        let mut input = fixture["input"].clone();
        input["orderId"] = json!(format!("ord-{}", s["name"].as_str().unwrap()));
        saga.start(s["name"].as_str().unwrap(), input)
            .await
            .unwrap();
    }
    // Answer the payment callbacks of the scenarios that have one.
    let answering = {
        let saga = saga.clone();
        let scenarios = scenarios.clone();
        let calls = inv.clone();
        tokio::spawn(async move {
            while let Some(token) = tokens.recv().await {
                let order = calls
                    .calls
                    .lock()
                    .unwrap()
                    .iter()
                    .rev()
                    .find(|(_, p)| p["taskToken"] == json!(token))
                    .map(|(_, p)| p["orderId"].as_str().unwrap_or_default().to_string())
                    .unwrap();
                let s = scenarios
                    .iter()
                    .find(|s| format!("ord-{}", s["name"].as_str().unwrap()) == order)
                    .unwrap();
                if let Some(output) = s["callback"].get("success") {
                    saga.send_task_success(&token, output.clone())
                        .await
                        .unwrap();
                }
            }
        })
    };
    for s in &scenarios {
        let name = s["name"].as_str().unwrap();
        let view = saga
            .wait_until_stopped(name, Duration::from_secs(20))
            .await
            .unwrap();
        let expected: Vec<String> = serde_json::from_value(s["path"].clone()).unwrap();
        assert_eq!(view.path(), expected, "scenario {name}");
        assert_eq!(
            view.status,
            s["status"].as_str().unwrap(),
            "scenario {name}"
        );
    }
    // The payment answer reached ConfirmOrder: `paymentId` from the callback.
    let confirm = inv
        .calls
        .lock()
        .unwrap()
        .iter()
        .find(|(_, p)| p["task"] == "confirmOrder")
        .map(|(_, p)| p.clone())
        .unwrap();
    assert_eq!(
        confirm["paymentId"],
        json!("pay_01JTEST0000000000000000000")
    );
    let declined = saga.describe("declined").await.unwrap().unwrap();
    assert_eq!(
        declined.output.unwrap()["failure"],
        json!({"reason": "payment_declined", "detail": "card_declined"})
    );
    let timeout = saga.describe("payment_timeout").await.unwrap().unwrap();
    assert_eq!(
        timeout.output.unwrap()["error"]["Error"],
        json!("States.Timeout")
    );
    answering.abort();
    saga.shutdown().await;
}

fn capitalized(task: &str) -> String {
    let mut c = task.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
