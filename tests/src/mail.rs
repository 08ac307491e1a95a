//! Reading the e-mails that the flows send: an [`Outbox`] transport and the links in them.

use std::time::Duration;

use fastauth::AuthConfig;
use fastauth::mail::{Message, Outbox};

/// Returns [`crate::config`] with `outbox` as the mail transport.
pub fn mail_config(outbox: &Outbox) -> AuthConfig {
    crate::config().mail(outbox.clone())
}

/// Waits until `outbox` holds `count` messages to `to` and returns them; panics after five
/// seconds. The flows send after the response, so a message can arrive a little later.
pub async fn wait_for_messages(outbox: &Outbox, to: &str, count: usize) -> Vec<Message> {
    for _ in 0..500 {
        let messages = outbox.messages_to(to);
        if messages.len() >= count {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{} message(s) to {to} after 5 s, expected {count}",
        outbox.messages_to(to).len()
    );
}

/// Waits for the `count`-th message to `to` and returns it.
pub async fn nth_message(outbox: &Outbox, to: &str, count: usize) -> Message {
    let mut messages = wait_for_messages(outbox, to, count).await;
    messages.swap_remove(count - 1)
}

/// Returns the link of a message: the first line of the plain-text part that starts with
/// `http`.
pub fn link_of(message: &Message) -> String {
    message
        .text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("http"))
        .unwrap_or_else(|| panic!("no link in {}", message.text))
        .to_owned()
}

/// Returns the `token` query parameter of a message's link.
pub fn token_of(message: &Message) -> String {
    let link = link_of(message);
    let (_, query) = link.split_once('?').expect("the link has a query");
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .expect("the link has a token")
        .to_owned()
}

/// Returns the path and query of a link, for a request to the in-process application.
pub fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    let start = after_scheme.find('/').unwrap_or(after_scheme.len());
    after_scheme[start..].to_owned()
}
