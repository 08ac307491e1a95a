//! Unknown routes and wrong methods: the contract's JSON 404 and 405.

use fastauth_tests::{TestDb, config};
use serde_json::json;

pub(crate) async fn unknown_route_not_found(db: &TestDb) {
    let app = db.app(config()).await;
    for uri in [
        "/",
        "/nope",
        "/auth",
        "/auth/nope",
        "/auth/me/extra",
        "/api/nope",
    ] {
        let reply = app.get_with(uri, &[]).await;
        assert_eq!(reply.status.as_u16(), 404, "{uri}: {}", reply.text);
        assert_eq!(reply.json, json!({ "detail": "Not Found" }), "{uri}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{uri}"
        );
    }
    let reply = app.post("/auth/nope", &json!({})).await;
    reply.assert_error(404, "Not Found");
}

pub(crate) async fn wrong_method_not_allowed(db: &TestDb) {
    let app = db.app(config()).await;
    let cases = [
        ("GET", "/auth/register", "POST"),
        ("GET", "/auth/login", "POST"),
        ("PUT", "/auth/refresh", "POST"),
        ("GET", "/auth/logout", "POST"),
        ("DELETE", "/auth/me", "GET"),
        ("POST", "/auth/me", "GET"),
    ];
    for (method, uri, allowed) in cases {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("valid request");
        let reply = app.send(request).await;
        assert_eq!(reply.status.as_u16(), 405, "{method} {uri}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({ "detail": "Method Not Allowed" }),
            "{method} {uri}"
        );
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let allow = reply
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {uri}: no Allow header"));
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{method} {uri}: Allow is {allow:?}"
        );
        assert!(
            !allow.split(',').any(|m| m.trim() == method),
            "{method} {uri}: Allow is {allow:?}"
        );
    }
}
