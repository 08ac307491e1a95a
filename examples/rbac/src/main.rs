//! The roles example: a small blog whose routes are guarded by a declared role, by a
//! permission and by the roles listed in the access token, on an embedded SQLite file.
//!
//! Run it with `FASTAUTH_ADMIN_EMAIL=you@example.com cargo run -p rbac`, then register that
//! address: it gets the `admin` role, which manages roles through `/auth/roles`. Give
//! another account the `editor` role with `POST /auth/roles/assign` and it may publish.
//! It listens on `FASTAUTH_BIND` (default `127.0.0.1:8000`) and keeps its data in
//! `DATABASE_URL` (default `fastauth.db`).
//!
//! Access tokens carry the user's roles and permissions (`roles_in_tokens`), so the admin
//! statistics are served twice. `GET /api/stats` checks the roles read together with the
//! user, and a revoked role fails at once. `GET /api/stats/claims` checks only the token's
//! `roles` claim and reads nothing, so a revoked role passes until the access token expires.

use axum::routing::get;
use axum::{Json, Router};
use fastauth::prelude::*;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// FastAuth's standard user, with no fields of the application's own.
#[fastauth::user]
pub struct User {}

fastauth! {
    user: User,
    database: Sqlite,
    providers: [Credentials],
    roles: [Admin, Editor, Viewer],
    permissions: {
        Admin: [UsersManage = "users:manage", PostsWrite = "posts:write"],
        Editor: [PostsWrite = "posts:write"],
    },
}

/// Lists the posts for any signed-in user, with whether their roles allow publishing.
async fn posts(user: CurrentUser<User>) -> Json<Value> {
    Json(json!({
        "posts": [],
        "can_publish": user.has_permission(Permission::PostsWrite.as_str()),
    }))
}

/// Publishes a post: only a role that grants `posts:write` (`admin`, `editor`) may.
async fn publish(user: HasPermission<User, perm::PostsWrite>) -> Json<Value> {
    Json(json!({ "published_by": user.core.id }))
}

/// Returns the statistics, to the `admin` role only, as read from the database.
async fn stats(user: HasRole<User, role::Admin>) -> Json<Value> {
    Json(json!({ "requested_by": user.core.id, "roles": user.core.roles }))
}

/// Returns the statistics to a caller whose access token lists the `admin` role, without
/// reading the database.
async fn stats_from_claims(claims: HasRoleClaim<User, role::Admin>) -> Json<Value> {
    Json(json!({ "requested_by": claims.sub, "roles": claims.roles }))
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
        .connect_with(options.create_if_missing(true))
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("opening the database: {e}")));

    // Roles in the tokens are what `HasRoleClaim` checks.
    let config = settings.auth.roles_in_tokens(true);
    let auth = Auth::with_pool(pool, config).unwrap_or_else(|e| example_support::exit_with(&e));
    // `migrate` creates the declared roles and grants; `bootstrap_admin` gives the
    // `FASTAUTH_ADMIN_EMAIL` account the `admin` role if it exists.
    auth.migrate()
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("migrating: {e}")));
    auth.bootstrap_admin()
        .await
        .unwrap_or_else(|e| example_support::exit_with(&format!("creating the admin role: {e}")));

    let app = Router::new()
        .route("/api/posts", get(posts).post(publish))
        .route("/api/stats", get(stats))
        .route("/api/stats/claims", get(stats_from_claims))
        .merge(auth.router())
        .fallback(fastauth::http::error::not_found)
        .layer(auth.layer());

    if let Err(error) = example_support::serve(app, settings.bind).await {
        example_support::exit_with(&format!("serving on {}: {error}", settings.bind));
    }
}
