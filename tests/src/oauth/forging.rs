//! An OpenID provider of our own whose ID tokens a test can spoil on purpose. It provokes the
//! rejections a real provider never provokes: a bad signature, a wrong audience, issuer or
//! nonce, an expired token, a subject that differs from userinfo, or no ID token at all.
//! Everything else follows OpenID Connect Core: discovery, a JWKS, the authorization code flow
//! with PKCE (S256), the token endpoint with `client_secret_post` or `client_secret_basic`,
//! and userinfo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::LoopbackServer;

/// Lifetime of the access and ID tokens, in seconds.
const TOKEN_LIFETIME: i64 = 3600;

/// What is wrong with the ID token of the next token responses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Forgery {
    /// Nothing: a valid ID token.
    #[default]
    None,
    /// The header names a key of the JWKS, but another key signed the token.
    BadSignature,
    /// `aud` is another client's id.
    WrongAudience,
    /// `iss` is not the provider's issuer.
    WrongIssuer,
    /// `nonce` differs from the one of the authorization request.
    WrongNonce,
    /// `exp` lies an hour in the past (and `iat` two hours).
    Expired,
    /// `sub` differs from the subject that userinfo returns.
    SubjectMismatch,
    /// The token response has no `id_token`.
    NoIdToken,
    /// `aud` lists this client and another, and `azp` names the other one.
    ForeignAuthorizedParty,
}

/// The forging provider on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct ForgingProvider {
    server: LoopbackServer,
    state: Arc<Mutex<ProviderState>>,
    client: reqwest::Client,
}

/// An RSA signing key with its public JWK.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// An authorization code and the authorization request it was issued for.
#[derive(Debug)]
struct IssuedCode {
    sub: String,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    scope: String,
}

#[derive(Debug)]
struct ProviderState {
    issuer: String,
    client_id: String,
    client_secret: String,
    /// Keys published in the JWKS. The last one signs.
    keys: Vec<SigningKey>,
    /// A key never published, which signs the `BadSignature` tokens.
    impostor: SigningKey,
    users: HashMap<String, Value>,
    /// The subject that consents at the next authorization request.
    pending_consent: Option<String>,
    codes: HashMap<String, IssuedCode>,
    /// Access tokens and the subjects they belong to.
    tokens: HashMap<String, String>,
    forgery: Forgery,
    jwks_requests: usize,
    discovery_requests: usize,
}

impl ForgingProvider {
    /// Starts the provider for one client with these credentials, signing with a fresh
    /// 2048-bit RSA key.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let state = Arc::new(Mutex::new(ProviderState {
            issuer: String::new(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            keys: vec![generate_key()],
            impostor: generate_key(),
            users: HashMap::new(),
            pending_consent: None,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            forgery: Forgery::None,
            jwks_requests: 0,
            discovery_requests: 0,
        }));
        let router = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(Arc::clone(&state));
        let server = LoopbackServer::start(router).await;
        state.lock().expect("the provider state lock").issuer = server.base_url.clone();
        Self {
            server,
            state,
            client: super::browser(),
        }
    }

    /// Returns the issuer, which is also the base URL: `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> &str {
        &self.server.base_url
    }

    /// Sets the claims of user `sub` (`email`, `email_verified`, `name`, `picture`...), which
    /// userinfo and the ID token carry. Replaces any claims set before.
    pub fn set_user(&self, sub: &str, claims: Value) {
        assert!(claims.is_object(), "user claims must be a JSON object");
        self.lock().users.insert(sub.to_owned(), claims);
    }

    /// Spoils the ID token of every token response from now on, until the next call.
    pub fn forge(&self, forgery: Forgery) {
        self.lock().forgery = forgery;
    }

    /// Signs with a new key (with a new `kid`) from now on and publishes it next to the old
    /// ones, so a verifier that cached the JWKS must fetch it again on the unknown `kid`.
    pub fn rotate_key(&self) {
        let key = generate_key();
        self.lock().keys.push(key);
    }

    /// Returns the `kid` of the key that signs now.
    pub fn current_kid(&self) -> String {
        let state = self.lock();
        state.keys.last().expect("one key at least").kid.clone()
    }

    /// Returns how often the JWKS was fetched.
    pub fn jwks_requests(&self) -> usize {
        self.lock().jwks_requests
    }

    /// Returns how often the discovery document was fetched.
    pub fn discovery_requests(&self) -> usize {
        self.lock().discovery_requests
    }

    /// Acts as the browser: opens `authorization_url`, consents as `sub`, and returns the URL
    /// the provider redirects to (`redirect_uri?code=...&state=...`) without following it.
    pub async fn consent(&self, authorization_url: &str, sub: &str) -> reqwest::Url {
        assert!(
            self.lock().users.contains_key(sub),
            "user {sub} is unknown: call set_user first"
        );
        self.lock().pending_consent = Some(sub.to_owned());
        let response = self
            .client
            .get(authorization_url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("opening {authorization_url} failed: {e}"));
        // A rejected request leaves the consent pending, and it must not reach the next one.
        self.lock().pending_consent = None;
        super::redirect_target(response, "consent at the forging provider").await
    }

    fn lock(&self) -> MutexGuard<'_, ProviderState> {
        self.state.lock().expect("the provider state lock")
    }
}

/// Generates a 2048-bit RSA key whose `kid` is its RFC 7638 thumbprint.
fn generate_key() -> SigningKey {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::KeyPair as _;

    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("generating an RSA key failed");
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> =
        pair.as_der().expect("encoding the RSA key failed");
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a valid RSA key");

    let public = aws_lc_rs::signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let n = URL_SAFE_NO_PAD.encode(&public.n);
    let e = URL_SAFE_NO_PAD.encode(&public.e);
    // RFC 7638: the required members in lexicographic order, without whitespace.
    let members = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, members.as_bytes());
    let kid = URL_SAFE_NO_PAD.encode(digest.as_ref());
    let jwk = json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
    SigningKey { kid, encoding, jwk }
}

type Shared = State<Arc<Mutex<ProviderState>>>;

fn lock(state: &Mutex<ProviderState>) -> MutexGuard<'_, ProviderState> {
    state.lock().expect("the provider state lock")
}

/// `GET /.well-known/openid-configuration`.
async fn discovery(State(state): Shared) -> Json<Value> {
    let mut state = lock(&state);
    state.discovery_requests += 1;
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
    }))
}

/// `GET /jwks`: the published public keys.
async fn jwks(State(state): Shared) -> Json<Value> {
    let mut state = lock(&state);
    state.jwks_requests += 1;
    let keys: Vec<Value> = state.keys.iter().map(|key| key.jwk.clone()).collect();
    Json(json!({ "keys": keys }))
}

/// `GET /authorize`: checks the client, stores the request with a new code for the pending
/// subject and redirects back; without a pending consent, redirects with `access_denied`.
async fn authorize(State(state): Shared, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut state = lock(&state);
    let param = |name: &str| query.get(name).cloned();
    // RFC 6749, section 4.1.2.1: with an unknown client or redirect URI there is nowhere safe
    // to redirect to, so the provider shows an error page.
    if param("client_id").as_deref() != Some(state.client_id.as_str()) {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Some(redirect_uri) = param("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let state_param = param("state").unwrap_or_default();
    let refuse = |error: &str, description: &str| {
        let pairs = [
            ("error", error),
            ("error_description", description),
            ("state", &state_param),
        ];
        Redirect::to(&super::with_query(&redirect_uri, &pairs)).into_response()
    };
    if param("response_type").as_deref() != Some("code") {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    let code_challenge = param("code_challenge");
    if code_challenge.is_some() && param("code_challenge_method").as_deref() != Some("S256") {
        return refuse("invalid_request", "code_challenge_method must be S256");
    }
    let Some(sub) = state.pending_consent.take() else {
        return refuse("access_denied", "the user denied the request");
    };

    let code = super::random_token();
    state.codes.insert(
        code.clone(),
        IssuedCode {
            sub,
            redirect_uri: redirect_uri.clone(),
            nonce: param("nonce"),
            code_challenge,
            scope: param("scope").unwrap_or_default(),
        },
    );
    let pairs = [("code", code.as_str()), ("state", state_param.as_str())];
    Redirect::to(&super::with_query(&redirect_uri, &pairs)).into_response()
}

/// `POST /token`: exchanges a code once, checking the client, the redirect URI and PKCE, and
/// returns an access token and the (possibly forged) ID token.
async fn token(State(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let form = super::parse_form(&body);
    let mut state = lock(&state);
    match exchange_code(&mut state, &headers, &form) {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Err((status, error, description)) => {
            let body = json!({ "error": error, "error_description": description });
            (status, Json(body)).into_response()
        }
    }
}

/// A token error: the status, the `error` code of RFC 6749, section 5.2, and a description.
type TokenError = (StatusCode, &'static str, &'static str);

fn exchange_code(
    state: &mut ProviderState,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, TokenError> {
    let value = |name: &str| super::form_value(form, name);
    let (client_id, client_secret) = client_credentials(headers, form).ok_or((
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client credentials are missing",
    ))?;
    if client_id != state.client_id || client_secret != state.client_secret {
        return Err((
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ));
    }
    if value("grant_type") != Some("authorization_code") {
        return Err((
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        ));
    }
    let invalid_grant = |description| (StatusCode::BAD_REQUEST, "invalid_grant", description);
    // A code is spent by its first use, whatever follows.
    let issued = value("code")
        .and_then(|code| state.codes.remove(code))
        .ok_or(invalid_grant("the code is invalid or was used already"))?;
    if value("redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    if let Some(challenge) = &issued.code_challenge {
        let verified = value("code_verifier")
            .is_some_and(|verifier| super::pkce_challenge(verifier) == *challenge);
        if !verified {
            return Err(invalid_grant(
                "the code_verifier does not match the code_challenge",
            ));
        }
    }

    let access_token = super::random_token();
    state
        .tokens
        .insert(access_token.clone(), issued.sub.clone());
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": issued.scope,
    });
    if state.forgery != Forgery::NoIdToken {
        body["id_token"] = Value::String(id_token(state, &issued));
    }
    Ok(body)
}

/// Returns the client id and secret of a token request, from HTTP Basic authentication
/// (each part form-urlencoded, RFC 6749, section 2.3.1) or else from the form.
fn client_credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "));
    if let Some(encoded) = basic {
        let decoded = STANDARD.decode(encoded).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return Some((form_decode(id), form_decode(secret)));
    }
    let id = super::form_value(form, "client_id")?;
    let secret = super::form_value(form, "client_secret")?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Decodes one form-urlencoded component: `+` is a space, `%XX` a byte.
fn form_decode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Signs the ID token of `issued`, spoiled as the current [`Forgery`] selects.
fn id_token(state: &ProviderState, issued: &IssuedCode) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = state
        .users
        .get(&issued.sub)
        .cloned()
        .unwrap_or_else(|| json!({}));
    claims["iss"] = json!(state.issuer);
    claims["sub"] = json!(issued.sub);
    claims["aud"] = json!(state.client_id);
    claims["azp"] = json!(state.client_id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + TOKEN_LIFETIME);
    if let Some(nonce) = &issued.nonce {
        claims["nonce"] = json!(nonce);
    }

    let current = state.keys.last().expect("one key at least");
    let mut signer = &current.encoding;
    match state.forgery {
        Forgery::None | Forgery::NoIdToken => {}
        Forgery::BadSignature => signer = &state.impostor.encoding,
        Forgery::WrongAudience => claims["aud"] = json!("another-client"),
        Forgery::ForeignAuthorizedParty => {
            claims["aud"] = json!([state.client_id, "another-client"]);
            claims["azp"] = json!("another-client");
        }
        Forgery::WrongIssuer => claims["iss"] = json!(format!("{}/elsewhere", state.issuer)),
        Forgery::WrongNonce => claims["nonce"] = json!(super::random_token()),
        Forgery::Expired => {
            claims["iat"] = json!(now - 2 * TOKEN_LIFETIME);
            claims["exp"] = json!(now - TOKEN_LIFETIME);
        }
        Forgery::SubjectMismatch => claims["sub"] = json!(format!("{}-other", issued.sub)),
    }

    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(current.kid.clone());
    jsonwebtoken::encode(&header, &claims, signer).expect("signing the ID token failed")
}

/// `GET /userinfo`: the claims of the access token's subject.
async fn userinfo(State(state): Shared, headers: HeaderMap) -> Response {
    let state = lock(&state);
    let sub = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| state.tokens.get(token));
    let Some(sub) = sub else {
        // RFC 6750, section 3.1.
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    };
    let mut claims = state.users.get(sub).cloned().unwrap_or_else(|| json!({}));
    claims["sub"] = json!(sub);
    Json(claims).into_response()
}
