//! `GET /v1/orders/{id}/payment` and the route table.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use lite_http::testing::{admin_token, customer_token};

#[tokio::test]
async fn the_owner_and_admins_see_the_payment_others_do_not() {
    let h = Harness::new();
    let p = h.pending("usr_owner", "t1").await;
    let path = format!("/v1/orders/{}/payment", p.order_id);

    let (s, body) = h
        .call(
            Method::GET,
            &path,
            Some(&customer_token("usr_owner")),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["paymentId"], p.payment_id.as_str());
    assert_eq!(body["status"], "pending");
    assert_eq!(
        body["amount"],
        serde_json::json!({"amount": 2500, "currency": "USD"})
    );
    assert_eq!(body["provider"], "sandbox");
    assert!(body["updatedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body.as_object().unwrap().len(), 5, "{body}");

    let (s, body) = h
        .call(
            Method::GET,
            &path,
            Some(&admin_token("usr_admin")),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["paymentId"], p.payment_id.as_str());

    // Status follows the webhook.
    h.signed_webhook(&event("evt_1", "payment.authorized", &p, None))
        .await;
    let (_, body) = h
        .call(
            Method::GET,
            &path,
            Some(&customer_token("usr_owner")),
            &[],
            None,
        )
        .await;
    assert_eq!(body["status"], "authorized");

    let (s, body) = h
        .call(
            Method::GET,
            &path,
            Some(&customer_token("usr_other")),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");

    let (s, body) = h.call(Method::GET, &path, None, &[], None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn orders_without_a_payment_and_malformed_ids_are_404() {
    let h = Harness::new();
    let token = customer_token("usr_1");
    for id in [
        order_id().to_string(),
        "not-an-order".to_owned(),
        "pay_01JAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
    ] {
        let (s, body) = h
            .call(
                Method::GET,
                &format!("/v1/orders/{id}/payment"),
                Some(&token),
                &[],
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}: {body}");
    }
}

#[test]
fn route_table_and_openapi_agree() {
    lite_http::routes::check_against_openapi(payments::ROUTES, &payments::openapi()).unwrap();
    let doc = serde_json::to_value(payments::openapi()).unwrap();
    let hook = &doc["paths"]["/v1/payments/webhook"]["post"];
    let params = hook["parameters"].as_array().unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "Payment-Signature" && p["in"] == "header"));
    assert!(hook["requestBody"]["content"]["application/json"].is_object());
    assert!(hook["responses"]["200"].is_object() && hook["responses"]["400"].is_object());
}

#[tokio::test]
async fn the_webhook_is_public_and_the_payment_route_is_not() {
    let h = Harness::new();
    for r in payments::ROUTES {
        let path = r.path.replace("{id}", order_id().as_str());
        let method = Method::from_bytes(r.method.as_bytes()).unwrap();
        let (s, body) = h.call(method, &path, None, &[], Some("{}".into())).await;
        match r.auth {
            lite_http::Access::Public => {
                // Refused for its missing signature, not for a token.
                assert_eq!(s, StatusCode::BAD_REQUEST, "{}", r.path);
                assert_eq!(body["code"], "invalid_signature");
            }
            _ => assert_eq!(s, StatusCode::UNAUTHORIZED, "{}", r.path),
        }
    }
}
