//! What a new account starts with. The auth service adds these ops to its
//! signup transaction, so an account never exists without its profile and
//! preferences (nor they without it).

use crate::domain::{Preferences, Profile};
use crate::keys::{self, ProfileRecord};
use chrono::{DateTime, Utc};
use lite_store::{Condition, TxOp};

pub use crate::domain::parse_name;

/// The ops that create `user_id`'s profile (no phone, no addresses) and
/// default preferences (no marketing email, order updates on, USD, `en`).
/// Each is conditioned on the item not existing, so a repeated signup of
/// the same user id cancels the transaction instead of overwriting.
///
/// `email` and `name` are stored as given: pass the normalized email auth
/// keeps and a name accepted by [`parse_name`].
pub fn profile_ops(user_id: &str, email: &str, name: &str, now: DateTime<Utc>) -> Vec<TxOp> {
    let record = ProfileRecord {
        profile: Profile {
            id: user_id.to_owned(),
            email: email.to_owned(),
            name: name.to_owned(),
            phone: None,
            created_at: now,
            updated_at: now,
        },
        version: 1,
        address_count: 0,
        default_address_id: None,
    };
    vec![
        TxOp::put(keys::profile_item(&record)).when(Condition::NotExists),
        TxOp::put(keys::preferences_item(
            user_id,
            &Preferences::default(),
            now,
        ))
        .when(Condition::NotExists),
    ]
}
