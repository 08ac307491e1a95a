//! Token delivery on the wire: sign-in responses in bearer and cookie mode, the clearing
//! cookies of logout, and the CSRF double-submit check.
//!
//! `Set-Cookie` values are written by hand: the cookies are plain (neither signed nor
//! encrypted) so that FastAuth clients read them unchanged.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use super::extract::cookie;
use crate::auth::SignIn;
use crate::core::config::AuthConfig;
use crate::core::cookies::{CookieConfig, TokenDelivery};

const HTTP: &str = "fastauth::http";

/// Builds the response of a sign-in (register, login, refresh): a `TokenPair` body in bearer
/// mode, or a message and the three cookies in cookie mode.
pub(crate) fn sign_in_response(
    config: &AuthConfig,
    status: StatusCode,
    sign_in: &SignIn,
) -> Response {
    let tokens = &sign_in.tokens;
    if config.token_delivery == TokenDelivery::Bearer {
        let body = json!({
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "token_type": "bearer",
            "expires_in": tokens.expires_in,
        });
        return (status, Json(body)).into_response();
    }

    let body = json!({ "message": "Authentication successful" });
    let mut response = (status, Json(body)).into_response();
    append_auth_cookies(config, &mut response, sign_in);
    response
}

/// Builds the `302` of a sign-in that sends the browser on to `location` (the OAuth callback
/// with a configured post-login redirect): an empty body and the three cookies, in either
/// delivery mode. Tokens never go in the URL.
#[cfg_attr(not(feature = "oauth"), allow(dead_code))]
pub(crate) fn sign_in_redirect(config: &AuthConfig, location: &str, sign_in: &SignIn) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        // Checked as a URL when the configuration was built.
        Err(_) => {
            return ApiError::internal(&"the post-login redirect is not a header value")
                .into_response();
        }
    }
    append_auth_cookies(config, &mut response, sign_in);
    response
}

/// Adds the access, refresh and CSRF cookies of a sign-in to `response`.
fn append_auth_cookies(config: &AuthConfig, response: &mut Response, sign_in: &SignIn) {
    let tokens = &sign_in.tokens;
    let cookies = &config.cookies;
    let secure = config.cookie_secure();
    // A new CSRF value at every sign-in, so a value planted before sign-in is useless.
    let csrf = new_csrf_value();
    let refresh_max_age = tokens.refresh_expires_in;
    let entries = [
        (
            &cookies.access_name,
            tokens.access_token.as_str(),
            tokens.expires_in,
            cookies.http_only,
        ),
        (
            &cookies.refresh_name,
            tokens.refresh_token.as_str(),
            refresh_max_age,
            cookies.http_only,
        ),
        (&cookies.csrf_name, csrf.as_str(), refresh_max_age, false),
    ];
    for (name, value, max_age, http_only) in entries {
        let attributes = Attributes {
            cookies,
            secure,
            http_only,
        };
        append(response, &attributes.set(name, value, max_age));
    }
}

/// Adds to `response` the three `Set-Cookie` headers that delete the auth cookies. They repeat
/// the attributes of the originals, so that browsers accept the overwrite.
pub(crate) fn clear_cookies(config: &AuthConfig, mut response: Response) -> Response {
    let cookies = &config.cookies;
    let secure = config.cookie_secure();
    for (name, http_only) in [
        (&cookies.access_name, cookies.http_only),
        (&cookies.refresh_name, cookies.http_only),
        (&cookies.csrf_name, false),
    ] {
        let attributes = Attributes {
            cookies,
            secure,
            http_only,
        };
        append(&mut response, &attributes.clear(name));
    }
    response
}

/// Checks the CSRF double submit of a request authenticated by a cookie: a `POST`, `PUT`,
/// `PATCH` or `DELETE` must send the CSRF header with the value of the CSRF cookie, compared
/// in constant time. Other methods pass.
pub(crate) fn check_csrf(
    cookies: &CookieConfig,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let unsafe_method = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !cookies.csrf || !unsafe_method {
        return Ok(());
    }
    let expected = cookie(headers, &cookies.csrf_name);
    let sent = headers
        .get(cookies.csrf_header.as_str())
        .map(HeaderValue::as_bytes)
        .filter(|value| !value.is_empty());
    let matches = match (expected, sent) {
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent)),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        tracing::info!(target: HTTP, %method, "request rejected: CSRF token missing or invalid");
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "CSRF token missing or invalid",
        ))
    }
}

/// Returns 32 random bytes, base64url without padding.
fn new_csrf_value() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn append(response: &mut Response, set_cookie: &str) {
    match HeaderValue::from_str(set_cookie) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        // The names are checked at start-up and the values are JWTs or base64url, so this
        // only happens with a `Domain` that is not a valid header value.
        Err(error) => tracing::error!(target: HTTP, %error, "a Set-Cookie header was dropped"),
    }
}

/// The attributes shared by the auth cookies.
struct Attributes<'a> {
    cookies: &'a CookieConfig,
    secure: bool,
    http_only: bool,
}

impl Attributes<'_> {
    /// Renders a `Set-Cookie` value that stores `value` for `max_age` seconds.
    fn set(&self, name: &str, value: &str, max_age: u64) -> String {
        format!("{name}={value}; Max-Age={max_age}{}", self.suffix())
    }

    /// Renders a `Set-Cookie` value that deletes the cookie: empty, `Max-Age=0` and an
    /// expiry in 1970 for clients that ignore `Max-Age`.
    fn clear(&self, name: &str) -> String {
        format!(
            "{name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0{}",
            self.suffix()
        )
    }

    fn suffix(&self) -> String {
        let mut suffix = String::from("; Path=/");
        if let Some(domain) = &self.cookies.domain {
            suffix.push_str("; Domain=");
            suffix.push_str(domain);
        }
        suffix.push_str("; SameSite=");
        suffix.push_str(self.cookies.same_site.as_str());
        if self.secure {
            suffix.push_str("; Secure");
        }
        if self.http_only {
            suffix.push_str("; HttpOnly");
        }
        suffix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn csrf_needs_matching_header_on_unsafe_methods() {
        let config = CookieConfig::default();
        let good = headers(&[("cookie", "csrf_token=abc"), ("x-csrf-token", "abc")]);
        let wrong = headers(&[("cookie", "csrf_token=abc"), ("x-csrf-token", "abd")]);
        let missing = headers(&[("cookie", "csrf_token=abc")]);
        let no_cookie = headers(&[("x-csrf-token", "abc")]);
        assert!(check_csrf(&config, &Method::POST, &good).is_ok());
        assert!(check_csrf(&config, &Method::DELETE, &wrong).is_err());
        assert!(check_csrf(&config, &Method::PUT, &missing).is_err());
        assert!(check_csrf(&config, &Method::PATCH, &no_cookie).is_err());
        assert!(check_csrf(&config, &Method::GET, &missing).is_ok());
        let off = CookieConfig {
            csrf: false,
            ..CookieConfig::default()
        };
        assert!(check_csrf(&off, &Method::POST, &missing).is_ok());
    }

    #[test]
    fn csrf_value_is_32_bytes_base64url() {
        let value = new_csrf_value();
        assert_eq!(value.len(), 43);
        assert!(!value.contains('='));
        assert_ne!(value, new_csrf_value());
    }
}
