//! The example servers run as processes and driven over real HTTP: start-up line, the
//! credentials flow, and a clean exit on SIGTERM.
//!
//! Cargo offers `CARGO_BIN_EXE_<name>` only for binaries of the test's own package, and
//! `target/debug/basic` may be missing or stale when only the tests were built. So the tests
//! run `cargo build -p basic -p full` themselves, once per test binary, and take each
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
            .args(["-p", "basic", "-p", "full"])
            .stderr(Stdio::inherit())
            .output()
            .expect("running `cargo build` failed");
        assert!(
            output.status.success(),
            "`cargo build -p basic -p full` failed"
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
    /// Starts example `name` with `environment` and waits for its listening line.
    fn start(name: &str, environment: &[(&str, &str)]) -> Self {
        let binary = example_binaries()
            .get(name)
            .unwrap_or_else(|| panic!("cargo built no executable named {name}"));
        let mut child = Command::new(binary)
            .envs(environment.iter().copied())
            .env("FASTAUTH_BIND", "127.0.0.1:0")
            .env("FASTAUTH_SECRET", SECRET)
            .env("RUST_LOG", "info")
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
