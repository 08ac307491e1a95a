//! fastauth and Python FastAuth share one SQLite database: an account registered by either
//! signs in through the other with the same password, and FastAuth's tokens work here.
//!
//! Python FastAuth (PyPI `sreekarnv-fastauth`, pinned in `scripts/requirements-reference.txt`)
//! runs from the virtual environment `.venv/reference` that `.ci/run` creates, or from the
//! interpreter named by `FASTAUTH_REFERENCE_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fastauth::prelude::*;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tower::ServiceExt as _;

const SECRET: &str = "k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-compat";
const PASSWORD: &str = "correct horse battery";

/// An application struct with one domain column FastAuth's table lacks, so that migrating
/// the shared database adds it.
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
    #[auth(created_at)]
    pub created_at: time::OffsetDateTime,
    pub credits: i64,
}

fastauth! { user: User, database: Sqlite, providers: [Credentials] }

fn reference_python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FASTAUTH_REFERENCE_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/reference/bin/python");
    venv.exists().then_some(venv)
}

fn run_reference(python: &Path, command: &str, db: &Path, email: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fastauth_reference.py");
    let output = Command::new(python)
        .arg(script)
        .args([command, &db.display().to_string(), SECRET, email, PASSWORD])
        .output()
        .expect("the reference Python interpreter did not start");
    assert!(
        output.status.success(),
        "fastauth_reference.py {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("fastauth_reference.py printed no JSON")
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn open(db: &Path) -> (Auth, axum::Router) {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let auth = Auth::with_pool(pool, AuthConfig::new(Secret::new(SECRET).unwrap())).unwrap();
    auth.migrate().await.unwrap();
    let router = auth.router().layer(auth.layer());
    (auth, router)
}

#[tokio::test]
async fn shared_sqlite_database_works_both_ways() {
    let Some(python) = reference_python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test: create .venv/reference with scripts/requirements-reference.txt"
        );
        eprintln!("skipped: no reference Python; run .ci/run or set FASTAUTH_REFERENCE_PYTHON");
        return;
    };
    let dir = std::env::temp_dir().join(format!("fastauth-compat-{}", cuid2::create_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.db");

    // 1. Python FastAuth creates the tables and registers a user (argon2-cffi parameters).
    let registered = run_reference(&python, "register", &db, "Ada@Example.com");
    assert_eq!(registered["status"], 201, "{registered}");
    let python_access = registered["body"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let python_refresh = registered["body"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // 2. fastauth migrates the same file: the tables stay, the domain column is added.
    let (_auth, app) = open(&db).await;

    // 3. FastAuth's access token (no `sid`, `iss`/`aud` null) authenticates here.
    let (status, me) = call(&app, "GET", "/auth/me", Some(&python_access), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["name"], "Ada");
    let python_user_id = me["id"].as_str().unwrap().to_owned();

    // 4. FastAuth's refresh token, recorded in its allowlist, rotates here.
    let body = json!({ "refresh_token": python_refresh });
    let (status, pair) = call(&app, "POST", "/auth/refresh", None, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let (status, reused) = call(&app, "POST", "/auth/refresh", None, body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused["detail"], "Refresh token has already been used");

    // 5. The password FastAuth hashed verifies here, through the address in another case.
    let login = json!({ "email": "ADA@example.com", "password": PASSWORD });
    let (status, pair) = call(&app, "POST", "/auth/login", None, login).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let access = pair["access_token"].as_str().unwrap();
    let (_, me) = call(&app, "GET", "/auth/me", Some(access), Value::Null).await;
    assert_eq!(me["id"], python_user_id.as_str());

    // 6. That login rehashed the password at fastauth's parameters; FastAuth still verifies
    //    it and reads the row fastauth updated.
    let again = run_reference(&python, "login", &db, "ada@example.com");
    assert_eq!(again["status"], 200, "{again}");
    assert_eq!(again["me"]["body"]["id"], python_user_id.as_str());

    // 7. A user registered by fastauth signs in through FastAuth.
    let register = json!({ "email": "grace@example.com", "password": PASSWORD, "name": "Grace" });
    let (status, _) = call(&app, "POST", "/auth/register", None, register).await;
    assert_eq!(status, StatusCode::CREATED);
    let from_rust = run_reference(&python, "login", &db, "grace@example.com");
    assert_eq!(from_rust["status"], 200, "{from_rust}");
    assert_eq!(from_rust["me"]["body"]["name"], "Grace");
    assert_eq!(from_rust["me"]["body"]["is_active"], true);

    std::fs::remove_dir_all(&dir).ok();
}
