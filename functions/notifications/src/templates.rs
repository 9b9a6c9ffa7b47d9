//! The texts: one subject and plain-text body per kind of notice, in
//! English and German. A user whose language has no templates gets
//! English.

use lite_core::Money;
use lite_events::contracts::{CancelledBy, FailureReason, LineItem, PaymentFailureReason};

/// What a notification tells the user, with the data its text needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Confirmed {
        order_id: String,
        items: Vec<LineItem>,
        total: Money,
    },
    Failed {
        order_id: String,
        reason: FailureReason,
        detail: Option<String>,
    },
    Cancelled {
        order_id: String,
        items: Vec<LineItem>,
        total: Money,
        /// Whether a payment was made (and so is given back).
        paid: bool,
        by: CancelledBy,
    },
    Shipped {
        order_id: String,
    },
    PaymentFailed {
        order_id: String,
        amount: Money,
        reason: PaymentFailureReason,
    },
}

impl Notice {
    pub fn order_id(&self) -> &str {
        match self {
            Notice::Confirmed { order_id, .. }
            | Notice::Failed { order_id, .. }
            | Notice::Cancelled { order_id, .. }
            | Notice::Shipped { order_id }
            | Notice::PaymentFailed { order_id, .. } => order_id,
        }
    }
}

/// A language with templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The templates for a BCP 47 tag: its primary language (`de-AT` →
    /// German), English when there are none for it.
    pub fn for_tag(tag: &str) -> Lang {
        let primary = tag.split('-').next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

/// A rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// `notice` for `name`, in `lang`.
pub fn render(notice: &Notice, lang: Lang, name: &str) -> Rendered {
    match lang {
        Lang::En => en(notice, name),
        Lang::De => de(notice, name),
    }
}

/// `2 × Desk lamp (LAMP-1), 19.99 USD each`, one line per item.
fn item_lines(items: &[LineItem], each: &str) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "  {} × {} ({}), {} {each}\n",
                i.quantity, i.name, i.sku, i.unit_price
            )
        })
        .collect()
}

fn en(notice: &Notice, name: &str) -> Rendered {
    let hello = format!("Hello {name},\n\n");
    let bye = "\nThank you for shopping with Amazon Lite.\n";
    match notice {
        Notice::Confirmed {
            order_id,
            items,
            total,
        } => Rendered {
            subject: format!("Your order {order_id} is confirmed"),
            body: format!(
                "{hello}thank you for your order. Your payment is authorized and we are \
                 preparing your items.\n\nOrder {order_id}\n{}Total: {total}\n{bye}",
                item_lines(items, "each")
            ),
        },
        Notice::Failed {
            order_id,
            reason,
            detail,
        } => {
            let why = match reason {
                FailureReason::OutOfStock => "some of its items are no longer in stock",
                FailureReason::PaymentDeclined => "your payment was declined",
                FailureReason::PaymentTimeout => "your payment provider did not answer in time",
                FailureReason::CheckoutError => "something went wrong on our side",
            };
            let detail = detail
                .as_ref()
                .map(|d| format!("{d}\n\n"))
                .unwrap_or_default();
            Rendered {
                subject: format!("We could not complete your order {order_id}"),
                body: format!(
                    "{hello}we could not complete your order {order_id}: {why}.\n\n{detail}\
                     You have not been charged, and nothing was reserved for you. Your cart \
                     is still there if you would like to try again.\n{bye}"
                ),
            }
        }
        Notice::Cancelled {
            order_id,
            items,
            total,
            paid,
            by,
        } => {
            let who = match by {
                CancelledBy::Customer => "as you asked, we have cancelled your order",
                CancelledBy::Admin => "we are sorry: we had to cancel your order",
            };
            let money = if *paid {
                format!("Your payment of {total} is being returned to your payment method.")
            } else {
                "You have not been charged.".to_owned()
            };
            Rendered {
                subject: format!("Your order {order_id} has been cancelled"),
                body: format!(
                    "{hello}{who} {order_id}.\n\n{}Total: {total}\n\n{money}\n{bye}",
                    item_lines(items, "each")
                ),
            }
        }
        Notice::Shipped { order_id } => Rendered {
            subject: format!("Your order {order_id} is on its way"),
            body: format!(
                "{hello}good news: your order {order_id} has shipped and is on its way \
                 to you.\n{bye}"
            ),
        },
        Notice::PaymentFailed {
            order_id,
            amount,
            reason,
        } => {
            let why = match reason {
                PaymentFailureReason::CardDeclined => "your card was declined",
                PaymentFailureReason::InsufficientFunds => "there were insufficient funds",
                PaymentFailureReason::Timeout => "the payment provider did not answer in time",
                PaymentFailureReason::ProviderError => "the payment provider reported an error",
            };
            Rendered {
                subject: format!("A payment for your order {order_id} failed"),
                body: format!(
                    "{hello}we could not take the payment of {amount} for your order \
                     {order_id}: {why}.\n\nPlease check your payment method; we will be in \
                     touch about your order.\n{bye}"
                ),
            }
        }
    }
}

fn de(notice: &Notice, name: &str) -> Rendered {
    let hello = format!("Hallo {name},\n\n");
    let bye = "\nVielen Dank für Ihren Einkauf bei Amazon Lite.\n";
    match notice {
        Notice::Confirmed {
            order_id,
            items,
            total,
        } => Rendered {
            subject: format!("Ihre Bestellung {order_id} ist bestätigt"),
            body: format!(
                "{hello}vielen Dank für Ihre Bestellung. Ihre Zahlung ist autorisiert und \
                 wir bereiten Ihre Artikel vor.\n\nBestellung {order_id}\n{}Summe: {total}\n{bye}",
                item_lines(items, "pro Stück")
            ),
        },
        Notice::Failed {
            order_id,
            reason,
            detail,
        } => {
            let why = match reason {
                FailureReason::OutOfStock => "einige Artikel sind nicht mehr vorrätig",
                FailureReason::PaymentDeclined => "Ihre Zahlung wurde abgelehnt",
                FailureReason::PaymentTimeout => {
                    "Ihr Zahlungsanbieter hat nicht rechtzeitig geantwortet"
                }
                FailureReason::CheckoutError => "bei uns ist ein Fehler aufgetreten",
            };
            let detail = detail
                .as_ref()
                .map(|d| format!("{d}\n\n"))
                .unwrap_or_default();
            Rendered {
                subject: format!("Ihre Bestellung {order_id} konnte nicht abgeschlossen werden"),
                body: format!(
                    "{hello}wir konnten Ihre Bestellung {order_id} nicht abschließen: {why}.\n\n\
                     {detail}Ihnen wurde nichts berechnet. Ihr Warenkorb ist noch da, falls Sie \
                     es erneut versuchen möchten.\n{bye}"
                ),
            }
        }
        Notice::Cancelled {
            order_id,
            items,
            total,
            paid,
            by,
        } => {
            let who = match by {
                CancelledBy::Customer => "wie gewünscht haben wir Ihre Bestellung",
                CancelledBy::Admin => "leider mussten wir Ihre Bestellung",
            };
            let money = if *paid {
                format!("Ihre Zahlung von {total} wird auf Ihr Zahlungsmittel zurückerstattet.")
            } else {
                "Ihnen wurde nichts berechnet.".to_owned()
            };
            Rendered {
                subject: format!("Ihre Bestellung {order_id} wurde storniert"),
                body: format!(
                    "{hello}{who} {order_id} storniert.\n\n{}Summe: {total}\n\n{money}\n{bye}",
                    item_lines(items, "pro Stück")
                ),
            }
        }
        Notice::Shipped { order_id } => Rendered {
            subject: format!("Ihre Bestellung {order_id} ist unterwegs"),
            body: format!(
                "{hello}gute Nachricht: Ihre Bestellung {order_id} wurde versandt und ist \
                 auf dem Weg zu Ihnen.\n{bye}"
            ),
        },
        Notice::PaymentFailed {
            order_id,
            amount,
            reason,
        } => {
            let why = match reason {
                PaymentFailureReason::CardDeclined => "Ihre Karte wurde abgelehnt",
                PaymentFailureReason::InsufficientFunds => "die Deckung reichte nicht aus",
                PaymentFailureReason::Timeout => {
                    "der Zahlungsanbieter hat nicht rechtzeitig geantwortet"
                }
                PaymentFailureReason::ProviderError => "der Zahlungsanbieter meldete einen Fehler",
            };
            Rendered {
                subject: format!("Eine Zahlung für Ihre Bestellung {order_id} ist fehlgeschlagen"),
                body: format!(
                    "{hello}wir konnten die Zahlung von {amount} für Ihre Bestellung {order_id} \
                     nicht einziehen: {why}.\n\nBitte prüfen Sie Ihr Zahlungsmittel; wir melden \
                     uns wegen Ihrer Bestellung.\n{bye}"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_core::{Currency, Sku};

    fn items() -> Vec<LineItem> {
        vec![LineItem {
            product_id: "prd_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C".into(),
            sku: Sku::parse("LAMP-1").unwrap(),
            name: "Desk lamp".into(),
            quantity: 2,
            unit_price: Money::new(1999, Currency::USD),
        }]
    }

    #[test]
    fn languages_fall_back_to_english() {
        assert_eq!(Lang::for_tag("de"), Lang::De);
        assert_eq!(Lang::for_tag("de-AT"), Lang::De);
        for other in ["en", "en-US", "fr", "zh-Hant-TW", ""] {
            assert_eq!(Lang::for_tag(other), Lang::En, "{other}");
        }
    }

    #[test]
    fn confirmations_list_items_and_total() {
        let n = Notice::Confirmed {
            order_id: "ord_1".into(),
            items: items(),
            total: Money::new(3998, Currency::USD),
        };
        let en = render(&n, Lang::En, "Ada");
        assert_eq!(en.subject, "Your order ord_1 is confirmed");
        assert!(en.body.starts_with("Hello Ada,"), "{}", en.body);
        assert!(
            en.body
                .contains("2 × Desk lamp (LAMP-1), 19.99 USD each\nTotal: 39.98 USD"),
            "{}",
            en.body
        );
        let de = render(&n, Lang::De, "Ada");
        assert_eq!(de.subject, "Ihre Bestellung ord_1 ist bestätigt");
        assert!(de.body.contains("Summe: 39.98 USD"), "{}", de.body);
    }

    #[test]
    fn every_failure_reason_reads_as_words() {
        let reasons = [
            (FailureReason::OutOfStock, "no longer in stock"),
            (FailureReason::PaymentDeclined, "payment was declined"),
            (FailureReason::PaymentTimeout, "did not answer in time"),
            (FailureReason::CheckoutError, "went wrong on our side"),
        ];
        for (reason, words) in reasons {
            let r = render(
                &Notice::Failed {
                    order_id: "ord_1".into(),
                    reason,
                    detail: Some("LAMP-1 sold out.".into()),
                },
                Lang::En,
                "Ada",
            );
            assert!(r.body.contains(words), "{reason:?}: {}", r.body);
            assert!(r.body.contains("LAMP-1 sold out."));
            let code = serde_json::to_value(reason).unwrap();
            assert!(!r.body.contains(code.as_str().unwrap()), "{}", r.body);
        }
    }

    #[test]
    fn cancellations_say_who_and_what_happens_to_the_money() {
        let n = |paid, by| Notice::Cancelled {
            order_id: "ord_1".into(),
            items: items(),
            total: Money::new(3998, Currency::USD),
            paid,
            by,
        };
        let r = render(&n(true, CancelledBy::Customer), Lang::En, "Ada");
        assert!(r.body.contains("as you asked"));
        assert!(r.body.contains("payment of 39.98 USD is being returned"));
        let r = render(&n(false, CancelledBy::Admin), Lang::En, "Ada");
        assert!(r.body.contains("we had to cancel"));
        assert!(r.body.contains("You have not been charged."));
    }
}
