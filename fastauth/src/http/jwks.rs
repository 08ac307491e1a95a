//! `GET /.well-known/jwks.json`: the public keys that verify this service's tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::Auth;
use crate::core::rbac::DeclaredRoles;
use crate::store::Store;
use crate::user::AuthUser;

/// The path of the JWKS document, at the site root rather than under the route prefix.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long clients may cache the document, in seconds. A verifier that caches it learns
/// of a rotated key at most this late.
const JWKS_MAX_AGE_SECONDS: u32 = 300;

/// Serves the public part of every key in the set, newest first.
pub(super) async fn jwks<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles>(
    State(auth): State<Auth<U, S, P, R>>,
) -> Response {
    // Only mounted for asymmetric algorithms, which always have a key set.
    let document = auth.jwks().unwrap_or_else(|| json!({ "keys": [] }));
    let mut response = Json(document).into_response();
    let cache = format!("public, max-age={JWKS_MAX_AGE_SECONDS}");
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}
