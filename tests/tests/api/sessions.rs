//! The session routes: listing the caller's sessions and ending one or all of them.

use fastauth_tests::tokens::claims;
use fastauth_tests::{TestDb, config};
use serde_json::json;

use crate::{rows_of_user, user_id};

fn sid(token: &str) -> String {
    claims(token)["sid"]
        .as_str()
        .expect("`sid` is a string")
        .to_owned()
}

pub(crate) async fn sessions_list_marks_current(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let body = json!({ "email": "ada@example.com", "password": fastauth_tests::PASSWORD });
    let reply = app
        .request(
            "POST",
            "/auth/login",
            &[("user-agent", "curl/8")],
            Some(&body),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let second = fastauth_tests::TokenPair::from_reply(&reply);
    app.register("bob@example.com").await;

    let reply = app.get("/auth/sessions", &second.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let list = reply.json.as_array().expect("a list");
    assert_eq!(list.len(), 2, "only the caller's sessions: {}", reply.text);
    let mut keys: Vec<&str> = list[0]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "current",
            "expires_at",
            "id",
            "ip_address",
            "user_agent",
            "user_id"
        ]
    );
    // Newest first: the login, then the registration.
    assert_eq!(list[0]["id"], sid(&second.access).as_str());
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["user_agent"], "curl/8");
    assert_eq!(list[1]["id"], sid(&first.access).as_str());
    assert_eq!(list[1]["current"], false);
    assert_eq!(list[1]["user_agent"], serde_json::Value::Null);
    for session in list {
        assert_eq!(session["user_id"], id.as_str());
        for field in ["created_at", "expires_at"] {
            let text = session[field].as_str().expect("a timestamp string");
            let parsed =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339);
            assert!(parsed.is_ok(), "{field} is RFC 3339: {text}");
            assert!(text.ends_with('Z'), "{field} is UTC: {text}");
        }
    }

    // From the other session, the other entry is the current one.
    let reply = app.get("/auth/sessions", &first.access).await;
    assert_eq!(reply.json[0]["current"], false);
    assert_eq!(reply.json[1]["current"], true);
}

pub(crate) async fn sessions_revoke_one(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;
    let uri = format!("/auth/sessions/{}", sid(&first.access));

    let reply = app.request("DELETE", &uri, &[], None).await;
    reply.assert_not_authenticated();
    let bearer = format!("Bearer {}", second.access);
    let reply = app
        .request("DELETE", &uri, &[("authorization", &bearer)], None)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Session revoked" }));

    // The revoked session's tokens stop working at once.
    app.me(&first.access).await.assert_not_authenticated();
    app.refresh(&first.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    assert_eq!(app.me(&second.access).await.status.as_u16(), 200);

    // A second time, an unknown id, and an id of `all`'s sibling shape are all 404.
    let reply = app
        .request("DELETE", &uri, &[("authorization", &bearer)], None)
        .await;
    reply.assert_error(404, "Session not found");
    let reply = app
        .request(
            "DELETE",
            "/auth/sessions/nope",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    reply.assert_error(404, "Session not found");
}

pub(crate) async fn sessions_foreign_or_expired_not_found(db: &TestDb) {
    let app = db.app(config()).await;
    let ada = app.register("ada@example.com").await;
    let ada_id = user_id(&app, &ada.access).await;
    let old = app.login("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bearer = format!("Bearer {}", bob.access);

    let uri = format!("/auth/sessions/{}", sid(&ada.access));
    let reply = app
        .request("DELETE", &uri, &[("authorization", &bearer)], None)
        .await;
    reply.assert_error(404, "Session not found");
    assert_eq!(app.me(&ada.access).await.status.as_u16(), 200);

    // An expired session is neither listed nor deletable.
    let old_sid = sid(&old.access);
    db.execute(&format!(
        "UPDATE fastauth_sessions SET expires_at = created_at WHERE id = '{old_sid}'"
    ))
    .await;
    let reply = app.get("/auth/sessions", &ada.access).await;
    assert_eq!(
        reply.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        reply.text
    );
    let ada_bearer = format!("Bearer {}", ada.access);
    let uri = format!("/auth/sessions/{old_sid}");
    let reply = app
        .request("DELETE", &uri, &[("authorization", &ada_bearer)], None)
        .await;
    reply.assert_error(404, "Session not found");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &ada_id).await, 2);
}

pub(crate) async fn sessions_revoke_all_ends_caller(db: &TestDb) {
    let app = db.app(config()).await;
    let first = app.register("ada@example.com").await;
    let id = user_id(&app, &first.access).await;
    let second = app.login("ada@example.com").await;
    let bob = app.register("bob@example.com").await;

    let bearer = format!("Bearer {}", second.access);
    let reply = app
        .request(
            "DELETE",
            "/auth/sessions/all",
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "All sessions revoked" }));

    for pair in [&first, &second] {
        app.me(&pair.access).await.assert_not_authenticated();
        app.refresh(&pair.refresh)
            .await
            .assert_error(401, "Invalid refresh token");
    }
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 0);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 0);
    assert_eq!(app.me(&bob.access).await.status.as_u16(), 200);
    app.get("/auth/sessions", "junk")
        .await
        .assert_not_authenticated();
}

pub(crate) async fn sessions_require_authentication(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let session = sid(&pair.access);

    let uris = [
        ("GET", "/auth/sessions".to_owned()),
        ("DELETE", "/auth/sessions/all".to_owned()),
        ("DELETE", format!("/auth/sessions/{session}")),
    ];
    for (method, uri) in &uris {
        app.request(method, uri, &[], None)
            .await
            .assert_not_authenticated();
        // The refresh token is no access token.
        let bearer = format!("Bearer {}", pair.refresh);
        app.request(method, uri, &[("authorization", &bearer)], None)
            .await
            .assert_not_authenticated();
    }

    // Nothing was revoked by the rejected requests.
    let reply = app.get("/auth/sessions", &pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        reply.text
    );
}
