//! The providers the OAuth tests sign in with, each on a free loopback port:
//!
//! - [`OidcProvider`]: oidc-provider-mock, a maintained OpenID provider, run as a process in
//!   place of Google;
//! - [`GitHubStandIn`]: a small server that serves GitHub's OAuth app flow and the user and
//!   e-mail endpoints of its REST API as GitHub documents them;
//! - [`ForgingProvider`]: an OpenID provider of our own that issues the defective ID tokens a
//!   real provider never issues ([`Forgery`]).
//!
//! Each has a `consent` method that plays the browser at the provider: it opens the
//! authorization URL that fastauth returned, consents as a given user and returns the URL the
//! provider redirects the browser to, without following it.

mod forging;
mod github;
mod oidc;

pub use forging::{Forgery, ForgingProvider};
pub use github::{GitHubEmail, GitHubStandIn, GitHubUser};
pub use oidc::OidcProvider;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Returns the PKCE `S256` code challenge of `verifier`: base64url without padding of the
/// verifier's SHA-256 digest (RFC 7636, section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Returns 32 random bytes as base64url without padding (43 characters): a fresh state,
/// nonce, code verifier, authorization code or access token.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Returns an HTTP client that acts as the browser: it follows no redirect and uses no proxy,
/// so every request stays on loopback and each redirect can be inspected.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the HTTP client builds")
}

/// Returns the `Location` of a redirect response, and panics with the status and body when
/// `response` is no redirect.
async fn redirect_target(response: reqwest::Response, what: &str) -> reqwest::Url {
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match location {
        Some(location) if status.is_redirection() => reqwest::Url::parse(&location)
            .unwrap_or_else(|e| panic!("{what} redirected to an invalid URL {location}: {e}")),
        _ => {
            let body = response.text().await.unwrap_or_default();
            panic!("{what} returned {status} instead of a redirect: {body}")
        }
    }
}

/// Encodes `pairs` as an `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Returns `url` with the query parameters `pairs` appended.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(url).expect("a valid redirect URI");
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

/// Parses an `application/x-www-form-urlencoded` body into its pairs, in order.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Returns the value of `name` in form or query `pairs`, if present.
fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// An axum server on a free loopback port, stopped when dropped.
#[derive(Debug)]
struct LoopbackServer {
    base_url: String,
    task: JoinHandle<()>,
}

impl LoopbackServer {
    /// Binds 127.0.0.1 on a port the system picks and serves `router` there.
    async fn start(router: axum::Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port failed");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the loopback server failed");
        });
        Self {
            base_url: format!("http://{address}"),
            task,
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
