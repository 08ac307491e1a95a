//! The security event stream through the SQL audit sink: which flows write which event,
//! with which ids, and that no address or token reaches the table.

use fastauth_tests::tokens::claims;
use fastauth_tests::{PASSWORD, TestDb, config};
use serde_json::json;

use crate::user_id;

const ROOT: &str = "root@example.com";
const BOB: &str = "bob@example.com";

/// Counts the audit rows of `kind` that match `condition`.
async fn events(db: &TestDb, kind: &str, condition: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) FROM fastauth_audit_events WHERE kind = '{kind}' AND {condition}"
    ))
    .await
}

pub(crate) async fn security_events_reach_audit_table(db: &TestDb) {
    let app = db
        .app_with(config().admin_email(ROOT), None::<()>, true)
        .await;

    // Registration of the configured admin address: the account and its role.
    let root = app.register(ROOT).await;
    let root_id = user_id(&app, &root.access).await;
    let root_is = format!("user_id = '{root_id}'");
    assert_eq!(events(db, "account_created", &root_is).await, 1);
    assert_eq!(
        events(
            db,
            "role_assigned",
            &format!("{root_is} AND role = 'admin'")
        )
        .await,
        1
    );

    // Sign-ins that succeed and fail, known and unknown addresses alike.
    let pair = app.login(ROOT).await;
    let sid = claims(&pair.access)["sid"]
        .as_str()
        .expect("`sid` is a string")
        .to_owned();
    let signed_in = format!("{root_is} AND session_id = '{sid}' AND provider = 'credentials'");
    assert_eq!(events(db, "sign_in_succeeded", &signed_in).await, 1);
    app.login_with(ROOT, "wrong password")
        .await
        .assert_error(401, "Invalid email or password");
    let wrong = format!("{root_is} AND reason = 'invalid credentials'");
    assert_eq!(events(db, "sign_in_failed", &wrong).await, 1);
    app.login_with("nobody@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
    assert_eq!(events(db, "sign_in_failed", "user_id IS NULL").await, 1);

    // A replayed refresh token.
    let reply = app.refresh(&pair.refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    app.refresh(&pair.refresh)
        .await
        .assert_error(401, "Refresh token has already been used");
    let replay = format!("{root_is} AND session_id = '{sid}'");
    assert_eq!(events(db, "refresh_token_reused", &replay).await, 1);

    // A role given by an administrator names the administrator as the actor.
    let root = app.login(ROOT).await;
    let bob = app.register(BOB).await;
    let bob_id = user_id(&app, &bob.access).await;
    let reply = app
        .post_authorized("/auth/roles", &root.access, &json!({ "name": "editor" }))
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let body = json!({ "user_id": bob_id, "role_name": "editor" });
    let reply = app
        .post_authorized("/auth/roles/assign", &root.access, &body)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let by_root = format!("actor_id = '{root_id}' AND role = 'editor'");
    assert_eq!(events(db, "role_created", &by_root).await, 1);
    let assigned = format!("user_id = '{bob_id}' AND {by_root}");
    assert_eq!(events(db, "role_assigned", &assigned).await, 1);

    // Sessions ended by revocation and by logout.
    let bob_sid = claims(&bob.access)["sid"]
        .as_str()
        .expect("`sid` is a string")
        .to_owned();
    let second = app.login(BOB).await;
    let reply = app
        .request(
            "DELETE",
            &format!("/auth/sessions/{bob_sid}"),
            &[("authorization", &format!("Bearer {}", second.access))],
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let revoked = format!("user_id = '{bob_id}' AND session_id = '{bob_sid}'");
    assert_eq!(events(db, "session_revoked", &revoked).await, 1);
    let reply = app.logout(&second.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let logout = format!("user_id = '{bob_id}' AND reason = 'logout'");
    assert_eq!(events(db, "session_revoked", &logout).await, 1);

    // A session ended with its refresh token, then every session at once.
    let third = app.login(BOB).await;
    let third_sid = claims(&third.access)["sid"]
        .as_str()
        .expect("`sid` is a string")
        .to_owned();
    let fourth = app.login(BOB).await;
    let body = json!({ "token": third.refresh });
    let reply = app
        .post_authorized("/auth/token/revoke", &fourth.access, &body)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let by_token = format!(
        "user_id = '{bob_id}' AND session_id = '{third_sid}' \
         AND reason = 'its refresh token was revoked'"
    );
    assert_eq!(events(db, "session_revoked", &by_token).await, 1);
    let reply = app
        .request(
            "DELETE",
            "/auth/sessions/all",
            &[("authorization", &format!("Bearer {}", fourth.access))],
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let everything = format!(
        "user_id = '{bob_id}' AND session_id IS NULL AND reason LIKE 'all sessions revoked%'"
    );
    assert_eq!(events(db, "session_revoked", &everything).await, 1);

    // Ids only: no address and no token fragment in any column.
    let leaks = db
        .count(
            "SELECT COUNT(*) FROM fastauth_audit_events WHERE \
             COALESCE(reason, '') LIKE '%@%' OR COALESCE(user_id, '') LIKE '%@%' \
             OR COALESCE(reason, '') LIKE '%eyJ%' OR COALESCE(provider, '') LIKE '%@%'",
        )
        .await;
    assert_eq!(leaks, 0);
}
