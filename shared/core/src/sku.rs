//! Stock-keeping unit: the product code catalog and inventory share.

use serde::{Deserialize, Deserializer, Serialize};

/// 1..=32 characters of `A-Z`, `0-9` and `-`, not starting or ending with
/// `-`. Parsing upper-cases, so `lap-001` and `LAP-001` are the same sku.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sku must be 1 to 32 letters, digits or inner hyphens")]
pub struct SkuError;

impl Sku {
    pub fn parse(s: &str) -> Result<Self, SkuError> {
        let s = s.trim().to_ascii_uppercase();
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Sku(s))
        } else {
            Err(SkuError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sku::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(Sku::parse(" lap-001 ").unwrap().as_str(), "LAP-001");
        for bad in ["", "-A", "A-", "A B", "A_B", &"A".repeat(33), "É"] {
            assert!(Sku::parse(bad).is_err(), "{bad}");
        }
    }
}
