//! Counting decorators over the other ports: the search index (OpenSearch
//! on AWS), the notifier (SES), the saga's task invoker (the
//! `checkout-task` Lambda) and every event consumer (one Lambda per
//! consumer, fed by its SQS queue).

use super::meter::Meter;
use super::scope;
use async_trait::async_trait;
use lite_events::{Envelope, Handler, HandlerError};
use lite_saga::{TaskError, TaskInvoker};
use notifications::{Message, Notifier, NotifyError};
use search::index::{Change, Outcome, SearchDoc, SearchError, SearchQuery, SearchResults};
use search::SearchIndex;
use serde_json::Value;
use std::sync::Arc;

/// The Lambda function that runs the saga's tasks.
pub const TASK_FUNCTION: &str = "checkout-task";

/// Counts every call to the index: on AWS each is one OpenSearch request.
pub struct MeteredSearch {
    pub inner: Arc<dyn SearchIndex>,
    pub meter: Meter,
}

impl MeteredSearch {
    fn tally(&self, kind: &'static str) {
        *self.meter.tally().search.entry(kind).or_default() += 1;
        scope::aws_call();
    }
}

#[async_trait]
impl SearchIndex for MeteredSearch {
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        // One bulk request, whatever the number of documents.
        self.tally("index");
        self.inner.upsert(docs).await
    }
    async fn apply(&self, change: Change) -> Result<Outcome, SearchError> {
        // As the OpenSearch adapter sends it: a delete is one request; a
        // put reads the document, then writes it if it changed.
        let delete = matches!(change, Change::Delete(_));
        let outcome = self.inner.apply(change).await?;
        if delete {
            self.tally("delete");
        } else {
            self.tally("get");
            if outcome == Outcome::Written {
                self.tally("index");
            }
        }
        Ok(outcome)
    }
    async fn get(&self, id: &str) -> Result<Option<SearchDoc>, SearchError> {
        self.tally("get");
        self.inner.get(id).await
    }
    async fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        self.tally("search");
        self.inner.search(query).await
    }
    async fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<String>, SearchError> {
        self.tally("suggest");
        self.inner.suggest(prefix, limit).await
    }
    async fn count(&self) -> Result<u64, SearchError> {
        self.tally("count");
        self.inner.count().await
    }
}

/// Counts every e-mail: one SES SendEmail each. Sends nothing.
pub struct MeteredNotifier {
    pub inner: Arc<dyn Notifier>,
    pub meter: Meter,
}

#[async_trait]
impl Notifier for MeteredNotifier {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let sent = self.inner.send(message).await;
        if sent.is_ok() {
            self.meter.tally().emails += 1;
            scope::aws_call();
        }
        sent
    }
}

/// Each task the saga runs is one invocation of the `checkout-task` Lambda.
pub struct MeteredTasks {
    pub inner: Arc<dyn TaskInvoker>,
    pub meter: Meter,
}

#[async_trait]
impl TaskInvoker for MeteredTasks {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError> {
        scope::invocation(
            &self.meter,
            TASK_FUNCTION,
            self.inner.invoke(function, payload),
        )
        .await
    }
}

/// Each event a consumer handles is one invocation of its Lambda (batches
/// of one: the upper bound at low traffic; SQS batches of up to 10 share an
/// invocation under load).
pub struct MeteredConsumer {
    pub inner: Arc<dyn Handler>,
    pub meter: Meter,
}

#[async_trait]
impl Handler for MeteredConsumer {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn detail_types(&self) -> &'static [&'static str] {
        self.inner.detail_types()
    }
    fn concurrency(&self) -> Option<usize> {
        self.inner.concurrency()
    }
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        scope::invocation(&self.meter, self.inner.name(), self.inner.handle(event)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Answer;

    #[async_trait]
    impl TaskInvoker for Answer {
        async fn invoke(&self, _: &str, payload: Value) -> Result<Value, TaskError> {
            scope::aws_call();
            Ok(payload)
        }
    }

    #[tokio::test]
    async fn each_task_is_one_checkout_task_invocation_with_its_calls() {
        let meter = Meter::new();
        let tasks = MeteredTasks {
            inner: Arc::new(Answer),
            meter: meter.clone(),
        };
        for _ in 0..3 {
            tasks
                .invoke("reserveStock", serde_json::json!({"task": "reserveStock"}))
                .await
                .unwrap();
        }
        let t = meter.snapshot();
        assert_eq!(t.lambda[TASK_FUNCTION].invocations, 3);
        assert_eq!(t.lambda[TASK_FUNCTION].aws_calls, 3);
        assert!(t.lambda[TASK_FUNCTION].billed_ms >= 3);
    }

    #[tokio::test]
    async fn searches_and_emails_are_counted_by_kind() {
        let meter = Meter::new();
        let index = MeteredSearch {
            inner: Arc::new(search::TantivyIndex::in_memory().unwrap()),
            meter: meter.clone(),
        };
        index.suggest("la", 5).await.unwrap();
        index.suggest("lap", 5).await.unwrap();
        index.count().await.unwrap();
        let notifier = MeteredNotifier {
            inner: Arc::new(notifications::LogNotifier),
            meter: meter.clone(),
        };
        let message = Message {
            notification_id: "ntf_1".into(),
            to: "a@example.com".into(),
            recipient_name: "A".into(),
            subject: "s".into(),
            body: "t".into(),
        };
        notifier.send(&message).await.unwrap();
        let t = meter.snapshot();
        assert_eq!(t.search["suggest"], 2);
        assert_eq!(t.search["count"], 1);
        assert_eq!(t.emails, 1);
    }
}
