//! Reading the e-mails that the flows send: an [`Outbox`] transport, an aiosmtpd server on
//! loopback, and the links in the messages.

use std::process::Stdio;
use std::time::Duration;

use fastauth::AuthConfig;
use fastauth::mail::{Message, Outbox};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Returns [`crate::config`] with `outbox` as the mail transport.
pub fn mail_config(outbox: &Outbox) -> AuthConfig {
    crate::config().mail(outbox.clone())
}

/// Waits until `outbox` contains `count` messages to `to` and returns them, and panics after
/// five seconds. The flows send after the response, so a message can arrive a little later.
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

/// An aiosmtpd server on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl SmtpSink {
    /// Starts the sink and waits until it listens.
    pub async fn start() -> Self {
        let python = std::env::var("FASTAUTH_MAIL_PYTHON").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/mail/bin/python").to_owned()
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "starting the SMTP sink with {python} failed: {error}. Run \
                     `scripts/test.sh`, which installs aiosmtpd into .venv/mail, or set \
                     FASTAUTH_MAIL_PYTHON to a Python that has aiosmtpd"
                )
            });
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink started within 20 s")
            .expect("reading the SMTP sink failed")
            .expect("the SMTP sink printed its port");
        let port = first
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP sink: {first}"));
        Self { child, lines, port }
    }

    /// Returns the `smtp://` URL of the sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Returns the next delivered message, as the sink parsed it.
    pub async fn next_message(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("a message arrived within 10 s")
            .expect("reading the SMTP sink failed")
            .expect("the SMTP sink is still running");
        serde_json::from_str(&line).expect("the sink prints JSON")
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Converts a message that the sink parsed into the library's type, to reuse the link
/// helpers.
pub fn as_message(delivered: &Value) -> Message {
    let part = |key: &str| delivered[key].as_str().unwrap_or_default().to_owned();
    Message {
        to: part("to"),
        subject: part("subject"),
        html: part("html"),
        text: part("text"),
    }
}
