//! The `Notifier` port: how a rendered message leaves the system. SES on
//! AWS ([`crate::ses::SesNotifier`], feature `lambda`), a log line locally
//! ([`LogNotifier`]; the record the consumer keeps is the local mailbox).

use async_trait::async_trait;

/// One e-mail, rendered and addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `ntf_<ULID>`, derived from the event that caused it.
    pub notification_id: String,
    /// The recipient's address (the profile's sign-in e-mail).
    pub to: String,
    /// The recipient's name, as the greeting uses it.
    pub recipient_name: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Worth trying again later (throttled, the provider is down or slow).
    #[error("transient: {0}")]
    Transient(String),
    /// Will fail however often it is tried (the provider rejected the
    /// message, the sender is not verified, the recipient is invalid).
    #[error("permanent: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn send(&self, message: &Message) -> Result<(), NotifyError>;
}

/// The local adapter: the message goes to the log (JSON, at info). Nothing
/// leaves the machine; `GET /v1/me/notifications` shows what was "sent".
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send(&self, message: &Message) -> Result<(), NotifyError> {
        tracing::info!(
            notification_id = %message.notification_id,
            to = %message.to,
            subject = %message.subject,
            body = %message.body,
            "notification e-mail (local: logged, not sent)"
        );
        Ok(())
    }
}
