//! The catalog (and the inventory routes it shows) over HTTP, against the
//! real `amazon-lite` binary. Every test starts its own server with its own
//! data directory, so tests share nothing and run in parallel.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use system_tests::{send, Reply, Seed, TestApi};

// ---------------------------------------------------------------- helpers ---

type Params<'a> = &'a [(&'a str, &'a str)];

fn product(sku: &str, category: &str, brand: &str, amount: i64) -> Value {
    json!({
        "sku": sku,
        "name": format!("Test product {sku}"),
        "description": "A product made by the system tests.",
        "category": category,
        "brand": brand,
        "price": {"amount": amount, "currency": "USD"},
        "images": [format!("https://images.example.com/tests/{}.jpg", sku.trim())],
        "attributes": {"color": "Black"}
    })
}

async fn post_product(api: &TestApi, body: &Value) -> Reply {
    send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .json(body),
    )
    .await
}

/// Creates a product as admin; returns the created body.
async fn create(api: &TestApi, body: Value) -> Value {
    let r = post_product(api, &body).await;
    assert_eq!(r.status, 201, "create {}: {}", body["sku"], r.body);
    r.body
}

async fn get_product(api: &TestApi, id: &str) -> Reply {
    send(api.request(Method::GET, &format!("/v1/products/{id}"))).await
}

async fn patch_product(api: &TestApi, id: &str, patch: Value) -> Reply {
    send(
        api.request(Method::PATCH, &format!("/v1/products/{id}"))
            .bearer_auth(api.admin_token())
            .json(&patch),
    )
    .await
}

async fn delete_product(api: &TestApi, id: &str) -> Reply {
    send(
        api.request(Method::DELETE, &format!("/v1/products/{id}"))
            .bearer_auth(api.admin_token()),
    )
    .await
}

async fn list(api: &TestApi, params: Params<'_>) -> Reply {
    send(api.request(Method::GET, "/v1/products").query(params)).await
}

/// One page of a listing, asserting 200 and the page shape.
async fn page(
    api: &TestApi,
    params: Params<'_>,
    cursor: Option<&str>,
) -> (Vec<Value>, Option<String>) {
    let mut q = params.to_vec();
    if let Some(c) = cursor {
        q.push(("cursor", c));
    }
    let r = list(api, &q).await;
    assert_eq!(r.status, 200, "GET /v1/products {q:?}: {}", r.body);
    let items = r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array: {}", r.body))
        .clone();
    let next = &r.body["nextCursor"];
    assert!(
        next.is_string() || next.is_null(),
        "nextCursor must be a string or null: {}",
        r.body
    );
    (items, next.as_str().map(str::to_owned))
}

/// Walks every page of a listing with `limit`; returns the items in order.
async fn walk(api: &TestApi, params: Params<'_>, limit: usize) -> Vec<Value> {
    let limit_s = limit.to_string();
    let mut q = params.to_vec();
    q.push(("limit", &limit_s));
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let (page, next) = page(api, &q, cursor.as_deref()).await;
        assert!(
            page.len() <= limit,
            "{} items on a page of {limit}",
            page.len()
        );
        items.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => return items,
        }
    }
    panic!("more than 1000 pages for {params:?}");
}

fn id(p: &Value) -> &str {
    p["id"].as_str().unwrap_or_else(|| panic!("no id: {p}"))
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|p| id(p).to_owned()).collect()
}

fn price(p: &Value) -> i64 {
    p["price"]["amount"]
        .as_i64()
        .unwrap_or_else(|| panic!("no price.amount: {p}"))
}

fn created_at(p: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let s = p["createdAt"]
        .as_str()
        .unwrap_or_else(|| panic!("no createdAt: {p}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("createdAt {s:?}: {e}"))
}

fn rating(p: &Value) -> f64 {
    p["rating"]["average"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rating.average: {p}"))
}

#[track_caller]
fn assert_unique(items: &[Value]) {
    let mut seen = HashSet::new();
    for p in items {
        assert!(seen.insert(id(p)), "{} listed twice", id(p));
    }
}

/// Asserts the order `sort` promises between every two neighbours.
#[track_caller]
fn assert_sorted(items: &[Value], sort: &str) {
    for w in items.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let ok = match sort {
            "newest" => created_at(a) >= created_at(b),
            "price_asc" => price(a) <= price(b),
            "price_desc" => price(a) >= price(b),
            "rating" => rating(a) >= rating(b),
            other => panic!("unknown sort {other}"),
        };
        assert!(ok, "not in {sort} order:\n{a}\nbefore\n{b}");
    }
}

/// A walk of the whole demo catalog: everything once, and plenty of it.
#[track_caller]
fn assert_whole_demo_catalog(items: &[Value]) {
    assert_unique(items);
    assert!(items.len() >= 200, "only {} products", items.len());
    let categories: HashSet<_> = items.iter().map(|p| p["category"].to_string()).collect();
    let brands: HashSet<_> = items.iter().map(|p| p["brand"].to_string()).collect();
    assert!(categories.len() >= 8, "{} categories", categories.len());
    assert!(brands.len() >= 20, "{} brands", brands.len());
}

/// Every field API.md promises, with the right types.
#[track_caller]
fn assert_product_shape(p: &Value) {
    assert!(id(p).starts_with("prd_"), "id {p}");
    for field in ["sku", "name", "description", "category", "brand"] {
        assert!(p[field].is_string(), "{field} of {p}");
    }
    assert!(p["price"]["amount"].is_i64(), "price.amount of {p}");
    assert_eq!(p["price"]["currency"], "USD", "price.currency of {p}");
    let images = p["images"].as_array().expect("images");
    for url in images {
        assert!(
            url.as_str().is_some_and(|u| u.starts_with("https://")),
            "image {url}"
        );
    }
    assert!(p["attributes"].is_object(), "attributes of {p}");
    assert!(p["rating"]["average"].is_number(), "rating.average of {p}");
    assert!(p["rating"]["count"].is_u64(), "rating.count of {p}");
    assert!(p["stock"]["available"].is_i64(), "stock.available of {p}");
    assert!(p["stock"]["available"].as_i64() >= Some(0));
    created_at(p);
    let updated = p["updatedAt"].as_str().expect("updatedAt");
    chrono::DateTime::parse_from_rfc3339(updated).expect("updatedAt is RFC 3339");
}

// ------------------------------------------------------ health & openapi ---

#[tokio::test]
async fn health_is_ok() {
    let api = TestApi::spawn(Seed::None).await;
    let r = send(api.request(Method::GET, "/v1/health")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok"}));
    assert!(r.header("x-correlation-id").is_some());
}

#[tokio::test]
async fn openapi_document_describes_every_catalog_route() {
    let api = TestApi::spawn(Seed::None).await;
    let r = send(api.request(Method::GET, "/v1/openapi.json")).await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let doc = &r.body;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1"), "OpenAPI {version}");
    assert!(doc["info"]["title"].is_string());
    for (path, methods) in [
        ("/v1/health", &["get"][..]),
        ("/v1/openapi.json", &["get"]),
        ("/v1/products", &["get", "post"]),
        ("/v1/products/{id}", &["get", "patch", "delete"]),
        ("/v1/inventory/{sku}", &["get", "put"]),
    ] {
        for method in methods {
            assert!(
                doc["paths"][path][method].is_object(),
                "the OpenAPI document lacks {} {path}",
                method.to_uppercase()
            );
        }
    }
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "no bearer security scheme"
    );
    for (path, method) in [
        ("/v1/products", "post"),
        ("/v1/products/{id}", "patch"),
        ("/v1/products/{id}", "delete"),
        ("/v1/inventory/{sku}", "get"),
        ("/v1/inventory/{sku}", "put"),
    ] {
        let op = &doc["paths"][path][method];
        let security = op["security"].to_string();
        assert!(
            security.contains("bearer"),
            "{method} {path} does not declare bearer auth"
        );
        for status in ["401", "403"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} does not document {status}"
            );
        }
    }
    let params: BTreeSet<_> = doc["paths"]["/v1/products"]["get"]["parameters"]
        .as_array()
        .expect("GET /v1/products parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "category", "minPrice", "maxPrice", "sort", "limit", "cursor",
    ] {
        assert!(
            params.contains(name),
            "GET /v1/products lacks ?{name}: {params:?}"
        );
    }
}

// ---------------------------------------------------------- demo catalog ---

#[tokio::test]
async fn demo_first_page_has_twenty_products_and_a_cursor() {
    let api = TestApi::spawn(Seed::Demo).await;
    let (items, next) = page(&api, &[], None).await;
    assert_eq!(items.len(), 20);
    assert!(next.is_some_and(|c| !c.is_empty()), "no nextCursor");
    assert_unique(&items);
    assert_sorted(&items, "newest");
    for p in &items {
        assert_product_shape(p);
    }
    // The product route shows exactly what the listing showed.
    let one = get_product(&api, id(&items[3])).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body, items[3]);
}

#[tokio::test]
async fn demo_walk_newest_returns_every_product_once_newest_first() {
    let api = TestApi::spawn(Seed::Demo).await;
    let items = walk(&api, &[("sort", "newest")], 50).await;
    assert_whole_demo_catalog(&items);
    assert_sorted(&items, "newest");
    // No sort parameter means newest.
    assert_eq!(ids(&walk(&api, &[], 100).await), ids(&items));
}

#[tokio::test]
async fn demo_walk_price_asc_returns_every_product_once_cheapest_first() {
    let api = TestApi::spawn(Seed::Demo).await;
    let items = walk(&api, &[("sort", "price_asc")], 50).await;
    assert_whole_demo_catalog(&items);
    assert_sorted(&items, "price_asc");
    let all: BTreeSet<_> = ids(&walk(&api, &[], 100).await).into_iter().collect();
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), all);
}

#[tokio::test]
async fn demo_walk_price_desc_returns_every_product_once_dearest_first() {
    let api = TestApi::spawn(Seed::Demo).await;
    let items = walk(&api, &[("sort", "price_desc")], 50).await;
    assert_whole_demo_catalog(&items);
    assert_sorted(&items, "price_desc");
    let all: BTreeSet<_> = ids(&walk(&api, &[], 100).await).into_iter().collect();
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), all);
}

#[tokio::test]
async fn demo_walk_rating_returns_every_product_once() {
    let api = TestApi::spawn(Seed::Demo).await;
    let items = walk(&api, &[("sort", "rating")], 50).await;
    assert_whole_demo_catalog(&items);
    assert_sorted(&items, "rating");
    let all: BTreeSet<_> = ids(&walk(&api, &[], 100).await).into_iter().collect();
    assert_eq!(ids(&items).into_iter().collect::<BTreeSet<_>>(), all);
}

#[tokio::test]
async fn demo_category_filter_returns_only_that_category() {
    let api = TestApi::spawn(Seed::Demo).await;
    let all = walk(&api, &[], 100).await;
    let expected: BTreeSet<_> = all
        .iter()
        .filter(|p| p["category"] == "laptops")
        .map(|p| id(p).to_owned())
        .collect();
    assert!(
        expected.len() >= 10,
        "the demo has {} laptops",
        expected.len()
    );
    for sort in ["newest", "price_asc", "price_desc", "rating"] {
        let items = walk(&api, &[("category", "laptops"), ("sort", sort)], 7).await;
        assert_unique(&items);
        assert_sorted(&items, sort);
        for p in &items {
            assert_eq!(p["category"], "laptops", "{sort}: {p}");
        }
        let got: BTreeSet<_> = ids(&items).into_iter().collect();
        assert_eq!(got, expected, "category=laptops&sort={sort}");
    }
    // A well-formed category nobody uses: an empty page, not an error.
    let r = list(&api, &[("category", "no-such-category")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"items": [], "nextCursor": null}));
}

#[tokio::test]
async fn demo_price_bounds_hold_for_every_sort_across_pages() {
    let api = TestApi::spawn(Seed::Demo).await;
    let all = walk(&api, &[("sort", "price_asc")], 100).await;
    // Bounds that are real prices, to prove both ends are inclusive.
    let min = price(&all[all.len() / 4]);
    let max = price(&all[all.len() * 3 / 4]);
    let (min_s, max_s) = (min.to_string(), max.to_string());
    let laptops: Vec<i64> = all
        .iter()
        .filter(|p| p["category"] == "laptops")
        .map(price)
        .collect();
    assert!(
        laptops.len() >= 10,
        "the demo has {} laptops",
        laptops.len()
    );
    let (laptop_min, laptop_max) = (laptops[2], laptops[laptops.len() - 3]);
    let laptop_max_s = laptop_max.to_string();
    let laptop_min_s = laptop_min.to_string();
    type Bounds<'a> = (
        Vec<(&'a str, &'a str)>,
        Option<&'a str>,
        Option<i64>,
        Option<i64>,
    );
    let cases: Vec<Bounds> = vec![
        (
            vec![("minPrice", &min_s), ("maxPrice", &max_s)],
            None,
            Some(min),
            Some(max),
        ),
        (vec![("minPrice", &max_s)], None, Some(max), None),
        (vec![("maxPrice", &min_s)], None, None, Some(min)),
        (
            vec![
                ("category", "laptops"),
                ("minPrice", &laptop_min_s),
                ("maxPrice", &laptop_max_s),
            ],
            Some("laptops"),
            Some(laptop_min),
            Some(laptop_max),
        ),
    ];
    for (filters, category, lo, hi) in &cases {
        let expected: BTreeSet<_> = all
            .iter()
            .filter(|p| category.is_none_or(|c| p["category"] == c))
            .filter(|p| lo.is_none_or(|lo| price(p) >= lo) && hi.is_none_or(|hi| price(p) <= hi))
            .map(|p| id(p).to_owned())
            .collect();
        assert!(expected.len() > 7, "{filters:?} should span pages");
        assert!(expected.len() < all.len(), "{filters:?} should filter");
        for sort in ["newest", "price_asc", "price_desc", "rating"] {
            let mut q = filters.clone();
            q.push(("sort", sort));
            let items = walk(&api, &q, 7).await;
            assert_unique(&items);
            assert_sorted(&items, sort);
            for p in &items {
                let amount = price(p);
                assert!(
                    lo.is_none_or(|lo| amount >= lo) && hi.is_none_or(|hi| amount <= hi),
                    "{q:?}: price {amount} out of bounds"
                );
            }
            let got: BTreeSet<_> = ids(&items).into_iter().collect();
            assert_eq!(got, expected, "{q:?}");
        }
    }
}

#[tokio::test]
async fn demo_restart_does_not_duplicate_the_catalog() {
    let mut api = TestApi::spawn(Seed::Demo).await;
    let before = walk(&api, &[], 100).await;
    assert_whole_demo_catalog(&before);
    api.restart().await;
    let after = walk(&api, &[], 100).await;
    assert_eq!(after.len(), before.len(), "the catalog grew on restart");
    assert_eq!(ids(&after), ids(&before));
}

// ------------------------------------------------------------ pagination ---

#[tokio::test]
async fn newest_pagination_is_exact_while_products_are_added() {
    let api = TestApi::spawn(Seed::None).await;
    let mut originals = Vec::new();
    for i in 0..45 {
        let p = create(
            &api,
            product(&format!("ORIG-{i:03}"), "books", "Acme", 1000 + i),
        )
        .await;
        originals.push(id(&p).to_owned());
    }
    let q = [("sort", "newest"), ("limit", "10")];
    let (first, mut cursor) = page(&api, &q, None).await;
    assert_eq!(first.len(), 10);
    let mut seen = first;
    let mut added = HashSet::new();
    for i in 0..5 {
        let p = create(
            &api,
            product(&format!("NEW-{i:03}"), "books", "Acme", 500 + i),
        )
        .await;
        added.insert(id(&p).to_owned());
    }
    let mut pages = 1;
    while let Some(c) = cursor {
        let (items, next) = page(&api, &q, Some(&c)).await;
        seen.extend(items);
        cursor = next;
        pages += 1;
        assert!(pages < 100, "the walk does not end");
    }
    assert_unique(&seen);
    assert_sorted(&seen, "newest");
    for p in &seen {
        assert!(
            !added.contains(id(p)),
            "{} was added after the walk began yet appeared after the cursor",
            id(p)
        );
    }
    let mut expected = originals.clone();
    expected.reverse();
    assert_eq!(
        ids(&seen),
        expected,
        "every original exactly once, newest first"
    );
    // A fresh walk sees all 50, the new ones first.
    let fresh = walk(&api, &[], 10).await;
    assert_eq!(fresh.len(), 50);
    assert!(fresh[..5].iter().all(|p| added.contains(id(p))));
}

#[tokio::test]
async fn price_pagination_is_exact_while_products_are_added() {
    let api = TestApi::spawn(Seed::None).await;
    let mut originals = Vec::new();
    for i in 0..30 {
        // Several products share a price: ties must not lose or repeat items.
        let p = create(
            &api,
            product(&format!("P-{i:03}"), "toys", "Acme", 100 * (i / 3)),
        )
        .await;
        originals.push(id(&p).to_owned());
    }
    let q = [("sort", "price_asc"), ("limit", "4")];
    let (first, mut cursor) = page(&api, &q, None).await;
    let mut seen = first;
    let mut n = 0;
    while let Some(c) = cursor {
        // New products land before and after the read position.
        let amount = if n % 2 == 0 { 0 } else { 5000 };
        create(&api, product(&format!("Q-{n:03}"), "toys", "Acme", amount)).await;
        n += 1;
        let (items, next) = page(&api, &q, Some(&c)).await;
        seen.extend(items);
        cursor = next;
        assert!(n < 100, "the walk does not end");
    }
    assert_unique(&seen);
    assert_sorted(&seen, "price_asc");
    let seen_ids: Vec<String> = ids(&seen)
        .into_iter()
        .filter(|i| originals.contains(i))
        .collect();
    assert_eq!(seen_ids.len(), originals.len(), "an original was lost");
    let set: BTreeSet<_> = seen_ids.iter().collect();
    assert_eq!(set, originals.iter().collect::<BTreeSet<_>>());
}

// --------------------------------------------------------- listing input ---

#[tokio::test]
async fn listing_rejects_invalid_parameters_with_field_named_problems() {
    let api = TestApi::spawn(Seed::None).await;
    for i in 0..3 {
        create(&api, product(&format!("LST-{i}"), "books", "Acme", 100 + i)).await;
    }
    let (_, newest_cursor) = page(&api, &[("sort", "newest"), ("limit", "1")], None).await;
    let newest_cursor = newest_cursor.expect("a second page");
    let (_, filtered_cursor) = page(&api, &[("category", "books"), ("limit", "1")], None).await;
    let filtered_cursor = filtered_cursor.expect("a second page");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("limit", "abc")], "limit"),
        (vec![("limit", "-5")], "limit"),
        (vec![("minPrice", "-1")], "minPrice"),
        (vec![("maxPrice", "1.5")], "maxPrice"),
        (vec![("minPrice", "500"), ("maxPrice", "100")], "maxPrice"),
        (vec![("category", "Bad!")], "category"),
        (vec![("category", "")], "category"),
        (vec![("sort", "bogus")], "sort"),
        (vec![("sort", "NEWEST")], "sort"),
        (vec![("foo", "1")], "foo"),
        (vec![("cursor", "garbage")], "cursor"),
        (vec![("cursor", "eyJrIjoxfQ.AAAA")], "cursor"),
        // A cursor only works for the query that produced it.
        (
            vec![("sort", "price_asc"), ("cursor", &newest_cursor)],
            "cursor",
        ),
        (
            vec![("category", "toys"), ("cursor", &filtered_cursor)],
            "cursor",
        ),
        (vec![("cursor", &filtered_cursor)], "cursor"),
        (
            vec![
                ("sort", "newest"),
                ("minPrice", "1"),
                ("cursor", &newest_cursor),
            ],
            "cursor",
        ),
    ];
    for (params, field) in cases {
        let r = list(&api, &params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        r.assert_invalid(field);
    }
    // The cursors themselves are fine where they belong.
    let (items, _) = page(
        &api,
        &[("sort", "newest"), ("limit", "1")],
        Some(&newest_cursor),
    )
    .await;
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn listing_names_a_repeated_parameter() {
    let api = TestApi::spawn(Seed::None).await;
    let r = list(&api, &[("limit", "5"), ("limit", "6")]).await;
    r.assert_invalid("limit");
}

#[tokio::test]
async fn rating_sort_is_accepted_and_unknown_sort_names_sort() {
    let api = TestApi::spawn(Seed::None).await;
    for i in 0..5 {
        create(&api, product(&format!("RAT-{i}"), "books", "Acme", 100)).await;
    }
    let items = walk(&api, &[("sort", "rating")], 2).await;
    assert_eq!(items.len(), 5);
    assert_unique(&items);
    let r = list(&api, &[("sort", "popularity")]).await;
    r.assert_invalid("sort");
    assert!(r.body["detail"].as_str().unwrap_or("").contains("sort"));
}

// ------------------------------------------------------------------ 404s ---

#[tokio::test]
async fn unknown_products_and_paths_are_problem_404s() {
    let api = TestApi::spawn(Seed::None).await;
    for path in [
        // As written in the brief (25 characters after the prefix).
        "/v1/products/prd_01J0000000000000000000000",
        // A well-formed ULID nobody minted.
        "/v1/products/prd_01J00000000000000000000000",
        "/v1/products/not-an-id",
        "/v1/products/usr_01J00000000000000000000000",
        "/v1/nope",
        "/v1/products/prd_01J00000000000000000000000/nope",
    ] {
        let r = send(api.request(Method::GET, path)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        r.assert_problem(404, "not_found");
    }
    let token = api.admin_token();
    let absent = "/v1/products/prd_01J00000000000000000000000";
    let r = send(
        api.request(Method::PATCH, absent)
            .bearer_auth(&token)
            .json(&json!({"name": "x"})),
    )
    .await;
    r.assert_problem(404, "not_found");
    let r = send(api.request(Method::DELETE, absent).bearer_auth(&token)).await;
    r.assert_problem(404, "not_found");
    // A known path with a method it does not serve.
    let r = send(api.request(Method::PUT, "/v1/products")).await;
    r.assert_problem(405, "method_not_allowed");
}

// ----------------------------------------------------------------- admin ---

#[tokio::test]
async fn creating_a_product_needs_an_admin_token() {
    let api = TestApi::spawn(Seed::None).await;
    let body = product("abc-1", "laptops", "Northwind", 129_999);
    let r = send(api.request(Method::POST, "/v1/products").json(&body)).await;
    r.assert_problem(401, "unauthorized");
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth("not-a-token")
            .json(&body),
    )
    .await;
    r.assert_problem(401, "unauthorized");
    let expired = lite_http::testing::mint(lite_http::testing::TokenSpec {
        exp_in_secs: -120,
        ..lite_http::testing::TokenSpec::admin("usr_expired")
    });
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(expired)
            .json(&body),
    )
    .await;
    r.assert_problem(401, "unauthorized");
    let unknown_key = lite_http::testing::mint(lite_http::testing::TokenSpec {
        kid: "not-trusted".into(),
        ..lite_http::testing::TokenSpec::admin("usr_other_key")
    });
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(unknown_key)
            .json(&body),
    )
    .await;
    r.assert_problem(401, "unauthorized");
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.customer_token())
            .json(&body),
    )
    .await;
    r.assert_problem(403, "forbidden");
    // Nothing was created by the refused attempts.
    assert_eq!(walk(&api, &[], 10).await.len(), 0);

    let r = post_product(&api, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &r.body;
    assert_product_shape(p);
    let location = r.header("location").expect("Location header");
    assert_eq!(location, format!("/v1/products/{}", id(p)));
    assert_eq!(p["sku"], "ABC-1", "skus are upper-cased");
    assert_eq!(p["name"], body["name"]);
    assert_eq!(p["category"], "laptops");
    assert_eq!(p["brand"], "Northwind");
    assert_eq!(p["price"], json!({"amount": 129_999, "currency": "USD"}));
    assert_eq!(p["images"], body["images"]);
    assert_eq!(p["attributes"], body["attributes"]);
    assert_eq!(p["rating"], json!({"average": 0.0, "count": 0}));
    assert_eq!(p["stock"], json!({"available": 0}));
    assert_eq!(p["createdAt"], p["updatedAt"]);
    let fetched = send(api.request(Method::GET, location)).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(&fetched.body, p);
    let (items, _) = page(&api, &[], None).await;
    assert_eq!(items, vec![p.clone()]);
}

#[tokio::test]
async fn skus_are_unique_ignoring_case() {
    let api = TestApi::spawn(Seed::None).await;
    create(&api, product("abc-1", "books", "Acme", 100)).await;
    for sku in ["abc-1", "ABC-1", "Abc-1", " abc-1 "] {
        let r = post_product(&api, &product(sku, "toys", "Other", 200)).await;
        r.assert_problem(409, "conflict");
    }
    assert_eq!(walk(&api, &[], 10).await.len(), 1);
}

#[tokio::test]
async fn invalid_products_are_400s_naming_the_field() {
    let api = TestApi::spawn(Seed::None).await;
    let valid = product("VAL-1", "books", "Acme", 100);
    let with = |path: &[&str], value: Value| {
        let mut b = valid.clone();
        let mut at = &mut b;
        for key in &path[..path.len() - 1] {
            at = &mut at[*key];
        }
        at[path[path.len() - 1]] = value;
        b
    };
    let without = |field: &str| {
        let mut b = valid.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (with(&["price", "currency"], json!("EUR")), "price.currency"),
        (
            with(&["price", "currency"], json!("dollars")),
            "price.currency",
        ),
        (with(&["price", "amount"], json!(-1)), "price.amount"),
        (with(&["price", "amount"], json!(19.99)), "price.amount"),
        (with(&["price", "amount"], json!("1999")), "price.amount"),
        (without("name"), "name"),
        (with(&["name"], json!("   ")), "name"),
        (without("sku"), "sku"),
        (with(&["sku"], json!("bad sku")), "sku"),
        (without("price"), "price"),
        (with(&["category"], json!("Laptops!")), "category"),
        (
            with(&["images"], json!(["http://images.example.com/1.jpg"])),
            "images[0]",
        ),
        (
            with(
                &["images"],
                json!(["https://ok.example.com/1.jpg", "ftp://x"]),
            ),
            "images[1]",
        ),
        (with(&["colour"], json!("red")), "colour"),
        (
            with(&["rating"], json!({"average": 5, "count": 1})),
            "rating",
        ),
        (
            with(&["attributes"], json!({"bad key!": "x"})),
            "attributes.bad key!",
        ),
    ];
    for (body, field) in cases {
        let r = post_product(&api, &body).await;
        assert_eq!(r.status, 400, "{field}: {body} -> {}", r.body);
        r.assert_invalid(field);
    }
    // Several bad fields are all named.
    let mut many = with(&["price", "amount"], json!(-5));
    many["name"] = json!("");
    many["category"] = json!("Nope!");
    let r = post_product(&api, &many).await;
    r.assert_problem(400, "validation_failed");
    let fields = r.error_fields();
    for f in ["name", "category", "price.amount"] {
        assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
    }
    // Not JSON at all, and JSON without saying so.
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .header("content-type", "application/json")
            .body("{\"sku\": "),
    )
    .await;
    r.assert_problem(400, "bad_request");
    let r = send(
        api.request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .body(valid.to_string()),
    )
    .await;
    r.assert_problem(415, "unsupported_media_type");
    assert_eq!(walk(&api, &[], 10).await.len(), 0, "nothing was created");
}

#[tokio::test]
async fn oversized_bodies_are_413_problems() {
    let api = TestApi::spawn(Seed::None).await;
    let mut body = product("BIG-1", "books", "Acme", 100);
    body["description"] = json!("x".repeat(300 * 1024));
    let r = post_product(&api, &body).await;
    r.assert_problem(413, "payload_too_large");
    // Under the limit the body is read and judged on its merits.
    body["description"] = json!("x".repeat(200 * 1024));
    post_product(&api, &body)
        .await
        .assert_invalid("description");
    assert_eq!(walk(&api, &[], 10).await.len(), 0);
}

#[tokio::test]
async fn patch_moves_a_product_between_categories_and_price_order() {
    let api = TestApi::spawn(Seed::None).await;
    let a = create(&api, product("MOVE-A", "laptops", "Acme", 1_000)).await;
    let b = create(&api, product("MOVE-B", "laptops", "Acme", 2_000)).await;
    let c = create(&api, product("MOVE-C", "cameras", "Acme", 3_000)).await;
    let (a_id, b_id, c_id) = (id(&a), id(&b), id(&c));
    let by_price = ids(&walk(&api, &[("sort", "price_asc")], 2).await);
    assert_eq!(by_price, [a_id, b_id, c_id]);

    let r = patch_product(
        &api,
        a_id,
        json!({"price": {"amount": 5_000, "currency": "USD"}, "category": "cameras"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let patched = &r.body;
    assert_eq!(
        patched["price"],
        json!({"amount": 5_000, "currency": "USD"})
    );
    assert_eq!(patched["category"], "cameras");
    for unchanged in [
        "id",
        "sku",
        "name",
        "description",
        "brand",
        "images",
        "attributes",
        "createdAt",
    ] {
        assert_eq!(patched[unchanged], a[unchanged], "{unchanged} changed");
    }
    assert!(
        patched["updatedAt"].as_str() >= a["updatedAt"].as_str(),
        "updatedAt went back"
    );
    assert_eq!(get_product(&api, a_id).await.body, *patched);

    let laptops = ids(&walk(&api, &[("category", "laptops")], 1).await);
    assert_eq!(laptops, [b_id], "the old category still lists it");
    for sort in ["newest", "price_asc", "price_desc", "rating"] {
        let laptops = ids(&walk(&api, &[("category", "laptops"), ("sort", sort)], 1).await);
        assert_eq!(laptops, [b_id], "laptops by {sort}");
        let cameras: BTreeSet<_> =
            ids(&walk(&api, &[("category", "cameras"), ("sort", sort)], 1).await)
                .into_iter()
                .collect();
        assert_eq!(
            cameras,
            BTreeSet::from([a_id.to_owned(), c_id.to_owned()]),
            "cameras by {sort}"
        );
    }
    let by_price = ids(&walk(&api, &[("sort", "price_asc")], 2).await);
    assert_eq!(by_price, [b_id, c_id, a_id]);
    let by_price = ids(&walk(&api, &[("sort", "price_desc")], 2).await);
    assert_eq!(by_price, [a_id, c_id, b_id]);
    let cheap = ids(&walk(&api, &[("maxPrice", "1500")], 5).await);
    assert!(cheap.is_empty(), "the old price still matches: {cheap:?}");
    let dear = ids(&walk(&api, &[("minPrice", "4000"), ("sort", "price_asc")], 5).await);
    assert_eq!(dear, [a_id]);
    let dear = ids(&walk(&api, &[("minPrice", "4000"), ("sort", "newest")], 5).await);
    assert_eq!(dear, [a_id]);
    // Newest order is by creation: a change does not move it.
    let newest = ids(&walk(&api, &[], 2).await);
    assert_eq!(newest, [c_id, b_id, a_id]);

    // A patch that changes nothing is fine and changes nothing.
    let r = patch_product(&api, a_id, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, *patched);
}

#[tokio::test]
async fn patch_refuses_sku_changes_and_bad_fields() {
    let api = TestApi::spawn(Seed::None).await;
    let p = create(&api, product("FIX-1", "books", "Acme", 100)).await;
    let pid = id(&p);
    for (patch, field) in [
        (json!({"sku": "FIX-2"}), "sku"),
        (
            json!({"price": {"amount": 100, "currency": "EUR"}}),
            "price.currency",
        ),
        (
            json!({"price": {"amount": -1, "currency": "USD"}}),
            "price.amount",
        ),
        (json!({"category": "Bad!"}), "category"),
        (json!({"name": ""}), "name"),
        (
            json!({"images": ["http://insecure.example.com/x.jpg"]}),
            "images[0]",
        ),
        (json!({"stock": {"available": 5}}), "stock"),
    ] {
        let r = patch_product(&api, pid, patch.clone()).await;
        assert_eq!(r.status, 400, "{patch}: {}", r.body);
        r.assert_invalid(field);
    }
    // Nothing changed, the sku above all.
    assert_eq!(get_product(&api, pid).await.body, p);
    let r = send(
        api.request(Method::PATCH, &format!("/v1/products/{pid}"))
            .json(&json!({"name": "No token"})),
    )
    .await;
    r.assert_problem(401, "unauthorized");
    let r = send(
        api.request(Method::PATCH, &format!("/v1/products/{pid}"))
            .bearer_auth(api.customer_token())
            .json(&json!({"name": "Customer"})),
    )
    .await;
    r.assert_problem(403, "forbidden");
    assert_eq!(get_product(&api, pid).await.body, p);
}

#[tokio::test]
async fn delete_removes_the_product_and_frees_its_sku() {
    let api = TestApi::spawn(Seed::None).await;
    let keep = create(&api, product("KEEP-1", "toys", "Acme", 500)).await;
    let gone = create(&api, product("GONE-1", "toys", "Acme", 700)).await;
    let gone_id = id(&gone);

    let r = send(api.request(Method::DELETE, &format!("/v1/products/{gone_id}"))).await;
    r.assert_problem(401, "unauthorized");
    let r = send(
        api.request(Method::DELETE, &format!("/v1/products/{gone_id}"))
            .bearer_auth(api.customer_token()),
    )
    .await;
    r.assert_problem(403, "forbidden");
    assert_eq!(get_product(&api, gone_id).await.status, 200);

    let r = delete_product(&api, gone_id).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null, "204 has no body");
    get_product(&api, gone_id)
        .await
        .assert_problem(404, "not_found");
    for sort in ["newest", "price_asc", "price_desc", "rating"] {
        for filter in [None, Some(("category", "toys")), Some(("minPrice", "600"))] {
            let mut q = vec![("sort", sort)];
            q.extend(filter);
            let listed = ids(&walk(&api, &q, 1).await);
            assert!(
                !listed.contains(&gone_id.to_owned()),
                "{q:?} still lists it"
            );
            if filter != Some(("minPrice", "600")) {
                assert_eq!(listed, [id(&keep)], "{q:?}");
            }
        }
    }
    // The sku is free again, for a brand-new product.
    let again = create(&api, product("gone-1", "books", "Other", 900)).await;
    assert_ne!(id(&again), gone_id);
    assert_eq!(again["sku"], "GONE-1");
    let r = delete_product(&api, gone_id).await;
    r.assert_problem(404, "not_found");
    assert_eq!(get_product(&api, id(&again)).await.status, 200);
    assert_eq!(walk(&api, &[], 10).await.len(), 2);
}

// ------------------------------------------------------------- inventory ---

#[tokio::test]
async fn inventory_sets_the_stock_a_product_shows() {
    let api = TestApi::spawn(Seed::None).await;
    let p = create(&api, product("STK-1", "kitchen", "Acme", 2_500)).await;
    let pid = id(&p);
    assert_eq!(p["stock"]["available"], 0);

    let r = send(
        api.request(Method::PUT, "/v1/inventory/STK-1")
            .bearer_auth(api.admin_token())
            .json(&json!({"available": 7})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sku"], "STK-1");
    assert_eq!(r.body["available"], 7);
    assert_eq!(r.body["reserved"], 0);
    assert!(r.body["updatedAt"].is_string());

    let shown = get_product(&api, pid).await;
    assert_eq!(shown.body["stock"], json!({"available": 7}));
    let (items, _) = page(&api, &[], None).await;
    assert_eq!(
        items[0]["stock"],
        json!({"available": 7}),
        "the listing shows it too"
    );

    let r = send(
        api.request(Method::GET, "/v1/inventory/STK-1")
            .bearer_auth(api.admin_token()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["available"], 7);
    assert_eq!(r.body["sku"], "STK-1");

    // Skus are case-insensitive here too.
    let r = send(
        api.request(Method::PUT, "/v1/inventory/stk-1")
            .bearer_auth(api.admin_token())
            .json(&json!({"available": 3})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get_product(&api, pid).await.body["stock"]["available"], 3);

    let r = send(
        api.request(Method::GET, "/v1/inventory/STK-1")
            .bearer_auth(api.customer_token()),
    )
    .await;
    r.assert_problem(403, "forbidden");
    let r = send(api.request(Method::GET, "/v1/inventory/STK-1")).await;
    r.assert_problem(401, "unauthorized");
    let r = send(
        api.request(Method::PUT, "/v1/inventory/STK-1")
            .bearer_auth(api.customer_token())
            .json(&json!({"available": 100})),
    )
    .await;
    r.assert_problem(403, "forbidden");

    for (body, field) in [
        (json!({"available": -1}), "available"),
        (json!({"available": "7"}), "available"),
        (json!({}), "available"),
        (json!({"available": 1, "reserved": 0}), "reserved"),
    ] {
        let r = send(
            api.request(Method::PUT, "/v1/inventory/STK-1")
                .bearer_auth(api.admin_token())
                .json(&body),
        )
        .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        r.assert_invalid(field);
    }
    let r = send(
        api.request(Method::PUT, "/v1/inventory/bad%20sku")
            .bearer_auth(api.admin_token())
            .json(&json!({"available": 1})),
    )
    .await;
    r.assert_invalid("sku");
    assert_eq!(get_product(&api, pid).await.body["stock"]["available"], 3);

    let r = send(
        api.request(Method::GET, "/v1/inventory/NEVER-STOCKED")
            .bearer_auth(api.admin_token()),
    )
    .await;
    r.assert_problem(404, "not_found");
}

// --------------------------------------------------------------- restart ---

#[tokio::test]
async fn products_and_cursors_survive_a_graceful_restart() {
    let mut api = TestApi::spawn(Seed::None).await;
    let first = create(&api, product("KEEP-A", "books", "Acme", 100)).await;
    let second = create(&api, product("KEEP-B", "books", "Acme", 200)).await;
    let (_, cursor) = page(&api, &[("limit", "1")], None).await;
    let cursor = cursor.expect("a second page");
    let pid = id(&first).to_owned();
    let before = get_product(&api, &pid).await.body;

    api.restart().await;

    let after = get_product(&api, &pid).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body, before, "the product changed across a restart");
    assert_eq!(walk(&api, &[], 10).await.len(), 2, "seed none stays empty");
    // A cursor issued before the restart still continues the walk.
    let (items, next) = page(&api, &[("limit", "1")], Some(&cursor)).await;
    assert_eq!(ids(&items), [id(&first)]);
    assert_eq!(next, None);
    assert_eq!(get_product(&api, id(&second)).await.body, second);
}

#[tokio::test]
async fn a_created_product_survives_a_crash() {
    let mut api = TestApi::spawn(Seed::None).await;
    let p = create(&api, product("CRASH-1", "books", "Acme", 100)).await;
    api.kill_hard();
    api.start().await;
    let r = get_product(&api, id(&p)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, p);
    // The sku is still taken.
    post_product(&api, &product("CRASH-1", "books", "Acme", 100))
        .await
        .assert_problem(409, "conflict");
}

// ----------------------------------------------------------- correlation ---

#[tokio::test]
async fn correlation_ids_are_echoed_or_generated() {
    let api = TestApi::spawn(Seed::None).await;
    let r = send(
        api.request(Method::GET, "/v1/products")
            .header("X-Correlation-Id", "my-id-123"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-correlation-id"), Some("my-id-123"));

    // Problems carry it in the body as well.
    let r = send(
        api.request(Method::GET, "/v1/products?limit=0")
            .header("X-Correlation-Id", "my-id-123"),
    )
    .await;
    r.assert_invalid("limit");
    assert_eq!(r.body["correlationId"], "my-id-123");

    // Without one, or with one unfit for logs, the API makes one up.
    let a = send(api.request(Method::GET, "/v1/health")).await;
    let b = send(api.request(Method::GET, "/v1/health")).await;
    let (a, b) = (a.header("x-correlation-id"), b.header("x-correlation-id"));
    assert!(a.is_some_and(|a| !a.is_empty()));
    assert_ne!(a, b, "each request gets its own id");
    let r = send(
        api.request(Method::GET, "/v1/health")
            .header("X-Correlation-Id", "bad id with spaces"),
    )
    .await;
    let generated = r.header("x-correlation-id").expect("a generated id");
    assert_ne!(generated, "bad id with spaces");
    assert!(!generated.is_empty());
}

#[tokio::test]
async fn a_cursor_survives_the_deletion_of_the_product_it_points_at() {
    let api = TestApi::spawn(Seed::None).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create(&api, product(&format!("DEL-{i}"), "books", "Acme", 100 * i)).await);
    }
    for sort in ["newest", "price_asc"] {
        let q = [("sort", sort), ("limit", "2")];
        let (first, cursor) = page(&api, &q, None).await;
        let cursor = cursor.expect("more pages");
        // The cursor points after the last item of the page: delete it.
        let last = id(&first[1]).to_owned();
        assert_eq!(delete_product(&api, &last).await.status, 204);
        let (items, _) = page(&api, &q, Some(&cursor)).await;
        assert_eq!(items.len(), 2, "{sort}: {items:?}");
        let mut rest = ids(&first[..1]);
        rest.extend(ids(&items));
        assert!(!rest.contains(&last));
        let now = walk(&api, &[("sort", sort)], 100).await;
        assert_eq!(
            ids(&now)[..3],
            rest[..],
            "{sort}: the walk skipped or repeated"
        );
    }
}

// ----------------------------------------------------------- concurrency ---

#[tokio::test]
async fn concurrent_creates_of_one_sku_make_exactly_one_product() {
    let api = TestApi::spawn(Seed::None).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let request = api
            .request(Method::POST, "/v1/products")
            .bearer_auth(api.admin_token())
            .json(&product(
                if i % 2 == 0 { "race-1" } else { "RACE-1" },
                "toys",
                "Acme",
                i,
            ));
        tasks.push(tokio::spawn(send(request)));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let r = t.await.expect("the request task");
        if r.status != 201 {
            r.assert_problem(409, "conflict");
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for sort in ["newest", "price_asc", "rating"] {
        assert_eq!(walk(&api, &[("sort", sort)], 5).await.len(), 1, "{sort}");
    }
    assert_eq!(walk(&api, &[("category", "toys")], 5).await.len(), 1);
}

#[tokio::test]
async fn concurrent_patches_leave_listings_consistent() {
    let api = TestApi::spawn(Seed::None).await;
    let p = create(&api, product("RACE-P", "books", "Acme", 100)).await;
    let pid = id(&p).to_owned();
    let categories = ["books", "toys", "kitchen", "sports"];
    let mut tasks = Vec::new();
    for i in 0..12_i64 {
        let patch = json!({
            "category": categories[i as usize % categories.len()],
            "price": {"amount": 1000 + i, "currency": "USD"},
        });
        let request = api
            .request(Method::PATCH, &format!("/v1/products/{pid}"))
            .bearer_auth(api.admin_token())
            .json(&patch);
        tasks.push(tokio::spawn(send(request)));
    }
    for t in tasks {
        let r = t.await.expect("the request task");
        if r.status != 200 {
            // Losing a race is allowed, as a retryable 409.
            r.assert_problem(409, "conflict");
        }
    }
    let now = get_product(&api, &pid).await.body;
    let category = now["category"].as_str().expect("category").to_owned();
    for c in categories {
        for sort in ["newest", "price_asc", "rating"] {
            let listed = walk(&api, &[("category", c), ("sort", sort)], 5).await;
            if c == category {
                assert_eq!(listed, vec![now.clone()], "{c} by {sort}");
            } else {
                assert!(
                    listed.is_empty(),
                    "{c} by {sort} still lists it: {listed:?}"
                );
            }
        }
    }
    for sort in ["newest", "price_asc", "price_desc", "rating"] {
        assert_eq!(
            walk(&api, &[("sort", sort)], 5).await,
            vec![now.clone()],
            "{sort}"
        );
    }
    let amount = price(&now).to_string();
    let exact = walk(
        &api,
        &[
            ("minPrice", &amount),
            ("maxPrice", &amount),
            ("sort", "price_asc"),
        ],
        5,
    )
    .await;
    assert_eq!(exact, vec![now.clone()]);
}

#[tokio::test]
async fn demo_restart_does_not_resurrect_deleted_products() {
    let mut api = TestApi::spawn(Seed::Demo).await;
    let before = walk(&api, &[], 100).await;
    let victim = before[5].clone();
    assert_eq!(delete_product(&api, id(&victim)).await.status, 204);
    api.restart().await;
    let after = walk(&api, &[], 100).await;
    let resurrected: Vec<_> = after
        .iter()
        .filter(|p| p["sku"] == victim["sku"])
        .map(|p| p["id"].clone())
        .collect();
    assert!(
        resurrected.is_empty(),
        "the deleted demo product {} came back on restart as {resurrected:?}",
        victim["sku"]
    );
    assert_eq!(after.len(), before.len() - 1);
}

#[tokio::test]
async fn demo_seed_loads_only_into_an_empty_store() {
    let mut api = TestApi::spawn(Seed::None).await;
    let mine = create(&api, product("MINE-1", "books", "Acme", 100)).await;
    api.set_seed(Seed::Demo);
    api.restart().await;
    let after = walk(&api, &[], 100).await;
    assert_eq!(
        after.len(),
        1,
        "AMAZON_LITE_SEED=demo loaded {} demo products into a store that was not empty",
        after.len() - 1
    );
    assert_eq!(ids(&after), [id(&mine)]);
}
