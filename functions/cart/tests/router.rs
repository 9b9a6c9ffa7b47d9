//! The cart router without a socket (`oneshot`), on the in-memory redb
//! store, with products created through the catalog's own functions and a
//! clock the tests move.

use axum::http::{header, HeaderMap, Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use lite_core::ManualClock;
use lite_http::testing::{customer_token, mint, TestClient, TokenSpec};
use lite_ports::Context;
use lite_service::Service;
use serde_json::{json, Value};
use std::sync::Arc;

struct App {
    client: TestClient,
    ctx: Context,
    clock: Arc<ManualClock>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn token_header(&self) -> Option<&str> {
        self.headers
            .get("x-cart-token")
            .and_then(|v| v.to_str().ok())
    }

    fn quantities(&self) -> Vec<(String, u64)> {
        self.body["items"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|i| {
                (
                    i["productId"].as_str().unwrap().to_owned(),
                    i["quantity"].as_u64().unwrap(),
                )
            })
            .collect()
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn app() -> App {
    let mut ctx = lite_ports::testing::memory_context();
    let clock = Arc::new(ManualClock::new(start()));
    ctx.clock = clock.clone();
    let router = lite_http::testing::finish_for_tests(cart::Cart::new(ctx.clone()).router());
    App {
        client: TestClient::new(router),
        ctx,
        clock,
    }
}

/// Who calls: a bearer token and/or a cart token.
#[derive(Default, Clone, Copy)]
struct As<'a> {
    bearer: Option<&'a str>,
    cart: Option<&'a str>,
}

fn guest(token: &str) -> As<'_> {
    As {
        bearer: None,
        cart: Some(token),
    }
}

fn user(bearer: &str) -> As<'_> {
    As {
        bearer: Some(bearer),
        cart: None,
    }
}

const NOBODY: As<'static> = As {
    bearer: None,
    cart: None,
};

impl App {
    async fn call(&self, method: Method, uri: &str, who: As<'_>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, uri).bearer(who.bearer);
        if let Some(t) = who.cart {
            req = req.header("X-Cart-Token", t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await;
        Reply {
            status: r.status,
            headers: r.headers,
            body: r.json,
        }
    }

    async fn get(&self, who: As<'_>) -> Reply {
        self.call(Method::GET, "/v1/cart", who, None).await
    }

    async fn add(&self, who: As<'_>, product_id: &str, quantity: Value) -> Reply {
        self.call(
            Method::POST,
            "/v1/cart/items",
            who,
            Some(json!({"productId": product_id, "quantity": quantity})),
        )
        .await
    }

    async fn set(&self, who: As<'_>, product_id: &str, quantity: Value) -> Reply {
        self.call(
            Method::PATCH,
            &format!("/v1/cart/items/{product_id}"),
            who,
            Some(json!({ "quantity": quantity })),
        )
        .await
    }

    async fn remove(&self, who: As<'_>, product_id: &str) -> Reply {
        self.call(
            Method::DELETE,
            &format!("/v1/cart/items/{product_id}"),
            who,
            None,
        )
        .await
    }

    async fn merge(&self, who: As<'_>) -> Reply {
        self.call(Method::POST, "/v1/cart/merge", who, None).await
    }

    /// A catalog product (through the catalog's own create); its id.
    async fn product(&self, sku: &str, amount: i64) -> String {
        catalog::testing::product(&self.ctx, sku, "laptops", amount).await
    }

    async fn reprice_in_catalog(&self, id: &str, amount: i64) {
        let id = catalog::ProductId::parse(id).unwrap();
        let patch: catalog::ProductPatch =
            serde_json::from_value(json!({"price": {"amount": amount, "currency": "USD"}}))
                .unwrap();
        catalog::update(&self.ctx, &id, patch).await.unwrap();
    }

    /// A new guest cart holding `quantity` of `product`; its token.
    async fn guest_cart(&self, product: &str, quantity: u32) -> String {
        let r = self.add(NOBODY, product, json!(quantity)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["cartToken"].as_str().unwrap().to_owned()
    }
}

fn assert_problem(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        r.body
    );
}

fn unknown_token() -> String {
    cart::CartToken::generate().as_str().to_owned()
}

#[tokio::test]
async fn a_guest_cart_follows_its_token() {
    let app = app();
    let laptop = app.product("LAP-1", 129_999).await;
    let mouse = app.product("MOU-1", 2_500).await;

    let first = app.add(NOBODY, &laptop, json!(1)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let token = first.body["cartToken"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ct_"));
    assert_eq!(first.token_header(), Some(token.as_str()));
    assert_eq!(
        first.body["items"][0],
        json!({
            "productId": laptop, "sku": "LAP-1", "name": "Product LAP-1",
            "unitPrice": {"amount": 129_999, "currency": "USD"}, "quantity": 1,
            "lineTotal": {"amount": 129_999, "currency": "USD"}
        })
    );

    let second = app.add(guest(&token), &mouse, json!(2)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["cartToken"], token.as_str());
    assert_eq!(second.token_header(), Some(token.as_str()));
    let again = app.add(guest(&token), &laptop, json!(2)).await;
    assert_eq!(
        again.quantities(),
        [(laptop.clone(), 3), (mouse.clone(), 2)]
    );

    let got = app.get(guest(&token)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.token_header(), Some(token.as_str()));
    assert_eq!(got.body["itemCount"], 5);
    assert_eq!(
        got.body["subtotal"],
        json!({"amount": 3 * 129_999 + 2 * 2_500, "currency": "USD"})
    );

    // Without any token: an empty cart and no token.
    let empty = app.get(NOBODY).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.body,
        json!({"items": [], "subtotal": {"amount": 0, "currency": "USD"}, "itemCount": 0})
    );
    assert_eq!(empty.token_header(), None);

    // Unknown and malformed tokens name no cart, on every route.
    for bad in [unknown_token(), "ct_short".to_owned(), "garbage".to_owned()] {
        assert_problem(
            &app.get(guest(&bad)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &app.add(guest(&bad), &laptop, json!(1)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &app.set(guest(&bad), &laptop, json!(1)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_problem(
            &app.remove(guest(&bad), &laptop).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
}

#[tokio::test]
async fn a_signed_in_cart_follows_the_bearer_and_beats_the_cart_token() {
    let app = app();
    let laptop = app.product("LAP-1", 1_000).await;
    let mouse = app.product("MOU-1", 200).await;
    let ann = customer_token("usr_ann");

    let empty = app.get(user(&ann)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["items"], json!([]));
    assert!(empty.body.get("cartToken").is_none());

    let added = app.add(user(&ann), &laptop, json!(2)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.body.get("cartToken").is_none());
    assert_eq!(added.token_header(), None);
    assert_eq!(
        app.get(user(&ann)).await.quantities(),
        [(laptop.clone(), 2)]
    );
    let bob = customer_token("usr_bob");
    assert_eq!(app.get(user(&bob)).await.body["items"], json!([]));

    // With both, the bearer wins: the guest cart is neither read nor changed.
    let token = app.guest_cart(&mouse, 5).await;
    let both = As {
        bearer: Some(&ann),
        cart: Some(&token),
    };
    let got = app.get(both).await;
    assert_eq!(got.quantities(), [(laptop.clone(), 2)]);
    assert_eq!(got.token_header(), None);
    let added = app.add(both, &mouse, json!(1)).await;
    assert_eq!(
        added.quantities(),
        [(laptop.clone(), 2), (mouse.clone(), 1)]
    );
    assert_eq!(app.get(guest(&token)).await.quantities(), [(mouse, 5)]);
}

#[tokio::test]
async fn an_invalid_bearer_is_401_not_a_guest() {
    let app = app();
    let laptop = app.product("LAP-1", 1_000).await;
    let token = app.guest_cart(&laptop, 1).await;
    let expired = mint(TokenSpec {
        exp_in_secs: -600,
        ..TokenSpec::customer("usr_ann")
    });
    for bad in ["garbage", expired.as_str()] {
        let who = As {
            bearer: Some(bad),
            cart: Some(&token),
        };
        assert_problem(
            &app.get(who).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_problem(
            &app.add(who, &laptop, json!(1)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_problem(
            &app.set(who, &laptop, json!(3)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_problem(
            &app.add(user(bad), &laptop, json!(1)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
    assert_eq!(app.get(guest(&token)).await.quantities(), [(laptop, 1)]);
}

#[tokio::test]
async fn merge_moves_guest_lines_into_the_user_cart_once() {
    let app = app();
    let a = app.product("A-1", 100).await;
    let b = app.product("B-1", 200).await;
    let c = app.product("C-1", 300).await;
    let ann = customer_token("usr_ann");
    app.add(user(&ann), &b, json!(50)).await;
    app.add(user(&ann), &c, json!(1)).await;
    let token = app.guest_cart(&a, 2).await;
    app.add(guest(&token), &b, json!(60)).await;

    // Missing pieces first.
    assert_problem(
        &app.merge(user(&ann)).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    );
    assert_problem(
        &app.merge(guest(&token)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let unknown = unknown_token();
    let stranger = As {
        bearer: Some(&ann),
        cart: Some(&unknown),
    };
    assert_problem(
        &app.merge(stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let both = As {
        bearer: Some(&ann),
        cart: Some(&token),
    };
    let merged = app.merge(both).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert_eq!(
        merged.quantities(),
        [(b.clone(), 99), (c.clone(), 1), (a.clone(), 2)]
    );
    assert!(merged.body.get("cartToken").is_none());
    assert_eq!(merged.token_header(), None);
    assert_eq!(app.get(user(&ann)).await.body, merged.body);

    // The guest cart is gone: its token names nothing, a second merge is 404.
    assert_problem(
        &app.get(guest(&token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_problem(&app.merge(both).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(user(&ann)).await.body, merged.body);

    // A user without a cart yet gets the guest's lines.
    let token = app.guest_cart(&c, 4).await;
    let bob = customer_token("usr_bob");
    let merged = app
        .merge(As {
            bearer: Some(&bob),
            cart: Some(&token),
        })
        .await;
    assert_eq!(merged.quantities(), [(c, 4)]);
}

#[tokio::test]
async fn a_cart_holds_at_most_50_products_and_a_merge_past_it_changes_nothing() {
    let app = app();
    let ann = customer_token("usr_ann");
    let mut ids = Vec::new();
    for n in 0..52 {
        ids.push(app.product(&format!("CAP-{n}"), 100 + n).await);
    }
    for id in &ids[..49] {
        let r = app.add(user(&ann), id, json!(1)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let token = app.guest_cart(&ids[49], 1).await;
    app.add(guest(&token), &ids[50], json!(1)).await;
    let both = As {
        bearer: Some(&ann),
        cart: Some(&token),
    };
    assert_problem(&app.merge(both).await, StatusCode::CONFLICT, "conflict");
    assert_eq!(app.get(user(&ann)).await.quantities().len(), 49);
    assert_eq!(app.get(guest(&token)).await.quantities().len(), 2);

    let fiftieth = app.add(user(&ann), &ids[49], json!(1)).await;
    assert_eq!(fiftieth.quantities().len(), 50);
    assert_problem(
        &app.add(user(&ann), &ids[51], json!(1)).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // More of a product already in the cart is still fine.
    let more = app.add(user(&ann), &ids[0], json!(5)).await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.body);
    assert_eq!(more.body["itemCount"], 55);
}

#[tokio::test]
async fn quantities_stay_within_1_to_99_and_bad_input_writes_nothing() {
    let app = app();
    let laptop = app.product("LAP-1", 1_000).await;
    let ann = customer_token("usr_ann");
    for bad in [
        json!(0),
        json!(100),
        json!(-1),
        json!(1.5),
        json!("2"),
        json!(null),
    ] {
        let r = app.add(user(&ann), &laptop, bad.clone()).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "quantity", "{bad}");
        // A guest's refused first write creates no cart.
        let r = app.add(NOBODY, &laptop, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.token_header(), None);
    }
    assert_eq!(app.get(user(&ann)).await.body["items"], json!([]));

    app.add(user(&ann), &laptop, json!(60)).await;
    let r = app.add(user(&ann), &laptop, json!(40)).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "quantity");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("60"),
        "{}",
        r.body
    );
    assert_eq!(
        app.add(user(&ann), &laptop, json!(39)).await.body["itemCount"],
        99
    );

    for bad in [json!(100), json!(-1), json!(2.5)] {
        let r = app.set(user(&ann), &laptop, bad).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "quantity");
    }
    let r = app
        .call(
            Method::POST,
            "/v1/cart/items",
            user(&ann),
            Some(json!({"productId": laptop, "quantity": 1, "price": 1})),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(app.get(user(&ann)).await.body["itemCount"], 99);
}

#[tokio::test]
async fn unknown_products_are_404() {
    let app = app();
    let ann = customer_token("usr_ann");
    for id in [
        "prd_01J00000000000000000000000",
        "prd_01J0000000000000000000000",
        "nonsense",
        "",
    ] {
        assert_problem(
            &app.add(user(&ann), id, json!(1)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let r = app.add(NOBODY, id, json!(1)).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(r.token_header(), None);
    }
    // A deleted product cannot be added any more.
    let gone = app.product("GONE-1", 100).await;
    let id = catalog::ProductId::parse(&gone).unwrap();
    catalog::delete(&app.ctx, &id).await.unwrap();
    assert_problem(
        &app.add(user(&ann), &gone, json!(1)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn patch_sets_or_removes_and_delete_removes() {
    let app = app();
    let a = app.product("A-1", 100).await;
    let b = app.product("B-1", 200).await;
    let token = app.guest_cart(&a, 1).await;
    app.add(guest(&token), &b, json!(1)).await;

    let set = app.set(guest(&token), &a, json!(7)).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.quantities(), [(a.clone(), 7), (b.clone(), 1)]);
    assert_eq!(set.token_header(), Some(token.as_str()));

    let zero = app.set(guest(&token), &a, json!(0)).await;
    assert_eq!(zero.quantities(), [(b.clone(), 1)]);
    assert_problem(
        &app.set(guest(&token), &a, json!(1)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let removed = app.remove(guest(&token), &b).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.body["items"], json!([]));
    assert_eq!(removed.body["cartToken"], token.as_str());
    assert_problem(
        &app.remove(guest(&token), &b).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The emptied cart lives on under its token.
    assert_eq!(app.get(guest(&token)).await.status, StatusCode::OK);

    // No cart at all: no line either.
    assert_problem(
        &app.set(NOBODY, &a, json!(1)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_problem(
        &app.remove(NOBODY, &a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let ann = customer_token("usr_ann");
    assert_problem(
        &app.remove(user(&ann), &a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn the_cart_keeps_the_price_it_was_added_at() {
    let app = app();
    let laptop = app.product("LAP-1", 1_000).await;
    let ann = customer_token("usr_ann");
    app.add(user(&ann), &laptop, json!(2)).await;
    app.reprice_in_catalog(&laptop, 1_500).await;
    let got = app.get(user(&ann)).await;
    assert_eq!(got.body["items"][0]["unitPrice"]["amount"], 1_000);
    assert_eq!(got.body["subtotal"]["amount"], 2_000);
}

#[tokio::test]
async fn expired_carts_are_absent() {
    let app = app();
    let laptop = app.product("LAP-1", 1_000).await;
    let token = app.guest_cart(&laptop, 1).await;
    let ann = customer_token("usr_ann");
    app.add(user(&ann), &laptop, json!(1)).await;

    // Every write pushes the expiry: 29 days later the guest cart lives.
    app.clock.advance(Duration::days(29));
    assert_eq!(
        app.add(guest(&token), &laptop, json!(1)).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::days(29));
    assert_eq!(
        app.get(guest(&token)).await.quantities(),
        [(laptop.clone(), 2)]
    );
    app.clock.advance(Duration::days(2));
    assert_problem(
        &app.get(guest(&token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_problem(
        &app.add(guest(&token), &laptop, json!(1)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // A user cart lasts 180 days, then starts over empty.
    assert_eq!(
        app.get(user(&ann)).await.quantities(),
        [(laptop.clone(), 1)]
    );
    app.clock.advance(Duration::days(121));
    assert_eq!(app.get(user(&ann)).await.body["items"], json!([]));
    let fresh = app.add(user(&ann), &laptop, json!(3)).await;
    assert_eq!(fresh.quantities(), [(laptop, 3)]);
}

/// Ten writers on one cart at once (as many as a change retries, so every
/// one must land): five add the same product, five add one each of their
/// own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_to_one_cart_all_land() {
    let app = Arc::new(app());
    let common = app.product("COMMON-1", 100).await;
    let mut products = vec![common.clone(); 5];
    for n in 0..5 {
        products.push(app.product(&format!("OWN-{n}"), 10).await);
    }
    let ann = customer_token("usr_ann");
    let tasks = products.into_iter().map(|id| {
        let app = app.clone();
        let ann = ann.clone();
        tokio::spawn(async move { app.add(user(&ann), &id, json!(2)).await.status })
    });
    for status in futures::future::join_all(tasks).await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let got = app.get(user(&ann)).await;
    let q = got.quantities();
    assert_eq!(q.len(), 6, "{q:?}");
    assert!(q.contains(&(common, 10)), "{q:?}");
    assert_eq!(got.body["itemCount"], 20);
}

#[test]
fn route_table_and_openapi_agree() {
    let doc = cart::openapi();
    lite_http::routes::check_against_openapi(cart::ROUTES, &doc).unwrap();
    let json = serde_json::to_value(&doc).unwrap();
    let get = &json["paths"]["/v1/cart"]["get"];
    assert!(get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "X-Cart-Token" && p["in"] == "header"));
    assert!(get["responses"]["200"]["headers"]["X-Cart-Token"].is_object());
    for (path, method, statuses) in [
        ("/v1/cart", "get", &["200", "401", "404"][..]),
        (
            "/v1/cart/items",
            "post",
            &["200", "400", "401", "404", "409"],
        ),
        (
            "/v1/cart/items/{productId}",
            "patch",
            &["200", "400", "401", "404", "409"],
        ),
        (
            "/v1/cart/items/{productId}",
            "delete",
            &["200", "401", "404", "409"],
        ),
        // Merge is a `Bearer` route: its 401 is added with every other
        // route's by `api::document` (functions/api/tests/openapi.rs).
        ("/v1/cart/merge", "post", &["200", "400", "404", "409"]),
    ] {
        let responses = &json["paths"][path][method]["responses"];
        for s in statuses {
            assert!(responses[s].is_object(), "{method} {path} documents {s}");
        }
    }
}
