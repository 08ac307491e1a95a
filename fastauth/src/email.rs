//! Placeholder until the e-mail normaliser lands.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EmailError {
    #[error("An email address must have an @-sign.")]
    NoAt,
}

impl EmailError {
    pub(crate) fn pydantic_message(&self) -> String {
        format!("value is not a valid email address: {self}")
    }
}

pub(crate) fn normalize_email(input: &str) -> Result<String, EmailError> {
    let trimmed = input.trim();
    if trimmed.contains('@') {
        Ok(trimmed.to_lowercase())
    } else {
        Err(EmailError::NoAt)
    }
}
