//! Cart operations on the store. Every change reads the cart item, applies
//! a [`Cart`] method to the copy and puts it back conditioned on the
//! version it read (or on absence); a lost race reads again and retries, so
//! concurrent changes of one cart all land, one after the other.

use crate::domain::Cart;
use crate::keys::{self, attr, Owner, Stored};
use crate::token::CartToken;
use crate::CartError;
use chrono::{DateTime, Utc};
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, Store, StoreError, TxOp};

/// The user cart's op in a merge.
const MINE: &str = "mine";
/// The guest cart's op in a merge.
const THEIRS: &str = "theirs";

/// The item at `owner`'s key, expired or not.
pub async fn read(
    store: &dyn Store,
    owner: &Owner,
    now: DateTime<Utc>,
) -> Result<Option<Stored>, StoreError> {
    match store.get(&owner.key()).await? {
        None => Ok(None),
        Some(item) => keys::stored_of(&item, now).map(Some),
    }
}

/// `owner`'s live cart; `None` when absent or expired.
pub async fn get(ctx: &Context, owner: &Owner) -> Result<Option<Cart>, CartError> {
    let stored = read(ctx.store.as_ref(), owner, ctx.clock.now()).await?;
    Ok(stored.and_then(|s| s.cart))
}

/// The condition of a write that replaces what was read: the same version,
/// or still no item at all.
pub fn unchanged_since(read: Option<&Stored>) -> Condition {
    match read {
        Some(s) => Condition::eq(attr::VERSION, s.version),
        None => Condition::NotExists,
    }
}

pub fn next_version(read: Option<&Stored>) -> i64 {
    read.map_or(1, |s| s.version + 1)
}

/// What a change does when the owner has no live cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfAbsent {
    /// Start from an empty cart (a user's cart; a new guest cart).
    Empty,
    /// 404: the token names no cart.
    NotFound,
}

/// Applies `change` to `owner`'s cart and writes it; the cart as written.
pub async fn change(
    ctx: &Context,
    owner: &Owner,
    if_absent: IfAbsent,
    change: impl Fn(&mut Cart) -> Result<(), CartError>,
) -> Result<Cart, CartError> {
    let store = ctx.store.as_ref();
    let change = &change;
    optimistic::retry(&POLICY, move |_| async move {
        let now = ctx.clock.now();
        let current = read(store, owner, now).await?;
        let mut cart = match current.as_ref().and_then(|s| s.cart.clone()) {
            Some(cart) => cart,
            None if if_absent == IfAbsent::Empty => Cart::default(),
            None => return Err(CartError::CartNotFound),
        };
        change(&mut cart)?;
        let item = keys::cart_item(owner, &cart, next_version(current.as_ref()), now);
        match store
            .put(item, Some(unchanged_since(current.as_ref())))
            .await
        {
            Ok(()) => Ok(Attempt::Done(cart)),
            Err(e) if lost_race(&e, &[]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Moves the guest cart `token` names into `user_id`'s cart and deletes the
/// guest cart, in one transaction conditioned on both versions read.
pub async fn merge(ctx: &Context, user_id: &str, token: CartToken) -> Result<Cart, CartError> {
    let store = ctx.store.as_ref();
    let user = Owner::User(user_id.to_owned());
    let (user, guest) = (&user, &Owner::Guest(token));
    optimistic::retry(&POLICY, move |_| async move {
        let now = ctx.clock.now();
        let (mine, theirs) = tokio::try_join!(read(store, user, now), read(store, guest, now))?;
        let Some((guest_version, guest_cart)) = theirs.and_then(|s| s.cart.map(|c| (s.version, c)))
        else {
            return Err(CartError::CartNotFound);
        };
        let mut cart = mine
            .as_ref()
            .and_then(|s| s.cart.clone())
            .unwrap_or_default();
        cart.merge(guest_cart.lines)?;
        let ops = vec![
            TxOp::put(keys::cart_item(
                user,
                &cart,
                next_version(mine.as_ref()),
                now,
            ))
            .when(unchanged_since(mine.as_ref()))
            .named(MINE),
            TxOp::delete(guest.key())
                .when(Condition::eq(attr::VERSION, guest_version))
                .named(THEIRS),
        ];
        match store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(cart)),
            // Either cart changed since it was read: read both again.
            Err(e) if lost_race(&e, &[MINE, THEIRS]) => Ok(Attempt::Retry),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
