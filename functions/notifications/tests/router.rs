//! `GET /v1/me/notifications` without a socket (`oneshot`): the caller's
//! notifications only, newest first, keyset pages with signed cursors.

mod support;

use axum::http::StatusCode;
use lite_http::testing::{customer_token, finish_for_tests, TestClient};
use lite_service::Service;
use serde_json::Value;
use support::*;

async fn get(w: &World, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let router = notifications::Notifications::new(w.ctx.clone(), w.notifier.clone()).router();
    let r = TestClient::new(finish_for_tests(router))
        .get(uri)
        .bearer(token)
        .send()
        .await;
    (r.status, r.json)
}

fn at(item: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(item["createdAt"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// `user_id` is told that each of `n` new orders shipped; the order ids,
/// oldest first.
async fn shipments(w: &World, user_id: &str, n: usize) -> Vec<String> {
    let mut orders = Vec::new();
    for _ in 0..n {
        let order = new_id("ord");
        w.deliver(&w.event(&shipped(user_id, &order)))
            .await
            .unwrap();
        orders.push(order);
    }
    orders
}

#[tokio::test]
async fn without_a_token_it_is_401() {
    let w = world();
    let (status, body) = get(&w, "/v1/me/notifications", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn the_caller_sees_their_notifications_newest_first() {
    let w = world();
    let ada = w.user("Ada").await;
    w.deliver(&w.event(&confirmed(&ada, "ord_first")))
        .await
        .unwrap();
    let orders = shipments(&w, &ada, 1).await;
    let (status, body) = get(&w, "/v1/me/notifications", Some(&customer_token(&ada))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let newest = &items[0];
    assert_eq!(newest["eventType"], "order.shipped");
    assert_eq!(newest["orderId"], orders[0].as_str());
    assert_eq!(newest["channel"], "email");
    assert_eq!(
        newest["subject"],
        format!("Your order {} is on its way", orders[0])
    );
    assert!(newest["body"].as_str().unwrap().starts_with("Hello Ada,"));
    assert!(newest["id"].as_str().unwrap().starts_with("ntf_"));
    assert_eq!(at(newest), start() + chrono::Duration::seconds(2));
    assert_eq!(items[1]["eventType"], "order.confirmed");
    assert_eq!(at(&items[1]), start() + chrono::Duration::seconds(1));
    let mut keys: Vec<&str> = newest
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "body",
            "channel",
            "createdAt",
            "eventType",
            "id",
            "orderId",
            "subject"
        ]
    );
}

#[tokio::test]
async fn pages_walk_every_notification_once_in_order() {
    let w = world();
    let ada = w.user("Ada").await;
    let mut expected = shipments(&w, &ada, 7).await;
    expected.reverse();
    let token = customer_token(&ada);
    let mut seen = Vec::new();
    let mut uri = "/v1/me/notifications?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let (status, body) = get(&w, &uri, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for item in body["items"].as_array().unwrap() {
            seen.push(item["orderId"].as_str().unwrap().to_owned());
        }
        match body["nextCursor"].as_str() {
            Some(c) => uri = format!("/v1/me/notifications?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert!((3..=4).contains(&pages), "{pages}");
}

#[tokio::test]
async fn nobody_sees_anothers_notifications_nor_uses_their_cursor() {
    let w = world();
    let (ada, bob) = (w.user("Ada").await, w.user("Bob").await);
    shipments(&w, &ada, 3).await;
    let bobs = shipments(&w, &bob, 1).await;
    let (_, body) = get(&w, "/v1/me/notifications", Some(&customer_token(&bob))).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["orderId"], bobs[0].as_str());

    let (_, page) = get(
        &w,
        "/v1/me/notifications?limit=1",
        Some(&customer_token(&ada)),
    )
    .await;
    let cursor = page["nextCursor"].as_str().unwrap();
    let (status, body) = get(
        &w,
        &format!("/v1/me/notifications?cursor={cursor}"),
        Some(&customer_token(&bob)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "cursor");

    // A user who was never told anything gets an empty page.
    let carol = w.user("Carol").await;
    let (status, body) = get(&w, "/v1/me/notifications", Some(&customer_token(&carol))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"], serde_json::json!([]));
    assert_eq!(body["nextCursor"], Value::Null);
}

#[tokio::test]
async fn bad_limits_cursors_and_parameters_are_400s_naming_them() {
    let w = world();
    let token = customer_token(&w.user("Ada").await);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        ("page=2", "page"),
    ] {
        let (status, body) = get(&w, &format!("/v1/me/notifications?{query}"), Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{query}: {body}");
    }
}

#[test]
fn the_route_table_matches_the_openapi_document() {
    lite_http::routes::check_against_openapi(notifications::ROUTES, &notifications::openapi())
        .unwrap();
    assert_eq!(notifications::ROUTES.len(), 1);
    let r = &notifications::ROUTES[0];
    assert_eq!(
        (r.method, r.path, r.service, r.function),
        (
            "GET",
            "/v1/me/notifications",
            "notifications",
            "notifications-list"
        )
    );
}
