//! The handlers of `/auth/account/*`: profile, password and address changes, deletion.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::{Fields, JsonBody};
use super::delivery::clear_cookies;
use super::error::ApiError;
use super::extract::CurrentUser;
use super::mail_routes::query_token;
use crate::auth::Auth;
use crate::core::cookies::TokenDelivery;
use crate::core::rbac::DeclaredRoles;
use crate::store::{Store, UserCore};
use crate::user::{AuthUser, MAX_IMAGE_CHARS, MAX_NAME_CHARS};

fn profile(core: &UserCore) -> Json<Value> {
    Json(json!({
        "id": core.id,
        "email": core.email,
        "name": core.name,
        "image": core.image,
    }))
}

fn message(text: &str) -> Json<Value> {
    Json(json!({ "message": text }))
}

pub(super) async fn get_profile<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(_auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Json<Value> {
    profile(&current.core)
}

pub(super) async fn update_profile<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let name = fields.optional_string("name", MAX_NAME_CHARS);
    let image = fields.optional_string("image", MAX_IMAGE_CHARS);
    fields.finish()?;
    if name.is_none() && image.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "No fields to update",
        ));
    }
    let core = auth
        .update_profile(&current.core.id, name.as_deref(), image.as_deref())
        .await?;
    Ok(profile(&core))
}

pub(super) async fn change_password<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let current_password = fields.required_string("current_password");
    let new_password = fields.required_string("new_password");
    fields.finish()?;
    let (Some(current_password), Some(new_password)) = (current_password, new_password) else {
        return Err(ApiError::internal(
            &"password fields passed validation but are missing",
        ));
    };
    auth.change_password(&current.core, &current_password, &new_password)
        .await?;
    Ok(message("Password changed successfully"))
}

pub(super) async fn change_email<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let new_email = fields.email("new_email");
    let password = fields.required_string("password");
    fields.finish()?;
    let (Some(new_email), Some(password)) = (new_email, password) else {
        return Err(ApiError::internal(
            &"email change fields passed validation but are missing",
        ));
    };
    auth.request_email_change(&current.core, &new_email, &password)
        .await?;
    Ok(message("Confirmation email sent to new address"))
}

pub(super) async fn confirm_email_change<
    U: AuthUser,
    S: Store<U>,
    const P: u32,
    R: DeclaredRoles,
>(
    State(auth): State<Auth<U, S, P, R>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let token = query_token(&query)?;
    auth.confirm_email_change(&token).await?;
    Ok(message("Email changed successfully"))
}

pub(super) async fn delete_account<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let has_password = current.core.password_hash.is_some();
    let password = match (&body, has_password) {
        (Some(object), _) => {
            let mut fields = Fields::new(object);
            let password = if has_password {
                fields.required_string("password")
            } else {
                fields.optional_string("password", usize::MAX)
            };
            fields.finish()?;
            password
        }
        // An account with a password must send it; the 422 names the missing body.
        (None, true) => {
            Fields::require(&body)?;
            None
        }
        (None, false) => None,
    };
    auth.delete_account(
        &current.core,
        current.claims.sid.as_deref(),
        password.as_deref(),
    )
    .await?;
    let response = message("Account deleted successfully").into_response();
    let config = auth.config();
    if config.token_delivery == TokenDelivery::Cookie {
        Ok(clear_cookies(config, response))
    } else {
        Ok(response)
    }
}
