//! `POST /auth/refresh`: rotation within a session, reuse detection, and the race of
//! concurrent refreshes with one token.

use fastauth_tests::tokens::{claims, fastauth_access_claims, lifetime, now, sign, unsigned};
use fastauth_tests::{PASSWORD, SECRET, TestDb, TokenPair, config};
use serde_json::json;

use crate::{rows_of_user, user_id};

pub(crate) async fn refresh_rotates_pair(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;

    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let rotated = TokenPair::from_reply(&reply);
    assert_ne!(rotated.access, pair.access);
    assert_ne!(rotated.refresh, pair.refresh);

    let old = claims(&pair.refresh);
    let new_access = claims(&rotated.access);
    let new_refresh = claims(&rotated.refresh);
    assert_eq!(new_access["sub"], id.as_str());
    assert_eq!(new_access["type"], "access");
    assert_eq!(new_refresh["type"], "refresh");
    assert_eq!(new_access["sid"], old["sid"], "the session is kept");
    assert_eq!(new_refresh["sid"], old["sid"], "the session is kept");
    assert_ne!(new_refresh["jti"], old["jti"]);
    assert_eq!(lifetime(&rotated.access), 900);
    assert_eq!(lifetime(&rotated.refresh), 2_592_000);

    // One session, whose allowlist holds only the new refresh token.
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 1);
    let jti = new_refresh["jti"].as_str().expect("`jti` is a string");
    let sql = format!("SELECT COUNT(*) FROM fastauth_tokens WHERE token = '{jti}'");
    assert_eq!(db.count(&sql).await, 1);

    // Both access tokens of the live session work, and the new refresh token rotates again.
    assert_eq!(app.me(&rotated.access).await.status.as_u16(), 200);
    assert_eq!(app.me(&pair.access).await.status.as_u16(), 200);
    let reply = app.refresh(&rotated.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn refresh_requires_token(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;

    app.post_bytes("/auth/refresh", None, Vec::new())
        .await
        .assert_error(401, "Refresh token required");
    app.post_bytes("/auth/refresh", Some("application/json"), b"null".to_vec())
        .await
        .assert_error(401, "Refresh token required");
    app.post("/auth/refresh", &json!({ "refresh_token": "" }))
        .await
        .assert_error(401, "Refresh token required");

    app.post("/auth/refresh", &json!({}))
        .await
        .assert_validation("missing", &json!(["body", "refresh_token"]));
    app.post("/auth/refresh", &json!({ "refresh_token": 5 }))
        .await
        .assert_validation("string_type", &json!(["body", "refresh_token"]));
    app.post("/auth/refresh", &json!([pair.refresh]))
        .await
        .assert_validation("model_attributes_type", &json!(["body"]));
    let reply = app
        .post_bytes(
            "/auth/refresh",
            Some("application/json"),
            b"{\"refresh".to_vec(),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    assert_eq!(reply.json["detail"][0]["type"], "json_invalid");

    // The Authorization header is never read here.
    let request = axum::http::Request::post("/auth/refresh")
        .header("authorization", format!("Bearer {}", pair.refresh))
        .body(axum::body::Body::empty())
        .expect("valid request");
    app.send(request)
        .await
        .assert_error(401, "Refresh token required");

    // A body token wins over a stale refresh cookie.
    let request = axum::http::Request::post("/auth/refresh")
        .header("content-type", "application/json")
        .header("cookie", "refresh_token=stale")
        .body(axum::body::Body::from(
            json!({ "refresh_token": pair.refresh }).to_string(),
        ))
        .expect("valid request");
    let reply = app.send(request).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn refresh_rejects_invalid_tokens(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;

    let mut forged = claims(&pair.refresh);
    forged["jti"] = json!("forgedjti000000000000000");
    let mut expired = forged.clone();
    expired["iat"] = json!(now() - 1000);
    expired["exp"] = json!(now() - 10);
    let python_access = fastauth_access_claims(&id, "ada@example.com", now(), 900);

    let cases = [
        ("garbage", "not-a-jwt".to_owned()),
        ("an access token", pair.access.clone()),
        ("a FastAuth access token", sign(&python_access, SECRET)),
        (
            "another secret",
            sign(&forged, "another-secret-3a8f1c9e7b2d4f6a0c5e"),
        ),
        ("alg none", unsigned(&forged)),
        ("expired", sign(&expired, SECRET)),
    ];
    for (case, token) in &cases {
        let reply = app.refresh(token).await;
        assert_eq!(reply.status.as_u16(), 401, "{case}: {}", reply.text);
        assert_eq!(reply.detail(), "Invalid refresh token", "{case}");
    }

    // None of these touched the session: its own refresh token still rotates.
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn refresh_reuse_revokes_every_session(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;

    let reply = app.refresh(&first.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let rotated = TokenPair::from_reply(&reply);

    // The consumed token comes back: a replay.
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Refresh token has already been used");

    // Every session of the user ended at once, the other device's included.
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
    for access in [&second.access, &rotated.access, &first.access] {
        app.me(access).await.assert_not_authenticated();
        app.get("/api/whoami", access)
            .await
            .assert_not_authenticated();
    }
    for refresh in [&second.refresh, &rotated.refresh] {
        let reply = app.refresh(refresh).await;
        reply.assert_error(401, "Invalid refresh token");
    }

    // Signing in again works.
    let fresh = app.login("ada@example.com").await;
    assert_eq!(app.me(&fresh.access).await.status.as_u16(), 200);
}

pub(crate) async fn refresh_after_remember_me_uses_normal_lifetime(db: &TestDb) {
    let app = db.app(config()).await;
    app.register("ada@example.com").await;
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "remember": true });
    let reply = app.post("/auth/login", &body).await;
    let remembered = TokenPair::from_reply(&reply);
    assert_eq!(lifetime(&remembered.refresh), 7_776_000);

    let reply = app.refresh(&remembered.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let rotated = TokenPair::from_reply(&reply);
    assert_eq!(lifetime(&rotated.refresh), 2_592_000);
    assert_eq!(
        claims(&rotated.refresh)["sid"],
        claims(&remembered.refresh)["sid"]
    );
}

pub(crate) async fn refresh_of_ended_session(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;

    assert_eq!(app.logout(&first.access).await.status.as_u16(), 200);
    // The session was ended on purpose: the token is rejected without the replay rule, so
    // the other device stays signed in.
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    assert_eq!(app.me(&second.access).await.status.as_u16(), 200);
    let reply = app.refresh(&second.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn refresh_deactivated_account(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    let sql = format!("UPDATE fastauth_users SET is_active = false WHERE id = '{id}'");
    assert_eq!(db.execute(&sql).await, 1);

    app.refresh(&pair.refresh)
        .await
        .assert_error(401, "Invalid refresh token");

    // Reactivated, the same token still rotates: the rejection consumed nothing.
    let sql = format!("UPDATE fastauth_users SET is_active = true WHERE id = '{id}'");
    assert_eq!(db.execute(&sql).await, 1);
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

/// How many refreshes the race sends at once with one token.
const RACERS: usize = 100;

pub(crate) async fn refresh_race_single_winner(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|_| {
            let app = app.clone();
            let token = pair.refresh.clone();
            let barrier = std::sync::Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                app.refresh(&token).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for racer in racers {
        replies.push(racer.await.expect("a refresh task panicked"));
    }

    let winners: Vec<_> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 200)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "statuses: {:?}",
        replies
            .iter()
            .map(|r| (r.status.as_u16(), r.text.as_str()))
            .collect::<Vec<_>>()
    );
    let mut replayed = 0;
    for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
        assert_eq!(reply.status.as_u16(), 401, "{}", reply.text);
        let detail = reply.detail();
        assert!(
            detail == "Refresh token has already been used" || detail == "Invalid refresh token",
            "{detail}"
        );
        if detail == "Refresh token has already been used" {
            replayed += 1;
        }
    }
    assert!(replayed >= 1, "no loser triggered the replay rule");

    // A race and a replay look the same to the server, so the winner's new pair died with the
    // session.
    let winner = TokenPair::from_reply(winners[0]);
    app.me(&winner.access).await.assert_not_authenticated();
    app.refresh(&winner.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
}
