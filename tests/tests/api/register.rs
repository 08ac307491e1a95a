//! `POST /auth/register`: the pair it issues, what it stores, and its business rules.

use fastauth::{AuthConfig, PasswordConfig, Secret};
use fastauth_tests::tokens::{claims, lifetime};
use fastauth_tests::{PASSWORD, TestDb, TokenPair, cheap_password, config};
use serde_json::json;

use crate::{rows_of_user, user_id};

/// Checks the cuid2 shape of an id: 24 lower-case letters and digits, starting with a letter.
fn assert_cuid2(id: &str) {
    assert_eq!(id.len(), 24, "{id}");
    assert!(id.starts_with(|c: char| c.is_ascii_lowercase()), "{id}");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
}

pub(crate) async fn register_returns_token_pair(db: &TestDb) {
    let app = db.app(config()).await;
    let body = json!({ "email": "  Ada@Example.COM ", "password": PASSWORD, "name": "Ada" });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let pair = TokenPair::from_reply(&reply);

    let me = app.me(&pair.access).await;
    assert_eq!(me.status.as_u16(), 200, "{}", me.text);
    let id = me.json["id"].as_str().expect("`id` is a string").to_owned();
    assert_cuid2(&id);
    let expected = json!({
        "id": id,
        "email": "ada@example.com",
        "name": "Ada",
        "image": null,
        "email_verified": false,
        "is_active": true,
    });
    assert_eq!(me.json, expected);

    let access = claims(&pair.access);
    let refresh = claims(&pair.refresh);
    assert_eq!(access["type"], "access");
    assert_eq!(refresh["type"], "refresh");
    assert_eq!(access["sub"], id.as_str());
    assert_eq!(refresh["sub"], id.as_str());
    assert_eq!(access["email"], "ada@example.com");
    assert_eq!(access["name"], "Ada");
    assert_eq!(access["email_verified"], false);
    assert_eq!(lifetime(&pair.access), 900);
    assert_eq!(lifetime(&pair.refresh), 2_592_000);
    let sid = access["sid"].as_str().expect("`sid` is a string");
    assert_cuid2(sid);
    assert_eq!(refresh["sid"], sid);
    assert_cuid2(access["jti"].as_str().expect("`jti` is a string"));
    assert_ne!(access["jti"], refresh["jti"]);
    assert!(access.get("iss").is_none(), "no issuer is configured");
    assert!(access.get("aud").is_none(), "no audience is configured");

    assert_eq!(rows_of_user(db, "fastauth_sessions", &id).await, 1);
    assert_eq!(rows_of_user(db, "fastauth_tokens", &id).await, 1);
    let stored = db
        .text(&format!(
            "SELECT email FROM fastauth_users WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(stored.as_deref(), Some("ada@example.com"));
}

pub(crate) async fn register_duplicate_email_conflicts(db: &TestDb) {
    let app = db.app(config()).await;
    app.register("ada@example.com").await;

    for email in ["ada@example.com", " ADA@Example.com", "Ada@EXAMPLE.COM"] {
        let reply = app.register_with(email, PASSWORD).await;
        reply.assert_error(409, "A user with this email already exists");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 1);
}

pub(crate) async fn register_checks_password_policy(db: &TestDb) {
    let app = db.app(config()).await;
    let cases = [
        (
            "1234567".to_owned(),
            "Password must be at least 8 characters long",
        ),
        ("é".repeat(7), "Password must be at least 8 characters long"),
        (
            "x".repeat(129),
            "Password must be at most 128 characters long",
        ),
        (
            "é".repeat(129),
            "Password must be at most 128 characters long",
        ),
    ];
    for (password, detail) in &cases {
        let reply = app.register_with("ada@example.com", password).await;
        reply.assert_error(400, detail);
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);

    // Lengths count characters: eight two-byte characters and 128 characters both pass.
    let reply = app.register_with("eight@example.com", &"é".repeat(8)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let reply = app.register_with("max@example.com", &"x".repeat(128)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);

    let strict = PasswordConfig {
        require_uppercase: true,
        require_lowercase: true,
        require_digit: true,
        require_special: true,
        ..cheap_password()
    };
    let strict_app = db.app(config().password(strict)).await;
    let cases = [
        ("short", "Password must be at least 8 characters long"),
        (
            "alllowercase1!",
            "Password must contain at least one uppercase letter",
        ),
        (
            "ALLUPPERCASE1!",
            "Password must contain at least one lowercase letter",
        ),
        ("NoDigitsHere!", "Password must contain at least one digit"),
        (
            "NoSpecial123",
            "Password must contain at least one special character",
        ),
    ];
    for (password, detail) in cases {
        let reply = strict_app
            .register_with("grace@example.com", password)
            .await;
        reply.assert_error(400, detail);
    }
    let reply = strict_app
        .register_with("grace@example.com", "Good1Pass!")
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
}

pub(crate) async fn register_policy_before_duplicate(db: &TestDb) {
    let app = db.app(config()).await;
    app.register("ada@example.com").await;

    let reply = app.register_with("ada@example.com", "short").await;
    reply.assert_error(400, "Password must be at least 8 characters long");
    let reply = app.register_with("ada@example.com", &"x".repeat(129)).await;
    reply.assert_error(400, "Password must be at most 128 characters long");
}

pub(crate) async fn register_limits_name_length(db: &TestDb) {
    let app = db.app(config()).await;

    let long = "n".repeat(257);
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "name": long });
    let reply = app.post("/auth/register", &body).await;
    let entry = reply.assert_validation("string_too_long", &json!(["body", "name"]));
    assert_eq!(entry["ctx"]["max_length"], 256);
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "name": "é".repeat(257) });
    let reply = app.post("/auth/register", &body).await;
    reply.assert_validation("string_too_long", &json!(["body", "name"]));
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);

    let name = "é".repeat(256);
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "name": name });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let access = TokenPair::from_reply(&reply).access;
    assert_eq!(app.me(&access).await.json["name"], name.as_str());

    let body = json!({ "email": "grace@example.com", "password": PASSWORD, "name": null });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let access = TokenPair::from_reply(&reply).access;
    assert_eq!(app.me(&access).await.json["name"], json!(null));
}

pub(crate) async fn register_rejects_invalid_email(db: &TestDb) {
    let app = db.app(config()).await;
    for email in [
        "random-text",
        "",
        "a@localhost",
        "a@site.test",
        "two@@example.com",
        "@example.com",
        "ada@example",
    ] {
        let reply = app.register_with(email, PASSWORD).await;
        let entry = reply.assert_validation("value_error", &json!(["body", "email"]));
        assert!(entry["msg"].is_string(), "{email}: {}", reply.text);
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);
}

pub(crate) async fn register_normalises_unicode_email(db: &TestDb) {
    let app = db.app(config()).await;
    // Trimmed, local part NFC-normalised, punycode domain decoded and lower-cased, then
    // the whole address case-folded as Python's `str.casefold()` does.
    let cases = [
        ("  Straße@Example.COM ", "strasse@example.com"),
        ("\u{212A}elvin@example.com", "kelvin@example.com"),
        ("Cafe\u{301}@example.com", "caf\u{e9}@example.com"),
        ("Ada@XN--BCHER-KVA.example", "ada@b\u{fc}cher.example"),
    ];
    for (raw, normalised) in cases {
        let reply = app.register_with(raw, PASSWORD).await;
        assert_eq!(reply.status.as_u16(), 201, "{raw}: {}", reply.text);
        let access = TokenPair::from_reply(&reply).access;
        assert_eq!(app.me(&access).await.json["email"], normalised, "{raw}");
        // Every spelling of the address finds the same account.
        app.login(normalised).await;
        app.register_with(normalised, PASSWORD)
            .await
            .assert_error(409, "A user with this email already exists");
    }
}

pub(crate) async fn register_ignores_unknown_fields(db: &TestDb) {
    let app = db.app(config()).await;
    // Fields the client must not set are ignored like any unknown field.
    let body = json!({
        "email": "ada@example.com",
        "password": PASSWORD,
        "id": "chosenbytheclient0000000",
        "is_active": false,
        "email_verified": true,
        "image": "https://example.com/a.png",
        "credits": 500,
        "role": "admin",
    });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let access = TokenPair::from_reply(&reply).access;

    let me = app.me(&access).await;
    assert_ne!(me.json["id"], "chosenbytheclient0000000");
    assert_eq!(me.json["is_active"], true);
    assert_eq!(me.json["email_verified"], false);
    assert_eq!(me.json["image"], json!(null));
    let whoami = app.get("/api/whoami", &access).await;
    assert_eq!(whoami.json["credits"], 0);
}

pub(crate) async fn register_stores_register_field(db: &TestDb) {
    let app = db.app(config()).await;
    let body = json!({
        "email": "ada@example.com",
        "password": PASSWORD,
        "company": "Analytical Engines",
    });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let access = TokenPair::from_reply(&reply).access;

    let whoami = app.get("/api/whoami", &access).await;
    assert_eq!(whoami.status.as_u16(), 200, "{}", whoami.text);
    assert_eq!(whoami.json["email"], "ada@example.com");
    assert_eq!(whoami.json["company"], "Analytical Engines");
    assert_eq!(whoami.json["credits"], 0);
    assert_eq!(whoami.json["sid"], claims(&access)["sid"]);
    let id = user_id(&app, &access).await;
    let sql = format!("SELECT company FROM fastauth_users WHERE id = '{id}'");
    assert_eq!(db.text(&sql).await.as_deref(), Some("Analytical Engines"));
    let sql = format!("SELECT COUNT(*) FROM fastauth_users WHERE id = '{id}' AND credits = 0");
    assert_eq!(db.count(&sql).await, 1);

    // Without the field the column stays NULL.
    let access = app.register("grace@example.com").await.access;
    let whoami = app.get("/api/whoami", &access).await;
    assert_eq!(whoami.json["company"], json!(null));

    // A register field of the wrong type is a 422 at its own location.
    let body = json!({ "email": "alan@example.com", "password": PASSWORD, "company": 7 });
    let reply = app.post("/auth/register", &body).await;
    reply.assert_validation("value_error", &json!(["body", "company"]));
}

pub(crate) async fn register_default_password_parameters(db: &TestDb) {
    let secret = Secret::new(fastauth_tests::SECRET).expect("the test secret is valid");
    let app = db.app(AuthConfig::new(secret)).await;
    let access = app.register("ada@example.com").await.access;

    let id = user_id(&app, &access).await;
    let sql = format!("SELECT hashed_password FROM fastauth_users WHERE id = '{id}'");
    let hash = db
        .text(&sql)
        .await
        .expect("the account has a password hash");
    // The library's documented default: Argon2id with OWASP's m=19456 KiB, t=2, p=1.
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    app.login("ada@example.com").await;
}

/// Addresses that differ only by an accent or by a character a case-insensitive collation
/// folds are distinct accounts on every database, MariaDB included.
pub(crate) async fn register_accents_are_distinct(db: &TestDb) {
    let app = db.app(config()).await;
    let plain = json!({ "email": "resume@example.com", "password": PASSWORD });
    let accented = json!({ "email": "résumé@example.com", "password": "another password" });
    let first = app.post("/auth/register", &plain).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.text);
    let second = app.post("/auth/register", &accented).await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.text);

    let login = json!({ "email": "résumé@example.com", "password": PASSWORD });
    let reply = app.post("/auth/login", &login).await;
    assert_eq!(reply.status.as_u16(), 401, "{}", reply.text);
    assert_eq!(reply.json["detail"], "Invalid email or password");
}

/// A NUL character, which PostgreSQL cannot store in text, is a 422 on every database.
pub(crate) async fn register_rejects_nul_character(db: &TestDb) {
    let app = db.app(config()).await;
    let body = json!({ "email": "nul@example.com", "password": PASSWORD, "name": "a\u{0}b" });
    let reply = app.post("/auth/register", &body).await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    assert_eq!(reply.json["detail"][0]["type"], "string_pattern_mismatch");
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "name"]));
}

/// A register field of the app's own is capped like `image`: 2048 characters.
pub(crate) async fn register_limits_own_field_length(db: &TestDb) {
    let app = db.app(config()).await;
    let long =
        json!({ "email": "long@example.com", "password": PASSWORD, "company": "c".repeat(2049) });
    let reply = app.post("/auth/register", &long).await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    assert_eq!(reply.json["detail"][0]["type"], "string_too_long");
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "company"]));

    let fits =
        json!({ "email": "long@example.com", "password": PASSWORD, "company": "c".repeat(2048) });
    let reply = app.post("/auth/register", &fits).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
}
