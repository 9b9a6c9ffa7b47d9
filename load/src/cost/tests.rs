//! One checkout through the counting system: the counts that do not depend
//! on timing are exact.

use super::flows;
use super::ports::TASK_FUNCTION;
use super::store::RELAY_FUNCTION;
use super::system::MeteredSystem;

/// The states the saga enters on the success path, as both interpreters
/// must (`shared/saga/testdata/checkout-paths.json`).
fn success_path() -> Vec<String> {
    let paths: serde_json::Value = serde_json::from_str(include_str!(
        "../../../shared/saga/testdata/checkout-paths.json"
    ))
    .unwrap();
    paths["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "success")
        .unwrap()["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_checkout_counts_exactly() {
    let sys = MeteredSystem::start().await.unwrap();
    amazon_lite::seed::demo(&sys.system.ctx).await.unwrap();
    let shoppers = flows::shoppers(sys.raw_store(), 1).await.unwrap();
    sys.settle().await;
    let client = reqwest::Client::new();
    let products = flows::product_ids(&sys, &client).await.unwrap();
    sys.meter.reset();
    flows::checkout(&sys, &client, &shoppers[0], &products[0])
        .await
        .unwrap();
    sys.settle().await;
    let t = sys.meter.snapshot();
    sys.stop().await;

    // Seven HTTP requests, the card network's webhook among them, each one
    // invocation of its route's function.
    assert_eq!(t.api_requests, flows::CHECKOUT_REQUESTS.len() as u64);
    for function in [
        "catalog-list-products",
        "catalog-get-product",
        "cart-add-item",
        "cart-get",
        "orders-place",
        "payments-webhook",
        "orders-get",
    ] {
        assert_eq!(t.lambda[function].invocations, 1, "{function}: {t:#?}");
    }
    // One execution on the success path: one transition per state entered,
    // one checkout-task invocation per Task state.
    let path = success_path();
    assert_eq!(t.executions, 1);
    assert_eq!(t.transitions, path.len() as u64);
    let tasks = [
        "ReserveStock",
        "AuthorizePayment",
        "CommitStock",
        "ConfirmOrder",
    ];
    assert_eq!(
        path.iter().filter(|s| tasks.contains(&s.as_str())).count(),
        4
    );
    assert_eq!(t.lambda[TASK_FUNCTION].invocations, 4, "{t:#?}");
    // Every event delivered once: one send, one receive, one delete per
    // delivery; each receive one consumer invocation.
    let (send, receive, delete) = (
        t.sqs_total("SendMessage"),
        t.sqs_total("ReceiveMessage"),
        t.sqs_total("DeleteMessage"),
    );
    assert!(send > 0 && send == receive && receive == delete, "{t:#?}");
    assert!(
        t.eventbridge_entries >= 2,
        "order.created and cart.checked_out: {t:#?}"
    );
    let consumer_invocations: u64 = t
        .lambda
        .iter()
        .filter(|(name, _)| {
            ![TASK_FUNCTION, RELAY_FUNCTION].contains(&name.as_str())
                && !flows::CHECKOUT_FUNCTIONS.contains(&name.as_str())
        })
        .map(|(_, f)| f.invocations)
        .sum();
    assert_eq!(consumer_invocations, receive, "{t:#?}");
    // The order's transaction and the stock's: nothing failed its condition.
    assert!(t.requests("TransactWriteItems") >= 1);
    assert_eq!(t.dynamo.failed_conditions, 0, "{t:#?}");
    assert!(t.lambda[RELAY_FUNCTION].invocations >= 1);
    // The confirmation e-mail.
    assert!(t.emails >= 1, "{t:#?}");
    // The local transports' own store work was left out of DynamoDB.
    assert!(!t.local_only.is_empty());
}
