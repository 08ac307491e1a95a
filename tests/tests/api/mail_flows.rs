//! The e-mailed flows: `/auth/request-verify-email`, `/verify-email`, `/forgot-password`,
//! `/reset-password`, the welcome e-mail and verification-required mode.

use fastauth::mail::Outbox;
use fastauth_tests::mail::{link_of, mail_config, nth_message, path_of, token_of};
use fastauth_tests::{PASSWORD, TestApp, TestDb};
use serde_json::json;

use crate::{rows_of_user, user_id};

async fn request_verification(app: &TestApp, access: &str) {
    let reply = app
        .post_authorized("/auth/request-verify-email", access, &json!({}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Verification email sent" }));
}

async fn forgot(app: &TestApp, email: &str) -> serde_json::Value {
    let reply = app
        .post("/auth/forgot-password", &json!({ "email": email }))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json
}

async fn reset(app: &TestApp, token: &str, new_password: &str) -> fastauth_tests::Reply {
    let body = json!({ "token": token, "new_password": new_password });
    app.post("/auth/reset-password", &body).await
}

pub(crate) async fn register_sends_welcome(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;

    let welcome = nth_message(&outbox, "ada@example.com", 1).await;
    assert_eq!(welcome.subject, "Welcome!");
    assert!(
        welcome.text.contains("Hello ada@example.com"),
        "{}",
        welcome.text
    );
    assert!(
        welcome.html.contains("Hello ada@example.com"),
        "{}",
        welcome.html
    );
}

pub(crate) async fn verify_email_by_link(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let pair = app.register("ada@example.com").await;
    request_verification(&app, &pair.access).await;

    let message = nth_message(&outbox, "ada@example.com", 2).await;
    assert_eq!(message.subject, "Verify your email address");
    let link = link_of(&message);
    let token = token_of(&message);
    assert_eq!(
        link,
        format!("http://localhost:8000/auth/verify-email?token={token}")
    );
    assert_eq!(token.len(), 43);
    // The HTML part escapes the link (minijinja writes `/` as `&#x2f;`), which browsers
    // decode in the `href`.
    assert!(message.html.contains("href=\""), "{}", message.html);
    assert!(message.html.contains(&token), "{}", message.html);
    assert!(message.html.contains("1440 minutes"), "{}", message.html);

    // Only the SHA-256 of the token is stored.
    let id = user_id(&app, &pair.access).await;
    let stored = db
        .text(&format!(
            "SELECT token FROM fastauth_tokens WHERE user_id = '{id}' \
             AND token_type = 'verification'"
        ))
        .await
        .expect("the token is stored");
    assert_eq!(stored.len(), 64);
    assert_ne!(stored, token);
    app.get_with(&format!("/auth/verify-email?token={stored}"), &[])
        .await
        .assert_error(400, "Invalid or expired verification token");

    // A scanner's HEAD does not redeem the link.
    let head = axum::http::Request::head(path_of(&link))
        .body(axum::body::Body::empty())
        .expect("valid request");
    assert_eq!(app.send(head).await.status.as_u16(), 200);
    assert!(!me_verified(&app, &pair.access).await);

    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Email verified successfully" })
    );
    assert!(me_verified(&app, &pair.access).await);

    // Used once, the link is dead.
    app.get_with(&path_of(&link), &[])
        .await
        .assert_error(400, "Invalid or expired verification token");
}

async fn me_verified(app: &TestApp, access: &str) -> bool {
    let reply = app.me(access).await;
    reply.json["email_verified"]
        .as_bool()
        .expect("`email_verified` is a boolean")
}

pub(crate) async fn verify_email_rejects_bad_tokens(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;

    for token in ["garbage", "", &"x".repeat(10_000)] {
        app.post("/auth/verify-email", &json!({ "token": token }))
            .await
            .assert_error(400, "Invalid or expired verification token");
    }
    app.get_with("/auth/verify-email", &[])
        .await
        .assert_validation("missing", &json!(["query", "token"]));
    app.post("/auth/verify-email", &json!({}))
        .await
        .assert_validation("missing", &json!(["body", "token"]));

    // A reset token is not a verification token, and stays usable for its own kind.
    forgot(&app, "ada@example.com").await;
    let reset_token = token_of(&nth_message(&outbox, "ada@example.com", 2).await);
    app.post("/auth/verify-email", &json!({ "token": reset_token }))
        .await
        .assert_error(400, "Invalid or expired verification token");
    let reply = reset(&app, &reset_token, "another good password").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    // An expired token is rejected.
    let pair = app
        .login_with("ada@example.com", "another good password")
        .await;
    let pair = fastauth_tests::TokenPair::from_reply(&pair);
    request_verification(&app, &pair.access).await;
    let token = token_of(&nth_message(&outbox, "ada@example.com", 3).await);
    db.execute(
        "UPDATE fastauth_tokens SET expires_at = created_at \
         WHERE token_type = 'verification'",
    )
    .await;
    app.post("/auth/verify-email", &json!({ "token": token }))
        .await
        .assert_error(400, "Invalid or expired verification token");
}

pub(crate) async fn verify_email_concurrent_single_winner(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let pair = app.register("ada@example.com").await;
    request_verification(&app, &pair.access).await;
    let token = token_of(&nth_message(&outbox, "ada@example.com", 2).await);

    let attempts = (0..8).map(|_| {
        let app = app.clone();
        let token = token.clone();
        tokio::spawn(async move {
            app.post("/auth/verify-email", &json!({ "token": token }))
                .await
                .status
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.expect("the request task finished"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400, 400, 400]);
}

pub(crate) async fn request_verify_email_anonymous(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;
    let verified = app.register("bob@example.com").await;
    request_verification(&app, &verified.access).await;
    let token = token_of(&nth_message(&outbox, "bob@example.com", 2).await);
    app.post("/auth/verify-email", &json!({ "token": token }))
        .await;

    // The same response for an unverified account, a verified one and an unknown address.
    for email in ["ada@example.com", "bob@example.com", "nobody@example.com"] {
        let reply = app
            .post("/auth/request-verify-email", &json!({ "email": email }))
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{email}: {}", reply.text);
        assert_eq!(reply.json, json!({ "message": "Verification email sent" }));
    }
    let message = nth_message(&outbox, "ada@example.com", 2).await;
    assert_eq!(message.subject, "Verify your email address");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(outbox.messages_to("bob@example.com").len(), 2);
    assert!(outbox.messages_to("nobody@example.com").is_empty());

    // Without credentials or a body the route needs a signed-in caller.
    let request = axum::http::Request::post("/auth/request-verify-email")
        .body(axum::body::Body::empty())
        .expect("valid request");
    app.send(request).await.assert_not_authenticated();
    // A bad token is not silently treated as anonymous.
    app.post_authorized(
        "/auth/request-verify-email",
        "not-a-jwt",
        &json!({ "email": "ada@example.com" }),
    )
    .await
    .assert_not_authenticated();
}

pub(crate) async fn forgot_password_same_answer(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;

    let known = forgot(&app, "Ada@Example.com").await;
    let unknown = forgot(&app, "nobody@example.com").await;
    assert_eq!(known, unknown);
    assert_eq!(
        known,
        json!({ "message": "If the email exists, a reset link has been sent" })
    );
    let message = nth_message(&outbox, "ada@example.com", 2).await;
    assert_eq!(message.subject, "Reset your password");
    assert!(link_of(&message).starts_with("http://localhost:8000/auth/reset-password?token="));
    assert!(message.text.contains("30 minutes"), "{}", message.text);
    assert!(outbox.messages_to("nobody@example.com").is_empty());

    // A failing transport changes nothing in the response.
    outbox.set_failing(true);
    assert_eq!(forgot(&app, "ada@example.com").await, unknown);
    app.post(
        "/auth/forgot-password",
        &json!({ "email": "not-an-address" }),
    )
    .await
    .assert_validation("value_error", &json!(["body", "email"]));
}

pub(crate) async fn reset_password_flow(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;

    forgot(&app, "ada@example.com").await;
    forgot(&app, "ada@example.com").await;
    let older = token_of(&nth_message(&outbox, "ada@example.com", 2).await);
    let newer = token_of(&nth_message(&outbox, "ada@example.com", 3).await);

    // The password rules run first, so a rejected password leaves the link usable.
    reset(&app, &newer, "short")
        .await
        .assert_error(400, "Password must be at least 8 characters long");
    let reply = reset(&app, &newer, "a brand new password").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Password reset successfully" })
    );

    // Every reset token, session and refresh token of the user is gone.
    reset(&app, &newer, "a brand new password")
        .await
        .assert_error(400, "Invalid or expired reset token");
    reset(&app, &older, "a brand new password")
        .await
        .assert_error(400, "Invalid or expired reset token");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
    app.me(&first.access).await.assert_not_authenticated();
    app.me(&second.access).await.assert_not_authenticated();
    app.refresh(&second.refresh)
        .await
        .assert_error(401, "Invalid refresh token");

    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    let reply = app
        .login_with("ada@example.com", "a brand new password")
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = app
        .me(&fastauth_tests::TokenPair::from_reply(&reply).access)
        .await;
    assert_eq!(reply.json["email_verified"], json!(false));
}

pub(crate) async fn reset_password_rejects_bad_tokens(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    app.register("ada@example.com").await;

    reset(&app, "garbage", "a brand new password")
        .await
        .assert_error(400, "Invalid or expired reset token");
    forgot(&app, "ada@example.com").await;
    let token = token_of(&nth_message(&outbox, "ada@example.com", 2).await);
    db.execute(
        "UPDATE fastauth_tokens SET expires_at = created_at \
         WHERE token_type = 'password_reset'",
    )
    .await;
    reset(&app, &token, "a brand new password")
        .await
        .assert_error(400, "Invalid or expired reset token");
    app.post("/auth/reset-password", &json!({ "token": token }))
        .await
        .assert_validation("missing", &json!(["body", "new_password"]));
}

pub(crate) async fn verification_required_mode(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db
        .app(mail_config(&outbox).require_verified_email(true))
        .await;

    let reply = app.register_with("ada@example.com", PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Verification email sent" }));
    assert!(reply.header("set-cookie").is_none());

    app.login_with("ada@example.com", "a wrong password")
        .await
        .assert_error(401, "Invalid email or password");
    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(403, "Email not verified");

    let message = nth_message(&outbox, "ada@example.com", 1).await;
    assert_eq!(message.subject, "Verify your email address");
    let reply = app.get_with(&path_of(&link_of(&message)), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = app.login_with("ada@example.com", PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}
