//! `POST /auth/logout`: it ends the caller's session only, at once.

use fastauth_tests::tokens::{fastauth_access_claims, now, sign};
use fastauth_tests::{SECRET, TestDb, config};
use serde_json::json;

use crate::{rows_of_user, user_id};

pub(crate) async fn logout_ends_only_its_session(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 2);

    let reply = app.logout(&first.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Logged out" }));

    // The access token of the ended session is rejected at once, long before it expires.
    app.me(&first.access).await.assert_not_authenticated();
    app.get("/api/whoami", &first.access)
        .await
        .assert_not_authenticated();
    app.logout(&first.access).await.assert_not_authenticated();
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Invalid refresh token");

    // The other device stays signed in.
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 1);
    assert_eq!(app.me(&second.access).await.status.as_u16(), 200);
    let reply = app.refresh(&second.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn logout_requires_token(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;

    let request = axum::http::Request::post("/auth/logout")
        .body(axum::body::Body::empty())
        .expect("valid request");
    app.send(request).await.assert_not_authenticated();
    app.logout("not-a-jwt").await.assert_not_authenticated();
    app.logout(&pair.refresh).await.assert_not_authenticated();

    // None of these ended the session.
    assert_eq!(app.me(&pair.access).await.status.as_u16(), 200);
}

pub(crate) async fn logout_without_sid_revokes_every_refresh_token(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;

    // A token of Python FastAuth names no session, so its logout revokes every refresh
    // token of the user, as FastAuth does.
    let python = sign(
        &fastauth_access_claims(&id, "ada@example.com", now(), 900),
        SECRET,
    );
    let reply = app.logout(&python).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Logged out" }));
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);

    // The sessions remain, so their refresh tokens now count as replayed.
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Refresh token has already been used");
    app.refresh(&second.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    app.me(&second.access).await.assert_not_authenticated();
}
