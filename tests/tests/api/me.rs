//! Authenticating requests: `GET /auth/me`, the application route behind `CurrentUser`, and
//! the claims-only `AccessClaims` route.

use fastauth_tests::tokens::{claims, fastauth_access_claims, now, sign, unsigned};
use fastauth_tests::{SECRET, TestDb, config};
use serde_json::json;

use crate::user_id;

/// Routes that authenticate through `CurrentUser`.
const USER_ROUTES: [&str; 2] = ["/auth/me", "/api/whoami"];

pub(crate) async fn me_returns_user(db: &TestDb) {
    let app = db.app(config()).await;
    let body = json!({ "email": "ada@example.com", "password": fastauth_tests::PASSWORD });
    let reply = app.post("/auth/register", &body).await;
    let access = fastauth_tests::TokenPair::from_reply(&reply).access;

    let me = app.me(&access).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    assert_eq!(me.header("content-type"), Some("application/json"));
    let id = claims(&access)["sub"].clone();
    let expected = json!({
        "id": id,
        "email": "ada@example.com",
        "name": null,
        "image": null,
        "email_verified": false,
        "is_active": true,
    });
    assert_eq!(me.json, expected);
}

pub(crate) async fn me_requires_token(db: &TestDb) {
    let app = db.app(config()).await;
    app.register("ada@example.com").await;

    for uri in USER_ROUTES {
        app.get_with(uri, &[]).await.assert_not_authenticated();
        for authorization in ["", "Bearer", "Bearer ", "Basic YWRhOnB3", "Token abc"] {
            app.get_with(uri, &[("authorization", authorization)])
                .await
                .assert_not_authenticated();
        }
    }
}

pub(crate) async fn me_rejects_bad_tokens(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    let issued = now();
    let valid = fastauth_access_claims(&id, "ada@example.com", issued, 900);

    // The forged claims are accepted when signed with the right secret: each token below
    // fails for its one defect only.
    for uri in USER_ROUTES {
        let reply = app.get(uri, &sign(&valid, SECRET)).await;
        assert_eq!(reply.status.as_u16(), 200, "{uri}: {}", reply.text);
    }

    let mut expired = fastauth_access_claims(&id, "ada@example.com", issued - 1000, 900);
    expired["exp"] = json!(issued - 100);
    let mut future = fastauth_access_claims(&id, "ada@example.com", issued + 600, 900);
    future["exp"] = json!(issued + 1500);
    let mut no_sub = valid.clone();
    no_sub.as_object_mut().expect("an object").remove("sub");
    let mut no_exp = valid.clone();
    no_exp.as_object_mut().expect("an object").remove("exp");
    let mut refresh_type = valid.clone();
    refresh_type["type"] = json!("refresh");
    let unknown_user =
        fastauth_access_claims("zzzzzzzzzzzzzzzzzzzzzzzz", "x@example.com", issued, 900);
    // Change the first signature character, which carries six full bits of the MAC.
    let signed = sign(&valid, SECRET);
    let signature_start = signed.rfind('.').expect("a compact JWS") + 1;
    let replacement = if signed[signature_start..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let mut tampered = signed.clone();
    tampered.replace_range(signature_start..=signature_start, replacement);

    let cases = [
        ("garbage", "not-a-jwt".to_owned()),
        ("three empty segments", "..".to_owned()),
        (
            "another secret",
            sign(&valid, "another-secret-3a8f1c9e7b2d4f6a0c5e"),
        ),
        ("alg none", unsigned(&valid)),
        ("tampered signature", tampered),
        ("expired", sign(&expired, SECRET)),
        ("issued in the future", sign(&future, SECRET)),
        ("no sub", sign(&no_sub, SECRET)),
        ("no exp", sign(&no_exp, SECRET)),
        ("refresh type", sign(&refresh_type, SECRET)),
        ("unknown user", sign(&unknown_user, SECRET)),
        ("a real refresh token", pair.refresh.clone()),
        ("oversized", format!("{}.{}", pair.access, "A".repeat(9000))),
    ];
    for (case, token) in &cases {
        for uri in USER_ROUTES {
            let reply = app.get(uri, token).await;
            assert_eq!(
                reply.status.as_u16(),
                401,
                "{case} on {uri}: {}",
                reply.text
            );
            reply.assert_not_authenticated();
        }
    }
    // The real access token still works after all of that.
    assert_eq!(app.me(&pair.access).await.status.as_u16(), 200);
}

pub(crate) async fn me_bearer_scheme_any_case(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let authorization = format!("{scheme} {access}");
        let reply = app
            .get_with("/auth/me", &[("authorization", &authorization)])
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{scheme}: {}", reply.text);
    }
}

pub(crate) async fn me_reads_access_cookie(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;

    for uri in USER_ROUTES {
        for cookie in [
            format!("access_token={}", pair.access),
            format!("theme=dark; access_token={}; lang=en", pair.access),
        ] {
            let reply = app.get_with(uri, &[("cookie", &cookie)]).await;
            assert_eq!(reply.status.as_u16(), 200, "{uri} {cookie}: {}", reply.text);
        }

        // A header is used whenever it is present, even when its token is bad.
        let cookie = format!("access_token={}", pair.access);
        let reply = app
            .get_with(
                uri,
                &[("authorization", "Bearer junk"), ("cookie", &cookie)],
            )
            .await;
        reply.assert_not_authenticated();

        let cookie = format!("access_token={}", pair.refresh);
        app.get_with(uri, &[("cookie", &cookie)])
            .await
            .assert_not_authenticated();
        app.get_with(uri, &[("cookie", "access_token=")])
            .await
            .assert_not_authenticated();
    }
}

pub(crate) async fn me_accepts_fastauth_token(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;
    let id = user_id(&app, &access).await;

    // Python FastAuth signs with the same secret and writes no `sid`, with `iss` and `aud`
    // present as null.
    let python = sign(
        &fastauth_access_claims(&id, "ada@example.com", now(), 900),
        SECRET,
    );
    let me = app.me(&python).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    assert_eq!(me.json["id"], id.as_str());
    assert_eq!(me.json["email"], "ada@example.com");
    let whoami = app.get("/api/whoami", &python).await;
    assert_eq!(whoami.status.as_u16(), 200, "{}", whoami.text);
    assert_eq!(whoami.json["sid"], json!(null));
    let claims_reply = app.get("/api/claims", &python).await;
    assert_eq!(claims_reply.status.as_u16(), 200, "{}", claims_reply.text);
    assert_eq!(claims_reply.json["sub"], id.as_str());
}

pub(crate) async fn claims_extractor_survives_logout(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let token_claims = claims(&pair.access);

    let reply = app.get("/api/claims", &pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json["sub"], token_claims["sub"]);
    assert_eq!(reply.json["sid"], token_claims["sid"]);
    assert_eq!(reply.json["email"], "ada@example.com");

    assert_eq!(app.logout(&pair.access).await.status.as_u16(), 200);
    app.me(&pair.access).await.assert_not_authenticated();
    // Documented: the claims-only extractor reads no session, so the token stays accepted
    // there until it expires.
    let reply = app.get("/api/claims", &pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json["sid"], token_claims["sid"]);

    app.get_with("/api/claims", &[])
        .await
        .assert_not_authenticated();
    app.get("/api/claims", &pair.refresh)
        .await
        .assert_not_authenticated();
    app.get("/api/claims", &unsigned(&token_claims))
        .await
        .assert_not_authenticated();
    let cookie = format!("access_token={}", pair.access);
    let reply = app.get_with("/api/claims", &[("cookie", &cookie)]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

pub(crate) async fn claims_extractor_reads_no_database(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;

    db.close().await;
    let reply = app.get("/api/claims", &access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json["sub"], claims(&access)["sub"]);
    // The routes that read the database fail without it, with a JSON 500.
    let me = app.me(&access).await;
    me.assert_error(500, "Internal Server Error");
}
