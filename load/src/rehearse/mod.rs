//! The deploy rehearsal's parts (see `rehearse.rs`).

pub mod flow;
pub mod harness;
pub mod http;
pub mod iam;
pub mod moto;
pub mod plan;
pub mod provision;
pub mod proxy;
pub mod resolve;
pub mod template;
