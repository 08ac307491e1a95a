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
}

impl ApiError {
    /// An error with a `detail` text.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": detail.into() }),
            bearer_challenge: false,
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
        }
    }

    /// `413 Request body too large`.
    pub fn body_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
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
        response
    }
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
            AuthError::Store(StoreError::RolesNotSupported) => {
                Self::new(S::INTERNAL_SERVER_ERROR, "RBAC is not configured")
            }
            AuthError::Store(e) => Self::internal(&e),
            AuthError::Hash(e) => Self::internal(&e),
            AuthError::Signing(e) => Self::internal(&e),
        }
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
