//! Opaque, prefixed, time-ordered ids (`prd_01J…`), one newtype per entity.
//!
//! An id is parsed, never trusted: a path segment that is not a well-formed
//! id of the right kind can never reach the store.

use std::sync::Mutex;
use ulid::{Generator, Ulid};

#[doc(hidden)]
pub use ulid as __ulid;

/// Source of new ULIDs. The system one is monotonic within a process, so ids
/// minted in one millisecond still sort in creation order.
pub trait Ids: Send + Sync {
    fn next(&self) -> Ulid;
}

#[derive(Default)]
pub struct SystemIds(Mutex<Generator>);

impl Ids for SystemIds {
    fn next(&self) -> Ulid {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Overflow needs 2^80 ids in one millisecond; fall back to a fresh one.
        g.generate().unwrap_or_else(|_| Ulid::new())
    }
}

/// Defines a prefixed id newtype: `define_id!(ProductId, "prd");`
#[macro_export]
macro_rules! define_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate(ids: &dyn $crate::id::Ids) -> Self {
                Self(format!("{}_{}", Self::PREFIX, ids.next()))
            }

            /// Accepts only `<prefix>_<26-char ULID>`.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix(Self::PREFIX)?.strip_prefix('_')?;
                $crate::id::__ulid::Ulid::from_string(rest).ok()?;
                Some(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a valid ", $prefix, "_ id"))
                })
            }
        }
    };
}

// The order id crosses services (payments, inventory, checkout carry it), so
// it is defined here rather than in orders, which re-exports it.
define_id!(OrderId, "ord");

#[cfg(test)]
mod tests {
    use super::*;

    define_id!(ThingId, "thg");

    #[test]
    fn ids_are_prefixed_ulids_in_creation_order() {
        let ids = SystemIds::default();
        let a = ThingId::generate(&ids);
        let b = ThingId::generate(&ids);
        assert!(a.as_str().starts_with("thg_"));
        assert_eq!(a.as_str().len(), 30);
        assert!(a < b);
        assert_eq!(ThingId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn malformed_ids_do_not_parse() {
        for bad in [
            "",
            "thg_",
            "prd_01J0000000000000000000000",
            "thg_not-a-ulid-at-all-xxxxxx",
            "01J00000000000000000000000",
        ] {
            assert!(ThingId::parse(bad).is_none(), "{bad}");
        }
    }
}
