//! The token routes: `POST /auth/token/introspect` and `POST /auth/token/revoke`.

use fastauth_tests::tokens::{claims, now, sign};
use fastauth_tests::{SECRET, TestDb, TokenPair, config};
use serde_json::{Value, json};

use crate::user_id;

fn inactive() -> Value {
    json!({
        "active": false, "sub": null, "exp": null, "jti": null, "token_type": null, "email": null,
    })
}

pub(crate) async fn introspect_active_tokens(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    let other = app.register("bob@example.com").await;

    for (token, kind) in [(&pair.access, "access"), (&pair.refresh, "refresh")] {
        let body = json!({ "token": token });
        // Any signed-in caller may inspect any token.
        let reply = app
            .post_authorized("/auth/token/introspect", &other.access, &body)
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
        let expected = claims(token);
        assert_eq!(
            reply.json,
            json!({
                "active": true,
                "sub": id,
                "exp": expected["exp"],
                "jti": expected["jti"],
                "token_type": kind,
                "email": "ada@example.com",
            })
        );
    }
}

pub(crate) async fn introspect_inactive_tokens(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    let caller = app.login("ada@example.com").await;
    let ended = app.login("ada@example.com").await;
    assert_eq!(app.logout(&ended.access).await.status.as_u16(), 200);
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let expired = sign(
        &json!({
            "sub": id, "jti": "k8d1r6x0m2p9q4w7e3t5y1u0", "iat": now() - 100,
            "exp": now() - 10, "type": "access", "email": "ada@example.com",
        }),
        SECRET,
    );

    let cases = [
        ("garbage", "not-a-jwt".to_owned()),
        ("consumed refresh token", pair.refresh.clone()),
        ("access token of an ended session", ended.access.clone()),
        ("refresh token of an ended session", ended.refresh.clone()),
        ("expired token", expired),
        (
            "wrong secret",
            sign(
                &claims(&caller.access),
                "another-secret-of-32-bytes-or-more!",
            ),
        ),
    ];
    for (case, token) in cases {
        let reply = app
            .post_authorized(
                "/auth/token/introspect",
                &caller.access,
                &json!({ "token": token }),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{case}: {}", reply.text);
        assert_eq!(reply.json, inactive(), "{case}");
    }

    app.post("/auth/token/introspect", &json!({ "token": caller.access }))
        .await
        .assert_not_authenticated();
    app.post_authorized("/auth/token/introspect", &caller.access, &json!({}))
        .await
        .assert_validation("missing", &json!(["body", "token"]));
}

pub(crate) async fn revoke_refresh_token(db: &TestDb) {
    let app = db.app(config()).await;
    let caller = app.register("ada@example.com").await;
    let target = app.login("ada@example.com").await;

    let body = json!({ "token": target.refresh });
    let reply = app
        .post_authorized("/auth/token/revoke", &caller.access, &body)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Token revoked" }));

    // The token's session ended with it; the caller's session lives on.
    app.refresh(&target.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    app.me(&target.access).await.assert_not_authenticated();
    assert_eq!(app.me(&caller.access).await.status.as_u16(), 200);

    // Revoking a token that is already gone still succeeds.
    let reply = app
        .post_authorized("/auth/token/revoke", &caller.access, &body)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = app.refresh(&caller.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let rotated = TokenPair::from_reply(&reply);
    assert_eq!(app.me(&rotated.access).await.status.as_u16(), 200);
}

pub(crate) async fn revoke_rejects_bad_tokens(db: &TestDb) {
    let app = db.app(config()).await;
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let revoke = |token: &str| json!({ "token": token });

    app.post_authorized("/auth/token/revoke", &ada.access, &revoke("not-a-jwt"))
        .await
        .assert_error(400, "Invalid token");
    app.post_authorized("/auth/token/revoke", &ada.access, &revoke(&ada.access))
        .await
        .assert_error(400, "Only refresh tokens can be revoked");
    app.post_authorized("/auth/token/revoke", &ada.access, &revoke(&bob.refresh))
        .await
        .assert_error(403, "Cannot revoke another user's token");
    app.post("/auth/token/revoke", &revoke(&ada.refresh))
        .await
        .assert_not_authenticated();
    app.post_authorized("/auth/token/revoke", &ada.access, &json!({ "token": 1 }))
        .await
        .assert_validation("string_type", &json!(["body", "token"]));

    // Bob's token survived the attempt.
    let reply = app.refresh(&bob.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}
