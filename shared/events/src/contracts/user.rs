//! Auth's events.

use super::contract;
use serde::{Deserialize, Serialize};

/// `user.registered.v1`: an account was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegisteredV1 {
    /// `usr_<ULID>`.
    pub user_id: String,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    pub name: String,
}
contract!(UserRegisteredV1, "user.registered", 1, "auth");
