//! The cart as the API shows it, and the response that carries a guest
//! cart's token in the body and in `X-Cart-Token`.

use crate::domain::Cart;
use crate::token::CartToken;
use crate::CartError;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use lite_core::{Money, Sku};
use serde::Serialize;
use utoipa::ToSchema;

/// The header a guest cart's token travels in, both ways.
pub const CART_TOKEN_HEADER: &str = "x-cart-token";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemView {
    #[schema(example = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub product_id: String,
    #[schema(value_type = String, example = "LAP-NW-AERO14-001")]
    pub sku: Sku,
    /// The product's name when it was added.
    pub name: String,
    /// The product's price when it was added (checkout re-checks it).
    pub unit_price: Money,
    /// 1..=99.
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: u32,
    /// `unitPrice × quantity`.
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    /// In the order the products were first added; at most 50.
    pub items: Vec<CartItemView>,
    /// Sum of the line totals (`{"amount":0,"currency":"USD"}` when empty).
    pub subtotal: Money,
    /// Sum of the quantities.
    pub item_count: u32,
    /// A guest cart's token (also in the `X-Cart-Token` header); absent on
    /// a signed-in shopper's cart.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ct_nV2Jk3q9xW0bYl7tR4uE8sPzA1cD6fGhMiKoLjQwXyZ")]
    pub cart_token: Option<String>,
}

impl CartView {
    pub fn of(cart: &Cart, token: Option<&CartToken>) -> Result<CartView, CartError> {
        let corrupt = |e: lite_core::MoneyError| CartError::Corrupt(e.to_string());
        let items = cart
            .lines
            .iter()
            .map(|l| {
                Ok(CartItemView {
                    product_id: l.product_id.clone(),
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    line_total: l.unit_price.checked_mul(l.quantity).map_err(corrupt)?,
                })
            })
            .collect::<Result<Vec<_>, CartError>>()?;
        Ok(CartView {
            items,
            subtotal: cart.subtotal().map_err(corrupt)?,
            item_count: cart.item_count(),
            cart_token: token.map(|t| t.as_str().to_owned()),
        })
    }
}

/// 200 with the cart, plus `X-Cart-Token` when it is a guest cart.
pub struct CartResponse(pub CartView);

impl CartResponse {
    pub fn of(cart: &Cart, token: Option<&CartToken>) -> Result<Self, CartError> {
        CartView::of(cart, token).map(CartResponse)
    }
}

impl IntoResponse for CartResponse {
    fn into_response(self) -> Response {
        let token = self
            .0
            .cart_token
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok());
        let mut response = axum::Json(self.0).into_response();
        if let Some(value) = token {
            response
                .headers_mut()
                .insert(HeaderName::from_static(CART_TOKEN_HEADER), value);
        }
        response
    }
}
