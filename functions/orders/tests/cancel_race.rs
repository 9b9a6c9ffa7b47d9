//! One order, many simultaneous cancels: exactly one answers 200, every
//! other one 409, and the order is cancelled once (one event, one purchase
//! decrement).

mod common;

use common::{add_to_cart, place, shop, ANN};
use lite_http::testing::{customer_token, TestClient};

async fn cancel(client: &TestClient, path: &str, token: &str) -> lite_http::testing::TestResponse {
    client.post(path).bearer(Some(token)).send().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_cancels_give_one_200_and_nineteen_409s() {
    let ctx = lite_ports::testing::memory_context();
    let client = shop(&ctx, orders::Orders::new(ctx.clone()));
    let ann = customer_token(ANN);
    let product = common::product(&ctx, "ORD-RACE-001", 1_000).await;
    add_to_cart(&client, &ann, &product, 1).await;
    let placed = place(&client, &ann, "race").await;
    assert_eq!(placed.status, 202, "{}", placed.json);
    let id = orders::domain::OrderId::parse(placed.json["id"].as_str().unwrap()).unwrap();
    orders::saga::confirm(&ctx, &id, "pay_01JPAY00000000000000000000", "c")
        .await
        .unwrap();
    assert!(
        orders::read::has_purchased(ctx.store.as_ref(), ANN, &product)
            .await
            .unwrap()
    );

    let path = format!("/v1/orders/{id}/cancel");
    let cancels = (0..20).map(|_| {
        let (client, path, ann) = (client.clone(), path.clone(), ann.clone());
        tokio::spawn(async move { cancel(&client, &path, &ann).await })
    });
    let mut statuses = Vec::new();
    for c in futures::future::join_all(cancels).await {
        let r = c.unwrap();
        if r.status == 409 {
            assert_eq!(r.json["code"], "conflict", "{}", r.json);
        }
        statuses.push(r.status);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let conflict = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((ok, conflict), (1, 19), "{statuses:?}");

    // A later cancel is a 409 too: the same rule, raced or not.
    assert_eq!(cancel(&client, &path, &ann).await.status, 409);
    let order = client
        .get(&format!("/v1/orders/{id}"))
        .bearer(Some(&ann))
        .send()
        .await
        .json;
    assert_eq!(
        common::statuses(&order),
        ["PENDING", "CONFIRMED", "CANCELLED"]
    );
    assert!(
        !orders::read::has_purchased(ctx.store.as_ref(), ANN, &product)
            .await
            .unwrap()
    );
}
