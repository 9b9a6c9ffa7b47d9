//! The users router without a socket (`oneshot`), on the in-memory redb
//! store: every route's bodies, who may see what, and the address book's
//! invariants under concurrency.

use axum::http::{header, HeaderMap, Method, StatusCode};
use lite_http::testing::{customer_token, TestClient};
use lite_service::Service;
use lite_store::{Key, Store};
use serde_json::{json, Value};
use std::sync::Arc;

struct App {
    client: TestClient,
    store: Arc<dyn Store>,
}

fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    let store = ctx.store.clone();
    let router = lite_http::testing::finish_for_tests(users::Users::new(ctx).router());
    App {
        client: TestClient::new(router),
        store,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// The fields a 400 names, in order.
    fn fields(&self) -> Vec<&str> {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{}", self.body);
        assert_eq!(self.body["code"], "validation_failed");
        self.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect()
    }
}

impl App {
    /// A user with a profile, as signup leaves it.
    async fn user(&self, id: &str) -> String {
        let now = chrono::Utc::now();
        let ops =
            users::registration::profile_ops(id, &format!("{id}@example.com"), "Ada Lovelace", now);
        self.store.transact(ops).await.unwrap();
        customer_token(id)
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, uri).bearer(token);
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

    async fn create(&self, token: &str, body: Value) -> Value {
        let r = self
            .call(Method::POST, "/v1/me/addresses", Some(token), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    async fn list(&self, token: &str) -> Vec<Value> {
        let r = self
            .call(Method::GET, "/v1/me/addresses", Some(token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["items"].as_array().unwrap().clone()
    }

    async fn profile_item(&self, user: &str) -> Value {
        let item = self
            .store
            .get(&Key::new(format!("USER#{user}"), "PROFILE"))
            .await
            .unwrap()
            .unwrap();
        Value::Object(item)
    }

    /// The address book's invariants, read from the table itself.
    async fn assert_ledger(&self, user: &str, token: &str) -> Vec<Value> {
        let list = self.list(token).await;
        let profile = self.profile_item(user).await;
        assert_eq!(profile["addressCount"], list.len(), "{profile}");
        let defaults: Vec<_> = list.iter().filter(|a| a["isDefault"] == true).collect();
        if list.is_empty() {
            assert!(defaults.is_empty());
            assert!(profile.get("defaultAddressId").is_none(), "{profile}");
        } else {
            assert_eq!(defaults.len(), 1, "{list:?}");
            assert_eq!(profile["defaultAddressId"], defaults[0]["id"]);
            assert_eq!(list[0]["isDefault"], true, "the default is listed first");
        }
        list
    }
}

fn address(label: &str) -> Value {
    json!({
        "label": label, "line1": "1 Main Street", "line2": "Apt 4", "city": "Springfield",
        "region": "IL", "postalCode": "62701", "country": "US"
    })
}

fn with_default(mut body: Value, is_default: bool) -> Value {
    body["isDefault"] = json!(is_default);
    body
}

fn ids(list: &[Value]) -> Vec<&str> {
    list.iter().map(|a| a["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn get_me_shows_the_profile_signup_created() {
    let app = app();
    let token = app.user("usr_ada").await;
    let r = app.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut keys: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["createdAt", "email", "id", "name", "phone"]);
    assert_eq!(r.body["id"], "usr_ada");
    assert_eq!(r.body["email"], "usr_ada@example.com");
    assert_eq!(r.body["name"], "Ada Lovelace");
    assert_eq!(r.body["phone"], Value::Null);
    assert!(r.body["createdAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_user_without_a_profile_gets_404s() {
    let app = app();
    let token = customer_token("usr_ghost");
    for (method, uri, body) in [
        (Method::GET, "/v1/me", None),
        (Method::PATCH, "/v1/me", Some(json!({"name": "Ghost"}))),
        (Method::GET, "/v1/me/addresses", None),
        (Method::POST, "/v1/me/addresses", Some(address("Home"))),
        (Method::GET, "/v1/me/preferences", None),
        (
            Method::PUT,
            "/v1/me/preferences",
            Some(
                json!({"marketingEmails": true, "orderUpdates": true, "currency": "USD", "language": "en"}),
            ),
        ),
    ] {
        let r = app.call(method.clone(), uri, Some(&token), body).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.body
        );
        assert_eq!(r.body["code"], "not_found");
    }
    // Nothing was written on the way: no stray profile from an update.
    assert!(app
        .store
        .get(&Key::new("USER#usr_ghost", "PROFILE"))
        .await
        .unwrap()
        .is_none());
    assert!(app
        .store
        .get(&Key::new("USER#usr_ghost", "PREFERENCES"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn patch_me_changes_name_and_phone_and_clears_the_phone() {
    let app = app();
    let token = app.user("usr_ada").await;
    let before = app.profile_item("usr_ada").await;
    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&token),
            Some(json!({"name": "  Ada King ", "phone": "+14155550123"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Ada King");
    assert_eq!(r.body["phone"], "+14155550123");
    assert_eq!(r.body["email"], "usr_ada@example.com");
    let after = app.profile_item("usr_ada").await;
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);

    let r = app.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(
        (r.body["name"].as_str(), r.body["phone"].as_str()),
        (Some("Ada King"), Some("+14155550123"))
    );

    // Only the fields sent change; null clears the phone.
    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&token),
            Some(json!({"phone": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), &r.body["phone"]),
        (Some("Ada King"), &Value::Null)
    );

    // An empty patch changes nothing and answers the profile.
    let r = app
        .call(Method::PATCH, "/v1/me", Some(&token), Some(json!({})))
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::OK, Some("Ada King"))
    );
}

#[tokio::test]
async fn patch_me_names_every_bad_field_and_writes_nothing() {
    let app = app();
    let token = app.user("usr_ada").await;
    let before = app.profile_item("usr_ada").await;

    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&token),
            Some(json!({"email": "new@example.com"})),
        )
        .await;
    assert_eq!(r.fields(), ["email"]);
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be changed"));

    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&token),
            Some(json!({"name": "", "phone": "555-1234", "nickname": "Ada"})),
        )
        .await;
    assert_eq!(r.fields(), ["name", "phone", "nickname"]);

    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&token),
            Some(json!({"name": "x".repeat(101), "phone": 14155550123u64})),
        )
        .await;
    assert_eq!(r.fields(), ["name", "phone"]);

    let r = app
        .call(Method::PATCH, "/v1/me", Some(&token), Some(json!(["name"])))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    assert_eq!(app.profile_item("usr_ada").await, before);
}

#[tokio::test]
async fn every_route_needs_a_valid_token() {
    let app = app();
    app.user("usr_ada").await;
    for route in users::ROUTES {
        assert_eq!(route.auth, lite_http::Access::Bearer);
        let uri = route.path.replace("{id}", "adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C");
        let method: Method = route.method.parse().unwrap();
        for token in [None, Some("not-a-token")] {
            let r = app.call(method.clone(), &uri, token, Some(json!({}))).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                route.method,
                route.path
            );
            assert_eq!(r.body["code"], "unauthorized");
            assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
}

#[tokio::test]
async fn create_and_list_addresses() {
    let app = app();
    let token = app.user("usr_ada").await;
    assert!(app.list(&token).await.is_empty());

    // The first address is the default even when it does not ask to be.
    let r = app
        .call(
            Method::POST,
            "/v1/me/addresses",
            Some(&token),
            Some(with_default(address("Home"), false)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let home = r.body.clone();
    let id = home["id"].as_str().unwrap();
    assert!(id.starts_with("adr_"));
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/v1/me/addresses/{id}")
    );
    assert_eq!(home["isDefault"], true);
    for (field, value) in [
        ("label", "Home"),
        ("line1", "1 Main Street"),
        ("line2", "Apt 4"),
        ("city", "Springfield"),
        ("region", "IL"),
        ("postalCode", "62701"),
        ("country", "US"),
    ] {
        assert_eq!(home[field], value, "{field}");
    }
    assert!(home["createdAt"].is_string() && home["updatedAt"].is_string());

    // Optional fields may be left out; isDefault defaults to false.
    let work = app
        .create(&token, json!({"label": "Work", "line1": "2 Office Park", "city": "Berlin", "postalCode": "10115", "country": "DE"}))
        .await;
    assert_eq!(work["isDefault"], false);
    assert_eq!(
        (&work["line2"], &work["region"]),
        (&Value::Null, &Value::Null)
    );

    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(ids(&list), [id, work["id"].as_str().unwrap()]);
    assert_eq!(list[0], home);
    assert_eq!(list[1], work);
}

#[tokio::test]
async fn is_default_moves_the_default_on_create_and_replace() {
    let app = app();
    let token = app.user("usr_ada").await;
    let a = app.create(&token, address("A")).await;
    let b = app.create(&token, with_default(address("B"), true)).await;
    assert_eq!(b["isDefault"], true);
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(
        ids(&list),
        [b["id"].as_str().unwrap(), a["id"].as_str().unwrap()]
    );
    assert_eq!(
        list[1]["isDefault"], false,
        "the previous default was unset"
    );

    // Replace A with isDefault: true: A becomes the default, B is unset.
    let uri = format!("/v1/me/addresses/{}", a["id"].as_str().unwrap());
    let mut body = with_default(address("A2"), true);
    body["line2"] = Value::Null;
    body["country"] = json!("GB");
    body["postalCode"] = json!("SW1A 1AA");
    let r = app.call(Method::PUT, &uri, Some(&token), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["label"].as_str(), r.body["isDefault"].as_bool()),
        (Some("A2"), Some(true))
    );
    assert_eq!(
        (&r.body["line2"], r.body["country"].as_str()),
        (&Value::Null, Some("GB"))
    );
    assert_eq!(r.body["id"], a["id"]);
    assert_eq!(
        r.body["createdAt"], a["createdAt"],
        "replacing keeps the creation time"
    );
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(list[0]["id"], a["id"]);
    assert_eq!(list[0]["label"], "A2");
    assert_eq!(list[1]["isDefault"], false);

    // The default cannot be un-defaulted by itself...
    let r = app
        .call(
            Method::PUT,
            &uri,
            Some(&token),
            Some(with_default(address("A3"), false)),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{}",
        r.body
    );
    assert_eq!(
        app.list(&token).await[0]["label"],
        "A2",
        "a refused replace writes nothing"
    );

    // ...but a non-default address can be replaced with isDefault false.
    let uri_b = format!("/v1/me/addresses/{}", b["id"].as_str().unwrap());
    let r = app
        .call(Method::PUT, &uri_b, Some(&token), Some(address("B2")))
        .await;
    assert_eq!(
        (r.status, r.body["isDefault"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{}",
        r.body
    );
    app.assert_ledger("usr_ada", &token).await;
}

#[tokio::test]
async fn deleting_the_default_promotes_the_oldest_remaining_address() {
    let app = app();
    let token = app.user("usr_ada").await;
    let a = app.create(&token, address("A")).await;
    let b = app.create(&token, address("B")).await;
    let c = app.create(&token, address("C")).await;
    let d = app.create(&token, with_default(address("D"), true)).await;
    let del = |x: &Value| format!("/v1/me/addresses/{}", x["id"].as_str().unwrap());

    // Deleting a non-default address leaves the default alone.
    let r = app.call(Method::DELETE, &del(&b), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(list[0]["id"], d["id"]);

    // Deleting the default promotes the oldest: A.
    assert_eq!(
        app.call(Method::DELETE, &del(&d), Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(
        ids(&list),
        [a["id"].as_str().unwrap(), c["id"].as_str().unwrap()]
    );

    assert_eq!(
        app.call(Method::DELETE, &del(&a), Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(ids(&list), [c["id"].as_str().unwrap()]);

    // Deleting the last address leaves no default; the next one is default.
    assert_eq!(
        app.call(Method::DELETE, &del(&c), Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(app.assert_ledger("usr_ada", &token).await.is_empty());
    let e = app.create(&token, address("E")).await;
    assert_eq!(e["isDefault"], true);
    app.assert_ledger("usr_ada", &token).await;

    // Deleting twice, or an id that never existed, or a malformed one: 404.
    for uri in [
        del(&c),
        "/v1/me/addresses/adr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C".into(),
        "/v1/me/addresses/nope".into(),
    ] {
        let r = app.call(Method::DELETE, &uri, Some(&token), None).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{uri}"
        );
        let r = app
            .call(Method::PUT, &uri, Some(&token), Some(address("X")))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
    }
    app.assert_ledger("usr_ada", &token).await;
}

#[tokio::test]
async fn users_never_reach_each_others_addresses() {
    let app = app();
    let ada = app.user("usr_ada").await;
    let bob = app.user("usr_bob").await;
    let home = app.create(&ada, address("Ada's home")).await;
    let uri = format!("/v1/me/addresses/{}", home["id"].as_str().unwrap());

    assert!(app.list(&bob).await.is_empty());
    let r = app
        .call(
            Method::PUT,
            &uri,
            Some(&bob),
            Some(with_default(address("Mine now"), true)),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = app.call(Method::DELETE, &uri, Some(&bob), None).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Ada's address is untouched and Bob's book is still empty.
    assert_eq!(app.assert_ledger("usr_ada", &ada).await, [home]);
    assert!(app.assert_ledger("usr_bob", &bob).await.is_empty());
    let r = app.call(Method::GET, "/v1/me", Some(&bob), None).await;
    assert_eq!(r.body["id"], "usr_bob");
}

#[tokio::test]
async fn address_bodies_name_every_bad_field() {
    let app = app();
    let token = app.user("usr_ada").await;
    let r = app
        .call(
            Method::POST,
            "/v1/me/addresses",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        r.fields(),
        ["label", "line1", "city", "postalCode", "country"]
    );

    let r = app
        .call(
            Method::POST,
            "/v1/me/addresses",
            Some(&token),
            Some(json!({
                "label": "x".repeat(51), "line1": " ", "line2": "y".repeat(201), "city": 12,
                "region": "z".repeat(101), "postalCode": "12#45", "country": "usa", "isDefault": "yes",
                "zip": "12345"
            })),
        )
        .await;
    assert_eq!(
        r.fields(),
        [
            "label",
            "line1",
            "line2",
            "city",
            "region",
            "postalCode",
            "country",
            "isDefault",
            "zip"
        ]
    );
    let mut unassigned = address("Home");
    unassigned["country"] = json!("XX");
    let r = app
        .call(
            Method::POST,
            "/v1/me/addresses",
            Some(&token),
            Some(unassigned),
        )
        .await;
    assert_eq!(r.fields(), ["country"]);
    assert!(
        app.list(&token).await.is_empty(),
        "invalid bodies write nothing"
    );

    // Replace validates the same way.
    let home = app.create(&token, address("Home")).await;
    let uri = format!("/v1/me/addresses/{}", home["id"].as_str().unwrap());
    let r = app
        .call(
            Method::PUT,
            &uri,
            Some(&token),
            Some(json!({"label": "", "country": "de"})),
        )
        .await;
    assert_eq!(
        r.fields(),
        ["label", "line1", "city", "postalCode", "country"]
    );
    assert_eq!(app.list(&token).await, [home]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_default_creations_leave_exactly_one_default() {
    let app = Arc::new(app());
    let token = app.user("usr_ada").await;
    app.create(&token, address("Existing")).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                let r = app
                    .call(
                        Method::POST,
                        "/v1/me/addresses",
                        Some(&token),
                        Some(with_default(address(&format!("New {i}")), true)),
                    )
                    .await;
                (r.status, r.body)
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in futures::future::join_all(tasks).await {
        let (status, body) = t.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        created.push(body["id"].as_str().unwrap().to_owned());
    }
    let list = app.assert_ledger("usr_ada", &token).await;
    assert_eq!(list.len(), 9);
    let default = list[0]["id"].as_str().unwrap();
    assert!(
        created.iter().any(|id| id == default),
        "one of the new ones won"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_addresses_leave_exactly_one_default() {
    let app = Arc::new(app());
    let token = app.user("usr_ada").await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                app.call(
                    Method::POST,
                    "/v1/me/addresses",
                    Some(&token),
                    Some(address(&format!("A{i}"))),
                )
                .await
                .status
            })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        assert_eq!(t.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(app.assert_ledger("usr_ada", &token).await.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_address_cap_holds_under_concurrent_creates() {
    let app = Arc::new(app());
    let token = app.user("usr_ada").await;
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                let r = app
                    .call(
                        Method::POST,
                        "/v1/me/addresses",
                        Some(&token),
                        Some(with_default(address(&format!("A{i}")), i % 3 == 0)),
                    )
                    .await;
                (r.status, r.body)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in futures::future::join_all(tasks).await {
        let (status, body) = t.unwrap();
        if status == StatusCode::CONFLICT {
            assert_eq!(body["code"], "conflict");
            assert!(
                body["detail"].as_str().unwrap().contains("at most 20"),
                "{body}"
            );
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(app.assert_ledger("usr_ada", &token).await.len(), 20);

    // Full means full, until one is deleted.
    let r = app
        .call(
            Method::POST,
            "/v1/me/addresses",
            Some(&token),
            Some(address("One more")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let victim = app.list(&token).await[5]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/me/addresses/{victim}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.create(&token, address("One more")).await;
    assert_eq!(app.assert_ledger("usr_ada", &token).await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_and_default_changes_keep_the_ledger_exact() {
    let app = Arc::new(app());
    // Races are probabilistic: several rounds make a broken condition show.
    for round in 0..6 {
        let user = format!("usr_{round}");
        let token = app.user(&user).await;
        let mut created = Vec::new();
        for i in 0..12 {
            created.push(
                app.create(&token, address(&format!("A{i}"))).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        // Delete the default and five others while making two others default.
        let mut tasks = Vec::new();
        for id in created.iter().take(6) {
            let (app, token, uri) = (app.clone(), token.clone(), format!("/v1/me/addresses/{id}"));
            tasks.push(tokio::spawn(async move {
                app.call(Method::DELETE, &uri, Some(&token), None)
                    .await
                    .status
            }));
        }
        for id in &created[6..8] {
            let (app, token, uri) = (app.clone(), token.clone(), format!("/v1/me/addresses/{id}"));
            tasks.push(tokio::spawn(async move {
                app.call(
                    Method::PUT,
                    &uri,
                    Some(&token),
                    Some(with_default(address("Now default"), true)),
                )
                .await
                .status
            }));
        }
        let statuses: Vec<_> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(&statuses[..6], [StatusCode::NO_CONTENT; 6]);
        assert_eq!(&statuses[6..], [StatusCode::OK; 2]);
        let list = app.assert_ledger(&user, &token).await;
        assert_eq!(list.len(), 6);
        assert_eq!(list[0]["label"], "Now default");
    }
}

#[tokio::test]
async fn preferences_start_at_the_defaults_and_put_replaces_them() {
    let app = app();
    let token = app.user("usr_ada").await;
    let r = app
        .call(Method::GET, "/v1/me/preferences", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"marketingEmails": false, "orderUpdates": true, "currency": "USD", "language": "en"})
    );

    let r = app
        .call(
            Method::PUT,
            "/v1/me/preferences",
            Some(&token),
            Some(json!({"marketingEmails": true, "orderUpdates": false, "currency": "EUR", "language": "de-de"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let expected = json!({"marketingEmails": true, "orderUpdates": false, "currency": "EUR", "language": "de-DE"});
    assert_eq!(r.body, expected);
    let r = app
        .call(Method::GET, "/v1/me/preferences", Some(&token), None)
        .await;
    assert_eq!(r.body, expected);
    let stored = users::read::preferences(app.store.as_ref(), "usr_ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serde_json::to_value(stored).unwrap(), expected);
}

#[tokio::test]
async fn preferences_name_every_bad_field() {
    let app = app();
    let token = app.user("usr_ada").await;
    let r = app
        .call(
            Method::PUT,
            "/v1/me/preferences",
            Some(&token),
            Some(json!({"currency": "USD"})),
        )
        .await;
    assert_eq!(r.fields(), ["marketingEmails", "orderUpdates", "language"]);
    let r = app
        .call(
            Method::PUT,
            "/v1/me/preferences",
            Some(&token),
            Some(json!({"marketingEmails": "no", "orderUpdates": null, "currency": "dollars", "language": "en_US", "theme": "dark"})),
        )
        .await;
    assert_eq!(
        r.fields(),
        [
            "marketingEmails",
            "orderUpdates",
            "currency",
            "language",
            "theme"
        ]
    );
    let r = app
        .call(Method::GET, "/v1/me/preferences", Some(&token), None)
        .await;
    assert_eq!(r.body["currency"], "USD", "nothing was written");
}

#[tokio::test]
async fn registration_refuses_a_second_profile_for_the_same_user() {
    let app = app();
    app.user("usr_ada").await;
    let again = users::registration::profile_ops(
        "usr_ada",
        "other@example.com",
        "Other",
        chrono::Utc::now(),
    );
    let err = app.store.transact(again).await.unwrap_err();
    assert!(err.is_condition_failure(), "{err}");
    let profile = users::read::profile(app.store.as_ref(), "usr_ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.email, "usr_ada@example.com");
}

#[tokio::test]
async fn the_read_api_serves_checkout() {
    let app = app();
    let ada = app.user("usr_ada").await;
    app.user("usr_bob").await;
    let store = app.store.as_ref();
    assert!(users::read::default_address(store, "usr_ada")
        .await
        .unwrap()
        .is_none());
    assert!(users::read::profile(store, "usr_nobody")
        .await
        .unwrap()
        .is_none());

    let home = app.create(&ada, address("Home")).await;
    let work = app.create(&ada, with_default(address("Work"), true)).await;
    let default = users::read::default_address(store, "usr_ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(default.id.as_str(), work["id"]);
    assert_eq!(default.country.as_str(), "US");
    let id = home["id"].as_str().unwrap();
    assert_eq!(
        users::read::address(store, "usr_ada", id)
            .await
            .unwrap()
            .unwrap()
            .label,
        "Home"
    );
    assert!(
        users::read::address(store, "usr_bob", id)
            .await
            .unwrap()
            .is_none(),
        "not Bob's"
    );
    assert!(users::read::address(store, "usr_ada", "garbage")
        .await
        .unwrap()
        .is_none());
}

#[test]
fn the_route_table_and_the_openapi_document_agree() {
    lite_http::routes::check_against_openapi(users::ROUTES, &users::openapi()).unwrap();
    let functions: Vec<_> = users::ROUTES.iter().map(|r| r.function).collect();
    assert_eq!(
        functions,
        [
            "users-get-me",
            "users-update-me",
            "users-list-addresses",
            "users-create-address",
            "users-replace-address",
            "users-delete-address",
            "users-get-preferences",
            "users-put-preferences"
        ]
    );
    assert!(users::ROUTES.iter().all(|r| r.service == "users"));
}
