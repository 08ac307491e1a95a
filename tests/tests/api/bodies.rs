//! Request bodies: FastAPI-shaped 422 errors, the 64 KiB limit and the Content-Type rules,
//! seen through `POST /auth/register` and `POST /auth/login`.

use fastauth_tests::{PASSWORD, TestDb, config};
use serde_json::{Value, json};

/// Returns the `(type, loc)` pairs of a 422's entries, in order.
fn entries(reply: &fastauth_tests::Reply) -> Vec<(String, Value)> {
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    reply.json["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("422 without a list: {}", reply.text))
        .iter()
        .map(|entry| {
            let kind = entry["type"].as_str().expect("`type` is a string");
            (kind.to_owned(), entry["loc"].clone())
        })
        .collect()
}

pub(crate) async fn body_missing_fields(db: &TestDb) {
    let app = db.app(config()).await;

    let reply = app.post("/auth/register", &json!({})).await;
    let expected = vec![
        ("missing".to_owned(), json!(["body", "email"])),
        ("missing".to_owned(), json!(["body", "password"])),
    ];
    assert_eq!(entries(&reply), expected);
    assert_eq!(reply.json["detail"][0]["msg"], "Field required");

    let reply = app
        .post("/auth/register", &json!({ "email": "ada@example.com" }))
        .await;
    reply.assert_validation("missing", &json!(["body", "password"]));
    let reply = app
        .post("/auth/login", &json!({ "password": PASSWORD }))
        .await;
    reply.assert_validation("missing", &json!(["body", "email"]));
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);
}

pub(crate) async fn body_wrong_types(db: &TestDb) {
    let app = db.app(config()).await;

    let reply = app
        .post(
            "/auth/register",
            &json!({ "email": 5, "password": 12_345_678 }),
        )
        .await;
    let expected = vec![
        ("string_type".to_owned(), json!(["body", "email"])),
        ("string_type".to_owned(), json!(["body", "password"])),
    ];
    assert_eq!(entries(&reply), expected);
    assert_eq!(reply.json["detail"][0]["input"], 5);
    assert!(
        reply.json["detail"][1].get("input").is_none(),
        "a password is never echoed: {}",
        reply.text
    );

    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "name": ["Ada"] });
    let reply = app.post("/auth/register", &body).await;
    reply.assert_validation("string_type", &json!(["body", "name"]));
    let body = json!({ "email": ["ada@example.com"], "password": PASSWORD });
    let reply = app.post("/auth/login", &body).await;
    reply.assert_validation("string_type", &json!(["body", "email"]));
    let body = json!({ "email": "ada@example.com", "password": null });
    let reply = app.post("/auth/login", &body).await;
    reply.assert_validation("string_type", &json!(["body", "password"]));
}

pub(crate) async fn body_empty(db: &TestDb) {
    let app = db.app(config()).await;
    for body in [&b""[..], b"   \n", b"null"] {
        for uri in ["/auth/register", "/auth/login"] {
            let reply = app
                .post_bytes(uri, Some("application/json"), body.to_vec())
                .await;
            reply.assert_validation("missing", &json!(["body"]));
        }
    }
    let reply = app.post_bytes("/auth/register", None, Vec::new()).await;
    reply.assert_validation("missing", &json!(["body"]));
}

pub(crate) async fn body_malformed_json(db: &TestDb) {
    let app = db.app(config()).await;
    let bodies: [&[u8]; 5] = [
        b"{\"email\": ",
        b"{'email': 'ada@example.com'}",
        b"{\"email\": \"ada@example.com\",}",
        b"\xff\xfe\x00{",
        b"{\"email\": \"ada\xff@example.com\", \"password\": \"correct horse battery\"}",
    ];
    for body in bodies {
        let reply = app
            .post_bytes("/auth/register", Some("application/json"), body.to_vec())
            .await;
        let found = entries(&reply);
        assert_eq!(found.len(), 1, "{}", reply.text);
        assert_eq!(found[0].0, "json_invalid", "{}", reply.text);
        assert_eq!(found[0].1[0], "body", "{}", reply.text);
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);
}

pub(crate) async fn body_not_an_object(db: &TestDb) {
    let app = db.app(config()).await;
    let bodies = [
        json!([{ "email": "ada@example.com", "password": PASSWORD }]),
        json!("ada@example.com"),
        json!(42),
        json!(true),
    ];
    for body in &bodies {
        let reply = app.post("/auth/register", body).await;
        reply.assert_validation("model_attributes_type", &json!(["body"]));
        let reply = app.post("/auth/login", body).await;
        reply.assert_validation("model_attributes_type", &json!(["body"]));
    }
}

/// Builds a register body of exactly `size` bytes, padded with an unknown field.
fn register_body_of(size: usize) -> Vec<u8> {
    let head =
        format!("{{\"email\": \"ada@example.com\", \"password\": \"{PASSWORD}\", \"pad\": \"");
    let tail = "\"}";
    let padding = size - head.len() - tail.len();
    format!("{head}{}{tail}", "p".repeat(padding)).into_bytes()
}

pub(crate) async fn body_size_limit(db: &TestDb) {
    let app = db.app(config()).await;
    let limit = 64 * 1024;

    // Streamed without a Content-Length header: the body is read up to the limit.
    let reply = app
        .post_bytes(
            "/auth/register",
            Some("application/json"),
            register_body_of(limit + 1),
        )
        .await;
    reply.assert_error(413, "Request body too large");
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 0);

    // With a Content-Length header above the limit, the body is rejected before it is read.
    let body = register_body_of(limit + 1);
    let request = axum::http::Request::post("/auth/login")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(axum::body::Body::from(body))
        .expect("valid request");
    app.send(request)
        .await
        .assert_error(413, "Request body too large");

    // Exactly 64 KiB is accepted.
    let reply = app
        .post_bytes(
            "/auth/register",
            Some("application/json"),
            register_body_of(limit),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
}

pub(crate) async fn body_content_type(db: &TestDb) {
    let app = db.app(config()).await;
    let body = |email: &str| {
        json!({ "email": email, "password": PASSWORD })
            .to_string()
            .into_bytes()
    };

    // No Content-Type at all: still parsed as JSON.
    let reply = app
        .post_bytes("/auth/register", None, body("ada@example.com"))
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let reply = app
        .post_bytes("/auth/login", None, body("ada@example.com"))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    // Parameters and `+json` types count as JSON.
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.api+json",
    ] {
        let reply = app
            .post_bytes("/auth/login", Some(content_type), body("ada@example.com"))
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{content_type}: {}", reply.text);
    }

    // A form or text body is never read as JSON, as in FastAPI.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = app
            .post_bytes(
                "/auth/register",
                Some(content_type),
                body("grace@example.com"),
            )
            .await;
        reply.assert_validation("model_attributes_type", &json!(["body"]));
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM fastauth_users").await, 1);
}
