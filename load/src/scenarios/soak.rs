//! `soak-10k`: 10,000 shoppers (by default) for five minutes, in the
//! proportions of a shop's traffic rather than every visitor buying: of
//! every 20 users, 16 browse anonymously (the listing with filters, sorts
//! and next pages, product pages, searches and suggestions), 2 fill guest
//! carts and 2 are customers. A customer signs up once, when it arrives
//! (the users arrive over the ramp, so the sign-ups' password hashing is
//! spread over it), then round after round browses, opens a product, now
//! and then signs in again (a new session: one round in four), fills the
//! cart, looks at it and checks out, watching the order to its end. Every
//! step is followed by a person's pause.

use super::api::Step;
use super::ledger::check_orders;
use super::mix::{settle_wait, step};
use super::shopper::{self, start};
use super::{attack, goose_configuration, LoadError, Options, Report, Shared};
use goose::goose::GooseUser;
use goose::prelude::*;
use rand::Rng;

/// Of a customer's rounds, the share that starts with a fresh sign-in (the
/// others go on with the session they have: access tokens last 15 min).
const SIGN_IN_AGAIN: f64 = 0.25;

pub async fn run(options: &Options) -> Result<Report, LoadError> {
    let shared = Shared::new(options, options.users).await?;
    let (min, max) = (options.think.min, options.think.max);
    let scenarios = vec![
        scenario!("browsing")
            .set_weight(16)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), false))
            .register_transaction(step!(shopper::browse_listing, "listing").set_weight(3)?)
            .register_transaction(step!(shopper::view_product, "product").set_weight(4)?)
            .register_transaction(step!(shopper::search, "search").set_weight(2)?)
            .register_transaction(step!(shopper::suggest, "suggest").set_weight(1)?),
        scenario!("guest cart")
            .set_weight(2)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), false))
            .register_transaction(step!(shopper::browse_listing, "listing").set_sequence(1))
            .register_transaction(step!(shopper::view_product, "product").set_sequence(2))
            .register_transaction(step!(shopper::guest_cart, "guest cart").set_sequence(3)),
        scenario!("customer")
            .set_weight(2)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), true))
            .register_transaction(step!(shopper::browse_listing, "listing").set_sequence(1))
            .register_transaction(step!(shopper::view_product, "product").set_sequence(2))
            .register_transaction(step!(sign_in_now_and_then, "login").set_sequence(3))
            .register_transaction(step!(shopper::add_to_cart, "add to cart").set_sequence(4))
            .register_transaction(step!(shopper::view_cart, "cart").set_sequence(5))
            .register_transaction(step!(shopper::check_out, "checkout").set_sequence(6)),
    ];
    let configuration = goose_configuration(
        options,
        options.users,
        options.ramp_rate(options.users),
        Some(options.duration),
        None,
    );
    let metrics = attack(configuration, scenarios).await?;
    let mut report = Report::from_metrics(options.scenario.name(), &metrics, &shared.faults);
    report.note(format!(
        "{} source addresses on loopback ({} users each at most)",
        shared.clients.addresses(),
        super::clients::USERS_PER_ADDRESS
    ));
    report.note(shared.clients.summary());
    check_orders(&shared, &mut report, settle_wait(options)).await;
    Ok(report)
}

/// A fresh sign-in in [`SIGN_IN_AGAIN`] of the rounds.
async fn sign_in_now_and_then(user: &mut GooseUser) -> Step {
    if rand::thread_rng().gen_bool(SIGN_IN_AGAIN) {
        shopper::log_in(user).await?;
    }
    Ok(())
}
