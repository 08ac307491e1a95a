//! Role and permission guards: extractors that authenticate the request, then require a
//! role or a permission declared in `fastauth!`.
//!
//! [`HasRole`] and [`HasPermission`] check the roles read together with the user in the
//! request's one indexed read, so a change applies to the next request. [`HasRoleClaim`] and
//! [`HasPermissionClaim`] read nothing: they check the `roles` and `permissions` claims that
//! [`crate::AuthConfig::roles_in_tokens`] adds, so a revoked role passes them until the
//! access token expires.
//!
//! Failures: `401 Not authenticated` (or `Account is deactivated`) first, then
//! `500 RBAC is not configured` when the store keeps no roles, then `403 Insufficient role`
//! or `403 Insufficient permissions`.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::ApiError;
use super::extract::{AccessClaims, CurrentUser, handle};
use crate::core::rbac::{PermissionMarker, RoleMarker};
use crate::core::token::Claims;
use crate::user::AuthUser;

/// `403 Insufficient role`.
pub(crate) fn insufficient_role() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "Insufficient role")
}

fn insufficient_permissions() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "Insufficient permissions")
}

fn not_configured() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "RBAC is not configured")
}

/// The authenticated caller, who holds the role `R` (a marker of the generated `role`
/// module, like `role::Admin`). Dereferences to [`CurrentUser`].
pub struct HasRole<U, R: RoleMarker>(pub CurrentUser<U>, PhantomData<fn() -> R>);

/// The authenticated caller, one of whose roles grants the permission `P` (a marker of the
/// generated `perm` module, like `perm::PostsWrite`). Dereferences to [`CurrentUser`].
pub struct HasPermission<U, P: PermissionMarker>(pub CurrentUser<U>, PhantomData<fn() -> P>);

/// The verified claims of a caller whose access token lists the role `R`; no read.
pub struct HasRoleClaim<U, R: RoleMarker>(pub AccessClaims<U>, PhantomData<fn() -> R>);

/// The verified claims of a caller whose access token lists the permission `P`; no read.
pub struct HasPermissionClaim<U, P: PermissionMarker>(pub AccessClaims<U>, PhantomData<fn() -> P>);

/// Authenticates with one read, then checks `allowed` on the user's roles.
async fn current_user_where<U: AuthUser>(
    parts: &mut Parts,
    allowed: impl FnOnce(&CurrentUser<U>) -> bool,
    refusal: fn() -> ApiError,
) -> Result<CurrentUser<U>, ApiError> {
    let current = CurrentUser::<U>::from_request_parts(parts, &()).await?;
    if !handle::<U>(parts)?.0.roles_enabled() {
        return Err(not_configured());
    }
    if allowed(&current) {
        Ok(current)
    } else {
        Err(refusal())
    }
}

/// Verifies the access token, then checks `allowed` on the names of one of its claims.
async fn claims_where<U: AuthUser>(
    parts: &mut Parts,
    claim: fn(&Claims) -> Option<&Vec<String>>,
    name: &str,
    refusal: fn() -> ApiError,
) -> Result<AccessClaims<U>, ApiError> {
    let claims = AccessClaims::<U>::from_request_parts(parts, &()).await?;
    if !handle::<U>(parts)?.0.roles_enabled() {
        return Err(not_configured());
    }
    let listed = claim(&claims.0).is_some_and(|names| names.iter().any(|n| n == name));
    if listed { Ok(claims) } else { Err(refusal()) }
}

fn role_claim(claims: &Claims) -> Option<&Vec<String>> {
    claims.roles.as_ref()
}

fn permission_claim(claims: &Claims) -> Option<&Vec<String>> {
    claims.permissions.as_ref()
}

impl<U: AuthUser, R: RoleMarker, S: Send + Sync> FromRequestParts<S> for HasRole<U, R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let allowed = |user: &CurrentUser<U>| user.has_role(R::NAME);
        let current = current_user_where(parts, allowed, insufficient_role).await?;
        Ok(Self(current, PhantomData))
    }
}

impl<U: AuthUser, P: PermissionMarker, S: Send + Sync> FromRequestParts<S> for HasPermission<U, P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let allowed = |user: &CurrentUser<U>| user.has_permission(P::NAME);
        let current = current_user_where(parts, allowed, insufficient_permissions).await?;
        Ok(Self(current, PhantomData))
    }
}

impl<U: AuthUser, R: RoleMarker, S: Send + Sync> FromRequestParts<S> for HasRoleClaim<U, R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let claims = claims_where(parts, role_claim, R::NAME, insufficient_role).await?;
        Ok(Self(claims, PhantomData))
    }
}

impl<U: AuthUser, P: PermissionMarker, S: Send + Sync> FromRequestParts<S>
    for HasPermissionClaim<U, P>
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let claims =
            claims_where(parts, permission_claim, P::NAME, insufficient_permissions).await?;
        Ok(Self(claims, PhantomData))
    }
}

macro_rules! deref_and_debug {
    ($guard:ident, $target:ident, $marker:ident: $bound:ident) => {
        impl<U, $marker: $bound> Deref for $guard<U, $marker> {
            type Target = $target<U>;

            fn deref(&self) -> &$target<U> {
                &self.0
            }
        }

        impl<U: std::fmt::Debug, $marker: $bound> std::fmt::Debug for $guard<U, $marker> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($guard)).field(&self.0).finish()
            }
        }
    };
}

deref_and_debug!(HasRole, CurrentUser, R: RoleMarker);
deref_and_debug!(HasPermission, CurrentUser, P: PermissionMarker);
deref_and_debug!(HasRoleClaim, AccessClaims, R: RoleMarker);
deref_and_debug!(HasPermissionClaim, AccessClaims, P: PermissionMarker);
