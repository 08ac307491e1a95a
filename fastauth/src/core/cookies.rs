//! Token delivery: bearer tokens in the body, or cookies guarded by a CSRF double submit.

/// The way sign-in responses hand the tokens to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenDelivery {
    /// A `TokenPair` JSON body; the client sends `Authorization: Bearer`. FastAuth calls
    /// this mode `json`.
    #[default]
    Bearer,
    /// A `{"message": "Authentication successful"}` body and three cookies: the access
    /// token, the refresh token and the CSRF value.
    Cookie,
}

/// The `SameSite` attribute of the auth cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites, not on their subrequests.
    #[default]
    Lax,
    /// Sent only on requests from the same site.
    Strict,
    /// Sent on every request; browsers then require `Secure`.
    None,
}

impl SameSite {
    /// Returns the attribute value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// Names and attributes of the auth cookies, and the CSRF check that guards them.
///
/// The cookies are read in both delivery modes: a bearer-mode server still accepts the
/// access cookie, and `POST /auth/refresh` still reads the refresh cookie.
#[derive(Debug, Clone)]
pub struct CookieConfig {
    /// The access-token cookie (default `access_token`).
    pub access_name: String,
    /// The refresh-token cookie (default `refresh_token`).
    pub refresh_name: String,
    /// The CSRF cookie, readable by scripts (default `csrf_token`).
    pub csrf_name: String,
    /// The request header that repeats the CSRF cookie (default `X-CSRF-Token`).
    pub csrf_header: String,
    /// The `Secure` flag. `None` (the default) means on unless the configured base URL is
    /// plain `http`.
    pub secure: Option<bool>,
    /// `SameSite` (default `Lax`).
    pub same_site: SameSite,
    /// `Domain`, written only when set.
    pub domain: Option<String>,
    /// `HttpOnly` on the access and refresh cookies (default `true`). The CSRF cookie is
    /// never `HttpOnly`, because the client script must read it.
    pub http_only: bool,
    /// Whether unsafe requests authenticated by cookie need the CSRF header (default `true`).
    pub csrf: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            access_name: "access_token".to_owned(),
            refresh_name: "refresh_token".to_owned(),
            csrf_name: "csrf_token".to_owned(),
            csrf_header: "X-CSRF-Token".to_owned(),
            secure: None,
            same_site: SameSite::Lax,
            domain: None,
            http_only: true,
            csrf: true,
        }
    }
}
