//! The role routes under `{prefix}/roles`. Every route except `GET /roles/me` requires the
//! role named exactly `admin`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::{Fields, JsonBody};
use super::error::ApiError;
use super::extract::{CurrentUser, handle};
use super::guard::insufficient_role;
use crate::auth::{ADMIN_ROLE, Auth};
use crate::core::rbac::{DeclaredRoles, permission_problem, role_name_problem};
use crate::store::{RoleRecord, Store};
use crate::user::AuthUser;

/// The maximum number of permissions one request may create, add or remove.
const MAX_PERMISSIONS_PER_REQUEST: usize = 100;

/// The caller of an admin route: authenticated, then `500 RBAC is not configured` when the
/// store keeps no roles, then `403 Insufficient role` without the `admin` role.
pub(super) struct Admin<U>(CurrentUser<U>);

impl<U: AuthUser, S: Send + Sync> FromRequestParts<S> for Admin<U> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let current = CurrentUser::<U>::from_request_parts(parts, state).await?;
        if !handle::<U>(parts)?.0.roles_enabled() {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "RBAC is not configured",
            ));
        }
        if !current.has_role(ADMIN_ROLE) {
            return Err(insufficient_role());
        }
        Ok(Self(current))
    }
}

impl<U> Admin<U> {
    fn id(&self) -> Option<&str> {
        Some(&self.0.core.id)
    }
}

fn message(text: &str) -> Json<Value> {
    Json(json!({ "message": text }))
}

fn role_json(role: &RoleRecord) -> Value {
    json!({ "name": role.name, "permissions": role.permissions })
}

/// Reads `permissions` and checks each entry's length, as 422 entries.
fn permissions(fields: &mut Fields<'_>, required: bool) -> Option<Vec<String>> {
    let list = fields.string_list("permissions", required, MAX_PERMISSIONS_PER_REQUEST)?;
    let mut valid = true;
    for (index, permission) in list.iter().enumerate() {
        if let Some(problem) = permission_problem(permission) {
            valid = false;
            fields.push(json!({
                "type": "value_error",
                "loc": ["body", "permissions", index],
                "msg": format!("Value error, {problem}"),
                "input": permission,
            }));
        }
    }
    valid.then_some(list)
}

/// Reads a required string field that names a role or a user, at most `max` characters.
fn name(fields: &mut Fields<'_>, field: &str, max: usize) -> Option<String> {
    let value = fields.required_string(field)?;
    if value.chars().count() > max {
        fields.push(json!({
            "type": "string_too_long",
            "loc": ["body", field],
            "msg": format!("String should have at most {max} characters"),
            "ctx": { "max_length": max },
        }));
        return None;
    }
    Some(value)
}

pub(super) async fn list<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    _admin: Admin<U>,
) -> Result<Json<Value>, ApiError> {
    let roles = auth.list_roles().await?;
    Ok(Json(Value::Array(roles.iter().map(role_json).collect())))
}

pub(super) async fn create<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let role = fields.required_string("name");
    if let Some(problem) = role.as_deref().and_then(role_name_problem) {
        fields.push(json!({
            "type": "value_error",
            "loc": ["body", "name"],
            "msg": format!("Value error, {problem}"),
            "input": role,
        }));
    }
    let permissions = permissions(&mut fields, false);
    fields.finish()?;
    let (Some(role), Some(permissions)) = (role, permissions) else {
        return Err(ApiError::internal(
            &"role fields passed validation but are missing",
        ));
    };

    let created = auth.create_role(&role, &permissions, admin.id()).await?;
    Ok((StatusCode::CREATED, Json(role_json(&created))).into_response())
}

pub(super) async fn delete<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    Path(role): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.delete_role(&role, admin.id()).await?;
    Ok(message("Role deleted"))
}

pub(super) async fn add_permissions<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    Path(role): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let permissions = permissions(&mut fields, true);
    fields.finish()?;
    let permissions = permissions.unwrap_or_default();

    auth.add_permissions(&role, &permissions, admin.id())
        .await?;
    Ok(message("Permissions added"))
}

pub(super) async fn remove_permissions<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    Path(role): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let object = Fields::require(&body)?;
    let mut fields = Fields::new(object);
    let permissions = permissions(&mut fields, true);
    fields.finish()?;
    let permissions = permissions.unwrap_or_default();

    auth.remove_permissions(&role, &permissions, admin.id())
        .await?;
    Ok(message("Permissions removed"))
}

/// Reads the `user_id` and `role_name` of an assign or revoke body.
fn assignment(body: Option<&serde_json::Map<String, Value>>) -> Result<(String, String), ApiError> {
    let object = Fields::require(&body.cloned())?.clone();
    let mut fields = Fields::new(&object);
    // A user id is a cuid2 of 24 characters; 255 leaves room for ids of other schemes.
    let user_id = name(&mut fields, "user_id", 255);
    let role = name(&mut fields, "role_name", crate::core::rbac::MAX_ROLE_CHARS);
    fields.finish()?;
    match (user_id, role) {
        (Some(user_id), Some(role)) => Ok((user_id, role)),
        _ => Err(ApiError::internal(
            &"assignment fields passed validation but are missing",
        )),
    }
}

pub(super) async fn assign<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (user_id, role) = assignment(body.as_ref())?;
    auth.assign_role(&user_id, &role, admin.id()).await?;
    Ok(message("Role assigned"))
}

pub(super) async fn revoke<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    admin: Admin<U>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (user_id, role) = assignment(body.as_ref())?;
    auth.revoke_role(&user_id, &role, admin.id()).await?;
    Ok(message("Role revoked"))
}

fn user_roles_json(user_id: &str, roles: &[String], permissions: &[String]) -> Json<Value> {
    Json(json!({ "user_id": user_id, "roles": roles, "permissions": permissions }))
}

pub(super) async fn of_user<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    _admin: Admin<U>,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let roles = auth.user_roles(&user_id).await?;
    Ok(user_roles_json(&user_id, &roles.roles, &roles.permissions))
}

/// `GET /roles/me`: the caller's roles as read with the caller, so no second read.
pub(super) async fn me<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
    current: CurrentUser<U>,
) -> Result<Json<Value>, ApiError> {
    if !auth.roles_enabled() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "RBAC is not configured",
        ));
    }
    let core = &current.core;
    Ok(user_roles_json(&core.id, &core.roles, &core.permissions))
}
