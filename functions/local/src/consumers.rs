//! `infra/consumers.json`: every event consumer of the system, generated
//! from the services (`amazon-lite consumers`). CDK builds one queue, DLQ,
//! rule and function per entry; the function runs the service's binary
//! with `AMAZON_LITE_CONSUMER` set to the consumer's name.

use lite_service::Service;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One consumer, as CDK deploys it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerEntry {
    /// The handler's name: its queue, function and idempotency records.
    pub name: String,
    /// The crate under `functions/<service>/`.
    pub service: String,
    /// The Lambda binary that runs it: the service's one binary.
    pub binary: String,
    /// The EventBridge detail-types its rule matches.
    pub detail_types: Vec<String>,
}

/// The file's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumersFile {
    pub consumers: Vec<ConsumerEntry>,
}

/// Every consumer of `services`, service by service.
pub fn table(services: &[Arc<dyn Service>]) -> ConsumersFile {
    let consumers = services
        .iter()
        .flat_map(|service| {
            service.consumers().into_iter().map(|c| ConsumerEntry {
                name: c.name().to_owned(),
                service: service.name().to_owned(),
                binary: service.name().to_owned(),
                detail_types: c.detail_types().iter().map(|t| (*t).to_owned()).collect(),
            })
        })
        .collect();
    ConsumersFile { consumers }
}
