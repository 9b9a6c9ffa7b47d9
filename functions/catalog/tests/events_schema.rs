//! The events the catalog really writes (create, patch, delete through the
//! router on the in-memory redb store, read back from the outbox) are valid
//! against `events/schemas/<detail-type>.json` and decode as their
//! contract types.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use lite_events::contracts::{self, ProductCreatedV1, ProductDeletedV1, ProductUpdatedV1};
use lite_events::Envelope;
use lite_http::testing::admin_token;
use lite_service::Service;
use lite_store::Store;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

struct App {
    router: axum::Router,
    store: Arc<dyn Store>,
}

fn app() -> App {
    let ctx = lite_ports::testing::memory_context();
    let store = ctx.store.clone();
    let router = lite_http::testing::finish_for_tests(catalog::Catalog::new(ctx).router());
    App { router, store }
}

impl App {
    async fn admin(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", admin_token("usr_admin")),
            )
            .header("x-correlation-id", "schema-test-1");
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The outbox items still pending (nothing publishes them here), oldest
    /// first: `(detailType attribute, event attribute)`.
    async fn outbox(&self) -> Vec<(String, Value)> {
        lite_events::outbox::pending(self.store.as_ref())
            .await
            .unwrap()
    }
}

fn schema(detail_type: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/schemas")
        .join(format!("{detail_type}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&doc)
        .unwrap()
}

fn assert_valid(detail_type: &str, event: &Value) {
    let v = schema(detail_type);
    let errors: Vec<String> = v
        .iter_errors(event)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{detail_type}: {errors:#?}\n{event:#}");
}

#[tokio::test]
async fn created_updated_and_deleted_events_match_their_schemas() {
    let app = app();
    let (s, created) = app
        .admin(
            Method::POST,
            "/v1/products",
            Some(json!({
                "sku": "sch-001", "name": "Schema Lamp", "description": "Lights up.\nTwice.",
                "category": "home-lighting", "brand": "Northwind",
                "price": {"amount": 4999, "currency": "USD"},
                "images": ["https://images.example.com/lamp.jpg"],
                "attributes": {"color": "Amber", "watts": "9"}
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let uri = format!("/v1/products/{id}");
    let (s, patched) = app
        .admin(
            Method::PATCH,
            &uri,
            Some(json!({"price": {"amount": 3999, "currency": "USD"}, "images": []})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    let (s, _) = app.admin(Method::DELETE, &uri, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let outbox = app.outbox().await;
    let types: Vec<&str> = outbox.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "product.created.v1",
            "product.updated.v1",
            "product.deleted.v1"
        ]
    );
    for (detail_type, event) in &outbox {
        assert_valid(detail_type, event);
        assert_eq!(event["correlationId"], "schema-test-1");
    }

    // And each reads back as its contract type, carrying what the API said.
    let envelope = |i: usize| -> Envelope { serde_json::from_value(outbox[i].1.clone()).unwrap() };
    let c: ProductCreatedV1 = contracts::decode(&envelope(0)).unwrap();
    assert_eq!(
        serde_json::to_value(&c.product).unwrap(),
        strip_stock(created)
    );
    let u: ProductUpdatedV1 = contracts::decode(&envelope(1)).unwrap();
    assert_eq!(
        serde_json::to_value(&u.product).unwrap(),
        strip_stock(patched)
    );
    assert_eq!(u.product.price.amount, 3999);
    let d: ProductDeletedV1 = contracts::decode(&envelope(2)).unwrap();
    assert_eq!((d.id.as_str(), d.sku.as_str()), (id.as_str(), "SCH-001"));
}

/// The API's product view adds `stock` (inventory's); the event does not
/// carry it.
fn strip_stock(mut view: Value) -> Value {
    view.as_object_mut().unwrap().remove("stock");
    view
}

#[tokio::test]
async fn a_product_with_every_optional_field_empty_is_still_a_valid_event() {
    let app = app();
    let (s, body) = app
        .admin(
            Method::POST,
            "/v1/products",
            Some(json!({
                "sku": "BARE-1", "name": "Bare", "category": "misc", "brand": "B",
                "price": {"amount": 0, "currency": "USD"}
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_valid(&outbox[0].0, &outbox[0].1);
    assert_eq!(outbox[0].1["data"]["product"]["description"], "");
}
