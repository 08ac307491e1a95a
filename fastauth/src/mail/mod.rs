//! Sending e-mail: the [`MailTransport`] trait, its transports (console and in-memory always;
//! SMTP with the `smtp` feature, webhook with the `webhook` feature), and the templates of
//! the messages the flows send.
//!
//! The flows queue every message and send it after the HTTP response, so a slow or failing
//! transport never changes a response. A failure is logged with the user id.

mod console;
mod outbox;
#[cfg(feature = "smtp")]
mod smtp;
mod templates;
#[cfg(feature = "webhook")]
mod webhook;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use console::ConsoleTransport;
pub use outbox::Outbox;
#[cfg(feature = "smtp")]
pub use smtp::SmtpTransport;
pub use templates::{MailKind, Templates};
#[cfg(feature = "webhook")]
pub use webhook::WebhookTransport;

/// An e-mail ready to send: one recipient, a subject, an HTML and a plain-text part.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part.
    pub text: String,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address is personal data and the body may hold a live token.
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sending a message failed.
#[derive(Debug, thiserror::Error)]
#[error("sending e-mail failed: {0}")]
pub struct MailError(pub Box<dyn std::error::Error + Send + Sync>);

impl MailError {
    /// Wraps any error, or a message, as a delivery failure.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Delivers messages. Implement it to send through a service of your own.
///
/// The method returns a boxed future so that the transport can be chosen at run time (for
/// example from an environment variable) and stored as `Arc<dyn MailTransport>`.
pub trait MailTransport: Send + Sync + 'static {
    /// Delivers one message.
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>>;
}

/// A shared transport, as [`crate::AuthConfig::mail`] stores it.
#[derive(Clone)]
pub(crate) struct SharedTransport(pub(crate) Arc<dyn MailTransport>);

impl fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailTransport")
    }
}
