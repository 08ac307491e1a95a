//! The e-mailed flows together with hooks, rate limits and the lockout. The tests check
//! which hook runs when an address is verified, a password reset or a magic link used, and
//! what the `allow_signin` gate returns on a magic link. They also check the limit of the
//! forgot-password route, and a reset lifting the lock of repeated failed logins.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fastauth::core::hooks::{AuthHooks, HookResult};
use fastauth::mail::Outbox;
use fastauth::store::UserRecord;
use fastauth::{LockoutConfig, RateLimit, RateLimitConfig};
use fastauth_tests::mail::{link_of, mail_config, nth_message, path_of, token_of};
use fastauth_tests::{PASSWORD, TestApp, TestDb, User};
use serde_json::json;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Hooks that record the calls of the e-mailed flows as `hook:detail`.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<Mutex<Vec<String>>>,
    deny_signin: bool,
}

impl Recorder {
    fn record(&self, hook: &str, detail: &str) -> HookResult {
        let mut calls = self.calls.lock().expect("the call list is not poisoned");
        calls.push(format!("{hook}:{detail}"));
        Ok(())
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("the call list is not poisoned"))
    }
}

impl AuthHooks<User> for Recorder {
    async fn on_signup(&self, user: &UserRecord<User>) -> HookResult {
        self.record("on_signup", &user.core.email)
    }

    async fn on_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult {
        self.record("on_signin", &format!("{provider}:{}", user.core.email))
    }

    async fn on_email_verify(&self, user: &UserRecord<User>) -> HookResult {
        let verified = user.core.email_verified;
        self.record(
            "on_email_verify",
            &format!("{}:{verified}", user.core.email),
        )
    }

    async fn on_password_reset(&self, user: &UserRecord<User>) -> HookResult {
        self.record("on_password_reset", &user.core.email)
    }

    async fn on_magic_link_sent(&self, email: &str, user: Option<&UserRecord<User>>) -> HookResult {
        let account = if user.is_some() { "account" } else { "none" };
        self.record("on_magic_link_sent", &format!("{email}:{account}"))
    }

    async fn on_account_deleted(&self, user_id: &str) -> HookResult {
        let known = if user_id.is_empty() { "empty" } else { "id" };
        self.record("on_account_deleted", known)
    }

    async fn allow_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult<bool> {
        self.record("allow_signin", &format!("{provider}:{}", user.core.email))?;
        Ok(!self.deny_signin)
    }
}

/// Requests a magic link for `email` and returns the path of the `nth` message to it.
async fn magic_link(app: &TestApp, outbox: &Outbox, email: &str, nth: usize) -> String {
    let reply = app
        .post("/auth/magic-links/login", &json!({ "email": email }))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    path_of(&link_of(&nth_message(outbox, email, nth).await))
}

pub(crate) async fn mail_hooks_fire_in_each_flow(db: &TestDb) {
    let outbox = Outbox::new();
    let hooks = Recorder::default();
    let app = db
        .app_with(mail_config(&outbox), Some(hooks.clone()), false)
        .await;
    let pair = app.register("ada@example.com").await;
    hooks.take();

    // The welcome message is the first; the verification link the second.
    let reply = app
        .post_authorized("/auth/request-verify-email", &pair.access, &json!({}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let link = link_of(&nth_message(&outbox, "ada@example.com", 2).await);
    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(hooks.take(), ["on_email_verify:ada@example.com:true"]);

    let reply = app
        .post(
            "/auth/forgot-password",
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let token = token_of(&nth_message(&outbox, "ada@example.com", 3).await);
    let body = json!({ "token": token, "new_password": NEW_PASSWORD });
    let reply = app.post("/auth/reset-password", &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(hooks.take(), ["on_password_reset:ada@example.com"]);

    // A magic link to an address without an account: the account is created at the
    // callback, verified by the link, then signed in.
    let path = magic_link(&app, &outbox, "bob@example.com", 1).await;
    assert_eq!(hooks.take(), ["on_magic_link_sent:bob@example.com:none"]);
    let reply = app.get_with(&path, &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        hooks.take(),
        [
            "on_signup:bob@example.com",
            "on_email_verify:bob@example.com:true",
            "allow_signin:magic_link:bob@example.com",
            "on_signin:magic_link:bob@example.com",
        ]
    );

    // A magic link to an existing, verified account fires neither sign-up nor verify.
    let path = magic_link(&app, &outbox, "ada@example.com", 4).await;
    let reply = app.get_with(&path, &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        hooks.take(),
        [
            "on_magic_link_sent:ada@example.com:account",
            "allow_signin:magic_link:ada@example.com",
            "on_signin:magic_link:ada@example.com",
        ]
    );

    let login = app
        .post(
            "/auth/login",
            &json!({ "email": "ada@example.com", "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(login.status.as_u16(), 200, "{}", login.text);
    hooks.take();
    let access = login.json["access_token"]
        .as_str()
        .expect("an access token");
    let reply = app
        .request_json(
            "DELETE",
            "/auth/account",
            Some(access),
            Some(&json!({ "password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(hooks.take(), ["on_account_deleted:id"]);
}

pub(crate) async fn magic_link_respects_allow_signin(db: &TestDb) {
    let outbox = Outbox::new();
    let hooks = Recorder {
        deny_signin: true,
        ..Recorder::default()
    };
    let app = db
        .app_with(mail_config(&outbox), Some(hooks.clone()), false)
        .await;
    let path = magic_link(&app, &outbox, "eve@example.com", 1).await;
    let reply = app.get_with(&path, &[]).await;
    assert_eq!(reply.status.as_u16(), 403, "{}", reply.text);
    assert_eq!(reply.json, json!({ "detail": "Sign-in not allowed" }));
    assert!(
        reply.set_cookies().is_empty(),
        "a refused sign-in sets no cookie"
    );
    let calls = hooks.take();
    assert!(
        !calls.iter().any(|call| call.starts_with("on_signin")),
        "{calls:?}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM fastauth_sessions").await,
        0,
        "no session for a refused sign-in"
    );
}

pub(crate) async fn forgot_password_is_rate_limited(db: &TestDb) {
    let outbox = Outbox::new();
    let limits = RateLimitConfig {
        per_ip: None,
        per_account: Some(RateLimit::new(2, Duration::from_secs(60))),
    };
    let app = db.app(mail_config(&outbox).rate_limits(limits)).await;
    let body = json!({ "email": "nobody@example.com" });
    for _ in 0..2 {
        let reply = app.post("/auth/forgot-password", &body).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }
    let reply = app.post("/auth/forgot-password", &body).await;
    assert_eq!(reply.status.as_u16(), 429, "{}", reply.text);
    assert_eq!(reply.json, json!({ "detail": "Too many requests" }));
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("whole seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // The limit is per address: another one is still served.
    let other = json!({ "email": "somebody@example.com" });
    let reply = app.post("/auth/forgot-password", &other).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn password_reset_lifts_the_lockout(db: &TestDb) {
    let outbox = Outbox::new();
    let lockout = LockoutConfig {
        max_attempts: 3,
        ..LockoutConfig::default()
    };
    let app = db.app(mail_config(&outbox).lockout(Some(lockout))).await;
    app.register("ada@example.com").await;
    let wrong = json!({ "email": "ada@example.com", "password": "not the password" });
    for _ in 0..3 {
        let reply = app.post("/auth/login", &wrong).await;
        assert_eq!(reply.status.as_u16(), 401, "{}", reply.text);
    }
    let right = json!({ "email": "ada@example.com", "password": PASSWORD });
    let reply = app.post("/auth/login", &right).await;
    assert_eq!(reply.status.as_u16(), 429, "locked: {}", reply.text);

    let reply = app
        .post(
            "/auth/forgot-password",
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let token = token_of(&nth_message(&outbox, "ada@example.com", 2).await);
    let body = json!({ "token": token, "new_password": NEW_PASSWORD });
    let reply = app.post("/auth/reset-password", &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    let fresh = json!({ "email": "ada@example.com", "password": NEW_PASSWORD });
    let reply = app.post("/auth/login", &fresh).await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "the reset lifted the lock: {}",
        reply.text
    );
}
