#![doc = include_str!("../README.md")]

extern crate self as fastauth;

pub mod core;
mod email;
pub mod http;
pub mod mail;
#[cfg(feature = "oauth")]
pub mod oauth;
pub mod store;
pub mod user;

mod auth;

pub use crate::auth::{
    ADMIN_ROLE, Auth, Authenticated, BuildError, ClientInfo, KEY_PUBLICATION_LEAD,
    KEY_RELOAD_INTERVAL, KeyRotationError, Registered, Registration, SignIn, UserRoles,
};
pub use crate::core::AuthError;
pub use crate::core::config::{AuthConfig, ConfigError, PasswordConfig, Secret};
pub use crate::core::cookies::{CookieConfig, SameSite, TokenDelivery};
pub use crate::core::keys::JwtAlgorithm;
pub use crate::core::limits::{
    ClientIpSource, LimitedRoute, LockoutConfig, RateLimit, RateLimitConfig,
};
pub use crate::http::error::ApiError;
pub use crate::http::extract::{AccessClaims, CurrentUser};
pub use crate::http::guard::{HasPermission, HasPermissionClaim, HasRole, HasRoleClaim};
pub use crate::user::AuthUser;
pub use fastauth_macros::{AuthUser, fastauth, user};

/// Bits of the `PROVIDERS` parameter of [`Auth`]: which sign-in methods it serves. The
/// `fastauth!` declaration sets them; an application that names [`Auth`] with a store of its
/// own sets them itself.
pub mod provider {
    /// E-mail and password: `POST /auth/register` and `POST /auth/login`.
    pub const CREDENTIALS: u32 = 1;
    /// Sign-in links sent by e-mail: `POST /auth/magic-links/login` and
    /// `GET /auth/magic-links/callback`.
    pub const MAGIC_LINKS: u32 = 2;
    /// Google through OpenID Connect: the routes under `/auth/oauth/google`.
    pub const GOOGLE: u32 = 4;
    /// GitHub: the routes under `/auth/oauth/github`.
    pub const GITHUB: u32 = 8;
    /// Every OAuth provider: the account routes under `/auth/oauth/accounts` exist when
    /// one of them is enabled.
    pub const OAUTH: u32 = GOOGLE | GITHUB;
}

/// The items an application needs: `use fastauth::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AccessClaims, AuthConfig, AuthUser, ClientIpSource, CookieConfig, CurrentUser,
        HasPermission, HasPermissionClaim, HasRole, HasRoleClaim, JwtAlgorithm, LockoutConfig,
        PasswordConfig, RateLimit, RateLimitConfig, SameSite, Secret, TokenDelivery, fastauth,
    };
}

/// Items the macros' generated code names. Not a public API: they change without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::Auth;
    pub use crate::core::rbac::{
        DeclaredRoles, Named, PermissionMarker, RoleMarker, UnknownName, deserialize_named,
        parse_named,
    };
    #[cfg(feature = "mysql")]
    pub use crate::store::MySql;
    #[cfg(feature = "postgres")]
    pub use crate::store::Postgres;
    pub use crate::store::SqlStore;
    #[cfg(feature = "sqlite")]
    pub use crate::store::Sqlite;
    pub use crate::user::{
        AuthUser, ColumnDef, ColumnType, DecodeError, NewUser, RowValues, SqlType, StandardField,
        UserSchema, Value, roles,
    };
    pub use serde;
    pub use time;

    pub use crate::provider;

    /// Checks whether `schema` maps a field to `field`. `fastauth!` evaluates it at compile
    /// time.
    pub const fn schema_has(schema: &UserSchema, field: StandardField) -> bool {
        // The derive's fallback impl, emitted next to its own errors, has an empty table
        // name: answer yes so that those errors are not followed by a misleading one here.
        if schema.table.is_empty() {
            return true;
        }
        let mut i = 0;
        while i < schema.columns.len() {
            if let Some(role) = schema.columns[i].role
                && role as u8 == field as u8
            {
                return true;
            }
            i += 1;
        }
        false
    }
}
