//! Accounts as the auth service stores them: credentials keyed by user id,
//! and the e-mail claim that makes an address belong to one account.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | credentials | `CREDENTIALS#<userId>` | `CREDENTIALS` | `userId`, `email`, `name` (as at sign-up), `roles`, `passwordHash` (argon2id PHC; absent for Google-only accounts), `googleSubject`, `createdAt`, `updatedAt` |
//! | e-mail claim | `EMAIL#<email>` | `EMAIL` | `userId` — written with `attribute_not_exists` in the sign-up transaction: the only thing that makes e-mails unique |
//!
//! The profile (`USER#<userId>`) belongs to the users service, created in
//! the same transaction through `users::registration::profile_ops`.

use crate::domain::{EmailAddress, UserId};
use crate::events;
use chrono::{DateTime, Utc};
use lite_core::rfc3339;
use lite_http::Role;
use lite_ports::Context;
use lite_store::{Condition, Item, Key, Store, StoreError, TxOp};

pub fn credentials_key(id: &UserId) -> Key {
    Key::new(format!("CREDENTIALS#{id}"), "CREDENTIALS")
}

pub fn email_key(email: &EmailAddress) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

/// Read when an e-mail is unknown, so an unknown e-mail costs the same
/// store round trips as a known one.
const ABSENT_USER: &str = "usr_00000000000000000000000000";

/// An account's credentials.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: UserId,
    pub email: EmailAddress,
    /// The name given at sign-up (the profile's current name is the users
    /// service's; see `service::display_name`).
    pub name: String,
    pub roles: Vec<Role>,
    pub password_hash: Option<String>,
    pub google_subject: Option<String>,
}

impl Account {
    fn from_item(item: &Item) -> Option<Account> {
        let s = |n: &str| item.get(n).and_then(|v| v.as_str());
        Some(Account {
            id: UserId::parse(s("userId")?)?,
            email: EmailAddress::parse(s("email")?).ok()?,
            name: s("name").unwrap_or_default().to_owned(),
            roles: serde_json::from_value(item.get("roles")?.clone()).ok()?,
            password_hash: s("passwordHash").map(str::to_owned),
            google_subject: s("googleSubject").map(str::to_owned),
        })
    }

    fn to_item(&self, now: DateTime<Utc>) -> Item {
        let mut item = credentials_key(&self.id).to_item();
        item.insert("entity".into(), "credentials".into());
        item.insert("userId".into(), self.id.as_str().into());
        item.insert("email".into(), self.email.as_str().into());
        item.insert("name".into(), self.name.clone().into());
        item.insert("roles".into(), roles_value(&self.roles));
        if let Some(h) = &self.password_hash {
            item.insert("passwordHash".into(), h.clone().into());
        }
        if let Some(g) = &self.google_subject {
            item.insert("googleSubject".into(), g.clone().into());
        }
        item.insert("createdAt".into(), rfc3339(now).into());
        item.insert("updatedAt".into(), rfc3339(now).into());
        item
    }
}

pub fn roles_value(roles: &[Role]) -> serde_json::Value {
    serde_json::to_value(roles).unwrap_or_default()
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Invalid(format!("{what} item does not parse"))
}

/// The account with `email`, if any: the claim, then the credentials (two
/// reads, whether or not the e-mail is known).
pub async fn by_email(
    store: &dyn Store,
    email: &EmailAddress,
) -> Result<Option<Account>, StoreError> {
    let claim = store.get(&email_key(email)).await?;
    let owner = match &claim {
        Some(item) => Some(
            item.get("userId")
                .and_then(|v| v.as_str())
                .and_then(UserId::parse)
                .ok_or_else(|| corrupt("e-mail claim"))?,
        ),
        None => None,
    };
    let id = owner
        .clone()
        .unwrap_or_else(|| UserId::parse(ABSENT_USER).expect("a valid id"));
    let credentials = store.get(&credentials_key(&id)).await?;
    match (owner, credentials) {
        (Some(_), Some(item)) => Ok(Some(
            Account::from_item(&item).ok_or_else(|| corrupt("credentials"))?,
        )),
        (Some(id), None) => {
            tracing::error!(user = %id, "an e-mail claim without credentials");
            Ok(None)
        }
        (None, _) => Ok(None),
    }
}

pub async fn by_id(store: &dyn Store, id: &UserId) -> Result<Option<Account>, StoreError> {
    match store.get(&credentials_key(id)).await? {
        Some(item) => Ok(Some(
            Account::from_item(&item).ok_or_else(|| corrupt("credentials"))?,
        )),
        None => Ok(None),
    }
}

/// The name, in [`create_ops`], of the e-mail claim (its condition
/// failing means the e-mail is taken).
pub const EMAIL_CLAIM_OP: &str = "email-claim";

/// The ops that create `account`: credentials, e-mail claim, the users
/// service's profile and preferences, and `user.registered.v1`.
pub fn create_ops(ctx: &Context, account: &Account, now: DateTime<Utc>) -> Vec<TxOp> {
    let mut claim = email_key(&account.email).to_item();
    claim.insert("entity".into(), "emailClaim".into());
    claim.insert("userId".into(), account.id.as_str().into());
    claim.insert("createdAt".into(), rfc3339(now).into());
    let mut ops = vec![
        TxOp::put(account.to_item(now)).when(Condition::NotExists),
        TxOp::put(claim)
            .when(Condition::NotExists)
            .named(EMAIL_CLAIM_OP),
    ];
    ops.extend(users::registration::profile_ops(
        account.id.as_str(),
        account.email.as_str(),
        &account.name,
        now,
    ));
    ops.push(lite_events::outbox::put(&events::registered(
        ctx, account, now,
    )));
    ops
}

/// Sets the roles of `account` if they are still `expected` (optimistic).
pub async fn set_roles(
    store: &dyn Store,
    account: &Account,
    expected: &[Role],
    roles: &[Role],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .update(
            &credentials_key(&account.id),
            &[
                lite_store::Update::set("roles", roles_value(roles)),
                lite_store::Update::set("updatedAt", rfc3339(now)),
            ],
            Some(Condition::eq("roles", roles_value(expected))),
        )
        .await
        .map(|_| ())
}

/// Links a Google subject to an account that has none yet.
pub async fn link_google(
    store: &dyn Store,
    account: &Account,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .update(
            &credentials_key(&account.id),
            &[
                lite_store::Update::set("googleSubject", subject),
                lite_store::Update::set("updatedAt", rfc3339(now)),
            ],
            Some(Condition::Exists.and(Condition::AttrNotExists("googleSubject".into()))),
        )
        .await
        .map(|_| ())
}
