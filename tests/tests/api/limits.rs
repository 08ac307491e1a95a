//! Login lockout and rate limits, with their counters in the test database or in Redis.

use std::time::Duration;

use fastauth::{AuthConfig, ClientIpSource, LockoutConfig, RateLimit, RateLimitConfig};
use fastauth_tests::{PASSWORD, Reply, TestApp, TestDb, config};
use serde_json::json;

/// Where the lockout and rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counters {
    /// The SQL state store on the test database (the default of `with_pool`).
    Database,
    /// A Redis state store for both rate limits and lockout, on an SQLite test database.
    Redis,
}

async fn app(db: &TestDb, counters: Counters, config: AuthConfig) -> TestApp {
    let config = match counters {
        Counters::Database => config,
        Counters::Redis => {
            let redis = fastauth_tests::state::redis_store().await;
            config
                .state_store(std::sync::Arc::clone(&redis))
                .lockout_store(redis)
        }
    };
    db.app(config).await
}

const WRONG: &str = "wrong horse battery";
const LOCKED_5: &str = "Account is locked. Try again in 5 minutes";

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.login_with(email, password).await
}

/// Reads `Retry-After` as whole seconds.
#[track_caller]
fn retry_after(reply: &Reply) -> u64 {
    let value = reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {} {}", reply.status, reply.text));
    value.parse().expect("Retry-After is whole seconds")
}

fn per_ip(max_requests: u32, seconds: u64) -> RateLimitConfig {
    RateLimitConfig {
        per_ip: Some(RateLimit::new(max_requests, Duration::from_secs(seconds))),
        per_account: None,
    }
}

pub(crate) async fn lockout_after_max_failures(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config()).await;
    app.register("ada@example.com").await;

    // The attempt that reaches the maximum still gets the ordinary 401.
    for attempt in 1..=5 {
        let reply = login(&app, "ada@example.com", WRONG).await;
        assert_eq!(
            reply.status.as_u16(),
            401,
            "attempt {attempt}: {}",
            reply.text
        );
        reply.assert_error(401, "Invalid email or password");
    }
    // Locked: even the right password is refused before it is checked.
    let locked = login(&app, "ada@example.com", PASSWORD).await;
    locked.assert_error(429, LOCKED_5);
    let wait = retry_after(&locked);
    assert!((295..=300).contains(&wait), "Retry-After {wait}");
    let again = login(&app, "ada@example.com", WRONG).await;
    again.assert_error(429, LOCKED_5);

    // Other addresses are not affected.
    app.register("bob@example.com").await;
    app.login("bob@example.com").await;
}

pub(crate) async fn lockout_unknown_address_alike(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config()).await;
    app.register("ada@example.com").await;

    for _ in 0..5 {
        login(&app, "ada@example.com", WRONG).await;
        login(&app, "nobody@example.com", WRONG).await;
    }
    let known = login(&app, "ada@example.com", PASSWORD).await;
    let unknown = login(&app, "nobody@example.com", PASSWORD).await;
    known.assert_error(429, LOCKED_5);
    unknown.assert_error(429, LOCKED_5);
    // Same status, body and header names, so a client cannot distinguish the two.
    assert_eq!(known.json, unknown.json);
    let mut known_headers: Vec<&str> = known.headers.keys().map(|k| k.as_str()).collect();
    let mut unknown_headers: Vec<&str> = unknown.headers.keys().map(|k| k.as_str()).collect();
    known_headers.sort_unstable();
    unknown_headers.sort_unstable();
    assert_eq!(known_headers, unknown_headers);
    assert!(retry_after(&known).abs_diff(retry_after(&unknown)) <= 1);
}

pub(crate) async fn lockout_cleared_by_success(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config()).await;
    app.register("ada@example.com").await;

    for _ in 0..4 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    app.login("ada@example.com").await;
    // The counter starts again: four more failures do not lock.
    for _ in 0..4 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    app.login("ada@example.com").await;
}

pub(crate) async fn lockout_configurable(db: &TestDb, counters: Counters) {
    let lockout = LockoutConfig {
        max_attempts: 2,
        duration: Duration::from_secs(60),
        ..LockoutConfig::default()
    };
    let app = app(db, counters, config().lockout(Some(lockout))).await;
    app.register("ada@example.com").await;

    for _ in 0..2 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    let locked = login(&app, "ada@example.com", PASSWORD).await;
    locked.assert_error(429, "Account is locked. Try again in 1 minute");
    let wait = retry_after(&locked);
    assert!((55..=60).contains(&wait), "Retry-After {wait}");
}

pub(crate) async fn lockout_expires(db: &TestDb, counters: Counters) {
    let lockout = LockoutConfig {
        max_attempts: 2,
        duration: Duration::from_secs(2),
        ..LockoutConfig::default()
    };
    let app = app(db, counters, config().lockout(Some(lockout))).await;
    app.register("ada@example.com").await;
    for _ in 0..2 {
        login(&app, "ada@example.com", WRONG).await;
    }
    let locked = login(&app, "ada@example.com", PASSWORD).await;
    locked.assert_error(429, "Account is locked. Try again in 1 minute");
    assert!(retry_after(&locked) <= 2, "{:?}", locked.headers);

    // Refusals during the lock do not extend it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    login(&app, "ada@example.com", WRONG)
        .await
        .assert_error(429, "Account is locked. Try again in 1 minute");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    app.login("ada@example.com").await;

    // After the lock, counting starts from zero: one failure does not lock again.
    login(&app, "ada@example.com", WRONG)
        .await
        .assert_error(401, "Invalid email or password");
    app.login("ada@example.com").await;
}

pub(crate) async fn lockout_can_be_disabled(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config().lockout(None)).await;
    app.register("ada@example.com").await;
    for _ in 0..8 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    app.login("ada@example.com").await;
}

pub(crate) async fn rate_limit_login_per_ip(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config().rate_limits(per_ip(3, 60))).await;
    let body = json!({ "email": "ada@example.com", "password": WRONG });

    for attempt in 1..=3 {
        let reply = app
            .post_from("192.0.2.1:5000", "/auth/login", &[], &body)
            .await;
        assert_eq!(
            reply.status.as_u16(),
            401,
            "attempt {attempt}: {}",
            reply.text
        );
    }
    let limited = app
        .post_from("192.0.2.1:5001", "/auth/login", &[], &body)
        .await;
    limited.assert_error(429, "Too many requests");
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");

    // Another client has its own budget; another route too.
    let other = app
        .post_from("192.0.2.2:5000", "/auth/login", &[], &body)
        .await;
    other.assert_error(401, "Invalid email or password");
    let register = json!({ "email": "ada@example.com", "password": PASSWORD });
    let reply = app
        .post_from("192.0.2.1:5000", "/auth/register", &[], &register)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
}

pub(crate) async fn rate_limit_register_per_ip(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config().rate_limits(per_ip(2, 60))).await;
    for n in 0..2 {
        let body = json!({ "email": format!("user{n}@example.com"), "password": PASSWORD });
        let reply = app
            .post_from("192.0.2.1:5000", "/auth/register", &[], &body)
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    }
    let body = json!({ "email": "user9@example.com", "password": PASSWORD });
    let limited = app
        .post_from("192.0.2.1:5000", "/auth/register", &[], &body)
        .await;
    limited.assert_error(429, "Too many requests");
    assert!(retry_after(&limited) >= 1);
    // Nothing was created by the refused request.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM fastauth_users WHERE email = 'user9@example.com'")
            .await,
        0
    );
}

pub(crate) async fn rate_limit_refresh(db: &TestDb, counters: Counters) {
    let limits = RateLimitConfig {
        per_ip: Some(RateLimit::new(4, Duration::from_secs(60))),
        per_account: Some(RateLimit::new(2, Duration::from_secs(60))),
    };
    let app = app(db, counters, config().rate_limits(limits)).await;
    let mut pair = app.register("ada@example.com").await;

    // Per account: two refreshes of Ada's tokens, from two clients.
    for peer in ["192.0.2.1:5000", "192.0.2.2:5000"] {
        let body = json!({ "refresh_token": pair.refresh });
        let reply = app.post_from(peer, "/auth/refresh", &[], &body).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
        pair = fastauth_tests::TokenPair::from_reply(&reply);
    }
    let body = json!({ "refresh_token": pair.refresh });
    let limited = app
        .post_from("192.0.2.3:5000", "/auth/refresh", &[], &body)
        .await;
    limited.assert_error(429, "Too many requests");
    // The refused request consumed nothing: the token still works after the limit.
    assert!(retry_after(&limited) >= 1);

    // Per address: forged tokens count for the client but spend no account's budget.
    for _ in 0..4 {
        let forged = json!({ "refresh_token": "not-a-token" });
        let reply = app
            .post_from("192.0.2.9:5000", "/auth/refresh", &[], &forged)
            .await;
        reply.assert_error(401, "Invalid refresh token");
    }
    let forged = json!({ "refresh_token": "not-a-token" });
    let reply = app
        .post_from("192.0.2.9:5000", "/auth/refresh", &[], &forged)
        .await;
    reply.assert_error(429, "Too many requests");
}

pub(crate) async fn rate_limit_login_per_account(db: &TestDb, counters: Counters) {
    let limits = RateLimitConfig {
        per_ip: None,
        per_account: Some(RateLimit::new(2, Duration::from_secs(60))),
    };
    let app = app(db, counters, config().rate_limits(limits)).await;
    app.register("ada@example.com").await;

    let body = json!({ "email": "ada@example.com", "password": PASSWORD });
    for peer in ["192.0.2.1:5000", "192.0.2.2:5000"] {
        let reply = app.post_from(peer, "/auth/login", &[], &body).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }
    // Changing the client does not help; the account key is the normalised address.
    let shouted = json!({ "email": " ADA@Example.com", "password": PASSWORD });
    let limited = app
        .post_from("192.0.2.3:5000", "/auth/login", &[], &shouted)
        .await;
    limited.assert_error(429, "Too many requests");
    let bob = json!({ "email": "bob@example.com", "password": PASSWORD });
    let reply = app
        .post_from("192.0.2.3:5000", "/auth/login", &[], &bob)
        .await;
    reply.assert_error(401, "Invalid email or password");
}

pub(crate) async fn rate_limit_window_resets(db: &TestDb, counters: Counters) {
    let limits = RateLimitConfig {
        per_ip: Some(RateLimit::new(1, Duration::from_secs(1))),
        per_account: None,
    };
    let app = app(db, counters, config().rate_limits(limits)).await;
    let body = json!({ "email": "ada@example.com", "password": WRONG });
    let peer = "192.0.2.1:5000";
    app.post_from(peer, "/auth/login", &[], &body)
        .await
        .assert_error(401, "Invalid email or password");
    let limited = app.post_from(peer, "/auth/login", &[], &body).await;
    limited.assert_error(429, "Too many requests");
    assert_eq!(retry_after(&limited), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.post_from(peer, "/auth/login", &[], &body)
        .await
        .assert_error(401, "Invalid email or password");
}

pub(crate) async fn client_ip_ignores_forwarded_by_default(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config().rate_limits(per_ip(2, 60))).await;
    let body = json!({ "email": "ada@example.com", "password": WRONG });
    // Without a trusted proxy, a client cannot pick its key with a header.
    for n in 0..2 {
        let forwarded = format!("198.51.100.{n}");
        let headers = [("x-forwarded-for", forwarded.as_str())];
        let reply = app
            .post_from("192.0.2.1:5000", "/auth/login", &headers, &body)
            .await;
        reply.assert_error(401, "Invalid email or password");
    }
    let headers = [("x-forwarded-for", "198.51.100.77")];
    let reply = app
        .post_from("192.0.2.1:5000", "/auth/login", &headers, &body)
        .await;
    reply.assert_error(429, "Too many requests");
}

pub(crate) async fn client_ip_from_trusted_proxy(db: &TestDb, counters: Counters) {
    let proxy = ClientIpSource::Header {
        name: "X-Forwarded-For".to_owned(),
        trusted_proxies: 1,
    };
    let config = config().rate_limits(per_ip(2, 60)).client_ip(proxy);
    let app = app(db, counters, config).await;
    let body = json!({ "email": "ada@example.com", "password": WRONG });
    let proxy_peer = "10.0.0.5:40000";

    // The client forges the left-most entry; the proxy appends the address it saw.
    for n in 0..2 {
        let forwarded = format!("198.51.100.{n}, 203.0.113.7");
        let headers = [("x-forwarded-for", forwarded.as_str())];
        let reply = app
            .post_from(proxy_peer, "/auth/login", &headers, &body)
            .await;
        reply.assert_error(401, "Invalid email or password");
    }
    let headers = [("x-forwarded-for", "198.51.100.99, 203.0.113.7")];
    let reply = app
        .post_from(proxy_peer, "/auth/login", &headers, &body)
        .await;
    reply.assert_error(429, "Too many requests");
    // Another client behind the same proxy has its own budget.
    let headers = [("x-forwarded-for", "203.0.113.8")];
    let reply = app
        .post_from(proxy_peer, "/auth/login", &headers, &body)
        .await;
    reply.assert_error(401, "Invalid email or password");

    // The session records the same address.
    let login = json!({ "email": "eve@example.com", "password": PASSWORD });
    let headers = [("x-forwarded-for", "1.2.3.4, 203.0.113.50")];
    let reply = app
        .post_from(proxy_peer, "/auth/register", &headers, &login)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let pair = fastauth_tests::TokenPair::from_reply(&reply);
    let sessions = app.get("/auth/sessions", &pair.access).await;
    assert_eq!(sessions.status.as_u16(), 200, "{}", sessions.text);
    let listed = sessions
        .json
        .as_array()
        .unwrap_or_else(|| panic!("a session list: {}", sessions.text))
        .clone();
    assert_eq!(listed.len(), 1, "{}", sessions.text);
    assert_eq!(listed[0]["ip_address"], "203.0.113.50");
}

pub(crate) async fn session_ip_from_socket(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config()).await;
    let body = json!({ "email": "eve@example.com", "password": PASSWORD });
    let headers = [("x-forwarded-for", "203.0.113.50")];
    let reply = app
        .post_from("192.0.2.44:5000", "/auth/register", &headers, &body)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let pair = fastauth_tests::TokenPair::from_reply(&reply);
    let sessions = app.get("/auth/sessions", &pair.access).await;
    let listed = sessions
        .json
        .as_array()
        .unwrap_or_else(|| panic!("a session list: {}", sessions.text))
        .clone();
    assert_eq!(listed[0]["ip_address"], "192.0.2.44");
}

pub(crate) async fn lockout_window_rolls(db: &TestDb, counters: Counters) {
    let lockout = LockoutConfig {
        max_attempts: 3,
        window: Duration::from_secs(1),
        ..LockoutConfig::default()
    };
    let app = app(db, counters, config().lockout(Some(lockout))).await;
    app.register("ada@example.com").await;

    for _ in 0..2 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    // The counter expires a window after the latest failure: these two start a new count.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    for _ in 0..2 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    app.login("ada@example.com").await;
    for _ in 0..3 {
        login(&app, "ada@example.com", WRONG)
            .await
            .assert_error(401, "Invalid email or password");
    }
    login(&app, "ada@example.com", PASSWORD)
        .await
        .assert_error(429, LOCKED_5);
}

pub(crate) async fn rate_limit_ipv6_network(db: &TestDb, counters: Counters) {
    let app = app(db, counters, config().rate_limits(per_ip(2, 60))).await;
    let body = json!({ "email": "ada@example.com", "password": WRONG });

    // Two addresses of one /64 share a budget, because a provider usually assigns a whole
    // /64 to one customer.
    for peer in ["[2001:db8:1:2::1]:5000", "[2001:db8:1:2::ffff]:5000"] {
        let reply = app.post_from(peer, "/auth/login", &[], &body).await;
        reply.assert_error(401, "Invalid email or password");
    }
    let reply = app
        .post_from("[2001:db8:1:2:abcd::9]:5000", "/auth/login", &[], &body)
        .await;
    reply.assert_error(429, "Too many requests");
    let reply = app
        .post_from("[2001:db8:1:3::1]:5000", "/auth/login", &[], &body)
        .await;
    reply.assert_error(401, "Invalid email or password");
}
