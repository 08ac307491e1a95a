//! The webhook transport: each message POSTed as JSON to a URL.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{MailError, MailTransport, Message};

/// How long one POST may take, connection included.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// POSTs `{"to", "subject", "body_html", "body_text"}` to a URL; any status outside 2xx is
/// a delivery failure. Redirects are not followed.
#[derive(Clone)]
pub struct WebhookTransport {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
}

impl fmt::Debug for WebhookTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configured headers often carry an API key.
        f.debug_struct("WebhookTransport")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl WebhookTransport {
    /// Builds the transport for an absolute `http` or `https` URL.
    pub fn new(url: &str) -> Result<Self, MailError> {
        let url = reqwest::Url::parse(url)
            .map_err(|error| MailError::new(format!("invalid webhook URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(MailError::new(format!(
                "invalid webhook URL: scheme `{}` is neither `http` nor `https`",
                url.scheme()
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(MailError::new)?;
        Ok(Self {
            client,
            url,
            headers: HeaderMap::new(),
        })
    }

    /// Adds a header to every POST, such as an `Authorization` for the receiver.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, MailError> {
        let name = HeaderName::try_from(name).map_err(MailError::new)?;
        let mut value = HeaderValue::try_from(value).map_err(MailError::new)?;
        value.set_sensitive(true);
        self.headers.insert(name, value);
        Ok(self)
    }
}

impl MailTransport for WebhookTransport {
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "to": message.to,
                "subject": message.subject,
                "body_html": message.html,
                "body_text": message.text,
            });
            let response = self
                .client
                .post(self.url.clone())
                .headers(self.headers.clone())
                .json(&body)
                .send()
                .await
                .map_err(MailError::new)?;
            let status = response.status();
            if !status.is_success() {
                return Err(MailError::new(format!(
                    "the webhook responded with HTTP {status}"
                )));
            }
            Ok(())
        })
    }
}
