//! Error responses: `{"detail": "..."}` bodies, and FastAPI-shaped 422 validation lists.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::core::AuthError;
use crate::store::StoreError;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    bearer_challenge: bool,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a `detail` text.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": detail.into() }),
            bearer_challenge: false,
            retry_after: None,
        }
    }

    /// `401 Not authenticated`, with `WWW-Authenticate: Bearer`.
    pub fn not_authenticated() -> Self {
        Self {
            bearer_challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, "Not authenticated")
        }
    }

    /// `500 Internal Server Error`; the cause goes to the log, never to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(target: "fastauth::http", error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// `422` with a list of validation errors, each `{"type", "loc", "msg", ...}`.
    pub fn validation(errors: Vec<Value>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: Value::Object(serde_json::Map::from_iter([(
                "detail".to_owned(),
                Value::Array(errors),
            )])),
            bearer_challenge: false,
            retry_after: None,
        }
    }

    /// `413 Request body too large`.
    pub fn body_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
    }

    /// `429` with `detail` and a `Retry-After` of `retry_after` in whole seconds, rounded
    /// up.
    pub fn too_many_requests(detail: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self {
            retry_after: Some(whole_seconds(retry_after)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &Value {
        &self.body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.bearer_challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Rounds a wait up to whole seconds, at least 1.
fn whole_seconds(wait: std::time::Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// Formats the `detail` of a locked login: the remaining minutes rounded up, at least 1,
/// with `minute` in the singular for 1. The prefix `Account is locked.` is FastAuth's.
fn locked_detail(wait: std::time::Duration) -> String {
    let minutes = whole_seconds(wait).div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Account is locked. Try again in {minutes} {unit}")
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        use StatusCode as S;
        match error {
            AuthError::InvalidCredentials => {
                Self::new(S::UNAUTHORIZED, "Invalid email or password")
            }
            AuthError::AccountDeactivated => Self::new(S::UNAUTHORIZED, "Account is deactivated"),
            AuthError::EmailTaken => {
                Self::new(S::CONFLICT, "A user with this email already exists")
            }
            AuthError::PasswordPolicy(message) => Self::new(S::BAD_REQUEST, message),
            AuthError::NotAuthenticated => Self::not_authenticated(),
            AuthError::InvalidRefreshToken => Self::new(S::UNAUTHORIZED, "Invalid refresh token"),
            AuthError::RefreshTokenReused => {
                Self::new(S::UNAUTHORIZED, "Refresh token has already been used")
            }
            AuthError::RolesNotConfigured => {
                Self::new(S::INTERNAL_SERVER_ERROR, "RBAC is not configured")
            }
            AuthError::RoleExists => Self::new(S::CONFLICT, "Role already exists"),
            AuthError::RoleNotFound => Self::new(S::NOT_FOUND, "Role not found"),
            AuthError::UserNotFound => Self::new(S::NOT_FOUND, "User not found"),
            AuthError::SessionNotFound => Self::new(S::NOT_FOUND, "Session not found"),
            AuthError::InvalidToken => Self::new(S::BAD_REQUEST, "Invalid token"),
            AuthError::NotRefreshToken => {
                Self::new(S::BAD_REQUEST, "Only refresh tokens can be revoked")
            }
            AuthError::ForeignToken => {
                Self::new(S::FORBIDDEN, "Cannot revoke another user's token")
            }
            AuthError::InvalidName(message) => Self::validation(vec![json!({
                "type": "value_error",
                "loc": ["body"],
                "msg": message,
            })]),
            AuthError::AccountLocked { retry_after } => {
                Self::too_many_requests(locked_detail(retry_after), retry_after)
            }
            AuthError::RateLimited { retry_after } => {
                Self::too_many_requests("Too many requests", retry_after)
            }
            AuthError::InvalidVerificationToken => {
                Self::new(S::BAD_REQUEST, "Invalid or expired verification token")
            }
            AuthError::InvalidResetToken => {
                Self::new(S::BAD_REQUEST, "Invalid or expired reset token")
            }
            AuthError::InvalidOneTimeToken => Self::new(S::BAD_REQUEST, "Invalid or expired token"),
            AuthError::CurrentPasswordIncorrect => {
                Self::new(S::BAD_REQUEST, "Current password is incorrect")
            }
            AuthError::PasswordIncorrect => Self::new(S::BAD_REQUEST, "Password is incorrect"),
            AuthError::EmailInUse => Self::new(S::CONFLICT, "Email is already in use"),
            AuthError::SignInAgain => Self::new(S::BAD_REQUEST, "Please sign in again to confirm"),
            AuthError::InvalidMagicLink => {
                Self::new(S::UNAUTHORIZED, "Invalid or expired magic link")
            }
            AuthError::AccountInactive => Self::new(S::UNAUTHORIZED, "Account is inactive"),
            AuthError::EmailNotVerified => Self::new(S::FORBIDDEN, "Email not verified"),
            #[cfg(feature = "oauth")]
            AuthError::OAuth(error) => Self::from(error),
            AuthError::Store(StoreError::OAuthNotSupported) => {
                Self::new(S::BAD_REQUEST, "oauth_adapter is not configured")
            }
            AuthError::Store(StoreError::RolesNotSupported) => {
                Self::new(S::INTERNAL_SERVER_ERROR, "RBAC is not configured")
            }
            AuthError::SignInNotAllowed => Self::new(S::FORBIDDEN, "Sign in not allowed"),
            AuthError::LinkSignInNotAllowed => Self::new(S::FORBIDDEN, "Sign-in not allowed"),
            // The hook runner has logged the cause with the hook's name.
            AuthError::Hook { .. } => Self::new(S::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            AuthError::Store(e) => Self::internal(&e),
            AuthError::Hash(e) => Self::internal(&e),
            AuthError::Signing(e) => Self::internal(&e),
        }
    }
}

#[cfg(feature = "oauth")]
impl From<crate::oauth::OAuthError> for ApiError {
    fn from(error: crate::oauth::OAuthError) -> Self {
        use crate::oauth::OAuthError as E;
        let status = match &error {
            E::ProviderNotFound(_) | E::NoLinkedAccount(_) => StatusCode::NOT_FOUND,
            E::LinkStateOfAnotherUser => StatusCode::FORBIDDEN,
            E::Unavailable => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, error.to_string())
    }
}

/// Turns an empty 404 or 405 from the router into a JSON `{"detail": ...}` body, keeping the
/// `Allow` header of a 405.
pub async fn json_for_empty_errors(response: Response) -> Response {
    let status = response.status();
    let empty = !response.headers().contains_key(header::CONTENT_TYPE);
    if !empty {
        return response;
    }
    let detail = match status {
        StatusCode::NOT_FOUND => "Not Found",
        StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed",
        _ => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = ApiError::new(status, detail).into_response();
    let (body_parts, body) = body.into_parts();
    for (name, value) in &body_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// A JSON `404 {"detail": "Not Found"}`, for an application's fallback route.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn locked_detail_rounds_up() {
        let cases = [
            (
                Duration::from_secs(300),
                "Account is locked. Try again in 5 minutes",
            ),
            (
                Duration::from_secs(287),
                "Account is locked. Try again in 5 minutes",
            ),
            (
                Duration::from_secs(61),
                "Account is locked. Try again in 2 minutes",
            ),
            (
                Duration::from_secs(60),
                "Account is locked. Try again in 1 minute",
            ),
            (
                Duration::from_millis(1500),
                "Account is locked. Try again in 1 minute",
            ),
            (
                Duration::from_millis(1),
                "Account is locked. Try again in 1 minute",
            ),
        ];
        for (wait, text) in cases {
            assert_eq!(locked_detail(wait), text, "{wait:?}");
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_millis(286_001)), 287);
        assert_eq!(whole_seconds(Duration::from_secs(287)), 287);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
