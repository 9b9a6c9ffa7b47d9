//! After the sale, over HTTP against the real binary: reviews (moderation,
//! the public listing and summary, the product's rating kept by the
//! catalog's rating consumer, verified purchases) and the notifications an
//! order's outcomes send (`/v1/me/notifications`: one per event, only to
//! the shopper, not when order updates are turned off).

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use system_tests::{
    eventually, place_order, product_body, send, settled_order, shopper, stocked_product, Reply,
    Seed, Shopper, TestApi,
};

/// How long an event consumer may take to act here.
const CONSUMER_LAG: Duration = Duration::from_secs(60);

async fn product(api: &TestApi, name: &str, amount: i64) -> String {
    let p = stocked_product(api, product_body("AFT", name, "kitchen", amount), 50).await;
    p["id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- reviews ---

async fn post_review(api: &TestApi, token: &str, product_id: &str, body: Value) -> Reply {
    send(
        api.request(Method::POST, &format!("/v1/products/{product_id}/reviews"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

/// Creates a review (201); returns it.
async fn review(api: &TestApi, token: &str, product_id: &str, rating: i64, title: &str) -> Value {
    let r = post_review(
        api,
        token,
        product_id,
        json!({"rating": rating, "title": title, "body": format!("{title}: what I think of it.")}),
    )
    .await;
    assert_eq!(r.status, 201, "create review: {}", r.body);
    let id = r.body["id"].as_str().expect("a review id");
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/reviews/{id}").as_str())
    );
    r.body
}

async fn listing(api: &TestApi, product_id: &str) -> Value {
    let r = send(api.request(Method::GET, &format!("/v1/products/{product_id}/reviews"))).await;
    assert_eq!(r.status, 200, "list reviews: {}", r.body);
    r.body
}

fn review_ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

async fn queue(api: &TestApi, status: &str) -> Vec<String> {
    let r = send(
        api.request(Method::GET, "/v1/admin/reviews")
            .query(&[("status", status), ("limit", "100")])
            .bearer_auth(api.admin_token()),
    )
    .await;
    assert_eq!(r.status, 200, "moderation queue: {}", r.body);
    review_ids(&r.body).into_iter().map(str::to_owned).collect()
}

async fn decide(api: &TestApi, token: &str, review_id: &str, decision: &str) -> Reply {
    send(
        api.request(
            Method::POST,
            &format!("/v1/admin/reviews/{review_id}/{decision}"),
        )
        .bearer_auth(token),
    )
    .await
}

async fn patch_review(api: &TestApi, token: &str, review_id: &str, body: Value) -> Reply {
    send(
        api.request(Method::PATCH, &format!("/v1/reviews/{review_id}"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn delete_review(api: &TestApi, token: &str, review_id: &str) -> Reply {
    send(
        api.request(Method::DELETE, &format!("/v1/reviews/{review_id}"))
            .bearer_auth(token),
    )
    .await
}

fn summary(average: f64, histogram: [u32; 5]) -> Value {
    json!({
        "average": average,
        "count": histogram.iter().sum::<u32>(),
        "histogram": {
            "1": histogram[0], "2": histogram[1], "3": histogram[2],
            "4": histogram[3], "5": histogram[4]
        }
    })
}

/// Waits until the product (and its search document) show this rating.
async fn await_rating(api: &TestApi, product_id: &str, average: f64, count: u32) {
    let want = json!({"average": average, "count": count});
    let want = &want;
    let path = format!("/v1/products/{product_id}");
    let path = path.as_str();
    eventually(
        CONSUMER_LAG,
        &format!("{product_id} is rated {want}"),
        || async move {
            let r = send(api.request(Method::GET, path)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            if r.body["rating"] == *want {
                Ok(())
            } else {
                Err(r.body["rating"].to_string())
            }
        },
    )
    .await;
    eventually(
        CONSUMER_LAG,
        &format!("the search document of {product_id} is rated {want}"),
        || async move {
            let r = send(
                api.request(Method::GET, "/v1/search")
                    .query(&[("brand", "Wrenfield"), ("limit", "100")]),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let doc = r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["id"] == product_id)
                .cloned();
            match doc {
                Some(d) if d["rating"] == *want => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_review_goes_through_moderation_into_the_listing_and_the_rating() {
    let api = TestApi::spawn(Seed::None).await;
    let pid = product(&api, "Wrenfield Pour-Over Kettle", 4_500).await;
    let ann = shopper(&api, "Ann").await;
    let bob = shopper(&api, "Bob").await;

    // Pending: not listed, not counted.
    let a = review(&api, &ann.token, &pid, 4, "Pours nicely").await;
    let a_id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(a["status"], "pending");
    assert_eq!(a["rating"], 4);
    assert_eq!(a["productId"], pid.as_str());
    assert_eq!(a["userId"], ann.id.as_str());
    assert_eq!(a["verifiedPurchase"], false);
    assert_eq!(a["title"], "Pours nicely");
    let page = listing(&api, &pid).await;
    assert!(review_ids(&page).is_empty(), "{page}");
    assert_eq!(page["summary"], summary(0.0, [0, 0, 0, 0, 0]));
    assert_eq!(page["nextCursor"], Value::Null);

    // One review per user and product.
    post_review(
        &api,
        &ann.token,
        &pid,
        json!({"rating": 5, "title": "Again", "body": "Second thoughts."}),
    )
    .await
    .assert_problem(409, "conflict");

    // The moderation queue shows it; only admins see or decide.
    assert!(queue(&api, "pending").await.contains(&a_id));
    for (method, path) in [
        (Method::GET, "/v1/admin/reviews".to_owned()),
        (Method::POST, format!("/v1/admin/reviews/{a_id}/approve")),
        (Method::POST, format!("/v1/admin/reviews/{a_id}/reject")),
    ] {
        let r = send(api.request(method.clone(), &path).bearer_auth(&ann.token)).await;
        r.assert_problem(403, "forbidden");
        let r = send(api.request(method, &path)).await;
        r.assert_problem(401, "unauthorized");
    }
    let r = send(
        api.request(Method::GET, "/v1/admin/reviews?status=hidden")
            .bearer_auth(api.admin_token()),
    )
    .await;
    r.assert_problem(400, "validation_failed")
        .assert_invalid("status");
    decide(
        &api,
        &api.admin_token(),
        "rev_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
        "approve",
    )
    .await
    .assert_problem(404, "not_found");

    // Approved: listed, summarised, and the product's rating follows.
    let r = decide(&api, &api.admin_token(), &a_id, "approve").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    let page = listing(&api, &pid).await;
    assert_eq!(review_ids(&page), [a_id.as_str()]);
    assert_eq!(page["items"][0]["status"], "approved");
    assert_eq!(page["summary"], summary(4.0, [0, 0, 0, 1, 0]));
    assert!(!queue(&api, "pending").await.contains(&a_id));
    assert!(queue(&api, "approved").await.contains(&a_id));
    await_rating(&api, &pid, 4.0, 1).await;
    // Approving twice counts once.
    let r = decide(&api, &api.admin_token(), &a_id, "approve").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(listing(&api, &pid).await["summary"]["count"], 1);

    // A second reviewer: newest first, the average of both.
    let b = review(&api, &bob.token, &pid, 1, "Leaks").await;
    let b_id = b["id"].as_str().unwrap().to_owned();
    assert_eq!(
        decide(&api, &api.admin_token(), &b_id, "approve")
            .await
            .status,
        200
    );
    let page = listing(&api, &pid).await;
    assert_eq!(review_ids(&page), [b_id.as_str(), a_id.as_str()]);
    assert_eq!(page["summary"], summary(2.5, [1, 0, 0, 1, 0]));
    await_rating(&api, &pid, 2.5, 2).await;

    // Another user can neither edit nor delete it: it does not exist for them.
    patch_review(&api, &bob.token, &a_id, json!({"rating": 1}))
        .await
        .assert_problem(404, "not_found");
    delete_review(&api, &bob.token, &a_id)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(review_ids(&listing(&api, &pid).await).len(), 2);

    // Edited: back to moderation, out of the listing and the rating.
    let r = patch_review(
        &api,
        &ann.token,
        &a_id,
        json!({"rating": 5, "title": "Pours perfectly"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["rating"], 5);
    assert_eq!(r.body["title"], "Pours perfectly");
    assert_eq!(r.body["body"], a["body"], "unchanged fields stay");
    let page = listing(&api, &pid).await;
    assert_eq!(review_ids(&page), [b_id.as_str()]);
    assert_eq!(page["summary"], summary(1.0, [1, 0, 0, 0, 0]));
    assert!(queue(&api, "pending").await.contains(&a_id));
    await_rating(&api, &pid, 1.0, 1).await;

    // Rejected: stays out.
    let r = decide(&api, &api.admin_token(), &a_id, "reject").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert!(queue(&api, "rejected").await.contains(&a_id));
    assert!(!queue(&api, "pending").await.contains(&a_id));
    assert_eq!(review_ids(&listing(&api, &pid).await), [b_id.as_str()]);
    // Rejecting an approved review takes it out of the rating.
    assert_eq!(
        decide(&api, &api.admin_token(), &b_id, "reject")
            .await
            .status,
        200
    );
    let page = listing(&api, &pid).await;
    assert!(review_ids(&page).is_empty(), "{page}");
    assert_eq!(page["summary"], summary(0.0, [0, 0, 0, 0, 0]));
    await_rating(&api, &pid, 0.0, 0).await;
    // Approved again after a rejection: back in.
    assert_eq!(
        decide(&api, &api.admin_token(), &a_id, "approve")
            .await
            .status,
        200
    );
    assert_eq!(
        listing(&api, &pid).await["summary"],
        summary(5.0, [0, 0, 0, 0, 1])
    );
    await_rating(&api, &pid, 5.0, 1).await;

    // Deleted by its author: gone from the listing and the rating, and the
    // author may review the product again.
    let r = delete_review(&api, &ann.token, &a_id).await;
    assert_eq!(r.status, 204, "{}", r.body);
    delete_review(&api, &ann.token, &a_id)
        .await
        .assert_problem(404, "not_found");
    patch_review(&api, &ann.token, &a_id, json!({"rating": 2}))
        .await
        .assert_problem(404, "not_found");
    let page = listing(&api, &pid).await;
    assert!(review_ids(&page).is_empty(), "{page}");
    assert_eq!(page["summary"]["count"], 0);
    await_rating(&api, &pid, 0.0, 0).await;
    let again = review(&api, &ann.token, &pid, 3, "Second try").await;
    assert_eq!(again["status"], "pending");
    assert_ne!(again["id"], a_id.as_str());
    // An administrator may delete anyone's review.
    let r = delete_review(&api, &api.admin_token(), again["id"].as_str().unwrap()).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn invalid_reviews_are_refused_naming_the_field() {
    let api = TestApi::spawn(Seed::None).await;
    let pid = product(&api, "Wrenfield Butter Dish", 1_900).await;
    let token = api.customer_token();
    for (body, field) in [
        (json!({"rating": 0, "title": "t", "body": "b"}), "rating"),
        (json!({"rating": 6, "title": "t", "body": "b"}), "rating"),
        (json!({"rating": -1, "title": "t", "body": "b"}), "rating"),
        (json!({"rating": 4, "title": "", "body": "b"}), "title"),
        (
            json!({"rating": 4, "title": "x".repeat(121), "body": "b"}),
            "title",
        ),
        (json!({"rating": 4, "title": "t", "body": "   "}), "body"),
    ] {
        let r = post_review(&api, &token, &pid, body.clone()).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.body);
    }
    let r = post_review(
        &api,
        &token,
        &pid,
        json!({"rating": 4.5, "title": "t", "body": "b"}),
    )
    .await;
    r.assert_problem(400, "validation_failed");
    // None of them was stored: the user may still review it.
    let ok = review(&api, &token, &pid, 5, "Fine").await;
    let id = ok["id"].as_str().unwrap();
    // Edits are checked the same way, and change nothing when refused.
    for (body, field) in [
        (json!({"rating": 0}), "rating"),
        (json!({"rating": 6}), "rating"),
        (json!({"title": ""}), "title"),
    ] {
        patch_review(&api, &token, id, body)
            .await
            .assert_problem(400, "validation_failed")
            .assert_invalid(field);
    }
    // Unknown product; no token.
    post_review(
        &api,
        &token,
        "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C",
        json!({"rating": 5, "title": "t", "body": "b"}),
    )
    .await
    .assert_problem(404, "not_found");
    let r = send(
        api.request(Method::POST, &format!("/v1/products/{pid}/reviews"))
            .json(&json!({"rating": 5, "title": "t", "body": "b"})),
    )
    .await;
    r.assert_problem(401, "unauthorized");
    let r = send(api.request(
        Method::GET,
        "/v1/products/prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C/reviews",
    ))
    .await;
    r.assert_problem(404, "not_found");
    let r = send(
        api.request(Method::GET, &format!("/v1/products/{pid}/reviews"))
            .query(&[("limit", "0")]),
    )
    .await;
    r.assert_problem(400, "validation_failed")
        .assert_invalid("limit");
}

#[tokio::test]
async fn verified_purchase_means_a_confirmed_order_for_the_product() {
    let api = TestApi::spawn(Seed::None).await;
    let pid = product(&api, "Wrenfield Stoneware Teapot", 3_200).await;
    let other = product(&api, "Wrenfield Tea Strainer", 900).await;

    // Bought and confirmed.
    let buyer = shopper(&api, "Buyer").await;
    let order = place_order(&api, &buyer.token, &pid, 1, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &buyer.token, &order).await["status"],
        "CONFIRMED"
    );
    let r = review(&api, &buyer.token, &pid, 5, "Brews well").await;
    assert_eq!(r["verifiedPurchase"], true, "{r}");
    // ... but not the other product.
    let r = review(&api, &buyer.token, &other, 4, "Never bought it").await;
    assert_eq!(r["verifiedPurchase"], false, "{r}");

    // A declined payment is no purchase.
    let declined = shopper(&api, "Declined").await;
    let order2 = place_order(&api, &declined.token, &pid, 1, "tok_chargeDeclined").await;
    assert_eq!(
        settled_order(&api, &declined.token, &order2).await["status"],
        "FAILED"
    );
    let r = review(&api, &declined.token, &pid, 2, "Could not buy").await;
    assert_eq!(r["verifiedPurchase"], false, "{r}");
    // Nor is never ordering.
    let r = review(&api, &api.customer_token(), &pid, 3, "Just looking").await;
    assert_eq!(r["verifiedPurchase"], false, "{r}");

    // Approved, the flag shows in the listing.
    let id = {
        let page = send(
            api.request(Method::GET, "/v1/admin/reviews")
                .query(&[("limit", "100")])
                .bearer_auth(api.admin_token()),
        )
        .await;
        page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["userId"] == buyer.id.as_str() && r["productId"] == pid.as_str())
            .expect("the buyer's review is queued")["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        decide(&api, &api.admin_token(), &id, "approve")
            .await
            .status,
        200
    );
    let page = listing(&api, &pid).await;
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_eq!(page["items"][0]["verifiedPurchase"], true);

    // The order cancelled, an edit looks again: no confirmed order now.
    let r = send(
        api.request(Method::POST, &format!("/v1/orders/{order}/cancel"))
            .bearer_auth(&buyer.token),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = patch_review(
        &api,
        &buyer.token,
        &id,
        json!({"body": "Brews well, but I sent it back."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["verifiedPurchase"], false, "{}", r.body);
    // Bought again: verified again at the next edit.
    let order3 = place_order(&api, &buyer.token, &pid, 2, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &buyer.token, &order3).await["status"],
        "CONFIRMED"
    );
    let r = patch_review(&api, &buyer.token, &id, json!({"rating": 4})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["verifiedPurchase"], true, "{}", r.body);
}

// ---------------------------------------------------------- notifications ---

async fn notifications_page(api: &TestApi, token: &str, params: &[(&str, &str)]) -> Reply {
    send(
        api.request(Method::GET, "/v1/me/notifications")
            .query(params)
            .bearer_auth(token),
    )
    .await
}

/// All of the caller's notifications, newest first (following cursors).
async fn notifications(api: &TestApi, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "2")];
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let r = notifications_page(api, token, &q).await;
        assert_eq!(r.status, 200, "notifications: {}", r.body);
        all.extend(r.body["items"].as_array().expect("items").iter().cloned());
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// `(eventType, orderId)` of each notification, newest first.
fn kinds(list: &[Value]) -> Vec<(String, String)> {
    list.iter()
        .map(|n| {
            (
                n["eventType"].as_str().unwrap().to_owned(),
                n["orderId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until the shopper has exactly `want` (`eventType`, `orderId`)
/// notifications, newest first; returns them.
async fn await_notifications(api: &TestApi, s: &Shopper, want: &[(&str, &str)]) -> Vec<Value> {
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(t, o)| ((*t).to_owned(), (*o).to_owned()))
        .collect();
    let want = &want;
    let token = s.token.as_str();
    eventually(
        CONSUMER_LAG,
        &format!("{} is notified of {want:?}", s.email),
        || async move {
            let list = notifications(api, token).await;
            if kinds(&list) == *want {
                Ok(list)
            } else {
                Err(format!("{:?}", kinds(&list)))
            }
        },
    )
    .await
}

async fn set_order_updates(api: &TestApi, token: &str, on: bool, language: &str) {
    let r = send(
        api.request(Method::PUT, "/v1/me/preferences")
            .bearer_auth(token)
            .json(&json!({
                "marketingEmails": false, "orderUpdates": on,
                "currency": "USD", "language": language
            })),
    )
    .await;
    assert_eq!(r.status, 200, "preferences: {}", r.body);
    assert_eq!(r.body["orderUpdates"], on);
}

async fn post(api: &TestApi, token: &str, path: &str) -> Reply {
    send(api.request(Method::POST, path).bearer_auth(token)).await
}

/// A while for a duplicate to show up, after everything expected did.
async fn settle_consumers() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn each_order_outcome_notifies_its_shopper_once() {
    let api = TestApi::spawn_with_env(Seed::None, &[("CHECKOUT_PAYMENT_TIMEOUT_SECS", "4")]).await;
    let pid = product(&api, "Wrenfield Enamel Mug", 1_250).await;
    let scarce = stocked_product(
        &api,
        product_body("AFT", "Wrenfield Last Saucer", "kitchen", 700),
        1,
    )
    .await;
    let scarce = scarce["id"].as_str().unwrap().to_owned();

    // Confirmed, then shipped.
    let ann = shopper(&api, "Ann").await;
    let o1 = place_order(&api, &ann.token, &pid, 2, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &ann.token, &o1).await["status"],
        "CONFIRMED"
    );
    let list = await_notifications(&api, &ann, &[("order.confirmed", &o1)]).await;
    let n = &list[0];
    assert_eq!(n["subject"], format!("Your order {o1} is confirmed"));
    assert_eq!(n["channel"], "email");
    let body = n["body"].as_str().unwrap();
    assert!(body.starts_with("Hello Ann,"), "{body}");
    assert!(body.contains("2 × Wrenfield Enamel Mug"), "{body}");
    assert!(n["id"].as_str().unwrap().starts_with("ntf_"), "{n}");
    assert!(n["createdAt"].is_string(), "{n}");
    let r = post(&api, &api.admin_token(), &format!("/v1/orders/{o1}/ship")).await;
    assert_eq!(r.status, 200, "ship: {}", r.body);
    let list = await_notifications(
        &api,
        &ann,
        &[("order.shipped", &o1), ("order.confirmed", &o1)],
    )
    .await;
    assert_eq!(list[0]["subject"], format!("Your order {o1} is on its way"));

    // Confirmed, then cancelled by the shopper.
    let o2 = place_order(&api, &ann.token, &pid, 1, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &ann.token, &o2).await["status"],
        "CONFIRMED"
    );
    await_notifications(
        &api,
        &ann,
        &[
            ("order.confirmed", &o2),
            ("order.shipped", &o1),
            ("order.confirmed", &o1),
        ],
    )
    .await;
    let r = post(&api, &ann.token, &format!("/v1/orders/{o2}/cancel")).await;
    assert_eq!(r.status, 200, "cancel: {}", r.body);
    let list = await_notifications(
        &api,
        &ann,
        &[
            ("order.cancelled", &o2),
            ("order.confirmed", &o2),
            ("order.shipped", &o1),
            ("order.confirmed", &o1),
        ],
    )
    .await;
    assert_eq!(
        list[0]["subject"],
        format!("Your order {o2} has been cancelled")
    );
    let body = list[0]["body"].as_str().unwrap();
    assert!(body.contains("as you asked"), "{body}");
    assert!(
        body.contains("is being returned"),
        "a paid order's money goes back: {body}"
    );

    // Declined: the failed order is the one message (its payment.failed is
    // not a second one).
    let dee = shopper(&api, "Dee").await;
    let o3 = place_order(&api, &dee.token, &pid, 1, "tok_chargeDeclined").await;
    assert_eq!(
        settled_order(&api, &dee.token, &o3).await["status"],
        "FAILED"
    );
    let list = await_notifications(&api, &dee, &[("order.failed", &o3)]).await;
    assert_eq!(
        list[0]["subject"],
        format!("We could not complete your order {o3}")
    );
    let body = list[0]["body"].as_str().unwrap();
    assert!(body.contains("your payment was declined"), "{body}");

    // The provider never answers: failed on the timeout, one message.
    let tim = shopper(&api, "Tim").await;
    let o4 = place_order(&api, &tim.token, &pid, 1, "tok_noWebhook").await;
    let o = settled_order(&api, &tim.token, &o4).await;
    assert_eq!(o["status"], "FAILED", "{o}");
    let list = await_notifications(&api, &tim, &[("order.failed", &o4)]).await;
    let body = list[0]["body"].as_str().unwrap();
    assert!(body.contains("did not answer in time"), "{body}");

    // Out of stock: one message.
    let oos = shopper(&api, "Oona").await;
    let o5 = place_order(&api, &oos.token, &scarce, 2, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &oos.token, &o5).await["status"],
        "FAILED"
    );
    let list = await_notifications(&api, &oos, &[("order.failed", &o5)]).await;
    let body = list[0]["body"].as_str().unwrap();
    assert!(body.contains("no longer in stock"), "{body}");

    // An admin's cancellation says so.
    let o6 = place_order(&api, &oos.token, &pid, 1, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &oos.token, &o6).await["status"],
        "CONFIRMED"
    );
    let r = post(&api, &api.admin_token(), &format!("/v1/orders/{o6}/cancel")).await;
    assert_eq!(r.status, 200, "cancel: {}", r.body);
    let list = await_notifications(
        &api,
        &oos,
        &[
            ("order.cancelled", &o6),
            ("order.confirmed", &o6),
            ("order.failed", &o5),
        ],
    )
    .await;
    assert!(
        list[0]["body"]
            .as_str()
            .unwrap()
            .contains("we had to cancel"),
        "{}",
        list[0]
    );

    // Nothing more turns up later (no duplicates, no payment messages).
    settle_consumers().await;
    let ann_list = notifications(&api, &ann.token).await;
    assert_eq!(ann_list.len(), 4, "{:?}", kinds(&ann_list));
    let ids: BTreeSet<&str> = ann_list.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "notification ids are distinct");
    for (s, n) in [(&dee, 1), (&tim, 1), (&oos, 3)] {
        let list = notifications(&api, &s.token).await;
        assert_eq!(list.len(), n, "{}: {:?}", s.email, kinds(&list));
    }
    // Nobody sees another's notifications.
    assert!(notifications(&api, &api.customer_token()).await.is_empty());
    let dee_orders: BTreeSet<String> = notifications(&api, &dee.token)
        .await
        .iter()
        .map(|n| n["orderId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dee_orders, BTreeSet::from([o3.clone()]));

    // Pages: one at a time, newest first, each once; a cursor is the
    // caller's own.
    let r = notifications_page(&api, &ann.token, &[("limit", "1")]).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], ann_list[0]["id"]);
    let cursor = r.body["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    notifications_page(&api, &dee.token, &[("cursor", &cursor)])
        .await
        .assert_problem(400, "validation_failed")
        .assert_invalid("cursor");
    let times: Vec<&str> = ann_list
        .iter()
        .map(|n| n["createdAt"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    for bad in ["0", "101"] {
        notifications_page(&api, &ann.token, &[("limit", bad)])
            .await
            .assert_problem(400, "validation_failed")
            .assert_invalid("limit");
    }
    notifications_page(&api, &ann.token, &[("cursor", "bogus")])
        .await
        .assert_problem(400, "validation_failed")
        .assert_invalid("cursor");
    let r = send(api.request(Method::GET, "/v1/me/notifications")).await;
    r.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn order_updates_off_records_nothing_and_the_language_is_respected() {
    let api = TestApi::spawn(Seed::None).await;
    let pid = product(&api, "Wrenfield Linen Apron", 2_400).await;
    let quiet = shopper(&api, "Quinn").await;
    set_order_updates(&api, &quiet.token, false, "en").await;

    let o1 = place_order(&api, &quiet.token, &pid, 1, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &quiet.token, &o1).await["status"],
        "CONFIRMED"
    );
    // The consumer says why it sent nothing; wait for that, not a while.
    eventually(
        CONSUMER_LAG,
        "the consumer skips the confirmation of a user with order updates off",
        || async {
            let log = api.log();
            if log.contains("the user turned order updates off") {
                Ok(())
            } else {
                Err("no such log line yet".to_owned())
            }
        },
    )
    .await;
    assert!(notifications(&api, &quiet.token).await.is_empty());
    // Shipping it while still off: nothing either.
    let r = post(&api, &api.admin_token(), &format!("/v1/orders/{o1}/ship")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually(
        CONSUMER_LAG,
        "the consumer skips the shipment too",
        || async {
            let n = api
                .log()
                .matches("the user turned order updates off")
                .count();
            if n >= 2 {
                Ok(())
            } else {
                Err(format!("{n} skips logged"))
            }
        },
    )
    .await;
    assert!(notifications(&api, &quiet.token).await.is_empty());

    // Turned on again (in German): the next order is notified, the earlier
    // ones are not sent after the fact.
    set_order_updates(&api, &quiet.token, true, "de-DE").await;
    let o2 = place_order(&api, &quiet.token, &pid, 1, "tok_visa").await;
    assert_eq!(
        settled_order(&api, &quiet.token, &o2).await["status"],
        "CONFIRMED"
    );
    let list = await_notifications(&api, &quiet, &[("order.confirmed", &o2)]).await;
    assert_eq!(
        list[0]["subject"],
        format!("Ihre Bestellung {o2} ist bestätigt")
    );
    settle_consumers().await;
    assert_eq!(notifications(&api, &quiet.token).await.len(), 1);
}
