//! The auth service's events: `user.registered.v1` (schema:
//! `events/schemas/user.registered.v1.json`).

use crate::accounts::Account;
use chrono::{DateTime, Utc};
use lite_events::Envelope;
use lite_ports::Context;
use serde_json::json;

pub fn registered(ctx: &Context, account: &Account, now: DateTime<Utc>) -> Envelope {
    Envelope::new(
        ctx.ids.as_ref(),
        "user.registered",
        1,
        "auth",
        now,
        &lite_http::correlation::current(),
        json!({
            "userId": account.id,
            "email": account.email,
            "name": account.name,
        }),
    )
}
