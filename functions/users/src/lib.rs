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
    Address, AddressFields, AddressId, AddressView, Language, Phone, Preferences, Profile,
    ProfileChanges, ProfileView, MAX_ADDRESSES,
};
pub use error::UsersError;
pub use routes::{openapi, router, routes, ROUTES};
