//! `mix`: the day-to-day traffic of the shop. Of every 18 users, 8 browse
//! anonymously (listing with filters, sorts and cursor paging; product
//! pages), 4 search (typos) and take suggestions, 3 fill guest carts and 3
//! sign up, sign in, fill a cart and check out with the sandbox cards in
//! realistic proportions, watching each order to its end.

use super::ledger::check_orders;
use super::shopper::{self, start};
use super::{attack, goose_configuration, LoadError, Options, Report, Shared};
use goose::prelude::*;
use std::time::Duration;

macro_rules! step {
    ($f:path, $name:expr) => {
        Transaction::new(std::sync::Arc::new(|u| Box::pin($f(u)))).set_name($name)
    };
}
pub(crate) use step;

pub async fn run(options: &Options) -> Result<Report, LoadError> {
    let shared = Shared::new(options, options.users).await?;
    let (min, max) = (options.think.min, options.think.max);
    let scenarios = vec![
        scenario!("anonymous browsing")
            .set_weight(8)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), false))
            .register_transaction(step!(shopper::browse_listing, "listing").set_weight(3)?)
            .register_transaction(step!(shopper::view_product, "product").set_weight(4)?),
        scenario!("search")
            .set_weight(4)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), false))
            .register_transaction(step!(shopper::suggest, "suggest").set_weight(2)?)
            .register_transaction(step!(shopper::search, "search").set_weight(3)?),
        scenario!("guest cart")
            .set_weight(3)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), false))
            .register_transaction(step!(shopper::browse_listing, "listing").set_sequence(1))
            .register_transaction(step!(shopper::view_product, "product").set_sequence(2))
            .register_transaction(step!(shopper::guest_cart, "guest cart").set_sequence(3)),
        scenario!("buyer")
            .set_weight(3)?
            .set_wait_time(min, max)?
            .register_transaction(start(shared.clone(), true))
            .register_transaction(step!(shopper::log_in, "login").set_sequence(1))
            .register_transaction(step!(shopper::view_product, "product").set_sequence(2))
            .register_transaction(step!(shopper::add_to_cart, "add to cart").set_sequence(3))
            .register_transaction(step!(shopper::view_cart, "cart").set_sequence(4))
            .register_transaction(step!(shopper::check_out, "checkout").set_sequence(5)),
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
    report.note(shared.clients.summary());
    check_orders(&shared, &mut report, settle_wait(options)).await;
    Ok(report)
}

/// How long the run's end waits for pending orders: a checkout ends in
/// seconds, or when the payment timeout has passed for `tok_noWebhook`.
pub fn settle_wait(options: &Options) -> Duration {
    Duration::from_secs(60) + options.payment_timeout.unwrap_or_default()
}
