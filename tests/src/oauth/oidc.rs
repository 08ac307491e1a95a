//! oidc-provider-mock, run as a child process in place of Google.
//!
//! What oidc-provider-mock 0.3.4 (with Authlib 1.6.12, as `scripts/requirements-oidc.txt` pins
//! them) does, read from its source and tried against a running provider:
//!
//! - It takes any client id and secret, sent by `client_secret_post` or `client_secret_basic`,
//!   and any redirect URI. Its discovery document lists no
//!   `token_endpoint_auth_methods_supported`.
//! - It does not check PKCE: a wrong or missing `code_verifier` still gets tokens. A code
//!   works once, and only with the redirect URI it was issued for.
//! - Consent is a form POST of `sub=<subject>` to the authorization URL itself, because the
//!   page's form has no `action`. Posting `action=deny` instead redirects with
//!   `error=access_denied`, without the `state`.
//! - `PUT /users/{sub}` with a JSON object sets the claims of a user. A subject whose claims
//!   were never set gets `{"email": sub}` at its first consent. The ID token and userinfo
//!   carry `email` and `email_verified` only with the `email` scope, and `name` and `picture`
//!   only with `profile`.
//! - The ID token is RS256 with a `kid`, `aud` is a list that contains the client id, and the
//!   `nonce` of the authorization request is copied into it.
//! - Its issuer is `http://{Host header}`, so it matches only as long as every client reaches
//!   it by the same address (this harness uses 127.0.0.1).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

/// How long the provider may take to start on a loaded machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How many lines of the provider's log the panic messages show at most.
const LOG_LINES: usize = 200;

/// The line prefix with which uvicorn (0.55, pinned) logs the address it listens on.
const LISTENING_PREFIX: &str = "running on http://127.0.0.1:";

/// oidc-provider-mock on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    issuer: String,
    log: Arc<Mutex<Vec<String>>>,
    client: reqwest::Client,
}

impl OidcProvider {
    /// Starts oidc-provider-mock with the Python that `FASTAUTH_OIDC_PYTHON` names, on a port
    /// the system picks, and waits until it serves its discovery document. Panics when the
    /// variable is unset or the provider does not come up within 30 s, so the tests fail and
    /// never skip.
    pub async fn start() -> Self {
        let python = std::env::var("FASTAUTH_OIDC_PYTHON")
            .ok()
            .filter(|python| !python.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "FASTAUTH_OIDC_PYTHON is not set. Run the tests with `scripts/test.sh`, \
                     which installs oidc-provider-mock into .venv/oidc, or set it to a Python \
                     that has scripts/requirements-oidc.txt installed"
                )
            });
        let mut child = Command::new(&python)
            .args([
                "-m",
                "oidc_provider_mock",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting oidc-provider-mock with {python} failed: {e}. Run \
                     `scripts/test.sh`, which installs it into .venv/oidc"
                )
            });
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + STARTUP_TIMEOUT;

        let port = read_port(&mut lines, &log, deadline).await;
        // The provider logs every request; draining its output keeps it from blocking on a
        // full pipe, and keeps the lines for panic messages.
        tokio::spawn(drain(lines, Arc::clone(&log)));

        let mut provider = Self {
            child,
            issuer: String::new(),
            log,
            client: super::browser(),
        };
        provider.issuer = provider.wait_for_discovery(port, deadline).await;
        provider
    }

    /// Returns the issuer exactly as the discovery document states it, e.g.
    /// `http://127.0.0.1:40123` (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Sets the claims of user `sub` (`email`, `email_verified`, `name`, `picture`...), which
    /// its next ID tokens and userinfo responses carry. Replaces any claims set before.
    pub async fn set_user(&self, sub: &str, claims: Value) {
        let mut url = reqwest::Url::parse(&self.issuer).expect("the issuer is a URL");
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .extend(["users", sub]);
        let response = self
            .client
            .put(url)
            .json(&claims)
            .send()
            .await
            .unwrap_or_else(|e| panic!("setting user {sub} at the OpenID provider failed: {e}"));
        let status = response.status();
        if status != reqwest::StatusCode::NO_CONTENT {
            let body = response.text().await.unwrap_or_default();
            panic!("setting user {sub} returned {status}: {body}");
        }
    }

    /// Acts as the browser at the provider: opens `authorization_url` (what fastauth returned
    /// from its authorize route), consents as `sub`, and returns the URL the provider redirects
    /// the browser to (`redirect_uri?code=...&state=...`) without following it.
    pub async fn consent(&self, authorization_url: &str, sub: &str) -> reqwest::Url {
        self.open_consent_page(authorization_url).await;
        let response = self
            .client
            .post(authorization_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(super::form_body(&[("sub", sub)]))
            .send()
            .await
            .unwrap_or_else(|e| panic!("consenting at the OpenID provider failed: {e}"));
        super::redirect_target(response, "consent at the OpenID provider").await
    }

    /// Acts as the browser that denies consent: returns the URL the provider redirects to,
    /// which carries `error=access_denied` but no `state`, although RFC 6749 requires it.
    pub async fn deny(&self, authorization_url: &str) -> reqwest::Url {
        self.open_consent_page(authorization_url).await;
        let response = self
            .client
            .post(authorization_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(super::form_body(&[("action", "deny")]))
            .send()
            .await
            .unwrap_or_else(|e| panic!("denying at the OpenID provider failed: {e}"));
        super::redirect_target(response, "denial at the OpenID provider").await
    }

    /// Opens the consent page as a browser does first, and panics when the provider rejects
    /// the authorization request (it then shows an error page with status 400).
    async fn open_consent_page(&self, authorization_url: &str) {
        let response = self
            .client
            .get(authorization_url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("opening {authorization_url} failed: {e}"));
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            let body = response.text().await.unwrap_or_default();
            panic!(
                "the OpenID provider rejected {authorization_url} with {status}: {body}\n\
                 provider log:\n{}",
                self.log_text()
            );
        }
    }

    /// Polls the discovery document until it returns 200, and returns its `issuer`.
    async fn wait_for_discovery(&mut self, port: u16, deadline: Instant) -> String {
        let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
        loop {
            let outcome = match self.client.get(&url).send().await {
                Ok(response) if response.status().is_success() => {
                    response.json::<Value>().await.map_err(|e| e.to_string())
                }
                Ok(response) => Err(format!("status {}", response.status())),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(discovery) => {
                    return discovery["issuer"]
                        .as_str()
                        .expect("the discovery document has an issuer")
                        .to_owned();
                }
                Err(reason) if Instant::now() >= deadline => panic!(
                    "oidc-provider-mock did not serve {url} within {} s ({reason}); run \
                     `scripts/test.sh` to install it. Provider log:\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    self.log_text()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "oidc-provider-mock exited with {status}. Provider log:\n{}",
                    self.log_text()
                );
            }
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().expect("the log lock").join("\n")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Reads the provider's log until uvicorn reports its port, keeping every line in `log`.
async fn read_port(
    lines: &mut Lines<BufReader<ChildStderr>>,
    log: &Mutex<Vec<String>>,
    deadline: Instant,
) -> u16 {
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let line = match tokio::time::timeout(remaining, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => panic!(
                "oidc-provider-mock exited before listening; run `scripts/test.sh` to install \
                 it. Its output:\n{}",
                log.lock().expect("the log lock").join("\n")
            ),
            Err(_) => panic!(
                "oidc-provider-mock did not listen within {} s. Its output:\n{}",
                STARTUP_TIMEOUT.as_secs(),
                log.lock().expect("the log lock").join("\n")
            ),
        };
        let port = line.split_once(LISTENING_PREFIX).and_then(|(_, rest)| {
            let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
            digits.parse().ok()
        });
        log.lock().expect("the log lock").push(line);
        if let Some(port) = port {
            return port;
        }
    }
}

/// Keeps reading the provider's log until it exits, keeping the last [`LOG_LINES`] lines.
async fn drain(mut lines: Lines<BufReader<ChildStderr>>, log: Arc<Mutex<Vec<String>>>) {
    while let Ok(Some(line)) = lines.next_line().await {
        let mut log = log.lock().expect("the log lock");
        if log.len() == LOG_LINES {
            log.remove(0);
        }
        log.push(line);
    }
}
