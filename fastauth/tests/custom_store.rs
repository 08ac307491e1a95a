//! An application's own store: the store traits implemented outside the crate, here by a
//! wrapper around the in-memory store that counts reads. It also shows that an
//! authenticated request costs exactly one read and that the claims-only extractor costs
//! none.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use fastauth::prelude::*;
use fastauth::store::{
    MemoryStore, OneTimeKind, OneTimeToken, RoleRecord, RoleStore, SessionRecord, SessionStore,
    Store, StoreError, TokenStore, UserRecord, UserStore,
};
use fastauth::user::NewUser;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt as _;

#[derive(AuthUser, Clone, Debug)]
pub struct Member {
    #[auth(id)]
    pub id: String,
    #[auth(email)]
    pub email: String,
    #[auth(password_hash)]
    pub password_hash: Option<String>,
    pub nickname: String,
}

/// Delegates to [`MemoryStore`] and counts every user read.
#[derive(Clone, Default)]
struct CountingStore {
    inner: MemoryStore<Member>,
    reads: Arc<AtomicUsize>,
    /// Whether the store reports that it keeps roles; off plays a store without roles.
    without_roles: bool,
}

impl std::fmt::Debug for CountingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountingStore")
    }
}

impl UserStore<Member> for CountingStore {
    async fn find_user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserRecord<Member>>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.find_user_by_email(email).await
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord<Member>>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.find_user_by_id(id).await
    }

    async fn find_user_in_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserRecord<Member>>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner
            .find_user_in_session(user_id, session_id, now)
            .await
    }

    async fn create_user(&self, user: &Member, standard: &NewUser) -> Result<(), StoreError> {
        self.inner.create_user(user, standard).await
    }

    async fn update_password_hash(&self, user_id: &str, hash: &str) -> Result<(), StoreError> {
        self.inner.update_password_hash(user_id, hash).await
    }

    async fn clear_password_hash(&self, user_id: &str) -> Result<(), StoreError> {
        self.inner.clear_password_hash(user_id).await
    }

    async fn set_email_verified(&self, user_id: &str, verified: bool) -> Result<(), StoreError> {
        self.inner.set_email_verified(user_id, verified).await
    }

    async fn update_email(&self, user_id: &str, email: &str) -> Result<(), StoreError> {
        self.inner.update_email(user_id, email).await
    }

    async fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        image: Option<&str>,
    ) -> Result<(), StoreError> {
        self.inner.update_profile(user_id, name, image).await
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        self.inner.delete_user(user_id).await
    }
}

impl SessionStore for CountingStore {
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.inner.create_session(session).await
    }

    async fn extend_session(
        &self,
        user_id: &str,
        session_id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner
            .extend_session(user_id, session_id, expires_at, now)
            .await
    }

    async fn delete_session(&self, user_id: &str, session_id: &str) -> Result<bool, StoreError> {
        self.inner.delete_session(user_id, session_id).await
    }

    async fn list_sessions(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list_sessions(user_id, now).await
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        self.inner.delete_user_sessions(user_id).await
    }
}

impl TokenStore for CountingStore {
    async fn create_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        token: &OneTimeToken,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner
            .create_one_time_token(token_hash, kind, token, expires_at)
            .await
    }

    async fn consume_one_time_token(
        &self,
        token_hash: &str,
        kind: OneTimeKind,
        now: OffsetDateTime,
    ) -> Result<Option<OneTimeToken>, StoreError> {
        self.inner
            .consume_one_time_token(token_hash, kind, now)
            .await
    }

    async fn create_pending_magic_link(
        &self,
        token_hash: &str,
        email: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner
            .create_pending_magic_link(token_hash, email, expires_at)
            .await
    }

    async fn consume_pending_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        self.inner.consume_pending_magic_link(token_hash, now).await
    }

    async fn delete_one_time_tokens(
        &self,
        user_id: &str,
        kind: OneTimeKind,
    ) -> Result<u64, StoreError> {
        self.inner.delete_one_time_tokens(user_id, kind).await
    }

    async fn record_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        session_id: Option<&str>,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner
            .record_refresh_token(jti, user_id, session_id, expires_at)
            .await
    }

    async fn consume_refresh_token(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner.consume_refresh_token(jti, user_id, now).await
    }

    async fn is_refresh_token_recorded(
        &self,
        jti: &str,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner
            .is_refresh_token_recorded(jti, user_id, now)
            .await
    }

    async fn revoke_session_refresh_tokens(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<u64, StoreError> {
        self.inner
            .revoke_session_refresh_tokens(user_id, session_id)
            .await
    }

    async fn revoke_user_refresh_tokens(&self, user_id: &str) -> Result<u64, StoreError> {
        self.inner.revoke_user_refresh_tokens(user_id).await
    }
}

impl RoleStore for CountingStore {
    fn supports_roles(&self) -> bool {
        !self.without_roles
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        self.inner.list_roles().await
    }

    async fn find_role(&self, name: &str) -> Result<Option<RoleRecord>, StoreError> {
        self.inner.find_role(name).await
    }

    async fn create_role(&self, name: &str, permissions: &[String]) -> Result<bool, StoreError> {
        self.inner.create_role(name, permissions).await
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.delete_role(name).await
    }

    async fn add_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        self.inner.add_permissions(role, permissions).await
    }

    async fn remove_permissions(
        &self,
        role: &str,
        permissions: &[String],
    ) -> Result<bool, StoreError> {
        self.inner.remove_permissions(role, permissions).await
    }

    async fn assign_role(&self, user_id: &str, role: &str) -> Result<(), StoreError> {
        self.inner.assign_role(user_id, role).await
    }

    async fn revoke_role(&self, user_id: &str, role: &str) -> Result<bool, StoreError> {
        self.inner.revoke_role(user_id, role).await
    }

    async fn user_roles(&self, user_id: &str) -> Result<(Vec<String>, Vec<String>), StoreError> {
        self.inner.user_roles(user_id).await
    }
}

impl fastauth::store::KeyStore for CountingStore {}

// No OAuth accounts, so the OAuth routes return `oauth_adapter is not configured`.
impl fastauth::store::OAuthStore for CountingStore {}

impl Store<Member> for CountingStore {}

/// A role marker written by hand, as `fastauth!` generates them.
struct Moderator;

impl fastauth::core::rbac::RoleMarker for Moderator {
    const NAME: &'static str = "moderator";
}

async fn moderate(member: HasRole<Member, Moderator>) -> String {
    member.core.id.clone()
}

type MemberAuth = fastauth::Auth<Member, CountingStore, { fastauth::provider::CREDENTIALS }>;

async fn nickname(member: CurrentUser<Member>) -> String {
    member.nickname.clone()
}

async fn subject(claims: AccessClaims<Member>) -> String {
    claims.sub.clone()
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

#[tokio::test]
async fn custom_store_and_read_count() {
    let store = CountingStore::default();
    let reads = Arc::clone(&store.reads);
    let cheap = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..PasswordConfig::default()
    };
    let config = AuthConfig::new(Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-custom").unwrap())
        .password(cheap);
    let auth = MemberAuth::new(store, config).unwrap();
    let app = axum::Router::new()
        .route("/nickname", get(nickname))
        .route("/subject", get(subject))
        .route("/moderate", get(moderate))
        .merge(auth.router())
        .layer(auth.layer());

    let register = json!({ "email": "m@example.com", "password": "long enough" });
    let (status, body) = send(&app, "POST", "/auth/register", None, Some(register)).await;
    assert_eq!(status, StatusCode::CREATED);
    let pair: Value = serde_json::from_slice(&body).unwrap();
    let access = pair["access_token"].as_str().unwrap();

    let before = reads.load(Ordering::SeqCst);
    let (status, body) = send(&app, "GET", "/nickname", Some(access), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body, b"",
        "a domain field without a register flag starts at its Default"
    );
    assert_eq!(
        reads.load(Ordering::SeqCst) - before,
        1,
        "one read per authenticated request"
    );

    let before = reads.load(Ordering::SeqCst);
    let (status, body) = send(&app, "GET", "/auth/me", Some(access), None).await;
    assert_eq!(status, StatusCode::OK);
    let me: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(me["email"], "m@example.com");
    assert_eq!(reads.load(Ordering::SeqCst) - before, 1);

    let before = reads.load(Ordering::SeqCst);
    let (status, body) = send(&app, "GET", "/subject", Some(access), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, me["id"].as_str().unwrap().as_bytes());
    assert_eq!(
        reads.load(Ordering::SeqCst),
        before,
        "the claims-only extractor reads nothing"
    );

    let before = reads.load(Ordering::SeqCst);
    let (status, _) = send(&app, "GET", "/moderate", Some(access), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        reads.load(Ordering::SeqCst) - before,
        1,
        "a refused guard reads once"
    );

    let user_id = me["id"].as_str().unwrap();
    auth.create_role("moderator", &[], None).await.unwrap();
    auth.assign_role(user_id, "moderator", None).await.unwrap();
    let before = reads.load(Ordering::SeqCst);
    let (status, body) = send(&app, "GET", "/moderate", Some(access), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a role assigned after sign-in applies at once"
    );
    assert_eq!(body, user_id.as_bytes());
    assert_eq!(
        reads.load(Ordering::SeqCst) - before,
        1,
        "a guarded route costs one read"
    );
}

#[tokio::test]
async fn store_without_roles_reports_rbac_off() {
    let store = CountingStore {
        without_roles: true,
        ..CountingStore::default()
    };
    let cheap = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..PasswordConfig::default()
    };
    let config = AuthConfig::new(Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-custom").unwrap())
        .password(cheap);
    let auth = MemberAuth::new(store, config).unwrap();
    let app = axum::Router::new()
        .route("/moderate", get(moderate))
        .merge(auth.router())
        .layer(auth.layer());
    let register = json!({ "email": "m@example.com", "password": "long enough" });
    let (_, body) = send(&app, "POST", "/auth/register", None, Some(register)).await;
    let pair: Value = serde_json::from_slice(&body).unwrap();
    let access = pair["access_token"].as_str().unwrap();
    let not_configured = json!({ "detail": "RBAC is not configured" });

    let (status, body) = send(&app, "GET", "/auth/roles", Some(access), None).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "admin routes answer 500"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        not_configured
    );

    let (status, body) = send(&app, "GET", "/auth/roles/me", Some(access), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "/roles/me answers 400");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        not_configured
    );

    let (status, body) = send(&app, "GET", "/moderate", Some(access), None).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a guard answers 500"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        not_configured
    );

    let (status, _) = send(&app, "GET", "/auth/roles", None, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "authentication runs first"
    );
}

/// The same store behind a declaration with GitHub sign-in.
type GitHubMemberAuth = fastauth::Auth<
    Member,
    CountingStore,
    { fastauth::provider::CREDENTIALS | fastauth::provider::GITHUB },
>;

#[tokio::test]
async fn store_without_oauth_reports_it() {
    let cheap = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..PasswordConfig::default()
    };
    let github = fastauth::oauth::GitHubConfig::new("client-id", "client-secret")
        .auth_url("http://127.0.0.1:9/login/oauth/authorize")
        .token_url("http://127.0.0.1:9/login/oauth/access_token")
        .api_url("http://127.0.0.1:9/api");
    let config = AuthConfig::new(Secret::new("k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-custom").unwrap())
        .password(cheap)
        .github(github);
    let auth = GitHubMemberAuth::new(CountingStore::default(), config).unwrap();
    auth.migrate().await.unwrap();
    let app = auth.router();
    let register = json!({ "email": "m@example.com", "password": "long enough" });
    let (_, body) = send(&app, "POST", "/auth/register", None, Some(register)).await;
    let pair: Value = serde_json::from_slice(&body).unwrap();
    let access = pair["access_token"].as_str().unwrap();
    let not_configured = json!({ "detail": "oauth_adapter is not configured" });

    for (method, uri, token) in [
        ("GET", "/auth/oauth/accounts", Some(access)),
        ("DELETE", "/auth/oauth/accounts/github", Some(access)),
        (
            "GET",
            "/auth/oauth/github/link?redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fauth%2Foauth%2Fgithub%2Flink%2Fcallback",
            Some(access),
        ),
        ("GET", "/auth/oauth/github/callback?code=c&state=s", None),
    ] {
        let (status, body) = send(&app, method, uri, token, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            not_configured,
            "{method} {uri}"
        );
    }
}
