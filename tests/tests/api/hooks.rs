//! Lifecycle hooks: which hook runs in which flow, with which user and in which order. Also
//! what `allow_signin`, `modify_jwt` and `modify_session` change, and a failing hook returning
//! 500 while the effects before it stay.

use std::sync::{Arc, Mutex};

use fastauth::core::hooks::{AuthHooks, HookError, HookResult, PROTECTED_CLAIMS};
use fastauth::store::{SessionRecord, UserRecord};
use fastauth_tests::tokens::claims;
use fastauth_tests::{PASSWORD, TestDb, User, config, cookie_config};
use serde_json::{Map, Value, json};

use crate::{rows_of_user, user_id};

/// Hooks that record every call as `hook:detail` and misbehave on request.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<Mutex<Vec<String>>>,
    /// `allow_signin` returns false.
    deny_signin: bool,
    /// The hook of this name returns an error.
    fail: Option<&'static str>,
    /// `modify_jwt` changes this protected claim.
    change_claim: Option<&'static str>,
}

impl Recorder {
    fn failing(hook: &'static str) -> Self {
        Self {
            fail: Some(hook),
            ..Self::default()
        }
    }

    fn record(&self, hook: &str, detail: &str) -> HookResult {
        let mut calls = self.calls.lock().expect("the call list is not poisoned");
        calls.push(format!("{hook}:{detail}"));
        if self.fail == Some(hook) {
            return Err(HookError::new(format!("{hook} failed on purpose")));
        }
        Ok(())
    }

    /// Returns the calls recorded so far and clears the list.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("the call list is not poisoned"))
    }
}

impl AuthHooks<User> for Recorder {
    async fn on_signup(&self, user: &UserRecord<User>) -> HookResult {
        self.record("on_signup", &user.user.email)
    }

    async fn on_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult {
        self.record("on_signin", &format!("{provider}:{}", user.core.email))
    }

    async fn on_signout(&self, user: &UserRecord<User>) -> HookResult {
        self.record("on_signout", &user.core.email)
    }

    async fn on_token_refresh(&self, user: &UserRecord<User>) -> HookResult {
        self.record("on_token_refresh", &user.core.email)
    }

    async fn allow_signin(&self, user: &UserRecord<User>, provider: &str) -> HookResult<bool> {
        self.record("allow_signin", &format!("{provider}:{}", user.core.email))?;
        Ok(!self.deny_signin)
    }

    async fn modify_jwt(
        &self,
        claims: &mut Map<String, Value>,
        user: &UserRecord<User>,
    ) -> HookResult {
        let token_type = claims["type"].as_str().unwrap_or("none").to_owned();
        claims.insert("tenant".to_owned(), json!("acme"));
        claims.insert("credits".to_owned(), json!(user.user.credits));
        if let Some(name) = self.change_claim {
            claims.insert(name.to_owned(), json!("changed"));
        }
        self.record("modify_jwt", &token_type)
    }

    async fn modify_session(
        &self,
        session: &mut SessionRecord,
        user: &UserRecord<User>,
    ) -> HookResult {
        session.user_agent = Some("redacted".to_owned());
        session.ip_address = None;
        // Ignored: the tokens already name the session.
        session.id = "forged".to_owned();
        self.record("modify_session", &user.core.email)
    }
}

const ADA: &str = "ada@example.com";

pub(crate) async fn hooks_fire_in_each_flow(db: &TestDb) {
    let hooks = Recorder::default();
    let app = db.app_with(config(), Some(hooks.clone()), false).await;

    let pair = app.register(ADA).await;
    assert_eq!(
        hooks.take(),
        [
            "on_signup:ada@example.com",
            "modify_jwt:access",
            "modify_jwt:refresh",
            "modify_session:ada@example.com",
        ]
    );

    let second = app.login(ADA).await;
    assert_eq!(
        hooks.take(),
        [
            "allow_signin:credentials:ada@example.com",
            "on_signin:credentials:ada@example.com",
            "modify_jwt:access",
            "modify_jwt:refresh",
            "modify_session:ada@example.com",
        ]
    );

    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        hooks.take(),
        [
            "on_token_refresh:ada@example.com",
            "modify_jwt:access",
            "modify_jwt:refresh",
        ]
    );

    let reply = app.logout(&second.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(hooks.take(), ["on_signout:ada@example.com"]);

    // A rejected login and a rejected refresh run no hook.
    app.login_with(ADA, "wrong password")
        .await
        .assert_error(401, "Invalid email or password");
    app.refresh(&second.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    assert_eq!(hooks.take(), Vec::<String>::new());
}

pub(crate) async fn hooks_modify_jwt_adds_claims(db: &TestDb) {
    let hooks = Recorder::default();
    let app = db.app_with(config(), Some(hooks), false).await;
    let pair = app.register(ADA).await;

    for token in [&pair.access, &pair.refresh] {
        let claims = claims(token);
        assert_eq!(claims["tenant"], "acme");
        assert_eq!(claims["credits"], 0);
        assert!(claims["sid"].is_string(), "{claims}");
    }
    // The changed tokens verify, and every refreshed pair carries the claims again.
    let id = user_id(&app, &pair.access).await;
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let refreshed = fastauth_tests::TokenPair::from_reply(&reply);
    assert_eq!(claims(&refreshed.access)["tenant"], "acme");
    assert_eq!(claims(&refreshed.access)["sub"], id.as_str());
    assert_eq!(claims(&refreshed.refresh)["tenant"], "acme");
}

pub(crate) async fn hooks_modify_jwt_protected_claim(db: &TestDb) {
    let plain = db.app(config()).await;
    let pair = plain.register(ADA).await;
    let id = user_id(&plain, &pair.access).await;

    for name in PROTECTED_CLAIMS {
        let hooks = Recorder {
            change_claim: Some(name),
            ..Recorder::default()
        };
        let app = db.app_with(config(), Some(hooks), false).await;
        let reply = app.login_with(ADA, PASSWORD).await;
        assert_eq!(
            reply.status.as_u16(),
            500,
            "changed `{name}`: {}",
            reply.text
        );
        assert_eq!(reply.detail(), "Internal Server Error", "changed `{name}`");
        assert!(reply.json.get("access_token").is_none(), "{}", reply.text);
        // No session was started for the rejected pair.
        assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    }
}

pub(crate) async fn hooks_allow_signin_rejects(db: &TestDb) {
    let hooks = Recorder {
        deny_signin: true,
        ..Recorder::default()
    };
    let app = db.app_with(config(), Some(hooks.clone()), false).await;

    // Registration does not ask the gate.
    let pair = app.register(ADA).await;
    let id = user_id(&app, &pair.access).await;
    assert!(
        !hooks
            .take()
            .iter()
            .any(|call| call.starts_with("allow_signin")),
        "allow_signin ran at registration"
    );

    let reply = app.login_with(ADA, PASSWORD).await;
    reply.assert_error(403, "Sign in not allowed");
    assert!(reply.json.get("access_token").is_none(), "{}", reply.text);
    assert_eq!(hooks.take(), ["allow_signin:credentials:ada@example.com"]);
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);

    // The gate runs only after the password is checked.
    app.login_with(ADA, "wrong password")
        .await
        .assert_error(401, "Invalid email or password");
    assert_eq!(hooks.take(), Vec::<String>::new());

    // Refresh does not ask the gate either.
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert!(
        !hooks
            .take()
            .iter()
            .any(|call| call.starts_with("allow_signin")),
        "allow_signin ran at refresh"
    );
}

pub(crate) async fn hooks_failure_answers_500(db: &TestDb) {
    let plain = db.app(config()).await;

    // on_signup fails after the account was created: the account stays.
    let app = db
        .app_with(config(), Some(Recorder::failing("on_signup")), false)
        .await;
    let reply = app.register_with(ADA, PASSWORD).await;
    reply.assert_error(500, "Internal Server Error");
    let id = db
        .text(&format!(
            "SELECT id FROM fastauth_users WHERE email = '{ADA}'"
        ))
        .await
        .expect("the account was created before the hook ran");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    plain
        .register_with(ADA, PASSWORD)
        .await
        .assert_error(409, "A user with this email already exists");

    // on_signin fails before the tokens: no session.
    let app = db
        .app_with(config(), Some(Recorder::failing("on_signin")), false)
        .await;
    app.login_with(ADA, PASSWORD)
        .await
        .assert_error(500, "Internal Server Error");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);

    // on_token_refresh fails after the old token was consumed: it stays consumed.
    let pair = plain.login(ADA).await;
    let app = db
        .app_with(config(), Some(Recorder::failing("on_token_refresh")), false)
        .await;
    app.refresh(&pair.refresh)
        .await
        .assert_error(500, "Internal Server Error");
    plain
        .refresh(&pair.refresh)
        .await
        .assert_error(401, "Refresh token has already been used");

    // on_signout fails before the revocation: the session stays.
    let pair = plain.login(ADA).await;
    let app = db
        .app_with(config(), Some(Recorder::failing("on_signout")), false)
        .await;
    app.logout(&pair.access)
        .await
        .assert_error(500, "Internal Server Error");
    let reply = plain.me(&pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn hooks_modify_session_changes_record(db: &TestDb) {
    let app = db
        .app_with(config(), Some(Recorder::default()), false)
        .await;
    let pair = app.register(ADA).await;
    let sid = claims(&pair.access)["sid"]
        .as_str()
        .expect("`sid` is a string")
        .to_owned();

    let reply = app.get("/auth/sessions", &pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let sessions = reply.json.as_array().expect("a list of sessions");
    assert_eq!(sessions.len(), 1, "{}", reply.text);
    assert_eq!(sessions[0]["user_agent"], "redacted");
    assert_eq!(sessions[0]["ip_address"], Value::Null);
    assert_eq!(sessions[0]["id"], sid.as_str());
    assert_eq!(sessions[0]["current"], true);
}

pub(crate) async fn hooks_fire_in_cookie_mode(db: &TestDb) {
    let hooks = Recorder::default();
    let app = db
        .app_with(cookie_config(), Some(hooks.clone()), false)
        .await;
    let reply = app.register_with(ADA, PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    hooks.take();

    let reply = app.login_with(ADA, PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        claims(&reply.set_cookie("access_token").value)["tenant"],
        "acme"
    );
    assert_eq!(
        hooks.take(),
        [
            "allow_signin:credentials:ada@example.com",
            "on_signin:credentials:ada@example.com",
            "modify_jwt:access",
            "modify_jwt:refresh",
            "modify_session:ada@example.com",
        ]
    );

    // Logout by cookie, with the CSRF header, runs on_signout.
    let csrf = reply.set_cookie("csrf_token").value;
    let cookies = format!(
        "access_token={}; csrf_token={csrf}",
        reply.set_cookie("access_token").value
    );
    let headers = [
        ("cookie", cookies.as_str()),
        ("x-csrf-token", csrf.as_str()),
    ];
    let reply = app.request("POST", "/auth/logout", &headers, None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(hooks.take(), ["on_signout:ada@example.com"]);

    // A forged logout without the CSRF header runs no hook.
    let reply = app.login_with(ADA, PASSWORD).await;
    hooks.take();
    let cookies = format!("access_token={}", reply.set_cookie("access_token").value);
    app.request(
        "POST",
        "/auth/logout",
        &[("cookie", cookies.as_str())],
        None,
    )
    .await
    .assert_error(403, "CSRF token missing or invalid");
    assert_eq!(hooks.take(), Vec::<String>::new());
}
