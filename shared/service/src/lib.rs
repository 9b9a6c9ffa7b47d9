//! The one shape every service has: a value that owns the service's ports
//! (its `lite_ports::Context` and whatever else it talks to: a payment
//! provider, a saga engine, a search index, a notifier) and builds both
//! entry points from them, the HTTP routes and the event consumers.
//!
//! The same value serves both runtimes: the one-process local API merges
//! every service's router and runs every consumer on the local bus; on AWS
//! one binary per service (`lite_lambda::run`) serves the routes, or, with
//! `AMAZON_LITE_CONSUMER` set, one of its consumers on SQS. Its own crate
//! (not `lite-ports`) so that code reading another service's data through
//! the ports does not compile axum or the event handlers.

use lite_events::Handler;
use std::sync::Arc;

/// A service: its routes and its consumers, built from the ports it owns.
pub trait Service: Send + Sync + 'static {
    /// The service's name: its crate under `functions/` and its Lambda
    /// binary (`catalog`).
    fn name(&self) -> &'static str;

    /// Every route of the service, unfinished: the caller applies the
    /// shared layers (`lite_http::finish`), once for all merged routers
    /// locally, per function on AWS.
    fn router(&self) -> axum::Router;

    /// The service's event consumers, each its own queue. None by default.
    fn consumers(&self) -> Vec<Arc<dyn Handler>> {
        Vec::new()
    }
}

/// `service`'s consumer called `name`; the error names the ones it has.
pub fn consumer(service: &dyn Service, name: &str) -> Result<Arc<dyn Handler>, UnknownConsumer> {
    let consumers = service.consumers();
    if let Some(found) = consumers.iter().find(|c| c.name() == name) {
        return Ok(Arc::clone(found));
    }
    Err(UnknownConsumer {
        service: service.name(),
        name: name.to_owned(),
        known: consumers.iter().map(|c| c.name()).collect(),
    })
}

/// A consumer name the service does not have (a misconfigured function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownConsumer {
    pub service: &'static str,
    pub name: String,
    pub known: Vec<&'static str>,
}

impl std::fmt::Display for UnknownConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.known.is_empty() {
            write!(
                f,
                "the {} service has no consumer {:?}: it has no consumers",
                self.service, self.name
            )
        } else {
            write!(
                f,
                "the {} service has no consumer {:?}; it has {}",
                self.service,
                self.name,
                self.known.join(", ")
            )
        }
    }
}

impl std::error::Error for UnknownConsumer {}

#[cfg(test)]
mod tests {
    use super::*;
    use lite_events::{Envelope, HandlerError};

    struct Named(&'static str);

    #[async_trait::async_trait]
    impl Handler for Named {
        fn name(&self) -> &'static str {
            self.0
        }
        fn detail_types(&self) -> &'static [&'static str] {
            &["thing.happened.v1"]
        }
        async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
            Ok(())
        }
    }

    struct Two;

    impl Service for Two {
        fn name(&self) -> &'static str {
            "two"
        }
        fn router(&self) -> axum::Router {
            axum::Router::new()
        }
        fn consumers(&self) -> Vec<Arc<dyn Handler>> {
            vec![Arc::new(Named("two-a")), Arc::new(Named("two-b"))]
        }
    }

    struct None_;

    impl Service for None_ {
        fn name(&self) -> &'static str {
            "none"
        }
        fn router(&self) -> axum::Router {
            axum::Router::new()
        }
    }

    #[test]
    fn a_consumer_is_found_by_name() {
        assert_eq!(consumer(&Two, "two-b").unwrap().name(), "two-b");
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_the_known_ones() {
        let e = consumer(&Two, "two-c").err().unwrap();
        assert_eq!(
            e.to_string(),
            "the two service has no consumer \"two-c\"; it has two-a, two-b"
        );
        let e = consumer(&None_, "x").err().unwrap();
        assert_eq!(e.known, Vec::<&str>::new());
        assert!(e.to_string().contains("it has no consumers"), "{e}");
    }
}
