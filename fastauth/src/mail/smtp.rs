//! The SMTP transport, through lettre: plain, STARTTLS or implicit TLS, with optional
//! credentials.

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use super::{MailError, MailTransport, Message};

/// How long one delivery may take, connection included.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends messages to an SMTP server as `multipart/alternative`: the plain-text part, then
/// the HTML part.
#[derive(Clone)]
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials stay out of logs.
        f.debug_struct("SmtpTransport")
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

/// The connection security that an SMTP URL requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://host:port`: no TLS, for a mail catcher on loopback.
    Plain,
    /// `smtp://host:port?starttls=required`: STARTTLS, refused if the server lacks it.
    StartTls,
    /// `smtps://host:port`: TLS from the first byte.
    ImplicitTls,
}

impl SmtpTransport {
    /// Builds the transport from a URL and a `From` mailbox such as
    /// `FastAuth <noreply@example.com>`.
    ///
    /// The URL is `smtp://[user:password@]host:port` (no TLS; add `?starttls=required` for
    /// STARTTLS) or `smtps://[user:password@]host:port` (implicit TLS). The user and password
    /// are percent-decoded. The port defaults to 25 for `smtp` and 465 for `smtps`.
    pub fn from_url(url: &str, from: &str) -> Result<Self, MailError> {
        let parsed = url::Url::parse(url)
            .map_err(|error| MailError::new(format!("invalid SMTP URL: {error}")))?;
        let security = security_of(&parsed)?;
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| MailError::new("invalid SMTP URL: the host is missing"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let default_port = if security == Security::ImplicitTls {
            465
        } else {
            25
        };
        let port = parsed.port().unwrap_or(default_port);

        let builder = match security {
            Security::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                .map_err(MailError::new)?,
            Security::ImplicitTls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(MailError::new)?
            }
        };
        let mut builder = builder.port(port).timeout(Some(SMTP_TIMEOUT));
        if !parsed.username().is_empty() {
            let user = percent_decode(parsed.username())?;
            let password = percent_decode(parsed.password().unwrap_or_default())?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|error| MailError::new(format!("invalid From address `{from}`: {error}")))?;
        Ok(Self {
            mailer: builder.build(),
            from,
        })
    }

    fn build(&self, message: &Message) -> Result<lettre::Message, MailError> {
        let to = message
            .to
            .parse::<Mailbox>()
            .map_err(|error| MailError::new(format!("invalid recipient address: {error}")))?;
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(MailError::new)
    }
}

fn security_of(url: &url::Url) -> Result<Security, MailError> {
    let starttls = url
        .query_pairs()
        .find(|(key, _)| key == "starttls")
        .map(|(_, value)| value.into_owned());
    match (url.scheme(), starttls.as_deref()) {
        ("smtp", None | Some("never" | "false")) => Ok(Security::Plain),
        ("smtp", Some("required" | "true")) => Ok(Security::StartTls),
        ("smtps", None) => Ok(Security::ImplicitTls),
        ("smtp" | "smtps", Some(other)) => Err(MailError::new(format!(
            "invalid SMTP URL: `starttls={other}` is not supported, use `starttls=required` \
             with `smtp://`"
        ))),
        (scheme, _) => Err(MailError::new(format!(
            "invalid SMTP URL: scheme `{scheme}` is neither `smtp` nor `smtps`"
        ))),
    }
}

fn percent_decode(text: &str) -> Result<String, MailError> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes).map_err(|_| MailError::new("SMTP credentials are not UTF-8"))
}

impl MailTransport for SmtpTransport {
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let email = self.build(message)?;
            self.mailer.send(email).await.map_err(MailError::new)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms_are_parsed() {
        let from = "FastAuth <noreply@localhost>";
        for url in [
            "smtp://127.0.0.1:1025",
            "smtp://user:p%40ss@127.0.0.1:1025",
            "smtp://127.0.0.1:587?starttls=required",
            "smtps://127.0.0.1",
        ] {
            assert!(SmtpTransport::from_url(url, from).is_ok(), "{url}");
        }
        for url in [
            "http://127.0.0.1",
            "smtp://",
            "smtp://h?starttls=maybe",
            "nonsense",
        ] {
            assert!(SmtpTransport::from_url(url, from).is_err(), "{url}");
        }
        assert!(SmtpTransport::from_url("smtp://127.0.0.1", "not an address").is_err());
    }

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(
            percent_decode("p%40ss%20word").ok().as_deref(),
            Some("p@ss word")
        );
    }
}
