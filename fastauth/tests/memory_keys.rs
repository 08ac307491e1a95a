//! Generated signing keys on the in-memory store, which keeps them like the SQL stores do,
//! so services sharing one `MemoryStore` share their keys.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fastauth::prelude::*;
use fastauth::store::MemoryStore;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

#[derive(AuthUser, Clone, Debug)]
pub struct Member {
    #[auth(id)]
    pub id: String,
    #[auth(email)]
    pub email: String,
    #[auth(password_hash)]
    pub password_hash: Option<String>,
}

type MemberAuth = fastauth::Auth<Member, MemoryStore<Member>, { fastauth::provider::CREDENTIALS }>;

fn config() -> AuthConfig {
    let cheap = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..PasswordConfig::default()
    };
    AuthConfig::new(Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-memory").unwrap())
        .password(cheap)
        .algorithm(JwtAlgorithm::EdDSA)
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn jwks_kids(app: &axum::Router) -> Vec<String> {
    let request = Request::get("/.well-known/jwks.json")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn register(app: &axum::Router, email: &str) -> String {
    let body = json!({ "email": email, "password": "long enough" });
    let request = Request::post("/auth/register")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, body) = send(app, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn me_status(app: &axum::Router, access: &str) -> StatusCode {
    let request = Request::get("/auth/me")
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await.0
}

#[tokio::test]
async fn memory_store_keeps_keys() {
    let store = MemoryStore::<Member>::new();
    let first = MemberAuth::new(store.clone(), config()).unwrap();
    first.migrate().await.unwrap();
    let second = MemberAuth::new(store.clone(), config()).unwrap();
    second.migrate().await.unwrap();
    let (first_app, second_app) = (first.router(), second.router());
    let kids = jwks_kids(&first_app).await;
    assert_eq!(kids.len(), 1);
    assert_eq!(
        jwks_kids(&second_app).await,
        kids,
        "one key for both services"
    );

    let access = register(&first_app, "shared@example.com").await;
    assert_eq!(me_status(&second_app, &access).await, StatusCode::OK);
}

#[tokio::test]
async fn memory_store_rotation_grace() {
    let store = MemoryStore::<Member>::new();
    let config = config().key_grace_period(Duration::from_secs(1));
    let auth = MemberAuth::new(store, config).unwrap();
    auth.migrate().await.unwrap();
    let app = auth.router();
    let old_kid = jwks_kids(&app).await.remove(0);
    let old_access = register(&app, "rotate@example.com").await;

    let new_kid = auth.rotate_signing_key().await.unwrap();
    assert_eq!(jwks_kids(&app).await, vec![new_kid.clone(), old_kid]);
    assert_eq!(me_status(&app, &old_access).await, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    auth.reload_signing_keys().await.unwrap();
    assert_eq!(jwks_kids(&app).await, vec![new_kid]);
    assert_eq!(me_status(&app, &old_access).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn configured_key_is_not_rotated() {
    let created = time::OffsetDateTime::now_utc();
    let (key, pem) = fastauth::core::keys::SigningKey::generate(JwtAlgorithm::EdDSA, created)
        .expect("generation");
    let auth = MemberAuth::new(MemoryStore::new(), config().private_key_pem(pem)).unwrap();
    auth.migrate().await.unwrap();
    assert_eq!(jwks_kids(&auth.router()).await, vec![key.kid().to_owned()]);
    let error = auth.rotate_signing_key().await.unwrap_err();
    assert!(
        matches!(error, fastauth::KeyRotationError::NotRotatable),
        "{error}"
    );
}

#[test]
fn conflicting_key_settings_rejected() {
    let hmac_with_key = config()
        .algorithm(JwtAlgorithm::HS256)
        .private_key_pem("-----BEGIN PRIVATE KEY-----");
    let error = MemberAuth::new(MemoryStore::new(), hmac_with_key).unwrap_err();
    assert!(error.to_string().contains("private_key_pem"), "{error}");

    let hmac_rotation = config()
        .algorithm(JwtAlgorithm::HS256)
        .key_rotation_interval(Duration::from_secs(3600));
    let error = MemberAuth::new(MemoryStore::new(), hmac_rotation).unwrap_err();
    assert!(
        error.to_string().contains("key_rotation_interval"),
        "{error}"
    );

    let too_often = config().key_rotation_interval(Duration::from_secs(5));
    let error = MemberAuth::new(MemoryStore::new(), too_often).unwrap_err();
    assert!(
        error.to_string().contains("key_rotation_interval"),
        "{error}"
    );
}

#[test]
fn default_grace_covers_longest_token() {
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(
        config().effective_key_grace_period(),
        None,
        "no interval: keys are kept"
    );
    let daily = config().key_rotation_interval(day);
    assert_eq!(
        daily.effective_key_grace_period(),
        Some(Duration::from_secs(7_776_000)),
        "the remember-me lifetime (90 days) outlasts twice a day"
    );
    let yearly = config().key_rotation_interval(365 * day);
    assert_eq!(yearly.effective_key_grace_period(), Some(730 * day));
    let explicit = config()
        .key_rotation_interval(day)
        .key_grace_period(Duration::from_secs(60));
    assert_eq!(
        explicit.effective_key_grace_period(),
        Some(Duration::from_secs(60))
    );
}
