//! `soak-10k`: 10,000 shoppers (by default) for five minutes. Each signs up
//! once, then, round after round with a person's pauses between steps,
//! browses the listing, opens a product, searches, signs in, fills the cart,
//! looks at it and checks out, watching the order to its end.

use super::ledger::check_orders;
use super::mix::{settle_wait, step};
use super::shopper::{self, start};
use super::{attack, goose_configuration, LoadError, Options, Report, Shared};
use goose::prelude::*;

pub async fn run(options: &Options) -> Result<Report, LoadError> {
    let shared = Shared::new(options, options.users).await?;
    let (min, max) = (options.think.min, options.think.max);
    let shopper = scenario!("shopper")
        .set_wait_time(min, max)?
        .register_transaction(start(shared.clone(), true))
        .register_transaction(step!(shopper::browse_listing, "listing").set_sequence(1))
        .register_transaction(step!(shopper::view_product, "product").set_sequence(2))
        .register_transaction(step!(shopper::search, "search").set_sequence(3))
        .register_transaction(step!(shopper::log_in, "login").set_sequence(4))
        .register_transaction(step!(shopper::add_to_cart, "add to cart").set_sequence(5))
        .register_transaction(step!(shopper::view_cart, "cart").set_sequence(6))
        .register_transaction(step!(shopper::check_out, "checkout").set_sequence(7));
    let configuration = goose_configuration(
        options,
        options.users,
        options.ramp_rate(options.users),
        Some(options.duration),
        None,
    );
    let metrics = attack(configuration, vec![shopper]).await?;
    let mut report = Report::from_metrics(options.scenario.name(), &metrics, &shared.faults);
    report.note(format!(
        "{} source addresses on loopback ({} users each at most)",
        shared.clients.addresses(),
        super::clients::USERS_PER_ADDRESS
    ));
    check_orders(&shared, &mut report, settle_wait(options)).await;
    Ok(report)
}
