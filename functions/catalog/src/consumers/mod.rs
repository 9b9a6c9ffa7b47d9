//! The catalog's event consumers (one queue each; see `lite_events::Handler`).

mod rating;

pub use rating::RatingSync;
