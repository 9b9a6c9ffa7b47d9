//! Search over HTTP against the real binary: the tantivy index in the data
//! directory, fed by the catalog's events. Products the admin creates,
//! renames and deletes show up and go; typos, plurals and brands find demo
//! products; filters, facets, sorts and cursors hold against the demo
//! catalog file itself; suggestions complete and forgive; bad parameters
//! are field-named 400s; the index survives a restart and is rebuilt from
//! the store when its folder is deleted.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use system_tests::{eventually, send, unique, Reply, Seed, TestApi};

/// How long the index may lag behind the catalog here.
const INDEX_LAG: Duration = Duration::from_secs(60);

/// The demo catalog the server seeds (`AMAZON_LITE_SEED=demo`).
const DEMO_JSON: &str = include_str!("../functions/local/demo/products.json");

type Params<'a> = &'a [(&'a str, &'a str)];

fn demo() -> Vec<Value> {
    serde_json::from_str(DEMO_JSON).expect("the demo catalog parses")
}

fn demo_count(keep: impl Fn(&Value) -> bool) -> u64 {
    demo().iter().filter(|p| keep(p)).count() as u64
}

async fn search(api: &TestApi, params: Params<'_>) -> Reply {
    send(api.request(Method::GET, "/v1/search").query(params)).await
}

/// A 200 search page, its shape checked.
async fn found(api: &TestApi, params: Params<'_>) -> Value {
    let r = search(api, params).await;
    assert_eq!(r.status, 200, "GET /v1/search {params:?}: {}", r.body);
    let b = r.body;
    assert!(b["items"].is_array(), "{b}");
    assert!(b["total"].is_u64(), "{b}");
    assert!(b["facets"]["category"].is_array(), "{b}");
    assert!(b["facets"]["brand"].is_array(), "{b}");
    assert!(
        b["nextCursor"].is_string() || b["nextCursor"].is_null(),
        "{b}"
    );
    b
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

fn names(page: &Value) -> Vec<&str> {
    items(page)
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

fn ids(page: &Value) -> Vec<&str> {
    items(page)
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect()
}

fn price(p: &Value) -> i64 {
    p["price"]["amount"].as_i64().expect("price.amount")
}

/// A facet as a map value → count, asserting it is ordered by count, most
/// first.
fn facet(page: &Value, name: &str) -> BTreeMap<String, u64> {
    let list = page["facets"][name].as_array().expect("a facet list");
    let counts: Vec<u64> = list.iter().map(|f| f["count"].as_u64().unwrap()).collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "facet {name} is not most-first: {list:?}"
    );
    list.iter()
        .map(|f| {
            (
                f["value"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every page of a search, following `nextCursor`; asserts page sizes.
async fn walk(api: &TestApi, params: Params<'_>, limit: usize) -> Vec<Value> {
    let limit_s = limit.to_string();
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut q = params.to_vec();
        q.push(("limit", &limit_s));
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let page = found(api, &q).await;
        let n = items(&page).len();
        assert!(n <= limit, "{n} items on a page of {limit}");
        all.extend(items(&page).iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => {
                assert_eq!(n, limit, "a page before the last is full");
                cursor = Some(c.to_owned());
            }
            None => return all,
        }
    }
    panic!("more than 100 pages for {params:?}");
}

fn assert_distinct(all: &[Value]) -> BTreeSet<String> {
    let set: BTreeSet<String> = all
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(set.len(), all.len(), "a product came twice across pages");
    set
}

/// The whole demo catalog is searchable as soon as the server answers: a
/// first start seeds it, then indexes it in one rebuild before serving.
async fn assert_demo_indexed(api: &TestApi) {
    let page = found(api, &[("limit", "1")]).await;
    assert_eq!(page["total"], demo().len() as u64, "{page}");
}

/// Waits until what `look` answers passes `check` (the index is
/// eventually consistent with the catalog); fails with `what` and the
/// last answer, as `show` writes it.
async fn until_indexed<T, Fut>(
    what: &str,
    look: impl Fn() -> Fut,
    check: impl Fn(&T) -> bool,
    show: impl Fn(&T) -> String,
) -> T
where
    Fut: std::future::Future<Output = T>,
{
    let (look, check, show) = (&look, &check, &show);
    eventually(INDEX_LAG, what, || async move {
        let now = look().await;
        if check(&now) {
            Ok(now)
        } else {
            Err(show(&now))
        }
    })
    .await
}

/// Waits until searching `q` gives what `check` accepts; returns the page.
async fn until_search(
    api: &TestApi,
    params: Params<'_>,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    until_indexed(what, || found(api, params), check, Value::to_string).await
}

async fn suggest(api: &TestApi, params: Params<'_>) -> Reply {
    send(api.request(Method::GET, "/v1/search/suggest").query(params)).await
}

async fn suggestions(api: &TestApi, q: &str) -> Vec<String> {
    let r = suggest(api, &[("q", q)]).await;
    assert_eq!(r.status, 200, "suggest {q:?}: {}", r.body);
    r.body["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the suggestions for `q` satisfy `check` (suggestions are
/// part of search, eventually consistent with the catalog like it).
async fn until_suggested(
    api: &TestApi,
    q: &str,
    what: &str,
    check: impl Fn(&Vec<String>) -> bool,
) -> Vec<String> {
    let show = |now: &Vec<String>| format!("{q:?} suggests {now:?}");
    until_indexed(what, || suggestions(api, q), check, show).await
}

async fn admin(api: &TestApi, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut r = api.request(method, path).bearer_auth(api.admin_token());
    if let Some(b) = body {
        r = r.json(&b);
    }
    send(r).await
}

fn new_product(name: &str, category: &str, brand: &str, amount: i64) -> Value {
    json!({
        "sku": unique("SRCH").to_uppercase(),
        "name": name,
        "description": "Hand-finished in small batches; a product made by the search tests.",
        "category": category,
        "brand": brand,
        "price": {"amount": amount, "currency": "USD"},
        "images": ["https://images.example.com/tests/search-1.jpg"],
        "attributes": {}
    })
}

async fn create(api: &TestApi, body: Value) -> Value {
    let r = admin(api, Method::POST, "/v1/products", Some(body)).await;
    assert_eq!(r.status, 201, "create: {}", r.body);
    r.body
}

// ------------------------------------------------------------------ tests ---

#[tokio::test]
async fn search_follows_products_the_admin_creates_renames_and_deletes() {
    let api = TestApi::spawn(Seed::Demo).await;
    assert_demo_indexed(&api).await;
    let p = create(
        &api,
        new_product(
            "Zorbanite Quartz Desk Lamp",
            "lighting",
            "Luminaut Works",
            4_321,
        ),
    )
    .await;
    let id = p["id"].as_str().unwrap();

    let page = until_search(
        &api,
        &[("q", "zorbanite")],
        "the new product is found",
        |b| ids(b) == [id],
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
    let hit = &page["items"][0];
    assert_eq!(hit["sku"], p["sku"]);
    assert_eq!(hit["name"], "Zorbanite Quartz Desk Lamp");
    assert_eq!(hit["category"], "lighting");
    assert_eq!(hit["brand"], "Luminaut Works");
    assert_eq!(hit["price"], json!({"amount": 4321, "currency": "USD"}));
    assert_eq!(hit["rating"], json!({"average": 0.0, "count": 0}));
    assert_eq!(
        hit["image"],
        "https://images.example.com/tests/search-1.jpg"
    );
    // Its own category and brand, with their facets.
    let page = found(&api, &[("category", "lighting")]).await;
    assert_eq!(ids(&page), [id]);
    assert_eq!(facet(&page, "category")["lighting"], 1);
    assert_eq!(
        facet(&page, "brand"),
        BTreeMap::from([("Luminaut Works".to_owned(), 1)])
    );
    let page = found(&api, &[("brand", "Luminaut Works")]).await;
    assert_eq!(ids(&page), [id]);
    assert_eq!(found(&api, &[]).await["total"], demo().len() as u64 + 1);
    // A misspelt word of it finds it too, and so does the suggester.
    let page = found(&api, &[("q", "zorbanit deks lamp")]).await;
    assert_eq!(ids(&page).first(), Some(&id), "{page}");
    until_suggested(&api, "zorb", "the new name is suggested", |s| {
        s.first().map(String::as_str) == Some("zorbanite")
    })
    .await;

    // Renamed and repriced.
    let r = admin(
        &api,
        Method::PATCH,
        &format!("/v1/products/{id}"),
        Some(json!({"name": "Zorbanite Nebula Floor Lamp", "price": {"amount": 5555, "currency": "USD"}})),
    )
    .await;
    assert_eq!(r.status, 200, "patch: {}", r.body);
    let page = until_search(&api, &[("q", "nebula")], "the new name is found", |b| {
        ids(b) == [id]
    })
    .await;
    assert_eq!(page["items"][0]["name"], "Zorbanite Nebula Floor Lamp");
    assert_eq!(price(&page["items"][0]), 5555);
    // The old name's word is gone, and the price filters see the new price.
    let page = found(&api, &[("q", "quartz"), ("limit", "100")]).await;
    assert!(
        !ids(&page).contains(&id),
        "the old name still finds it: {page}"
    );
    let page = found(&api, &[("category", "lighting"), ("maxPrice", "5000")]).await;
    assert_eq!(page["total"], 0, "{page}");
    let page = found(
        &api,
        &[
            ("category", "lighting"),
            ("minPrice", "5555"),
            ("maxPrice", "5555"),
        ],
    )
    .await;
    assert_eq!(ids(&page), [id]);
    until_suggested(&api, "nebu", "the new name's word is suggested", |s| {
        s.contains(&"nebula".to_owned())
    })
    .await;

    // Deleted: it leaves results, facets and suggestions.
    let r = admin(&api, Method::DELETE, &format!("/v1/products/{id}"), None).await;
    assert_eq!(r.status, 204, "delete: {}", r.body);
    until_search(
        &api,
        &[("q", "zorbanite")],
        "the deleted product is gone",
        |b| b["total"] == 0 && items(b).is_empty(),
    )
    .await;
    let page = found(&api, &[]).await;
    assert_eq!(page["total"], demo().len() as u64);
    assert!(!facet(&page, "category").contains_key("lighting"), "{page}");
    assert!(
        !facet(&page, "brand").contains_key("Luminaut Works"),
        "{page}"
    );
    until_suggested(
        &api,
        "zorb",
        "a deleted product's words are no longer suggested",
        |s| !s.contains(&"zorbanite".to_owned()),
    )
    .await;
}

#[tokio::test]
async fn typos_plurals_and_brand_names_find_demo_products() {
    let api = TestApi::spawn(Seed::Demo).await;
    assert_demo_indexed(&api).await;

    // "labtop": every one of the top ten is a laptop.
    let page = found(&api, &[("q", "labtop"), ("limit", "10")]).await;
    assert!(page["total"].as_u64().unwrap() >= 20, "{page}");
    for p in items(&page) {
        assert_eq!(p["category"], "laptops", "labtop found {}", p["name"]);
    }
    // A misspelt word of a name, with its other word spelt right.
    let page = found(&api, &[("q", "expresso machine"), ("limit", "3")]).await;
    assert!(
        names(&page).contains(&"Brevette Barista Espresso Machine with Built-In Grinder"),
        "{:?}",
        names(&page)
    );
    let page = found(&api, &[("q", "hedphones"), ("limit", "5")]).await;
    for p in items(&page) {
        assert_eq!(p["category"], "headphones", "hedphones found {}", p["name"]);
    }
    let page = found(&api, &[("q", "Nortwind"), ("limit", "5")]).await;
    for p in items(&page) {
        assert_eq!(p["brand"], "Northwind", "Nortwind found {}", p["name"]);
    }
    // Plurals of singular names, and the other way round.
    let page = found(&api, &[("q", "kettles")]).await;
    assert_eq!(
        names(&page).first(),
        Some(&"Brevette Gooseneck Electric Kettle, Variable Temperature"),
        "{:?}",
        names(&page)
    );
    let page = found(&api, &[("q", "skillets")]).await;
    assert_eq!(
        names(&page).first(),
        Some(&"Copperleaf 12-inch Cast Iron Skillet, Pre-Seasoned")
    );
    let page = found(&api, &[("q", "earbud"), ("limit", "5")]).await;
    for p in items(&page) {
        let n = p["name"].as_str().unwrap();
        assert!(n.contains("Earbuds"), "earbud found {n}");
    }
    // Brands, one word and two, ASCII case-insensitive.
    let page = found(&api, &[("q", "brevette"), ("limit", "5")]).await;
    assert!(page["total"].as_u64().unwrap() >= 5);
    for p in items(&page) {
        assert_eq!(p["brand"], "Brevette", "brevette found {}", p["name"]);
    }
    let altair = demo_count(|p| p["brand"] == "Altair Audio") as usize;
    let page = found(
        &api,
        &[("q", "Altair Audio"), ("limit", &altair.to_string())],
    )
    .await;
    assert_eq!(items(&page).len(), altair);
    for p in items(&page) {
        assert_eq!(
            p["brand"], "Altair Audio",
            "Altair Audio found {}",
            p["name"]
        );
    }
    // Nonsense finds nothing (and is not an error).
    let page = found(&api, &[("q", "qwxzvbnm")]).await;
    assert_eq!(page["total"], 0);
    assert!(items(&page).is_empty());
    assert_eq!(page["nextCursor"], Value::Null);
}

#[tokio::test]
async fn filters_restrict_results_and_facets_count_every_match() {
    let api = TestApi::spawn(Seed::Demo).await;
    assert_demo_indexed(&api).await;
    let catalog = demo();
    let counts = |field: &str, keep: &dyn Fn(&Value) -> bool| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for p in catalog.iter().filter(|p| keep(p)) {
            *m.entry(p[field].as_str().unwrap().to_owned()).or_default() += 1;
        }
        m
    };

    // No filter: facets count the whole catalog.
    let page = found(&api, &[("limit", "1")]).await;
    assert_eq!(facet(&page, "category"), counts("category", &|_| true));
    assert_eq!(facet(&page, "brand"), counts("brand", &|_| true));

    // A category: only it; its brand facet counts within it; the category
    // facet ignores its own filter (so shoppers can switch).
    let page = found(&api, &[("category", "headphones"), ("limit", "100")]).await;
    assert_eq!(page["total"], demo_count(|p| p["category"] == "headphones"));
    assert_eq!(items(&page).len() as u64, page["total"].as_u64().unwrap());
    assert!(items(&page).iter().all(|p| p["category"] == "headphones"));
    assert_eq!(facet(&page, "category"), counts("category", &|_| true));
    assert_eq!(
        facet(&page, "brand"),
        counts("brand", &|p| p["category"] == "headphones")
    );

    // A brand: the same the other way round.
    let page = found(&api, &[("brand", "Northwind"), ("limit", "100")]).await;
    assert_eq!(page["total"], demo_count(|p| p["brand"] == "Northwind"));
    assert!(items(&page).iter().all(|p| p["brand"] == "Northwind"));
    assert_eq!(
        facet(&page, "category"),
        counts("category", &|p| p["brand"] == "Northwind")
    );
    assert_eq!(facet(&page, "brand"), counts("brand", &|_| true));

    // Both: their intersection.
    let page = found(&api, &[("brand", "Northwind"), ("category", "laptops")]).await;
    let want = demo_count(|p| p["brand"] == "Northwind" && p["category"] == "laptops");
    assert_eq!(page["total"], want);
    assert_eq!(facet(&page, "brand")["Northwind"], want);

    // Price bounds are inclusive, in minor units: exactly the demo's matches.
    let page = found(
        &api,
        &[
            ("category", "headphones"),
            ("minPrice", "9900"),
            ("maxPrice", "19900"),
            ("limit", "100"),
        ],
    )
    .await;
    let got: BTreeSet<&str> = names(&page).into_iter().collect();
    let want: BTreeSet<&str> = catalog
        .iter()
        .filter(|p| p["category"] == "headphones" && (9_900..=19_900).contains(&price(p)))
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        want.contains("Lumera Buds FE Noise Cancelling Earbuds"),
        "the lower bound is a demo price"
    );
    assert!(
        want.contains("Altair Audio HX700 Over-Ear Bluetooth Headphones"),
        "the upper bound is a demo price"
    );
    assert_eq!(got, want);
    assert_eq!(page["total"], want.len() as u64);

    // Text and a price bound together.
    let page = found(
        &api,
        &[("q", "laptop"), ("maxPrice", "60000"), ("limit", "100")],
    )
    .await;
    assert!(items(&page).iter().all(|p| price(p) <= 60_000), "{page}");
    let got = names(&page);
    for cheap in [
        "Northwind Field 15 Laptop, 8 GB RAM, 256 GB SSD",
        "Halden Scholar 11 Rugged Student Laptop",
    ] {
        assert!(got.contains(&cheap), "{cheap} missing from {got:?}");
    }
    let page = found(&api, &[("minPrice", "100000000")]).await;
    assert_eq!(page["total"], 0);

    // An unknown category or brand matches nothing.
    for params in [[("category", "spaceships")], [("brand", "Acme Rockets")]] {
        let page = found(&api, &params).await;
        assert_eq!(page["total"], 0, "{params:?}");
        assert!(items(&page).is_empty());
    }
}

#[tokio::test]
async fn sorts_order_results_and_cursor_pages_cover_every_match_once() {
    let api = TestApi::spawn(Seed::Demo).await;
    assert_demo_indexed(&api).await;
    let catalog = demo();

    // Cheapest first, pages of 6 over one category.
    let all = walk(&api, &[("category", "kitchen"), ("sort", "price_asc")], 6).await;
    let set = assert_distinct(&all);
    assert_eq!(set.len() as u64, demo_count(|p| p["category"] == "kitchen"));
    let prices: Vec<i64> = all.iter().map(price).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let mut want: Vec<i64> = catalog
        .iter()
        .filter(|p| p["category"] == "kitchen")
        .map(price)
        .collect();
    want.sort();
    assert_eq!(prices, want);

    // Dearest first, with text.
    let first = found(
        &api,
        &[("q", "headphones"), ("sort", "price_desc"), ("limit", "7")],
    )
    .await;
    let total = first["total"].as_u64().unwrap();
    assert!(total > 7, "{first}");
    let all = walk(&api, &[("q", "headphones"), ("sort", "price_desc")], 7).await;
    assert_eq!(assert_distinct(&all).len() as u64, total);
    let prices: Vec<i64> = all.iter().map(price).collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");
    assert_eq!(prices[0], 54_999, "the dearest headphones come first");

    // Relevance pages are the one-page result cut into pieces.
    let whole = found(&api, &[("q", "laptop"), ("limit", "100")]).await;
    let whole_ids: Vec<&str> = ids(&whole);
    assert_eq!(whole["nextCursor"], Value::Null);
    assert_eq!(whole_ids.len() as u64, whole["total"].as_u64().unwrap());
    let all = walk(&api, &[("q", "laptop")], 4).await;
    assert_distinct(&all);
    let paged: Vec<&str> = all.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(paged, whole_ids);

    // Newest: the whole catalog, each once.
    let all = walk(&api, &[("sort", "newest")], 100).await;
    assert_eq!(assert_distinct(&all).len(), catalog.len());
    // Rating: accepted, every product once.
    let all = walk(&api, &[("sort", "rating"), ("category", "books")], 8).await;
    assert_eq!(
        assert_distinct(&all).len() as u64,
        demo_count(|p| p["category"] == "books")
    );

    // A cursor belongs to its query: another filter or sort refuses it.
    let page = found(
        &api,
        &[
            ("category", "kitchen"),
            ("sort", "price_asc"),
            ("limit", "5"),
        ],
    )
    .await;
    let cursor = page["nextCursor"].as_str().expect("a next page").to_owned();
    for other in [
        vec![("category", "books"), ("sort", "price_asc")],
        vec![("category", "kitchen"), ("sort", "price_desc")],
        vec![
            ("category", "kitchen"),
            ("sort", "price_asc"),
            ("q", "kettle"),
        ],
    ] {
        let mut q = other.clone();
        q.push(("cursor", &cursor));
        search(&api, &q)
            .await
            .assert_problem(400, "validation_failed")
            .assert_invalid("cursor");
    }
    // The same query takes it (the limit may change).
    let next = found(
        &api,
        &[
            ("category", "kitchen"),
            ("sort", "price_asc"),
            ("limit", "10"),
            ("cursor", &cursor),
        ],
    )
    .await;
    assert_eq!(items(&next).len(), 10);
    assert!(price(&next["items"][0]) >= price(&page["items"][4]));
    let before: BTreeSet<&str> = ids(&page).into_iter().collect();
    assert!(ids(&next).iter().all(|id| !before.contains(id)));
}

#[tokio::test]
async fn suggestions_complete_prefixes_and_forgive_typos() {
    let api = TestApi::spawn(Seed::Demo).await;
    assert_demo_indexed(&api).await;

    let lap = suggestions(&api, "lap").await;
    assert_eq!(lap.first().map(String::as_str), Some("laptop"), "{lap:?}");
    assert!(lap.contains(&"laptops".to_owned()), "{lap:?}");
    assert!(lap.iter().all(|s| s.starts_with("lap")), "{lap:?}");
    assert!(lap.len() <= 8, "the default limit is 8: {lap:?}");
    assert_eq!(suggestions(&api, "  LAP ").await, lap, "case and spaces");

    assert!(suggestions(&api, "headph")
        .await
        .contains(&"headphones".to_owned()));
    assert!(suggestions(&api, "brev")
        .await
        .contains(&"brevette".to_owned()));
    // Two words: phrases of names.
    let aero = suggestions(&api, "northwind ae").await;
    assert!(aero.contains(&"northwind aero".to_owned()), "{aero:?}");
    // One typo in a long enough prefix.
    let typo = suggestions(&api, "hedphon").await;
    assert!(typo.contains(&"headphones".to_owned()), "{typo:?}");
    let typo = suggestions(&api, "labto").await;
    assert!(typo.contains(&"laptop".to_owned()), "{typo:?}");
    // Nothing close: nothing, and not an error.
    assert!(suggestions(&api, "qwxzv").await.is_empty());

    let r = suggest(&api, &[("q", "lap"), ("limit", "2")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["suggestions"].as_array().unwrap().len(),
        2,
        "{}",
        r.body
    );

    for (params, field) in [
        (vec![], "q"),
        (vec![("q", "   ")], "q"),
        (vec![("q", "lap"), ("limit", "0")], "limit"),
        (vec![("q", "lap"), ("limit", "21")], "limit"),
    ] {
        suggest(&api, &params)
            .await
            .assert_problem(400, "validation_failed")
            .assert_invalid(field);
    }
    let long = "a".repeat(201);
    suggest(&api, &[("q", &long)])
        .await
        .assert_problem(400, "validation_failed")
        .assert_invalid("q");
}

#[tokio::test]
async fn bad_search_parameters_are_400_problems_naming_the_parameter() {
    let api = TestApi::spawn(Seed::None).await;
    let long = "x".repeat(201);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "101")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("sort", "cheapest")], "sort"),
        (vec![("sort", "")], "sort"),
        (vec![("minPrice", "500"), ("maxPrice", "100")], "maxPrice"),
        (vec![("minPrice", "-1")], "minPrice"),
        (vec![("maxPrice", "1.5")], "maxPrice"),
        (vec![("q", &long)], "q"),
        (vec![("cursor", "not-a-cursor")], "cursor"),
        (vec![("cursor", "")], "cursor"),
    ];
    for (params, field) in cases {
        let r = search(&api, &params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        r.assert_problem(400, "validation_failed");
        assert!(
            r.error_fields().contains(&field.to_owned()),
            "{params:?}: errors name {:?}, not {field}",
            r.error_fields()
        );
    }
    // Several bad parameters are all named at once.
    let r = search(&api, &[("limit", "0"), ("sort", "up")]).await;
    r.assert_problem(400, "validation_failed");
    let fields: BTreeSet<String> = r.error_fields().into_iter().collect();
    assert_eq!(
        fields,
        BTreeSet::from(["limit".to_owned(), "sort".to_owned()])
    );
    // An unknown parameter is refused, not ignored.
    search(&api, &[("colour", "red")])
        .await
        .assert_problem(400, "validation_failed");
    // The edges that are fine.
    let edge = "x".repeat(200);
    for params in [
        vec![("q", edge.as_str())],
        vec![("limit", "1")],
        vec![("limit", "100")],
        vec![("minPrice", "100"), ("maxPrice", "100")],
        vec![("q", "   ")],
    ] {
        let page = found(&api, &params).await;
        assert_eq!(page["total"], 0, "{params:?}");
    }
}

/// Waits until searching `q` gives exactly `want` ids, in that order.
async fn until_ids(api: &TestApi, q: &str, want: &[&str]) {
    until_search(api, &[("q", q)], &format!("{q} finds {want:?}"), |b| {
        ids(b) == want
    })
    .await;
}

fn rebuilds(api: &TestApi) -> usize {
    api.log()
        .matches("search index rebuilt from the catalog")
        .count()
}

#[tokio::test]
async fn the_index_survives_a_restart_and_is_rebuilt_when_its_folder_is_deleted() {
    let mut api = TestApi::spawn(Seed::Demo).await;
    let demo_total = demo().len() as u64;
    assert_demo_indexed(&api).await;
    assert_eq!(
        rebuilds(&api),
        1,
        "the seeded catalog is indexed in one rebuild"
    );

    // A new product, a demo product repriced, another deleted.
    let made = create(
        &api,
        new_product("Quokkaline Trail Flask", "sports", "Wallaby Gear", 2_499),
    )
    .await;
    let made_id = made["id"].as_str().unwrap().to_owned();
    let kettle = found(&api, &[("q", "gooseneck kettle")]).await;
    let kettle_id = kettle["items"][0]["id"].as_str().unwrap().to_owned();
    let scale = found(&api, &[("q", "digital kitchen scale")]).await;
    assert_eq!(
        scale["items"][0]["name"],
        "Saltgrove Digital Kitchen Scale, 5 kg"
    );
    let scale_id = scale["items"][0]["id"].as_str().unwrap().to_owned();
    let r = admin(
        &api,
        Method::PATCH,
        &format!("/v1/products/{kettle_id}"),
        Some(json!({"price": {"amount": 7777, "currency": "USD"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin(
        &api,
        Method::DELETE,
        &format!("/v1/products/{scale_id}"),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    until_ids(&api, "quokkaline", &[&made_id]).await;
    until_search(
        &api,
        &[("q", "gooseneck kettle")],
        "the kettle's new price",
        |b| b["items"][0]["id"] == kettle_id.as_str() && price(&b["items"][0]) == 7777,
    )
    .await;
    until_search(&api, &[("limit", "1")], "the scale is gone", |b| {
        b["total"] == demo_total
    })
    .await;

    // Asserted at once after each start: nothing may have to catch up.

    api.restart().await;
    assert_index(&api, demo_total, &made_id, &kettle_id, &scale_id).await;
    assert_eq!(rebuilds(&api), 1, "an intact index is not rebuilt");

    // The index folder deleted: rebuilt from the store before serving.
    api.stop();
    let dir = api.data_dir().join("search");
    assert!(dir.is_dir(), "the index lives in {}", dir.display());
    std::fs::remove_dir_all(&dir).unwrap();
    api.start().await;
    assert_eq!(rebuilds(&api), 2, "the deleted index is rebuilt once");
    assert!(dir.is_dir());
    assert_index(&api, demo_total, &made_id, &kettle_id, &scale_id).await;

    // And it keeps following the catalog.
    let later = create(
        &api,
        new_product("Quokkaline Summit Mug", "sports", "Wallaby Gear", 1_299),
    )
    .await;
    let later_id = later["id"].as_str().unwrap();
    until_search(
        &api,
        &[("brand", "Wallaby Gear")],
        "a product made after the rebuild",
        |b| b["total"] == 2 && ids(b).contains(&later_id),
    )
    .await;
}

/// What the index must answer right after a start (no waiting).
async fn assert_index(api: &TestApi, total: u64, made: &str, kettle: &str, deleted: &str) {
    let page = found(api, &[("limit", "1")]).await;
    assert_eq!(page["total"], total, "{page}");
    let page = found(api, &[("q", "quokkaline")]).await;
    assert_eq!(ids(&page), [made]);
    assert_eq!(page["items"][0]["name"], "Quokkaline Trail Flask");
    let page = found(api, &[("q", "gooseneck kettle")]).await;
    assert_eq!(page["items"][0]["id"], kettle);
    assert_eq!(price(&page["items"][0]), 7777);
    let page = found(api, &[("q", "digital kitchen scale"), ("limit", "100")]).await;
    assert!(!ids(&page).contains(&deleted), "the deleted scale is back");
    let page = found(api, &[("brand", "Saltgrove")]).await;
    assert_eq!(page["total"], demo_count(|p| p["brand"] == "Saltgrove") - 1);
}
