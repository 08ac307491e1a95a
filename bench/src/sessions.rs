//! The session runs: refresh-token rotation and `/auth/me` under a storm of logins on the
//! basic example, then `/auth/me` on the basic example started in cookie mode.

use std::net::SocketAddr;
use std::path::Path;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{HeaderMap, SET_COOKIE};
use serde_json::json;

use crate::load::{self, Outcome, Plan, RequestSpec, Source};
use crate::options::Options;
use crate::run::{PASSWORD, alternate_runs, check_ok};
use crate::server::{Launch, ServerProcess};

/// The account registered on the cookie-mode server.
const COOKIE_EMAIL: &str = "bench-cookie@example.com";
/// The name of the access-token cookie the example sets by default.
const ACCESS_COOKIE: &str = "access_token";

/// The outcomes of the session runs.
#[derive(Debug)]
pub(crate) struct SessionMeasurements {
    /// `POST /auth/refresh`, each connection rotating its own session's refresh token.
    pub(crate) refresh: Outcome,
    /// `GET /auth/me` alone, just before the storm.
    pub(crate) me_calm: Outcome,
    /// `GET /auth/me` while the logins of `storm_logins` run on the same server.
    pub(crate) me_storm: Outcome,
    /// The storm: `POST /auth/login` with the correct password.
    pub(crate) storm_logins: Outcome,
    /// `GET /auth/me` with the access cookie on the example in cookie mode.
    pub(crate) cookie_me: Outcome,
}

/// The bearer-mode figures, measured on a server that is already running.
#[derive(Debug)]
pub(crate) struct BearerRuns {
    pub(crate) refresh: Outcome,
    pub(crate) me_calm: Outcome,
    pub(crate) me_storm: Outcome,
    pub(crate) storm_logins: Outcome,
}

/// A connection's chain of refreshes: each response's refresh token is sent by the next
/// request, as a client keeping its session alive does.
struct RefreshChain {
    spec: RequestSpec,
}

impl RefreshChain {
    fn new(refresh_token: &str) -> Self {
        let body = json!({ "refresh_token": refresh_token });
        Self {
            spec: RequestSpec::post_json("/auth/refresh", &body),
        }
    }
}

impl Source for RefreshChain {
    fn request(&self) -> &RequestSpec {
        &self.spec
    }

    fn observe(&mut self, body: &Bytes) -> Result<(), String> {
        let token = refresh_token_of(body)?;
        *self = Self::new(&token);
        Ok(())
    }

    /// Returns false: a failed refresh leaves no token to send next, because the old one was
    /// consumed or, on a time-out, may have been.
    fn continues_after_failure(&self) -> bool {
        false
    }
}

/// Reads `refresh_token` from a bearer-mode sign-in response body.
pub(crate) fn refresh_token_of(body: &[u8]) -> Result<String, String> {
    let pair: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the token response is not JSON: {e}"))?;
    pair["refresh_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the token response has no refresh_token".to_owned())
}

/// Reads the value of the cookie `name` from the `Set-Cookie` headers of a response.
pub(crate) fn set_cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| {
            let pair = cookie.split(';').next()?;
            let (cookie_name, value) = pair.split_once('=')?;
            (cookie_name.trim() == name && !value.is_empty()).then(|| value.to_owned())
        })
}

/// Returns whether the p99 of `/auth/me` during the storm stays within `factor` times the
/// p99 without it.
pub(crate) fn storm_within(measurements: &SessionMeasurements, factor: f64) -> bool {
    let calm = measurements.me_calm.latency_ms(0.99);
    let storm = measurements.me_storm.latency_ms(0.99);
    calm > 0.0 && storm <= factor * calm
}

/// Registers `count` accounts and returns the refresh token of each one's session.
async fn register_sessions(addr: SocketAddr, count: usize) -> Result<Vec<String>, String> {
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let body =
            json!({ "email": format!("bench-refresh-{i}@example.com"), "password": PASSWORD });
        let spec = RequestSpec::post_json("/auth/register", &body);
        let (status, body) = load::send_once(addr, &spec).await?;
        if status != StatusCode::CREATED {
            let text = String::from_utf8_lossy(&body);
            return Err(format!("POST /auth/register returned {status}: {text}"));
        }
        tokens.push(refresh_token_of(&body)?);
    }
    Ok(tokens)
}

/// Measures refresh rotation, then `/auth/me` without and with a storm of logins, on the
/// bearer-mode server at `addr`. `me` and `login` are the requests of the main runs.
pub(crate) async fn run_bearer(
    options: &Options,
    addr: SocketAddr,
    me: &RequestSpec,
    login: &RequestSpec,
) -> Result<BearerRuns, String> {
    let plan = Plan {
        connections: options.refresh_connections,
        warmup: options.warmup,
        duration: options.duration,
    };
    // One account per connection: a failed refresh counts as a replay and revokes every
    // session of its account, so a broken chain must not end the others.
    let tokens = register_sessions(addr, options.refresh_connections).await?;
    eprintln!(
        "POST /auth/refresh, {} connections each rotating its own session...",
        plan.connections
    );
    let chains = tokens
        .iter()
        .map(|token| RefreshChain::new(token))
        .collect();
    let refresh = load::run_sources(addr, chains, plan).await;

    let me_plan = Plan {
        connections: options.connections,
        ..plan
    };
    let login_plan = Plan {
        connections: options.login_connections,
        ..plan
    };
    eprintln!("GET /auth/me without a login storm...");
    let me_calm = load::run(addr, me, me_plan).await;
    // NOTE: every storm login signs in to the one benchmark account. A per-account rate
    // limit or lockout on login would return 429, and those logins would count as errors.
    eprintln!(
        "GET /auth/me during a storm of POST /auth/login on {} connections...",
        login_plan.connections
    );
    let (me_storm, storm_logins) = tokio::join!(
        load::run(addr, me, me_plan),
        load::run(addr, login, login_plan)
    );
    Ok(BearerRuns {
        refresh,
        me_calm,
        me_storm,
        storm_logins,
    })
}

/// Starts the basic example in cookie mode on its own SQLite file in `scratch`, registers
/// an account, and loads `/auth/me` with its access cookie.
pub(crate) async fn run_cookie(
    options: &Options,
    program: &Path,
    scratch: &Path,
) -> Result<Outcome, String> {
    let database_url = format!("sqlite://{}", scratch.join("cookie.db").display());
    let log_path = scratch.join("cookie.log");
    let server = ServerProcess::start(&Launch {
        name: "basic example in cookie mode",
        program,
        args: &[],
        env: &[("FASTAUTH_TOKEN_DELIVERY", "cookie")],
        database_url: &database_url,
        log_path: &log_path,
        pin_to_cpu0: options.pin,
    })
    .await?;
    eprintln!(
        "basic example in cookie mode listening on {} (pid {})",
        server.addr, server.pid
    );

    let body = json!({ "email": COOKIE_EMAIL, "password": PASSWORD });
    let register = RequestSpec::post_json("/auth/register", &body);
    let (status, headers, _) = load::send_once_with_headers(server.addr, &register).await?;
    if status != StatusCode::CREATED {
        server.stop().await;
        return Err(format!(
            "POST /auth/register in cookie mode returned {status}"
        ));
    }
    let Some(access) = set_cookie_value(&headers, ACCESS_COOKIE) else {
        server.stop().await;
        return Err("POST /auth/register in cookie mode set no access_token cookie".to_owned());
    };
    let me = RequestSpec::get_with_cookie("/auth/me", ACCESS_COOKIE, &access)?;
    if let Err(error) = check_ok(server.addr, &me).await {
        server.stop().await;
        return Err(error);
    }

    let plan = Plan {
        connections: options.connections,
        warmup: options.warmup,
        duration: options.duration,
    };
    let [cookie_me] = alternate_runs([(&server, &me)], plan, options.rounds).await;
    server.stop().await;
    Ok(cookie_me)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn refresh_token_read_from_pair() {
        let body = br#"{"access_token":"a","refresh_token":"r.t.s","token_type":"bearer"}"#;
        assert_eq!(refresh_token_of(body), Ok("r.t.s".to_owned()));
    }

    #[test]
    fn refresh_token_missing_is_error() {
        assert!(refresh_token_of(br#"{"message":"Authentication successful"}"#).is_err());
        assert!(refresh_token_of(b"not json").is_err());
    }

    #[test]
    fn refresh_chain_sends_new_token() {
        let mut chain = RefreshChain::new("first");
        let body = Bytes::from_static(br#"{"refresh_token":"second"}"#);
        assert_eq!(chain.observe(&body), Ok(()));
        let expected =
            RequestSpec::post_json("/auth/refresh", &json!({ "refresh_token": "second" }));
        assert_eq!(format!("{:?}", chain.request()), format!("{expected:?}"));
        assert!(!chain.continues_after_failure());
    }

    #[test]
    fn set_cookie_value_finds_name() {
        let mut headers = HeaderMap::new();
        for cookie in [
            "csrf_token=c1; Path=/; SameSite=lax",
            "access_token=a.b.c; HttpOnly; Path=/; Max-Age=900",
            "refresh_token=; Max-Age=0",
        ] {
            headers.append(SET_COOKIE, HeaderValue::from_static(cookie));
        }
        assert_eq!(
            set_cookie_value(&headers, "access_token"),
            Some("a.b.c".to_owned())
        );
        assert_eq!(
            set_cookie_value(&headers, "csrf_token"),
            Some("c1".to_owned())
        );
        assert_eq!(set_cookie_value(&headers, "refresh_token"), None);
        assert_eq!(set_cookie_value(&headers, "session"), None);
    }

    #[test]
    fn storm_target_is_twice_calm_p99() {
        let outcome = |micros: &[u64]| {
            let mut outcome = Outcome::empty(std::time::Duration::from_secs(1));
            for &value in micros {
                outcome
                    .latency
                    .record(value)
                    .expect("in the histogram's bounds");
            }
            outcome
        };
        let measurements = |storm: &[u64]| SessionMeasurements {
            refresh: outcome(&[]),
            me_calm: outcome(&[1_000; 100]),
            me_storm: outcome(storm),
            storm_logins: outcome(&[]),
            cookie_me: outcome(&[]),
        };
        assert!(storm_within(&measurements(&[1_900; 100]), 2.0));
        assert!(!storm_within(&measurements(&[2_500; 100]), 2.0));
    }
}
