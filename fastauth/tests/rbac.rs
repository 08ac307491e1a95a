//! Roles and permissions over HTTP, on SQLite, PostgreSQL and MariaDB: every `/auth/roles`
//! route, the typed guards and the claims-only guards, and the first administrator.
//!
//! Each test gets its own database: a temporary SQLite file, a PostgreSQL schema or a
//! MariaDB database, dropped at the end. The servers are those of `scripts/test.sh`:
//! `FASTAUTH_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `FASTAUTH_TEST_MYSQL` (default `mysql://root@127.0.0.1:3306/test`). A server that does
//! not respond fails the tests that need it.

use std::str::FromStr as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use fastauth::prelude::*;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const SECRET: &str = "k3J9s8d7f6g5h4j3k2l1z0x9c8v7b6n5m4-rbac";
const PASSWORD: &str = "long enough";
const ADMIN_EMAIL: &str = "admin@example.com";

#[fastauth::user]
pub struct User {}

/// The roles every database's declaration has. `fastauth!` fixes the database, so each one
/// gets a module; the guards below name the SQLite module's markers, which carry the same
/// names as the others'.
macro_rules! declare {
    ($module:ident, $database:ident) => {
        mod $module {
            use super::User;
            fastauth::fastauth! {
                user: User,
                database: $database,
                providers: [Credentials],
                roles: [Admin, Editor, Viewer],
                permissions: {
                    Admin: [UsersRead, PostsWrite = "posts:write"],
                    Editor: [PostsWrite = "posts:write"],
                },
            }
        }
    };
}

declare!(sqlite, Sqlite);
declare!(postgres, Postgres);
declare!(mysql, MySql);

use sqlite::{perm, role};

async fn edit(user: HasRole<User, role::Editor>) -> String {
    user.core.id.clone()
}

async fn publish(user: HasPermission<User, perm::PostsWrite>) -> String {
    user.core.id.clone()
}

async fn edit_from_claims(claims: HasRoleClaim<User, role::Editor>) -> String {
    claims.sub.clone()
}

async fn publish_from_claims(claims: HasPermissionClaim<User, perm::PostsWrite>) -> String {
    claims.sub.clone()
}

/// A check on a role created at run time, which has no marker type.
async fn moderate(user: CurrentUser<User>) -> StatusCode {
    if user.has_role("moderator") {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    }
}

#[derive(Clone, Copy, Debug)]
enum Db {
    Sqlite,
    Postgres,
    MySql,
}

/// The service of one database, behind one type.
enum AnyAuth {
    Sqlite(sqlite::Auth),
    Postgres(postgres::Auth),
    MySql(mysql::Auth),
}

impl AnyAuth {
    async fn migrate(&self) {
        match self {
            AnyAuth::Sqlite(auth) => auth.migrate().await,
            AnyAuth::Postgres(auth) => auth.migrate().await,
            AnyAuth::MySql(auth) => auth.migrate().await,
        }
        .expect("migrate failed");
    }

    async fn bootstrap_admin(&self) {
        match self {
            AnyAuth::Sqlite(auth) => auth.bootstrap_admin().await,
            AnyAuth::Postgres(auth) => auth.bootstrap_admin().await,
            AnyAuth::MySql(auth) => auth.bootstrap_admin().await,
        }
        .expect("bootstrap_admin failed");
    }

    async fn grant_role_by_email(&self, email: &str, role: &str) -> bool {
        match self {
            AnyAuth::Sqlite(auth) => auth.grant_role_by_email(email, role).await,
            AnyAuth::Postgres(auth) => auth.grant_role_by_email(email, role).await,
            AnyAuth::MySql(auth) => auth.grant_role_by_email(email, role).await,
        }
        .expect("grant_role_by_email failed")
    }

    fn router(&self) -> axum::Router {
        let (router, layer) = match self {
            AnyAuth::Sqlite(auth) => (auth.router(), auth.layer()),
            AnyAuth::Postgres(auth) => (auth.router(), auth.layer()),
            AnyAuth::MySql(auth) => (auth.router(), auth.layer()),
        };
        axum::Router::new()
            .route("/edit", get(edit))
            .route("/publish", get(publish))
            .route("/claims/edit", get(edit_from_claims))
            .route("/claims/publish", get(publish_from_claims))
            .route("/moderate", get(moderate))
            .merge(router)
            .layer(layer)
    }
}

/// What a test removes when it ends: the SQLite file, the PostgreSQL schema or the MariaDB
/// database.
enum Cleanup {
    File(std::path::PathBuf),
    Schema(sqlx::PgPool, String),
    Database(sqlx::MySqlPool, String),
}

struct TestApp {
    auth: AnyAuth,
    router: axum::Router,
    cleanup: Option<Cleanup>,
}

impl TestApp {
    async fn close(mut self) {
        match self.cleanup.take() {
            Some(Cleanup::File(path)) => {
                let _ = std::fs::remove_file(path);
            }
            Some(Cleanup::Schema(pool, schema)) => {
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
            Some(Cleanup::Database(pool, database)) => {
                let sql = format!("DROP DATABASE IF EXISTS {database}");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
            None => {}
        }
    }

    async fn call(
        &self,
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
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    async fn get(&self, uri: &str, token: &str) -> (StatusCode, Value) {
        self.call("GET", uri, Some(token), Value::Null).await
    }

    async fn post(&self, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(token), body).await
    }

    async fn delete(&self, uri: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("DELETE", uri, Some(token), body).await
    }

    /// Registers `email` and returns its access token and user id.
    async fn register(&self, email: &str) -> (String, String) {
        let body = json!({ "email": email, "password": PASSWORD });
        let (status, pair) = self.call("POST", "/auth/register", None, body).await;
        assert_eq!(status, StatusCode::CREATED, "register {email}: {pair}");
        self.sign_in_result(pair).await
    }

    async fn login(&self, email: &str) -> String {
        let body = json!({ "email": email, "password": PASSWORD });
        let (status, pair) = self.call("POST", "/auth/login", None, body).await;
        assert_eq!(status, StatusCode::OK, "login {email}: {pair}");
        pair["access_token"].as_str().unwrap().to_owned()
    }

    async fn sign_in_result(&self, pair: Value) -> (String, String) {
        let token = pair["access_token"].as_str().unwrap().to_owned();
        let (status, me) = self.get("/auth/me", &token).await;
        assert_eq!(status, StatusCode::OK);
        (token, me["id"].as_str().unwrap().to_owned())
    }

    /// The administrator (the configured admin address) and an ordinary user.
    async fn admin_and_user(&self) -> (String, String, String) {
        let (admin, _) = self.register(ADMIN_EMAIL).await;
        let (user, user_id) = self.register("user@example.com").await;
        (admin, user, user_id)
    }
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

fn config() -> AuthConfig {
    let cheap = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        ..PasswordConfig::default()
    };
    AuthConfig::new(Secret::new(SECRET).unwrap())
        .password(cheap)
        .roles_in_tokens(true)
        .admin_email(ADMIN_EMAIL)
}

fn server_url(variable: &str, default: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

async fn open(db: Db) -> TestApp {
    let (auth, cleanup) = match db {
        Db::Sqlite => open_sqlite().await,
        Db::Postgres => open_postgres().await,
        Db::MySql => open_mysql().await,
    };
    auth.migrate().await;
    auth.bootstrap_admin().await;
    let router = auth.router();
    TestApp {
        auth,
        router,
        cleanup: Some(cleanup),
    }
}

async fn open_sqlite() -> (AnyAuth, Cleanup) {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("fastauth_rbac")));
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("opening a temporary SQLite file failed");
    let auth = sqlite::Auth::with_pool(pool, config()).unwrap();
    (AnyAuth::Sqlite(auth), Cleanup::File(path))
}

async fn open_postgres() -> (AnyAuth, Cleanup) {
    let url = server_url(
        "FASTAUTH_TEST_POSTGRES",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|error| {
        panic!("PostgreSQL at {url} (FASTAUTH_TEST_POSTGRES) is unreachable: {error}")
    });
    let schema = unique_name("rbac");
    let create = format!("CREATE SCHEMA {schema}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let auth = postgres::Auth::with_pool(pool, config()).unwrap();
    (AnyAuth::Postgres(auth), Cleanup::Schema(admin, schema))
}

async fn open_mysql() -> (AnyAuth, Cleanup) {
    let url = server_url("FASTAUTH_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test");
    let admin = sqlx::MySqlPool::connect(&url)
        .await
        .unwrap_or_else(|error| {
            panic!("MariaDB at {url} (FASTAUTH_TEST_MYSQL) is unreachable: {error}")
        });
    let database = unique_name("rbac");
    let create = format!("CREATE DATABASE {database}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&admin)
        .await
        .unwrap();
    let options = sqlx::mysql::MySqlConnectOptions::from_str(&url)
        .unwrap()
        .database(&database);
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let auth = mysql::Auth::with_pool(pool, config()).unwrap();
    (AnyAuth::MySql(auth), Cleanup::Database(admin, database))
}

fn detail(text: &str) -> Value {
    json!({ "detail": text })
}

fn message(text: &str) -> Value {
    json!({ "message": text })
}

/// Finds the role `name` in a `GET /auth/roles` response.
fn find_role<'a>(roles: &'a Value, name: &str) -> Option<&'a Value> {
    roles.as_array()?.iter().find(|role| role["name"] == name)
}

mod scenario {
    use super::*;

    pub(super) async fn list_roles_includes_declared(db: Db) {
        let app = open(db).await;
        let (admin, _, _) = app.admin_and_user().await;

        let (status, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(status, StatusCode::OK, "{roles}");
        let names: Vec<&str> = roles
            .as_array()
            .unwrap()
            .iter()
            .map(|role| role["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["admin", "editor", "viewer"], "sorted by name");
        assert_eq!(
            find_role(&roles, "admin").unwrap()["permissions"],
            json!(["posts:write", "users_read"]),
            "declared grants, sorted"
        );
        assert_eq!(
            find_role(&roles, "viewer").unwrap()["permissions"],
            json!([])
        );
        app.close().await;
    }

    pub(super) async fn non_admin_and_anonymous_refused(db: Db) {
        let app = open(db).await;
        let (_, user, user_id) = app.admin_and_user().await;

        let routes = [
            ("GET", "/auth/roles".to_owned(), Value::Null),
            ("POST", "/auth/roles".to_owned(), json!({ "name": "x" })),
            ("DELETE", "/auth/roles/editor".to_owned(), Value::Null),
            (
                "POST",
                "/auth/roles/editor/permissions".to_owned(),
                json!({ "permissions": [] }),
            ),
            (
                "DELETE",
                "/auth/roles/editor/permissions".to_owned(),
                json!({ "permissions": [] }),
            ),
            (
                "POST",
                "/auth/roles/assign".to_owned(),
                json!({ "user_id": user_id, "role_name": "admin" }),
            ),
            (
                "POST",
                "/auth/roles/revoke".to_owned(),
                json!({ "user_id": user_id, "role_name": "admin" }),
            ),
            ("GET", format!("/auth/roles/user/{user_id}"), Value::Null),
        ];
        for (method, uri, body) in routes {
            let (status, answer) = app.call(method, &uri, Some(&user), body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
            assert_eq!(answer, detail("Insufficient role"), "{method} {uri}");

            let (status, answer) = app.call(method, &uri, None, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert_eq!(answer, detail("Not authenticated"), "{method} {uri}");
        }
        let (status, _) = app.call("GET", "/auth/roles/me", None, Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app.close().await;
    }

    pub(super) async fn create_role_and_conflict(db: Db) {
        let app = open(db).await;
        let (admin, _, _) = app.admin_and_user().await;

        let body = json!({ "name": "moderator", "permissions": ["posts:write", "comments:delete", "posts:write"] });
        let (status, role) = app.post("/auth/roles", &admin, body).await;
        assert_eq!(status, StatusCode::CREATED, "{role}");
        assert_eq!(
            role,
            json!({ "name": "moderator", "permissions": ["comments:delete", "posts:write"] })
        );

        let (status, answer) = app
            .post("/auth/roles", &admin, json!({ "name": "moderator" }))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(answer, detail("Role already exists"));

        let (status, role) = app
            .post("/auth/roles", &admin, json!({ "name": "plain" }))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(role["permissions"], json!([]), "permissions default to []");

        let (_, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(
            find_role(&roles, "moderator").unwrap()["permissions"],
            json!(["comments:delete", "posts:write"])
        );
        app.close().await;
    }

    pub(super) async fn create_role_checks_input(db: Db) {
        let app = open(db).await;
        let (admin, _, _) = app.admin_and_user().await;

        let long = "r".repeat(65);
        for name in ["", long.as_str(), "a/b"] {
            let (status, answer) = app
                .post("/auth/roles", &admin, json!({ "name": name }))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "name {name:?}");
            assert_eq!(
                answer["detail"][0]["loc"],
                json!(["body", "name"]),
                "name {name:?}"
            );
        }
        let longest = "é".repeat(64);
        let (status, _) = app
            .post("/auth/roles", &admin, json!({ "name": longest }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "64 characters are allowed");

        let (status, answer) = app.post("/auth/roles", &admin, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer["detail"][0]["type"], "missing");

        let body = json!({ "name": "x", "permissions": "posts:write" });
        let (status, answer) = app.post("/auth/roles", &admin, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer["detail"][0]["type"], "list_type");

        let body = json!({ "name": "x", "permissions": ["p".repeat(256)] });
        let (status, answer) = app.post("/auth/roles", &admin, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            answer["detail"][0]["loc"],
            json!(["body", "permissions", 0])
        );

        let many: Vec<String> = (0..101).map(|i| format!("p{i}")).collect();
        let (status, answer) = app
            .post(
                "/auth/roles",
                &admin,
                json!({ "name": "x", "permissions": many }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer["detail"][0]["type"], "too_long");
        app.close().await;
    }

    pub(super) async fn delete_role_removes_it_from_users(db: Db) {
        let app = open(db).await;
        let (admin, user, user_id) = app.admin_and_user().await;
        app.post(
            "/auth/roles",
            &admin,
            json!({ "name": "temp", "permissions": ["t:x"] }),
        )
        .await;
        let assign = json!({ "user_id": user_id, "role_name": "temp" });
        let (status, _) = app.post("/auth/roles/assign", &admin, assign).await;
        assert_eq!(status, StatusCode::OK);

        let (status, answer) = app.delete("/auth/roles/temp", &admin, Value::Null).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, message("Role deleted"));
        let (_, mine) = app.get("/auth/roles/me", &user).await;
        assert_eq!(mine["roles"], json!([]), "the deleted role left the user");
        assert_eq!(mine["permissions"], json!([]));

        let (status, answer) = app.delete("/auth/roles/temp", &admin, Value::Null).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(answer, detail("Role not found"));
        let oversized = format!("/auth/roles/{}", "r".repeat(300));
        let (status, answer) = app.delete(&oversized, &admin, Value::Null).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a name no role can have");
        assert_eq!(answer, detail("Role not found"));
        app.close().await;
    }

    pub(super) async fn grant_and_remove_permissions(db: Db) {
        let app = open(db).await;
        let (admin, _, _) = app.admin_and_user().await;
        app.post(
            "/auth/roles",
            &admin,
            json!({ "name": "writer", "permissions": ["posts:read"] }),
        )
        .await;

        let body = json!({ "permissions": ["posts:write", "posts:read"] });
        let (status, answer) = app
            .post("/auth/roles/writer/permissions", &admin, body)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, message("Permissions added"));
        let (_, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(
            find_role(&roles, "writer").unwrap()["permissions"],
            json!(["posts:read", "posts:write"]),
            "adding a held permission is a no-op"
        );

        let body = json!({ "permissions": ["posts:write", "never:held"] });
        let (status, answer) = app
            .delete("/auth/roles/writer/permissions", &admin, body)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, message("Permissions removed"));
        let (_, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(
            find_role(&roles, "writer").unwrap()["permissions"],
            json!(["posts:read"])
        );

        for method in ["POST", "DELETE"] {
            let body = json!({ "permissions": ["x"] });
            let (status, answer) = app
                .call(method, "/auth/roles/ghost/permissions", Some(&admin), body)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
            assert_eq!(answer, detail("Role not found"), "{method}");
        }
        let (status, _) = app
            .post("/auth/roles/writer/permissions", &admin, json!({}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "permissions is required"
        );
        app.close().await;
    }

    pub(super) async fn assign_revoke_and_user_roles(db: Db) {
        let app = open(db).await;
        let (admin, _, user_id) = app.admin_and_user().await;
        let assign = json!({ "user_id": user_id, "role_name": "editor" });

        let (status, answer) = app.post("/auth/roles/assign", &admin, assign.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, message("Role assigned"));
        let (status, _) = app.post("/auth/roles/assign", &admin, assign.clone()).await;
        assert_eq!(status, StatusCode::OK, "assigning a held role is a no-op");
        let assign_viewer = json!({ "user_id": user_id, "role_name": "viewer" });
        app.post("/auth/roles/assign", &admin, assign_viewer).await;

        let (status, roles) = app
            .get(&format!("/auth/roles/user/{user_id}"), &admin)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            roles,
            json!({ "user_id": user_id, "roles": ["editor", "viewer"], "permissions": ["posts:write"] })
        );

        let (status, answer) = app.post("/auth/roles/revoke", &admin, assign.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer, message("Role revoked"));
        let (status, _) = app.post("/auth/roles/revoke", &admin, assign).await;
        assert_eq!(status, StatusCode::OK, "revoking an unheld role is a no-op");
        let (_, roles) = app
            .get(&format!("/auth/roles/user/{user_id}"), &admin)
            .await;
        assert_eq!(roles["roles"], json!(["viewer"]));
        assert_eq!(roles["permissions"], json!([]));

        let unknown_role = json!({ "user_id": user_id, "role_name": "ghost" });
        let (status, answer) = app.post("/auth/roles/assign", &admin, unknown_role).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(answer, detail("Role not found"));
        let unknown_user = json!({ "user_id": "nobody", "role_name": "editor" });
        let (status, answer) = app.post("/auth/roles/assign", &admin, unknown_user).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(answer, detail("User not found"));
        let (status, _) = app
            .post("/auth/roles/assign", &admin, json!({ "user_id": user_id }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, roles) = app.get("/auth/roles/user/nobody", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            roles,
            json!({ "user_id": "nobody", "roles": [], "permissions": [] })
        );
        app.close().await;
    }

    pub(super) async fn roles_me(db: Db) {
        let app = open(db).await;
        let (admin, user, user_id) = app.admin_and_user().await;

        let (status, mine) = app.get("/auth/roles/me", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(mine["roles"], json!(["admin"]));
        assert_eq!(mine["permissions"], json!(["posts:write", "users_read"]));

        let (status, mine) = app.get("/auth/roles/me", &user).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            mine,
            json!({ "user_id": user_id, "roles": [], "permissions": [] })
        );
        app.close().await;
    }

    pub(super) async fn guards_follow_the_store(db: Db) {
        let app = open(db).await;
        let (admin, user, user_id) = app.admin_and_user().await;

        let (status, answer) = app.call("GET", "/edit", None, Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer, detail("Not authenticated"));
        let (status, answer) = app.call("GET", "/publish", None, Value::Null).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer, detail("Not authenticated"));

        let (status, answer) = app.get("/edit", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(answer, detail("Insufficient role"));
        let (status, answer) = app.get("/publish", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(answer, detail("Insufficient permissions"));

        let assign = json!({ "user_id": user_id, "role_name": "editor" });
        app.post("/auth/roles/assign", &admin, assign.clone()).await;
        let (status, body) = app.get("/edit", &user).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the same token passes once the role is assigned"
        );
        assert_eq!(body, Value::String(user_id.clone()));
        let (status, _) = app.get("/publish", &user).await;
        assert_eq!(status, StatusCode::OK, "editor grants posts:write");

        app.post("/auth/roles/revoke", &admin, assign).await;
        let (status, _) = app.get("/edit", &user).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a revoked role stops at once"
        );
        let (status, _) = app.get("/publish", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app.close().await;
    }

    pub(super) async fn runtime_roles_work(db: Db) {
        let app = open(db).await;
        let (admin, user, user_id) = app.admin_and_user().await;
        let body = json!({ "name": "moderator", "permissions": ["posts:write"] });
        app.post("/auth/roles", &admin, body).await;

        let (status, _) = app.get("/moderate", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let assign = json!({ "user_id": user_id, "role_name": "moderator" });
        app.post("/auth/roles/assign", &admin, assign).await;
        let (status, _) = app.get("/moderate", &user).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the dynamic check sees the runtime role"
        );
        let (status, _) = app.get("/publish", &user).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a runtime role's permission passes the typed guard"
        );

        let body = json!({ "permissions": ["posts:write"] });
        app.delete("/auth/roles/moderator/permissions", &admin, body)
            .await;
        let (status, _) = app.get("/publish", &user).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a removed permission stops at once"
        );
        app.close().await;
    }

    pub(super) async fn claims_guards_wait_for_new_tokens(db: Db) {
        let app = open(db).await;
        let (admin, user, user_id) = app.admin_and_user().await;

        let (status, answer) = app.get("/claims/edit", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(answer, detail("Insufficient role"));
        let assign = json!({ "user_id": user_id, "role_name": "editor" });
        app.post("/auth/roles/assign", &admin, assign.clone()).await;
        let (status, _) = app.get("/claims/edit", &user).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the old token lists no role");

        let fresh = app.login("user@example.com").await;
        let (status, body) = app.get("/claims/edit", &fresh).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, Value::String(user_id.clone()));
        let (status, _) = app.get("/claims/publish", &fresh).await;
        assert_eq!(status, StatusCode::OK);

        app.post("/auth/roles/revoke", &admin, assign).await;
        let (status, _) = app.get("/claims/edit", &fresh).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "claims keep a revoked role until they expire"
        );
        let (status, _) = app.get("/edit", &fresh).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the store-backed guard does not"
        );
        app.close().await;
    }

    pub(super) async fn migrate_keeps_runtime_roles(db: Db) {
        let app = open(db).await;
        let (admin, _, _) = app.admin_and_user().await;
        app.post(
            "/auth/roles",
            &admin,
            json!({ "name": "runtime", "permissions": ["r:x"] }),
        )
        .await;
        let body = json!({ "permissions": ["extra:grant"] });
        app.post("/auth/roles/editor/permissions", &admin, body)
            .await;

        app.auth.migrate().await;
        app.auth.migrate().await;
        let (_, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(
            find_role(&roles, "runtime").unwrap()["permissions"],
            json!(["r:x"])
        );
        assert_eq!(
            find_role(&roles, "editor").unwrap()["permissions"],
            json!(["extra:grant", "posts:write"]),
            "migrate adds the declared grants and keeps the others"
        );
        let (_, mine) = app.get("/auth/roles/me", &admin).await;
        assert_eq!(
            mine["roles"],
            json!(["admin"]),
            "assignments survive migrate"
        );
        app.close().await;
    }

    pub(super) async fn first_admin_by_email(db: Db) {
        let app = open(db).await;
        let (admin, _) = app.register("  Admin@Example.COM ").await;
        let (_, mine) = app.get("/auth/roles/me", &admin).await;
        assert_eq!(
            mine["roles"],
            json!(["admin"]),
            "the configured address gets admin"
        );

        let (other, _) = app.register("later@example.com").await;
        assert!(
            app.auth
                .grant_role_by_email("LATER@example.com", "admin")
                .await
        );
        let (_, mine) = app.get("/auth/roles/me", &other).await;
        assert_eq!(mine["roles"], json!(["admin"]));
        assert!(
            !app.auth
                .grant_role_by_email("nobody@example.com", "admin")
                .await
        );

        app.auth.bootstrap_admin().await;
        let (status, roles) = app.get("/auth/roles", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            roles.as_array().unwrap().len(),
            3,
            "bootstrap adds no second admin role"
        );
        app.close().await;
    }
}

/// One test per scenario and database, so a failure names both.
macro_rules! per_database {
    ($db:ident, $module:ident) => {
        mod $module {
            use super::{Db, scenario};

            per_database!(@tests Db::$db;
                list_roles_includes_declared,
                non_admin_and_anonymous_refused,
                create_role_and_conflict,
                create_role_checks_input,
                delete_role_removes_it_from_users,
                grant_and_remove_permissions,
                assign_revoke_and_user_roles,
                roles_me,
                guards_follow_the_store,
                runtime_roles_work,
                claims_guards_wait_for_new_tokens,
                migrate_keeps_runtime_roles,
                first_admin_by_email,
            );
        }
    };
    (@tests $db:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                scenario::$name($db).await;
            }
        )*
    };
}

per_database!(Sqlite, on_sqlite);
per_database!(Postgres, on_postgres);
per_database!(MySql, on_mysql);
