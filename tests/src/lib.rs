//! The harness of fastauth's HTTP tests: one application per test on a database of its own,
//! requests driven in-process, and helpers to read and forge tokens.
//!
//! The scenarios in `tests/api/` take a [`TestDb`] and run unchanged on SQLite, PostgreSQL and
//! MariaDB; `tests/examples.rs` drives the example servers as processes. [`oauth`] has the
//! OpenID and GitHub providers the OAuth flows sign in with.

pub mod client;
pub mod db;
pub mod mail;
pub mod oauth;
pub mod state;
pub mod tokens;

use axum::Json;
use axum::routing::get;
use fastauth::prelude::*;
use serde_json::{Value, json};

pub use client::{Reply, SetCookie, TestApp, TokenPair};
pub use db::{Backend, KeyControl, TestDb, run};

/// The signing secret of every test application.
pub const SECRET: &str = "tests-9f2c7e1a4b8d6e3f0a5c2b7d9e1f4a6c";

/// The password the scenarios register with unless they test the password itself.
pub const PASSWORD: &str = "correct horse battery";

/// An application's user struct: the auth fields, one register field and one domain field.
#[derive(AuthUser, Clone, Debug)]
pub struct User {
    #[auth(id)]
    pub id: String,
    #[auth(email)]
    pub email: String,
    #[auth(password_hash)]
    pub password_hash: Option<String>,
    #[auth(name)]
    pub name: Option<String>,
    #[auth(active)]
    pub is_active: bool,
    /// Accepted by `POST /auth/register` as `"company"`.
    #[auth(register)]
    pub company: Option<String>,
    /// A column of the application's own, which registration leaves at its default.
    pub credits: i64,
}

/// The declaration for SQLite.
pub mod sqlite {
    use super::User;
    fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials, MagicLink, Google, GitHub], name: SqliteAuth }
}

/// The declaration for PostgreSQL.
pub mod postgres {
    use super::User;
    fastauth::fastauth! { user: User, database: Postgres, providers: [Credentials, MagicLink, Google, GitHub], name: PgAuth }
}

/// The declaration for MySQL and MariaDB.
pub mod mysql {
    use super::User;
    fastauth::fastauth! { user: User, database: MySql, providers: [Credentials, MagicLink, Google, GitHub], name: MySqlAuth }
}

/// Argon2 parameters cheap enough for hundreds of hashes per test run.
pub fn cheap_password() -> PasswordConfig {
    PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..Default::default()
    }
}

/// Returns the configuration most scenarios use: the test secret, default lifetimes and cheap
/// hashing.
pub fn config() -> AuthConfig {
    AuthConfig::new(Secret::new(SECRET).expect("the test secret is valid"))
        .password(cheap_password())
}

/// Returns [`config`] with cookie delivery.
pub fn cookie_config() -> AuthConfig {
    config().token_delivery(TokenDelivery::Cookie)
}

/// Serves the caller's profile through [`CurrentUser`], as an application route does.
async fn whoami(user: CurrentUser<User>) -> Json<Value> {
    Json(json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "company": user.company,
        "credits": user.credits,
        "sid": user.claims.sid,
    }))
}

/// Serves the verified claims through [`AccessClaims`], which reads no database.
async fn claims(claims: AccessClaims<User>) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "sid": claims.sid,
        "email": claims.email,
    }))
}

/// Assembles the application the way the examples do: two routes of its own (`/api/whoami`
/// also answers POST, to test the CSRF check on an application route), the auth
/// routes, a JSON 404 fallback and the auth layer.
pub fn application(
    auth_router: axum::Router,
    layer: axum::Extension<fastauth::http::extract::AuthHandle<User>>,
) -> axum::Router {
    axum::Router::new()
        .route("/api/whoami", get(whoami).post(whoami))
        .route("/api/claims", get(claims))
        .merge(auth_router)
        .fallback(fastauth::http::error::not_found)
        .layer(layer)
}
