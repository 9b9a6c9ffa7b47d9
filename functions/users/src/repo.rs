//! Users operations on the store. Address-book writes are single
//! transactions that change the address item and the profile's ledger
//! (`addressCount`, `defaultAddressId`, `version`; see `keys`) together,
//! with conditions that make concurrent writes serialize correctly instead
//! of reading and then writing.

use crate::domain::{
    Address, AddressFields, AddressId, AddressView, Preferences, Profile, ProfileChanges,
    MAX_ADDRESSES,
};
use crate::keys::{self, attr, ProfileRecord};
use crate::UsersError;
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, Store, StoreError, TxOp, Update};
use serde_json::Value;

/// The profile's op (its ledger: count, default, version).
const PROFILE: &str = "profile";
/// The op on the address written or deleted.
const ADDRESS: &str = "address";
/// The check that the address promoted to default still exists.
const SUCCESSOR: &str = "successor";
/// Reads of the address book until the profile and the addresses agree.
const READ_ATTEMPTS: usize = 3;

fn malformed(what: &str, user_id: &str) -> StoreError {
    StoreError::Invalid(format!("{what} item of {user_id} does not parse"))
}

fn time(t: chrono::DateTime<chrono::Utc>) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

async fn load_profile(
    store: &dyn Store,
    user_id: &str,
) -> Result<Option<ProfileRecord>, UsersError> {
    match store.get(&keys::profile(user_id)).await? {
        None => Ok(None),
        Some(item) => Ok(Some(
            keys::profile_of(&item).ok_or_else(|| malformed("profile", user_id))?,
        )),
    }
}

async fn load_addresses(store: &dyn Store, user_id: &str) -> Result<Vec<Address>, UsersError> {
    let page = store.query(&keys::addresses(user_id)).await?;
    if page.next.is_some() {
        tracing::warn!(user_id, "address book holds more than one page");
    }
    page.items
        .iter()
        .map(|i| keys::address_of(i).ok_or_else(|| malformed("address", user_id).into()))
        .collect()
}

pub async fn get_profile(ctx: &Context, user_id: &str) -> Result<Profile, UsersError> {
    let record = load_profile(ctx.store.as_ref(), user_id).await?;
    Ok(record.ok_or(UsersError::NoProfile)?.profile)
}

/// Applies `changes` in one conditional update (no read first: a patch
/// does not depend on the current values).
pub async fn update_profile(
    ctx: &Context,
    user_id: &str,
    changes: ProfileChanges,
) -> Result<Profile, UsersError> {
    if changes.is_empty() {
        return get_profile(ctx, user_id).await;
    }
    let mut updates = Vec::new();
    if let Some(name) = changes.name {
        updates.push(Update::set(attr::NAME, name));
    }
    match changes.phone {
        Some(Some(phone)) => updates.push(Update::set(attr::PHONE, phone.as_str())),
        Some(None) => updates.push(Update::remove(attr::PHONE)),
        None => {}
    }
    updates.push(Update::set(attr::UPDATED_AT, time(ctx.clock.now())));
    updates.push(Update::add(attr::VERSION, 1));
    let key = keys::profile(user_id);
    match ctx
        .store
        .update(&key, &updates, Some(Condition::Exists))
        .await
    {
        Ok(item) => Ok(keys::profile_of(&item)
            .ok_or_else(|| malformed("profile", user_id))?
            .profile),
        Err(StoreError::ConditionFailed) => Err(UsersError::NoProfile),
        Err(e) => Err(e.into()),
    }
}

/// The address book, the default first, then oldest first. The profile and
/// the addresses are two reads; they are read again (a few times) when a
/// concurrent write slipped between them, so the list shows exactly one
/// default whenever it shows any address.
pub async fn list_addresses(ctx: &Context, user_id: &str) -> Result<Vec<AddressView>, UsersError> {
    let store = ctx.store.as_ref();
    let mut attempt = 1;
    loop {
        let (profile, addresses) =
            tokio::join!(load_profile(store, user_id), load_addresses(store, user_id));
        let profile = profile?.ok_or(UsersError::NoProfile)?;
        let addresses = addresses?;
        let default = profile.default_address_id;
        let agree = addresses.len() as i64 == profile.address_count
            && match &default {
                None => addresses.is_empty(),
                Some(d) => addresses.iter().any(|a| &a.id == d),
            };
        if agree || attempt == READ_ATTEMPTS {
            let mut views: Vec<AddressView> = addresses
                .into_iter()
                .map(|address| AddressView {
                    is_default: Some(&address.id) == default.as_ref(),
                    address,
                })
                .collect();
            views.sort_by(|a, b| {
                (!a.is_default, a.address.created_at, &a.address.id).cmp(&(
                    !b.is_default,
                    b.address.created_at,
                    &b.address.id,
                ))
            });
            return Ok(views);
        }
        attempt += 1;
    }
}

/// Adds an address: one transaction that puts it and, on the profile,
/// counts it (only while fewer than the cap) and makes it the default when
/// asked to or when there is none yet (the first address).
pub async fn create_address(
    ctx: &Context,
    user_id: &str,
    fields: AddressFields,
) -> Result<AddressView, UsersError> {
    let now = ctx.clock.now();
    let id = AddressId::generate(ctx.ids.as_ref());
    let make_default = fields.is_default;
    let address = fields.into_address(id.clone(), now, now);
    let default = if make_default {
        // Replacing the one attribute unsets the previous default.
        Update::set(attr::DEFAULT_ADDRESS_ID, id.as_str())
    } else {
        Update::set_if_absent(attr::DEFAULT_ADDRESS_ID, id.as_str())
    };
    let below_cap = Condition::lt(attr::ADDRESS_COUNT, MAX_ADDRESSES)
        .or(Condition::AttrNotExists(attr::ADDRESS_COUNT.into()));
    let ops = vec![
        TxOp::update(
            keys::profile(user_id),
            vec![
                Update::add(attr::ADDRESS_COUNT, 1),
                Update::add(attr::VERSION, 1),
                default,
            ],
        )
        .when(Condition::Exists.and(below_cap))
        .named(PROFILE),
        TxOp::put(keys::address_item(user_id, &address))
            .when(Condition::NotExists)
            .named(ADDRESS),
    ];
    match ctx.store.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_on(PROFILE) => {
            return Err(match load_profile(ctx.store.as_ref(), user_id).await? {
                Some(_) => UsersError::AddressLimit,
                None => UsersError::NoProfile,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let is_default = make_default
        || load_profile(ctx.store.as_ref(), user_id)
            .await?
            .and_then(|p| p.default_address_id)
            .as_ref()
            == Some(&id);
    Ok(AddressView {
        address,
        is_default,
    })
}

/// Replaces an address's fields. `isDefault: true` makes it the default in
/// the same transaction; `false` is refused for the current default (there
/// must always be one), checked in the transaction too.
pub async fn replace_address(
    ctx: &Context,
    user_id: &str,
    id: &AddressId,
    fields: AddressFields,
) -> Result<AddressView, UsersError> {
    let store = ctx.store.as_ref();
    let key = keys::address(user_id, id);
    let current = match store.get(&key).await? {
        Some(item) => keys::address_of(&item).ok_or_else(|| malformed("address", user_id))?,
        None => return Err(UsersError::AddressNotFound),
    };
    let make_default = fields.is_default;
    let now = ctx.clock.now().max(current.updated_at);
    let address = fields.into_address(id.clone(), current.created_at, now);
    let profile_op = if make_default {
        TxOp::update(
            keys::profile(user_id),
            vec![
                Update::set(attr::DEFAULT_ADDRESS_ID, id.as_str()),
                Update::add(attr::VERSION, 1),
            ],
        )
        .when(Condition::Exists)
    } else {
        TxOp::check(
            keys::profile(user_id),
            Condition::ne(attr::DEFAULT_ADDRESS_ID, id.as_str()),
        )
    };
    let ops = vec![
        TxOp::put(keys::address_item(user_id, &address))
            .when(Condition::Exists)
            .named(ADDRESS),
        profile_op.named(PROFILE),
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(AddressView {
            address,
            is_default: make_default,
        }),
        Err(e) if e.failed_on(ADDRESS) => Err(UsersError::AddressNotFound),
        Err(e) if e.failed_on(PROFILE) && make_default => Err(UsersError::NoProfile),
        Err(e) if e.failed_on(PROFILE) => Err(UsersError::DefaultRequired),
        Err(e) => Err(e.into()),
    }
}

/// Deletes an address. Deleting the default promotes the oldest other
/// address in the same transaction, conditioned on the profile's version
/// (so the address book did not change since it was read) and on the
/// successor still existing; a lost race reads again and retries.
pub async fn delete_address(
    ctx: &Context,
    user_id: &str,
    id: &AddressId,
) -> Result<(), UsersError> {
    let store = ctx.store.as_ref();
    optimistic::retry(&POLICY, move |_| async move {
        let profile = load_profile(store, user_id)
            .await?
            .ok_or(UsersError::AddressNotFound)?;
        let mut ops = vec![TxOp::delete(keys::address(user_id, id))
            .when(Condition::Exists)
            .named(ADDRESS)];
        let uncount = [
            Update::add(attr::ADDRESS_COUNT, -1),
            Update::add(attr::VERSION, 1),
        ];
        if profile.default_address_id.as_ref() != Some(id) {
            ops.push(
                TxOp::update(keys::profile(user_id), uncount.to_vec())
                    // It must not have become the default meanwhile.
                    .when(
                        Condition::Exists.and(Condition::ne(attr::DEFAULT_ADDRESS_ID, id.as_str())),
                    )
                    .named(PROFILE),
            );
        } else {
            let successor = load_addresses(store, user_id)
                .await?
                .into_iter()
                .filter(|a| &a.id != id)
                .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            let mut updates = uncount.to_vec();
            updates.push(match &successor {
                Some(s) => Update::set(attr::DEFAULT_ADDRESS_ID, s.id.as_str()),
                None => Update::remove(attr::DEFAULT_ADDRESS_ID),
            });
            ops.push(
                TxOp::update(keys::profile(user_id), updates)
                    .when(Condition::eq(attr::VERSION, profile.version))
                    .named(PROFILE),
            );
            if let Some(s) = &successor {
                ops.push(
                    TxOp::check(keys::address(user_id, &s.id), Condition::Exists).named(SUCCESSOR),
                );
            }
        }
        match store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(e) if e.failed_on(ADDRESS) => Err(UsersError::AddressNotFound),
            Err(e) if lost_race(&e, &[PROFILE, SUCCESSOR]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The caller's preferences; the defaults when a profile exists without a
/// preferences item (signup writes both, so only for damaged data).
pub async fn get_preferences(ctx: &Context, user_id: &str) -> Result<Preferences, UsersError> {
    let store = ctx.store.as_ref();
    match store.get(&keys::preferences(user_id)).await? {
        Some(item) => {
            Ok(keys::preferences_of(&item).ok_or_else(|| malformed("preferences", user_id))?)
        }
        None => match load_profile(store, user_id).await? {
            Some(_) => Ok(Preferences::default()),
            None => Err(UsersError::NoProfile),
        },
    }
}

/// Replaces the preferences of an account that has a profile.
pub async fn put_preferences(
    ctx: &Context,
    user_id: &str,
    prefs: Preferences,
) -> Result<Preferences, UsersError> {
    let ops = vec![
        TxOp::check(keys::profile(user_id), Condition::Exists).named(PROFILE),
        TxOp::put(keys::preferences_item(user_id, &prefs, ctx.clock.now())),
    ];
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(prefs),
        Err(e) if e.failed_on(PROFILE) => Err(UsersError::NoProfile),
        Err(e) => Err(e.into()),
    }
}
