//! The cost model: what AWS would bill for the work the local system counts.

pub mod units;
