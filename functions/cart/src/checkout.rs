//! What the orders service uses to turn a signed-in shopper's cart into an
//! order: read it ([`load`]), bring its prices up to date when the catalog
//! moved ([`reprice`]), and clear it in the order's own transaction
//! ([`checked_out_ops`]). Only user carts check out; guest carts merge
//! first.

use crate::keys::{self, attr, Owner, Stored};
use crate::repo;
use lite_core::{Clock, Money, OrderId, Sku};
use lite_events::contracts::{CartCheckedOutV1, LineItem};
use lite_events::Envelope;
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Condition, Store, StoreError, TxOp};

/// The name of the cart's op among [`checked_out_ops`]: when it fails, the
/// cart changed since it was priced.
pub const CART_OP: &str = "cart";

/// One cart line as the checkout prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: String,
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

/// The cart as read, with the version the checkout's writes condition on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartSnapshot {
    pub lines: Vec<CartLine>,
    pub version: i64,
}

fn snapshot_of(stored: Stored) -> Option<CartSnapshot> {
    let cart = stored.cart?;
    if cart.lines.is_empty() {
        return None;
    }
    Some(CartSnapshot {
        version: stored.version,
        lines: cart
            .lines
            .into_iter()
            .map(|l| CartLine {
                product_id: l.product_id,
                sku: l.sku,
                name: l.name,
                unit_price: l.unit_price,
                quantity: l.quantity,
            })
            .collect(),
    })
}

/// `user_id`'s cart; `None` when absent, expired or empty.
pub async fn load(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
) -> Result<Option<CartSnapshot>, StoreError> {
    let owner = Owner::User(user_id.to_owned());
    Ok(repo::read(store, &owner, clock.now())
        .await?
        .and_then(snapshot_of))
}

/// Applies the catalog's current names and prices to `lines`; a product
/// listed with `None` is gone, and so is its line. Lines of products not in
/// `current` stay as they are. Whether anything changed.
fn apply(
    lines: &mut Vec<crate::domain::Line>,
    current: &[(String, Option<(String, Money)>)],
) -> bool {
    let before = lines.clone();
    lines.retain_mut(
        |line| match current.iter().find(|(id, _)| *id == line.product_id) {
            None => true,
            Some((_, None)) => false,
            Some((_, Some((name, price)))) => {
                line.name.clone_from(name);
                line.unit_price = *price;
                true
            }
        },
    );
    *lines != before
}

/// Updates the cart's snapshotted names and prices to the catalog's
/// `current` ones and drops lines whose product is gone, so the shopper who
/// gets `409 price_changed` sees the prices the next attempt will charge.
///
/// The cart is read again (the snapshot lacks each line's `addedAt`) and
/// written conditioned on the version read; when the cart changed since
/// `snapshot`, the same prices apply to its current lines, and a write that
/// loses a race reads and retries. An absent or expired cart, or one with
/// nothing to change, is left alone.
pub async fn reprice(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
    snapshot: &CartSnapshot,
    current: &[(String, Option<(String, Money)>)],
) -> Result<(), StoreError> {
    let owner = &Owner::User(user_id.to_owned());
    optimistic::retry(&POLICY, move |_| async move {
        let now = clock.now();
        let Some(Stored {
            version,
            cart: Some(mut cart),
        }) = repo::read(store, owner, now).await?
        else {
            return Ok(Attempt::Done(()));
        };
        if version != snapshot.version {
            tracing::debug!(
                user_id,
                version,
                snapshot = snapshot.version,
                "cart changed since the checkout read it"
            );
        }
        if !apply(&mut cart.lines, current) {
            return Ok(Attempt::Done(()));
        }
        let item = keys::cart_item(owner, &cart, version + 1, now);
        match store
            .put(item, Some(Condition::eq(attr::VERSION, version)))
            .await
        {
            Ok(()) => Ok(Attempt::Done(())),
            Err(e) if lost_race(&e, &[]) => Ok(Attempt::Retry),
            Err(e) => Err(e),
        }
    })
    .await
}

/// The ops that clear `user_id`'s cart as part of the order's transaction:
/// the cart's delete, conditioned on `snapshot.version` (a cart changed
/// since it was priced aborts the order), and the `cart.checked_out.v1`
/// outbox item.
pub fn checked_out_ops(
    ctx: &Context,
    user_id: &str,
    order_id: &OrderId,
    snapshot: &CartSnapshot,
    correlation_id: &str,
) -> Vec<TxOp> {
    let currency = snapshot
        .lines
        .first()
        .map_or(crate::domain::DEFAULT_CURRENCY, |l| l.unit_price.currency);
    // A stored cart holds at most 50 lines of at most 99 units of prices the
    // catalog caps at 10^8 minor units, so these sums cannot saturate.
    let amount = snapshot.lines.iter().fold(0i64, |sum, l| {
        sum.saturating_add(l.unit_price.amount.saturating_mul(i64::from(l.quantity)))
    });
    let event = CartCheckedOutV1 {
        user_id: user_id.to_owned(),
        order_id: order_id.to_string(),
        items: snapshot
            .lines
            .iter()
            .map(|l| LineItem {
                product_id: l.product_id.clone(),
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        subtotal: Money::new(amount, currency),
        item_count: snapshot.lines.iter().map(|l| l.quantity).sum(),
    };
    let envelope = Envelope::of(ctx.ids.as_ref(), ctx.clock.now(), correlation_id, &event);
    vec![
        TxOp::delete(keys::user(user_id))
            .when(Condition::eq(attr::VERSION, snapshot.version))
            .named(CART_OP),
        lite_events::outbox::put(&envelope),
    ]
}
