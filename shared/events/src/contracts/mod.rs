//! The data every event carries, one Rust type per event type and version,
//! mirrored one-to-one by `events/schemas/<detail-type>.json` (a test in
//! `shared/events/tests/schemas.rs` holds them together).
//!
//! Producers build envelopes with [`Envelope::of`], so the type, version
//! and source always match the schema. Consumers read them with [`decode`]
//! (one version) or an [`accepts!`](crate::accepts) enum (every version they
//! take, current and previous).
//!
//! Evolution (see `events/README.md`): adding an optional field keeps the
//! version; any other change is a new type `...V2` beside `...V1`, and
//! consumers accept both until no producer emits the old one. So contract
//! types never deny unknown fields: a consumer built before an optional
//! field was added still reads events that carry it.

mod cart;
mod common;
mod inventory;
mod order;
mod payment;
mod product;
mod review;
mod user;

pub use cart::CartCheckedOutV1;
pub use common::{LineItem, RatingSummary, StockLine};
pub use inventory::{InventoryLowV1, InventoryReleasedV1, InventoryReservedV1, ReleaseReason};
pub use order::{
    CancelledBy, FailureReason, OrderCancelledV1, OrderConfirmedV1, OrderCreatedV1, OrderFailedV1,
    OrderShippedV1,
};
pub use payment::{
    PaymentAuthorizedV1, PaymentFailedV1, PaymentFailureReason, PaymentRefundedV1, RefundKind,
    RefundReason,
};
pub use product::{ProductCreatedV1, ProductDeletedV1, ProductSnapshot, ProductUpdatedV1};
pub use review::{ReviewApprovedV1, ReviewWithdrawnV1, WithdrawReason};
pub use user::UserRegisteredV1;

use crate::{Envelope, HandlerError};
use chrono::{DateTime, Utc};
use lite_core::Ids;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An event's data type: which event type and version it is, and which
/// service publishes it.
pub trait Contract: Serialize + DeserializeOwned {
    /// `<entity>.<verb>`, e.g. `product.created`.
    const TYPE: &'static str;
    const VERSION: u32;
    /// The one service that emits it; the envelope's source is
    /// `amazon-lite.<SERVICE>`.
    const SERVICE: &'static str;
    /// The EventBridge detail-type and schema file stem,
    /// `<TYPE>.v<VERSION>`.
    const DETAIL_TYPE: &'static str;

    /// Whether `event` is of this type and version.
    fn matches(event: &Envelope) -> bool {
        event.event_type == Self::TYPE && event.version == Self::VERSION
    }
}

/// `contract!(ProductCreatedV1, "product.created", 1, "catalog");`
macro_rules! contract {
    ($ty:ty, $event_type:literal, $version:literal, $service:literal) => {
        impl $crate::contracts::Contract for $ty {
            const TYPE: &'static str = $event_type;
            const VERSION: u32 = $version;
            const SERVICE: &'static str = $service;
            const DETAIL_TYPE: &'static str = concat!($event_type, ".v", $version);
        }
    };
}
pub(crate) use contract;

/// Every detail-type that has a contract type (and so a schema).
pub const ALL: &[&str] = &[
    UserRegisteredV1::DETAIL_TYPE,
    ProductCreatedV1::DETAIL_TYPE,
    ProductUpdatedV1::DETAIL_TYPE,
    ProductDeletedV1::DETAIL_TYPE,
    InventoryReservedV1::DETAIL_TYPE,
    InventoryReleasedV1::DETAIL_TYPE,
    InventoryLowV1::DETAIL_TYPE,
    CartCheckedOutV1::DETAIL_TYPE,
    OrderCreatedV1::DETAIL_TYPE,
    OrderConfirmedV1::DETAIL_TYPE,
    OrderFailedV1::DETAIL_TYPE,
    OrderCancelledV1::DETAIL_TYPE,
    OrderShippedV1::DETAIL_TYPE,
    PaymentAuthorizedV1::DETAIL_TYPE,
    PaymentFailedV1::DETAIL_TYPE,
    PaymentRefundedV1::DETAIL_TYPE,
    ReviewApprovedV1::DETAIL_TYPE,
    ReviewWithdrawnV1::DETAIL_TYPE,
];

impl Envelope {
    /// The envelope of one event: a new `evt_` id, and the type, version and
    /// source that `C` fixes, so a producer cannot mislabel its data.
    pub fn of<C: Contract>(
        ids: &dyn Ids,
        time: DateTime<Utc>,
        correlation_id: &str,
        data: &C,
    ) -> Envelope {
        // Contract types are plain data (strings, integers, floats, string-
        // keyed maps), which serde_json always serializes; a test serializes
        // a sample of every one.
        let data = serde_json::to_value(data).expect("contract types serialize to JSON");
        Envelope::new(
            ids,
            C::TYPE,
            C::VERSION,
            C::SERVICE,
            time,
            correlation_id,
            data,
        )
    }
}

/// Why an event could not be read as the contract a consumer asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The envelope is of another type or version than the one asked for.
    #[error("expected a {expected} event, got {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    /// The consumer does not accept this type or version at all.
    #[error("{found} is not accepted here (accepted: {})", accepted.join(", "))]
    NotAccepted {
        found: String,
        accepted: &'static [&'static str],
    },
    /// Right type and version, but `data` does not match the contract.
    #[error("{detail_type} data does not match its contract: {message}")]
    Data {
        detail_type: &'static str,
        message: String,
    },
}

/// An event that cannot be decoded never will be: it goes to the DLQ at once.
impl From<DecodeError> for HandlerError {
    fn from(e: DecodeError) -> Self {
        HandlerError::Poison(e.to_string())
    }
}

/// Reads `event`'s data as `C`, after checking its type and version.
pub fn decode<C: Contract>(event: &Envelope) -> Result<C, DecodeError> {
    if !C::matches(event) {
        return Err(DecodeError::WrongType {
            expected: C::DETAIL_TYPE,
            found: event.detail_type(),
        });
    }
    C::deserialize(&event.data).map_err(|e| DecodeError::Data {
        detail_type: C::DETAIL_TYPE,
        message: e.to_string(),
    })
}

/// Declares what one consumer accepts: an enum with a variant per accepted
/// contract (several versions of one type included), its `DETAIL_TYPES`
/// (what the consumer's [`Handler::detail_types`](crate::Handler) returns,
/// so its subscription and its decoding cannot drift), and `decode`.
///
/// ```
/// use lite_events::contracts::{ProductCreatedV1, ProductDeletedV1};
///
/// lite_events::accepts! {
///     /// What the search indexer reads.
///     #[derive(Debug)]
///     pub enum SearchFeed {
///         Created(ProductCreatedV1),
///         Deleted(ProductDeletedV1),
///     }
/// }
///
/// assert_eq!(SearchFeed::DETAIL_TYPES, ["product.created.v1", "product.deleted.v1"]);
/// ```
///
/// When `product.created.v2` arrives, the consumer adds a `CreatedV2`
/// variant beside the v1 one and keeps both until no v1 event is in flight.
#[macro_export]
macro_rules! accepts {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($variant:ident($ty:ty)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($variant($ty)),+
        }

        impl $name {
            /// Every detail-type this consumer accepts.
            pub const DETAIL_TYPES: &'static [&'static str] =
                &[$(<$ty as $crate::contracts::Contract>::DETAIL_TYPE),+];

            /// The accepted contract `event` is, or why it is none of them.
            pub fn decode(
                event: &$crate::Envelope,
            ) -> ::core::result::Result<Self, $crate::contracts::DecodeError> {
                $(
                    if <$ty as $crate::contracts::Contract>::matches(event) {
                        return $crate::contracts::decode::<$ty>(event).map(Self::$variant);
                    }
                )+
                ::core::result::Result::Err($crate::contracts::DecodeError::NotAccepted {
                    found: event.detail_type(),
                    accepted: Self::DETAIL_TYPES,
                })
            }
        }
    };
}
