//! The AWS adapter of the [`Notifier`] port: SES (v2 `SendEmail`, simple
//! content, UTF-8 text). The sender is `NOTIFICATIONS_FROM_ADDRESS`, a
//! verified identity of the account.

use crate::notifier::{Message, Notifier, NotifyError};
use async_trait::async_trait;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{self, Body, Content, Destination, EmailContent};
use lite_core::config::{required, ConfigError};

pub struct SesNotifier {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesNotifier {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    /// The client from the Lambda's environment; no network I/O (the
    /// credentials resolve on the first send).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let from = required("NOTIFICATIONS_FROM_ADDRESS")?;
        let aws = lite_aws::sdk_config(lite_aws::Profile::Consumer).await;
        Ok(Self::new(aws_sdk_sesv2::Client::new(&aws), from))
    }
}

fn utf8(text: &str) -> Result<Content, NotifyError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| NotifyError::Permanent(format!("building the message: {e}")))
}

#[async_trait]
impl Notifier for SesNotifier {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        let simple = types::Message::builder()
            .subject(utf8(&message.subject)?)
            .body(Body::builder().text(utf8(&message.body)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(EmailContent::builder().simple(simple).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let mapped = match &e {
                    SdkError::ServiceError(s) => {
                        classify(s.err().code(), Some(s.raw().status().as_u16()))
                    }
                    // The request could not even be built: it never will be.
                    SdkError::ConstructionFailure(_) => Kind::Permanent,
                    // Timeouts, dispatch failures, unreadable responses.
                    _ => Kind::Transient,
                };
                let text = format!("SES SendEmail: {}", DisplayErrorContext(&e));
                tracing::warn!(code = e.code().unwrap_or("-"), error = %text, ?mapped, "SES refused the message");
                match mapped {
                    Kind::Transient => NotifyError::Transient(text),
                    Kind::Permanent => NotifyError::Permanent(text),
                }
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transient,
    Permanent,
}

/// Whether an SES error is worth retrying, by its code and HTTP status.
fn classify(code: Option<&str>, status: Option<u16>) -> Kind {
    match code {
        // Throttled, over a sending quota, or sending paused by an
        // operator: a later attempt (the queue backs off) may go through.
        Some(
            "TooManyRequestsException"
            | "ThrottlingException"
            | "Throttling"
            | "LimitExceededException"
            | "SendingPausedException",
        ) => Kind::Transient,
        // The message, its sender or the account will not change by
        // waiting: to the DLQ.
        Some(
            "MessageRejected"
            | "MailFromDomainNotVerifiedException"
            | "AccountSuspendedException"
            | "BadRequestException"
            | "NotFoundException",
        ) => Kind::Permanent,
        _ => match status {
            Some(s) if (400..500).contains(&s) => Kind::Permanent,
            _ => Kind::Transient,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_transient_rejections_permanent() {
        for (code, status) in [
            (Some("TooManyRequestsException"), Some(429)),
            (Some("LimitExceededException"), Some(400)),
            (Some("InternalFailure"), Some(500)),
            (None, Some(503)),
            (None, None),
        ] {
            assert_eq!(classify(code, status), Kind::Transient, "{code:?}");
        }
        for (code, status) in [
            (Some("MessageRejected"), Some(400)),
            (Some("MailFromDomainNotVerifiedException"), Some(400)),
            (Some("AccountSuspendedException"), Some(400)),
            (Some("SomethingNew"), Some(400)),
        ] {
            assert_eq!(classify(code, status), Kind::Permanent, "{code:?}");
        }
    }
}
