//! The example servers run as processes and driven over real HTTP: start-up line, the
//! credentials flow, OAuth sign-in against local providers, and a clean exit on SIGTERM.
//!
//! Cargo offers `CARGO_BIN_EXE_<name>` only for binaries of the test's own package, and
//! `target/debug/basic` may be missing or stale when only the tests were built. So the tests
//! run `cargo build -p basic -p full -p oauth` themselves, once per test binary, and take each
//! executable's path from Cargo's JSON messages. That path is right for any target
//! directory, and the build is a no-op when the binaries are up to date.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const SECRET: &str = "examples-5d1f8b3a9c7e2f4a6b0d8c1e3f5a7b9d";
const PASSWORD: &str = "correct horse battery";
const LISTENING: &str = "fastauth-example listening on ";

/// Builds the example binaries once and returns their paths by target name.
fn example_binaries() -> &'static HashMap<String, PathBuf> {
    static BINARIES: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
        let output = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--message-format=json",
                "--manifest-path",
            ])
            .arg(manifest)
            .args(["-p", "basic", "-p", "full", "-p", "oauth"])
            .stderr(Stdio::inherit())
            .output()
            .expect("running `cargo build` failed");
        assert!(
            output.status.success(),
            "`cargo build -p basic -p full -p oauth` failed"
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter_map(|message| {
                let name = message["target"]["name"].as_str()?.to_owned();
                let executable = message["executable"].as_str()?;
                Some((name, PathBuf::from(executable)))
            })
            .collect()
    })
}

/// A running example server, killed by its pid if a test ends without stopping it.
struct Server {
    child: Child,
    base_url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts example `name` with `environment`, which may override the bind address, the
    /// secret and the log filter, and waits for its listening line.
    fn start(name: &str, environment: &[(&str, &str)]) -> Self {
        let binary = example_binaries()
            .get(name)
            .unwrap_or_else(|| panic!("cargo built no executable named {name}"));
        let mut child = Command::new(binary)
            .env("FASTAUTH_BIND", "127.0.0.1:0")
            .env("FASTAUTH_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} failed: {e}", binary.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]);
                log.lock().expect("log lock").push_str(&text);
            }
        });

        let (sender, receiver) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(LISTENING) {
                    sender.send(url.trim().to_owned()).ok();
                }
            }
        });

        let mut server = Self {
            child,
            base_url: String::new(),
            stderr,
        };
        match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => server.base_url = url,
            Err(_) => panic!(
                "{name} printed no `{LISTENING}...` line within 30 s; its standard error:\n{}",
                server.log()
            ),
        }
        server
    }

    fn log(&self) -> String {
        self.stderr.lock().expect("log lock").clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends SIGTERM by pid and returns the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("running `kill` failed");
        assert!(status.success(), "`kill -TERM` failed");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting failed") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within 15 s of SIGTERM; its standard error:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// Builds an HTTP client that connects to the local server directly, ignoring any proxy
/// the environment sets.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("building the HTTP client failed")
}

/// Sends a request and returns the status and the JSON body.
async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the request failed");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Registers, signs in, reads `/auth/me`, refreshes and signs out over HTTP.
async fn credentials_flow(server: &Server) -> String {
    let client = client();
    let credentials = json!({ "email": " Ada@Example.com", "password": PASSWORD });

    let (status, body) = call(client.post(server.url("/auth/register")).json(&credentials)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let (status, body) = call(client.post(server.url("/auth/register")).json(&credentials)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["detail"], "A user with this email already exists");

    let (status, body) = call(client.post(server.url("/auth/login")).json(&credentials)).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let refresh = body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    let (status, body) = call(client.get(server.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["is_active"], true);
    let id = body["id"].as_str().expect("an id").to_owned();
    let (status, body) = call(client.get(server.url("/auth/me"))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["detail"], "Not authenticated");

    let body = json!({ "refresh_token": refresh });
    let (status, rotated) = call(client.post(server.url("/auth/refresh")).json(&body)).await;
    assert_eq!(status, 200, "{rotated}");
    let new_access = rotated["access_token"].as_str().expect("an access token");
    let (status, reply) = call(client.post(server.url("/auth/refresh")).json(&body)).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["detail"], "Refresh token has already been used");
    // The replay ended the session, so sign in again before signing out.
    let (status, _) = call(client.get(server.url("/auth/me")).bearer_auth(new_access)).await;
    assert_eq!(status, 401);
    let (status, body) = call(client.post(server.url("/auth/login")).json(&credentials)).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();

    let (status, body) = call(client.post(server.url("/auth/logout")).bearer_auth(&access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "message": "Logged out" }));
    let (status, _) = call(client.get(server.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(status, 401);

    let (status, body) = call(client.get(server.url("/nope"))).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({ "detail": "Not Found" }));
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_example_serves_and_stops() {
    let directory = tempfile::tempdir().expect("creating a temporary directory failed");
    let database = format!("sqlite://{}/x.db", directory.path().display());
    let mut server = Server::start("basic", &[("DATABASE_URL", &database)]);

    credentials_flow(&server).await;

    // The application's own route returns the register field and the domain field.
    let client = client();
    let credentials = json!({
        "email": "grace@example.com",
        "password": PASSWORD,
        "company": "Navy",
    });
    let (status, body) = call(client.post(server.url("/auth/register")).json(&credentials)).await;
    assert_eq!(status, 201, "{body}");
    let access = body["access_token"].as_str().expect("an access token");
    let (status, body) = call(client.get(server.url("/api/whoami")).bearer_auth(access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["company"], "Navy");
    assert_eq!(body["credits"], 0);

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
    assert!(
        directory.path().join("x.db").exists(),
        "the database file was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_serves_and_stops() {
    let mut server = Server::start("full", &[("DATABASE_URL", "sqlite::memory:")]);

    let (status, body) = call(client().get(server.url("/healthz"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "status": "ok" }));
    credentials_flow(&server).await;

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

/// Returns the `Set-Cookie` headers of a response, keyed by cookie name.
fn set_cookies(response: &reqwest::Response) -> HashMap<String, String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|text| {
            let (name, _) = text.split_once('=')?;
            Some((name.to_owned(), text.to_owned()))
        })
        .collect()
}

/// Returns the value of a `Set-Cookie` header.
fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, value)| value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_example_cookie_mode() {
    let mut server = Server::start(
        "basic",
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("FASTAUTH_TOKEN_DELIVERY", "cookie"),
        ],
    );
    let client = client();
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });

    let response = client
        .post(server.url("/auth/register"))
        .json(&credentials)
        .send()
        .await
        .expect("the request failed");
    assert_eq!(response.status().as_u16(), 201);
    let cookies = set_cookies(&response);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body, json!({ "message": "Authentication successful" }));
    for name in ["access_token", "refresh_token", "csrf_token"] {
        let set_cookie = cookies.get(name).expect("the cookie is set");
        // The base URL is plain http, so the cookies are not Secure.
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
        assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    }
    let jar = ["access_token", "refresh_token", "csrf_token"]
        .map(|name| format!("{name}={}", cookie_value(&cookies[name])))
        .join("; ");
    let csrf = cookie_value(&cookies["csrf_token"]).to_owned();

    let (status, body) = call(client.get(server.url("/api/whoami")).header("cookie", &jar)).await;
    assert_eq!(status, 200, "{body}");
    let logout = || {
        client
            .post(server.url("/auth/logout"))
            .header("cookie", &jar)
    };
    let (status, body) = call(logout()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"], "CSRF token missing or invalid");
    let response = logout()
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("the request failed");
    assert_eq!(response.status().as_u16(), 200);
    let cleared = set_cookies(&response);
    assert!(cleared["access_token"].contains("Max-Age=0"), "{cleared:?}");
    let (status, _) = call(client.get(server.url("/api/whoami")).header("cookie", &jar)).await;
    assert_eq!(status, 401);

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

/// Fetches the served JWKS document and checks its caching header.
async fn served_jwks(server: &Server) -> Value {
    let response = client()
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("the request failed");
    assert_eq!(response.status().as_u16(), 200);
    let cache_control = response.headers().get("cache-control").cloned();
    assert_eq!(
        cache_control.as_ref().and_then(|v| v.to_str().ok()),
        Some("public, max-age=300")
    );
    response.json().await.expect("a JSON body")
}

/// Registers `email` and returns the access token.
async fn register(server: &Server, email: &str) -> String {
    let credentials = json!({ "email": email, "password": PASSWORD });
    let (status, body) = call(
        client()
            .post(server.url("/auth/register"))
            .json(&credentials),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_eddsa_key_file() {
    use fastauth::JwtAlgorithm;
    use fastauth::core::keys::SigningKey;
    use fastauth_tests::tokens;

    let created = time::OffsetDateTime::now_utc();
    let (key, pem) = SigningKey::generate(JwtAlgorithm::EdDSA, created).expect("generation");
    let directory = tempfile::tempdir().expect("creating a temporary directory failed");
    let key_file = directory.path().join("signing-key.pem");
    std::fs::write(&key_file, pem).expect("writing the key file failed");
    let key_path = key_file.display().to_string();
    let mut server = Server::start(
        "full",
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("FASTAUTH_JWT_ALG", "EdDSA"),
            ("FASTAUTH_JWT_PRIVATE_KEY", &key_path),
        ],
    );

    let jwks = served_jwks(&server).await;
    let keys = jwks["keys"].as_array().expect("`keys` is an array");
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert_eq!(keys[0]["kid"], key.kid(), "the kid is the key's thumbprint");
    assert!(keys[0].get("d").is_none(), "no private member: {jwks}");

    let access = register(&server, "eddsa@example.com").await;
    assert_eq!(tokens::header(&access)["alg"], "EdDSA");
    let claims = tokens::verify_with_jwks(&access, &jwks).expect("the token verifies");
    assert_eq!(claims["email"], "eddsa@example.com");
    let (status, body) = call(client().get(server.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(status, 200, "{body}");
    credentials_flow(&server).await;

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_rs256_key_persists() {
    use fastauth_tests::tokens;

    let directory = tempfile::tempdir().expect("creating a temporary directory failed");
    let database = format!("sqlite://{}/keys.db", directory.path().display());
    let environment = [
        ("DATABASE_URL", database.as_str()),
        ("FASTAUTH_JWT_ALG", "RS256"),
    ];

    let mut server = Server::start("full", &environment);
    let jwks = served_jwks(&server).await;
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    let access = register(&server, "rs256@example.com").await;
    assert!(tokens::verify_with_jwks(&access, &jwks).is_ok());
    assert_eq!(server.terminate(), Some(0), "{}", server.log());

    // The generated key is in the database, so the restarted server signs and verifies
    // with it and publishes the same kid.
    let mut restarted = Server::start("full", &environment);
    assert_eq!(served_jwks(&restarted).await, jwks);
    let (status, body) = call(client().get(restarted.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(restarted.terminate(), Some(0), "{}", restarted.log());
}

/// Runs example `name` with `environment` and returns its exit code and standard error,
/// failing when it is still running after 30 s.
fn exit_of(name: &str, environment: &[(&str, &str)]) -> (Option<i32>, String) {
    let binary = example_binaries()
        .get(name)
        .unwrap_or_else(|| panic!("cargo built no executable named {name}"));
    let mut child = Command::new(binary)
        .envs(environment.iter().copied())
        .env("FASTAUTH_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite::memory:")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} failed: {e}", binary.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("waiting failed") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                pipe.read_to_string(&mut stderr).ok();
            }
            return (status.code(), stderr);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("{name} was still running 30 s after start with {environment:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn example_rejects_bad_key_settings() {
    let directory = tempfile::tempdir().expect("creating a temporary directory failed");
    let not_a_key = directory.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "not a key").expect("writing the file failed");
    let not_a_key = not_a_key.display().to_string();
    let missing = directory.path().join("missing.pem").display().to_string();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("FASTAUTH_JWT_ALG", "ES256")], "FASTAUTH_JWT_ALG"),
        (
            &[("FASTAUTH_JWT_PRIVATE_KEY", &not_a_key)],
            "FASTAUTH_JWT_PRIVATE_KEY",
        ),
        (
            &[
                ("FASTAUTH_JWT_ALG", "RS256"),
                ("FASTAUTH_JWT_PRIVATE_KEY", &missing),
            ],
            "FASTAUTH_JWT_PRIVATE_KEY",
        ),
        (
            &[
                ("FASTAUTH_JWT_ALG", "RS256"),
                ("FASTAUTH_JWT_PRIVATE_KEY", &not_a_key),
            ],
            "private_key_pem",
        ),
    ];
    for (environment, named) in cases {
        let (code, stderr) = exit_of("full", environment);
        assert_eq!(code, Some(2), "{environment:?}: {stderr}");
        assert!(stderr.contains(named), "{environment:?}: {stderr}");
    }
}

/// Counts the audit rows of `kind` in the SQLite file at `database`.
async fn audit_rows(database: &str, kind: &str) -> i64 {
    use sqlx::Connection as _;
    let mut connection = sqlx::SqliteConnection::connect(database)
        .await
        .expect("opening the example's database failed");
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM fastauth_audit_events WHERE kind = ?")
            .bind(kind)
            .fetch_one(&mut connection)
            .await
            .expect("counting audit rows failed");
    connection.close().await.ok();
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_audit_table() {
    let directory = tempfile::tempdir().expect("creating a temporary directory failed");
    let database = format!("sqlite://{}/audit.db", directory.path().display());
    let mut server = Server::start(
        "full",
        &[
            ("DATABASE_URL", &database),
            ("FASTAUTH_AUDIT_TABLE", "true"),
        ],
    );

    let id = credentials_flow(&server).await;
    assert_eq!(server.terminate(), Some(0), "{}", server.log());

    // The flow registers once, signs in twice, replays a refresh token and signs out.
    assert_eq!(audit_rows(&database, "account_created").await, 1);
    assert_eq!(audit_rows(&database, "sign_in_succeeded").await, 2);
    assert_eq!(audit_rows(&database, "refresh_token_reused").await, 1);
    assert_eq!(audit_rows(&database, "session_revoked").await, 1);
    // The same events went to the log under their own target, with ids and no address.
    let log = server.log();
    let security_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("fastauth::security"))
        .collect();
    assert!(
        security_lines
            .iter()
            .any(|line| line.contains("refresh_token_reused") && line.contains(&id)),
        "{log}"
    );
    assert!(
        security_lines.iter().all(|line| !line.contains('@')),
        "{log}"
    );
}

/// Sends a JSON POST and returns the status, the `Retry-After` header and the JSON body.
async fn post(url: String, body: &Value) -> (u16, Option<String>, Value) {
    post_with(url, &[], body).await
}

/// Sends a JSON POST with extra headers, and returns the status, the `Retry-After` header
/// and the JSON body.
async fn post_with(
    url: String,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut request = client().post(url).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the request failed");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

/// Takes the tokens of a `TokenPair` body.
fn tokens(body: &Value) -> (String, String) {
    let token = |key: &str| {
        body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {body}"))
            .to_owned()
    };
    (token("access_token"), token("refresh_token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_limits_from_environment() {
    let server = Server::start(
        "full",
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("FASTAUTH_MAX_LOGIN_ATTEMPTS", "2"),
            ("FASTAUTH_LOCKOUT_SECONDS", "120"),
            ("FASTAUTH_RATE_LIMIT", "3/60"),
            ("FASTAUTH_CLIENT_IP_HEADER", "X-Forwarded-For"),
        ],
    );
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });
    let wrong = json!({ "email": "ada@example.com", "password": "wrong horse battery" });

    let (status, _, body) = post(server.url("/auth/register"), &credentials).await;
    assert_eq!(status, 201, "{body}");
    for _ in 0..2 {
        let (status, _, body) = post(server.url("/auth/login"), &wrong).await;
        assert_eq!(status, 401, "{body}");
    }
    // The third login from this client is still within the rate limit, and is locked.
    let (status, retry_after, body) = post(server.url("/auth/login"), &credentials).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["detail"], "Account is locked. Try again in 2 minutes");
    let wait: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((115..=120).contains(&wait), "Retry-After {wait}");
    // The fourth exceeds the rate limit of 3 logins a minute per client address.
    let (status, retry_after, body) = post(server.url("/auth/login"), &credentials).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["detail"], "Too many requests");
    assert!(retry_after.is_some());

    // Behind the trusted proxy header, each forwarded client has a budget of its own, and
    // the entry the client wrote itself (the left one) is not the key.
    let forwarded = [("x-forwarded-for", "198.51.100.1, 203.0.113.5")];
    let (status, _, body) = post_with(server.url("/auth/login"), &forwarded, &wrong).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["detail"], "Account is locked. Try again in 2 minutes");
    let bob = json!({ "email": "bob@example.com", "password": PASSWORD });
    // The request above was the first of 203.0.113.5's three.
    for n in 0..2 {
        let spoofed = format!("198.51.100.{n}, 203.0.113.5");
        let headers = [("x-forwarded-for", spoofed.as_str())];
        let (status, _, body) = post_with(server.url("/auth/login"), &headers, &bob).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, _, body) = post_with(server.url("/auth/login"), &forwarded, &bob).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["detail"], "Too many requests");
}

#[test]
fn full_example_rejects_invalid_limits() {
    let binary = &example_binaries()["full"];
    let cases = [
        ("FASTAUTH_MAX_LOGIN_ATTEMPTS", "0"),
        ("FASTAUTH_LOCKOUT_SECONDS", "soon"),
        ("FASTAUTH_RATE_LIMIT", "10"),
        ("FASTAUTH_ACCOUNT_RATE_LIMIT", "0/60"),
        ("FASTAUTH_TRUSTED_PROXIES", "1"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
    ];
    for (name, value) in cases {
        let output = Command::new(binary)
            .env("DATABASE_URL", "sqlite::memory:")
            .env("FASTAUTH_BIND", "127.0.0.1:0")
            .env("FASTAUTH_SECRET", SECRET)
            .env(name, value)
            .stdin(Stdio::null())
            .output()
            .expect("running the example failed");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}

/// A PostgreSQL database of its own for the two-instance test, dropped afterwards.
struct SharedDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl SharedDatabase {
    async fn create() -> Self {
        use sqlx::Connection as _;
        let admin_url = std::env::var("FASTAUTH_TEST_POSTGRES")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!("fa_instances_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin_url}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE failed");
        admin.close().await.ok();
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("FASTAUTH_TEST_POSTGRES ends with /database");
        let url = format!("{base}/{name}");
        Self {
            name,
            url,
            admin_url,
        }
    }

    async fn drop_database(&self) {
        use sqlx::Connection as _;
        let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await else {
            return;
        };
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut admin)
            .await
        {
            eprintln!("dropping {} failed: {error}", self.name);
        }
        admin.close().await.ok();
    }
}

/// Two server processes on one PostgreSQL database and one Redis behave as one service.
/// Failed logins add up across them (in the database), and so do rate-limited requests (in
/// Redis). A refresh token rotated on one is a replay on the other, and a session revoked on
/// one is rejected by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behave_as_one() {
    use futures_util::FutureExt as _;
    let database = SharedDatabase::create().await;
    // The servers die with the scenario, also when it panics; then the database goes.
    let outcome = std::panic::AssertUnwindSafe(two_instances_scenario(&database))
        .catch_unwind()
        .await;
    database.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn two_instances_scenario(database: &SharedDatabase) {
    let redis = fastauth_tests::state::redis_url();
    let environment = [
        ("DATABASE_URL", database.url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("FASTAUTH_MAX_LOGIN_ATTEMPTS", "3"),
        ("FASTAUTH_LOCKOUT_SECONDS", "60"),
        ("FASTAUTH_ACCOUNT_RATE_LIMIT", "5/60"),
    ];
    // One after the other, so that the second finds the schema in place.
    let mut first = Server::start("full", &environment);
    let mut second = Server::start("full", &environment);
    for server in [&first, &second] {
        let log = server.log();
        assert!(log.contains("short-lived state is kept in Redis"), "{log}");
    }
    let client = client();
    // Redis outlives the test, so each run uses addresses of its own.
    let run = format!("{:08x}", rand::random::<u32>());

    // Failed logins on both instances count toward one lockout.
    let locked_email = format!("locked-{run}@example.com");
    let credentials = json!({ "email": locked_email, "password": PASSWORD });
    let wrong = json!({ "email": locked_email, "password": "wrong horse battery" });
    let (status, _, body) = post(first.url("/auth/register"), &credentials).await;
    assert_eq!(status, 201, "{body}");
    for server in [&first, &second, &first] {
        let (status, _, body) = post(server.url("/auth/login"), &wrong).await;
        assert_eq!(status, 401, "{body}");
    }
    for server in [&second, &first] {
        let (status, retry_after, body) = post(server.url("/auth/login"), &credentials).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["detail"], "Account is locked. Try again in 1 minute");
        assert!(retry_after.is_some());
    }

    // A refresh token rotated on the first instance is a replay on the second.
    let email = format!("ada-{run}@example.com");
    let credentials = json!({ "email": email, "password": PASSWORD });
    let (status, _, body) = post(first.url("/auth/register"), &credentials).await;
    assert_eq!(status, 201, "{body}");
    let (_, refresh) = tokens(&body);
    let old = json!({ "refresh_token": refresh });
    let (status, _, rotated) = post(first.url("/auth/refresh"), &old).await;
    assert_eq!(status, 200, "{rotated}");
    let (new_access, _) = tokens(&rotated);
    let (status, _, body) = post(second.url("/auth/refresh"), &old).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["detail"], "Refresh token has already been used");
    // The replay revoked the session, on both instances.
    for server in [&first, &second] {
        let (status, _) = call(client.get(server.url("/auth/me")).bearer_auth(&new_access)).await;
        assert_eq!(status, 401);
    }

    // A session revoked on the second instance is refused by the first.
    let (status, _, body) = post(first.url("/auth/login"), &credentials).await;
    assert_eq!(status, 200, "{body}");
    let (phone_access, phone_refresh) = tokens(&body);
    let (status, _, body) = post(second.url("/auth/login"), &credentials).await;
    assert_eq!(status, 200, "{body}");
    let (laptop_access, _) = tokens(&body);
    let (status, _) = call(client.get(first.url("/auth/me")).bearer_auth(&phone_access)).await;
    assert_eq!(status, 200);
    let (status, sessions) = call(
        client
            .get(second.url("/auth/sessions"))
            .bearer_auth(&laptop_access),
    )
    .await;
    assert_eq!(status, 200, "{sessions}");
    let list = sessions.as_array().expect("a list of sessions");
    assert_eq!(list.len(), 2, "{sessions}");
    let phone = list
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("the other session");
    let revoke = client
        .delete(second.url(&format!("/auth/sessions/{phone}")))
        .bearer_auth(&laptop_access);
    let (status, body) = call(revoke).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(client.get(first.url("/auth/me")).bearer_auth(&phone_access)).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, body) = post(
        first.url("/auth/refresh"),
        &json!({ "refresh_token": phone_refresh }),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["detail"], "Invalid refresh token");
    let (status, _) = call(
        client
            .get(first.url("/auth/me"))
            .bearer_auth(&laptop_access),
    )
    .await;
    assert_eq!(status, 200);

    // Logins for one account count toward one limit of 5 a minute, wherever they land. The
    // locked address above made 5 login requests, its own budget, and was never limited.
    for server in [&first, &second, &first] {
        let (status, _, body) = post(server.url("/auth/login"), &credentials).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry_after, body) = post(second.url("/auth/login"), &credentials).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["detail"], "Too many requests");
    assert!(retry_after.is_some());

    assert_eq!(first.terminate(), Some(0), "{}", first.log());
    assert_eq!(second.terminate(), Some(0), "{}", second.log());
}

/// Waits for the next message in the SMTP sink and returns it with the path and query of
/// its link, if it has one. The server's default base URL names the requested port 0, so
/// the test sends the path to the real address instead.
async fn next_mail(sink: &mut fastauth_tests::mail::SmtpSink) -> (Value, Option<String>) {
    let delivered = sink.next_message().await;
    let message = fastauth_tests::mail::as_message(&delivered);
    let link = message
        .text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("http"))
        .map(fastauth_tests::mail::path_of);
    (delivered, link)
}

fn token_in(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no `{field}` in {body}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_mail_flows_over_smtp() {
    let mut sink = fastauth_tests::mail::SmtpSink::start().await;
    let smtp_url = sink.url();
    let mut server = Server::start(
        "full",
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("FASTAUTH_EMAIL", "smtp"),
            ("FASTAUTH_SMTP_URL", &smtp_url),
        ],
    );
    let client = client();
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });

    // Register: the welcome e-mail arrives.
    let (status, body) = call(client.post(server.url("/auth/register")).json(&credentials)).await;
    assert_eq!(status, 201, "{body}");
    let access = token_in(&body, "access_token");
    let (welcome, _) = next_mail(&mut sink).await;
    assert_eq!(welcome["subject"], "Welcome!");
    assert_eq!(welcome["from"], "FastAuth <noreply@localhost>");

    // Verify the address from the mailed link.
    let request = client.post(server.url("/auth/request-verify-email"));
    let (status, body) = call(request.bearer_auth(&access)).await;
    assert_eq!(status, 200, "{body}");
    let (mail, link) = next_mail(&mut sink).await;
    assert_eq!(mail["subject"], "Verify your email address");
    let link = link.expect("a verification link");
    let (status, body) = call(client.get(server.url(&link))).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = call(client.get(server.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(body["email_verified"], true);

    // Forget the password and reset it from the mailed link.
    let body = json!({ "email": "ada@example.com" });
    let (status, _) = call(client.post(server.url("/auth/forgot-password")).json(&body)).await;
    assert_eq!(status, 200);
    let (mail, link) = next_mail(&mut sink).await;
    assert_eq!(mail["subject"], "Reset your password");
    let link = link.expect("a reset link");
    let token = link.rsplit("token=").next().expect("a token");
    let body = json!({ "token": token, "new_password": "a brand new password" });
    let (status, body) = call(client.post(server.url("/auth/reset-password")).json(&body)).await;
    assert_eq!(status, 200, "{body}");
    let credentials = json!({ "email": "ada@example.com", "password": "a brand new password" });
    let (status, body) = call(client.post(server.url("/auth/login")).json(&credentials)).await;
    assert_eq!(status, 200, "{body}");
    let access = token_in(&body, "access_token");

    // Change the address with confirmation.
    let body = json!({ "new_email": "ada@example.org", "password": "a brand new password" });
    let request = client.post(server.url("/auth/account/change-email"));
    let (status, body) = call(request.bearer_auth(&access).json(&body)).await;
    assert_eq!(status, 200, "{body}");
    let (mail, link) = next_mail(&mut sink).await;
    assert_eq!(mail["to"], "ada@example.org");
    let (status, body) = call(client.get(server.url(&link.expect("a link")))).await;
    assert_eq!(status, 200, "{body}");
    let (notice, _) = next_mail(&mut sink).await;
    assert_eq!(notice["to"], "ada@example.com");
    assert_eq!(notice["subject"], "Your email address was changed");

    // Sign in with a magic link at the new address.
    let body = json!({ "email": "ada@example.org" });
    let (status, _) = call(
        client
            .post(server.url("/auth/magic-links/login"))
            .json(&body),
    )
    .await;
    assert_eq!(status, 200);
    let (mail, link) = next_mail(&mut sink).await;
    assert_eq!(mail["subject"], "Log In to your account");
    let (status, body) = call(client.get(server.url(&link.expect("a link")))).await;
    assert_eq!(status, 200, "{body}");
    let access = token_in(&body, "access_token");

    // Delete the account.
    let body = json!({ "password": "a brand new password" });
    let request = client.delete(server.url("/auth/account"));
    let (status, body) = call(request.bearer_auth(&access).json(&body)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "message": "Account deleted successfully" }));
    let (status, _) = call(client.get(server.url("/auth/me")).bearer_auth(&access)).await;
    assert_eq!(status, 401);

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_example_requires_verified_email() {
    let mut server = Server::start(
        "full",
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("FASTAUTH_REQUIRE_VERIFIED_EMAIL", "true"),
        ],
    );
    let client = client();
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });
    let (status, body) = call(client.post(server.url("/auth/register")).json(&credentials)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({ "message": "Verification email sent" }));
    let (status, body) = call(client.post(server.url("/auth/login")).json(&credentials)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"], "Email not verified");
    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

#[test]
fn full_example_needs_webhook_url() {
    let binary = &example_binaries()["full"];
    let output = Command::new(binary)
        .env("FASTAUTH_BIND", "127.0.0.1:0")
        .env("FASTAUTH_SECRET", SECRET)
        .env("DATABASE_URL", "sqlite::memory:")
        .env("FASTAUTH_EMAIL", "webhook")
        .env_remove("FASTAUTH_WEBHOOK_URL")
        .output()
        .expect("running the example failed");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FASTAUTH_WEBHOOK_URL is required"),
        "{stderr}"
    );
}

const OAUTH_CLIENT_ID: &str = "oauth-example-client";
const OAUTH_CLIENT_SECRET: &str = "oauth-example-client-secret";

/// Returns a loopback port that was free a moment ago. The OAuth example must know its
/// address before it starts, because its callback URLs are built from the base URL.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port failed");
    listener.local_addr().expect("a bound address").port()
}

/// Returns the value of the cookies `names` in a `Cookie` header, from `Set-Cookie` headers.
fn cookie_header(cookies: &HashMap<String, String>, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            let set_cookie = cookies
                .get(*name)
                .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
            format!("{name}={}", cookie_value(set_cookie))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Builds `GET /auth/oauth/{provider}/authorize?redirect_uri=...` of the example.
fn authorize(server: &Server, provider: &str, redirect_uri: &str) -> reqwest::RequestBuilder {
    let path = format!("/auth/oauth/{provider}/authorize");
    let mut url = reqwest::Url::parse(&server.url(&path)).expect("a valid URL");
    url.query_pairs_mut()
        .append_pair("redirect_uri", redirect_uri);
    client().get(url)
}

/// Asks the example for `provider`'s authorization URL with `redirect_uri`.
async fn authorization_url(server: &Server, provider: &str, redirect_uri: &str) -> String {
    let (status, body) = call(authorize(server, provider, redirect_uri)).await;
    assert_eq!(status, 200, "{provider}: {body}");
    body["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url in {body}"))
        .to_owned()
}

/// Follows the provider's redirect to the example's callback as a browser does, checks the
/// redirect to the page and its cookies, and returns the `Cookie` header that signs in.
async fn finish_sign_in(server: &Server, target: &reqwest::Url, callback: &str) -> String {
    let mut bare = target.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), callback);
    let response = fastauth_tests::oauth::browser()
        .get(target.as_str())
        .send()
        .await
        .expect("the callback request failed");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let cookies = set_cookies(&response);
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 302, "{body}\n{}", server.log());
    // The example's default post-login redirect is its own page.
    assert_eq!(location, Some(server.url("/")));
    for name in ["access_token", "refresh_token", "csrf_token"] {
        let set_cookie = cookies.get(name).expect("the cookie is set");
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    }
    cookie_header(&cookies, &["access_token", "refresh_token", "csrf_token"])
}

/// Reads `/auth/me` and `/auth/oauth/accounts` with the cookies of a sign-in.
async fn signed_in_account(server: &Server, cookies: &str) -> (Value, Value) {
    let (status, me) = call(
        client()
            .get(server.url("/auth/me"))
            .header("cookie", cookies),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    let request = client()
        .get(server.url("/auth/oauth/accounts"))
        .header("cookie", cookies);
    let (status, accounts) = call(request).await;
    assert_eq!(status, 200, "{accounts}");
    (me, accounts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_example_signs_in() {
    use fastauth_tests::oauth::{GitHubEmail, GitHubStandIn, GitHubUser, OidcProvider};

    let google = OidcProvider::start().await;
    let ada = json!({
        "email": "ada@example.com",
        "email_verified": true,
        "name": "Ada Lovelace",
    });
    google.set_user("ada-1", ada).await;
    let github = GitHubStandIn::start(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET).await;
    github.set_user(GitHubUser {
        id: 583_231,
        login: "octo-grace".to_owned(),
        name: Some("Grace Octo".to_owned()),
        email: None,
        avatar_url: None,
        emails: vec![GitHubEmail {
            email: "grace@example.com".to_owned(),
            primary: true,
            verified: true,
        }],
    });

    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    let front_end = format!("{base}/signed-in");
    let (auth_url, token_url, api_url) = (github.auth_url(), github.token_url(), github.api_url());
    let mut server = Server::start(
        "oauth",
        &[
            ("FASTAUTH_BIND", &bind),
            ("DATABASE_URL", "sqlite::memory:"),
            ("GOOGLE_CLIENT_ID", OAUTH_CLIENT_ID),
            ("GOOGLE_CLIENT_SECRET", OAUTH_CLIENT_SECRET),
            ("GOOGLE_ISSUER_URL", google.issuer()),
            ("GITHUB_CLIENT_ID", OAUTH_CLIENT_ID),
            ("GITHUB_CLIENT_SECRET", OAUTH_CLIENT_SECRET),
            ("GITHUB_AUTH_URL", &auth_url),
            ("GITHUB_TOKEN_URL", &token_url),
            ("GITHUB_API_URL", &api_url),
            ("FASTAUTH_ALLOWED_REDIRECTS", &format!(" {front_end} ,")),
        ],
    );
    assert_eq!(server.base_url, base);
    let log = server.log();
    assert!(log.contains(r#"google="on" github="on""#), "{log}");
    assert!(!log.contains(OAUTH_CLIENT_SECRET), "{log}");

    // The page has a button per provider, each carrying the example's own callback.
    let page = client().get(server.url("/")).send().await.expect("GET /");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("a text body");
    let google_callback = format!("{base}/auth/oauth/google/callback");
    let github_callback = format!("{base}/auth/oauth/github/callback");
    for callback in [&google_callback, &github_callback] {
        assert!(
            page.contains(&format!("data-callback=\"{callback}\"")),
            "{page}"
        );
    }

    // Google, played by oidc-provider-mock: a new account with the provider's address.
    let url = authorization_url(&server, "google", &google_callback).await;
    let target = google.consent(&url, "ada-1").await;
    let cookies = finish_sign_in(&server, &target, &google_callback).await;
    let (me, accounts) = signed_in_account(&server, &cookies).await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(me["email_verified"], true);
    let ada_id = me["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        accounts,
        json!([{ "provider": "google", "provider_account_id": "ada-1" }])
    );

    // A second sign-in through the same Google account finds the link.
    let url = authorization_url(&server, "google", &google_callback).await;
    let target = google.consent(&url, "ada-1").await;
    let cookies = finish_sign_in(&server, &target, &google_callback).await;
    let (me, _) = signed_in_account(&server, &cookies).await;
    assert_eq!(me["id"], ada_id.as_str());

    // GitHub, played by the stand-in: the verified primary address of /user/emails.
    let url = authorization_url(&server, "github", &github_callback).await;
    let target = github.consent(&url, 583_231).await;
    let cookies = finish_sign_in(&server, &target, &github_callback).await;
    let (me, accounts) = signed_in_account(&server, &cookies).await;
    assert_eq!(me["email"], "grace@example.com");
    assert_eq!(me["name"], "Grace Octo");
    assert_eq!(me["email_verified"], true);
    assert_ne!(me["id"], ada_id.as_str());
    assert_eq!(
        accounts,
        json!([{ "provider": "github", "provider_account_id": "583231" }])
    );

    // FASTAUTH_ALLOWED_REDIRECTS adds a front-end page; other values are refused.
    let url = authorization_url(&server, "github", &front_end).await;
    assert!(url.starts_with(&auth_url), "{url}");
    let elsewhere = format!("{base}/elsewhere");
    let (status, body) = call(authorize(&server, "google", &elsewhere)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["detail"], "redirect_uri is not allowed");

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_example_without_providers() {
    let mut server = Server::start("oauth", &[("DATABASE_URL", "sqlite::memory:")]);
    let log = server.log();
    assert!(log.contains(r#"google="off" github="off""#), "{log}");

    let page = client().get(server.url("/")).send().await.expect("GET /");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("a text body");
    assert!(page.contains("No provider is configured"), "{page}");
    assert!(!page.contains("data-callback"), "{page}");

    for provider in ["google", "github"] {
        let callback = server.url(&format!("/auth/oauth/{provider}/callback"));
        let (status, body) = call(authorize(&server, provider, &callback)).await;
        assert_eq!(status, 404, "{body}");
        let expected = format!("OAuth provider '{provider}' not found");
        assert_eq!(body["detail"], expected.as_str());
    }
    // The password routes work without any provider.
    credentials_flow(&server).await;

    assert_eq!(server.terminate(), Some(0), "{}", server.log());
}

#[test]
fn oauth_example_rejects_incomplete_clients() {
    let cases: [(&str, (&str, &str), &str); 5] = [
        (
            "oauth",
            ("GOOGLE_CLIENT_ID", "id"),
            "GOOGLE_CLIENT_SECRET is required",
        ),
        (
            "oauth",
            ("GOOGLE_CLIENT_SECRET", "secret"),
            "GOOGLE_CLIENT_ID is required",
        ),
        (
            "oauth",
            ("GITHUB_CLIENT_ID", "id"),
            "GITHUB_CLIENT_SECRET is required",
        ),
        (
            "full",
            ("GITHUB_CLIENT_SECRET", "secret"),
            "GITHUB_CLIENT_ID is required",
        ),
        // basic declares no OAuth provider, so a client id there is a mistake.
        (
            "basic",
            ("GOOGLE_CLIENT_ID", "id"),
            "GOOGLE_CLIENT_ID is set",
        ),
    ];
    for (example, variable, expected) in cases {
        let (code, stderr) = exit_of(example, &[variable]);
        assert_eq!(code, Some(2), "{example} {variable:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{example} {variable:?}: {stderr}"
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "{example} {variable:?}: {stderr}"
        );
    }

    let invalid = [
        ("GOOGLE_ISSUER_URL", "accounts.google.com"),
        (
            "FASTAUTH_ALLOWED_REDIRECTS",
            "http://127.0.0.1:8000/a, /relative",
        ),
        ("OAUTH_REDIRECT_URL", "ftp://127.0.0.1/"),
    ];
    for (name, value) in invalid {
        let environment = [
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "secret"),
            (name, value),
        ];
        let (code, stderr) = exit_of("oauth", &environment);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}
