//! Users: the caller's profile, address book and preferences (`/v1/me`).
//!
//! Owns the `USER#<userId>` items `PROFILE`, `ADDRESS#<addressId>` and
//! `PREFERENCES` (layout and invariants: `src/keys.rs`).
//! The auth service creates a profile through [`registration`] inside its
//! signup transaction; other services read users only through [`read`].
//! Notifications (`/v1/me/notifications`) belong to the notifications
//! service.

mod body;
mod country;
mod domain;
mod error;
mod keys;
pub mod read;
pub mod registration;
mod repo;
mod routes;

pub use country::CountryCode;
pub use domain::{
    Address, AddressFields, AddressId, AddressInput, AddressView, Language, Phone, Preferences,
    Profile, ProfileChanges, ProfileView, MAX_ADDRESSES,
};
pub use error::UsersError;
pub use routes::{openapi, routes, ROUTES};

use lite_ports::Context;
use lite_service::Service;

/// The users service on its store: the `/v1/me` routes.
#[derive(Clone)]
pub struct Users {
    ctx: Context,
}

impl Users {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl Service for Users {
    fn name(&self) -> &'static str {
        "users"
    }

    fn router(&self) -> axum::Router {
        routes::router(self.ctx.clone())
    }
}
