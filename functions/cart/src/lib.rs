//! Cart: a shopper's cart, guest or signed in, and the checkout's access
//! to it.
//!
//! # Model
//! One item per cart (`src/keys.rs`): `CART#USER#<userId>` for a signed-in
//! shopper, `CART#GUEST#<sha256 of the cart token>` for a guest. The token
//! is a bearer capability handed out once (`X-Cart-Token`); the table holds
//! only its hash. Every write puts the whole cart conditioned on the
//! version it read (optimistic concurrency, retried on conflict), so
//! concurrent changes all land and a refused change writes nothing.
//! Guest carts live 30 days after their last write, user carts 180 (TTL
//! `expiresAt`); an expired cart is absent to every reader.
//!
//! # Rules ([`domain`])
//! At most 50 different products, 1..=99 units a line, one currency, lines
//! in the order first added. A line's name and unit price are the
//! catalog's when it was added (read through `catalog::read`); the
//! checkout re-checks them ([`checkout::reprice`]).
//!
//! # Entry points
//! - Routes ([`router`], [`ROUTES`]): get, add, update, remove, merge
//!   (guest cart into the user's, one transaction that also deletes the
//!   guest cart).
//! - [`checkout`]: what the orders service calls to read, reprice and
//!   clear (in the order's transaction, with `cart.checked_out.v1`) a
//!   user's cart.
//! - Lambda binary `cart` (feature `lambda`).

pub mod checkout;
pub mod domain;
mod error;
mod keys;
mod repo;
mod routes;
mod shopper;
mod token;
mod view;

pub use error::CartError;
pub use routes::{openapi, routes, AddCartItem, UpdateCartItem, ROUTES};
pub use shopper::Shopper;
pub use token::CartToken;
pub use view::{CartItemView, CartView, CART_TOKEN_HEADER};

use lite_ports::Context;
use lite_service::Service;

/// The cart service on its store: the cart routes.
#[derive(Clone)]
pub struct Cart {
    ctx: Context,
}

impl Cart {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Service for Cart {
    fn name(&self) -> &'static str {
        "cart"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }
}
