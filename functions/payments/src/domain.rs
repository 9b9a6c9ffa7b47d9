//! The payment's domain: its id, its status and the only moves a status
//! may make, and why a payment failed.

use lite_events::contracts::PaymentFailureReason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

lite_core::define_id!(PaymentId, "pay");

/// Where an order's payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Asked of the provider; its answer has not arrived.
    Pending,
    /// Money held on the card.
    Authorized,
    /// Money taken (the order shipped).
    Captured,
    /// Declined, or no answer before the checkout gave up.
    Failed,
    /// Captured money returned.
    Refunded,
    /// The hold released without taking money.
    Voided,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => PaymentStatus::Pending,
            "authorized" => PaymentStatus::Authorized,
            "captured" => PaymentStatus::Captured,
            "failed" => PaymentStatus::Failed,
            "refunded" => PaymentStatus::Refunded,
            "voided" => PaymentStatus::Voided,
            _ => return None,
        })
    }

    /// The move to `to`, if the lifecycle allows it:
    /// pending → authorized | failed; authorized → captured | voided;
    /// captured → refunded; failed → voided (an authorization the provider
    /// reported after checkout had already failed the payment: the hold it
    /// made is released).
    pub fn to(self, to: PaymentStatus) -> Result<Transition, IllegalTransition> {
        use PaymentStatus::*;
        let allowed = matches!(
            (self, to),
            (Pending, Authorized)
                | (Pending, Failed)
                | (Authorized, Captured)
                | (Authorized, Voided)
                | (Captured, Refunded)
                | (Failed, Voided)
        );
        if allowed {
            Ok(Transition { from: self, to })
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the lifecycle allows; only [`PaymentStatus::to`] makes one, so a
/// write can only ever apply a legal move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    from: PaymentStatus,
    to: PaymentStatus,
}

impl Transition {
    pub fn from(self) -> PaymentStatus {
        self.from
    }
    pub fn to(self) -> PaymentStatus {
        self.to
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a payment cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: PaymentStatus,
    pub to: PaymentStatus,
}

/// Why a payment failed (recorded on the payment and told to the saga).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    CardDeclined,
    InsufficientFunds,
    /// The provider refused the payment method token itself.
    InvalidToken,
    /// No answer before the checkout's payment timeout.
    Timeout,
    /// Anything else the provider reported, or a checkout that gave up for
    /// another reason while the payment was pending.
    ProviderError,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::CardDeclined => "card_declined",
            FailureReason::InsufficientFunds => "insufficient_funds",
            FailureReason::InvalidToken => "invalid_token",
            FailureReason::Timeout => "timeout",
            FailureReason::ProviderError => "provider_error",
        }
    }

    /// The `payment_authorizations` outcome of a pending payment that
    /// failed for this reason.
    pub fn authorization_outcome(self) -> lite_metrics::PaymentOutcome {
        match self {
            FailureReason::Timeout => lite_metrics::PaymentOutcome::TimedOut,
            _ => lite_metrics::PaymentOutcome::Declined,
        }
    }

    /// A provider's reason string; unknown ones are provider errors.
    pub fn from_provider(s: &str) -> Self {
        match s {
            "card_declined" => FailureReason::CardDeclined,
            "insufficient_funds" => FailureReason::InsufficientFunds,
            "invalid_token" => FailureReason::InvalidToken,
            "timeout" => FailureReason::Timeout,
            _ => FailureReason::ProviderError,
        }
    }

    /// The `payment.failed.v1` reason. The contract has no `invalid_token`:
    /// a refused token is, to its consumers, a declined card.
    pub fn to_event(self) -> PaymentFailureReason {
        match self {
            FailureReason::CardDeclined | FailureReason::InvalidToken => {
                PaymentFailureReason::CardDeclined
            }
            FailureReason::InsufficientFunds => PaymentFailureReason::InsufficientFunds,
            FailureReason::Timeout => PaymentFailureReason::Timeout,
            FailureReason::ProviderError => PaymentFailureReason::ProviderError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;
    use super::*;

    const ALL: [PaymentStatus; 6] = [Pending, Authorized, Captured, Failed, Refunded, Voided];

    #[test]
    fn only_the_lifecycle_moves_are_allowed() {
        let allowed = [
            (Pending, Authorized),
            (Pending, Failed),
            (Authorized, Captured),
            (Authorized, Voided),
            (Captured, Refunded),
            (Failed, Voided),
        ];
        for from in ALL {
            for to in ALL {
                let legal = allowed.contains(&(from, to));
                assert_eq!(from.to(to).is_ok(), legal, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn statuses_round_trip_as_strings() {
        for s in ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(PaymentStatus::parse("PENDING"), None);
    }

    #[test]
    fn provider_reasons_map_to_the_event_contract() {
        assert_eq!(
            FailureReason::from_provider("insufficient_funds").to_event(),
            PaymentFailureReason::InsufficientFunds
        );
        assert_eq!(
            FailureReason::from_provider("invalid_token").to_event(),
            PaymentFailureReason::CardDeclined
        );
        assert_eq!(
            FailureReason::from_provider("lost_in_the_mail"),
            FailureReason::ProviderError
        );
    }
}
