//! `/auth/oauth/*`: sign-in with Google (OpenID Connect) against oidc-provider-mock and a
//! provider of our own that forges ID tokens, sign-in with GitHub against a stand-in of its
//! API, account linking, the state and redirect refusals, and the link routes.

use std::sync::{Arc, Mutex};

use fastauth::TokenDelivery;
use fastauth::core::hooks::{AuthHooks, HookResult};
use fastauth::oauth::{GitHubConfig, GoogleConfig};
use fastauth::store::UserRecord;
use fastauth_tests::oauth::{
    Forgery, ForgingProvider, GitHubEmail, GitHubStandIn, GitHubUser, OidcProvider,
};
use fastauth_tests::{PASSWORD, Reply, TestApp, TestDb, TokenPair, User, config};
use serde_json::{Value, json};

use crate::{rows_of_user, user_id};

const CLIENT_ID: &str = "fastauth-test-client";
const CLIENT_SECRET: &str = "fastauth-test-client-secret";
const GOOGLE_CALLBACK: &str = "http://localhost:8000/auth/oauth/google/callback";
const GITHUB_CALLBACK: &str = "http://localhost:8000/auth/oauth/github/callback";
const GITHUB_LINK_CALLBACK: &str = "http://localhost:8000/auth/oauth/github/link/callback";
const FRONT_END: &str = "https://app.example/oauth/done";

fn google(issuer: &str) -> GoogleConfig {
    GoogleConfig::new(CLIENT_ID, CLIENT_SECRET).issuer_url(issuer)
}

fn github(stand_in: &GitHubStandIn) -> GitHubConfig {
    GitHubConfig::new(CLIENT_ID, CLIENT_SECRET)
        .auth_url(stand_in.auth_url())
        .token_url(stand_in.token_url())
        .api_url(stand_in.api_url())
}

/// Returns a GitHub account with one address, primary and verified as given, and no public
/// address.
fn github_user(id: u64, email: &str, verified: bool) -> GitHubUser {
    GitHubUser {
        id,
        login: format!("user{id}"),
        name: None,
        email: None,
        avatar_url: Some(format!("https://avatars.example/{id}")),
        emails: vec![GitHubEmail {
            email: email.to_owned(),
            primary: true,
            verified,
        }],
    }
}

fn query(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Calls an authorize (or link) route and returns the reply.
async fn authorize(app: &TestApp, path: &str, redirect: &str, access: Option<&str>) -> Reply {
    let uri = format!("{path}?redirect_uri={}", encode(redirect));
    app.request_json("GET", &uri, access, None).await
}

/// Starts a sign-in flow and returns the provider's authorization URL.
async fn start(app: &TestApp, provider: &str, redirect: &str) -> String {
    let reply = authorize(
        app,
        &format!("/auth/oauth/{provider}/authorize"),
        redirect,
        None,
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json["url"].as_str().expect("a url").to_owned()
}

/// Follows the provider's redirect to fastauth's callback in-process and returns the reply.
async fn follow(app: &TestApp, target: &reqwest::Url, access: Option<&str>) -> Reply {
    let uri = format!("{}?{}", target.path(), target.query().unwrap_or_default());
    app.request_json("GET", &uri, access, None).await
}

fn pair_of(reply: &Reply) -> TokenPair {
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    TokenPair::from_reply(reply)
}

async fn me(app: &TestApp, access: &str) -> Value {
    let reply = app.me(access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json
}

async fn links(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) FROM fastauth_oauth_accounts")
        .await
}

async fn users(db: &TestDb) -> i64 {
    db.count("SELECT COUNT(*) FROM fastauth_users").await
}

/// Counts the audit rows of `kind` for GitHub and `user_id`.
async fn github_events(db: &TestDb, kind: &str, user_id: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) FROM fastauth_audit_events \
         WHERE kind = '{kind}' AND provider = 'github' AND user_id = '{user_id}'"
    ))
    .await
}

/// Signs in through GitHub as account `id` and returns the callback's reply.
async fn github_sign_in(app: &TestApp, stand_in: &GitHubStandIn, id: u64) -> Reply {
    let url = start(app, "github", GITHUB_CALLBACK).await;
    let target = stand_in.consent(&url, id).await;
    follow(app, &target, None).await
}

/// Checks that a new address at the real OpenID provider gets an account, verified, linked
/// and signed in. A second sign-in finds the same account through the link.
pub(crate) async fn google_sign_in_creates_account(db: &TestDb) {
    let provider = OidcProvider::start().await;
    let claims = json!({
        "email": "Ada@Example.com",
        "email_verified": true,
        "name": "Ada Lovelace",
        "picture": "https://img.example/ada.png",
    });
    provider.set_user("google-sub-ada", claims).await;
    let app = db.app(config().google(google(provider.issuer()))).await;

    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    assert!(url.starts_with(provider.issuer()), "{url}");
    assert_eq!(param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        param(&url, "redirect_uri").as_deref(),
        Some(GOOGLE_CALLBACK)
    );
    assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&url, "scope").as_deref(),
        Some("openid email profile")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&url, "code_challenge").map(|c| c.len()), Some(43));
    assert_eq!(param(&url, "state").map(|s| s.len()), Some(43));
    assert_eq!(param(&url, "nonce").map(|n| n.len()), Some(43));
    assert_eq!(param(&url, "access_type").as_deref(), Some("offline"));
    assert_eq!(param(&url, "prompt").as_deref(), Some("consent"));

    let target = provider.consent(&url, "google-sub-ada").await;
    assert_eq!(
        format!(
            "{}://{}{}",
            target.scheme(),
            target.authority(),
            target.path()
        ),
        GOOGLE_CALLBACK
    );
    let pair = pair_of(&follow(&app, &target, None).await);
    let profile = me(&app, &pair.access).await;
    assert_eq!(profile["email"], "ada@example.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["image"], "https://img.example/ada.png");
    let id = profile["id"].as_str().expect("an id").to_owned();

    let accounts = app.get("/auth/oauth/accounts", &pair.access).await;
    assert_eq!(accounts.status.as_u16(), 200, "{}", accounts.text);
    assert_eq!(
        accounts.json,
        json!([{ "provider": "google", "provider_account_id": "google-sub-ada" }])
    );
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);

    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "google-sub-ada").await;
    let again = pair_of(&follow(&app, &target, None).await);
    assert_eq!(user_id(&app, &again.access).await, id);
    assert_eq!(users(db).await, 1);
    assert_eq!(links(db).await, 1);
    // No password: the account signs in through Google only.
    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
}

/// Checks that an account registered with a password but never verified, then signed in
/// through a provider that vouches for the address, is linked and verified, and loses the
/// unproven password and its sessions (pre-account hijacking).
pub(crate) async fn google_links_existing_account(db: &TestDb) {
    let provider = OidcProvider::start().await;
    provider
        .set_user(
            "google-sub-bob",
            json!({ "email": "bob@example.com", "email_verified": true }),
        )
        .await;
    let app = db.app(config().google(google(provider.issuer()))).await;
    let registered = app.register("bob@example.com").await;
    let id = user_id(&app, &registered.access).await;

    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "google-sub-bob").await;
    let pair = pair_of(&follow(&app, &target, None).await);
    assert_eq!(user_id(&app, &pair.access).await, id);
    assert_eq!(me(&app, &pair.access).await["email_verified"], true);
    assert_eq!(rows_of_user(db, "fastauth_oauth_accounts", &id).await, 1);
    app.login_with("bob@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    let refresh = app.refresh(&registered.refresh).await;
    assert_eq!(refresh.status.as_u16(), 401, "{}", refresh.text);
    assert_eq!(users(db).await, 1);
}

/// Checks that an existing account is not linked when the provider does not vouch for the
/// address, and that nothing changes.
pub(crate) async fn google_unverified_email_rejected(db: &TestDb) {
    let provider = OidcProvider::start().await;
    provider
        .set_user(
            "google-sub-eve",
            json!({ "email": "carol@example.com", "email_verified": false }),
        )
        .await;
    let app = db.app(config().google(google(provider.issuer()))).await;
    app.register("carol@example.com").await;

    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "google-sub-eve").await;
    follow(&app, &target, None)
        .await
        .assert_error(400, "OAuth provider email is not verified");
    assert_eq!(links(db).await, 0);
    let login = app.login_with("carol@example.com", PASSWORD).await;
    assert_eq!(login.status.as_u16(), 200, "{}", login.text);
}

/// Checks that a state works once, and that a made-up state, a state of another flow and a
/// missing code are rejected.
pub(crate) async fn google_state_rejections(db: &TestDb) {
    let provider = OidcProvider::start().await;
    provider
        .set_user(
            "google-sub-dan",
            json!({ "email": "dan@example.com", "email_verified": true }),
        )
        .await;
    let app = db.app(config().google(google(provider.issuer()))).await;

    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "google-sub-dan").await;
    pair_of(&follow(&app, &target, None).await);
    // Replayed: the state was taken by the first callback.
    follow(&app, &target, None)
        .await
        .assert_error(400, "Invalid or expired OAuth state");

    let forged = format!(
        "/auth/oauth/google/callback?code=abc&state={}",
        fastauth_tests::oauth::random_token()
    );
    app.get_with(&forged, &[])
        .await
        .assert_error(400, "Invalid or expired OAuth state");
    app.get_with(
        "/auth/oauth/google/callback?code=abc&state=not%20base64",
        &[],
    )
    .await
    .assert_error(400, "Invalid or expired OAuth state");

    let missing = app
        .get_with("/auth/oauth/google/callback?state=x", &[])
        .await;
    missing.assert_validation("missing", &json!(["query", "code"]));

    // The provider's own refusal comes first, without a code.
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let denied = provider.deny(&url).await;
    follow(&app, &denied, None)
        .await
        .assert_error(400, "OAuth provider returned an error: access_denied");
    // A failed callback still uses the state up: the real code cannot follow a bad one.
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "google-sub-dan").await;
    let state = param(target.as_str(), "state").expect("a state");
    let bad = app
        .get_with(
            &format!("/auth/oauth/google/callback?code=bad&state={state}"),
            &[],
        )
        .await;
    assert_eq!(bad.status.as_u16(), 400, "{}", bad.text);
    assert!(
        bad.detail().starts_with("Google token exchange failed: "),
        "{}",
        bad.text
    );
    follow(&app, &target, None)
        .await
        .assert_error(400, "Invalid or expired OAuth state");
    assert_eq!(users(db).await, 1);
}

/// Redirect targets come only from the flow's own callback and the allow-list, compared as
/// exact strings; unknown and unconfigured providers are not found.
pub(crate) async fn oauth_redirect_allow_list(db: &TestDb) {
    let provider = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    let app = db
        .app(
            config()
                .google(google(provider.issuer()))
                .allowed_redirects([FRONT_END]),
        )
        .await;
    start(&app, "google", GOOGLE_CALLBACK).await;
    let url = start(&app, "google", FRONT_END).await;
    assert_eq!(param(&url, "redirect_uri").as_deref(), Some(FRONT_END));

    for rejected in [
        "https://app.example/oauth/done/",
        "https://app.example/oauth/done?next=/admin",
        "https://app.example.attacker.test/oauth/done",
        "https://app.example@attacker.test/oauth/done",
        "//app.example/oauth/done",
        "HTTPS://APP.EXAMPLE/oauth/done",
        "javascript:alert(1)",
        "http://localhost:8000/auth/oauth/google/link/callback",
        "http://localhost:8000/auth/oauth/github/callback",
        "",
    ] {
        authorize(&app, "/auth/oauth/google/authorize", rejected, None)
            .await
            .assert_error(400, "redirect_uri is not allowed");
    }
    let no_redirect = app.get_with("/auth/oauth/google/authorize", &[]).await;
    no_redirect.assert_validation("missing", &json!(["query", "redirect_uri"]));
    authorize(&app, "/auth/oauth/facebook/authorize", FRONT_END, None)
        .await
        .assert_error(404, "OAuth provider 'facebook' not found");
    // Declared, but no client configured.
    authorize(&app, "/auth/oauth/github/authorize", GITHUB_CALLBACK, None)
        .await
        .assert_error(404, "OAuth provider 'github' not found");
    // The link flow has its own callback, and needs a signed-in caller.
    let pair = app.register("frank@example.com").await;
    let link = "/auth/oauth/google/link";
    authorize(&app, link, GOOGLE_CALLBACK, Some(&pair.access))
        .await
        .assert_error(400, "redirect_uri is not allowed");
    authorize(
        &app,
        link,
        "http://localhost:8000/auth/oauth/google/link/callback",
        None,
    )
    .await
    .assert_not_authenticated();
    let reply = authorize(
        &app,
        link,
        "http://localhost:8000/auth/oauth/google/link/callback",
        Some(&pair.access),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

/// Checks that each defect of an ID token is rejected and creates no account. After the
/// provider rotates its key, a valid token verifies after one fetch of the key set.
pub(crate) async fn google_id_token_forgeries(db: &TestDb) {
    let provider = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    provider.set_user(
        "forged-sub",
        json!({ "email": "grace@example.com", "email_verified": true }),
    );
    let app = db.app(config().google(google(provider.issuer()))).await;
    for forgery in [
        Forgery::BadSignature,
        Forgery::WrongAudience,
        Forgery::WrongIssuer,
        Forgery::WrongNonce,
        Forgery::Expired,
        Forgery::SubjectMismatch,
        Forgery::NoIdToken,
        Forgery::ForeignAuthorizedParty,
    ] {
        provider.forge(forgery);
        let url = start(&app, "google", GOOGLE_CALLBACK).await;
        let target = provider.consent(&url, "forged-sub").await;
        let reply = follow(&app, &target, None).await;
        assert_eq!(reply.status.as_u16(), 400, "{forgery:?}: {}", reply.text);
        assert_eq!(
            reply.detail(),
            "Google token exchange failed: invalid id_token",
            "{forgery:?}"
        );
    }
    assert_eq!(users(db).await, 0);
    assert_eq!(links(db).await, 0);

    provider.forge(Forgery::None);
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "forged-sub").await;
    pair_of(&follow(&app, &target, None).await);
    let fetched = provider.jwks_requests();
    provider.rotate_key();
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = provider.consent(&url, "forged-sub").await;
    pair_of(&follow(&app, &target, None).await);
    assert_eq!(provider.jwks_requests(), fetched + 1);
    // The discovery document is read once and cached.
    assert_eq!(provider.discovery_requests(), 1);
}

/// Checks a GitHub sign-in by the verified primary address. The code exchange carries the
/// PKCE verifier and the stored redirect URI, so a tampered verifier is rejected by GitHub.
pub(crate) async fn github_sign_in_with_pkce(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let mut user = github_user(4242, "Heidi@Example.com", true);
    user.name = Some("Heidi".to_owned());
    stand_in.set_user(user);
    let state = db.state_store().await;
    let app = db
        .app(
            config()
                .github(github(&stand_in))
                .state_store(Arc::clone(&state)),
        )
        .await;
    let url = start(&app, "github", GITHUB_CALLBACK).await;
    assert!(url.starts_with(&stand_in.auth_url()), "{url}");
    assert_eq!(param(&url, "scope").as_deref(), Some("user:email"));
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&url, "nonce"), None);
    let target = stand_in.consent(&url, 4242).await;
    let pair = pair_of(&follow(&app, &target, None).await);
    let profile = me(&app, &pair.access).await;
    assert_eq!(profile["email"], "heidi@example.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["name"], "Heidi");
    assert_eq!(profile["image"], "https://avatars.example/4242");
    let form = stand_in.token_requests().pop().expect("a token request");
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("redirect_uri").as_deref(), Some(GITHUB_CALLBACK));
    assert_eq!(field("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(field("code_verifier").map(|v| v.len()), Some(86));

    // Another flow, whose stored verifier no longer matches the challenge GitHub saw.
    let url = start(&app, "github", GITHUB_CALLBACK).await;
    tamper_state(&state, &url, |record| {
        assert_eq!(record["provider"], "github");
        assert_eq!(record["redirect_uri"], GITHUB_CALLBACK);
        assert_eq!(record["code_verifier"].as_str().map(str::len), Some(86));
        record["code_verifier"] = json!(fastauth_tests::oauth::random_token());
    })
    .await;
    let target = stand_in.consent(&url, 4242).await;
    follow(&app, &target, None)
        .await
        .assert_error(400, "GitHub token exchange failed: bad_verification_code");
}

/// Checks GitHub's address rules. An unverified address of a new account signs in unverified,
/// and not at all in verification-required mode. An empty and a failing list are rejected.
pub(crate) async fn github_email_rules(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(1, "ivan@example.com", false));
    let mut no_address = github_user(2, "unused@example.com", true);
    no_address.emails.clear();
    stand_in.set_user(no_address);
    stand_in.set_user(github_user(3, "judy@example.com", true));
    let app = db.app(config().github(github(&stand_in))).await;

    let pair = pair_of(&github_sign_in(&app, &stand_in, 1).await);
    assert_eq!(me(&app, &pair.access).await["email_verified"], false);
    github_sign_in(&app, &stand_in, 2)
        .await
        .assert_error(400, "No email found on GitHub account");
    stand_in.fail_emails(500);
    github_sign_in(&app, &stand_in, 3)
        .await
        .assert_error(400, "Failed to fetch GitHub emails");
    assert_eq!(users(db).await, 1);

    let healthy = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    healthy.set_user(github_user(1, "ivan@example.com", false));
    let strict = db
        .app(
            config()
                .github(github(&healthy))
                .require_verified_email(true),
        )
        .await;
    github_sign_in(&strict, &healthy, 1)
        .await
        .assert_error(403, "Email not verified");
}

/// Checks the link flow: a signed-in user links a GitHub account whatever its address, signs
/// in with it and unlinks it. Also checks the rejections of the link callback.
pub(crate) async fn github_link_flow(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(77, "kim-at-github@example.com", false));
    stand_in.set_user(github_user(78, "other@example.com", true));
    let forging = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    let github_and_google = config()
        .github(github(&stand_in))
        .google(google(forging.issuer()));
    // With the SQL audit sink, to check the link events.
    let app = db.app_with(github_and_google, None::<()>, true).await;
    let kim = app.register("kim@example.com").await;
    let kim_id = user_id(&app, &kim.access).await;
    let mallory = app.register("mallory@example.com").await;

    let start_link = |access: String| {
        let app = &app;
        async move {
            let reply = authorize(
                app,
                "/auth/oauth/github/link",
                GITHUB_LINK_CALLBACK,
                Some(&access),
            )
            .await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
            reply.json["url"].as_str().expect("a url").to_owned()
        }
    };

    // Someone else's credentials at the callback.
    let url = start_link(kim.access.clone()).await;
    let target = stand_in.consent(&url, 77).await;
    follow(&app, &target, Some(&mallory.access))
        .await
        .assert_error(403, "Link state belongs to another user");

    let url = start_link(kim.access.clone()).await;
    let target = stand_in.consent(&url, 77).await;
    let reply = follow(&app, &target, None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Github account linked successfully" })
    );
    // Nothing about the user changed, and no tokens came back.
    let profile = me(&app, &kim.access).await;
    assert_eq!(profile["email"], "kim@example.com");
    assert_eq!(profile["email_verified"], false);
    let accounts = app.get("/auth/oauth/accounts", &kim.access).await;
    assert_eq!(
        accounts.json,
        json!([{ "provider": "github", "provider_account_id": "77" }])
    );

    // The linked GitHub account signs in to Kim's account.
    let pair = pair_of(&github_sign_in(&app, &stand_in, 77).await);
    assert_eq!(user_id(&app, &pair.access).await, kim_id);

    // Linked already, to this user or another.
    for access in [&kim.access, &mallory.access] {
        let url = start_link(access.clone()).await;
        let target = stand_in.consent(&url, 77).await;
        follow(&app, &target, None)
            .await
            .assert_error(400, "This provider account is already linked to a user");
    }
    // A sign-in state at the link callback, and a link state at another provider's.
    let url = start(&app, "github", GITHUB_CALLBACK).await;
    let target = stand_in.consent(&url, 78).await;
    let state = param(target.as_str(), "state").expect("a state");
    app.get_with(
        &format!("/auth/oauth/github/link/callback?code=x&state={state}"),
        &[],
    )
    .await
    .assert_error(400, "Invalid or expired link state");
    let url = start_link(kim.access.clone()).await;
    let state = param(&url, "state").expect("a state");
    app.get_with(
        &format!("/auth/oauth/google/link/callback?code=x&state={state}"),
        &[],
    )
    .await
    .assert_error(400, "OAuth state provider mismatch");

    let unlink = app
        .request_json(
            "DELETE",
            "/auth/oauth/accounts/github",
            Some(&kim.access),
            None,
        )
        .await;
    assert_eq!(unlink.status.as_u16(), 200, "{}", unlink.text);
    assert_eq!(unlink.json, json!({ "message": "Account unlinked" }));
    assert_eq!(github_events(db, "oauth_linked", &kim_id).await, 1);
    assert_eq!(github_events(db, "oauth_unlinked", &kim_id).await, 1);
    app.request_json(
        "DELETE",
        "/auth/oauth/accounts/github",
        Some(&kim.access),
        None,
    )
    .await
    .assert_error(404, "No linked github account found");
    app.get_with("/auth/oauth/accounts", &[])
        .await
        .assert_not_authenticated();
    assert_eq!(links(db).await, 0);
}

/// Checks that cookie mode responds with the cookies and no tokens in the body, and that a
/// configured post-login redirect responds 302 with the cookies in either mode.
pub(crate) async fn oauth_callback_delivery(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(5, "liz@example.com", true));
    let cookie_app = db
        .app(
            config()
                .github(github(&stand_in))
                .token_delivery(TokenDelivery::Cookie),
        )
        .await;
    let reply = github_sign_in(&cookie_app, &stand_in, 5).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Authentication successful" })
    );
    let names: Vec<String> = reply.set_cookies().iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["access_token", "refresh_token", "csrf_token"]);

    let redirect_app = db
        .app(
            config()
                .github(github(&stand_in))
                .oauth_success_redirect(FRONT_END),
        )
        .await;
    let reply = github_sign_in(&redirect_app, &stand_in, 5).await;
    assert_eq!(reply.status.as_u16(), 302, "{}", reply.text);
    assert_eq!(reply.header("location"), Some(FRONT_END));
    assert!(reply.text.is_empty(), "{}", reply.text);
    assert_eq!(reply.set_cookies().len(), 3);
    let access = reply.set_cookie("access_token");
    assert!(!reply.text.contains(&access.value));
}

/// Hooks that record the OAuth calls as `hook:detail`.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<Mutex<Vec<String>>>,
    deny_signin: bool,
}

impl Recorder {
    fn record(&self, call: String) -> HookResult {
        self.calls.lock().expect("not poisoned").push(call);
        Ok(())
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("not poisoned"))
    }
}

impl AuthHooks<User> for Recorder {
    async fn on_signup(&self, user: &UserRecord<User>) -> HookResult {
        self.record(format!("on_signup:{}", user.core.email))
    }

    async fn on_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult {
        self.record(format!("on_signin:{provider}:{}", user.core.email))
    }

    async fn on_email_verify(&self, user: &UserRecord<User>) -> HookResult {
        self.record(format!("on_email_verify:{}", user.core.email))
    }

    async fn on_oauth_link(&self, user: &UserRecord<User>, provider: &str) -> HookResult {
        self.record(format!("on_oauth_link:{provider}:{}", user.core.email))
    }

    async fn allow_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult<bool> {
        self.record(format!("allow_signin:{provider}:{}", user.core.email))?;
        Ok(!self.deny_signin)
    }
}

/// Checks the hooks of each OAuth flow in the contract's order, and `allow_signin` rejecting
/// a sign-in.
pub(crate) async fn oauth_hooks(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(10, "mia@example.com", true));
    stand_in.set_user(github_user(11, "ned@example.com", true));
    stand_in.set_user(github_user(12, "mia-second@example.com", true));
    let hooks = Recorder::default();
    let github_config = || config().github(github(&stand_in));
    let app = db
        .app_with(github_config(), Some(hooks.clone()), false)
        .await;

    pair_of(&github_sign_in(&app, &stand_in, 10).await);
    assert_eq!(
        hooks.take(),
        [
            "allow_signin:github:mia@example.com",
            "on_signup:mia@example.com",
            "on_signin:github:mia@example.com",
        ]
    );
    // An unverified registered account, verified by the sign-in.
    app.register("ned@example.com").await;
    hooks.take();
    pair_of(&github_sign_in(&app, &stand_in, 11).await);
    assert_eq!(
        hooks.take(),
        [
            "allow_signin:github:ned@example.com",
            "on_email_verify:ned@example.com",
            "on_signin:github:ned@example.com",
        ]
    );
    // The link flow fires on_oauth_link only.
    let pair = pair_of(&github_sign_in(&app, &stand_in, 10).await);
    hooks.take();
    let reply = authorize(
        &app,
        "/auth/oauth/github/link",
        GITHUB_LINK_CALLBACK,
        Some(&pair.access),
    )
    .await;
    let target = stand_in
        .consent(reply.json["url"].as_str().expect("a url"), 12)
        .await;
    let linked = follow(&app, &target, None).await;
    assert_eq!(linked.status.as_u16(), 200, "{}", linked.text);
    assert_eq!(hooks.take(), ["on_oauth_link:github:mia@example.com"]);

    // Refused: the new account stays, unlinked.
    let denying = Recorder {
        deny_signin: true,
        ..Recorder::default()
    };
    stand_in.set_user(github_user(13, "olga@example.com", true));
    let app = db
        .app_with(github_config(), Some(denying.clone()), false)
        .await;
    github_sign_in(&app, &stand_in, 13)
        .await
        .assert_error(403, "Sign-in not allowed");
    assert_eq!(denying.take(), ["allow_signin:github:olga@example.com"]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM fastauth_users WHERE email = 'olga@example.com'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM fastauth_oauth_accounts WHERE provider_account_id = '13'")
            .await,
        0
    );
}

/// Checks that a deactivated account does not sign in through its link, and that deleting an
/// account removes its links.
pub(crate) async fn oauth_inactive_and_deleted_accounts(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(20, "pat@example.com", true));
    stand_in.set_user(github_user(21, "quinn@example.com", true));
    let app = db.app(config().github(github(&stand_in))).await;
    let pat = pair_of(&github_sign_in(&app, &stand_in, 20).await);
    let pat_id = user_id(&app, &pat.access).await;
    db.execute(&format!(
        "UPDATE fastauth_users SET is_active = FALSE WHERE id = '{pat_id}'"
    ))
    .await;
    github_sign_in(&app, &stand_in, 20)
        .await
        .assert_error(401, "Account is deactivated");

    let quinn = pair_of(&github_sign_in(&app, &stand_in, 21).await);
    let quinn_id = user_id(&app, &quinn.access).await;
    assert_eq!(
        rows_of_user(db, "fastauth_oauth_accounts", &quinn_id).await,
        1
    );
    let deleted = app
        .request_json("DELETE", "/auth/account", Some(&quinn.access), None)
        .await;
    assert_eq!(deleted.status.as_u16(), 200, "{}", deleted.text);
    assert_eq!(
        rows_of_user(db, "fastauth_oauth_accounts", &quinn_id).await,
        0
    );
    // The GitHub account is free again: it creates a new account.
    let again = pair_of(&github_sign_in(&app, &stand_in, 21).await);
    assert_ne!(user_id(&app, &again.access).await, quinn_id);
}

/// Rewrites the stored record of the flow whose authorization URL is `url`.
async fn tamper_state(
    state: &Arc<dyn fastauth::store::StateStore>,
    url: &str,
    change: impl FnOnce(&mut Value),
) {
    let key = format!("oauth_state:{}", param(url, "state").expect("a state"));
    let stored = state.get(&key).await.expect("the state store answers");
    let mut record: Value =
        serde_json::from_str(&stored.expect("the record is stored").value).expect("JSON");
    change(&mut record);
    state
        .set(
            &key,
            &record.to_string(),
            std::time::Duration::from_secs(600),
        )
        .await
        .expect("the state store answers");
}

/// The state record decides: its redirect URI is sent to the token endpoint, its provider
/// must match the path, it must carry a redirect URI, and its PKCE verifier must match the
/// challenge the provider saw. A new account of the admin address gets the admin role.
pub(crate) async fn oauth_state_record_rules(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(30, "root@example.com", true));
    let forging = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    forging.set_user(
        "forged-rita",
        json!({ "email": "rita@example.com", "email_verified": true }),
    );
    let state = db.state_store().await;
    let app = db
        .app(
            config()
                .github(github(&stand_in))
                .google(google(forging.issuer()))
                .allowed_redirects([FRONT_END])
                .admin_email("root@example.com")
                .state_store(Arc::clone(&state)),
        )
        .await;
    let someone = app.register("sam@example.com").await;
    let accounts = app.get("/auth/oauth/accounts", &someone.access).await;
    assert_eq!(accounts.status.as_u16(), 200, "{}", accounts.text);
    assert_eq!(accounts.json, json!([]));

    // A front-end page receives the code and calls the callback itself.
    let url = start(&app, "github", FRONT_END).await;
    let target = stand_in.consent(&url, 30).await;
    assert!(target.as_str().starts_with(FRONT_END), "{target}");
    let code = param(target.as_str(), "code").expect("a code");
    let state_value = param(target.as_str(), "state").expect("a state");
    let reply = app
        .get_with(
            &format!("/auth/oauth/github/callback?code={code}&state={state_value}"),
            &[],
        )
        .await;
    let pair = pair_of(&reply);
    let form = stand_in.token_requests().pop().expect("a token request");
    assert!(
        form.contains(&("redirect_uri".to_owned(), FRONT_END.to_owned())),
        "{form:?}"
    );
    let roles = app.get("/auth/roles/me", &pair.access).await;
    assert_eq!(roles.status.as_u16(), 200, "{}", roles.text);
    assert_eq!(roles.json["roles"], json!(["admin"]));

    let url = start(&app, "github", GITHUB_CALLBACK).await;
    let state_value = param(&url, "state").expect("a state");
    app.get_with(
        &format!("/auth/oauth/google/callback?code=x&state={state_value}"),
        &[],
    )
    .await
    .assert_error(400, "OAuth state provider mismatch");

    let url = start(&app, "github", GITHUB_CALLBACK).await;
    tamper_state(&state, &url, |record| {
        record
            .as_object_mut()
            .expect("an object")
            .remove("redirect_uri");
    })
    .await;
    let target = stand_in.consent(&url, 30).await;
    follow(&app, &target, None)
        .await
        .assert_error(400, "OAuth state is missing redirect_uri");

    // Google's side: the forging provider checks PKCE.
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    tamper_state(&state, &url, |record| {
        record["code_verifier"] = json!(fastauth_tests::oauth::random_token());
    })
    .await;
    let target = forging.consent(&url, "forged-rita").await;
    let reply = follow(&app, &target, None).await;
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.text);
    assert!(
        reply
            .detail()
            .starts_with("Google token exchange failed: {\"error\":\"invalid_grant\""),
        "{}",
        reply.text
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM fastauth_users WHERE email = 'rita@example.com'")
            .await,
        0
    );
}

/// Checks that the account's earlier holder keeps no way in once the owner proves the
/// address. Neither an account made from an unverified GitHub address nor a link made through
/// the link flow survives the owner's sign-in with a provider that vouches for the address,
/// or the owner's password reset.
pub(crate) async fn owner_proof_revokes_earlier_access(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(666, "victim@example.com", false));
    stand_in.set_user(github_user(667, "second@example.com", false));
    stand_in.set_user(github_user(99, "victim-at-github@example.com", true));
    let forging = ForgingProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    forging.set_user(
        "owner",
        json!({ "email": "victim@example.com", "email_verified": true }),
    );
    forging.set_user(
        "second-owner",
        json!({ "email": "second@example.com", "email_verified": true }),
    );
    let outbox = fastauth::mail::Outbox::new();
    let app = db
        .app(
            fastauth_tests::mail::mail_config(&outbox)
                .github(github(&stand_in))
                .google(google(forging.issuer())),
        )
        .await;

    // A GitHub account with the unverified address creates the account.
    let squatter = pair_of(&github_sign_in(&app, &stand_in, 666).await);
    let id = user_id(&app, &squatter.access).await;
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = forging.consent(&url, "owner").await;
    let owner = pair_of(&follow(&app, &target, None).await);
    assert_eq!(user_id(&app, &owner.access).await, id);
    app.me(&squatter.access).await.assert_not_authenticated();
    let accounts = app.get("/auth/oauth/accounts", &owner.access).await;
    assert_eq!(
        accounts.json,
        json!([{ "provider": "google", "provider_account_id": "owner" }])
    );
    github_sign_in(&app, &stand_in, 666)
        .await
        .assert_error(400, "OAuth provider email is not verified");

    // The same, when the owner proves the address with a password reset.
    let squatter = pair_of(&github_sign_in(&app, &stand_in, 667).await);
    let second_id = user_id(&app, &squatter.access).await;
    let reply = app
        .post(
            "/auth/forgot-password",
            &json!({ "email": "second@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let message = fastauth_tests::mail::nth_message(&outbox, "second@example.com", 1).await;
    let token = fastauth_tests::mail::token_of(&message);
    let reset = json!({ "token": token, "new_password": "the owner's passphrase" });
    let reply = app.post("/auth/reset-password", &reset).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        rows_of_user(db, "fastauth_oauth_accounts", &second_id).await,
        0
    );
    app.me(&squatter.access).await.assert_not_authenticated();
    github_sign_in(&app, &stand_in, 667)
        .await
        .assert_error(400, "OAuth provider email is not verified");

    // A password account whose holder linked a GitHub account through the link flow.
    let holder = app.register("linked@example.com").await;
    let holder_id = user_id(&app, &holder.access).await;
    let reply = authorize(
        &app,
        "/auth/oauth/github/link",
        GITHUB_LINK_CALLBACK,
        Some(&holder.access),
    )
    .await;
    let target = stand_in
        .consent(reply.json["url"].as_str().expect("a url"), 99)
        .await;
    assert_eq!(follow(&app, &target, None).await.status.as_u16(), 200);
    forging.set_user(
        "linked-owner",
        json!({ "email": "linked@example.com", "email_verified": true }),
    );
    let url = start(&app, "google", GOOGLE_CALLBACK).await;
    let target = forging.consent(&url, "linked-owner").await;
    let owner = pair_of(&follow(&app, &target, None).await);
    assert_eq!(user_id(&app, &owner.access).await, holder_id);
    app.me(&holder.access).await.assert_not_authenticated();
    app.login_with("linked@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    let accounts = app.get("/auth/oauth/accounts", &owner.access).await;
    assert_eq!(
        accounts.json,
        json!([{ "provider": "google", "provider_account_id": "linked-owner" }])
    );
}

/// A HEAD of a callback (a link preview, a prefetch) uses nothing up; a provider's overlong
/// name is cut to 256 characters and an overlong picture URL left out.
pub(crate) async fn oauth_head_and_profile_limits(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    let mut user = github_user(50, "long@example.com", true);
    user.name = Some("n".repeat(300));
    user.avatar_url = Some(format!("https://avatars.example/{}", "a".repeat(3000)));
    stand_in.set_user(user);
    let app = db.app(config().github(github(&stand_in))).await;
    let url = start(&app, "github", GITHUB_CALLBACK).await;
    let target = stand_in.consent(&url, 50).await;
    let uri = format!("{}?{}", target.path(), target.query().unwrap_or_default());
    let head = axum::http::Request::head(uri)
        .body(axum::body::Body::empty())
        .expect("a valid request");
    let reply = app.send(head).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert!(stand_in.token_requests().is_empty());

    let pair = pair_of(&follow(&app, &target, None).await);
    let profile = me(&app, &pair.access).await;
    assert_eq!(
        profile["name"].as_str().map(|n| n.chars().count()),
        Some(256)
    );
    assert_eq!(profile["image"], Value::Null);
}

/// A GET of an OAuth route from `peer`, as a client at that address sends it.
async fn get_from(app: &TestApp, peer: &str, uri: &str) -> Reply {
    let peer: std::net::SocketAddr = peer.parse().expect("peer is ip:port");
    let mut request = axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .expect("a valid request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.send(request).await
}

/// With a per-address limit, the authorize and callback routes share one budget per client
/// address; a failed OAuth sign-in's security event names the account when there is one.
pub(crate) async fn oauth_rate_limit_and_events(db: &TestDb) {
    let stand_in = GitHubStandIn::start(CLIENT_ID, CLIENT_SECRET).await;
    stand_in.set_user(github_user(60, "uma@example.com", true));
    let limits = fastauth::RateLimitConfig {
        per_ip: Some(fastauth::RateLimit::new(
            3,
            std::time::Duration::from_secs(60),
        )),
        per_account: None,
    };
    let limited = db
        .app(config().github(github(&stand_in)).rate_limits(limits))
        .await;
    let authorize_uri = format!(
        "/auth/oauth/github/authorize?redirect_uri={}",
        encode(GITHUB_CALLBACK)
    );
    for attempt in 1..=2 {
        let reply = get_from(&limited, "192.0.2.7:4000", &authorize_uri).await;
        assert_eq!(
            reply.status.as_u16(),
            200,
            "attempt {attempt}: {}",
            reply.text
        );
    }
    let callback = get_from(
        &limited,
        "192.0.2.7:4001",
        "/auth/oauth/github/callback?code=c&state=s",
    )
    .await;
    callback.assert_error(400, "Invalid or expired OAuth state");
    get_from(&limited, "192.0.2.7:4002", &authorize_uri)
        .await
        .assert_error(429, "Too many requests");
    let other = get_from(&limited, "192.0.2.8:4000", &authorize_uri).await;
    assert_eq!(other.status.as_u16(), 200, "{}", other.text);

    let audited = db
        .app_with(config().github(github(&stand_in)), None::<()>, true)
        .await;
    let pair = pair_of(&github_sign_in(&audited, &stand_in, 60).await);
    let id = user_id(&audited, &pair.access).await;
    db.execute(&format!(
        "UPDATE fastauth_users SET is_active = FALSE WHERE id = '{id}'"
    ))
    .await;
    github_sign_in(&audited, &stand_in, 60)
        .await
        .assert_error(401, "Account is deactivated");
    assert_eq!(github_events(db, "sign_in_failed", &id).await, 1);
    assert_eq!(github_events(db, "sign_in_succeeded", &id).await, 1);
}
