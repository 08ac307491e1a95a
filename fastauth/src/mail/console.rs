//! The console transport: each message printed to standard output, for development.

use std::io::Write as _;

use futures_util::future::BoxFuture;

use super::{MailError, MailTransport, Message};

/// Prints every message to standard output in the block format below, and flushes.
///
/// ```text
/// ============================================================
/// To: a@example.com
/// Subject: Verify your email address
/// ============================================================
/// <the plain-text part>
/// ============================================================
/// ```
///
/// The printed links carry live tokens: use it only where standard output is private.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleTransport;

/// One rule line of the block: 60 `=`.
const RULE: &str = "============================================================";

impl ConsoleTransport {
    /// Formats a message as the block this transport prints, with a blank line before and
    /// after it.
    pub fn format(message: &Message) -> String {
        let body = if message.text.is_empty() {
            &message.html
        } else {
            &message.text
        };
        format!(
            "\n{RULE}\nTo: {}\nSubject: {}\n{RULE}\n{}\n{RULE}\n\n",
            message.to,
            message.subject,
            body.trim_end()
        )
    }
}

impl MailTransport for ConsoleTransport {
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let block = Self::format(message);
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(block.as_bytes()).map_err(MailError::new)?;
            stdout.flush().map_err(MailError::new)
        })
    }
}
