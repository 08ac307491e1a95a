//! Cookie delivery: the three cookies of a sign-in, their clearing at logout, and the CSRF
//! double submit that guards every unsafe request authenticated by a cookie.

use fastauth_tests::{PASSWORD, Reply, TestApp, TestDb, cookie_config};
use serde_json::json;

/// Builds the `Cookie` header a browser would send after `reply`, and returns it with the
/// CSRF value a script would read.
fn jar(reply: &Reply) -> (String, String) {
    let get = |name: &str| reply.set_cookie(name).value;
    let cookies = format!(
        "access_token={}; refresh_token={}; csrf_token={}",
        get("access_token"),
        get("refresh_token"),
        get("csrf_token")
    );
    (cookies, get("csrf_token"))
}

async fn login(app: &TestApp, remember: bool) -> Reply {
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "remember": remember });
    app.post("/auth/login", &body).await
}

#[track_caller]
fn assert_sign_in_cookies(reply: &Reply, refresh_max_age: &str) {
    assert_eq!(
        reply.json,
        json!({ "message": "Authentication successful" })
    );
    for (name, max_age, http_only) in [
        ("access_token", "900", true),
        ("refresh_token", refresh_max_age, true),
        ("csrf_token", refresh_max_age, false),
    ] {
        let cookie = reply.set_cookie(name);
        assert!(!cookie.value.is_empty(), "{name} has a value");
        assert_eq!(cookie.attribute("Max-Age"), Some(max_age), "{name} Max-Age");
        assert_eq!(cookie.attribute("Path"), Some("/"), "{name} Path");
        assert_eq!(cookie.attribute("SameSite"), Some("Lax"), "{name} SameSite");
        assert!(cookie.has("Secure"), "{name} is Secure by default");
        assert_eq!(cookie.has("HttpOnly"), http_only, "{name} HttpOnly");
        assert!(!cookie.has("Domain"), "{name} has no Domain");
    }
    assert_eq!(reply.set_cookie("csrf_token").value.len(), 43);
}

pub(crate) async fn cookie_sign_in_sets_cookies(db: &TestDb) {
    let app = db.app(cookie_config()).await;
    let reply = app.register_with("ada@example.com", PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    assert_sign_in_cookies(&reply, "2592000");

    let first = login(&app, false).await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.text);
    assert_sign_in_cookies(&first, "2592000");
    let remembered = login(&app, true).await;
    assert_sign_in_cookies(&remembered, "7776000");
    assert_ne!(
        first.set_cookie("csrf_token").value,
        remembered.set_cookie("csrf_token").value,
        "every sign-in makes a new CSRF value"
    );

    // Refresh from the cookie, with the CSRF header, sets new cookies at the normal TTL.
    let (cookies, csrf) = jar(&remembered);
    let headers = [
        ("cookie", cookies.as_str()),
        ("x-csrf-token", csrf.as_str()),
    ];
    let reply = app.request("POST", "/auth/refresh", &headers, None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_sign_in_cookies(&reply, "2592000");
    assert_ne!(reply.set_cookie("csrf_token").value, csrf);
}

pub(crate) async fn cookie_requests_need_csrf(db: &TestDb) {
    let app = db.app(cookie_config()).await;
    app.register_with("ada@example.com", PASSWORD).await;
    let reply = login(&app, false).await;
    let (cookies, csrf) = jar(&reply);
    let access = reply.set_cookie("access_token").value;

    // Safe methods need no CSRF header.
    let reply = app.get_with("/auth/me", &[("cookie", &cookies)]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    // A forged cross-site POST carries the cookies but cannot read the CSRF value.
    let forged = [
        vec![("cookie", cookies.as_str())],
        vec![("cookie", cookies.as_str()), ("x-csrf-token", "guess")],
        vec![("cookie", cookies.as_str()), ("x-csrf-token", "")],
    ];
    for headers in &forged {
        for uri in [
            "/api/whoami",
            "/auth/refresh",
            "/auth/logout",
            "/auth/token/revoke",
        ] {
            let reply = app.request("POST", uri, headers, None).await;
            reply.assert_error(403, "CSRF token missing or invalid");
            assert!(
                reply.set_cookies().is_empty(),
                "{uri} sets no cookie on 403"
            );
        }
        let reply = app
            .request("DELETE", "/auth/sessions/all", headers, None)
            .await;
        reply.assert_error(403, "CSRF token missing or invalid");
    }
    let reply = app.get_with("/auth/me", &[("cookie", &cookies)]).await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "the forged requests ended nothing"
    );

    let good = [
        ("cookie", cookies.as_str()),
        ("x-csrf-token", csrf.as_str()),
    ];
    let reply = app.request("POST", "/api/whoami", &good, None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);

    // A bad cookie token is a 401 before any CSRF check.
    let bad = "access_token=junk; csrf_token=abc";
    app.request("POST", "/api/whoami", &[("cookie", bad)], None)
        .await
        .assert_not_authenticated();

    // Bearer requests never need the header, and the header wins over the cookie.
    let bearer = format!("Bearer {access}");
    let reply = app
        .request("POST", "/api/whoami", &[("authorization", &bearer)], None)
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let headers = [
        ("authorization", "Bearer junk"),
        ("cookie", cookies.as_str()),
    ];
    app.get_with("/auth/me", &headers)
        .await
        .assert_not_authenticated();

    // A refresh token in the body is not a cookie: no CSRF header needed.
    let refresh = reply_cookie(&cookies, "refresh_token");
    let reply = app.refresh(&refresh).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

fn reply_cookie(cookies: &str, name: &str) -> String {
    cookies
        .split("; ")
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .expect("the cookie is in the jar")
        .to_owned()
}

#[track_caller]
fn assert_cleared(reply: &Reply) {
    for (name, http_only) in [
        ("access_token", true),
        ("refresh_token", true),
        ("csrf_token", false),
    ] {
        let cookie = reply.set_cookie(name);
        assert_eq!(cookie.value, "", "{name} is emptied");
        assert_eq!(cookie.attribute("Max-Age"), Some("0"), "{name} Max-Age");
        let expires = cookie.attribute("Expires").expect("an Expires date");
        assert!(
            expires.contains("1970"),
            "{name} expires in 1970: {expires}"
        );
        assert_eq!(cookie.attribute("Path"), Some("/"), "{name} Path");
        assert_eq!(cookie.attribute("SameSite"), Some("Lax"), "{name} SameSite");
        assert!(cookie.has("Secure"), "{name} Secure");
        assert_eq!(cookie.has("HttpOnly"), http_only, "{name} HttpOnly");
    }
}

pub(crate) async fn cookie_logout_clears_cookies(db: &TestDb) {
    let app = db.app(cookie_config()).await;
    app.register_with("ada@example.com", PASSWORD).await;
    let reply = login(&app, false).await;
    let (cookies, csrf) = jar(&reply);

    let good = [
        ("cookie", cookies.as_str()),
        ("x-csrf-token", csrf.as_str()),
    ];
    let reply = app.request("POST", "/auth/logout", &good, None).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json, json!({ "message": "Logged out" }));
    assert_cleared(&reply);
    app.get_with("/auth/me", &[("cookie", &cookies)])
        .await
        .assert_not_authenticated();

    // With the session already ended the 401 still clears the cookies.
    let reply = app.request("POST", "/auth/logout", &good, None).await;
    reply.assert_not_authenticated();
    assert_cleared(&reply);
    let reply = app.request("POST", "/auth/logout", &[], None).await;
    reply.assert_not_authenticated();
    assert_cleared(&reply);
}

pub(crate) async fn bearer_mode_sets_no_cookies(db: &TestDb) {
    let app = db.app(fastauth_tests::config()).await;
    let reply = app.register_with("ada@example.com", PASSWORD).await;
    assert!(reply.set_cookies().is_empty());
    let pair = fastauth_tests::TokenPair::from_reply(&reply);
    let reply = app.logout("junk").await;
    reply.assert_not_authenticated();
    assert!(reply.set_cookies().is_empty());

    // The access cookie still works in bearer mode, and still needs the CSRF header.
    let cookie = format!("access_token={}", pair.access);
    app.request("POST", "/api/whoami", &[("cookie", &cookie)], None)
        .await
        .assert_error(403, "CSRF token missing or invalid");
    let reply = app.logout(&pair.access).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert!(reply.set_cookies().is_empty());
}
