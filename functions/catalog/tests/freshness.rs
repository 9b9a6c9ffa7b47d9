//! Caching of the public catalog reads through the finished router:
//! `Cache-Control`, a strong `ETag` that follows the body (the product, its
//! stock), `If-None-Match` → 304 without a body, and no shared caching of
//! answers to authenticated requests or of errors.

use axum::http::{header, StatusCode};
use lite_http::testing::{admin_token, customer_token, TestClient, TestResponse};
use lite_service::Service;
use serde_json::{json, Value};

const PUBLIC: &str = "public, max-age=30, stale-while-revalidate=30";

fn client() -> TestClient {
    let ctx = lite_ports::testing::memory_context();
    let router = catalog::Catalog::new(ctx.clone())
        .router()
        .merge(inventory::Inventory::new(ctx).router());
    TestClient::new(lite_http::testing::finish_for_tests(router))
}

fn product(sku: &str) -> Value {
    json!({
        "sku": sku, "name": format!("Product {sku}"), "description": "A thing.", "category": "laptops",
        "brand": "Northwind", "price": {"amount": 1000, "currency": "USD"},
        "images": [], "attributes": {}
    })
}

async fn create(c: &TestClient, sku: &str) -> String {
    let r = c
        .post("/v1/products")
        .bearer(Some(&admin_token("usr_admin")))
        .json(product(sku))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

fn header(r: &TestResponse, name: header::HeaderName) -> &str {
    r.headers
        .get(&name)
        .unwrap_or_else(|| panic!("{name} is set"))
        .to_str()
        .unwrap()
}

/// `GET uri` with `If-None-Match: tag`.
async fn get_if_none_match(c: &TestClient, uri: &str, tag: &str) -> TestResponse {
    c.get(uri).header("if-none-match", tag).send().await
}

#[tokio::test]
async fn a_product_is_public_short_lived_and_tagged_and_a_matching_tag_is_304() {
    let c = client();
    let id = create(&c, "FRESH-1").await;
    let uri = format!("/v1/products/{id}");

    let first = c.get(&uri).send().await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(header(&first, header::CACHE_CONTROL), PUBLIC);
    let etag = header(&first, header::ETAG).to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    // The same body, the same tag.
    let again = c.get(&uri).send().await;
    assert_eq!(header(&again, header::ETAG), etag);

    let not_modified = get_if_none_match(&c, &uri, &etag).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.json, Value::Null, "no body");
    assert_eq!(header(&not_modified, header::ETAG), etag);
    assert_eq!(header(&not_modified, header::CACHE_CONTROL), PUBLIC);
    // A weak form of the tag and a list holding it match too (RFC 9110 weak comparison).
    for tag in [format!("W/{etag}"), format!("\"nope\", {etag}"), "*".into()] {
        let r = get_if_none_match(&c, &uri, &tag).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{tag}");
    }
    let other = get_if_none_match(&c, &uri, "\"0123456789abcdef0123456789abcdef\"").await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.json["id"], id.as_str());
}

#[tokio::test]
async fn the_tag_changes_when_the_product_or_its_stock_changes() {
    let c = client();
    let id = create(&c, "FRESH-2").await;
    let uri = format!("/v1/products/{id}");
    let admin = admin_token("usr_admin");
    let tag = |r: &TestResponse| header(r, header::ETAG).to_owned();

    let v1 = tag(&c.get(&uri).send().await);
    let patched = c
        .patch(&uri)
        .bearer(Some(&admin))
        .json(json!({"price": {"amount": 1250, "currency": "USD"}}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    let after_edit = get_if_none_match(&c, &uri, &v1).await;
    assert_eq!(after_edit.status, StatusCode::OK, "an edit is not a 304");
    assert_eq!(after_edit.json["price"]["amount"], 1250);
    let v2 = tag(&after_edit);
    assert_ne!(v2, v1);

    let stocked = c
        .put("/v1/inventory/FRESH-2")
        .bearer(Some(&admin))
        .json(json!({"available": 7}))
        .send()
        .await;
    assert_eq!(stocked.status, StatusCode::OK, "{}", stocked.json);
    let after_stock = get_if_none_match(&c, &uri, &v2).await;
    assert_eq!(
        after_stock.status,
        StatusCode::OK,
        "a stock change is not a 304"
    );
    assert_eq!(after_stock.json["stock"]["available"], 7);
    assert_ne!(tag(&after_stock), v2);
}

#[tokio::test]
async fn a_listing_page_is_cached_and_tagged_and_changes_with_the_catalog() {
    let c = client();
    create(&c, "FRESH-3").await;
    let uri = "/v1/products?category=laptops&limit=5";
    let first = c.get(uri).send().await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(header(&first, header::CACHE_CONTROL), PUBLIC);
    let etag = header(&first, header::ETAG).to_owned();

    let not_modified = get_if_none_match(&c, uri, &etag).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.json, Value::Null);
    assert_eq!(header(&not_modified, header::CACHE_CONTROL), PUBLIC);

    create(&c, "FRESH-4").await;
    let changed = get_if_none_match(&c, uri, &etag).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json["items"].as_array().unwrap().len(), 2);
    assert_ne!(header(&changed, header::ETAG), etag);
}

#[tokio::test]
async fn authenticated_requests_are_never_cached_publicly_and_errors_not_at_all() {
    let c = client();
    let id = create(&c, "FRESH-5").await;
    let token = customer_token("usr_ann");
    for uri in [format!("/v1/products/{id}"), "/v1/products".to_owned()] {
        let r = c.get(&uri).bearer(Some(&token)).send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(header(&r, header::CACHE_CONTROL), "private, no-cache");
        // Revalidation still works for the caller itself.
        let tag = header(&r, header::ETAG).to_owned();
        let again = c
            .get(&uri)
            .bearer(Some(&token))
            .header("if-none-match", &tag)
            .send()
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert_eq!(header(&again, header::CACHE_CONTROL), "private, no-cache");
    }

    let missing = c
        .get("/v1/products/prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")
        .send()
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, header::CACHE_CONTROL), "no-store");
    assert!(missing.headers.get(header::ETAG).is_none());
    let bad = c.get("/v1/products?limit=0").send().await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(header(&bad, header::CACHE_CONTROL), "no-store");
}
