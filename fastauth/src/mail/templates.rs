//! The message templates: Jinja syntax rendered by minijinja, built in and overridable from
//! a directory of the application's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, Value};

use super::Message;

/// The messages the flows send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The link that verifies the account's address.
    Verification,
    /// The link that sets a new password.
    PasswordReset,
    /// The link, sent to the new address, that confirms an address change.
    EmailChange,
    /// The notice, sent to the previous address, that the address changed.
    EmailChanged,
    /// The sign-in link.
    MagicLink,
    /// The greeting after registration.
    Welcome,
}

impl MailKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::Verification,
        Self::PasswordReset,
        Self::EmailChange,
        Self::EmailChanged,
        Self::MagicLink,
        Self::Welcome,
    ];

    /// Returns the file name of the HTML template, the same as FastAuth's.
    pub const fn html_template(self) -> &'static str {
        match self {
            Self::Verification => "verification.jinja2",
            Self::PasswordReset => "password_reset.jinja2",
            Self::EmailChange => "email_change.jinja2",
            Self::EmailChanged => "email_changed.jinja2",
            Self::MagicLink => "magic_link_login.jinja2",
            Self::Welcome => "welcome.jinja2",
        }
    }

    /// Returns the file name of the plain-text template.
    pub const fn text_template(self) -> &'static str {
        match self {
            Self::Verification => "verification.txt.jinja2",
            Self::PasswordReset => "password_reset.txt.jinja2",
            Self::EmailChange => "email_change.txt.jinja2",
            Self::EmailChanged => "email_changed.txt.jinja2",
            Self::MagicLink => "magic_link_login.txt.jinja2",
            Self::Welcome => "welcome.txt.jinja2",
        }
    }

    /// Returns the subject line.
    pub const fn subject(self) -> &'static str {
        match self {
            Self::Verification => "Verify your email address",
            Self::PasswordReset => "Reset your password",
            Self::EmailChange => "Confirm your new email address",
            Self::EmailChanged => "Your email address was changed",
            Self::MagicLink => "Log In to your account",
            Self::Welcome => "Welcome!",
        }
    }
}

/// The built-in templates, by file name.
const BUILT_IN: &[(&str, &str)] = &[
    ("base.jinja2", include_str!("templates/base.jinja2")),
    (
        "verification.jinja2",
        include_str!("templates/verification.jinja2"),
    ),
    (
        "verification.txt.jinja2",
        include_str!("templates/verification.txt.jinja2"),
    ),
    (
        "password_reset.jinja2",
        include_str!("templates/password_reset.jinja2"),
    ),
    (
        "password_reset.txt.jinja2",
        include_str!("templates/password_reset.txt.jinja2"),
    ),
    (
        "email_change.jinja2",
        include_str!("templates/email_change.jinja2"),
    ),
    (
        "email_change.txt.jinja2",
        include_str!("templates/email_change.txt.jinja2"),
    ),
    (
        "email_changed.jinja2",
        include_str!("templates/email_changed.jinja2"),
    ),
    (
        "email_changed.txt.jinja2",
        include_str!("templates/email_changed.txt.jinja2"),
    ),
    (
        "magic_link_login.jinja2",
        include_str!("templates/magic_link_login.jinja2"),
    ),
    (
        "magic_link_login.txt.jinja2",
        include_str!("templates/magic_link_login.txt.jinja2"),
    ),
    ("welcome.jinja2", include_str!("templates/welcome.jinja2")),
    (
        "welcome.txt.jinja2",
        include_str!("templates/welcome.txt.jinja2"),
    ),
];

/// The maximum size of a template file read from an override directory, in bytes.
const MAX_TEMPLATE_BYTES: u64 = 256 * 1024;

/// Renders messages from the built-in templates, each of which a file of the same name in
/// an override directory replaces. Clones share one environment.
#[derive(Clone)]
pub struct Templates {
    environment: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// Builds the renderer. With `directory`, a file there named like a built-in template
    /// (for example `verification.jinja2`) replaces it; the others stay built in. Files are
    /// read once, on first use.
    pub fn new(directory: Option<&Path>) -> Self {
        let mut environment = Environment::new();
        // HTML templates escape their variables; the plain-text ones must not.
        environment.set_auto_escape_callback(|name| {
            if name.ends_with(".txt.jinja2") {
                AutoEscape::None
            } else {
                AutoEscape::Html
            }
        });
        let directory: Option<PathBuf> = directory.map(Path::to_path_buf);
        environment.set_loader(move |name| load(directory.as_deref(), name));
        Self {
            environment: Arc::new(environment),
        }
    }

    /// Renders both parts of a message of `kind` to `to`. `context` contains the template
    /// variables (`name`, `url`, `expires_in_minutes`, ...).
    pub fn render(
        &self,
        kind: MailKind,
        to: &str,
        context: Value,
    ) -> Result<Message, minijinja::Error> {
        let html = self
            .environment
            .get_template(kind.html_template())?
            .render(&context)?;
        let text = self
            .environment
            .get_template(kind.text_template())?
            .render(&context)?;
        Ok(Message {
            to: to.to_owned(),
            subject: kind.subject().to_owned(),
            html,
            text,
        })
    }
}

/// Loads a template: from the override directory when it has the file, else built in.
fn load(directory: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    // Only plain file names: an `include` of `../secret` must not leave the directory.
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !plain {
        return Ok(None);
    }
    if let Some(directory) = directory {
        let path = directory.join(name);
        match std::fs::metadata(&path) {
            Ok(metadata) if metadata.is_file() => {
                if metadata.len() > MAX_TEMPLATE_BYTES {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("template {name} is over {MAX_TEMPLATE_BYTES} bytes"),
                    ));
                }
                let source = std::fs::read_to_string(&path).map_err(|error| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("reading template {} failed", path.display()),
                    )
                    .with_source(error)
                })?;
                return Ok(Some(source));
            }
            _ => {}
        }
    }
    Ok(BUILT_IN
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, source)| (*source).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Value {
        minijinja::context! {
            name => "Ada <admin>",
            url => "http://127.0.0.1:8000/auth/verify-email?token=abc&x=1",
            expires_in_minutes => 1440,
            new_email => "new@example.com",
            old_email => "old@example.com",
        }
    }

    #[test]
    fn every_kind_renders_both_parts() {
        let templates = Templates::new(None);
        for kind in MailKind::ALL {
            let message = templates
                .render(kind, "ada@example.com", context())
                .expect("built-in templates render");
            assert_eq!(message.subject, kind.subject());
            assert!(message.html.contains("<html"), "{kind:?}: {}", message.html);
            assert!(!message.text.is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn html_escapes_and_text_does_not() {
        let templates = Templates::new(None);
        let message = templates
            .render(MailKind::Verification, "ada@example.com", context())
            .expect("renders");
        assert!(
            message.html.contains("Ada &lt;admin&gt;"),
            "{}",
            message.html
        );
        assert!(message.text.contains("Ada <admin>"), "{}", message.text);
        let url = "http://127.0.0.1:8000/auth/verify-email?token=abc&x=1";
        assert!(
            message.text.lines().any(|line| line == url),
            "{}",
            message.text
        );
    }

    #[test]
    fn directory_overrides_one_template() {
        let directory =
            std::env::temp_dir().join(format!("fastauth-templates-{}", cuid2::create_id()));
        std::fs::create_dir_all(&directory).expect("temp directory");
        std::fs::write(directory.join("welcome.txt.jinja2"), "Hi {{ name }}!")
            .expect("write template");
        let templates = Templates::new(Some(&directory));
        let welcome = templates
            .render(MailKind::Welcome, "ada@example.com", context())
            .expect("renders");
        assert_eq!(welcome.text, "Hi Ada <admin>!");
        assert!(welcome.html.contains("<html"));
        std::fs::remove_dir_all(&directory).expect("cleanup");
    }

    #[test]
    fn names_outside_directory_are_not_loaded() {
        assert_eq!(
            load(Some(Path::new("/etc")), "../passwd").ok().flatten(),
            None
        );
        assert_eq!(load(None, ".hidden").ok().flatten(), None);
    }
}
