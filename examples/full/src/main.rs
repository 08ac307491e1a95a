//! The reference server: every capability this version of fastauth has, configured only
//! from environment variables, for black-box clients to test against.
//!
//! `DATABASE_URL` picks the database at start-up: `sqlite://...` (the default,
//! `sqlite://fastauth.db`, created when missing), `sqlite::memory:`, `postgres://...` or
//! `mysql://...` (MySQL or MariaDB). Each has its own `fastauth!` declaration below, because
//! a declaration fixes its database at compile time.
//!
//! At start-up it creates the role `admin` when it is missing. When `FASTAUTH_ADMIN_EMAIL`
//! names an existing account, that account gets the role at start-up, else at registration.
//!
//! Google and GitHub sign-in are each on when their client id and secret are set
//! (`GOOGLE_CLIENT_ID`, `GITHUB_CLIENT_ID`, ...), as in the OAuth example.
//!
//! `FASTAUTH_AUDIT_TABLE=true` also writes every security event to the table
//! `fastauth_audit_events` of the same database.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use example_support::{Settings, exit_with};
use fastauth::store::{MySql, Postgres, SqlAuditSink, Sqlite};
use serde_json::json;

/// FastAuth's user, with no fields of the application's own: the attribute adds the
/// standard ones.
#[fastauth::user]
pub struct User {}

mod sqlite {
    use super::User;
    fastauth::fastauth! { user: User, database: Sqlite, providers: [Credentials, MagicLink, Google, GitHub], name: SqliteAuth }
}

mod postgres {
    use super::User;
    fastauth::fastauth! { user: User, database: Postgres, providers: [Credentials, MagicLink, Google, GitHub], name: PgAuth }
}

mod mysql {
    use super::User;
    fastauth::fastauth! { user: User, database: MySql, providers: [Credentials, MagicLink, Google, GitHub], name: MySqlAuth }
}

type HealthCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Serves `GET /healthz`: 200 once the database responds to a query.
async fn healthz(check: HealthCheck) -> (StatusCode, Json<serde_json::Value>) {
    if check().await {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        let body = json!({ "status": "unavailable" });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}

fn app<L>(auth_router: Router, layer: axum::Extension<L>, check: HealthCheck) -> Router
where
    L: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/healthz", get(move || healthz(Arc::clone(&check))))
        .merge(auth_router)
        .fallback(fastauth::http::error::not_found)
        .layer(axum::middleware::map_response(
            fastauth::http::error::json_for_empty_errors,
        ))
        .layer(layer)
}

async fn build(settings: Settings) -> Router {
    let url = settings.database_url.clone();
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! { exit_with(&format!("{what}: {e}")) };
    let audit = example_support::boolean("FASTAUTH_AUDIT_TABLE", false)
        .unwrap_or_else(|e| fail("FASTAUTH_AUDIT_TABLE", &e));
    if url.starts_with("sqlite:") {
        let options: sqlx::sqlite::SqliteConnectOptions =
            url.parse().unwrap_or_else(|e| fail("DATABASE_URL", &e));
        // Each connection to `sqlite::memory:` opens a database of its own, so an in-memory
        // database gets one connection that is never closed.
        let in_memory = url.contains(":memory:");
        let pool_options = if in_memory {
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            sqlx::sqlite::SqlitePoolOptions::new()
        };
        let pool = pool_options
            // WAL (sqlx's default) with NORMAL sync, as in the basic example.
            .connect_with(
                options
                    .create_if_missing(true)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal),
            )
            .await
            .unwrap_or_else(|e| fail("opening the database", &e));
        let mut auth = sqlite::SqliteAuth::with_pool(pool.clone(), settings.auth)
            .unwrap_or_else(|e| fail("configuring auth", &e));
        if audit {
            auth = auth.with_security_sink(SqlAuditSink::<Sqlite>::new(pool.clone()));
        }
        auth.migrate()
            .await
            .unwrap_or_else(|e| fail("migrating", &e));
        auth.bootstrap_admin()
            .await
            .unwrap_or_else(|e| fail("creating the admin role", &e));
        let check: HealthCheck = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move { sqlx::query("SELECT 1").execute(&pool).await.is_ok() })
        });
        app(auth.router(), auth.layer(), check)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect(&url)
            .await
            .unwrap_or_else(|e| fail("connecting to PostgreSQL", &e));
        let mut auth = postgres::PgAuth::with_pool(pool.clone(), settings.auth)
            .unwrap_or_else(|e| fail("configuring auth", &e));
        if audit {
            auth = auth.with_security_sink(SqlAuditSink::<Postgres>::new(pool.clone()));
        }
        auth.migrate()
            .await
            .unwrap_or_else(|e| fail("migrating", &e));
        auth.bootstrap_admin()
            .await
            .unwrap_or_else(|e| fail("creating the admin role", &e));
        let check: HealthCheck = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move { sqlx::query("SELECT 1").execute(&pool).await.is_ok() })
        });
        app(auth.router(), auth.layer(), check)
    } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
        let url = url.replacen("mariadb:", "mysql:", 1);
        let pool = sqlx::mysql::MySqlPoolOptions::new()
            .connect(&url)
            .await
            .unwrap_or_else(|e| fail("connecting to MySQL", &e));
        let mut auth = mysql::MySqlAuth::with_pool(pool.clone(), settings.auth)
            .unwrap_or_else(|e| fail("configuring auth", &e));
        if audit {
            auth = auth.with_security_sink(SqlAuditSink::<MySql>::new(pool.clone()));
        }
        auth.migrate()
            .await
            .unwrap_or_else(|e| fail("migrating", &e));
        auth.bootstrap_admin()
            .await
            .unwrap_or_else(|e| fail("creating the admin role", &e));
        let check: HealthCheck = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move { sqlx::query("SELECT 1").execute(&pool).await.is_ok() })
        });
        app(auth.router(), auth.layer(), check)
    } else {
        exit_with(&format!(
            "invalid DATABASE_URL={url:?}: expected sqlite://..., sqlite::memory:, \
             postgres://... or mysql://..."
        ))
    }
}

#[tokio::main]
async fn main() {
    example_support::init_tracing();
    let (mut settings, oauth) = Settings::load_with_oauth()
        .await
        .unwrap_or_else(|e| exit_with(&e));
    oauth.log_providers();
    settings.auth = oauth.apply(settings.auth);
    let bind = settings.bind;
    let router = build(settings).await;
    if let Err(error) = example_support::serve(router, bind).await {
        exit_with(&format!("serving on {bind}: {error}"));
    }
}
