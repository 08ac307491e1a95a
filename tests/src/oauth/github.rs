//! A stand-in for GitHub's OAuth app flow and the two REST API endpoints fastauth reads. It
//! responds as GitHub's documentation shows ("Authorizing OAuth apps", "Troubleshooting OAuth
//! app access token request errors", "REST API endpoints for users" and "for emails").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::LoopbackServer;

/// A GitHub account as the stand-in serves it.
#[derive(Clone, Debug)]
pub struct GitHubUser {
    /// The numeric account id, which GitHub never reuses.
    pub id: u64,
    /// The user name.
    pub login: String,
    /// The display name, if the user set one.
    pub name: Option<String>,
    /// The public e-mail address of the profile, `null` unless the user made one public.
    pub email: Option<String>,
    /// The avatar image URL.
    pub avatar_url: Option<String>,
    /// The addresses `GET /user/emails` lists, in order.
    pub emails: Vec<GitHubEmail>,
}

/// One entry of `GET /user/emails`.
#[derive(Clone, Debug)]
pub struct GitHubEmail {
    /// The address.
    pub email: String,
    /// Whether it is the account's primary address.
    pub primary: bool,
    /// Whether GitHub verified it.
    pub verified: bool,
}

/// The GitHub stand-in on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct GitHubStandIn {
    server: LoopbackServer,
    state: Arc<Mutex<GitHubState>>,
    client: reqwest::Client,
}

/// An authorization code and what it was issued for.
#[derive(Debug)]
struct IssuedCode {
    user_id: u64,
    redirect_uri: String,
    scope: String,
    code_challenge: Option<String>,
}

#[derive(Debug)]
struct GitHubState {
    client_id: String,
    client_secret: String,
    users: HashMap<u64, GitHubUser>,
    /// The account that consents at the next authorization request.
    pending_consent: Option<u64>,
    codes: HashMap<String, IssuedCode>,
    /// Access tokens and the account ids they belong to.
    tokens: HashMap<String, u64>,
    emails_failure: Option<StatusCode>,
    token_requests: Vec<Vec<(String, String)>>,
}

/// Where GitHub's token errors point for help, as its documented responses show it.
const TOKEN_ERRORS_URI: &str =
    "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/";
const AUTHORIZATION_ERRORS_URI: &str =
    "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/";

impl GitHubStandIn {
    /// Starts the stand-in for one OAuth app with these credentials.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let state = Arc::new(Mutex::new(GitHubState {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            users: HashMap::new(),
            pending_consent: None,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            emails_failure: None,
            token_requests: Vec::new(),
        }));
        let router = axum::Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/api/user", get(user))
            .route("/api/user/emails", get(emails))
            .with_state(Arc::clone(&state));
        Self {
            server: LoopbackServer::start(router).await,
            state,
            client: super::browser(),
        }
    }

    /// Returns the authorization endpoint, `{base}/login/oauth/authorize`.
    pub fn auth_url(&self) -> String {
        format!("{}/login/oauth/authorize", self.server.base_url)
    }

    /// Returns the token endpoint, `{base}/login/oauth/access_token`.
    pub fn token_url(&self) -> String {
        format!("{}/login/oauth/access_token", self.server.base_url)
    }

    /// Returns the REST API base, `{base}/api`, under which `/user` and `/user/emails` are.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.server.base_url)
    }

    /// Adds the account, or replaces the one with the same id.
    pub fn set_user(&self, user: GitHubUser) {
        self.lock().users.insert(user.id, user);
    }

    /// Acts as the browser: opens `authorization_url`, consents as account `id`, and returns
    /// the URL GitHub redirects to (`redirect_uri?code=...&state=...`) without following it.
    pub async fn consent(&self, authorization_url: &str, id: u64) -> reqwest::Url {
        assert!(
            self.lock().users.contains_key(&id),
            "GitHub account {id} is unknown: call set_user first"
        );
        self.lock().pending_consent = Some(id);
        let response = self
            .client
            .get(authorization_url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("opening {authorization_url} failed: {e}"));
        // A rejected request leaves the consent pending, and it must not reach the next one.
        self.lock().pending_consent = None;
        super::redirect_target(response, "consent at GitHub").await
    }

    /// Acts as the browser whose user cancels: returns the URL GitHub redirects to, which
    /// carries `error=access_denied` and the `state`.
    pub async fn deny(&self, authorization_url: &str) -> reqwest::Url {
        self.lock().pending_consent = None;
        let response = self
            .client
            .get(authorization_url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("opening {authorization_url} failed: {e}"));
        super::redirect_target(response, "denial at GitHub").await
    }

    /// Makes `GET /user/emails` respond with `status` from now on.
    pub fn fail_emails(&self, status: u16) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status");
        self.lock().emails_failure = Some(status);
    }

    /// Returns the forms of all token requests so far, in order, each as its pairs in the
    /// order they were sent.
    pub fn token_requests(&self) -> Vec<Vec<(String, String)>> {
        self.lock().token_requests.clone()
    }

    fn lock(&self) -> MutexGuard<'_, GitHubState> {
        self.state.lock().expect("the GitHub state lock")
    }
}

type Shared = State<Arc<Mutex<GitHubState>>>;

/// `GET /login/oauth/authorize`: consents as the pending account, or redirects with
/// `access_denied` when none is pending (the user cancelled).
async fn authorize(State(state): Shared, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut state = state.lock().expect("the GitHub state lock");
    let param = |name: &str| query.get(name).cloned();
    if param("client_id").as_deref() != Some(state.client_id.as_str()) {
        // GitHub shows a 404 page for an unknown client id.
        return (StatusCode::NOT_FOUND, "unknown client_id").into_response();
    }
    // GitHub falls back to the registered callback URL; the stand-in has none registered.
    let Some(redirect_uri) = param("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let state_param = param("state").unwrap_or_default();
    let method = param("code_challenge_method");
    let code_challenge = param("code_challenge");
    if code_challenge.is_some() && method.as_deref() != Some("S256") {
        // GitHub accepts only the S256 method.
        return (
            StatusCode::BAD_REQUEST,
            "code_challenge_method must be S256",
        )
            .into_response();
    }

    let Some(user_id) = state.pending_consent.take() else {
        let target = super::with_query(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The user has denied your application access.",
                ),
                ("state", &state_param),
            ],
        );
        return Redirect::to(&target).into_response();
    };
    let code = super::random_token();
    state.codes.insert(
        code.clone(),
        IssuedCode {
            user_id,
            redirect_uri: redirect_uri.clone(),
            scope: param("scope").unwrap_or_default(),
            code_challenge,
        },
    );
    let target = super::with_query(&redirect_uri, &[("code", &code), ("state", &state_param)]);
    Redirect::to(&target).into_response()
}

/// `POST /login/oauth/access_token`: exchanges a code once. Like GitHub, it returns errors
/// with status 200 too, as JSON when the request accepts it and as a form otherwise.
async fn access_token(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let form = super::parse_form(&body);
    let mut state = state.lock().expect("the GitHub state lock");
    state.token_requests.push(form.clone());
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));

    let pairs = match exchange_code(&mut state, &form) {
        Ok(pairs) => pairs,
        Err((error, description, error_uri)) => vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
            ("error_uri", error_uri),
        ],
    };
    if wants_json {
        let object: serde_json::Map<String, Value> = pairs
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Value::String(value)))
            .collect();
        Json(object).into_response()
    } else {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            body,
        )
            .into_response()
    }
}

/// A token error: the `error` code, its description and its `error_uri`.
type TokenError = (&'static str, &'static str, String);

/// Checks a token request and issues an access token, in GitHub's order: the client
/// credentials, the code (spent by this request whatever follows), the redirect URI, PKCE.
fn exchange_code(
    state: &mut GitHubState,
    form: &[(String, String)],
) -> Result<Vec<(&'static str, String)>, TokenError> {
    let value = |name: &str| super::form_value(form, name);
    if value("client_id") != Some(state.client_id.as_str())
        || value("client_secret") != Some(state.client_secret.as_str())
    {
        return Err((
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
            format!("{TOKEN_ERRORS_URI}#incorrect-client-credentials"),
        ));
    }
    let bad_code = || {
        (
            "bad_verification_code",
            "The code passed is incorrect or expired.",
            format!("{TOKEN_ERRORS_URI}#bad-verification-code"),
        )
    };
    let issued = value("code")
        .and_then(|code| state.codes.remove(code))
        .ok_or_else(bad_code)?;
    // GitHub accepts a token request without redirect_uri; one that is sent must match.
    if value("redirect_uri").is_some_and(|uri| uri != issued.redirect_uri) {
        return Err((
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
            format!("{AUTHORIZATION_ERRORS_URI}#redirect-uri-mismatch2"),
        ));
    }
    if let Some(challenge) = &issued.code_challenge {
        let verified = value("code_verifier")
            .is_some_and(|verifier| super::pkce_challenge(verifier) == *challenge);
        if !verified {
            // NOTE: GitHub documents no error code for a failed PKCE check, so the stand-in
            // returns the one for a bad code.
            return Err(bad_code());
        }
    }

    let token = format!("gho_{}", super::random_token());
    state.tokens.insert(token.clone(), issued.user_id);
    // GitHub lists the granted scopes separated by commas.
    let scope = issued
        .scope
        .split([' ', ','])
        .filter(|scope| !scope.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    Ok(vec![
        ("access_token", token),
        ("scope", scope),
        ("token_type", "bearer".to_owned()),
    ])
}

/// `GET /user`: the authenticated account.
async fn user(State(state): Shared, headers: HeaderMap) -> Response {
    let state = state.lock().expect("the GitHub state lock");
    let user = match authenticate(&state, &headers) {
        Ok(user) => user,
        Err(rejection) => return rejection.into_response(),
    };
    Json(json!({
        "login": user.login,
        "id": user.id,
        "avatar_url": user.avatar_url,
        "html_url": format!("https://github.com/{}", user.login),
        "type": "User",
        "name": user.name,
        "email": user.email,
    }))
    .into_response()
}

/// `GET /user/emails`: the account's addresses, or the failure set by `fail_emails`.
async fn emails(State(state): Shared, headers: HeaderMap) -> Response {
    let state = state.lock().expect("the GitHub state lock");
    let user = match authenticate(&state, &headers) {
        Ok(user) => user,
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(status) = state.emails_failure {
        let message = status.canonical_reason().unwrap_or("Error");
        return (status, Json(json!({ "message": message }))).into_response();
    }
    let list: Vec<Value> = user
        .emails
        .iter()
        .map(|entry| {
            // GitHub reports the visibility of the primary address only.
            let visibility = match (entry.primary, &user.email) {
                (false, _) => Value::Null,
                (true, Some(public)) if *public == entry.email => json!("public"),
                (true, _) => json!("private"),
            };
            json!({
                "email": entry.email,
                "primary": entry.primary,
                "verified": entry.verified,
                "visibility": visibility,
            })
        })
        .collect();
    Json(list).into_response()
}

/// Why the REST API rejected a request.
#[derive(Debug)]
enum ApiRejection {
    /// 403: GitHub rejects requests without a `User-Agent` header.
    NoUserAgent,
    /// 401: the access token is missing or unknown.
    BadCredentials,
}

impl IntoResponse for ApiRejection {
    fn into_response(self) -> Response {
        match self {
            Self::NoUserAgent => {
                let message = "Request forbidden by administrative rules. Please make sure your \
                               request has a User-Agent header.";
                (StatusCode::FORBIDDEN, message).into_response()
            }
            Self::BadCredentials => {
                let body = json!({
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "401",
                });
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            }
        }
    }
}

/// Finds the account of the request's access token, which GitHub takes with either the
/// `Bearer` or the `token` scheme.
fn authenticate<'a>(
    state: &'a GitHubState,
    headers: &HeaderMap,
) -> Result<&'a GitHubUser, ApiRejection> {
    if !headers.contains_key(header::USER_AGENT) {
        return Err(ApiRejection::NoUserAgent);
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("token "))
        });
    token
        .and_then(|token| state.tokens.get(token))
        .and_then(|id| state.users.get(id))
        .ok_or(ApiRejection::BadCredentials)
}
