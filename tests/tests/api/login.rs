//! `POST /auth/login`: sessions, remember-me, rejected credentials and inactive accounts.

use argon2::PasswordHasher as _;
use fastauth::PasswordConfig;
use fastauth_tests::tokens::{claims, lifetime};
use fastauth_tests::{PASSWORD, TestDb, TokenPair, cheap_password, config};
use serde_json::json;

use crate::{rows_of_user, user_id};

pub(crate) async fn login_returns_token_pair(db: &TestDb) {
    let app = db.app(config()).await;
    let registered = app.register("ada@example.com").await;
    let id = user_id(&app, &registered.access).await;

    let pair = app.login("ada@example.com").await;
    let access = claims(&pair.access);
    let refresh = claims(&pair.refresh);
    assert_eq!(access["sub"], id.as_str());
    assert_eq!(refresh["sub"], id.as_str());
    assert_eq!(access["type"], "access");
    assert_eq!(refresh["type"], "refresh");
    assert_eq!(lifetime(&pair.access), 900);
    assert_eq!(lifetime(&pair.refresh), 2_592_000);
    assert!(access["sid"].is_string(), "{access}");
    assert_eq!(access["sid"], refresh["sid"]);
    assert_ne!(
        access["sid"],
        claims(&registered.access)["sid"],
        "a new session"
    );

    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 2);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 2);
    assert_eq!(app.me(&pair.access).await.json["id"], id.as_str());
}

pub(crate) async fn login_rejects_bad_credentials(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;
    let id = user_id(&app, &access).await;

    let wrong_password = app
        .login_with("ada@example.com", "wrong horse battery")
        .await;
    wrong_password.assert_error(401, "Invalid email or password");
    let unknown = app.login_with("nobody@example.com", PASSWORD).await;
    unknown.assert_error(401, "Invalid email or password");
    // The replies are identical, so a client cannot distinguish an unknown address from a
    // wrong password.
    assert_eq!(wrong_password.json, unknown.json);
    let empty = app.login_with("ada@example.com", "").await;
    empty.assert_error(401, "Invalid email or password");

    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
}

pub(crate) async fn login_ignores_email_case(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;
    let id = user_id(&app, &access).await;

    for email in ["ADA@EXAMPLE.COM", "  Ada@Example.com  "] {
        let reply = app.login_with(email, PASSWORD).await;
        assert_eq!(reply.status.as_u16(), 200, "{email}: {}", reply.text);
        let pair = TokenPair::from_reply(&reply);
        assert_eq!(claims(&pair.access)["sub"], id.as_str());
        assert_eq!(claims(&pair.access)["email"], "ada@example.com");
    }
}

pub(crate) async fn login_remember_me(db: &TestDb) {
    let app = db.app(config()).await;
    app.register("ada@example.com").await;

    let cases = [
        (json!(true), 7_776_000),
        (json!("yes"), 7_776_000),
        (json!("ON"), 7_776_000),
        (json!(1), 7_776_000),
        (json!("1"), 7_776_000),
        (json!(false), 2_592_000),
        (json!("no"), 2_592_000),
        (json!(0), 2_592_000),
        (json!(null), 2_592_000),
    ];
    for (remember, expected) in cases {
        let body =
            json!({ "email": "ada@example.com", "password": PASSWORD, "remember": remember });
        let reply = app.post("/auth/login", &body).await;
        assert_eq!(reply.status.as_u16(), 200, "{remember}: {}", reply.text);
        let pair = TokenPair::from_reply(&reply);
        assert_eq!(lifetime(&pair.refresh), expected, "remember = {remember}");
        assert_eq!(lifetime(&pair.access), 900, "remember = {remember}");
    }

    for remember in [json!("maybe"), json!(2)] {
        let body =
            json!({ "email": "ada@example.com", "password": PASSWORD, "remember": remember });
        let reply = app.post("/auth/login", &body).await;
        reply.assert_validation("bool_parsing", &json!(["body", "remember"]));
    }
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "remember": [] });
    let reply = app.post("/auth/login", &body).await;
    reply.assert_validation("bool_type", &json!(["body", "remember"]));
}

pub(crate) async fn login_deactivated_account(db: &TestDb) {
    let app = db.app(config()).await;
    let pair = app.register("ada@example.com").await;
    let id = user_id(&app, &pair.access).await;
    let changed = db
        .execute(&format!(
            "UPDATE fastauth_users SET is_active = false WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(changed, 1);

    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Account is deactivated");
    app.login_with("ada@example.com", "wrong horse battery")
        .await
        .assert_error(401, "Invalid email or password");
    app.me(&pair.access)
        .await
        .assert_error(401, "Account is deactivated");
    app.get("/api/whoami", &pair.access)
        .await
        .assert_error(401, "Account is deactivated");
    app.refresh(&pair.refresh)
        .await
        .assert_error(401, "Invalid refresh token");
    app.register_with("ada@example.com", PASSWORD)
        .await
        .assert_error(409, "A user with this email already exists");
    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
}

pub(crate) async fn login_rejects_overlong_password_unverified(db: &TestDb) {
    // An application that once allowed 200 characters stored a 150-character password.
    let lenient = PasswordConfig {
        max_length: 200,
        ..cheap_password()
    };
    let lenient_app = db.app(config().password(lenient)).await;
    let long_password = "p".repeat(150);
    let reply = lenient_app
        .register_with("ada@example.com", &long_password)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let reply = lenient_app
        .login_with("ada@example.com", &long_password)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    // At the default maximum of 128 the same, correct password is rejected before it is
    // verified, with the message of a wrong password.
    let app = db.app(config()).await;
    app.login_with("ada@example.com", &long_password)
        .await
        .assert_error(401, "Invalid email or password");
    app.login_with("ada@example.com", &"x".repeat(129))
        .await
        .assert_error(401, "Invalid email or password");
    app.login_with("nobody@example.com", &"x".repeat(10_000))
        .await
        .assert_error(401, "Invalid email or password");
}

pub(crate) async fn login_validates_body(db: &TestDb) {
    let app = db.app(config()).await;
    for email in ["random-text", "a@localhost", "a@site.test"] {
        let reply = app.login_with(email, PASSWORD).await;
        reply.assert_validation("value_error", &json!(["body", "email"]));
    }
    let reply = app.post("/auth/login", &json!({})).await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "email"]));
    assert_eq!(reply.json["detail"][1]["loc"], json!(["body", "password"]));
}

pub(crate) async fn login_verifies_other_argon2_parameters(db: &TestDb) {
    let app = db.app(config()).await;
    let access = app.register("ada@example.com").await.access;
    let id = user_id(&app, &access).await;

    // A hash with parameters other than the configured ones, as another installation or an
    // older configuration wrote it.
    let params = argon2::Params::new(256, 2, 2, Some(32)).expect("valid parameters");
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let foreign = hasher
        .hash_password(PASSWORD.as_bytes())
        .expect("hashing failed")
        .to_string();
    assert!(
        foreign.starts_with("$argon2id$v=19$m=256,t=2,p=2$"),
        "{foreign}"
    );
    let update =
        format!("UPDATE fastauth_users SET hashed_password = '{foreign}' WHERE id = '{id}'");
    assert_eq!(db.execute(&update).await, 1);

    app.login_with("ada@example.com", "wrong horse battery")
        .await
        .assert_error(401, "Invalid email or password");
    app.login("ada@example.com").await;

    // The successful login rehashed the password with the configured parameters.
    let sql = format!("SELECT hashed_password FROM fastauth_users WHERE id = '{id}'");
    let stored = db
        .text(&sql)
        .await
        .expect("the account has a password hash");
    assert!(
        stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
        "{stored}"
    );
    app.login("ada@example.com").await;
}
