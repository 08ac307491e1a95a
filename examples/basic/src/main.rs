//! The basic example: an application's own user struct, the auth routes and one protected
//! route of the application, on an embedded SQLite file.
//!
//! Run it with `cargo run -p basic`. It listens on `FASTAUTH_BIND` (default `127.0.0.1:8000`)
//! and keeps its data in `DATABASE_URL` (default `sqlite://fastauth.db`).

use axum::routing::get;
use axum::{Json, Router};
use fastauth::prelude::*;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;

/// The application's user: the auth fields mapped onto FastAuth's columns, plus two fields of
/// its own that become columns of the same table.
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
    #[auth(email_verified)]
    pub email_verified: bool,
    #[auth(active)]
    pub is_active: bool,
    #[auth(created_at)]
    pub created_at: OffsetDateTime,
    /// Accepted by `POST /auth/register` as `"company"`.
    #[auth(register)]
    pub company: Option<String>,
    /// Starts at 0 for every new account.
    pub credits: i64,
}

fastauth! {
    user: User,
    database: Sqlite,
    providers: [Credentials],
}

/// Returns the caller's profile: the application's own protected route.
async fn whoami(user: CurrentUser<User>) -> Json<Value> {
    Json(json!({
        "id": user.id,
        "email": user.email,
        "company": user.company,
        "credits": user.credits,
        "member_since": user.created_at.unix_timestamp(),
    }))
}

#[tokio::main]
async fn main() {
    example_support::init_tracing();
    let settings = example_support::Settings::load()
        .await
        .unwrap_or_else(|e| example_support::exit_with(&e));

    let options: SqliteConnectOptions = settings
        .database_url
        .parse()
        .unwrap_or_else(|e| example_support::exit_with(&format!("DATABASE_URL: {e}")));
    let pool = SqlitePoolOptions::new()
        // sqlx opens SQLite in WAL mode; with WAL, NORMAL syncs at checkpoints instead of at
        // every commit, and SQLite's documentation states the database stays consistent
        // after a power loss, which may drop only the last commits.
        .connect_with(
            options
                .create_if_missing(true)
                .synchronous(SqliteSynchronous::Normal),
        )
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("opening the database: {e}")));

    let auth =
        Auth::with_pool(pool, settings.auth).unwrap_or_else(|e| example_support::exit_with(&e));
    auth.migrate()
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("migrating: {e}")));
    auth.bootstrap_admin()
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("creating the admin role: {e}")));

    let app = Router::new()
        .route("/api/whoami", get(whoami))
        .merge(auth.router())
        .fallback(fastauth::http::error::not_found)
        .layer(axum::middleware::map_response(
            fastauth::http::error::json_for_empty_errors,
        ))
        .layer(auth.layer());

    if let Err(error) = example_support::serve(app, settings.bind).await {
        example_support::exit_with(&format!("serving on {}: {error}", settings.bind));
    }
}
