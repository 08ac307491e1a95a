//! The handlers of the e-mailed flows: `/auth/request-verify-email`, `/verify-email`,
//! `/forgot-password` and `/reset-password`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use super::body::{Fields, JsonBody};
use super::delivery::sign_in_response;
use super::error::ApiError;
use super::extract::{CurrentUser, access_token};
use super::handlers::Client;
use crate::auth::Auth;
use crate::core::limits::LimitedRoute;
use crate::core::rbac::DeclaredRoles;
use crate::store::Store;
use crate::user::AuthUser;

fn message(text: &str) -> Json<Value> {
    Json(json!({ "message": text }))
}

/// Reads the required `token` query parameter, or returns the 422 of a missing one.
pub(super) fn query_token(query: &HashMap<String, String>) -> Result<String, ApiError> {
    query.get("token").cloned().ok_or_else(|| {
        ApiError::validation(vec![json!({
            "type": "missing",
            "loc": ["query", "token"],
            "msg": "Field required",
            "input": null,
        })])
    })
}

/// Reads a body whose one field is the required address `email`, normalised.
fn email_body(body: &Option<Map<String, Value>>) -> Result<String, ApiError> {
    let object = Fields::require(body)?;
    let mut fields = Fields::new(object);
    let email = fields.email("email");
    fields.finish()?;
    Ok(email.unwrap_or_default())
}

/// Responds 200 to a `HEAD` of an e-mailed link without redeeming it, because mail scanners
/// and link previews fetch links and a fetch must not use up the token.
pub(super) async fn head_link() -> StatusCode {
    StatusCode::OK
}

pub(super) async fn request_verify_email<
    U: AuthUser,
    S: Store<U>,
    const P: u32,
    R: DeclaredRoles,
>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    headers: HeaderMap,
    current: Result<CurrentUser<U>, ApiError>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let sent = message("Verification email sent");
    let anonymous = access_token(&headers, &auth.config().cookies.access_name).is_none();
    if !anonymous {
        let current = current?;
        auth.check_rate_limit(LimitedRoute::Verification, &client, Some(&current.core.id))
            .await?;
        auth.request_verification(&current.core).await?;
        return Ok(sent);
    }
    // Without credentials, a body naming an address requests a new link for it.
    let Some(object) = body else {
        return Err(ApiError::not_authenticated());
    };
    let mut fields = Fields::new(&object);
    let email = fields.email("email");
    fields.finish()?;
    if let Some(email) = email {
        auth.check_rate_limit(LimitedRoute::Verification, &client, Some(&email))
            .await?;
        auth.request_verification_by_email(&email).await?;
    }
    Ok(sent)
}

pub(super) async fn verify_email_get<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let token = query_token(&query)?;
    auth.check_rate_limit(LimitedRoute::Verification, &client, None)
        .await?;
    auth.verify_email(&token).await?;
    Ok(message("Email verified successfully"))
}

pub(super) async fn verify_email_post<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let token = fields.required_string("token");
    fields.finish()?;
    auth.check_rate_limit(LimitedRoute::Verification, &client, None)
        .await?;
    auth.verify_email(&token.unwrap_or_default()).await?;
    Ok(message("Email verified successfully"))
}

pub(super) async fn forgot_password<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let email = email_body(&body)?;
    auth.check_rate_limit(LimitedRoute::ForgotPassword, &client, Some(&email))
        .await?;
    auth.forgot_password(&email).await?;
    Ok(message("If the email exists, a reset link has been sent"))
}

pub(super) async fn reset_password<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let token = fields.required_string("token");
    let new_password = fields.required_string("new_password");
    fields.finish()?;
    let (Some(token), Some(new_password)) = (token, new_password) else {
        return Err(ApiError::internal(
            &"reset fields passed validation but are missing",
        ));
    };
    auth.check_rate_limit(LimitedRoute::ResetPassword, &client, None)
        .await?;
    auth.reset_password(&token, &new_password).await?;
    Ok(message("Password reset successfully"))
}

pub(super) async fn magic_link_login<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let email = email_body(&body)?;
    auth.check_rate_limit(LimitedRoute::MagicLink, &client, Some(&email))
        .await?;
    auth.request_magic_link(&email).await?;
    Ok(message("Magic link sent \u{2014} check your email"))
}

pub(super) async fn magic_link_callback<
    U: AuthUser,
    S: Store<U>,
    const P: u32,
    R: DeclaredRoles,
>(
    State(auth): State<Auth<U, S, P, R>>,
    Client(client): Client,
    Query(query): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ApiError> {
    let token = query_token(&query)?;
    auth.check_rate_limit(LimitedRoute::MagicLink, &client, None)
        .await?;
    let sign_in = auth.magic_link_sign_in(&token, &client).await?;
    Ok(sign_in_response(auth.config(), StatusCode::OK, &sign_in))
}
