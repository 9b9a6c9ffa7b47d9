//! Domain primitives shared by every Amazon Lite service.
//!
//! Nothing here knows about HTTP, AWS or storage: these are the types the
//! services speak in (`Money`, typed ids, opaque cursors, problems) and the
//! small ports every service needs (`Clock`).

pub mod breaker;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod id;
pub mod money;
pub mod problem;
pub mod sku;

pub use clock::{rfc3339, Clock, ManualClock, SystemClock};
pub use cursor::{CursorCodec, CursorError};
pub use id::{Ids, OrderId, SystemIds};
pub use money::{Currency, Money, MoneyError};
pub use problem::{ErrorCode, FieldError, Problem, Violations};
pub use sku::{Sku, SkuError};
