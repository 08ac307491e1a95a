//! The in-memory transport: messages kept in a list, for tests and tools.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use super::{MailError, MailTransport, Message};

/// Keeps every message in memory, in the order sent. Clones share one list, so a test keeps
/// a clone and reads what the flows sent.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    messages: Arc<Mutex<Vec<Message>>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns a copy of every message sent so far.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().clone()
    }

    /// Returns the messages sent so far to `to`.
    pub fn messages_to(&self, to: &str) -> Vec<Message> {
        self.lock().iter().filter(|m| m.to == to).cloned().collect()
    }

    /// Makes every later send fail (`true`) or succeed again (`false`), to test how the
    /// flows handle a broken transport. Failed messages are not kept.
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl MailTransport for Outbox {
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(MailError::new("the outbox is set to fail"));
            }
            self.lock().push(message.clone());
            Ok(())
        })
    }
}
