//! Runtime flags, over HTTP against the real binary: the local API writes
//! `<data dir>/flags.json` with the defaults, and an edit of that file
//! changes what the running server does, without a restart — search on
//! the catalog listing, checkout paused, the payment timeout of new
//! checkouts.

use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use system_tests::{
    eventually, place_order, product_body, send, settled_order, shopper, stocked_product, Reply,
    Seed, TestApi,
};

/// The file is looked at once a second; consumers and the index lag a
/// little more.
const LAG: Duration = Duration::from_secs(60);

/// Replaces the flags file whole, as an editor does.
fn set_flags(data_dir: &Path, flags: Value) {
    let path = data_dir.join("flags.json");
    let tmp = data_dir.join("flags.json.edit");
    std::fs::write(&tmp, flags.to_string()).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

async fn search(api: &TestApi, query: &str) -> Reply {
    send(api.request(Method::GET, &format!("/v1/search?{query}"))).await
}

/// Whether a browse was answered by the engine (facets) or the catalog
/// listing (none).
fn from_engine(page: &Value) -> bool {
    !page["facets"]["brand"].as_array().unwrap().is_empty()
}

#[tokio::test]
async fn edits_of_the_flags_file_change_the_running_api() {
    let api = TestApi::spawn(Seed::None).await;
    let written = std::fs::read_to_string(api.data_dir().join("flags.json")).unwrap();
    let defaults: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        defaults,
        json!({"searchCatalogFallback": false, "checkoutPaused": false,
               "checkoutRetryAfterSeconds": 300, "paymentTimeoutSeconds": null})
    );
    let product = stocked_product(
        &api,
        product_body("FLG", "Flagship garden 2500", "garden", 2_500),
        20,
    )
    .await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    stocked_product(
        &api,
        product_body("FLG", "Flagship garden 1500", "garden", 1_500),
        20,
    )
    .await;
    let browse = "category=garden&sort=price_asc";
    eventually(LAG, "the index has both products", || async {
        let r = search(&api, browse).await;
        match r.body["items"].as_array().map(Vec::len) {
            Some(2) if from_engine(&r.body) => Ok(()),
            _ => Err(r.body.to_string()),
        }
    })
    .await;

    // 1. Search on the catalog listing. The payment timeout is flipped in
    //    the same edit: one file, so once search shows the change, the
    //    checkout starter reads it too.
    let shopper_a = shopper(&api, "Before").await;
    let before = place_order(&api, &shopper_a.token, &product_id, 1, "tok_noWebhook").await;
    set_flags(
        api.data_dir(),
        json!({"searchCatalogFallback": true, "paymentTimeoutSeconds": 2}),
    );
    eventually(LAG, "search answers from the catalog", || async {
        let r = search(&api, browse).await;
        if r.status == 200
            && !from_engine(&r.body)
            && r.body["items"].as_array().unwrap().len() == 2
        {
            Ok(())
        } else {
            Err(r.body.to_string())
        }
    })
    .await;
    search(&api, "q=flagship")
        .await
        .assert_problem(503, "unavailable");

    // 3. A new checkout waits 2 s for its payment (the default is 900 s):
    //    the provider never answers, so it fails on the timeout, while the
    //    checkout started before the edit still waits.
    let shopper_b = shopper(&api, "After").await;
    let after = place_order(&api, &shopper_b.token, &product_id, 1, "tok_noWebhook").await;
    let failed = settled_order(&api, &shopper_b.token, &after).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["failure"]["reason"], "payment_timeout", "{failed}");
    let waiting = send(
        api.request(Method::GET, &format!("/v1/orders/{before}"))
            .bearer_auth(&shopper_a.token),
    )
    .await;
    assert_eq!(waiting.body["status"], "PENDING", "{}", waiting.body);

    // 2. Checkout paused: 503 checkout_paused, nothing written.
    set_flags(
        api.data_dir(),
        json!({"checkoutPaused": true, "checkoutRetryAfterSeconds": 60}),
    );
    let shopper_c = shopper(&api, "Paused").await;
    let added = send(
        api.request(Method::POST, "/v1/cart/items")
            .bearer_auth(&shopper_c.token)
            .json(&json!({"productId": product_id, "quantity": 3})),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let place = || async {
        send(
            api.request(Method::POST, "/v1/orders")
                .bearer_auth(&shopper_c.token)
                .header("Idempotency-Key", "flags-paused-1")
                .json(&json!({"payment": {"method": "card", "token": "tok_visa"}})),
        )
        .await
    };
    let refused = eventually(LAG, "checkout is paused", || async {
        let r = place().await;
        if r.status == 503 {
            Ok(r)
        } else {
            Err(format!("{} {}", r.status, r.body))
        }
    })
    .await;
    refused.assert_problem(503, "checkout_paused");
    assert_eq!(refused.header("retry-after"), Some("60"));
    let orders = send(
        api.request(Method::GET, "/v1/orders")
            .bearer_auth(&shopper_c.token),
    )
    .await;
    assert_eq!(orders.body["items"], json!([]));
    let cart = send(
        api.request(Method::GET, "/v1/cart")
            .bearer_auth(&shopper_c.token),
    )
    .await;
    assert_eq!(cart.body["itemCount"], 3, "{}", cart.body);
    // Search is back on the engine (that flag is absent: off).
    assert!(from_engine(&search(&api, browse).await.body));

    // Unpaused: the same request places the order.
    set_flags(api.data_dir(), json!({}));
    eventually(LAG, "checkout takes orders again", || async {
        let r = place().await;
        if r.status == 202 {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.body))
        }
    })
    .await;
    let confirmed = {
        let orders = send(
            api.request(Method::GET, "/v1/orders")
                .bearer_auth(&shopper_c.token),
        )
        .await;
        orders.body["items"][0]["id"].as_str().unwrap().to_owned()
    };
    let settled = settled_order(&api, &shopper_c.token, &confirmed).await;
    assert_eq!(settled["status"], "CONFIRMED", "{settled}");
}
