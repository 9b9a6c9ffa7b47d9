//! Every order the simulated shoppers placed, with the card they paid with
//! and the last state they saw; after the run, the orders not yet seen to
//! end are followed to their end, and each end is checked against its card
//! (an approved card confirms or runs out of stock, a declined one fails,
//! no failed order keeps an authorized payment).

use rand::Rng;
use reqwest13::{Client, Url};
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The sandbox provider's test tokens (`functions/payments/src/sandbox.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentToken {
    /// Approved (webhook `payment.authorized`).
    Visa,
    /// Declined: `card_declined`.
    ChargeDeclined,
    /// Declined: `insufficient_funds`.
    InsufficientFunds,
    /// Never answered: the order fails when the checkout's payment timeout
    /// has passed (`payment_timeout`).
    NoWebhook,
}

impl PaymentToken {
    pub fn token(self) -> &'static str {
        match self {
            PaymentToken::Visa => "tok_visa",
            PaymentToken::ChargeDeclined => "tok_chargeDeclined",
            PaymentToken::InsufficientFunds => "tok_insufficientFunds",
            PaymentToken::NoWebhook => "tok_noWebhook",
        }
    }

    /// A shopper's card: mostly approved; about one in ten declined (as
    /// card-not-present declines run); 2 % never answered, when the run
    /// may wait out the payment timeout.
    pub fn draw(with_no_webhook: bool) -> PaymentToken {
        let roll = rand::thread_rng().gen_range(0..100);
        match roll {
            0..=5 => PaymentToken::ChargeDeclined,
            6..=10 => PaymentToken::InsufficientFunds,
            11..=12 if with_no_webhook => PaymentToken::NoWebhook,
            _ => PaymentToken::Visa,
        }
    }

    /// The failure reasons an order paid with this card may end with.
    fn failure_reasons(self) -> &'static [&'static str] {
        match self {
            PaymentToken::Visa => &["out_of_stock"],
            PaymentToken::ChargeDeclined | PaymentToken::InsufficientFunds => {
                &["payment_declined", "out_of_stock"]
            }
            PaymentToken::NoWebhook => &["payment_timeout", "out_of_stock"],
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub id: String,
    /// The owner's access token (to read it back).
    pub owner_token: String,
    pub payment: PaymentToken,
    /// The order as last seen.
    pub last_seen: Value,
}

/// An order's end as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub id: String,
    pub payment: PaymentToken,
    pub status: String,
    pub reason: Option<String>,
    /// `payment.status` of the order (`none` when it never had one).
    pub payment_status: Option<String>,
    /// The owner's access token (to read it further).
    pub owner_token: String,
    /// When the API last changed it (`updatedAt`).
    pub updated_at: Option<SystemTime>,
}

impl Outcome {
    pub fn of(payment: PaymentToken, owner_token: &str, order: &Value) -> Outcome {
        Outcome {
            owner_token: owner_token.to_owned(),
            updated_at: order["updatedAt"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(SystemTime::from),
            id: order["id"].as_str().unwrap_or_default().to_owned(),
            payment,
            status: order["status"].as_str().unwrap_or_default().to_owned(),
            reason: order["failure"]["reason"].as_str().map(str::to_owned),
            payment_status: order["payment"]["status"].as_str().map(str::to_owned),
        }
    }

    pub fn is_terminal(&self) -> bool {
        is_terminal(&self.status)
    }

    /// What is wrong with this end, if anything.
    pub fn problem(&self) -> Option<String> {
        let card = self.payment.token();
        let pay = self.payment_status.as_deref().unwrap_or("absent");
        match self.status.as_str() {
            "CONFIRMED" | "SHIPPED" | "DELIVERED" | "CANCELLED" => {
                if self.payment != PaymentToken::Visa {
                    return Some(format!(
                        "order {} paid with {card} is {}",
                        self.id, self.status
                    ));
                }
                if self.status == "CONFIRMED" && !matches!(pay, "authorized" | "captured") {
                    return Some(format!("confirmed order {} has payment {pay}", self.id));
                }
                None
            }
            "FAILED" => {
                let reason = self.reason.as_deref().unwrap_or("none");
                if !self.payment.failure_reasons().contains(&reason) {
                    return Some(format!(
                        "order {} paid with {card} failed with reason {reason}",
                        self.id
                    ));
                }
                if matches!(pay, "authorized" | "captured") {
                    return Some(format!("failed order {} has payment {pay}", self.id));
                }
                None
            }
            other => Some(format!("order {} ended {other:?}", self.id)),
        }
    }
}

pub fn is_terminal(status: &str) -> bool {
    !matches!(status, "PENDING" | "")
}

#[derive(Default)]
pub struct Ledger {
    orders: Mutex<Vec<PlacedOrder>>,
}

impl Ledger {
    /// Records a placed order; the answer names it for [`Ledger::update`].
    pub fn record(&self, order: PlacedOrder) -> usize {
        let mut orders = self.orders.lock().expect("ledger lock");
        orders.push(order);
        orders.len() - 1
    }

    /// What the shopper saw of the `entry`th order last.
    pub fn update(&self, entry: usize, seen: Value) {
        if let Some(o) = self.orders.lock().expect("ledger lock").get_mut(entry) {
            o.last_seen = seen;
        }
    }

    pub fn take(&self) -> Vec<PlacedOrder> {
        std::mem::take(&mut *self.orders.lock().expect("ledger lock"))
    }
}

/// What the follow-up found.
#[derive(Debug, Default)]
pub struct Settled {
    pub outcomes: Vec<Outcome>,
    /// Orders still PENDING at the deadline, and orders that could not be
    /// read.
    pub unsettled: Vec<String>,
}

/// Reads every order not seen to end until it ends or `deadline` passes,
/// a few at a time.
pub async fn settle(
    client: &Client,
    host: &Url,
    orders: Vec<PlacedOrder>,
    wait: Duration,
) -> Settled {
    use futures::stream::{self, StreamExt};
    let deadline = Instant::now() + wait;
    let results: Vec<Result<Outcome, String>> = stream::iter(orders)
        .map(|o| follow(client, host, o, deadline))
        .buffer_unordered(16)
        .collect()
        .await;
    let mut settled = Settled::default();
    for r in results {
        match r {
            Ok(o) => settled.outcomes.push(o),
            Err(e) => settled.unsettled.push(e),
        }
    }
    settled
}

async fn follow(
    client: &Client,
    host: &Url,
    order: PlacedOrder,
    deadline: Instant,
) -> Result<Outcome, String> {
    let mut seen = Outcome::of(order.payment, &order.owner_token, &order.last_seen);
    let url = host
        .join(&format!("/v1/orders/{}", order.id))
        .map_err(|e| e.to_string())?;
    while !seen.is_terminal() {
        if Instant::now() > deadline {
            return Err(format!(
                "order {} still {} at the deadline",
                order.id, seen.status
            ));
        }
        let r = client
            .get(url.clone())
            .bearer_auth(&order.owner_token)
            .send()
            .await
            .map_err(|e| format!("order {}: {e}", order.id))?;
        if r.status().as_u16() != 200 {
            return Err(format!("order {}: GET answered {}", order.id, r.status()));
        }
        let body: Value = r
            .json()
            .await
            .map_err(|e| format!("order {}: {e}", order.id))?;
        seen = Outcome::of(order.payment, &order.owner_token, &body);
        if !seen.is_terminal() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(seen)
}

/// The end-state checks of a run that placed orders (mix, soak): every
/// order followed to its end (within `wait`), every end consistent with its
/// card; counts of the ends as notes.
pub async fn check_orders(shared: &super::Shared, report: &mut super::Report, wait: Duration) {
    let placed = shared.ledger.take();
    let total = placed.len();
    let settled = settle(
        shared.clients.observer(),
        &shared.options.host,
        placed,
        wait,
    )
    .await;
    let mut ends: std::collections::BTreeMap<String, usize> = Default::default();
    let mut problems = Vec::new();
    for o in &settled.outcomes {
        let end = match &o.reason {
            Some(r) => format!("{} {} ({r})", o.payment.token(), o.status),
            None => format!("{} {}", o.payment.token(), o.status),
        };
        *ends.entry(end).or_default() += 1;
        problems.extend(o.problem());
    }
    report.note(format!(
        "orders: {total} placed; ends: {}",
        ends.iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    report.check(format!("orders were placed ({total})"), total > 0);
    report.check(
        format!(
            "every order reached a terminal state ({} of {total}){}",
            settled.outcomes.len(),
            first(&settled.unsettled)
        ),
        settled.unsettled.is_empty(),
    );
    report.check(
        format!(
            "every end matches its card; no failed order holds an authorized payment{}",
            first(&problems)
        ),
        problems.is_empty(),
    );
}

fn first(problems: &[String]) -> String {
    match problems.first() {
        Some(p) => format!(" — {} problems, first: {p}", problems.len()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(card: PaymentToken, status: &str, reason: Option<&str>, pay: &str) -> Outcome {
        Outcome::of(
            card,
            "token",
            &json!({"id": "ord_1", "status": status, "failure": reason.map(|r| json!({"reason": r})), "payment": {"status": pay}}),
        )
    }

    #[test]
    fn ends_are_checked_against_the_card() {
        use PaymentToken::*;
        assert_eq!(
            outcome(Visa, "CONFIRMED", None, "authorized").problem(),
            None
        );
        assert_eq!(
            outcome(Visa, "FAILED", Some("out_of_stock"), "none").problem(),
            None
        );
        assert_eq!(
            outcome(ChargeDeclined, "FAILED", Some("payment_declined"), "failed").problem(),
            None
        );
        assert_eq!(
            outcome(NoWebhook, "FAILED", Some("payment_timeout"), "failed").problem(),
            None
        );
        assert!(outcome(Visa, "CONFIRMED", None, "pending")
            .problem()
            .is_some());
        assert!(outcome(Visa, "FAILED", Some("payment_declined"), "failed")
            .problem()
            .is_some());
        assert!(outcome(InsufficientFunds, "CONFIRMED", None, "authorized")
            .problem()
            .is_some());
        assert!(outcome(
            ChargeDeclined,
            "FAILED",
            Some("payment_declined"),
            "authorized"
        )
        .problem()
        .is_some());
        assert!(outcome(Visa, "PENDING", None, "pending")
            .problem()
            .is_some());
        assert!(!outcome(Visa, "PENDING", None, "pending").is_terminal());
    }

    #[test]
    fn cards_come_in_realistic_proportions() {
        let mut counts = std::collections::HashMap::new();
        for _ in 0..10_000 {
            *counts.entry(PaymentToken::draw(false)).or_insert(0) += 1;
        }
        assert!(counts[&PaymentToken::Visa] > 8_000);
        assert!(counts[&PaymentToken::ChargeDeclined] > 400);
        assert!(counts[&PaymentToken::InsufficientFunds] > 300);
        assert!(!counts.contains_key(&PaymentToken::NoWebhook));
    }
}
