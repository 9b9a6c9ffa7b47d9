//! One order, many simultaneous cancels: exactly one answers 200, every
//! other one 409, and the order is cancelled once (one event, one purchase
//! decrement).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use lite_http::testing::customer_token;
use lite_service::Service;
use serde_json::{json, Value};
use tower::ServiceExt;

const ANN: &str = "usr_01JANN000000000000000000000";

async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    let req = match body {
        Some(b) => r
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => r.body(Body::empty()).unwrap(),
    };
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_cancels_give_one_200_and_nineteen_409s() {
    let ctx = lite_ports::testing::memory_context();
    let router = lite_http::testing::finish_for_tests(
        orders::Orders::new(ctx.clone())
            .router()
            .merge(cart::Cart::new(ctx.clone()).router()),
    );
    let ann = customer_token(ANN);
    let input: catalog::ProductInput = serde_json::from_value(json!({
        "sku": "ORD-RACE-001", "name": "Raced product", "category": "laptops",
        "brand": "Northwind", "price": {"amount": 1_000, "currency": "USD"}
    }))
    .unwrap();
    let product = catalog::create(&ctx, catalog::NewProduct::parse(input).unwrap())
        .await
        .unwrap()
        .id
        .to_string();
    let (s, b) = call(
        &router,
        Method::POST,
        "/v1/cart/items",
        &ann,
        None,
        Some(json!({"productId": product, "quantity": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, placed) = call(
        &router,
        Method::POST,
        "/v1/orders",
        &ann,
        Some("race"),
        Some(json!({
            "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"},
            "payment": {"method": "card", "token": "tok_visa"}
        })),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{placed}");
    let id = orders::domain::OrderId::parse(placed["id"].as_str().unwrap()).unwrap();
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
        let (router, path, ann) = (router.clone(), path.clone(), ann.clone());
        tokio::spawn(async move { call(&router, Method::POST, &path, &ann, None, None).await })
    });
    let mut statuses = Vec::new();
    for c in futures::future::join_all(cancels).await {
        let (s, body) = c.unwrap();
        if s == StatusCode::CONFLICT {
            assert_eq!(body["code"], "conflict", "{body}");
        }
        statuses.push(s);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 19), "{statuses:?}");

    // A later cancel is a 409 too: the same rule, raced or not.
    let (s, _) = call(&router, Method::POST, &path, &ann, None, None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, order) = call(
        &router,
        Method::GET,
        &format!("/v1/orders/{id}"),
        &ann,
        None,
        None,
    )
    .await;
    let history: Vec<&str> = order["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["PENDING", "CONFIRMED", "CANCELLED"]);
    assert!(
        !orders::read::has_purchased(ctx.store.as_ref(), ANN, &product)
            .await
            .unwrap()
    );
}
