//! The reviews router without a socket: the review lifecycle, the summary
//! and its events, one review per user, authorship and moderation rights,
//! validation.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

fn histogram(b: &Value) -> Vec<u64> {
    (1..=5)
        .map(|s| b["summary"]["histogram"][s.to_string()].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_review_lives_through_moderation_edit_and_delete() {
    let app = app();
    let p = app.product("LAP-1").await;
    let (s, location, b) = app
        .call_full(
            Method::POST,
            &format!("/v1/products/{p}/reviews"),
            Some(&ann()),
            None,
            Some(review_body(4)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("rev_"));
    assert_eq!(location.as_deref(), Some(&*format!("/v1/reviews/{id}")));
    assert_eq!(b["status"], "pending");
    assert_eq!(b["verifiedPurchase"], false);
    assert_eq!(
        (b["productId"].as_str(), b["userId"].as_str()),
        (Some(&*p), Some(ANN))
    );

    // Pending: not listed, in the queue.
    let l = app.listing(&p).await;
    assert_eq!(l["items"], json!([]));
    assert_eq!(
        l["summary"],
        json!({"average": 0.0, "count": 0, "histogram": {"1":0,"2":0,"3":0,"4":0,"5":0}})
    );
    let (s, q) = app
        .call(Method::GET, "/v1/admin/reviews", Some(&admin()), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(q["items"][0]["id"], id.as_str());

    // Approved: listed, counted, announced with the summary.
    let (s, b) = app.decide(&id, "approve").await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let l = app.listing(&p).await;
    assert_eq!(l["items"][0]["id"], id.as_str());
    assert_eq!(l["items"][0]["title"], "Solid machine");
    assert_eq!(
        (
            l["summary"]["average"].as_f64(),
            l["summary"]["count"].as_u64()
        ),
        (Some(4.0), Some(1))
    );
    assert_eq!(histogram(&l), [0, 0, 0, 1, 0]);
    let approved = app.events("review.approved.v1").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["reviewId"], id.as_str());
    assert_eq!(
        approved[0]["productRating"],
        json!({"average": 4.0, "count": 1})
    );
    assert_eq!(approved[0]["ratingVersion"], 1);
    let (_, q) = app
        .call(Method::GET, "/v1/admin/reviews", Some(&admin()), None)
        .await;
    assert_eq!(q["items"], json!([]));

    // Edited: back to pending, out of the listing and the summary.
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/v1/reviews/{id}"),
            Some(&ann()),
            Some(json!({"rating": 2})),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str(), b["rating"].as_u64()),
        (StatusCode::OK, Some("pending"), Some(2))
    );
    assert_eq!(b["title"], "Solid machine");
    let l = app.listing(&p).await;
    assert_eq!(
        (
            l["items"].as_array().unwrap().len(),
            l["summary"]["count"].as_u64()
        ),
        (0, Some(0))
    );
    let withdrawn = app.events("review.withdrawn.v1").await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["reason"], "edited");
    assert_eq!(
        withdrawn[0]["productRating"],
        json!({"average": 0.0, "count": 0})
    );
    assert_eq!(withdrawn[0]["ratingVersion"], 2);

    // Approved again with its new rating, then deleted.
    app.decide(&id, "approve").await;
    let l = app.listing(&p).await;
    assert_eq!(histogram(&l), [0, 1, 0, 0, 0]);
    assert_eq!(
        app.events("review.approved.v1").await[1]["ratingVersion"],
        3
    );
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/reviews/{id}"),
            Some(&ann()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let l = app.listing(&p).await;
    assert_eq!(
        (
            l["items"].as_array().unwrap().len(),
            l["summary"]["count"].as_u64()
        ),
        (0, Some(0))
    );
    let withdrawn = app.events("review.withdrawn.v1").await;
    assert_eq!(
        (
            withdrawn[1]["reason"].as_str(),
            withdrawn[1]["ratingVersion"].as_u64()
        ),
        (Some("deleted"), Some(4))
    );
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/reviews/{id}"),
            Some(&ann()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The claim went with it: Ann may review the product again.
    app.review(&ann(), &p, 5).await;
}

#[tokio::test]
async fn the_summary_averages_many_reviews_and_lists_newest_first_in_pages() {
    let app = app();
    let p = app.product("LAP-2").await;
    let mut ids = Vec::new();
    for (i, rating) in [5, 4, 4, 3, 1].into_iter().enumerate() {
        let user = format!("usr_01JUSER{i:020}");
        let id = app
            .review(&lite_http::testing::customer_token(&user), &p, rating)
            .await;
        app.decide(&id, "approve").await;
        ids.push(id);
    }
    let l = app.listing(&p).await;
    assert_eq!(
        (
            l["summary"]["average"].as_f64(),
            l["summary"]["count"].as_u64()
        ),
        (Some(3.4), Some(5))
    );
    assert_eq!(histogram(&l), [1, 0, 1, 2, 1]);
    // Pages of two, newest approval first, each review once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            None => format!("/v1/products/{p}/reviews?limit=2"),
            Some(c) => format!("/v1/products/{p}/reviews?limit=2&cursor={c}"),
        };
        let (s, b) = app.call(Method::GET, &uri, None, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        seen.extend(
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        match b["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    // A cursor of one product's listing is refused on another's.
    let other = app.product("LAP-3").await;
    let (_, first) = app
        .call(
            Method::GET,
            &format!("/v1/products/{p}/reviews?limit=2"),
            None,
            None,
        )
        .await;
    let c = first["nextCursor"].as_str().unwrap();
    let (s, b) = app
        .call(
            Method::GET,
            &format!("/v1/products/{other}/reviews?cursor={c}"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("cursor"))
    );
}

#[tokio::test]
async fn one_review_per_user_and_product() {
    let app = app();
    let p = app.product("LAP-4").await;
    app.review(&ann(), &p, 4).await;
    let (s, b) = app
        .call(
            Method::POST,
            &format!("/v1/products/{p}/reviews"),
            Some(&ann()),
            Some(review_body(5)),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{b}"
    );
    // Others still may.
    app.review(&bob(), &p, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_reviews_by_one_user_make_one() {
    let app = app();
    let p = app.product("LAP-5").await;
    let token = ann();
    let uri = format!("/v1/products/{p}/reviews");
    let calls = (0..16).map(|_| app.call(Method::POST, &uri, Some(&token), Some(review_body(3))));
    let statuses: Vec<StatusCode> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        15,
        "{statuses:?}"
    );
    let (_, q) = app
        .call(Method::GET, "/v1/admin/reviews", Some(&admin()), None)
        .await;
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_the_author_edits_and_deletes() {
    let app = app();
    let p = app.product("LAP-6").await;
    let id = app.review(&ann(), &p, 4).await;
    let path = format!("/v1/reviews/{id}");
    let (s, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&bob()),
            Some(json!({"title": "Mine now"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.call(Method::DELETE, &path, Some(&bob()), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(Method::PATCH, &path, None, Some(json!({"title": "x"})))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = app
        .call(
            Method::PATCH,
            &path,
            Some(&ann()),
            Some(json!({"title": "  Better  "})),
        )
        .await;
    assert_eq!((s, b["title"].as_str()), (StatusCode::OK, Some("Better")));
    // An administrator may delete any review.
    let (s, _) = app.call(Method::DELETE, &path, Some(&admin()), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call(
            Method::PATCH,
            "/v1/reviews/not-an-id",
            Some(&ann()),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_fields_and_writes_nothing() {
    let app = app();
    let p = app.product("LAP-7").await;
    let uri = format!("/v1/products/{p}/reviews");
    for (body, fields) in [
        (
            json!({"rating": 0, "title": "t", "body": "b"}),
            vec!["rating"],
        ),
        (
            json!({"rating": 6, "title": "", "body": "b"}),
            vec!["rating", "title"],
        ),
        (
            json!({"rating": 3, "title": "x".repeat(121), "body": " "}),
            vec!["title", "body"],
        ),
        (
            json!({"rating": 3, "title": "t", "body": "y".repeat(5001)}),
            vec!["body"],
        ),
    ] {
        let (s, b) = app.call(Method::POST, &uri, Some(&ann()), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        let got: Vec<&str> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(got, fields, "{b}");
    }
    for body in [
        json!({"rating": "five", "title": "t", "body": "b"}),
        json!({"rating": 3, "title": "t"}),
        json!({"rating": 3, "title": "t", "body": "b", "status": "approved"}),
    ] {
        let (s, b) = app.call(Method::POST, &uri, Some(&ann()), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    }
    let (s, _) = app
        .call(Method::GET, "/v1/admin/reviews", Some(&admin()), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, q) = app
        .call(Method::GET, "/v1/admin/reviews", Some(&admin()), None)
        .await;
    assert_eq!(q["items"], json!([]));
    // The claim was not taken either.
    let id = app.review(&ann(), &p, 5).await;
    let path = format!("/v1/reviews/{id}");
    for body in [json!({}), json!({"rating": 9}), json!({"body": ""})] {
        let (s, b) = app
            .call(Method::PATCH, &path, Some(&ann()), Some(body))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    }
    for q in ["limit=0", "limit=101", "cursor=garbage"] {
        let (s, _) = app
            .call(Method::GET, &format!("{uri}?{q}"), None, None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
    }
    let (s, _) = app
        .call(
            Method::GET,
            "/v1/admin/reviews?status=maybe",
            Some(&admin()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_products_are_404() {
    let app = app();
    let ghost = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C";
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/v1/products/{ghost}/reviews"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/v1/products/{ghost}/reviews"),
            Some(&ann()),
            Some(review_body(4)),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            Method::POST,
            "/v1/products/nope/reviews",
            Some(&ann()),
            Some(review_body(4)),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn moderation_is_for_administrators() {
    let app = app();
    let p = app.product("LAP-8").await;
    let id = app.review(&ann(), &p, 4).await;
    for (method, path) in [
        (Method::GET, "/v1/admin/reviews".to_owned()),
        (Method::POST, format!("/v1/admin/reviews/{id}/approve")),
        (Method::POST, format!("/v1/admin/reviews/{id}/reject")),
    ] {
        let (s, _) = app.call(method.clone(), &path, Some(&ann()), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        let (s, _) = app.call(method, &path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/v1/products/{p}/reviews"),
            None,
            Some(review_body(4)),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .decide("rev_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C", "approve")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn approving_twice_counts_once_and_rejecting_withdraws() {
    let app = app();
    let p = app.product("LAP-9").await;
    let id = app.review(&ann(), &p, 5).await;
    let (s1, first) = app.decide(&id, "approve").await;
    let (s2, second) = app.decide(&id, "approve").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first, second);
    assert_eq!(app.listing(&p).await["summary"]["count"], 1);
    assert_eq!(app.events("review.approved.v1").await.len(), 1);

    let (s, b) = app.decide(&id, "reject").await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("rejected"))
    );
    app.decide(&id, "reject").await;
    assert_eq!(app.listing(&p).await["summary"]["count"], 0);
    let withdrawn = app.events("review.withdrawn.v1").await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["reason"], "rejected");
    let (_, q) = app
        .call(
            Method::GET,
            "/v1/admin/reviews?status=rejected",
            Some(&admin()),
            None,
        )
        .await;
    assert_eq!(q["items"][0]["id"], id.as_str());
    // A pending review rejected never counted: no event.
    let other = app.review(&bob(), &p, 1).await;
    app.decide(&other, "reject").await;
    assert_eq!(app.events("review.withdrawn.v1").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_count_each_review_once() {
    let app = app();
    let p = app.product("LAP-10").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let user = format!("usr_01JRACE{i:020}");
        ids.push(
            app.review(&lite_http::testing::customer_token(&user), &p, 4)
                .await,
        );
    }
    // Every review approved four times at once: four reviews counted.
    let calls = ids
        .iter()
        .flat_map(|id| (0..4).map(move |_| id))
        .map(|id| app.decide(id, "approve"));
    let results = futures::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{results:?}"
    );
    for id in &ids {
        app.decide(id, "approve").await;
    }
    let l = app.listing(&p).await;
    assert_eq!(l["summary"]["count"], 4);
    assert_eq!(histogram(&l), [0, 0, 0, 4, 0]);
    let events = app.events("review.approved.v1").await;
    assert_eq!(events.len(), 4);
    let mut versions: Vec<u64> = events
        .iter()
        .map(|e| e["ratingVersion"].as_u64().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [1, 2, 3, 4]);
}

#[test]
fn route_table_names_every_function() {
    let functions: Vec<_> = reviews::ROUTES.iter().map(|r| r.function).collect();
    assert_eq!(
        functions,
        [
            "reviews-list",
            "reviews-create",
            "reviews-update",
            "reviews-delete",
            "reviews-admin-list",
            "reviews-approve",
            "reviews-reject"
        ]
    );
    lite_http::routes::check_against_openapi(reviews::ROUTES, &reviews::openapi()).unwrap();
}
