//! The users service's items in the single table (see ARCHITECTURE.md,
//! access patterns). Only this module builds users keys.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | profile | `USER#<userId>` | `PROFILE` | `id`, `email`, `name`, `phone`?, `createdAt`, `updatedAt`, `version`, `addressCount`, `defaultAddressId`? |
//! | address | `USER#<userId>` | `ADDRESS#<addressId>` | `id`, `label`, `line1`, `line2`, `city`, `region`, `postalCode`, `country`, `createdAt`, `updatedAt` |
//! | preferences | `USER#<userId>` | `PREFERENCES` | `marketingEmails`, `orderUpdates`, `currency`, `language`, `updatedAt` |
//!
//! No index: every access is by the caller's user id, so one user's items
//! are one partition; listing the address book is one query on
//! `begins_with(SK, "ADDRESS#")` (address ids are ULIDs, so that is
//! creation order). Every item carries `entity`.
//!
//! The profile item is also the address book's ledger:
//! - `addressCount` is the number of address items; every create and
//!   delete changes it in the same transaction, and a create is conditioned
//!   on `addressCount < 20`, so the cap holds under any concurrency.
//! - `defaultAddressId` names the default address, so "exactly one default
//!   whenever there is an address" is a property of one attribute, never of
//!   flags on several items that could disagree. It is present exactly when
//!   `addressCount > 0` and always names an existing address.
//! - `version` goes up on every profile change (including address-book
//!   changes), so a write that depends on the whole address book (deleting
//!   the default and promoting the oldest other) can condition on it.

use crate::domain::{AddressId, Preferences, Profile};
use crate::Address;
use chrono::{DateTime, Utc};
use lite_store::{Item, Key, Query, SkCondition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const PROFILE_SK: &str = "PROFILE";
pub const PREFERENCES_SK: &str = "PREFERENCES";
const ADDRESS_PREFIX: &str = "ADDRESS#";

/// Attribute names the repository conditions on or updates one by one.
pub mod attr {
    pub const VERSION: &str = "version";
    pub const ADDRESS_COUNT: &str = "addressCount";
    pub const DEFAULT_ADDRESS_ID: &str = "defaultAddressId";
    pub const NAME: &str = "name";
    pub const PHONE: &str = "phone";
    pub const UPDATED_AT: &str = "updatedAt";
}

fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

pub fn profile(user_id: &str) -> Key {
    Key::new(user_pk(user_id), PROFILE_SK)
}

pub fn preferences(user_id: &str) -> Key {
    Key::new(user_pk(user_id), PREFERENCES_SK)
}

pub fn address(user_id: &str, id: &AddressId) -> Key {
    Key::new(user_pk(user_id), format!("{ADDRESS_PREFIX}{id}"))
}

/// Every address of a user, oldest first. The cap keeps it to one page.
pub fn addresses(user_id: &str) -> Query {
    Query::new(lite_store::Index::Table, user_pk(user_id))
        .sk(SkCondition::BeginsWith(ADDRESS_PREFIX.into()))
        .limit(100)
}

/// The profile item's attributes besides the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRecord {
    #[serde(flatten)]
    pub profile: Profile,
    pub version: i64,
    #[serde(default)]
    pub address_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_address_id: Option<AddressId>,
}

fn item(key: Key, entity: &str, attrs: Value) -> Item {
    let mut item = key.to_item();
    item.insert("entity".into(), entity.into());
    if let Value::Object(attrs) = attrs {
        item.extend(attrs);
    }
    item
}

fn parse<T: serde::de::DeserializeOwned>(item: &Item) -> Option<T> {
    serde_json::from_value(Value::Object(item.clone())).ok()
}

pub fn profile_item(record: &ProfileRecord) -> Item {
    let attrs = serde_json::to_value(record).unwrap_or(Value::Null);
    item(profile(&record.profile.id), "profile", attrs)
}

pub fn profile_of(item: &Item) -> Option<ProfileRecord> {
    parse(item)
}

pub fn address_item(user_id: &str, a: &Address) -> Item {
    let attrs = serde_json::to_value(a).unwrap_or(Value::Null);
    item(address(user_id, &a.id), "address", attrs)
}

pub fn address_of(item: &Item) -> Option<Address> {
    parse(item)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreferencesRecord {
    #[serde(flatten)]
    preferences: Preferences,
    updated_at: DateTime<Utc>,
}

pub fn preferences_item(user_id: &str, p: &Preferences, updated_at: DateTime<Utc>) -> Item {
    let record = PreferencesRecord {
        preferences: p.clone(),
        updated_at,
    };
    let attrs = serde_json::to_value(&record).unwrap_or(Value::Null);
    item(preferences(user_id), "preferences", attrs)
}

pub fn preferences_of(item: &Item) -> Option<Preferences> {
    parse::<PreferencesRecord>(item).map(|r| r.preferences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_items_round_trip_with_flat_attributes() {
        let now = Utc::now();
        let record = ProfileRecord {
            profile: Profile {
                id: "usr_1".into(),
                email: "a@b.c".into(),
                name: "Ada".into(),
                phone: None,
                created_at: now,
                updated_at: now,
            },
            version: 3,
            address_count: 0,
            default_address_id: None,
        };
        let item = profile_item(&record);
        assert_eq!(item["PK"], "USER#usr_1");
        assert_eq!(item["SK"], "PROFILE");
        assert_eq!(item["entity"], "profile");
        assert_eq!(item["version"], 3);
        assert_eq!(item["addressCount"], 0);
        assert!(!item.contains_key("phone") && !item.contains_key("defaultAddressId"));
        assert_eq!(profile_of(&item), Some(record));
    }

    #[test]
    fn preferences_items_round_trip() {
        let item = preferences_item("usr_1", &Preferences::default(), Utc::now());
        assert_eq!(item["SK"], "PREFERENCES");
        assert_eq!(item["currency"], "USD");
        assert_eq!(preferences_of(&item), Some(Preferences::default()));
    }
}
