//! Operating a dead-letter queue: look at what is in it, and move it back
//! to the queue it came from once the cause is fixed (`events-ops dlq ...`).
//!
//! [`redrive`] moves messages with ReceiveMessage + SendMessageBatch +
//! DeleteMessageBatch. On AWS, SQS's own StartMessageMoveTask (the
//! console's "Start DLQ redrive") is the better tool: it runs server-side
//! at a controlled rate, keeps each message's attributes and reports
//! progress. This module exists because the emulator the tests use has no
//! StartMessageMoveTask, and it works against both. It is at least once:
//! a message is deleted from the DLQ only after it was sent, so a crash in
//! between leaves a copy in each (consumers are idempotent). FIFO queues
//! are not supported (no message group is set).

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use std::collections::HashSet;

/// ReceiveMessage's and the batch calls' limit.
const BATCH: usize = 10;
/// How long a listed message stays hidden while the list is built; listed
/// messages are made visible again right after.
const LIST_VISIBILITY_SECS: i32 = 30;
/// How long a message being moved stays hidden (a failed send leaves it in
/// the DLQ, visible again after this).
const MOVE_VISIBILITY_SECS: i32 = 60;
/// Long polling asks every SQS server, so an empty answer means empty.
const WAIT_SECS: i32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} on {queue}: {message}")]
pub struct DlqError {
    pub operation: &'static str,
    pub queue: String,
    pub message: String,
}

fn sqs_error<E>(operation: &'static str, queue: &str, e: E) -> DlqError
where
    E: std::error::Error + 'static,
{
    DlqError {
        operation,
        queue: queue.to_owned(),
        message: format!("{}", aws_sdk_sqs::error::DisplayErrorContext(&e)),
    }
}

/// One message as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqMessage {
    pub message_id: String,
    /// Receives so far (including those that sent it to the DLQ).
    pub receive_count: Option<u32>,
    /// When it was first sent (epoch ms), to its source queue.
    pub sent_timestamp: Option<i64>,
    /// The queue it was moved from by the redrive policy, when SQS says.
    pub source_queue_arn: Option<String>,
    /// The body: EventBridge's event JSON (as JSON when it parses).
    pub body: serde_json::Value,
}

impl DlqMessage {
    fn from_sqs(message: &Message) -> Self {
        let system = message.attributes();
        let attribute = |name: MessageSystemAttributeName| system.and_then(|a| a.get(&name));
        let body = message.body().unwrap_or_default();
        Self {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            receive_count: attribute(MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|v| v.parse().ok()),
            sent_timestamp: attribute(MessageSystemAttributeName::SentTimestamp)
                .and_then(|v| v.parse().ok()),
            source_queue_arn: attribute(MessageSystemAttributeName::DeadLetterQueueSourceArn)
                .cloned(),
            body: serde_json::from_str(body)
                .unwrap_or_else(|_| serde_json::Value::String(body.to_owned())),
        }
    }
}

async fn receive(
    client: &Client,
    queue_url: &str,
    max: usize,
    visibility_secs: i32,
) -> Result<Vec<Message>, DlqError> {
    let out = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(i32::try_from(max.clamp(1, BATCH)).unwrap_or(1))
        .visibility_timeout(visibility_secs)
        .wait_time_seconds(WAIT_SECS)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|e| sqs_error("ReceiveMessage", queue_url, e))?;
    Ok(out.messages.unwrap_or_default())
}

/// Up to `max` messages of the queue at `queue_url`, without deleting them:
/// they are received (hidden for a moment, so each is listed once) and
/// then made visible again.
pub async fn list(
    client: &Client,
    queue_url: &str,
    max: usize,
) -> Result<Vec<DlqMessage>, DlqError> {
    let mut listed = Vec::new();
    let mut seen = HashSet::new();
    let mut handles = Vec::new();
    let mut outcome = Ok(());
    while listed.len() < max {
        let messages =
            match receive(client, queue_url, max - listed.len(), LIST_VISIBILITY_SECS).await {
                Ok(m) => m,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
        if messages.is_empty() {
            break;
        }
        for message in &messages {
            if let Some(handle) = message.receipt_handle() {
                handles.push(handle.to_owned());
            }
            if seen.insert(message.message_id().unwrap_or_default().to_owned()) {
                listed.push(DlqMessage::from_sqs(message));
            }
        }
    }
    // Visible again, whatever happened above.
    let restored = make_visible(client, queue_url, &handles).await;
    outcome?;
    restored?;
    Ok(listed)
}

async fn make_visible(
    client: &Client,
    queue_url: &str,
    handles: &[String],
) -> Result<(), DlqError> {
    use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry as Entry;
    for chunk in handles.chunks(BATCH) {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, handle)| {
                Entry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
                    .map_err(|e| sqs_error("ChangeMessageVisibilityBatch", queue_url, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        client
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sqs_error("ChangeMessageVisibilityBatch", queue_url, e))?;
    }
    Ok(())
}

/// What [`redrive`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedriveReport {
    /// Sent to the queue and deleted from the DLQ.
    pub moved: usize,
    /// Sent but not deleted from the DLQ (it will be listed again; a second
    /// redrive sends a duplicate, which consumers deduplicate).
    pub not_deleted: usize,
    /// Not sent (left in the DLQ).
    pub not_sent: usize,
}

/// Moves up to `max` messages from the DLQ at `dlq_url` to the queue at
/// `queue_url` (body and message attributes), deleting each from the DLQ
/// once it is sent. Stops when the DLQ is empty or a round moves nothing.
pub async fn redrive(
    client: &Client,
    dlq_url: &str,
    queue_url: &str,
    max: usize,
) -> Result<RedriveReport, DlqError> {
    let mut report = RedriveReport::default();
    while report.moved + report.not_deleted < max {
        let remaining = max - report.moved - report.not_deleted;
        let messages = receive(client, dlq_url, remaining, MOVE_VISIBILITY_SECS).await?;
        if messages.is_empty() {
            break;
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body().unwrap_or_default())
                    .set_message_attributes(m.message_attributes.clone())
                    .build()
                    .map_err(|e| sqs_error("SendMessageBatch", queue_url, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent = client
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sqs_error("SendMessageBatch", queue_url, e))?;
        for failed in sent.failed() {
            tracing::warn!(
                id = failed.id(),
                code = failed.code(),
                "redrive: message not sent"
            );
        }
        report.not_sent += sent.failed().len();
        let deletes = sent
            .successful()
            .iter()
            .filter_map(|ok| {
                let message = messages.get(ok.id().parse::<usize>().ok()?)?;
                DeleteMessageBatchRequestEntry::builder()
                    .id(ok.id())
                    .receipt_handle(message.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        if deletes.is_empty() {
            break;
        }
        let sent_count = deletes.len();
        let deleted = client
            .delete_message_batch()
            .queue_url(dlq_url)
            .set_entries(Some(deletes))
            .send()
            .await
            .map_err(|e| sqs_error("DeleteMessageBatch", dlq_url, e))?;
        report.not_deleted += deleted.failed().len();
        report.moved += sent_count - deleted.failed().len();
    }
    Ok(report)
}
