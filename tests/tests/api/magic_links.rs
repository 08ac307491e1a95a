//! `/auth/magic-links/login` and `/callback`: sign-in by e-mailed link, deferred sign-up,
//! and the pre-account hijacking defence.

use fastauth::mail::Outbox;
use fastauth_tests::mail::{link_of, mail_config, nth_message, path_of, token_of};
use fastauth_tests::{PASSWORD, TestApp, TestDb, TokenPair};
use serde_json::json;

use crate::{rows_of_user, user_id};

/// Requests a link for `email` and checks the response, which never depends on the account.
async fn request_link(app: &TestApp, email: &str) {
    let reply = app
        .post("/auth/magic-links/login", &json!({ "email": email }))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Magic link sent \u{2014} check your email" })
    );
}

/// Verifies the address of a signed-in account through its verification link, the
/// `nth` message to `email`.
async fn verify(app: &TestApp, outbox: &Outbox, access: &str, email: &str, nth: usize) {
    let reply = app
        .post_authorized("/auth/request-verify-email", access, &json!({}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let link = link_of(&nth_message(outbox, email, nth).await);
    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

async fn users_with_email(db: &TestDb, email: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) FROM fastauth_users WHERE email = '{email}'"
    ))
    .await
}

pub(crate) async fn magic_link_signs_in(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    verify(&app, &outbox, &pair.access, "ada@example.com", 2).await;
    request_link(&app, "Ada@Example.com").await;

    let message = nth_message(&outbox, "ada@example.com", 3).await;
    assert_eq!(message.subject, "Log In to your account");
    assert!(message.text.contains("15 minutes"), "{}", message.text);
    let link = link_of(&message);
    assert!(
        link.starts_with("http://localhost:8000/auth/magic-links/callback?token="),
        "{link}"
    );

    // A scanner's HEAD does not use the link up.
    let head = axum::http::Request::head(path_of(&link))
        .body(axum::body::Body::empty())
        .expect("valid request");
    assert_eq!(app.send(head).await.status.as_u16(), 200);

    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let signed_in = TokenPair::from_reply(&reply);
    let me = app.me(&signed_in.access).await;
    assert_eq!(me.json["id"], json!(id));
    assert_eq!(me.json["email_verified"], json!(true));
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 2);

    app.get_with(&path_of(&link), &[])
        .await
        .assert_error(401, "Invalid or expired magic link");
    app.get_with("/auth/magic-links/callback?token=garbage", &[])
        .await
        .assert_error(401, "Invalid or expired magic link");
    app.get_with("/auth/magic-links/callback", &[])
        .await
        .assert_validation("missing", &json!(["query", "token"]));
}

pub(crate) async fn magic_link_defers_sign_up(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    request_link(&app, "new@example.com").await;

    // Nothing is stored as a user before the link is used.
    assert_eq!(users_with_email(db, "new@example.com").await, 0);
    let message = nth_message(&outbox, "new@example.com", 1).await;
    assert!(
        message.text.contains("Hello new@example.com"),
        "{}",
        message.text
    );

    let reply = app.get_with(&path_of(&link_of(&message)), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let pair = TokenPair::from_reply(&reply);
    let me = app.me(&pair.access).await;
    assert_eq!(me.json["email"], json!("new@example.com"));
    assert_eq!(me.json["email_verified"], json!(true));
    assert_eq!(users_with_email(db, "new@example.com").await, 1);

    // The account has no password: a password login fails as for a wrong one.
    app.login_with("new@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
}

pub(crate) async fn magic_link_drops_unverified_password(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    // Someone registers the victim's address first, with a password of their own.
    let squatter = app.register("victim@example.com").await;
    let id = user_id(&app, &squatter.access).await;

    request_link(&app, "victim@example.com").await;
    let message = nth_message(&outbox, "victim@example.com", 2).await;
    let reply = app.get_with(&path_of(&link_of(&message)), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let owner = TokenPair::from_reply(&reply);

    // The squatter's sessions and password are gone; the owner's session lives.
    app.me(&squatter.access).await.assert_not_authenticated();
    app.refresh(&squatter.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    app.login_with("victim@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    let me = app.me(&owner.access).await;
    assert_eq!(me.json["id"], json!(id));
    assert_eq!(me.json["email_verified"], json!(true));
}

pub(crate) async fn magic_link_keeps_verified_password(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let first = app.register("ada@example.com").await;
    verify(&app, &outbox, &first.access, "ada@example.com", 2).await;

    // The address was proven before: the magic link keeps the password and the sessions.
    request_link(&app, "ada@example.com").await;
    let link = link_of(&nth_message(&outbox, "ada@example.com", 3).await);
    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = app.login_with("ada@example.com", PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(app.me(&first.access).await.status.as_u16(), 200);
}

pub(crate) async fn magic_link_rejects_expired_and_inactive(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;

    request_link(&app, "ada@example.com").await;
    request_link(&app, "new@example.com").await;
    let known = token_of(&nth_message(&outbox, "ada@example.com", 2).await);
    let unknown = token_of(&nth_message(&outbox, "new@example.com", 1).await);
    db.execute("UPDATE fastauth_tokens SET expires_at = created_at")
        .await;
    db.execute("UPDATE fastauth_pending_magic_links SET expires_at = created_at")
        .await;
    for token in [known, unknown] {
        app.get_with(&format!("/auth/magic-links/callback?token={token}"), &[])
            .await
            .assert_error(401, "Invalid or expired magic link");
    }

    // A link sent before deactivation is refused, and none is sent after it.
    request_link(&app, "ada@example.com").await;
    let token = token_of(&nth_message(&outbox, "ada@example.com", 3).await);
    db.execute("UPDATE fastauth_users SET is_active = false")
        .await;
    app.get_with(&format!("/auth/magic-links/callback?token={token}"), &[])
        .await
        .assert_error(401, "Account is inactive");
    request_link(&app, "ada@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(outbox.messages_to("ada@example.com").len(), 3);
}

pub(crate) async fn magic_link_concurrent_single_winner(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    request_link(&app, "new@example.com").await;
    let path = path_of(&link_of(&nth_message(&outbox, "new@example.com", 1).await));

    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let app = app.clone();
            let path = path.clone();
            tokio::spawn(async move { app.get_with(&path, &[]).await.status.as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("the request task finished"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401, 401, 401, 401, 401]);
    assert_eq!(users_with_email(db, "new@example.com").await, 1);
}
