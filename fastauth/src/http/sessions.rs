//! The session routes under `{prefix}/sessions` and the token routes under
//! `{prefix}/token`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::body::{Fields, JsonBody};
use super::error::ApiError;
use super::extract::CurrentUser;
use crate::auth::Auth;
use crate::core::rbac::DeclaredRoles;
use crate::core::token::TokenType;
use crate::store::{SessionRecord, Store};
use crate::user::AuthUser;

fn message(text: &str) -> Json<Value> {
    Json(json!({ "message": text }))
}

/// Formats a timestamp as RFC 3339 in UTC.
fn rfc3339(t: OffsetDateTime) -> Result<String, ApiError> {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|error| ApiError::internal(&error))
}

fn session_json(session: &SessionRecord, current: Option<&str>) -> Result<Value, ApiError> {
    Ok(json!({
        "id": session.id,
        "user_id": session.user_id,
        "ip_address": session.ip_address,
        "user_agent": session.user_agent,
        "created_at": rfc3339(session.created_at)?,
        "expires_at": rfc3339(session.expires_at)?,
        "current": current == Some(session.id.as_str()),
    }))
}

/// Reads the required `token` field of a body.
fn token_field(body: &Option<serde_json::Map<String, Value>>) -> Result<String, ApiError> {
    let object = Fields::require(body)?;
    let mut fields = Fields::new(object);
    let token = fields.required_string("token");
    fields.finish()?;
    token.ok_or_else(|| ApiError::internal(&"the token field passed validation but is missing"))
}

pub(super) async fn list<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Result<Json<Value>, ApiError> {
    let sessions = auth.list_sessions(&current.core.id).await?;
    let sid = current.claims.sid.as_deref();
    let list = sessions
        .iter()
        .map(|session| session_json(session, sid))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Value::Array(list)))
}

pub(super) async fn delete_all<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Result<Json<Value>, ApiError> {
    auth.revoke_all_sessions(&current.core.id).await?;
    Ok(message("All sessions revoked"))
}

pub(super) async fn delete_one<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    Path(session_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.revoke_session(&current.core.id, &session_id).await?;
    Ok(message("Session revoked"))
}

pub(super) async fn introspect<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    _current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let token = token_field(&body)?;
    let answer = match auth.introspect(&token).await? {
        Some(claims) => json!({
            "active": true,
            "sub": claims.sub,
            "exp": claims.exp,
            "jti": claims.jti,
            "token_type": match claims.token_type {
                TokenType::Access => "access",
                TokenType::Refresh => "refresh",
            },
            "email": claims.email,
        }),
        None => json!({
            "active": false,
            "sub": null,
            "exp": null,
            "jti": null,
            "token_type": null,
            "email": null,
        }),
    };
    Ok(Json(answer))
}

pub(super) async fn revoke_token<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let token = token_field(&body)?;
    auth.revoke_refresh_token(&current.core.id, &token).await?;
    Ok(message("Token revoked"))
}
