//! The reference server: a bare axum handler for `GET /auth/me` that verifies the same
//! HS256 JWT and runs the same session-and-user read as fastauth, and nothing else.
//!
//! It sets the bar fastauth's `/auth/me` is measured against: what any hand-written
//! handler on the same crates must pay at least.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use time::OffsetDateTime;
use time::macros::format_description;

/// The join fastauth runs for a token with a session id, with the columns of the basic
/// example's user struct.
const USER_IN_SESSION: &str = "SELECT u.id, u.email, u.name, u.image, u.hashed_password, \
     u.email_verified, u.is_active, u.created_at, u.updated_at, u.company, u.credits \
     FROM fastauth_sessions s JOIN fastauth_users u ON u.id = s.user_id \
     WHERE s.id = ? AND s.user_id = ? AND s.expires_at > ?";

/// The claims the handler needs; the rest of the token is ignored.
#[derive(Debug, Deserialize)]
struct AccessClaims {
    sub: String,
    sid: String,
    #[serde(rename = "type")]
    token_type: String,
}

struct AppState {
    pool: SqlitePool,
    key: DecodingKey,
    validation: Validation,
}

/// Serves the reference handler until the process is killed, printing
/// `fastauth-bench bare server listening on http://...` once bound.
pub(crate) async fn serve() -> Result<(), String> {
    let secret = env("FASTAUTH_SECRET")?;
    let database_url = env("DATABASE_URL")?;
    let bind: SocketAddr = env("FASTAUTH_BIND")?
        .parse()
        .map_err(|e| format!("invalid FASTAUTH_BIND: {e}"))?;

    let options: SqliteConnectOptions = database_url
        .parse()
        .map_err(|e| format!("invalid DATABASE_URL: {e}"))?;
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .map_err(|e| format!("opening {database_url} failed: {e}"))?;

    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let key = DecodingKey::from_secret(secret.as_bytes())
        .map_err(|e| format!("invalid FASTAUTH_SECRET: {e}"))?;
    let state = Arc::new(AppState {
        pool,
        key,
        validation,
    });

    let app = Router::new().route("/auth/me", get(me)).with_state(state);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("binding {bind} failed: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("reading the bound address failed: {e}"))?;
    announce(local)?;
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .await
        .map_err(|e| format!("serving on {local} failed: {e}"))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn announce(local: SocketAddr) -> Result<(), String> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "fastauth-bench bare server listening on http://{local}"
    )
    .and_then(|()| stdout.flush())
    .map_err(|e| format!("writing to stdout failed: {e}"))
}

async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let claims = match jsonwebtoken::decode::<AccessClaims>(token, &state.key, &state.validation) {
        Ok(data) if data.claims.token_type == "access" => data.claims,
        _ => return StatusCode::UNAUTHORIZED.into_response(),
    };

    let row = sqlx::query(USER_IN_SESSION)
        .bind(&claims.sid)
        .bind(&claims.sub)
        .bind(sqlite_now())
        .fetch_optional(&state.pool)
        .await;
    match row {
        Ok(Some(row)) => user_json(&row).map_or_else(
            |_| StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            IntoResponse::into_response,
        ),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Decodes every selected column, as fastauth does, and builds `/auth/me`'s body.
fn user_json(row: &sqlx::sqlite::SqliteRow) -> Result<Json<serde_json::Value>, sqlx::Error> {
    let id: String = row.try_get(0)?;
    let email: String = row.try_get(1)?;
    let name: Option<String> = row.try_get(2)?;
    let image: Option<String> = row.try_get(3)?;
    let _password_hash: Option<String> = row.try_get(4)?;
    let email_verified: bool = row.try_get(5)?;
    let is_active: bool = row.try_get(6)?;
    let _created_at: OffsetDateTime = row.try_get(7)?;
    let _updated_at: OffsetDateTime = row.try_get(8)?;
    let _company: Option<String> = row.try_get(9)?;
    let _credits: i64 = row.try_get(10)?;
    if !is_active {
        return Err(sqlx::Error::RowNotFound);
    }
    Ok(Json(json!({
        "id": id,
        "email": email,
        "name": name,
        "image": image,
        "email_verified": email_verified,
        "is_active": is_active,
    })))
}

/// Formats the current UTC time in the text form fastauth stores in SQLite, which sorts in time
/// order: `2024-01-31 12:00:00.123456`.
fn sqlite_now() -> String {
    let format =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
    OffsetDateTime::now_utc().format(format).unwrap_or_default()
}
