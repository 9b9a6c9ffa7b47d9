//! What other services may read of users (checkout reads addresses,
//! notifications read preferences). Malformed ids are simply absent.

use crate::domain::{Address, AddressId, Preferences, Profile};
use crate::keys;
use lite_store::{Store, StoreError};

/// `user_id`'s profile, if the account has one.
pub async fn profile(store: &dyn Store, user_id: &str) -> Result<Option<Profile>, StoreError> {
    Ok(store
        .get(&keys::profile(user_id))
        .await?
        .as_ref()
        .and_then(keys::profile_of)
        .map(|r| r.profile))
}

/// `user_id`'s default address; `None` when the address book is empty.
pub async fn default_address(
    store: &dyn Store,
    user_id: &str,
) -> Result<Option<Address>, StoreError> {
    let Some(record) = store
        .get(&keys::profile(user_id))
        .await?
        .as_ref()
        .and_then(keys::profile_of)
    else {
        return Ok(None);
    };
    let Some(id) = record.default_address_id else {
        return Ok(None);
    };
    get_address(store, user_id, &id).await
}

/// `user_id`'s address `address_id`; `None` when it is not theirs.
pub async fn address(
    store: &dyn Store,
    user_id: &str,
    address_id: &str,
) -> Result<Option<Address>, StoreError> {
    match AddressId::parse(address_id) {
        Some(id) => get_address(store, user_id, &id).await,
        None => Ok(None),
    }
}

/// `user_id`'s preferences; `None` when the account has no profile.
pub async fn preferences(
    store: &dyn Store,
    user_id: &str,
) -> Result<Option<Preferences>, StoreError> {
    Ok(store
        .get(&keys::preferences(user_id))
        .await?
        .as_ref()
        .and_then(keys::preferences_of))
}

async fn get_address(
    store: &dyn Store,
    user_id: &str,
    id: &AddressId,
) -> Result<Option<Address>, StoreError> {
    Ok(store
        .get(&keys::address(user_id, id))
        .await?
        .as_ref()
        .and_then(keys::address_of))
}
