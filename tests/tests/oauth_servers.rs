//! The providers of `fastauth_tests::oauth`, driven by hand with plain HTTP and no fastauth
//! runtime: for each, the authorization code flow with PKCE (S256) from the authorization URL
//! to the profile, the ID token checked against the provider's JWKS, and the rejections the
//! OAuth tests rely on. oidc-provider-mock comes from the virtual environment that
//! `scripts/test.sh` creates (`FASTAUTH_OIDC_PYTHON`).

use fastauth_tests::oauth::{
    Forgery, ForgingProvider, GitHubEmail, GitHubStandIn, GitHubUser, OidcProvider, browser,
    form_body, pkce_challenge, random_token,
};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

const CLIENT_ID: &str = "fastauth-client";
const CLIENT_SECRET: &str = "fastauth-client-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:8000/auth/oauth/google/callback";
const GITHUB_REDIRECT_URI: &str = "http://127.0.0.1:8000/auth/oauth/github/callback";

/// The values a client keeps between the authorization request and the callback.
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
}

impl Flow {
    fn new() -> Self {
        Self {
            state: random_token(),
            nonce: random_token(),
            verifier: format!("{}{}", random_token(), random_token()),
        }
    }

    /// Builds an OpenID authorization URL as fastauth does for Google.
    fn openid_url(&self, endpoint: &str) -> String {
        let challenge = pkce_challenge(&self.verifier);
        let mut url = Url::parse(endpoint).expect("a valid authorization endpoint");
        url.query_pairs_mut().extend_pairs([
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]);
        url.into()
    }

    /// Builds a GitHub authorization URL as fastauth does.
    fn github_url(&self, endpoint: &str) -> String {
        let challenge = pkce_challenge(&self.verifier);
        let mut url = Url::parse(endpoint).expect("a valid authorization endpoint");
        url.query_pairs_mut().extend_pairs([
            ("client_id", CLIENT_ID),
            ("redirect_uri", GITHUB_REDIRECT_URI),
            ("scope", "user:email"),
            ("state", &self.state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]);
        url.into()
    }

    /// Checks that `target` is the redirect URI with this flow's state, and returns the code.
    fn code_from(&self, target: &Url, redirect_uri: &str) -> String {
        let mut bare = target.clone();
        bare.set_query(None);
        assert_eq!(bare.as_str(), redirect_uri);
        assert_eq!(
            query_value(target, "state").as_deref(),
            Some(self.state.as_str())
        );
        query_value(target, "code").expect("the redirect carries a code")
    }

    /// Returns the form of an OpenID token request with `client_secret_post`.
    fn token_form<'a>(&'a self, code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", verifier),
        ]
    }
}

fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Posts `form` to `url` and returns the status and the JSON body.
async fn post_form(url: &str, form: &[(&str, &str)], accept_json: bool) -> (StatusCode, Value) {
    let mut request = browser()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(form));
    if accept_json {
        request = request.header("accept", "application/json");
    }
    let response = request.send().await.expect("the token request was sent");
    let status = response.status();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

async fn get_json(url: &str) -> Value {
    let response = browser()
        .get(url)
        .send()
        .await
        .expect("the request was sent");
    assert_eq!(response.status(), StatusCode::OK, "GET {url}");
    response.json().await.expect("a JSON body")
}

/// Returns the response of `url` with `Authorization: Bearer <token>`.
async fn get_with_token(url: &str, token: &str) -> reqwest::Response {
    browser()
        .get(url)
        .bearer_auth(token)
        .header("user-agent", "fastauth-tests")
        .send()
        .await
        .expect("the request was sent")
}

/// Returns the JSON header segment of a compact JWS.
fn jwt_header(token: &str) -> Value {
    use base64::Engine as _;
    let segment = token.split('.').next().expect("a JWT has a header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON header")
}

/// Verifies an ID token against `jwks` as an OpenID client must: RS256 only, the key named
/// by `kid`, `iss`, `aud` and `exp` without leeway. Returns the claims, or the reason of the
/// rejection (the name of jsonwebtoken's error kind, or a sentence).
fn verify_id_token(token: &str, jwks: &Value, issuer: &str) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWKS");
    let kid = jwt_header(token)["kid"]
        .as_str()
        .ok_or("the token has no kid")?
        .to_owned();
    let jwk = set.find(&kid).ok_or(format!("no key {kid} in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).expect("an RSA JWK");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("{:?}", e.kind()))
}

fn ada_claims() -> Value {
    json!({
        "email": "ada@example.com",
        "email_verified": true,
        "name": "Ada Lovelace",
        "picture": "http://127.0.0.1:8000/ada.png",
    })
}

// oidc-provider-mock

#[tokio::test]
async fn oidc_provider_code_flow() {
    let provider = OidcProvider::start().await;
    let issuer = provider.issuer().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    let discovery = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], json!(issuer));
    provider.set_user("ada-1", ada_claims()).await;

    let flow = Flow::new();
    let endpoint = discovery["authorization_endpoint"].as_str().unwrap();
    let target = provider.consent(&flow.openid_url(endpoint), "ada-1").await;
    let code = flow.code_from(&target, REDIRECT_URI);

    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();
    let form = flow.token_form(&code, &flow.verifier);
    let (status, tokens) = post_form(token_endpoint, &form, true).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], json!("Bearer"));

    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let jwks = get_json(discovery["jwks_uri"].as_str().unwrap()).await;
    let claims = verify_id_token(id_token, &jwks, &issuer).expect("a valid ID token");
    assert_eq!(claims["sub"], json!("ada-1"));
    assert_eq!(claims["aud"], json!([CLIENT_ID]));
    assert_eq!(claims["nonce"], json!(flow.nonce));
    assert_eq!(claims["email"], json!("ada@example.com"));
    assert_eq!(claims["email_verified"], json!(true));
    assert_eq!(claims["name"], json!("Ada Lovelace"));
    assert_eq!(claims["picture"], json!("http://127.0.0.1:8000/ada.png"));

    let access_token = tokens["access_token"].as_str().expect("an access token");
    let userinfo_endpoint = discovery["userinfo_endpoint"].as_str().unwrap();
    let response = get_with_token(userinfo_endpoint, access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut expected = ada_claims();
    expected["sub"] = json!("ada-1");
    assert_eq!(response.json::<Value>().await.unwrap(), expected);

    let (status, reused) = post_form(token_endpoint, &form, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reused}");
    assert_eq!(reused["error"], json!("invalid_grant"));
}

#[tokio::test]
async fn oidc_provider_unverified_email_with_basic_auth() {
    let provider = OidcProvider::start().await;
    let issuer = provider.issuer().to_owned();
    provider
        .set_user(
            "eve-1",
            json!({"email": "eve@example.com", "email_verified": false, "name": "Eve"}),
        )
        .await;

    let flow = Flow::new();
    let target = provider
        .consent(
            &flow.openid_url(&format!("{issuer}/oauth2/authorize")),
            "eve-1",
        )
        .await;
    let code = flow.code_from(&target, REDIRECT_URI);

    // client_secret_basic: the credentials go in the header, not the form.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", flow.verifier.as_str()),
    ];
    let response = browser()
        .post(format!("{issuer}/oauth2/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let jwks = get_json(&format!("{issuer}/jwks")).await;
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks, &issuer)
        .expect("a valid ID token");
    assert_eq!(claims["email"], json!("eve@example.com"));
    assert_eq!(claims["email_verified"], json!(false));
}

#[tokio::test]
async fn oidc_provider_ignores_code_verifier() {
    // NOTE: oidc-provider-mock 0.3.4 registers no PKCE extension with Authlib, so it issues
    // tokens for a wrong code_verifier. A test of fastauth's handling of a PKCE mismatch
    // needs the forging provider or the GitHub stand-in. This test fails once the provider
    // starts checking, so the note can go then.
    let provider = OidcProvider::start().await;
    let issuer = provider.issuer().to_owned();
    provider.set_user("ada-1", ada_claims()).await;
    let flow = Flow::new();
    let target = provider
        .consent(
            &flow.openid_url(&format!("{issuer}/oauth2/authorize")),
            "ada-1",
        )
        .await;
    let code = flow.code_from(&target, REDIRECT_URI);

    let wrong = random_token();
    let form = flow.token_form(&code, &wrong);
    let (status, tokens) = post_form(&format!("{issuer}/oauth2/token"), &form, true).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string(), "{tokens}");
}

#[tokio::test]
async fn oidc_provider_denial() {
    let provider = OidcProvider::start().await;
    let flow = Flow::new();
    let url = flow.openid_url(&format!("{}/oauth2/authorize", provider.issuer()));
    let target = provider.deny(&url).await;
    let mut bare = target.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), REDIRECT_URI);
    assert_eq!(
        query_value(&target, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_value(&target, "code"), None);
    // NOTE: RFC 6749, section 4.1.2.1, requires the state in an error redirect, but
    // oidc-provider-mock 0.3.4 leaves it out, so a callback cannot tie this denial to a flow.
    assert_eq!(query_value(&target, "state"), None);
}

// GitHub stand-in

fn octocat() -> GitHubUser {
    GitHubUser {
        id: 583231,
        login: "octo-ada".to_owned(),
        name: Some("Ada Octo".to_owned()),
        email: None,
        avatar_url: Some("http://127.0.0.1:8000/octo.png".to_owned()),
        emails: vec![
            GitHubEmail {
                email: "ada@old.example".to_owned(),
                primary: false,
                verified: false,
            },
            GitHubEmail {
                email: "ada@example.com".to_owned(),
                primary: true,
                verified: true,
            },
        ],
    }
}

/// Consents as the octocat and returns the flow and the code.
async fn github_code(github: &GitHubStandIn) -> (Flow, String) {
    let flow = Flow::new();
    let target = github
        .consent(&flow.github_url(&github.auth_url()), octocat().id)
        .await;
    let code = flow.code_from(&target, GITHUB_REDIRECT_URI);
    (flow, code)
}

fn github_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", GITHUB_REDIRECT_URI),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn github_code_flow() {
    let github = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    github.set_user(octocat());
    let (flow, code) = github_code(&github).await;

    let form = github_form(&code, &flow.verifier);
    let (status, tokens) = post_form(&github.token_url(), &form, true).await;
    assert_eq!(status, StatusCode::OK);
    let access_token = tokens["access_token"].as_str().expect("an access token");
    assert!(access_token.starts_with("gho_"), "{access_token}");
    assert_eq!(tokens["token_type"], json!("bearer"));
    assert_eq!(tokens["scope"], json!("user:email"));
    let sent: Vec<(String, String)> = form
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    assert_eq!(github.token_requests(), vec![sent]);

    let response = get_with_token(&format!("{}/user", github.api_url()), access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["id"], json!(583231));
    assert_eq!(user["login"], json!("octo-ada"));
    assert_eq!(user["name"], json!("Ada Octo"));
    assert_eq!(user["email"], Value::Null);
    assert_eq!(user["avatar_url"], json!("http://127.0.0.1:8000/octo.png"));

    let response = get_with_token(&format!("{}/user/emails", github.api_url()), access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let emails: Value = response.json().await.unwrap();
    assert_eq!(
        emails,
        json!([
            {"email": "ada@old.example", "primary": false, "verified": false, "visibility": null},
            {"email": "ada@example.com", "primary": true, "verified": true, "visibility": "private"},
        ])
    );

    let (status, reused) = post_form(&github.token_url(), &form, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reused["error"], json!("bad_verification_code"));
    assert_eq!(github.token_requests().len(), 2);
}

#[tokio::test]
async fn github_rejects_wrong_verifier() {
    let github = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    github.set_user(octocat());
    let (_, code) = github_code(&github).await;
    let wrong = random_token();
    let (status, body) = post_form(&github.token_url(), &github_form(&code, &wrong), true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"], json!("bad_verification_code"));
    assert_eq!(body.get("access_token"), None);
}

#[tokio::test]
async fn github_token_errors() {
    let github = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    github.set_user(octocat());

    let (flow, code) = github_code(&github).await;
    let mut form = github_form(&code, &flow.verifier);
    form[1].1 = "wrong-secret";
    let (_, body) = post_form(&github.token_url(), &form, true).await;
    assert_eq!(body["error"], json!("incorrect_client_credentials"));
    assert_eq!(
        body["error_description"],
        json!("The client_id and/or client_secret passed are incorrect.")
    );

    let (flow, code) = github_code(&github).await;
    let mut form = github_form(&code, &flow.verifier);
    form[3].1 = "http://127.0.0.1:8000/elsewhere";
    let (_, body) = post_form(&github.token_url(), &form, true).await;
    assert_eq!(body["error"], json!("redirect_uri_mismatch"));

    // Without `Accept: application/json` GitHub returns a form.
    let (flow, code) = github_code(&github).await;
    let response = browser()
        .post(github.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&github_form(&code, &flow.verifier)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let keys: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["access_token", "scope", "token_type"]);
    assert_eq!(pairs[2].1, "bearer");
}

#[tokio::test]
async fn github_api_rejections() {
    let github = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    github.set_user(octocat());
    let (flow, code) = github_code(&github).await;
    let form = github_form(&code, &flow.verifier);
    let (_, tokens) = post_form(&github.token_url(), &form, true).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let user_url = format!("{}/user", github.api_url());

    let response = browser()
        .get(&user_url)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = get_with_token(&user_url, "gho_unknown").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], json!("Bad credentials"));

    github.fail_emails(500);
    let emails_url = format!("{}/user/emails", github.api_url());
    let response = get_with_token(&emails_url, access_token).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let response = get_with_token(&user_url, access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn github_denial() {
    let github = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let flow = Flow::new();
    let target = github.deny(&flow.github_url(&github.auth_url())).await;
    assert_eq!(
        query_value(&target, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_value(&target, "state").as_deref(),
        Some(flow.state.as_str())
    );
}

// Forging provider

/// Runs a flow as `ada-1` and returns the flow and the token response.
async fn forged_tokens(provider: &ForgingProvider) -> (Flow, Value) {
    let flow = Flow::new();
    let url = flow.openid_url(&format!("{}/authorize", provider.issuer()));
    let target = provider.consent(&url, "ada-1").await;
    let code = flow.code_from(&target, REDIRECT_URI);
    let form = flow.token_form(&code, &flow.verifier);
    let (status, tokens) = post_form(&format!("{}/token", provider.issuer()), &form, true).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (flow, tokens)
}

async fn forging_provider() -> ForgingProvider {
    let provider = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    provider.set_user("ada-1", ada_claims());
    provider
}

#[tokio::test]
async fn forging_provider_code_flow() {
    let provider = forging_provider().await;
    let issuer = provider.issuer().to_owned();
    let discovery = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], json!(issuer));
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post", "client_secret_basic"])
    );
    assert_eq!(provider.discovery_requests(), 1);

    let flow = Flow::new();
    let endpoint = discovery["authorization_endpoint"].as_str().unwrap();
    let target = provider.consent(&flow.openid_url(endpoint), "ada-1").await;
    let code = flow.code_from(&target, REDIRECT_URI);

    // client_secret_basic here; `forged_tokens` uses client_secret_post.
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", flow.verifier.as_str()),
    ];
    let send = || {
        browser()
            .post(token_endpoint)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
    };
    let response = send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], json!("Bearer"));

    let jwks = get_json(discovery["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(provider.jwks_requests(), 1);
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_header(id_token)["kid"], json!(provider.current_kid()));
    let claims = verify_id_token(id_token, &jwks, &issuer).expect("a valid ID token");
    assert_eq!(claims["sub"], json!("ada-1"));
    assert_eq!(claims["aud"], json!(CLIENT_ID));
    assert_eq!(claims["nonce"], json!(flow.nonce));
    assert_eq!(claims["email"], json!("ada@example.com"));
    assert_eq!(claims["email_verified"], json!(true));

    let access_token = tokens["access_token"].as_str().unwrap();
    let userinfo = discovery["userinfo_endpoint"].as_str().unwrap();
    let response = get_with_token(userinfo, access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut expected = ada_claims();
    expected["sub"] = json!("ada-1");
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
    let response = get_with_token(userinfo, "unknown").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let reused = send().await.unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let body: Value = reused.json().await.unwrap();
    assert_eq!(body["error"], json!("invalid_grant"));
}

/// Changes one field of a token request form.
type SpoilForm = fn(&mut Vec<(&str, &str)>);

#[tokio::test]
async fn forging_provider_rejects_bad_clients_and_verifiers() {
    let provider = forging_provider().await;
    let token_endpoint = format!("{}/token", provider.issuer());
    let authorize = format!("{}/authorize", provider.issuer());
    let cases: [(&str, SpoilForm); 3] = [
        ("wrong verifier", |form| form[5].1 = "a-wrong-code-verifier"),
        ("missing verifier", |form| {
            form.remove(5);
        }),
        ("other redirect URI", |form| {
            form[2].1 = "http://127.0.0.1:8000/elsewhere";
        }),
    ];
    for (case, spoil) in cases {
        let flow = Flow::new();
        let target = provider
            .consent(&flow.openid_url(&authorize), "ada-1")
            .await;
        let code = flow.code_from(&target, REDIRECT_URI);
        let mut form = flow.token_form(&code, &flow.verifier);
        spoil(&mut form);
        let (status, body) = post_form(&token_endpoint, &form, true).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body["error"], json!("invalid_grant"), "{case}");
    }

    let flow = Flow::new();
    let target = provider
        .consent(&flow.openid_url(&authorize), "ada-1")
        .await;
    let code = flow.code_from(&target, REDIRECT_URI);
    let mut form = flow.token_form(&code, &flow.verifier);
    form[4].1 = "wrong-secret";
    let (status, body) = post_form(&token_endpoint, &form, true).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], json!("invalid_client"));
}

#[tokio::test]
async fn forging_provider_forgeries() {
    let provider = forging_provider().await;
    let issuer = provider.issuer().to_owned();
    let jwks = get_json(&format!("{issuer}/jwks")).await;
    let rejected = [
        (Forgery::BadSignature, "InvalidSignature"),
        (Forgery::WrongAudience, "InvalidAudience"),
        (Forgery::WrongIssuer, "InvalidIssuer"),
        (Forgery::Expired, "ExpiredSignature"),
    ];
    for (forgery, reason) in rejected {
        provider.forge(forgery);
        let (_, tokens) = forged_tokens(&provider).await;
        let id_token = tokens["id_token"].as_str().expect("an ID token");
        assert_eq!(
            jwt_header(id_token)["kid"],
            json!(provider.current_kid()),
            "{forgery:?}"
        );
        let outcome = verify_id_token(id_token, &jwks, &issuer);
        assert_eq!(outcome.err().as_deref(), Some(reason), "{forgery:?}");
    }

    provider.forge(Forgery::WrongNonce);
    let (flow, tokens) = forged_tokens(&provider).await;
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks, &issuer).unwrap();
    assert!(claims["nonce"].is_string());
    assert_ne!(claims["nonce"], json!(flow.nonce));

    provider.forge(Forgery::SubjectMismatch);
    let (_, tokens) = forged_tokens(&provider).await;
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks, &issuer).unwrap();
    assert_eq!(claims["sub"], json!("ada-1-other"));
    let userinfo = get_with_token(
        &format!("{issuer}/userinfo"),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["sub"], json!("ada-1"));

    provider.forge(Forgery::NoIdToken);
    let (_, tokens) = forged_tokens(&provider).await;
    assert_eq!(tokens.get("id_token"), None);
    assert!(tokens["access_token"].is_string());

    provider.forge(Forgery::None);
    let (flow, tokens) = forged_tokens(&provider).await;
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks, &issuer).unwrap();
    assert_eq!(claims["nonce"], json!(flow.nonce));
}

#[tokio::test]
async fn forging_provider_rotates_key() {
    let provider = forging_provider().await;
    let issuer = provider.issuer().to_owned();
    let cached = get_json(&format!("{issuer}/jwks")).await;
    let first_kid = provider.current_kid();
    let (_, tokens) = forged_tokens(&provider).await;
    let first = tokens["id_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_header(&first)["kid"], json!(first_kid));

    provider.rotate_key();
    let second_kid = provider.current_kid();
    assert_ne!(second_kid, first_kid);
    let (_, tokens) = forged_tokens(&provider).await;
    let second = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_header(second)["kid"], json!(second_kid));
    assert_eq!(
        verify_id_token(second, &cached, &issuer).err(),
        Some(format!("no key {second_kid} in the JWKS"))
    );

    let fresh = get_json(&format!("{issuer}/jwks")).await;
    assert_eq!(provider.jwks_requests(), 2);
    let kids: Vec<&str> = fresh["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [first_kid.as_str(), second_kid.as_str()]);
    assert!(verify_id_token(second, &fresh, &issuer).is_ok());
    assert!(verify_id_token(&first, &fresh, &issuer).is_ok());
}
