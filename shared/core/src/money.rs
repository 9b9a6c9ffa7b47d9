//! Money in integer minor units with an ISO 4217 currency. No floats, ever.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A three-letter upper-case ISO 4217 code. Parsing is the only way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(|c| c.is_ascii_uppercase()) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(MoneyError::Currency)
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters ever get in (see `parse`).
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as USD")]
    Currency,
    #[error("amounts in different currencies cannot be combined")]
    CurrencyMismatch,
    #[error("amount is out of range")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

/// An amount of money: integer minor units (cents for USD) and a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// Integer minor units (1999 = 19.99 USD).
    pub amount: i64,
    /// ISO 4217 code.
    #[schema(value_type = String, example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: 0,
            currency,
        }
    }

    /// A price: non-negative.
    pub fn non_negative(self) -> Result<Self, MoneyError> {
        if self.amount < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(self)
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }

    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            amount,
            currency: self.currency,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_parses_only_iso_shapes() {
        assert!(Currency::parse("USD").is_ok());
        for bad in ["usd", "US", "USDD", "U$D", ""] {
            assert_eq!(Currency::parse(bad), Err(MoneyError::Currency), "{bad}");
        }
    }

    #[test]
    fn money_round_trips_as_api_json() {
        let m: Money = serde_json::from_str(r#"{"amount":1999,"currency":"USD"}"#).unwrap();
        assert_eq!(m, Money::new(1999, Currency::USD));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":1999,"currency":"USD"}"#
        );
        assert!(serde_json::from_str::<Money>(r#"{"amount":19.99,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"usd"}"#).is_err());
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let usd = Money::new(150, Currency::USD);
        let eur = Money::new(1, Currency::parse("EUR").unwrap());
        assert_eq!(usd.checked_add(eur), Err(MoneyError::CurrencyMismatch));
        assert_eq!(usd.checked_mul(3).unwrap().amount, 450);
        assert_eq!(
            Money::new(i64::MAX, Currency::USD).checked_mul(2),
            Err(MoneyError::Overflow)
        );
        assert_eq!(usd.to_string(), "1.50 USD");
        assert_eq!(
            Money::new(-5, Currency::USD).non_negative(),
            Err(MoneyError::Negative)
        );
    }
}
