//! `/v1/cart`: the caller's cart. A signed-in shopper's cart follows the
//! bearer token; a guest's follows `X-Cart-Token` (see [`Shopper`]). Every
//! guest-cart response carries the token in the body and the header.

use crate::domain::{AddQuantity, ProductSnapshot, SetQuantity};
use crate::keys::Owner;
use crate::repo::{self, IfAbsent};
use crate::shopper::{SentCartToken, Shopper};
use crate::token::CartToken;
use crate::view::{CartResponse, CartView};
use crate::CartError;
use axum::extract::{Path, State};
use lite_http::{Access, Authenticated, Json, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

const fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    auth: Access,
    table: TableAccess,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        service: "cart",
        function,
        auth,
        table,
    }
}

pub const ROUTES: &[RouteSpec] = &[
    route(
        "GET",
        "/v1/cart",
        "cart-get",
        Access::Public,
        TableAccess::Read,
    ),
    route(
        "POST",
        "/v1/cart/items",
        "cart-add-item",
        Access::Public,
        TableAccess::ReadWrite,
    ),
    route(
        "PATCH",
        "/v1/cart/items/{productId}",
        "cart-update-item",
        Access::Public,
        TableAccess::ReadWrite,
    ),
    route(
        "DELETE",
        "/v1/cart/items/{productId}",
        "cart-remove-item",
        Access::Public,
        TableAccess::ReadWrite,
    ),
    route(
        "POST",
        "/v1/cart/merge",
        "cart-merge",
        Access::Bearer,
        TableAccess::ReadWrite,
    ),
];

pub fn routes() -> OpenApiRouter<Context> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(get_cart))
        .routes(utoipa_routes!(add_item))
        .routes(utoipa_routes!(update_item, remove_item))
        .routes(utoipa_routes!(merge))
}

pub fn router(ctx: Context) -> axum::Router {
    routes().with_state(ctx).split_for_parts().0
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The cart a sent token names; a malformed token names none.
fn guest(raw: &str) -> Result<Owner, CartError> {
    CartToken::parse(raw)
        .map(Owner::Guest)
        .ok_or(CartError::CartNotFound)
}

/// The cart an existing-line change acts on; `None`: a guest without a
/// token, who has no cart and so no line.
fn existing_owner(shopper: Shopper) -> Result<Option<Owner>, CartError> {
    match shopper {
        Shopper::User(id) => Ok(Some(Owner::User(id))),
        Shopper::Guest(Some(raw)) => guest(&raw).map(Some),
        Shopper::Guest(None) => Ok(None),
    }
}

fn if_absent(owner: &Owner) -> IfAbsent {
    match owner {
        Owner::User(_) => IfAbsent::Empty,
        Owner::Guest(_) => IfAbsent::NotFound,
    }
}

/// The caller's cart.
///
/// With a bearer token (optional; an invalid or expired one is a 401, not
/// a guest): the signed-in shopper's cart (empty when they
/// have none yet; `X-Cart-Token` is ignored). Without one: the guest cart
/// `X-Cart-Token` names, or an empty cart without a token when none is sent.
#[utoipa::path(
    get, path = "/v1/cart", tag = "cart",
    params(
        ("X-Cart-Token" = Option<String>, Header, description = "A guest cart's token (ignored with a bearer token)"),
    ),
    responses(
        (status = 200, body = CartView, description = "The cart", headers(("X-Cart-Token" = String, description = "The guest cart's token (guest carts only)"))),
        (status = 401, description = "The bearer token is invalid or expired"),
        (status = 404, description = "No live cart has this cart token (never issued, expired or merged)"),
    )
)]
async fn get_cart(State(ctx): State<Context>, shopper: Shopper) -> Result<CartResponse, CartError> {
    let Some(owner) = existing_owner(shopper)? else {
        return CartResponse::of(&Default::default(), None);
    };
    let cart = repo::get(&ctx, &owner).await?;
    let cart = match (cart, &owner) {
        (Some(cart), _) => cart,
        (None, Owner::User(_)) => Default::default(),
        (None, Owner::Guest(_)) => return Err(CartError::CartNotFound),
    };
    CartResponse::of(&cart, owner.token())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddCartItem {
    #[schema(example = "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub product_id: String,
    /// Units to add, 1..=99; a line holds at most 99 in all.
    #[schema(minimum = 1, maximum = 99, example = 1)]
    pub quantity: i64,
}

/// Adds units of a product to the caller's cart.
///
/// Adding a product already in the cart adds to its line. The line's name
/// and unit price are the catalog's at the time of adding; later catalog
/// changes show at checkout. Without a bearer token or `X-Cart-Token` a new
/// guest cart is created and its token returned (body and header): send it
/// as `X-Cart-Token` from then on. With a bearer token (optional; an
/// invalid or expired one is a 401) it adds to the signed-in shopper's
/// cart.
#[utoipa::path(
    post, path = "/v1/cart/items", tag = "cart",
    params(
        ("X-Cart-Token" = Option<String>, Header, description = "The guest cart to add to; without it (and without a bearer token) a new guest cart is created"),
    ),
    request_body = AddCartItem,
    responses(
        (status = 200, body = CartView, description = "The cart after the change", headers(("X-Cart-Token" = String, description = "The guest cart's token (guest carts only)"))),
        (status = 400, description = "Quantity outside 1..=99, or the line would exceed 99 (field `quantity`)"),
        (status = 401, description = "The bearer token is invalid or expired"),
        (status = 404, description = "No such product, or no live cart has this cart token"),
        (status = 409, description = "The cart holds 50 different products already, the product is priced in another currency, or the cart kept changing concurrently"),
    )
)]
async fn add_item(
    State(ctx): State<Context>,
    shopper: Shopper,
    Json(body): Json<AddCartItem>,
) -> Result<CartResponse, CartError> {
    let quantity = AddQuantity::parse(body.quantity)?;
    let (owner, if_absent) = match shopper {
        Shopper::User(id) => (Owner::User(id), IfAbsent::Empty),
        Shopper::Guest(Some(raw)) => (guest(&raw)?, IfAbsent::NotFound),
        // A fresh token's hash names no item, so the new cart is written
        // with `attribute_not_exists` like any first write.
        Shopper::Guest(None) => (Owner::Guest(CartToken::generate()), IfAbsent::Empty),
    };
    let product: ProductSnapshot = catalog::read::product(ctx.store.as_ref(), &body.product_id)
        .await?
        .ok_or(CartError::ProductNotFound)?
        .into();
    let cart = repo::change(&ctx, &owner, if_absent, |cart| {
        cart.add(product.clone(), quantity, ctx.clock.now())
    })
    .await?;
    CartResponse::of(&cart, owner.token())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCartItem {
    /// The line's new quantity, 0..=99; 0 removes the line.
    #[schema(minimum = 0, maximum = 99, example = 2)]
    pub quantity: i64,
}

/// Sets the quantity of a product in the caller's cart (0 removes it).
///
/// The signed-in shopper's cart with a bearer token (optional; an invalid
/// or expired one is a 401), else the guest cart `X-Cart-Token` names.
#[utoipa::path(
    patch, path = "/v1/cart/items/{productId}", tag = "cart",
    params(
        ("productId" = String, Path, description = "The product whose line to change"),
        ("X-Cart-Token" = Option<String>, Header, description = "The guest cart (ignored with a bearer token)"),
    ),
    request_body = UpdateCartItem,
    responses(
        (status = 200, body = CartView, description = "The cart after the change", headers(("X-Cart-Token" = String, description = "The guest cart's token (guest carts only)"))),
        (status = 400, description = "Quantity outside 0..=99 (field `quantity`)"),
        (status = 401, description = "The bearer token is invalid or expired"),
        (status = 404, description = "The cart holds no line for this product, or no live cart has this cart token"),
        (status = 409, description = "The cart kept changing concurrently"),
    )
)]
async fn update_item(
    State(ctx): State<Context>,
    shopper: Shopper,
    Path(product_id): Path<String>,
    Json(body): Json<UpdateCartItem>,
) -> Result<CartResponse, CartError> {
    let quantity = SetQuantity::parse(body.quantity)?;
    let owner = existing_owner(shopper)?.ok_or(CartError::LineNotFound)?;
    let cart = repo::change(&ctx, &owner, if_absent(&owner), |cart| {
        cart.set_quantity(&product_id, quantity)
    })
    .await?;
    CartResponse::of(&cart, owner.token())
}

/// Removes a product from the caller's cart.
///
/// The signed-in shopper's cart with a bearer token (optional; an invalid
/// or expired one is a 401), else the guest cart `X-Cart-Token` names.
#[utoipa::path(
    delete, path = "/v1/cart/items/{productId}", tag = "cart",
    params(
        ("productId" = String, Path, description = "The product whose line to remove"),
        ("X-Cart-Token" = Option<String>, Header, description = "The guest cart (ignored with a bearer token)"),
    ),
    responses(
        (status = 200, body = CartView, description = "The cart after the change", headers(("X-Cart-Token" = String, description = "The guest cart's token (guest carts only)"))),
        (status = 401, description = "The bearer token is invalid or expired"),
        (status = 404, description = "The cart holds no line for this product, or no live cart has this cart token"),
        (status = 409, description = "The cart kept changing concurrently"),
    )
)]
async fn remove_item(
    State(ctx): State<Context>,
    shopper: Shopper,
    Path(product_id): Path<String>,
) -> Result<CartResponse, CartError> {
    let owner = existing_owner(shopper)?.ok_or(CartError::LineNotFound)?;
    let cart = repo::change(&ctx, &owner, if_absent(&owner), |cart| {
        cart.remove(&product_id)
    })
    .await?;
    CartResponse::of(&cart, owner.token())
}

/// Merges a guest cart into the signed-in shopper's cart.
///
/// Call it right after signing in with the guest cart's token. Quantities
/// of products in both carts add up (capped at 99 a line); the guest cart
/// is deleted in the same transaction, so its token names no cart
/// afterwards (a second merge is a 404).
#[utoipa::path(
    post, path = "/v1/cart/merge", tag = "cart",
    params(("X-Cart-Token" = String, Header, description = "Required: the guest cart to merge")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CartView, description = "The signed-in shopper's cart after the merge"),
        (status = 400, description = "No `X-Cart-Token` header"),
        (status = 404, description = "No live cart has this cart token (never issued, expired or merged already)"),
        (status = 409, description = "The merged cart would hold more than 50 different products or mix currencies (nothing changes), or the carts kept changing concurrently"),
    )
)]
async fn merge(
    State(ctx): State<Context>,
    Authenticated(claims): Authenticated,
    SentCartToken(raw): SentCartToken,
) -> Result<CartResponse, CartError> {
    let raw = raw.ok_or(CartError::TokenRequired)?;
    let token = CartToken::parse(&raw).ok_or(CartError::CartNotFound)?;
    let cart = repo::merge(&ctx, &claims.sub, token).await?;
    CartResponse::of(&cart, None)
}
