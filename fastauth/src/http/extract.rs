//! Extractors that authenticate a request: [`CurrentUser`] (one indexed read) and
//! [`AccessClaims`] (no read).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::delivery::check_csrf;
use super::error::ApiError;
use crate::auth::{Auth, Authenticated};
use crate::core::AuthError;
use crate::core::config::AuthConfig;
use crate::core::rbac::DeclaredRoles;
use crate::core::token::Claims;
use crate::store::{Store, UserCore};
use crate::user::AuthUser;

type AuthFuture<'a, U> =
    Pin<Box<dyn Future<Output = Result<Authenticated<U>, AuthError>> + Send + 'a>>;

/// The part of [`Auth`] the extractors need, without its store and provider parameters,
/// so that a handler names only the user type.
pub(crate) trait Authenticator<U>: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, token: &'a str) -> AuthFuture<'a, U>;
    fn verify(&self, token: &str) -> Result<Claims, AuthError>;
    fn roles_enabled(&self) -> bool;
    fn config(&self) -> &AuthConfig;
}

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Authenticator<U>
    for Auth<U, S, P, R>
{
    fn authenticate<'a>(&'a self, token: &'a str) -> AuthFuture<'a, U> {
        Box::pin(Auth::authenticate(self, token))
    }

    fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_access_token(token)
    }

    fn roles_enabled(&self) -> bool {
        Auth::roles_enabled(self)
    }

    fn config(&self) -> &AuthConfig {
        Auth::config(self)
    }
}

/// The handle that [`Auth::layer`] puts into every request's extensions.
pub struct AuthHandle<U>(pub(crate) Arc<dyn Authenticator<U>>);

impl<U> Clone for AuthHandle<U> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<U> std::fmt::Debug for AuthHandle<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthHandle")
    }
}

pub(crate) fn handle<U: 'static>(parts: &Parts) -> Result<AuthHandle<U>, ApiError> {
    parts
        .extensions
        .get::<AuthHandle<U>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::internal(
                &"a fastauth extractor ran on a route without the fastauth layer: \
                             add `.layer(auth.layer())` to the router",
            )
        })
}

/// The origin of a request's access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// `Authorization: Bearer`, which a browser never sends on its own: no CSRF check.
    Header,
    /// The access cookie, which a browser attaches to cross-site requests too.
    Cookie,
}

/// Finds the access token of a request: the `Authorization: Bearer` header if present, else
/// the cookie `cookie_name`. With a header the cookie is ignored, even when the header's
/// token is bad.
pub(crate) fn access_token(
    headers: &HeaderMap,
    cookie_name: &str,
) -> Option<(String, TokenSource)> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, credential) = value.split_once(' ')?;
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty() {
            return Some((credential.to_owned(), TokenSource::Header));
        }
    }
    cookie(headers, cookie_name).map(|token| (token, TokenSource::Cookie))
}

/// Returns the value of cookie `name`, if the request sends it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// The authenticated caller, loaded with their session in one indexed read.
///
/// Rejects with `401 Not authenticated` (no token, a bad or expired token, a token whose
/// session was ended), then `403 CSRF token missing or invalid` (an unsafe request
/// authenticated by the access cookie without a matching `X-CSRF-Token` header), then
/// `401 Account is deactivated`.
#[derive(Debug, Clone)]
pub struct CurrentUser<U> {
    /// The application's user struct.
    pub user: U,
    /// The auth columns of the user.
    pub core: UserCore,
    /// The verified access-token claims; `claims.sid` is the session.
    pub claims: Claims,
}

impl<U> CurrentUser<U> {
    /// Whether the user holds the role `name`, as read with the user on this request. Works
    /// for roles created at run time, which have no marker type.
    pub fn has_role(&self, name: &str) -> bool {
        self.core.has_role(name)
    }

    /// Whether one of the user's roles grants `permission`, as read on this request.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.core.has_permission(permission)
    }
}

impl<U> Deref for CurrentUser<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.user
    }
}

impl<U: AuthUser, S: Send + Sync> FromRequestParts<S> for CurrentUser<U> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let auth = handle::<U>(parts)?;
        let config = auth.0.config();
        let (token, source) = access_token(&parts.headers, &config.cookies.access_name)
            .ok_or_else(ApiError::not_authenticated)?;
        let result = auth.0.authenticate(&token).await;
        // The CSRF check runs once the token is known good, so a bad cookie gets a 401.
        let verified = matches!(result, Ok(_) | Err(AuthError::AccountDeactivated));
        if verified && source == TokenSource::Cookie {
            check_csrf(&config.cookies, &parts.method, &parts.headers)?;
        }
        let Authenticated { record, claims } = result?;
        Ok(Self {
            user: record.user,
            core: record.core,
            claims,
        })
    }
}

/// The verified claims of the access token, without any read: for routes that need no
/// fresh data. A token stays accepted here until it expires, even after logout.
#[derive(Debug, Clone)]
pub struct AccessClaims<U>(pub Claims, pub(crate) std::marker::PhantomData<fn() -> U>);

impl<U> Deref for AccessClaims<U> {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        &self.0
    }
}

impl<U: AuthUser, S: Send + Sync> FromRequestParts<S> for AccessClaims<U> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let auth = handle::<U>(parts)?;
        let config = auth.0.config();
        let (token, source) = access_token(&parts.headers, &config.cookies.access_name)
            .ok_or_else(ApiError::not_authenticated)?;
        let claims = auth.0.verify(&token)?;
        if source == TokenSource::Cookie {
            check_csrf(&config.cookies, &parts.method, &parts.headers)?;
        }
        Ok(Self(claims, std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> HeaderMap {
        let mut builder = Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0.headers
    }

    fn token(headers: &HeaderMap) -> Option<String> {
        access_token(headers, "access_token").map(|(token, _)| token)
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(
            token(&parts(&[("authorization", "bEaReR abc")])).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn header_wins_over_cookie() {
        let p = parts(&[("authorization", "Bearer h"), ("cookie", "access_token=c")]);
        assert_eq!(
            access_token(&p, "access_token").unwrap().1,
            TokenSource::Header
        );
        assert_eq!(token(&p).as_deref(), Some("h"));
    }

    #[test]
    fn cookie_is_used_without_header() {
        let p = parts(&[("cookie", "a=1; access_token=c; b=2")]);
        assert_eq!(
            access_token(&p, "access_token").unwrap().1,
            TokenSource::Cookie
        );
        assert_eq!(token(&p).as_deref(), Some("c"));
    }

    #[test]
    fn empty_bearer_falls_back_to_cookie() {
        let p = parts(&[("authorization", "Bearer "), ("cookie", "access_token=c")]);
        assert_eq!(token(&p).as_deref(), Some("c"));
        assert_eq!(token(&parts(&[("authorization", "Basic x")])), None);
    }
}
