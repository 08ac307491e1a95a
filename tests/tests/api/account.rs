//! `/auth/account/*`: the profile, password and address changes, and account deletion.

use fastauth::mail::Outbox;
use fastauth_tests::mail::{link_of, mail_config, nth_message, path_of, token_of};
use fastauth_tests::{PASSWORD, TestApp, TestDb, TokenPair};
use serde_json::{Value, json};

use crate::{rows_of_user, user_id};

async fn send(
    app: &TestApp,
    method: &str,
    uri: &str,
    access: &str,
    body: &Value,
) -> fastauth_tests::Reply {
    app.request_json(method, uri, Some(access), Some(body))
        .await
}

pub(crate) async fn profile_read_and_update(db: &TestDb) {
    let app = db.app(fastauth_tests::config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;

    let reply = app.get("/auth/account/profile", &pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let expected = json!({ "id": id, "email": "ada@example.com", "name": null, "image": null });
    assert_eq!(reply.json, expected);

    let body = json!({ "name": "Ada", "image": null });
    let reply = send(&app, "PUT", "/auth/account/profile", &pair.access, &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json["name"], json!("Ada"));
    assert_eq!(reply.json["image"], json!(null));
    let body = json!({ "image": "https://example.com/ada.png" });
    let reply = send(&app, "PUT", "/auth/account/profile", &pair.access, &body).await;
    assert_eq!(reply.json["name"], json!("Ada"));
    assert_eq!(reply.json["image"], json!("https://example.com/ada.png"));

    send(
        &app,
        "PUT",
        "/auth/account/profile",
        &pair.access,
        &json!({ "name": null }),
    )
    .await
    .assert_error(400, "No fields to update");
    let long = json!({ "name": "n".repeat(257) });
    send(&app, "PUT", "/auth/account/profile", &pair.access, &long)
        .await
        .assert_validation("string_too_long", &json!(["body", "name"]));
    app.get("/auth/account/profile", "not-a-jwt")
        .await
        .assert_not_authenticated();
}

pub(crate) async fn change_password_ends_sessions(db: &TestDb) {
    let app = db.app(fastauth_tests::config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;
    let uri = "/auth/account/change-password";

    let wrong = json!({ "current_password": "not the password", "new_password": "a new password" });
    send(&app, "POST", uri, &first.access, &wrong)
        .await
        .assert_error(400, "Current password is incorrect");
    let weak = json!({ "current_password": PASSWORD, "new_password": "short" });
    send(&app, "POST", uri, &first.access, &weak)
        .await
        .assert_error(400, "Password must be at least 8 characters long");

    let good = json!({ "current_password": PASSWORD, "new_password": "a new password" });
    let reply = send(&app, "POST", uri, &first.access, &good).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Password changed successfully" })
    );

    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
    app.me(&first.access).await.assert_not_authenticated();
    app.me(&second.access).await.assert_not_authenticated();
    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    let reply = app.login_with("ada@example.com", "a new password").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn change_email_with_confirmation(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    app.register("taken@example.com").await;
    let uri = "/auth/account/change-email";

    let body = json!({ "new_email": "new@example.com", "password": "not the password" });
    send(&app, "POST", uri, &pair.access, &body)
        .await
        .assert_error(400, "Password is incorrect");
    let body = json!({ "new_email": "Taken@Example.com", "password": PASSWORD });
    send(&app, "POST", uri, &pair.access, &body)
        .await
        .assert_error(409, "Email is already in use");
    let body = json!({ "new_email": "", "password": PASSWORD });
    send(&app, "POST", uri, &pair.access, &body)
        .await
        .assert_validation("value_error", &json!(["body", "new_email"]));

    let body = json!({ "new_email": "New@Example.com", "password": PASSWORD });
    let reply = send(&app, "POST", uri, &pair.access, &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Confirmation email sent to new address" })
    );
    let message = nth_message(&outbox, "new@example.com", 1).await;
    assert_eq!(message.subject, "Confirm your new email address");
    let link = link_of(&message);
    assert!(
        link.starts_with("http://localhost:8000/auth/account/confirm-email-change?token="),
        "{link}"
    );
    // Until confirmation the account keeps its address.
    assert_eq!(
        app.me(&pair.access).await.json["email"],
        json!("ada@example.com")
    );

    // A HEAD of the link does not redeem it.
    let head = axum::http::Request::head(path_of(&link))
        .body(axum::body::Body::empty())
        .expect("valid request");
    assert_eq!(app.send(head).await.status.as_u16(), 200);

    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Email changed successfully" })
    );
    app.get_with(&path_of(&link), &[])
        .await
        .assert_error(400, "Invalid or expired token");

    // Every session ended; the new address signs in, verified, and the old one is gone.
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    app.me(&pair.access).await.assert_not_authenticated();
    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    let new = TokenPair::from_reply(&app.login_with("new@example.com", PASSWORD).await);
    let me = app.me(&new.access).await;
    assert_eq!(me.json["email"], json!("new@example.com"));
    assert_eq!(me.json["email_verified"], json!(true));
    assert_eq!(me.json["id"], json!(id));

    // The previous address receives a notice.
    let notice = nth_message(&outbox, "ada@example.com", 2).await;
    assert_eq!(notice.subject, "Your email address was changed");
    assert!(notice.text.contains("new@example.com"), "{}", notice.text);
}

pub(crate) async fn change_email_rechecked_at_confirmation(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let pair = app.register("ada@example.com").await;
    let body = json!({ "new_email": "new@example.com", "password": PASSWORD });
    let reply = send(
        &app,
        "POST",
        "/auth/account/change-email",
        &pair.access,
        &body,
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let token = token_of(&nth_message(&outbox, "new@example.com", 1).await);

    // Someone registers the address before the link is used.
    app.register("new@example.com").await;
    app.get_with(
        &format!("/auth/account/confirm-email-change?token={token}"),
        &[],
    )
    .await
    .assert_error(409, "Email is already in use");
    assert_eq!(
        app.me(&pair.access).await.json["email"],
        json!("ada@example.com")
    );

    // An expired link is rejected.
    let body = json!({ "new_email": "other@example.com", "password": PASSWORD });
    let reply = send(
        &app,
        "POST",
        "/auth/account/change-email",
        &pair.access,
        &body,
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let token = token_of(&nth_message(&outbox, "other@example.com", 1).await);
    db.execute(
        "UPDATE fastauth_tokens SET expires_at = created_at WHERE token_type = 'email_change'",
    )
    .await;
    app.get_with(
        &format!("/auth/account/confirm-email-change?token={token}"),
        &[],
    )
    .await
    .assert_error(400, "Invalid or expired token");

    app.get_with("/auth/account/confirm-email-change?token=garbage", &[])
        .await
        .assert_error(400, "Invalid or expired token");
    app.get_with("/auth/account/confirm-email-change", &[])
        .await
        .assert_validation("missing", &json!(["query", "token"]));
}

pub(crate) async fn delete_account_removes_everything(db: &TestDb) {
    let app = db.app(fastauth_tests::config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;

    send(
        &app,
        "DELETE",
        "/auth/account",
        &pair.access,
        &json!({ "password": "wrong one" }),
    )
    .await
    .assert_error(400, "Password is incorrect");
    app.request_json("DELETE", "/auth/account", Some(&pair.access), None)
        .await
        .assert_validation("missing", &json!(["body"]));

    let body = json!({ "password": PASSWORD });
    let reply = send(&app, "DELETE", "/auth/account", &pair.access, &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Account deleted successfully" })
    );

    app.me(&pair.access).await.assert_not_authenticated();
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
    let users = db
        .count(&format!(
            "SELECT COUNT(*) FROM fastauth_users WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(users, 0);
    // The address is free again.
    app.register("ada@example.com").await;
}

pub(crate) async fn delete_account_without_password(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let reply = app
        .post(
            "/auth/magic-links/login",
            &json!({ "email": "new@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let link = link_of(&nth_message(&outbox, "new@example.com", 1).await);
    let pair = TokenPair::from_reply(&app.get_with(&path_of(&link), &[]).await);

    // No password to confirm with: a session that signed in just now may delete the account.
    let reply = app
        .request_json("DELETE", "/auth/account", Some(&pair.access), None)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "message": "Account deleted successfully" })
    );
    let users = db
        .count("SELECT COUNT(*) FROM fastauth_users WHERE email = 'new@example.com'")
        .await;
    assert_eq!(users, 0);
}

pub(crate) async fn delete_account_clears_cookies(db: &TestDb) {
    let app = db.app(fastauth_tests::cookie_config()).await;
    let reply = app.register_with("ada@example.com", PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let access = reply.set_cookie("access_token").value;

    let body = json!({ "password": PASSWORD });
    let reply = send(&app, "DELETE", "/auth/account", &access, &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    for name in ["access_token", "refresh_token", "csrf_token"] {
        let cleared = reply.set_cookie(name);
        assert_eq!(cleared.value, "", "{name}");
        assert_eq!(cleared.attribute("max-age"), Some("0"), "{name}");
    }
}

pub(crate) async fn delete_account_needs_recent_sign_in(db: &TestDb) {
    let outbox = Outbox::new();
    let app = db.app(mail_config(&outbox)).await;
    let reply = app
        .post(
            "/auth/magic-links/login",
            &json!({ "email": "new@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let link = link_of(&nth_message(&outbox, "new@example.com", 1).await);
    let pair = TokenPair::from_reply(&app.get_with(&path_of(&link), &[]).await);

    // The session signed in an hour ago.
    let an_hour_earlier = match db.backend() {
        fastauth_tests::Backend::Sqlite => {
            "strftime('%Y-%m-%d %H:%M:%f000', created_at, '-1 hour')"
        }
        fastauth_tests::Backend::Postgres => "created_at - INTERVAL '1 hour'",
        fastauth_tests::Backend::MariaDb => "DATE_SUB(created_at, INTERVAL 1 HOUR)",
    };
    db.execute(&format!(
        "UPDATE fastauth_sessions SET created_at = {an_hour_earlier}"
    ))
    .await;
    app.request_json("DELETE", "/auth/account", Some(&pair.access), None)
        .await
        .assert_error(400, "Please sign in again to confirm");
    assert_eq!(app.me(&pair.access).await.status.as_u16(), 200);
}
